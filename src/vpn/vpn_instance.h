// VpnInstance — one VPN instance of the compute node: an E-VPN instance
// (EVI, a MAC-VRF) or an IP-VPN instance (VRF), keyed by the API's
// vpn_instance_id. It owns the instance's dataplane (VpnInstanceDataplane),
// its local endpoints (MAC, IP on a port), the routes it originates for them
// and the routes it imports, with best-path selection per tracked entry.
//
//   originate: endpoint → routes (route_origination.h) → RouteSink
//   import:    VpnManager hands it the Loc-RIB changes of routes carrying one
//              of its import route targets (OnRoute) → candidates per tracked
//              entry (VRF: the prefix; EVI: the MAC for type 2, the route for
//              type 3) → best path → driver calls, make-before-break.
//
// Best path, deterministic (the original's depended on Python's hash seed):
//   VRF: highest LOCAL_PREF; then, with an ECMP driver, every such route is
//        programmed; otherwise the lowest next hop, then the lowest route key.
//   EVI: highest MAC mobility sequence (RFC 7432 §15), highest LOCAL_PREF, a
//        route with an IP over one without, lowest next hop, lowest key.
// A remote route for a MAC (EVI) or a prefix (VRF) that is plugged locally is
// kept as a candidate but not programmed while the local endpoint exists.
//
// Invariants: `programmed` of each tracked entry is exactly what the driver
// was last asked to hold for it; every originated route is in adv_routes_
// and in the speaker's Loc-RIB as a local route; an endpoint's label and RD
// are allocated from the manager's allocators while the endpoint exists.
//
// Executor: the daemon's event loop (called by VpnManager only).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bgp/rib/attr_store.h"
#include "bgp/rib/peer.h"
#include "bgp/rib/route_key.h"
#include "bgp/speaker/speaker.h"
#include "bgp/wire/route_distinguisher.h"
#include "dataplane/driver.h"
#include "vpn/attach_params.h"

