// Typed rtnetlink (NETLINK_ROUTE) request builders and reply parsers, on
// libmnl. Every builder returns a Message: the bytes of one netlink message,
// header included, with nlmsg_seq and nlmsg_pid left at 0 (the socket numbers
// requests when it sends them) and NLM_F_REQUEST | NLM_F_ACK set (dumps:
// NLM_F_DUMP, no ACK). Parsers turn one reply message into a value struct, or
// nullopt when the message is not of the expected type or is truncated.
//
// No state, no I/O: everything here is a pure function of its arguments, so
// that the golden byte tests (tests/unit/dataplane/linux/) compare builders
// with what iproute2 sends for the equivalent `ip`/`bridge` command.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/wire/esi.h"
#include "bgp/wire/ip_address.h"

namespace bagpipe::dataplane::netlink {

// Our routing protocol number (rtm_protocol), as the original's RT_PROT_BAGPIPE.
inline constexpr uint8_t kRtprotBagpipe = 19;

// One netlink request message.
struct Message {
    std::vector<uint8_t> bytes;  // nlmsghdr + payload, nlmsg_len == bytes.size()

    uint16_t type() const;   // nlmsg_type
    uint16_t flags() const;  // nlmsg_flags
    bool is_dump() const;    // NLM_F_DUMP set: the reply is multi-part, ends with NLMSG_DONE
    bool operator==(const Message&) const = default;
};

// An interface by index, or by name when index is 0 (IFLA_IFNAME; link
// messages only: neighbours, addresses and routes need an index).
struct LinkRef {
    int32_t index = 0;
    std::string name;

