// Independent cross-check of the codec against Wireshark's BGP dissector.
//
// Every message of the sample corpus (sample_messages.h: every family, every
// extended community kind, OPEN with every capability, NOTIFICATION, ROUTE-
// REFRESH), plus the bagpipe-bgp reference captures when present, is written
// as one TCP stream to port 179 (text2pcap -T 40000,179, one message per
// segment), dissected by one tshark run, and tshark's fields are compared with
// our own decode of the same bytes (through MessageToJson): message type and
// length, capability codes and values, attribute codes and flags, AFI/SAFI,
// next hops, prefixes, RDs, labels, EVPN fields, MACs, IPs, route targets,
// extended community types, subtypes and values, PMSI, NOTIFICATION and
// ROUTE-REFRESH fields.
//
// tshark is run with -T pdml rather than -T json: tshark 4.0 dissects a VPNv6
// NLRI as a single bgp.label_stack field whose RD and prefix are only in its
// display label ("showname"), which PDML keeps and JSON drops.
//
// tshark is required: the test fails (it does not skip) when tshark or
// text2pcap is missing; scripts/test installs them (Debian package tshark).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bgp/json/message_json.h"
#include "capture_files.h"
#include "sample_messages.h"

namespace bagpipe::bgp {
namespace {

using nlohmann::json;
using json_test::Sample;

// ---------------------------------------------------------------------------
// Running tshark and reading PDML.

struct Field {
    std::string name, show, showname, value;
};

struct Packet {
    int bgp_messages = 0;
    std::vector<Field> bgp;  // the fields of the BGP layer, in order
    bool malformed = false;
    std::vector<std::string> errors;  // expert infos of severity Error
};

std::string RunCommand(const std::string& command, int& status) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (p == nullptr) {
        status = -1;
        return out;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    status = pclose(p);
    return out;
}

std::string XmlUnescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out += s[i];
            continue;
        }
        size_t semi = s.find(';', i);
        if (semi == std::string_view::npos) {
            out += s[i];
            continue;
        }
        std::string_view ent = s.substr(i + 1, semi - i - 1);
        if (ent == "quot") out += '"';
        else if (ent == "amp") out += '&';
        else if (ent == "lt") out += '<';
        else if (ent == "gt") out += '>';
        else if (ent == "apos") out += '\'';
        else if (!ent.empty() && ent[0] == '#') {
            long cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                          ? std::strtol(std::string(ent.substr(2)).c_str(), nullptr, 16)
                          : std::strtol(std::string(ent.substr(1)).c_str(), nullptr, 10);
            if (cp < 0x80) out += static_cast<char>(cp);
            else out += '?';
        } else {
            out.append(s.substr(i, semi - i + 1));
        }
        i = semi;
    }
    return out;
}

std::string Attr(std::string_view line, std::string_view key) {
    std::string pat = fmt::format(" {}=\"", key);
    size_t at = line.find(pat);
    if (at == std::string_view::npos) return {};
    at += pat.size();
    size_t end = line.find('"', at);
    if (end == std::string_view::npos) return {};
    return XmlUnescape(line.substr(at, end - at));
}

// One Packet per <packet>; fields of <proto name="bgp"> in document order.
std::vector<Packet> ParsePdml(const std::string& pdml) {
    std::vector<Packet> packets;
    std::istringstream in(pdml);
    std::string line;
    bool in_bgp = false;
    std::string last_expert;
    while (std::getline(in, line)) {
        if (line.find("<packet>") != std::string::npos) {
            packets.emplace_back();
            in_bgp = false;
            continue;
        }
        if (packets.empty()) continue;
        Packet& p = packets.back();
        if (line.find("<proto ") != std::string::npos) {
            std::string name = Attr(line, "name");
            if (name == "bgp") {
                in_bgp = true;
                ++p.bgp_messages;
            } else if (name == "_ws.malformed") {
                p.malformed = true;
            }
            continue;
        }
        if (line.find("</proto>") != std::string::npos) {
            in_bgp = false;
            continue;
        }
        if (line.find("<field ") == std::string::npos) continue;
        Field f{Attr(line, "name"), Attr(line, "show"), Attr(line, "showname"),
                Attr(line, "value")};
        if (f.name == "_ws.malformed") p.malformed = true;
        if (f.name == "_ws.expert.message") last_expert = f.show;
        if (f.name == "_ws.expert.severity" && f.show == "8388608")  // PI_ERROR
            p.errors.push_back(last_expert);
        if (in_bgp) p.bgp.push_back(std::move(f));
    }
    return packets;
}

