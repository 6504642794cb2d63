// RFC 7606 revised UPDATE error handling: one test per error class, each
// asserting the action the decoder assigns and the NOTIFICATION (code,
// subcode, data) that RFC 4271 §6.3 would have sent — which is the one sent
// when the action is session reset. Then the cases that are not errors.
#include <gtest/gtest.h>

#include "bgp/wire/message.h"
#include "wire_test_util.h"

namespace bagpipe::bgp {
namespace {

using testing::Attr;
using testing::Cat;
using testing::Hex;
using testing::Message;
using testing::ToHex;
using testing::Update;

constexpr uint8_t kWellKnown = 0x40;
constexpr uint8_t kOptTrans = 0xc0;
constexpr uint8_t kOptNonTrans = 0x80;

Bytes OriginIgp() { return Attr(kWellKnown, attr::kOrigin, {0}); }
Bytes EmptyAsPath() { return Attr(kWellKnown, attr::kAsPath, {}); }
Bytes NextHop() { return Attr(kWellKnown, attr::kNextHop, Hex("0a000001")); }
Bytes Mandatory() { return Cat({OriginIgp(), EmptyAsPath(), NextHop()}); }
Bytes Nlri() { return Hex("180a0102"); }  // 10.1.2.0/24

// A valid MP_REACH_NLRI for VPNv4: next hop RD 0 + 127.0.1.1, label 19,
// RD 127.0.1.1:2, 10.0.0.1/32.
Bytes VpnMpReach() {
    return Attr(kOptNonTrans, attr::kMpReach,
                Hex("000180" "0c" "0000000000000000" "7f000101" "00"
                    "78" "000131" "00017f0001010002" "0a000001"));
}

SessionContext Ibgp() { return SessionContext{}; }

DecodeResult DecodeUpdate(const Bytes& attrs, const Bytes& nlri = Nlri(),
                          const SessionContext& ctx = Ibgp()) {
    return DecodeMessage(Update({}, attrs, nlri), ctx);
}

const UpdateMessage& Msg(const DecodeResult& r) { return std::get<UpdateMessage>(*r.message); }

// Asserts the action and the NOTIFICATION; `data` is compared when given.
void ExpectError(const DecodeResult& r, ErrorAction action, uint8_t subcode,
                 std::optional<Bytes> data = std::nullopt,
                 uint8_t code = notif::kUpdateMessageError) {
    ASSERT_TRUE(r.error.has_value()) << "no error";
    EXPECT_EQ(ErrorActionName(r.error->action), ErrorActionName(action)) << r.error->reason;
    ASSERT_TRUE(r.error->notification.has_value()) << r.error->reason;
    EXPECT_EQ(r.error->notification->code, code) << r.error->reason;
    EXPECT_EQ(int(r.error->notification->subcode), int(subcode)) << r.error->reason;
    if (data) {
        EXPECT_EQ(ToHex(r.error->notification->data), ToHex(*data)) << r.error->reason;
    }
}

// ---------------------------------------------------------------------------
// Attribute discard: the attribute is dropped, the UPDATE is processed.

// RFC 7606 §7.6: ATOMIC_AGGREGATE with a non-zero length.
TEST(Rfc7606AttributeDiscard, AtomicAggregateLength) {
    const Bytes bad = Attr(kWellKnown, attr::kAtomicAggregate, {0});
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), bad}));
    ExpectError(r, ErrorAction::kAttributeDiscard, notif::kAttributeLengthError, bad);
    EXPECT_EQ(r.error->attribute_code, attr::kAtomicAggregate);
    EXPECT_FALSE(Msg(r).attributes.has(attr::kAtomicAggregate));
    EXPECT_TRUE(Msg(r).attributes.has(attr::kOrigin));
    EXPECT_EQ(Msg(r).nlri.size(), 1u);
}

