// The E-VPN linux driver: its request sequences against a fake kernel
// (FakeKernel: links by name, every request's label recorded) for naming,
// idempotency, MAC mobility, cleanup and reconcile; and one run against the
// real kernel in a private network namespace (netns_util.h).
#include "dataplane/linux/evpn_linux_driver.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "../dataplane_test_util.h"
#include "config/config.h"
#include "netns_util.h"

namespace bagpipe::dataplane {
namespace {

namespace nl = netlink;
using test::Ip;
using test::Mac;

// A kernel that knows links (created, deleted, enslaved by the requests)
// and acknowledges everything else; answers asynchronously on `io`.
class FakeKernel : public nl::RequestSink {
public:
    struct Link {
        int32_t index = 0;
        std::string kind;
        uint32_t vni = 0;
        uint16_t port = 0;
        bgp::IpAddress local;
        int32_t master = 0;
    };

    explicit FakeKernel(boost::asio::io_context& io) : io_(io) {}

    void Submit(std::vector<nl::Request> batch, nl::BatchCallback done) override {
        ++submits;
        boost::asio::post(io_, [this, batch = std::move(batch), done = std::move(done)] {
            done(Apply(batch));
        });
    }
    std::vector<nl::Result> Apply(const std::vector<nl::Request>& batch) {
        std::vector<nl::Result> out;
        for (const nl::Request& r : batch) out.push_back(Handle(r));
        return out;
    }

    void AddLink(const std::string& name, Link l) {
        l.index = next_++;
        links[name] = l;
    }
    std::string NameOf(int32_t index) const {
        for (const auto& [n, l] : links)
            if (l.index == index) return n;
        return {};
    }
    // Labels of the requests other than name lookups, then cleared.
    std::vector<std::string> Take() { return std::exchange(log, {}); }

    std::map<std::string, Link> links;
    std::vector<std::string> log;
    std::string fail_prefix;  // requests whose label starts with it fail (EIO)
    size_t submits = 0;       // batches received (lookups included)

private:
    nl::Result Handle(const nl::Request& r) {
        nl::Result res;
        res.label = r.label;
        const uint16_t type = r.message.type();
        if (type == RTM_GETLINK && !r.message.is_dump()) {
            std::vector<uint8_t> b = r.message.bytes;
            reinterpret_cast<nlmsghdr*>(b.data())->nlmsg_type = RTM_NEWLINK;
            auto q = nl::ParseLink(b);
            auto it = q ? links.find(q->name) : links.end();
            if (it == links.end()) {
                res.error = ENODEV;
                return res;
            }
            res.replies.push_back(Reply(it->first, it->second));
            return res;
        }
        log.push_back(r.label);
        if (!fail_prefix.empty() && r.label.rfind(fail_prefix, 0) == 0) {
            res.error = EIO;
            return res;
        }
        if (r.message.is_dump()) {
            if (type == RTM_GETLINK)
                for (const auto& [n, l] : links) res.replies.push_back(Reply(n, l));
            return res;
        }
        if (type == RTM_NEWLINK) {
            auto q = nl::ParseLink(r.message.bytes);
            if (!q) return res;
            if (r.message.flags() & NLM_F_CREATE) {
                if (links.count(q->name)) {
                    res.error = EEXIST;
                    return res;
                }
                Link l{.kind = q->kind};
                AddLink(q->name, l);
                auto& nl = links[q->name];
                // The request's IFLA_INFO_DATA is not parsed by ParseLink for
                // requests without index; read the vxlan fields it did parse.
                nl.vni = q->vxlan_id.value_or(0);
                nl.port = q->vxlan_port.value_or(0);
                nl.local = q->vxlan_local.value_or(bgp::IpAddress{});
                return res;
            }
            std::string name = q->index ? NameOf(q->index) : q->name;
            if (!links.count(name)) {
                res.error = ENODEV;
                return res;
            }
            // SetLinkMaster carries IFLA_MASTER (0 = nomaster).
            if (HasMaster(r.message.bytes)) links[name].master = q->master;
            return res;
        }
        if (type == RTM_DELLINK) {
            auto b = r.message.bytes;
            reinterpret_cast<nlmsghdr*>(b.data())->nlmsg_type = RTM_NEWLINK;
            auto q = nl::ParseLink(b);
            std::string name = q && q->index ? NameOf(q->index) : (q ? q->name : "");
            auto it = links.find(name);
            if (it == links.end()) {
                res.error = ENODEV;
                return res;
            }
            int32_t idx = it->second.index;
            links.erase(it);
            for (auto& [n, l] : links)
                if (l.master == idx) l.master = 0;
            return res;
        }
        return res;
    }

    static bool HasMaster(const std::vector<uint8_t>& m) {
        auto* nlh = reinterpret_cast<const nlmsghdr*>(m.data());
        size_t off = NLMSG_LENGTH(sizeof(ifinfomsg));
        while (off + sizeof(nlattr) <= nlh->nlmsg_len) {
            auto* a = reinterpret_cast<const nlattr*>(m.data() + off);
            if ((a->nla_type & NLA_TYPE_MASK) == IFLA_MASTER) return true;
            off += NLA_ALIGN(a->nla_len);
        }
        return false;
    }

