#include "bgp/json/message_json.h"

#include <fmt/format.h>

#include <bitset>
#include <cctype>
#include <variant>

namespace bagpipe::bgp {

using nlohmann::json;

namespace {

template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Get24(const uint8_t* p) { return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2]; }
uint32_t Get32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string Ipv4String(uint32_t v) { return IpAddress::V4(v).ToString(); }

json IpOrNull(const IpAddress& a) { return a.empty() ? json(nullptr) : json(a.ToString()); }

std::string FamilyString(uint16_t afi, uint8_t safi) {
    return std::string(FamilyName(FamilyFromAfiSafi(afi, safi)));
}

// {"afi", "safi", "family"} for one AFI/SAFI pair.
json AfiSafiJson(uint16_t afi, uint8_t safi) {
    return json{{"afi", afi}, {"safi", safi}, {"family", FamilyString(afi, safi)}};
}

json LabelsJson(const LabelStack& s) {
    json raw = json::array();
    for (size_t i = 0; i < s.count; ++i) raw.push_back(s.raw[i]);
    return raw;
}

json LabelValuesJson(const LabelStack& s) {
    json values = json::array();
    for (size_t i = 0; i < s.count; ++i) values.push_back(LabelFromField(s.raw[i]));
    return values;
}

void AddPathId(json& j, uint32_t path_id, bool with_path_id) {
    if (with_path_id) j["path_id"] = path_id;
}

std::string_view AsPathSegmentTypeName(uint8_t type) {
    switch (type) {
        case AsPathSegment::kSet: return "set";
        case AsPathSegment::kSequence: return "sequence";
        case AsPathSegment::kConfedSequence: return "confed-sequence";
        case AsPathSegment::kConfedSet: return "confed-set";
        default: return "unknown";
    }
}

std::string_view OriginName(Origin o) {
    switch (o) {
        case Origin::kIgp: return "igp";
        case Origin::kEgp: return "egp";
        case Origin::kIncomplete: return "incomplete";
    }
    return "unknown";
}

std::string_view PmsiTunnelTypeName(uint8_t t) {
    switch (t) {  // RFC 6514 §5, RFC 7524
        case 0: return "no-tunnel-information";
        case 1: return "rsvp-te-p2mp";
        case 2: return "mldp-p2mp";
        case 3: return "pim-ssm";
        case 4: return "pim-sm";
        case 5: return "bidir-pim";
        case 6: return "ingress-replication";
        case 7: return "mldp-mp2mp";
        default: return "unknown";
    }
}

std::string_view SendReceiveName(uint8_t v) {
    switch (v) {
        case AddPathCap::kReceive: return "receive";
        case AddPathCap::kSend: return "send";
        case AddPathCap::kReceive | AddPathCap::kSend: return "both";
        default: return "unknown";
    }
}

json AggregatorJson(const Aggregator& a) {
    return json{{"asn", a.asn}, {"address", a.address.ToString()}};
}

// Capabilities the codec keeps raw but that are simple to show.
void DescribeUnknownCapability(const UnknownCap& u, json& j) {
    const Bytes& v = u.value;
    switch (u.code) {
        case cap::kExtendedNextHop: {  // RFC 8950: (AFI, SAFI (2 octets), next-hop AFI)*
            if (v.size() % 6) return;
            json families = json::array();
            for (size_t i = 0; i < v.size(); i += 6) {
                uint16_t afi = Get16(&v[i]);
                uint16_t safi = Get16(&v[i + 2]);
                json f = safi <= 0xff ? AfiSafiJson(afi, static_cast<uint8_t>(safi))
                                      : json{{"afi", afi}, {"safi", safi}, {"family", "unknown"}};
                f["next_hop_afi"] = Get16(&v[i + 4]);
                families.push_back(std::move(f));
            }
            j["families"] = std::move(families);
            return;
        }
        case cap::kLongLivedGr: {  // RFC 9494: (AFI, SAFI, flags, 24-bit stale time)*
            if (v.size() % 7) return;
            json families = json::array();
            for (size_t i = 0; i < v.size(); i += 7) {
                json f = AfiSafiJson(Get16(&v[i]), v[i + 2]);
                f["flags"] = v[i + 3];
                f["stale_time"] = Get24(&v[i + 4]);
                families.push_back(std::move(f));
            }
            j["families"] = std::move(families);
            return;
        }
        case cap::kFqdn: {  // hostname length, hostname, domain length, domain
            if (v.empty() || v.size() < 1u + v[0] + 1u) return;
            size_t hl = v[0];
            size_t dl = v[1 + hl];
            if (v.size() != 2 + hl + dl) return;
            j["hostname"] = std::string(v.begin() + 1, v.begin() + 1 + static_cast<ptrdiff_t>(hl));
            j["domain"] = std::string(v.begin() + 2 + static_cast<ptrdiff_t>(hl), v.end());
            return;
        }
        default:
            return;
    }
}

json AttributeEntry(uint8_t code, uint8_t flags, json value) {
    std::string_view name = AttributeName(code);
    return json{{"code", code},
                {"name", name.empty() ? std::string("UNKNOWN") : std::string(name)},
                {"flags", flags},
                {"value", std::move(value)}};
}

bool HasUnknown(const PathAttributes& a, uint8_t code) {
    for (const auto& u : a.unknown)
        if (u.code == code) return true;
    return false;
}

// Present in decoded form: a known attribute marked present, or an unknown one
// kept raw.
bool AttributePresent(const PathAttributes& a, uint8_t code) {
    if (FindAttributeDescriptor(code)) return a.has(code);
    return HasUnknown(a, code);
}

// The attribute block of an UPDATE message, or an empty view when `raw` is not
// a consistent UPDATE.
ByteView UpdateAttributeBlock(ByteView raw) {
    if (raw.size() < kHeaderSize + 4 || raw[18] != static_cast<uint8_t>(MessageType::kUpdate))
        return {};
    Reader r(raw.subspan(kHeaderSize));
    uint16_t wlen = 0, alen = 0;
    ByteView block;
    if (!r.ReadU16(wlen) || !r.Skip(wlen) || !r.ReadU16(alen) || !r.ReadBytes(alen, block))
        return {};
    return block;
}

bool IsFlowspecVpn(Family f) {
    return f == Family::kIpv4FlowspecVpn || f == Family::kIpv6FlowspecVpn;
}

// FlowSpec-VPN NLRI start with their route distinguisher (RFC 8955 §8).
void AddFlowspecRds(const NlriList& list, json& items) {
    const auto* v = std::get_if<std::vector<OpaqueNlri>>(&list);
    if (v == nullptr) return;
    for (size_t i = 0; i < v->size() && i < items.size(); ++i) {
        const Bytes& raw = (*v)[i].raw;
        if (raw.size() >= 8) items[i]["rd"] = RouteDistinguisher::FromBytes(raw.data()).ToString();
    }
}

}  // namespace

