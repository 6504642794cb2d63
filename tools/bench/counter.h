// bagpipe-bgp-bench: exact counting of the routes one client holds.
//
// Every NLRI announced or withdrawn in a decoded UPDATE is applied to a set of
// distinct routes, so repeated announcements (implicit withdraws, duplicates
// after a flap) never inflate a count. Routes the generator made (routes.h)
// are kept as one bit per route index; any other route as its RouteKey in a
// boost::unordered_flat_set. When ADD-PATH is received for a family, the path
// id is part of a route's identity, so that family is kept by RouteKey only.
//
// A generated route is "wanted" when the client should receive it (its route
// target is among the client's RT Constraint imports, or the family carries
// no route target); anything else received in a counted family is
// "unwanted". RTC routes not made by the generator (the clients' own RT
// membership routes reflected back) are reported but never unwanted.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include <boost/unordered/unordered_flat_set.hpp>

#include "bgp/rib/route_key.h"
#include "bgp/wire/error.h"
#include "bgp/wire/message.h"
#include "routes.h"

namespace bagpipe::bench {

class RouteCounter {
public:
    // wanted_rts[rt]: whether a route with route target number rt (1..rts)
    // is wanted; empty: every route is.
    RouteCounter(const RouteMatcher& matcher, bgp::FamilySet counted,
                 std::vector<bool> wanted_rts);

    // Families whose NLRI carry path ids on this session (negotiated ADD-PATH
    // receive). Resets the counts.
    void SetAddPath(bgp::FamilySet add_path_receive);
    void Reset();

    void Apply(const bgp::UpdateMessage& update, const std::optional<bgp::DecodeError>& error);

    // Distinct routes currently held, per wire family (generated + other).
    size_t received(bgp::Family f) const;
    size_t wanted() const { return wanted_; }
    size_t unwanted() const { return unwanted_; }
    // wanted + unwanted: every route held in a counted family, except RTC
    // routes the generator did not make.
    size_t held() const { return wanted_ + unwanted_; }
    // NLRI announced / withdrawn as received (with duplicates).
    uint64_t announced_nlri() const { return announced_nlri_; }
    uint64_t withdrawn_nlri() const { return withdrawn_nlri_; }
    uint64_t updates() const { return updates_; }
    uint64_t errors() const { return errors_; }
    uint64_t end_of_rib() const { return end_of_rib_; }

private:
    struct Bits {
        std::vector<uint64_t> words;
        size_t count = 0;
        size_t wanted = 0;
    };
    template <class T>
    void ApplyList(bgp::Family wire, const std::vector<T>& list, bool add);
    template <class T>
    void ApplyOne(bgp::Family wire, const T& n, bool add);
    void ApplyIndex(BenchFamily f, uint32_t i, bool add);
    void ApplyKey(const bgp::RouteKey& key, bool add);
    bool Counted(bgp::Family f) const { return counted_.test(bgp::FamilyIndex(f)); }

    const RouteMatcher& matcher_;
    bgp::FamilySet counted_;
    bgp::FamilySet add_path_;
    std::vector<bool> wanted_rts_;
    std::array<Bits, kBenchFamilyCount> bits_;
    std::array<boost::unordered_flat_set<bgp::RouteKey, bgp::RouteKeyHash>, bgp::kFamilyCount> keys_;
    std::array<size_t, bgp::kFamilyCount> generated_by_wire_{};
    size_t wanted_ = 0;
    size_t unwanted_ = 0;
    uint64_t announced_nlri_ = 0;
    uint64_t withdrawn_nlri_ = 0;
    uint64_t updates_ = 0;
    uint64_t errors_ = 0;
    uint64_t end_of_rib_ = 0;
};

}  // namespace bagpipe::bench
