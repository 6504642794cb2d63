// One configured BGP peer on Boost.Asio: the executor of the pure Fsm.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio.hpp>

#include "bgp/session/fsm.h"
#include "bgp/session/negotiation.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/error.h"
#include "bgp/wire/message.h"

namespace bagpipe::bgp {

class PeerSession;

// What a PeerSession tells the RIB. Every call is made on the session's
// executor, from inside the session; a callback may call the session back
// (SendUpdates, Stop, ...) — such calls are queued and take effect once the
// current event is fully handled — but must not destroy it.
class SessionListener {
public:
    virtual ~SessionListener() = default;
    // The session reached Established; SendUpdates is accepted from now on.
    virtual void OnEstablished(PeerSession& session, const NegotiatedSession& negotiated) = 0;
    // The session (or an attempt to set it up) went back to Idle. With
    // was_established the peer's routes must be withdrawn. Failed attempts that
    // another connection of the same peer carries on (collisions) are not
    // reported.
    virtual void OnDown(PeerSession& session, std::string_view reason, bool was_established) = 0;
    // An UPDATE received in Established, with the decoder's non-fatal error
    // (treat-as-withdraw, attribute-discard, afi-safi-disable) if any: the
    // listener carries that action out.
    virtual void OnUpdate(PeerSession& session, UpdateMessage&& update,
                          const std::optional<DecodeError>& error) = 0;
    // A valid ROUTE-REFRESH for a negotiated family: re-advertise it.
    virtual void OnRouteRefresh(PeerSession& /*session*/, const RouteRefreshMessage& /*m*/) {}
    // The output queue, after SendUpdates returned false, drained below the
    // low-water mark: the caller may produce for this peer again.
    virtual void OnWritable(PeerSession& /*session*/) {}
};

struct PeerSessionConfig {
    // For logs; empty: the peer address.
    std::string name;
    // The FSM's configuration (AS numbers, BGP identifier, timers in seconds,
    // capabilities, passive, reconnect back-off in ms). Must pass Validate().
    FsmConfig fsm;

    boost::asio::ip::address peer_address;
    uint16_t peer_port = 179;
    // Bound (with port 0) before connecting; unspecified: the kernel chooses.
    boost::asio::ip::address local_address;
    // RFC 2385 password; empty: no TCP-MD5. Set on the outgoing socket before
    // connect; a BgpListener sets it on its listening socket for peer_address.
    std::string md5_password;

    // The real duration of one FSM "second" (hold, keepalive, delay-open
    // timers); millisecond delays (connect retry, reconnect back-off) scale
    // alike. 1 s in production; e.g. 10 ms in tests.
    std::chrono::nanoseconds time_scale = std::chrono::seconds(1);

    // Output queue bounds (bytes). SendUpdates returns false once the queue is
    // above high_water; OnWritable follows when it is back below low_water.
    size_t high_water_bytes = 4u << 20;
    size_t low_water_bytes = 1u << 20;
    // SO_SNDBUF of the connection; 0: the kernel's (autotuned, up to
    // net.ipv4.tcp_wmem's maximum). Bounds the kernel memory per peer.
    size_t send_buffer_bytes = 0;

    // After sending a NOTIFICATION, how long (real time) the connection waits
    // for the queue to drain and the peer to close before it is reset.
    std::chrono::milliseconds close_timeout{3000};

    // RFC 4271 §6.8 CollisionDetectEstablishedState.
    bool collision_detect_established = false;

