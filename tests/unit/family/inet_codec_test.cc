// IPv4/IPv6 unicast NLRI codec: prefixes (RFC 4271 §4.3), next hops (RFC 4760,
// RFC 8950), ADD-PATH (RFC 7911) and the free functions used by UPDATE.
#include "bgp/family/inet/inet_codec.h"

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

InetNlri Inet(std::string_view prefix, uint32_t path_id = 0) {
    return InetNlri{path_id, *Prefix::Parse(prefix)};
}

TEST(InetCodecTest, RowsMatchFamilies) {
    EXPECT_EQ(kIpv4UnicastCodec.family, Family::kIpv4Unicast);
    EXPECT_EQ(kIpv6UnicastCodec.family, Family::kIpv6Unicast);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv4Unicast), &kIpv4UnicastCodec);
    EXPECT_EQ(FindFamilyCodec(Family::kIpv6Unicast), &kIpv6UnicastCodec);
}

TEST(InetCodecTest, Ipv4MpReachGolden) {
    // AFI 1 SAFI 1, next hop 192.0.2.1, 10.0.0.0/24, 10.0.0.1/32, 0.0.0.0/0, 172.16.0.0/12.
    auto mp = SplitMpReach(Hex("000101 04 c0000201 00 180a0000 200a000001 00 0cac10"));
    ASSERT_EQ(FamilyFromAfiSafi(mp.afi, mp.safi), Family::kIpv4Unicast);
    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv4UnicastCodec.decode_next_hop(mp.next_hop, nh, error)) << error;
    EXPECT_EQ(nh.global.ToString(), "192.0.2.1");

    auto d = Decode(Family::kIpv4Unicast, mp.nlri);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<InetNlri>{Inet("10.0.0.0/24"), Inet("10.0.0.1/32"),
                                              Inet("0.0.0.0/0"), Inet("172.16.0.0/12")};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv4Unicast, expected), mp.nlri);

    Bytes out;
    Writer w(out);
    kIpv4UnicastCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ToHex(out), "04c0000201");
}

TEST(InetCodecTest, Ipv6MpReachGolden) {
    // Next hop 2001:db8::1 + fe80::1 (32 octets), 2001:db8:1::/48, ::/0, 2001:db8::1/128.
    auto mp = SplitMpReach(
        Hex("000201 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00"
            "30 20010db80001 00 80 20010db8000000000000000000000001"));
    NextHop nh;
    std::string error;
    ASSERT_TRUE(kIpv6UnicastCodec.decode_next_hop(mp.next_hop, nh, error)) << error;
    EXPECT_EQ(nh.global.ToString(), "2001:db8::1");
    EXPECT_EQ(nh.link_local.ToString(), "fe80::1");
    Bytes out;
    Writer w(out);
    kIpv6UnicastCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ToHex(out), "20" + ToHex(mp.next_hop));

    auto d = Decode(Family::kIpv6Unicast, mp.nlri);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected =
        std::vector<InetNlri>{Inet("2001:db8:1::/48"), Inet("::/0"), Inet("2001:db8::1/128")};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv6Unicast, expected), mp.nlri);
}

TEST(InetCodecTest, NextHopLengths) {
    NextHop nh;
    std::string error;
    // RFC 8950: IPv6 next hop for IPv4 NLRI, 16 or 32 octets.
    EXPECT_TRUE(kIpv4UnicastCodec.decode_next_hop(Bytes(16, 0x20), nh, error)) << error;
    EXPECT_TRUE(nh.global.is_v6());
    EXPECT_TRUE(kIpv4UnicastCodec.decode_next_hop(Bytes(32, 0x20), nh, error)) << error;
    EXPECT_TRUE(nh.link_local.is_v6());
    for (size_t len : {0, 3, 5, 12, 24}) {
        EXPECT_FALSE(kIpv4UnicastCodec.decode_next_hop(Bytes(len, 1), nh, error)) << len;
        EXPECT_NE(error.find("ipv4-unicast"), std::string::npos) << error;
        EXPECT_NE(error.find(std::to_string(len)), std::string::npos) << error;
    }
    for (size_t len : {0, 4, 12, 24, 48}) {
        EXPECT_FALSE(kIpv6UnicastCodec.decode_next_hop(Bytes(len, 1), nh, error)) << len;
        EXPECT_NE(error.find("ipv6-unicast"), std::string::npos) << error;
    }
}

TEST(InetCodecTest, PrefixesAreMasked) {
    auto d = Decode(Family::kIpv4Unicast, Hex("19 0a0000ff  07 ff  0f 0aff"));
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<InetNlri>(d.list);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].prefix.ToString(), "10.0.0.128/25");
    EXPECT_EQ(v[1].prefix.ToString(), "254.0.0.0/7");
    EXPECT_EQ(v[2].prefix.ToString(), "10.254.0.0/15");
    EXPECT_EQ(ToHex(Encode(Family::kIpv4Unicast, d.list)),
              "190a000080"
              "07fe"
              "0f0afe");
}

