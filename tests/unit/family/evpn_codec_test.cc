// EVPN NLRI codec (AFI 25 / SAFI 70): every route type (RFC 7432 §7.1-7.4,
// RFC 9136 §3), golden bytes from bagpipe-bgp, length errors, unknown types,
// ADD-PATH and round-trip properties.
#include "bgp/family/evpn/evpn_codec.h"

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

IpAddress Ip(std::string_view s) { return *IpAddress::Parse(s); }

Esi EsiOf(std::string_view s) { return *Esi::Parse(s); }

EvpnNlri MacIp(RouteDistinguisher rd, std::string_view mac, std::string_view ip,
               uint32_t label_raw) {
    EvpnNlri n;
    n.route_type = 2;
    n.rd = rd;
    n.mac_length = 48;
    n.mac = *MacAddress::Parse(mac);
    if (!ip.empty()) n.ip = Ip(ip);
    n.labels = LabelStack::One(label_raw);
    return n;
}

EvpnNlri Multicast(RouteDistinguisher rd, uint32_t tag, std::string_view ip) {
    EvpnNlri n;
    n.route_type = 3;
    n.rd = rd;
    n.ethernet_tag = tag;
    n.originating_ip = Ip(ip);
    return n;
}

// Decodes an MP_REACH value and checks that re-encoding its NLRI and next
// hop gives the same bytes.
std::vector<EvpnNlri> DecodeReach(std::string_view hex) {
    auto mp = SplitMpReach(Hex(hex));
    EXPECT_EQ(FamilyFromAfiSafi(mp.afi, mp.safi), Family::kL2vpnEvpn);
    NextHop nh;
    std::string error;
    EXPECT_TRUE(kL2vpnEvpnCodec.decode_next_hop(mp.next_hop, nh, error)) << error;
    Bytes nh_out;
    Writer w(nh_out);
    kL2vpnEvpnCodec.encode_next_hop(nh, w);
    EXPECT_EQ(ByteView(nh_out).subspan(1).size(), mp.next_hop.size());
    EXPECT_TRUE(std::equal(nh_out.begin() + 1, nh_out.end(), mp.next_hop.begin()));
    auto d = Decode(Family::kL2vpnEvpn, mp.nlri);
    EXPECT_TRUE(d.ok) << d.error;
    EXPECT_EQ(ToHex(Encode(Family::kL2vpnEvpn, d.list)), ToHex(mp.nlri));
    return As<EvpnNlri>(d.list);
}

std::vector<EvpnNlri> DecodeUnreach(std::string_view hex) {
    Bytes v = Hex(hex);
    ByteView nlri = ByteView(v).subspan(3);
    NlriContext ctx{.withdraw = true};
    auto d = Decode(Family::kL2vpnEvpn, nlri, ctx);
    EXPECT_TRUE(d.ok) << d.error;
    EXPECT_EQ(ToHex(Encode(Family::kL2vpnEvpn, d.list, ctx)), ToHex(nlri));
    return As<EvpnNlri>(d.list);
}

TEST(EvpnCodecTest, RowMatchesFamily) {
    EXPECT_EQ(kL2vpnEvpnCodec.family, Family::kL2vpnEvpn);
    EXPECT_EQ(FindFamilyCodec(Family::kL2vpnEvpn), &kL2vpnEvpnCodec);
}

TEST(EvpnCodecTest, GoldenBagpipeMacIp) {
    // evpn:macadv::127.0.1.1:0:-:0:52:54:00:AA:BB:01/48:10.0.1.1: label 1 (16)
    auto v = DecodeReach(
        "001946047f00010100022500017f0001010000000000000000000000000000000030525400aabb01200a0001"
        "01000010");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], MacIp(RouteDistinguisher::Type1(0x7f000101, 0), "52:54:00:aa:bb:01", "10.0.1.1",
                          0x000010));
    EXPECT_TRUE(v[0].esi.is_zero());
    EXPECT_EQ(v[0].ethernet_tag, 0u);
}

