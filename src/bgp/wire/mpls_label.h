// MPLS label stacks as carried in labeled NLRI (RFC 8277) and EVPN routes.
//
// Each entry is the raw 3-octet field: label << 4 | TC-free bits | BoS. For
// EVPN over VXLAN the same 24 bits carry a VNI (RFC 8365 §5.1.3), so callers
// decide how to read it: MplsLabel() gives the 20-bit label, Vni() the 24-bit
// value. The stack lives inline (no heap) with room for kMaxLabels entries.
#pragma once

#include <array>
#include <compare>
#include <cstdint>

namespace bagpipe::bgp {

inline constexpr uint32_t kMaxMplsLabel = (1u << 20) - 1;
inline constexpr uint32_t kMaxVni = (1u << 24) - 1;
// Label value 0x800000 (label 0x80000 with BoS) marks a withdrawal in RFC 3107,
// 0x000000 in RFC 8277: either is accepted in MP_UNREACH.
inline constexpr uint32_t kWithdrawLabelRaw = 0x800000;

// Builds the raw field for an MPLS label with the bottom-of-stack bit.
constexpr uint32_t MplsLabelField(uint32_t label, bool bottom = true) {
    return ((label & kMaxMplsLabel) << 4) | (bottom ? 1u : 0u);
}
constexpr uint32_t LabelFromField(uint32_t raw) { return raw >> 4; }
constexpr bool BottomOfStack(uint32_t raw) { return raw & 1u; }

struct LabelStack {
    static constexpr size_t kMaxLabels = 7;
    std::array<uint32_t, kMaxLabels> raw{};
    uint8_t count = 0;

    static LabelStack One(uint32_t raw_field) {
        LabelStack s;
        s.raw[0] = raw_field;
        s.count = 1;
        return s;
    }
    bool Push(uint32_t raw_field) {
        if (count == kMaxLabels) return false;
        raw[count++] = raw_field;
        return true;
    }
    bool empty() const { return count == 0; }
    uint32_t front() const { return raw[0]; }
    bool operator==(const LabelStack& o) const {
        if (count != o.count) return false;
        for (size_t i = 0; i < count; ++i)
            if (raw[i] != o.raw[i]) return false;
        return true;
    }
    auto operator<=>(const LabelStack& o) const {
        for (size_t i = 0; i < count && i < o.count; ++i)
            if (auto c = raw[i] <=> o.raw[i]; c != 0) return c;
        return count <=> o.count;
    }
};

}  // namespace bagpipe::bgp
