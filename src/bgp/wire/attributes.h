// Path attributes (RFC 4271 §4.3, §5) as one value type, plus the table of
// per-code descriptors that decode and encode them.
//
// PathAttributes holds every attribute BaGPipe understands in typed form and
// any other optional attribute byte-exact (`unknown`). Presence is tracked per
// type code in `present`, so an empty COMMUNITIES attribute and an absent one
// differ. MP_REACH_NLRI and MP_UNREACH_NLRI live here too, decoded through the
// family codec table (nlri.h).
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "bgp/wire/bytes.h"
#include "bgp/wire/error.h"
#include "bgp/wire/ext_community.h"
#include "bgp/wire/family.h"
#include "bgp/wire/ip_address.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

namespace attr {
inline constexpr uint8_t kOrigin = 1;
inline constexpr uint8_t kAsPath = 2;
inline constexpr uint8_t kNextHop = 3;
inline constexpr uint8_t kMed = 4;
inline constexpr uint8_t kLocalPref = 5;
inline constexpr uint8_t kAtomicAggregate = 6;
inline constexpr uint8_t kAggregator = 7;
inline constexpr uint8_t kCommunities = 8;
inline constexpr uint8_t kOriginatorId = 9;
inline constexpr uint8_t kClusterList = 10;
inline constexpr uint8_t kMpReach = 14;
inline constexpr uint8_t kMpUnreach = 15;
inline constexpr uint8_t kExtCommunities = 16;
inline constexpr uint8_t kAs4Path = 17;
inline constexpr uint8_t kAs4Aggregator = 18;
inline constexpr uint8_t kPmsiTunnel = 22;
inline constexpr uint8_t kLargeCommunities = 32;
inline constexpr uint8_t kAttrSet = 128;

// Flag bits.
inline constexpr uint8_t kOptional = 0x80;
inline constexpr uint8_t kTransitive = 0x40;
inline constexpr uint8_t kPartial = 0x20;
inline constexpr uint8_t kExtendedLength = 0x10;
}  // namespace attr

inline constexpr uint16_t kAsTrans = 23456;

enum class Origin : uint8_t { kIgp = 0, kEgp = 1, kIncomplete = 2 };

struct AsPathSegment {
    static constexpr uint8_t kSet = 1;
    static constexpr uint8_t kSequence = 2;
    static constexpr uint8_t kConfedSequence = 3;
    static constexpr uint8_t kConfedSet = 4;
    uint8_t type = kSequence;
    std::vector<uint32_t> asns;
    bool operator==(const AsPathSegment&) const = default;
};

struct AsPath {
    std::vector<AsPathSegment> segments;
    // RFC 4271 §9.1.2.2 a): an AS_SET counts 1, confederation segments 0.
    size_t Length() const;
    bool Contains(uint32_t asn) const;
    bool operator==(const AsPath&) const = default;
};

struct Aggregator {
    uint32_t asn = 0;
    IpAddress address;
    bool operator==(const Aggregator&) const = default;
};

// RFC 6514 §5: flags, tunnel type, MPLS label (raw 24-bit field, a VNI for
// VXLAN per RFC 8365), tunnel identifier (an IP address for ingress replication).
struct PmsiTunnel {
    static constexpr uint8_t kIngressReplication = 6;
    uint8_t flags = 0;
    uint8_t tunnel_type = 0;
    uint32_t label = 0;
    Bytes tunnel_id;
    bool operator==(const PmsiTunnel&) const = default;
};

struct LargeCommunity {
    uint32_t global = 0, local1 = 0, local2 = 0;
    auto operator<=>(const LargeCommunity&) const = default;
    bool operator==(const LargeCommunity&) const = default;
};

// RFC 6368 ATTR_SET: the origin AS and the nested path attributes, kept
// byte-exact (their decoded form is produced on demand by DecodeAttrSet).
struct AttrSet {
    uint32_t origin_as = 0;
    Bytes attributes;
    bool operator==(const AttrSet&) const = default;
};

// An attribute the codec does not interpret, kept byte-exact.
struct RawAttribute {
    uint8_t flags = 0;
    uint8_t code = 0;
    Bytes value;
    bool operator==(const RawAttribute&) const = default;
};

