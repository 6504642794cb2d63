#include "bgp/session/peer_session.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <functional>
#include <stdexcept>
#include <utility>
#include <variant>

#include "bgp/session/tcp_md5.h"

namespace bagpipe::bgp {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// The reader keeps at least this much free space at the end of its buffer.
constexpr size_t kReadChunk = 16 * 1024;
// One gathered write takes at most this many queued chunks / octets.
constexpr size_t kMaxWriteChunks = 64;
constexpr size_t kMaxWriteBytes = 256 * 1024;

std::string EndpointString(const tcp::endpoint& ep) {
    if (ep.address().is_v6()) return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
    return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

std::string DescribeNotification(const NotificationMessage& m) {
    std::string s = fmt::format("{}/{}", m.code, m.subcode);
    if (m.shutdown_communication) s += fmt::format(" \"{}\"", *m.shutdown_communication);
    return s;
}

bool SameError(const FsmCounters::LastError& a, const FsmCounters::LastError& b) {
    return a.text == b.text && a.code == b.code && a.subcode == b.subcode && a.sent == b.sent;
}

// Spawns a coroutine on `ex`; an exception escaping it (a bug: I/O errors
// are values here) is logged and rethrown from the event loop.
void Spawn(const asio::any_io_executor& ex, asio::awaitable<void> coroutine) {
    asio::co_spawn(ex, std::move(coroutine), [](std::exception_ptr e) {
        if (!e) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            spdlog::critical("bgp session coroutine failed: {}", x.what());
        }
        std::rethrow_exception(e);
    });
}

// SessionTimer — one of the FSM's timers (connect-retry, hold, keepalive,
// delay-open, automatic start) on an asio::steady_timer.
//
// Start(d) (re)arms it for now + d, Stop() disarms it; on expiry it calls
// on_expiry once. Restarting to a later deadline only moves the deadline (the
// hold timer is restarted by every message in Established): the pending wait
// completes early and re-waits for the rest. Invariant: on_expiry runs only
// if the timer is armed and its current deadline has passed — completions of
// a wait that was stopped or superseded are dropped by a generation check,
// including those already queued when cancel() was called. Destroying the
// timer drops any pending completion. Executor: the session's.
class SessionTimer {
public:
    SessionTimer(const asio::any_io_executor& ex, std::function<void()> on_expiry)
        : timer_(ex), on_expiry_(std::move(on_expiry)), alive_(std::make_shared<bool>(true)) {}
    ~SessionTimer() { *alive_ = false; }
    SessionTimer(const SessionTimer&) = delete;
    SessionTimer& operator=(const SessionTimer&) = delete;

    void Start(Clock::duration d) {
        deadline_ = Clock::now() + d;
        armed_ = true;
        if (!waiting_ || timer_.expiry() > deadline_) Arm();
    }
    void Stop() {
        armed_ = false;
        if (!waiting_) return;
        waiting_ = false;
        ++generation_;
        timer_.cancel();
    }
    bool armed() const { return armed_; }

private:
    void Arm() {
        const uint64_t generation = ++generation_;
        waiting_ = true;
        timer_.expires_at(deadline_);
        timer_.async_wait([this, generation, alive = alive_](const error_code& ec) {
            if (!*alive || generation != generation_) return;
            waiting_ = false;
            if (ec || !armed_) return;
            if (Clock::now() < deadline_) {
                Arm();  // restarted to a later deadline meanwhile
                return;
            }
            armed_ = false;
            on_expiry_();
        });
    }

    asio::steady_timer timer_;
    std::function<void()> on_expiry_;
    std::shared_ptr<bool> alive_;
    Clock::time_point deadline_{};
    uint64_t generation_ = 0;
    bool armed_ = false;
    bool waiting_ = false;
};

}  // namespace

// ---------------------------------------------------------------------------
// Internal types

struct PeerSession::IoCounters {
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
};

// Connection — one TCP connection with the peer: the socket, its output queue
// and the state its reader and writer coroutines share. Owned by those
// coroutines (and by the slot while attached); `slot` is non-null exactly
// while a slot's Fsm uses it. Once detached it only drains: the reader
// discards input, the writer flushes what is queued (a NOTIFICATION) and the
// socket closes on the peer's EOF, an error, or close_timeout.
struct PeerSession::Connection {
    Connection(const asio::any_io_executor& ex, bool is_outgoing, std::shared_ptr<IoCounters> io,
               std::string log_name)
        : socket(ex),
          wake(ex),
          linger(ex),
          outgoing(is_outgoing),
          io(std::move(io)),
          name(std::move(log_name)) {}

