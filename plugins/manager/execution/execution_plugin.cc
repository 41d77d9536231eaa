// Registration of the execution manager.
#include <spdlog/spdlog.h>

#include "execution.h"
#include "flyte/manager/k8s_validation.h"
#include "flyte/plugin/plugin.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::ExecutionSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  // An invalid prefix makes every launch skip the identity annotations (as upstream, which warns
  // at each launch): say so once, when the operator can still fix the config.
  const auto& app = settings.value().app;
  if (app.inject_identity_annotations) {
    const auto errors = flyte::plugins::manager::IsDNS1123Subdomain(app.identity_annotation_prefix);
    if (!errors.empty()) {
      if (auto log = host.Logger()) {
        log->warn("flyteadmin.identityAnnotationPrefix '{}' is not a DNS-1123 subdomain ({}): no "
                  "execution gets identity annotations",
                  app.identity_annotation_prefix, errors.front());
      }
    }
  }
  return host.Register(flyte::plugin::plugin_id::kExecutionManager,
                       std::make_shared<flyte::plugins::manager::ExecutionManagerImpl>(host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_execution", "0.1.0",
             "Executions: Create/Relaunch/Recover/Get/List/Update/Terminate, GetExecutionData, workflow events",
             Register)
