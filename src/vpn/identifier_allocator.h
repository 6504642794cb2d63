// Allocators of per-node identifiers: MPLS labels / VNIs (16 .. 2^20-1) and
// route distinguisher numbers (0 .. 65535), each id with a description for
// the looking glass (`vpns/dataplane/ids`).
//
// Allocation order is the original bagpipe-bgp's (reference §4.4): each new
// id is the next one above the previous; freed ids are reused only once the
// counter has reached the maximum, oldest freed first. This keeps a just
// released label out of use for as long as possible (packets in flight,
// routes still cached by peers). Reserve() takes a given id (a forced VNI).
//
// Executor: the event-loop thread (plain value, no locks).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace bagpipe::vpn {

class IdentifierAllocator {
public:
    IdentifierAllocator(uint32_t min, uint32_t max) : min_(min), max_(max), next_(min) {}

    // A free id, or nullopt when all are in use.
    std::optional<uint32_t> Allocate(std::string description);
    // Takes `id` if it is in range and free; false otherwise.
    bool Reserve(uint32_t id, std::string description);
    // Frees `id` (ignored when not allocated).
    void Release(uint32_t id);

    bool InRange(uint32_t id) const { return id >= min_ && id <= max_; }
    bool InUse(uint32_t id) const { return used_.count(id) != 0; }
    size_t size() const { return used_.size(); }
    uint32_t min() const { return min_; }
    uint32_t max() const { return max_; }
    // id → description, ascending.
    const std::map<uint32_t, std::string>& used() const { return used_; }

private:
    uint32_t min_;
    uint32_t max_;
    uint64_t next_;  // next never-used id (may pass max_)
    std::map<uint32_t, std::string> used_;
    std::deque<uint32_t> freed_;  // FIFO of released ids below next_
};

// MPLS labels and VNIs: 16 (first unreserved label, RFC 3032) .. 2^20-1.
inline constexpr uint32_t kMinLabel = 16;
inline constexpr uint32_t kMaxLabel = (1u << 20) - 1;
// Type-1 RD numbers <local_address>:<n>.
inline constexpr uint32_t kMaxRdNumber = 65535;

}  // namespace bagpipe::vpn
