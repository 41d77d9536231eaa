// PLACEHOLDER: replaced by the operations' implementation.
#include "operations.h"

namespace flyte::plugins::manager {

#define FLYTE_PLACEHOLDER_(NAME, REQUEST, RESPONSE)                                                       \
  plugin::Status ExecutionOperations::NAME(plugin::CallContext&, const flyteidl::admin::REQUEST&,           \
                                           flyteidl::admin::RESPONSE&) {                                    \
    return plugin::Unimplemented(#NAME);                                                                    \
  }
FLYTE_PLACEHOLDER_(GetExecution, WorkflowExecutionGetRequest, Execution)
FLYTE_PLACEHOLDER_(UpdateExecution, ExecutionUpdateRequest, ExecutionUpdateResponse)
FLYTE_PLACEHOLDER_(GetExecutionData, WorkflowExecutionGetDataRequest, WorkflowExecutionGetDataResponse)
FLYTE_PLACEHOLDER_(ListExecutions, ResourceListRequest, ExecutionList)
FLYTE_PLACEHOLDER_(TerminateExecution, ExecutionTerminateRequest, ExecutionTerminateResponse)
FLYTE_PLACEHOLDER_(CreateWorkflowEvent, WorkflowExecutionEventRequest, WorkflowExecutionEventResponse)

}  // namespace flyte::plugins::manager
