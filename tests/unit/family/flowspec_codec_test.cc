// FlowSpec-VPN NLRI codec (SAFI 134), opaque: RFC 8955 §4.1 one- and
// two-octet lengths, next-hop forms, ADD-PATH and round-trip properties.
#include "bgp/family/flowspec/flowspec_codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "family_test_util.h"

namespace bagpipe::bgp {
namespace {

using family_test::As;
using family_test::Decode;
using family_test::Encode;
using family_test::Hex;
using family_test::SplitMpReach;
using family_test::ToHex;

TEST(FlowspecCodecTest, RowsMatchFamilies) {
    EXPECT_EQ(kIpv4FlowspecVpnCodec.family, Family::kIpv4FlowspecVpn);
    EXPECT_EQ(kIpv6FlowspecVpnCodec.family, Family::kIpv6FlowspecVpn);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv4FlowspecVpn), &kIpv4FlowspecVpnCodec);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv6FlowspecVpn), &kIpv6FlowspecVpnCodec);
}

TEST(FlowspecCodecTest, MpReachGolden) {
    // AFI 1 SAFI 134, 0-length next hop; NLRI: RD 65000:1, destination
    // 10.0.0.0/24 (type 1), IP protocol == 6 (type 3, end-of-list, len 1).
    auto mp = SplitMpReach(Hex("000186 00 00 10 0000fde800000001 01180a0000 038106"));
    ASSERT_EQ(FamilyFromAfiSafi(mp.afi, mp.safi), Family::kIpv4FlowspecVpn);
    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv4FlowspecVpnCodec.decode_next_hop(mp.next_hop, nh, error)) << error;
    EXPECT_TRUE(nh.global.empty());
    Bytes nh_out;
    Writer w(nh_out);
    kIpv4FlowspecVpnCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ToHex(nh_out), "00");

    auto d = Decode(Family::kIpv4FlowspecVpn, mp.nlri);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<OpaqueNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(ToHex(v[0].raw), "0000fde80000000101180a0000038106");
    EXPECT_EQ(Encode(Family::kIpv4FlowspecVpn, d.list), mp.nlri);
}

TEST(FlowspecCodecTest, TwoOctetLength) {
    Bytes raw(300, 0xab);
    OpaqueNlri n;
    n.raw = raw;
    NlriList list = std::vector<OpaqueNlri>{n};
    Bytes wire = Encode(Family::kIpv6FlowspecVpn, list);
    ASSERT_EQ(wire.size(), 302u);
    EXPECT_EQ(wire[0], 0xf1);  // 0xf000 | 300
    EXPECT_EQ(wire[1], 0x2c);
    auto d = Decode(Family::kIpv6FlowspecVpn, wire);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.list, list);

    // 239 octets still use one length octet, 240 need two.
    n.raw.assign(239, 1);
    EXPECT_EQ(Encode(Family::kIpv4FlowspecVpn, std::vector<OpaqueNlri>{n}).size(), 240u);
    n.raw.assign(240, 1);
    Bytes two = Encode(Family::kIpv4FlowspecVpn, std::vector<OpaqueNlri>{n});
    EXPECT_EQ(two.size(), 242u);
    EXPECT_EQ(ToHex(ByteView(two).first(2)), "f0f0");

    // A non-minimal two-octet length is accepted.
    d = Decode(Family::kIpv4FlowspecVpn, Hex("f003 aabbcc 02 0102"));
    ASSERT_TRUE(d.ok) << d.error;
    ASSERT_EQ(NlriCount(d.list), 2u);
    EXPECT_EQ(As<OpaqueNlri>(d.list)[0].raw, Hex("aabbcc"));
}

TEST(FlowspecCodecTest, Errors) {
    auto d = Decode(Family::kIpv4FlowspecVpn, Hex("f1"));
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("ipv4-flowspec-vpn"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("truncated"), std::string::npos) << d.error;
    d = Decode(Family::kIpv6FlowspecVpn, Hex("05 010203"));
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("length 5"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("ipv6-flowspec-vpn"), std::string::npos) << d.error;
    d = Decode(Family::kIpv4FlowspecVpn, Hex("0102 05 0102"));
    EXPECT_FALSE(d.ok);
    EXPECT_EQ(NlriCount(d.list), 1u);
    EXPECT_EQ(d.consumed, 2u);
}

