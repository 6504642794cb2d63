// Helpers shared by the wire codec unit tests (tests/unit/wire/*_test.cc):
// hex conversion, hand-built messages and attributes, stream splitting, and
// RapidCheck generators for canonical values of the wire types.
//
// The generators produce values in the form the decoders give back (prefix
// bits masked, fields a route type does not carry left empty...), so that
// decode(encode(x)) == x can be asserted directly.
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "bgp/wire/attributes.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/message.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp::testing {

// "ffff 00 1a" -> bytes; spaces are ignored.
inline Bytes Hex(std::string_view text) {
    Bytes out;
    int hi = -1;
    for (char c : text) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            out.push_back(static_cast<uint8_t>(hi << 4 | v));
            hi = -1;
        }
    }
    return out;
}

inline std::string ToHex(ByteView b) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (auto x : b) {
        s.push_back(kHex[x >> 4]);
        s.push_back(kHex[x & 15]);
    }
    return s;
}

inline Bytes Cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// One path attribute as given: the length field has 2 octets when `flags`
// carries the Extended Length bit, else 1 (whatever the value's size).
inline Bytes Attr(uint8_t flags, uint8_t code, const Bytes& value) {
    Bytes out{flags, code};
    if (flags & attr::kExtendedLength) out.push_back(static_cast<uint8_t>(value.size() >> 8));
    out.push_back(static_cast<uint8_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
    return out;
}

// A whole BGP message: marker, length, type, body.
inline Bytes Message(uint8_t type, const Bytes& body) {
    Bytes out(16, 0xff);
    size_t len = kHeaderSize + body.size();
    out.push_back(static_cast<uint8_t>(len >> 8));
    out.push_back(static_cast<uint8_t>(len));
    out.push_back(type);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

// A whole UPDATE built from its three fields (lengths computed).
inline Bytes Update(const Bytes& withdrawn, const Bytes& attrs, const Bytes& nlri) {
    Bytes body;
    body.push_back(static_cast<uint8_t>(withdrawn.size() >> 8));
    body.push_back(static_cast<uint8_t>(withdrawn.size()));
    body.insert(body.end(), withdrawn.begin(), withdrawn.end());
    body.push_back(static_cast<uint8_t>(attrs.size() >> 8));
    body.push_back(static_cast<uint8_t>(attrs.size()));
    body.insert(body.end(), attrs.begin(), attrs.end());
    body.insert(body.end(), nlri.begin(), nlri.end());
    return Message(2, body);
}

// One attribute of an encoded attribute block, as found on the wire.
struct WireAttr {
    uint8_t flags = 0;
    uint8_t code = 0;
    Bytes value;
    Bytes whole;  // header and value
};

// Splits an attribute block into its attributes (the block must be well formed).
inline std::vector<WireAttr> SplitAttributes(ByteView block) {
    std::vector<WireAttr> out;
    size_t pos = 0;
    while (pos + 3 <= block.size()) {
        WireAttr a;
        a.flags = block[pos];
        a.code = block[pos + 1];
        size_t hdr = (a.flags & attr::kExtendedLength) ? 4 : 3;
        size_t len = hdr == 4 ? (size_t{block[pos + 2]} << 8 | block[pos + 3]) : block[pos + 2];
        if (pos + hdr + len > block.size()) break;
        a.value.assign(block.begin() + pos + hdr, block.begin() + pos + hdr + len);
        a.whole.assign(block.begin() + pos, block.begin() + pos + hdr + len);
        out.push_back(std::move(a));
        pos += hdr + len;
    }
    return out;
}

// The path attribute block of an encoded UPDATE.
inline ByteView AttributeBlock(ByteView update) {
    size_t wl = size_t{update[19]} << 8 | update[20];
    size_t al_at = kHeaderSize + 2 + wl;
    size_t al = size_t{update[al_at]} << 8 | update[al_at + 1];
    return update.subspan(al_at + 2, al);
}

inline Bytes EncodeAttributes(const PathAttributes& a, const SessionContext& ctx) {
    Bytes out;
    Writer w(out);
    EncodePathAttributes(a, ctx, w);
    return out;
}

// Splits a stream of back-to-back messages with FrameMessage; fails the
// current test if the stream does not split cleanly.
inline std::vector<Bytes> SplitStream(ByteView stream, size_t max_size) {
    std::vector<Bytes> out;
    while (!stream.empty()) {
        FrameResult f = FrameMessage(stream, max_size);
        EXPECT_FALSE(f.error.has_value()) << (f.error ? f.error->reason : "");
        EXPECT_NE(f.length, 0u) << "incomplete message at the end of the stream";
        if (f.error || f.length == 0) break;
        out.emplace_back(stream.begin(), stream.begin() + f.length);
        stream = stream.subspan(f.length);
    }
    return out;
}

// ---------------------------------------------------------------------------
// RapidCheck generators. Each draws with operator* and must run inside a
// property.

inline uint32_t GenU32() { return *rc::gen::arbitrary<uint32_t>(); }
inline uint8_t GenU8() { return *rc::gen::arbitrary<uint8_t>(); }

inline Bytes GenBytes(size_t min, size_t max) {
    size_t n = *rc::gen::inRange<size_t>(min, max + 1);
    return *rc::gen::container<Bytes>(n, rc::gen::arbitrary<uint8_t>());
}

inline IpAddress GenV4() { return IpAddress::V4(GenU32()); }

inline IpAddress GenV6() {
    Bytes b = *rc::gen::container<Bytes>(16, rc::gen::arbitrary<uint8_t>());
    return IpAddress::V6(b.data());
}

inline Prefix GenPrefix(uint8_t version) {
    Prefix p;
    p.address = version == 4 ? GenV4() : GenV6();
    p.length = *rc::gen::inRange<uint8_t>(0, static_cast<uint8_t>(p.max_length() + 1));
    MaskPrefixBytes(p.address.bytes.data(), p.address.size(), p.length);
    return p;
}

inline RouteDistinguisher GenRd() {
    Bytes b = *rc::gen::container<Bytes>(8, rc::gen::arbitrary<uint8_t>());
    return RouteDistinguisher::FromBytes(b.data());
}

inline uint32_t GenLabelRaw() { return GenU32() & 0xffffff; }

// Announced label stack: BoS on the last label only, as the encoder writes it.
inline LabelStack GenAnnouncedLabels(size_t max_labels) {
    size_t n = *rc::gen::inRange<size_t>(1, max_labels + 1);
    LabelStack s;
    for (size_t i = 0; i < n; ++i) {
        uint32_t raw = GenLabelRaw() & 0xfffffe;
        if (i + 1 == n) raw |= 1;
        s.Push(raw);
    }
    return s;
}

inline VpnNlri GenVpnNlri(bool withdraw, bool add_path = false) {
    VpnNlri n;
    if (add_path) n.path_id = GenU32();
    n.labels = withdraw ? LabelStack::One(GenLabelRaw()) : GenAnnouncedLabels(3);
    n.rd = GenRd();
    n.prefix = GenPrefix(4);
    return n;
}

inline InetNlri GenInetNlri(bool add_path = false) {
    InetNlri n;
    if (add_path) n.path_id = GenU32();
    n.prefix = GenPrefix(4);
    return n;
}

inline RtcNlri GenRtcNlri(bool add_path = false) {
    RtcNlri n;
    if (add_path) n.path_id = GenU32();
    if (*rc::gen::inRange(0, 8) == 0) return n;  // default route
    n.length = *rc::gen::inRange<uint8_t>(32, 97);
    n.origin_as = GenU32();
    Bytes rt = *rc::gen::container<Bytes>(8, rc::gen::arbitrary<uint8_t>());
    std::copy(rt.begin(), rt.end(), n.route_target.bytes.begin());
    MaskPrefixBytes(n.route_target.bytes.data(), 8, n.length - 32u);
    return n;
}

inline Esi GenEsi() {
    Esi e;
    Bytes b = *rc::gen::container<Bytes>(10, rc::gen::arbitrary<uint8_t>());
    std::copy(b.begin(), b.end(), e.bytes.begin());
    return e;
}

inline MacAddress GenMac() {
    MacAddress m;
    Bytes b = *rc::gen::container<Bytes>(6, rc::gen::arbitrary<uint8_t>());
    std::copy(b.begin(), b.end(), m.bytes.begin());
    return m;
}

// EVPN routes of types 1-5 and unknown types, with only the fields their
// route type carries.
inline EvpnNlri GenEvpnNlri(bool add_path = false, int only_type = 0) {
    EvpnNlri n;
    if (add_path) n.path_id = GenU32();
    int type = only_type ? only_type : *rc::gen::element(1, 2, 3, 4, 5, 9);
    n.route_type = static_cast<uint8_t>(type);
    bool v6 = *rc::gen::arbitrary<bool>();
    switch (type) {
        case 1:
            n.rd = GenRd();
            n.esi = GenEsi();
            n.ethernet_tag = GenU32();
            n.labels = LabelStack::One(GenLabelRaw());
            break;
        case 2: {
            n.rd = GenRd();
            n.esi = GenEsi();
            n.ethernet_tag = GenU32();
            n.mac_length = 48;
            n.mac = GenMac();
            int ip = *rc::gen::inRange(0, 3);
            if (ip == 1) n.ip = GenV4();
            if (ip == 2) n.ip = GenV6();
            n.labels = LabelStack::One(GenLabelRaw());
            if (*rc::gen::arbitrary<bool>()) n.labels.Push(GenLabelRaw());
            break;
        }
        case 3:
            n.rd = GenRd();
            n.ethernet_tag = GenU32();
            n.originating_ip = v6 ? GenV6() : GenV4();
            break;
        case 4:
            n.rd = GenRd();
            n.esi = GenEsi();
            n.originating_ip = v6 ? GenV6() : GenV4();
            break;
        case 5:
            n.rd = GenRd();
            n.esi = GenEsi();
            n.ethernet_tag = GenU32();
            n.prefix = GenPrefix(v6 ? 6 : 4);
            n.gateway_ip = v6 ? GenV6() : GenV4();
            n.labels = LabelStack::One(GenLabelRaw());
            break;
        default:
            n.raw = GenBytes(0, 40);
            break;
    }
    return n;
}

template <typename T, typename F>
std::vector<T> GenList(size_t min, size_t max, F&& one) {
    size_t n = *rc::gen::inRange<size_t>(min, max + 1);
    std::vector<T> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(one());
    return out;
}

}  // namespace bagpipe::bgp::testing
