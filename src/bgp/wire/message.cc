// Header framing and the OPEN, NOTIFICATION, KEEPALIVE and ROUTE-REFRESH
// messages. UPDATE lives in update.cc.
#include "bgp/wire/message.h"

#include <fmt/format.h>

#include <algorithm>

namespace bagpipe::bgp {

namespace {

Bytes U16Bytes(uint16_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}; }

DecodeError OpenError(uint8_t subcode, std::string reason, Bytes data = {}) {
    return DecodeError::Reset(notif::kOpenMessageError, subcode, std::move(reason), std::move(data));
}

bool DecodeCapabilities(ByteView value, OpenMessage& m, std::optional<DecodeError>& err) {
    Reader r(value);
    while (!r.empty()) {
        uint8_t code = 0, len = 0;
        ByteView v;
        if (!r.ReadU8(code) || !r.ReadU8(len) || !r.ReadBytes(len, v)) {
            MergeError(err, OpenError(0, "capability overruns its optional parameter"));
            return false;
        }
        Capability c;
        if (!DecodeCapability(code, v, c)) {
            MergeError(err, OpenError(0, fmt::format("malformed {} capability (code {}, length {})",
                                                     CapabilityName(code), code, len)));
            return false;
        }
        m.capabilities.push_back(std::move(c));
    }
    return true;
}

void DecodeOpen(Reader& r, DecodeResult& res) {
    OpenMessage m;
    uint8_t opt_len = 0;
    r.ReadU8(m.version);
    r.ReadU16(m.my_as);
    r.ReadU16(m.hold_time);
    r.ReadU32(m.bgp_id);
    r.ReadU8(opt_len);
    if (m.version != 4) {
        res.error = OpenError(notif::kUnsupportedVersion,
                              fmt::format("unsupported BGP version {}", m.version), U16Bytes(4));
        res.message = std::move(m);
        return;
    }
    size_t params_len = opt_len;
    // RFC 9072: extended optional parameters length.
    if (opt_len == 255 && r.Has(1) && r.data()[0] == 255) {
        uint8_t marker = 0;
        uint16_t ext_len = 0;
        r.ReadU8(marker);
        if (!r.ReadU16(ext_len)) {
            res.error = OpenError(0, "truncated extended optional parameters length");
            return;
        }
        params_len = ext_len;
        m.extended_parameters = true;
    }
    Reader params;
    if (!r.Sub(params_len, params) || !r.empty()) {
        res.error = OpenError(0, fmt::format("optional parameters length {} inconsistent with "
                                             "message length",
                                             params_len));
        res.message = std::move(m);
        return;
    }
    while (!params.empty()) {
        uint8_t type = 0;
        uint16_t len = 0;
        bool ok = params.ReadU8(type);
        if (m.extended_parameters) {
            ok = ok && params.ReadU16(len);
        } else {
            uint8_t l8 = 0;
            ok = ok && params.ReadU8(l8);
            len = l8;
        }
        ByteView v;
        if (!ok || !params.ReadBytes(len, v)) {
            res.error = OpenError(0, "optional parameter overruns the parameters field");
            break;
        }
        if (type == 2) {
            if (!DecodeCapabilities(v, m, res.error)) break;
        } else {
            m.other_parameters.emplace_back(type, Bytes(v.begin(), v.end()));
            MergeError(res.error, OpenError(notif::kUnsupportedOptionalParameter,
                                            fmt::format("unsupported optional parameter {}", type)));
        }
    }
    if (!res.error) {
        if (m.hold_time == 1 || m.hold_time == 2)
            res.error = OpenError(notif::kUnacceptableHoldTime,
                                  fmt::format("hold time {} (must be 0 or >= 3)", m.hold_time));
        else if (m.bgp_id == 0)
            res.error = OpenError(notif::kBadBgpId, "BGP identifier 0.0.0.0");
    }
    res.message = std::move(m);
}

void DecodeNotification(Reader& r, DecodeResult& res) {
    NotificationMessage m;
    r.ReadU8(m.code);
    r.ReadU8(m.subcode);
    m.data.assign(r.data(), r.data() + r.remaining());
    // RFC 9003: a length octet then UTF-8 text; shown only when consistent.
    if (m.code == notif::kCease &&
        (m.subcode == notif::kAdministrativeShutdown || m.subcode == notif::kAdministrativeReset) &&
        !m.data.empty() && m.data[0] <= m.data.size() - 1) {
        m.shutdown_communication =
            std::string(reinterpret_cast<const char*>(m.data.data() + 1), m.data[0]);
    }
    res.message = std::move(m);
}

// `whole` is the complete message, header included.
void DecodeRouteRefresh(Reader& r, ByteView whole, DecodeResult& res) {
    RouteRefreshMessage m;
    r.ReadU16(m.afi);
    r.ReadU8(m.subtype);
    r.ReadU8(m.safi);
    // RFC 7313 §5: BoRR/EoRR must be exactly 4 octets; a normal request may be
    // followed by ORF entries (RFC 5291), which are ignored.
    if ((m.subtype == RouteRefreshMessage::kBeginOfRib ||
         m.subtype == RouteRefreshMessage::kEndOfRib) &&
        !r.empty()) {
        // The data field carries the complete ROUTE-REFRESH message (RFC 7313 §5).
        res.error = DecodeError::Reset(notif::kRouteRefreshError,
                                       notif::kInvalidRouteRefreshLength,
                                       "ROUTE-REFRESH BoRR/EoRR longer than 4 octets",
                                       Bytes(whole.begin(), whole.end()));
    }
    res.message = m;
}

}  // namespace

