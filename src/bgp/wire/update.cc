// UPDATE message decoding and encoding (RFC 4271 §4.3, RFC 4760, RFC 7606).
#include <fmt/format.h>

#include "bgp/family/inet/inet_codec.h"
#include "bgp/wire/message.h"

namespace bagpipe::bgp {

namespace {

// Decodes the classic IPv4 withdrawn-routes or NLRI field.
bool DecodeIpv4Field(ByteView field, const SessionContext& ctx, std::vector<InetNlri>& out,
                     std::string& why) {
    Reader r(field);
    return DecodeInetPrefixes(r, 4, ctx.add_path_rx(Family::kIpv4Unicast), out, why);
}

void EncodeIpv4Field(const std::vector<InetNlri>& prefixes, const SessionContext& ctx, Writer& w) {
    bool add_path = ctx.add_path_tx(Family::kIpv4Unicast);
    for (const auto& p : prefixes) EncodeInetNlri(p, add_path, w);
}

}  // namespace

void DecodeUpdateBody(Reader& r, const SessionContext& ctx, DecodeResult& res) {
    UpdateMessage m;
    uint16_t withdrawn_len = 0, attrs_len = 0;
    ByteView withdrawn, attrs;
    auto malformed = [&](std::string why) {
        res.error = DecodeError::Reset(notif::kUpdateMessageError, notif::kMalformedAttributeList,
                                       std::move(why));
    };
    if (!r.ReadU16(withdrawn_len) || !r.ReadBytes(withdrawn_len, withdrawn)) {
        malformed(fmt::format("withdrawn routes length {} overruns the message", withdrawn_len));
        return;
    }
    if (!r.ReadU16(attrs_len) || !r.ReadBytes(attrs_len, attrs)) {
        malformed(fmt::format("total path attribute length {} overruns the message", attrs_len));
        return;
    }
    ByteView nlri = r.rest();
    std::string why;
    if (!DecodeIpv4Field(withdrawn, ctx, m.withdrawn, why)) {
        res.error = DecodeError::Reset(notif::kUpdateMessageError, notif::kInvalidNetworkField,
                                       "withdrawn routes: " + why);
        res.message = std::move(m);
        return;
    }
    if (!DecodeIpv4Field(nlri, ctx, m.nlri, why)) {
        res.error = DecodeError::Reset(notif::kUpdateMessageError, notif::kInvalidNetworkField,
                                       "NLRI: " + why);
        res.message = std::move(m);
        return;
    }
    // RFC 7606 §5.2: an UPDATE with NLRI but no attributes at all is reset-worthy
    // only if it cannot be parsed; missing attributes are handled below.
    res.error = DecodePathAttributes(attrs, ctx, !nlri.empty(), m.attributes);
    res.message = std::move(m);
}

Bytes EncodeUpdate(const UpdateMessage& m, const SessionContext& ctx) {
    Bytes out;
    out.reserve(256);
    Writer w(out);
    PutHeader(MessageType::kUpdate, 0, w);
    size_t wl = w.Reserve(2);
    EncodeIpv4Field(m.withdrawn, ctx, w);
    w.PatchU16(wl, static_cast<uint16_t>(out.size() - wl - 2));
    size_t al = w.Reserve(2);
    EncodePathAttributes(m.attributes, ctx, w);
    size_t attrs_size = out.size() - al - 2;
    EncodeIpv4Field(m.nlri, ctx, w);
    if (out.size() > ctx.max_message_size() || attrs_size > 0xffff) return {};
    w.PatchU16(al, static_cast<uint16_t>(attrs_size));
    w.PatchU16(16, static_cast<uint16_t>(out.size()));
    return out;
}

Bytes EncodeEndOfRib(Family f) {
    UpdateMessage m;
    if (f != Family::kIpv4Unicast) {
        AfiSafi as = ToAfiSafi(f);
        m.attributes.mp_unreach.family = f;
        m.attributes.mp_unreach.afi = as.afi;
        m.attributes.mp_unreach.safi = as.safi;
        if (const FamilyCodec* c = FindFamilyCodec(f)) m.attributes.mp_unreach.withdrawn = c->make_list();
        m.attributes.set(attr::kMpUnreach);
    }
    return EncodeUpdate(m, SessionContext{});
}

}  // namespace bagpipe::bgp
