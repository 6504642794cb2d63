// The REST API's attach/detach request bodies (POST /attach_localport and
// /detach_localport), parsed and validated into a value type. Field names,
// defaults and accepted shapes are the original bagpipe-bgp's (reference
// §2.2-§2.4); every invalid input is a clear error message (the API answers
// 400 {"error": "API error: <message>"}), including the cases where the
// original answered 500 (malformed route target, bad readvertise structure).
//
// Pure functions over nlohmann::json; any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "bgp/wire/esi.h"
#include "bgp/wire/ext_community.h"
#include "bgp/wire/ip_address.h"
#include "dataplane/driver.h"

namespace bagpipe::vpn {

// `local_port.evpn`: plug an existing E-VPN instance into this IP-VPN one.
struct EvpnStitch {
    std::string id;             // the EVI's vpn_instance_id
    std::string ovs_port_name;  // empty: bagpipe creates the veth pair itself
    bool operator==(const EvpnStitch&) const = default;
};

// The API's `local_port` (a string s is {"linuxif": s}).
struct LocalPortSpec {
    std::string linuxif;                          // empty with `evpn`
    std::optional<dataplane::OvsPortInfo> ovs;    // `ovs` object
    std::optional<uint16_t> vlan;                 // `vlan` (evpn ovs driver)
    std::optional<EvpnStitch> evpn;               // `evpn` object (ipvpn only)
    bool operator==(const LocalPortSpec&) const = default;
};

struct Readvertise {
    std::vector<bgp::ExtCommunity> from_rts;
    std::vector<bgp::ExtCommunity> to_rts;
    bool operator==(const Readvertise&) const = default;
};

struct AttractTraffic {
    std::vector<bgp::ExtCommunity> redirect_rts;
    dataplane::TrafficClassifier classifier;
    std::vector<bgp::ExtCommunity> to_rts;             // exactly one
    std::vector<bgp::Prefix> static_destination_prefixes;
    bool operator==(const AttractTraffic&) const = default;
};

struct AttachParams {
    dataplane::VpnType vpn_type = dataplane::VpnType::kEvpn;
    std::string vpn_instance_id;
    bgp::MacAddress mac;
    LocalPortSpec local_port;
    // Route targets in the order given, duplicates removed (detach: empty).
    std::vector<bgp::ExtCommunity> import_rts;
    std::vector<bgp::ExtCommunity> export_rts;
    // `ip_address`: the address and the length given ("10.0.0.1/24": 24;
    // without "/len": 32 or 128). Empty address when absent (evpn only).
    bgp::IpAddress ip;
    uint8_t ip_prefix_length = 0;
    std::string ip_text;        // as given, e.g. "10.0.1.1/24" (looking glass)
    bgp::IpAddress gateway_ip;  // empty when absent
    bool advertise_subnet = false;
    uint32_t lb_consistent_hash_order = 0;
    std::optional<uint32_t> local_pref;
    dataplane::Direction direction = dataplane::Direction::kBoth;
    uint32_t vni = 0;           // 0: not forced
    std::string linuxbr;        // evpn
    std::optional<std::string> instance_description;
    nlohmann::json description;  // any JSON, null when absent
    std::optional<Readvertise> readvertise;        // null/absent: none
    std::optional<AttractTraffic> attract_traffic;  // {} / absent: none
    std::optional<dataplane::Fallback> fallback;

    bool operator==(const AttachParams&) const = default;
};

// The error of a refused request: the message after "API error: ".
struct ParamError {
    std::string message;
    bool operator==(const ParamError&) const = default;
};

using ParseResult = std::variant<AttachParams, ParamError>;

enum class RequestKind : uint8_t { kAttach, kDetach };

// Validates `body` (an already parsed JSON value) as an attach or detach
// request. Unknown fields are ignored (the original does the same).
ParseResult ParseAttachParams(const nlohmann::json& body, RequestKind kind);

// "64512:512" (2-octet AS), "192.0.2.1:7" (IPv4) or "4200000000:7"
// (4-octet AS) → route target; ParamError naming the value otherwise.
std::variant<bgp::ExtCommunity, ParamError> ParseRouteTargetParam(std::string_view text);
// A list of RT strings, or one string of RTs separated by commas (and
// spaces): "64512:1, 64512:2". Duplicates removed, empty items ignored.
std::variant<std::vector<bgp::ExtCommunity>, ParamError> ParseRouteTargetList(
    const nlohmann::json& value, std::string_view field);
// "64512:512" for a route target (the looking glass and logs).
std::string RouteTargetString(const bgp::ExtCommunity& rt);

}  // namespace bagpipe::vpn
