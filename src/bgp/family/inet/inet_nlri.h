// IPv4/IPv6 unicast NLRI (RFC 4271 §4.3, RFC 4760, RFC 7911 path ids).
#pragma once

#include <compare>
#include <cstdint>

#include "bgp/wire/ip_address.h"

namespace bagpipe::bgp {

struct InetNlri {
    uint32_t path_id = 0;  // meaningful only when ADD-PATH applies
    Prefix prefix;

    auto operator<=>(const InetNlri&) const = default;
    bool operator==(const InetNlri&) const = default;
};

}  // namespace bagpipe::bgp
