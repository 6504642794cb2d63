// BgpSpeaker over real loopback TCP: a route reflector and its clients, all
// BgpSpeakers on one io_context, each on its own 127.0.60.x address. Time
// runs 100x faster (10 ms per FSM second).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "../session/test_peer.h"
#include "bgp/family/rtc/rtc_nlri.h"
#include "bgp/rib/route_key.h"
#include "bgp/speaker/speaker.h"
#include "bgp/wire/update_packer.h"

namespace bagpipe::bgp {
namespace {

using session_test::Ip;
using session_test::RunFor;
using session_test::RunUntil;
using namespace std::chrono_literals;

constexpr uint32_t kAs = 64512;
constexpr Family kVpn = Family::kIpv4Vpn;
constexpr Family kRtc = Family::kIpv4Rtc;

FamilySet Families(bool rtc) {
    FamilySet s;
    s.set(FamilyIndex(Family::kIpv4Vpn));
    s.set(FamilyIndex(Family::kL2vpnEvpn));
    if (rtc) s.set(FamilyIndex(kRtc));
    return s;
}

PeerSessionConfig Session(const std::string& local, const std::string& peer, uint16_t port,
                          uint32_t id, bool passive, bool rtc, uint32_t peer_as = kAs) {
    PeerSessionConfig c;
    c.local_address = Ip(local.c_str());
    c.peer_address = Ip(peer.c_str());
    c.peer_port = port;
    c.time_scale = 10ms;
    c.close_timeout = 500ms;
    c.fsm.local_as = kAs;
    c.fsm.peer_as = peer_as;
    c.fsm.local_bgp_id = id;
    c.fsm.hold_time = 30;
    c.fsm.passive = passive;
    c.fsm.families = Families(rtc);
    c.fsm.retry_min_ms = 200;
    c.fsm.retry_max_ms = 1000;
    c.fsm.random_seed = id;
    return c;
}

PathAttributes VpnAttrs(uint32_t rt) {
    PathAttributes a;
    a.origin = Origin::kIgp;
    a.set(attr::kOrigin);
    a.set(attr::kAsPath);
    a.local_pref = 100;
    a.set(attr::kLocalPref);
    a.ext_communities = {ExtCommunity::RouteTarget(0, kAs, rt),
                         ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kMplsOverGre))};
    a.set(attr::kExtCommunities);
    return a;
}

std::vector<VpnNlri> Routes(uint32_t first, uint32_t n, uint32_t label = 100) {
    std::vector<VpnNlri> v;
    for (uint32_t i = first; i < first + n; ++i) {
        VpnNlri r;
        r.labels = LabelStack::One(MplsLabelField(label + i));
        r.rd = RouteDistinguisher::Type0(kAs, 1);
        r.prefix.address = IpAddress::V4(0x0a000000u + (i << 8));
        r.prefix.length = 24;
        v.push_back(r);
    }
    return v;
}

RtcNlri Rtc(uint32_t rt) {
    RtcNlri n;
    n.length = 96;
    n.origin_as = kAs;
    n.route_target = ExtCommunity::RouteTarget(0, kAs, rt);
    return n;
}

