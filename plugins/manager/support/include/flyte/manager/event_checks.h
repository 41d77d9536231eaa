// Request checks and event errors shared by the execution-side event handlers and reads (upstream
// validation/execution_validator.go, node_execution_validator.go, task_execution_validator.go,
// shared_execution.go), with upstream's texts. Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"
#include "flyteidl/admin/event.pb.h"
#include "flyteidl/admin/task_execution.pb.h"
#include "flyteidl/core/identifier.pb.h"
#include "flyteidl/core/literals.pb.h"

namespace flyte::plugins::manager {

// "missing id", then "missing project|domain|name".
plugin::Status ValidateWorkflowExecutionId(const flyteidl::core::WorkflowExecutionIdentifier* id);
// "missing id", "missing execution_id", "missing node_id", then the execution id.
plugin::Status ValidateNodeExecutionId(const flyteidl::core::NodeExecutionIdentifier* id);
// "missing id", "missing node_execution_id", the node execution id, "missing task_id", then the
// task id as a TASK identifier.
plugin::Status ValidateTaskExecutionId(const flyteidl::core::TaskExecutionIdentifier* id);
// RESOURCE_EXHAUSTED "Output data size exceeds platform configured threshold (<n> > <max>)".
plugin::Status ValidateOutputData(const flyteidl::core::LiteralMap* output_data,
                                  int64_t max_size_in_bytes);
// "missing event", "missing occurred_at", the output size, then the task execution id the event
// names.
plugin::Status ValidateTaskExecutionEventRequest(
    const flyteidl::admin::TaskExecutionEventRequest& request, int64_t max_size_in_bytes);

// An event from `producer_id` is accepted for an execution running on `cluster` when the
// producer is empty, "propeller" or that cluster; otherwise FAILED_PRECONDITION "Cluster/producer
// from event [x] does not match existing workflow execution clusterInDB: [y]" with an
// admin.EventFailureReason{incompatible_cluster{cluster: x}} detail.
plugin::Status ValidateCluster(const std::string& cluster, const std::string& producer_id);
// ValidateCluster as the check of NodeExecutionRepo/TaskExecutionRepo::UpdateChecked: `checked`
// tells the caller whether it ran (the execution exists), `refused` whether the status it gets
// back came from this check.
plugin::db::ExecutionClusterCheck ClusterCheck(const std::string& producer_id, bool& checked, bool& refused);
// Loads the execution (NOT_FOUND "missing entity of type execution with identifier ...") and
// applies ValidateCluster.
plugin::Status ValidateClusterForExecution(plugin::db::ExecutionRepo& executions,
                                           const flyteidl::core::WorkflowExecutionIdentifier& id,
                                           const std::string& producer_id);

// FAILED_PRECONDITION `message` with an admin.EventFailureReason{incompatible_cluster{cluster}}
// detail (upstream errors.NewIncompatibleClusterError).
plugin::Status IncompatibleClusterError(const std::string& message, const std::string& cluster);

// FAILED_PRECONDITION `message` with an admin.EventFailureReason{already_in_terminal_state{
// current_phase}} detail (upstream errors.NewAlreadyInTerminalStateError).
plugin::Status AlreadyInTerminalStateError(const std::string& message,
                                           const std::string& current_phase);

}  // namespace flyte::plugins::manager
