// Registration of the recovery interceptor.
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "flyte/plugin/plugin.h"
#include "recovery.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  std::string scope = host.RootConfig().value("/flyteadmin/metricsScope"_json_pointer, std::string("flyte:"));
  auto& family = prometheus::BuildCounter()
                     .Name(scope + "admin:handler_panic")
                     .Help("Calls whose handler threw and were answered INTERNAL")
                     .Register(host.Metrics());
  auto impl = std::make_shared<flyte::plugins::RecoveryInterceptor>(host.Logger(), &family.Add({}));
  return host.Add(flyte::plugin::plugin_id::kInterceptor, "recovery", impl);
}

}  // namespace

FLYTE_PLUGIN("flyte_interceptor_recovery", "0.1.0",
             "Recovery: a handler's exception becomes INTERNAL and the server keeps serving",
             Register)
