// Route Target membership NLRI (RFC 4684 §4): a prefix length in bits (0, or
// 32-96), the origin AS, then that many bits minus 32 of a route target
// extended community. Length 0 is the default route (all route targets).
#pragma once

#include <array>
#include <compare>
#include <cstdint>

#include "bgp/wire/ext_community.h"

namespace bagpipe::bgp {

struct RtcNlri {
    uint32_t path_id = 0;
    uint8_t length = 0;  // in bits, 0 or 32..96
    uint32_t origin_as = 0;
    ExtCommunity route_target;  // bits beyond length - 32 are zero

    bool is_default() const { return length == 0; }
    auto operator<=>(const RtcNlri&) const = default;
    bool operator==(const RtcNlri&) const = default;
};

}  // namespace bagpipe::bgp
