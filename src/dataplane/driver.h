// The dataplane driver interface: what the VPN layer (src/vpn) asks of the
// forwarding plane, equivalent to the original bagpipe-bgp's
// `DataplaneDriver` / `VPNInstanceDataplane` (reference §5.1), with value
// types for every argument and errors as values.
//
// One DataplaneDriver exists per VPN type ("ipvpn", "evpn"); it creates one
// VpnInstanceDataplane per VPN instance (VRF or EVI). Implementations: the
// `dummy` driver (src/dataplane/dummy/, records calls and state) now; the
// Linux (VXLAN bridge, MPLS VRF) and OVS drivers later, through the same
// classes (docs/dataplane.md).
//
// Contract between the VPN layer (caller) and a driver:
//
//  * Executor. Every call is made on the daemon's single event loop, and a
//    driver calls nothing back: nothing here is thread-safe and no method may
//    block. A driver that needs I/O (netlink, ovs-ofctl, sysctl) starts it
//    asynchronously on that same loop, returns at once, and applies its
//    queued operations in call order. The status returned reports what can be
//    known synchronously (validation, unsupported operation); a failure found
//    later by asynchronous work is logged and shown in the driver's ToJson(),
//    never reported to the caller.
//  * Life cycle. The VPN manager calls ResetState() then Initialize() once,
//    before the first CreateInstance() of that driver (as the original does
//    on its first instance); `bagpipe-bgp-cleanup` calls ResetState() alone.
//    CreateInstance() comes before any call on the instance; Cleanup() is the
//    last call on an instance, after which the caller destroys it. The driver
//    outlives its instances.
//  * Order per key. For one instance and one key — a local endpoint
//    (MAC, IP); a remote endpoint (prefix or MAC, remote PE, label); a BUM
//    endpoint (remote PE, VNI); a classifier — the caller calls Setup/Add/
//    Plugged before the matching Remove/Unplugged. When a best route is
//    replaced, the new one is set up before the old one is removed
//    (make-before-break), and a Remove is not made for a key that another
//    best route still uses. Without ECMP support at most one remote endpoint
//    per prefix/MAC is meant to be programmed, but two may overlap briefly
//    during such a replacement.
//  * Idempotency. Setting up (plugging, adding) a key that is already there
//    replaces its attributes and succeeds; removing (unplugging) a key that
//    is absent succeeds and changes nothing. Drivers must tolerate both, so
//    that a retried or replayed sequence converges to the same state.
//  * Cleanup. If NeedsCleanupAssist() is true, the VPN layer first issues the
//    removal call for every local endpoint, remote endpoint, BUM endpoint and
//    classifier it had set up on the instance, then Cleanup(); otherwise
//    Cleanup() alone must remove everything the instance programmed.
//  * Arguments are validated by the VPN layer (directions through
//    ValidateDirection, encapsulations against SupportedEncapsulations,
//    labels and VNIs in range); drivers still refuse what they cannot do with
//    kInvalidArgument or kNotSupported instead of misprogramming.
//  * No exceptions cross this interface (nlohmann::json is built by value).
#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bgp/wire/esi.h"
#include "bgp/wire/ext_community.h"
#include "bgp/wire/ip_address.h"
#include "bgp/wire/mpls_label.h"

namespace bagpipe::dataplane {

// ---------------------------------------------------------------------------
// Errors as values.

enum class DataplaneErrorCode : uint8_t {
    kOk = 0,
    kInvalidArgument,  // a value the driver refuses (direction, label range, encapsulation)
    kNotSupported,     // an operation this driver does not implement
    kFailedPrecondition,  // contract violation: not initialised, instance cleaned up
    kUnavailable,      // driver not available (not built yet, kernel too old)
    kInternal,         // the dataplane refused a programming step
};
std::string_view DataplaneErrorCodeName(DataplaneErrorCode code);  // "invalid-argument"...

// Outcome of a driver call: OK (the default) or a code with a message meant
// for logs and, for kInvalidArgument, for the API's 400 ("Unsupported
// direction: to-port").
class [[nodiscard]] DataplaneStatus {
public:
    DataplaneStatus() = default;
    static DataplaneStatus Ok() { return {}; }
    static DataplaneStatus Error(DataplaneErrorCode code, std::string message) {
        return DataplaneStatus(code, std::move(message));
    }
    static DataplaneStatus InvalidArgument(std::string message) {
        return Error(DataplaneErrorCode::kInvalidArgument, std::move(message));
    }
    static DataplaneStatus NotSupported(std::string message) {
        return Error(DataplaneErrorCode::kNotSupported, std::move(message));
    }
    static DataplaneStatus FailedPrecondition(std::string message) {
        return Error(DataplaneErrorCode::kFailedPrecondition, std::move(message));
    }
    static DataplaneStatus Unavailable(std::string message) {
        return Error(DataplaneErrorCode::kUnavailable, std::move(message));
    }

