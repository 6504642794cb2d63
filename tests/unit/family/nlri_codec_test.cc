// The FamilyCodec table (FindFamilyCodec) and NlriCount.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "bgp/wire/nlri.h"
#include "family_test_util.h"

namespace bagpipe::bgp {
namespace {

using family_test::Hex;

TEST(NlriCodecTableTest, OneRowPerFamilyInEnumOrder) {
    EXPECT_EQ(FindFamilyCodec(Family::kUnknown), nullptr);
    EXPECT_EQ(FindFamilyCodec(Family::kCount), nullptr);
    EXPECT_EQ(FindFamilyCodec(static_cast<Family>(200)), nullptr);
    for (size_t i = 1; i < kFamilyCount; ++i) {
        const Family f = static_cast<Family>(i);
        const FamilyCodec* c = FindFamilyCodec(f);
        ASSERT_NE(c, nullptr) << FamilyName(f);
        EXPECT_EQ(c->family, f) << FamilyName(f);
        EXPECT_NE(c->make_list, nullptr);
        EXPECT_NE(c->decode, nullptr);
        EXPECT_NE(c->encoded_size, nullptr);
        EXPECT_NE(c->encode, nullptr);
        EXPECT_NE(c->decode_next_hop, nullptr);
        EXPECT_NE(c->encode_next_hop, nullptr);
        EXPECT_EQ(NlriCount(c->make_list()), 0u);
    }
}

TEST(NlriCodecTableTest, MakeListHoldsTheFamilyType) {
    auto holds = [](Family f, size_t index) {
        return FindFamilyCodec(f)->make_list().index() == index;
    };
    EXPECT_TRUE(holds(Family::kIpv4Unicast, 0));
    EXPECT_TRUE(holds(Family::kIpv6Unicast, 0));
    EXPECT_TRUE(holds(Family::kIpv4Labeled, 1));
    EXPECT_TRUE(holds(Family::kIpv6Labeled, 1));
    EXPECT_TRUE(holds(Family::kIpv4Vpn, 2));
    EXPECT_TRUE(holds(Family::kIpv6Vpn, 2));
    EXPECT_TRUE(holds(Family::kL2vpnEvpn, 3));
    EXPECT_TRUE(holds(Family::kIpv4Rtc, 4));
    EXPECT_TRUE(holds(Family::kIpv4FlowspecVpn, 5));
    EXPECT_TRUE(holds(Family::kIpv6FlowspecVpn, 5));
}

TEST(NlriCodecTableTest, NlriCount) {
    NlriList list;
    EXPECT_EQ(NlriCount(list), 0u);
    list = std::vector<VpnNlri>(3);
    EXPECT_EQ(NlriCount(list), 3u);
    list = std::vector<OpaqueNlri>(1);
    EXPECT_EQ(NlriCount(list), 1u);
}

TEST(NlriCodecTableTest, DecodeIntoEmptyListOfAnotherTypeSwitchesIt) {
    NlriList list;  // a default list holds std::vector<InetNlri>
    Bytes wire = Hex("78 000131 00017f0001010002 0a000001");
    Reader r(wire);
    std::string error;
    ASSERT_TRUE(FindFamilyCodec(Family::kIpv4Vpn)->decode(r, {}, list, error)) << error;
    ASSERT_TRUE(std::holds_alternative<std::vector<VpnNlri>>(list));
    EXPECT_EQ(NlriCount(list), 1u);
}

TEST(NlriCodecTableTest, DecodeIntoNonEmptyListOfAnotherTypeFails) {
    NlriList list = std::vector<InetNlri>(1);
    Bytes wire = Hex("78 000131 00017f0001010002 0a000001");
    Reader r(wire);
    std::string error;
    EXPECT_FALSE(FindFamilyCodec(Family::kIpv4Vpn)->decode(r, {}, list, error));
    EXPECT_NE(error.find("ipv4-vpn"), std::string::npos) << error;
    EXPECT_EQ(NlriCount(list), 1u);
}

TEST(NlriCodecTableTest, EncodeOfAnotherTypeOrOutOfRangeWritesNothing) {
    NlriList list = std::vector<InetNlri>(1);
    Bytes out;
    Writer w(out);
    const FamilyCodec* vpn = FindFamilyCodec(Family::kIpv4Vpn);
    EXPECT_EQ(vpn->encoded_size(list, 0, {}), 0u);
    vpn->encode(list, 0, {}, w);
    const FamilyCodec* inet = FindFamilyCodec(Family::kIpv4Unicast);
    EXPECT_EQ(inet->encoded_size(list, 5, {}), 0u);
    inet->encode(list, 5, {}, w);
    EXPECT_TRUE(out.empty());
}

TEST(NlriCodecTableTest, EmptyInputDecodesToNothing) {
    for (size_t i = 1; i < kFamilyCount; ++i) {
        const FamilyCodec* c = FindFamilyCodec(static_cast<Family>(i));
        NlriList list = c->make_list();
        Reader r;
        std::string error;
        EXPECT_TRUE(c->decode(r, {.add_path = true}, list, error)) << error;
        EXPECT_EQ(NlriCount(list), 0u);
    }
}

// Arbitrary bytes never crash any family's decoder, for NLRI or next hop.
RC_GTEST_PROP(NlriCodecTableProp, ArbitraryBytesEveryFamily, ()) {
    const Bytes bytes = family_test::GenBytes(0, 100);
    const Family f = static_cast<Family>(*rc::gen::inRange<int>(1, kFamilyCount));
    const bool add_path = *rc::gen::arbitrary<bool>();
    const bool withdraw = *rc::gen::arbitrary<bool>();
    family_test::CheckReencodeStable(f, bytes, {.add_path = add_path, .withdraw = withdraw});

    const FamilyCodec* c = FindFamilyCodec(f);
    NextHop nh;
    std::string error;
    if (c->decode_next_hop(ByteView(bytes).first(std::min<size_t>(bytes.size(), 48)), nh, error)) {
        Bytes out;
        Writer w(out);
        c->encode_next_hop(nh, w);
        NextHop back;
        RC_ASSERT(c->decode_next_hop(ByteView(out).subspan(1), back, error));
        RC_ASSERT(back == nh);
    } else {
        RC_ASSERT(!error.empty());
    }
}

}  // namespace
}  // namespace bagpipe::bgp
