// The IP-VPN `linux` dataplane driver, in one of two modes (option `mode`):
//
// `vrf` — the original's mpls_linux (reference §5.5), for kernels with VRF
// devices (CONFIG_NET_VRF) and MPLS forwarding (CONFIG_MPLS_ROUTING,
// CONFIG_MPLS_IPTUNNEL). Per VRF (instance id N):
//   * VRF device `bvrf-N` with table `table_base + N`, up; rules
//     `pref P iif/oif bvrf-N lookup <table>` and `pref P+1 iif/oif bvrf-N
//     unreachable` (P = rule_priority; IPv4 and IPv6) and the table's
//     `unreachable default`;
//   * per local port: enslaved to bvrf-N (IFLA_MASTER), up, the gateway
//     address(es) of its attaches, proxy ARP; per endpoint a /32 (/128)
//     route to the port, a permanent neighbour entry ip → mac and the MPLS
//     route `<endpoint label> → via inet <ip> dev <port>` (pop and deliver);
//   * per remote prefix: a route in the table with MPLS encapsulation (the
//     route's label) via the remote PE on `mpls_interface` (onlink), one
//     next hop per PE (multipath for ECMP); a PE that is this host goes via
//     `lo` (127.0.0.1), where MPLS input is enabled too.
//   Encapsulations {DEFAULT, MPLS}; no router's MAC.
//
// `tables` — for kernels without them (like this project's CI machines):
// VRFs as routing tables and policy rules, remote prefixes routed over one
// VXLAN device per VRF with the remote PE's router's MAC as inner
// destination (RFC 9136 "interface-less" symmetric IRB, i.e. E-VPN type 5
// routes). Per VRF (VNI = the instance label):
//   * routing table `table_base + N`, with an `unreachable default` of the
//     highest metric (no fall-through to the main table), IPv4 and IPv6;
//   * VXLAN device `vrfvx-N` (VNI, local = dataplane_local_address,
//     dstport, nolearning, MAC = the driver's router MAC), up, and the rule
//     `iif vrfvx-N lookup <table>` (traffic decapsulated for this VRF);
//   * per local port: `iif <port> lookup <table>` (direction both/from-port),
//     the gateway address(es) on the port, their `local` routes in the VRF's
//     table (isolate_gateways) and proxy ARP; per endpoint a /32 (/128) route
//     to the port in the table and a permanent neighbour entry ip → mac
//     (direction both/to-port);
//   * per remote prefix: a route in the table via each remote PE (onlink,
//     multipath for ECMP) on vrfvx-N, and per remote PE a permanent
//     neighbour entry remote_pe → router's MAC on vrfvx-N and a VXLAN FDB
//     entry router's MAC → remote_pe with the route's VNI.
//   Encapsulation {VXLAN}; the router's MAC is advertised.
//
// `auto` (default) picks vrf when the kernel has VRF devices and MPLS and
// mpls_interface is set, tables otherwise, and logs which and why.
//
// Gateways: each port gets the gateway (gateway_ip / the subnet length of
// ip_address) of the attaches plugged on it (LocalPort::gateway; the
// instance's first gateway when a caller gives none), reference counted per
// port; a VRF may serve several subnets.
//
// Routes carry protocol 19 (RTPROT_BAGPIPE), rules our priority.
//
// Reconcile (option `reconcile`, default True): ResetState does not wipe; it
// notes what a previous run left (our devices `vrfvx-*` and `bvrf-*`, rules,
// routes in our tables and our AF_MPLS routes) and CreateInstance adopts the
// VRF's device, rules and table, so that forwarding continues while routes
// are re-learnt. `reconcile_grace` seconds after Initialize, every route,
// rule and device of ours that was found at start and not programmed again
// is removed. With reconcile = False (bagpipe-bgp-cleanup), ResetState
// removes all of it at once.
//
// Executor: the daemon's io_context. Instance creation, clean-up, index
// lookups and reset use short synchronous netlink transactions (local
// kernel calls, no network I/O); per-port and per-route programming goes
// through the asynchronous batch sink, in call order.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dataplane/driver.h"
#include "dataplane/linux/netlink_features.h"
#include "dataplane/linux/netlink_socket.h"

