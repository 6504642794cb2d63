#include "bgp/wire/nlri.h"

#include <iterator>

#include "bgp/family/evpn/evpn_codec.h"
#include "bgp/family/flowspec/flowspec_codec.h"
#include "bgp/family/inet/inet_codec.h"
#include "bgp/family/labeled/labeled_codec.h"
#include "bgp/family/rtc/rtc_codec.h"
#include "bgp/family/vpn/vpn_codec.h"

namespace bagpipe::bgp {

size_t NlriCount(const NlriList& list) {
    return std::visit([](const auto& v) { return v.size(); }, list);
}

namespace {

// One row per Family, in enum order (checked by the unit tests).
constexpr const FamilyCodec* kCodecs[] = {
    nullptr,                 // kUnknown
    &kIpv4UnicastCodec,      // kIpv4Unicast
    &kIpv6UnicastCodec,      // kIpv6Unicast
    &kIpv4LabeledCodec,      // kIpv4Labeled
    &kIpv6LabeledCodec,      // kIpv6Labeled
    &kIpv4VpnCodec,          // kIpv4Vpn
    &kIpv6VpnCodec,          // kIpv6Vpn
    &kL2vpnEvpnCodec,        // kL2vpnEvpn
    &kIpv4RtcCodec,          // kIpv4Rtc
    &kIpv4FlowspecVpnCodec,  // kIpv4FlowspecVpn
    &kIpv6FlowspecVpnCodec,  // kIpv6FlowspecVpn
};
static_assert(std::size(kCodecs) == kFamilyCount, "one codec row per Family");

}  // namespace

const FamilyCodec* FindFamilyCodec(Family f) {
    size_t i = FamilyIndex(f);
    return i < std::size(kCodecs) ? kCodecs[i] : nullptr;
}

}  // namespace bagpipe::bgp
