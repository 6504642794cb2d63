// Labeled unicast NLRI (RFC 8277): a label stack then an IPv4/IPv6 prefix.
#pragma once

#include <compare>
#include <cstdint>

#include "bgp/wire/ip_address.h"
#include "bgp/wire/mpls_label.h"

namespace bagpipe::bgp {

struct LabeledNlri {
    uint32_t path_id = 0;
    LabelStack labels;
    Prefix prefix;

    auto operator<=>(const LabeledNlri&) const = default;
    bool operator==(const LabeledNlri&) const = default;
};

}  // namespace bagpipe::bgp
