// FlowSpec-VPN NLRI codec (SAFI 134, RFC 8955 §8 / RFC 8956), opaque: each
// NLRI is kept as its raw bytes (route distinguisher and components
// uninterpreted). ADD-PATH per RFC 7911.
//
// Length prefix (RFC 8955 §4.1): one octet when < 240, else two octets whose
// high nibble is 0xf and whose low 12 bits are the length. Next hop: empty
// (RFC 8955 allows a 0-length next hop), 4 / 16 / 32 octets, or the VPN forms
// with an RD: 12 / 24 / 48. Encoded without RD.
#pragma once

#include "bgp/family/flowspec/opaque_nlri.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

extern const FamilyCodec kIpv4FlowspecVpnCodec;
extern const FamilyCodec kIpv6FlowspecVpnCodec;

}  // namespace bagpipe::bgp
