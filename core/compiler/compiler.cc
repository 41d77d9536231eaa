// The compiler's entry points (upstream CompileTask, GetRequirements, CompileWorkflow) and the
// WorkflowCompiler plugin interface around them.
#include "flyte/core/compiler/compiler.h"

#include "flyte/plugin/go_compat.h"
#include "flyte/core/compiler/typing.h"
#include "task_compiler.h"
#include "workflow_builder.h"

namespace flyte::core::compiler {

using flyteidl::core::CompiledTask;
using flyteidl::core::CompiledWorkflow;
using flyteidl::core::CompiledWorkflowClosure;
using flyteidl::core::TaskTemplate;
using flyteidl::core::WorkflowTemplate;
using internal::IdKey;

namespace {

// Upstream NewWorkflowIndex: sub-workflows by id. A sub-workflow without an id stops the index
// with no error of its own; a duplicate id is a DuplicateId error.
template <typename T, typename GetTemplate>
bool IndexSubWorkflows(std::vector<T>& workflows, const GetTemplate& get,
                       std::map<std::string, T*>* index, const CompileErrors& errs) {
  bool ok = true;
  for (auto& wf : workflows) {
    const WorkflowTemplate& tmpl = get(wf);
    if (!tmpl.has_id()) return false;
    std::string key = IdKey(&tmpl.id());
    if (index->count(key) > 0) {
      errs.Collect(DuplicateIdFoundError(key));
      ok = false;
    } else {
      (*index)[key] = &wf;
    }
  }
  return ok;
}

plugin::Status ToStatus(const CompileErrors& errors) {
  return plugin::InvalidArgument(errors.Error());
}

}  // namespace

std::optional<CompiledTask> CompileTask(const TaskTemplate& task, CompileErrors& errors) {
  internal::CompileTaskInternal(task, errors.NewScope());
  if (errors.HasErrors()) return std::nullopt;
  CompiledTask out;
  *out.mutable_template_() = task;
  return out;
}

std::optional<plugin::WorkflowRequirements> GetRequirements(
    const WorkflowTemplate& primary, const std::vector<WorkflowTemplate>& sub_workflows,
    CompileErrors& errors) {
  std::vector<const WorkflowTemplate*> subs;
  subs.reserve(sub_workflows.size());
  for (const auto& s : sub_workflows) subs.push_back(&s);
  std::map<std::string, const WorkflowTemplate**> index;
  if (!IndexSubWorkflows(
          subs, [](const WorkflowTemplate* t) -> const WorkflowTemplate& { return *t; }, &index,
          errors)) {
    return std::nullopt;
  }
  auto lookup = [&index](const std::string& key) -> const WorkflowTemplate* {
    auto it = index.find(key);
    return it == index.end() ? nullptr : *it->second;
  };
  // Upstream collects missing sub-workflow references here but does not report them: the
  // compile that follows does.
  internal::Requirements reqs =
      internal::CollectRequirements(primary, lookup, true, CompileErrors());
  return plugin::WorkflowRequirements{std::move(reqs.task_ids), std::move(reqs.launch_plan_ids)};
}

std::optional<CompiledWorkflowClosure> CompileWorkflow(
    const WorkflowTemplate& primary, const std::vector<WorkflowTemplate>& sub_workflows,
    const std::vector<CompiledTask>& tasks,
    const std::vector<plugin::LaunchPlanInterface>& launch_plans, CompileErrors& errors) {
  CompiledWorkflowClosure closure;
  internal::CompileContext context;

  // Tasks: each needs an id; duplicates keep the first.
  for (const auto& task : tasks) {
    if (!task.has_template_() || !task.template_().has_id()) {
      errors.Collect(ValueRequiredError("task", "Template.Id"));
      return std::nullopt;
    }
    std::string key = IdKey(&task.template_().id());
    if (context.tasks.count(key) > 0) continue;
    TaskTemplate* copy = closure.add_tasks()->mutable_template_();
    *copy = task.template_();
    context.tasks[key] = copy;
  }

  for (const auto& sub : sub_workflows) *closure.add_sub_workflows()->mutable_template_() = sub;
  std::vector<CompiledWorkflow*> subs;
  for (auto& sub : *closure.mutable_sub_workflows()) subs.push_back(&sub);
  std::map<std::string, CompiledWorkflow**> index;
  if (!IndexSubWorkflows(
          subs, [](CompiledWorkflow* w) -> const WorkflowTemplate& { return w->template_(); },
          &index, errors.NewScope())) {
    return std::nullopt;
  }
  for (const auto& [key, wf] : index) context.sub_workflows[key] = *wf;
  for (const auto& lp : launch_plans) context.launch_plans[IdKey(&lp.id)] = &lp;

  CompiledWorkflow* compiled = closure.mutable_primary();
  *compiled->mutable_template_() = primary;

  internal::WorkflowBuilder requirements(compiled, &context);
  if (!requirements.ValidateAllRequirements(errors.NewScope())) return std::nullopt;

  bool ok = false;
  auto builder =
      internal::WorkflowBuilder::ValidateWorkflow(compiled, &context, errors.NewScope(), &ok);
  if (!ok) return std::nullopt;
  return closure;
}

plugin::StatusOr<CompiledTask> Compiler::CompileTask(const TaskTemplate& task) {
  CompileErrors errors;
  auto out = compiler::CompileTask(task, errors);
  if (!out) return ToStatus(errors);
  return std::move(*out);
}

plugin::StatusOr<plugin::WorkflowRequirements> Compiler::GetRequirements(
    const WorkflowTemplate& primary, const std::vector<WorkflowTemplate>& sub_workflows) {
  CompileErrors errors;
  auto out = compiler::GetRequirements(primary, sub_workflows, errors);
  if (!out) return ToStatus(errors);
  return std::move(*out);
}

plugin::StatusOr<CompiledWorkflowClosure> Compiler::CompileWorkflow(
    const WorkflowTemplate& primary, const std::vector<WorkflowTemplate>& sub_workflows,
    const std::vector<CompiledTask>& tasks,
    const std::vector<plugin::LaunchPlanInterface>& launch_plans) {
  CompileErrors errors;
  auto out = compiler::CompileWorkflow(primary, sub_workflows, tasks, launch_plans, errors);
  if (!out) return ToStatus(errors);
  return std::move(*out);
}

bool Compiler::AreTypesCastable(const flyteidl::core::LiteralType& upstream,
                                const flyteidl::core::LiteralType& downstream) {
  return compiler::AreTypesCastable(upstream, downstream);
}

plugin::StatusOr<flyteidl::core::LiteralType> Compiler::LiteralTypeForLiteral(
    const flyteidl::core::Literal& literal) {
  auto type = compiler::LiteralTypeForLiteral(literal);
  if (!type) return plugin::InvalidArgument(*ValidateLiteralType(nullptr));
  return std::move(*type);
}

std::shared_ptr<plugin::WorkflowCompiler> MakeWorkflowCompiler() {
  return std::make_shared<Compiler>();
}

}  // namespace flyte::core::compiler
