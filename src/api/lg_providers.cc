#include "api/lg_providers.h"

#include <unistd.h>

#include <ctime>
#include <fstream>

#include "api/route_json.h"
#include "bgp/session/fsm.h"
#include "config/config_json.h"

namespace bagpipe::api {

namespace {

using Clock = std::chrono::system_clock;

std::string TimeString(Clock::time_point t) {
    const std::time_t tt = Clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

uint64_t ResidentBytes() {
    std::ifstream statm("/proc/self/statm");
    uint64_t size = 0, resident = 0;
    if (!(statm >> size >> resident)) return 0;
    return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

bool CountedFamily(bgp::Family f) { return f != bgp::Family::kIpv4Rtc; }

// Shared state of every provider closure.
struct Ctx {
    LgSources src;
    const bgp::BgpSpeaker& speaker() const { return *src.speaker; }
};
using CtxPtr = std::shared_ptr<const Ctx>;

LgJson RouteCounts(const Ctx& c) {
    size_t local = 0, received = 0;
    if (c.src.speaker) {
        const bgp::Rib& rib = c.speaker().rib();
        const size_t peers = c.speaker().config().peers.size();
        for (size_t f = 1; f < bgp::kFamilyCount; ++f) {
            const auto fam = static_cast<bgp::Family>(f);
            if (!CountedFamily(fam)) continue;
            local += rib.PathCount(bgp::kLocalPeer, fam);
            for (size_t p = 1; p <= peers; ++p)
                received += rib.PathCount(static_cast<bgp::PeerId>(p), fam);
        }
    }
    return LgJson{{"local_routes_count", local}, {"received_routes_count", received}};
}

LgJson Summary(const Ctx& c) {
    size_t established = 0, peers = 0;
    LgJson rib = LgJson::object();
    size_t attribute_sets = 0;
    if (c.src.speaker) {
        for (const auto& s : c.speaker().PeerStatus()) {
            ++peers;
            if (s.session.state == bgp::FsmState::kEstablished) ++established;
        }
        for (size_t f = 1; f < bgp::kFamilyCount; ++f) {
            const auto fam = static_cast<bgp::Family>(f);
            if (size_t n = c.speaker().rib().RouteCount(fam)) rib[OriginalFamilyName(fam)] = n;
        }
        attribute_sets = c.speaker().attr_store().size();
    }
    const auto uptime = std::chrono::steady_clock::now() - c.src.start_steady;
    return LgJson{
        {"BGP_established_peers", established},
        {"route_counts", RouteCounts(c)},
        {"vpn_instances_count", c.src.vpn_instances_count ? c.src.vpn_instances_count() : 0},
        {"warnings_and_errors", c.src.logs ? c.src.logs->WarningsAndErrors() : 0},
        {"start_time", TimeString(c.src.start_time)},
        {"version", c.src.version},
        {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(uptime).count()},
        {"pid", static_cast<int64_t>(::getpid())},
        {"resident_memory_bytes", ResidentBytes()},
        {"BGP_peers", peers},
        {"rib_routes", rib},
        {"attribute_sets", attribute_sets},
    };
}

LgJson Messages(const std::array<uint64_t, 6>& m) {
    return LgJson{{"open", m[1]},         {"update", m[2]},
                  {"notification", m[3]}, {"keepalive", m[4]},
                  {"route_refresh", m[5]}, {"unknown", m[0]}};
}

// The peer at index `i` of PeerStatus() / config().peers.
LgJson PeerJson(const Ctx& c, size_t i) {
    const auto all = c.speaker().PeerStatus();
    if (i >= all.size()) return nullptr;
    const bgp::SpeakerPeerStatus& s = all[i];
    const bgp::SpeakerPeerConfig& pc = c.speaker().config().peers[i];
    const bgp::PeerSessionConfig& sc = pc.session;
    std::string local = sc.local_address.is_unspecified() ? "" : sc.local_address.to_string();
    if (local.empty() && !s.session.local_endpoint.empty()) {
        local = s.session.local_endpoint;
        const size_t colon = local.rfind(':');
        if (colon != std::string::npos) local.erase(colon);
    }
    LgJson families = LgJson::array();
    for (bgp::Family f : s.families) families.push_back(OriginalFamilyTuple(f));
    LgJson configured = LgJson::array();
    for (size_t f = 1; f < bgp::kFamilyCount; ++f)
        if (sc.fsm.families.test(f))
            configured.push_back(OriginalFamilyTuple(static_cast<bgp::Family>(f)));
    LgJson prefixes_in = LgJson::object();
    for (const auto& [f, n] : s.prefixes_received) prefixes_in[OriginalFamilyName(f)] = n;
    const bool rtc_enabled = sc.fsm.families.test(bgp::FamilyIndex(bgp::Family::kIpv4Rtc));
    const auto& k = s.session.counters;
    LgJson last_error = nullptr;
    if (s.session.last_error)
        last_error = LgJson{{"text", s.session.last_error->text},
                            {"code", s.session.last_error->code},
                            {"subcode", s.session.last_error->subcode},
                            {"sent", s.session.last_error->sent}};
    return LgJson{
        {"peeringAddresses", {{"peer_address", s.address}, {"local_address", local}}},
        {"as_info", {{"local", sc.fsm.local_as}, {"peer", sc.fsm.peer_as}}},
        {"rtc",
         {{"active", s.rtc},
          {"enabled", rtc_enabled},
          {"end_of_rib_received", s.rtc_ready},
          {"routes", s.rtc_routes}}},
        {"active_families", families},
        {"configured_families", configured},
        {"protocol",
         {{"state", std::string(bgp::FsmStateName(s.session.state))},
          {"hold_time", sc.fsm.hold_time},
          {"uptime_seconds",
           std::chrono::duration_cast<std::chrono::seconds>(s.session.uptime).count()},
          {"established_count", k.established},
          {"flaps", k.flaps},
          {"transitions", k.transitions},
          {"last_error", last_error}}},
        {"name", PeerWorkerId(s.address)},
        {"description", s.name},
        {"route_reflector_client", pc.rr_client},
        {"counters",
         {{"messages_in", Messages(k.messages_in)},
          {"messages_out", Messages(k.messages_out)},
          {"updates_in", s.updates_in},
          {"prefixes_in", prefixes_in},
          {"nlri_announced_out", s.nlri_announced_out},
          {"nlri_withdrawn_out", s.nlri_withdrawn_out},
          {"loops_dropped", s.loops_dropped},
          {"bytes_in", s.session.bytes_in},
          {"bytes_out", s.session.bytes_out}}},
        {"internals",
         {{"backlog", s.backlog},
          {"output_queue_bytes", s.session.queued_bytes},
          {"exporting", s.dumping},
          {"graceful_restart_stale", s.stale},
          {"connections", s.session.connections},
          {"collisions", s.session.collisions},
          {"local_endpoint", s.session.local_endpoint},
          {"remote_endpoint", s.session.remote_endpoint}}},
    };
}

// Index of the peer whose address (or worker id, with `worker`) is `id`.
std::optional<size_t> FindPeer(const Ctx& c, std::string_view id, bool worker) {
    const auto& peers = c.speaker().config().peers;
    for (size_t i = 0; i < peers.size(); ++i) {
        const std::string a = peers[i].session.peer_address.to_string();
        if (worker ? PeerWorkerId(a) == id : a == id) return i;
    }
    return std::nullopt;
}

LgNodePtr PeerNode(const CtxPtr& c, size_t i) {
    return std::make_shared<LgFunctionNode>(
        [c, i](const LgRequest&, const LgPath&) { return PeerJson(*c, i); });
}

std::shared_ptr<LgNode> PeersCollection(const CtxPtr& c, bool worker) {
    auto list = [c, worker] {
        std::vector<LgCollectionItem> out;
        for (const auto& s : c->speaker().PeerStatus()) {
            LgCollectionItem item{worker ? PeerWorkerId(s.address) : s.address};
            if (!worker) item.fields["state"] = std::string(bgp::FsmStateName(s.session.state));
            out.push_back(std::move(item));
        }
        return out;
    };
    auto lookup = [c, worker](std::string_view id) -> LgNodePtr {
        auto i = FindPeer(*c, id, worker);
        return i ? PeerNode(c, *i) : nullptr;
    };
    return MakeLgCollection(list, lookup);
}

LgJson Source(const Ctx& c, const LgRequest& req, bgp::PeerId peer) {
    return LgRouteSource(c.speaker(), req, peer);
}

std::shared_ptr<LgPagedList> RouteList(const CtxPtr& c, bgp::Family f) {
    auto page = [c, f](const LgRequest& req, const LgPath&, size_t offset, size_t limit) {
        LgPage p;
        if (offset > UINT32_MAX) return p;
        uint32_t cursor = static_cast<uint32_t>(offset);
        const bool done = c->speaker().rib().VisitRoutes(
            f, cursor, limit, [&](const bgp::RouteKey& key, std::span<const bgp::Path> paths) {
                p.items.push_back(LgRouteJson(key, paths[0], Source(*c, req, paths[0].peer())));
            });
        if (!done) p.next_offset = cursor;
        return p;
    };
    auto count = [c, f] { return c->speaker().rib().RouteCount(f); };
    return std::make_shared<LgPagedList>(page, count);
}

// Families shown under bgp/routes: those any peer is configured for, and any
// with routes.
std::vector<bgp::Family> RouteFamilies(const Ctx& c) {
    bgp::FamilySet set;
    for (const auto& p : c.speaker().config().peers) set |= p.session.fsm.families;
    std::vector<bgp::Family> out;
    for (size_t f = 1; f < bgp::kFamilyCount; ++f) {
        const auto fam = static_cast<bgp::Family>(f);
        if (set.test(f) || c.speaker().rib().RouteCount(fam)) out.push_back(fam);
    }
    return out;
}

std::optional<bgp::Family> ParseRouteFamily(std::string_view seg) {
    if (auto f = bgp::FamilyFromName(seg)) return f;
    for (size_t i = 1; i < bgp::kFamilyCount; ++i) {
        const auto fam = static_cast<bgp::Family>(i);
        const std::string n = OriginalFamilyName(fam);
        if (seg == n || seg == n + ",*") return fam;
    }
    return std::nullopt;
}

LgNodePtr RoutesNode(const CtxPtr& c) {
    auto render = [c](const LgRequest& req, const LgPath& path) {
        LgJson out = LgJson::object();
        for (bgp::Family f : RouteFamilies(*c)) {
            LgPath child = path;
            child.push_back(std::string(bgp::FamilyName(f)));
            out[OriginalFamilyName(f) + ",*"] = RouteList(c, f)->Inline(req, child);
        }
        return out;
    };
    auto child = [c](std::string_view seg) -> LgNodePtr {
        auto f = ParseRouteFamily(seg);
        if (!f) return nullptr;
        return RouteList(c, *f);
    };
    return std::make_shared<LgFunctionNode>(render, child);
}

}  // namespace

std::string PeerWorkerId(const std::string& address) { return "BGP-" + address; }

LgJson LgRouteSource(const bgp::BgpSpeaker& speaker, const LgRequest& req, bgp::PeerId peer) {
    const auto& peers = speaker.config().peers;
    if (peer == bgp::kLocalPeer || peer > peers.size()) return LgJson{{"id", "local"}};
    const std::string id = PeerWorkerId(peers[peer - 1].session.peer_address.to_string());
    return LgJson{{"id", id}, {"href", req.Href({"bgp", "workers", id})}};
}

LgStandardNodes AddStandardProviders(LookingGlass& lg, const LgSources& sources) {
    auto c = std::make_shared<Ctx>(Ctx{sources});
    LgObject& root = lg.root();
    root.AddItem("summary", [c](const LgRequest&) { return Summary(*c); });
    root.AddTree("config", std::make_shared<LgFunctionNode>([c](const LgRequest&, const LgPath&) {
        return c->src.config ? LgJson(config::ConfigToJson(*c->src.config)) : LgJson::object();
    }));

    LgStandardNodes nodes;
    nodes.bgp = std::make_shared<LgObject>();
    if (sources.speaker) {
        nodes.bgp->AddTree("peers", PeersCollection(c, false));
        nodes.bgp->AddTree("routes", RoutesNode(c));
        nodes.bgp->AddTree("workers", PeersCollection(c, true));
    }
    nodes.bgp->AddItem("route_counts", [c](const LgRequest&) { return RouteCounts(*c); });
    root.AddTree("bgp", nodes.bgp);

    nodes.vpns = std::make_shared<LgObject>();
    nodes.vpns->AddTree("instances",
                        MakeLgCollection([] { return std::vector<LgCollectionItem>{}; },
                                         [](std::string_view) { return LgNodePtr(); }));
    nodes.vpns->AddValue("instances_per_vni", LgJson::object());
    root.AddTree("vpns", nodes.vpns);

    root.AddTree("logs", LgPagedList::FromVector([c](const LgRequest&, const LgPath&) {
        return c->src.logs ? c->src.logs->Records() : std::vector<LgJson>{};
    }));
    return nodes;
}

}  // namespace bagpipe::api
