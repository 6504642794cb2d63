#include "vpn/attach_params.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <exception>
#include <set>
#include <string_view>

namespace bagpipe::vpn {

namespace {

using bgp::ExtCommunity;
using bgp::IpAddress;
using nlohmann::json;

// nullopt: the check passed; otherwise the error to return. The helpers below
// never throw: they test a value's type before reading it.
using Status = std::optional<ParamError>;

ParamError Err(std::string message) { return ParamError{std::move(message)}; }

// A client's value quoted in an error message: bounded (a 1 MB string would
// make a 1 MB error) and cut on a UTF-8 character boundary, since the message
// goes back in a JSON body and nlohmann::json refuses to dump invalid UTF-8.
std::string Echo(std::string_view s) {
    constexpr size_t kMax = 64;
    if (s.size() <= kMax) return std::string(s);
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
    return std::string(s.substr(0, n)) + "...";
}

// The member `key` of object `obj`, or nullptr when absent or null: every
// optional field treats null as absent, and a mandatory one null as missing.
const json* Field(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

const std::string& Str(const json& v) { return v.get_ref<const std::string&>(); }

ParamError Missing(std::string_view name) {
    return Err(fmt::format("Missing parameter: '{}'", name));
}

// Decimal digits only: no sign, no spaces, no "0x" (from_chars alone would
// accept a prefix of the text).
std::optional<uint64_t> ParseDecimal(std::string_view s) {
    if (s.empty() || s.size() > 20) return std::nullopt;
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

// A non-negative JSON integer, or a string of decimal digits (the original
// takes port numbers and VLANs as either; accepting both everywhere is
// harmless). Floats (1.0), booleans and negative values are refused.
std::optional<uint64_t> UnsignedValue(const json& v) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer()) {
        int64_t i = v.get<int64_t>();
        if (i < 0) return std::nullopt;
        return static_cast<uint64_t>(i);
    }
    if (v.is_string()) return ParseDecimal(Str(v));
    return std::nullopt;
}

// Optional unsigned field in [0, max]; `out` untouched when absent.
template <typename T>
Status UnsignedField(const json& obj, const char* key, std::string_view name, uint64_t max,
                     std::optional<T>& out) {
    const json* v = Field(obj, key);
    if (!v) return std::nullopt;
    std::optional<uint64_t> n = UnsignedValue(*v);
    if (!n || *n > max)
        return Err(fmt::format("'{}' must be an integer between 0 and {}", name, max));
    out = static_cast<T>(*n);
    return std::nullopt;
}

template <typename T>
Status UnsignedField(const json& obj, const char* key, uint64_t max, T& out) {
    std::optional<T> v;
    if (Status e = UnsignedField(obj, key, key, max, v)) return e;
    if (v) out = *v;
    return std::nullopt;
}

constexpr uint64_t kMaxVlan = 4095;  // 12-bit 802.1Q VLAN id

// Optional string field; `out` untouched when absent.
Status StringField(const json& obj, const char* key, std::string_view name,
                   std::optional<std::string>& out) {
    const json* v = Field(obj, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) return Err(fmt::format("'{}' must be a string", name));
    out = Str(*v);
    return std::nullopt;
}

Status NonEmptyString(const json& v, std::string_view name, std::string& out) {
    if (!v.is_string() || Str(v).empty())
        return Err(fmt::format("'{}' must be a non-empty string", name));
    out = Str(v);
    return std::nullopt;
}

// IpAddress::Parse and Prefix::Parse hand the text to inet_pton as a C
// string: an embedded NUL ("1.2.3.4\u0000junk" is valid JSON) would end it
// early and the junk would pass unseen.
bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::optional<IpAddress> ParseAddress(std::string_view text) {
    if (HasNul(text)) return std::nullopt;
    return IpAddress::Parse(text);
}

// "a.b.c.d", "a.b.c.d/len", "2001:db8::1", "2001:db8::1/64": the address as
// given (host bits kept) and the length, 32 / 128 without "/len". Strict
// (inet_pton): "1.2.3", "01.2.3.4" and "10.0.0.1/" are refused.
struct AddressAndLength {
    IpAddress address;
    uint8_t length = 0;
};
std::optional<AddressAndLength> ParseAddressAndLength(std::string_view text) {
    const size_t slash = text.find('/');
    std::optional<IpAddress> address = ParseAddress(text.substr(0, slash));
    if (!address) return std::nullopt;
    const uint64_t max = address->is_v4() ? 32 : 128;
    if (slash == std::string_view::npos)
        return AddressAndLength{*address, static_cast<uint8_t>(max)};
    std::optional<uint64_t> length = ParseDecimal(text.substr(slash + 1));
    if (!length || *length > max) return std::nullopt;
    return AddressAndLength{*address, static_cast<uint8_t>(*length)};
}

// A prefix ("10.0.0.0/8", host bits cleared) or a bare address (a host
// prefix), as the FlowSpec classifier and static prefixes take.
std::optional<bgp::Prefix> ParsePrefixParam(std::string_view text) {
    if (HasNul(text)) return std::nullopt;
    if (text.find('/') != std::string_view::npos) return bgp::Prefix::Parse(text);
    std::optional<IpAddress> address = IpAddress::Parse(text);
    if (!address) return std::nullopt;
    bgp::Prefix p{*address, 0};
    p.length = p.max_length();
    return p;
}

Status MacField(const json& obj, const char* key, std::string_view name, std::string_view where,
                bgp::MacAddress& out) {
    const json* v = Field(obj, key);
    if (!v) return Missing(name);
    if (!v->is_string()) return Err(fmt::format("'{}' must be a string", name));
    // Colon or dash separated, either case: "52:54:00:AA:BB:01".
    std::optional<bgp::MacAddress> mac = bgp::MacAddress::Parse(Str(*v));
    if (!mac) return Err(fmt::format("MAC address {}{} is not valid", Echo(Str(*v)), where));
    out = *mac;
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// local_port (reference §2.3).

Status ParseOvs(const json& v, dataplane::OvsPortInfo& out) {
    if (!v.is_object()) return Err("'local_port.ovs' must be an object");
    if (const json* plugged = Field(v, "plugged")) {
        if (!plugged->is_boolean()) return Err("'local_port.ovs.plugged' must be a boolean");
        out.plugged = plugged->get<bool>();
    }
    if (Status e = UnsignedField(v, "port_number", "local_port.ovs.port_number", 0xffffffff,
                                 out.port_number))
        return e;
    std::optional<std::string> name;
    if (Status e = StringField(v, "port_name", "local_port.ovs.port_name", name)) return e;
    if (name) out.port_name = std::move(*name);
    return UnsignedField(v, "vlan", "local_port.ovs.vlan", kMaxVlan, out.vlan);
}

Status ParseLocalPort(const json& v, dataplane::VpnType type, LocalPortSpec& out) {
    if (v.is_string()) {  // shorthand for {"linuxif": s}
        if (Str(v).empty()) return Err("'local_port' must not be empty");
        out.linuxif = Str(v);
        return std::nullopt;
    }
    if (!v.is_object()) return Err("'local_port' must be a string or an object");
    const json* linuxif = Field(v, "linuxif");
    const json* evpn = Field(v, "evpn");
    if (!linuxif && !evpn)
        return Err("Mandatory key is missing in local_port parameter (linuxif, or evpn)");
    if (linuxif && evpn) return Err("local_port cannot have both linuxif and evpn");
    if (linuxif) {
        if (Status e = NonEmptyString(*linuxif, "local_port.linuxif", out.linuxif)) return e;
    } else {
        if (type != dataplane::VpnType::kIpVpn)
            return Err("local_port.evpn is only allowed with vpn_type ipvpn");
        if (!evpn->is_object()) return Err("'local_port.evpn' must be an object");
        EvpnStitch stitch;
        const json* id = Field(*evpn, "id");
        if (!id) return Missing("local_port.evpn.id");
        if (Status e = NonEmptyString(*id, "local_port.evpn.id", stitch.id)) return e;
        std::optional<std::string> port_name;
        if (Status e =
                StringField(*evpn, "ovs_port_name", "local_port.evpn.ovs_port_name", port_name))
            return e;
        if (port_name) stitch.ovs_port_name = std::move(*port_name);
        out.evpn = std::move(stitch);
    }
    if (const json* ovs = Field(v, "ovs")) {
        dataplane::OvsPortInfo info;
        if (Status e = ParseOvs(*ovs, info)) return e;
        out.ovs = std::move(info);
    }
    return UnsignedField(v, "vlan", "local_port.vlan", kMaxVlan, out.vlan);
}

// ---------------------------------------------------------------------------
// attract_traffic classifier.

// IANA protocol numbers for the names a classifier may use.
constexpr std::array<std::pair<std::string_view, uint8_t>, 13> kProtocols{{
    {"icmp", 1},
    {"igmp", 2},
    {"tcp", 6},
    {"udp", 17},
    {"gre", 47},
    {"esp", 50},
    {"ah", 51},
    {"icmpv6", 58},
    {"ipv6-icmp", 58},
    {"ospf", 89},
    {"pim", 103},
    {"vrrp", 112},
    {"sctp", 132},
}};

std::optional<uint8_t> ParseProtocol(const json& v) {
    if (v.is_string()) {
        std::string lower = Str(v);
        for (char& c : lower)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        for (const auto& [name, number] : kProtocols)
            if (lower == name) return number;
    }
    std::optional<uint64_t> n = UnsignedValue(v);
    if (!n || *n > 255) return std::nullopt;
    return static_cast<uint8_t>(*n);
}

// 80, "80" or "1000:2000" (min ≤ max).
std::optional<dataplane::PortRange> ParsePortRange(const json& v) {
    if (!v.is_string()) {
        std::optional<uint64_t> n = UnsignedValue(v);
        if (!n || *n > 0xffff) return std::nullopt;
        return dataplane::PortRange{static_cast<uint16_t>(*n), static_cast<uint16_t>(*n)};
    }
    std::string_view s = Str(v);
    const size_t colon = s.find(':');
    std::optional<uint64_t> min = ParseDecimal(s.substr(0, colon));
    std::optional<uint64_t> max =
        colon == std::string_view::npos ? min : ParseDecimal(s.substr(colon + 1));
    if (!min || !max || *min > 0xffff || *max > 0xffff || *min > *max) return std::nullopt;
    return dataplane::PortRange{static_cast<uint16_t>(*min), static_cast<uint16_t>(*max)};
}

Status ParseClassifier(const json& v, dataplane::TrafficClassifier& out) {
    if (!v.is_object()) return Err("'attract_traffic.classifier' must be an object");
    for (auto [key, slot] : {std::pair{"sourcePrefix", &out.source_prefix},
                             std::pair{"destinationPrefix", &out.destination_prefix}}) {
        const json* p = Field(v, key);
        if (!p) continue;
        std::optional<bgp::Prefix> prefix;
        if (p->is_string()) prefix = ParsePrefixParam(Str(*p));
        if (!prefix)
            return Err(
                fmt::format("'attract_traffic.classifier.{}' must be an IP prefix "
                            "(a.b.c.d/len or an IPv6 prefix)",
                            key));
        *slot = *prefix;
    }
    for (auto [key, slot] : {std::pair{"sourcePort", &out.source_port},
                             std::pair{"destinationPort", &out.destination_port}}) {
        const json* p = Field(v, key);
        if (!p) continue;
        std::optional<dataplane::PortRange> range = ParsePortRange(*p);
        if (!range)
            return Err(
                fmt::format("'attract_traffic.classifier.{}' must be a port (0-65535) or a "
                            "port range \"min:max\"",
                            key));
        *slot = *range;
    }
    if (const json* p = Field(v, "protocol")) {
        std::optional<uint8_t> protocol = ParseProtocol(*p);
        if (!protocol)
            return Err(
                "'attract_traffic.classifier.protocol' must be a protocol name (tcp, udp, "
                "icmp, ...) or number (0-255)");
        out.protocol = *protocol;
    }
    return std::nullopt;
}

// A mandatory route target list member of `obj`.
Status RtListField(const json& obj, const char* key, std::string_view name,
                   std::vector<ExtCommunity>& out) {
    const json* v = Field(obj, key);
    if (!v) return Missing(name);
    auto r = ParseRouteTargetList(*v, name);
    if (auto* e = std::get_if<ParamError>(&r)) return std::move(*e);
    out = std::move(std::get<std::vector<ExtCommunity>>(r));
    return std::nullopt;
}

Status ParseReadvertise(const json& v, Readvertise& out) {
    if (!v.is_object()) return Err("'readvertise' must be an object with from_rt and to_rt");
    if (Status e = RtListField(v, "from_rt", "readvertise.from_rt", out.from_rts)) return e;
    return RtListField(v, "to_rt", "readvertise.to_rt", out.to_rts);
}

Status ParseAttractTraffic(const json& v, const std::optional<Readvertise>& readvertise,
                           AttractTraffic& out) {
    if (!v.is_object()) return Err("'attract_traffic' must be an object");
    if (Field(v, "redirect_rts")) {
        if (Status e =
                RtListField(v, "redirect_rts", "attract_traffic.redirect_rts", out.redirect_rts))
            return e;
    }
    const json* classifier = Field(v, "classifier");
    if (!classifier) return Missing("attract_traffic.classifier");
    if (Status e = ParseClassifier(*classifier, out.classifier)) return e;

    // The target of the attracted traffic: attract_traffic.to_rt, or `to`
    // (what bagpipe-rest-attach sends, by mistake), else readvertise.to_rt.
    std::string_view source;
    if (Field(v, "to_rt")) {
        source = "attract_traffic.to_rt";
        if (Status e = RtListField(v, "to_rt", source, out.to_rts)) return e;
    } else if (Field(v, "to")) {
        source = "attract_traffic.to";
        if (Status e = RtListField(v, "to", source, out.to_rts)) return e;
    } else if (readvertise) {
        source = "readvertise.to_rt";
        out.to_rts = readvertise->to_rts;
    } else {
        return Err("attract_traffic requires readvertise or attract_traffic.to_rt");
    }
    if (out.to_rts.size() != 1)
        return Err(fmt::format("attract_traffic requires exactly one route target in {} ({} given)",
                               source, out.to_rts.size()));

    if (const json* statics = Field(v, "static_destination_prefixes")) {
        constexpr std::string_view kName = "attract_traffic.static_destination_prefixes";
        if (!statics->is_array()) return Err(fmt::format("'{}' must be a list of prefixes", kName));
        for (const json& item : *statics) {
            if (!item.is_string())
                return Err(fmt::format("'{}' must be a list of prefixes", kName));
            std::optional<bgp::Prefix> prefix = ParsePrefixParam(Str(item));
            if (!prefix)
                return Err(fmt::format("invalid prefix '{}' in {}", Echo(Str(item)), kName));
            out.static_destination_prefixes.push_back(*prefix);
        }
    }
    return std::nullopt;
}

Status ParseFallback(const json& v, dataplane::Fallback& out) {
    if (!v.is_object())
        return Err("'fallback' must be an object with src_mac, dst_mac and ovs_port_number");
    if (Status e = MacField(v, "src_mac", "fallback.src_mac", " in fallback.src_mac", out.src_mac))
        return e;
    if (Status e = MacField(v, "dst_mac", "fallback.dst_mac", " in fallback.dst_mac", out.dst_mac))
        return e;
    if (!Field(v, "ovs_port_number")) return Missing("fallback.ovs_port_number");
    std::optional<uint32_t> port;
    if (Status e =
            UnsignedField(v, "ovs_port_number", "fallback.ovs_port_number", 0xffffffff, port))
        return e;
    out.ovs_port_number = *port;
    return std::nullopt;
}

// An empty object counts as absent for attract_traffic and fallback
// (bagpipe-rest-attach sends "attract_traffic": {}).
const json* NonEmptyField(const json& obj, const char* key) {
    const json* v = Field(obj, key);
    if (v && v->is_object() && v->empty()) return nullptr;
    return v;
}

// ---------------------------------------------------------------------------

Status Parse(const json& body, RequestKind kind, AttachParams& p) {
    if (!body.is_object()) return Err("request body must be a JSON object");
    const bool attach = kind == RequestKind::kAttach;

    const json* type = Field(body, "vpn_type");
    if (!type) return Err("missing instance_type");
    if (!type->is_string()) return Err("'vpn_type' must be a string");
    std::optional<dataplane::VpnType> vpn_type = dataplane::ParseVpnType(Str(*type));
    if (!vpn_type) return Err(fmt::format("unknown vpn_type: {}", Echo(Str(*type))));
    p.vpn_type = *vpn_type;
    const bool ipvpn = p.vpn_type == dataplane::VpnType::kIpVpn;

    // Presence first, in the original's order, so that a request lacking
    // several fields is refused with the same message.
    std::vector<const char*> mandatory{"vpn_instance_id", "mac_address", "local_port"};
    if (attach) mandatory.insert(mandatory.end(), {"import_rt", "export_rt"});
    if (ipvpn) mandatory.push_back("ip_address");
    if (ipvpn && attach) mandatory.push_back("gateway_ip");
    for (const char* name : mandatory)
        if (!Field(body, name)) return Missing(name);

    if (Status e =
            NonEmptyString(*Field(body, "vpn_instance_id"), "vpn_instance_id", p.vpn_instance_id))
        return e;
    if (Status e = MacField(body, "mac_address", "mac_address", "", p.mac)) return e;
    if (Status e = ParseLocalPort(*Field(body, "local_port"), p.vpn_type, p.local_port)) return e;

    if (attach) {  // detach ignores the route targets, even malformed ones
        if (Status e = RtListField(body, "import_rt", "import_rt", p.import_rts)) return e;
        if (Status e = RtListField(body, "export_rt", "export_rt", p.export_rts)) return e;
    }

    if (const json* ip = Field(body, "ip_address")) {
        if (!ip->is_string()) return Err("'ip_address' must be a string");
        if (Str(*ip).empty()) return Err("'ip_address' must not be empty");
        std::optional<AddressAndLength> a = ParseAddressAndLength(Str(*ip));
        if (!a) return Err(fmt::format("IP address {} is not valid", Echo(Str(*ip))));
        p.ip = a->address;
        p.ip_prefix_length = a->length;
        p.ip_text = Str(*ip);
    }
    if (const json* gw = Field(body, "gateway_ip")) {
        if (!gw->is_string()) return Err("'gateway_ip' must be a string");
        if (Str(*gw).empty()) return Err("'gateway_ip' must not be empty");
        std::optional<IpAddress> a = ParseAddress(Str(*gw));
        if (!a) return Err(fmt::format("IP address {} in gateway_ip is not valid", Echo(Str(*gw))));
        p.gateway_ip = *a;
    }

    if (const json* v = Field(body, "advertise_subnet")) {
        if (!v->is_boolean()) return Err("'advertise_subnet' must be a boolean");
        p.advertise_subnet = v->get<bool>();
    }
    if (Status e =
            UnsignedField(body, "lb_consistent_hash_order", 0xffffffff, p.lb_consistent_hash_order))
        return e;
    if (Status e = UnsignedField(body, "local_pref", "local_pref", 0xffffffff, p.local_pref))
        return e;
    if (Status e = UnsignedField(body, "vni", 0xffffff, p.vni)) return e;  // 24 bits

    if (const json* v = Field(body, "direction")) {
        std::optional<dataplane::Direction> d;
        if (v->is_string()) d = dataplane::ParseDirection(Str(*v));  // "" means both
        if (!d) return Err("direction should be one of: both, to-port, from-port");
        p.direction = *d;
    }

    std::optional<std::string> linuxbr;
    if (Status e = StringField(body, "linuxbr", "linuxbr", linuxbr)) return e;
    if (linuxbr) p.linuxbr = std::move(*linuxbr);
    if (Status e = StringField(body, "instance_description", "instance_description",
                               p.instance_description))
        return e;
    if (auto it = body.find("description"); it != body.end()) p.description = *it;

    if (const json* v = Field(body, "readvertise")) {
        Readvertise r;
        if (Status e = ParseReadvertise(*v, r)) return e;
        p.readvertise = std::move(r);
    }
    if (const json* v = NonEmptyField(body, "attract_traffic")) {
        AttractTraffic a;
        if (Status e = ParseAttractTraffic(*v, p.readvertise, a)) return e;
        p.attract_traffic = std::move(a);
    }
    if (const json* v = NonEmptyField(body, "fallback")) {
        dataplane::Fallback f;
        if (Status e = ParseFallback(*v, f)) return e;
        p.fallback = f;
    }
    return std::nullopt;
}

}  // namespace

ParseResult ParseAttachParams(const nlohmann::json& body, RequestKind kind) {
    // The helpers check types before reading, so nothing should throw; the
    // catch keeps the no-throw promise should a check ever be missed.
    try {
        AttachParams p;
        if (Status e = Parse(body, kind, p)) return std::move(*e);
        return p;
    } catch (const std::exception& e) {
        return Err(fmt::format("invalid request: {}", e.what()));
    }
}

std::variant<bgp::ExtCommunity, ParamError> ParseRouteTargetParam(std::string_view text) {
    // ExtCommunity::ParseRouteTarget picks the form: 2-octet AS when the ASN
    // fits 16 bits and the number 32, IPv4 (number ≤ 65535), else 4-octet AS
    // (number ≤ 65535). The NUL check: its IPv4 form goes through inet_pton.
    if (!HasNul(text))
        if (std::optional<ExtCommunity> rt = ExtCommunity::ParseRouteTarget(text)) return *rt;
    return Err(fmt::format("invalid route target '{}'", Echo(text)));
}

std::variant<std::vector<bgp::ExtCommunity>, ParamError> ParseRouteTargetList(
    const nlohmann::json& value, std::string_view field) {
    auto type_error = [&] {
        return Err(
            fmt::format("'{}' must be a list of route targets or a comma-separated string", field));
    };
    std::vector<std::string_view> items;
    if (value.is_string()) {
        std::string_view s = Str(value);
        for (size_t start = 0;;) {
            const size_t comma = s.find(',', start);
            items.push_back(
                s.substr(start, comma == std::string_view::npos ? comma : comma - start));
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
    } else if (value.is_array()) {
        for (const json& item : value) {
            if (!item.is_string()) return type_error();
            items.push_back(Str(item));
        }
    } else {
        return type_error();
    }

    std::vector<ExtCommunity> out;
    std::set<ExtCommunity> seen;  // a set: a body may carry thousands of RTs
    for (std::string_view item : items) {
        constexpr std::string_view kSpace = " \t";
        const size_t first = item.find_first_not_of(kSpace);
        if (first == std::string_view::npos) continue;  // empty items are ignored
        item = item.substr(first, item.find_last_not_of(kSpace) - first + 1);
        auto rt = ParseRouteTargetParam(item);
        if (auto* e = std::get_if<ParamError>(&rt)) {
            e->message += fmt::format(" in {}", field);
            return std::move(*e);
        }
        const ExtCommunity& c = std::get<ExtCommunity>(rt);
        if (seen.insert(c).second) out.push_back(c);
    }
    return out;
}

std::string RouteTargetString(const bgp::ExtCommunity& rt) { return rt.AdminValueString(); }

}  // namespace bagpipe::vpn
