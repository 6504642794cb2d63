// The attach/detach request model (vpn/attach_params.h): the reference's
// request bodies (bagpipe-ref/requests/, reference §2.5) field by field, the
// §2.5 error table with our messages, route target forms and lists, IPv6,
// wrong JSON types, readvertise / attract_traffic / fallback, and a
// RapidCheck property that no JSON value makes the parser throw.
#include "vpn/attach_params.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace bagpipe::vpn {
namespace {

using bgp::ExtCommunity;
using dataplane::Direction;
using dataplane::VpnType;
using nlohmann::json;

// The four request bodies of bagpipe-ref/requests/, verbatim.
constexpr std::string_view kAttachEvpn =
    R"({"vpn_instance_id": "evpn-test", "vpn_type": "evpn", "mac_address": "52:54:00:aa:bb:01", "ip_address": "10.0.1.1/24", "gateway_ip": "10.0.1.254", "local_port": {"linuxif": "tap-evpn1"}, "import_rt": ["64512:513"], "export_rt": ["64512:513"], "instance_description": "evpn test instance", "description": "port 1 of evpn-test"})";
constexpr std::string_view kAttachIpvpn =
    R"({"vpn_instance_id": "ipvpn-test", "vpn_type": "ipvpn", "mac_address": "52:54:00:aa:bb:02", "ip_address": "10.0.0.1/24", "gateway_ip": "10.0.0.254", "local_port": {"linuxif": "tap-ipvpn1"}, "import_rt": "64512:512", "export_rt": "64512:512", "advertise_subnet": false, "lb_consistent_hash_order": 0, "local_pref": 200, "direction": "both"})";
constexpr std::string_view kDetachEvpn =
    R"({"vpn_instance_id": "evpn-test", "vpn_type": "evpn", "mac_address": "52:54:00:aa:bb:01", "ip_address": "10.0.1.1/24", "local_port": {"linuxif": "tap-evpn1"}})";
constexpr std::string_view kDetachIpvpn =
    R"({"vpn_instance_id": "ipvpn-test", "vpn_type": "ipvpn", "mac_address": "52:54:00:aa:bb:02", "ip_address": "10.0.0.1/24", "local_port": {"linuxif": "tap-ipvpn1"}})";
// What bagpipe-rest-attach sends (reference §2.5, cli_session.txt).
constexpr std::string_view kRestAttach =
    R"({"import_rt": ["64512:514"], "export_rt": ["64512:514"], "local_port": {"linuxif": "tap-cli1"}, "vpn_instance_id": "evpn-cli", "vpn_type": "evpn", "gateway_ip": "10.0.2.254", "mac_address": "52:54:00:cc:00:01", "ip_address": "10.0.2.1/24", "advertise_subnet": false, "readvertise": null, "attract_traffic": {}, "lb_consistent_hash_order": 0, "vni": 0, "direction": "both"})";

constexpr RequestKind kAttach = RequestKind::kAttach;
constexpr RequestKind kDetach = RequestKind::kDetach;

ExtCommunity Rt(uint32_t asn, uint32_t number) { return ExtCommunity::RouteTarget(0, asn, number); }

bgp::IpAddress Ip(std::string_view text) {
    auto a = bgp::IpAddress::Parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(bgp::IpAddress{});
}

bgp::Prefix Pfx(std::string_view text) {
    auto p = bgp::Prefix::Parse(text);
    EXPECT_TRUE(p.has_value()) << text;
    return p.value_or(bgp::Prefix{});
}

bgp::MacAddress Mac(std::string_view text) {
    auto m = bgp::MacAddress::Parse(text);
    EXPECT_TRUE(m.has_value()) << text;
    return m.value_or(bgp::MacAddress{});
}

// The parsed request; a failed expectation (and default values) if refused.
AttachParams Accept(const json& body, RequestKind kind = kAttach) {
    ParseResult r = ParseAttachParams(body, kind);
    if (const auto* e = std::get_if<ParamError>(&r)) {
        ADD_FAILURE() << "refused: " << e->message << "\nbody: " << body.dump();
        return {};
    }
    return std::get<AttachParams>(r);
}

// The error message, or "<accepted>".
std::string Refuse(const json& body, RequestKind kind = kAttach) {
    ParseResult r = ParseAttachParams(body, kind);
    if (const auto* e = std::get_if<ParamError>(&r)) return e->message;
    return "<accepted>";
}

// Minimal valid attach bodies.
json Evpn() {
    return json{
        {"vpn_type", "evpn"},   {"vpn_instance_id", "e1"}, {"mac_address", "52:54:00:00:00:01"},
        {"local_port", "tap1"}, {"import_rt", "64512:1"},  {"export_rt", "64512:1"}};
}
json Ipvpn() {
    json b = Evpn();
    b["vpn_type"] = "ipvpn";
    b["vpn_instance_id"] = "v1";
    b["ip_address"] = "10.0.0.1/24";
    b["gateway_ip"] = "10.0.0.254";
    return b;
}
json With(json b, const std::string& key, json value) {
    b[key] = std::move(value);
    return b;
}
json Without(json b, const std::string& key) {
    b.erase(key);
    return b;
}

// Route target lists through the public helper.
std::vector<ExtCommunity> Rts(const json& value) {
    auto r = ParseRouteTargetList(value, "import_rt");
    if (const auto* e = std::get_if<ParamError>(&r)) {
        ADD_FAILURE() << "refused: " << e->message;
        return {};
    }
    return std::get<std::vector<ExtCommunity>>(r);
}
std::string RtsError(const json& value, std::string_view field = "import_rt") {
    auto r = ParseRouteTargetList(value, field);
    if (const auto* e = std::get_if<ParamError>(&r)) return e->message;
    return "<accepted>";
}

// ---------------------------------------------------------------------------
// The reference's requests.

TEST(AttachParams, ReferenceAttachEvpn) {
    AttachParams p = Accept(json::parse(kAttachEvpn));
    EXPECT_EQ(p.vpn_type, VpnType::kEvpn);
    EXPECT_EQ(p.vpn_instance_id, "evpn-test");
    EXPECT_EQ(p.mac, Mac("52:54:00:aa:bb:01"));
    EXPECT_EQ(p.local_port.linuxif, "tap-evpn1");
    EXPECT_EQ(p.local_port.ovs, std::nullopt);
    EXPECT_EQ(p.local_port.vlan, std::nullopt);
    EXPECT_EQ(p.local_port.evpn, std::nullopt);
    EXPECT_EQ(p.import_rts, std::vector<ExtCommunity>{Rt(64512, 513)});
    EXPECT_EQ(p.export_rts, std::vector<ExtCommunity>{Rt(64512, 513)});
    EXPECT_EQ(p.ip, Ip("10.0.1.1"));  // the host address, not masked
    EXPECT_EQ(p.ip_prefix_length, 24);
    EXPECT_EQ(p.ip_text, "10.0.1.1/24");
    EXPECT_EQ(p.gateway_ip, Ip("10.0.1.254"));
    EXPECT_FALSE(p.advertise_subnet);
    EXPECT_EQ(p.lb_consistent_hash_order, 0u);
    EXPECT_EQ(p.local_pref, std::nullopt);
    EXPECT_EQ(p.direction, Direction::kBoth);
    EXPECT_EQ(p.vni, 0u);
    EXPECT_EQ(p.linuxbr, "");
    EXPECT_EQ(p.instance_description, "evpn test instance");
    EXPECT_EQ(p.description, json("port 1 of evpn-test"));
    EXPECT_EQ(p.readvertise, std::nullopt);
    EXPECT_EQ(p.attract_traffic, std::nullopt);
    EXPECT_EQ(p.fallback, std::nullopt);
}

TEST(AttachParams, ReferenceAttachIpvpn) {
    AttachParams p = Accept(json::parse(kAttachIpvpn));
    EXPECT_EQ(p.vpn_type, VpnType::kIpVpn);
    EXPECT_EQ(p.vpn_instance_id, "ipvpn-test");
    EXPECT_EQ(p.mac, Mac("52:54:00:aa:bb:02"));
    EXPECT_EQ(p.local_port, LocalPortSpec{"tap-ipvpn1"});
    EXPECT_EQ(p.import_rts, std::vector<ExtCommunity>{Rt(64512, 512)});  // a string, not a list
    EXPECT_EQ(p.export_rts, std::vector<ExtCommunity>{Rt(64512, 512)});
    EXPECT_EQ(p.ip, Ip("10.0.0.1"));
    EXPECT_EQ(p.ip_prefix_length, 24);
    EXPECT_EQ(p.ip_text, "10.0.0.1/24");
    EXPECT_EQ(p.gateway_ip, Ip("10.0.0.254"));
    EXPECT_FALSE(p.advertise_subnet);
    EXPECT_EQ(p.lb_consistent_hash_order, 0u);
    EXPECT_EQ(p.local_pref, 200u);
    EXPECT_EQ(p.direction, Direction::kBoth);
    EXPECT_EQ(p.instance_description, std::nullopt);
    EXPECT_TRUE(p.description.is_null());
    EXPECT_EQ(p.readvertise, std::nullopt);
    EXPECT_EQ(p.attract_traffic, std::nullopt);
    EXPECT_EQ(p.fallback, std::nullopt);
}

TEST(AttachParams, ReferenceDetachEvpn) {
    AttachParams p = Accept(json::parse(kDetachEvpn), kDetach);
    EXPECT_EQ(p.vpn_type, VpnType::kEvpn);
    EXPECT_EQ(p.vpn_instance_id, "evpn-test");
    EXPECT_EQ(p.mac, Mac("52:54:00:aa:bb:01"));
    EXPECT_EQ(p.local_port.linuxif, "tap-evpn1");
    EXPECT_EQ(p.ip, Ip("10.0.1.1"));
    EXPECT_EQ(p.ip_prefix_length, 24);
    EXPECT_EQ(p.ip_text, "10.0.1.1/24");
    EXPECT_TRUE(p.import_rts.empty());
    EXPECT_TRUE(p.export_rts.empty());
    EXPECT_TRUE(p.gateway_ip.empty());
    // As an attach it lacks the route targets.
    EXPECT_EQ(Refuse(json::parse(kDetachEvpn), kAttach), "Missing parameter: 'import_rt'");
}

TEST(AttachParams, ReferenceDetachIpvpn) {
    AttachParams p = Accept(json::parse(kDetachIpvpn), kDetach);
    EXPECT_EQ(p.vpn_type, VpnType::kIpVpn);
    EXPECT_EQ(p.vpn_instance_id, "ipvpn-test");
    EXPECT_EQ(p.mac, Mac("52:54:00:aa:bb:02"));
    EXPECT_EQ(p.local_port.linuxif, "tap-ipvpn1");
    EXPECT_EQ(p.ip, Ip("10.0.0.1"));
    EXPECT_EQ(p.ip_prefix_length, 24);
    EXPECT_TRUE(p.gateway_ip.empty());  // not required for detach
    EXPECT_TRUE(p.import_rts.empty());
}

TEST(AttachParams, RestAttachFullBody) {
    // readvertise: null and attract_traffic: {} mean none.
    AttachParams p = Accept(json::parse(kRestAttach));
    EXPECT_EQ(p.vpn_type, VpnType::kEvpn);
    EXPECT_EQ(p.vpn_instance_id, "evpn-cli");
    EXPECT_EQ(p.mac, Mac("52:54:00:cc:00:01"));
    EXPECT_EQ(p.local_port.linuxif, "tap-cli1");
    EXPECT_EQ(p.import_rts, std::vector<ExtCommunity>{Rt(64512, 514)});
    EXPECT_EQ(p.export_rts, std::vector<ExtCommunity>{Rt(64512, 514)});
    EXPECT_EQ(p.ip, Ip("10.0.2.1"));
    EXPECT_EQ(p.ip_prefix_length, 24);
    EXPECT_EQ(p.gateway_ip, Ip("10.0.2.254"));
    EXPECT_FALSE(p.advertise_subnet);
    EXPECT_EQ(p.readvertise, std::nullopt);
    EXPECT_EQ(p.attract_traffic, std::nullopt);
    EXPECT_EQ(p.vni, 0u);
    EXPECT_EQ(p.direction, Direction::kBoth);
    // bagpipe-rest-attach sends the same full body to detach.
    AttachParams d = Accept(json::parse(kRestAttach), kDetach);
    EXPECT_EQ(d.mac, p.mac);
    EXPECT_TRUE(d.import_rts.empty());
    // The same for ipvpn, with local_pref (the CLI's second request).
    json ip = json::parse(kRestAttach);
    ip["vpn_type"] = "ipvpn";
    ip["local_pref"] = 300;
    EXPECT_EQ(Accept(ip).local_pref, 300u);
}

// ---------------------------------------------------------------------------
// The §2.5 error table, with our messages.

TEST(AttachParams, ReferenceErrorTable) {
    // The §2.5 example: MAC "zz" with empty RT lists.
    EXPECT_EQ(Refuse(json::parse(R"({"vpn_type":"evpn","vpn_instance_id":"x","local_port":"tap1",)"
                                 R"("mac_address":"zz","import_rt":[],"export_rt":[]})")),
              "MAC address zz is not valid");
    EXPECT_EQ(Refuse(Without(Evpn(), "vpn_type")), "missing instance_type");
    EXPECT_EQ(Refuse(Without(Evpn(), "mac_address")), "Missing parameter: 'mac_address'");
    EXPECT_EQ(Refuse(Without(Evpn(), "import_rt")), "Missing parameter: 'import_rt'");
    EXPECT_EQ(Refuse(Without(Ipvpn(), "ip_address")), "Missing parameter: 'ip_address'");
    EXPECT_EQ(Refuse(Without(Ipvpn(), "ip_address"), kDetach), "Missing parameter: 'ip_address'");
    EXPECT_EQ(Refuse(Without(Ipvpn(), "gateway_ip")), "Missing parameter: 'gateway_ip'");
    EXPECT_EQ(Refuse(With(Evpn(), "direction", "sideways")),
              "direction should be one of: both, to-port, from-port");
    EXPECT_EQ(Refuse(With(Evpn(), "advertise_subnet", "false")),
              "'advertise_subnet' must be a boolean");
    // The original answered 500 to a malformed route target.
    EXPECT_EQ(Refuse(With(Evpn(), "import_rt", json::array({"64512"}))),
              "invalid route target '64512' in import_rt");
}

TEST(AttachParams, BodyMustBeAnObject) {
    for (const json& body :
         {json(nullptr), json(1), json("x"), json::array(), json(true), json(1.5)})
        EXPECT_EQ(Refuse(body), "request body must be a JSON object") << body.dump();
    EXPECT_EQ(Refuse(json::object()), "missing instance_type");
}

TEST(AttachParams, MandatoryFieldsInOrder) {
    EXPECT_EQ(Refuse(Without(Evpn(), "vpn_instance_id")), "Missing parameter: 'vpn_instance_id'");
    EXPECT_EQ(Refuse(Without(Evpn(), "local_port")), "Missing parameter: 'local_port'");
    EXPECT_EQ(Refuse(Without(Evpn(), "export_rt")), "Missing parameter: 'export_rt'");
    // Presence is checked before formats, in the original's order.
    EXPECT_EQ(Refuse(json{{"vpn_type", "ipvpn"}}), "Missing parameter: 'vpn_instance_id'");
    EXPECT_EQ(Refuse(json{{"vpn_type", "ipvpn"}, {"vpn_instance_id", "v"}}),
              "Missing parameter: 'mac_address'");
    EXPECT_EQ(Refuse(With(Without(Evpn(), "export_rt"), "mac_address", "zz")),
              "Missing parameter: 'export_rt'");
    // null counts as missing.
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_type", nullptr)), "missing instance_type");
    EXPECT_EQ(Refuse(With(Evpn(), "mac_address", nullptr)), "Missing parameter: 'mac_address'");
    EXPECT_EQ(Refuse(With(Evpn(), "import_rt", nullptr)), "Missing parameter: 'import_rt'");
    EXPECT_EQ(Refuse(With(Ipvpn(), "gateway_ip", nullptr)), "Missing parameter: 'gateway_ip'");
    // evpn: ip_address and gateway_ip are optional.
    AttachParams p = Accept(Evpn());
    EXPECT_TRUE(p.ip.empty());
    EXPECT_EQ(p.ip_prefix_length, 0);
    EXPECT_EQ(p.ip_text, "");
    EXPECT_TRUE(p.gateway_ip.empty());
    EXPECT_TRUE(p.description.is_null());
    // Detach: no route targets nor gateway needed.
    EXPECT_EQ(Refuse(Without(Evpn(), "mac_address"), kDetach), "Missing parameter: 'mac_address'");
    Accept(Without(Without(Evpn(), "import_rt"), "export_rt"), kDetach);
    Accept(Without(Ipvpn(), "gateway_ip"), kDetach);
}

TEST(AttachParams, VpnType) {
    EXPECT_EQ(Accept(Evpn()).vpn_type, VpnType::kEvpn);
    EXPECT_EQ(Accept(Ipvpn()).vpn_type, VpnType::kIpVpn);
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_type", "l2vpn")), "unknown vpn_type: l2vpn");
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_type", "EVPN")), "unknown vpn_type: EVPN");
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_type", "")), "unknown vpn_type: ");
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_type", 1)), "'vpn_type' must be a string");
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_type", json::array({"evpn"}))),
              "'vpn_type' must be a string");
}

