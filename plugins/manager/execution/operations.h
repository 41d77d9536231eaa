// Reading and changing executions: Get, List, Update (archive), Terminate, GetExecutionData, and
// the workflow events flytepropeller sends.
#pragma once

#include "context.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

class ExecutionOperations {
 public:
  explicit ExecutionOperations(ExecutionContext& context) : context_(context) {}
  plugin::Status GetExecution(plugin::CallContext& call, const flyteidl::admin::WorkflowExecutionGetRequest& request,
                              flyteidl::admin::Execution& response);
  plugin::Status UpdateExecution(plugin::CallContext& call, const flyteidl::admin::ExecutionUpdateRequest& request,
                                 flyteidl::admin::ExecutionUpdateResponse& response);
  plugin::Status GetExecutionData(plugin::CallContext& call,
                                  const flyteidl::admin::WorkflowExecutionGetDataRequest& request,
                                  flyteidl::admin::WorkflowExecutionGetDataResponse& response);
  plugin::Status ListExecutions(plugin::CallContext& call, const flyteidl::admin::ResourceListRequest& request,
                                flyteidl::admin::ExecutionList& response);
  plugin::Status TerminateExecution(plugin::CallContext& call, const flyteidl::admin::ExecutionTerminateRequest& request,
                                    flyteidl::admin::ExecutionTerminateResponse& response);
  plugin::Status CreateWorkflowEvent(plugin::CallContext& call,
                                     const flyteidl::admin::WorkflowExecutionEventRequest& request,
                                     flyteidl::admin::WorkflowExecutionEventResponse& response);
  void CreateWorkflowEventAsync(plugin::CallContext& call, const flyteidl::admin::WorkflowExecutionEventRequest& request,
                                flyteidl::admin::WorkflowExecutionEventResponse& response,
                                std::function<void(plugin::Status)> done);

 private:
  // The checks made before the database is read (the request's shape and size).
  plugin::Status CheckWorkflowEvent(const flyteidl::admin::WorkflowExecutionEventRequest& request) const;
  // The event's reads, checks and update, run inside one grouped database operation.
  plugin::Status ApplyWorkflowEventRequest(const flyteidl::admin::WorkflowExecutionEventRequest& request);

  ExecutionContext& context_;
};

}  // namespace flyte::plugins::manager
