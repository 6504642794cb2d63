// The E-VPN `linux` dataplane driver: one Linux bridge and one kernel VXLAN
// device per E-VPN instance, static FDB entries from type 2 routes, a
// head-end replication flood list from type 3 routes and, for type 2 routes
// with an IP, permanent neighbour entries on the bridge answered locally
// thanks to `neigh_suppress` (ARP/ND never floods). Equivalent to the
// original's LinuxVXLANDataplaneDriver (reference bagpipe-bgp.md §5.3),
// programmed over rtnetlink (dataplane/linux/netlink_*.h), never through
// `ip`/`bridge` subprocesses. docs/dataplane.md "E-VPN linux driver".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
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

// Interface names, truncated to 15 characters (IFNAMSIZ - 1) as the original.
std::string EvpnBridgeName(std::string_view external_id);  // "evpn---<id>"
std::string EvpnVxlanName(std::string_view external_id);   // "vxlan--<id>"
inline constexpr std::string_view kEvpnBridgePrefix = "evpn---";
inline constexpr std::string_view kEvpnVxlanPrefix = "vxlan--";

// Options ([DATAPLANE_DRIVER_EVPN] keys besides dataplane_driver and
// dataplane_local_address):
//   vxlan_dst_port = 4789     UDP port of the VXLAN devices
//   reconcile = True          keep and adopt our devices found at start-up
//                             (daemon only; bagpipe-bgp-cleanup always wipes)
//   reconcile_grace = 30      seconds after Initialize before devices not
//                             adopted and entries not re-programmed are removed
//   error_log_size = 50       errors kept for the looking glass
struct EvpnLinuxOptions {
    bgp::IpAddress local_address;
    uint16_t vxlan_dst_port = 4789;
    bool reconcile = true;
    std::chrono::milliseconds reconcile_grace = std::chrono::seconds(30);
    size_t error_log_size = 50;
    std::map<std::string, std::string> config;  // shown as the looking glass `config`

    // kInvalidArgument naming the option for a bad value; unknown keys are ignored.
    static DataplaneResult<EvpnLinuxOptions> FromConfig(const config::DataplaneDriverConfig& c);
};

// How the driver reaches the kernel.
struct EvpnLinuxTransport {
    // The daemon's event loop (grace timer). Null: a driver that can only
    // ResetState (bagpipe-bgp-cleanup); CreateInstance then fails.
    boost::asio::io_context* io = nullptr;
    // Asynchronous batches (AsyncNetlink, or a fake in tests). Null with io.
    std::shared_ptr<netlink::RequestSink> sink;
    // Synchronous batches, for ResetState (start-up and cleanup only).
    std::function<std::vector<netlink::Result>(std::vector<netlink::Request>)> transact;
    // Kernel feature probing at Initialize; may be empty (tests).
    std::function<netlink::KernelFeatures()> probe;

    // Real sockets in the current network namespace; `io` may be null.
    static DataplaneResult<EvpnLinuxTransport> Open(boost::asio::io_context* io);
};

namespace detail {
struct EvpnLinuxCore;
struct EvpnInstanceState;
}  // namespace detail

// EvpnLinuxInstance — the bridge + VXLAN device of one EVI.
//
// Calls record the wanted state at once (idempotent: maps keyed like the
// contract's keys) and queue the netlink steps that realise it; the core
// applies steps in call order, one batch at a time. Per MAC at most one
// remote is programmed: a SetupRemoteEndpoint for a MAC already programmed
// towards another PE replaces its FDB entry (NLM_F_REPLACE, never a second
// entry); removing a route whose MAC now points elsewhere changes nothing in
// the kernel, and removing the programmed one falls back to another route
// still set up for that MAC, if any. After Cleanup every call fails with
// kFailedPrecondition.
// Executor: the daemon's event loop.
class EvpnLinuxInstance final : public VpnInstanceDataplane {
public:
    EvpnLinuxInstance(std::shared_ptr<detail::EvpnLinuxCore> core,
                      std::shared_ptr<detail::EvpnInstanceState> state);
    ~EvpnLinuxInstance() override;
    EvpnLinuxInstance(const EvpnLinuxInstance&) = delete;
    EvpnLinuxInstance& operator=(const EvpnLinuxInstance&) = delete;

