// The looking glass's standard providers: summary, config, bgp (peers,
// routes, workers, route_counts), vpns (instances: empty until the VPN
// instances register theirs) and logs. See looking_glass.h for the framework
// and README.md ("Looking glass and REST API") for the paths.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "api/log_ring.h"
#include "api/looking_glass.h"
#include "bgp/speaker/speaker.h"
#include "config/config.h"

namespace bagpipe::api {

inline constexpr const char* kBagpipeVersion = "0.4.0";

struct LgSources {
    const bgp::BgpSpeaker* speaker = nullptr;      // bgp/*, summary counts
    const config::DaemonConfig* config = nullptr;  // config (null: {})
    std::shared_ptr<const LogRing> logs;           // logs (null: [])
    std::string version = kBagpipeVersion;
    std::chrono::system_clock::time_point start_time = std::chrono::system_clock::now();
    std::chrono::steady_clock::time_point start_steady = std::chrono::steady_clock::now();
    // For summary.vpn_instances_count (null: 0), set by the VPN part.
    std::function<size_t()> vpn_instances_count;
};

// The objects other modules extend: `vpns` (replace its "instances" with the
// real collection), `bgp`.
struct LgStandardNodes {
    std::shared_ptr<LgObject> bgp;
    std::shared_ptr<LgObject> vpns;
};

// Fills lg.root(): summary (inline), config, bgp, vpns, logs. The sources'
// objects must outlive the looking glass.
LgStandardNodes AddStandardProviders(LookingGlass& lg, const LgSources& sources);

// The worker id of a BGP peer, as the original names it: "BGP-192.0.2.1".
std::string PeerWorkerId(const std::string& address);
// A route's `source` in the looking glass: {"id": "BGP-<peer>", "href"} or
// {"id": "local"}.
LgJson LgRouteSource(const bgp::BgpSpeaker& speaker, const LgRequest& req, bgp::PeerId peer);

}  // namespace bagpipe::api
