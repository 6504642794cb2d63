#include "routes.h"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <variant>

#include "bgp/wire/attributes.h"
#include "bgp/wire/ext_community.h"
#include "bgp/wire/mpls_label.h"
#include "bgp/wire/update_packer.h"

namespace bagpipe::bench {

using namespace bagpipe::bgp;

namespace {

constexpr uint32_t kPrefixBase = 0x0a000000;  // 10.0.0.0

constexpr std::string_view kNames[kBenchFamilyCount] = {
    "vpnv4", "vpnv6", "evpn-mac", "evpn-imet", "evpn-prefix", "rtc", "ipv4",
};

uint8_t AdminKind(uint32_t asn) { return asn <= 0xffff ? 0 : 2; }

Prefix V4Host(size_t i) {
    Prefix p;
    p.address = IpAddress::V4(kPrefixBase + static_cast<uint32_t>(i));
    p.length = 32;
    return p;
}

Prefix V6Net(size_t i) {
    Prefix p;
    p.address.version = 6;
    const uint8_t head[4] = {0x20, 0x01, 0x0d, 0xb8};
    std::memcpy(p.address.bytes.data(), head, 4);
    const uint32_t v = static_cast<uint32_t>(i);
    p.address.bytes[4] = static_cast<uint8_t>(v >> 24);
    p.address.bytes[5] = static_cast<uint8_t>(v >> 16);
    p.address.bytes[6] = static_cast<uint8_t>(v >> 8);
    p.address.bytes[7] = static_cast<uint8_t>(v);
    p.length = 64;
    return p;
}

MacAddress MacOf(size_t i) {
    MacAddress m;
    const uint32_t v = static_cast<uint32_t>(i);
    m.bytes = {0x02, 0x00, static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
               static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    return m;
}

IpAddress NextHopFor(const GenParams& p, BenchFamily f) {
    if (f != BenchFamily::kVpnv6) return p.next_hop;
    // VPNv6 needs an IPv6 next hop: the IPv4-mapped form of ours.
    IpAddress a;
    a.version = 6;
    a.bytes[10] = a.bytes[11] = 0xff;
    std::memcpy(a.bytes.data() + 12, p.next_hop.bytes.data(), 4);
    return a;
}

void AppendRoute(const GenParams& p, const RouteDistinguisher& rd, BenchFamily f, size_t i,
                 NlriList& list) {
    const LabelStack label = LabelStack::One(MplsLabelField(p.label_base));
    switch (f) {
        case BenchFamily::kVpnv4:
            std::get<std::vector<VpnNlri>>(list).push_back(VpnNlri{0, label, rd, V4Host(i)});
            break;
        case BenchFamily::kVpnv6:
            std::get<std::vector<VpnNlri>>(list).push_back(VpnNlri{0, label, rd, V6Net(i)});
            break;
        case BenchFamily::kEvpnMac: {
            EvpnNlri n;
            n.route_type = 2;
            n.rd = rd;
            n.mac_length = 48;
            n.mac = MacOf(i);
            n.ip = IpAddress::V4(kPrefixBase + static_cast<uint32_t>(i));
            n.labels = label;
            std::get<std::vector<EvpnNlri>>(list).push_back(std::move(n));
            break;
        }
        case BenchFamily::kEvpnImet: {
            EvpnNlri n;
            n.route_type = 3;
            n.rd = MakeRd(p.rd_base, static_cast<uint32_t>(i));
            n.originating_ip = p.next_hop;
            std::get<std::vector<EvpnNlri>>(list).push_back(std::move(n));
            break;
        }
        case BenchFamily::kEvpnPrefix: {
            EvpnNlri n;
            n.route_type = 5;
            n.rd = rd;
            n.prefix = V4Host(i);
            n.gateway_ip = IpAddress::V4(0u);
            n.labels = label;
            std::get<std::vector<EvpnNlri>>(list).push_back(std::move(n));
            break;
        }
        case BenchFamily::kRtc: {
            RtcNlri n;
            n.length = 96;
            n.origin_as = p.local_as;
            n.route_target = ExtCommunity::RouteTarget(AdminKind(p.local_as), p.local_as,
                                                       RtcRouteBase(p) + static_cast<uint32_t>(i));
            std::get<std::vector<RtcNlri>>(list).push_back(n);
            break;
        }
        case BenchFamily::kIpv4:
            std::get<std::vector<InetNlri>>(list).push_back(InetNlri{0, V4Host(i)});
            break;
    }
}

PathAttributes BaseAttributes(const GenParams& p) {
    PathAttributes a;
    a.set(attr::kOrigin);
    a.origin = Origin::kIgp;
    a.set(attr::kAsPath);
    if (!p.ibgp) a.as_path.segments.push_back(AsPathSegment{AsPathSegment::kSequence, {p.local_as}});
    if (p.ibgp) {
        a.set(attr::kLocalPref);
        a.local_pref = 100;
    }
    return a;
}

PathAttributes AttributesFor(const GenParams& p, BenchFamily f, uint32_t rt, size_t set) {
    PathAttributes a = BaseAttributes(p);
    a.set(attr::kMed);
    a.med = static_cast<uint32_t>(set);
    if (CarriesRouteTarget(f)) {
        a.set(attr::kExtCommunities);
        a.ext_communities.push_back(RouteTargetCommunity(p, rt));
        const bool evpn = WireFamily(f) == Family::kL2vpnEvpn;
        a.ext_communities.push_back(ExtCommunity::Encapsulation(
            static_cast<uint16_t>(evpn ? TunnelType::kVxlan : TunnelType::kMplsOverGre)));
    }
    if (f == BenchFamily::kEvpnImet) {
        a.set(attr::kPmsiTunnel);
        a.pmsi_tunnel.tunnel_type = PmsiTunnel::kIngressReplication;
        a.pmsi_tunnel.label = MplsLabelField(p.label_base);
        a.pmsi_tunnel.tunnel_id.assign(p.next_hop.bytes.begin(), p.next_hop.bytes.begin() + 4);
    }
    return a;
}

// Groups of routes sharing one attribute set: (route target, attribute set).
struct Group {
    uint32_t rt = 0;
    size_t set = 0;
    NlriList nlri;
};

std::vector<Group> GroupRoutes(const GenParams& p, BenchFamily f, size_t count) {
    const Family wire = WireFamily(f);
    const RouteDistinguisher rd = MakeRd(p.rd_base);
    std::vector<Group> groups;
    std::unordered_map<uint64_t, size_t> index;
    const bool with_rt = CarriesRouteTarget(f);
    const size_t expected_groups = std::min(count, with_rt ? p.rts * p.attr_sets : p.attr_sets);
    index.reserve(expected_groups);
    for (size_t i = 0; i < count; ++i) {
        const uint32_t rt = with_rt ? RouteTargetOf(p, i) : 0;
        const size_t set = i % p.attr_sets;
        const uint64_t key = (uint64_t{rt} << 32) | set;
        auto [it, fresh] = index.try_emplace(key, groups.size());
        if (fresh) {
            groups.push_back(Group{rt, set, FindFamilyCodec(wire)->make_list()});
            if (expected_groups == 1)
                std::visit([&](auto& v) { v.reserve(count); }, groups.back().nlri);
        }
        AppendRoute(p, rd, f, i, groups[it->second].nlri);
    }
    return groups;
}

void Check(const PackResult& r, size_t want, BenchFamily f) {
    if (r.oversized || r.nlri != want)
        throw std::runtime_error(fmt::format("{}: packed {} of {} routes ({} oversized)",
                                             BenchFamilyName(f), r.nlri, want, r.oversized));
}

}  // namespace

std::string_view BenchFamilyName(BenchFamily f) { return kNames[static_cast<size_t>(f)]; }

std::optional<BenchFamily> BenchFamilyFromName(std::string_view name) {
    for (size_t i = 0; i < kBenchFamilyCount; ++i)
        if (kNames[i] == name) return static_cast<BenchFamily>(i);
    return std::nullopt;
}

Family WireFamily(BenchFamily f) {
    switch (f) {
        case BenchFamily::kVpnv4: return Family::kIpv4Vpn;
        case BenchFamily::kVpnv6: return Family::kIpv6Vpn;
        case BenchFamily::kEvpnMac:
        case BenchFamily::kEvpnImet:
        case BenchFamily::kEvpnPrefix: return Family::kL2vpnEvpn;
        case BenchFamily::kRtc: return Family::kIpv4Rtc;
        case BenchFamily::kIpv4: return Family::kIpv4Unicast;
    }
    return Family::kUnknown;
}

uint32_t RtcRouteBase(const GenParams& p) { return p.local_as <= 0xffff ? 1'000'000 : 32'768; }

bool CarriesRouteTarget(BenchFamily f) {
    return f != BenchFamily::kRtc && f != BenchFamily::kIpv4;
}

ExtCommunity RouteTargetCommunity(const GenParams& p, uint32_t number) {
    return ExtCommunity::RouteTarget(AdminKind(p.local_as), p.local_as, number);
}

RouteDistinguisher MakeRd(const AdminValue& v, uint32_t number_offset) {
    const uint32_t n = v.number + number_offset;
    switch (v.kind) {
        case 1: return RouteDistinguisher::Type1(v.admin, static_cast<uint16_t>(n));
        case 2: return RouteDistinguisher::Type2(v.admin, static_cast<uint16_t>(n));
        default: return RouteDistinguisher::Type0(static_cast<uint16_t>(v.admin), n);
    }
}

Encoded EncodeAnnouncements(const GenParams& p, BenchFamily f, size_t count,
                            const SessionContext& ctx) {
    Encoded out;
    if (count == 0) return out;
    const NextHop nh{NextHopFor(p, f), {}};
    for (const Group& g : GroupRoutes(p, f, count)) {
        const size_t n = NlriCount(g.nlri);
        PackResult r = PackAnnouncements(AttributesFor(p, f, g.rt, g.set), WireFamily(f), nh,
                                         g.nlri, ctx, out.bytes);
        Check(r, n, f);
        out.messages += r.messages;
        out.nlri += r.nlri;
    }
    return out;
}

Encoded EncodeWithdrawals(const GenParams& p, BenchFamily f, size_t count,
                          const SessionContext& ctx) {
    Encoded out;
    if (count == 0) return out;
    GenParams one = p;  // withdrawals carry no attributes: one group
    one.rts = 1;
    one.attr_sets = 1;
    for (const Group& g : GroupRoutes(one, f, count)) {
        const size_t n = NlriCount(g.nlri);
        PackResult r = PackWithdrawals(WireFamily(f), g.nlri, ctx, out.bytes);
        Check(r, n, f);
        out.messages += r.messages;
        out.nlri += r.nlri;
    }
    return out;
}

Encoded EncodeRtcRoutes(const GenParams& p, const std::vector<uint32_t>& rt_numbers,
                        bool default_route, const IpAddress& next_hop, const SessionContext& ctx) {
    Encoded out;
    std::vector<RtcNlri> v;
    if (default_route) {
        v.push_back(RtcNlri{});
    } else {
        v.reserve(rt_numbers.size());
        for (uint32_t rt : rt_numbers) {
            RtcNlri n;
            n.length = 96;
            n.origin_as = p.local_as;
            n.route_target = RouteTargetCommunity(p, rt);
            v.push_back(n);
        }
    }
    if (v.empty()) return out;
    const size_t n = v.size();
    PackResult r = PackAnnouncements(BaseAttributes(p), Family::kIpv4Rtc, NextHop{next_hop, {}},
                                     NlriList(std::move(v)), ctx, out.bytes);
    Check(r, n, BenchFamily::kRtc);
    out.messages = r.messages;
    out.nlri = r.nlri;
    return out;
}

// ---------------------------------------------------------------------------

RouteMatcher::RouteMatcher(const GenParams& p, const std::vector<FamilyPlan>& plan)
    : p_(p), rd_(MakeRd(p.rd_base)) {
    for (const FamilyPlan& f : plan) count_[static_cast<size_t>(f.family)] += f.count;
}

namespace {
std::optional<uint32_t> V4HostIndex(const Prefix& pr, size_t count) {
    if (!pr.address.is_v4() || pr.length != 32) return std::nullopt;
    const uint32_t i = pr.address.v4() - kPrefixBase;
    if (pr.address.v4() < kPrefixBase || i >= count) return std::nullopt;
    return i;
}
// The number of a type 0/1/2 RD with the admin of `base`, or nullopt.
std::optional<uint32_t> RdNumber(const RouteDistinguisher& rd, const AdminValue& base) {
    const auto& b = rd.bytes;
    const uint16_t type = rd.type();
    if (type != (base.kind == 0 ? 0 : base.kind == 1 ? 1 : 2)) return std::nullopt;
    if (type == 0) {
        const uint32_t admin = (uint32_t{b[2]} << 8) | b[3];
        if (admin != base.admin) return std::nullopt;
        return (uint32_t{b[4]} << 24) | (uint32_t{b[5]} << 16) | (uint32_t{b[6]} << 8) | b[7];
    }
    const uint32_t admin =
        (uint32_t{b[2]} << 24) | (uint32_t{b[3]} << 16) | (uint32_t{b[4]} << 8) | b[5];
    if (admin != base.admin) return std::nullopt;
    return (uint32_t{b[6]} << 8) | b[7];
}
}  // namespace

std::optional<uint32_t> RouteMatcher::Match(const InetNlri& n, BenchFamily& f) const {
    f = BenchFamily::kIpv4;
    return V4HostIndex(n.prefix, count(f));
}

std::optional<uint32_t> RouteMatcher::Match(const VpnNlri& n, Family wire, BenchFamily& f) const {
    if (!(n.rd == rd_)) return std::nullopt;
    if (wire == Family::kIpv4Vpn) {
        f = BenchFamily::kVpnv4;
        return V4HostIndex(n.prefix, count(f));
    }
    f = BenchFamily::kVpnv6;
    const Prefix& pr = n.prefix;
    if (!pr.address.is_v6() || pr.length != 64) return std::nullopt;
    const auto& b = pr.address.bytes;
    if (b[0] != 0x20 || b[1] != 0x01 || b[2] != 0x0d || b[3] != 0xb8) return std::nullopt;
    const uint32_t i = (uint32_t{b[4]} << 24) | (uint32_t{b[5]} << 16) | (uint32_t{b[6]} << 8) | b[7];
    if (i >= count(f)) return std::nullopt;
    return i;
}

std::optional<uint32_t> RouteMatcher::Match(const EvpnNlri& n, BenchFamily& f) const {
    if (n.ethernet_tag != 0) return std::nullopt;
    switch (n.route_type) {
        case 2: {
            f = BenchFamily::kEvpnMac;
            if (!(n.rd == rd_) || n.mac_length != 48 || n.mac.bytes[0] != 0x02 ||
                n.mac.bytes[1] != 0x00)
                return std::nullopt;
            const auto& m = n.mac.bytes;
            const uint32_t i =
                (uint32_t{m[2]} << 24) | (uint32_t{m[3]} << 16) | (uint32_t{m[4]} << 8) | m[5];
            if (i >= count(f) || !n.ip.is_v4() || n.ip.v4() != kPrefixBase + i) return std::nullopt;
            return i;
        }
        case 3: {
            f = BenchFamily::kEvpnImet;
            if (!(n.originating_ip == p_.next_hop)) return std::nullopt;
            auto num = RdNumber(n.rd, p_.rd_base);
            if (!num || *num < p_.rd_base.number) return std::nullopt;
            const uint32_t i = *num - p_.rd_base.number;
            if (i >= count(f)) return std::nullopt;
            return i;
        }
        case 5:
            f = BenchFamily::kEvpnPrefix;
            if (!(n.rd == rd_)) return std::nullopt;
            return V4HostIndex(n.prefix, count(f));
        default: return std::nullopt;
    }
}

std::optional<uint32_t> RouteMatcher::Match(const RtcNlri& n, BenchFamily& f) const {
    f = BenchFamily::kRtc;
    if (n.length != 96 || n.origin_as != p_.local_as) return std::nullopt;
    const ExtCommunity want = RouteTargetCommunity(p_, 0);
    const auto& b = n.route_target.bytes;
    if (b[0] != want.bytes[0] || b[1] != want.bytes[1]) return std::nullopt;
    uint32_t admin, number;
    if (b[0] == ecomm::kTransAs2) {
        admin = (uint32_t{b[2]} << 8) | b[3];
        number = (uint32_t{b[4]} << 24) | (uint32_t{b[5]} << 16) | (uint32_t{b[6]} << 8) | b[7];
    } else {
        admin = (uint32_t{b[2]} << 24) | (uint32_t{b[3]} << 16) | (uint32_t{b[4]} << 8) | b[5];
        number = (uint32_t{b[6]} << 8) | b[7];
    }
    if (admin != p_.local_as || number < RtcRouteBase(p_)) return std::nullopt;
    const uint32_t i = number - RtcRouteBase(p_);
    if (i >= count(f)) return std::nullopt;
    return i;
}

}  // namespace bagpipe::bench
