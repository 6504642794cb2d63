#include "bgp/session/fsm.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace bagpipe::bgp {

namespace {

NotificationMessage MakeNotification(uint8_t code, uint8_t subcode, Bytes data = {}) {
    NotificationMessage m;
    m.code = code;
    m.subcode = subcode;
    m.data = std::move(data);
    return m;
}

NotificationMessage FromDecodeError(const DecodeError& e, uint8_t default_code) {
    if (!e.notification) return MakeNotification(default_code, 0);
    return MakeNotification(e.notification->code, e.notification->subcode, e.notification->data);
}

std::string Describe(const NotificationMessage& m) {
    std::string s = fmt::format("{}/{}", m.code, m.subcode);
    if (m.shutdown_communication) s += fmt::format(" \"{}\"", *m.shutdown_communication);
    return s;
}

}  // namespace

std::string_view FsmStateName(FsmState s) {
    switch (s) {
        case FsmState::kIdle: return "Idle";
        case FsmState::kConnect: return "Connect";
        case FsmState::kActive: return "Active";
        case FsmState::kOpenSent: return "OpenSent";
        case FsmState::kOpenConfirm: return "OpenConfirm";
        case FsmState::kEstablished: return "Established";
    }
    return "?";
}

std::string_view EventKindName(EventKind k) {
    switch (k) {
        case EventKind::kManualStart: return "ManualStart";
        case EventKind::kManualStop: return "ManualStop";
        case EventKind::kAutomaticStart: return "AutomaticStart";
        case EventKind::kManualStartPassive: return "ManualStart_with_PassiveTcpEstablishment";
        case EventKind::kAutomaticStop: return "AutomaticStop";
        case EventKind::kConnectRetryTimerExpires: return "ConnectRetryTimer_Expires";
        case EventKind::kHoldTimerExpires: return "HoldTimer_Expires";
        case EventKind::kKeepaliveTimerExpires: return "KeepaliveTimer_Expires";
        case EventKind::kDelayOpenTimerExpires: return "DelayOpenTimer_Expires";
        case EventKind::kTcpConnectionValid: return "TcpConnection_Valid";
        case EventKind::kTcpCrAcked: return "Tcp_CR_Acked";
        case EventKind::kTcpConnectionConfirmed: return "TcpConnectionConfirmed";
        case EventKind::kTcpConnectionFails: return "TcpConnectionFails";
        case EventKind::kBgpOpen: return "BGPOpen";
        case EventKind::kBgpHeaderErr: return "BGPHeaderErr";
        case EventKind::kBgpOpenMsgErr: return "BGPOpenMsgErr";
        case EventKind::kOpenCollisionDump: return "OpenCollisionDump";
        case EventKind::kNotifMsgVerErr: return "NotifMsgVerErr";
        case EventKind::kNotifMsg: return "NotifMsg";
        case EventKind::kKeepAliveMsg: return "KeepAliveMsg";
        case EventKind::kUpdateMsg: return "UpdateMsg";
        case EventKind::kUpdateMsgErr: return "UpdateMsgErr";
        case EventKind::kRouteRefreshMsg: return "RouteRefreshMsg";
        case EventKind::kMessageSent: return "MessageSent";
    }
    return "?";
}

std::string_view ActionKindName(ActionKind k) {
    switch (k) {
        case ActionKind::kConnect: return "Connect";
        case ActionKind::kDisconnect: return "Disconnect";
        case ActionKind::kSendOpen: return "SendOpen";
        case ActionKind::kSendKeepalive: return "SendKeepalive";
        case ActionKind::kSendNotification: return "SendNotification";
        case ActionKind::kStartConnectRetryTimer: return "StartConnectRetryTimer";
        case ActionKind::kStopConnectRetryTimer: return "StopConnectRetryTimer";
        case ActionKind::kStartHoldTimer: return "StartHoldTimer";
        case ActionKind::kStopHoldTimer: return "StopHoldTimer";
        case ActionKind::kStartKeepaliveTimer: return "StartKeepaliveTimer";
        case ActionKind::kStopKeepaliveTimer: return "StopKeepaliveTimer";
        case ActionKind::kStartDelayOpenTimer: return "StartDelayOpenTimer";
        case ActionKind::kStopDelayOpenTimer: return "StopDelayOpenTimer";
        case ActionKind::kSessionEstablished: return "SessionEstablished";
        case ActionKind::kSessionDown: return "SessionDown";
        case ActionKind::kDeliverUpdate: return "DeliverUpdate";
        case ActionKind::kDeliverRouteRefresh: return "DeliverRouteRefresh";
        case ActionKind::kScheduleAutomaticStart: return "ScheduleAutomaticStart";
    }
    return "?";
}

