// IpvpnLinuxDriver (ipvpn_linux_driver.h).
#include "dataplane/linux/ipvpn_linux_driver.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "dataplane/driver_options.h"

namespace bagpipe::dataplane {

namespace nl = netlink;
using json = nlohmann::json;

namespace {

constexpr uint32_t kUnreachableMetric = 0xffffffff;
constexpr uint8_t kAfInet = 2;
constexpr uint8_t kAfInet6 = 10;

uint8_t FamilyOf(const bgp::IpAddress& a) { return a.is_v6() ? kAfInet6 : kAfInet; }

bgp::Prefix HostPrefixOf(const bgp::IpAddress& a) { return bgp::Prefix{a, a.is_v6() ? uint8_t{128} : uint8_t{32}}; }

bgp::Prefix DefaultOf(uint8_t version) {
    bgp::Prefix p;
    p.address.version = version;
    return p;
}

// The router MAC for a local address: 02:bb and the IPv4 octets (or the last
// four of an IPv6 address).
bgp::MacAddress DefaultRouterMac(const bgp::IpAddress& local) {
    bgp::MacAddress m;
    m.bytes = {0x02, 0xbb, 0, 0, 0, 0};
    if (!local.empty()) {
        const size_t off = local.size() - 4;
        for (size_t i = 0; i < 4; ++i) m.bytes[2 + i] = local.bytes[off + i];
    }
    return m;
}

// Errors that mean "already in the state asked for", by request type.
bool Benign(uint16_t type, int error) {
    const bool is_delete = type == 17 /*RTM_DELLINK*/ || type == 21 /*RTM_DELADDR*/ ||
                           type == 25 /*RTM_DELROUTE*/ || type == 29 /*RTM_DELNEIGH*/ ||
                           type == 33 /*RTM_DELRULE*/;
    if (is_delete) return error == ENOENT || error == ESRCH || error == ENODEV || error == EADDRNOTAVAIL;
    return error == EEXIST;
}

// The gateway's `local` route in a VRF table: delivered to the host only for
// packets looked up in that table (isolate_gateways).
nl::Route GatewayLocalRoute(const bgp::IpAddress& gw, uint32_t table, int32_t port_index) {
    nl::Route r;
    r.destination = HostPrefixOf(gw);
    r.table = table;
    r.type = nl::RouteType::kLocal;
    r.next_hops.push_back(nl::NextHop{{}, port_index, false, 1, {}});
    return r;
}

// `rule add|del [-6] [pref P] [iif X] [oif Y] lookup T | unreachable`.
nl::Request RuleRequest(const nl::Rule& r, bool add, bool with_priority) {
    std::string text = fmt::format("rule {} ", add ? "add" : "del");
    if (r.family == kAfInet6) text += "-6 ";
    if (with_priority) text += fmt::format("pref {} ", r.priority);
    if (!r.iif.empty()) text += fmt::format("iif {} ", r.iif);
    if (!r.oif.empty()) text += fmt::format("oif {} ", r.oif);
    text += r.unreachable ? std::string("unreachable") : fmt::format("lookup {}", r.table);
    return {add ? nl::AddRule(r) : nl::DeleteRule(r), std::move(text)};
}

// A VRF table's `unreachable default` of the highest metric (no fall-through
// to the main table).
nl::Request UnreachableDefault(uint8_t version, uint32_t table, bool add) {
    nl::Route r;
    r.destination = DefaultOf(version);
    r.table = table;
    r.type = nl::RouteType::kUnreachable;
    r.metric = kUnreachableMetric;
    if (add)
        return {nl::AddRoute(r, true), fmt::format("route replace unreachable {} table {} metric {}",
                                                   r.destination.ToString(), table, kUnreachableMetric)};
    return {nl::DeleteRoute(r),
            fmt::format("route del unreachable {} table {}", r.destination.ToString(), table)};
}

std::string SysctlName(const std::string& ifname) {
    std::string n = ifname;
    std::replace(n.begin(), n.end(), '.', '/');
    return n;
}

}  // namespace

// ---------------------------------------------------------------------------
// Options.

std::string_view IpvpnLinuxModeName(IpvpnLinuxMode mode) {
    switch (mode) {
        case IpvpnLinuxMode::kAuto: return "auto";
        case IpvpnLinuxMode::kTables: return "tables";
        case IpvpnLinuxMode::kVrf: return "vrf";
    }
    return "?";
}

DataplaneResult<IpvpnLinuxOptions> IpvpnLinuxOptions::FromConfig(
    const config::DataplaneDriverConfig& c) {
    IpvpnLinuxOptions o;
    o.local_address = c.local_address;
    o.config = c.options;
    o.config["dataplane_driver"] = c.configured_driver;
    options::Reader r(c.options);
    if (auto v = r.String("mode")) {
        std::string m = *v;
        std::transform(m.begin(), m.end(), m.begin(), [](unsigned char ch) { return std::tolower(ch); });
        if (m == "auto") o.mode = IpvpnLinuxMode::kAuto;
        else if (m == "tables") o.mode = IpvpnLinuxMode::kTables;
        else if (m == "vrf") o.mode = IpvpnLinuxMode::kVrf;
        else return DataplaneStatus::InvalidArgument(fmt::format("mode = {}: not one of auto, tables, vrf", *v));
    }
    if (auto v = r.String("mpls_interface")) o.mpls_interface = *v;
    if (auto v = r.Uint("vxlan_dst_port", 1, 65535)) o.vxlan_dst_port = static_cast<uint16_t>(*v);
    if (auto v = r.Uint("table_base", 256, 0x7f000000)) o.table_base = static_cast<uint32_t>(*v);
    if (auto v = r.Uint("rule_priority", 1, 32765)) o.rule_priority = static_cast<uint32_t>(*v);
    if (auto v = r.Bool("proxy_arp")) o.proxy_arp = *v;
    if (auto v = r.Bool("reconcile")) o.reconcile = *v;
    if (auto v = r.Bool("isolate_gateways")) o.isolate_gateways = *v;
    if (auto v = r.Uint("reconcile_grace", 0, 86400)) o.reconcile_grace = std::chrono::seconds(*v);
    o.router_mac = DefaultRouterMac(o.local_address);
    if (auto v = r.Mac("router_mac")) o.router_mac = *v;
    if (!r.error().empty()) return DataplaneStatus::InvalidArgument(r.error());
    if (o.local_address.empty())
        return DataplaneStatus::InvalidArgument(
            "dataplane_local_address (or [BGP] local_address) is required by the linux driver");
    return o;
}

// ---------------------------------------------------------------------------
// The real kernel.

namespace {

class LinuxKernelAccess final : public KernelAccess {
public:
    LinuxKernelAccess(nl::NetlinkSocket sync, std::unique_ptr<nl::AsyncNetlink> async,
                      std::string sysctl_root)
        : sync_(std::move(sync)), async_(std::move(async)), sysctl_root_(std::move(sysctl_root)) {}