    static std::vector<uint8_t> Reply(const std::string& name, const Link& l) {
        std::vector<uint8_t> buf(1024);
        nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = RTM_NEWLINK;
        auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
        ifi->ifi_index = l.index;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
        if (l.master) mnl_attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(l.master));
        nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, l.kind.c_str());
        if (l.kind == "vxlan") {
            nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
            mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, l.vni);
            mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(l.port));
            if (l.local.is_v4()) mnl_attr_put(nlh, IFLA_VXLAN_LOCAL, 4, l.local.bytes.data());
            mnl_attr_nest_end(nlh, data);
        }
        mnl_attr_nest_end(nlh, info);
        buf.resize(nlh->nlmsg_len);
        return buf;
    }

    boost::asio::io_context& io_;
    int32_t next_ = 10;
};

EvpnLinuxOptions Options() {
    EvpnLinuxOptions o;
    o.local_address = Ip("192.0.2.1");
    return o;
}

InstanceConfig Evi(std::string id, uint32_t vni, std::string linuxbr = {}) {
    InstanceConfig c;
    c.instance_id = 1;
    c.external_id = std::move(id);
    c.instance_label = vni;
    c.linux_bridge = std::move(linuxbr);
    return c;
}

struct Fixture {
    boost::asio::io_context io;
    std::shared_ptr<FakeKernel> kernel = std::make_shared<FakeKernel>(io);
    std::unique_ptr<EvpnLinuxDriver> driver;

    explicit Fixture(EvpnLinuxOptions o = Options()) {
        EvpnLinuxTransport t;
        t.io = &io;
        t.sink = kernel;
        t.transact = [k = kernel](std::vector<nl::Request> b) { return k->Apply(b); };
        driver = std::make_unique<EvpnLinuxDriver>(std::move(o), std::move(t));
    }
    void Run() {
        io.restart();
        for (int i = 0; i < 1000 && driver->pending_steps() > 0; ++i) io.run_one();
        io.poll();
    }
    std::unique_ptr<VpnInstanceDataplane> Create(const InstanceConfig& c) {
        auto r = driver->CreateInstance(c);
        EXPECT_TRUE(r.ok()) << r.status().message();
        Run();
        return r.ok() ? std::move(r).value() : nullptr;
    }
};

const std::vector<std::string> kCreateX = {
    "link add evpn---x type bridge",
    "link set evpn---x up",
    "link add vxlan--x type vxlan id 100 local 192.0.2.1 dstport 4789 nolearning",
    "link set vxlan--x up",
    "link set vxlan--x master evpn---x",
    "bridge link set dev vxlan--x learning off neigh_suppress on",
};

TEST(EvpnLinuxNames, Truncated) {
    EXPECT_EQ(EvpnBridgeName("x"), "evpn---x");
    EXPECT_EQ(EvpnVxlanName("x"), "vxlan--x");
    EXPECT_EQ(EvpnBridgeName("0123456789abcdef"), "evpn---01234567");
    EXPECT_EQ(EvpnVxlanName("0123456789abcdef"), "vxlan--01234567");
    EXPECT_EQ(EvpnVxlanName("0123456789abcdef").size(), 15u);
}

TEST(EvpnLinuxDriver, Capabilities) {
    Fixture f;
    EXPECT_EQ(f.driver->SupportedEncapsulations(), EncapsulationSet{Encapsulation::kVxlan});
    EXPECT_FALSE(f.driver->EcmpSupport());
    EXPECT_FALSE(f.driver->NeedsCleanupAssist());
    EXPECT_FALSE(f.driver->RouterMac().has_value());
    EXPECT_TRUE(f.driver->ValidateDirection(Direction::kBoth).ok());
    EXPECT_EQ(f.driver->ValidateDirection(Direction::kToPort).message(),
              "Unsupported direction: to-port");
    EXPECT_EQ(f.driver->LocalAddress(), Ip("192.0.2.1"));
}

