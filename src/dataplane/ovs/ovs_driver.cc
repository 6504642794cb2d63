// The IP-VPN ovs dataplane driver (ovs_driver.h).
#include "dataplane/ovs/ovs_driver.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <charconv>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <spdlog/spdlog.h>
#include <sstream>

#include "config/config.h"
#include "config/config_loader.h"
#include "dataplane/ovs/child_process.h"

namespace bagpipe::dataplane::ovs {

using nlohmann::json;

namespace {

constexpr std::string_view kGrePort = "mpls_gre";
constexpr std::string_view kVxlanPort = "vxlan";
constexpr size_t kSentLinesKept = 20000;
constexpr int kNeighbourPolls = 100;        // x 100 ms
constexpr auto kNeighbourPollInterval = std::chrono::milliseconds(100);

std::string NowText() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// OVS port names we put in flow text: no quoting needed.
bool ValidPortName(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
            return false;
    return true;
}

std::optional<uint64_t> ParseU64(std::string_view s) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

// MAC of a kernel interface of this network namespace (SIOCGIFHWADDR).
std::optional<std::string> InterfaceMac(const std::string& name) {
    if (name.empty() || name.size() >= IFNAMSIZ) return std::nullopt;
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::nullopt;
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    int rc = ::ioctl(fd, SIOCGIFHWADDR, &ifr);
    ::close(fd);
    if (rc < 0) return std::nullopt;
    const auto* b = reinterpret_cast<const uint8_t*>(ifr.ifr_hwaddr.sa_data);
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4],
                       b[5]);
}

// A complete entry for `ip` in the kernel's IPv4 neighbour table.
std::optional<std::string> ArpTableLookup(const std::string& ip) {
    std::ifstream in("/proc/net/arp");
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream s(line);
        std::string addr, hwtype, flags, mac;
        if (!(s >> addr >> hwtype >> flags >> mac)) continue;
        if (addr != ip) continue;
        unsigned long f = std::strtoul(flags.c_str(), nullptr, 16);
        if ((f & 0x2) && mac != "00:00:00:00:00:00") return mac;
    }
    return std::nullopt;
}

// Makes the kernel resolve `ip` (ARP): one UDP datagram to the discard port.
void ProvokeResolution(const bgp::IpAddress& ip) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return;
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(9);
    sa.sin_addr.s_addr = htonl(ip.v4());
    char byte = 0;
    (void)::sendto(fd, &byte, 1, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::close(fd);
}

}  // namespace

// ---------------------------------------------------------------------------
// Options.

DataplaneResult<OvsDriverOptions> OvsDriverOptions::FromConfig(
    const config::DataplaneDriverConfig& c) {
    OvsDriverOptions o;
    o.local_address = c.local_address;
    o.config["dataplane_driver"] = c.configured_driver.empty() ? c.driver : c.configured_driver;
    o.config["dataplane_local_address"] =
        c.local_address.empty() ? "" : c.local_address.ToString();
    auto bad = [](std::string_view key, std::string_view value, std::string_view expected) {
        return DataplaneStatus::InvalidArgument(fmt::format(
            "ipvpn ovs dataplane driver: option {} = \"{}\": {}", key, value, expected));
    };
    std::optional<bool> gre;
    uint64_t table_start = 1;
    for (const auto& option : c.options) {
        const std::string& key = option.first;  // not structured bindings: clang 14 lambdas
        const std::string& value = option.second;
        o.config[key] = value;
        auto boolean = [&](bool& out) -> DataplaneStatus {
            auto b = config::ParseBool(value);
            if (!b) return bad(key, value, "expected a boolean (True/False, yes/no, 1/0)");
            out = *b;
            return {};
        };
        auto integer = [&](uint64_t max) -> std::optional<uint64_t> {
            auto v = ParseU64(value);
            if (!v || *v > max) return std::nullopt;
            return v;
        };
        DataplaneStatus s;
        if (key == "ovs_bridge") {
            if (!ValidPortName(value)) return bad(key, value, "expected a bridge name");
            o.bridge = value;
        } else if (key == "mpls_interface") {
            if (!value.empty() && !ValidPortName(value))
                return bad(key, value, "expected an interface name");
            o.mpls_interface = value;
        } else if (key == "mpls_over_gre") {
            bool b = false;
            s = boolean(b);
            gre = b;
        } else if (key == "gre_tunnel_options") {
            for (const std::string& item : config::SplitList(value)) {
                size_t eq = item.find('=');
                if (eq == std::string::npos || eq == 0 || !ValidPortName(item.substr(0, eq)))
                    return bad(key, value, "expected a list of key=value");
                o.gre_tunnel_options.emplace_back(item.substr(0, eq), item.substr(eq + 1));
            }
        } else if (key == "arp_responder") {
            s = boolean(o.arp_responder);
        } else if (key == "proxy_arp") {
            s = boolean(o.proxy_arp);
        } else if (key == "vxlan_encap") {
            s = boolean(o.vxlan_encap);
        } else if (key == "reconcile") {
            s = boolean(o.reconcile);
        } else if (key == "input_table") {
            auto v = integer(253);
            if (!v) return bad(key, value, "expected a table number (0..253)");
            o.tables.input = static_cast<uint8_t>(*v);
        } else if (key == "ovs_table_id_start") {
            auto v = integer(252);
            if (!v) return bad(key, value, "expected a table number (0..252)");
            table_start = *v;
        } else if (key == "hash_method") {
            if (value != "dp_hash" && !value.starts_with("hash"))
                return bad(key, value, "expected dp_hash or hash[,fields(...)]");
            o.hash_method = value;
        } else if (key == "hash_method_param") {
            auto v = integer(UINT32_MAX);
            if (!v) return bad(key, value, "expected an integer");
            o.hash_method_param = *v;
        } else if (key == "ovsbr_interfaces_mtu") {
            auto v = integer(65535);
            if (!v || *v < 68) return bad(key, value, "expected an MTU (68..65535)");
            o.mtu = static_cast<uint32_t>(*v);
        } else if (key == "ovsdb_connection") {
            o.ovsdb_connection = value;
        } else if (key == "reconcile_grace" || key == "reconcile_grace_period") {
            auto v = integer(86400);
            if (!v) return bad(key, value, "expected seconds (0..86400)");
            o.reconcile_grace = std::chrono::seconds(*v);
        } else if (key == "command_timeout") {
            auto v = integer(3600);
            if (!v || *v == 0) return bad(key, value, "expected seconds (1..3600)");
            o.command_timeout = std::chrono::seconds(*v);
        } else if (key == "ovs_ofctl") {
            o.ovs_ofctl = value;
        } else if (key == "ovs_vsctl") {
            o.ovs_vsctl = value;
        }
        // Other keys: kept in `config`, ignored (as the dummy driver does).
        if (!s.ok()) return s;
    }
    o.tables.encap_in = static_cast<uint8_t>(table_start);
    o.tables.vrf = static_cast<uint8_t>(table_start + 1);
    if (o.tables.input == o.tables.encap_in || o.tables.input == o.tables.vrf)
        return bad("input_table", std::to_string(o.tables.input),
                   "must differ from ovs_table_id_start and ovs_table_id_start + 1");
    // The original's rule, minus its bug: GRE unless an mpls_interface is
    // given, and mpls_over_gre = False really means bare MPLS.
    o.mpls_over_gre = gre.value_or(o.mpls_interface.empty());
    if (!o.mpls_over_gre && o.mpls_interface.empty())
        return bad("mpls_over_gre", "False", "bare MPLS needs mpls_interface");
    if (o.mpls_over_gre && !o.local_address.is_v4())
        return bad("dataplane_local_address",
                   o.local_address.empty() ? "" : o.local_address.ToString(),
                   "MPLS over GRE needs an IPv4 local address");
    return o;
}

