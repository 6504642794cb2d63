#include "vpn/identifier_allocator.h"

#include <utility>

namespace bagpipe::vpn {

std::optional<uint32_t> IdentifierAllocator::Allocate(std::string description) {
    while (next_ <= max_) {
        const auto id = static_cast<uint32_t>(next_++);
        if (used_.emplace(id, description).second) return id;
    }
    while (!freed_.empty()) {
        const uint32_t id = freed_.front();
        freed_.pop_front();
        if (used_.emplace(id, description).second) return id;
    }
    return std::nullopt;
}

bool IdentifierAllocator::Reserve(uint32_t id, std::string description) {
    if (!InRange(id)) return false;
    return used_.emplace(id, std::move(description)).second;
}

void IdentifierAllocator::Release(uint32_t id) {
    if (used_.erase(id) == 0) return;
    // Ids above the counter were reserved, not allocated: the counter hands
    // them out again in its own time.
    if (id < next_) freed_.push_back(id);
}

}  // namespace bagpipe::vpn
