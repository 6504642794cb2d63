// The RFC 4271 §8 FSM: one table row per (state, event) transition with the
// state reached and the exact actions emitted, then end-to-end scenarios
// (active and passive open, OPEN checks, hold time negotiation, hold timer
// expiry, NOTIFICATION received, reconnect back-off, collisions, counters).
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "bgp/session/fsm.h"
#include "session_test_util.h"

namespace bagpipe::bgp {
namespace {

using namespace session_test;  // NOLINT(build/namespaces): test fixtures
using enum ActionKind;

// ---------------------------------------------------------------------------
// Table: every transition of §8.2.2 the Fsm implements.

// Where a row starts. The *DelayOpen setups use delay_open_time = 5 and stop
// with the DelayOpenTimer running (transport up, no OPEN sent yet).
enum class Setup {
    kIdle,
    kIdleEnabled,  // after ManualStart and a failure: an automatic restart is pending
    kConnect,
    kActive,
    kActivePassiveConfig,
    kConnectWithDelayOpenConfig,  // delay_open_time = 5, no transport yet
    kActiveWithDelayOpenConfig,
    kConnectDelayOpen,
    kActiveDelayOpen,
    kOpenSent,
    kOpenConfirm,
    kEstablished,
};

Event Ev(EventKind k) { return Event::Of(k); }

DecodeError Err(uint8_t code, uint8_t subcode) {
    return DecodeError::Reset(code, subcode, "test error");
}

Fsm MakeFsm(Setup setup) {
    FsmConfig config = TestConfig();
    if (setup == Setup::kConnectDelayOpen || setup == Setup::kActiveDelayOpen ||
        setup == Setup::kConnectWithDelayOpenConfig || setup == Setup::kActiveWithDelayOpenConfig)
        config.delay_open_time = 5;
    if (setup == Setup::kActivePassiveConfig) config.passive = true;
    Fsm fsm(config);
    auto feed = [&](const Event& e) { fsm.Handle(e); };
    switch (setup) {
        case Setup::kIdle: break;
        case Setup::kIdleEnabled:
            feed(Ev(EventKind::kManualStart));
            feed(Ev(EventKind::kTcpConnectionFails));
            break;
        case Setup::kConnect: feed(Ev(EventKind::kManualStart)); break;
        case Setup::kActive: feed(Ev(EventKind::kManualStartPassive)); break;
        case Setup::kActivePassiveConfig: feed(Ev(EventKind::kManualStart)); break;
        case Setup::kConnectWithDelayOpenConfig: feed(Ev(EventKind::kManualStart)); break;
        case Setup::kActiveWithDelayOpenConfig: feed(Ev(EventKind::kManualStartPassive)); break;
        case Setup::kConnectDelayOpen:
            feed(Ev(EventKind::kManualStart));
            feed(Ev(EventKind::kTcpCrAcked));
            break;
        case Setup::kActiveDelayOpen:
            feed(Ev(EventKind::kManualStartPassive));
            feed(Ev(EventKind::kTcpConnectionConfirmed));
            break;
        case Setup::kOpenSent:
            feed(Ev(EventKind::kManualStart));
            feed(Ev(EventKind::kTcpCrAcked));
            break;
        case Setup::kOpenConfirm:
            feed(Ev(EventKind::kManualStart));
            feed(Ev(EventKind::kTcpCrAcked));
            feed(Event::Open(PeerOpen()));
            break;
        case Setup::kEstablished:
            feed(Ev(EventKind::kManualStart));
            feed(Ev(EventKind::kTcpCrAcked));
            feed(Event::Open(PeerOpen()));
            feed(Ev(EventKind::kKeepAliveMsg));
            break;
    }
    return fsm;
}

FsmState StateOf(Setup s) {
    switch (s) {
        case Setup::kIdle:
        case Setup::kIdleEnabled: return FsmState::kIdle;
        case Setup::kConnect:
        case Setup::kConnectWithDelayOpenConfig:
        case Setup::kConnectDelayOpen: return FsmState::kConnect;
        case Setup::kActive:
        case Setup::kActivePassiveConfig:
        case Setup::kActiveWithDelayOpenConfig:
        case Setup::kActiveDelayOpen: return FsmState::kActive;
        case Setup::kOpenSent: return FsmState::kOpenSent;
        case Setup::kOpenConfirm: return FsmState::kOpenConfirm;
        case Setup::kEstablished: return FsmState::kEstablished;
    }
    return FsmState::kIdle;
}

struct Row {
    const char* name;
    Setup from;
    Event event;
    FsmState to;
    std::vector<ActionKind> actions;
    // The NOTIFICATION sent, when actions hold SendNotification.
    int code = -1;
    int subcode = -1;
};

RouteRefreshMessage Ipv4UnicastRefresh() {
    RouteRefreshMessage m;
    m.afi = kAfiIpv4;
    m.safi = kSafiUnicast;
    return m;
}

NotificationMessage Cease(uint8_t subcode) {
    NotificationMessage m;
    m.code = notif::kCease;
    m.subcode = subcode;
    return m;
}

NotificationMessage VersionError() {
    NotificationMessage m;
    m.code = notif::kOpenMessageError;
    m.subcode = notif::kUnsupportedVersion;
    return m;
}

using S = Setup;
using St = FsmState;
using K = EventKind;

// Shorthands for the tail of every return to Idle.
const std::vector<ActionKind> kDownRestart = {kSessionDown, kScheduleAutomaticStart};

std::vector<ActionKind> Cat(std::vector<ActionKind> a, const std::vector<ActionKind>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<Row> Rows() {
    // Timers running per setup: Connect/Active: ConnectRetry; OpenSent: Hold;
    // OpenConfirm and Established: Hold and Keepalive; *DelayOpen: DelayOpen.
    const auto connect_fail = Cat({kStopConnectRetryTimer, kDisconnect}, kDownRestart);
    const auto active_fail = Cat({kStopConnectRetryTimer}, kDownRestart);
    const auto opensent_fail =
        Cat({kSendNotification, kStopHoldTimer, kDisconnect}, kDownRestart);
    const auto confirmed_fail = Cat(
        {kSendNotification, kStopHoldTimer, kStopKeepaliveTimer, kDisconnect}, kDownRestart);
    const auto confirmed_silent_fail =
        Cat({kStopHoldTimer, kStopKeepaliveTimer, kDisconnect}, kDownRestart);
    return {
        // Idle (§8.2.2 "Idle state").
        {"IdleManualStart", S::kIdle, Ev(K::kManualStart), St::kConnect,
         {kStartConnectRetryTimer, kConnect}},
        {"IdleManualStartPassive", S::kIdle, Ev(K::kManualStartPassive), St::kActive,
         {kStartConnectRetryTimer}},
        {"IdleAutomaticStartWhenDisabled", S::kIdle, Ev(K::kAutomaticStart), St::kIdle, {}},
        {"IdleAutomaticStartWhenEnabled", S::kIdleEnabled, Ev(K::kAutomaticStart), St::kConnect,
         {kStartConnectRetryTimer, kConnect}},
        {"IdleManualStop", S::kIdle, Event::ManualStop(), St::kIdle, {}},
        {"IdleRefusesIncoming", S::kIdle, Ev(K::kTcpConnectionConfirmed), St::kIdle,
         {kDisconnect}},
        {"IdleIgnoresHoldTimer", S::kIdle, Ev(K::kHoldTimerExpires), St::kIdle, {}},
        {"IdleIgnoresKeepalive", S::kIdle, Ev(K::kKeepAliveMsg), St::kIdle, {}},
        {"IdleIgnoresOpen", S::kIdle, Event::Open(PeerOpen()), St::kIdle, {}},

        // Connect.
        {"ConnectManualStartIgnored", S::kConnect, Ev(K::kManualStart), St::kConnect, {}},
        {"ConnectManualStop", S::kConnect, Event::ManualStop(), St::kIdle,
         {kStopConnectRetryTimer, kDisconnect, kSessionDown}},
        {"ConnectRetryTimerExpires", S::kConnect, Ev(K::kConnectRetryTimerExpires),
         St::kConnect, {kDisconnect, kStartConnectRetryTimer, kConnect}},
        {"ConnectTcpValid", S::kConnect, Ev(K::kTcpConnectionValid), St::kConnect, {}},
        {"ConnectTcpCrAcked", S::kConnect, Ev(K::kTcpCrAcked), St::kOpenSent,
         {kStopConnectRetryTimer, kSendOpen, kStartHoldTimer}},
        {"ConnectTcpConfirmed", S::kConnect, Ev(K::kTcpConnectionConfirmed), St::kOpenSent,
         {kStopConnectRetryTimer, kSendOpen, kStartHoldTimer}},
        {"ConnectTcpFails", S::kConnect, Ev(K::kTcpConnectionFails), St::kIdle, active_fail},
        {"ConnectOpenWithoutDelayOpen", S::kConnect, Event::Open(PeerOpen()), St::kIdle,
         connect_fail},
        {"ConnectHeaderErr", S::kConnect, Event::HeaderError(Err(1, 2)), St::kIdle,
         connect_fail},
        {"ConnectOpenMsgErr", S::kConnect, Event::OpenError(Err(2, 4)), St::kIdle,
         connect_fail},
        {"ConnectNotifVersionError", S::kConnect, Event::NotificationReceived(VersionError()),
         St::kIdle, connect_fail},
        {"ConnectHoldTimer", S::kConnect, Ev(K::kHoldTimerExpires), St::kIdle, connect_fail},
        {"ConnectKeepaliveMsg", S::kConnect, Ev(K::kKeepAliveMsg), St::kIdle, connect_fail},
        {"ConnectUpdateMsg", S::kConnect, Ev(K::kUpdateMsg), St::kIdle, connect_fail},
        {"ConnectDelayOpenTimerNotRunning", S::kConnect, Ev(K::kDelayOpenTimerExpires),
         St::kIdle, connect_fail},
        {"ConnectCollisionDump", S::kConnect, Ev(K::kOpenCollisionDump), St::kIdle,
         {kStopConnectRetryTimer, kDisconnect, kSessionDown}},

        // Connect with DelayOpen.
        {"ConnectDelayOpenTcpUp", S::kConnectWithDelayOpenConfig, Ev(K::kTcpCrAcked),
         St::kConnect, {kStopConnectRetryTimer, kStartDelayOpenTimer}},
        {"ConnectDelayOpenExpires", S::kConnectDelayOpen, Ev(K::kDelayOpenTimerExpires),
         St::kOpenSent, {kSendOpen, kStartHoldTimer}},
        {"ConnectDelayOpenOpen", S::kConnectDelayOpen, Event::Open(PeerOpen()),
         St::kOpenConfirm,
         {kStopDelayOpenTimer, kSendOpen, kSendKeepalive, kStartKeepaliveTimer,
          kStartHoldTimer}},
        {"ConnectDelayOpenBadOpen", S::kConnectDelayOpen, Event::Open(PeerOpen(90, 65009)),
         St::kIdle, Cat({kStopDelayOpenTimer, kDisconnect}, kDownRestart)},
        {"ConnectDelayOpenTcpFails", S::kConnectDelayOpen, Ev(K::kTcpConnectionFails),
         St::kActive, {kStopDelayOpenTimer, kStartConnectRetryTimer}},
        {"ConnectDelayOpenNotifVersionError", S::kConnectDelayOpen,
         Event::NotificationReceived(VersionError()), St::kIdle,
         Cat({kStopDelayOpenTimer, kDisconnect}, kDownRestart)},
        {"ConnectDelayOpenManualStop", S::kConnectDelayOpen, Event::ManualStop(), St::kIdle,
         {kStopDelayOpenTimer, kDisconnect, kSessionDown}},

        // Active.
        {"ActiveManualStartIgnored", S::kActive, Ev(K::kManualStart), St::kActive, {}},
        {"ActiveManualStop", S::kActive, Event::ManualStop(), St::kIdle,
         {kStopConnectRetryTimer, kSessionDown}},
        {"ActiveConnectRetryExpires", S::kActive, Ev(K::kConnectRetryTimerExpires),
         St::kConnect, {kStartConnectRetryTimer, kConnect}},
        {"ActivePassiveConfigNeverConnects", S::kActivePassiveConfig,
         Ev(K::kConnectRetryTimerExpires), St::kActive, {}},
        {"ActiveTcpValid", S::kActive, Ev(K::kTcpConnectionValid), St::kActive, {}},
        {"ActiveTcpConfirmed", S::kActive, Ev(K::kTcpConnectionConfirmed), St::kOpenSent,
         {kStopConnectRetryTimer, kSendOpen, kStartHoldTimer}},
        {"ActivePassiveConfigTcpConfirmed", S::kActivePassiveConfig,
         Ev(K::kTcpConnectionConfirmed), St::kOpenSent, {kSendOpen, kStartHoldTimer}},
        {"ActiveTcpFails", S::kActive, Ev(K::kTcpConnectionFails), St::kIdle, active_fail},
        {"ActiveOpenWithoutDelayOpen", S::kActive, Event::Open(PeerOpen()), St::kIdle,
         active_fail},
        {"ActiveKeepaliveMsg", S::kActive, Ev(K::kKeepAliveMsg), St::kIdle, active_fail},
        {"ActiveNotifMsg", S::kActive, Event::NotificationReceived(Cease(2)), St::kIdle,
         active_fail},
        {"ActiveDelayOpenTcpUp", S::kActiveWithDelayOpenConfig, Ev(K::kTcpConnectionConfirmed),
         St::kActive, {kStopConnectRetryTimer, kStartDelayOpenTimer}},
        {"ActiveDelayOpenExpires", S::kActiveDelayOpen, Ev(K::kDelayOpenTimerExpires),
         St::kOpenSent, {kSendOpen, kStartHoldTimer}},
        {"ActiveDelayOpenOpen", S::kActiveDelayOpen, Event::Open(PeerOpen()), St::kOpenConfirm,
         {kStopDelayOpenTimer, kSendOpen, kSendKeepalive, kStartKeepaliveTimer,
          kStartHoldTimer}},
        {"ActiveDelayOpenTcpFails", S::kActiveDelayOpen, Ev(K::kTcpConnectionFails), St::kIdle,
         Cat({kStopDelayOpenTimer}, kDownRestart)},

        // OpenSent.
        {"OpenSentManualStartIgnored", S::kOpenSent, Ev(K::kManualStart), St::kOpenSent, {}},
        {"OpenSentSecondConnection", S::kOpenSent, Ev(K::kTcpConnectionConfirmed),
         St::kOpenSent, {}},
        {"OpenSentManualStop", S::kOpenSent, Event::ManualStop(), St::kIdle,
         {kSendNotification, kStopHoldTimer, kDisconnect, kSessionDown}, 6, 2},
        {"OpenSentAutomaticStop", S::kOpenSent, Event::AutomaticStop(notif::kOutOfResources),
         St::kIdle, opensent_fail, 6, 8},
        {"OpenSentHoldTimer", S::kOpenSent, Ev(K::kHoldTimerExpires), St::kIdle,
         Cat({kSendNotification, kDisconnect}, kDownRestart), 4, 0},
        {"OpenSentTcpFails", S::kOpenSent, Ev(K::kTcpConnectionFails), St::kActive,
         {kStopHoldTimer, kStartConnectRetryTimer}},
        {"OpenSentOpen", S::kOpenSent, Event::Open(PeerOpen()), St::kOpenConfirm,
         {kSendKeepalive, kStartKeepaliveTimer, kStartHoldTimer}},
        {"OpenSentOpenBadPeerAs", S::kOpenSent, Event::Open(PeerOpen(90, 65009)), St::kIdle,
         opensent_fail, 2, 2},
        {"OpenSentHeaderErr", S::kOpenSent, Event::HeaderError(Err(1, 2)), St::kIdle,
         opensent_fail, 1, 2},
        {"OpenSentOpenMsgErr", S::kOpenSent, Event::OpenError(Err(2, 4)), St::kIdle,
         opensent_fail, 2, 4},
        {"OpenSentCollisionDump", S::kOpenSent, Ev(K::kOpenCollisionDump), St::kIdle,
         {kSendNotification, kStopHoldTimer, kDisconnect, kSessionDown}, 6, 7},
        {"OpenSentNotifVersionError", S::kOpenSent, Event::NotificationReceived(VersionError()),
         St::kIdle, Cat({kStopHoldTimer, kDisconnect}, kDownRestart)},
        {"OpenSentNotifMsg", S::kOpenSent, Event::NotificationReceived(Cease(2)), St::kIdle,
         Cat({kStopHoldTimer, kDisconnect}, kDownRestart)},
        {"OpenSentKeepaliveMsg", S::kOpenSent, Ev(K::kKeepAliveMsg), St::kIdle, opensent_fail,
         5, 1},
        {"OpenSentUpdateMsg", S::kOpenSent, Ev(K::kUpdateMsg), St::kIdle, opensent_fail, 5, 1},
        {"OpenSentUpdateMsgErr", S::kOpenSent, Event::UpdateError(Err(3, 1)), St::kIdle,
         opensent_fail, 5, 1},
        {"OpenSentRouteRefresh", S::kOpenSent, Event::RouteRefresh(Ipv4UnicastRefresh()),
         St::kIdle, opensent_fail, 5, 1},
        {"OpenSentConnectRetryTimer", S::kOpenSent, Ev(K::kConnectRetryTimerExpires),
         St::kIdle, opensent_fail, 5, 1},
        {"OpenSentKeepaliveTimer", S::kOpenSent, Ev(K::kKeepaliveTimerExpires), St::kIdle,
         opensent_fail, 5, 1},
        {"OpenSentDelayOpenTimer", S::kOpenSent, Ev(K::kDelayOpenTimerExpires), St::kIdle,
         opensent_fail, 5, 1},

        // OpenConfirm.
        {"OpenConfirmManualStartIgnored", S::kOpenConfirm, Ev(K::kManualStart),
         St::kOpenConfirm, {}},
        {"OpenConfirmSecondConnection", S::kOpenConfirm, Ev(K::kTcpConnectionConfirmed),
         St::kOpenConfirm, {}},
        {"OpenConfirmManualStop", S::kOpenConfirm, Event::ManualStop(), St::kIdle,
         {kSendNotification, kStopHoldTimer, kStopKeepaliveTimer, kDisconnect, kSessionDown},
         6, 2},
        {"OpenConfirmAutomaticStop", S::kOpenConfirm, Event::AutomaticStop(notif::kMaxPrefixes),
         St::kIdle, confirmed_fail, 6, 1},
        {"OpenConfirmHoldTimer", S::kOpenConfirm, Ev(K::kHoldTimerExpires), St::kIdle,
         Cat({kSendNotification, kStopKeepaliveTimer, kDisconnect}, kDownRestart), 4, 0},
        {"OpenConfirmKeepaliveTimer", S::kOpenConfirm, Ev(K::kKeepaliveTimerExpires),
         St::kOpenConfirm, {kSendKeepalive, kStartKeepaliveTimer}},
        {"OpenConfirmTcpFails", S::kOpenConfirm, Ev(K::kTcpConnectionFails), St::kIdle,
         Cat({kStopHoldTimer, kStopKeepaliveTimer}, kDownRestart)},
        {"OpenConfirmNotifMsg", S::kOpenConfirm, Event::NotificationReceived(Cease(2)),
         St::kIdle, confirmed_silent_fail},
        {"OpenConfirmNotifVersionError", S::kOpenConfirm,
         Event::NotificationReceived(VersionError()), St::kIdle, confirmed_silent_fail},
        {"OpenConfirmOpen", S::kOpenConfirm, Event::Open(PeerOpen()), St::kIdle,
         confirmed_fail, 5, 2},
        {"OpenConfirmHeaderErr", S::kOpenConfirm, Event::HeaderError(Err(1, 3)), St::kIdle,
         confirmed_fail, 1, 3},
        {"OpenConfirmOpenMsgErr", S::kOpenConfirm, Event::OpenError(Err(2, 4)), St::kIdle,
         confirmed_fail, 2, 4},
        {"OpenConfirmCollisionDump", S::kOpenConfirm, Ev(K::kOpenCollisionDump), St::kIdle,
         {kSendNotification, kStopHoldTimer, kStopKeepaliveTimer, kDisconnect, kSessionDown},
         6, 7},
        {"OpenConfirmKeepaliveMsg", S::kOpenConfirm, Ev(K::kKeepAliveMsg), St::kEstablished,
         {kStartHoldTimer, kSessionEstablished}},
        {"OpenConfirmUpdateMsg", S::kOpenConfirm, Ev(K::kUpdateMsg), St::kIdle, confirmed_fail,
         5, 2},
        {"OpenConfirmUpdateMsgErr", S::kOpenConfirm, Event::UpdateError(Err(3, 1)), St::kIdle,
         confirmed_fail, 5, 2},
        {"OpenConfirmConnectRetryTimer", S::kOpenConfirm, Ev(K::kConnectRetryTimerExpires),
         St::kIdle, confirmed_fail, 5, 2},

        // Established.
        {"EstablishedManualStartIgnored", S::kEstablished, Ev(K::kManualStart),
         St::kEstablished, {}},
        {"EstablishedSecondConnection", S::kEstablished, Ev(K::kTcpConnectionConfirmed),
         St::kEstablished, {}},
        {"EstablishedManualStop", S::kEstablished, Event::ManualStop("maintenance"), St::kIdle,
         {kSendNotification, kStopHoldTimer, kStopKeepaliveTimer, kDisconnect, kSessionDown},
         6, 2},
        {"EstablishedAutomaticStop", S::kEstablished, Event::AutomaticStop(notif::kMaxPrefixes),
         St::kIdle, confirmed_fail, 6, 1},
        {"EstablishedHoldTimer", S::kEstablished, Ev(K::kHoldTimerExpires), St::kIdle,
         Cat({kSendNotification, kStopKeepaliveTimer, kDisconnect}, kDownRestart), 4, 0},
        {"EstablishedKeepaliveTimer", S::kEstablished, Ev(K::kKeepaliveTimerExpires),
         St::kEstablished, {kSendKeepalive, kStartKeepaliveTimer}},
        {"EstablishedKeepaliveMsg", S::kEstablished, Ev(K::kKeepAliveMsg), St::kEstablished,
         {kStartHoldTimer}},
        {"EstablishedUpdateMsg", S::kEstablished, Ev(K::kUpdateMsg), St::kEstablished,
         {kStartHoldTimer, kDeliverUpdate}},
        {"EstablishedRouteRefresh", S::kEstablished, Event::RouteRefresh(Ipv4UnicastRefresh()),
         St::kEstablished, {kStartHoldTimer, kDeliverRouteRefresh}},
        {"EstablishedUpdateMsgErr", S::kEstablished, Event::UpdateError(Err(3, 11)), St::kIdle,
         confirmed_fail, 3, 11},
        {"EstablishedHeaderErr", S::kEstablished, Event::HeaderError(Err(1, 2)), St::kIdle,
         confirmed_fail, 1, 2},
        {"EstablishedOpen", S::kEstablished, Event::Open(PeerOpen()), St::kIdle, confirmed_fail,
         5, 3},
        {"EstablishedOpenMsgErr", S::kEstablished, Event::OpenError(Err(2, 4)), St::kIdle,
         confirmed_fail, 5, 3},
        {"EstablishedNotifMsg", S::kEstablished, Event::NotificationReceived(Cease(4)),
         St::kIdle, confirmed_silent_fail},
        {"EstablishedTcpFails", S::kEstablished, Ev(K::kTcpConnectionFails), St::kIdle,
         Cat({kStopHoldTimer, kStopKeepaliveTimer}, kDownRestart)},
        {"EstablishedConnectRetryTimer", S::kEstablished, Ev(K::kConnectRetryTimerExpires),
         St::kIdle, confirmed_fail, 5, 3},
        {"EstablishedDelayOpenTimer", S::kEstablished, Ev(K::kDelayOpenTimerExpires), St::kIdle,
         confirmed_fail, 5, 3},
        {"EstablishedCollisionDump", S::kEstablished, Ev(K::kOpenCollisionDump), St::kIdle,
         {kSendNotification, kStopHoldTimer, kStopKeepaliveTimer, kDisconnect, kSessionDown},
         6, 7},
    };
}

class FsmTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(FsmTableTest, Transition) {
    const Row& row = GetParam();
    Fsm fsm = MakeFsm(row.from);
    ASSERT_EQ(fsm.state(), StateOf(row.from)) << "setup did not reach the start state";
    std::vector<Action> actions = fsm.Handle(row.event);
    EXPECT_EQ(FsmStateName(fsm.state()), FsmStateName(row.to));
    EXPECT_EQ(Describe(Kinds(actions)), Describe(row.actions));
    const Action* n = FindAction(actions, kSendNotification);
    if (row.code >= 0) {
        ASSERT_NE(n, nullptr);
        EXPECT_EQ(n->notification.code, row.code);
        EXPECT_EQ(n->notification.subcode, row.subcode);
    }
    // Invariants: the negotiated session exists exactly from OpenConfirm on.
    const bool opened = fsm.state() == FsmState::kOpenConfirm ||
                        fsm.state() == FsmState::kEstablished;
    EXPECT_EQ(fsm.negotiated() != nullptr, opened);
}

INSTANTIATE_TEST_SUITE_P(Fsm, FsmTableTest, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                             return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------
// Scenarios.

struct Driver {
    explicit Driver(FsmConfig config = TestConfig()) : fsm(std::move(config)) {}
    std::vector<Action> operator()(const Event& e) { return fsm.Handle(e); }
    Fsm fsm;
};

TEST(FsmScenario, ActiveOpenToEstablished) {
    Driver d;
    auto a = d(Ev(K::kManualStart));
    EXPECT_EQ(Describe(Kinds(a)), Describe({kStartConnectRetryTimer, kConnect}));
    EXPECT_EQ(a[0].delay_ms, 5000u);

    a = d(Ev(K::kTcpCrAcked));
    ASSERT_EQ(d.fsm.state(), FsmState::kOpenSent);
    const Action* open = FindAction(a, kSendOpen);
    ASSERT_NE(open, nullptr);
    ASSERT_TRUE(open->open);
    EXPECT_EQ(*open->open, BuildOpen(d.fsm.config()));
    EXPECT_EQ(FindAction(a, kStartHoldTimer)->seconds, kOpenSentHoldTime);

    a = d(Event::Open(PeerOpen(90)));
    ASSERT_EQ(d.fsm.state(), FsmState::kOpenConfirm);
    EXPECT_EQ(FindAction(a, kStartKeepaliveTimer)->seconds, 30u);
    EXPECT_EQ(FindAction(a, kStartHoldTimer)->seconds, 90u);
    EXPECT_TRUE(d.fsm.decode_context().asn4);
    EXPECT_FALSE(d.fsm.decode_context().ibgp);

    a = d(Ev(K::kKeepAliveMsg));
    ASSERT_EQ(d.fsm.state(), FsmState::kEstablished);
    const Action* up = FindAction(a, kSessionEstablished);
    ASSERT_NE(up, nullptr);
    ASSERT_TRUE(up->session);
    EXPECT_EQ(up->session->peer_as, kPeerAs);
    EXPECT_EQ(up->session->peer_bgp_id, kPeerId);
    EXPECT_EQ(up->session->hold_time, 90);
    EXPECT_EQ(up->session->keepalive_time, 30);
    EXPECT_TRUE(up->session->families_missing.none());

    const FsmCounters& c = d.fsm.counters();
    EXPECT_EQ(c.transitions, 4u);  // Idle→Connect→OpenSent→OpenConfirm→Established
    EXPECT_EQ(c.established, 1u);
    EXPECT_EQ(c.flaps, 0u);
    EXPECT_EQ(c.out(MessageType::kOpen), 1u);
    EXPECT_EQ(c.out(MessageType::kKeepalive), 1u);
    EXPECT_EQ(c.in(MessageType::kOpen), 1u);
    EXPECT_EQ(c.in(MessageType::kKeepalive), 1u);
    EXPECT_FALSE(c.last_error);
}

TEST(FsmScenario, PassiveOpen) {
    FsmConfig config = TestConfig();
    config.passive = true;
    Driver d(config);
    EXPECT_TRUE(d(Ev(K::kManualStart)).empty());
    EXPECT_EQ(d.fsm.state(), FsmState::kActive);
    EXPECT_TRUE(d(Ev(K::kTcpConnectionValid)).empty());
    auto a = d(Ev(K::kTcpConnectionConfirmed));
    EXPECT_EQ(Describe(Kinds(a)), Describe({kSendOpen, kStartHoldTimer}));
    d(Event::Open(PeerOpen()));
    a = d(Ev(K::kKeepAliveMsg));
    EXPECT_EQ(d.fsm.state(), FsmState::kEstablished);
    EXPECT_NE(FindAction(a, kSessionEstablished), nullptr);

    // A drop schedules a restart with no delay (Idle would only refuse the
    // peer dialling back), which goes back to listening in Active.
    a = d(Ev(K::kTcpConnectionFails));
    ASSERT_NE(FindAction(a, kScheduleAutomaticStart), nullptr);
    EXPECT_EQ(FindAction(a, kScheduleAutomaticStart)->delay_ms, 0u);
    EXPECT_TRUE(d(Ev(K::kAutomaticStart)).empty());
    EXPECT_EQ(d.fsm.state(), FsmState::kActive);

    // A session that fails before Established backs off as usual (second
    // consecutive failure: twice the minimum, within the jitter).
    d(Ev(K::kTcpConnectionValid));
    d(Ev(K::kTcpConnectionConfirmed));
    EXPECT_EQ(d.fsm.state(), FsmState::kOpenSent);
    a = d(Ev(K::kHoldTimerExpires));  // no OPEN from the peer
    const Action* again = FindAction(a, kScheduleAutomaticStart);
    ASSERT_NE(again, nullptr);
    EXPECT_GE(again->delay_ms, 7500u);
    EXPECT_LE(again->delay_ms, 12500u);
}

TEST(FsmScenario, PassiveStartConnectsWhenTheRetryTimerExpires) {
    Driver d;
    d(Ev(K::kManualStartPassive));
    d(Ev(K::kConnectRetryTimerExpires));
    EXPECT_EQ(d.fsm.state(), FsmState::kConnect);
    // The passive mode survives a restart.
    d(Ev(K::kTcpConnectionFails));
    d(Ev(K::kAutomaticStart));
    EXPECT_EQ(d.fsm.state(), FsmState::kActive);
}

Fsm InOpenSent(FsmConfig config = TestConfig()) {
    Fsm fsm(std::move(config));
    fsm.Handle(Ev(K::kManualStart));
    fsm.Handle(Ev(K::kTcpCrAcked));
    return fsm;
}

std::optional<std::pair<int, int>> Rejection(Fsm& fsm, const OpenMessage& open) {
    auto a = fsm.Handle(Event::Open(open));
    const Action* n = FindAction(a, kSendNotification);
    if (!n) return std::nullopt;
    return std::pair<int, int>{n->notification.code, n->notification.subcode};
}

TEST(FsmOpen, WrongPeerAs) {
    Fsm fsm = InOpenSent();
    EXPECT_EQ(Rejection(fsm, PeerOpen(90, 65002)), std::make_pair(2, 2));
    EXPECT_EQ(fsm.state(), FsmState::kIdle);
    ASSERT_TRUE(fsm.counters().last_error);
    EXPECT_EQ(fsm.counters().last_error->code, 2);
    EXPECT_EQ(fsm.counters().last_error->subcode, 2);
    EXPECT_TRUE(fsm.counters().last_error->sent);
    EXPECT_NE(fsm.counters().last_error->text.find("65002"), std::string::npos);
}

TEST(FsmOpen, FourOctetPeerAs) {
    FsmConfig config = TestConfig();
    config.peer_as = 4200000001;
    // The real AS comes from the capability; My AS is AS_TRANS.
    Fsm ok = InOpenSent(config);
    OpenMessage open = PeerOpen(90, 4200000001);
    EXPECT_EQ(open.my_as, kAsTrans);
    EXPECT_EQ(Rejection(ok, open), std::nullopt);
    EXPECT_EQ(ok.state(), FsmState::kOpenConfirm);
    EXPECT_EQ(ok.negotiated()->peer_as, 4200000001u);
    // Without the capability the peer claims AS_TRANS: wrong AS.
    Fsm bad = InOpenSent(config);
    open.capabilities.pop_back();
    EXPECT_EQ(Rejection(bad, open), std::make_pair(2, 2));
    // AS 0 is never acceptable (RFC 7607), even with peer_as = 0 (any).
    config.peer_as = 0;
    Fsm zero = InOpenSent(config);
    EXPECT_EQ(Rejection(zero, PeerOpen(90, 0)), std::make_pair(2, 2));
}

TEST(FsmOpen, AnyPeerAsWhenUnconfigured) {
    FsmConfig config = TestConfig();
    config.peer_as = 0;
    Fsm fsm = InOpenSent(config);
    EXPECT_EQ(Rejection(fsm, PeerOpen(90, 64999)), std::nullopt);
    EXPECT_EQ(fsm.negotiated()->peer_as, 64999u);
}

TEST(FsmOpen, BgpIdentifier) {
    // Our own identifier on iBGP: 2/3.
    FsmConfig ibgp = TestConfig();
    ibgp.peer_as = kLocalAs;
    Fsm same = InOpenSent(ibgp);
    EXPECT_EQ(Rejection(same, PeerOpen(90, kLocalAs, kLocalId)), std::make_pair(2, 3));
    // On eBGP it is allowed (RFC 6286 §2.1).
    Fsm ebgp = InOpenSent();
    EXPECT_EQ(Rejection(ebgp, PeerOpen(90, kPeerAs, kLocalId)), std::nullopt);
    // 0.0.0.0: 2/3.
    Fsm zero = InOpenSent();
    EXPECT_EQ(Rejection(zero, PeerOpen(90, kPeerAs, 0)), std::make_pair(2, 3));
}

TEST(FsmOpen, VersionAndHoldTimeChecks) {
    Fsm v3 = InOpenSent();
    OpenMessage open = PeerOpen();
    open.version = 3;
    auto a = v3.Handle(Event::Open(open));
    const Action* n = FindAction(a, kSendNotification);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->notification.code, 2);
    EXPECT_EQ(n->notification.subcode, 1);
    EXPECT_EQ(n->notification.data, (Bytes{0, 4}));
    for (uint16_t bad : {1, 2}) {
        Fsm fsm = InOpenSent();
        EXPECT_EQ(Rejection(fsm, PeerOpen(bad)), std::make_pair(2, 6)) << bad;
    }
}

TEST(FsmOpen, NoCommonFamilyIsUnsupportedCapability) {
    Fsm fsm = InOpenSent();
    OpenMessage open = PeerOpen();
    open.capabilities = {Mp(Family::kIpv6Unicast), FourOctetAsCap{kPeerAs}};
    auto a = fsm.Handle(Event::Open(open));
    const Action* n = FindAction(a, kSendNotification);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->notification.code, 2);
    EXPECT_EQ(n->notification.subcode, 7);
    // The data lists our multiprotocol capabilities (code 1, length 4).
    ASSERT_EQ(n->notification.data.size(), 4u * 6u);
    EXPECT_EQ(n->notification.data[0], cap::kMultiprotocol);
    EXPECT_EQ(n->notification.data[1], 4);
    EXPECT_EQ(fsm.state(), FsmState::kIdle);
}

TEST(FsmOpen, SomeCommonFamilyEstablishesAndReportsTheMissing) {
    Fsm fsm = InOpenSent();
    OpenMessage open = PeerOpen();
    open.capabilities = {Mp(Family::kL2vpnEvpn), Mp(Family::kIpv6Unicast),
                         FourOctetAsCap{kPeerAs}};
    EXPECT_EQ(Rejection(fsm, open), std::nullopt);
    ASSERT_NE(fsm.negotiated(), nullptr);
    EXPECT_EQ(fsm.negotiated()->families, Families({Family::kL2vpnEvpn}));
    EXPECT_EQ(fsm.negotiated()->families_missing,
              Families({Family::kIpv4Unicast, Family::kIpv4Vpn, Family::kIpv4Rtc}));
}

struct HoldCase {
    uint16_t ours;
    uint16_t theirs;
    uint16_t keepalive_config;
    uint16_t hold;
    uint16_t keepalive;
};

TEST(FsmHoldTime, Negotiation) {
    const HoldCase cases[] = {
        {180, 0, 0, 0, 0},     {180, 3, 0, 3, 1},    {180, 90, 0, 90, 30},
        {90, 180, 0, 90, 30},  {0, 90, 0, 0, 0},     {180, 90, 10, 90, 10},
        {180, 90, 60, 90, 30},  // a configured keepalive above hold/3 is not used
        {65535, 65535, 0, 65535, 21845},
    };
    for (const HoldCase& c : cases) {
        SCOPED_TRACE(fmt::format("ours {} theirs {} keepalive {}", c.ours, c.theirs,
                                 c.keepalive_config));
        FsmConfig config = TestConfig();
        config.hold_time = c.ours;
        config.keepalive_time = c.keepalive_config;
        Fsm fsm = InOpenSent(config);
        auto a = fsm.Handle(Event::Open(PeerOpen(c.theirs)));
        ASSERT_EQ(fsm.state(), FsmState::kOpenConfirm);
        EXPECT_EQ(fsm.negotiated()->hold_time, c.hold);
        EXPECT_EQ(fsm.negotiated()->keepalive_time, c.keepalive);
        if (c.hold == 0) {
            // No timers: the OpenSent hold timer is stopped, nothing restarted.
            EXPECT_EQ(Describe(Kinds(a)), Describe({kSendKeepalive, kStopHoldTimer}));
            a = fsm.Handle(Ev(K::kKeepAliveMsg));
            EXPECT_EQ(Describe(Kinds(a)), Describe({kSessionEstablished}));
            EXPECT_TRUE(fsm.Handle(Ev(K::kKeepAliveMsg)).empty());
            EXPECT_EQ(Describe(Kinds(fsm.Handle(Ev(K::kUpdateMsg)))),
                      Describe({kDeliverUpdate}));
            // A stale keepalive timer does nothing.
            EXPECT_TRUE(fsm.Handle(Ev(K::kKeepaliveTimerExpires)).empty());
        } else {
            EXPECT_EQ(FindAction(a, kStartHoldTimer)->seconds, c.hold);
            EXPECT_EQ(FindAction(a, kStartKeepaliveTimer)->seconds, c.keepalive);
            a = fsm.Handle(Ev(K::kKeepAliveMsg));
            EXPECT_EQ(FindAction(a, kStartHoldTimer)->seconds, c.hold);
        }
    }
}

Fsm Established(FsmConfig config = TestConfig()) {
    Fsm fsm = InOpenSent(std::move(config));
    fsm.Handle(Event::Open(PeerOpen()));
    fsm.Handle(Ev(K::kKeepAliveMsg));
    return fsm;
}

TEST(FsmScenario, HoldTimerExpiresInEstablished) {
    Fsm fsm = Established();
    auto a = fsm.Handle(Ev(K::kHoldTimerExpires));
    EXPECT_EQ(fsm.state(), FsmState::kIdle);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a[0].kind, kSendNotification);
    EXPECT_EQ(a[0].notification.code, notif::kHoldTimerExpired);
    EXPECT_EQ(a[0].notification.subcode, 0);
    const Action* down = FindAction(a, kSessionDown);
    ASSERT_NE(down, nullptr);
    EXPECT_TRUE(down->was_established);
    EXPECT_NE(down->reason.find("hold timer"), std::string::npos);
    // First failure after a success: the minimum back-off.
    EXPECT_EQ(FindAction(a, kScheduleAutomaticStart)->delay_ms, 5000u);
    EXPECT_EQ(fsm.counters().flaps, 1u);
    EXPECT_EQ(fsm.counters().out(MessageType::kNotification), 1u);
    EXPECT_EQ(fsm.negotiated(), nullptr);
    // And it comes back.
    fsm.Handle(Ev(K::kAutomaticStart));
    EXPECT_EQ(fsm.state(), FsmState::kConnect);
}

TEST(FsmScenario, NotificationReceivedInEstablished) {
    Fsm fsm = Established();
    NotificationMessage m = Cease(notif::kAdministrativeShutdown);
    m.shutdown_communication = "upgrade in progress";
    auto a = fsm.Handle(Event::NotificationReceived(m));
    EXPECT_EQ(fsm.state(), FsmState::kIdle);
    EXPECT_EQ(FindAction(a, kSendNotification), nullptr);  // never answer a NOTIFICATION
    const Action* down = FindAction(a, kSessionDown);
    ASSERT_NE(down, nullptr);
    EXPECT_TRUE(down->was_established);
    EXPECT_NE(down->reason.find("upgrade in progress"), std::string::npos);
    ASSERT_TRUE(fsm.counters().last_error);
    EXPECT_EQ(fsm.counters().last_error->code, 6);
    EXPECT_EQ(fsm.counters().last_error->subcode, 2);
    EXPECT_FALSE(fsm.counters().last_error->sent);
    EXPECT_EQ(fsm.counters().in(MessageType::kNotification), 1u);
    EXPECT_NE(FindAction(a, kScheduleAutomaticStart), nullptr);
}

TEST(FsmScenario, ManualStopInEstablishedSendsShutdownCommunication) {
    Fsm fsm = Established();
    auto a = fsm.Handle(Event::ManualStop("maintenance window 42"));
    const Action* n = FindAction(a, kSendNotification);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->notification.code, notif::kCease);
    EXPECT_EQ(n->notification.subcode, notif::kAdministrativeShutdown);
    EXPECT_EQ(n->notification.shutdown_communication, "maintenance window 42");
    EXPECT_EQ(FindAction(a, kScheduleAutomaticStart), nullptr);
    EXPECT_FALSE(fsm.enabled());
    // A reconnect scheduled earlier is dropped.
    EXPECT_TRUE(fsm.Handle(Ev(K::kAutomaticStart)).empty());
    EXPECT_EQ(fsm.state(), FsmState::kIdle);
    // Administrative reset is the caller's choice of subcode.
    Fsm other = Established();
    a = other.Handle(Event::ManualStop(std::nullopt, notif::kAdministrativeReset));
    EXPECT_EQ(FindAction(a, kSendNotification)->notification.subcode, 4);
}

