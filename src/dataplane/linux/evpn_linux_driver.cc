// The E-VPN linux driver (evpn_linux_driver.h).
#include "dataplane/linux/evpn_linux_driver.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/config.h"
#include "config/config_loader.h"

namespace bagpipe::dataplane {

namespace {

// arp_ignore = 1 and no IPv6 on our own bridge's host interface, when that
// interface exists in this namespace (/proc/sys/net/.../<bridge>).
void QuietBridge(const std::string& bridge) {
    for (const auto& [path, value] :
         {std::pair<std::string, const char*>{"/proc/sys/net/ipv4/conf/" + bridge + "/arp_ignore", "1"},
          {"/proc/sys/net/ipv6/conf/" + bridge + "/disable_ipv6", "1"}}) {
        if (!std::filesystem::exists(path)) continue;
        std::ofstream f(path);
        f << value;
        if (!f) spdlog::warn("dataplane evpn linux: cannot write {}", path);
    }
}

}  // namespace

namespace nl = netlink;

namespace {

constexpr size_t kIfNameMax = 15;

std::string Truncate(std::string s) {
    if (s.size() > kIfNameMax) s.resize(kIfNameMax);
    return s;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::optional<uint64_t> ParseUint(std::string_view v, uint64_t max) {
    if (v.empty() || v.size() > 12) return std::nullopt;
    uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n > max) return std::nullopt;
    return n;
}

const bgp::MacAddress kZeroMac{};
constexpr uint16_t kFdbSelfState = nl::kNudPermanent | nl::kNudNoArp;   // `permanent`
constexpr uint16_t kFdbStaticState = nl::kNudNoArp | nl::kNudReachable;  // `static`

uint8_t Family(const bgp::IpAddress& a) { return a.is_v6() ? AF_INET6 : AF_INET; }

}  // namespace

std::string EvpnBridgeName(std::string_view id) {
    return Truncate(std::string(kEvpnBridgePrefix) + std::string(id));
}
std::string EvpnVxlanName(std::string_view id) {
    return Truncate(std::string(kEvpnVxlanPrefix) + std::string(id));
}

DataplaneResult<EvpnLinuxOptions> EvpnLinuxOptions::FromConfig(
    const config::DataplaneDriverConfig& c) {
    EvpnLinuxOptions o;
    o.local_address = c.local_address;
    o.config = c.options;
    o.config["dataplane_driver"] = c.configured_driver;
    o.config["dataplane_local_address"] = c.local_address.ToString();
    for (const auto& [key, value] : c.options) {
        if (key == "vxlan_dst_port") {
            auto n = ParseUint(value, 65535);
            if (!n || *n == 0)
                return DataplaneStatus::InvalidArgument(
                    fmt::format("vxlan_dst_port: invalid port '{}'", value));
            o.vxlan_dst_port = static_cast<uint16_t>(*n);
        } else if (key == "reconcile") {
            auto b = config::ParseBool(value);  // the config file's own boolean syntax
            if (!b)
                return DataplaneStatus::InvalidArgument(
                    fmt::format("reconcile: invalid boolean '{}'", value));
            o.reconcile = *b;
        } else if (key == "reconcile_grace") {
            auto n = ParseUint(value, 86400);
            if (!n)
                return DataplaneStatus::InvalidArgument(
                    fmt::format("reconcile_grace: invalid number of seconds '{}'", value));
            o.reconcile_grace = std::chrono::seconds(*n);
        } else if (key == "error_log_size") {
            auto n = ParseUint(value, 100000);
            if (!n)
                return DataplaneStatus::InvalidArgument(
                    fmt::format("error_log_size: invalid size '{}'", value));
            o.error_log_size = *n;
        }
    }
    if (o.local_address.empty())
        return DataplaneStatus::InvalidArgument(
            "dataplane_local_address: the linux E-VPN driver needs a VXLAN local address");
    return o;
}

DataplaneResult<EvpnLinuxTransport> EvpnLinuxTransport::Open(boost::asio::io_context* io) {
    auto sync = nl::NetlinkSocket::Open();
    if (!sync) return sync.status();
    auto shared = std::make_shared<nl::NetlinkSocket>(std::move(sync).value());
    EvpnLinuxTransport t;
    t.io = io;
    t.transact = [shared](std::vector<nl::Request> batch) {
        return shared->Transact(std::move(batch));
    };
    t.probe = [shared] { return nl::ProbeKernelFeatures(*shared); };
    if (io) {
        auto async = nl::NetlinkSocket::Open();
        if (!async) return async.status();
        t.sink = std::make_shared<nl::AsyncNetlink>(*io, std::move(async).value());
    }
    return t;
}

namespace detail {

// What the kernel is asked to hold for one remote MAC.
struct RemoteKey {
    bgp::MacAddress mac;
    bgp::IpAddress remote_pe;
    uint32_t vni = 0;
    auto operator<=>(const RemoteKey&) const = default;
};

struct EvpnInstanceState {
    InstanceConfig config;
    std::string bridge;
    std::string vxlan;
    bool own_bridge = true;        // false: `linuxbr`, not ours to create or delete
    bool adopted = false;          // existing devices kept at creation (reconcile)
    bool cleaned_up = false;
    std::map<bgp::MacAddress, std::string> local_ports;   // VM MAC -> port
    std::map<std::string, size_t> port_users;             // port -> endpoints on it
    std::map<RemoteKey, bgp::IpAddress> remotes;           // set-up type 2 routes -> IP
    std::map<bgp::MacAddress, RemoteKey> programmed;       // MAC -> route in the kernel
    std::map<bgp::IpAddress, bgp::MacAddress> neighbours;  // programmed ARP/ND entries
    std::set<std::pair<bgp::IpAddress, uint32_t>> flood;   // (remote PE, vni)
    std::optional<std::string> gateway_port;
};

// A unit of kernel work: `build` runs when the step's turn comes, with the
// links it needs resolved (absent ones missing from the map), so that it sees
// the then current wanted state; `after` sees the results.
using Links = std::map<std::string, nl::LinkInfo>;
// `mergeable` steps (route and flood entries: they only use links that
// exist) with the same `needs` that follow each other run as one batch.
struct Step {
    std::vector<std::string> needs;
    std::function<std::vector<nl::Request>(const Links&)> build;
    std::function<void(const std::vector<nl::Result>&)> after;
    bool mergeable = false;
};
constexpr size_t kMaxMergedSteps = 1024;

struct EvpnLinuxCore : std::enable_shared_from_this<EvpnLinuxCore> {
    EvpnLinuxOptions options;
    EvpnLinuxTransport transport;
    std::optional<nl::KernelFeatures> features;
    bool initialized = false;
    std::deque<Step> steps;
    bool busy = false;
    std::deque<std::string> errors;
    std::vector<std::weak_ptr<EvpnInstanceState>> instances;
    // Reconcile: our devices found by ResetState, not yet adopted.
    std::set<std::string> leftovers;
    bool reconcile_pending = false;
    bool reconcile_done = false;
    std::vector<std::weak_ptr<EvpnInstanceState>> adopted;
    std::unique_ptr<boost::asio::steady_timer> grace_timer;