// ---------------------------------------------------------------------------
// Events

Event Event::ManualStop(std::optional<std::string> shutdown_communication, uint8_t cease_subcode) {
    Event e = Of(EventKind::kManualStop);
    e.notification = MakeNotification(notif::kCease, cease_subcode);
    e.notification.shutdown_communication = std::move(shutdown_communication);
    return e;
}

Event Event::AutomaticStop(uint8_t cease_subcode, std::string reason) {
    Event e = Of(EventKind::kAutomaticStop);
    e.notification = MakeNotification(notif::kCease, cease_subcode);
    e.reason = std::move(reason);
    return e;
}

Event Event::Open(OpenMessage open) {
    Event e = Of(EventKind::kBgpOpen);
    e.open = std::move(open);
    return e;
}

Event Event::HeaderError(const DecodeError& d) {
    Event e = Of(EventKind::kBgpHeaderErr);
    e.notification = FromDecodeError(d, notif::kMessageHeaderError);
    e.reason = d.reason;
    return e;
}

Event Event::OpenError(const DecodeError& d) {
    Event e = Of(EventKind::kBgpOpenMsgErr);
    e.notification = FromDecodeError(d, notif::kOpenMessageError);
    e.reason = d.reason;
    return e;
}

Event Event::UpdateError(const DecodeError& d) {
    Event e = Of(EventKind::kUpdateMsgErr);
    e.notification = FromDecodeError(d, notif::kUpdateMessageError);
    e.reason = d.reason;
    return e;
}

Event Event::NotificationReceived(NotificationMessage m) {
    const bool version_error =
        m.code == notif::kOpenMessageError && m.subcode == notif::kUnsupportedVersion;
    Event e = Of(version_error ? EventKind::kNotifMsgVerErr : EventKind::kNotifMsg);
    e.notification = std::move(m);
    return e;
}

Event Event::RouteRefresh(RouteRefreshMessage m) {
    Event e = Of(EventKind::kRouteRefreshMsg);
    e.route_refresh = m;
    return e;
}

Event Event::Sent(MessageType type) {
    Event e = Of(EventKind::kMessageSent);
    e.sent_type = type;
    return e;
}

// ---------------------------------------------------------------------------
// Configuration

std::optional<std::string> FsmConfig::Validate() const {
    if (local_as == 0) return "local AS must not be 0";
    if (local_bgp_id == 0) return "local BGP identifier must not be 0.0.0.0";
    if (hold_time == 1 || hold_time == 2)
        return fmt::format("hold time {} (must be 0 or 3..65535)", hold_time);
    if (!four_octet_as && local_as > 0xffff)
        return fmt::format("local AS {} needs the four-octet AS capability", local_as);
    if (families.none()) return "no address family to offer";
    if (families.test(FamilyIndex(Family::kUnknown))) return "unknown address family";
    if ((add_path_receive & ~families).any() || (add_path_send & ~families).any())
        return "ADD-PATH configured for a family not offered";
    if (retry_min_ms == 0 || retry_min_ms > retry_max_ms)
        return fmt::format("retry back-off {}..{} ms", retry_min_ms, retry_max_ms);
    if (!(retry_jitter >= 0.0 && retry_jitter < 1.0))
        return fmt::format("retry jitter {} (must be in [0, 1))", retry_jitter);
    if (graceful_restart_time > 0x0fff)
        return fmt::format("graceful restart time {} (at most 4095)", graceful_restart_time);
    return std::nullopt;
}

