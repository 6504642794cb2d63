#include "bgp/wire/attributes.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace bagpipe::bgp {

namespace {

constexpr uint8_t kWellKnown = attr::kTransitive;               // 0x40
constexpr uint8_t kOptTrans = attr::kOptional | attr::kTransitive;  // 0xc0
constexpr uint8_t kOptNonTrans = attr::kOptional;               // 0x80

constexpr ErrorAction kDiscard = ErrorAction::kAttributeDiscard;
constexpr ErrorAction kWithdraw = ErrorAction::kTreatAsWithdraw;
constexpr ErrorAction kReset = ErrorAction::kSessionReset;

// One row per attribute BaGPipe understands; the RFC 7606 §7 action for a
// malformed value is part of the row. LOCAL_PREF's action depends on iBGP vs
// eBGP (RFC 7606 §7.5) and is adjusted at decode time.
constexpr std::array<AttributeDescriptor, 18> kDescriptors = {{
    {attr::kOrigin, "ORIGIN", kWellKnown, kWithdraw},
    {attr::kAsPath, "AS_PATH", kWellKnown, kWithdraw},
    {attr::kNextHop, "NEXT_HOP", kWellKnown, kWithdraw},
    {attr::kMed, "MULTI_EXIT_DISC", kOptNonTrans, kWithdraw},
    {attr::kLocalPref, "LOCAL_PREF", kWellKnown, kWithdraw},
    {attr::kAtomicAggregate, "ATOMIC_AGGREGATE", kWellKnown, kDiscard},
    {attr::kAggregator, "AGGREGATOR", kOptTrans, kDiscard},
    {attr::kCommunities, "COMMUNITIES", kOptTrans, kWithdraw},
    {attr::kOriginatorId, "ORIGINATOR_ID", kOptNonTrans, kWithdraw},
    {attr::kClusterList, "CLUSTER_LIST", kOptNonTrans, kWithdraw},
    {attr::kMpReach, "MP_REACH_NLRI", kOptNonTrans, kReset},
    {attr::kMpUnreach, "MP_UNREACH_NLRI", kOptNonTrans, kReset},
    {attr::kExtCommunities, "EXTENDED_COMMUNITIES", kOptTrans, kWithdraw},
    {attr::kAs4Path, "AS4_PATH", kOptTrans, kDiscard},
    {attr::kAs4Aggregator, "AS4_AGGREGATOR", kOptTrans, kDiscard},
    {attr::kPmsiTunnel, "PMSI_TUNNEL", kOptTrans, kWithdraw},
    {attr::kLargeCommunities, "LARGE_COMMUNITIES", kOptTrans, kWithdraw},
    {attr::kAttrSet, "ATTR_SET", kOptTrans, kWithdraw},
}};

struct DescriptorIndex {
    std::array<int8_t, 256> slot{};
    constexpr DescriptorIndex() {
        for (auto& s : slot) s = -1;
        for (size_t i = 0; i < kDescriptors.size(); ++i)
            slot[kDescriptors[i].code] = static_cast<int8_t>(i);
    }
};
constexpr DescriptorIndex kIndex;

uint32_t Get32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

Bytes AttributeBytes(uint8_t flags, uint8_t code, ByteView value) {
    Bytes b;
    Writer w(b);
    PutAttributeHeader(flags, code, value.size(), w);
    w.PutBytes(value);
    return b;
}

// Decodes AS_PATH / AS4_PATH segments with 2- or 4-octet ASNs. RFC 7606 §7.2:
// an unknown segment type, a zero-length segment or an overrun is malformed.
bool DecodeAsPathValue(ByteView v, size_t asn_size, AsPath& out, std::string& why) {
    Reader r(v);
    out.segments.clear();
    while (!r.empty()) {
        uint8_t type = 0, count = 0;
        if (!r.ReadU8(type) || !r.ReadU8(count)) {
            why = "truncated segment header";
            return false;
        }
        if (type < AsPathSegment::kSet || type > AsPathSegment::kConfedSet) {
            why = fmt::format("unknown segment type {}", type);
            return false;
        }
        if (count == 0) {
            why = "zero-length segment";
            return false;
        }
        if (!r.Has(count * asn_size)) {
            why = "segment overruns attribute";
            return false;
        }
        AsPathSegment seg;
        seg.type = type;
        seg.asns.resize(count);
        for (size_t i = 0; i < count; ++i) {
            const uint8_t* p = r.data() + i * asn_size;
            seg.asns[i] = asn_size == 4 ? Get32(p) : Get16(p);
        }
        r.Skip(count * asn_size);
        out.segments.push_back(std::move(seg));
    }
    return true;
}

void EncodeAsPathValue(const AsPath& path, bool four_octet, Writer& w) {
    for (const auto& seg : path.segments) {
        // Segments longer than 255 ASNs are split (RFC 4271 §5.1.2 allows it).
        size_t done = 0;
        do {
            size_t n = std::min<size_t>(255, seg.asns.size() - done);
            w.PutU8(seg.type);
            w.PutU8(static_cast<uint8_t>(n));
            for (size_t i = 0; i < n; ++i) {
                uint32_t asn = seg.asns[done + i];
                if (four_octet)
                    w.PutU32(asn);
                else
                    w.PutU16(asn > 0xffff ? kAsTrans : static_cast<uint16_t>(asn));
            }
            done += n;
        } while (done < seg.asns.size());
    }
}

bool IsConfed(const AsPathSegment& seg) {
    return seg.type == AsPathSegment::kConfedSequence || seg.type == AsPathSegment::kConfedSet;
}

// RFC 6793 §4.2.2: the AS4_PATH sent to an OLD speaker carries the AS path
// without its confederation segments.
AsPath As4PathFrom(const AsPath& path) {
    AsPath out;
    for (const auto& seg : path.segments)
        if (!IsConfed(seg)) out.segments.push_back(seg);
    return out;
}

// True when a (non-confederation) ASN of `path` needs 4 octets.
bool NeedsAs4(const AsPath& path) {
    for (const auto& seg : path.segments) {
        if (IsConfed(seg)) continue;
        for (auto asn : seg.asns)
            if (asn > 0xffff) return true;
    }
    return false;
}

// Decoding state shared by the per-attribute functions.
struct AttrDecoder {
    const SessionContext& ctx;
    PathAttributes& out;
    std::optional<DecodeError> error;
    // The attribute being decoded as received (header and value). RFC 4271
    // §6.3: a NOTIFICATION's data is "the erroneous attribute (type, length,
    // and value)", so it is copied, not re-encoded (which would lose a
    // non-canonical Extended Length bit).
    ByteView current;

