// Registration of the task execution manager.
#include "flyte/plugin/plugin.h"
#include "task_execution.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::RemoteDataSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(flyte::plugin::plugin_id::kTaskExecutionManager,
                       std::make_shared<flyte::plugins::manager::TaskExecutionManagerImpl>(
                           host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN(
    "flyte_manager_task_execution", "0.1.0",
    "Task executions: CreateTaskEvent, GetTaskExecution, ListTaskExecutions, GetTaskExecutionData",
    Register)