    bool ok() const { return code_ == DataplaneErrorCode::kOk; }
    explicit operator bool() const { return ok(); }
    DataplaneErrorCode code() const { return code_; }
    const std::string& message() const { return message_; }  // empty when ok
    // nullopt when ok, the message otherwise.
    std::optional<std::string> error() const {
        return ok() ? std::nullopt : std::optional<std::string>(message_);
    }

    bool operator==(const DataplaneStatus&) const = default;

private:
    DataplaneStatus(DataplaneErrorCode code, std::string message)
        : code_(code), message_(std::move(message)) {}

    DataplaneErrorCode code_ = DataplaneErrorCode::kOk;
    std::string message_;
};

// A value or a (non-OK) DataplaneStatus.
template <typename T>
class [[nodiscard]] DataplaneResult {
public:
    // Implicit from anything T is built from (e.g. unique_ptr<Derived>).
    template <typename U>
        requires(std::is_constructible_v<T, U &&> &&
                 !std::is_same_v<std::remove_cvref_t<U>, DataplaneStatus>)
    DataplaneResult(U&& value) : value_(std::forward<U>(value)) {}  // NOLINT: implicit
    // `error` must not be OK; an OK status is turned into kInternal.
    DataplaneResult(DataplaneStatus error)  // NOLINT: implicit by design
        : error_(error.ok() ? DataplaneStatus::Error(DataplaneErrorCode::kInternal,
                                                     "DataplaneResult built from an OK status")
                            : std::move(error)) {}

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }
    const DataplaneStatus& status() const { return error_; }  // OK when ok()
    T& value() & { return *value_; }
    const T& value() const& { return *value_; }
    T&& value() && { return std::move(*value_); }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }

private:
    std::optional<T> value_;
    DataplaneStatus error_;
};

// ---------------------------------------------------------------------------
// Value types.

enum class VpnType : uint8_t { kIpVpn, kEvpn };
std::string_view VpnTypeName(VpnType type);  // "ipvpn", "evpn"
std::optional<VpnType> ParseVpnType(std::string_view text);

// Traffic directions of a local endpoint (the API's `direction`).
//   both:      both ways;
//   to-port:   traffic from the VPN is forwarded to the port (routes advertised);
//   from-port: traffic from the port is sent into the VPN (nothing advertised).
enum class Direction : uint8_t { kBoth, kToPort, kFromPort };
std::string_view DirectionName(Direction direction);  // "both", "to-port", "from-port"
// "both", "to-port", "from-port"; empty means both (as the original's null/"").
std::optional<Direction> ParseDirection(std::string_view text);

// Dataplane encapsulations. kDefault (0) stands for a route without an
// encapsulation extended community (plain MPLS for IP-VPN); the others are
// the RFC 9012 tunnel types (bgp::TunnelType values) that drivers use.
enum class Encapsulation : uint8_t {
    kDefault = 0,
    kGre = static_cast<uint8_t>(bgp::TunnelType::kGre),
    kVxlan = static_cast<uint8_t>(bgp::TunnelType::kVxlan),
    kNvgre = static_cast<uint8_t>(bgp::TunnelType::kNvgre),
    kMpls = static_cast<uint8_t>(bgp::TunnelType::kMpls),
    kMplsOverGre = static_cast<uint8_t>(bgp::TunnelType::kMplsOverGre),
    kVxlanGpe = static_cast<uint8_t>(bgp::TunnelType::kVxlanGpe),
    kMplsOverUdp = static_cast<uint8_t>(bgp::TunnelType::kMplsOverUdp),
};
// "DEFAULT", "GRE", "VXLAN", "NVGRE", "MPLS", "MPLS-over-GRE", "VXLAN-GPE",
// "MPLS-over-UDP"; the looking glass shows "encap:" + name like the original.
std::string_view EncapsulationName(Encapsulation encap);
// Case-insensitive name as above (also "mpls_over_gre", "mpls-in-udp" forms);
// nullopt if unknown.
std::optional<Encapsulation> ParseEncapsulation(std::string_view text);
// The encapsulation for an RFC 9012 tunnel type code; nullopt for types no
// driver handles.
std::optional<Encapsulation> EncapsulationFromTunnelType(uint16_t tunnel_type);

