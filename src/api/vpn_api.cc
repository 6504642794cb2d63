#include "api/vpn_api.h"

#include <spdlog/spdlog.h>

#include "vpn/attach_params.h"

namespace bagpipe::api {

namespace {

Response Handle(vpn::VpnManager& manager, const Request& request, vpn::RequestKind kind) {
    const char* what = kind == vpn::RequestKind::kAttach ? "attach" : "detach";
    nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
        spdlog::warn("api: {}: body is not JSON", what);
        return Response::Error(400, "No local port details received");
    }
    vpn::ParseResult parsed = vpn::ParseAttachParams(body, kind);
    if (const auto* err = std::get_if<vpn::ParamError>(&parsed)) {
        spdlog::warn("api: {} refused: {}", what, err->message);
        return Response::Error(400, "API error: " + err->message);
    }
    const vpn::AttachParams& p = std::get<vpn::AttachParams>(parsed);
    std::optional<vpn::ApiError> e =
        kind == vpn::RequestKind::kAttach ? manager.Attach(p) : manager.Detach(p);
    if (e) {
        if (e->status >= 500)
            spdlog::error("api: {} {} {}: {}", what, p.vpn_instance_id, p.mac.ToString(), e->message);
        else
            spdlog::warn("api: {} {} {} refused: {}", what, p.vpn_instance_id, p.mac.ToString(),
                         e->message);
        return Response::Error(e->status, "API error: " + e->message);
    }
    spdlog::info("api: {} {} {} {} {}", what, dataplane::VpnTypeName(p.vpn_type), p.vpn_instance_id,
                 p.mac.ToString(), p.ip_text);
    Response r;
    r.body = "null";
    return r;
}

}  // namespace

Response HandleAttach(vpn::VpnManager& manager, const Request& request) {
    return Handle(manager, request, vpn::RequestKind::kAttach);
}

Response HandleDetach(vpn::VpnManager& manager, const Request& request) {
    return Handle(manager, request, vpn::RequestKind::kDetach);
}

void RegisterVpnApi(Router& router, vpn::VpnManager& manager) {
    for (const char* path : {"/attach_localport", "/detach_localport"}) {
        router.Add(Method::kGet, path, [](const Request&) { return Response::FromJson(nlohmann::json::object()); });
    }
    router.Add(Method::kPost, "/attach_localport",
               [&manager](const Request& r) { return HandleAttach(manager, r); });
    router.Add(Method::kPost, "/detach_localport",
               [&manager](const Request& r) { return HandleDetach(manager, r); });
}

}  // namespace bagpipe::api
