// Messages (RFC 4271 §4): OPEN (with RFC 9072 extended optional parameters),
// NOTIFICATION (with RFC 9003 shutdown communication), ROUTE-REFRESH (RFC
// 7313 subtypes), KEEPALIVE, UPDATE size limits and End-of-RIB; RapidCheck
// round trips of each, and stream framing over arbitrary TCP segmentation.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <string>

#include "bgp/wire/message.h"
#include "wire_test_util.h"

namespace bagpipe::bgp {
namespace {

using testing::GenBytes;
using testing::GenList;
using testing::GenU32;
using testing::GenU8;
using testing::Hex;
using testing::ToHex;

DecodeResult Decode(ByteView b, const SessionContext& ctx = SessionContext{}) {
    return DecodeMessage(b, ctx);
}

// ---------------------------------------------------------------------------
// OPEN.

constexpr std::array<uint16_t, 3> kAfis = {1, 2, 25};
// Codes without a typed decoder (71 long-lived GR, 73 FQDN, ...).
constexpr std::array<uint8_t, 5> kUntypedCodes = {5, 71, 73, 128, 200};

Capability GenOpenCapability() {
    switch (*rc::gen::inRange(0, 5)) {
        case 0: return MultiprotocolCap{*rc::gen::elementOf(kAfis), GenU8()};
        case 1: return RouteRefreshCap{};
        case 2: return FourOctetAsCap{GenU32()};
        case 3: return ExtendedMessageCap{};
        default: {
            uint8_t code = *rc::gen::elementOf(kUntypedCodes);
            return UnknownCap{code, GenBytes(0, 60)};
        }
    }
}

// Property: an OPEN with any capabilities survives encode -> decode ->
// encode. When the capabilities pass 253 octets (no room in one 255-octet
// classic parameter) the RFC 9072 extended encoding is used, and only then
// (unless asked for).
RC_GTEST_PROP(MsgOpen, RoundTrip, ()) {
    OpenMessage m;
    m.my_as = *rc::gen::arbitrary<uint16_t>();
    m.hold_time = *rc::gen::oneOf(rc::gen::just<uint16_t>(0), rc::gen::inRange<uint16_t>(3, 65535));
    m.bgp_id = *rc::gen::inRange<uint32_t>(1, 0xffffffff);
    m.capabilities = GenList<Capability>(0, 60, GenOpenCapability);
    m.extended_parameters = *rc::gen::inRange(0, 5) == 0;
    const Bytes wire = EncodeOpen(m);

    size_t caps_size = 0;
    for (const auto& c : m.capabilities) {
        Bytes b;
        Writer w(b);
        EncodeCapability(c, w);
        caps_size += b.size();
    }
    const bool extended = m.extended_parameters || caps_size + 2 > 255;
    RC_TAG(extended ? "RFC 9072 extended parameters" : "classic parameters");
    const size_t params = caps_size == 0 ? 0 : (extended ? 3 : 2) + caps_size;
    RC_ASSERT(wire.size() == kHeaderSize + 10 + params + (extended ? 3 : 0));
    if (extended) {
        RC_ASSERT(wire[28] == 255);  // RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255
        RC_ASSERT(wire[29] == 255);
    } else {
        RC_ASSERT(wire[28] == params);
    }
    if (wire.size() > kMaxMessageSize) RC_DISCARD("OPEN larger than 4096 octets");

    DecodeResult res = Decode(wire);
    if (res.error) RC_FAIL(res.error->reason);
    OpenMessage expected = m;
    expected.extended_parameters = extended;
    RC_ASSERT(std::get<OpenMessage>(*res.message) == expected);
    RC_ASSERT(EncodeOpen(std::get<OpenMessage>(*res.message)) == wire);
}

// RFC 9072 layout: parameter type 2 with a 2-octet length.
TEST(MsgOpen, ExtendedParametersLayout) {
    OpenMessage m;
    m.my_as = 64512;
    m.hold_time = 90;
    m.bgp_id = 0x01020304;
    for (int i = 0; i < 60; ++i) m.capabilities.push_back(MultiprotocolCap{1, 128});  // 360 octets
    Bytes wire = EncodeOpen(m);
    EXPECT_EQ(ToHex(ByteView(wire).subspan(19, 16)), "04fc00005a01020304ffff016b020168");
    EXPECT_EQ(wire.size(), 19u + 10 + 3 + 3 + 360);
    DecodeResult res = Decode(wire);
    ASSERT_FALSE(res.error) << res.error->reason;
    const auto& o = std::get<OpenMessage>(*res.message);
    EXPECT_TRUE(o.extended_parameters);
    EXPECT_EQ(o.capabilities.size(), 60u);
}

// Optional parameters other than capabilities decide the encoding too: a
// large one forces the extended encoding for every parameter (regression:
// the choice used to be made after the capability parameter was written with
// a 1-octet length). Such parameters are reported as unsupported (2/4).
TEST(MsgOpen, OtherParametersForceExtendedEncoding) {
    OpenMessage m;
    m.my_as = 64512;
    m.hold_time = 90;
    m.bgp_id = 1;
    m.capabilities = {RouteRefreshCap{}};
    m.other_parameters = {{1, Bytes(300, 0xaa)}};
    Bytes wire = EncodeOpen(m);
    EXPECT_EQ(ToHex(ByteView(wire).subspan(28, 10)), "ffff0134" "02000202" "0001");
    DecodeResult res = Decode(wire);
    ASSERT_TRUE(res.error);
    EXPECT_EQ(res.error->notification, (Notification{2, notif::kUnsupportedOptionalParameter, {}}));
    const auto& o = std::get<OpenMessage>(*res.message);
    EXPECT_TRUE(o.extended_parameters);
    EXPECT_EQ(o.capabilities, std::vector<Capability>{RouteRefreshCap{}});
    ASSERT_EQ(o.other_parameters.size(), 1u);
    EXPECT_EQ(o.other_parameters[0].second, Bytes(300, 0xaa));
    // Small ones fit the classic encoding.
    m.other_parameters = {{1, Hex("0102")}};
    wire = EncodeOpen(m);
    EXPECT_EQ(ToHex(ByteView(wire).subspan(28)), "08" "02020200" "01020102");
}

// Find and AsNumber.
TEST(MsgOpen, FindAndAsNumber) {
    OpenMessage m;
    m.my_as = kAsTrans;
    EXPECT_EQ(m.AsNumber(), kAsTrans);
    EXPECT_EQ(m.Find(cap::kFourOctetAs), nullptr);
    m.capabilities = {RouteRefreshCap{}, FourOctetAsCap{4200000000u}};
    EXPECT_EQ(m.AsNumber(), 4200000000u);
    ASSERT_NE(m.Find(cap::kRouteRefresh), nullptr);
    EXPECT_TRUE(std::holds_alternative<RouteRefreshCap>(*m.Find(cap::kRouteRefresh)));
}

// ---------------------------------------------------------------------------
// NOTIFICATION.

// Property: any NOTIFICATION survives encode -> decode -> encode; a Cease
// administrative shutdown or reset with a shutdown communication (RFC 9003)
// gets its length-prefixed text back, other codes keep the data raw.
RC_GTEST_PROP(MsgNotification, RoundTrip, ()) {
    NotificationMessage m;
    const bool shutdown = *rc::gen::arbitrary<bool>();
    if (shutdown) {
        m.code = notif::kCease;
        m.subcode = *rc::gen::element(notif::kAdministrativeShutdown, notif::kAdministrativeReset);
        m.shutdown_communication = *rc::gen::container<std::string>(
            *rc::gen::inRange<size_t>(0, 256), rc::gen::inRange<char>(32, 127));
    } else {
        m.code = *rc::gen::inRange<uint8_t>(1, 8);
        m.subcode = GenU8();
        m.data = GenBytes(0, 200);
    }
    const Bytes wire = EncodeNotification(m);
    DecodeResult res = Decode(wire);
    if (res.error) RC_FAIL(res.error->reason);
    const auto& back = std::get<NotificationMessage>(*res.message);
    RC_ASSERT(back.code == m.code);
    RC_ASSERT(back.subcode == m.subcode);
    if (shutdown) {
        RC_ASSERT(back.shutdown_communication == m.shutdown_communication);
        RC_ASSERT(back.data.size() == 1 + m.shutdown_communication->size());
        RC_ASSERT(back.data[0] == m.shutdown_communication->size());
    } else {
        RC_ASSERT(back.data == m.data);
        const bool looks_like_shutdown =
            m.code == notif::kCease &&
            (m.subcode == notif::kAdministrativeShutdown ||
             m.subcode == notif::kAdministrativeReset) &&
            !m.data.empty() && m.data[0] < m.data.size();
        RC_ASSERT(back.shutdown_communication.has_value() == looks_like_shutdown);
    }
    RC_ASSERT(EncodeNotification(back) == wire);
}

// RFC 9003 wire layout; a communication longer than 255 octets is cut.
TEST(MsgNotification, ShutdownCommunicationLayout) {
    NotificationMessage m{notif::kCease, notif::kAdministrativeShutdown, {}, "maintenance"};
    EXPECT_EQ(ToHex(EncodeNotification(m)),
              "ffffffffffffffffffffffffffffffff" "0021" "03" "0602" "0b" "6d61696e74656e616e6365");
    m.shutdown_communication = std::string(300, 'x');
    Bytes wire = EncodeNotification(m);
    EXPECT_EQ(wire.size(), 19u + 2 + 1 + 255);
    EXPECT_EQ(wire[21], 255);
}

// ---------------------------------------------------------------------------
// ROUTE-REFRESH and KEEPALIVE.

// Property: ROUTE-REFRESH normal (0), BoRR (1) and EoRR (2) for any AFI/SAFI
// survive encode -> decode -> encode.
RC_GTEST_PROP(MsgRouteRefresh, RoundTrip, (uint16_t afi, uint8_t safi)) {
    RouteRefreshMessage m;
    m.afi = afi;
    m.safi = safi;
    m.subtype = *rc::gen::element(RouteRefreshMessage::kNormal, RouteRefreshMessage::kBeginOfRib,
                                  RouteRefreshMessage::kEndOfRib);
    const Bytes wire = EncodeRouteRefresh(m);
    RC_ASSERT(wire.size() == 23u);
    DecodeResult res = Decode(wire);
    RC_ASSERT(!res.error);
    RC_ASSERT(std::get<RouteRefreshMessage>(*res.message) == m);
    RC_ASSERT(EncodeRouteRefresh(std::get<RouteRefreshMessage>(*res.message)) == wire);
}

TEST(MsgRouteRefresh, Layout) {
    EXPECT_EQ(ToHex(EncodeRouteRefresh({25, RouteRefreshMessage::kEndOfRib, 70})),
              "ffffffffffffffffffffffffffffffff" "0017" "05" "0019" "02" "46");
}

// A normal ROUTE-REFRESH may carry ORF entries (RFC 5291): they are ignored.
TEST(MsgRouteRefresh, NormalWithOrfEntriesAccepted) {
    DecodeResult res = Decode(testing::Message(5, Hex("00010080" "01" "0003" "aabbcc")));
    ASSERT_FALSE(res.error);
    EXPECT_EQ(std::get<RouteRefreshMessage>(*res.message), (RouteRefreshMessage{1, 0, 128}));
}

TEST(MsgKeepalive, RoundTrip) {
    Bytes wire = EncodeKeepalive();
    EXPECT_EQ(wire.size(), 19u);
    DecodeResult res = Decode(wire);
    ASSERT_FALSE(res.error);
    EXPECT_EQ(res.type, 4);
    EXPECT_TRUE(std::holds_alternative<KeepaliveMessage>(*res.message));
}

TEST(MsgTypes, Names) {
    EXPECT_EQ(MessageTypeName(1), "OPEN");
    EXPECT_EQ(MessageTypeName(2), "UPDATE");
    EXPECT_EQ(MessageTypeName(3), "NOTIFICATION");
    EXPECT_EQ(MessageTypeName(4), "KEEPALIVE");
    EXPECT_EQ(MessageTypeName(5), "ROUTE-REFRESH");
    EXPECT_EQ(MessageTypeName(6), "UNKNOWN");
}

// ---------------------------------------------------------------------------
// UPDATE: End-of-RIB, size limits, classic fields.

// RFC 4724 §2: an empty UPDATE for IPv4 unicast, an empty MP_UNREACH for the
// others; both recognised on decode.
TEST(MsgUpdate, EndOfRibEveryFamily) {
    EXPECT_EQ(ToHex(EncodeEndOfRib(Family::kIpv4Unicast)),
              "ffffffffffffffffffffffffffffffff" "0017" "02" "0000" "0000");
    EXPECT_EQ(ToHex(EncodeEndOfRib(Family::kIpv4Vpn)),
              "ffffffffffffffffffffffffffffffff" "001d" "02" "0000" "0006" "800f03000180");
    for (size_t i = 1; i < kFamilyCount; ++i) {
        Family f = static_cast<Family>(i);
        SCOPED_TRACE(FamilyName(f));
        DecodeResult res = Decode(EncodeEndOfRib(f));
        ASSERT_FALSE(res.error) << res.error->reason;
        EXPECT_EQ(std::get<UpdateMessage>(*res.message).EndOfRib(), f);
    }
    // Not an End-of-RIB: a withdrawal with routes, or other attributes.
    UpdateMessage m;
    m.withdrawn = {InetNlri{0, *Prefix::Parse("10.0.0.0/8")}};
    EXPECT_FALSE(m.EndOfRib());
    UpdateMessage with_origin;
    with_origin.attributes.set(attr::kOrigin);
    EXPECT_FALSE(with_origin.EndOfRib());
}

// Classic IPv4 fields: withdrawn routes, NEXT_HOP, NLRI.
TEST(MsgUpdate, ClassicIpv4Fields) {
    UpdateMessage m;
    m.withdrawn = {InetNlri{0, *Prefix::Parse("10.1.0.0/16")}};
    m.attributes.set(attr::kOrigin);
    m.attributes.set(attr::kAsPath);
    m.attributes.set(attr::kNextHop);
    m.attributes.next_hop = IpAddress::V4(0xc0000201);
    m.nlri = {InetNlri{0, *Prefix::Parse("192.0.2.128/25")},
              InetNlri{0, *Prefix::Parse("0.0.0.0/0")}};
    Bytes wire = EncodeUpdate(m, SessionContext{});
    EXPECT_EQ(ToHex(wire), "ffffffffffffffffffffffffffffffff" "002e" "02"
                           "0003" "100a01"
                           "000e" "400101" "00" "400200" "400304" "c0000201"
                           "19c0000280" "00");
    DecodeResult res = Decode(wire);
    ASSERT_FALSE(res.error) << res.error->reason;
    EXPECT_EQ(std::get<UpdateMessage>(*res.message), m);
}

// EncodeUpdate refuses messages over the negotiated maximum: 4096 octets, or
// 65535 with RFC 8654 extended messages.
TEST(MsgUpdate, EncodeRespectsMaximumSize) {
    UpdateMessage m;
    m.attributes.set(attr::kCommunities);
    // 19 + 4 + 4 + 4n octets: n = 1017 gives 4095, 1018 gives 4099.
    m.attributes.communities.assign(1017, 1);
    EXPECT_EQ(EncodeUpdate(m, SessionContext{}).size(), 4095u);
    m.attributes.communities.assign(1018, 1);
    EXPECT_TRUE(EncodeUpdate(m, SessionContext{}).empty());
    SessionContext ext;
    ext.extended_message = true;
    Bytes big = EncodeUpdate(m, ext);
    EXPECT_EQ(big.size(), 4099u);
    // Decodes only where extended messages were negotiated.
    EXPECT_FALSE(DecodeMessage(big, ext).error);
    EXPECT_TRUE(DecodeMessage(big, SessionContext{}).error);
}

// ---------------------------------------------------------------------------
// Stream framing.

Bytes GenMessage() {
    switch (*rc::gen::inRange(0, 5)) {
        case 0: return EncodeKeepalive();
        case 1:
            return EncodeNotification(
                {*rc::gen::inRange<uint8_t>(1, 8), GenU8(), GenBytes(0, 50), std::nullopt});
        case 2: return EncodeRouteRefresh({1, 0, 128});
        case 3: {
            OpenMessage o;
            o.my_as = 64512;
            o.hold_time = 180;
            o.bgp_id = 1;
            o.capabilities = {MultiprotocolCap{1, 128}, FourOctetAsCap{GenU32()}};
            return EncodeOpen(o);
        }
        default: {
            UpdateMessage m;
            m.attributes.set(attr::kOrigin);
            m.attributes.set(attr::kAsPath);
            m.attributes.set(attr::kNextHop);
            m.attributes.next_hop = testing::GenV4();
            m.nlri = GenList<InetNlri>(0, 300, [] { return testing::GenInetNlri(); });
            return EncodeUpdate(m, SessionContext{});
        }
    }
}

// Property: a stream of back-to-back messages cut into arbitrary segments
// (as TCP may deliver it) and fed to FrameMessage one segment at a time
// reassembles to exactly the messages sent, in order.
RC_GTEST_PROP(MsgFrame, ArbitrarySegmentation, ()) {
    const auto messages = GenList<Bytes>(1, 12, GenMessage);
    Bytes stream;
    for (const auto& m : messages) stream.insert(stream.end(), m.begin(), m.end());
    // Cut points: mostly small segments, sometimes single octets.
    std::vector<size_t> cuts;
    size_t at = 0;
    while (at < stream.size()) {
        size_t n =
            *rc::gen::oneOf(rc::gen::inRange<size_t>(1, 4), rc::gen::inRange<size_t>(1, 600));
        at = std::min(stream.size(), at + n);
        cuts.push_back(at);
    }

    Bytes buffer;
    std::vector<Bytes> got;
    size_t from = 0;
    for (size_t to : cuts) {
        buffer.insert(buffer.end(), stream.begin() + static_cast<ptrdiff_t>(from),
                      stream.begin() + static_cast<ptrdiff_t>(to));
        from = to;
        for (;;) {
            FrameResult f = FrameMessage(buffer, kMaxMessageSize);
            RC_ASSERT(!f.error);
            if (f.length == 0) break;
            RC_ASSERT(f.length <= buffer.size());
            got.emplace_back(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(f.length));
            buffer.erase(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(f.length));
        }
    }
    RC_ASSERT(buffer.empty());
    RC_ASSERT(got == messages);
    for (const auto& m : got) RC_ASSERT(!DecodeMessage(m, SessionContext{}).error);
}

// Property: any prefix of a valid message shorter than the message asks for
// more bytes (length 0, no error).
RC_GTEST_PROP(MsgFrame, IncompleteNeedsMore, ()) {
    const Bytes m = GenMessage();
    const size_t n = *rc::gen::inRange<size_t>(0, m.size());
    FrameResult f = FrameMessage(ByteView(m).first(n), kMaxMessageSize);
    RC_ASSERT(!f.error);
    RC_ASSERT(f.length == 0u);
}

}  // namespace
}  // namespace bagpipe::bgp
