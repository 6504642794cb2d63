// The `dummy` dataplane driver (ipvpn and evpn): programs nothing, records
// every call in a bounded log and keeps the state a real driver would have
// programmed, so that tests and the looking glass can check both the calls
// and their net effect. Equivalent to the original's DummyDataplaneDriver
// (reference §5.2): ipvpn {DEFAULT, MPLS}, evpn {VXLAN}, no ECMP, direction
// `both` only — each configurable for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dataplane/driver.h"

namespace bagpipe::config {
struct DataplaneDriverConfig;
}

namespace bagpipe::dataplane {

// What the dummy driver pretends to support. Options (DataplaneDriverConfig
// `options`, i.e. keys of [DATAPLANE_DRIVER_IPVPN] / [DATAPLANE_DRIVER_EVPN]):
//   encapsulations = DEFAULT, MPLS   (names as ParseEncapsulation; per-type default)
//   ecmp = False
//   directions = both                (list of both, to-port, from-port)
//   needs_cleanup_assist = False
//   call_log_size = 10000            (0 disables the log; state is always kept)
//   router_mac = 02:00:00:00:00:01   (IP-VPN over VXLAN: the E-VPN type 5 router's MAC)
// Other keys are ignored (a config written for the linux driver still loads).
struct DummyDriverOptions {
    VpnType type = VpnType::kIpVpn;
    bgp::IpAddress local_address;
    EncapsulationSet encaps;
    bool ecmp = false;
    std::vector<Direction> directions{Direction::kBoth};
    bool needs_cleanup_assist = false;
    size_t call_log_size = 10000;
    std::optional<bgp::MacAddress> router_mac;  // `router_mac` (E-VPN type 5 over VXLAN)
    std::map<std::string, std::string> config;  // shown as the looking glass `config`
    // Timestamps of the call log; system_clock::now when empty.
    std::function<std::chrono::system_clock::time_point()> clock;

