// Registration of the Kubernetes WorkflowExecutor.
#include "flyte/plugin/plugin.h"
#include "k8s_executor.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto config = flyte::plugins::executor::ParseK8sExecutorConfig(host.PluginConfig(),
                                                                 host.RootConfig());
  if (!config.ok()) return config.status();
  return host.Register(
      flyte::plugin::plugin_id::kWorkflowExecutor,
      std::make_shared<flyte::plugins::executor::K8sWorkflowExecutor>(std::move(config.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_executor_k8s", "0.1.0",
             "WorkflowExecutor creating FlyteWorkflow resources on Kubernetes", Register)