TEST(AttachParams, VpnInstanceId) {
    EXPECT_EQ(Accept(With(Evpn(), "vpn_instance_id", "with space/é")).vpn_instance_id,
              "with space/é");
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_instance_id", "")),
              "'vpn_instance_id' must be a non-empty string");
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_instance_id", 7)),
              "'vpn_instance_id' must be a non-empty string");
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_instance_id", json::object())),
              "'vpn_instance_id' must be a non-empty string");
}

TEST(AttachParams, MacAddress) {
    EXPECT_EQ(Accept(With(Evpn(), "mac_address", "52:54:00:AA:BB:0F")).mac,
              Mac("52:54:00:aa:bb:0f"));
    EXPECT_EQ(Accept(With(Evpn(), "mac_address", "52-54-00-aa-bb-01")).mac,
              Mac("52:54:00:aa:bb:01"));
    for (const char* bad : {"", "zz", "52:54:00:aa:bb", "52:54:00:aa:bb:01:02", "52:54:00:aa:bb:0g",
                            "52:54:00:aa:bb:01 ", "52545400aabb"})
        EXPECT_EQ(Refuse(With(Evpn(), "mac_address", bad)),
                  std::string("MAC address ") + bad + " is not valid");
    EXPECT_EQ(Refuse(With(Evpn(), "mac_address", 525400)), "'mac_address' must be a string");
    EXPECT_EQ(Refuse(With(Evpn(), "mac_address", json::array())), "'mac_address' must be a string");
}