    Bytes Data(uint8_t flags, uint8_t code, ByteView value) const {
        if (!current.empty()) return Bytes(current.begin(), current.end());
        return AttributeBytes(flags, code, value);
    }

    void Fail(const AttributeDescriptor& d, ErrorAction action, uint8_t subcode, uint8_t flags,
              ByteView value, std::string why) {
        DecodeError e;
        e.action = action;
        e.notification =
            Notification{notif::kUpdateMessageError, subcode, Data(flags, d.code, value)};
        e.reason = fmt::format("{}: {}", d.name, why);
        e.attribute_code = d.code;
        MergeError(error, std::move(e));
    }

    // Decodes one recognised attribute value. Returns false when the value is
    // malformed (the error is recorded and the attribute left absent).
    bool Decode(const AttributeDescriptor& d, ErrorAction action, uint8_t flags, ByteView v);
    bool DecodeMpReach(const AttributeDescriptor& d, uint8_t flags, ByteView v);
    bool DecodeMpUnreach(const AttributeDescriptor& d, uint8_t flags, ByteView v);
};

bool AttrDecoder::Decode(const AttributeDescriptor& d, ErrorAction action, uint8_t flags,
                         ByteView v) {
    auto bad_length = [&](std::string why) {
        Fail(d, action, notif::kAttributeLengthError, flags, v, std::move(why));
        return false;
    };
    switch (d.code) {
        case attr::kOrigin:
            if (v.size() != 1) return bad_length(fmt::format("length {} != 1", v.size()));
            if (v[0] > 2) {
                Fail(d, action, notif::kInvalidOrigin, flags, v,
                     fmt::format("undefined value {}", v[0]));
                return false;
            }
            out.origin = static_cast<Origin>(v[0]);
            return true;
        case attr::kAsPath: {
            std::string why;
            if (!DecodeAsPathValue(v, ctx.asn4 ? 4 : 2, out.as_path, why)) {
                Fail(d, action, notif::kMalformedAsPath, flags, v, why);
                return false;
            }
            return true;
        }
        case attr::kAs4Path: {
            std::string why;
            if (!DecodeAsPathValue(v, 4, out.as4_path, why)) {
                Fail(d, action, notif::kMalformedAsPath, flags, v, why);
                return false;
            }
            // RFC 6793 §6: confederation segments make AS4_PATH malformed.
            for (const auto& seg : out.as4_path.segments) {
                if (seg.type == AsPathSegment::kConfedSequence ||
                    seg.type == AsPathSegment::kConfedSet) {
                    Fail(d, action, notif::kMalformedAsPath, flags, v,
                         "confederation segment in AS4_PATH");
                    out.as4_path.segments.clear();
                    return false;
                }
            }
            return true;
        }
        case attr::kNextHop:
            if (v.size() != 4) return bad_length(fmt::format("length {} != 4", v.size()));
            out.next_hop = IpAddress::V4(v.data());
            return true;
        case attr::kMed:
            if (v.size() != 4) return bad_length(fmt::format("length {} != 4", v.size()));
            out.med = Get32(v.data());
            return true;
        case attr::kLocalPref:
            if (v.size() != 4) return bad_length(fmt::format("length {} != 4", v.size()));
            out.local_pref = Get32(v.data());
            return true;
        case attr::kAtomicAggregate:
            if (!v.empty()) return bad_length(fmt::format("length {} != 0", v.size()));
            return true;
        case attr::kAggregator: {
            size_t as_size = ctx.asn4 ? 4 : 2;
            if (v.size() != as_size + 4)
                return bad_length(fmt::format("length {} != {}", v.size(), as_size + 4));
            out.aggregator.asn = as_size == 4 ? Get32(v.data()) : Get16(v.data());
            out.aggregator.address = IpAddress::V4(v.data() + as_size);
            return true;
        }
        case attr::kAs4Aggregator:
            if (v.size() != 8) return bad_length(fmt::format("length {} != 8", v.size()));
            out.as4_aggregator.asn = Get32(v.data());
            out.as4_aggregator.address = IpAddress::V4(v.data() + 4);
            return true;
        case attr::kCommunities:
            if (v.empty() || v.size() % 4)
                return bad_length(fmt::format("length {} not a non-zero multiple of 4", v.size()));
            out.communities.resize(v.size() / 4);
            for (size_t i = 0; i < out.communities.size(); ++i)
                out.communities[i] = Get32(v.data() + 4 * i);
            return true;
        case attr::kOriginatorId:
            if (v.size() != 4) return bad_length(fmt::format("length {} != 4", v.size()));
            out.originator_id = IpAddress::V4(v.data());
            return true;
        case attr::kClusterList:
            if (v.empty() || v.size() % 4)
                return bad_length(fmt::format("length {} not a non-zero multiple of 4", v.size()));
            out.cluster_list.resize(v.size() / 4);
            for (size_t i = 0; i < out.cluster_list.size(); ++i)
                out.cluster_list[i] = Get32(v.data() + 4 * i);
            return true;
        case attr::kExtCommunities:
            if (v.empty() || v.size() % 8)
                return bad_length(fmt::format("length {} not a non-zero multiple of 8", v.size()));
            out.ext_communities.resize(v.size() / 8);
            for (size_t i = 0; i < out.ext_communities.size(); ++i)
                std::memcpy(out.ext_communities[i].bytes.data(), v.data() + 8 * i, 8);
            return true;
        case attr::kLargeCommunities:
            if (v.empty() || v.size() % 12)
                return bad_length(fmt::format("length {} not a non-zero multiple of 12", v.size()));
            out.large_communities.resize(v.size() / 12);
            for (size_t i = 0; i < out.large_communities.size(); ++i) {
                const uint8_t* p = v.data() + 12 * i;
                out.large_communities[i] = {Get32(p), Get32(p + 4), Get32(p + 8)};
            }
            return true;
        case attr::kPmsiTunnel: {
            if (v.size() < 5) return bad_length(fmt::format("length {} < 5", v.size()));
            PmsiTunnel& t = out.pmsi_tunnel;
            t.flags = v[0];
            t.tunnel_type = v[1];
            t.label = (uint32_t{v[2]} << 16) | (uint32_t{v[3]} << 8) | v[4];
            t.tunnel_id.assign(v.begin() + 5, v.end());
            if (t.tunnel_type == PmsiTunnel::kIngressReplication && t.tunnel_id.size() != 4 &&
                t.tunnel_id.size() != 16)
                return bad_length(fmt::format("ingress replication tunnel id of {} octets",
                                              t.tunnel_id.size()));
            return true;
        }
        case attr::kAttrSet:
            if (v.size() < 4) return bad_length(fmt::format("length {} < 4", v.size()));
            out.attr_set.origin_as = Get32(v.data());
            out.attr_set.attributes.assign(v.begin() + 4, v.end());
            return true;
        case attr::kMpReach:
            return DecodeMpReach(d, flags, v);
        case attr::kMpUnreach:
            return DecodeMpUnreach(d, flags, v);
    }
    return false;
}

bool AttrDecoder::DecodeMpReach(const AttributeDescriptor& d, uint8_t flags, ByteView v) {
    Reader r(v);
    MpReach& mp = out.mp_reach;
    uint8_t nh_len = 0, reserved = 0;
    ByteView nh;
    if (!r.ReadU16(mp.afi) || !r.ReadU8(mp.safi) || !r.ReadU8(nh_len) || !r.ReadBytes(nh_len, nh) ||
        !r.ReadU8(reserved)) {
        Fail(d, kReset, notif::kOptionalAttributeError, flags, v, "truncated header or next hop");
        return false;
    }
    mp.family = FamilyFromAfiSafi(mp.afi, mp.safi);
    const FamilyCodec* codec = FindFamilyCodec(mp.family);
    if (!codec) {
        mp.raw.assign(v.begin() + 3, v.end());
        return true;
    }
    auto disable = [&](std::string why) {
        DecodeError e;
        e.action = ErrorAction::kAfiSafiDisable;
        e.notification = Notification{notif::kUpdateMessageError, notif::kOptionalAttributeError,
                                      Data(flags, d.code, v)};
        e.reason = fmt::format("MP_REACH_NLRI {}: {}", FamilyName(mp.family), why);
        e.attribute_code = d.code;
        e.afi = mp.afi;
        e.safi = mp.safi;
        MergeError(error, std::move(e));
        return false;
    };
    std::string why;
    if (!codec->decode_next_hop(nh, mp.next_hop, why)) return disable("next hop: " + why);
    mp.nlri = codec->make_list();
    NlriContext nctx{ctx.add_path_rx(mp.family), false};
    if (!codec->decode(r, nctx, mp.nlri, why)) return disable(why);
    return true;
}

bool AttrDecoder::DecodeMpUnreach(const AttributeDescriptor& d, uint8_t flags, ByteView v) {
    Reader r(v);
    MpUnreach& mp = out.mp_unreach;
    if (!r.ReadU16(mp.afi) || !r.ReadU8(mp.safi)) {
        Fail(d, kReset, notif::kOptionalAttributeError, flags, v, "truncated header");
        return false;
    }
    mp.family = FamilyFromAfiSafi(mp.afi, mp.safi);
    const FamilyCodec* codec = FindFamilyCodec(mp.family);
    if (!codec) {
        mp.raw.assign(r.data(), r.data() + r.remaining());
        return true;
    }
    mp.withdrawn = codec->make_list();
    NlriContext nctx{ctx.add_path_rx(mp.family), true};
    std::string why;
    if (!codec->decode(r, nctx, mp.withdrawn, why)) {
        DecodeError e;
        e.action = ErrorAction::kAfiSafiDisable;
        e.notification = Notification{notif::kUpdateMessageError, notif::kOptionalAttributeError,
                                      Data(flags, d.code, v)};
        e.reason = fmt::format("MP_UNREACH_NLRI {}: {}", FamilyName(mp.family), why);
        e.attribute_code = d.code;
        e.afi = mp.afi;
        e.safi = mp.safi;
        MergeError(error, std::move(e));
        return false;
    }
    return true;
}

// Inserts keeping `unknown` sorted by code.
void AddUnknown(std::vector<RawAttribute>& unknown, RawAttribute a) {
    auto it = std::lower_bound(unknown.begin(), unknown.end(), a.code,
                               [](const RawAttribute& x, uint8_t c) { return x.code < c; });
    unknown.insert(it, std::move(a));
}

bool HasAnnouncements(const PathAttributes& a) {
    return a.has(attr::kMpReach) && a.mp_reach.family != Family::kUnknown &&
           NlriCount(a.mp_reach.nlri) > 0;
}

}  // namespace