    std::optional<int32_t> IndexOf(std::string_view name) override {
        return nl::ResolveIndex(sync_, name);
    }
    std::vector<nl::LinkInfo> Links() override { return nl::ListLinks(sync_); }
    std::vector<nl::RouteInfo> Routes(uint8_t family) override {
        std::vector<nl::RouteInfo> out;
        for (auto& r : sync_.Transact(nl::Request{nl::DumpRoutes(family), "route dump"}).replies)
            if (auto p = nl::ParseRoute(r)) out.push_back(std::move(*p));
        return out;
    }
    std::vector<nl::Rule> Rules(uint8_t family) override {
        std::vector<nl::Rule> out;
        for (auto& r : sync_.Transact(nl::Request{nl::DumpRules(family), "rule dump"}).replies)
            if (auto p = nl::ParseRule(r)) out.push_back(std::move(*p));
        return out;
    }
    std::vector<nl::Result> Transact(std::vector<nl::Request> batch) override {
        return sync_.Transact(std::move(batch));
    }
    nl::RequestSink& Async() override { return *async_; }
    bool WriteSysctl(const std::string& path, const std::string& value,
                     std::string* error) override {
        const std::string file = sysctl_root_ + "/" + path;
        std::ofstream f(file);
        if (f) f << value;
        if (f) f.flush();
        if (!f) {
            if (error) *error = fmt::format("{}: {}", file, std::strerror(errno));
            return false;
        }
        return true;
    }
    nl::KernelFeatures Features() override { return nl::ProbeKernelFeatures(sync_); }

private:
    nl::NetlinkSocket sync_;
    std::unique_ptr<nl::AsyncNetlink> async_;
    std::string sysctl_root_;
};

}  // namespace

std::unique_ptr<KernelAccess> MakeLinuxKernelAccess(boost::asio::io_context& io,
                                                    std::string* error) {
    auto sync = nl::NetlinkSocket::Open();
    auto async = nl::NetlinkSocket::Open();
    if (!sync || !async) {
        if (error) *error = !sync ? sync.status().message() : async.status().message();
        return nullptr;
    }
    return MakeLinuxKernelAccess(io, std::move(sync).value(), std::move(async).value(), "/proc/sys");
}

std::unique_ptr<KernelAccess> MakeLinuxKernelAccess(boost::asio::io_context& io,
                                                    nl::NetlinkSocket sync, nl::NetlinkSocket async,
                                                    std::string sysctl_root) {
    return std::make_unique<LinuxKernelAccess>(
        std::move(sync), std::make_unique<nl::AsyncNetlink>(io, std::move(async)),
        std::move(sysctl_root));
}

// ---------------------------------------------------------------------------
// The instance.

// IpvpnLinuxInstance — one VRF (see the top of ipvpn_linux_driver.h), in the
// driver's mode: the per-port and per-route steps of both modes share this
// class and differ only where the kernel objects do (device, port rules or
// enslaving, next hops, MPLS routes).
// Invariants: dev_index_ is the device's index (vrfvx-N or bvrf-N); ports_
// holds every port with at least one plugged endpoint, with the gateways
// its endpoints use (reference counted); gateway_ports_ lists, per gateway
// address, the ports holding it; pes_ counts, per remote PE, the prefixes
// routed through it (tables mode); every route in remotes_ is installed with
// all its next hops. Executor: the driver's.
class IpvpnLinuxInstance final : public VpnInstanceDataplane {
public:
    IpvpnLinuxInstance(IpvpnLinuxDriver& driver, InstanceConfig config, int32_t dev_index)
        : driver_(driver), config_(std::move(config)), dev_index_(dev_index),
          table_(driver.TableOf(config_.instance_id)), vrf_(driver.vrf_mode()),
          dev_name_(driver.DeviceName(config_.instance_id)) {}
    ~IpvpnLinuxInstance() override { driver_.Forget(config_.instance_id); }

    DataplaneStatus VifPlugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                               const LocalPort& port, uint32_t label,
                               Direction direction) override;
    DataplaneStatus VifUnplugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                                 const LocalPort& port, uint32_t label, Direction direction,
                                 bool last_endpoint) override;
    DataplaneStatus SetupRemoteEndpoint(const RemoteEndpoint& endpoint) override;
    DataplaneStatus RemoveRemoteEndpoint(const RemoteEndpoint& endpoint) override;
    DataplaneStatus UpdateFallback(const std::optional<Fallback>&) override {
        return DataplaneStatus::NotSupported("the linux driver has no fallback");
    }
    DataplaneStatus Cleanup() override;
    DataplaneStatus AddTrafficClassifier(const TrafficClassifier&, uint32_t) override {
        return DataplaneStatus::NotSupported("the linux driver has no traffic classifiers");
    }
    DataplaneStatus RemoveTrafficClassifier(const TrafficClassifier&) override {
        return DataplaneStatus::NotSupported("the linux driver has no traffic classifiers");
    }
    DataplaneStatus AddBumEndpoint(const BumEndpoint&) override {
        return DataplaneStatus::NotSupported("E-VPN only");
    }
    DataplaneStatus RemoveBumEndpoint(const BumEndpoint&) override {
        return DataplaneStatus::NotSupported("E-VPN only");
    }
    DataplaneStatus SetGatewayPort(std::string_view, const bgp::IpAddress&) override {
        return DataplaneStatus::NotSupported("E-VPN only");
    }
    DataplaneStatus GatewayPortDown(std::string_view) override {
        return DataplaneStatus::NotSupported("E-VPN only");
    }
    json ToJson() const override;

    // For the reconcile pass.
    bool WantsRoute(const nl::RouteInfo& r) const;
    bool WantsRule(const nl::Rule& r) const;

private:
    struct Port {
        int32_t index = 0;
        size_t endpoints = 0;
        bool rules = false;                        // iif rules installed (tables mode)
        std::map<bgp::Prefix, size_t> gateways;    // gateway/len → endpoints using it
    };
    struct PeState {
        bgp::MacAddress router_mac;
        uint32_t vni = 0;
        size_t refs = 0;
    };
    using EndpointKey = std::tuple<bgp::MacAddress, bgp::IpAddress, std::string>;
    struct EndpointState {
        Direction direction = Direction::kBoth;
        uint32_t label = 0;
        std::optional<bgp::Prefix> gateway;
    };
    using Batch = std::vector<nl::Request>;

    std::optional<bgp::Prefix> GatewayOf(const LocalPort& port, const bgp::IpAddress& ip) const;
    void GatewayRef(Port& p, const std::string& ifname, const bgp::Prefix& gw, Batch& out);
    void GatewayUnref(Port& p, const std::string& ifname, const bgp::Prefix& gw, Batch& out);
    void EndpointRequests(const EndpointKey& key, const EndpointState& s, int32_t port_index,
                          bool add, Batch& out);
    void ReleasePort(std::map<std::string, Port>::iterator it, Batch& out);
    nl::Route RemoteRoute(const bgp::Prefix& prefix) const;
    // Whether a local endpoint's host route holds `prefix` in the table. A
    // local route and remote ones for one prefix share the table's single
    // slot for it: the local one wins (its plug replaces the remote route,
    // removing a remote route leaves it, and its unplug puts the remote
    // route back when remote next hops remain).
    bool LocalRouteAt(const bgp::Prefix& prefix) const;
    void CountLocal(const EndpointKey& key, const EndpointState& s, bool add);
    void PeRef(const bgp::IpAddress& pe, const bgp::MacAddress& mac, uint32_t vni, Batch& out);
    void PeUnref(const bgp::IpAddress& pe, Batch& out);
    std::vector<nl::Request> PortRules(const std::string& ifname, bool add) const;

    IpvpnLinuxDriver& driver_;
    InstanceConfig config_;
    int32_t dev_index_;
    uint32_t table_;
    bool vrf_;
    std::string dev_name_;
    bool cleaned_ = false;
    std::map<std::string, Port> ports_;
    std::map<EndpointKey, EndpointState> endpoints_;
    // addresses whose host route is a local port's (endpoints with an IP,
    // direction both/to-port) → how many such endpoints
    std::map<bgp::IpAddress, size_t> local_ips_;
    std::map<bgp::IpAddress, std::set<std::string>> gateway_ports_;
    // prefix → remote PE → label (VNI in tables mode)
    std::map<bgp::Prefix, std::map<bgp::IpAddress, uint32_t>> remotes_;
    std::map<bgp::IpAddress, PeState> pes_;
};