std::optional<Family> UpdateMessage::EndOfRib() const {
    if (!withdrawn.empty() || !nlri.empty()) return std::nullopt;
    const auto& a = attributes;
    if (a.present.none()) return Family::kIpv4Unicast;
    if (a.present.count() == 1 && a.has(attr::kMpUnreach) && a.mp_unreach.raw.empty() &&
        NlriCount(a.mp_unreach.withdrawn) == 0)
        return a.mp_unreach.family;
    return std::nullopt;
}

uint32_t OpenMessage::AsNumber() const {
    if (const Capability* c = Find(cap::kFourOctetAs)) return std::get<FourOctetAsCap>(*c).asn;
    return my_as;
}

const Capability* OpenMessage::Find(uint8_t code) const {
    for (const auto& c : capabilities)
        if (CapabilityCode(c) == code) return &c;
    return nullptr;
}

std::string_view MessageTypeName(uint8_t type) {
    switch (type) {
        case 1: return "OPEN";
        case 2: return "UPDATE";
        case 3: return "NOTIFICATION";
        case 4: return "KEEPALIVE";
        case 5: return "ROUTE-REFRESH";
        default: return "UNKNOWN";
    }
}

FrameResult FrameMessage(ByteView buffer, size_t max_message_size) {
    FrameResult f;
    size_t check = std::min<size_t>(buffer.size(), 16);
    for (size_t i = 0; i < check; ++i) {
        if (buffer[i] != 0xff) {
            f.error = DecodeError::Reset(notif::kMessageHeaderError,
                                         notif::kConnectionNotSynchronized, "marker is not all ones");
            return f;
        }
    }
    if (buffer.size() < kHeaderSize) return f;
    uint16_t length = static_cast<uint16_t>((buffer[16] << 8) | buffer[17]);
    if (length < kHeaderSize || length > max_message_size) {
        f.error = DecodeError::Reset(notif::kMessageHeaderError, notif::kBadMessageLength,
                                     fmt::format("message length {}", length), U16Bytes(length));
        return f;
    }
    if (buffer.size() >= length) f.length = length;
    return f;
}

void PutHeader(MessageType type, size_t total_length, Writer& w) {
    for (int i = 0; i < 16; ++i) w.PutU8(0xff);
    w.PutU16(static_cast<uint16_t>(total_length));
    w.PutU8(static_cast<uint8_t>(type));
}

void DecodeUpdateBody(Reader& r, const SessionContext& ctx, DecodeResult& res);  // update.cc

