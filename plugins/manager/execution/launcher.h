// Starting executions: CreateExecution (launch plans and single tasks), RelaunchExecution and
// RecoverExecution, each ending in the WorkflowExecutor plugin.
#pragma once

#include "context.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

class ExecutionLauncher {
 public:
  explicit ExecutionLauncher(ExecutionContext& context) : context_(context) {}
  plugin::Status CreateExecution(plugin::CallContext& call, const flyteidl::admin::ExecutionCreateRequest& request,
                                 flyteidl::admin::ExecutionCreateResponse& response);
  plugin::Status RelaunchExecution(plugin::CallContext& call, const flyteidl::admin::ExecutionRelaunchRequest& request,
                                   flyteidl::admin::ExecutionCreateResponse& response);
  plugin::Status RecoverExecution(plugin::CallContext& call, const flyteidl::admin::ExecutionRecoverRequest& request,
                                  flyteidl::admin::ExecutionCreateResponse& response);

 private:
  ExecutionContext& context_;
};

}  // namespace flyte::plugins::manager
