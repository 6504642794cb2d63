// A corpus of BGP messages built with BaGPipe's own encoders: every family,
// every extended community kind BaGPipe speaks, OPEN with every capability,
// NOTIFICATION with an RFC 9003 shutdown communication, ROUTE-REFRESH
// (normal, BoRR, EoRR), End-of-RIB markers. Shared by the JSON shape tests and
// the tshark cross-check.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "bgp/wire/attributes.h"
#include "bgp/wire/message.h"
#include "bgp/wire/nlri.h"
#include "bgp/wire/update_packer.h"

namespace bagpipe::bgp::json_test {

struct Sample {
    std::string name;
    Bytes bytes;  // one whole message
    // False for messages tshark 4.0 is known to mis-dissect (see the comment
    // where they are built); the JSON tests still use them.
    bool tshark = true;
};

inline IpAddress Ip(std::string_view text) {
    auto a = IpAddress::Parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddress{});
}

inline Prefix Pfx(std::string_view text) {
    auto p = Prefix::Parse(text);
    EXPECT_TRUE(p.has_value()) << text;
    return p.value_or(Prefix{});
}

inline RouteDistinguisher Rd(std::string_view text) {
    auto rd = RouteDistinguisher::Parse(text);
    EXPECT_TRUE(rd.has_value()) << text;
    return rd.value_or(RouteDistinguisher{});
}

inline MacAddress Mac(std::string_view text) {
    auto m = MacAddress::Parse(text);
    EXPECT_TRUE(m.has_value()) << text;
    return m.value_or(MacAddress{});
}

inline Esi EsiOf(std::string_view text) {
    auto e = Esi::Parse(text);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(Esi{});
}

// iBGP-style base attributes: ORIGIN igp, empty AS_PATH, LOCAL_PREF 100.
inline PathAttributes BaseAttributes() {
    PathAttributes a;
    a.origin = Origin::kIgp;
    a.set(attr::kOrigin);
    a.set(attr::kAsPath);
    a.local_pref = 100;
    a.set(attr::kLocalPref);
    return a;
}

inline void AddExt(PathAttributes& a, std::vector<ExtCommunity> comms) {
    a.ext_communities = std::move(comms);
    a.set(attr::kExtCommunities);
}

// Splits back-to-back messages.
inline std::vector<Bytes> SplitMessages(const Bytes& stream) {
    std::vector<Bytes> out;
    size_t pos = 0;
    while (pos + kHeaderSize <= stream.size()) {
        size_t len = size_t{stream[pos + 16]} << 8 | stream[pos + 17];
        if (len < kHeaderSize || pos + len > stream.size()) break;
        out.emplace_back(stream.begin() + static_cast<ptrdiff_t>(pos),
                         stream.begin() + static_cast<ptrdiff_t>(pos + len));
        pos += len;
    }
    EXPECT_EQ(pos, stream.size()) << "trailing bytes after the last message";
    return out;
}

// Packs `nlri` with PackAnnouncements and expects exactly one message.
inline Bytes Announce(const PathAttributes& attrs, Family f, const NextHop& nh,
                      const NlriList& nlri, const SessionContext& ctx = {}) {
    Bytes out;
    PackResult r = PackAnnouncements(attrs, f, nh, nlri, ctx, out);
    EXPECT_EQ(r.messages, 1u) << FamilyName(f);
    EXPECT_EQ(r.oversized, 0u) << FamilyName(f);
    return out;
}

inline Bytes Withdraw(Family f, const NlriList& nlri, const SessionContext& ctx = {}) {
    Bytes out;
    PackResult r = PackWithdrawals(f, nlri, ctx, out);
    EXPECT_EQ(r.messages, 1u) << FamilyName(f);
    return out;
}

inline NextHop Nh(std::string_view global, std::string_view link_local = {}) {
    NextHop nh;
    nh.global = Ip(global);
    if (!link_local.empty()) nh.link_local = Ip(link_local);
    return nh;
}