TEST(FsmScenario, EstablishedTrafficAndCounters) {
    Fsm fsm = Established();
    for (int i = 0; i < 3; ++i) fsm.Handle(Ev(K::kUpdateMsg));
    fsm.Handle(Ev(K::kKeepAliveMsg));
    fsm.Handle(Ev(K::kKeepaliveTimerExpires));
    // Sending an UPDATE restarts the keepalive timer (§8.2.2 Established).
    auto a = fsm.Handle(Event::Sent(MessageType::kUpdate));
    EXPECT_EQ(Describe(Kinds(a)), Describe({kStartKeepaliveTimer}));
    EXPECT_EQ(a[0].seconds, 30u);
    const FsmCounters& c = fsm.counters();
    EXPECT_EQ(c.in(MessageType::kUpdate), 3u);
    EXPECT_EQ(c.in(MessageType::kKeepalive), 2u);
    EXPECT_EQ(c.out(MessageType::kUpdate), 1u);
    EXPECT_EQ(c.out(MessageType::kKeepalive), 2u);
    EXPECT_EQ(fsm.state(), FsmState::kEstablished);
}

TEST(FsmScenario, RouteRefreshOnlyForNegotiatedFamilies) {
    Fsm fsm = Established();
    RouteRefreshMessage v6;
    v6.afi = kAfiIpv6;
    v6.safi = kSafiUnicast;
    EXPECT_EQ(Describe(Kinds(fsm.Handle(Event::RouteRefresh(v6)))),
              Describe({kStartHoldTimer}));
    // BoRR without enhanced route refresh: ignored too.
    RouteRefreshMessage borr = Ipv4UnicastRefresh();
    borr.subtype = RouteRefreshMessage::kBeginOfRib;
    EXPECT_EQ(Describe(Kinds(fsm.Handle(Event::RouteRefresh(borr)))),
              Describe({kStartHoldTimer}));
    // Without the route refresh capability at all: ignored.
    FsmConfig no_rr = TestConfig();
    no_rr.route_refresh = false;
    Fsm other = Established(no_rr);
    EXPECT_EQ(Describe(Kinds(other.Handle(Event::RouteRefresh(Ipv4UnicastRefresh())))),
              Describe({kStartHoldTimer}));
}

