// Shared fixtures for the FSM and negotiation tests: a local configuration, the
// peer's OPEN, and readable action lists.
#pragma once

#include <fmt/format.h>

#include <string>
#include <vector>

#include "bgp/session/fsm.h"
#include "bgp/wire/message.h"

namespace bagpipe::bgp::session_test {

inline constexpr uint32_t kLocalAs = 65000;
inline constexpr uint32_t kPeerAs = 65001;
inline constexpr uint32_t kLocalId = 0x0a000001;  // 10.0.0.1
inline constexpr uint32_t kPeerId = 0x0a000002;   // 10.0.0.2

inline FamilySet Families(std::initializer_list<Family> fs) {
    FamilySet s;
    for (Family f : fs) s.set(FamilyIndex(f));
    return s;
}

// eBGP to kPeerAs, IPv4 unicast + VPNv4 + EVPN + RTC, hold 180, jitter
// neutralised (the RNG always answers the midpoint).
inline FsmConfig TestConfig() {
    FsmConfig c;
    c.local_as = kLocalAs;
    c.peer_as = kPeerAs;
    c.local_bgp_id = kLocalId;
    c.families = Families(
        {Family::kIpv4Unicast, Family::kIpv4Vpn, Family::kL2vpnEvpn, Family::kIpv4Rtc});
    c.random = [] { return 0.5; };
    return c;
}

inline Capability Mp(Family f) {
    AfiSafi as = ToAfiSafi(f);
    return MultiprotocolCap{as.afi, as.safi};
}

// The OPEN a well-behaved peer sends: same families, route refresh, 4-octet AS.
inline OpenMessage PeerOpen(uint16_t hold_time = 90, uint32_t asn = kPeerAs,
                            uint32_t bgp_id = kPeerId) {
    OpenMessage o;
    o.my_as = asn <= 0xffff ? static_cast<uint16_t>(asn) : kAsTrans;
    o.hold_time = hold_time;
    o.bgp_id = bgp_id;
    o.capabilities = {Mp(Family::kIpv4Unicast), Mp(Family::kIpv4Vpn),  Mp(Family::kL2vpnEvpn),
                      Mp(Family::kIpv4Rtc),     RouteRefreshCap{},     FourOctetAsCap{asn}};
    return o;
}

inline std::vector<ActionKind> Kinds(const std::vector<Action>& actions) {
    std::vector<ActionKind> out;
    for (const auto& a : actions) out.push_back(a.kind);
    return out;
}

inline std::string Describe(const std::vector<ActionKind>& kinds) {
    std::string s = "{";
    for (size_t i = 0; i < kinds.size(); ++i)
        s += fmt::format("{}{}", i ? ", " : "", ActionKindName(kinds[i]));
    return s + "}";
}

inline const Action* FindAction(const std::vector<Action>& actions, ActionKind kind) {
    for (const auto& a : actions)
        if (a.kind == kind) return &a;
    return nullptr;
}

}  // namespace bagpipe::bgp::session_test
