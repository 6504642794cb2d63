// The BGP speaker: configured peers' sessions, the RIB, RT Constraint and
// route reflection, tied together on one event loop.
#pragma once

#include <boost/asio.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bgp/rib/attr_store.h"
#include "bgp/rib/rib.h"
#include "bgp/rib/rt_membership.h"
#include "bgp/session/listener.h"
#include "bgp/session/peer_session.h"
#include "bgp/speaker/export_policy.h"

namespace bagpipe::bgp {

struct SpeakerPeerConfig {
    PeerSessionConfig session;  // addresses, FSM (AS numbers, timers, capabilities), MD5
    bool rr_client = false;     // RFC 4456 client (meaningful with route_reflector)
    // 0: no limit. Above it: a warning, or a Cease 6/1 teardown (RFC 4486).
    uint64_t max_prefix = 0;
    bool max_prefix_teardown = true;
};

struct SpeakerConfig {
    uint32_t local_as = 0;
    uint32_t router_id = 0;   // host order
    uint32_t cluster_id = 0;  // host order; 0: the router id
    bool route_reflector = false;
    IpAddress local_address;  // next-hop-self towards eBGP; RTC next hop
    // Accept incoming connections on this endpoint (port 0: ephemeral);
    // nullopt: never listen (the original bagpipe-bgp's behaviour).
    std::optional<boost::asio::ip::tcp::endpoint> listen;
    // Advertise the default RTC route (RFC 4684 §4: "send me every VPN
    // route") to RTC peers. For a pure speaker or a test node.
    bool rtc_wildcard = false;
    // Routes visited per step of a full-table export (initial dump, RTC
    // interest change); the step ends early when the peer's queue fills up.
    size_t export_step = 4096;
    // RFC 4684 §6: VPN routes wait for an RTC peer's RTC End-of-RIB; a peer
    // that sends none (GoBGP without graceful restart) is treated as ready
    // after this long, in FSM seconds (the peer's time_scale).
    uint32_t rtc_end_of_rib_timeout = 5;
    // A peer whose back-pressure backlog lasts this long while the withdrawn
    // entries it keeps in the table outnumber the routes (and 64 k) is reset
    // (ResetStuckBacklogs).
    std::chrono::milliseconds stuck_backlog{120'000};
    std::vector<SpeakerPeerConfig> peers;
};

// One Loc-RIB best-path change as the VPN layer sees it (set_loc_rib_observer):
// the route `key` of `family` now has best path `attrs` from `peer` with NLRI
// data `payload`, or no path at all (`attrs` null).
struct LocRibChange {
    Family family = Family::kUnknown;
    RouteKey key;
    PeerId peer = kLocalPeer;
    AttrRef attrs;        // null: withdrawn
    NlriPayload payload;  // labels, ESI, gateway (when attrs)
};
using LocRibObserver = std::function<void(std::vector<LocRibChange>&&)>;
// Which changes the observer wants, asked once per change of an observed
// family before anything is copied: the route `key`, its new best path's
// peer and attribute set (null: withdrawn). Empty: every change.
using LocRibFilter =
    std::function<bool(const RouteKey& key, PeerId peer, const AttrEntry* attrs)>;

// Per-peer view for the looking glass / state file.
struct SpeakerPeerStatus {
    std::string name;
    std::string address;
    PeerSessionStats session;
    std::vector<Family> families;  // negotiated, when Established
    std::vector<std::pair<Family, size_t>> prefixes_received;
    uint64_t nlri_announced_out = 0;  // cumulative
    uint64_t nlri_withdrawn_out = 0;
    uint64_t updates_in = 0;
    uint64_t loops_dropped = 0;       // routes ignored by IsLoop
    bool rtc = false;                 // RTC negotiated
    bool rtc_ready = false;           // its RTC End-of-RIB received
    size_t rtc_routes = 0;
    size_t backlog = 0;               // routes waiting for its queue to drain
    bool dumping = false;             // a table export is under way
    bool stale = false;               // graceful restart: its routes are kept as stale
};

// BgpSpeaker — owns one PeerSession per configured peer, a BgpListener when
// configured to listen, the AttrStore, the Rib and the RtMembership index,
// and runs the pipeline of docs/pipeline.md:
//
//   UPDATE → loop check → intern attributes → Rib (Adj-RIB-In / Loc-RIB)
//          → (RTC NLRI also → RtMembership)
//   flush (once per event-loop turn with changes):
//          RTC interest changes → table scans for the peers concerned;
//          Loc-RIB change log → export: for every established peer that
//          negotiated the family (and, for VPN families towards an RTC peer,
//          whose RTC End-of-RIB came and whose RTC routes match the route's
//          targets) MayExport decides announce or withdraw; routes going to
//          the same peers with the same outgoing attributes are encoded once
//          (update groups: iBGP / eBGP × 4-octet AS × extended message) and
//          the bytes queued to each member.
//
// Adj-RIB-Out is implicit: what a peer holds from us is what the export
// rules gave for the best path as of the previous flush (the Rib's change log
// carries it), so withdrawals go exactly to the peers that were sent the old
// best path, at no memory cost per route and per peer.
//
// Back-pressure: when a peer's output queue is full (SendUpdates false),
// further changes for it are kept as a backlog: one bit per Loc-RIB entry
// (RouteChange::index) in a per-family bitmap, the family's layout pinned
// so that indices stay valid and withdrawn entries stay until the bits are
// replayed from the Loc-RIB, once the queue drains (OnWritable); full-table
// exports are resumable scans paced the same way. A slow peer therefore
// costs one bit per route of the table at most (128 KiB for 1 M routes),
// and never delays the others.
//
// Sessions: on Established, our RTC routes go first, then each family's
// table, each followed by End-of-RIB; VPN families towards an RTC peer wait
// for its RTC End-of-RIB (RFC 4684 §6). On a session going down its routes
// are withdrawn (kDropSlice paths per flush, the rest in the next turns of
// the loop; all at once if the peer is back first), or kept stale while the
// peer restarts when it negotiated graceful restart (RFC 4724 helper),
// until its End-of-RIB per family or the restart time.
//
// Executor: the one given (the process's single event loop); nothing here is
// thread-safe. Destroying the speaker closes every connection without a
// NOTIFICATION: call Shutdown and let the loop run first to leave cleanly.
class BgpSpeaker : public SessionListener {
public:
    BgpSpeaker(boost::asio::any_io_executor executor, SpeakerConfig config);
    ~BgpSpeaker() override;
    BgpSpeaker(const BgpSpeaker&) = delete;
    BgpSpeaker& operator=(const BgpSpeaker&) = delete;

