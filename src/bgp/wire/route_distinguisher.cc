#include "bgp/wire/route_distinguisher.h"

#include <fmt/format.h>

#include <charconv>
#include <cstring>

#include "bgp/wire/ip_address.h"

namespace bagpipe::bgp {

namespace {
uint32_t Get32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
void Put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}
void Put16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
bool ParseU64(std::string_view s, uint64_t& v) {
    if (s.empty()) return false;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && ptr == s.data() + s.size();
}
}  // namespace

std::optional<AdminValue> ParseAdminValue(std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto admin = text.substr(0, colon);
    uint64_t number = 0;
    if (!ParseU64(text.substr(colon + 1), number)) return std::nullopt;
    if (admin.find('.') != std::string_view::npos) {
        auto ip = IpAddress::Parse(admin);
        if (!ip || !ip->is_v4() || number > 0xffff) return std::nullopt;
        return AdminValue{1, ip->v4(), static_cast<uint32_t>(number)};
    }
    uint64_t asn = 0;
    if (!ParseU64(admin, asn) || asn > 0xffffffffULL) return std::nullopt;
    if (asn <= 0xffff && number <= 0xffffffffULL)
        return AdminValue{0, static_cast<uint32_t>(asn), static_cast<uint32_t>(number)};
    if (number > 0xffff) return std::nullopt;
    return AdminValue{2, static_cast<uint32_t>(asn), static_cast<uint32_t>(number)};
}

RouteDistinguisher RouteDistinguisher::FromBytes(const uint8_t* p) {
    RouteDistinguisher rd;
    std::memcpy(rd.bytes.data(), p, 8);
    return rd;
}

RouteDistinguisher RouteDistinguisher::Type0(uint16_t asn, uint32_t number) {
    RouteDistinguisher rd;
    Put16(&rd.bytes[0], 0);
    Put16(&rd.bytes[2], asn);
    Put32(&rd.bytes[4], number);
    return rd;
}

RouteDistinguisher RouteDistinguisher::Type1(uint32_t ipv4, uint16_t number) {
    RouteDistinguisher rd;
    Put16(&rd.bytes[0], 1);
    Put32(&rd.bytes[2], ipv4);
    Put16(&rd.bytes[6], number);
    return rd;
}

RouteDistinguisher RouteDistinguisher::Type2(uint32_t asn, uint16_t number) {
    RouteDistinguisher rd;
    Put16(&rd.bytes[0], 2);
    Put32(&rd.bytes[2], asn);
    Put16(&rd.bytes[6], number);
    return rd;
}

std::optional<RouteDistinguisher> RouteDistinguisher::Parse(std::string_view text) {
    auto v = ParseAdminValue(text);
    if (!v) return std::nullopt;
    switch (v->kind) {
        case 0: return Type0(static_cast<uint16_t>(v->admin), v->number);
        case 1: return Type1(v->admin, static_cast<uint16_t>(v->number));
        default: return Type2(v->admin, static_cast<uint16_t>(v->number));
    }
}

std::string RouteDistinguisher::ToString() const {
    const uint8_t* p = bytes.data();
    switch (type()) {
        case 0: return fmt::format("{}:{}", Get16(p + 2), Get32(p + 4));
        case 1: return fmt::format("{}.{}.{}.{}:{}", p[2], p[3], p[4], p[5], Get16(p + 6));
        case 2: return fmt::format("{}:{}", Get32(p + 2), Get16(p + 6));
        default:
            return fmt::format("{}:{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", type(), p[2], p[3], p[4],
                               p[5], p[6], p[7]);
    }
}

}  // namespace bagpipe::bgp