class SpeakerTest : public ::testing::Test {
protected:
    // The RR on 127.0.60.1 (listening on an ephemeral port), then clients
    // 127.0.60.11.. connecting to it. `clients` flags: RR client or not.
    void Build(std::vector<bool> clients, bool rtc, bool reflector = true) {
        SpeakerConfig rr;
        rr.local_as = kAs;
        rr.router_id = 0x0a000001;
        rr.route_reflector = reflector;
        rr.local_address = IpAddress::V4(0x7f003c01);
        rr.listen = boost::asio::ip::tcp::endpoint(Ip("127.0.60.1"), 0);
        for (size_t i = 0; i < clients.size(); ++i) {
            const bool ebgp = ebgp_last_ && i + 1 == clients.size();
            SpeakerPeerConfig p;
            p.session = Session("127.0.60.1", ClientAddress(i), 179, 0x0a000001, true, rtc,
                                ebgp ? 65001 : kAs);
            p.rr_client = clients[i];
            if (tweak_) tweak_(p.session);
            if (rr_tweak_) rr_tweak_(p);
            rr.peers.push_back(p);
        }
        if (rr_config_tweak_) rr_config_tweak_(rr);
        rr_ = std::make_unique<BgpSpeaker>(io_.get_executor(), rr);
        ASSERT_FALSE(rr_->Start());
        const uint16_t port = rr_->listen_endpoint()->port();
        for (size_t i = 0; i < clients.size(); ++i) {
            const bool ebgp = ebgp_last_ && i + 1 == clients.size();
            SpeakerConfig c;
            c.local_as = ebgp ? 65001 : kAs;
            c.router_id = ClientId(i);
            c.local_address = IpAddress::V4(0x7f003c0bu + static_cast<uint32_t>(i));
            SpeakerPeerConfig p;
            p.session = Session(ClientAddress(i), "127.0.60.1", port, ClientId(i), false, rtc);
            if (ebgp) p.session.fsm.local_as = 65001;
            if (tweak_) tweak_(p.session);
            c.peers.push_back(p);
            clients_.push_back(std::make_unique<BgpSpeaker>(io_.get_executor(), c));
            ASSERT_FALSE(clients_.back()->Start());
        }
        ASSERT_TRUE(RunUntil(io_, [&] { return AllEstablished(); }, 5000ms));
    }
    // Replaces client i by a raw TestPeer that completes the handshake
    // (VPNv4, route refresh, hold time 0) and then does only what the test
    // says. Null on failure.
    std::unique_ptr<session_test::TestPeer> ReplaceWithRawPeer(size_t i, int receive_buffer = 0) {
        clients_[i].reset();
        if (!RunUntil(io_, [&] { return rr_->PeerStatus()[i].session.state == FsmState::kActive; },
                      8000ms))
            return nullptr;
        auto peer = std::make_unique<session_test::TestPeer>(io_, ClientAddress(i).c_str());
        if (!peer->Connect(*rr_->listen_endpoint(), receive_buffer)) return nullptr;
        OpenMessage open;
        open.my_as = kAs;
        open.hold_time = 0;  // no keepalives needed while it sleeps
        open.bgp_id = ClientId(i);
        AfiSafi vpn = ToAfiSafi(kVpn);
        open.capabilities = {MultiprotocolCap{vpn.afi, vpn.safi}, RouteRefreshCap{},
                             FourOctetAsCap{kAs}};
        peer->Send(EncodeOpen(open));
        if (!peer->ReceiveType(MessageType::kOpen)) return nullptr;
        peer->Send(EncodeKeepalive());
        if (!RunUntil(io_, [&] {
                return rr_->PeerStatus()[i].session.state == FsmState::kEstablished;
            }))
            return nullptr;
        return peer;
    }
    // Reads UPDATEs from a raw peer until End-of-RIB for `f` (or timeout);
    // returns the VPNv4 NLRI announced before it.
    static std::optional<size_t> CountUntilEndOfRib(session_test::TestPeer& peer, Family f) {
        size_t n = 0;
        for (;;) {
            auto m = peer.ReceiveType(MessageType::kUpdate, 3000ms);
            if (!m) return std::nullopt;
            const auto& u = std::get<UpdateMessage>(*m);
            if (u.EndOfRib() == f) return n;
            if (u.attributes.has(attr::kMpReach)) n += NlriCount(u.attributes.mp_reach.nlri);
        }
    }
    static std::string ClientAddress(size_t i) { return "127.0.60." + std::to_string(11 + i); }
    static uint32_t ClientId(size_t i) { return 0x0a00000bu + static_cast<uint32_t>(i); }
    bool AllEstablished() {
        for (const auto& s : rr_->PeerStatus())
            if (s.session.state != FsmState::kEstablished) return false;
        for (const auto& c : clients_)
            if (c->PeerStatus()[0].session.state != FsmState::kEstablished) return false;
        return true;
    }
    size_t Count(size_t client, Family f = kVpn) { return clients_[client]->rib().RouteCount(f); }
    const Path* Best(size_t client, const VpnNlri& n) { return clients_[client]->rib().Best(KeyOf(n)); }
    void TearDown() override {
        clients_.clear();
        rr_.reset();
        RunFor(io_, 20ms);
    }

