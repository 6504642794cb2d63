// The IP-VPN ovs driver against fake ovs-ofctl / ovs-vsctl scripts that log
// their arguments and stdin: options, batching (one `bundle` process per
// loop turn), call order with ovs-vsctl, ECMP buckets, cleanup, reset,
// errors of later commands in ToJson. The real OVS run is tests/e2e/ovs_ipvpn.sh.
#include "dataplane/ovs/ovs_driver.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../dataplane_test_util.h"
#include "config/config.h"
#include "dataplane/driver_factory.h"
#include "dataplane/ovs/child_process.h"

namespace bagpipe::dataplane::ovs {
namespace {

namespace fs = std::filesystem;

// A scratch directory with fake tools; `log` gets one record per run:
// "== <tool> <args>" then the stdin lines.
class FakeOvs {
public:
    FakeOvs() {
        char tmpl[] = "/tmp/bagpipe-ovs-test.XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        log_ = dir_ / "log";
        for (const char* tool : {"ofctl", "vsctl"}) {
            fs::path p = dir_ / tool;
            std::ofstream(p) << "#!/bin/sh\n"
                             << "in=$(cat)\n"
                             << "{ echo \"== " << tool << " $*\"; [ -n \"$in\" ] && "
                             << "printf '%s\\n' \"$in\"; } >> " << log_.string() << "\n"
                             << "case \"$in\" in *BAD*) exit 1;; esac\n";
            fs::permissions(p, fs::perms::owner_all);
        }
    }
    ~FakeOvs() { fs::remove_all(dir_); }
    std::string ofctl() const { return (dir_ / "ofctl").string(); }
    std::string vsctl() const { return (dir_ / "vsctl").string(); }
    std::vector<std::string> Runs() const {  // the "== ..." headers
        std::vector<std::string> out;
        std::ifstream in(log_);
        std::string line;
        while (std::getline(in, line))
            if (line.starts_with("== ")) out.push_back(line.substr(3));
        return out;
    }
    std::string Log() const {
        std::ifstream in(log_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

private:
    fs::path dir_;
    fs::path log_;
};

config::DataplaneDriverConfig Config(const FakeOvs& fake,
                                     std::map<std::string, std::string> options = {}) {
    config::DataplaneDriverConfig c;
    c.driver = "ovs";
    c.configured_driver = "ovs";
    c.local_address = test::Ip("192.168.100.1");
    c.options = std::move(options);
    c.options["ovs_ofctl"] = fake.ofctl();
    c.options["ovs_vsctl"] = fake.vsctl();
    return c;
}

std::unique_ptr<OvsDataplaneDriver> Make(boost::asio::io_context& io,
                                         const config::DataplaneDriverConfig& c) {
    auto o = OvsDriverOptions::FromConfig(c);
    EXPECT_TRUE(o.ok()) << o.status().message();
    return std::make_unique<OvsDataplaneDriver>(io, std::move(o).value());
}

void Drain(boost::asio::io_context& io, const OvsDataplaneDriver& d) {
    for (int i = 0; i < 2000 && d.pending_commands() > 0; ++i) {
        io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(d.pending_commands(), 0u);
}

TEST(OvsDriverOptions, BooleansAndModes) {
    FakeOvs fake;
    auto gre = OvsDriverOptions::FromConfig(Config(fake));
    ASSERT_TRUE(gre.ok());
    EXPECT_TRUE(gre->mpls_over_gre);
    EXPECT_EQ(gre->bridge, "br-int");

    // The original's bug: mpls_over_gre = False still meant GRE.
    auto bare = OvsDriverOptions::FromConfig(
        Config(fake, {{"mpls_over_gre", "false"}, {"mpls_interface", "eth0"}}));
    ASSERT_TRUE(bare.ok()) << bare.status().message();
    EXPECT_FALSE(bare->mpls_over_gre);
    boost::asio::io_context io;
    OvsDataplaneDriver d(io, bare.value());
    EXPECT_EQ(d.SupportedEncapsulations(),
              (EncapsulationSet{Encapsulation::kDefault, Encapsulation::kMpls}));
    EXPECT_EQ(d.RouterMac(), std::nullopt);

    // mpls_interface alone selects bare MPLS (as the original).
    EXPECT_FALSE(OvsDriverOptions::FromConfig(Config(fake, {{"mpls_interface", "eth0"}}))
                     ->mpls_over_gre);
    for (std::string v : {"True", "YES", "1"})
        EXPECT_TRUE(OvsDriverOptions::FromConfig(
                        Config(fake, {{"mpls_over_gre", v}, {"mpls_interface", "eth0"}}))
                        ->mpls_over_gre);

    auto no_if = OvsDriverOptions::FromConfig(Config(fake, {{"mpls_over_gre", "No"}}));
    EXPECT_EQ(no_if.status().code(), DataplaneErrorCode::kInvalidArgument);
    auto bad = OvsDriverOptions::FromConfig(Config(fake, {{"arp_responder", "maybe"}}));
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("arp_responder"), std::string::npos);
    auto table = OvsDriverOptions::FromConfig(Config(fake, {{"input_table", "1"}}));
    EXPECT_EQ(table.status().code(), DataplaneErrorCode::kInvalidArgument);

    auto vx = OvsDriverOptions::FromConfig(
        Config(fake, {{"vxlan_encap", "on"}, {"ovs_table_id_start", "10"}}));
    ASSERT_TRUE(vx.ok());
    EXPECT_EQ(vx->tables.encap_in, 10);
    EXPECT_EQ(vx->tables.vrf, 11);
    OvsDataplaneDriver dv(io, vx.value());
    EXPECT_EQ(dv.SupportedEncapsulations(),
              (EncapsulationSet{Encapsulation::kDefault, Encapsulation::kMplsOverGre,
                                Encapsulation::kVxlan}));
    EXPECT_EQ(dv.RouterMac(), bgp::MacAddress::Parse("00:00:5e:00:43:64"));
}

TEST(OvsDriver, FactoryBuildsIt) {
    FakeOvs fake;
    boost::asio::io_context io;
    auto r = MakeDriver(VpnType::kIpVpn, Config(fake), {.io = &io});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r.value()->name(), "ovs");
    EXPECT_TRUE(r.value()->EcmpSupport());
    EXPECT_TRUE(r.value()->ValidateDirection(Direction::kToPort).ok());
    auto j = r.value()->ToJson();
    EXPECT_EQ(j["supported_encaps"], nlohmann::json({"encap:DEFAULT", "encap:MPLS-over-GRE"}));
    auto bad = MakeDriver(VpnType::kIpVpn, Config(fake, {{"mpls_over_gre", "nope"}}), {.io = &io});
    EXPECT_EQ(bad.status().code(), DataplaneErrorCode::kInvalidArgument);
}

TEST(OvsDriver, OneBundlePerLoopTurnInCallOrder) {
    FakeOvs fake;
    boost::asio::io_context io;
    auto d = Make(io, Config(fake, {{"arp_responder", "True"}}));
    ASSERT_TRUE(d->ResetState().ok());
    ASSERT_TRUE(d->Initialize().ok());
    auto inst = d->CreateInstance(test::Instance(1, "vpn1", 0));
    ASSERT_TRUE(inst.ok());
    VpnInstanceDataplane& vrf = *inst.value();
    ASSERT_TRUE(vrf.VifPlugged(test::Mac("52:54:00:00:00:01"), test::Ip("10.0.0.1"),
                               test::Port("tap1"), 20, Direction::kBoth)
                    .ok());
    ASSERT_TRUE(vrf.SetupRemoteEndpoint(test::VpnRoute("10.0.0.2/32", "192.168.100.2", 30,
                                                       {Encapsulation::kMplsOverGre}))
                    .ok());
    Drain(io, *d);
    std::vector<std::string> runs = fake.Runs();
    ASSERT_EQ(runs.size(), 5u) << fake.Log();
    EXPECT_EQ(runs[0], "ofctl -O OpenFlow15 bundle br-int -");  // reset
    EXPECT_EQ(runs[1].rfind("vsctl --timeout=10 --may-exist add-port br-int mpls_gre -- set "
                            "interface mpls_gre type=gre options:remote_ip=flow "
                            "options:packet_type=legacy_l3 options:local_ip=192.168.100.1", 0),
              0u)
        << runs[1];
    EXPECT_EQ(runs[2], "ofctl -O OpenFlow15 bundle br-int -");  // mpls dispatch
    EXPECT_EQ(runs[3], "vsctl --timeout=10 --may-exist add-port br-int tap1");
    EXPECT_EQ(runs[4], "ofctl -O OpenFlow15 bundle br-int -");  // the rest, one batch
    std::string log = fake.Log();
    EXPECT_NE(log.find("flow delete table=0,mpls\nflow delete table=0,ip\nflow delete "
                       "table=0,arp\nflow delete table=1\nflow delete table=2\ngroup delete "
                       "group_id=all\n"),
              std::string::npos);
    EXPECT_NE(log.find("flow add table=0,cookie=0x0,priority=36864,mpls,in_port=mpls_gre,"
                       "actions=resubmit(,1)"),
              std::string::npos);
    EXPECT_NE(log.find("group add_or_mod group_id=1,type=select,selection_method=dp_hash,"
                       "bucket=bucket_id:0,actions=push_mpls:0x8847,set_mpls_label:30,"
                       "set_field:192.168.100.2->tun_dst,output:mpls_gre\n"
                       "flow add table=2,cookie=0x1,priority=36768,ip,reg0=1,nw_dst=10.0.0.2/32,"
                       "actions=group:1"),
              std::string::npos)
        << log;  // 10.0.0.2 is in the instance's subnet: no dec_ttl
    EXPECT_NE(log.find("flow add table=0,cookie=0x1,priority=36865,arp,in_port=tap1,arp_op=1,"
                       "arp_tpa=10.0.0.254,"),
              std::string::npos);

    // Idempotent: the same calls again program nothing new.
    size_t before = d->sent_lines().size();
    ASSERT_TRUE(vrf.VifPlugged(test::Mac("52:54:00:00:00:01"), test::Ip("10.0.0.1"),
                               test::Port("tap1"), 20, Direction::kBoth)
                    .ok());
    ASSERT_TRUE(vrf.SetupRemoteEndpoint(test::VpnRoute("10.0.0.2/32", "192.168.100.2", 30,
                                                       {Encapsulation::kMplsOverGre}))
                    .ok());
    EXPECT_EQ(d->sent_lines().size(), before);
    auto j = vrf.ToJson();
    EXPECT_EQ(j["flows"].size(), 5u);  // ip, arp, arp responder, to-port, route
    EXPECT_EQ(j["groups"].size(), 1u);

    // Cleanup removes every flow and group, and the port the driver added.
    ASSERT_TRUE(vrf.Cleanup().ok());
    Drain(io, *d);
    EXPECT_EQ(vrf.ToJson()["flows"].size(), 0u);
    EXPECT_EQ(vrf.ToJson()["groups"].size(), 0u);
    log = fake.Log();
    EXPECT_NE(log.find("flow delete_strict table=2,priority=36768,ip,reg0=1,nw_dst=10.0.0.2/32\n"
                       "group delete group_id=1\n"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("vsctl --timeout=10 --if-exists del-port br-int tap1"), std::string::npos);
    EXPECT_NE(log.find("flow delete table=1,cookie=0x1/-1"), std::string::npos);
    EXPECT_EQ(vrf.SetupRemoteEndpoint(test::VpnRoute("10.9.0.0/16", "192.168.100.2", 31)).code(),
              DataplaneErrorCode::kFailedPrecondition);
}

// Two subnets in one VRF: each port's ARP responder answers for the gateway
// of its own attaches; one flow per (port, gateway), removed with the last
// endpoint using it.
TEST(OvsDriver, ArpResponderPerGateway) {
    FakeOvs fake;
    boost::asio::io_context io;
    auto d = Make(io, Config(fake, {{"arp_responder", "True"}}));
    ASSERT_TRUE(d->ResetState().ok());
    ASSERT_TRUE(d->Initialize().ok());
    auto inst = d->CreateInstance(test::Instance(1, "vpn1", 0));  // gateway 10.0.0.254/24
    ASSERT_TRUE(inst.ok());
    VpnInstanceDataplane& vrf = *inst.value();
    LocalPort tap1 = test::Port("tap1"), tap2 = test::Port("tap2");
    tap1.gateway = bgp::Prefix{test::Ip("10.0.0.254"), 24};
    tap2.gateway = bgp::Prefix{test::Ip("10.0.5.254"), 24};
    ASSERT_TRUE(vrf.VifPlugged(test::Mac("52:54:00:00:00:01"), test::Ip("10.0.0.1"), tap1, 20, Direction::kBoth).ok());
    ASSERT_TRUE(vrf.VifPlugged(test::Mac("52:54:00:00:00:02"), test::Ip("10.0.5.1"), tap2, 21, Direction::kBoth).ok());
    ASSERT_TRUE(vrf.VifPlugged(test::Mac("52:54:00:00:00:03"), test::Ip("10.0.5.2"), tap2, 22, Direction::kBoth).ok());
    Drain(io, *d);
    std::string log = fake.Log();
    const std::string r1 = "priority=36865,arp,in_port=tap1,arp_op=1,arp_tpa=10.0.0.254";
    const std::string r2 = "priority=36865,arp,in_port=tap2,arp_op=1,arp_tpa=10.0.5.254";
    EXPECT_NE(log.find("flow add table=0,cookie=0x1," + r1), std::string::npos) << log;
    EXPECT_NE(log.find("flow add table=0,cookie=0x1," + r2), std::string::npos) << log;
    EXPECT_EQ(log.find("in_port=tap2,arp_op=1,arp_tpa=10.0.0.254"), std::string::npos) << log;
    EXPECT_EQ(vrf.ToJson()["gateways"], nlohmann::json({"10.0.0.254/24", "10.0.5.254/24"}));
    // a route in the second subnet is in a subnet of the VRF: no dec_ttl
    ASSERT_TRUE(vrf.SetupRemoteEndpoint(test::VpnRoute("10.0.5.9/32", "192.168.100.2", 30,
                                                       {Encapsulation::kMplsOverGre}))
                    .ok());
    Drain(io, *d);
    log = fake.Log();
    const size_t group = log.find("group add_or_mod group_id=1");
    ASSERT_NE(group, std::string::npos);
    EXPECT_EQ(log.find("dec_ttl", group), std::string::npos) << log;
    // one of tap2's two endpoints leaves: its responder stays; the last removes it
    ASSERT_TRUE(vrf.VifUnplugged(test::Mac("52:54:00:00:00:02"), test::Ip("10.0.5.1"), tap2, 21, Direction::kBoth, false).ok());
    Drain(io, *d);
    EXPECT_EQ(fake.Log().find("flow delete_strict table=0," + r2), std::string::npos);
    ASSERT_TRUE(vrf.VifUnplugged(test::Mac("52:54:00:00:00:03"), test::Ip("10.0.5.2"), tap2, 22, Direction::kBoth, true).ok());
    Drain(io, *d);
    log = fake.Log();
    EXPECT_NE(log.find("flow delete_strict table=0," + r2), std::string::npos) << log;
    EXPECT_EQ(log.find("flow delete_strict table=0," + r1), std::string::npos) << log;
    EXPECT_EQ(vrf.ToJson()["gateways"], nlohmann::json({"10.0.0.254/24"}));
}

TEST(OvsDriver, EcmpBucketsFollowTheConsistentHashOrder) {
    FakeOvs fake;
    boost::asio::io_context io;
    auto d = Make(io, Config(fake, {{"hash_method", "hash,fields(ip_src,ip_dst)"}}));
    ASSERT_TRUE(d->Initialize().ok());
    auto inst = d->CreateInstance(test::Instance(2, "vpn2", 0));
    ASSERT_TRUE(inst.ok());
    auto a = test::VpnRoute("10.5.0.0/16", "192.168.100.2", 40, {Encapsulation::kDefault});
    a.lb_consistent_hash_order = 7;
    auto b = test::VpnRoute("10.5.0.0/16", "192.168.100.3", 41, {Encapsulation::kDefault});
    b.lb_consistent_hash_order = 7;  // taken: the lowest free id
    ASSERT_TRUE(inst.value()->SetupRemoteEndpoint(a).ok());
    ASSERT_TRUE(inst.value()->SetupRemoteEndpoint(b).ok());
    auto groups = inst.value()->ToJson()["groups"];
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0],
              "group_id=1,type=select,selection_method=hash,fields(ip_src,ip_dst),"
              "bucket=bucket_id:7,actions=dec_ttl,push_mpls:0x8847,set_mpls_label:40,"
              "set_field:192.168.100.2->tun_dst,output:mpls_gre,"
              "bucket=bucket_id:0,actions=dec_ttl,push_mpls:0x8847,set_mpls_label:41,"
              "set_field:192.168.100.3->tun_dst,output:mpls_gre");
    // Removing one next hop keeps the group with the other bucket.
    ASSERT_TRUE(inst.value()->RemoveRemoteEndpoint(a).ok());
    groups = inst.value()->ToJson()["groups"];
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].get<std::string>().find("bucket_id:7"), std::string::npos);
    ASSERT_TRUE(inst.value()->RemoveRemoteEndpoint(b).ok());
    EXPECT_EQ(inst.value()->ToJson()["groups"].size(), 0u);
    ASSERT_TRUE(inst.value()->RemoveRemoteEndpoint(b).ok());  // absent: fine
    Drain(io, *d);
    // Removal order: flow first, then its group.
    std::string log = fake.Log();
    size_t flow = log.find("flow delete_strict table=2,priority=36752,ip,reg0=2,nw_dst=10.5.0.0/16");
    size_t group = log.find("group delete group_id=1");
    ASSERT_NE(flow, std::string::npos);
    ASSERT_NE(group, std::string::npos);
    EXPECT_LT(flow, group);
    // An unsupported encapsulation is refused.
    EXPECT_EQ(inst.value()
                  ->SetupRemoteEndpoint(test::VpnRoute("10.6.0.0/16", "192.168.100.2", 1,
                                                       {Encapsulation::kVxlan}))
                  .code(),
              DataplaneErrorCode::kInvalidArgument);
}

