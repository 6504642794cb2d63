#include "config/config_loader.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <set>
#include <utility>

#include "config/ini_file.h"

namespace bagpipe::config {

using bgp::Family;
using bgp::FamilySet;
using bgp::IpAddress;

std::string_view MaxPrefixActionName(MaxPrefixAction a) {
    return a == MaxPrefixAction::kWarn ? "warn" : "teardown";
}

const PeerConfig* DaemonConfig::FindPeer(const IpAddress& address) const {
    for (const auto& p : peers)
        if (p.address == address) return &p;
    return nullptr;
}

std::vector<std::string> FamilyNames(const FamilySet& families) {
    std::vector<std::string> out;
    for (size_t i = 1; i < bgp::kFamilyCount; ++i)
        if (families.test(i)) out.emplace_back(bgp::FamilyName(static_cast<Family>(i)));
    return out;
}

InterfaceLookup LookupInterfaceIpv4(std::string_view name) {
    InterfaceLookup out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return out;
    for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
        if (it->ifa_name == nullptr || name != it->ifa_name) continue;
        out.exists = true;
        if (it->ifa_addr != nullptr && it->ifa_addr->sa_family == AF_INET && !out.ipv4) {
            const auto* sin = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
            out.ipv4 = IpAddress::V4(reinterpret_cast<const uint8_t*>(&sin->sin_addr.s_addr));
        }
    }
    freeifaddrs(list);
    return out;
}

namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
    text = Trim(text);
    if (text.empty() || text.size() > 20) return std::nullopt;
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return v;
}

// Collects the messages of one load.
class Diagnostics {
public:
    explicit Diagnostics(std::string file) : file_(std::move(file)) {}

    std::string Where(int line) const {
        return line > 0 ? fmt::format("{}:{}", file_, line) : file_;
    }
    void Error(int line, std::string_view message) {
        errors.push_back(fmt::format("{}: {}", Where(line), message));
    }
    void Warning(int line, std::string_view message) {
        warnings.push_back(fmt::format("{}: {}", Where(line), message));
    }

    std::vector<std::string> errors;
    std::vector<std::string> warnings;

private:
    std::string file_;
};

// The options of one section, looked up by name. Reports duplicates when
// built, typed values that do not parse when read, and — at the end — the
// options nobody asked for.
class Section {
public:
    Section(std::string label, const IniSection* sec, Diagnostics& diag)
        : label_(std::move(label)), sec_(sec), diag_(diag) {
        if (sec_ == nullptr) return;
        for (const auto& e : sec_->entries) {
            auto [it, inserted] = first_.emplace(e.key, &e);
            if (!inserted)
                diag_.Error(e.line, fmt::format("{} {}: duplicate option (first set at line {})",
                                                label_, e.key, it->second->line));
        }
    }

    const std::string& label() const { return label_; }
    bool present() const { return sec_ != nullptr; }
    int line() const { return sec_ ? sec_->line : 0; }

    const IniEntry* Get(std::string_view key) {
        used_.emplace(key);
        auto it = first_.find(std::string(key));
        return it == first_.end() ? nullptr : it->second;
    }

    // An option that also has an older name; setting both is an error.
    const IniEntry* GetWithOldName(std::string_view key, std::string_view old_key) {
        const IniEntry* now = Get(key);
        const IniEntry* old = Get(old_key);
        if (now && old) {
            Error(*old, fmt::format("both \"{}\" (line {}) and its old name \"{}\" are set", key,
                                    now->line, old_key));
        }
        return now ? now : old;
    }

    void Error(const IniEntry& e, std::string_view message) {
        diag_.Error(e.line, fmt::format("{} {}: {}", label_, e.key, message));
    }
    void Warning(const IniEntry& e, std::string_view message) {
        diag_.Warning(e.line, fmt::format("{} {}: {}", label_, e.key, message));
    }
    void ErrorAt(std::string_view key, std::string_view message) {
        if (const IniEntry* e = Find(key)) return Error(*e, message);
        diag_.Error(line(), fmt::format("{} {}: {}", label_, key, message));
    }
    void Missing(std::string_view key) {
        diag_.Error(line(), fmt::format("{} {}: required option is missing", label_, key));
    }

    std::optional<bool> Bool(std::string_view key) {
        const IniEntry* e = Get(key);
        if (!e) return std::nullopt;
        auto b = ParseBool(e->value);
        if (!b) Error(*e, fmt::format("\"{}\" is not a boolean (true/false, yes/no, on/off, 1/0)",
                                      e->value));
        return b;
    }