// RFC 7606 §7.7: AGGREGATOR of the wrong length for the session (8 octets
// with four-octet ASNs, 6 without).
TEST(Rfc7606AttributeDiscard, AggregatorLength) {
    const Bytes six = Attr(kOptTrans, attr::kAggregator, Hex("fde8" "0a000001"));
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), six}));
    ExpectError(r, ErrorAction::kAttributeDiscard, notif::kAttributeLengthError, six);
    EXPECT_FALSE(Msg(r).attributes.has(attr::kAggregator));
    EXPECT_EQ(Msg(r).nlri.size(), 1u);

    SessionContext asn2;
    asn2.asn4 = false;
    const Bytes eight = Attr(kOptTrans, attr::kAggregator, Hex("0000fde8" "0a000001"));
    r = DecodeUpdate(Cat({Mandatory(), eight}), Nlri(), asn2);
    ExpectError(r, ErrorAction::kAttributeDiscard, notif::kAttributeLengthError, eight);
    r = DecodeUpdate(Cat({Mandatory(), six}), Nlri(), asn2);
    EXPECT_FALSE(r.error);
    EXPECT_EQ(Msg(r).attributes.aggregator.asn, 65000u);
}

// RFC 6793 §3 / RFC 7606 §7.1 note: AS4_PATH and AS4_AGGREGATOR received on
// a four-octet AS session are discarded. RFC 4271 alone knows no error here,
// so there is no NOTIFICATION.
TEST(Rfc7606AttributeDiscard, As4PathOnAsn4Session) {
    const Bytes as4_path = Attr(kOptTrans, attr::kAs4Path, Hex("0201" "fa56ea00"));
    const Bytes as4_aggr = Attr(kOptTrans, attr::kAs4Aggregator, Hex("fa56ea00" "0a000001"));
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), as4_path, as4_aggr}));
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->action, ErrorAction::kAttributeDiscard);
    EXPECT_FALSE(r.error->notification.has_value());
    EXPECT_FALSE(Msg(r).attributes.has(attr::kAs4Path));
    EXPECT_FALSE(Msg(r).attributes.has(attr::kAs4Aggregator));
    EXPECT_EQ(Msg(r).nlri.size(), 1u);
    // On a two-octet session they are the point of RFC 6793 and kept.
    SessionContext asn2;
    asn2.asn4 = false;
    r = DecodeUpdate(Cat({Mandatory(), as4_path, as4_aggr}), Nlri(), asn2);
    EXPECT_FALSE(r.error);
    EXPECT_EQ(Msg(r).attributes.as4_path.segments[0].asns[0], 4200000000u);
    EXPECT_EQ(Msg(r).attributes.as4_aggregator.asn, 4200000000u);
}

// RFC 6793 §6: an AS4_PATH with a confederation segment is malformed and
// discarded (the AS_PATH alone is used); the UPDATE stays.
TEST(Rfc7606AttributeDiscard, As4PathWithConfederationSegment) {
    SessionContext asn2;
    asn2.asn4 = false;
    const Bytes as4_path = Attr(kOptTrans, attr::kAs4Path, Hex("0301" "fa56ea00" "0201" "fa56ea01"));
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), as4_path}), Nlri(), asn2);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->action, ErrorAction::kAttributeDiscard) << r.error->reason;
    EXPECT_FALSE(Msg(r).attributes.has(attr::kAs4Path));
    EXPECT_TRUE(Msg(r).attributes.as4_path.segments.empty());
    EXPECT_EQ(Msg(r).nlri.size(), 1u);
}

// A repetition of an attribute whose first copy was malformed and dropped is
// still a repetition (RFC 7606 §3 g): the second copy is not taken instead.
TEST(Rfc7606AttributeDiscard, RepeatAfterMalformedFirstCopy) {
    // ATOMIC_AGGREGATE with a length of 1 (discarded), then a valid one.
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), Attr(kWellKnown, attr::kAtomicAggregate, {0}),
                                       Attr(kWellKnown, attr::kAtomicAggregate, {})}));
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->action, ErrorAction::kAttributeDiscard) << r.error->reason;
    EXPECT_FALSE(Msg(r).attributes.has(attr::kAtomicAggregate));
    EXPECT_EQ(Msg(r).nlri.size(), 1u);
}