    // The first problem found, or nullopt when usable.
    std::optional<std::string> Validate() const;
};

// Counters for the looking glass.
struct PeerSessionStats {
    FsmState state = FsmState::kIdle;
    FsmCounters counters;      // over every connection of this session so far
    uint64_t bytes_in = 0;     // TCP payload octets, every connection
    uint64_t bytes_out = 0;
    size_t queued_bytes = 0;   // output queue of the current connection
    uint64_t collisions = 0;   // connection collisions resolved
    size_t connections = 0;    // TCP connections in use (2 while a collision is open)
    std::chrono::steady_clock::duration uptime{};  // 0 unless Established
    std::optional<FsmCounters::LastError> last_error;
    std::string local_endpoint;   // "addr:port" of the current connection, or ""
    std::string remote_endpoint;
};

// PeerSession — one configured peer: runs the RFC 4271 Fsm (fsm.h) over real
// TCP connections and timers, and connects its results to a SessionListener.
//
// Purpose. Turns socket and timer completions into Fsm events and executes
// every Action the Fsm returns, in order: connect (binding local_address, with
// TCP-MD5), send OPEN/KEEPALIVE/NOTIFICATION, arm or stop the connect-retry,
// hold, keepalive, delay-open and automatic-start timers, report the session
// up or down, hand UPDATEs and ROUTE-REFRESHes to the listener. Incoming
// connections are handed over by a BgpListener (Accept).
//
// Structure. A "slot" is one Fsm with its five timers and at most one TCP
// connection. The primary slot always exists and carries the session's
// administrative state. While a second connection with the peer exists (the
// peer connected while our own connection was being set up, or while one was
// already open), it runs in a secondary slot with its own Fsm; when an OPEN
// arrives, DetectCollision (RFC 4271 §6.8) decides which connection gets
// OpenCollisionDump (Cease 6/7). If the secondary survives it becomes the
// primary. Each connection has a reader coroutine (frames the byte stream with
// FrameMessage whatever the segmentation, decodes with the Fsm's
// decode_context()) and a writer coroutine draining a bounded output queue.
//
// Invariants.
//  * At most one slot is Established; SendUpdates goes to it.
//  * Fsm::Handle is never re-entered: events raised while actions execute
//    (e.g. by a listener callback) are queued and handled right after.
//  * A timer completion is delivered only if the timer was not stopped or
//    restarted since it was armed (generation check), as the Fsm assumes.
//  * Sockets are owned by reference-counted connection objects; the session's
//    destruction closes them all at once (no NOTIFICATION: call Stop first and
//    let the loop run to leave cleanly). After the Fsm says Disconnect, a
//    connection that has a NOTIFICATION queued is closed gracefully: queue
//    flushed, FIN sent, peer's close awaited (at most close_timeout).
//  * Memory per peer: the output queue holds at most high_water_bytes plus
//    the last accepted batch, provided the caller stops on false.
//
// Executor. Everything runs on the one executor given (the process's event
// loop); no method is thread-safe. The executor must outlive the session.
class PeerSession {
public:
    PeerSession(boost::asio::any_io_executor executor, PeerSessionConfig config,
                SessionListener& listener);
    ~PeerSession();
    PeerSession(const PeerSession&) = delete;
    PeerSession& operator=(const PeerSession&) = delete;

    // ManualStart (connects unless config().fsm.passive).
    void Start();
    // ManualStart_with_PassiveTcpEstablishment: waits for the peer first.
    void StartPassive();
    // ManualStop: Cease 6/2 with the RFC 9003 shutdown communication, flushed
    // before the connection closes; no reconnect until Start.
    void Stop(std::optional<std::string> shutdown_communication = std::nullopt);
    // AutomaticStop with a Cease subcode (e.g. 1, maximum prefixes reached);
    // the session reconnects after the back-off.
    void AutomaticStop(uint8_t cease_subcode, std::string reason);

    // A connection accepted from peer_address (BgpListener calls this).
    void Accept(boost::asio::ip::tcp::socket socket);

    // Appends whole UPDATE messages (e.g. PackAnnouncements output) to the
    // output queue. Returns true while the caller may keep producing; false
    // when it must stop: the queue is now above high_water_bytes (OnWritable
    // follows once it drains below low_water_bytes), or the session is not
    // Established (the bytes are dropped; OnEstablished starts a new export).
    bool SendUpdates(Bytes&& concatenated_messages);
    // Same, with bytes shared with other sessions (an update group's encoding
    // queued to each member without a copy).
    bool SendUpdates(std::shared_ptr<const Bytes> concatenated_messages);
    // Sends a ROUTE-REFRESH (RFC 2918/7313); false when not Established.
    bool SendRouteRefresh(const RouteRefreshMessage& m);
    size_t queued_bytes() const;

