#include "bgp/speaker/speaker.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <unordered_map>

#include "bgp/family/rtc/rtc_nlri.h"
#include "bgp/wire/update_packer.h"

namespace bagpipe::bgp {

namespace {

IpAddress FromAsio(const boost::asio::ip::address& a) {
    if (a.is_v4()) return IpAddress::V4(a.to_v4().to_uint());
    if (a.is_v6()) {
        auto v6 = a.to_v6();
        if (v6.is_v4_mapped())
            return IpAddress::V4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_uint());
        auto b = v6.to_bytes();
        return IpAddress::V6(b.data());
    }
    return {};
}

// True when a route target of `attrs` has its first `bits` bits equal to
// those of `rt` (every route target when bits is 0; any route when bits is
// 0 and `attrs` has none).
bool HasRouteTargetUnder(const PathAttributes& attrs, uint8_t bits, const ExtCommunity& rt) {
    if (bits == 0) return true;
    uint64_t want = 0;
    for (uint8_t b : rt.bytes) want = want << 8 | b;
    const uint64_t mask = bits >= 64 ? ~uint64_t{0} : ~(~uint64_t{0} >> bits);
    for (const auto& c : attrs.ext_communities) {
        if (!c.is_route_target()) continue;
        uint64_t v = 0;
        for (uint8_t b : c.bytes) v = v << 8 | b;
        if ((v & mask) == (want & mask)) return true;
    }
    return false;
}

PathAttributes LocalRtcAttributes() {
    PathAttributes a;
    a.origin = Origin::kIgp;
    a.set(attr::kOrigin);
    a.set(attr::kAsPath);
    a.local_pref = 100;
    a.set(attr::kLocalPref);
    return a;
}

}  // namespace

// ---------------------------------------------------------------------------
// Per-peer state.

struct BgpSpeaker::Peer {
    PeerId id = 0;
    SpeakerPeerConfig cfg;
    std::unique_ptr<PeerSession> session;

    bool up = false;
    NegotiatedSession neg;
    PeerInfo info;
    SessionContext out_ctx;  // what we encode towards it
    FamilySet disabled;      // RFC 7606 afi-safi-disable
    bool rtc = false;
    bool vpn_dumped = false;  // VPN families' first export started (after RTC EoR)

    bool blocked = false;  // SendUpdates said stop; OnWritable pending
    std::vector<ScanJob> jobs;  // front first
    // Back-pressure backlog: per family, a bit per Loc-RIB entry index to
    // replay (the family is pinned while it has any).
    struct Backlog {
        std::vector<uint64_t> bits;
        size_t count = 0;   // bits set
        size_t cursor = 0;  // next bit to look at when replaying
        std::chrono::steady_clock::time_point since;  // when it last went from empty to not
    };
    std::array<Backlog, kFamilyCount> backlog;
    size_t backlog_total = 0;

    // Routes of a session that went down, withdrawn a slice per flush
    // (ContinueDrops); the family is pinned while its cursor is kept.
    struct Drop {
        bool active = false;
        uint32_t cursor = 0;
    };
    std::array<Drop, kFamilyCount> drops;

    // Graceful restart (helper).
    FamilySet stale;
    std::unique_ptr<boost::asio::steady_timer> restart_timer;
    // Waiting for its RTC End-of-RIB (RtcReady), at most rtc_end_of_rib_timeout.
    std::unique_ptr<boost::asio::steady_timer> rtc_timer;

    // Counters.
    uint64_t announced_out = 0;
    uint64_t withdrawn_out = 0;
    uint64_t updates_in = 0;
    uint64_t loops = 0;
    bool max_prefix_warned = false;
};

// Routes going to one set of peers with one outgoing attribute set (or
// withdrawals: out < 0), encoded once.
struct BgpSpeaker::Bucket {
    Family family = Family::kUnknown;
    GroupKey group;
    int out = -1;
    PeerSet recipients;
    NlriList nlri;
    size_t count = 0;
};

namespace {

// A hash of a pointer and 64 other bits (interned attribute sets are
// compared by address): a multiply-xorshift mix, good enough for the flat
// maps below, which do not post-mix non-avalanching hashes themselves.
size_t MixPointer(const void* p, uint64_t more) {
    uint64_t h = reinterpret_cast<uintptr_t>(p) * 0x9E3779B97F4A7C15ull ^ more;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return static_cast<size_t>(h);
}

// The outgoing attribute sets computed during one export pass, keyed by the
// received set, its source and the kind of target.
class OutgoingCache {
public:
    int Get(const AttrEntry* in, PeerId source, const PeerInfo& source_info, bool target_ibgp,
            Family family, const LocalSpeaker& self) {
        Key k{in, source, target_ibgp, family};
        auto it = index_.find(k);
        if (it != index_.end()) return it->second;
        sets_.push_back(MakeOutgoing(in->attributes(), in->next_hop(), source_info, target_ibgp,
                                     family, self));
        int i = static_cast<int>(sets_.size() - 1);
        index_.emplace(k, i);
        return i;
    }
    const OutgoingAttributes& operator[](int i) const { return sets_[static_cast<size_t>(i)]; }
    void Clear() {
        index_.clear();
        sets_.clear();
    }

private:
    struct Key {
        const AttrEntry* in;
        PeerId source;
        bool target_ibgp;
        Family family;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        size_t operator()(const Key& k) const {
            return MixPointer(k.in, uint64_t{k.source} << 16 | uint64_t{k.target_ibgp} << 8 |
                                        static_cast<uint64_t>(k.family));
        }
    };
    boost::unordered_flat_map<Key, int, KeyHash> index_;
    std::vector<OutgoingAttributes> sets_;
};

// Groups routes into buckets by (family, group, outgoing set, recipients).
class BucketSet {
public:
    template <class B>
    B& Find(std::vector<B>& buckets, Family f, const auto& group, int out, const PeerSet& who,
            uint64_t group_bits) {
        std::string key;
        key.reserve(16 + who.size() * 2);
        key.push_back(static_cast<char>(f));
        key.push_back(static_cast<char>(group_bits));
        key.append(reinterpret_cast<const char*>(&out), sizeof out);
        who.ForEach([&](PeerId p) { key.append(reinterpret_cast<const char*>(&p), sizeof p); });
        auto [it, inserted] = index_.try_emplace(std::move(key), buckets.size());
        if (inserted) {
            B b;
            b.family = f;
            b.group = group;
            b.out = out;
            b.recipients = who;
            b.nlri = FindFamilyCodec(f)->make_list();
            buckets.push_back(std::move(b));
        }
        return buckets[it->second];
    }
    void Clear() { index_.clear(); }

private:
    std::unordered_map<std::string, size_t> index_;
};

}  // namespace

