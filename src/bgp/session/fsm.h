// The BGP finite state machine (RFC 4271 §8) as a pure state machine: events
// in, actions out. No sockets, no timers, no clock, no logging.
//
// Purpose. One Fsm models one BGP connection to one configured peer: the
// session layer (Boost.Asio, written separately) turns socket and timer
// completions into Events, calls Fsm::Handle, and carries out the returned
// Actions in order (connect, send, start or stop a timer, tell the RIB the
// session is up or down, schedule a reconnect). Because nothing here touches
// the outside world, every transition is unit-tested as a table.
//
// Executor. None of its own: Handle runs on the caller's thread and must not
// be called concurrently. In bagpipe-bgp that is the process's single event
// loop, like the rest of the session layer.
//
// Invariants.
//  * state() changes only inside Handle. Every transition to Idle from another
//    state emits, in this order: SendNotification (when the RFC asks for one),
//    Stop*Timer for each timer that is running, Disconnect (when a transport
//    exists or is being set up), SessionDown, then ScheduleAutomaticStart when
//    the session is still administratively enabled (not after ManualStop, nor
//    after a connection-collision dump, where the other connection carries on).
//  * Stop*Timer is emitted only for a timer the Fsm started and has not
//    stopped, so the executor never sees a stop for an idle timer; a
//    Start*Timer for a running timer means restart.
//  * negotiated() is set from the peer's valid OPEN (OpenSent → OpenConfirm, or
//    Connect/Active with DelayOpen) and cleared on the return to Idle.
//  * Timer events are assumed current: the executor drops completions of
//    timers it has since stopped or restarted (Asio's operation_aborted).
//
// Scope. The Fsm owns one transport at a time. Connection collisions (§6.8)
// are resolved outside it: the executor runs one Fsm per TCP connection while
// two exist, asks DetectCollision when an OPEN arrives, and feeds the losing
// Fsm OpenCollisionDump instead of BGPOpen. In Connect, TcpConnectionConfirmed
// means the executor adopted the peer's connection and abandoned its own
// attempt. UPDATE contents never pass through the Fsm: the executor keeps the
// decoded message, feeds UpdateMsg (or UpdateMsgErr for an RFC 7606
// session-reset) and hands the UPDATE to the RIB when the Fsm answers
// DeliverUpdate. Lesser RFC 7606 outcomes (treat-as-withdraw,
// attribute-discard, afi-safi-disable) are UpdateMsg.
//
// Deviations from RFC 4271 §8.2.2, all deliberate:
//  * A received NOTIFICATION is never answered with one (the RFC lists event 25
//    among OpenSent's "other events", which would send an FSM error).
//  * BGPHeaderErr sends the header error's NOTIFICATION in every state with an
//    OPEN sent, including Established (the RFC's "other events" would send an
//    FSM error there).
//  * OpenConfirm and Established answer a BGPOpen on their own connection with
//    an FSM error (RFC 6608 subcodes 2 and 3); collisions come as
//    OpenCollisionDump.
//  * The ConnectRetryCounter also counts ConnectRetryTimer expiries in
//    Connect, and is reset when the session reaches Established, because it
//    drives the reconnect back-off (see FsmConfig::retry_min_ms).
//  * With FsmConfig::passive the Fsm never initiates a connection: Active
//    starts no ConnectRetryTimer and waits for the peer indefinitely, and
//    when an Established session goes down it schedules its AutomaticStart
//    with no delay (Idle would only refuse the peer dialling back); sessions
//    that fail before Established still back off.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/session/negotiation.h"
#include "bgp/wire/error.h"
#include "bgp/wire/family.h"
#include "bgp/wire/message.h"

