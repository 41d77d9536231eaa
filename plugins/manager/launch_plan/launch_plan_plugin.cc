// Registration of the launch plan manager.
#include "flyte/plugin/plugin.h"
#include "launch_plan.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::RegistrationSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  return host.Register(flyte::plugin::plugin_id::kLaunchPlanManager,
                       std::make_shared<flyte::plugins::manager::LaunchPlanManagerImpl>(host, std::move(settings.value())));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_launch_plan", "0.1.0",
             "Launch plans: Create, Get, Update (activation), GetActive, List, ListActive, ListIds", Register)
