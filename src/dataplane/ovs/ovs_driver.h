// The IP-VPN `ovs` dataplane driver: MPLS over GRE, bare MPLS over
// Ethernet and optionally VXLAN through Open vSwitch OpenFlow 1.5 flows and
// select groups, programmed with `ovs-ofctl bundle` and `ovs-vsctl` child
// processes on the daemon's event loop. A re-implementation of the
// original's mpls_ovs_dataplane (reference §5.6) without its bugs; flows,
// tables and options are described in docs/dataplane.md ("IP-VPN ovs
// driver").
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/driver.h"
#include "dataplane/ovs/ovs_flows.h"

namespace boost::asio {
class io_context;
}

namespace bagpipe::config {
struct DataplaneDriverConfig;
}

namespace bagpipe::dataplane::ovs {

// Options ([DATAPLANE_DRIVER_IPVPN] keys), the original's plus a few:
//   ovs_bridge = br-int          mpls_interface = (bare MPLS: port to the underlay)
//   mpls_over_gre = (True when no mpls_interface)   gre_tunnel_options = k=v, ...
//   arp_responder = False        proxy_arp = False  vxlan_encap = False
//   input_table = 0              ovs_table_id_start = 1 (encap_in; vrf = +1)
//   hash_method = dp_hash        hash_method_param = 0
//   ovsbr_interfaces_mtu = (MTU set on the ports the driver adds)
//   ovsdb_connection = (ovs-vsctl --db=..., e.g. unix:/run/x/db.sock)
//   reconcile = False            reconcile_grace = 30 (s; also reconcile_grace_period)
//   command_timeout = 10 (s)     ovs_ofctl = ovs-ofctl   ovs_vsctl = ovs-vsctl
struct OvsDriverOptions {
    bgp::IpAddress local_address;
    std::string bridge = "br-int";
    std::string mpls_interface;
    bool mpls_over_gre = true;
    std::vector<std::pair<std::string, std::string>> gre_tunnel_options;
    bool arp_responder = false;
    bool proxy_arp = false;
    bool vxlan_encap = false;
    Tables tables;
    std::string hash_method = "dp_hash";
    uint64_t hash_method_param = 0;
    std::optional<uint32_t> mtu;
    std::string ovsdb_connection;
    bool reconcile = false;
    std::chrono::seconds reconcile_grace{30};
    std::chrono::milliseconds command_timeout{10000};
    std::string ovs_ofctl = "ovs-ofctl";
    std::string ovs_vsctl = "ovs-vsctl";
    size_t error_log_size = 20;
    std::map<std::string, std::string> config;  // as given, for the looking glass

    // Defaults then the config's options; kInvalidArgument naming the option.
    static DataplaneResult<OvsDriverOptions> FromConfig(const config::DataplaneDriverConfig& c);
};

namespace detail {
class OvsCore;
}

// OvsDataplaneDriver — owns the command queue (one child process at a time,
// in call order), the record of every flow and group programmed, the
// neighbour resolution of remote PEs (bare MPLS) and the error log.
//
// Invariants: the record holds what the successful calls asked for, i.e.
// what OVS holds once the queue is drained and no command failed; calls
// made during one loop turn go to OVS as one `ovs-ofctl bundle` (atomic),
// ovs-vsctl commands in between keep their place in the order. Executor:
// the io_context given at construction; nothing blocks.
class OvsDataplaneDriver final : public DataplaneDriver {
public:
    OvsDataplaneDriver(boost::asio::io_context& io, OvsDriverOptions options);
    ~OvsDataplaneDriver() override;
    OvsDataplaneDriver(const OvsDataplaneDriver&) = delete;
    OvsDataplaneDriver& operator=(const OvsDataplaneDriver&) = delete;

    VpnType type() const override { return VpnType::kIpVpn; }
    std::string_view name() const override { return "ovs"; }
    DataplaneStatus ResetState() override;
    DataplaneStatus Initialize() override;
    DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> CreateInstance(
        const InstanceConfig& config) override;
    EncapsulationSet SupportedEncapsulations() const override;
    bool NeedsCleanupAssist() const override { return false; }
    DataplaneStatus ValidateDirection(Direction direction) const override;
    bool EcmpSupport() const override { return true; }
    bgp::IpAddress LocalAddress() const override;
    std::optional<bgp::MacAddress> RouterMac() const override;
    nlohmann::json ToJson() const override;

    // For tests: commands not yet finished (queued or running).
    size_t pending_commands() const;
    // Every bundle line sent so far (bounded), for tests.
    const std::deque<std::string>& sent_lines() const;

private:
    std::shared_ptr<detail::OvsCore> core_;
};

}  // namespace bagpipe::dataplane::ovs
