// Typed view of a FlowSpec-VPN NLRI (RFC 8955 §8, SAFI 134; IPv6 per RFC
// 8956): the route distinguisher, then the components in strictly increasing
// type order. The codec row (flowspec_codec.h) carries these NLRI opaque
// (OpaqueNlri::raw); this is what the VPN layer uses to originate and read
// the rules of the original bagpipe-bgp's "attract_traffic" (redirect-to-VRF,
// RFC 7674, is bgp::ExtCommunity::RedirectToVrf).
//
// Components typed here: destination prefix (1), source prefix (2), IP
// protocol / IPv6 next header (3), port (4), destination port (5) and source
// port (6). Every other component (ICMP type/code, TCP flags, packet length,
// DSCP, fragment, IPv6 flow label, and IPv6 prefixes with a non-zero offset)
// is kept as its raw octets, so nothing is lost.
//
// Numeric operators (RFC 8955 §4.2.1.1): a component's {operator, value} list
// is an OR of AND-groups, the AND having the higher priority. One NumericMatch
// is one AND-group: its first term is sent with the a-bit clear, the others
// with it set; the last term of the component gets the e-bit. Value lengths
// are not kept: the encoder always writes the shortest of 1 / 2 / 4 / 8
// octets that holds the value (the reserved operator bit 0x08 is ignored on
// decode). So decode → encode is byte-exact for canonical input (what ExaBGP
// and BaGPipe send) and equivalent for the rest.
//
//   ==6                  {NumericMatch::Equal(6)}
//   >=80 && <=90         {NumericMatch::Range(80, 90)}
//   ==6 || ==17          {NumericMatch::Equal(6), NumericMatch::Equal(17)}
//
// Pure functions, no I/O; malformed input gives std::nullopt and a message.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bgp/family/flowspec/opaque_nlri.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/family.h"
#include "bgp/wire/ip_address.h"
#include "bgp/wire/route_distinguisher.h"

namespace bagpipe::bgp {

namespace flowspec {
// Component types (RFC 8955 §4.2.2, RFC 8956 §3).
inline constexpr uint8_t kDestinationPrefix = 1;
inline constexpr uint8_t kSourcePrefix = 2;
inline constexpr uint8_t kIpProtocol = 3;  // IPv6: next header
inline constexpr uint8_t kPort = 4;
inline constexpr uint8_t kDestinationPort = 5;
inline constexpr uint8_t kSourcePort = 6;
inline constexpr uint8_t kIcmpType = 7;
inline constexpr uint8_t kIcmpCode = 8;
inline constexpr uint8_t kTcpFlags = 9;  // bitmask operators
inline constexpr uint8_t kPacketLength = 10;
inline constexpr uint8_t kDscp = 11;       // IPv6: traffic class
inline constexpr uint8_t kFragment = 12;   // bitmask operators
inline constexpr uint8_t kFlowLabel = 13;  // IPv6 only

// Operator octet bits shared by numeric and bitmask operators.
inline constexpr uint8_t kEndOfList = 0x80;
inline constexpr uint8_t kAnd = 0x40;
inline constexpr uint8_t kLengthMask = 0x30;
// Numeric comparison bits (NumericTerm::op).
inline constexpr uint8_t kLt = 0x04;
inline constexpr uint8_t kGt = 0x02;
inline constexpr uint8_t kEq = 0x01;
}  // namespace flowspec

// One {operator, value} term: `value` compared with the lt / gt / eq bits of
// `op` (0 = false, lt|gt = "!=", lt|gt|eq = true).
struct NumericTerm {
    uint8_t op = flowspec::kEq;
    uint64_t value = 0;

    bool Matches(uint64_t v) const {
        return ((op & flowspec::kLt) && v < value) || ((op & flowspec::kGt) && v > value) ||
               ((op & flowspec::kEq) && v == value);
    }

    auto operator<=>(const NumericTerm&) const = default;
    bool operator==(const NumericTerm&) const = default;
};

// Inclusive range read back from the simple forms.
struct NumericRange {
    uint64_t min = 0;
    uint64_t max = 0;

