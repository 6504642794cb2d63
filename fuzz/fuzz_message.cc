// Whole BGP messages under every session context. Oracle: no crash, no
// sanitizer report, and a cleanly decoded UPDATE / OPEN / NOTIFICATION /
// ROUTE-REFRESH re-encodes to bytes that decode to the same value.
#include <cstddef>
#include <cstdint>

#include "bgp/wire/message.h"
#include "fuzz_context.h"

using namespace bagpipe::bgp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    SessionContext ctx = fuzz::ContextFromByte(data[0]);
    ByteView msg(data + 1, size - 1);
    DecodeResult res = DecodeMessage(msg, ctx);
    if (res.error || !res.message) return 0;
    Bytes again;
    if (auto* u = std::get_if<UpdateMessage>(&*res.message)) {
        again = EncodeUpdate(*u, ctx);
        if (again.empty()) return 0;  // canonical form may not fit (rare); not a bug
    } else if (auto* o = std::get_if<OpenMessage>(&*res.message)) {
        again = EncodeOpen(*o);
    } else if (auto* n = std::get_if<NotificationMessage>(&*res.message)) {
        again = EncodeNotification(*n);
    } else if (auto* r = std::get_if<RouteRefreshMessage>(&*res.message)) {
        if (msg.size() != kHeaderSize + 4) return 0;  // ORF entries are not kept
        again = EncodeRouteRefresh(*r);
    } else {
        again = EncodeKeepalive();
    }
    DecodeResult res2 = DecodeMessage(again, ctx);
    fuzz::Check(!res2.error);
    // Re-sent unknown optional transitive attributes carry the Partial bit.
    if (auto* u = std::get_if<UpdateMessage>(&*res.message))
        for (auto& a : u->attributes.unknown) a.flags |= attr::kPartial;
    // The encoder picks the RFC 9072 form by size, whatever the input used.
    if (auto* o = std::get_if<OpenMessage>(&*res.message))
        if (res2.message) o->extended_parameters = std::get<OpenMessage>(*res2.message).extended_parameters;
    fuzz::Check(res2.message.has_value() && *res2.message == *res.message);
    return 0;
}