namespace bagpipe::bgp {

enum class FsmState : uint8_t {
    kIdle,
    kConnect,
    kActive,
    kOpenSent,
    kOpenConfirm,
    kEstablished,
};
std::string_view FsmStateName(FsmState s);  // "Idle", "Connect", ...

// RFC 4271 §8.1 events (their numbers in the comments), plus kMessageSent.
enum class EventKind : uint8_t {
    kManualStart,                // 1
    kManualStop,                 // 2: payload: optional Cease subcode and RFC 9003 text
    kAutomaticStart,             // 3: the back-off delay after ScheduleAutomaticStart elapsed
    kManualStartPassive,         // 4: ManualStart_with_PassiveTcpEstablishment
    kAutomaticStop,              // 8: payload: Cease subcode (e.g. 1, maximum prefixes)
    kConnectRetryTimerExpires,   // 9
    kHoldTimerExpires,           // 10
    kKeepaliveTimerExpires,      // 11
    kDelayOpenTimerExpires,      // 12
    kTcpConnectionValid,         // 14: an incoming connection was accepted for this peer
    kTcpCrAcked,                 // 16: our outgoing connection is up
    kTcpConnectionConfirmed,     // 17: the peer's incoming connection is up
    kTcpConnectionFails,         // 18
    kBgpOpen,                    // 19/20: payload: the decoded OPEN
    kBgpHeaderErr,               // 21: payload: the NOTIFICATION to send
    kBgpOpenMsgErr,              // 22: payload: the NOTIFICATION to send
    kOpenCollisionDump,          // 23
    kNotifMsgVerErr,             // 24: payload: the NOTIFICATION received
    kNotifMsg,                   // 25: payload: the NOTIFICATION received
    kKeepAliveMsg,               // 26
    kUpdateMsg,                  // 27
    kUpdateMsgErr,               // 28: payload: the NOTIFICATION to send
    kRouteRefreshMsg,            // RFC 2918/7313: payload: the message
    kMessageSent,                // the executor sent an UPDATE or ROUTE-REFRESH
};
std::string_view EventKindName(EventKind k);

struct Event {
    EventKind kind = EventKind::kManualStart;
    // kBgpOpen.
    OpenMessage open;
    // kBgpHeaderErr, kBgpOpenMsgErr, kUpdateMsgErr: the NOTIFICATION to send.
    // kNotifMsg, kNotifMsgVerErr: the NOTIFICATION received.
    // kManualStop, kAutomaticStop: the Cease to send (code 6; subcode and the
    // RFC 9003 shutdown communication, if any).
    NotificationMessage notification;
    // Error events: the decoder's explanation, for the last-error counter.
    std::string reason;
    // kRouteRefreshMsg.
    RouteRefreshMessage route_refresh;
    // kMessageSent.
    MessageType sent_type = MessageType::kUpdate;

    static Event Of(EventKind kind) {
        Event e;
        e.kind = kind;
        return e;
    }
    // Administrative shutdown (Cease 6/2) by default; 6/3 (peer de-configured)
    // or 6/4 (administrative reset) as the caller chooses.
    static Event ManualStop(std::optional<std::string> shutdown_communication = std::nullopt,
                            uint8_t cease_subcode = notif::kAdministrativeShutdown);
    static Event AutomaticStop(uint8_t cease_subcode, std::string reason = {});
    static Event Open(OpenMessage open);
    // From the decoder's DecodeError (its notification must be set).
    static Event HeaderError(const DecodeError& e);
    static Event OpenError(const DecodeError& e);
    static Event UpdateError(const DecodeError& e);
    // A received NOTIFICATION: kNotifMsgVerErr for 2/1 (unsupported version),
    // else kNotifMsg.
    static Event NotificationReceived(NotificationMessage m);
    static Event RouteRefresh(RouteRefreshMessage m);
    static Event Sent(MessageType type);
};

enum class ActionKind : uint8_t {
    kConnect,                  // initiate the outgoing TCP connection
    kDisconnect,               // close the transport (or abandon the connect attempt)
    kSendOpen,                 // payload: open
    kSendKeepalive,
    kSendNotification,         // payload: notification
    kStartConnectRetryTimer,   // payload: delay_ms (restart when running)
    kStopConnectRetryTimer,
    kStartHoldTimer,           // payload: seconds (restart; comes with every message in
                               // Established, so a deadline update is the cheap way)
    kStopHoldTimer,
    kStartKeepaliveTimer,      // payload: seconds (restart when running)
    kStopKeepaliveTimer,
    kStartDelayOpenTimer,      // payload: seconds
    kStopDelayOpenTimer,
    kSessionEstablished,       // payload: session
    kSessionDown,              // payload: reason, was_established (RIB withdraws the peer's routes)
    kDeliverUpdate,            // hand the UPDATE just received to the RIB
    kDeliverRouteRefresh,      // re-advertise the family of the ROUTE-REFRESH just received
    kScheduleAutomaticStart,   // payload: delay_ms; then feed kAutomaticStart
};
std::string_view ActionKindName(ActionKind k);

struct Action {
    ActionKind kind = ActionKind::kConnect;
    uint32_t seconds = 0;   // kStartHoldTimer, kStartKeepaliveTimer, kStartDelayOpenTimer
    uint32_t delay_ms = 0;  // kStartConnectRetryTimer, kScheduleAutomaticStart
    NotificationMessage notification;                   // kSendNotification
    std::shared_ptr<const OpenMessage> open;            // kSendOpen
    std::shared_ptr<const NegotiatedSession> session;   // kSessionEstablished
    std::string reason;                                 // kSessionDown
    bool was_established = false;                       // kSessionDown
};

struct FsmConfig {
    uint32_t local_as = 0;   // 4-octet
    uint32_t peer_as = 0;    // 4-octet; 0 accepts any (tests, dynamic peers)
    uint32_t local_bgp_id = 0;  // host order

