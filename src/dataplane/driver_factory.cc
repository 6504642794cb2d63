// MakeDriver (driver_factory.h).
#include "dataplane/driver_factory.h"

#include <fmt/format.h>

#include "config/config.h"
#include "config/config_loader.h"
#include "dataplane/dummy/dummy_driver.h"
#include "dataplane/linux/evpn_linux_driver.h"
#include "dataplane/linux/ipvpn_linux_driver.h"
#include "dataplane/ovs/ovs_driver.h"

namespace bagpipe::dataplane {

DataplaneResult<std::unique_ptr<DataplaneDriver>> MakeDriver(
    VpnType type, const config::DataplaneDriverConfig& config, const DriverContext& context) {
    std::string_view type_name = VpnTypeName(type);
    std::optional<std::string> name = config::CanonicalDataplaneDriver(type_name, config.driver);
    if (!name)
        return DataplaneStatus::InvalidArgument(
            fmt::format("unknown {} dataplane driver '{}' (dummy, linux, ovs)", type_name,
                        config.driver));
    if (*name == "dummy") {
        auto options = DummyDriverOptions::FromConfig(type, config);
        if (!options) return options.status();
        return std::make_unique<DummyDataplaneDriver>(std::move(options).value());
    }
    if (type == VpnType::kEvpn && *name == "linux") {
        // Without the event loop (bagpipe-bgp-cleanup) the driver can only
        // ResetState; CreateInstance then fails.
        auto options = EvpnLinuxOptions::FromConfig(config);
        if (!options) return options.status();
        auto transport = EvpnLinuxTransport::Open(context.io);
        if (!transport) return transport.status();
        return std::make_unique<EvpnLinuxDriver>(std::move(options).value(),
                                                 std::move(transport).value());
    }
    if (context.io == nullptr)
        return DataplaneStatus::Unavailable(
            fmt::format("dataplane driver '{}' needs the daemon's event loop", *name));
    if (*name == "linux" && type == VpnType::kIpVpn) {
        auto options = IpvpnLinuxOptions::FromConfig(config);
        if (!options) return options.status();
        std::string error;
        auto kernel = MakeLinuxKernelAccess(*context.io, &error);
        if (!kernel) return DataplaneStatus::Unavailable("netlink: " + error);
        return std::make_unique<IpvpnLinuxDriver>(std::move(options).value(), std::move(kernel),
                                                  context.io);
    }
    if (*name == "ovs" && type == VpnType::kIpVpn) {
        auto options = ovs::OvsDriverOptions::FromConfig(config);
        if (!options) return options.status();
        return std::make_unique<ovs::OvsDataplaneDriver>(*context.io, std::move(options).value());
    }
    return DataplaneStatus::Unavailable(
        fmt::format("dataplane driver '{}' is not available yet", *name));
}

}  // namespace bagpipe::dataplane
