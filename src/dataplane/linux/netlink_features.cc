// Kernel feature probing (netlink_features.h).
#include "dataplane/linux/netlink_features.h"

#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace bagpipe::dataplane::netlink {
namespace {

// Creates `create` (a link named `name`), deletes it again. The link type
// exists unless the kernel answers EOPNOTSUPP ("Unknown device type"): any
// other refusal (EEXIST for a VNI already in use, EPERM) still proves it.
bool TryLink(NetlinkSocket& socket, const std::string& name, Message create) {
    Result r = socket.Transact(Request{std::move(create), "probe link add " + name});
    if (!r.ok()) {
        spdlog::debug("kernel probe: {}", r.ToString());
        return r.error != EOPNOTSUPP;
    }
    Result d = socket.Transact(Request{DeleteLink(LinkRef::ByName(name)), "probe link del " + name});
    if (!d.ok()) spdlog::warn("kernel probe: could not delete {}: {}", name, d.ToString());
    return true;
}

}  // namespace

KernelFeatures ProbeKernelFeatures(NetlinkSocket& socket, bool log_missing) {
    KernelFeatures f;
    // Unique per process and probe (15 chars max: "bp" + pid + kind letter).
    std::string base = fmt::format("bp{}", static_cast<unsigned>(::getpid()) % 100000000u);
    auto local = bgp::IpAddress::V4(0x7f000001);
    auto remote = bgp::IpAddress::V4(0x7f000002);
    f.vrf = TryLink(socket, base + "r", NewVrfLink(base + "r", 4242));
    f.vxlan = TryLink(socket, base + "x", NewVxlanLink(base + "x", VxlanParams{.vni = 4242,
                                                                                .local = local,
                                                                                .dst_port = 4789,
                                                                                .learning = false,
                                                                                .proxy = false}));
    f.gretap = TryLink(socket, base + "g", NewGretapLink(base + "g", local, remote));
    std::error_code ec;
    f.mpls = std::filesystem::exists("/proc/sys/net/mpls/platform_labels", ec);
    if (log_missing) {
        if (!f.vrf)
            spdlog::warn("kernel: no VRF devices (CONFIG_NET_VRF): IP-VPN uses routing tables "
                         "and rules");
        if (!f.mpls)
            spdlog::warn("kernel: no MPLS forwarding (CONFIG_MPLS_ROUTING, "
                         "/proc/sys/net/mpls/platform_labels): no MPLS dataplane");
        if (!f.gretap)
            spdlog::warn("kernel: no GRE devices (CONFIG_NET_IPGRE): no MPLS-over-GRE");
        if (!f.vxlan)
            spdlog::warn("kernel: no VXLAN devices (CONFIG_VXLAN): no E-VPN linux dataplane");
    }
    return f;
}

nlohmann::json ToJson(const KernelFeatures& f) {
    return {{"vrf", f.vrf}, {"mpls", f.mpls}, {"gretap", f.gretap}, {"vxlan", f.vxlan}};
}

}  // namespace bagpipe::dataplane::netlink
