// JSON shape of every message type (bgp/json/message_json.h): the field names
// and value formats the decode tool and the looking glass rely on.
#include "bgp/json/message_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sample_messages.h"

namespace bagpipe::bgp {
namespace {

using nlohmann::json;
using json_test::SampleMessages;

json DecodeToJson(const Bytes& bytes, const SessionContext& ctx = {}, bool with_raw = true) {
    DecodeResult res = DecodeMessage(bytes, ctx);
    JsonOptions options;
    options.session = ctx;
    if (with_raw) options.raw = bytes;
    return MessageToJson(res, options);
}

json DecodeHex(std::string_view hex, const SessionContext& ctx = {}, bool with_raw = true) {
    auto bytes = ParseHex(hex);
    EXPECT_TRUE(bytes.has_value()) << hex;
    return DecodeToJson(bytes.value_or(Bytes{}), ctx, with_raw);
}

const Bytes& SampleBytes(std::string_view name) {
    static const std::vector<json_test::Sample> samples = SampleMessages();
    for (const auto& s : samples)
        if (s.name == name) return s.bytes;
    ADD_FAILURE() << "no sample " << name;
    static const Bytes kEmpty;
    return kEmpty;
}

json Sample(std::string_view name) { return DecodeToJson(SampleBytes(name)); }

json Attr(const json& update, int code) {
    for (const auto& a : update["attributes"])
        if (a["code"] == code) return a;
    return nullptr;
}

json MpNlri(const json& update) { return Attr(update, attr::kMpReach)["value"]["nlri"]; }

std::vector<int> Codes(const json& update) {
    std::vector<int> codes;
    for (const auto& a : update["attributes"]) codes.push_back(a["code"]);
    return codes;
}

TEST(MessageJson, EverySampleDecodesWithoutError) {
    for (const auto& s : SampleMessages()) {
        json j = DecodeToJson(s.bytes);
        EXPECT_TRUE(j["error"].is_null()) << s.name << ": " << DumpJson(j);
        EXPECT_EQ(j["length"], s.bytes.size()) << s.name;
        EXPECT_TRUE(j["type"].is_string()) << s.name;
        // Same content without the raw bytes (canonical flags, order by code),
        // since our encoder writes canonical messages.
        EXPECT_EQ(DecodeToJson(s.bytes, {}, false), j) << s.name;
    }
}

TEST(MessageJson, Keepalive) {
    json j = DecodeToJson(EncodeKeepalive());
    EXPECT_EQ(j, (json{{"type", "KEEPALIVE"}, {"type_code", 4}, {"length", 19}, {"error", nullptr}}));
}

TEST(MessageJson, Open) {
    json j = Sample("open");
    EXPECT_EQ(j["type"], "OPEN");
    EXPECT_EQ(j["version"], 4);
    EXPECT_EQ(j["my_as"], 23456);
    EXPECT_EQ(j["asn"], 4200000001u);
    EXPECT_EQ(j["hold_time"], 180);
    EXPECT_EQ(j["bgp_id"], "192.0.2.1");
    const json& caps = j["capabilities"];
    ASSERT_EQ(caps.size(), 19u);
    EXPECT_EQ(caps[0], (json{{"code", 1}, {"name", "multiprotocol"}, {"afi", 1}, {"safi", 1},
                             {"family", "ipv4-unicast"}}));
    EXPECT_EQ(caps[6]["family"], "l2vpn-evpn");
    EXPECT_EQ(caps[7]["family"], "ipv4-rtc");
    EXPECT_EQ(caps[8]["family"], "ipv4-flowspec-vpn");
    EXPECT_EQ(caps[9], (json{{"code", 2}, {"name", "route-refresh"}}));
    EXPECT_EQ(caps[10], (json{{"code", 70}, {"name", "enhanced-route-refresh"}}));
    EXPECT_EQ(caps[11], (json{{"code", 6}, {"name", "extended-message"}}));
    EXPECT_EQ(caps[12], (json{{"code", 65}, {"name", "four-octet-as"}, {"asn", 4200000001u}}));
    const json& ap = caps[13];
    EXPECT_EQ(ap["name"], "add-path");
    ASSERT_EQ(ap["families"].size(), 3u);
    EXPECT_EQ(ap["families"][0], (json{{"family", "ipv4-unicast"}, {"afi", 1}, {"safi", 1},
                                       {"send_receive", "both"}}));
    EXPECT_EQ(ap["families"][1]["send_receive"], "receive");
    EXPECT_EQ(ap["families"][2]["send_receive"], "send");
    const json& gr = caps[14];
    EXPECT_EQ(gr["name"], "graceful-restart");
    EXPECT_EQ(gr["restart_time"], 120);
    EXPECT_EQ(gr["flags"], 8);
    EXPECT_EQ(gr["restart_state"], true);
    EXPECT_EQ(gr["notification"], false);
    ASSERT_EQ(gr["families"].size(), 2u);
    EXPECT_EQ(gr["families"][0]["family"], "ipv4-vpn");
    EXPECT_EQ(gr["families"][0]["flags"], 0x80);
    EXPECT_EQ(gr["families"][0]["forwarding_state"], true);
    const json& enh = caps[15];
    EXPECT_EQ(enh["name"], "extended-next-hop");
    EXPECT_EQ(enh["value"], "000100010002");
    EXPECT_EQ(enh["families"][0]["next_hop_afi"], 2);
    EXPECT_EQ(caps[16]["name"], "long-lived-graceful-restart");
    EXPECT_EQ(caps[16]["families"][0]["stale_time"], 3600);
    EXPECT_EQ(caps[17]["name"], "fqdn");
    EXPECT_EQ(caps[17]["hostname"], "bagpipe");
    EXPECT_EQ(caps[17]["domain"], "example.net");
    EXPECT_EQ(caps[18], (json{{"code", 128}, {"name", "route-refresh-cisco"}, {"value", ""}}));
}

TEST(MessageJson, UnknownCapabilityIsHex) {
    OpenMessage m;
    m.hold_time = 90;
    m.bgp_id = 1;
    m.capabilities.push_back(UnknownCap{250, {0xde, 0xad}});
    json j = DecodeToJson(EncodeOpen(m));
    EXPECT_EQ(j["capabilities"][0], (json{{"code", 250}, {"name", "unknown"}, {"value", "dead"}}));
}

TEST(MessageJson, UpdateWithClassicAttributes) {
    json j = Sample("ipv4-unicast");
    EXPECT_EQ(j["type"], "UPDATE");
    EXPECT_EQ(j["withdrawn"], (json::array({{{"prefix", "192.0.2.0/24"}},
                                            {{"prefix", "198.51.100.128/25"}}})));
    EXPECT_EQ(j["nlri"], (json::array({{{"prefix", "10.1.0.0/16"}},
                                       {{"prefix", "10.2.3.0/24"}},
                                       {{"prefix", "0.0.0.0/0"}}})));
    EXPECT_FALSE(j.contains("end_of_rib"));
    EXPECT_EQ(Codes(j), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 200}));
    EXPECT_EQ(Attr(j, 1), (json{{"code", 1}, {"name", "ORIGIN"}, {"flags", 0x40}, {"length", 1},
                                {"value", "egp"}}));
    EXPECT_EQ(Attr(j, 2)["value"],
              (json::array({{{"type", "sequence"}, {"asns", {65001, 4200000000u, 65002}}},
                            {{"type", "set"}, {"asns", {65010, 65011}}}})));
    EXPECT_EQ(Attr(j, 3)["value"], "192.0.2.1");
    EXPECT_EQ(Attr(j, 4)["name"], "MULTI_EXIT_DISC");
    EXPECT_EQ(Attr(j, 4)["flags"], 0x80);
    EXPECT_EQ(Attr(j, 4)["value"], 50);
    EXPECT_EQ(Attr(j, 5)["value"], 200);
    EXPECT_EQ(Attr(j, 6)["name"], "ATOMIC_AGGREGATE");
    EXPECT_EQ(Attr(j, 7)["value"], (json{{"asn", 65001}, {"address", "192.0.2.9"}}));
    EXPECT_EQ(Attr(j, 8)["value"], (json::array({"65000:1", "65000:2", "65535:65281"})));
    EXPECT_EQ(Attr(j, 8)["flags"], 0xc0);
    EXPECT_EQ(Attr(j, 9)["value"], "192.0.2.5");
    EXPECT_EQ(Attr(j, 10)["value"], (json::array({"192.0.2.6", "192.0.2.7"})));
    EXPECT_EQ(Attr(j, 32)["value"], (json::array({"65000:1:2", "4200000000:3:4"})));
    EXPECT_EQ(Attr(j, 200), (json{{"code", 200}, {"name", "UNKNOWN"}, {"flags", 0xe0},
                                  {"length", 4}, {"value", "01020304"}}));
    const json ec = Attr(j, 16)["value"];
    ASSERT_EQ(ec.size(), 5u);
    EXPECT_EQ(ec[0]["name"], "route-target");
    EXPECT_EQ(ec[0]["type"], 0);
    EXPECT_EQ(ec[0]["subtype"], 2);
    EXPECT_EQ(ec[0]["value"], "64512:1");
    EXPECT_EQ(ec[1]["value"], "192.0.2.1:7");
    EXPECT_EQ(ec[1]["type"], 1);
    EXPECT_EQ(ec[2]["value"], "4200000000:7");
    EXPECT_EQ(ec[2]["type"], 2);
    EXPECT_EQ(ec[3]["name"], "route-origin");
    EXPECT_EQ(ec[3]["value"], "65000:3");
    EXPECT_EQ(ec[4]["value"], "192.0.2.2:4");
}