    bool ebgp_last_ = false;  // the last client is an eBGP neighbour (AS 65001)
    std::function<void(PeerSessionConfig&)> tweak_;    // every session, both sides
    std::function<void(SpeakerPeerConfig&)> rr_tweak_;  // the RR's peers
    std::function<void(SpeakerConfig&)> rr_config_tweak_;  // the RR itself
    boost::asio::io_context io_;
    std::unique_ptr<BgpSpeaker> rr_;
    std::vector<std::unique_ptr<BgpSpeaker>> clients_;
};

// A client's routes reach the other clients with next hop, labels and route
// targets unchanged, ORIGINATOR_ID = the source, CLUSTER_LIST = the RR's
// cluster id; not back to the source; withdrawals follow.
TEST_F(SpeakerTest, ReflectsBetweenClients) {
    Build({true, true, true}, false);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 50)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 50 && Count(2) == 50; }));
    const Path* p = Best(1, Routes(7, 1)[0]);
    ASSERT_NE(p, nullptr);
    const PathAttributes& a = p->attributes().attributes();
    EXPECT_EQ(p->attributes().next_hop().global, IpAddress::V4(0x7f003c0b));
    EXPECT_EQ(p->labels().front(), MplsLabelField(107));
    ASSERT_TRUE(a.has(attr::kOriginatorId));
    EXPECT_EQ(a.originator_id, IpAddress::V4(ClientId(0)));
    ASSERT_EQ(a.cluster_list.size(), 1u);
    EXPECT_EQ(a.cluster_list[0], 0x0a000001u);
    EXPECT_EQ(a.ext_communities, VpnAttrs(1).ext_communities);
    // The source holds only its own (local) routes.
    EXPECT_EQ(clients_[0]->rib().PathCount(1, kVpn), 0u);
    clients_[0]->Withdraw(kVpn, NlriList(Routes(0, 20)));
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 30 && Count(2) == 30; }));
    EXPECT_EQ(Best(1, Routes(3, 1)[0]), nullptr);
    EXPECT_NE(Best(1, Routes(33, 1)[0]), nullptr);
}

// RFC 4456 §8: a non-client's routes go to clients only; a client's routes go
// to everyone. Without route reflection, iBGP routes go to no iBGP peer.
TEST_F(SpeakerTest, NonClientRoutesGoToClientsOnly) {
    Build({true, false, false}, false);
    clients_[1]->Announce(kVpn, NlriList(Routes(0, 10)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0c), {}});
    clients_[0]->Announce(kVpn, NlriList(Routes(100, 5)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(0) == 15 && Count(1) == 15 && Count(2) == 5; }));
    RunFor(io_, 100ms);
    EXPECT_EQ(Count(2), 5u);  // non-client: nothing from the other non-client
}

TEST_F(SpeakerTest, NoReflectionWithoutRouteReflector) {
    Build({true, true}, false, /*reflector=*/false);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 10)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return rr_->rib().RouteCount(kVpn) == 10; }));
    RunFor(io_, 150ms);
    EXPECT_EQ(Count(1), 0u);
}

