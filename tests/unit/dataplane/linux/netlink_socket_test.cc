// The batch netlink socket against the real kernel, in a private network
// namespace (netns_util.h): synchronous and asynchronous batches, per-request
// errors with extended ack messages, dumps and their parsers, feature probing.
#include "dataplane/linux/netlink_socket.h"

#include <gtest/gtest.h>
#include <linux/neighbour.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>

#include "../dataplane_test_util.h"
#include "dataplane/linux/netlink_features.h"
#include "netns_util.h"

namespace bagpipe::dataplane::netlink {
namespace {

using test::Ip;
using test::Mac;

#define NETNS_OR_SKIP(var)                                                   \
    std::string why_##var;                                                   \
    auto var = test::PrivateNetns::Create(&why_##var);                       \
    if (!var) GTEST_SKIP() << "no private network namespace: " << why_##var;

std::vector<Request> Topology() {
    std::vector<Request> b;
    b.push_back({NewBridgeLink("br0"), "link add br0"});
    b.push_back({NewVxlanLink("vx0", {.vni = 100, .local = Ip("192.0.2.1")}), "link add vx0"});
    b.push_back({SetLinkUp(LinkRef::ByName("br0"), true), "link set br0 up"});
    b.push_back({SetLinkUp(LinkRef::ByName("vx0"), true), "link set vx0 up"});
    return b;
}

TEST(NetlinkSocket, BatchDumpAndPerObjectErrors) {
    NETNS_OR_SKIP(ns);
    NetlinkSocket& s = ns->socket();
    for (const Result& r : s.Transact(Topology())) EXPECT_TRUE(r.ok()) << r.ToString();
    auto br = ResolveIndex(s, "br0");
    auto vx = ResolveIndex(s, "vx0");
    ASSERT_TRUE(br && vx);
    EXPECT_FALSE(ResolveIndex(s, "nonexistent").has_value());

    std::vector<Request> b;
    b.push_back({SetLinkMaster(LinkRef::ByIndex(*vx), *br), "vx0 master br0"});
    b.push_back({SetBridgePort(*vx, {.learning = false, .neigh_suppress = true}), "brport vx0"});
    for (const char* pe : {"192.0.2.2", "192.0.2.3"})
        b.push_back({AddNeighbour({.ifindex = *vx, .lladdr = Mac("00:00:00:00:00:00"),
                                   .dst = Ip(pe), .state = kNudPermanent | kNudNoArp,
                                   .flags = kNtfSelf},
                                  NeighbourOp::kAppend),
                     std::string("flood ") + pe});
    // A route through a device that does not exist (onlink: no gateway
    // check first): fails alone.
    Route bad;
    bad.destination = test::Pfx("10.9.0.0/24");
    bad.table = 1000;
    bad.next_hops = {{.gateway = Ip("10.0.0.2"), .oif = 9999, .onlink = true}};
    b.push_back({AddRoute(bad), "route via ifindex 9999"});
    b.push_back({AddNeighbour({.ifindex = *vx, .lladdr = Mac("02:00:00:00:01:02"),
                               .dst = Ip("192.0.2.2"), .state = kNudPermanent | kNudNoArp,
                               .flags = kNtfSelf}),
                 "fdb 02:00:00:00:01:02 dev vx0 dst 192.0.2.2"});
    // Creating br0 again: EEXIST for that request only.
    b.push_back({NewBridgeLink("br0"), "link add br0 again"});
    auto results = s.Transact(std::move(b));
    ASSERT_EQ(results.size(), 7u);
    for (size_t i : {0u, 1u, 2u, 3u, 5u}) EXPECT_TRUE(results[i].ok()) << results[i].ToString();
    EXPECT_EQ(results[4].error, ENODEV) << results[4].ToString();
    EXPECT_EQ(results[4].label, "route via ifindex 9999");
    EXPECT_EQ(results[6].error, EEXIST);
    EXPECT_NE(results[6].ToString().find("link add br0 again: "), std::string::npos);

    auto fdb = ListNeighbours(ns->check(), kFamilyBridge, *vx);
    ASSERT_TRUE(fdb.has_value());
    size_t flood = 0, unicast = 0;
    for (const NeighbourInfo& n : *fdb) {
        if (!(n.entry.flags & kNtfSelf) || n.entry.dst.empty()) continue;
        if (n.entry.lladdr == Mac("00:00:00:00:00:00")) ++flood;
        if (n.entry.lladdr == Mac("02:00:00:00:01:02")) {
            ++unicast;
            EXPECT_EQ(n.entry.dst, Ip("192.0.2.2"));
        }
    }
    EXPECT_EQ(flood, 2u);
    EXPECT_EQ(unicast, 1u);

    auto links = ListLinks(ns->check());
    bool found = false;
    for (const LinkInfo& l : links)
        if (l.name == "vx0") {
            found = true;
            EXPECT_EQ(l.kind, "vxlan");
            EXPECT_EQ(l.vxlan_id, 100u);
            EXPECT_EQ(l.vxlan_port, 4789);
            EXPECT_EQ(l.vxlan_learning, false);
            EXPECT_EQ(l.master, *br);
            EXPECT_TRUE(l.up);
        }
    EXPECT_TRUE(found);
}

TEST(NetlinkSocket, ExtendedAckMessage) {
    NETNS_OR_SKIP(ns);
    // A vxlan without id: the kernel explains (extended ack) as well as EINVAL.
    Result r = ns->socket().Transact(Request{NewVxlanLink("vx1", {.vni = 1u << 25}), "bad vni"});
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.ext_ack.empty()) << r.ToString();
}

TEST(NetlinkSocket, AsyncBatchesInOrder) {
    NETNS_OR_SKIP(ns);
    boost::asio::io_context io;
    AsyncNetlink async(io, ns->TakeSocket());
    std::vector<std::string> order;
    std::vector<Result> first, second;
    async.Submit(Topology(), [&](std::vector<Result> r) {
        order.push_back("topology");
        first = std::move(r);
    });
    std::vector<Request> b;
    b.push_back({DeleteLink(LinkRef::ByName("vx0")), "link del vx0"});
    b.push_back({DeleteLink(LinkRef::ByName("vx0")), "link del vx0 again"});
    b.push_back({DumpLinks(), "dump"});
    async.Submit(std::move(b), [&](std::vector<Result> r) {
        order.push_back("delete");
        second = std::move(r);
    });
    EXPECT_TRUE(order.empty());  // never inside Submit
    io.run_for(std::chrono::seconds(5));
    ASSERT_EQ(order, (std::vector<std::string>{"topology", "delete"}));
    for (const Result& r : first) EXPECT_TRUE(r.ok()) << r.ToString();
    ASSERT_EQ(second.size(), 3u);
    EXPECT_TRUE(second[0].ok());
    EXPECT_EQ(second[1].error, ENODEV);
    EXPECT_TRUE(second[2].ok());
    size_t names = 0;
    for (const auto& m : second[2].replies)
        if (auto l = ParseLink(m); l && (l->name == "br0" || l->name == "vx0")) ++names;
    EXPECT_EQ(names, 1u);  // br0 only
}

TEST(NetlinkSocket, ManyRequestsInChunks) {
    NETNS_OR_SKIP(ns);
    NetlinkSocket& s = ns->socket();
    for (const Result& r : s.Transact(Topology())) ASSERT_TRUE(r.ok()) << r.ToString();
    auto vx = ResolveIndex(s, "vx0");
    ASSERT_TRUE(vx);
    std::vector<Request> b;
    for (uint32_t i = 0; i < 2000; ++i) {
        bgp::MacAddress m = Mac("02:00:00:00:00:00");
        m.bytes[4] = static_cast<uint8_t>(i >> 8);
        m.bytes[5] = static_cast<uint8_t>(i);
        b.push_back({AddNeighbour({.ifindex = *vx, .lladdr = m, .dst = Ip("192.0.2.9"),
                                   .state = kNudPermanent | kNudNoArp, .flags = kNtfSelf}),
                     "fdb"});
    }
    auto results = s.Transact(std::move(b));
    size_t ok = 0;
    for (const Result& r : results) ok += r.ok();
    EXPECT_EQ(ok, 2000u);
    auto fdb = ListNeighbours(ns->check(), kFamilyBridge, *vx);
    ASSERT_TRUE(fdb);
    size_t ours = 0;
    for (const auto& n : *fdb) ours += n.entry.dst == Ip("192.0.2.9");
    EXPECT_EQ(ours, 2000u);
}

TEST(NetlinkFeatures, ProbeLeavesNothing) {
    NETNS_OR_SKIP(ns);
    size_t before = ListLinks(ns->check()).size();
    KernelFeatures f = ProbeKernelFeatures(ns->socket(), /*log_missing=*/false);
    EXPECT_TRUE(f.vxlan);  // the E-VPN driver's requirement, present on every CI kernel
    EXPECT_EQ(ListLinks(ns->check()).size(), before);
}

}  // namespace
}  // namespace bagpipe::dataplane::netlink
