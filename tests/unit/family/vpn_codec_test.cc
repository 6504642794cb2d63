// VPNv4 / VPNv6 NLRI codec (SAFI 128): golden bytes from bagpipe-bgp, errors,
// ADD-PATH, withdrawals and round-trip properties.
#include "bgp/family/vpn/vpn_codec.h"

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

VpnNlri Vpn(uint32_t label_raw, RouteDistinguisher rd, std::string_view prefix,
            uint32_t path_id = 0) {
    VpnNlri n;
    n.path_id = path_id;
    n.labels = LabelStack::One(label_raw);
    n.rd = rd;
    n.prefix = *Prefix::Parse(prefix);
    return n;
}

// MP_REACH_NLRI sent by bagpipe-bgp 17.0.0:
// 10.0.0.1/32 label 19 next-hop 127.0.1.1 rd 127.0.1.1:2.
constexpr std::string_view kBagpipeVpnReach =
    "0001800c00000000000000007f000101007800013100017f00010100020a000001";

TEST(VpnCodecTest, RowMatchesFamily) {
    EXPECT_EQ(kIpv4VpnCodec.family, Family::kIpv4Vpn);
    EXPECT_EQ(kIpv6VpnCodec.family, Family::kIpv6Vpn);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv4Vpn), &kIpv4VpnCodec);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv6Vpn), &kIpv6VpnCodec);
}

TEST(VpnCodecTest, GoldenBagpipeReach) {
    auto mp = SplitMpReach(Hex(kBagpipeVpnReach));
    ASSERT_EQ(FamilyFromAfiSafi(mp.afi, mp.safi), Family::kIpv4Vpn);

    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv4VpnCodec.decode_next_hop(mp.next_hop, nh, error)) << error;
    EXPECT_EQ(nh.global, *IpAddress::Parse("127.0.1.1"));
    EXPECT_TRUE(nh.link_local.empty());

    auto d = Decode(Family::kIpv4Vpn, mp.nlri);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.consumed, mp.nlri.size());
    const auto& v = As<VpnNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].labels.count, 1);
    EXPECT_EQ(v[0].labels.front(), 0x000131u);
    EXPECT_EQ(LabelFromField(v[0].labels.front()), 19u);
    EXPECT_EQ(v[0].rd.ToString(), "127.0.1.1:2");
    EXPECT_EQ(v[0].prefix.ToString(), "10.0.0.1/32");
    EXPECT_EQ(v[0].path_id, 0u);

    // Re-encoding gives the same bytes, next hop included.
    EXPECT_EQ(ToHex(Encode(Family::kIpv4Vpn, d.list)), ToHex(mp.nlri));
    Bytes nh_out;
    Writer w(nh_out);
    kIpv4VpnCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ToHex(nh_out), "0c00000000000000007f000101");
}

TEST(VpnCodecTest, GoldenInjectedReach) {
    // Hand-built by the reference's make_inject.py: 10.0.0.2/32 label 100 RD 127.0.1.3:1.
    auto mp =
        SplitMpReach(Hex("0001800c00000000000000007f000103007800064100017f00010300010a000002"));
    auto d = Decode(Family::kIpv4Vpn, mp.nlri);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<VpnNlri>{
        Vpn(MplsLabelField(100), RouteDistinguisher::Type1(0x7f000103, 1), "10.0.0.2/32")};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv4Vpn, expected), mp.nlri);
}

TEST(VpnCodecTest, GoldenBagpipeWithdraw) {
    // MP_UNREACH_NLRI value sent by bagpipe-bgp: AFI 1, SAFI 128, then the NLRI
    // (label field 0x000161, label 22 with BoS, kept as is in a withdrawal).
    Bytes unreach = Hex("0001807800016100017f00010100020a000001");
    ByteView nlri = ByteView(unreach).subspan(3);
    NlriContext ctx{.withdraw = true};
    auto d = Decode(Family::kIpv4Vpn, nlri, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<VpnNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].labels, LabelStack::One(0x000161));
    EXPECT_EQ(v[0].rd.ToString(), "127.0.1.1:2");
    EXPECT_EQ(v[0].prefix.ToString(), "10.0.0.1/32");
    EXPECT_EQ(ToHex(Encode(Family::kIpv4Vpn, d.list, ctx)), ToHex(nlri));
}

