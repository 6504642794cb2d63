// Stream framing: the input is a byte stream cut into messages by
// FrameMessage; every frame found is decoded. Oracle: frames never exceed the
// buffer and decoding never crashes.
#include <cstddef>
#include <cstdint>

#include "bgp/wire/message.h"
#include "fuzz_context.h"

using namespace bagpipe::bgp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    SessionContext ctx = fuzz::ContextFromByte(data[0]);
    ByteView rest(data + 1, size - 1);
    while (!rest.empty()) {
        FrameResult f = FrameMessage(rest, ctx.max_message_size());
        if (f.error || f.length == 0) break;
        fuzz::Check(f.length <= rest.size() && f.length >= kHeaderSize);
        DecodeResult res = DecodeMessage(rest.first(f.length), ctx);
        fuzz::Check(res.length == f.length);
        rest = rest.subspan(f.length);
    }
    return 0;
}
