// HttpServer + Router over real loopback sockets: routing, JSON errors
// (404/405/413/500), keep-alive, slow and idle clients, the connection limit,
// Stop, and /ping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "api_test_util.h"
#include "api/ping.h"

namespace bagpipe::api {
namespace {

using namespace std::chrono_literals;
using test::RawClient;
using test::ServerHarness;

nlohmann::json Body(const test::RawResponse& r) {
    return nlohmann::json::parse(r.body, nullptr, false);
}

Router MakeRouter() {
    Router router;
    RegisterPing(router);
    router.Add(Method::kGet, "/hello", [](const Request& r) {
        return Response::FromJson(nlohmann::json{{"host", r.host}, {"query", r.query}});
    });
    router.Add(Method::kPost, "/echo", [](const Request& r) {
        return Response::FromJson(nlohmann::json{{"size", r.body.size()}});
    });
    router.AddPrefix(Method::kGet, "/tree", [](const Request& r) {
        return Response::FromJson(nlohmann::json{{"path", r.path}});
    });
    router.Add(Method::kGet, "/throw",
               [](const Request&) -> Response { throw std::runtime_error("boom"); });
    return router;
}

TEST(RouterTest, ExactPrefixAndMethods) {
    Router router = MakeRouter();
    Request r;
    r.path = "/tree/a/b";
    EXPECT_EQ(router.Dispatch(r).status, 200);
    r.path = "/tree";
    EXPECT_EQ(router.Dispatch(r).status, 200);
    r.path = "/treeX";
    EXPECT_EQ(router.Dispatch(r).status, 404);
    r.path = "/echo";
    const Response res = router.Dispatch(r);
    EXPECT_EQ(res.status, 405);
    ASSERT_EQ(res.headers.size(), 1u);
    EXPECT_EQ(res.headers[0].second, "POST");
    r.path = "/throw";
    const Response thrown = router.Dispatch(r);
    EXPECT_EQ(thrown.status, 500);
    EXPECT_NE(nlohmann::json::parse(thrown.body)["error"].get<std::string>().find("boom"),
              std::string::npos);
}

TEST(RouterTest, QueryParamsAndPercentCoding) {
    Request r;
    r.query = "offset=10&limit=&name=a%2Fb+c&flag";
    EXPECT_EQ(r.QueryParam("offset"), "10");
    EXPECT_EQ(r.QueryParam("limit"), "");
    EXPECT_EQ(r.QueryParam("name"), "a/b c");
    EXPECT_EQ(r.QueryParam("flag"), "");
    EXPECT_FALSE(r.QueryParam("missing"));
    EXPECT_EQ(PercentDecode("ipv4%2Fmpls-vpn,*"), "ipv4/mpls-vpn,*");
    EXPECT_EQ(PercentDecode("bad%zz%4"), "bad%zz%4");
    EXPECT_EQ(PercentEncode("BGP-10.0.0.1"), "BGP-10.0.0.1");
    EXPECT_EQ(PercentEncode("a/b c"), "a%2Fb%20c");
}

TEST(HttpServerTest, RoutesErrorsAndKeepAlive) {
    Router router = MakeRouter();
    ServerHarness h(router);
    ASSERT_TRUE(h.Start());
    RawClient c(h.port());
    ASSERT_TRUE(c.connected());

    auto r = c.Request("GET", "/hello?x=1", "", "example.org:8082");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.headers.find("application/json"), std::string::npos);
    EXPECT_EQ(Body(r)["host"], "example.org:8082");
    EXPECT_EQ(Body(r)["query"], "x=1");

    // Same connection (keep-alive): 404, 405, 500, then still served.
    r = c.Request("GET", "/nowhere");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(Body(r)["error"].is_string());
    r = c.Request("PUT", "/hello", "{}");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 405);
    EXPECT_TRUE(Body(r)["error"].is_string());
    r = c.Request("GET", "/throw");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(Body(r)["error"].get<std::string>().find("boom"), std::string::npos);
    r = c.Request("POST", "/echo", std::string(1000, 'x'));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(Body(r)["size"], 1000);

    // Connection: close is honoured.
    r = c.Request("GET", "/hello", "", "h", false);
    ASSERT_TRUE(r.ok);
    EXPECT_TRUE(c.ClosedByPeer());
}

TEST(HttpServerTest, Http10AndMalformedRequests) {
    Router router = MakeRouter();
    ServerHarness h(router);
    ASSERT_TRUE(h.Start());
    {
        RawClient c(h.port());
        ASSERT_TRUE(c.Send("GET /ping HTTP/1.0\r\n\r\n"));
        auto r = c.Read();
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.headers.substr(0, 8), "HTTP/1.0");
        EXPECT_TRUE(c.ClosedByPeer());  // HTTP/1.0 without keep-alive
    }
    {
        RawClient c(h.port());
        ASSERT_TRUE(c.Send("NOT HTTP AT ALL\r\n\r\n"));
        auto r = c.Read();
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.status, 400);
        EXPECT_TRUE(Body(r)["error"].is_string());
    }
}

