// BGP extended community (RFC 4360): the 8 wire octets are the value, so
// unknown communities survive byte-exact. Typed factories and accessors cover
// what BaGPipe speaks: route target / route origin (2-octet AS, IPv4, 4-octet
// AS), encapsulation (RFC 9012), EVPN MAC mobility, ESI label, ES-import,
// router's MAC (RFC 7432, RFC 9135), default gateway, consistent-hash sort
// order and RT-record (draft-ietf-bess-service-chaining), FlowSpec
// redirect-to-VRF (RFC 8955 / RFC 7674).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bgp/wire/esi.h"

namespace bagpipe::bgp {

namespace ecomm {
// Type high octets.
inline constexpr uint8_t kTransAs2 = 0x00;
inline constexpr uint8_t kTransIpv4 = 0x01;
inline constexpr uint8_t kTransAs4 = 0x02;
inline constexpr uint8_t kTransOpaque = 0x03;
inline constexpr uint8_t kEvpn = 0x06;
inline constexpr uint8_t kFlowspecAs2 = 0x80;
inline constexpr uint8_t kFlowspecIpv4 = 0x81;
inline constexpr uint8_t kFlowspecAs4 = 0x82;
// Sub-types.
inline constexpr uint8_t kRouteTarget = 0x02;
inline constexpr uint8_t kRouteOrigin = 0x03;
inline constexpr uint8_t kRtRecord = 0x13;
inline constexpr uint8_t kEncapsulation = 0x0c;
inline constexpr uint8_t kDefaultGateway = 0x0d;
inline constexpr uint8_t kConsistentHashSortOrder = 0x14;
inline constexpr uint8_t kMacMobility = 0x00;
inline constexpr uint8_t kEsiLabel = 0x01;
inline constexpr uint8_t kEsImport = 0x02;
inline constexpr uint8_t kRoutersMac = 0x03;
inline constexpr uint8_t kRedirectToVrf = 0x08;
}  // namespace ecomm

// RFC 9012 tunnel types used in the encapsulation extended community.
enum class TunnelType : uint16_t {
    kGre = 2,
    kVxlan = 8,
    kNvgre = 9,
    kMpls = 10,
    kMplsOverGre = 11,
    kVxlanGpe = 12,
    kMplsOverUdp = 13,
};
std::string_view TunnelTypeName(uint16_t t);  // "vxlan", "mpls-over-gre"... or ""

struct ExtCommunity {
    std::array<uint8_t, 8> bytes{};

    uint8_t type() const { return bytes[0]; }
    uint8_t subtype() const { return bytes[1]; }
    bool transitive() const { return !(bytes[0] & 0x40); }

    // Route target / route origin. kind: 0 = 2-octet AS, 1 = IPv4, 2 = 4-octet AS.
    static ExtCommunity RouteTarget(uint8_t kind, uint32_t admin, uint32_t number);
    static ExtCommunity RouteOrigin(uint8_t kind, uint32_t admin, uint32_t number);
    // "64512:1", "192.0.2.1:7", "4200000000:7".
    static std::optional<ExtCommunity> ParseRouteTarget(std::string_view text);
    static ExtCommunity Encapsulation(uint16_t tunnel_type);
    static ExtCommunity MacMobility(uint32_t sequence, bool sticky);
    static ExtCommunity EsiLabel(uint32_t label_raw, bool single_active);
    static ExtCommunity EsImport(const MacAddress& mac);
    static ExtCommunity RoutersMac(const MacAddress& mac);
    static ExtCommunity DefaultGateway();
    static ExtCommunity ConsistentHashSortOrder(uint32_t order);
    static ExtCommunity RedirectToVrf(uint8_t kind, uint32_t admin, uint32_t number);

    bool is_route_target() const {
        return subtype() == ecomm::kRouteTarget &&
               (type() == ecomm::kTransAs2 || type() == ecomm::kTransIpv4 ||
                type() == ecomm::kTransAs4);
    }
    bool is_encapsulation() const {
        return type() == ecomm::kTransOpaque && subtype() == ecomm::kEncapsulation;
    }
    uint16_t tunnel_type() const { return static_cast<uint16_t>((bytes[6] << 8) | bytes[7]); }
    bool is_mac_mobility() const { return type() == ecomm::kEvpn && subtype() == ecomm::kMacMobility; }
    uint32_t mac_mobility_sequence() const;
    bool mac_mobility_sticky() const { return bytes[2] & 0x01; }

    // Admin:number value of RT / RO / redirect / RT-record forms, e.g. "64512:1".
    std::string AdminValueString() const;
    // Short name: "route-target", "encapsulation", "mac-mobility", ... or "unknown".
    std::string_view Name() const;
    // Human-readable value ("64512:1", "vxlan", "seq 3 sticky"...) or hex.
    std::string ValueString() const;

    auto operator<=>(const ExtCommunity&) const = default;
    bool operator==(const ExtCommunity&) const = default;
};

}  // namespace bagpipe::bgp