// ---------------------------------------------------------------------------
// Reconnect back-off.

std::vector<uint32_t> ScheduledDelays(Fsm& fsm, int failures) {
    std::vector<uint32_t> out;
    fsm.Handle(Ev(K::kManualStart));
    for (int i = 0; i < failures; ++i) {
        auto a = fsm.Handle(Ev(K::kTcpConnectionFails));
        const Action* s = FindAction(a, kScheduleAutomaticStart);
        if (s == nullptr) break;
        out.push_back(s->delay_ms);
        fsm.Handle(Ev(K::kAutomaticStart));
    }
    return out;
}

TEST(FsmBackoff, GrowsAndCapsWithoutJitter) {
    Fsm fsm{TestConfig()};  // RNG at the midpoint: factor 1
    EXPECT_EQ(ScheduledDelays(fsm, 8),
              (std::vector<uint32_t>{5000, 10000, 20000, 40000, 80000, 120000, 120000, 120000}));
    EXPECT_EQ(fsm.connect_retry_counter(), 8u);
}

TEST(FsmBackoff, JitterBounds) {
    FsmConfig low = TestConfig();
    low.random = [] { return 0.0; };
    Fsm l(low);
    EXPECT_EQ(ScheduledDelays(l, 3), (std::vector<uint32_t>{3750, 7500, 15000}));
    FsmConfig high = TestConfig();
    high.random = [] { return 0.9999; };
    Fsm h(high);
    auto d = ScheduledDelays(h, 7);
    ASSERT_EQ(d.size(), 7u);
    EXPECT_EQ(d[0], 6250u);    // 5000 * 1.24995
    EXPECT_EQ(d[6], 149994u);  // the cap is applied before the jitter
}

