// Ethernet Segment Identifier (RFC 7432 §5): 10 octets, type in the first.
// Types 0 (arbitrary), 1 (LACP), 2 (bridged LAN), 3 (MAC-based), 4 (router-ID),
// 5 (AS-based); all kept as raw octets and printed as colon-separated hex.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bagpipe::bgp {

struct Esi {
    std::array<uint8_t, 10> bytes{};

    uint8_t type() const { return bytes[0]; }
    bool is_zero() const;
    std::string ToString() const;  // "00:00:00:00:00:00:00:00:00:00"
    static std::optional<Esi> Parse(std::string_view text);

    auto operator<=>(const Esi&) const = default;
    bool operator==(const Esi&) const = default;
};

struct MacAddress {
    std::array<uint8_t, 6> bytes{};

    std::string ToString() const;  // "52:54:00:aa:bb:01"
    static std::optional<MacAddress> Parse(std::string_view text);

    auto operator<=>(const MacAddress&) const = default;
    bool operator==(const MacAddress&) const = default;
};

// Parses n colon-separated hex octets into out; used for MAC and ESI.
bool ParseHexOctets(std::string_view text, uint8_t* out, size_t n);
std::string FormatHexOctets(const uint8_t* p, size_t n, char sep = ':');

}  // namespace bagpipe::bgp