TEST(InetCodecTest, Errors) {
    auto d = Decode(Family::kIpv4Unicast, Hex("180a0000 21 0a00000100"));
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("ipv4-unicast"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("33"), std::string::npos) << d.error;
    EXPECT_EQ(As<InetNlri>(d.list).size(), 1u);  // the good prefix before stays
    EXPECT_EQ(d.consumed, 4u);                   // reader stops at the bad one

    d = Decode(Family::kIpv4Unicast, Hex("18 0a00"));
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("truncated"), std::string::npos) << d.error;

    d = Decode(Family::kIpv6Unicast, Hex("81 20010db8000000000000000000000000 00"));
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("129"), std::string::npos) << d.error;
    EXPECT_NE(d.error.find("ipv6-unicast"), std::string::npos) << d.error;

    d = Decode(Family::kIpv4Unicast, Hex("000000"), {.add_path = true});
    EXPECT_FALSE(d.ok);
    EXPECT_NE(d.error.find("path id"), std::string::npos) << d.error;
}

TEST(InetCodecTest, AddPath) {
    Bytes wire = Hex("00000001 18 0a0000  0000000a 18 0a0000");
    NlriContext ctx{.add_path = true};
    auto d = Decode(Family::kIpv4Unicast, wire, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    NlriList expected = std::vector<InetNlri>{Inet("10.0.0.0/24", 1), Inet("10.0.0.0/24", 10)};
    EXPECT_EQ(d.list, expected);
    EXPECT_EQ(Encode(Family::kIpv4Unicast, expected, ctx), wire);
}

TEST(InetCodecTest, FreeFunctionsForClassicNlri) {
    std::vector<InetNlri> out;
    std::string error;
    Bytes wire = Hex("180a0000 200a000001");
    Reader r(wire);
    ASSERT_TRUE(DecodeInetPrefixes(r, 4, false, out, error)) << error;
    EXPECT_TRUE(r.empty());
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1], Inet("10.0.0.1/32"));

    Bytes enc;
    Writer w(enc);
    for (const auto& n : out) {
        size_t before = enc.size();
        EncodeInetNlri(n, false, w);
        EXPECT_EQ(enc.size() - before, InetNlriSize(n, false));
    }
    EXPECT_EQ(enc, wire);

    Bytes ap;
    Writer wap(ap);
    EncodeInetNlri(Inet("2001:db8::/32", 7), true, wap);
    EXPECT_EQ(ToHex(ap),
              "00000007"
              "20"
              "20010db8");
    EXPECT_EQ(InetNlriSize(Inet("2001:db8::/32", 7), true), 9u);

    Reader bad(wire);
    EXPECT_FALSE(DecodeInetPrefixes(bad, 5, false, out, error));
    EXPECT_FALSE(error.empty());

    Bytes v6 = Hex("81 20010db8000000000000000000000000 00");
    Reader r6(v6);
    EXPECT_FALSE(DecodeInetPrefixes(r6, 6, false, out, error));
    EXPECT_NE(error.find("129"), std::string::npos) << error;
    EXPECT_EQ(r6.remaining(), v6.size());
}

TEST(InetCodecTest, EncodeWritesMinimalOctets) {
    // Host bits set in the value are not written (canonical encoding).
    InetNlri n;
    n.prefix.address = *IpAddress::Parse("10.1.2.3");
    n.prefix.length = 12;
    Bytes out = Encode(Family::kIpv4Unicast, std::vector<InetNlri>{n});
    EXPECT_EQ(ToHex(out), "0c0a00");
}

void InetRoundTrip(uint8_t version) {
    const bool add_path = *rc::gen::arbitrary<bool>();
    const size_t count = *rc::gen::inRange<size_t>(0, 30);
    std::vector<InetNlri> v;
    for (size_t i = 0; i < count; ++i)
        v.push_back({family_test::GenPathId(add_path), family_test::GenPrefix(version)});
    family_test::CheckRoundTrip(version == 4 ? Family::kIpv4Unicast : Family::kIpv6Unicast, v,
                                {.add_path = add_path});

    // The same through the free functions.
    Bytes wire;
    Writer w(wire);
    for (const auto& n : v) EncodeInetNlri(n, add_path, w);
    std::vector<InetNlri> back;
    std::string error;
    Reader r(wire);
    RC_ASSERT(DecodeInetPrefixes(r, version, add_path, back, error));
    RC_ASSERT(back == v);
}

RC_GTEST_PROP(InetCodecProp, Ipv4RoundTrip, ()) { InetRoundTrip(4); }
RC_GTEST_PROP(InetCodecProp, Ipv6RoundTrip, ()) { InetRoundTrip(6); }

RC_GTEST_PROP(InetCodecProp, NextHopRoundTrip, ()) {
    NextHop nh;
    const int form = *rc::gen::inRange(0, 3);
    nh.global = family_test::GenAddress(form == 0 ? 4 : 6);
    if (form == 2) nh.link_local = family_test::GenAddress(6);
    family_test::CheckNextHopRoundTrip(Family::kIpv4Unicast, nh);
    if (form != 0) family_test::CheckNextHopRoundTrip(Family::kIpv6Unicast, nh);
}

RC_GTEST_PROP(InetCodecProp, ArbitraryBytesDecodeSafely, ()) {
    const Bytes bytes = family_test::GenBytes(0, 48);
    for (Family f : {Family::kIpv4Unicast, Family::kIpv6Unicast})
        for (bool add_path : {false, true})
            family_test::CheckReencodeStable(f, bytes, {.add_path = add_path});
}

}  // namespace
}  // namespace bagpipe::bgp
