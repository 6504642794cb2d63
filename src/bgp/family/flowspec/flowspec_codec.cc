#include "bgp/family/flowspec/flowspec_codec.h"

#include "bgp/family/codec_util.h"

namespace bagpipe::bgp {

namespace {

constexpr size_t kMaxLength = 0xfff;
constexpr size_t kExtendedFrom = 0xf0;

NlriList MakeList() { return std::vector<OpaqueNlri>{}; }

size_t CountNlri(const uint8_t* p, const uint8_t* end, bool add_path) {
    size_t n = 0;
    const size_t skip = add_path ? 4 : 0;
    while (static_cast<size_t>(end - p) > skip) {
        p += skip;
        size_t len = *p++;
        if (len >= kExtendedFrom) {
            if (p == end) break;
            len = ((len & 0x0f) << 8) | *p++;
        }
        p += std::min<size_t>(len, static_cast<size_t>(end - p));
        ++n;
    }
    return n;
}

template <Family kFam>
bool Decode(Reader& r, const NlriContext& ctx, NlriList& list, std::string& error) {
    auto* out = codec::ListOf<OpaqueNlri>(list);
    if (out == nullptr) return codec::WrongList(error, kFam);
    const uint8_t* const begin = r.data();
    const uint8_t* const end = begin + r.remaining();
    const uint8_t* p = begin;
    codec::ReserveMore(*out, CountNlri(p, end, ctx.add_path));
    const size_t head = ctx.add_path ? 5 : 1;
    while (p != end) {
        const uint8_t* const start = p;
        auto fail = [&]() {
            r.Skip(static_cast<size_t>(start - begin));
            return false;
        };
        if (static_cast<size_t>(end - p) < head) {
            codec::Fail(error, kFam, "truncated NLRI: {} octets left, header needs {}", end - p,
                        head);
            return fail();
        }
        uint32_t path_id = 0;
        if (ctx.add_path) {
            path_id = codec::Load32(p);
            p += 4;
        }
        size_t len = *p++;
        if (len >= kExtendedFrom) {
            if (p == end) {
                codec::Fail(error, kFam, "truncated NLRI: 2-octet length cut after 0x{:02x}", len);
                return fail();
            }
            len = ((len & 0x0f) << 8) | *p++;
        }
        if (static_cast<size_t>(end - p) < len) {
            codec::Fail(error, kFam, "truncated NLRI: length {}, {} octets left", len, end - p);
            return fail();
        }
        OpaqueNlri& n = out->emplace_back();
        n.path_id = path_id;
        n.raw.assign(p, p + len);
        p += len;
    }
    r.Skip(static_cast<size_t>(end - begin));
    return true;
}

size_t RawLength(const OpaqueNlri& n) { return std::min(n.raw.size(), kMaxLength); }

size_t EncodedSize(const NlriList& list, size_t i, const NlriContext& ctx) {
    const OpaqueNlri* n = codec::ItemOf<OpaqueNlri>(list, i);
    if (n == nullptr) return 0;
    const size_t len = RawLength(*n);
    return (ctx.add_path ? 4 : 0) + (len < kExtendedFrom ? 1 : 2) + len;
}

void Encode(const NlriList& list, size_t i, const NlriContext& ctx, Writer& w) {
    const OpaqueNlri* n = codec::ItemOf<OpaqueNlri>(list, i);
    if (n == nullptr) return;
    const size_t len = RawLength(*n);
    const size_t head = len < kExtendedFrom ? 1 : 2;
    uint8_t* p = codec::Append(w, (ctx.add_path ? 4 : 0) + head + len);
    if (ctx.add_path) {
        codec::Store32(p, n->path_id);
        p += 4;
    }
    if (head == 1) {
        *p++ = static_cast<uint8_t>(len);
    } else {
        codec::Store16(p, static_cast<uint32_t>(0xf000 | len));
        p += 2;
    }
    if (len != 0) std::memcpy(p, n->raw.data(), len);
}

template <Family kFam>
bool DecodeNextHop(ByteView nh, NextHop& out, std::string& error) {
    constexpr unsigned kForms = codec::kNhEmpty | codec::kNhV4 | codec::kNhV6 | codec::kNhV6Ll |
                                codec::kNhRdV4 | codec::kNhRdV6 | codec::kNhRdV6Ll;
    return codec::DecodeNextHopForms(nh, kForms, kFam, out, error);
}

void EncodeNextHop(const NextHop& nh, Writer& w) { codec::EncodeNextHopField(nh, false, w); }

}  // namespace

const FamilyCodec kIpv4FlowspecVpnCodec = {
    Family::kIpv4FlowspecVpn,
    MakeList,
    Decode<Family::kIpv4FlowspecVpn>,
    EncodedSize,
    Encode,
    DecodeNextHop<Family::kIpv4FlowspecVpn>,
    EncodeNextHop,
};

const FamilyCodec kIpv6FlowspecVpnCodec = {
    Family::kIpv6FlowspecVpn,
    MakeList,
    Decode<Family::kIpv6FlowspecVpn>,
    EncodedSize,
    Encode,
    DecodeNextHop<Family::kIpv6FlowspecVpn>,
    EncodeNextHop,
};

}  // namespace bagpipe::bgp
