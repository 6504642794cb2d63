// The bgp.conf loader: the reference configuration of the original
// bagpipe-bgp, defaults, every validation error, warnings, per-peer
// overrides, INI syntax details (long lines, continuations, quotes), legacy
// names and aliases, interface names, and the JSON rendering.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/config_json.h"
#include "config/config_loader.h"
#include "config/ini_file.h"

namespace bagpipe::config {
namespace {

using bgp::Family;
using bgp::IpAddress;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

IpAddress Ip(std::string_view text) { return *IpAddress::Parse(text); }

// eth0 has 192.0.2.10, noip0 exists without IPv4, nothing else exists.
InterfaceLookup FakeInterfaces(std::string_view name) {
    if (name == "eth0") return {true, Ip("192.0.2.10")};
    if (name == "noip0") return {true, std::nullopt};
    return {};
}

LoadResult Load(std::string_view text) {
    LoadOptions opts;
    opts.resolve_interface = FakeInterfaces;
    return LoadConfigString(text, "bgp.conf", opts);
}

constexpr std::string_view kMinimal =
    "[BGP]\n"
    "local_address = 192.0.2.1\n"
    "my_as = 64512\n";

// kMinimal plus `extra` lines in [BGP], then `rest` (other sections).
std::string WithBgp(std::string_view extra, std::string_view rest = "") {
    return std::string(kMinimal) + std::string(extra) + "\n" + std::string(rest);
}

std::string Errors(const LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e + "\n";
    return out;
}

bgp::FamilySet Families(std::initializer_list<Family> fs) {
    bgp::FamilySet s;
    for (Family f : fs) s.set(bgp::FamilyIndex(f));
    return s;
}

// ---------------------------------------------------------------------------

TEST(ConfigLoader, ReferenceBgpConfLoads) {
    LoadResult r = LoadConfigFile(std::string(BAGPIPE_SOURCE_DIR) +
                                  "/tests/data/config/bagpipe-ref-bgp.conf");
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.warnings, IsEmpty());
    const DaemonConfig& c = *r.config;
    EXPECT_EQ(c.bgp.local_address, Ip("127.0.1.1"));
    EXPECT_EQ(c.bgp.my_as, 64512u);
    EXPECT_TRUE(c.bgp.enable_rtc);
    EXPECT_EQ(c.bgp.bgp_port, 179);
    EXPECT_THAT(c.bgp.peers, ElementsAre(Ip("127.0.1.2")));
    ASSERT_EQ(c.peers.size(), 1u);
    EXPECT_EQ(c.peers[0].address, Ip("127.0.1.2"));
    EXPECT_EQ(c.peers[0].peer_as, 64512u);
    EXPECT_EQ(c.api.host, "127.0.1.1");
    EXPECT_EQ(c.api.port, 8082);
    EXPECT_EQ(c.common.root_helper, "sudo");
    EXPECT_EQ(c.ipvpn.driver, "dummy");
    EXPECT_EQ(c.evpn.driver, "dummy");
    EXPECT_EQ(c.ipvpn.local_address, Ip("127.0.1.1"));
    // The 290-character default_log_levels line is read whole.
    EXPECT_THAT(c.logging.default_log_levels,
                AllOf(HasSubstr("exabgp_peer_worker=INFO"), HasSubstr("oslo_concurrency=WARN")));
    EXPECT_GT(c.logging.default_log_levels.size(), 200u);
}

TEST(ConfigLoader, MissingFileIsOneError) {
    LoadResult r = LoadConfigFile("/nonexistent/bgp.conf");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_THAT(r.errors[0], HasSubstr("/nonexistent/bgp.conf: cannot open"));
}

TEST(ConfigLoader, Defaults) {
    LoadResult r = Load(WithBgp("peers = 192.0.2.2"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.warnings, IsEmpty());
    const DaemonConfig& c = *r.config;
    const BgpConfig& b = c.bgp;
    EXPECT_TRUE(b.enable_rtc);
    EXPECT_EQ(b.bgp_port, 179);
    EXPECT_EQ(b.router_id, Ip("192.0.2.1"));
    EXPECT_TRUE(b.listen);
    EXPECT_EQ(b.listen_port, 179);
    EXPECT_FALSE(b.route_reflector);
    EXPECT_FALSE(b.rtc_wildcard);
    EXPECT_EQ(b.cluster_id, Ip("192.0.2.1").v4());
    EXPECT_EQ(b.hold_time, 180);
    EXPECT_EQ(b.keepalive_time, 0);
    EXPECT_EQ(b.connect_retry_min, 5u);
    EXPECT_EQ(b.connect_retry_max, 120u);
    EXPECT_EQ(b.families, Families({Family::kIpv4Vpn, Family::kIpv6Vpn, Family::kL2vpnEvpn,
                                    Family::kIpv4FlowspecVpn, Family::kIpv4Rtc}));
    EXPECT_TRUE(b.graceful_restart);
    EXPECT_EQ(b.graceful_restart_time, 120);
    EXPECT_EQ(b.max_prefix, 0u);
    EXPECT_EQ(b.max_prefix_action, MaxPrefixAction::kTeardown);
    EXPECT_TRUE(b.extended_message);
    EXPECT_FALSE(b.add_path_receive);
    EXPECT_EQ(b.output_queue_bytes, 4194304u);
    EXPECT_TRUE(b.local_interface.empty());

    ASSERT_EQ(c.peers.size(), 1u);
    const PeerConfig& p = c.peers[0];
    EXPECT_EQ(p.name, "192.0.2.2");
    EXPECT_EQ(p.peer_as, 64512u);
    EXPECT_EQ(p.local_address, Ip("192.0.2.1"));
    EXPECT_EQ(p.port, 179);
    EXPECT_FALSE(p.passive);
    EXPECT_TRUE(p.md5_password.empty());
    EXPECT_FALSE(p.route_reflector_client);
    EXPECT_EQ(p.hold_time, 180);
    EXPECT_EQ(p.keepalive_time, 60);
    EXPECT_EQ(p.families, b.families);
    EXPECT_EQ(p.max_prefix, 0u);
    EXPECT_TRUE(p.listed_in_peers);

    EXPECT_EQ(c.api.host, "127.0.0.1");
    EXPECT_EQ(c.api.port, 8082);
    EXPECT_EQ(c.common.root_helper, "sudo");
    EXPECT_TRUE(c.common.root_helper_daemon.empty());
    EXPECT_EQ(c.ipvpn.driver, "dummy");
    EXPECT_EQ(c.evpn.driver, "dummy");
    EXPECT_EQ(c.evpn.local_address, Ip("192.0.2.1"));
    EXPECT_FALSE(c.logging.debug);
    EXPECT_TRUE(c.logging.log_file.empty());
}

TEST(ConfigLoader, NoPeersIsValid) {
    LoadResult r = Load(kMinimal);
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.config->peers, IsEmpty());
}

TEST(ConfigLoader, EveryBgpOption) {
    LoadResult r = Load(WithBgp(
        "peers = 192.0.2.2, 192.0.2.3 192.0.2.4\n"
        "enable_rtc = false\n"
        "bgp_port = 1179\n"
        "router_id = 10.0.0.1\n"
        "listen = no\n"
        "listen_port = 2179\n"
        "route_reflector = on\n"
        "rtc_wildcard = true\n"
        "cluster_id = 42\n"
        "hold_time = 90\n"
        "keepalive_time = 10\n"
        "connect_retry_min = 1\n"
        "connect_retry_max = 30\n"
        "families = ipv4-vpn, l2vpn-evpn\n"
        "graceful_restart = 0\n"
        "graceful_restart_time = 300\n"
        "max_prefix = 1000\n"
        "max_prefix_action = warn\n"
        "extended_message = False\n"
        "add_path_receive = YES\n"
        "output_queue_bytes = 65536\n",
        "[DEFAULT]\ndebug = True\nlog_file = /var/log/bagpipe.log\nuse_syslog = false\n"
        "[COMMON]\nroot_helper = sudo -n\n"
        "root_helper_daemon = sudo neutron-rootwrap-daemon /etc/bagpipe-bgp/rootwrap.conf\n"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.warnings, IsEmpty());
    const DaemonConfig& c = *r.config;
    const BgpConfig& b = c.bgp;
    EXPECT_THAT(b.peers, ElementsAre(Ip("192.0.2.2"), Ip("192.0.2.3"), Ip("192.0.2.4")));
    EXPECT_FALSE(b.enable_rtc);
    EXPECT_EQ(b.bgp_port, 1179);
    EXPECT_EQ(b.router_id, Ip("10.0.0.1"));
    EXPECT_FALSE(b.listen);
    EXPECT_EQ(b.listen_port, 2179);
    EXPECT_TRUE(b.route_reflector);
    EXPECT_TRUE(b.rtc_wildcard);
    EXPECT_EQ(b.cluster_id, 42u);
    EXPECT_EQ(b.hold_time, 90);
    EXPECT_EQ(b.keepalive_time, 10);
    EXPECT_EQ(b.connect_retry_min, 1u);
    EXPECT_EQ(b.connect_retry_max, 30u);
    EXPECT_EQ(b.families, Families({Family::kIpv4Vpn, Family::kL2vpnEvpn}));
    EXPECT_FALSE(b.graceful_restart);
    EXPECT_EQ(b.graceful_restart_time, 300);
    EXPECT_EQ(b.max_prefix, 1000u);
    EXPECT_EQ(b.max_prefix_action, MaxPrefixAction::kWarn);
    EXPECT_FALSE(b.extended_message);
    EXPECT_TRUE(b.add_path_receive);
    EXPECT_EQ(b.output_queue_bytes, 65536u);
    ASSERT_EQ(c.peers.size(), 3u);
    for (const auto& p : c.peers) {
        EXPECT_EQ(p.port, 1179);
        EXPECT_TRUE(p.route_reflector_client);  // default = [BGP] route_reflector
        EXPECT_EQ(p.hold_time, 90);
        EXPECT_EQ(p.keepalive_time, 10);
        EXPECT_EQ(p.max_prefix, 1000u);
        EXPECT_EQ(p.max_prefix_action, MaxPrefixAction::kWarn);
        EXPECT_EQ(p.families, b.families);
    }
    EXPECT_TRUE(c.logging.debug);
    EXPECT_EQ(c.logging.log_file, "/var/log/bagpipe.log");
    EXPECT_EQ(c.logging.options.at("use_syslog"), "false");
    EXPECT_EQ(c.common.root_helper, "sudo -n");
    EXPECT_EQ(c.common.root_helper_daemon,
              "sudo neutron-rootwrap-daemon /etc/bagpipe-bgp/rootwrap.conf");
}

TEST(ConfigLoader, ClusterIdDottedAndListenPortFollowsBgpPort) {
    LoadResult r = Load(WithBgp("route_reflector = True\ncluster_id = 1.2.3.4\nbgp_port = 1790"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_EQ(r.config->bgp.cluster_id, 0x01020304u);
    EXPECT_EQ(r.config->bgp.listen_port, 1790);
}

TEST(ConfigLoader, Booleans) {
    for (const char* t : {"True", "true", "TRUE", "yes", "Yes", "1", "on", "ON"})
        EXPECT_EQ(ParseBool(t), true) << t;
    for (const char* f : {"False", "false", "no", "NO", "0", "off", "Off"})
        EXPECT_EQ(ParseBool(f), false) << f;
    for (const char* bad : {"", "2", "y", "n", "truee", "enabled"})
        EXPECT_EQ(ParseBool(bad), std::nullopt) << bad;
}

TEST(ConfigLoader, SplitList) {
    EXPECT_THAT(SplitList(" a, b c,,d\n e "), ElementsAre("a", "b", "c", "d", "e"));
    EXPECT_THAT(SplitList(""), IsEmpty());
    EXPECT_THAT(SplitList(" , "), IsEmpty());
}

TEST(ConfigLoader, ErrorCarriesFileLineSectionAndOption) {
    LoadResult r = Load("[BGP]\nlocal_address = 192.0.2.1\nmy_as = 70000x\n");
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(r.errors,
                ElementsAre("bgp.conf:3: [BGP] my_as: \"70000x\" is not an AS number "
                            "(1..4294967295)"));
}

TEST(ConfigLoader, FourOctetAsAccepted) {
    LoadResult r = Load("[BGP]\nlocal_address = 192.0.2.1\nmy_as = 4294967295\n");
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_EQ(r.config->bgp.my_as, 4294967295u);
}

struct ErrorCase {
    std::string name;
    std::string text;
    std::string expected;  // substring of one of the errors
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

std::vector<ErrorCase> ErrorCases() {
    const std::string b = "[BGP]\nlocal_address = 192.0.2.1\nmy_as = 64512\n";
    return {
        // [BGP] required options.
        {"no_bgp_section", "[API]\nport = 8082\n", "bgp.conf: [BGP]: section is missing"},
        {"no_local_address", "[BGP]\nmy_as = 1\n",
         "bgp.conf:1: [BGP] local_address: required option is missing"},
        {"no_my_as", "[BGP]\nlocal_address = 192.0.2.1\n",
         "bgp.conf:1: [BGP] my_as: required option is missing"},
        {"my_as_zero", "[BGP]\nlocal_address = 192.0.2.1\nmy_as = 0\n",
         "bgp.conf:3: [BGP] my_as: \"0\" is not an AS number"},
        {"my_as_too_big", "[BGP]\nlocal_address = 192.0.2.1\nmy_as = 4294967296\n",
         "[BGP] my_as: \"4294967296\" is not an AS number"},
        {"my_as_negative", "[BGP]\nlocal_address = 192.0.2.1\nmy_as = -1\n",
         "[BGP] my_as: \"-1\" is not an AS number"},
        {"bad_local_address", "[BGP]\nlocal_address = 192.0.2.300\nmy_as = 1\n",
         "bgp.conf:2: [BGP] local_address: \"192.0.2.300\" is not an IP address or the name "
         "of an interface"},
        {"unknown_interface", "[BGP]\nlocal_address = eth9\nmy_as = 1\n",
         "[BGP] local_address: \"eth9\" is not an IP address or the name of an interface"},
        {"interface_without_ipv4", "[BGP]\nlocal_address = noip0\nmy_as = 1\n",
         "bgp.conf:2: [BGP] local_address: interface \"noip0\" has no IPv4 address"},
        // peers.
        {"bad_peer", b + "peers = 192.0.2.2, bogus\n",
         "bgp.conf:4: [BGP] peers: \"bogus\" is not an IP address"},
        {"peer_is_local", b + "peers = 192.0.2.1\n",
         "bgp.conf:4: [BGP] peers: peer 192.0.2.1: is the local address"},
        {"peer_twice", b + "peers = 192.0.2.2 192.0.2.2\n",
         "[BGP] peers: 192.0.2.2 is listed twice"},
        {"peer_v6_local_v4", b + "peers = 2001:db8::2\n",
         "peer 2001:db8::2: is IPv6 but the local address 192.0.2.1 is IPv4"},
        // Numbers and ranges.
        {"hold_time_1", b + "hold_time = 1\n",
         "bgp.conf:4: [BGP] hold_time: \"1\": the hold time must be 0 or at least 3 seconds"},
        {"hold_time_2", b + "hold_time = 2\n", "the hold time must be 0 or at least 3"},
        {"hold_time_big", b + "hold_time = 65536\n", "\"65536\" is not a hold time"},
        {"keepalive_not_less", b + "hold_time = 30\nkeepalive_time = 30\n",
         "[BGP] keepalive_time: 30 is not less than hold_time (30)"},
        {"bgp_port_zero", b + "bgp_port = 0\n",
         "[BGP] bgp_port: \"0\" is not a port number (1..65535)"},
        {"bgp_port_big", b + "bgp_port = 65536\n", "[BGP] bgp_port: \"65536\" is not a port"},
        {"listen_port_text", b + "listen_port = http\n", "[BGP] listen_port: \"http\" is not"},
        {"retry_inverted", b + "connect_retry_min = 200\nconnect_retry_max = 100\n",
         "[BGP] connect_retry_min: 200 is greater than connect_retry_max (100)"},
        {"retry_min_zero", b + "connect_retry_min = 0\n", "[BGP] connect_retry_min: \"0\""},
        {"gr_time_big", b + "graceful_restart_time = 4096\n",
         "[BGP] graceful_restart_time: \"4096\" is not a restart time in seconds (0..4095)"},
        {"max_prefix_text", b + "max_prefix = many\n", "[BGP] max_prefix: \"many\""},
        {"max_prefix_action", b + "max_prefix_action = drop\n",
         "[BGP] max_prefix_action: \"drop\" is not \"warn\" or \"teardown\""},
        {"queue_small", b + "output_queue_bytes = 4096\n",
         "[BGP] output_queue_bytes: \"4096\" is not a size in bytes (65536..4294967295)"},
        {"bad_bool", b + "enable_rtc = maybe\n",
         "bgp.conf:4: [BGP] enable_rtc: \"maybe\" is not a boolean"},
        // router_id / cluster_id.
        {"router_id_v6", b + "router_id = 2001:db8::1\n",
         "[BGP] router_id: \"2001:db8::1\" is not an IPv4 address"},
        {"router_id_zero", b + "router_id = 0.0.0.0\n", "0.0.0.0 is not a valid router id"},
        {"router_id_needed", "[BGP]\nlocal_address = 2001:db8::1\nmy_as = 1\n",
         "[BGP] router_id: required when local_address is not an IPv4 address"},
        {"cluster_id_bad", b + "route_reflector = true\ncluster_id = 1.2.3\n",
         "[BGP] cluster_id: \"1.2.3\" is not an IPv4 address or a 32-bit integer"},
        // Families.
        {"bad_family", b + "families = ipv4-vpn, ipv4-mvpn\n",
         "[BGP] families: \"ipv4-mvpn\" is not an address family"},
        {"rtc_disabled", b + "enable_rtc = False\nfamilies = ipv4-vpn ipv4-rtc\n",
         "[BGP] families: ipv4-rtc is listed but [BGP] enable_rtc is False"},
        {"no_family", b + "enable_rtc = False\nfamilies = ,\n",
         "[BGP] families: no address family listed"},
        // Duplicates, [API], dataplanes.
        {"duplicate_option", b + "my_as = 64513\n",
         "bgp.conf:4: [BGP] my_as: duplicate option (first set at line 3)"},
        {"duplicate_in_repeated_section", b + "[API]\nport = 1\n[BGP]\nmy_as = 2\n",
         "bgp.conf:7: [BGP] my_as: duplicate option (first set at line 3)"},
        {"api_port", b + "[API]\nport = 80800\n", "[API] port: \"80800\" is not a port"},
        {"api_port_old_name", b + "[API]\napi_port = x\n", "[API] api_port: \"x\" is not a port"},
        {"api_host_both", b + "[API]\nhost = 127.0.0.1\napi_host = 127.0.0.2\n",
         "[API] api_host: both \"host\" (line 5) and its old name \"api_host\" are set"},
        {"api_host_bad", b + "[API]\nhost = not a host\n",
         "[API] host: \"not a host\" is not an IP address or a host name"},
        {"bad_driver", b + "[DATAPLANE_DRIVER_IPVPN]\ndataplane_driver = vpp\n",
         "[DATAPLANE_DRIVER_IPVPN] dataplane_driver: \"vpp\" is not a ipvpn dataplane driver"},
        {"evpn_alias_in_ipvpn",
         b + "[DATAPLANE_DRIVER_IPVPN]\ndataplane_driver = linux_vxlan.LinuxVXLANDataplaneDriver\n",
         "is not a ipvpn dataplane driver"},
        {"bad_dataplane_address", b + "[DATAPLANE_DRIVER_EVPN]\ndataplane_local_address = x/y\n",
         "[DATAPLANE_DRIVER_EVPN] dataplane_local_address: \"x/y\" is not an IP address"},
        // Peer sections.
        {"peer_section_bad_address", b + "[BGP_PEER 10.0.0.300]\nas = 1\n",
         "bgp.conf:4: [BGP_PEER 10.0.0.300]: \"10.0.0.300\" is not an IP address"},
        {"peer_section_twice", b + "peers = 2001:db8::2\n"
                                   "[BGP_PEER 2001:db8::2]\nlocal_address = 2001:db8::1\n"
                                   "[BGP_PEER 2001:DB8:0::2]\nas = 1\n",
         "[BGP_PEER 2001:DB8:0::2]: peer 2001:db8::2 already has a section at line 5"},
        {"peer_as_bad", b + "[BGP_PEER 192.0.2.2]\nas = 0\n",
         "bgp.conf:5: [BGP_PEER 192.0.2.2] as: \"0\" is not an AS number"},
        {"peer_port_bad", b + "[BGP_PEER 192.0.2.2]\nport = 0\n",
         "[BGP_PEER 192.0.2.2] port: \"0\" is not a port number"},
        {"peer_hold_time_2", b + "[BGP_PEER 192.0.2.2]\nhold_time = 2\n",
         "[BGP_PEER 192.0.2.2] hold_time: \"2\": the hold time must be 0 or at least 3"},
        {"peer_keepalive_conflict",
         b + "keepalive_time = 20\n[BGP_PEER 192.0.2.2]\nhold_time = 9\n",
         "[BGP_PEER 192.0.2.2] hold_time: 9 is not greater than [BGP] keepalive_time (20)"},
        {"peer_rr_client_ebgp", b + "route_reflector = True\n[BGP_PEER 192.0.2.2]\nas = 65000\n"
                                    "route_reflector_client = True\n",
         "[BGP_PEER 192.0.2.2] route_reflector_client: requires an iBGP peer"},
        {"peer_rr_client_no_rr", b + "[BGP_PEER 192.0.2.2]\nroute_reflector_client = True\n",
         "[BGP_PEER 192.0.2.2] route_reflector_client: requires [BGP] route_reflector = True"},
        {"peer_passive_no_listen", b + "listen = False\n[BGP_PEER 192.0.2.2]\npassive = True\n",
         "[BGP_PEER 192.0.2.2] passive: a passive peer needs [BGP] listen = True"},
        {"peer_md5_long", b + "[BGP_PEER 192.0.2.2]\nmd5_password = " + std::string(81, 'k') + "\n",
         "[BGP_PEER 192.0.2.2] md5_password: is 81 characters long"},
        {"peer_bad_family", b + "[BGP_PEER 192.0.2.2]\nfamilies = ipv4-vpn, bogus\n",
         "[BGP_PEER 192.0.2.2] families: \"bogus\" is not an address family"},
        {"peer_bad_local", b + "[BGP_PEER 192.0.2.2]\nlocal_address = eth9\n",
         "[BGP_PEER 192.0.2.2] local_address: \"eth9\" is not an IP address"},
        {"peer_section_is_local", b + "[BGP_PEER 192.0.2.1]\n",
         "[BGP_PEER 192.0.2.1]: peer 192.0.2.1: is the local address"},
        {"peer_bad_max_prefix_action", b + "[BGP_PEER 192.0.2.2]\nmax_prefix_action = 1\n",
         "[BGP_PEER 192.0.2.2] max_prefix_action: \"1\" is not"},
        // INI syntax.
        {"no_equals", b + "this line has no separator\n",
         "bgp.conf:4: expected \"name = value\""},
        {"unterminated_header", b + "[API\n", "bgp.conf:4: unterminated section header"},
        {"empty_header", b + "[ ]\n", "bgp.conf:4: empty section name"},
        {"text_after_header", b + "[API] x\n", "bgp.conf:4: unexpected text after the section"},
        {"outside_section", "my_as = 1\n" + b, "bgp.conf:1: option outside of any [section]"},
        {"no_name", b + "= 1\n", "bgp.conf:4: missing option name"},
        {"stray_continuation", "[BGP]\n  local_address = 192.0.2.1\nmy_as = 1\n",
         "bgp.conf:2: unexpected continuation line"},
        {"continuation_after_blank", b + "peers = 192.0.2.2\n\n   192.0.2.3\n",
         "bgp.conf:6: unexpected continuation line"},
        {"too_long_line", b + "[DEFAULT]\nlog_file = " + std::string(5000, 'x') + "\n",
         "bgp.conf:5: line is longer than 4096 characters"},
    };
}

class ConfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorTest, Reported) {
    const ErrorCase& c = GetParam();
    LoadResult r = Load(c.text);
    EXPECT_FALSE(r.ok());
    EXPECT_FALSE(r.config.has_value());
    EXPECT_THAT(r.errors, Contains(HasSubstr(c.expected))) << Errors(r);
}

INSTANTIATE_TEST_SUITE_P(ConfigErrors, ConfigErrorTest, ::testing::ValuesIn(ErrorCases()),
                         [](const auto& info) { return info.param.name; });

TEST(ConfigLoader, AllErrorsReportedAtOnce) {
    LoadResult r = Load("[BGP]\nlocal_address = x/y\nmy_as = 0\nhold_time = 1\n"
                        "[API]\nport = 0\n");
    EXPECT_EQ(r.errors.size(), 4u) << Errors(r);
}

TEST(ConfigLoader, Warnings) {
    LoadResult r = Load(WithBgp("peers = 192.0.2.2\nsome_option = 1\ncluster_id = 1",
                                "[API]\nhost = ::1\nbind = x\n"
                                "[DATAPLANE_DRIVER]\ndataplane_driver = dummy\n"
                                "[FOO]\nbar = 1\n"
                                "[DEFAULT]\nuse_syslog = true\nfrobnicate = 3\n"
                                "[BGP_PEER 192.0.2.9]\nhold_time = 30\nmystery = 1\n"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.warnings,
                ElementsAre("bgp.conf:10: [DATAPLANE_DRIVER] is obsolete and ignored: use "
                            "[DATAPLANE_DRIVER_IPVPN] and [DATAPLANE_DRIVER_EVPN] instead",
                            "bgp.conf:12: [FOO]: unknown section, ignored",
                            "bgp.conf:16: [DEFAULT] frobnicate: unknown option, ignored",
                            "bgp.conf:6: [BGP] cluster_id: has no effect unless route_reflector "
                            "is True",
                            "bgp.conf:5: [BGP] some_option: unknown option, ignored",
                            "bgp.conf:9: [API] bind: unknown option, ignored",
                            "bgp.conf:17: [BGP_PEER 192.0.2.9]: 192.0.2.9 is not listed in "
                            "[BGP] peers; added",
                            "bgp.conf:19: [BGP_PEER 192.0.2.9] mystery: unknown option, ignored"));
    const DaemonConfig& c = *r.config;
    EXPECT_EQ(c.api.host, "::1");
    EXPECT_THAT(c.bgp.peers, ElementsAre(Ip("192.0.2.2"), Ip("192.0.2.9")));
    ASSERT_EQ(c.peers.size(), 2u);
    EXPECT_TRUE(c.peers[0].listed_in_peers);
    EXPECT_FALSE(c.peers[1].listed_in_peers);
    EXPECT_EQ(c.peers[1].hold_time, 30);
    EXPECT_EQ(c.peers[1].keepalive_time, 10);
}

TEST(ConfigLoader, PerPeerOverrides) {
    LoadResult r = Load(WithBgp(
        "peers = 192.0.2.2, 192.0.2.3, 2001:db8::2\n"
        "route_reflector = True\n"
        "max_prefix = 500\n"
        "hold_time = 60\n",
        "[BGP_PEER 192.0.2.2]\n"
        "name = rr-client-1\n"
        "md5_password = s3cr;et#1\n"
        "hold_time = 0\n"
        "max_prefix = 10\n"
        "max_prefix_action = warn\n"
        "families = ipv4-vpn\n"
        "passive = true\n"
        "[BGP_PEER 192.0.2.3]\n"
        "as = 65001\n"
        "port = 1179\n"
        "local_address = eth0\n"
        "[BGP_PEER 2001:db8::2]\n"
        "local_address = 2001:db8::1\n"
        "route_reflector_client = false\n"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.warnings, IsEmpty());
    const DaemonConfig& c = *r.config;
    ASSERT_EQ(c.peers.size(), 3u);

    const PeerConfig& a = c.peers[0];
    EXPECT_EQ(a.name, "rr-client-1");
    EXPECT_EQ(a.md5_password, "s3cr;et#1");  // no inline comments, as in oslo.config
    EXPECT_EQ(a.hold_time, 0);
    EXPECT_EQ(a.keepalive_time, 0);
    EXPECT_EQ(a.max_prefix, 10u);
    EXPECT_EQ(a.max_prefix_action, MaxPrefixAction::kWarn);
    EXPECT_EQ(a.families, Families({Family::kIpv4Vpn, Family::kIpv4Rtc}));  // rtc: enable_rtc
    EXPECT_TRUE(a.passive);
    EXPECT_TRUE(a.route_reflector_client);
    EXPECT_EQ(a.peer_as, 64512u);

    const PeerConfig& e = c.peers[1];  // eBGP: not a client even though route_reflector
    EXPECT_EQ(e.peer_as, 65001u);
    EXPECT_EQ(e.port, 1179);
    EXPECT_EQ(e.local_address, Ip("192.0.2.10"));
    EXPECT_FALSE(e.route_reflector_client);
    EXPECT_EQ(e.hold_time, 60);
    EXPECT_EQ(e.keepalive_time, 20);
    EXPECT_EQ(e.max_prefix, 500u);
    EXPECT_EQ(e.name, "192.0.2.3");

    const PeerConfig& v6 = c.peers[2];
    EXPECT_EQ(v6.local_address, Ip("2001:db8::1"));
    EXPECT_FALSE(v6.route_reflector_client);
    EXPECT_EQ(c.FindPeer(Ip("2001:db8::2")), &v6);
    EXPECT_EQ(c.FindPeer(Ip("192.0.2.99")), nullptr);
}

TEST(ConfigLoader, Ipv6LocalAddress) {
    LoadResult r = Load("[BGP]\nlocal_address = 2001:db8::1\nmy_as = 1\nrouter_id = 10.1.1.1\n"
                        "peers = 2001:db8::2\n");
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_EQ(r.config->bgp.router_id, Ip("10.1.1.1"));
    EXPECT_EQ(r.config->bgp.cluster_id, Ip("10.1.1.1").v4());
    EXPECT_EQ(r.config->peers[0].local_address, Ip("2001:db8::1"));
}

TEST(ConfigLoader, FamiliesFollowEnableRtc) {
    LoadResult on = Load(WithBgp("families = ipv6-vpn, IPV4-FLOWSPEC-VPN"));
    ASSERT_TRUE(on.ok()) << Errors(on);
    EXPECT_EQ(on.config->bgp.families,
              Families({Family::kIpv6Vpn, Family::kIpv4FlowspecVpn, Family::kIpv4Rtc}));
    LoadResult off = Load(WithBgp("enable_rtc = false"));
    ASSERT_TRUE(off.ok()) << Errors(off);
    EXPECT_EQ(off.config->bgp.families, Families({Family::kIpv4Vpn, Family::kIpv6Vpn,
                                                  Family::kL2vpnEvpn, Family::kIpv4FlowspecVpn}));
    LoadResult all = Load(WithBgp("families = ipv4-unicast ipv6-unicast ipv4-labeled "
                                  "ipv6-labeled ipv4-vpn ipv6-vpn l2vpn-evpn ipv4-rtc "
                                  "ipv4-flowspec-vpn ipv6-flowspec-vpn"));
    ASSERT_TRUE(all.ok()) << Errors(all);
    EXPECT_EQ(all.config->bgp.families.count(), bgp::kFamilyCount - 1);
}

TEST(ConfigLoader, LongLines) {
    // Debian's inih truncates at 200 bytes unless ini_max_line is raised.
    std::string v300(300, 'a');
    v300.back() = 'z';
    LoadResult r = Load(WithBgp("", "[DEFAULT]\ndefault_log_levels = " + v300 + "\n"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_EQ(r.config->logging.default_log_levels, v300);

    // A line of exactly kMaxIniLineLength characters is accepted.
    std::string prefix = "log_file = ";
    std::string v(kMaxIniLineLength - prefix.size(), 'b');
    LoadResult max = Load(WithBgp("", "[DEFAULT]\n" + prefix + v + "\r\ndebug = true\n"));
    ASSERT_TRUE(max.ok()) << Errors(max);
    EXPECT_EQ(max.config->logging.log_file, v);
    EXPECT_TRUE(max.config->logging.debug);

    LoadResult over = Load(WithBgp("", "[DEFAULT]\n" + prefix + v + "c\ndebug = true\n"));
    EXPECT_THAT(over.errors, ElementsAre("bgp.conf:6: line is longer than 4096 characters"));
}

TEST(ConfigLoader, LongSectionNames) {
    // Debian's inih keeps only 49 characters of a section name; we do not use it.
    std::string addr = "2001:0db8:0000:0000:0000:0000:0000:0002";
    LoadResult r = Load("[BGP]\nlocal_address = 2001:db8::1\nmy_as = 1\nrouter_id = 1.1.1.1\n"
                        "[BGP_PEER    " + addr + "   ]\nname = long\n");
    ASSERT_TRUE(r.ok()) << Errors(r);
    ASSERT_EQ(r.config->peers.size(), 1u);
    EXPECT_EQ(r.config->peers[0].name, "long");
}

TEST(ConfigLoader, ApiOldNames) {
    LoadResult r = Load(WithBgp("", "[API]\napi_host = 192.0.2.1\napi_port = 9000\n"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.warnings, IsEmpty());
    EXPECT_EQ(r.config->api.host, "192.0.2.1");
    EXPECT_EQ(r.config->api.port, 9000);
    LoadResult n = Load(WithBgp("", "[API]\nhost = localhost\nport = 9001\n"));
    ASSERT_TRUE(n.ok()) << Errors(n);
    EXPECT_EQ(n.config->api.host, "localhost");
    EXPECT_EQ(n.config->api.port, 9001);
}

TEST(ConfigLoader, InterfaceNameLoResolves) {
    // The real getifaddrs lookup: lo always has 127.0.0.1.
    LoadResult r = LoadConfigString("[BGP]\nlocal_address = lo\nmy_as = 64512\n"
                                    "[DATAPLANE_DRIVER_EVPN]\ndataplane_local_address = lo\n");
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_EQ(r.config->bgp.local_address, Ip("127.0.0.1"));
    EXPECT_EQ(r.config->bgp.local_interface, "lo");
    EXPECT_EQ(r.config->bgp.router_id, Ip("127.0.0.1"));
    EXPECT_EQ(r.config->evpn.local_address, Ip("127.0.0.1"));
    EXPECT_EQ(LookupInterfaceIpv4("lo").ipv4, Ip("127.0.0.1"));
    EXPECT_FALSE(LookupInterfaceIpv4("nosuchif0").exists);
}

TEST(ConfigLoader, InterfaceNameFake) {
    LoadResult r = Load("[BGP]\nlocal_address = eth0\nmy_as = 1\n");
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_EQ(r.config->bgp.local_address, Ip("192.0.2.10"));
}

TEST(ConfigLoader, DataplaneDriversAndAliases) {
    struct Case {
        const char* type;
        const char* name;
        const char* canonical;
    };
    for (const Case& c : std::initializer_list<Case>{
             {"ipvpn", "dummy", "dummy"},
             {"ipvpn", "linux", "linux"},
             {"ipvpn", "ovs", "ovs"},
             {"ipvpn", "DummyDataplaneDriver", "dummy"},
             {"ipvpn", "mpls_ovs_dataplane.MPLSOVSDataplaneDriver", "ovs"},
             {"ipvpn", "mpls_linux_dataplane.MPLSLinuxDataplaneDriver", "linux"},
             {"ipvpn", "bagpipe.bgp.vpn.ipvpn.DummyDataplaneDriver", "dummy"},
             {"ipvpn", "bagpipe.bgp.vpn.ipvpn.mpls_ovs_dataplane.MPLSOVSDataplaneDriver", "ovs"},
             {"ipvpn", "networking_bagpipe.bagpipe_bgp.vpn.ipvpn.mpls_linux_dataplane."
                       "MPLSLinuxDataplaneDriver", "linux"},
             {"evpn", "dummy", "dummy"},
             {"evpn", "DummyDataplaneDriver", "dummy"},
             {"evpn", "linux_vxlan.LinuxVXLANDataplaneDriver", "linux"},
             {"evpn", "bagpipe.bgp.vpn.evpn.linux_vxlan.LinuxVXLANDataplaneDriver", "linux"},
             {"evpn", "bagpipe.bgp.vpn.evpn.DummyDataplaneDriver", "dummy"},
             {"evpn", "ovs.OVSDataplaneDriver", "ovs"},
         }) {
        EXPECT_EQ(CanonicalDataplaneDriver(c.type, c.name), c.canonical) << c.type << " " << c.name;
    }
    EXPECT_EQ(CanonicalDataplaneDriver("evpn", "mpls_ovs_dataplane.MPLSOVSDataplaneDriver"),
              std::nullopt);
    EXPECT_EQ(CanonicalDataplaneDriver("evpn", "bagpipe.bgp.vpn.ipvpn.DummyDataplaneDriver"),
              std::nullopt);
    EXPECT_EQ(CanonicalDataplaneDriver("ipvpn", "Dummy"), std::nullopt);

    LoadResult r = Load(WithBgp("", "[DATAPLANE_DRIVER_IPVPN]\n"
                                    "dataplane_driver = mpls_ovs_dataplane.MPLSOVSDataplaneDriver\n"
                                    "dataplane_local_address = eth0\n"
                                    "mpls_interface = eth1\n"
                                    "ovs_bridge = br-mpls\n"
                                    "[DATAPLANE_DRIVER_EVPN]\n"
                                    "dataplane_driver = ovs\n"
                                    "vxlan_dst_port = 4789\n"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.warnings, IsEmpty());  // driver options are the driver's business
    const DaemonConfig& c = *r.config;
    EXPECT_EQ(c.ipvpn.driver, "ovs");
    EXPECT_EQ(c.ipvpn.configured_driver, "mpls_ovs_dataplane.MPLSOVSDataplaneDriver");
    EXPECT_EQ(c.ipvpn.local_address, Ip("192.0.2.10"));
    EXPECT_EQ(c.ipvpn.options,
              (std::map<std::string, std::string>{{"mpls_interface", "eth1"},
                                                  {"ovs_bridge", "br-mpls"}}));
    EXPECT_EQ(c.evpn.driver, "ovs");
    EXPECT_EQ(c.evpn.local_address, Ip("192.0.2.1"));
    EXPECT_EQ(c.evpn.options.at("vxlan_dst_port"), "4789");
}

TEST(ConfigLoader, IniSyntaxLikeOsloConfig) {
    LoadResult r = Load(
        "\xEF\xBB\xBF# comment\n"
        "; another comment\n"
        "[bgp]\n"                      // section names are case-insensitive
        "local_address: 192.0.2.1\n"   // ':' separator
        "my_as = \"64512\"\n"          // quotes removed
        "peers = 192.0.2.2,\n"
        "    192.0.2.3\n"              // continuation line
        "  # indented comment\n"
        "\t192.0.2.4\n"
        "\n"
        "[COMMON]\n"
        "root_helper = 'sudo -E'\n"
        "root_helper_daemon = a = b ; c\n"
        "[BGP_PEER 192.0.2.2]\r\n"
        "name = with spaces  \r\n");
    ASSERT_TRUE(r.ok()) << Errors(r);
    EXPECT_THAT(r.warnings, IsEmpty());
    const DaemonConfig& c = *r.config;
    EXPECT_EQ(c.bgp.my_as, 64512u);
    EXPECT_THAT(c.bgp.peers, ElementsAre(Ip("192.0.2.2"), Ip("192.0.2.3"), Ip("192.0.2.4")));
    EXPECT_EQ(c.common.root_helper, "sudo -E");
    EXPECT_EQ(c.common.root_helper_daemon, "a = b ; c");
    EXPECT_EQ(c.peers[0].name, "with spaces");
}

TEST(ConfigIniFile, EntriesAndLines) {
    IniDocument d = ParseIni("[A]\nx = 1\n  2\n[B]\ny=\n[a]\nz = 3\n", "t.ini");
    EXPECT_THAT(d.errors, IsEmpty());
    ASSERT_EQ(d.sections.size(), 2u);
    EXPECT_EQ(d.sections[0].name, "A");
    EXPECT_EQ(d.sections[0].line, 1);
    ASSERT_EQ(d.sections[0].entries.size(), 2u);
    EXPECT_EQ(d.sections[0].entries[0].key, "x");
    EXPECT_EQ(d.sections[0].entries[0].value, "1\n2");
    EXPECT_EQ(d.sections[0].entries[0].line, 2);
    EXPECT_EQ(d.sections[0].entries[1].key, "z");
    EXPECT_EQ(d.sections[0].entries[1].line, 7);
    EXPECT_EQ(d.sections[1].entries[0].value, "");
    EXPECT_NE(d.Find("b"), nullptr);
    EXPECT_EQ(d.Find("C"), nullptr);
}

TEST(ConfigLoader, DescribeConfig) {
    LoadResult r = Load(WithBgp("peers = 192.0.2.2\nroute_reflector = true",
                                "[BGP_PEER 192.0.2.2]\nmd5_password = topsecret\n"));
    ASSERT_TRUE(r.ok()) << Errors(r);
    nlohmann::json j = ConfigToJson(*r.config);
    EXPECT_EQ(j["BGP"]["local_address"], "192.0.2.1");
    EXPECT_EQ(j["BGP"]["my_as"], 64512);
    EXPECT_EQ(j["BGP"]["cluster_id"], "192.0.2.1");
    EXPECT_EQ(j["BGP"]["families"],
              nlohmann::json({"ipv4-vpn", "ipv6-vpn", "l2vpn-evpn", "ipv4-rtc",
                              "ipv4-flowspec-vpn"}));
    EXPECT_EQ(j["peers"][0]["address"], "192.0.2.2");
    EXPECT_EQ(j["peers"][0]["route_reflector_client"], true);
    EXPECT_EQ(j["peers"][0]["md5_password"], "****");
    EXPECT_EQ(j["API"]["port"], 8082);
    EXPECT_EQ(j["DATAPLANE_DRIVER_IPVPN"]["dataplane_driver"], "dummy");
    std::string text = DescribeConfig(*r.config);
    EXPECT_THAT(text, HasSubstr("\"my_as\": 64512"));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("topsecret")));
}

}  // namespace
}  // namespace bagpipe::config
