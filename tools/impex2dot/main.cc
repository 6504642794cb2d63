// bagpipe-impex2dot: queries the looking glass of one or more bagpipe-bgp
// daemons (vpns/instances, then each instance and its ports) and writes on
// stdout a Graphviz digraph of the route-target import/export relations
// between their VPN instances and ports, as the original does:
//
//   bagpipe-impex2dot --server 10.0.0.1 --server 10.0.0.2 | dot -Tpdf > impex.pdf
//
// Nodes: one circle per route target (rt_64512_512), one record per VRF or
// EVI (vpn_<server>__<instance>), one invisible point per port. Edges:
// RT -> instance (import), instance -> RT (export), the re-advertisement
// (from RT -> <readv> -> to RT), attract-traffic FlowSpec redirection, the
// instance's ports, and EVI -> VRF when an E-VPN is plugged into an IP-VPN.
// The output is deterministic (servers, then instances in looking-glass
// order).
//
// Exit status: 0, or 1 when a looking glass cannot be reached or answers an
// error other than 404 (a 404 counts as empty, as in the original).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "http_client.h"

namespace {

using Json = nlohmann::json;

constexpr const char* kProgram = "bagpipe-impex2dot";

constexpr const char* kRtTextStyle = R"(color="orange",fontcolor="orange")";
constexpr const char* kRtStyle = R"(color="orange",fontcolor="orange",arrowhead=onormal)";
constexpr const char* kRtStyleRedirFromRt =
    R"(color="orange",fontcolor="orange",style=dashed,arrowhead=diamond,arrowtail=oinv,)"
    R"(headclip=false,dir=both)";
constexpr const char* kRtStyleRedirToRt =
    R"(color="orange",fontcolor="orange",style=dashed,arrowhead=onormal,tailclip=false,)"
    R"(dir=both,arrowtail=oinv)";
constexpr const char* kRtStyleFlowspec = R"(color="red",fontcolor="red",style=dotted)";
constexpr const char* kRtStyleFlowspecInter =
    R"(color="red",fontcolor="red",style=dotted,arrowhead=none,dir=both,arrowtail=oinv)";
constexpr const char* kRtStyleFlowspecAction = R"(color="red",fontcolor="red",style=dashed)";
constexpr const char* kPortLinkStyle = R"(style=dashed,dir=none,color="gray",weight=3)";

struct FetchError {
    std::string message;
};

// One looking glass.
class LookingGlass {
public:
    LookingGlass(std::string server, uint16_t port, std::string prefix)
        : server_(std::move(server)), port_(port), prefix_(std::move(prefix)) {}

    const std::string& server() const { return server_; }

    // GET <prefix>/<path...>; {} on 404. Throws FetchError otherwise.
    Json Fetch(const std::vector<std::string>& path) const {
        std::string target = "/" + prefix_;
        for (const auto& p : path) target += "/" + Quote(p);
        const std::string url = bagpipe::tools::HttpBase(server_, port_) + target;
        const auto r = bagpipe::tools::HttpRequest(server_, port_, target, std::nullopt, kProgram);
        if (r.status == 404) return Json::object();
        if (!r.answered())
            throw FetchError{"Error requesting " + url + ": " + r.error};
        if (r.status != 200)
            throw FetchError{"Error requesting " + url + ": " + std::to_string(r.status) + " " +
                             bagpipe::tools::ErrorMessage(r)};
        Json j = Json::parse(r.body, nullptr, false);
        if (j.is_discarded()) throw FetchError{"Error requesting " + url + ": not JSON"};
        return j;
    }

private:
    static std::string Quote(const std::string& s) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        std::string out;
        for (unsigned char c : s) {
            if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || c == ':') {
                out += static_cast<char>(c);
            } else {
                out += '%';
                out += kHex[c >> 4];
                out += kHex[c & 15];
            }
        }
        return out;
    }

    std::string server_;
    uint16_t port_;
    std::string prefix_;
};

