// Registration of the metrics manager.
#include "flyte/plugin/plugin.h"
#include "metrics.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::RemoteDataSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(flyte::plugin::plugin_id::kMetricsManager,
                       std::make_shared<flyte::plugins::manager::MetricsManagerImpl>(
                           host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_metrics", "0.1.0",
             "Execution metrics: GetExecutionMetrics (the console's timeline spans)", Register)
