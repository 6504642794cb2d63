// BGP capabilities (RFC 5492) carried in OPEN: typed for the ones BaGPipe
// negotiates, raw for the rest.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "bgp/wire/bytes.h"
#include "bgp/wire/family.h"

namespace bagpipe::bgp {

namespace cap {
inline constexpr uint8_t kMultiprotocol = 1;         // RFC 4760
inline constexpr uint8_t kRouteRefresh = 2;          // RFC 2918
inline constexpr uint8_t kExtendedNextHop = 5;       // RFC 8950
inline constexpr uint8_t kExtendedMessage = 6;       // RFC 8654
inline constexpr uint8_t kGracefulRestart = 64;      // RFC 4724
inline constexpr uint8_t kFourOctetAs = 65;          // RFC 6793
inline constexpr uint8_t kAddPath = 69;              // RFC 7911
inline constexpr uint8_t kEnhancedRouteRefresh = 70; // RFC 7313
inline constexpr uint8_t kLongLivedGr = 71;          // RFC 9494
inline constexpr uint8_t kFqdn = 73;                 // draft-walton-bgp-hostname
inline constexpr uint8_t kRouteRefreshCisco = 128;
}  // namespace cap

struct MultiprotocolCap {
    uint16_t afi = 0;
    uint8_t safi = 0;
    bool operator==(const MultiprotocolCap&) const = default;
};
struct RouteRefreshCap {
    bool operator==(const RouteRefreshCap&) const = default;
};
struct EnhancedRouteRefreshCap {
    bool operator==(const EnhancedRouteRefreshCap&) const = default;
};
struct ExtendedMessageCap {
    bool operator==(const ExtendedMessageCap&) const = default;
};
struct FourOctetAsCap {
    uint32_t asn = 0;
    bool operator==(const FourOctetAsCap&) const = default;
};
struct AddPathCap {
    static constexpr uint8_t kReceive = 1;
    static constexpr uint8_t kSend = 2;
    struct Entry {
        uint16_t afi = 0;
        uint8_t safi = 0;
        uint8_t send_receive = 0;
        bool operator==(const Entry&) const = default;
    };
    std::vector<Entry> entries;
    bool operator==(const AddPathCap&) const = default;
};
struct GracefulRestartCap {
    struct Entry {
        uint16_t afi = 0;
        uint8_t safi = 0;
        uint8_t flags = 0;  // 0x80: forwarding state preserved
        bool operator==(const Entry&) const = default;
    };
    uint8_t flags = 0;          // high 4 bits: R (0x8) and N (0x4, RFC 8538)
    uint16_t restart_time = 0;  // 12 bits, seconds
    std::vector<Entry> entries;
    bool operator==(const GracefulRestartCap&) const = default;
};
struct UnknownCap {
    uint8_t code = 0;
    Bytes value;
    bool operator==(const UnknownCap&) const = default;
};

using Capability = std::variant<MultiprotocolCap, RouteRefreshCap, EnhancedRouteRefreshCap,
                                ExtendedMessageCap, FourOctetAsCap, AddPathCap,
                                GracefulRestartCap, UnknownCap>;

uint8_t CapabilityCode(const Capability& c);
// "multiprotocol", "route-refresh", "four-octet-as", "add-path", ... or "unknown".
std::string_view CapabilityName(uint8_t code);

// Decodes one capability value. False when its length does not fit the code.
bool DecodeCapability(uint8_t code, ByteView value, Capability& out);
// Appends code, length and value.
void EncodeCapability(const Capability& c, Writer& w);

}  // namespace bagpipe::bgp
