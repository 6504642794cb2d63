// The last N log records of the process, kept in memory for the looking
// glass (`logs`, and the summary's warnings_and_errors).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/sink.h>

namespace bagpipe::api {

// LogRing — an spdlog ring-buffer sink (spdlog/sinks/ringbuffer_sink.h) of
// `capacity` records; add sink() to the daemon's logger. Records() lists
// them newest first as the original's /logs: {level: "INFO" | "WARNING" |
// ..., time: "YYYY-mm-dd HH:MM:SS" (local time), name: logger, message}.
//
// Thread-safe (the _mt sink): spdlog may log from any thread.
class LogRing {
public:
    explicit LogRing(size_t capacity = 1000);

    std::shared_ptr<spdlog::sinks::sink> sink() const;
    std::vector<nlohmann::ordered_json> Records() const;
    // Stored records at WARNING or above.
    size_t WarningsAndErrors() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace bagpipe::api