    // Opens the listener (when configured) and starts every session. Returns
    // the listener's bind error, if any (sessions are started regardless).
    std::error_code Start();
    // Cease 6/2 (with the RFC 9003 text) to every peer; `done` is called once
    // every session is down or after `timeout`.
    void Shutdown(std::string communication, std::chrono::milliseconds timeout,
                  std::function<void()> done);

    // Locally originated routes (kLocalPeer), exported like any other best
    // path. `attrs` must not carry MP_*; `next_hop` is the MP_REACH next hop.
    void Announce(Family family, const NlriList& nlri, const PathAttributes& attrs,
                  const NextHop& next_hop);
    void Withdraw(Family family, const NlriList& nlri);

    // The bound listening endpoint (port 0 in the config: the chosen port).
    std::optional<boost::asio::ip::tcp::endpoint> listen_endpoint() const;
    const SpeakerConfig& config() const { return config_; }
    const Rib& rib() const { return rib_; }
    const AttrStore& attr_store() const { return store_; }
    std::vector<SpeakerPeerStatus> PeerStatus() const;
    // Called after every flush that changed the Loc-RIB or a peer's state.
    void set_on_change(std::function<void()> fn) { on_change_ = std::move(fn); }
    // The address of a PeerId's peer ("local" for kLocalPeer).
    std::string PeerName(PeerId id) const;
    // Delivers every Loc-RIB change of `families` in batches, once per flush,
    // after the export stage (so the observer may call Announce/Withdraw).
    // Routes already in the Loc-RIB are not replayed: read rib() for those.
    // `filter` (optional) drops the changes the observer would ignore, so that
    // a route reflector with no VPN instance copies nothing.
    void set_loc_rib_observer(FamilySet families, LocRibObserver fn, LocRibFilter filter = {}) {
        observed_ = families;
        observer_ = std::move(fn);
        observer_filter_ = std::move(filter);
    }
    // Time spent in flushes, and their number (for the bench and the metrics).
    uint64_t flushes() const { return flushes_; }

