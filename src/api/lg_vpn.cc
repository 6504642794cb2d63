#include "api/lg_vpn.h"

#include <iterator>

#include "api/route_json.h"
#include "dataplane/dummy/dummy_driver.h"
#include "vpn/attach_params.h"

namespace bagpipe::api {

namespace {

using vpn::VpnInstance;

struct VpnCtx {
    const vpn::VpnManager* manager;
    const bgp::BgpSpeaker* speaker;
};
using VpnCtxPtr = std::shared_ptr<const VpnCtx>;

LgJson Targets(const std::vector<bgp::ExtCommunity>& rts) {
    LgJson out = LgJson::array();
    for (const auto& rt : rts) out.push_back("target:" + vpn::RouteTargetString(rt));
    return out;
}

LgJson RtList(const std::vector<bgp::ExtCommunity>& rts) {
    LgJson out = LgJson::array();
    for (const auto& rt : rts) out.push_back(vpn::RouteTargetString(rt));
    return out;
}

LgJson AddressOrNull(const bgp::IpAddress& a) {
    return a.empty() ? LgJson(nullptr) : LgJson(a.ToString());
}

LgJson ReadvertiseJson(const VpnInstance& i) {
    if (!i.readvertise()) return LgJson::object();
    return LgJson{{"from", RtList(i.readvertise()->from_rts)}, {"to", RtList(i.readvertise()->to_rts)}};
}

LgJson AttractJson(const VpnInstance& i) {
    if (!i.attract_traffic()) return LgJson::object();
    const auto& a = *i.attract_traffic();
    LgJson prefixes = LgJson::array();
    for (const auto& p : a.static_destination_prefixes) prefixes.push_back(p.ToString());
    return LgJson{{"redirect_rts", RtList(a.redirect_rts)},
                  {"classifier", LgJson::parse(dataplane::ToJson(a.classifier).dump())},
                  {"to_rt", RtList(a.to_rts)},
                  {"static_destination_prefixes", prefixes}};
}

LgJson PortsJson(const VpnInstance& i) {
    LgJson out = LgJson::object();
    for (const auto& [key, ep] : i.endpoints()) {
        LgJson& port = out[ep.port];
        if (!port.contains("endpoints")) port["endpoints"] = LgJson::array();
        const auto label = i.MacLabel(ep.mac);
        const std::string rd = i.EndpointRd(ep).ToString();
        port["endpoints"].push_back(LgJson{
            {"label", label ? LgJson(*label) : LgJson(nullptr)},
            {"mac_address", ep.mac.ToString()},
            {"ip_address", ep.ip_text.empty() ? LgJson(nullptr) : LgJson(ep.ip_text)},
            {"local_pref", ep.local_pref ? LgJson(*ep.local_pref) : LgJson(nullptr)},
            {"rd", rd},
            {"description", LgJson::parse(ep.description.dump())},
            {"direction", std::string(dataplane::DirectionName(ep.direction))},
            {"advertise_subnet", ep.advertise_subnet},
        });
    }
    return out;
}

LgJson CandidateJson(const VpnCtx& c, const LgRequest& req, const vpn::Candidate& cand) {
    return LgRouteJson(cand.key, *cand.attrs, cand.payload.labels, false,
                       LgRouteSource(*c.speaker, req, cand.peer));
}

// received_routes / best_routes: {"<tracked entry>": [route, ...]} as the
// original; with more entries than one page (or ?offset/?limit given), the
// paged envelope {"count", "offset", "limit", "items": {...}, "next"}.
LgNodePtr TrackedNode(const VpnCtxPtr& c, const VpnInstance* inst, bool best_only) {
    auto render = [c, inst, best_only](const LgRequest& req, const LgPath& path) {
        const auto& tracked = inst->tracked();
        auto entry = [&](const vpn::Tracked& t) {
            LgJson routes = LgJson::array();
            for (const vpn::Candidate& cand : t.candidates) {
                if (best_only &&
                    std::find(t.best.begin(), t.best.end(), cand.key) == t.best.end())
                    continue;
                routes.push_back(CandidateJson(*c, req, cand));
            }
            return routes;
        };
        const size_t limit = req.limit.value_or(kLgDefaultLimit);
        const size_t offset = req.offset.value_or(0);
        const bool paged = req.offset || req.limit || tracked.size() > limit;
        LgJson items = LgJson::object();
        auto it = tracked.begin();
        std::advance(it, std::min(offset, tracked.size()));
        size_t n = 0;
        for (; it != tracked.end() && n < limit; ++it, ++n) {
            LgJson routes = entry(it->second);
            if (best_only && routes.empty()) continue;
            items[it->first.ToString()] = std::move(routes);
        }
        if (!paged) return items;
        LgJson out{{"count", tracked.size()}, {"offset", offset}, {"limit", limit}, {"items", items}};
        if (offset + n < tracked.size())
            out["next"] = LgJson{{"href", req.Href(path) + "?offset=" + std::to_string(offset + n) +
                                              "&limit=" + std::to_string(limit)}};
        return out;
    };
    return std::make_shared<LgFunctionNode>(render);
}

LgNodePtr AdvRoutesNode(const VpnCtxPtr& c, const VpnInstance* inst) {
    return std::make_shared<LgFunctionNode>([c, inst](const LgRequest& req, const LgPath&) {
        LgJson out = LgJson::array();
        for (const auto& [key, r] : inst->adv_routes()) {
            for (const bgp::Path& p : c->speaker->rib().Paths(key)) {
                if (p.peer() != bgp::kLocalPeer) continue;
                LgJson src{{"id", inst->name()}, {"href", req.Href({"vpns", "instances", inst->external_id()})}};
                out.push_back(LgRouteJson(key, p, std::move(src)));
            }
        }
        return out;
    });
}

const char* TypeId(dataplane::VpnType t) { return t == dataplane::VpnType::kEvpn ? "evpn" : "ipvpn"; }

LgNodePtr InstanceNode(const VpnCtxPtr& c, const VpnInstance* inst) {
    auto o = std::make_shared<LgObject>();
    const bool evi = inst->is_evpn();
    if (evi)
        o->AddItem("gateway_port", [inst](const LgRequest& req) -> LgJson {
            const auto& g = inst->gateway_port();
            if (!g) return nullptr;
            return LgJson{{"interface", g->interface},
                          {"ipvpn", LgJson{{"href", req.Href({"vpns", "instances", g->vrf_external_id})},
                                           {"id", g->vrf_id},
                                           {"external_instance_id", g->vrf_external_id}}}};
        });
    o->AddValue("name", inst->name());
    o->AddItem("internals", [inst](const LgRequest&) {
        size_t candidates = 0, remotes = 0, bums = 0;
        for (const auto& [k, t] : inst->tracked()) {
            candidates += t.candidates.size();
            remotes += t.remotes.size();
            bums += t.bum ? 1 : 0;
        }
        LgJson subs = LgJson::array();
        for (const auto& rt : inst->import_rts())
            subs.push_back(std::string("match:") + (inst->is_evpn() ? "l2vpn/evpn" : "ipv4/mpls-vpn") +
                           ",target:" + vpn::RouteTargetString(rt));
        return LgJson{{"event queue length", 0},
                      {"subscriptions", subs},
                      {"tracked_entries", inst->tracked().size()},
                      {"received_routes", candidates},
                      {"programmed_remote_endpoints", remotes},
                      {"programmed_bum_endpoints", bums},
                      {"advertised_routes", inst->adv_routes().size()},
                      {"routes_ignored_encapsulation", inst->encap_mismatches()},
                      {"rd", inst->rd().ToString()}};
    });
    o->AddValue("instance_type", evi ? "EVI" : "VRF");
    o->AddValue("external_instance_id", inst->external_id());
    o->AddValue("description", inst->description() ? LgJson(*inst->description()) : LgJson(nullptr));
    auto dp = std::make_shared<LgObject>([c, inst](const LgRequest& req) {
        LgJson j{{"driver", LgJson{{"id", TypeId(inst->type())},
                                   {"href", req.Href({"vpns", "dataplane", "drivers", TypeId(inst->type())})}}}};
        const LgJson state = LgJson::parse(inst->dataplane().ToJson().dump());
        for (auto it = state.begin(); it != state.end(); ++it) j[it.key()] = it.value();
        return j;
    });
    dp->AddTree("logs", LgPagedList::FromVector(
                            [](const LgRequest&, const LgPath&) { return std::vector<LgJson>{}; }));
    o->AddTree("dataplane", dp);
    o->AddItem("route_targets", [inst](const LgRequest&) {
        return LgJson{{"import", Targets(inst->import_rts())}, {"export", Targets(inst->export_rts())}};
    });
    o->AddValue("gateway_ip", AddressOrNull(inst->gateway_ip()));  // the first attach's (original)
    o->AddItem("gateway_ips", [inst](const LgRequest&) {  // new: every subnet's gateway in use
        LgJson list = LgJson::array();
        for (const auto& gw : inst->gateway_ips()) list.push_back(gw.ToString());
        return list;
    });
    o->AddValue("subnet_prefix_length", inst->subnet_prefix_length());
    o->AddValue("instance_dataplane_id", inst->instance_label());
    o->AddTree("ports", std::make_shared<LgFunctionNode>(
                            [inst](const LgRequest&, const LgPath&) { return PortsJson(*inst); }));
    o->AddItem("readvertise", [inst](const LgRequest&) { return ReadvertiseJson(*inst); });
    o->AddItem("attract_traffic", [inst](const LgRequest&) { return AttractJson(*inst); });
    o->AddItem("fallback", [inst](const LgRequest&) {
        return inst->fallback() ? LgJson::parse(dataplane::ToJson(*inst->fallback()).dump()) : LgJson(nullptr);
    });
    o->AddTree("received_routes", TrackedNode(c, inst, false));
    o->AddTree("best_routes", TrackedNode(c, inst, true));
    o->AddTree("adv_routes", AdvRoutesNode(c, inst));
    if (!evi)
        o->AddTree("readvertised", std::make_shared<LgFunctionNode>(
                                       [](const LgRequest&, const LgPath&) { return LgJson::array(); }));
    o->AddTree("logs", LgPagedList::FromVector(
                           [](const LgRequest&, const LgPath&) { return std::vector<LgJson>{}; }));
    return o;
}

LgNodePtr DriverNode(const VpnCtxPtr& c, dataplane::VpnType type) {
    const dataplane::DataplaneDriver* drv = c->manager->driver(type);
    if (!drv) return nullptr;
    auto o = std::make_shared<LgObject>([drv](const LgRequest&) {
        return LgJson::parse(drv->ToJson().dump());
    });
    o->AddTree("logs", LgPagedList::FromVector(
                           [](const LgRequest&, const LgPath&) { return std::vector<LgJson>{}; }));
    if (const auto* dummy = dynamic_cast<const dataplane::DummyDataplaneDriver*>(drv)) {
        // The dummy driver's call log: ?offset= is the last sequence number
        // already seen (calls after it are listed), ?limit= caps the page.
        o->AddTree("calls", std::make_shared<LgFunctionNode>([dummy](const LgRequest& req, const LgPath&) {
            return LgJson::parse(
                dummy->CallLogJson(req.offset.value_or(0), req.limit.value_or(kLgDefaultLimit)).dump());
        }));
    }
    return o;
}

}  // namespace

void AddVpnProviders(LgStandardNodes& nodes, const vpn::VpnManager& manager,
                     const bgp::BgpSpeaker& speaker) {
    auto c = std::make_shared<const VpnCtx>(VpnCtx{&manager, &speaker});
    nodes.vpns->AddTree(
        "instances",
        MakeLgCollection(
            [c] {
                std::vector<LgCollectionItem> out;
                for (const VpnInstance* i : c->manager->Instances()) {
                    LgCollectionItem item{i->external_id()};
                    item.fields["name"] = i->name();
                    if (i->description()) item.fields["description"] = *i->description();
                    out.push_back(std::move(item));
                }
                return out;
            },
            [c](std::string_view id) -> LgNodePtr {
                const VpnInstance* i = c->manager->Find(id);
                return i ? InstanceNode(c, i) : nullptr;
            }));
    auto dataplane = std::make_shared<LgObject>();
    dataplane->AddTree(
        "drivers",
        MakeLgCollection(
            [c] {
                std::vector<LgCollectionItem> out;
                for (auto t : {dataplane::VpnType::kEvpn, dataplane::VpnType::kIpVpn})
                    if (c->manager->driver(t)) out.push_back(LgCollectionItem{TypeId(t)});
                return out;
            },
            [c](std::string_view id) -> LgNodePtr {
                if (id == "evpn") return DriverNode(c, dataplane::VpnType::kEvpn);
                if (id == "ipvpn") return DriverNode(c, dataplane::VpnType::kIpVpn);
                return nullptr;
            }));
    dataplane->AddTree("ids", std::make_shared<LgFunctionNode>([c](const LgRequest&, const LgPath&) {
        LgJson out = LgJson::object();
        for (const auto& [id, d] : c->manager->labels().used()) out[std::to_string(id)] = d;
        return out;
    }));
    dataplane->AddTree("route_distinguishers",
                       std::make_shared<LgFunctionNode>([c](const LgRequest&, const LgPath&) {
                           LgJson out = LgJson::object();
                           for (const auto& [id, d] : c->manager->rds().used())
                               out[std::to_string(id)] = d;
                           return out;
                       }));
    nodes.vpns->AddTree("dataplane", dataplane);
    nodes.vpns->AddItem("instances_per_vni", [c](const LgRequest&) {
        LgJson out = LgJson::object();
        for (const VpnInstance* i : c->manager->Instances())
            if (i->is_evpn())
                out[std::to_string(i->instance_label())] =
                    LgJson{{"name", i->name()}, {"external_instance_id", i->external_id()}};
        return out;
    });
    nodes.vpns->AddItem("rtc", [c](const LgRequest&) {
        LgJson rts = LgJson::object();
        for (const auto& [rt, n] : c->manager->rtc_refs()) rts[vpn::RouteTargetString(rt)] = n;
        return LgJson{{"enabled", c->manager->config().enable_rtc}, {"route_targets", rts}};
    });
    nodes.vpns->AddItem("stats", [c](const LgRequest&) {
        const auto& s = c->manager->stats();
        return LgJson{{"attaches", s.attaches},
                      {"detaches", s.detaches},
                      {"errors", s.errors},
                      {"route_changes", s.route_changes},
                      {"imports", s.imports}};
    });
}

}  // namespace bagpipe::api
