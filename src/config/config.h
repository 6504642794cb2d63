// The daemon configuration: the typed, validated and fully resolved form of
// bgp.conf (see docs/configuration.md for every option). Every default is
// already applied; config_loader.h produces it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/wire/family.h"
#include "bgp/wire/ip_address.h"

namespace bagpipe::config {

enum class MaxPrefixAction : uint8_t {
    kWarn,      // log once when the limit is crossed, keep the session
    kTeardown,  // send CEASE / Maximum Number of Prefixes Reached (RFC 4486)
};
std::string_view MaxPrefixActionName(MaxPrefixAction a);  // "warn", "teardown"

// One BGP neighbour, from `[BGP] peers` and/or its `[BGP_PEER <address>]`
// section, with every option resolved (per-peer value, else the [BGP] one).
struct PeerConfig {
    bgp::IpAddress address;
    std::string name;               // default: the address as text
    uint32_t peer_as = 0;           // `as`; default [BGP] my_as (iBGP)
    bgp::IpAddress local_address;   // source address; default [BGP] local_address
    uint16_t port = 179;            // destination port; default [BGP] bgp_port
    bool passive = false;           // never connect, only accept
    std::string md5_password;       // empty = no TCP-MD5 (RFC 2385)
    bool route_reflector_client = false;
    uint16_t hold_time = 180;       // proposed hold time (0 or 3..65535)
    uint16_t keepalive_time = 60;   // resolved: [BGP] keepalive_time, or hold_time / 3
    bgp::FamilySet families;        // ipv4-rtc included iff [BGP] enable_rtc
    uint32_t max_prefix = 0;        // 0 = unlimited
    MaxPrefixAction max_prefix_action = MaxPrefixAction::kTeardown;
    bool listed_in_peers = true;    // false: only defined by a [BGP_PEER] section
};

// [BGP]: the speaker itself and the defaults of every peer.
struct BgpConfig {
    bgp::IpAddress local_address;
    std::string local_interface;    // the interface name local_address came from, if any
    std::vector<bgp::IpAddress> peers;  // [BGP] peers then any [BGP_PEER] not listed there
    uint32_t my_as = 0;
    bool enable_rtc = true;
    uint16_t bgp_port = 179;        // destination port of outgoing connections
    bgp::IpAddress router_id;       // always IPv4
    bool listen = true;             // accept incoming connections from configured peers
    uint16_t listen_port = 179;
    bool route_reflector = false;
    // Advertise the default RTC route (receive every VPN route); new option.
    bool rtc_wildcard = false;
    uint32_t cluster_id = 0;        // default: router_id
    uint16_t hold_time = 180;
    uint16_t keepalive_time = 0;    // as configured: 0 = hold_time / 3 (per peer)
    uint32_t connect_retry_min = 5;     // seconds
    uint32_t connect_retry_max = 120;   // seconds
    bgp::FamilySet families;
    bool graceful_restart = true;   // helper mode (RFC 4724)
    uint16_t graceful_restart_time = 120;  // 0..4095 seconds
    uint32_t max_prefix = 0;
    MaxPrefixAction max_prefix_action = MaxPrefixAction::kTeardown;
    bool extended_message = true;   // RFC 8654
    bool add_path_receive = false;  // RFC 7911, receive direction
    uint64_t output_queue_bytes = 4194304;  // per peer
};

// [API]: REST API and looking glass.
struct ApiConfig {
    std::string host = "127.0.0.1";  // IP literal or host name (old name api_host)
    uint16_t port = 8082;            // old name api_port
};

// [COMMON]
struct CommonConfig {
    std::string root_helper = "sudo";
    std::string root_helper_daemon;  // empty = unset
};

// [DATAPLANE_DRIVER_IPVPN] or [DATAPLANE_DRIVER_EVPN].
struct DataplaneDriverConfig {
    std::string driver = "dummy";     // canonical name: "dummy", "linux" or "ovs"
    std::string configured_driver = "dummy";  // as written (possibly a legacy alias)
    bgp::IpAddress local_address;     // dataplane_local_address; default [BGP] local_address
    std::map<std::string, std::string> options;  // every other key, for the driver
};

// [DEFAULT]: oslo.log options.
struct LoggingConfig {
    bool debug = false;
    std::string log_file;             // empty = stderr
    std::string default_log_levels;   // as written, "logger=LEVEL,..."
    std::map<std::string, std::string> options;  // other [DEFAULT] keys
};

struct DaemonConfig {
    std::string source;               // file name it was loaded from
    LoggingConfig logging;
    BgpConfig bgp;
    std::vector<PeerConfig> peers;    // same order as bgp.peers
    ApiConfig api;
    CommonConfig common;
    DataplaneDriverConfig ipvpn;
    DataplaneDriverConfig evpn;

    const PeerConfig* FindPeer(const bgp::IpAddress& address) const;
};

// Renders names of a family set in bgp::Family order: "ipv4-vpn, ipv6-vpn".
std::vector<std::string> FamilyNames(const bgp::FamilySet& families);

}  // namespace bagpipe::config
