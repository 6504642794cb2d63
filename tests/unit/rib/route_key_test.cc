// Route keys for every family and EVPN route type: what is part of the key
// (RFC 7432 §7 / RFC 9136 fields, the path id) and what is not (labels, the
// type-2/type-5 ESI, the type-5 gateway), round trips back to NLRI, widths,
// text, and family checks.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <unordered_set>

#include "bgp/rib/route_key.h"
#include "rib_test_util.h"

namespace bagpipe::bgp {
namespace {

using rib_test::Vpnv4;

Esi MakeEsi(uint8_t last) {
    Esi e;
    e.bytes[0] = 0;
    e.bytes[9] = last;
    return e;
}

EvpnNlri MacIp(uint32_t etag, uint8_t mac_last, std::optional<IpAddress> ip = std::nullopt) {
    EvpnNlri n;
    n.route_type = 2;
    n.rd = RouteDistinguisher::Type1(0xc0000201, 7);
    n.ethernet_tag = etag;
    n.mac_length = 48;
    n.mac.bytes = {0x52, 0x54, 0, 0, 0, mac_last};
    if (ip) n.ip = *ip;
    n.labels = LabelStack::One(5001);
    return n;
}

template <class T>
void ExpectRoundTrip(const RouteKey& key, const T& n) {
    EXPECT_EQ(ToNlri<T>(key, PayloadOf(n)), n) << key.ToString();
}

TEST(RouteKeyTest, Vpnv4KeyIgnoresLabels) {
    VpnNlri a = Vpnv4(1, 0x0a000000, 24, 100);
    VpnNlri b = Vpnv4(1, 0x0a000000, 24, 200);
    b.labels.Push(MplsLabelField(300));
    EXPECT_EQ(KeyOf(a), KeyOf(b));
    EXPECT_EQ(KeyOf(a).Hash(), KeyOf(b).Hash());
    EXPECT_EQ(KeyOf(a).family(), Family::kIpv4Vpn);
    EXPECT_EQ(KeyOf(a).size(), 13u);
    EXPECT_NE(KeyOf(a), KeyOf(Vpnv4(2, 0x0a000000, 24)));           // RD
    EXPECT_NE(KeyOf(a), KeyOf(Vpnv4(1, 0x0a000000, 25)));           // length
    EXPECT_NE(KeyOf(a), KeyOf(Vpnv4(1, 0x0b000000, 24)));           // address
    EXPECT_NE(KeyOf(a), KeyOf(Vpnv4(1, 0x0a000000, 24, 100, 7)));  // path id
    EXPECT_EQ(KeyOf(Vpnv4(1, 0x0a000000, 24, 100, 7)).path_id(), 7u);
    EXPECT_EQ(KeyOf(Vpnv4(1, 0x0a000000, 24, 100, 7)).WithPathId(0), KeyOf(a));
    ExpectRoundTrip(KeyOf(b), b);
    EXPECT_EQ(KeyOf(a).ToString(), "ipv4-vpn 64512:1:10.0.0.0/24");
    EXPECT_EQ(KeyOf(Vpnv4(1, 0x0a000000, 24, 100, 7)).ToString(),
              "ipv4-vpn 64512:1:10.0.0.0/24 path-id 7");
}

TEST(RouteKeyTest, Vpnv6) {
    VpnNlri n;
    n.labels = LabelStack::One(MplsLabelField(16));
    n.rd = RouteDistinguisher::Type2(4200000000u, 3);
    n.prefix = *Prefix::Parse("2001:db8:1::/48");
    RouteKey k = KeyOf(n);
    EXPECT_EQ(k.family(), Family::kIpv6Vpn);
    EXPECT_EQ(k.size(), 25u);
    ExpectRoundTrip(k, n);
    VpnNlri other = n;
    other.labels = LabelStack::One(MplsLabelField(17));
    EXPECT_EQ(KeyOf(other), k);
    other.prefix = *Prefix::Parse("2001:db8:2::/48");
    EXPECT_NE(KeyOf(other), k);
}

TEST(RouteKeyTest, UnicastAndLabeled) {
    InetNlri v4{0, *Prefix::Parse("192.0.2.0/24")};
    InetNlri v6{3, *Prefix::Parse("2001:db8::/32")};
    EXPECT_EQ(KeyOf(v4).family(), Family::kIpv4Unicast);
    EXPECT_EQ(KeyOf(v4).size(), 5u);
    EXPECT_EQ(KeyOf(v6).family(), Family::kIpv6Unicast);
    EXPECT_EQ(KeyOf(v6).size(), 17u);
    ExpectRoundTrip(KeyOf(v4), v4);
    ExpectRoundTrip(KeyOf(v6), v6);
    EXPECT_EQ(KeyOf(v4).ToString(), "ipv4-unicast 192.0.2.0/24");

    LabeledNlri l{0, LabelStack::One(MplsLabelField(20)), *Prefix::Parse("192.0.2.0/24")};
    LabeledNlri l2 = l;
    l2.labels = LabelStack::One(MplsLabelField(21));
    EXPECT_EQ(KeyOf(l).family(), Family::kIpv4Labeled);
    EXPECT_EQ(KeyOf(l), KeyOf(l2));
    ExpectRoundTrip(KeyOf(l2), l2);
    // Same octets, different family: different keys.
    EXPECT_NE(KeyOf(l), KeyOf(v4));
}

TEST(RouteKeyTest, Rtc) {
    RtcNlri def;
    RtcNlri exact{0, 96, 64512, ExtCommunity::RouteTarget(0, 64512, 1)};
    RtcNlri other_as = exact;
    other_as.origin_as = 64513;
    RtcNlri partial{0, 64, 64512, {}};
    partial.route_target.bytes = {0x00, 0x02, 0xfc, 0x00, 0, 0, 0, 0};
    for (const RtcNlri* n : {&def, &exact, &other_as, &partial}) {
        EXPECT_EQ(KeyOf(*n).family(), Family::kIpv4Rtc);
        ExpectRoundTrip(KeyOf(*n), *n);
    }
    EXPECT_NE(KeyOf(exact), KeyOf(other_as));
    EXPECT_NE(KeyOf(exact), KeyOf(partial));
    EXPECT_NE(KeyOf(def), KeyOf(partial));
    EXPECT_EQ(KeyOf(def).ToString(), "ipv4-rtc default");
    EXPECT_EQ(KeyOf(exact).ToString(), "ipv4-rtc 64512:64512:1/96");
}

TEST(RouteKeyTest, EvpnType1KeyIsRdEsiTag) {
    EvpnNlri n;
    n.route_type = 1;
    n.rd = RouteDistinguisher::Type1(0xc0000201, 1);
    n.esi = MakeEsi(1);
    n.ethernet_tag = 0xffffffff;
    n.labels = LabelStack::One(0);
    EvpnNlri relabeled = n;
    relabeled.labels = LabelStack::One(MplsLabelField(99));
    EXPECT_EQ(*KeyOf(n), *KeyOf(relabeled));
    EvpnNlri other_esi = n;
    other_esi.esi = MakeEsi(2);
    EXPECT_NE(*KeyOf(n), *KeyOf(other_esi));
    EvpnNlri other_tag = n;
    other_tag.ethernet_tag = 0;
    EXPECT_NE(*KeyOf(n), *KeyOf(other_tag));
    ExpectRoundTrip(*KeyOf(relabeled), relabeled);
}

TEST(RouteKeyTest, EvpnType2KeyIgnoresEsiAndLabels) {
    EvpnNlri a = MacIp(0, 1, IpAddress::V4(0x0a000001));
    EvpnNlri b = a;
    b.esi = MakeEsi(9);
    b.labels = LabelStack::One(6001);
    b.labels.Push(7001);
    EXPECT_EQ(*KeyOf(a), *KeyOf(b));
    EXPECT_NE(*KeyOf(a), *KeyOf(MacIp(0, 2, IpAddress::V4(0x0a000001))));  // MAC
    EXPECT_NE(*KeyOf(a), *KeyOf(MacIp(0, 1, IpAddress::V4(0x0a000002))));  // IP
    EXPECT_NE(*KeyOf(a), *KeyOf(MacIp(0, 1)));                              // no IP
    EXPECT_NE(*KeyOf(a), *KeyOf(MacIp(5, 1, IpAddress::V4(0x0a000001))));  // tag
    EXPECT_NE(*KeyOf(MacIp(0, 1)), *KeyOf(MacIp(0, 1, *IpAddress::Parse("::"))));
    ExpectRoundTrip(*KeyOf(b), b);
    ExpectRoundTrip(*KeyOf(MacIp(0, 1)), MacIp(0, 1));
    ExpectRoundTrip(*KeyOf(MacIp(0, 1, *IpAddress::Parse("2001:db8::1"))),
                    MacIp(0, 1, *IpAddress::Parse("2001:db8::1")));
    EXPECT_EQ(KeyOf(a)->ToString(),
              "l2vpn-evpn [2][192.0.2.1:7][0][48][52:54:00:00:00:01][10.0.0.1]");
}

TEST(RouteKeyTest, EvpnType3KeyIsRdTagOriginatingIp) {
    EvpnNlri n;
    n.route_type = 3;
    n.rd = RouteDistinguisher::Type0(64512, 3);
    n.ethernet_tag = 10;
    n.originating_ip = IpAddress::V4(0xc0000201);
    EvpnNlri m = n;
    m.originating_ip = IpAddress::V4(0xc0000202);
    EXPECT_NE(*KeyOf(n), *KeyOf(m));
    ExpectRoundTrip(*KeyOf(n), n);
    n.originating_ip = *IpAddress::Parse("2001:db8::1");
    ExpectRoundTrip(*KeyOf(n), n);
}

TEST(RouteKeyTest, EvpnType4KeyIsRdEsiOriginatingIp) {
    EvpnNlri n;
    n.route_type = 4;
    n.rd = RouteDistinguisher::Type0(64512, 4);
    n.esi = MakeEsi(3);
    n.originating_ip = IpAddress::V4(0xc0000201);
    EvpnNlri m = n;
    m.esi = MakeEsi(4);
    EXPECT_NE(*KeyOf(n), *KeyOf(m));
    ExpectRoundTrip(*KeyOf(n), n);
    n.originating_ip = *IpAddress::Parse("2001:db8::ffff:1");
    ExpectRoundTrip(*KeyOf(n), n);  // the longest key: 36 octets
}

TEST(RouteKeyTest, EvpnType5KeyIgnoresEsiGatewayAndLabel) {
    EvpnNlri n;
    n.route_type = 5;
    n.rd = RouteDistinguisher::Type0(64512, 5);
    n.ethernet_tag = 0;
    n.prefix = *Prefix::Parse("10.1.0.0/16");
    n.gateway_ip = IpAddress::V4(uint32_t{0});
    n.labels = LabelStack::One(5005);
    EvpnNlri m = n;
    m.esi = MakeEsi(5);
    m.gateway_ip = IpAddress::V4(0x0a010001);
    m.labels = LabelStack::One(6006);
    EXPECT_EQ(*KeyOf(n), *KeyOf(m));
    EvpnNlri p = n;
    p.prefix = *Prefix::Parse("10.1.0.0/17");
    EXPECT_NE(*KeyOf(n), *KeyOf(p));
    ExpectRoundTrip(*KeyOf(n), n);
    ExpectRoundTrip(*KeyOf(m), m);
    // An empty payload gateway comes back as zero of the prefix's version.
    EXPECT_EQ(ToNlri<EvpnNlri>(*KeyOf(n), {n.labels, {}, {}}), n);
    EvpnNlri v6 = n;
    v6.prefix = *Prefix::Parse("2001:db8::/64");
    v6.gateway_ip = *IpAddress::Parse("::");
    ExpectRoundTrip(*KeyOf(v6), v6);
    EXPECT_EQ(ToNlri<EvpnNlri>(*KeyOf(v6), {v6.labels, {}, {}}), v6);
}

TEST(RouteKeyTest, EvpnUnknownTypeKeptRawWhenItFits) {
    EvpnNlri n;
    n.route_type = 9;
    n.raw = Bytes(35, 0xab);
    ASSERT_TRUE(KeyOf(n).has_value());
    ExpectRoundTrip(*KeyOf(n), n);
    n.raw.push_back(1);
    EXPECT_FALSE(KeyOf(n).has_value());
}

TEST(RouteKeyTest, FlowspecOpaqueWhenItFits) {
    OpaqueNlri n{0, Bytes{0x01, 0x18, 0x0a, 0x00, 0x00}};
    auto k = KeyOf(Family::kIpv4FlowspecVpn, n);
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(k->family(), Family::kIpv4FlowspecVpn);
    ExpectRoundTrip(*k, n);
    EXPECT_NE(*k, *KeyOf(Family::kIpv6FlowspecVpn, n));
    n.raw.resize(37);
    EXPECT_FALSE(KeyOf(Family::kIpv4FlowspecVpn, n).has_value());
    EXPECT_FALSE(KeyOf(Family::kIpv4Vpn, OpaqueNlri{}).has_value());
}

TEST(RouteKeyTest, EncodeRefusesOtherFamilies) {
    uint8_t buf[kRouteKeyCapacity] = {};
    VpnNlri v4 = Vpnv4(1, 0x0a000000, 24);
    EXPECT_TRUE(EncodeRouteKey(Family::kIpv4Vpn, v4, buf));
    EXPECT_FALSE(EncodeRouteKey(Family::kIpv6Vpn, v4, buf));
    EXPECT_FALSE(EncodeRouteKey(Family::kIpv4Unicast, InetNlri{0, *Prefix::Parse("::/0")}, buf));
    EXPECT_FALSE(EncodeRouteKey(Family::kIpv4Rtc, EvpnNlri{}, buf));
    EXPECT_EQ(RouteKeyWidth(Family::kUnknown), 0u);
}

TEST(RouteKeyTest, KeysOfAndAppendNlri) {
    NlriList list = std::vector<VpnNlri>{Vpnv4(1, 0x0a000000, 24), Vpnv4(2, 0x0a000000, 24),
                                         Vpnv4(3, 0x0a000000, 24)};
    std::vector<RouteKey> keys = KeysOf(Family::kIpv4Vpn, list);
    ASSERT_EQ(keys.size(), 3u);
    EXPECT_TRUE(KeysOf(Family::kIpv6Vpn, list).empty());
    NlriList out = std::vector<VpnNlri>{};
    for (const RouteKey& k : keys)
        EXPECT_TRUE(AppendNlri(k, {LabelStack::One(MplsLabelField(100)), {}, {}}, out));
    EXPECT_EQ(out, list);
    NlriList wrong = std::vector<EvpnNlri>{};
    EXPECT_FALSE(AppendNlri(keys[0], {}, wrong));
}

TEST(RouteKeyTest, UsableInStdHashSets) {
    std::unordered_set<RouteKey, RouteKeyHash> set;
    for (uint32_t i = 0; i < 1000; ++i) set.insert(KeyOf(Vpnv4(i % 10, 0x0a000000 + (i << 8), 24)));
    EXPECT_EQ(set.size(), 1000u);
    EXPECT_TRUE(set.contains(KeyOf(Vpnv4(3, 0x0a000000 + (3u << 8), 24, 555))));
}

RC_GTEST_PROP(RouteKeyTest, VpnRoundTripAndLabelIndependence, ()) {
    const uint8_t length = *rc::gen::inRange<uint8_t>(0, 33);
    uint32_t address = *rc::gen::arbitrary<uint32_t>();
    address &= length == 0 ? 0 : ~uint32_t{0} << (32 - length);
    VpnNlri n = Vpnv4(*rc::gen::arbitrary<uint32_t>(), address, length,
                      *rc::gen::inRange<uint32_t>(0, 1u << 20), *rc::gen::arbitrary<uint32_t>());
    RouteKey k = KeyOf(n);
    RC_ASSERT(ToNlri<VpnNlri>(k, PayloadOf(n)) == n);
    VpnNlri relabeled = n;
    relabeled.labels = LabelStack::One(*rc::gen::arbitrary<uint32_t>() & 0xffffff);
    RC_ASSERT(KeyOf(relabeled) == k);
    RC_ASSERT(KeyOf(relabeled).Hash() == k.Hash());
}

RC_GTEST_PROP(RouteKeyTest, EvpnMacIpRoundTrip, ()) {
    EvpnNlri n = MacIp(*rc::gen::arbitrary<uint32_t>(), *rc::gen::arbitrary<uint8_t>());
    if (*rc::gen::arbitrary<bool>()) n.ip = IpAddress::V4(*rc::gen::arbitrary<uint32_t>());
    n.esi.bytes[3] = *rc::gen::arbitrary<uint8_t>();
    if (*rc::gen::arbitrary<bool>()) n.labels.Push(*rc::gen::inRange<uint32_t>(0, 1u << 24));
    n.path_id = *rc::gen::arbitrary<uint32_t>();
    auto k = KeyOf(n);
    RC_ASSERT(k.has_value());
    RC_ASSERT(ToNlri<EvpnNlri>(*k, PayloadOf(n)) == n);
}

}  // namespace
}  // namespace bagpipe::bgp