// ---------------------------------------------------------------------------
// The core.

namespace detail {

class OvsInstance;

// One command of the queue.
struct Command {
    std::vector<std::string> argv;
    std::string input;
    std::vector<std::string> lines;  // bundle lines (input), kept to split a failed batch
    bool bundle = false;
    std::function<void(const ChildResult&)> on_done;  // optional
};

// Shared by the driver and its instances (instances may briefly outlive it).
class OvsCore : public std::enable_shared_from_this<OvsCore> {
public:
    OvsCore(boost::asio::io_context& io, OvsDriverOptions options)
        : io(io), options(std::move(options)), sweep_timer(io) {
        if (this->options.reconcile) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
            tag = (static_cast<uint64_t>(ms) & 0x7fffffffu) | 1u;
            next_group_id = static_cast<uint32_t>(((tag % 0x7fff) + 1) << 16);
        }
    }

    uint64_t Cookie(uint32_t instance_id) const { return (tag << 32) | instance_id; }

    // --- flows and groups --------------------------------------------------
    void AddFlow(const Flow& f) {
        auto [it, inserted] = flows.try_emplace(f.key, FlowEntry{f, 0});
        ++it->second.refs;
        if (inserted || it->second.flow != f) {
            it->second.flow = f;
            Queue(FlowAddLine(f));
        }
    }
    void RemoveFlow(const FlowKey& key) {
        auto it = flows.find(key);
        if (it == flows.end()) return;
        if (--it->second.refs > 0) return;
        flows.erase(it);
        Queue(FlowDeleteStrictLine(key));
    }
    void SetGroup(uint32_t gid, uint32_t instance_id, std::string line) {
        auto& g = groups[gid];
        if (g.line == line) return;
        g = GroupEntry{instance_id, line};
        Queue(std::move(line));
    }
    void DeleteGroup(uint32_t gid) {
        if (groups.erase(gid) > 0) Queue(GroupDeleteLine(gid));
    }
    uint32_t AllocateGroupId() { return next_group_id++; }

    // --- the queue ---------------------------------------------------------
    void Queue(std::string line) {
        if (sent_lines.size() >= kSentLinesKept) sent_lines.pop_front();
        sent_lines.push_back(line);
        pending.push_back(std::move(line));
        if (!flush_posted) {
            flush_posted = true;
            std::weak_ptr<OvsCore> weak = weak_from_this();
            boost::asio::post(io, [weak] {
                if (auto self = weak.lock()) self->Flush();
            });
        }
    }
    std::vector<std::string> OfctlArgs(std::initializer_list<std::string> tail) const {
        std::vector<std::string> a{options.ovs_ofctl, "-O", "OpenFlow15"};
        a.insert(a.end(), tail);
        return a;
    }
    void Flush() {
        flush_posted = false;
        if (pending.empty()) return;
        Command c;
        c.bundle = true;
        c.lines = std::move(pending);
        pending.clear();
        commands.push_back(std::move(c));
        Pump();
    }
    void Vsctl(std::vector<std::string> args, std::function<void(const ChildResult&)> done = {}) {
        Flush();  // keep the call order
        Command c;
        c.argv = {options.ovs_vsctl};
        if (!options.ovsdb_connection.empty()) c.argv.push_back("--db=" + options.ovsdb_connection);
        c.argv.push_back(fmt::format("--timeout={}", options.command_timeout.count() / 1000));
        c.argv.insert(c.argv.end(), args.begin(), args.end());
        c.on_done = std::move(done);
        commands.push_back(std::move(c));
        Pump();
    }
    void Ofctl(std::vector<std::string> args, std::function<void(const ChildResult&)> done) {
        Flush();
        Command c;
        c.argv = {options.ovs_ofctl, "-O", "OpenFlow15"};
        c.argv.insert(c.argv.end(), args.begin(), args.end());
        c.on_done = std::move(done);
        commands.push_back(std::move(c));
        Pump();
    }
    void Pump() {
        if (running || commands.empty()) return;
        current = std::move(commands.front());
        commands.pop_front();
        if (current.bundle) {
            current.argv = OfctlArgs({"bundle", options.bridge, "-"});
            current.input.clear();
            for (const std::string& l : current.lines) current.input += l + "\n";
        }
        running = std::make_unique<ChildProcess>(io);
        ++commands_run;
        std::weak_ptr<OvsCore> weak = weak_from_this();
        running->Start(current.argv, current.input, options.command_timeout,
                       [weak](ChildResult r) {
                           if (auto self = weak.lock()) self->OnDone(std::move(r));
                       });
    }
    void OnDone(ChildResult r) {
        Command done = std::move(current);
        if (!r.ok()) {
            if (done.bundle && done.lines.size() > 1) {
                // One bad line fails the atomic bundle: retry both halves so
                // that the good lines still get programmed (in order).
                size_t half = done.lines.size() / 2;
                Command a, b;
                a.bundle = b.bundle = true;
                a.lines.assign(done.lines.begin(), done.lines.begin() + static_cast<long>(half));
                b.lines.assign(done.lines.begin() + static_cast<long>(half), done.lines.end());
                commands.push_front(std::move(b));
                commands.push_front(std::move(a));
            } else {
                std::string what = done.bundle ? done.lines.front()
                                               : fmt::format("{}", fmt::join(done.argv, " "));
                RecordError(what, r.Describe());
            }
        }
        if (done.on_done) done.on_done(r);
        // The child object is destroyed outside its own completion handler.
        std::weak_ptr<OvsCore> weak = weak_from_this();
        boost::asio::post(io, [weak] {
            if (auto self = weak.lock()) {
                self->running.reset();
                self->Pump();
            }
        });
    }
    void RecordError(std::string command, std::string error) {
        ++commands_failed;
        spdlog::error("ovs dataplane: {}: {}", command, error);
        errors.push_back(json{{"time", NowText()}, {"command", command}, {"error", error}});
        while (errors.size() > options.error_log_size) errors.pop_front();
    }

