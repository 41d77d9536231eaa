// Registration of the request-id interceptor.
#include "flyte/plugin/plugin.h"
#include "request_id.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  return host.Add(flyte::plugin::plugin_id::kInterceptor, "request_id",
                  std::make_shared<flyte::plugins::RequestIdInterceptor>());
}

}  // namespace

FLYTE_PLUGIN("flyte_interceptor_request_id", "0.1.0",
             "Request ids: x-request-id taken or generated, echoed back and put in every log line",
             Register)