TEST(MessageJson, LabeledAndVpnNlri) {
    json v6 = Sample("ipv6-unicast");
    EXPECT_EQ(Attr(v6, 14)["value"]["next_hop"], (json::array({"2001:db8::1", "fe80::1"})));
    EXPECT_EQ(MpNlri(v6)[0], (json{{"prefix", "2001:db8:1::/48"}}));

    json lab = Sample("ipv4-labeled");
    EXPECT_EQ(Attr(lab, 14)["value"]["family"], "ipv4-labeled");
    EXPECT_EQ(MpNlri(lab)[0], (json{{"labels", {1601}}, {"label_values", {100}},
                                    {"prefix", "10.3.0.0/16"}}));
    EXPECT_EQ(MpNlri(lab)[1]["labels"], (json::array({200 << 4, 300 << 4 | 1})));
    EXPECT_EQ(MpNlri(lab)[1]["label_values"], (json::array({200, 300})));

    json vpn = Sample("ipv4-vpn");
    const json mp = Attr(vpn, 14)["value"];
    EXPECT_EQ(mp["afi"], 1);
    EXPECT_EQ(mp["safi"], 128);
    EXPECT_EQ(mp["family"], "ipv4-vpn");
    EXPECT_EQ(mp["next_hop"], json::array({"192.0.2.4"}));
    EXPECT_EQ(mp["nlri"][0], (json{{"labels", {1000 << 4 | 1}}, {"label_values", {1000}},
                                   {"rd", "64512:1"}, {"prefix", "10.4.0.0/24"}}));
    EXPECT_EQ(mp["nlri"][1]["rd"], "192.0.2.1:5");
    EXPECT_EQ(mp["nlri"][2]["rd"], "4200000000:6");
    EXPECT_EQ(Sample("ipv6-vpn")["attributes"][3]["value"]["nlri"][0]["prefix"],
              "2001:db8:4::/64");

    json w = Sample("ipv4-vpn-withdraw");
    const json mu = Attr(w, 15)["value"];
    EXPECT_EQ(mu["family"], "ipv4-vpn");
    EXPECT_FALSE(mu.contains("nlri"));
    EXPECT_EQ(mu["withdrawn"][0]["labels"], json::array({0x800000}));
}