    // --- neighbours (bare MPLS) -------------------------------------------
    std::optional<std::string> RemoteMac(const bgp::IpAddress& pe);
    void PollNeighbour(bgp::IpAddress pe);
    void NotifyNeighbour(const bgp::IpAddress& pe);

    // --- reset and reconcile ----------------------------------------------
    void ResetAll();
    void Sweep();

    boost::asio::io_context& io;
    OvsDriverOptions options;
    uint64_t tag = 0;  // high 32 cookie bits: 0, or this run's tag in reconcile mode
    uint32_t next_group_id = 1;
    bool initialized = false;
    std::string mpls_if_mac;  // bare MPLS: source MAC

    struct FlowEntry {
        Flow flow;
        int refs = 0;
    };
    struct GroupEntry {
        uint32_t instance_id = 0;
        std::string line;
    };
    std::map<FlowKey, FlowEntry> flows;
    std::map<uint32_t, GroupEntry> groups;

    std::vector<std::string> pending;
    bool flush_posted = false;
    std::deque<Command> commands;
    Command current;
    std::unique_ptr<ChildProcess> running;
    uint64_t commands_run = 0;
    uint64_t commands_failed = 0;
    std::deque<json> errors;
    std::deque<std::string> sent_lines;

    struct Neighbour {
        std::optional<std::string> mac;
        int polls = 0;
        bool resolving = false;
        std::shared_ptr<boost::asio::steady_timer> timer;
    };
    std::map<bgp::IpAddress, Neighbour> neighbours;
    std::map<uint32_t, OvsInstance*> live;
    boost::asio::steady_timer sweep_timer;
    std::string sweep_state = "none";
};

// One VRF.
class OvsInstance final : public VpnInstanceDataplane {
public:
    OvsInstance(std::shared_ptr<OvsCore> core, InstanceConfig config)
        : core_(std::move(core)), config_(std::move(config)) {
        core_->live[config_.instance_id] = this;
    }
    ~OvsInstance() override {
        auto it = core_->live.find(config_.instance_id);
        if (it != core_->live.end() && it->second == this) core_->live.erase(it);
    }

    DataplaneStatus VifPlugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                               const LocalPort& port, uint32_t label,
                               Direction direction) override;
    DataplaneStatus VifUnplugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                                 const LocalPort& port, uint32_t label, Direction direction,
                                 bool last_endpoint) override;
    DataplaneStatus SetupRemoteEndpoint(const RemoteEndpoint& endpoint) override;
    DataplaneStatus RemoveRemoteEndpoint(const RemoteEndpoint& endpoint) override;
    DataplaneStatus UpdateFallback(const std::optional<Fallback>& fallback) override;
    DataplaneStatus Cleanup() override;
    DataplaneStatus AddTrafficClassifier(const TrafficClassifier& classifier,
                                         uint32_t redirect_instance_id) override;
    DataplaneStatus RemoveTrafficClassifier(const TrafficClassifier& classifier) override;
    DataplaneStatus AddBumEndpoint(const BumEndpoint&) override { return EvpnOnly(); }
    DataplaneStatus RemoveBumEndpoint(const BumEndpoint&) override { return EvpnOnly(); }
    DataplaneStatus SetGatewayPort(std::string_view, const bgp::IpAddress&) override {
        return EvpnOnly();
    }
    DataplaneStatus GatewayPortDown(std::string_view) override { return EvpnOnly(); }
    json ToJson() const override;

    // A remote PE's MAC became known: re-render the groups that use it.
    void OnNeighbour(const bgp::IpAddress& pe);

