// POST /attach_localport and /detach_localport: the original bagpipe-bgp's
// REST calls (reference §2.1-§2.4) on top of VpnManager.
//
//   success               200, body `null` (as the original)
//   body not JSON         400 {"error": "No local port details received"}
//   invalid parameters    400 {"error": "API error: <message>"}
//   refused by the VPN layer (conflict, not attached, ...) 400 likewise
//   dataplane failure     500 {"error": "API error: <message>"}
//   GET                   200 {} (as the original); other methods 405
//
// Executor: the HTTP server's (the daemon's event loop).
#pragma once

#include "api/http_types.h"
#include "vpn/vpn_manager.h"

namespace bagpipe::api {

// Registers both paths; `manager` must outlive the router's use.
void RegisterVpnApi(Router& router, vpn::VpnManager& manager);

// The handlers, for tests.
Response HandleAttach(vpn::VpnManager& manager, const Request& request);
Response HandleDetach(vpn::VpnManager& manager, const Request& request);

}  // namespace bagpipe::api
