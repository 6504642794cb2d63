// Helpers shared by the dataplane unit tests.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "bgp/wire/esi.h"
#include "bgp/wire/ip_address.h"
#include "dataplane/driver.h"

namespace bagpipe::dataplane::test {

inline bgp::IpAddress Ip(std::string_view text) {
    auto a = bgp::IpAddress::Parse(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(bgp::IpAddress{});
}

inline bgp::Prefix Pfx(std::string_view text) {
    auto p = bgp::Prefix::Parse(text);
    EXPECT_TRUE(p.has_value()) << text;
    return p.value_or(bgp::Prefix{});
}

inline bgp::MacAddress Mac(std::string_view text) {
    auto m = bgp::MacAddress::Parse(text);
    EXPECT_TRUE(m.has_value()) << text;
    return m.value_or(bgp::MacAddress{});
}

inline LocalPort Port(std::string_view linuxif) {
    LocalPort p;
    p.linuxif = std::string(linuxif);
    return p;
}

inline RemoteEndpoint VpnRoute(std::string_view prefix, std::string_view pe, uint32_t label,
                               EncapsulationSet encaps = {Encapsulation::kMpls}) {
    RemoteEndpoint e;
    e.prefix = Pfx(prefix);
    e.remote_pe = Ip(pe);
    e.label = label;
    e.encaps = encaps;
    e.nlri = std::string(prefix);
    return e;
}

inline RemoteEndpoint MacRoute(std::string_view mac, std::string_view pe, uint32_t vni,
                               std::string_view ip = {},
                               EncapsulationSet encaps = {Encapsulation::kVxlan}) {
    RemoteEndpoint e;
    e.mac = Mac(mac);
    if (!ip.empty()) e.ip = Ip(ip);
    e.remote_pe = Ip(pe);
    e.label = vni;
    e.encaps = encaps;
    e.nlri = std::string(mac);
    return e;
}

inline BumEndpoint Bum(std::string_view pe, uint32_t vni,
                       EncapsulationSet encaps = {Encapsulation::kVxlan}) {
    BumEndpoint b;
    b.remote_pe = Ip(pe);
    b.vni = vni;
    b.encaps = encaps;
    b.nlri = std::string(pe);
    return b;
}

inline InstanceConfig Instance(uint32_t id, std::string_view external_id, uint32_t label) {
    InstanceConfig c;
    c.instance_id = id;
    c.external_id = std::string(external_id);
    c.gateway_ip = Ip("10.0.0.254");
    c.gateway_prefix_length = 24;
    c.instance_label = label;
    return c;
}

}  // namespace bagpipe::dataplane::test