    tcp::socket socket;
    asio::steady_timer wake;    // the writer waits on it; cancel() wakes it
    asio::steady_timer linger;  // bounds a graceful close
    const bool outgoing;        // we initiated it
    std::shared_ptr<IoCounters> io;
    std::string name;           // "peer 192.0.2.1", for logs
    std::string local, remote;  // endpoints, for logs and stats

    Slot* slot = nullptr;

    std::deque<std::shared_ptr<const Bytes>> queue;  // shared with other peers' queues
    size_t queued_bytes = 0;
    size_t inflight = 0;  // chunks at the front of `queue` being written

    bool io_started = false;
    bool notification_queued = false;
    bool graceful = false;  // detached with a NOTIFICATION to flush
    bool closed = false;
    bool reader_done = false;
    bool writer_done = false;
};

// Slot — one Fsm, its timers and its connection (see the class comment).
struct PeerSession::Slot {
    Slot(PeerSession& s, uint64_t slot_id)
        : session(&s),
          id(slot_id),
          fsm(s.config_.fsm),
          connect_retry(s.executor_, [this] { Expire(EventKind::kConnectRetryTimerExpires); }),
          hold(s.executor_, [this] { Expire(EventKind::kHoldTimerExpires); }),
          keepalive(s.executor_, [this] { Expire(EventKind::kKeepaliveTimerExpires); }),
          delay_open(s.executor_, [this] { Expire(EventKind::kDelayOpenTimerExpires); }),
          auto_start(s.executor_, [this] { Expire(EventKind::kAutomaticStart); }) {}
    ~Slot() {
        if (conn) {
            conn->slot = nullptr;
            ForceClose(*conn);
        }
    }

    void Expire(EventKind kind) {
        if (!retired) session->Feed(*this, Event::Of(kind));
    }
    void StopTimers() {
        connect_retry.Stop();
        hold.Stop();
        keepalive.Stop();
        delay_open.Stop();
        auto_start.Stop();
    }

    PeerSession* session;
    const uint64_t id;
    Fsm fsm;
    std::shared_ptr<Connection> conn;
    SessionTimer connect_retry, hold, keepalive, delay_open, auto_start;
    bool started = false;   // has handled an event (a fresh slot is Idle)
    bool dumped = false;    // we fed it OpenCollisionDump
    bool retired = false;
    std::optional<FsmCounters::LastError> seen_error;
};

// ---------------------------------------------------------------------------
// Configuration

