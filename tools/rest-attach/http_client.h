// The small synchronous HTTP/1.1 client (Boost.Beast) shared by
// bagpipe-rest-attach and bagpipe-impex2dot, and the default REST port both
// take from bgp.conf. Nothing here throws: a transport failure is a value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace bagpipe::tools {

inline constexpr uint16_t kDefaultApiPort = 8082;

struct HttpResponse {
    int status = 0;         // 0: no answer (see error)
    std::string reason;     // "Bad Request"
    std::string content_type;
    std::string body;
    std::string error;      // transport error ("Connection refused"); empty on an answer

    bool answered() const { return status != 0; }
    bool success() const { return status >= 200 && status < 300; }
};

// GET (body == nullopt) or POST `body` as application/json to
// http://host:port/target. `host` is an IP literal (v4 or v6) or a name.
HttpResponse HttpRequest(const std::string& host, uint16_t port, const std::string& target,
                         const std::optional<std::string>& body, const std::string& user_agent);

// "http://host:port" with IPv6 literals bracketed.
std::string HttpBase(const std::string& host, uint16_t port);

// The message of an error answer: the "error" string of a JSON object (this
// project's API), the last text line of an HTML page (the original's Pecan
// pages: "API error: ..."), else the body itself, trimmed.
std::string ErrorMessage(const HttpResponse& response);

// [API] port (or its old name api_port) of `file`; nullopt when the file is
// missing or unreadable, or the option is absent or not a port number.
std::optional<uint16_t> ConfiguredApiPort(const std::string& file);

}  // namespace bagpipe::tools
