// CreateVethPair / DeleteVeth (veth_pair.h).
#include "dataplane/linux/veth_pair.h"

#include <cerrno>

namespace bagpipe::dataplane::netlink {

std::optional<std::string> CreateVethPair(NetlinkSocket& socket, const std::string& a,
                                          const std::string& b) {
    // Stale ends first (ENODEV when absent: fine).
    socket.Transact({Request{DeleteLink(LinkRef::ByName(a)), "link del " + a},
                     Request{DeleteLink(LinkRef::ByName(b)), "link del " + b}});
    std::vector<Request> batch;
    batch.push_back({NewVethLink(a, b), "link add " + a + " type veth peer name " + b});
    for (const std::string& n : {a, b}) {
        batch.push_back({SetLinkMtu(LinkRef::ByName(n), 65535), "link set " + n + " mtu 65535"});
        batch.push_back({SetLinkUp(LinkRef::ByName(n), true), "link set " + n + " up"});
    }
    for (const Result& r : socket.Transact(std::move(batch)))
        if (!r.ok()) return r.ToString();
    return std::nullopt;
}

void DeleteVeth(NetlinkSocket& socket, const std::string& name) {
    socket.Transact(Request{DeleteLink(LinkRef::ByName(name)), "link del " + name});
}

}  // namespace bagpipe::dataplane::netlink
