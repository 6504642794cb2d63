#include "http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string_view>

#include "config/ini_file.h"

namespace bagpipe::tools {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

constexpr auto kTimeout = std::chrono::seconds(30);
constexpr uint64_t kBodyLimit = 1ull << 30;

std::string_view Trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

// The last non-empty line of `html` once its tags are removed.
std::string LastTextLine(std::string_view html) {
    std::string text;
    bool in_tag = false;
    for (char c : html) {
        if (c == '<') in_tag = true;
        else if (c == '>') in_tag = false;
        else if (!in_tag) text += c;
    }
    std::string_view rest = text;
    std::string_view last;
    while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        const std::string_view line = Trim(rest.substr(0, nl));
        if (!line.empty()) last = line;
        if (nl == std::string_view::npos) break;
        rest.remove_prefix(nl + 1);
    }
    return std::string(last);
}

}  // namespace

std::string HttpBase(const std::string& host, uint16_t port) {
    const bool v6 = host.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

HttpResponse HttpRequest(const std::string& host, uint16_t port, const std::string& target,
                         const std::optional<std::string>& body, const std::string& user_agent) {
    HttpResponse out;
    try {
        asio::io_context io;
        asio::ip::tcp::resolver resolver(io);
        beast::tcp_stream stream(io);
        stream.expires_after(kTimeout);
        stream.connect(resolver.resolve(host, std::to_string(port)));
        http::request<http::string_body> req{body ? http::verb::post : http::verb::get, target,
                                             11};
        const bool v6 = host.find(':') != std::string::npos;
        req.set(http::field::host, (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port));
        req.set(http::field::user_agent, user_agent);
        req.set(http::field::accept, "application/json");
        req.set(http::field::connection, "close");
        if (body) {
            req.set(http::field::content_type, "application/json");
            req.body() = *body;
            req.prepare_payload();
        }
        http::write(stream, req);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(kBodyLimit);
        http::read(stream, buffer, parser);
        beast::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
        const auto& res = parser.get();
        out.status = static_cast<int>(res.result_int());
        out.reason = std::string(res.reason());
        out.content_type = std::string(res[http::field::content_type]);
        out.body = res.body();
    } catch (const boost::system::system_error& e) {
        out = HttpResponse{};
        out.error = e.code().message();
    } catch (const std::exception& e) {
        out = HttpResponse{};
        out.error = e.what();
    }
    return out;
}

std::string ErrorMessage(const HttpResponse& response) {
    if (!response.answered()) return response.error;
    const auto j = nlohmann::json::parse(response.body, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_string())
        return j["error"].get<std::string>();
    if (response.content_type.find("html") != std::string::npos ||
        response.body.find("<body>") != std::string::npos)
        return LastTextLine(response.body);
    return std::string(Trim(response.body));
}

std::optional<uint16_t> ConfiguredApiPort(const std::string& file) {
    const auto doc = config::ReadIniFile(file);
    if (!doc.readable) return std::nullopt;
    const auto* api = doc.Find("API");
    if (!api) return std::nullopt;
    std::optional<uint16_t> port;
    for (const auto& e : api->entries) {
        if (!config::EqualsIgnoreCase(e.key, "port") &&
            !config::EqualsIgnoreCase(e.key, "api_port"))
            continue;
        const std::string_view v = Trim(e.value);
        unsigned long n = 0;
        bool digits = !v.empty() && v.size() <= 5;
        for (char c : v) {
            if (c < '0' || c > '9') digits = false;
            else n = n * 10 + static_cast<unsigned long>(c - '0');
        }
        if (digits && n > 0 && n < 65536) port = static_cast<uint16_t>(n);  // the last one wins
    }
    return port;
}

}  // namespace bagpipe::tools
