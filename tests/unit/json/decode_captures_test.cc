// Decodes every message captured from real BGP implementations
// (tests/data/captures/*.hex) and checks the meaning of the original
// bagpipe-bgp's UPDATEs against ExaBGP's decode of the same bytes
// (shared/reference/bagpipe-ref/capture/bagpipe_updates_decoded.txt, imported
// as tests/data/captures/bagpipe-original-updates.hex).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "bgp/json/message_json.h"
#include "capture_files.h"

namespace bagpipe::bgp {
namespace {

using nlohmann::json;

// The word after "<from> -> <to>: " in a "# [i]" comment: OPEN, UPDATE, ...
std::string CommentType(const std::string& comment) {
    size_t arrow = comment.find("->");
    if (arrow == std::string::npos) return {};
    size_t colon = comment.find(": ", arrow);
    if (colon == std::string::npos) return {};
    size_t start = colon + 2;
    size_t end = comment.find_first_of(" \t", start);
    return comment.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(DecodeCaptures, RealImplementationsDecodeWithoutSessionReset) {
    size_t files = 0, messages = 0;
    for (const auto& path : json_test::CaptureFiles()) {
        SCOPED_TRACE(path.filename().string());
        json_test::CaptureFile file = json_test::LoadCapture(path);
        ++files;
        for (const auto& e : file.errors) ADD_FAILURE() << e;
        EXPECT_FALSE(file.messages.empty()) << "no message in " << path;
        for (const auto& m : file.messages) {
            ++messages;
            DecodeResult res = DecodeMessage(m.bytes, m.ctx);
            JsonOptions options;
            options.session = m.ctx;
            options.raw = m.bytes;
            json j = MessageToJson(res, options);
            const std::string where =
                fmt::format("{}:{} {}\n{}", path.filename().string(), m.line, m.comment,
                            DumpJson(j));
            ASSERT_TRUE(res.message.has_value()) << where;
            if (res.error) {
                EXPECT_NE(res.error->action, ErrorAction::kSessionReset) << where;
                EXPECT_NE(res.error->action, ErrorAction::kAfiSafiDisable) << where;
            }
            EXPECT_EQ(j["length"], m.bytes.size()) << where;
            const std::string type = CommentType(m.comment);
            if (!type.empty()) {
                EXPECT_EQ(j["type"], type) << where;
            }
            // Renders without throwing, also for peer-supplied text.
            EXPECT_FALSE(DumpJson(j, 2).empty());
        }
    }
    RecordProperty("capture_files", static_cast<int>(files));
    RecordProperty("capture_messages", static_cast<int>(messages));
}

// Messages of bagpipe-original-updates.hex (bagpipe-bgp 17.0.0, no 4-octet AS
// capability), with ExaBGP 4.2.21's decode.
struct Original {
    const char* hex;
    const char* exabgp;
};
constexpr Original kRtc512 = {
    "ffffffffffffffffffffffffffffffff003e02000000274001010040020040050400000064800e16000184"
    "047f00010100600000fc000002fc0000000200",
    "['rtc 64512:target:64512:512']  origin igp local-preference 100"};
constexpr Original kVpnv4 = {
    "ffffffffffffffffffffffffffffffff005c020000004540010100400200400504000000c8c01010030c00"
    "000000000a0002fc0000000200800e210001800c00000000000000007f000101007800013100017f0001"
    "0100020a000001",
    "['10.0.0.1/32 label 19 next-hop 127.0.1.1 rd 127.0.1.1:2']  origin igp local-preference "
    "200 extended-community [ target:64512:512 encap:MPLS ]"};
constexpr Original kEvpnMulticast = {
    "ffffffffffffffffffffffffffffffff0063020000004c4001010040020040050400000064c01010030c00"
    "00000000080002fc0000000201c0160900060000107f000101800e1c001946047f0001010003110001"
    "7f000101000000000000207f000101",
    "['evpn:multicast::127.0.1.1:0:0:127.0.1.1']  origin igp local-preference 100 "
    "extended-community [ target:64512:513 encap:VXLAN ] pmsi "
    "pmsi:ingressreplication:0:1(16):127.0.1.1"};
constexpr Original kEvpnMacIp = {
    "ffffffffffffffffffffffffffffffff006b02000000544001010040020040050400000064c01010030c00"
    "00000000080002fc0000000201800e30001946047f00010100022500017f00010100000000000000000000"
    "00000000000030525400aabb01200a000101000010",
    "['evpn:macadv::127.0.1.1:0:-:0:52:54:00:AA:BB:01/48:10.0.1.1: label 1 (16)']  origin igp "
    "local-preference 100 extended-community [ target:64512:513 encap:VXLAN ]"};
constexpr Original kVpnv4Withdraw = {
    "ffffffffffffffffffffffffffffffff004e02000000374001010040020040050400000064c01010030c00"
    "000000000a0002fc0000000200800f130001807800016100017f00010100020a000001",
    "[WITHDRAW] ['10.0.0.1/32 label 22 rd 127.0.1.1:2']  origin igp local-preference 100 "
    "extended-community [ target:64512:512 encap:MPLS ]"};
constexpr Original kRtcWithdraw = {
    "ffffffffffffffffffffffffffffffff003802000000214001010040020040050400000064800f10000184"
    "600000fc000002fc0000000201",
    "[WITHDRAW] ['rtc 64512:target:64512:513']  origin igp local-preference 100"};

class BagpipeOriginal : public ::testing::Test {
protected:
    static SessionContext Context() {
        SessionContext ctx;
        ctx.asn4 = false;  // bagpipe-bgp 17.0.0 does not offer the 4-octet AS capability
        return ctx;
    }

    // Decodes `m`, expects no error, returns the JSON and the attribute with
    // code `code` in `attr` (null when absent).
    static json Decode(const Original& m) {
        auto bytes = ParseHex(m.hex);
        EXPECT_TRUE(bytes.has_value());
        if (!bytes) return {};
        DecodeResult res = DecodeMessage(*bytes, Context());
        JsonOptions options;
        options.session = Context();
        options.raw = *bytes;
        json j = MessageToJson(res, options);
        EXPECT_TRUE(j["error"].is_null()) << m.exabgp << "\n" << DumpJson(j, 2);
        EXPECT_EQ(j["type"], "UPDATE");
        return j;
    }

    static json Attr(const json& update, int code) {
        for (const auto& a : update["attributes"])
            if (a["code"] == code) return a;
        return nullptr;
    }

    static std::vector<std::string> ExtCommunityValues(const json& update) {
        std::vector<std::string> out;
        json ec = Attr(update, attr::kExtCommunities);
        if (ec.is_null()) return out;
        for (const auto& c : ec["value"])
            out.push_back(fmt::format("{}={}", c["name"].get<std::string>(),
                                      c["value"].get<std::string>()));
        return out;
    }
};

TEST_F(BagpipeOriginal, CaptureFileHoldsTheseMessages) {
    const auto path = std::filesystem::path(BAGPIPE_SOURCE_DIR) / "tests/data/captures" /
                      "bagpipe-original-updates.hex";
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing (tests/data/captures)";
    json_test::CaptureFile file = json_test::LoadCapture(path);
    EXPECT_FALSE(file.flags_ctx.asn4) << "decode-flags should say --no-asn4";
    std::vector<std::string> hex;
    for (const auto& m : file.messages) hex.push_back(HexString(m.bytes));
    for (const Original* m :
         {&kRtc512, &kVpnv4, &kEvpnMulticast, &kEvpnMacIp, &kVpnv4Withdraw, &kRtcWithdraw}) {
        EXPECT_NE(std::find(hex.begin(), hex.end(), std::string(m->hex)), hex.end())
            << m->exabgp;
    }
}

TEST_F(BagpipeOriginal, RouteTargetConstraint) {
    json j = Decode(kRtc512);
    EXPECT_EQ(Attr(j, attr::kOrigin)["value"], "igp");
    EXPECT_EQ(Attr(j, attr::kLocalPref)["value"], 100);
    EXPECT_EQ(Attr(j, attr::kAsPath)["value"], json::array());
    json mp = Attr(j, attr::kMpReach)["value"];
    EXPECT_EQ(mp["family"], "ipv4-rtc");
    EXPECT_EQ(mp["afi"], 1);
    EXPECT_EQ(mp["safi"], 132);
    EXPECT_EQ(mp["next_hop"], json::array({"127.0.1.1"}));
    ASSERT_EQ(mp["nlri"].size(), 1u);
    EXPECT_EQ(mp["nlri"][0]["length"], 96);
    EXPECT_EQ(mp["nlri"][0]["origin_as"], 64512);
    EXPECT_EQ(mp["nlri"][0]["route_target"], "64512:512");
    EXPECT_EQ(mp["nlri"][0]["default"], false);
}

TEST_F(BagpipeOriginal, Vpnv4Route) {
    json j = Decode(kVpnv4);
    EXPECT_EQ(Attr(j, attr::kLocalPref)["value"], 200);
    json mp = Attr(j, attr::kMpReach)["value"];
    EXPECT_EQ(mp["family"], "ipv4-vpn");
    EXPECT_EQ(mp["next_hop"], json::array({"127.0.1.1"}));
    ASSERT_EQ(mp["nlri"].size(), 1u);
    const json& n = mp["nlri"][0];
    EXPECT_EQ(n["prefix"], "10.0.0.1/32");
    EXPECT_EQ(n["rd"], "127.0.1.1:2");
    EXPECT_EQ(n["label_values"], json::array({19}));
    EXPECT_EQ(n["labels"], json::array({19 << 4 | 1}));
    EXPECT_EQ(ExtCommunityValues(j),
              (std::vector<std::string>{"encapsulation=mpls", "route-target=64512:512"}));
    json ec = Attr(j, attr::kExtCommunities)["value"];
    EXPECT_EQ(ec[0]["tunnel_type"], 10);
    EXPECT_EQ(ec[0]["tunnel"], "mpls");
}

TEST_F(BagpipeOriginal, EvpnInclusiveMulticastWithPmsi) {
    json j = Decode(kEvpnMulticast);
    json mp = Attr(j, attr::kMpReach)["value"];
    EXPECT_EQ(mp["family"], "l2vpn-evpn");
    EXPECT_EQ(mp["afi"], 25);
    EXPECT_EQ(mp["safi"], 70);
    ASSERT_EQ(mp["nlri"].size(), 1u);
    const json& n = mp["nlri"][0];
    EXPECT_EQ(n["route_type"], 3);
    EXPECT_EQ(n["route_type_name"], "inclusive-multicast");
    EXPECT_EQ(n["rd"], "127.0.1.1:0");
    EXPECT_EQ(n["ethernet_tag"], 0);
    EXPECT_EQ(n["originating_ip"], "127.0.1.1");
    json pmsi = Attr(j, attr::kPmsiTunnel);
    ASSERT_FALSE(pmsi.is_null());
    EXPECT_EQ(pmsi["flags"], 0xc0);
    EXPECT_EQ(pmsi["value"]["tunnel_type"], 6);
    EXPECT_EQ(pmsi["value"]["tunnel_type_name"], "ingress-replication");
    EXPECT_EQ(pmsi["value"]["label"], 16);
    EXPECT_EQ(pmsi["value"]["flags"], 0);
    EXPECT_EQ(pmsi["value"]["tunnel_id"], "127.0.1.1");
    EXPECT_EQ(ExtCommunityValues(j),
              (std::vector<std::string>{"encapsulation=vxlan", "route-target=64512:513"}));
    EXPECT_EQ(Attr(j, attr::kExtCommunities)["value"][0]["tunnel_type"], 8);
}

TEST_F(BagpipeOriginal, EvpnMacIpAdvertisement) {
    json j = Decode(kEvpnMacIp);
    json mp = Attr(j, attr::kMpReach)["value"];
    ASSERT_EQ(mp["nlri"].size(), 1u);
    const json& n = mp["nlri"][0];
    EXPECT_EQ(n["route_type"], 2);
    EXPECT_EQ(n["route_type_name"], "mac-ip");
    EXPECT_EQ(n["rd"], "127.0.1.1:0");
    EXPECT_EQ(n["esi"], "00:00:00:00:00:00:00:00:00:00");
    EXPECT_EQ(n["ethernet_tag"], 0);
    EXPECT_EQ(n["mac"], "52:54:00:aa:bb:01");
    EXPECT_EQ(n["ip"], "10.0.1.1");
    EXPECT_EQ(n["labels"], json::array({16}));  // raw 24 bits: VNI 16 for VXLAN
    EXPECT_EQ(ExtCommunityValues(j),
              (std::vector<std::string>{"encapsulation=vxlan", "route-target=64512:513"}));
}

TEST_F(BagpipeOriginal, Withdrawals) {
    json v = Decode(kVpnv4Withdraw);
    EXPECT_TRUE(Attr(v, attr::kMpReach).is_null());
    json mp = Attr(v, attr::kMpUnreach)["value"];
    EXPECT_EQ(mp["family"], "ipv4-vpn");
    ASSERT_EQ(mp["withdrawn"].size(), 1u);
    EXPECT_EQ(mp["withdrawn"][0]["prefix"], "10.0.0.1/32");
    EXPECT_EQ(mp["withdrawn"][0]["rd"], "127.0.1.1:2");
    // bagpipe-bgp withdraws with the announced label (22) rather than 0x800000.
    EXPECT_EQ(mp["withdrawn"][0]["label_values"], json::array({22}));

    json r = Decode(kRtcWithdraw);
    json rmp = Attr(r, attr::kMpUnreach)["value"];
    EXPECT_EQ(rmp["family"], "ipv4-rtc");
    ASSERT_EQ(rmp["withdrawn"].size(), 1u);
    EXPECT_EQ(rmp["withdrawn"][0]["route_target"], "64512:513");
    EXPECT_EQ(rmp["withdrawn"][0]["origin_as"], 64512);
    EXPECT_FALSE(r.contains("end_of_rib"));
}

}  // namespace
}  // namespace bagpipe::bgp