// ---------------------------------------------------------------------------
// Treat-as-withdraw: the UPDATE's NLRI are withdrawn; they must still be
// located, so they are decoded.

void ExpectWithdraw(const Bytes& attrs, uint8_t subcode, std::optional<Bytes> data,
                    uint8_t attribute_code, const SessionContext& ctx = Ibgp()) {
    DecodeResult r = DecodeUpdate(attrs, Nlri(), ctx);
    ExpectError(r, ErrorAction::kTreatAsWithdraw, subcode, data);
    if (r.error) {
        EXPECT_EQ(int(r.error->attribute_code), int(attribute_code));
    }
    ASSERT_TRUE(r.message.has_value());
    EXPECT_EQ(Msg(r).nlri.size(), 1u) << "the NLRI to withdraw must be located";
}

// RFC 7606 §7.1: ORIGIN with an undefined value (RFC 4271: Invalid ORIGIN).
TEST(Rfc7606TreatAsWithdraw, OriginBadValue) {
    const Bytes bad = Attr(kWellKnown, attr::kOrigin, {3});
    ExpectWithdraw(Cat({bad, EmptyAsPath(), NextHop()}), notif::kInvalidOrigin, bad, attr::kOrigin);
}

// RFC 7606 §7.1: ORIGIN with a length other than 1.
TEST(Rfc7606TreatAsWithdraw, OriginBadLength) {
    const Bytes bad = Attr(kWellKnown, attr::kOrigin, {0, 0});
    ExpectWithdraw(Cat({bad, EmptyAsPath(), NextHop()}), notif::kAttributeLengthError, bad,
                   attr::kOrigin);
}

// RFC 7606 §7.2: AS_PATH with an unknown segment type, a zero-length
// segment, or a segment overrunning the attribute (Malformed AS_PATH).
TEST(Rfc7606TreatAsWithdraw, AsPathMalformed) {
    for (const char* value : {"0501" "0000fde9",           // segment type 5
                              "0200",                      // zero-length segment
                              "0203" "0000fde9",           // 3 ASNs announced, 1 present
                              "0201" "0000fde9" "02",      // truncated segment header
                              "0201" "0000fd"}) {          // truncated ASN
        SCOPED_TRACE(value);
        const Bytes bad = Attr(kWellKnown, attr::kAsPath, Hex(value));
        ExpectWithdraw(Cat({OriginIgp(), bad, NextHop()}), notif::kMalformedAsPath, bad,
                       attr::kAsPath);
    }
    // With 2-octet ASNs, 4-octet-sized segments overrun.
    SessionContext asn2;
    asn2.asn4 = false;
    const Bytes bad = Attr(kWellKnown, attr::kAsPath, Hex("0202" "fde9fdea" "00"));
    ExpectWithdraw(Cat({OriginIgp(), bad, NextHop()}), notif::kMalformedAsPath, bad, attr::kAsPath,
                   asn2);
}

// RFC 7606 §7.3: NEXT_HOP with a length other than 4.
TEST(Rfc7606TreatAsWithdraw, NextHopLength) {
    const Bytes bad = Attr(kWellKnown, attr::kNextHop, Hex("0a00000100"));
    ExpectWithdraw(Cat({OriginIgp(), EmptyAsPath(), bad}), notif::kAttributeLengthError, bad,
                   attr::kNextHop);
}

// RFC 7606 §7.4: MULTI_EXIT_DISC with a length other than 4.
TEST(Rfc7606TreatAsWithdraw, MedLength) {
    const Bytes bad = Attr(kOptNonTrans, attr::kMed, Hex("000001"));
    ExpectWithdraw(Cat({Mandatory(), bad}), notif::kAttributeLengthError, bad, attr::kMed);
}

// RFC 7606 §7.5: LOCAL_PREF with a length other than 4 from an iBGP peer.
TEST(Rfc7606TreatAsWithdraw, LocalPrefLengthOnIbgp) {
    const Bytes bad = Attr(kWellKnown, attr::kLocalPref, Hex("000064"));
    ExpectWithdraw(Cat({Mandatory(), bad}), notif::kAttributeLengthError, bad, attr::kLocalPref);
}

