#include "bgp/rib/route_key.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <variant>

#include "bgp/rib/hash.h"

namespace bagpipe::bgp {

namespace {

constexpr size_t kRd = 8;
constexpr size_t kEsi = 10;
constexpr size_t kEvpnRawMax = kRouteKeyCapacity - 2;
constexpr size_t kOpaqueRawMax = kRouteKeyCapacity - 1;

void Put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}
uint32_t Get32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Version octet then 16 address octets (zeros beyond the address).
uint8_t* PutVersionedIp(uint8_t* p, const IpAddress& a) {
    p[0] = a.version;
    std::memcpy(p + 1, a.bytes.data(), a.size());
    return p + 17;
}
IpAddress GetVersionedIp(const uint8_t* p) {
    IpAddress a;
    if (p[0] == 4 || p[0] == 6) {
        a.version = p[0];
        std::memcpy(a.bytes.data(), p + 1, a.size());
    }
    return a;
}

IpAddress GetIp(const uint8_t* p, bool v6) {
    return v6 ? IpAddress::V6(p) : IpAddress::V4(p);
}

bool IsV6Family(Family f) {
    return f == Family::kIpv6Unicast || f == Family::kIpv6Labeled || f == Family::kIpv6Vpn;
}

// len, address: the unicast and labeled layout.
bool PutPrefix(const Prefix& prefix, bool v6, uint8_t* out) {
    if (prefix.address.version != (v6 ? 6 : 4)) return false;
    out[0] = prefix.length;
    std::memcpy(out + 1, prefix.address.bytes.data(), v6 ? 16 : 4);
    return true;
}
Prefix GetPrefix(const uint8_t* p, bool v6) {
    Prefix prefix;
    prefix.length = p[0];
    prefix.address = GetIp(p + 1, v6);
    return prefix;
}

}  // namespace

RouteKey::RouteKey(Family family, const uint8_t* bytes, uint32_t path_id)
    : family_(family), path_id_(path_id) {
    std::memcpy(bytes_.data(), bytes, RouteKeyWidth(family));
}

uint64_t RouteKey::Hash() const {
    return rib_hash::Bytes(bytes_.data(), size(),
                           rib_hash::kSeed ^ (uint64_t{path_id_} << 8) ^
                               static_cast<uint64_t>(family_));
}

// ---------------------------------------------------------------------------
// Encoding.

bool EncodeRouteKey(Family family, const InetNlri& n, uint8_t* out) {
    if (family != Family::kIpv4Unicast && family != Family::kIpv6Unicast) return false;
    return PutPrefix(n.prefix, IsV6Family(family), out);
}

bool EncodeRouteKey(Family family, const LabeledNlri& n, uint8_t* out) {
    if (family != Family::kIpv4Labeled && family != Family::kIpv6Labeled) return false;
    return PutPrefix(n.prefix, IsV6Family(family), out);
}

bool EncodeRouteKey(Family family, const VpnNlri& n, uint8_t* out) {
    if (family != Family::kIpv4Vpn && family != Family::kIpv6Vpn) return false;
    std::memcpy(out, n.rd.bytes.data(), kRd);
    return PutPrefix(n.prefix, IsV6Family(family), out + kRd);
}

bool EncodeRouteKey(Family family, const EvpnNlri& n, uint8_t* out) {
    if (family != Family::kL2vpnEvpn) return false;
    uint8_t* p = out;
    *p++ = n.route_type;
    if (n.route_type >= 1 && n.route_type <= 5) {
        std::memcpy(p, n.rd.bytes.data(), kRd);
        p += kRd;
    }
    switch (n.route_type) {
        case 1:
            std::memcpy(p, n.esi.bytes.data(), kEsi);
            Put32(p + kEsi, n.ethernet_tag);
            return true;
        case 2:
            Put32(p, n.ethernet_tag);
            p[4] = n.mac_length;
            std::memcpy(p + 5, n.mac.bytes.data(), 6);
            PutVersionedIp(p + 11, n.ip);
            return true;
        case 3:
            Put32(p, n.ethernet_tag);
            PutVersionedIp(p + 4, n.originating_ip);
            return true;
        case 4:
            std::memcpy(p, n.esi.bytes.data(), kEsi);
            PutVersionedIp(p + kEsi, n.originating_ip);
            return true;
        case 5:
            Put32(p, n.ethernet_tag);
            p[4] = n.prefix.length;
            PutVersionedIp(p + 5, n.prefix.address);
            return true;
        default:
            if (n.raw.size() > kEvpnRawMax) return false;
            *p++ = static_cast<uint8_t>(n.raw.size());
            if (!n.raw.empty()) std::memcpy(p, n.raw.data(), n.raw.size());
            return true;
    }
}

bool EncodeRouteKey(Family family, const RtcNlri& n, uint8_t* out) {
    if (family != Family::kIpv4Rtc) return false;
    out[0] = n.length;
    Put32(out + 1, n.origin_as);
    std::memcpy(out + 5, n.route_target.bytes.data(), 8);
    return true;
}