    void Error(std::string_view instance, std::string text) {
        spdlog::warn("dataplane evpn linux{}{}: {}", instance.empty() ? "" : " ", instance, text);
        errors.push_back(instance.empty() ? text : fmt::format("{}: {}", instance, text));
        while (errors.size() > options.error_log_size) errors.pop_front();
    }

    void Queue(Step step) {
        steps.push_back(std::move(step));
        Pump();
    }

    // Runs the front step: resolve its links (one GETLINK each), build, send.
    void Pump() {
        if (busy || steps.empty() || !transport.sink) return;
        busy = true;
        // How many steps run in this batch (see Step::mergeable).
        size_t count = 1;
        if (steps.front().mergeable)
            while (count < steps.size() && count < kMaxMergedSteps &&
                   steps[count].mergeable && steps[count].needs == steps.front().needs)
                ++count;
        std::vector<nl::Request> lookups;
        for (const std::string& n : steps.front().needs)
            lookups.push_back({nl::GetLink(n), "link get " + n});
        std::weak_ptr<EvpnLinuxCore> weak = weak_from_this();
        transport.sink->Submit(std::move(lookups), [weak, count](std::vector<nl::Result> results) {
            auto self = weak.lock();
            if (!self || self->steps.size() < count) return;
            Links links;
            for (const nl::Result& r : results)
                if (r.ok() && !r.replies.empty())
                    if (auto l = nl::ParseLink(r.replies.front())) links[l->name] = *l;
            std::vector<nl::Request> batch;
            for (size_t i = 0; i < count; ++i) {
                std::vector<nl::Request> part = self->steps[i].build(links);
                std::move(part.begin(), part.end(), std::back_inserter(batch));
            }
            self->transport.sink->Submit(std::move(batch),
                                         [weak, count](std::vector<nl::Result> done) {
                auto core = weak.lock();
                if (!core || core->steps.size() < count) return;
                // Only single steps have an `after` (mergeable ones have none).
                Step s = std::move(core->steps.front());
                for (size_t i = 0; i < count; ++i) core->steps.pop_front();
                for (const nl::Result& r : done)
                    if (!r.ok()) core->Error("", r.ToString());
                if (s.after) s.after(done);
                core->busy = false;
                core->Pump();
            });
        });
    }

    void StartGrace() {
        if (!reconcile_pending || !transport.io) return;
        grace_timer = std::make_unique<boost::asio::steady_timer>(*transport.io);
        grace_timer->expires_after(options.reconcile_grace);
        std::weak_ptr<EvpnLinuxCore> weak = weak_from_this();
        grace_timer->async_wait([weak](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto self = weak.lock()) self->FinishReconcile();
        });
    }

    void FinishReconcile();
    void Sweep(std::shared_ptr<EvpnInstanceState> st);
};

}  // namespace detail

using detail::EvpnInstanceState;
using detail::Links;
using detail::RemoteKey;
using detail::Step;

namespace {

std::optional<int32_t> Index(const Links& links, const std::string& name) {
    auto it = links.find(name);
    if (it == links.end()) return std::nullopt;
    return it->second.index;
}

nl::Neighbour Fdb(int32_t ifindex, const bgp::MacAddress& mac, uint16_t state, uint8_t flags) {
    nl::Neighbour n;
    n.family = nl::kFamilyBridge;
    n.ifindex = ifindex;
    n.lladdr = mac;
    n.state = state;
    n.flags = flags;
    return n;
}
nl::Neighbour SelfFdb(int32_t vx, const RemoteKey& k, uint32_t device_vni) {
    nl::Neighbour n = Fdb(vx, k.mac, kFdbSelfState, nl::kNtfSelf);
    n.dst = k.remote_pe;
    if (k.vni != device_vni) n.vni = k.vni;
    return n;
}
nl::Neighbour MasterFdb(int32_t port, const bgp::MacAddress& mac) {
    return Fdb(port, mac, kFdbStaticState, nl::kNtfMaster);
}
nl::Neighbour FloodFdb(int32_t vx, const bgp::IpAddress& pe, uint32_t vni, uint32_t device_vni) {
    nl::Neighbour n = Fdb(vx, kZeroMac, kFdbSelfState, nl::kNtfSelf);
    n.dst = pe;
    if (vni != device_vni) n.vni = vni;
    return n;
}
nl::Neighbour Arp(int32_t br, const bgp::IpAddress& ip, const bgp::MacAddress& mac) {
    nl::Neighbour n;
    n.family = Family(ip);
    n.ifindex = br;
    n.lladdr = mac;
    n.dst = ip;
    n.state = nl::kNudPermanent;
    return n;
}

nl::BridgePortParams VxlanPortParams() {
    nl::BridgePortParams p;
    p.learning = false;
    p.neigh_suppress = true;
    return p;
}

std::string VniSuffix(uint32_t vni, uint32_t device_vni) {
    return vni == device_vni ? "" : fmt::format(" vni {}", vni);
}

}  // namespace

