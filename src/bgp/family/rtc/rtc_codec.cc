#include "bgp/family/rtc/rtc_codec.h"

#include "bgp/family/codec_util.h"

namespace bagpipe::bgp {

namespace {

constexpr Family kFam = Family::kIpv4Rtc;

NlriList MakeList() { return std::vector<RtcNlri>{}; }

bool Decode(Reader& r, const NlriContext& ctx, NlriList& list, std::string& error) {
    auto* out = codec::ListOf<RtcNlri>(list);
    if (out == nullptr) return codec::WrongList(error, kFam);
    const uint8_t* const begin = r.data();
    const uint8_t* const end = begin + r.remaining();
    const uint8_t* p = begin;
    codec::ReserveMore(*out, codec::CountBitLengthNlri(p, end, ctx.add_path));
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
        const unsigned bits = *p++;
        if (bits != 0 && (bits < 32 || bits > 96)) {
            codec::Fail(error, kFam, "prefix length {} bits, must be 0 or 32 to 96", bits);
            return fail();
        }
        const size_t nbytes = (bits + 7) >> 3;
        if (static_cast<size_t>(end - p) < nbytes) {
            codec::Fail(error, kFam, "truncated NLRI: length {} bits needs {} octets, {} left",
                        bits, nbytes, end - p);
            return fail();
        }
        RtcNlri& n = out->emplace_back();
        n.path_id = path_id;
        n.length = static_cast<uint8_t>(bits);
        if (bits != 0) {
            n.origin_as = codec::Load32(p);
            codec::CopyPrefixBits(n.route_target.bytes.data(), p + 4, bits - 32);
        }
        p += nbytes;
    }
    r.Skip(static_cast<size_t>(end - begin));
    return true;
}

// The length written: 0, or n.length brought into 32..96.
unsigned LengthBits(const RtcNlri& n) {
    if (n.length == 0) return 0;
    return std::clamp<unsigned>(n.length, 32, 96);
}

size_t EncodedSize(const NlriList& list, size_t i, const NlriContext& ctx) {
    const RtcNlri* n = codec::ItemOf<RtcNlri>(list, i);
    if (n == nullptr) return 0;
    return (ctx.add_path ? 4 : 0) + 1 + ((LengthBits(*n) + 7) >> 3);
}

void Encode(const NlriList& list, size_t i, const NlriContext& ctx, Writer& w) {
    const RtcNlri* n = codec::ItemOf<RtcNlri>(list, i);
    if (n == nullptr) return;
    const unsigned bits = LengthBits(*n);
    uint8_t* p = codec::Append(w, (ctx.add_path ? 4 : 0) + 1 + ((bits + 7) >> 3));
    if (ctx.add_path) {
        codec::Store32(p, n->path_id);
        p += 4;
    }
    *p++ = static_cast<uint8_t>(bits);
    if (bits == 0) return;
    codec::Store32(p, n->origin_as);
    codec::PutPrefixBits(p + 4, n->route_target.bytes.data(), bits - 32);
}

bool DecodeNextHop(ByteView nh, NextHop& out, std::string& error) {
    return codec::DecodeNextHopForms(nh, codec::kNhV4 | codec::kNhV6 | codec::kNhV6Ll, kFam, out,
                                     error);
}

void EncodeNextHop(const NextHop& nh, Writer& w) { codec::EncodeNextHopField(nh, false, w); }

}  // namespace

const FamilyCodec kIpv4RtcCodec = {
    Family::kIpv4Rtc, MakeList, Decode, EncodedSize, Encode, DecodeNextHop, EncodeNextHop,
};

}  // namespace bagpipe::bgp
