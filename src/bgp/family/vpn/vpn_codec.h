// VPNv4 / VPNv6 NLRI codec (SAFI 128; RFC 4364 §4.3.4, RFC 4659, labels per
// RFC 8277, ADD-PATH per RFC 7911).
//
// NLRI: label stack (as for labeled unicast), 8-octet RD, prefix; the length
// octet counts all three. Next hop: 8-octet RD then the address: 12 octets
// (IPv4, VPNv4 only) or 24 / 48 (IPv6 [+ link-local]; RFC 8950 for VPNv4).
// The RD is not checked on decode and written as zero.
#pragma once

#include "bgp/family/vpn/vpn_nlri.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

extern const FamilyCodec kIpv4VpnCodec;
extern const FamilyCodec kIpv6VpnCodec;

}  // namespace bagpipe::bgp