// ---------------------------------------------------------------------------
// Construction and lifetime.

BgpSpeaker::BgpSpeaker(boost::asio::any_io_executor executor, SpeakerConfig config)
    : executor_(std::move(executor)), config_(std::move(config)),
      alive_(std::make_shared<bool>(true)) {
    self_.asn = config_.local_as;
    self_.router_id = config_.router_id;
    self_.cluster_id = config_.cluster_id ? config_.cluster_id : config_.router_id;
    self_.route_reflector = config_.route_reflector;
    self_.next_hop = config_.local_address;
    if (config_.listen) listener_ = std::make_unique<BgpListener>(executor_);
    PeerId next = 1;
    for (const SpeakerPeerConfig& pc : config_.peers) {
        auto p = std::make_unique<Peer>();
        p->id = next++;
        p->cfg = pc;
        p->session = std::make_unique<PeerSession>(executor_, pc.session, *this);
        our_families_ |= pc.session.fsm.families;
        by_session_[p->session.get()] = p.get();
        PeerInfo info;
        info.address = FromAsio(pc.session.peer_address);
        info.asn = pc.session.fsm.peer_as;
        info.ibgp = pc.session.fsm.peer_as == 0 || pc.session.fsm.peer_as == config_.local_as;
        info.rr_client = pc.rr_client;
        p->info = info;
        rib_.SetPeer(p->id, info);
        peers_.push_back(std::move(p));
    }
}

BgpSpeaker::~BgpSpeaker() {
    *alive_ = false;
    // Sessions go first: their destruction must not call back into a
    // half-destroyed speaker (PeerSession destruction reports nothing).
    if (listener_) listener_->Close();
    for (auto& p : peers_) p->session.reset();
}

std::error_code BgpSpeaker::Start() {
    std::error_code ec;
    if (listener_) {
        for (auto& p : peers_) listener_->AddPeer(*p->session);
        ec = listener_->Listen(*config_.listen);
        if (ec)
            spdlog::error("bgp: cannot listen on {}:{}: {}", config_.listen->address().to_string(),
                          config_.listen->port(), ec.message());
        else
            spdlog::info("bgp: listening on {}:{}", listener_->local_endpoint().address().to_string(),
                         listener_->port());
    }
    if (config_.rtc_wildcard) {
        std::vector<RtcNlri> v(1);
        Announce(Family::kIpv4Rtc, NlriList(std::move(v)), LocalRtcAttributes(),
                 NextHop{config_.local_address, {}});
    }
    for (auto& p : peers_) p->session->Start();
    return ec;
}

void BgpSpeaker::Shutdown(std::string communication, std::chrono::milliseconds timeout,
                          std::function<void()> done) {
    for (auto& p : peers_) p->session->Stop(communication);
    if (listener_) listener_->Close();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto timer = std::make_shared<boost::asio::steady_timer>(executor_);
    auto check = std::make_shared<std::function<void()>>();
    std::weak_ptr<bool> alive = alive_;
    *check = [this, timer, check, deadline, done = std::move(done), alive]() mutable {
        if (alive.expired()) return;
        bool all_idle = true;
        for (auto& p : peers_)
            if (p->session->state() != FsmState::kIdle || p->session->queued_bytes() > 0)
                all_idle = false;
        if (all_idle || std::chrono::steady_clock::now() >= deadline) {
            auto d = std::move(done);
            *check = nullptr;  // break the cycle
            if (d) d();
            return;
        }
        timer->expires_after(std::chrono::milliseconds(20));
        timer->async_wait([check](const boost::system::error_code&) {
            if (*check) (*check)();
        });
    };
    boost::asio::post(executor_, [check] {
        if (*check) (*check)();
    });
}

std::optional<boost::asio::ip::tcp::endpoint> BgpSpeaker::listen_endpoint() const {
    if (!listener_ || !listener_->listening()) return std::nullopt;
    return listener_->local_endpoint();
}

BgpSpeaker::Peer* BgpSpeaker::Find(const PeerSession& session) {
    auto it = by_session_.find(&session);
    return it == by_session_.end() ? nullptr : it->second;
}

std::string BgpSpeaker::PeerName(PeerId id) const {
    if (id == kLocalPeer) return "local";
    if (id == 0 || id > peers_.size()) return "?";
    return peers_[id - 1]->session->name();
}

// ---------------------------------------------------------------------------
// Local routes.

void BgpSpeaker::Announce(Family family, const NlriList& nlri, const PathAttributes& attrs,
                          const NextHop& next_hop) {
    AttrRef ref = store_.Intern(attrs, next_hop);
    rib_.Update(kLocalPeer, family, nlri, ref);
    ScheduleFlush();
}

void BgpSpeaker::Withdraw(Family family, const NlriList& nlri) {
    rib_.Withdraw(kLocalPeer, family, nlri);
    ScheduleFlush();
}

// ---------------------------------------------------------------------------
// Session events.