    // Established when a connection is, else the primary Fsm's state.
    FsmState state() const;
    bool established() const { return state() == FsmState::kEstablished; }
    // The negotiated session while Established, else null.
    const NegotiatedSession* negotiated() const;
    const PeerSessionConfig& config() const { return config_; }
    const std::string& name() const { return name_; }
    PeerSessionStats stats() const;
    // Expires when the session is destroyed (lets a BgpListener drop it).
    std::weak_ptr<void> lifetime() const { return alive_; }

private:
    struct Slot;
    struct Connection;
    struct IoCounters;
    // An event waiting for Fsm::Handle, with the UPDATE it carries (if any).
    struct PendingEvent {
        Slot* slot = nullptr;
        Event event;
        std::optional<UpdateMessage> update;
        std::optional<DecodeError> error;
    };

    // Coroutines own their connection and reach the session only through
    // connection->slot, which is null once the connection is detached.
    static boost::asio::awaitable<void> ConnectLoop(std::shared_ptr<Connection> c,
                                                    boost::asio::ip::tcp::endpoint remote,
                                                    boost::asio::ip::address local,
                                                    std::string md5_password);
    static boost::asio::awaitable<void> ReadLoop(std::shared_ptr<Connection> c);
    static boost::asio::awaitable<void> WriteLoop(std::shared_ptr<Connection> c);
    static void StartIo(const std::shared_ptr<Connection>& c);
    static void ForceClose(Connection& c);
    static void Enqueue(Connection& c, Bytes bytes);
    static void Enqueue(Connection& c, std::shared_ptr<const Bytes> bytes);

    std::unique_ptr<Slot> MakeSlot(bool secondary);
    void Feed(Slot& slot, Event event, std::optional<UpdateMessage> update = std::nullopt,
              std::optional<DecodeError> error = std::nullopt);
    void Execute(Slot& slot, Action& action, PendingEvent& cause);
    void Reconcile();
    void Retire(std::unique_ptr<Slot> slot);
    void Attach(Slot& slot, std::shared_ptr<Connection> c);
    void Detach(Slot& slot);
    void StartConnect(Slot& slot);
    Slot* EstablishedSlot() const;
    Slot* Other(const Slot& slot) const;
    std::string Tag(const Slot& slot) const;
    std::chrono::nanoseconds Seconds(uint32_t s) const { return config_.time_scale * s; }
    std::chrono::nanoseconds Millis(uint32_t ms) const { return config_.time_scale / 1000 * ms; }
    void AbsorbCounters(const Fsm& fsm);
    void NoteError(Slot& slot);

    // Called by the coroutines on an attached connection.
    void OnConnected(Slot& slot);
    void OnConnectFailed(Slot& slot, const std::string& why);
    void OnTransportError(Slot& slot, const std::string& why);
    void OnFramingError(Slot& slot, const DecodeError& error);
    void OnMessage(Slot& slot, ByteView message);
    void OnOpen(Slot& slot, OpenMessage open);
    void OnWritten(Slot& slot);

    boost::asio::any_io_executor executor_;
    PeerSessionConfig config_;
    SessionListener& listener_;
    std::string name_;
    std::shared_ptr<bool> alive_;
    std::shared_ptr<IoCounters> io_;

    std::unique_ptr<Slot> primary_;
    std::unique_ptr<Slot> secondary_;
    // Retired slots, destroyed from a posted handler (never under their own feet).
    std::vector<std::unique_ptr<Slot>> graveyard_;
    bool reap_posted_ = false;

    std::deque<PendingEvent> pending_;
    bool dispatching_ = false;
    bool start_passive_ = false;
    bool blocked_ = false;  // SendUpdates returned false for the queue; OnWritable owed

    FsmCounters retired_counters_;
    std::optional<FsmCounters::LastError> last_error_;
    uint64_t error_seq_ = 0;  // bumped whenever last_error_ changes
    uint64_t collisions_ = 0;
    uint64_t next_slot_id_ = 1;
    std::optional<std::chrono::steady_clock::time_point> established_since_;
};

}  // namespace bagpipe::bgp
