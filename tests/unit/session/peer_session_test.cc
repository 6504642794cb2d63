// PeerSession on real loopback sockets, timers scaled to 10 ms per FSM second:
// two sessions through a BgpListener establish and exchange a VPNv4 UPDATE;
// against a raw test peer: hold timer expiry and restart by UPDATEs, malformed
// UPDATEs (session-reset and treat-as-withdraw), bad marker, ROUTE-REFRESH,
// byte-by-byte and many-per-read segmentation; collision of two active
// sessions; Stop with an RFC 9003 shutdown communication; output-queue
// back-pressure; reconnection after the peer restarts.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bgp/session/listener.h"
#include "bgp/session/peer_session.h"
#include "bgp/wire/message.h"
#include "bgp/wire/update_packer.h"
#include "session_test_util.h"
#include "test_peer.h"

namespace bagpipe::bgp {
namespace {

using namespace session_test;  // NOLINT(build/namespaces): test fixtures

constexpr uint32_t kAsA = 65001;
constexpr uint32_t kAsB = 65002;
constexpr uint32_t kIdA = 0x01010101;  // 1.1.1.1
constexpr uint32_t kIdB = 0x02020202;  // 2.2.2.2

class PeerSessionTest : public ::testing::Test {
protected:
    void SetUp() override {
        spdlog::set_level(std::getenv("BAGPIPE_TEST_LOG") ? spdlog::level::debug
                                                          : spdlog::level::err);
    }
    void TearDown() override { spdlog::set_level(spdlog::level::info); }

    boost::asio::any_io_executor ex() { return io.get_executor(); }

