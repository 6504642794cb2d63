#include "bgp/wire/update_packer.h"

#include <cstring>

#include "bgp/wire/message.h"

namespace bagpipe::bgp {

namespace {

// Splits an encoded attribute block into the attributes before and after
// MP_REACH/MP_UNREACH (codes 14 and 15) in type-code order.
void SplitAroundMp(const Bytes& encoded, Bytes& before, Bytes& after) {
    size_t pos = 0;
    while (pos < encoded.size()) {
        uint8_t flags = encoded[pos];
        uint8_t code = encoded[pos + 1];
        size_t hdr = (flags & attr::kExtendedLength) ? 4 : 3;
        size_t len = (flags & attr::kExtendedLength)
                         ? (size_t{encoded[pos + 2]} << 8 | encoded[pos + 3])
                         : encoded[pos + 2];
        Bytes& dst = code < attr::kMpReach ? before : after;
        dst.insert(dst.end(), encoded.begin() + static_cast<ptrdiff_t>(pos),
                   encoded.begin() + static_cast<ptrdiff_t>(pos + hdr + len));
        pos += hdr + len;
    }
}

void Patch16(Bytes& b, size_t at, size_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}

// Writes MP_REACH/MP_UNREACH messages: header, empty withdrawn field,
// `before`, the MP attribute (fixed part + as many NLRI as fit), `after`.
PackResult PackMp(uint8_t mp_code, const Bytes& before, const Bytes& after, const Bytes& mp_fixed,
                  const FamilyCodec& codec, const NlriList& nlri, const NlriContext& nctx,
                  size_t max_size, Bytes& out) {
    PackResult res;
    const size_t n = NlriCount(nlri);
    // Everything but the MP attribute's header and NLRI. The header has 3
    // octets while the MP value fits 255 octets, 4 beyond (extended length):
    // counting 4 always would split one NLRI early in that case.
    const size_t fixed = kHeaderSize + 2 + 2 + before.size() + mp_fixed.size() + after.size();
    auto fits = [&](size_t used) {
        size_t mp_header = mp_fixed.size() + used > 255 ? 4 : 3;
        return fixed + mp_header + used <= max_size;
    };
    if (!fits(0)) {
        res.oversized = n;
        return res;
    }
    size_t i = 0;
    while (i < n) {
        size_t used = 0;
        size_t first = i;
        while (i < n) {
            size_t sz = codec.encoded_size(nlri, i, nctx);
            if (!fits(used + sz)) break;
            used += sz;
            ++i;
        }
        if (i == first) {  // one NLRI larger than an empty message
            ++res.oversized;
            ++i;
            continue;
        }
        size_t msg_start = out.size();
        Writer w(out);
        PutHeader(MessageType::kUpdate, 0, w);
        w.PutU16(0);  // withdrawn routes length
        size_t attr_len_at = w.Reserve(2);
        w.PutBytes(before);
        size_t mp_value_len = mp_fixed.size() + used;
        PutAttributeHeader(attr::kOptional, mp_code, mp_value_len, w);
        w.PutBytes(mp_fixed);
        for (size_t k = first; k < i; ++k) codec.encode(nlri, k, nctx, w);
        w.PutBytes(after);
        Patch16(out, attr_len_at, out.size() - attr_len_at - 2);
        Patch16(out, msg_start + 16, out.size() - msg_start);
        ++res.messages;
        res.nlri += i - first;
    }
    return res;
}

}  // namespace

PackResult PackAnnouncements(const PathAttributes& attrs, Family family, const NextHop& next_hop,
                             const NlriList& nlri, const SessionContext& ctx, Bytes& out) {
    PackResult res;
    const FamilyCodec* codec = FindFamilyCodec(family);
    if (!codec || NlriCount(nlri) == 0) return res;
    NlriContext nctx{ctx.add_path_tx(family), false};
    const size_t max_size = ctx.max_message_size();

    PathAttributes base = attrs;
    base.clear(attr::kMpReach);
    base.clear(attr::kMpUnreach);
    if (family == Family::kIpv4Unicast && !base.has(attr::kNextHop) && next_hop.global.is_v4()) {
        base.next_hop = next_hop.global;
        base.set(attr::kNextHop);
    }
    Bytes encoded;
    {
        Writer w(encoded);
        EncodePathAttributes(base, ctx, w);
    }

    if (family == Family::kIpv4Unicast) {
        // Classic encoding: the NLRI follow the attributes.
        const size_t fixed = kHeaderSize + 4 + encoded.size();
        const size_t n = NlriCount(nlri);
        if (fixed > max_size) {
            res.oversized = n;
            return res;
        }
        size_t i = 0;
        while (i < n) {
            size_t used = 0, first = i;
            while (i < n) {
                size_t sz = codec->encoded_size(nlri, i, nctx);
                if (fixed + used + sz > max_size) break;
                used += sz;
                ++i;
            }
            if (i == first) {
                ++res.oversized;
                ++i;
                continue;
            }
            size_t msg_start = out.size();
            Writer w(out);
            PutHeader(MessageType::kUpdate, fixed + used, w);
            w.PutU16(0);
            w.PutU16(static_cast<uint16_t>(encoded.size()));
            w.PutBytes(encoded);
            for (size_t k = first; k < i; ++k) codec->encode(nlri, k, nctx, w);
            (void)msg_start;
            ++res.messages;
            res.nlri += i - first;
        }
        return res;
    }

    Bytes before, after;
    SplitAroundMp(encoded, before, after);
    Bytes mp_fixed;
    {
        Writer w(mp_fixed);
        AfiSafi as = ToAfiSafi(family);
        w.PutU16(as.afi);
        w.PutU8(as.safi);
        codec->encode_next_hop(next_hop, w);
        w.PutU8(0);  // reserved
    }
    return PackMp(attr::kMpReach, before, after, mp_fixed, *codec, nlri, nctx, max_size, out);
}

PackResult PackWithdrawals(Family family, const NlriList& nlri, const SessionContext& ctx,
                           Bytes& out) {
    PackResult res;
    const FamilyCodec* codec = FindFamilyCodec(family);
    if (!codec || NlriCount(nlri) == 0) return res;
    NlriContext nctx{ctx.add_path_tx(family), true};
    const size_t max_size = ctx.max_message_size();
    const size_t n = NlriCount(nlri);

    if (family == Family::kIpv4Unicast) {
        const size_t fixed = kHeaderSize + 4;
        size_t i = 0;
        while (i < n) {
            size_t used = 0, first = i;
            while (i < n) {
                size_t sz = codec->encoded_size(nlri, i, nctx);
                if (fixed + used + sz > max_size) break;
                used += sz;
                ++i;
            }
            if (i == first) {
                ++res.oversized;
                ++i;
                continue;
            }
            Writer w(out);
            PutHeader(MessageType::kUpdate, fixed + used, w);
            w.PutU16(static_cast<uint16_t>(used));
            for (size_t k = first; k < i; ++k) codec->encode(nlri, k, nctx, w);
            w.PutU16(0);
            ++res.messages;
            res.nlri += i - first;
        }
        return res;
    }

    Bytes mp_fixed;
    {
        Writer w(mp_fixed);
        AfiSafi as = ToAfiSafi(family);
        w.PutU16(as.afi);
        w.PutU8(as.safi);
    }
    return PackMp(attr::kMpUnreach, {}, {}, mp_fixed, *codec, nlri, nctx, max_size, out);
}

}  // namespace bagpipe::bgp
