// bagpipe-rest-attach: attaches a local port to (or detaches it from) a VPN
// instance of a bagpipe-bgp daemon through its REST API, with the options,
// defaults and printouts of the original's optparse CLI (reference §6):
//
//   using 10.0.2.254 as gateway address
//   request: {"import_rt": ["64512:514"], "export_rt": ..., "direction": "both"}
//   response: 200 null
//
// Differences from the original (docs/cli.md): --server and --api-port pick
// the daemon (the original posts to 127.0.0.1 only); the port defaults to
// [API] port of --config-file and to 8082 when that file is absent (the
// original fails without /etc/bagpipe-bgp/bgp.conf); --attract-to-rt is sent
// as `to_rt` (the original's `to` was ignored by the daemon); --dry-run
// prints the request and the commands without running or sending anything.
//
// Exit status: 0 on a 2xx answer (or --dry-run), 1 when the daemon answers an
// error (its message on stderr) or cannot be reached or a command fails, 2 on
// a usage error.
#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "http_client.h"
#include "netns.h"

namespace {

using Json = nlohmann::ordered_json;
using bagpipe::tools::CommandRunner;

constexpr const char* kProgram = "bagpipe-rest-attach";
constexpr const char* kUsage =
    "usage: bagpipe-rest-attach [--attach|--detach] --network-type (ipvpn|evpn) "
    "--port (<port>|netns) --ip <ip>[/<mask>] [options] (see --help)";
constexpr const char* kDefaultInstanceId = "bagpipe-test";
constexpr const char* kDefaultIpvpnMac = "52:54:00:99:99:22";
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

struct Options {
    std::string operation;  // "attach" | "detach" (the last of --attach/--detach)
    std::string network_type;
    std::string vpn_instance_id = kDefaultInstanceId;
    std::string port;
    std::string direction = "both";
    std::vector<std::string> rts, import_rts, export_rts;
    std::string ip;
    std::string gateway_ip;
    std::string mac;
    bool advertise_subnet = false;
    bool ovs_preplug = false;
    std::string ovs_bridge = "br-int";
    std::optional<int> ovs_vlan;
    std::string netns;
    std::string if2vpn = "tovpn";
    std::vector<std::string> readv_from_rts, readv_to_rts;
    std::vector<std::string> redirect_rts;
    Json classifier = Json::object();  // keys in command-line order, last value wins
    std::vector<std::string> attract_to_rts, static_dest_prefixes;
    int lb_consistent_hash_order = 0;
    int vni = 0;
    std::optional<int> local_pref;
    // Not in the original.
    std::string server = "127.0.0.1";
    std::optional<uint16_t> api_port;
    std::string config_file = "/etc/bagpipe-bgp/bgp.conf";
    bool config_file_given = false;
    bool dry_run = false;
};

struct UsageError {
    std::string message;
};

[[noreturn]] void Fail(int code, const std::string& message) {
    std::fflush(stdout);
    if (code == kExitUsage) std::fprintf(stderr, "%s\n", kUsage);
    std::fprintf(stderr, "%s: error: %s\n", kProgram, message.c_str());
    std::exit(code);
}

// json.dumps() as Python prints it: ", " and ": " separators, ASCII only.
void PyDump(const Json& j, std::string& out) {
    if (j.is_object()) {
        out += '{';
        bool first = true;
        for (const auto& [key, value] : j.items()) {
            if (!first) out += ", ";
            first = false;
            out += Json(key).dump(-1, ' ', true, Json::error_handler_t::replace);
            out += ": ";
            PyDump(value, out);
        }
        out += '}';
    } else if (j.is_array()) {
        out += '[';
        for (size_t i = 0; i < j.size(); ++i) {
            if (i) out += ", ";
            PyDump(j[i], out);
        }
        out += ']';
    } else {
        out += j.dump(-1, ' ', true, Json::error_handler_t::replace);
    }
}

// netaddr.IPNetwork(prefix)[-2]: the address before the last one of the
// subnet (10.0.2.254 for 10.0.2.1/24).
std::optional<std::string> LastUsableAddress(const std::string& prefix, std::string* error) {
    const size_t slash = prefix.rfind('/');
    const std::string address = prefix.substr(0, slash);
    const std::string length = prefix.substr(slash + 1);  // digits (checked by the caller)
    const int plen = length.size() > 3 ? 999 : std::stoi(length);
    std::array<unsigned char, 16> bytes{};
    int family = AF_INET;
    size_t size = 4;
    if (inet_pton(AF_INET, address.c_str(), bytes.data()) != 1) {
        family = AF_INET6;
        size = 16;
        if (inet_pton(AF_INET6, address.c_str(), bytes.data()) != 1) {
            *error = "--ip " + prefix + ": not an IP address";
            return std::nullopt;
        }
    }
    const int bits = static_cast<int>(size * 8);
    if (plen > bits) {
        *error = "--ip " + prefix + ": prefix length above " + std::to_string(bits);
        return std::nullopt;
    }
    if (plen == bits) {
        *error = "--ip " + prefix + ": a single-address subnet has no gateway address; " +
                 "give --gateway-ip";
        return std::nullopt;
    }
    for (int b = plen; b < bits; ++b) bytes[static_cast<size_t>(b / 8)] |= 0x80u >> (b % 8);
    for (size_t i = size; i-- > 0;) {  // minus one, with borrow
        if (bytes[i]-- != 0) break;
    }
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, bytes.data(), text, sizeof text);
    return std::string(text);
}

