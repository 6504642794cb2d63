// IPv4/IPv6 addresses and prefixes as plain values (no sockets, no Asio).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bagpipe::bgp {

struct IpAddress {
    // 0 = none, 4 = IPv4 (bytes[0..3]), 6 = IPv6 (bytes[0..15]).
    uint8_t version = 0;
    std::array<uint8_t, 16> bytes{};

    static IpAddress V4(uint32_t host_order);
    static IpAddress V4(const uint8_t* p);
    static IpAddress V6(const uint8_t* p);
    static std::optional<IpAddress> Parse(std::string_view text);

    bool is_v4() const { return version == 4; }
    bool is_v6() const { return version == 6; }
    bool empty() const { return version == 0; }
    size_t size() const { return version == 4 ? 4 : version == 6 ? 16 : 0; }
    uint32_t v4() const {
        return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
               (uint32_t{bytes[2]} << 8) | bytes[3];
    }
    std::string ToString() const;

    auto operator<=>(const IpAddress&) const = default;
    bool operator==(const IpAddress&) const = default;
};

struct Prefix {
    IpAddress address;  // bits beyond `length` are always zero
    uint8_t length = 0;

    static std::optional<Prefix> Parse(std::string_view text);  // "10.0.0.0/8", "2001:db8::/32"
    uint8_t max_length() const { return address.version == 6 ? 128 : 32; }
    std::string ToString() const;

    auto operator<=>(const Prefix&) const = default;
    bool operator==(const Prefix&) const = default;
};

// Zeroes the bits of `bytes` beyond `length`.
void MaskPrefixBytes(uint8_t* bytes, size_t size, unsigned length);

}  // namespace bagpipe::bgp