std::optional<std::string> PeerSessionConfig::Validate() const {
    if (auto e = fsm.Validate()) return e;
    if (peer_address.is_unspecified()) return std::string("peer address not set");
    if (peer_port == 0 && !fsm.passive) return std::string("peer port 0");
    if (!local_address.is_unspecified() && local_address.is_v4() != peer_address.is_v4())
        return fmt::format("local address {} and peer address {} differ in family",
                           local_address.to_string(), peer_address.to_string());
    if (md5_password.size() > kTcpMd5MaxKeyLength)
        return fmt::format("TCP-MD5 password longer than {} octets", kTcpMd5MaxKeyLength);
    if (time_scale < std::chrono::microseconds(1)) return std::string("time scale below 1 µs");
    if (low_water_bytes > high_water_bytes)
        return fmt::format("low-water mark {} above high-water mark {}", low_water_bytes,
                           high_water_bytes);
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Construction, administration

PeerSession::PeerSession(asio::any_io_executor executor, PeerSessionConfig config,
                         SessionListener& listener)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      listener_(listener),
      alive_(std::make_shared<bool>(true)),
      io_(std::make_shared<IoCounters>()) {
    if (auto e = config_.Validate()) throw std::invalid_argument("bgp peer: " + *e);
    name_ = config_.name.empty() ? config_.peer_address.to_string() : config_.name;
    primary_ = MakeSlot(false);
}

PeerSession::~PeerSession() {
    *alive_ = false;
    // Slot destructors close their connections at once; coroutines still
    // suspended on them resume with errors and touch only the connection.
}

std::unique_ptr<PeerSession::Slot> PeerSession::MakeSlot(bool /*secondary*/) {
    return std::make_unique<Slot>(*this, next_slot_id_++);
}

void PeerSession::Start() {
    start_passive_ = false;
    Feed(*primary_, Event::Of(EventKind::kManualStart));
}

void PeerSession::StartPassive() {
    start_passive_ = true;
    Feed(*primary_, Event::Of(EventKind::kManualStartPassive));
}

void PeerSession::Stop(std::optional<std::string> shutdown_communication) {
    spdlog::info("bgp peer {}: stop{}", name_,
                 shutdown_communication ? fmt::format(" (\"{}\")", *shutdown_communication) : "");
    Slot* second = secondary_.get();
    Feed(*primary_, Event::ManualStop(shutdown_communication));
    if (second) Feed(*second, Event::ManualStop(std::move(shutdown_communication)));
}

void PeerSession::AutomaticStop(uint8_t cease_subcode, std::string reason) {
    Slot* s = EstablishedSlot();
    Feed(s ? *s : *primary_, Event::AutomaticStop(cease_subcode, std::move(reason)));
}

void PeerSession::Accept(tcp::socket socket) {
    error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    const tcp::endpoint local = socket.local_endpoint(ec);
    auto c = std::make_shared<Connection>(executor_, false, io_, "peer " + name_);
    c->socket = std::move(socket);
    c->remote = EndpointString(remote);
    c->local = EndpointString(local);

    if (primary_->fsm.enabled() && primary_->fsm.state() == FsmState::kIdle &&
        primary_->auto_start.armed()) {
        // Idle only until the automatic restart: the peer is back, so restart
        // now and take its connection (a flapping client reconnects at once
        // instead of being refused for the connect-retry delay).
        spdlog::info("bgp peer {}: connection from {} while waiting to restart: restarting now",
                     name_, c->remote);
        primary_->auto_start.Stop();
        Feed(*primary_, Event::Of(EventKind::kAutomaticStart));
    }
    const FsmState ps = primary_->fsm.state();
    if (!primary_->fsm.enabled() || ps == FsmState::kIdle) {
        spdlog::info("bgp peer {}: refusing connection from {}: session {}", name_, c->remote,
                     primary_->fsm.enabled() ? "Idle (waiting to restart)" : "stopped");
        ForceClose(*c);
        return;
    }
    if (!primary_->conn) {
        // Active (or Connect between attempts): adopt it.
        spdlog::info("bgp peer {}: accepted connection {} -> {}", name_, c->remote, c->local);
        Attach(*primary_, c);
        StartIo(c);
        Feed(*primary_, Event::Of(EventKind::kTcpConnectionValid));
        Feed(*primary_, Event::Of(EventKind::kTcpConnectionConfirmed));
        return;
    }
    if (secondary_) {
        spdlog::warn("bgp peer {}: refusing a third connection from {}", name_, c->remote);
        ForceClose(*c);
        return;
    }
    // Our own connection exists: run this one in parallel until an OPEN
    // decides (§6.8). Its Fsm starts like ours; its Connect action is void
    // (the connection is already there) and TcpConnectionConfirmed follows.
    spdlog::info("bgp peer {}: accepted second connection {} -> {} (ours is {})", name_, c->remote,
                 c->local, FsmStateName(ps));
    secondary_ = MakeSlot(true);
    Slot& s = *secondary_;
    Attach(s, c);
    StartIo(c);
    Feed(s, Event::Of(start_passive_ ? EventKind::kManualStartPassive : EventKind::kManualStart));
    Feed(s, Event::Of(EventKind::kTcpConnectionValid));
    Feed(s, Event::Of(EventKind::kTcpConnectionConfirmed));
}

// ---------------------------------------------------------------------------
// Sending

bool PeerSession::SendUpdates(Bytes&& bytes) {
    if (bytes.empty()) return SendUpdates(std::shared_ptr<const Bytes>());
    return SendUpdates(std::make_shared<const Bytes>(std::move(bytes)));
}

bool PeerSession::SendUpdates(std::shared_ptr<const Bytes> shared) {
    static const Bytes kNone;
    const Bytes& bytes = shared ? *shared : kNone;
    Slot* s = EstablishedSlot();
    if (!s || !s->conn) {
        spdlog::debug("bgp peer {}: {} octets dropped, session not Established", name_,
                      bytes.size());
        return false;
    }
    // Count the messages (for the Fsm: counters, keepalive restart).
    std::array<size_t, 6> count{};
    for (size_t pos = 0; pos + kHeaderSize <= bytes.size();) {
        const size_t length = (size_t{bytes[pos + 16]} << 8) | bytes[pos + 17];
        const uint8_t type = bytes[pos + 18];
        if (length < kHeaderSize) break;
        count[type < count.size() ? type : 0]++;
        pos += length;
    }
    Connection& c = *s->conn;
    Enqueue(c, std::move(shared));
    for (size_t t = 1; t < count.size(); ++t)
        for (size_t i = 0; i < count[t]; ++i)
            Feed(*s, Event::Sent(static_cast<MessageType>(t)));
    const bool below = c.queued_bytes <= config_.high_water_bytes;
    if (!below) blocked_ = true;
    return below;
}

bool PeerSession::SendRouteRefresh(const RouteRefreshMessage& m) {
    Slot* s = EstablishedSlot();
    if (!s || !s->conn) return false;
    Enqueue(*s->conn, EncodeRouteRefresh(m));
    Feed(*s, Event::Sent(MessageType::kRouteRefresh));
    return true;
}

size_t PeerSession::queued_bytes() const {
    if (Slot* s = EstablishedSlot(); s && s->conn) return s->conn->queued_bytes;
    return primary_->conn ? primary_->conn->queued_bytes : 0;
}

// ---------------------------------------------------------------------------
// State

PeerSession::Slot* PeerSession::EstablishedSlot() const {
    if (primary_->fsm.state() == FsmState::kEstablished) return primary_.get();
    if (secondary_ && secondary_->fsm.state() == FsmState::kEstablished) return secondary_.get();
    return nullptr;
}

PeerSession::Slot* PeerSession::Other(const Slot& slot) const {
    if (&slot == primary_.get()) return secondary_.get();
    if (&slot == secondary_.get()) return primary_.get();
    return nullptr;
}

std::string PeerSession::Tag(const Slot& slot) const {
    if (&slot == primary_.get() && !secondary_) return "";
    const char* dir = slot.conn ? (slot.conn->outgoing ? "out" : "in") : "-";
    return fmt::format(" [#{} {}]", slot.id, dir);
}

FsmState PeerSession::state() const {
    return EstablishedSlot() ? FsmState::kEstablished : primary_->fsm.state();
}

const NegotiatedSession* PeerSession::negotiated() const {
    Slot* s = EstablishedSlot();
    return s ? s->fsm.negotiated() : nullptr;
}

void PeerSession::AbsorbCounters(const Fsm& fsm) {
    const FsmCounters& c = fsm.counters();
    for (size_t i = 0; i < c.messages_in.size(); ++i) {
        retired_counters_.messages_in[i] += c.messages_in[i];
        retired_counters_.messages_out[i] += c.messages_out[i];
    }
    retired_counters_.transitions += c.transitions;
    retired_counters_.established += c.established;
    retired_counters_.flaps += c.flaps;
}

PeerSessionStats PeerSession::stats() const {
    PeerSessionStats st;
    st.state = state();
    st.counters = retired_counters_;
    for (const Slot* s : {primary_.get(), secondary_.get()}) {
        if (!s) continue;
        const FsmCounters& c = s->fsm.counters();
        for (size_t i = 0; i < c.messages_in.size(); ++i) {
            st.counters.messages_in[i] += c.messages_in[i];
            st.counters.messages_out[i] += c.messages_out[i];
        }
        st.counters.transitions += c.transitions;
        st.counters.established += c.established;
        st.counters.flaps += c.flaps;
    }
    st.counters.last_error = last_error_;
    st.last_error = last_error_;
    st.bytes_in = io_->bytes_in;
    st.bytes_out = io_->bytes_out;
    st.queued_bytes = queued_bytes();
    st.collisions = collisions_;
    st.connections = (primary_->conn ? 1 : 0) + (secondary_ && secondary_->conn ? 1 : 0);
    if (established_since_ && st.state == FsmState::kEstablished)
        st.uptime = Clock::now() - *established_since_;
    const Slot* s = EstablishedSlot();
    if (!s) s = primary_.get();
    if (s->conn) {
        st.local_endpoint = s->conn->local;
        st.remote_endpoint = s->conn->remote;
    }
    return st;
}

void PeerSession::NoteError(Slot& slot) {
    const auto& e = slot.fsm.counters().last_error;
    if (!e || (slot.seen_error && SameError(*slot.seen_error, *e))) return;
    slot.seen_error = e;
    last_error_ = e;
    ++error_seq_;
}

// ---------------------------------------------------------------------------
// The event loop around the Fsm

void PeerSession::Feed(Slot& slot, Event event, std::optional<UpdateMessage> update,
                       std::optional<DecodeError> error) {
    pending_.push_back(PendingEvent{&slot, std::move(event), std::move(update), std::move(error)});
    if (dispatching_) return;
    dispatching_ = true;
    struct Reset {
        bool& flag;
        ~Reset() { flag = false; }
    } reset{dispatching_};
    while (!pending_.empty()) {
        PendingEvent pe = std::move(pending_.front());
        pending_.pop_front();
        Slot& s = *pe.slot;
        if (s.retired) continue;
        const FsmState before = s.fsm.state();
        std::vector<Action> actions = s.fsm.Handle(pe.event);
        s.started = true;
        if (s.fsm.state() != before)
            spdlog::info("bgp peer {}{}: {} -> {} ({})", name_, Tag(s), FsmStateName(before),
                         FsmStateName(s.fsm.state()), EventKindName(pe.event.kind));
        NoteError(s);
        for (Action& a : actions) Execute(s, a, pe);
        Reconcile();
    }
}

void PeerSession::Execute(Slot& s, Action& a, PendingEvent& cause) {
    switch (a.kind) {
        case ActionKind::kConnect:
            // A slot that already has a connection adopted the peer's.
            if (!s.conn) StartConnect(s);
            break;
        case ActionKind::kDisconnect: Detach(s); break;
        case ActionKind::kSendOpen:
            if (s.conn) Enqueue(*s.conn, EncodeOpen(*a.open));
            break;
        case ActionKind::kSendKeepalive:
            if (s.conn) Enqueue(*s.conn, EncodeKeepalive());
            break;
        case ActionKind::kSendNotification: {
            spdlog::warn("bgp peer {}{}: sending NOTIFICATION {}{}", name_, Tag(s),
                         DescribeNotification(a.notification),
                         last_error_ && last_error_->sent ? " (" + last_error_->text + ")" : "");
            if (!s.conn) break;
            Connection& c = *s.conn;
            // Queued UPDATEs are moot now; what is being written must finish
            // (framing), then the NOTIFICATION goes out.
            while (c.queue.size() > c.inflight) {
                c.queued_bytes -= c.queue.back()->size();
                c.queue.pop_back();
            }
            Enqueue(c, EncodeNotification(a.notification));
            c.notification_queued = true;
            break;
        }
        case ActionKind::kStartConnectRetryTimer: s.connect_retry.Start(Millis(a.delay_ms)); break;
        case ActionKind::kStopConnectRetryTimer: s.connect_retry.Stop(); break;
        case ActionKind::kStartHoldTimer: s.hold.Start(Seconds(a.seconds)); break;
        case ActionKind::kStopHoldTimer: s.hold.Stop(); break;
        case ActionKind::kStartKeepaliveTimer: s.keepalive.Start(Seconds(a.seconds)); break;
        case ActionKind::kStopKeepaliveTimer: s.keepalive.Stop(); break;
        case ActionKind::kStartDelayOpenTimer: s.delay_open.Start(Seconds(a.seconds)); break;
        case ActionKind::kStopDelayOpenTimer: s.delay_open.Stop(); break;
        case ActionKind::kSessionEstablished: {
            established_since_ = Clock::now();
            blocked_ = false;
            const NegotiatedSession& n = *a.session;
            spdlog::info("bgp peer {}{}: session established ({} -> {}, AS {}, id {}, hold {})",
                         name_, Tag(s), s.conn ? s.conn->local : "?", s.conn ? s.conn->remote : "?",
                         n.peer_as, asio::ip::address_v4(n.peer_bgp_id).to_string(), n.hold_time);
            listener_.OnEstablished(*this, n);
            break;
        }
        case ActionKind::kSessionDown: {
            if (a.was_established) {
                established_since_.reset();
                blocked_ = false;
            }
            const Slot* other = Other(s);
            const bool other_alive = other && !other->retired && other->fsm.state() != FsmState::kIdle;
            const bool report =
                a.was_established || (&s == primary_.get() && !s.dumped && !other_alive);
            if (a.was_established)
                spdlog::warn("bgp peer {}{}: session down: {}", name_, Tag(s), a.reason);
            else
                spdlog::info("bgp peer {}{}: down: {}", name_, Tag(s), a.reason);
            if (report) listener_.OnDown(*this, a.reason, a.was_established);
            break;
        }
        case ActionKind::kDeliverUpdate:
            if (cause.update) {
                UpdateMessage update = std::move(*cause.update);
                cause.update.reset();
                listener_.OnUpdate(*this, std::move(update), cause.error);
            }
            break;
        case ActionKind::kDeliverRouteRefresh:
            listener_.OnRouteRefresh(*this, cause.event.route_refresh);
            break;
        case ActionKind::kScheduleAutomaticStart:
            spdlog::debug("bgp peer {}{}: restart in {} ms (unscaled)", name_, Tag(s), a.delay_ms);
            s.auto_start.Start(Millis(a.delay_ms));
            break;
    }
}

// Keeps the slots consistent after an event: an Idle secondary goes; an Idle
// primary (failed or dumped, still enabled) makes way for a live secondary;
// a secondary that reached Established dumps the primary's attempt.
void PeerSession::Reconcile() {
    for (;;) {
        if (secondary_ && secondary_->started && secondary_->fsm.state() == FsmState::kIdle) {
            Retire(std::move(secondary_));
            continue;
        }
        if (secondary_ && secondary_->started && primary_->fsm.state() == FsmState::kIdle &&
            primary_->fsm.enabled()) {
            spdlog::info("bgp peer {}: connection #{} carries on for #{}", name_, secondary_->id,
                         primary_->id);
            std::unique_ptr<Slot> old = std::move(primary_);
            primary_ = std::move(secondary_);
            Retire(std::move(old));
            continue;
        }
        if (secondary_ && secondary_->fsm.state() == FsmState::kEstablished &&
            primary_->fsm.state() != FsmState::kIdle && !primary_->dumped) {
            primary_->dumped = true;
            Feed(*primary_, Event::Of(EventKind::kOpenCollisionDump));  // queued
        }
        return;
    }
}

void PeerSession::Retire(std::unique_ptr<Slot> slot) {
    slot->retired = true;
    slot->StopTimers();
    if (auto c = std::move(slot->conn)) {
        c->slot = nullptr;
        ForceClose(*c);
    }
    AbsorbCounters(slot->fsm);
    graveyard_.push_back(std::move(slot));
    if (reap_posted_) return;
    reap_posted_ = true;
    asio::post(executor_, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (auto a = alive.lock(); !a || !*a) return;
        reap_posted_ = false;
        graveyard_.clear();
    });
}