TEST(EvpnLinuxDriver, CreatePlugAndRoutes) {
    Fixture f;
    f.kernel->AddLink("tap1", {.kind = "veth"});
    auto inst = f.Create(Evi("x", 100));
    ASSERT_TRUE(inst);
    EXPECT_EQ(f.kernel->Take(), kCreateX);
    EXPECT_EQ(f.kernel->links.at("vxlan--x").master, f.kernel->links.at("evpn---x").index);

    EXPECT_TRUE(inst->VifPlugged(Mac("02:00:00:00:00:01"), Ip("10.0.0.1"), test::Port("tap1"), 0,
                                 Direction::kBoth)
                    .ok());
    EXPECT_TRUE(inst->AddBumEndpoint(test::Bum("192.0.2.2", 100)).ok());
    EXPECT_TRUE(inst->AddBumEndpoint(test::Bum("192.0.2.3", 200)).ok());
    EXPECT_TRUE(inst->SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100,
                                                         "10.0.0.2"))
                    .ok());
    f.Run();
    EXPECT_EQ(f.kernel->Take(),
              (std::vector<std::string>{
                  "link set tap1 master evpn---x",
                  "fdb replace 02:00:00:00:00:01 dev tap1 master static",
                  "fdb append 00:00:00:00:00:00 dev vxlan--x dst 192.0.2.2",
                  "fdb append 00:00:00:00:00:00 dev vxlan--x dst 192.0.2.3 vni 200",
                  "fdb replace 02:00:00:00:00:02 dev vxlan--x self dst 192.0.2.2",
                  "fdb replace 02:00:00:00:00:02 dev vxlan--x master static",
                  "neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev evpn---x nud permanent",
              }));
    // Idempotency: the same BUM endpoint again changes nothing; removing an
    // absent one too.
    EXPECT_TRUE(inst->AddBumEndpoint(test::Bum("192.0.2.2", 100)).ok());
    EXPECT_TRUE(inst->RemoveBumEndpoint(test::Bum("192.0.2.9", 100)).ok());
    EXPECT_TRUE(inst->RemoveRemoteEndpoint(test::MacRoute("02:00:00:00:00:09", "192.0.2.2", 100))
                    .ok());
    f.Run();
    EXPECT_TRUE(f.kernel->Take().empty());

    nlohmann::json j = inst->ToJson();
    EXPECT_EQ(j["linux_bridge"], "evpn---x");
    EXPECT_EQ(j["vxlan_if"], "vxlan--x");
    EXPECT_EQ(j["fdb"].size(), 1u);
    EXPECT_EQ(j["fdb"][0]["ip"], "10.0.0.2");
    EXPECT_EQ(j["flood"].size(), 2u);
    EXPECT_TRUE(f.driver->errors().empty());

    EXPECT_TRUE(inst->RemoveBumEndpoint(test::Bum("192.0.2.3", 200)).ok());
    EXPECT_TRUE(inst->VifUnplugged(Mac("02:00:00:00:00:01"), Ip("10.0.0.1"), test::Port("tap1"),
                                   0, Direction::kBoth, true)
                    .ok());
    f.Run();
    EXPECT_EQ(f.kernel->Take(), (std::vector<std::string>{
                                    "fdb del 00:00:00:00:00:00 dev vxlan--x dst 192.0.2.3 vni 200",
                                    "fdb del 02:00:00:00:00:01 dev tap1 master",
                                    "link set tap1 nomaster",
                                }));
    EXPECT_EQ(f.kernel->links.at("tap1").master, 0);
}

TEST(EvpnLinuxDriver, MacMobilityMakeBeforeBreak) {
    Fixture f;
    auto inst = f.Create(Evi("x", 100));
    f.kernel->Take();
    auto at1 = test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100, "10.0.0.2");
    auto at2 = test::MacRoute("02:00:00:00:00:02", "192.0.2.3", 100, "10.0.0.2");
    EXPECT_TRUE(inst->SetupRemoteEndpoint(at1).ok());
    f.Run();
    f.kernel->Take();
    // The MAC moves: the new route is set up, then the old one removed.
    EXPECT_TRUE(inst->SetupRemoteEndpoint(at2).ok());
    EXPECT_TRUE(inst->RemoveRemoteEndpoint(at1).ok());
    f.Run();
    // One replace towards the new PE; the removal of the old route leaves it.
    EXPECT_EQ(f.kernel->Take(),
              (std::vector<std::string>{
                  "fdb replace 02:00:00:00:00:02 dev vxlan--x self dst 192.0.2.3",
                  "fdb replace 02:00:00:00:00:02 dev vxlan--x master static",
                  "neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev evpn---x nud permanent",
              }));
    EXPECT_EQ(inst->ToJson()["fdb"][0]["remote_pe"], "192.0.2.3");

    // Overlap the other way: the programmed route is removed while another
    // one for the MAC is still set up: that one is programmed again.
    EXPECT_TRUE(inst->SetupRemoteEndpoint(at1).ok());
    EXPECT_TRUE(inst->RemoveRemoteEndpoint(at1).ok());
    f.Run();
    auto seq = f.kernel->Take();
    ASSERT_FALSE(seq.empty());
    EXPECT_EQ(seq.back(), "neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev evpn---x nud "
                          "permanent");
    EXPECT_EQ(std::count(seq.begin(), seq.end(),
                         "fdb replace 02:00:00:00:00:02 dev vxlan--x self dst 192.0.2.3"),
              1);
    for (const auto& s : seq) EXPECT_EQ(s.find(" del "), std::string::npos) << s;
    EXPECT_EQ(inst->ToJson()["fdb"][0]["remote_pe"], "192.0.2.3");

    // Last route gone: entries deleted.
    EXPECT_TRUE(inst->RemoveRemoteEndpoint(at2).ok());
    f.Run();
    EXPECT_EQ(f.kernel->Take(), (std::vector<std::string>{
                                    "neigh del 10.0.0.2 dev evpn---x",
                                    "fdb del 02:00:00:00:00:02 dev vxlan--x master",
                                    "fdb del 02:00:00:00:00:02 dev vxlan--x self dst 192.0.2.3",
                                }));
    EXPECT_TRUE(inst->ToJson()["fdb"].empty());
}

