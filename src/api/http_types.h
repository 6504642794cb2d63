// The REST API's request/response types and its routing table, without
// Boost.Beast: modules (ping, looking glass, attach/detach) register handlers
// here, and http_server.cc (the only file that includes Beast) feeds them.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace bagpipe::api {

enum class Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };
std::string_view MethodName(Method m);  // "GET", ..., "OTHER"

// One HTTP request, already read in full (body included).
struct Request {
    Method method = Method::kGet;
    std::string target;  // as received: "/looking-glass/bgp%2Froutes?offset=0"
    std::string path;    // target without the query, not percent-decoded
    std::string query;   // after '?', raw; "" when none
    std::string host;    // the Host header ("" when absent)
    std::string content_type;
    std::string body;

    // The value of query parameter `name` (percent-decoded, '+' as space);
    // nullopt when absent.
    std::optional<std::string> QueryParam(std::string_view name) const;
    // "http://<host>" (the server's listening address when the request has no
    // Host header: the server fills `host` in that case).
    std::string BaseUrl() const { return "http://" + host; }
};

// One response: a status and an already serialised body.
struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers

    // A JSON body; invalid UTF-8 in strings is replaced (never throws).
    template <class Json>
    static Response FromJson(const Json& j, int status = 200) {
        Response r;
        r.status = status;
        r.body = j.dump(-1, ' ', false, Json::error_handler_t::replace);
        return r;
    }
    // {"error": message} with `status` (every client error of the API).
    static Response Error(int status, std::string_view message);
};

// Handlers run on the server's executor (the daemon's event loop) and must
// not block. They should not throw: an exception becomes a 500 with a JSON
// error and a log line.
using Handler = std::function<Response(const Request&)>;

// Percent-decoding of one path segment or query value ("%2F" → "/"); with
// `plus_is_space`, '+' → ' '. Malformed escapes are kept as they are.
std::string PercentDecode(std::string_view text, bool plus_is_space = false);
// Percent-encoding of one path segment (unreserved characters kept).
std::string PercentEncode(std::string_view text);

// Router — the routing table: (method, path) → handler.
//
// A route is an exact path ("/ping") or a prefix ("/looking-glass", which
// matches "/looking-glass" and "/looking-glass/<anything>", not
// "/looking-glassX"). An exact route wins over prefixes, a longer prefix over
// a shorter one. A route may accept every method (the original's /ping).
// Dispatch: no route for the path → 404 {"error"}; a route but not for this
// method → 405 {"error"} with an Allow header; a handler that throws → 500
// {"error"} and an error log line.
//
// Invariant: routes are registered before the server starts (no locking).
// Executor: Dispatch runs on the caller's thread (the server's executor).
class Router {
public:
    static constexpr std::optional<Method> kAnyMethod = std::nullopt;

    void Add(std::optional<Method> method, std::string path, Handler handler);
    void AddPrefix(std::optional<Method> method, std::string prefix, Handler handler);

    Response Dispatch(const Request& request) const;

private:
    struct Route {
        std::optional<Method> method;
        std::string path;
        bool prefix = false;
        Handler handler;
    };
    std::vector<Route> routes_;
};

}  // namespace bagpipe::api
