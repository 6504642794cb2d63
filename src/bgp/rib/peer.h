// Peer identities as the RIB sees them: a dense small integer (PeerId), the
// few facts best-path selection needs (PeerInfo), and a set of peers as a
// dynamic bitset (PeerSet).
//
// PeerIds are allocated by the caller (the session layer), densely from 1;
// kLocalPeer (0) stands for routes this speaker originates itself. Every type
// here is a plain value used on the event-loop thread only.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bgp/wire/ip_address.h"

namespace bagpipe::bgp {

using PeerId = uint16_t;
inline constexpr PeerId kLocalPeer = 0;

// What the best-path selection (and later the export stage) needs to know
// about the speaker a path was learned from.
struct PeerInfo {
    uint32_t router_id = 0;  // BGP identifier from the peer's OPEN, host order
    IpAddress address;       // the peer's transport address
    uint32_t asn = 0;        // the peer's AS
    bool ibgp = true;        // same AS as ours (LOCAL_PREF honoured)
    bool rr_client = false;  // RFC 4456 route-reflector client
    bool local = false;      // the pseudo-peer of locally originated routes

    bool operator==(const PeerInfo&) const = default;
};

// A set of PeerIds as a bitset that grows on demand. Iteration is in
// increasing PeerId order.
class PeerSet {
public:
    bool Contains(PeerId p) const {
        size_t w = p / 64;
        return w < words_.size() && (words_[w] >> (p % 64)) & 1u;
    }
    void Insert(PeerId p) {
        size_t w = p / 64;
        if (w >= words_.size()) words_.resize(w + 1, 0);
        words_[w] |= uint64_t{1} << (p % 64);
    }
    void Erase(PeerId p) {
        size_t w = p / 64;
        if (w < words_.size()) words_[w] &= ~(uint64_t{1} << (p % 64));
    }
    void InsertAll(const PeerSet& o) {
        if (o.words_.size() > words_.size()) words_.resize(o.words_.size(), 0);
        for (size_t i = 0; i < o.words_.size(); ++i) words_[i] |= o.words_[i];
    }
    // Keeps the allocation.
    void Clear() {
        for (auto& w : words_) w = 0;
    }
    bool empty() const {
        for (uint64_t w : words_)
            if (w) return false;
        return true;
    }
    size_t size() const {
        size_t n = 0;
        for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
        return n;
    }
    template <class Fn>
    void ForEach(Fn&& fn) const {
        for (size_t i = 0; i < words_.size(); ++i) {
            for (uint64_t w = words_[i]; w != 0; w &= w - 1)
                fn(static_cast<PeerId>(i * 64 + static_cast<size_t>(std::countr_zero(w))));
        }
    }
    std::vector<PeerId> ToVector() const {
        std::vector<PeerId> v;
        ForEach([&](PeerId p) { v.push_back(p); });
        return v;
    }
    bool operator==(const PeerSet& o) const {
        size_t n = std::max(words_.size(), o.words_.size());
        for (size_t i = 0; i < n; ++i) {
            uint64_t a = i < words_.size() ? words_[i] : 0;
            uint64_t b = i < o.words_.size() ? o.words_[i] : 0;
            if (a != b) return false;
        }
        return true;
    }

private:
    std::vector<uint64_t> words_;
};

}  // namespace bagpipe::bgp