    // SessionListener.
    void OnEstablished(PeerSession& session, const NegotiatedSession& negotiated) override;
    void OnDown(PeerSession& session, std::string_view reason, bool was_established) override;
    void OnUpdate(PeerSession& session, UpdateMessage&& update,
                  const std::optional<DecodeError>& error) override;
    void OnRouteRefresh(PeerSession& session, const RouteRefreshMessage& m) override;
    void OnWritable(PeerSession& session) override;

private:
    // A full-table (or RT-filtered) export of one family to one peer.
    struct ScanJob {
        Family family = Family::kUnknown;
        enum class Kind : uint8_t { kFull, kGained, kLost } kind = Kind::kFull;
        uint32_t cursor = 0;
        // kGained / kLost: only routes with a route target under this prefix.
        uint8_t rt_bits = 0;
        ExtCommunity route_target;
        bool end_of_rib = false;  // send End-of-RIB when done
        bool enhanced_refresh = false;  // a route refresh answered with BoRR/EoRR
    };
    struct Peer;
    struct Bucket;
    struct GroupKey {
        bool ibgp = true;
        bool asn4 = true;
        bool extended_message = false;
        bool operator==(const GroupKey&) const = default;
    };

    Peer* Find(const PeerSession& session);
    const LocalSpeaker& self() const { return self_; }

    // Ingress.
    void ApplyNlri(Peer& p, Family family, const NlriList& nlri, const PathAttributes& attrs,
                   bool withdraw);
    void ApplyRtc(Peer& p, const NlriList& nlri, bool withdraw);
    void OnEndOfRib(Peer& p, Family family);
    void CheckMaxPrefix(Peer& p);

    // Flush: runs once per event-loop turn after changes.
    void ScheduleFlush();
    void Flush();
    void ProcessRtcChanges();
    void ExportChanges();

    // Per-peer export.
    bool Ready(const Peer& p, Family family) const;
    bool Wants(const Peer& p, Family family, const AttrEntry& attrs) const;
    GroupKey GroupOf(const Peer& p) const;
    void StartDumps(Peer& p);
    void Pump(Peer& p);
    bool RunScan(Peer& p, ScanJob& job);
    void ReplayBacklog(Peer& p);
    void AddToBacklog(Peer& p, Family family, uint32_t index);
    // A session's routes are withdrawn in slices of at most kDropSlice paths
    // per flush, so that the change log (16 octets a route) and the
    // withdrawals in flight stay small however large its table was.
    static constexpr size_t kDropSlice = 65536;
    void StartDrop(Peer& p, Family family);
    bool ContinueDrops(size_t budget = kDropSlice);  // true: more to drop
    void FinishDrops(Peer& p);
    // malloc_trim after the Loc-RIB shrank a lot (a full withdrawal).
    void ReturnFreedMemory();
    // Resets the peers whose backlog keeps too many withdrawn entries alive.
    void ResetStuckBacklogs();
    void ClearBacklog(Peer& p);
    bool Send(Peer& p, Bytes&& bytes, size_t announced, size_t withdrawn);
    bool Send(Peer& p, const std::shared_ptr<const Bytes>& bytes, size_t announced,
              size_t withdrawn);
    void SweepGracefulRestart(Peer& p, Family family);
    void EndGracefulRestart(PeerId id);

    boost::asio::any_io_executor executor_;
    SpeakerConfig config_;
    LocalSpeaker self_;
    FamilySet our_families_;
    AttrStore store_;
    Rib rib_;
    RtMembership rtm_;
    std::unique_ptr<BgpListener> listener_;
    std::vector<std::unique_ptr<Peer>> peers_;  // index = PeerId - 1
    boost::unordered_flat_map<const PeerSession*, Peer*> by_session_;
    bool flush_posted_ = false;
    size_t drops_active_ = 0;  // (peer, family) drops under way
    bool changed_since_notify_ = false;
    uint64_t flushes_ = 0;
    size_t peak_routes_ = 0;  // Loc-RIB routes, highest since the last malloc_trim
    std::function<void()> on_change_;
    FamilySet observed_;
    LocRibObserver observer_;
    LocRibFilter observer_filter_;
    std::vector<LocRibChange> observed_changes_;
    std::shared_ptr<bool> alive_;
};

}  // namespace bagpipe::bgp
