// Helpers shared by the per-family NLRI codecs (src/bgp/family/*/*_codec.cc).
//
// Not part of the public codec interface: callers use FamilyCodec rows
// (bgp/wire/nlri.h). The hot decoders walk raw pointers over the bytes the
// Reader holds, check each NLRI's extent once, then read without further
// checks; error messages are built only on failure, in cold functions.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "bgp/wire/bytes.h"
#include "bgp/wire/family.h"
#include "bgp/wire/ip_address.h"
#include "bgp/wire/mpls_label.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp::codec {

inline uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t Load24(const uint8_t* p) {
    return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
}
inline uint32_t Load32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline void Store16(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
inline void Store24(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 16);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v);
}
inline void Store32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// Sets `error` to "<family>: <message>" and returns false. Kept out of line so
// that the decoders' loops stay small.
template <typename... Args>
[[gnu::cold, gnu::noinline]] bool Fail(std::string& error, Family f,
                                       fmt::format_string<Args...> format, Args&&... args) {
    error.assign(FamilyName(f));
    error += ": ";
    fmt::format_to(std::back_inserter(error), format, std::forward<Args>(args)...);
    return false;
}

// The vector of type T inside `list`. An empty list of another type is
// switched to T; a non-empty one of another type gives nullptr.
template <typename T>
std::vector<T>* ListOf(NlriList& list) {
    if (auto* v = std::get_if<std::vector<T>>(&list)) return v;
    if (NlriCount(list) != 0) return nullptr;
    return &list.emplace<std::vector<T>>();
}

// list[i] when `list` holds T and i is in range, else nullptr (encoders then
// write nothing: a caller bug, never wire input).
template <typename T>
const T* ItemOf(const NlriList& list, size_t i) {
    const auto* v = std::get_if<std::vector<T>>(&list);
    if (v == nullptr || i >= v->size()) return nullptr;
    return &(*v)[i];
}

[[gnu::cold, gnu::noinline]] inline bool WrongList(std::string& error, Family f) {
    return Fail(error, f, "NLRI list holds another family's type");
}

// Makes room for `more` elements, growing geometrically so that repeated
// decodes into one vector stay linear.
template <typename T>
void ReserveMore(std::vector<T>& v, size_t more) {
    size_t need = v.size() + more;
    if (need > v.capacity()) v.reserve(std::max(need, v.capacity() * 2));
}

// Counts the NLRI of a "length in bits, then ceil(bits/8) octets" family
// (inet, labeled, VPN, RTC) without validating them: an exact reservation
// size for well-formed input, an upper bound otherwise.
inline size_t CountBitLengthNlri(const uint8_t* p, const uint8_t* end, bool add_path) {
    const size_t size = static_cast<size_t>(end - p);
    const size_t skip = add_path ? 4 : 0;
    size_t n = 0;
    for (size_t at = 0; size - at > skip; ++n) {
        at += skip;
        at += 1 + ((p[at] + 7u) >> 3);
        if (at >= size) return n + 1;
    }
    return n;
}

// Appends n octets to the writer's buffer and returns where they start.
inline uint8_t* Append(Writer& w, size_t n) { return w.Grow(n); }

// Copies the ceil(bits/8) octets of a prefix and clears the bits beyond `bits`
// in the last one. `dst` must be zero beyond them already.
inline void CopyPrefixBits(uint8_t* dst, const uint8_t* src, unsigned bits) {
    size_t n = (bits + 7) >> 3;
    switch (n) {  // short fixed-size copies for the common IPv4 cases
        case 0:
            return;
        case 1:
            dst[0] = src[0];
            break;
        case 2:
            std::memcpy(dst, src, 2);
            break;
        case 3:
            std::memcpy(dst, src, 3);
            break;
        case 4:
            std::memcpy(dst, src, 4);
            break;
        default:
            std::memcpy(dst, src, n);
            break;
    }
    if (bits & 7) dst[n - 1] &= static_cast<uint8_t>(0xff << (8 - (bits & 7)));
}

// Writes ceil(bits/8) octets of `src`, the bits beyond `bits` cleared.
inline uint8_t* PutPrefixBits(uint8_t* dst, const uint8_t* src, unsigned bits) {
    size_t n = (bits + 7) >> 3;
    if (n == 0) return dst;
    std::memcpy(dst, src, n);
    if (bits & 7) dst[n - 1] &= static_cast<uint8_t>(0xff << (8 - (bits & 7)));
    return dst + n;
}

// ---------------------------------------------------------------------------
// MP_REACH next hop.