TEST(OvsDriver, VxlanPreferredPerRemotePe) {
    FakeOvs fake;
    boost::asio::io_context io;
    auto d = Make(io, Config(fake, {{"vxlan_encap", "True"}}));
    ASSERT_TRUE(d->Initialize().ok());
    auto inst = d->CreateInstance(test::Instance(6, "vpn6", 16));
    ASSERT_TRUE(inst.ok());
    // The same PE through a VPNv4 route (GRE, port label) and a type 5 route
    // (VXLAN, VRF VNI): one bucket, VXLAN; another PE keeps its own bucket.
    ASSERT_TRUE(inst.value()
                    ->SetupRemoteEndpoint(test::VpnRoute("10.8.0.0/16", "192.168.100.2", 17,
                                                         {Encapsulation::kMplsOverGre}))
                    .ok());
    ASSERT_TRUE(inst.value()
                    ->SetupRemoteEndpoint(test::VpnRoute("10.8.0.0/16", "192.168.100.2", 16,
                                                         {Encapsulation::kVxlan}))
                    .ok());
    ASSERT_TRUE(inst.value()
                    ->SetupRemoteEndpoint(test::VpnRoute("10.8.0.0/16", "192.168.100.3", 18,
                                                         {Encapsulation::kDefault}))
                    .ok());
    auto j = inst.value()->ToJson();
    ASSERT_EQ(j["groups"].size(), 1u);
    std::string g = j["groups"][0];
    EXPECT_NE(g.find("set_field:16->tunnel_id,set_field:192.168.100.2->tun_dst,output:vxlan"),
              std::string::npos) << g;
    EXPECT_EQ(g.find("set_mpls_label:17"), std::string::npos) << g;
    EXPECT_NE(g.find("set_mpls_label:18,set_field:192.168.100.3->tun_dst"), std::string::npos) << g;
    // The VRF's VNI enters the VRF table.
    bool vni_flow = false;
    for (const auto& f : j["flows"])
        vni_flow |= f.get<std::string>().find("ip,in_port=vxlan,tun_id=16,actions=set_field:6->reg0") !=
                    std::string::npos;
    EXPECT_TRUE(vni_flow) << j["flows"].dump();
    // Withdrawing the VXLAN route falls back to GRE for that PE.
    ASSERT_TRUE(inst.value()
                    ->RemoveRemoteEndpoint(test::VpnRoute("10.8.0.0/16", "192.168.100.2", 16,
                                                          {Encapsulation::kVxlan}))
                    .ok());
    g = inst.value()->ToJson()["groups"][0];
    EXPECT_NE(g.find("set_mpls_label:17,set_field:192.168.100.2->tun_dst,output:mpls_gre"),
              std::string::npos) << g;
    ASSERT_TRUE(inst.value()->Cleanup().ok());
    EXPECT_EQ(inst.value()->ToJson()["flows"].size(), 0u);
    Drain(io, *d);
}