std::vector<nl::Request> IpvpnLinuxInstance::PortRules(const std::string& ifname, bool add) const {
    std::vector<nl::Request> out;
    for (uint8_t fam : {kAfInet, kAfInet6}) {
        nl::Rule rule;
        rule.family = fam;
        rule.priority = driver_.options().rule_priority;
        rule.iif = ifname;
        rule.table = table_;
        out.push_back(RuleRequest(rule, add, false));
    }
    return out;
}

// The gateway an endpoint's port serves: the attach's, or the instance's
// (first attach) when the caller gave none; only of the endpoint's family.
std::optional<bgp::Prefix> IpvpnLinuxInstance::GatewayOf(const LocalPort& port,
                                                         const bgp::IpAddress& ip) const {
    bgp::Prefix gw = port.gateway;
    if (gw.address.empty()) gw = bgp::Prefix{config_.gateway_ip, config_.gateway_prefix_length};
    if (gw.address.empty() || gw.address.version != (ip.empty() ? 4 : ip.version)) return std::nullopt;
    return gw;
}

void IpvpnLinuxInstance::GatewayRef(Port& p, const std::string& ifname, const bgp::Prefix& gw,
                                    Batch& out) {
    if (p.gateways[gw]++ > 0) return;
    const std::string gw_text = fmt::format("{}/{}", gw.address.ToString(), gw.length);
    out.push_back({nl::AddAddress(p.index, gw), fmt::format("addr add {} dev {}", gw_text, ifname)});
    auto& holders = gateway_ports_[gw.address];
    holders.insert(ifname);
    // tables mode: the gateway's local route in the VRF's table (with VRF
    // devices the kernel puts it there itself)
    if (!vrf_ && driver_.options().isolate_gateways && holders.size() == 1)
        out.push_back({nl::AddRoute(GatewayLocalRoute(gw.address, table_, p.index), true),
                       fmt::format("route replace local {} dev {} table {}", gw.address.ToString(),
                                   ifname, table_)});
}

void IpvpnLinuxInstance::GatewayUnref(Port& p, const std::string& ifname, const bgp::Prefix& gw,
                                      Batch& out) {
    auto it = p.gateways.find(gw);
    if (it == p.gateways.end() || --it->second > 0) return;
    p.gateways.erase(it);
    auto& holders = gateway_ports_[gw.address];
    holders.erase(ifname);
    if (!vrf_ && driver_.options().isolate_gateways) {
        if (holders.empty()) {
            out.push_back({nl::DeleteRoute(GatewayLocalRoute(gw.address, table_, p.index)),
                           fmt::format("route del local {} table {}", gw.address.ToString(), table_)});
        } else {  // another port still has it: the local route moves there
            const std::string& other = *holders.begin();
            out.push_back({nl::AddRoute(GatewayLocalRoute(gw.address, table_, ports_.at(other).index), true),
                           fmt::format("route replace local {} dev {} table {}",
                                       gw.address.ToString(), other, table_)});
        }
    }
    if (holders.empty()) gateway_ports_.erase(gw.address);
    out.push_back({nl::DeleteAddress(p.index, gw),
                   fmt::format("addr del {}/{} dev {}", gw.address.ToString(), gw.length, ifname)});
}

// The objects of one endpoint towards its port (direction both/to-port):
// host route, neighbour entry and, in vrf mode, the MPLS route of its label
// (on removal, handed to another endpoint with the same label if any).
void IpvpnLinuxInstance::EndpointRequests(const EndpointKey& key, const EndpointState& s,
                                          int32_t port_index, bool add, Batch& out) {
    const auto& [mac, ip, ifname] = key;
    if (ip.empty() || s.direction == Direction::kFromPort) return;
    nl::Route route;
    route.destination = HostPrefixOf(ip);
    route.table = table_;
    route.next_hops.push_back(nl::NextHop{{}, port_index, false, 1, {}});
    nl::Neighbour n;
    n.family = FamilyOf(ip);
    n.ifindex = port_index;
    n.dst = ip;
    if (add) {
        out.push_back({nl::AddRoute(route, true),
                       fmt::format("route replace {} dev {} table {}", route.destination.ToString(),
                                   ifname, table_)});
        n.lladdr = mac;
        out.push_back({nl::AddNeighbour(n, nl::NeighbourOp::kReplace),
                       fmt::format("neigh replace {} lladdr {} dev {}", ip.ToString(),
                                   mac.ToString(), ifname)});
    } else {
        auto remote = remotes_.find(route.destination);
        if (LocalRouteAt(route.destination)) {
            // another local endpoint of the same address keeps its route
        } else if (remote != remotes_.end() && !remote->second.empty()) {
            // remote next hops for the same address remain: their route comes back
            nl::Route back = RemoteRoute(route.destination);
            out.push_back({nl::AddRoute(back, true),
                           fmt::format("route replace {} table {} ({} next hop(s))",
                                       route.destination.ToString(), table_, back.next_hops.size())});
        } else {
            out.push_back({nl::DeleteRoute(route),
                           fmt::format("route del {} table {}", route.destination.ToString(), table_)});
        }
        out.push_back({nl::DeleteNeighbour(n), fmt::format("neigh del {} dev {}", ip.ToString(), ifname)});
    }
    if (!vrf_) return;
    const EndpointKey* via = add ? &key : nullptr;
    if (!add)  // another endpoint with this label keeps it
        for (const auto& [k, o] : endpoints_)
            if (k != key && o.label == s.label && o.direction != Direction::kFromPort &&
                !std::get<1>(k).empty() && ports_.count(std::get<2>(k)))
                via = &k;
    if (via) {
        nl::MplsRoute m;
        m.label = s.label;
        m.via = std::get<1>(*via);
        m.oif = ports_.at(std::get<2>(*via)).index;
        out.push_back({nl::AddMplsRoute(m, true),
                       fmt::format("mpls route replace {} via {} dev {}", s.label,
                                   m.via.ToString(), std::get<2>(*via))});
    } else {
        out.push_back({nl::DeleteMplsRoute(s.label), fmt::format("mpls route del {}", s.label)});
    }
}

