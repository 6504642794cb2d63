// The looking glass: a read-only tree of JSON objects served under
// GET /looking-glass/<segment>/..., shaped like the original bagpipe-bgp's
// (LookingGlassMixin, see the reference §2.6).
//
// A node renders itself at its own path and may resolve child segments.
// Kinds, as in the original:
//   * value / item — constant or computed JSON shown inline in the parent;
//     the path can go on into it by key (objects) or index (arrays), e.g.
//     /looking-glass/summary/version → "17.0.0";
//   * tree — a node computed only when its path is requested, shown in the
//     parent as {"href": "http://<Host>/looking-glass/<path>"};
//   * collection — a list of {"id", ..., "href"}; /<id> resolves to the
//     element's node;
//   * paged list — a list that may be long (routes, logs): served a page at a
//     time (?offset=&limit=, default limit 1000, at most 10,000).
//
// Pagination. A paged list requested without offset/limit that fits in one
// page is a plain JSON array (the original's shape). Otherwise it is
//   {"count": N (when known), "offset": O, "limit": L, "items": [...],
//    "next": {"href": ".../path?offset=O2&limit=L"} (absent on the last page)}
// where an offset is a position in the list that only the list interprets
// (the RIB's is a slot of its table): follow `next` rather than computing
// offsets. Inside a parent object, a list that does not fit in one page
// appears as {"href", "count"}.
//
// hrefs are absolute URLs built from the request's Host header. Unknown
// paths give 404 {"error": "No such looking glass object: <seg> at <url>"}.
//
// Invariants: the tree is built (nodes added) before the server starts;
// rendering never mutates it. Executor: the event loop (nodes read the
// speaker's state directly; no locks).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_types.h"

namespace bagpipe::api {

using LgJson = nlohmann::ordered_json;  // keys keep their insertion order
using LgPath = std::vector<std::string>;  // decoded segments below the prefix

inline constexpr size_t kLgDefaultLimit = 1000;
inline constexpr size_t kLgMaxLimit = 10000;

// What rendering depends on in a request.
struct LgRequest {
    std::string base_url;           // "http://127.0.0.1:8082/looking-glass"
    std::optional<size_t> offset;   // ?offset=
    std::optional<size_t> limit;    // ?limit= (clamped to 1..kLgMaxLimit)

    // base_url + "/" + the percent-encoded segments.
    std::string Href(const LgPath& path) const;
    std::string Href(const LgPath& path, std::string_view child) const;
    // {"href": Href(path)}.
    LgJson HrefObject(const LgPath& path) const { return LgJson{{"href", Href(path)}}; }
};

class LgNode;
using LgNodePtr = std::shared_ptr<const LgNode>;

class LgNode {
public:
    virtual ~LgNode() = default;
    // The node's JSON when its own path (`path`) is requested.
    virtual LgJson Render(const LgRequest& req, const LgPath& path) const = 0;
    // The node for child `segment`, or null (the path then goes on into the
    // rendered JSON by key or index).
    virtual LgNodePtr Child(std::string_view segment) const;
    // A compact form for a parent that shows it inline (bgp/routes shows
    // each family's list this way): {"href"} by default.
    virtual LgJson Inline(const LgRequest& req, const LgPath& path) const;
};

// A node from two functions (either may be empty).
class LgFunctionNode : public LgNode {
public:
    using RenderFn = std::function<LgJson(const LgRequest&, const LgPath&)>;
    using ChildFn = std::function<LgNodePtr(std::string_view)>;
    explicit LgFunctionNode(RenderFn render, ChildFn child = {})
        : render_(std::move(render)), child_(std::move(child)) {}
    LgJson Render(const LgRequest& req, const LgPath& path) const override;
    LgNodePtr Child(std::string_view segment) const override;

private:
    RenderFn render_;
    ChildFn child_;
};

// An object: "local info" (an optional function returning an object) merged
// with named entries, in insertion order.
class LgObject : public LgNode {
public:
    using LocalFn = std::function<LgJson(const LgRequest&)>;
    explicit LgObject(LocalFn local = {}) : local_(std::move(local)) {}

    // Adding a name that exists replaces that entry in place.
    LgObject& AddValue(std::string name, LgJson value);
    LgObject& AddItem(std::string name, std::function<LgJson(const LgRequest&)> fn);
    // A subtree, shown as {"href"} in this object.
    LgObject& AddTree(std::string name, LgNodePtr node);
    void Remove(std::string_view name);

    LgJson Render(const LgRequest& req, const LgPath& path) const override;
    LgNodePtr Child(std::string_view segment) const override;

private:
    struct Entry {
        std::string name;
        std::function<LgJson(const LgRequest&)> item;  // value or item
        LgNodePtr tree;
    };
    void Put(Entry e);
    LocalFn local_;
    std::vector<Entry> entries_;
};

// One page of a paged list.
struct LgPage {
    LgJson items = LgJson::array();
    std::optional<size_t> next_offset;  // nullopt: last page
    std::optional<size_t> total;        // the list's length, when the page knows it
};

// A list served a page at a time (see the header comment).
class LgPagedList : public LgNode {
public:
    // page(req, path, offset, limit) returns at most `limit` items from
    // `offset`; count() (optional) is the list's length, cheap.
    using PageFn = std::function<LgPage(const LgRequest&, const LgPath&, size_t, size_t)>;
    using CountFn = std::function<size_t()>;
    using ChildFn = std::function<LgNodePtr(std::string_view)>;
    LgPagedList(PageFn page, CountFn count = {}, ChildFn child = {})
        : page_(std::move(page)), count_(std::move(count)), child_(std::move(child)) {}

    LgJson Render(const LgRequest& req, const LgPath& path) const override;
    LgJson Inline(const LgRequest& req, const LgPath& path) const override;
    LgNodePtr Child(std::string_view segment) const override;

    // A list over an in-memory vector (offset = index), e.g. log records.
    static std::shared_ptr<LgPagedList> FromVector(
        std::function<std::vector<LgJson>(const LgRequest&, const LgPath&)> items,
        ChildFn child = {});

private:
    PageFn page_;
    CountFn count_;
    ChildFn child_;
};

// A collection: [{"id", ...fields, "href"}] (paged like LgPagedList), each
// id resolving to a node.
struct LgCollectionItem {
    std::string id;
    LgJson fields = LgJson::object();  // extra keys shown between id and href
};
std::shared_ptr<LgNode> MakeLgCollection(
    std::function<std::vector<LgCollectionItem>()> list,
    std::function<LgNodePtr(std::string_view id)> lookup);

// LookingGlass — the tree's root (an LgObject) and the HTTP glue: resolves
// the request path below `prefix` and renders the node or the JSON value the
// path leads to. GET only (other methods: 405, by the router).
class LookingGlass {
public:
    explicit LookingGlass(std::string prefix = "/looking-glass");

    LgObject& root() { return *root_; }
    const std::string& prefix() const { return prefix_; }

    // GET <prefix>[/...] → Handle.
    void Register(Router& router) const;
    Response Handle(const Request& request) const;

private:
    std::string prefix_;
    std::shared_ptr<LgObject> root_;
};

}  // namespace bagpipe::api
