#include "api/log_ring.h"

#include <spdlog/sinks/ringbuffer_sink.h>

#include <chrono>
#include <ctime>
#include <string>

namespace bagpipe::api {

namespace {

const char* LevelName(spdlog::level::level_enum l) {
    switch (l) {
        case spdlog::level::trace: return "TRACE";
        case spdlog::level::debug: return "DEBUG";
        case spdlog::level::info: return "INFO";
        case spdlog::level::warn: return "WARNING";
        case spdlog::level::err: return "ERROR";
        case spdlog::level::critical: return "CRITICAL";
        default: return "NOTSET";
    }
}

std::string TimeString(spdlog::log_clock::time_point t) {
    const std::time_t tt = spdlog::log_clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

}  // namespace

struct LogRing::Impl {
    explicit Impl(size_t n) : sink(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(n)) {}
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink;
};

LogRing::LogRing(size_t capacity) : impl_(std::make_shared<Impl>(capacity)) {}

std::shared_ptr<spdlog::sinks::sink> LogRing::sink() const { return impl_->sink; }

std::vector<nlohmann::ordered_json> LogRing::Records() const {
    auto raw = impl_->sink->last_raw();
    std::vector<nlohmann::ordered_json> out;
    out.reserve(raw.size());
    for (auto it = raw.rbegin(); it != raw.rend(); ++it) {
        out.push_back(nlohmann::ordered_json{
            {"level", LevelName(it->level)},
            {"time", TimeString(it->time)},
            {"name", std::string(it->logger_name.data(), it->logger_name.size())},
            {"message", std::string(it->payload.data(), it->payload.size())},
        });
    }
    return out;
}

size_t LogRing::WarningsAndErrors() const {
    size_t n = 0;
    for (const auto& r : impl_->sink->last_raw())
        if (r.level >= spdlog::level::warn && r.level != spdlog::level::off) ++n;
    return n;
}

}  // namespace bagpipe::api