size_t AsPath::Length() const {
    size_t n = 0;
    for (const auto& seg : segments) {
        if (seg.type == AsPathSegment::kSequence)
            n += seg.asns.size();
        else if (seg.type == AsPathSegment::kSet)
            n += 1;
    }
    return n;
}

bool AsPath::Contains(uint32_t asn) const {
    for (const auto& seg : segments)
        for (auto a : seg.asns)
            if (a == asn) return true;
    return false;
}

const AttributeDescriptor* FindAttributeDescriptor(uint8_t code) {
    int s = kIndex.slot[code];
    return s < 0 ? nullptr : &kDescriptors[static_cast<size_t>(s)];
}

std::string_view AttributeName(uint8_t code) {
    const auto* d = FindAttributeDescriptor(code);
    return d ? d->name : std::string_view{};
}

void PutAttributeHeader(uint8_t flags, uint8_t code, size_t length, Writer& w) {
    if (length > 255) {
        w.PutU8(flags | attr::kExtendedLength);
        w.PutU8(code);
        w.PutU16(static_cast<uint16_t>(length));
    } else {
        w.PutU8(flags & static_cast<uint8_t>(~attr::kExtendedLength));
        w.PutU8(code);
        w.PutU8(static_cast<uint8_t>(length));
    }
}