// ---------------------------------------------------------------------------
// local_port.

TEST(AttachParams, LocalPortShapes) {
    EXPECT_EQ(Accept(With(Evpn(), "local_port", "tap9")).local_port, LocalPortSpec{"tap9"});
    EXPECT_EQ(Accept(With(Evpn(), "local_port", json{{"linuxif", "tap9"}})).local_port,
              LocalPortSpec{"tap9"});
    // The Neutron OVS agent's pseudo names are fine.
    EXPECT_EQ(Accept(With(Evpn(), "local_port", "patch2tun:12")).local_port.linuxif,
              "patch2tun:12");
    // evpn ovs driver: vlan at the local_port level.
    LocalPortSpec lp =
        Accept(With(Evpn(), "local_port", json{{"linuxif", "tap9"}, {"vlan", 42}})).local_port;
    EXPECT_EQ(lp.vlan, 42);
    // Unknown keys (to_vm_port_number ...) are ignored.
    lp = Accept(With(Evpn(), "local_port", json{{"linuxif", "tap9"}, {"to_vm_port_number", 5}}))
             .local_port;
    EXPECT_EQ(lp, LocalPortSpec{"tap9"});

    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json::object())),
              "Mandatory key is missing in local_port parameter (linuxif, or evpn)");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json{{"ovs", {{"plugged", true}}}})),
              "Mandatory key is missing in local_port parameter (linuxif, or evpn)");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json{{"linuxif", nullptr}})),
              "Mandatory key is missing in local_port parameter (linuxif, or evpn)");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", "")), "'local_port' must not be empty");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", 3)), "'local_port' must be a string or an object");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json::array({"tap1"}))),
              "'local_port' must be a string or an object");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json{{"linuxif", 3}})),
              "'local_port.linuxif' must be a non-empty string");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json{{"linuxif", ""}})),
              "'local_port.linuxif' must be a non-empty string");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json{{"linuxif", "t"}, {"vlan", 4096}})),
              "'local_port.vlan' must be an integer between 0 and 4095");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json{{"linuxif", "t"}, {"vlan", -1}})),
              "'local_port.vlan' must be an integer between 0 and 4095");
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json{{"linuxif", "t"}, {"vlan", 1.5}})),
              "'local_port.vlan' must be an integer between 0 and 4095");
}

TEST(AttachParams, LocalPortOvs) {
    json port{
        {"linuxif", "patch2tun:5"},
        {"ovs", {{"plugged", true}, {"port_number", 12}, {"port_name", "qvo1"}, {"vlan", 100}}}};
    LocalPortSpec lp = Accept(With(Ipvpn(), "local_port", port)).local_port;
    ASSERT_TRUE(lp.ovs.has_value());
    EXPECT_TRUE(lp.ovs->plugged);
    EXPECT_EQ(lp.ovs->port_number, 12u);
    EXPECT_EQ(lp.ovs->port_name, "qvo1");
    EXPECT_EQ(lp.ovs->vlan, 100);

    // port_number and vlan may be numeric strings; everything is optional.
    port["ovs"] = {{"port_number", "12"}, {"vlan", "100"}};
    lp = Accept(With(Ipvpn(), "local_port", port)).local_port;
    EXPECT_EQ(lp.ovs, (dataplane::OvsPortInfo{false, 12, "", 100}));
    port["ovs"] = json::object();
    EXPECT_EQ(Accept(With(Ipvpn(), "local_port", port)).local_port.ovs, dataplane::OvsPortInfo{});
    port["ovs"] = nullptr;
    EXPECT_EQ(Accept(With(Ipvpn(), "local_port", port)).local_port.ovs, std::nullopt);

    auto refuse_ovs = [&](json ovs) {
        json p = port;
        p["ovs"] = std::move(ovs);
        return Refuse(With(Ipvpn(), "local_port", p));
    };
    EXPECT_EQ(refuse_ovs("yes"), "'local_port.ovs' must be an object");
    EXPECT_EQ(refuse_ovs({{"plugged", "true"}}), "'local_port.ovs.plugged' must be a boolean");
    EXPECT_EQ(refuse_ovs({{"plugged", 1}}), "'local_port.ovs.plugged' must be a boolean");
    EXPECT_EQ(refuse_ovs({{"port_number", "twelve"}}),
              "'local_port.ovs.port_number' must be an integer between 0 and 4294967295");
    EXPECT_EQ(refuse_ovs({{"port_number", 4294967296}}),
              "'local_port.ovs.port_number' must be an integer between 0 and 4294967295");
    EXPECT_EQ(refuse_ovs({{"port_number", " 12"}}),
              "'local_port.ovs.port_number' must be an integer between 0 and 4294967295");
    EXPECT_EQ(refuse_ovs({{"port_name", 12}}), "'local_port.ovs.port_name' must be a string");
    EXPECT_EQ(refuse_ovs({{"vlan", "4096"}}),
              "'local_port.ovs.vlan' must be an integer between 0 and 4095");
}

TEST(AttachParams, LocalPortEvpnStitching) {
    json port{{"evpn", {{"id", "evpn-1"}}}};
    LocalPortSpec lp = Accept(With(Ipvpn(), "local_port", port)).local_port;
    EXPECT_EQ(lp.linuxif, "");
    EXPECT_EQ(lp.evpn, (EvpnStitch{"evpn-1", ""}));

    port = {{"evpn", {{"id", "evpn-1"}, {"ovs_port_name", "patch-evpn"}}},
            {"ovs", {{"plugged", true}, {"port_name", "patch-evpn"}}}};
    lp = Accept(With(Ipvpn(), "local_port", port)).local_port;
    EXPECT_EQ(lp.evpn, (EvpnStitch{"evpn-1", "patch-evpn"}));
    ASSERT_TRUE(lp.ovs.has_value());
    EXPECT_TRUE(lp.ovs->plugged);
    EXPECT_EQ(lp.ovs->port_name, "patch-evpn");

    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json{{"evpn", {{"id", "evpn-1"}}}})),
              "local_port.evpn is only allowed with vpn_type ipvpn");
    EXPECT_EQ(
        Refuse(With(Ipvpn(), "local_port", json{{"linuxif", "tap1"}, {"evpn", {{"id", "e"}}}})),
        "local_port cannot have both linuxif and evpn");
    EXPECT_EQ(Refuse(With(Ipvpn(), "local_port", json{{"evpn", "evpn-1"}})),
              "'local_port.evpn' must be an object");
    EXPECT_EQ(Refuse(With(Ipvpn(), "local_port", json{{"evpn", json::object()}})),
              "Missing parameter: 'local_port.evpn.id'");
    EXPECT_EQ(Refuse(With(Ipvpn(), "local_port", json{{"evpn", {{"id", 5}}}})),
              "'local_port.evpn.id' must be a non-empty string");
    EXPECT_EQ(Refuse(With(Ipvpn(), "local_port",
                          json{{"evpn", {{"id", "e"}, {"ovs_port_name", false}}}})),
              "'local_port.evpn.ovs_port_name' must be a string");
    // Detach checks the local_port the same way.
    EXPECT_EQ(Refuse(With(Evpn(), "local_port", json::object()), kDetach),
              "Mandatory key is missing in local_port parameter (linuxif, or evpn)");
}

