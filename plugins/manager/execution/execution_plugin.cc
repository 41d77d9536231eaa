// Registration of the execution manager.
#include "execution.h"
#include "flyte/plugin/plugin.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::ExecutionSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(flyte::plugin::plugin_id::kExecutionManager,
                       std::make_shared<flyte::plugins::manager::ExecutionManagerImpl>(host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_execution", "0.1.0",
             "Executions: Create/Relaunch/Recover/Get/List/Update/Terminate, GetExecutionData, workflow events",
             Register)
