// The standard looking-glass providers against a real BgpSpeaker (no peers,
// or one configured peer that is not there), a local route, the config
// (passwords masked) and the log ring.
#include "api/lg_providers.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>

#include "api/route_json.h"
#include "bgp/family/vpn/vpn_nlri.h"
#include "config/config_loader.h"
#include "daemon/speaker_config.h"
#include "daemon/state_file.h"

namespace bagpipe::api {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

Request Get(std::string target) {
    Request r;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.target = std::move(target);
    r.host = "127.0.74.1:8082";
    return r;
}

config::DaemonConfig LoadConfig(const std::string& text) {
    auto loaded = config::LoadConfigString(text);
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0]);
    return *loaded.config;
}

class ProvidersTest : public ::testing::Test {
protected:
    void Build(const std::string& conf) {
        cfg_ = LoadConfig(conf);
        bgp::SpeakerConfig sc = daemon::MakeSpeakerConfig(cfg_);
        sc.listen.reset();  // no listener needed
        speaker_ = std::make_unique<bgp::BgpSpeaker>(io_.get_executor(), sc);
        ASSERT_FALSE(speaker_->Start());
        LgSources src;
        src.speaker = speaker_.get();
        src.config = &cfg_;
        src.logs = ring_;
        src.version = "9.9.9";
        AddStandardProviders(lg_, src);
    }
    json Fetch(const std::string& path, int status = 200) {
        Response r = lg_.Handle(Get(path));
        EXPECT_EQ(r.status, status) << path << ": " << r.body;
        return json::parse(r.body);
    }
    void Run(std::chrono::milliseconds d) {
        io_.restart();
        io_.run_for(d);
    }
    void TearDown() override {
        if (speaker_) {
            bool done = false;
            speaker_->Shutdown("test over", 200ms, [&] { done = true; });
            for (int i = 0; i < 50 && !done; ++i) Run(10ms);
        }
    }

    boost::asio::io_context io_;
    config::DaemonConfig cfg_;
    std::unique_ptr<bgp::BgpSpeaker> speaker_;
    std::shared_ptr<LogRing> ring_ = std::make_shared<LogRing>(50);
    LookingGlass lg_;
};

TEST_F(ProvidersTest, NoPeers) {
    Build("[BGP]\nlocal_address = 127.0.74.1\nmy_as = 64512\n");
    json root = Fetch("/looking-glass");
    EXPECT_EQ(root["summary"]["BGP_established_peers"], 0);
    EXPECT_EQ(root["summary"]["version"], "9.9.9");
    EXPECT_EQ(root["summary"]["vpn_instances_count"], 0);
    EXPECT_EQ(root["summary"]["route_counts"],
              json::parse(R"({"local_routes_count": 0, "received_routes_count": 0})"));
    for (const char* k : {"config", "bgp", "vpns", "logs"})
        EXPECT_EQ(root[k]["href"], std::string("http://127.0.74.1:8082/looking-glass/") + k);
    EXPECT_EQ(Fetch("/looking-glass/bgp/peers"), json::array());
    EXPECT_EQ(Fetch("/looking-glass/bgp/workers"), json::array());
    EXPECT_EQ(Fetch("/looking-glass/vpns/instances"), json::array());
    EXPECT_EQ(Fetch("/looking-glass/vpns")["instances_per_vni"], json::object());
    EXPECT_EQ(Fetch("/looking-glass/bgp/routes"), json::object());
    EXPECT_EQ(Fetch("/looking-glass/bgp/peers/10.0.0.1", 404)["error"],
              "No such looking glass object: 10.0.0.1 at "
              "http://127.0.74.1:8082/looking-glass/bgp/peers/10.0.0.1");
    json bgp = Fetch("/looking-glass/bgp");
    EXPECT_EQ(bgp["peers"]["href"], "http://127.0.74.1:8082/looking-glass/bgp/peers");
    EXPECT_EQ(bgp["routes"]["href"], "http://127.0.74.1:8082/looking-glass/bgp/routes");
    EXPECT_EQ(bgp["workers"]["href"], "http://127.0.74.1:8082/looking-glass/bgp/workers");
}

