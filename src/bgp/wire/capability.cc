#include "bgp/wire/capability.h"

namespace bagpipe::bgp {

namespace {
template <class... Ts>
struct Overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;
}  // namespace

uint8_t CapabilityCode(const Capability& c) {
    return std::visit(Overloaded{
                          [](const MultiprotocolCap&) { return cap::kMultiprotocol; },
                          [](const RouteRefreshCap&) { return cap::kRouteRefresh; },
                          [](const EnhancedRouteRefreshCap&) { return cap::kEnhancedRouteRefresh; },
                          [](const ExtendedMessageCap&) { return cap::kExtendedMessage; },
                          [](const FourOctetAsCap&) { return cap::kFourOctetAs; },
                          [](const AddPathCap&) { return cap::kAddPath; },
                          [](const GracefulRestartCap&) { return cap::kGracefulRestart; },
                          [](const UnknownCap& u) { return u.code; },
                      },
                      c);
}

std::string_view CapabilityName(uint8_t code) {
    switch (code) {
        case cap::kMultiprotocol: return "multiprotocol";
        case cap::kRouteRefresh: return "route-refresh";
        case cap::kExtendedNextHop: return "extended-next-hop";
        case cap::kExtendedMessage: return "extended-message";
        case cap::kGracefulRestart: return "graceful-restart";
        case cap::kFourOctetAs: return "four-octet-as";
        case cap::kAddPath: return "add-path";
        case cap::kEnhancedRouteRefresh: return "enhanced-route-refresh";
        case cap::kLongLivedGr: return "long-lived-graceful-restart";
        case cap::kFqdn: return "fqdn";
        case cap::kRouteRefreshCisco: return "route-refresh-cisco";
        default: return "unknown";
    }
}

bool DecodeCapability(uint8_t code, ByteView value, Capability& out) {
    Reader r(value);
    switch (code) {
        case cap::kMultiprotocol: {
            MultiprotocolCap c;
            uint8_t reserved = 0;
            if (value.size() != 4 || !r.ReadU16(c.afi) || !r.ReadU8(reserved) || !r.ReadU8(c.safi))
                return false;
            out = c;
            return true;
        }
        case cap::kRouteRefresh:
            if (!value.empty()) return false;
            out = RouteRefreshCap{};
            return true;
        case cap::kEnhancedRouteRefresh:
            if (!value.empty()) return false;
            out = EnhancedRouteRefreshCap{};
            return true;
        case cap::kExtendedMessage:
            if (!value.empty()) return false;
            out = ExtendedMessageCap{};
            return true;
        case cap::kFourOctetAs: {
            FourOctetAsCap c;
            if (value.size() != 4 || !r.ReadU32(c.asn)) return false;
            out = c;
            return true;
        }
        case cap::kAddPath: {
            if (value.empty() || value.size() % 4) return false;
            AddPathCap c;
            while (!r.empty()) {
                AddPathCap::Entry e;
                r.ReadU16(e.afi);
                r.ReadU8(e.safi);
                r.ReadU8(e.send_receive);
                if (e.send_receive < 1 || e.send_receive > 3) return false;
                c.entries.push_back(e);
            }
            out = std::move(c);
            return true;
        }
        case cap::kGracefulRestart: {
            if (value.size() < 2 || (value.size() - 2) % 4) return false;
            GracefulRestartCap c;
            uint16_t v = 0;
            r.ReadU16(v);
            c.flags = static_cast<uint8_t>(v >> 12);
            c.restart_time = v & 0x0fff;
            while (!r.empty()) {
                GracefulRestartCap::Entry e;
                r.ReadU16(e.afi);
                r.ReadU8(e.safi);
                r.ReadU8(e.flags);
                c.entries.push_back(e);
            }
            out = std::move(c);
            return true;
        }
        default:
            out = UnknownCap{code, Bytes(value.begin(), value.end())};
            return true;
    }
}

void EncodeCapability(const Capability& c, Writer& w) {
    std::visit(Overloaded{
                   [&](const MultiprotocolCap& m) {
                       w.PutU8(cap::kMultiprotocol);
                       w.PutU8(4);
                       w.PutU16(m.afi);
                       w.PutU8(0);
                       w.PutU8(m.safi);
                   },
                   [&](const RouteRefreshCap&) {
                       w.PutU8(cap::kRouteRefresh);
                       w.PutU8(0);
                   },
                   [&](const EnhancedRouteRefreshCap&) {
                       w.PutU8(cap::kEnhancedRouteRefresh);
                       w.PutU8(0);
                   },
                   [&](const ExtendedMessageCap&) {
                       w.PutU8(cap::kExtendedMessage);
                       w.PutU8(0);
                   },
                   [&](const FourOctetAsCap& f) {
                       w.PutU8(cap::kFourOctetAs);
                       w.PutU8(4);
                       w.PutU32(f.asn);
                   },
                   [&](const AddPathCap& a) {
                       w.PutU8(cap::kAddPath);
                       w.PutU8(static_cast<uint8_t>(a.entries.size() * 4));
                       for (const auto& e : a.entries) {
                           w.PutU16(e.afi);
                           w.PutU8(e.safi);
                           w.PutU8(e.send_receive);
                       }
                   },
                   [&](const GracefulRestartCap& g) {
                       w.PutU8(cap::kGracefulRestart);
                       w.PutU8(static_cast<uint8_t>(2 + g.entries.size() * 4));
                       w.PutU16(static_cast<uint16_t>((g.flags & 0x0f) << 12 |
                                                      (g.restart_time & 0x0fff)));
                       for (const auto& e : g.entries) {
                           w.PutU16(e.afi);
                           w.PutU8(e.safi);
                           w.PutU8(e.flags);
                       }
                   },
                   [&](const UnknownCap& u) {
                       w.PutU8(u.code);
                       w.PutU8(static_cast<uint8_t>(u.value.size()));
                       w.PutBytes(u.value);
                   },
               },
               c);
}

}  // namespace bagpipe::bgp