void BgpSpeaker::OnEstablished(PeerSession& session, const NegotiatedSession& negotiated) {
    Peer* p = Find(session);
    if (!p) return;
    FinishDrops(*p);  // the previous session's routes go before the new ones come
    p->up = true;
    p->neg = negotiated;
    p->disabled.reset();
    p->blocked = false;
    p->vpn_dumped = false;
    p->info.router_id = negotiated.peer_bgp_id;
    p->info.asn = negotiated.peer_as;
    p->info.ibgp = negotiated.ibgp;
    rib_.SetPeer(p->id, p->info);
    p->out_ctx = SessionContext{};
    p->out_ctx.asn4 = negotiated.asn4;
    p->out_ctx.extended_message = negotiated.extended_message;
    p->out_ctx.ibgp = negotiated.ibgp;
    p->rtc = negotiated.families.test(FamilyIndex(Family::kIpv4Rtc));
    rtm_.AddPeer(p->id, p->rtc);
    if (negotiated.families_missing.any()) {
        std::string missing;
        for (size_t f = 0; f < kFamilyCount; ++f)
            if (negotiated.families_missing.test(f))
                missing += fmt::format("{}{}", missing.empty() ? "" : ", ",
                                       FamilyName(static_cast<Family>(f)));
        spdlog::warn("bgp: {}: families not offered by the peer: {}", session.name(), missing);
    }
    // Graceful restart: families the restarted peer no longer preserves (or
    // that it lists without the capability at all) lose their stale routes now.
    if (p->stale.any()) {
        const auto& gr = negotiated.peer_graceful_restart;
        for (size_t f = 0; f < kFamilyCount; ++f) {
            if (!p->stale.test(f)) continue;
            bool keep = negotiated.graceful_restart && gr.restart_state &&
                        gr.forwarding_preserved.test(f);
            if (!keep) SweepGracefulRestart(*p, static_cast<Family>(f));
        }
    }
    spdlog::info("bgp: {}: established (AS {}, id {}, hold {} s{}{})", session.name(),
                 negotiated.peer_as, IpAddress::V4(negotiated.peer_bgp_id).ToString(),
                 negotiated.hold_time, p->rtc ? ", RTC" : "",
                 config_.route_reflector && p->cfg.rr_client ? ", RR client" : "");
    if (p->rtc && config_.rtc_end_of_rib_timeout > 0) {
        p->rtc_timer = std::make_unique<boost::asio::steady_timer>(executor_);
        p->rtc_timer->expires_after(p->cfg.session.time_scale * config_.rtc_end_of_rib_timeout);
        PeerId id = p->id;
        std::weak_ptr<bool> alive = alive_;
        p->rtc_timer->async_wait([this, id, alive](const boost::system::error_code& ec) {
            if (ec || alive.expired()) return;
            Peer& q = *peers_[id - 1];
            if (!q.up || rtm_.RtcReady(id)) return;
            spdlog::warn("bgp: {}: no RTC End-of-RIB after {} s: sending its VPN routes anyway",
                         q.session->name(), config_.rtc_end_of_rib_timeout);
            rtm_.SetRtcReady(id);
            ScheduleFlush();
        });
    }
    StartDumps(*p);
    changed_since_notify_ = true;
    ScheduleFlush();
}

void BgpSpeaker::OnDown(PeerSession& session, std::string_view reason, bool was_established) {
    Peer* p = Find(session);
    if (!p) return;
    spdlog::info("bgp: {}: down: {}", session.name(), reason);
    const bool was_up = p->up;
    p->up = false;
    for (const ScanJob& j : p->jobs) rib_.PinLayout(j.family, false);
    p->jobs.clear();
    ClearBacklog(*p);
    p->blocked = false;
    if (p->rtc_timer) p->rtc_timer->cancel();
    rtm_.RemovePeer(p->id);
    if (!was_established && !was_up) return;
    // RFC 4724 §4.2 helper: keep the routes as stale for the restart time,
    // when the session ended without a NOTIFICATION either way (a TCP
    // failure: the peer is restarting); a NOTIFICATION means a real reset.
    const auto& gr = p->neg.peer_graceful_restart;
    const auto last = session.stats().last_error;
    const bool notified = last && last->code != 0;
    if (p->neg.graceful_restart && gr.restart_time > 0 && gr.families.any() && !notified) {
        for (size_t f = 0; f < kFamilyCount; ++f) {
            Family fam = static_cast<Family>(f);
            if (gr.families.test(f) && rib_.PathCount(p->id, fam) > 0) {
                rib_.MarkStale(p->id, fam);
                p->stale.set(f);
            } else {
                StartDrop(*p, fam);
            }
        }
        if (p->stale.any()) {
            spdlog::info("bgp: {}: graceful restart: keeping its routes for {} s",
                         session.name(), gr.restart_time);
            p->restart_timer = std::make_unique<boost::asio::steady_timer>(executor_);
            p->restart_timer->expires_after(p->cfg.session.time_scale * gr.restart_time);
            PeerId id = p->id;
            std::weak_ptr<bool> alive = alive_;
            p->restart_timer->async_wait([this, id, alive](const boost::system::error_code& ec) {
                if (ec || alive.expired()) return;
                EndGracefulRestart(id);
            });
        }
    } else {
        for (size_t f = 0; f < kFamilyCount; ++f) StartDrop(*p, static_cast<Family>(f));
    }
    changed_since_notify_ = true;
    ScheduleFlush();
}

void BgpSpeaker::EndGracefulRestart(PeerId id) {
    if (id == 0 || id > peers_.size()) return;
    Peer& p = *peers_[id - 1];
    for (size_t f = 0; f < kFamilyCount; ++f)
        if (p.stale.test(f)) SweepGracefulRestart(p, static_cast<Family>(f));
    ScheduleFlush();
}

void BgpSpeaker::SweepGracefulRestart(Peer& p, Family family) {
    if (!p.stale.test(FamilyIndex(family))) return;
    size_t n = rib_.SweepStale(p.id, family);
    p.stale.reset(FamilyIndex(family));
    if (n) spdlog::info("bgp: {}: {} stale {} routes removed", p.session->name(), n, FamilyName(family));
    if (p.stale.none() && p.restart_timer) p.restart_timer->cancel();
    ScheduleFlush();
}

