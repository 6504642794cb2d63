// Route distinguisher (RFC 4364 §4.2): types 0 (2-octet AS:4-octet number),
// 1 (IPv4:2-octet number) and 2 (4-octet AS:2-octet number), kept as the 8
// wire octets. Printed "65000:1", "192.0.2.1:5", "4200000000:7".
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bagpipe::bgp {

struct RouteDistinguisher {
    std::array<uint8_t, 8> bytes{};

    static RouteDistinguisher FromBytes(const uint8_t* p);
    static RouteDistinguisher Type0(uint16_t asn, uint32_t number);
    static RouteDistinguisher Type1(uint32_t ipv4, uint16_t number);
    static RouteDistinguisher Type2(uint32_t asn, uint16_t number);
    // Accepts "AS:N" (type 0 when AS < 65536 and N fits 32 bits, else type 2),
    // "a.b.c.d:N" (type 1) and an explicit "2:AS:N"-free form only.
    static std::optional<RouteDistinguisher> Parse(std::string_view text);

    uint16_t type() const { return static_cast<uint16_t>((bytes[0] << 8) | bytes[1]); }
    std::string ToString() const;

    auto operator<=>(const RouteDistinguisher&) const = default;
    bool operator==(const RouteDistinguisher&) const = default;
};

// Parses "A:N" where A is an ASN or an IPv4 address; shared by RD and RT parsing.
// kind: 0 = 2-octet AS, 1 = IPv4, 2 = 4-octet AS.
struct AdminValue {
    uint8_t kind = 0;
    uint32_t admin = 0;
    uint32_t number = 0;
};
std::optional<AdminValue> ParseAdminValue(std::string_view text);

}  // namespace bagpipe::bgp
