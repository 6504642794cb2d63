// Route Target Constraint NLRI codec (AFI 1 / SAFI 132, RFC 4684 §4; ADD-PATH
// per RFC 7911).
//
// NLRI: length in bits (0 = default route, no more octets; else 32..96), the
// 4-octet origin AS, then length-32 bits of a route target, stored zero-padded
// to 8 octets. Next hop: 4 or 16 octets (32, IPv6 + link-local, accepted).
#pragma once

#include "bgp/family/rtc/rtc_nlri.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

extern const FamilyCodec kIpv4RtcCodec;

}  // namespace bagpipe::bgp