    uint16_t hold_time = 180;     // 0 or 3..65535 seconds
    uint16_t keepalive_time = 0;  // 0: negotiated hold time / 3; else at most that
    uint16_t delay_open_time = 0;  // seconds; 0: DelayOpen off (RFC 4271 §8.1.1)
    bool passive = false;          // never initiate the TCP connection
    // RFC 4271 SendNOTIFICATIONwithoutOPEN: answer errors in Connect/Active.
    bool send_notification_without_open = false;

    // Reconnect back-off. The n-th consecutive failed attempt waits
    // min(retry_max_ms, retry_min_ms * 2^(n-1)) scaled by a factor drawn
    // uniformly from [1 - retry_jitter, 1 + retry_jitter); the same delay
    // arms the ConnectRetryTimer. Success (Established) resets n.
    uint32_t retry_min_ms = 5'000;
    uint32_t retry_max_ms = 120'000;
    double retry_jitter = 0.25;
    // Uniform [0, 1) source for the jitter. Empty: a std::mt19937 seeded with
    // random_seed (so a given seed replays the same delays).
    std::function<double()> random;
    uint64_t random_seed = 0;

    // Capabilities offered in our OPEN.
    FamilySet families = FamilySet().set(FamilyIndex(Family::kIpv4Unicast));
    FamilySet add_path_receive;  // subset of families
    FamilySet add_path_send;     // subset of families
    bool route_refresh = true;
    bool enhanced_route_refresh = false;
    bool extended_message = false;
    bool four_octet_as = true;
    // RFC 4724 helper (receiving speaker) mode: the capability with our
    // restart time and no <AFI, SAFI>, i.e. we preserve no forwarding state.
    bool graceful_restart = false;
    uint16_t graceful_restart_time = 120;  // seconds, 12 bits
    // Families listed in our capability with the F bit: for a speaker that
    // preserves forwarding across its restarts (tests, and the bench tool
    // simulating such a peer); bagpipe-bgp itself lists none.
    FamilySet graceful_restart_families;

    // The first problem found, or nullopt when the configuration is usable.
    std::optional<std::string> Validate() const;
};

// The OPEN a configuration sends (capabilities in ascending code order).
OpenMessage BuildOpen(const FsmConfig& config);

// Per-session counters for the looking glass; no timestamps (the executor
// adds those).
struct FsmCounters {
    // Indexed by MessageType value (1 OPEN .. 5 ROUTE-REFRESH); 0 counts
    // messages whose type is unknown (header errors).
    std::array<uint64_t, 6> messages_in{};
    std::array<uint64_t, 6> messages_out{};
    uint64_t transitions = 0;
    uint64_t established = 0;  // times the session reached Established
    uint64_t flaps = 0;        // times it left Established
    struct LastError {
        std::string text;
        uint8_t code = 0;  // the NOTIFICATION sent or received; 0 when none
        uint8_t subcode = 0;
        bool sent = false;  // true: we sent it; false: the peer did (or no NOTIFICATION)
    };
    std::optional<LastError> last_error;

    uint64_t in(MessageType t) const { return messages_in[static_cast<size_t>(t)]; }
    uint64_t out(MessageType t) const { return messages_out[static_cast<size_t>(t)]; }
};

class Fsm {
public:
    // The configuration must pass Validate().
    explicit Fsm(FsmConfig config);

    std::vector<Action> Handle(const Event& event);

    FsmState state() const { return state_; }
    const FsmConfig& config() const { return config_; }
    const FsmCounters& counters() const { return counters_; }
    const OpenMessage& local_open() const { return *local_open_; }
    // The negotiated session after a valid OPEN; null before and in Idle.
    const NegotiatedSession* negotiated() const { return negotiated_.get(); }
    // The context to decode the peer's messages with: the negotiated one, or
    // the defaults until the OPEN is accepted.
    SessionContext decode_context() const;
    uint32_t connect_retry_counter() const { return connect_retry_counter_; }
    // Whether ManualStart was given and no ManualStop since.
    bool enabled() const { return enabled_; }

    // The back-off delay for the n-th consecutive failure (n >= 1; 0 counts
    // as 1), drawing one jitter sample.
    uint32_t BackoffMs(uint32_t n);

private:
    enum class Transport : uint8_t { kNone, kConnecting, kUp };
    enum class Restart : uint8_t { kNo, kYes };

