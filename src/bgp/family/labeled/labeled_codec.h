// Labeled unicast NLRI codec (SAFI 4, RFC 8277; ADD-PATH per RFC 7911).
//
// Announced label stacks are read up to the bottom-of-stack bit (at most
// LabelStack::kMaxLabels); withdrawals carry exactly one label field, kept as
// is (0x800000 or 0x000000 by convention). Next hop as for unicast.
#pragma once

#include "bgp/family/labeled/labeled_nlri.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

extern const FamilyCodec kIpv4LabeledCodec;
extern const FamilyCodec kIpv6LabeledCodec;

}  // namespace bagpipe::bgp