void detail::EvpnLinuxCore::FinishReconcile() {
    if (!reconcile_pending) return;
    reconcile_pending = false;
    reconcile_done = true;
    if (grace_timer) grace_timer->cancel();
    // Devices of instances that did not come back.
    std::set<std::string> gone = std::move(leftovers);
    leftovers.clear();
    if (!gone.empty()) {
        std::vector<std::string> names(gone.begin(), gone.end());
        // vxlan devices first, then bridges (ports are released with them).
        std::stable_partition(names.begin(), names.end(),
                              [](const std::string& n) { return StartsWith(n, kEvpnVxlanPrefix); });
        Queue(Step{{}, [names](const Links&) {
                       std::vector<nl::Request> b;
                       for (const std::string& n : names)
                           b.push_back({nl::DeleteLink(nl::LinkRef::ByName(n)),
                                        "reconcile: link del " + n});
                       return b;
                   },
                   {}});
    }
    for (const auto& w : adopted)
        if (auto st = w.lock(); st && !st->cleaned_up) Sweep(st);
    adopted.clear();
}

// Removes from an adopted instance the FDB and neighbour entries of the
// previous run that were not programmed again: dump, then delete what the
// wanted state (read when the deletion step is built) does not hold.
void detail::EvpnLinuxCore::Sweep(std::shared_ptr<EvpnInstanceState> st) {
    auto fdb = std::make_shared<std::vector<nl::NeighbourInfo>>();
    auto neigh = std::make_shared<std::vector<nl::NeighbourInfo>>();
    auto indexes = std::make_shared<std::pair<int32_t, int32_t>>(0, 0);
    std::weak_ptr<EvpnInstanceState> weak = st;
    Queue(Step{{st->bridge, st->vxlan},
               [indexes, st](const Links& links) {
                   std::vector<nl::Request> b;
                   auto br = Index(links, st->bridge);
                   auto vx = Index(links, st->vxlan);
                   if (!br || !vx) return b;
                   *indexes = {*br, *vx};
                   b.push_back({nl::DumpNeighbours(nl::kFamilyBridge), "reconcile: fdb dump"});
                   b.push_back({nl::DumpNeighbours(AF_UNSPEC, *br), "reconcile: neigh dump"});
                   return b;
               },
               [fdb, neigh](const std::vector<nl::Result>& r) {
                   auto parse = [](const nl::Result& res, std::vector<nl::NeighbourInfo>& out) {
                       for (const auto& m : res.replies)
                           if (auto n = nl::ParseNeighbour(m)) out.push_back(*n);
                   };
                   if (r.size() == 2) {
                       parse(r[0], *fdb);
                       parse(r[1], *neigh);
                   }
               }});
    Queue(Step{{}, [fdb, neigh, indexes, weak](const Links&) {
                   std::vector<nl::Request> b;
                   auto st = weak.lock();
                   if (!st || st->cleaned_up) return b;
                   auto [br, vx] = *indexes;
                   const uint32_t vni = st->config.instance_label;
                   for (const nl::NeighbourInfo& n : *fdb) {
                       const nl::Neighbour& e = n.entry;
                       if (!e.lladdr) continue;
                       if (e.ifindex == vx && (e.flags & nl::kNtfSelf) && !e.dst.empty()) {
                           uint32_t evni = e.vni.value_or(vni);
                           bool wanted =
                               *e.lladdr == kZeroMac
                                   ? st->flood.count({e.dst, evni}) > 0
                                   : (st->programmed.count(*e.lladdr) &&
                                      st->programmed.at(*e.lladdr).remote_pe == e.dst);
                           if (!wanted)
                               b.push_back({nl::DeleteNeighbour(e),
                                            fmt::format("reconcile: fdb del {} dev {} dst {}",
                                                        e.lladdr->ToString(), st->vxlan,
                                                        e.dst.ToString())});
                       } else if (n.master == br && !(e.flags & nl::kNtfSelf) &&
                                  !(e.state & nl::kNudPermanent) && (e.state & nl::kNudNoArp)) {
                           // A static entry on a bridge port: ours if for a remote MAC on
                           // the vxlan port or a VM MAC on a local port.
                           bool wanted = e.ifindex == vx ? st->programmed.count(*e.lladdr) > 0
                                                         : st->local_ports.count(*e.lladdr) > 0;
                           if (!wanted)
                               b.push_back({nl::DeleteNeighbour(e),
                                            fmt::format("reconcile: fdb del {} master",
                                                        e.lladdr->ToString())});
                       }
                   }
                   for (const nl::NeighbourInfo& n : *neigh) {
                       const nl::Neighbour& e = n.entry;
                       if (e.family == nl::kFamilyBridge || e.ifindex != br ||
                           !(e.state & nl::kNudPermanent) || e.dst.empty())
                           continue;
                       auto it = st->neighbours.find(e.dst);
                       if (it == st->neighbours.end() || !e.lladdr || it->second != *e.lladdr)
                           b.push_back({nl::DeleteNeighbour(e),
                                        fmt::format("reconcile: neigh del {} dev {}",
                                                    e.dst.ToString(), st->bridge)});
                   }
                   return b;
               },
               {}});
}

