// Registration of the metrics interceptor.
#include "flyte/plugin/plugin.h"
#include "metrics.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  bool histogram = host.RootConfig().value("/server/grpc/enableGrpcLatencyMetrics"_json_pointer, true);
  return host.Add(flyte::plugin::plugin_id::kInterceptor, "metrics",
                  std::make_shared<flyte::plugins::MetricsInterceptor>(host.Metrics(), histogram));
}

}  // namespace

FLYTE_PLUGIN("flyte_interceptor_metrics", "0.1.0",
             "Prometheus metrics per RPC: calls by code and a latency histogram", Register)