// ---------------------------------------------------------------------------
// Small helpers.

std::string HexString(ByteView bytes) { return FormatHexOctets(bytes.data(), bytes.size(), 0); }

std::string CommunityString(uint32_t c) { return fmt::format("{}:{}", c >> 16, c & 0xffff); }

std::optional<Bytes> ParseHex(std::string_view text, std::string* error) {
    Bytes out;
    out.reserve(text.size() / 2);
    int high = -1;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (std::isspace(static_cast<unsigned char>(c))) continue;
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else {
            if (error)
                *error = std::isprint(static_cast<unsigned char>(c))
                             ? fmt::format("invalid hex: character '{}' at offset {}", c, i)
                             : fmt::format("invalid hex: byte 0x{:02x} at offset {}",
                                           static_cast<unsigned char>(c), i);
            return std::nullopt;
        }
        if (high < 0) {
            high = d;
        } else {
            out.push_back(static_cast<uint8_t>(high << 4 | d));
            high = -1;
        }
    }
    if (high >= 0) {
        if (error) *error = "invalid hex: odd number of hex digits";
        return std::nullopt;
    }
    return out;
}

std::string DumpJson(const json& j, int indent) {
    return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string_view EvpnRouteTypeName(uint8_t type) {
    switch (type) {
        case 1: return "ethernet-ad";
        case 2: return "mac-ip";
        case 3: return "inclusive-multicast";
        case 4: return "ethernet-segment";
        case 5: return "ip-prefix";
        default: return "unknown";
    }
}

std::string_view NotificationCodeName(uint8_t code) {
    switch (code) {
        case notif::kMessageHeaderError: return "message-header-error";
        case notif::kOpenMessageError: return "open-message-error";
        case notif::kUpdateMessageError: return "update-message-error";
        case notif::kHoldTimerExpired: return "hold-timer-expired";
        case notif::kFsmError: return "fsm-error";
        case notif::kCease: return "cease";
        case notif::kRouteRefreshError: return "route-refresh-message-error";
        default: return "unknown";
    }
}

std::string_view NotificationSubcodeName(uint8_t code, uint8_t subcode) {
    if (subcode == 0) return "unspecific";
    switch (code) {
        case notif::kMessageHeaderError:
            switch (subcode) {
                case 1: return "connection-not-synchronized";
                case 2: return "bad-message-length";
                case 3: return "bad-message-type";
            }
            break;
        case notif::kOpenMessageError:
            switch (subcode) {
                case 1: return "unsupported-version-number";
                case 2: return "bad-peer-as";
                case 3: return "bad-bgp-identifier";
                case 4: return "unsupported-optional-parameter";
                case 5: return "authentication-failure";  // deprecated
                case 6: return "unacceptable-hold-time";
                case 7: return "unsupported-capability";
                case 11: return "role-mismatch";
            }
            break;
        case notif::kUpdateMessageError:
            switch (subcode) {
                case 1: return "malformed-attribute-list";
                case 2: return "unrecognized-well-known-attribute";
                case 3: return "missing-well-known-attribute";
                case 4: return "attribute-flags-error";
                case 5: return "attribute-length-error";
                case 6: return "invalid-origin-attribute";
                case 7: return "as-routing-loop";  // deprecated
                case 8: return "invalid-next-hop-attribute";
                case 9: return "optional-attribute-error";
                case 10: return "invalid-network-field";
                case 11: return "malformed-as-path";
            }
            break;
        case notif::kFsmError:  // RFC 6608
            switch (subcode) {
                case 1: return "unexpected-message-in-opensent";
                case 2: return "unexpected-message-in-openconfirm";
                case 3: return "unexpected-message-in-established";
            }
            break;
        case notif::kCease:  // RFC 4486, RFC 8538, RFC 9384
            switch (subcode) {
                case 1: return "maximum-prefixes-reached";
                case 2: return "administrative-shutdown";
                case 3: return "peer-deconfigured";
                case 4: return "administrative-reset";
                case 5: return "connection-rejected";
                case 6: return "other-configuration-change";
                case 7: return "connection-collision-resolution";
                case 8: return "out-of-resources";
                case 9: return "hard-reset";
                case 10: return "bfd-down";
            }
            break;
        case notif::kRouteRefreshError:
            if (subcode == 1) return "invalid-message-length";
            break;
    }
    return "unknown";
}

std::string_view RouteRefreshSubtypeName(uint8_t subtype) {
    switch (subtype) {
        case RouteRefreshMessage::kNormal: return "normal";
        case RouteRefreshMessage::kBeginOfRib: return "borr";
        case RouteRefreshMessage::kEndOfRib: return "eorr";
        default: return "unknown";
    }
}

// ---------------------------------------------------------------------------
// NLRI.

json NlriToJson(const InetNlri& n, bool with_path_id) {
    json j{{"prefix", n.prefix.ToString()}};
    AddPathId(j, n.path_id, with_path_id);
    return j;
}

json NlriToJson(const LabeledNlri& n, bool with_path_id) {
    json j{{"labels", LabelsJson(n.labels)},
           {"label_values", LabelValuesJson(n.labels)},
           {"prefix", n.prefix.ToString()}};
    AddPathId(j, n.path_id, with_path_id);
    return j;
}

json NlriToJson(const VpnNlri& n, bool with_path_id) {
    json j{{"labels", LabelsJson(n.labels)},
           {"label_values", LabelValuesJson(n.labels)},
           {"rd", n.rd.ToString()},
           {"prefix", n.prefix.ToString()}};
    AddPathId(j, n.path_id, with_path_id);
    return j;
}

json NlriToJson(const EvpnNlri& n, bool with_path_id) {
    json j{{"route_type", n.route_type}, {"route_type_name", EvpnRouteTypeName(n.route_type)}};
    auto labels = [&] {
        j["labels"] = LabelsJson(n.labels);
        j["label_values"] = LabelValuesJson(n.labels);
    };
    switch (n.route_type) {
        case 1:
            j["rd"] = n.rd.ToString();
            j["esi"] = n.esi.ToString();
            j["ethernet_tag"] = n.ethernet_tag;
            labels();
            break;
        case 2:
            j["rd"] = n.rd.ToString();
            j["esi"] = n.esi.ToString();
            j["ethernet_tag"] = n.ethernet_tag;
            j["mac"] = n.mac.ToString();
            j["ip"] = IpOrNull(n.ip);
            labels();
            break;
        case 3:
            j["rd"] = n.rd.ToString();
            j["ethernet_tag"] = n.ethernet_tag;
            j["originating_ip"] = IpOrNull(n.originating_ip);
            break;
        case 4:
            j["rd"] = n.rd.ToString();
            j["esi"] = n.esi.ToString();
            j["originating_ip"] = IpOrNull(n.originating_ip);
            break;
        case 5:
            j["rd"] = n.rd.ToString();
            j["esi"] = n.esi.ToString();
            j["ethernet_tag"] = n.ethernet_tag;
            j["prefix"] = n.prefix.ToString();
            j["gateway_ip"] = IpOrNull(n.gateway_ip);
            labels();
            break;
        default:
            j["raw"] = HexString(n.raw);
            break;
    }
    AddPathId(j, n.path_id, with_path_id);
    return j;
}

json NlriToJson(const RtcNlri& n, bool with_path_id) {
    json j{{"length", n.length}};
    if (n.is_default()) {
        j["default"] = true;
    } else {
        j["default"] = false;
        j["origin_as"] = n.origin_as;
        const unsigned rt_bits = n.length > 32 ? n.length - 32u : 0u;
        j["route_target_length"] = rt_bits;
        if (rt_bits >= 64) {
            const ExtCommunity& rt = n.route_target;
            j["route_target"] = rt.is_route_target() ? rt.AdminValueString()
                                                     : HexString(rt.bytes);
        } else {
            std::string hex = HexString(ByteView(n.route_target.bytes.data(), (rt_bits + 7) / 8));
            j["prefix"] = fmt::format("{}/{}", hex.empty() ? "0" : hex, rt_bits);
            j["route_target"] = std::move(hex);
        }
    }
    AddPathId(j, n.path_id, with_path_id);
    return j;
}

json NlriToJson(const OpaqueNlri& n, bool with_path_id) {
    json j{{"raw", HexString(n.raw)}};
    AddPathId(j, n.path_id, with_path_id);
    return j;
}

json NlriListToJson(const NlriList& list, bool with_path_id) {
    json out = json::array();
    std::visit(
        [&](const auto& v) {
            for (const auto& n : v) out.push_back(NlriToJson(n, with_path_id));
        },
        list);
    return out;
}

// ---------------------------------------------------------------------------
// Attributes.

json AsPathToJson(const AsPath& path) {
    json out = json::array();
    for (const auto& seg : path.segments)
        out.push_back(json{{"type", AsPathSegmentTypeName(seg.type)}, {"asns", seg.asns}});
    return out;
}

json ExtCommunityToJson(const ExtCommunity& c) {
    const std::string_view name = c.Name();
    json j{{"type", c.type()},
           {"subtype", c.subtype()},
           {"name", name},
           {"value", c.ValueString()},
           {"transitive", c.transitive()},
           {"hex", HexString(c.bytes)}};
    const uint8_t* p = c.bytes.data();
    if (name == "route-target" || name == "route-origin" || name == "rt-record" ||
        name == "redirect-to-vrf") {
        static constexpr std::string_view kKinds[] = {"as2", "ipv4", "as4", "unknown"};
        j["admin_type"] = kKinds[c.type() & 0x03];
    } else if (name == "encapsulation") {
        const std::string_view tunnel = TunnelTypeName(c.tunnel_type());
        j["tunnel_type"] = c.tunnel_type();
        j["tunnel"] = tunnel.empty() ? std::string_view("unknown") : tunnel;
    } else if (name == "mac-mobility") {
        j["sequence"] = c.mac_mobility_sequence();
        j["sticky"] = c.mac_mobility_sticky();
    } else if (name == "esi-label") {
        const uint32_t raw = Get24(p + 5);
        j["label"] = raw;
        j["label_value"] = LabelFromField(raw);
        j["single_active"] = (p[2] & 1) != 0;
    } else if (name == "es-import" || name == "routers-mac") {
        j["mac"] = FormatHexOctets(p + 2, 6);
    } else if (name == "consistent-hash-sort-order") {
        j["order"] = Get32(p + 2);
    }
    return j;
}

json NextHopToJson(const NextHop& nh) {
    json out = json::array();
    if (!nh.global.empty()) out.push_back(nh.global.ToString());
    if (!nh.link_local.empty()) out.push_back(nh.link_local.ToString());
    return out;
}

json MpReachToJson(const MpReach& mp, const SessionContext& ctx) {
    json j = AfiSafiJson(mp.afi, mp.safi);
    if (FindFamilyCodec(mp.family) == nullptr) {
        j["raw"] = HexString(mp.raw);
        return j;
    }
    j["next_hop"] = NextHopToJson(mp.next_hop);
    j["nlri"] = NlriListToJson(mp.nlri, ctx.add_path_rx(mp.family));
    if (IsFlowspecVpn(mp.family)) AddFlowspecRds(mp.nlri, j["nlri"]);
    return j;
}

json MpUnreachToJson(const MpUnreach& mp, const SessionContext& ctx) {
    json j = AfiSafiJson(mp.afi, mp.safi);
    if (FindFamilyCodec(mp.family) == nullptr) {
        j["raw"] = HexString(mp.raw);
        return j;
    }
    j["withdrawn"] = NlriListToJson(mp.withdrawn, ctx.add_path_rx(mp.family));
    if (IsFlowspecVpn(mp.family)) AddFlowspecRds(mp.withdrawn, j["withdrawn"]);
    return j;
}

json AttributeValueToJson(const PathAttributes& a, uint8_t code, const SessionContext& ctx) {
    if (!FindAttributeDescriptor(code)) {
        for (const auto& u : a.unknown)
            if (u.code == code) return HexString(u.value);
        return nullptr;
    }
    if (!a.has(code)) return nullptr;
    switch (code) {
        case attr::kOrigin: return OriginName(a.origin);
        case attr::kAsPath: return AsPathToJson(a.as_path);
        case attr::kAs4Path: return AsPathToJson(a.as4_path);
        case attr::kNextHop: return a.next_hop.ToString();
        case attr::kMed: return a.med;
        case attr::kLocalPref: return a.local_pref;
        case attr::kAtomicAggregate: return true;
        case attr::kAggregator: return AggregatorJson(a.aggregator);
        case attr::kAs4Aggregator: return AggregatorJson(a.as4_aggregator);
        case attr::kCommunities: {
            json out = json::array();
            for (uint32_t c : a.communities) out.push_back(CommunityString(c));
            return out;
        }
        case attr::kOriginatorId: return a.originator_id.ToString();
        case attr::kClusterList: {
            json out = json::array();
            for (uint32_t id : a.cluster_list) out.push_back(Ipv4String(id));
            return out;
        }
        case attr::kExtCommunities: {
            json out = json::array();
            for (const auto& c : a.ext_communities) out.push_back(ExtCommunityToJson(c));
            return out;
        }
        case attr::kPmsiTunnel: {
            const PmsiTunnel& t = a.pmsi_tunnel;
            json j{{"flags", t.flags},
                   {"tunnel_type", t.tunnel_type},
                   {"tunnel_type_name", PmsiTunnelTypeName(t.tunnel_type)},
                   {"label", t.label},
                   {"label_value", LabelFromField(t.label)}};
            if (t.tunnel_id.size() == 4)
                j["tunnel_id"] = IpAddress::V4(t.tunnel_id.data()).ToString();
            else if (t.tunnel_id.size() == 16)
                j["tunnel_id"] = IpAddress::V6(t.tunnel_id.data()).ToString();
            else
                j["tunnel_id"] = HexString(t.tunnel_id);
            return j;
        }
        case attr::kLargeCommunities: {
            json out = json::array();
            for (const auto& c : a.large_communities)
                out.push_back(fmt::format("{}:{}:{}", c.global, c.local1, c.local2));
            return out;
        }
        case attr::kAttrSet: {
            PathAttributes nested;
            auto err = DecodeAttrSet(a.attr_set, nested);
            SessionContext nested_ctx;
            nested_ctx.asn4 = true;
            json j{{"origin_as", a.attr_set.origin_as},
                   {"attributes", AttributesToJson(nested, a.attr_set.attributes, nested_ctx)}};
            if (err) j["error"] = ErrorToJson(err);
            return j;
        }
        case attr::kMpReach: return MpReachToJson(a.mp_reach, ctx);
        case attr::kMpUnreach: return MpUnreachToJson(a.mp_unreach, ctx);
    }
    return nullptr;
}

namespace {

struct AttributeHeader {
    uint8_t flags = 0;
    size_t length = 0;
};

// The flags octet and value length attribute `code` gets when encoded for a
// session like the one it was received on.
AttributeHeader CanonicalHeader(const PathAttributes& a, uint8_t code, const SessionContext& ctx) {
    if (const AttributeDescriptor* d = FindAttributeDescriptor(code)) {
        SessionContext enc = ctx;
        enc.add_path_send = ctx.add_path_receive;  // MP_REACH/UNREACH as received
        Bytes buf;
        Writer w(buf);
        if (!EncodeAttribute(a, code, enc, w) || buf.size() < 3) return {d->flags, 0};
        const size_t header = (buf[0] & attr::kExtendedLength) ? 4 : 3;
        return {buf[0], buf.size() - header};
    }
    for (const auto& u : a.unknown) {
        if (u.code != code) continue;
        uint8_t flags = u.flags & static_cast<uint8_t>(~attr::kExtendedLength);
        if (u.value.size() > 255) flags |= attr::kExtendedLength;
        return {flags, u.value.size()};
    }
    return {};
}

}  // namespace

uint8_t CanonicalAttributeFlags(const PathAttributes& a, uint8_t code, const SessionContext& ctx) {
    return CanonicalHeader(a, code, ctx).flags;
}

json AttributesToJson(const PathAttributes& a, ByteView block, const SessionContext& ctx) {
    json out = json::array();
    std::bitset<256> listed;
    Reader r(block);
    while (!r.empty()) {
        uint8_t flags = 0, code = 0;
        size_t length = 0;
        bool framed = ReadAttributeHeader(r, flags, code, length);
        ByteView value;
        if (!framed || !r.ReadBytes(length, value)) {
            json e = AttributeEntry(code, flags, HexString(r.rest()));
            e["length"] = length;
            e["truncated"] = true;
            e["discarded"] = true;
            out.push_back(std::move(e));
            break;
        }
        json e;
        if (AttributePresent(a, code) && !listed.test(code)) {
            listed.set(code);
            e = AttributeEntry(code, flags, AttributeValueToJson(a, code, ctx));
        } else {
            e = AttributeEntry(code, flags, HexString(value));
            e["discarded"] = true;
        }
        e["length"] = length;
        out.push_back(std::move(e));
    }
    // Whatever was not found in the block (or all of it when no block): by code.
    for (unsigned c = 0; c < 256; ++c) {
        const uint8_t code = static_cast<uint8_t>(c);
        if (listed.test(code) || !AttributePresent(a, code)) continue;
        const AttributeHeader h = CanonicalHeader(a, code, ctx);
        json e = AttributeEntry(code, h.flags, AttributeValueToJson(a, code, ctx));
        e["length"] = h.length;
        out.push_back(std::move(e));
    }
    return out;
}

// ---------------------------------------------------------------------------
// Messages.

json ErrorToJson(const std::optional<DecodeError>& error) {
    if (!error) return nullptr;
    const DecodeError& e = *error;
    json j{{"action", ErrorActionName(e.action)}, {"reason", e.reason}};
    if (e.notification) {
        const Notification& n = *e.notification;
        j["notification"] = json{{"code", n.code},
                                 {"subcode", n.subcode},
                                 {"code_name", NotificationCodeName(n.code)},
                                 {"subcode_name", NotificationSubcodeName(n.code, n.subcode)},
                                 {"data", HexString(n.data)}};
    } else {
        j["notification"] = nullptr;
    }
    if (e.attribute_code != 0) {
        j["attribute"] = e.attribute_code;
        std::string_view name = AttributeName(e.attribute_code);
        j["attribute_name"] = name.empty() ? std::string_view("UNKNOWN") : name;
    }
    if (e.action == ErrorAction::kAfiSafiDisable || e.afi != 0) {
        j["afi"] = e.afi;
        j["safi"] = e.safi;
        j["family"] = FamilyString(e.afi, e.safi);
    }
    return j;
}

json CapabilityToJson(const Capability& c) {
    const uint8_t code = CapabilityCode(c);
    json j{{"code", code}, {"name", CapabilityName(code)}};
    std::visit(Overloaded{
                   [&](const MultiprotocolCap& m) {
                       j["afi"] = m.afi;
                       j["safi"] = m.safi;
                       j["family"] = FamilyString(m.afi, m.safi);
                   },
                   [](const RouteRefreshCap&) {},
                   [](const EnhancedRouteRefreshCap&) {},
                   [](const ExtendedMessageCap&) {},
                   [&](const FourOctetAsCap& f) { j["asn"] = f.asn; },
                   [&](const AddPathCap& a) {
                       json families = json::array();
                       for (const auto& e : a.entries) {
                           json f = AfiSafiJson(e.afi, e.safi);
                           f["send_receive"] = SendReceiveName(e.send_receive);
                           families.push_back(std::move(f));
                       }
                       j["families"] = std::move(families);
                   },
                   [&](const GracefulRestartCap& g) {
                       j["restart_time"] = g.restart_time;
                       j["flags"] = g.flags;
                       j["restart_state"] = (g.flags & 0x8) != 0;
                       j["notification"] = (g.flags & 0x4) != 0;
                       json families = json::array();
                       for (const auto& e : g.entries) {
                           json f = AfiSafiJson(e.afi, e.safi);
                           f["flags"] = e.flags;
                           f["forwarding_state"] = (e.flags & 0x80) != 0;
                           families.push_back(std::move(f));
                       }
                       j["families"] = std::move(families);
                   },
                   [&](const UnknownCap& u) {
                       j["value"] = HexString(u.value);
                       DescribeUnknownCapability(u, j);
                   },
               },
               c);
    return j;
}

json OpenToJson(const OpenMessage& m) {
    json caps = json::array();
    for (const auto& c : m.capabilities) caps.push_back(CapabilityToJson(c));
    json j{{"version", m.version},
           {"my_as", m.my_as},
           {"hold_time", m.hold_time},
           {"bgp_id", Ipv4String(m.bgp_id)},
           {"asn", m.AsNumber()},
           {"capabilities", std::move(caps)}};
    if (m.extended_parameters) j["extended_parameters"] = true;
    if (!m.other_parameters.empty()) {
        json params = json::array();
        for (const auto& [type, value] : m.other_parameters)
            params.push_back(json{{"type", type}, {"value", HexString(value)}});
        j["other_parameters"] = std::move(params);
    }
    return j;
}

json UpdateToJson(const UpdateMessage& m, const JsonOptions& options) {
    const SessionContext& ctx = options.session;
    const bool ipv4_path_id = ctx.add_path_rx(Family::kIpv4Unicast);
    json withdrawn = json::array();
    for (const auto& n : m.withdrawn) withdrawn.push_back(NlriToJson(n, ipv4_path_id));
    json nlri = json::array();
    for (const auto& n : m.nlri) nlri.push_back(NlriToJson(n, ipv4_path_id));
    json j{{"withdrawn", std::move(withdrawn)},
           {"attributes", AttributesToJson(m.attributes, UpdateAttributeBlock(options.raw), ctx)},
           {"nlri", std::move(nlri)}};
    if (auto eor = m.EndOfRib()) j["end_of_rib"] = FamilyName(*eor);
    return j;
}

json NotificationToJson(const NotificationMessage& m) {
    json j{{"code", m.code},
           {"subcode", m.subcode},
           {"code_name", NotificationCodeName(m.code)},
           {"subcode_name", NotificationSubcodeName(m.code, m.subcode)},
           {"data", HexString(m.data)}};
    if (m.shutdown_communication) j["shutdown_communication"] = *m.shutdown_communication;
    return j;
}

json RouteRefreshToJson(const RouteRefreshMessage& m) {
    return json{{"afi", m.afi},
                {"safi", m.safi},
                {"family", FamilyString(m.afi, m.safi)},
                {"subtype", m.subtype},
                {"subtype_name", RouteRefreshSubtypeName(m.subtype)}};
}

json MessageToJson(const DecodeResult& result, const JsonOptions& options) {
    json j;
    if (result.type >= 1 && result.type <= 5)
        j["type"] = MessageTypeName(result.type);
    else
        j["type"] = nullptr;
    j["type_code"] = result.type;
    j["length"] = result.length;
    j["error"] = ErrorToJson(result.error);
    if (!result.message) return j;
    json body = std::visit(Overloaded{
                               [](const OpenMessage& m) { return OpenToJson(m); },
                               [&](const UpdateMessage& m) { return UpdateToJson(m, options); },
                               [](const NotificationMessage& m) { return NotificationToJson(m); },
                               [](const KeepaliveMessage&) { return json::object(); },
                               [](const RouteRefreshMessage& m) { return RouteRefreshToJson(m); },
                           },
                           *result.message);
    for (auto& [key, value] : body.items()) j[key] = std::move(value);
    return j;
}

}  // namespace bagpipe::bgp
