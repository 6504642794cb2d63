// bagpipe-bgp: the daemon. Loads bgp.conf, runs the BGP speaker and the REST
// API / looking glass (and, in later issues, the VPN instances and dataplane
// drivers) on one Boost.Asio event loop; SIGTERM/SIGINT close the API, send a
// Cease to every peer and exit.
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "api/http_server.h"
#include "api/http_types.h"
#include "api/lg_providers.h"
#include "api/lg_vpn.h"
#include "api/vpn_api.h"
#include "dataplane/driver_factory.h"
#include "dataplane/linux/veth_pair.h"
#include "vpn/vpn_manager.h"
#include "api/log_ring.h"
#include "api/looking_glass.h"
#include "api/ping.h"
#include "config/config_loader.h"
#include "config/ini_file.h"
#include "daemon/speaker_config.h"
#include "daemon/state_file.h"

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

struct Options {
    std::string config_file = "/etc/bagpipe-bgp/bgp.conf";
    std::string log_file;
    std::string state_file;
    bool debug = false;
    bool check = false;
};

// The last log records, for the looking glass (`logs`).
constexpr size_t kLogRingRecords = 1000;

void SetUpLogging(const Options& o, const bagpipe::config::DaemonConfig* c,
                  const bagpipe::api::LogRing& ring) {
    std::string file = !o.log_file.empty() ? o.log_file : c ? c->logging.log_file : "";
    std::shared_ptr<spdlog::logger> logger;
    if (!file.empty())
        logger = std::make_shared<spdlog::logger>(
            "bagpipe-bgp", std::make_shared<spdlog::sinks::basic_file_sink_mt>(file));
    else
        logger = std::make_shared<spdlog::logger>(
            "bagpipe-bgp", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->sinks().push_back(ring.sink());
    spdlog::set_default_logger(logger);
    const bool debug = o.debug || (c && c->logging.debug);
    spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::info);
    // Warnings and errors reach the file at once; the rest within a second
    // (main's flush timer): a flush per line would cost more than an attach.
    spdlog::flush_on(spdlog::level::warn);
}

// Rewrites the state file at most every 200 ms while the speaker reports
// changes, and every 2 s regardless (timers, session states).
class StateWriter {
public:
    StateWriter(asio::any_io_executor ex, const bagpipe::bgp::BgpSpeaker& speaker, std::string path)
        : timer_(ex), speaker_(speaker), path_(std::move(path)) {}
    void MarkDirty() {
        dirty_ = true;
        Arm(200ms);
    }
    void Start() { Arm(0ms); }
    void Stop() { timer_.cancel(); stopped_ = true; }
    void WriteNow() {
        dirty_ = false;
        const std::string text =
            bagpipe::daemon::SpeakerStateJson(speaker_, bagpipe::daemon::kStateFileMaxRoutes).dump(1);
        if (!bagpipe::daemon::WriteFileAtomically(path_, text))
            spdlog::warn("cannot write the state file {}", path_);
    }

private:
    // Arms the timer for `d` from now unless it already fires sooner; a
    // re-arm cancels the pending wait, whose handler then sees a stale
    // generation and does nothing.
    void Arm(std::chrono::milliseconds d) {
        if (stopped_) return;
        const auto when = std::chrono::steady_clock::now() + d;
        if (armed_ && when >= deadline_) return;
        armed_ = true;
        deadline_ = when;
        const uint64_t gen = ++generation_;
        timer_.expires_at(when);
        timer_.async_wait([this, gen](const boost::system::error_code& ec) {
            if (gen != generation_) return;
            armed_ = false;
            if (ec || stopped_) return;
            WriteNow();
            Arm(2000ms);
        });
    }
    asio::steady_timer timer_;
    const bagpipe::bgp::BgpSpeaker& speaker_;
    std::string path_;
    bool dirty_ = false;
    bool armed_ = false;
    bool stopped_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    uint64_t generation_ = 0;
};