Options ParseArgs(int argc, char** argv) {
    Options o;
    CLI::App app{"Attach a local port to a VPN instance of bagpipe-bgp, or detach it.\n" +
                     std::string(kUsage),
                 kProgram};
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    auto repeatable = [&](const std::string& name, std::vector<std::string>& into,
                          const std::string& help) {
        app.add_option(name, into, help)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
            ->allow_extra_args(false)
            ->type_size(1);
    };
    auto* attach = app.add_flag("--attach")->description("attach local port");
    auto* detach = app.add_flag("--detach")->description("detach local port");
    app.add_option("--network-type", o.network_type, "network type (ipvpn or evpn)")
        ->check(CLI::IsMember({"ipvpn", "evpn"}));
    app.add_option("--vpn-instance-id", o.vpn_instance_id,
                   "id of the VPN instance (default: bagpipe-test-(ipvpn|evpn))");
    app.add_option("--port", o.port,
                   "local port to attach/detach (use special port 'netns[:if]' to have an "
                   "interface to a local network namespace attached/detached [with 'if' as the "
                   "name of the interface to the netns], or 'evpn:<id>' to plug an E-VPN into "
                   "an IP-VPN)");
    app.add_option("--direction", o.direction,
                   "local port direction (to-port|from-port|both) in VPN")
        ->check(CLI::IsMember({"to-port", "from-port", "both"}))
        ->capture_default_str();
    repeatable("--rt", o.rts,
               "route target (default: 64512:512 for ipvpn, 64512:513 for evpn) (repeatable)");
    repeatable("--import-rt", o.import_rts, "import-only route target (repeatable)");
    repeatable("--export-rt", o.export_rts, "export-only route target (repeatable)");
    app.add_option("--ip", o.ip, "IP prefix / mask (mask defaults to /24)");
    app.add_option("--gateway-ip", o.gateway_ip,
                   "IP address of network gateway (default: last IP in range)");
    app.add_option("--mac", o.mac, "MAC address (required for evpn if port is not 'netns')");
    auto* singleton = app.add_flag("--advertise-singleton")
                          ->description("advertise IP address as a /32 (default)");
    auto* subnet = app.add_flag("--advertise-subnet")->description("advertise the whole IP subnet");
    app.add_flag("--ovs-preplug", o.ovs_preplug,
                 "plug the port into an OVS bridge first (ipvpn)");
    app.add_option("--ovs-bridge", o.ovs_bridge, "if preplug, which OVS bridge to use")
        ->capture_default_str();
    app.add_option("--ovs-vlan", o.ovs_vlan,
                   "if specified, only this VLAN from the OVS interface will be attached to the "
                   "VPN instance");
    app.add_option("--netns", o.netns,
                   "name of network namespace (for use with --port netns; default: the VPN "
                   "instance id)");
    app.add_option("--if2vpn", o.if2vpn,
                   "name of interface in netns toward VPN (for use with --port netns)")
        ->capture_default_str();
    repeatable("--readv-from-rt", o.readv_from_rts,
               "enables route readvertisement from these RTs, works with --readv-to-rt");
    repeatable("--readv-to-rt", o.readv_to_rts,
               "enables route readvertisement to these RTs, works with --readv-from-rt");
    repeatable("--redirect-rts", o.redirect_rts,
               "redirection route targets to attract traffic, matching the traffic "
               "classifier, in this VRF from any VRF importing this route target");
    std::vector<std::pair<const CLI::Option*, std::string>> classifier_options;
    for (const auto& [name, key, help] :
         std::vector<std::array<std::string, 3>>{
             {"--source-prefix", "sourcePrefix", "source prefix"},
             {"--destination-prefix", "destinationPrefix", "destination prefix"},
             {"--source-port", "sourcePort", "source port number or range (N or N:M)"},
             {"--destination-port", "destinationPort",
              "destination port number or range (N or N:M)"},
             {"--protocol", "protocol", "IP protocol"}})
        classifier_options.emplace_back(
            app.add_option(name)
                ->description("traffic classifier " + help + " filter")
                ->type_size(1),
            key);
    repeatable("--attract-to-rt", o.attract_to_rts,
               "enables route advertisement to these RTs, works with "
               "--static-destination-prefix (sent as attract_traffic.to_rt)");
    repeatable("--static-destination-prefix", o.static_dest_prefixes,
               "static destination prefix to advertise, works with --attract-to-rt");
    app.add_option("--lb-consistent-hash-order", o.lb_consistent_hash_order,
                   "load balancing consistent hash sort order")
        ->capture_default_str();
    app.add_option("--vni", o.vni, "VXLAN VNI to use for this VPN instance")
        ->capture_default_str();
    app.add_option("--local-pref", o.local_pref, "BGP LOCAL_PREF attribute");
    app.add_option("--server", o.server, "IP address or name of bagpipe-bgp's REST API")
        ->capture_default_str();
    app.add_option("--api-port", o.api_port,
                   "port of bagpipe-bgp's REST API (default: [API] port of --config-file, "
                   "else 8082)");
    auto* config = app.add_option("--config-file", o.config_file,
                                  "bgp.conf to read the default API port from")
                       ->capture_default_str();
    app.add_flag("--dry-run", o.dry_run,
                 "print the request and the commands it would run; run and send nothing");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        std::exit(app.exit(e));
    } catch (const CLI::ParseError& e) {
        Fail(kExitUsage, e.what());
    }
    o.config_file_given = config->count() > 0;
    // optparse semantics: the last of --attach/--detach, of the
    // --advertise-* pair, and of each classifier option wins; classifier keys
    // keep the order of their first appearance (Python dict.update).
    for (const CLI::Option* opt : app.parse_order()) {
        if (opt == attach) o.operation = "attach";
        if (opt == detach) o.operation = "detach";
        if (opt == singleton) o.advertise_subnet = false;
        if (opt == subnet) o.advertise_subnet = true;
        for (const auto& [classifier_opt, key] : classifier_options) {
            if (opt == classifier_opt) o.classifier[key] = opt->results().back();
        }
    }
    return o;
}

