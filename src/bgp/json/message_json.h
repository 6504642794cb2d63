// JSON rendering of decoded BGP messages, attributes, NLRI, extended
// communities and capabilities (nlohmann::json).
//
// Used by bagpipe-bgp-decode and, later, by the looking glass. The output is
// descriptive, not a wire format: field names are stable (their shapes are
// pinned by tests/unit/json/message_json_test.cc), values are what the decoder
// understood, and whatever it did not interpret is rendered as lowercase hex.
//
// Message: {"type": "OPEN" | "UPDATE" | "NOTIFICATION" | "KEEPALIVE" |
// "ROUTE-REFRESH" | null (header unreadable), "type_code", "length",
// "error": null | {"action", "notification", "reason", ...}, ...}, plus
//   OPEN          version, my_as, hold_time, bgp_id, asn, capabilities
//   UPDATE        withdrawn, attributes, nlri, end_of_rib (End-of-RIB only)
//   NOTIFICATION  code, subcode, code_name, subcode_name, data,
//                 shutdown_communication (RFC 9003, when present)
//   ROUTE-REFRESH afi, safi, family, subtype, subtype_name
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bgp/wire/attributes.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/capability.h"
#include "bgp/wire/error.h"
#include "bgp/wire/ext_community.h"
#include "bgp/wire/family.h"
#include "bgp/wire/message.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

// What rendering depends on besides the decoded value.
struct JsonOptions {
    // The context the message was decoded with: NLRI of a family in
    // session.add_path_receive get a "path_id".
    SessionContext session;
    // The whole message as received (optional). When given, UPDATE attributes
    // are listed in wire order with the flags octet and length as received, and
    // attributes the decoder dropped (malformed, repeated, ignored) are listed
    // too with "discarded": true and their value in hex. Without it, attributes
    // are listed by type code with canonical flags and lengths.
    ByteView raw;
};

// One whole message.
nlohmann::json MessageToJson(const DecodeResult& result, const JsonOptions& options = {});

// null, or {"action", "notification": {code, subcode, data, code_name,
// subcode_name} | null, "reason", "attribute"?, "attribute_name"?, "afi"?,
// "safi"?, "family"?}.
nlohmann::json ErrorToJson(const std::optional<DecodeError>& error);

nlohmann::json OpenToJson(const OpenMessage& m);
nlohmann::json CapabilityToJson(const Capability& c);
nlohmann::json UpdateToJson(const UpdateMessage& m, const JsonOptions& options = {});
nlohmann::json NotificationToJson(const NotificationMessage& m);
nlohmann::json RouteRefreshToJson(const RouteRefreshMessage& m);

// The attribute list of an UPDATE: [{code, name, flags, length, value}].
// `block` is the attribute block as received (may be empty, see
// JsonOptions::raw); without it flags and length are the canonical encoding's.
nlohmann::json AttributesToJson(const PathAttributes& attrs, ByteView block,
                                const SessionContext& ctx);
// The "value" of one present attribute (known or unknown code); null if absent.
nlohmann::json AttributeValueToJson(const PathAttributes& attrs, uint8_t code,
                                    const SessionContext& ctx);
// The flags octet that attribute `code` of `attrs` gets when encoded.
uint8_t CanonicalAttributeFlags(const PathAttributes& attrs, uint8_t code,
                                const SessionContext& ctx);

nlohmann::json AsPathToJson(const AsPath& path);
nlohmann::json ExtCommunityToJson(const ExtCommunity& c);
nlohmann::json NextHopToJson(const NextHop& nh);
nlohmann::json MpReachToJson(const MpReach& mp, const SessionContext& ctx);
nlohmann::json MpUnreachToJson(const MpUnreach& mp, const SessionContext& ctx);

// NLRI. `with_path_id` adds "path_id" (ADD-PATH applied to the family).
nlohmann::json NlriToJson(const InetNlri& n, bool with_path_id = false);
nlohmann::json NlriToJson(const LabeledNlri& n, bool with_path_id = false);
nlohmann::json NlriToJson(const VpnNlri& n, bool with_path_id = false);
nlohmann::json NlriToJson(const EvpnNlri& n, bool with_path_id = false);
nlohmann::json NlriToJson(const RtcNlri& n, bool with_path_id = false);
nlohmann::json NlriToJson(const OpaqueNlri& n, bool with_path_id = false);
nlohmann::json NlriListToJson(const NlriList& list, bool with_path_id = false);

// "ethernet-ad", "mac-ip", "inclusive-multicast", "ethernet-segment",
// "ip-prefix", or "unknown".
std::string_view EvpnRouteTypeName(uint8_t type);
// "message-header-error", ..., "cease", or "unknown".
std::string_view NotificationCodeName(uint8_t code);
// "bad-message-length", "administrative-shutdown", ..., "unspecific" for 0, or "unknown".
std::string_view NotificationSubcodeName(uint8_t code, uint8_t subcode);
// "normal", "borr", "eorr", or "unknown".
std::string_view RouteRefreshSubtypeName(uint8_t subtype);

// Lowercase hex without separators.
std::string HexString(ByteView bytes);
// "65000:1".
std::string CommunityString(uint32_t community);
// Parses hex digits (whitespace ignored); nullopt on an odd count or a non-hex character.
std::optional<Bytes> ParseHex(std::string_view text, std::string* error = nullptr);

// nlohmann's dump with invalid UTF-8 replaced instead of throwing (shutdown
// communications are peer-supplied text). indent < 0: one line.
std::string DumpJson(const nlohmann::json& j, int indent = -1);

}  // namespace bagpipe::bgp
