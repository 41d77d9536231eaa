// Registration of the project manager.
#include "flyte/plugin/plugin.h"
#include "project.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::RegistrationSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(flyte::plugin::plugin_id::kProjectManager,
                       std::make_shared<flyte::plugins::manager::ProjectManagerImpl>(host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_project", "0.1.0",
             "Projects and domains: RegisterProject, UpdateProject, GetProject, ListProjects, GetDomains",
             Register)