// The checks of the original, made before any command is run.
void Validate(Options& o) {
    if (o.operation.empty()) Fail(kExitUsage, "Need to specify --attach or --detach");
    if (o.port.empty()) Fail(kExitUsage, "Need to specify --port <localport>");
    if (o.network_type.empty()) Fail(kExitUsage, "Need to specify --network-type");
    if (o.ip.empty()) Fail(kExitUsage, "Need to specify --ip");
    const bool netns = o.port.rfind("netns", 0) == 0;
    if (o.port.rfind("evpn:", 0) == 0 && o.network_type != "ipvpn")
        Fail(kExitUsage, "Can only plug an evpn into an ipvpn");
    if (o.mac.empty() && o.network_type == "evpn" && !netns)
        Fail(kExitUsage,
             "Need to specify --mac for an EVPN network attachment if port is not 'netns'");
    if (!o.redirect_rts.empty()) {
        if (o.classifier.empty())
            Fail(kExitUsage,
                 "Need to specify --redirect-rt and at least one traffic classifier option");
        if (!o.attract_to_rts.empty() && o.static_dest_prefixes.empty())
            Fail(kExitUsage,
                 "Need to specify --attract-to-rt and at least one static destination prefix "
                 "option");
    }
}

// --port netns[:if]: creates the namespace (attach only) and returns the
// host-side interface, setting o.mac from the namespace side when not given.
std::string PrepareNetnsPort(Options& o, const CommandRunner& run) {
    if (o.netns.empty()) o.netns = o.vpn_instance_id;
    std::string if2netns = bagpipe::tools::VpnToNetnsIfName(o.netns);
    const size_t colon = o.port.find(':');
    if (colon != std::string::npos && o.port.find(':', colon + 1) == std::string::npos)
        if2netns = o.port.substr(colon + 1);
    std::string error;
    if (o.operation == "attach") {
        bagpipe::tools::NetnsPort port{o.netns, if2netns, o.if2vpn, o.ip, o.gateway_ip,
                                       std::nullopt, std::nullopt};
        if (!o.mac.empty()) port.mac = o.mac;
        if (o.ovs_vlan && *o.ovs_vlan) port.vlan = o.ovs_vlan;
        if (!CreateNetnsPort(run, port, &error)) Fail(kExitError, error);
    }
    if (o.mac.empty()) {
        auto mac = bagpipe::tools::ReadDeviceMac(o.netns, o.if2vpn, &error);
        if (mac) {
            o.mac = *mac;
        } else if (run.dry_run()) {
            std::printf("dry-run: %s; mac_address left null\n", error.c_str());
        } else {
            Fail(kExitError, error);
        }
    }
    std::printf("Local port: %s (%s)\n", if2netns.c_str(), o.mac.c_str());
    if (!run.dry_run() && !run.Run({"ip", "link", "show", if2netns}, true, &error))
        Fail(kExitError, error);
    return if2netns;
}

