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

// Receives the status of an asynchronous call, exactly once, on any thread; `response` (of the
// handler's call) is complete when the status is OK.
using UnaryCallback = std::function<void(Status status)>;

// As UnaryHandler, but answers through `done` instead of returning: it may return before the
// call is complete and call `done` later from another thread (a handler that waits for a shared
// database commit does not hold a thread while it waits). `done` is called exactly once.
// `call`, `request` and `response` stay valid until `done` has been called or the handler has
// returned, whichever is later; nothing touches them after calling `done`. `done` runs the
// interceptors' completion work and hands the answer to the transport (serialising the
// response) on the calling thread; it does not block.
// A handler that throws must not call `done` afterwards: the host answers INTERNAL for it. If it
// had already called `done`, that answer stands and the exception is only logged.
using AsyncUnaryHandler = std::function<void(CallContext& call, const google::protobuf::Message& request,
                                             google::protobuf::Message& response, UnaryCallback done)>;

// The rest of the chain after an interceptor: the next interceptor, finally the handler.
class FLYTE_PLUGIN_API_EXPORT UnaryNext {
 public:
  virtual ~UnaryNext();
  virtual Status operator()(CallContext& call, const google::protobuf::Message& request,
                            google::protobuf::Message& response) const = 0;
};

// The rest of the chain after an interceptor, for a method served by an AsyncUnaryHandler.
class FLYTE_PLUGIN_API_EXPORT UnaryNextAsync {
 public:
  virtual ~UnaryNextAsync();
  virtual void operator()(CallContext& call, const google::protobuf::Message& request,
                          google::protobuf::Message& response, UnaryCallback done) const = 0;
};

// One link of the server's interceptor chain (PluginID kInterceptor, or the single
// kUnaryServiceMiddleware slot, which the host always places innermost).
// Thread-safe: Intercept and InterceptAsync run concurrently for concurrent calls.
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

  // The same link for methods served by an AsyncUnaryHandler: calls `next` before returning
  // (`next` is not valid afterwards) with a callback that finishes the interceptor's work and
  // then calls `done`, or calls `done` itself to short-circuit. The callback may run on another
  // thread, before or after InterceptAsync returns, and calls `done` exactly once, last: `call`,
  // `request` and `response` stay valid until `done` has been called or InterceptAsync has
  // returned, whichever is later, and no longer.
  // An exception escaping InterceptAsync (its own or the rest of the chain's) is treated as one
  // escaping Intercept: an outer link or the host answers INTERNAL, unless the call was already
  // answered through `done`, in which case it is only logged. A link never calls `done` after
  // letting an exception escape.
  // The default runs Intercept around the rest of the chain and waits for it, which is right for
  // any interceptor but holds a thread for the whole call: an interceptor that overrides this
  // also returns true from SupportsAsync, and the server then runs such methods without a
  // waiting thread when every link of the chain does.
  virtual bool SupportsAsync() const { return false; }
  virtual void InterceptAsync(CallContext& call, const google::protobuf::Message& request,
                              google::protobuf::Message& response, const UnaryNextAsync& next,
                              UnaryCallback done);
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
  // As AddUnary, for a handler that answers through a callback. A method has one handler, of
  // either kind: ALREADY_EXISTS if it is already served by either. Callers that need the answer
  // synchronously (the REST gateway) wait for `done`.
  virtual Status AddAsyncUnary(std::string_view full_method, AsyncUnaryHandler handler) = 0;
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
