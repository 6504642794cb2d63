// The IP-VPN linux driver: the netlink requests it makes (fake kernel), its
// options, reconcile, and one run against a real kernel in a private
// network namespace.
#include "dataplane/linux/ipvpn_linux_driver.h"

#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

namespace bagpipe::dataplane {
namespace {

namespace nl = netlink;
using json = nlohmann::json;

bgp::IpAddress Ip(const char* s) { return *bgp::IpAddress::Parse(s); }
bgp::MacAddress Mac(const char* s) { return *bgp::MacAddress::Parse(s); }
bgp::Prefix Pfx(const char* s) { return *bgp::Prefix::Parse(s); }

// A kernel that answers from tables the test fills and records every request.
class FakeKernel final : public KernelAccess, public nl::RequestSink {
public:
    std::map<std::string, int32_t> indexes{{"tap1", 11}, {"tap2", 12}, {"lo", 1}, {"eth0", 2}};
    std::vector<nl::LinkInfo> links;
    std::vector<nl::RouteInfo> routes;
    // a fresh namespace's `local` rules at priority 0
    std::vector<nl::Rule> rules{nl::Rule{2, 0, "", "", 255, false}, nl::Rule{10, 0, "", "", 255, false}};
    std::vector<std::vector<nl::Request>> sync_batches;
    std::vector<std::vector<nl::Request>> async_batches;
    std::vector<std::pair<std::string, std::string>> sysctls;
    int32_t next_index = 100;

    std::optional<int32_t> IndexOf(std::string_view name) override {
        auto it = indexes.find(std::string(name));
        if (it == indexes.end()) return std::nullopt;
        return it->second;
    }
    std::vector<nl::LinkInfo> Links() override { return links; }
    std::vector<nl::RouteInfo> Routes(uint8_t family) override {
        std::vector<nl::RouteInfo> out;
        for (auto& r : routes)
            if (r.family == family) out.push_back(r);
        return out;
    }
    std::vector<nl::Rule> Rules(uint8_t family) override {
        std::vector<nl::Rule> out;
        for (auto& r : rules)
            if (r.family == family) out.push_back(r);
        return out;
    }
    std::vector<nl::Result> Transact(std::vector<nl::Request> batch) override {
        std::vector<nl::Result> out;
        for (auto& r : batch) {
            out.push_back(nl::Result{r.label, 0, {}, {}});
            // a created link gets an index
            if (r.message.type() == RTM_NEWLINK && r.label.rfind("link add ", 0) == 0) {
                std::string name = r.label.substr(9, r.label.find(' ', 9) - 9);
                indexes[name] = next_index++;
            }
        }
        sync_batches.push_back(std::move(batch));
        return out;
    }
    nl::RequestSink& Async() override { return *this; }
    void Submit(std::vector<nl::Request> batch, nl::BatchCallback) override {
        async_batches.push_back(std::move(batch));
    }
    bool WriteSysctl(const std::string& path, const std::string& value, std::string*) override {
        sysctls.emplace_back(path, value);
        return true;
    }
    nl::KernelFeatures features{false, false, false, true};  // as this project's CI kernel
    nl::KernelFeatures Features() override { return features; }

