// RFC 2385 TCP MD5 signatures, one key per peer address, through Linux's
// setsockopt(TCP_MD5SIG).
//
// A key is attached to a socket for one remote address. On an outgoing socket
// it must be set before connect(); on a listening socket one key per
// configured peer is set before the peer connects, and the accepted sockets
// inherit them. The kernel then drops every segment from that address whose
// signature is missing or wrong, so a password mismatch shows up as a
// connection that never completes (or is never accepted), not as an error.
//
// Errors are values: a refusal by the kernel (no CONFIG_TCP_MD5SIG, no
// permission, wrong address family) comes back as the errno in a
// std::error_code; nothing here throws or logs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/asio/ip/address.hpp>

namespace bagpipe::bgp {

// TCP_MD5SIG_MAXKEYLEN: the longest key the kernel accepts.
inline constexpr size_t kTcpMd5MaxKeyLength = 80;

// Installs `key` for segments exchanged with `peer` on socket `fd`; an empty
// key removes the peer's key. An IPv4 peer on an IPv6 socket is keyed by its
// v4-mapped address (that is how such connections appear to the kernel).
// Returns an empty error_code on success, else the errno (system_category),
// or std::errc::invalid_argument for a key longer than kTcpMd5MaxKeyLength
// and std::errc::address_family_not_supported for an IPv6 peer on an IPv4
// socket.
std::error_code SetTcpMd5Key(int fd, const boost::asio::ip::address& peer, std::string_view key);

// A one-line explanation for logs and the looking glass, e.g.
// "TCP-MD5 key for 192.0.2.1 refused: Operation not permitted (errno 1)".
std::string DescribeTcpMd5Error(const boost::asio::ip::address& peer, std::error_code ec);

}  // namespace bagpipe::bgp
