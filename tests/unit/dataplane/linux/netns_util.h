// Private network namespaces for the Linux dataplane tests.
//
// A NETLINK_ROUTE socket belongs to the namespace of the thread that opened
// it, for its whole life. PrivateNetns opens its sockets from a short-lived
// thread that first unshare(CLONE_NEWNET)s: the namespace is anonymous (no
// name under /run/netns, nothing in the root namespace is ever touched) and
// the kernel destroys it, with every link the test created, when the last
// socket closes — also when a test fails or crashes.
#pragma once

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "dataplane/linux/netlink_socket.h"

namespace bagpipe::dataplane::test {

class PrivateNetns {
public:
    // nullopt (with the reason in *why) when namespaces cannot be created
    // (not root, no CONFIG_NET_NS): tests then GTEST_SKIP.
    static std::optional<PrivateNetns> Create(std::string* why) {
        std::optional<netlink::NetlinkSocket> a, b;
        std::string error;
        std::thread t([&] {
            if (::unshare(CLONE_NEWNET) != 0) {
                error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
                return;
            }
            auto s1 = netlink::NetlinkSocket::Open();
            auto s2 = netlink::NetlinkSocket::Open();
            if (!s1 || !s2) {
                error = "netlink socket in the new namespace failed";
                return;
            }
            a.emplace(std::move(s1).value());
            b.emplace(std::move(s2).value());
            // lo up, as a namespace on a host would have it.
            a->Transact(netlink::Request{netlink::SetLinkUp(netlink::LinkRef::ByName("lo"), true),
                                         "lo up"});
        });
        t.join();
        if (!a) {
            if (why) *why = error;
            return std::nullopt;
        }
        return PrivateNetns(std::move(*a), std::move(*b));
    }

    // Two sockets in the namespace: one for the code under test (often moved
    // into an AsyncNetlink), one for the test's own checks.
    netlink::NetlinkSocket& socket() { return first_; }
    netlink::NetlinkSocket& check() { return second_; }
    netlink::NetlinkSocket TakeSocket() { return std::move(first_); }

private:
    PrivateNetns(netlink::NetlinkSocket a, netlink::NetlinkSocket b)
        : first_(std::move(a)), second_(std::move(b)) {}
    netlink::NetlinkSocket first_;
    netlink::NetlinkSocket second_;
};

}  // namespace bagpipe::dataplane::test