TEST(MessageJson, EvpnRouteTypes) {
    json t1 = MpNlri(Sample("evpn-1"))[0];
    EXPECT_EQ(t1, (json{{"route_type", 1}, {"route_type_name", "ethernet-ad"},
                        {"rd", "192.0.2.1:1"}, {"esi", "00:11:22:33:44:55:66:77:88:99"},
                        {"ethernet_tag", 4294967295u}, {"labels", {5000 << 4 | 1}},
                        {"label_values", {5000}}}));

    json t2 = MpNlri(Sample("evpn-2"));
    EXPECT_EQ(t2[0]["route_type_name"], "mac-ip");
    EXPECT_EQ(t2[0]["mac"], "52:54:00:aa:bb:01");
    EXPECT_EQ(t2[0]["ip"], "10.0.1.1");
    EXPECT_EQ(t2[0]["labels"], json::array({5010}));
    EXPECT_EQ(t2[1]["ip"], "2001:db8::10");
    EXPECT_EQ(t2[1]["labels"], json::array({5010, 5011}));
    EXPECT_EQ(t2[1]["ethernet_tag"], 7);
    EXPECT_TRUE(t2[2]["ip"].is_null());

    json t3 = MpNlri(Sample("evpn-3"))[0];
    EXPECT_EQ(t3, (json{{"route_type", 3}, {"route_type_name", "inclusive-multicast"},
                        {"rd", "192.0.2.1:3"}, {"ethernet_tag", 0},
                        {"originating_ip", "192.0.2.1"}}));

    json t4 = MpNlri(Sample("evpn-4"))[0];
    EXPECT_EQ(t4, (json{{"route_type", 4}, {"route_type_name", "ethernet-segment"},
                        {"rd", "192.0.2.1:4"}, {"esi", "00:11:22:33:44:55:66:77:88:99"},
                        {"originating_ip", "192.0.2.1"}}));

    json t5 = MpNlri(Sample("evpn-5"));
    EXPECT_EQ(t5[0]["route_type_name"], "ip-prefix");
    EXPECT_EQ(t5[0]["prefix"], "10.5.0.0/24");
    EXPECT_EQ(t5[0]["gateway_ip"], "0.0.0.0");
    EXPECT_EQ(t5[0]["labels"], json::array({5020}));
    EXPECT_EQ(t5[1]["prefix"], "2001:db8:5::/64");
    EXPECT_EQ(t5[1]["gateway_ip"], "2001:db8::5");
}

