// Flow and group text of the IP-VPN ovs driver, checked against the
// original's formats (reference bagpipe-bgp.md §5.6).
#include "dataplane/ovs/ovs_flows.h"

#include <gtest/gtest.h>

#include "../dataplane_test_util.h"

namespace bagpipe::dataplane::ovs {
namespace {

const Tables kTables{0, 1, 2};

TEST(OvsFlows, Priorities) {
    EXPECT_EQ(kDefaultPriority, 0x9000u);
    EXPECT_EQ(PrefixPriority(32), 0x9000u - 96);
    EXPECT_EQ(PrefixPriority(24), 0x9000u - 104);
    EXPECT_EQ(kFallbackPriority, 0x9000u - 0x100);
    EXPECT_LT(kFallbackPriority, PrefixPriority(0));
    EXPECT_GT(kClassifierPriority, PrefixPriority(128));
}

TEST(OvsFlows, FromPortAsTheOriginal) {
    Flow f = FromPortFlow(kTables, 7, 7, PortRef{"tap1", std::nullopt}, "ip");
    EXPECT_EQ(FlowAddLine(f),
              "flow add table=0,cookie=0x7,priority=36864,ip,in_port=tap1,"
              "actions=load:0->NXM_OF_IN_PORT[],set_field:7->reg0,resubmit(,2)");
    Flow v = FromPortFlow(kTables, 7, 7, PortRef{"5", 42}, "arp");
    EXPECT_EQ(v.key.match, "arp,in_port=5,dl_vlan=42");
    EXPECT_EQ(v.actions, "strip_vlan,load:0->NXM_OF_IN_PORT[],set_field:7->reg0,resubmit(,2)");
    EXPECT_EQ(FlowDeleteStrictLine(v.key),
              "flow delete_strict table=0,priority=36864,arp,in_port=5,dl_vlan=42");
}

TEST(OvsFlows, ToPortPopsTheLabel) {
    Flow f = ToPortFlow(kTables, 3, 20, test::Mac("52:54:00:00:00:01"), PortRef{"tap1", {}});
    EXPECT_EQ(FlowAddLine(f),
              "flow add table=1,cookie=0x3,priority=36864,mpls,mpls_label=20,mpls_bos=1,"
              "actions=pop_mpls:0x0800,mod_dl_src:00:00:5e:00:43:64,"
              "mod_dl_dst:52:54:00:00:00:01,output:tap1");
    Flow vlan = ToPortFlow(kTables, 3, 20, test::Mac("52:54:00:00:00:01"), PortRef{"9", 100});
    EXPECT_EQ(vlan.actions,
              "pop_mpls:0x0800,push_vlan:0x8100,mod_vlan_vid:100,mod_dl_src:00:00:5e:00:43:64,"
              "mod_dl_dst:52:54:00:00:00:01,output:9");
    Flow vx = ToPortFlow(kTables, 3, 20, test::Mac("52:54:00:00:00:01"), PortRef{"tap1", {}},
                         std::string_view("vxlan"));
    EXPECT_EQ(vx.key.match, "ip,in_port=vxlan,tun_id=20");
    EXPECT_EQ(vx.actions.find("pop_mpls"), std::string::npos);
}

TEST(OvsFlows, VxlanPerVrfVni) {
    Flow in = VxlanVrfFlow(kTables, 5, 5, 16, "vxlan");
    EXPECT_EQ(FlowAddLine(in),
              "flow add table=1,cookie=0x5,priority=36864,ip,in_port=vxlan,tun_id=16,"
              "actions=set_field:5->reg0,resubmit(,2)");
    Flow local = LocalRouteFlow(kTables, 5, 5, test::Ip("10.1.1.10"),
                                test::Mac("02:00:00:00:01:01"), PortRef{"tap1", {}});
    EXPECT_EQ(FlowAddLine(local),
              "flow add table=2,cookie=0x5,priority=36769,ip,reg0=5,nw_dst=10.1.1.10/32,"
              "actions=mod_dl_src:00:00:5e:00:43:64,mod_dl_dst:02:00:00:00:01:01,output:tap1");
    EXPECT_GT(local.key.priority, PrefixPriority(32));  // wins over a remote /32
}

TEST(OvsFlows, ArpResponder) {
    Flow f = ArpResponderFlow(kTables, 1, PortRef{"tap1", {}}, test::Ip("10.0.0.254"), false);
    EXPECT_EQ(f.key.table, 0);
    EXPECT_EQ(f.key.priority, kDefaultPriority + 1);
    EXPECT_EQ(f.key.match, "arp,in_port=tap1,arp_op=1,arp_tpa=10.0.0.254");
    EXPECT_EQ(f.actions,
              "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:00:00:5e:00:43:64,"
              "load:0x2->NXM_OF_ARP_OP[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
              "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:00:00:5e:00:43:64->arp_sha,"
              "set_field:10.0.0.254->arp_spa,IN_PORT");
    Flow proxy = ArpResponderFlow(kTables, 1, PortRef{"tap1", {}}, {}, true);
    EXPECT_EQ(proxy.key.match, "arp,in_port=tap1,arp_op=1");
    EXPECT_NE(proxy.actions.find("move:NXM_NX_REG1[]->NXM_OF_ARP_SPA[]"), std::string::npos);
}

TEST(OvsFlows, RouteAndGroup) {
    Flow r = RouteFlow(kTables, 4, 4, test::Pfx("10.1.0.0/16"), 12);
    EXPECT_EQ(FlowAddLine(r),
              "flow add table=2,cookie=0x4,priority=36752,ip,reg0=4,nw_dst=10.1.0.0/16,"
              "actions=group:12");
    Flow d = RouteFlow(kTables, 4, 4, test::Pfx("0.0.0.0/0"), 13);
    EXPECT_EQ(d.key.match, "ip,reg0=4");  // no nw_dst for /0
    EXPECT_EQ(d.key.priority, 0x9000u - 128);

    BucketSpec gre{Tunnel::kGre, true, 33, test::Ip("192.168.0.2"), false, "mpls_gre", "", ""};
    EXPECT_EQ(BucketActions(kTables, gre),
              "dec_ttl,push_mpls:0x8847,set_mpls_label:33,set_field:192.168.0.2->tun_dst,"
              "output:mpls_gre");
    BucketSpec eth{Tunnel::kBareMpls, false, 33, test::Ip("192.168.0.2"), false, "eth0",
                   "02:00:00:00:00:01", "02:00:00:00:00:02"};
    EXPECT_EQ(BucketActions(kTables, eth),
              "push_mpls:0x8847,set_mpls_label:33,mod_dl_src:02:00:00:00:00:01,"
              "mod_dl_dst:02:00:00:00:00:02,output:eth0");
    BucketSpec local{Tunnel::kGre, false, 33, test::Ip("192.168.0.1"), true, "mpls_gre", "", ""};
    EXPECT_EQ(BucketActions(kTables, local), "push_mpls:0x8847,set_mpls_label:33,resubmit(mpls_gre,1)");
    BucketSpec vx{Tunnel::kVxlan, false, 5001, test::Ip("192.168.0.2"), false, "vxlan", "", ""};
    EXPECT_EQ(BucketActions(kTables, vx),
              "mod_dl_src:00:00:5e:00:43:64,mod_dl_dst:00:00:5e:00:43:64,"
              "set_field:5001->tunnel_id,set_field:192.168.0.2->tun_dst,output:vxlan");

    EXPECT_EQ(GroupLine(12, SelectionText("dp_hash", 0), {{0, "a"}, {5, "b"}}),
              "group add_or_mod group_id=12,type=select,selection_method=dp_hash,"
              "bucket=bucket_id:0,actions=a,bucket=bucket_id:5,actions=b");
    EXPECT_EQ(SelectionText("hash,fields(ip_src,ip_dst)", 3),
              "selection_method=hash,fields(ip_src,ip_dst),selection_method_param=3");
    EXPECT_EQ(GroupDeleteLine(12), "group delete group_id=12");
}

TEST(OvsFlows, Fallback) {
    Fallback fb{test::Mac("02:00:00:00:00:0a"), test::Mac("02:00:00:00:00:0b"), 17};
    Flow f = FallbackFlow(kTables, 2, 2, fb);
    EXPECT_EQ(FlowAddLine(f),
              "flow add table=2,cookie=0x2,priority=36608,ip,reg0=2,"
              "actions=mod_dl_src:02:00:00:00:00:0a,mod_dl_dst:02:00:00:00:00:0b,output:17");
}

TEST(OvsFlows, PortRangeMasks) {
    EXPECT_EQ(PortRangeMatches({80, 80}), std::vector<std::string>{"80"});
    EXPECT_EQ(PortRangeMatches({1000, 1999}),
              (std::vector<std::string>{"0x3e8/0xfff8", "0x3f0/0xfff0", "0x400/0xfe00",
                                        "0x600/0xff00", "0x700/0xff80", "0x780/0xffc0",
                                        "0x7c0/0xfff0"}));
    EXPECT_EQ(PortRangeMatches({0, 65535}), std::vector<std::string>{""});
    // Every port of a range is covered exactly once by the matches.
    for (PortRange r : {PortRange{1, 1023}, PortRange{1024, 65535}, PortRange{5, 9}}) {
        std::vector<int> hits(65536, 0);
        for (const std::string& m : PortRangeMatches(r)) {
            size_t slash = m.find('/');
            uint32_t v = static_cast<uint32_t>(std::stoul(m.substr(0, slash), nullptr, 0));
            uint32_t mask = slash == std::string::npos
                                ? 0xffff
                                : static_cast<uint32_t>(std::stoul(m.substr(slash + 1), nullptr, 0));
            for (uint32_t p = 0; p < 65536; ++p)
                if ((p & mask) == v) ++hits[p];
        }
        for (uint32_t p = 0; p < 65536; ++p)
            ASSERT_EQ(hits[p], (p >= r.min && p <= r.max) ? 1 : 0) << p;
    }
}

TEST(OvsFlows, Classifier) {
    TrafficClassifier c;
    c.destination_prefix = test::Pfx("10.0.0.0/24");
    c.protocol = 6;
    c.destination_port = PortRange{80, 81};
    auto flows = ClassifierFlows(kTables, 3, 3, c, 9);
    ASSERT_TRUE(flows.ok());
    ASSERT_EQ(flows->size(), 1u);
    EXPECT_EQ(FlowAddLine(flows->front()),
              "flow add table=2,cookie=0x3,priority=37120,tcp,reg0=3,nw_dst=10.0.0.0/24,"
              "tp_dst=0x50/0xfffe,actions=set_field:9->reg0,resubmit(,2)");
    TrafficClassifier ports_only;
    ports_only.source_port = PortRange{53, 53};
    auto both = ClassifierFlows(kTables, 3, 3, ports_only, 9);
    ASSERT_TRUE(both.ok());
    ASSERT_EQ(both->size(), 2u);  // tcp and udp
    EXPECT_EQ(both->at(1).key.match, "udp,reg0=3,tp_src=53");
    TrafficClassifier icmp_ports;
    icmp_ports.protocol = 1;
    icmp_ports.destination_port = PortRange{1, 2};
    EXPECT_EQ(ClassifierFlows(kTables, 3, 3, icmp_ports, 9).status().code(),
              DataplaneErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace bagpipe::dataplane::ovs