struct Instance {
    std::string server;
    std::string id;
    std::string type;  // "VRF", "EVI" (first 3 characters of its name)
    std::vector<std::string> import_rts, export_rts;
    std::vector<std::string> readv_from, readv_to;
    Json attract = Json::object();
    std::vector<std::string> ports;
    std::optional<std::string> gateway_ipvpn;  // EVI plugged into this VRF id
};

// Insertion-ordered set of names.
class OrderedSet {
public:
    void Add(const std::string& s) {
        if (seen_.insert(s).second) items_.push_back(s);
    }
    const std::vector<std::string>& items() const { return items_; }

private:
    std::set<std::string> seen_;
    std::vector<std::string> items_;
};

// The original's normalize(): "target:" -> "rt:", then ':', '-', '.' -> '_';
// any other character that is not valid in a bare Graphviz ID too.
std::string Normalize(std::string s) {
    if (s.rfind("target:", 0) == 0) s = "rt:" + s.substr(7);
    for (char& c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return s;
}

// RT node id; an RT written without "target:" gets the same name.
std::string RtNode(const std::string& rt) {
    return Normalize(rt.rfind("target:", 0) == 0 ? rt : "target:" + rt);
}

std::string VpnUid(const std::string& server, const std::string& vpn) {
    return "vpn_" + Normalize(server) + "__" + Normalize(vpn);
}

std::string VpnShort(const std::string& vpn) {
    return vpn.size() > 11 ? vpn.substr(0, 4) + ".." + vpn.substr(vpn.size() - 5) : vpn;
}

// Text inside a double-quoted record label.
std::string RecordText(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (std::string_view("\"\\{}|<> ").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

std::vector<std::string> Strings(const Json& j) {
    std::vector<std::string> out;
    if (!j.is_array()) return out;
    for (const auto& v : j) {
        if (v.is_string()) out.push_back(v.get<std::string>());
    }
    return out;
}

// detail[key], following it when it is only a link ({"href": ...}).
Json Member(const LookingGlass& lg, const std::string& id, const Json& detail,
            const std::string& key) {
    if (!detail.is_object() || !detail.contains(key)) return lg.Fetch({"vpns", "instances", id, key});
    const Json& v = detail[key];
    if (v.is_object() && v.size() == 1 && v.contains("href"))
        return lg.Fetch({"vpns", "instances", id, key});
    return v;
}

std::vector<Instance> Collect(const LookingGlass& lg) {
    std::vector<Instance> out;
    const Json list = lg.Fetch({"vpns", "instances"});
    if (!list.is_array()) return out;
    for (const auto& entry : list) {
        if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string()) continue;
        Instance in;
        in.server = lg.server();
        in.id = entry["id"].get<std::string>();
        const Json detail = lg.Fetch({"vpns", "instances", in.id});
        std::string name = entry.value("name", std::string());
        if (name.empty() && detail.is_object()) name = detail.value("name", std::string());
        in.type = name.substr(0, 3);
        const Json rts = Member(lg, in.id, detail, "route_targets");
        if (rts.is_object()) {
            in.import_rts = Strings(rts.value("import", Json::array()));
            in.export_rts = Strings(rts.value("export", Json::array()));
        }
        const Json readv = Member(lg, in.id, detail, "readvertise");
        if (readv.is_object()) {
            in.readv_from = Strings(readv.value("from", Json::array()));
            in.readv_to = Strings(readv.value("to", Json::array()));
            // The original looked for it here; the daemon shows it beside readvertise.
            if (readv.contains("attract_traffic")) in.attract = readv["attract_traffic"];
        }
        const Json attract = Member(lg, in.id, detail, "attract_traffic");
        if (attract.is_object() && !attract.empty()) in.attract = attract;
        if (!in.attract.is_object()) in.attract = Json::object();
        const Json ports = Member(lg, in.id, detail, "ports");
        if (ports.is_object()) {
            for (const auto& [port, _] : ports.items()) in.ports.push_back(port);
        }
        if (detail.is_object() && detail.contains("gateway_port")) {
            const Json& gw = detail["gateway_port"];
            if (gw.is_object() && gw.contains("ipvpn") && gw["ipvpn"].is_object() &&
                gw["ipvpn"].contains("external_instance_id") &&
                gw["ipvpn"]["external_instance_id"].is_string())
                in.gateway_ipvpn = gw["ipvpn"]["external_instance_id"].get<std::string>();
        }
        out.push_back(std::move(in));
    }
    return out;
}

void PrintInstanceNodes(std::ostream& o, const std::vector<Instance>& vpns, const char* type) {
    for (const auto& in : vpns) {
        if (in.type != type) continue;
        const std::string server_spec =
            in.server != "localhost" ? "\\n[" + RecordText(in.server) + "]" : "";
        o << "        " << VpnUid(in.server, in.id) << " [label=\"{<0>" << type << "\\n"
          << RecordText(VpnShort(in.id)) << server_spec
          << (std::string(type) == "VRF" ? "|<readv>" : "") << "}\",shape=\"record\"];\n";
    }
}

void PrintInstanceEdges(std::ostream& o, const Instance& in,
                        std::vector<std::pair<std::string, std::string>>& ports) {
    const std::string uid = VpnUid(in.server, in.id);
    o << "    /* " << in.server << ":" << in.id << " */\n";
    for (const auto& rt : in.import_rts)
        o << "    " << RtNode(rt) << " -> " << uid << ":0 [" << kRtStyle << "];\n";
    for (const auto& rt : in.export_rts)
        o << "    " << uid << ":0 -> " << RtNode(rt) << " [" << kRtStyle << "];\n";
    const std::string readv = uid + ":readv";
    for (const auto& rt : in.readv_from)
        o << "    " << RtNode(rt) << " -> " << readv << " [label=\"\"," << kRtStyleRedirFromRt
          << "];\n";
    for (const auto& rt : in.readv_to)
        o << "    " << readv << " -> " << RtNode(rt) << " [label=\"\"," << kRtStyleRedirToRt
          << "];\n";
    const std::vector<std::string> redirect = Strings(in.attract.value("redirect_rts", Json()));
    if (!redirect.empty()) {
        std::vector<std::string> to = in.readv_to;
        if (to.empty()) to = Strings(in.attract.value("to", in.attract.value("to_rt", Json())));
        const std::string mid = "attract_" + Normalize(in.server) + "__" + Normalize(in.id);
        o << "    " << mid << " [style=invis,height=0,width=0,fixedsize=true,rank=1]\n";
        o << "    " << readv << " -> " << mid << " [label=\"flow\"," << kRtStyleFlowspecInter
          << "];\n";
        o << "    " << mid << " -> " << RtNode(redirect[0]) << " [label=\"\",weight=50,"
          << kRtStyleFlowspec << "];\n";
        if (!to.empty())
            o << "    " << mid << " -> " << RtNode(to[0]) << " [label=\"action\","
              << kRtStyleFlowspecAction << ",arrowhead=none,weight=20];\n";
    }
    for (const auto& port : in.ports) {
        o << "    " << uid << " -> port_" << Normalize(in.server) << "_" << Normalize(port) << " ["
          << kPortLinkStyle << ",weight=5];\n";
        std::pair<std::string, std::string> key{in.server, Normalize(port)};
        if (std::find(ports.begin(), ports.end(), key) == ports.end()) ports.push_back(key);
    }
    if (in.gateway_ipvpn)
        o << "    " << uid << " -> " << VpnUid(in.server, *in.gateway_ipvpn)
          << " [weight=500];\n";
}

std::string Graph(const std::vector<Instance>& vpns) {
    OrderedSet rts;
    for (const auto& in : vpns) {
        for (const auto* list : {&in.import_rts, &in.export_rts, &in.readv_from, &in.readv_to})
            for (const auto& rt : *list) rts.Add(RtNode(rt));
        for (const auto& rt : Strings(in.attract.value("redirect_rts", Json())))
            rts.Add(RtNode(rt));
        for (const auto& rt : Strings(in.attract.value("to", in.attract.value("to_rt", Json()))))
            rts.Add(RtNode(rt));
    }
    std::ostringstream o;
    o << "digraph import_export {\n";
    o << "   node [fontname=\"Helvetica\"];\n";
    o << "   edge [fontname=\"Helvetica\"];\n";
    o << "   nodesep=0.55;\n";
    o << "   subgraph rts {\n";
    o << "       rank=same;\n";
    for (const auto& rt : rts.items()) {
        std::string label = rt;
        for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        std::string escaped;
        for (char c : label) escaped += c == '_' ? std::string("\\n") : std::string(1, c);
        o << "        " << rt << " [shape=\"circle\",label=\"" << escaped << "\","
          << kRtTextStyle << "];\n";
    }
    o << "    }\n";
    o << "    subgraph ipvpns {\n";
    o << "        rank=same;\n";
    PrintInstanceNodes(o, vpns, "VRF");
    o << "    }\n";
    o << "    subgraph evpns {\n";
    PrintInstanceNodes(o, vpns, "EVI");
    o << "    }\n";
    std::vector<std::pair<std::string, std::string>> ports;  // (server, normalized port)
    for (const auto& in : vpns) PrintInstanceEdges(o, in, ports);
    std::vector<std::pair<std::string, std::string>> dests;
    for (const auto& [server, port] : ports) {
        const std::string node = "port_" + Normalize(server) + "_" + port;
        o << "    " << node << " [label=\"\",style=invis,height=0,width=0,fixedsize=true];\n";
        if (port.rfind("to_", 0) == 0) {
            const size_t end = port.find('_', 3);
            const std::string dest = port.substr(3, end == std::string::npos ? end : end - 3);
            o << "    " << node << " -> dest_" << Normalize(server) << "_" << dest
              << " [style=dashed,dir=none,color=\"gray\",weight=5];\n";
            std::pair<std::string, std::string> key{server, dest};
            if (std::find(dests.begin(), dests.end(), key) == dests.end()) dests.push_back(key);
        }
    }
    for (const auto& [server, dest] : dests)
        o << "    dest_" << Normalize(server) << "_" << dest << " [label=\"" << dest << "\\n["
          << server << "]\",shape=\"square\",color=\"gray\"];\n";
    o << "}\n";
    return o.str();
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> servers;
    std::optional<uint16_t> port;
    std::string prefix = "looking-glass";
    std::string config_file = "/etc/bagpipe-bgp/bgp.conf";

    CLI::App app{"bagpipe-impex2dot: Graphviz graph of the route-target import/export relations "
                 "between the VPN instances of bagpipe-bgp daemons\n"
                 "Example: bagpipe-impex2dot --server s1 --server s2 | dot -Tpdf > impex.pdf",
                 kProgram};
    app.add_option("--server", servers,
                   "IP address of a bagpipe-bgp instance (repeatable; default: localhost)")
        ->allow_extra_args(false)
        ->type_size(1);
    app.add_option("--port", port,
                   "port of the REST API (default: [API] port of --config-file, else 8082)");
    app.add_option("--prefix", prefix, "looking glass URL prefix")->capture_default_str();
    app.add_option("--config-file", config_file, "bgp.conf to read the default port from")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    if (servers.empty()) servers = {"localhost"};
    const uint16_t p = port ? *port
                            : bagpipe::tools::ConfiguredApiPort(config_file)
                                  .value_or(bagpipe::tools::kDefaultApiPort);
    std::vector<Instance> vpns;
    try {
        for (const auto& server : servers) {
            auto found = Collect(LookingGlass(server, p, prefix));
            for (auto& in : found) {
                const bool dup = std::any_of(vpns.begin(), vpns.end(), [&](const Instance& v) {
                    return v.server == in.server && v.id == in.id;
                });
                if (!dup) vpns.push_back(std::move(in));
            }
        }
    } catch (const FetchError& e) {
        std::fprintf(stderr, "%s: %s\n", kProgram, e.message.c_str());
        return 1;
    }
    std::cout << Graph(vpns);
    std::cout.flush();
    return std::cout ? 0 : 1;
}
