// Registration of the Kubernetes WorkflowExecutor.
#include "flyte/manager/attributes.h"
#include "flyte/manager/support.h"
#include "flyte/plugin/plugin.h"
#include "k8s_executor.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto config = flyte::plugins::executor::ParseK8sExecutorConfig(host.PluginConfig(),
                                                                 host.RootConfig());
  if (!config.ok()) return config.status();
  // The database is resolved on first use: every plugin has registered by then.
  auto services = std::make_shared<flyte::plugins::manager::Services>(host);
  auto lookup = [services](const std::string& project, const std::string& domain,
                           const std::string& workflow,
                           const std::string& launch_plan) -> flyte::plugin::StatusOr<std::string> {
    auto db = services->Db();
    if (!db.ok()) return db.status();
    auto found = flyte::plugins::manager::GetResource(
        db.value()->Resources(),
        {project, domain, workflow, launch_plan, flyteidl::admin::EXECUTION_CLUSTER_LABEL});
    if (!found.ok()) {
      if (found.status().code() == flyte::plugin::StatusCode::kNotFound) return std::string();
      return found.status();
    }
    return found->attributes.has_execution_cluster_label()
               ? found->attributes.execution_cluster_label().value()
               : std::string();
  };
  return host.Register(flyte::plugin::plugin_id::kWorkflowExecutor,
                       std::make_shared<flyte::plugins::executor::K8sWorkflowExecutor>(
                           std::move(config.value()), std::move(lookup)));
}

}  // namespace

FLYTE_PLUGIN("flyte_executor_k8s", "0.1.0",
             "WorkflowExecutor creating FlyteWorkflow resources on Kubernetes", Register)