DecodeResult DecodeMessage(ByteView bytes, const SessionContext& ctx) {
    DecodeResult res;
    auto header_error = [&](uint8_t subcode, std::string reason, Bytes data) {
        res.error = DecodeError::Reset(notif::kMessageHeaderError, subcode, std::move(reason),
                                       std::move(data));
        return res;
    };
    if (bytes.size() < kHeaderSize)
        return header_error(notif::kBadMessageLength,
                            fmt::format("{} octets, shorter than a header", bytes.size()),
                            U16Bytes(static_cast<uint16_t>(bytes.size())));
    for (size_t i = 0; i < 16; ++i)
        if (bytes[i] != 0xff)
            return header_error(notif::kConnectionNotSynchronized, "marker is not all ones", {});
    res.length = static_cast<uint16_t>((bytes[16] << 8) | bytes[17]);
    res.type = bytes[18];
    if (res.length != bytes.size())
        return header_error(notif::kBadMessageLength,
                            fmt::format("length field {} but {} octets", res.length, bytes.size()),
                            U16Bytes(res.length));
    if (res.type < 1 || res.type > 5)
        return header_error(notif::kBadMessageType, fmt::format("unknown message type {}", res.type),
                            {res.type});
    // RFC 8654: only UPDATE, NOTIFICATION and ROUTE-REFRESH may exceed 4096.
    size_t max = (res.type == 1 || res.type == 4) ? kMaxMessageSize : ctx.max_message_size();
    size_t min = 0;
    switch (static_cast<MessageType>(res.type)) {
        case MessageType::kOpen: min = 29; break;
        case MessageType::kUpdate: min = 23; break;
        case MessageType::kNotification: min = 21; break;
        case MessageType::kKeepalive: min = 19; max = 19; break;
        case MessageType::kRouteRefresh: min = 23; break;
    }
    if (res.length < min || res.length > max)
        return header_error(notif::kBadMessageLength,
                            fmt::format("{} of length {} (allowed {}..{})",
                                        MessageTypeName(res.type), res.length, min, max),
                            U16Bytes(res.length));
    Reader r(bytes.subspan(kHeaderSize));
    switch (static_cast<MessageType>(res.type)) {
        case MessageType::kOpen: DecodeOpen(r, res); break;
        case MessageType::kUpdate: DecodeUpdateBody(r, ctx, res); break;
        case MessageType::kNotification: DecodeNotification(r, res); break;
        case MessageType::kKeepalive: res.message = KeepaliveMessage{}; break;
        case MessageType::kRouteRefresh: DecodeRouteRefresh(r, bytes, res); break;
    }
    return res;
}

Bytes EncodeOpen(const OpenMessage& m) {
    Bytes caps;
    Writer cw(caps);
    for (const auto& c : m.capabilities) EncodeCapability(c, cw);
    // RFC 9072: the extended encoding (2-octet parameter lengths) is needed
    // when the parameters, in the classic encoding, would not fit 255 octets
    // or one of them would not fit a 1-octet length. Decide before writing
    // any parameter, since the choice changes every parameter header.
    bool extended = m.extended_parameters || caps.size() > 255;
    size_t classic_size = caps.empty() ? 0 : 2 + caps.size();
    for (const auto& [type, v] : m.other_parameters) {
        classic_size += 2 + v.size();
        if (v.size() > 255) extended = true;
    }
    if (classic_size > 255) extended = true;
    Bytes params;
    Writer pw(params);
    auto put_param = [&](uint8_t type, ByteView v) {
        pw.PutU8(type);
        if (extended)
            pw.PutU16(static_cast<uint16_t>(v.size()));
        else
            pw.PutU8(static_cast<uint8_t>(v.size()));
        pw.PutBytes(v);
    };
    if (!caps.empty()) put_param(2, caps);
    for (const auto& [type, v] : m.other_parameters) put_param(type, v);

    Bytes out;
    Writer w(out);
    size_t total = kHeaderSize + 10 + params.size() + (extended ? 3 : 0);
    PutHeader(MessageType::kOpen, total, w);
    w.PutU8(m.version);
    w.PutU16(m.my_as);
    w.PutU16(m.hold_time);
    w.PutU32(m.bgp_id);
    if (extended) {
        w.PutU8(255);
        w.PutU8(255);
        w.PutU16(static_cast<uint16_t>(params.size()));
    } else {
        w.PutU8(static_cast<uint8_t>(params.size()));
    }
    w.PutBytes(params);
    return out;
}

Bytes EncodeKeepalive() {
    Bytes out;
    Writer w(out);
    PutHeader(MessageType::kKeepalive, kHeaderSize, w);
    return out;
}

Bytes EncodeNotification(const NotificationMessage& m) {
    Bytes data = m.data;
    if (m.shutdown_communication && data.empty()) {
        size_t n = std::min<size_t>(m.shutdown_communication->size(), 255);
        data.push_back(static_cast<uint8_t>(n));
        data.insert(data.end(), m.shutdown_communication->begin(),
                    m.shutdown_communication->begin() + static_cast<ptrdiff_t>(n));
    }
    Bytes out;
    Writer w(out);
    PutHeader(MessageType::kNotification, kHeaderSize + 2 + data.size(), w);
    w.PutU8(m.code);
    w.PutU8(m.subcode);
    w.PutBytes(data);
    return out;
}

Bytes EncodeRouteRefresh(const RouteRefreshMessage& m) {
    Bytes out;
    Writer w(out);
    PutHeader(MessageType::kRouteRefresh, kHeaderSize + 4, w);
    w.PutU16(m.afi);
    w.PutU8(m.subtype);
    w.PutU8(m.safi);
    return out;
}

}  // namespace bagpipe::bgp
