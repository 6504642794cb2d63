// The dummy dataplane driver (dummy_driver.h).
#include "dataplane/dummy/dummy_driver.h"

#include <sys/utsname.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config/config_loader.h"

namespace bagpipe::dataplane {

using nlohmann::json;

namespace detail {

// State shared by a driver and its instances: options, the call log and the
// registry of live instances.
struct DummyCore {
    DummyDriverOptions options;
    std::string kernel_release;
    bool initialized = false;
    uint64_t next_seq = 1;
    uint64_t total_calls = 0;
    std::deque<DummyCall> log;
    std::map<uint32_t, DummyInstanceDataplane*> live;
    // External ids of every instance created, for the call log's JSON.
    std::map<uint32_t, std::string> external_ids;

    std::chrono::system_clock::time_point Now() const {
        return options.clock ? options.clock() : std::chrono::system_clock::now();
    }

    bool SupportsDirection(Direction d) const {
        return std::find(options.directions.begin(), options.directions.end(), d) !=
               options.directions.end();
    }

    std::string_view ExternalId(uint32_t id) const {
        auto it = external_ids.find(id);
        return it == external_ids.end() ? std::string_view() : std::string_view(it->second);
    }

    DataplaneStatus Record(uint32_t instance_id, DummyMethod method, DummyCallArgs args,
                           bool changed, DataplaneStatus status) {
        ++total_calls;
        uint64_t seq = next_seq++;
        if (options.call_log_size > 0) {
            while (log.size() >= options.call_log_size) log.pop_front();
            log.push_back(DummyCall{seq, Now(), instance_id, method, std::move(args), changed,
                                    status});
        }
        return status;
    }
};

}  // namespace detail

namespace {

std::string FormatTime(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(us / 1000000);
    long frac = static_cast<long>(us % 1000000);
    if (frac < 0) {
        frac += 1000000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::string KernelRelease() {
    struct utsname u {};
    if (uname(&u) != 0) return "";
    return u.release;
}

std::string EncapsList(EncapsulationSet set) {
    std::string out;
    for (const std::string& n : set.Names()) {
        if (!out.empty()) out += ", ";
        out += n;
    }
    return out.empty() ? "none" : out;
}

DataplaneStatus CheckEncaps(EncapsulationSet given, EncapsulationSet supported) {
    if (given.empty())
        return DataplaneStatus::InvalidArgument("no encapsulation given (DEFAULT counts as one)");
    if (given.Intersect(supported) != given)
        return DataplaneStatus::InvalidArgument(
            fmt::format("encapsulation {} not supported by this driver (supported: {})",
                        EncapsList(given), EncapsList(supported)));
    return {};
}

json DirectionsJson(const std::vector<Direction>& directions) {
    json j = json::array();
    for (Direction d : directions) j.push_back(DirectionName(d));
    return j;
}

json ArgsJson(const DummyCallArgs& args, DummyMethod method, VpnType type) {
    struct Visitor {
        DummyMethod method;
        VpnType type;
        json operator()(const std::monostate&) const { return json::object(); }
        json operator()(const InstanceConfig& c) const { return ToJson(c); }
        json operator()(const DummyVifArgs& a) const {
            json j{
                {"mac_address", a.mac.ToString()},
                {"ip_address", AddressJson(a.ip)},
                {"localport", ToJson(a.port)},
                {"label", a.label},
                {"direction", DirectionName(a.direction)},
            };
            if (method == DummyMethod::kVifUnplugged) j["last_endpoint"] = a.last_endpoint;
            return j;
        }
        json operator()(const RemoteEndpoint& e) const { return ToJson(type, e); }
        json operator()(const BumEndpoint& e) const { return ToJson(e); }
        json operator()(const DummyClassifierArgs& a) const {
            json j{{"classifier", ToJson(a.classifier)}};
            if (a.redirect_instance_id) j["redirect_to_instance_id"] = *a.redirect_instance_id;
            return j;
        }
        json operator()(const DummyGatewayArgs& a) const {
            json j{{"linuxif", a.linuxif}};
            if (method == DummyMethod::kSetGatewayPort) j["gateway_ip"] = AddressJson(a.gateway_ip);
            return j;
        }
        json operator()(const std::optional<Fallback>& f) const {
            return json{{"fallback", f ? ToJson(*f) : json(nullptr)}};
        }
        json operator()(const DummyCleanupArgs& a) const {
            return json{{"removed",
                         {{"ports", a.ports},
                          {"remote_endpoints", a.remote_endpoints},
                          {"bum_endpoints", a.bum_endpoints},
                          {"classifiers", a.classifiers},
                          {"gateway_port", a.gateway_port},
                          {"fallback", a.fallback}}}};
        }
    };
    return std::visit(Visitor{method, type}, args);
}

template <typename Map, typename Key, typename Value>
bool Upsert(Map& map, const Key& key, const Value& value) {
    auto [it, inserted] = map.try_emplace(key, value);
    if (inserted) return true;
    if (it->second == value) return false;
    it->second = value;
    return true;
}

}  // namespace

std::string_view DummyMethodName(DummyMethod method) {
    switch (method) {
        case DummyMethod::kResetState: return "reset_state";
        case DummyMethod::kInitialize: return "initialize";
        case DummyMethod::kCreateInstance: return "initialize_dataplane_instance";
        case DummyMethod::kVifPlugged: return "vif_plugged";
        case DummyMethod::kVifUnplugged: return "vif_unplugged";
        case DummyMethod::kSetupRemoteEndpoint: return "setup_dataplane_for_remote_endpoint";
        case DummyMethod::kRemoveRemoteEndpoint: return "remove_dataplane_for_remote_endpoint";
        case DummyMethod::kUpdateFallback: return "update_fallback";
        case DummyMethod::kCleanup: return "cleanup";
        case DummyMethod::kAddTrafficClassifier: return "add_dataplane_for_traffic_classifier";
        case DummyMethod::kRemoveTrafficClassifier:
            return "remove_dataplane_for_traffic_classifier";
        case DummyMethod::kAddBumEndpoint: return "add_dataplane_for_bum_endpoint";
        case DummyMethod::kRemoveBumEndpoint: return "remove_dataplane_for_bum_endpoint";
        case DummyMethod::kSetGatewayPort: return "set_gateway_port";
        case DummyMethod::kGatewayPortDown: return "gateway_port_down";
    }
    return "unknown";
}

json ToJson(const DummyCall& call, VpnType type, std::string_view external_id) {
    return json{
        {"seq", call.seq},
        {"time", FormatTime(call.time)},
        {"driver", VpnTypeName(type)},
        {"instance_id", call.instance_id == 0 ? json(nullptr) : json(call.instance_id)},
        {"external_instance_id", external_id.empty() ? json(nullptr) : json(external_id)},
        {"method", DummyMethodName(call.method)},
        {"args", ArgsJson(call.args, call.method, type)},
        {"changed", call.changed},
        {"error", call.status.ok() ? json(nullptr) : json(call.status.message())},
        {"error_code", call.status.ok() ? json(nullptr)
                                        : json(DataplaneErrorCodeName(call.status.code()))},
    };
}

// ---------------------------------------------------------------------------
// Options.

DummyDriverOptions DummyDriverOptions::Defaults(VpnType type, bgp::IpAddress local_address) {
    DummyDriverOptions o;
    o.type = type;
    o.local_address = local_address;
    o.encaps = type == VpnType::kIpVpn
                   ? EncapsulationSet{Encapsulation::kDefault, Encapsulation::kMpls}
                   : EncapsulationSet{Encapsulation::kVxlan};
    o.config = {{"dataplane_driver", "dummy"},
                {"dataplane_local_address", local_address.empty() ? "" : local_address.ToString()}};
    return o;
}

DataplaneResult<DummyDriverOptions> DummyDriverOptions::FromConfig(
    VpnType type, const config::DataplaneDriverConfig& config) {
    DummyDriverOptions o = Defaults(type, config.local_address);
    o.config["dataplane_driver"] = config.configured_driver.empty() ? config.driver
                                                                    : config.configured_driver;
    auto bad = [&](std::string_view key, std::string_view value, std::string_view expected) {
        return DataplaneStatus::InvalidArgument(
            fmt::format("{} dummy dataplane driver: option {} = \"{}\": {}", VpnTypeName(type),
                        key, value, expected));
    };
    for (const auto& [key, value] : config.options) {
        o.config[key] = value;
        if (key == "encapsulations" || key == "encaps") {
            EncapsulationSet set;
            for (const std::string& item : config::SplitList(value)) {
                auto e = ParseEncapsulation(item);
                if (!e)
                    return bad(key, value,
                               fmt::format("unknown encapsulation \"{}\" (DEFAULT, MPLS, GRE, "
                                           "VXLAN, MPLS-over-GRE, MPLS-over-UDP, ...)",
                                           item));
                set.insert(*e);
            }
            if (set.empty()) return bad(key, value, "at least one encapsulation is needed");
            o.encaps = set;
        } else if (key == "ecmp" || key == "needs_cleanup_assist") {
            auto b = config::ParseBool(value);
            if (!b) return bad(key, value, "expected a boolean");
            (key == "ecmp" ? o.ecmp : o.needs_cleanup_assist) = *b;
        } else if (key == "directions") {
            std::vector<Direction> dirs;
            for (const std::string& item : config::SplitList(value)) {
                auto d = ParseDirection(item);
                if (!d) return bad(key, value, "directions are both, to-port, from-port");
                if (std::find(dirs.begin(), dirs.end(), *d) == dirs.end()) dirs.push_back(*d);
            }
            if (dirs.empty()) return bad(key, value, "at least one direction is needed");
            o.directions = std::move(dirs);
        } else if (key == "router_mac") {
            auto m = bgp::MacAddress::Parse(value);
            if (!m) return bad(key, value, "expected a MAC address");
            o.router_mac = *m;
        } else if (key == "call_log_size") {
            size_t n = 0;
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc() || p != value.data() + value.size() || n > 10'000'000)
                return bad(key, value, "expected an integer from 0 to 10000000");
            o.call_log_size = n;
        }
        // Other keys belong to other drivers: kept in `config`, otherwise ignored.
    }
    return o;
}

// ---------------------------------------------------------------------------
// Instance.

DummyInstanceDataplane::DummyInstanceDataplane(std::shared_ptr<detail::DummyCore> core,
                                               InstanceConfig config)
    : core_(std::move(core)), config_(std::move(config)) {
    core_->live[config_.instance_id] = this;
}

DummyInstanceDataplane::~DummyInstanceDataplane() {
    auto it = core_->live.find(config_.instance_id);
    if (it != core_->live.end() && it->second == this) core_->live.erase(it);
}

VpnType DummyInstanceDataplane::type() const { return core_->options.type; }

DataplaneStatus DummyInstanceDataplane::Record(DummyMethod method, DummyCallArgs args,
                                               bool changed, DataplaneStatus status) {
    return core_->Record(config_.instance_id, method, std::move(args), changed && status.ok(),
                         std::move(status));
}

DataplaneStatus DummyInstanceDataplane::CheckAlive(DummyMethod method) const {
    if (cleaned_up_)
        return DataplaneStatus::FailedPrecondition(
            fmt::format("{}: instance {} ({}) was cleaned up", DummyMethodName(method),
                        config_.instance_id, config_.external_id));
    return {};
}

DataplaneStatus DummyInstanceDataplane::Check(DummyMethod method, VpnType needed) const {
    if (type() != needed)
        return DataplaneStatus::NotSupported(fmt::format("{} is not supported by {} instances",
                                                         DummyMethodName(method),
                                                         VpnTypeName(type())));
    return CheckAlive(method);
}

DataplaneStatus DummyInstanceDataplane::VifPlugged(const bgp::MacAddress& mac,
                                                   const bgp::IpAddress& ip,
                                                   const LocalPort& port, uint32_t label,
                                                   Direction direction) {
    constexpr DummyMethod m = DummyMethod::kVifPlugged;
    DataplaneStatus s = CheckAlive(m);
    if (s.ok() && !core_->SupportsDirection(direction))
        s = DataplaneStatus::InvalidArgument(
            fmt::format("Unsupported direction: {}", DirectionName(direction)));
    if (s.ok() && label > bgp::kMaxMplsLabel)
        s = DataplaneStatus::InvalidArgument(fmt::format("label {} out of range", label));
    if (s.ok() && type() == VpnType::kIpVpn && ip.empty())
        s = DataplaneStatus::InvalidArgument("an IP-VPN endpoint needs an IP address");
    bool changed = false;
    if (s.ok())
        changed = Upsert(ports_, DummyLocalKey{mac, ip}, DummyPlugged{port, label, direction});
    return Record(m, DummyVifArgs{mac, ip, port, label, direction, false}, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::VifUnplugged(const bgp::MacAddress& mac,
                                                     const bgp::IpAddress& ip,
                                                     const LocalPort& port, uint32_t label,
                                                     Direction direction, bool last_endpoint) {
    constexpr DummyMethod m = DummyMethod::kVifUnplugged;
    DataplaneStatus s = CheckAlive(m);
    bool changed = s.ok() && ports_.erase(DummyLocalKey{mac, ip}) > 0;
    return Record(m, DummyVifArgs{mac, ip, port, label, direction, last_endpoint}, changed,
                  std::move(s));
}

namespace {

DummyRemoteKey RemoteKey(VpnType type, const RemoteEndpoint& e) {
    if (type == VpnType::kIpVpn) return DummyRemoteKey{e.prefix, {}, e.remote_pe, e.label};
    return DummyRemoteKey{{}, e.mac, e.remote_pe, e.label};
}

DataplaneStatus CheckRemoteKey(VpnType type, const RemoteEndpoint& e) {
    if (e.remote_pe.empty()) return DataplaneStatus::InvalidArgument("no remote PE address");
    if (type == VpnType::kIpVpn) {
        if (e.prefix.address.empty()) return DataplaneStatus::InvalidArgument("no prefix");
        if (e.label > bgp::kMaxMplsLabel)
            return DataplaneStatus::InvalidArgument(fmt::format("label {} out of range", e.label));
    } else if (e.label > bgp::kMaxVni) {
        return DataplaneStatus::InvalidArgument(fmt::format("VNI {} out of range", e.label));
    }
    return {};
}

}  // namespace

DataplaneStatus DummyInstanceDataplane::SetupRemoteEndpoint(const RemoteEndpoint& endpoint) {
    constexpr DummyMethod m = DummyMethod::kSetupRemoteEndpoint;
    DataplaneStatus s = CheckAlive(m);
    if (s.ok()) s = CheckRemoteKey(type(), endpoint);
    if (s.ok()) s = CheckEncaps(endpoint.encaps, core_->options.encaps);
    bool changed = s.ok() && Upsert(remote_, RemoteKey(type(), endpoint), endpoint);
    return Record(m, endpoint, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::RemoveRemoteEndpoint(const RemoteEndpoint& endpoint) {
    constexpr DummyMethod m = DummyMethod::kRemoveRemoteEndpoint;
    DataplaneStatus s = CheckAlive(m);
    if (s.ok()) s = CheckRemoteKey(type(), endpoint);
    bool changed = s.ok() && remote_.erase(RemoteKey(type(), endpoint)) > 0;
    return Record(m, endpoint, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::UpdateFallback(const std::optional<Fallback>& fallback) {
    constexpr DummyMethod m = DummyMethod::kUpdateFallback;
    DataplaneStatus s = Check(m, VpnType::kIpVpn);
    bool changed = s.ok() && fallback_ != fallback;
    if (changed) fallback_ = fallback;
    return Record(m, fallback, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::Cleanup() {
    constexpr DummyMethod m = DummyMethod::kCleanup;
    DataplaneStatus s = CheckAlive(m);
    DummyCleanupArgs removed;
    if (s.ok()) {
        removed.ports = ports_.size();
        removed.remote_endpoints = remote_.size();
        removed.bum_endpoints = bum_.size();
        removed.classifiers = classifiers_.size();
        removed.gateway_port = gateway_port_.has_value();
        removed.fallback = fallback_.has_value();
        ports_.clear();
        remote_.clear();
        bum_.clear();
        classifiers_.clear();
        gateway_port_.reset();
        fallback_.reset();
        cleaned_up_ = true;
    }
    return Record(m, removed, s.ok(), std::move(s));
}

DataplaneStatus DummyInstanceDataplane::AddTrafficClassifier(const TrafficClassifier& classifier,
                                                             uint32_t redirect_instance_id) {
    constexpr DummyMethod m = DummyMethod::kAddTrafficClassifier;
    DataplaneStatus s = Check(m, VpnType::kIpVpn);
    if (s.ok() && redirect_instance_id == 0)
        s = DataplaneStatus::InvalidArgument("no redirect instance");
    bool changed = s.ok() && Upsert(classifiers_, classifier, redirect_instance_id);
    return Record(m, DummyClassifierArgs{classifier, redirect_instance_id}, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::RemoveTrafficClassifier(
    const TrafficClassifier& classifier) {
    constexpr DummyMethod m = DummyMethod::kRemoveTrafficClassifier;
    DataplaneStatus s = Check(m, VpnType::kIpVpn);
    bool changed = s.ok() && classifiers_.erase(classifier) > 0;
    return Record(m, DummyClassifierArgs{classifier, std::nullopt}, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::AddBumEndpoint(const BumEndpoint& endpoint) {
    constexpr DummyMethod m = DummyMethod::kAddBumEndpoint;
    DataplaneStatus s = Check(m, VpnType::kEvpn);
    if (s.ok() && endpoint.remote_pe.empty())
        s = DataplaneStatus::InvalidArgument("no remote PE address");
    if (s.ok() && endpoint.vni > bgp::kMaxVni)
        s = DataplaneStatus::InvalidArgument(fmt::format("VNI {} out of range", endpoint.vni));
    if (s.ok()) s = CheckEncaps(endpoint.encaps, core_->options.encaps);
    bool changed =
        s.ok() && Upsert(bum_, DummyBumKey{endpoint.remote_pe, endpoint.vni}, endpoint);
    return Record(m, endpoint, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::RemoveBumEndpoint(const BumEndpoint& endpoint) {
    constexpr DummyMethod m = DummyMethod::kRemoveBumEndpoint;
    DataplaneStatus s = Check(m, VpnType::kEvpn);
    bool changed = s.ok() && bum_.erase(DummyBumKey{endpoint.remote_pe, endpoint.vni}) > 0;
    return Record(m, endpoint, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::SetGatewayPort(std::string_view linuxif,
                                                       const bgp::IpAddress& gateway_ip) {
    constexpr DummyMethod m = DummyMethod::kSetGatewayPort;
    DataplaneStatus s = Check(m, VpnType::kEvpn);
    if (s.ok() && linuxif.empty()) s = DataplaneStatus::InvalidArgument("no interface name");
    DummyGatewayPort port{std::string(linuxif), gateway_ip};
    bool changed = s.ok() && gateway_port_ != port;
    if (changed) gateway_port_ = port;
    return Record(m, DummyGatewayArgs{port.linuxif, gateway_ip}, changed, std::move(s));
}

DataplaneStatus DummyInstanceDataplane::GatewayPortDown(std::string_view linuxif) {
    constexpr DummyMethod m = DummyMethod::kGatewayPortDown;
    DataplaneStatus s = Check(m, VpnType::kEvpn);
    bool changed = s.ok() && gateway_port_ && gateway_port_->linuxif == linuxif;
    if (changed) gateway_port_.reset();
    return Record(m, DummyGatewayArgs{std::string(linuxif), {}}, changed, std::move(s));
}

std::vector<RemoteEndpoint> DummyInstanceDataplane::RemoteEndpointsFor(
    const bgp::Prefix& prefix) const {
    std::vector<RemoteEndpoint> out;
    if (type() != VpnType::kIpVpn) return out;
    for (auto it = remote_.lower_bound(DummyRemoteKey{prefix, {}, {}, 0});
         it != remote_.end() && it->first.prefix == prefix; ++it)
        out.push_back(it->second);
    return out;
}

std::vector<RemoteEndpoint> DummyInstanceDataplane::RemoteEndpointsFor(
    const bgp::MacAddress& mac) const {
    std::vector<RemoteEndpoint> out;
    if (type() != VpnType::kEvpn) return out;
    for (auto it = remote_.lower_bound(DummyRemoteKey{{}, mac, {}, 0});
         it != remote_.end() && it->first.mac == mac; ++it)
        out.push_back(it->second);
    return out;
}

size_t DummyInstanceDataplane::StateSize() const {
    return ports_.size() + remote_.size() + bum_.size() + classifiers_.size() +
           (gateway_port_ ? 1 : 0) + (fallback_ ? 1 : 0);
}

json DummyInstanceDataplane::ToJson() const {
    VpnType t = type();
    json j = dataplane::ToJson(config_);
    j["type"] = VpnTypeName(t);
    j["driver_name"] = "dummy";
    j["cleaned_up"] = cleaned_up_;
    j["counts"] = {
        {"ports", ports_.size()},
        {"remote_endpoints", remote_.size()},
        {"bum_endpoints", bum_.size()},
        {"classifiers", classifiers_.size()},
    };
    json ports = json::array();
    for (const auto& [key, v] : ports_)
        ports.push_back(json{
            {"mac_address", key.mac.ToString()},
            {"ip_address", AddressJson(key.ip)},
            {"localport", dataplane::ToJson(v.port)},
            {"label", v.label},
            {"direction", DirectionName(v.direction)},
        });
    j["ports"] = std::move(ports);
    json remote = json::array();
    for (const auto& [key, e] : remote_) remote.push_back(dataplane::ToJson(t, e));
    j["remote_endpoints"] = std::move(remote);
    if (t == VpnType::kEvpn) {
        json bum = json::array();
        for (const auto& [key, e] : bum_) bum.push_back(dataplane::ToJson(e));
        j["bum_endpoints"] = std::move(bum);
        j["gateway_port"] = gateway_port_ ? json{{"linuxif", gateway_port_->linuxif},
                                                 {"gateway_ip",
                                                  AddressJson(gateway_port_->gateway_ip)}}
                                          : json(nullptr);
    } else {
        json cls = json::array();
        for (const auto& [c, redirect] : classifiers_)
            cls.push_back(json{{"classifier", dataplane::ToJson(c)},
                               {"redirect_to_instance_id", redirect}});
        j["classifiers"] = std::move(cls);
        j["fallback"] = fallback_ ? dataplane::ToJson(*fallback_) : json(nullptr);
    }
    return j;
}

// ---------------------------------------------------------------------------
// Driver.

DummyDataplaneDriver::DummyDataplaneDriver(DummyDriverOptions options)
    : core_(std::make_shared<detail::DummyCore>()) {
    core_->options = std::move(options);
    core_->kernel_release = KernelRelease();
}

DummyDataplaneDriver::~DummyDataplaneDriver() = default;

VpnType DummyDataplaneDriver::type() const { return core_->options.type; }

DataplaneStatus DummyDataplaneDriver::ResetState() {
    bool changed = core_->initialized;
    core_->initialized = false;
    return core_->Record(0, DummyMethod::kResetState, std::monostate{}, changed, {});
}

DataplaneStatus DummyDataplaneDriver::Initialize() {
    bool changed = !core_->initialized;
    core_->initialized = true;
    return core_->Record(0, DummyMethod::kInitialize, std::monostate{}, changed, {});
}

DataplaneResult<std::unique_ptr<VpnInstanceDataplane>> DummyDataplaneDriver::CreateInstance(
    const InstanceConfig& config) {
    DataplaneStatus s;
    uint32_t max_label = type() == VpnType::kIpVpn ? bgp::kMaxMplsLabel : bgp::kMaxVni;
    if (!core_->initialized)
        s = DataplaneStatus::FailedPrecondition(
            "initialize_dataplane_instance before initialize");
    else if (config.instance_id == 0)
        s = DataplaneStatus::InvalidArgument("instance id 0");
    else if (core_->live.count(config.instance_id))
        s = DataplaneStatus::FailedPrecondition(
            fmt::format("instance {} already exists", config.instance_id));
    else if (config.instance_label > max_label)
        s = DataplaneStatus::InvalidArgument(
            fmt::format("instance {} {} out of range",
                        type() == VpnType::kIpVpn ? "label" : "VNI", config.instance_label));
    if (s.ok()) core_->external_ids[config.instance_id] = config.external_id;
    s = core_->Record(config.instance_id, DummyMethod::kCreateInstance, config, s.ok(), s);
    if (!s.ok()) return s;
    return std::make_unique<DummyInstanceDataplane>(core_, config);
}

EncapsulationSet DummyDataplaneDriver::SupportedEncapsulations() const {
    return core_->options.encaps;
}

std::optional<bgp::MacAddress> DummyDataplaneDriver::RouterMac() const {
    return core_->options.router_mac;
}

bool DummyDataplaneDriver::NeedsCleanupAssist() const {
    return core_->options.needs_cleanup_assist;
}

DataplaneStatus DummyDataplaneDriver::ValidateDirection(Direction direction) const {
    if (core_->SupportsDirection(direction)) return {};
    return DataplaneStatus::InvalidArgument(
        fmt::format("Unsupported direction: {}", DirectionName(direction)));
}

bool DummyDataplaneDriver::EcmpSupport() const { return core_->options.ecmp; }

bgp::IpAddress DummyDataplaneDriver::LocalAddress() const { return core_->options.local_address; }

json DummyDataplaneDriver::ToJson() const {
    const DummyDriverOptions& o = core_->options;
    json config = json::object();
    for (const auto& [k, v] : o.config)
        config[k] = (k == "dataplane_local_address" && v.empty()) ? json(nullptr) : json(v);
    json instances = json::array();
    for (const auto& [id, inst] : core_->live)
        instances.push_back(json{{"instance_id", id},
                                 {"external_instance_id", inst->config().external_id}});
    json calls{
        {"total", core_->total_calls},
        {"logged", core_->log.size()},
        {"capacity", o.call_log_size},
        {"first_seq", core_->log.empty() ? json(nullptr) : json(core_->log.front().seq)},
        {"last_seq", core_->log.empty() ? json(nullptr) : json(core_->log.back().seq)},
    };
    return json{
        {"name", "DummyDataplaneDriver"},
        {"driver", "dummy"},
        {"type", VpnTypeName(o.type)},
        {"local_address", AddressJson(o.local_address)},
        {"supported_encaps", o.encaps.Names()},
        {"ecmp_support", o.ecmp},
        {"directions", DirectionsJson(o.directions)},
        {"needs_cleanup_assist", o.needs_cleanup_assist},
        {"config", std::move(config)},
        {"kernel_release", core_->kernel_release},
        {"initialized", core_->initialized},
        {"instances", std::move(instances)},
        {"calls", std::move(calls)},
    };
}

const std::deque<DummyCall>& DummyDataplaneDriver::calls() const { return core_->log; }

uint64_t DummyDataplaneDriver::total_calls() const { return core_->total_calls; }

json DummyDataplaneDriver::CallLogJson(uint64_t after_seq, size_t limit,
                                       std::optional<uint32_t> instance_id) const {
    json out = json::array();
    const auto& log = core_->log;
    // Sequence numbers are consecutive in the log: jump to the first one wanted.
    size_t start = 0;
    if (!log.empty() && after_seq >= log.front().seq)
        start = std::min<uint64_t>(log.size(), after_seq - log.front().seq + 1);
    for (size_t i = start; i < log.size() && out.size() < limit; ++i) {
        const DummyCall& c = log[i];
        if (instance_id && c.instance_id != *instance_id) continue;
        out.push_back(dataplane::ToJson(c, type(), core_->ExternalId(c.instance_id)));
    }
    return out;
}

std::vector<const DummyCall*> DummyDataplaneDriver::CallsTo(
    DummyMethod method, std::optional<uint32_t> instance_id) const {
    std::vector<const DummyCall*> out;
    for (const DummyCall& c : core_->log)
        if (c.method == method && (!instance_id || c.instance_id == *instance_id))
            out.push_back(&c);
    return out;
}

void DummyDataplaneDriver::ClearCallLog() { core_->log.clear(); }

bool DummyDataplaneDriver::initialized() const { return core_->initialized; }

const DummyDriverOptions& DummyDataplaneDriver::options() const { return core_->options; }

DummyInstanceDataplane* DummyDataplaneDriver::FindInstance(uint32_t instance_id) const {
    auto it = core_->live.find(instance_id);
    return it == core_->live.end() ? nullptr : it->second;
}

DummyInstanceDataplane* DummyDataplaneDriver::FindInstance(std::string_view external_id) const {
    for (const auto& [id, inst] : core_->live)
        if (inst->config().external_id == external_id) return inst;
    return nullptr;
}

std::vector<DummyInstanceDataplane*> DummyDataplaneDriver::instances() const {
    std::vector<DummyInstanceDataplane*> out;
    for (const auto& [id, inst] : core_->live) out.push_back(inst);
    return out;
}

}  // namespace bagpipe::dataplane
