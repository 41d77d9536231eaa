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
  plugin::UnaryHandler handler;  // empty: UNIMPLEMENTED
  std::string owner;             // plugin serving it
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

  // Interceptors in chain order (outermost first); the middleware, if any, goes innermost.
  void SetChain(std::vector<std::shared_ptr<plugin::UnaryInterceptor>> chain);

  // By gRPC path "/pkg.Svc/Method"; null when unknown.
  const MethodEntry* Find(std::string_view grpc_path) const;
  const MethodEntry* FindByDescriptor(const google::protobuf::MethodDescriptor& method) const;

  // Runs the chain and the handler. Never throws: an exception that escapes every interceptor
  // becomes INTERNAL.
  plugin::Status Invoke(const MethodEntry& entry, plugin::CallContext& call,
                        const google::protobuf::Message& request,
                        google::protobuf::Message& response) const;

  std::vector<const google::protobuf::ServiceDescriptor*> Services() const;
  const std::map<std::string, MethodEntry, std::less<>>& methods() const { return methods_; }

 private:
  plugin::StatusOr<MethodEntry*> Declare(std::string_view full_method);
  std::shared_ptr<spdlog::logger> logger_;
  std::map<std::string, MethodEntry, std::less<>> methods_;
  std::vector<std::shared_ptr<plugin::UnaryInterceptor>> chain_;
  std::string owner_for_add_ = "";
};

// Status <-> wire: details become a google.rpc.Status in grpc-status-details-bin.
std::string StatusDetailsToRpcStatusBytes(const plugin::Status& status);

}  // namespace flyte::core