private:
    struct Plugged {
        LocalPort port;
        uint32_t label = 0;
        Direction direction = Direction::kBoth;
        std::vector<FlowKey> flows;
        std::string added_port;  // the port the driver added to the bridge, if any
        bgp::Prefix gateway;     // its ARP responder's (one flow per port and gateway,
                                 // shared by the endpoints using it: flows are counted)
    };
    struct NextHop {
        RemoteEndpoint endpoint;
        uint32_t bucket_id = 0;
        Tunnel tunnel = Tunnel::kGre;
    };
    struct PrefixState {
        uint32_t group_id = 0;
        std::map<std::pair<bgp::IpAddress, uint32_t>, NextHop> next_hops;
    };

    static DataplaneStatus EvpnOnly() {
        return DataplaneStatus::NotSupported("E-VPN calls are not supported by the ipvpn ovs driver");
    }
    DataplaneStatus CheckAlive() const {
        if (cleaned_up_)
            return DataplaneStatus::FailedPrecondition(fmt::format(
                "instance {} ({}) was cleaned up", config_.instance_id, config_.external_id));
        return {};
    }
    uint64_t cookie() const { return core_->Cookie(config_.instance_id); }
    bool InSubnet(const bgp::Prefix& p) const;
    bgp::Prefix GatewayOf(const LocalPort& port) const;
    void Render(const bgp::Prefix& prefix, PrefixState& st);

    std::shared_ptr<OvsCore> core_;
    InstanceConfig config_;
    bool cleaned_up_ = false;
    std::map<std::pair<bgp::MacAddress, bgp::IpAddress>, Plugged> plugged_;
    std::map<std::string, int> port_users_;  // ports we added -> endpoints using them
    std::map<bgp::Prefix, PrefixState> prefixes_;
    std::map<TrafficClassifier, std::pair<uint32_t, std::vector<FlowKey>>> classifiers_;
    std::optional<std::pair<Fallback, FlowKey>> fallback_;
};

// --- neighbours ------------------------------------------------------------

std::optional<std::string> OvsCore::RemoteMac(const bgp::IpAddress& pe) {
    Neighbour& n = neighbours[pe];
    if (n.mac) return n.mac;
    if (auto mac = ArpTableLookup(pe.ToString())) {
        n.mac = mac;
        return n.mac;
    }
    if (!n.resolving) {
        n.resolving = true;
        n.polls = 0;
        ProvokeResolution(pe);
        n.timer = std::make_shared<boost::asio::steady_timer>(io);
        PollNeighbour(pe);
    }
    return std::nullopt;
}

void OvsCore::PollNeighbour(bgp::IpAddress pe) {
    auto it = neighbours.find(pe);
    if (it == neighbours.end() || !it->second.timer) return;
    std::weak_ptr<OvsCore> weak = weak_from_this();
    it->second.timer->expires_after(kNeighbourPollInterval);
    it->second.timer->async_wait([weak, pe](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (ec || !self) return;
        auto it = self->neighbours.find(pe);
        if (it == self->neighbours.end()) return;
        Neighbour& n = it->second;
        if (auto mac = ArpTableLookup(pe.ToString())) {
            n.mac = mac;
            n.resolving = false;
            self->NotifyNeighbour(pe);
            return;
        }
        if (++n.polls >= kNeighbourPolls) {
            n.resolving = false;
            self->RecordError(fmt::format("resolve {}", pe.ToString()),
                              "no ARP entry for the remote PE after 10 s (bare MPLS needs its MAC)");
            return;
        }
        if (n.polls % 10 == 0) ProvokeResolution(pe);
        self->PollNeighbour(pe);
    });
}

void OvsCore::NotifyNeighbour(const bgp::IpAddress& pe) {
    std::vector<OvsInstance*> instances;
    for (auto& [id, inst] : live) instances.push_back(inst);
    for (OvsInstance* inst : instances) inst->OnNeighbour(pe);
}

// --- reset and reconcile ---------------------------------------------------

void OvsCore::ResetAll() {
    const Tables& t = options.tables;
    for (std::string_view proto : {"mpls", "ip", "arp"}) Queue(FlowDeleteLine(t.input, proto));
    Queue(FlowDeleteLine(t.encap_in, ""));
    Queue(FlowDeleteLine(t.vrf, ""));
    Queue("group delete group_id=all");
    flows.clear();
    groups.clear();
}

// Reconcile: delete the flows whose cookie tag differs from ours (one
// delete per tag bit: a different tag differs in at least one bit), and the
// groups OVS holds that we did not program.
void OvsCore::Sweep() {
    sweep_state = "running";
    const Tables& t = options.tables;
    for (int bit = 32; bit < 63; ++bit) {
        uint64_t m = uint64_t{1} << bit;
        uint64_t other = (~(tag << 32)) & m;
        std::string c = fmt::format("cookie={:#x}/{:#x}", other, m);
        for (std::string_view proto : {"mpls", "ip", "arp"})
            Queue(FlowDeleteLine(t.input, fmt::format("{},{}", proto, c)));
        Queue(FlowDeleteLine(t.encap_in, c));
        Queue(FlowDeleteLine(t.vrf, c));
    }
    std::weak_ptr<OvsCore> weak = weak_from_this();
    Ofctl({"dump-groups", options.bridge}, [weak](const ChildResult& r) {
        auto self = weak.lock();
        if (!self) return;
        if (!r.ok()) {
            self->sweep_state = "failed: " + r.Describe();
            return;
        }
        std::istringstream in(r.out);
        std::string line;
        size_t removed = 0;
        while (std::getline(in, line)) {
            size_t p = line.find("group_id=");
            if (p == std::string::npos) continue;
            p += 9;
            size_t e = p;
            while (e < line.size() && std::isdigit(static_cast<unsigned char>(line[e]))) ++e;
            auto gid = ParseU64(std::string_view(line).substr(p, e - p));
            if (gid && !self->groups.contains(static_cast<uint32_t>(*gid))) {
                self->Queue(GroupDeleteLine(static_cast<uint32_t>(*gid)));
                ++removed;
            }
        }
        self->sweep_state = fmt::format("done: {} stale group(s) removed", removed);
    });
}

// --- instance --------------------------------------------------------------

// In one of the instance's subnets (the first attach's, or one of a plugged
// endpoint's gateway).
bool OvsInstance::InSubnet(const bgp::Prefix& p) const {
    auto in = [&](const bgp::IpAddress& gw, uint8_t len) {
        if (!gw.is_v4() || !p.address.is_v4() || p.length < len) return false;
        uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
        return (p.address.v4() & mask) == (gw.v4() & mask);
    };
    if (in(config_.gateway_ip, config_.gateway_prefix_length)) return true;
    for (const auto& [key, pl] : plugged_)
        if (in(pl.gateway.address, pl.gateway.length)) return true;
    return false;
}