bool ReadAttributeHeader(Reader& r, uint8_t& flags, uint8_t& code, size_t& length) {
    if (!r.ReadU8(flags) || !r.ReadU8(code)) return false;
    if (flags & attr::kExtendedLength) {
        uint16_t l = 0;
        if (!r.ReadU16(l)) return false;
        length = l;
    } else {
        uint8_t l = 0;
        if (!r.ReadU8(l)) return false;
        length = l;
    }
    return true;
}

std::optional<DecodeError> DecodePathAttributes(ByteView block, const SessionContext& ctx,
                                                bool has_nlri, PathAttributes& out) {
    AttrDecoder dec{ctx, out, std::nullopt};
    std::bitset<256> seen;
    Reader r(block);
    while (!r.empty()) {
        const uint8_t* const attr_start = r.data();
        uint8_t flags = 0, code = 0;
        size_t length = 0;
        bool framed = ReadAttributeHeader(r, flags, code, length);
        ByteView value;
        if (!framed || !r.ReadBytes(length, value)) {
            // RFC 7606 §4: an attribute overrunning the block, or fewer octets
            // left than an attribute header needs. Treat-as-withdraw is only
            // safe when no MP attribute could hide NLRI in the damage; a header
            // cut short cannot hide one unless its type code says MP (when the
            // code octet is missing, `code` is 0).
            DecodeError e;
            bool mp_possible = out.has(attr::kMpReach) || out.has(attr::kMpUnreach) ||
                               code == attr::kMpReach || code == attr::kMpUnreach;
            e.action = mp_possible ? kReset : kWithdraw;
            e.notification =
                Notification{notif::kUpdateMessageError, notif::kMalformedAttributeList, {}};
            e.reason = framed ? fmt::format("attribute {} length {} overruns the attribute block",
                                            code, length)
                              : "truncated attribute header";
            e.attribute_code = code;
            MergeError(dec.error, std::move(e));
            break;
        }
        dec.current = ByteView(attr_start, static_cast<size_t>(value.data() + value.size() -
                                                               attr_start));

        const AttributeDescriptor* d = FindAttributeDescriptor(code);
        // Tracked apart from `present`: a first copy that was malformed and
        // dropped still makes a second copy a repetition.
        bool repeated = seen.test(code);
        seen.set(code);
        if (repeated) {
            // RFC 7606 §3 g: repeated MP attributes reset; others keep the first.
            DecodeError e;
            e.action = (code == attr::kMpReach || code == attr::kMpUnreach) ? kReset : kDiscard;
            e.notification =
                Notification{notif::kUpdateMessageError, notif::kMalformedAttributeList, {}};
            e.reason = fmt::format("attribute {} repeated", code);
            e.attribute_code = code;
            MergeError(dec.error, std::move(e));
            continue;
        }
        if (!d) {
            if (!(flags & attr::kOptional)) {
                MergeError(dec.error,
                           DecodeError::Reset(notif::kUpdateMessageError,
                                              notif::kUnrecognizedWellKnown,
                                              fmt::format("unrecognized well-known attribute {}", code),
                                              dec.Data(flags, code, value)));
                continue;
            }
            if (flags & attr::kTransitive) {
                AddUnknown(out.unknown,
                           RawAttribute{static_cast<uint8_t>(flags & ~attr::kExtendedLength), code,
                                        Bytes(value.begin(), value.end())});
            }
            continue;  // unknown optional non-transitive: quietly ignored
        }

        ErrorAction action = d->on_malformed;
        if (code == attr::kLocalPref && !ctx.ibgp) action = kDiscard;  // RFC 7606 §7.5
        if (code == attr::kLocalPref && !ctx.ibgp) {
            // LOCAL_PREF from an external peer is ignored (RFC 4271 §5.1.5).
            continue;
        }
        if ((code == attr::kAs4Path || code == attr::kAs4Aggregator) && ctx.asn4) {
            // RFC 6793 §3: a NEW speaker discards AS4_* received from a NEW speaker.
            DecodeError e;
            e.action = kDiscard;
            e.reason = fmt::format("{} received on a four-octet AS session", d->name);
            e.attribute_code = code;
            MergeError(dec.error, std::move(e));
            continue;
        }
        uint8_t expected = d->flags;
        uint8_t got = flags & (attr::kOptional | attr::kTransitive);
        bool partial_ok = (expected == kOptTrans) || !(flags & attr::kPartial);
        if (got != expected || !partial_ok) {
            dec.Fail(*d, action, notif::kAttributeFlagsError, flags, value,
                     fmt::format("flags 0x{:02x} conflict with the attribute type", flags));
            continue;
        }
        if (dec.Decode(*d, action, flags, value)) out.set(code);
    }

    // RFC 7606 §3 d: missing well-known mandatory attributes, when the UPDATE
    // announces something. LOCAL_PREF is not required (see docs/pipeline.md).
    if (has_nlri || HasAnnouncements(out)) {
        uint8_t missing = 0;
        if (!out.has(attr::kOrigin))
            missing = attr::kOrigin;
        else if (!out.has(attr::kAsPath))
            missing = attr::kAsPath;
        else if (has_nlri && !out.has(attr::kNextHop))
            missing = attr::kNextHop;
        if (missing) {
            // An attribute that was present but malformed already carries its error.
            bool malformed = dec.error && dec.error->attribute_code == missing;
            if (!malformed) {
                DecodeError e;
                e.action = kWithdraw;
                e.notification =
                    Notification{notif::kUpdateMessageError, notif::kMissingWellKnown, {missing}};
                e.reason = fmt::format("missing well-known attribute {}", AttributeName(missing));
                e.attribute_code = missing;
                MergeError(dec.error, std::move(e));
            }
        }
    }
    return std::move(dec.error);
}