struct MpReach {
    Family family = Family::kUnknown;
    uint16_t afi = 0;
    uint8_t safi = 0;
    NextHop next_hop;
    NlriList nlri;
    Bytes raw;  // unknown family: next-hop and NLRI bytes as received
    bool operator==(const MpReach&) const = default;
};

struct MpUnreach {
    Family family = Family::kUnknown;
    uint16_t afi = 0;
    uint8_t safi = 0;
    NlriList withdrawn;
    Bytes raw;  // unknown family: NLRI bytes as received
    bool operator==(const MpUnreach&) const = default;
};

struct PathAttributes {
    std::bitset<256> present;

    Origin origin = Origin::kIgp;
    AsPath as_path;
    AsPath as4_path;
    IpAddress next_hop;
    uint32_t med = 0;
    uint32_t local_pref = 0;
    Aggregator aggregator;
    Aggregator as4_aggregator;
    std::vector<uint32_t> communities;
    IpAddress originator_id;
    std::vector<uint32_t> cluster_list;
    std::vector<ExtCommunity> ext_communities;
    PmsiTunnel pmsi_tunnel;
    std::vector<LargeCommunity> large_communities;
    AttrSet attr_set;
    std::vector<RawAttribute> unknown;  // sorted by code
    MpReach mp_reach;
    MpUnreach mp_unreach;

    bool has(uint8_t code) const { return present.test(code); }
    void set(uint8_t code) { present.set(code); }
    void clear(uint8_t code) { present.reset(code); }

    bool operator==(const PathAttributes&) const = default;
};

// Static facts about one attribute type code.
struct AttributeDescriptor {
    uint8_t code;
    std::string_view name;     // "ORIGIN", "AS_PATH", ..., "" for unknown
    uint8_t flags;             // the Optional and Transitive bits it must carry
    ErrorAction on_malformed;  // RFC 7606 §7 action when its value is malformed
};
const AttributeDescriptor* FindAttributeDescriptor(uint8_t code);  // nullptr if unknown
std::string_view AttributeName(uint8_t code);

// Reads one attribute header (flags, type code, 1- or 2-octet length per the
// Extended Length bit); false when the reader runs out first.
bool ReadAttributeHeader(Reader& r, uint8_t& flags, uint8_t& code, size_t& length);

// Decodes the path attribute block of an UPDATE. `out` receives what was
// understood; the returned error (if any) is the most severe found and names
// its RFC 7606 action. `has_nlri` says whether the UPDATE's classic NLRI field
// is non-empty (NEXT_HOP is then mandatory).
std::optional<DecodeError> DecodePathAttributes(ByteView block, const SessionContext& ctx,
                                                bool has_nlri, PathAttributes& out);

// Encodes every present attribute in type-code order with canonical flags
// (extended length only when the value exceeds 255 octets; unknown optional
// transitive attributes get the Partial bit). MP_REACH/MP_UNREACH are written
// when present. With ctx.asn4 false, 4-octet ASNs become AS_TRANS and
// AS4_PATH/AS4_AGGREGATOR are added (RFC 6793 §4.2.2) unless already present;
// the added AS4_PATH leaves out confederation segments. COMMUNITIES,
// CLUSTER_LIST, EXTENDED_COMMUNITIES and LARGE_COMMUNITIES with an empty list
// are not written (an empty value is malformed, RFC 7606 §7).
void EncodePathAttributes(const PathAttributes& attrs, const SessionContext& ctx, Writer& w);

// Encodes a single attribute (header + value) for codes other than
// MP_REACH/MP_UNREACH; false (nothing written) when `code` is not present in
// attrs, or is one of the list attributes above with an empty list.
bool EncodeAttribute(const PathAttributes& attrs, uint8_t code, const SessionContext& ctx,
                     Writer& w);

// Writes an attribute header for a value of `length` octets.
void PutAttributeHeader(uint8_t flags, uint8_t code, size_t length, Writer& w);

// Decodes the nested attributes of an ATTR_SET (RFC 6368) with 4-octet ASNs.
std::optional<DecodeError> DecodeAttrSet(const AttrSet& set, PathAttributes& out);

}  // namespace bagpipe::bgp
