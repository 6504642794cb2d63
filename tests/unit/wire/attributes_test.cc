// Path attributes: encode -> decode -> encode round trips of every attribute
// (RapidCheck, on 4-octet and 2-octet AS sessions), canonical flags and
// extended length, unknown attributes, RFC 6793 AS4_* handling, and the
// descriptor table.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>

#include "bgp/wire/attributes.h"
#include "wire_test_util.h"

namespace bagpipe::bgp {
namespace {

using testing::Attr;
using testing::Cat;
using testing::EncodeAttributes;
using testing::GenBytes;
using testing::GenList;
using testing::GenU32;
using testing::GenV4;
using testing::GenV6;
using testing::Hex;
using testing::SplitAttributes;
using testing::ToHex;

// ---------------------------------------------------------------------------
// Generators.

uint32_t GenAsn() {
    return *rc::gen::oneOf(rc::gen::inRange<uint32_t>(1, 65536), rc::gen::arbitrary<uint32_t>());
}

// AS4_PATH never carries confederation segments (RFC 6793 §6): with_confed false.
AsPath GenAsPath(bool with_confed = true) {
    AsPath p;
    p.segments = GenList<AsPathSegment>(0, 4, [with_confed] {
        AsPathSegment s;
        s.type = static_cast<uint8_t>(*rc::gen::inRange(1, with_confed ? 5 : 3));
        // Up to 255 ASNs: longer segments are split on encode (tested apart).
        size_t n =
            *rc::gen::oneOf(rc::gen::inRange<size_t>(1, 8), rc::gen::inRange<size_t>(1, 256));
        for (size_t i = 0; i < n; ++i) s.asns.push_back(GenAsn());
        return s;
    });
    return p;
}

Aggregator GenAggregator() { return Aggregator{GenAsn(), GenV4()}; }

NextHop GenNextHop() {
    NextHop nh;
    switch (*rc::gen::inRange(0, 3)) {
        case 0: nh.global = GenV4(); break;
        case 1: nh.global = GenV6(); break;
        default:
            nh.global = GenV6();
            nh.link_local = GenV6();
            break;
    }
    return nh;
}

const std::array<Family, 5> kMpFamilies = {Family::kIpv4Vpn, Family::kL2vpnEvpn,
                                           Family::kIpv4Rtc, Family::kIpv4Unicast,
                                           Family::kUnknown};

NlriList GenNlriList(Family f, bool withdraw, size_t max) {
    switch (f) {
        case Family::kIpv4Vpn:
            return GenList<VpnNlri>(0, max, [&] { return testing::GenVpnNlri(withdraw); });
        case Family::kL2vpnEvpn:
            return GenList<EvpnNlri>(0, max, [] { return testing::GenEvpnNlri(); });
        case Family::kIpv4Rtc:
            return GenList<RtcNlri>(0, max, [] { return testing::GenRtcNlri(); });
        default:
            return GenList<InetNlri>(0, max, [] { return testing::GenInetNlri(); });
    }
}

// An AFI/SAFI pair the codec does not know.
AfiSafi GenUnknownAfiSafi() {
    return *rc::gen::element(AfiSafi{1, 2}, AfiSafi{2, 5}, AfiSafi{3, 1}, AfiSafi{16388, 71},
                             AfiSafi{25, 65});
}

MpReach GenMpReach() {
    MpReach mp;
    mp.family = *rc::gen::elementOf(kMpFamilies);
    if (mp.family == Family::kUnknown) {
        AfiSafi as = GenUnknownAfiSafi();
        mp.afi = as.afi;
        mp.safi = as.safi;
        // Next-hop length, next hop, reserved octet, then anything.
        Bytes nh = GenBytes(0, 20);
        mp.raw.push_back(static_cast<uint8_t>(nh.size()));
        mp.raw.insert(mp.raw.end(), nh.begin(), nh.end());
        Bytes rest = GenBytes(1, 30);
        mp.raw.insert(mp.raw.end(), rest.begin(), rest.end());
        return mp;
    }
    AfiSafi as = ToAfiSafi(mp.family);
    mp.afi = as.afi;
    mp.safi = as.safi;
    mp.next_hop = GenNextHop();
    mp.nlri = GenNlriList(mp.family, false, 20);
    return mp;
}

MpUnreach GenMpUnreach() {
    MpUnreach mp;
    mp.family = *rc::gen::elementOf(kMpFamilies);
    if (mp.family == Family::kUnknown) {
        AfiSafi as = GenUnknownAfiSafi();
        mp.afi = as.afi;
        mp.safi = as.safi;
        mp.raw = GenBytes(0, 30);
        return mp;
    }
    AfiSafi as = ToAfiSafi(mp.family);
    mp.afi = as.afi;
    mp.safi = as.safi;
    mp.withdrawn = GenNlriList(mp.family, true, 20);
    return mp;
}

// Type codes no descriptor claims (0 is reserved but still carried).
const std::array<uint8_t, 16> kUnknownCodes = {0,  11, 12, 13, 19, 20,  21,  23,
                                               25, 26, 29, 35, 40, 99, 200, 255};
const std::array<uint8_t, 5> kPmsiTypes = {0, 1, 3, PmsiTunnel::kIngressReplication, 7};

// Any subset of the attributes the codec knows, plus unknown optional ones.
// Fields of absent attributes stay default, as the decoder leaves them.
PathAttributes GenAttributes(bool with_mp) {
    PathAttributes a;
    auto maybe = [] { return *rc::gen::arbitrary<bool>(); };
    if (maybe()) {
        a.origin = static_cast<Origin>(*rc::gen::inRange(0, 3));
        a.set(attr::kOrigin);
    }
    if (maybe()) {
        a.as_path = GenAsPath();
        a.set(attr::kAsPath);
    }
    if (maybe()) {
        a.next_hop = GenV4();
        a.set(attr::kNextHop);
    }
    if (maybe()) {
        a.med = GenU32();
        a.set(attr::kMed);
    }
    if (maybe()) {
        a.local_pref = GenU32();
        a.set(attr::kLocalPref);
    }
    if (maybe()) a.set(attr::kAtomicAggregate);
    if (maybe()) {
        a.aggregator = GenAggregator();
        a.set(attr::kAggregator);
    }
    if (maybe()) {
        a.communities = GenList<uint32_t>(1, 150, GenU32);
        a.set(attr::kCommunities);
    }
    if (maybe()) {
        a.originator_id = GenV4();
        a.set(attr::kOriginatorId);
    }
    if (maybe()) {
        a.cluster_list = GenList<uint32_t>(1, 70, GenU32);
        a.set(attr::kClusterList);
    }
    if (maybe()) {
        a.ext_communities = GenList<ExtCommunity>(1, 40, [] {
            ExtCommunity c;
            Bytes b = GenBytes(8, 8);
            std::copy(b.begin(), b.end(), c.bytes.begin());
            return c;
        });
        a.set(attr::kExtCommunities);
    }
    if (maybe()) {
        a.as4_path = GenAsPath(false);
        a.set(attr::kAs4Path);
    }
    if (maybe()) {
        a.as4_aggregator = GenAggregator();
        a.set(attr::kAs4Aggregator);
    }
    if (maybe()) {
        PmsiTunnel& t = a.pmsi_tunnel;
        t.flags = testing::GenU8();
        t.tunnel_type = *rc::gen::elementOf(kPmsiTypes);
        t.label = testing::GenLabelRaw();
        if (t.tunnel_type == PmsiTunnel::kIngressReplication)
            t.tunnel_id = *rc::gen::arbitrary<bool>() ? GenBytes(4, 4) : GenBytes(16, 16);
        else
            t.tunnel_id = GenBytes(0, 20);
        a.set(attr::kPmsiTunnel);
    }
    if (maybe()) {
        a.large_communities = GenList<LargeCommunity>(1, 30, [] {
            return LargeCommunity{GenU32(), GenU32(), GenU32()};
        });
        a.set(attr::kLargeCommunities);
    }
    if (maybe()) {
        a.attr_set.origin_as = GenU32();
        a.attr_set.attributes = GenBytes(0, 40);
        a.set(attr::kAttrSet);
    }
    for (uint8_t code : kUnknownCodes) {
        if (*rc::gen::inRange(0, 4) != 0) continue;
        RawAttribute u;
        u.code = code;
        // Always optional (an unknown well-known one resets the session);
        // transitive or not; Partial (transitive only, RFC 4271 §4.3) and
        // Extended Length bits as they come.
        const bool transitive = *rc::gen::arbitrary<bool>();
        u.flags = static_cast<uint8_t>(
            attr::kOptional | (transitive ? attr::kTransitive : 0) |
            (transitive && *rc::gen::arbitrary<bool>() ? attr::kPartial : 0) |
            (*rc::gen::arbitrary<bool>() ? attr::kExtendedLength : 0));
        u.value = *rc::gen::arbitrary<bool>() ? GenBytes(0, 10) : GenBytes(0, 300);
        a.unknown.push_back(std::move(u));
    }
    if (with_mp) {
        if (maybe()) {
            a.mp_reach = GenMpReach();
            a.set(attr::kMpReach);
            // Announcements need ORIGIN and AS_PATH (RFC 7606 §3 d).
            if (a.mp_reach.family != Family::kUnknown && NlriCount(a.mp_reach.nlri) > 0) {
                if (!a.has(attr::kOrigin)) a.set(attr::kOrigin);
                if (!a.has(attr::kAsPath)) a.set(attr::kAsPath);
            }
        }
        if (maybe()) {
            a.mp_unreach = GenMpUnreach();
            a.set(attr::kMpUnreach);
        }
    }
    return a;
}

// ---------------------------------------------------------------------------
// What a decoder sees after our encoder wrote `a`.

AsPath MapToAsTrans(AsPath p) {
    for (auto& seg : p.segments)
        for (auto& asn : seg.asns)
            if (asn > 0xffff) asn = kAsTrans;
    return p;
}

PathAttributes Expected(const PathAttributes& a, bool asn4) {
    PathAttributes e = a;
    // Unknown optional non-transitive attributes are dropped by the decoder;
    // transitive ones come back with the Partial bit (RFC 4271 §5, §9).
    e.unknown.clear();
    for (auto u : a.unknown) {
        if (!(u.flags & attr::kTransitive)) continue;
        u.flags = static_cast<uint8_t>((u.flags | attr::kPartial) & ~attr::kExtendedLength);
        e.unknown.push_back(u);
    }
    if (asn4) {
        // Not sent between NEW speakers (RFC 6793 §3).
        e.clear(attr::kAs4Path);
        e.as4_path = {};
        e.clear(attr::kAs4Aggregator);
        e.as4_aggregator = {};
        return e;
    }
    // RFC 6793 §4.2.2: towards an OLD speaker.
    if (a.has(attr::kAsPath)) {
        e.as_path = MapToAsTrans(a.as_path);
        if (!a.has(attr::kAs4Path)) {
            AsPath four;
            bool needed = false;
            for (const auto& seg : a.as_path.segments) {
                if (seg.type == AsPathSegment::kConfedSequence ||
                    seg.type == AsPathSegment::kConfedSet)
                    continue;
                four.segments.push_back(seg);
                for (auto asn : seg.asns) needed = needed || asn > 0xffff;
            }
            if (needed) {
                e.as4_path = four;
                e.set(attr::kAs4Path);
            }
        }
    }
    if (a.has(attr::kAggregator) && a.aggregator.asn > 0xffff) {
        e.aggregator.asn = kAsTrans;
        if (!a.has(attr::kAs4Aggregator)) {
            e.as4_aggregator = a.aggregator;
            e.set(attr::kAs4Aggregator);
        }
    }
    return e;
}

// Canonical form on the wire: strictly increasing type codes, the flags each
// attribute must carry, Partial on unknown transitive ones, Extended Length
// exactly when the value exceeds 255 octets.
void CheckCanonical(ByteView block) {
    auto attrs = SplitAttributes(block);
    size_t total = 0;
    for (size_t i = 0; i < attrs.size(); ++i) {
        const auto& a = attrs[i];
        total += a.whole.size();
        if (i > 0) RC_ASSERT(attrs[i - 1].code < a.code);
        RC_ASSERT(((a.flags & attr::kExtendedLength) != 0) == (a.value.size() > 255));
        const uint8_t ot = a.flags & (attr::kOptional | attr::kTransitive);
        if (const auto* d = FindAttributeDescriptor(a.code)) {
            RC_ASSERT(ot == d->flags);
            RC_ASSERT((a.flags & attr::kPartial) == 0);
        } else {
            RC_ASSERT((a.flags & attr::kOptional) != 0);
            RC_ASSERT(((a.flags & attr::kTransitive) != 0) == ((a.flags & attr::kPartial) != 0));
        }
        RC_ASSERT((a.flags & 0x0f) == 0);
    }
    RC_ASSERT(total == block.size());
}

// encode -> decode -> encode. The decode is what `a` means to the peer
// (Expected); a decoded value is a fixed point of encode -> decode; and the
// second encoding is the first one, unless `a` held unknown optional
// non-transitive attributes (sent as given, but a receiver drops them).
void RoundTrip(const PathAttributes& a, bool asn4) {
    SessionContext ctx;
    ctx.asn4 = asn4;
    const Bytes first = EncodeAttributes(a, ctx);
    CheckCanonical(first);
    const auto wire_attrs = SplitAttributes(first);
    RC_CLASSIFY(std::any_of(wire_attrs.begin(), wire_attrs.end(),
                            [](const auto& w) { return w.value.size() > 255; }),
                "extended length");
    RC_CLASSIFY(a.has(attr::kMpReach) || a.has(attr::kMpUnreach), "MP attribute");
    PathAttributes decoded;
    auto err = DecodePathAttributes(first, ctx, false, decoded);
    if (err) RC_FAIL(err->reason);
    RC_ASSERT(decoded == Expected(a, asn4));
    const Bytes second = EncodeAttributes(decoded, ctx);
    CheckCanonical(second);
    PathAttributes again;
    RC_ASSERT(!DecodePathAttributes(second, ctx, false, again));
    RC_ASSERT(again == decoded);
    RC_ASSERT(ToHex(EncodeAttributes(again, ctx)) == ToHex(second));
    const bool non_transitive_unknown =
        std::any_of(a.unknown.begin(), a.unknown.end(),
                    [](const RawAttribute& u) { return !(u.flags & attr::kTransitive); });
    if (!non_transitive_unknown) RC_ASSERT(ToHex(second) == ToHex(first));
}

// Property: on a four-octet AS session every attribute survives
// encode -> decode -> encode; AS4_PATH / AS4_AGGREGATOR are not sent.
RC_GTEST_PROP(AttrRoundTrip, EveryAttributeAsn4Session, ()) {
    RoundTrip(GenAttributes(true), true);
}

// Property: on a two-octet AS session 4-octet ASNs become AS_TRANS in
// AS_PATH and AGGREGATOR and AS4_PATH / AS4_AGGREGATOR carry the real ones.
RC_GTEST_PROP(AttrRoundTrip, EveryAttributeAsn2Session, ()) {
    const PathAttributes a = GenAttributes(true);
    RoundTrip(a, false);
    SessionContext ctx;
    ctx.asn4 = false;
    PathAttributes decoded;
    RC_ASSERT(!DecodePathAttributes(EncodeAttributes(a, ctx), ctx, false, decoded));
    for (const auto& seg : decoded.as_path.segments)
        for (auto asn : seg.asns) RC_ASSERT(asn <= 0xffffu);
    RC_ASSERT(decoded.aggregator.asn <= 0xffffu);
}

// Property: the attributes without MP are the same whichever way they were
// produced: encoding a decoded block gives back the block (any valid input
// the encoder produced, also checked on 2-octet sessions by RoundTrip).
RC_GTEST_PROP(AttrRoundTrip, UnknownTransitiveComeBackPartial, ()) {
    PathAttributes a;
    RawAttribute u;
    u.code = *rc::gen::elementOf(kUnknownCodes);
    u.flags = attr::kOptional | attr::kTransitive;
    u.value = GenBytes(0, 600);
    a.unknown.push_back(u);
    SessionContext ctx;
    Bytes wire = EncodeAttributes(a, ctx);
    auto attrs = SplitAttributes(wire);
    RC_ASSERT(attrs.size() == 1u);
    RC_ASSERT(attrs[0].flags == (u.value.size() > 255 ? 0xf0 : 0xe0));
    RC_ASSERT(attrs[0].value == u.value);
    PathAttributes back;
    RC_ASSERT(!DecodePathAttributes(wire, ctx, false, back));
    RC_ASSERT(back.unknown.size() == 1u);
    RC_ASSERT(back.unknown[0].flags == 0xe0);
    RC_ASSERT(back.unknown[0].value == u.value);
}

// ---------------------------------------------------------------------------
// Examples.

// Flags and layout of each well-known and optional attribute, in code order.
TEST(AttrEncode, CanonicalBytes) {
    PathAttributes a;
    a.set(attr::kOrigin);
    a.origin = Origin::kIncomplete;
    a.set(attr::kAsPath);
    a.as_path.segments = {{AsPathSegment::kSequence, {65001, 4200000000u}}};
    a.set(attr::kNextHop);
    a.next_hop = IpAddress::V4(0x0a000001);
    a.set(attr::kMed);
    a.med = 7;
    a.set(attr::kLocalPref);
    a.local_pref = 100;
    a.set(attr::kAtomicAggregate);
    a.set(attr::kAggregator);
    a.aggregator = {65002, IpAddress::V4(0x0a000002)};
    a.set(attr::kCommunities);
    a.communities = {0xfde80001};
    a.set(attr::kOriginatorId);
    a.originator_id = IpAddress::V4(0x01020304);
    a.set(attr::kClusterList);
    a.cluster_list = {0x05060708};
    a.set(attr::kExtCommunities);
    a.ext_communities = {ExtCommunity::RouteTarget(0, 64512, 1)};
    a.set(attr::kPmsiTunnel);
    a.pmsi_tunnel = {0, PmsiTunnel::kIngressReplication, 0x10, Hex("7f000101")};
    a.set(attr::kLargeCommunities);
    a.large_communities = {{1, 2, 3}};
    SessionContext ctx;
    EXPECT_EQ(ToHex(EncodeAttributes(a, ctx)),
              "400101"
              "02"
              "40020a"
              "0202"
              "0000fde9fa56ea00"
              "4003040a000001"
              "80040400000007"
              "40050400000064"
              "400600"
              "c00708"
              "0000fdea0a000002"
              "c00804fde80001"
              "80090401020304"
              "800a0405060708"
              "c010080002fc0000000001"
              "c01609" "00" "06" "000010" "7f000101"
              "c0200c000000010000000200000003");
}

// An AS_PATH segment longer than 255 ASNs is split in two (RFC 4271 §5.1.2
// allows it); the value then needs the extended length.
TEST(AttrEncode, LongAsPathSegmentSplit) {
    PathAttributes a;
    a.set(attr::kAsPath);
    AsPathSegment seg{AsPathSegment::kSequence, {}};
    for (uint32_t i = 0; i < 300; ++i) seg.asns.push_back(64512 + i);
    a.as_path.segments = {seg};
    SessionContext ctx;
    Bytes wire = EncodeAttributes(a, ctx);
    auto attrs = SplitAttributes(wire);
    ASSERT_EQ(attrs.size(), 1u);
    EXPECT_EQ(attrs[0].flags, 0x50);
    EXPECT_EQ(attrs[0].value.size(), 2u + 255 * 4 + 2 + 45 * 4);
    PathAttributes back;
    ASSERT_FALSE(DecodePathAttributes(wire, ctx, false, back));
    ASSERT_EQ(back.as_path.segments.size(), 2u);
    EXPECT_EQ(back.as_path.segments[0].asns.size(), 255u);
    EXPECT_EQ(back.as_path.segments[1].asns.size(), 45u);
    EXPECT_EQ(back.as_path.Length(), 300u);
    EXPECT_EQ(back.as_path.segments[1].asns.back(), 64512u + 299);
}

// Extended length exactly when the value passes 255 octets: 63 communities
// (252 octets) use a 1-octet length, 64 (256 octets) a 2-octet one.
TEST(AttrEncode, ExtendedLengthThreshold) {
    SessionContext ctx;
    for (size_t n : {63u, 64u}) {
        PathAttributes a;
        a.set(attr::kCommunities);
        a.communities.assign(n, 0x12345678);
        Bytes wire = EncodeAttributes(a, ctx);
        auto attrs = SplitAttributes(wire);
        ASSERT_EQ(attrs.size(), 1u);
        EXPECT_EQ(attrs[0].flags, n == 63 ? 0xc0 : 0xd0);
        EXPECT_EQ(wire.size(), (n == 63 ? 3u : 4u) + 4 * n);
    }
    // A 255-octet unknown attribute still has a 1-octet length.
    PathAttributes u;
    u.unknown.push_back({attr::kOptional | attr::kTransitive, 99, Bytes(255, 1)});
    EXPECT_EQ(EncodeAttributes(u, ctx).size(), 3u + 255);
    u.unknown[0].value.push_back(1);
    EXPECT_EQ(EncodeAttributes(u, ctx).size(), 4u + 256);
}

// A received attribute with a needless Extended Length bit decodes and is
// re-sent with a 1-octet length.
TEST(AttrDecode, NeedlessExtendedLengthAccepted) {
    Bytes block = Cat({Attr(0x50, attr::kOrigin, {0}),
                       Attr(0xd0, attr::kCommunities, Hex("01020304"))});
    PathAttributes a;
    ASSERT_FALSE(DecodePathAttributes(block, SessionContext{}, false, a));
    EXPECT_EQ(a.origin, Origin::kIgp);
    EXPECT_EQ(a.communities, std::vector<uint32_t>{0x01020304});
    EXPECT_EQ(ToHex(EncodeAttributes(a, SessionContext{})), "40010100" "c00804" "01020304");
}

// RFC 6793 §4.2.2 on a 2-octet session: AS_TRANS in AS_PATH and AGGREGATOR,
// AS4_PATH (without the confederation segment) and AS4_AGGREGATOR added.
TEST(AttrEncode, OldSpeakerGetsAs4Attributes) {
    PathAttributes a;
    a.set(attr::kAsPath);
    a.as_path.segments = {{AsPathSegment::kConfedSequence, {4200000001u}},
                          {AsPathSegment::kSequence, {65001, 4200000000u}}};
    a.set(attr::kAggregator);
    a.aggregator = {4200000000u, IpAddress::V4(0x0a000002)};
    SessionContext ctx;
    ctx.asn4 = false;
    EXPECT_EQ(ToHex(EncodeAttributes(a, ctx)),
              "40020a" "03015ba0" "0202fde95ba0"
              "c00706" "5ba00a000002"
              "c0110a" "0202" "0000fde9fa56ea00"
              "c01208" "fa56ea000a000002");
    // Nothing to add when every ASN fits 2 octets, or only a confederation
    // segment needs 4.
    PathAttributes small;
    small.set(attr::kAsPath);
    small.as_path.segments = {{AsPathSegment::kConfedSet, {4200000001u}},
                              {AsPathSegment::kSequence, {65001}}};
    small.set(attr::kAggregator);
    small.aggregator = {65002, IpAddress::V4(1)};
    PathAttributes back;
    ASSERT_FALSE(DecodePathAttributes(EncodeAttributes(small, ctx), ctx, false, back));
    EXPECT_FALSE(back.has(attr::kAs4Path));
    EXPECT_FALSE(back.has(attr::kAs4Aggregator));
    EXPECT_EQ(back.as_path.segments[0].asns[0], kAsTrans);
}

// Between NEW speakers AS4_PATH / AS4_AGGREGATOR are never sent.
TEST(AttrEncode, NewSpeakerNeverGetsAs4Attributes) {
    PathAttributes a;
    a.set(attr::kAs4Path);
    a.as4_path.segments = {{AsPathSegment::kSequence, {4200000000u}}};
    a.set(attr::kAs4Aggregator);
    a.as4_aggregator = {4200000000u, IpAddress::V4(1)};
    EXPECT_TRUE(EncodeAttributes(a, SessionContext{}).empty());
}

// Present-but-empty list attributes would be malformed on the wire (RFC 7606
// §7.8, §7.10, §7.14, RFC 8092 §6) and are not written.
TEST(AttrEncode, EmptyListAttributesNotWritten) {
    PathAttributes a;
    a.set(attr::kOrigin);
    a.set(attr::kCommunities);
    a.set(attr::kClusterList);
    a.set(attr::kExtCommunities);
    a.set(attr::kLargeCommunities);
    Bytes wire = EncodeAttributes(a, SessionContext{});
    EXPECT_EQ(ToHex(wire), "40010100");
    PathAttributes back;
    EXPECT_FALSE(DecodePathAttributes(wire, SessionContext{}, false, back));
}

// EncodeAttribute writes one attribute and refuses absent and MP-less codes.
TEST(AttrEncode, SingleAttribute) {
    PathAttributes a;
    a.set(attr::kMed);
    a.med = 0x01020304;
    Bytes out;
    Writer w(out);
    EXPECT_TRUE(EncodeAttribute(a, attr::kMed, SessionContext{}, w));
    EXPECT_FALSE(EncodeAttribute(a, attr::kLocalPref, SessionContext{}, w));
    EXPECT_FALSE(EncodeAttribute(a, 99, SessionContext{}, w));
    EXPECT_EQ(ToHex(out), "80040401020304");
    Bytes hdr;
    Writer hw(hdr);
    PutAttributeHeader(0xd0, 8, 4, hw);     // Extended Length dropped when not needed
    PutAttributeHeader(0xc0, 8, 300, hw);   // and added when needed
    EXPECT_EQ(ToHex(hdr), "c00804" "d008012c");
}

// The descriptor table: names, required flags and RFC 7606 actions.
TEST(AttrDescriptors, Table) {
    struct Row {
        uint8_t code;
        const char* name;
        uint8_t flags;
        ErrorAction action;
    };
    const Row rows[] = {
        {1, "ORIGIN", 0x40, ErrorAction::kTreatAsWithdraw},
        {2, "AS_PATH", 0x40, ErrorAction::kTreatAsWithdraw},
        {3, "NEXT_HOP", 0x40, ErrorAction::kTreatAsWithdraw},
        {4, "MULTI_EXIT_DISC", 0x80, ErrorAction::kTreatAsWithdraw},
        {5, "LOCAL_PREF", 0x40, ErrorAction::kTreatAsWithdraw},
        {6, "ATOMIC_AGGREGATE", 0x40, ErrorAction::kAttributeDiscard},
        {7, "AGGREGATOR", 0xc0, ErrorAction::kAttributeDiscard},
        {8, "COMMUNITIES", 0xc0, ErrorAction::kTreatAsWithdraw},
        {9, "ORIGINATOR_ID", 0x80, ErrorAction::kTreatAsWithdraw},
        {10, "CLUSTER_LIST", 0x80, ErrorAction::kTreatAsWithdraw},
        {14, "MP_REACH_NLRI", 0x80, ErrorAction::kSessionReset},
        {15, "MP_UNREACH_NLRI", 0x80, ErrorAction::kSessionReset},
        {16, "EXTENDED_COMMUNITIES", 0xc0, ErrorAction::kTreatAsWithdraw},
        {17, "AS4_PATH", 0xc0, ErrorAction::kAttributeDiscard},
        {18, "AS4_AGGREGATOR", 0xc0, ErrorAction::kAttributeDiscard},
        {22, "PMSI_TUNNEL", 0xc0, ErrorAction::kTreatAsWithdraw},
        {32, "LARGE_COMMUNITIES", 0xc0, ErrorAction::kTreatAsWithdraw},
        {128, "ATTR_SET", 0xc0, ErrorAction::kTreatAsWithdraw},
    };
    for (const auto& r : rows) {
        const AttributeDescriptor* d = FindAttributeDescriptor(r.code);
        ASSERT_NE(d, nullptr) << int(r.code);
        EXPECT_EQ(d->code, r.code);
        EXPECT_EQ(d->name, r.name);
        EXPECT_EQ(AttributeName(r.code), r.name);
        EXPECT_EQ(d->flags, r.flags) << r.name;
        EXPECT_EQ(d->on_malformed, r.action) << r.name;
    }
    for (uint8_t code : kUnknownCodes) {
        EXPECT_EQ(FindAttributeDescriptor(code), nullptr) << int(code);
        EXPECT_EQ(AttributeName(code), "");
    }
}

// AS path length for best-path selection (RFC 4271 §9.1.2.2 a).
TEST(AttrAsPath, LengthAndContains) {
    AsPath p;
    p.segments = {{AsPathSegment::kSequence, {1, 2, 3}},
                  {AsPathSegment::kSet, {4, 5}},
                  {AsPathSegment::kConfedSequence, {6, 7}},
                  {AsPathSegment::kConfedSet, {8}}};
    EXPECT_EQ(p.Length(), 4u);
    EXPECT_TRUE(p.Contains(5));
    EXPECT_TRUE(p.Contains(8));
    EXPECT_FALSE(p.Contains(9));
    EXPECT_EQ(AsPath{}.Length(), 0u);
}

// ATTR_SET (RFC 6368) keeps its nested attributes raw; DecodeAttrSet reads
// them with 4-octet ASNs and refuses nested MP attributes.
TEST(AttrAttrSet, NestedAttributes) {
    AttrSet set;
    set.origin_as = 64512;
    set.attributes = Cat({Attr(0x40, attr::kOrigin, {1}),
                          Attr(0x40, attr::kAsPath, Hex("020100fde9e8")),
                          Attr(0x40, attr::kLocalPref, Hex("00000064"))});
    PathAttributes inner;
    ASSERT_FALSE(DecodeAttrSet(set, inner));
    EXPECT_EQ(inner.origin, Origin::kEgp);
    ASSERT_EQ(inner.as_path.segments.size(), 1u);
    EXPECT_EQ(inner.as_path.segments[0].asns[0], 0x00fde9e8u);
    EXPECT_EQ(inner.local_pref, 100u);

    set.attributes = Cat({set.attributes, Attr(0x80, attr::kMpUnreach, Hex("000180"))});
    PathAttributes bad;
    auto err = DecodeAttrSet(set, bad);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->action, ErrorAction::kTreatAsWithdraw);
    EXPECT_EQ(err->attribute_code, attr::kAttrSet);

