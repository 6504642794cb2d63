// Builds the dataplane driver named in [DATAPLANE_DRIVER_IPVPN] /
// [DATAPLANE_DRIVER_EVPN] (config::DataplaneDriverConfig::driver).
//
// Today only `dummy` exists; `linux` and `ovs` (issue 5) give a clear
// kUnavailable error until they are built. The real drivers will need the
// daemon's executor and [COMMON] root_helper: they will come as an extra
// argument then, without changing this one's behaviour.
#pragma once

#include <memory>

#include "dataplane/driver.h"

namespace bagpipe::config {
struct DataplaneDriverConfig;
}

namespace bagpipe::dataplane {

// The driver for `type` as configured. Driver names are the canonical ones
// ("dummy", "linux", "ovs") or a legacy alias the config loader accepts.
// Errors: kUnavailable "dataplane driver 'linux' is not available yet";
// kInvalidArgument for an unknown name or a bad driver option.
DataplaneResult<std::unique_ptr<DataplaneDriver>> MakeDriver(
    VpnType type, const config::DataplaneDriverConfig& config);

}  // namespace bagpipe::dataplane
