// Compact route keys: the identity of an NLRI within its family, without the
// per-route data that rides along with it (labels, EVPN ESI where RFC 7432
// leaves it out of the key, EVPN type-5 gateway), plus the ADD-PATH path id.
//
// A key is a fixed number of octets per family (RouteKeyWidth), zero-padded
// and self-delimiting, stored inline (no heap):
//
//   ipv4/ipv6 unicast and labeled   len, address (4 or 16)             5 / 17
//   ipv4/ipv6 vpn                   RD, len, address (4 or 16)        13 / 25
//   l2vpn evpn (37)   type 1 (A-D)  1, RD, ESI, ethernet tag
//                     type 2 (MAC)  2, RD, ethernet tag, MAC length, MAC, IP version, IP (16)
//                     type 3 (IMET) 3, RD, ethernet tag, IP version, originating IP (16)
//                     type 4 (ES)   4, RD, ESI, IP version, originating IP (16)
//                     type 5 (IPP)  5, RD, ethernet tag, len, IP version, prefix (16)
//                     other types   type, value length (<= 35), value
//   ipv4 rtc                        len, origin AS, route target (8)       13
//   flowspec vpn (37)               NLRI length (<= 36), NLRI
//
// Keys compare and hash over (family, octets, path id). NlriPayload carries
// the rest of the NLRI so that ToNlri(KeyOf(n), PayloadOf(n)) == n. The RIB
// stores only the first RouteKeyWidth(family) octets per route.
//
// Executor: plain values and pure functions, any thread.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bgp/wire/bytes.h"
#include "bgp/wire/esi.h"
#include "bgp/wire/family.h"
#include "bgp/wire/ip_address.h"
#include "bgp/wire/mpls_label.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

inline constexpr size_t kRouteKeyCapacity = 37;

// Octets a key of family `f` occupies (0 for kUnknown).
constexpr size_t RouteKeyWidth(Family f) {
    switch (f) {
        case Family::kIpv4Unicast:
        case Family::kIpv4Labeled: return 5;
        case Family::kIpv6Unicast:
        case Family::kIpv6Labeled: return 17;
        case Family::kIpv4Vpn: return 13;
        case Family::kIpv6Vpn: return 25;
        case Family::kL2vpnEvpn: return 37;
        case Family::kIpv4Rtc: return 13;
        case Family::kIpv4FlowspecVpn:
        case Family::kIpv6FlowspecVpn: return 37;
        default: return 0;
    }
}

// The NLRI fields that are route data rather than identity.
struct NlriPayload {
    LabelStack labels;     // labeled, VPN, EVPN types 1, 2, 5
    Esi esi;               // EVPN types 2 and 5 (types 1 and 4 carry it in the key)
    IpAddress gateway_ip;  // EVPN type 5; empty means zero of the prefix's version

    bool operator==(const NlriPayload&) const = default;
};

class RouteKey {
public:
    RouteKey() = default;
    // `bytes` holds RouteKeyWidth(family) octets.
    RouteKey(Family family, const uint8_t* bytes, uint32_t path_id = 0);

    Family family() const { return family_; }
    uint32_t path_id() const { return path_id_; }
    RouteKey WithPathId(uint32_t path_id) const {
        RouteKey k = *this;
        k.path_id_ = path_id;
        return k;
    }
    const uint8_t* data() const { return bytes_.data(); }
    size_t size() const { return RouteKeyWidth(family_); }
    ByteView bytes() const { return {bytes_.data(), size()}; }

    uint64_t Hash() const;
    // "ipv4-vpn 64512:1:10.0.0.0/24",
    // "l2vpn-evpn [2][64512:1][0][48][52:54:00:00:00:01][10.0.0.1]",
    // with " path-id N" when the path id is not 0.
    std::string ToString() const;

    auto operator<=>(const RouteKey&) const = default;
    bool operator==(const RouteKey&) const = default;

private:
    Family family_ = Family::kUnknown;
    std::array<uint8_t, kRouteKeyCapacity> bytes_{};
    uint32_t path_id_ = 0;
};

struct RouteKeyHash {
    using is_avalanching = void;
    size_t operator()(const RouteKey& k) const { return k.Hash(); }
};

// Writes the key octets of `n` as a route of `family` into out[0, width),
// which the caller has zeroed. False when `n` is not of `family` (an IPv6
// prefix in an IPv4 family) or does not fit (EVPN route types other than 1-5
// longer than 35 octets, FlowSpec NLRI longer than 36).
bool EncodeRouteKey(Family family, const InetNlri& n, uint8_t* out);
bool EncodeRouteKey(Family family, const LabeledNlri& n, uint8_t* out);
bool EncodeRouteKey(Family family, const VpnNlri& n, uint8_t* out);
bool EncodeRouteKey(Family family, const EvpnNlri& n, uint8_t* out);
bool EncodeRouteKey(Family family, const RtcNlri& n, uint8_t* out);
bool EncodeRouteKey(Family family, const OpaqueNlri& n, uint8_t* out);

// Keys with the NLRI's path id. The family follows from the prefix for
// unicast, labeled and VPN NLRI.
RouteKey KeyOf(const InetNlri& n);
RouteKey KeyOf(const LabeledNlri& n);
RouteKey KeyOf(const VpnNlri& n);
RouteKey KeyOf(const RtcNlri& n);
std::optional<RouteKey> KeyOf(const EvpnNlri& n);                 // nullopt: does not fit
std::optional<RouteKey> KeyOf(Family family, const OpaqueNlri& n);  // nullopt: does not fit
// Keys of every NLRI of `list` as routes of `family`, skipping those that do
// not fit or belong to another family.
std::vector<RouteKey> KeysOf(Family family, const NlriList& list);

inline NlriPayload PayloadOf(const InetNlri&) { return {}; }
inline NlriPayload PayloadOf(const LabeledNlri& n) { return {n.labels, {}, {}}; }
inline NlriPayload PayloadOf(const VpnNlri& n) { return {n.labels, {}, {}}; }
inline NlriPayload PayloadOf(const RtcNlri&) { return {}; }
inline NlriPayload PayloadOf(const OpaqueNlri&) { return {}; }
NlriPayload PayloadOf(const EvpnNlri& n);

// The NLRI value of `key` (with its path id) and `payload`:
// ToNlri<VpnNlri>(key, {labels}). T must match the key's family.
template <class T>
T ToNlri(const RouteKey& key, const NlriPayload& payload = {});
template <>
InetNlri ToNlri<InetNlri>(const RouteKey& key, const NlriPayload& payload);
template <>
LabeledNlri ToNlri<LabeledNlri>(const RouteKey& key, const NlriPayload& payload);
template <>
VpnNlri ToNlri<VpnNlri>(const RouteKey& key, const NlriPayload& payload);
template <>
EvpnNlri ToNlri<EvpnNlri>(const RouteKey& key, const NlriPayload& payload);
template <>
RtcNlri ToNlri<RtcNlri>(const RouteKey& key, const NlriPayload& payload);
template <>
OpaqueNlri ToNlri<OpaqueNlri>(const RouteKey& key, const NlriPayload& payload);

// Appends the NLRI of `key` to `list`, which must hold the key family's type
// (e.g. made by FindFamilyCodec(family)->make_list()); false otherwise.
bool AppendNlri(const RouteKey& key, const NlriPayload& payload, NlriList& list);

}  // namespace bagpipe::bgp