TEST(EvpnLinuxDriver, CleanupRemovesWhatItCreated) {
    Fixture f;
    f.kernel->AddLink("tap1", {.kind = "veth"});
    auto inst = f.Create(Evi("x", 100));
    EXPECT_TRUE(inst->VifPlugged(Mac("02:00:00:00:00:01"), {}, test::Port("tap1"), 0,
                                 Direction::kBoth)
                    .ok());
    EXPECT_TRUE(inst->SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100))
                    .ok());
    f.Run();
    f.kernel->Take();
    EXPECT_TRUE(inst->Cleanup().ok());
    f.Run();
    EXPECT_EQ(f.kernel->Take(),
              (std::vector<std::string>{"link del vxlan--x", "link del evpn---x"}));
    EXPECT_EQ(f.kernel->links.size(), 1u);  // tap1 only, released by the bridge's deletion
    EXPECT_EQ(f.kernel->links.at("tap1").master, 0);
    EXPECT_EQ(inst->SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100))
                  .code(),
              DataplaneErrorCode::kFailedPrecondition);
}

TEST(EvpnLinuxDriver, ExistingLinuxBridgeIsNotOurs) {
    Fixture f;
    f.kernel->AddLink("brq-net", {.kind = "bridge"});
    f.kernel->AddLink("tap1", {.kind = "veth"});
    auto inst = f.Create(Evi("y", 7, "brq-net"));
    EXPECT_EQ(f.kernel->Take(),
              (std::vector<std::string>{
                  "link add vxlan--y type vxlan id 7 local 192.0.2.1 dstport 4789 nolearning",
                  "link set vxlan--y up",
                  "link set vxlan--y master brq-net",
                  "bridge link set dev vxlan--y learning off neigh_suppress on",
              }));
    // Ports of a bridge we do not own are not enslaved by us.
    EXPECT_TRUE(inst->VifPlugged(Mac("02:00:00:00:00:01"), {}, test::Port("tap1"), 0,
                                 Direction::kBoth)
                    .ok());
    EXPECT_TRUE(inst->SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 7,
                                                         "10.0.0.2"))
                    .ok());
    f.Run();
    f.kernel->Take();
    EXPECT_TRUE(inst->Cleanup().ok());
    f.Run();
    auto seq = f.kernel->Take();
    EXPECT_EQ(seq.front(), "link del vxlan--y");
    EXPECT_EQ(std::count(seq.begin(), seq.end(), "neigh del 10.0.0.2 dev brq-net"), 1);
    EXPECT_EQ(std::count(seq.begin(), seq.end(), "link del brq-net"), 0);
    EXPECT_TRUE(f.kernel->links.count("brq-net"));
}

TEST(EvpnLinuxDriver, GatewayPortAndMissingPort) {
    Fixture f;
    f.kernel->AddLink("evpn1-ipvpn2", {.kind = "veth"});
    auto inst = f.Create(Evi("x", 100));
    f.kernel->Take();
    EXPECT_TRUE(inst->SetGatewayPort("evpn1-ipvpn2", Ip("10.0.0.254")).ok());
    f.Run();
    EXPECT_EQ(f.kernel->Take(), (std::vector<std::string>{"link set evpn1-ipvpn2 master evpn---x"}));
    EXPECT_EQ(inst->ToJson()["gateway_port"], "evpn1-ipvpn2");
    EXPECT_TRUE(inst->GatewayPortDown("other").ok());  // not ours: nothing
    EXPECT_TRUE(inst->GatewayPortDown("evpn1-ipvpn2").ok());
    f.Run();
    EXPECT_EQ(f.kernel->Take(), (std::vector<std::string>{"link set evpn1-ipvpn2 nomaster"}));
    EXPECT_EQ(f.kernel->links.at("evpn1-ipvpn2").master, 0);
    // A port that does not exist: the call succeeds, the error is logged.
    EXPECT_TRUE(inst->VifPlugged(Mac("02:00:00:00:00:01"), {}, test::Port("tap9"), 0,
                                 Direction::kBoth)
                    .ok());
    f.Run();
    ASSERT_EQ(f.driver->errors().size(), 1u);
    EXPECT_NE(f.driver->errors()[0].find("vif_plugged: link tap9"), std::string::npos);
    // Other VPN type's calls and other directions are refused.
    EXPECT_EQ(inst->AddTrafficClassifier({}, 2).code(), DataplaneErrorCode::kNotSupported);
    EXPECT_EQ(inst->UpdateFallback(std::nullopt).code(), DataplaneErrorCode::kNotSupported);
    EXPECT_EQ(inst->VifPlugged(Mac("02:00:00:00:00:01"), {}, test::Port("tap1"), 0,
                               Direction::kToPort)
                  .code(),
              DataplaneErrorCode::kInvalidArgument);
    EXPECT_EQ(inst->SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100, {},
                                                       {Encapsulation::kMpls}))
                  .code(),
              DataplaneErrorCode::kInvalidArgument);
}

