// bagpipe-bgp-bench: the routes it generates and how it recognises them again.
//
// Route i (0-based) of a bench family is a pure function of i and the
// generator parameters (GenParams), so that the counter can tell in O(1)
// whether a received NLRI is "route i of family F" (IndexOf) and keep one bit
// per route instead of a hashed key. Everything else it receives is counted
// by RouteKey (bgp/rib/route_key.h).
//
//   vpnv4        RD rd_base, 10.0.0.0 + i /32, label label_base
//   vpnv6        RD rd_base, 2001:db8:<i high 16>:<i low 16>::/64, label label_base
//   evpn-mac     type 2, RD rd_base, ESI 0, tag 0, MAC 02:00:<i 32 bits>, IP 10.0.0.0 + i
//   evpn-imet    type 3, RD <admin>:<rd_base number + i>, tag 0, originating IP = next hop
//   evpn-prefix  type 5, RD rd_base, ESI 0, tag 0, 10.0.0.0 + i /32, gateway 0.0.0.0
//   rtc          RFC 4684 /96, origin AS = --as, RT <as>:<RtcRouteBase + i>
//   ipv4         10.0.0.0 + i /32 (IPv4 unicast)
//
// Attributes: ORIGIN IGP, AS_PATH empty (iBGP) or <as> (eBGP), LOCAL_PREF 100
// (iBGP), MED = attribute set (i % attr_sets), EXTENDED_COMMUNITIES route
// target <as>:((i % rts) + 1) plus the encapsulation community (VXLAN for
// EVPN, MPLS-over-GRE for VPN), PMSI tunnel (ingress replication) on IMET.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/wire/bytes.h"
#include "bgp/wire/family.h"
#include "bgp/wire/ip_address.h"
#include "bgp/wire/nlri.h"
#include "bgp/wire/route_distinguisher.h"

namespace bagpipe::bench {

enum class BenchFamily : uint8_t { kVpnv4, kVpnv6, kEvpnMac, kEvpnImet, kEvpnPrefix, kRtc, kIpv4 };
inline constexpr size_t kBenchFamilyCount = 7;

std::string_view BenchFamilyName(BenchFamily f);  // "vpnv4", "evpn-mac", ...
std::optional<BenchFamily> BenchFamilyFromName(std::string_view name);
bgp::Family WireFamily(BenchFamily f);
// Whether route targets (and so RT Constraint) apply to the family.
bool CarriesRouteTarget(BenchFamily f);

struct GenParams {
    uint32_t local_as = 64512;
    bool ibgp = true;
    size_t attr_sets = 1;
    size_t rts = 1;
    bgp::IpAddress next_hop;  // IPv4
    uint32_t label_base = 16;
    bgp::AdminValue rd_base{0, 64512, 1};  // rd_base: <admin>:<number>
};

struct FamilyPlan {
    BenchFamily family;
    size_t count = 0;
};

// The route target number (1..rts) of route i.
inline uint32_t RouteTargetOf(const GenParams& p, size_t i) {
    return static_cast<uint32_t>(i % p.rts) + 1;
}
// Injected RTC routes use RT <as>:<base + i>: base 1000000 for a 2-octet AS,
// 32768 for a 4-octet one (whose RT number has 16 bits).
uint32_t RtcRouteBase(const GenParams& p);
bgp::ExtCommunity RouteTargetCommunity(const GenParams& p, uint32_t number);
bgp::RouteDistinguisher MakeRd(const bgp::AdminValue& v, uint32_t number_offset = 0);

// Pre-encoded UPDATE messages of one family, back to back, and how many.
struct Encoded {
    bgp::Bytes bytes;
    size_t messages = 0;
    size_t nlri = 0;
};

// Announcements of routes [0, count) of `family`, grouped by attribute set,
// packed with PackAnnouncements for `ctx`. Throws std::runtime_error when a
// route does not fit or the packer skipped some.
Encoded EncodeAnnouncements(const GenParams& p, BenchFamily family, size_t count,
                            const bgp::SessionContext& ctx);
Encoded EncodeWithdrawals(const GenParams& p, BenchFamily family, size_t count,
                          const bgp::SessionContext& ctx);

// RTC routes a client announces: one per route target number (empty list: the
// default route, RFC 4684 §4), packed for ctx; next hop = the client.
Encoded EncodeRtcRoutes(const GenParams& p, const std::vector<uint32_t>& rt_numbers,
                        bool default_route, const bgp::IpAddress& next_hop,
                        const bgp::SessionContext& ctx);

// Index matching: which generated route a received NLRI is, if any (only its
// key fields are compared, as RouteKey does: labels, ESI of types 2/5 and
// the type-5 gateway are ignored).
class RouteMatcher {
public:
    RouteMatcher(const GenParams& p, const std::vector<FamilyPlan>& plan);
    // The route index within bench family *family_out, or nullopt.
    std::optional<uint32_t> Match(const bgp::InetNlri& n, BenchFamily& family_out) const;
    std::optional<uint32_t> Match(const bgp::VpnNlri& n, bgp::Family wire,
                                  BenchFamily& family_out) const;
    std::optional<uint32_t> Match(const bgp::EvpnNlri& n, BenchFamily& family_out) const;
    std::optional<uint32_t> Match(const bgp::RtcNlri& n, BenchFamily& family_out) const;
    size_t count(BenchFamily f) const { return count_[static_cast<size_t>(f)]; }
    const GenParams& params() const { return p_; }

private:
    GenParams p_;
    bgp::RouteDistinguisher rd_;
    size_t count_[kBenchFamilyCount] = {};
};

}  // namespace bagpipe::bench
