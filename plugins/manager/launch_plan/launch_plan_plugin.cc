// Registration of the launch plan manager.
#include "flyte/plugin/plugin.h"
#include "launch_plan.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  auto settings = flyte::plugins::manager::RegistrationSettings::FromConfig(host.RootConfig());
  if (!settings.ok()) return settings.status();
  // scheduler.eventScheduler.scheme, "local" by default as upstream.
  std::string scheme = "local";
  const auto& root = host.RootConfig();
  if (auto s = root.find("scheduler"); s != root.end() && s->is_object()) {
    if (auto e = s->find("eventScheduler"); e != s->end() && e->is_object()) {
      if (auto k = e->find("scheme"); k != e->end() && !k->is_null()) {
        if (!k->is_string()) {
          return flyte::plugin::InvalidArgument("scheduler.eventScheduler.scheme: expected a string, got " + k->dump());
        }
        scheme = k->get<std::string>();
      }
    }
  }
  return host.Register(flyte::plugin::plugin_id::kLaunchPlanManager,
                       std::make_shared<flyte::plugins::manager::LaunchPlanManagerImpl>(
                           host, std::move(settings.value()), scheme == "local"));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_launch_plan", "0.1.0",
             "Launch plans: Create, Get, Update (activation), GetActive, List, ListActive, ListIds", Register)