    std::optional<uint64_t> Uint(const IniEntry* e, uint64_t min, uint64_t max,
                                 std::string_view what) {
        if (!e) return std::nullopt;
        auto v = ParseUint(e->value);
        if (!v || *v < min || *v > max) {
            Error(*e, fmt::format("\"{}\" is not {} ({}..{})", e->value, what, min, max));
            return std::nullopt;
        }
        return v;
    }
    std::optional<uint64_t> Uint(std::string_view key, uint64_t min, uint64_t max,
                                 std::string_view what = "an integer") {
        return Uint(Get(key), min, max, what);
    }
    std::optional<uint16_t> Port(std::string_view key) { return Port(Get(key)); }
    std::optional<uint16_t> Port(const IniEntry* e) {
        auto v = Uint(e, 1, 65535, "a port number");
        if (!v) return std::nullopt;
        return static_cast<uint16_t>(*v);
    }
    std::optional<uint32_t> AsNumber(std::string_view key) {
        auto v = Uint(key, 1, 4294967295u, "an AS number");
        if (!v) return std::nullopt;
        return static_cast<uint32_t>(*v);
    }
    std::optional<uint16_t> HoldTime(std::string_view key) {
        const IniEntry* e = Get(key);
        auto v = Uint(e, 0, 65535, "a hold time in seconds");
        if (!v) return std::nullopt;
        if (*v == 1 || *v == 2) {
            Error(*e, fmt::format("\"{}\": the hold time must be 0 or at least 3 seconds "
                                  "(RFC 4271 §4.2)", e->value));
            return std::nullopt;
        }
        return static_cast<uint16_t>(*v);
    }
    std::optional<std::string> String(std::string_view key) {
        const IniEntry* e = Get(key);
        if (!e) return std::nullopt;
        return e->value;
    }
    std::optional<MaxPrefixAction> PrefixAction(std::string_view key) {
        const IniEntry* e = Get(key);
        if (!e) return std::nullopt;
        std::string v = Lower(Trim(e->value));
        if (v == "warn") return MaxPrefixAction::kWarn;
        if (v == "teardown") return MaxPrefixAction::kTeardown;
        Error(*e, fmt::format("\"{}\" is not \"warn\" or \"teardown\"", e->value));
        return std::nullopt;
    }
    std::optional<IpAddress> Ipv4(std::string_view key) {
        const IniEntry* e = Get(key);
        if (!e) return std::nullopt;
        auto a = IpAddress::Parse(Trim(e->value));
        if (!a || !a->is_v4()) {
            Error(*e, fmt::format("\"{}\" is not an IPv4 address", e->value));
            return std::nullopt;
        }
        return a;
    }

    // Entries not looked up by anyone, in file order.
    std::vector<const IniEntry*> Unused() const {
        std::vector<const IniEntry*> out;
        if (!sec_) return out;
        for (const auto& [key, e] : first_)
            if (!used_.contains(key)) out.push_back(e);
        std::sort(out.begin(), out.end(),
                  [](const IniEntry* a, const IniEntry* b) { return a->line < b->line; });
        return out;
    }
    void WarnUnused() {
        for (const IniEntry* e : Unused()) Warning(*e, "unknown option, ignored");
    }

private:
    const IniEntry* Find(std::string_view key) const {
        auto it = first_.find(std::string(key));
        return it == first_.end() ? nullptr : it->second;
    }

    std::string label_;
    const IniSection* sec_;
    Diagnostics& diag_;
    std::map<std::string, const IniEntry*> first_;
    std::set<std::string, std::less<>> used_;
};

class Loader {
public:
    Loader(const IniDocument& doc, const LoadOptions& options)
        : doc_(doc), diag_(doc.file_name), resolve_(options.resolve_interface) {
        if (!resolve_) resolve_ = LookupInterfaceIpv4;
        diag_.errors = doc.errors;
    }

