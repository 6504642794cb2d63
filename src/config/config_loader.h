// Loading bgp.conf: parse (ini_file.h), check every option, apply defaults,
// resolve interface names, and return a DaemonConfig or the list of errors.
// Nothing here throws.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/wire/ip_address.h"
#include "config/config.h"

namespace bagpipe::config {

// What an interface name resolves to.
struct InterfaceLookup {
    bool exists = false;
    std::optional<bgp::IpAddress> ipv4;  // its first IPv4 address
};

// The system lookup (getifaddrs).
InterfaceLookup LookupInterfaceIpv4(std::string_view name);

struct LoadOptions {
    // Resolves `local_address = eth0` style values; empty = LookupInterfaceIpv4.
    std::function<InterfaceLookup(std::string_view)> resolve_interface;
};

struct LoadResult {
    std::optional<DaemonConfig> config;  // set iff errors is empty
    // "bgp.conf:7: [BGP] my_as: \"70000x\" is not an AS number (1..4294967295)"
    std::vector<std::string> errors;
    std::vector<std::string> warnings;   // unknown options and sections, obsolete sections, ...

    bool ok() const { return config.has_value(); }
};

LoadResult LoadConfigFile(const std::string& path, const LoadOptions& options = {});

// `file_name` is only used in messages.
LoadResult LoadConfigString(std::string_view text, std::string file_name = "bgp.conf",
                            const LoadOptions& options = {});

// Value syntax shared with other readers of the same file (CLI overrides).
// Booleans: true/false, yes/no, on/off, 1/0, any case.
std::optional<bool> ParseBool(std::string_view text);
// A list separated by commas and/or whitespace (newlines included); empty items dropped.
std::vector<std::string> SplitList(std::string_view text);
// Canonical dataplane driver name ("dummy", "linux", "ovs") of a driver name
// or legacy alias for the given VPN type ("ipvpn" or "evpn"); nullopt if unknown.
std::optional<std::string> CanonicalDataplaneDriver(std::string_view vpn_type,
                                                    std::string_view name);

}  // namespace bagpipe::config