    // Labels of every request of the last async batch.
    std::vector<std::string> LastAsync() const {
        std::vector<std::string> out;
        if (!async_batches.empty())
            for (auto& r : async_batches.back()) out.push_back(r.label);
        return out;
    }
    std::vector<std::string> AllSync() const {
        std::vector<std::string> out;
        for (auto& b : sync_batches)
            for (auto& r : b) out.push_back(r.label);
        return out;
    }
};

IpvpnLinuxOptions Options(bool reconcile = true) {
    config::DataplaneDriverConfig c;
    c.driver = c.configured_driver = "linux";
    c.local_address = Ip("192.0.2.1");
    if (!reconcile) c.options["reconcile"] = "False";
    auto o = IpvpnLinuxOptions::FromConfig(c);
    EXPECT_TRUE(o.ok()) << o.status().message();
    return o.value();
}

InstanceConfig Instance(uint32_t id = 1, uint32_t vni = 5001) {
    InstanceConfig c;
    c.instance_id = id;
    c.external_id = "red";
    c.gateway_ip = Ip("10.1.1.1");
    c.gateway_prefix_length = 24;
    c.instance_label = vni;
    return c;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

struct Fixture : ::testing::Test {
    FakeKernel* kernel = nullptr;
    std::unique_ptr<IpvpnLinuxDriver> driver;
    std::unique_ptr<VpnInstanceDataplane> vrf;

    void Make(IpvpnLinuxOptions o = Options(), bool with_instance = true) {
        auto k = std::make_unique<FakeKernel>();
        kernel = k.get();
        Prepare(*kernel);
        driver = std::make_unique<IpvpnLinuxDriver>(std::move(o), std::move(k), nullptr);
        ASSERT_TRUE(driver->ResetState().ok());
        ASSERT_TRUE(driver->Initialize().ok());
        if (!with_instance) return;
        auto r = driver->CreateInstance(Instance());
        ASSERT_TRUE(r.ok()) << r.status().message();
        vrf = std::move(r).value();
    }
    virtual void Prepare(FakeKernel&) {}

    RemoteEndpoint Remote(const char* prefix, const char* pe, uint32_t vni = 7001,
                          const char* mac = "02:bb:c0:00:02:02") {
        RemoteEndpoint e;
        e.prefix = Pfx(prefix);
        e.remote_pe = Ip(pe);
        e.label = vni;
        e.encaps = {Encapsulation::kVxlan};
        e.router_mac = Mac(mac);
        e.nlri = std::string("type5 ") + prefix;
        return e;
    }
};

TEST(IpvpnLinuxOptions, DefaultsAndErrors) {
    IpvpnLinuxOptions o = Options();
    EXPECT_EQ(o.vxlan_dst_port, 4789);
    EXPECT_EQ(o.table_base, 1000u);
    EXPECT_EQ(o.router_mac, Mac("02:bb:c0:00:02:01"));  // 02:bb + 192.0.2.1
    EXPECT_TRUE(o.reconcile);

    config::DataplaneDriverConfig c;
    c.local_address = Ip("192.0.2.1");
    c.options["vxlan_dst_port"] = "70000";
    auto bad = IpvpnLinuxOptions::FromConfig(c);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), DataplaneErrorCode::kInvalidArgument);
    EXPECT_EQ(bad.status().message(), "vxlan_dst_port = 70000: not an integer in 1..65535");
    c.options = {{"reconcile", "maybe"}};
    EXPECT_EQ(IpvpnLinuxOptions::FromConfig(c).status().message(),
              "reconcile = maybe: not a boolean (True or False)");
    c.options = {{"router_mac", "02:00:00:00:00:99"}};
    EXPECT_EQ(IpvpnLinuxOptions::FromConfig(c).value().router_mac, Mac("02:00:00:00:00:99"));
    c.local_address = {};
    c.options.clear();
    EXPECT_FALSE(IpvpnLinuxOptions::FromConfig(c).ok());
}

TEST_F(Fixture, InstanceGetsVxlanDeviceRulesAndUnreachableDefault) {
    Make();
    auto sync = kernel->AllSync();
    EXPECT_TRUE(Has(sync, "link add vrfvx-1 type vxlan id 5001 local 192.0.2.1 dstport 4789 nolearning"));
    EXPECT_TRUE(Has(sync, "link set vrfvx-1 address 02:bb:c0:00:02:01"));
    EXPECT_TRUE(Has(sync, "rule add iif vrfvx-1 lookup 1001"));
    EXPECT_TRUE(Has(sync, "route replace unreachable 0.0.0.0/0 table 1001 metric 4294967295"));
    EXPECT_TRUE(Has(sync, "route replace unreachable ::/0 table 1001 metric 4294967295"));
    // isolate_gateways: the local table's rule moves after ours
    EXPECT_TRUE(Has(sync, "rule add pref 32765 lookup local"));
    EXPECT_TRUE(Has(sync, "rule del pref 0 lookup local"));
    EXPECT_TRUE(Has(sync, "rule add -6 pref 32765 lookup local"));
    EXPECT_EQ(driver->SupportedEncapsulations(), EncapsulationSet{Encapsulation::kVxlan});
    EXPECT_EQ(driver->RouterMac(), Mac("02:bb:c0:00:02:01"));
    EXPECT_TRUE(driver->EcmpSupport());
    // forwarding on, rp_filter off on the VXLAN device
    bool fwd = false, rp = false;
    for (auto& [path, value] : kernel->sysctls) {
        fwd = fwd || (path == "net/ipv4/ip_forward" && value == "1");
        rp = rp || (path == "net/ipv4/conf/vrfvx-1/rp_filter" && value == "0");
    }
    EXPECT_TRUE(fwd);
    EXPECT_TRUE(rp);
    // VNI out of range
    EXPECT_EQ(driver->CreateInstance(Instance(2, 0)).status().code(), DataplaneErrorCode::kInvalidArgument);
}

TEST_F(Fixture, PlugAddsGatewayRuleHostRouteAndNeighbour) {
    Make();
    LocalPort port{"tap1", std::nullopt, std::nullopt};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), port, 17, Direction::kBoth).ok());
    auto a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "addr add 10.1.1.1/24 dev tap1"));
    EXPECT_TRUE(Has(a, "route replace local 10.1.1.1 dev tap1 table 1001"));
    EXPECT_TRUE(Has(a, "rule add iif tap1 lookup 1001"));
    EXPECT_TRUE(Has(a, "rule add -6 iif tap1 lookup 1001"));
    EXPECT_TRUE(Has(a, "route replace 10.1.1.10/32 dev tap1 table 1001"));
    EXPECT_TRUE(Has(a, "neigh replace 10.1.1.10 lladdr 52:54:00:00:00:01 dev tap1"));
    // a second endpoint on the port: no second rule
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:02"), Ip("10.1.1.11"), port, 18, Direction::kBoth).ok());
    a = kernel->LastAsync();
    EXPECT_FALSE(Has(a, "rule add iif tap1 lookup 1001"));
    EXPECT_TRUE(Has(a, "route replace 10.1.1.11/32 dev tap1 table 1001"));
    // from-port: rule only; to-port: route only
    LocalPort port2{"tap2", std::nullopt, std::nullopt};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:03"), Ip("10.1.1.12"), port2, 19, Direction::kFromPort).ok());
    a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "rule add iif tap2 lookup 1001"));
    EXPECT_FALSE(Has(a, "route replace 10.1.1.12/32 dev tap2 table 1001"));
    // an unknown interface is a clear error
    LocalPort nope{"nope0", std::nullopt, std::nullopt};
    auto st = vrf->VifPlugged(Mac("52:54:00:00:00:04"), Ip("10.1.1.13"), nope, 20, Direction::kBoth);
    EXPECT_EQ(st.code(), DataplaneErrorCode::kInvalidArgument);
    EXPECT_EQ(st.message(), "interface nope0 does not exist");
    // unplug of the first endpoint keeps the port's rule; the last removes it
    ASSERT_TRUE(vrf->VifUnplugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), port, 17, Direction::kBoth, false).ok());
    a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "route del 10.1.1.10/32 table 1001"));
    EXPECT_FALSE(Has(a, "rule del iif tap1 lookup 1001"));
    ASSERT_TRUE(vrf->VifUnplugged(Mac("52:54:00:00:00:02"), Ip("10.1.1.11"), port, 18, Direction::kBoth, true).ok());
    a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "rule del iif tap1 lookup 1001"));
    EXPECT_TRUE(Has(a, "addr del 10.1.1.1/24 dev tap1"));
    // tap2 still has the gateway: its local route in the VRF table moves there
    EXPECT_FALSE(Has(a, "route del local 10.1.1.1 table 1001"));
    EXPECT_TRUE(Has(a, "route replace local 10.1.1.1 dev tap2 table 1001"));
    ASSERT_TRUE(vrf->VifUnplugged(Mac("52:54:00:00:00:03"), Ip("10.1.1.12"), port2, 19, Direction::kFromPort, true).ok());
    EXPECT_TRUE(Has(kernel->LastAsync(), "route del local 10.1.1.1 table 1001"));
}