// RFC 7606 §7.8: COMMUNITIES whose length is not a non-zero multiple of 4.
TEST(Rfc7606TreatAsWithdraw, CommunitiesLength) {
    for (const char* value : {"fde8000101", ""}) {
        SCOPED_TRACE(value);
        const Bytes bad = Attr(kOptTrans, attr::kCommunities, Hex(value));
        ExpectWithdraw(Cat({Mandatory(), bad}), notif::kAttributeLengthError, bad,
                       attr::kCommunities);
    }
}

// RFC 7606 §7.9: ORIGINATOR_ID with a length other than 4.
TEST(Rfc7606TreatAsWithdraw, OriginatorIdLength) {
    const Bytes bad = Attr(kOptNonTrans, attr::kOriginatorId, Hex("0102030405"));
    ExpectWithdraw(Cat({Mandatory(), bad}), notif::kAttributeLengthError, bad,
                   attr::kOriginatorId);
}

// RFC 7606 §7.10: CLUSTER_LIST whose length is not a non-zero multiple of 4.
TEST(Rfc7606TreatAsWithdraw, ClusterListLength) {
    const Bytes bad = Attr(kOptNonTrans, attr::kClusterList, Hex("010203040506"));
    ExpectWithdraw(Cat({Mandatory(), bad}), notif::kAttributeLengthError, bad, attr::kClusterList);
}

// RFC 7606 §7.14: EXTENDED_COMMUNITIES whose length is not a non-zero
// multiple of 8.
TEST(Rfc7606TreatAsWithdraw, ExtendedCommunitiesLength) {
    const Bytes bad = Attr(kOptTrans, attr::kExtCommunities, Hex("0002fc00000001"));
    ExpectWithdraw(Cat({Mandatory(), bad}), notif::kAttributeLengthError, bad,
                   attr::kExtCommunities);
}

// RFC 8092 §6: LARGE_COMMUNITIES whose length is not a non-zero multiple of 12.
TEST(Rfc7606TreatAsWithdraw, LargeCommunitiesLength) {
    const Bytes bad = Attr(kOptTrans, attr::kLargeCommunities, Hex("00000001000000020000000300"));
    ExpectWithdraw(Cat({Mandatory(), bad}), notif::kAttributeLengthError, bad,
                   attr::kLargeCommunities);
}

// RFC 6514 §5: PMSI_TUNNEL shorter than its 5-octet fixed part, or an ingress
// replication tunnel id that is no IP address.
TEST(Rfc7606TreatAsWithdraw, PmsiTunnelTooShort) {
    for (const char* value : {"00060000", "0006000010" "7f0001"}) {
        SCOPED_TRACE(value);
        const Bytes bad = Attr(kOptTrans, attr::kPmsiTunnel, Hex(value));
        ExpectWithdraw(Cat({Mandatory(), bad}), notif::kAttributeLengthError, bad,
                       attr::kPmsiTunnel);
    }
}

// RFC 7606 §3 d: a well-known mandatory attribute missing while the UPDATE
// carries NLRI (Missing Well-known Attribute, data = its type code).
TEST(Rfc7606TreatAsWithdraw, MissingMandatoryAttribute) {
    ExpectWithdraw(Cat({EmptyAsPath(), NextHop()}), notif::kMissingWellKnown, Bytes{attr::kOrigin},
                   attr::kOrigin);
    ExpectWithdraw(Cat({OriginIgp(), NextHop()}), notif::kMissingWellKnown, Bytes{attr::kAsPath},
                   attr::kAsPath);
    ExpectWithdraw(Cat({OriginIgp(), EmptyAsPath()}), notif::kMissingWellKnown,
                   Bytes{attr::kNextHop}, attr::kNextHop);
    ExpectWithdraw({}, notif::kMissingWellKnown, Bytes{attr::kOrigin}, attr::kOrigin);
    // MP_REACH announcements need ORIGIN and AS_PATH, not NEXT_HOP.
    DecodeResult r = DecodeUpdate(Cat({OriginIgp(), VpnMpReach()}), {});
    ExpectError(r, ErrorAction::kTreatAsWithdraw, notif::kMissingWellKnown, Bytes{attr::kAsPath});
    r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), VpnMpReach()}), {});
    EXPECT_FALSE(r.error);
    // Withdrawals alone need nothing.
    r = DecodeMessage(Update(Nlri(), {}, {}), Ibgp());
    EXPECT_FALSE(r.error);
}