    LoadResult Run() {
        DaemonConfig cfg;
        cfg.source = doc_.file_name;
        ClassifySections();
        LoadDefault(cfg.logging);
        bool bgp_ok = LoadBgp(cfg.bgp);
        LoadApi(cfg.api);
        LoadCommon(cfg.common);
        LoadDataplane("DATAPLANE_DRIVER_IPVPN", "ipvpn", cfg.bgp, cfg.ipvpn);
        LoadDataplane("DATAPLANE_DRIVER_EVPN", "evpn", cfg.bgp, cfg.evpn);
        if (bgp_ok) LoadPeers(cfg);

        LoadResult result;
        result.errors = std::move(diag_.errors);
        result.warnings = std::move(diag_.warnings);
        if (result.errors.empty()) result.config = std::move(cfg);
        return result;
    }

private:
    struct PeerSection {
        IpAddress address;
        const IniSection* section;
    };

    // Sorts the sections into known ones, peer sections and the rest.
    void ClassifySections() {
        static constexpr std::array<std::string_view, 6> kKnown = {
            "DEFAULT", "BGP", "API", "COMMON", "DATAPLANE_DRIVER_IPVPN", "DATAPLANE_DRIVER_EVPN"};
        for (const auto& sec : doc_.sections) {
            if (std::any_of(kKnown.begin(), kKnown.end(),
                            [&](std::string_view k) { return EqualsIgnoreCase(k, sec.name); }))
                continue;
            if (EqualsIgnoreCase(sec.name, "DATAPLANE_DRIVER")) {
                diag_.Warning(sec.line,
                              "[DATAPLANE_DRIVER] is obsolete and ignored: use "
                              "[DATAPLANE_DRIVER_IPVPN] and [DATAPLANE_DRIVER_EVPN] instead");
                continue;
            }
            std::string_view name = sec.name;
            if (name.size() > 8 && EqualsIgnoreCase(name.substr(0, 8), "BGP_PEER") &&
                IsSpace(name[8])) {
                std::string_view text = Trim(name.substr(9));
                auto addr = IpAddress::Parse(text);
                if (!addr) {
                    diag_.Error(sec.line, fmt::format("[{}]: \"{}\" is not an IP address",
                                                      sec.name, text));
                    continue;
                }
                auto dup = std::find_if(peer_sections_.begin(), peer_sections_.end(),
                                        [&](const PeerSection& p) { return p.address == *addr; });
                if (dup != peer_sections_.end()) {
                    diag_.Error(sec.line, fmt::format("[{}]: peer {} already has a section at "
                                                      "line {}", sec.name, addr->ToString(),
                                                      dup->section->line));
                    continue;
                }
                peer_sections_.push_back({*addr, &sec});
                continue;
            }
            diag_.Warning(sec.line, fmt::format("[{}]: unknown section, ignored", sec.name));
        }
    }

    // An IPv4/IPv6 literal, or an interface name standing for its first IPv4.
    std::optional<IpAddress> AddressOrInterface(Section& s, const IniEntry& e,
                                                std::string* interface_name = nullptr) {
        std::string_view text = Trim(e.value);
        if (auto a = IpAddress::Parse(text)) return a;
        bool name_like = !text.empty() && text.size() < 16 &&
                         text.find_first_of("/ \t:") == std::string_view::npos;
        if (name_like) {
            InterfaceLookup found = resolve_(text);
            if (found.exists && found.ipv4) {
                if (interface_name) *interface_name = std::string(text);
                return found.ipv4;
            }
            if (found.exists) {
                s.Error(e, fmt::format("interface \"{}\" has no IPv4 address", text));
                return std::nullopt;
            }
        }
        s.Error(e, fmt::format("\"{}\" is not an IP address or the name of an interface",
                               e.value));
        return std::nullopt;
    }

    // A family list; ipv4-rtc follows enable_rtc. Empty optional on error.
    std::optional<FamilySet> Families(Section& s, const IniEntry& e, bool enable_rtc) {
        FamilySet set;
        bool ok = true;
        for (const auto& name : SplitList(e.value)) {
            auto f = bgp::FamilyFromName(Lower(name));
            if (!f || *f == Family::kUnknown) {
                s.Error(e, fmt::format("\"{}\" is not an address family (one of: {})", name,
                                       fmt::join(FamilyNames(FamilySet().set().reset(0)), ", ")));
                ok = false;
                continue;
            }
            if (*f == Family::kIpv4Rtc && !enable_rtc) {
                s.Error(e, "ipv4-rtc is listed but [BGP] enable_rtc is False");
                ok = false;
                continue;
            }
            set.set(bgp::FamilyIndex(*f));
        }
        if (!ok) return std::nullopt;
        if (enable_rtc) set.set(bgp::FamilyIndex(Family::kIpv4Rtc));
        if (set.none()) {
            s.Error(e, "no address family listed");
            return std::nullopt;
        }
        return set;
    }

