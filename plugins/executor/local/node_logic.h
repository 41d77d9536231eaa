// Propeller's pure node logic the local executor needs besides task nodes: the unique ids of
// nested node executions and of launched child executions, and the branch node's evaluator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flyte/plugin/status.h"
#include "flyteidl/admin/matchable_resource.pb.h"
#include "flyteidl/core/condition.pb.h"
#include "flyteidl/core/dynamic_job.pb.h"
#include "flyteidl/core/execution.pb.h"
#include "flyteidl/core/identifier.pb.h"
#include "flyteidl/core/tasks.pb.h"
#include "flyteidl/core/literals.pb.h"
#include "flyteidl/core/workflow.pb.h"

namespace flyte::plugins::executor {

// The node that owns a nested scope (a sub-workflow's nodes, a branch's taken node, a dynamic
// task's nodes): its unique node execution id and its current attempt (propeller's ParentInfo).
struct ParentInfo {
  std::string unique_id;
  uint32_t attempt = 0;
};

// common.GenerateUniqueID: `<parent unique id>-<parent attempt>-<node id>`, hashed to "f" +
// base32(fnv32a) past 20 characters; a top-level node keeps its id (up to 20 characters).
std::string GenerateUniqueId(const std::optional<ParentInfo>& parent, const std::string& node_id);

// encoding.FixedLengthUniqueIDForParts with the 64-bit algorithm: the parts joined by '-', or
// "f" + base32(fnv64a) when longer than max_length.
std::string FixedLengthUniqueIdForParts64(int max_length, const std::vector<std::string>& parts);

// subworkflow.GetChildWorkflowExecutionIDV2's name: `<execution>-<parent node unique
// id>-<attempt>`, hashed to "f" + base32(fnv64a) past 20 characters.
std::string ChildExecutionName(const std::string& execution_name, const std::string& node_unique_id,
                               uint32_t attempt);

// The result of a branch decision: the node to run, or the error the branch fails with.
struct BranchDecision {
  const flyteidl::core::Node* node = nullptr;  // the taken node
  // Without a node: the error code (UserProvidedError, MalformedBranchUserError: USER, anything
  // else SYSTEM IllegalStateError) and the message propeller reports.
  flyteidl::core::ExecutionError error;
};

// branch.EvaluateBooleanExpression over the branch node's resolved inputs; the error message is
// propeller's (`[<code>] <message>`) and `code` its code.
plugin::StatusOr<bool> EvaluateBooleanExpression(const flyteidl::core::BooleanExpression& expr,
                                                 const flyteidl::core::LiteralMap& inputs,
                                                 std::string* code = nullptr);

// branch.DecideBranch then the handler's mapping of its errors to a node failure.
BranchDecision DecideBranch(const flyteidl::core::BranchNode& branch,
                            const flyteidl::core::LiteralMap& inputs);

// What a dynamic task's futures.pb asks to run, before compilation (propeller's
// buildDynamicWorkflowTemplate and compileTasks): a workflow named `dynamic_<node unique id>` in
// the execution's project and domain, at `version`, with the spec's nodes and output bindings and
// the parent task's outputs as its interface (no inputs); the spec's tasks, each once, their
// containers given the parent container's config too.
struct DynamicWorkflowSpec {
  flyteidl::core::WorkflowTemplate workflow;
  std::vector<flyteidl::core::TaskTemplate> tasks;
};
DynamicWorkflowSpec BuildDynamicWorkflowSpec(
    const flyteidl::core::DynamicJobSpec& spec, const flyteidl::core::TaskTemplate& parent_task,
    const flyteidl::core::WorkflowExecutionIdentifier& execution, const std::string& node_unique_id,
    const std::string& version);

// k8s.io rand.String(n): n characters of "bcdfghjklmnpqrstvwxz2456789", the dynamic workflow's
// version.
std::string RandomDynamicVersion(int n = 10);

// Whether a node runs interruptible (propeller's NodeExecutionMetadata.IsInterruptible): the
// node's own metadata when set, else the execution config's `interruptible` when set, else the
// workflow's metadata defaults.
bool ResolveInterruptible(const flyteidl::core::NodeMetadata& node,
                          const flyteidl::admin::WorkflowExecutionConfig& execution_config,
                          const flyteidl::core::WorkflowTemplate& workflow);

}  // namespace flyte::plugins::executor
