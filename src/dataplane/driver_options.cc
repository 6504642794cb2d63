// options::Reader (driver_options.h).
#include "dataplane/driver_options.h"

#include <fmt/format.h>

#include <charconv>

#include "config/config_loader.h"

namespace bagpipe::dataplane::options {

std::optional<std::string> Reader::String(std::string_view key) const {
    auto it = options_.find(std::string(key));
    if (it == options_.end()) return std::nullopt;
    return it->second;
}

void Reader::Fail(std::string_view key, const std::string& value, std::string_view what) {
    if (error_.empty()) error_ = fmt::format("{} = {}: {}", key, value, what);
}

std::optional<bool> Reader::Bool(std::string_view key) {
    auto v = String(key);
    if (!v) return std::nullopt;
    auto b = config::ParseBool(*v);
    if (!b) Fail(key, *v, "not a boolean (True or False)");
    return b;
}

std::optional<uint64_t> Reader::Uint(std::string_view key, uint64_t min, uint64_t max) {
    auto v = String(key);
    if (!v) return std::nullopt;
    uint64_t n = 0;
    const char* end = v->data() + v->size();
    auto [p, ec] = std::from_chars(v->data(), end, n);
    if (ec != std::errc() || p != end || n < min || n > max) {
        Fail(key, *v, fmt::format("not an integer in {}..{}", min, max));
        return std::nullopt;
    }
    return n;
}

std::optional<bgp::MacAddress> Reader::Mac(std::string_view key) {
    auto v = String(key);
    if (!v) return std::nullopt;
    auto m = bgp::MacAddress::Parse(*v);
    if (!m) Fail(key, *v, "not a MAC address");
    return m;
}

std::optional<bgp::IpAddress> Reader::Ip(std::string_view key) {
    auto v = String(key);
    if (!v) return std::nullopt;
    auto a = bgp::IpAddress::Parse(*v);
    if (!a) Fail(key, *v, "not an IP address");
    return a;
}

}  // namespace bagpipe::dataplane::options
