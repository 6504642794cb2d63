// bagpipe-looking-glass: fetches http://SERVER:PORT/PREFIX/<path words joined
// by '/'> and pretty-prints it the way the original bagpipe-looking-glass
// does: `key: value`, `* ` before list items, ` (...)` for a link not
// followed, `-` for an empty value; -r follows links below the requested
// URL. --json prints the JSON document instead.
//
// Exit status: 0 on success, 1 when the path does not exist (after printing
// "No such looking glass path: ..."), the server answers another error, or
// cannot be reached.
#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "config/ini_file.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using Json = nlohmann::ordered_json;

constexpr int kIndentStep = 2;
constexpr uint16_t kDefaultPort = 8082;

struct HttpResult {
    int status = 0;
    std::string body;
};

// Thrown when the server cannot be reached or the exchange fails.
struct Unreachable {
    std::string what;
};

// "http://host:port/path" → (host, port, target).
bool SplitUrl(const std::string& url, std::string& host, std::string& port,
              std::string& target) {
    const std::string scheme = "http://";
    if (url.compare(0, scheme.size(), scheme) != 0) return false;
    const size_t slash = url.find('/', scheme.size());
    const std::string authority = url.substr(scheme.size(), slash - scheme.size());
    target = slash == std::string::npos ? "/" : url.substr(slash);
    const size_t colon = authority.rfind(':');
    if (colon == std::string::npos || authority.back() == ']') {
        host = authority;
        port = "80";
    } else {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    return true;
}

HttpResult Get(const std::string& url) {
    std::string host, port, target;
    if (!SplitUrl(url, host, port, target)) throw Unreachable{"not an http:// URL: " + url};
    try {
        asio::io_context io;
        asio::ip::tcp::resolver resolver(io);
        beast::tcp_stream stream(io);
        stream.expires_after(std::chrono::seconds(30));
        stream.connect(resolver.resolve(host, port));
        http::request<http::empty_body> req{http::verb::get, target, 11};
        const bool v6 = host.find(':') != std::string::npos;
        req.set(http::field::host, (v6 ? "[" + host + "]" : host) + ":" + port);
        req.set(http::field::user_agent, "bagpipe-looking-glass");
        req.set(http::field::accept, "application/json");
        http::write(stream, req);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(1ull << 30);
        http::read(stream, buffer, parser);
        beast::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        return {static_cast<int>(parser.get().result_int()), std::move(parser.get().body())};
    } catch (const std::exception& e) {
        throw Unreachable{e.what()};
    }
}

// Python's str() of a scalar, as the original prints it.
std::string Scalar(const Json& v) {
    if (v.is_null()) return "None";
    if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

std::string Spaces(int n) { return std::string(static_cast<size_t>(n), ' '); }

// Prints `data`, whose key (if any) is already written; ends at the start of
// a line. `at_line_start`: nothing was written on the current line yet.
void Print(Json data, int indent, bool recurse, const std::string& url, bool at_line_start,
           std::ostream& out) {
    if (data.is_object()) {
        bool link = false;
        if (data.contains("id") && data.contains("href")) {
            out << Scalar(data["id"]);
            data.erase("id");
        }
        if (data.contains("href")) {
            link = true;
            const std::string target = data["href"].is_string() ? data["href"].get<std::string>()
                                                                : std::string();
            if (recurse && !target.empty() && target.compare(0, url.size(), url) == 0) {
                const HttpResult r = Get(target);
                if (r.status == 200) {
                    Print(Json::parse(r.body, nullptr, false), indent + kIndentStep, recurse,
                          target, false, out);
                } else {
                    out << " (ERROR " << r.status << ")\n";
                }
                return;
            }
            data.erase("href");
            out << " (...)";
            at_line_start = false;
        }
        if (!data.empty()) {
            if (!at_line_start) out << "\n";
            bool first = true;
            for (auto& [key, value] : data.items()) {
                if (!first || !at_line_start) out << Spaces(indent);
                first = false;
                out << key << ": ";
                Print(value, indent + kIndentStep, recurse, url, false, out);
            }
        } else {
            out << (link ? "\n" : "-\n");
        }
    } else if (data.is_array()) {
        if (data.empty()) {
            out << "-\n";
            return;
        }
        if (!at_line_start) out << "\n";
        for (auto& value : data) {
            out << Spaces(indent) << "* ";
            if (value.is_object() || value.is_array())
                Print(value, indent + kIndentStep, recurse, url, true, out);
            else
                out << Scalar(value) << "\n";
        }
    } else {
        std::string text = Scalar(data);
        if (data.is_string() && text.find('\n') != std::string::npos) {
            while (!text.empty() && text.front() == '\n') text.erase(0, 1);
            while (!text.empty() && text.back() == '\n') text.pop_back();
            std::string indented;
            for (char c : text) {
                indented += c;
                if (c == '\n') indented += Spaces(indent);
            }
            text = indented;
            out << "\n" << Spaces(indent);
        }
        out << text << "\n";
    }
}

// urllib.quote: everything but unreserved characters and '/' is escaped.
std::string Quote(const std::string& s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || c == '/') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

// [API] port (or api_port) of `file`, when readable and valid.
std::optional<uint16_t> ConfiguredPort(const std::string& file) {
    const auto doc = bagpipe::config::ReadIniFile(file);
    if (!doc.readable) return std::nullopt;
    const auto* api = doc.Find("API");
    if (!api) return std::nullopt;
    std::optional<uint16_t> port;
    for (const auto& e : api->entries) {
        if (!bagpipe::config::EqualsIgnoreCase(e.key, "port") &&
            !bagpipe::config::EqualsIgnoreCase(e.key, "api_port"))
            continue;
        try {
            const unsigned long v = std::stoul(e.value);
            if (v > 0 && v < 65536) port = static_cast<uint16_t>(v);
        } catch (const std::exception&) {
        }
    }
    return port;
}

}  // namespace

int main(int argc, char** argv) {
    std::string server = "127.0.0.1";
    std::optional<uint16_t> port;
    std::string prefix = "looking-glass";
    std::string config_file = "/etc/bagpipe-bgp/bgp.conf";
    bool recurse = false;
    bool json = false;
    std::vector<std::string> words;

    CLI::App app{"bagpipe-looking-glass: show the looking glass of a bagpipe-bgp daemon\n"
                 "e.g.: bagpipe-looking-glass vpns instances"};
    app.add_option("--server", server, "IP address of bagpipe-bgp")->capture_default_str();
    app.add_option("--port", port,
                   "port of bagpipe-bgp's REST API (default: [API] port of --config-file, "
                   "else 8082)");
    app.add_option("--prefix", prefix, "looking glass URL prefix")->capture_default_str();
    app.add_option("--config-file", config_file, "bgp.conf to read the default port from")
        ->capture_default_str();
    app.add_flag("-r,--recurse", recurse, "recurse down into the whole looking glass");
    app.add_flag("--json", json, "print the JSON document instead of the text form");
    app.add_option("path", words, "path to the object in the looking glass");
    CLI11_PARSE(app, argc, argv);

    const uint16_t p = port ? *port : ConfiguredPort(config_file).value_or(kDefaultPort);
    std::vector<std::string> quoted;
    std::string joined_words;
    for (const auto& w : words) {
        quoted.push_back(Quote(w));
        joined_words += (joined_words.empty() ? "" : " ") + quoted.back();
    }
    std::string path;
    for (const auto& q : quoted) path += (path.empty() ? "" : "/") + q;
    const bool v6 = server.find(':') != std::string::npos;
    std::string url = "http://" + (v6 ? "[" + server + "]" : server) + ":" + std::to_string(p) +
                      "/" + prefix + "/" + path;
    try {
        HttpResult r = Get(url);
        if (r.status == 404) {
            std::printf("No such looking glass path: %s\n(%s)\n", joined_words.c_str(),
                        url.c_str());
            return 1;
        }
        if (r.status != 200) {
            std::printf("Error code %d: %s\n", r.status, r.body.c_str());
            return 1;
        }
        Json data = Json::parse(r.body, nullptr, false);
        if (data.is_discarded()) {
            std::printf("Error: the server's answer is not JSON\n");
            return 1;
        }
        if (data.is_object() && data.contains("href") && data["href"].is_string()) {
            const std::string next = data["href"].get<std::string>();
            HttpResult r2 = Get(next);
            if (r2.status == 200) {
                url = next;
                data = Json::parse(r2.body, nullptr, false);
            }
        }
        if (json) {
            std::cout << data.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
            return 0;
        }
        std::ostringstream out;
        Print(std::move(data), 0, recurse, url, true, out);
        std::cout << out.str();
        std::cout.flush();
    } catch (const Unreachable& e) {
        std::printf("No server at http://%s:%u : %s\n", server.c_str(), unsigned{p},
                    e.what.c_str());
        return 1;
    }
    return 0;
}