// ---------------------------------------------------------------------------
// Connections

void PeerSession::Attach(Slot& slot, std::shared_ptr<Connection> c) {
    c->slot = &slot;
    slot.conn = std::move(c);
}

void PeerSession::Detach(Slot& slot) {
    std::shared_ptr<Connection> c = std::move(slot.conn);
    if (!c) return;
    c->slot = nullptr;
    if (!(c->notification_queued && c->io_started && !c->closed)) {
        ForceClose(*c);
        return;
    }
    // Graceful: flush the NOTIFICATION, send FIN, wait for the peer's close.
    c->graceful = true;
    c->wake.cancel();
    c->linger.expires_after(config_.close_timeout);
    c->linger.async_wait([c](const error_code& ec) {
        if (ec || c->closed) return;
        spdlog::info("bgp {}: {} did not close in time, resetting", c->name, c->remote);
        ForceClose(*c);
    });
}

void PeerSession::ForceClose(Connection& c) {
    if (c.closed) return;
    c.closed = true;
    error_code ignored;
    c.socket.close(ignored);
    c.wake.cancel();
    c.linger.cancel();
}

void PeerSession::Enqueue(Connection& c, Bytes bytes) {
    if (c.closed || bytes.empty()) return;
    Enqueue(c, std::make_shared<const Bytes>(std::move(bytes)));
}

