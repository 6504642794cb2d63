// RFC 4271 §6 error handling outside UPDATE attributes: message header
// errors (§6.1), OPEN message errors (§6.2), the NOTIFICATION message with an
// RFC 9003 shutdown communication, and ROUTE-REFRESH length errors (RFC 7313
// §5). Each test asserts the NOTIFICATION code, subcode and data.
#include <gtest/gtest.h>

#include "bgp/wire/message.h"
#include "wire_test_util.h"

namespace bagpipe::bgp {
namespace {

using testing::Cat;
using testing::Hex;
using testing::Message;
using testing::ToHex;

void ExpectReset(const std::optional<DecodeError>& e, uint8_t code, uint8_t subcode,
                 const Bytes& data) {
    ASSERT_TRUE(e.has_value()) << "no error";
    EXPECT_EQ(e->action, ErrorAction::kSessionReset) << e->reason;
    ASSERT_TRUE(e->notification.has_value()) << e->reason;
    EXPECT_EQ(int(e->notification->code), int(code)) << e->reason;
    EXPECT_EQ(int(e->notification->subcode), int(subcode)) << e->reason;
    EXPECT_EQ(ToHex(e->notification->data), ToHex(data)) << e->reason;
}

// A header announcing `length` octets, followed by enough body octets.
Bytes WithLength(uint16_t length, uint8_t type, size_t body = 0) {
    Bytes out(16, 0xff);
    out.push_back(static_cast<uint8_t>(length >> 8));
    out.push_back(static_cast<uint8_t>(length));
    out.push_back(type);
    out.resize(out.size() + body, 0);
    return out;
}

// An OPEN body: version, AS, hold time, BGP id, then the optional parameters
// given with their own length octet.
Bytes OpenBody(uint8_t version, uint16_t hold, uint32_t id, const Bytes& params_with_len) {
    Bytes b{version, 0xfc, 0x00, static_cast<uint8_t>(hold >> 8), static_cast<uint8_t>(hold),
            static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(id >> 16),
            static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id)};
    b.insert(b.end(), params_with_len.begin(), params_with_len.end());
    return b;
}

DecodeResult Decode(const Bytes& b, const SessionContext& ctx = SessionContext{}) {
    return DecodeMessage(b, ctx);
}

// ---------------------------------------------------------------------------
// §6.1 Message header errors.

// Marker not all ones: Connection Not Synchronized (1/1), no data; found by
// the framer as soon as the bad octet arrives.
TEST(Rfc4271HeaderError, MarkerNotAllOnes) {
    Bytes m = EncodeKeepalive();
    m[5] = 0xfe;
    ExpectReset(FrameMessage(m, kMaxMessageSize).error, 1, 1, {});
    ExpectReset(Decode(m).error, 1, 1, {});
    ExpectReset(FrameMessage(ByteView(m).first(6), kMaxMessageSize).error, 1, 1, {});
    EXPECT_FALSE(FrameMessage(ByteView(m).first(5), kMaxMessageSize).error);
}

// Length below 19: Bad Message Length (1/2), data = the length field.
TEST(Rfc4271HeaderError, LengthBelowHeader) {
    Bytes m = WithLength(18, 4);
    ExpectReset(FrameMessage(m, kMaxMessageSize).error, 1, 2, Hex("0012"));
    ExpectReset(Decode(m).error, 1, 2, Hex("0012"));
    // Fewer octets than a header at all.
    ExpectReset(Decode(Bytes(10, 0xff)).error, 1, 2, Hex("000a"));
}

// Length above 4096 without RFC 8654 extended messages: 1/2.
TEST(Rfc4271HeaderError, LengthAbove4096WithoutExtendedMessage) {
    Bytes m = WithLength(4097, 2);
    ExpectReset(FrameMessage(m, kMaxMessageSize).error, 1, 2, Hex("1001"));
    EXPECT_FALSE(FrameMessage(m, kMaxExtendedMessageSize).error);
    // A whole 5000-octet UPDATE.
    UpdateMessage u;
    u.attributes.set(attr::kCommunities);
    u.attributes.communities.assign(1240, 7);
    SessionContext ext;
    ext.extended_message = true;
    Bytes big = EncodeUpdate(u, ext);
    ASSERT_EQ(big.size(), 19u + 4 + 4 + 4960);
    ExpectReset(Decode(big).error, 1, 2, Hex("137b"));
    EXPECT_FALSE(Decode(big, ext).error);
    // OPEN and KEEPALIVE stay within 4096 even then (RFC 8654 §3).
    ExpectReset(Decode(WithLength(4097, 1, 4097 - 19), ext).error, 1, 2, Hex("1001"));
}

// Per-type lengths (RFC 4271 §6.1): KEEPALIVE of 20, OPEN below 29,
// NOTIFICATION below 21, UPDATE below 23, ROUTE-REFRESH below 23.
TEST(Rfc4271HeaderError, PerTypeLength) {
    ExpectReset(Decode(WithLength(20, 4, 1)).error, 1, 2, Hex("0014"));
    ExpectReset(Decode(WithLength(28, 1, 9)).error, 1, 2, Hex("001c"));
    ExpectReset(Decode(WithLength(20, 3, 1)).error, 1, 2, Hex("0014"));
    ExpectReset(Decode(WithLength(22, 2, 3)).error, 1, 2, Hex("0016"));
    ExpectReset(Decode(WithLength(22, 5, 3)).error, 1, 2, Hex("0016"));
    // The length field must match the octets given.
    Bytes m = EncodeKeepalive();
    m.push_back(0);
    ExpectReset(Decode(m).error, 1, 2, Hex("0013"));
}

// Unknown type: Bad Message Type (1/3), data = the type octet.
TEST(Rfc4271HeaderError, BadType) {
    ExpectReset(Decode(WithLength(19, 6)).error, 1, 3, Hex("06"));
    ExpectReset(Decode(WithLength(19, 0)).error, 1, 3, Hex("00"));
}

// ---------------------------------------------------------------------------
// §6.2 OPEN message errors.

// Version 3: Unsupported Version Number (2/1), data = 2-octet version 4 (the
// smallest supported version, above the bid; the largest below a bid of 5).
TEST(Rfc4271OpenError, UnsupportedVersion) {
    ExpectReset(Decode(Message(1, OpenBody(3, 180, 1, {0}))).error, 2, 1, Hex("0004"));
    ExpectReset(Decode(Message(1, OpenBody(5, 180, 1, {0}))).error, 2, 1, Hex("0004"));
}

// Hold time 1 or 2: Unacceptable Hold Time (2/6); 0 and 3 are fine.
TEST(Rfc4271OpenError, UnacceptableHoldTime) {
    ExpectReset(Decode(Message(1, OpenBody(4, 1, 1, {0}))).error, 2, 6, {});
    ExpectReset(Decode(Message(1, OpenBody(4, 2, 1, {0}))).error, 2, 6, {});
    EXPECT_FALSE(Decode(Message(1, OpenBody(4, 0, 1, {0}))).error);
    EXPECT_FALSE(Decode(Message(1, OpenBody(4, 3, 1, {0}))).error);
}

// BGP identifier 0.0.0.0: Bad BGP Identifier (2/3).
TEST(Rfc4271OpenError, BadBgpIdentifier) {
    ExpectReset(Decode(Message(1, OpenBody(4, 180, 0, {0}))).error, 2, 3, {});
}

// An optional parameter other than capabilities (type 1, authentication):
// Unsupported Optional Parameter (2/4).
TEST(Rfc4271OpenError, UnsupportedOptionalParameter) {
    DecodeResult r = Decode(Message(1, OpenBody(4, 180, 1, Hex("04" "0102aabb"))));
    ExpectReset(r.error, 2, 4, {});
    ASSERT_TRUE(r.message);
    const auto& o = std::get<OpenMessage>(*r.message);
    ASSERT_EQ(o.other_parameters.size(), 1u);
    EXPECT_EQ(o.other_parameters[0].first, 1);
    EXPECT_EQ(o.other_parameters[0].second, Hex("aabb"));
}

// Optional Parameters Length inconsistent with the message length, or a
// parameter overrunning the field: 2/0 (no specific subcode exists).
TEST(Rfc4271OpenError, OptionalParametersLengthInconsistent) {
    // Says 10 octets, 6 follow.
    ExpectReset(Decode(Message(1, OpenBody(4, 180, 1, Hex("0a" "020402000000")))).error, 2, 0, {});
    // Says 0 octets, 4 follow.
    ExpectReset(Decode(Message(1, OpenBody(4, 180, 1, Hex("00" "02020200")))).error, 2, 0, {});
    // A parameter of length 6 inside a 4-octet field.
    ExpectReset(Decode(Message(1, OpenBody(4, 180, 1, Hex("04" "02060200")))).error, 2, 0, {});
    // RFC 9072 marker with a truncated extended length.
    ExpectReset(Decode(Message(1, OpenBody(4, 180, 1, Hex("ff" "ff" "00")))).error, 2, 0, {});
}

// A capability whose length does not fit its code, or that overruns its
// parameter: 2/0.
TEST(Rfc4271OpenError, MalformedCapability) {
    // Multiprotocol with 3 octets.
    ExpectReset(Decode(Message(1, OpenBody(4, 180, 1, Hex("07" "0205" "0103000180")))).error, 2, 0,
                {});
    // Four-octet AS capability claiming 4 octets with 2 left in the parameter.
    ExpectReset(Decode(Message(1, OpenBody(4, 180, 1, Hex("06" "0204" "4104fde8")))).error, 2, 0,
                {});
    // The well-formed equivalent decodes.
    DecodeResult ok = Decode(Message(1, OpenBody(4, 180, 1, Hex("08" "0206" "4104fa56ea00"))));
    ASSERT_FALSE(ok.error);
    EXPECT_EQ(std::get<OpenMessage>(*ok.message).AsNumber(), 4200000000u);
}

// ---------------------------------------------------------------------------
// NOTIFICATION and ROUTE-REFRESH.

// RFC 9003: Cease / Administrative Shutdown with a shutdown communication.
TEST(Rfc4271Notification, DecodeShutdownCommunication) {
    const std::string text = "maintenance";
    DecodeResult r =
        Decode(Message(3, Cat({Hex("0602" "0b"), Bytes(text.begin(), text.end())})));
    ASSERT_FALSE(r.error);
    const auto& n = std::get<NotificationMessage>(*r.message);
    EXPECT_EQ(n.code, notif::kCease);
    EXPECT_EQ(n.subcode, notif::kAdministrativeShutdown);
    EXPECT_EQ(n.shutdown_communication, "maintenance");
    EXPECT_EQ(n.data.size(), 12u);
    // Administrative Reset too; an inconsistent length or another subcode
    // leaves the data raw.
    r = Decode(Message(3, Hex("0604" "02" "6f6b")));
    EXPECT_EQ(std::get<NotificationMessage>(*r.message).shutdown_communication, "ok");
    r = Decode(Message(3, Hex("0602" "05" "6f6b")));
    EXPECT_FALSE(std::get<NotificationMessage>(*r.message).shutdown_communication);
    EXPECT_EQ(std::get<NotificationMessage>(*r.message).data, Hex("056f6b"));
    r = Decode(Message(3, Hex("0603" "02" "6f6b")));
    EXPECT_FALSE(std::get<NotificationMessage>(*r.message).shutdown_communication);
    // Any other NOTIFICATION: code, subcode, data.
    r = Decode(Message(3, Hex("0302" "40630101")));
    ASSERT_FALSE(r.error);
    EXPECT_EQ(std::get<NotificationMessage>(*r.message),
              (NotificationMessage{3, 2, Hex("40630101"), std::nullopt}));
}

// RFC 7313 §5: a BoRR or EoRR ROUTE-REFRESH longer than 4 octets of body:
// ROUTE-REFRESH Message Error / Invalid Message Length (7/1), data = the
// complete ROUTE-REFRESH message.
TEST(Rfc4271Notification, RouteRefreshBorrTooLong) {
    const Bytes borr = Message(5, Hex("00010180" "00"));
    ExpectReset(Decode(borr).error, 7, 1, borr);
    const Bytes eorr = Message(5, Hex("00190246" "0000"));
    ExpectReset(Decode(eorr).error, 7, 1, eorr);
    EXPECT_FALSE(Decode(Message(5, Hex("00010180"))).error);
}

// A NOTIFICATION encoded from a DecodeError's notification is what the
// session sends.
TEST(Rfc4271Notification, EncodeFromDecodeError) {
    DecodeResult r = Decode(WithLength(4097, 2));
    ASSERT_TRUE(r.error);
    const Notification& n = *r.error->notification;
    Bytes wire = EncodeNotification({n.code, n.subcode, n.data, std::nullopt});
    EXPECT_EQ(ToHex(wire), "ffffffffffffffffffffffffffffffff" "0017" "03" "0102" "1001");
}

}  // namespace
}  // namespace bagpipe::bgp