// The gateway a port's ARP responder answers for: its attach's
// (LocalPort::gateway), or the instance's when the caller gave none.
bgp::Prefix OvsInstance::GatewayOf(const LocalPort& port) const {
    if (!port.gateway.address.empty()) return port.gateway;
    return bgp::Prefix{config_.gateway_ip, config_.gateway_prefix_length};
}

namespace {

// Where the traffic of a local port goes in flows, and whether the driver
// must add it to the bridge first.
DataplaneResult<std::pair<PortRef, std::string>> ResolvePort(const LocalPort& port) {
    PortRef ref;
    std::string to_add;
    if (port.ovs && port.ovs->plugged) {
        if (port.ovs->port_number) {
            ref.name_or_number = std::to_string(*port.ovs->port_number);
        } else {
            ref.name_or_number = port.ovs->port_name;
        }
    } else {
        ref.name_or_number =
            port.ovs && !port.ovs->port_name.empty() ? port.ovs->port_name : port.linuxif;
        to_add = ref.name_or_number;
    }
    if (port.ovs) ref.vlan = port.ovs->vlan;
    if (!ValidPortName(ref.name_or_number))
        return DataplaneStatus::InvalidArgument(
            fmt::format("invalid OVS port name \"{}\"", ref.name_or_number));
    return std::pair{ref, to_add};
}

}  // namespace

DataplaneStatus OvsInstance::VifPlugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                                        const LocalPort& port, uint32_t label,
                                        Direction direction) {
    if (auto s = CheckAlive(); !s.ok()) return s;
    if (!ip.is_v4()) return DataplaneStatus::NotSupported("the ovs driver supports IPv4 endpoints only");
    if (label > bgp::kMaxMplsLabel)
        return DataplaneStatus::InvalidArgument(fmt::format("label {} out of range", label));
    auto resolved = ResolvePort(port);
    if (!resolved) return resolved.status();
    const auto& [ref, to_add] = resolved.value();
    const OvsDriverOptions& o = core_->options;
    const Tables& t = o.tables;

    const bgp::Prefix gateway = GatewayOf(port);
    Plugged next{port, label, direction, {}, to_add, gateway};
    std::vector<Flow> flows;
    if (direction != Direction::kToPort) {
        flows.push_back(FromPortFlow(t, cookie(), config_.instance_id, ref, "ip"));
        flows.push_back(FromPortFlow(t, cookie(), config_.instance_id, ref, "arp"));
        if (o.proxy_arp || (o.arp_responder && gateway.address.is_v4()))
            flows.push_back(ArpResponderFlow(t, cookie(), ref, gateway.address, o.proxy_arp));
    }
    if (direction != Direction::kFromPort) {
        flows.push_back(ToPortFlow(t, cookie(), label, mac, ref));
        if (o.vxlan_encap) {
            flows.push_back(ToPortFlow(t, cookie(), label, mac, ref, kVxlanPort));
            flows.push_back(LocalRouteFlow(t, cookie(), config_.instance_id, ip, mac, ref));
        }
    }

    auto key = std::pair{mac, ip};
    auto old = plugged_.find(key);
    if (!to_add.empty() && (old == plugged_.end() || old->second.added_port != to_add)) {
        if (port_users_[to_add]++ == 0) {
            std::vector<std::string> args{"--may-exist", "add-port", o.bridge, to_add};
            if (o.mtu) {
                args.insert(args.end(), {"--", "set", "interface", to_add,
                                         fmt::format("mtu_request={}", *o.mtu)});
            }
            core_->Vsctl(std::move(args));
        }
    }
    // Make before break: the new flows, then what the old state had extra.
    for (const Flow& f : flows) {
        core_->AddFlow(f);
        next.flows.push_back(f.key);
    }
    if (old != plugged_.end()) {
        for (const FlowKey& k : old->second.flows) core_->RemoveFlow(k);
        const std::string& was = old->second.added_port;
        if (!was.empty() && was != to_add && --port_users_[was] == 0) {
            port_users_.erase(was);
            core_->Vsctl({"--if-exists", "del-port", o.bridge, was});
        }
        old->second = std::move(next);
    } else {
        plugged_.emplace(key, std::move(next));
    }
    return {};
}

DataplaneStatus OvsInstance::VifUnplugged(const bgp::MacAddress& mac, const bgp::IpAddress& ip,
                                          const LocalPort&, uint32_t, Direction, bool) {
    if (auto s = CheckAlive(); !s.ok()) return s;
    auto it = plugged_.find(std::pair{mac, ip});
    if (it == plugged_.end()) return {};
    for (const FlowKey& k : it->second.flows) core_->RemoveFlow(k);
    const std::string added = it->second.added_port;
    plugged_.erase(it);
    // The port leaves the bridge with its last endpoint (the original's
    // port_unplug_action), only if the driver added it.
    if (!added.empty() && --port_users_[added] == 0) {
        port_users_.erase(added);
        core_->Vsctl({"--if-exists", "del-port", core_->options.bridge, added});
    }
    return {};
}

