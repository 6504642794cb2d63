// MakeDriver (driver_factory.h).
#include "dataplane/driver_factory.h"

#include <fmt/format.h>

#include "config/config.h"
#include "config/config_loader.h"
#include "dataplane/dummy/dummy_driver.h"
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
    if (context.io == nullptr)
        return DataplaneStatus::Unavailable(
            fmt::format("dataplane driver '{}' needs the daemon's event loop", *name));
    if (*name == "ovs" && type == VpnType::kIpVpn) {
        auto options = ovs::OvsDriverOptions::FromConfig(config);
        if (!options) return options.status();
        return std::make_unique<ovs::OvsDataplaneDriver>(*context.io, std::move(options).value());
    }
    return DataplaneStatus::Unavailable(
        fmt::format("dataplane driver '{}' is not available yet", *name));
}

}  // namespace bagpipe::dataplane
