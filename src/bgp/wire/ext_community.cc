#include "bgp/wire/ext_community.h"

#include <fmt/format.h>

#include "bgp/wire/route_distinguisher.h"

namespace bagpipe::bgp {

namespace {
uint32_t Get32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
void Put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}
void Put16(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

ExtCommunity AdminForm(uint8_t type_base, uint8_t subtype, uint8_t kind, uint32_t admin,
                       uint32_t number) {
    ExtCommunity c;
    c.bytes[0] = static_cast<uint8_t>(type_base | kind);
    c.bytes[1] = subtype;
    if (kind == 0) {
        Put16(&c.bytes[2], admin);
        Put32(&c.bytes[4], number);
    } else {
        Put32(&c.bytes[2], admin);
        Put16(&c.bytes[6], number);
    }
    return c;
}
}  // namespace

std::string_view TunnelTypeName(uint16_t t) {
    switch (t) {
        case 1: return "l2tpv3";
        case 2: return "gre";
        case 7: return "ip-in-ip";
        case 8: return "vxlan";
        case 9: return "nvgre";
        case 10: return "mpls";
        case 11: return "mpls-over-gre";
        case 12: return "vxlan-gpe";
        case 13: return "mpls-over-udp";
        default: return "";
    }
}

ExtCommunity ExtCommunity::RouteTarget(uint8_t kind, uint32_t admin, uint32_t number) {
    return AdminForm(0x00, ecomm::kRouteTarget, kind, admin, number);
}
ExtCommunity ExtCommunity::RouteOrigin(uint8_t kind, uint32_t admin, uint32_t number) {
    return AdminForm(0x00, ecomm::kRouteOrigin, kind, admin, number);
}
ExtCommunity ExtCommunity::RedirectToVrf(uint8_t kind, uint32_t admin, uint32_t number) {
    return AdminForm(0x80, ecomm::kRedirectToVrf, kind, admin, number);
}

std::optional<ExtCommunity> ExtCommunity::ParseRouteTarget(std::string_view text) {
    auto v = ParseAdminValue(text);
    if (!v) return std::nullopt;
    return RouteTarget(v->kind, v->admin, v->number);
}

ExtCommunity ExtCommunity::Encapsulation(uint16_t tunnel_type) {
    ExtCommunity c;
    c.bytes[0] = ecomm::kTransOpaque;
    c.bytes[1] = ecomm::kEncapsulation;
    Put16(&c.bytes[6], tunnel_type);
    return c;
}

ExtCommunity ExtCommunity::MacMobility(uint32_t sequence, bool sticky) {
    ExtCommunity c;
    c.bytes[0] = ecomm::kEvpn;
    c.bytes[1] = ecomm::kMacMobility;
    c.bytes[2] = sticky ? 1 : 0;
    Put32(&c.bytes[4], sequence);
    return c;
}

uint32_t ExtCommunity::mac_mobility_sequence() const { return Get32(&bytes[4]); }

ExtCommunity ExtCommunity::EsiLabel(uint32_t label_raw, bool single_active) {
    ExtCommunity c;
    c.bytes[0] = ecomm::kEvpn;
    c.bytes[1] = ecomm::kEsiLabel;
    c.bytes[2] = single_active ? 1 : 0;
    c.bytes[5] = static_cast<uint8_t>(label_raw >> 16);
    c.bytes[6] = static_cast<uint8_t>(label_raw >> 8);
    c.bytes[7] = static_cast<uint8_t>(label_raw);
    return c;
}

ExtCommunity ExtCommunity::EsImport(const MacAddress& mac) {
    ExtCommunity c;
    c.bytes[0] = ecomm::kEvpn;
    c.bytes[1] = ecomm::kEsImport;
    std::copy(mac.bytes.begin(), mac.bytes.end(), c.bytes.begin() + 2);
    return c;
}

ExtCommunity ExtCommunity::RoutersMac(const MacAddress& mac) {
    ExtCommunity c;
    c.bytes[0] = ecomm::kEvpn;
    c.bytes[1] = ecomm::kRoutersMac;
    std::copy(mac.bytes.begin(), mac.bytes.end(), c.bytes.begin() + 2);
    return c;
}

ExtCommunity ExtCommunity::DefaultGateway() {
    ExtCommunity c;
    c.bytes[0] = ecomm::kTransOpaque;
    c.bytes[1] = ecomm::kDefaultGateway;
    return c;
}

ExtCommunity ExtCommunity::ConsistentHashSortOrder(uint32_t order) {
    ExtCommunity c;
    c.bytes[0] = ecomm::kTransOpaque;
    c.bytes[1] = ecomm::kConsistentHashSortOrder;
    Put32(&c.bytes[2], order);
    return c;
}

std::string ExtCommunity::AdminValueString() const {
    const uint8_t* p = bytes.data();
    switch (type() & 0x03) {
        case 0: return fmt::format("{}:{}", Get16(p + 2), Get32(p + 4));
        case 1: return fmt::format("{}.{}.{}.{}:{}", p[2], p[3], p[4], p[5], Get16(p + 6));
        default: return fmt::format("{}:{}", Get32(p + 2), Get16(p + 6));
    }
}

std::string_view ExtCommunity::Name() const {
    uint8_t t = type(), s = subtype();
    bool admin_form = (t & 0xbc) == 0 && (t & 0x03) != 3;  // 0x00-0x02, 0x40-0x42
    if (admin_form) {
        if (s == ecomm::kRouteTarget) return "route-target";
        if (s == ecomm::kRouteOrigin) return "route-origin";
        if (s == ecomm::kRtRecord) return "rt-record";
    }
    if (t == ecomm::kTransOpaque) {
        if (s == ecomm::kEncapsulation) return "encapsulation";
        if (s == ecomm::kDefaultGateway) return "default-gateway";
        if (s == ecomm::kConsistentHashSortOrder) return "consistent-hash-sort-order";
    }
    if (t == ecomm::kEvpn) {
        switch (s) {
            case ecomm::kMacMobility: return "mac-mobility";
            case ecomm::kEsiLabel: return "esi-label";
            case ecomm::kEsImport: return "es-import";
            case ecomm::kRoutersMac: return "routers-mac";
        }
    }
    if ((t == ecomm::kFlowspecAs2 || t == ecomm::kFlowspecIpv4 || t == ecomm::kFlowspecAs4) &&
        s == ecomm::kRedirectToVrf)
        return "redirect-to-vrf";
    return "unknown";
}

std::string ExtCommunity::ValueString() const {
    std::string_view n = Name();
    const uint8_t* p = bytes.data();
    if (n == "route-target" || n == "route-origin" || n == "rt-record" || n == "redirect-to-vrf")
        return AdminValueString();
    if (n == "encapsulation") {
        auto name = TunnelTypeName(tunnel_type());
        return name.empty() ? fmt::format("{}", tunnel_type()) : std::string(name);
    }
    if (n == "default-gateway") return "";
    if (n == "consistent-hash-sort-order") return fmt::format("{}", Get32(p + 2));
    if (n == "mac-mobility")
        return fmt::format("seq {}{}", mac_mobility_sequence(), mac_mobility_sticky() ? " sticky" : "");
    if (n == "esi-label")
        return fmt::format("label {}{}", (uint32_t{p[5]} << 16) | (uint32_t{p[6]} << 8) | p[7],
                           (p[2] & 1) ? " single-active" : "");
    if (n == "es-import" || n == "routers-mac") return FormatHexOctets(p + 2, 6);
    return FormatHexOctets(p, 8, 0);
}

}  // namespace bagpipe::bgp
