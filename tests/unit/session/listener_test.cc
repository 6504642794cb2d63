// BgpListener on loopback: an ephemeral port, hand-over to the configured
// peer's session, immediate close (and a warning naming the address) for any
// other source address or for a session that no longer exists.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "bgp/session/listener.h"
#include "bgp/session/peer_session.h"
#include "session_test_util.h"
#include "test_peer.h"

namespace bagpipe::bgp {
namespace {

using namespace session_test;  // NOLINT(build/namespaces): test fixtures

// Captures the default logger's output for the test's duration.
class ListenerTest : public ::testing::Test {
protected:
    void SetUp() override {
        previous_ = spdlog::default_logger();
        sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
        auto logger = std::make_shared<spdlog::logger>("listener-test", sink_);
        logger->set_level(spdlog::level::info);
        spdlog::set_default_logger(logger);
    }
    void TearDown() override { spdlog::set_default_logger(previous_); }

    bool Logged(spdlog::level::level_enum level, const std::string& needle) const {
        for (const auto& line : sink_->last_formatted()) {
            if (line.find(needle) == std::string::npos) continue;
            if (line.find(std::string(spdlog::level::to_string_view(level).data(),
                                      spdlog::level::to_string_view(level).size())) !=
                std::string::npos)
                return true;
        }
        return false;
    }

    boost::asio::io_context io;
    std::shared_ptr<spdlog::logger> previous_;
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

TEST_F(ListenerTest, RefusesUnconfiguredAddressAtOnce) {
    BgpListener listener(io.get_executor());
    ASSERT_FALSE(listener.Listen({Ip("127.0.30.2"), 0}));
    const uint16_t port = listener.port();
    ASSERT_NE(port, 0);
    Recorder r;
    PeerSession s(io.get_executor(),
                  LoopbackConfig("127.0.30.2", "127.0.30.1", 0, 65002, 65001, 0x02020202, true), r);
    ASSERT_FALSE(listener.AddPeer(s));
    s.Start();

    TestPeer stranger(io, "127.0.30.99");
    ASSERT_TRUE(stranger.Connect({Ip("127.0.30.2"), port}));
    const auto since = std::chrono::steady_clock::now();
    EXPECT_TRUE(stranger.WaitClosed(500ms));
    EXPECT_LT(std::chrono::steady_clock::now() - since, 200ms);
    EXPECT_FALSE(stranger.Receive(10ms).has_value());  // not even an OPEN
    EXPECT_EQ(listener.refused(), 1u);
    EXPECT_EQ(listener.accepted(), 0u);
    EXPECT_TRUE(Logged(spdlog::level::warn, "127.0.30.99"));
    EXPECT_EQ(s.state(), FsmState::kActive);
    EXPECT_TRUE(r.downs.empty());

    // The configured address is handed over: the session answers with its OPEN.
    TestPeer configured(io, "127.0.30.1");
    ASSERT_TRUE(configured.Connect({Ip("127.0.30.2"), port}));
    auto open = configured.ReceiveType(MessageType::kOpen);
    ASSERT_TRUE(open.has_value());
    EXPECT_EQ(std::get<OpenMessage>(*open).bgp_id, 0x02020202u);
    EXPECT_EQ(listener.accepted(), 1u);
    EXPECT_EQ(s.state(), FsmState::kOpenSent);
}

TEST_F(ListenerTest, DestroyedSessionIsRefusedLikeAStranger) {
    BgpListener listener(io.get_executor());
    ASSERT_FALSE(listener.Listen({Ip("127.0.31.2"), 0}));
    Recorder r;
    auto s = std::make_unique<PeerSession>(
        io.get_executor(),
        LoopbackConfig("127.0.31.2", "127.0.31.1", 0, 65002, 65001, 0x02020202, true), r);
    listener.AddPeer(*s);
    s->Start();
    s.reset();
    TestPeer peer(io, "127.0.31.1");
    ASSERT_TRUE(peer.Connect({Ip("127.0.31.2"), listener.port()}));
    EXPECT_TRUE(peer.WaitClosed(500ms));
    EXPECT_EQ(listener.refused(), 1u);
}

// A passive session that lost its peer waits to restart (the connect-retry
// back-off); the peer's new connection restarts it at once instead of being
// refused for the whole back-off (a flapping client reconnects in ~0 s).
TEST_F(ListenerTest, ReconnectWhileWaitingToRestartIsAccepted) {
    BgpListener listener(io.get_executor());
    ASSERT_FALSE(listener.Listen({Ip("127.0.33.2"), 0}));
    Recorder r;
    PeerSessionConfig cfg = LoopbackConfig("127.0.33.2", "127.0.33.1", 0, 65002, 65001, 0x02020202, true);
    cfg.fsm.retry_min_ms = 60'000;  // a long wait: the test must not depend on it
    cfg.fsm.retry_max_ms = 120'000;
    PeerSession s(io.get_executor(), cfg, r);
    ASSERT_FALSE(listener.AddPeer(s));
    s.Start();
    {
        TestPeer first(io, "127.0.33.1");
        ASSERT_TRUE(first.Connect({Ip("127.0.33.2"), listener.port()}));
        ASSERT_TRUE(first.ReceiveType(MessageType::kOpen).has_value());
        first.Send(EncodeOpen(PeerOpen(30, 65001, 0x01010101)));
        first.Send(EncodeKeepalive());
        ASSERT_TRUE(RunUntil(io, [&] { return s.established(); }, 1000ms));
        first.Close();  // the session goes down: Idle until the automatic restart
    }
    ASSERT_TRUE(RunUntil(io, [&] { return s.state() == FsmState::kIdle; }, 1000ms));
    TestPeer second(io, "127.0.33.1");
    ASSERT_TRUE(second.Connect({Ip("127.0.33.2"), listener.port()}));
    const auto since = std::chrono::steady_clock::now();
    auto open = second.ReceiveType(MessageType::kOpen, 1000ms);
    ASSERT_TRUE(open.has_value());
    EXPECT_LT(std::chrono::steady_clock::now() - since, 500ms);
    EXPECT_EQ(s.state(), FsmState::kOpenSent);
}

TEST_F(ListenerTest, CloseStopsAccepting) {
    BgpListener listener(io.get_executor());
    ASSERT_FALSE(listener.Listen({Ip("127.0.32.2"), 0}));
    const uint16_t port = listener.port();
    EXPECT_TRUE(listener.listening());
    listener.Close();
    EXPECT_FALSE(listener.listening());
    RunFor(io, 10ms);
    boost::asio::ip::tcp::socket probe(io);
    boost::system::error_code ec;
    probe.connect({Ip("127.0.32.2"), port}, ec);
    EXPECT_EQ(ec, boost::asio::error::connection_refused);
    // And it can listen again on the same port.
    EXPECT_FALSE(listener.Listen({Ip("127.0.32.2"), port}));
    EXPECT_EQ(listener.port(), port);
}

}  // namespace
}  // namespace bagpipe::bgp