TEST(EvpnLinuxDriver, Options) {
    config::DataplaneDriverConfig c;
    c.driver = c.configured_driver = "linux";
    c.local_address = Ip("192.0.2.1");
    c.options = {{"vxlan_dst_port", "4790"}, {"reconcile", "False"}, {"reconcile_grace", "5"}};
    auto o = EvpnLinuxOptions::FromConfig(c);
    ASSERT_TRUE(o.ok()) << o.status().message();
    EXPECT_EQ(o->vxlan_dst_port, 4790);
    EXPECT_FALSE(o->reconcile);
    EXPECT_EQ(o->reconcile_grace, std::chrono::seconds(5));
    c.options = {{"reconcile", "maybe"}};
    EXPECT_NE(EvpnLinuxOptions::FromConfig(c).status().message().find("reconcile"),
              std::string::npos);
    c.options = {};
    c.local_address = {};
    EXPECT_EQ(EvpnLinuxOptions::FromConfig(c).status().code(),
              DataplaneErrorCode::kInvalidArgument);
    // The instance uses the configured port.
    EvpnLinuxOptions opts = Options();
    opts.vxlan_dst_port = 4790;
    Fixture f(opts);
    auto inst = f.Create(Evi("p", 5));
    auto seq = f.kernel->Take();
    EXPECT_NE(std::find(seq.begin(), seq.end(),
                        "link add vxlan--p type vxlan id 5 local 192.0.2.1 dstport 4790 "
                        "nolearning"),
              seq.end());
    EXPECT_EQ(f.kernel->links.at("vxlan--p").port, 4790);
}

TEST(EvpnLinuxDriver, RouteStepsShareBatches) {
    Fixture f;
    auto inst = f.Create(Evi("x", 100));
    f.kernel->Take();
    f.kernel->submits = 0;
    for (int i = 0; i < 100; ++i) {
        auto mac = fmt::format("02:00:00:00:01:{:02x}", i);
        EXPECT_TRUE(inst->SetupRemoteEndpoint(test::MacRoute(mac, "192.0.2.2", 100)).ok());
        EXPECT_TRUE(inst->AddBumEndpoint(test::Bum(fmt::format("192.0.2.{}", 10 + i), 100)).ok());
    }
    f.Run();
    auto seq = f.kernel->Take();
    ASSERT_EQ(seq.size(), 300u);  // 2 per MAC route + 1 per flood entry, in call order
    EXPECT_EQ(seq[0], "fdb replace 02:00:00:00:01:00 dev vxlan--x self dst 192.0.2.2");
    EXPECT_EQ(seq[2], "fdb append 00:00:00:00:00:00 dev vxlan--x dst 192.0.2.10");
    EXPECT_EQ(seq[299], "fdb append 00:00:00:00:00:00 dev vxlan--x dst 192.0.2.109");
    // The first call's step runs alone (the queue was empty), the 199 others
    // together: 2 lookups + 2 batches.
    EXPECT_LE(f.kernel->submits, 4u);
}

TEST(EvpnLinuxDriver, AsyncErrorsAreLoggedNotReturned) {
    Fixture f;
    auto inst = f.Create(Evi("x", 100));
    f.kernel->fail_prefix = "fdb append";
    EXPECT_TRUE(inst->AddBumEndpoint(test::Bum("192.0.2.2", 100)).ok());
    f.Run();
    ASSERT_EQ(f.driver->errors().size(), 1u);
    EXPECT_NE(f.driver->errors()[0].find("fdb append 00:00:00:00:00:00 dev vxlan--x dst "
                                         "192.0.2.2"),
              std::string::npos);
    EXPECT_EQ(f.driver->ToJson()["errors"].size(), 1u);
}

TEST(EvpnLinuxDriver, ResetStateWipesOurDevicesOnly) {
    EvpnLinuxOptions o = Options();
    o.reconcile = false;
    Fixture f(o);
    f.kernel->AddLink("evpn---a", {.kind = "bridge"});
    f.kernel->AddLink("vxlan--a", {.kind = "vxlan", .vni = 10});
    f.kernel->AddLink("eth0", {.kind = ""});
    EXPECT_TRUE(f.driver->ResetState().ok());
    EXPECT_EQ(f.kernel->Take(), (std::vector<std::string>{"link dump", "link del vxlan--a",
                                                          "link del evpn---a"}));
    EXPECT_EQ(f.kernel->links.size(), 1u);
}