OpenMessage BuildOpen(const FsmConfig& config) {
    OpenMessage o;
    o.version = 4;
    o.my_as = config.local_as <= 0xffff ? static_cast<uint16_t>(config.local_as) : kAsTrans;
    o.hold_time = config.hold_time;
    o.bgp_id = config.local_bgp_id;
    // Capabilities in ascending code order.
    for (size_t i = 1; i < kFamilyCount; ++i) {
        if (!config.families.test(i)) continue;
        AfiSafi as = ToAfiSafi(static_cast<Family>(i));
        o.capabilities.push_back(MultiprotocolCap{as.afi, as.safi});
    }
    if (config.route_refresh) o.capabilities.push_back(RouteRefreshCap{});
    if (config.extended_message) o.capabilities.push_back(ExtendedMessageCap{});
    if (config.graceful_restart) {
        GracefulRestartCap gr;
        gr.restart_time = config.graceful_restart_time;
        for (size_t i = 1; i < kFamilyCount; ++i) {
            if (!config.graceful_restart_families.test(i) || !config.families.test(i)) continue;
            AfiSafi as = ToAfiSafi(static_cast<Family>(i));
            gr.entries.push_back({as.afi, as.safi, 0x80});
        }
        o.capabilities.push_back(gr);
    }
    if (config.four_octet_as) o.capabilities.push_back(FourOctetAsCap{config.local_as});
    AddPathCap ap;
    for (size_t i = 1; i < kFamilyCount; ++i) {
        if (!config.families.test(i)) continue;
        uint8_t dir = (config.add_path_receive.test(i) ? AddPathCap::kReceive : 0) |
                      (config.add_path_send.test(i) ? AddPathCap::kSend : 0);
        if (dir == 0) continue;
        AfiSafi as = ToAfiSafi(static_cast<Family>(i));
        ap.entries.push_back({as.afi, as.safi, dir});
    }
    if (!ap.entries.empty()) o.capabilities.push_back(std::move(ap));
    if (config.enhanced_route_refresh) o.capabilities.push_back(EnhancedRouteRefreshCap{});
    return o;
}

// ---------------------------------------------------------------------------
// Collisions

KeepConnection ResolveCollision(uint32_t local_bgp_id, uint32_t remote_bgp_id, uint32_t local_as,
                                uint32_t remote_as) {
    if (local_bgp_id != remote_bgp_id)
        return local_bgp_id > remote_bgp_id ? KeepConnection::kLocallyInitiated
                                            : KeepConnection::kRemotelyInitiated;
    return local_as > remote_as ? KeepConnection::kLocallyInitiated
                                : KeepConnection::kRemotelyInitiated;
}

CollisionOutcome DetectCollision(FsmState existing_state, bool existing_is_outgoing,
                                 uint32_t local_bgp_id, uint32_t remote_bgp_id, uint32_t local_as,
                                 uint32_t remote_as, bool collision_detect_established) {
    switch (existing_state) {
        case FsmState::kOpenConfirm: break;
        case FsmState::kEstablished:
            if (!collision_detect_established) return CollisionOutcome::kDumpNew;
            break;
        default: return CollisionOutcome::kNoCollision;
    }
    const KeepConnection keep = ResolveCollision(local_bgp_id, remote_bgp_id, local_as, remote_as);
    const bool keep_existing = (keep == KeepConnection::kLocallyInitiated) == existing_is_outgoing;
    return keep_existing ? CollisionOutcome::kDumpNew : CollisionOutcome::kDumpExisting;
}

// ---------------------------------------------------------------------------
// Fsm

Fsm::Fsm(FsmConfig config)
    : config_(std::move(config)),
      local_open_(std::make_shared<const OpenMessage>(BuildOpen(config_))),
      rng_(static_cast<std::mt19937::result_type>(config_.random_seed ^
                                                  (config_.random_seed >> 32))) {}

SessionContext Fsm::decode_context() const {
    return negotiated_ ? negotiated_->context : SessionContext{};
}