    void HandleIdle(const Event& e, std::vector<Action>& out);
    void HandleConnectOrActive(const Event& e, std::vector<Action>& out);
    void HandleOpenSent(const Event& e, std::vector<Action>& out);
    void HandleOpenConfirm(const Event& e, std::vector<Action>& out);
    void HandleEstablished(const Event& e, std::vector<Action>& out);
    // Events handled alike in OpenSent, OpenConfirm and Established.
    void HandleOpenedCommon(const Event& e, std::vector<Action>& out);

    // Idle → Connect (active) or Active (passive start or passive config).
    void Start(std::vector<Action>& out);
    // Connect/Active with the transport up and DelayOpen off, or DelayOpen
    // expired: send OPEN, arm the large hold timer, → OpenSent.
    void SendOpenAndWait(std::vector<Action>& out);
    // Validates the peer's OPEN and negotiates. On success sets negotiated_
    // and returns nullopt; else the NOTIFICATION to send.
    std::optional<NotificationMessage> AcceptOpen(const OpenMessage& open, std::string& why);
    // Sends KEEPALIVE, arms the negotiated timers, → OpenConfirm.
    void ConfirmOpen(std::vector<Action>& out);
    // NOTIFICATION 5/x (RFC 6608 subcode by state), then Idle.
    void FsmError(const Event& e, std::vector<Action>& out);
    // The common way back to Idle (see the class comment for the order).
    void GoIdle(std::optional<NotificationMessage> send, std::string reason, Restart restart,
                std::vector<Action>& out);
    void ToState(FsmState s);

    void Emit(std::vector<Action>& out, ActionKind kind);
    void StartConnectRetryTimer(std::vector<Action>& out);
    void StartHoldTimer(uint32_t seconds, std::vector<Action>& out);
    void StartKeepaliveTimer(std::vector<Action>& out);
    void StopTimer(ActionKind stop, bool& running, std::vector<Action>& out);
    void SendNotification(NotificationMessage m, std::vector<Action>& out);
    void SendKeepalive(std::vector<Action>& out);
    void RecordError(std::string text, uint8_t code, uint8_t subcode, bool sent);
    void CountIn(const Event& e);
    double Random();

    FsmConfig config_;
    std::shared_ptr<const OpenMessage> local_open_;
    std::mt19937 rng_;

    FsmState state_ = FsmState::kIdle;
    bool enabled_ = false;
    bool passive_start_ = false;  // started with ManualStartPassive
    Transport transport_ = Transport::kNone;
    bool connect_retry_running_ = false;
    bool hold_running_ = false;
    bool keepalive_running_ = false;
    bool delay_open_running_ = false;
    uint32_t connect_retry_counter_ = 0;
    std::shared_ptr<const NegotiatedSession> negotiated_;
    FsmCounters counters_;
};

// The hold timer value while waiting for the peer's OPEN (RFC 4271 §8.2.2:
// "a large value", 4 minutes suggested).
inline constexpr uint16_t kOpenSentHoldTime = 240;

// Connection collision resolution (RFC 4271 §6.8, RFC 6286 §2.3): which of two
// connections with the same peer survives. The side with the higher BGP
// identifier keeps the connection it initiated; with equal identifiers (only
// legal on eBGP) the side with the larger AS number does.
enum class KeepConnection : uint8_t {
    kLocallyInitiated,   // the connection we opened to the peer
    kRemotelyInitiated,  // the connection the peer opened to us
};
KeepConnection ResolveCollision(uint32_t local_bgp_id, uint32_t remote_bgp_id,
                                uint32_t local_as = 0, uint32_t remote_as = 0);

// What to do when an OPEN from remote_bgp_id arrives on a new connection while
// another connection with the same peer is in existing_state. §6.8: only an
// existing connection in OpenConfirm (or Established, when
// collision_detect_established) collides; one in Established otherwise always
// wins; earlier states do not collide (the peer's id is not known yet).
enum class CollisionOutcome : uint8_t {
    kNoCollision,   // feed the OPEN to the new connection's Fsm as usual
    kDumpNew,       // feed OpenCollisionDump to the new connection's Fsm
    kDumpExisting,  // feed OpenCollisionDump to the existing one, BGPOpen to the new one
};
CollisionOutcome DetectCollision(FsmState existing_state, bool existing_is_outgoing,
                                 uint32_t local_bgp_id, uint32_t remote_bgp_id,
                                 uint32_t local_as = 0, uint32_t remote_as = 0,
                                 bool collision_detect_established = false);

}  // namespace bagpipe::bgp