Json LocalPort(const Options& o, const CommandRunner& run) {
    Json local_port = Json::object();
    if (o.port.rfind("evpn:", 0) == 0) {
        std::printf("will plug evpn %s into the IPVPN\n", o.port.substr(5).c_str());
        local_port["evpn"] = Json{{"id", o.port.substr(5)}};
        return local_port;
    }
    local_port["linuxif"] = o.port;
    if (o.ovs_preplug && o.network_type == "ipvpn") {
        // Only the ipvpn OVS driver needs the port in the bridge beforehand.
        std::printf("pre-plugging %s into %s\n", o.port.c_str(), o.ovs_bridge.c_str());
        std::string error;
        (void)run.Run({"ovs-vsctl", "del-port", o.ovs_bridge, o.port}, false, &error);
        if (!run.Run({"ovs-vsctl", "add-port", o.ovs_bridge, o.port}, true, &error))
            Fail(kExitError, error);
        Json ovs = {{"port_name", o.port}, {"plugged", true}};
        if (o.ovs_vlan && *o.ovs_vlan) ovs["vlan"] = *o.ovs_vlan;
        local_port["ovs"] = ovs;
    }
    return local_port;
}

Json BuildRequest(const Options& o, const Json& local_port, const std::vector<std::string>& imp,
                  const std::vector<std::string>& exp) {
    Json readvertise = nullptr;
    if (!o.readv_to_rts.empty())
        readvertise = Json{{"from_rt", o.readv_from_rts}, {"to_rt", o.readv_to_rts}};
    Json attract = Json::object();
    if (!o.redirect_rts.empty()) {
        attract["redirect_rts"] = o.redirect_rts;
        attract["classifier"] = o.classifier;
        if (!o.attract_to_rts.empty()) {
            attract["to_rt"] = o.attract_to_rts;  // the original sent "to" (ignored)
            attract["static_destination_prefixes"] = o.static_dest_prefixes;
        }
    }
    Json data = Json::object();
    data["import_rt"] = imp;
    data["export_rt"] = exp;
    data["local_port"] = local_port;
    data["vpn_instance_id"] = o.vpn_instance_id;
    data["vpn_type"] = o.network_type;
    data["gateway_ip"] = o.gateway_ip;
    data["mac_address"] = o.mac.empty() ? Json(nullptr) : Json(o.mac);
    data["ip_address"] = o.ip;
    data["advertise_subnet"] = o.advertise_subnet;
    data["readvertise"] = readvertise;
    data["attract_traffic"] = attract;
    data["lb_consistent_hash_order"] = o.lb_consistent_hash_order;
    data["vni"] = o.vni;
    if (o.local_pref && *o.local_pref) data["local_pref"] = *o.local_pref;
    if (!o.direction.empty()) data["direction"] = o.direction;
    return data;
}

