// Out-of-line destructors: each plugin interface's vtable and type info live here, once; the
// default (waiting) asynchronous form of an interceptor; and the object store's default file write.
#include <fstream>
#include <memory>
#include <sstream>

#include "flyte/plugin/compiler.h"
#include "flyte/plugin/data_proxy.h"
#include "flyte/plugin/host_context.h"
#include "flyte/plugin/http_handler.h"
#include "flyte/plugin/http_hooks.h"
#include "flyte/plugin/managers.h"
#include "flyte/plugin/repositories.h"
#include "flyte/plugin/signal.h"
#include "flyte/plugin/storage.h"
#include "flyte/plugin/unary.h"
#include "flyte/plugin/workflow_executor.h"

namespace flyte::plugin {

UnaryNext::~UnaryNext() = default;
UnaryNextAsync::~UnaryNextAsync() = default;
UnaryInterceptor::~UnaryInterceptor() = default;

namespace {

// The asynchronous rest of the chain seen as a synchronous UnaryNext: starts it and waits for its
// callback.
class WaitingNext final : public UnaryNext {
 public:
  explicit WaitingNext(const UnaryNextAsync& next) : next_(next) {}

  Status operator()(CallContext& call, const google::protobuf::Message& request,
                    google::protobuf::Message& response) const override {
    return AwaitStatus([&](UnaryCallback done) { next_(call, request, response, std::move(done)); });
  }

 private:
  const UnaryNextAsync& next_;
};

}  // namespace

void UnaryInterceptor::InterceptAsync(CallContext& call, const google::protobuf::Message& request,
                                      google::protobuf::Message& response,
                                      const UnaryNextAsync& next, UnaryCallback done) {
  // An exception from Intercept propagates without calling `done`, as the contract says.
  Status status = Intercept(call, request, response, WaitingNext(next));
  done(std::move(status));
}
ServiceRegistrar::~ServiceRegistrar() = default;
AdditionalGrpcService::~AdditionalGrpcService() = default;
HostContext::~HostContext() = default;
#define FLYTE_MANAGER_DESTRUCTOR_(CLASS, ID, RPCS, ASYNC_RPCS) CLASS::~CLASS() = default;
FLYTE_MANAGER_AREAS(FLYTE_MANAGER_DESTRUCTOR_)
#undef FLYTE_MANAGER_DESTRUCTOR_
WorkflowExecutor::~WorkflowExecutor() = default;
PreRedirectHook::~PreRedirectHook() = default;
LogoutHook::~LogoutHook() = default;
CustomerHeaderMatcher::~CustomerHeaderMatcher() = default;
HttpRoute::~HttpRoute() = default;
DataProxy::~DataProxy() = default;
SignalManager::~SignalManager() = default;
ObjectStore::~ObjectStore() = default;

std::string ObjectStore::SpoolDirectory() const { return ""; }

Status ObjectStore::WriteFile(const std::string& uri, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("cannot read " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return Internal("cannot read " + path);
  return Write(uri, bytes.str());
}
WorkflowCompiler::~WorkflowCompiler() = default;
namespace db {
ProjectRepo::~ProjectRepo() = default;
TaskRepo::~TaskRepo() = default;
WorkflowRepo::~WorkflowRepo() = default;
LaunchPlanRepo::~LaunchPlanRepo() = default;
NamedEntityRepo::~NamedEntityRepo() = default;
DescriptionEntityRepo::~DescriptionEntityRepo() = default;
ResourceRepo::~ResourceRepo() = default;
ExecutionRepo::~ExecutionRepo() = default;
NodeExecutionRepo::~NodeExecutionRepo() = default;
TaskExecutionRepo::~TaskExecutionRepo() = default;
SignalRepo::~SignalRepo() = default;
SchedulableEntityRepo::~SchedulableEntityRepo() = default;
Repositories::~Repositories() = default;
}  // namespace db

}  // namespace flyte::plugin
