// Registration of the local data proxy: the DataProxy slot and its object route.
#include <spdlog/spdlog.h>

#include "data_proxy.h"
#include "flyte/plugin/plugin.h"

namespace {

namespace dp = flyte::plugins::dataproxy;
using flyte::plugin::HostContext;

flyte::plugin::Status Register(HostContext& host) {
  bool generated = !host.PluginConfig().contains("signingKey");
  auto settings = dp::DataProxySettings::FromConfig(host.RootConfig(), host.PluginConfig());
  if (!settings.ok()) return settings.status();
  if (generated) {
    host.Logger()->info(
        "data proxy: no signingKey configured, signing with a key generated at start "
        "(URLs stop working at restart)");
  }
  host.Logger()->info("data proxy: signed URLs point at {}{}", settings->public_base_url,
                      dp::kObjectRoutePrefix);
  // The store is resolved when first used: every plugin (and core's default) has registered by
  // then.
  HostContext* h = &host;
  dp::StoreResolver store = [h]() -> flyte::plugin::StatusOr<flyte::plugin::ObjectStore*> {
    auto s = h->Plugins().Get<flyte::plugin::ObjectStore>(flyte::plugin::plugin_id::kStorage);
    if (!s) return flyte::plugin::Unavailable("no Storage plugin is registered");
    return s.get();
  };
  auto space =
      std::make_shared<const dp::ObjectSpace>(std::move(settings.value()), std::move(store));
  // GetData and download links read node and task executions through their managers, looked up
  // when a request needs them.
  dp::ExecutionManagers managers{
      [h] { return h->Plugins().Get<flyte::plugin::NodeExecutionManager>(flyte::plugin::plugin_id::kNodeExecutionManager); },
      [h] { return h->Plugins().Get<flyte::plugin::TaskExecutionManager>(flyte::plugin::plugin_id::kTaskExecutionManager); }};
  if (auto s = host.Register(flyte::plugin::plugin_id::kDataProxy,
                             std::make_shared<dp::LocalDataProxy>(space, std::move(managers)));
      !s.ok()) {
    return s;
  }
  return host.Add(flyte::plugin::plugin_id::kHttpHandler, "dataproxy-objects",
                  std::make_shared<dp::ObjectRoute>(space));
}

}  // namespace

FLYTE_PLUGIN("flyte_dataproxy_local", "0.1.0",
             "DataProxyService on the host's object store: signed upload/download URLs served on "
             "the HTTP port",
             Register)