    static FamilySet DefaultFamilies(bool enable_rtc) {
        FamilySet set;
        for (Family f : {Family::kIpv4Vpn, Family::kIpv6Vpn, Family::kL2vpnEvpn,
                         Family::kIpv4FlowspecVpn})
            set.set(bgp::FamilyIndex(f));
        if (enable_rtc) set.set(bgp::FamilyIndex(Family::kIpv4Rtc));
        return set;
    }

    void LoadDefault(LoggingConfig& out) {
        // oslo.log options other than the three we use: kept, not warned about.
        static const std::set<std::string, std::less<>> kOsloLog = {
            "config_dir", "config_file", "fatal_deprecations", "instance_format",
            "instance_uuid_format", "log_color", "log_config_append", "log_date_format",
            "log_dir", "log_rotate_interval", "log_rotate_interval_type", "log_rotation_type",
            "logging_context_format_string", "logging_debug_format_suffix",
            "logging_default_format_string", "logging_exception_prefix",
            "logging_user_identity_format", "max_logfile_count", "max_logfile_size_mb",
            "publish_errors", "rate_limit_burst", "rate_limit_except_level",
            "rate_limit_interval", "syslog_log_facility", "use_eventlog", "use_journal",
            "use_json", "use_stderr", "use_syslog", "verbose", "watch_log_file"};
        Section s("[DEFAULT]", doc_.Find("DEFAULT"), diag_);
        if (auto v = s.Bool("debug")) out.debug = *v;
        if (auto v = s.String("log_file")) out.log_file = *v;
        if (auto v = s.String("default_log_levels")) out.default_log_levels = *v;
        for (const IniEntry* e : s.Unused()) {
            out.options[e->key] = e->value;
            if (!kOsloLog.contains(e->key)) s.Warning(*e, "unknown option, ignored");
        }
    }

