// The plugin host: loads plugin .so files listed in config with Boost.DLL, checks their API
// version and build fingerprint, runs their registration, and keeps them loaded for good.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "flyte/core/config.h"
#include "flyte/plugin/host_context.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace prometheus {
class Registry;
}
namespace spdlog {
class logger;
}

namespace flyte::core {

struct PluginSpec {
  std::string config_key;  // "pluginHost.load[2]", for error messages
  std::string name;        // as written in config (may be empty when path is given)
  std::string path;        // resolved file path
  nlohmann::json config = nlohmann::json::object();
};

struct LoadedPlugin {
  std::string config_key;
  std::string name;  // as the plugin declares it
  std::string version;
  std::string description;
  std::string path;
};

// The host's own fingerprint, compared with each plugin's.
const char* HostBuildFingerprint();

// <directory of the running executable>/../lib/flyteadmin/plugins.
std::string DefaultPluginDirectory();

class PluginHost {
 public:
  PluginHost(const Config& config, std::shared_ptr<spdlog::logger> logger,
             std::shared_ptr<prometheus::Registry> metrics, plugin::BuildInfo build);
  ~PluginHost();
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // pluginHost.load resolved against pluginHost.directory. Fails on an entry with neither name
  // nor path.
  plugin::StatusOr<std::vector<PluginSpec>> SpecsFromConfig() const;

  // Loads and registers one plugin. On failure returns one line: config key, path, reason.
  plugin::Status Load(const PluginSpec& spec);
  // Loads every spec in order; stops at the first failure.
  plugin::Status LoadAll(const std::vector<PluginSpec>& specs);

  plugin::Registry& registry() { return registry_; }
  const std::vector<LoadedPlugin>& loaded() const { return loaded_; }
  const Config& config() const { return config_; }
  std::shared_ptr<spdlog::logger> logger() const { return logger_; }
  std::shared_ptr<prometheus::Registry> metrics() const { return metrics_; }
  // Metrics read when /metrics is served, beside the registry's (core's database counters).
  // Added while the host is set up, before anything serves.
  void AddMetricsSource(std::shared_ptr<prometheus::Collectable> source);
  // What /metrics serves: the registry's families, then each source's.
  std::vector<prometheus::MetricFamily> CollectMetrics() const;
  const plugin::BuildInfo& build() const { return build_; }

  // Tells the plugins with a plugin::Lifecycle that the server serves (its ports are bound).
  void Serving();
  // Stops the plugins with a plugin::Lifecycle, then releases every plugin object, newest
  // first; libraries stay loaded (STYLE.md, rule 4).
  void Shutdown();

 private:
  class Context;
  const Config& config_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<prometheus::Registry> metrics_;
  std::vector<std::shared_ptr<prometheus::Collectable>> metric_sources_;
  plugin::BuildInfo build_;
  plugin::Registry registry_;
  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<LoadedPlugin> loaded_;
};

}  // namespace flyte::core
