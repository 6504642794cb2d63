#include "bgp/session/tcp_md5.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace bagpipe::bgp {

std::error_code SetTcpMd5Key(int fd, const boost::asio::ip::address& peer, std::string_view key) {
    static_assert(TCP_MD5SIG_MAXKEYLEN == kTcpMd5MaxKeyLength);
    if (key.size() > kTcpMd5MaxKeyLength) return std::make_error_code(std::errc::invalid_argument);

    int domain = 0;
    socklen_t domain_len = sizeof(domain);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &domain_len) != 0)
        return {errno, std::system_category()};

    struct tcp_md5sig sig;
    std::memset(&sig, 0, sizeof(sig));
    boost::asio::ip::address addr = peer;
    if (addr.is_v6() && addr.to_v6().is_v4_mapped() && domain == AF_INET)
        addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
    if (domain == AF_INET) {
        if (!addr.is_v4()) return std::make_error_code(std::errc::address_family_not_supported);
        auto* sin = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(addr.to_v4().to_uint());
    } else if (domain == AF_INET6) {
        const boost::asio::ip::address_v6 v6 =
            addr.is_v4() ? boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, addr.to_v4())
                         : addr.to_v6();
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
        sin6->sin6_family = AF_INET6;
        const auto bytes = v6.to_bytes();
        std::memcpy(&sin6->sin6_addr, bytes.data(), bytes.size());
    } else {
        return std::make_error_code(std::errc::address_family_not_supported);
    }
    sig.tcpm_keylen = static_cast<uint16_t>(key.size());
    if (!key.empty()) std::memcpy(sig.tcpm_key, key.data(), key.size());
    if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0) {
        // Removing a key that was never set is not an error worth reporting.
        if (key.empty() && errno == ENOENT) return {};
        return {errno, std::system_category()};
    }
    return {};
}

std::string DescribeTcpMd5Error(const boost::asio::ip::address& peer, std::error_code ec) {
    return fmt::format("TCP-MD5 key for {} refused: {} (errno {})", peer.to_string(), ec.message(),
                       ec.value());
}

}  // namespace bagpipe::bgp