    DataplaneStatus VifPlugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                               const LocalPort& port, uint32_t label,
                               Direction direction) override;
    DataplaneStatus VifUnplugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                                 const LocalPort& port, uint32_t label, Direction direction,
                                 bool last_endpoint) override;
    DataplaneStatus SetupRemoteEndpoint(const RemoteEndpoint& endpoint) override;
    DataplaneStatus RemoveRemoteEndpoint(const RemoteEndpoint& endpoint) override;
    DataplaneStatus UpdateFallback(const std::optional<Fallback>& fallback) override;
    DataplaneStatus Cleanup() override;
    DataplaneStatus AddTrafficClassifier(const TrafficClassifier& classifier,
                                         uint32_t redirect_instance_id) override;
    DataplaneStatus RemoveTrafficClassifier(const TrafficClassifier& classifier) override;
    DataplaneStatus AddBumEndpoint(const BumEndpoint& endpoint) override;
    DataplaneStatus RemoveBumEndpoint(const BumEndpoint& endpoint) override;
    DataplaneStatus SetGatewayPort(std::string_view linuxif,
                                   const bgp::IpAddress& gateway_ip) override;
    DataplaneStatus GatewayPortDown(std::string_view linuxif) override;

    // {linux_bridge, vxlan_if, vni, bridge_created, adopted, local_ports[],
    //  fdb[{mac, remote_pe, vni, ip}], flood[{remote_pe, vni}], gateway_port,
    //  cleaned_up}.
    nlohmann::json ToJson() const override;

    const std::string& bridge() const;
    const std::string& vxlan() const;

private:
    DataplaneStatus Alive(std::string_view method) const;
    std::shared_ptr<detail::EvpnLinuxCore> core_;
    std::shared_ptr<detail::EvpnInstanceState> state_;
};

// EvpnLinuxDriver — the E-VPN driver object: {VXLAN}, no ECMP, direction
// `both` only, no cleanup assist, no router MAC.
//
// Life cycle: ResetState (wipe every `evpn---*` bridge and `vxlan--*`
// device; in reconcile mode with an event loop: remember them instead), then
// Initialize (probe the kernel, start the grace timer), then instances.
// Executor: the daemon's event loop; ResetState and Initialize do blocking
// netlink (bounded, start-up only), everything else is asynchronous.
class EvpnLinuxDriver final : public DataplaneDriver {
public:
    EvpnLinuxDriver(EvpnLinuxOptions options, EvpnLinuxTransport transport);
    ~EvpnLinuxDriver() override;
    EvpnLinuxDriver(const EvpnLinuxDriver&) = delete;
    EvpnLinuxDriver& operator=(const EvpnLinuxDriver&) = delete;

    VpnType type() const override { return VpnType::kEvpn; }
    std::string_view name() const override { return "linux"; }
    DataplaneStatus ResetState() override;
    DataplaneStatus Initialize() override;
    DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> CreateInstance(
        const InstanceConfig& config) override;
    EncapsulationSet SupportedEncapsulations() const override;
    bool NeedsCleanupAssist() const override { return false; }
    DataplaneStatus ValidateDirection(Direction direction) const override;
    bool EcmpSupport() const override { return false; }
    bgp::IpAddress LocalAddress() const override;
    // {name: "LinuxVXLANDataplaneDriver", driver: "linux", type: "evpn",
    //  local_address, supported_encaps, ecmp_support, config{...},
    //  kernel{vrf, mpls, gretap, vxlan}, reconcile{enabled, pending[],
    //  grace_seconds, done}, pending_steps, errors[{time, instance, error}]}.
    nlohmann::json ToJson() const override;

    // For tests and the looking glass.
    size_t pending_steps() const;          // queued or in flight
    std::vector<std::string> errors() const;  // last error_log_size, oldest first
    bool reconcile_pending() const;        // grace timer running
    // Ends the grace period now (tests; also what an End-of-RIB hook would call).
    void FinishReconcile();

private:
    std::shared_ptr<detail::EvpnLinuxCore> core_;
};

}  // namespace bagpipe::dataplane
