// NLRI carried byte-exact without interpretation: FlowSpec-VPN (RFC 8955 §8,
// SAFI 134; the length prefix is 1 or 2 octets) and any family the codec does
// not know. `raw` holds the NLRI without its length prefix.
#pragma once

#include <compare>
#include <cstdint>

#include "bgp/wire/bytes.h"

namespace bagpipe::bgp {

struct OpaqueNlri {
    uint32_t path_id = 0;
    Bytes raw;

    auto operator<=>(const OpaqueNlri&) const = default;
    bool operator==(const OpaqueNlri&) const = default;
};

}  // namespace bagpipe::bgp
