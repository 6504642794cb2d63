// Text of the OpenFlow flows and groups of the IP-VPN ovs driver, as lines
// of an `ovs-ofctl -O OpenFlow15 bundle <bridge> -` file ("flow add ...",
// "group add_or_mod ..."). Pure functions of value types: no I/O, so that the
// formats can be unit-tested against the original's (reference §5.6).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/driver.h"

namespace bagpipe::dataplane::ovs {

// The original's priorities.
inline constexpr uint32_t kDefaultPriority = 0x9000;
inline constexpr uint32_t kFallbackPriority = 0x9000 - 0x80 - 0x80;
// Above every prefix route: a classifier wins over the VRF's routes.
inline constexpr uint32_t kClassifierPriority = 0x9000 + 0x100;
// Longer prefixes win: 0x9000 - (128 - length).
constexpr uint32_t PrefixPriority(uint8_t length) { return kDefaultPriority - (128u - length); }

// The gateway MAC the original answers ARP with (and uses as router MAC).
inline constexpr std::string_view kGatewayMac = "00:00:5e:00:43:64";

// A flow's identity for OpenFlow strict matching: table, priority, match.
struct FlowKey {
    uint8_t table = 0;
    uint32_t priority = 0;
    std::string match;  // "ip,reg0=1,nw_dst=10.0.0.0/24"

    auto operator<=>(const FlowKey&) const = default;
    bool operator==(const FlowKey&) const = default;
};

struct Flow {
    FlowKey key;
    uint64_t cookie = 0;
    std::string actions;

    bool operator==(const Flow&) const = default;
};

struct Bucket {
    uint32_t id = 0;
    std::string actions;
    bool operator==(const Bucket&) const = default;
};

// "flow add table=2,cookie=0x1,priority=36840,ip,reg0=1,nw_dst=10.0.0.0/24,actions=group:1"
std::string FlowAddLine(const Flow& flow);
// "flow delete_strict table=2,priority=36840,ip,reg0=1,nw_dst=10.0.0.0/24"
std::string FlowDeleteStrictLine(const FlowKey& key);
// "flow delete table=2[,<match>]" (non-strict: every flow the match covers).
std::string FlowDeleteLine(uint8_t table, std::string_view match);
// "group add_or_mod group_id=1,type=select,selection_method=dp_hash,bucket=bucket_id:0,actions=..."
std::string GroupLine(uint32_t group_id, std::string_view selection,
                      const std::vector<Bucket>& buckets);
std::string GroupDeleteLine(uint32_t group_id);  // "group delete group_id=1"

// The `selection_method=...[,selection_method_param=...]` part of a select
// group: "dp_hash" or "hash" (then "fields(...)" may follow as given).
std::string SelectionText(std::string_view hash_method, uint64_t hash_method_param);

// A port in flows: an OpenFlow port number or a port name (ovs-ofctl
// resolves names), with the VLAN of the traffic on it.
struct PortRef {
    std::string name_or_number;  // "tap1" or "5"
    std::optional<uint16_t> vlan;
};

// Tables (input, encap_in = start, vrf = start + 1).
struct Tables {
    uint8_t input = 0;
    uint8_t encap_in = 1;
    uint8_t vrf = 2;
};

// Flow builders of one instance (reg0 = instance id, cookie given).
// from-port, for `proto` "ip" or "arp": table input.
Flow FromPortFlow(const Tables& t, uint64_t cookie, uint32_t instance_id, const PortRef& port,
                  std::string_view proto);
// ARP responder for the gateway (any address with proxy_arp), per port in
// the input table (above the from-port flows), answering with kGatewayMac
// out of the port it came in (VLAN tag kept).
Flow ArpResponderFlow(const Tables& t, uint64_t cookie, const PortRef& port,
                      const bgp::IpAddress& gateway, bool proxy_arp);
// to-port: label -> pop_mpls, MACs, [push_vlan], output (table encap_in);
// with `vxlan_port` the VXLAN variant (in_port=vxlan,tun_id=label, no pop).
Flow ToPortFlow(const Tables& t, uint64_t cookie, uint32_t label, const bgp::MacAddress& mac,
                const PortRef& port, std::optional<std::string_view> vxlan_port = std::nullopt);
// VXLAN with a per-VRF VNI (E-VPN type 5 routes carry the instance label):
// in_port=vxlan,tun_id=vni -> reg0 = id, VRF lookup (table encap_in).
Flow VxlanVrfFlow(const Tables& t, uint64_t cookie, uint32_t instance_id, uint32_t vni,
                  std::string_view vxlan_port);
// The VRF's route to a local endpoint (what a VRF lookup of traffic from a
// per-VRF VNI needs): ip,reg0=id,nw_dst=ip/32 -> MACs, output, just above
// remote /32 routes.
Flow LocalRouteFlow(const Tables& t, uint64_t cookie, uint32_t instance_id,
                    const bgp::IpAddress& ip, const bgp::MacAddress& mac, const PortRef& port);
// VRF route: ip,reg0=id[,nw_dst=prefix] -> group.
Flow RouteFlow(const Tables& t, uint64_t cookie, uint32_t instance_id, const bgp::Prefix& prefix,
               uint32_t group_id);
// Fallback: reg0=id at kFallbackPriority -> MACs, output.
Flow FallbackFlow(const Tables& t, uint64_t cookie, uint32_t instance_id, const Fallback& fb);
// FlowSpec redirect: one flow per (protocol, source port mask, destination
// port mask) combination; kInvalidArgument for ports without TCP/UDP/SCTP.
DataplaneResult<std::vector<Flow>> ClassifierFlows(const Tables& t, uint64_t cookie,
                                                   uint32_t instance_id,
                                                   const TrafficClassifier& classifier,
                                                   uint32_t redirect_instance_id);

// Port range [min, max] as value/mask matches: "0x50/0xfff0" style, or the
// bare value for an exact port ("80").
std::vector<std::string> PortRangeMatches(const PortRange& range);

// Bucket actions towards a remote PE.
enum class Tunnel : uint8_t { kGre, kBareMpls, kVxlan };
struct BucketSpec {
    Tunnel tunnel = Tunnel::kGre;
    bool dec_ttl = false;
    uint32_t label = 0;
    bgp::IpAddress remote_pe;
    bool local_pe = false;          // resubmit(<in port>,encap_in) instead of output
    std::string out_port;           // mpls_gre / vxlan / mpls_interface name
    std::string src_mac, dst_mac;   // bare MPLS (and VXLAN inner header)
};
std::string BucketActions(const Tables& t, const BucketSpec& spec);

}  // namespace bagpipe::dataplane::ovs
