// Wire value types: route distinguishers, route targets and every extended
// community kind BaGPipe names, MPLS label / VNI fields, ESI, MAC and IP
// prefixes — parsing, formatting and their wire octets.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "bgp/wire/esi.h"
#include "bgp/wire/ext_community.h"
#include "bgp/wire/ip_address.h"
#include "bgp/wire/mpls_label.h"
#include "bgp/wire/route_distinguisher.h"
#include "wire_test_util.h"

namespace bagpipe::bgp {
namespace {

using testing::Hex;
using testing::ToHex;

std::string Octets(const ExtCommunity& c) { return ToHex(c.bytes); }
std::string Octets(const RouteDistinguisher& rd) { return ToHex(rd.bytes); }

// ---------------------------------------------------------------------------
// Route distinguisher (RFC 4364 §4.2).

// "65000:1" is type 0: 2-octet AS then a 4-octet number.
TEST(WireValueTypes, RdType0ParseAndFormat) {
    auto rd = RouteDistinguisher::Parse("65000:1");
    ASSERT_TRUE(rd);
    EXPECT_EQ(rd->type(), 0);
    EXPECT_EQ(Octets(*rd), "0000fde800000001");
    EXPECT_EQ(rd->ToString(), "65000:1");
    EXPECT_EQ(*rd, RouteDistinguisher::Type0(65000, 1));
    // A 2-octet AS with a number beyond 16 bits is still type 0.
    auto big = RouteDistinguisher::Parse("64512:4294967295");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->type(), 0);
    EXPECT_EQ(big->ToString(), "64512:4294967295");
}

// "192.0.2.1:5" is type 1: IPv4 address then a 2-octet number.
TEST(WireValueTypes, RdType1ParseAndFormat) {
    auto rd = RouteDistinguisher::Parse("192.0.2.1:5");
    ASSERT_TRUE(rd);
    EXPECT_EQ(rd->type(), 1);
    EXPECT_EQ(Octets(*rd), "0001c00002010005");
    EXPECT_EQ(rd->ToString(), "192.0.2.1:5");
    EXPECT_EQ(*rd, RouteDistinguisher::Type1(0xc0000201, 5));
}

// "4200000000:7" is type 2: 4-octet AS then a 2-octet number; so is any AS
// above 65535.
TEST(WireValueTypes, RdType2ParseAndFormat) {
    auto rd = RouteDistinguisher::Parse("4200000000:7");
    ASSERT_TRUE(rd);
    EXPECT_EQ(rd->type(), 2);
    EXPECT_EQ(Octets(*rd), "0002fa56ea000007");
    EXPECT_EQ(rd->ToString(), "4200000000:7");
    EXPECT_EQ(*rd, RouteDistinguisher::Type2(4200000000u, 7));
    auto just_above = RouteDistinguisher::Parse("65536:1");
    ASSERT_TRUE(just_above);
    EXPECT_EQ(just_above->type(), 2);
}

// Strings that are no RD of any type are rejected.
TEST(WireValueTypes, RdInvalidStringsRejected) {
    for (const char* bad : {"", "65000", ":", "65000:", ":1", "abc:1", "65000:x", "-1:5",
                            "65000:-1", " 65000:1", "65000:1 ", "65000:1:2", "1.2.3:4",
                            "256.0.0.1:1", "192.0.2.1:65536", "2001:db8::1:5", "4200000000:65536",
                            "4294967296:1", "65000:4294967296", "0x10:1"}) {
        EXPECT_FALSE(RouteDistinguisher::Parse(bad)) << "accepted \"" << bad << "\"";
    }
}

// The printed form of an unknown RD type keeps the type and the raw value.
TEST(WireValueTypes, RdUnknownTypeFormat) {
    auto rd = RouteDistinguisher::FromBytes(Hex("0003 0102030405ff").data());
    EXPECT_EQ(rd.type(), 3);
    EXPECT_EQ(rd.ToString(), "3:0102030405ff");
}

// Property: every type 0 and type 1 RD, and every type 2 RD whose AS needs
// 4 octets, prints to a string that parses back to the same 8 octets.
RC_GTEST_PROP(WireValueTypesProp, RdFormatParseRoundTrip, (uint16_t asn2, uint32_t asn4,
                                                            uint32_t ip, uint16_t n16,
                                                            uint32_t n32)) {
    const auto t0 = RouteDistinguisher::Type0(asn2, n32);
    const auto t1 = RouteDistinguisher::Type1(ip, n16);
    RC_ASSERT(RouteDistinguisher::Parse(t0.ToString()) == t0);
    RC_ASSERT(RouteDistinguisher::Parse(t1.ToString()) == t1);
    if (asn4 > 0xffff) {
        const auto t2 = RouteDistinguisher::Type2(asn4, n16);
        RC_ASSERT(RouteDistinguisher::Parse(t2.ToString()) == t2);
    }
}

// ---------------------------------------------------------------------------
// Route targets and route origins (RFC 4360 §4, RFC 5668).

// The three textual forms give the three RT encodings.
TEST(WireValueTypes, RouteTargetParseThreeForms) {
    auto as2 = ExtCommunity::ParseRouteTarget("64512:1");
    ASSERT_TRUE(as2);
    EXPECT_EQ(Octets(*as2), "0002fc0000000001");
    auto ip = ExtCommunity::ParseRouteTarget("192.0.2.1:7");
    ASSERT_TRUE(ip);
    EXPECT_EQ(Octets(*ip), "0102c00002010007");
    auto as4 = ExtCommunity::ParseRouteTarget("4200000000:7");
    ASSERT_TRUE(as4);
    EXPECT_EQ(Octets(*as4), "0202fa56ea000007");
    for (const auto& [c, text] : {std::pair{*as2, "64512:1"}, std::pair{*ip, "192.0.2.1:7"},
                                  std::pair{*as4, "4200000000:7"}}) {
        EXPECT_TRUE(c.is_route_target());
        EXPECT_TRUE(c.transitive());
        EXPECT_EQ(c.Name(), "route-target");
        EXPECT_EQ(c.ValueString(), text);
        EXPECT_EQ(c.AdminValueString(), text);
    }
    EXPECT_EQ(*as2, ExtCommunity::RouteTarget(0, 64512, 1));
    EXPECT_EQ(*ip, ExtCommunity::RouteTarget(1, 0xc0000201, 7));
    EXPECT_EQ(*as4, ExtCommunity::RouteTarget(2, 4200000000u, 7));
    for (const char* bad : {"", "target:64512:1", "64512", "192.0.2.1:65536", "4200000000:65536"})
        EXPECT_FALSE(ExtCommunity::ParseRouteTarget(bad)) << bad;
}

TEST(WireValueTypes, RouteOriginThreeForms) {
    auto ro0 = ExtCommunity::RouteOrigin(0, 64512, 9);
    auto ro1 = ExtCommunity::RouteOrigin(1, 0x0a000001, 9);
    auto ro2 = ExtCommunity::RouteOrigin(2, 4200000000u, 9);
    EXPECT_EQ(Octets(ro0), "0003fc0000000009");
    EXPECT_EQ(Octets(ro1), "01030a0000010009");
    EXPECT_EQ(Octets(ro2), "0203fa56ea000009");
    EXPECT_EQ(ro0.Name(), "route-origin");
    EXPECT_EQ(ro1.Name(), "route-origin");
    EXPECT_FALSE(ro0.is_route_target());
    EXPECT_EQ(ro0.ValueString(), "64512:9");
    EXPECT_EQ(ro1.ValueString(), "10.0.0.1:9");
    EXPECT_EQ(ro2.ValueString(), "4200000000:9");
}

// A non-transitive RT (type 0x40) is still named route-target but is not
// transitive.
TEST(WireValueTypes, NonTransitiveRouteTargetName) {
    ExtCommunity c;
    c.bytes = {0x40, 0x02, 0xfc, 0x00, 0, 0, 0, 1};
    EXPECT_EQ(c.Name(), "route-target");
    EXPECT_FALSE(c.transitive());
    EXPECT_EQ(c.ValueString(), "64512:1");
}

// ---------------------------------------------------------------------------
// Other extended communities.

// RFC 9012 encapsulation: tunnel type in the last two octets, named.
TEST(WireValueTypes, EncapsulationEveryTunnelType) {
    const std::pair<uint16_t, const char*> kinds[] = {
        {2, "gre"},   {8, "vxlan"},          {9, "nvgre"},         {10, "mpls"},
        {11, "mpls-over-gre"}, {12, "vxlan-gpe"}, {13, "mpls-over-udp"},
    };
    for (const auto& [type, name] : kinds) {
        auto c = ExtCommunity::Encapsulation(type);
        EXPECT_EQ(Octets(c), "030c00000000" + ToHex(Bytes{0, static_cast<uint8_t>(type)}));
        EXPECT_TRUE(c.is_encapsulation());
        EXPECT_EQ(c.tunnel_type(), type);
        EXPECT_EQ(c.Name(), "encapsulation");
        EXPECT_EQ(c.ValueString(), name);
        EXPECT_EQ(TunnelTypeName(type), name);
    }
    // An unnamed tunnel type prints as its number.
    auto other = ExtCommunity::Encapsulation(99);
    EXPECT_EQ(other.Name(), "encapsulation");
    EXPECT_EQ(other.ValueString(), "99");
}

// RFC 7432 §7.7 MAC mobility: sticky flag in the flags octet, 4-octet sequence.
TEST(WireValueTypes, MacMobilityWithAndWithoutSticky) {
    auto plain = ExtCommunity::MacMobility(5, false);
    auto sticky = ExtCommunity::MacMobility(70000, true);
    EXPECT_EQ(Octets(plain), "0600000000000005");
    EXPECT_EQ(Octets(sticky), "0600010000011170");
    EXPECT_TRUE(plain.is_mac_mobility());
    EXPECT_FALSE(plain.mac_mobility_sticky());
    EXPECT_TRUE(sticky.mac_mobility_sticky());
    EXPECT_EQ(sticky.mac_mobility_sequence(), 70000u);
    EXPECT_EQ(plain.Name(), "mac-mobility");
    EXPECT_EQ(plain.ValueString(), "seq 5");
    EXPECT_EQ(sticky.ValueString(), "seq 70000 sticky");
}

// RFC 7432 §7.5 ESI label: single-active flag, 3-octet label field.
TEST(WireValueTypes, EsiLabel) {
    auto all_active = ExtCommunity::EsiLabel(MplsLabelField(100), false);
    auto single = ExtCommunity::EsiLabel(MplsLabelField(100), true);
    EXPECT_EQ(Octets(all_active), "0601000000000641");
    EXPECT_EQ(Octets(single), "0601010000000641");
    EXPECT_EQ(single.Name(), "esi-label");
    EXPECT_EQ(all_active.ValueString(), "label 1601");
    EXPECT_EQ(single.ValueString(), "label 1601 single-active");
}

// RFC 7432 §7.6 ES-import route target and RFC 9135 router's MAC: a MAC address.
TEST(WireValueTypes, EsImportAndRoutersMac) {
    auto mac = MacAddress::Parse("52:54:00:aa:bb:01");
    ASSERT_TRUE(mac);
    auto es = ExtCommunity::EsImport(*mac);
    auto rm = ExtCommunity::RoutersMac(*mac);
    EXPECT_EQ(Octets(es), "0602525400aabb01");
    EXPECT_EQ(Octets(rm), "0603525400aabb01");
    EXPECT_EQ(es.Name(), "es-import");
    EXPECT_EQ(rm.Name(), "routers-mac");
    EXPECT_EQ(es.ValueString(), "52:54:00:aa:bb:01");
    EXPECT_EQ(rm.ValueString(), "52:54:00:aa:bb:01");
}

// RFC 7432 §7.8 default gateway: opaque type, no value.
TEST(WireValueTypes, DefaultGateway) {
    auto c = ExtCommunity::DefaultGateway();
    EXPECT_EQ(Octets(c), "030d000000000000");
    EXPECT_EQ(c.Name(), "default-gateway");
    EXPECT_EQ(c.ValueString(), "");
}

// Consistent-hash sort order (draft-ietf-bess-service-chaining): 4-octet value.
TEST(WireValueTypes, ConsistentHashSortOrder) {
    auto c = ExtCommunity::ConsistentHashSortOrder(0x01020304);
    EXPECT_EQ(Octets(c), "0314010203040000");
    EXPECT_EQ(c.Name(), "consistent-hash-sort-order");
    EXPECT_EQ(c.ValueString(), "16909060");
}

// FlowSpec redirect-to-VRF (RFC 8955 §7.6, RFC 7674): three admin forms.
TEST(WireValueTypes, RedirectToVrfThreeForms) {
    auto r0 = ExtCommunity::RedirectToVrf(0, 64512, 10);
    auto r1 = ExtCommunity::RedirectToVrf(1, 0xc0000201, 10);
    auto r2 = ExtCommunity::RedirectToVrf(2, 4200000000u, 10);
    EXPECT_EQ(Octets(r0), "8008fc000000000a");
    EXPECT_EQ(Octets(r1), "8108c0000201000a");
    EXPECT_EQ(Octets(r2), "8208fa56ea00000a");
    for (const auto& [c, text] : {std::pair{r0, "64512:10"}, std::pair{r1, "192.0.2.1:10"},
                                  std::pair{r2, "4200000000:10"}}) {
        EXPECT_EQ(c.Name(), "redirect-to-vrf");
        EXPECT_EQ(c.ValueString(), text);
        EXPECT_FALSE(c.is_route_target());
    }
}

// RT-record shares the RT admin forms with sub-type 0x13.
TEST(WireValueTypes, RtRecord) {
    ExtCommunity c = ExtCommunity::RouteTarget(0, 64512, 3);
    c.bytes[1] = ecomm::kRtRecord;
    EXPECT_EQ(c.Name(), "rt-record");
    EXPECT_EQ(c.ValueString(), "64512:3");
}

// An extended community nobody knows keeps its octets and prints as hex.
TEST(WireValueTypes, UnknownExtCommunityKeptRaw) {
    ExtCommunity c;
    auto raw = Hex("4399010203040506");
    std::copy(raw.begin(), raw.end(), c.bytes.begin());
    EXPECT_EQ(c.Name(), "unknown");
    EXPECT_EQ(c.ValueString(), "4399010203040506");
    EXPECT_EQ(Octets(c), "4399010203040506");
    // Sub-types that exist for other types are not mistaken for them.
    ExtCommunity evpn_unknown;
    evpn_unknown.bytes = {0x06, 0x7f, 1, 2, 3, 4, 5, 6};
    EXPECT_EQ(evpn_unknown.Name(), "unknown");
    ExtCommunity opaque_unknown;
    opaque_unknown.bytes = {0x03, 0x02, 0, 0, 0, 0, 0, 1};
    EXPECT_EQ(opaque_unknown.Name(), "unknown");
}

// Extended communities order by their octets (used for sorted sets).
TEST(WireValueTypes, ExtCommunityOrdering) {
    auto a = ExtCommunity::RouteTarget(0, 64512, 1);
    auto b = ExtCommunity::RouteTarget(0, 64512, 2);
    auto c = ExtCommunity::Encapsulation(8);
    EXPECT_LT(a, b);
    EXPECT_LT(b, c);
}

// Property: any RT built from an admin value prints to a string that parses
// back to the same octets (type 2 only when the AS needs 4 octets).
RC_GTEST_PROP(WireValueTypesProp, RouteTargetFormatParseRoundTrip,
              (uint16_t asn2, uint32_t asn4, uint32_t ip, uint16_t n16, uint32_t n32)) {
    auto t0 = ExtCommunity::RouteTarget(0, asn2, n32);
    auto t1 = ExtCommunity::RouteTarget(1, ip, n16);
    RC_ASSERT(ExtCommunity::ParseRouteTarget(t0.ValueString()) == t0);
    RC_ASSERT(ExtCommunity::ParseRouteTarget(t1.ValueString()) == t1);
    if (asn4 > 0xffff) {
        auto t2 = ExtCommunity::RouteTarget(2, asn4, n16);
        RC_ASSERT(ExtCommunity::ParseRouteTarget(t2.ValueString()) == t2);
    }
}

// ---------------------------------------------------------------------------
// MPLS label fields and VNIs (RFC 8277, RFC 8365 §5.1.3).

TEST(WireValueTypes, MplsLabelFieldAndBack) {
    EXPECT_EQ(MplsLabelField(19), 0x131u);
    EXPECT_EQ(MplsLabelField(19, false), 0x130u);
    EXPECT_EQ(LabelFromField(0x131), 19u);
    EXPECT_TRUE(BottomOfStack(0x131));
    EXPECT_FALSE(BottomOfStack(0x130));
    EXPECT_EQ(MplsLabelField(kMaxMplsLabel), 0xfffff1u);
    EXPECT_EQ(LabelFromField(MplsLabelField(kMaxMplsLabel)), kMaxMplsLabel);
    // Values above 20 bits are cut to the label field.
    EXPECT_EQ(MplsLabelField(kMaxMplsLabel + 2), MplsLabelField(1));
    // RFC 3107's withdraw value is label 0x80000 with BoS.
    EXPECT_EQ(kWithdrawLabelRaw, MplsLabelField(0x80000, false));
}

// A VNI occupies the whole 24-bit field: it is the raw value, not shifted.
TEST(WireValueTypes, VniIsTheRawField) {
    const uint32_t vni = 0x123456;
    LabelStack s = LabelStack::One(vni);
    EXPECT_EQ(s.front(), vni);
    EXPECT_LE(vni, kMaxVni);
    // Read as an MPLS label, the same field means something else.
    EXPECT_EQ(LabelFromField(vni), 0x12345u);
    // The captured bagpipe-bgp VXLAN routes carry VNI 1 as label 1 (raw 0x10).
    EXPECT_EQ(MplsLabelField(1, false), 0x10u);
}

TEST(WireValueTypes, LabelStackPushCompare) {
    LabelStack s;
    EXPECT_TRUE(s.empty());
    for (uint32_t i = 0; i < LabelStack::kMaxLabels; ++i) {
        EXPECT_TRUE(s.Push(MplsLabelField(i, false)));
    }
    EXPECT_FALSE(s.Push(1));
    EXPECT_EQ(s.count, LabelStack::kMaxLabels);
    LabelStack a = LabelStack::One(1), b = LabelStack::One(1);
    b.raw[3] = 99;  // beyond count: ignored
    EXPECT_EQ(a, b);
    b.Push(5);
    EXPECT_LT(a, b);
}

RC_GTEST_PROP(WireValueTypesProp, LabelFieldRoundTrip, (uint32_t label, bool bos)) {
    uint32_t l = label & kMaxMplsLabel;
    uint32_t raw = MplsLabelField(l, bos);
    RC_ASSERT(raw <= 0xffffffu);
    RC_ASSERT(LabelFromField(raw) == l);
    RC_ASSERT(BottomOfStack(raw) == bos);
}

// ---------------------------------------------------------------------------
// ESI and MAC (RFC 7432 §5).

TEST(WireValueTypes, EsiParseFormat) {
    auto e = Esi::Parse("00:11:22:33:44:55:66:77:88:99");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->type(), 0);
    EXPECT_FALSE(e->is_zero());
    EXPECT_EQ(e->ToString(), "00:11:22:33:44:55:66:77:88:99");
    auto upper = Esi::Parse("01-AA-BB-CC-DD-EE-FF-00-11-22");
    ASSERT_TRUE(upper);
    EXPECT_EQ(upper->type(), 1);
    EXPECT_EQ(upper->ToString(), "01:aa:bb:cc:dd:ee:ff:00:11:22");
    for (const char* zero : {"0", "-", "00:00:00:00:00:00:00:00:00:00"}) {
        auto z = Esi::Parse(zero);
        ASSERT_TRUE(z) << zero;
        EXPECT_TRUE(z->is_zero());
    }
    for (const char* bad : {"", "00:11:22:33:44:55:66:77:88", "00:11:22:33:44:55:66:77:88:99:aa",
                            "00:11:22:33:44:55:66:77:88:9g", "00.11.22.33.44.55.66.77.88.99",
                            "0:11:22:33:44:55:66:77:88:99a"}) {
        EXPECT_FALSE(Esi::Parse(bad)) << bad;
    }
}

