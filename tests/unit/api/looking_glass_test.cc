// The looking glass framework: tree navigation, hrefs from the Host header,
// the 404 wording, paths into values, collections and pagination (a fake
// provider with 10,000 items), and the same over HTTP.
#include "api/looking_glass.h"

#include <gtest/gtest.h>

#include <set>

#include "api_test_util.h"

namespace bagpipe::api {
namespace {

using nlohmann::json;

Request Get(std::string target, std::string host = "192.0.2.1:8082") {
    Request r;
    r.method = Method::kGet;
    r.target = target;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.host = std::move(host);
    return r;
}

json Body(const Response& r) { return json::parse(r.body); }

// 10,000 items: {"n": i}; offset = index.
LgPage FakePage(size_t offset, size_t limit) {
    constexpr size_t kItems = 10000;
    LgPage p;
    for (size_t i = offset; i < kItems && i < offset + limit; ++i) p.items.push_back({{"n", i}});
    if (offset + limit < kItems) p.next_offset = offset + limit;
    return p;
}

class LookingGlassTest : public ::testing::Test {
protected:
    void SetUp() override {
        LgObject& root = lg_.root();
        root.AddItem("summary", [](const LgRequest&) {
            return LgJson{{"version", "1.2.3"}, {"list", {10, 20, 30}}};
        });
        auto sub = std::make_shared<LgObject>([](const LgRequest&) {
            return LgJson{{"local", true}};
        });
        sub->AddValue("answer", 42);
        sub->AddTree("deeper", std::make_shared<LgFunctionNode>(
                                   [](const LgRequest&, const LgPath&) { return LgJson("deep"); }));
        root.AddTree("sub", sub);
        root.AddTree("items", std::make_shared<LgPagedList>(
                                  [](const LgRequest&, const LgPath&, size_t o, size_t l) {
                                      return FakePage(o, l);
                                  },
                                  [] { return size_t{10000}; }));
        root.AddTree("small", LgPagedList::FromVector([](const LgRequest&, const LgPath&) {
            return std::vector<LgJson>{"a", "b", "c"};
        }));
        root.AddTree("things",
                     MakeLgCollection(
                         [] {
                             return std::vector<LgCollectionItem>{
                                 {"one", {{"state", "up"}}}, {"two/2", {}}};
                         },
                         [](std::string_view id) -> LgNodePtr {
                             if (id != "one" && id != "two/2") return nullptr;
                             return std::make_shared<LgFunctionNode>(
                                 [id = std::string(id)](const LgRequest&, const LgPath&) {
                                     return LgJson{{"name", id}};
                                 });
                         }));
    }
    LookingGlass lg_;
};

TEST_F(LookingGlassTest, RootWithInlineItemsAndHrefsFromHost) {
    Response r = lg_.Handle(Get("/looking-glass", "lg.example:9999"));
    ASSERT_EQ(r.status, 200);
    // Keys in insertion order, as the original prints them.
    EXPECT_EQ(r.body.substr(0, 12), "{\"summary\":{");
    json j = Body(r);
    EXPECT_EQ(j["summary"]["version"], "1.2.3");
    EXPECT_EQ(j["sub"]["href"], "http://lg.example:9999/looking-glass/sub");
    EXPECT_EQ(j["things"]["href"], "http://lg.example:9999/looking-glass/things");
    EXPECT_EQ(j["items"]["href"], "http://lg.example:9999/looking-glass/items");
    // Another Host, other hrefs.
    j = Body(lg_.Handle(Get("/looking-glass/", "[::1]:8082")));
    EXPECT_EQ(j["sub"]["href"], "http://[::1]:8082/looking-glass/sub");
}

TEST_F(LookingGlassTest, PathsIntoObjectsAndValues) {
    json j = Body(lg_.Handle(Get("/looking-glass/sub")));
    EXPECT_EQ(j, json::parse(R"({"local": true, "answer": 42,
        "deeper": {"href": "http://192.0.2.1:8082/looking-glass/sub/deeper"}})"));
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/sub/answer"))), 42);
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/sub/local"))), true);
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/sub/deeper/"))), "deep");
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/summary/version"))), "1.2.3");
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/summary/list/2"))), 30);
}

TEST_F(LookingGlassTest, UnknownPathsAre404WithTheOriginalsWording) {
    Response r = lg_.Handle(Get("/looking-glass/nonexistent"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Body(r)["error"],
              "No such looking glass object: nonexistent at "
              "http://192.0.2.1:8082/looking-glass/nonexistent");
    EXPECT_EQ(lg_.Handle(Get("/looking-glass/summary/version/x")).status, 404);
    EXPECT_EQ(lg_.Handle(Get("/looking-glass/summary/list/3")).status, 404);
    EXPECT_EQ(lg_.Handle(Get("/looking-glass/things/three")).status, 404);
    EXPECT_NE(Body(lg_.Handle(Get("/looking-glass/things/three")))["error"]
                  .get<std::string>()
                  .find("three"),
              std::string::npos);
}

TEST_F(LookingGlassTest, Collections) {
    json j = Body(lg_.Handle(Get("/looking-glass/things")));
    EXPECT_EQ(j, json::parse(R"([
        {"id": "one", "state": "up", "href": "http://192.0.2.1:8082/looking-glass/things/one"},
        {"id": "two/2", "href": "http://192.0.2.1:8082/looking-glass/things/two%2F2"}])"));
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/things/one")))["name"], "one");
    // The href of an id with a slash resolves.
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/things/two%2F2")))["name"], "two/2");
}

TEST_F(LookingGlassTest, SmallListIsAPlainArray) {
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/small"))), json::parse(R"(["a","b","c"])"));
    // With explicit paging parameters: the page object.
    json j = Body(lg_.Handle(Get("/looking-glass/small?limit=2")));
    EXPECT_EQ(j["count"], 3);
    EXPECT_EQ(j["items"], json::parse(R"(["a","b"])"));
    EXPECT_EQ(j["next"]["href"], "http://192.0.2.1:8082/looking-glass/small?offset=2&limit=2");
    j = Body(lg_.Handle(Get("/looking-glass/small?offset=2&limit=2")));
    EXPECT_EQ(j["items"], json::parse(R"(["c"])"));
    EXPECT_FALSE(j.contains("next"));
}

TEST_F(LookingGlassTest, PaginationWalksTenThousandItemsOnce) {
    Response first = lg_.Handle(Get("/looking-glass/items"));
    ASSERT_EQ(first.status, 200);
    json j = Body(first);
    EXPECT_EQ(j["count"], 10000);
    EXPECT_EQ(j["offset"], 0);
    EXPECT_EQ(j["limit"], kLgDefaultLimit);
    EXPECT_EQ(j["items"].size(), kLgDefaultLimit);
    std::set<size_t> seen;
    size_t pages = 0;
    while (true) {
        ++pages;
        for (const auto& item : j["items"])
            EXPECT_TRUE(seen.insert(item["n"].get<size_t>()).second);
        if (!j.contains("next")) break;
        const std::string next = j["next"]["href"];
        const std::string prefix = "http://192.0.2.1:8082";
        ASSERT_EQ(next.substr(0, prefix.size()), prefix);
        Response r = lg_.Handle(Get(next.substr(prefix.size())));
        ASSERT_EQ(r.status, 200);
        j = Body(r);
        ASSERT_LT(pages, 100u);
    }
    EXPECT_EQ(pages, 10u);
    EXPECT_EQ(seen.size(), 10000u);
    EXPECT_EQ(*seen.rbegin(), 9999u);

    // A given limit; limits are clamped to 1..10000; bad numbers are 400.
    j = Body(lg_.Handle(Get("/looking-glass/items?offset=9995&limit=10")));
    EXPECT_EQ(j["items"].size(), 5u);
    EXPECT_FALSE(j.contains("next"));
    j = Body(lg_.Handle(Get("/looking-glass/items?limit=1000000")));
    EXPECT_EQ(j["limit"], kLgMaxLimit);
    EXPECT_EQ(j["items"].size(), 10000u);
    j = Body(lg_.Handle(Get("/looking-glass/items?limit=0")));
    EXPECT_EQ(j["items"].size(), 1u);
    EXPECT_EQ(lg_.Handle(Get("/looking-glass/items?offset=-1")).status, 400);
    EXPECT_EQ(lg_.Handle(Get("/looking-glass/items?limit=ten")).status, 400);
    // Into one page.
    EXPECT_EQ(Body(lg_.Handle(Get("/looking-glass/items/items/3?offset=20")))["n"], 23);
}

TEST_F(LookingGlassTest, LongListInsideAParentIsALink) {
    auto parent = std::make_shared<LgFunctionNode>([](const LgRequest& req, const LgPath& path) {
        LgPagedList big([](const LgRequest&, const LgPath&, size_t o, size_t l) {
            return FakePage(o, l);
        }, [] { return size_t{10000}; });
        LgPath child = path;
        child.push_back("big");
        return LgJson{{"big", big.Inline(req, child)}};
    });
    lg_.root().AddTree("parent", parent);
    json j = Body(lg_.Handle(Get("/looking-glass/parent")));
    EXPECT_EQ(j["big"]["count"], 10000);
    EXPECT_EQ(j["big"]["href"], "http://192.0.2.1:8082/looking-glass/parent/big");
}

TEST_F(LookingGlassTest, OverHttpWithTheRouter) {
    Router router;
    lg_.Register(router);
    test::ServerHarness h(router);
    ASSERT_TRUE(h.Start());
    test::RawClient c(h.port());
    auto r = c.Request("GET", "/looking-glass", "", "10.9.8.7:1234");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body)["sub"]["href"], "http://10.9.8.7:1234/looking-glass/sub");
    r = c.Request("GET", "/looking-glass/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_TRUE(json::parse(r.body)["error"].is_string());
    r = c.Request("POST", "/looking-glass/sub", "{}");
    EXPECT_EQ(r.status, 405);
    EXPECT_TRUE(json::parse(r.body)["error"].is_string());
    r = c.Request("GET", "/looking-glassy");
    EXPECT_EQ(r.status, 404);
}

}  // namespace
}  // namespace bagpipe::api