// RT Constraint: each client receives only the VPN routes whose route
// targets it asked for (RTC routes reflected by the RR); a client joining an
// RT later gets its routes, leaving it withdraws them.
TEST_F(SpeakerTest, RtcFiltersPerClient) {
    Build({true, true, true}, true);
    clients_[1]->Announce(kRtc, NlriList(std::vector<RtcNlri>{Rtc(1)}), VpnAttrs(0),
                          NextHop{IpAddress::V4(0x7f003c0c), {}});
    clients_[2]->Announce(kRtc, NlriList(std::vector<RtcNlri>{Rtc(2)}), VpnAttrs(0),
                          NextHop{IpAddress::V4(0x7f003c0d), {}});
    // The source must know someone wants them: the RR reflects RTC routes.
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(0, kRtc) == 2; }));
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 20)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    clients_[0]->Announce(kVpn, NlriList(Routes(100, 30)), VpnAttrs(2),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 20 && Count(2) == 30; }));
    RunFor(io_, 100ms);
    EXPECT_EQ(Count(1), 20u);
    EXPECT_EQ(Count(2), 30u);
    EXPECT_NE(Best(1, Routes(5, 1)[0]), nullptr);
    EXPECT_EQ(Best(1, Routes(105, 1)[0]), nullptr);
    // Client 1 joins RT 2: it gets those 30 too; then leaves RT 1.
    clients_[1]->Announce(kRtc, NlriList(std::vector<RtcNlri>{Rtc(2)}), VpnAttrs(0),
                          NextHop{IpAddress::V4(0x7f003c0c), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 50; }));
    clients_[1]->Withdraw(kRtc, NlriList(std::vector<RtcNlri>{Rtc(1)}));
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 30; }));
    EXPECT_EQ(Best(1, Routes(5, 1)[0]), nullptr);
    EXPECT_EQ(Count(2), 30u);
}

// A client whose session goes down: its routes are withdrawn everywhere.
TEST_F(SpeakerTest, PeerDownWithdrawsItsRoutes) {
    Build({true, true}, false);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 40)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 40; }));
    bool done = false;
    clients_[0]->Shutdown("maintenance", 1000ms, [&] { done = true; });
    ASSERT_TRUE(RunUntil(io_, [&] { return done; }));
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 0; }));
    const auto st = rr_->PeerStatus();
    ASSERT_TRUE(st[0].session.last_error.has_value());
    EXPECT_EQ(st[0].session.last_error->code, notif::kCease);
}

// A client that connects after the table is full receives all of it (the
// initial export, paced through the output queue) and End-of-RIB.
TEST_F(SpeakerTest, LateClientGetsTheFullTable) {
    Build({true, true}, false);
    const uint32_t n = 30000;  // several export steps and UPDATEs
    clients_[0]->Announce(kVpn, NlriList(Routes(0, n)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == n; }, 10000ms));
    // Restart client 1: it must get everything again.
    const SpeakerConfig c = clients_[1]->config();
    clients_[1].reset();
    ASSERT_TRUE(RunUntil(io_, [&] {
        return rr_->PeerStatus()[1].session.state != FsmState::kEstablished;
    }, 3000ms));
    clients_[1] = std::make_unique<BgpSpeaker>(io_.get_executor(), c);
    ASSERT_FALSE(clients_[1]->Start());
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == n; }, 10000ms));
}

// RFC 4724 helper: a client that vanishes without a NOTIFICATION keeps its
// routes (stale) for its restart time; they go when it does not come back.
// One that says goodbye with a Cease loses them at once.
TEST_F(SpeakerTest, GracefulRestartKeepsRoutesForTheRestartTime) {
    // 0.5 s restart time at 10 ms per second: 50 "seconds".
    tweak_ = [](PeerSessionConfig& c) {
        c.fsm.graceful_restart = true;
        c.fsm.graceful_restart_time = 50;
        c.fsm.graceful_restart_families = c.fsm.families;  // "preserves forwarding"
    };
    Build({true, true}, false);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 10)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 10; }));
    clients_[0].reset();  // connections closed, no NOTIFICATION
    ASSERT_TRUE(RunUntil(io_, [&] { return rr_->PeerStatus()[0].stale; }, 1000ms));
    RunFor(io_, 200ms);
    EXPECT_EQ(Count(1), 10u);
    EXPECT_TRUE(rr_->rib().Best(KeyOf(Routes(0, 1)[0]))->stale());
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 0; }, 2000ms));
    EXPECT_FALSE(rr_->PeerStatus()[0].stale);
}

