// Flow and group text of the IP-VPN ovs driver (ovs_flows.h).
#include "dataplane/ovs/ovs_flows.h"

#include <fmt/format.h>

namespace bagpipe::dataplane::ovs {

namespace {

std::string PortMatch(const PortRef& port) {
    std::string m = fmt::format("in_port={}", port.name_or_number);
    if (port.vlan) m += fmt::format(",dl_vlan={}", *port.vlan);
    return m;
}

std::string PushVlan(const PortRef& port) {
    return port.vlan ? fmt::format("push_vlan:0x8100,mod_vlan_vid:{},", *port.vlan) : "";
}

std::string_view ProtoName(uint8_t proto) {
    switch (proto) {
        case 6: return "tcp";
        case 17: return "udp";
        case 132: return "sctp";
        default: return "";
    }
}

}  // namespace

std::string FlowAddLine(const Flow& f) {
    return fmt::format("flow add table={},cookie={:#x},priority={}{}{},actions={}", f.key.table,
                       f.cookie, f.key.priority, f.key.match.empty() ? "" : ",", f.key.match,
                       f.actions);
}

std::string FlowDeleteStrictLine(const FlowKey& k) {
    return fmt::format("flow delete_strict table={},priority={}{}{}", k.table, k.priority,
                       k.match.empty() ? "" : ",", k.match);
}

std::string FlowDeleteLine(uint8_t table, std::string_view match) {
    return fmt::format("flow delete table={}{}{}", table, match.empty() ? "" : ",", match);
}

std::string GroupLine(uint32_t group_id, std::string_view selection,
                      const std::vector<Bucket>& buckets) {
    std::string s = fmt::format("group add_or_mod group_id={},type=select", group_id);
    if (!selection.empty()) s += fmt::format(",{}", selection);
    for (const Bucket& b : buckets) s += fmt::format(",bucket=bucket_id:{},actions={}", b.id, b.actions);
    return s;
}

std::string GroupDeleteLine(uint32_t group_id) {
    return fmt::format("group delete group_id={}", group_id);
}

std::string SelectionText(std::string_view hash_method, uint64_t hash_method_param) {
    if (hash_method.empty()) return "";
    std::string s = fmt::format("selection_method={}", hash_method);
    if (hash_method_param != 0) s += fmt::format(",selection_method_param={}", hash_method_param);
    return s;
}

Flow FromPortFlow(const Tables& t, uint64_t cookie, uint32_t instance_id, const PortRef& port,
                  std::string_view proto) {
    return Flow{{t.input, kDefaultPriority, fmt::format("{},{}", proto, PortMatch(port))},
                cookie,
                fmt::format("{}load:0->NXM_OF_IN_PORT[],set_field:{}->reg0,resubmit(,{})",
                            port.vlan ? "strip_vlan," : "", instance_id, t.vrf)};
}

Flow ArpResponderFlow(const Tables& t, uint64_t cookie, const PortRef& port,
                      const bgp::IpAddress& gateway, bool proxy_arp) {
    std::string match = fmt::format("arp,{},arp_op=1", PortMatch(port));
    std::string actions = fmt::format(
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:{0},load:0x2->NXM_OF_ARP_OP[],"
        "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],",
        kGatewayMac);
    if (proxy_arp) {
        // Answer for any address: swap SPA and TPA through reg1.
        actions +=
            "move:NXM_OF_ARP_TPA[]->NXM_NX_REG1[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
            "move:NXM_NX_REG1[]->NXM_OF_ARP_SPA[],";
        actions += fmt::format("set_field:{}->arp_sha,IN_PORT", kGatewayMac);
    } else {
        match += fmt::format(",arp_tpa={}", gateway.ToString());
        actions += fmt::format(
            "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:{}->arp_sha,set_field:{}->arp_spa,"
            "IN_PORT",
            kGatewayMac, gateway.ToString());
    }
    return Flow{{t.input, kDefaultPriority + 1, std::move(match)}, cookie, std::move(actions)};
}

Flow ToPortFlow(const Tables& t, uint64_t cookie, uint32_t label, const bgp::MacAddress& mac,
                const PortRef& port, std::optional<std::string_view> vxlan_port) {
    std::string tail = fmt::format("{}mod_dl_src:{},mod_dl_dst:{},output:{}", PushVlan(port),
                                   kGatewayMac, mac.ToString(), port.name_or_number);
    if (vxlan_port)
        return Flow{{t.encap_in, kDefaultPriority,
                     fmt::format("ip,in_port={},tun_id={}", *vxlan_port, label)},
                    cookie,
                    tail};
    return Flow{{t.encap_in, kDefaultPriority,
                 fmt::format("mpls,mpls_label={},mpls_bos=1", label)},
                cookie,
                "pop_mpls:0x0800," + tail};
}

Flow VxlanVrfFlow(const Tables& t, uint64_t cookie, uint32_t instance_id, uint32_t vni,
                  std::string_view vxlan_port) {
    return Flow{{t.encap_in, kDefaultPriority, fmt::format("ip,in_port={},tun_id={}", vxlan_port, vni)},
                cookie,
                fmt::format("set_field:{}->reg0,resubmit(,{})", instance_id, t.vrf)};
}

Flow LocalRouteFlow(const Tables& t, uint64_t cookie, uint32_t instance_id,
                    const bgp::IpAddress& ip, const bgp::MacAddress& mac, const PortRef& port) {
    return Flow{{t.vrf, PrefixPriority(32) + 1,
                 fmt::format("ip,reg0={},nw_dst={}/32", instance_id, ip.ToString())},
                cookie,
                fmt::format("{}mod_dl_src:{},mod_dl_dst:{},output:{}", PushVlan(port), kGatewayMac,
                            mac.ToString(), port.name_or_number)};
}

Flow RouteFlow(const Tables& t, uint64_t cookie, uint32_t instance_id, const bgp::Prefix& prefix,
               uint32_t group_id) {
    std::string match = fmt::format("ip,reg0={}", instance_id);
    if (prefix.length != 0) match += fmt::format(",nw_dst={}", prefix.ToString());
    return Flow{{t.vrf, PrefixPriority(prefix.length), std::move(match)}, cookie,
                fmt::format("group:{}", group_id)};
}

Flow FallbackFlow(const Tables& t, uint64_t cookie, uint32_t instance_id, const Fallback& fb) {
    return Flow{{t.vrf, kFallbackPriority, fmt::format("ip,reg0={}", instance_id)}, cookie,
                fmt::format("mod_dl_src:{},mod_dl_dst:{},output:{}", fb.src_mac.ToString(),
                            fb.dst_mac.ToString(), fb.ovs_port_number)};
}

std::vector<std::string> PortRangeMatches(const PortRange& range) {
    std::vector<std::string> out;
    uint32_t lo = range.min, hi = std::max(range.min, range.max);
    while (lo <= hi) {
        uint32_t size = 1;
        // The largest aligned block starting at lo that fits in [lo, hi].
        while (size < 0x10000 && (lo % (size * 2)) == 0 && lo + size * 2 - 1 <= hi) size *= 2;
        if (size == 1)
            out.push_back(fmt::format("{}", lo));
        else if (size < 0x10000)
            out.push_back(fmt::format("{:#x}/{:#x}", lo, 0xffffu & ~(size - 1)));
        else
            out.push_back("");  // every port
        lo += size;
    }
    return out;
}

DataplaneResult<std::vector<Flow>> ClassifierFlows(const Tables& t, uint64_t cookie,
                                                   uint32_t instance_id,
                                                   const TrafficClassifier& c,
                                                   uint32_t redirect_instance_id) {
    bool ports = c.source_port || c.destination_port;
    std::vector<std::string> protos;
    if (c.protocol) {
        std::string_view name = ProtoName(*c.protocol);
        if (name.empty()) {
            if (ports)
                return DataplaneStatus::InvalidArgument(fmt::format(
                    "a classifier with ports needs TCP, UDP or SCTP (protocol {})", *c.protocol));
            protos.push_back(fmt::format("ip,nw_proto={}", *c.protocol));
        } else {
            protos.emplace_back(name);
        }
    } else if (ports) {
        protos = {"tcp", "udp"};
    } else {
        protos = {"ip"};
    }
    for (const auto* p : {&c.source_prefix, &c.destination_prefix})
        if (*p && !(*p)->address.is_v4())
            return DataplaneStatus::NotSupported("the ovs driver classifies IPv4 traffic only");
    std::string addrs;
    if (c.source_prefix) addrs += fmt::format(",nw_src={}", c.source_prefix->ToString());
    if (c.destination_prefix)
        addrs += fmt::format(",nw_dst={}", c.destination_prefix->ToString());
    std::vector<std::string> src = c.source_port ? PortRangeMatches(*c.source_port)
                                                 : std::vector<std::string>{""};
    std::vector<std::string> dst = c.destination_port ? PortRangeMatches(*c.destination_port)
                                                      : std::vector<std::string>{""};
    std::vector<Flow> flows;
    std::string actions =
        fmt::format("set_field:{}->reg0,resubmit(,{})", redirect_instance_id, t.vrf);
    for (const std::string& proto : protos)
        for (const std::string& s : src)
            for (const std::string& d : dst) {
                std::string match = fmt::format("{},reg0={}{}", proto, instance_id, addrs);
                if (!s.empty()) match += ",tp_src=" + s;
                if (!d.empty()) match += ",tp_dst=" + d;
                flows.push_back(Flow{{t.vrf, kClassifierPriority, match}, cookie, actions});
            }
    return flows;
}

std::string BucketActions(const Tables& t, const BucketSpec& b) {
    std::string s = b.dec_ttl ? "dec_ttl," : "";
    if (b.tunnel == Tunnel::kVxlan) {
        s += fmt::format("mod_dl_src:{0},mod_dl_dst:{0},set_field:{1}->tunnel_id,", kGatewayMac,
                         b.label);
        if (b.local_pe) return s + fmt::format("resubmit({},{})", b.out_port, t.encap_in);
        return s + fmt::format("set_field:{}->tun_dst,output:{}", b.remote_pe.ToString(),
                               b.out_port);
    }
    s += fmt::format("push_mpls:0x8847,set_mpls_label:{},", b.label);
    if (b.local_pe) return s + fmt::format("resubmit({},{})", b.out_port, t.encap_in);
    if (b.tunnel == Tunnel::kGre)
        return s + fmt::format("set_field:{}->tun_dst,output:{}", b.remote_pe.ToString(),
                               b.out_port);
    return s + fmt::format("mod_dl_src:{},mod_dl_dst:{},output:{}", b.src_mac, b.dst_mac,
                           b.out_port);
}

}  // namespace bagpipe::dataplane::ovs
