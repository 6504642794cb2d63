// VpnManager — the compute node's VPN service: the instances keyed by the
// API's vpn_instance_id, the dataplane drivers (one per VPN type), the label
// / VNI and RD allocators, RT Constraint origination, and the dispatch of
// received routes to the instances that import them.
//
//   REST attach/detach → Attach/Detach → VpnInstance (plug, originate)
//   BgpSpeaker Loc-RIB changes (set_loc_rib_observer) → OnLocRibChanges →
//     RT index (import route target → instances) → VpnInstance::OnRoute
//
// RT Constraint (RFC 4684): the first instance importing a route target
// makes the manager originate RTC(my_as, RT); the last one leaving withdraws
// it, so that route reflectors send this node only what it imports.
//
// Choices (vs the original): routes originated by this node are not
// imported into its other instances (no local leaking between instances);
// errors the original answered with 500 are 400s with a message; an instance
// whose first attach fails is not left behind; a forced VNI cannot collide
// with an allocated label.
//
// Invariants: imported_by_[key] lists exactly the instances holding a
// candidate for `key`; rt_index_ lists each instance under each of its import
// RTs; rtc_refs_[rt] counts the instances importing rt and an RTC route is
// announced exactly for the RTs with a positive count (when RTC is enabled).
//
// Executor: the daemon's event loop (REST handlers and the speaker's flush
// run there); nothing is thread-safe.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <functional>
#include <vector>

#include "bgp/rib/rib.h"
#include "bgp/speaker/speaker.h"
#include "dataplane/driver.h"
#include "vpn/attach_params.h"
#include "vpn/identifier_allocator.h"
#include "vpn/vpn_instance.h"

namespace bagpipe::vpn {

struct VpnManagerConfig {
    uint32_t local_as = 0;
    bgp::IpAddress bgp_local_address;  // RTC next hop, type-3 originating IP
    uint32_t router_id = 0;            // RD administrator, host order
    bool enable_rtc = true;
    // E-VPN → IP-VPN stitching: creates the veth pair (first name on the
    // EVI's side, second on the VRF's) and deletes it (by its first name).
    // Unset: nothing is created (the dummy drivers need no interface).
    // Returns an error message on failure.
    std::function<std::optional<std::string>(const std::string&, const std::string&)> create_veth;
    std::function<void(const std::string&)> delete_veth;
};

// The BGP speaker as a RouteSink.
class SpeakerRouteSink : public RouteSink {
public:
    explicit SpeakerRouteSink(bgp::BgpSpeaker& speaker) : speaker_(speaker) {}
    void Announce(bgp::Family family, const bgp::NlriList& nlri, const bgp::PathAttributes& attrs,
                  const bgp::NextHop& next_hop) override {
        speaker_.Announce(family, nlri, attrs, next_hop);
    }
    void Withdraw(bgp::Family family, const bgp::NlriList& nlri) override {
        speaker_.Withdraw(family, nlri);
    }

private:
    bgp::BgpSpeaker& speaker_;
};

struct VpnManagerStats {
    uint64_t attaches = 0;
    uint64_t detaches = 0;
    uint64_t errors = 0;        // refused attach/detach requests
    uint64_t route_changes = 0; // Loc-RIB changes examined
    uint64_t imports = 0;       // candidate updates handed to instances
};

class VpnManager {
public:
    // `rib` is read to import the routes already known when an instance
    // starts importing a route target (may be null: nothing to import).
    VpnManager(RouteSink& sink, const bgp::Rib* rib, VpnManagerConfig config,
               std::unique_ptr<dataplane::DataplaneDriver> ipvpn,
               std::unique_ptr<dataplane::DataplaneDriver> evpn);
    ~VpnManager();
    VpnManager(const VpnManager&) = delete;
    VpnManager& operator=(const VpnManager&) = delete;

    // POST /attach_localport and /detach_localport (validated parameters).
    std::optional<ApiError> Attach(const AttachParams& p);
    std::optional<ApiError> Detach(const AttachParams& p);

