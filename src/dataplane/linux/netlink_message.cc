// Rtnetlink builders and parsers (netlink_message.h), on libmnl. Attribute
// order follows iproute2's for the equivalent commands, so that the golden
// byte tests can compare with captured `ip`/`bridge` requests.
#include "dataplane/linux/netlink_message.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_tunnel.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/lwtunnel.h>
#include <linux/mpls_iptunnel.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

#include <fmt/format.h>

namespace bagpipe::dataplane::netlink {
namespace {

// Scratch space for one message; every builder's output fits easily.
class Builder {
public:
    explicit Builder(uint16_t type, uint16_t flags) {
        nlh_ = mnl_nlmsg_put_header(buf_.data());
        nlh_->nlmsg_type = type;
        nlh_->nlmsg_flags = flags;
    }
    template <typename T>
    T* Header() {
        return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
    }
    nlmsghdr* nlh() { return nlh_; }
    Message Done() const {
        const auto* p = reinterpret_cast<const uint8_t*>(nlh_);
        return Message{std::vector<uint8_t>(p, p + nlh_->nlmsg_len)};
    }
    void Str(uint16_t type, std::string_view s) {
        std::string z(s);
        mnl_attr_put_strz(nlh_, type, z.c_str());
    }
    void U8(uint16_t type, uint8_t v) { mnl_attr_put_u8(nlh_, type, v); }
    void U16(uint16_t type, uint16_t v) { mnl_attr_put_u16(nlh_, type, v); }
    void U32(uint16_t type, uint32_t v) { mnl_attr_put_u32(nlh_, type, v); }
    void Bytes(uint16_t type, const void* p, size_t n) {
        mnl_attr_put(nlh_, type, n, p);
    }
    void Addr(uint16_t type, const bgp::IpAddress& a) { Bytes(type, a.bytes.data(), a.size()); }
    // Starts a nest with exactly `type` (iproute2 sets NLA_F_NESTED only on
    // some nests; libmnl's nest_start always would).
    nlattr* Nest(uint16_t type) {
        auto* a = static_cast<nlattr*>(mnl_nlmsg_get_payload_tail(nlh_));
        a->nla_type = type;
        a->nla_len = 0;
        nlh_->nlmsg_len += MNL_ALIGN(sizeof(nlattr));
        return a;
    }
    // A string without its NUL (IFLA_INFO_KIND, as iproute2 sends it).
    void Kind(uint16_t type, std::string_view s) { Bytes(type, s.data(), s.size()); }
    void End(nlattr* nest) { mnl_attr_nest_end(nlh_, nest); }

private:
    alignas(nlmsghdr) std::array<uint8_t, 4096> buf_{};
    nlmsghdr* nlh_;
};

constexpr uint16_t kCreate = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
constexpr uint16_t kModify = NLM_F_REQUEST | NLM_F_ACK;

uint8_t Family(const bgp::IpAddress& a) { return a.is_v6() ? AF_INET6 : AF_INET; }

// RTM_NEWLINK creating `name` of `kind`; `data` fills IFLA_INFO_DATA.
template <typename F>
Message NewLink(std::string_view name, const char* kind, F&& data) {
    Builder b(RTM_NEWLINK, kCreate);
    b.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    b.Str(IFLA_IFNAME, name);
    nlattr* info = b.Nest(IFLA_LINKINFO);
    b.Kind(IFLA_INFO_KIND, kind);
    nlattr* d = b.Nest(IFLA_INFO_DATA);
    data(b);
    b.End(d);
    b.End(info);
    return b.Done();
}

// RTM_NEWLINK (modify) on `link`; `attrs` adds the attributes.
template <typename F>
Message SetLink(const LinkRef& link, uint32_t flags, uint32_t change, F&& attrs) {
    Builder b(RTM_NEWLINK, kModify);
    auto* ifi = b.Header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = link.index;
    ifi->ifi_flags = flags;
    ifi->ifi_change = change;
    if (link.index == 0) b.Str(IFLA_IFNAME, link.name);
    attrs(b);
    return b.Done();
}

std::optional<bgp::IpAddress> AddrFrom(const nlattr* a) {
    uint16_t n = mnl_attr_get_payload_len(a);
    const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
    if (n == 4) return bgp::IpAddress::V4(p);
    if (n == 16) return bgp::IpAddress::V6(p);
    return std::nullopt;
}

// Valid message of one of `types` with at least `header` payload bytes.
const nlmsghdr* Check(std::span<const uint8_t> m, std::initializer_list<uint16_t> types,
                      size_t header) {
    if (m.size() < sizeof(nlmsghdr)) return nullptr;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(m.data());
    if (nlh->nlmsg_len > m.size() || nlh->nlmsg_len < NLMSG_LENGTH(header)) return nullptr;
    for (uint16_t t : types)
        if (nlh->nlmsg_type == t) return nlh;
    return nullptr;
}

// Calls f(attr) for each attribute after the `header`.
template <typename F>
void ForEachAttr(const nlmsghdr* nlh, size_t header, F&& f) {
    auto* h = const_cast<nlmsghdr*>(nlh);
    auto* end = static_cast<char*>(mnl_nlmsg_get_payload_tail(h));
    for (auto* a = static_cast<nlattr*>(mnl_nlmsg_get_payload_offset(h, header));
         mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<char*>(a)));
         a = mnl_attr_next(a))
        f(a);
}
template <typename F>
void ForEachNested(const nlattr* nest, F&& f) {
    auto* n = const_cast<nlattr*>(nest);
    auto* end = static_cast<char*>(mnl_attr_get_payload(n)) + mnl_attr_get_payload_len(n);
    for (auto* a = static_cast<nlattr*>(mnl_attr_get_payload(n));
         mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<char*>(a)));
         a = mnl_attr_next(a))
        f(a);
}
bool Valid(const nlattr* a, size_t n) { return mnl_attr_get_payload_len(a) >= n; }