TEST(OvsDriver, FailedBatchIsSplitAndErrorsShown) {
    FakeOvs fake;
    boost::asio::io_context io;
    auto d = Make(io, Config(fake));
    ASSERT_TRUE(d->Initialize().ok());
    auto inst = d->CreateInstance(test::Instance(3, "vpn3", 0));
    ASSERT_TRUE(inst.ok());
    Drain(io, *d);
    // A port named BAD makes the fake ovs-ofctl fail on any batch holding it.
    LocalPort bad;
    bad.linuxif = "BAD";
    bad.ovs = OvsPortInfo{true, std::nullopt, "BAD", std::nullopt};
    ASSERT_TRUE(inst.value()->VifPlugged(test::Mac("52:54:00:00:00:03"), test::Ip("10.0.0.3"),
                                         bad, 50, Direction::kToPort)
                    .ok());
    ASSERT_TRUE(inst.value()
                    ->SetupRemoteEndpoint(test::VpnRoute("10.7.0.0/16", "192.168.100.2", 51,
                                                         {Encapsulation::kDefault}))
                    .ok());
    Drain(io, *d);
    auto j = d->ToJson();
    ASSERT_EQ(j["errors"].size(), 1u) << j.dump(1);
    EXPECT_NE(j["errors"][0]["command"].get<std::string>().find("output:BAD"), std::string::npos);
    EXPECT_EQ(j["commands"]["failed"], 1);
    // The good lines were still sent in a batch of their own.
    std::string log = fake.Log();
    std::string last = log.substr(log.rfind("== "));
    EXPECT_NE(last.find("group add_or_mod group_id=1"), std::string::npos) << log;
    EXPECT_EQ(last.find("BAD"), std::string::npos);
}