TEST(EvpnLinuxDriver, ReconcileAdoptsThenSweeps) {
    EvpnLinuxOptions o = Options();
    o.reconcile_grace = std::chrono::hours(1);
    Fixture f(o);
    f.kernel->AddLink("evpn---a", {.kind = "bridge"});
    f.kernel->AddLink("vxlan--a", {.kind = "vxlan", .vni = 10, .port = 4789,
                                   .local = Ip("192.0.2.1")});
    f.kernel->links["vxlan--a"].master = f.kernel->links["evpn---a"].index;
    f.kernel->AddLink("evpn---b", {.kind = "bridge"});
    f.kernel->AddLink("vxlan--b", {.kind = "vxlan", .vni = 11, .port = 4789,
                                   .local = Ip("192.0.2.1")});
    EXPECT_TRUE(f.driver->ResetState().ok());
    EXPECT_TRUE(f.driver->Initialize().ok());
    EXPECT_TRUE(f.driver->reconcile_pending());
    EXPECT_EQ(f.kernel->Take(), (std::vector<std::string>{"link dump"}));  // nothing deleted
    auto inst = f.Create(Evi("a", 10));
    // Adopted: no device created, the port settings are applied again.
    EXPECT_EQ(f.kernel->Take(),
              (std::vector<std::string>{
                  "link set evpn---a up",
                  "link set vxlan--a up",
                  "link set vxlan--a master evpn---a",
                  "bridge link set dev vxlan--a learning off neigh_suppress on",
              }));
    EXPECT_TRUE(inst->ToJson()["adopted"].get<bool>());
    f.driver->FinishReconcile();
    f.Run();
    EXPECT_FALSE(f.driver->reconcile_pending());
    EXPECT_EQ(f.kernel->Take(),
              (std::vector<std::string>{"reconcile: link del vxlan--b",
                                        "reconcile: link del evpn---b",
                                        "reconcile: fdb dump", "reconcile: neigh dump"}));
    EXPECT_TRUE(f.kernel->links.count("vxlan--a"));
    EXPECT_FALSE(f.kernel->links.count("vxlan--b"));
    EXPECT_FALSE(f.kernel->links.count("evpn---b"));
}

TEST(EvpnLinuxDriver, StaleVxlanDeviceIsReplaced) {
    Fixture f;
    f.kernel->AddLink("vxlan--x", {.kind = "vxlan", .vni = 999, .port = 4789,
                                   .local = Ip("192.0.2.1")});
    auto inst = f.Create(Evi("x", 100));
    auto seq = f.kernel->Take();
    ASSERT_GE(seq.size(), 3u);
    EXPECT_EQ(seq[2], "link del vxlan--x (stale)");
    EXPECT_EQ(f.kernel->links.at("vxlan--x").vni, 100u);
}

// --- the real kernel ------------------------------------------------------