// --- driver ---------------------------------------------------------------

EvpnLinuxDriver::EvpnLinuxDriver(EvpnLinuxOptions options, EvpnLinuxTransport transport)
    : core_(std::make_shared<detail::EvpnLinuxCore>()) {
    core_->options = std::move(options);
    core_->transport = std::move(transport);
}

EvpnLinuxDriver::~EvpnLinuxDriver() {
    if (core_->grace_timer) core_->grace_timer->cancel();
}

DataplaneStatus EvpnLinuxDriver::ResetState() {
    auto& c = *core_;
    if (!c.transport.transact)
        return DataplaneStatus::Unavailable("no netlink socket for reset_state");
    std::vector<nl::Request> dump;
    dump.push_back({nl::DumpLinks(), "link dump"});
    auto r = c.transport.transact(std::move(dump));
    if (r.empty() || !r.front().ok())
        return DataplaneStatus::Error(DataplaneErrorCode::kInternal,
                                      "reset_state: " + (r.empty() ? std::string("no answer")
                                                                   : r.front().ToString()));
    std::vector<std::string> vxlans, bridges;
    for (const auto& m : r.front().replies) {
        auto l = nl::ParseLink(m);
        if (!l) continue;
        if (StartsWith(l->name, kEvpnVxlanPrefix)) vxlans.push_back(l->name);
        if (StartsWith(l->name, kEvpnBridgePrefix)) bridges.push_back(l->name);
    }
    // In the daemon, with reconcile: keep them for adoption (see FinishReconcile).
    if (c.options.reconcile && c.transport.io && c.transport.sink && !c.reconcile_done) {
        c.leftovers.clear();
        c.leftovers.insert(vxlans.begin(), vxlans.end());
        c.leftovers.insert(bridges.begin(), bridges.end());
        c.reconcile_pending = !c.leftovers.empty();
        if (c.reconcile_pending)
            spdlog::info("dataplane evpn linux: keeping {} device(s) of a previous run for {} ms "
                         "(reconcile)",
                         c.leftovers.size(), c.options.reconcile_grace.count());
        return DataplaneStatus::Ok();
    }
    std::vector<nl::Request> del;
    for (const auto* list : {&vxlans, &bridges})
        for (const std::string& n : *list)
            del.push_back({nl::DeleteLink(nl::LinkRef::ByName(n)), "link del " + n});
    if (del.empty()) return DataplaneStatus::Ok();
    std::string failures;
    for (const nl::Result& res : c.transport.transact(std::move(del)))
        if (!res.ok() && res.error != ENODEV) {
            failures += (failures.empty() ? "" : "; ") + res.ToString();
        }
    if (!failures.empty())
        return DataplaneStatus::Error(DataplaneErrorCode::kInternal, failures);
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxDriver::Initialize() {
    auto& c = *core_;
    if (c.transport.probe && !c.features) {
        c.features = c.transport.probe();
        if (!c.features->vxlan)
            return DataplaneStatus::Unavailable("kernel without VXLAN devices (CONFIG_VXLAN)");
    }
    c.initialized = true;
    c.StartGrace();
    return DataplaneStatus::Ok();
}

DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> EvpnLinuxDriver::CreateInstance(
    const InstanceConfig& config) {
    auto& c = *core_;
    if (!c.transport.sink)
        return DataplaneStatus::FailedPrecondition(
            "the linux E-VPN driver has no event loop (cleanup only)");
    if (config.external_id.empty())
        return DataplaneStatus::InvalidArgument("E-VPN instance without external id");
    if (config.instance_label == 0 || config.instance_label > 0xFFFFFF)
        return DataplaneStatus::InvalidArgument(
            fmt::format("VNI {} out of range (1..16777215)", config.instance_label));
    auto st = std::make_shared<EvpnInstanceState>();
    st->config = config;
    st->own_bridge = config.linux_bridge.empty();
    st->bridge = st->own_bridge ? EvpnBridgeName(config.external_id) : config.linux_bridge;
    st->vxlan = EvpnVxlanName(config.external_id);
    for (const auto& w : c.instances)
        if (auto o = w.lock(); o && !o->cleaned_up && (o->vxlan == st->vxlan))
            return DataplaneStatus::InvalidArgument(fmt::format(
                "VXLAN interface name {} already used by instance {}", st->vxlan,
                o->config.external_id));
    if (c.reconcile_pending &&
        (c.leftovers.count(st->vxlan) || (st->own_bridge && c.leftovers.count(st->bridge)))) {
        st->adopted = true;
        c.leftovers.erase(st->vxlan);
        if (st->own_bridge) c.leftovers.erase(st->bridge);
        c.adopted.push_back(st);
    }
    c.instances.push_back(st);
    std::erase_if(c.instances, [](const auto& w) { return w.expired(); });

    const EvpnLinuxOptions& o = c.options;
    std::weak_ptr<detail::EvpnLinuxCore> weak_core = core_;
    // 1. the devices: create what is missing, keep a VXLAN device of the right VNI.
    c.Queue(Step{{st->bridge, st->vxlan},
                 [st, o, weak_core](const Links& links) {
                     std::vector<nl::Request> b;
                     if (!links.count(st->bridge)) {
                         if (!st->own_bridge) {
                             if (auto core = weak_core.lock())
                                 core->Error(st->config.external_id,
                                             fmt::format("linux bridge {} does not exist",
                                                         st->bridge));
                             return b;
                         }
                         b.push_back({nl::NewBridgeLink(st->bridge, {.forward_delay = 0,
                                                                     .stp = false}),
                                      fmt::format("link add {} type bridge", st->bridge)});
                     }
                     if (st->own_bridge)
                         b.push_back({nl::SetLinkUp(nl::LinkRef::ByName(st->bridge), true),
                                      fmt::format("link set {} up", st->bridge)});
                     auto vx = links.find(st->vxlan);
                     bool keep = vx != links.end() && vx->second.kind == "vxlan" &&
                                 vx->second.vxlan_id == st->config.instance_label &&
                                 vx->second.vxlan_port.value_or(0) == o.vxlan_dst_port &&
                                 vx->second.vxlan_local == o.local_address;
                     if (vx != links.end() && !keep)
                         b.push_back({nl::DeleteLink(nl::LinkRef::ByName(st->vxlan)),
                                      fmt::format("link del {} (stale)", st->vxlan)});
                     if (!keep)
                         b.push_back(
                             {nl::NewVxlanLink(st->vxlan, {.vni = st->config.instance_label,
                                                           .local = o.local_address,
                                                           .dst_port = o.vxlan_dst_port,
                                                           .learning = false,
                                                           .proxy = false}),
                              fmt::format("link add {} type vxlan id {} local {} dstport {} "
                                          "nolearning",
                                          st->vxlan, st->config.instance_label,
                                          o.local_address.ToString(), o.vxlan_dst_port)});
                     b.push_back({nl::SetLinkUp(nl::LinkRef::ByName(st->vxlan), true),
                                  fmt::format("link set {} up", st->vxlan)});
                     return b;
                 },
                 {}});
    // 2. the VXLAN port: enslaved, no learning, ARP/ND suppression.
    c.Queue(Step{{st->bridge, st->vxlan},
                 [st](const Links& links) {
                     std::vector<nl::Request> b;
                     auto br = Index(links, st->bridge);
                     auto vx = Index(links, st->vxlan);
                     if (!br || !vx) return b;
                     b.push_back({nl::SetLinkMaster(nl::LinkRef::ByIndex(*vx), *br),
                                  fmt::format("link set {} master {}", st->vxlan, st->bridge)});
                     b.push_back({nl::SetBridgePort(*vx, VxlanPortParams()),
                                  fmt::format("bridge link set dev {} learning off "
                                              "neigh_suppress on",
                                              st->vxlan)});
                     // Our bridge is pure L2: it must not answer ARP for the
                     // host's addresses (a stitched VRF's gateway on the
                     // veth would otherwise be answered with the bridge's
                     // MAC, and the traffic routed by the main table).
                     if (st->own_bridge) QuietBridge(st->bridge);
                     return b;
                 },
                 {}});
    return std::unique_ptr<VpnInstanceDataplane>(
        std::make_unique<EvpnLinuxInstance>(core_, std::move(st)));
}

EncapsulationSet EvpnLinuxDriver::SupportedEncapsulations() const {
    return EncapsulationSet{Encapsulation::kVxlan};
}

DataplaneStatus EvpnLinuxDriver::ValidateDirection(Direction direction) const {
    if (direction == Direction::kBoth) return DataplaneStatus::Ok();
    return DataplaneStatus::InvalidArgument(
        fmt::format("Unsupported direction: {}", DirectionName(direction)));
}

bgp::IpAddress EvpnLinuxDriver::LocalAddress() const { return core_->options.local_address; }

nlohmann::json EvpnLinuxDriver::ToJson() const {
    const auto& c = *core_;
    nlohmann::json config = nlohmann::json::object();
    for (const auto& [k, v] : c.options.config) config[k] = v;
    config["vxlan_dst_port"] = c.options.vxlan_dst_port;
    nlohmann::json pending = nlohmann::json::array();
    for (const auto& n : c.leftovers) pending.push_back(n);
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : c.errors) errors.push_back(e);
    nlohmann::json encaps = nlohmann::json::array();
    for (const auto& n : SupportedEncapsulations().Names()) encaps.push_back(n);
    return {{"name", "LinuxVXLANDataplaneDriver"},
            {"driver", "linux"},
            {"type", "evpn"},
            {"local_address", c.options.local_address.ToString()},
            {"supported_encaps", encaps},
            {"ecmp_support", false},
            {"config", config},
            {"kernel", c.features ? nl::ToJson(*c.features) : nlohmann::json(nullptr)},
            {"reconcile",
             {{"enabled", c.options.reconcile},
              {"grace_seconds", c.options.reconcile_grace.count() / 1000.0},
              {"pending", pending},
              {"in_grace_period", c.reconcile_pending}}},
            {"pending_steps", c.steps.size()},
            {"errors", errors}};
}