TEST(FsmBackoff, ConnectRetryTimerFollowsTheBackoff) {
    Fsm fsm{TestConfig()};
    auto a = fsm.Handle(Ev(K::kManualStart));
    EXPECT_EQ(FindAction(a, kStartConnectRetryTimer)->delay_ms, 5000u);
    std::vector<uint32_t> timers;
    for (int i = 0; i < 4; ++i) {
        a = fsm.Handle(Ev(K::kConnectRetryTimerExpires));
        timers.push_back(FindAction(a, kStartConnectRetryTimer)->delay_ms);
    }
    EXPECT_EQ(timers, (std::vector<uint32_t>{5000, 10000, 20000, 40000}));
    EXPECT_EQ(fsm.state(), FsmState::kConnect);
}

TEST(FsmBackoff, EstablishedResetsAndManualStartResets) {
    Fsm fsm{TestConfig()};
    ScheduledDelays(fsm, 3);
    EXPECT_EQ(fsm.connect_retry_counter(), 3u);
    fsm.Handle(Ev(K::kTcpCrAcked));
    fsm.Handle(Event::Open(PeerOpen()));
    fsm.Handle(Ev(K::kKeepAliveMsg));
    EXPECT_EQ(fsm.connect_retry_counter(), 0u);
    fsm.Handle(Event::ManualStop());
    EXPECT_EQ(fsm.connect_retry_counter(), 0u);
}