// ---------------------------------------------------------------------------
// Route targets.

TEST(RouteTarget, TwoOctetAsForm) {
    auto r = ParseRouteTargetParam("64512:512");
    ASSERT_TRUE(std::holds_alternative<ExtCommunity>(r));
    const ExtCommunity& rt = std::get<ExtCommunity>(r);
    EXPECT_EQ(rt, ExtCommunity::RouteTarget(0, 64512, 512));
    EXPECT_TRUE(rt.is_route_target());
    EXPECT_EQ(rt.type(), bgp::ecomm::kTransAs2);
    EXPECT_EQ(RouteTargetString(rt), "64512:512");
    // The number may use the full 32 bits with a 2-octet AS.
    EXPECT_EQ(std::get<ExtCommunity>(ParseRouteTargetParam("65535:4294967295")),
              ExtCommunity::RouteTarget(0, 65535, 4294967295u));
    EXPECT_EQ(std::get<ExtCommunity>(ParseRouteTargetParam("0:0")),
              ExtCommunity::RouteTarget(0, 0, 0));
    EXPECT_EQ(RouteTargetString(ExtCommunity::RouteTarget(0, 65535, 4294967295u)),
              "65535:4294967295");
}

TEST(RouteTarget, Ipv4Form) {
    auto r = ParseRouteTargetParam("192.0.2.1:7");
    ASSERT_TRUE(std::holds_alternative<ExtCommunity>(r));
    const ExtCommunity& rt = std::get<ExtCommunity>(r);
    EXPECT_EQ(rt, ExtCommunity::RouteTarget(1, 0xc0000201, 7));
    EXPECT_EQ(rt.type(), bgp::ecomm::kTransIpv4);
    EXPECT_TRUE(rt.is_route_target());
    EXPECT_EQ(RouteTargetString(rt), "192.0.2.1:7");
    EXPECT_EQ(std::get<ExtCommunity>(ParseRouteTargetParam("10.0.0.1:65535")),
              ExtCommunity::RouteTarget(1, 0x0a000001, 65535));
    EXPECT_EQ(RouteTargetString(ExtCommunity::RouteTarget(1, 0x0a000001, 65535)), "10.0.0.1:65535");
}

TEST(RouteTarget, FourOctetAsForm) {
    auto r = ParseRouteTargetParam("4200000000:7");
    ASSERT_TRUE(std::holds_alternative<ExtCommunity>(r));
    const ExtCommunity& rt = std::get<ExtCommunity>(r);
    EXPECT_EQ(rt, ExtCommunity::RouteTarget(2, 4200000000u, 7));
    EXPECT_EQ(rt.type(), bgp::ecomm::kTransAs4);
    EXPECT_TRUE(rt.is_route_target());
    EXPECT_EQ(RouteTargetString(rt), "4200000000:7");
    EXPECT_EQ(std::get<ExtCommunity>(ParseRouteTargetParam("65536:65535")),
              ExtCommunity::RouteTarget(2, 65536, 65535));
    EXPECT_EQ(std::get<ExtCommunity>(ParseRouteTargetParam("4294967295:1")),
              ExtCommunity::RouteTarget(2, 4294967295u, 1));
}

TEST(RouteTarget, Malformed) {
    for (std::string_view bad : {"",
                                 "64512",
                                 ":1",
                                 "64512:",
                                 "a:b",
                                 "64512:1:2",
                                 "-1:5",
                                 "64512:-5",
                                 "+1:5",
                                 "1:+5",
                                 " 64512:1",
                                 "64512:1 ",
                                 "0x10:1",
                                 "64512:1.5",
                                 "65535:4294967296",  // number beyond 32 bits
                                 "65536:65536",       // 4-octet AS: number beyond 16 bits
                                 "4294967296:1",      // AS beyond 32 bits
                                 "99999999999999999999999:1",
                                 "192.0.2.1:65536",  // IPv4 form: number beyond 16 bits
                                 "192.0.2:1",
                                 "192.0.2.256:1",
                                 "192.0.2.1.1:1",
                                 "::1:5",
                                 "2001:db8::1:5",
                                 "target:64512:1"}) {
        auto r = ParseRouteTargetParam(bad);
        ASSERT_TRUE(std::holds_alternative<ParamError>(r)) << bad;
        EXPECT_EQ(std::get<ParamError>(r).message,
                  "invalid route target '" + std::string(bad) + "'");
    }
    // An embedded NUL must not hide trailing junk (inet_pton reads a C string).
    using namespace std::string_literals;
    EXPECT_TRUE(std::holds_alternative<ParamError>(ParseRouteTargetParam("192.0.2.1\0junk:5"s)));
    EXPECT_TRUE(std::holds_alternative<ParamError>(ParseRouteTargetParam("64512:5\0"s)));
}

TEST(RouteTarget, ListsAndCommaSeparatedStrings) {
    const std::vector<ExtCommunity> two{Rt(64512, 1), Rt(64512, 2)};
    EXPECT_EQ(Rts("64512:1,64512:2"), two);
    EXPECT_EQ(Rts("64512:1, 64512:2"), two);
    EXPECT_EQ(Rts("64512:1,,, 64512:2,"), two);  // empty items ignored
    EXPECT_EQ(Rts(" 64512:1 ,\t64512:2 "), two);
    EXPECT_EQ(Rts(json::array({"64512:1", "64512:2"})), two);
    EXPECT_EQ(Rts(json::array({"64512:1", "", " 64512:2 "})), two);
    // Duplicates removed, first occurrence kept, order kept.
    EXPECT_EQ(Rts("64512:2, 64512:1, 64512:2, 64512:1"), (std::vector{Rt(64512, 2), Rt(64512, 1)}));
    EXPECT_EQ(Rts(json::array({"64512:3", "64512:1", "64512:3"})),
              (std::vector{Rt(64512, 3), Rt(64512, 1)}));
    // The same RT written two ways is one RT.
    EXPECT_EQ(Rts("64512:01, 64512:1"), std::vector{Rt(64512, 1)});
    // Mixed forms.
    EXPECT_EQ(Rts("64512:1, 192.0.2.1:7, 4200000000:7"),
              (std::vector{Rt(64512, 1), ExtCommunity::RouteTarget(1, 0xc0000201, 7),
                           ExtCommunity::RouteTarget(2, 4200000000u, 7)}));
    EXPECT_TRUE(Rts("").empty());
    EXPECT_TRUE(Rts(" , ").empty());
    EXPECT_TRUE(Rts(json::array()).empty());

    EXPECT_EQ(RtsError("64512:1, 64512"), "invalid route target '64512' in import_rt");
    EXPECT_EQ(RtsError(json::array({"64512:1", "nope"}), "export_rt"),
              "invalid route target 'nope' in export_rt");
    // A list item is one RT: commas are not split there.
    EXPECT_EQ(RtsError(json::array({"64512:1,64512:2"})),
              "invalid route target '64512:1,64512:2' in import_rt");
    const std::string type_error =
        "'import_rt' must be a list of route targets or a comma-separated string";
    EXPECT_EQ(RtsError(json(64512)), type_error);
    EXPECT_EQ(RtsError(json(nullptr)), type_error);
    EXPECT_EQ(RtsError(json::object()), type_error);
    EXPECT_EQ(RtsError(json::array({64512})), type_error);
    EXPECT_EQ(RtsError(json::array({json::array({"64512:1"})})), type_error);
}

TEST(AttachParams, RouteTargetFields) {
    AttachParams p = Accept(With(With(Evpn(), "import_rt", "64512:1, 64512:2,64512:1"), "export_rt",
                                 json::array({"4200000000:7", "192.0.2.1:7"})));
    EXPECT_EQ(p.import_rts, (std::vector{Rt(64512, 1), Rt(64512, 2)}));
    EXPECT_EQ(p.export_rts, (std::vector{ExtCommunity::RouteTarget(2, 4200000000u, 7),
                                         ExtCommunity::RouteTarget(1, 0xc0000201, 7)}));
    EXPECT_EQ(Refuse(With(Evpn(), "export_rt", "64512:1,foo")),
              "invalid route target 'foo' in export_rt");
    EXPECT_EQ(Refuse(With(Evpn(), "import_rt", 5)),
              "'import_rt' must be a list of route targets or a comma-separated string");
    // Detach ignores route targets, even malformed ones.
    AttachParams d = Accept(With(With(Evpn(), "import_rt", "garbage"), "export_rt", 5), kDetach);
    EXPECT_TRUE(d.import_rts.empty());
    EXPECT_TRUE(d.export_rts.empty());
}