void PeerSession::Enqueue(Connection& c, std::shared_ptr<const Bytes> bytes) {
    if (c.closed || !bytes || bytes->empty()) return;
    c.queued_bytes += bytes->size();
    c.queue.push_back(std::move(bytes));
    c.wake.cancel();
}

void PeerSession::StartIo(const std::shared_ptr<Connection>& c) {
    if (c->io_started) return;
    c->io_started = true;
    {
        // No Nagle: every flush of the speaker is already one batch of
        // UPDATEs; holding a small one back for an ACK (up to 40 ms with
        // delayed ACKs) only delays it.
        error_code ec;
        c->socket.set_option(tcp::no_delay(true), ec);
    }
    if (c->slot && c->slot->session->config_.send_buffer_bytes > 0) {
        error_code ec;
        c->socket.set_option(
            asio::socket_base::send_buffer_size(
                static_cast<int>(c->slot->session->config_.send_buffer_bytes)),
            ec);
    }
    const auto ex = c->socket.get_executor();
    Spawn(ex, ReadLoop(c));
    Spawn(ex, WriteLoop(c));
}

void PeerSession::StartConnect(Slot& slot) {
    auto c = std::make_shared<Connection>(executor_, true, io_, "peer " + name_);
    const tcp::endpoint remote(config_.peer_address, config_.peer_port);
    c->remote = EndpointString(remote);
    Attach(slot, c);
    spdlog::debug("bgp peer {}{}: connecting to {}", name_, Tag(slot), c->remote);
    Spawn(executor_, ConnectLoop(c, remote, config_.local_address, config_.md5_password));
}

