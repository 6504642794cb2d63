// Codec throughput: decode and encode of UPDATEs packed with VPNv4 and EVPN
// type-2 NLRI, in NLRI per second (items_per_second). See BENCHMARKS.md.
#include <benchmark/benchmark.h>

#include <cstring>

#include "bgp/wire/message.h"
#include "bgp/wire/update_packer.h"

namespace bagpipe::bgp {
namespace {

PathAttributes SharedAttributes() {
    PathAttributes a;
    a.origin = Origin::kIgp;
    a.set(attr::kOrigin);
    a.set(attr::kAsPath);
    a.local_pref = 100;
    a.set(attr::kLocalPref);
    a.ext_communities = {*ExtCommunity::ParseRouteTarget("64512:1"),
                         ExtCommunity::Encapsulation(static_cast<uint16_t>(TunnelType::kMplsOverGre))};
    a.set(attr::kExtCommunities);
    return a;
}

std::vector<VpnNlri> MakeVpnv4(size_t n) {
    std::vector<VpnNlri> v(n);
    for (size_t i = 0; i < n; ++i) {
        v[i].labels = LabelStack::One(MplsLabelField(16 + static_cast<uint32_t>(i % 1000000)));
        v[i].rd = RouteDistinguisher::Type0(64512, static_cast<uint32_t>(i % 1000));
        v[i].prefix.address = IpAddress::V4(0x0a000000u + static_cast<uint32_t>(i << 8));
        v[i].prefix.length = 24;
    }
    return v;
}

std::vector<EvpnNlri> MakeEvpnMacIp(size_t n) {
    std::vector<EvpnNlri> v(n);
    for (size_t i = 0; i < n; ++i) {
        EvpnNlri& e = v[i];
        e.route_type = 2;
        e.rd = RouteDistinguisher::Type1(0x7f000101, static_cast<uint16_t>(i % 100));
        e.mac_length = 48;
        e.mac.bytes = {0x52, 0x54, static_cast<uint8_t>(i >> 24), static_cast<uint8_t>(i >> 16),
                       static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
        e.ip = IpAddress::V4(0x0a000000u + static_cast<uint32_t>(i));
        e.labels = LabelStack::One(5001);
    }
    return v;
}

// Concatenated UPDATE messages holding `nlri`, and their count.
Bytes Packed(const NlriList& nlri, Family f, bool extended, size_t* messages) {
    SessionContext ctx;
    ctx.extended_message = extended;
    NextHop nh{IpAddress::V4(0x7f000101), {}};
    Bytes out;
    PackResult r = PackAnnouncements(SharedAttributes(), f, nh, nlri, ctx, out);
    *messages = r.messages;
    return out;
}

void DecodeStream(benchmark::State& state, const Bytes& stream, const SessionContext& ctx,
                  size_t nlri_count) {
    for (auto _ : state) {
        ByteView rest(stream);
        size_t total = 0;
        while (!rest.empty()) {
            FrameResult f = FrameMessage(rest, ctx.max_message_size());
            DecodeResult res = DecodeMessage(rest.first(f.length), ctx);
            const auto& u = std::get<UpdateMessage>(*res.message);
            total += NlriCount(u.attributes.mp_reach.nlri);
            rest = rest.subspan(f.length);
        }
        benchmark::DoNotOptimize(total);
        if (total != nlri_count) state.SkipWithError("NLRI count mismatch");
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * nlri_count));
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}

constexpr size_t kCount = 100000;

void BM_DecodeVpnv4(benchmark::State& state) {
    bool extended = state.range(0);
    size_t messages = 0;
    NlriList nlri = MakeVpnv4(kCount);
    Bytes stream = Packed(nlri, Family::kIpv4Vpn, extended, &messages);
    SessionContext ctx;
    ctx.extended_message = extended;
    DecodeStream(state, stream, ctx, kCount);
    state.counters["msgs"] = static_cast<double>(messages);
}
BENCHMARK(BM_DecodeVpnv4)->Arg(0)->Arg(1)->ArgName("ext_msg");

void BM_DecodeEvpnMacIp(benchmark::State& state) {
    bool extended = state.range(0);
    size_t messages = 0;
    NlriList nlri = MakeEvpnMacIp(kCount);
    Bytes stream = Packed(nlri, Family::kL2vpnEvpn, extended, &messages);
    SessionContext ctx;
    ctx.extended_message = extended;
    DecodeStream(state, stream, ctx, kCount);
}
BENCHMARK(BM_DecodeEvpnMacIp)->Arg(0)->Arg(1)->ArgName("ext_msg");

void EncodeBench(benchmark::State& state, const NlriList& nlri, Family f) {
    SessionContext ctx;
    ctx.extended_message = state.range(0);
    NextHop nh{IpAddress::V4(0x7f000101), {}};
    PathAttributes attrs = SharedAttributes();
    Bytes out;
    out.reserve(kCount * 64);
    for (auto _ : state) {
        out.clear();
        PackResult r = PackAnnouncements(attrs, f, nh, nlri, ctx, out);
        benchmark::DoNotOptimize(out.data());
        if (r.nlri != kCount) state.SkipWithError("not all NLRI packed");
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCount));
}

void BM_EncodeVpnv4(benchmark::State& state) {
    static const NlriList nlri = MakeVpnv4(kCount);
    EncodeBench(state, nlri, Family::kIpv4Vpn);
}
BENCHMARK(BM_EncodeVpnv4)->Arg(0)->Arg(1)->ArgName("ext_msg");

void BM_EncodeEvpnMacIp(benchmark::State& state) {
    static const NlriList nlri = MakeEvpnMacIp(kCount);
    EncodeBench(state, nlri, Family::kL2vpnEvpn);
}
BENCHMARK(BM_EncodeEvpnMacIp)->Arg(0)->Arg(1)->ArgName("ext_msg");

// The ceiling: walk packed VPNv4 NLRI extracting label, RD and prefix with no
// validation and no objects.
void BM_BareWalkVpnv4(benchmark::State& state) {
    size_t messages = 0;
    NlriList nlri = MakeVpnv4(kCount);
    Bytes stream = Packed(nlri, Family::kIpv4Vpn, true, &messages);
    // Collect the NLRI regions of each message once.
    std::vector<ByteView> regions;
    SessionContext ctx;
    ctx.extended_message = true;
    ByteView rest(stream);
    while (!rest.empty()) {
        FrameResult f = FrameMessage(rest, 65535);
        ByteView m = rest.first(f.length);
        // header 19, withdrawn len 2, attr len 2, then attributes; MP_REACH is
        // found by walking the attribute headers.
        size_t pos = 23;
        while (pos < m.size()) {
            uint8_t flags = m[pos], code = m[pos + 1];
            size_t hl = (flags & 0x10) ? 4 : 3;
            size_t len = (flags & 0x10) ? (size_t{m[pos + 2]} << 8 | m[pos + 3]) : m[pos + 2];
            if (code == 14) {
                size_t nh = m[pos + hl + 3];
                size_t start = pos + hl + 4 + nh + 1;
                regions.push_back(m.subspan(start, pos + hl + len - start));
            }
            pos += hl + len;
        }
        rest = rest.subspan(f.length);
    }
    for (auto _ : state) {
        uint64_t acc = 0;
        size_t count = 0;
        for (ByteView region : regions) {
            const uint8_t* p = region.data();
            const uint8_t* end = p + region.size();
            while (p < end) {
                unsigned bits = *p++;
                uint32_t label = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
                uint64_t rd;
                std::memcpy(&rd, p + 3, 8);
                unsigned plen = bits - 88;
                uint32_t prefix = 0;
                std::memcpy(&prefix, p + 11, (plen + 7) / 8);
                acc += label + rd + prefix;
                p += (bits + 7) / 8;
                ++count;
            }
        }
        benchmark::DoNotOptimize(acc);
        if (count != kCount) state.SkipWithError("count mismatch");
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kCount));
}
BENCHMARK(BM_BareWalkVpnv4);

}  // namespace
}  // namespace bagpipe::bgp