TEST(MessageJson, EvpnUnknownRouteTypeIsRaw) {
    // MP_REACH l2vpn-evpn with route type 9, length 3.
    json j = DecodeHex(
        "ffffffffffffffffffffffffffffffff002f02000000184001010040020080"
        "0e0e00194604c00002010009" "03aabbcc");
    EXPECT_TRUE(j["error"].is_null()) << DumpJson(j);
    EXPECT_EQ(MpNlri(j)[0], (json{{"route_type", 9}, {"route_type_name", "unknown"},
                                  {"raw", "aabbcc"}}));
}

TEST(MessageJson, RtcAndFlowspec) {
    json rtc = MpNlri(Sample("ipv4-rtc"));
    EXPECT_EQ(rtc[0], (json{{"length", 96}, {"default", false}, {"origin_as", 64512},
                            {"route_target", "64512:512"}, {"route_target_length", 64}}));
    EXPECT_EQ(rtc[1]["route_target"], "192.0.2.1:7");
    EXPECT_EQ(rtc[1]["origin_as"], 4200000000u);
    EXPECT_EQ(rtc[2], (json{{"length", 0}, {"default", true}}));
    json part = MpNlri(Sample("ipv4-rtc-partial"))[0];
    EXPECT_EQ(part["length"], 64);
    EXPECT_EQ(part["route_target"], "0002fc00");
    EXPECT_EQ(part["prefix"], "0002fc00/32");

    json fs = Sample("ipv4-flowspec-vpn");
    const json mp = Attr(fs, 14)["value"];
    EXPECT_EQ(mp["family"], "ipv4-flowspec-vpn");
    EXPECT_EQ(mp["next_hop"], json::array());
    EXPECT_EQ(mp["nlri"][0], (json{{"raw", "0000fc000000000901080a"}, {"rd", "64512:9"}}));
}

