// The E-VPN → IP-VPN stitching veth pair (the VPN manager's create_veth /
// delete_veth hooks), created over netlink as the original's
// `ip link add <a> type veth peer name <b> mtu 65535` + both ends up.
#pragma once

#include <optional>
#include <string>

#include "dataplane/linux/netlink_socket.h"

namespace bagpipe::dataplane::netlink {

// Removes any earlier link named `a` or `b`, creates the pair with MTU
// 65535 and sets both ends up. Synchronous (attach time, local kernel
// calls). An error message on failure, nullopt on success.
std::optional<std::string> CreateVethPair(NetlinkSocket& socket, const std::string& a,
                                          const std::string& b);
// Deletes `name` (and so its peer); absent is not an error.
void DeleteVeth(NetlinkSocket& socket, const std::string& name);

}  // namespace bagpipe::dataplane::netlink