void PutNextHopEncap(Builder& b, const NextHop& nh) {
    if (nh.mpls_labels.empty()) return;
    nlattr* e = b.Nest(RTA_ENCAP | NLA_F_NESTED);
    std::vector<uint8_t> labels = MplsEncapLabels(nh.mpls_labels);
    b.Bytes(MPLS_IPTUNNEL_DST, labels.data(), labels.size());
    b.End(e);
    b.U16(RTA_ENCAP_TYPE, LWTUNNEL_ENCAP_MPLS);
}

Message RouteMessage(const Route& r, uint16_t type, uint16_t flags, bool del) {
    Builder b(type, flags);
    auto* rtm = b.Header<rtmsg>();
    const bgp::IpAddress& dst = r.destination.address;
    rtm->rtm_family = Family(dst);
    rtm->rtm_dst_len = r.destination.length;
    rtm->rtm_table = r.table > 255 ? uint8_t{RT_TABLE_UNSPEC} : static_cast<uint8_t>(r.table);
    rtm->rtm_protocol = r.protocol;
    rtm->rtm_scope = del                         ? RT_SCOPE_NOWHERE
                     : r.type == RouteType::kLocal ? RT_SCOPE_HOST
                                                   : RT_SCOPE_UNIVERSE;
    rtm->rtm_type = del && r.type == RouteType::kUnicast ? uint8_t{RTN_UNSPEC}
                                                          : static_cast<uint8_t>(r.type);
    b.Addr(RTA_DST, dst);
    if (r.table > 255) b.U32(RTA_TABLE, r.table);
    if (r.metric) b.U32(RTA_PRIORITY, *r.metric);
    if (r.next_hops.size() == 1) {
        const NextHop& nh = r.next_hops.front();
        if (nh.onlink) rtm->rtm_flags |= RTNH_F_ONLINK;
        PutNextHopEncap(b, nh);
        if (!nh.gateway.empty()) b.Addr(RTA_GATEWAY, nh.gateway);
        if (nh.oif) b.U32(RTA_OIF, static_cast<uint32_t>(nh.oif));
    } else if (r.next_hops.size() > 1) {
        nlattr* mp = b.Nest(RTA_MULTIPATH);
        for (const NextHop& nh : r.next_hops) {
            auto* rtnh = static_cast<rtnexthop*>(mnl_nlmsg_get_payload_tail(b.nlh()));
            b.nlh()->nlmsg_len += MNL_ALIGN(sizeof(rtnexthop));
            std::memset(rtnh, 0, sizeof(*rtnh));
            rtnh->rtnh_flags = nh.onlink ? RTNH_F_ONLINK : 0;
            rtnh->rtnh_hops = nh.weight > 0 ? static_cast<uint8_t>(nh.weight - 1) : 0;
            rtnh->rtnh_ifindex = nh.oif;
            PutNextHopEncap(b, nh);
            if (!nh.gateway.empty()) b.Addr(RTA_GATEWAY, nh.gateway);
            rtnh->rtnh_len = static_cast<unsigned short>(
                reinterpret_cast<uint8_t*>(mnl_nlmsg_get_payload_tail(b.nlh())) -
                reinterpret_cast<uint8_t*>(rtnh));
        }
        b.End(mp);
    }
    return b.Done();
}