TEST_F(ProvidersTest, OneConfiguredPeer) {
    Build(
        "[BGP]\nlocal_address = 127.0.74.1\nmy_as = 64512\npeers = 127.0.74.2\n"
        "enable_rtc = True\n[BGP_PEER 127.0.74.2]\nmd5_password = secret\nport = 1\n"
        "[API]\nport = 18099\n");
    Run(100ms);  // the connection attempt fails (nothing on port 1)
    json peers = Fetch("/looking-glass/bgp/peers");
    ASSERT_EQ(peers.size(), 1u);
    EXPECT_EQ(peers[0]["id"], "127.0.74.2");
    EXPECT_TRUE(peers[0]["state"].is_string());
    EXPECT_EQ(peers[0]["href"], "http://127.0.74.1:8082/looking-glass/bgp/peers/127.0.74.2");

    json p = Fetch("/looking-glass/bgp/peers/127.0.74.2");
    EXPECT_EQ(p["peeringAddresses"]["peer_address"], "127.0.74.2");
    EXPECT_EQ(p["peeringAddresses"]["local_address"], "127.0.74.1");
    EXPECT_EQ(p["as_info"], json::parse(R"({"local": 64512, "peer": 64512})"));
    EXPECT_EQ(p["rtc"]["enabled"], true);
    EXPECT_EQ(p["rtc"]["active"], false);
    EXPECT_EQ(p["active_families"], json::array());
    EXPECT_EQ(p["name"], "BGP-127.0.74.2");
    EXPECT_EQ(p["protocol"]["hold_time"], 180);
    EXPECT_NE(p["protocol"]["state"], "Established");
    for (const char* k : {"messages_in", "messages_out", "updates_in", "prefixes_in",
                          "nlri_announced_out", "nlri_withdrawn_out"})
        EXPECT_TRUE(p["counters"].contains(k)) << k;
    EXPECT_EQ(p["counters"]["messages_in"]["update"], 0);
    EXPECT_EQ(p["protocol"]["flaps"], 0);
    EXPECT_TRUE(p["protocol"].contains("last_error"));
    EXPECT_TRUE(p["internals"].contains("backlog"));
    // Same object under bgp/workers, with the original's worker names.
    json workers = Fetch("/looking-glass/bgp/workers");
    ASSERT_EQ(workers.size(), 1u);
    EXPECT_EQ(workers[0]["id"], "BGP-127.0.74.2");
    json w = Fetch("/looking-glass/bgp/workers/BGP-127.0.74.2");
    EXPECT_EQ(w["peeringAddresses"], p["peeringAddresses"]);
    // Into a value.
    EXPECT_EQ(Fetch("/looking-glass/bgp/peers/127.0.74.2/as_info/peer"), 64512);

    // Routes: one empty list per configured family, under the original's keys.
    json routes = Fetch("/looking-glass/bgp/routes");
    EXPECT_EQ(routes["ipv4/mpls-vpn,*"], json::array());
    EXPECT_EQ(routes["l2vpn/evpn,*"], json::array());
    EXPECT_EQ(routes["ipv4/rtc,*"], json::array());

    // Config: the loaded file, password masked.
    json c = Fetch("/looking-glass/config");
    EXPECT_EQ(c["API"]["port"], 18099);
    EXPECT_EQ(c["BGP"]["my_as"], 64512);
    EXPECT_EQ(Fetch("/looking-glass/config").dump().find("secret"), std::string::npos);
}

bgp::PathAttributes VpnAttrs() {
    bgp::PathAttributes a;
    a.set(bgp::attr::kOrigin);
    a.set(bgp::attr::kAsPath);
    a.local_pref = 200;
    a.set(bgp::attr::kLocalPref);
    a.ext_communities = {bgp::ExtCommunity::RouteTarget(0, 64512, 512),
                         bgp::ExtCommunity::Encapsulation(10)};
    a.set(bgp::attr::kExtCommunities);
    return a;
}

std::vector<bgp::VpnNlri> VpnRoutes(uint32_t n) {
    std::vector<bgp::VpnNlri> v;
    for (uint32_t i = 0; i < n; ++i) {
        bgp::VpnNlri r;
        r.labels = bgp::LabelStack::One(bgp::MplsLabelField(16 + i));
        r.rd = bgp::RouteDistinguisher::Type0(64512, 1);
        r.prefix.address = bgp::IpAddress::V4(0x0a000000u + i);
        r.prefix.length = 32;
        v.push_back(r);
    }
    return v;
}

