// Registration of the task manager.
#include "flyte/plugin/plugin.h"
#include "task.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::RegistrationSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(flyte::plugin::plugin_id::kTaskManager,
                       std::make_shared<flyte::plugins::manager::TaskManagerImpl>(host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_task", "0.1.0", "Tasks: CreateTask, GetTask, ListTasks, ListTaskIds", Register)
