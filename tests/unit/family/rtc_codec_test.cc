// Route Target Constraint NLRI codec (AFI 1 / SAFI 132, RFC 4684 §4): golden
// bytes from bagpipe-bgp, default route, partial route targets, errors,
// ADD-PATH and round-trip properties.
#include "bgp/family/rtc/rtc_codec.h"

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

RtcNlri Rtc(uint32_t origin_as, std::string_view rt, uint32_t path_id = 0) {
    RtcNlri n;
    n.path_id = path_id;
    n.length = 96;
    n.origin_as = origin_as;
    n.route_target = *ExtCommunity::ParseRouteTarget(rt);
    return n;
}

TEST(RtcCodecTest, RowMatchesFamily) {
    EXPECT_EQ(kIpv4RtcCodec.family, Family::kIpv4Rtc);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv4Rtc), &kIpv4RtcCodec);
}

TEST(RtcCodecTest, GoldenBagpipeReach) {
    // rtc 64512:target:64512:512, next hop 127.0.1.1.
    auto mp = SplitMpReach(Hex("000184047f00010100600000fc000002fc0000000200"));
    ASSERT_EQ(FamilyFromAfiSafi(mp.afi, mp.safi), Family::kIpv4Rtc);
    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv4RtcCodec.decode_next_hop(mp.next_hop, nh, error)) << error;
    EXPECT_EQ(nh.global.ToString(), "127.0.1.1");
    Bytes nh_out;
    Writer w(nh_out);
    kIpv4RtcCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ToHex(nh_out), "047f000101");

    auto d = Decode(Family::kIpv4Rtc, mp.nlri);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<RtcNlri>{Rtc(64512, "64512:512")};
    EXPECT_EQ(d.list, expected);
    EXPECT_FALSE(As<RtcNlri>(d.list)[0].is_default());
    EXPECT_TRUE(As<RtcNlri>(d.list)[0].route_target.is_route_target());
    EXPECT_EQ(Encode(Family::kIpv4Rtc, expected), mp.nlri);
}

TEST(RtcCodecTest, GoldenDefaultRoute) {
    // Injected by the reference fake peer: RTC wildcard, next hop 127.0.1.2.
    auto mp = SplitMpReach(Hex("000184047f0001020000"));
    auto d = Decode(Family::kIpv4Rtc, mp.nlri);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<RtcNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_TRUE(v[0].is_default());
    EXPECT_EQ(v[0], RtcNlri{});
    EXPECT_EQ(Encode(Family::kIpv4Rtc, d.list), mp.nlri);
}

TEST(RtcCodecTest, GoldenBagpipeWithdraw) {
    Bytes unreach = Hex("000184600000fc000002fc0000000201");
    ByteView nlri = ByteView(unreach).subspan(3);
    auto d = Decode(Family::kIpv4Rtc, nlri, {.withdraw = true});
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<RtcNlri>{Rtc(64512, "64512:513")};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(ToHex(Encode(Family::kIpv4Rtc, expected, {.withdraw = true})), ToHex(nlri));
}

TEST(RtcCodecTest, PartialRouteTargets) {
    // 64 bits: origin AS + the first 4 octets of the RT; 60 bits: masked.
    Bytes wire = Hex("40 0000fde8 0002fde8  3c 0000fde8 0002fdef  20 0000fde8");
    auto d = Decode(Family::kIpv4Rtc, wire);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<RtcNlri>(d.list);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].length, 64);
    EXPECT_EQ(v[0].origin_as, 65000u);
    EXPECT_EQ(ToHex(v[0].route_target.bytes), "0002fde800000000");
    EXPECT_EQ(v[1].length, 60);
    EXPECT_EQ(ToHex(v[1].route_target.bytes), "0002fde000000000");
    EXPECT_EQ(v[2].length, 32);
    EXPECT_EQ(ToHex(v[2].route_target.bytes), "0000000000000000");
    EXPECT_EQ(ToHex(Encode(Family::kIpv4Rtc, d.list)),
              "400000fde80002fde8"
              "3c0000fde80002fde0"
              "200000fde8");
}