// RFC 7606 §3 c: Optional / Transitive bits in conflict with the type, or
// the Partial bit on a well-known attribute (Attribute Flags Error, data =
// the attribute as received).
TEST(Rfc7606TreatAsWithdraw, AttributeFlagsConflict) {
    const Bytes optional_origin = Attr(kOptTrans, attr::kOrigin, {0});
    ExpectWithdraw(Cat({optional_origin, EmptyAsPath(), NextHop()}), notif::kAttributeFlagsError,
                   optional_origin, attr::kOrigin);
    const Bytes partial_origin = Attr(kWellKnown | attr::kPartial, attr::kOrigin, {0});
    ExpectWithdraw(Cat({partial_origin, EmptyAsPath(), NextHop()}), notif::kAttributeFlagsError,
                   partial_origin, attr::kOrigin);
    const Bytes transitive_med = Attr(kOptTrans, attr::kMed, Hex("00000001"));
    ExpectWithdraw(Cat({Mandatory(), transitive_med}), notif::kAttributeFlagsError, transitive_med,
                   attr::kMed);
    const Bytes well_known_communities = Attr(kWellKnown, attr::kCommunities, Hex("00000001"));
    ExpectWithdraw(Cat({Mandatory(), well_known_communities}), notif::kAttributeFlagsError,
                   well_known_communities, attr::kCommunities);
    // The flags of an attribute-discard attribute only discard it.
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), Attr(kOptTrans, attr::kAtomicAggregate, {})}));
    ExpectError(r, ErrorAction::kAttributeDiscard, notif::kAttributeFlagsError);
}

// RFC 4271 §6.3: the data is the erroneous attribute as received, including
// a (needless) Extended Length bit and 2-octet length.
TEST(Rfc7606TreatAsWithdraw, NotificationDataIsAttributeAsReceived) {
    const Bytes bad = Attr(kWellKnown | attr::kExtendedLength, attr::kOrigin, {7});
    EXPECT_EQ(ToHex(bad), "5001000107");
    ExpectWithdraw(Cat({bad, EmptyAsPath(), NextHop()}), notif::kInvalidOrigin, bad, attr::kOrigin);
}

// RFC 7606 §4: an attribute whose length overruns the attribute block while
// no MP attribute is present; the NLRI are still found through the Total
// Path Attribute Length.
TEST(Rfc7606TreatAsWithdraw, AttributeOverrunWithoutMp) {
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), Hex("4005" "0a" "00000064")}));
    ExpectError(r, ErrorAction::kTreatAsWithdraw, notif::kMalformedAttributeList, Bytes{});
    EXPECT_EQ(Msg(r).nlri.size(), 1u);
    EXPECT_TRUE(Msg(r).attributes.has(attr::kNextHop));
    // Fewer octets left than an attribute header needs (RFC 7606 §4, second
    // case): treat-as-withdraw too.
    for (const char* tail : {"40", "4005", "5005" "00"}) {
        SCOPED_TRACE(tail);
        r = DecodeUpdate(Cat({Mandatory(), Hex(tail)}));
        ExpectError(r, ErrorAction::kTreatAsWithdraw, notif::kMalformedAttributeList);
        EXPECT_EQ(Msg(r).nlri.size(), 1u);
    }
}