double Fsm::Random() {
    if (config_.random) return config_.random();
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

uint32_t Fsm::BackoffMs(uint32_t n) {
    uint64_t base = config_.retry_min_ms;
    for (uint32_t i = 1; i < n && base < config_.retry_max_ms; ++i) base *= 2;
    base = std::min<uint64_t>(base, config_.retry_max_ms);
    const double u = std::clamp(Random(), 0.0, 1.0);
    const double factor = 1.0 + config_.retry_jitter * (2.0 * u - 1.0);
    const double ms = std::round(static_cast<double>(base) * factor);
    return static_cast<uint32_t>(std::clamp(ms, 1.0, 4294967295.0));
}

std::vector<Action> Fsm::Handle(const Event& e) {
    std::vector<Action> out;
    CountIn(e);
    if (e.kind == EventKind::kMessageSent) {
        const auto type = static_cast<size_t>(e.sent_type);
        counters_.messages_out[type < counters_.messages_out.size() ? type : 0]++;
        // RFC 4271 §8.2.2 Established: sending an UPDATE restarts the KeepaliveTimer.
        if (state_ == FsmState::kEstablished && e.sent_type == MessageType::kUpdate &&
            keepalive_running_)
            StartKeepaliveTimer(out);
        return out;
    }
    switch (state_) {
        case FsmState::kIdle: HandleIdle(e, out); break;
        case FsmState::kConnect:
        case FsmState::kActive: HandleConnectOrActive(e, out); break;
        case FsmState::kOpenSent: HandleOpenSent(e, out); break;
        case FsmState::kOpenConfirm: HandleOpenConfirm(e, out); break;
        case FsmState::kEstablished: HandleEstablished(e, out); break;
    }
    return out;
}

void Fsm::HandleIdle(const Event& e, std::vector<Action>& out) {
    switch (e.kind) {
        case EventKind::kManualStart:
        case EventKind::kManualStartPassive:
            enabled_ = true;
            passive_start_ = e.kind == EventKind::kManualStartPassive;
            connect_retry_counter_ = 0;
            Start(out);
            break;
        case EventKind::kAutomaticStart:
            // A reconnect scheduled before a ManualStop is dropped here.
            if (enabled_) Start(out);
            break;
        case EventKind::kManualStop:
            enabled_ = false;
            connect_retry_counter_ = 0;
            break;
        case EventKind::kTcpConnectionValid:
        case EventKind::kTcpCrAcked:
        case EventKind::kTcpConnectionConfirmed:
            // Idle refuses connections.
            Emit(out, ActionKind::kDisconnect);
            break;
        default:
            // RFC 4271 §8.2.2: any other event leaves Idle unchanged.
            break;
    }
}

void Fsm::Start(std::vector<Action>& out) {
    if (config_.passive || passive_start_) {
        ToState(FsmState::kActive);
        if (!config_.passive) StartConnectRetryTimer(out);
        return;
    }
    ToState(FsmState::kConnect);
    StartConnectRetryTimer(out);
    Emit(out, ActionKind::kConnect);
    transport_ = Transport::kConnecting;
}

void Fsm::HandleConnectOrActive(const Event& e, std::vector<Action>& out) {
    const bool connect = state_ == FsmState::kConnect;
    const std::string where{FsmStateName(state_)};
    auto maybe_notify = [&](const NotificationMessage& m) -> std::optional<NotificationMessage> {
        if (config_.send_notification_without_open && transport_ == Transport::kUp) return m;
        return std::nullopt;
    };
    auto fail = [&](std::optional<NotificationMessage> send, std::string reason) {
        ++connect_retry_counter_;
        RecordError(reason, send ? send->code : 0, send ? send->subcode : 0, send.has_value());
        GoIdle(std::move(send), std::move(reason), Restart::kYes, out);
    };

    switch (e.kind) {
        case EventKind::kManualStart:
        case EventKind::kManualStartPassive:
        case EventKind::kAutomaticStart:
            break;  // already started
        case EventKind::kManualStop: {
            enabled_ = false;
            connect_retry_counter_ = 0;
            std::optional<NotificationMessage> send;
            if (delay_open_running_) send = maybe_notify(e.notification);
            GoIdle(std::move(send), "administratively stopped", Restart::kNo, out);
            break;
        }
        case EventKind::kConnectRetryTimerExpires:
            connect_retry_running_ = false;
            if (config_.passive) break;  // never armed by a passive Fsm: stale
            StopTimer(ActionKind::kStopDelayOpenTimer, delay_open_running_, out);
            if (transport_ != Transport::kNone) Emit(out, ActionKind::kDisconnect);
            transport_ = Transport::kNone;
            if (connect) ++connect_retry_counter_;  // the attempt timed out
            ToState(FsmState::kConnect);
            StartConnectRetryTimer(out);
            Emit(out, ActionKind::kConnect);
            transport_ = Transport::kConnecting;
            break;
        case EventKind::kDelayOpenTimerExpires:
            if (!delay_open_running_ || transport_ != Transport::kUp) {
                fail(std::nullopt, fmt::format("unexpected {} in {}", EventKindName(e.kind), where));
                break;
            }
            delay_open_running_ = false;
            SendOpenAndWait(out);
            break;
        case EventKind::kTcpConnectionValid:
            break;  // the executor has accepted it; Tcp*Confirmed follows
        case EventKind::kTcpCrAcked:
        case EventKind::kTcpConnectionConfirmed:
            transport_ = Transport::kUp;
            if (config_.delay_open_time > 0) {
                StopTimer(ActionKind::kStopConnectRetryTimer, connect_retry_running_, out);
                Action a;
                a.kind = ActionKind::kStartDelayOpenTimer;
                a.seconds = config_.delay_open_time;
                out.push_back(std::move(a));
                delay_open_running_ = true;
            } else {
                SendOpenAndWait(out);
            }
            break;
        case EventKind::kTcpConnectionFails:
            transport_ = Transport::kNone;
            if (connect && delay_open_running_) {
                StopTimer(ActionKind::kStopDelayOpenTimer, delay_open_running_, out);
                ToState(FsmState::kActive);
                if (!config_.passive) StartConnectRetryTimer(out);
                break;
            }
            fail(std::nullopt, fmt::format("TCP connection failed in {}", where));
            break;
        case EventKind::kBgpOpen: {
            if (!delay_open_running_) {
                fail(std::nullopt, fmt::format("unexpected OPEN in {}", where));
                break;
            }
            std::string why;
            if (auto err = AcceptOpen(e.open, why)) {
                fail(maybe_notify(*err), std::move(why));
                break;
            }
            StopTimer(ActionKind::kStopConnectRetryTimer, connect_retry_running_, out);
            StopTimer(ActionKind::kStopDelayOpenTimer, delay_open_running_, out);
            Action open;
            open.kind = ActionKind::kSendOpen;
            open.open = local_open_;
            out.push_back(std::move(open));
            counters_.messages_out[static_cast<size_t>(MessageType::kOpen)]++;
            ConfirmOpen(out);
            break;
        }
        case EventKind::kBgpHeaderErr:
        case EventKind::kBgpOpenMsgErr:
            fail(maybe_notify(e.notification),
                 fmt::format("{} in {}: {}", EventKindName(e.kind), where, e.reason));
            break;
        case EventKind::kNotifMsgVerErr: {
            // The RFC leaves the ConnectRetryCounter alone here.
            RecordError(fmt::format("NOTIFICATION received in {}: {}", where,
                                    Describe(e.notification)),
                        e.notification.code, e.notification.subcode, false);
            GoIdle(std::nullopt, "NOTIFICATION (version error) received", Restart::kYes, out);
            break;
        }
        case EventKind::kOpenCollisionDump:
            GoIdle(std::nullopt, "connection collision", Restart::kNo, out);
            break;
        default:
            // AutomaticStop, HoldTimer, KeepaliveTimer, NotifMsg, KeepAliveMsg,
            // UpdateMsg, UpdateMsgErr, RouteRefreshMsg: release and go Idle,
            // without NOTIFICATION (no OPEN was sent).
            fail(std::nullopt, fmt::format("unexpected {} in {}", EventKindName(e.kind), where));
            break;
    }
}

void Fsm::SendOpenAndWait(std::vector<Action>& out) {
    StopTimer(ActionKind::kStopConnectRetryTimer, connect_retry_running_, out);
    StopTimer(ActionKind::kStopDelayOpenTimer, delay_open_running_, out);
    Action open;
    open.kind = ActionKind::kSendOpen;
    open.open = local_open_;
    out.push_back(std::move(open));
    counters_.messages_out[static_cast<size_t>(MessageType::kOpen)]++;
    StartHoldTimer(kOpenSentHoldTime, out);
    ToState(FsmState::kOpenSent);
}

std::optional<NotificationMessage> Fsm::AcceptOpen(const OpenMessage& open, std::string& why) {
    if (open.version != 4) {
        why = fmt::format("unsupported BGP version {}", open.version);
        return MakeNotification(notif::kOpenMessageError, notif::kUnsupportedVersion, Bytes{0, 4});
    }
    const uint32_t peer_as = open.AsNumber();
    if (peer_as == 0 || (config_.peer_as != 0 && peer_as != config_.peer_as)) {
        why = fmt::format("bad peer AS {} (expected {})", peer_as, config_.peer_as);
        return MakeNotification(notif::kOpenMessageError, notif::kBadPeerAs);
    }
    if (open.hold_time == 1 || open.hold_time == 2) {
        why = fmt::format("unacceptable hold time {}", open.hold_time);
        return MakeNotification(notif::kOpenMessageError, notif::kUnacceptableHoldTime);
    }
    if (open.bgp_id == 0) {
        why = "BGP identifier 0.0.0.0";
        return MakeNotification(notif::kOpenMessageError, notif::kBadBgpId);
    }
    if (peer_as == config_.local_as && open.bgp_id == config_.local_bgp_id) {
        why = fmt::format("iBGP peer uses our BGP identifier {:#010x}", open.bgp_id);
        return MakeNotification(notif::kOpenMessageError, notif::kBadBgpId);
    }
    NegotiatedSession n = Negotiate(*local_open_, open);
    if (n.families.none()) {
        // RFC 5492 §5: the data lists the capabilities we needed.
        Bytes data;
        Writer w(data);
        for (const auto& c : local_open_->capabilities)
            if (std::holds_alternative<MultiprotocolCap>(c)) EncodeCapability(c, w);
        why = "no address family in common";
        return MakeNotification(notif::kOpenMessageError, notif::kUnsupportedCapability, std::move(data));
    }
    if (config_.keepalive_time > 0 && config_.keepalive_time < n.keepalive_time)
        n.keepalive_time = config_.keepalive_time;
    negotiated_ = std::make_shared<const NegotiatedSession>(std::move(n));
    return std::nullopt;
}

void Fsm::ConfirmOpen(std::vector<Action>& out) {
    SendKeepalive(out);
    if (negotiated_->hold_time > 0) {
        StartKeepaliveTimer(out);
        StartHoldTimer(negotiated_->hold_time, out);
    } else {
        StopTimer(ActionKind::kStopHoldTimer, hold_running_, out);
    }
    ToState(FsmState::kOpenConfirm);
}

void Fsm::HandleOpenSent(const Event& e, std::vector<Action>& out) {
    switch (e.kind) {
        case EventKind::kManualStart:
        case EventKind::kManualStartPassive:
        case EventKind::kAutomaticStart:
        case EventKind::kTcpConnectionValid:
        case EventKind::kTcpCrAcked:
        case EventKind::kTcpConnectionConfirmed:
            // Already started; a second connection is the executor's to track.
            break;
        case EventKind::kTcpConnectionFails:
            transport_ = Transport::kNone;
            StopTimer(ActionKind::kStopHoldTimer, hold_running_, out);
            RecordError("TCP connection failed in OpenSent", 0, 0, false);
            ToState(FsmState::kActive);
            if (!config_.passive) StartConnectRetryTimer(out);
            break;
        case EventKind::kBgpOpen: {
            std::string why;
            if (auto err = AcceptOpen(e.open, why)) {
                ++connect_retry_counter_;
                RecordError(why, err->code, err->subcode, true);
                GoIdle(std::move(err), std::move(why), Restart::kYes, out);
                break;
            }
            StopTimer(ActionKind::kStopDelayOpenTimer, delay_open_running_, out);
            StopTimer(ActionKind::kStopConnectRetryTimer, connect_retry_running_, out);
            ConfirmOpen(out);
            break;
        }
        default: HandleOpenedCommon(e, out); break;
    }
}

void Fsm::HandleOpenConfirm(const Event& e, std::vector<Action>& out) {
    switch (e.kind) {
        case EventKind::kManualStart:
        case EventKind::kManualStartPassive:
        case EventKind::kAutomaticStart:
        case EventKind::kTcpConnectionValid:
        case EventKind::kTcpCrAcked:
        case EventKind::kTcpConnectionConfirmed:
            break;
        case EventKind::kKeepaliveTimerExpires:
            if (!keepalive_running_) break;  // hold time 0: never armed
            SendKeepalive(out);
            StartKeepaliveTimer(out);
            break;
        case EventKind::kKeepAliveMsg: {
            if (negotiated_->hold_time > 0) StartHoldTimer(negotiated_->hold_time, out);
            ToState(FsmState::kEstablished);
            counters_.established++;
            connect_retry_counter_ = 0;  // success resets the back-off
            Action up;
            up.kind = ActionKind::kSessionEstablished;
            up.session = negotiated_;
            out.push_back(std::move(up));
            break;
        }
        default: HandleOpenedCommon(e, out); break;
    }
}

void Fsm::HandleEstablished(const Event& e, std::vector<Action>& out) {
    auto restart_hold = [&] {
        if (negotiated_->hold_time > 0) StartHoldTimer(negotiated_->hold_time, out);
    };
    switch (e.kind) {
        case EventKind::kManualStart:
        case EventKind::kManualStartPassive:
        case EventKind::kAutomaticStart:
        case EventKind::kTcpConnectionValid:
        case EventKind::kTcpCrAcked:
        case EventKind::kTcpConnectionConfirmed:
            break;
        case EventKind::kKeepaliveTimerExpires:
            if (!keepalive_running_) break;  // hold time 0: never armed
            SendKeepalive(out);
            StartKeepaliveTimer(out);
            break;
        case EventKind::kKeepAliveMsg: restart_hold(); break;
        case EventKind::kUpdateMsg:
            restart_hold();
            Emit(out, ActionKind::kDeliverUpdate);
            break;
        case EventKind::kRouteRefreshMsg: {
            restart_hold();
            const NegotiatedSession& n = *negotiated_;
            const RouteRefreshMessage& rr = e.route_refresh;
            const Family f = FamilyFromAfiSafi(rr.afi, rr.safi);
            // RFC 2918 §4 / RFC 7313 §5: ignore a refresh for a family not
            // negotiated, and BoRR/EoRR without enhanced route refresh.
            const bool capable = n.route_refresh || n.enhanced_route_refresh;
            const bool subtype_ok =
                rr.subtype == RouteRefreshMessage::kNormal ||
                (n.enhanced_route_refresh && rr.subtype <= RouteRefreshMessage::kEndOfRib);
            if (capable && subtype_ok && f != Family::kUnknown && n.families.test(FamilyIndex(f)))
                Emit(out, ActionKind::kDeliverRouteRefresh);
            break;
        }
        case EventKind::kBgpOpenMsgErr:
            // Any OPEN in Established is unexpected, well formed or not.
            FsmError(e, out);
            break;
        default: HandleOpenedCommon(e, out); break;
    }
}

// Events handled alike in OpenSent, OpenConfirm and Established.
void Fsm::HandleOpenedCommon(const Event& e, std::vector<Action>& out) {
    const std::string where{FsmStateName(state_)};
    switch (e.kind) {
        case EventKind::kManualStop:
            enabled_ = false;
            connect_retry_counter_ = 0;
            GoIdle(e.notification, "administratively stopped", Restart::kNo, out);
            break;
        case EventKind::kAutomaticStop: {
            ++connect_retry_counter_;
            std::string why = fmt::format("automatic stop: {}", e.reason);
            RecordError(why, e.notification.code, e.notification.subcode, true);
            GoIdle(e.notification, std::move(why), Restart::kYes, out);
            break;
        }
        case EventKind::kHoldTimerExpires: {
            hold_running_ = false;
            ++connect_retry_counter_;
            std::string why = fmt::format("hold timer expired in {}", where);
            RecordError(why, notif::kHoldTimerExpired, 0, true);
            GoIdle(MakeNotification(notif::kHoldTimerExpired, 0), std::move(why), Restart::kYes,
                   out);
            break;
        }
        case EventKind::kTcpConnectionFails: {
            // OpenSent handles this itself (→ Active).
            transport_ = Transport::kNone;
            ++connect_retry_counter_;
            std::string why = fmt::format("TCP connection failed in {}", where);
            RecordError(why, 0, 0, false);
            GoIdle(std::nullopt, std::move(why), Restart::kYes, out);
            break;
        }
        case EventKind::kNotifMsg:
        case EventKind::kNotifMsgVerErr: {
            if (e.kind == EventKind::kNotifMsg) ++connect_retry_counter_;
            std::string why = fmt::format("NOTIFICATION received in {}: {}", where,
                                          Describe(e.notification));
            RecordError(why, e.notification.code, e.notification.subcode, false);
            GoIdle(std::nullopt, std::move(why), Restart::kYes, out);
            break;
        }
        case EventKind::kBgpHeaderErr:
        case EventKind::kBgpOpenMsgErr:
        case EventKind::kUpdateMsgErr: {
            if (e.kind == EventKind::kUpdateMsgErr && state_ != FsmState::kEstablished) {
                FsmError(e, out);
                break;
            }
            ++connect_retry_counter_;
            std::string why = fmt::format("{} in {}: {}", EventKindName(e.kind), where, e.reason);
            RecordError(why, e.notification.code, e.notification.subcode, true);
            GoIdle(e.notification, std::move(why), Restart::kYes, out);
            break;
        }
        case EventKind::kOpenCollisionDump: {
            ++connect_retry_counter_;
            std::string why = fmt::format("connection collision in {}", where);
            RecordError(why, notif::kCease, notif::kConnectionCollision, true);
            GoIdle(MakeNotification(notif::kCease, notif::kConnectionCollision), std::move(why),
                   Restart::kNo, out);
            break;
        }
        default:
            // ConnectRetryTimer, DelayOpenTimer, and per state the messages
            // that may not arrive there (RFC 6608).
            FsmError(e, out);
            break;
    }
}

void Fsm::FsmError(const Event& e, std::vector<Action>& out) {
    uint8_t subcode = 0;
    switch (state_) {
        case FsmState::kOpenSent: subcode = 1; break;
        case FsmState::kOpenConfirm: subcode = 2; break;
        case FsmState::kEstablished: subcode = 3; break;
        default: break;
    }
    ++connect_retry_counter_;
    std::string why = fmt::format("FSM error: unexpected {} in {}", EventKindName(e.kind),
                                  FsmStateName(state_));
    RecordError(why, notif::kFsmError, subcode, true);
    GoIdle(MakeNotification(notif::kFsmError, subcode), std::move(why), Restart::kYes, out);
}

void Fsm::GoIdle(std::optional<NotificationMessage> send, std::string reason, Restart restart,
                 std::vector<Action>& out) {
    const bool was_established = state_ == FsmState::kEstablished;
    if (send) SendNotification(std::move(*send), out);
    StopTimer(ActionKind::kStopConnectRetryTimer, connect_retry_running_, out);
    StopTimer(ActionKind::kStopHoldTimer, hold_running_, out);
    StopTimer(ActionKind::kStopKeepaliveTimer, keepalive_running_, out);
    StopTimer(ActionKind::kStopDelayOpenTimer, delay_open_running_, out);
    if (transport_ != Transport::kNone) Emit(out, ActionKind::kDisconnect);
    transport_ = Transport::kNone;
    Action down;
    down.kind = ActionKind::kSessionDown;
    down.reason = std::move(reason);
    down.was_established = was_established;
    out.push_back(std::move(down));
    if (was_established) counters_.flaps++;
    negotiated_.reset();
    ToState(FsmState::kIdle);
    if (restart == Restart::kYes && enabled_) {
        Action again;
        again.kind = ActionKind::kScheduleAutomaticStart;
        // A passive Fsm's Idle only refuses the peer's connections: after an
        // Established session it listens again at once (the peer is usually
        // dialling back already, e.g. a client reconnecting to its RR); the
        // back-off still applies to sessions that fail before Established.
        const bool listen_now = was_established && (config_.passive || passive_start_);
        again.delay_ms = listen_now ? 0 : BackoffMs(connect_retry_counter_);
        out.push_back(std::move(again));
    }
}

void Fsm::ToState(FsmState s) {
    if (s == state_) return;
    state_ = s;
    counters_.transitions++;
}

void Fsm::Emit(std::vector<Action>& out, ActionKind kind) {
    Action a;
    a.kind = kind;
    out.push_back(std::move(a));
}

void Fsm::StartConnectRetryTimer(std::vector<Action>& out) {
    Action a;
    a.kind = ActionKind::kStartConnectRetryTimer;
    a.delay_ms = BackoffMs(connect_retry_counter_);
    out.push_back(std::move(a));
    connect_retry_running_ = true;
}

void Fsm::StartHoldTimer(uint32_t seconds, std::vector<Action>& out) {
    Action a;
    a.kind = ActionKind::kStartHoldTimer;
    a.seconds = seconds;
    out.push_back(std::move(a));
    hold_running_ = true;
}

void Fsm::StartKeepaliveTimer(std::vector<Action>& out) {
    Action a;
    a.kind = ActionKind::kStartKeepaliveTimer;
    a.seconds = negotiated_->keepalive_time;
    out.push_back(std::move(a));
    keepalive_running_ = true;
}

void Fsm::StopTimer(ActionKind stop, bool& running, std::vector<Action>& out) {
    if (!running) return;
    running = false;
    Emit(out, stop);
}

void Fsm::SendNotification(NotificationMessage m, std::vector<Action>& out) {
    Action a;
    a.kind = ActionKind::kSendNotification;
    a.notification = std::move(m);
    out.push_back(std::move(a));
    counters_.messages_out[static_cast<size_t>(MessageType::kNotification)]++;
}

void Fsm::SendKeepalive(std::vector<Action>& out) {
    Emit(out, ActionKind::kSendKeepalive);
    counters_.messages_out[static_cast<size_t>(MessageType::kKeepalive)]++;
}

void Fsm::RecordError(std::string text, uint8_t code, uint8_t subcode, bool sent) {
    counters_.last_error = FsmCounters::LastError{std::move(text), code, subcode, sent};
}

void Fsm::CountIn(const Event& e) {
    auto count = [&](MessageType t) { counters_.messages_in[static_cast<size_t>(t)]++; };
    switch (e.kind) {
        case EventKind::kBgpOpen:
        case EventKind::kBgpOpenMsgErr: count(MessageType::kOpen); break;
        case EventKind::kUpdateMsg:
        case EventKind::kUpdateMsgErr: count(MessageType::kUpdate); break;
        case EventKind::kNotifMsg:
        case EventKind::kNotifMsgVerErr: count(MessageType::kNotification); break;
        case EventKind::kKeepAliveMsg: count(MessageType::kKeepalive); break;
        case EventKind::kRouteRefreshMsg: count(MessageType::kRouteRefresh); break;
        case EventKind::kBgpHeaderErr: counters_.messages_in[0]++; break;
        default: break;
    }
}

}  // namespace bagpipe::bgp