namespace bagpipe::vpn {

// Where an instance's routes go (the BGP speaker in the daemon).
class RouteSink {
public:
    virtual ~RouteSink() = default;
    virtual void Announce(bgp::Family family, const bgp::NlriList& nlri,
                          const bgp::PathAttributes& attrs, const bgp::NextHop& next_hop) = 0;
    virtual void Withdraw(bgp::Family family, const bgp::NlriList& nlri) = 0;
};

// A route the instance originates.
struct OriginatedRoute {
    bgp::Family family = bgp::Family::kUnknown;
    bgp::NlriList nlri;  // exactly one NLRI
    bgp::PathAttributes attrs;
    bgp::NextHop next_hop;
    bool operator==(const OriginatedRoute&) const = default;
};

// A local endpoint: one (MAC, IP) attached to a port.
struct Endpoint {
    bgp::MacAddress mac;
    bgp::IpAddress ip;               // empty: an E-VPN endpoint without IP
    uint8_t prefix_length = 0;
    std::string ip_text;             // as given to the API
    std::string port;                // linuxif (the port's key)
    bool advertise_subnet = false;
    uint32_t lb_consistent_hash_order = 0;
    std::optional<uint32_t> local_pref;
    dataplane::Direction direction = dataplane::Direction::kBoth;
    nlohmann::json description;
    std::optional<uint32_t> rd_number;  // its own RD (advertise_subnet)
    std::vector<bgp::RouteKey> routes;  // keys it advertises
    bgp::Prefix gateway;                // its attach's gateway_ip / subnet length (empty: none)
};

// A received route considered by the instance.
struct Candidate {
    bgp::RouteKey key;
    bgp::PeerId peer = bgp::kLocalPeer;
    bgp::AttrRef attrs;
    bgp::NlriPayload payload;
};

// A tracked entry's identity: a prefix (VRF), a MAC (EVI type 2) or one
// route (EVI type 3).
struct TrackedKey {
    enum class Kind : uint8_t { kPrefix, kMac, kMulticast, kFlow } kind = Kind::kPrefix;
    bgp::Prefix prefix;
    bgp::MacAddress mac;
    bgp::RouteKey route;
    auto operator<=>(const TrackedKey&) const = default;
    bool operator==(const TrackedKey&) const = default;
    // The original's repr: "'10.0.0.2/32'", "('MAC', 52:54:00:00:00:02)",
    // "('Multicast', (127.0.1.3,  rd 127.0.1.3:2))"; a FlowSpec rule: "flow <rule>".
    std::string ToString() const;
};

struct Tracked {
    std::vector<Candidate> candidates;
    std::vector<bgp::RouteKey> best;               // keys of the selected candidates
    std::vector<dataplane::RemoteEndpoint> remotes;  // programmed
    std::optional<dataplane::BumEndpoint> bum;       // programmed (type 3)
    // FlowSpec redirect-to-VRF (kFlow): the classifier programmed, the route
    // target redirected to and the redirect instance's id.
    struct Redirect {
        dataplane::TrafficClassifier classifier;
        bgp::ExtCommunity route_target;
        uint32_t instance_id = 0;
        bool operator==(const Redirect&) const = default;
    };
    std::optional<Redirect> redirect;
};

// What the manager gives an instance when it creates it.
struct InstanceContext {
    RouteSink* sink = nullptr;
    dataplane::DataplaneDriver* driver = nullptr;
    uint32_t local_as = 0;
    bgp::IpAddress bgp_local_address;  // type-3 originating IP
    uint32_t router_id = 0;            // RD administrator (type 1)
    // Allocates / releases per-endpoint labels and RD numbers.
    std::function<std::optional<uint32_t>(std::string)> allocate_label;
    std::function<void(uint32_t)> release_label;
    std::function<std::optional<uint32_t>(std::string)> allocate_rd;
    std::function<void(uint32_t)> release_rd;
    // FlowSpec redirect-to-VRF: the internal id of the instance importing
    // `rt` (created by the manager if needed; counted), and its release.
    std::function<uint32_t(const bgp::ExtCommunity& rt)> acquire_redirect;
    std::function<void(const bgp::ExtCommunity& rt)> release_redirect;
};

struct ApiError {
    int status = 400;
    std::string message;  // after "API error: "
};

class VpnInstance {
public:
    VpnInstance(const InstanceContext& ctx, dataplane::VpnType type, uint32_t id,
                std::string external_id, uint32_t instance_label, bool label_forced,
                uint32_t rd_number, std::unique_ptr<dataplane::VpnInstanceDataplane> dataplane,
                const AttachParams& first);
    ~VpnInstance();
    VpnInstance(const VpnInstance&) = delete;
    VpnInstance& operator=(const VpnInstance&) = delete;

    dataplane::VpnType type() const { return type_; }
    bool is_evpn() const { return type_ == dataplane::VpnType::kEvpn; }
    uint32_t id() const { return id_; }
    const std::string& external_id() const { return external_id_; }
    // "EVI-1", "VRF-2".
    std::string name() const;
    uint32_t instance_label() const { return instance_label_; }
    bool label_forced() const { return label_forced_; }
    uint32_t rd_number() const { return rd_number_; }
    bgp::RouteDistinguisher rd() const;
    // The RD of an endpoint's routes: its own (advertise_subnet) or rd().
    bgp::RouteDistinguisher EndpointRd(const Endpoint& ep) const;
    const std::optional<std::string>& description() const { return description_; }
    // The first attach's gateway (the original keeps only this one).
    const bgp::IpAddress& gateway_ip() const { return gateway_ip_; }
    // Every gateway the plugged endpoints use (one per subnet), the first
    // attach's first when still used, then in address order.
    std::vector<bgp::IpAddress> gateway_ips() const;
    uint8_t subnet_prefix_length() const { return subnet_prefix_length_; }
    const std::vector<bgp::ExtCommunity>& import_rts() const { return import_rts_; }
    const std::vector<bgp::ExtCommunity>& export_rts() const { return export_rts_; }
    const std::optional<Readvertise>& readvertise() const { return readvertise_; }
    const std::optional<AttractTraffic>& attract_traffic() const { return attract_traffic_; }
    const std::optional<dataplane::Fallback>& fallback() const { return fallback_; }
    const std::map<std::pair<bgp::MacAddress, bgp::IpAddress>, Endpoint>& endpoints() const {
        return endpoints_;
    }
    const std::map<std::string, LocalPortSpec>& ports() const { return ports_; }
    // Per-MAC label (the label advertised by a VRF for that MAC's endpoints).
    std::optional<uint32_t> MacLabel(const bgp::MacAddress& mac) const;
    const std::map<bgp::RouteKey, OriginatedRoute>& adv_routes() const { return adv_routes_; }
    const std::map<TrackedKey, Tracked>& tracked() const { return tracked_; }
    const dataplane::VpnInstanceDataplane& dataplane() const { return *dataplane_; }
    bool empty() const { return endpoints_.empty(); }
    // Routes ignored on import because no encapsulation was common with the
    // driver (shown in the looking glass).
    uint64_t encap_mismatches() const { return encap_mismatches_; }