TEST_F(SpeakerTest, GracefulRestartNotAppliedAfterCease) {
    tweak_ = [](PeerSessionConfig& c) {
        c.fsm.graceful_restart = true;
        c.fsm.graceful_restart_time = 500;
        c.fsm.graceful_restart_families = c.fsm.families;
    };
    Build({true, true}, false);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 10)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 10; }));
    bool done = false;
    clients_[0]->Shutdown("bye", 1000ms, [&] { done = true; });
    ASSERT_TRUE(RunUntil(io_, [&] { return done && Count(1) == 0; }, 1000ms));
    EXPECT_FALSE(rr_->PeerStatus()[0].stale);
}

// max_prefix: a client sending more than allowed is closed with Cease 6/1.
TEST_F(SpeakerTest, MaxPrefixTearsDown) {
    rr_tweak_ = [](SpeakerPeerConfig& p) { p.max_prefix = 20; };
    Build({true, true}, false);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 21)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] {
        auto e = clients_[0]->PeerStatus()[0].session.last_error;
        return e && e->code == notif::kCease && e->subcode == notif::kMaxPrefixes;
    }, 2000ms));
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 0; }, 1000ms));
}

// A client that stops reading: its queue stays bounded (the rest waits as a
// backlog of keys), the other clients get the whole table without delay, and
// once it reads again it gets every route.
TEST_F(SpeakerTest, SlowClientDoesNotStallTheOthers) {
    rr_tweak_ = [](SpeakerPeerConfig& p) {
        p.session.high_water_bytes = 64 * 1024;
        p.session.low_water_bytes = 16 * 1024;
        p.session.send_buffer_bytes = 32 * 1024;  // small kernel buffers: the queue fills
    };
    Build({true, true, true}, false);
    // Client 2 is replaced by a raw peer that reads only when told.
    auto slow_ptr = ReplaceWithRawPeer(2, 64 * 1024);
    ASSERT_TRUE(slow_ptr);
    session_test::TestPeer& slow = *slow_ptr;
    // Far more than the socket buffers (32 KiB + 64 KiB) and the queue hold.
    const uint32_t n = 60000;
    clients_[0]->Announce(kVpn, NlriList(Routes(0, n)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == n; }, 30000ms));
    auto st = rr_->PeerStatus()[2];
    EXPECT_GT(st.backlog, 0u);
    // One chunk of 4,096 routes can land above the high-water mark.
    EXPECT_LT(st.session.queued_bytes, 64u * 1024 + 4096 * 20);
    // It reads again: everything arrives (announced counter) and the backlog
    // empties.
    ASSERT_TRUE(RunUntil(io_, [&] {
        slow.Drain();
        auto s = rr_->PeerStatus()[2];
        return s.backlog == 0 && s.nlri_announced_out >= n && s.session.queued_bytes == 0;
    }, 60000ms)) << "backlog " << rr_->PeerStatus()[2].backlog << " announced "
                 << rr_->PeerStatus()[2].nlri_announced_out << " queued "
                 << rr_->PeerStatus()[2].session.queued_bytes << " state "
                 << FsmStateName(rr_->PeerStatus()[2].session.state) << " eof " << slow.eof();

    // Withdrawals wait the same way (the backlog keeps the withdrawn entries
    // in the pinned table until they are replayed): the others see the routes
    // go at once, the slow one gets every withdrawal once it reads again, and
    // the table ends empty.
    const uint64_t withdrawn_before = rr_->PeerStatus()[2].nlri_withdrawn_out;
    clients_[0]->Withdraw(kVpn, NlriList(Routes(0, n)));
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 0; }, 30000ms));
    EXPECT_GT(rr_->PeerStatus()[2].backlog, 0u);
    ASSERT_TRUE(RunUntil(io_, [&] {
        slow.Drain();
        auto s = rr_->PeerStatus()[2];
        return s.backlog == 0 && s.nlri_withdrawn_out >= withdrawn_before + n &&
               s.session.queued_bytes == 0;
    }, 60000ms)) << "backlog " << rr_->PeerStatus()[2].backlog << " withdrawn "
                 << rr_->PeerStatus()[2].nlri_withdrawn_out;
    EXPECT_EQ(rr_->rib().RouteCount(kVpn), 0u);
}