TEST(FsmBackoff, SeededRngIsDeterministicAndWithinBounds) {
    FsmConfig config = TestConfig();
    config.random = nullptr;
    config.random_seed = 42;
    Fsm a(config), b(config);
    for (uint32_t n = 1; n <= 10; ++n) {
        uint32_t da = a.BackoffMs(n);
        EXPECT_EQ(da, b.BackoffMs(n));
        uint64_t base = std::min<uint64_t>(120000, 5000ull << (n - 1));
        EXPECT_GE(da, base * 3 / 4) << n;
        EXPECT_LE(da, base * 5 / 4) << n;
    }
}

// ---------------------------------------------------------------------------
// Collisions (§6.8).

TEST(FsmCollision, HigherIdKeepsItsOwnConnection) {
    EXPECT_EQ(ResolveCollision(0x0a000002, 0x0a000001), KeepConnection::kLocallyInitiated);
    EXPECT_EQ(ResolveCollision(0x0a000001, 0x0a000002), KeepConnection::kRemotelyInitiated);
    // Compared as unsigned host-order integers.
    EXPECT_EQ(ResolveCollision(0xc0000001, 0x0a000001), KeepConnection::kLocallyInitiated);
    // Equal identifiers (eBGP, RFC 6286 §2.3): the larger AS keeps its own.
    EXPECT_EQ(ResolveCollision(1, 1, 65002, 65001), KeepConnection::kLocallyInitiated);
    EXPECT_EQ(ResolveCollision(1, 1, 65001, 65002), KeepConnection::kRemotelyInitiated);
}