    // Feed of the speaker's Loc-RIB changes (VPN families).
    void OnLocRibChanges(std::vector<bgp::LocRibChange>&& changes);
    // The speaker's LocRibFilter: false for a change OnLocRibChanges would
    // ignore (no instance imports one of the route's RTs and none holds it),
    // at once when there is no instance at all (a route reflector).
    bool Observes(const bgp::RouteKey& key, bgp::PeerId peer, const bgp::AttrEntry* attrs) const;
    // The families to observe.
    static bgp::FamilySet ObservedFamilies();

    // Stops every instance (withdraws, dataplane cleanup), e.g. on shutdown.
    void StopAll();

    // Looking glass.
    const VpnInstance* Find(std::string_view external_id) const;
    // Instances in creation order.
    std::vector<const VpnInstance*> Instances() const;
    size_t size() const { return by_external_.size(); }
    const dataplane::DataplaneDriver* driver(dataplane::VpnType type) const;
    const IdentifierAllocator& labels() const { return labels_; }
    const IdentifierAllocator& rds() const { return rds_; }
    const std::map<bgp::ExtCommunity, uint32_t>& rtc_refs() const { return rtc_refs_; }
    const VpnManagerStats& stats() const { return stats_; }
    const VpnManagerConfig& config() const { return config_; }

private:
    VpnInstance* Get(uint32_t id) const;
    // `forced_id` 0: the next id.
    std::optional<ApiError> Create(const AttachParams& p, VpnInstance*& out, uint32_t forced_id = 0);
    // Import route targets and readvertise of an attach: RT index, RTC,
    // candidates dropped or imported.
    void SetSubscriptions(VpnInstance& inst, const std::vector<bgp::ExtCommunity>& import_rts,
                          const std::optional<Readvertise>& readvertise);
    void ImportExisting(VpnInstance& inst, const std::vector<bgp::ExtCommunity>& added);
    void RefRt(const bgp::ExtCommunity& rt);
    void UnrefRt(const bgp::ExtCommunity& rt);
    void Destroy(VpnInstance& inst);
    // local_port.evpn: the EVI it names (or an error).
    std::variant<VpnInstance*, ApiError> StitchedEvi(const AttachParams& p) const;
    // The same for Attach/Detach: `evi` null without local_port.evpn; an
    // error is counted.
    std::optional<ApiError> ResolveStitch(const AttachParams& p, VpnInstance*& evi);
    InstanceContext Context();
    // FlowSpec redirect-to-VRF instances ("redirect-to-ipvpn-<asn>_<nn>",
    // importing the redirect route target, no port), counted by the
    // classifiers using them. Created and destroyed after the current
    // dispatch (an instance is never created from inside another's call).
    uint32_t AcquireRedirect(const bgp::ExtCommunity& rt);
    void ReleaseRedirect(const bgp::ExtCommunity& rt);
    void ApplyRedirects();
    struct RedirectState {
        uint32_t id = 0;
        uint32_t refs = 0;
        bool created = false;
    };
    std::map<bgp::ExtCommunity, RedirectState> redirects_;
    bool redirects_dirty_ = false;

    RouteSink& sink_;
    const bgp::Rib* rib_;
    VpnManagerConfig config_;
    std::unique_ptr<dataplane::DataplaneDriver> drivers_[2];  // by VpnType
    bool driver_ready_[2] = {false, false};
    IdentifierAllocator labels_{kMinLabel, kMaxLabel};
    IdentifierAllocator rds_{0, kMaxRdNumber};
    uint32_t next_id_ = 1;
    std::map<uint32_t, std::unique_ptr<VpnInstance>> by_id_;
    std::map<std::string, uint32_t, std::less<>> by_external_;
    std::map<uint32_t, uint32_t> forced_vnis_;  // vni → instance id
    std::map<bgp::ExtCommunity, std::vector<uint32_t>> rt_index_;
    std::map<bgp::ExtCommunity, uint32_t> rtc_refs_;
    boost::unordered_flat_map<bgp::RouteKey, std::vector<uint32_t>, bgp::RouteKeyHash> imported_by_;
    VpnManagerStats stats_;
};

}  // namespace bagpipe::vpn
