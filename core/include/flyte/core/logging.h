// Logging set-up from the `logger` section: text or JSON lines, each carrying the request id.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

namespace flyte::core {

// Builds the process logger (stderr) from the `logger` config section. Each line carries the
// request id of the call running on the logging thread ("-" outside calls).
std::shared_ptr<spdlog::logger> MakeLogger(const nlohmann::json& logger_section,
                                           const std::string& name = "flyteadmin");

// A logger for one plugin: same sinks and format as `base`, named after the plugin.
std::shared_ptr<spdlog::logger> ChildLogger(const std::shared_ptr<spdlog::logger>& base,
                                            const std::string& name);

}  // namespace flyte::core