// Several subnets in one VRF: each port gets the gateway of its own attach
// (LocalPort::gateway), a gateway goes with the last endpoint using it.
TEST_F(Fixture, EachPortGetsTheGatewayOfItsAttach) {
    Make();
    LocalPort p1{"tap1", std::nullopt, std::nullopt, bgp::Prefix{Ip("10.1.1.1"), 24}};
    LocalPort p2{"tap2", std::nullopt, std::nullopt, bgp::Prefix{Ip("10.1.2.1"), 24}};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), p1, 17, Direction::kBoth).ok());
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:02"), Ip("10.1.2.10"), p2, 18, Direction::kBoth).ok());
    auto a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "addr add 10.1.2.1/24 dev tap2"));
    EXPECT_TRUE(Has(a, "route replace local 10.1.2.1 dev tap2 table 1001"));
    EXPECT_FALSE(Has(a, "addr add 10.1.1.1/24 dev tap2"));
    // a second address of the VM on tap1, in the second subnet: tap1 serves both
    LocalPort p1b = p1;
    p1b.gateway = bgp::Prefix{Ip("10.1.2.1"), 24};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.2.11"), p1b, 17, Direction::kBoth).ok());
    a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "addr add 10.1.2.1/24 dev tap1"));
    EXPECT_FALSE(Has(a, "route replace local 10.1.2.1 dev tap1 table 1001"));  // tap2 holds it
    auto j = vrf->ToJson();
    EXPECT_EQ(j["gateways"], json::parse(R"(["10.1.1.1", "10.1.2.1"])"));
    EXPECT_EQ(j["ports"]["tap1"]["gateways"].size(), 2u);
    // the second subnet's endpoint on tap1 leaves: its gateway goes from tap1 only
    ASSERT_TRUE(vrf->VifUnplugged(Mac("52:54:00:00:00:01"), Ip("10.1.2.11"), p1b, 17, Direction::kBoth, false).ok());
    a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "addr del 10.1.2.1/24 dev tap1"));
    EXPECT_FALSE(Has(a, "addr del 10.1.1.1/24 dev tap1"));
    EXPECT_FALSE(Has(a, "route del local 10.1.2.1 table 1001"));
    // tap2's last endpoint: 10.1.2.1 is used by no port any more
    ASSERT_TRUE(vrf->VifUnplugged(Mac("52:54:00:00:00:02"), Ip("10.1.2.10"), p2, 18, Direction::kBoth, true).ok());
    a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "addr del 10.1.2.1/24 dev tap2"));
    EXPECT_TRUE(Has(a, "route del local 10.1.2.1 table 1001"));
    EXPECT_EQ(vrf->ToJson()["gateways"], json::parse(R"(["10.1.1.1"])"));
}

TEST_F(Fixture, RemotePrefixesOverVxlanWithEcmp) {
    Make();
    auto no_mac = Remote("10.2.2.0/24", "192.0.2.2");
    no_mac.router_mac.reset();
    EXPECT_EQ(vrf->SetupRemoteEndpoint(no_mac).code(), DataplaneErrorCode::kInvalidArgument);
    auto mpls = Remote("10.2.2.0/24", "192.0.2.2");
    mpls.encaps = {Encapsulation::kMpls};
    EXPECT_EQ(vrf->SetupRemoteEndpoint(mpls).code(), DataplaneErrorCode::kInvalidArgument);

    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Remote("10.2.2.0/24", "192.0.2.2")).ok());
    auto a = kernel->LastAsync();
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[0], "fdb replace 02:bb:c0:00:02:02 dev vrfvx-1 dst 192.0.2.2 vni 7001 self permanent");
    EXPECT_EQ(a[1], "neigh replace 192.0.2.2 lladdr 02:bb:c0:00:02:02 dev vrfvx-1 nud permanent");
    EXPECT_EQ(a[2], "route replace 10.2.2.0/24 table 1001 (1 next hop(s), last via 192.0.2.2 dev vrfvx-1)");
    // the route message itself: table 1001 (RTA_TABLE), protocol 19, onlink via the PE
    auto route = nl::ParseRoute(kernel->async_batches.back()[2].message.bytes);
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->table, 1001u);
    EXPECT_EQ(route->protocol, nl::kRtprotBagpipe);
    EXPECT_EQ(route->gateway, Ip("192.0.2.2"));
    EXPECT_EQ(route->oif, 100);  // the fake's index of vrfvx-1

    // a second PE for the same prefix: one multipath route with 2 next hops
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Remote("10.2.2.0/24", "192.0.2.3", 7002, "02:bb:c0:00:02:03")).ok());
    route = nl::ParseRoute(kernel->async_batches.back().back().message.bytes);
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->multipath_count, 2u);
    // a second prefix via the first PE: no new neighbour/FDB entry
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Remote("10.2.3.0/24", "192.0.2.2")).ok());
    EXPECT_EQ(kernel->LastAsync().size(), 1u);
    // the first PE leaves 10.2.2.0/24: back to one next hop, its entries stay (10.2.3.0/24)
    ASSERT_TRUE(vrf->RemoveRemoteEndpoint(Remote("10.2.2.0/24", "192.0.2.2")).ok());
    a = kernel->LastAsync();
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0], "route replace 10.2.2.0/24 table 1001 (1 next hop(s))");
    ASSERT_TRUE(vrf->RemoveRemoteEndpoint(Remote("10.2.3.0/24", "192.0.2.2")).ok());
    a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "route del 10.2.3.0/24 table 1001"));
    EXPECT_TRUE(Has(a, "neigh del 192.0.2.2 dev vrfvx-1"));
    EXPECT_TRUE(Has(a, "fdb del 02:bb:c0:00:02:02 dev vrfvx-1 dst 192.0.2.2"));
    // removing what is not there changes nothing
    const size_t n = kernel->async_batches.size();
    ASSERT_TRUE(vrf->RemoveRemoteEndpoint(Remote("10.9.9.0/24", "192.0.2.9")).ok());
    EXPECT_EQ(kernel->async_batches.size(), n);

    auto j = vrf->ToJson();
    EXPECT_EQ(j["table"], 1001);
    EXPECT_EQ(j["routes"].size(), 1u);
    EXPECT_EQ(j["remote_pes"]["192.0.2.3"]["router_mac"], "02:bb:c0:00:02:03");
}

