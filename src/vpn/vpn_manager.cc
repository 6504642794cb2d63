#include "vpn/vpn_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fmt/format.h>

#include "vpn/route_origination.h"

namespace bagpipe::vpn {

using bgp::Family;
using dataplane::VpnType;

namespace {
size_t Index(VpnType t) { return t == VpnType::kIpVpn ? 0 : 1; }

void AddUnique(std::vector<uint32_t>& v, uint32_t id) {
    if (std::find(v.begin(), v.end(), id) == v.end()) v.push_back(id);
}
void EraseValue(std::vector<uint32_t>& v, uint32_t id) {
    v.erase(std::remove(v.begin(), v.end(), id), v.end());
}
}  // namespace

VpnManager::VpnManager(RouteSink& sink, const bgp::Rib* rib, VpnManagerConfig config,
                       std::unique_ptr<dataplane::DataplaneDriver> ipvpn,
                       std::unique_ptr<dataplane::DataplaneDriver> evpn)
    : sink_(sink), rib_(rib), config_(std::move(config)) {
    drivers_[0] = std::move(ipvpn);
    drivers_[1] = std::move(evpn);
}

VpnManager::~VpnManager() = default;

bgp::FamilySet VpnManager::ObservedFamilies() {
    bgp::FamilySet f;
    f.set(static_cast<size_t>(Family::kIpv4Vpn));
    f.set(static_cast<size_t>(Family::kIpv6Vpn));
    f.set(static_cast<size_t>(Family::kL2vpnEvpn));
    f.set(static_cast<size_t>(Family::kIpv4FlowspecVpn));
    f.set(static_cast<size_t>(Family::kIpv6FlowspecVpn));
    return f;
}

const dataplane::DataplaneDriver* VpnManager::driver(VpnType type) const {
    return drivers_[Index(type)].get();
}

VpnInstance* VpnManager::Get(uint32_t id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : it->second.get();
}

const VpnInstance* VpnManager::Find(std::string_view external_id) const {
    auto it = by_external_.find(external_id);
    return it == by_external_.end() ? nullptr : Get(it->second);
}

std::vector<const VpnInstance*> VpnManager::Instances() const {
    std::vector<const VpnInstance*> out;
    for (const auto& [id, inst] : by_id_) out.push_back(inst.get());
    return out;
}

InstanceContext VpnManager::Context() {
    InstanceContext c;
    c.sink = &sink_;
    c.local_as = config_.local_as;
    c.bgp_local_address = config_.bgp_local_address;
    c.router_id = config_.router_id;
    c.allocate_label = [this](std::string d) { return labels_.Allocate(std::move(d)); };
    c.release_label = [this](uint32_t l) { labels_.Release(l); };
    c.allocate_rd = [this](std::string d) { return rds_.Allocate(std::move(d)); };
    c.release_rd = [this](uint32_t n) { rds_.Release(n); };
    c.acquire_redirect = [this](const bgp::ExtCommunity& rt) { return AcquireRedirect(rt); };
    c.release_redirect = [this](const bgp::ExtCommunity& rt) { ReleaseRedirect(rt); };
    return c;
}

// ---------------------------------------------------------------------------
// Route targets and RT Constraint.

void VpnManager::RefRt(const bgp::ExtCommunity& rt) {
    if (++rtc_refs_[rt] != 1 || !config_.enable_rtc) return;
    std::vector<bgp::RtcNlri> v{RtcRoute(config_.local_as, rt)};
    sink_.Announce(Family::kIpv4Rtc, bgp::NlriList(std::move(v)), RtcAttributes(),
                   bgp::NextHop{config_.bgp_local_address, {}});
}

void VpnManager::UnrefRt(const bgp::ExtCommunity& rt) {
    auto it = rtc_refs_.find(rt);
    if (it == rtc_refs_.end()) return;
    if (--it->second > 0) return;
    rtc_refs_.erase(it);
    if (!config_.enable_rtc) return;
    std::vector<bgp::RtcNlri> v{RtcRoute(config_.local_as, rt)};
    sink_.Withdraw(Family::kIpv4Rtc, bgp::NlriList(std::move(v)));
}

void VpnManager::SetSubscriptions(VpnInstance& inst, const std::vector<bgp::ExtCommunity>& import_rts,
                                  const std::optional<Readvertise>& readvertise) {
    const std::vector<bgp::ExtCommunity> old = inst.SubscribedRts();
    const bool changed = inst.import_rts() != import_rts || inst.readvertise() != readvertise;
    if (!changed) return;
    inst.SetImportRts(import_rts);
    inst.SetReadvertise(readvertise);
    const std::vector<bgp::ExtCommunity> now = inst.SubscribedRts();
    std::vector<bgp::ExtCommunity> added, removed;
    for (const auto& rt : now)
        if (std::find(old.begin(), old.end(), rt) == old.end()) added.push_back(rt);
    for (const auto& rt : old)
        if (std::find(now.begin(), now.end(), rt) == now.end()) removed.push_back(rt);
    for (const auto& rt : added) {
        AddUnique(rt_index_[rt], inst.id());
        RefRt(rt);
    }
    for (const auto& rt : removed) {
        auto it = rt_index_.find(rt);
        if (it != rt_index_.end()) {
            EraseValue(it->second, inst.id());
            if (it->second.empty()) rt_index_.erase(it);
        }
        UnrefRt(rt);
    }
    if (!removed.empty()) {
        // Drop the candidates no subscribed route target covers any more.
        for (const bgp::RouteKey& key : inst.CandidateKeys()) {
            const bgp::Path* best = rib_ ? rib_->Best(key) : nullptr;
            if (best && inst.ImportsRoute(best->attributes().attributes())) continue;
            bgp::LocRibChange c;
            c.family = key.family();
            c.key = key;
            inst.OnRoute(c, false);
            auto ib = imported_by_.find(key);
            if (ib != imported_by_.end()) {
                EraseValue(ib->second, inst.id());
                if (ib->second.empty()) imported_by_.erase(ib);
            }
        }
    }
    if (!added.empty()) ImportExisting(inst, added);
    // What is programmed and re-advertised depends on which list a route
    // target is in, not only on the union.
    inst.RecomputeAll();
}

void VpnManager::ImportExisting(VpnInstance& inst, const std::vector<bgp::ExtCommunity>& added) {
    if (!rib_) return;
    const Family families[] = {Family::kIpv4Vpn, Family::kIpv6Vpn, Family::kL2vpnEvpn,
                               Family::kIpv4FlowspecVpn, Family::kIpv6FlowspecVpn};
    for (Family f : families) {
        if (rib_->RouteCount(f) == 0) continue;
        rib_->ForEachRoute(f, [&](const bgp::RouteKey& key, std::span<const bgp::Path> paths) {
            if (paths.empty()) return;
            const bgp::Path& best = paths[0];
            if (best.peer() == bgp::kLocalPeer || !inst.ImportsFamily(f, key)) return;
            const auto& attrs = best.attributes().attributes();
            bool match = false;
            for (const auto& c : attrs.ext_communities)
                if (c.is_route_target() && std::find(added.begin(), added.end(), c) != added.end())
                    match = true;
            if (!match) return;
            auto& holders = imported_by_[key];
            if (std::find(holders.begin(), holders.end(), inst.id()) != holders.end()) return;
            holders.push_back(inst.id());
            bgp::LocRibChange c;
            c.family = f;
            c.key = key;
            c.peer = best.peer();
            c.attrs = best.attrs();
            c.payload = best.payload();
            ++stats_.imports;
            inst.OnRoute(c, true);
        });
    }
}

// ---------------------------------------------------------------------------
// Received routes.

bool VpnManager::Observes(const bgp::RouteKey& key, bgp::PeerId peer,
                          const bgp::AttrEntry* attrs) const {
    if (imported_by_.empty() && rt_index_.empty()) return false;
    if (imported_by_.contains(key)) return true;
    if (!attrs || peer == bgp::kLocalPeer) return false;
    for (const auto& e : attrs->attributes().ext_communities)
        if (e.is_route_target() && rt_index_.contains(e)) return true;
    return false;
}

void VpnManager::OnLocRibChanges(std::vector<bgp::LocRibChange>&& changes) {
    std::vector<uint32_t> now;
    for (const bgp::LocRibChange& c : changes) {
        ++stats_.route_changes;
        now.clear();
        if (c.attrs && c.peer != bgp::kLocalPeer) {
            for (const auto& e : c.attrs->attributes().ext_communities) {
                if (!e.is_route_target()) continue;
                auto it = rt_index_.find(e);
                if (it == rt_index_.end()) continue;
                for (uint32_t id : it->second) {
                    VpnInstance* inst = Get(id);
                    if (inst && inst->ImportsFamily(c.family, c.key)) AddUnique(now, id);
                }
            }
        }
        auto ib = imported_by_.find(c.key);
        if (ib != imported_by_.end()) {
            for (uint32_t id : ib->second) {
                if (std::find(now.begin(), now.end(), id) != now.end()) continue;
                if (VpnInstance* inst = Get(id)) {
                    ++stats_.imports;
                    inst->OnRoute(c, false);
                }
            }
        }
        for (uint32_t id : now) {
            ++stats_.imports;
            Get(id)->OnRoute(c, true);
        }
        if (now.empty()) {
            if (ib != imported_by_.end()) imported_by_.erase(ib);
        } else if (ib != imported_by_.end()) {
            ib->second = now;
        } else {
            imported_by_.emplace(c.key, now);
        }
    }
    ApplyRedirects();
}

// ---------------------------------------------------------------------------
// Attach / detach.

uint32_t VpnManager::AcquireRedirect(const bgp::ExtCommunity& rt) {
    RedirectState& r = redirects_[rt];
    if (r.id == 0) r.id = next_id_++;  // reserved now, created by ApplyRedirects
    ++r.refs;
    redirects_dirty_ = true;
    return r.id;
}

void VpnManager::ReleaseRedirect(const bgp::ExtCommunity& rt) {
    auto it = redirects_.find(rt);
    if (it == redirects_.end() || it->second.refs == 0) return;
    --it->second.refs;
    redirects_dirty_ = true;
}

void VpnManager::ApplyRedirects() {
    while (redirects_dirty_) {
        redirects_dirty_ = false;
        for (auto it = redirects_.begin(); it != redirects_.end();) {
            RedirectState& r = it->second;
            const bgp::ExtCommunity rt = it->first;
            if (r.refs > 0 && !r.created) {
                AttachParams p;
                p.vpn_type = VpnType::kIpVpn;
                std::string text = RouteTargetString(rt);
                std::replace(text.begin(), text.end(), ':', '_');
                p.vpn_instance_id = "redirect-to-ipvpn-" + text;
                p.import_rts = {rt};
                VpnInstance* inst = nullptr;
                if (auto e = Create(p, inst, r.id)) {
                    spdlog::error("vpn: cannot create the redirect instance for {}: {}",
                                  RouteTargetString(rt), e->message);
                    ++it;
                    continue;
                }
                r.created = true;
                SetSubscriptions(*inst, p.import_rts, std::nullopt);
                ++it;
            } else if (r.refs == 0) {
                if (r.created)
                    if (VpnInstance* inst = Get(r.id)) Destroy(*inst);
                it = redirects_.erase(it);
            } else {
                ++it;
            }
        }
    }
}

std::optional<ApiError> VpnManager::Create(const AttachParams& p, VpnInstance*& out, uint32_t forced_id) {
    const size_t ti = Index(p.vpn_type);
    dataplane::DataplaneDriver* drv = drivers_[ti].get();
    if (!drv)
        return ApiError{400, fmt::format("no dataplane driver for vpn_type {}",
                                         dataplane::VpnTypeName(p.vpn_type))};
    const uint32_t id = forced_id ? forced_id : next_id_;
    const std::string name = fmt::format("{}-{}", p.vpn_type == VpnType::kEvpn ? "EVI" : "VRF", id);
    uint32_t label = 0;
    bool forced = false;
    if (p.vni != 0) {
        if (forced_vnis_.count(p.vni))
            return ApiError{400, fmt::format("A VPN instance using vni {} already exists.", p.vni)};
        if (labels_.InUse(p.vni))
            return ApiError{400, fmt::format("vni {} is already in use as a label on this node "
                                             "(see looking-glass vpns/dataplane/ids)",
                                             p.vni)};
        labels_.Reserve(p.vni, "Incoming traffic for " + name);  // false above the label range
        label = p.vni;
        forced = true;
    } else {
        auto l = labels_.Allocate("Incoming traffic for " + name);
        if (!l) return ApiError{500, "no MPLS label left"};
        label = *l;
    }
    auto rd = rds_.Allocate(name);
    if (!rd) {
        labels_.Release(label);
        return ApiError{500, "no route distinguisher left"};
    }
    auto fail = [&](ApiError e) {
        labels_.Release(label);
        rds_.Release(*rd);
        return e;
    };
    if (!driver_ready_[ti]) {
        if (auto st = drv->ResetState(); !st)
            spdlog::warn("vpn: {} driver reset_state: {}", drv->name(), st.message());
        if (auto st = drv->Initialize(); !st)
            return fail(ApiError{500, fmt::format("{} dataplane driver failed to initialize: {}",
                                                  drv->name(), st.message())});
        driver_ready_[ti] = true;
    }
    dataplane::InstanceConfig ic;
    ic.instance_id = id;
    ic.external_id = p.vpn_instance_id;
    ic.gateway_ip = p.gateway_ip;
    ic.gateway_prefix_length = p.ip.empty() ? 0 : p.ip_prefix_length;
    ic.instance_label = label;
    ic.linux_bridge = p.linuxbr;
    auto dp = drv->CreateInstance(ic);
    if (!dp)
        return fail(ApiError{dp.status().code() == dataplane::DataplaneErrorCode::kInvalidArgument ? 400 : 500,
                             dp.status().message()});
    InstanceContext ctx = Context();
    ctx.driver = drv;
    auto inst = std::make_unique<VpnInstance>(ctx, p.vpn_type, id, p.vpn_instance_id, label, forced,
                                              *rd, std::move(dp).value(), p);
    if (!forced_id) ++next_id_;
    if (forced) forced_vnis_[label] = id;
    out = inst.get();
    by_external_.emplace(p.vpn_instance_id, id);
    by_id_.emplace(id, std::move(inst));
    spdlog::info("vpn: created {} {} ({}, label/VNI {}, RD {})", out->name(), p.vpn_instance_id,
                 dataplane::VpnTypeName(p.vpn_type), label, out->rd().ToString());
    return std::nullopt;
}

namespace {
// The original's veth names: evpn<E>-ipvpn<V> on the EVI's side,
// ipvpn<V>-evpn<E> on the VRF's (at most 15 characters: ids up to 9999).
std::string EviSide(uint32_t evi, uint32_t vrf) { return fmt::format("evpn{}-ipvpn{}", evi, vrf); }
std::string VrfSide(uint32_t evi, uint32_t vrf) { return fmt::format("ipvpn{}-evpn{}", vrf, evi); }
}  // namespace

std::variant<VpnInstance*, ApiError> VpnManager::StitchedEvi(const AttachParams& p) const {
    if (p.vpn_type != VpnType::kIpVpn)
        return ApiError{400, "local_port.evpn is only valid with vpn_type ipvpn"};
    auto it = by_external_.find(p.local_port.evpn->id);
    if (it == by_external_.end())
        return ApiError{400, fmt::format("E-VPN instance {} (local_port.evpn.id) could not be found",
                                         p.local_port.evpn->id)};
    VpnInstance* evi = Get(it->second);
    if (!evi->is_evpn())
        return ApiError{400, fmt::format("local_port.evpn.id {} is not an E-VPN instance",
                                         p.local_port.evpn->id)};
    return evi;
}

std::optional<ApiError> VpnManager::ResolveStitch(const AttachParams& p, VpnInstance*& evi) {
    evi = nullptr;
    if (!p.local_port.evpn) return std::nullopt;
    auto e = StitchedEvi(p);
    if (auto* err = std::get_if<ApiError>(&e)) {
        ++stats_.errors;
        return *err;
    }
    evi = std::get<VpnInstance*>(e);
    return std::nullopt;
}

std::optional<ApiError> VpnManager::Attach(const AttachParams& p) {
    VpnInstance* evi = nullptr;
    if (auto e = ResolveStitch(p, evi)) return e;
    VpnInstance* inst = nullptr;
    bool created = false;
    if (auto it = by_external_.find(p.vpn_instance_id); it != by_external_.end()) {
        inst = Get(it->second);
        if (inst->type() != p.vpn_type) {
            ++stats_.errors;
            return ApiError{400, fmt::format("VPN instance {} already exists with vpn_type {}, not {}",
                                             p.vpn_instance_id, dataplane::VpnTypeName(inst->type()),
                                             dataplane::VpnTypeName(p.vpn_type))};
        }
    } else {
        if (auto e = Create(p, inst)) {
            ++stats_.errors;
            return e;
        }
        created = true;
    }
    inst->SetDescription(p.instance_description);
    inst->SetExportRts(p.export_rts);
    SetSubscriptions(*inst, p.import_rts, p.readvertise);
    inst->SetAttractTraffic(p.attract_traffic);
    if (p.fallback) inst->SetFallback(p.fallback);
    if (created) inst->AdvertiseInstanceRoutes();
    dataplane::LocalPort port;
    port.linuxif = p.local_port.linuxif;
    port.ovs = p.local_port.ovs;
    port.vlan = p.local_port.vlan;
    bool new_stitch = false;
    std::string evi_side;
    if (evi) {
        // The EVI's gateway port and the VRF's port are the two ends of a veth
        // pair, unless the agent plugged an OVS port itself (ovs_port_name).
        evi_side = EviSide(evi->id(), inst->id());
        port.linuxif = p.local_port.evpn->ovs_port_name.empty() ? VrfSide(evi->id(), inst->id())
                                                               : p.local_port.evpn->ovs_port_name;
        if (!evi->gateway_port() || evi->gateway_port()->interface != evi_side) {
            if (p.local_port.evpn->ovs_port_name.empty() && config_.create_veth) {
                if (auto err = config_.create_veth(evi_side, port.linuxif)) {
                    ++stats_.errors;
                    if (inst->empty()) Destroy(*inst);
                    return ApiError{500, fmt::format("cannot create the veth pair {} / {}: {}", evi_side,
                                                     port.linuxif, *err)};
                }
            }
            VpnInstance::GatewayPort g{evi_side, inst->external_id(), inst->id(), inst->gateway_ip()};
            if (auto e = evi->SetGatewayPort(g)) {
                ++stats_.errors;
                if (p.local_port.evpn->ovs_port_name.empty() && config_.delete_veth) config_.delete_veth(evi_side);
                if (inst->empty()) Destroy(*inst);
                return e;
            }
            new_stitch = true;
        }
    }
    if (auto e = inst->Plug(p, port)) {
        ++stats_.errors;
        if (new_stitch) {
            evi->GatewayPortDown();
            if (p.local_port.evpn->ovs_port_name.empty() && config_.delete_veth) config_.delete_veth(evi_side);
        }
        if (inst->empty()) Destroy(*inst);
        return e;
    }
    ++stats_.attaches;
    ApplyRedirects();
    return std::nullopt;
}

std::optional<ApiError> VpnManager::Detach(const AttachParams& p) {
    auto it = by_external_.find(p.vpn_instance_id);
    if (it == by_external_.end()) {
        ++stats_.errors;
        return ApiError{400, fmt::format("VPN {} could not be found", p.vpn_instance_id)};
    }
    VpnInstance* inst = Get(it->second);
    if (inst->type() != p.vpn_type) {
        ++stats_.errors;
        return ApiError{400, fmt::format("VPN instance {} has vpn_type {}, not {}", p.vpn_instance_id,
                                         dataplane::VpnTypeName(inst->type()),
                                         dataplane::VpnTypeName(p.vpn_type))};
    }
    AttachParams q = p;
    VpnInstance* evi = nullptr;
    if (auto e = ResolveStitch(p, evi)) return e;
    if (evi) {
        q.local_port.linuxif = p.local_port.evpn->ovs_port_name.empty() ? VrfSide(evi->id(), inst->id())
                                                                        : p.local_port.evpn->ovs_port_name;
    }
    if (auto e = inst->Unplug(q)) {
        ++stats_.errors;
        return e;
    }
    if (evi && !inst->ports().count(q.local_port.linuxif)) {
        // The stitching port's last endpoint: the EVI's gateway port goes.
        const std::string evi_side = EviSide(evi->id(), inst->id());
        if (evi->gateway_port() && evi->gateway_port()->interface == evi_side) evi->GatewayPortDown();
        if (p.local_port.evpn->ovs_port_name.empty() && config_.delete_veth) config_.delete_veth(evi_side);
    }
    ++stats_.detaches;
    if (inst->empty()) Destroy(*inst);
    ApplyRedirects();
    return std::nullopt;
}

void VpnManager::Destroy(VpnInstance& inst) {
    const uint32_t id = inst.id();
    for (const bgp::RouteKey& key : inst.CandidateKeys()) {
        auto ib = imported_by_.find(key);
        if (ib == imported_by_.end()) continue;
        EraseValue(ib->second, id);
        if (ib->second.empty()) imported_by_.erase(ib);
    }
    for (const auto& rt : inst.SubscribedRts()) {
        auto it = rt_index_.find(rt);
        if (it != rt_index_.end()) {
            EraseValue(it->second, id);
            if (it->second.empty()) rt_index_.erase(it);
        }
        UnrefRt(rt);
    }
    inst.Stop();
    spdlog::info("vpn: removed {} {}", inst.name(), inst.external_id());
    labels_.Release(inst.instance_label());
    if (inst.label_forced()) forced_vnis_.erase(inst.instance_label());
    rds_.Release(inst.rd_number());
    by_external_.erase(inst.external_id());
    by_id_.erase(id);
}

void VpnManager::StopAll() {
    while (!by_id_.empty()) Destroy(*by_id_.begin()->second);
}

}  // namespace bagpipe::vpn
