// Registration of the local WorkflowExecutor.
#include "flyte/plugin/plugin.h"
#include "local_executor.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::executor::LocalExecutorSettings::FromConfig(host.PluginConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(
      flyte::plugin::plugin_id::kWorkflowExecutor,
      std::make_shared<flyte::plugins::executor::LocalExecutor>(host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN(
    "flyte_executor_local", "0.1.0",
    "Runs executions on this machine as flytepropeller would, reporting through its events",
    Register)