    static LinkRef ByName(std::string_view name) { return {0, std::string(name)}; }
    static LinkRef ByIndex(int32_t index) { return {index, {}}; }
    bool operator==(const LinkRef&) const = default;
};

// ---------------------------------------------------------------------------
// Links (RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK).

// `ip link add <name> type bridge forward_delay <fd> stp_state <0|1>`
// (forward delay in centiseconds as iproute2's `forward_delay`).
struct BridgeParams {
    uint32_t forward_delay = 0;
    bool stp = false;
};
Message NewBridgeLink(std::string_view name, const BridgeParams& params = {});

// `ip link add <name> type vxlan id <vni> local <local> dstport <port>
//  [no]learning [proxy]` (learning off is iproute2's `nolearning`).
struct VxlanParams {
    uint32_t vni = 0;
    bgp::IpAddress local;    // empty: not sent
    uint16_t dst_port = 4789;
    bool learning = false;
    bool proxy = false;
};
Message NewVxlanLink(std::string_view name, const VxlanParams& params);

// `ip link add <name> type veth peer name <peer>`.
Message NewVethLink(std::string_view name, std::string_view peer);
// `ip link add <name> type vrf table <table>`.
Message NewVrfLink(std::string_view name, uint32_t table);
// `ip link add <name> type gretap local <local> remote <remote>` (probing).
Message NewGretapLink(std::string_view name, const bgp::IpAddress& local,
                      const bgp::IpAddress& remote);
// `ip link del <link>`.
Message DeleteLink(const LinkRef& link);
// `ip link set <link> up|down`.
Message SetLinkUp(const LinkRef& link, bool up);
// `ip link set <link> master <index>`; master_index 0 is `nomaster`.
Message SetLinkMaster(const LinkRef& link, int32_t master_index);
// `ip link set <link> address <mac>`.
Message SetLinkAddress(const LinkRef& link, const bgp::MacAddress& mac);
// `ip link set <link> mtu <mtu>`.
Message SetLinkMtu(const LinkRef& link, uint32_t mtu);

// Bridge port attributes (AF_BRIDGE RTM_SETLINK, IFLA_PROTINFO nest of
// IFLA_BRPORT_*), as `bridge link set dev <port> learning off neigh_suppress
// on` and `ip link set <port> type bridge_slave proxy_arp on`; unset fields
// are not sent.
struct BridgePortParams {
    std::optional<bool> learning;
    std::optional<bool> neigh_suppress;
    std::optional<bool> proxy_arp;
};
Message SetBridgePort(int32_t port_index, const BridgePortParams& params);

// `ip link show <name>`: one RTM_NEWLINK reply (ENODEV when absent).
Message GetLink(std::string_view name);
// `ip link show`: dump of every link.
Message DumpLinks();

// A link from a RTM_NEWLINK reply.
struct LinkInfo {
    int32_t index = 0;
    std::string name;
    std::string kind;        // IFLA_INFO_KIND ("bridge", "vxlan", "veth", ...); empty if none
    int32_t master = 0;      // IFLA_MASTER, 0 if none
    bool up = false;         // IFF_UP
    uint32_t mtu = 0;
    std::optional<bgp::MacAddress> address;  // IFLA_ADDRESS when 6 bytes
    std::optional<uint32_t> vxlan_id;        // IFLA_VXLAN_ID
    std::optional<bgp::IpAddress> vxlan_local;
    std::optional<uint16_t> vxlan_port;      // host order
    std::optional<bool> vxlan_learning;
    std::optional<uint32_t> vrf_table;
    bool operator==(const LinkInfo&) const = default;
};
std::optional<LinkInfo> ParseLink(std::span<const uint8_t> message);

// ---------------------------------------------------------------------------
// Addresses (RTM_NEWADDR / RTM_DELADDR): `ip addr add|del <prefix> dev <index>`.
Message AddAddress(int32_t index, const bgp::Prefix& address);
Message DeleteAddress(int32_t index, const bgp::Prefix& address);

// ---------------------------------------------------------------------------
// Routes (RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE).

enum class RouteType : uint8_t { kUnicast = 1, kLocal = 2, kBlackhole = 6, kUnreachable = 7 };

struct NextHop {
    bgp::IpAddress gateway;              // empty: directly connected
    int32_t oif = 0;                     // 0: none
    bool onlink = false;                 // RTNH_F_ONLINK
    uint8_t weight = 1;                  // multipath only (rtnh_hops = weight - 1)
    std::vector<uint32_t> mpls_labels;   // `encap mpls l1/l2`, outermost first
    bool operator==(const NextHop&) const = default;
};

struct Route {
    bgp::Prefix destination;
    uint32_t table = 254;                // RT_TABLE_MAIN; > 255 goes in RTA_TABLE only
    uint8_t protocol = kRtprotBagpipe;
    RouteType type = RouteType::kUnicast;
    std::optional<uint32_t> metric;      // RTA_PRIORITY
    // One: RTA_GATEWAY/RTA_OIF/RTA_ENCAP; several: RTA_MULTIPATH.
    std::vector<NextHop> next_hops;
    bool operator==(const Route&) const = default;
};

// `ip route add|replace <...> proto 19 table <t>`.
Message AddRoute(const Route& route, bool replace = false);
Message DeleteRoute(const Route& route);
// `ip route show table all` for one family (AF_INET, AF_INET6).
Message DumpRoutes(uint8_t family);

// The RTA_ENCAP payload for MPLS (MPLS_IPTUNNEL_DST with the label stack),
// to be used with RTA_ENCAP_TYPE = LWTUNNEL_ENCAP_MPLS; exposed for tests.
std::vector<uint8_t> MplsEncapLabels(const std::vector<uint32_t>& labels);

// Kernel MPLS forwarding (AF_MPLS, table 254 only): a local label popped and
// delivered to a neighbour, as `ip -f mpls route replace <label> [as <out>]
// via inet <via> dev <oif> proto 19` (RTA_DST, RTA_NEWDST, RTA_VIA, RTA_OIF).
struct MplsRoute {
    uint32_t label = 0;                  // the incoming label (bottom of stack)
    std::vector<uint32_t> out_labels;    // RTA_NEWDST (swap/push); empty: pop
    bgp::IpAddress via;                  // next hop, IPv4 or IPv6 (RTA_VIA)
    int32_t oif = 0;
    uint8_t protocol = kRtprotBagpipe;
    bool operator==(const MplsRoute&) const = default;
};
// `ip -f mpls route add|replace ...`.
Message AddMplsRoute(const MplsRoute& route, bool replace = false);
// `ip -f mpls route del <label> proto <protocol>` (the kernel keys MPLS routes
// by label alone).
Message DeleteMplsRoute(uint32_t label, uint8_t protocol = kRtprotBagpipe);
inline constexpr uint8_t kFamilyMpls = 28;  // AF_MPLS, for DumpRoutes

struct RouteInfo {
    uint8_t family = 0;
    bgp::Prefix destination;             // empty for AF_MPLS (see label)
    uint32_t label = 0;                  // AF_MPLS: the incoming label
    uint32_t table = 0;
    uint8_t protocol = 0;
    uint8_t type = 0;
    std::optional<bgp::IpAddress> gateway;
    int32_t oif = 0;
    size_t multipath_count = 0;          // number of RTA_MULTIPATH next hops
    bool operator==(const RouteInfo&) const = default;
};
std::optional<RouteInfo> ParseRoute(std::span<const uint8_t> message);

// ---------------------------------------------------------------------------
// Policy rules (RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE).

struct Rule {
    uint8_t family = 2;                  // AF_INET or AF_INET6 (10)
    uint32_t priority = 0;
    std::string iif;                     // FRA_IIFNAME, empty: any
    std::string oif;                     // FRA_OIFNAME, empty: any
    uint32_t table = 0;                  // lookup table (action "to table")
    bool unreachable = false;            // action unreachable instead of lookup
    bool operator==(const Rule&) const = default;
};
// `ip [-6] rule add|del pref <p> [iif X] [oif Y] lookup <t> | unreachable`.
Message AddRule(const Rule& rule);
Message DeleteRule(const Rule& rule);
Message DumpRules(uint8_t family);
std::optional<Rule> ParseRule(std::span<const uint8_t> message);

// ---------------------------------------------------------------------------
// Neighbours and bridge FDB (RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH).

inline constexpr uint8_t kFamilyBridge = 7;   // AF_BRIDGE: FDB entries
inline constexpr uint16_t kNudPermanent = 0x80;
inline constexpr uint16_t kNudNoArp = 0x40;   // with kNudReachable: `static` FDB entries
inline constexpr uint16_t kNudReachable = 0x02;
inline constexpr uint8_t kNtfSelf = 0x02;
inline constexpr uint8_t kNtfMaster = 0x04;

struct Neighbour {
    uint8_t family = kFamilyBridge;      // AF_BRIDGE (FDB), AF_INET, AF_INET6
    int32_t ifindex = 0;                 // the device (the vxlan device for `self` FDB)
    std::optional<bgp::MacAddress> lladdr;  // NDA_LLADDR (the MAC of an FDB entry)
    bgp::IpAddress dst;                  // NDA_DST: remote VTEP (FDB) or neighbour IP
    std::optional<uint32_t> vni;         // NDA_VNI
    uint16_t state = kNudPermanent;      // ndm_state
    uint8_t flags = 0;                   // ndm_flags: kNtfSelf, kNtfMaster
    bool operator==(const Neighbour&) const = default;
};

enum class NeighbourOp : uint8_t {
    kAdd,      // NLM_F_CREATE | NLM_F_EXCL (`bridge fdb add`)
    kReplace,  // NLM_F_CREATE | NLM_F_REPLACE (`bridge fdb replace`, `ip neigh replace`)
    kAppend,   // NLM_F_CREATE | NLM_F_APPEND (`bridge fdb append`: flood list)
};
Message AddNeighbour(const Neighbour& neighbour, NeighbourOp op = NeighbourOp::kReplace);
Message DeleteNeighbour(const Neighbour& neighbour);
// `bridge fdb show` (family AF_BRIDGE) / `ip neigh show` (AF_UNSPEC, AF_INET...);
// ifindex != 0 asks the kernel to filter on that device.
Message DumpNeighbours(uint8_t family, int32_t ifindex = 0);

struct NeighbourInfo {
    Neighbour entry;                     // family, ifindex, lladdr, dst, vni, state, flags
    int32_t master = 0;                  // NDA_MASTER (bridge FDB entries)
    bool operator==(const NeighbourInfo&) const = default;
};
std::optional<NeighbourInfo> ParseNeighbour(std::span<const uint8_t> message);

// ---------------------------------------------------------------------------
// Helpers.

// Splits a receive buffer into its netlink messages (validated lengths).
std::vector<std::span<const uint8_t>> SplitMessages(std::span<const uint8_t> buffer);
// "RTM_NEWLINK", "RTM_DELNEIGH", ... or the number.
std::string MessageTypeName(uint16_t type);

}  // namespace bagpipe::dataplane::netlink
