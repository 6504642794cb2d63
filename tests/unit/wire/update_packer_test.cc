// UpdatePacker: PackAnnouncements / PackWithdrawals for VPNv4, EVPN MAC/IP,
// IPv4 unicast and RTC, with and without ADD-PATH and extended messages.
// Every packed stream is split back with FrameMessage and decoded with
// DecodeMessage; the checks are those of update_packer.h: every NLRI exactly
// once and in order, every message within the maximum size and split exactly
// at it (the next NLRI would not have fit), the same attributes in every
// message, and canonical messages (EncodeUpdate of the decode gives the same
// bytes).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <string>
#include <type_traits>

#include "bgp/wire/message.h"
#include "bgp/wire/update_packer.h"
#include "wire_test_util.h"

namespace bagpipe::bgp {
namespace {

using testing::GenList;

PathAttributes BaseAttributes(size_t communities) {
    PathAttributes a;
    a.set(attr::kOrigin);
    a.set(attr::kAsPath);
    a.as_path.segments = {{AsPathSegment::kSequence, {64512}}};
    a.set(attr::kLocalPref);
    a.local_pref = 100;
    a.set(attr::kExtCommunities);
    a.ext_communities = {ExtCommunity::Encapsulation(8), ExtCommunity::RouteTarget(0, 64512, 1)};
    if (communities) {
        a.set(attr::kCommunities);
        a.communities.assign(communities, 0xfde80001);
    }
    return a;
}

NextHop V4NextHop() { return NextHop{IpAddress::V4(0x7f000101), {}}; }

// The value length of the MP attribute in an encoded UPDATE (0 if none).
size_t MpValueLength(ByteView update) {
    for (const auto& a : testing::SplitAttributes(testing::AttributeBlock(update)))
        if (a.code == attr::kMpReach || a.code == attr::kMpUnreach) return a.value.size();
    return 0;
}

// Packs `nlri` and checks the result; returns "" when every check passes,
// else what failed. `messages` receives the number of messages.
template <typename T>
std::string CheckPack(Family f, const PathAttributes& attrs, const NextHop& nh,
                      const std::vector<T>& nlri, const SessionContext& tx, bool withdraw,
                      size_t* messages = nullptr, std::vector<size_t>* sizes = nullptr) {
    SessionContext rx = tx;
    rx.add_path_receive = tx.add_path_send;
    const size_t max = tx.max_message_size();
    const NlriList list = nlri;
    Bytes out;
    PackResult r = withdraw ? PackWithdrawals(f, list, tx, out)
                            : PackAnnouncements(attrs, f, nh, list, tx, out);
    if (r.oversized != 0) return "oversized NLRI reported";
    if (r.nlri != nlri.size()) return "PackResult.nlri " + std::to_string(r.nlri);

    std::vector<Bytes> msgs;
    for (ByteView s(out); !s.empty();) {
        FrameResult fr = FrameMessage(s, max);
        if (fr.error) return "framing: " + fr.error->reason;
        if (fr.length == 0) return "incomplete message at the end";
        msgs.emplace_back(s.begin(), s.begin() + fr.length);
        s = s.subspan(fr.length);
    }
    if (messages) *messages = msgs.size();
    if (msgs.size() != r.messages) return "PackResult.messages differs from the stream";

    const FamilyCodec* codec = FindFamilyCodec(f);
    const NlriContext nctx{tx.add_path_tx(f), withdraw};
    std::vector<T> seen;
    std::optional<PathAttributes> shared;
    for (size_t k = 0; k < msgs.size(); ++k) {
        const std::string where = " (message " + std::to_string(k) + ")";
        if (sizes) sizes->push_back(msgs[k].size());
        if (msgs[k].size() > max) return "message larger than the maximum" + where;
        DecodeResult res = DecodeMessage(msgs[k], rx);
        if (res.error) return "decode: " + res.error->reason + where;
        const auto& m = std::get<UpdateMessage>(*res.message);
        PathAttributes rest = m.attributes;
        std::vector<T> part;
        if (f == Family::kIpv4Unicast) {
            if constexpr (std::is_same_v<T, InetNlri>) part = withdraw ? m.withdrawn : m.nlri;
        } else if (withdraw) {
            if (!m.nlri.empty() || !m.withdrawn.empty()) return "classic fields used" + where;
            if (m.attributes.mp_unreach.family != f) return "MP_UNREACH family" + where;
            part = std::get<std::vector<T>>(m.attributes.mp_unreach.withdrawn);
            rest.clear(attr::kMpUnreach);
            rest.mp_unreach = {};
        } else {
            if (!m.nlri.empty() || !m.withdrawn.empty()) return "classic fields used" + where;
            if (m.attributes.mp_reach.family != f) return "MP_REACH family" + where;
            if (m.attributes.mp_reach.next_hop != nh) return "next hop" + where;
            part = std::get<std::vector<T>>(m.attributes.mp_reach.nlri);
            rest.clear(attr::kMpReach);
            rest.mp_reach = {};
        }
        if (part.empty()) return "message without NLRI" + where;
        seen.insert(seen.end(), part.begin(), part.end());
        if (!shared)
            shared = rest;
        else if (rest != *shared)
            return "attributes differ between messages" + where;
        if (EncodeUpdate(m, tx) != msgs[k]) return "not canonical" + where;
        if (k + 1 < msgs.size()) {
            // Split exactly at the limit: the next NLRI would not have fit,
            // counting the extra octet of an MP header that it would push to
            // the extended length.
            const size_t next = codec->encoded_size(list, seen.size(), nctx);
            const size_t mp = MpValueLength(msgs[k]);
            const size_t grow = (mp != 0 && mp <= 255 && mp + next > 255) ? 1 : 0;
            if (msgs[k].size() + next + grow <= max)
                return "split early: " + std::to_string(msgs[k].size()) + " + " +
                       std::to_string(next) + " fits " + std::to_string(max) + where;
        }
    }
    if (seen != nlri) return "NLRI lost, duplicated or reordered";

    PathAttributes expected;
    if (!withdraw) {
        expected = attrs;
        expected.clear(attr::kMpReach);
        expected.mp_reach = {};
        expected.clear(attr::kMpUnreach);
        expected.mp_unreach = {};
        if (f == Family::kIpv4Unicast && !attrs.has(attr::kNextHop)) {
            expected.set(attr::kNextHop);
            expected.next_hop = nh.global;
        }
    }
    if (shared && *shared != expected) return "attributes are not the ones given";
    return "";
}

SessionContext GenContext(Family f) {
    SessionContext ctx;
    if (*rc::gen::arbitrary<bool>()) ctx.add_path_send.set(FamilyIndex(f));
    return ctx;
}

// ---------------------------------------------------------------------------
// Properties: random NLRI counts and sizes, random attribute overhead (so the
// limit falls anywhere inside an NLRI), ADD-PATH on or off.

RC_GTEST_PROP(MsgUpdatePacker, Vpnv4, ()) {
    const SessionContext tx = GenContext(Family::kIpv4Vpn);
    const bool ap = tx.add_path_tx(Family::kIpv4Vpn);
    const bool withdraw = *rc::gen::arbitrary<bool>();
    auto nlri = GenList<VpnNlri>(1, 1500, [&] { return testing::GenVpnNlri(withdraw, ap); });
    size_t n = 0;
    auto err = CheckPack(Family::kIpv4Vpn, BaseAttributes(*rc::gen::inRange<size_t>(0, 200)),
                         V4NextHop(), nlri, tx, withdraw, &n);
    if (!err.empty()) RC_FAIL(err);
    RC_CLASSIFY(n > 1, "split");
    RC_CLASSIFY(ap, "add-path");
}

RC_GTEST_PROP(MsgUpdatePacker, EvpnMacIp, ()) {
    const SessionContext tx = GenContext(Family::kL2vpnEvpn);
    const bool ap = tx.add_path_tx(Family::kL2vpnEvpn);
    const bool withdraw = *rc::gen::arbitrary<bool>();
    auto nlri = GenList<EvpnNlri>(1, 800, [&] { return testing::GenEvpnNlri(ap, 2); });
    size_t n = 0;
    auto err = CheckPack(Family::kL2vpnEvpn, BaseAttributes(*rc::gen::inRange<size_t>(0, 200)),
                         V4NextHop(), nlri, tx, withdraw, &n);
    if (!err.empty()) RC_FAIL(err);
    RC_CLASSIFY(n > 1, "split");
    RC_CLASSIFY(ap, "add-path");
}

RC_GTEST_PROP(MsgUpdatePacker, Ipv4Unicast, ()) {
    const SessionContext tx = GenContext(Family::kIpv4Unicast);
    const bool ap = tx.add_path_tx(Family::kIpv4Unicast);
    const bool withdraw = *rc::gen::arbitrary<bool>();
    auto nlri = GenList<InetNlri>(1, 3000, [&] { return testing::GenInetNlri(ap); });
    size_t n = 0;
    auto err = CheckPack(Family::kIpv4Unicast, BaseAttributes(*rc::gen::inRange<size_t>(0, 200)),
                         V4NextHop(), nlri, tx, withdraw, &n);
    if (!err.empty()) RC_FAIL(err);
    RC_CLASSIFY(n > 1, "split");
    RC_CLASSIFY(ap, "add-path");
}

RC_GTEST_PROP(MsgUpdatePacker, Rtc, ()) {
    const SessionContext tx = GenContext(Family::kIpv4Rtc);
    const bool ap = tx.add_path_tx(Family::kIpv4Rtc);
    const bool withdraw = *rc::gen::arbitrary<bool>();
    auto nlri = GenList<RtcNlri>(1, 1500, [&] { return testing::GenRtcNlri(ap); });
    size_t n = 0;
    auto err = CheckPack(Family::kIpv4Rtc, BaseAttributes(*rc::gen::inRange<size_t>(0, 200)),
                         V4NextHop(), nlri, tx, withdraw, &n);
    if (!err.empty()) RC_FAIL(err);
    RC_CLASSIFY(n > 1, "split");
    RC_CLASSIFY(ap, "add-path");
}

// ---------------------------------------------------------------------------
// Examples.

std::vector<VpnNlri> ManyVpn(size_t n, bool add_path) {
    std::vector<VpnNlri> out;
    for (size_t i = 0; i < n; ++i) {
        VpnNlri v;
        v.path_id = add_path ? static_cast<uint32_t>(i * 7 + 1) : 0;
        v.labels = LabelStack::One(MplsLabelField(16 + i % 1000));
        v.rd = RouteDistinguisher::Type0(64512, static_cast<uint32_t>(i % 3));
        v.prefix = Prefix{IpAddress::V4(0x0a000000 + static_cast<uint32_t>(i)), 32};
        out.push_back(v);
    }
    return out;
}

// 10,000 VPNv4 routes: several 4096-octet messages, or far fewer messages of
// up to 65535 octets once RFC 8654 extended messages are negotiated.
TEST(MsgUpdatePacker, ExtendedMessages) {
    auto nlri = ManyVpn(10000, false);
    SessionContext classic, extended;
    extended.extended_message = true;
    size_t n_classic = 0, n_extended = 0;
    std::vector<size_t> sizes;
    EXPECT_EQ(CheckPack(Family::kIpv4Vpn, BaseAttributes(0), V4NextHop(), nlri, classic, false,
                        &n_classic),
              "");
    EXPECT_EQ(CheckPack(Family::kIpv4Vpn, BaseAttributes(0), V4NextHop(), nlri, extended, false,
                        &n_extended, &sizes),
              "");
    // 16 octets per route: length octet, label, RD, /32 prefix.
    EXPECT_GE(n_classic, 10000u * 16 / 4096);
    EXPECT_LE(n_extended, 4u);
    EXPECT_LT(n_extended, n_classic);
    ASSERT_FALSE(sizes.empty());
    EXPECT_GT(sizes[0], kMaxMessageSize);
    EXPECT_LE(sizes[0], kMaxExtendedMessageSize);
    EXPECT_EQ(CheckPack(Family::kIpv4Vpn, {}, {}, nlri, extended, true), "");
}

// ADD-PATH: path ids are written per NLRI and come back; two routes that
// differ only by path id both survive.
TEST(MsgUpdatePacker, AddPathIdsKept) {
    SessionContext tx;
    tx.add_path_send.set(FamilyIndex(Family::kIpv4Vpn));
    tx.add_path_send.set(FamilyIndex(Family::kIpv4Unicast));
    auto vpn = ManyVpn(500, true);
    vpn.push_back(vpn.back());
    vpn.back().path_id = 0xffffffff;
    EXPECT_EQ(CheckPack(Family::kIpv4Vpn, BaseAttributes(3), V4NextHop(), vpn, tx, false), "");
    std::vector<InetNlri> inet = {{1, *Prefix::Parse("10.0.0.0/8")},
                                  {2, *Prefix::Parse("10.0.0.0/8")}};
    EXPECT_EQ(CheckPack(Family::kIpv4Unicast, BaseAttributes(0), V4NextHop(), inet, tx, false), "");
    EXPECT_EQ(CheckPack(Family::kIpv4Unicast, {}, {}, inet, tx, true), "");

    // On the wire: path id before the length octet.
    Bytes out;
    PackWithdrawals(Family::kIpv4Unicast, NlriList{inet}, tx, out);
    EXPECT_EQ(testing::ToHex(ByteView(out).subspan(19)),
              "000c" "00000001" "080a" "00000002" "080a" "0000");
}

// When the attributes leave the MP_REACH value under 256 octets, its header
// has 3 octets, and the split must count 3, not 4 (regression: a message
// came out one NLRI short of the limit). 1006 communities leave exactly room
// for two 13-octet RTC routes in 4096 octets.
TEST(MsgUpdatePacker, ExactFitWithShortMpHeader) {
    std::vector<RtcNlri> nlri(4);
    for (uint32_t i = 0; i < 4; ++i) {
        nlri[i].length = 96;
        nlri[i].origin_as = 64512;
        nlri[i].route_target = ExtCommunity::RouteTarget(0, 64512, i);
    }
    PathAttributes a;
    a.set(attr::kOrigin);
    a.set(attr::kAsPath);
    a.set(attr::kCommunities);
    a.communities.assign(1006, 1);
    size_t n = 0;
    std::vector<size_t> sizes;
    EXPECT_EQ(
        CheckPack(Family::kIpv4Rtc, a, V4NextHop(), nlri, SessionContext{}, false, &n, &sizes), "");
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(sizes, (std::vector<size_t>{4096, 4096}));
}

// Attributes that leave no room for any NLRI: everything is reported
// oversized and nothing is written; an EVPN route too large for any message
// is skipped while the others are packed.
TEST(MsgUpdatePacker, Oversized) {
    PathAttributes huge;
    huge.set(attr::kOrigin);
    huge.set(attr::kAsPath);
    huge.set(attr::kCommunities);
    huge.communities.assign(1020, 1);
    Bytes out;
    NlriList vpn = ManyVpn(3, false);
    PackResult r =
        PackAnnouncements(huge, Family::kIpv4Vpn, V4NextHop(), vpn, SessionContext{}, out);
    EXPECT_EQ(r.messages, 0u);
    EXPECT_EQ(r.oversized, 3u);
    EXPECT_TRUE(out.empty());
    NlriList inet = std::vector<InetNlri>{{0, *Prefix::Parse("10.0.0.0/8")}};
    r = PackAnnouncements(huge, Family::kIpv4Unicast, V4NextHop(), inet, SessionContext{}, out);
    EXPECT_EQ(r.oversized, 1u);
    EXPECT_TRUE(out.empty());

    // Attributes leaving room for 100 octets of NLRI; one of two EVPN routes
    // (an unknown route type with 200 octets) does not fit.
    PathAttributes big;
    big.set(attr::kOrigin);
    big.set(attr::kAsPath);
    big.set(attr::kCommunities);
    big.communities.assign(990, 1);
    EvpnNlri small_route, large_route;
    small_route.route_type = 9;
    small_route.raw = Bytes(10, 1);
    large_route.route_type = 9;
    large_route.raw = Bytes(200, 2);
    NlriList evpn = std::vector<EvpnNlri>{large_route, small_route};
    r = PackAnnouncements(big, Family::kL2vpnEvpn, V4NextHop(), evpn, SessionContext{}, out);
    EXPECT_EQ(r.oversized, 1u);
    EXPECT_EQ(r.nlri, 1u);
    EXPECT_EQ(r.messages, 1u);
    auto msgs = testing::SplitStream(out, kMaxMessageSize);
    ASSERT_EQ(msgs.size(), 1u);
    DecodeResult res = DecodeMessage(msgs[0], SessionContext{});
    ASSERT_FALSE(res.error) << res.error->reason;
    EXPECT_EQ(std::get<std::vector<EvpnNlri>>(
                  std::get<UpdateMessage>(*res.message).attributes.mp_reach.nlri),
              std::vector<EvpnNlri>{small_route});
}

// MP attributes in the shared attributes are ignored; a NEXT_HOP already
// present is kept for IPv4 unicast; nothing is written for no NLRI.
TEST(MsgUpdatePacker, AttributeEdgeCases) {
    PathAttributes a = BaseAttributes(0);
    a.set(attr::kMpUnreach);
    a.mp_unreach.family = Family::kIpv4Vpn;
    a.mp_unreach.afi = 1;
    a.mp_unreach.safi = 128;
    a.mp_unreach.withdrawn = ManyVpn(2, false);
    auto vpn = ManyVpn(5, false);
    EXPECT_EQ(CheckPack(Family::kIpv4Vpn, a, V4NextHop(), vpn, SessionContext{}, false), "");

    PathAttributes with_nh = BaseAttributes(0);
    with_nh.set(attr::kNextHop);
    with_nh.next_hop = IpAddress::V4(0x0a0a0a0a);
    std::vector<InetNlri> inet = {{0, *Prefix::Parse("192.0.2.0/24")}};
    EXPECT_EQ(
        CheckPack(Family::kIpv4Unicast, with_nh, V4NextHop(), inet, SessionContext{}, false), "");

    Bytes out;
    NlriList empty = std::vector<VpnNlri>{};
    EXPECT_EQ(
        PackAnnouncements(a, Family::kIpv4Vpn, V4NextHop(), empty, SessionContext{}, out).messages,
        0u);
    EXPECT_EQ(PackWithdrawals(Family::kIpv4Vpn, empty, SessionContext{}, out).messages, 0u);
    EXPECT_EQ(PackWithdrawals(Family::kUnknown, empty, SessionContext{}, out).messages, 0u);
    EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace bagpipe::bgp