TEST(VpnCodecTest, WithdrawReadsExactlyOneLabelField) {
    // 0x800000 (RFC 3107 compat, no BoS bit) then 0x000000: one label each.
    Bytes wire =
        Hex("70 800000 0000fde800000001 0a0000"    // 112 bits: label, RD, 10.0.0.0/24
            "70 000000 0000fde800000002 0a0100");  // 10.1.0.0/24
    NlriContext ctx{.withdraw = true};
    auto d = Decode(Family::kIpv4Vpn, wire, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<VpnNlri>(d.list);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].labels, LabelStack::One(kWithdrawLabelRaw));
    EXPECT_EQ(v[0].prefix.ToString(), "10.0.0.0/24");
    EXPECT_EQ(v[1].labels, LabelStack::One(0));
    EXPECT_EQ(v[1].rd, RouteDistinguisher::Type0(65000, 2));
    EXPECT_EQ(Encode(Family::kIpv4Vpn, d.list, ctx), wire);

    // The same bytes as an announcement: 0x800000 has no BoS bit, so the
    // stack runs into the RD and the routes read differently.
    auto a = Decode(Family::kIpv4Vpn, wire);
    EXPECT_TRUE(!a.ok || a.list != d.list);
}

TEST(VpnCodecTest, WithdrawWithoutLabelsWritesCompatValue) {
    VpnNlri n = Vpn(0, RouteDistinguisher::Type0(1, 1), "10.0.0.0/8");
    n.labels = {};
    Bytes wire = Encode(Family::kIpv4Vpn, std::vector<VpnNlri>{n}, {.withdraw = true});
    EXPECT_EQ(ToHex(wire),
              "60"
              "800000"
              "0000000100000001"
              "0a");
}

TEST(VpnCodecTest, Vpnv6WithNextHopVariants) {
    // RD 0 + 2001:db8::1 (24 octets), then 2001:db8:1:2::/64 label 100 RD 65000:1.
    Bytes nh24 = Hex("0000000000000000 20010db8000000000000000000000001");
    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv6VpnCodec.decode_next_hop(nh24, nh, error)) << error;
    EXPECT_EQ(nh.global.ToString(), "2001:db8::1");
    EXPECT_TRUE(nh.link_local.empty());

    Bytes nh48 =
        Hex("0000000000000000 20010db8000000000000000000000001"
            "0000000000000000 fe800000000000000000000000000001");
    ASSERT_TRUE(kIpv6VpnCodec.decode_next_hop(nh48, nh, error)) << error;
    EXPECT_EQ(nh.global.ToString(), "2001:db8::1");
    EXPECT_EQ(nh.link_local.ToString(), "fe80::1");
    Bytes out;
    Writer w(out);
    kIpv6VpnCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ToHex(out), "30" + ToHex(nh48));

    // 12 octets (RD + IPv4) is VPNv4 only.
    EXPECT_FALSE(kIpv6VpnCodec.decode_next_hop(Hex("0000000000000000 7f000101"), nh, error));
    EXPECT_NE(error.find("ipv6-vpn"), std::string::npos) << error;
    EXPECT_NE(error.find("12"), std::string::npos) << error;

    Bytes wire = Hex("98 000641 0000fde800000001 20010db800010002");
    auto d = Decode(Family::kIpv6Vpn, wire);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<VpnNlri>{
        Vpn(MplsLabelField(100), RouteDistinguisher::Type0(65000, 1), "2001:db8:1:2::/64")};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv6Vpn, expected), wire);
}

TEST(VpnCodecTest, Vpnv4AcceptsIpv6NextHop) {
    // RFC 8950: VPN-IPv6 next hop (RD + IPv6) for VPN-IPv4 NLRI.
    Bytes nh24 = Hex("0000000000000000 20010db8000000000000000000000001");
    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv4VpnCodec.decode_next_hop(nh24, nh, error)) << error;
    EXPECT_EQ(nh.global.ToString(), "2001:db8::1");
    Bytes out;
    Writer w(out);
    kIpv4VpnCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ToHex(out), "18" + ToHex(nh24));
}

TEST(VpnCodecTest, NextHopRdIsIgnoredOnDecode) {
    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv4VpnCodec.decode_next_hop(Hex("0000fde800000001 c0000201"), nh, error));
    EXPECT_EQ(nh.global.ToString(), "192.0.2.1");
}

TEST(VpnCodecTest, BadNextHopLengths) {
    NextHop nh;
    for (size_t len : {0, 4, 8, 13, 16, 32}) {
        std::string error;
        Bytes b(len, 0);
        EXPECT_FALSE(kIpv4VpnCodec.decode_next_hop(b, nh, error)) << len;
        EXPECT_NE(error.find("ipv4-vpn"), std::string::npos) << error;
        EXPECT_NE(error.find(std::to_string(len)), std::string::npos) << error;
    }
}