// Next-hop field layouts a family accepts, by length.
enum NextHopForm : unsigned {
    kNhEmpty = 1u << 0,   // 0 octets (FlowSpec)
    kNhV4 = 1u << 1,      // 4: IPv4
    kNhV6 = 1u << 2,      // 16: IPv6 global
    kNhV6Ll = 1u << 3,    // 32: IPv6 global + link-local
    kNhRdV4 = 1u << 4,    // 12: RD + IPv4
    kNhRdV6 = 1u << 5,    // 24: RD + IPv6
    kNhRdV6Ll = 1u << 6,  // 48: RD + IPv6 global + RD + link-local
};

inline bool DecodeNextHopForms(ByteView nh, unsigned forms, Family f, NextHop& out,
                               std::string& error) {
    out = NextHop{};
    const uint8_t* p = nh.data();
    switch (nh.size()) {
        case 0:
            if (!(forms & kNhEmpty)) break;
            return true;
        case 4:
            if (!(forms & kNhV4)) break;
            out.global = IpAddress::V4(p);
            return true;
        case 16:
            if (!(forms & kNhV6)) break;
            out.global = IpAddress::V6(p);
            return true;
        case 32:
            if (!(forms & kNhV6Ll)) break;
            out.global = IpAddress::V6(p);
            out.link_local = IpAddress::V6(p + 16);
            return true;
        case 12:
            if (!(forms & kNhRdV4)) break;
            out.global = IpAddress::V4(p + 8);
            return true;
        case 24:
            if (!(forms & kNhRdV6)) break;
            out.global = IpAddress::V6(p + 8);
            return true;
        case 48:
            if (!(forms & kNhRdV6Ll)) break;
            out.global = IpAddress::V6(p + 8);
            out.link_local = IpAddress::V6(p + 32);
            return true;
        default:
            break;
    }
    return Fail(error, f, "invalid next hop length {}", nh.size());
}

// Appends the length octet and the next hop: nothing for an empty global
// address, else the global address, preceded by a zero RD when `with_rd`,
// then for an IPv6 global address a non-empty IPv6 link-local one the same way.
inline void EncodeNextHopField(const NextHop& nh, bool with_rd, Writer& w) {
    const size_t rd = with_rd ? 8 : 0;
    const bool ll = nh.global.is_v6() && nh.link_local.is_v6();
    size_t len = 0;
    if (!nh.global.empty()) len = rd + nh.global.size() + (ll ? rd + 16 : 0);
    uint8_t* p = Append(w, 1 + len);
    *p++ = static_cast<uint8_t>(len);
    if (len == 0) return;
    std::memset(p, 0, len);
    p += rd;
    std::memcpy(p, nh.global.bytes.data(), nh.global.size());
    p += nh.global.size();
    if (ll) std::memcpy(p + rd, nh.link_local.bytes.data(), 16);
}

// ---------------------------------------------------------------------------
// Prefix NLRI: inet (RFC 4271 §4.3), labeled (RFC 8277) and VPN (RFC 4364).

enum class PrefixKind { kInet, kLabeled, kVpn };

// Decodes every NLRI in `r` into `out` (T = InetNlri, LabeledNlri, VpnNlri).
// The length octet counts every bit after it: labels (24 each), RD (64) and
// prefix. Announced label stacks end at the bottom-of-stack bit; withdrawn
// ones have exactly one label field (RFC 8277 §2.4).
template <uint8_t kVersion, PrefixKind kKind, typename T>
bool DecodePrefixNlri(Reader& r, bool add_path, bool withdraw, Family fam, std::vector<T>& out,
                      std::string& error) {
    constexpr unsigned kMaxBits = kVersion == 4 ? 32 : 128;
    const uint8_t* const begin = r.data();
    const uint8_t* const end = begin + r.remaining();
    const uint8_t* p = begin;
    ReserveMore(out, CountBitLengthNlri(p, end, add_path));

    const uint8_t* start = p;
    auto fail = [&]() {
        r.Skip(static_cast<size_t>(start - begin));
        return false;
    };
    while (p != end) {
        start = p;
        uint32_t path_id = 0;
        if (add_path) {
            if (end - p < 5) {
                Fail(error, fam, "truncated NLRI: path id and length need 5 octets, {} left",
                     end - p);
                return fail();
            }
            path_id = Load32(p);
            p += 4;
        }
        const unsigned total_bits = *p++;
        unsigned bits = total_bits;
        const size_t nbytes = (bits + 7) >> 3;
        if (static_cast<size_t>(end - p) < nbytes) {
            Fail(error, fam, "truncated NLRI: length {} bits needs {} octets, {} left", total_bits,
                 nbytes, end - p);
            return fail();
        }
        T& n = out.emplace_back();
        n.path_id = path_id;
        const uint8_t* q = p;
        if constexpr (kKind != PrefixKind::kInet) {
            uint32_t label;
            do {
                if (bits < 24) {
                    out.pop_back();
                    Fail(error, fam,
                         "NLRI length {} bits ends inside the label stack (no bottom-of-stack "
                         "label)",
                         total_bits);
                    return fail();
                }
                if (n.labels.count == LabelStack::kMaxLabels) {
                    out.pop_back();
                    Fail(error, fam, "label stack deeper than {} labels (NLRI length {} bits)",
                         LabelStack::kMaxLabels, total_bits);
                    return fail();
                }
                label = Load24(q);
                q += 3;
                bits -= 24;
                n.labels.raw[n.labels.count++] = label;
            } while (!withdraw && !BottomOfStack(label));
        }
        if constexpr (kKind == PrefixKind::kVpn) {
            if (bits < 64) {
                out.pop_back();
                Fail(error, fam,
                     "NLRI length {} bits too short for the route distinguisher after {} "
                     "label(s)",
                     total_bits, n.labels.count);
                return fail();
            }
            std::memcpy(n.rd.bytes.data(), q, 8);
            q += 8;
            bits -= 64;
        }
        if (bits > kMaxBits) {
            out.pop_back();
            Fail(error, fam, "prefix length {} exceeds {} (NLRI length {} bits)", bits, kMaxBits,
                 total_bits);
            return fail();
        }
        n.prefix.address.version = kVersion;
        n.prefix.length = static_cast<uint8_t>(bits);
        CopyPrefixBits(n.prefix.address.bytes.data(), q, bits);
        p += nbytes;
    }
    r.Skip(static_cast<size_t>(end - begin));
    return true;
}

