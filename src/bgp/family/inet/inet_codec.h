// IPv4/IPv6 unicast NLRI codec (RFC 4271 §4.3, RFC 4760, RFC 7911, RFC 8950).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bgp/family/inet/inet_nlri.h"
#include "bgp/wire/bytes.h"
#include "bgp/wire/nlri.h"

namespace bagpipe::bgp {

// Next hop: 4 octets (IPv4) or, per RFC 8950, 16/32 (IPv6 global [+ link-local])
// for IPv4; 16 or 32 for IPv6.
extern const FamilyCodec kIpv4UnicastCodec;
extern const FamilyCodec kIpv6UnicastCodec;

// Decodes prefixes of `version` (4 or 6) until `r` is empty, appending to
// `out`; used for the UPDATE's classic withdrawn-routes and NLRI fields too.
// On a malformed prefix returns false with `error` set; `r` is then left at
// the start of that prefix and what was decoded before it stays in `out`.
bool DecodeInetPrefixes(Reader& r, uint8_t version, bool add_path, std::vector<InetNlri>& out,
                        std::string& error);
// Appends one prefix: [path id], length octet, ceil(length/8) octets.
void EncodeInetNlri(const InetNlri& n, bool add_path, Writer& w);
// What EncodeInetNlri appends, in octets.
size_t InetNlriSize(const InetNlri& n, bool add_path);

}  // namespace bagpipe::bgp