Message RuleMessage(const Rule& r, uint16_t type, uint16_t flags, bool del) {
    Builder b(type, flags);
    auto* h = b.Header<fib_rule_hdr>();
    h->family = r.family;
    h->table = r.table > 255 ? 0 : static_cast<uint8_t>(r.table);
    h->action = r.unreachable ? FR_ACT_UNREACHABLE : del ? FR_ACT_UNSPEC : FR_ACT_TO_TBL;
    b.U32(FRA_PRIORITY, r.priority);
    if (!r.iif.empty()) b.Str(FRA_IIFNAME, r.iif);
    if (!r.oif.empty()) b.Str(FRA_OIFNAME, r.oif);
    if (r.table > 255) b.U32(FRA_TABLE, r.table);
    return b.Done();
}

Message NeighbourMessage(const Neighbour& n, uint16_t type, uint16_t flags) {
    Builder b(type, flags);
    auto* ndm = b.Header<ndmsg>();
    ndm->ndm_family = n.family;
    ndm->ndm_ifindex = n.ifindex;
    ndm->ndm_state = n.state;
    ndm->ndm_flags = n.flags;
    auto lladdr = [&] {
        if (n.lladdr) b.Bytes(NDA_LLADDR, n.lladdr->bytes.data(), 6);
    };
    if (n.family == AF_BRIDGE) {
        lladdr();
        if (!n.dst.empty()) b.Addr(NDA_DST, n.dst);
    } else {
        if (!n.dst.empty()) b.Addr(NDA_DST, n.dst);
        lladdr();
    }
    if (n.vni) b.U32(NDA_VNI, *n.vni);
    return b.Done();
}

}  // namespace

uint16_t Message::type() const {
    return bytes.size() >= sizeof(nlmsghdr)
               ? reinterpret_cast<const nlmsghdr*>(bytes.data())->nlmsg_type
               : 0;
}
uint16_t Message::flags() const {
    return bytes.size() >= sizeof(nlmsghdr)
               ? reinterpret_cast<const nlmsghdr*>(bytes.data())->nlmsg_flags
               : 0;
}
// NLM_F_DUMP's bits mean NLM_F_REPLACE | NLM_F_EXCL on NEW requests: only
// a RTM_GET* (type % 4 == 2) is a dump.
bool Message::is_dump() const {
    return type() >= RTM_BASE && type() % 4 == 2 && (flags() & NLM_F_DUMP) == NLM_F_DUMP;
}

// --- links ----------------------------------------------------------------

Message NewBridgeLink(std::string_view name, const BridgeParams& p) {
    return NewLink(name, "bridge", [&](Builder& b) {
        b.U32(IFLA_BR_FORWARD_DELAY, p.forward_delay);
        b.U32(IFLA_BR_STP_STATE, p.stp ? 1 : 0);
    });
}

Message NewVxlanLink(std::string_view name, const VxlanParams& p) {
    return NewLink(name, "vxlan", [&](Builder& b) {
        if (p.proxy) b.U8(IFLA_VXLAN_PROXY, 1);
        b.U32(IFLA_VXLAN_ID, p.vni);
        if (p.local.is_v4()) b.Addr(IFLA_VXLAN_LOCAL, p.local);
        if (p.local.is_v6()) b.Addr(IFLA_VXLAN_LOCAL6, p.local);
        b.U8(IFLA_VXLAN_LEARNING, p.learning ? 1 : 0);
        b.U16(IFLA_VXLAN_PORT, htons(p.dst_port));
    });
}

Message NewVethLink(std::string_view name, std::string_view peer) {
    return NewLink(name, "veth", [&](Builder& b) {
        nlattr* pn = b.Nest(VETH_INFO_PEER);
        b.Header<ifinfomsg>();
        b.Str(IFLA_IFNAME, peer);
        b.End(pn);
    });
}

