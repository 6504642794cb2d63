// NLRI of each family: first octet = session context, second = family index
// and withdraw flag. Oracle: decoded NLRI re-encode to the same bytes
// (canonical input) or at least to bytes that decode to the same values.
#include <cstddef>
#include <cstdint>
#include <string>

#include "bgp/wire/nlri.h"
#include "fuzz_context.h"

using namespace bagpipe::bgp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    SessionContext ctx = fuzz::ContextFromByte(data[0]);
    Family family = static_cast<Family>(1 + (data[1] & 0x7f) % (kFamilyCount - 1));
    const FamilyCodec* codec = FindFamilyCodec(family);
    if (!codec) return 0;
    NlriContext nctx{ctx.add_path_rx(family), (data[1] & 0x80) != 0};
    Reader r(data + 2, size - 2);
    NlriList list = codec->make_list();
    std::string why;
    if (!codec->decode(r, nctx, list, why)) return 0;
    Bytes again;
    Writer w(again);
    size_t total = 0;
    for (size_t i = 0; i < NlriCount(list); ++i) {
        total += codec->encoded_size(list, i, nctx);
        codec->encode(list, i, nctx, w);
    }
    fuzz::Check(total == again.size());
    Reader r2(again);
    NlriList list2 = codec->make_list();
    fuzz::Check(codec->decode(r2, nctx, list2, why));
    fuzz::Check(list == list2);
    return 0;
}