namespace boost::asio {
class io_context;
}
namespace bagpipe::config {
struct DataplaneDriverConfig;
}

namespace bagpipe::dataplane {

// Options ([DATAPLANE_DRIVER_IPVPN] keys):
//   mode = auto               auto | tables | vrf (see the top of this file);
//                             vrf on a kernel without VRF devices or MPLS
//                             fails Initialize naming what is missing
//   mpls_interface            vrf mode: the interface MPLS packets leave and
//                             arrive on (required in vrf mode)
//   dataplane_local_address   VTEP address / next hop (default [BGP] local_address)
//   vxlan_dst_port = 4789
//   table_base = 1000         VRF N uses table table_base + N
//   rule_priority = 1000      priority of our policy rules
//   router_mac = 02:bb:...    default: 02:bb and the 4 octets of the IPv4 local address
//   proxy_arp = True          proxy ARP on the ports (answers for the whole subnet)
//   reconcile = True          keep what a previous run programmed (see above)
//   reconcile_grace = 30      seconds before stale state of a previous run goes
//   isolate_gateways = True   VMs reach only their own VRF's gateway addresses
//                             (the `local` table rule moves from 0 to 32765 and
//                             each VRF table holds its gateways' local routes)
enum class IpvpnLinuxMode : uint8_t { kAuto, kTables, kVrf };
std::string_view IpvpnLinuxModeName(IpvpnLinuxMode mode);

struct IpvpnLinuxOptions {
    IpvpnLinuxMode mode = IpvpnLinuxMode::kAuto;
    std::string mpls_interface;
    bgp::IpAddress local_address;
    uint16_t vxlan_dst_port = 4789;
    uint32_t table_base = 1000;
    uint32_t rule_priority = 1000;
    bgp::MacAddress router_mac;
    bool proxy_arp = true;
    bool reconcile = true;
    std::chrono::seconds reconcile_grace{30};
    bool isolate_gateways = true;
    std::map<std::string, std::string> config;  // as configured, for the looking glass

    static DataplaneResult<IpvpnLinuxOptions> FromConfig(const config::DataplaneDriverConfig& c);
};

// The kernel as the driver sees it: synchronous queries and transactions,
// the asynchronous batch sink and sysctl writes. LinuxKernelAccess is the
// real one; tests fake it.
class KernelAccess {
public:
    virtual ~KernelAccess() = default;
    virtual std::optional<int32_t> IndexOf(std::string_view name) = 0;
    virtual std::vector<netlink::LinkInfo> Links() = 0;
    virtual std::vector<netlink::RouteInfo> Routes(uint8_t family) = 0;
    virtual std::vector<netlink::Rule> Rules(uint8_t family) = 0;
    virtual std::vector<netlink::Result> Transact(std::vector<netlink::Request> batch) = 0;
    virtual netlink::RequestSink& Async() = 0;
    // Writes `value` to /proc/sys/<path>; false (and *error) on failure.
    virtual bool WriteSysctl(const std::string& path, const std::string& value,
                             std::string* error) = 0;
    virtual netlink::KernelFeatures Features() = 0;
};

// The real kernel: a synchronous NetlinkSocket and an AsyncNetlink on `io`,
// sysctls under /proc/sys (all of the calling thread's network namespace).
std::unique_ptr<KernelAccess> MakeLinuxKernelAccess(boost::asio::io_context& io,
                                                    std::string* error);
// The same on given sockets, sysctls written under `sysctl_root` (tests: a
// private namespace's sockets and a scratch directory).
std::unique_ptr<KernelAccess> MakeLinuxKernelAccess(boost::asio::io_context& io,
                                                    netlink::NetlinkSocket sync,
                                                    netlink::NetlinkSocket async,
                                                    std::string sysctl_root);

class IpvpnLinuxInstance;

// IpvpnLinuxDriver — see the top of this file.
// Invariants: instances_ holds every live instance by id; errors_ keeps the
// last kMaxErrors failures.
class IpvpnLinuxDriver final : public DataplaneDriver {
public:
    static constexpr size_t kMaxErrors = 50;