Message NewVrfLink(std::string_view name, uint32_t table) {
    return NewLink(name, "vrf", [&](Builder& b) { b.U32(IFLA_VRF_TABLE, table); });
}

Message NewGretapLink(std::string_view name, const bgp::IpAddress& local,
                      const bgp::IpAddress& remote) {
    return NewLink(name, "gretap", [&](Builder& b) {
        b.Addr(IFLA_GRE_LOCAL, local);
        b.Addr(IFLA_GRE_REMOTE, remote);
    });
}

Message DeleteLink(const LinkRef& link) {
    Builder b(RTM_DELLINK, kModify);
    auto* ifi = b.Header<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = link.index;
    if (link.index == 0) b.Str(IFLA_IFNAME, link.name);
    return b.Done();
}

Message SetLinkUp(const LinkRef& link, bool up) {
    return SetLink(link, up ? IFF_UP : 0, IFF_UP, [](Builder&) {});
}

Message SetLinkMaster(const LinkRef& link, int32_t master_index) {
    return SetLink(link, 0, 0, [&](Builder& b) {
        b.U32(IFLA_MASTER, static_cast<uint32_t>(master_index));
    });
}

Message SetLinkAddress(const LinkRef& link, const bgp::MacAddress& mac) {
    return SetLink(link, 0, 0,
                   [&](Builder& b) { b.Bytes(IFLA_ADDRESS, mac.bytes.data(), 6); });
}

Message SetLinkMtu(const LinkRef& link, uint32_t mtu) {
    return SetLink(link, 0, 0, [&](Builder& b) { b.U32(IFLA_MTU, mtu); });
}

Message SetBridgePort(int32_t port_index, const BridgePortParams& p) {
    Builder b(RTM_SETLINK, kModify);
    auto* ifi = b.Header<ifinfomsg>();
    ifi->ifi_family = AF_BRIDGE;
    ifi->ifi_index = port_index;
    nlattr* n = b.Nest(IFLA_PROTINFO | NLA_F_NESTED);
    if (p.learning) b.U8(IFLA_BRPORT_LEARNING, *p.learning ? 1 : 0);
    if (p.proxy_arp) b.U8(IFLA_BRPORT_PROXYARP, *p.proxy_arp ? 1 : 0);
    if (p.neigh_suppress) b.U8(IFLA_BRPORT_NEIGH_SUPPRESS, *p.neigh_suppress ? 1 : 0);
    b.End(n);
    return b.Done();
}

Message GetLink(std::string_view name) {
    Builder b(RTM_GETLINK, NLM_F_REQUEST);
    b.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    b.U32(IFLA_EXT_MASK, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
    b.Str(IFLA_IFNAME, name);
    return b.Done();
}

Message DumpLinks() {
    Builder b(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
    b.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
    b.U32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    return b.Done();
}

std::optional<LinkInfo> ParseLink(std::span<const uint8_t> m) {
    const nlmsghdr* nlh = Check(m, {RTM_NEWLINK}, sizeof(ifinfomsg));
    if (!nlh) return std::nullopt;
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    LinkInfo info;
    info.index = ifi->ifi_index;
    info.up = (ifi->ifi_flags & IFF_UP) != 0;
    ForEachAttr(nlh, sizeof(ifinfomsg), [&](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME:
            if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) info.name = mnl_attr_get_str(a);
            break;
        case IFLA_MASTER:
            if (Valid(a, 4)) info.master = static_cast<int32_t>(mnl_attr_get_u32(a));
            break;
        case IFLA_MTU:
            if (Valid(a, 4)) info.mtu = mnl_attr_get_u32(a);
            break;
        case IFLA_ADDRESS:
            if (mnl_attr_get_payload_len(a) == 6) {
                bgp::MacAddress mac;
                std::memcpy(mac.bytes.data(), mnl_attr_get_payload(a), 6);
                info.address = mac;
            }
            break;
        case IFLA_LINKINFO: {
            const nlattr* data = nullptr;
            ForEachNested(a, [&](const nlattr* i) {
                if (mnl_attr_get_type(i) == IFLA_INFO_KIND &&
                    mnl_attr_validate(i, MNL_TYPE_STRING) >= 0)
                    info.kind = std::string(static_cast<const char*>(mnl_attr_get_payload(i)),
                                            strnlen(static_cast<const char*>(
                                                        mnl_attr_get_payload(i)),
                                                    mnl_attr_get_payload_len(i)));
                if (mnl_attr_get_type(i) == IFLA_INFO_DATA) data = i;
            });
            if (data && info.kind == "vxlan") {
                ForEachNested(data, [&](const nlattr* d) {
                    switch (mnl_attr_get_type(d)) {
                    case IFLA_VXLAN_ID:
                        if (Valid(d, 4)) info.vxlan_id = mnl_attr_get_u32(d);
                        break;
                    case IFLA_VXLAN_LOCAL:
                    case IFLA_VXLAN_LOCAL6:
                        info.vxlan_local = AddrFrom(d);
                        break;
                    case IFLA_VXLAN_PORT:
                        if (Valid(d, 2)) info.vxlan_port = ntohs(mnl_attr_get_u16(d));
                        break;
                    case IFLA_VXLAN_LEARNING:
                        if (Valid(d, 1)) info.vxlan_learning = mnl_attr_get_u8(d) != 0;
                        break;
                    default:
                        break;
                    }
                });
            }
            if (data && info.kind == "vrf") {
                ForEachNested(data, [&](const nlattr* d) {
                    if (mnl_attr_get_type(d) == IFLA_VRF_TABLE && Valid(d, 4))
                        info.vrf_table = mnl_attr_get_u32(d);
                });
            }
            break;
        }
        default:
            break;
        }
    });
    return info;
}

