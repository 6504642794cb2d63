#include "bgp/family/labeled/labeled_codec.h"

#include "bgp/family/codec_util.h"

namespace bagpipe::bgp {

namespace {

using codec::PrefixKind;

template <uint8_t kVersion>
constexpr Family kFamily = kVersion == 4 ? Family::kIpv4Labeled : Family::kIpv6Labeled;

NlriList MakeList() { return std::vector<LabeledNlri>{}; }

template <uint8_t kVersion>
bool Decode(Reader& r, const NlriContext& ctx, NlriList& list, std::string& error) {
    auto* out = codec::ListOf<LabeledNlri>(list);
    if (out == nullptr) return codec::WrongList(error, kFamily<kVersion>);
    return codec::DecodePrefixNlri<kVersion, PrefixKind::kLabeled>(r, ctx.add_path, ctx.withdraw,
                                                                   kFamily<kVersion>, *out, error);
}

template <uint8_t kVersion>
size_t EncodedSize(const NlriList& list, size_t i, const NlriContext& ctx) {
    const LabeledNlri* n = codec::ItemOf<LabeledNlri>(list, i);
    if (n == nullptr) return 0;
    return codec::PrefixNlriSize<kVersion, PrefixKind::kLabeled>(*n, ctx.add_path, ctx.withdraw);
}

template <uint8_t kVersion>
void Encode(const NlriList& list, size_t i, const NlriContext& ctx, Writer& w) {
    const LabeledNlri* n = codec::ItemOf<LabeledNlri>(list, i);
    if (n == nullptr) return;
    codec::EncodePrefixNlri<kVersion, PrefixKind::kLabeled>(*n, ctx.add_path, ctx.withdraw, w);
}

bool DecodeNextHop4(ByteView nh, NextHop& out, std::string& error) {
    return codec::DecodeNextHopForms(nh, codec::kNhV4 | codec::kNhV6 | codec::kNhV6Ll,
                                     Family::kIpv4Labeled, out, error);
}

bool DecodeNextHop6(ByteView nh, NextHop& out, std::string& error) {
    return codec::DecodeNextHopForms(nh, codec::kNhV6 | codec::kNhV6Ll, Family::kIpv6Labeled, out,
                                     error);
}

void EncodeNextHop(const NextHop& nh, Writer& w) { codec::EncodeNextHopField(nh, false, w); }

}  // namespace

const FamilyCodec kIpv4LabeledCodec = {
    Family::kIpv4Labeled, MakeList,      Decode<4>, EncodedSize<4>, Encode<4>,
    DecodeNextHop4,       EncodeNextHop,
};

const FamilyCodec kIpv6LabeledCodec = {
    Family::kIpv6Labeled, MakeList,      Decode<6>, EncodedSize<6>, Encode<6>,
    DecodeNextHop6,       EncodeNextHop,
};

}  // namespace bagpipe::bgp