// ---------------------------------------------------------------------------
// Addresses.

TEST(AttachParams, IpAddressForms) {
    AttachParams p = Accept(With(Evpn(), "ip_address", "10.0.0.1"));
    EXPECT_EQ(p.ip, Ip("10.0.0.1"));
    EXPECT_EQ(p.ip_prefix_length, 32);  // no "/len": a host
    EXPECT_EQ(p.ip_text, "10.0.0.1");
    p = Accept(With(Ipvpn(), "ip_address", "10.0.0.129/25"));
    EXPECT_EQ(p.ip, Ip("10.0.0.129"));  // host bits kept
    EXPECT_EQ(p.ip_prefix_length, 25);
    EXPECT_EQ(p.ip_text, "10.0.0.129/25");
    p = Accept(With(Ipvpn(), "ip_address", "10.0.0.0/0"));
    EXPECT_EQ(p.ip_prefix_length, 0);
    p = Accept(With(Ipvpn(), "ip_address", "10.0.0.1/32"));
    EXPECT_EQ(p.ip_prefix_length, 32);
    // The original advertised static prefixes this way: the network address.
    p = Accept(With(With(Ipvpn(), "ip_address", "192.168.0.0/16"), "advertise_subnet", true));
    EXPECT_EQ(p.ip, Ip("192.168.0.0"));
    EXPECT_EQ(p.ip_prefix_length, 16);
    EXPECT_TRUE(p.advertise_subnet);
}

TEST(AttachParams, IpAddressIpv6) {
    json b = With(With(Ipvpn(), "ip_address", "2001:db8::1/64"), "gateway_ip", "2001:db8::ffff");
    AttachParams p = Accept(b);
    EXPECT_EQ(p.ip, Ip("2001:db8::1"));
    EXPECT_TRUE(p.ip.is_v6());
    EXPECT_EQ(p.ip_prefix_length, 64);
    EXPECT_EQ(p.ip_text, "2001:db8::1/64");
    EXPECT_EQ(p.gateway_ip, Ip("2001:db8::ffff"));
    p = Accept(With(Evpn(), "ip_address", "fe80::1"));
    EXPECT_EQ(p.ip_prefix_length, 128);
    p = Accept(With(Evpn(), "ip_address", "2001:db8::/128"));
    EXPECT_EQ(p.ip_prefix_length, 128);
    p = Accept(With(Evpn(), "ip_address", "::ffff:10.0.0.1/120"));
    EXPECT_TRUE(p.ip.is_v6());
    EXPECT_EQ(p.ip_prefix_length, 120);
    EXPECT_EQ(Refuse(With(Evpn(), "ip_address", "2001:db8::1/129")),
              "IP address 2001:db8::1/129 is not valid");
    EXPECT_EQ(Refuse(With(Evpn(), "ip_address", "2001:db8:::1")),
              "IP address 2001:db8:::1 is not valid");
    EXPECT_EQ(Refuse(With(Evpn(), "ip_address", "fe80::1%eth0")),
              "IP address fe80::1%eth0 is not valid");
}

TEST(AttachParams, IpAddressInvalid) {
    for (const char* bad :
         {"1.2.3",  // netaddr's leniency is not kept
          "10.0.0.1/33", "10.0.0.1/", "/24", "10.0.0.1/24/1", "10.0.0.1/-1", "10.0.0.1/+8",
          "10.0.0.1/ 8", " 10.0.0.1", "10.0.0.1 ", "10.0.0.256", "01.2.3.4", "10.0.0.1/2x", "host",
          "10.0.0.1/99999999999999999999999"}) {
        EXPECT_EQ(Refuse(With(Ipvpn(), "ip_address", bad)),
                  std::string("IP address ") + bad + " is not valid");
        EXPECT_EQ(Refuse(With(Ipvpn(), "ip_address", bad), kDetach),
                  std::string("IP address ") + bad + " is not valid");
    }
    using namespace std::string_literals;
    EXPECT_NE(Refuse(With(Evpn(), "ip_address", "10.0.0.1\0/junk"s)), "<accepted>");
    EXPECT_EQ(Refuse(With(Evpn(), "ip_address", "")), "'ip_address' must not be empty");
    EXPECT_EQ(Refuse(With(Evpn(), "ip_address", 167772161)), "'ip_address' must be a string");
    EXPECT_EQ(Refuse(With(Evpn(), "ip_address", json::array({"10.0.0.1"}))),
              "'ip_address' must be a string");
    // null is absent: fine for evpn, missing for ipvpn.
    EXPECT_TRUE(Accept(With(Evpn(), "ip_address", nullptr)).ip.empty());
    EXPECT_EQ(Refuse(With(Ipvpn(), "ip_address", nullptr)), "Missing parameter: 'ip_address'");
}

TEST(AttachParams, GatewayIp) {
    EXPECT_EQ(Accept(With(Evpn(), "gateway_ip", "10.0.0.254")).gateway_ip, Ip("10.0.0.254"));
    EXPECT_TRUE(Accept(With(Evpn(), "gateway_ip", nullptr)).gateway_ip.empty());
    EXPECT_EQ(Refuse(With(Ipvpn(), "gateway_ip", "")), "'gateway_ip' must not be empty");
    for (const char* bad : {"10.0.0", "10.0.0.254/24", "gw", "10.0.0.254 "})
        EXPECT_EQ(Refuse(With(Ipvpn(), "gateway_ip", bad)),
                  std::string("IP address ") + bad + " in gateway_ip is not valid");
    EXPECT_EQ(Refuse(With(Ipvpn(), "gateway_ip", 1)), "'gateway_ip' must be a string");
    // Optional for detach, but checked when given.
    EXPECT_EQ(Accept(Ipvpn(), kDetach).gateway_ip, Ip("10.0.0.254"));
    EXPECT_EQ(Refuse(With(Ipvpn(), "gateway_ip", "x"), kDetach),
              "IP address x in gateway_ip is not valid");
}

// ---------------------------------------------------------------------------
// Scalars.

TEST(AttachParams, AdvertiseSubnet) {
    EXPECT_FALSE(Accept(Ipvpn()).advertise_subnet);
    EXPECT_TRUE(Accept(With(Ipvpn(), "advertise_subnet", true)).advertise_subnet);
    EXPECT_FALSE(Accept(With(Ipvpn(), "advertise_subnet", false)).advertise_subnet);
    EXPECT_FALSE(Accept(With(Ipvpn(), "advertise_subnet", nullptr)).advertise_subnet);
    for (const json& bad : {json(1), json(0), json("true"), json::array(), json::object()})
        EXPECT_EQ(Refuse(With(Ipvpn(), "advertise_subnet", bad)),
                  "'advertise_subnet' must be a boolean");
}

TEST(AttachParams, IntegerFields) {
    AttachParams p = Accept(
        With(With(With(Ipvpn(), "lb_consistent_hash_order", 7), "local_pref", 0), "vni", 16777215));
    EXPECT_EQ(p.lb_consistent_hash_order, 7u);
    EXPECT_EQ(p.local_pref, 0u);
    EXPECT_EQ(p.vni, 16777215u);
    // Numeric strings are accepted too.
    p = Accept(
        With(With(With(Ipvpn(), "lb_consistent_hash_order", "3"), "local_pref", "4294967295"),
             "vni", "5000"));
    EXPECT_EQ(p.lb_consistent_hash_order, 3u);
    EXPECT_EQ(p.local_pref, 4294967295u);
    EXPECT_EQ(p.vni, 5000u);
    // null is absent.
    p = Accept(With(With(With(Ipvpn(), "lb_consistent_hash_order", nullptr), "local_pref", nullptr),
                    "vni", nullptr));
    EXPECT_EQ(p.lb_consistent_hash_order, 0u);
    EXPECT_EQ(p.local_pref, std::nullopt);
    EXPECT_EQ(p.vni, 0u);

    const std::string lb = "'lb_consistent_hash_order' must be an integer between 0 and 4294967295";
    const std::string lp = "'local_pref' must be an integer between 0 and 4294967295";
    const std::string vni = "'vni' must be an integer between 0 and 16777215";
    for (const json& bad :
         {json(-1), json(4294967296), json(1.5), json(true), json("1e3"), json("-1"), json(""),
          json(" 1"), json::array({1}), json(std::numeric_limits<int64_t>::min())}) {
        EXPECT_EQ(Refuse(With(Ipvpn(), "lb_consistent_hash_order", bad)), lb) << bad.dump();
        EXPECT_EQ(Refuse(With(Ipvpn(), "local_pref", bad)), lp) << bad.dump();
        EXPECT_EQ(Refuse(With(Ipvpn(), "vni", bad)), vni) << bad.dump();
    }
    EXPECT_EQ(Refuse(With(Ipvpn(), "vni", 16777216)), vni);
    EXPECT_EQ(Refuse(With(Ipvpn(), "vni", json(std::numeric_limits<uint64_t>::max()))), vni);
}

