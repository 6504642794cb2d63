#include "api/ping.h"

#include <random>

namespace bagpipe::api {

uint64_t ProcessPingValue() {
    static const uint64_t value = [] {
        std::random_device rd;
        const uint64_t r = (uint64_t{rd()} << 32) ^ rd();
        return (r & ((uint64_t{1} << 53) - 1)) | (uint64_t{1} << 40);  // never small
    }();
    return value;
}

void RegisterPing(Router& router) {
    router.Add(Router::kAnyMethod, "/ping", [](const Request&) {
        return Response::FromJson(nlohmann::json(ProcessPingValue()));
    });
    router.Add(Method::kGet, "/",
               [](const Request&) { return Response::FromJson(nlohmann::json::object()); });
}

}  // namespace bagpipe::api