TEST(EvpnLinuxKernel, InstanceInPrivateNamespace) {
    std::string why;
    auto ns = test::PrivateNetns::Create(&why);
    if (!ns) GTEST_SKIP() << "no private network namespace: " << why;
    nl::NetlinkSocket& check = ns->check();
    for (const auto& r : check.Transact(std::vector<nl::Request>{
             {nl::NewVethLink("tap1", "vm1"), "veth"},
             {nl::SetLinkUp(nl::LinkRef::ByName("tap1"), true), "tap1 up"}}))
        ASSERT_TRUE(r.ok()) << r.ToString();

    boost::asio::io_context io;
    EvpnLinuxTransport t;
    t.io = &io;
    t.sink = std::make_shared<nl::AsyncNetlink>(io, ns->TakeSocket());
    t.transact = [&check](std::vector<nl::Request> b) { return check.Transact(std::move(b)); };
    t.probe = [&check] { return nl::ProbeKernelFeatures(check, false); };
    EvpnLinuxDriver driver(Options(), std::move(t));
    auto run = [&] {
        io.restart();
        for (int i = 0; i < 10000 && driver.pending_steps() > 0; ++i)
            io.run_one_for(std::chrono::seconds(5));
    };
    ASSERT_TRUE(driver.ResetState().ok());
    ASSERT_TRUE(driver.Initialize().ok());
    auto created = driver.CreateInstance(Evi("kt", 100));
    ASSERT_TRUE(created.ok()) << created.status().message();
    auto& inst = *created.value();
    const auto vm = Mac("02:00:00:00:00:01"), remote = Mac("02:00:00:00:00:02");
    EXPECT_TRUE(inst.VifPlugged(vm, Ip("10.0.0.1"), test::Port("tap1"), 0, Direction::kBoth).ok());
    EXPECT_TRUE(inst.AddBumEndpoint(test::Bum("192.0.2.2", 100)).ok());
    EXPECT_TRUE(inst.AddBumEndpoint(test::Bum("192.0.2.3", 100)).ok());
    EXPECT_TRUE(inst.SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100,
                                                        "10.0.0.2"))
                    .ok());
    run();
    EXPECT_TRUE(driver.errors().empty()) << driver.errors().front();

    auto br = nl::ResolveIndex(check, "evpn---kt");
    auto vx = nl::ResolveIndex(check, "vxlan--kt");
    auto tap = nl::ResolveIndex(check, "tap1");
    ASSERT_TRUE(br && vx && tap);
    auto fdb_of = [&](int32_t ifindex) {
        auto all = nl::ListNeighbours(check, nl::kFamilyBridge, ifindex);
        EXPECT_TRUE(all.has_value());
        return all.value_or(std::vector<nl::NeighbourInfo>{});
    };
    // Bridge (`master`) entries carry NDA_MASTER, the vxlan device's own
    // (`self`) ones NTF_SELF.
    auto count = [&](const std::vector<nl::NeighbourInfo>& v, const bgp::MacAddress& mac,
                     uint8_t flag, const bgp::IpAddress& dst) {
        return std::count_if(v.begin(), v.end(), [&](const nl::NeighbourInfo& n) {
            bool kind = flag == nl::kNtfMaster ? n.master == *br && !(n.entry.flags & nl::kNtfSelf)
                                               : (n.entry.flags & nl::kNtfSelf) != 0;
            return n.entry.lladdr == mac && kind && n.entry.dst == dst;
        });
    };
    auto vx_fdb = fdb_of(*vx);
    EXPECT_EQ(count(vx_fdb, Mac("00:00:00:00:00:00"), nl::kNtfSelf, Ip("192.0.2.2")), 1);
    EXPECT_EQ(count(vx_fdb, Mac("00:00:00:00:00:00"), nl::kNtfSelf, Ip("192.0.2.3")), 1);
    EXPECT_EQ(count(vx_fdb, remote, nl::kNtfSelf, Ip("192.0.2.2")), 1);
    EXPECT_EQ(count(vx_fdb, remote, nl::kNtfMaster, {}), 1);
    EXPECT_EQ(count(fdb_of(*tap), vm, nl::kNtfMaster, {}), 1);
    auto neigh = nl::ListNeighbours(check, AF_INET, *br);
    ASSERT_TRUE(neigh.has_value());
    EXPECT_EQ(std::count_if(neigh->begin(), neigh->end(),
                            [&](const nl::NeighbourInfo& n) {
                                return n.entry.dst == Ip("10.0.0.2") && n.entry.lladdr == remote &&
                                       (n.entry.state & nl::kNudPermanent);
                            }),
              1);
    for (const auto& l : nl::ListLinks(check)) {
        if (l.name == "tap1") {
            EXPECT_EQ(l.master, *br);
        }
        if (l.name == "vxlan--kt") {
            EXPECT_EQ(l.master, *br);
            EXPECT_EQ(l.vxlan_id, 100u);
            EXPECT_EQ(l.vxlan_learning, false);
        }
    }

    // Mobility: the MAC moves to 192.0.2.3, make-before-break.
    EXPECT_TRUE(inst.SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.3", 100,
                                                        "10.0.0.2"))
                    .ok());
    EXPECT_TRUE(inst.RemoveRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100,
                                                         "10.0.0.2"))
                    .ok());
    run();
    vx_fdb = fdb_of(*vx);
    EXPECT_EQ(count(vx_fdb, remote, nl::kNtfSelf, Ip("192.0.2.3")), 1);
    EXPECT_EQ(count(vx_fdb, remote, nl::kNtfSelf, Ip("192.0.2.2")), 0);

    EXPECT_TRUE(inst.Cleanup().ok());
    run();
    EXPECT_TRUE(driver.errors().empty()) << driver.errors().front();
    for (const auto& l : nl::ListLinks(check)) {
        EXPECT_NE(l.name.rfind("evpn---", 0), 0u) << l.name;
        EXPECT_NE(l.name.rfind("vxlan--", 0), 0u) << l.name;
        if (l.name == "tap1") {
            EXPECT_EQ(l.master, 0);
        }
    }
    auto left = nl::ListNeighbours(check, AF_INET, 0);
    ASSERT_TRUE(left.has_value());
    for (const auto& n : *left) EXPECT_NE(n.entry.dst, Ip("10.0.0.2"));
}