TEST(MessageJson, ExtendedCommunityKinds) {
    auto ext = [](std::string_view sample) { return Attr(Sample(sample), 16)["value"]; };
    json vpn = ext("ipv4-vpn");
    EXPECT_EQ(vpn[1], (json{{"type", 3}, {"subtype", 12}, {"name", "encapsulation"},
                            {"value", "mpls"}, {"transitive", true}, {"hex", "030c00000000000a"},
                            {"tunnel_type", 10}, {"tunnel", "mpls"}}));
    std::vector<std::pair<int, std::string>> tunnels;
    for (const char* s : {"ipv4-vpn", "ipv6-vpn", "evpn-3"})
        for (const auto& c : ext(s))
            if (c["name"] == "encapsulation")
                tunnels.emplace_back(c["tunnel_type"].get<int>(), c["tunnel"].get<std::string>());
    EXPECT_EQ(tunnels, (std::vector<std::pair<int, std::string>>{{10, "mpls"},
                                                                  {11, "mpls-over-gre"},
                                                                  {13, "mpls-over-udp"},
                                                                  {2, "gre"},
                                                                  {8, "vxlan"},
                                                                  {9, "nvgre"},
                                                                  {12, "vxlan-gpe"}}));
    json e2 = ext("evpn-2");
    EXPECT_EQ(e2[2]["name"], "mac-mobility");
    EXPECT_EQ(e2[2]["sequence"], 3);
    EXPECT_EQ(e2[2]["sticky"], true);
    EXPECT_EQ(e2[3]["name"], "default-gateway");
    EXPECT_EQ(e2[4]["name"], "routers-mac");
    EXPECT_EQ(e2[4]["mac"], "52:54:00:12:34:56");
    json e1 = ext("evpn-1");
    EXPECT_EQ(e1[1]["name"], "esi-label");
    EXPECT_EQ(e1[1]["label"], 5001 << 4 | 1);
    EXPECT_EQ(e1[1]["label_value"], 5001);
    EXPECT_EQ(e1[1]["single_active"], true);
    json e4 = ext("evpn-4");
    EXPECT_EQ(e4[0]["name"], "es-import");
    EXPECT_EQ(e4[0]["mac"], "00:11:22:33:44:55");
    json fs = ext("ipv4-flowspec-vpn");
    EXPECT_EQ(fs[1]["name"], "redirect-to-vrf");
    EXPECT_EQ(fs[1]["value"], "64512:99");
    EXPECT_EQ(fs[1]["type"], 0x80);
    EXPECT_EQ(fs[1]["subtype"], 8);
    ExtCommunity unknown;
    unknown.bytes = {0x43, 0x99, 1, 2, 3, 4, 5, 6};
    json u = ExtCommunityToJson(unknown);
    EXPECT_EQ(u["name"], "unknown");
    EXPECT_EQ(u["value"], "4399010203040506");
    EXPECT_EQ(u["transitive"], false);
}

TEST(MessageJson, PmsiTunnel) {
    json pmsi = Attr(Sample("evpn-3"), attr::kPmsiTunnel);
    EXPECT_EQ(pmsi["name"], "PMSI_TUNNEL");
    EXPECT_EQ(pmsi["value"], (json{{"flags", 0}, {"tunnel_type", 6},
                                   {"tunnel_type_name", "ingress-replication"}, {"label", 5010},
                                   {"label_value", 313}, {"tunnel_id", "192.0.2.1"}}));
}

TEST(MessageJson, AttrSetIsDecoded) {
    json a = Attr(Sample("attr-set"), attr::kAttrSet);
    EXPECT_EQ(a["name"], "ATTR_SET");
    EXPECT_EQ(a["value"]["origin_as"], 65100);
    const json& nested = a["value"]["attributes"];
    ASSERT_EQ(nested.size(), 4u);
    EXPECT_EQ(nested[0]["value"], "incomplete");
    EXPECT_EQ(nested[1]["value"][0]["asns"], json::array({65100}));
    EXPECT_EQ(nested[2]["value"], 300);
    EXPECT_EQ(nested[3]["value"], json::array({"65100:7"}));
}

TEST(MessageJson, EndOfRib) {
    EXPECT_EQ(Sample("eor-ipv4-unicast")["end_of_rib"], "ipv4-unicast");
    json evpn = Sample("eor-l2vpn-evpn");
    EXPECT_EQ(evpn["end_of_rib"], "l2vpn-evpn");
    EXPECT_EQ(Attr(evpn, 15)["value"]["withdrawn"], json::array());
    EXPECT_FALSE(Sample("evpn-withdraw").contains("end_of_rib"));
}

TEST(MessageJson, Notification) {
    json j = Sample("notification-shutdown");
    EXPECT_EQ(j["type"], "NOTIFICATION");
    EXPECT_EQ(j["code"], 6);
    EXPECT_EQ(j["subcode"], 2);
    EXPECT_EQ(j["code_name"], "cease");
    EXPECT_EQ(j["subcode_name"], "administrative-shutdown");
    EXPECT_EQ(j["shutdown_communication"], "maintenance window, back at 10:00");
    json u = Sample("notification-update-error");
    EXPECT_EQ(u["code_name"], "update-message-error");
    EXPECT_EQ(u["subcode_name"], "malformed-as-path");
    EXPECT_EQ(u["data"], "40020105");
    EXPECT_FALSE(u.contains("shutdown_communication"));
    EXPECT_EQ(NotificationSubcodeName(notif::kHoldTimerExpired, 0), "unspecific");
    EXPECT_EQ(NotificationSubcodeName(notif::kOpenMessageError, 7), "unsupported-capability");
}