TEST(AttachParams, Direction) {
    EXPECT_EQ(Accept(With(Evpn(), "direction", "both")).direction, Direction::kBoth);
    EXPECT_EQ(Accept(With(Evpn(), "direction", "to-port")).direction, Direction::kToPort);
    EXPECT_EQ(Accept(With(Evpn(), "direction", "from-port")).direction, Direction::kFromPort);
    EXPECT_EQ(Accept(With(Evpn(), "direction", "")).direction, Direction::kBoth);
    EXPECT_EQ(Accept(With(Evpn(), "direction", nullptr)).direction, Direction::kBoth);
    EXPECT_EQ(Accept(Evpn()).direction, Direction::kBoth);
    EXPECT_EQ(Accept(With(Evpn(), "direction", "to-port"), kDetach).direction, Direction::kToPort);
    for (const json& bad : {json("to_port"), json("BOTH"), json(1), json::array({"both"})})
        EXPECT_EQ(Refuse(With(Evpn(), "direction", bad)),
                  "direction should be one of: both, to-port, from-port");
}

TEST(AttachParams, StringsAndDescription) {
    AttachParams p = Accept(With(With(Evpn(), "linuxbr", "br-ext"), "instance_description", ""));
    EXPECT_EQ(p.linuxbr, "br-ext");
    EXPECT_EQ(p.instance_description, "");
    p = Accept(With(With(Evpn(), "linuxbr", nullptr), "instance_description", nullptr));
    EXPECT_EQ(p.linuxbr, "");
    EXPECT_EQ(p.instance_description, std::nullopt);
    EXPECT_EQ(Refuse(With(Evpn(), "linuxbr", 1)), "'linuxbr' must be a string");
    EXPECT_EQ(Refuse(With(Evpn(), "instance_description", json::object())),
              "'instance_description' must be a string");
    // description: any JSON, kept as is.
    const json neutron{{"port", "0b7e2e24-4c6f-4a8c-a6ae-2b2f7a0b0d59"}};
    EXPECT_EQ(Accept(With(Evpn(), "description", neutron)).description, neutron);
    EXPECT_EQ(Accept(With(Evpn(), "description", 5)).description, json(5));
    EXPECT_EQ(Accept(With(Evpn(), "description", json::array({1, "a"}))).description,
              json::array({1, "a"}));
    EXPECT_TRUE(Accept(With(Evpn(), "description", nullptr)).description.is_null());
}

TEST(AttachParams, UnknownFieldsIgnored) {
    json b = Ipvpn();
    b["static_routes"] = "10.1.0.0/16";
    b["lb_something"] = {{"x", 1}};
    b["mac"] = 5;
    AttachParams p = Accept(b);
    EXPECT_EQ(p, Accept(Ipvpn()));
}

// ---------------------------------------------------------------------------
// readvertise, attract_traffic, fallback.

TEST(AttachParams, Readvertise) {
    AttachParams p =
        Accept(With(Ipvpn(), "readvertise",
                    json{{"from_rt", {"64512:10", "64512:11"}}, {"to_rt", "64512:20"}}));
    ASSERT_TRUE(p.readvertise.has_value());
    EXPECT_EQ(p.readvertise->from_rts, (std::vector{Rt(64512, 10), Rt(64512, 11)}));
    EXPECT_EQ(p.readvertise->to_rts, std::vector{Rt(64512, 20)});
    p = Accept(
        With(Ipvpn(), "readvertise", json{{"from_rt", json::array()}, {"to_rt", json::array()}}));
    ASSERT_TRUE(p.readvertise.has_value());
    EXPECT_TRUE(p.readvertise->from_rts.empty());
    EXPECT_EQ(Accept(With(Ipvpn(), "readvertise", nullptr)).readvertise, std::nullopt);

    // The original gave a 500 for these.
    EXPECT_EQ(Refuse(With(Ipvpn(), "readvertise", json{{"from_rt", {"64512:10"}}})),
              "Missing parameter: 'readvertise.to_rt'");
    EXPECT_EQ(Refuse(With(Ipvpn(), "readvertise", json{{"to_rt", {"64512:10"}}})),
              "Missing parameter: 'readvertise.from_rt'");
    EXPECT_EQ(Refuse(With(Ipvpn(), "readvertise", json::object())),
              "Missing parameter: 'readvertise.from_rt'");
    EXPECT_EQ(Refuse(With(Ipvpn(), "readvertise", "64512:10")),
              "'readvertise' must be an object with from_rt and to_rt");
    EXPECT_EQ(Refuse(With(Ipvpn(), "readvertise", json::array())),
              "'readvertise' must be an object with from_rt and to_rt");
    EXPECT_EQ(Refuse(With(Ipvpn(), "readvertise", json{{"from_rt", 1}, {"to_rt", "64512:1"}})),
              "'readvertise.from_rt' must be a list of route targets or a comma-separated string");
    EXPECT_EQ(Refuse(With(Ipvpn(), "readvertise", json{{"from_rt", "64512:1"}, {"to_rt", "x:1"}})),
              "invalid route target 'x:1' in readvertise.to_rt");
}

json Classifier() {
    return {{"sourcePrefix", "10.0.0.0/24"},
            {"destinationPrefix", "192.168.1.1"},
            {"sourcePort", "1000:2000"},
            {"destinationPort", 80},
            {"protocol", "tcp"}};
}

TEST(AttachParams, AttractTrafficFull) {
    json at{{"redirect_rts", {"64512:100"}},
            {"classifier", Classifier()},
            {"to_rt", {"64512:200"}},
            {"static_destination_prefixes", {"0.0.0.0/0", "172.16.0.0/12", "10.9.9.9"}}};
    AttachParams p = Accept(With(Ipvpn(), "attract_traffic", at));
    ASSERT_TRUE(p.attract_traffic.has_value());
    const AttractTraffic& a = *p.attract_traffic;
    EXPECT_EQ(a.redirect_rts, std::vector{Rt(64512, 100)});
    EXPECT_EQ(a.to_rts, std::vector{Rt(64512, 200)});
    EXPECT_EQ(a.classifier.source_prefix, Pfx("10.0.0.0/24"));
    EXPECT_EQ(a.classifier.destination_prefix, Pfx("192.168.1.1/32"));  // bare address: a host
    EXPECT_EQ(a.classifier.source_port, (dataplane::PortRange{1000, 2000}));
    EXPECT_EQ(a.classifier.destination_port, (dataplane::PortRange{80, 80}));
    EXPECT_EQ(a.classifier.protocol, 6);
    EXPECT_EQ(a.static_destination_prefixes,
              (std::vector{Pfx("0.0.0.0/0"), Pfx("172.16.0.0/12"), Pfx("10.9.9.9/32")}));
    EXPECT_EQ(p.readvertise, std::nullopt);  // to_rt given: readvertise not needed
}

TEST(AttachParams, AttractTrafficToRtSources) {
    // `to` (bagpipe-rest-attach's key) is an alias of to_rt.
    json at{{"redirect_rts", "64512:100"}, {"classifier", json::object()}, {"to", "64512:201"}};
    AttachParams p = Accept(With(Ipvpn(), "attract_traffic", at));
    ASSERT_TRUE(p.attract_traffic.has_value());
    EXPECT_EQ(p.attract_traffic->to_rts, std::vector{Rt(64512, 201)});
    EXPECT_EQ(p.attract_traffic->classifier, dataplane::TrafficClassifier{});
    // to_rt wins over `to`.
    at["to_rt"] = "64512:202";
    EXPECT_EQ(Accept(With(Ipvpn(), "attract_traffic", at)).attract_traffic->to_rts,
              std::vector{Rt(64512, 202)});
    // Without either, readvertise's to_rt.
    at.erase("to");
    at.erase("to_rt");
    json b = With(With(Ipvpn(), "attract_traffic", at), "readvertise",
                  json{{"from_rt", "64512:10"}, {"to_rt", "64512:203"}});
    p = Accept(b);
    ASSERT_TRUE(p.attract_traffic.has_value());
    EXPECT_EQ(p.attract_traffic->to_rts, std::vector{Rt(64512, 203)});
    EXPECT_EQ(p.attract_traffic->redirect_rts, std::vector{Rt(64512, 100)});
    // redirect_rts is optional.
    at.erase("redirect_rts");
    EXPECT_TRUE(Accept(With(b, "attract_traffic", at)).attract_traffic->redirect_rts.empty());

    EXPECT_EQ(Refuse(With(Ipvpn(), "attract_traffic", at)),
              "attract_traffic requires readvertise or attract_traffic.to_rt");
    EXPECT_EQ(
        Refuse(With(b, "readvertise", json{{"from_rt", "64512:10"}, {"to_rt", "64512:1,64512:2"}})),
        "attract_traffic requires exactly one route target in readvertise.to_rt (2 given)");
    at["to_rt"] = json::array();
    EXPECT_EQ(
        Refuse(With(Ipvpn(), "attract_traffic", at)),
        "attract_traffic requires exactly one route target in attract_traffic.to_rt (0 given)");
    at["to_rt"] = "64512:1, 64512:2";
    EXPECT_EQ(
        Refuse(With(Ipvpn(), "attract_traffic", at)),
        "attract_traffic requires exactly one route target in attract_traffic.to_rt (2 given)");
    at["to_rt"] = "64512:1, 64512:1";  // one after removing duplicates
    EXPECT_EQ(Accept(With(Ipvpn(), "attract_traffic", at)).attract_traffic->to_rts,
              std::vector{Rt(64512, 1)});
    at.erase("to_rt");
    at["to"] = "nope";
    EXPECT_EQ(Refuse(With(Ipvpn(), "attract_traffic", at)),
              "invalid route target 'nope' in attract_traffic.to");
}

