// The only translation unit that includes Boost.Beast (it compiles slowly).
#include "api/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <unordered_map>
#include <utility>

namespace bagpipe::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// After an error response to a request whose body is still arriving, this
// much more input is read and dropped (so the client sees the response and
// not a reset), for at most kLingerTime.
constexpr size_t kLingerBytes = 8u << 20;
constexpr auto kLingerTime = std::chrono::seconds(2);

Method ToMethod(http::verb v) {
    switch (v) {
        case http::verb::get: return Method::kGet;
        case http::verb::head: return Method::kHead;
        case http::verb::post: return Method::kPost;
        case http::verb::put: return Method::kPut;
        case http::verb::delete_: return Method::kDelete;
        case http::verb::patch: return Method::kPatch;
        case http::verb::options: return Method::kOptions;
        default: return Method::kOther;
    }
}

std::string ErrorBody(std::string_view message) {
    return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                   nlohmann::json::error_handler_t::replace);
}

http::response<http::string_body> MakeResponse(const Response& r, unsigned version,
                                               bool keep_alive) {
    http::response<http::string_body> out;
    out.version(version);
    out.result(static_cast<unsigned>(r.status));
    out.set(http::field::server, "bagpipe-bgp");
    out.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) out.set(name, value);
    out.body() = r.body;
    out.keep_alive(keep_alive);
    out.prepare_payload();
    return out;
}

}  // namespace

namespace detail {

struct HttpServerImpl {
    HttpServerImpl(asio::any_io_executor ex, const Router& r, HttpServerOptions o)
        : executor(std::move(ex)), router(r), options(o), acceptor(executor) {}

    asio::any_io_executor executor;
    const Router& router;
    HttpServerOptions options;
    tcp::acceptor acceptor;
    std::optional<tcp::endpoint> bound;
    bool stopped = false;
    uint64_t next_id = 0;
    std::unordered_map<uint64_t, beast::tcp_stream*> streams;  // open connections
};

}  // namespace detail

