// Decoding errors as values, with the action RFC 7606 (and RFC 4271 §6) assigns.
//
// No decoder throws or aborts on wire input. Each returns, next to whatever it
// could decode, at most one DecodeError: the most severe found. The caller (the
// session) carries the action out: reset the session with the NOTIFICATION
// given, treat the UPDATE's NLRI as withdrawn, drop one attribute, or disable
// one AFI/SAFI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bgp/wire/bytes.h"

namespace bagpipe::bgp {

// Ordered by severity: a later value wins over an earlier one.
enum class ErrorAction : uint8_t {
    kAttributeDiscard = 1,
    kTreatAsWithdraw = 2,
    kAfiSafiDisable = 3,
    kSessionReset = 4,
};

std::string_view ErrorActionName(ErrorAction a);

// NOTIFICATION error codes and subcodes (RFC 4271 §4.5, RFC 4486, RFC 7313, RFC 9003).
namespace notif {
inline constexpr uint8_t kMessageHeaderError = 1;
inline constexpr uint8_t kOpenMessageError = 2;
inline constexpr uint8_t kUpdateMessageError = 3;
inline constexpr uint8_t kHoldTimerExpired = 4;
inline constexpr uint8_t kFsmError = 5;
inline constexpr uint8_t kCease = 6;
inline constexpr uint8_t kRouteRefreshError = 7;

// Message header error subcodes.
inline constexpr uint8_t kConnectionNotSynchronized = 1;
inline constexpr uint8_t kBadMessageLength = 2;
inline constexpr uint8_t kBadMessageType = 3;
// OPEN message error subcodes.
inline constexpr uint8_t kUnsupportedVersion = 1;
inline constexpr uint8_t kBadPeerAs = 2;
inline constexpr uint8_t kBadBgpId = 3;
inline constexpr uint8_t kUnsupportedOptionalParameter = 4;
inline constexpr uint8_t kUnacceptableHoldTime = 6;
inline constexpr uint8_t kUnsupportedCapability = 7;
// UPDATE message error subcodes.
inline constexpr uint8_t kMalformedAttributeList = 1;
inline constexpr uint8_t kUnrecognizedWellKnown = 2;
inline constexpr uint8_t kMissingWellKnown = 3;
inline constexpr uint8_t kAttributeFlagsError = 4;
inline constexpr uint8_t kAttributeLengthError = 5;
inline constexpr uint8_t kInvalidOrigin = 6;
inline constexpr uint8_t kInvalidNextHop = 8;
inline constexpr uint8_t kOptionalAttributeError = 9;
inline constexpr uint8_t kInvalidNetworkField = 10;
inline constexpr uint8_t kMalformedAsPath = 11;
// Cease subcodes (RFC 4486, RFC 9003).
inline constexpr uint8_t kMaxPrefixes = 1;
inline constexpr uint8_t kAdministrativeShutdown = 2;
inline constexpr uint8_t kPeerDeconfigured = 3;
inline constexpr uint8_t kAdministrativeReset = 4;
inline constexpr uint8_t kConnectionRejected = 5;
inline constexpr uint8_t kOtherConfigurationChange = 6;
inline constexpr uint8_t kConnectionCollision = 7;
inline constexpr uint8_t kOutOfResources = 8;
// ROUTE-REFRESH message error subcode (RFC 7313).
inline constexpr uint8_t kInvalidRouteRefreshLength = 1;
}  // namespace notif

struct Notification {
    uint8_t code = 0;
    uint8_t subcode = 0;
    Bytes data;
    bool operator==(const Notification&) const = default;
};

struct DecodeError {
    ErrorAction action = ErrorAction::kSessionReset;
    // Set for kSessionReset (and for the other actions, the NOTIFICATION that
    // RFC 4271 alone would have required, for logging).
    std::optional<Notification> notification;
    std::string reason;
    // The attribute concerned, when there is one (0 otherwise).
    uint8_t attribute_code = 0;
    // For kAfiSafiDisable: the family concerned.
    uint16_t afi = 0;
    uint8_t safi = 0;

    static DecodeError Reset(uint8_t code, uint8_t subcode, std::string reason, Bytes data = {}) {
        return DecodeError{ErrorAction::kSessionReset, Notification{code, subcode, std::move(data)},
                           std::move(reason)};
    }
};

// Keeps the most severe of several errors.
inline void MergeError(std::optional<DecodeError>& into, DecodeError e) {
    if (!into || static_cast<int>(e.action) > static_cast<int>(into->action)) into = std::move(e);
}

}  // namespace bagpipe::bgp