namespace {

// Appends one attribute, choosing the extended-length flag from the value's
// final size: the value is written after a 4-octet header, which is shrunk to
// 3 octets when the value fits in 255.
template <typename Fn>
void PutAttribute(uint8_t flags, uint8_t code, Writer& w, Fn&& write_value) {
    Bytes& buf = w.buffer();
    size_t at = buf.size();
    w.PutU8(flags | attr::kExtendedLength);
    w.PutU8(code);
    w.PutU16(0);
    write_value();
    size_t len = buf.size() - at - 4;
    if (len <= 255) {
        buf[at] = flags & static_cast<uint8_t>(~attr::kExtendedLength);
        buf[at + 2] = static_cast<uint8_t>(len);
        std::memmove(buf.data() + at + 3, buf.data() + at + 4, len);
        buf.pop_back();
    } else {
        buf[at + 2] = static_cast<uint8_t>(len >> 8);
        buf[at + 3] = static_cast<uint8_t>(len);
    }
}

void EncodeMpReachValue(const MpReach& mp, const SessionContext& ctx, Writer& w) {
    w.PutU16(mp.afi);
    w.PutU8(mp.safi);
    const FamilyCodec* codec = FindFamilyCodec(mp.family);
    if (!codec) {
        w.PutBytes(mp.raw);
        return;
    }
    codec->encode_next_hop(mp.next_hop, w);
    w.PutU8(0);
    NlriContext nctx{ctx.add_path_tx(mp.family), false};
    size_t n = NlriCount(mp.nlri);
    for (size_t i = 0; i < n; ++i) codec->encode(mp.nlri, i, nctx, w);
}

void EncodeMpUnreachValue(const MpUnreach& mp, const SessionContext& ctx, Writer& w) {
    w.PutU16(mp.afi);
    w.PutU8(mp.safi);
    const FamilyCodec* codec = FindFamilyCodec(mp.family);
    if (!codec) {
        w.PutBytes(mp.raw);
        return;
    }
    NlriContext nctx{ctx.add_path_tx(mp.family), true};
    size_t n = NlriCount(mp.withdrawn);
    for (size_t i = 0; i < n; ++i) codec->encode(mp.withdrawn, i, nctx, w);
}

}  // namespace

