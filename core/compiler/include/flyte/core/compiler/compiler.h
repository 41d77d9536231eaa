// The workflow compiler (upstream flytepropeller/pkg/compiler) behind the plugin API's
// WorkflowCompiler interface.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "flyte/core/compiler/errors.h"
#include "flyte/plugin/compiler.h"

namespace flyte::core::compiler {

// Stateless; every call is independent, so one instance serves all threads. Compile errors answer
// INVALID_ARGUMENT whose message is upstream's collected-errors text.
class Compiler final : public plugin::WorkflowCompiler {
 public:
  plugin::StatusOr<flyteidl::core::CompiledTask> CompileTask(
      const flyteidl::core::TaskTemplate& task) override;
  plugin::StatusOr<plugin::WorkflowRequirements> GetRequirements(
      const flyteidl::core::WorkflowTemplate& primary,
      const std::vector<flyteidl::core::WorkflowTemplate>& sub_workflows) override;
  plugin::StatusOr<flyteidl::core::CompiledWorkflowClosure> CompileWorkflow(
      const flyteidl::core::WorkflowTemplate& primary,
      const std::vector<flyteidl::core::WorkflowTemplate>& sub_workflows,
      const std::vector<flyteidl::core::CompiledTask>& tasks,
      const std::vector<plugin::LaunchPlanInterface>& launch_plans) override;
  bool AreTypesCastable(const flyteidl::core::LiteralType& upstream,
                        const flyteidl::core::LiteralType& downstream) override;
  plugin::StatusOr<flyteidl::core::LiteralType> LiteralTypeForLiteral(
      const flyteidl::core::Literal& literal) override;
};

std::shared_ptr<plugin::WorkflowCompiler> MakeWorkflowCompiler();

// The same operations with the collected errors exposed, for callers and tests that inspect
// individual errors. On failure `errors` holds them and the result is empty.
std::optional<flyteidl::core::CompiledTask> CompileTask(const flyteidl::core::TaskTemplate& task,
                                                        CompileErrors& errors);
std::optional<plugin::WorkflowRequirements> GetRequirements(
    const flyteidl::core::WorkflowTemplate& primary,
    const std::vector<flyteidl::core::WorkflowTemplate>& sub_workflows, CompileErrors& errors);
std::optional<flyteidl::core::CompiledWorkflowClosure> CompileWorkflow(
    const flyteidl::core::WorkflowTemplate& primary,
    const std::vector<flyteidl::core::WorkflowTemplate>& sub_workflows,
    const std::vector<flyteidl::core::CompiledTask>& tasks,
    const std::vector<plugin::LaunchPlanInterface>& launch_plans, CompileErrors& errors);

}  // namespace flyte::core::compiler
