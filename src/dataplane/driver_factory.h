// Builds the dataplane driver named in [DATAPLANE_DRIVER_IPVPN] /
// [DATAPLANE_DRIVER_EVPN] (config::DataplaneDriverConfig::driver).
//
// `dummy` needs nothing; the real drivers (`linux` for both types, `ovs` for
// IP-VPN) program the kernel or Open vSwitch asynchronously on the daemon's
// event loop, given in the DriverContext.
#pragma once

#include <memory>

namespace boost::asio {
class io_context;
}

#include "dataplane/driver.h"

namespace bagpipe::config {
struct DataplaneDriverConfig;
}

namespace bagpipe::dataplane {

// What the real drivers need from the daemon.
struct DriverContext {
    // The daemon's event loop: netlink sockets and child processes
    // (ovs-ofctl) are driven on it. Null: only `dummy` can be built.
    boost::asio::io_context* io = nullptr;
};

// The driver for `type` as configured. Driver names are the canonical ones
// ("dummy", "linux", "ovs") or a legacy alias the config loader accepts.
// E-VPN `linux` builds without `context.io` too (bagpipe-bgp-cleanup): that
// driver can only ResetState.
// Errors: kUnavailable "dataplane driver 'linux' is not available yet";
// kInvalidArgument for an unknown name or a bad driver option.
DataplaneResult<std::unique_ptr<DataplaneDriver>> MakeDriver(
    VpnType type, const config::DataplaneDriverConfig& config, const DriverContext& context = {});

}  // namespace bagpipe::dataplane