TEST(EvpnCodecTest, GoldenInjectedMacIpWithVni) {
    // make_inject.py: VNI 5000 in the label field, RD 127.0.1.3:2, next hop 127.0.1.3.
    auto v = DecodeReach(
        "001946047f00010300022500017f0001030002000000000000000000000000000030525400000002200a0001"
        "02001388");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], MacIp(RouteDistinguisher::Type1(0x7f000103, 2), "52:54:00:00:00:02", "10.0.1.2",
                          5000));
}

TEST(EvpnCodecTest, GoldenBagpipeMulticast) {
    // evpn:multicast::127.0.1.1:0:0:127.0.1.1
    auto v = DecodeReach("001946047f00010100031100017f000101000000000000207f000101");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], Multicast(RouteDistinguisher::Type1(0x7f000101, 0), 0, "127.0.1.1"));
}

TEST(EvpnCodecTest, GoldenBagpipeWithdrawals) {
    auto v = DecodeUnreach(
        "001946022500017f00010100040000000000000000000000000000305254000000092001020300000014");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], MacIp(RouteDistinguisher::Type1(0x7f000101, 4), "52:54:00:00:00:09", "1.2.3.0",
                          0x000014));
    v = DecodeUnreach("001946031100017f000101000400000000207f000101");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], Multicast(RouteDistinguisher::Type1(0x7f000101, 4), 0, "127.0.1.1"));
}

TEST(EvpnCodecTest, EthernetAutoDiscovery) {
    Bytes wire = Hex("01 19 0000fde800000001 00112233445566778899 00000064 000641");
    auto d = Decode(Family::kL2vpnEvpn, wire);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<EvpnNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].route_type, 1);
    EXPECT_EQ(v[0].rd.ToString(), "65000:1");
    EXPECT_EQ(v[0].esi, EsiOf("00:11:22:33:44:55:66:77:88:99"));
    EXPECT_EQ(v[0].ethernet_tag, 100u);
    EXPECT_EQ(v[0].labels, LabelStack::One(MplsLabelField(100)));
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), wire);
}

TEST(EvpnCodecTest, MacIpVariants) {
    // No IP, one label.
    Bytes no_ip =
        Hex("02 21 0000fde800000001 01000000000000000001 00000005 30 525400000001 00 000641");
    auto d = Decode(Family::kL2vpnEvpn, no_ip);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<EvpnNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_TRUE(v[0].ip.empty());
    EXPECT_EQ(v[0].esi.type(), 1);
    EXPECT_EQ(v[0].ethernet_tag, 5u);
    EXPECT_EQ(v[0].mac_length, 48);
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), no_ip);

    // IPv6 and two labels (RFC 7432 §7.2: MPLS label 2).
    Bytes v6 =
        Hex("02 34 0000fde800000001 00000000000000000000 00000000 30 525400000001"
            "80 20010db8000000000000000000000001 000641 001389");
    d = Decode(Family::kL2vpnEvpn, v6);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& w = As<EvpnNlri>(d.list);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_EQ(w[0].ip, Ip("2001:db8::1"));
    ASSERT_EQ(w[0].labels.count, 2);
    EXPECT_EQ(w[0].labels.raw[0], 0x000641u);
    EXPECT_EQ(w[0].labels.raw[1], 0x001389u);
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), v6);

    // IPv4 and two labels: 40 octets.
    Bytes v4two =
        Hex("02 28 0000fde800000001 00000000000000000000 00000000 30 525400000001"
            "20 0a000001 000641 001389");
    d = Decode(Family::kL2vpnEvpn, v4two);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<EvpnNlri>(d.list)[0].labels.count, 2);
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), v4two);
}

TEST(EvpnCodecTest, InclusiveMulticastIpv6) {
    Bytes wire = Hex("03 1d 0000fde800000001 0000000a 80 20010db8000000000000000000000001");
    auto d = Decode(Family::kL2vpnEvpn, wire);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<EvpnNlri>(d.list)[0],
              Multicast(RouteDistinguisher::Type0(65000, 1), 10, "2001:db8::1"));
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), wire);
}

