// Capabilities (RFC 5492): encode -> decode -> encode round trips of every
// typed capability and of unknown ones (RapidCheck), the wire layout of each,
// and the values that do not fit their code.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>

#include "bgp/wire/capability.h"
#include "wire_test_util.h"

namespace bagpipe::bgp {
namespace {

using testing::GenBytes;
using testing::GenU32;
using testing::GenU8;
using testing::Hex;
using testing::ToHex;

// Codes with a typed decoder; any other decodes as UnknownCap.
constexpr std::array<uint8_t, 7> kTypedCodes = {cap::kMultiprotocol,    cap::kRouteRefresh,
                                                cap::kExtendedMessage,  cap::kGracefulRestart,
                                                cap::kFourOctetAs,      cap::kAddPath,
                                                cap::kEnhancedRouteRefresh};

bool IsTyped(uint8_t code) {
    for (auto c : kTypedCodes)
        if (c == code) return true;
    return false;
}

constexpr std::array<uint16_t, 5> kAfis = {1, 2, 25, 16388, 0xffff};
uint16_t GenAfi() { return *rc::gen::elementOf(kAfis); }

Capability GenCapability() {
    switch (*rc::gen::inRange(0, 8)) {
        case 0: return MultiprotocolCap{GenAfi(), GenU8()};
        case 1: return RouteRefreshCap{};
        case 2: return EnhancedRouteRefreshCap{};
        case 3: return ExtendedMessageCap{};
        case 4: return FourOctetAsCap{GenU32()};
        case 5: {
            // RFC 7911 §4: one or more <AFI, SAFI, Send/Receive> tuples,
            // Send/Receive 1..3; at most 63 fit the 1-octet length.
            AddPathCap c;
            c.entries = testing::GenList<AddPathCap::Entry>(1, 63, [] {
                return AddPathCap::Entry{GenAfi(), GenU8(),
                                         static_cast<uint8_t>(*rc::gen::inRange(1, 4))};
            });
            return c;
        }
        case 6: {
            GracefulRestartCap c;
            c.flags = GenU8() & 0x0f;
            c.restart_time = static_cast<uint16_t>(*rc::gen::inRange(0, 4096));
            c.entries = testing::GenList<GracefulRestartCap::Entry>(0, 63, [] {
                return GracefulRestartCap::Entry{GenAfi(), GenU8(), GenU8()};
            });
            return c;
        }
        default: {
            uint8_t code = *rc::gen::suchThat(rc::gen::arbitrary<uint8_t>(),
                                              [](uint8_t c) { return !IsTyped(c); });
            return UnknownCap{code, GenBytes(0, 255)};
        }
    }
}

// Splits one encoded capability into code and value.
bool SplitCapability(ByteView b, uint8_t& code, ByteView& value) {
    if (b.size() < 2 || b.size() != 2u + b[1]) return false;
    code = b[0];
    value = b.subspan(2);
    return true;
}

// Property: every capability, typed or not, survives encode -> decode ->
// encode, keeps its code, and its length octet matches its value.
RC_GTEST_PROP(MsgCapability, RoundTrip, ()) {
    const Capability c = GenCapability();
    Bytes first;
    Writer w(first);
    EncodeCapability(c, w);
    uint8_t code = 0;
    ByteView value;
    RC_ASSERT(SplitCapability(first, code, value));
    RC_ASSERT(code == CapabilityCode(c));
    Capability back;
    RC_ASSERT(DecodeCapability(code, value, back));
    RC_ASSERT(back == c);
    Bytes second;
    Writer w2(second);
    EncodeCapability(back, w2);
    RC_ASSERT(second == first);
}

// Property: any value under a code without a typed decoder is kept as is.
RC_GTEST_PROP(MsgCapability, UnknownKeptRaw, ()) {
    uint8_t code = *rc::gen::suchThat(rc::gen::arbitrary<uint8_t>(),
                                      [](uint8_t c) { return !IsTyped(c); });
    Bytes value = GenBytes(0, 255);
    Capability out;
    RC_ASSERT(DecodeCapability(code, value, out));
    RC_ASSERT(std::holds_alternative<UnknownCap>(out));
    RC_ASSERT(std::get<UnknownCap>(out).code == code);
    RC_ASSERT(std::get<UnknownCap>(out).value == value);
}

Bytes Encoded(const Capability& c) {
    Bytes out;
    Writer w(out);
    EncodeCapability(c, w);
    return out;
}

// The wire layout of each typed capability.
TEST(MsgCapability, WireLayout) {
    EXPECT_EQ(ToHex(Encoded(MultiprotocolCap{25, 70})), "01040019" "0046");
    EXPECT_EQ(ToHex(Encoded(RouteRefreshCap{})), "0200");
    EXPECT_EQ(ToHex(Encoded(ExtendedMessageCap{})), "0600");
    EXPECT_EQ(ToHex(Encoded(EnhancedRouteRefreshCap{})), "4600");
    EXPECT_EQ(ToHex(Encoded(FourOctetAsCap{4200000000u})), "4104fa56ea00");
    AddPathCap ap;
    ap.entries = {{1, 128, AddPathCap::kReceive | AddPathCap::kSend}, {25, 70, AddPathCap::kSend}};
    EXPECT_EQ(ToHex(Encoded(ap)), "4508" "00018003" "00194602");
    GracefulRestartCap gr;
    gr.flags = 0x8 | 0x4;  // R and N
    gr.restart_time = 120;
    gr.entries = {{1, 128, 0x80}};
    EXPECT_EQ(ToHex(Encoded(gr)), "4006" "c078" "00018080");
    EXPECT_EQ(ToHex(Encoded(UnknownCap{73, Hex("0161")})), "49020161");
}

// Values whose length does not fit their code are refused.
TEST(MsgCapability, MalformedValuesRefused) {
    Capability out;
    EXPECT_FALSE(DecodeCapability(cap::kMultiprotocol, Hex("000100"), out));
    EXPECT_FALSE(DecodeCapability(cap::kMultiprotocol, Hex("0001008000"), out));
    EXPECT_FALSE(DecodeCapability(cap::kRouteRefresh, Hex("00"), out));
    EXPECT_FALSE(DecodeCapability(cap::kEnhancedRouteRefresh, Hex("00"), out));
    EXPECT_FALSE(DecodeCapability(cap::kExtendedMessage, Hex("00"), out));
    EXPECT_FALSE(DecodeCapability(cap::kFourOctetAs, Hex("fde8"), out));
    EXPECT_FALSE(DecodeCapability(cap::kAddPath, Hex(""), out));
    EXPECT_FALSE(DecodeCapability(cap::kAddPath, Hex("000180"), out));
    EXPECT_FALSE(DecodeCapability(cap::kAddPath, Hex("00018000"), out));  // send/receive 0
    EXPECT_FALSE(DecodeCapability(cap::kAddPath, Hex("00018004"), out));  // send/receive 4
    EXPECT_FALSE(DecodeCapability(cap::kGracefulRestart, Hex("00"), out));
    EXPECT_FALSE(DecodeCapability(cap::kGracefulRestart, Hex("0078000180"), out));
    // The same lengths done right.
    EXPECT_TRUE(DecodeCapability(cap::kGracefulRestart, Hex("0078"), out));
    EXPECT_EQ(std::get<GracefulRestartCap>(out).restart_time, 120);
    EXPECT_TRUE(DecodeCapability(cap::kAddPath, Hex("00018001"), out));
    EXPECT_EQ(std::get<AddPathCap>(out).entries[0].send_receive, AddPathCap::kReceive);
}

// Codes and names.
TEST(MsgCapability, CodesAndNames) {
    EXPECT_EQ(CapabilityCode(MultiprotocolCap{}), 1);
    EXPECT_EQ(CapabilityCode(RouteRefreshCap{}), 2);
    EXPECT_EQ(CapabilityCode(ExtendedMessageCap{}), 6);
    EXPECT_EQ(CapabilityCode(GracefulRestartCap{}), 64);
    EXPECT_EQ(CapabilityCode(FourOctetAsCap{}), 65);
    EXPECT_EQ(CapabilityCode(AddPathCap{}), 69);
    EXPECT_EQ(CapabilityCode(EnhancedRouteRefreshCap{}), 70);
    EXPECT_EQ(CapabilityCode(UnknownCap{200, {}}), 200);
    EXPECT_EQ(CapabilityName(cap::kMultiprotocol), "multiprotocol");
    EXPECT_EQ(CapabilityName(cap::kRouteRefresh), "route-refresh");
    EXPECT_EQ(CapabilityName(cap::kExtendedNextHop), "extended-next-hop");
    EXPECT_EQ(CapabilityName(cap::kExtendedMessage), "extended-message");
    EXPECT_EQ(CapabilityName(cap::kGracefulRestart), "graceful-restart");
    EXPECT_EQ(CapabilityName(cap::kFourOctetAs), "four-octet-as");
    EXPECT_EQ(CapabilityName(cap::kAddPath), "add-path");
    EXPECT_EQ(CapabilityName(cap::kEnhancedRouteRefresh), "enhanced-route-refresh");
    EXPECT_EQ(CapabilityName(cap::kLongLivedGr), "long-lived-graceful-restart");
    EXPECT_EQ(CapabilityName(cap::kFqdn), "fqdn");
    EXPECT_EQ(CapabilityName(cap::kRouteRefreshCisco), "route-refresh-cisco");
    EXPECT_EQ(CapabilityName(200), "unknown");
}

}  // namespace
}  // namespace bagpipe::bgp