// The port's last endpoint went: its gateways, rules (tables) or VRF
// membership (vrf) go.
void IpvpnLinuxInstance::ReleasePort(std::map<std::string, Port>::iterator it, Batch& out) {
    const std::string& ifname = it->first;
    Port& p = it->second;
    while (!p.gateways.empty()) {
        const bgp::Prefix gw = p.gateways.begin()->first;
        p.gateways.begin()->second = 1;
        GatewayUnref(p, ifname, gw, out);
    }
    if (p.rules)
        for (auto& r : PortRules(ifname, false)) out.push_back(std::move(r));
    if (vrf_)
        out.push_back({nl::SetLinkMaster(nl::LinkRef::ByIndex(p.index), 0),
                       fmt::format("link set {} nomaster", ifname)});
    ports_.erase(it);
}

DataplaneStatus IpvpnLinuxInstance::VifPlugged(const bgp::MacAddress& mac,
                                               const bgp::IpAddress& ip, const LocalPort& port,
                                               uint32_t label, Direction direction) {
    if (cleaned_) return DataplaneStatus::FailedPrecondition("instance cleaned up");
    if (port.linuxif.empty()) return DataplaneStatus::InvalidArgument("local_port.linuxif is required");
    if (vrf_ && (label < 16 || label > 0xfffff))
        return DataplaneStatus::InvalidArgument(fmt::format("MPLS label {} out of range 16..1048575", label));
    Batch batch;
    auto it = ports_.find(port.linuxif);
    if (it == ports_.end()) {
        auto index = driver_.kernel().IndexOf(port.linuxif);
        if (!index)
            return DataplaneStatus::InvalidArgument(
                fmt::format("interface {} does not exist", port.linuxif));
        it = ports_.emplace(port.linuxif, Port{*index, 0, false, {}}).first;
        if (vrf_)  // first: enslaving cycles the port (flushes its routes and neighbours)
            batch.push_back({nl::SetLinkMaster(nl::LinkRef::ByIndex(*index), dev_index_),
                             fmt::format("link set {} master {}", port.linuxif, dev_name_)});
    }
    Port& p = it->second;
    const EndpointKey key{mac, ip, port.linuxif};
    EndpointState state{direction, label, GatewayOf(port, ip)};
    bool new_gateway = true;
    auto old = endpoints_.find(key);
    if (old == endpoints_.end()) {
        ++p.endpoints;
    } else if (old->second.gateway == state.gateway) {
        new_gateway = false;  // a re-plug: its gateway is referenced already
    } else if (old->second.gateway) {
        GatewayUnref(p, port.linuxif, *old->second.gateway, batch);
    }
    if (old != endpoints_.end()) CountLocal(key, old->second, false);
    endpoints_[key] = state;
    CountLocal(key, state, true);
    batch.push_back({nl::SetLinkUp(nl::LinkRef::ByIndex(p.index), true),
                     fmt::format("link set {} up", port.linuxif)});
    if (state.gateway && new_gateway) GatewayRef(p, port.linuxif, *state.gateway, batch);
    if (!vrf_ && direction != Direction::kToPort && !p.rules) {
        for (auto& r : PortRules(port.linuxif, true)) batch.push_back(std::move(r));
        p.rules = true;
    }
    EndpointRequests(key, state, p.index, true, batch);
    driver_.Submit(std::move(batch));
    if (driver_.options().proxy_arp && (ip.empty() || ip.is_v4())) {
        std::string error;
        if (!driver_.kernel().WriteSysctl(
                fmt::format("net/ipv4/conf/{}/proxy_arp", SysctlName(port.linuxif)), "1", &error))
            driver_.RecordError(error);
    }
    return {};
}

DataplaneStatus IpvpnLinuxInstance::VifUnplugged(const bgp::MacAddress& mac,
                                                 const bgp::IpAddress& ip, const LocalPort& port,
                                                 uint32_t /*label*/, Direction /*direction*/,
                                                 bool last_endpoint) {
    if (cleaned_) return {};
    auto it = ports_.find(port.linuxif);
    if (it == ports_.end()) return {};
    Port& p = it->second;
    Batch batch;
    auto e = endpoints_.find({mac, ip, port.linuxif});
    if (e != endpoints_.end()) {
        const EndpointKey key = e->first;
        const EndpointState state = e->second;
        endpoints_.erase(e);
        CountLocal(key, state, false);
        if (p.endpoints > 0) --p.endpoints;
        EndpointRequests(key, state, p.index, false, batch);
        if (state.gateway) GatewayUnref(p, port.linuxif, *state.gateway, batch);
    }
    if (last_endpoint || p.endpoints == 0) ReleasePort(it, batch);
    driver_.Submit(std::move(batch));
    return {};
}

nl::Route IpvpnLinuxInstance::RemoteRoute(const bgp::Prefix& prefix) const {
    nl::Route route;
    route.destination = prefix;
    route.table = table_;
    auto it = remotes_.find(prefix);
    if (it == remotes_.end()) return route;
    for (const auto& [pe, label] : it->second) {
        if (!vrf_) {
            route.next_hops.push_back(nl::NextHop{pe, dev_index_, true, 1, {}});
        } else if (pe == driver_.options().local_address) {
            // another VRF of this host: the labelled packet loops through lo
            route.next_hops.push_back(
                nl::NextHop{*bgp::IpAddress::Parse("127.0.0.1"), driver_.lo_index(), false, 1, {label}});
        } else {
            route.next_hops.push_back(nl::NextHop{pe, driver_.mpls_index(), true, 1, {label}});
        }
    }
    return route;
}
void IpvpnLinuxInstance::PeRef(const bgp::IpAddress& pe, const bgp::MacAddress& mac, uint32_t vni,
                               std::vector<nl::Request>& out) {
    PeState& s = pes_[pe];
    const bool changed = s.refs == 0 || s.router_mac != mac || s.vni != vni;
    ++s.refs;
    if (!changed) return;
    if (s.refs > 1 && s.router_mac != mac) {
        // the PE's router MAC changed: the old FDB entry goes
        nl::Neighbour old;
        old.family = nl::kFamilyBridge;
        old.ifindex = dev_index_;
        old.lladdr = s.router_mac;
        old.dst = pe;
        old.flags = nl::kNtfSelf;
        out.push_back({nl::DeleteNeighbour(old), fmt::format("fdb del {} dev {} dst {}",
                                                              s.router_mac.ToString(), dev_name_,
                                                              pe.ToString())});
    }
    s.router_mac = mac;
    s.vni = vni;
    nl::Neighbour fdb;
    fdb.family = nl::kFamilyBridge;
    fdb.ifindex = dev_index_;
    fdb.lladdr = mac;
    fdb.dst = pe;
    fdb.vni = vni;
    fdb.flags = nl::kNtfSelf;
    out.push_back({nl::AddNeighbour(fdb, nl::NeighbourOp::kReplace),
                   fmt::format("fdb replace {} dev {} dst {} vni {} self permanent", mac.ToString(),
                               dev_name_, pe.ToString(), vni)});
    nl::Neighbour neigh;
    neigh.family = FamilyOf(pe);
    neigh.ifindex = dev_index_;
    neigh.lladdr = mac;
    neigh.dst = pe;
    out.push_back({nl::AddNeighbour(neigh, nl::NeighbourOp::kReplace),
                   fmt::format("neigh replace {} lladdr {} dev {} nud permanent", pe.ToString(),
                               mac.ToString(), dev_name_)});
}