// The most severe error wins: a withdraw beats a discard in the same UPDATE.
TEST(Rfc7606TreatAsWithdraw, MostSevereErrorWins) {
    const Bytes atomic = Attr(kWellKnown, attr::kAtomicAggregate, {0});
    const Bytes med = Attr(kOptNonTrans, attr::kMed, Hex("01"));
    ExpectWithdraw(Cat({Mandatory(), atomic, med}), notif::kAttributeLengthError, med, attr::kMed);
}

// ---------------------------------------------------------------------------
// Session reset: the NOTIFICATION is sent.

// RFC 7606 §4 / §5.3: an overrun once MP_REACH was seen (its NLRI can no
// longer be trusted to be the whole set), or of an MP attribute itself.
TEST(Rfc7606SessionReset, AttributeOverrunWithMp) {
    const Bytes overrun = Hex("4005" "0a" "00000064");
    DecodeResult r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), VpnMpReach(), overrun}), {});
    ExpectError(r, ErrorAction::kSessionReset, notif::kMalformedAttributeList, Bytes{});
    r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), Hex("800e" "20" "000180")}), {});
    ExpectError(r, ErrorAction::kSessionReset, notif::kMalformedAttributeList);
    r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), Hex("800f")}), {});
    ExpectError(r, ErrorAction::kSessionReset, notif::kMalformedAttributeList);
}

// RFC 7606 §3 g: MP_REACH_NLRI (or MP_UNREACH_NLRI) more than once.
TEST(Rfc7606SessionReset, DuplicateMpReach) {
    DecodeResult r =
        DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), VpnMpReach(), VpnMpReach()}), {});
    ExpectError(r, ErrorAction::kSessionReset, notif::kMalformedAttributeList, Bytes{});
    const Bytes unreach = Attr(kOptNonTrans, attr::kMpUnreach, Hex("000180"));
    r = DecodeUpdate(Cat({unreach, unreach}), {});
    ExpectError(r, ErrorAction::kSessionReset, notif::kMalformedAttributeList);
}

// RFC 4271 §6.3: an unrecognized well-known attribute (data = the attribute).
TEST(Rfc7606SessionReset, UnrecognizedWellKnown) {
    const Bytes unknown = Attr(kWellKnown, 99, Hex("01"));
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), unknown}));
    ExpectError(r, ErrorAction::kSessionReset, notif::kUnrecognizedWellKnown, unknown);
    EXPECT_EQ(ToHex(unknown), "40630101");
}

// RFC 4271 §6.3: Withdrawn Routes Length overrunning the message.
TEST(Rfc7606SessionReset, WithdrawnLengthOverrun) {
    DecodeResult r = DecodeMessage(Message(2, Hex("0010" "0000")), Ibgp());
    ExpectError(r, ErrorAction::kSessionReset, notif::kMalformedAttributeList, Bytes{});
    r = DecodeMessage(Message(2, Hex("0003" "0a0a")), Ibgp());
    ExpectError(r, ErrorAction::kSessionReset, notif::kMalformedAttributeList);
}

// RFC 4271 §6.3: Total Path Attribute Length overrunning the message.
TEST(Rfc7606SessionReset, TotalAttributeLengthOverrun) {
    DecodeResult r = DecodeMessage(Message(2, Hex("0000" "0010" "40010100")), Ibgp());
    ExpectError(r, ErrorAction::kSessionReset, notif::kMalformedAttributeList, Bytes{});
}

// RFC 7606 §5.3 / RFC 4271 §6.3: a syntactically wrong IPv4 prefix in the
// NLRI or withdrawn field (Invalid Network Field).
TEST(Rfc7606SessionReset, BadIpv4NlriPrefixLength) {
    DecodeResult r = DecodeUpdate(Mandatory(), Hex("21" "0a00000000"));
    ExpectError(r, ErrorAction::kSessionReset, notif::kInvalidNetworkField);
    r = DecodeUpdate(Mandatory(), Hex("18" "0a01"));  // truncated prefix
    ExpectError(r, ErrorAction::kSessionReset, notif::kInvalidNetworkField);
    r = DecodeMessage(Update(Hex("21" "0a00000000"), {}, {}), Ibgp());
    ExpectError(r, ErrorAction::kSessionReset, notif::kInvalidNetworkField);
}