    // On the wire the ATTR_SET value is the origin AS then the raw block.
    PathAttributes outer;
    outer.set(attr::kAttrSet);
    outer.attr_set = set;
    Bytes wire = EncodeAttributes(outer, SessionContext{});
    EXPECT_EQ(wire[0], 0xc0);
    EXPECT_EQ(wire[1], attr::kAttrSet);
    PathAttributes back;
    ASSERT_FALSE(DecodePathAttributes(wire, SessionContext{}, false, back));
    EXPECT_EQ(back.attr_set, set);
}

// MergeError keeps the most severe action; names of actions.
TEST(AttrErrors, MergeKeepsMostSevere) {
    std::optional<DecodeError> e;
    MergeError(e, DecodeError{ErrorAction::kTreatAsWithdraw, std::nullopt, "a"});
    MergeError(e, DecodeError{ErrorAction::kAttributeDiscard, std::nullopt, "b"});
    EXPECT_EQ(e->reason, "a");
    MergeError(e, DecodeError{ErrorAction::kAfiSafiDisable, std::nullopt, "c"});
    MergeError(e, DecodeError{ErrorAction::kAfiSafiDisable, std::nullopt, "d"});
    EXPECT_EQ(e->reason, "c");
    MergeError(e, DecodeError::Reset(3, 1, "e"));
    EXPECT_EQ(e->action, ErrorAction::kSessionReset);
    EXPECT_EQ(e->notification, (Notification{3, 1, {}}));
    EXPECT_EQ(ErrorActionName(ErrorAction::kAttributeDiscard), "attribute-discard");
    EXPECT_EQ(ErrorActionName(ErrorAction::kTreatAsWithdraw), "treat-as-withdraw");
    EXPECT_EQ(ErrorActionName(ErrorAction::kAfiSafiDisable), "afi-safi-disable");
    EXPECT_EQ(ErrorActionName(ErrorAction::kSessionReset), "session-reset");
}

}  // namespace
}  // namespace bagpipe::bgp