// A client that does not read while the table is withdrawn keeps the
// withdrawn entries pinned: past stuck_backlog (0 here) with more withdrawn
// entries than routes (and 64 k), it is reset with Cease 6/8, and the table
// is compacted.
TEST_F(SpeakerTest, StuckBacklogIsReset) {
    rr_tweak_ = [](SpeakerPeerConfig& p) {
        p.session.high_water_bytes = 64 * 1024;
        p.session.low_water_bytes = 16 * 1024;
        p.session.send_buffer_bytes = 32 * 1024;
    };
    rr_config_tweak_ = [](SpeakerConfig& c) { c.stuck_backlog = std::chrono::milliseconds(0); };
    Build({true, true, true}, false);
    auto slow_ptr = ReplaceWithRawPeer(2, 64 * 1024);
    ASSERT_TRUE(slow_ptr);
    const uint32_t n = 70000;
    clients_[0]->Announce(kVpn, NlriList(Routes(0, n)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == n; }, 30000ms));
    ASSERT_GT(rr_->PeerStatus()[2].backlog, 0u);
    clients_[0]->Withdraw(kVpn, NlriList(Routes(0, n)));
    ASSERT_TRUE(RunUntil(io_, [&] {
        auto e = rr_->PeerStatus()[2].session.last_error;
        return Count(1) == 0 && e && e->sent && e->code == notif::kCease &&
               e->subcode == notif::kOutOfResources;
    }, 30000ms)) << "last error "
                 << (rr_->PeerStatus()[2].session.last_error
                         ? int(rr_->PeerStatus()[2].session.last_error->subcode)
                         : -1);
    ASSERT_TRUE(RunUntil(io_, [&] { return rr_->rib().EmptyEntries(kVpn) == 0; }, 5000ms));
    EXPECT_EQ(rr_->rib().RouteCount(kVpn), 0u);
}

// A new peer gets the table then End-of-RIB; a ROUTE-REFRESH gets it again.
TEST_F(SpeakerTest, EndOfRibAndRouteRefresh) {
    Build({true, true}, false);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 5000)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return rr_->rib().RouteCount(kVpn) == 5000; }));
    auto raw = ReplaceWithRawPeer(1);
    ASSERT_TRUE(raw);
    EXPECT_EQ(CountUntilEndOfRib(*raw, kVpn), std::optional<size_t>(5000));
    RouteRefreshMessage rr;
    AfiSafi vpn = ToAfiSafi(kVpn);
    rr.afi = vpn.afi;
    rr.safi = vpn.safi;
    raw->Send(EncodeRouteRefresh(rr));
    size_t again = 0;
    while (again < 5000) {
        auto m = raw->ReceiveType(MessageType::kUpdate, 3000ms);
        ASSERT_TRUE(m) << again;
        const auto& u = std::get<UpdateMessage>(*m);
        if (u.attributes.has(attr::kMpReach)) again += NlriCount(u.attributes.mp_reach.nlri);
    }
    EXPECT_EQ(again, 5000u);
}