TEST(MessageJson, InvalidUtf8ShutdownCommunicationStillDumps) {
    // Cease / administrative shutdown, communication of 2 octets ff fe.
    json j = DecodeHex("ffffffffffffffffffffffffffffffff0018030602" "02fffe");
    ASSERT_TRUE(j.contains("shutdown_communication"));
    std::string out;
    EXPECT_NO_THROW(out = DumpJson(j));
    EXPECT_NE(out.find("\xef\xbf\xbd"), std::string::npos) << out;  // U+FFFD
}

TEST(MessageJson, RouteRefresh) {
    EXPECT_EQ(Sample("route-refresh-borr"),
              (json{{"type", "ROUTE-REFRESH"}, {"type_code", 5}, {"length", 23}, {"error", nullptr},
                    {"afi", 25}, {"safi", 70}, {"family", "l2vpn-evpn"}, {"subtype", 1},
                    {"subtype_name", "borr"}}));
    EXPECT_EQ(Sample("route-refresh-eorr")["subtype_name"], "eorr");
    EXPECT_EQ(Sample("route-refresh")["subtype_name"], "normal");
}

TEST(MessageJson, HeaderErrorHasNoType) {
    json j = DecodeHex("ffffffff");
    EXPECT_TRUE(j["type"].is_null());
    EXPECT_EQ(j["error"]["action"], "session-reset");
    EXPECT_EQ(j["error"]["notification"]["code"], 1);
    EXPECT_EQ(j["error"]["notification"]["subcode"], 2);
    EXPECT_EQ(j["error"]["notification"]["code_name"], "message-header-error");
    EXPECT_EQ(j["error"]["notification"]["subcode_name"], "bad-message-length");
    EXPECT_TRUE(j["error"]["reason"].is_string());
}

TEST(MessageJson, MalformedOriginIsTreatAsWithdraw) {
    // ORIGIN 3 (undefined), empty AS_PATH, NEXT_HOP, NLRI 10/8.
    const std::string hex =
        "ffffffffffffffffffffffffffffffff002702" "0000" "000e" "40010103" "400200"
        "400304c0000201" "080a";
    json j = DecodeHex(hex);
    const json& e = j["error"];
    EXPECT_EQ(e["action"], "treat-as-withdraw");
    EXPECT_EQ(e["notification"]["code"], 3);
    EXPECT_EQ(e["notification"]["subcode"], 6);
    EXPECT_EQ(e["notification"]["data"], "40010103");
    EXPECT_EQ(e["attribute"], 1);
    EXPECT_EQ(e["attribute_name"], "ORIGIN");
    // With the raw bytes the malformed attribute is listed, marked discarded.
    json origin = j["attributes"][0];
    EXPECT_EQ(origin["code"], 1);
    EXPECT_EQ(origin["discarded"], true);
    EXPECT_EQ(origin["value"], "03");
    EXPECT_EQ(j["nlri"], json::array({{{"prefix", "10.0.0.0/8"}}}));
    // Without them only what was understood.
    json bare = DecodeHex(hex, {}, false);
    EXPECT_EQ(Codes(bare), (std::vector<int>{2, 3}));
}

TEST(MessageJson, MalformedEvpnNlriDisablesTheFamily) {
    // MP_REACH l2vpn-evpn whose route (type 2, length 37) is truncated.
    json j = DecodeHex(
        "ffffffffffffffffffffffffffffffff002c0200000015" "40010100" "400200"
        "800e0b00194604c0000201000225");
    const json& e = j["error"];
    EXPECT_EQ(e["action"], "afi-safi-disable");
    EXPECT_EQ(e["afi"], 25);
    EXPECT_EQ(e["safi"], 70);
    EXPECT_EQ(e["family"], "l2vpn-evpn");
    EXPECT_EQ(e["attribute"], 14);
    EXPECT_EQ(e["notification"]["subcode_name"], "optional-attribute-error");
}

TEST(MessageJson, UnknownFamilyIsRaw) {
    // MP_REACH AFI 1 / SAFI 2 (multicast), next hop 192.0.2.1, NLRI 10.0/16.
    json j = DecodeHex(
        "ffffffffffffffffffffffffffffffff002d0200000016" "40010100" "400200"
        "800e0c00010204c000020100100a00");
    EXPECT_TRUE(j["error"].is_null()) << DumpJson(j);
    EXPECT_EQ(Attr(j, 14)["value"], (json{{"afi", 1}, {"safi", 2}, {"family", "unknown"},
                                          {"raw", "04c000020100100a00"}}));
}

