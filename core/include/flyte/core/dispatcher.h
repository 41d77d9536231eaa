// The method table and interceptor chain behind both the gRPC server and the REST gateway.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "flyte/plugin/unary.h"

namespace spdlog {
class logger;
}

namespace flyte::core {

struct MethodEntry {
  std::string grpc_path;  // "/flyteidl.service.AdminService/GetVersion"
  const google::protobuf::MethodDescriptor* descriptor = nullptr;
  const google::protobuf::Message* request_prototype = nullptr;
  const google::protobuf::Message* response_prototype = nullptr;
  // At most one of the two is set; neither: UNIMPLEMENTED.
  plugin::UnaryHandler handler;
  plugin::AsyncUnaryHandler async_handler;
  std::string owner;  // plugin serving it
};

class Dispatcher : public plugin::ServiceRegistrar {
 public:
  explicit Dispatcher(std::shared_ptr<spdlog::logger> logger);

  // Declares every method of a service (by full name) so that it answers UNIMPLEMENTED until a
  // handler is added, and appears in the REST router.
  plugin::Status DeclareService(std::string_view service_full_name);

  // "package.Service/Method" (a leading '/' is accepted).
  plugin::Status AddUnary(std::string_view full_method, plugin::UnaryHandler handler) override;
  plugin::Status AddUnaryFor(std::string_view full_method, plugin::UnaryHandler handler,
                             std::string owner);
  plugin::Status AddAsyncUnary(std::string_view full_method,
                               plugin::AsyncUnaryHandler handler) override;
  plugin::Status AddAsyncUnaryFor(std::string_view full_method, plugin::AsyncUnaryHandler handler,
                                  std::string owner);

  // Interceptors in chain order (outermost first); the middleware, if any, goes innermost.
  void SetChain(std::vector<std::shared_ptr<plugin::UnaryInterceptor>> chain);
  // Whether every link of the chain has its own InterceptAsync (SupportsAsync), so that
  // InvokeAsync holds no thread while an asynchronous handler works. True for an empty chain.
  bool ChainIsAsync() const { return chain_is_async_; }

  // By gRPC path "/pkg.Svc/Method"; null when unknown.
  const MethodEntry* Find(std::string_view grpc_path) const;
  const MethodEntry* FindByDescriptor(const google::protobuf::MethodDescriptor& method) const;

  // Runs the chain and the handler. Never throws: an exception that escapes every interceptor
  // becomes INTERNAL. For an entry with an asynchronous handler it runs InvokeAsync and waits.
  plugin::Status Invoke(const MethodEntry& entry, plugin::CallContext& call,
                        const google::protobuf::Message& request,
                        google::protobuf::Message& response) const;

  // Runs the chain through each link's InterceptAsync, then the handler (a synchronous one is
  // called and answers at once), and answers through `done`, exactly once, on whichever thread
  // completes the call (possibly this one, before returning). `call`, `request` and `response`
  // must stay valid until `done` has been called. Never throws: an exception escaping the chain
  // while it starts, or escaping an interceptor's completion work, answers INTERNAL (logged) if
  // the call has not been answered yet, and is only logged otherwise; further answers (a link
  // breaking the exactly-once contract) are dropped and logged. `done` must not throw (what it
  // throws is logged and dropped, so the thread completing the call survives).
  void InvokeAsync(const MethodEntry& entry, plugin::CallContext& call,
                   const google::protobuf::Message& request, google::protobuf::Message& response,
                   plugin::UnaryCallback done) const;

  std::vector<const google::protobuf::ServiceDescriptor*> Services() const;
  const std::map<std::string, MethodEntry, std::less<>>& methods() const { return methods_; }

 private:
  plugin::StatusOr<MethodEntry*> Declare(std::string_view full_method);
  plugin::StatusOr<MethodEntry*> DeclareServable(std::string_view full_method);
  std::shared_ptr<spdlog::logger> logger_;
  std::map<std::string, MethodEntry, std::less<>> methods_;
  std::vector<std::shared_ptr<plugin::UnaryInterceptor>> chain_;
  bool chain_is_async_ = true;
  std::string owner_for_add_ = "";
};

// Status <-> wire: details become a google.rpc.Status in grpc-status-details-bin.
std::string StatusDetailsToRpcStatusBytes(const plugin::Status& status);

// A handler's error as it goes on the wire, over gRPC and through the REST gateway alike: the
// message bounded as upstream bounds it (common.MaxResponseStatusBytes, so that the status fits
// a client's header list limit) and, like upstream's cut error, without details once cut.
constexpr size_t kMaxStatusMessageBytes = 32000;
plugin::Status BoundedForWire(const plugin::Status& status);

}  // namespace flyte::core