// An address both local and remote (an anycast /32 behind this host and
// another): the table has one route for it, the local port's, whatever the
// order of plug, remote route and their removal.
TEST_F(Fixture, LocalEndpointRouteWinsOverARemoteOneForTheSameAddress) {
    Make();
    LocalPort port{"tap1", std::nullopt, std::nullopt};
    const auto mac = Mac("52:54:00:00:09:03");
    // the remote route first, then the local plug replaces it
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Remote("10.1.9.9/32", "192.0.2.2")).ok());
    EXPECT_TRUE(Has(kernel->LastAsync(),
                    "route replace 10.1.9.9/32 table 1001 (1 next hop(s), last via 192.0.2.2 dev vrfvx-1)"));
    ASSERT_TRUE(vrf->VifPlugged(mac, Ip("10.1.9.9"), port, 17, Direction::kBoth).ok());
    EXPECT_TRUE(Has(kernel->LastAsync(), "route replace 10.1.9.9/32 dev tap1 table 1001"));
    // the VPN layer drops the remote route (the local one is best): the
    // local route must not go with it
    ASSERT_TRUE(vrf->RemoveRemoteEndpoint(Remote("10.1.9.9/32", "192.0.2.2")).ok());
    for (const auto& l : kernel->LastAsync()) EXPECT_EQ(l.rfind("route", 0), std::string::npos) << l;
    // a remote route arriving while the local endpoint is there leaves it too
    const size_t before = kernel->async_batches.size();
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Remote("10.1.9.9/32", "192.0.2.3", 7002, "02:bb:c0:00:02:03")).ok());
    for (size_t b = before; b < kernel->async_batches.size(); ++b)
        for (const auto& r : kernel->async_batches[b]) EXPECT_EQ(r.label.rfind("route", 0), std::string::npos) << r.label;
    // the local endpoint leaves: the remote route comes back instead of a delete
    ASSERT_TRUE(vrf->VifUnplugged(mac, Ip("10.1.9.9"), port, 17, Direction::kBoth, true).ok());
    auto a = kernel->LastAsync();
    EXPECT_TRUE(Has(a, "route replace 10.1.9.9/32 table 1001 (1 next hop(s))"));
    EXPECT_FALSE(Has(a, "route del 10.1.9.9/32 table 1001"));
    // and the last remote next hop leaving deletes it
    ASSERT_TRUE(vrf->RemoveRemoteEndpoint(Remote("10.1.9.9/32", "192.0.2.3", 7002, "02:bb:c0:00:02:03")).ok());
    EXPECT_TRUE(Has(kernel->LastAsync(), "route del 10.1.9.9/32 table 1001"));
}

TEST_F(Fixture, CleanupRemovesEverythingOfTheInstance) {
    Make();
    LocalPort port{"tap1", std::nullopt, std::nullopt};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), port, 17, Direction::kBoth).ok());
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Remote("10.2.2.0/24", "192.0.2.2")).ok());
    ASSERT_TRUE(vrf->Cleanup().ok());
    auto a = kernel->LastAsync();
    for (const char* want : {"route del 10.2.2.0/24 table 1001", "route del 10.1.1.10/32 table 1001",
                             "rule del iif tap1 lookup 1001", "rule del iif vrfvx-1 lookup 1001",
                             "addr del 10.1.1.1/24 dev tap1", "route del unreachable 0.0.0.0/0 table 1001",
                             "link del vrfvx-1"})
        EXPECT_TRUE(Has(a, want)) << want;
    EXPECT_EQ(vrf->SetupRemoteEndpoint(Remote("10.2.2.0/24", "192.0.2.2")).code(),
              DataplaneErrorCode::kFailedPrecondition);
}

// A previous run left VRF 1 (still wanted) and VRF 9 (not).
struct ReconcileFixture : Fixture {
    void Prepare(FakeKernel& k) override {
        nl::LinkInfo l1;
        l1.index = 50;
        l1.name = "vrfvx-1";
        l1.kind = "vxlan";
        l1.vxlan_id = 5001;
        l1.vxlan_local = Ip("192.0.2.1");
        l1.vxlan_port = 4789;
        nl::LinkInfo l9 = l1;
        l9.index = 59;
        l9.name = "vrfvx-9";
        l9.vxlan_id = 5009;
        k.links = {l1, l9};
        k.indexes["vrfvx-1"] = 50;
        k.indexes["vrfvx-9"] = 59;
        auto route = [](const char* p, uint32_t table, uint8_t type = 1) {
            nl::RouteInfo r;
            r.family = 2;
            r.destination = Pfx(p);
            r.table = table;
            r.protocol = nl::kRtprotBagpipe;
            r.type = type;
            return r;
        };
        k.routes = {route("10.2.2.0/24", 1001), route("10.7.7.0/24", 1001),
                    route("0.0.0.0/0", 1001, 7), route("10.9.9.0/24", 1009),
                    route("10.5.5.0/24", 254)};  // main table: not ours
        nl::Rule r1;
        r1.family = 2;
        r1.priority = 1000;
        r1.iif = "vrfvx-1";
        r1.table = 1001;
        nl::Rule r9 = r1;
        r9.iif = "vrfvx-9";
        r9.table = 1009;
        nl::Rule other = r1;
        other.priority = 500;  // not our priority
        k.rules = {r1, r9, other};
    }
};

TEST_F(ReconcileFixture, RestartKeepsWhatIsStillWantedAndRemovesTheRest) {
    Make();
    // the device is adopted, not re-created
    for (auto& l : kernel->AllSync()) EXPECT_EQ(l.find("link add"), std::string::npos) << l;
    EXPECT_TRUE(driver->ToJson()["reconcile_pending"].get<bool>());
    // routes come back for 10.2.2.0/24 only
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Remote("10.2.2.0/24", "192.0.2.2")).ok());
    kernel->sync_batches.clear();
    EXPECT_EQ(driver->ReconcileNow(), 4u);  // 10.7.7.0/24, 10.9.9.0/24, VRF 9's rule and device
    auto removed = kernel->AllSync();
    EXPECT_TRUE(Has(removed, "route del 10.7.7.0/24 table 1001"));
    EXPECT_TRUE(Has(removed, "route del 10.9.9.0/24 table 1009"));
    EXPECT_TRUE(Has(removed, "rule del pref 1000 iif vrfvx-9 lookup 1009"));
    EXPECT_TRUE(Has(removed, "link del vrfvx-9"));
    EXPECT_FALSE(Has(removed, "route del 10.2.2.0/24 table 1001"));
    EXPECT_FALSE(Has(removed, "route del 0.0.0.0/0 table 1001"));
    EXPECT_FALSE(Has(removed, "link del vrfvx-1"));
    for (auto& l : removed) EXPECT_EQ(l.find("10.5.5.0"), std::string::npos) << l;
    EXPECT_FALSE(driver->ToJson()["reconcile_pending"].get<bool>());
    EXPECT_EQ(driver->ReconcileNow(), 0u);
}

TEST_F(ReconcileFixture, ResetWithoutReconcileRemovesAllOfOurs) {
    Make(Options(false), false);
    auto removed = kernel->AllSync();
    EXPECT_TRUE(Has(removed, "link del vrfvx-1"));
    EXPECT_TRUE(Has(removed, "link del vrfvx-9"));
    EXPECT_TRUE(Has(removed, "route del 10.2.2.0/24 table 1001"));
    EXPECT_TRUE(Has(removed, "route del 0.0.0.0/0 table 1001"));
    EXPECT_TRUE(Has(removed, "rule del pref 1000 iif vrfvx-1 lookup 1001"));
    EXPECT_FALSE(Has(removed, "rule del pref 500 iif vrfvx-1 lookup 1001"));
    for (auto& l : removed) EXPECT_EQ(l.find("10.5.5.0"), std::string::npos) << l;
}

