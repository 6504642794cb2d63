// Shared by the fuzz targets: the first input octet chooses the session
// context, so every target explores 2-octet and 4-octet AS sessions, extended
// messages and ADD-PATH on each family.
#pragma once

#include <cstdint>

#include "bgp/wire/family.h"

namespace bagpipe::bgp::fuzz {

inline SessionContext ContextFromByte(uint8_t b) {
    SessionContext ctx;
    ctx.asn4 = b & 0x01;
    ctx.extended_message = b & 0x02;
    ctx.ibgp = !(b & 0x04);
    if (b & 0x08) {
        ctx.add_path_receive.set();
        ctx.add_path_send.set();
    }
    return ctx;
}

// Fails loudly (libFuzzer reports a crash) when an invariant is broken.
inline void Check(bool ok) {
    if (!ok) __builtin_trap();
}

}  // namespace bagpipe::bgp::fuzz
