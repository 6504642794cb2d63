// JSON rendering of the resolved configuration, for the looking glass
// `config` path and `bagpipe-bgp --check-config`. Passwords are masked.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace bagpipe::config {

nlohmann::json ConfigToJson(const DaemonConfig& config);

// ConfigToJson, pretty-printed with 2-space indent.
std::string DescribeConfig(const DaemonConfig& config);

}  // namespace bagpipe::config