// ---------------------------------------------------------------------------
// Mode option and the vrf mode (VRF devices + kernel MPLS), against the fake
// kernel with the features faked present: this machine's kernel has neither.

IpvpnLinuxOptions OptionsWith(std::map<std::string, std::string> extra, bool reconcile = true) {
    config::DataplaneDriverConfig c;
    c.driver = c.configured_driver = "linux";
    c.local_address = Ip("192.0.2.1");
    c.options = std::move(extra);
    if (!reconcile) c.options["reconcile"] = "False";
    auto o = IpvpnLinuxOptions::FromConfig(c);
    EXPECT_TRUE(o.ok()) << o.status().message();
    return o.ok() ? o.value() : IpvpnLinuxOptions{};
}

constexpr nl::KernelFeatures kAllFeatures{true, true, true, true};

// Initialize of a fresh driver on a fake kernel with `features`.
DataplaneStatus InitializeWith(IpvpnLinuxOptions o, nl::KernelFeatures features,
                               std::unique_ptr<IpvpnLinuxDriver>* out = nullptr) {
    auto k = std::make_unique<FakeKernel>();
    k->features = features;
    auto d = std::make_unique<IpvpnLinuxDriver>(std::move(o), std::move(k), nullptr);
    EXPECT_TRUE(d->ResetState().ok());
    DataplaneStatus st = d->Initialize();
    if (out) *out = std::move(d);
    return st;
}

TEST(IpvpnLinuxMode, OptionAndChoice) {
    EXPECT_EQ(Options().mode, IpvpnLinuxMode::kAuto);
    config::DataplaneDriverConfig c;
    c.local_address = Ip("192.0.2.1");
    c.options = {{"mode", "mpls"}};
    EXPECT_EQ(IpvpnLinuxOptions::FromConfig(c).status().message(),
              "mode = mpls: not one of auto, tables, vrf");
    c.options = {{"mode", "VRF"}, {"mpls_interface", "eth0"}};
    EXPECT_EQ(IpvpnLinuxOptions::FromConfig(c).value().mode, IpvpnLinuxMode::kVrf);

    // auto on this project's kernel (no VRF devices, no MPLS): tables
    std::unique_ptr<IpvpnLinuxDriver> d;
    ASSERT_TRUE(InitializeWith(Options(), FakeKernel{}.features, &d).ok());
    EXPECT_FALSE(d->vrf_mode());
    EXPECT_EQ(d->SupportedEncapsulations(), EncapsulationSet{Encapsulation::kVxlan});
    EXPECT_EQ(d->ToJson()["mode"], "tables");
    EXPECT_EQ(d->ToJson()["mode_reason"],
              "auto: the kernel has no VRF devices (CONFIG_NET_VRF) and no kernel MPLS "
              "(CONFIG_MPLS_ROUTING, /proc/sys/net/mpls)");
    // vrf on it: a clear error naming what is missing
    auto st = InitializeWith(OptionsWith({{"mode", "vrf"}, {"mpls_interface", "eth0"}}),
                             FakeKernel{}.features);
    EXPECT_EQ(st.code(), DataplaneErrorCode::kUnavailable);
    EXPECT_EQ(st.message(),
              "mode = vrf: the kernel has no VRF devices (CONFIG_NET_VRF) and no kernel MPLS "
              "(CONFIG_MPLS_ROUTING, /proc/sys/net/mpls); use mode = tables or auto");
    nl::KernelFeatures vrf_only{true, false, true, true};
    EXPECT_EQ(InitializeWith(OptionsWith({{"mode", "vrf"}, {"mpls_interface", "eth0"}}), vrf_only)
                  .message(),
              "mode = vrf: the kernel has no kernel MPLS (CONFIG_MPLS_ROUTING, /proc/sys/net/mpls); "
              "use mode = tables or auto");
    // vrf needs mpls_interface, an existing one
    EXPECT_EQ(InitializeWith(OptionsWith({{"mode", "vrf"}}), kAllFeatures).message(),
              "mode = vrf needs mpls_interface (the interface MPLS packets leave and arrive on)");
    EXPECT_EQ(InitializeWith(OptionsWith({{"mode", "vrf"}, {"mpls_interface", "eth9"}}), kAllFeatures)
                  .message(),
              "mpls_interface = eth9: no such interface");
    // auto with the features: vrf when mpls_interface is set, tables otherwise
    ASSERT_TRUE(InitializeWith(OptionsWith({{"mpls_interface", "eth0"}}), kAllFeatures, &d).ok());
    EXPECT_TRUE(d->vrf_mode());
    EXPECT_EQ(d->SupportedEncapsulations(),
              (EncapsulationSet{Encapsulation::kDefault, Encapsulation::kMpls}));
    EXPECT_FALSE(d->RouterMac().has_value());
    ASSERT_TRUE(InitializeWith(Options(), kAllFeatures, &d).ok());
    EXPECT_FALSE(d->vrf_mode());
    // tables is what it says, whatever the kernel has
    ASSERT_TRUE(InitializeWith(OptionsWith({{"mode", "tables"}, {"mpls_interface", "eth0"}}),
                               kAllFeatures, &d)
                    .ok());
    EXPECT_FALSE(d->vrf_mode());
}

struct VrfFixture : Fixture {
    void MakeVrf(bool reconcile = true) {
        auto k = std::make_unique<FakeKernel>();
        kernel = k.get();
        kernel->features = kAllFeatures;
        Prepare(*kernel);
        driver = std::make_unique<IpvpnLinuxDriver>(
            OptionsWith({{"mode", "vrf"}, {"mpls_interface", "eth0"}}, reconcile), std::move(k), nullptr);
        ASSERT_TRUE(driver->ResetState().ok());
        ASSERT_TRUE(driver->Initialize().ok());
        auto r = driver->CreateInstance(Instance());
        ASSERT_TRUE(r.ok()) << r.status().message();
        vrf = std::move(r).value();
    }
    RemoteEndpoint Mpls(const char* prefix, const char* pe, uint32_t label) {
        RemoteEndpoint e;
        e.prefix = Pfx(prefix);
        e.remote_pe = Ip(pe);
        e.label = label;
        e.encaps = {Encapsulation::kMpls};
        e.nlri = std::string("vpnv4 ") + prefix;
        return e;
    }
    static constexpr int32_t kEth0 = 2, kLo = 1, kTap1 = 11;
};