TEST(AttachParams, AttractTrafficErrors) {
    auto refuse = [](json at) { return Refuse(With(Ipvpn(), "attract_traffic", std::move(at))); };
    const json base{
        {"redirect_rts", "64512:100"}, {"classifier", Classifier()}, {"to_rt", "64512:200"}};
    EXPECT_EQ(refuse("yes"), "'attract_traffic' must be an object");
    EXPECT_EQ(refuse(json::array()), "'attract_traffic' must be an object");
    EXPECT_EQ(refuse(Without(base, "classifier")),
              "Missing parameter: 'attract_traffic.classifier'");
    EXPECT_EQ(refuse(With(base, "classifier", nullptr)),
              "Missing parameter: 'attract_traffic.classifier'");
    EXPECT_EQ(refuse(With(base, "classifier", "tcp")),
              "'attract_traffic.classifier' must be an object");
    EXPECT_EQ(refuse(With(base, "redirect_rts", "64512")),
              "invalid route target '64512' in attract_traffic.redirect_rts");
    EXPECT_EQ(refuse(With(base, "redirect_rts", 1)),
              "'attract_traffic.redirect_rts' must be a list of route targets or a comma-separated "
              "string");
    auto classifier = [&](const std::string& key, json value) {
        json at = base;
        at["classifier"][key] = std::move(value);
        return refuse(at);
    };
    for (const json& bad : {json("10.0.0.0/33"), json("10.0.0"), json(10), json("")})
        EXPECT_EQ(classifier("sourcePrefix", bad),
                  "'attract_traffic.classifier.sourcePrefix' must be an IP prefix (a.b.c.d/len or "
                  "an IPv6 prefix)");
    EXPECT_EQ(classifier("destinationPrefix", "x"),
              "'attract_traffic.classifier.destinationPrefix' must be an IP prefix (a.b.c.d/len or "
              "an IPv6 prefix)");
    for (const json& bad : {json("2000:1000"), json("65536"), json(-1), json(70000), json("1:"),
                            json(":2"), json("a"), json("1-2"), json(1.0), json(true)})
        EXPECT_EQ(classifier("sourcePort", bad),
                  "'attract_traffic.classifier.sourcePort' must be a port (0-65535) or a port "
                  "range \"min:max\"")
            << bad.dump();
    EXPECT_EQ(classifier("destinationPort", "x"),
              "'attract_traffic.classifier.destinationPort' must be a port (0-65535) or a port "
              "range \"min:max\"");
    for (const json& bad : {json("tcpp"), json(256), json(-1), json(true), json("")})
        EXPECT_EQ(classifier("protocol", bad),
                  "'attract_traffic.classifier.protocol' must be a protocol name (tcp, udp, icmp, "
                  "...) or "
                  "number (0-255)")
            << bad.dump();
    const std::string statics =
        "'attract_traffic.static_destination_prefixes' must be a list of prefixes";
    EXPECT_EQ(refuse(With(base, "static_destination_prefixes", "10.0.0.0/8")), statics);
    EXPECT_EQ(refuse(With(base, "static_destination_prefixes", json::array({8}))), statics);
    EXPECT_EQ(
        refuse(With(base, "static_destination_prefixes", json::array({"10.0.0.0/8", "10/8"}))),
        "invalid prefix '10/8' in attract_traffic.static_destination_prefixes");
}

TEST(AttachParams, AttractTrafficClassifierFields) {
    auto parse = [](json classifier) {
        json at{{"classifier", std::move(classifier)}, {"to_rt", "64512:1"}};
        AttachParams p = Accept(With(Ipvpn(), "attract_traffic", at));
        return p.attract_traffic ? p.attract_traffic->classifier : dataplane::TrafficClassifier{};
    };
    EXPECT_EQ(parse({{"protocol", "udp"}}).protocol, 17);
    EXPECT_EQ(parse({{"protocol", "ICMP"}}).protocol, 1);
    EXPECT_EQ(parse({{"protocol", "sctp"}}).protocol, 132);
    EXPECT_EQ(parse({{"protocol", 47}}).protocol, 47);
    EXPECT_EQ(parse({{"protocol", "50"}}).protocol, 50);
    EXPECT_EQ(parse({{"protocol", nullptr}}).protocol, std::nullopt);
    EXPECT_EQ(parse({{"sourcePort", "443"}}).source_port, (dataplane::PortRange{443, 443}));
    EXPECT_EQ(parse({{"sourcePort", "0:65535"}}).source_port, (dataplane::PortRange{0, 65535}));
    EXPECT_EQ(parse({{"destinationPort", "22:22"}}).destination_port,
              (dataplane::PortRange{22, 22}));
    // Prefixes: host bits cleared, IPv6, bare IPv6 address.
    EXPECT_EQ(parse({{"sourcePrefix", "10.1.2.3/8"}}).source_prefix, Pfx("10.0.0.0/8"));
    EXPECT_EQ(parse({{"destinationPrefix", "2001:db8::/32"}}).destination_prefix,
              Pfx("2001:db8::/32"));
    EXPECT_EQ(parse({{"destinationPrefix", "2001:db8::1"}}).destination_prefix,
              Pfx("2001:db8::1/128"));
    // Unknown keys are ignored, like elsewhere.
    EXPECT_EQ(parse({{"dscp", 5}}), dataplane::TrafficClassifier{});
}

TEST(AttachParams, Fallback) {
    json fb{
        {"src_mac", "00:00:5e:00:01:01"}, {"dst_mac", "FA:16:3E:00:00:01"}, {"ovs_port_number", 7}};
    AttachParams p = Accept(With(Ipvpn(), "fallback", fb));
    ASSERT_TRUE(p.fallback.has_value());
    EXPECT_EQ(p.fallback->src_mac, Mac("00:00:5e:00:01:01"));
    EXPECT_EQ(p.fallback->dst_mac, Mac("fa:16:3e:00:00:01"));
    EXPECT_EQ(p.fallback->ovs_port_number, 7u);
    EXPECT_EQ(Accept(With(Ipvpn(), "fallback", With(fb, "ovs_port_number", "8")))
                  .fallback->ovs_port_number,
              8u);
    EXPECT_EQ(Accept(With(Ipvpn(), "fallback", nullptr)).fallback, std::nullopt);
    EXPECT_EQ(Accept(With(Ipvpn(), "fallback", json::object())).fallback, std::nullopt);

    auto refuse = [](json f) { return Refuse(With(Ipvpn(), "fallback", std::move(f))); };
    EXPECT_EQ(refuse("00:00:5e:00:01:01"),
              "'fallback' must be an object with src_mac, dst_mac and ovs_port_number");
    EXPECT_EQ(refuse(Without(fb, "src_mac")), "Missing parameter: 'fallback.src_mac'");
    EXPECT_EQ(refuse(Without(fb, "dst_mac")), "Missing parameter: 'fallback.dst_mac'");
    EXPECT_EQ(refuse(Without(fb, "ovs_port_number")),
              "Missing parameter: 'fallback.ovs_port_number'");
    EXPECT_EQ(refuse(With(fb, "src_mac", "zz")), "MAC address zz in fallback.src_mac is not valid");
    EXPECT_EQ(refuse(With(fb, "dst_mac", 1)), "'fallback.dst_mac' must be a string");
    EXPECT_EQ(refuse(With(fb, "ovs_port_number", -1)),
              "'fallback.ovs_port_number' must be an integer between 0 and 4294967295");
}

