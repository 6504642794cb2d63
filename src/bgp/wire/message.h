// BGP messages (RFC 4271 §4): value types, the decoder and the encoders.
//
// DecodeMessage takes exactly one whole message (marker included) and returns
// what it could decode plus at most one DecodeError carrying the RFC 7606 /
// RFC 4271 §6 action. FrameMessage finds message boundaries in a TCP byte
// stream, so any segmentation of the stream is handled by the caller's buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bgp/wire/attributes.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/capability.h"
#include "bgp/wire/error.h"
#include "bgp/wire/family.h"

namespace bagpipe::bgp {

inline constexpr size_t kHeaderSize = 19;
inline constexpr size_t kMaxMessageSize = 4096;
inline constexpr size_t kMaxExtendedMessageSize = 65535;

enum class MessageType : uint8_t {
    kOpen = 1,
    kUpdate = 2,
    kNotification = 3,
    kKeepalive = 4,
    kRouteRefresh = 5,
};
std::string_view MessageTypeName(uint8_t type);  // "OPEN", ..., "ROUTE-REFRESH"

struct OpenMessage {
    uint8_t version = 4;
    uint16_t my_as = 0;  // AS_TRANS when the real ASN needs 4 octets
    uint16_t hold_time = 0;
    uint32_t bgp_id = 0;
    std::vector<Capability> capabilities;
    // Optional parameters other than capabilities (type, value), kept raw.
    std::vector<std::pair<uint8_t, Bytes>> other_parameters;
    bool extended_parameters = false;  // RFC 9072 encoding was used

    // The 4-octet AS when advertised, else my_as.
    uint32_t AsNumber() const;
    const Capability* Find(uint8_t code) const;
    bool operator==(const OpenMessage&) const = default;
};

struct UpdateMessage {
    std::vector<InetNlri> withdrawn;  // IPv4 unicast withdrawn routes
    PathAttributes attributes;
    std::vector<InetNlri> nlri;  // IPv4 unicast NLRI

    // End-of-RIB marker (RFC 4724 §2): empty UPDATE for IPv4 unicast, or only
    // an empty MP_UNREACH_NLRI for other families.
    std::optional<Family> EndOfRib() const;
    bool operator==(const UpdateMessage&) const = default;
};

struct NotificationMessage {
    uint8_t code = 0;
    uint8_t subcode = 0;
    Bytes data;
    // RFC 9003 shutdown communication (Cease / administrative shutdown or reset).
    std::optional<std::string> shutdown_communication;
    bool operator==(const NotificationMessage&) const = default;
};

struct KeepaliveMessage {
    bool operator==(const KeepaliveMessage&) const = default;
};

struct RouteRefreshMessage {
    static constexpr uint8_t kNormal = 0;
    static constexpr uint8_t kBeginOfRib = 1;  // RFC 7313 BoRR
    static constexpr uint8_t kEndOfRib = 2;    // RFC 7313 EoRR
    uint16_t afi = 0;
    uint8_t subtype = 0;
    uint8_t safi = 0;
    bool operator==(const RouteRefreshMessage&) const = default;
};

using Message = std::variant<OpenMessage, UpdateMessage, NotificationMessage, KeepaliveMessage,
                             RouteRefreshMessage>;

struct DecodeResult {
    uint8_t type = 0;
    uint16_t length = 0;
    std::optional<Message> message;  // absent when the message could not be read at all
    std::optional<DecodeError> error;
};

// Decodes one whole message.
DecodeResult DecodeMessage(ByteView bytes, const SessionContext& ctx);

// Stream framing: given the bytes received so far, returns the length of the
// first complete message, 0 when more bytes are needed, or an error (bad
// marker or length) with the NOTIFICATION to send.
struct FrameResult {
    size_t length = 0;
    std::optional<DecodeError> error;
};
FrameResult FrameMessage(ByteView buffer, size_t max_message_size);

// Encoders: each returns one whole message.
Bytes EncodeOpen(const OpenMessage& m);
Bytes EncodeKeepalive();
Bytes EncodeNotification(const NotificationMessage& m);
Bytes EncodeRouteRefresh(const RouteRefreshMessage& m);
// Encodes one UPDATE as given (no splitting). Returns an empty vector when the
// result would exceed ctx.max_message_size().
Bytes EncodeUpdate(const UpdateMessage& m, const SessionContext& ctx);
// End-of-RIB for a family.
Bytes EncodeEndOfRib(Family f);

// Writes the 19-octet header with the given total length.
void PutHeader(MessageType type, size_t total_length, Writer& w);

}  // namespace bagpipe::bgp
