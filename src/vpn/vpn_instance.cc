#include "vpn/vpn_instance.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fmt/format.h>

#include "bgp/family/flowspec/flowspec_rule.h"
#include "vpn/route_origination.h"

namespace bagpipe::vpn {

using bgp::Family;
using dataplane::Encapsulation;
using dataplane::EncapsulationSet;

namespace {

bgp::NlriList One(const bgp::EvpnNlri& n) { return bgp::NlriList(std::vector<bgp::EvpnNlri>{n}); }
bgp::NlriList One(const bgp::VpnNlri& n) { return bgp::NlriList(std::vector<bgp::VpnNlri>{n}); }
bgp::NlriList One(const bgp::OpaqueNlri& n) { return bgp::NlriList(std::vector<bgp::OpaqueNlri>{n}); }

bool IsFlowspec(Family f) { return f == Family::kIpv4FlowspecVpn || f == Family::kIpv6FlowspecVpn; }

std::optional<bgp::RouteKey> KeyOfRoute(const OriginatedRoute& r) {
    return std::visit(
        [&](const auto& v) -> std::optional<bgp::RouteKey> {
            using T = typename std::decay_t<decltype(v)>::value_type;
            if (v.empty()) return std::nullopt;
            if constexpr (std::is_same_v<T, bgp::EvpnNlri>) {
                return bgp::KeyOf(v.front());
            } else if constexpr (std::is_same_v<T, bgp::VpnNlri>) {
                return bgp::KeyOf(v.front());
            } else if constexpr (std::is_same_v<T, bgp::OpaqueNlri>) {
                return bgp::KeyOf(r.family, v.front());
            } else {
                return std::nullopt;
            }
        },
        r.nlri);
}

bgp::Prefix HostPrefix(const bgp::IpAddress& ip) {
    bgp::Prefix p;
    p.address = ip;
    p.length = ip.is_v6() ? 128 : 32;
    return p;
}

bgp::Prefix MaskedPrefix(const bgp::IpAddress& ip, uint8_t length) {
    bgp::Prefix p;
    p.address = ip;
    p.length = length;
    bgp::MaskPrefixBytes(p.address.bytes.data(), p.address.size(), length);
    return p;
}

uint32_t LocalPref(const bgp::AttrEntry& a) {
    return a.facts().has_local_pref ? a.facts().local_pref : 100;
}

uint32_t MobilitySequence(const bgp::PathAttributes& a) {
    uint32_t seq = 0;
    for (const auto& c : a.ext_communities)
        if (c.is_mac_mobility()) seq = std::max(seq, c.mac_mobility_sequence());
    return seq;
}

}  // namespace

std::string TrackedKey::ToString() const {
    switch (kind) {
        case Kind::kPrefix: return fmt::format("'{}'", prefix.ToString());
        case Kind::kMac: return fmt::format("('MAC', {})", mac.ToString());
        case Kind::kFlow: {
            std::string error;
            auto rule = bgp::DecodeFlowspecVpn(bgp::ToNlri<bgp::OpaqueNlri>(route).raw, error,
                                               route.family());
            return rule ? "flow " + bgp::ToString(*rule) : "flow " + route.ToString();
        }
        case Kind::kMulticast: {
            const bgp::EvpnNlri n = bgp::ToNlri<bgp::EvpnNlri>(route);
            return fmt::format("('Multicast', ({},  rd {}))", n.originating_ip.ToString(),
                               n.rd.ToString());
        }
    }
    return "?";
}

VpnInstance::VpnInstance(const InstanceContext& ctx, dataplane::VpnType type, uint32_t id,
                         std::string external_id, uint32_t instance_label, bool label_forced,
                         uint32_t rd_number,
                         std::unique_ptr<dataplane::VpnInstanceDataplane> dataplane,
                         const AttachParams& first)
    : ctx_(ctx),
      type_(type),
      id_(id),
      external_id_(std::move(external_id)),
      instance_label_(instance_label),
      label_forced_(label_forced),
      rd_number_(rd_number),
      dataplane_(std::move(dataplane)),
      gateway_ip_(first.gateway_ip),
      subnet_prefix_length_(first.ip.empty() ? 0 : first.ip_prefix_length) {}

VpnInstance::~VpnInstance() = default;

std::vector<bgp::IpAddress> VpnInstance::gateway_ips() const {
    std::set<bgp::IpAddress> used;
    for (const auto& [key, ep] : endpoints_)
        if (!ep.gateway.address.empty()) used.insert(ep.gateway.address);
    std::vector<bgp::IpAddress> out;
    if (used.erase(gateway_ip_)) out.push_back(gateway_ip_);
    out.insert(out.end(), used.begin(), used.end());
    return out;
}

std::string VpnInstance::name() const { return fmt::format("{}-{}", is_evpn() ? "EVI" : "VRF", id_); }

bgp::RouteDistinguisher VpnInstance::rd() const {
    return bgp::RouteDistinguisher::Type1(ctx_.router_id, static_cast<uint16_t>(rd_number_));
}

bgp::RouteDistinguisher VpnInstance::EndpointRd(const Endpoint& ep) const {
    if (ep.advertise_subnet && ep.rd_number)
        return bgp::RouteDistinguisher::Type1(ctx_.router_id, static_cast<uint16_t>(*ep.rd_number));
    return rd();
}

std::optional<uint32_t> VpnInstance::MacLabel(const bgp::MacAddress& mac) const {
    auto it = macs_.find(mac);
    if (it == macs_.end()) return std::nullopt;
    return it->second.label;
}

bool VpnInstance::vxlan() const {
    return ctx_.driver->SupportedEncapsulations().contains(Encapsulation::kVxlan);
}

bool VpnInstance::ImportsFamily(Family family, const bgp::RouteKey& key) const {
    if (family == Family::kL2vpnEvpn) {
        const uint8_t route_type = key.data()[0];
        if (is_evpn())
            return route_type == static_cast<uint8_t>(bgp::EvpnRouteType::kMacIp) ||
                   route_type == static_cast<uint8_t>(bgp::EvpnRouteType::kInclusiveMulticast);
        return route_type == static_cast<uint8_t>(bgp::EvpnRouteType::kIpPrefix);
    }
    if (is_evpn()) return false;
    return family == Family::kIpv4Vpn || family == Family::kIpv6Vpn || IsFlowspec(family);
}

namespace {
bool HasAnyRt(const bgp::PathAttributes& attrs, const std::vector<bgp::ExtCommunity>& rts) {
    for (const auto& c : attrs.ext_communities) {
        if (!c.is_route_target()) continue;
        if (std::find(rts.begin(), rts.end(), c) != rts.end()) return true;
    }
    return false;
}
}  // namespace

bool VpnInstance::HasImportRt(const bgp::PathAttributes& attrs) const {
    return HasAnyRt(attrs, import_rts_);
}

bool VpnInstance::HasFromRt(const bgp::PathAttributes& attrs) const {
    return readvertise_ && HasAnyRt(attrs, readvertise_->from_rts);
}

bool VpnInstance::ImportsRoute(const bgp::PathAttributes& attrs) const {
    return HasImportRt(attrs) || HasFromRt(attrs);
}

std::vector<bgp::ExtCommunity> VpnInstance::SubscribedRts() const {
    std::vector<bgp::ExtCommunity> out = import_rts_;
    if (readvertise_)
        for (const auto& rt : readvertise_->from_rts)
            if (std::find(out.begin(), out.end(), rt) == out.end()) out.push_back(rt);
    return out;
}

void VpnInstance::SetReadvertise(const std::optional<Readvertise>& r) {
    if (is_evpn() || r == readvertise_) return;
    readvertise_ = r;
    if (readvertise_)
        for (auto& [k, ep] : endpoints_) EnsureEndpointRd(ep);
}

void VpnInstance::EnsureEndpointRd(Endpoint& ep) {
    if (ep.rd_number || is_evpn()) return;
    ep.rd_number = ctx_.allocate_rd(fmt::format("{} endpoint {}", name(), ep.ip_text));
    if (!ep.rd_number) spdlog::error("vpn {}: no route distinguisher left for {}", name(), ep.ip_text);
}

void VpnInstance::RecomputeAll() {
    std::vector<TrackedKey> keys;
    for (const auto& [k, t] : tracked_) keys.push_back(k);
    for (const TrackedKey& k : keys) Recompute(k);
    // Prefixes no longer re-advertised at all.
    std::vector<bgp::Prefix> stale;
    for (const auto& [p, keys2] : readvertised_) {
        TrackedKey k;
        k.prefix = p;
        if (!tracked_.count(k)) stale.push_back(p);
    }
    for (const auto& p : stale) SyncReadvertised(p, nullptr);
    SyncAttract();
}

void VpnInstance::SetDescription(const std::optional<std::string>& d) {
    // Unlike the original, an attach without instance_description keeps it.
    if (d) description_ = d;
}

void VpnInstance::SetExportRts(std::vector<bgp::ExtCommunity> rts) {
    if (rts == export_rts_) return;
    export_rts_ = std::move(rts);
    SyncAll();
}

std::optional<ApiError> VpnInstance::SetGatewayPort(const GatewayPort& g) {
    if (gateway_port_) {
        if (gateway_port_->interface == g.interface) return std::nullopt;
        return ApiError{400, fmt::format("E-VPN instance {} is already plugged into IP-VPN instance {}",
                                         external_id_, gateway_port_->vrf_external_id)};
    }
    if (auto st = dataplane_->SetGatewayPort(g.interface, g.gateway_ip); !st)
        return ApiError{st.code() == dataplane::DataplaneErrorCode::kInvalidArgument ? 400 : 500,
                        st.message()};
    gateway_port_ = g;
    return std::nullopt;
}

void VpnInstance::GatewayPortDown() {
    if (!gateway_port_) return;
    if (auto st = dataplane_->GatewayPortDown(gateway_port_->interface); !st)
        spdlog::warn("vpn {}: gateway_port_down {}: {}", name(), gateway_port_->interface, st.message());
    gateway_port_.reset();
}

void VpnInstance::SetFallback(const std::optional<dataplane::Fallback>& f) {
    if (f == fallback_) return;
    fallback_ = f;
    if (auto st = dataplane_->UpdateFallback(f); !st)
        spdlog::info("vpn {}: fallback not applied: {}", name(), st.message());
}

// ---------------------------------------------------------------------------
// Origination.

uint32_t VpnInstance::MobilitySequenceFor(const bgp::MacAddress& mac) const {
    // RFC 7432 §15.1: a MAC newly learnt locally that a remote PE advertises
    // gets a sequence number above the highest one seen for it.
    TrackedKey k;
    k.kind = TrackedKey::Kind::kMac;
    k.mac = mac;
    auto it = tracked_.find(k);
    if (it == tracked_.end() || it->second.candidates.empty()) return 0;
    uint32_t seq = 0;
    for (const Candidate& c : it->second.candidates)
        seq = std::max(seq, MobilitySequence(c.attrs->attributes()) + 1);
    return seq;
}

std::vector<OriginatedRoute> VpnInstance::InstanceRoutes() const {
    std::vector<OriginatedRoute> out;
    if (!is_evpn() || stopped_) return out;
    const bool vx = vxlan();
    RouteCommunities c;
    c.encaps = ctx_.driver->SupportedEncapsulations();
    c.route_targets = export_rts_;
    OriginatedRoute r;
    r.family = Family::kL2vpnEvpn;
    r.nlri = One(InclusiveMulticastRoute(rd(), ctx_.bgp_local_address));
    r.attrs = OriginatedAttributes(100, c);
    r.attrs.set(bgp::attr::kPmsiTunnel);
    r.attrs.pmsi_tunnel = IngressReplication(LabelField(instance_label_, vx), ctx_.driver->LocalAddress());
    r.next_hop.global = ctx_.driver->LocalAddress();
    out.push_back(std::move(r));
    return out;
}

std::vector<OriginatedRoute> VpnInstance::EndpointRoutes(const Endpoint& ep) const {
    std::vector<OriginatedRoute> out;
    if (stopped_ || ep.direction == dataplane::Direction::kFromPort) return out;
    // With no export route target a route could not be imported anywhere: the
    // original withdraws every route then.
    if (export_rts_.empty()) return out;
    const EncapsulationSet encaps = ctx_.driver->SupportedEncapsulations();
    const uint32_t lp = ep.local_pref.value_or(100);
    bgp::NextHop nh;
    nh.global = ctx_.driver->LocalAddress();
    if (is_evpn()) {
        const bool vx = encaps.contains(Encapsulation::kVxlan);
        RouteCommunities c;
        c.encaps = encaps;
        c.route_targets = export_rts_;
        auto m = macs_.find(ep.mac);
        if (m != macs_.end() && m->second.mobility_sequence > 0)
            c.mac_mobility_sequence = m->second.mobility_sequence;
        if (!gateway_ip_.empty() && ep.ip == gateway_ip_) c.default_gateway = true;
        OriginatedRoute r;
        r.family = Family::kL2vpnEvpn;
        r.nlri = One(MacIpRoute(rd(), ep.mac, ep.ip, LabelField(instance_label_, vx)));
        r.attrs = OriginatedAttributes(lp, c);
        r.next_hop = nh;
        out.push_back(std::move(r));
        return out;
    }
    if (ep.ip.empty()) return out;
    const bgp::Prefix prefix =
        ep.advertise_subnet ? MaskedPrefix(ep.ip, ep.prefix_length) : HostPrefix(ep.ip);
    const bgp::RouteDistinguisher rd_used = EndpointRd(ep);
    auto m = macs_.find(ep.mac);
    const uint32_t label = m != macs_.end() ? m->second.label : instance_label_;
    // MPLS-family encapsulations → VPNv4/VPNv6; VXLAN → E-VPN type 5.
    EncapsulationSet mpls = encaps;
    mpls.erase(Encapsulation::kVxlan);
    if (!mpls.empty()) {
        RouteCommunities c;
        c.encaps = mpls;
        c.route_targets = export_rts_;
        OriginatedRoute r;
        r.family = prefix.address.is_v6() ? Family::kIpv6Vpn : Family::kIpv4Vpn;
        r.nlri = One(VpnRoute(rd_used, prefix, label));
        r.attrs = OriginatedAttributes(lp, c);
        r.next_hop = nh;
        out.push_back(std::move(r));
    }
    if (encaps.contains(Encapsulation::kVxlan)) {
        RouteCommunities c;
        c.encaps = EncapsulationSet{Encapsulation::kVxlan};
        c.route_targets = export_rts_;
        c.routers_mac = ctx_.driver->RouterMac();
        OriginatedRoute r;
        r.family = Family::kL2vpnEvpn;
        r.nlri = One(IpPrefixRoute(rd_used, prefix, LabelField(instance_label_, true)));
        r.attrs = OriginatedAttributes(lp, c);
        r.next_hop = nh;
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<OriginatedRoute> VpnInstance::PerEndpointRoutes(
    const bgp::Prefix& prefix, const std::vector<bgp::ExtCommunity>& route_targets,
    const std::vector<bgp::ExtCommunity>& rt_records) const {
    std::vector<OriginatedRoute> out;
    EncapsulationSet encaps = ctx_.driver->SupportedEncapsulations();
    encaps.erase(Encapsulation::kVxlan);
    bgp::NextHop nh;
    nh.global = ctx_.driver->LocalAddress();
    for (const auto& [key, ep] : endpoints_) {
        if (ep.ip.empty() || ep.direction == dataplane::Direction::kFromPort || !ep.rd_number) continue;
        auto m = macs_.find(ep.mac);
        if (m == macs_.end()) continue;
        RouteCommunities c;
        c.encaps = encaps;
        c.route_targets = route_targets;
        c.consistent_hash_order = ep.lb_consistent_hash_order;
        c.rt_records = rt_records;
        OriginatedRoute r;
        r.family = prefix.address.is_v6() ? Family::kIpv6Vpn : Family::kIpv4Vpn;
        r.nlri = One(VpnRoute(bgp::RouteDistinguisher::Type1(ctx_.router_id,
                                                             static_cast<uint16_t>(*ep.rd_number)),
                              prefix, m->second.label));
        r.attrs = OriginatedAttributes(ep.local_pref.value_or(100), c);
        r.next_hop = nh;
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<OriginatedRoute> VpnInstance::ReadvertisedRoutes(
    const bgp::Prefix& prefix, const std::vector<bgp::ExtCommunity>& original) const {
    if (stopped_ || !readvertise_ || readvertise_->to_rts.empty()) return {};
    return PerEndpointRoutes(prefix, readvertise_->to_rts, original);
}

void VpnInstance::SyncReadvertised(const bgp::Prefix& prefix, const Candidate* best) {
    std::vector<OriginatedRoute> want;
    if (best && !stopped_) {
        if (attract_traffic_) {
            // attract_traffic: instead of the prefix, a FlowSpec rule sending
            // its traffic to the to_rt VRF (plus the default routes below).
            want.push_back(FlowspecRoute(prefix));
        } else {
            std::vector<bgp::ExtCommunity> original;
            for (const auto& c : best->attrs->attributes().ext_communities)
                if (c.is_route_target()) original.push_back(c);
            want = ReadvertisedRoutes(prefix, original);
        }
    }
    auto it = readvertised_.find(prefix);
    if (want.empty() && it == readvertised_.end()) return;
    if (it == readvertised_.end()) it = readvertised_.emplace(prefix, std::vector<bgp::RouteKey>{}).first;
    SyncRoutes(it->second, want);
    if (it->second.empty()) readvertised_.erase(it);
    SyncAttract();
}

namespace {
// The redirect-to-VRF community (RFC 7674 form of the route target).
bgp::ExtCommunity RedirectFor(const bgp::ExtCommunity& rt) {
    bgp::ExtCommunity c = rt;
    c.bytes[0] = static_cast<uint8_t>(0x80 | (rt.type() & 0x03));
    c.bytes[1] = bgp::ecomm::kRedirectToVrf;
    return c;
}
std::optional<bgp::ExtCommunity> RedirectTarget(const bgp::PathAttributes& a) {
    for (const auto& c : a.ext_communities) {
        if (c.subtype() != bgp::ecomm::kRedirectToVrf) continue;
        if (c.type() != bgp::ecomm::kFlowspecAs2 && c.type() != bgp::ecomm::kFlowspecIpv4 &&
            c.type() != bgp::ecomm::kFlowspecAs4)
            continue;
        bgp::ExtCommunity rt = c;
        rt.bytes[0] = static_cast<uint8_t>(c.type() & 0x03);
        rt.bytes[1] = bgp::ecomm::kRouteTarget;
        return rt;
    }
    return std::nullopt;
}
std::vector<bgp::NumericMatch> PortMatch(const std::optional<dataplane::PortRange>& r) {
    if (!r) return {};
    if (r->min == r->max) return {bgp::NumericMatch::Equal(r->min)};
    return {bgp::NumericMatch::Range(r->min, r->max)};
}
std::optional<dataplane::PortRange> PortRangeOf(const std::vector<bgp::NumericMatch>& m, bool& ok) {
    if (m.empty()) return std::nullopt;
    auto r = bgp::AsSimpleRange(m);
    if (!r || r->max > 65535) {
        ok = false;
        return std::nullopt;
    }
    return dataplane::PortRange{static_cast<uint16_t>(r->min), static_cast<uint16_t>(r->max)};
}
}  // namespace

OriginatedRoute VpnInstance::FlowspecRoute(const bgp::Prefix& prefix) const {
    const AttractTraffic& a = *attract_traffic_;
    bgp::FlowspecRule rule;
    rule.rd = rd();
    rule.destination = prefix;
    rule.source = a.classifier.source_prefix;
    if (a.classifier.protocol) rule.protocols = {bgp::NumericMatch::Equal(*a.classifier.protocol)};
    rule.destination_ports = PortMatch(a.classifier.destination_port);
    rule.source_ports = PortMatch(a.classifier.source_port);
    RouteCommunities c;
    c.route_targets = a.redirect_rts;
    OriginatedRoute r;
    r.family = prefix.address.is_v6() ? Family::kIpv6FlowspecVpn : Family::kIpv4FlowspecVpn;
    r.nlri = One(bgp::ToOpaque(rule));
    r.attrs = OriginatedAttributes(100, c);
    if (!a.to_rts.empty()) {
        r.attrs.set(bgp::attr::kExtCommunities);
        r.attrs.ext_communities.push_back(RedirectFor(a.to_rts.front()));
    }
    return r;  // FlowSpec carries no next hop
}

std::vector<OriginatedRoute> VpnInstance::AttractRoutes() const {
    std::vector<OriginatedRoute> out;
    if (stopped_ || !attract_traffic_ || readvertised_.empty()) return out;
    const AttractTraffic& a = *attract_traffic_;
    std::vector<bgp::Prefix> prefixes = a.static_destination_prefixes;
    if (prefixes.empty()) prefixes.push_back(*bgp::Prefix::Parse("0.0.0.0/0"));
    for (const bgp::Prefix& prefix : prefixes) {
        std::vector<OriginatedRoute> r = PerEndpointRoutes(prefix, a.to_rts, {});
        out.insert(out.end(), std::make_move_iterator(r.begin()), std::make_move_iterator(r.end()));
    }
    return out;
}

void VpnInstance::SyncAttract() {
    if (!attract_traffic_ && attract_routes_.empty()) return;
    SyncRoutes(attract_routes_, AttractRoutes());
}

void VpnInstance::SetAttractTraffic(const std::optional<AttractTraffic>& a) {
    if (is_evpn() || a == attract_traffic_) return;
    attract_traffic_ = a;
    // What a re-advertised prefix turns into changes: rebuild them.
    for (auto& [prefix, keys] : readvertised_) SyncRoutes(keys, {});
    readvertised_.clear();
    SyncAttract();
    RecomputeAll();
}

void VpnInstance::RecomputeFlow(Tracked& t, const std::vector<const Candidate*>& best) {
    std::optional<Tracked::Redirect> want;
    if (!best.empty()) {
        const Candidate& c = *best[0];
        std::string error;
        auto rule = bgp::DecodeFlowspecVpn(bgp::ToNlri<bgp::OpaqueNlri>(c.key).raw, error, c.key.family());
        auto rt = RedirectTarget(c.attrs->attributes());
        bool ok = rule.has_value() && rt.has_value() && rule->other.empty();
        dataplane::TrafficClassifier cl;
        if (ok) {
            cl.destination_prefix = rule->destination;
            cl.source_prefix = rule->source;
            if (!rule->protocols.empty()) {
                auto p = bgp::AsSimpleRange(rule->protocols);
                if (p && p->min == p->max && p->max <= 255)
                    cl.protocol = static_cast<uint8_t>(p->min);
                else
                    ok = false;
            }
            cl.destination_port = PortRangeOf(rule->destination_ports, ok);
            cl.source_port = PortRangeOf(rule->source_ports, ok);
            if (!rule->ports.empty()) ok = false;
        }
        if (ok) {
            want = Tracked::Redirect{cl, *rt, 0};
        } else {
            spdlog::warn("vpn {}: FlowSpec route {} not applied: {}", name(), c.key.ToString(),
                         !rule ? error : !rt ? std::string("no redirect-to-VRF action")
                                             : std::string("match not supported"));
        }
    }
    if (t.redirect && want && t.redirect->classifier == want->classifier &&
        t.redirect->route_target == want->route_target)
        return;
    if (t.redirect) {
        if (auto st = dataplane_->RemoveTrafficClassifier(t.redirect->classifier); !st)
            spdlog::warn("vpn {}: remove_dataplane_for_traffic_classifier: {}", name(), st.message());
        if (ctx_.release_redirect) ctx_.release_redirect(t.redirect->route_target);
        t.redirect.reset();
    }
    if (want && ctx_.acquire_redirect) {
        want->instance_id = ctx_.acquire_redirect(want->route_target);
        if (auto st = dataplane_->AddTrafficClassifier(want->classifier, want->instance_id); !st)
            spdlog::warn("vpn {}: add_dataplane_for_traffic_classifier: {}", name(), st.message());
        t.redirect = want;
    }
}

void VpnInstance::SyncRoutes(std::vector<bgp::RouteKey>& have,
                             const std::vector<OriginatedRoute>& want) {
    std::vector<bgp::RouteKey> keys;
    for (const OriginatedRoute& r : want) {
        auto key = KeyOfRoute(r);
        if (!key) continue;
        keys.push_back(*key);
        auto it = adv_routes_.find(*key);
        if (it != adv_routes_.end() && it->second == r) continue;
        ctx_.sink->Announce(r.family, r.nlri, r.attrs, r.next_hop);
        adv_routes_[*key] = r;
    }
    for (const bgp::RouteKey& k : have) {
        if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
        auto it = adv_routes_.find(k);
        if (it == adv_routes_.end()) continue;
        ctx_.sink->Withdraw(it->second.family, it->second.nlri);
        adv_routes_.erase(it);
    }
    have = std::move(keys);
}

void VpnInstance::SyncEndpoint(Endpoint& ep) { SyncRoutes(ep.routes, EndpointRoutes(ep)); }

void VpnInstance::AdvertiseInstanceRoutes() { SyncRoutes(instance_routes_, InstanceRoutes()); }

void VpnInstance::SyncAll() {
    AdvertiseInstanceRoutes();
    for (auto& [k, ep] : endpoints_) SyncEndpoint(ep);
    if (readvertise_ || !readvertised_.empty()) RecomputeAll();
}

// ---------------------------------------------------------------------------
// Plug / unplug.

std::optional<ApiError> VpnInstance::Plug(const AttachParams& p, const dataplane::LocalPort& port) {
    const std::string& ifname = port.linuxif;
    // One MAC, one port.
    if (auto m = macs_.find(p.mac); m != macs_.end() && m->second.port != ifname) {
        return ApiError{400, fmt::format("Port information is not consistent. MAC address cannot be "
                                         "bound to two different ports. Previous port: {}, new port: {}",
                                         m->second.port, ifname)};
    }
    if (auto pi = ports_.find(ifname); pi != ports_.end() && !(pi->second == p.local_port)) {
        return ApiError{400, fmt::format("local_port {} is already plugged in {} with different "
                                         "parameters",
                                         ifname, external_id_)};
    }
    // One IP, one MAC (whatever the prefix length given).
    if (!p.ip.empty()) {
        if (auto o = ip_owner_.find(p.ip); o != ip_owner_.end() && o->second != p.mac)
            return ApiError{400, fmt::format("IP address {} is already bound to MAC address {} "
                                             "in VPN instance {}",
                                             p.ip.ToString(), o->second.ToString(), external_id_)};
    }
    if (auto st = ctx_.driver->ValidateDirection(p.direction); !st)
        return ApiError{400, st.message()};

    const auto key = std::make_pair(p.mac, p.ip);
    auto existing = endpoints_.find(key);
    if (existing != endpoints_.end()) {
        // Re-attach: refresh what an endpoint may change (idempotent).
        Endpoint& ep = existing->second;
        if (ep.direction != p.direction)
            return ApiError{400, fmt::format("endpoint ({}, {}) is already plugged with direction {}",
                                             p.mac.ToString(), p.ip_text,
                                             dataplane::DirectionName(ep.direction))};
        ep.local_pref = p.local_pref;
        ep.lb_consistent_hash_order = p.lb_consistent_hash_order;
        ep.description = p.description;
        ep.ip_text = p.ip_text.empty() ? ep.ip_text : p.ip_text;
        if (ep.advertise_subnet != p.advertise_subnet || ep.prefix_length != p.ip_prefix_length) {
            IndexEndpoint(ep, false);
            if (ep.rd_number && !p.advertise_subnet && !readvertise_) {
                ctx_.release_rd(*ep.rd_number);
                ep.rd_number.reset();
            }
            ep.advertise_subnet = p.advertise_subnet;
            ep.prefix_length = p.ip_prefix_length;
            IndexEndpoint(ep, true);
            if (ep.advertise_subnet && !ep.rd_number) {
                ep.rd_number = ctx_.allocate_rd(fmt::format("{} endpoint {}", name(), p.ip_text));
                if (!ep.rd_number) return ApiError{500, "no route distinguisher left"};
            }
        }
        SyncEndpoint(ep);
        return std::nullopt;
    }

    // A new endpoint.
    auto m = macs_.find(p.mac);
    const bool new_mac = m == macs_.end();
    uint32_t label = 0;
    if (new_mac) {
        auto l = ctx_.allocate_label(fmt::format("Incoming traffic for {}, interface {}, endpoint "
                                                 "('{}', '{}')",
                                                 name(), ifname, p.mac.ToString(), p.ip_text));
        if (!l) return ApiError{500, "no MPLS label left"};
        label = *l;
    } else {
        label = m->second.label;
    }
    Endpoint ep;
    ep.mac = p.mac;
    ep.ip = p.ip;
    ep.prefix_length = p.ip_prefix_length;
    ep.ip_text = p.ip_text;
    ep.port = ifname;
    ep.advertise_subnet = p.advertise_subnet;
    ep.lb_consistent_hash_order = p.lb_consistent_hash_order;
    ep.local_pref = p.local_pref;
    ep.direction = p.direction;
    ep.description = p.description;
    if (!p.gateway_ip.empty())
        ep.gateway = bgp::Prefix{p.gateway_ip, p.ip.empty() ? uint8_t{0} : p.ip_prefix_length};
    // The driver serves each port the gateway of its own attach.
    dataplane::LocalPort dp_port = port;
    dp_port.gateway = ep.gateway;
    if ((ep.advertise_subnet || readvertise_) && !is_evpn()) {
        ep.rd_number = ctx_.allocate_rd(fmt::format("{} endpoint {}", name(), p.ip_text));
        if (!ep.rd_number) {
            if (new_mac) ctx_.release_label(label);
            return ApiError{500, "no route distinguisher left"};
        }
    }
    if (auto st = dataplane_->VifPlugged(p.mac, p.ip, dp_port, label, p.direction); !st) {
        if (new_mac) ctx_.release_label(label);
        if (ep.rd_number) ctx_.release_rd(*ep.rd_number);
        return ApiError{st.code() == dataplane::DataplaneErrorCode::kInvalidArgument ? 400 : 500,
                        st.message()};
    }
    if (new_mac) {
        MacState s;
        s.port = ifname;
        s.label = label;
        s.mobility_sequence = is_evpn() ? MobilitySequenceFor(p.mac) : 0;
        m = macs_.emplace(p.mac, s).first;
    }
    ++m->second.endpoints;
    ports_.emplace(ifname, p.local_port);
    auto [it, inserted] = endpoints_.emplace(key, std::move(ep));
    IndexEndpoint(it->second, true);
    SyncEndpoint(it->second);
    if (readvertise_) RecomputeAll();  // one more next hop for re-advertised prefixes
    // A remote route for what is now local stops being programmed.
    TrackedKey tk;
    if (is_evpn()) {
        tk.kind = TrackedKey::Kind::kMac;
        tk.mac = p.mac;
    } else if (!p.ip.empty()) {
        tk.kind = TrackedKey::Kind::kPrefix;
        tk.prefix = p.advertise_subnet ? MaskedPrefix(p.ip, p.ip_prefix_length) : HostPrefix(p.ip);
    }
    if (tracked_.count(tk)) Recompute(tk);
    return std::nullopt;
}

void VpnInstance::RemoveEndpoint(
    std::map<std::pair<bgp::MacAddress, bgp::IpAddress>, Endpoint>::iterator it) {
    Endpoint ep = std::move(it->second);
    endpoints_.erase(it);
    SyncRoutes(ep.routes, {});
    auto m = macs_.find(ep.mac);
    const uint32_t label = m != macs_.end() ? m->second.label : 0;
    IndexEndpoint(ep, false);
    const bool port_in_use = port_refs_.count(ep.port) != 0;
    dataplane::LocalPort port;
    if (auto pi = ports_.find(ep.port); pi != ports_.end()) {
        port.linuxif = ep.port;
        port.ovs = pi->second.ovs;
        port.vlan = pi->second.vlan;
    }
    port.gateway = ep.gateway;
    if (auto st = dataplane_->VifUnplugged(ep.mac, ep.ip, port, label, ep.direction, !port_in_use); !st)
        spdlog::warn("vpn {}: vif_unplugged {} {}: {}", name(), ep.mac.ToString(), ep.ip_text,
                     st.message());
    if (!port_in_use) ports_.erase(ep.port);
    if (m != macs_.end() && --m->second.endpoints == 0) {
        ctx_.release_label(m->second.label);
        macs_.erase(m);
    }
    if (!readvertised_.empty() && !stopped_) RecomputeAll();  // its re-advertised routes go
    if (ep.rd_number) ctx_.release_rd(*ep.rd_number);
    // A remote route for what was local may now be programmed.
    TrackedKey tk;
    if (is_evpn()) {
        tk.kind = TrackedKey::Kind::kMac;
        tk.mac = ep.mac;
    } else if (!ep.ip.empty()) {
        tk.kind = TrackedKey::Kind::kPrefix;
        tk.prefix = ep.advertise_subnet ? MaskedPrefix(ep.ip, ep.prefix_length) : HostPrefix(ep.ip);
    }
    if (tracked_.count(tk)) Recompute(tk);
}

std::optional<ApiError> VpnInstance::Unplug(const AttachParams& p) {
    if (p.ip.empty()) {
        // E-VPN wildcard: every endpoint of the MAC.
        auto m = macs_.find(p.mac);
        if (m == macs_.end())
            return ApiError{400, fmt::format("MAC address {} is not plugged in VPN instance {}",
                                             p.mac.ToString(), external_id_)};
        if (!p.local_port.linuxif.empty() && m->second.port != p.local_port.linuxif)
            return ApiError{400, fmt::format("MAC address {} is plugged on port {}, not {}",
                                             p.mac.ToString(), m->second.port,
                                             p.local_port.linuxif)};
        for (auto it = endpoints_.begin(); it != endpoints_.end();) {
            auto next = std::next(it);
            if (it->first.first == p.mac) RemoveEndpoint(it);
            it = next;
        }
        return std::nullopt;
    }
    auto it = endpoints_.find({p.mac, p.ip});
    if (it == endpoints_.end())
        return ApiError{400, fmt::format("Endpoint ({}, {}) not plugged yet, can't unplug (VPN "
                                         "instance {})",
                                         p.mac.ToString(), p.ip_text, external_id_)};
    if (!p.local_port.linuxif.empty() && it->second.port != p.local_port.linuxif)
        return ApiError{400, fmt::format("Endpoint ({}, {}) is plugged on port {}, not {}",
                                         p.mac.ToString(), p.ip_text, it->second.port,
                                         p.local_port.linuxif)};
    RemoveEndpoint(it);
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Import.

std::optional<TrackedKey> VpnInstance::TrackedKeyOf(const bgp::RouteKey& key) const {
    TrackedKey k;
    switch (key.family()) {
        case Family::kIpv4Vpn:
        case Family::kIpv6Vpn:
            k.kind = TrackedKey::Kind::kPrefix;
            k.prefix = bgp::ToNlri<bgp::VpnNlri>(key).prefix;
            return k;
        case Family::kL2vpnEvpn: {
            const bgp::EvpnNlri n = bgp::ToNlri<bgp::EvpnNlri>(key);
            if (n.route_type == static_cast<uint8_t>(bgp::EvpnRouteType::kMacIp)) {
                k.kind = TrackedKey::Kind::kMac;
                k.mac = n.mac;
                return k;
            }
            if (n.route_type == static_cast<uint8_t>(bgp::EvpnRouteType::kInclusiveMulticast)) {
                k.kind = TrackedKey::Kind::kMulticast;
                k.route = key;
                return k;
            }
            if (n.route_type == static_cast<uint8_t>(bgp::EvpnRouteType::kIpPrefix)) {
                k.kind = TrackedKey::Kind::kPrefix;
                k.prefix = n.prefix;
                return k;
            }
            return std::nullopt;
        }
        case Family::kIpv4FlowspecVpn:
        case Family::kIpv6FlowspecVpn:
            k.kind = TrackedKey::Kind::kFlow;
            k.route = key;
            return k;
        default: return std::nullopt;
    }
}

EncapsulationSet VpnInstance::RouteEncaps(const bgp::PathAttributes& attrs) const {
    EncapsulationSet route;
    for (const auto& c : attrs.ext_communities) {
        if (!c.is_encapsulation()) continue;
        if (auto e = dataplane::EncapsulationFromTunnelType(c.tunnel_type())) route.insert(*e);
    }
    if (route.empty()) route.insert(Encapsulation::kDefault);
    return route.Intersect(ctx_.driver->SupportedEncapsulations());
}

void VpnInstance::OnRoute(const bgp::LocRibChange& change, bool imported) {
    if (stopped_) return;
    auto tk = TrackedKeyOf(change.key);
    if (!tk) return;
    auto it = tracked_.find(*tk);
    if (it != tracked_.end()) {
        auto& cands = it->second.candidates;
        cands.erase(std::remove_if(cands.begin(), cands.end(),
                                   [&](const Candidate& c) { return c.key == change.key; }),
                    cands.end());
    }
    if (imported && change.attrs) {
        if (HasImportRt(change.attrs->attributes()) && !IsFlowspec(change.family) &&
            RouteEncaps(change.attrs->attributes()).empty()) {
            // Logged for the first few routes only (a misconfigured driver
            // would otherwise log every route); the count is in the looking glass.
            if (++encap_mismatches_ <= 10)
                spdlog::warn("vpn {}: route {} ignored: no encapsulation in common with the {} driver{}",
                             name(), change.key.ToString(), ctx_.driver->name(),
                             encap_mismatches_ == 10 ? " (further ones are only counted: looking "
                                                       "glass internals.routes_ignored_encapsulation)"
                                                     : "");
        } else {
            if (it == tracked_.end()) it = tracked_.emplace(*tk, Tracked{}).first;
            it->second.candidates.push_back(
                Candidate{change.key, change.peer, change.attrs, change.payload});
        }
    }
    if (it != tracked_.end()) Recompute(*tk);
}

std::vector<bgp::RouteKey> VpnInstance::CandidateKeys() const {
    std::vector<bgp::RouteKey> out;
    for (const auto& [k, t] : tracked_)
        for (const Candidate& c : t.candidates) out.push_back(c.key);
    return out;
}

bool VpnInstance::LocallyPlugged(const TrackedKey& k) const {
    if (k.kind == TrackedKey::Kind::kMac) return macs_.count(k.mac) != 0;
    if (k.kind == TrackedKey::Kind::kPrefix) return local_prefixes_.count(k.prefix) != 0;
    return false;
}

std::optional<bgp::Prefix> VpnInstance::LocalPrefixOf(const Endpoint& ep) const {
    if (is_evpn() || ep.ip.empty() || ep.direction == dataplane::Direction::kFromPort)
        return std::nullopt;
    return ep.advertise_subnet ? MaskedPrefix(ep.ip, ep.prefix_length) : HostPrefix(ep.ip);
}

void VpnInstance::IndexEndpoint(const Endpoint& ep, bool add) {
    auto count = [add](auto& map, const auto& key) {
        if (add) {
            ++map[key];
        } else if (auto it = map.find(key); it != map.end() && --it->second == 0) {
            map.erase(it);
        }
    };
    count(port_refs_, ep.port);
    if (auto pfx = LocalPrefixOf(ep)) count(local_prefixes_, *pfx);
    if (!ep.ip.empty()) {
        if (add)
            ip_owner_[ep.ip] = ep.mac;
        else
            ip_owner_.erase(ep.ip);
    }
}

void VpnInstance::Unprogram(Tracked& t) {
    if (t.redirect) {
        if (auto st = dataplane_->RemoveTrafficClassifier(t.redirect->classifier); !st)
            spdlog::warn("vpn {}: remove_dataplane_for_traffic_classifier: {}", name(), st.message());
        t.redirect.reset();
    }
    for (const auto& r : t.remotes)
        if (auto st = dataplane_->RemoveRemoteEndpoint(r); !st)
            spdlog::warn("vpn {}: remove_dataplane_for_remote_endpoint: {}", name(), st.message());
    t.remotes.clear();
    if (t.bum) {
        if (auto st = dataplane_->RemoveBumEndpoint(*t.bum); !st)
            spdlog::warn("vpn {}: remove_dataplane_for_bum_endpoint: {}", name(), st.message());
        t.bum.reset();
    }
}

void VpnInstance::Recompute(const TrackedKey& k) {
    auto it = tracked_.find(k);
    if (it == tracked_.end()) return;
    Tracked& t = it->second;
    auto& cands = t.candidates;

    // Order candidates best first.
    auto next_hop = [](const Candidate& c) { return c.attrs->next_hop().global; };
    std::sort(cands.begin(), cands.end(), [&](const Candidate& a, const Candidate& b) {
        const bgp::PathAttributes& aa = a.attrs->attributes();
        const bgp::PathAttributes& ba = b.attrs->attributes();
        if (k.kind == TrackedKey::Kind::kMac) {
            const uint32_t sa = MobilitySequence(aa), sb = MobilitySequence(ba);
            if (sa != sb) return sa > sb;
        }
        const uint32_t la = LocalPref(*a.attrs), lb = LocalPref(*b.attrs);
        if (la != lb) return la > lb;
        if (k.kind == TrackedKey::Kind::kMac) {
            const bool ia = !bgp::ToNlri<bgp::EvpnNlri>(a.key).ip.empty();
            const bool ib = !bgp::ToNlri<bgp::EvpnNlri>(b.key).ip.empty();
            if (ia != ib) return ia;
        }
        if (next_hop(a) != next_hop(b)) return next_hop(a) < next_hop(b);
        return a.key < b.key;
    });

    // Dataplane: the candidates carrying an import route target.
    std::vector<const Candidate*> best;
    for (const Candidate& c : cands) {
        if (!HasImportRt(c.attrs->attributes())) continue;
        if (best.empty()) {
            best.push_back(&c);
        } else if (k.kind == TrackedKey::Kind::kPrefix && ctx_.driver->EcmpSupport() &&
                   LocalPref(*c.attrs) == LocalPref(*best[0]->attrs)) {
            best.push_back(&c);
        }
        if (!(k.kind == TrackedKey::Kind::kPrefix && ctx_.driver->EcmpSupport())) break;
    }
    // readvertise: the best candidate carrying a from_rt, unless it was
    // itself re-advertised towards one of our to_rt (RT-record: a loop).
    if (k.kind == TrackedKey::Kind::kPrefix && (readvertise_ || readvertised_.count(k.prefix))) {
        const Candidate* readv = nullptr;
        if (readvertise_) {
            for (const Candidate& c : cands) {
                const bgp::PathAttributes& a = c.attrs->attributes();
                if (!HasFromRt(a)) continue;
                bool loop = false;
                for (const auto& e : a.ext_communities)
                    for (const auto& to : readvertise_->to_rts)
                        if (e == RtRecordOf(to)) loop = true;
                if (loop) continue;
                readv = &c;
                break;
            }
        }
        SyncReadvertised(k.prefix, readv);
    }
    t.best.clear();
    for (const Candidate* c : best) t.best.push_back(c->key);

    const bool local = LocallyPlugged(k);
    if (k.kind == TrackedKey::Kind::kFlow) {
        RecomputeFlow(t, best);
    } else if (k.kind == TrackedKey::Kind::kMulticast) {
        std::optional<dataplane::BumEndpoint> want;
        if (!best.empty()) {
            const Candidate& c = *best[0];
            const bgp::PathAttributes& a = c.attrs->attributes();
            const EncapsulationSet encaps = RouteEncaps(a);
            dataplane::BumEndpoint b;
            const bool vx = encaps.contains(Encapsulation::kVxlan);
            if (a.has(bgp::attr::kPmsiTunnel) &&
                a.pmsi_tunnel.tunnel_type == bgp::PmsiTunnel::kIngressReplication &&
                (a.pmsi_tunnel.tunnel_id.size() == 4 || a.pmsi_tunnel.tunnel_id.size() == 16)) {
                b.remote_pe = a.pmsi_tunnel.tunnel_id.size() == 4
                                  ? bgp::IpAddress::V4(a.pmsi_tunnel.tunnel_id.data())
                                  : bgp::IpAddress::V6(a.pmsi_tunnel.tunnel_id.data());
                b.vni = LabelValue(a.pmsi_tunnel.label, vx);
                b.encaps = encaps;
                b.nlri = c.key.ToString();
                want = b;
            }
        }
        if (want != t.bum) {
            if (want)
                if (auto st = dataplane_->AddBumEndpoint(*want); !st)
                    spdlog::warn("vpn {}: add_dataplane_for_bum_endpoint: {}", name(), st.message());
            if (t.bum && (!want || want->remote_pe != t.bum->remote_pe || want->vni != t.bum->vni))
                if (auto st = dataplane_->RemoveBumEndpoint(*t.bum); !st)
                    spdlog::warn("vpn {}: remove_dataplane_for_bum_endpoint: {}", name(), st.message());
            t.bum = want;
        }
    } else {
        std::vector<dataplane::RemoteEndpoint> want;
        if (!local) {
            for (const Candidate* c : best) {
                const bgp::PathAttributes& a = c->attrs->attributes();
                dataplane::RemoteEndpoint r;
                r.encaps = RouteEncaps(a);
                const bool vx = r.encaps.contains(Encapsulation::kVxlan);
                r.remote_pe = next_hop(*c);
                const bgp::LabelStack& ls = c->payload.labels;
                if (!ls.empty())
                    r.label = c->key.family() == Family::kL2vpnEvpn ? LabelValue(ls.front(), vx)
                                                                    : bgp::LabelFromField(ls.front());
                if (k.kind == TrackedKey::Kind::kMac) {
                    const bgp::EvpnNlri n = bgp::ToNlri<bgp::EvpnNlri>(c->key);
                    r.mac = n.mac;
                    r.ip = n.ip;
                } else {
                    r.prefix = k.prefix;
                }
                for (const auto& e : a.ext_communities) {
                    if (e.type() == bgp::ecomm::kTransOpaque &&
                        e.subtype() == bgp::ecomm::kConsistentHashSortOrder) {
                        r.lb_consistent_hash_order = (uint32_t{e.bytes[4]} << 24) |
                                                     (uint32_t{e.bytes[5]} << 16) |
                                                     (uint32_t{e.bytes[6]} << 8) | e.bytes[7];
                    } else if (e.type() == bgp::ecomm::kEvpn &&
                               e.subtype() == bgp::ecomm::kRoutersMac &&
                               k.kind == TrackedKey::Kind::kPrefix) {
                        bgp::MacAddress mac;
                        std::copy(e.bytes.begin() + 2, e.bytes.end(), mac.bytes.begin());
                        r.router_mac = mac;
                    }
                }
                r.nlri = c->key.ToString();
                want.push_back(std::move(r));
            }
        }
        // Make before break: set up what is new or changed, then remove what
        // is no longer wanted (by driver key: prefix/MAC, remote PE, label).
        auto same_key = [](const dataplane::RemoteEndpoint& a, const dataplane::RemoteEndpoint& b) {
            return a.prefix == b.prefix && a.mac == b.mac && a.remote_pe == b.remote_pe &&
                   a.label == b.label;
        };
        for (const auto& r : want) {
            auto old = std::find(t.remotes.begin(), t.remotes.end(), r);
            if (old != t.remotes.end()) continue;
            if (auto st = dataplane_->SetupRemoteEndpoint(r); !st)
                spdlog::warn("vpn {}: setup_dataplane_for_remote_endpoint {}: {}", name(), r.nlri,
                             st.message());
        }
        for (const auto& r : t.remotes) {
            bool kept = std::any_of(want.begin(), want.end(),
                                    [&](const dataplane::RemoteEndpoint& w) { return same_key(w, r); });
            if (kept) continue;
            if (auto st = dataplane_->RemoveRemoteEndpoint(r); !st)
                spdlog::warn("vpn {}: remove_dataplane_for_remote_endpoint {}: {}", name(), r.nlri,
                             st.message());
        }
        t.remotes = std::move(want);
    }
    if (t.candidates.empty() && t.remotes.empty() && !t.bum && !t.redirect) tracked_.erase(it);
}

// ---------------------------------------------------------------------------

void VpnInstance::Stop() {
    if (stopped_) return;
    // Local endpoints first (their routes withdrawn, ports unplugged), then
    // the instance routes, then the imported state.
    while (!endpoints_.empty()) RemoveEndpoint(endpoints_.begin());
    GatewayPortDown();
    stopped_ = true;
    SyncRoutes(instance_routes_, {});
    for (auto& [prefix, keys] : readvertised_) SyncRoutes(keys, {});
    readvertised_.clear();
    SyncRoutes(attract_routes_, {});
    for (auto& [k, t] : tracked_)
        if (t.redirect && ctx_.release_redirect) ctx_.release_redirect(t.redirect->route_target);
    const bool assist = ctx_.driver->NeedsCleanupAssist();
    for (auto& [k, t] : tracked_) {
        if (assist) Unprogram(t);
    }
    tracked_.clear();
    if (auto st = dataplane_->Cleanup(); !st)
        spdlog::warn("vpn {}: dataplane cleanup: {}", name(), st.message());
}

}  // namespace bagpipe::vpn