void OvsInstance::Render(const bgp::Prefix& prefix, PrefixState& st) {
    const OvsDriverOptions& o = core_->options;
    // One bucket per remote PE: a PE reachable with two encapsulations (a
    // VPNv4 route over MPLS and an E-VPN type 5 route over VXLAN) is one
    // next hop; VXLAN is preferred, as the original does with vxlan_encap.
    std::map<bgp::IpAddress, const NextHop*> chosen;
    for (auto& [k, nh] : st.next_hops) {
        auto [c, fresh] = chosen.try_emplace(nh.endpoint.remote_pe, &nh);
        if (!fresh && nh.tunnel == Tunnel::kVxlan && c->second->tunnel != Tunnel::kVxlan)
            c->second = &nh;
    }
    std::vector<Bucket> buckets;
    for (auto& [k, nh] : st.next_hops) {
        if (chosen.at(nh.endpoint.remote_pe) != &nh) continue;
        BucketSpec b;
        b.tunnel = nh.tunnel;
        b.dec_ttl = !InSubnet(prefix);
        b.label = nh.endpoint.label;
        b.remote_pe = nh.endpoint.remote_pe;
        b.local_pe = nh.endpoint.remote_pe == o.local_address;
        if (nh.tunnel == Tunnel::kVxlan) {
            b.out_port = kVxlanPort;
        } else if (nh.tunnel == Tunnel::kGre) {
            b.out_port = kGrePort;
        } else {
            b.out_port = o.mpls_interface;
            if (!b.local_pe) {
                auto mac = core_->RemoteMac(nh.endpoint.remote_pe);
                if (!mac) continue;  // added when the neighbour is resolved
                b.src_mac = core_->mpls_if_mac;
                b.dst_mac = *mac;
            }
        }
        buckets.push_back(Bucket{nh.bucket_id, BucketActions(o.tables, b)});
    }
    core_->SetGroup(st.group_id, config_.instance_id,
                    GroupLine(st.group_id, SelectionText(o.hash_method, o.hash_method_param),
                              buckets));
}

void OvsInstance::OnNeighbour(const bgp::IpAddress& pe) {
    for (auto& [prefix, st] : prefixes_) {
        bool uses = false;
        for (auto& [k, nh] : st.next_hops) uses |= nh.endpoint.remote_pe == pe;
        if (uses) Render(prefix, st);
    }
}

DataplaneStatus OvsInstance::SetupRemoteEndpoint(const RemoteEndpoint& e) {
    if (auto s = CheckAlive(); !s.ok()) return s;
    if (!e.remote_pe.is_v4()) return DataplaneStatus::InvalidArgument("no IPv4 remote PE address");
    if (!e.prefix.address.is_v4())
        return DataplaneStatus::NotSupported("the ovs driver supports IPv4 prefixes only");
    if (e.label > bgp::kMaxMplsLabel)
        return DataplaneStatus::InvalidArgument(fmt::format("label {} out of range", e.label));
    const OvsDriverOptions& o = core_->options;
    Tunnel tunnel;
    if (o.vxlan_encap && e.encaps.contains(Encapsulation::kVxlan)) {
        tunnel = Tunnel::kVxlan;
    } else if (e.encaps.contains(Encapsulation::kDefault) ||
               e.encaps.contains(o.mpls_over_gre ? Encapsulation::kMplsOverGre
                                                 : Encapsulation::kMpls)) {
        tunnel = o.mpls_over_gre ? Tunnel::kGre : Tunnel::kBareMpls;
    } else {
        return DataplaneStatus::InvalidArgument(
            fmt::format("no supported encapsulation in {}", fmt::join(e.encaps.Names(), ", ")));
    }
    auto [it, inserted] = prefixes_.try_emplace(e.prefix);
    PrefixState& st = it->second;
    if (inserted) st.group_id = core_->AllocateGroupId();
    auto key = std::pair{e.remote_pe, e.label};
    auto nh = st.next_hops.find(key);
    if (nh == st.next_hops.end()) {
        std::set<uint32_t> used;
        for (auto& [k, v] : st.next_hops) used.insert(v.bucket_id);
        uint32_t id = e.lb_consistent_hash_order;
        if (used.contains(id)) {
            id = 0;
            while (used.contains(id)) ++id;
        }
        st.next_hops.emplace(key, NextHop{e, id, tunnel});
    } else {
        nh->second.endpoint = e;
        nh->second.tunnel = tunnel;
    }
    // The group first, then the flow pointing to it.
    Render(e.prefix, st);
    if (inserted) core_->AddFlow(RouteFlow(o.tables, cookie(), config_.instance_id, e.prefix, st.group_id));
    return {};
}

DataplaneStatus OvsInstance::RemoveRemoteEndpoint(const RemoteEndpoint& e) {
    if (auto s = CheckAlive(); !s.ok()) return s;
    auto it = prefixes_.find(e.prefix);
    if (it == prefixes_.end()) return {};
    PrefixState& st = it->second;
    if (st.next_hops.erase(std::pair{e.remote_pe, e.label}) == 0) return {};
    if (st.next_hops.empty()) {
        core_->RemoveFlow(
            RouteFlow(core_->options.tables, cookie(), config_.instance_id, e.prefix, st.group_id).key);
        core_->DeleteGroup(st.group_id);
        prefixes_.erase(it);
    } else {
        Render(e.prefix, st);
    }
    return {};
}

DataplaneStatus OvsInstance::UpdateFallback(const std::optional<Fallback>& fallback) {
    if (auto s = CheckAlive(); !s.ok()) return s;
    if (fallback) {
        Flow f = FallbackFlow(core_->options.tables, cookie(), config_.instance_id, *fallback);
        core_->AddFlow(f);
        if (fallback_) core_->RemoveFlow(fallback_->second);
        fallback_ = std::pair{*fallback, f.key};
    } else if (fallback_) {
        core_->RemoveFlow(fallback_->second);
        fallback_.reset();
    }
    return {};
}

DataplaneStatus OvsInstance::AddTrafficClassifier(const TrafficClassifier& c,
                                                  uint32_t redirect_instance_id) {
    if (auto s = CheckAlive(); !s.ok()) return s;
    auto flows = ClassifierFlows(core_->options.tables, cookie(), config_.instance_id, c,
                                 redirect_instance_id);
    if (!flows) return flows.status();
    std::vector<FlowKey> keys;
    for (const Flow& f : flows.value()) {
        core_->AddFlow(f);
        keys.push_back(f.key);
    }
    auto old = classifiers_.find(c);
    if (old != classifiers_.end()) {
        for (const FlowKey& k : old->second.second) core_->RemoveFlow(k);
        old->second = {redirect_instance_id, std::move(keys)};
    } else {
        classifiers_.emplace(c, std::pair{redirect_instance_id, std::move(keys)});
    }
    return {};
}