    boost::asio::io_context io;
};

// `routes` VPNv4 routes 10.<i>.0.0/24 (RD 65001:1, label 100+i) packed into
// UPDATEs for `ctx`; `messages` receives the number of messages.
Bytes VpnUpdates(size_t routes, uint32_t first_as, const SessionContext& ctx,
                 size_t* messages = nullptr, uint32_t first_route = 0) {
    PathAttributes attrs;
    attrs.set(attr::kOrigin);
    attrs.set(attr::kAsPath);
    attrs.as_path.segments = {{AsPathSegment::kSequence, {first_as}}};
    attrs.set(attr::kExtCommunities);
    attrs.ext_communities = {ExtCommunity::RouteTarget(0, 65001, 1)};
    std::vector<VpnNlri> nlri;
    for (uint32_t i = first_route; i < first_route + routes; ++i) {
        VpnNlri n;
        n.labels = LabelStack::One(MplsLabelField(100 + i));
        n.rd = RouteDistinguisher::Type0(65001, 1);
        n.prefix = Prefix{IpAddress::V4(0x0a000000 + (i << 8)), 24};
        nlri.push_back(n);
    }
    Bytes out;
    PackResult r = PackAnnouncements(attrs, Family::kIpv4Vpn, NextHop{IpAddress::V4(0x7f000a01), {}},
                                     NlriList(std::move(nlri)), ctx, out);
    EXPECT_EQ(r.nlri, routes);
    if (messages) *messages = r.messages;
    return out;
}

// Splits a stream of messages and decodes each UPDATE.
std::vector<UpdateMessage> DecodeUpdates(ByteView stream, const SessionContext& ctx) {
    std::vector<UpdateMessage> out;
    while (!stream.empty()) {
        FrameResult f = FrameMessage(stream, ctx.max_message_size());
        if (f.error || f.length == 0) {
            ADD_FAILURE() << "bad stream";
            break;
        }
        DecodeResult r = DecodeMessage(stream.first(f.length), ctx);
        EXPECT_FALSE(r.error.has_value());
        if (r.message) out.push_back(std::get<UpdateMessage>(std::move(*r.message)));
        stream = stream.subspan(f.length);
    }
    return out;
}

// The session (active) connects to the listening raw peer; the peer answers
// OPEN (hold time `hold`) and KEEPALIVE; both end up Established.
void Handshake(boost::asio::io_context& io, TestPeer& peer, PeerSession& s, uint16_t hold = 30) {
    s.Start();
    ASSERT_TRUE(peer.Accept());
    auto open = peer.ReceiveType(MessageType::kOpen);
    ASSERT_TRUE(open.has_value());
    EXPECT_EQ(std::get<OpenMessage>(*open).bgp_id, kIdA);
    peer.Send(EncodeOpen(PeerOpen(hold, kAsB, kIdB)));
    peer.Send(EncodeKeepalive());
    ASSERT_TRUE(RunUntil(io, [&] { return s.established(); }));
}

// A session from 127.0.<net>.1 to a raw peer listening on 127.0.<net>.2.
struct RawSetup {
    RawSetup(boost::asio::io_context& io, int net, uint16_t hold = 30,
             std::function<void(PeerSessionConfig&)> tweak = {})
        : local("127.0." + std::to_string(net) + ".1"),
          remote("127.0." + std::to_string(net) + ".2"),
          peer(io, remote.c_str()) {
        const uint16_t port = peer.Listen();
        PeerSessionConfig c = LoopbackConfig(local.c_str(), remote.c_str(), port, kAsA, kAsB, kIdA);
        if (tweak) tweak(c);
        session = std::make_unique<PeerSession>(io.get_executor(), c, recorder);
        Handshake(io, peer, *session, hold);
    }
    std::string local, remote;
    TestPeer peer;
    Recorder recorder;
    std::unique_ptr<PeerSession> session;
};

NotificationMessage AsNotification(const std::optional<Message>& m) {
    if (!m || !std::holds_alternative<NotificationMessage>(*m)) {
        ADD_FAILURE() << "no NOTIFICATION";
        return {};
    }
    return std::get<NotificationMessage>(*m);
}

// ---------------------------------------------------------------------------

TEST_F(PeerSessionTest, TwoSessionsEstablishAndDeliverVpnv4Update) {
    BgpListener listener(ex());
    ASSERT_FALSE(listener.Listen({Ip("127.0.10.2"), 0}));
    ASSERT_NE(listener.port(), 0);
    Recorder ra, rb;
    PeerSession b(ex(), LoopbackConfig("127.0.10.2", "127.0.10.1", 0, kAsB, kAsA, kIdB, true), rb);
    ASSERT_FALSE(listener.AddPeer(b));
    PeerSession a(ex(), LoopbackConfig("127.0.10.1", "127.0.10.2", listener.port(), kAsA, kAsB, kIdA),
                  ra);
    b.Start();
    a.Start();
    ASSERT_TRUE(RunUntil(io, [&] { return a.established() && b.established(); }));
    EXPECT_EQ(ra.established, 1);
    EXPECT_EQ(rb.established, 1);
    ASSERT_TRUE(ra.negotiated.has_value());
    EXPECT_EQ(ra.negotiated->peer_as, kAsB);
    EXPECT_EQ(ra.negotiated->hold_time, 30);
    EXPECT_TRUE(ra.negotiated->families.test(FamilyIndex(Family::kIpv4Vpn)));
    EXPECT_EQ(a.stats().local_endpoint.rfind("127.0.10.1:", 0), 0u);
    EXPECT_EQ(a.stats().remote_endpoint, "127.0.10.2:" + std::to_string(listener.port()));

    size_t messages = 0;
    Bytes updates = VpnUpdates(3, kAsA, a.negotiated()->context, &messages);
    ASSERT_EQ(messages, 1u);
    const std::vector<UpdateMessage> expected = DecodeUpdates(updates, b.negotiated()->context);
    EXPECT_TRUE(a.SendUpdates(Bytes(updates)));
    ASSERT_TRUE(RunUntil(io, [&] { return !rb.updates.empty(); }));
    ASSERT_EQ(rb.updates.size(), 1u);
    EXPECT_EQ(rb.updates[0].message, expected[0]);
    EXPECT_FALSE(rb.updates[0].error.has_value());
    const auto& reach = rb.updates[0].message.attributes.mp_reach;
    EXPECT_EQ(reach.family, Family::kIpv4Vpn);
    EXPECT_EQ(NlriCount(reach.nlri), 3u);

    // Keepalives keep both up past several hold times.
    RunFor(io, 700ms);
    EXPECT_TRUE(a.established() && b.established());
    const PeerSessionStats sa = a.stats(), sb = b.stats();
    EXPECT_EQ(sa.counters.out(MessageType::kUpdate), 1u);
    EXPECT_EQ(sb.counters.in(MessageType::kUpdate), 1u);
    EXPECT_GE(sb.counters.in(MessageType::kKeepalive), 5u);
    EXPECT_EQ(sa.counters.established, 1u);
    EXPECT_GT(sa.bytes_out, updates.size());
    EXPECT_EQ(sa.bytes_out, sb.bytes_in);
    EXPECT_GT(sa.uptime.count(), 0);
    EXPECT_EQ(sa.queued_bytes, 0u);
    EXPECT_FALSE(sa.last_error.has_value());
    EXPECT_TRUE(ra.downs.empty());
    EXPECT_TRUE(rb.downs.empty());
}

TEST_F(PeerSessionTest, HoldTimerExpiresWhenPeerGoesSilent) {
    RawSetup t(io, 11);
    ASSERT_FALSE(HasFatalFailure());
    const auto since = std::chrono::steady_clock::now();
    // The peer sends nothing more: NOTIFICATION 4/0 after the 300 ms hold time.
    const NotificationMessage n =
        AsNotification(t.peer.ReceiveType(MessageType::kNotification, 2000ms));
    const auto waited = std::chrono::steady_clock::now() - since;
    EXPECT_EQ(n.code, notif::kHoldTimerExpired);
    EXPECT_EQ(n.subcode, 0);
    EXPECT_GE(waited, 250ms);
    EXPECT_GE(t.peer.keepalives_seen(), 2u);  // ours kept going meanwhile
    EXPECT_TRUE(t.peer.WaitClosed(500ms));    // NOTIFICATION flushed, then closed
    ASSERT_TRUE(RunUntil(io, [&] { return !t.recorder.downs.empty(); }));
    EXPECT_TRUE(t.recorder.downs[0].was_established);
    EXPECT_NE(t.recorder.downs[0].reason.find("hold timer expired"), std::string::npos);
    const PeerSessionStats st = t.session->stats();
    ASSERT_TRUE(st.last_error.has_value());
    EXPECT_EQ(st.last_error->code, notif::kHoldTimerExpired);
    EXPECT_TRUE(st.last_error->sent);
    EXPECT_EQ(st.counters.flaps, 1u);
}

TEST_F(PeerSessionTest, UpdatesAloneRestartTheHoldTimer) {
    RawSetup t(io, 12);
    ASSERT_FALSE(HasFatalFailure());
    // 10 UPDATEs 100 ms apart and no KEEPALIVE: 1 s, over three hold times.
    for (uint32_t i = 0; i < 10; ++i) {
        RunFor(io, 100ms);
        ASSERT_TRUE(t.session->established()) << "after " << i << " UPDATEs";
        t.peer.Send(VpnUpdates(1, kAsB, SessionContext{}, nullptr, i));
    }
    ASSERT_TRUE(RunUntil(io, [&] { return t.recorder.updates.size() == 10; }));
    EXPECT_TRUE(t.session->established());
    EXPECT_TRUE(t.recorder.downs.empty());
    // Then silence: it expires.
    const NotificationMessage n =
        AsNotification(t.peer.ReceiveType(MessageType::kNotification, 2000ms));
    EXPECT_EQ(n.code, notif::kHoldTimerExpired);
}

TEST_F(PeerSessionTest, SessionResetUpdateGetsNotification) {
    RawSetup t(io, 13);
    ASSERT_FALSE(HasFatalFailure());
    // Withdrawn Routes Length 65535 in a 23-octet UPDATE: malformed attribute list.
    Bytes bad;
    Writer w(bad);
    PutHeader(MessageType::kUpdate, 23, w);
    w.PutU16(0xffff);
    w.PutU16(0);
    t.peer.Send(bad);
    const NotificationMessage n = AsNotification(t.peer.ReceiveType(MessageType::kNotification));
    EXPECT_EQ(n.code, notif::kUpdateMessageError);
    EXPECT_EQ(n.subcode, notif::kMalformedAttributeList);
    EXPECT_TRUE(t.peer.WaitClosed(500ms));
    ASSERT_TRUE(RunUntil(io, [&] { return !t.recorder.downs.empty(); }));
    EXPECT_TRUE(t.recorder.downs[0].was_established);
    EXPECT_NE(t.recorder.downs[0].reason.find("UpdateMsgErr"), std::string::npos);
    EXPECT_TRUE(t.recorder.updates.empty());
}

TEST_F(PeerSessionTest, TreatAsWithdrawUpdateIsDeliveredWithItsError) {
    RawSetup t(io, 14);
    ASSERT_FALSE(HasFatalFailure());
    // ORIGIN 5 (undefined): RFC 7606 §7.1 treat-as-withdraw; the session stays.
    const Bytes bad = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0, 47, 2,                              // header, length 47, UPDATE
        0, 0,                                        // no withdrawn routes
        0, 20,                                       // path attributes: 20 octets
        0x40, 1, 1, 5,                               // ORIGIN 5
        0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea,          // AS_PATH 65002
        0x40, 3, 4, 127, 0, 14, 2,                   // NEXT_HOP
        24, 10, 2, 0,                                // 10.2.0.0/24
    };
    t.peer.Send(bad);
    ASSERT_TRUE(RunUntil(io, [&] { return !t.recorder.updates.empty(); }));
    const auto& u = t.recorder.updates[0];
    ASSERT_TRUE(u.error.has_value());
    EXPECT_EQ(u.error->action, ErrorAction::kTreatAsWithdraw);
    ASSERT_EQ(u.message.nlri.size(), 1u);
    EXPECT_EQ(u.message.nlri[0].prefix.ToString(), "10.2.0.0/24");
    // No NOTIFICATION (only KEEPALIVEs) and still up.
    EXPECT_FALSE(t.peer.Receive(200ms).has_value());
    EXPECT_TRUE(t.session->established());
    EXPECT_TRUE(t.recorder.downs.empty());
}

TEST_F(PeerSessionTest, BadMarkerGetsHeaderErrorNotification) {
    RawSetup t(io, 15);
    ASSERT_FALSE(HasFatalFailure());
    Bytes bad = EncodeKeepalive();
    bad[3] = 0;
    t.peer.Send(bad);
    const NotificationMessage n = AsNotification(t.peer.ReceiveType(MessageType::kNotification));
    EXPECT_EQ(n.code, notif::kMessageHeaderError);
    EXPECT_EQ(n.subcode, notif::kConnectionNotSynchronized);
    ASSERT_TRUE(RunUntil(io, [&] { return !t.recorder.downs.empty(); }));
}

TEST_F(PeerSessionTest, RouteRefreshIsDelivered) {
    RawSetup t(io, 16);
    ASSERT_FALSE(HasFatalFailure());
    RouteRefreshMessage rr;
    rr.afi = kAfiIpv4;
    rr.safi = kSafiVpn;
    t.peer.Send(EncodeRouteRefresh(rr));
    ASSERT_TRUE(RunUntil(io, [&] { return !t.recorder.refreshes.empty(); }));
    EXPECT_EQ(t.recorder.refreshes[0], rr);
    // And we can send one.
    EXPECT_TRUE(t.session->SendRouteRefresh(rr));
    auto got = t.peer.ReceiveType(MessageType::kRouteRefresh);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(std::get<RouteRefreshMessage>(*got), rr);
}

TEST_F(PeerSessionTest, DelayOpenHoldsOurOpenBack) {
    TestPeer peer(io, "127.0.23.2");
    PeerSessionConfig c = LoopbackConfig("127.0.23.1", "127.0.23.2", peer.Listen(), kAsA, kAsB, kIdA);
    c.fsm.delay_open_time = 15;  // 150 ms
    Recorder r;
    PeerSession s(ex(), c, r);
    s.Start();
    ASSERT_TRUE(peer.Accept());
    const auto since = std::chrono::steady_clock::now();
    EXPECT_FALSE(peer.Receive(60ms).has_value());  // nothing yet
    ASSERT_TRUE(peer.ReceiveType(MessageType::kOpen, 1000ms).has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - since, 140ms);
    peer.Send(EncodeOpen(PeerOpen(30, kAsB, kIdB)));
    peer.Send(EncodeKeepalive());
    EXPECT_TRUE(RunUntil(io, [&] { return s.established(); }));
}

// 100 UPDATEs of one route each, and what the session must deliver.
struct Stream {
    Bytes bytes;
    std::vector<UpdateMessage> expected;
};
Stream HundredUpdates() {
    Stream s;
    for (uint32_t i = 0; i < 100; ++i) {
        Bytes one = VpnUpdates(1, kAsB, SessionContext{}, nullptr, i);
        s.bytes.insert(s.bytes.end(), one.begin(), one.end());
    }
    s.expected = DecodeUpdates(s.bytes, SessionContext{});
    EXPECT_EQ(s.expected.size(), 100u);
    return s;
}

TEST_F(PeerSessionTest, ByteByByteSegmentationOf100Updates) {
    RawSetup t(io, 17, /*hold=*/0);
    ASSERT_FALSE(HasFatalFailure());
    const Stream stream = HundredUpdates();
    const uint64_t base = t.session->stats().bytes_in;
    // One octet per segment, each read by the session before the next is sent.
    for (size_t i = 0; i < stream.bytes.size(); ++i) {
        t.peer.Send(ByteView(stream.bytes).subspan(i, 1));
        ASSERT_TRUE(RunUntil(io, [&] { return t.session->stats().bytes_in == base + i + 1; }))
            << "octet " << i;
    }
    ASSERT_TRUE(RunUntil(io, [&] { return t.recorder.updates.size() == 100; }));
    for (size_t i = 0; i < 100; ++i) {
        EXPECT_EQ(t.recorder.updates[i].message, stream.expected[i]) << "UPDATE " << i;
        EXPECT_FALSE(t.recorder.updates[i].error.has_value());
    }
    EXPECT_EQ(t.session->stats().counters.in(MessageType::kUpdate), 100u);
    EXPECT_TRUE(t.session->established());
}

TEST_F(PeerSessionTest, ManyMessagesPerRead) {
    RawSetup t(io, 18, /*hold=*/0);
    ASSERT_FALSE(HasFatalFailure());
    const Stream stream = HundredUpdates();
    // Twice: once in one write, once in odd-sized pieces that cut headers.
    t.peer.Send(stream.bytes);
    for (size_t at = 0, step = 1; at < stream.bytes.size(); at += step, step = step % 97 + 13)
        t.peer.Send(ByteView(stream.bytes).subspan(at, std::min(step, stream.bytes.size() - at)));
    ASSERT_TRUE(RunUntil(io, [&] { return t.recorder.updates.size() == 200; }));
    for (size_t i = 0; i < 200; ++i)
        EXPECT_EQ(t.recorder.updates[i].message, stream.expected[i % 100]) << "UPDATE " << i;
}

TEST_F(PeerSessionTest, CollisionLeavesExactlyOneConnection) {
    BgpListener la(ex()), lb(ex());
    ASSERT_FALSE(la.Listen({Ip("127.0.19.1"), 0}));
    ASSERT_FALSE(lb.Listen({Ip("127.0.19.2"), 0}));
    Recorder ra, rb;
    PeerSession a(ex(), LoopbackConfig("127.0.19.1", "127.0.19.2", lb.port(), kAsA, kAsB, kIdA), ra);
    PeerSession b(ex(), LoopbackConfig("127.0.19.2", "127.0.19.1", la.port(), kAsB, kAsA, kIdB), rb);
    la.AddPeer(a);
    lb.AddPeer(b);
    a.Start();
    b.Start();
    auto settled = [&] {
        return a.established() && b.established() && a.stats().connections == 1 &&
               b.stats().connections == 1;
    };
    ASSERT_TRUE(RunUntil(io, settled, 3000ms));
    RunFor(io, 500ms);  // past the hold time: the survivor stays up
    ASSERT_TRUE(settled());
    const PeerSessionStats sa = a.stats(), sb = b.stats();
    // Both ends agree on the one surviving connection...
    EXPECT_EQ(sa.local_endpoint, sb.remote_endpoint);
    EXPECT_EQ(sa.remote_endpoint, sb.local_endpoint);
    // ... which is the one initiated by the higher BGP identifier (b).
    EXPECT_EQ(sb.remote_endpoint, "127.0.19.1:" + std::to_string(la.port()));
    EXPECT_GE(sa.collisions + sb.collisions, 1u);
    EXPECT_EQ(ra.established, 1);
    EXPECT_EQ(rb.established, 1);
    EXPECT_EQ(ra.established_downs() + rb.established_downs(), 0u);
}

TEST_F(PeerSessionTest, StopSendsCeaseWithShutdownCommunication) {
    BgpListener listener(ex());
    ASSERT_FALSE(listener.Listen({Ip("127.0.20.2"), 0}));
    Recorder ra, rb;
    PeerSession b(ex(), LoopbackConfig("127.0.20.2", "127.0.20.1", 0, kAsB, kAsA, kIdB, true), rb);
    listener.AddPeer(b);
    PeerSession a(ex(), LoopbackConfig("127.0.20.1", "127.0.20.2", listener.port(), kAsA, kAsB, kIdA),
                  ra);
    b.Start();
    a.Start();
    ASSERT_TRUE(RunUntil(io, [&] { return a.established() && b.established(); }));

    const std::string text = "maintenance: back in 10 minutes";
    a.Stop(text);
    ASSERT_TRUE(RunUntil(io, [&] { return !rb.downs.empty(); }));
    EXPECT_TRUE(rb.downs[0].was_established);
    EXPECT_NE(rb.downs[0].reason.find("6/2"), std::string::npos) << rb.downs[0].reason;
    EXPECT_NE(rb.downs[0].reason.find(text), std::string::npos) << rb.downs[0].reason;
    const auto err = b.stats().last_error;
    ASSERT_TRUE(err.has_value());
    EXPECT_EQ(err->code, notif::kCease);
    EXPECT_EQ(err->subcode, notif::kAdministrativeShutdown);
    EXPECT_FALSE(err->sent);
    ASSERT_EQ(ra.downs.size(), 1u);
    EXPECT_TRUE(ra.downs[0].was_established);

    // a stays down (no reconnect after a manual stop).
    RunFor(io, 400ms);
    EXPECT_EQ(a.state(), FsmState::kIdle);
    EXPECT_FALSE(b.established());
    EXPECT_EQ(ra.established, 1);
    EXPECT_EQ(a.stats().counters.out(MessageType::kNotification), 1u);
}

TEST_F(PeerSessionTest, BackPressureStopsAtHighWaterAndResumesAfterDrain) {
    constexpr size_t kHigh = 256 * 1024, kLow = 64 * 1024;
    RawSetup t(io, 21, /*hold=*/0, [](PeerSessionConfig& c) {
        c.high_water_bytes = kHigh;
        c.low_water_bytes = kLow;
    });
    ASSERT_FALSE(HasFatalFailure());
    size_t per_batch = 0;
    const Bytes batch = VpnUpdates(4000, kAsA, t.session->negotiated()->context, &per_batch);
    ASSERT_GT(per_batch, 10u);
    t.peer.Drain();  // the session's OPEN-time messages

    // The peer does not read: the kernel buffers fill, then the queue.
    size_t batches = 0;
    bool more = true;
    while (more && batches < 2000) {
        more = t.session->SendUpdates(Bytes(batch));
        ++batches;
        RunUntil(io, [&] { return t.session->queued_bytes() == 0; }, 5ms);
    }
    ASSERT_FALSE(more) << "never reached the high-water mark";
    EXPECT_GT(t.session->queued_bytes(), kHigh);
    EXPECT_LE(t.session->queued_bytes(), kHigh + batch.size());
    RunFor(io, 50ms);
    EXPECT_EQ(t.recorder.writable, 0);

    // The peer reads again: OnWritable once the queue is below low-water.
    size_t received = 0;
    ASSERT_TRUE(RunUntil(io, [&] {
        received += t.peer.Drain(MessageType::kUpdate);
        return t.recorder.writable > 0;
    }, 5000ms));
    EXPECT_EQ(t.recorder.writable, 1);
    EXPECT_LE(t.recorder.queued_at_writable, kLow);
    // Everything arrives, whole and in order.
    ASSERT_TRUE(RunUntil(io, [&] {
        received += t.peer.Drain(MessageType::kUpdate);
        return received >= batches * per_batch;
    }, 5000ms));
    EXPECT_EQ(received, batches * per_batch);
    EXPECT_EQ(t.session->queued_bytes(), 0u);
    EXPECT_EQ(t.session->stats().counters.out(MessageType::kUpdate), batches * per_batch);
    EXPECT_TRUE(t.session->established());
}

TEST_F(PeerSessionTest, ReconnectsAfterPeerRestart) {
    Recorder ra, rb1, rb2;
    auto lb = std::make_unique<BgpListener>(ex());
    ASSERT_FALSE(lb->Listen({Ip("127.0.22.2"), 0}));
    const uint16_t port = lb->port();
    const PeerSessionConfig cb = LoopbackConfig("127.0.22.2", "127.0.22.1", 0, kAsB, kAsA, kIdB, true);
    auto b = std::make_unique<PeerSession>(ex(), cb, rb1);
    lb->AddPeer(*b);
    b->Start();
    PeerSession a(ex(), LoopbackConfig("127.0.22.1", "127.0.22.2", port, kAsA, kAsB, kIdA), ra);
    a.Start();
    ASSERT_TRUE(RunUntil(io, [&] { return a.established() && b->established(); }));

    // The peer's process goes away: sockets closed, no NOTIFICATION.
    b.reset();
    lb.reset();
    ASSERT_TRUE(RunUntil(io, [&] { return ra.established_downs() == 1; }));
    RunFor(io, 100ms);  // a retries against a closed port meanwhile
    EXPECT_FALSE(a.established());

    // It comes back on the same port.
    lb = std::make_unique<BgpListener>(ex());
    ASSERT_FALSE(lb->Listen({Ip("127.0.22.2"), port}));
    b = std::make_unique<PeerSession>(ex(), cb, rb2);
    lb->AddPeer(*b);
    b->Start();
    ASSERT_TRUE(RunUntil(io, [&] { return a.established() && b->established(); }, 3000ms));
    EXPECT_EQ(ra.established, 2);
    EXPECT_EQ(rb2.established, 1);
    const PeerSessionStats sa = a.stats();
    EXPECT_EQ(sa.counters.established, 2u);
    EXPECT_EQ(sa.counters.flaps, 1u);
}

}  // namespace
}  // namespace bagpipe::bgp
