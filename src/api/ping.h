// GET /ping: a JSON integer fixed for the life of the process, which clients
// (the Neutron agent) compare between polls to detect a restart. The original
// answers every method the same way; so does this.
#pragma once

#include <cstdint>

#include "api/http_types.h"

namespace bagpipe::api {

// Random, drawn once per process, below 2^53 (exact in every JSON parser).
uint64_t ProcessPingValue();

// Registers /ping (any method) answering ProcessPingValue(), and GET / → {}
// (the original's root).
void RegisterPing(Router& router);

}  // namespace bagpipe::api