DataplaneStatus OvsInstance::RemoveTrafficClassifier(const TrafficClassifier& c) {
    if (auto s = CheckAlive(); !s.ok()) return s;
    auto it = classifiers_.find(c);
    if (it == classifiers_.end()) return {};
    for (const FlowKey& k : it->second.second) core_->RemoveFlow(k);
    classifiers_.erase(it);
    return {};
}

DataplaneStatus OvsInstance::Cleanup() {
    if (auto s = CheckAlive(); !s.ok()) return s;
    std::vector<std::pair<bgp::MacAddress, bgp::IpAddress>> keys;
    for (auto& [k, p] : plugged_) keys.push_back(k);
    for (auto& k : keys) {
        const Plugged& p = plugged_.at(k);
        (void)VifUnplugged(k.first, k.second, p.port, p.label, p.direction, true);
    }
    while (!prefixes_.empty()) {
        auto& [prefix, st] = *prefixes_.begin();
        core_->RemoveFlow(
            RouteFlow(core_->options.tables, cookie(), config_.instance_id, prefix, st.group_id).key);
        core_->DeleteGroup(st.group_id);
        prefixes_.erase(prefixes_.begin());
    }
    for (auto& [c, v] : classifiers_)
        for (const FlowKey& k : v.second) core_->RemoveFlow(k);
    classifiers_.clear();
    if (fallback_) core_->RemoveFlow(fallback_->second);
    fallback_.reset();
    // Whatever else carries our cookie (the original's cookie=<id>/-1 delete).
    const Tables& t = core_->options.tables;
    for (uint8_t table : {t.input, t.encap_in, t.vrf})
        core_->Queue(FlowDeleteLine(table, fmt::format("cookie={:#x}/-1", cookie())));
    for (auto it = core_->flows.begin(); it != core_->flows.end();)
        it = it->second.flow.cookie == cookie() ? core_->flows.erase(it) : std::next(it);
    cleaned_up_ = true;
    return {};
}