// RFC 7606 §5.3 / §7.11: an MP_REACH_NLRI too short for its AFI, SAFI,
// next-hop length, next hop and reserved octet; MP_UNREACH_NLRI too short
// for its AFI and SAFI.
TEST(Rfc7606SessionReset, MpReachTruncatedHeader) {
    for (const char* value :
         {"0001", "000180", "000180" "0c" "00000000", "000180" "04" "7f000101"}) {
        SCOPED_TRACE(value);
        const Bytes bad = Attr(kOptNonTrans, attr::kMpReach, Hex(value));
        DecodeResult r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), bad}), {});
        ExpectError(r, ErrorAction::kSessionReset, notif::kOptionalAttributeError, bad);
    }
    const Bytes bad = Attr(kOptNonTrans, attr::kMpUnreach, Hex("0001"));
    DecodeResult r = DecodeUpdate(bad, {});
    ExpectError(r, ErrorAction::kSessionReset, notif::kOptionalAttributeError, bad);
}

// ---------------------------------------------------------------------------
// AFI/SAFI disable: the MP attribute's NLRI cannot be parsed.

void ExpectDisable(const DecodeResult& r, const Bytes& attribute, uint16_t afi, uint8_t safi) {
    ExpectError(r, ErrorAction::kAfiSafiDisable, notif::kOptionalAttributeError, attribute);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->afi, afi);
    EXPECT_EQ(r.error->safi, safi);
}

// RFC 7606 §5.3: a VPNv4 NLRI whose length leaves more than 32 bits of
// prefix after the label (24) and RD (64): 24 + 64 + 33 = 121 bits.
TEST(Rfc7606AfiSafiDisable, VpnPrefixTooLong) {
    const Bytes bad = Attr(kOptNonTrans, attr::kMpReach,
                           Hex("000180" "0c" "0000000000000000" "7f000101" "00"
                               "79" "000131" "00017f0001010002" "0a00000180"));
    DecodeResult r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), bad}), {});
    ExpectDisable(r, bad, 1, 128);
    EXPECT_EQ(r.error->attribute_code, attr::kMpReach);
    // The same in a withdrawal.
    const Bytes bad_unreach = Attr(kOptNonTrans, attr::kMpUnreach,
                                   Hex("000180" "79" "000131" "00017f0001010002" "0a00000180"));
    r = DecodeUpdate(bad_unreach, {});
    ExpectDisable(r, bad_unreach, 1, 128);
    EXPECT_EQ(r.error->attribute_code, attr::kMpUnreach);
}

// RFC 7606 §7.11: a next-hop length the family does not allow (VPNv4 next
// hops carry an RD: 12, 24 or 48 octets, not 4).
TEST(Rfc7606AfiSafiDisable, BadNextHopLengthForFamily) {
    const Bytes bad = Attr(kOptNonTrans, attr::kMpReach,
                           Hex("000180" "04" "7f000101" "00" "78" "000131" "00017f0001010002"
                               "0a000001"));
    DecodeResult r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), bad}), {});
    ExpectDisable(r, bad, 1, 128);
    // EVPN: 4, 16 or 32 octets, not 12.
    const Bytes evpn = Attr(kOptNonTrans, attr::kMpReach,
                            Hex("001946" "0c" "0000000000000000" "7f000101" "00"));
    r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), evpn}), {});
    ExpectDisable(r, evpn, 25, 70);
}

// ---------------------------------------------------------------------------
// Not errors.

// RFC 4271 §5: an unrecognized optional non-transitive attribute is quietly
// ignored.
TEST(Rfc7606NotAnError, UnknownOptionalNonTransitiveDropped) {
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), Attr(kOptNonTrans, 99, Hex("0102"))}));
    EXPECT_FALSE(r.error);
    EXPECT_TRUE(Msg(r).attributes.unknown.empty());
    EXPECT_EQ(Msg(r).nlri.size(), 1u);
}