// Every rule of VRF 1 in vrf mode, as labelled.
const std::vector<std::string> kVrfRules = {
    "rule add iif bvrf-1 lookup 1001",    "rule add oif bvrf-1 lookup 1001",
    "rule add iif bvrf-1 unreachable",    "rule add oif bvrf-1 unreachable",
    "rule add -6 iif bvrf-1 lookup 1001", "rule add -6 oif bvrf-1 lookup 1001",
    "rule add -6 iif bvrf-1 unreachable", "rule add -6 oif bvrf-1 unreachable"};

TEST_F(VrfFixture, InstanceGetsVrfDeviceRulesAndSysctls) {
    MakeVrf();
    auto sync = kernel->AllSync();
    EXPECT_TRUE(Has(sync, "link add bvrf-1 type vrf table 1001"));
    EXPECT_TRUE(Has(sync, "link set bvrf-1 up"));
    for (const auto& r : kVrfRules) EXPECT_TRUE(Has(sync, r)) << r;
    EXPECT_TRUE(Has(sync, "route replace unreachable 0.0.0.0/0 table 1001 metric 4294967295"));
    for (auto& l : sync) EXPECT_EQ(l.find("vrfvx"), std::string::npos) << l;
    // the messages: the VRF link as `ip link add bvrf-1 type vrf table 1001`,
    // the unreachable rules after the lookup ones
    bool vrf_link = false;
    for (auto& b : kernel->sync_batches)
        for (auto& r : b) {
            vrf_link = vrf_link || r.message == nl::NewVrfLink("bvrf-1", 1001);
            if (r.label == "rule add oif bvrf-1 unreachable") {
                auto rule = nl::ParseRule(r.message.bytes);  // requests parse like replies
                ASSERT_TRUE(rule.has_value());
                EXPECT_EQ(rule->priority, 1001u);  // rule_priority + 1
                EXPECT_TRUE(rule->unreachable);
                EXPECT_EQ(rule->oif, "bvrf-1");
            }
        }
    EXPECT_TRUE(vrf_link);
    std::set<std::pair<std::string, std::string>> sysctls(kernel->sysctls.begin(), kernel->sysctls.end());
    for (auto want : {std::pair<std::string, std::string>{"net/mpls/platform_labels", "1048575"},
                      {"net/mpls/conf/eth0/input", "1"},
                      {"net/mpls/conf/lo/input", "1"},
                      {"net/ipv4/ip_forward", "1"}})
        EXPECT_TRUE(sysctls.count(want)) << want.first;
    EXPECT_FALSE(sysctls.count({"net/ipv4/conf/bvrf-1/rp_filter", "0"}));
    auto j = vrf->ToJson();
    EXPECT_EQ(j["mode"], "vrf");
    EXPECT_EQ(j["vrf_if"], "bvrf-1");
}

TEST_F(VrfFixture, PlugEnslavesAndAddsLabelRoute) {
    MakeVrf();
    LocalPort port{"tap1", std::nullopt, std::nullopt, bgp::Prefix{Ip("10.1.1.1"), 24}};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), port, 17, Direction::kBoth).ok());
    auto batch = kernel->async_batches.back();
    auto a = kernel->LastAsync();
    EXPECT_EQ(a, (std::vector<std::string>{"link set tap1 master bvrf-1", "link set tap1 up",
                                           "addr add 10.1.1.1/24 dev tap1",
                                           "route replace 10.1.1.10/32 dev tap1 table 1001",
                                           "neigh replace 10.1.1.10 lladdr 52:54:00:00:00:01 dev tap1",
                                           "mpls route replace 17 via 10.1.1.10 dev tap1"}));
    EXPECT_EQ(batch[0].message, nl::SetLinkMaster(nl::LinkRef::ByIndex(kTap1), 100));  // bvrf-1's index
    EXPECT_EQ(batch[5].message,
              nl::AddMplsRoute(nl::MplsRoute{.label = 17, .via = Ip("10.1.1.10"), .oif = kTap1}, true));
    EXPECT_TRUE(std::count(kernel->sysctls.begin(), kernel->sysctls.end(),
                           std::pair<std::string, std::string>{"net/ipv4/conf/tap1/proxy_arp", "1"}));
    // a second address of the same VM (same label) on the port: no second enslave
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.20"), port, 17, Direction::kBoth).ok());
    a = kernel->LastAsync();
    EXPECT_FALSE(Has(a, "link set tap1 master bvrf-1"));
    EXPECT_FALSE(Has(a, "addr add 10.1.1.1/24 dev tap1"));
    // out-of-range labels are refused
    EXPECT_EQ(vrf->VifPlugged(Mac("52:54:00:00:00:02"), Ip("10.1.1.11"), port, 3, Direction::kBoth).code(),
              DataplaneErrorCode::kInvalidArgument);
    // unplug of one address: its label route goes to the address left
    ASSERT_TRUE(vrf->VifUnplugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), port, 17, Direction::kBoth, false).ok());
    a = kernel->LastAsync();
    EXPECT_EQ(a, (std::vector<std::string>{"route del 10.1.1.10/32 table 1001", "neigh del 10.1.1.10 dev tap1",
                                           "mpls route replace 17 via 10.1.1.20 dev tap1"}));
    // the last: everything of the port goes, the port leaves the VRF
    ASSERT_TRUE(vrf->VifUnplugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.20"), port, 17, Direction::kBoth, true).ok());
    a = kernel->LastAsync();
    EXPECT_EQ(a, (std::vector<std::string>{"route del 10.1.1.20/32 table 1001", "neigh del 10.1.1.20 dev tap1",
                                           "mpls route del 17", "addr del 10.1.1.1/24 dev tap1",
                                           "link set tap1 nomaster"}));
    EXPECT_EQ(kernel->async_batches.back()[2].message, nl::DeleteMplsRoute(17));
    EXPECT_EQ(kernel->async_batches.back()[4].message, nl::SetLinkMaster(nl::LinkRef::ByIndex(kTap1), 0));
}