size_t EvpnLinuxDriver::pending_steps() const { return core_->steps.size(); }
std::vector<std::string> EvpnLinuxDriver::errors() const {
    return {core_->errors.begin(), core_->errors.end()};
}
bool EvpnLinuxDriver::reconcile_pending() const { return core_->reconcile_pending; }
void EvpnLinuxDriver::FinishReconcile() { core_->FinishReconcile(); }

// --- instance -------------------------------------------------------------

EvpnLinuxInstance::EvpnLinuxInstance(std::shared_ptr<detail::EvpnLinuxCore> core,
                                     std::shared_ptr<EvpnInstanceState> state)
    : core_(std::move(core)), state_(std::move(state)) {}

EvpnLinuxInstance::~EvpnLinuxInstance() = default;

const std::string& EvpnLinuxInstance::bridge() const { return state_->bridge; }
const std::string& EvpnLinuxInstance::vxlan() const { return state_->vxlan; }

DataplaneStatus EvpnLinuxInstance::Alive(std::string_view method) const {
    if (state_->cleaned_up)
        return DataplaneStatus::FailedPrecondition(
            fmt::format("{}: instance {} was cleaned up", method, state_->config.external_id));
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::VifPlugged(const bgp::MacAddress& mac,
                                              const bgp::IpAddress& /*ip*/, const LocalPort& port,
                                              uint32_t /*label*/, Direction direction) {
    if (auto s = Alive("vif_plugged"); !s) return s;
    if (direction != Direction::kBoth)
        return DataplaneStatus::InvalidArgument(
            fmt::format("Unsupported direction: {}", DirectionName(direction)));
    if (port.linuxif.empty()) return DataplaneStatus::InvalidArgument("local port without linuxif");
    auto st = state_;
    auto old = st->local_ports.find(mac);
    if (old == st->local_ports.end() || old->second != port.linuxif) {
        if (old != st->local_ports.end()) --st->port_users[old->second];
        st->local_ports[mac] = port.linuxif;
        ++st->port_users[port.linuxif];
    }
    std::string ifname = port.linuxif;
    core_->Queue(Step{{st->bridge, ifname}, [st, ifname, mac](const Links& links) {
                          std::vector<nl::Request> b;
                          auto br = Index(links, st->bridge);
                          auto p = Index(links, ifname);
                          if (!br || !p) {
                              b.push_back({nl::GetLink(ifname),
                                           fmt::format("vif_plugged: link {}", ifname)});
                              return b;
                          }
                          if (st->own_bridge)
                              b.push_back({nl::SetLinkMaster(nl::LinkRef::ByIndex(*p), *br),
                                           fmt::format("link set {} master {}", ifname,
                                                       st->bridge)});
                          b.push_back({nl::AddNeighbour(MasterFdb(*p, mac)),
                                       fmt::format("fdb replace {} dev {} master static",
                                                   mac.ToString(), ifname)});
                          return b;
                      },
                      {}});
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::VifUnplugged(const bgp::MacAddress& mac,
                                                const bgp::IpAddress& /*ip*/,
                                                const LocalPort& port, uint32_t /*label*/,
                                                Direction /*direction*/, bool last_endpoint) {
    if (auto s = Alive("vif_unplugged"); !s) return s;
    auto st = state_;
    auto it = st->local_ports.find(mac);
    if (it == st->local_ports.end() || it->second != port.linuxif) return DataplaneStatus::Ok();
    st->local_ports.erase(it);
    size_t users = --st->port_users[port.linuxif];
    if (users == 0) st->port_users.erase(port.linuxif);
    bool release = st->own_bridge && (last_endpoint || users == 0);
    std::string ifname = port.linuxif;
    core_->Queue(Step{{st->bridge, ifname}, [st, ifname, mac, release](const Links& links) {
                          std::vector<nl::Request> b;
                          auto br = Index(links, st->bridge);
                          auto it = links.find(ifname);
                          // Gone, or no longer on our bridge: nothing of ours is left on it.
                          if (!br || it == links.end() || it->second.master != *br) return b;
                          b.push_back({nl::DeleteNeighbour(MasterFdb(it->second.index, mac)),
                                       fmt::format("fdb del {} dev {} master", mac.ToString(),
                                                   ifname)});
                          if (release && !st->local_ports.empty()) {
                              for (const auto& [m, p] : st->local_ports)
                                  if (p == ifname) return b;  // plugged again meanwhile
                          }
                          if (release)
                              b.push_back({nl::SetLinkMaster(
                                               nl::LinkRef::ByIndex(it->second.index), 0),
                                           fmt::format("link set {} nomaster", ifname)});
                          return b;
                      },
                      [](const std::vector<nl::Result>&) {}});
    return DataplaneStatus::Ok();
}

namespace {

// The batch that makes the kernel hold `k` for its MAC (replacing whatever
// remote the MAC had), and its IP's neighbour entry.
std::vector<nl::Request> ProgramRemote(const EvpnInstanceState& st, int32_t br, int32_t vx,
                                       const RemoteKey& k, const bgp::IpAddress& ip) {
    std::vector<nl::Request> b;
    uint32_t dvni = st.config.instance_label;
    b.push_back({nl::AddNeighbour(SelfFdb(vx, k, dvni)),
                 fmt::format("fdb replace {} dev {} self dst {}{}", k.mac.ToString(), st.vxlan,
                             k.remote_pe.ToString(), VniSuffix(k.vni, dvni))});
    b.push_back({nl::AddNeighbour(MasterFdb(vx, k.mac)),
                 fmt::format("fdb replace {} dev {} master static", k.mac.ToString(), st.vxlan)});
    if (!ip.empty())
        b.push_back({nl::AddNeighbour(Arp(br, ip, k.mac)),
                     fmt::format("neigh replace {} lladdr {} dev {} nud permanent", ip.ToString(),
                                 k.mac.ToString(), st.bridge)});
    return b;
}

}  // namespace

DataplaneStatus EvpnLinuxInstance::SetupRemoteEndpoint(const RemoteEndpoint& e) {
    if (auto s = Alive("setup_dataplane_for_remote_endpoint"); !s) return s;
    if (!e.encaps.contains(Encapsulation::kVxlan))
        return DataplaneStatus::InvalidArgument("the linux E-VPN driver only does VXLAN");
    if (e.remote_pe.empty()) return DataplaneStatus::InvalidArgument("remote endpoint without PE");
    auto st = state_;
    RemoteKey k{e.mac, e.remote_pe, e.label};
    st->remotes[k] = e.ip;
    st->programmed[e.mac] = k;
    if (!e.ip.empty()) st->neighbours[e.ip] = e.mac;
    core_->Queue(Step{{st->bridge, st->vxlan}, [st, k](const Links& links) {
                          std::vector<nl::Request> b;
                          auto br = Index(links, st->bridge);
                          auto vx = Index(links, st->vxlan);
                          // Superseded meanwhile (make-before-break, removal): skip.
                          auto p = st->programmed.find(k.mac);
                          if (!br || !vx || p == st->programmed.end() || p->second != k) return b;
                          auto r = st->remotes.find(k);
                          return ProgramRemote(*st, *br, *vx, k,
                                               r == st->remotes.end() ? bgp::IpAddress{}
                                                                      : r->second);
                      },
                      {}, /*mergeable=*/true});
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::RemoveRemoteEndpoint(const RemoteEndpoint& e) {
    if (auto s = Alive("remove_dataplane_for_remote_endpoint"); !s) return s;
    auto st = state_;
    RemoteKey k{e.mac, e.remote_pe, e.label};
    auto it = st->remotes.find(k);
    if (it == st->remotes.end()) return DataplaneStatus::Ok();
    bgp::IpAddress ip = it->second;
    st->remotes.erase(it);
    auto prog = st->programmed.find(e.mac);
    if (prog == st->programmed.end() || prog->second != k) {
        // The MAC moved to another route: the kernel holds that one, keep it.
        return DataplaneStatus::Ok();
    }
    // Another route for this MAC still set up (overlap): program it instead.
    std::optional<RemoteKey> other;
    for (const auto& [rk, rip] : st->remotes)
        if (rk.mac == e.mac) other = rk;
    bool drop_neigh = !ip.empty() && st->neighbours.count(ip) && st->neighbours[ip] == e.mac &&
                      !(other && st->remotes[*other] == ip);
    if (drop_neigh) st->neighbours.erase(ip);
    if (other) {
        st->programmed[e.mac] = *other;
        if (!st->remotes[*other].empty()) st->neighbours[st->remotes[*other]] = e.mac;
    } else {
        st->programmed.erase(prog);
    }
    core_->Queue(Step{{st->bridge, st->vxlan}, [st, k, ip, other, drop_neigh](const Links& links) {
                          std::vector<nl::Request> b;
                          auto br = Index(links, st->bridge);
                          auto vx = Index(links, st->vxlan);
                          if (!br || !vx) return b;
                          uint32_t dvni = st->config.instance_label;
                          if (drop_neigh && !st->neighbours.count(ip))
                              b.push_back({nl::DeleteNeighbour(Arp(*br, ip, k.mac)),
                                           fmt::format("neigh del {} dev {}", ip.ToString(),
                                                       st->bridge)});
                          auto p = st->programmed.find(k.mac);
                          if (p != st->programmed.end()) {
                              // Re-programmed (fallback, or set up again meanwhile).
                              if (other && p->second == *other) {
                                  auto b2 = ProgramRemote(*st, *br, *vx, *other,
                                                          st->remotes[*other]);
                                  b.insert(b.end(), b2.begin(), b2.end());
                              }
                              return b;
                          }
                          b.push_back({nl::DeleteNeighbour(MasterFdb(*vx, k.mac)),
                                       fmt::format("fdb del {} dev {} master", k.mac.ToString(),
                                                   st->vxlan)});
                          b.push_back({nl::DeleteNeighbour(SelfFdb(*vx, k, dvni)),
                                       fmt::format("fdb del {} dev {} self dst {}{}",
                                                   k.mac.ToString(), st->vxlan,
                                                   k.remote_pe.ToString(),
                                                   VniSuffix(k.vni, dvni))});
                          return b;
                      },
                      {}, /*mergeable=*/true});
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::AddBumEndpoint(const BumEndpoint& e) {
    if (auto s = Alive("add_dataplane_for_bum_endpoint"); !s) return s;
    if (e.remote_pe.empty()) return DataplaneStatus::InvalidArgument("BUM endpoint without PE");
    auto st = state_;
    if (!st->flood.insert({e.remote_pe, e.vni}).second) return DataplaneStatus::Ok();
    auto key = std::make_pair(e.remote_pe, e.vni);
    core_->Queue(Step{{st->bridge, st->vxlan}, [st, key](const Links& links) {
                          std::vector<nl::Request> b;
                          auto vx = Index(links, st->vxlan);
                          if (!vx || !st->flood.count(key)) return b;
                          uint32_t dvni = st->config.instance_label;
                          b.push_back(
                              {nl::AddNeighbour(FloodFdb(*vx, key.first, key.second, dvni),
                                                nl::NeighbourOp::kAppend),
                               fmt::format("fdb append 00:00:00:00:00:00 dev {} dst {}{}",
                                           st->vxlan, key.first.ToString(),
                                           VniSuffix(key.second, dvni))});
                          return b;
                      },
                      {}, /*mergeable=*/true});
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::RemoveBumEndpoint(const BumEndpoint& e) {
    if (auto s = Alive("remove_dataplane_for_bum_endpoint"); !s) return s;
    auto st = state_;
    auto key = std::make_pair(e.remote_pe, e.vni);
    if (!st->flood.erase(key)) return DataplaneStatus::Ok();
    core_->Queue(Step{{st->bridge, st->vxlan}, [st, key](const Links& links) {
                          std::vector<nl::Request> b;
                          auto vx = Index(links, st->vxlan);
                          if (!vx || st->flood.count(key)) return b;
                          uint32_t dvni = st->config.instance_label;
                          b.push_back({nl::DeleteNeighbour(
                                           FloodFdb(*vx, key.first, key.second, dvni)),
                                       fmt::format("fdb del 00:00:00:00:00:00 dev {} dst {}{}",
                                                   st->vxlan, key.first.ToString(),
                                                   VniSuffix(key.second, dvni))});
                          return b;
                      },
                      {}, /*mergeable=*/true});
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::SetGatewayPort(std::string_view linuxif,
                                                  const bgp::IpAddress& /*gateway_ip*/) {
    if (auto s = Alive("set_gateway_port"); !s) return s;
    if (linuxif.empty()) return DataplaneStatus::InvalidArgument("gateway port without name");
    auto st = state_;
    st->gateway_port = std::string(linuxif);
    std::string ifname(linuxif);
    core_->Queue(Step{{st->bridge, ifname}, [st, ifname](const Links& links) {
                          std::vector<nl::Request> b;
                          auto br = Index(links, st->bridge);
                          auto p = Index(links, ifname);
                          if (!br || !p || st->gateway_port != ifname) {
                              if (!p)
                                  b.push_back({nl::GetLink(ifname),
                                               fmt::format("set_gateway_port: link {}", ifname)});
                              return b;
                          }
                          b.push_back({nl::SetLinkMaster(nl::LinkRef::ByIndex(*p), *br),
                                       fmt::format("link set {} master {}", ifname, st->bridge)});
                          return b;
                      },
                      {}});
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::GatewayPortDown(std::string_view linuxif) {
    if (auto s = Alive("gateway_port_down"); !s) return s;
    auto st = state_;
    if (st->gateway_port != std::string(linuxif)) return DataplaneStatus::Ok();
    st->gateway_port.reset();
    std::string ifname(linuxif);
    core_->Queue(Step{{st->bridge, ifname}, [st, ifname](const Links& links) {
                          std::vector<nl::Request> b;
                          auto br = Index(links, st->bridge);
                          auto it = links.find(ifname);
                          if (!br || it == links.end() || it->second.master != *br ||
                              st->gateway_port == ifname)
                              return b;
                          b.push_back({nl::SetLinkMaster(nl::LinkRef::ByIndex(it->second.index),
                                                         0),
                                       fmt::format("link set {} nomaster", ifname)});
                          return b;
                      },
                      {}});
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::Cleanup() {
    if (auto s = Alive("cleanup"); !s) return s;
    auto st = state_;
    st->cleaned_up = true;
    // What we created: the VXLAN device (its FDB goes with it) and, when
    // ours, the bridge (its neighbour entries and port memberships go with
    // it). On a `linuxbr` bridge: also our neighbour entries and the static
    // entries of the VM MACs on their ports, and the gateway port.
    auto neighbours = st->neighbours;
    auto ports = st->local_ports;
    std::vector<std::string> needs{st->bridge, st->vxlan};
    for (const auto& [mac, p] : ports) needs.push_back(p);
    core_->Queue(Step{needs, [st, neighbours, ports](const Links& links) {
                          std::vector<nl::Request> b;
                          auto br = Index(links, st->bridge);
                          if (links.count(st->vxlan))
                              b.push_back({nl::DeleteLink(nl::LinkRef::ByName(st->vxlan)),
                                           fmt::format("link del {}", st->vxlan)});
                          if (st->own_bridge) {
                              if (br)
                                  b.push_back({nl::DeleteLink(nl::LinkRef::ByName(st->bridge)),
                                               fmt::format("link del {}", st->bridge)});
                              return b;
                          }
                          if (!br) return b;
                          for (const auto& [ip, mac] : neighbours)
                              b.push_back({nl::DeleteNeighbour(Arp(*br, ip, mac)),
                                           fmt::format("neigh del {} dev {}", ip.ToString(),
                                                       st->bridge)});
                          for (const auto& [mac, p] : ports)
                              if (auto pi = Index(links, p))
                                  b.push_back({nl::DeleteNeighbour(MasterFdb(*pi, mac)),
                                               fmt::format("fdb del {} dev {} master",
                                                           mac.ToString(), p)});
                          return b;
                      },
                      {}});
    st->local_ports.clear();
    st->port_users.clear();
    st->remotes.clear();
    st->programmed.clear();
    st->neighbours.clear();
    st->flood.clear();
    st->gateway_port.reset();
    return DataplaneStatus::Ok();
}

DataplaneStatus EvpnLinuxInstance::UpdateFallback(const std::optional<Fallback>&) {
    return DataplaneStatus::NotSupported("fallback is not supported by the linux E-VPN driver");
}
DataplaneStatus EvpnLinuxInstance::AddTrafficClassifier(const TrafficClassifier&, uint32_t) {
    return DataplaneStatus::NotSupported("traffic classifiers are IP-VPN only");
}
DataplaneStatus EvpnLinuxInstance::RemoveTrafficClassifier(const TrafficClassifier&) {
    return DataplaneStatus::NotSupported("traffic classifiers are IP-VPN only");
}

nlohmann::json EvpnLinuxInstance::ToJson() const {
    const auto& st = *state_;
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& [mac, p] : st.local_ports)
        ports.push_back({{"mac", mac.ToString()}, {"linuxif", p}});
    nlohmann::json fdb = nlohmann::json::array();
    for (const auto& [mac, k] : st.programmed) {
        auto r = st.remotes.find(k);
        fdb.push_back({{"mac", mac.ToString()},
                       {"remote_pe", k.remote_pe.ToString()},
                       {"vni", k.vni},
                       {"ip", r == st.remotes.end() || r->second.empty()
                                  ? nlohmann::json(nullptr)
                                  : nlohmann::json(r->second.ToString())}});
    }
    nlohmann::json flood = nlohmann::json::array();
    for (const auto& [pe, vni] : st.flood)
        flood.push_back({{"remote_pe", pe.ToString()}, {"vni", vni}});
    return {{"linux_bridge", st.bridge},
            {"vxlan_if", st.vxlan},
            {"vni", st.config.instance_label},
            {"bridge_created", st.own_bridge},
            {"adopted", st.adopted},
            {"local_ports", ports},
            {"fdb", fdb},
            {"flood", flood},
            {"gateway_port", st.gateway_port ? nlohmann::json(*st.gateway_port)
                                             : nlohmann::json(nullptr)},
            {"cleaned_up", st.cleaned_up}};
}

}  // namespace bagpipe::dataplane