bool EncodeAttribute(const PathAttributes& a, uint8_t code, const SessionContext& ctx, Writer& w) {
    if (!a.has(code)) return false;
    const AttributeDescriptor* d = FindAttributeDescriptor(code);
    if (!d) return false;
    // An empty list is not a valid value of these attributes (RFC 7606 §7.8,
    // §7.10, §7.14; RFC 8092 §6: "not a non-zero multiple"): a peer would
    // treat the UPDATE as a withdrawal. Present-but-empty is written as absent.
    if ((code == attr::kCommunities && a.communities.empty()) ||
        (code == attr::kClusterList && a.cluster_list.empty()) ||
        (code == attr::kExtCommunities && a.ext_communities.empty()) ||
        (code == attr::kLargeCommunities && a.large_communities.empty()))
        return false;
    uint8_t flags = d->flags;
    switch (code) {
        case attr::kOrigin:
            PutAttributeHeader(flags, code, 1, w);
            w.PutU8(static_cast<uint8_t>(a.origin));
            return true;
        case attr::kAsPath:
            PutAttribute(flags, code, w, [&] { EncodeAsPathValue(a.as_path, ctx.asn4, w); });
            return true;
        case attr::kAs4Path:
            PutAttribute(flags, code, w, [&] { EncodeAsPathValue(a.as4_path, true, w); });
            return true;
        case attr::kNextHop:
            PutAttributeHeader(flags, code, 4, w);
            w.PutBytes(a.next_hop.bytes.data(), 4);
            return true;
        case attr::kMed:
            PutAttributeHeader(flags, code, 4, w);
            w.PutU32(a.med);
            return true;
        case attr::kLocalPref:
            PutAttributeHeader(flags, code, 4, w);
            w.PutU32(a.local_pref);
            return true;
        case attr::kAtomicAggregate:
            PutAttributeHeader(flags, code, 0, w);
            return true;
        case attr::kAggregator:
            PutAttributeHeader(flags, code, ctx.asn4 ? 8 : 6, w);
            if (ctx.asn4)
                w.PutU32(a.aggregator.asn);
            else
                w.PutU16(a.aggregator.asn > 0xffff ? kAsTrans
                                                   : static_cast<uint16_t>(a.aggregator.asn));
            w.PutBytes(a.aggregator.address.bytes.data(), 4);
            return true;
        case attr::kAs4Aggregator:
            PutAttributeHeader(flags, code, 8, w);
            w.PutU32(a.as4_aggregator.asn);
            w.PutBytes(a.as4_aggregator.address.bytes.data(), 4);
            return true;
        case attr::kCommunities:
            PutAttribute(flags, code, w, [&] {
                for (auto c : a.communities) w.PutU32(c);
            });
            return true;
        case attr::kOriginatorId:
            PutAttributeHeader(flags, code, 4, w);
            w.PutBytes(a.originator_id.bytes.data(), 4);
            return true;
        case attr::kClusterList:
            PutAttribute(flags, code, w, [&] {
                for (auto c : a.cluster_list) w.PutU32(c);
            });
            return true;
        case attr::kExtCommunities:
            PutAttribute(flags, code, w, [&] {
                for (const auto& c : a.ext_communities) w.PutBytes(c.bytes.data(), 8);
            });
            return true;
        case attr::kLargeCommunities:
            PutAttribute(flags, code, w, [&] {
                for (const auto& c : a.large_communities) {
                    w.PutU32(c.global);
                    w.PutU32(c.local1);
                    w.PutU32(c.local2);
                }
            });
            return true;
        case attr::kPmsiTunnel:
            PutAttribute(flags, code, w, [&] {
                w.PutU8(a.pmsi_tunnel.flags);
                w.PutU8(a.pmsi_tunnel.tunnel_type);
                w.PutU24(a.pmsi_tunnel.label);
                w.PutBytes(a.pmsi_tunnel.tunnel_id);
            });
            return true;
        case attr::kAttrSet:
            PutAttribute(flags, code, w, [&] {
                w.PutU32(a.attr_set.origin_as);
                w.PutBytes(a.attr_set.attributes);
            });
            return true;
        case attr::kMpReach:
            PutAttribute(flags, code, w, [&] { EncodeMpReachValue(a.mp_reach, ctx, w); });
            return true;
        case attr::kMpUnreach:
            PutAttribute(flags, code, w, [&] { EncodeMpUnreachValue(a.mp_unreach, ctx, w); });
            return true;
    }
    return false;
}

