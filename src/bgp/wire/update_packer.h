// Packs many NLRI that share one attribute set into as few UPDATE messages as
// the negotiated maximum message size (4,096, or 65,535 with RFC 8654) allows,
// splitting exactly at the limit. The shared attributes are encoded once per
// call; each message then gets them copied around its own MP_REACH_NLRI (or,
// for IPv4 unicast, the classic NLRI field), so the output is canonical:
// attributes in type-code order, extended length only where needed.
//
// Messages are appended back to back to `out`, ready for a socket; the return
// value says how many were written and how many NLRI did not fit any message.
#pragma once

#include <cstddef>

#include "bgp/wire/attributes.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/family.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

struct PackResult {
    size_t messages = 0;
    size_t nlri = 0;       // NLRI written
    size_t oversized = 0;  // NLRI too large for an empty message (skipped)
};

// `attrs` must not carry MP_REACH/MP_UNREACH (ignored if it does). For IPv4
// unicast the NEXT_HOP attribute is set from next_hop.global unless present.
PackResult PackAnnouncements(const PathAttributes& attrs, Family family, const NextHop& next_hop,
                             const NlriList& nlri, const SessionContext& ctx, Bytes& out);

PackResult PackWithdrawals(Family family, const NlriList& nlri, const SessionContext& ctx,
                           Bytes& out);

}  // namespace bagpipe::bgp
