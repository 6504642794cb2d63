// bagpipe-bgp-cleanup: loads bgp.conf, builds the IP-VPN and E-VPN dataplane
// drivers it configures ([DATAPLANE_DRIVER_IPVPN], [DATAPLANE_DRIVER_EVPN])
// and calls ResetState() on each, removing whatever a previous bagpipe-bgp
// run left in the dataplane (the original's reset_state()). Run it while the
// daemon is stopped. The drivers are built with `reconcile = False` (a
// daemon's start keeps and adopts its state; the clean-up wipes it), and
// their asynchronous work runs to completion before the tool exits.
//
// Exit status: 0 when both drivers were reset; 1 when the configuration does
// not load, a driver cannot be built or its reset fails (the other driver is
// still reset); 2 on a usage error.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "config/config_loader.h"
#include "dataplane/driver.h"
#include "dataplane/driver_factory.h"

namespace {

constexpr const char* kProgram = "bagpipe-bgp-cleanup";

// Builds and resets one driver; false on any error (printed on stderr).
bool ResetDriver(bagpipe::dataplane::VpnType type,
                 bagpipe::config::DataplaneDriverConfig config) {
    const std::string type_name(bagpipe::dataplane::VpnTypeName(type));
    // The real drivers program asynchronously: run their work to completion
    // before the driver goes. A cleanup wipes now: `reconcile` (keep the state
    // for a restarting daemon) does not apply.
    boost::asio::io_context io;
    config.options["reconcile"] = "False";
    auto driver = bagpipe::dataplane::MakeDriver(type, config, {.io = &io});
    if (!driver.ok()) {
        std::fprintf(stderr, "%s: %s dataplane driver '%s': %s\n", kProgram, type_name.c_str(),
                     config.configured_driver.c_str(), driver.status().message().c_str());
        return false;
    }
    const std::string name(driver.value()->name());
    const bagpipe::dataplane::DataplaneStatus status = driver.value()->ResetState();
    io.run_for(std::chrono::seconds(60));  // returns as soon as the work is done
    // Failures found by that asynchronous work (ovs driver: `errors`).
    if (status.ok()) {
        const nlohmann::json state = driver.value()->ToJson();
        if (state.contains("errors") && state["errors"].is_array() && !state["errors"].empty()) {
            std::fprintf(stderr, "%s: %s dataplane driver '%s': reset_state failed: %s\n",
                         kProgram, type_name.c_str(), name.c_str(), state["errors"].dump().c_str());
            return false;
        }
    }
    if (!status.ok()) {
        std::fprintf(stderr, "%s: %s dataplane driver '%s': reset_state failed (%s): %s\n",
                     kProgram, type_name.c_str(), name.c_str(),
                     std::string(bagpipe::dataplane::DataplaneErrorCodeName(status.code())).c_str(),
                     status.message().c_str());
        return false;
    }
    std::printf("%s dataplane driver '%s': state reset\n", type_name.c_str(), name.c_str());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_file = "/etc/bagpipe-bgp/bgp.conf";
    bool quiet_warnings = false;
    CLI::App app{"bagpipe-bgp-cleanup: reset the dataplane state left by bagpipe-bgp "
                 "(both dataplane drivers of --config-file)",
                 kProgram};
    app.add_option("--config-file", config_file, "bagpipe-bgp configuration file")
        ->capture_default_str();
    app.add_flag("--no-warnings", quiet_warnings,
                 "do not print the configuration warnings (unknown options, ...)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    const bagpipe::config::LoadResult loaded = bagpipe::config::LoadConfigFile(config_file);
    if (!quiet_warnings) {
        for (const auto& w : loaded.warnings)
            std::fprintf(stderr, "%s: warning: %s\n", kProgram, w.c_str());
    }
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) std::fprintf(stderr, "%s: %s\n", kProgram, e.c_str());
        std::fprintf(stderr, "%s: cannot load %s; nothing was reset\n", kProgram,
                     config_file.c_str());
        return 1;
    }
    const bagpipe::config::DaemonConfig& config = *loaded.config;
    // Both drivers, even when the first one fails.
    const bool ipvpn = ResetDriver(bagpipe::dataplane::VpnType::kIpVpn, config.ipvpn);
    const bool evpn = ResetDriver(bagpipe::dataplane::VpnType::kEvpn, config.evpn);
    std::fflush(stdout);
    return ipvpn && evpn ? 0 : 1;
}