asio::awaitable<void> PeerSession::ConnectLoop(std::shared_ptr<Connection> c, tcp::endpoint remote,
                                               asio::ip::address local, std::string md5_password) {
    if (c->closed || !c->slot) co_return;  // abandoned before it began
    error_code ec;
    std::string why;
    c->socket.open(remote.protocol(), ec);
    if (ec) why = fmt::format("socket: {}", ec.message());
    if (why.empty()) {
        c->socket.set_option(asio::socket_base::reuse_address(true), ec);
        if (ec) why = fmt::format("SO_REUSEADDR: {}", ec.message());
    }
    if (why.empty() && !local.is_unspecified()) {
        c->socket.bind(tcp::endpoint(local, 0), ec);
        if (ec) why = fmt::format("bind to {}: {}", local.to_string(), ec.message());
    }
    if (why.empty() && !md5_password.empty()) {
        if (std::error_code e =
                SetTcpMd5Key(c->socket.native_handle(), remote.address(), md5_password)) {
            why = DescribeTcpMd5Error(remote.address(), e);
            spdlog::error("bgp {}: {}", c->name, why);
        }
    }
    if (why.empty()) {
        co_await c->socket.async_connect(remote, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) why = fmt::format("connect to {}: {}", c->remote, ec.message());
    }
    Slot* s = c->slot;
    if (!s || c->closed) co_return;  // abandoned meanwhile
    if (!why.empty()) {
        s->session->OnConnectFailed(*s, why);
        co_return;
    }
    c->local = EndpointString(c->socket.local_endpoint(ec));
    StartIo(c);
    s->session->OnConnected(*s);
}

