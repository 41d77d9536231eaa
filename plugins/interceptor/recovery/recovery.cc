// Turns exceptions thrown by handlers into INTERNAL, logging what was thrown.
#include "recovery.h"

#include <exception>

#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

namespace flyte::plugins {

RecoveryInterceptor::RecoveryInterceptor(std::shared_ptr<spdlog::logger> logger,
                                         prometheus::Counter* panics)
    : logger_(std::move(logger)), panics_(panics) {}

plugin::Status RecoveryInterceptor::Intercept(plugin::CallContext& call,
                                              const google::protobuf::Message& request,
                                              google::protobuf::Message& response,
                                              const plugin::UnaryNext& next) {
  std::string what;
  try {
    return next(call, request, response);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "a non-standard exception";
  }
  if (panics_) panics_->Increment();
  logger_->error("recovered from a failure in {}: {}", call.full_method(), what);
  // As upstream: INTERNAL with no message, so nothing of the failure leaks to the client.
  response.Clear();
  return plugin::Status(plugin::StatusCode::kInternal, "");
}

}  // namespace flyte::plugins
