// EVPN NLRI (RFC 7432 §7, RFC 9136 for type 5), AFI 25 / SAFI 70.
//
// One struct for every route type; the fields a type does not carry stay
// empty. Route types other than 1-5 are kept as raw bytes (RFC 7606 §5.4: an
// unknown route type is ignored, not an error).
//
//   type 1 Ethernet A-D:        rd, esi, ethernet_tag, labels[0]
//   type 2 MAC/IP advertisement: rd, esi, ethernet_tag, mac (mac_length 48),
//                               ip (empty, v4 or v6), labels[0] and optional labels[1]
//   type 3 Inclusive multicast: rd, ethernet_tag, originating_ip
//   type 4 Ethernet segment:    rd, esi, originating_ip
//   type 5 IP prefix:           rd, esi, ethernet_tag, prefix, gateway_ip, labels[0]
#pragma once

#include <compare>
#include <cstdint>

#include "bgp/wire/bytes.h"
#include "bgp/wire/esi.h"
#include "bgp/wire/ip_address.h"
#include "bgp/wire/mpls_label.h"
#include "bgp/wire/route_distinguisher.h"

namespace bagpipe::bgp {

enum class EvpnRouteType : uint8_t {
    kEthernetAd = 1,
    kMacIp = 2,
    kInclusiveMulticast = 3,
    kEthernetSegment = 4,
    kIpPrefix = 5,
};

struct EvpnNlri {
    uint32_t path_id = 0;
    uint8_t route_type = 0;
    RouteDistinguisher rd;
    Esi esi;
    uint32_t ethernet_tag = 0;
    uint8_t mac_length = 0;
    MacAddress mac;
    IpAddress ip;
    LabelStack labels;  // raw 24-bit fields (MPLS label << 4 | BoS, or a VNI)
    IpAddress originating_ip;
    Prefix prefix;
    IpAddress gateway_ip;
    Bytes raw;  // the route's bytes for unknown route types

    auto operator<=>(const EvpnNlri&) const = default;
    bool operator==(const EvpnNlri&) const = default;
};

}  // namespace bagpipe::bgp