// ---------------------------------------------------------------------------
// Field lists: name -> values in order. Pseudo names (starting with '=')
// gather values tshark spreads over several field names.

using FieldLists = std::map<std::string, std::vector<std::string>>;

std::string Hex8(unsigned v) { return fmt::format("0x{:02x}", v); }

// "Route Distinguisher: 0001c00002010002 (192.0.2.1:2)" -> "192.0.2.1:2".
std::string ParenthesizedTail(const std::string& s) {
    size_t open = s.rfind('(');
    size_t close = s.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return s;
    return s.substr(open + 1, close - open - 1);
}

bool StartsWith(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

FieldLists ActualFields(const Packet& p) {
    FieldLists out;
    std::string pending_admin;
    for (const Field& f : p.bgp) {
        const std::string& n = f.name;
        if (n == "bgp.evpn.nlri.rd") {
            out[n].push_back(ParenthesizedTail(f.showname));
        } else if (n == "bgp.flowspec_nlri" || n == "bgp.cap.unknown" ||
                   n == "bgp.notify.minor_data") {
            out[n].push_back(f.value);
        } else if (StartsWith(n, "bgp.ext_com.stype_")) {
            out["=ext_com.subtype"].push_back(f.show);
        } else if (n == "bgp.ext_com.value_as2" || n == "bgp.ext_com.value_IP4" ||
                   n == "bgp.ext_com.value_as4") {
            pending_admin = f.show;
        } else if (n == "bgp.ext_com.value_an2" || n == "bgp.ext_com.value_an4") {
            out["=ext_com.admin_value"].push_back(pending_admin + ":" + f.show);
            pending_admin.clear();
        } else if (StartsWith(n, "bgp.notify.minor_error") && n != "bgp.notify.minor_error.unknown") {
            out["=notify.subcode"].push_back(f.show);
        } else if (n == "bgp.label_stack" && StartsWith(f.showname, "Label Stack=")) {
            // VPNv6 in tshark 4.0: the whole NLRI is this field's label.
            out["=vpn6"].push_back(f.showname);
            out[n].push_back(f.show);
        } else {
            out[n].push_back(f.show);
        }
    }
    return out;
}

// What tshark shows as the label stack: "100 (bottom)", "200,300 (bottom)",
// "0 (withdrawn)".
std::string LabelStackText(const json& labels) {
    if (labels.size() == 1 && (labels[0] == 0x800000 || labels[0] == 0)) return "0 (withdrawn)";
    std::string s;
    bool bottom = false;
    for (size_t i = 0; i < labels.size(); ++i) {
        uint32_t raw = labels[i].get<uint32_t>();
        if (i) s += ",";
        s += std::to_string(raw >> 4);
        bottom = raw & 1;
    }
    if (bottom) s += " (bottom)";
    return s;
}

class Expectation {
public:
    FieldLists fields;
    std::set<std::string> ignored;
    // tshark cannot dissect part of the message right (then it may well call it
    // malformed): ADD-PATH outside IPv4 unicast.
    bool tshark_misreads = false;

private:
    // tshark 4.0 shows EVPN and PMSI labels as VNIs (raw 24 bits, field
    // bgp.evpn.nlri.vni) once the message has shown a VXLAN or VXLAN-GPE
    // encapsulation extended community, else as MPLS labels.
    bool vxlan_ = false;

public:

    void Add(const std::string& name, const std::string& value) { fields[name].push_back(value); }
    void AddS(const std::string& name, const json& value) {
        fields[name].push_back(value.get<std::string>());
    }
    template <typename T>
    void AddNum(const std::string& name, T v) {
        fields[name].push_back(fmt::format("{}", v));
    }

    void Message(const json& j) {
        AddNum("bgp.type", j["type_code"].get<int>());
        AddNum("bgp.length", j["length"].get<int>());
        const std::string type = j["type"].is_string() ? j["type"].get<std::string>() : "";
        if (type == "OPEN") Open(j);
        if (type == "UPDATE") Update(j);
        if (type == "NOTIFICATION") Notification(j);
        if (type == "ROUTE-REFRESH") {
            AddNum("bgp.route_refresh.afi", j["afi"].get<int>());
            AddNum("bgp.route_refresh.subtype", j["subtype"].get<int>());
            AddNum("bgp.route_refresh.safi", j["safi"].get<int>());
        }
    }

private:
    void Open(const json& j) {
        AddNum("bgp.open.version", j["version"].get<int>());
        AddNum("bgp.open.myas", j["my_as"].get<int>());
        AddNum("bgp.open.holdtime", j["hold_time"].get<int>());
        AddS("bgp.open.identifier", j["bgp_id"]);
        for (const auto& c : j["capabilities"]) {
            const int code = c["code"];
            AddNum("bgp.cap.type", code);
            switch (code) {
                case cap::kMultiprotocol:
                    AddNum("bgp.cap.mp.afi", c["afi"].get<int>());
                    AddNum("bgp.cap.mp.safi", c["safi"].get<int>());
                    break;
                case cap::kFourOctetAs:
                    AddNum("bgp.cap.4as", c["asn"].get<uint32_t>());
                    break;
                case cap::kAddPath:
                    for (const auto& f : c["families"]) {
                        AddNum("bgp.cap.ap.afi", f["afi"].get<int>());
                        AddNum("bgp.cap.ap.safi", f["safi"].get<int>());
                        const std::string sr = f["send_receive"];
                        AddNum("bgp.cap.ap.sendreceive",
                               sr == "receive" ? 1 : sr == "send" ? 2 : 3);
                    }
                    break;
                case cap::kGracefulRestart:
                    AddNum("bgp.cap.gr.timers.restart_time", c["restart_time"].get<int>());
                    Add("bgp.cap.gr.timers.restart_flag", c["restart_state"].get<bool>() ? "1" : "0");
                    for (const auto& f : c["families"]) {
                        AddNum("bgp.cap.gr.afi", f["afi"].get<int>());
                        AddNum("bgp.cap.gr.safi", f["safi"].get<int>());
                        Add("bgp.cap.gr.flag", Hex8(f["flags"].get<unsigned>()));
                    }
                    break;
                case cap::kExtendedNextHop:
                    for (const auto& f : c["families"]) {
                        AddNum("bgp.cap.enh.afi", f["afi"].get<int>());
                        AddNum("bgp.cap.enh.safi", f["safi"].get<int>());
                        AddNum("bgp.cap.enh.nhafi", f["next_hop_afi"].get<int>());
                    }
                    break;
                case cap::kFqdn:
                    AddS("bgp.cap.orf.fqdn.hostname", c["hostname"]);
                    AddS("bgp.cap.orf.fqdn.domain_name", c["domain"]);
                    break;
                case cap::kLongLivedGr:  // not dissected by tshark 4.0
                    AddS("bgp.cap.unknown", c["value"]);
                    break;
                default:
                    break;
            }
        }
    }

    void Notification(const json& j) {
        AddNum("bgp.notify.major_error", j["code"].get<int>());
        AddNum("=notify.subcode", j["subcode"].get<int>());
        if (j.contains("shutdown_communication"))
            AddS("bgp.notify.communication", j["shutdown_communication"]);
        else if (!j["data"].get<std::string>().empty())
            AddS("bgp.notify.minor_data", j["data"]);
    }

    void Update(const json& j) {
        for (const auto& w : j["withdrawn"]) InetClassic("bgp.withdrawn_prefix", w);
        Attributes(j["attributes"]);
        for (const auto& n : j["nlri"]) InetClassic("bgp.nlri_prefix", n);
    }

    void InetClassic(const std::string& field, const json& n) {
        const Prefix p = Prefix::Parse(n["prefix"].get<std::string>()).value();
        if (n.contains("path_id")) AddNum("bgp.nlri_path_id", n["path_id"].get<uint32_t>());
        Add(field, p.address.ToString());
        AddNum("bgp.prefix_length", p.length);
    }

    void Attributes(const json& attrs) {
        for (const auto& a : attrs) {
            const int code = a["code"];
            AddNum("bgp.update.path_attribute.type_code", code);
            Add("bgp.update.path_attribute.flags", Hex8(a["flags"].get<unsigned>()));
            Attribute(code, a["value"]);
        }
    }

    void Attribute(int code, const json& v) {
        const std::string pa = "bgp.update.path_attribute.";
        switch (code) {
            case attr::kOrigin: {
                const std::string o = v;
                Add(pa + "origin", o == "igp" ? "0" : o == "egp" ? "1" : "2");
                break;
            }
            case attr::kAsPath:
                for (const auto& seg : v) {
                    const std::string t = seg["type"];
                    Add(pa + "as_path_segment.type", t == "set"                ? "1"
                                                     : t == "sequence"         ? "2"
                                                     : t == "confed-sequence" ? "3"
                                                                              : "4");
                    for (const auto& asn : seg["asns"])
                        AddNum(pa + "as_path_segment.as4", asn.get<uint32_t>());
                }
                break;
            case attr::kNextHop: Add(pa + "next_hop", v); break;
            case attr::kMed: AddNum(pa + "multi_exit_disc", v.get<uint32_t>()); break;
            case attr::kLocalPref: AddNum(pa + "local_pref", v.get<uint32_t>()); break;
            case attr::kAggregator:
                AddNum(pa + "aggregator_as", v["asn"].get<uint32_t>());
                AddS(pa + "aggregator_origin", v["address"]);
                break;
            case attr::kCommunities:
                for (const auto& c : v) {
                    const std::string s = c;
                    const size_t colon = s.find(':');
                    const uint32_t hi = std::stoul(s.substr(0, colon));
                    const uint32_t lo = std::stoul(s.substr(colon + 1));
                    if (hi == 0xffff) {
                        Add(pa + "community_wellknown", fmt::format("0x{:08x}", hi << 16 | lo));
                    } else {
                        AddNum(pa + "community_as", hi);
                        AddNum(pa + "community_value", lo);
                    }
                }
                break;
            case attr::kOriginatorId: Add(pa + "originator_id", v); break;
            case attr::kClusterList:
                for (const auto& id : v) AddS("bgp.path_attribute.cluster_id", id);
                break;
            case attr::kLargeCommunities:
                for (const auto& c : v) {
                    const std::string s = c;
                    const size_t c1 = s.find(':'), c2 = s.find(':', c1 + 1);
                    Add("bgp.large_communities.ga", s.substr(0, c1));
                    Add("bgp.large_communities.ldp1", s.substr(c1 + 1, c2 - c1 - 1));
                    Add("bgp.large_communities.ldp2", s.substr(c2 + 1));
                }
                break;
            case attr::kExtCommunities:
                for (const auto& c : v) ExtCommunity(c);
                break;
            case attr::kPmsiTunnel:
                AddNum(pa + "pmsi.tunnel.flags", v["flags"].get<int>());
                AddNum(pa + "pmsi.tunnel.type", v["tunnel_type"].get<int>());
                if (vxlan_)
                    AddNum("bgp.evpn.nlri.vni", v["label"].get<uint32_t>());
                else
                    AddNum(pa + "mpls_label_value_20bits", v["label_value"].get<uint32_t>());
                if (v["tunnel_type"] == PmsiTunnel::kIngressReplication)
                    AddS(pa + "pmsi.ingress_rep_ip", v["tunnel_id"]);
                break;
            case attr::kAttrSet:
                AddNum(pa + "attr_set.origin_as", v["origin_as"].get<uint32_t>());
                Attributes(v["attributes"]);
                break;
            case attr::kMpReach: MpReach(v, false); break;
            case attr::kMpUnreach: MpReach(v, true); break;
            default: break;
        }
    }

    void ExtCommunity(const json& c) {
        Add("bgp.ext_com.type", Hex8(c["type"].get<unsigned>()));
        Add("=ext_com.subtype", Hex8(c["subtype"].get<unsigned>()));
        const std::string name = c["name"];
        if (name == "route-target" || name == "route-origin" || name == "redirect-to-vrf")
            AddS("=ext_com.admin_value", c["value"]);
        else if (name == "encapsulation") {
            const int t = c["tunnel_type"];
            AddNum("bgp.ext_com.tunnel_type", t);
            vxlan_ = t == static_cast<int>(TunnelType::kVxlan) ||
                     t == static_cast<int>(TunnelType::kVxlanGpe);
        }
        else if (name == "mac-mobility") {
            Add("bgp.ext_com_evpn.mmac.flags", c["sticky"].get<bool>() ? "0x01" : "0x00");
            AddNum("bgp.ext_com_evpn.mmac.seq", c["sequence"].get<uint32_t>());
        } else if (name == "esi-label") {
            Add("bgp.ext_com_l2.esi_label_flag", c["single_active"].get<bool>() ? "1" : "0");
            AddNum("bgp.update.path_attribute.mpls_label_value", c["label"].get<uint32_t>());
            AddNum("bgp.update.path_attribute.mpls_label_value_20bits",
                   c["label_value"].get<uint32_t>());
        } else if (name == "es-import")
            AddS("bgp.ext_com_evpn.esi.rt", c["mac"]);
        else if (name == "routers-mac")
            AddS("bgp.ext_com_evpn.esi.router_mac", c["mac"]);
    }

    void MpReach(const json& v, bool unreach) {
        const std::string mp = unreach ? "mp_unreach_nlri" : "mp_reach_nlri";
        const std::string pa = "bgp.update.path_attribute." + mp;
        AddNum(pa + ".afi", v["afi"].get<int>());
        AddNum(pa + ".safi", v["safi"].get<int>());
        const std::string family = v["family"];
        if (v.contains("raw")) {
            // A family the codec keeps raw: only AFI/SAFI are compared.
            for (const char* name :
                 {"bgp.prefix_length", "bgp.flowspec_nlri",
                  "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv4",
                  "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6",
                  "bgp.update.path_attribute.mp_reach_nlri.next_hop.ipv6.link_local"})
                ignored.insert(name);
            return;
        }
        if (!unreach) {
            const json& nh = v["next_hop"];
            for (size_t i = 0; i < nh.size(); ++i) {
                const IpAddress a = IpAddress::Parse(nh[i].get<std::string>()).value();
                AddS(pa + ".next_hop." + (a.is_v4() ? "ipv4" : i == 0 ? "ipv6" : "ipv6.link_local"),
                    nh[i]);
            }
        }
        const std::string pfx_field = fmt::format(
            "bgp.{}_{}_prefix", mp, family.rfind("ipv6", 0) == 0 ? "ipv6" : "ipv4");
        const json& list = unreach ? v["withdrawn"] : v["nlri"];
        if (!list.empty() && list[0].contains("path_id") && family != "ipv4-unicast") {
            // tshark 4.0 detects ADD-PATH path ids in IPv4 unicast NLRI only
            // (a heuristic); elsewhere it reads the path id as NLRI.
            for (const char* name :
                 {"bgp.prefix_length", "bgp.label_stack", "bgp.rd", "=vpn6",
                  "bgp.mp_reach_nlri_ipv4_prefix", "bgp.mp_unreach_nlri_ipv4_prefix",
                  "bgp.mp_reach_nlri_ipv6_prefix", "bgp.mp_unreach_nlri_ipv6_prefix",
                  "bgp.nlri_path_id"})
                ignored.insert(name);
            tshark_misreads = true;
            return;
        }
        for (const auto& n : list) {
            if (family == "ipv4-unicast" || family == "ipv6-unicast") {
                const Prefix p = Prefix::Parse(n["prefix"].get<std::string>()).value();
                if (n.contains("path_id"))
                    AddNum("bgp.nlri_path_id", n["path_id"].get<uint32_t>());
                Add(pfx_field, p.address.ToString());
                AddNum("bgp.prefix_length", p.length);
            } else if (family == "ipv4-labeled" || family == "ipv6-labeled" ||
                       family == "ipv4-vpn") {
                const Prefix p = Prefix::Parse(n["prefix"].get<std::string>()).value();
                Add(pfx_field, p.address.ToString());
                const bool vpn = family == "ipv4-vpn";
                AddNum("bgp.prefix_length", p.length + 24 * n["labels"].size() + (vpn ? 64 : 0));
                Add("bgp.label_stack", LabelStackText(n["labels"]));
                if (vpn) AddS("bgp.rd", n["rd"]);
            } else if (family == "ipv6-vpn") {
                const std::string ls = LabelStackText(n["labels"]);
                Add("bgp.label_stack", ls);
                Add("=vpn6", fmt::format("Label Stack={} RD={}, IPv6={}", ls,
                                         n["rd"].get<std::string>(),
                                         n["prefix"].get<std::string>()));
            } else if (family == "l2vpn-evpn") {
                Evpn(n);
            } else if (family == "ipv4-rtc") {
                if (n["default"].get<bool>()) {
                    Add("bgp.wildcard_route_target", unreach ? "MP Unreach NLRI" : "MP Reach NLRI");
                } else {
                    AddNum("bgp.prefix_length", n["length"].get<int>());
                    AddNum("bgp.originating_as", n["origin_as"].get<uint32_t>());
                    AddS("bgp.community_prefix", n["route_target"]);
                }
            } else if (family == "ipv4-flowspec-vpn" || family == "ipv6-flowspec-vpn") {
                const std::string raw = n["raw"];
                Add("bgp.flowspec_nlri", fmt::format("{:02x}{}", raw.size() / 2, raw));
                ignored.insert("bgp.prefix_length");  // tshark parses the components
            }
        }
    }

    void Evpn(const json& n) {
        const int type = n["route_type"];
        AddNum("bgp.evpn.nlri.rt", type);
        if (type < 1 || type > 5) return;
        AddS("bgp.evpn.nlri.rd", n["rd"]);
        if (n.contains("esi")) AddS("bgp.evpn.nlri.esi", n["esi"]);
        if (n.contains("ethernet_tag"))
            AddNum("bgp.evpn.nlri.etag", n["ethernet_tag"].get<uint32_t>());
        auto ip = [&](const json& addr, const std::string& v4, const std::string& v6) {
            if (addr.is_null()) return;
            const IpAddress a = IpAddress::Parse(addr.get<std::string>()).value();
            AddS(a.is_v4() ? v4 : v6, addr);
        };
        auto label = [&](size_t i) {
            if (vxlan_)
                AddNum("bgp.evpn.nlri.vni", n["labels"][i].get<uint32_t>());
            else
                AddNum(i == 0 ? "bgp.evpn.nlri.mpls_ls1" : "bgp.evpn.nlri.mpls_ls2",
                       n["label_values"][i].get<uint32_t>());
        };
        switch (type) {
            case 1:
                label(0);
                break;
            case 2:
                AddS("bgp.evpn.nlri.mac_addr", n["mac"]);
                ip(n["ip"], "bgp.evpn.nlri.ip.addr", "bgp.evpn.nlri.ipv6.addr");
                for (size_t i = 0; i < n["labels"].size() && i < 2; ++i) label(i);
                break;
            case 3:
            case 4:
                ip(n["originating_ip"], "bgp.evpn.nlri.ip.addr", "bgp.evpn.nlri.ipv6.addr");
                break;
            case 5: {
                const Prefix p = Prefix::Parse(n["prefix"].get<std::string>()).value();
                AddNum("bgp.evpn.nlri.prefix_len", p.length);
                ip(p.address.ToString(), "bgp.evpn.nlri.ip.addr", "bgp.evpn.nlri.ipv6.addr");
                ip(n["gateway_ip"], "bgp.evpn.nlri.ipv4.gtw_addr", "bgp.evpn.nlri.ipv6.gtw_addr");
                AddNum(vxlan_ ? "bgp.evpn.nlri.vni" : "bgp.update.path_attribute.mpls_label_value",
                       n["labels"][0].get<uint32_t>());
                break;
            }
        }
    }
};

// ---------------------------------------------------------------------------

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "bagpipe-tshark.XXXXXX");
        if (mkdtemp(tmpl.data()) != nullptr) path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
};