TEST(EvpnCodecTest, EthernetSegment) {
    Bytes v4 = Hex("04 17 0000fde800000001 03525400000001000000 20 c0000201");
    auto d = Decode(Family::kL2vpnEvpn, v4);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<EvpnNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].route_type, 4);
    EXPECT_EQ(v[0].esi.type(), 3);
    EXPECT_EQ(v[0].originating_ip, Ip("192.0.2.1"));
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), v4);

    Bytes v6 =
        Hex("04 23 0000fde800000001 03525400000001000000 80 20010db8000000000000000000000001");
    d = Decode(Family::kL2vpnEvpn, v6);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<EvpnNlri>(d.list)[0].originating_ip, Ip("2001:db8::1"));
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), v6);
}

TEST(EvpnCodecTest, IpPrefix) {
    // RFC 9136 §3.1: 34 octets for IPv4: 10.1.0.0/16, gateway 0.0.0.0, VNI 5000.
    Bytes v4 =
        Hex("05 22 0000fde800000001 00000000000000000000 00000000 10 0a010000 00000000 001388");
    auto d = Decode(Family::kL2vpnEvpn, v4);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<EvpnNlri>(d.list);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].route_type, 5);
    EXPECT_EQ(v[0].prefix.ToString(), "10.1.0.0/16");
    EXPECT_EQ(v[0].gateway_ip, Ip("0.0.0.0"));
    EXPECT_EQ(v[0].labels, LabelStack::One(5000));
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), v4);

    // 58 octets for IPv6: 2001:db8:1::/48, gateway 2001:db8::fe.
    Bytes v6 =
        Hex("05 3a 0000fde800000001 00000000000000000000 00000001 30"
            "20010db8000100000000000000000000 20010db80000000000000000000000fe 000641");
    d = Decode(Family::kL2vpnEvpn, v6);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& w = As<EvpnNlri>(d.list);
    EXPECT_EQ(w[0].prefix.ToString(), "2001:db8:1::/48");
    EXPECT_EQ(w[0].gateway_ip, Ip("2001:db8::fe"));
    EXPECT_EQ(w[0].ethernet_tag, 1u);
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), v6);

    // The prefix is masked: 10.1.2.3/16 reads as 10.1.0.0/16.
    Bytes unmasked =
        Hex("05 22 0000fde800000001 00000000000000000000 00000000 10 0a010203 00000000 001388");
    d = Decode(Family::kL2vpnEvpn, unmasked);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<EvpnNlri>(d.list)[0].prefix.ToString(), "10.1.0.0/16");
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), v4);
}

TEST(EvpnCodecTest, UnknownRouteTypeKeptRaw) {
    // Type 6 (RFC 9251 SMET) is not interpreted: kept raw, not an error.
    Bytes wire = Hex("06 03 aabbcc  03 11 00017f000101000000000000207f000101  00 00");
    auto d = Decode(Family::kL2vpnEvpn, wire);
    ASSERT_TRUE(d.ok) << d.error;
    const auto& v = As<EvpnNlri>(d.list);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].route_type, 6);
    EXPECT_EQ(v[0].raw, Hex("aabbcc"));
    EXPECT_EQ(v[1].route_type, 3);
    EXPECT_EQ(v[2].route_type, 0);
    EXPECT_TRUE(v[2].raw.empty());
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list), wire);
}

TEST(EvpnCodecTest, AddPath) {
    Bytes wire = Hex("00000007 03 11 00017f000101000000000000207f000101");
    NlriContext ctx{.add_path = true};
    auto d = Decode(Family::kL2vpnEvpn, wire, ctx);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(As<EvpnNlri>(d.list)[0].path_id, 7u);
    EXPECT_EQ(Encode(Family::kL2vpnEvpn, d.list, ctx), wire);
    EXPECT_FALSE(Decode(Family::kL2vpnEvpn, Hex("00000007 03"), ctx).ok);
}

