// Helpers for the PeerSession / BgpListener tests: an event-loop driver, a
// raw BGP peer over a plain socket, a recording SessionListener and session
// configurations on loopback addresses.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bgp/session/peer_session.h"
#include "bgp/wire/message.h"

namespace bagpipe::bgp::session_test {

using namespace std::chrono_literals;  // NOLINT(build/namespaces): test helpers
using boost::asio::ip::tcp;

inline boost::asio::ip::address Ip(const char* text) { return boost::asio::ip::make_address(text); }

// Runs the loop until pred() holds or `timeout` passes; returns pred().
inline bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& pred,
                     std::chrono::milliseconds timeout = 2000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        if (io.stopped()) io.restart();
        if (io.run_one_for(2ms) == 0 && io.stopped()) {
            io.restart();
            std::this_thread::sleep_for(1ms);
        }
    }
    return true;
}

inline void RunFor(boost::asio::io_context& io, std::chrono::milliseconds d) {
    RunUntil(io, [] { return false; }, d);
}

// TestPeer — a raw BGP speaker for tests: a non-blocking socket bound to its
// own 127.x address that writes whatever bytes the test gives and reads whole
// messages. Every wait runs the shared io_context, so the sessions under test
// make progress while the test code stays linear. Executor: the test's
// io_context, used from the test thread only.
class TestPeer {
public:
    TestPeer(boost::asio::io_context& io, const char* local_ip)
        : io_(io), local_(Ip(local_ip)), socket_(io), acceptor_(io) {}

    // Connects from local_ip (ephemeral port) to `remote`; a non-zero
    // receive_buffer sets SO_RCVBUF before the handshake.
    bool Connect(const tcp::endpoint& remote, int receive_buffer = 0) {
        boost::system::error_code ec;
        socket_.open(remote.protocol(), ec);
        if (!ec && receive_buffer > 0)
            socket_.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer), ec);
        if (!ec) socket_.bind(tcp::endpoint(local_, 0), ec);
        if (!ec) socket_.connect(remote, ec);  // loopback: the kernel completes it
        if (!ec) socket_.non_blocking(true, ec);
        if (!ec) socket_.set_option(tcp::no_delay(true), ec);
        if (ec) ADD_FAILURE() << "connect to " << remote << ": " << ec.message();
        return !ec;
    }

    // Listens on local_ip, port 0, with a small receive buffer.
    uint16_t Listen() {
        acceptor_.open(tcp::v4());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.set_option(boost::asio::socket_base::receive_buffer_size(16 * 1024));
        acceptor_.bind(tcp::endpoint(local_, 0));
        acceptor_.listen();
        acceptor_.non_blocking(true);
        return acceptor_.local_endpoint().port();
    }

    bool Accept(std::chrono::milliseconds timeout = 2000ms) {
        bool done = RunUntil(
            io_,
            [&] {
                boost::system::error_code ec;
                acceptor_.accept(socket_, ec);
                return !ec;
            },
            timeout);
        if (done) {
            socket_.non_blocking(true);
            socket_.set_option(tcp::no_delay(true));
        }
        return done;
    }

    // Writes everything, running the loop while the socket is full.
    void Send(ByteView bytes) {
        size_t done = 0;
        RunUntil(
            io_,
            [&] {
                boost::system::error_code ec;
                done += socket_.write_some(
                    boost::asio::buffer(bytes.data() + done, bytes.size() - done), ec);
                if (ec && ec != boost::asio::error::would_block) {
                    ADD_FAILURE() << "send: " << ec.message();
                    return true;
                }
                return done == bytes.size();
            },
            5000ms);
    }

    // The next whole message (KEEPALIVEs skipped unless asked for), or
    // nullopt on timeout or EOF.
    std::optional<Bytes> Receive(std::chrono::milliseconds timeout = 2000ms,
                                 bool keepalives = false) {
        std::optional<Bytes> out;
        auto take = [&] {
            while (auto m = TakeMessage()) {
                if (!keepalives && (*m)[18] == static_cast<uint8_t>(MessageType::kKeepalive)) {
                    ++keepalives_seen_;
                    continue;
                }
                out = std::move(m);
                return true;
            }
            return false;
        };
        RunUntil(
            io_,
            [&] {
                if (take()) return true;
                const bool open = ReadAvailable();
                return take() || !open;
            },
            timeout);
        return out;
    }

    // The next message of `type`, decoded (others are skipped).
    std::optional<Message> ReceiveType(MessageType type,
                                       std::chrono::milliseconds timeout = 2000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto bytes = Receive(std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now()));
            if (!bytes) return std::nullopt;
            if ((*bytes)[18] != static_cast<uint8_t>(type)) continue;
            DecodeResult r = DecodeMessage(*bytes, ctx_);
            return r.message;
        }
        return std::nullopt;
    }

    // True once the peer closed the connection (EOF or reset).
    bool WaitClosed(std::chrono::milliseconds timeout = 2000ms) {
        return RunUntil(io_, [&] { return !ReadAvailable(); }, timeout);
    }

    // Reads whatever is available and consumes the whole messages; returns
    // how many were of `type` (any type when nullopt).
    size_t Drain(std::optional<MessageType> type = std::nullopt) {
        ReadAvailable();
        size_t n = 0;
        while (auto m = TakeMessage())
            if (!type || (*m)[18] == static_cast<uint8_t>(*type)) ++n;
        return n;
    }

    void Close() {
        boost::system::error_code ec;
        socket_.close(ec);
        acceptor_.close(ec);
    }

    // Decoding context for ReceiveType (defaults; set for ADD-PATH etc.).
    void set_context(const SessionContext& ctx) { ctx_ = ctx; }
    tcp::socket& socket() { return socket_; }
    bool eof() const { return eof_; }
    size_t keepalives_seen() const { return keepalives_seen_; }
    tcp::endpoint local_endpoint() const { return socket_.local_endpoint(); }

