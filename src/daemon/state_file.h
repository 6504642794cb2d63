// The daemon's state as JSON (peers, RIB sizes and, for small tables, the
// routes), written atomically to a file (--state-file) for tests and scripts
// until the looking glass serves the same data over HTTP.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bgp/speaker/speaker.h"

namespace bagpipe::daemon {

// At most this many routes are listed under "routes".
inline constexpr size_t kStateFileMaxRoutes = 10000;

nlohmann::json SpeakerStateJson(const bgp::BgpSpeaker& speaker, size_t max_routes);

// Writes `text` to `path` through a temporary file and rename(2), so a
// reader never sees a partial file. False (with errno set) on failure.
bool WriteFileAtomically(const std::string& path, const std::string& text);

}  // namespace bagpipe::daemon
