// VPNv4 / VPNv6 NLRI (RFC 4364 §4.3.4, RFC 4659, labels per RFC 8277):
// label stack, route distinguisher, prefix.
#pragma once

#include <compare>
#include <cstdint>

#include "bgp/wire/ip_address.h"
#include "bgp/wire/mpls_label.h"
#include "bgp/wire/route_distinguisher.h"

namespace bagpipe::bgp {

struct VpnNlri {
    uint32_t path_id = 0;
    LabelStack labels;
    RouteDistinguisher rd;
    Prefix prefix;

    auto operator<=>(const VpnNlri&) const = default;
    bool operator==(const VpnNlri&) const = default;
};

}  // namespace bagpipe::bgp