void BgpSpeaker::OnUpdate(PeerSession& session, UpdateMessage&& u,
                          const std::optional<DecodeError>& error) {
    Peer* p = Find(session);
    if (!p || !p->up) return;
    ++p->updates_in;
    if (auto eor = u.EndOfRib()) {
        OnEndOfRib(*p, *eor);
        return;
    }
    PathAttributes& a = u.attributes;
    bool withdraw_all = false;
    if (error) {
        switch (error->action) {
            case ErrorAction::kTreatAsWithdraw: withdraw_all = true; break;
            case ErrorAction::kAfiSafiDisable: {
                Family f = FamilyFromAfiSafi(error->afi, error->safi);
                spdlog::warn("bgp: {}: {} disabled for this session: {}", session.name(),
                             FamilyName(f), error->reason);
                if (f != Family::kUnknown) {
                    p->disabled.set(FamilyIndex(f));
                    rib_.DropPeer(p->id, f);
                }
                break;
            }
            default: break;
        }
        spdlog::debug("bgp: {}: UPDATE error ({}): {}", session.name(),
                      ErrorActionName(error->action), error->reason);
    }
    if (!withdraw_all && IsLoop(p->info, a, self_)) {
        withdraw_all = true;
        p->loops += NlriCount(NlriList(u.nlri)) +
                    (a.has(attr::kMpReach) ? NlriCount(a.mp_reach.nlri) : 0);
    }
    if (!u.withdrawn.empty())
        ApplyNlri(*p, Family::kIpv4Unicast, NlriList(std::move(u.withdrawn)), a, true);
    if (a.has(attr::kMpUnreach) && a.mp_unreach.family != Family::kUnknown)
        ApplyNlri(*p, a.mp_unreach.family, a.mp_unreach.withdrawn, a, true);
    if (!u.nlri.empty()) ApplyNlri(*p, Family::kIpv4Unicast, NlriList(std::move(u.nlri)), a, withdraw_all);
    if (a.has(attr::kMpReach) && a.mp_reach.family != Family::kUnknown)
        ApplyNlri(*p, a.mp_reach.family, a.mp_reach.nlri, a, withdraw_all);
    CheckMaxPrefix(*p);
    ScheduleFlush();
}

void BgpSpeaker::ApplyNlri(Peer& p, Family family, const NlriList& nlri, const PathAttributes& attrs,
                           bool withdraw) {
    const size_t f = FamilyIndex(family);
    if (!p.neg.families.test(f) || p.disabled.test(f)) return;
    if (family == Family::kIpv4Rtc) ApplyRtc(p, nlri, withdraw);
    if (withdraw) {
        rib_.Withdraw(p.id, family, nlri);
        return;
    }
    AttrRef ref = store_.Intern(attrs);
    rib_.Update(p.id, family, nlri, ref);
}

void BgpSpeaker::ApplyRtc(Peer& p, const NlriList& nlri, bool withdraw) {
    const auto* list = std::get_if<std::vector<RtcNlri>>(&nlri);
    if (!list) return;
    for (const RtcNlri& n : *list) {
        if (withdraw)
            rtm_.Remove(p.id, n);
        else
            rtm_.Add(p.id, n);
    }
}

void BgpSpeaker::OnEndOfRib(Peer& p, Family family) {
    spdlog::debug("bgp: {}: End-of-RIB {}", p.session->name(), FamilyName(family));
    if (family == Family::kIpv4Rtc && p.rtc) {
        rtm_.SetRtcReady(p.id);
        if (p.rtc_timer) p.rtc_timer->cancel();
    }
    SweepGracefulRestart(p, family);
    ScheduleFlush();
}

void BgpSpeaker::CheckMaxPrefix(Peer& p) {
    if (p.cfg.max_prefix == 0) return;
    uint64_t total = 0;
    for (size_t f = 0; f < kFamilyCount; ++f) total += rib_.PathCount(p.id, static_cast<Family>(f));
    if (total <= p.cfg.max_prefix) {
        p.max_prefix_warned = false;
        return;
    }
    if (p.cfg.max_prefix_teardown) {
        spdlog::error("bgp: {}: {} prefixes exceed max_prefix {}: closing the session",
                      p.session->name(), total, p.cfg.max_prefix);
        p.session->AutomaticStop(notif::kMaxPrefixes,
                                 fmt::format("maximum number of prefixes ({}) reached", p.cfg.max_prefix));
    } else if (!p.max_prefix_warned) {
        spdlog::warn("bgp: {}: {} prefixes exceed max_prefix {}", p.session->name(), total,
                     p.cfg.max_prefix);
        p.max_prefix_warned = true;
    }
}

void BgpSpeaker::OnRouteRefresh(PeerSession& session, const RouteRefreshMessage& m) {
    Peer* p = Find(session);
    if (!p || !p->up) return;
    Family f = FamilyFromAfiSafi(m.afi, m.safi);
    if (f == Family::kUnknown || !Ready(*p, f)) return;
    if (m.subtype != RouteRefreshMessage::kNormal) return;  // BoRR/EoRR from the peer
    spdlog::info("bgp: {}: route refresh for {}", session.name(), FamilyName(f));
    ScanJob job;
    job.family = f;
    job.enhanced_refresh = p->neg.enhanced_route_refresh;  // BoRR ... EoRR (RFC 7313)
    if (p->neg.enhanced_route_refresh) {
        RouteRefreshMessage borr = m;
        borr.subtype = RouteRefreshMessage::kBeginOfRib;
        p->session->SendRouteRefresh(borr);
    }
    rib_.PinLayout(f, true);
    p->jobs.push_back(job);
    Pump(*p);
}

void BgpSpeaker::OnWritable(PeerSession& session) {
    Peer* p = Find(session);
    if (!p || !p->up) return;
    p->blocked = false;
    Pump(*p);
}

// ---------------------------------------------------------------------------
// Export.

bool BgpSpeaker::Ready(const Peer& p, Family family) const {
    const size_t f = FamilyIndex(family);
    if (!p.up || !p.neg.families.test(f) || p.disabled.test(f)) return false;
    if (p.rtc && IsRtcFiltered(family)) return rtm_.RtcReady(p.id) && p.vpn_dumped;
    return true;
}