TEST(FsmCollision, DetectAgainstTheExistingConnection) {
    const uint32_t hi = 0x0a000009, lo = 0x0a000001;
    // Existing outgoing connection in OpenConfirm, OPEN arrives on an incoming one.
    EXPECT_EQ(DetectCollision(FsmState::kOpenConfirm, true, hi, lo), CollisionOutcome::kDumpNew);
    EXPECT_EQ(DetectCollision(FsmState::kOpenConfirm, true, lo, hi),
              CollisionOutcome::kDumpExisting);
    // Existing incoming connection, OPEN arrives on our outgoing one.
    EXPECT_EQ(DetectCollision(FsmState::kOpenConfirm, false, hi, lo),
              CollisionOutcome::kDumpExisting);
    EXPECT_EQ(DetectCollision(FsmState::kOpenConfirm, false, lo, hi),
              CollisionOutcome::kDumpNew);
    // Established wins unless collision detection in Established is on.
    EXPECT_EQ(DetectCollision(FsmState::kEstablished, true, lo, hi), CollisionOutcome::kDumpNew);
    EXPECT_EQ(DetectCollision(FsmState::kEstablished, true, lo, hi, 0, 0, true),
              CollisionOutcome::kDumpExisting);
    // Earlier states do not collide.
    for (FsmState s : {FsmState::kIdle, FsmState::kConnect, FsmState::kActive,
                       FsmState::kOpenSent})
        EXPECT_EQ(DetectCollision(s, true, lo, hi), CollisionOutcome::kNoCollision);
}