    // E-VPN → IP-VPN stitching (local_port.evpn): this EVI's gateway port,
    // the interface towards the VRF `vrf_external_id` (internal id vrf_id).
    struct GatewayPort {
        std::string interface;
        std::string vrf_external_id;
        uint32_t vrf_id = 0;
        bgp::IpAddress gateway_ip;
    };
    const std::optional<GatewayPort>& gateway_port() const { return gateway_port_; }
    std::optional<ApiError> SetGatewayPort(const GatewayPort& g);
    void GatewayPortDown();

    // Families whose routes the instance imports (EVI: EVPN; VRF: VPNv4,
    // VPNv6 and EVPN type 5).
    bool ImportsFamily(bgp::Family family, const bgp::RouteKey& key) const;
    // True when `attrs` carries one of the import route targets or, for a
    // VRF with readvertise, one of its from_rt (the route is then re-advertised).
    bool ImportsRoute(const bgp::PathAttributes& attrs) const;
    // Import route targets plus readvertise from_rt: what the instance
    // subscribes to (RT index, RTC).
    std::vector<bgp::ExtCommunity> SubscribedRts() const;

    // Description and route targets from an attach (live update: imports are
    // the manager's business, exports re-advertise every route).
    void SetDescription(const std::optional<std::string>& d);
    void SetImportRts(std::vector<bgp::ExtCommunity> rts) { import_rts_ = std::move(rts); }
    void SetExportRts(std::vector<bgp::ExtCommunity> rts);
    // readvertise / attract_traffic / fallback of an attach.
    void SetReadvertise(const std::optional<Readvertise>& r);
    void SetAttractTraffic(const std::optional<AttractTraffic>& a);
    void SetFallback(const std::optional<dataplane::Fallback>& f);

    // Plugs the endpoint of `p` (validated by the manager); idempotent.
    std::optional<ApiError> Plug(const AttachParams& p, const dataplane::LocalPort& port);
    // Unplugs the endpoint(s) of `p`: with an IP that one, without (E-VPN)
    // every endpoint of the MAC.
    std::optional<ApiError> Unplug(const AttachParams& p);

    // A Loc-RIB change of a route this instance imports (`imported`) or no
    // longer imports (RT gone, route withdrawn or its targets changed).
    void OnRoute(const bgp::LocRibChange& change, bool imported);
    // Keys of every candidate held (the manager's bookkeeping on removal).
    std::vector<bgp::RouteKey> CandidateKeys() const;

    // Withdraws every route, removes every programmed state and cleans the
    // dataplane up (the instance's last call).
    void Stop();

