#include "api/route_json.h"

#include <fmt/format.h>

#include <cctype>

#include "bgp/json/message_json.h"
#include "bgp/wire/attributes.h"

namespace bagpipe::api {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

std::string NextHopString(const bgp::AttrEntry& e) {
    const bgp::PathAttributes& a = e.attributes();
    if (!e.next_hop().global.empty()) return e.next_hop().global.ToString();
    if (a.has(bgp::attr::kNextHop)) return a.next_hop.ToString();
    return "";
}

std::string Upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// "target:64512:512", "encap:VXLAN", "mac-mobility:seq 3", ...
std::string OriginalExtCommunity(const bgp::ExtCommunity& c) {
    if (c.is_route_target()) return "target:" + c.AdminValueString();
    if (c.is_encapsulation()) return "encap:" + Upper(c.ValueString());
    const std::string v = c.ValueString();
    return v.empty() ? std::string(c.Name()) : fmt::format("{}:{}", c.Name(), v);
}

std::string Bracketed(const std::vector<std::string>& items) {
    std::string out = "[";
    for (const auto& i : items) out += " " + i;
    return out + " ]";
}

ordered_json Attributes(const bgp::PathAttributes& a) {
    ordered_json out = ordered_json::object();
    for (size_t code = 0; code < 256; ++code) {
        if (!a.has(static_cast<uint8_t>(code))) continue;
        switch (code) {
            case bgp::attr::kOrigin:
            case bgp::attr::kAsPath:
            case bgp::attr::kNextHop:
            case bgp::attr::kMpReach:
            case bgp::attr::kMpUnreach: continue;
            case bgp::attr::kLocalPref:
                out["local-preference"] = std::to_string(a.local_pref);
                continue;
            case bgp::attr::kMed: out["multi-exit-disc"] = std::to_string(a.med); continue;
            case bgp::attr::kOriginatorId:
                out["originator-id"] = a.originator_id.ToString();
                continue;
            case bgp::attr::kClusterList: {
                std::vector<std::string> ids;
                for (uint32_t c : a.cluster_list) ids.push_back(bgp::IpAddress::V4(c).ToString());
                out["cluster-list"] = Bracketed(ids);
                continue;
            }
            case bgp::attr::kCommunities: {
                std::vector<std::string> cs;
                for (uint32_t c : a.communities) cs.push_back(bgp::CommunityString(c));
                out["community"] = Bracketed(cs);
                continue;
            }
            case bgp::attr::kExtCommunities: {
                std::vector<std::string> cs;
                for (const auto& c : a.ext_communities) cs.push_back(OriginalExtCommunity(c));
                out["extended-community"] = Bracketed(cs);
                continue;
            }
            default: break;
        }
        std::string name(bgp::AttributeName(static_cast<uint8_t>(code)));
        if (name.empty()) name = fmt::format("attribute-{}", code);
        for (char& c : name)
            c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out[name] =
            ordered_json(bgp::AttributeValueToJson(a, static_cast<uint8_t>(code), {}));
    }
    return out;
}

std::string KeyText(const bgp::RouteKey& key) {
    std::string s = key.ToString();
    const std::string_view fam = bgp::FamilyName(key.family());
    if (s.size() > fam.size() && s.compare(0, fam.size(), fam) == 0 && s[fam.size()] == ' ')
        s.erase(0, fam.size() + 1);
    return s;
}

}  // namespace

json RouteJson(const bgp::RouteKey& key, const bgp::Path& path, std::string peer) {
    json r;
    r["family"] = std::string(bgp::FamilyName(key.family()));
    r["key"] = key.ToString();
    const bgp::PathAttributes& a = path.attributes().attributes();
    r["next_hop"] = NextHopString(path.attributes());
    json labels = json::array();
    const bgp::LabelStack ls = path.labels();
    for (size_t i = 0; i < ls.count; ++i) labels.push_back(ls.raw[i]);
    r["labels"] = labels;
    r["peer"] = std::move(peer);
    json rts = json::array();
    json ext = json::array();
    for (const auto& c : a.ext_communities) {
        if (c.is_route_target())
            rts.push_back(c.AdminValueString());
        else
            ext.push_back(fmt::format("{}:{}", c.Name(), c.ValueString()));
    }
    r["route_targets"] = rts;
    r["ext_communities"] = ext;
    if (a.has(bgp::attr::kOriginatorId)) r["originator_id"] = a.originator_id.ToString();
    if (a.has(bgp::attr::kClusterList)) {
        json cl = json::array();
        for (uint32_t c : a.cluster_list) cl.push_back(bgp::IpAddress::V4(c).ToString());
        r["cluster_list"] = cl;
    }
    if (a.has(bgp::attr::kLocalPref)) r["local_pref"] = a.local_pref;
    if (a.has(bgp::attr::kMed)) r["med"] = a.med;
    r["stale"] = path.stale();
    return r;
}