TEST_F(VrfFixture, RemotePrefixesWithMplsEncapAndEcmp) {
    MakeVrf();
    auto vxlan = Remote("10.2.2.0/24", "192.0.2.2");
    EXPECT_EQ(vrf->SetupRemoteEndpoint(vxlan).code(), DataplaneErrorCode::kInvalidArgument);
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Mpls("10.2.2.0/24", "192.0.2.2", 300)).ok());
    auto a = kernel->LastAsync();
    ASSERT_EQ(a.size(), 1u);  // no neighbour or FDB entry: MPLS needs none
    EXPECT_EQ(a[0], "route replace 10.2.2.0/24 table 1001 (1 next hop(s), last via 192.0.2.2 encap mpls 300 dev eth0)");
    nl::Route want;
    want.destination = Pfx("10.2.2.0/24");
    want.table = 1001;
    want.next_hops = {nl::NextHop{Ip("192.0.2.2"), kEth0, true, 1, {300}}};
    EXPECT_EQ(kernel->async_batches.back()[0].message, nl::AddRoute(want, true));
    // ECMP: a second PE, one multipath route
    auto dflt = Mpls("10.2.2.0/24", "192.0.2.3", 301);
    dflt.encaps = {Encapsulation::kDefault};  // a route without encapsulation community: MPLS
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(dflt).ok());
    want.next_hops.push_back(nl::NextHop{Ip("192.0.2.3"), kEth0, true, 1, {301}});
    EXPECT_EQ(kernel->async_batches.back()[0].message, nl::AddRoute(want, true));
    EXPECT_EQ(nl::ParseRoute(kernel->async_batches.back()[0].message.bytes)->multipath_count, 2u);
    // a PE that is this host (another VRF here): through lo
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Mpls("10.3.3.0/24", "192.0.2.1", 302)).ok());
    nl::Route local;
    local.destination = Pfx("10.3.3.0/24");
    local.table = 1001;
    local.next_hops = {nl::NextHop{Ip("127.0.0.1"), kLo, false, 1, {302}}};
    EXPECT_EQ(kernel->async_batches.back()[0].message, nl::AddRoute(local, true));
    // withdraws: back to one next hop, then none
    ASSERT_TRUE(vrf->RemoveRemoteEndpoint(Mpls("10.2.2.0/24", "192.0.2.2", 300)).ok());
    want.next_hops.erase(want.next_hops.begin());
    EXPECT_EQ(kernel->LastAsync(), (std::vector<std::string>{"route replace 10.2.2.0/24 table 1001 (1 next hop(s))"}));
    EXPECT_EQ(kernel->async_batches.back()[0].message, nl::AddRoute(want, true));
    ASSERT_TRUE(vrf->RemoveRemoteEndpoint(dflt).ok());
    EXPECT_EQ(kernel->LastAsync(), (std::vector<std::string>{"route del 10.2.2.0/24 table 1001"}));
    auto j = vrf->ToJson();
    EXPECT_EQ(j["routes"].size(), 1u);
    EXPECT_EQ(j["routes"][0]["next_hops"][0]["label"], 302);
}

TEST_F(VrfFixture, CleanupRemovesExactlyWhatWasCreated) {
    MakeVrf();
    LocalPort port{"tap1", std::nullopt, std::nullopt, bgp::Prefix{Ip("10.1.1.1"), 24}};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), port, 17, Direction::kBoth).ok());
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(Mpls("10.2.2.0/24", "192.0.2.2", 300)).ok());
    ASSERT_TRUE(vrf->Cleanup().ok());
    std::vector<std::string> want = {"route del 10.2.2.0/24 table 1001", "route del 10.1.1.10/32 table 1001",
                                     "neigh del 10.1.1.10 dev tap1", "mpls route del 17",
                                     "addr del 10.1.1.1/24 dev tap1", "link set tap1 nomaster"};
    for (auto r : kVrfRules) want.push_back(r.replace(5, 3, "del"));
    want.insert(want.end(), {"route del unreachable 0.0.0.0/0 table 1001",
                             "route del unreachable ::/0 table 1001", "link del bvrf-1"});
    EXPECT_EQ(kernel->LastAsync(), want);
    // each rule removed is one that was added
    std::vector<nl::Message> added, removed;
    for (auto& b : kernel->sync_batches)
        for (auto& r : b)
            if (auto rule = nl::ParseRule(r.message.bytes); rule && (rule->iif == "bvrf-1" || rule->oif == "bvrf-1"))
                added.push_back(nl::DeleteRule(*rule));  // (not the local table's rule moves)
    for (auto& r : kernel->async_batches.back())
        if (r.message.type() == RTM_DELRULE) removed.push_back(r.message);
    EXPECT_EQ(added, removed);
}

// A previous run left VRF 1 (wanted again), VRF 9 (not) and a tables-mode
// device (another mode then).
struct VrfReconcileFixture : VrfFixture {
    void Prepare(FakeKernel& k) override {
        nl::LinkInfo l1;
        l1.index = 50;
        l1.name = "bvrf-1";
        l1.kind = "vrf";
        l1.vrf_table = 1001;
        nl::LinkInfo l9 = l1;
        l9.index = 59;
        l9.name = "bvrf-9";
        l9.vrf_table = 1009;
        nl::LinkInfo vx;
        vx.index = 60;
        vx.name = "vrfvx-3";
        vx.kind = "vxlan";
        k.links = {l1, l9, vx};
        k.indexes["bvrf-1"] = 50;
        auto mpls = [](uint32_t label, uint8_t proto = nl::kRtprotBagpipe) {
            nl::RouteInfo r;
            r.family = nl::kFamilyMpls;
            r.label = label;
            r.table = 254;
            r.protocol = proto;
            r.type = 1;
            return r;
        };
        nl::RouteInfo r9;
        r9.family = 2;
        r9.destination = Pfx("10.9.9.0/24");
        r9.table = 1009;
        r9.protocol = nl::kRtprotBagpipe;
        r9.type = 1;
        k.routes = {mpls(17), mpls(99), mpls(200, 3 /* someone else's */), r9};
        nl::Rule lookup9{2, 1000, "bvrf-9", "", 1009, false};
        nl::Rule unreach9{2, 1001, "", "bvrf-9", 0, true};
        nl::Rule lookup1{2, 1000, "bvrf-1", "", 1001, false};
        nl::Rule unreach1{2, 1001, "bvrf-1", "", 0, true};
        nl::Rule foreign{2, 1001, "eth5", "", 0, true};  // not ours
        k.rules.insert(k.rules.end(), {lookup9, unreach9, lookup1, unreach1, foreign});
    }
};

TEST_F(VrfReconcileFixture, AdoptsAndRemovesStale) {
    MakeVrf();
    for (auto& l : kernel->AllSync()) EXPECT_EQ(l.find("link add"), std::string::npos) << l;  // adopted
    LocalPort port{"tap1", std::nullopt, std::nullopt, bgp::Prefix{Ip("10.1.1.1"), 24}};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), port, 17, Direction::kBoth).ok());
    kernel->sync_batches.clear();
    EXPECT_EQ(driver->ReconcileNow(), 6u);
    auto removed = kernel->AllSync();
    std::sort(removed.begin(), removed.end());
    EXPECT_EQ(removed, (std::vector<std::string>{"link del bvrf-9", "link del vrfvx-3", "mpls route del 99",
                                                 "route del 10.9.9.0/24 table 1009",
                                                 "rule del pref 1000 iif bvrf-9 lookup 1009",
                                                 "rule del pref 1001 oif bvrf-9 unreachable"}));
}