// RFC 4271 §5, §9: an unrecognized optional transitive attribute is kept and
// passed on with the Partial bit set.
TEST(Rfc7606NotAnError, UnknownOptionalTransitiveKeptWithPartial) {
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), Attr(kOptTrans, 99, Hex("0102"))}));
    ASSERT_FALSE(r.error);
    const auto& unknown = Msg(r).attributes.unknown;
    ASSERT_EQ(unknown.size(), 1u);
    EXPECT_EQ(unknown[0], (RawAttribute{kOptTrans, 99, Hex("0102")}));
    Bytes out;
    Writer w(out);
    EncodePathAttributes(Msg(r).attributes, Ibgp(), w);
    EXPECT_EQ(ToHex(testing::SplitAttributes(out).back().whole), "e063020102");
}

// RFC 7606 §3 g: a repeated attribute other than MP_REACH/MP_UNREACH: all
// but the first occurrence are discarded.
TEST(Rfc7606NotAnError, DuplicateAttributeKeepsFirst) {
    DecodeResult r = DecodeUpdate(Cat({Mandatory(), Attr(kWellKnown, attr::kOrigin, {1})}));
    ExpectError(r, ErrorAction::kAttributeDiscard, notif::kMalformedAttributeList);
    EXPECT_EQ(Msg(r).attributes.origin, Origin::kIgp);
    EXPECT_EQ(Msg(r).nlri.size(), 1u);
    // Repeated unknown transitive attribute: the first value stays.
    r = DecodeUpdate(Cat({Mandatory(), Attr(kOptTrans, 99, {1}), Attr(kOptTrans, 99, {2})}));
    ExpectError(r, ErrorAction::kAttributeDiscard, notif::kMalformedAttributeList);
    ASSERT_EQ(Msg(r).attributes.unknown.size(), 1u);
    EXPECT_EQ(Msg(r).attributes.unknown[0].value, Bytes{1});
}

// RFC 4271 §5.1.5 / RFC 7606 §7.5: LOCAL_PREF from an external peer is
// ignored, malformed or not.
TEST(Rfc7606NotAnError, LocalPrefFromEbgpIgnored) {
    SessionContext ebgp;
    ebgp.ibgp = false;
    for (const char* value : {"00000064", "0064"}) {
        SCOPED_TRACE(value);
        DecodeResult r =
            DecodeUpdate(Cat({Mandatory(), Attr(kWellKnown, attr::kLocalPref, Hex(value))}), Nlri(),
                         ebgp);
        EXPECT_FALSE(r.error);
        EXPECT_FALSE(Msg(r).attributes.has(attr::kLocalPref));
        EXPECT_EQ(Msg(r).attributes.local_pref, 0u);
    }
}

// RFC 4760 §7: an AFI/SAFI the speaker does not know is not an error here
// (the session only negotiates known ones); the attribute is kept raw and
// re-encodes byte-exact.
TEST(Rfc7606NotAnError, UnknownAfiSafiKeptRaw) {
    const Bytes reach = Attr(kOptNonTrans, attr::kMpReach,
                             Hex("0001" "05" "04" "0a000001" "00" "deadbeef"));
    DecodeResult r = DecodeUpdate(Cat({OriginIgp(), EmptyAsPath(), reach}), {});
    ASSERT_FALSE(r.error) << r.error->reason;
    const auto& mp = Msg(r).attributes.mp_reach;
    EXPECT_EQ(mp.family, Family::kUnknown);
    EXPECT_EQ(mp.afi, 1);
    EXPECT_EQ(mp.safi, 5);
    EXPECT_EQ(ToHex(mp.raw), "040a00000100deadbeef");
    Bytes out;
    Writer w(out);
    EncodePathAttributes(Msg(r).attributes, Ibgp(), w);
    EXPECT_EQ(ToHex(out), ToHex(Cat({OriginIgp(), EmptyAsPath(), reach})));
}

}  // namespace
}  // namespace bagpipe::bgp