// --- addresses ------------------------------------------------------------

namespace {
Message AddressMessage(uint16_t type, uint16_t flags, int32_t index, const bgp::Prefix& p) {
    Builder b(type, flags);
    auto* ifa = b.Header<ifaddrmsg>();
    ifa->ifa_family = Family(p.address);
    ifa->ifa_prefixlen = p.length;
    ifa->ifa_index = static_cast<uint32_t>(index);
    b.Addr(IFA_LOCAL, p.address);
    b.Addr(IFA_ADDRESS, p.address);
    return b.Done();
}
}  // namespace

Message AddAddress(int32_t index, const bgp::Prefix& address) {
    return AddressMessage(RTM_NEWADDR, kCreate, index, address);
}
Message DeleteAddress(int32_t index, const bgp::Prefix& address) {
    return AddressMessage(RTM_DELADDR, kModify, index, address);
}

// --- routes ---------------------------------------------------------------

std::vector<uint8_t> MplsEncapLabels(const std::vector<uint32_t>& labels) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < labels.size(); ++i) {
        uint32_t entry = (labels[i] & 0xFFFFF) << 12;
        if (i + 1 == labels.size()) entry |= 0x100;  // bottom of stack
        out.push_back(static_cast<uint8_t>(entry >> 24));
        out.push_back(static_cast<uint8_t>(entry >> 16));
        out.push_back(static_cast<uint8_t>(entry >> 8));
        out.push_back(static_cast<uint8_t>(entry));
    }
    return out;
}

Message AddRoute(const Route& route, bool replace) {
    return RouteMessage(route, RTM_NEWROUTE,
                        replace ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE
                                : kCreate,
                        false);
}
Message DeleteRoute(const Route& route) {
    return RouteMessage(route, RTM_DELROUTE, kModify, true);
}
namespace {
Message MplsRouteMessage(uint16_t type, uint16_t flags, uint32_t label, uint8_t protocol,
                         const MplsRoute* r) {
    Builder b(type, flags);
    auto* rtm = b.Header<rtmsg>();
    rtm->rtm_family = AF_MPLS;
    rtm->rtm_dst_len = 20;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = protocol;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    std::vector<uint8_t> dst = MplsEncapLabels({label});
    b.Bytes(RTA_DST, dst.data(), dst.size());
    if (r) {
        if (!r->out_labels.empty()) {
            std::vector<uint8_t> out = MplsEncapLabels(r->out_labels);
            b.Bytes(RTA_NEWDST, out.data(), out.size());
        }
        if (!r->via.empty()) {
            // struct rtvia: the family (u16) then the address
            std::vector<uint8_t> via(2 + r->via.size());
            const uint16_t family = Family(r->via);
            std::memcpy(via.data(), &family, 2);
            std::memcpy(via.data() + 2, r->via.bytes.data(), r->via.size());
            b.Bytes(RTA_VIA, via.data(), via.size());
        }
        if (r->oif) b.U32(RTA_OIF, static_cast<uint32_t>(r->oif));
    }
    return b.Done();
}
}  // namespace