inline OpenMessage FullOpen() {
    OpenMessage m;
    m.my_as = kAsTrans;
    m.hold_time = 180;
    m.bgp_id = Ip("192.0.2.1").v4();
    for (Family f : {Family::kIpv4Unicast, Family::kIpv6Unicast, Family::kIpv4Labeled,
                     Family::kIpv6Labeled, Family::kIpv4Vpn, Family::kIpv6Vpn,
                     Family::kL2vpnEvpn, Family::kIpv4Rtc, Family::kIpv4FlowspecVpn}) {
        AfiSafi as = ToAfiSafi(f);
        m.capabilities.push_back(MultiprotocolCap{as.afi, as.safi});
    }
    m.capabilities.push_back(RouteRefreshCap{});
    m.capabilities.push_back(EnhancedRouteRefreshCap{});
    m.capabilities.push_back(ExtendedMessageCap{});
    m.capabilities.push_back(FourOctetAsCap{4200000001u});
    AddPathCap ap;
    ap.entries.push_back({kAfiIpv4, kSafiUnicast, AddPathCap::kReceive | AddPathCap::kSend});
    ap.entries.push_back({kAfiL2vpn, kSafiEvpn, AddPathCap::kReceive});
    ap.entries.push_back({kAfiIpv4, kSafiVpn, AddPathCap::kSend});
    m.capabilities.push_back(ap);
    GracefulRestartCap gr;
    gr.flags = 0x8;
    gr.restart_time = 120;
    gr.entries.push_back({kAfiIpv4, kSafiVpn, 0x80});
    gr.entries.push_back({kAfiL2vpn, kSafiEvpn, 0x00});
    m.capabilities.push_back(gr);
    // Extended next hop (RFC 8950): IPv4 unicast over IPv6.
    m.capabilities.push_back(UnknownCap{cap::kExtendedNextHop, {0, 1, 0, 1, 0, 2}});
    // Long-lived graceful restart: IPv4 VPN, flags 0x80, stale time 3600.
    m.capabilities.push_back(UnknownCap{cap::kLongLivedGr, {0, 1, 128, 0x80, 0, 0x0e, 0x10}});
    // FQDN: "bagpipe" / "example.net".
    Bytes fqdn{7, 'b', 'a', 'g', 'p', 'i', 'p', 'e', 11};
    for (char c : std::string_view("example.net")) fqdn.push_back(static_cast<uint8_t>(c));
    m.capabilities.push_back(UnknownCap{cap::kFqdn, fqdn});
    m.capabilities.push_back(UnknownCap{cap::kRouteRefreshCisco, {}});
    return m;
}