// A set of encapsulations as a bitmask (no heap; cheap to pass per route).
class EncapsulationSet {
public:
    constexpr EncapsulationSet() = default;
    constexpr EncapsulationSet(std::initializer_list<Encapsulation> encaps) {
        for (Encapsulation e : encaps) insert(e);
    }
    constexpr void insert(Encapsulation e) { bits_ |= Bit(e); }
    constexpr void erase(Encapsulation e) { bits_ &= ~Bit(e); }
    constexpr bool contains(Encapsulation e) const { return bits_ & Bit(e); }
    constexpr bool empty() const { return bits_ == 0; }
    size_t size() const;
    constexpr EncapsulationSet Intersect(EncapsulationSet o) const {
        EncapsulationSet s;
        s.bits_ = bits_ & o.bits_;
        return s;
    }
    std::vector<Encapsulation> ToVector() const;  // ascending code order
    // "encap:DEFAULT", "encap:MPLS", ... ascending code order.
    std::vector<std::string> Names() const;

    constexpr bool operator==(const EncapsulationSet&) const = default;
    constexpr auto operator<=>(const EncapsulationSet&) const = default;

private:
    static constexpr uint32_t Bit(Encapsulation e) {
        return uint32_t{1} << static_cast<uint8_t>(e);
    }
    uint32_t bits_ = 0;
};

// The original's `local_port.ovs` object (ipvpn ovs driver).
struct OvsPortInfo {
    bool plugged = false;                  // already in the bridge
    std::optional<uint32_t> port_number;   // OpenFlow port
    std::string port_name;                 // used without port_number; added when !plugged
    std::optional<uint16_t> vlan;          // traffic tagged with this VLAN

    auto operator<=>(const OvsPortInfo&) const = default;
    bool operator==(const OvsPortInfo&) const = default;
};

// Where a local endpoint is attached (the API's `local_port`, after the VPN
// layer resolved an `evpn` stitching into the veth it created).
struct LocalPort {
    std::string linuxif;               // interface name (may be a pseudo name for OVS)
    std::optional<OvsPortInfo> ovs;    // ipvpn ovs driver
    std::optional<uint16_t> vlan;      // evpn ovs driver: the network's VLAN on br-tun
    // IP-VPN: the gateway of this attach (its gateway_ip, with the subnet
    // length of its ip_address), which the VM on this port uses; empty when
    // the attach has none. An instance may serve several (one per subnet);
    // drivers serve each port the gateways of its own attaches and fall back
    // to InstanceConfig::gateway_ip when a caller leaves this empty.
    bgp::Prefix gateway;

    auto operator<=>(const LocalPort&) const = default;
    bool operator==(const LocalPort&) const = default;
};

// Parameters of a new VPN instance (initialize_dataplane_instance).
struct InstanceConfig {
    uint32_t instance_id = 0;          // internal id (1, 2, ...; never reused)
    std::string external_id;           // the API's vpn_instance_id
    bgp::IpAddress gateway_ip;         // empty when not given (evpn)
    uint8_t gateway_prefix_length = 0; // subnet length of the first attach's ip_address
    uint32_t instance_label = 0;       // IP-VPN: instance MPLS label; E-VPN: the VNI
    std::string linux_bridge;          // evpn `linuxbr`: existing bridge to use (linux driver)
    std::map<std::string, std::string> options;  // anything else a driver may want

    bool operator==(const InstanceConfig&) const = default;
};