Message AddMplsRoute(const MplsRoute& route, bool replace) {
    return MplsRouteMessage(RTM_NEWROUTE,
                            replace ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE
                                    : kCreate,
                            route.label, route.protocol, &route);
}
Message DeleteMplsRoute(uint32_t label, uint8_t protocol) {
    return MplsRouteMessage(RTM_DELROUTE, kModify, label, protocol, nullptr);
}

Message DumpRoutes(uint8_t family) {
    Builder b(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
    b.Header<rtmsg>()->rtm_family = family;
    return b.Done();
}

std::optional<RouteInfo> ParseRoute(std::span<const uint8_t> m) {
    const nlmsghdr* nlh = Check(m, {RTM_NEWROUTE}, sizeof(rtmsg));
    if (!nlh) return std::nullopt;
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    RouteInfo r;
    r.family = rtm->rtm_family;
    r.destination.length = rtm->rtm_dst_len;
    r.destination.address.version = rtm->rtm_family == AF_INET6 ? 6 : 4;
    r.table = rtm->rtm_table;
    r.protocol = rtm->rtm_protocol;
    r.type = rtm->rtm_type;
    ForEachAttr(nlh, sizeof(rtmsg), [&](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
        case RTA_DST:
            if (rtm->rtm_family == AF_MPLS) {
                if (Valid(a, 4)) r.label = ntohl(mnl_attr_get_u32(a)) >> 12;
            } else if (auto ad = AddrFrom(a)) {
                r.destination.address = *ad;
            }
            break;
        case RTA_TABLE:
            if (Valid(a, 4)) r.table = mnl_attr_get_u32(a);
            break;
        case RTA_GATEWAY:
            r.gateway = AddrFrom(a);
            break;
        case RTA_VIA: {  // struct rtvia: u16 family, then the address
            const uint16_t n = mnl_attr_get_payload_len(a);
            const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
            if (n == 6) r.gateway = bgp::IpAddress::V4(p + 2);
            if (n == 18) r.gateway = bgp::IpAddress::V6(p + 2);
            break;
        }
        case RTA_OIF:
            if (Valid(a, 4)) r.oif = static_cast<int32_t>(mnl_attr_get_u32(a));
            break;
        case RTA_MULTIPATH: {
            size_t len = mnl_attr_get_payload_len(a);
            const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
            size_t off = 0;
            while (off + sizeof(rtnexthop) <= len) {
                const auto* nh = reinterpret_cast<const rtnexthop*>(p + off);
                if (nh->rtnh_len < sizeof(rtnexthop)) break;
                ++r.multipath_count;
                off += RTNH_ALIGN(nh->rtnh_len);
            }
            break;
        }
        default:
            break;
        }
    });
    return r;
}

// --- rules ----------------------------------------------------------------

Message AddRule(const Rule& rule) { return RuleMessage(rule, RTM_NEWRULE, kCreate, false); }
Message DeleteRule(const Rule& rule) { return RuleMessage(rule, RTM_DELRULE, kModify, true); }
Message DumpRules(uint8_t family) {
    Builder b(RTM_GETRULE, NLM_F_REQUEST | NLM_F_DUMP);
    b.Header<fib_rule_hdr>()->family = family;
    return b.Done();
}

std::optional<Rule> ParseRule(std::span<const uint8_t> m) {
    const nlmsghdr* nlh = Check(m, {RTM_NEWRULE}, sizeof(fib_rule_hdr));
    if (!nlh) return std::nullopt;
    const auto* h = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(nlh));
    Rule r;
    r.family = h->family;
    r.table = h->table;
    r.unreachable = h->action == FR_ACT_UNREACHABLE;
    ForEachAttr(nlh, sizeof(fib_rule_hdr), [&](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
        case FRA_PRIORITY:
            if (Valid(a, 4)) r.priority = mnl_attr_get_u32(a);
            break;
        case FRA_TABLE:
            if (Valid(a, 4)) r.table = mnl_attr_get_u32(a);
            break;
        case FRA_IIFNAME:
            if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) r.iif = mnl_attr_get_str(a);
            break;
        case FRA_OIFNAME:
            if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) r.oif = mnl_attr_get_str(a);
            break;
        default:
            break;
        }
    });
    return r;
}