TEST(EvpnCodecTest, LengthErrors) {
    struct Case {
        const char* hex;
        const char* needle;
    };
    const Case cases[] = {
        // type 1 with 24 octets
        {"01 18 0000fde800000001 00112233445566778899 00000064 0006",
         "Ethernet A-D route length 24"},
        // type 2 MAC length 47
        {"02 21 0000fde800000001 00000000000000000000 00000005 2f 525400000001 00 000641",
         "MAC address length 47"},
        // type 2 IP length 24
        {"02 24 0000fde800000001 00000000000000000000 00000005 30 525400000001 18 0a0000 000641",
         "IP address length 24"},
        // type 2 IP length 32 but 36 octets (0 + 2 labels would fit, 4 + labels does not)
        {"02 24 0000fde800000001 00000000000000000000 00000005 30 525400000001 20 0a000001 0006",
         "inconsistent"},
        // type 2 too short
        {"02 20 0000fde800000001 00000000000000000000 00000005 30 525400000001 00 0006",
         "too short"},
        // type 2 with three labels
        {"02 27 0000fde800000001 00000000000000000000 00000005 30 525400000001 00 000641 000641 "
         "000641",
         "inconsistent"},
        // type 3 IP length 32 but 29 octets
        {"03 1d 0000fde800000001 0000000a 20 20010db8000000000000000000000001",
         "inclusive multicast route length 29"},
        // type 3 IP length 0
        {"03 0d 0000fde800000001 0000000a 00", "IP length 0"},
        // type 4 with 22 octets
        {"04 16 0000fde800000001 03525400000001000000 20 c00002",
         "Ethernet segment route length 22"},
        // type 5 with 40 octets
        {"05 28 0000fde800000001 00000000000000000000 00000000 10 0a010000 00000000 001388 "
         "000000000000",
         "IP prefix route length 40"},
        // type 5 IPv4 prefix length 33
        {"05 22 0000fde800000001 00000000000000000000 00000000 21 0a010000 00000000 001388",
         "prefix length 33"},
        // truncated value
        {"02 25 00017f000101", "truncated route type 2"},
        // truncated header
        {"02", "truncated"},
    };
    for (const auto& c : cases) {
        auto d = Decode(Family::kL2vpnEvpn, Hex(c.hex));
        EXPECT_FALSE(d.ok) << c.hex;
        EXPECT_NE(d.error.find(c.needle), std::string::npos) << c.hex << " -> " << d.error;
        EXPECT_NE(d.error.find("l2vpn-evpn"), std::string::npos) << d.error;
        EXPECT_TRUE(As<EvpnNlri>(d.list).empty()) << c.hex;
        EXPECT_EQ(d.consumed, 0u) << c.hex;
    }
}

TEST(EvpnCodecTest, ErrorKeepsEarlierRoutes) {
    auto d =
        Decode(Family::kL2vpnEvpn, Hex("03 11 00017f000101000000000000207f000101  01 02 0000"));
    EXPECT_FALSE(d.ok);
    EXPECT_EQ(As<EvpnNlri>(d.list).size(), 1u);
    EXPECT_EQ(d.consumed, 19u);
}

TEST(EvpnCodecTest, NextHops) {
    NextHop nh;
    std::string error;
    EXPECT_TRUE(kL2vpnEvpnCodec.decode_next_hop(Hex("c0000201"), nh, error));
    EXPECT_EQ(nh.global, Ip("192.0.2.1"));
    EXPECT_TRUE(kL2vpnEvpnCodec.decode_next_hop(Bytes(16, 0x20), nh, error));
    EXPECT_TRUE(kL2vpnEvpnCodec.decode_next_hop(Bytes(32, 0x20), nh, error));
    EXPECT_TRUE(nh.link_local.is_v6());
    EXPECT_FALSE(kL2vpnEvpnCodec.decode_next_hop(Bytes(12, 0), nh, error));
    EXPECT_NE(error.find("l2vpn-evpn"), std::string::npos) << error;
    EXPECT_NE(error.find("12"), std::string::npos) << error;
}

// ---------------------------------------------------------------------------
// Properties.

