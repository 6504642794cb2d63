// Labeled unicast NLRI codec (SAFI 4, RFC 8277): label stacks, withdrawals,
// errors, ADD-PATH and round-trip properties.
#include "bgp/family/labeled/labeled_codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "family_test_util.h"

namespace bagpipe::bgp {
namespace {

using family_test::As;
using family_test::Decode;
using family_test::Encode;
using family_test::Hex;
using family_test::SplitMpReach;
using family_test::ToHex;

LabeledNlri Labeled(std::initializer_list<uint32_t> raws, std::string_view prefix,
                    uint32_t path_id = 0) {
    LabeledNlri n;
    n.path_id = path_id;
    for (uint32_t raw : raws) n.labels.Push(raw);
    n.prefix = *Prefix::Parse(prefix);
    return n;
}

TEST(LabeledCodecTest, RowsMatchFamilies) {
    EXPECT_EQ(kIpv4LabeledCodec.family, Family::kIpv4Labeled);
    EXPECT_EQ(kIpv6LabeledCodec.family, Family::kIpv6Labeled);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv4Labeled), &kIpv4LabeledCodec);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv6Labeled), &kIpv6LabeledCodec);
}

TEST(LabeledCodecTest, Ipv4MpReachGolden) {
    // AFI 1 SAFI 4, next hop 192.0.2.1; 10.0.0.0/24 label 100;
    // 10.0.0.1/32 labels 100, 101 (BoS on the second).
    auto mp =
        SplitMpReach(Hex("000104 04 c0000201 00 30 000641 0a0000  50 000640 000651 0a000001"));
    ASSERT_EQ(FamilyFromAfiSafi(mp.afi, mp.safi), Family::kIpv4Labeled);
    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv4LabeledCodec.decode_next_hop(mp.next_hop, nh, error)) << error;
    EXPECT_EQ(nh.global.ToString(), "192.0.2.1");

    auto d = Decode(Family::kIpv4Labeled, mp.nlri);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<LabeledNlri>{
        Labeled({MplsLabelField(100)}, "10.0.0.0/24"),
        Labeled({MplsLabelField(100, false), MplsLabelField(101)}, "10.0.0.1/32")};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv4Labeled, expected), mp.nlri);
}

TEST(LabeledCodecTest, Ipv6Golden) {
    Bytes wire = Hex("38 000641 20010db8  98 000031 20010db8000000000000000000000001");
    auto d = Decode(Family::kIpv6Labeled, wire);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<LabeledNlri>{Labeled({MplsLabelField(100)}, "2001:db8::/32"),
                                                 Labeled({MplsLabelField(3)}, "2001:db8::1/128")};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv6Labeled, expected), wire);
}

TEST(LabeledCodecTest, WithdrawCompatLabels) {
    // RFC 8277 §2.4: one label field, 0x800000 (RFC 3107) or 0x000000.
    Bytes wire = Hex("30 800000 0a0000  30 000000 0a0100  30 000641 0a0200");
    NlriContext ctx{.withdraw = true};
    auto d = Decode(Family::kIpv4Labeled, wire, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<LabeledNlri>{Labeled({kWithdrawLabelRaw}, "10.0.0.0/24"),
                                                 Labeled({0}, "10.1.0.0/24"),
                                                 Labeled({MplsLabelField(100)}, "10.2.0.0/24")};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv4Labeled, expected, ctx), wire);

    // A withdrawal never reads a second label, even with no BoS bit.
    d = Decode(Family::kIpv4Labeled, Hex("38 800000 0006410a"), ctx);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<LabeledNlri>(d.list)[0].prefix.ToString(), "0.6.65.10/32");
}

TEST(LabeledCodecTest, WithdrawEncodesFirstLabelOnly) {
    LabeledNlri n = Labeled({MplsLabelField(1, false), MplsLabelField(2)}, "10.0.0.0/8");
    Bytes wire = Encode(Family::kIpv4Labeled, std::vector<LabeledNlri>{n}, {.withdraw = true});
    EXPECT_EQ(ToHex(wire),
              "20"
              "000010"
              "0a");
}

TEST(LabeledCodecTest, SevenLabelsOkEightTooDeep) {
    // 7 labels + /32 = 200 bits.
    Bytes seven = Hex("c8 000010 000020 000030 000040 000050 000060 000071 0a000001");
    auto d = Decode(Family::kIpv4Labeled, seven);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<LabeledNlri>(d.list)[0].labels.count, 7);
    EXPECT_EQ(Encode(Family::kIpv4Labeled, d.list), seven);

    // 8 labels + /24 = 216 bits.
    Bytes eight = Hex("d8 000010 000020 000030 000040 000050 000060 000070 000081 0a0000");
    d = Decode(Family::kIpv4Labeled, eight);
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("deeper than 7"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("ipv4-labeled"), std::string::npos) << d.error;
    EXPECT_TRUE(As<LabeledNlri>(d.list).empty());
}