TEST(VpnCodecTest, LabelStackOfTwo) {
    Bytes wire = Hex("88 000640 000651 0000fde800000001 0a0000");  // 136 bits
    auto d = Decode(Family::kIpv4Vpn, wire);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<VpnNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    ASSERT_EQ(v[0].labels.count, 2);
    EXPECT_EQ(v[0].labels.raw[0], 0x000640u);
    EXPECT_EQ(v[0].labels.raw[1], 0x000651u);
    EXPECT_EQ(v[0].prefix.ToString(), "10.0.0.0/24");
    EXPECT_EQ(Encode(Family::kIpv4Vpn, d.list), wire);
}

TEST(VpnCodecTest, AddPath) {
    Bytes wire =
        Hex("00000001 78 000131 00017f0001010002 0a000001"
            "00000002 78 000131 00017f0001010002 0a000001");
    NlriContext ctx{.add_path = true};
    auto d = Decode(Family::kIpv4Vpn, wire, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<VpnNlri>(d.list);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].path_id, 1u);
    EXPECT_EQ(v[1].path_id, 2u);
    EXPECT_EQ(v[1].prefix.ToString(), "10.0.0.1/32");
    EXPECT_EQ(Encode(Family::kIpv4Vpn, d.list, ctx), wire);

    // Without ADD-PATH the same bytes do not parse.
    EXPECT_FALSE(Decode(Family::kIpv4Vpn, wire).ok);
    // A path id with nothing after it is truncated.
    auto t = Decode(Family::kIpv4Vpn, Hex("00000001"), ctx);
    EXPECT_FALSE(t.ok);
    EXPECT_NE(t.error.find("path id"), std::string::npos) << t.error;
}

TEST(VpnCodecTest, PrefixIsMasked) {
    // 10.0.0.255/25: host bits in the last octet are dropped.
    Bytes wire = Hex("71 000131 0000000100000001 0a0000ff");
    auto d = Decode(Family::kIpv4Vpn, wire);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<VpnNlri>(d.list)[0].prefix.ToString(), "10.0.0.128/25");
    EXPECT_EQ(ToHex(Encode(Family::kIpv4Vpn, d.list)),
              "71"
              "000131"
              "0000000100000001"
              "0a000080");
}

TEST(VpnCodecTest, Errors) {
    struct Case {
        const char* hex;
        const char* needle;
    };
    const Case cases[] = {
        // prefix length 33 (24 + 64 + 33 = 121 bits)
        {"79 000131 0000000100000001 0a00000100", "prefix length 33"},
        // length says 120 bits, 10 octets follow
        {"78 000131 0000000100000001 0a", "truncated"},
        // only a label and half an RD (24 + 32 bits)
        {"38 000131 00000001", "route distinguisher"},
        // no bottom-of-stack label within 24 bits
        {"18 000130", "bottom-of-stack"},
        // 255 bits, 7 labels without BoS then more: too deep
        {"ff 000010 000020 000030 000040 000050 000060 000070 000081 "
         "00000000000000000000000000000000",
         "deeper than 7"},
        // length 0 (no label at all)
        {"00", "bottom-of-stack"},
    };
    for (const auto& c : cases) {
        auto d = Decode(Family::kIpv4Vpn, Hex(c.hex));
        EXPECT_FALSE(d.ok) << c.hex;
        EXPECT_NE(d.error.find(c.needle), std::string::npos) << c.hex << " -> " << d.error;
        EXPECT_NE(d.error.find("ipv4-vpn"), std::string::npos) << d.error;
    }
    // VPNv6 prefix length 129.
    auto d = Decode(Family::kIpv6Vpn,
                    Hex("d9 000131 0000000100000001 20010db8000000000000000000000000 00"));
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("129"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("ipv6-vpn"), std::string::npos) << d.error;
}

TEST(VpnCodecTest, ErrorKeepsEarlierNlriAndStopsReaderAtBadOne) {
    Bytes wire = Hex("78 000131 00017f0001010002 0a000001  79 000131 0000000100000001 0a00000100");
    auto d = Decode(Family::kIpv4Vpn, wire);
    EXPECT_FALSE(d.ok);
    EXPECT_EQ(As<VpnNlri>(d.list).size(), 1u);
    EXPECT_EQ(d.consumed, 16u);
}