void IpvpnLinuxInstance::PeUnref(const bgp::IpAddress& pe, std::vector<nl::Request>& out) {
    auto it = pes_.find(pe);
    if (it == pes_.end()) return;
    if (--it->second.refs > 0) return;
    nl::Neighbour neigh;
    neigh.family = FamilyOf(pe);
    neigh.ifindex = dev_index_;
    neigh.dst = pe;
    out.push_back({nl::DeleteNeighbour(neigh),
                   fmt::format("neigh del {} dev {}", pe.ToString(), dev_name_)});
    nl::Neighbour fdb;
    fdb.family = nl::kFamilyBridge;
    fdb.ifindex = dev_index_;
    fdb.lladdr = it->second.router_mac;
    fdb.dst = pe;
    fdb.flags = nl::kNtfSelf;
    out.push_back({nl::DeleteNeighbour(fdb), fmt::format("fdb del {} dev {} dst {}",
                                                          it->second.router_mac.ToString(),
                                                          dev_name_, pe.ToString())});
    pes_.erase(it);
}


DataplaneStatus IpvpnLinuxInstance::SetupRemoteEndpoint(const RemoteEndpoint& e) {
    if (cleaned_) return DataplaneStatus::FailedPrecondition("instance cleaned up");
    if (vrf_) {
        if (!e.encaps.contains(Encapsulation::kMpls) && !e.encaps.contains(Encapsulation::kDefault))
            return DataplaneStatus::InvalidArgument(
                fmt::format("{}: the linux driver (vrf mode) routes over MPLS only", e.nlri));
        if (e.label > 0xfffff)
            return DataplaneStatus::InvalidArgument(fmt::format("{}: label {} out of range", e.nlri, e.label));
    } else {
        if (!e.encaps.contains(Encapsulation::kVxlan))
            return DataplaneStatus::InvalidArgument(
                fmt::format("{}: the linux driver routes over VXLAN only", e.nlri));
        if (!e.router_mac)
            return DataplaneStatus::InvalidArgument(
                fmt::format("{}: no router's MAC extended community: cannot route over VXLAN", e.nlri));
    }
    if (e.remote_pe.empty() || e.prefix.address.empty())
        return DataplaneStatus::InvalidArgument(fmt::format("{}: no prefix or next hop", e.nlri));
    Batch batch;
    auto& hops = remotes_[e.prefix];
    if (!vrf_) {
        if (hops.count(e.remote_pe)) {
            // same next hop again (attributes changed): re-reference with the new MAC/VNI
            PeUnref(e.remote_pe, batch);
            batch.clear();
        }
        PeRef(e.remote_pe, *e.router_mac, e.label, batch);
    }
    hops[e.remote_pe] = e.label;
    if (LocalRouteAt(e.prefix)) {  // a local endpoint holds the address: its route stays
        driver_.Submit(std::move(batch));
        return {};
    }
    nl::Route route = RemoteRoute(e.prefix);
    batch.push_back({nl::AddRoute(route, true),
                     fmt::format("route replace {} table {} ({} next hop(s), last via {}{} dev {})",
                                 e.prefix.ToString(), table_, route.next_hops.size(),
                                 e.remote_pe.ToString(),
                                 vrf_ ? fmt::format(" encap mpls {}", e.label) : "",
                                 vrf_ ? (e.remote_pe == driver_.options().local_address
                                             ? std::string("lo")
                                             : driver_.options().mpls_interface)
                                      : dev_name_)});
    driver_.Submit(std::move(batch));
    return {};
}

DataplaneStatus IpvpnLinuxInstance::RemoveRemoteEndpoint(const RemoteEndpoint& e) {
    if (cleaned_) return {};
    auto it = remotes_.find(e.prefix);
    if (it == remotes_.end() || !it->second.count(e.remote_pe)) return {};
    it->second.erase(e.remote_pe);
    Batch batch;
    if (LocalRouteAt(e.prefix)) {
        // the table's route for this address is a local endpoint's: it stays
        if (it->second.empty()) remotes_.erase(it);
    } else if (it->second.empty()) {
        remotes_.erase(it);
        nl::Route route;
        route.destination = e.prefix;
        route.table = table_;
        batch.push_back({nl::DeleteRoute(route),
                         fmt::format("route del {} table {}", e.prefix.ToString(), table_)});
    } else {
        nl::Route route = RemoteRoute(e.prefix);
        batch.push_back({nl::AddRoute(route, true),
                         fmt::format("route replace {} table {} ({} next hop(s))",
                                     e.prefix.ToString(), table_, route.next_hops.size())});
    }
    PeUnref(e.remote_pe, batch);
    driver_.Submit(std::move(batch));
    return {};
}

DataplaneStatus IpvpnLinuxInstance::Cleanup() {
    if (cleaned_) return {};
    cleaned_ = true;
    Batch batch;
    for (const auto& [prefix, hops] : remotes_) {
        nl::Route route;
        route.destination = prefix;
        route.table = table_;
        batch.push_back({nl::DeleteRoute(route),
                         fmt::format("route del {} table {}", prefix.ToString(), table_)});
    }
    remotes_.clear();
    pes_.clear();  // their entries go with the device
    while (!endpoints_.empty()) {
        const auto [key, state] = *endpoints_.begin();
        endpoints_.erase(endpoints_.begin());
        CountLocal(key, state, false);
        auto p = ports_.find(std::get<2>(key));
        if (p != ports_.end()) EndpointRequests(key, state, p->second.index, false, batch);
    }
    while (!ports_.empty()) ReleasePort(ports_.begin(), batch);
    for (const nl::Rule& r : driver_.DeviceRules(config_.instance_id))
        batch.push_back(RuleRequest(r, false, false));
    for (uint8_t v : {uint8_t{4}, uint8_t{6}})
        batch.push_back(UnreachableDefault(v, table_, false));
    batch.push_back({nl::DeleteLink(nl::LinkRef::ByName(dev_name_)), "link del " + dev_name_});
    driver_.Submit(std::move(batch));
    return {};
}

bool IpvpnLinuxInstance::LocalRouteAt(const bgp::Prefix& prefix) const {
    return prefix.length == (prefix.address.is_v6() ? 128 : 32) && local_ips_.count(prefix.address);
}

void IpvpnLinuxInstance::CountLocal(const EndpointKey& key, const EndpointState& s, bool add) {
    const bgp::IpAddress& ip = std::get<1>(key);
    if (ip.empty() || s.direction == Direction::kFromPort) return;
    if (add) {
        ++local_ips_[ip];
    } else if (auto it = local_ips_.find(ip); it != local_ips_.end() && --it->second == 0) {
        local_ips_.erase(it);
    }
}