    // The instance's type-3 route (EVI) is (re-)advertised.
    void AdvertiseInstanceRoutes();
    // Best path and re-advertisement of every tracked entry again (after an
    // import / readvertise change).
    void RecomputeAll();
    // Prefixes re-advertised (readvertise) and the keys of their routes.
    const std::map<bgp::Prefix, std::vector<bgp::RouteKey>>& readvertised() const {
        return readvertised_;
    }

private:
    std::vector<OriginatedRoute> EndpointRoutes(const Endpoint& ep) const;
    std::vector<OriginatedRoute> InstanceRoutes() const;
    // readvertise: `prefix` re-advertised towards to_rt once per local
    // endpoint, with the endpoint's RD and label; `original` are the route's
    // route targets (carried as RT-record).
    std::vector<OriginatedRoute> ReadvertisedRoutes(const bgp::Prefix& prefix,
                                                    const std::vector<bgp::ExtCommunity>& original) const;
    // One VPN route for `prefix` per local endpoint forwarding to its port:
    // the endpoint's RD and label, `route_targets`, RT-records.
    std::vector<OriginatedRoute> PerEndpointRoutes(const bgp::Prefix& prefix,
                                                   const std::vector<bgp::ExtCommunity>& route_targets,
                                                   const std::vector<bgp::ExtCommunity>& rt_records) const;
    void SyncReadvertised(const bgp::Prefix& prefix, const Candidate* best);
    // attract_traffic: the FlowSpec-VPN route redirecting traffic towards
    // `prefix` to the to_rt VRF, and the default (or static) routes towards
    // to_rt, advertised while any prefix is re-advertised.
    OriginatedRoute FlowspecRoute(const bgp::Prefix& prefix) const;
    std::vector<OriginatedRoute> AttractRoutes() const;
    void SyncAttract();
    void RecomputeFlow(Tracked& t, const std::vector<const Candidate*>& best);
    bool HasImportRt(const bgp::PathAttributes& attrs) const;
    bool HasFromRt(const bgp::PathAttributes& attrs) const;
    void EnsureEndpointRd(Endpoint& ep);
    // Makes the speaker hold exactly `want` for the routes listed in `have`.
    void SyncRoutes(std::vector<bgp::RouteKey>& have, const std::vector<OriginatedRoute>& want);
    void SyncEndpoint(Endpoint& ep);
    void SyncAll();
    bool LocallyPlugged(const TrackedKey& k) const;
    // The prefix a VRF endpoint delivers locally (its advertised one).
    std::optional<bgp::Prefix> LocalPrefixOf(const Endpoint& ep) const;
    // Keeps ip_owner_, port_refs_ and local_prefixes_ in step with endpoints_.
    void IndexEndpoint(const Endpoint& ep, bool add);
    void Recompute(const TrackedKey& k);
    std::optional<TrackedKey> TrackedKeyOf(const bgp::RouteKey& key) const;
    dataplane::EncapsulationSet RouteEncaps(const bgp::PathAttributes& attrs) const;
    bool vxlan() const;
    void Unprogram(Tracked& t);
    void RemoveEndpoint(std::map<std::pair<bgp::MacAddress, bgp::IpAddress>, Endpoint>::iterator it);
    uint32_t MobilitySequenceFor(const bgp::MacAddress& mac) const;

    InstanceContext ctx_;
    dataplane::VpnType type_;
    uint32_t id_;
    std::string external_id_;
    uint32_t instance_label_;
    bool label_forced_;
    uint32_t rd_number_;
    std::unique_ptr<dataplane::VpnInstanceDataplane> dataplane_;
    std::optional<std::string> description_;
    bgp::IpAddress gateway_ip_;
    uint8_t subnet_prefix_length_ = 0;
    std::vector<bgp::ExtCommunity> import_rts_;
    std::vector<bgp::ExtCommunity> export_rts_;
    std::optional<Readvertise> readvertise_;
    std::optional<AttractTraffic> attract_traffic_;
    std::optional<dataplane::Fallback> fallback_;

    std::map<std::pair<bgp::MacAddress, bgp::IpAddress>, Endpoint> endpoints_;
    std::map<std::string, LocalPortSpec> ports_;  // linuxif → spec
    std::map<bgp::IpAddress, bgp::MacAddress> ip_owner_;  // one MAC per IP
    std::map<std::string, size_t> port_refs_;           // endpoints per port
    std::map<bgp::Prefix, size_t> local_prefixes_;      // VRF: prefixes delivered locally
    struct MacState {
        std::string port;
        uint32_t label = 0;
        uint32_t mobility_sequence = 0;
        size_t endpoints = 0;
    };
    std::map<bgp::MacAddress, MacState> macs_;
    std::vector<bgp::RouteKey> instance_routes_;  // type 3
    std::map<bgp::RouteKey, OriginatedRoute> adv_routes_;
    std::map<TrackedKey, Tracked> tracked_;
    std::map<bgp::Prefix, std::vector<bgp::RouteKey>> readvertised_;
    std::optional<GatewayPort> gateway_port_;
    std::vector<bgp::RouteKey> attract_routes_;
    uint64_t encap_mismatches_ = 0;
    bool stopped_ = false;
};

}  // namespace bagpipe::vpn