// The prefix length written for n: clamped to the family maximum.
template <uint8_t kVersion, typename T>
unsigned PrefixBits(const T& n) {
    constexpr unsigned kMaxBits = kVersion == 4 ? 32 : 128;
    return std::min<unsigned>(n.prefix.length, kMaxBits);
}

// How many label fields are written for n: one in a withdrawal (the first
// label as is, or kWithdrawLabelRaw when there is none), else the stack, at
// least one (label 0 when empty) and no more than fit the 255-bit NLRI length
// with the rest.
template <uint8_t kVersion, PrefixKind kKind, typename T>
unsigned LabelsWritten(const T& n, bool withdraw) {
    if (withdraw || n.labels.count <= 1) return 1;
    constexpr unsigned kFixed = kKind == PrefixKind::kVpn ? 64 : 0;
    unsigned fit = (255 - kFixed - PrefixBits<kVersion>(n)) / 24;
    return std::min<unsigned>(n.labels.count, fit);
}

template <uint8_t kVersion, PrefixKind kKind, typename T>
size_t PrefixNlriSize(const T& n, bool add_path, bool withdraw) {
    size_t size = (add_path ? 4 : 0) + 1 + ((PrefixBits<kVersion>(n) + 7) >> 3);
    if constexpr (kKind != PrefixKind::kInet)
        size += 3 * LabelsWritten<kVersion, kKind>(n, withdraw);
    if constexpr (kKind == PrefixKind::kVpn) size += 8;
    return size;
}

// Announced stacks are written with the bottom-of-stack bit on the last label
// only, so that they decode to the same stack.
template <uint8_t kVersion, PrefixKind kKind, typename T>
void EncodePrefixNlri(const T& n, bool add_path, bool withdraw, Writer& w) {
    const unsigned plen = PrefixBits<kVersion>(n);
    unsigned nlabels = 0;
    if constexpr (kKind != PrefixKind::kInet) nlabels = LabelsWritten<kVersion, kKind>(n, withdraw);
    constexpr unsigned kRdBytes = kKind == PrefixKind::kVpn ? 8 : 0;
    const size_t size = (add_path ? 4 : 0) + 1 + 3 * nlabels + kRdBytes + ((plen + 7) >> 3);
    uint8_t* p = Append(w, size);
    if (add_path) {
        Store32(p, n.path_id);
        p += 4;
    }
    *p++ = static_cast<uint8_t>(24 * nlabels + 8 * kRdBytes + plen);
    if constexpr (kKind != PrefixKind::kInet) {
        if (withdraw) {
            Store24(p, n.labels.empty() ? kWithdrawLabelRaw : n.labels.front());
            p += 3;
        } else if (n.labels.empty()) {
            Store24(p, MplsLabelField(0));  // a caller bug: announced without a label
            p += 3;
        } else {
            for (unsigned i = 0; i < nlabels; ++i) {
                uint32_t raw = n.labels.raw[i] & 0xfffffe;
                if (i + 1 == nlabels) raw |= 1;
                Store24(p, raw);
                p += 3;
            }
        }
    }
    if constexpr (kKind == PrefixKind::kVpn) {
        std::memcpy(p, n.rd.bytes.data(), 8);
        p += 8;
    }
    PutPrefixBits(p, n.prefix.address.bytes.data(), plen);
}

}  // namespace bagpipe::bgp::codec