// True when bgp.conf sets the API endpoint itself ([API] host/port or their
// old names): failing to bind it is then fatal; the default endpoint only
// warns (several daemons on one host, e.g. in tests, share the default).
bool ApiConfiguredExplicitly(const std::string& config_file) {
    const bagpipe::config::IniDocument doc = bagpipe::config::ReadIniFile(config_file);
    const bagpipe::config::IniSection* api = doc.Find("API");
    if (!api) return false;
    for (const auto& e : api->entries)
        for (const char* k : {"host", "port", "api_host", "api_port"})
            if (bagpipe::config::EqualsIgnoreCase(e.key, k)) return true;
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"bagpipe-bgp: BGP VPN speaker for compute nodes (E-VPN, IP-VPN, RT Constraint)"};
    app.add_option("--config-file", o.config_file, "configuration file (INI)")->capture_default_str();
    app.add_option("--log-file", o.log_file, "log to this file instead of stderr");
    app.add_flag("--debug,-d", o.debug, "debug logging");
    app.add_option("--state-file", o.state_file,
                   "keep a JSON summary of peers and routes in this file (rewritten atomically)");
    app.add_flag("--check-config", o.check, "load and validate the configuration, then exit");
    app.allow_extras(false);
    CLI11_PARSE(app, argc, argv);

    const auto start_time = std::chrono::system_clock::now();
    auto log_ring = std::make_shared<bagpipe::api::LogRing>(kLogRingRecords);
    auto loaded = bagpipe::config::LoadConfigFile(o.config_file);
    SetUpLogging(o, loaded.config ? &*loaded.config : nullptr, *log_ring);
    for (const auto& w : loaded.warnings) spdlog::warn("{}", w);
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) spdlog::error("{}", e);
        spdlog::error("bagpipe-bgp: invalid configuration {}", o.config_file);
        return 2;
    }
    const bagpipe::config::DaemonConfig& cfg = *loaded.config;
    if (o.check) {
        std::printf("%s: OK (%zu peers)\n", o.config_file.c_str(), cfg.peers.size());
        return 0;
    }

    asio::io_context io(1);
    bagpipe::bgp::BgpSpeaker speaker(io.get_executor(), bagpipe::daemon::MakeSpeakerConfig(cfg));
    std::unique_ptr<StateWriter> state;
    if (!o.state_file.empty()) {
        state = std::make_unique<StateWriter>(io.get_executor(), speaker, o.state_file);
        speaker.set_on_change([&state] { state->MarkDirty(); });
        state->Start();
    }
    spdlog::info("bagpipe-bgp starting: AS {}, router id {}, {} peer(s){}", cfg.bgp.my_as,
                 cfg.bgp.router_id.ToString(), cfg.peers.size(),
                 cfg.bgp.route_reflector ? ", route reflector" : "");
    if (auto ec = speaker.Start()) {
        spdlog::error("bagpipe-bgp: cannot listen on {}:{}: {}", cfg.bgp.local_address.ToString(),
                      cfg.bgp.listen_port, ec.message());
        return 1;
    }

    // The VPN service: dataplane drivers and instances (route reflectors
    // have no use for it but it costs nothing until the first attach).
    std::unique_ptr<bagpipe::dataplane::DataplaneDriver> drivers[2];
    const bagpipe::config::DataplaneDriverConfig* driver_cfgs[2] = {&cfg.ipvpn, &cfg.evpn};
    const bagpipe::dataplane::VpnType types[2] = {bagpipe::dataplane::VpnType::kIpVpn,
                                                   bagpipe::dataplane::VpnType::kEvpn};
    for (int i = 0; i < 2; ++i) {
        auto d = bagpipe::dataplane::MakeDriver(types[i], *driver_cfgs[i], {.io = &io});
        if (!d) {
            spdlog::error("bagpipe-bgp: {}: [DATAPLANE_DRIVER_{}] dataplane_driver = {}: {}",
                          o.config_file, i == 0 ? "IPVPN" : "EVPN", driver_cfgs[i]->configured_driver,
                          d.status().message());
            return 2;
        }
        drivers[i] = std::move(d).value();
    }
    bagpipe::vpn::SpeakerRouteSink route_sink(speaker);
    bagpipe::vpn::VpnManagerConfig vpn_cfg;
    vpn_cfg.local_as = cfg.bgp.my_as;
    vpn_cfg.bgp_local_address = cfg.bgp.local_address;
    vpn_cfg.router_id = cfg.bgp.router_id.v4();
    vpn_cfg.enable_rtc = cfg.bgp.enable_rtc;
    // E-VPN → IP-VPN stitching: with a real E-VPN driver the veth pair is
    // created over netlink (the dummy drivers need no interface).
    std::optional<bagpipe::dataplane::netlink::NetlinkSocket> veth_socket;
    if (cfg.evpn.driver != "dummy") {
        if (auto s = bagpipe::dataplane::netlink::NetlinkSocket::Open(); s.ok()) {
            veth_socket.emplace(std::move(s).value());
            vpn_cfg.create_veth = [&veth_socket](const std::string& a, const std::string& b) {
                return bagpipe::dataplane::netlink::CreateVethPair(*veth_socket, a, b);
            };
            vpn_cfg.delete_veth = [&veth_socket](const std::string& name) {
                bagpipe::dataplane::netlink::DeleteVeth(*veth_socket, name);
            };
        } else {
            spdlog::warn("bagpipe-bgp: netlink: {}: no E-VPN → IP-VPN stitching", s.status().message());
        }
    }
    bagpipe::vpn::VpnManager vpn_manager(route_sink, &speaker.rib(), vpn_cfg, std::move(drivers[0]),
                                         std::move(drivers[1]));
    speaker.set_loc_rib_observer(bagpipe::vpn::VpnManager::ObservedFamilies(),
                                 [&vpn_manager](std::vector<bagpipe::bgp::LocRibChange>&& changes) {
                                     vpn_manager.OnLocRibChanges(std::move(changes));
                                 },
                                 [&vpn_manager](const bagpipe::bgp::RouteKey& key,
                                                bagpipe::bgp::PeerId peer,
                                                const bagpipe::bgp::AttrEntry* attrs) {
                                     return vpn_manager.Observes(key, peer, attrs);
                                 });

    // The REST API and looking glass, after the speaker.
    bagpipe::api::Router router;
    bagpipe::api::LookingGlass looking_glass;
    bagpipe::api::LgSources lg_sources;
    lg_sources.speaker = &speaker;
    lg_sources.config = &cfg;
    lg_sources.logs = log_ring;
    lg_sources.start_time = start_time;
    lg_sources.vpn_instances_count = [&vpn_manager] { return vpn_manager.size(); };
    bagpipe::api::LgStandardNodes lg_nodes = bagpipe::api::AddStandardProviders(looking_glass, lg_sources);
    bagpipe::api::AddVpnProviders(lg_nodes, vpn_manager, speaker);
    bagpipe::api::RegisterPing(router);
    bagpipe::api::RegisterVpnApi(router, vpn_manager);
    looking_glass.Register(router);
    bagpipe::api::HttpServer api(io.get_executor(), router);
    if (auto ec = api.Start(cfg.api.host, cfg.api.port)) {
        if (ApiConfiguredExplicitly(o.config_file)) {
            spdlog::error("bagpipe-bgp: cannot listen on [API] {}:{}: {}", cfg.api.host,
                          cfg.api.port, ec.message());
            return 1;
        }
        spdlog::warn("bagpipe-bgp: REST API disabled: cannot listen on the default {}:{}: {}",
                     cfg.api.host, cfg.api.port, ec.message());
    } else {
        spdlog::info("bagpipe-bgp: REST API and looking glass on http://{}:{}/", cfg.api.host,
                     api.endpoint()->port());
    }

    asio::steady_timer log_flush(io);
    std::function<void()> arm_log_flush = [&] {
        log_flush.expires_after(1s);
        log_flush.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            spdlog::default_logger()->flush();
            arm_log_flush();
        });
    };
    arm_log_flush();

    asio::signal_set signals(io, SIGINT, SIGTERM);
    bool stopping = false;
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec || stopping) return;
        stopping = true;
        spdlog::info("bagpipe-bgp: signal {}: closing the sessions", sig);
        api.Stop();
        log_flush.cancel();
        speaker.Shutdown("bagpipe-bgp shutting down", 3000ms, [&] {
            if (state) {
                state->WriteNow();
                state->Stop();
            }
            io.stop();
        });
    });
    std::signal(SIGPIPE, SIG_IGN);
    io.run();
    spdlog::info("bagpipe-bgp: stopped");
    spdlog::default_logger()->flush();
    return 0;
}
