// Execution-side request checks, in upstream's order and words.
#include "flyte/manager/event_checks.h"

#include "flyte/manager/errors.h"
#include "flyte/manager/validation.h"

namespace flyte::plugins::manager {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {
constexpr std::string_view kFieldExecutionId = "execution_id";
constexpr std::string_view kFieldNodeId = "node_id";
constexpr std::string_view kFieldNodeExecutionId = "node_execution_id";
constexpr std::string_view kFieldTaskId = "task_id";
constexpr std::string_view kFieldOccurredAt = "occurred_at";
constexpr std::string_view kFieldEvent = "event";
// Older propellers hard-code this producer id; it never conflicts with a cluster.
constexpr std::string_view kDefaultProducerId = "propeller";
}  // namespace

Status ValidateWorkflowExecutionId(const core::WorkflowExecutionIdentifier* id) {
  if (id == nullptr) return MissingArgumentError(kFieldId);
  if (auto s = ValidateEmptyStringField(id->project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(id->domain(), kFieldDomain); !s.ok()) return s;
  return ValidateEmptyStringField(id->name(), kFieldName);
}

Status ValidateNodeExecutionId(const core::NodeExecutionIdentifier* id) {
  if (id == nullptr) return MissingArgumentError(kFieldId);
  if (!id->has_execution_id()) return MissingArgumentError(kFieldExecutionId);
  if (id->node_id().empty()) return MissingArgumentError(kFieldNodeId);
  return ValidateWorkflowExecutionId(&id->execution_id());
}

Status ValidateTaskExecutionId(const core::TaskExecutionIdentifier* id) {
  if (id == nullptr) return MissingArgumentError(kFieldId);
  if (!id->has_node_execution_id()) return MissingArgumentError(kFieldNodeExecutionId);
  if (auto s = ValidateNodeExecutionId(&id->node_execution_id()); !s.ok()) return s;
  if (!id->has_task_id()) return MissingArgumentError(kFieldTaskId);
  return ValidateIdentifier(&id->task_id(), Entity::kTask);
}

Status ValidateOutputData(const core::LiteralMap* output_data, int64_t max_size_in_bytes) {
  if (output_data == nullptr) return Status::Ok();
  const auto size = static_cast<int64_t>(output_data->ByteSizeLong());
  if (size <= max_size_in_bytes) return Status::Ok();
  return {plugin::StatusCode::kResourceExhausted,
          "Output data size exceeds platform configured threshold (" + std::to_string(size) +
              " > " + std::to_string(max_size_in_bytes) + ")"};
}

Status ValidateTaskExecutionEventRequest(const admin::TaskExecutionEventRequest& request,
                                         int64_t max_size_in_bytes) {
  if (!request.has_event()) return MissingArgumentError(kFieldEvent);
  const auto& event = request.event();
  if (!event.has_occurred_at()) return MissingArgumentError(kFieldOccurredAt);
  if (auto s = ValidateOutputData(event.has_output_data() ? &event.output_data() : nullptr,
                                  max_size_in_bytes);
      !s.ok()) {
    return s;
  }
  // Upstream assembles an identifier from the event, so task and node execution ids are
  // "present" exactly when the event carries them.
  core::TaskExecutionIdentifier id;
  if (event.has_task_id()) *id.mutable_task_id() = event.task_id();
  if (event.has_parent_node_execution_id())
    *id.mutable_node_execution_id() = event.parent_node_execution_id();
  id.set_retry_attempt(event.retry_attempt());
  return ValidateTaskExecutionId(&id);
}

Status ValidateCluster(const std::string& cluster, const std::string& producer_id) {
  if (producer_id.empty() || producer_id == kDefaultProducerId || producer_id == cluster)
    return Status::Ok();
  return IncompatibleClusterError("Cluster/producer from event [" + producer_id +
                                      "] does not match existing workflow execution clusterInDB: [" +
                                      cluster + "]",
                                  producer_id);
}

plugin::db::ExecutionClusterCheck ClusterCheck(const std::string& producer_id, bool& checked, bool& refused) {
  return [&producer_id, &checked, &refused](const std::string& cluster) {
    checked = true;
    Status s = ValidateCluster(cluster, producer_id);
    refused = !s.ok();
    return s;
  };
}

Status IncompatibleClusterError(const std::string& message, const std::string& cluster) {
  Status status = plugin::FailedPrecondition(message);
  admin::EventFailureReason reason;
  reason.mutable_incompatible_cluster()->set_cluster(cluster);
  status.AddDetail(PackDetail(reason));
  return status;
}

Status ValidateClusterForExecution(plugin::db::ExecutionRepo& executions,
                                   const core::WorkflowExecutionIdentifier& id,
                                   const std::string& producer_id) {
  auto cluster = executions.GetCluster({id.project(), id.domain(), id.name()});
  if (!cluster.ok()) {
    if (cluster.status().code() != plugin::StatusCode::kNotFound) return cluster.status();
    core::Identifier key;
    key.set_project(id.project());
    key.set_domain(id.domain());
    key.set_name(id.name());
    return plugin::NotFound("missing entity of type execution with identifier " +
                            IdentifierText(key));
  }
  return ValidateCluster(cluster.value(), producer_id);
}

Status AlreadyInTerminalStateError(const std::string& message, const std::string& current_phase) {
  Status status = plugin::FailedPrecondition(message);
  admin::EventFailureReason reason;
  reason.mutable_already_in_terminal_state()->set_current_phase(current_phase);
  status.AddDetail(PackDetail(reason));
  return status;
}

}  // namespace flyte::plugins::manager
