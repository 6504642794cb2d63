// EVPN NLRI codec (AFI 25 / SAFI 70): route types 1-4 per RFC 7432 §7.1-7.4,
// type 5 per RFC 9136 §3, ADD-PATH per RFC 7911.
//
// Each NLRI is route type (1 octet), length (1 octet), value. Known types
// must have a length consistent with their fields; other types are kept raw
// (RFC 7606 §5.4). Labels are raw 24-bit fields (MPLS label or VNI). Type 2
// MAC length must be 48, IP length 0/32/128, one or two labels; type 3/4
// originating IP 32/128 bits; type 5 is 34 (IPv4) or 58 (IPv6) octets, the
// gateway of the prefix's family. Next hop: 4, 16 or 32 octets.
#pragma once

#include "bgp/family/evpn/evpn_nlri.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

extern const FamilyCodec kL2vpnEvpnCodec;

}  // namespace bagpipe::bgp