    auto operator<=>(const NumericRange&) const = default;
    bool operator==(const NumericRange&) const = default;
};

// One AND-group of terms (see the top of this file).
struct NumericMatch {
    std::vector<NumericTerm> terms;

    static NumericMatch Equal(uint64_t v);                  // ==v
    static NumericMatch Range(uint64_t min, uint64_t max);  // >=min && <=max

    // {v, v} for ==v; {min, max} for >=min && <=max (either order), when
    // min <= max; nullopt for any other group.
    std::optional<NumericRange> AsRange() const;
    // True when every term matches (an empty group matches nothing).
    bool Matches(uint64_t v) const;

    auto operator<=>(const NumericMatch&) const = default;
    bool operator==(const NumericMatch&) const = default;
};

// AsRange() of the only group, or nullopt unless there is exactly one group.
std::optional<NumericRange> AsSimpleRange(const std::vector<NumericMatch>& component);
// True when some group matches (an OR of the groups).
bool MatchesAny(const std::vector<NumericMatch>& component, uint64_t v);

// A component kept byte-exact: `value` is everything after the type octet
// (the operator list, or for a prefix its length[, offset] and octets).
struct FlowspecComponent {
    uint8_t type = 0;
    Bytes value;

    auto operator<=>(const FlowspecComponent&) const = default;
    bool operator==(const FlowspecComponent&) const = default;
};

struct FlowspecRule {
    RouteDistinguisher rd;
    std::optional<Prefix> destination;  // type 1; v4 or v6 (offset 0)
    std::optional<Prefix> source;       // type 2
    // Each vector is one component: an OR of AND-groups; empty = absent.
    std::vector<NumericMatch> protocols;          // type 3
    std::vector<NumericMatch> ports;              // type 4
    std::vector<NumericMatch> destination_ports;  // type 5
    std::vector<NumericMatch> source_ports;       // type 6
    // Every other component, in type order as decoded. The decoder never
    // puts a type here that a typed field above holds; the encoder expects
    // the same (at most one component per type).
    std::vector<FlowspecComponent> other;

    auto operator<=>(const FlowspecRule&) const = default;
    bool operator==(const FlowspecRule&) const = default;
};

// Decodes the NLRI bytes without their length prefix (OpaqueNlri::raw).
// `family` picks the prefix encoding: RFC 8955 for kIpv4FlowspecVpn, RFC
// 8956 (with an offset octet) for kIpv6FlowspecVpn. Errors: short RD,
// truncated or unknown components, types not strictly increasing, prefix
// length over the maximum, operator list without an end-of-list bit, an
// invalid family.
std::optional<FlowspecRule> DecodeFlowspecVpn(ByteView raw, std::string& error,
                                              Family family = Family::kIpv4FlowspecVpn);

// The RD then the components in increasing type order, minimal value
// lengths, prefix bits beyond the length cleared. An IPv6 destination or
// source is written in the RFC 8956 form with offset 0. Groups without terms
// are skipped. The result is not limited: an NLRI over 4095 octets cannot be
// sent (RFC 8955 §4.1), which is the caller's check.
Bytes EncodeFlowspecVpn(const FlowspecRule& rule);

// {path_id 0, EncodeFlowspecVpn(rule)}.
OpaqueNlri ToOpaque(const FlowspecRule& rule);

// For logs: "rd 64512:1 dst 10.0.0.0/24 proto =6 dport >=80&<=90". Groups of
// a component are joined by "|" ("proto =6|=17"); raw components are shown
// by name ("icmp-type =8", "tcp-flags =0x2", "type14 0a0b" when unknown).
std::string ToString(const FlowspecRule& rule);
std::string ToString(const NumericMatch& match);                   // ">=80&<=90"
std::string ToString(const std::vector<NumericMatch>& component);  // "=6|=17"

}  // namespace bagpipe::bgp
