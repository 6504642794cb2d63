// NLRI lists and the per-family codec table (one descriptor per AFI/SAFI).
//
// An NlriList holds the NLRI of one family in that family's own value type, so
// that decoding 1,000 VPNv4 routes fills one std::vector<VpnNlri> and nothing
// else. FamilyCodec is the table row that knows how to decode and encode the
// NLRI and the MP_REACH next hop of one family; the message layer
// (update.cc, mp_reach.cc) looks rows up with FindFamilyCodec and never
// switches on the family itself. Every function here is pure.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "bgp/family/evpn/evpn_nlri.h"
#include "bgp/family/flowspec/opaque_nlri.h"
#include "bgp/family/inet/inet_nlri.h"
#include "bgp/family/labeled/labeled_nlri.h"
#include "bgp/family/rtc/rtc_nlri.h"
#include "bgp/family/vpn/vpn_nlri.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/family.h"
#include "bgp/wire/ip_address.h"

namespace bagpipe::bgp {

using NlriList = std::variant<std::vector<InetNlri>, std::vector<LabeledNlri>,
                              std::vector<VpnNlri>, std::vector<EvpnNlri>,
                              std::vector<RtcNlri>, std::vector<OpaqueNlri>>;

size_t NlriCount(const NlriList& list);

// MP_REACH next hop: a global address and, for IPv6, an optional link-local
// one. VPN families carry an 8-octet zero RD before each address on the wire;
// it is checked on decode (any value accepted) and written as zero.
struct NextHop {
    IpAddress global;
    IpAddress link_local;
    bool operator==(const NextHop&) const = default;
};

struct NlriContext {
    bool add_path = false;  // each NLRI starts with a 4-octet path id
    bool withdraw = false;  // MP_UNREACH: labeled NLRI carry one label field only
};

struct FamilyCodec {
    Family family;
    // Returns an empty list of this family's type.
    NlriList (*make_list)();
    // Decodes every NLRI in `r` (until it is empty), appending to `out`, which
    // holds this family's type. On a malformed NLRI returns false and sets
    // `error` (what was appended before stays).
    bool (*decode)(Reader& r, const NlriContext& ctx, NlriList& out, std::string& error);
    // Encoded size of out[i] in octets, including path id and length prefix.
    size_t (*encoded_size)(const NlriList& list, size_t i, const NlriContext& ctx);
    // Appends list[i].
    void (*encode)(const NlriList& list, size_t i, const NlriContext& ctx, Writer& w);
    // Decodes the MP_REACH next-hop field (its length octet excluded).
    bool (*decode_next_hop)(ByteView nh, NextHop& out, std::string& error);
    // Appends the next-hop field with its length octet.
    void (*encode_next_hop)(const NextHop& nh, Writer& w);
};

// nullptr for Family::kUnknown.
const FamilyCodec* FindFamilyCodec(Family f);

}  // namespace bagpipe::bgp
