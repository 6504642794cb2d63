// Reads the interop captures in tests/data/captures/*.hex and works out the
// session context each message must be decoded with.
//
// File format (written by tests/data/captures/extract.py): one whole BGP
// message in hex per line; '#' lines are comments. Two kinds of comment
// matter here:
//   # decode-flags: --no-asn4 --add-path ipv4-vpn --ebgp ...   (the file's context)
//   # [i] S 127.0.3.1:40477 -> R 127.0.3.2:1791: UPDATE ...    (who sent message i)
// When both OPENs of a connection are in the file, the context of a message is
// what those OPENs negotiated for its direction (4-octet AS, ADD-PATH receive,
// extended message, iBGP); otherwise the decode-flags line gives it.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bgp/json/message_json.h"
#include "bgp/wire/message.h"

namespace bagpipe::bgp::json_test {

struct CaptureMessage {
    size_t line = 0;        // 1-based line number in the file
    std::string comment;    // the "# [i] ..." line before it, if any
    std::string from, to;   // "127.0.3.1:40477" when the comment says
    Bytes bytes;
    SessionContext ctx;     // the context to decode it with
};

struct CaptureFile {
    std::filesystem::path path;
    SessionContext flags_ctx;  // from "# decode-flags:"
    std::vector<CaptureMessage> messages;
    std::vector<std::string> errors;  // unreadable lines
};

// Applies bagpipe-bgp-decode style flags ("--no-asn4 --add-path ipv4-vpn
// --ebgp --extended-message"); stops at the first token starting with '('.
inline void ApplyDecodeFlags(const std::string& text, SessionContext& ctx) {
    std::istringstream in(text);
    std::string tok;
    while (in >> tok) {
        if (tok.empty() || tok[0] == '(') break;
        if (tok == "--no-asn4") ctx.asn4 = false;
        else if (tok == "--asn4") ctx.asn4 = true;
        else if (tok == "--ebgp") ctx.ibgp = false;
        else if (tok == "--extended-message") ctx.extended_message = true;
        else if (tok == "--add-path") {
            std::string name;
            in >> name;
            if (auto f = FamilyFromName(name)) ctx.add_path_receive.set(FamilyIndex(*f));
        } else if (tok.rfind("--add-path=", 0) == 0) {
            if (auto f = FamilyFromName(tok.substr(11))) ctx.add_path_receive.set(FamilyIndex(*f));
        }
    }
}

// What `sender`'s and `receiver`'s OPENs negotiate for messages from sender
// to receiver.
inline SessionContext NegotiatedContext(const OpenMessage& sender, const OpenMessage& receiver) {
    SessionContext ctx;
    ctx.asn4 = sender.Find(cap::kFourOctetAs) && receiver.Find(cap::kFourOctetAs);
    ctx.extended_message =
        sender.Find(cap::kExtendedMessage) && receiver.Find(cap::kExtendedMessage);
    ctx.ibgp = sender.AsNumber() == receiver.AsNumber();
    const auto* s = sender.Find(cap::kAddPath);
    const auto* r = receiver.Find(cap::kAddPath);
    if (s && r) {
        for (const auto& se : std::get<AddPathCap>(*s).entries) {
            if (!(se.send_receive & AddPathCap::kSend)) continue;
            for (const auto& re : std::get<AddPathCap>(*r).entries) {
                if (re.afi == se.afi && re.safi == se.safi &&
                    (re.send_receive & AddPathCap::kReceive)) {
                    Family f = FamilyFromAfiSafi(se.afi, se.safi);
                    if (f != Family::kUnknown) ctx.add_path_receive.set(FamilyIndex(f));
                }
            }
        }
    }
    return ctx;
}

inline CaptureFile LoadCapture(const std::filesystem::path& path) {
    CaptureFile file;
    file.path = path;
    std::ifstream in(path);
    std::string line, comment;
    size_t number = 0;
    static const std::regex kWho(R"(^#\s*\[\d+\]\s+\S+\s+(\S+)\s+->\s+\S+\s+(\S+?):\s)");
    while (std::getline(in, line)) {
        ++number;
        const size_t i = line.find_first_not_of(" \t\r");
        if (i == std::string::npos) continue;
        if (line[i] == '#') {
            const std::string_view rest(line.c_str() + i);
            if (rest.rfind("# decode-flags:", 0) == 0)
                ApplyDecodeFlags(std::string(rest.substr(15)), file.flags_ctx);
            else if (rest.rfind("# [", 0) == 0)
                comment = std::string(rest);
            continue;
        }
        std::string why;
        auto bytes = ParseHex(line, &why);
        if (!bytes) {
            file.errors.push_back(fmt::format("{}:{}: {}", path.string(), number, why));
            continue;
        }
        CaptureMessage m;
        m.line = number;
        m.comment = std::move(comment);
        comment.clear();
        std::smatch match;
        if (std::regex_search(m.comment, match, kWho)) {
            m.from = match[1];
            m.to = match[2];
        }
        m.bytes = std::move(*bytes);
        file.messages.push_back(std::move(m));
    }

    // OPENs by sending endpoint, then each message's context.
    std::map<std::string, OpenMessage> opens;
    for (const auto& m : file.messages) {
        if (m.from.empty() || m.bytes.size() < kHeaderSize || m.bytes[18] != 1) continue;
        DecodeResult r = DecodeMessage(m.bytes, SessionContext{});
        if (r.message) opens[m.from] = std::get<OpenMessage>(*r.message);
    }
    for (auto& m : file.messages) {
        auto s = opens.find(m.from), r = opens.find(m.to);
        m.ctx = (s != opens.end() && r != opens.end()) ? NegotiatedContext(s->second, r->second)
                                                       : file.flags_ctx;
    }
    return file;
}

inline std::vector<std::filesystem::path> CaptureFiles() {
    std::vector<std::filesystem::path> out;
    const std::filesystem::path dir = std::filesystem::path(BAGPIPE_SOURCE_DIR) / "tests" /
                                      "data" / "captures";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".hex") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace bagpipe::bgp::json_test
