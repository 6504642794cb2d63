#include "daemon/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "api/route_json.h"
#include "bgp/rib/route_key.h"

namespace bagpipe::daemon {

using nlohmann::json;

json SpeakerStateJson(const bgp::BgpSpeaker& speaker, size_t max_routes) {
    json out;
    json peers = json::array();
    for (const bgp::SpeakerPeerStatus& s : speaker.PeerStatus()) {
        json p;
        p["name"] = s.name;
        p["address"] = s.address;
        p["state"] = std::string(bgp::FsmStateName(s.session.state));
        json fams = json::array();
        for (bgp::Family f : s.families) fams.push_back(std::string(bgp::FamilyName(f)));
        p["families"] = fams;
        json rx = json::object();
        for (const auto& [f, n] : s.prefixes_received) rx[std::string(bgp::FamilyName(f))] = n;
        p["prefixes_received"] = rx;
        p["nlri_announced_out"] = s.nlri_announced_out;
        p["nlri_withdrawn_out"] = s.nlri_withdrawn_out;
        p["updates_in"] = s.updates_in;
        p["loops_dropped"] = s.loops_dropped;
        p["rtc"] = s.rtc;
        p["rtc_ready"] = s.rtc_ready;
        p["rtc_routes"] = s.rtc_routes;
        p["backlog"] = s.backlog;
        p["exporting"] = s.dumping;
        p["graceful_restart_stale"] = s.stale;
        p["flaps"] = s.session.counters.flaps;
        p["established_count"] = s.session.counters.established;
        p["queued_bytes"] = s.session.queued_bytes;
        p["local_endpoint"] = s.session.local_endpoint;
        p["remote_endpoint"] = s.session.remote_endpoint;
        if (s.session.last_error) {
            p["last_error"] = {{"text", s.session.last_error->text},
                               {"code", s.session.last_error->code},
                               {"subcode", s.session.last_error->subcode},
                               {"sent", s.session.last_error->sent}};
        } else {
            p["last_error"] = nullptr;
        }
        peers.push_back(std::move(p));
    }
    out["peers"] = peers;
    json rib = json::object();
    size_t total = 0;
    for (size_t f = 1; f < bgp::kFamilyCount; ++f) {
        size_t n = speaker.rib().RouteCount(static_cast<bgp::Family>(f));
        if (n) rib[std::string(bgp::FamilyName(static_cast<bgp::Family>(f)))] = n;
        total += n;
    }
    out["rib"] = rib;
    out["attribute_sets"] = speaker.attr_store().size();
    if (total <= max_routes) {
        json routes = json::array();
        auto add = [&](const bgp::RouteKey& k, std::span<const bgp::Path> paths) {
            routes.push_back(api::RouteJson(k, paths[0], speaker.PeerName(paths[0].peer())));
        };
        for (size_t f = 1; f < bgp::kFamilyCount; ++f)
            speaker.rib().ForEachRoute(static_cast<bgp::Family>(f), add);
        out["routes"] = routes;
    }
    return out;
}

bool WriteFileAtomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n <= 0) {
            ::close(fd);
            ::unlink(tmp.c_str());
            return false;
        }
        off += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) return false;
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace bagpipe::daemon