TEST(WireValueTypes, MacParseFormat) {
    auto m = MacAddress::Parse("52:54:00:AA:BB:01");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->ToString(), "52:54:00:aa:bb:01");
    EXPECT_EQ(ToHex(m->bytes), "525400aabb01");
    EXPECT_EQ(MacAddress::Parse("52-54-00-aa-bb-01"), m);
    for (const char* bad : {"", "52:54:00:aa:bb", "52:54:00:aa:bb:01:02", "52:54:00:aa:bb:0g",
                            "525400aabb01", "52:54:00:aa:bb:1"}) {
        EXPECT_FALSE(MacAddress::Parse(bad)) << bad;
    }
}

RC_GTEST_PROP(WireValueTypesProp, EsiMacFormatParseRoundTrip, ()) {
    Esi e = testing::GenEsi();
    MacAddress m = testing::GenMac();
    RC_ASSERT(Esi::Parse(e.ToString()) == e);
    RC_ASSERT(MacAddress::Parse(m.ToString()) == m);
}

// ---------------------------------------------------------------------------
// IP addresses and prefixes.

// Prefix parsing masks the host bits.
TEST(WireValueTypes, PrefixParseMasks) {
    auto p = Prefix::Parse("10.1.2.3/8");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->ToString(), "10.0.0.0/8");
    EXPECT_EQ(p->length, 8);
    EXPECT_EQ(p->address, IpAddress::V4(0x0a000000));
    auto odd = Prefix::Parse("192.0.2.255/27");
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->ToString(), "192.0.2.224/27");
    auto v6 = Prefix::Parse("2001:db8:ffff::1/33");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->ToString(), "2001:db8:8000::/33");
    EXPECT_EQ(v6->max_length(), 128);
    auto host = Prefix::Parse("10.0.0.1/32");
    ASSERT_TRUE(host);
    EXPECT_EQ(host->ToString(), "10.0.0.1/32");
    auto all = Prefix::Parse("255.255.255.255/0");
    ASSERT_TRUE(all);
    EXPECT_EQ(all->ToString(), "0.0.0.0/0");
}

