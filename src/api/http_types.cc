#include "api/http_types.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace bagpipe::api {

std::string_view MethodName(Method m) {
    switch (m) {
        case Method::kGet: return "GET";
        case Method::kHead: return "HEAD";
        case Method::kPost: return "POST";
        case Method::kPut: return "PUT";
        case Method::kDelete: return "DELETE";
        case Method::kPatch: return "PATCH";
        case Method::kOptions: return "OPTIONS";
        case Method::kOther: break;
    }
    return "OTHER";
}

namespace {

int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::string PercentDecode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%' && i + 2 < text.size()) {
            const int h = HexValue(text[i + 1]), l = HexValue(text[i + 2]);
            if (h >= 0 && l >= 0) {
                out.push_back(static_cast<char>(h * 16 + l));
                i += 2;
                continue;
            }
        }
        out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
    return out;
}

std::string PercentEncode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~' || c == ':' || c == ',' || c == '*' || c == '@';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

std::optional<std::string> Request::QueryParam(std::string_view name) const {
    std::string_view q = query;
    while (!q.empty()) {
        const size_t amp = q.find('&');
        std::string_view item = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        const size_t eq = item.find('=');
        std::string_view key = item.substr(0, eq);
        if (PercentDecode(key, true) != name) continue;
        if (eq == std::string_view::npos) return std::string();
        return PercentDecode(item.substr(eq + 1), true);
    }
    return std::nullopt;
}

Response Response::Error(int status, std::string_view message) {
    return FromJson(nlohmann::json{{"error", message}}, status);
}

void Router::Add(std::optional<Method> method, std::string path, Handler handler) {
    routes_.push_back(Route{method, std::move(path), false, std::move(handler)});
}

void Router::AddPrefix(std::optional<Method> method, std::string prefix, Handler handler) {
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    routes_.push_back(Route{method, std::move(prefix), true, std::move(handler)});
}

Response Router::Dispatch(const Request& request) const {
    const std::string_view path = request.path;
    // The best matching path: exact beats prefix; longer prefix beats shorter.
    const Route* best_path = nullptr;
    auto rank = [&](const Route& r) -> int {
        if (!r.prefix) return r.path == path ? 1 << 30 : -1;
        if (path.size() < r.path.size() || path.compare(0, r.path.size(), r.path) != 0) return -1;
        if (path.size() > r.path.size() && path[r.path.size()] != '/' && r.path != "/") return -1;
        return static_cast<int>(r.path.size());
    };
    int best_rank = -1;
    for (const Route& r : routes_) {
        const int k = rank(r);
        if (k > best_rank) {
            best_rank = k;
            best_path = &r;
        }
    }
    if (!best_path) return Response::Error(404, "No such resource: " + std::string(path));
    const Route* match = nullptr;
    std::string allow;
    for (const Route& r : routes_) {
        if (r.prefix != best_path->prefix || r.path != best_path->path) continue;
        if (!r.method || *r.method == request.method) {
            match = &r;
            break;
        }
        if (!allow.empty()) allow += ", ";
        allow += MethodName(*r.method);
    }
    if (!match) {
        Response res = Response::Error(
            405, "Method " + std::string(MethodName(request.method)) + " not allowed on " +
                     std::string(path));
        res.headers.emplace_back("Allow", allow);
        return res;
    }
    try {
        return match->handler(request);
    } catch (const std::exception& e) {
        spdlog::error("API: {} {}: internal error: {}", MethodName(request.method), request.target,
                      e.what());
        return Response::Error(500, std::string("Internal error: ") + e.what());
    } catch (...) {
        spdlog::error("API: {} {}: internal error (unknown exception)",
                      MethodName(request.method), request.target);
        return Response::Error(500, "Internal error");
    }
}

}  // namespace bagpipe::api