TEST(AttachParams, DetachValidatesTheRest) {
    // Everything but the route targets (and the gateway requirement) is
    // checked on detach too.
    EXPECT_EQ(Refuse(With(Evpn(), "mac_address", "zz"), kDetach), "MAC address zz is not valid");
    EXPECT_EQ(Refuse(With(Evpn(), "direction", "x"), kDetach),
              "direction should be one of: both, to-port, from-port");
    EXPECT_EQ(Refuse(With(Evpn(), "advertise_subnet", 1), kDetach),
              "'advertise_subnet' must be a boolean");
    EXPECT_EQ(Refuse(With(Evpn(), "readvertise", 1), kDetach),
              "'readvertise' must be an object with from_rt and to_rt");
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_type", "x"), kDetach), "unknown vpn_type: x");
}

// ---------------------------------------------------------------------------
// Robustness.

TEST(AttachParams, LongValuesAreTruncatedOnCharacterBoundaries) {
    // 2-byte characters: the cut must not split one (the message is sent as JSON).
    std::string mac;
    for (int i = 0; i < 100; ++i) mac += "é";
    std::string message = Refuse(With(Evpn(), "mac_address", mac));
    EXPECT_LT(message.size(), 120u);
    EXPECT_EQ(message.rfind("MAC address éé", 0), 0u) << message;
    EXPECT_NE(message.find("... is not valid"), std::string::npos) << message;
    EXPECT_NO_THROW(json(message).dump());
    for (size_t offset = 0; offset < 4; ++offset) {  // every alignment of a 4-byte character
        std::string rt(offset, 'x');
        for (int i = 0; i < 40; ++i) rt += "\xF0\x9F\x98\x80";
        EXPECT_NO_THROW(json(RtsError(rt)).dump()) << offset;
    }
    // Short values are quoted whole.
    EXPECT_EQ(Refuse(With(Evpn(), "vpn_type", std::string(64, 'a'))),
              "unknown vpn_type: " + std::string(64, 'a'));
}

// One random JSON value: scalars of every type, and nested arrays / objects
// whose keys are often the request's field names.
json RandomJson(int depth) {
    static const std::vector<std::string> kKeys{"vpn_type",
                                                "vpn_instance_id",
                                                "mac_address",
                                                "local_port",
                                                "import_rt",
                                                "export_rt",
                                                "ip_address",
                                                "gateway_ip",
                                                "advertise_subnet",
                                                "lb_consistent_hash_order",
                                                "local_pref",
                                                "vni",
                                                "direction",
                                                "linuxbr",
                                                "instance_description",
                                                "description",
                                                "readvertise",
                                                "attract_traffic",
                                                "fallback",
                                                "linuxif",
                                                "evpn",
                                                "ovs",
                                                "vlan",
                                                "id",
                                                "ovs_port_name",
                                                "plugged",
                                                "port_number",
                                                "port_name",
                                                "from_rt",
                                                "to_rt",
                                                "to",
                                                "redirect_rts",
                                                "classifier",
                                                "static_destination_prefixes",
                                                "sourcePrefix",
                                                "destinationPrefix",
                                                "sourcePort",
                                                "destinationPort",
                                                "protocol",
                                                "src_mac",
                                                "dst_mac",
                                                "ovs_port_number",
                                                "x"};
    static const std::vector<std::string> kStrings{"",
                                                   "ipvpn",
                                                   "evpn",
                                                   "52:54:00:aa:bb:01",
                                                   "zz",
                                                   "tap1",
                                                   "10.0.0.1/24",
                                                   "10.0.0.1",
                                                   "2001:db8::1/64",
                                                   "1.2.3",
                                                   "64512:1",
                                                   "64512:1, 64512:2",
                                                   "192.0.2.1:7",
                                                   "4200000000:7",
                                                   "64512",
                                                   "both",
                                                   "to-port",
                                                   "tcp",
                                                   "80",
                                                   "1000:2000",
                                                   "10.0.0.0/8",
                                                   "4096",
                                                   "-1",
                                                   "99999999999999999999",
                                                   "true",
                                                   "\xC3\xA9"};
    const int kind = *rc::gen::inRange(0, depth > 0 ? 9 : 7);
    switch (kind) {
        case 0:
            return nullptr;
        case 1:
            return *rc::gen::arbitrary<bool>();
        case 2:
            return *rc::gen::arbitrary<int64_t>();
        case 3:
            return *rc::gen::arbitrary<uint64_t>();
        case 4:
            return *rc::gen::inRange(-3, 70000);
        case 5:
            return *rc::gen::elementOf(kStrings);
        case 6: {
            double d = *rc::gen::arbitrary<double>();
            return std::isfinite(d) ? json(d) : json(0.5);
        }
        case 7: {
            json a = json::array();
            const int n = *rc::gen::inRange(0, 4);
            for (int i = 0; i < n; ++i) a.push_back(RandomJson(depth - 1));
            return a;
        }
        default: {
            json o = json::object();
            const int n = *rc::gen::inRange(0, 6);
            for (int i = 0; i < n; ++i) o[*rc::gen::elementOf(kKeys)] = RandomJson(depth - 1);
            return o;
        }
    }
}

void CheckResult(const ParseResult& r) {
    if (const auto* e = std::get_if<ParamError>(&r)) {
        RC_ASSERT(!e->message.empty());
        // The parser's own checks must catch every bad value: this prefix
        // marks an exception caught by ParseAttachParams' safety net.
        RC_ASSERT(e->message.rfind("invalid request:", 0) == std::string::npos);
        (void)json(e->message).dump();  // valid UTF-8 (throws otherwise)
        return;
    }
    const AttachParams& p = std::get<AttachParams>(r);
    RC_ASSERT(!p.vpn_instance_id.empty());
    RC_ASSERT(!p.local_port.linuxif.empty() || p.local_port.evpn.has_value());
    RC_ASSERT(p.vni <= 0xffffffu);
    if (!p.ip.empty()) RC_ASSERT(p.ip_prefix_length <= (p.ip.is_v4() ? 32 : 128));
    if (p.attract_traffic) RC_ASSERT(p.attract_traffic->to_rts.size() == 1u);
}

RC_GTEST_PROP(AttachParamsProperty, RandomJsonNeverThrows, ()) {
    const json body = RandomJson(*rc::gen::inRange(0, 4));
    const RequestKind kind = *rc::gen::arbitrary<bool>() ? kAttach : kDetach;
    ParseResult r = ParseAttachParams(body, kind);
    CheckResult(r);
    // The public list helper too.
    auto rts = ParseRouteTargetList(body, "import_rt");
    if (const auto* e = std::get_if<ParamError>(&rts)) RC_ASSERT(!e->message.empty());
}

RC_GTEST_PROP(AttachParamsProperty, MutatedValidBodiesNeverThrow, ()) {
    // Start from a complete valid request and replace a few fields, top
    // level or nested, by random values: reaches every field's checks.
    json body = *rc::gen::arbitrary<bool>() ? Ipvpn() : Evpn();
    body["local_port"] = {
        {"linuxif", "tap1"}, {"ovs", {{"plugged", true}, {"port_number", 3}}}, {"vlan", 5}};
    body["readvertise"] = {{"from_rt", "64512:10"}, {"to_rt", "64512:20"}};
    body["attract_traffic"] = {{"redirect_rts", "64512:30"},
                               {"classifier", Classifier()},
                               {"static_destination_prefixes", {"10.0.0.0/8"}}};
    body["fallback"] = {
        {"src_mac", "00:00:5e:00:01:01"}, {"dst_mac", "00:00:5e:00:01:02"}, {"ovs_port_number", 1}};
    RC_ASSERT(std::holds_alternative<AttachParams>(ParseAttachParams(body, kAttach)));
    const int n = *rc::gen::inRange(1, 4);
    for (int i = 0; i < n; ++i) {
        std::vector<json::json_pointer> paths;
        const json flat = body.flatten();
        for (auto it = flat.begin(); it != flat.end(); ++it) {
            json::json_pointer ptr(it.key());
            for (; !ptr.empty(); ptr = ptr.parent_pointer()) paths.push_back(ptr);
        }
        RC_PRE(!paths.empty());
        body[*rc::gen::elementOf(paths)] = RandomJson(2);
    }
    const ParseResult attach = ParseAttachParams(body, kAttach);
    RC_TAG(std::holds_alternative<AttachParams>(attach) ? "accepted" : "refused");
    CheckResult(attach);
    CheckResult(ParseAttachParams(body, kDetach));
}

}  // namespace
}  // namespace bagpipe::vpn
