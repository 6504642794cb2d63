// bagpipe-bgp-decode: decodes BGP messages given as hex and prints them as JSON.
//
//   bagpipe-bgp-decode [--hex HEX]... [--no-asn4] [--add-path FAMILY]...
//                      [--extended-message] [--ebgp] [--pretty]
//
// Without --hex, reads stdin: one whole message (marker included) per line,
// whitespace inside a line ignored, empty lines and lines starting with '#'
// skipped. Prints one JSON object per message (one line each unless --pretty).
// Decoding errors are part of the output ("error"); a line that is not valid
// hex prints {"type": null, "error": {...}} and makes the exit status 1.
// Usage errors exit with status 2.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bgp/json/message_json.h"
#include "bgp/wire/message.h"

namespace {

using bagpipe::bgp::Bytes;
using bagpipe::bgp::DecodeMessage;
using bagpipe::bgp::DumpJson;
using bagpipe::bgp::JsonOptions;
using bagpipe::bgp::MessageToJson;
using bagpipe::bgp::ParseHex;
using bagpipe::bgp::SessionContext;

struct Decoder {
    SessionContext ctx;
    int indent = -1;
    bool failed = false;

    // Decodes one message given as hex; `where` names the input for errors.
    void Line(std::string_view text, const std::string& where) {
        std::string why;
        std::optional<Bytes> bytes = ParseHex(text, &why);
        nlohmann::json j;
        if (!bytes) {
            failed = true;
            j["type"] = nullptr;
            j["length"] = nullptr;
            j["error"] = {{"action", nullptr},
                          {"notification", nullptr},
                          {"reason", why},
                          {"input", where}};
        } else {
            auto result = DecodeMessage(*bytes, ctx);
            JsonOptions options;
            options.session = ctx;
            options.raw = *bytes;
            j = MessageToJson(result, options);
        }
        std::cout << DumpJson(j, indent) << '\n';
    }
};

bool Skipped(std::string_view line) {
    size_t i = line.find_first_not_of(" \t\r\n\f\v");
    return i == std::string_view::npos || line[i] == '#';
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Decode BGP messages given as hex (one whole message per line) into JSON"};
    std::vector<std::string> hex;
    std::vector<std::string> add_path;
    bool asn4 = true;
    bool extended_message = false;
    bool ebgp = false;
    bool pretty = false;
    std::vector<std::string> family_names;
    for (size_t i = 1; i < bagpipe::bgp::kFamilyCount; ++i)
        family_names.emplace_back(
            bagpipe::bgp::FamilyName(static_cast<bagpipe::bgp::Family>(i)));

    app.add_option("--hex", hex, "a message in hex (repeatable); stdin is not read then");
    app.add_flag("--asn4,!--no-asn4", asn4,
                 "four-octet AS numbers negotiated (default) or not (--no-asn4)");
    app.add_option("--add-path", add_path,
                   "family whose received NLRI carry ADD-PATH path ids (repeatable)")
        ->check(CLI::IsMember(family_names));
    app.add_flag("--extended-message", extended_message,
                 "allow messages up to 65535 octets (RFC 8654)");
    app.add_flag("--ebgp", ebgp, "external session (LOCAL_PREF is ignored)");
    app.add_flag("--pretty", pretty, "indented JSON");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;  // --help: 0; usage errors: 2
    }

    Decoder d;
    d.ctx.asn4 = asn4;
    d.ctx.extended_message = extended_message;
    d.ctx.ibgp = !ebgp;
    for (const auto& name : add_path) {
        auto f = bagpipe::bgp::FamilyFromName(name);
        if (f) d.ctx.add_path_receive.set(bagpipe::bgp::FamilyIndex(*f));
    }
    d.indent = pretty ? 2 : -1;

    if (!hex.empty()) {
        for (size_t i = 0; i < hex.size(); ++i) d.Line(hex[i], "--hex #" + std::to_string(i + 1));
    } else {
        std::string line;
        size_t number = 0;
        while (std::getline(std::cin, line)) {
            ++number;
            if (Skipped(line)) continue;
            d.Line(line, "line " + std::to_string(number));
        }
    }
    std::cout.flush();
    return d.failed ? 1 : 0;
}
