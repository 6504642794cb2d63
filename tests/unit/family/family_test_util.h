// Helpers for the NLRI codec tests: hex, decode / encode through the
// FamilyCodec rows, MP_REACH / MP_UNREACH value splitting, and RapidCheck
// generators of valid NLRI values.
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/wire/bytes.h"
#include "bgp/wire/family.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp::family_test {

inline Bytes Hex(std::string_view s) {
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    Bytes out;
    int hi = -1;
    for (char c : s) {
        int d = digit(c);
        if (d < 0) continue;  // spaces allowed
        if (hi < 0) {
            hi = d;
        } else {
            out.push_back(static_cast<uint8_t>(hi << 4 | d));
            hi = -1;
        }
    }
    return out;
}

inline std::string ToHex(ByteView b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (uint8_t c : b) {
        s += kHex[c >> 4];
        s += kHex[c & 15];
    }
    return s;
}

inline const FamilyCodec& Codec(Family f) {
    const FamilyCodec* c = FindFamilyCodec(f);
    if (c == nullptr) {
        ADD_FAILURE() << "no codec for family " << FamilyName(f);
        static const FamilyCodec* const kNone = FindFamilyCodec(Family::kIpv4Unicast);
        return *kNone;
    }
    return *c;
}

struct DecodeResult {
    bool ok = false;
    NlriList list;
    std::string error;
    size_t consumed = 0;  // octets the reader advanced
};

inline DecodeResult Decode(Family f, ByteView bytes, NlriContext ctx = {}) {
    const FamilyCodec& c = Codec(f);
    DecodeResult res;
    res.list = c.make_list();
    Reader r(bytes);
    res.ok = c.decode(r, ctx, res.list, res.error);
    res.consumed = bytes.size() - r.remaining();
    return res;
}

// Encodes every NLRI of `list`; sizes_ok tells whether encoded_size matched
// what each encode appended.
inline Bytes EncodeChecked(Family f, const NlriList& list, NlriContext ctx, bool& sizes_ok) {
    const FamilyCodec& c = Codec(f);
    Bytes out;
    Writer w(out);
    sizes_ok = true;
    for (size_t i = 0; i < NlriCount(list); ++i) {
        size_t before = out.size();
        size_t expected = c.encoded_size(list, i, ctx);
        c.encode(list, i, ctx, w);
        if (out.size() - before != expected) sizes_ok = false;
    }
    return out;
}

inline Bytes Encode(Family f, const NlriList& list, NlriContext ctx = {}) {
    bool sizes_ok = true;
    Bytes out = EncodeChecked(f, list, ctx, sizes_ok);
    EXPECT_TRUE(sizes_ok) << "encoded_size differs from what encode appended";
    return out;
}

template <typename T>
const std::vector<T>& As(const NlriList& list) {
    static const std::vector<T> kEmpty;
    const auto* v = std::get_if<std::vector<T>>(&list);
    EXPECT_NE(v, nullptr) << "NLRI list holds another type";
    return v ? *v : kEmpty;
}

// The MP_REACH_NLRI attribute value split into its fields.
struct MpReach {
    uint16_t afi = 0;
    uint8_t safi = 0;
    Bytes next_hop;
    Bytes nlri;
};

inline MpReach SplitMpReach(const Bytes& v) {
    MpReach m;
    if (v.size() < 5) {
        ADD_FAILURE() << "MP_REACH too short";
        return m;
    }
    m.afi = static_cast<uint16_t>(v[0] << 8 | v[1]);
    m.safi = v[2];
    size_t nh = v[3];
    if (v.size() < 5 + nh) {
        ADD_FAILURE() << "MP_REACH next hop truncated";
        return m;
    }
    m.next_hop.assign(v.begin() + 4, v.begin() + 4 + static_cast<ptrdiff_t>(nh));
    m.nlri.assign(v.begin() + 5 + static_cast<ptrdiff_t>(nh), v.end());  // reserved octet skipped
    return m;
}

// ---------------------------------------------------------------------------
// RapidCheck generators of valid, canonical values.