bool BgpSpeaker::Wants(const Peer& p, Family family, const AttrEntry& attrs) const {
    if (!p.rtc || !IsRtcFiltered(family)) return true;
    return rtm_.IsInterested(p.id, attrs.attributes().ext_communities);
}

BgpSpeaker::GroupKey BgpSpeaker::GroupOf(const Peer& p) const {
    return GroupKey{p.neg.ibgp, p.out_ctx.asn4, p.out_ctx.extended_message};
}

void BgpSpeaker::StartDumps(Peer& p) {
    // RTC first, so the peer learns our interests; VPN families of an RTC
    // peer after its RTC End-of-RIB (ProcessRtcChanges).
    std::vector<Family> order;
    if (p.neg.families.test(FamilyIndex(Family::kIpv4Rtc))) order.push_back(Family::kIpv4Rtc);
    for (size_t f = 1; f < kFamilyCount; ++f) {
        Family fam = static_cast<Family>(f);
        if (fam == Family::kIpv4Rtc || !p.neg.families.test(f)) continue;
        if (p.rtc && IsRtcFiltered(fam)) continue;
        order.push_back(fam);
    }
    for (Family f : order) {
        ScanJob job;
        job.family = f;
        job.end_of_rib = true;
        rib_.PinLayout(f, true);
        p.jobs.push_back(job);
    }
}

void BgpSpeaker::ScheduleFlush() {
    if (flush_posted_) return;
    flush_posted_ = true;
    std::weak_ptr<bool> alive = alive_;
    boost::asio::post(executor_, [this, alive] {
        if (alive.expired()) return;
        Flush();
    });
}

void BgpSpeaker::Flush() {
    flush_posted_ = false;
    ++flushes_;
    const bool more_drops = ContinueDrops();
    const bool rib_changes = rib_.PendingChanges() > 0;
    ProcessRtcChanges();
    ExportChanges();
    for (auto& p : peers_)
        if (p->up && (!p->jobs.empty() || p->backlog_total > 0)) Pump(*p);
    if (!observed_changes_.empty() && observer_) {
        std::vector<LocRibChange> batch;
        batch.swap(observed_changes_);
        observer_(std::move(batch));
    }
    if ((rib_changes || changed_since_notify_) && on_change_) {
        changed_since_notify_ = false;
        on_change_();
    }
    if (more_drops) ScheduleFlush();
    ResetStuckBacklogs();
    ReturnFreedMemory();
}

void BgpSpeaker::ResetStuckBacklogs() {
    // A peer's backlog pins its family's table, so withdrawn entries cannot
    // be compacted while it lasts. A peer that does not drain it while the
    // table churns would make the table grow without bound: once the waiting
    // empty entries outnumber the routes (and 64 k) and a backlog has lasted
    // config_.stuck_backlog, its peer is reset (Cease, out of resources) and gets a
    // fresh table when it comes back. A mass withdrawal alone does not do
    // it: a peer that reads replays its backlog in seconds.
    const auto now = std::chrono::steady_clock::now();
    for (size_t f = 0; f < kFamilyCount; ++f) {
        const Family family = static_cast<Family>(f);
        const size_t empties = rib_.EmptyEntries(family);
        if (empties < 65536 || empties < rib_.RouteCount(family)) continue;
        for (auto& q : peers_) {
            const Peer::Backlog& b = q->backlog[f];
            if (!q->up || b.count == 0 || now - b.since < config_.stuck_backlog) continue;
            spdlog::warn("bgp: {}: its backlog of {} {} routes holds {} withdrawn entries: resetting it",
                         q->session->name(), q->backlog[f].count, FamilyName(family), empties);
            q->session->AutomaticStop(notif::kOutOfResources,
                                      "not reading: its backlog blocks the table's compaction");
        }
    }
}

void BgpSpeaker::ReturnFreedMemory() {
    size_t routes = 0;
    for (size_t f = 1; f < kFamilyCount; ++f) routes += rib_.RouteCount(static_cast<Family>(f));
    peak_routes_ = std::max(peak_routes_, routes);
    // A table that shrank by 64 k routes and a quarter since the last time:
    // glibc keeps freed heap memory (and raises its mmap threshold after
    // large frees), so give it back explicitly, once per such drop.
    if (peak_routes_ - routes >= 65536 && (peak_routes_ - routes) * 4 >= peak_routes_) {
        malloc_trim(0);
        peak_routes_ = routes;
    }
}

void BgpSpeaker::StartDrop(Peer& p, Family family) {
    Peer::Drop& d = p.drops[FamilyIndex(family)];
    if (d.active || rib_.PathCount(p.id, family) == 0) return;
    rib_.PinLayout(family, true);
    d.active = true;
    d.cursor = 0;
    ++drops_active_;
}

bool BgpSpeaker::ContinueDrops(size_t budget) {
    if (drops_active_ == 0) return false;
    for (auto& q : peers_) {
        for (size_t f = 0; f < kFamilyCount; ++f) {
            Peer::Drop& d = q->drops[f];
            if (!d.active) continue;
            const Family family = static_cast<Family>(f);
            if (budget > 0) budget -= std::min(budget, rib_.DropPeerSlice(q->id, family, d.cursor, budget));
            if (rib_.PathCount(q->id, family) > 0) continue;
            d = Peer::Drop{};
            rib_.PinLayout(family, false);
            --drops_active_;
        }
    }
    return drops_active_ > 0;
}

void BgpSpeaker::FinishDrops(Peer& p) {
    for (size_t f = 0; f < kFamilyCount; ++f) {
        Peer::Drop& d = p.drops[f];
        if (!d.active) continue;
        const Family family = static_cast<Family>(f);
        rib_.DropPeerSlice(p.id, family, d.cursor, SIZE_MAX);
        d = Peer::Drop{};
        rib_.PinLayout(family, false);
        --drops_active_;
    }
}