asio::awaitable<void> PeerSession::ReadLoop(std::shared_ptr<Connection> c) {
    Bytes buf(2 * kReadChunk);
    size_t begin = 0, end = 0;  // unparsed octets: [begin, end)
    error_code ec;
    while (!c->closed) {
        if (buf.size() - end < kReadChunk) {
            if (begin > 0) {
                std::memmove(buf.data(), buf.data() + begin, end - begin);
                end -= begin;
                begin = 0;
            }
            // A message longer than the free space: grow (bounded, as
            // FrameMessage refuses lengths above the maximum message size).
            if (buf.size() - end < kReadChunk) buf.resize(buf.size() * 2);
        }
        const size_t n = co_await c->socket.async_read_some(
            asio::buffer(buf.data() + end, buf.size() - end),
            asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            c->reader_done = true;
            if (Slot* s = c->slot) {
                s->session->OnTransportError(
                    *s, ec == asio::error::eof ? std::string("connection closed by the peer")
                                               : ec.message());
            } else if (c->graceful && c->writer_done) {
                ForceClose(*c);
            }
            break;
        }
        c->io->bytes_in += n;
        end += n;
        if (!c->slot) {  // detached: drain until the peer closes
            begin = end = 0;
            continue;
        }
        while (Slot* s = c->slot) {
            const FrameResult f = FrameMessage(ByteView(buf.data() + begin, end - begin),
                                               s->fsm.decode_context().max_message_size());
            if (f.error) {
                begin = end;
                s->session->OnFramingError(*s, *f.error);
                break;
            }
            if (f.length == 0) break;
            const ByteView message(buf.data() + begin, f.length);
            begin += f.length;
            s->session->OnMessage(*s, message);
        }
        if (begin == end) begin = end = 0;
    }
}