    bool LoadBgp(BgpConfig& b) {
        Section s("[BGP]", doc_.Find("BGP"), diag_);
        size_t errors_before = diag_.errors.size();
        if (!s.present()) diag_.Error(0, "[BGP]: section is missing");

        // local_address
        bool have_local = false;
        if (const IniEntry* e = s.Get("local_address")) {
            if (auto a = AddressOrInterface(s, *e, &b.local_interface)) {
                b.local_address = *a;
                have_local = true;
            }
        } else {
            s.Missing("local_address");
        }
        if (auto v = s.AsNumber("my_as")) b.my_as = *v;
        else if (!s.Get("my_as")) s.Missing("my_as");

        if (auto v = s.Bool("enable_rtc")) b.enable_rtc = *v;
        if (auto v = s.Port("bgp_port")) b.bgp_port = *v;
        b.listen_port = b.bgp_port;
        if (auto v = s.Port("listen_port")) b.listen_port = *v;
        if (auto v = s.Bool("listen")) b.listen = *v;
        if (auto v = s.Bool("route_reflector")) b.route_reflector = *v;
        // A route reflector in front of clients that do RTC themselves (every
        // compute node) needs rtc_wildcard = True: see docs/route-reflector.md.
        if (auto v = s.Bool("rtc_wildcard")) b.rtc_wildcard = *v;

        // router_id
        if (s.Get("router_id")) {
            if (auto v = s.Ipv4("router_id")) {
                if (v->v4() == 0) s.ErrorAt("router_id", "0.0.0.0 is not a valid router id");
                else b.router_id = *v;
            }
        } else if (have_local && b.local_address.is_v4()) {
            b.router_id = b.local_address;
        } else if (have_local) {
            s.ErrorAt("router_id", "required when local_address is not an IPv4 address");
        }

        // cluster_id: dotted quad or integer; default router_id.
        b.cluster_id = b.router_id.is_v4() ? b.router_id.v4() : 0;
        if (const IniEntry* e = s.Get("cluster_id")) {
            auto a = IpAddress::Parse(Trim(e->value));
            auto n = ParseUint(e->value);
            if (a && a->is_v4()) b.cluster_id = a->v4();
            else if (n && *n <= 4294967295u) b.cluster_id = static_cast<uint32_t>(*n);
            else s.Error(*e, fmt::format("\"{}\" is not an IPv4 address or a 32-bit integer",
                                         e->value));
            if (!b.route_reflector)
                s.Warning(*e, "has no effect unless route_reflector is True");
        }

        if (auto v = s.HoldTime("hold_time")) b.hold_time = *v;
        if (auto v = s.Uint("keepalive_time", 0, 65535, "a time in seconds"))
            b.keepalive_time = static_cast<uint16_t>(*v);
        if (auto v = s.Uint("connect_retry_min", 1, 65535, "a time in seconds"))
            b.connect_retry_min = static_cast<uint32_t>(*v);
        if (auto v = s.Uint("connect_retry_max", 1, 65535, "a time in seconds"))
            b.connect_retry_max = static_cast<uint32_t>(*v);
        if (b.connect_retry_min > b.connect_retry_max)
            s.ErrorAt("connect_retry_min",
                      fmt::format("{} is greater than connect_retry_max ({})",
                                  b.connect_retry_min, b.connect_retry_max));

        b.families = DefaultFamilies(b.enable_rtc);
        if (const IniEntry* e = s.Get("families")) {
            if (auto f = Families(s, *e, b.enable_rtc)) b.families = *f;
        }
        if (auto v = s.Bool("graceful_restart")) b.graceful_restart = *v;
        if (auto v = s.Uint("graceful_restart_time", 0, 4095, "a restart time in seconds"))
            b.graceful_restart_time = static_cast<uint16_t>(*v);
        if (auto v = s.Uint("max_prefix", 0, 4294967295u, "a prefix count"))
            b.max_prefix = static_cast<uint32_t>(*v);
        if (auto v = s.PrefixAction("max_prefix_action")) b.max_prefix_action = *v;
        if (auto v = s.Bool("extended_message")) b.extended_message = *v;
        if (auto v = s.Bool("add_path_receive")) b.add_path_receive = *v;
        if (auto v = s.Uint("output_queue_bytes", 65536, 4294967295u, "a size in bytes"))
            b.output_queue_bytes = *v;

        // Keepalive against the [BGP] hold time (per-peer hold times are
        // checked with their peer).
        if (b.keepalive_time != 0 && b.hold_time != 0 && b.keepalive_time >= b.hold_time)
            s.ErrorAt("keepalive_time", fmt::format("{} is not less than hold_time ({})",
                                                    b.keepalive_time, b.hold_time));

        // peers
        if (const IniEntry* e = s.Get("peers")) {
            for (const auto& item : SplitList(e->value)) {
                auto a = IpAddress::Parse(item);
                if (!a) {
                    s.Error(*e, fmt::format("\"{}\" is not an IP address", item));
                    continue;
                }
                if (std::find(b.peers.begin(), b.peers.end(), *a) != b.peers.end()) {
                    s.Error(*e, fmt::format("{} is listed twice", a->ToString()));
                    continue;
                }
                b.peers.push_back(*a);
            }
        }
        s.WarnUnused();
        return diag_.errors.size() == errors_before;
    }

    void LoadApi(ApiConfig& api) {
        Section s("[API]", doc_.Find("API"), diag_);
        if (const IniEntry* e = s.GetWithOldName("host", "api_host")) {
            std::string_view h = Trim(e->value);
            bool ip = IpAddress::Parse(h).has_value();
            bool hostname = !h.empty() && h.size() <= 253 && h.front() != '-' &&
                            h.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
                                std::string_view::npos;
            if (ip || hostname) api.host = std::string(h);
            else s.Error(*e, fmt::format("\"{}\" is not an IP address or a host name", e->value));
        }
        if (auto v = s.Port(s.GetWithOldName("port", "api_port"))) api.port = *v;
        s.WarnUnused();
    }

    void LoadCommon(CommonConfig& c) {
        Section s("[COMMON]", doc_.Find("COMMON"), diag_);
        if (auto v = s.String("root_helper")) c.root_helper = *v;
        if (auto v = s.String("root_helper_daemon")) c.root_helper_daemon = *v;
        s.WarnUnused();
    }