// A restart: the first driver goes away without Cleanup (crash, upgrade);
// the second one, in reconcile mode, adopts the devices (same ifindex: no
// interruption) and, after the grace period, removes only what was not
// programmed again.
TEST(EvpnLinuxKernel, RestartReconciles) {
    std::string why;
    auto ns = test::PrivateNetns::Create(&why);
    if (!ns) GTEST_SKIP() << "no private network namespace: " << why;
    nl::NetlinkSocket& check = ns->check();
    for (const auto& r : check.Transact(std::vector<nl::Request>{
             {nl::NewVethLink("tap1", "vm1"), "veth"},
             {nl::SetLinkUp(nl::LinkRef::ByName("tap1"), true), "tap1 up"}}))
        ASSERT_TRUE(r.ok()) << r.ToString();
    boost::asio::io_context io;
    auto sink = std::make_shared<nl::AsyncNetlink>(io, ns->TakeSocket());
    auto make = [&](bool reconcile) {
        EvpnLinuxTransport t;
        t.io = &io;
        t.sink = sink;
        t.transact = [&check](std::vector<nl::Request> b) { return check.Transact(std::move(b)); };
        EvpnLinuxOptions o = Options();
        o.reconcile = reconcile;
        o.reconcile_grace = std::chrono::hours(1);
        return std::make_unique<EvpnLinuxDriver>(o, std::move(t));
    };
    auto run = [&](EvpnLinuxDriver& d) {
        io.restart();
        for (int i = 0; i < 10000 && d.pending_steps() > 0; ++i)
            io.run_one_for(std::chrono::seconds(5));
    };
    const auto m2 = Mac("02:00:00:00:00:02"), m3 = Mac("02:00:00:00:00:03");
    int32_t vx_before = 0;
    {
        auto d1 = make(true);
        ASSERT_TRUE(d1->ResetState().ok());
        ASSERT_TRUE(d1->Initialize().ok());
        auto inst = d1->CreateInstance(Evi("rs", 100));
        ASSERT_TRUE(inst.ok());
        auto& i1 = *inst.value();
        EXPECT_TRUE(i1.VifPlugged(Mac("02:00:00:00:00:01"), {}, test::Port("tap1"), 0,
                                  Direction::kBoth)
                        .ok());
        EXPECT_TRUE(i1.AddBumEndpoint(test::Bum("192.0.2.2", 100)).ok());
        EXPECT_TRUE(i1.AddBumEndpoint(test::Bum("192.0.2.3", 100)).ok());
        EXPECT_TRUE(
            i1.SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100, "10.0.0.2"))
                .ok());
        EXPECT_TRUE(
            i1.SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:03", "192.0.2.3", 100, "10.0.0.3"))
                .ok());
        run(*d1);
        EXPECT_TRUE(d1->errors().empty());
        vx_before = nl::ResolveIndex(check, "vxlan--rs").value_or(-1);
        // No Cleanup: the process "dies" with its state in the kernel (the
        // destructors program nothing).
    }
    auto d2 = make(true);
    ASSERT_TRUE(d2->ResetState().ok());
    ASSERT_TRUE(d2->Initialize().ok());
    EXPECT_TRUE(d2->reconcile_pending());
    auto inst = d2->CreateInstance(Evi("rs", 100));
    ASSERT_TRUE(inst.ok());
    auto& i2 = *inst.value();
    // Only part of the state comes back: the VM, one flood PE, one MAC.
    EXPECT_TRUE(i2.VifPlugged(Mac("02:00:00:00:00:01"), {}, test::Port("tap1"), 0,
                              Direction::kBoth)
                    .ok());
    EXPECT_TRUE(i2.AddBumEndpoint(test::Bum("192.0.2.2", 100)).ok());
    EXPECT_TRUE(
        i2.SetupRemoteEndpoint(test::MacRoute("02:00:00:00:00:02", "192.0.2.2", 100, "10.0.0.2"))
            .ok());
    run(*d2);
    auto vx = nl::ResolveIndex(check, "vxlan--rs");
    auto br = nl::ResolveIndex(check, "evpn---rs");
    ASSERT_TRUE(vx && br);
    EXPECT_EQ(*vx, vx_before);  // adopted, not re-created
    auto fdb_count = [&](const bgp::MacAddress& mac, const bgp::IpAddress& dst) {
        auto all = nl::ListNeighbours(check, nl::kFamilyBridge, *vx).value_or(
            std::vector<nl::NeighbourInfo>{});
        return std::count_if(all.begin(), all.end(), [&](const nl::NeighbourInfo& n) {
            return n.entry.lladdr == mac && n.entry.dst == dst && (n.entry.flags & nl::kNtfSelf);
        });
    };
    // Before the sweep the stale entries still forward.
    EXPECT_EQ(fdb_count(m3, Ip("192.0.2.3")), 1);
    EXPECT_EQ(fdb_count(Mac("00:00:00:00:00:00"), Ip("192.0.2.3")), 1);
    d2->FinishReconcile();
    run(*d2);
    EXPECT_TRUE(d2->errors().empty()) << d2->errors().front();
    EXPECT_EQ(fdb_count(m2, Ip("192.0.2.2")), 1);
    EXPECT_EQ(fdb_count(Mac("00:00:00:00:00:00"), Ip("192.0.2.2")), 1);
    EXPECT_EQ(fdb_count(m3, Ip("192.0.2.3")), 0);
    EXPECT_EQ(fdb_count(Mac("00:00:00:00:00:00"), Ip("192.0.2.3")), 0);
    auto all = nl::ListNeighbours(check, nl::kFamilyBridge, 0).value_or(
        std::vector<nl::NeighbourInfo>{});
    EXPECT_EQ(std::count_if(all.begin(), all.end(),
                            [&](const nl::NeighbourInfo& n) {
                                return n.entry.lladdr == m3 && n.master == *br;
                            }),
              0);
    auto neigh = nl::ListNeighbours(check, AF_INET, 0).value_or(std::vector<nl::NeighbourInfo>{});
    auto has_ip = [&](std::string_view ip) {
        return std::count_if(neigh.begin(), neigh.end(), [&](const nl::NeighbourInfo& n) {
            return n.entry.family == AF_INET && n.entry.dst == Ip(ip) && n.entry.ifindex == *br;
        });
    };
    EXPECT_EQ(has_ip("10.0.0.2"), 1);
    EXPECT_EQ(has_ip("10.0.0.3"), 0);
    EXPECT_TRUE(i2.Cleanup().ok());
    run(*d2);
}

}  // namespace
}  // namespace bagpipe::dataplane