asio::awaitable<void> PeerSession::WriteLoop(std::shared_ptr<Connection> c) {
    error_code ec;
    std::vector<asio::const_buffer> buffers;
    while (!c->closed) {
        if (c->queue.empty()) {
            if (c->graceful) {
                c->socket.shutdown(tcp::socket::shutdown_send, ec);
                c->writer_done = true;
                if (c->reader_done) ForceClose(*c);
                break;
            }
            c->wake.expires_at(asio::steady_timer::time_point::max());
            co_await c->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        buffers.clear();
        size_t bytes = 0;
        for (const auto& chunk : c->queue) {
            if (!buffers.empty() &&
                (buffers.size() == kMaxWriteChunks || bytes + chunk->size() > kMaxWriteBytes))
                break;
            buffers.push_back(asio::buffer(*chunk));
            bytes += chunk->size();
        }
        c->inflight = buffers.size();
        co_await asio::async_write(c->socket, buffers,
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            c->inflight = 0;
            c->writer_done = true;
            if (Slot* s = c->slot)
                s->session->OnTransportError(*s, fmt::format("write: {}", ec.message()));
            else
                ForceClose(*c);
            break;
        }
        for (size_t i = 0; i < buffers.size(); ++i) c->queue.pop_front();
        c->inflight = 0;
        c->queued_bytes -= bytes;
        c->io->bytes_out += bytes;
        if (Slot* s = c->slot) s->session->OnWritten(*s);
    }
    c->queue.clear();
    c->queued_bytes = 0;
}

// ---------------------------------------------------------------------------
// Completions on an attached connection

void PeerSession::OnConnected(Slot& slot) {
    spdlog::info("bgp peer {}{}: connected {} -> {}", name_, Tag(slot), slot.conn->local,
                 slot.conn->remote);
    Feed(slot, Event::Of(EventKind::kTcpCrAcked));
}

void PeerSession::OnConnectFailed(Slot& slot, const std::string& why) {
    spdlog::info("bgp peer {}{}: {}", name_, Tag(slot), why);
    // The transport is gone; the Fsm does not always say Disconnect for it
    // (OpenSent → Active), so release it here.
    if (auto c = std::move(slot.conn)) {
        c->slot = nullptr;
        ForceClose(*c);
    }
    const uint64_t seq = error_seq_;
    Feed(slot, Event::Of(EventKind::kTcpConnectionFails));
    if (last_error_ && error_seq_ != seq) last_error_->text += fmt::format(" ({})", why);
}

void PeerSession::OnTransportError(Slot& slot, const std::string& why) {
    spdlog::info("bgp peer {}{}: {}", name_, Tag(slot), why);
    // The transport is gone; the Fsm does not always say Disconnect for it
    // (OpenSent → Active), so release it here.
    if (auto c = std::move(slot.conn)) {
        c->slot = nullptr;
        ForceClose(*c);
    }
    const uint64_t seq = error_seq_;
    Feed(slot, Event::Of(EventKind::kTcpConnectionFails));
    if (last_error_ && error_seq_ != seq) last_error_->text += fmt::format(" ({})", why);
}

void PeerSession::OnFramingError(Slot& slot, const DecodeError& error) {
    spdlog::warn("bgp peer {}{}: bad message header: {}", name_, Tag(slot), error.reason);
    Feed(slot, Event::HeaderError(error));
}

void PeerSession::OnMessage(Slot& slot, ByteView bytes) {
    DecodeResult r = DecodeMessage(bytes, slot.fsm.decode_context());
    if (!r.message || (r.error && r.error->action == ErrorAction::kSessionReset)) {
        DecodeError e = r.error ? std::move(*r.error)
                                : DecodeError::Reset(notif::kMessageHeaderError, 0,
                                                     "undecodable message");
        spdlog::warn("bgp peer {}{}: malformed {}: {}", name_, Tag(slot), MessageTypeName(r.type),
                     e.reason);
        const bool header = e.notification && e.notification->code == notif::kMessageHeaderError;
        if (!header && r.type == static_cast<uint8_t>(MessageType::kOpen))
            Feed(slot, Event::OpenError(e));
        else if (!header && r.type == static_cast<uint8_t>(MessageType::kUpdate))
            Feed(slot, Event::UpdateError(e));
        else
            Feed(slot, Event::HeaderError(e));  // header errors, ROUTE-REFRESH 7/1
        return;
    }
    Message& m = *r.message;
    if (auto* open = std::get_if<OpenMessage>(&m)) {
        OnOpen(slot, std::move(*open));
    } else if (auto* update = std::get_if<UpdateMessage>(&m)) {
        if (r.error)
            spdlog::info("bgp peer {}{}: UPDATE error, {}: {}", name_, Tag(slot),
                         ErrorActionName(r.error->action), r.error->reason);
        Feed(slot, Event::Of(EventKind::kUpdateMsg), std::move(*update), std::move(r.error));
    } else if (auto* notification = std::get_if<NotificationMessage>(&m)) {
        spdlog::warn("bgp peer {}{}: NOTIFICATION received: {}", name_, Tag(slot),
                     DescribeNotification(*notification));
        Feed(slot, Event::NotificationReceived(std::move(*notification)));
    } else if (std::holds_alternative<KeepaliveMessage>(m)) {
        Feed(slot, Event::Of(EventKind::kKeepAliveMsg));
    } else if (auto* rr = std::get_if<RouteRefreshMessage>(&m)) {
        Feed(slot, Event::RouteRefresh(*rr));
    }
}

// RFC 4271 §6.8: an OPEN on one connection while the other exists.
void PeerSession::OnOpen(Slot& slot, OpenMessage open) {
    Slot* other = Other(slot);
    if (other && !other->retired && other->fsm.state() != FsmState::kIdle) {
        const FsmConfig& fc = config_.fsm;
        const bool other_outgoing = other->conn && other->conn->outgoing;
        const CollisionOutcome outcome = DetectCollision(
            other->fsm.state(), other_outgoing, fc.local_bgp_id, open.bgp_id, fc.local_as,
            open.AsNumber(), config_.collision_detect_established);
        if (outcome != CollisionOutcome::kNoCollision) {
            ++collisions_;
            Slot& loser = outcome == CollisionOutcome::kDumpNew ? slot : *other;
            spdlog::info("bgp peer {}: connection collision, closing the {} connection #{}", name_,
                         loser.conn && loser.conn->outgoing ? "outgoing" : "incoming", loser.id);
            loser.dumped = true;
            Feed(loser, Event::Of(EventKind::kOpenCollisionDump));
            if (&loser == &slot) return;
        }
    }
    Feed(slot, Event::Open(std::move(open)));
}

void PeerSession::OnWritten(Slot& slot) {
    if (!blocked_ || &slot != EstablishedSlot() || !slot.conn ||
        slot.conn->queued_bytes > config_.low_water_bytes)
        return;
    blocked_ = false;
    listener_.OnWritable(*this);
}

}  // namespace bagpipe::bgp