TEST(OvsDriver, ReconcileKeepsFlowsAndTagsCookies) {
    FakeOvs fake;
    boost::asio::io_context io;
    auto d = Make(io, Config(fake, {{"reconcile", "true"}, {"reconcile_grace_period", "0"}}));
    ASSERT_TRUE(d->ResetState().ok());
    ASSERT_TRUE(d->Initialize().ok());
    auto inst = d->CreateInstance(test::Instance(4, "vpn4", 0));
    ASSERT_TRUE(inst.ok());
    ASSERT_TRUE(inst.value()
                    ->VifPlugged(test::Mac("52:54:00:00:00:04"), test::Ip("10.0.0.4"),
                                 test::Port("tap4"), 60, Direction::kToPort)
                    .ok());
    Drain(io, *d);
    std::string log = fake.Log();
    EXPECT_EQ(log.find("group delete group_id=all"), std::string::npos);  // nothing wiped
    std::string tag = d->ToJson()["reconcile"]["cookie_tag"];
    uint64_t t = std::stoull(tag, nullptr, 16);
    ASSERT_NE(t, 0u);
    std::string cookie = fmt::format("cookie={:#x},", (t << 32) | 4);
    EXPECT_NE(log.find("flow add table=1," + cookie), std::string::npos) << log;
    // The sweep ran (grace 0): per-bit deletes of other tags, then dump-groups.
    EXPECT_NE(log.find("flow delete table=2,cookie="), std::string::npos);
    EXPECT_NE(log.find("ofctl -O OpenFlow15 dump-groups br-int"), std::string::npos);
    EXPECT_EQ(d->ToJson()["reconcile"]["sweep"], "done: 0 stale group(s) removed");
}

