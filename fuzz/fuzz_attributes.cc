// Path attribute blocks. Oracle: attribute sets decoded without error
// re-encode and decode to the same value.
#include <cstddef>
#include <cstdint>

#include "bgp/wire/attributes.h"
#include "fuzz_context.h"

using namespace bagpipe::bgp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    SessionContext ctx = fuzz::ContextFromByte(data[0]);
    bool has_nlri = data[1] & 1;
    PathAttributes attrs;
    auto err = DecodePathAttributes(ByteView(data + 2, size - 2), ctx, has_nlri, attrs);
    if (err) return 0;
    Bytes again;
    Writer w(again);
    EncodePathAttributes(attrs, ctx, w);
    PathAttributes attrs2;
    auto err2 = DecodePathAttributes(again, ctx, has_nlri, attrs2);
    fuzz::Check(!err2);
    // The Partial bit is set on re-sent unknown optional transitive attributes.
    for (auto& u : attrs.unknown) u.flags |= attr::kPartial;
    fuzz::Check(attrs == attrs2);
    return 0;
}
