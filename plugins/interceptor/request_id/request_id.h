// Request-id interceptor: every call gets an x-request-id (the caller's, or a fresh one), echoed
// back to the caller and carried by every log line written during the call.
#pragma once

#include <string>

#include "flyte/plugin/unary.h"

namespace flyte::plugins {

inline constexpr const char* kRequestIdKey = "x-request-id";

// "a-" followed by 20 random lower-case letters and digits, as upstream generates them.
std::string GenerateRequestId();

class RequestIdInterceptor final : public plugin::UnaryInterceptor {
 public:
  int Order() const override { return kRequestIdOrder; }
  plugin::Status Intercept(plugin::CallContext& call, const google::protobuf::Message& request,
                           google::protobuf::Message& response, const plugin::UnaryNext& next) override;
  bool SupportsAsync() const override { return true; }
  void InterceptAsync(plugin::CallContext& call, const google::protobuf::Message& request,
                      google::protobuf::Message& response, const plugin::UnaryNextAsync& next,
                      plugin::UnaryCallback done) override;
};

}  // namespace flyte::plugins