private:
    // Reads what the socket has; false once it reached EOF or an error.
    bool ReadAvailable() {
        if (eof_) return false;
        uint8_t tmp[65536];
        for (;;) {
            boost::system::error_code ec;
            size_t n = socket_.read_some(boost::asio::buffer(tmp), ec);
            if (ec == boost::asio::error::would_block) return true;
            if (ec) {
                eof_ = true;
                return false;
            }
            buffer_.insert(buffer_.end(), tmp, tmp + n);
        }
    }

    std::optional<Bytes> TakeMessage() {
        FrameResult f = FrameMessage(buffer_, kMaxExtendedMessageSize);
        if (f.error) {
            ADD_FAILURE() << "test peer: bad framing: " << f.error->reason;
            buffer_.clear();
            return std::nullopt;
        }
        if (f.length == 0) return std::nullopt;
        Bytes m(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(f.length));
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(f.length));
        return m;
    }

    boost::asio::io_context& io_;
    boost::asio::ip::address local_;
    tcp::socket socket_;
    tcp::acceptor acceptor_;
    Bytes buffer_;
    SessionContext ctx_;
    bool eof_ = false;
    size_t keepalives_seen_ = 0;
};

// Records every SessionListener call.
struct Recorder : SessionListener {
    struct Down {
        std::string reason;
        bool was_established = false;
    };
    struct Update {
        UpdateMessage message;
        std::optional<DecodeError> error;
    };

    void OnEstablished(PeerSession&, const NegotiatedSession& n) override {
        ++established;
        negotiated = n;
    }
    void OnDown(PeerSession&, std::string_view reason, bool was_established) override {
        downs.push_back({std::string(reason), was_established});
    }
    void OnUpdate(PeerSession&, UpdateMessage&& m, const std::optional<DecodeError>& e) override {
        updates.push_back({std::move(m), e});
    }
    void OnRouteRefresh(PeerSession&, const RouteRefreshMessage& m) override {
        refreshes.push_back(m);
    }
    void OnWritable(PeerSession& s) override {
        ++writable;
        queued_at_writable = s.queued_bytes();
    }

    size_t established_downs() const {
        size_t n = 0;
        for (const auto& d : downs) n += d.was_established;
        return n;
    }

    int established = 0;
    std::optional<NegotiatedSession> negotiated;
    std::vector<Down> downs;
    std::vector<Update> updates;
    std::vector<RouteRefreshMessage> refreshes;
    int writable = 0;
    size_t queued_at_writable = 0;
};

// A session between loopback addresses, timers scaled 1 "second" = 10 ms:
// hold 30 (300 ms), keepalive 10 (100 ms), reconnect back-off from 50 ms.
inline PeerSessionConfig LoopbackConfig(const char* local_ip, const char* peer_ip, uint16_t port,
                                        uint32_t local_as, uint32_t peer_as, uint32_t bgp_id,
                                        bool passive = false) {
    PeerSessionConfig c;
    c.local_address = Ip(local_ip);
    c.peer_address = Ip(peer_ip);
    c.peer_port = port;
    c.time_scale = 10ms;
    c.close_timeout = 1000ms;
    c.fsm.local_as = local_as;
    c.fsm.peer_as = peer_as;
    c.fsm.local_bgp_id = bgp_id;
    c.fsm.hold_time = 30;
    c.fsm.passive = passive;
    c.fsm.families.reset();
    c.fsm.families.set(FamilyIndex(Family::kIpv4Unicast));
    c.fsm.families.set(FamilyIndex(Family::kIpv4Vpn));
    c.fsm.random_seed = bgp_id;  // distinct jitter per side
    return c;
}

}  // namespace bagpipe::bgp::session_test
