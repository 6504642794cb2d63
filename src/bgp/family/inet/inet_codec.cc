#include "bgp/family/inet/inet_codec.h"

#include "bgp/family/codec_util.h"

namespace bagpipe::bgp {

namespace {

using codec::PrefixKind;

template <uint8_t kVersion>
constexpr Family kFamily = kVersion == 4 ? Family::kIpv4Unicast : Family::kIpv6Unicast;

NlriList MakeList() { return std::vector<InetNlri>{}; }

template <uint8_t kVersion>
bool Decode(Reader& r, const NlriContext& ctx, NlriList& list, std::string& error) {
    auto* out = codec::ListOf<InetNlri>(list);
    if (out == nullptr) return codec::WrongList(error, kFamily<kVersion>);
    return codec::DecodePrefixNlri<kVersion, PrefixKind::kInet>(r, ctx.add_path, false,
                                                                kFamily<kVersion>, *out, error);
}

template <uint8_t kVersion>
size_t EncodedSize(const NlriList& list, size_t i, const NlriContext& ctx) {
    const InetNlri* n = codec::ItemOf<InetNlri>(list, i);
    if (n == nullptr) return 0;
    return codec::PrefixNlriSize<kVersion, PrefixKind::kInet>(*n, ctx.add_path, false);
}

template <uint8_t kVersion>
void Encode(const NlriList& list, size_t i, const NlriContext& ctx, Writer& w) {
    const InetNlri* n = codec::ItemOf<InetNlri>(list, i);
    if (n == nullptr) return;
    codec::EncodePrefixNlri<kVersion, PrefixKind::kInet>(*n, ctx.add_path, false, w);
}

bool DecodeNextHop4(ByteView nh, NextHop& out, std::string& error) {
    return codec::DecodeNextHopForms(nh, codec::kNhV4 | codec::kNhV6 | codec::kNhV6Ll,
                                     Family::kIpv4Unicast, out, error);
}

bool DecodeNextHop6(ByteView nh, NextHop& out, std::string& error) {
    return codec::DecodeNextHopForms(nh, codec::kNhV6 | codec::kNhV6Ll, Family::kIpv6Unicast, out,
                                     error);
}

void EncodeNextHop(const NextHop& nh, Writer& w) { codec::EncodeNextHopField(nh, false, w); }

}  // namespace

const FamilyCodec kIpv4UnicastCodec = {
    Family::kIpv4Unicast, MakeList,      Decode<4>, EncodedSize<4>, Encode<4>,
    DecodeNextHop4,       EncodeNextHop,
};

const FamilyCodec kIpv6UnicastCodec = {
    Family::kIpv6Unicast, MakeList,      Decode<6>, EncodedSize<6>, Encode<6>,
    DecodeNextHop6,       EncodeNextHop,
};

bool DecodeInetPrefixes(Reader& r, uint8_t version, bool add_path, std::vector<InetNlri>& out,
                        std::string& error) {
    if (version == 4)
        return codec::DecodePrefixNlri<4, PrefixKind::kInet>(r, add_path, false,
                                                             Family::kIpv4Unicast, out, error);
    if (version == 6)
        return codec::DecodePrefixNlri<6, PrefixKind::kInet>(r, add_path, false,
                                                             Family::kIpv6Unicast, out, error);
    error = fmt::format("invalid IP version {} for prefixes", version);
    return false;
}

void EncodeInetNlri(const InetNlri& n, bool add_path, Writer& w) {
    if (n.prefix.address.is_v6())
        codec::EncodePrefixNlri<6, PrefixKind::kInet>(n, add_path, false, w);
    else
        codec::EncodePrefixNlri<4, PrefixKind::kInet>(n, add_path, false, w);
}

size_t InetNlriSize(const InetNlri& n, bool add_path) {
    if (n.prefix.address.is_v6())
        return codec::PrefixNlriSize<6, PrefixKind::kInet>(n, add_path, false);
    return codec::PrefixNlriSize<4, PrefixKind::kInet>(n, add_path, false);
}

}  // namespace bagpipe::bgp