// A route learned from a remote PE, as the dataplane needs it.
//   IP-VPN: `prefix` (the VRF's routing entry); `mac` and `ip` unused.
//   E-VPN (type 2): `mac`, and `ip` when the route carries one (for ARP/ND
//   entries), empty otherwise; `prefix` unused.
// The key of a remote endpoint is (prefix or mac, remote_pe, label).
struct RemoteEndpoint {
    bgp::Prefix prefix;
    bgp::MacAddress mac;
    bgp::IpAddress ip;
    bgp::IpAddress remote_pe;          // BGP next hop (tunnel destination)
    uint32_t label = 0;                // MPLS label value (IP-VPN) or VNI (E-VPN)
    // The encapsulations common to the route and the driver: never empty (a
    // route without encapsulation community counts as kDefault).
    EncapsulationSet encaps;
    uint32_t lb_consistent_hash_order = 0;  // OVS select-group bucket id hint
    // IP-VPN over VXLAN (E-VPN type 5, RFC 9136 §4.4.1): the remote PE's
    // router's MAC extended community, the inner destination MAC to use.
    std::optional<bgp::MacAddress> router_mac;
    std::string nlri;                  // the route's NLRI as text, for logs

    bool operator==(const RemoteEndpoint&) const = default;
};

// A flooding (BUM) destination from an E-VPN type 3 route with an ingress
// replication PMSI tunnel. Key: (remote_pe, vni).
struct BumEndpoint {
    bgp::IpAddress remote_pe;          // PMSI tunnel endpoint
    uint32_t vni = 0;                  // VNI (or MPLS label) from the PMSI attribute
    EncapsulationSet encaps;
    std::string nlri;

    bool operator==(const BumEndpoint&) const = default;
};

struct PortRange {
    uint16_t min = 0;
    uint16_t max = 0;  // == min for a single port

    auto operator<=>(const PortRange&) const = default;
    bool operator==(const PortRange&) const = default;
};

// A FlowSpec traffic classifier (attract_traffic / redirect-to-VRF). Fields
// not set match anything.
struct TrafficClassifier {
    std::optional<bgp::Prefix> source_prefix;
    std::optional<bgp::Prefix> destination_prefix;
    std::optional<uint8_t> protocol;   // IP protocol number (6 tcp, 17 udp, ...)
    std::optional<PortRange> source_port;
    std::optional<PortRange> destination_port;

    auto operator<=>(const TrafficClassifier&) const = default;
    bool operator==(const TrafficClassifier&) const = default;
};

// The API's `fallback` (ipvpn ovs driver): on a VRF lookup miss, rewrite the
// MACs and output to that port.
struct Fallback {
    bgp::MacAddress src_mac;
    bgp::MacAddress dst_mac;
    uint32_t ovs_port_number = 0;

    auto operator<=>(const Fallback&) const = default;
    bool operator==(const Fallback&) const = default;
};

// JSON renderings of the value types (looking glass, call logs).
nlohmann::json ToJson(const LocalPort& port);
nlohmann::json ToJson(const InstanceConfig& config);
nlohmann::json ToJson(VpnType type, const RemoteEndpoint& endpoint);
nlohmann::json ToJson(const BumEndpoint& endpoint);
nlohmann::json ToJson(const TrafficClassifier& classifier);
nlohmann::json ToJson(const Fallback& fallback);
// A JSON string for an address, or null when empty.
nlohmann::json AddressJson(const bgp::IpAddress& address);
// "80" or "1000:2000".
std::string PortRangeString(const PortRange& range);

// ---------------------------------------------------------------------------
// The interfaces.

// VpnInstanceDataplane — the forwarding state of one VPN instance (a VRF or
// an EVI): local ports plugged into it, remote endpoints learned by BGP, and
// the type-specific extras. Methods of the other VPN type are never called
// by the VPN layer; a driver answers them with kNotSupported.
//
// Invariants: see the contract at the top of this file (executor, call order
// per key, idempotency, Cleanup last).
class VpnInstanceDataplane {
public:
    virtual ~VpnInstanceDataplane() = default;

