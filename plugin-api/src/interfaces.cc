// Out-of-line destructors: each plugin interface's vtable and type info live here, once.
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
UnaryInterceptor::~UnaryInterceptor() = default;
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
Repositories::~Repositories() = default;
}  // namespace db

}  // namespace flyte::plugin