void BgpSpeaker::ProcessRtcChanges() {
    for (const RtInterestChange& c : rtm_.DrainChanges()) {
        if (c.peer == 0 || c.peer > peers_.size()) continue;
        Peer& p = *peers_[c.peer - 1];
        if (!p.up) continue;
        const bool first = c.kind == RtInterestChange::Kind::kGained && c.rt_bits == 0 && !p.vpn_dumped;
        if (first) p.vpn_dumped = true;
        for (size_t f = 0; f < kFamilyCount; ++f) {
            Family fam = static_cast<Family>(f);
            if (!IsRtcFiltered(fam) || !p.neg.families.test(f) || p.disabled.test(f)) continue;
            ScanJob job;
            job.family = fam;
            job.end_of_rib = first;
            job.kind = c.kind == RtInterestChange::Kind::kGained ? ScanJob::Kind::kGained
                                                                 : ScanJob::Kind::kLost;
            job.rt_bits = c.rt_bits;
            job.route_target = c.route_target;
            if (first) job.kind = ScanJob::Kind::kFull;
            rib_.PinLayout(fam, true);
            p.jobs.push_back(job);
        }
    }
}

namespace {
// A flush encodes and sends its buckets every kChunk changes, so that a peer
// whose queue fills up mid-flush gets the rest as backlog.
constexpr size_t kChunk = 4096;
}  // namespace

void BgpSpeaker::ExportChanges() {
    if (rib_.PendingChanges() == 0) return;
    std::vector<Peer*> up;
    for (auto& p : peers_)
        if (p->up) up.push_back(p.get());
    OutgoingCache cache;
    BucketSet index;
    std::vector<Bucket> buckets;
    size_t pending = 0;

    auto send_all = [&] {
        for (Bucket& b : buckets) {
            if (b.count == 0) continue;
            Bytes bytes;
            SessionContext ctx;
            ctx.asn4 = b.group.asn4;
            ctx.extended_message = b.group.extended_message;
            ctx.ibgp = b.group.ibgp;
            if (b.out >= 0) {
                const OutgoingAttributes& o = cache[b.out];
                PackAnnouncements(o.attrs, b.family, o.next_hop, b.nlri, ctx, bytes);
            } else {
                PackWithdrawals(b.family, b.nlri, ctx, bytes);
            }
            const size_t n = b.count;
            const bool announce = b.out >= 0;
            // One encoding, shared by every member's queue.
            auto shared = std::make_shared<const Bytes>(std::move(bytes));
            b.recipients.ForEach([&](PeerId id) {
                Send(*peers_[id - 1], shared, announce ? n : 0, announce ? 0 : n);
            });
        }
        buckets.clear();
        index.Clear();
        pending = 0;
    };

    // Per route: who gets it, grouped.
    struct Target {
        uint64_t group_bits;
        GroupKey group;
        int out;  // -1 withdraw
        PeerSet who;
    };
    std::vector<Target> targets;

    // Who gets a change and in which bucket depends only on (family, new
    // best path's peer and attribute set, previous ones): the peers' state
    // does not change during a chunk. So the per-peer checks run once per
    // distinct such tuple and chunk (a few dozen per 4,096 changes with
    // 1,000 attribute sets), not once per route and peer; a withdrawal of
    // everything from one peer is one decision.
    struct MemoKey {
        const AttrEntry* now;
        const AttrEntry* before;
        PeerId now_peer;
        PeerId before_peer;
        Family family;
        bool operator==(const MemoKey&) const = default;
    };
    struct MemoHash {
        size_t operator()(const MemoKey& k) const {
            return MixPointer(k.now, reinterpret_cast<uintptr_t>(k.before) * 0xD6E8FEB86659FD93ull ^
                                         (uint64_t{k.now_peer} << 24 | uint64_t{k.before_peer} << 8 |
                                          static_cast<uint64_t>(k.family)));
        }
    };
    struct Decision {
        uint32_t first = 0, count = 0;                  // in decided_buckets
        uint32_t blocked_first = 0, blocked_count = 0;  // in decided_blocked
    };
    boost::unordered_flat_map<MemoKey, Decision, MemoHash> memo;
    std::vector<uint32_t> decided_buckets;
    std::vector<Peer*> decided_blocked;
    std::optional<MemoKey> last_key;
    Decision last;
    auto forget = [&] {
        memo.clear();
        decided_buckets.clear();
        decided_blocked.clear();
        last_key.reset();
    };

    auto decide = [&](const RouteChange& c) {
        Decision d;
        d.first = static_cast<uint32_t>(decided_buckets.size());
        d.blocked_first = static_cast<uint32_t>(decided_blocked.size());
        targets.clear();
        for (Peer* q : up) {
            if (!Ready(*q, c.family)) continue;
            bool now = c.best && MayExport(c.best->peer(), rib_.peer(c.best->peer()), q->id, q->info,
                                           c.best->attributes().attributes(), self_) &&
                       Wants(*q, c.family, c.best->attributes());
            bool before = !now && c.old_attrs &&
                          MayExport(c.old_peer, rib_.peer(c.old_peer), q->id, q->info,
                                    c.old_attrs->attributes(), self_) &&
                          Wants(*q, c.family, *c.old_attrs);
            if (!now && !before) continue;
            if (q->blocked) {
                decided_blocked.push_back(q);
                continue;
            }
            GroupKey g = GroupOf(*q);
            int out = -1;
            if (now)
                out = cache.Get(&c.best->attributes(), c.best->peer(), rib_.peer(c.best->peer()),
                                g.ibgp, c.family, self_);
            uint64_t bits = (g.ibgp ? 1 : 0) | (g.asn4 ? 2 : 0) | (g.extended_message ? 4 : 0);
            auto it = std::find_if(targets.begin(), targets.end(), [&](const Target& t) {
                return t.group_bits == bits && t.out == out;
            });
            if (it == targets.end()) {
                targets.push_back(Target{bits, g, out, {}});
                it = targets.end() - 1;
            }
            it->who.Insert(q->id);
        }
        for (const Target& t : targets) {
            Bucket& b = index.Find(buckets, c.family, t.group, t.out, t.who, t.group_bits);
            decided_buckets.push_back(static_cast<uint32_t>(&b - buckets.data()));
        }
        d.count = static_cast<uint32_t>(decided_buckets.size()) - d.first;
        d.blocked_count = static_cast<uint32_t>(decided_blocked.size()) - d.blocked_first;
        return d;
    };

    rib_.DrainChanges([&](const RouteChange& c) {
        if (observer_ && observed_.test(static_cast<size_t>(c.family)) &&
            (!observer_filter_ ||
             observer_filter_(c.key, c.best ? c.best->peer() : kLocalPeer,
                              c.best ? &c.best->attributes() : nullptr))) {
            LocRibChange& o = observed_changes_.emplace_back();
            o.family = c.family;
            o.key = c.key;
            if (c.best) {
                o.peer = c.best->peer();
                o.attrs = c.best->attrs();
                o.payload = c.best->payload();
            }
        }
        const MemoKey k{c.best ? &c.best->attributes() : nullptr, c.old_attrs,
                        c.best ? c.best->peer() : kLocalPeer, c.old_peer, c.family};
        if (!last_key || !(*last_key == k)) {
            auto [it, inserted] = memo.try_emplace(k);
            if (inserted) it->second = decide(c);
            last = it->second;
            last_key = k;
        }
        for (uint32_t i = 0; i < last.blocked_count; ++i)
            AddToBacklog(*decided_blocked[last.blocked_first + i], c.family, c.index);
        for (uint32_t i = 0; i < last.count; ++i) {
            Bucket& b = buckets[decided_buckets[last.first + i]];
            AppendNlri(c.key, b.out >= 0 ? c.best->payload() : NlriPayload{}, b.nlri);
            ++b.count;
            ++pending;
        }
        if (pending >= kChunk) {
            send_all();  // peers may be blocked now: decide again
            forget();
        }
    });
    send_all();
}

