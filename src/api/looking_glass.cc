#include "api/looking_glass.h"

#include <algorithm>
#include <charconv>

namespace bagpipe::api {

namespace {

std::optional<size_t> ParseSize(const std::string& s) {
    size_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

std::string PageHref(const LgRequest& req, const LgPath& path, size_t offset, size_t limit) {
    return req.Href(path) + "?offset=" + std::to_string(offset) +
           "&limit=" + std::to_string(limit);
}

// Goes on from `j` along path[from..]: keys of objects, indexes of arrays.
const LgJson* Descend(const LgJson& j, const LgPath& path, size_t from, size_t* failed) {
    const LgJson* cur = &j;
    for (size_t i = from; i < path.size(); ++i) {
        const std::string& seg = path[i];
        if (cur->is_object()) {
            auto it = cur->find(seg);
            if (it == cur->end()) {
                *failed = i;
                return nullptr;
            }
            cur = &*it;
        } else if (cur->is_array()) {
            auto idx = ParseSize(seg);
            if (!idx || *idx >= cur->size()) {
                *failed = i;
                return nullptr;
            }
            cur = &(*cur)[*idx];
        } else {
            *failed = i;
            return nullptr;
        }
    }
    return cur;
}

}  // namespace

std::string LgRequest::Href(const LgPath& path) const {
    std::string out = base_url;
    for (const auto& s : path) {
        out += '/';
        out += PercentEncode(s);
    }
    return out;
}

std::string LgRequest::Href(const LgPath& path, std::string_view child) const {
    return Href(path) + "/" + PercentEncode(child);
}

LgNodePtr LgNode::Child(std::string_view) const { return nullptr; }

LgJson LgNode::Inline(const LgRequest& req, const LgPath& path) const {
    return req.HrefObject(path);
}

LgJson LgFunctionNode::Render(const LgRequest& req, const LgPath& path) const {
    return render_ ? render_(req, path) : LgJson(nullptr);
}

LgNodePtr LgFunctionNode::Child(std::string_view segment) const {
    return child_ ? child_(segment) : nullptr;
}

// ---------------------------------------------------------------------------
// LgObject

void LgObject::Put(Entry e) {
    for (auto& old : entries_)
        if (old.name == e.name) {
            old = std::move(e);
            return;
        }
    entries_.push_back(std::move(e));
}

LgObject& LgObject::AddValue(std::string name, LgJson value) {
    Put(Entry{std::move(name), [v = std::move(value)](const LgRequest&) { return v; }, nullptr});
    return *this;
}

LgObject& LgObject::AddItem(std::string name, std::function<LgJson(const LgRequest&)> fn) {
    Put(Entry{std::move(name), std::move(fn), nullptr});
    return *this;
}

LgObject& LgObject::AddTree(std::string name, LgNodePtr node) {
    Put(Entry{std::move(name), {}, std::move(node)});
    return *this;
}

void LgObject::Remove(std::string_view name) {
    std::erase_if(entries_, [&](const Entry& e) { return e.name == name; });
}

LgJson LgObject::Render(const LgRequest& req, const LgPath& path) const {
    LgJson out = local_ ? local_(req) : LgJson::object();
    if (!out.is_object()) out = LgJson::object();
    for (const auto& e : entries_) {
        if (e.tree) {
            LgPath child = path;
            child.push_back(e.name);
            out[e.name] = req.HrefObject(child);
        } else {
            out[e.name] = e.item(req);
        }
    }
    return out;
}

LgNodePtr LgObject::Child(std::string_view segment) const {
    for (const auto& e : entries_) {
        if (e.name != segment) continue;
        if (e.tree) return e.tree;
        auto fn = e.item;
        return std::make_shared<LgFunctionNode>(
            [fn](const LgRequest& req, const LgPath&) { return fn(req); });
    }
    return nullptr;  // local info keys: reached by descending the rendering
}

// ---------------------------------------------------------------------------
// LgPagedList

LgJson LgPagedList::Render(const LgRequest& req, const LgPath& path) const {
    const size_t offset = req.offset.value_or(0);
    const size_t limit = req.limit.value_or(kLgDefaultLimit);
    LgPage page = page_(req, path, offset, limit);
    if (!req.offset && !req.limit && !page.next_offset) return std::move(page.items);
    LgJson out = LgJson::object();
    if (count_)
        out["count"] = count_();
    else if (page.total)
        out["count"] = *page.total;
    out["offset"] = offset;
    out["limit"] = limit;
    out["items"] = std::move(page.items);
    if (page.next_offset)
        out["next"] = LgJson{{"href", PageHref(req, path, *page.next_offset, limit)}};
    return out;
}

LgJson LgPagedList::Inline(const LgRequest& req, const LgPath& path) const {
    if (count_) {
        const size_t n = count_();
        if (n > kLgDefaultLimit) return LgJson{{"href", req.Href(path)}, {"count", n}};
    }
    LgPage page = page_(req, path, 0, kLgDefaultLimit);
    if (!page.next_offset) return std::move(page.items);
    LgJson out{{"href", req.Href(path)}};
    if (count_) out["count"] = count_();
    return out;
}

LgNodePtr LgPagedList::Child(std::string_view segment) const {
    return child_ ? child_(segment) : nullptr;
}

std::shared_ptr<LgPagedList> LgPagedList::FromVector(
    std::function<std::vector<LgJson>(const LgRequest&, const LgPath&)> items, ChildFn child) {
    auto page = [items](const LgRequest& req, const LgPath& path, size_t offset, size_t limit) {
        std::vector<LgJson> all = items(req, path);
        LgPage p;
        for (size_t i = offset; i < all.size() && i - offset < limit; ++i)
            p.items.push_back(std::move(all[i]));
        if (offset < all.size() && all.size() - offset > limit) p.next_offset = offset + limit;
        p.total = all.size();
        return p;
    };
    return std::make_shared<LgPagedList>(std::move(page), CountFn{}, std::move(child));
}

std::shared_ptr<LgNode> MakeLgCollection(std::function<std::vector<LgCollectionItem>()> list,
                                         std::function<LgNodePtr(std::string_view id)> lookup) {
    auto items = [list](const LgRequest& req, const LgPath& path) {
        std::vector<LgJson> out;
        for (auto& item : list()) {
            LgJson j{{"id", item.id}};
            if (item.fields.is_object())
                for (auto& [k, v] : item.fields.items()) j[k] = v;
            j["href"] = req.Href(path, item.id);
            out.push_back(std::move(j));
        }
        return out;
    };
    return LgPagedList::FromVector(std::move(items), std::move(lookup));
}

// ---------------------------------------------------------------------------
// LookingGlass

LookingGlass::LookingGlass(std::string prefix)
    : prefix_(std::move(prefix)), root_(std::make_shared<LgObject>()) {
    while (prefix_.size() > 1 && prefix_.back() == '/') prefix_.pop_back();
}

void LookingGlass::Register(Router& router) const {
    router.AddPrefix(Method::kGet, prefix_, [this](const Request& r) { return Handle(r); });
}

Response LookingGlass::Handle(const Request& request) const {
    LgRequest req;
    req.base_url = request.BaseUrl() + prefix_;
    for (const char* name : {"offset", "limit"}) {
        auto v = request.QueryParam(name);
        if (!v) continue;
        auto n = ParseSize(*v);
        if (!n) return Response::Error(400, std::string(name) + " must be a non-negative integer");
        if (name[0] == 'o')
            req.offset = *n;
        else
            req.limit = std::clamp<size_t>(*n, 1, kLgMaxLimit);
    }
    LgPath path;
    std::string_view rest = std::string_view(request.path).substr(
        std::min(prefix_.size(), request.path.size()));
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        if (!seg.empty()) path.push_back(PercentDecode(seg));
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    LgNodePtr node = root_;
    size_t i = 0;
    for (; i < path.size(); ++i) {
        LgNodePtr child = node->Child(path[i]);
        if (!child) break;
        node = std::move(child);
    }
    const LgPath here(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(i));
    LgJson rendered = node->Render(req, here);
    size_t failed = i;
    const LgJson* target = Descend(rendered, path, i, &failed);
    if (!target) {
        return Response::Error(404, "No such looking glass object: " + path[failed] + " at " +
                                        req.Href(path));
    }
    return Response::FromJson(*target);
}

}  // namespace bagpipe::api
