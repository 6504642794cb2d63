#include "config/config_json.h"

#include <fmt/format.h>

namespace bagpipe::config {

namespace {

using nlohmann::json;

json Address(const bgp::IpAddress& a) { return a.empty() ? json(nullptr) : json(a.ToString()); }

std::string ClusterId(uint32_t id) {
    return fmt::format("{}.{}.{}.{}", id >> 24, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff);
}

json Peer(const PeerConfig& p, uint32_t my_as) {
    return json{
        {"address", p.address.ToString()},
        {"name", p.name},
        {"as", p.peer_as},
        {"ibgp", p.peer_as == my_as},
        {"local_address", Address(p.local_address)},
        {"port", p.port},
        {"passive", p.passive},
        {"md5_password", p.md5_password.empty() ? json(nullptr) : json("****")},
        {"route_reflector_client", p.route_reflector_client},
        {"hold_time", p.hold_time},
        {"keepalive_time", p.keepalive_time},
        {"families", FamilyNames(p.families)},
        {"max_prefix", p.max_prefix},
        {"max_prefix_action", MaxPrefixActionName(p.max_prefix_action)},
        {"listed_in_peers", p.listed_in_peers},
    };
}

json Dataplane(const DataplaneDriverConfig& d) {
    return json{
        {"dataplane_driver", d.driver},
        {"configured_driver", d.configured_driver},
        {"dataplane_local_address", Address(d.local_address)},
        {"options", d.options},
    };
}

}  // namespace

nlohmann::json ConfigToJson(const DaemonConfig& c) {
    const BgpConfig& b = c.bgp;
    json peers = json::array();
    for (const auto& p : c.peers) peers.push_back(Peer(p, b.my_as));
    json peer_addresses = json::array();
    for (const auto& a : b.peers) peer_addresses.push_back(a.ToString());
    return json{
        {"source", c.source},
        {"DEFAULT",
         {{"debug", c.logging.debug},
          {"log_file", c.logging.log_file},
          {"default_log_levels", c.logging.default_log_levels},
          {"options", c.logging.options}}},
        {"BGP",
         {{"local_address", Address(b.local_address)},
          {"local_interface", b.local_interface.empty() ? json(nullptr)
                                                        : json(b.local_interface)},
          {"peers", peer_addresses},
          {"my_as", b.my_as},
          {"enable_rtc", b.enable_rtc},
          {"bgp_port", b.bgp_port},
          {"router_id", Address(b.router_id)},
          {"listen", b.listen},
          {"listen_port", b.listen_port},
          {"route_reflector", b.route_reflector},
          {"rtc_wildcard", b.rtc_wildcard},
          {"cluster_id", ClusterId(b.cluster_id)},
          {"hold_time", b.hold_time},
          {"keepalive_time", b.keepalive_time},
          {"connect_retry_min", b.connect_retry_min},
          {"connect_retry_max", b.connect_retry_max},
          {"families", FamilyNames(b.families)},
          {"graceful_restart", b.graceful_restart},
          {"graceful_restart_time", b.graceful_restart_time},
          {"max_prefix", b.max_prefix},
          {"max_prefix_action", MaxPrefixActionName(b.max_prefix_action)},
          {"extended_message", b.extended_message},
          {"add_path_receive", b.add_path_receive},
          {"output_queue_bytes", b.output_queue_bytes}}},
        {"peers", peers},
        {"API", {{"host", c.api.host}, {"port", c.api.port}}},
        {"COMMON",
         {{"root_helper", c.common.root_helper},
          {"root_helper_daemon", c.common.root_helper_daemon.empty()
                                     ? json(nullptr)
                                     : json(c.common.root_helper_daemon)}}},
        {"DATAPLANE_DRIVER_IPVPN", Dataplane(c.ipvpn)},
        {"DATAPLANE_DRIVER_EVPN", Dataplane(c.evpn)},
    };
}

std::string DescribeConfig(const DaemonConfig& config) { return ConfigToJson(config).dump(2); }

}  // namespace bagpipe::config
