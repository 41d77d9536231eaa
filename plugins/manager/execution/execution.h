// The execution manager: the ExecutionManager area, served by the launcher (create, relaunch,
// recover) and the operations (reads, archive, terminate, data, workflow events).
#pragma once

#include "launcher.h"
#include "operations.h"

namespace flyte::plugins::manager {

class ExecutionManagerImpl final : public plugin::ExecutionManager {
 public:
  ExecutionManagerImpl(const plugin::HostContext& host, ExecutionSettings settings)
      : context_(host, std::move(settings)), launcher_(context_), operations_(context_) {}

#define FLYTE_FORWARD_(PART, NAME, REQUEST, RESPONSE)                                                      \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) \
      override {                                                                                           \
    return PART.NAME(call, request, response);                                                             \
  }
  FLYTE_FORWARD_(launcher_, CreateExecution, admin::ExecutionCreateRequest, admin::ExecutionCreateResponse)
  FLYTE_FORWARD_(launcher_, RelaunchExecution, admin::ExecutionRelaunchRequest, admin::ExecutionCreateResponse)
  FLYTE_FORWARD_(launcher_, RecoverExecution, admin::ExecutionRecoverRequest, admin::ExecutionCreateResponse)
  FLYTE_FORWARD_(operations_, GetExecution, admin::WorkflowExecutionGetRequest, admin::Execution)
  FLYTE_FORWARD_(operations_, UpdateExecution, admin::ExecutionUpdateRequest, admin::ExecutionUpdateResponse)
  FLYTE_FORWARD_(operations_, GetExecutionData, admin::WorkflowExecutionGetDataRequest,
                 admin::WorkflowExecutionGetDataResponse)
  FLYTE_FORWARD_(operations_, ListExecutions, admin::ResourceListRequest, admin::ExecutionList)
  FLYTE_FORWARD_(operations_, TerminateExecution, admin::ExecutionTerminateRequest, admin::ExecutionTerminateResponse)
  FLYTE_FORWARD_(operations_, CreateWorkflowEvent, admin::WorkflowExecutionEventRequest,
                 admin::WorkflowExecutionEventResponse)
#undef FLYTE_FORWARD_
  void CreateWorkflowEventAsync(plugin::CallContext& call, const flyteidl::admin::WorkflowExecutionEventRequest& request,
                                flyteidl::admin::WorkflowExecutionEventResponse& response,
                                std::function<void(plugin::Status)> done) override {
    operations_.CreateWorkflowEventAsync(call, request, response, std::move(done));
  }

 private:
  ExecutionContext context_;
  ExecutionLauncher launcher_;
  ExecutionOperations operations_;
};

}  // namespace flyte::plugins::manager