bool IpvpnLinuxInstance::WantsRoute(const nl::RouteInfo& r) const {
    if (r.family == nl::kFamilyMpls) {
        if (!vrf_) return false;
        for (const auto& [key, s] : endpoints_)
            if (s.label == r.label && s.direction != Direction::kFromPort && !std::get<1>(key).empty())
                return true;
        return false;
    }
    if (r.table != table_) return false;
    if (r.type == static_cast<uint8_t>(nl::RouteType::kUnreachable) && r.destination.length == 0)
        return true;
    if (remotes_.count(r.destination)) return true;
    if (r.type == static_cast<uint8_t>(nl::RouteType::kLocal))
        for (const auto& [gw, holders] : gateway_ports_)
            if (r.destination == HostPrefixOf(gw)) return true;
    for (const auto& [key, s] : endpoints_)
        if (!std::get<1>(key).empty() && HostPrefixOf(std::get<1>(key)) == r.destination) return true;
    return false;
}

bool IpvpnLinuxInstance::WantsRule(const nl::Rule& r) const {
    for (const nl::Rule& mine : driver_.DeviceRules(config_.instance_id))
        if (r == mine) return true;
    if (r.table != table_) return false;
    auto p = ports_.find(r.iif);
    return p != ports_.end() && p->second.rules;
}

json IpvpnLinuxInstance::ToJson() const {
    json ports = json::object();
    for (const auto& [name, p] : ports_) {
        json gws = json::array();
        for (const auto& [gw, n] : p.gateways) gws.push_back(fmt::format("{}/{}", gw.address.ToString(), gw.length));
        ports[name] = {{"ifindex", p.index}, {"endpoints", p.endpoints}, {"rules", p.rules},
                       {"gateways", gws}};
    }
    json routes = json::array();
    for (const auto& [prefix, hops] : remotes_) {
        json nh = json::array();
        for (const auto& [pe, label] : hops)
            nh.push_back({{"via", pe.ToString()}, {vrf_ ? "label" : "vni", label}});
        routes.push_back({{"prefix", prefix.ToString()}, {"next_hops", nh}});
    }
    json pes = json::object();
    for (const auto& [pe, s] : pes_)
        pes[pe.ToString()] = {{"router_mac", s.router_mac.ToString()}, {"vni", s.vni}, {"prefixes", s.refs}};
    json gateways = json::array();
    for (const auto& [gw, holders] : gateway_ports_) gateways.push_back(gw.ToString());
    json j{
        {"mode", vrf_ ? "vrf" : "tables"},
        {"table", table_},
        {"gateway", config_.gateway_ip.empty() ? json(nullptr)
                                               : json(fmt::format("{}/{}", config_.gateway_ip.ToString(),
                                                                  config_.gateway_prefix_length))},
        {"gateways", gateways},
        {"ports", ports},
        {"routes", routes},
        {"cleaned_up", cleaned_},
    };
    if (vrf_) {
        j["vrf_if"] = dev_name_;
        json labels = json::object();
        for (const auto& [key, s] : endpoints_)
            if (s.direction != Direction::kFromPort && !std::get<1>(key).empty())
                labels[std::to_string(s.label)] = std::get<1>(key).ToString();
        j["mpls_routes"] = labels;
    } else {
        j["vxlan_if"] = dev_name_;
        j["vni"] = config_.instance_label;
        j["remote_pes"] = pes;
    }
    return j;
}

// ---------------------------------------------------------------------------
// The driver.

IpvpnLinuxDriver::IpvpnLinuxDriver(IpvpnLinuxOptions options, std::unique_ptr<KernelAccess> kernel,
                                   boost::asio::io_context* io)
    : options_(std::move(options)), kernel_(std::move(kernel)), io_(io),
      vrf_mode_(options_.mode == IpvpnLinuxMode::kVrf) {}

IpvpnLinuxDriver::~IpvpnLinuxDriver() {
    *alive_ = false;
    if (reconcile_timer_) static_cast<boost::asio::steady_timer*>(reconcile_timer_.get())->cancel();
}

std::string IpvpnLinuxDriver::VxlanName(uint32_t instance_id) {
    return fmt::format("vrfvx-{}", instance_id);
}

std::string IpvpnLinuxDriver::VrfName(uint32_t instance_id) {
    return fmt::format("bvrf-{}", instance_id);
}

std::vector<nl::Rule> IpvpnLinuxDriver::DeviceRules(uint32_t instance_id) const {
    std::vector<nl::Rule> out;
    const std::string dev = DeviceName(instance_id);
    for (uint8_t fam : {kAfInet, kAfInet6}) {
        nl::Rule r;
        r.family = fam;
        r.priority = options_.rule_priority;
        r.table = TableOf(instance_id);
        if (!vrf_mode_) {
            r.iif = dev;
            out.push_back(r);
            continue;
        }
        // as the original's mpls_linux: lookup, then nothing else
        for (bool unreachable : {false, true}) {
            r.unreachable = unreachable;
            r.table = unreachable ? 0 : TableOf(instance_id);
            r.priority = options_.rule_priority + (unreachable ? 1 : 0);
            r.iif = dev;
            r.oif.clear();
            out.push_back(r);
            r.iif.clear();
            r.oif = dev;
            out.push_back(r);
        }
    }
    return out;
}

void IpvpnLinuxDriver::RecordError(std::string text) {
    spdlog::warn("dataplane ipvpn linux: {}", text);
    ++failures_;
    errors_.push_back(std::move(text));
    while (errors_.size() > kMaxErrors) errors_.pop_front();
}

void IpvpnLinuxDriver::Submit(std::vector<nl::Request> batch) {
    if (batch.empty()) return;
    ++batches_;
    requests_ += batch.size();
    // Benign outcomes are judged by the type of the request they answer.
    std::vector<uint16_t> types;
    types.reserve(batch.size());
    for (const auto& r : batch) types.push_back(r.message.type());
    std::weak_ptr<bool> alive = alive_;
    kernel_->Async().Submit(std::move(batch), [this, alive, types = std::move(types)](
                                                  std::vector<nl::Result> results) {
        if (alive.expired()) return;
        for (size_t i = 0; i < results.size(); ++i)
            if (!results[i].ok() && !(i < types.size() && Benign(types[i], results[i].error)))
                RecordError(results[i].ToString());
    });
}

void IpvpnLinuxDriver::Forget(uint32_t instance_id) { instances_.erase(instance_id); }

