#include "bgp/wire/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace bagpipe::bgp {

IpAddress IpAddress::V4(uint32_t h) {
    IpAddress a;
    a.version = 4;
    a.bytes[0] = static_cast<uint8_t>(h >> 24);
    a.bytes[1] = static_cast<uint8_t>(h >> 16);
    a.bytes[2] = static_cast<uint8_t>(h >> 8);
    a.bytes[3] = static_cast<uint8_t>(h);
    return a;
}

IpAddress IpAddress::V4(const uint8_t* p) {
    IpAddress a;
    a.version = 4;
    std::memcpy(a.bytes.data(), p, 4);
    return a;
}

IpAddress IpAddress::V6(const uint8_t* p) {
    IpAddress a;
    a.version = 6;
    std::memcpy(a.bytes.data(), p, 16);
    return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
    if (text.size() > 45 || text.find('\0') != std::string_view::npos) return std::nullopt;
    char buf[46];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress a;
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.version = 4;
        return a;
    }
    if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.version = 6;
        return a;
    }
    return std::nullopt;
}

std::string IpAddress::ToString() const {
    char buf[INET6_ADDRSTRLEN];
    if (version == 4) return inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
    if (version == 6) return inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return "";
}

void MaskPrefixBytes(uint8_t* bytes, size_t size, unsigned length) {
    size_t full = length / 8;
    if (full >= size) return;
    unsigned rem = length % 8;
    if (rem) {
        bytes[full] &= static_cast<uint8_t>(0xff << (8 - rem));
        ++full;
    }
    std::memset(bytes + full, 0, size - full);
}

std::optional<Prefix> Prefix::Parse(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto addr = IpAddress::Parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    unsigned len = 0;
    auto lt = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(lt.data(), lt.data() + lt.size(), len);
    if (ec != std::errc() || ptr != lt.data() + lt.size() || lt.empty()) return std::nullopt;
    Prefix p{*addr, static_cast<uint8_t>(len)};
    if (len > p.max_length()) return std::nullopt;
    MaskPrefixBytes(p.address.bytes.data(), p.address.size(), len);
    return p;
}

std::string Prefix::ToString() const {
    return address.ToString() + "/" + std::to_string(length);
}

}  // namespace bagpipe::bgp
