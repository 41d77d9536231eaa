// Registration of the workflow manager.
#include "flyte/plugin/plugin.h"
#include "workflow.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::RegistrationSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  auto data = flyte::plugins::manager::RemoteDataSettings::FromConfig(host.RootConfig());
  if (!data.ok()) return data.status();
  return host.Register(flyte::plugin::plugin_id::kWorkflowManager,
                       std::make_shared<flyte::plugins::manager::WorkflowManagerImpl>(
                           host, std::move(settings.value()), std::move(data.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_workflow", "0.1.0",
             "Workflows: CreateWorkflow, GetWorkflow, ListWorkflows, ListWorkflowIds", Register)