bool BgpSpeaker::Send(Peer& p, Bytes&& bytes, size_t announced, size_t withdrawn) {
    if (bytes.empty()) {
        p.announced_out += announced;
        p.withdrawn_out += withdrawn;
        return !p.blocked;
    }
    return Send(p, std::make_shared<const Bytes>(std::move(bytes)), announced, withdrawn);
}

bool BgpSpeaker::Send(Peer& p, const std::shared_ptr<const Bytes>& bytes, size_t announced,
                      size_t withdrawn) {
    p.announced_out += announced;
    p.withdrawn_out += withdrawn;
    if (!bytes || bytes->empty()) return !p.blocked;
    if (!p.session->SendUpdates(bytes)) p.blocked = true;
    return !p.blocked;
}

bool BgpSpeaker::RunScan(Peer& p, ScanJob& job) {
    OutgoingCache cache;
    struct Group {
        int out;
        NlriList nlri;
        size_t count = 0;
    };
    std::vector<Group> groups;
    NlriList withdrawals = FindFamilyCodec(job.family)->make_list();
    size_t withdrawn = 0;
    const bool ibgp = p.neg.ibgp;
    // What to do with a route depends only on its best path's attribute set
    // and peer: decided once per run of routes sharing them.
    constexpr int kSkip = -2, kWithdraw = -1;  // else an index in groups
    const AttrEntry* last_attrs = nullptr;
    PeerId last_peer = kLocalPeer;
    int last = kSkip;
    auto decide = [&](const Path& best) {
        const PathAttributes& attrs = best.attributes().attributes();
        if (job.kind != ScanJob::Kind::kFull &&
            !HasRouteTargetUnder(attrs, job.rt_bits, job.route_target))
            return kSkip;
        const bool allowed = MayExport(best.peer(), rib_.peer(best.peer()), p.id, p.info, attrs, self_);
        const bool wanted = allowed && Wants(p, job.family, best.attributes());
        if (job.kind == ScanJob::Kind::kLost) return allowed && !wanted ? kWithdraw : kSkip;
        if (!wanted) return kSkip;
        int out = cache.Get(&best.attributes(), best.peer(), rib_.peer(best.peer()), ibgp,
                            job.family, self_);
        auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.out == out; });
        if (it == groups.end()) {
            groups.push_back(Group{out, FindFamilyCodec(job.family)->make_list(), 0});
            it = groups.end() - 1;
        }
        return static_cast<int>(it - groups.begin());
    };
    bool done = rib_.VisitRoutes(
        job.family, job.cursor, config_.export_step, [&](const RouteKey& key, std::span<const Path> paths) {
            const Path& best = paths[0];
            if (&best.attributes() != last_attrs || best.peer() != last_peer || !last_attrs) {
                last = decide(best);
                last_attrs = &best.attributes();
                last_peer = best.peer();
            }
            if (last == kSkip) return;
            if (last == kWithdraw) {
                AppendNlri(key, {}, withdrawals);
                ++withdrawn;
                return;
            }
            Group& g = groups[static_cast<size_t>(last)];
            AppendNlri(key, best.payload(), g.nlri);
            ++g.count;
        });
    if (withdrawn) {
        Bytes bytes;
        PackWithdrawals(job.family, withdrawals, p.out_ctx, bytes);
        Send(p, std::move(bytes), 0, withdrawn);
    }
    for (Group& g : groups) {
        Bytes bytes;
        const OutgoingAttributes& o = cache[g.out];
        PackAnnouncements(o.attrs, job.family, o.next_hop, g.nlri, p.out_ctx, bytes);
        Send(p, std::move(bytes), g.count, 0);
    }
    return done;
}

void BgpSpeaker::AddToBacklog(Peer& p, Family family, uint32_t index) {
    Peer::Backlog& b = p.backlog[FamilyIndex(family)];
    if (b.count == 0 && b.bits.empty()) rib_.PinLayout(family, true);
    if (b.count == 0) b.since = std::chrono::steady_clock::now();
    const size_t word = index / 64;
    if (word >= b.bits.size()) b.bits.resize(std::max(word + 1, b.bits.size() * 2), 0);
    const uint64_t bit = uint64_t{1} << (index % 64);
    if (b.bits[word] & bit) return;
    b.bits[word] |= bit;
    ++b.count;
    ++p.backlog_total;
}