bool EncodeRouteKey(Family family, const OpaqueNlri& n, uint8_t* out) {
    if (family != Family::kIpv4FlowspecVpn && family != Family::kIpv6FlowspecVpn) return false;
    if (n.raw.size() > kOpaqueRawMax) return false;
    out[0] = static_cast<uint8_t>(n.raw.size());
    if (!n.raw.empty()) std::memcpy(out + 1, n.raw.data(), n.raw.size());
    return true;
}

namespace {

template <class T>
std::optional<RouteKey> MakeKey(Family family, const T& n) {
    std::array<uint8_t, kRouteKeyCapacity> buf{};
    if (!EncodeRouteKey(family, n, buf.data())) return std::nullopt;
    return RouteKey(family, buf.data(), n.path_id);
}

}  // namespace

RouteKey KeyOf(const InetNlri& n) {
    Family f = n.prefix.address.is_v6() ? Family::kIpv6Unicast : Family::kIpv4Unicast;
    return MakeKey(f, n).value_or(RouteKey());
}
RouteKey KeyOf(const LabeledNlri& n) {
    Family f = n.prefix.address.is_v6() ? Family::kIpv6Labeled : Family::kIpv4Labeled;
    return MakeKey(f, n).value_or(RouteKey());
}
RouteKey KeyOf(const VpnNlri& n) {
    Family f = n.prefix.address.is_v6() ? Family::kIpv6Vpn : Family::kIpv4Vpn;
    return MakeKey(f, n).value_or(RouteKey());
}
RouteKey KeyOf(const RtcNlri& n) { return *MakeKey(Family::kIpv4Rtc, n); }
std::optional<RouteKey> KeyOf(const EvpnNlri& n) { return MakeKey(Family::kL2vpnEvpn, n); }
std::optional<RouteKey> KeyOf(Family family, const OpaqueNlri& n) { return MakeKey(family, n); }

std::vector<RouteKey> KeysOf(Family family, const NlriList& list) {
    std::vector<RouteKey> keys;
    std::visit(
        [&](const auto& v) {
            keys.reserve(v.size());
            for (const auto& n : v)
                if (auto k = MakeKey(family, n)) keys.push_back(*k);
        },
        list);
    return keys;
}

NlriPayload PayloadOf(const EvpnNlri& n) {
    NlriPayload p;
    switch (n.route_type) {
        case 1: p.labels = n.labels; break;
        case 2:
            p.labels = n.labels;
            p.esi = n.esi;
            break;
        case 5:
            p.labels = n.labels;
            p.esi = n.esi;
            p.gateway_ip = n.gateway_ip;
            break;
        default: break;
    }
    return p;
}

// ---------------------------------------------------------------------------
// Decoding.

template <>
InetNlri ToNlri<InetNlri>(const RouteKey& key, const NlriPayload&) {
    InetNlri n;
    n.path_id = key.path_id();
    n.prefix = GetPrefix(key.data(), IsV6Family(key.family()));
    return n;
}

template <>
LabeledNlri ToNlri<LabeledNlri>(const RouteKey& key, const NlriPayload& payload) {
    LabeledNlri n;
    n.path_id = key.path_id();
    n.labels = payload.labels;
    n.prefix = GetPrefix(key.data(), IsV6Family(key.family()));
    return n;
}

template <>
VpnNlri ToNlri<VpnNlri>(const RouteKey& key, const NlriPayload& payload) {
    VpnNlri n;
    n.path_id = key.path_id();
    n.labels = payload.labels;
    n.rd = RouteDistinguisher::FromBytes(key.data());
    n.prefix = GetPrefix(key.data() + kRd, IsV6Family(key.family()));
    return n;
}

template <>
EvpnNlri ToNlri<EvpnNlri>(const RouteKey& key, const NlriPayload& payload) {
    EvpnNlri n;
    n.path_id = key.path_id();
    const uint8_t* p = key.data();
    n.route_type = *p++;
    if (n.route_type >= 1 && n.route_type <= 5) {
        n.rd = RouteDistinguisher::FromBytes(p);
        p += kRd;
    }
    switch (n.route_type) {
        case 1:
            std::memcpy(n.esi.bytes.data(), p, kEsi);
            n.ethernet_tag = Get32(p + kEsi);
            n.labels = payload.labels;
            break;
        case 2:
            n.ethernet_tag = Get32(p);
            n.mac_length = p[4];
            std::memcpy(n.mac.bytes.data(), p + 5, 6);
            n.ip = GetVersionedIp(p + 11);
            n.esi = payload.esi;
            n.labels = payload.labels;
            break;
        case 3:
            n.ethernet_tag = Get32(p);
            n.originating_ip = GetVersionedIp(p + 4);
            break;
        case 4:
            std::memcpy(n.esi.bytes.data(), p, kEsi);
            n.originating_ip = GetVersionedIp(p + kEsi);
            break;
        case 5:
            n.ethernet_tag = Get32(p);
            n.prefix.length = p[4];
            n.prefix.address = GetVersionedIp(p + 5);
            n.esi = payload.esi;
            n.labels = payload.labels;
            n.gateway_ip = payload.gateway_ip;
            if (n.gateway_ip.empty()) n.gateway_ip.version = n.prefix.address.version;
            break;
        default:
            n.raw.assign(p + 1, p + 1 + std::min<size_t>(p[0], kEvpnRawMax));
            break;
    }
    return n;
}

