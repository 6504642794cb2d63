// Address families (AFI/SAFI pairs) the codec knows, and the session context
// that decoding depends on.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string_view>

namespace bagpipe::bgp {

inline constexpr uint16_t kAfiIpv4 = 1;
inline constexpr uint16_t kAfiIpv6 = 2;
inline constexpr uint16_t kAfiL2vpn = 25;
inline constexpr uint8_t kSafiUnicast = 1;
inline constexpr uint8_t kSafiLabeled = 4;
inline constexpr uint8_t kSafiEvpn = 70;
inline constexpr uint8_t kSafiVpn = 128;
inline constexpr uint8_t kSafiRtc = 132;
inline constexpr uint8_t kSafiFlowspecVpn = 134;

enum class Family : uint8_t {
    kUnknown = 0,
    kIpv4Unicast,
    kIpv6Unicast,
    kIpv4Labeled,
    kIpv6Labeled,
    kIpv4Vpn,
    kIpv6Vpn,
    kL2vpnEvpn,
    kIpv4Rtc,
    kIpv4FlowspecVpn,
    kIpv6FlowspecVpn,
    kCount,
};
inline constexpr size_t kFamilyCount = static_cast<size_t>(Family::kCount);

struct AfiSafi {
    uint16_t afi = 0;
    uint8_t safi = 0;
    bool operator==(const AfiSafi&) const = default;
    auto operator<=>(const AfiSafi&) const = default;
};

Family FamilyFromAfiSafi(uint16_t afi, uint8_t safi);
AfiSafi ToAfiSafi(Family f);
// "ipv4-unicast", "ipv6-unicast", "ipv4-labeled", "ipv6-labeled", "ipv4-vpn",
// "ipv6-vpn", "l2vpn-evpn", "ipv4-rtc", "ipv4-flowspec-vpn", "ipv6-flowspec-vpn".
std::string_view FamilyName(Family f);
std::optional<Family> FamilyFromName(std::string_view name);

using FamilySet = std::bitset<kFamilyCount>;
inline size_t FamilyIndex(Family f) { return static_cast<size_t>(f); }

// What decoding and encoding depend on, negotiated per session.
struct SessionContext {
    bool asn4 = true;              // RFC 6793 four-octet AS numbers negotiated
    bool extended_message = false; // RFC 8654: messages up to 65535 octets
    FamilySet add_path_receive;    // families whose NLRI we receive with path ids
    FamilySet add_path_send;       // families whose NLRI we send with path ids
    bool ibgp = true;              // LOCAL_PREF is mandatory on iBGP only

    size_t max_message_size() const { return extended_message ? 65535 : 4096; }
    bool add_path_rx(Family f) const { return add_path_receive.test(FamilyIndex(f)); }
    bool add_path_tx(Family f) const { return add_path_send.test(FamilyIndex(f)); }
};

}  // namespace bagpipe::bgp