TEST(FsmCollision, LoserSendsCeaseSevenAndDoesNotRestart) {
    // Two connections to the same peer; we (10.0.0.1) have the lower id, so the
    // peer's connection survives and ours is dumped.
    Fsm outgoing = InOpenSent();
    outgoing.Handle(Event::Open(PeerOpen()));
    ASSERT_EQ(outgoing.state(), FsmState::kOpenConfirm);
    Fsm incoming{TestConfig()};
    incoming.Handle(Ev(K::kManualStartPassive));
    incoming.Handle(Ev(K::kTcpConnectionConfirmed));
    ASSERT_EQ(incoming.state(), FsmState::kOpenSent);

    const auto outcome = DetectCollision(outgoing.state(), true, kLocalId, kPeerId);
    ASSERT_EQ(outcome, CollisionOutcome::kDumpExisting);
    auto a = outgoing.Handle(Ev(K::kOpenCollisionDump));
    const Action* n = FindAction(a, kSendNotification);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->notification.code, notif::kCease);
    EXPECT_EQ(n->notification.subcode, notif::kConnectionCollision);
    EXPECT_EQ(FindAction(a, kScheduleAutomaticStart), nullptr);
    EXPECT_EQ(outgoing.state(), FsmState::kIdle);

    incoming.Handle(Event::Open(PeerOpen()));
    incoming.Handle(Ev(K::kKeepAliveMsg));
    EXPECT_EQ(incoming.state(), FsmState::kEstablished);
}