// --- neighbours -----------------------------------------------------------

Message AddNeighbour(const Neighbour& n, NeighbourOp op) {
    uint16_t flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
    switch (op) {
    case NeighbourOp::kAdd:
        flags |= NLM_F_EXCL;
        break;
    case NeighbourOp::kReplace:
        flags |= NLM_F_REPLACE;
        break;
    case NeighbourOp::kAppend:
        flags |= NLM_F_APPEND;
        break;
    }
    return NeighbourMessage(n, RTM_NEWNEIGH, flags);
}
Message DeleteNeighbour(const Neighbour& n) {
    return NeighbourMessage(n, RTM_DELNEIGH, kModify);
}
Message DumpNeighbours(uint8_t family, int32_t ifindex) {
    Builder b(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP);
    auto* ndm = b.Header<ndmsg>();
    ndm->ndm_family = family;
    ndm->ndm_ifindex = ifindex;
    return b.Done();
}

std::optional<NeighbourInfo> ParseNeighbour(std::span<const uint8_t> m) {
    const nlmsghdr* nlh = Check(m, {RTM_NEWNEIGH}, sizeof(ndmsg));
    if (!nlh) return std::nullopt;
    const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(nlh));
    NeighbourInfo n;
    n.entry.family = ndm->ndm_family;
    n.entry.ifindex = ndm->ndm_ifindex;
    n.entry.state = ndm->ndm_state;
    n.entry.flags = ndm->ndm_flags;
    ForEachAttr(nlh, sizeof(ndmsg), [&](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
        case NDA_DST:
            if (auto ad = AddrFrom(a)) n.entry.dst = *ad;
            break;
        case NDA_LLADDR:
            if (mnl_attr_get_payload_len(a) == 6) {
                bgp::MacAddress mac;
                std::memcpy(mac.bytes.data(), mnl_attr_get_payload(a), 6);
                n.entry.lladdr = mac;
            }
            break;
        case NDA_VNI:
            if (Valid(a, 4)) n.entry.vni = mnl_attr_get_u32(a);
            break;
        case NDA_MASTER:
            if (Valid(a, 4)) n.master = static_cast<int32_t>(mnl_attr_get_u32(a));
            break;
        default:
            break;
        }
    });
    return n;
}

// --- helpers --------------------------------------------------------------

std::vector<std::span<const uint8_t>> SplitMessages(std::span<const uint8_t> buffer) {
    std::vector<std::span<const uint8_t>> out;
    size_t off = 0;
    while (off + sizeof(nlmsghdr) <= buffer.size()) {
        const auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data() + off);
        if (nlh->nlmsg_len < sizeof(nlmsghdr) || off + nlh->nlmsg_len > buffer.size()) break;
        out.push_back(buffer.subspan(off, nlh->nlmsg_len));
        off += NLMSG_ALIGN(nlh->nlmsg_len);
    }
    return out;
}

std::string MessageTypeName(uint16_t type) {
    switch (type) {
    case NLMSG_ERROR: return "NLMSG_ERROR";
    case NLMSG_DONE: return "NLMSG_DONE";
    case RTM_NEWLINK: return "RTM_NEWLINK";
    case RTM_DELLINK: return "RTM_DELLINK";
    case RTM_GETLINK: return "RTM_GETLINK";
    case RTM_SETLINK: return "RTM_SETLINK";
    case RTM_NEWADDR: return "RTM_NEWADDR";
    case RTM_DELADDR: return "RTM_DELADDR";
    case RTM_NEWROUTE: return "RTM_NEWROUTE";
    case RTM_DELROUTE: return "RTM_DELROUTE";
    case RTM_GETROUTE: return "RTM_GETROUTE";
    case RTM_NEWNEIGH: return "RTM_NEWNEIGH";
    case RTM_DELNEIGH: return "RTM_DELNEIGH";
    case RTM_GETNEIGH: return "RTM_GETNEIGH";
    case RTM_NEWRULE: return "RTM_NEWRULE";
    case RTM_DELRULE: return "RTM_DELRULE";
    case RTM_GETRULE: return "RTM_GETRULE";
    default: return fmt::format("{}", type);
    }
}

}  // namespace bagpipe::dataplane::netlink