    void LoadDataplane(std::string_view section, std::string_view vpn_type, const BgpConfig& b,
                       DataplaneDriverConfig& d) {
        Section s(fmt::format("[{}]", section), doc_.Find(section), diag_);
        if (const IniEntry* e = s.Get("dataplane_driver")) {
            std::string_view name = Trim(e->value);
            if (auto c = CanonicalDataplaneDriver(vpn_type, name)) {
                d.driver = *c;
                d.configured_driver = std::string(name);
            } else {
                s.Error(*e, fmt::format("\"{}\" is not a {} dataplane driver (dummy, linux, ovs "
                                        "or a legacy alias of one)",
                                        e->value, vpn_type));
            }
        }
        d.local_address = b.local_address;
        if (const IniEntry* e = s.Get("dataplane_local_address")) {
            if (auto a = AddressOrInterface(s, *e)) d.local_address = *a;
        }
        for (const IniEntry* e : s.Unused()) d.options[e->key] = e->value;
    }

    void LoadPeers(DaemonConfig& cfg) {
        BgpConfig& b = cfg.bgp;
        std::vector<IpAddress> listed = b.peers;
        for (const auto& ps : peer_sections_) {
            if (std::find(b.peers.begin(), b.peers.end(), ps.address) == b.peers.end()) {
                diag_.Warning(ps.section->line,
                              fmt::format("[{}]: {} is not listed in [BGP] peers; added",
                                          ps.section->name, ps.address.ToString()));
                b.peers.push_back(ps.address);
            }
        }
        for (const IpAddress& addr : b.peers) {
            const IniSection* sec = nullptr;
            for (const auto& ps : peer_sections_)
                if (ps.address == addr) sec = ps.section;
            bool in_list = std::find(listed.begin(), listed.end(), addr) != listed.end();
            cfg.peers.push_back(LoadPeer(b, addr, sec, in_list));
        }
    }

    PeerConfig LoadPeer(const BgpConfig& b, const IpAddress& addr, const IniSection* sec,
                        bool in_list) {
        std::string label = sec ? fmt::format("[{}]", sec->name) : "[BGP] peers";
        Section s(label, sec, diag_);
        // Without a section, messages about the peer point at [BGP] peers.
        const IniSection* bgp_sec = doc_.Find("BGP");
        int where = sec ? sec->line : 0;
        if (!sec && bgp_sec) {
            for (const auto& e : bgp_sec->entries)
                if (e.key == "peers") where = e.line;
        }
        auto peer_error = [&](std::string_view msg) {
            diag_.Error(where, fmt::format("{}: peer {}: {}", label, addr.ToString(), msg));
        };

        PeerConfig p;
        p.address = addr;
        p.listed_in_peers = in_list;
        p.name = addr.ToString();
        p.peer_as = b.my_as;
        p.local_address = b.local_address;
        p.port = b.bgp_port;
        p.route_reflector_client = b.route_reflector;
        p.hold_time = b.hold_time;
        p.families = b.families;
        p.max_prefix = b.max_prefix;
        p.max_prefix_action = b.max_prefix_action;

        if (auto v = s.String("name")) {
            if (!Trim(*v).empty()) p.name = std::string(Trim(*v));
        }
        if (auto v = s.AsNumber("as")) p.peer_as = *v;
        if (const IniEntry* e = s.Get("local_address")) {
            if (auto a = AddressOrInterface(s, *e)) p.local_address = *a;
        }
        if (auto v = s.Port("port")) p.port = *v;
        if (auto v = s.Bool("passive")) p.passive = *v;
        if (const IniEntry* e = s.Get("md5_password")) {
            if (e->value.size() > 80)
                s.Error(*e, fmt::format("is {} characters long; TCP-MD5 keys are at most 80",
                                        e->value.size()));
            else p.md5_password = e->value;
        }
        const IniEntry* rrc = s.Get("route_reflector_client");
        if (auto v = s.Bool("route_reflector_client")) p.route_reflector_client = *v;
        if (auto v = s.HoldTime("hold_time")) p.hold_time = *v;
        if (const IniEntry* e = s.Get("families")) {
            if (auto f = Families(s, *e, b.enable_rtc)) p.families = *f;
        }
        if (auto v = s.Uint("max_prefix", 0, 4294967295u, "a prefix count"))
            p.max_prefix = static_cast<uint32_t>(*v);
        if (auto v = s.PrefixAction("max_prefix_action")) p.max_prefix_action = *v;
        s.WarnUnused();

        // Cross-checks.
        if (p.address == p.local_address || p.address == b.local_address)
            peer_error("is the local address");
        if (p.address.version != p.local_address.version)
            peer_error(fmt::format("is IPv{} but the local address {} is IPv{}; set "
                                   "local_address in [BGP_PEER {}]",
                                   p.address.version, p.local_address.ToString(),
                                   p.local_address.version, addr.ToString()));
        if (p.route_reflector_client && rrc && !b.route_reflector)
            s.Error(*rrc, "requires [BGP] route_reflector = True");
        if (p.route_reflector_client && p.peer_as != b.my_as) {
            if (rrc) s.Error(*rrc, fmt::format("requires an iBGP peer (as {} is not my_as {})",
                                               p.peer_as, b.my_as));
            // Inherited from [BGP] route_reflector: eBGP peers are simply not clients.
            else p.route_reflector_client = false;
        }
        if (p.passive && !b.listen)
            s.ErrorAt("passive", "a passive peer needs [BGP] listen = True");
        if (p.hold_time == 0) {
            p.keepalive_time = 0;
        } else if (b.keepalive_time != 0) {
            p.keepalive_time = b.keepalive_time;
            if (sec && p.keepalive_time >= p.hold_time)
                s.ErrorAt("hold_time", fmt::format("{} is not greater than [BGP] keepalive_time "
                                                   "({})", p.hold_time, b.keepalive_time));
        } else {
            p.keepalive_time = static_cast<uint16_t>(p.hold_time / 3);
        }
        return p;
    }