struct Item {
    std::string name;
    Bytes bytes;
    SessionContext ctx;
};

// The messages of tests/data/captures/*.hex (real implementations), each with
// the context the capture says to decode it with.
std::vector<Item> CapturedMessages() {
    std::vector<Item> out;
    for (const auto& path : json_test::CaptureFiles()) {
        json_test::CaptureFile file = json_test::LoadCapture(path);
        for (auto& m : file.messages)
            out.push_back({fmt::format("{}:{}", path.filename().string(), m.line),
                           std::move(m.bytes), m.ctx});
    }
    return out;
}

bool HaveCommand(const std::string& name) {
    int status = 0;
    RunCommand(fmt::format("command -v {} >/dev/null 2>&1", name), status);
    return status == 0;
}

TEST(TsharkCrossCheck, OurDecodeMatchesWireshark) {
    ASSERT_TRUE(HaveCommand("tshark") && HaveCommand("text2pcap"))
        << "tshark and text2pcap are required for this test (Debian package tshark, "
           "installed by scripts/test)";

    std::vector<Item> samples;
    for (auto& s : json_test::SampleMessages())
        if (s.tshark) samples.push_back({std::move(s.name), std::move(s.bytes), {}});
    for (auto& s : CapturedMessages()) samples.push_back(std::move(s));
    ASSERT_GT(samples.size(), 20u);

    TempDir dir;
    ASSERT_FALSE(dir.path.empty()) << "mkdtemp failed";
    const auto hex_path = dir.path / "messages.txt";
    const auto pcap_path = dir.path / "messages.pcap";
    {
        std::ofstream out(hex_path);
        for (const auto& s : samples) out << HexString(s.bytes) << '\n';
    }
    int status = 0;
    std::string log = RunCommand(
        fmt::format("text2pcap -q -r '^(?<data>[0-9a-fA-F]+)$' -T 40000,179 '{}' '{}' 2>&1",
                    hex_path.string(), pcap_path.string()),
        status);
    ASSERT_EQ(status, 0) << "text2pcap failed: " << log;
    std::string pdml = RunCommand(
        fmt::format("tshark -n -r '{}' -T pdml -o tcp.desegment_tcp_streams:TRUE "
                    "-d tcp.port==179,bgp 2>'{}'",
                    pcap_path.string(), (dir.path / "tshark.err").string()),
        status);
    if (status != 0) {
        std::ifstream err(dir.path / "tshark.err");
        std::stringstream text;
        text << err.rdbuf();
        FAIL() << "tshark failed (status " << status << "): " << text.str();
    }
    std::vector<Packet> packets = ParsePdml(pdml);
    ASSERT_EQ(packets.size(), samples.size());

    // Every field name any message expects is compared on every message.
    std::vector<Expectation> expected(samples.size());
    std::set<std::string> checked;
    std::vector<json> decoded(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
        DecodeResult res = DecodeMessage(samples[i].bytes, samples[i].ctx);
        JsonOptions options;
        options.session = samples[i].ctx;
        options.raw = samples[i].bytes;
        decoded[i] = MessageToJson(res, options);
        EXPECT_TRUE(decoded[i]["error"].is_null())
            << samples[i].name << ": " << DumpJson(decoded[i]["error"]);
        try {
            expected[i].Message(decoded[i]);
        } catch (const std::exception& e) {
            ADD_FAILURE() << samples[i].name << ": unexpected JSON shape (" << e.what()
                          << "): " << DumpJson(decoded[i]);
        }
        for (const auto& [name, values] : expected[i].fields) checked.insert(name);
    }

    size_t compared = 0;
    for (size_t i = 0; i < samples.size(); ++i) {
        SCOPED_TRACE(fmt::format("message {} ({}): {}", i, samples[i].name,
                                 HexString(samples[i].bytes)));
        const Packet& p = packets[i];
        EXPECT_EQ(p.bgp_messages, 1);
        if (!expected[i].tshark_misreads) {
            EXPECT_FALSE(p.malformed) << "tshark: malformed packet";
            for (const auto& e : p.errors) ADD_FAILURE() << "tshark expert error: " << e;
        }
        FieldLists actual = ActualFields(p);
        for (const auto& name : checked) {
            if (expected[i].ignored.count(name)) continue;
            const auto& want = expected[i].fields[name];
            const auto& got = actual[name];
            EXPECT_EQ(got, want) << "field " << name << " (left: tshark, right: ours)\nours: "
                                 << DumpJson(decoded[i]);
            compared += want.size();
        }
    }
    RecordProperty("fields_compared", static_cast<int>(compared));
    RecordProperty("field_names", static_cast<int>(checked.size()));
    // Guards against a silently empty comparison.
    EXPECT_GT(compared, 400u);
    EXPECT_GT(checked.size(), 60u);
}

}  // namespace
}  // namespace bagpipe::bgp
