#include "bgp/family/flowspec/flowspec_rule.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "bgp/family/codec_util.h"

namespace bagpipe::bgp {

using namespace flowspec;

namespace {

constexpr size_t kRdSize = 8;

// Octets of a value whose operator octet is `op` (RFC 8955 §4.2.1.1: 1 << len).
constexpr size_t ValueLength(uint8_t op) { return size_t{1} << ((op & kLengthMask) >> 4); }

// Shortest value length that holds v, as operator-octet length bits.
uint8_t LengthBits(uint64_t v) {
    if (v <= 0xff) return 0x00;
    if (v <= 0xffff) return 0x10;
    if (v <= 0xffffffff) return 0x20;
    return 0x30;
}

bool IsBitmaskType(uint8_t type) { return type == kTcpFlags || type == kFragment; }

bool IsPrefixType(uint8_t type) { return type == kDestinationPrefix || type == kSourcePrefix; }

uint8_t MaxType(Family family) {
    return family == Family::kIpv6FlowspecVpn ? kFlowLabel : kFragment;
}

// The typed numeric component of `type` (3-6), else nullptr.
template <typename Rule>
auto* TypedList(Rule& rule, uint8_t type) {
    using List = decltype(&rule.protocols);
    switch (type) {
        case kIpProtocol:
            return List{&rule.protocols};
        case kPort:
            return List{&rule.ports};
        case kDestinationPort:
            return List{&rule.destination_ports};
        case kSourcePort:
            return List{&rule.source_ports};
        default:
            return List{nullptr};
    }
}

uint64_t LoadValue(const uint8_t* p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

// One decoded operator octet and its value.
struct Term {
    uint8_t op = 0;
    uint64_t value = 0;
};

// Walks the operator list at the start of `data` up to and including the term
// with the end-of-list bit. Returns the number of octets it spans, or 0 when
// the list is truncated (an operator list is never empty).
size_t ScanOperators(ByteView data, std::vector<Term>* out) {
    size_t at = 0;
    while (at < data.size()) {
        const uint8_t op = data[at++];
        const size_t n = ValueLength(op);
        if (data.size() - at < n) return 0;
        if (out != nullptr) out->push_back({op, LoadValue(data.data() + at, n)});
        at += n;
        if (op & kEndOfList) return at;
    }
    return 0;
}

// Octets of a prefix component after the type octet, or 0 with `error` set.
size_t ScanPrefix(ByteView data, uint8_t type, Family family, std::string& error) {
    if (data.empty()) {
        codec::Fail(error, family, "component type {}: truncated prefix length", type);
        return 0;
    }
    const unsigned length = data[0];
    if (family == Family::kIpv6FlowspecVpn) {
        if (data.size() < 2) {
            codec::Fail(error, family, "component type {}: truncated prefix offset", type);
            return 0;
        }
        const unsigned offset = data[1];
        if (length > 128 || offset > length) {
            codec::Fail(error, family, "component type {}: prefix length {} offset {}", type,
                        length, offset);
            return 0;
        }
        const size_t size = 2 + ((length - offset + 7) >> 3);
        if (data.size() < size) {
            codec::Fail(error, family, "component type {}: prefix of {} bits truncated", type,
                        length - offset);
            return 0;
        }
        return size;
    }
    if (length > 32) {
        codec::Fail(error, family, "component type {}: prefix length {} over 32", type, length);
        return 0;
    }
    const size_t size = 1 + ((length + 7) >> 3);
    if (data.size() < size) {
        codec::Fail(error, family, "component type {}: prefix of {} bits truncated", type, length);
        return 0;
    }
    return size;
}

// The prefix of a scanned component, or nullopt for an IPv6 one with a
// non-zero offset (kept raw).
std::optional<Prefix> PrefixOf(ByteView value, Family family) {
    Prefix prefix;
    prefix.length = value[0];
    if (family == Family::kIpv6FlowspecVpn) {
        if (value[1] != 0) return std::nullopt;
        prefix.address.version = 6;
        codec::CopyPrefixBits(prefix.address.bytes.data(), value.data() + 2, prefix.length);
    } else {
        prefix.address.version = 4;
        codec::CopyPrefixBits(prefix.address.bytes.data(), value.data() + 1, prefix.length);
    }
    return prefix;
}

std::vector<NumericMatch> GroupTerms(const std::vector<Term>& terms) {
    std::vector<NumericMatch> groups;
    for (size_t i = 0; i < terms.size(); ++i) {
        // RFC 8955 §4.2.1.1: the a-bit of the first term is treated as unset.
        if (i == 0 || !(terms[i].op & kAnd)) groups.emplace_back();
        groups.back().terms.push_back(
            {static_cast<uint8_t>(terms[i].op & (kLt | kGt | kEq)), terms[i].value});
    }
    return groups;
}

void PutValue(Writer& w, uint8_t length_bits, uint64_t v) {
    const size_t n = size_t{1} << (length_bits >> 4);
    uint8_t* p = w.Grow(n);
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
}

bool HasTerms(const std::vector<NumericMatch>& groups) {
    return std::any_of(groups.begin(), groups.end(),
                       [](const NumericMatch& g) { return !g.terms.empty(); });
}

void PutNumeric(Writer& w, uint8_t type, const std::vector<NumericMatch>& groups) {
    if (!HasTerms(groups)) return;
    w.PutU8(type);
    size_t last_group = groups.size();
    while (groups[last_group - 1].terms.empty()) --last_group;
    for (size_t g = 0; g < last_group; ++g) {
        const auto& terms = groups[g].terms;
        for (size_t i = 0; i < terms.size(); ++i) {
            const uint8_t length_bits = LengthBits(terms[i].value);
            uint8_t op = static_cast<uint8_t>(length_bits | (terms[i].op & (kLt | kGt | kEq)));
            if (i != 0) op |= kAnd;
            if (g + 1 == last_group && i + 1 == terms.size()) op |= kEndOfList;
            w.PutU8(op);
            PutValue(w, length_bits, terms[i].value);
        }
    }
}

void PutPrefix(Writer& w, uint8_t type, const Prefix& prefix) {
    const bool v6 = prefix.address.version == 6;
    const unsigned length = std::min<unsigned>(prefix.length, v6 ? 128 : 32);
    w.PutU8(type);
    w.PutU8(static_cast<uint8_t>(length));
    if (v6) w.PutU8(0);  // offset
    uint8_t* p = w.Grow((length + 7) >> 3);
    codec::PutPrefixBits(p, prefix.address.bytes.data(), length);
}

// ---------------------------------------------------------------------------
// Text.

std::string_view NumericOpText(uint8_t op) {
    switch (op & (kLt | kGt | kEq)) {
        case 0:
            return "false";
        case kEq:
            return "=";
        case kGt:
            return ">";
        case kGt | kEq:
            return ">=";
        case kLt:
            return "<";
        case kLt | kEq:
            return "<=";
        case kLt | kGt:
            return "!=";
        default:
            return "true";
    }
}

void AppendTerm(std::string& out, const NumericTerm& t) {
    std::string_view op = NumericOpText(t.op);
    out += op;
    if (op != "true" && op != "false") out += std::to_string(t.value);
}

// Bitmask operator octet (RFC 8955 §4.2.1.2): not = 0x02, match = 0x01.
std::string_view BitmaskOpText(uint8_t op) {
    switch (op & 0x03) {
        case 0x01:
            return "=";
        case 0x02:
            return "!";
        case 0x03:
            return "!=";
        default:
            return "";
    }
}

std::string_view ComponentName(uint8_t type) {
    switch (type) {
        case kDestinationPrefix:
            return "dst";
        case kSourcePrefix:
            return "src";
        case kIpProtocol:
            return "proto";
        case kPort:
            return "port";
        case kDestinationPort:
            return "dport";
        case kSourcePort:
            return "sport";
        case kIcmpType:
            return "icmp-type";
        case kIcmpCode:
            return "icmp-code";
        case kTcpFlags:
            return "tcp-flags";
        case kPacketLength:
            return "packet-length";
        case kDscp:
            return "dscp";
        case kFragment:
            return "fragment";
        case kFlowLabel:
            return "flow-label";
        default:
            return "";
    }
}

void AppendHex(std::string& out, ByteView b) {
    for (uint8_t c : b) fmt::format_to(std::back_inserter(out), "{:02x}", c);
}

void AppendRaw(std::string& out, const FlowspecComponent& c) {
    std::string_view name = ComponentName(c.type);
    out += ' ';
    if (name.empty()) {
        fmt::format_to(std::back_inserter(out), "type{}", c.type);
    } else {
        out += name;
    }
    out += ' ';
    std::vector<Term> terms;
    const bool ops = !IsPrefixType(c.type) && !name.empty();
    if (!ops || ScanOperators(c.value, &terms) != c.value.size()) {
        // A prefix with an offset, an unknown type or a malformed list.
        AppendHex(out, c.value);
        return;
    }
    if (IsBitmaskType(c.type)) {
        for (size_t i = 0; i < terms.size(); ++i) {
            if (i != 0) out += (terms[i].op & kAnd) ? "&" : "|";
            out += BitmaskOpText(terms[i].op);
            fmt::format_to(std::back_inserter(out), "{:#x}", terms[i].value);
        }
        return;
    }
    out += ToString(GroupTerms(terms));
}

}  // namespace

// ---------------------------------------------------------------------------
// NumericMatch.

NumericMatch NumericMatch::Equal(uint64_t v) {
    NumericMatch m;
    m.terms.push_back({kEq, v});
    return m;
}

NumericMatch NumericMatch::Range(uint64_t min, uint64_t max) {
    NumericMatch m;
    m.terms.push_back({kGt | kEq, min});
    m.terms.push_back({kLt | kEq, max});
    return m;
}

std::optional<NumericRange> NumericMatch::AsRange() const {
    if (terms.size() == 1 && terms[0].op == kEq)
        return NumericRange{terms[0].value, terms[0].value};
    if (terms.size() != 2) return std::nullopt;
    const NumericTerm* ge = nullptr;
    const NumericTerm* le = nullptr;
    for (const NumericTerm& t : terms) {
        if (t.op == (kGt | kEq)) ge = &t;
        if (t.op == (kLt | kEq)) le = &t;
    }
    if (ge == nullptr || le == nullptr || ge->value > le->value) return std::nullopt;
    return NumericRange{ge->value, le->value};
}

bool NumericMatch::Matches(uint64_t v) const {
    return !terms.empty() && std::all_of(terms.begin(), terms.end(),
                                         [v](const NumericTerm& t) { return t.Matches(v); });
}

std::optional<NumericRange> AsSimpleRange(const std::vector<NumericMatch>& component) {
    if (component.size() != 1) return std::nullopt;
    return component[0].AsRange();
}

bool MatchesAny(const std::vector<NumericMatch>& component, uint64_t v) {
    return std::any_of(component.begin(), component.end(),
                       [v](const NumericMatch& g) { return g.Matches(v); });
}

// ---------------------------------------------------------------------------
// Decode / encode.

std::optional<FlowspecRule> DecodeFlowspecVpn(ByteView raw, std::string& error, Family family) {
    if (family != Family::kIpv4FlowspecVpn && family != Family::kIpv6FlowspecVpn) {
        error = fmt::format("{}: not a FlowSpec-VPN family", FamilyName(family));
        return std::nullopt;
    }
    if (raw.size() < kRdSize) {
        codec::Fail(error, family, "NLRI of {} octets is shorter than a route distinguisher",
                    raw.size());
        return std::nullopt;
    }
    FlowspecRule rule;
    rule.rd = RouteDistinguisher::FromBytes(raw.data());
    ByteView rest = raw.subspan(kRdSize);
    unsigned previous = 0;
    std::vector<Term> terms;
    while (!rest.empty()) {
        const uint8_t type = rest[0];
        rest = rest.subspan(1);
        if (type == 0 || type > MaxType(family)) {
            codec::Fail(error, family, "unknown component type {}", type);
            return std::nullopt;
        }
        if (type <= previous) {
            codec::Fail(error, family, "component type {} after type {}: not in increasing order",
                        type, previous);
            return std::nullopt;
        }
        previous = type;
        size_t size = 0;
        terms.clear();
        if (IsPrefixType(type)) {
            size = ScanPrefix(rest, type, family, error);
            if (size == 0) return std::nullopt;
        } else {
            size = ScanOperators(rest, &terms);
            if (size == 0) {
                codec::Fail(error, family, "component type {}: operator list truncated", type);
                return std::nullopt;
            }
        }
        const ByteView value = rest.first(size);
        rest = rest.subspan(size);
        if (IsPrefixType(type)) {
            if (auto prefix = PrefixOf(value, family)) {
                (type == kDestinationPrefix ? rule.destination : rule.source) = *prefix;
                continue;
            }
        } else if (auto* list = TypedList(rule, type)) {
            *list = GroupTerms(terms);
            continue;
        }
        rule.other.push_back({type, Bytes(value.begin(), value.end())});
    }
    return rule;
}

Bytes EncodeFlowspecVpn(const FlowspecRule& rule) {
    std::vector<const FlowspecComponent*> other;
    other.reserve(rule.other.size());
    for (const auto& c : rule.other) other.push_back(&c);
    std::stable_sort(other.begin(), other.end(),
                     [](const auto* a, const auto* b) { return a->type < b->type; });

    Bytes out;
    Writer w(out);
    w.PutBytes(rule.rd.bytes.data(), rule.rd.bytes.size());
    auto next = other.begin();
    for (unsigned type = 0; type <= 0xff; ++type) {
        const auto t = static_cast<uint8_t>(type);
        if (t == kDestinationPrefix && rule.destination) PutPrefix(w, t, *rule.destination);
        if (t == kSourcePrefix && rule.source) PutPrefix(w, t, *rule.source);
        if (const auto* list = TypedList(rule, t)) PutNumeric(w, t, *list);
        for (; next != other.end() && (*next)->type == t; ++next) {
            w.PutU8(t);
            w.PutBytes((*next)->value);
        }
    }
    return out;
}

OpaqueNlri ToOpaque(const FlowspecRule& rule) {
    OpaqueNlri n;
    n.raw = EncodeFlowspecVpn(rule);
    return n;
}

// ---------------------------------------------------------------------------
// Text.

std::string ToString(const NumericMatch& match) {
    std::string out;
    for (size_t i = 0; i < match.terms.size(); ++i) {
        if (i != 0) out += '&';
        AppendTerm(out, match.terms[i]);
    }
    return out;
}

std::string ToString(const std::vector<NumericMatch>& component) {
    std::string out;
    for (const NumericMatch& group : component) {
        if (group.terms.empty()) continue;  // not encoded either
        if (!out.empty()) out += '|';
        out += ToString(group);
    }
    return out;
}

std::string ToString(const FlowspecRule& rule) {
    std::string out = "rd " + rule.rd.ToString();
    auto next = rule.other.begin();
    auto raw_up_to = [&](uint8_t type) {
        for (; next != rule.other.end() && next->type <= type; ++next) AppendRaw(out, *next);
    };
    raw_up_to(kDestinationPrefix);
    if (rule.destination) out += " dst " + rule.destination->ToString();
    raw_up_to(kSourcePrefix);
    if (rule.source) out += " src " + rule.source->ToString();
    for (uint8_t type = kIpProtocol; type <= kSourcePort; ++type) {
        raw_up_to(type);
        const auto& list = *TypedList(rule, type);
        if (!HasTerms(list)) continue;
        out += ' ';
        out += ComponentName(type);
        out += ' ';
        out += ToString(list);
    }
    for (; next != rule.other.end(); ++next) AppendRaw(out, *next);
    return out;
}

}  // namespace bagpipe::bgp