TEST(RtcCodecTest, Errors) {
    struct Case {
        const char* hex;
        const char* needle;
    };
    const Case cases[] = {
        {"14 0000fd", "prefix length 20"},  // RTC length 20
        {"01 00", "prefix length 1"},
        {"1f 00000000", "prefix length 31"},
        {"61 0000fc000002fc000000020000", "prefix length 97"},
        {"60 0000fc000002fc00000002", "truncated"},
    };
    for (const auto& c : cases) {
        auto d = Decode(Family::kIpv4Rtc, Hex(c.hex));
        EXPECT_FALSE(d.ok) << c.hex;
        EXPECT_NE(d.error.find(c.needle), std::string::npos) << c.hex << " -> " << d.error;
        EXPECT_NE(d.error.find("ipv4-rtc"), std::string::npos) << d.error;
        EXPECT_TRUE(As<RtcNlri>(d.list).empty());
    }
}

TEST(RtcCodecTest, AddPath) {
    Bytes wire = Hex("00000003 600000fc000002fc0000000200  00000004 00");
    NlriContext ctx{.add_path = true};
    auto d = Decode(Family::kIpv4Rtc, wire, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<RtcNlri>(d.list);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0], Rtc(64512, "64512:512", 3));
    EXPECT_EQ(v[1].path_id, 4u);
    EXPECT_TRUE(v[1].is_default());
    EXPECT_EQ(Encode(Family::kIpv4Rtc, d.list, ctx), wire);
    EXPECT_FALSE(Decode(Family::kIpv4Rtc, Hex("000000"), ctx).ok);
}

TEST(RtcCodecTest, NextHops) {
    NextHop nh;
    std::string error;
    EXPECT_TRUE(kIpv4RtcCodec.decode_next_hop(Bytes(4, 1), nh, error));
    EXPECT_TRUE(kIpv4RtcCodec.decode_next_hop(Bytes(16, 1), nh, error));
    EXPECT_TRUE(nh.global.is_v6());
    for (size_t len : {0, 5, 12, 24}) {
        EXPECT_FALSE(kIpv4RtcCodec.decode_next_hop(Bytes(len, 1), nh, error)) << len;
        EXPECT_NE(error.find("ipv4-rtc"), std::string::npos) << error;
    }
}

RtcNlri GenRtc(bool add_path) {
    RtcNlri n;
    n.path_id = family_test::GenPathId(add_path);
    if (*rc::gen::inRange(0, 8) == 0) return n;  // default route
    n.length = static_cast<uint8_t>(*rc::gen::inRange(32, 97));
    n.origin_as = *rc::gen::arbitrary<uint32_t>();
    for (auto& b : n.route_target.bytes) b = *rc::gen::arbitrary<uint8_t>();
    MaskPrefixBytes(n.route_target.bytes.data(), 8, n.length - 32u);
    return n;
}

RC_GTEST_PROP(RtcCodecProp, RoundTrip, ()) {
    const bool add_path = *rc::gen::arbitrary<bool>();
    const size_t count = *rc::gen::inRange<size_t>(0, 20);
    std::vector<RtcNlri> v;
    for (size_t i = 0; i < count; ++i) v.push_back(GenRtc(add_path));
    family_test::CheckRoundTrip(Family::kIpv4Rtc, v, {.add_path = add_path});
}

RC_GTEST_PROP(RtcCodecProp, NextHopRoundTrip, ()) {
    NextHop nh;
    nh.global = family_test::GenAddress(*rc::gen::arbitrary<bool>() ? 4 : 6);
    family_test::CheckNextHopRoundTrip(Family::kIpv4Rtc, nh);
}

RC_GTEST_PROP(RtcCodecProp, ArbitraryBytesDecodeSafely, ()) {
    const Bytes bytes = family_test::GenBytes(0, 40);
    for (bool add_path : {false, true})
        family_test::CheckReencodeStable(Family::kIpv4Rtc, bytes, {.add_path = add_path});
}

}  // namespace
}  // namespace bagpipe::bgp
