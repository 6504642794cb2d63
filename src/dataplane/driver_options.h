// Typed reading of a dataplane driver's options (the keys of its
// [DATAPLANE_DRIVER_*] section, config::DataplaneDriverConfig::options).
// A missing key gives nullopt; a bad value gives nullopt and the first error
// ("vxlan_dst_port = 70000: not an integer in 1..65535"), which the driver
// returns as kInvalidArgument naming the option.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "bgp/wire/esi.h"
#include "bgp/wire/ip_address.h"

namespace bagpipe::dataplane::options {

// Reader — reads options of one map; remembers the first error.
// Invariants: error() is empty until a bad value was read.
class Reader {
public:
    explicit Reader(const std::map<std::string, std::string>& options) : options_(options) {}

    std::optional<std::string> String(std::string_view key) const;
    // True/False, yes/no, on/off, 1/0 (case-insensitive).
    std::optional<bool> Bool(std::string_view key);
    std::optional<uint64_t> Uint(std::string_view key, uint64_t min, uint64_t max);
    std::optional<bgp::MacAddress> Mac(std::string_view key);
    std::optional<bgp::IpAddress> Ip(std::string_view key);

    const std::string& error() const { return error_; }

private:
    void Fail(std::string_view key, const std::string& value, std::string_view what);

    const std::map<std::string, std::string>& options_;
    std::string error_;
};

}  // namespace bagpipe::dataplane::options
