// Small, fast, non-cryptographic 64-bit hashing for the RIB's hash tables:
// route keys (a few dozen octets) and interned attribute sets. Every result
// is fully avalanched, so the boost::unordered_flat_* tables that use these
// hashers are told to skip their own post-mixing (`is_avalanching`).
//
// The mixing is the 64x64->128 multiply-fold of wyhash; it is not seeded per
// process, so hash-flooding by a peer is not defended against here (a peer
// that sends crafted keys can only slow down its own table probes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bagpipe::bgp::rib_hash {

inline constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ull;
inline constexpr uint64_t kMul1 = 0xa0761d6478bd642full;
inline constexpr uint64_t kMul2 = 0xe7037ed1a0b428dbull;

inline uint64_t Fold(uint64_t a, uint64_t b) {
    __extension__ using U128 = unsigned __int128;
    U128 r = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// Hash of n octets (any alignment).
inline uint64_t Bytes(const void* data, size_t n, uint64_t seed = kSeed) {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t h = seed ^ (n * kMul2);
    while (n >= 8) {
        uint64_t v;
        std::memcpy(&v, p, 8);
        h = Fold(h ^ v, kMul1);
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t v = 0;
        std::memcpy(&v, p, n);
        h = Fold(h ^ v, kMul2);
    }
    return Fold(h ^ kMul1, kMul2);
}

// Incremental hasher for structured values: feed words, then Finish().
class Hasher {
public:
    explicit Hasher(uint64_t seed = kSeed) : h_(seed) {}
    void Add(uint64_t v) { h_ = Fold(h_ ^ v, kMul1); }
    void AddBytes(const void* data, size_t n) { h_ = Bytes(data, n, h_); }
    uint64_t Finish() const { return Fold(h_ ^ kMul2, kMul1); }

private:
    uint64_t h_;
};

}  // namespace bagpipe::bgp::rib_hash
