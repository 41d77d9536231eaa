// Registration of the resource (matchable attributes) manager.
#include "flyte/plugin/plugin.h"
#include "resource.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::ResourceSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(flyte::plugin::plugin_id::kResourceManager,
                       std::make_shared<flyte::plugins::manager::ResourceManagerImpl>(
                           host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_resource", "0.1.0",
             "Matchable attributes: project, project-domain and workflow attributes, "
             "ListMatchableAttributes",
             Register)
