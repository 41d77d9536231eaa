// Dynamic tasks, as propeller's dynamic node handler runs them: the futures.pb a task left is
// compiled into a workflow (the Compiler plugin), reported with the node's DYNAMIC_RUNNING event,
// and run as the node's children; its output bindings become the node's outputs.
#include <memory>
#include <string>
#include <vector>

#include "flyte/plugin/call_context.h"
#include "flyte/plugin/compiler.h"
#include "flyte/plugin/managers.h"
#include "flyteidl/core/dynamic_job.pb.h"
#include "run.h"
#include "run_support.h"
#include "task_runtime.h"

namespace flyte::plugins::executor {

namespace core = flyteidl::core;
namespace event = flyteidl::event;
namespace admin = flyteidl::admin;
using namespace run_support;

namespace {

// flytestdlib's wrapped error text: `[<code>] <message>, caused by: <cause>`.
core::ExecutionError BuildFailure(core::ExecutionError::ErrorKind kind, const std::string& what,
                                  const std::string& cause) {
  const std::string code = kind == core::ExecutionError::USER ? "User" : "system";
  return MakeError(kind, "DynamicWorkflowBuildFailed",
                   "[" + code + "] " + what + ", caused by: " + cause);
}

std::string LaunchPlanText(const core::Identifier& id) {
  return id.project() + ":" + id.domain() + ":" + id.name() + ":" + id.version();
}

}  // namespace

Run::AttemptResult Run::RunDynamic(const NodeRef& ref, const core::TaskTemplate& task,
                                   const std::string& output_dir, uint32_t attempt) {
  AttemptResult result;
  result.dynamic = true;
  auto fail = [&](AttemptResult::Kind kind, core::ExecutionError error) {
    result.kind = kind;
    result.error = std::move(error);
    return result;
  };
  constexpr auto kPermanent = AttemptResult::Kind::kPermanent;

  // The spec, read as propeller's future file reader reads it.
  const std::string futures_uri = output_dir + "/futures.pb";
  const int64_t max_size = owner_.settings().max_output_size;
  if (auto size = store_.Size(futures_uri); size.ok() && size.value() > max_size)
    return fail(kPermanent, OutputTooLarge(futures_uri, size.value(), max_size));
  auto bytes = store_.Read(futures_uri);
  core::DynamicJobSpec spec;
  if (!bytes.ok() || !spec.ParseFromString(bytes.value())) {
    return fail(
        kPermanent,
        BuildFailure(core::ExecutionError::SYSTEM, "unable to read futures file, maybe corrupted",
                     "[system] Failed to read futures protobuf file., caused by: " +
                         (bytes.ok() ? std::string("proto: cannot parse invalid wire-format data")
                                     : bytes.status().message())));
  }
  if (ref.scope->depth + 1 > kMaxNesting) {
    return fail(kPermanent, BuildFailure(core::ExecutionError::USER, "malformed dynamic workflow",
                                         "dynamic workflows nested more than " +
                                             std::to_string(kMaxNesting) + " levels deep"));
  }

  // Compiled as propeller's buildDynamicWorkflow does.
  auto compiler =
      owner_.host().Plugins().Get<plugin::WorkflowCompiler>(plugin::plugin_id::kCompiler);
  if (!compiler) {
    return fail(kPermanent,
                BuildFailure(core::ExecutionError::SYSTEM, "failed to build dynamic workflow",
                             "no Compiler plugin is loaded"));
  }
  auto built = BuildDynamicWorkflowSpec(spec, task, data_.execution_id, ref.unique_id,
                                        RandomDynamicVersion());
  std::vector<core::CompiledTask> compiled_tasks;
  for (const auto& t : built.tasks) {
    auto compiled = compiler->CompileTask(t);
    if (!compiled.ok()) {
      return fail(kPermanent,
                  BuildFailure(core::ExecutionError::USER, "failed to compile dynamic tasks",
                               compiled.status().message()));
    }
    compiled_tasks.push_back(std::move(compiled.value()));
  }
  const std::vector<core::WorkflowTemplate> subs(spec.subworkflows().begin(),
                                                 spec.subworkflows().end());
  auto requirements = compiler->GetRequirements(built.workflow, subs);
  if (!requirements.ok()) {
    return fail(kPermanent, BuildFailure(core::ExecutionError::USER,
                                         "failed to Get requirements for subworkflows",
                                         requirements.status().message()));
  }
  std::vector<plugin::LaunchPlanInterface> launch_plans;
  if (!requirements->launch_plan_ids.empty()) {
    auto manager = owner_.host().Plugins().Get<plugin::LaunchPlanManager>(
        plugin::plugin_id::kLaunchPlanManager);
    for (const auto& id : requirements->launch_plan_ids) {
      if (!manager) {
        return fail(kPermanent,
                    BuildFailure(core::ExecutionError::SYSTEM,
                                 "unable to retrieve launchplan information " + LaunchPlanText(id),
                                 "no LaunchPlanManager plugin is loaded"));
      }
      admin::ObjectGetRequest request;
      *request.mutable_id() = id;
      admin::LaunchPlan lp;
      plugin::CallContext call("/flyteidl.service.AdminService/GetLaunchPlan", {},
                               "flyte_executor_local", false);
      if (auto s = manager->GetLaunchPlan(call, request, lp); !s.ok()) {
        const bool user = s.code() == plugin::StatusCode::kNotFound ||
                          s.code() == plugin::StatusCode::kInvalidArgument;
        return fail(kPermanent,
                    BuildFailure(user ? core::ExecutionError::USER : core::ExecutionError::SYSTEM,
                                 (user ? "incorrectly specified launchplan "
                                       : "unable to retrieve launchplan information ") +
                                     LaunchPlanText(id),
                                 s.message()));
      }
      plugin::LaunchPlanInterface iface;
      iface.id = id;
      iface.expected_inputs = lp.closure().expected_inputs();
      iface.expected_outputs = lp.closure().expected_outputs();
      launch_plans.push_back(std::move(iface));
    }
  }
  auto compiled = compiler->CompileWorkflow(built.workflow, subs, compiled_tasks, launch_plans);
  if (!compiled.ok()) {
    return fail(kPermanent, BuildFailure(core::ExecutionError::USER, "malformed dynamic workflow",
                                         compiled.status().message()));
  }
  // Kept until the children are done: the scopes below point into it.
  auto closure = std::make_unique<core::CompiledWorkflowClosure>(std::move(compiled.value()));
  if (auto s = CheckSupported(*closure); !s.ok()) {
    return fail(kPermanent, BuildFailure(core::ExecutionError::USER, "malformed dynamic workflow",
                                         s.message()));
  }

  // The admin keeps the closure for GetDynamicNodeWorkflow.
  {
    auto e = NodeEvent(*ref.scope, *ref.node, core::NodeExecution::DYNAMIC_RUNNING);
    e.set_input_uri(ref.data_dir + "/inputs.pb");
    e.set_is_dynamic(true);
    e.set_is_parent(true);
    auto* dynamic = e.mutable_task_node_metadata()->mutable_dynamic_workflow();
    *dynamic->mutable_id() = closure->primary().template_().id();
    *dynamic->mutable_compiled_workflow() = *closure;
    dynamic->set_dynamic_job_spec_uri(futures_uri);
    SendNodeEvent(ref, std::move(e));
  }

  // The children: under the node's unique id and this attempt, their data under the attempt's
  // output prefix.
  const auto& wf = closure->primary();
  Scope child;
  child.parent_scope = ref.scope;
  Inherit(child, *ref.scope);
  child.closure = closure.get();
  child.in_dynamic_chain = true;
  child.failure_abort_reason = "Dynamic workflow failed";
  child.parent = ParentInfo{ref.unique_id, attempt};
  child.data_base = output_dir;
  std::vector<const core::Node*> nodes;
  for (const auto& n : wf.template_().nodes()) nodes.push_back(&n);
  InitScope(child, wf.template_(), &wf.connections(), nodes);
  core::ExecutionError error;
  if (!RunStartNode(child, core::LiteralMap(), error)) return fail(kPermanent, error);
  const bool all_succeeded = Coordinate(child);
  std::optional<core::ExecutionError> failure;
  {
    std::lock_guard lock(mu_);
    failure = child.failure;
  }
  // A failed child fails the node with its error (propeller's DynamicNodePhaseFailing, a
  // permanent failure).
  if (failure) return fail(kPermanent, *failure);
  if (!all_succeeded) {
    result.kind = AttemptResult::Kind::kAborted;
    return result;
  }
  if (!RunEndNode(child, error)) return fail(kPermanent, error);
  if (wf.template_().outputs_size() > 0) {
    const std::string source = Join(NodeDataDir(child, kEndNode), {"0"}) + "/outputs.pb";
    const std::string destination = output_dir + "/outputs.pb";
    if (!store_.Size(source).ok()) {
      return fail(AttemptResult::Kind::kRetryable,
                  MakeError(core::ExecutionError::SYSTEM, "DynamicWorkflowOutputsNotFound",
                            " is expected to produce outputs but no outputs file was written to " +
                                source + "."));
    }
    auto outputs = store_.Read(source);
    plugin::Status copied =
        outputs.ok() ? store_.Write(destination, outputs.value()) : outputs.status();
    if (!copied.ok()) {
      return fail(kPermanent,
                  MakeError(core::ExecutionError::SYSTEM, "OutputsNotFound",
                            "Failed to copy subworkflow outputs from [" + source + "] to [" +
                                destination + "]. Error: " + copied.message()));
    }
  }
  // Then the task's outputs are checked as a task's are (propeller's ValidateOutput).
  if (task.interface().outputs().variables_size() > 0) {
    const std::string outputs_uri = output_dir + "/outputs.pb";
    auto outputs = store_.Read(outputs_uri);
    std::optional<core::ExecutionError> mismatch;
    if (!outputs.ok()) {
      mismatch = MakeError(core::ExecutionError::SYSTEM, "OutputsNotFound",
                           "Outputs not generated by task execution");
    } else {
      mismatch =
          CheckOutputs(outputs.value(), outputs_uri, task.interface().outputs(), compiler.get());
    }
    if (mismatch) return fail(AttemptResult::Kind::kRetryable, *mismatch);
  }
  result.kind = AttemptResult::Kind::kSuccess;
  return result;
}

}  // namespace flyte::plugins::executor
