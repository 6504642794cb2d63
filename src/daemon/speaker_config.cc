#include "daemon/speaker_config.h"

#include <cstring>

namespace bagpipe::daemon {

boost::asio::ip::address ToAsio(const bgp::IpAddress& a) {
    if (a.is_v4()) return boost::asio::ip::address_v4(a.v4());
    if (a.is_v6()) {
        boost::asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), a.bytes.data(), 16);
        return boost::asio::ip::address_v6(b);
    }
    return {};
}

bgp::SpeakerConfig MakeSpeakerConfig(const config::DaemonConfig& config) {
    const config::BgpConfig& b = config.bgp;
    bgp::SpeakerConfig s;
    s.local_as = b.my_as;
    s.router_id = b.router_id.v4();
    s.cluster_id = b.cluster_id;
    s.route_reflector = b.route_reflector;
    s.local_address = b.local_address;
    s.rtc_wildcard = b.rtc_wildcard;
    if (b.listen) s.listen = boost::asio::ip::tcp::endpoint(ToAsio(b.local_address), b.listen_port);
    for (const config::PeerConfig& p : config.peers) {
        bgp::SpeakerPeerConfig sp;
        bgp::PeerSessionConfig& ps = sp.session;
        ps.name = p.name;
        ps.peer_address = ToAsio(p.address);
        ps.peer_port = p.port;
        ps.local_address = ToAsio(p.local_address);
        ps.md5_password = p.md5_password;
        ps.high_water_bytes = b.output_queue_bytes;
        ps.low_water_bytes = b.output_queue_bytes / 4;
        bgp::FsmConfig& f = ps.fsm;
        f.local_as = b.my_as;
        f.peer_as = p.peer_as;
        f.local_bgp_id = b.router_id.v4();
        f.hold_time = p.hold_time;
        f.keepalive_time = b.keepalive_time ? p.keepalive_time : 0;
        f.passive = p.passive;
        f.families = p.families;
        if (b.add_path_receive) f.add_path_receive = p.families;
        f.route_refresh = true;
        f.enhanced_route_refresh = true;
        f.extended_message = b.extended_message;
        f.four_octet_as = true;
        f.graceful_restart = b.graceful_restart;
        f.graceful_restart_time = b.graceful_restart_time;
        f.retry_min_ms = b.connect_retry_min * 1000;
        f.retry_max_ms = b.connect_retry_max * 1000;
        f.random_seed = static_cast<uint64_t>(p.address.v4()) ^ b.router_id.v4();
        sp.rr_client = p.route_reflector_client;
        sp.max_prefix = p.max_prefix;
        sp.max_prefix_teardown = p.max_prefix_action == config::MaxPrefixAction::kTeardown;
        s.peers.push_back(std::move(sp));
    }
    return s;
}

}  // namespace bagpipe::daemon
