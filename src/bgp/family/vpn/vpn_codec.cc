#include "bgp/family/vpn/vpn_codec.h"

#include "bgp/family/codec_util.h"

namespace bagpipe::bgp {

namespace {

using codec::PrefixKind;

template <uint8_t kVersion>
constexpr Family kFamily = kVersion == 4 ? Family::kIpv4Vpn : Family::kIpv6Vpn;

NlriList MakeList() { return std::vector<VpnNlri>{}; }

template <uint8_t kVersion>
bool Decode(Reader& r, const NlriContext& ctx, NlriList& list, std::string& error) {
    auto* out = codec::ListOf<VpnNlri>(list);
    if (out == nullptr) return codec::WrongList(error, kFamily<kVersion>);
    return codec::DecodePrefixNlri<kVersion, PrefixKind::kVpn>(r, ctx.add_path, ctx.withdraw,
                                                               kFamily<kVersion>, *out, error);
}

template <uint8_t kVersion>
size_t EncodedSize(const NlriList& list, size_t i, const NlriContext& ctx) {
    const VpnNlri* n = codec::ItemOf<VpnNlri>(list, i);
    if (n == nullptr) return 0;
    return codec::PrefixNlriSize<kVersion, PrefixKind::kVpn>(*n, ctx.add_path, ctx.withdraw);
}

template <uint8_t kVersion>
void Encode(const NlriList& list, size_t i, const NlriContext& ctx, Writer& w) {
    const VpnNlri* n = codec::ItemOf<VpnNlri>(list, i);
    if (n == nullptr) return;
    codec::EncodePrefixNlri<kVersion, PrefixKind::kVpn>(*n, ctx.add_path, ctx.withdraw, w);
}

bool DecodeNextHop4(ByteView nh, NextHop& out, std::string& error) {
    return codec::DecodeNextHopForms(nh, codec::kNhRdV4 | codec::kNhRdV6 | codec::kNhRdV6Ll,
                                     Family::kIpv4Vpn, out, error);
}

bool DecodeNextHop6(ByteView nh, NextHop& out, std::string& error) {
    return codec::DecodeNextHopForms(nh, codec::kNhRdV6 | codec::kNhRdV6Ll, Family::kIpv6Vpn, out,
                                     error);
}

void EncodeNextHop(const NextHop& nh, Writer& w) { codec::EncodeNextHopField(nh, true, w); }

}  // namespace

const FamilyCodec kIpv4VpnCodec = {
    Family::kIpv4Vpn, MakeList, Decode<4>, EncodedSize<4>, Encode<4>, DecodeNextHop4, EncodeNextHop,
};

const FamilyCodec kIpv6VpnCodec = {
    Family::kIpv6Vpn, MakeList, Decode<6>, EncodedSize<6>, Encode<6>, DecodeNextHop6, EncodeNextHop,
};

}  // namespace bagpipe::bgp
