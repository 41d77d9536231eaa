// PluginID kCompiler: the Flyte workflow compiler (upstream flytepropeller/pkg/compiler).
#pragma once

#include <vector>

#include "flyteidl/core/compiler.pb.h"
#include "flyteidl/core/identifier.pb.h"
#include "flyteidl/core/interface.pb.h"
#include "flyteidl/core/literals.pb.h"
#include "flyteidl/core/tasks.pb.h"
#include "flyteidl/core/types.pb.h"
#include "flyteidl/core/workflow.pb.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin {

struct WorkflowRequirements {
  std::vector<flyteidl::core::Identifier> task_ids;         // sorted, unique
  std::vector<flyteidl::core::Identifier> launch_plan_ids;  // sorted, unique
};

// What a launch-plan node needs of the launch plan it references.
struct LaunchPlanInterface {
  flyteidl::core::Identifier id;
  flyteidl::core::ParameterMap expected_inputs;
  flyteidl::core::VariableMap expected_outputs;
};

// Thread-safe and stateless. Compile errors answer INVALID_ARGUMENT with upstream's error text
// ("Code: <code>, Node Id: <id>, Description: <text>" lines).
class FLYTE_PLUGIN_API_EXPORT WorkflowCompiler : public PluginBase {
 public:
  ~WorkflowCompiler() override;

  virtual StatusOr<flyteidl::core::CompiledTask> CompileTask(const flyteidl::core::TaskTemplate& task) = 0;
  virtual StatusOr<WorkflowRequirements> GetRequirements(
      const flyteidl::core::WorkflowTemplate& primary,
      const std::vector<flyteidl::core::WorkflowTemplate>& sub_workflows) = 0;
  virtual StatusOr<flyteidl::core::CompiledWorkflowClosure> CompileWorkflow(
      const flyteidl::core::WorkflowTemplate& primary,
      const std::vector<flyteidl::core::WorkflowTemplate>& sub_workflows,
      const std::vector<flyteidl::core::CompiledTask>& tasks,
      const std::vector<LaunchPlanInterface>& launch_plans) = 0;

  // Type rules shared with validation (upstream validators/typing.go and utils.go).
  virtual bool AreTypesCastable(const flyteidl::core::LiteralType& upstream,
                                const flyteidl::core::LiteralType& downstream) = 0;
  virtual StatusOr<flyteidl::core::LiteralType> LiteralTypeForLiteral(const flyteidl::core::Literal& literal) = 0;
};

}  // namespace flyte::plugin
