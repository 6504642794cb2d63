#include "bgp/family/evpn/evpn_codec.h"

#include "bgp/family/codec_util.h"

namespace bagpipe::bgp {

namespace {

using codec::Load24;
using codec::Load32;
using codec::Store24;
using codec::Store32;

constexpr Family kFam = Family::kL2vpnEvpn;

// Fixed part sizes (RFC 7432 §7, RFC 9136 §3).
constexpr size_t kRd = 8;
constexpr size_t kEsi = 10;
constexpr size_t kEthernetAdSize = kRd + kEsi + 4 + 3;      // 25
constexpr size_t kMacIpFixed = kRd + kEsi + 4 + 1 + 6 + 1;  // 30, then IP, labels
constexpr size_t kMulticastFixed = kRd + 4 + 1;             // 13, then IP
constexpr size_t kSegmentFixed = kRd + kEsi + 1;            // 19, then IP
constexpr size_t kIpPrefixFixed = kRd + kEsi + 4 + 1 + 3;   // 26, then 2 IPs

NlriList MakeList() { return std::vector<EvpnNlri>{}; }

size_t IpBytesForBits(unsigned bits) { return bits == 32 ? 4 : bits == 128 ? 16 : 0; }

IpAddress ReadIp(const uint8_t* p, size_t bytes) {
    return bytes == 4 ? IpAddress::V4(p) : IpAddress::V6(p);
}

// Decodes the value of one route (type and length octets already read).
bool DecodeRoute(const uint8_t* p, size_t len, EvpnNlri& n, std::string& error) {
    switch (n.route_type) {
        case 1: {  // Ethernet auto-discovery
            if (len != kEthernetAdSize)
                return codec::Fail(error, kFam, "Ethernet A-D route length {}, expected {}", len,
                                   kEthernetAdSize);
            std::memcpy(n.rd.bytes.data(), p, kRd);
            std::memcpy(n.esi.bytes.data(), p + 8, kEsi);
            n.ethernet_tag = Load32(p + 18);
            n.labels = LabelStack::One(Load24(p + 22));
            return true;
        }
        case 2: {  // MAC/IP advertisement
            if (len < kMacIpFixed + 3)
                return codec::Fail(error, kFam, "MAC/IP route length {} too short", len);
            const unsigned mac_bits = p[22];
            if (mac_bits != 48)
                return codec::Fail(error, kFam, "MAC/IP route MAC address length {}, expected 48",
                                   mac_bits);
            const unsigned ip_bits = p[29];
            const size_t ip_bytes = IpBytesForBits(ip_bits);
            if (ip_bits != 0 && ip_bytes == 0)
                return codec::Fail(error, kFam, "MAC/IP route IP address length {}", ip_bits);
            const size_t labels_len =
                len >= kMacIpFixed + ip_bytes ? len - kMacIpFixed - ip_bytes : 0;
            if (labels_len != 3 && labels_len != 6)
                return codec::Fail(error, kFam,
                                   "MAC/IP route length {} inconsistent with IP length {}", len,
                                   ip_bits);
            std::memcpy(n.rd.bytes.data(), p, kRd);
            std::memcpy(n.esi.bytes.data(), p + 8, kEsi);
            n.ethernet_tag = Load32(p + 18);
            n.mac_length = 48;
            std::memcpy(n.mac.bytes.data(), p + 23, 6);
            const uint8_t* q = p + kMacIpFixed;
            if (ip_bytes != 0) n.ip = ReadIp(q, ip_bytes);
            q += ip_bytes;
            n.labels = LabelStack::One(Load24(q));
            if (labels_len == 6) n.labels.Push(Load24(q + 3));
            return true;
        }
        case 3: {  // Inclusive multicast Ethernet tag
            const unsigned ip_bits = len > 12 ? p[12] : 0;
            const size_t ip_bytes = IpBytesForBits(ip_bits);
            if (ip_bytes == 0 || len != kMulticastFixed + ip_bytes)
                return codec::Fail(error, kFam,
                                   "inclusive multicast route length {} with IP length {}", len,
                                   ip_bits);
            std::memcpy(n.rd.bytes.data(), p, kRd);
            n.ethernet_tag = Load32(p + 8);
            n.originating_ip = ReadIp(p + kMulticastFixed, ip_bytes);
            return true;
        }
        case 4: {  // Ethernet segment
            const unsigned ip_bits = len > 18 ? p[18] : 0;
            const size_t ip_bytes = IpBytesForBits(ip_bits);
            if (ip_bytes == 0 || len != kSegmentFixed + ip_bytes)
                return codec::Fail(error, kFam,
                                   "Ethernet segment route length {} with IP length {}", len,
                                   ip_bits);
            std::memcpy(n.rd.bytes.data(), p, kRd);
            std::memcpy(n.esi.bytes.data(), p + 8, kEsi);
            n.originating_ip = ReadIp(p + kSegmentFixed, ip_bytes);
            return true;
        }
        case 5: {  // IP prefix (RFC 9136)
            size_t ip_bytes;
            if (len == kIpPrefixFixed + 8) {
                ip_bytes = 4;
            } else if (len == kIpPrefixFixed + 32) {
                ip_bytes = 16;
            } else {
                return codec::Fail(error, kFam, "IP prefix route length {}, expected 34 or 58",
                                   len);
            }
            const unsigned plen = p[22];
            if (plen > 8 * ip_bytes)
                return codec::Fail(error, kFam, "IP prefix route prefix length {} exceeds {}", plen,
                                   8 * ip_bytes);
            std::memcpy(n.rd.bytes.data(), p, kRd);
            std::memcpy(n.esi.bytes.data(), p + 8, kEsi);
            n.ethernet_tag = Load32(p + 18);
            n.prefix.address = ReadIp(p + 23, ip_bytes);
            n.prefix.length = static_cast<uint8_t>(plen);
            MaskPrefixBytes(n.prefix.address.bytes.data(), ip_bytes, plen);
            n.gateway_ip = ReadIp(p + 23 + ip_bytes, ip_bytes);
            n.labels = LabelStack::One(Load24(p + 23 + 2 * ip_bytes));
            return true;
        }
        default:
            n.raw.assign(p, p + len);
            return true;
    }
}

size_t CountRoutes(const uint8_t* p, const uint8_t* end, bool add_path) {
    const size_t size = static_cast<size_t>(end - p);
    const size_t head = add_path ? 6 : 2;
    size_t n = 0;
    for (size_t at = 0; size - at >= head; ++n) {
        at += head;
        at += p[at - 1];
        if (at >= size) return n + 1;
    }
    return n;
}

bool Decode(Reader& r, const NlriContext& ctx, NlriList& list, std::string& error) {
    auto* out = codec::ListOf<EvpnNlri>(list);
    if (out == nullptr) return codec::WrongList(error, kFam);
    const uint8_t* const begin = r.data();
    const uint8_t* const end = begin + r.remaining();
    const uint8_t* p = begin;
    codec::ReserveMore(*out, CountRoutes(p, end, ctx.add_path));
    const size_t head = ctx.add_path ? 6 : 2;
    while (p != end) {
        const uint8_t* const start = p;
        if (static_cast<size_t>(end - p) < head) {
            codec::Fail(error, kFam, "truncated NLRI: {} octets left, header needs {}", end - p,
                        head);
            r.Skip(static_cast<size_t>(start - begin));
            return false;
        }
        uint32_t path_id = 0;
        if (ctx.add_path) {
            path_id = Load32(p);
            p += 4;
        }
        const uint8_t type = p[0];
        const size_t len = p[1];
        p += 2;
        if (static_cast<size_t>(end - p) < len) {
            codec::Fail(error, kFam, "truncated route type {}: length {}, {} octets left", type,
                        len, end - p);
            r.Skip(static_cast<size_t>(start - begin));
            return false;
        }
        EvpnNlri& n = out->emplace_back();
        n.path_id = path_id;
        n.route_type = type;
        if (!DecodeRoute(p, len, n, error)) {
            out->pop_back();
            r.Skip(static_cast<size_t>(start - begin));
            return false;
        }
        p += len;
    }
    r.Skip(static_cast<size_t>(end - begin));
    return true;
}

// Address size written for an IP that must be present: IPv4 unless IPv6.
size_t AddressBytes(const IpAddress& a) { return a.is_v6() ? 16 : 4; }

size_t ValueSize(const EvpnNlri& n) {
    switch (n.route_type) {
        case 1:
            return kEthernetAdSize;
        case 2:
            return kMacIpFixed + n.ip.size() + (n.labels.count >= 2 ? 6 : 3);
        case 3:
            return kMulticastFixed + AddressBytes(n.originating_ip);
        case 4:
            return kSegmentFixed + AddressBytes(n.originating_ip);
        case 5:
            return kIpPrefixFixed + 2 * AddressBytes(n.prefix.address);
        default:
            return std::min<size_t>(n.raw.size(), 255);
    }
}

uint8_t* PutIp(uint8_t* p, const IpAddress& a, size_t bytes) {
    // An empty address is written as zeros; bytes beyond a.size() are zero.
    std::memcpy(p, a.bytes.data(), bytes);
    return p + bytes;
}

uint32_t FirstLabel(const EvpnNlri& n) { return n.labels.empty() ? 0 : n.labels.front(); }

size_t EncodedSize(const NlriList& list, size_t i, const NlriContext& ctx) {
    const EvpnNlri* n = codec::ItemOf<EvpnNlri>(list, i);
    if (n == nullptr) return 0;
    return (ctx.add_path ? 4 : 0) + 2 + ValueSize(*n);
}

void Encode(const NlriList& list, size_t i, const NlriContext& ctx, Writer& w) {
    const EvpnNlri* np = codec::ItemOf<EvpnNlri>(list, i);
    if (np == nullptr) return;
    const EvpnNlri& n = *np;
    const size_t len = ValueSize(n);
    uint8_t* p = codec::Append(w, (ctx.add_path ? 4 : 0) + 2 + len);
    if (ctx.add_path) {
        Store32(p, n.path_id);
        p += 4;
    }
    *p++ = n.route_type;
    *p++ = static_cast<uint8_t>(len);
    if (n.route_type >= 1 && n.route_type <= 5) {
        std::memcpy(p, n.rd.bytes.data(), kRd);
        p += kRd;
    }
    switch (n.route_type) {
        case 1:
            std::memcpy(p, n.esi.bytes.data(), kEsi);
            Store32(p + 10, n.ethernet_tag);
            Store24(p + 14, FirstLabel(n));
            break;
        case 2:
            std::memcpy(p, n.esi.bytes.data(), kEsi);
            Store32(p + 10, n.ethernet_tag);
            p[14] = 48;
            std::memcpy(p + 15, n.mac.bytes.data(), 6);
            p[21] = static_cast<uint8_t>(8 * n.ip.size());
            p = PutIp(p + 22, n.ip, n.ip.size());
            Store24(p, FirstLabel(n));
            if (n.labels.count >= 2) Store24(p + 3, n.labels.raw[1]);
            break;
        case 3: {
            const size_t ip_bytes = AddressBytes(n.originating_ip);
            Store32(p, n.ethernet_tag);
            p[4] = static_cast<uint8_t>(8 * ip_bytes);
            PutIp(p + 5, n.originating_ip, ip_bytes);
            break;
        }
        case 4: {
            const size_t ip_bytes = AddressBytes(n.originating_ip);
            std::memcpy(p, n.esi.bytes.data(), kEsi);
            p[10] = static_cast<uint8_t>(8 * ip_bytes);
            PutIp(p + 11, n.originating_ip, ip_bytes);
            break;
        }
        case 5: {
            const size_t ip_bytes = AddressBytes(n.prefix.address);
            const unsigned plen = std::min<unsigned>(n.prefix.length, 8 * ip_bytes);
            std::memcpy(p, n.esi.bytes.data(), kEsi);
            Store32(p + 10, n.ethernet_tag);
            p[14] = static_cast<uint8_t>(plen);
            PutIp(p + 15, n.prefix.address, ip_bytes);
            MaskPrefixBytes(p + 15, ip_bytes, plen);
            // The gateway has the prefix's family; another family's is zero.
            if (n.gateway_ip.size() == ip_bytes) PutIp(p + 15 + ip_bytes, n.gateway_ip, ip_bytes);
            Store24(p + 15 + 2 * ip_bytes, FirstLabel(n));
            break;
        }
        default:
            if (len != 0) std::memcpy(p, n.raw.data(), len);
            break;
    }
}

bool DecodeNextHop(ByteView nh, NextHop& out, std::string& error) {
    return codec::DecodeNextHopForms(nh, codec::kNhV4 | codec::kNhV6 | codec::kNhV6Ll, kFam, out,
                                     error);
}

void EncodeNextHop(const NextHop& nh, Writer& w) { codec::EncodeNextHopField(nh, false, w); }

}  // namespace

const FamilyCodec kL2vpnEvpnCodec = {
    Family::kL2vpnEvpn, MakeList, Decode, EncodedSize, Encode, DecodeNextHop, EncodeNextHop,
};

}  // namespace bagpipe::bgp
