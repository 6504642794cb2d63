// The REST API's HTTP/1.1 server (Boost.Beast, confined to http_server.cc).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "api/http_types.h"

namespace bagpipe::api {

namespace detail {
struct HttpServerImpl;
}

struct HttpServerOptions {
    size_t max_body_bytes = 1u << 20;    // larger bodies: 413 {"error"}
    size_t max_header_bytes = 16u << 10;  // larger header blocks: 431 {"error"}
    // A request must be complete (headers and body) this long after the
    // connection opened or its first byte arrived; otherwise the connection
    // is closed.
    std::chrono::milliseconds request_timeout{10000};
    // A keep-alive connection with no new request for this long is closed.
    std::chrono::milliseconds idle_timeout{30000};
    // Writing one response may take at most this long.
    std::chrono::milliseconds write_timeout{10000};
    // Connections above this number get a 503 {"error"} and are closed.
    size_t max_connections = 256;
};

// HttpServer — accepts HTTP/1.0 and 1.1 connections (keep-alive supported)
// on one endpoint and answers each request with router.Dispatch. Every
// client error it produces itself is JSON {"error": "..."}: malformed
// request 400, body over the limit 413, header block over the limit 431,
// too many connections 503. A slow or idle client is closed on its own
// timer and never delays the others (each connection is one coroutine).
//
// Lifetime: the router must outlive the server. Stop() (or the destructor)
// closes the listener and every connection; the coroutines then finish on
// the executor without touching the router again, so the server object may
// be destroyed right after Stop even if the loop is not run again.
//
// Executor: the one given (the daemon's single io_context); not thread-safe.
class HttpServer {
public:
    HttpServer(boost::asio::any_io_executor executor, const Router& router,
               HttpServerOptions options = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds `host` (an IP literal, or a name resolved now) and `port` (0: an
    // ephemeral port) and starts accepting. Returns the error on failure.
    std::error_code Start(const std::string& host, uint16_t port);
    void Stop();

    // The bound endpoint once started.
    std::optional<boost::asio::ip::tcp::endpoint> endpoint() const;
    // Connections open right now.
    size_t connections() const;

private:
    std::shared_ptr<detail::HttpServerImpl> impl_;
};

}  // namespace bagpipe::api