TEST(FlowspecCodecTest, AddPath) {
    Bytes wire = Hex("00000009 03 aabbcc  0000000a 00");
    NlriContext ctx{.add_path = true};
    auto d = Decode(Family::kIpv4FlowspecVpn, wire, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<OpaqueNlri>(d.list);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].path_id, 9u);
    EXPECT_EQ(v[0].raw, Hex("aabbcc"));
    EXPECT_EQ(v[1].path_id, 10u);
    EXPECT_TRUE(v[1].raw.empty());
    EXPECT_EQ(Encode(Family::kIpv4FlowspecVpn, d.list, ctx), wire);
    EXPECT_FALSE(Decode(Family::kIpv4FlowspecVpn, Hex("00000009"), ctx).ok);
}

TEST(FlowspecCodecTest, NextHops) {
    NextHop nh;
    std::string error;
    for (size_t len : {0, 4, 12, 16, 24, 32, 48})
        EXPECT_TRUE(kIpv4FlowspecVpnCodec.decode_next_hop(Bytes(len, 0x20), nh, error)) << len;
    ASSERT_TRUE(kIpv6FlowspecVpnCodec.decode_next_hop(
        Hex("0000000000000000 20010db8000000000000000000000001"), nh, error));
    EXPECT_EQ(nh.global.ToString(), "2001:db8::1");
    ASSERT_TRUE(kIpv4FlowspecVpnCodec.decode_next_hop(Hex("0000000000000000 c0000201"), nh, error));
    EXPECT_EQ(nh.global.ToString(), "192.0.2.1");
    Bytes out;
    Writer w(out);
    kIpv4FlowspecVpnCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ToHex(out), "04c0000201");
    for (size_t len : {1, 5, 8, 20}) {
        EXPECT_FALSE(kIpv6FlowspecVpnCodec.decode_next_hop(Bytes(len, 0), nh, error)) << len;
        EXPECT_NE(error.find("ipv6-flowspec-vpn"), std::string::npos) << error;
    }
}

RC_GTEST_PROP(FlowspecCodecProp, RoundTrip, ()) {
    const bool add_path = *rc::gen::arbitrary<bool>();
    const bool v6 = *rc::gen::arbitrary<bool>();
    const size_t count = *rc::gen::inRange<size_t>(0, 8);
    std::vector<OpaqueNlri> v;
    for (size_t i = 0; i < count; ++i) {
        OpaqueNlri n;
        n.path_id = family_test::GenPathId(add_path);
        const int size_class = *rc::gen::inRange(0, 4);
        n.raw = size_class == 0   ? family_test::GenBytes(0, 4095)
                : size_class == 1 ? family_test::GenBytes(230, 250)
                                  : family_test::GenBytes(0, 64);
        v.push_back(std::move(n));
    }
    family_test::CheckRoundTrip(v6 ? Family::kIpv6FlowspecVpn : Family::kIpv4FlowspecVpn, v,
                                {.add_path = add_path});
}

RC_GTEST_PROP(FlowspecCodecProp, NextHopRoundTrip, ()) {
    NextHop nh;
    const int form = *rc::gen::inRange(0, 4);
    if (form != 3) nh.global = family_test::GenAddress(form == 0 ? 4 : 6);
    if (form == 2) nh.link_local = family_test::GenAddress(6);
    family_test::CheckNextHopRoundTrip(Family::kIpv4FlowspecVpn, nh);
    family_test::CheckNextHopRoundTrip(Family::kIpv6FlowspecVpn, nh);
}

RC_GTEST_PROP(FlowspecCodecProp, ArbitraryBytesDecodeSafely, ()) {
    const Bytes bytes = family_test::GenBytes(0, 40);
    for (bool add_path : {false, true})
        family_test::CheckReencodeStable(Family::kIpv4FlowspecVpn, bytes, {.add_path = add_path});
}

}  // namespace
}  // namespace bagpipe::bgp
