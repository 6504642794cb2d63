#include "counter.h"

#include <type_traits>
#include <variant>

#include "bgp/wire/attributes.h"

namespace bagpipe::bench {

using namespace bagpipe::bgp;

RouteCounter::RouteCounter(const RouteMatcher& matcher, FamilySet counted,
                           std::vector<bool> wanted_rts)
    : matcher_(matcher), counted_(counted), wanted_rts_(std::move(wanted_rts)) {
    Reset();
}

void RouteCounter::SetAddPath(FamilySet add_path_receive) {
    add_path_ = add_path_receive;
    Reset();
}

void RouteCounter::Reset() {
    for (size_t f = 0; f < kBenchFamilyCount; ++f) {
        Bits& b = bits_[f];
        const size_t n = matcher_.count(static_cast<BenchFamily>(f));
        b.words.assign((n + 63) / 64, 0);
        b.count = 0;
        b.wanted = 0;
    }
    for (auto& k : keys_) {
        k.clear();
    }
    generated_by_wire_.fill(0);
    wanted_ = unwanted_ = 0;
}

size_t RouteCounter::received(Family f) const {
    return generated_by_wire_[FamilyIndex(f)] + keys_[FamilyIndex(f)].size();
}

void RouteCounter::ApplyIndex(BenchFamily f, uint32_t i, bool add) {
    Bits& b = bits_[static_cast<size_t>(f)];
    uint64_t& word = b.words[i >> 6];
    const uint64_t bit = uint64_t{1} << (i & 63);
    if (((word & bit) != 0) == add) return;  // duplicate announce / withdraw of an absent route
    word ^= bit;
    const Family wire = WireFamily(f);
    const bool wanted = !CarriesRouteTarget(f) || wanted_rts_.empty() ||
                        wanted_rts_[RouteTargetOf(matcher_.params(), i)];
    const ptrdiff_t d = add ? 1 : -1;
    b.count += d;
    generated_by_wire_[FamilyIndex(wire)] += d;
    if (!Counted(wire)) return;
    if (wanted) {
        b.wanted += d;
        wanted_ += d;
    } else {
        unwanted_ += d;
    }
}

void RouteCounter::ApplyKey(const RouteKey& key, bool add) {
    auto& set = keys_[FamilyIndex(key.family())];
    ptrdiff_t d;
    if (add) {
        if (!set.insert(key).second) return;
        d = 1;
    } else {
        if (set.erase(key) == 0) return;
        d = -1;
    }
    const Family f = key.family();
    if (!Counted(f)) return;
    if (add_path_.test(FamilyIndex(f))) {
        wanted_ += d;  // ADD-PATH: every distinct path is one route (see the header)
    } else if (f != Family::kIpv4Rtc) {
        unwanted_ += d;
    }
}

template <class T>
void RouteCounter::ApplyOne(Family wire, const T& n, bool add) {
    if (!add_path_.test(FamilyIndex(wire))) {
        BenchFamily bf{};
        std::optional<uint32_t> i;
        if constexpr (std::is_same_v<T, InetNlri>) {
            if (wire == Family::kIpv4Unicast) i = matcher_.Match(n, bf);
        } else if constexpr (std::is_same_v<T, VpnNlri>) {
            i = matcher_.Match(n, wire, bf);
        } else if constexpr (std::is_same_v<T, EvpnNlri> || std::is_same_v<T, RtcNlri>) {
            i = matcher_.Match(n, bf);
        }
        if (i) {
            ApplyIndex(bf, *i, add);
            return;
        }
    }
    if constexpr (std::is_same_v<T, EvpnNlri>) {
        if (auto k = KeyOf(n)) ApplyKey(*k, add);
    } else if constexpr (std::is_same_v<T, OpaqueNlri>) {
        if (auto k = KeyOf(wire, n)) ApplyKey(*k, add);
    } else {
        ApplyKey(KeyOf(n), add);
    }
}

template <class T>
void RouteCounter::ApplyList(Family wire, const std::vector<T>& list, bool add) {
    if (add)
        announced_nlri_ += list.size();
    else
        withdrawn_nlri_ += list.size();
    for (const T& n : list) ApplyOne(wire, n, add);
}

void RouteCounter::Apply(const UpdateMessage& u, const std::optional<DecodeError>& error) {
    ++updates_;
    if (error) ++errors_;
    // RFC 7606 treat-as-withdraw: the NLRI announced are withdrawn instead.
    const bool announce = !(error && error->action == ErrorAction::kTreatAsWithdraw);
    if (u.EndOfRib()) ++end_of_rib_;
    if (!u.withdrawn.empty()) ApplyList(Family::kIpv4Unicast, u.withdrawn, false);
    if (!u.nlri.empty()) ApplyList(Family::kIpv4Unicast, u.nlri, announce);
    const PathAttributes& a = u.attributes;
    if (a.has(attr::kMpUnreach) && a.mp_unreach.family != Family::kUnknown) {
        const Family f = a.mp_unreach.family;
        std::visit([&](const auto& v) { ApplyList(f, v, false); }, a.mp_unreach.withdrawn);
    }
    if (a.has(attr::kMpReach) && a.mp_reach.family != Family::kUnknown) {
        const Family f = a.mp_reach.family;
        std::visit([&](const auto& v) { ApplyList(f, v, announce); }, a.mp_reach.nlri);
    }
}

}  // namespace bagpipe::bench
