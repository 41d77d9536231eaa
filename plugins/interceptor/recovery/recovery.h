// Recovery interceptor: an exception escaping a handler becomes INTERNAL; the server goes on.
#pragma once

#include <memory>
#include <string>

#include "flyte/plugin/unary.h"

namespace prometheus {
class Counter;
}
namespace spdlog {
class logger;
}

namespace flyte::plugins {

class RecoveryInterceptor final : public plugin::UnaryInterceptor {
 public:
  // `panics` counts recovered calls (upstream's handler_panic); may be null.
  RecoveryInterceptor(std::shared_ptr<spdlog::logger> logger, prometheus::Counter* panics);

  int Order() const override { return kRecoveryOrder; }
  plugin::Status Intercept(plugin::CallContext& call, const google::protobuf::Message& request,
                           google::protobuf::Message& response, const plugin::UnaryNext& next) override;
  bool SupportsAsync() const override { return true; }
  void InterceptAsync(plugin::CallContext& call, const google::protobuf::Message& request,
                      google::protobuf::Message& response, const plugin::UnaryNextAsync& next,
                      plugin::UnaryCallback done) override;

 private:
  // Counts and logs a recovered failure and gives the call's answer.
  plugin::Status Recover(plugin::CallContext& call, google::protobuf::Message& response,
                         const std::string& what);

  std::shared_ptr<spdlog::logger> logger_;
  prometheus::Counter* panics_;
};

}  // namespace flyte::plugins