inline IpAddress GenAddress(uint8_t version) {
    IpAddress a;
    a.version = version;
    const size_t n = version == 4 ? 4 : 16;
    // Mostly random octets, sometimes all zero.
    if (*rc::gen::inRange(0, 10) != 0)
        for (size_t i = 0; i < n; ++i) a.bytes[i] = *rc::gen::arbitrary<uint8_t>();
    return a;
}

inline Prefix GenPrefix(uint8_t version) {
    Prefix p;
    p.address = GenAddress(version);
    p.length = static_cast<uint8_t>(*rc::gen::inRange<int>(0, version == 4 ? 33 : 129));
    MaskPrefixBytes(p.address.bytes.data(), p.address.size(), p.length);
    return p;
}

inline uint32_t GenRaw24() { return *rc::gen::inRange<uint32_t>(0, 1u << 24); }

// An announced stack: bottom-of-stack bit on the last label only.
inline LabelStack GenLabelStack(size_t max_labels) {
    LabelStack s;
    size_t n = static_cast<size_t>(*rc::gen::inRange<int>(1, static_cast<int>(max_labels) + 1));
    for (size_t i = 0; i < n; ++i) s.Push((GenRaw24() & 0xfffffe) | (i + 1 == n ? 1u : 0u));
    return s;
}

inline RouteDistinguisher GenRd() {
    RouteDistinguisher rd;
    for (auto& b : rd.bytes) b = *rc::gen::arbitrary<uint8_t>();
    return rd;
}

inline uint32_t GenPathId(bool add_path) { return add_path ? *rc::gen::arbitrary<uint32_t>() : 0; }

inline Bytes GenBytes(size_t min, size_t max) {
    size_t n = static_cast<size_t>(*rc::gen::inRange<size_t>(min, max + 1));
    Bytes b(n);
    for (auto& c : b) c = *rc::gen::arbitrary<uint8_t>();
    return b;
}

// Decodes `bytes`; when that succeeds, re-encoding must decode to the same
// list (decoding arbitrary input never crashes and canonicalizes).
inline void CheckReencodeStable(Family f, const Bytes& bytes, NlriContext ctx) {
    DecodeResult d = Decode(f, bytes, ctx);
    if (!d.ok) {
        RC_ASSERT(!d.error.empty());
        RC_ASSERT(d.consumed <= bytes.size());
        return;
    }
    RC_ASSERT(d.consumed == bytes.size());
    bool sizes_ok = false;
    Bytes again = EncodeChecked(f, d.list, ctx, sizes_ok);
    RC_ASSERT(sizes_ok);
    DecodeResult d2 = Decode(f, again, ctx);
    RC_ASSERT(d2.ok);
    RC_ASSERT(d2.list == d.list);
    RC_ASSERT(EncodeChecked(f, d2.list, ctx, sizes_ok) == again);
}

// encode then decode gives the same list, consuming everything.
inline void CheckRoundTrip(Family f, const NlriList& list, NlriContext ctx) {
    bool sizes_ok = false;
    Bytes wire = EncodeChecked(f, list, ctx, sizes_ok);
    RC_ASSERT(sizes_ok);
    DecodeResult d = Decode(f, wire, ctx);
    RC_ASSERT(d.ok);
    RC_ASSERT(d.consumed == wire.size());
    RC_ASSERT(d.list == list);
    // Canonical: re-encoding the decoded list is byte-identical.
    RC_ASSERT(EncodeChecked(f, d.list, ctx, sizes_ok) == wire);
}

inline void CheckNextHopRoundTrip(Family f, const NextHop& nh) {
    const FamilyCodec& c = Codec(f);
    Bytes out;
    Writer w(out);
    c.encode_next_hop(nh, w);
    RC_ASSERT(!out.empty());
    RC_ASSERT(out[0] + 1u == out.size());
    NextHop back;
    std::string error;
    RC_ASSERT(c.decode_next_hop(ByteView(out).subspan(1), back, error));
    RC_ASSERT(back == nh);
}

}  // namespace bagpipe::bgp::family_test