TEST_F(VrfReconcileFixture, ResetWithoutReconcileRemovesAllOfOurs) {
    MakeVrf(false);
    auto all = kernel->AllSync();
    for (const char* want : {"link del bvrf-1", "link del bvrf-9", "link del vrfvx-3", "mpls route del 17",
                             "mpls route del 99", "rule del pref 1001 iif bvrf-1 unreachable"})
        EXPECT_TRUE(Has(all, want)) << want;
    EXPECT_FALSE(Has(all, "mpls route del 200"));
    EXPECT_FALSE(Has(all, "rule del pref 1001 iif eth5 unreachable"));
}

// ---------------------------------------------------------------------------
// A real kernel, in a private network namespace.

// Three sockets in one new anonymous namespace (the driver's two and the
// test's own); nullopt when namespaces cannot be created.
std::optional<std::array<nl::NetlinkSocket, 3>> SocketsInNewNamespace(std::string* why) {
    std::optional<std::array<nl::NetlinkSocket, 3>> out;
    std::thread t([&] {
        if (::unshare(CLONE_NEWNET) != 0) {
            *why = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
            return;
        }
        auto a = nl::NetlinkSocket::Open();
        auto b = nl::NetlinkSocket::Open();
        auto c = nl::NetlinkSocket::Open();
        if (!a || !b || !c) {
            *why = "netlink socket in the new namespace failed";
            return;
        }
        out.emplace(std::array<nl::NetlinkSocket, 3>{std::move(a).value(), std::move(b).value(),
                                                     std::move(c).value()});
    });
    t.join();
    return out;
}

TEST(IpvpnLinuxKernel, ProgramsAndCleansARealNamespace) {
    std::string why;
    auto sockets = SocketsInNewNamespace(&why);
    if (!sockets) GTEST_SKIP() << "no private network namespace: " << why;
    nl::NetlinkSocket& check = (*sockets)[2];
    ASSERT_TRUE(check.Transact(nl::Request{nl::NewVethLink("tap1", "vm1"), "veth"}).ok());
    const std::string scratch = ::testing::TempDir() + "ipvpn-sysctl-" + std::to_string(::getpid());
    std::filesystem::create_directories(scratch + "/net/ipv4");
    std::filesystem::create_directories(scratch + "/net/ipv6/conf/all");
    std::filesystem::create_directories(scratch + "/net/ipv4/conf/vrfvx-1");
    std::filesystem::create_directories(scratch + "/net/ipv4/conf/tap1");

    boost::asio::io_context io;
    auto kernel = MakeLinuxKernelAccess(io, std::move((*sockets)[0]), std::move((*sockets)[1]), scratch);
    IpvpnLinuxDriver driver(Options(false), std::move(kernel), &io);
    ASSERT_TRUE(driver.ResetState().ok());
    ASSERT_TRUE(driver.Initialize().ok());
    auto created = driver.CreateInstance(Instance());
    ASSERT_TRUE(created.ok()) << created.status().message();
    auto vrf = std::move(created).value();
    LocalPort port{"tap1", std::nullopt, std::nullopt};
    ASSERT_TRUE(vrf->VifPlugged(Mac("52:54:00:00:00:01"), Ip("10.1.1.10"), port, 17, Direction::kBoth).ok());
    RemoteEndpoint e;
    e.prefix = Pfx("10.2.2.0/24");
    e.remote_pe = Ip("192.0.2.2");
    e.label = 7001;
    e.encaps = {Encapsulation::kVxlan};
    e.router_mac = Mac("02:bb:c0:00:02:02");
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(e).ok());
    RemoteEndpoint e2 = e;
    e2.remote_pe = Ip("192.0.2.3");
    e2.router_mac = Mac("02:bb:c0:00:02:03");
    ASSERT_TRUE(vrf->SetupRemoteEndpoint(e2).ok());
    io.run_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(driver.ToJson()["errors"].empty()) << driver.ToJson()["errors"].dump();

    auto routes = [&] {
        std::vector<nl::RouteInfo> out;
        for (auto& m : check.Transact(nl::Request{nl::DumpRoutes(2), "dump"}).replies)
            if (auto r = nl::ParseRoute(m); r && r->table == 1001) out.push_back(*r);
        return out;
    };
    auto in_table = routes();
    auto find = [&](const char* p) -> const nl::RouteInfo* {
        for (auto& r : in_table)
            if (r.destination == Pfx(p)) return &r;
        return nullptr;
    };
    ASSERT_NE(find("10.2.2.0/24"), nullptr);
    EXPECT_EQ(find("10.2.2.0/24")->multipath_count, 2u);  // ECMP
    ASSERT_NE(find("10.1.1.10/32"), nullptr);
    ASSERT_NE(find("0.0.0.0/0"), nullptr);
    EXPECT_EQ(find("0.0.0.0/0")->type, 7);  // unreachable
    auto vx = nl::ResolveIndex(check, "vrfvx-1");
    ASSERT_TRUE(vx.has_value());
    auto fdb = nl::ListNeighbours(check, nl::kFamilyBridge, *vx);
    ASSERT_TRUE(fdb.has_value());
    size_t router_macs = 0;
    for (auto& n : *fdb)
        if (n.entry.lladdr == Mac("02:bb:c0:00:02:02") && n.entry.dst == Ip("192.0.2.2") &&
            n.entry.vni == 7001u)
            ++router_macs;
    EXPECT_EQ(router_macs, 1u);
    size_t rules = 0;
    for (auto& m : check.Transact(nl::Request{nl::DumpRules(2), "dump"}).replies)
        if (auto r = nl::ParseRule(m); r && r->table == 1001) ++rules;
    EXPECT_EQ(rules, 2u);  // iif vrfvx-1, iif tap1

    ASSERT_TRUE(vrf->Cleanup().ok());
    io.restart();
    io.run_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(driver.ToJson()["errors"].empty()) << driver.ToJson()["errors"].dump();
    EXPECT_TRUE(routes().empty());
    EXPECT_FALSE(nl::ResolveIndex(check, "vrfvx-1").has_value());
    rules = 0;
    for (auto& m : check.Transact(nl::Request{nl::DumpRules(2), "dump"}).replies)
        if (auto r = nl::ParseRule(m); r && r->table == 1001) ++rules;
    EXPECT_EQ(rules, 0u);
    std::filesystem::remove_all(scratch);
}

}  // namespace
}  // namespace bagpipe::dataplane
