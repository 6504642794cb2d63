#include "bgp/wire/esi.h"

namespace bagpipe::bgp {

namespace {
int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

bool ParseHexOctets(std::string_view text, uint8_t* out, size_t n) {
    if (text.size() != n * 3 - 1) return false;
    for (size_t i = 0; i < n; ++i) {
        int hi = HexDigit(text[i * 3]);
        int lo = HexDigit(text[i * 3 + 1]);
        if (hi < 0 || lo < 0) return false;
        if (i + 1 < n && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return false;
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return true;
}

std::string FormatHexOctets(const uint8_t* p, size_t n, char sep) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(n * 3);
    for (size_t i = 0; i < n; ++i) {
        if (i && sep) s.push_back(sep);
        s.push_back(kHex[p[i] >> 4]);
        s.push_back(kHex[p[i] & 15]);
    }
    return s;
}

bool Esi::is_zero() const {
    for (auto b : bytes)
        if (b) return false;
    return true;
}

std::string Esi::ToString() const { return FormatHexOctets(bytes.data(), bytes.size()); }

std::optional<Esi> Esi::Parse(std::string_view text) {
    Esi e;
    if (text == "0" || text == "-") return e;
    if (!ParseHexOctets(text, e.bytes.data(), e.bytes.size())) return std::nullopt;
    return e;
}

std::string MacAddress::ToString() const { return FormatHexOctets(bytes.data(), bytes.size()); }

std::optional<MacAddress> MacAddress::Parse(std::string_view text) {
    MacAddress m;
    if (!ParseHexOctets(text, m.bytes.data(), m.bytes.size())) return std::nullopt;
    return m;
}

}  // namespace bagpipe::bgp
