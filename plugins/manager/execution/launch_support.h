// The pure parts of starting an execution (upstream validation/execution_validator.go,
// common/executions.go, transformers/execution.go and setCompiledTaskDefaults): request
// validation, input checking and merging, execution names, the stored row and tags, and the
// platform resources written into compiled tasks. Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "flyte/manager/validation.h"
#include "flyte/plugin/compiler.h"
#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"
#include "flyteidl/admin/execution.pb.h"
#include "flyteidl/core/compiler.pb.h"
#include "flyteidl/core/interface.pb.h"
#include "flyteidl/core/literals.pb.h"

namespace flyte::plugins::manager {

// queues.executionQueues: a queue and the tags (attributes) that select it.
struct ExecutionQueue {
  std::string dynamic;
  std::vector<std::string> attributes;
};

// queues.workflowConfigs: the tags a domain's workflows need (an empty domain: any domain).
struct WorkflowQueueConfig {
  std::string domain;
  std::vector<std::string> tags;
};

// Upstream QueueAllocator.GetQueue: the dynamic queue of a random queue carrying the first
// EXECUTION_QUEUE attribute tag (`attribute_tags`, nullptr when none is set) that any queue has,
// else the first such tag of the domain's workflow config (the last config naming the domain),
// else of the domain-less one. "" when no queue matches or the queue has no dynamic name.
std::string DynamicQueue(const std::vector<ExecutionQueue>& queues,
                         const std::vector<WorkflowQueueConfig>& configs,
                         const std::vector<std::string>* attribute_tags, const std::string& domain);

// Upstream populateExecutionQueue: each container task gets config child_queue=<dynamic>.
void AssignChildQueue(flyteidl::core::CompiledWorkflowClosure& closure, const std::string& dynamic);

// Upstream ValidateExecutionRequest, checks and messages in its order: project, domain, the name
// (lower-cased: length then `^[a-z][a-z\-0-9]*$`), project/domain registration (the inactive
// project error carries admin.InactiveProject), spec, spec.launch_plan fields and resource type
// (LAUNCH_PLAN or TASK), the inputs literal map, notifications, labels; then ours: the tag
// lengths (ValidateTagLengths).
plugin::Status ValidateExecutionRequest(const flyteidl::admin::ExecutionCreateRequest& request,
                                        plugin::db::ProjectRepo& projects,
                                        const std::vector<DomainConfig>& domains);

// Label keys and values and tags of at most 255 characters, the size of execution_tags' columns:
// INVALID_ARGUMENT naming the longer one (upstream leaves it to the insert).
plugin::Status ValidateTagLengths(const flyteidl::admin::ExecutionSpec& spec);

// Upstream CheckValidExecutionID: "size of <field> exceeded length 63 : <id>", then
// "invalid <field> format: <id>, does not match regex '^[a-z][a-z\-0-9]*$'".
plugin::Status CheckValidExecutionId(const std::string& id, const std::string& field);

// Upstream CheckAndFetchInputsForExecution: user inputs must be expected ("invalid input <n>"),
// missing expected inputs are required ("expected_inputs <n> missing") or take their default,
// provided ones must have a valid inferred type castable to the expected one ("invalid <n> input
// wrong type. Expected <t>, but got <t>"), fixed inputs cannot be overridden ("fixed_inputs <n>
// cannot be overridden"). Names are visited in sorted order (Go's map order is random).
plugin::StatusOr<flyteidl::core::LiteralMap> CheckAndFetchInputsForExecution(
    const flyteidl::core::LiteralMap& user_inputs, const flyteidl::core::LiteralMap& fixed_inputs,
    const flyteidl::core::ParameterMap& expected_inputs, plugin::WorkflowCompiler& compiler);

// "a" + 19 characters of the k8s rand alphabet "bcdfghjklmnpqrstvwxz2456789".
std::string GenerateExecutionName();

// Go's codes.Code String(): "InvalidArgument", "Internal", ...
std::string GoCodeName(plugin::StatusCode code);

// What upstream's CreateExecutionModelInput carries.
struct ExecutionModelInput {
  flyteidl::core::WorkflowExecutionIdentifier id;
  flyteidl::admin::ExecutionSpec spec;  // the request spec as mutated by the launch flow
  int64_t launch_plan_id = 0;
  int64_t workflow_id = 0;
  int64_t task_id = 0;
  plugin::db::Time created_at{};
  google::protobuf::RepeatedPtrField<flyteidl::admin::Notification> notifications;
  flyteidl::core::Identifier workflow_identifier;
  int64_t parent_node_execution_id = 0;
  int64_t source_execution_id = 0;
  std::string cluster;
  std::string inputs_uri;
  std::string user_inputs_uri;
  flyteidl::core::SecurityContext security_context;
  std::string launch_entity;  // "launch_plan" or "task"
  std::string namespace_;
  std::optional<plugin::Status> error;  // the executor's failure (launch-plan flow)
};

// Upstream CreateExecutionModel: the stored spec gains system_metadata {cluster, namespace} and
// the resolved security context; the closure has created/updated_at, phase UNDEFINED (FAILED with
// the executor's error), notifications, workflow id and ACTIVE state-change details.
plugin::db::ExecutionModel CreateExecutionModel(const ExecutionModelInput& input);

// Upstream CreateExecutionTagModel: one row per spec label, one per deprecated spec tag.
std::vector<plugin::db::ExecutionTagModel> CreateExecutionTags(
    const flyteidl::admin::ExecutionSpec& spec);

// Upstream setCompiledTaskDefaults: a container task's cpu and memory (and ephemeral storage /
// gpu when the task or the platform default sets them) requested and limited as flytek8s
// AdjustOrDefaultResource decides from the task's values and the platform's.
void SetCompiledTaskDefaults(flyteidl::core::CompiledTask& task, const TaskResources& platform);

}  // namespace flyte::plugins::manager