template <>
RtcNlri ToNlri<RtcNlri>(const RouteKey& key, const NlriPayload&) {
    RtcNlri n;
    n.path_id = key.path_id();
    const uint8_t* p = key.data();
    n.length = p[0];
    n.origin_as = Get32(p + 1);
    std::memcpy(n.route_target.bytes.data(), p + 5, 8);
    return n;
}

template <>
OpaqueNlri ToNlri<OpaqueNlri>(const RouteKey& key, const NlriPayload&) {
    OpaqueNlri n;
    n.path_id = key.path_id();
    const uint8_t* p = key.data();
    n.raw.assign(p + 1, p + 1 + std::min<size_t>(p[0], kOpaqueRawMax));
    return n;
}

bool AppendNlri(const RouteKey& key, const NlriPayload& payload, NlriList& list) {
    auto append = [&]<class T>(T*) {
        auto* v = std::get_if<std::vector<T>>(&list);
        if (v == nullptr) return false;
        v->push_back(ToNlri<T>(key, payload));
        return true;
    };
    switch (key.family()) {
        case Family::kIpv4Unicast:
        case Family::kIpv6Unicast: return append(static_cast<InetNlri*>(nullptr));
        case Family::kIpv4Labeled:
        case Family::kIpv6Labeled: return append(static_cast<LabeledNlri*>(nullptr));
        case Family::kIpv4Vpn:
        case Family::kIpv6Vpn: return append(static_cast<VpnNlri*>(nullptr));
        case Family::kL2vpnEvpn: return append(static_cast<EvpnNlri*>(nullptr));
        case Family::kIpv4Rtc: return append(static_cast<RtcNlri*>(nullptr));
        case Family::kIpv4FlowspecVpn:
        case Family::kIpv6FlowspecVpn: return append(static_cast<OpaqueNlri*>(nullptr));
        default: return false;
    }
}

// ---------------------------------------------------------------------------
// Text.

std::string RouteKey::ToString() const {
    std::string s(FamilyName(family_));
    s += ' ';
    switch (family_) {
        case Family::kIpv4Unicast:
        case Family::kIpv6Unicast: s += ToNlri<InetNlri>(*this).prefix.ToString(); break;
        case Family::kIpv4Labeled:
        case Family::kIpv6Labeled: s += ToNlri<LabeledNlri>(*this).prefix.ToString(); break;
        case Family::kIpv4Vpn:
        case Family::kIpv6Vpn: {
            VpnNlri n = ToNlri<VpnNlri>(*this);
            s += fmt::format("{}:{}", n.rd.ToString(), n.prefix.ToString());
            break;
        }
        case Family::kL2vpnEvpn: {
            EvpnNlri n = ToNlri<EvpnNlri>(*this);
            auto ip = [](const IpAddress& a) { return a.empty() ? std::string() : a.ToString(); };
            switch (n.route_type) {
                case 1:
                    s += fmt::format("[1][{}][{}][{}]", n.rd.ToString(), n.esi.ToString(),
                                     n.ethernet_tag);
                    break;
                case 2:
                    s += fmt::format("[2][{}][{}][{}][{}][{}]", n.rd.ToString(), n.ethernet_tag,
                                     n.mac_length, n.mac.ToString(), ip(n.ip));
                    break;
                case 3:
                    s += fmt::format("[3][{}][{}][{}]", n.rd.ToString(), n.ethernet_tag,
                                     ip(n.originating_ip));
                    break;
                case 4:
                    s += fmt::format("[4][{}][{}][{}]", n.rd.ToString(), n.esi.ToString(),
                                     ip(n.originating_ip));
                    break;
                case 5:
                    s += fmt::format("[5][{}][{}][{}]", n.rd.ToString(), n.ethernet_tag,
                                     n.prefix.ToString());
                    break;
                default:
                    s += fmt::format("[{}][{}]", n.route_type,
                                     FormatHexOctets(n.raw.data(), n.raw.size(), '\0'));
                    break;
            }
            break;
        }
        case Family::kIpv4Rtc: {
            RtcNlri n = ToNlri<RtcNlri>(*this);
            if (n.is_default())
                s += "default";
            else
                s += fmt::format("{}:{}/{}", n.origin_as, n.route_target.AdminValueString(),
                                 n.length);
            break;
        }
        default: {
            OpaqueNlri n = ToNlri<OpaqueNlri>(*this);
            s += FormatHexOctets(n.raw.data(), n.raw.size(), '\0');
            break;
        }
    }
    if (path_id_ != 0) s += fmt::format(" path-id {}", path_id_);
    return s;
}

}  // namespace bagpipe::bgp