Esi GenEsi() {
    Esi e;
    for (auto& b : e.bytes) b = *rc::gen::arbitrary<uint8_t>();
    e.bytes[0] = static_cast<uint8_t>(*rc::gen::inRange(0, 6));
    return e;
}

MacAddress GenMac() {
    MacAddress m;
    for (auto& b : m.bytes) b = *rc::gen::arbitrary<uint8_t>();
    return m;
}

EvpnNlri GenEvpn(bool add_path) {
    EvpnNlri n;
    n.path_id = family_test::GenPathId(add_path);
    const int kind = *rc::gen::inRange(0, 6);  // 0: unknown type, else 1-5
    if (kind == 0) {
        n.route_type = static_cast<uint8_t>(*rc::gen::element(0, 6, 7, 8, 9, 11, 255));
        n.raw = family_test::GenBytes(0, 80);
        return n;
    }
    n.route_type = static_cast<uint8_t>(kind);
    n.rd = family_test::GenRd();
    const uint8_t v = static_cast<uint8_t>(*rc::gen::element(4, 6));
    switch (kind) {
        case 1:
            n.esi = GenEsi();
            n.ethernet_tag = *rc::gen::arbitrary<uint32_t>();
            n.labels = LabelStack::One(family_test::GenRaw24());
            break;
        case 2:
            n.esi = GenEsi();
            n.ethernet_tag = *rc::gen::arbitrary<uint32_t>();
            n.mac_length = 48;
            n.mac = GenMac();
            if (*rc::gen::arbitrary<bool>()) n.ip = family_test::GenAddress(v);
            n.labels = LabelStack::One(family_test::GenRaw24());
            if (*rc::gen::arbitrary<bool>()) n.labels.Push(family_test::GenRaw24());
            break;
        case 3:
            n.ethernet_tag = *rc::gen::arbitrary<uint32_t>();
            n.originating_ip = family_test::GenAddress(v);
            break;
        case 4:
            n.esi = GenEsi();
            n.originating_ip = family_test::GenAddress(v);
            break;
        case 5:
            n.esi = GenEsi();
            n.ethernet_tag = *rc::gen::arbitrary<uint32_t>();
            n.prefix = family_test::GenPrefix(v);
            n.gateway_ip = family_test::GenAddress(v);
            n.labels = LabelStack::One(family_test::GenRaw24());
            break;
    }
    return n;
}

RC_GTEST_PROP(EvpnCodecProp, RoundTrip, ()) {
    const bool add_path = *rc::gen::arbitrary<bool>();
    const bool withdraw = *rc::gen::arbitrary<bool>();
    const size_t count = *rc::gen::inRange<size_t>(0, 12);
    std::vector<EvpnNlri> v;
    for (size_t i = 0; i < count; ++i) v.push_back(GenEvpn(add_path));
    family_test::CheckRoundTrip(Family::kL2vpnEvpn, v,
                                {.add_path = add_path, .withdraw = withdraw});
}

RC_GTEST_PROP(EvpnCodecProp, NextHopRoundTrip, ()) {
    NextHop nh;
    const int form = *rc::gen::inRange(0, 3);
    nh.global = family_test::GenAddress(form == 0 ? 4 : 6);
    if (form == 2) nh.link_local = family_test::GenAddress(6);
    family_test::CheckNextHopRoundTrip(Family::kL2vpnEvpn, nh);
}

RC_GTEST_PROP(EvpnCodecProp, ArbitraryBytesDecodeSafely, ()) {
    Bytes bytes = family_test::GenBytes(0, 80);
    // Make a plausible header likelier: a known type and a fitting length.
    if (bytes.size() >= 2 && *rc::gen::arbitrary<bool>()) {
        bytes[0] = static_cast<uint8_t>(*rc::gen::inRange(1, 6));
        bytes[1] = static_cast<uint8_t>(bytes.size() - 2);
    }
    for (bool add_path : {false, true})
        family_test::CheckReencodeStable(Family::kL2vpnEvpn, bytes, {.add_path = add_path});
}

}  // namespace
}  // namespace bagpipe::bgp
