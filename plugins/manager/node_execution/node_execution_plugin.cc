// Registration of the node execution manager.
#include "flyte/plugin/plugin.h"
#include "node_execution.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::RemoteDataSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(flyte::plugin::plugin_id::kNodeExecutionManager,
                       std::make_shared<flyte::plugins::manager::NodeExecutionManagerImpl>(
                           host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_node_execution", "0.1.0",
             "Node executions: CreateNodeEvent, Get/List/ListForTask, GetNodeExecutionData, GetDynamicNodeWorkflow",
             Register)