    // The original's defaults for `type`.
    static DummyDriverOptions Defaults(VpnType type, bgp::IpAddress local_address = {});
    // Defaults, then the config's options; kInvalidArgument naming the option
    // for a bad value.
    static DataplaneResult<DummyDriverOptions> FromConfig(
        VpnType type, const config::DataplaneDriverConfig& config);
};

// The methods, named as the original's Python methods in the call log.
enum class DummyMethod : uint8_t {
    kResetState,
    kInitialize,
    kCreateInstance,  // "initialize_dataplane_instance"
    kVifPlugged,
    kVifUnplugged,
    kSetupRemoteEndpoint,   // "setup_dataplane_for_remote_endpoint"
    kRemoveRemoteEndpoint,  // "remove_dataplane_for_remote_endpoint"
    kUpdateFallback,
    kCleanup,
    kAddTrafficClassifier,     // "add_dataplane_for_traffic_classifier"
    kRemoveTrafficClassifier,  // "remove_dataplane_for_traffic_classifier"
    kAddBumEndpoint,           // "add_dataplane_for_bum_endpoint"
    kRemoveBumEndpoint,        // "remove_dataplane_for_bum_endpoint"
    kSetGatewayPort,
    kGatewayPortDown,
};
std::string_view DummyMethodName(DummyMethod method);

// Arguments of the calls, kept typed (rendered to JSON only when asked).
struct DummyVifArgs {
    bgp::MacAddress mac;
    bgp::IpAddress ip;
    LocalPort port;
    uint32_t label = 0;
    Direction direction = Direction::kBoth;
    bool last_endpoint = false;  // unplug only
    bool operator==(const DummyVifArgs&) const = default;
};
struct DummyClassifierArgs {
    TrafficClassifier classifier;
    std::optional<uint32_t> redirect_instance_id;  // add only
    bool operator==(const DummyClassifierArgs&) const = default;
};
struct DummyGatewayArgs {
    std::string linuxif;
    bgp::IpAddress gateway_ip;  // set only
    bool operator==(const DummyGatewayArgs&) const = default;
};
// What Cleanup found still programmed (and removed): all zero when the VPN
// layer removed everything first (cleanup assist).
struct DummyCleanupArgs {
    size_t ports = 0;
    size_t remote_endpoints = 0;
    size_t bum_endpoints = 0;
    size_t classifiers = 0;
    bool gateway_port = false;
    bool fallback = false;
    bool operator==(const DummyCleanupArgs&) const = default;
};
using DummyCallArgs =
    std::variant<std::monostate, InstanceConfig, DummyVifArgs, RemoteEndpoint, BumEndpoint,
                 DummyClassifierArgs, DummyGatewayArgs, std::optional<Fallback>,
                 DummyCleanupArgs>;

// One entry of the call log.
struct DummyCall {
    uint64_t seq = 0;  // 1, 2, ... per driver, never reused
    std::chrono::system_clock::time_point time;
    uint32_t instance_id = 0;  // 0 for driver-level calls
    DummyMethod method = DummyMethod::kResetState;
    DummyCallArgs args;
    bool changed = false;      // the call changed the recorded state
    DataplaneStatus status;    // what the call returned
};

// State keys and values of one dummy instance.
struct DummyLocalKey {
    bgp::MacAddress mac;
    bgp::IpAddress ip;
    auto operator<=>(const DummyLocalKey&) const = default;
    bool operator==(const DummyLocalKey&) const = default;
};
struct DummyPlugged {
    LocalPort port;
    uint32_t label = 0;
    Direction direction = Direction::kBoth;
    bool operator==(const DummyPlugged&) const = default;
};
// (prefix or mac, remote PE, label); the unused one of prefix/mac is empty.
struct DummyRemoteKey {
    bgp::Prefix prefix;
    bgp::MacAddress mac;
    bgp::IpAddress remote_pe;
    uint32_t label = 0;
    auto operator<=>(const DummyRemoteKey&) const = default;
    bool operator==(const DummyRemoteKey&) const = default;
};
struct DummyBumKey {
    bgp::IpAddress remote_pe;
    uint32_t vni = 0;
    auto operator<=>(const DummyBumKey&) const = default;
    bool operator==(const DummyBumKey&) const = default;
};
struct DummyGatewayPort {
    std::string linuxif;
    bgp::IpAddress gateway_ip;
    bool operator==(const DummyGatewayPort&) const = default;
};

namespace detail {
struct DummyCore;
}

// DummyInstanceDataplane — the recorded dataplane of one instance.
//
// Invariants: the state maps hold exactly what the successful calls so far
// set up and did not remove; a failed call changes nothing; after Cleanup
// everything is empty and every further call fails with
// kFailedPrecondition. Calls of the other VPN type fail with kNotSupported.
// Executor: the caller's (single-threaded, like every driver).
class DummyInstanceDataplane final : public VpnInstanceDataplane {
public:
    DummyInstanceDataplane(std::shared_ptr<detail::DummyCore> core, InstanceConfig config);
    ~DummyInstanceDataplane() override;
    DummyInstanceDataplane(const DummyInstanceDataplane&) = delete;
    DummyInstanceDataplane& operator=(const DummyInstanceDataplane&) = delete;

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

    // {instance_id, external_instance_id, type, gateway_ip, ..., cleaned_up,
    //  counts{...}, ports[], remote_endpoints[], bum_endpoints[],
    //  classifiers[], gateway_port, fallback}.
    nlohmann::json ToJson() const override;

    // State, for tests and the looking glass.
    VpnType type() const;
    const InstanceConfig& config() const { return config_; }
    bool cleaned_up() const { return cleaned_up_; }
    const std::map<DummyLocalKey, DummyPlugged>& ports() const { return ports_; }
    const std::map<DummyRemoteKey, RemoteEndpoint>& remote_endpoints() const { return remote_; }
    const std::map<DummyBumKey, BumEndpoint>& bum_endpoints() const { return bum_; }
    const std::map<TrafficClassifier, uint32_t>& classifiers() const { return classifiers_; }
    const std::optional<DummyGatewayPort>& gateway_port() const { return gateway_port_; }
    const std::optional<Fallback>& fallback() const { return fallback_; }
    // Remote endpoints programmed for one IP-VPN prefix / one E-VPN MAC.
    std::vector<RemoteEndpoint> RemoteEndpointsFor(const bgp::Prefix& prefix) const;
    std::vector<RemoteEndpoint> RemoteEndpointsFor(const bgp::MacAddress& mac) const;
    // Entries of every kind (ports, remote and BUM endpoints, classifiers,
    // gateway port, fallback): 0 after Cleanup.
    size_t StateSize() const;

private:
    DataplaneStatus Record(DummyMethod method, DummyCallArgs args, bool changed,
                           DataplaneStatus status);
    DataplaneStatus Check(DummyMethod method, VpnType needed) const;  // alive and right type
    DataplaneStatus CheckAlive(DummyMethod method) const;