TEST(MessageJson, WireOrderAndFlagsWhenRawGiven) {
    // LOCAL_PREF, then ORIGIN with the extended-length flag, then AS_PATH, then
    // ORIGIN again (ignored: RFC 7606 §3 g).
    const std::string hex =
        "ffffffffffffffffffffffffffffffff002a020000" "0013" "40050400000064" "5001000100"
        "400200" "40010102";
    json j = DecodeHex(hex);
    EXPECT_EQ(j["error"]["action"], "attribute-discard");
    EXPECT_EQ(Codes(j), (std::vector<int>{5, 1, 2, 1}));
    EXPECT_EQ(j["attributes"][1]["flags"], 0x50);
    EXPECT_EQ(j["attributes"][1]["value"], "igp");
    EXPECT_EQ(j["attributes"][3]["discarded"], true);
    EXPECT_EQ(j["attributes"][3]["value"], "02");
    json bare = DecodeHex(hex, {}, false);
    EXPECT_EQ(Codes(bare), (std::vector<int>{1, 2, 5}));
    EXPECT_EQ(bare["attributes"][0]["flags"], 0x40);
    EXPECT_EQ(bare["attributes"][0]["length"], 1);
}

TEST(MessageJson, CanonicalFlagsUseExtendedLengthForLongValues) {
    PathAttributes a;
    a.communities.assign(70, 65000u << 16 | 1);
    a.set(attr::kCommunities);
    EXPECT_EQ(CanonicalAttributeFlags(a, attr::kCommunities, {}), 0xd0);
    a.communities.resize(2);
    EXPECT_EQ(CanonicalAttributeFlags(a, attr::kCommunities, {}), 0xc0);
}

TEST(MessageJson, PathIdsWithAddPath) {
    SessionContext tx;
    tx.add_path_send.set(FamilyIndex(Family::kIpv4Unicast));
    tx.add_path_send.set(FamilyIndex(Family::kL2vpnEvpn));
    SessionContext rx;
    rx.add_path_receive = tx.add_path_send;

    UpdateMessage m;
    m.attributes = json_test::BaseAttributes();
    m.attributes.next_hop = json_test::Ip("192.0.2.1");
    m.attributes.set(attr::kNextHop);
    m.nlri.push_back({7, json_test::Pfx("10.7.0.0/16")});
    m.withdrawn.push_back({9, json_test::Pfx("10.9.0.0/16")});
    json j = DecodeToJson(EncodeUpdate(m, tx), rx);
    EXPECT_TRUE(j["error"].is_null()) << DumpJson(j);
    EXPECT_EQ(j["nlri"][0], (json{{"prefix", "10.7.0.0/16"}, {"path_id", 7}}));
    EXPECT_EQ(j["withdrawn"][0]["path_id"], 9);

    EvpnNlri n;
    n.path_id = 42;
    n.route_type = 3;
    n.rd = json_test::Rd("64512:3");
    n.originating_ip = json_test::Ip("192.0.2.1");
    json e = DecodeToJson(json_test::Announce(json_test::BaseAttributes(), Family::kL2vpnEvpn,
                                              json_test::Nh("192.0.2.1"),
                                              std::vector<EvpnNlri>{n}, tx),
                          rx);
    EXPECT_EQ(MpNlri(e)[0]["path_id"], 42);
    // Not for a family without ADD-PATH.
    EXPECT_FALSE(MpNlri(Sample("evpn-3"))[0].contains("path_id"));
    EXPECT_FALSE(Sample("ipv4-unicast")["nlri"][0].contains("path_id"));
}

TEST(MessageJson, ParseHex) {
    EXPECT_EQ(ParseHex("ff 00\tAb\r\n"), (Bytes{0xff, 0x00, 0xab}));
    EXPECT_EQ(ParseHex(""), Bytes{});
    std::string why;
    EXPECT_FALSE(ParseHex("abc", &why));
    EXPECT_EQ(why, "invalid hex: odd number of hex digits");
    EXPECT_FALSE(ParseHex("0x12", &why));
    EXPECT_EQ(why, "invalid hex: character 'x' at offset 1");
    EXPECT_EQ(HexString(Bytes{0x0a, 0xff}), "0aff");
    EXPECT_EQ(CommunityString(0xfde80001), "65000:1");
}

}  // namespace
}  // namespace bagpipe::bgp