TEST(WireValueTypes, PrefixInvalidStringsRejected) {
    for (const char* bad : {"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0/8",
                            "x/8", "/8", "10.0.0.0/8/8", "10.0.0.0/8a", "2001:db8::/129",
                            "10.0.0.0/300", "10.0.0.0/4294967304"}) {
        EXPECT_FALSE(Prefix::Parse(bad)) << bad;
    }
}

TEST(WireValueTypes, IpAddressParseFormat) {
    auto v4 = IpAddress::Parse("127.0.1.1");
    ASSERT_TRUE(v4);
    EXPECT_TRUE(v4->is_v4());
    EXPECT_EQ(v4->v4(), 0x7f000101u);
    EXPECT_EQ(v4->size(), 4u);
    auto v6 = IpAddress::Parse("fe80::1");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->is_v6());
    EXPECT_EQ(v6->ToString(), "fe80::1");
    EXPECT_FALSE(IpAddress::Parse("127.0.1"));
    EXPECT_FALSE(IpAddress::Parse(std::string(60, '1')));
    EXPECT_TRUE(IpAddress{}.empty());
    EXPECT_EQ(IpAddress{}.ToString(), "");
}

RC_GTEST_PROP(WireValueTypesProp, PrefixFormatParseRoundTrip, (bool v6)) {
    Prefix p = testing::GenPrefix(v6 ? 6 : 4);
    auto back = Prefix::Parse(p.ToString());
    RC_ASSERT(back.has_value());
    RC_ASSERT(*back == p);
}

// MaskPrefixBytes clears exactly the bits past the length.
RC_GTEST_PROP(WireValueTypesProp, MaskPrefixBytesClearsTail, (uint32_t v, uint8_t len_in)) {
    unsigned len = len_in % 33;
    IpAddress a = IpAddress::V4(v);
    MaskPrefixBytes(a.bytes.data(), 4, len);
    uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    RC_ASSERT(a.v4() == (v & mask));
}

}  // namespace
}  // namespace bagpipe::bgp
