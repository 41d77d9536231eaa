// PluginID kWorkflowExecutor: where an execution physically runs (a cluster, this machine, ...).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flyteidl/admin/cluster_assignment.pb.h"
#include "flyteidl/admin/common.pb.h"
#include "flyteidl/admin/matchable_resource.pb.h"
#include "flyteidl/core/compiler.pb.h"
#include "flyteidl/core/identifier.pb.h"
#include "flyteidl/core/literals.pb.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin {

// Platform task resource defaults and limits (quantity strings such as "500m", "1Gi").
struct TaskResourceSet {
  std::string cpu, gpu, memory, ephemeral_storage;
};

// What admin resolved for an execution before handing it over (upstream ExecutionParameters).
struct ExecutionParameters {
  flyteidl::core::LiteralMap inputs;
  std::chrono::system_clock::time_point accepted_at;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<flyteidl::admin::PluginOverride> task_plugin_overrides;
  flyteidl::admin::WorkflowExecutionConfig execution_config;
  std::optional<flyteidl::core::WorkflowExecutionIdentifier> recovery_execution;
  TaskResourceSet task_resource_defaults;
  TaskResourceSet task_resource_limits;
  int event_version = 2;
  std::string role_name_key;
  flyteidl::admin::RawOutputDataConfig raw_output_data_config;
  std::optional<flyteidl::admin::ClusterAssignment> cluster_assignment;
  std::optional<flyteidl::admin::ExecutionClusterLabel> execution_cluster_label;
};

struct ExecutionData {
  std::string namespace_;  // already templated from namespace_mapping.template
  flyteidl::core::WorkflowExecutionIdentifier execution_id;
  std::string reference_workflow_name;
  std::string reference_launch_plan_name;
  flyteidl::core::CompiledWorkflowClosure workflow_closure;
  std::string workflow_closure_reference;  // storage URI of the stored closure
  ExecutionParameters parameters;
  std::string offloaded_inputs_reference;  // storage URI of the inputs LiteralMap
};

struct ExecutionResponse {
  std::string cluster;  // persisted; handed back to Abort and checked against events
};

struct AbortData {
  std::string namespace_;
  flyteidl::core::WorkflowExecutionIdentifier execution_id;
  std::string cluster;
};

// Thread-safe. Errors carry their gRPC meaning (INTERNAL by default; ALREADY_EXISTS never: an
// execution that already runs counts as started).
class FLYTE_PLUGIN_API_EXPORT WorkflowExecutor : public PluginBase {
 public:
  ~WorkflowExecutor() override;
  virtual std::string Id() const = 0;
  virtual StatusOr<ExecutionResponse> Execute(const ExecutionData& data) = 0;
  virtual Status Abort(const AbortData& data) = 0;
};

}  // namespace flyte::plugin