// RFC 4684 §6 with a peer that never sends its RTC End-of-RIB (GoBGP without
// graceful restart): after rtc_end_of_rib_timeout it gets its VPN routes.
TEST_F(SpeakerTest, RtcPeerWithoutEndOfRibGetsRoutesAfterTheTimeout) {
    Build({true, true}, true);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 30)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    // A raw RTC peer: RTC route for RT 1, no End-of-RIB.
    clients_[1].reset();
    ASSERT_TRUE(RunUntil(io_, [&] { return rr_->PeerStatus()[1].session.state == FsmState::kActive; },
                         8000ms));
    session_test::TestPeer raw(io_, ClientAddress(1).c_str());
    ASSERT_TRUE(raw.Connect(*rr_->listen_endpoint()));
    OpenMessage open;
    open.my_as = kAs;
    open.hold_time = 0;
    open.bgp_id = ClientId(1);
    AfiSafi vpn = ToAfiSafi(kVpn), rtc = ToAfiSafi(kRtc);
    open.capabilities = {MultiprotocolCap{vpn.afi, vpn.safi}, MultiprotocolCap{rtc.afi, rtc.safi},
                         FourOctetAsCap{kAs}};
    raw.Send(EncodeOpen(open));
    ASSERT_TRUE(raw.ReceiveType(MessageType::kOpen));
    raw.Send(EncodeKeepalive());
    Bytes update;
    PathAttributes a = VpnAttrs(0);
    a.ext_communities.clear();
    a.clear(attr::kExtCommunities);
    PackAnnouncements(a, kRtc, NextHop{IpAddress::V4(0x7f003c0c), {}},
                      NlriList(std::vector<RtcNlri>{Rtc(1)}), SessionContext{}, update);
    raw.Send(update);
    const auto t0 = std::chrono::steady_clock::now();
    // Nothing before the timeout (5 s at 10 ms = 50 ms): then 30 routes.
    size_t got = 0;
    while (got < 30) {
        auto m = raw.ReceiveType(MessageType::kUpdate, 3000ms);
        ASSERT_TRUE(m) << got;
        const auto& u = std::get<UpdateMessage>(*m);
        if (u.attributes.has(attr::kMpReach) && u.attributes.mp_reach.family == kVpn)
            got += NlriCount(u.attributes.mp_reach.nlri);
    }
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 40ms);
    EXPECT_EQ(got, 30u);
}

// eBGP: a route from an iBGP client goes to an eBGP neighbour with our AS
// prepended, next-hop-self and no iBGP-only attributes; the neighbour's
// routes come back to the clients with LOCAL_PREF 100 and no ORIGINATOR_ID.
TEST_F(SpeakerTest, EbgpNeighbour) {
    ebgp_last_ = true;
    Build({true, true}, false);
    clients_[0]->Announce(kVpn, NlriList(Routes(0, 10)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0b), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(1) == 10; }));
    const Path* p = Best(1, Routes(3, 1)[0]);
    ASSERT_NE(p, nullptr);
    const PathAttributes& a = p->attributes().attributes();
    ASSERT_EQ(a.as_path.segments.size(), 1u);
    EXPECT_EQ(a.as_path.segments[0].asns, (std::vector<uint32_t>{kAs}));
    EXPECT_EQ(p->attributes().next_hop().global, IpAddress::V4(0x7f003c01));  // the RR
    EXPECT_FALSE(a.has(attr::kOriginatorId));
    EXPECT_FALSE(a.has(attr::kClusterList));
    EXPECT_FALSE(a.has(attr::kLocalPref));
    // And back: the eBGP speaker's own routes reach client 0.
    clients_[1]->Announce(kVpn, NlriList(Routes(100, 5)), VpnAttrs(1),
                          NextHop{IpAddress::V4(0x7f003c0c), {}});
    ASSERT_TRUE(RunUntil(io_, [&] { return Count(0) == 15; }));
    const Path* q = Best(0, Routes(101, 1)[0]);
    ASSERT_NE(q, nullptr);
    const PathAttributes& b = q->attributes().attributes();
    EXPECT_EQ(b.as_path.segments[0].asns, (std::vector<uint32_t>{65001}));
    EXPECT_FALSE(b.has(attr::kOriginatorId));
    EXPECT_EQ(b.local_pref, 100u);
}

}  // namespace
}  // namespace bagpipe::bgp