    const IniDocument& doc_;
    Diagnostics diag_;
    std::function<InterfaceLookup(std::string_view)> resolve_;
    std::vector<PeerSection> peer_sections_;
};

}  // namespace

std::optional<bool> ParseBool(std::string_view text) {
    std::string v = Lower(Trim(text));
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    return std::nullopt;
}

std::vector<std::string> SplitList(std::string_view text) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ',' || IsSpace(text[i]))) ++i;
        size_t start = i;
        while (i < text.size() && text[i] != ',' && !IsSpace(text[i])) ++i;
        if (i > start) out.emplace_back(text.substr(start, i - start));
    }
    return out;
}

std::optional<std::string> CanonicalDataplaneDriver(std::string_view vpn_type,
                                                    std::string_view name) {
    // The stevedore entry points of the original (setup.cfg), including the
    // aliases kept for configuration files of older releases.
    struct Alias {
        std::string_view name;
        std::string_view driver;
    };
    static constexpr std::array<Alias, 4> kIpvpn = {{
        {"DummyDataplaneDriver", "dummy"},
        {"mpls_linux_dataplane.MPLSLinuxDataplaneDriver", "linux"},
        {"mpls_ovs_dataplane.MPLSOVSDataplaneDriver", "ovs"},
        {"MPLSOVSDataplaneDriver", "ovs"},
    }};
    static constexpr std::array<Alias, 4> kEvpn = {{
        {"DummyDataplaneDriver", "dummy"},
        {"linux_vxlan.LinuxVXLANDataplaneDriver", "linux"},
        {"ovs.OVSDataplaneDriver", "ovs"},
        {"OVSDataplaneDriver", "ovs"},
    }};
    name = Trim(name);
    if (name == "dummy" || name == "linux" || name == "ovs") return std::string(name);
    bool evpn = vpn_type == "evpn";
    if (!evpn && vpn_type != "ipvpn") return std::nullopt;
    // Fully qualified forms: "bagpipe.bgp.vpn.<type>.X" (pre-networking-bagpipe)
    // and "networking_bagpipe.bagpipe_bgp.vpn.<type>.X".
    for (std::string_view prefix : {"networking_bagpipe.bagpipe_bgp.vpn.", "bagpipe.bgp.vpn."}) {
        if (name.starts_with(prefix)) {
            std::string_view rest = name.substr(prefix.size());
            std::string_view type_dot = evpn ? "evpn." : "ipvpn.";
            if (!rest.starts_with(type_dot)) return std::nullopt;
            name = rest.substr(type_dot.size());
            break;
        }
    }
    for (const Alias& a : evpn ? kEvpn : kIpvpn)
        if (a.name == name) return std::string(a.driver);
    return std::nullopt;
}

LoadResult LoadConfigString(std::string_view text, std::string file_name,
                            const LoadOptions& options) {
    IniDocument doc = ParseIni(text, std::move(file_name));
    return Loader(doc, options).Run();
}

LoadResult LoadConfigFile(const std::string& path, const LoadOptions& options) {
    IniDocument doc = ReadIniFile(path);
    if (!doc.readable) {
        LoadResult r;
        r.errors = std::move(doc.errors);
        return r;
    }
    return Loader(doc, options).Run();
}

}  // namespace bagpipe::config