    // A local endpoint (mac, ip) on `port`. `ip` is the bare address (no
    // length); empty for an E-VPN endpoint without IP. `label` is the
    // endpoint's (per port) MPLS label; `direction` was accepted by
    // ValidateDirection.
    virtual DataplaneStatus VifPlugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                                       const LocalPort& port, uint32_t label,
                                       Direction direction) = 0;
    // Reverses VifPlugged; `last_endpoint` is true when no other endpoint of
    // this instance remains on `port` (the driver may then detach the port).
    virtual DataplaneStatus VifUnplugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                                         const LocalPort& port, uint32_t label,
                                         Direction direction, bool last_endpoint) = 0;

    // setup_/remove_dataplane_for_remote_endpoint.
    virtual DataplaneStatus SetupRemoteEndpoint(const RemoteEndpoint& endpoint) = 0;
    virtual DataplaneStatus RemoveRemoteEndpoint(const RemoteEndpoint& endpoint) = 0;

    // The instance's fallback (nullopt: none). Drivers without fallback
    // support return kNotSupported (the VPN layer logs it, as the original).
    virtual DataplaneStatus UpdateFallback(const std::optional<Fallback>& fallback) = 0;

    // Removes everything this instance programmed. The last call.
    virtual DataplaneStatus Cleanup() = 0;

    // IP-VPN: traffic matching `classifier` is looked up in the VRF of
    // internal id `redirect_instance_id` (FlowSpec redirect-to-VRF).
    virtual DataplaneStatus AddTrafficClassifier(const TrafficClassifier& classifier,
                                                 uint32_t redirect_instance_id) = 0;
    virtual DataplaneStatus RemoveTrafficClassifier(const TrafficClassifier& classifier) = 0;

    // E-VPN: flooding towards a remote PE (ingress replication).
    virtual DataplaneStatus AddBumEndpoint(const BumEndpoint& endpoint) = 0;
    virtual DataplaneStatus RemoveBumEndpoint(const BumEndpoint& endpoint) = 0;
    // E-VPN: the interface stitching this EVI to an IP-VPN (local_port.evpn),
    // with the VRF's gateway IP; GatewayPortDown detaches it.
    virtual DataplaneStatus SetGatewayPort(std::string_view linuxif,
                                           const bgp::IpAddress& gateway_ip) = 0;
    virtual DataplaneStatus GatewayPortDown(std::string_view linuxif) = 0;

    // Driver-specific state for the instance's looking-glass `dataplane`
    // path (the API adds the `driver` link and `logs`).
    virtual nlohmann::json ToJson() const = 0;
};

// DataplaneDriver — one per VPN type; creates the instances' dataplanes and
// describes what the dataplane supports (encapsulations, ECMP, directions).
//
// Invariants: type() never changes; the capability queries are constant for
// the driver's life. Executor and life cycle: see the top of this file.
class DataplaneDriver {
public:
    virtual ~DataplaneDriver() = default;

    virtual VpnType type() const = 0;
    // Canonical driver name: "dummy", "linux" or "ovs".
    virtual std::string_view name() const = 0;

    // Removes whatever a previous run left in the dataplane.
    virtual DataplaneStatus ResetState() = 0;
    // Prepares the dataplane (modules, sysctls, tunnel ports).
    virtual DataplaneStatus Initialize() = 0;

    // initialize_dataplane_instance.
    virtual DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> CreateInstance(
        const InstanceConfig& config) = 0;

    // Encapsulations this dataplane accepts (and advertises, except kDefault).
    virtual EncapsulationSet SupportedEncapsulations() const = 0;
    // True: the VPN layer replays removals of all state before Cleanup().
    virtual bool NeedsCleanupAssist() const = 0;
    // OK, or kInvalidArgument "Unsupported direction: to-port".
    virtual DataplaneStatus ValidateDirection(Direction direction) const = 0;
    // True: every equal best route is programmed (multipath); false: one.
    virtual bool EcmpSupport() const = 0;
    // The tunnel endpoint: next hop of locally originated routes.
    virtual bgp::IpAddress LocalAddress() const = 0;
    // IP-VPN over VXLAN (E-VPN type 5, RFC 9136 §4.4.1): the MAC of this
    // node's router interface, advertised as the router's MAC community so
    // that remote PEs can build the inner Ethernet header; nullopt when the
    // driver has none (then type 5 routes go without it).
    virtual std::optional<bgp::MacAddress> RouterMac() const { return std::nullopt; }

    // The looking glass `vpns/dataplane/drivers/<type>` object: at least
    // name, local_address, supported_encaps, config (as the original).
    virtual nlohmann::json ToJson() const = 0;
};

}  // namespace bagpipe::dataplane