int Send(const Options& o, const std::string& body) {
    uint16_t port = bagpipe::tools::kDefaultApiPort;
    if (o.api_port) {
        port = *o.api_port;
    } else if (auto configured = bagpipe::tools::ConfiguredApiPort(o.config_file)) {
        port = *configured;
    } else if (o.config_file_given) {
        std::fprintf(stderr, "%s: warning: no [API] port in %s, using %u\n", kProgram,
                     o.config_file.c_str(), unsigned{port});
    }
    const std::string target = "/" + o.operation + "_localport";
    const std::string url = bagpipe::tools::HttpBase(o.server, port) + target;
    if (o.dry_run) {
        std::printf("dry-run: not sent to %s\n", url.c_str());
        return 0;
    }
    const auto r = bagpipe::tools::HttpRequest(o.server, port, target, body, kProgram);
    if (!r.answered()) {
        std::fprintf(stderr, "%s: error: cannot reach %s: %s\n", kProgram, url.c_str(),
                     r.error.c_str());
        return kExitError;
    }
    std::string shown = r.body;
    while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r')) shown.pop_back();
    std::printf("response: %d %s\n", r.status, shown.c_str());
    if (r.success()) return 0;
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error %d (%s): %s\n", kProgram, r.status, r.reason.c_str(),
                 bagpipe::tools::ErrorMessage(r).c_str());
    return kExitError;
}

}  // namespace

int main(int argc, char** argv) {
    Options o = ParseArgs(argc, argv);
    Validate(o);
    const CommandRunner run(o.dry_run);

    if (o.rts.empty() && o.import_rts.empty() && o.export_rts.empty())
        o.rts = {o.network_type == "ipvpn" ? "64512:512" : "64512:513"};
    std::vector<std::string> import_rts = o.rts, export_rts = o.rts;
    import_rts.insert(import_rts.end(), o.import_rts.begin(), o.import_rts.end());
    export_rts.insert(export_rts.end(), o.export_rts.begin(), o.export_rts.end());

    static const std::regex kHasMask(".*/[0-9]+$");
    if (!std::regex_match(o.ip, kHasMask)) o.ip += "/24";
    if (o.gateway_ip.empty()) {
        std::string error;
        auto gw = LastUsableAddress(o.ip, &error);
        if (!gw) Fail(kExitUsage, error);
        std::printf("using %s as gateway address\n", gw->c_str());
        o.gateway_ip = *gw;
    }
    if (o.vpn_instance_id == kDefaultInstanceId)
        o.vpn_instance_id = o.network_type + "-" + o.vpn_instance_id;

    const bool netns_port = o.port.rfind("netns", 0) == 0;
    if (netns_port) o.port = PrepareNetnsPort(o, run);
    const Json local_port = LocalPort(o, run);
    // (A netns port has its MAC now, except in a dry run before the namespace exists.)
    if (o.mac.empty() && o.network_type == "ipvpn" && !netns_port) o.mac = kDefaultIpvpnMac;

    std::string body;
    PyDump(BuildRequest(o, local_port, import_rts, export_rts), body);
    std::printf("request: %s\n", body.c_str());
    std::fflush(stdout);
    return Send(o, body);
}