void EncodePathAttributes(const PathAttributes& a, const SessionContext& ctx, Writer& w) {
    // RFC 6793 §4.2.2: towards an OLD speaker, carry 4-octet ASNs in AS4_*.
    PathAttributes as4_extra;
    bool add_as4_path = !ctx.asn4 && a.has(attr::kAsPath) && !a.has(attr::kAs4Path) &&
                        NeedsAs4(a.as_path);
    bool add_as4_aggr = !ctx.asn4 && a.has(attr::kAggregator) && !a.has(attr::kAs4Aggregator) &&
                        a.aggregator.asn > 0xffff;
    if (add_as4_path) {
        as4_extra.as4_path = As4PathFrom(a.as_path);
        as4_extra.set(attr::kAs4Path);
    }
    if (add_as4_aggr) {
        as4_extra.as4_aggregator = a.aggregator;
        as4_extra.set(attr::kAs4Aggregator);
    }
    auto unknown_it = a.unknown.begin();
    for (unsigned code = 0; code < 256; ++code) {
        while (unknown_it != a.unknown.end() && unknown_it->code < code) ++unknown_it;
        if (unknown_it != a.unknown.end() && unknown_it->code == code &&
            !FindAttributeDescriptor(static_cast<uint8_t>(code))) {
            uint8_t flags = unknown_it->flags;
            if ((flags & attr::kOptional) && (flags & attr::kTransitive)) flags |= attr::kPartial;
            PutAttributeHeader(flags, unknown_it->code, unknown_it->value.size(), w);
            w.PutBytes(unknown_it->value);
            continue;
        }
        uint8_t c = static_cast<uint8_t>(code);
        if (a.has(c)) {
            if ((c == attr::kAs4Path || c == attr::kAs4Aggregator) && ctx.asn4) continue;
            EncodeAttribute(a, c, ctx, w);
        } else if (as4_extra.has(c)) {
            EncodeAttribute(as4_extra, c, ctx, w);
        }
    }
}

std::optional<DecodeError> DecodeAttrSet(const AttrSet& set, PathAttributes& out) {
    SessionContext ctx;
    ctx.asn4 = true;
    auto err = DecodePathAttributes(set.attributes, ctx, false, out);
    if (out.has(attr::kMpReach) || out.has(attr::kMpUnreach) || out.has(attr::kAttrSet)) {
        DecodeError e;
        e.action = kWithdraw;
        e.reason = "ATTR_SET: nested MP_REACH, MP_UNREACH or ATTR_SET (RFC 6368 §5)";
        e.attribute_code = attr::kAttrSet;
        MergeError(err, std::move(e));
    }
    return err;
}

}  // namespace bagpipe::bgp