// ---------------------------------------------------------------------------
// Configuration and the OPEN it produces.

TEST(FsmConfigTest, Validate) {
    EXPECT_EQ(TestConfig().Validate(), std::nullopt);
    auto broken = [](auto mutate) {
        FsmConfig c = TestConfig();
        mutate(c);
        return c.Validate().has_value();
    };
    EXPECT_TRUE(broken([](FsmConfig& c) { c.local_as = 0; }));
    EXPECT_TRUE(broken([](FsmConfig& c) { c.local_bgp_id = 0; }));
    EXPECT_TRUE(broken([](FsmConfig& c) { c.hold_time = 2; }));
    EXPECT_FALSE(broken([](FsmConfig& c) { c.hold_time = 0; }));
    EXPECT_FALSE(broken([](FsmConfig& c) { c.hold_time = 3; }));
    EXPECT_TRUE(broken([](FsmConfig& c) {
        c.local_as = 4200000000;
        c.four_octet_as = false;
    }));
    EXPECT_TRUE(broken([](FsmConfig& c) { c.families.reset(); }));
    EXPECT_TRUE(broken([](FsmConfig& c) { c.add_path_receive.set(FamilyIndex(Family::kIpv6Vpn)); }));
    EXPECT_TRUE(broken([](FsmConfig& c) { c.retry_min_ms = 200'000; }));
    EXPECT_TRUE(broken([](FsmConfig& c) { c.retry_jitter = 1.0; }));
    EXPECT_TRUE(broken([](FsmConfig& c) { c.graceful_restart_time = 4096; }));
}

TEST(FsmConfigTest, BuildOpen) {
    FsmConfig c = TestConfig();
    c.local_as = 4200000000;
    c.hold_time = 90;
    c.extended_message = true;
    c.enhanced_route_refresh = true;
    c.graceful_restart = true;
    c.graceful_restart_time = 120;
    c.add_path_receive = Families({Family::kIpv4Vpn, Family::kL2vpnEvpn});
    c.add_path_send = Families({Family::kIpv4Vpn});
    OpenMessage o = BuildOpen(c);
    EXPECT_EQ(o.my_as, kAsTrans);
    EXPECT_EQ(o.AsNumber(), 4200000000u);
    EXPECT_EQ(o.hold_time, 90);
    EXPECT_EQ(o.bgp_id, kLocalId);
    std::vector<uint8_t> codes;
    for (const auto& cap : o.capabilities) codes.push_back(CapabilityCode(cap));
    EXPECT_EQ(codes, (std::vector<uint8_t>{1, 1, 1, 1, 2, 6, 64, 65, 69, 70}));
    const auto& gr = std::get<GracefulRestartCap>(*o.Find(cap::kGracefulRestart));
    EXPECT_EQ(gr.restart_time, 120);
    EXPECT_EQ(gr.flags, 0);
    EXPECT_TRUE(gr.entries.empty());  // helper mode: no forwarding state preserved
    const auto& ap = std::get<AddPathCap>(*o.Find(cap::kAddPath));
    ASSERT_EQ(ap.entries.size(), 2u);
    EXPECT_EQ(ap.entries[0], (AddPathCap::Entry{kAfiIpv4, kSafiVpn, 3}));
    EXPECT_EQ(ap.entries[1], (AddPathCap::Entry{kAfiL2vpn, kSafiEvpn, 1}));
    // Round trip through the codec.
    DecodeResult r = DecodeMessage(EncodeOpen(o), SessionContext{});
    ASSERT_FALSE(r.error) << r.error->reason;
    EXPECT_EQ(std::get<OpenMessage>(*r.message), o);
}

TEST(FsmNames, AllNamed) {
    EXPECT_EQ(FsmStateName(FsmState::kOpenConfirm), "OpenConfirm");
    EXPECT_EQ(EventKindName(EventKind::kTcpCrAcked), "Tcp_CR_Acked");
    EXPECT_EQ(ActionKindName(kScheduleAutomaticStart), "ScheduleAutomaticStart");
    for (int k = 0; k <= static_cast<int>(EventKind::kMessageSent); ++k)
        EXPECT_NE(EventKindName(static_cast<EventKind>(k)), "?") << k;
    for (int k = 0; k <= static_cast<int>(kScheduleAutomaticStart); ++k)
        EXPECT_NE(ActionKindName(static_cast<ActionKind>(k)), "?") << k;
}

}  // namespace
}  // namespace bagpipe::bgp