IpvpnLinuxDriver::Leftovers IpvpnLinuxDriver::FindOurs() {
    Leftovers l;
    // Both modes' devices: a previous run may have used the other mode.
    auto ours = [](const std::string& name) {
        return name.rfind("vrfvx-", 0) == 0 || name.rfind("bvrf-", 0) == 0;
    };
    for (const auto& link : kernel_->Links())
        if (ours(link.name)) l.links.insert(link.name);
    for (uint8_t fam : {kAfInet, kAfInet6}) {
        for (auto& rule : kernel_->Rules(fam))
            if ((rule.priority == options_.rule_priority && OwnsTable(rule.table)) ||
                (rule.priority == options_.rule_priority + 1 && rule.unreachable &&
                 (ours(rule.iif) || ours(rule.oif))))
                l.rules.push_back(rule);
        for (auto& route : kernel_->Routes(fam))
            if (OwnsTable(route.table) &&
                (route.protocol == nl::kRtprotBagpipe ||
                 route.type == static_cast<uint8_t>(nl::RouteType::kUnreachable) ||
                 route.type == static_cast<uint8_t>(nl::RouteType::kLocal)))
                l.routes.push_back(route);
    }
    // vrf mode's label routes (ours only: the original flushed every one)
    for (auto& route : kernel_->Routes(nl::kFamilyMpls))
        if (route.protocol == nl::kRtprotBagpipe) l.routes.push_back(route);
    return l;
}

size_t IpvpnLinuxDriver::Remove(const Leftovers& what) {
    std::vector<nl::Request> batch;
    for (const auto& r : what.routes) {
        if (r.family == nl::kFamilyMpls) {
            batch.push_back({nl::DeleteMplsRoute(r.label, r.protocol), fmt::format("mpls route del {}", r.label)});
            continue;
        }
        nl::Route route;
        route.destination = r.destination;
        route.table = r.table;
        route.type = static_cast<nl::RouteType>(r.type);
        route.protocol = r.protocol;
        if (r.type == static_cast<uint8_t>(nl::RouteType::kUnreachable)) route.metric = kUnreachableMetric;
        batch.push_back({nl::DeleteRoute(route), fmt::format("route del {} table {}",
                                                             r.destination.ToString(), r.table)});
    }
    for (const auto& r : what.rules) batch.push_back(RuleRequest(r, false, true));
    for (const auto& name : what.links)
        batch.push_back({nl::DeleteLink(nl::LinkRef::ByName(name)), "link del " + name});
    size_t removed = 0;
    for (const auto& res : kernel_->Transact(std::move(batch))) {
        if (res.ok()) ++removed;
        else if (res.error != ENOENT && res.error != ESRCH && res.error != ENODEV)
            RecordError(res.ToString());
    }
    return removed;
}

DataplaneStatus IpvpnLinuxDriver::ResetState() {
    Leftovers l = FindOurs();
    if (options_.reconcile) {
        spdlog::info("dataplane ipvpn linux: reconcile: found {} device(s), {} rule(s), {} route(s) "
                     "of a previous run; kept for {} s",
                     l.links.size(), l.rules.size(), l.routes.size(), options_.reconcile_grace.count());
        leftovers_ = std::move(l);
        return {};
    }
    const size_t n = Remove(l);
    spdlog::info("dataplane ipvpn linux: reset: removed {} object(s)", n);
    return {};
}

DataplaneStatus IpvpnLinuxDriver::Initialize() {
    if (initialized_) return {};
    features_ = kernel_->Features();
    if (auto st = ChooseMode(); !st) return st;
    std::string error;
    for (const char* path : {"net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"})
        if (!kernel_->WriteSysctl(path, "1", &error)) RecordError(error);
    if (vrf_mode_) {
        const std::string mpls_if = SysctlName(options_.mpls_interface);
        for (const auto& [path, value] :
             {std::pair<std::string, std::string>{"net/mpls/platform_labels", "1048575"},
              {fmt::format("net/mpls/conf/{}/input", mpls_if), "1"},
              {"net/mpls/conf/lo/input", "1"}})
            if (!kernel_->WriteSysctl(path, value, &error)) RecordError(error);
    }
    if (options_.isolate_gateways) MoveLocalRule();
    initialized_ = true;
    if (leftovers_ && io_) {
        auto timer = std::make_shared<boost::asio::steady_timer>(*io_, options_.reconcile_grace);
        std::weak_ptr<bool> alive = alive_;
        timer->async_wait([this, alive](const boost::system::error_code& ec) {
            if (ec || alive.expired()) return;
            ReconcileNow();
        });
        reconcile_timer_ = timer;
    }
    return {};
}

// The mode (option `mode`) against the kernel's features, logged once.
DataplaneStatus IpvpnLinuxDriver::ChooseMode() {
    std::vector<std::string> missing;
    if (!features_.vrf) missing.push_back("no VRF devices (CONFIG_NET_VRF)");
    if (!features_.mpls) missing.push_back("no kernel MPLS (CONFIG_MPLS_ROUTING, /proc/sys/net/mpls)");
    std::string lacks;
    for (const auto& m : missing) lacks += (lacks.empty() ? "" : " and ") + m;
    switch (options_.mode) {
        case IpvpnLinuxMode::kVrf:
            if (!missing.empty())
                return DataplaneStatus::Unavailable(
                    fmt::format("mode = vrf: the kernel has {}; use mode = tables or auto", lacks));
            vrf_mode_ = true;
            mode_reason_ = "configured (mode = vrf)";
            break;
        case IpvpnLinuxMode::kTables:
            vrf_mode_ = false;
            mode_reason_ = "configured (mode = tables)";
            break;
        case IpvpnLinuxMode::kAuto:
            vrf_mode_ = missing.empty() && !options_.mpls_interface.empty();
            mode_reason_ = vrf_mode_ ? "auto: the kernel has VRF devices and MPLS"
                           : !missing.empty()
                               ? "auto: the kernel has " + lacks
                               : "auto: the kernel has VRF devices and MPLS but no mpls_interface is set";
            break;
    }
    if (vrf_mode_) {
        if (options_.mpls_interface.empty())
            return DataplaneStatus::InvalidArgument("mode = vrf needs mpls_interface (the interface MPLS "
                                                    "packets leave and arrive on)");
        auto mpls = kernel_->IndexOf(options_.mpls_interface);
        auto lo = kernel_->IndexOf("lo");
        if (!mpls)
            return DataplaneStatus::InvalidArgument(
                fmt::format("mpls_interface = {}: no such interface", options_.mpls_interface));
        mpls_index_ = *mpls;
        lo_index_ = lo.value_or(1);
    } else if (!features_.vxlan) {
        return DataplaneStatus::Unavailable("kernel: no VXLAN devices (CONFIG_VXLAN): the IP-VPN "
                                            "linux driver cannot work in tables mode");
    }
    spdlog::info("dataplane ipvpn linux: mode {} ({})", vrf_mode_ ? "vrf" : "tables", mode_reason_);
    return {};
}