TEST(HttpServerTest, BodyOverOneMebibyteIs413) {
    Router router = MakeRouter();
    ServerHarness h(router);
    ASSERT_TRUE(h.Start());
    {
        RawClient c(h.port());
        auto r = c.Request("POST", "/echo", std::string((1u << 20) + 1, 'x'));
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.status, 413);
        EXPECT_TRUE(Body(r)["error"].is_string());
    }
    {
        // Exactly 1 MiB is accepted.
        RawClient c(h.port());
        auto r = c.Request("POST", "/echo", std::string(1u << 20, 'x'));
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(Body(r)["size"], 1u << 20);
    }
    {
        // Announced too large: refused before the body is read.
        RawClient c(h.port());
        ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 50000000\r\n\r\n"));
        auto r = c.Read();
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.status, 413);
    }
}

TEST(HttpServerTest, SlowClientClosedWhileOthersAreServed) {
    Router router = MakeRouter();
    HttpServerOptions o;
    o.request_timeout = 400ms;
    o.idle_timeout = 600ms;
    ServerHarness h(router, o);
    ASSERT_TRUE(h.Start());

    RawClient slow(h.port());
    ASSERT_TRUE(slow.Send("GET /ping HTTP/1.1\r\nHost: h\r\n"));  // never finished
    RawClient silent(h.port());                                   // never sends anything
    RawClient idle(h.port());
    ASSERT_TRUE(idle.Request("GET", "/ping").ok);  // then stays idle (keep-alive)

    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) {
        RawClient fast(h.port());
        auto r = fast.Request("GET", "/ping");
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.status, 200);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 300ms);

    EXPECT_TRUE(slow.ClosedByPeer());
    EXPECT_TRUE(silent.ClosedByPeer());
    EXPECT_TRUE(idle.ClosedByPeer());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 350ms);
    // And the server still works.
    RawClient after(h.port());
    EXPECT_EQ(after.Request("GET", "/ping").status, 200);
}

TEST(HttpServerTest, ConnectionLimit) {
    Router router = MakeRouter();
    HttpServerOptions o;
    o.max_connections = 2;
    ServerHarness h(router, o);
    ASSERT_TRUE(h.Start());
    RawClient a(h.port()), b(h.port());
    ASSERT_EQ(a.Request("GET", "/ping").status, 200);
    ASSERT_EQ(b.Request("GET", "/ping").status, 200);
    RawClient c(h.port());
    auto r = c.Read();
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(Body(r)["error"].is_string());
    EXPECT_EQ(h.connections(), 2u);
    // Once one leaves, a new client is served.
    a.Request("GET", "/ping", "", "h", false);
    for (int i = 0; i < 100 && h.connections() > 1; ++i) std::this_thread::sleep_for(5ms);
    RawClient d(h.port());
    EXPECT_EQ(d.Request("GET", "/ping").status, 200);
}

TEST(HttpServerTest, StopClosesEverything) {
    Router router = MakeRouter();
    ServerHarness h(router);
    ASSERT_TRUE(h.Start());
    const uint16_t port = h.port();
    RawClient idle(port);
    ASSERT_EQ(idle.Request("GET", "/ping").status, 200);
    RawClient half(port);
    ASSERT_TRUE(half.Send("GET /ping HTTP/1.1\r\n"));
    h.Stop();
    EXPECT_TRUE(idle.ClosedByPeer());
    EXPECT_TRUE(half.ClosedByPeer());
    RawClient late(port);
    EXPECT_FALSE(late.connected());
}

TEST(HttpServerTest, BindFailureIsReported) {
    Router router;
    boost::asio::io_context io;
    HttpServer a(io.get_executor(), router);
    ASSERT_FALSE(a.Start("127.0.0.1", 0));
    HttpServer b(io.get_executor(), router);
    EXPECT_TRUE(b.Start("127.0.0.1", a.endpoint()->port()));
    HttpServer c(io.get_executor(), router);
    EXPECT_TRUE(c.Start("no-such-host.invalid", 0));
}

TEST(PingTest, StableForTheProcessAndAnyMethod) {
    Router router = MakeRouter();
    ServerHarness h(router);
    ASSERT_TRUE(h.Start());
    RawClient c(h.port());
    auto first = c.Request("GET", "/ping");
    auto second = c.Request("POST", "/ping", "{}");
    auto third = c.Request("PUT", "/ping", "{}");
    ASSERT_TRUE(first.ok && second.ok && third.ok);
    EXPECT_EQ(first.status, 200);
    EXPECT_EQ(second.status, 200);
    EXPECT_EQ(third.status, 200);
    const nlohmann::json v = Body(first);
    ASSERT_TRUE(v.is_number_unsigned());
    EXPECT_EQ(v.get<uint64_t>(), ProcessPingValue());
    EXPECT_EQ(Body(second), v);
    EXPECT_EQ(Body(third), v);
    EXPECT_LT(v.get<uint64_t>(), uint64_t{1} << 53);
    // The root answers {} to GET and 405 to others, like the original.
    EXPECT_EQ(c.Request("GET", "/").body, "{}");
    EXPECT_EQ(c.Request("DELETE", "/").status, 405);
}

}  // namespace
}  // namespace bagpipe::api
