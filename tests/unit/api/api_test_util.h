// Helpers for the REST API tests: an HttpServer on 127.0.0.1:<ephemeral> with
// its io_context on a background thread, and a minimal blocking HTTP/1.1
// client over raw sockets (no Beast in the tests: it compiles slowly).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "api/http_server.h"
#include "api/http_types.h"

namespace bagpipe::api::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct RawResponse {
    int status = 0;
    std::string headers;  // the header block, lowercase names as received
    std::string body;
    bool ok = false;      // a complete response was read
};

// A blocking client connection (each call has a deadline via SO_RCVTIMEO).
class RawClient {
public:
    explicit RawClient(uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5))
        : socket_(io_) {
        boost::system::error_code ec;
        socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
        connected_ = !ec;
        const timeval tv{static_cast<time_t>(timeout.count() / 1000),
                         static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    bool connected() const { return connected_; }

    bool Send(const std::string& bytes) {
        boost::system::error_code ec;
        asio::write(socket_, asio::buffer(bytes), ec);
        return !ec;
    }

    // Reads one response (Content-Length framing).
    RawResponse Read() {
        RawResponse r;
        size_t header_end;
        while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos)
            if (!Fill()) return r;
        r.headers = buffer_.substr(0, header_end);
        if (r.headers.size() < 12) return r;
        r.status = std::stoi(r.headers.substr(9, 3));
        size_t length = 0;
        std::string lower = r.headers;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const size_t cl = lower.find("content-length:");
        if (cl != std::string::npos) length = std::stoul(lower.substr(cl + 15));
        buffer_.erase(0, header_end + 4);
        while (buffer_.size() < length)
            if (!Fill()) return r;
        r.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
        r.ok = true;
        return r;
    }

    RawResponse Request(const std::string& method, const std::string& target,
                        const std::string& body = "", const std::string& host = "test.host:1",
                        bool keep_alive = true) {
        std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
        if (!keep_alive) req += "Connection: close\r\n";
        if (!body.empty() || method == "POST" || method == "PUT")
            req += "Content-Type: application/json\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n";
        req += "\r\n" + body;
        if (!Send(req)) return {};
        return Read();
    }

    // True when the server closed the connection (EOF or reset) before the
    // receive timeout.
    bool ClosedByPeer() {
        char c;
        boost::system::error_code ec;
        const size_t n = socket_.read_some(asio::buffer(&c, 1), ec);
        if (n == 1) buffer_.push_back(c);
        return ec == asio::error::eof || ec == asio::error::connection_reset;
    }

private:
    bool Fill() {
        char chunk[65536];
        boost::system::error_code ec;
        const size_t n = socket_.read_some(asio::buffer(chunk), ec);
        if (ec) return false;
        buffer_.append(chunk, n);
        return true;
    }

    asio::io_context io_;
    tcp::socket socket_;
    bool connected_ = false;
    std::string buffer_;
};

// The server under test, its loop on a background thread.
class ServerHarness {
public:
    explicit ServerHarness(const Router& router, HttpServerOptions options = {})
        : work_(asio::make_work_guard(io_)), server_(io_.get_executor(), router, options) {}
    ~ServerHarness() { Shutdown(); }

    // Starts on 127.0.0.1:0 and runs the loop; false on failure.
    bool Start() {
        if (server_.Start("127.0.0.1", 0)) return false;
        thread_ = std::thread([this] { io_.run(); });
        return true;
    }
    uint16_t port() const { return server_.endpoint()->port(); }

    // Runs fn on the loop and waits for its result.
    template <class F>
    auto OnLoop(F fn) -> decltype(fn()) {
        std::packaged_task<decltype(fn())()> task(std::move(fn));
        auto fut = task.get_future();
        asio::post(io_, [&task] { task(); });
        return fut.get();
    }
    void Stop() {
        OnLoop([this] {
            server_.Stop();
            return 0;
        });
    }
    size_t connections() {
        return OnLoop([this] { return server_.connections(); });
    }
    void Shutdown() {
        if (!thread_.joinable()) return;
        Stop();
        work_.reset();
        // Connections finish on their own once closed; do not wait forever.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!io_.stopped() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        io_.stop();
        thread_.join();
    }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    HttpServer server_;
    std::thread thread_;
};

}  // namespace bagpipe::api::test