// The `local` table is looked up by rule 0, before any other rule: a VM
// would reach every address of the host, the gateways of other VRFs
// included. As Linux VRF set-ups do, the lookup moves to priority 32765
// (after our rules, before `main`), and each VRF table gets the local routes
// of its own gateways. Traffic of the host itself is unchanged (no rule of
// ours matches it). Done once; left in place (harmless) when we stop.
void IpvpnLinuxDriver::MoveLocalRule() {
    constexpr uint32_t kLocalTable = 255;
    for (uint8_t fam : {kAfInet, kAfInet6}) {
        bool at0 = false, moved = false;
        for (const auto& r : kernel_->Rules(fam)) {
            if (r.table != kLocalTable || !r.iif.empty() || !r.oif.empty()) continue;
            at0 = at0 || r.priority == 0;
            moved = moved || r.priority == 32765;
        }
        std::vector<nl::Request> batch;
        nl::Rule local;
        local.family = fam;
        local.table = kLocalTable;
        local.priority = 32765;
        if (!moved)
            batch.push_back({nl::AddRule(local), fmt::format("rule add {}pref 32765 lookup local",
                                                             fam == kAfInet6 ? "-6 " : "")});
        local.priority = 0;
        if (at0)
            batch.push_back({nl::DeleteRule(local), fmt::format("rule del {}pref 0 lookup local",
                                                                fam == kAfInet6 ? "-6 " : "")});
        // In order: the new rule must exist before the old one goes.
        for (const auto& res : kernel_->Transact(std::move(batch)))
            if (!res.ok() && res.error != EEXIST) RecordError(res.ToString());
    }
}

bool IpvpnLinuxDriver::StillWanted(const nl::RouteInfo& route) const {
    for (const auto& [id, inst] : instances_)
        if (inst->WantsRoute(route)) return true;
    return false;
}

bool IpvpnLinuxDriver::StillWanted(const nl::Rule& rule) const {
    for (const auto& [id, inst] : instances_)
        if (inst->WantsRule(rule)) return true;
    return false;
}

size_t IpvpnLinuxDriver::ReconcileNow() {
    if (!leftovers_) return 0;
    Leftovers stale;
    for (const auto& r : leftovers_->routes)
        if (!StillWanted(r)) stale.routes.push_back(r);
    for (const auto& r : leftovers_->rules)
        if (!StillWanted(r)) stale.rules.push_back(r);
    for (const auto& name : leftovers_->links) {
        bool used = false;
        for (const auto& [id, inst] : instances_) used = used || DeviceName(id) == name;
        if (!used) stale.links.insert(name);
    }
    leftovers_.reset();
    const size_t n = Remove(stale);
    spdlog::info("dataplane ipvpn linux: reconcile: removed {} stale object(s) of a previous run", n);
    return n;
}

DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> IpvpnLinuxDriver::CreateInstance(
    const InstanceConfig& config) {
    if (!initialized_) return DataplaneStatus::FailedPrecondition("driver not initialized");
    if (!vrf_mode_ && (config.instance_label == 0 || config.instance_label > 0xffffff))
        return DataplaneStatus::InvalidArgument(
            fmt::format("VNI {} out of range 1..16777215", config.instance_label));
    const std::string dev = DeviceName(config.instance_id);
    const uint32_t table = TableOf(config.instance_id);
    std::vector<nl::Request> batch;
    // An adopted device must match (VNI, address and port; VRF table);
    // otherwise it is replaced.
    bool adopt = false;
    for (const auto& link : kernel_->Links())
        if (link.name == dev) {
            adopt = vrf_mode_ ? link.kind == "vrf" && link.vrf_table == table
                              : link.kind == "vxlan" && link.vxlan_id == config.instance_label &&
                                    link.vxlan_local == options_.local_address &&
                                    link.vxlan_port == options_.vxlan_dst_port;
            if (!adopt) batch.push_back({nl::DeleteLink(nl::LinkRef::ByName(dev)), "link del " + dev});
        }
    if (!adopt && vrf_mode_) {
        batch.push_back({nl::NewVrfLink(dev, table), fmt::format("link add {} type vrf table {}", dev, table)});
    } else if (!adopt) {
        nl::VxlanParams p;
        p.vni = config.instance_label;
        p.local = options_.local_address;
        p.dst_port = options_.vxlan_dst_port;
        p.learning = false;
        batch.push_back({nl::NewVxlanLink(dev, p),
                         fmt::format("link add {} type vxlan id {} local {} dstport {} nolearning",
                                     dev, p.vni, p.local.ToString(), p.dst_port)});
    }
    if (!vrf_mode_)
        batch.push_back({nl::SetLinkAddress(nl::LinkRef::ByName(dev), options_.router_mac),
                         fmt::format("link set {} address {}", dev, options_.router_mac.ToString())});
    batch.push_back({nl::SetLinkUp(nl::LinkRef::ByName(dev), true), "link set " + dev + " up"});
    for (const nl::Rule& r : DeviceRules(config.instance_id)) batch.push_back(RuleRequest(r, true, false));
    for (uint8_t v : {uint8_t{4}, uint8_t{6}}) batch.push_back(UnreachableDefault(v, table, true));
    std::string failure;
    for (const auto& res : kernel_->Transact(std::move(batch))) {
        if (res.ok() || res.error == EEXIST) continue;
        if (failure.empty()) failure = res.ToString();
        RecordError(res.ToString());
    }
    auto index = kernel_->IndexOf(dev);
    if (!failure.empty() || !index)
        return DataplaneStatus::Error(DataplaneErrorCode::kInternal,
                                      failure.empty() ? dev + ": not created" : failure);
    std::string error;
    if (!vrf_mode_ && !kernel_->WriteSysctl(fmt::format("net/ipv4/conf/{}/rp_filter", dev), "0", &error))
        RecordError(error);
    auto inst = std::make_unique<IpvpnLinuxInstance>(*this, config, *index);
    instances_[config.instance_id] = inst.get();
    return std::unique_ptr<VpnInstanceDataplane>(std::move(inst));
}

EncapsulationSet IpvpnLinuxDriver::SupportedEncapsulations() const {
    if (vrf_mode_) return EncapsulationSet{Encapsulation::kDefault, Encapsulation::kMpls};
    return EncapsulationSet{Encapsulation::kVxlan};
}

DataplaneStatus IpvpnLinuxDriver::ValidateDirection(Direction) const { return {}; }

json IpvpnLinuxDriver::ToJson() const {
    json errors = json::array();
    for (const auto& e : errors_) errors.push_back(e);
    json instances = json::array();
    for (const auto& [id, inst] : instances_) instances.push_back(id);
    return json{
        {"name", "linux"},
        {"type", "ipvpn"},
        {"local_address", options_.local_address.ToString()},
        {"supported_encaps", SupportedEncapsulations().Names()},
        {"router_mac", vrf_mode_ ? json(nullptr) : json(options_.router_mac.ToString())},
        {"mode", vrf_mode_ ? "vrf" : "tables"},
        {"mode_description", vrf_mode_ ? "VRF devices, kernel MPLS (MPLS-encapsulated routes, label routes)"
                                       : "routing tables + policy rules, VXLAN (E-VPN type 5)"},
        {"mode_reason", mode_reason_},
        {"mpls_interface", options_.mpls_interface},
        {"kernel_features", nl::ToJson(features_)},
        {"config", options_.config},
        {"instances", instances},
        {"reconcile_pending", leftovers_.has_value()},
        {"isolate_gateways", options_.isolate_gateways},
        {"stats", {{"batches", batches_}, {"requests", requests_}, {"failures", failures_}}},
        {"errors", errors},
    };
}

}  // namespace bagpipe::dataplane
