// Kernel feature probing at driver start: which device types and forwarding
// features this kernel has, so that drivers pick a fallback and say why.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "dataplane/linux/netlink_socket.h"

namespace bagpipe::dataplane::netlink {

struct KernelFeatures {
    bool vrf = false;     // `type vrf` links (CONFIG_NET_VRF)
    bool mpls = false;    // kernel MPLS forwarding (/proc/sys/net/mpls/platform_labels)
    bool gretap = false;  // `type gretap` links (CONFIG_NET_IPGRE)
    bool vxlan = false;   // `type vxlan` links (CONFIG_VXLAN)
    bool operator==(const KernelFeatures&) const = default;
};

// Probes by creating and deleting temporary links with unique names
// ("bp<pid>-<n>-<kind>") in the socket's namespace, and by reading /proc.
// Logs one spdlog::warn line per missing feature, e.g.
// "kernel: no VRF devices (CONFIG_NET_VRF): IP-VPN uses routing tables and rules".
// Blocking (synchronous netlink): start-up only.
KernelFeatures ProbeKernelFeatures(NetlinkSocket& socket, bool log_missing = true);

nlohmann::json ToJson(const KernelFeatures& features);

}  // namespace bagpipe::dataplane::netlink