ordered_json LgRouteJson(const bgp::RouteKey& key, const bgp::Path& path, ordered_json source) {
    return LgRouteJson(key, path.attributes(), path.labels(), path.stale(), std::move(source));
}

ordered_json LgRouteJson(const bgp::RouteKey& key, const bgp::AttrEntry& entry,
                         const bgp::LabelStack& ls, bool stale, ordered_json source) {
    const bgp::PathAttributes& a = entry.attributes();
    ordered_json r;
    r["afi-safi"] = OriginalFamilyName(key.family());
    r["attributes"] = Attributes(a);
    r["next_hop"] = NextHopString(entry);
    r["source"] = std::move(source);
    const bgp::Family f = key.family();
    if (f == bgp::Family::kIpv4Vpn || f == bgp::Family::kIpv6Vpn ||
        f == bgp::Family::kL2vpnEvpn || f == bgp::Family::kIpv4FlowspecVpn ||
        f == bgp::Family::kIpv6FlowspecVpn) {
        ordered_json rts = ordered_json::array();
        for (const auto& c : a.ext_communities)
            if (c.is_route_target()) rts.push_back("target:" + c.AdminValueString());
        r["route_targets"] = rts;
    }
    // MPLS label values; for E-VPN the 24-bit label field as is (a VNI with
    // VXLAN, RFC 8365).
    ordered_json labels = ordered_json::array();
    for (size_t i = 0; i < ls.count; ++i)
        labels.push_back(f == bgp::Family::kL2vpnEvpn ? ls.raw[i]
                                                      : bgp::LabelFromField(ls.raw[i]));
    r["labels"] = labels;
    if (a.has(bgp::attr::kOriginatorId)) r["originator_id"] = a.originator_id.ToString();
    if (a.has(bgp::attr::kClusterList)) {
        ordered_json cl = ordered_json::array();
        for (uint32_t c : a.cluster_list) cl.push_back(bgp::IpAddress::V4(c).ToString());
        r["cluster_list"] = cl;
    }
    if (stale) r["stale"] = true;
    return ordered_json{{KeyText(key), std::move(r)}};
}

std::string OriginalFamilyName(bgp::Family f) {
    switch (f) {
        case bgp::Family::kIpv4Unicast: return "ipv4/unicast";
        case bgp::Family::kIpv6Unicast: return "ipv6/unicast";
        case bgp::Family::kIpv4Labeled: return "ipv4/nlri-mpls";
        case bgp::Family::kIpv6Labeled: return "ipv6/nlri-mpls";
        case bgp::Family::kIpv4Vpn: return "ipv4/mpls-vpn";
        case bgp::Family::kIpv6Vpn: return "ipv6/mpls-vpn";
        case bgp::Family::kL2vpnEvpn: return "l2vpn/evpn";
        case bgp::Family::kIpv4Rtc: return "ipv4/rtc";
        case bgp::Family::kIpv4FlowspecVpn: return "ipv4/flow-vpn";
        case bgp::Family::kIpv6FlowspecVpn: return "ipv6/flow-vpn";
        default: return std::string(bgp::FamilyName(f));
    }
}

std::string OriginalFamilyTuple(bgp::Family f) {
    const std::string n = OriginalFamilyName(f);
    const size_t slash = n.find('/');
    if (slash == std::string::npos) return "(" + n + ")";
    return "(" + n.substr(0, slash) + ", " + n.substr(slash + 1) + ")";
}

}  // namespace bagpipe::api
