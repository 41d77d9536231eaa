// Unary handlers and interceptors: the one calling convention for gRPC and the REST gateway.
#pragma once

#include <functional>
#include <string_view>

#include <google/protobuf/message.h>

#include "flyte/plugin/call_context.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin {

// Fills `response` from `request`. `response` is a fresh message of the method's output type.
// Returns OK, or the error the caller sees. May be called from many threads at once.
using UnaryHandler = std::function<Status(CallContext& call, const google::protobuf::Message& request,
                                          google::protobuf::Message& response)>;

// The rest of the chain after an interceptor: the next interceptor, finally the handler.
class FLYTE_PLUGIN_API_EXPORT UnaryNext {
 public:
  virtual ~UnaryNext();
  virtual Status operator()(CallContext& call, const google::protobuf::Message& request,
                            google::protobuf::Message& response) const = 0;
};

// One link of the server's interceptor chain (PluginID kInterceptor, or the single
// kUnaryServiceMiddleware slot, which the host always places innermost).
// Thread-safe: Intercept runs concurrently for concurrent calls.
class FLYTE_PLUGIN_API_EXPORT UnaryInterceptor : public PluginBase {
 public:
  ~UnaryInterceptor() override;

  // Position in the chain, outermost first. Upstream's order, as constants.
  static constexpr int kRecoveryOrder = 100;
  static constexpr int kRequestIdOrder = 200;
  static constexpr int kMetricsOrder = 300;
  static constexpr int kAuthenticationOrder = 400;
  virtual int Order() const = 0;

  // Calls `next` (or not, to short-circuit) and returns the call's status.
  virtual Status Intercept(CallContext& call, const google::protobuf::Message& request,
                           google::protobuf::Message& response, const UnaryNext& next) = 0;
};

// Where a plugin adds unary methods. Methods are named "package.Service/Method" and must be in
// protobuf's generated descriptor pool (flyteidl, or the plugin's own compiled .proto).
// Every method added here runs behind the interceptor chain and is reachable through the REST
// gateway when its descriptor carries google.api.http bindings.
class FLYTE_PLUGIN_API_EXPORT ServiceRegistrar {
 public:
  virtual ~ServiceRegistrar();
  // INVALID_ARGUMENT if the method is unknown to the descriptor pool; ALREADY_EXISTS if another
  // plugin serves it.
  virtual Status AddUnary(std::string_view full_method, UnaryHandler handler) = 0;
};

// PluginID kAdditionalGrpcService: extra gRPC services on the admin server (upstream's
// `func(ctx, *grpc.Server) error`). Register is called once at start-up, before serving;
// an error aborts start-up.
class FLYTE_PLUGIN_API_EXPORT AdditionalGrpcService : public PluginBase {
 public:
  ~AdditionalGrpcService() override;
  virtual Status Register(ServiceRegistrar& registrar) = 0;
};

}  // namespace flyte::plugin