json OvsInstance::ToJson() const {
    json flows = json::array();
    for (const auto& [k, e] : core_->flows)
        if (e.flow.cookie == cookie()) flows.push_back(FlowAddLine(e.flow).substr(9));
    json groups = json::array();
    for (const auto& [gid, g] : core_->groups)
        if (g.instance_id == config_.instance_id) groups.push_back(g.line.substr(17));
    json ports = json::array();
    for (const auto& [k, p] : plugged_)
        ports.push_back(json{{"mac", k.first.ToString()},
                             {"ip", k.second.ToString()},
                             {"port", dataplane::ToJson(p.port)},
                             {"label", p.label},
                             {"direction", DirectionName(p.direction)},
                             {"added_port", p.added_port.empty() ? json(nullptr) : json(p.added_port)}});
    json remotes = json::array();
    for (const auto& [prefix, st] : prefixes_)
        for (const auto& [k, nh] : st.next_hops) {
            json r = dataplane::ToJson(VpnType::kIpVpn, nh.endpoint);
            r["group_id"] = st.group_id;
            r["bucket_id"] = nh.bucket_id;
            r["tunnel"] = nh.tunnel == Tunnel::kGre        ? "gre"
                          : nh.tunnel == Tunnel::kVxlan    ? "vxlan"
                                                           : "mpls";
            remotes.push_back(std::move(r));
        }
    json classifiers = json::array();
    for (const auto& [c, v] : classifiers_) {
        json j = dataplane::ToJson(c);
        j["redirect_instance_id"] = v.first;
        classifiers.push_back(std::move(j));
    }
    std::set<std::string> gw_set;
    for (const auto& [key, pl] : plugged_)
        if (!pl.gateway.address.empty())
            gw_set.insert(fmt::format("{}/{}", pl.gateway.address.ToString(), pl.gateway.length));
    json gateways(gw_set);
    return json{
        {"instance_id", config_.instance_id},
        {"external_instance_id", config_.external_id},
        {"driver", "ovs"},
        {"cookie", fmt::format("{:#x}", cookie())},
        {"gateway_ip", AddressJson(config_.gateway_ip)},
        {"gateway_prefix_length", config_.gateway_prefix_length},
        {"gateways", gateways},
        {"instance_label", config_.instance_label},
        {"cleaned_up", cleaned_up_},
        {"ports", std::move(ports)},
        {"remote_endpoints", std::move(remotes)},
        {"classifiers", std::move(classifiers)},
        {"fallback", fallback_ ? dataplane::ToJson(fallback_->first) : json(nullptr)},
        {"flows", std::move(flows)},
        {"groups", std::move(groups)},
    };
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Driver.

OvsDataplaneDriver::OvsDataplaneDriver(boost::asio::io_context& io, OvsDriverOptions options)
    : core_(std::make_shared<detail::OvsCore>(io, std::move(options))) {}

OvsDataplaneDriver::~OvsDataplaneDriver() = default;

DataplaneStatus OvsDataplaneDriver::ResetState() {
    detail::OvsCore& c = *core_;
    if (!c.options.reconcile) {
        c.ResetAll();
        return {};
    }
    // Reconcile: keep the previous run's flows so that forwarding goes on;
    // ours replace them as instances come back; the rest is swept later.
    c.sweep_state = fmt::format("scheduled in {} s", c.options.reconcile_grace.count());
    c.sweep_timer.expires_after(c.options.reconcile_grace);
    std::weak_ptr<detail::OvsCore> weak = core_;
    c.sweep_timer.async_wait([weak](const boost::system::error_code& ec) {
        if (auto self = weak.lock(); self && !ec) self->Sweep();
    });
    return {};
}

DataplaneStatus OvsDataplaneDriver::Initialize() {
    detail::OvsCore& c = *core_;
    const OvsDriverOptions& o = c.options;
    const Tables& t = o.tables;
    std::string mpls_port;
    if (o.mpls_over_gre) {
        std::vector<std::string> args{"--may-exist", "add-port", o.bridge, std::string(kGrePort),
                                      "--", "set", "interface", std::string(kGrePort), "type=gre",
                                      "options:remote_ip=flow", "options:packet_type=legacy_l3",
                                      "options:local_ip=" + o.local_address.ToString()};
        for (const auto& [k, v] : o.gre_tunnel_options)
            args.push_back(fmt::format("options:{}={}", k, v));
        if (o.mtu) args.push_back(fmt::format("mtu_request={}", *o.mtu));
        c.Vsctl(std::move(args));
        mpls_port = kGrePort;
    } else {
        auto mac = InterfaceMac(o.mpls_interface);
        if (!mac) mac = InterfaceMac(o.bridge);
        if (!mac)
            return DataplaneStatus::Unavailable(fmt::format(
                "ovs dataplane: cannot read the MAC of mpls_interface {} nor of bridge {}",
                o.mpls_interface, o.bridge));
        c.mpls_if_mac = *mac;
        mpls_port = o.mpls_interface;
    }
    c.AddFlow(Flow{{t.input, kDefaultPriority, fmt::format("mpls,in_port={}", mpls_port)},
                   c.Cookie(0), fmt::format("resubmit(,{})", t.encap_in)});
    if (o.vxlan_encap) {
        std::vector<std::string> args{"--may-exist", "add-port", o.bridge, std::string(kVxlanPort),
                                      "--", "set", "interface", std::string(kVxlanPort),
                                      "type=vxlan", "options:remote_ip=flow", "options:key=flow"};
        if (o.local_address.is_v4()) args.push_back("options:local_ip=" + o.local_address.ToString());
        c.Vsctl(std::move(args));
        c.AddFlow(Flow{{t.input, kDefaultPriority, fmt::format("ip,in_port={}", kVxlanPort)},
                       c.Cookie(0), fmt::format("resubmit(,{})", t.encap_in)});
    }
    c.initialized = true;
    return {};
}

DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> OvsDataplaneDriver::CreateInstance(
    const InstanceConfig& config) {
    if (!core_->initialized)
        return DataplaneStatus::FailedPrecondition("ovs dataplane driver not initialized");
    if (config.instance_id == 0)
        return DataplaneStatus::InvalidArgument("instance id 0 is reserved");
    if (core_->options.vxlan_encap && config.instance_label != 0)
        core_->AddFlow(VxlanVrfFlow(core_->options.tables, core_->Cookie(config.instance_id),
                                    config.instance_id, config.instance_label, kVxlanPort));
    return std::unique_ptr<VpnInstanceDataplane>(
        std::make_unique<detail::OvsInstance>(core_, config));
}

EncapsulationSet OvsDataplaneDriver::SupportedEncapsulations() const {
    const OvsDriverOptions& o = core_->options;
    EncapsulationSet s{Encapsulation::kDefault,
                       o.mpls_over_gre ? Encapsulation::kMplsOverGre : Encapsulation::kMpls};
    if (o.vxlan_encap) s.insert(Encapsulation::kVxlan);
    return s;
}

DataplaneStatus OvsDataplaneDriver::ValidateDirection(Direction) const { return {}; }

bgp::IpAddress OvsDataplaneDriver::LocalAddress() const { return core_->options.local_address; }

std::optional<bgp::MacAddress> OvsDataplaneDriver::RouterMac() const {
    if (!core_->options.vxlan_encap) return std::nullopt;
    return bgp::MacAddress::Parse(kGatewayMac);
}

size_t OvsDataplaneDriver::pending_commands() const {
    return core_->commands.size() + (core_->running ? 1 : 0) + (core_->pending.empty() ? 0 : 1);
}

const std::deque<std::string>& OvsDataplaneDriver::sent_lines() const {
    return core_->sent_lines;
}

json OvsDataplaneDriver::ToJson() const {
    const detail::OvsCore& c = *core_;
    const OvsDriverOptions& o = c.options;
    json instances = json::array();
    for (const auto& [id, inst] : c.live) instances.push_back(id);
    json driver_flows = json::array();
    for (const auto& [k, e] : c.flows)
        if (e.flow.cookie == c.Cookie(0)) driver_flows.push_back(FlowAddLine(e.flow).substr(9));
    json neighbours = json::object();
    for (const auto& [ip, n] : c.neighbours)
        neighbours[ip.ToString()] = n.mac ? json(*n.mac) : json(n.resolving ? "resolving" : "unresolved");
    return json{
        {"name", "MPLSOVSDataplaneDriver"},
        {"driver", "ovs"},
        {"type", "ipvpn"},
        {"local_address", AddressJson(o.local_address)},
        {"supported_encaps", SupportedEncapsulations().Names()},
        {"ecmp_support", true},
        {"config", o.config},
        {"bridge", o.bridge},
        {"mode", o.mpls_over_gre ? "MPLS-over-GRE" : "MPLS-over-Ethernet"},
        {"mpls_interface", o.mpls_interface.empty() ? json(nullptr) : json(o.mpls_interface)},
        {"mpls_interface_mac", c.mpls_if_mac.empty() ? json(nullptr) : json(c.mpls_if_mac)},
        {"vxlan_encap", o.vxlan_encap},
        {"tables", json{{"input", o.tables.input}, {"encap_in", o.tables.encap_in}, {"vrf", o.tables.vrf}}},
        {"reconcile", json{{"enabled", o.reconcile},
                           {"cookie_tag", fmt::format("{:#x}", c.tag)},
                           {"sweep", c.sweep_state}}},
        {"initialized", c.initialized},
        {"instances", std::move(instances)},
        {"flows", std::move(driver_flows)},
        {"flow_count", c.flows.size()},
        {"group_count", c.groups.size()},
        {"neighbours", std::move(neighbours)},
        {"commands", json{{"run", c.commands_run},
                          {"failed", c.commands_failed},
                          {"queued", c.commands.size()},
                          {"running", c.running != nullptr}}},
        {"errors", json(c.errors)},
    };
}

}  // namespace bagpipe::dataplane::ovs
