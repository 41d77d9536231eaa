// What the host hands each plugin: its config section, logger, metrics and the core services.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "flyte/plugin/export.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace spdlog {
class logger;
}
namespace prometheus {
class Registry;
}

namespace flyte::plugin {

struct BuildInfo {
  std::string version;     // semver of the distribution
  std::string commit;      // git sha it was built from
  std::string build_time;  // RFC 3339
};

// Valid for the whole life of the process. Plugins keep what they need (shared_ptrs, references)
// and must not reach for process globals instead (spdlog::get may see another registry).
class FLYTE_PLUGIN_API_EXPORT HostContext {
 public:
  virtual ~HostContext();

  // The plugin's own section: the `config` of its entry in `plugins.load`, or an empty object.
  virtual const nlohmann::json& PluginConfig() const = 0;
  // The whole merged configuration, for upstream's keys (server.*, database.*, flyteadmin.*).
  virtual const nlohmann::json& RootConfig() const = 0;
  // The plugin's name as it declared it (FLYTE_PLUGIN).
  virtual const std::string& PluginName() const = 0;

  virtual std::shared_ptr<spdlog::logger> Logger() const = 0;
  virtual prometheus::Registry& Metrics() const = 0;
  virtual const BuildInfo& Build() const = 0;

  // Registration goes through these so the registry records which plugin registered what.
  virtual Status Register(PluginId id, std::shared_ptr<PluginBase> impl) = 0;
  virtual void RegisterDefault(PluginId id, std::shared_ptr<PluginBase> impl) = 0;
  virtual Status Add(PluginId id, std::string_view name, std::shared_ptr<PluginBase> impl) = 0;

  // Everything registered so far; complete once start-up has loaded every plugin, so resolve
  // other plugins when serving, not while registering.
  virtual const Registry& Plugins() const = 0;
};

}  // namespace flyte::plugin