inline std::vector<Sample> SampleMessages() {
    std::vector<Sample> s;
    auto add = [&](std::string name, Bytes b, bool tshark = true) {
        EXPECT_FALSE(b.empty()) << name;
        s.push_back({std::move(name), std::move(b), tshark});
    };

    add("open", EncodeOpen(FullOpen()));
    add("keepalive", EncodeKeepalive());

    // IPv4 unicast with every classic attribute.
    {
        UpdateMessage m;
        m.withdrawn.push_back({0, Pfx("192.0.2.0/24")});
        m.withdrawn.push_back({0, Pfx("198.51.100.128/25")});
        m.nlri.push_back({0, Pfx("10.1.0.0/16")});
        m.nlri.push_back({0, Pfx("10.2.3.0/24")});
        m.nlri.push_back({0, Pfx("0.0.0.0/0")});
        PathAttributes& a = m.attributes;
        a.origin = Origin::kEgp;
        a.set(attr::kOrigin);
        a.as_path.segments.push_back({AsPathSegment::kSequence, {65001, 4200000000u, 65002}});
        a.as_path.segments.push_back({AsPathSegment::kSet, {65010, 65011}});
        a.set(attr::kAsPath);
        a.next_hop = Ip("192.0.2.1");
        a.set(attr::kNextHop);
        a.med = 50;
        a.set(attr::kMed);
        a.local_pref = 200;
        a.set(attr::kLocalPref);
        a.set(attr::kAtomicAggregate);
        a.aggregator = {65001, Ip("192.0.2.9")};
        a.set(attr::kAggregator);
        a.communities = {65000u << 16 | 1, 65000u << 16 | 2, 0xffffff01u};
        a.set(attr::kCommunities);
        a.originator_id = Ip("192.0.2.5");
        a.set(attr::kOriginatorId);
        a.cluster_list = {Ip("192.0.2.6").v4(), Ip("192.0.2.7").v4()};
        a.set(attr::kClusterList);
        AddExt(a, {ExtCommunity::RouteTarget(0, 64512, 1),
                   ExtCommunity::RouteTarget(1, Ip("192.0.2.1").v4(), 7),
                   ExtCommunity::RouteTarget(2, 4200000000u, 7),
                   ExtCommunity::RouteOrigin(0, 65000, 3),
                   ExtCommunity::RouteOrigin(1, Ip("192.0.2.2").v4(), 4)});
        a.large_communities = {{65000, 1, 2}, {4200000000u, 3, 4}};
        a.set(attr::kLargeCommunities);
        // Code 200 is unassigned (tshark 4.0 dissects 99 as an unofficial LINK_STATE).
        a.unknown.push_back({attr::kOptional | attr::kTransitive, 200, {1, 2, 3, 4}});
        add("ipv4-unicast", EncodeUpdate(m, SessionContext{}));
    }

    // IPv6 unicast, next hop global + link-local.
    add("ipv6-unicast",
        Announce(BaseAttributes(), Family::kIpv6Unicast, Nh("2001:db8::1", "fe80::1"),
                 std::vector<InetNlri>{{0, Pfx("2001:db8:1::/48")}, {0, Pfx("2001:db8:2::/64")}}));

    // Labeled unicast: one label, then a two-label stack.
    {
        LabeledNlri one{0, LabelStack::One(MplsLabelField(100)), Pfx("10.3.0.0/16")};
        LabeledNlri two{0, {}, Pfx("10.3.1.0/24")};
        two.labels.Push(MplsLabelField(200, false));
        two.labels.Push(MplsLabelField(300));
        add("ipv4-labeled", Announce(BaseAttributes(), Family::kIpv4Labeled, Nh("192.0.2.3"),
                                     std::vector<LabeledNlri>{one, two}));
        add("ipv6-labeled",
            Announce(BaseAttributes(), Family::kIpv6Labeled, Nh("2001:db8::3"),
                     std::vector<LabeledNlri>{
                         {0, LabelStack::One(MplsLabelField(400)), Pfx("2001:db8:3::/48")}}));
    }

    // VPNv4 with the three RD types; RT + MPLS encapsulation.
    {
        PathAttributes a = BaseAttributes();
        AddExt(a, {ExtCommunity::RouteTarget(0, 64512, 512),
                   ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kMpls))});
        add("ipv4-vpn",
            Announce(a, Family::kIpv4Vpn, Nh("192.0.2.4"),
                     std::vector<VpnNlri>{
                         {0, LabelStack::One(MplsLabelField(1000)), Rd("64512:1"),
                          Pfx("10.4.0.0/24")},
                         {0, LabelStack::One(MplsLabelField(1001)), Rd("192.0.2.1:5"),
                          Pfx("10.4.1.1/32")},
                         {0, LabelStack::One(MplsLabelField(1002)), Rd("4200000000:6"),
                          Pfx("10.4.2.0/23")}}));
        PathAttributes a6 = BaseAttributes();
        AddExt(a6, {ExtCommunity::RouteTarget(1, Ip("192.0.2.1").v4(), 9),
                    ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kMplsOverGre)),
                    ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kMplsOverUdp)),
                    ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kGre))});
        add("ipv6-vpn", Announce(a6, Family::kIpv6Vpn, Nh("2001:db8::4"),
                                 std::vector<VpnNlri>{{0, LabelStack::One(MplsLabelField(2000)),
                                                       Rd("64512:2"), Pfx("2001:db8:4::/64")}}));
    }

    // EVPN, one message per route type.
    {
        const Esi esi = EsiOf("00:11:22:33:44:55:66:77:88:99");
        const uint32_t vni = 5010;

        EvpnNlri ad;
        ad.route_type = 1;
        ad.rd = Rd("192.0.2.1:1");
        ad.esi = esi;
        ad.ethernet_tag = 0xffffffff;
        ad.labels = LabelStack::One(MplsLabelField(5000));
        PathAttributes a1 = BaseAttributes();
        AddExt(a1, {ExtCommunity::RouteTarget(0, 64512, 10),
                    ExtCommunity::EsiLabel(MplsLabelField(5001), true)});
        add("evpn-1", Announce(a1, Family::kL2vpnEvpn, Nh("192.0.2.1"),
                               std::vector<EvpnNlri>{ad}));

        EvpnNlri mac_ip;
        mac_ip.route_type = 2;
        mac_ip.rd = Rd("192.0.2.1:2");
        mac_ip.ethernet_tag = 0;
        mac_ip.mac_length = 48;
        mac_ip.mac = Mac("52:54:00:aa:bb:01");
        mac_ip.ip = Ip("10.0.1.1");
        mac_ip.labels = LabelStack::One(vni);
        EvpnNlri mac_ip6 = mac_ip;
        mac_ip6.esi = esi;
        mac_ip6.ethernet_tag = 7;
        mac_ip6.mac = Mac("52:54:00:aa:bb:02");
        mac_ip6.ip = Ip("2001:db8::10");
        mac_ip6.labels.Push(5011);
        EvpnNlri mac_only = mac_ip;
        mac_only.mac = Mac("52:54:00:aa:bb:03");
        mac_only.ip = IpAddress{};
        PathAttributes a2 = BaseAttributes();
        AddExt(a2, {ExtCommunity::RouteTarget(0, 64512, 513),
                    ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kVxlan)),
                    ExtCommunity::MacMobility(3, true), ExtCommunity::DefaultGateway(),
                    ExtCommunity::RoutersMac(Mac("52:54:00:12:34:56"))});
        add("evpn-2", Announce(a2, Family::kL2vpnEvpn, Nh("192.0.2.1"),
                               std::vector<EvpnNlri>{mac_ip, mac_ip6, mac_only}));

        EvpnNlri imet;
        imet.route_type = 3;
        imet.rd = Rd("192.0.2.1:3");
        imet.ethernet_tag = 0;
        imet.originating_ip = Ip("192.0.2.1");
        PathAttributes a3 = BaseAttributes();
        AddExt(a3, {ExtCommunity::RouteTarget(0, 64512, 513),
                    ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kVxlan)),
                    ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kNvgre)),
                    ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kVxlanGpe)),
                    ExtCommunity::MacMobility(1, false)});
        a3.pmsi_tunnel.flags = 0;
        a3.pmsi_tunnel.tunnel_type = PmsiTunnel::kIngressReplication;
        a3.pmsi_tunnel.label = vni;
        a3.pmsi_tunnel.tunnel_id = {192, 0, 2, 1};
        a3.set(attr::kPmsiTunnel);
        add("evpn-3", Announce(a3, Family::kL2vpnEvpn, Nh("192.0.2.1"),
                               std::vector<EvpnNlri>{imet}));

        EvpnNlri es;
        es.route_type = 4;
        es.rd = Rd("192.0.2.1:4");
        es.esi = esi;
        es.originating_ip = Ip("192.0.2.1");
        PathAttributes a4 = BaseAttributes();
        AddExt(a4, {ExtCommunity::EsImport(Mac("00:11:22:33:44:55"))});
        add("evpn-4", Announce(a4, Family::kL2vpnEvpn, Nh("192.0.2.1"),
                               std::vector<EvpnNlri>{es}));

        EvpnNlri ipp;
        ipp.route_type = 5;
        ipp.rd = Rd("192.0.2.1:5");
        ipp.ethernet_tag = 0;
        ipp.prefix = Pfx("10.5.0.0/24");
        ipp.gateway_ip = Ip("0.0.0.0");
        ipp.labels = LabelStack::One(5020);
        EvpnNlri ipp6 = ipp;
        ipp6.prefix = Pfx("2001:db8:5::/64");
        ipp6.gateway_ip = Ip("2001:db8::5");
        PathAttributes a5 = BaseAttributes();
        AddExt(a5, {ExtCommunity::RouteTarget(0, 64512, 514),
                    ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kVxlan)),
                    ExtCommunity::RoutersMac(Mac("52:54:00:12:34:57"))});
        add("evpn-5", Announce(a5, Family::kL2vpnEvpn, Nh("192.0.2.1"),
                               std::vector<EvpnNlri>{ipp, ipp6}));
    }

    // RTC: full route targets (2-octet AS and IPv4 forms), a default route,
    // then a 32-bit RT prefix on its own: tshark 4.0 reads 8 RT octets whatever
    // the prefix length (packet-bgp.c, SAFNUM_ROUTE_TARGET) and throws on it.
    {
        RtcNlri full{0, 96, 64512, ExtCommunity::RouteTarget(0, 64512, 512)};
        RtcNlri full_ip{0, 96, 4200000000u, ExtCommunity::RouteTarget(1, Ip("192.0.2.1").v4(), 7)};
        RtcNlri dflt{};
        add("ipv4-rtc", Announce(BaseAttributes(), Family::kIpv4Rtc, Nh("192.0.2.1"),
                                 std::vector<RtcNlri>{full, full_ip, dflt}));
        RtcNlri part{0, 64, 64512, {}};
        part.route_target.bytes = {0x00, 0x02, 0xfc, 0x00, 0, 0, 0, 0};
        add("ipv4-rtc-partial",
            Announce(BaseAttributes(), Family::kIpv4Rtc, Nh("192.0.2.1"),
                     std::vector<RtcNlri>{part}),
            false);
        add("ipv4-rtc-withdraw",
            Withdraw(Family::kIpv4Rtc, std::vector<RtcNlri>{full, dflt}));
    }

    // ATTR_SET (RFC 6368) with nested attributes, on an IPv4 unicast route.
    {
        PathAttributes nested;
        nested.origin = Origin::kIncomplete;
        nested.set(attr::kOrigin);
        nested.as_path.segments.push_back({AsPathSegment::kSequence, {65100}});
        nested.set(attr::kAsPath);
        nested.local_pref = 300;
        nested.set(attr::kLocalPref);
        nested.communities = {65100u << 16 | 7};
        nested.set(attr::kCommunities);
        UpdateMessage m;
        m.nlri.push_back({0, Pfx("10.6.0.0/16")});
        m.attributes = BaseAttributes();
        m.attributes.next_hop = Ip("192.0.2.1");
        m.attributes.set(attr::kNextHop);
        m.attributes.attr_set.origin_as = 65100;
        Writer w(m.attributes.attr_set.attributes);
        EncodePathAttributes(nested, SessionContext{}, w);
        m.attributes.set(attr::kAttrSet);
        add("attr-set", EncodeUpdate(m, SessionContext{}));
    }

    // FlowSpec-VPN, opaque: RD 64512:9 + destination 10.0.0.0/8; redirect to VRF.
    {
        OpaqueNlri fs;
        fs.raw = {0, 0, 0xfc, 0, 0, 0, 0, 9, 0x01, 0x08, 0x0a};
        PathAttributes a = BaseAttributes();
        AddExt(a, {ExtCommunity::RouteTarget(0, 64512, 9),
                   ExtCommunity::RedirectToVrf(0, 64512, 99)});
        NextHop none;
        add("ipv4-flowspec-vpn",
            Announce(a, Family::kIpv4FlowspecVpn, none, std::vector<OpaqueNlri>{fs}));
    }

    // Withdrawals and End-of-RIB.
    add("ipv4-vpn-withdraw",
        Withdraw(Family::kIpv4Vpn,
                 std::vector<VpnNlri>{{0, LabelStack::One(kWithdrawLabelRaw), Rd("64512:1"),
                                       Pfx("10.4.0.0/24")}}));
    {
        EvpnNlri mac_ip;
        mac_ip.route_type = 2;
        mac_ip.rd = Rd("192.0.2.1:2");
        mac_ip.mac_length = 48;
        mac_ip.mac = Mac("52:54:00:aa:bb:01");
        mac_ip.ip = Ip("10.0.1.1");
        mac_ip.labels = LabelStack::One(5010);
        add("evpn-withdraw", Withdraw(Family::kL2vpnEvpn, std::vector<EvpnNlri>{mac_ip}));
    }
    add("eor-ipv4-unicast", EncodeEndOfRib(Family::kIpv4Unicast));
    add("eor-l2vpn-evpn", EncodeEndOfRib(Family::kL2vpnEvpn));

    // NOTIFICATION with an RFC 9003 shutdown communication, and an UPDATE error.
    {
        NotificationMessage n;
        n.code = notif::kCease;
        n.subcode = notif::kAdministrativeShutdown;
        n.shutdown_communication = "maintenance window, back at 10:00";
        add("notification-shutdown", EncodeNotification(n));
        NotificationMessage u;
        u.code = notif::kUpdateMessageError;
        u.subcode = notif::kMalformedAsPath;
        u.data = {0x40, 0x02, 0x01, 0x05};
        add("notification-update-error", EncodeNotification(u));
    }

    // ROUTE-REFRESH: normal, BoRR, EoRR.
    add("route-refresh", EncodeRouteRefresh({kAfiIpv4, RouteRefreshMessage::kNormal, kSafiVpn}));
    add("route-refresh-borr",
        EncodeRouteRefresh({kAfiL2vpn, RouteRefreshMessage::kBeginOfRib, kSafiEvpn}));
    add("route-refresh-eorr",
        EncodeRouteRefresh({kAfiL2vpn, RouteRefreshMessage::kEndOfRib, kSafiEvpn}));
    return s;
}

}  // namespace bagpipe::bgp::json_test
