// Names, parsing and JSON of the dataplane value types (driver.h).
#include "dataplane/driver.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace bagpipe::dataplane {

using nlohmann::json;

namespace {

std::string Lower(std::string_view text) {
    std::string s(text);
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

constexpr Encapsulation kAllEncapsulations[] = {
    Encapsulation::kDefault, Encapsulation::kGre,         Encapsulation::kVxlan,
    Encapsulation::kNvgre,   Encapsulation::kMpls,        Encapsulation::kMplsOverGre,
    Encapsulation::kVxlanGpe, Encapsulation::kMplsOverUdp,
};

}  // namespace

std::string_view DataplaneErrorCodeName(DataplaneErrorCode code) {
    switch (code) {
        case DataplaneErrorCode::kOk: return "ok";
        case DataplaneErrorCode::kInvalidArgument: return "invalid-argument";
        case DataplaneErrorCode::kNotSupported: return "not-supported";
        case DataplaneErrorCode::kFailedPrecondition: return "failed-precondition";
        case DataplaneErrorCode::kUnavailable: return "unavailable";
        case DataplaneErrorCode::kInternal: return "internal";
    }
    return "unknown";
}

std::string_view VpnTypeName(VpnType type) {
    return type == VpnType::kIpVpn ? "ipvpn" : "evpn";
}

std::optional<VpnType> ParseVpnType(std::string_view text) {
    if (text == "ipvpn") return VpnType::kIpVpn;
    if (text == "evpn") return VpnType::kEvpn;
    return std::nullopt;
}

std::string_view DirectionName(Direction direction) {
    switch (direction) {
        case Direction::kBoth: return "both";
        case Direction::kToPort: return "to-port";
        case Direction::kFromPort: return "from-port";
    }
    return "both";
}

std::optional<Direction> ParseDirection(std::string_view text) {
    if (text.empty() || text == "both") return Direction::kBoth;
    if (text == "to-port") return Direction::kToPort;
    if (text == "from-port") return Direction::kFromPort;
    return std::nullopt;
}

std::string_view EncapsulationName(Encapsulation encap) {
    switch (encap) {
        case Encapsulation::kDefault: return "DEFAULT";
        case Encapsulation::kGre: return "GRE";
        case Encapsulation::kVxlan: return "VXLAN";
        case Encapsulation::kNvgre: return "NVGRE";
        case Encapsulation::kMpls: return "MPLS";
        case Encapsulation::kMplsOverGre: return "MPLS-over-GRE";
        case Encapsulation::kVxlanGpe: return "VXLAN-GPE";
        case Encapsulation::kMplsOverUdp: return "MPLS-over-UDP";
    }
    return "UNKNOWN";
}

std::optional<Encapsulation> ParseEncapsulation(std::string_view text) {
    std::string s = Lower(text);
    if (s.starts_with("encap:")) s.erase(0, 6);
    std::replace(s.begin(), s.end(), '_', '-');
    if (s == "mpls-in-udp") s = "mpls-over-udp";
    if (s == "mpls-in-gre") s = "mpls-over-gre";
    for (Encapsulation e : kAllEncapsulations)
        if (s == Lower(EncapsulationName(e))) return e;
    return std::nullopt;
}

std::optional<Encapsulation> EncapsulationFromTunnelType(uint16_t tunnel_type) {
    for (Encapsulation e : kAllEncapsulations)
        if (e != Encapsulation::kDefault && static_cast<uint16_t>(e) == tunnel_type) return e;
    return std::nullopt;
}

size_t EncapsulationSet::size() const { return static_cast<size_t>(std::popcount(bits_)); }

std::vector<Encapsulation> EncapsulationSet::ToVector() const {
    std::vector<Encapsulation> out;
    for (Encapsulation e : kAllEncapsulations)
        if (contains(e)) out.push_back(e);
    return out;
}

std::vector<std::string> EncapsulationSet::Names() const {
    std::vector<std::string> out;
    for (Encapsulation e : ToVector()) out.push_back(fmt::format("encap:{}", EncapsulationName(e)));
    return out;
}

json AddressJson(const bgp::IpAddress& address) {
    return address.empty() ? json(nullptr) : json(address.ToString());
}

std::string PortRangeString(const PortRange& range) {
    return range.min == range.max ? fmt::format("{}", range.min)
                                  : fmt::format("{}:{}", range.min, range.max);
}

json ToJson(const LocalPort& port) {
    json j{{"linuxif", port.linuxif}};
    if (port.ovs) {
        const OvsPortInfo& o = *port.ovs;
        json ovs{{"plugged", o.plugged}};
        ovs["port_number"] = o.port_number ? json(*o.port_number) : json(nullptr);
        ovs["port_name"] = o.port_name;
        ovs["vlan"] = o.vlan ? json(*o.vlan) : json(nullptr);
        j["ovs"] = std::move(ovs);
    }
    if (port.vlan) j["vlan"] = *port.vlan;
    return j;
}

json ToJson(const InstanceConfig& c) {
    return json{
        {"instance_id", c.instance_id},
        {"external_instance_id", c.external_id},
        {"gateway_ip", AddressJson(c.gateway_ip)},
        {"gateway_prefix_length", c.gateway_prefix_length},
        {"instance_label", c.instance_label},
        {"linux_bridge", c.linux_bridge.empty() ? json(nullptr) : json(c.linux_bridge)},
        {"options", c.options},
    };
}

json ToJson(VpnType type, const RemoteEndpoint& e) {
    json j;
    if (type == VpnType::kIpVpn) {
        j["prefix"] = e.prefix.ToString();
    } else {
        j["mac"] = e.mac.ToString();
        j["ip"] = AddressJson(e.ip);
    }
    j["remote_pe"] = AddressJson(e.remote_pe);
    j[type == VpnType::kIpVpn ? "label" : "vni"] = e.label;
    j["encaps"] = e.encaps.Names();
    j["lb_consistent_hash_order"] = e.lb_consistent_hash_order;
    if (e.router_mac) j["router_mac"] = e.router_mac->ToString();
    j["nlri"] = e.nlri;
    return j;
}

json ToJson(const BumEndpoint& e) {
    return json{
        {"remote_pe", AddressJson(e.remote_pe)},
        {"vni", e.vni},
        {"encaps", e.encaps.Names()},
        {"nlri", e.nlri},
    };
}

json ToJson(const TrafficClassifier& c) {
    auto prefix = [](const std::optional<bgp::Prefix>& p) {
        return p ? json(p->ToString()) : json(nullptr);
    };
    auto port = [](const std::optional<PortRange>& r) {
        return r ? json(PortRangeString(*r)) : json(nullptr);
    };
    return json{
        {"sourcePrefix", prefix(c.source_prefix)},
        {"destinationPrefix", prefix(c.destination_prefix)},
        {"protocol", c.protocol ? json(*c.protocol) : json(nullptr)},
        {"sourcePort", port(c.source_port)},
        {"destinationPort", port(c.destination_port)},
    };
}

json ToJson(const Fallback& f) {
    return json{
        {"src_mac", f.src_mac.ToString()},
        {"dst_mac", f.dst_mac.ToString()},
        {"ovs_port_number", f.ovs_port_number},
    };
}

}  // namespace bagpipe::dataplane
