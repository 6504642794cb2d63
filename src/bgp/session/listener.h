// The passive side of BGP transport: accepts TCP connections on the BGP port
// and hands each to the PeerSession configured for its source address.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio.hpp>

#include "bgp/session/peer_session.h"

namespace bagpipe::bgp {

// BgpListener — one listening socket (SO_REUSEADDR) on a local address and
// port (179, or 0 for an ephemeral port in tests).
//
// Purpose. Each accepted connection is looked up by its source address among
// the peers added with AddPeer and handed to that PeerSession (Accept); a
// connection from any other address is closed at once and logged (warning,
// with the address). For peers with a TCP-MD5 password, the key is installed
// on the listening socket for the peer's address, so the kernel accepts only
// correctly signed connections from it.
//
// Invariants. The accept loop and its socket live in a shared state that the
// loop owns too, so destroying the listener (or Close) just closes the socket
// and the loop ends on its own. Peers are held by address with the session's
// lifetime() token: a destroyed session is never called, its connections are
// refused like an unknown peer's. IPv4-mapped IPv6 source addresses are
// matched as IPv4.
//
// Executor. The one given; not thread-safe.
class BgpListener {
public:
    explicit BgpListener(boost::asio::any_io_executor executor);
    ~BgpListener();
    BgpListener(const BgpListener&) = delete;
    BgpListener& operator=(const BgpListener&) = delete;

    // Opens, binds (SO_REUSEADDR) and listens, installs the TCP-MD5 keys of
    // the peers added so far, and starts accepting. Returns the error of the
    // first step that failed (the listener is then closed); a refused TCP-MD5
    // key is logged and does not fail Listen (AddPeer reports it).
    std::error_code Listen(const boost::asio::ip::tcp::endpoint& local);
    void Close();
    bool listening() const;
    // The bound endpoint (its port when listening on port 0).
    boost::asio::ip::tcp::endpoint local_endpoint() const;
    uint16_t port() const { return local_endpoint().port(); }

    // Routes connections from session.config().peer_address to `session`
    // (replacing any previous session for that address) and, when the session
    // has a TCP-MD5 password and the listener is open, installs the key on the
    // listening socket. Returns the kernel's refusal of that key, if any (the
    // peer stays added).
    std::error_code AddPeer(PeerSession& session);
    // Stops routing connections from `address` and removes its TCP-MD5 key.
    void RemovePeer(const boost::asio::ip::address& address);

    // Connections closed because no live configured peer matched.
    uint64_t refused() const;
    uint64_t accepted() const;

private:
    struct Peer {
        PeerSession* session = nullptr;
        std::weak_ptr<void> lifetime;
        std::string md5_password;
    };
    struct State {
        explicit State(const boost::asio::any_io_executor& ex) : acceptor(ex), retry(ex) {}
        boost::asio::ip::tcp::acceptor acceptor;
        boost::asio::steady_timer retry;  // pause after an accept error
        std::map<boost::asio::ip::address, Peer> peers;
        uint64_t refused = 0;
        uint64_t accepted = 0;
        uint64_t generation = 0;  // bumped by Listen: an older accept loop ends
        bool closed = true;
    };

    static boost::asio::awaitable<void> AcceptLoop(std::shared_ptr<State> state, uint64_t generation);
    static boost::asio::ip::address Normalize(const boost::asio::ip::address& a);
    std::error_code InstallKey(const boost::asio::ip::address& peer, const std::string& password);

    boost::asio::any_io_executor executor_;
    std::shared_ptr<State> state_;
};

}  // namespace bagpipe::bgp
