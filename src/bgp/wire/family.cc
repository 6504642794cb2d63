#include "bgp/wire/family.h"

#include <array>

namespace bagpipe::bgp {

namespace {
struct FamilyRow {
    Family family;
    AfiSafi afi_safi;
    std::string_view name;
};
constexpr std::array<FamilyRow, kFamilyCount - 1> kFamilies = {{
    {Family::kIpv4Unicast, {kAfiIpv4, kSafiUnicast}, "ipv4-unicast"},
    {Family::kIpv6Unicast, {kAfiIpv6, kSafiUnicast}, "ipv6-unicast"},
    {Family::kIpv4Labeled, {kAfiIpv4, kSafiLabeled}, "ipv4-labeled"},
    {Family::kIpv6Labeled, {kAfiIpv6, kSafiLabeled}, "ipv6-labeled"},
    {Family::kIpv4Vpn, {kAfiIpv4, kSafiVpn}, "ipv4-vpn"},
    {Family::kIpv6Vpn, {kAfiIpv6, kSafiVpn}, "ipv6-vpn"},
    {Family::kL2vpnEvpn, {kAfiL2vpn, kSafiEvpn}, "l2vpn-evpn"},
    {Family::kIpv4Rtc, {kAfiIpv4, kSafiRtc}, "ipv4-rtc"},
    {Family::kIpv4FlowspecVpn, {kAfiIpv4, kSafiFlowspecVpn}, "ipv4-flowspec-vpn"},
    {Family::kIpv6FlowspecVpn, {kAfiIpv6, kSafiFlowspecVpn}, "ipv6-flowspec-vpn"},
}};
}  // namespace

Family FamilyFromAfiSafi(uint16_t afi, uint8_t safi) {
    for (const auto& row : kFamilies)
        if (row.afi_safi.afi == afi && row.afi_safi.safi == safi) return row.family;
    return Family::kUnknown;
}

AfiSafi ToAfiSafi(Family f) {
    for (const auto& row : kFamilies)
        if (row.family == f) return row.afi_safi;
    return {};
}

std::string_view FamilyName(Family f) {
    for (const auto& row : kFamilies)
        if (row.family == f) return row.name;
    return "unknown";
}

std::optional<Family> FamilyFromName(std::string_view name) {
    for (const auto& row : kFamilies)
        if (row.name == name) return row.family;
    return std::nullopt;
}

}  // namespace bagpipe::bgp