void BgpSpeaker::ClearBacklog(Peer& p) {
    for (size_t f = 0; f < kFamilyCount; ++f) {
        Peer::Backlog& b = p.backlog[f];
        if (b.bits.empty()) continue;
        rib_.PinLayout(static_cast<Family>(f), false);
        b = Peer::Backlog{};
    }
    p.backlog_total = 0;
}

void BgpSpeaker::ReplayBacklog(Peer& p) {
    struct Group {
        int out;  // -1 withdraw
        NlriList nlri;
        size_t count = 0;
    };
    for (size_t f = 0; f < kFamilyCount && !p.blocked; ++f) {
        Peer::Backlog& b = p.backlog[f];
        if (b.bits.empty()) continue;
        const Family family = static_cast<Family>(f);
        const size_t nbits = b.bits.size() * 64;
        while (b.count > 0 && !p.blocked) {
            // Up to export_step routes from the cursor, by outgoing set.
            OutgoingCache cache;
            std::vector<Group> groups;
            const bool ready = Ready(p, family);
            for (size_t taken = 0; taken < config_.export_step && b.count > 0;) {
                if (b.cursor >= nbits) b.cursor = 0;
                const size_t w = b.cursor / 64;
                const uint64_t word = b.bits[w] & (~uint64_t{0} << (b.cursor % 64));
                if (word == 0) {
                    b.cursor = (w + 1) * 64;
                    continue;
                }
                const unsigned bit = static_cast<unsigned>(std::countr_zero(word));
                const uint32_t idx = static_cast<uint32_t>(w * 64 + bit);
                b.bits[w] &= ~(uint64_t{1} << bit);
                --b.count;
                --p.backlog_total;
                b.cursor = size_t{idx} + 1;
                ++taken;
                RouteKey key;
                std::span<const Path> paths;
                if (!ready || !rib_.EntryAt(family, idx, key, paths)) continue;
                const Path* best = paths.empty() ? nullptr : &paths[0];
                int out = -1;
                if (best && MayExport(best->peer(), rib_.peer(best->peer()), p.id, p.info,
                                      best->attributes().attributes(), self_) &&
                    Wants(p, family, best->attributes()))
                    out = cache.Get(&best->attributes(), best->peer(), rib_.peer(best->peer()),
                                    p.neg.ibgp, family, self_);
                auto it = std::find_if(groups.begin(), groups.end(),
                                       [&](const Group& g) { return g.out == out; });
                if (it == groups.end()) {
                    groups.push_back(Group{out, FindFamilyCodec(family)->make_list(), 0});
                    it = groups.end() - 1;
                }
                AppendNlri(key, out >= 0 ? best->payload() : NlriPayload{}, it->nlri);
                ++it->count;
            }
            for (Group& g : groups) {
                Bytes bytes;
                if (g.out >= 0) {
                    const OutgoingAttributes& o = cache[g.out];
                    PackAnnouncements(o.attrs, family, o.next_hop, g.nlri, p.out_ctx, bytes);
                    Send(p, std::move(bytes), g.count, 0);
                } else {
                    PackWithdrawals(family, g.nlri, p.out_ctx, bytes);
                    Send(p, std::move(bytes), 0, g.count);
                }
            }
        }
        if (b.count == 0) {
            rib_.PinLayout(family, false);
            b = Peer::Backlog{};
        }
    }
}

void BgpSpeaker::Pump(Peer& p) {
    if (!p.up) return;
    ReplayBacklog(p);
    while (!p.blocked && !p.jobs.empty()) {
        ScanJob& job = p.jobs.front();
        if (!RunScan(p, job)) continue;
        const ScanJob finished = job;
        p.jobs.erase(p.jobs.begin());
        rib_.PinLayout(finished.family, false);
        if (finished.enhanced_refresh) {
            RouteRefreshMessage eorr;
            AfiSafi as = ToAfiSafi(finished.family);
            eorr.afi = as.afi;
            eorr.safi = as.safi;
            eorr.subtype = RouteRefreshMessage::kEndOfRib;
            p.session->SendRouteRefresh(eorr);
        } else if (finished.end_of_rib) {
            Send(p, EncodeEndOfRib(finished.family), 0, 0);
            spdlog::debug("bgp: {}: End-of-RIB {} sent", p.session->name(), FamilyName(finished.family));
        }
    }
}

// ---------------------------------------------------------------------------
// Status.

std::vector<SpeakerPeerStatus> BgpSpeaker::PeerStatus() const {
    std::vector<SpeakerPeerStatus> out;
    for (const auto& p : peers_) {
        SpeakerPeerStatus s;
        s.name = p->session->name();
        s.address = p->cfg.session.peer_address.to_string();
        s.session = p->session->stats();
        if (p->up)
            for (size_t f = 1; f < kFamilyCount; ++f)
                if (p->neg.families.test(f)) s.families.push_back(static_cast<Family>(f));
        for (size_t f = 1; f < kFamilyCount; ++f) {
            size_t n = rib_.PathCount(p->id, static_cast<Family>(f));
            if (n || (p->up && p->neg.families.test(f)))
                s.prefixes_received.emplace_back(static_cast<Family>(f), n);
        }
        s.nlri_announced_out = p->announced_out;
        s.nlri_withdrawn_out = p->withdrawn_out;
        s.updates_in = p->updates_in;
        s.loops_dropped = p->loops;
        s.rtc = p->up && p->rtc;
        s.rtc_ready = p->up && rtm_.RtcReady(p->id);
        s.rtc_routes = rtm_.HasPeer(p->id) ? rtm_.RouteCount(p->id) : 0;
        s.backlog = p->backlog_total;
        s.dumping = !p->jobs.empty();
        s.stale = p->stale.any();
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace bagpipe::bgp