TEST(LabeledCodecTest, Errors) {
    struct Case {
        Family f;
        const char* hex;
        const char* needle;
    };
    const Case cases[] = {
        {Family::kIpv4Labeled, "18 000640", "bottom-of-stack"},
        {Family::kIpv4Labeled, "10 0006", "bottom-of-stack"},
        {Family::kIpv4Labeled, "00", "bottom-of-stack"},
        {Family::kIpv4Labeled, "39 000641 0a00000100", "prefix length 33"},
        {Family::kIpv4Labeled, "38 000641 0a00", "truncated"},
        {Family::kIpv6Labeled, "99 000641 20010db8000000000000000000000000 00",
         "prefix length 129"},
    };
    for (const auto& c : cases) {
        auto d = Decode(c.f, Hex(c.hex));
        EXPECT_FALSE(d.ok) << c.hex;
        EXPECT_NE(d.error.find(c.needle), std::string::npos) << c.hex << " -> " << d.error;
        EXPECT_NE(d.error.find(FamilyName(c.f)), std::string::npos) << d.error;
    }
}

TEST(LabeledCodecTest, AddPath) {
    Bytes wire = Hex("0000002a 30 000641 0a0000");
    NlriContext ctx{.add_path = true};
    auto d = Decode(Family::kIpv4Labeled, wire, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<LabeledNlri>{Labeled({MplsLabelField(100)}, "10.0.0.0/24", 42)};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv4Labeled, expected, ctx), wire);
    // ADD-PATH withdrawal.
    d = Decode(Family::kIpv4Labeled, Hex("0000002a 30 800000 0a0000"),
               {.add_path = true, .withdraw = true});
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<LabeledNlri>(d.list)[0].path_id, 42u);
}

TEST(LabeledCodecTest, NextHops) {
    NextHop nh;
    std::string error;
    EXPECT_TRUE(kIpv4LabeledCodec.decode_next_hop(Bytes(4, 1), nh, error));
    EXPECT_TRUE(kIpv4LabeledCodec.decode_next_hop(Bytes(16, 1), nh, error));
    EXPECT_TRUE(kIpv6LabeledCodec.decode_next_hop(Bytes(32, 1), nh, error));
    EXPECT_FALSE(kIpv6LabeledCodec.decode_next_hop(Bytes(4, 1), nh, error));
    EXPECT_NE(error.find("ipv6-labeled"), std::string::npos) << error;
    EXPECT_FALSE(kIpv4LabeledCodec.decode_next_hop(Bytes(12, 1), nh, error));
}

LabeledNlri GenLabeled(uint8_t version, bool add_path, bool withdraw) {
    LabeledNlri n;
    n.path_id = family_test::GenPathId(add_path);
    n.prefix = family_test::GenPrefix(version);
    if (withdraw) {
        n.labels = LabelStack::One(family_test::GenRaw24());
    } else {
        size_t fit = (255 - n.prefix.length) / 24;
        n.labels = family_test::GenLabelStack(std::min(fit, LabelStack::kMaxLabels));
    }
    return n;
}

void LabeledRoundTrip(uint8_t version) {
    const bool add_path = *rc::gen::arbitrary<bool>();
    const bool withdraw = *rc::gen::arbitrary<bool>();
    const size_t count = *rc::gen::inRange<size_t>(0, 20);
    std::vector<LabeledNlri> v;
    for (size_t i = 0; i < count; ++i) v.push_back(GenLabeled(version, add_path, withdraw));
    family_test::CheckRoundTrip(version == 4 ? Family::kIpv4Labeled : Family::kIpv6Labeled, v,
                                {.add_path = add_path, .withdraw = withdraw});
}

RC_GTEST_PROP(LabeledCodecProp, Ipv4RoundTrip, ()) { LabeledRoundTrip(4); }
RC_GTEST_PROP(LabeledCodecProp, Ipv6RoundTrip, ()) { LabeledRoundTrip(6); }

RC_GTEST_PROP(LabeledCodecProp, NextHopRoundTrip, ()) {
    NextHop nh;
    const int form = *rc::gen::inRange(0, 3);
    nh.global = family_test::GenAddress(form == 0 ? 4 : 6);
    if (form == 2) nh.link_local = family_test::GenAddress(6);
    family_test::CheckNextHopRoundTrip(Family::kIpv4Labeled, nh);
    if (form != 0) family_test::CheckNextHopRoundTrip(Family::kIpv6Labeled, nh);
}

RC_GTEST_PROP(LabeledCodecProp, ArbitraryBytesDecodeSafely, ()) {
    const Bytes bytes = family_test::GenBytes(0, 48);
    for (Family f : {Family::kIpv4Labeled, Family::kIpv6Labeled})
        for (bool add_path : {false, true})
            for (bool withdraw : {false, true})
                family_test::CheckReencodeStable(f, bytes,
                                                 {.add_path = add_path, .withdraw = withdraw});
}

}  // namespace
}  // namespace bagpipe::bgp