TEST(ChildProcess, ExitStatusOutputAndTimeout) {
    boost::asio::io_context io;
    std::optional<ChildResult> r1, r2, r3;
    ChildProcess a(io), b(io), c(io);
    a.Start({"sh", "-c", "cat; echo err >&2; exit 3"}, "hello\n", std::chrono::seconds(5),
            [&](ChildResult r) { r1 = std::move(r); });
    b.Start({"sleep", "10"}, "", std::chrono::milliseconds(100),
            [&](ChildResult r) { r2 = std::move(r); });
    c.Start({"/nonexistent/tool"}, "", std::chrono::seconds(1),
            [&](ChildResult r) { r3 = std::move(r); });
    io.run_for(std::chrono::seconds(5));
    ASSERT_TRUE(r1 && r2 && r3);
    EXPECT_EQ(r1->exit_code, 3);
    EXPECT_EQ(r1->out, "hello\n");
    EXPECT_EQ(r1->err, "err\n");
    EXPECT_EQ(r1->Describe(), "exit status 3: err");
    EXPECT_TRUE(r2->timed_out);
    EXPECT_FALSE(r2->ok());
    EXPECT_FALSE(r3->started);
    EXPECT_FALSE(a.running());
    // Destroying a running child kills it.
    pid_t pid = 0;
    {
        ChildProcess d(io);
        d.Start({"sleep", "10"}, "", std::chrono::seconds(30), [](ChildResult) { FAIL(); });
        pid = d.pid();
        ASSERT_GT(pid, 0);
    }
    EXPECT_NE(::kill(pid, 0), 0);  // reaped: no such process
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
}

}  // namespace
}  // namespace bagpipe::dataplane::ovs