TEST(VpnCodecTest, DecodeAppendsToExistingList) {
    NlriList list = kIpv4VpnCodec.make_list();
    std::string error;
    Bytes a = Hex("78 000131 00017f0001010002 0a000001");
    for (int i = 0; i < 3; ++i) {
        Reader r(a);
        ASSERT_TRUE(kIpv4VpnCodec.decode(r, {}, list, error)) << error;
        EXPECT_TRUE(r.empty());
    }
    EXPECT_EQ(NlriCount(list), 3u);
}

TEST(VpnCodecTest, EncodeClampsLabelStackToWhatFits) {
    // A /128 VPNv6 route leaves room for two labels in a 255-bit length.
    VpnNlri n = Vpn(0, RouteDistinguisher::Type0(1, 1), "2001:db8::1/128");
    n.labels = {};
    n.labels.Push(MplsLabelField(1, false));
    n.labels.Push(MplsLabelField(2, false));
    n.labels.Push(MplsLabelField(3, true));
    NlriList list = std::vector<VpnNlri>{n};
    Bytes wire = Encode(Family::kIpv6Vpn, list);
    ASSERT_EQ(wire.size(), 1u + 6 + 8 + 16);
    EXPECT_EQ(wire[0], 24 * 2 + 64 + 128);
    auto d = Decode(Family::kIpv6Vpn, wire);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<VpnNlri>(d.list);
    ASSERT_EQ(v[0].labels.count, 2);
    EXPECT_EQ(v[0].labels.raw[1], MplsLabelField(2, true));
}

TEST(VpnCodecTest, EncodeSetsBottomOfStackOnLastLabelOnly) {
    VpnNlri n = Vpn(0, RouteDistinguisher::Type0(1, 1), "10.0.0.0/8");
    n.labels = {};
    n.labels.Push(MplsLabelField(5, true));   // BoS wrongly set on the top label
    n.labels.Push(MplsLabelField(6, false));  // and missing on the bottom one
    Bytes wire = Encode(Family::kIpv4Vpn, std::vector<VpnNlri>{n});
    EXPECT_EQ(ToHex(wire),
              "78"
              "000050"
              "000061"
              "0000000100000001"
              "0a");
}

VpnNlri GenVpn(uint8_t version, bool add_path, bool withdraw) {
    VpnNlri n;
    n.path_id = family_test::GenPathId(add_path);
    n.rd = family_test::GenRd();
    n.prefix = family_test::GenPrefix(version);
    if (withdraw) {
        n.labels = LabelStack::One(family_test::GenRaw24());
    } else {
        size_t fit = (255 - 64 - n.prefix.length) / 24;
        n.labels = family_test::GenLabelStack(std::min(fit, LabelStack::kMaxLabels));
    }
    return n;
}

void VpnRoundTrip(uint8_t version) {
    const bool add_path = *rc::gen::arbitrary<bool>();
    const bool withdraw = *rc::gen::arbitrary<bool>();
    const size_t count = *rc::gen::inRange<size_t>(0, 20);
    std::vector<VpnNlri> v;
    for (size_t i = 0; i < count; ++i) v.push_back(GenVpn(version, add_path, withdraw));
    family_test::CheckRoundTrip(version == 4 ? Family::kIpv4Vpn : Family::kIpv6Vpn, v,
                                {.add_path = add_path, .withdraw = withdraw});
}

RC_GTEST_PROP(VpnCodecProp, Vpnv4RoundTrip, ()) { VpnRoundTrip(4); }
RC_GTEST_PROP(VpnCodecProp, Vpnv6RoundTrip, ()) { VpnRoundTrip(6); }

RC_GTEST_PROP(VpnCodecProp, NextHopRoundTrip, ()) {
    NextHop nh;
    const int form = *rc::gen::inRange(0, 3);
    nh.global = family_test::GenAddress(form == 0 ? 4 : 6);
    if (form == 2) nh.link_local = family_test::GenAddress(6);
    family_test::CheckNextHopRoundTrip(Family::kIpv4Vpn, nh);
    if (form != 0) family_test::CheckNextHopRoundTrip(Family::kIpv6Vpn, nh);
}

RC_GTEST_PROP(VpnCodecProp, ArbitraryBytesDecodeSafely, ()) {
    const Bytes bytes = family_test::GenBytes(0, 64);
    for (Family f : {Family::kIpv4Vpn, Family::kIpv6Vpn})
        for (bool add_path : {false, true})
            for (bool withdraw : {false, true})
                family_test::CheckReencodeStable(f, bytes,
                                                 {.add_path = add_path, .withdraw = withdraw});
}

}  // namespace
}  // namespace bagpipe::bgp
