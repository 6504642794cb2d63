// RFC 2385 TCP-MD5: error values from SetTcpMd5Key, then two sessions on
// loopback that establish with the same password and never connect with
// different ones. Skipped, with the errno, if the kernel refuses TCP_MD5SIG.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "bgp/session/listener.h"
#include "bgp/session/peer_session.h"
#include "bgp/session/tcp_md5.h"
#include "test_peer.h"

namespace bagpipe::bgp {
namespace {

using namespace session_test;  // NOLINT(build/namespaces): test fixtures

class TcpMd5Test : public ::testing::Test {
protected:
    void SetUp() override { spdlog::set_level(spdlog::level::critical); }
    void TearDown() override { spdlog::set_level(spdlog::level::info); }

    // Empty when the kernel takes a key on a loopback socket; else why not.
    std::string KernelRefusal() {
        boost::asio::ip::tcp::socket probe(io);
        probe.open(boost::asio::ip::tcp::v4());
        std::error_code ec = SetTcpMd5Key(probe.native_handle(), Ip("127.0.40.1"), "probe");
        return ec ? DescribeTcpMd5Error(Ip("127.0.40.1"), ec) : "";
    }

    boost::asio::io_context io;
};

TEST_F(TcpMd5Test, ErrorsAreValues) {
    boost::asio::ip::tcp::socket v4(io);
    v4.open(boost::asio::ip::tcp::v4());
    EXPECT_EQ(SetTcpMd5Key(v4.native_handle(), Ip("127.0.40.1"), std::string(81, 'k')),
              std::make_error_code(std::errc::invalid_argument));
    EXPECT_EQ(SetTcpMd5Key(v4.native_handle(), Ip("2001:db8::1"), "key"),
              std::make_error_code(std::errc::address_family_not_supported));
    const std::error_code bad_fd = SetTcpMd5Key(-1, Ip("127.0.40.1"), "key");
    EXPECT_EQ(bad_fd.value(), EBADF);
    EXPECT_NE(DescribeTcpMd5Error(Ip("127.0.40.1"), bad_fd).find("errno 9"), std::string::npos);
    // Removing a key that was never set is fine.
    EXPECT_FALSE(SetTcpMd5Key(v4.native_handle(), Ip("127.0.40.1"), ""));
}

TEST_F(TcpMd5Test, SamePasswordEstablishes) {
    if (std::string why = KernelRefusal(); !why.empty()) GTEST_SKIP() << why;
    BgpListener listener(io.get_executor());
    ASSERT_FALSE(listener.Listen({Ip("127.0.41.2"), 0}));
    Recorder ra, rb;
    PeerSessionConfig cb = LoopbackConfig("127.0.41.2", "127.0.41.1", 0, 65002, 65001, 0x02020202, true);
    cb.md5_password = "s3cret-Pa55";
    PeerSession b(io.get_executor(), cb, rb);
    ASSERT_FALSE(listener.AddPeer(b));
    PeerSessionConfig ca =
        LoopbackConfig("127.0.41.1", "127.0.41.2", listener.port(), 65001, 65002, 0x01010101);
    ca.md5_password = "s3cret-Pa55";
    PeerSession a(io.get_executor(), ca, ra);
    b.Start();
    a.Start();
    ASSERT_TRUE(RunUntil(io, [&] { return a.established() && b.established(); }));

    // A peer without the key cannot even connect: the kernel drops its SYNs.
    boost::asio::ip::tcp::socket unsigned_peer(io);
    unsigned_peer.open(boost::asio::ip::tcp::v4());
    unsigned_peer.bind({Ip("127.0.41.1"), 0});
    unsigned_peer.non_blocking(true);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(listener.port());
    to.sin_addr.s_addr = htonl(Ip("127.0.41.2").to_v4().to_uint());
    EXPECT_EQ(::connect(unsigned_peer.native_handle(), reinterpret_cast<sockaddr*>(&to), sizeof(to)),
              -1);
    EXPECT_EQ(errno, EINPROGRESS);
    RunFor(io, 200ms);
    EXPECT_EQ(listener.accepted(), 1u);
    EXPECT_TRUE(a.established() && b.established());
}

TEST_F(TcpMd5Test, DifferentPasswordsNeverConnect) {
    if (std::string why = KernelRefusal(); !why.empty()) GTEST_SKIP() << why;
    BgpListener listener(io.get_executor());
    ASSERT_FALSE(listener.Listen({Ip("127.0.42.2"), 0}));
    Recorder ra, rb;
    PeerSessionConfig cb = LoopbackConfig("127.0.42.2", "127.0.42.1", 0, 65002, 65001, 0x02020202, true);
    cb.md5_password = "one password";
    PeerSession b(io.get_executor(), cb, rb);
    ASSERT_FALSE(listener.AddPeer(b));
    PeerSessionConfig ca =
        LoopbackConfig("127.0.42.1", "127.0.42.2", listener.port(), 65001, 65002, 0x01010101);
    ca.md5_password = "another password";
    PeerSession a(io.get_executor(), ca, ra);
    b.Start();
    a.Start();
    RunFor(io, 600ms);  // several connect-retry periods
    EXPECT_FALSE(a.established());
    EXPECT_FALSE(b.established());
    EXPECT_EQ(listener.accepted(), 0u);
    EXPECT_EQ(ra.established + rb.established, 0);
    EXPECT_EQ(a.state(), FsmState::kConnect);  // still trying
}

}  // namespace
}  // namespace bagpipe::bgp