    std::shared_ptr<detail::DummyCore> core_;
    InstanceConfig config_;
    bool cleaned_up_ = false;
    std::map<DummyLocalKey, DummyPlugged> ports_;
    std::map<DummyRemoteKey, RemoteEndpoint> remote_;
    std::map<DummyBumKey, BumEndpoint> bum_;
    std::map<TrafficClassifier, uint32_t> classifiers_;
    std::optional<DummyGatewayPort> gateway_port_;
    std::optional<Fallback> fallback_;
};

// DummyDataplaneDriver — the driver object for one VPN type.
//
// Invariants: the call log holds the last `call_log_size` calls (driver and
// instance calls alike) in sequence order; total_calls() counts every call
// ever made. Instances register themselves while alive, so FindInstance
// sees exactly the live ones; an instance may outlive the driver (they share
// the log), although the VPN layer destroys instances first.
// Executor: the caller's (single-threaded).
class DummyDataplaneDriver final : public DataplaneDriver {
public:
    explicit DummyDataplaneDriver(DummyDriverOptions options);
    ~DummyDataplaneDriver() override;
    DummyDataplaneDriver(const DummyDataplaneDriver&) = delete;
    DummyDataplaneDriver& operator=(const DummyDataplaneDriver&) = delete;

    VpnType type() const override;
    std::string_view name() const override { return "dummy"; }
    DataplaneStatus ResetState() override;
    DataplaneStatus Initialize() override;
    DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> CreateInstance(
        const InstanceConfig& config) override;
    EncapsulationSet SupportedEncapsulations() const override;
    bool NeedsCleanupAssist() const override;
    DataplaneStatus ValidateDirection(Direction direction) const override;
    bool EcmpSupport() const override;
    bgp::IpAddress LocalAddress() const override;
    std::optional<bgp::MacAddress> RouterMac() const override;
    // {name: "DummyDataplaneDriver", driver: "dummy", type, local_address,
    //  supported_encaps: ["encap:MPLS", ...], ecmp_support, directions,
    //  needs_cleanup_assist, config{dataplane_driver, dataplane_local_address,
    //  ...}, kernel_release, initialized, instances[{instance_id,
    //  external_instance_id}], calls{total, logged, capacity, first_seq,
    //  last_seq}}.
    nlohmann::json ToJson() const override;

    // The call log.
    const std::deque<DummyCall>& calls() const;
    uint64_t total_calls() const;
    // Logged calls with seq > `after_seq`, oldest first, at most `limit`,
    // optionally only those of one instance (0: driver-level calls only).
    nlohmann::json CallLogJson(uint64_t after_seq = 0, size_t limit = SIZE_MAX,
                               std::optional<uint32_t> instance_id = std::nullopt) const;
    // Logged calls of one method (optionally of one instance), oldest first.
    std::vector<const DummyCall*> CallsTo(DummyMethod method,
                                          std::optional<uint32_t> instance_id = {}) const;
    void ClearCallLog();

    bool initialized() const;
    const DummyDriverOptions& options() const;
    DummyInstanceDataplane* FindInstance(uint32_t instance_id) const;
    DummyInstanceDataplane* FindInstance(std::string_view external_id) const;
    std::vector<DummyInstanceDataplane*> instances() const;  // live, by instance id

private:
    std::shared_ptr<detail::DummyCore> core_;
};

// The JSON of one logged call: {seq, time ("2024-05-01T12:00:00.123456Z"),
// driver, instance_id, external_instance_id, method, args{...}, changed,
// error (null or the message), error_code}.
nlohmann::json ToJson(const DummyCall& call, VpnType type, std::string_view external_id);

}  // namespace bagpipe::dataplane