TEST_F(ProvidersTest, LocalRoutesRenderedAndPaginated) {
    Build("[BGP]\nlocal_address = 127.0.74.1\nmy_as = 64512\n");
    speaker_->Announce(bgp::Family::kIpv4Vpn, bgp::NlriList(VpnRoutes(2500)), VpnAttrs(),
                       bgp::NextHop{bgp::IpAddress::V4(0x7f004a01), {}});
    Run(50ms);
    ASSERT_EQ(speaker_->rib().RouteCount(bgp::Family::kIpv4Vpn), 2500u);

    EXPECT_EQ(Fetch("/looking-glass")["summary"]["route_counts"]["local_routes_count"], 2500);
    // Too many to inline: a link with the count.
    json routes = Fetch("/looking-glass/bgp/routes");
    EXPECT_EQ(routes["ipv4/mpls-vpn,*"]["count"], 2500);
    EXPECT_EQ(routes["ipv4/mpls-vpn,*"]["href"],
              "http://127.0.74.1:8082/looking-glass/bgp/routes/ipv4-vpn");

    json page = Fetch("/looking-glass/bgp/routes/ipv4-vpn");
    EXPECT_EQ(page["count"], 2500);
    ASSERT_EQ(page["items"].size(), 1000u);
    const json& first = page["items"][0];
    ASSERT_EQ(first.size(), 1u);
    const json& route = first.begin().value();
    EXPECT_EQ(route["afi-safi"], "ipv4/mpls-vpn");
    EXPECT_EQ(route["next_hop"], "127.0.74.1");
    EXPECT_EQ(route["source"], json::parse(R"({"id": "local"})"));
    EXPECT_EQ(route["route_targets"], json::parse(R"(["target:64512:512"])"));
    EXPECT_EQ(route["attributes"]["local-preference"], "200");
    EXPECT_EQ(route["attributes"]["extended-community"], "[ target:64512:512 encap:MPLS ]");
    EXPECT_FALSE(route["attributes"].contains("origin"));
    ASSERT_EQ(route["labels"].size(), 1u);
    EXPECT_GE(route["labels"][0].get<uint32_t>(), 16u);  // label values, not raw fields
    EXPECT_LT(route["labels"][0].get<uint32_t>(), 16u + 2500u);

    // Walk every page: each route exactly once.
    std::set<std::string> keys;
    std::string next = "/looking-glass/bgp/routes/ipv4-vpn?limit=700";
    int pages = 0;
    while (!next.empty() && pages++ < 20) {
        json j = Fetch(next);
        for (const auto& item : j["items"]) EXPECT_TRUE(keys.insert(item.begin().key()).second);
        next.clear();
        if (j.contains("next")) {
            const std::string href = j["next"]["href"];
            next = href.substr(href.find("/looking-glass"));
        }
    }
    EXPECT_EQ(pages, 4);
    EXPECT_EQ(keys.size(), 2500u);
    // The original's key works too (percent-encoded slash).
    EXPECT_EQ(Fetch("/looking-glass/bgp/routes/ipv4%2Fmpls-vpn,*?limit=1")["count"], 2500);
    Fetch("/looking-glass/bgp/routes/no-such-family", 404);

    // The state file renders through the shared route function.
    json state = daemon::SpeakerStateJson(*speaker_, 10000);
    ASSERT_EQ(state["routes"].size(), 2500u);
    EXPECT_EQ(state["routes"][0]["peer"], "local");
    EXPECT_EQ(state["routes"][0]["route_targets"], json::parse(R"(["64512:512"])"));
    EXPECT_EQ(state["routes"][0]["local_pref"], 200);
}

TEST_F(ProvidersTest, LogsNewestFirst) {
    Build("[BGP]\nlocal_address = 127.0.74.1\nmy_as = 64512\n");
    auto logger = std::make_shared<spdlog::logger>("lg-test", ring_->sink());
    logger->set_level(spdlog::level::debug);
    logger->info("first {}", 1);
    logger->warn("second");
    logger->error("third");
    json logs = Fetch("/looking-glass/logs");
    ASSERT_EQ(logs.size(), 3u);
    EXPECT_EQ(logs[0]["message"], "third");
    EXPECT_EQ(logs[0]["level"], "ERROR");
    EXPECT_EQ(logs[1]["level"], "WARNING");
    EXPECT_EQ(logs[2]["message"], "first 1");
    EXPECT_EQ(logs[2]["name"], "lg-test");
    EXPECT_EQ(logs[2]["time"].get<std::string>().size(), 19u);
    EXPECT_EQ(Fetch("/looking-glass/summary/warnings_and_errors"), 2);
}

TEST(RouteJsonTest, OriginalFamilyNames) {
    EXPECT_EQ(OriginalFamilyName(bgp::Family::kIpv4Vpn), "ipv4/mpls-vpn");
    EXPECT_EQ(OriginalFamilyName(bgp::Family::kL2vpnEvpn), "l2vpn/evpn");
    EXPECT_EQ(OriginalFamilyName(bgp::Family::kIpv4Rtc), "ipv4/rtc");
    EXPECT_EQ(OriginalFamilyName(bgp::Family::kIpv4FlowspecVpn), "ipv4/flow-vpn");
    EXPECT_EQ(OriginalFamilyTuple(bgp::Family::kIpv4Vpn), "(ipv4, mpls-vpn)");
    EXPECT_EQ(OriginalFamilyTuple(bgp::Family::kL2vpnEvpn), "(l2vpn, evpn)");
}

}  // namespace
}  // namespace bagpipe::api