namespace {

using ImplPtr = std::shared_ptr<detail::HttpServerImpl>;

// Writes `res`, then (for an error that leaves unread input) stops sending
// and drops what the client still sends for a little while before closing.
asio::awaitable<void> WriteAndLinger(beast::tcp_stream& stream,
                                     http::response<http::string_body> res,
                                     std::chrono::milliseconds write_timeout) {
    stream.expires_after(write_timeout);
    auto [ec, n] = co_await http::async_write(stream, res, kTuple);
    (void)n;
    if (ec) co_return;
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(kLingerTime);
    std::array<char, 8192> sink;
    size_t total = 0;
    while (total < kLingerBytes) {
        auto [rec, got] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
        if (rec) break;
        total += got;
    }
}

asio::awaitable<void> Serve(ImplPtr self, tcp::socket socket, uint64_t id) {
    beast::tcp_stream stream(std::move(socket));
    self->streams.emplace(id, &stream);
    struct Unregister {
        detail::HttpServerImpl& impl;
        uint64_t id;
        ~Unregister() { impl.streams.erase(id); }
    } unregister{*self, id};

    const HttpServerOptions& opt = self->options;
    std::string local_host;
    {
        boost::system::error_code ec;
        const tcp::endpoint local = stream.socket().local_endpoint(ec);
        if (!ec)
            local_host = local.address().is_v6()
                             ? "[" + local.address().to_string() + "]:" +
                                   std::to_string(local.port())
                             : local.address().to_string() + ":" + std::to_string(local.port());
    }
    beast::flat_buffer buffer;
    bool first = true;
    while (!self->stopped) {
        if (!first && buffer.size() == 0) {
            // Keep-alive: wait for the next request's first byte.
            stream.expires_after(opt.idle_timeout);
            auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
            if (ec) break;
            buffer.commit(n);
        }
        first = false;
        stream.expires_after(opt.request_timeout);
        http::request_parser<http::string_body> parser;
        parser.body_limit(opt.max_body_bytes);
        parser.header_limit(static_cast<uint32_t>(opt.max_header_bytes));
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
        (void)n;
        if (self->stopped) break;
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
            ec == asio::error::eof) {
            if (ec == beast::error::timeout)
                spdlog::debug("API: closing a connection: no complete request in time");
            break;
        }
        if (ec) {
            Response r;
            r.status = 400;
            if (ec == http::error::body_limit) {
                r.status = 413;
                r.body = ErrorBody("Request body larger than " +
                                   std::to_string(opt.max_body_bytes) + " bytes");
            } else if (ec == http::error::header_limit) {
                r.status = 431;
                r.body = ErrorBody("Request header fields too large");
            } else {
                r.body = ErrorBody("Bad request: " + ec.message());
            }
            co_await WriteAndLinger(stream, MakeResponse(r, 11, false), opt.write_timeout);
            break;
        }
        http::request<http::string_body>& req = parser.get();
        Request request;
        request.method = ToMethod(req.method());
        request.target = std::string(req.target());
        const size_t q = request.target.find('?');
        request.path = request.target.substr(0, q);
        if (q != std::string::npos) request.query = request.target.substr(q + 1);
        request.host = std::string(req[http::field::host]);
        if (request.host.empty()) request.host = local_host;
        request.content_type = std::string(req[http::field::content_type]);
        request.body = std::move(req.body());
        const bool keep_alive = req.keep_alive();
        const unsigned version = req.version();

        const Response response = self->router.Dispatch(request);
        spdlog::debug("API: {} {} -> {}", MethodName(request.method), request.target,
                      response.status);
        auto res = MakeResponse(response, version, keep_alive);
        if (request.method == Method::kHead) res.body().clear();
        stream.expires_after(opt.write_timeout);
        auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
        (void)wn;
        if (wec || !keep_alive) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
}

// Refuses a connection over the limit: one non-blocking write of a 503, close.
void Refuse(tcp::socket& socket) {
    static const std::string kResponse = [] {
        const std::string body = ErrorBody("Too many connections");
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
               "Connection: close\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    }();
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    if (!ec) socket.write_some(asio::buffer(kResponse), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

asio::awaitable<void> AcceptLoop(ImplPtr self) {
    asio::steady_timer backoff(self->executor);
    while (!self->stopped) {
        auto [ec, socket] = co_await self->acceptor.async_accept(kTuple);
        if (self->stopped) break;
        if (ec) {
            if (ec == asio::error::operation_aborted) break;
            // EMFILE and the like: wait a little rather than spin.
            spdlog::warn("API: accept failed: {}", ec.message());
            backoff.expires_after(std::chrono::milliseconds(100));
            co_await backoff.async_wait(kTuple);
            continue;
        }
        if (self->streams.size() >= self->options.max_connections) {
            spdlog::warn("API: {} connections open, refusing one more",
                         self->streams.size());
            Refuse(socket);
            continue;
        }
        boost::system::error_code nodelay_ec;
        socket.set_option(tcp::no_delay(true), nodelay_ec);
        asio::co_spawn(self->executor, Serve(self, std::move(socket), self->next_id++),
                       asio::detached);
    }
}

}  // namespace

HttpServer::HttpServer(asio::any_io_executor executor, const Router& router,
                       HttpServerOptions options)
    : impl_(std::make_shared<detail::HttpServerImpl>(std::move(executor), router, options)) {}

HttpServer::~HttpServer() { Stop(); }

std::error_code HttpServer::Start(const std::string& host, uint16_t port) {
    boost::system::error_code ec;
    tcp::endpoint ep;
    const asio::ip::address address = asio::ip::make_address(host, ec);
    if (!ec) {
        ep = tcp::endpoint(address, port);
    } else {
        tcp::resolver resolver(impl_->executor);
        auto results = resolver.resolve(host, std::to_string(port), ec);
        if (ec) return ec;
        if (results.empty()) return boost::system::error_code(asio::error::host_not_found);
        ep = results.begin()->endpoint();
    }
    tcp::acceptor& a = impl_->acceptor;
    if (a.open(ep.protocol(), ec)) return ec;
    if (a.set_option(tcp::acceptor::reuse_address(true), ec)) return ec;
    if (a.bind(ep, ec) || a.listen(asio::socket_base::max_listen_connections, ec)) {
        boost::system::error_code ignored;
        a.close(ignored);
        return ec;
    }
    impl_->bound = a.local_endpoint(ec);
    impl_->stopped = false;
    asio::co_spawn(impl_->executor, AcceptLoop(impl_), asio::detached);
    return {};
}

void HttpServer::Stop() {
    if (!impl_ || impl_->stopped) return;
    impl_->stopped = true;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& [id, stream] : impl_->streams) {
        stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream->socket().close(ignored);
    }
}

std::optional<tcp::endpoint> HttpServer::endpoint() const { return impl_->bound; }

size_t HttpServer::connections() const { return impl_->streams.size(); }

}  // namespace bagpipe::api
