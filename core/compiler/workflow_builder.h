// The compiler's working state for one workflow (upstream builders.go and workflow_compiler.go)
// and the validators that operate on it (upstream validators/*.go).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "flyte/core/compiler/errors.h"
#include "flyte/plugin/compiler.h"
#include "flyteidl/core/compiler.pb.h"
#include "flyteidl/core/workflow.pb.h"

namespace flyte::core::compiler::internal {

inline constexpr const char* kStartNodeId = "start-node";
inline constexpr const char* kEndNodeId = "end-node";

enum class EdgeDirection { kBidirectional, kDownstream, kUpstream };

// Upstream keys identifiers by their proto String(); so do we ("<nil>" for an absent one).
std::string IdKey(const flyteidl::core::Identifier* id);

// A node under compilation. The node itself stays in its owner (the template, a branch or an
// array node); the builder adds what the compiler resolves about it.
struct NodeBuilder {
  flyteidl::core::Node* node = nullptr;
  flyteidl::core::TypedInterface* iface = nullptr;  // may alias a task's or sub-workflow's
  flyteidl::core::TaskTemplate* task = nullptr;
  bool sub_workflow_compiled = false;

  const std::string& id() const { return node->id(); }
};

// Everything passed to one CompileWorkflow call, shared by the builders of all its workflows.
struct CompileContext {
  std::map<std::string, flyteidl::core::TaskTemplate*> tasks;
  std::map<std::string, const plugin::LaunchPlanInterface*> launch_plans;
  std::map<std::string, flyteidl::core::CompiledWorkflow*> sub_workflows;
  // Sub-workflows being compiled, innermost last: guards against self-referencing sub-workflows,
  // on which upstream recurses without end.
  std::vector<std::string> compiling;
};

struct Requirements {
  std::vector<flyteidl::core::Identifier> task_ids;         // sorted, unique
  std::vector<flyteidl::core::Identifier> launch_plan_ids;  // sorted, unique
};

using SubWorkflowLookup =
    std::function<const flyteidl::core::WorkflowTemplate*(const std::string& key)>;

// Upstream getRequirements. `lookup` finds a sub-workflow template by IdKey (null when absent).
Requirements CollectRequirements(const flyteidl::core::WorkflowTemplate& workflow,
                                 const SubWorkflowLookup& lookup, bool follow_sub_workflows,
                                 const CompileErrors& errs);

class WorkflowBuilder {
 public:
  WorkflowBuilder(flyteidl::core::CompiledWorkflow* workflow, CompileContext* context);
  ~WorkflowBuilder();
  WorkflowBuilder(const WorkflowBuilder&) = delete;
  WorkflowBuilder& operator=(const WorkflowBuilder&) = delete;

  // Upstream ValidateWorkflow: compiles `workflow` in place (nodes, interface, connections).
  static std::unique_ptr<WorkflowBuilder> ValidateWorkflow(
      flyteidl::core::CompiledWorkflow* workflow, CompileContext* context,
      const CompileErrors& errs, bool* ok);

  // Upstream validateAllRequirements: every referenced task and launch plan is known.
  bool ValidateAllRequirements(const CompileErrors& errs);

  flyteidl::core::CompiledWorkflow* core_workflow() { return workflow_; }
  CompileContext* context() { return context_; }

  NodeBuilder* GetOrCreateNodeBuilder(flyteidl::core::Node* node);
  NodeBuilder* GetNode(const std::string& id);
  flyteidl::core::TaskTemplate* GetTask(const flyteidl::core::Identifier& id);
  const plugin::LaunchPlanInterface* GetLaunchPlan(const flyteidl::core::Identifier& id);
  flyteidl::core::CompiledWorkflow* GetSubWorkflow(const flyteidl::core::Identifier& id);
  bool HasCompiledSubWorkflow(const std::string& key) const;
  void StoreCompiledSubWorkflow(const std::string& key);

  void AddExecutionEdge(const std::string& from, const std::string& to);
  void AddUpstreamEdge(const std::string& provider, const std::string& dependent);
  void AddDownstreamEdge(const std::string& provider, const std::string& dependent);
  bool AddEdges(NodeBuilder* node, EdgeDirection direction, const CompileErrors& errs);

  // Keeps an interface the compiler created alive as long as this builder.
  flyteidl::core::TypedInterface* NewInterface(flyteidl::core::TypedInterface iface);

 private:
  NodeBuilder* AddNode(NodeBuilder* node);
  void UpdateRequiredReferences();
  bool ValidateReachable(const CompileErrors& errs);
  void WriteConnections();

  flyteidl::core::CompiledWorkflow* workflow_;
  CompileContext* context_;
  std::map<std::string, flyteidl::core::TaskTemplate*> tasks_;
  std::map<std::string, const plugin::LaunchPlanInterface*> launch_plans_;
  std::map<std::string, NodeBuilder*> nodes_;
  std::unordered_map<const flyteidl::core::Node*, std::unique_ptr<NodeBuilder>> builders_;
  std::unordered_map<std::string, std::set<std::string>> downstream_;
  std::unordered_map<std::string, std::set<std::string>> upstream_;
  std::set<std::string> compiled_sub_workflows_;
  // Nodes taken out of the template while it is rebuilt; released back as they are added.
  std::unordered_map<const flyteidl::core::Node*, std::unique_ptr<flyteidl::core::Node>> detached_;
  std::vector<std::unique_ptr<flyteidl::core::TypedInterface>> interfaces_;
};

// Validators (upstream validators package).
bool ValidateInterface(const std::string& node_id, flyteidl::core::TypedInterface* iface,
                       const CompileErrors& errs);
flyteidl::core::TypedInterface* ValidateUnderlyingInterface(WorkflowBuilder& w, NodeBuilder* node,
                                                            const CompileErrors& errs, bool* ok);
bool ValidateNode(WorkflowBuilder& w, NodeBuilder* node, bool validate_condition_types,
                  const CompileErrors& errs);
flyteidl::core::VariableMap ValidateBindings(
    WorkflowBuilder& w, NodeBuilder* node,
    google::protobuf::RepeatedPtrField<flyteidl::core::Binding>* bindings,
    const flyteidl::core::VariableMap* params, bool validate_param_types, EdgeDirection direction,
    const CompileErrors& errs, bool* ok);

}  // namespace flyte::core::compiler::internal
