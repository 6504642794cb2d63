#include "bgp/session/listener.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <utility>

#include "bgp/session/tcp_md5.h"

namespace bagpipe::bgp {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

BgpListener::BgpListener(asio::any_io_executor executor)
    : executor_(std::move(executor)), state_(std::make_shared<State>(executor_)) {}

BgpListener::~BgpListener() { Close(); }

asio::ip::address BgpListener::Normalize(const asio::ip::address& a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    return a;
}

std::error_code BgpListener::Listen(const tcp::endpoint& local) {
    State& s = *state_;
    if (!s.closed) return std::make_error_code(std::errc::already_connected);
    error_code ec;
    auto fail = [&](const char* step) {
        spdlog::error("bgp listener {}:{}: {}: {}", local.address().to_string(), local.port(), step,
                      ec.message());
        s.acceptor.close();
        return std::error_code(ec.value(), std::system_category());
    };
    s.acceptor.open(local.protocol(), ec);
    if (ec) return fail("socket");
    s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) return fail("SO_REUSEADDR");
    s.acceptor.bind(local, ec);
    if (ec) return fail("bind");
    s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return fail("listen");
    s.closed = false;
    ++s.generation;
    for (const auto& [address, peer] : s.peers) {
        if (peer.md5_password.empty()) continue;
        if (std::error_code e = InstallKey(address, peer.md5_password))
            spdlog::error("bgp listener: {}", DescribeTcpMd5Error(address, e));
    }
    spdlog::info("bgp listener on {}:{}", local.address().to_string(), local_endpoint().port());
    asio::co_spawn(executor_, AcceptLoop(state_, s.generation), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    return {};
}

void BgpListener::Close() {
    State& s = *state_;
    if (s.closed) return;
    s.closed = true;
    error_code ignored;
    s.acceptor.close(ignored);
    s.retry.cancel();
}

bool BgpListener::listening() const { return !state_->closed; }

tcp::endpoint BgpListener::local_endpoint() const {
    error_code ec;
    tcp::endpoint ep = state_->acceptor.local_endpoint(ec);
    return ec ? tcp::endpoint() : ep;
}

uint64_t BgpListener::refused() const { return state_->refused; }
uint64_t BgpListener::accepted() const { return state_->accepted; }

std::error_code BgpListener::InstallKey(const asio::ip::address& peer,
                                        const std::string& password) {
    if (state_->closed) return {};
    return SetTcpMd5Key(state_->acceptor.native_handle(), peer, password);
}

std::error_code BgpListener::AddPeer(PeerSession& session) {
    const asio::ip::address address = Normalize(session.config().peer_address);
    Peer& peer = state_->peers[address];
    const std::string old_password = peer.md5_password;
    peer = Peer{&session, session.lifetime(), session.config().md5_password};
    if (peer.md5_password.empty() && old_password.empty()) return {};
    std::error_code e = InstallKey(address, peer.md5_password);
    if (e) spdlog::error("bgp listener: {}", DescribeTcpMd5Error(address, e));
    return e;
}

void BgpListener::RemovePeer(const asio::ip::address& address) {
    const asio::ip::address a = Normalize(address);
    auto it = state_->peers.find(a);
    if (it == state_->peers.end()) return;
    if (!it->second.md5_password.empty()) InstallKey(a, "");
    state_->peers.erase(it);
}

asio::awaitable<void> BgpListener::AcceptLoop(std::shared_ptr<State> state,
                                              uint64_t generation) {
    auto done = [&] { return state->closed || state->generation != generation; };
    while (!done()) {
        error_code ec;
        tcp::socket socket = co_await state->acceptor.async_accept(
            asio::redirect_error(asio::use_awaitable, ec));
        if (done()) break;
        if (ec) {
            // E.g. EMFILE: log, pause briefly instead of spinning.
            spdlog::warn("bgp listener: accept: {}", ec.message());
            state->retry.expires_after(std::chrono::milliseconds(100));
            co_await state->retry.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        const tcp::endpoint remote = socket.remote_endpoint(ec);
        if (ec) continue;  // reset before we got to it
        const asio::ip::address from = Normalize(remote.address());
        auto it = state->peers.find(from);
        if (it == state->peers.end() || it->second.lifetime.expired()) {
            ++state->refused;
            spdlog::warn("bgp listener: connection from {} port {} refused: not a configured peer",
                         from.to_string(), remote.port());
            socket.close(ec);
            continue;
        }
        ++state->accepted;
        it->second.session->Accept(std::move(socket));
    }
}

}  // namespace bagpipe::bgp