    // `io` may be null in tests (no reconcile timer: call ReconcileNow()).
    IpvpnLinuxDriver(IpvpnLinuxOptions options, std::unique_ptr<KernelAccess> kernel,
                     boost::asio::io_context* io);
    ~IpvpnLinuxDriver() override;

    VpnType type() const override { return VpnType::kIpVpn; }
    std::string_view name() const override { return "linux"; }
    DataplaneStatus ResetState() override;
    DataplaneStatus Initialize() override;
    DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> CreateInstance(
        const InstanceConfig& config) override;
    EncapsulationSet SupportedEncapsulations() const override;
    bool NeedsCleanupAssist() const override { return false; }
    DataplaneStatus ValidateDirection(Direction direction) const override;
    bool EcmpSupport() const override { return true; }
    bgp::IpAddress LocalAddress() const override { return options_.local_address; }
    std::optional<bgp::MacAddress> RouterMac() const override {
        return vrf_mode_ ? std::nullopt : std::optional<bgp::MacAddress>(options_.router_mac);
    }
    nlohmann::json ToJson() const override;

    // Removes what a previous run left and nobody programmed again (the
    // reconcile timer calls it); returns the number of objects removed.
    size_t ReconcileNow();

    // --- for the instances
    const IpvpnLinuxOptions& options() const { return options_; }
    KernelAccess& kernel() { return *kernel_; }
    // Submits a batch; failures are logged and kept (benign errnos ignored).
    void Submit(std::vector<netlink::Request> batch);
    void RecordError(std::string text);
    void Forget(uint32_t instance_id);
    static std::string VxlanName(uint32_t instance_id);  // "vrfvx-<id>" (tables mode)
    static std::string VrfName(uint32_t instance_id);    // "bvrf-<id>" (vrf mode)
    // The instance's device in the mode in use.
    std::string DeviceName(uint32_t instance_id) const {
        return vrf_mode_ ? VrfName(instance_id) : VxlanName(instance_id);
    }
    uint32_t TableOf(uint32_t instance_id) const { return options_.table_base + instance_id; }
    // The mode chosen (at Initialize; before it, whether `mode = vrf`).
    bool vrf_mode() const { return vrf_mode_; }
    int32_t mpls_index() const { return mpls_index_; }  // mpls_interface (vrf mode)
    int32_t lo_index() const { return lo_index_; }
    // The rules of an instance's device: `iif vrfvx-N lookup T` (tables), or
    // `iif/oif bvrf-N lookup T` then `iif/oif bvrf-N unreachable` (vrf).
    std::vector<netlink::Rule> DeviceRules(uint32_t instance_id) const;

private:
    struct Leftovers {  // found at start (reconcile)
        std::set<std::string> links;
        std::vector<netlink::Rule> rules;
        std::vector<netlink::RouteInfo> routes;  // AF_MPLS ones included
    };
    bool OwnsTable(uint32_t table) const {
        return table > options_.table_base && table <= options_.table_base + 0xffffff;
    }
    Leftovers FindOurs();
    DataplaneStatus ChooseMode();
    void MoveLocalRule();
    size_t Remove(const Leftovers& what);
    bool StillWanted(const netlink::RouteInfo& route) const;
    bool StillWanted(const netlink::Rule& rule) const;

    IpvpnLinuxOptions options_;
    std::unique_ptr<KernelAccess> kernel_;
    boost::asio::io_context* io_;
    netlink::KernelFeatures features_;
    bool initialized_ = false;
    bool vrf_mode_ = false;
    std::string mode_reason_;
    int32_t mpls_index_ = 0;
    int32_t lo_index_ = 0;
    std::optional<Leftovers> leftovers_;
    std::shared_ptr<void> reconcile_timer_;  // asio::steady_timer, type-erased
    std::map<uint32_t, IpvpnLinuxInstance*> instances_;
    std::deque<std::string> errors_;
    uint64_t batches_ = 0;
    uint64_t requests_ = 0;
    uint64_t failures_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bagpipe::dataplane
