// Capability negotiation (RFC 5492 and the capabilities BaGPipe uses): a pure
// function of the OPEN we sent and the OPEN we received.
//
// The result says what the session may use (families, 4-octet AS, ADD-PATH
// per family and direction, extended messages, route refresh, the peer's
// graceful-restart parameters, the hold time) and carries the SessionContext
// the codec needs to decode and encode the session's UPDATEs. It does not
// judge whether the session is acceptable (peer AS, BGP identifier, no common
// family): the FSM does that with the result in hand.
#pragma once

#include <cstdint>
#include <vector>

#include "bgp/wire/family.h"
#include "bgp/wire/message.h"

namespace bagpipe::bgp {

// The peer's graceful-restart capability (RFC 4724 §3), as received.
struct GracefulRestartInfo {
    bool advertised = false;      // the peer sent the capability
    uint16_t restart_time = 0;    // seconds
    bool restart_state = false;   // R bit: the peer has restarted
    bool notification = false;    // N bit (RFC 8538)
    FamilySet families;           // families listed (and negotiated)
    FamilySet forwarding_preserved;  // of those, the ones with the F bit set
    bool operator==(const GracefulRestartInfo&) const = default;
};

struct NegotiatedSession {
    uint32_t local_as = 0;
    uint32_t peer_as = 0;      // the 4-octet capability's ASN when sent, else My AS
    uint32_t peer_bgp_id = 0;  // host order
    bool ibgp = false;

    // min(ours, theirs); 0 means no KEEPALIVEs and no hold timer.
    uint16_t hold_time = 0;
    // hold_time / 3 (the FSM may lower it to the configured keepalive time).
    uint16_t keepalive_time = 0;

    bool asn4 = false;  // both sent the four-octet AS capability (RFC 6793)
    bool route_refresh = false;           // both: RFC 2918 (or the Cisco code 128)
    bool enhanced_route_refresh = false;  // both: RFC 7313
    bool extended_message = false;       // both: RFC 8654

    // Families both sides offered (RFC 4760: a side that sends no
    // multiprotocol capability at all offers IPv4 unicast only).
    FamilySet families;
    // Families we offered that the peer did not.
    FamilySet families_missing;
    // AFI/SAFIs the peer offered that we did not (known to the codec or not).
    std::vector<AfiSafi> families_peer_only;

    // RFC 7911, restricted to negotiated families: we receive path ids for F
    // when we advertised receive and the peer advertised send; we send path ids
    // when we advertised send and the peer advertised receive.
    FamilySet add_path_receive;
    FamilySet add_path_send;

    // Both sides sent the graceful-restart capability.
    bool graceful_restart = false;
    GracefulRestartInfo peer_graceful_restart;

    // What the codec needs for this session.
    SessionContext context;
};

// The families an OPEN offers: its multiprotocol capabilities mapped to the
// families the codec knows, or IPv4 unicast when it has none (RFC 4760 §8).
FamilySet OfferedFamilies(const OpenMessage& open);

// The AFI/SAFIs an OPEN's multiprotocol capabilities list, in order
// (IPv4 unicast alone when there are none).
std::vector<AfiSafi> OfferedAfiSafis(const OpenMessage& open);

NegotiatedSession Negotiate(const OpenMessage& ours, const OpenMessage& theirs);

}  // namespace bagpipe::bgp
