// The node kinds besides task nodes, as propeller's handlers run them: sub-workflows, branches,
// gates, launch plans and arrays.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "flyte/plugin/call_context.h"
#include "flyte/plugin/managers.h"
#include "flyte/plugin/signal.h"
#include "run.h"
#include "run_support.h"
#include "task_runtime.h"

namespace flyte::plugins::executor {

namespace core = flyteidl::core;
namespace event = flyteidl::event;
namespace admin = flyteidl::admin;
using plugin::Status;
using namespace run_support;

void Run::RunSubWorkflowNode(const NodeRef& ref, const std::string& input_uri,
                             const core::LiteralMap& inputs) {
  const core::Node& node = *ref.node;
  auto event = [&](core::NodeExecution::Phase phase) {
    return NodeEvent(*ref.scope, node, phase, input_uri);
  };
  auto fail = [&](const core::ExecutionError& error) { FailNode(ref, input_uri, error); };
  const auto* sub =
      FindSubWorkflow(ClosureOf(*ref.scope), node.workflow_node().sub_workflow_ref());
  if (sub == nullptr) {
    fail(MakeError(core::ExecutionError::SYSTEM, "SubWorkflowExecutionFailed",
                   "failed to find sub workflow with ID [" +
                       IdString(node.workflow_node().sub_workflow_ref()) + "]"));
    return;
  }
  SendNodeEvent(event(core::NodeExecution::RUNNING));
  // The children live under the node's first (only) attempt, as propeller's sub-node statuses.
  const std::string output_dir = Join(ref.data_dir, {"0"});
  Scope child;
  child.parent_scope = ref.scope;
  Inherit(child, *ref.scope);
  child.parent = ParentInfo{ref.unique_id, 0};
  child.data_base = output_dir;
  std::vector<const core::Node*> nodes;
  for (const auto& n : sub->template_().nodes()) nodes.push_back(&n);
  InitScope(child, sub->template_(), &sub->connections(), nodes);
  core::ExecutionError error;
  if (!RunStartNode(child, inputs, error)) {
    fail(error);
    return;
  }
  const bool all_succeeded = Coordinate(child);
  std::optional<core::ExecutionError> failure;
  {
    std::lock_guard lock(mu_);
    failure = child.failure;
  }
  if (failure) {
    if (sub->template_().has_failure_node()) {
      failure = RunFailureNode(child, sub->template_().failure_node(), *failure);
    }
    fail(*failure);
    return;
  }
  if (!all_succeeded) {
    EndNode(ref, NodePhase::kAborted, "", nullptr, event(core::NodeExecution::ABORTED));
    return;
  }
  if (!RunEndNode(child, error)) {
    fail(error);
    return;
  }
  auto done = event(core::NodeExecution::SUCCEEDED);
  if (sub->template_().outputs_size() > 0) {
    const std::string source = Join(NodeDataDir(child, kEndNode), {"0"}) + "/outputs.pb";
    const std::string destination = output_dir + "/outputs.pb";
    auto bytes = store_.Read(source);
    Status copied = bytes.ok() ? store_.Write(destination, bytes.value()) : bytes.status();
    if (!copied.ok()) {
      fail(MakeError(
          core::ExecutionError::SYSTEM, "SubWorkflowExecutionFailed",
          "Failed to copy subworkflow outputs from [" + source + "] to [" + destination + "]"));
      return;
    }
    done.set_output_uri(destination);
  }
  EndNode(ref, NodePhase::kSucceeded, output_dir, nullptr, std::move(done));
}

void Run::RunBranchNode(const NodeRef& ref, const std::string& input_uri,
                        const core::LiteralMap& inputs) {
  const core::Node& node = *ref.node;
  auto event = [&](core::NodeExecution::Phase phase) {
    return NodeEvent(*ref.scope, node, phase, input_uri);
  };
  auto decision = DecideBranch(node.branch_node(), inputs);
  if (decision.node == nullptr) {
    FailNode(ref, input_uri, decision.error);
    return;
  }
  SendNodeEvent(event(core::NodeExecution::RUNNING));
  // The taken node runs as the branch's child; the others are skipped without events.
  const std::string output_dir = Join(ref.data_dir, {"0"});
  Scope child;
  child.parent_scope = ref.scope;
  Inherit(child, *ref.scope);
  child.parent = ParentInfo{ref.unique_id, 0};
  child.resolve_in = ref.scope;
  child.data_base = output_dir;
  InitScope(child, *ref.scope->wf, nullptr, {decision.node});
  Coordinate(child);
  std::optional<core::ExecutionError> failure;
  NodeState taken;
  {
    std::lock_guard lock(mu_);
    failure = child.failure;
    taken = child.states[decision.node->id()];
  }
  if (failure) {
    FailNode(ref, input_uri, *failure);
    return;
  }
  if (taken.phase != NodePhase::kSucceeded) {
    EndNode(ref, NodePhase::kAborted, "", nullptr, event(core::NodeExecution::ABORTED));
    return;
  }
  const std::string source = taken.output_dir + "/outputs.pb";
  const std::string destination = output_dir + "/outputs.pb";
  auto bytes = store_.Read(source);
  Status copied = bytes.ok() ? store_.Write(destination, bytes.value()) : Status::Ok();
  if (!bytes.ok() && bytes.status().code() != plugin::StatusCode::kNotFound)
    copied = bytes.status();
  if (!copied.ok()) {
    auto error = MakeError(
        core::ExecutionError::SYSTEM, "OutputsNotFound",
        "Failed to copy child node outputs from [" + source + "] to [" + destination + "]");
    FailNode(ref, input_uri, error);
    return;
  }
  auto done = event(core::NodeExecution::SUCCEEDED);
  done.set_output_uri(destination);
  EndNode(ref, NodePhase::kSucceeded, output_dir, nullptr, std::move(done));
}

void Run::RunGateNode(const NodeRef& ref, const std::string& input_uri,
                      const core::LiteralMap& inputs) {
  const core::Node& node = *ref.node;
  const auto& gate = node.gate_node();
  auto event = [&](core::NodeExecution::Phase phase) {
    return NodeEvent(*ref.scope, node, phase, input_uri);
  };
  auto fail = [&](core::ExecutionError::ErrorKind kind, const std::string& code,
                  const std::string& message) {
    FailNode(ref, input_uri, MakeError(kind, code, message));
  };
  auto aborted = [&] {
    EndNode(ref, NodePhase::kAborted, "", nullptr, event(core::NodeExecution::ABORTED));
  };
  if (gate.condition_case() == core::GateNode::CONDITION_NOT_SET) {
    fail(core::ExecutionError::SYSTEM, "BadSpecificationError",
         "gateNode does not have a supported condition reference");
    return;
  }
  // The node's timeout bounds each attempt (propeller's execution deadline); a timed-out attempt
  // is retried within the node's retries, then fails the node.
  using Clock = std::chrono::steady_clock;
  const auto timeout = node.metadata().has_timeout() ? ToDuration(node.metadata().timeout())
                                                     : std::chrono::nanoseconds(0);
  const uint32_t max_attempts = node.metadata().retries().retries() + 1;
  uint32_t attempt = 0;
  Clock::time_point attempt_deadline =
      timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
  // False when the node failed: no attempt left.
  auto next_attempt = [&]() {
    if (attempt + 1 >= max_attempts) {
      fail(core::ExecutionError::USER, "RetriesExhausted|TimeoutExpired",
           "[" + std::to_string(attempt + 1) + "/" + std::to_string(max_attempts) +
               "] currentAttempt done. Last Error: USER::task execution timeout [" +
               GoDurationString(timeout) + "] expired");
      return false;
    }
    ++attempt;
    attempt_deadline = Clock::now() + timeout;
    return true;
  };
  auto output_dir = [&] { return Join(ref.data_dir, {std::to_string(attempt)}); };
  SendNodeEvent(event(core::NodeExecution::RUNNING));
  if (gate.has_sleep()) {
    auto deadline = Clock::now() + ToDuration(gate.sleep().duration());
    while (true) {
      const auto now = Clock::now();
      if (now >= deadline) break;
      if (now >= attempt_deadline) {
        if (!next_attempt()) return;
        deadline = Clock::now() + ToDuration(gate.sleep().duration());
        continue;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::min(deadline, attempt_deadline) - now) +
                        std::chrono::milliseconds(1);
      if (!WaitFor(*ref.scope, left)) return aborted();
    }
    EndNode(ref, NodePhase::kSucceeded, output_dir(), nullptr,
            event(core::NodeExecution::SUCCEEDED));
    return;
  }
  auto signals =
      owner_.host().Plugins().Get<plugin::SignalManager>(plugin::plugin_id::kSignalManager);
  if (!signals) {
    fail(core::ExecutionError::SYSTEM, "RuntimeExecutionError",
         "gate node " + node.id() +
             " needs the SignalManager plugin (flyte_manager_signal), which is not loaded");
    return;
  }
  admin::SignalGetOrCreateRequest request;
  *request.mutable_id()->mutable_execution_id() = data_.execution_id;
  if (gate.has_approve()) {
    request.mutable_id()->set_signal_id(gate.approve().signal_id());
    request.mutable_type()->set_simple(core::BOOLEAN);
  } else {
    request.mutable_id()->set_signal_id(gate.signal().signal_id());
    *request.mutable_type() = gate.signal().type();
  }
  // When calls started failing (the epoch: they do not).
  std::chrono::steady_clock::time_point failing_since{};
  std::chrono::milliseconds signal_poll = kSignalPollInterval;
  while (true) {
    plugin::CallContext call("/flyteidl.service.SignalService/GetOrCreateSignal", {},
                             "flyte_executor_local", false);
    admin::Signal signal;
    Status s = signals->GetOrCreateSignal(call, request, signal);
    if (!s.ok()) {
      // Propeller retries a failed call in its next round; a signal of another type or a bad
      // request cannot get better.
      const auto now = std::chrono::steady_clock::now();
      if (failing_since == std::chrono::steady_clock::time_point{}) failing_since = now;
      if (s.code() == plugin::StatusCode::kAlreadyExists ||
          s.code() == plugin::StatusCode::kInvalidArgument ||
          now - failing_since > owner_.settings().event_wait) {
        fail(core::ExecutionError::SYSTEM, "RuntimeExecutionError",
             "failed to get or create signal [" + request.id().signal_id() + "]: " + s.message());
        return;
      }
    } else if (signal.has_value() && signal.value().value_case() != core::Literal::VALUE_NOT_SET) {
      core::LiteralMap outputs;
      if (gate.has_approve()) {
        const auto& v = signal.value();
        if (!v.has_scalar() || !v.scalar().has_primitive() ||
            v.scalar().primitive().value_case() != core::Primitive::kBoolean) {
          fail(core::ExecutionError::UNKNOWN, "RuntimeExecutionError",
               "received a non-boolean approve signal value [" + v.ShortDebugString() + "]");
          return;
        }
        if (!v.scalar().primitive().boolean()) {
          fail(core::ExecutionError::USER, "ReceivedRejectSignal",
               "received a reject signal to disapprove the node input values");
          return;
        }
        outputs = inputs;
      } else {
        (*outputs.mutable_literals())[gate.signal().output_variable_name()] = signal.value();
      }
      const std::string output_uri = output_dir() + "/outputs.pb";
      if (auto w = store_.Write(output_uri, outputs.SerializeAsString()); !w.ok()) {
        fail(core::ExecutionError::SYSTEM, "WriteOutputsFailed",
             "failed to write signal value to [" + output_uri + "] with error: " + w.message());
        return;
      }
      auto done = event(core::NodeExecution::SUCCEEDED);
      done.set_output_uri(output_uri);
      EndNode(ref, NodePhase::kSucceeded, output_dir(), nullptr, std::move(done));
      return;
    } else {
      failing_since = {};
    }
    if (Clock::now() >= attempt_deadline && !next_attempt()) return;
    if (!WaitFor(*ref.scope, signal_poll)) return aborted();
    signal_poll = NextPollInterval(signal_poll);
  }
}

void Run::RunLaunchPlanNode(const NodeRef& ref, const std::string& input_uri,
                            const core::LiteralMap& inputs) {
  const core::Node& node = *ref.node;
  const auto& lp = node.workflow_node().launchplan_ref();
  const auto& id = data_.execution_id;
  core::WorkflowExecutionIdentifier child;
  child.set_project(id.project());
  child.set_domain(id.domain());
  child.set_name(ChildExecutionName(id.name(), ref.unique_id, 0));
  auto event = [&](core::NodeExecution::Phase phase, bool with_child) {
    auto e = NodeEvent(*ref.scope, node, phase, input_uri);
    if (with_child) *e.mutable_workflow_node_metadata()->mutable_execution_id() = child;
    return e;
  };
  auto fail = [&](const core::ExecutionError& error, bool with_child) {
    EndNode(ref, NodePhase::kFailed, "", &error, event(core::NodeExecution::FAILED, with_child));
  };
  auto executions =
      owner_.host().Plugins().Get<plugin::ExecutionManager>(plugin::plugin_id::kExecutionManager);
  if (!executions) {
    fail(MakeError(core::ExecutionError::SYSTEM, "RuntimeExecutionError",
                   "no ExecutionManager plugin to launch child executions with"),
         false);
    return;
  }
  // As propeller's launch-plan executor: a CHILD_WORKFLOW execution whose parent is this node
  // execution (the launcher takes nesting and principal from the parent execution).
  admin::ExecutionCreateRequest create;
  create.set_project(child.project());
  create.set_domain(child.domain());
  create.set_name(child.name());
  *create.mutable_inputs() = inputs;
  auto* spec = create.mutable_spec();
  *spec->mutable_launch_plan() = lp;
  auto* metadata = spec->mutable_metadata();
  metadata->set_mode(admin::ExecutionMetadata::CHILD_WORKFLOW);
  metadata->set_nesting(1);
  *metadata->mutable_parent_node_execution()->mutable_execution_id() = id;
  metadata->mutable_parent_node_execution()->set_node_id(ref.unique_id);
  for (const auto& [k, v] : data_.parameters.labels)
    (*spec->mutable_labels()->mutable_values())[k] = v;
  for (const auto& [k, v] : data_.parameters.annotations)
    (*spec->mutable_annotations()->mutable_values())[k] = v;
  const auto& config = data_.parameters.execution_config;
  if (config.has_security_context()) *spec->mutable_security_context() = config.security_context();
  spec->set_max_parallelism(config.max_parallelism());
  if (!data_.parameters.raw_output_data_config.output_location_prefix().empty())
    *spec->mutable_raw_output_data_config() = data_.parameters.raw_output_data_config;
  if (config.has_interruptible()) *spec->mutable_interruptible() = config.interruptible();
  spec->set_overwrite_cache(config.overwrite_cache());
  *spec->mutable_envs() = config.envs();
  {
    plugin::CallContext call("/flyteidl.service.AdminService/CreateExecution", {},
                             "flyte_executor_local", false);
    admin::ExecutionCreateResponse response;
    Status s = executions->CreateExecution(call, create, response);
    if (!s.ok() && s.code() != plugin::StatusCode::kAlreadyExists) {
      const bool system = s.code() == plugin::StatusCode::kDataLoss ||
                          s.code() == plugin::StatusCode::kDeadlineExceeded ||
                          s.code() == plugin::StatusCode::kInternal ||
                          s.code() == plugin::StatusCode::kUnknown ||
                          s.code() == plugin::StatusCode::kCancelled;
      const std::string cause =
          "rpc error: code = " + GoCodeName(s.code()) + " desc = " + s.message();
      fail(MakeError(system ? core::ExecutionError::SYSTEM : core::ExecutionError::USER,
                     "RuntimeExecutionError",
                     system ? "[RemoteErrorSystem] failed to launch workflow [" + lp.name() +
                                  "], system error, caused by: " + cause
                            : "[RemoteErrorUser] failed to launch workflow, caused by: " + cause),
           false);
      return;
    }
  }
  SendNodeEvent(event(core::NodeExecution::RUNNING, true));
  const std::string output_dir = Join(ref.data_dir, {"0"});
  std::chrono::steady_clock::time_point missing_since{};  // the epoch: the child was found
  std::chrono::milliseconds child_poll = kChildPollInterval;
  while (true) {
    const bool waited = WaitFor(*ref.scope, child_poll);
    child_poll = NextPollInterval(child_poll);
    if (!waited) {
      bool silent;
      std::string reason;
      {
        std::lock_guard lock(mu_);
        silent = silent_;
        reason = AbortReason(*ref.scope);
      }
      if (!silent) {
        // Propeller's cascading abort of the child.
        admin::ExecutionTerminateRequest terminate;
        *terminate.mutable_id() = child;
        terminate.set_cause("cascading abort as parent execution id [" + id.name() +
                            "] aborted, reason [" + reason + "]");
        plugin::CallContext call("/flyteidl.service.AdminService/TerminateExecution", {},
                                 "flyte_executor_local", false);
        admin::ExecutionTerminateResponse response;
        if (auto s = executions->TerminateExecution(call, terminate, response);
            !s.ok() && s.code() != plugin::StatusCode::kFailedPrecondition) {
          owner_.host().Logger()->warn("local executor: terminating child execution {} failed: {}",
                                       child.name(), s.message());
        }
      }
      EndNode(ref, NodePhase::kAborted, "", nullptr, event(core::NodeExecution::ABORTED, true));
      return;
    }
    admin::WorkflowExecutionGetRequest get;
    *get.mutable_id() = child;
    admin::Execution execution;
    plugin::CallContext call("/flyteidl.service.AdminService/GetExecution", {},
                             "flyte_executor_local", false);
    if (auto s = executions->GetExecution(call, get, execution); !s.ok()) {
      const auto now = std::chrono::steady_clock::now();
      if (missing_since == std::chrono::steady_clock::time_point{}) missing_since = now;
      if (now - missing_since > owner_.settings().event_wait) {
        fail(MakeError(
                 core::ExecutionError::SYSTEM, "RemoteErrorNotFound",
                 "failed at Node[" + node.id() +
                     "]. RemoteErrorNotFound: launch-plan not found, caused by: " + s.message()),
             true);
        return;
      }
      continue;
    }
    missing_since = {};
    switch (execution.closure().phase()) {
      case core::WorkflowExecution::SUCCEEDED: {
        admin::WorkflowExecutionGetDataRequest data_request;
        *data_request.mutable_id() = child;
        admin::WorkflowExecutionGetDataResponse data;
        plugin::CallContext data_call("/flyteidl.service.AdminService/GetExecutionData", {},
                                      "flyte_executor_local", false);
        Status s = executions->GetExecutionData(data_call, data_request, data);
        const std::string output_uri = output_dir + "/outputs.pb";
        if (s.ok()) s = store_.Write(output_uri, data.full_outputs().SerializeAsString());
        if (!s.ok()) {
          fail(MakeError(core::ExecutionError::SYSTEM, "CausedByError",
                         "failed at Node[" + node.id() +
                             "]. CausedByError: failed to copy outputs for child workflow, caused "
                             "by: " +
                             s.message()),
               true);
          return;
        }
        auto done = event(core::NodeExecution::SUCCEEDED, true);
        done.set_output_uri(output_uri);
        EndNode(ref, NodePhase::kSucceeded, output_dir, nullptr, std::move(done));
        return;
      }
      case core::WorkflowExecution::FAILED: {
        core::ExecutionError error = execution.closure().has_error()
                                         ? execution.closure().error()
                                         : MakeError(core::ExecutionError::UNKNOWN,
                                                     "LaunchPlanExecutionFailed", "Unknown Error");
        fail(error, true);
        return;
      }
      case core::WorkflowExecution::ABORTED:
      case core::WorkflowExecution::TIMED_OUT: {
        const bool aborted = execution.closure().phase() == core::WorkflowExecution::ABORTED;
        fail(MakeError(core::ExecutionError::USER, "RemoteChildWorkflowExecutionFailed",
                       "failed at Node[" + node.id() +
                           "]. RemoteChildWorkflowExecutionFailed: launchplan [" + child.name() +
                           (aborted ? "] aborted, caused by: launchplan execution aborted"
                                    : "] timed out, caused by: launchplan execution timed out")),
             true);
        return;
      }
      default:
        break;
    }
  }
}

event::TaskExecutionEvent Run::ArrayTaskEvent(const ArrayRun& array,
                                              core::TaskExecution::Phase phase) {
  event::TaskExecutionEvent e;
  *e.mutable_task_id() = array.task_id;
  *e.mutable_parent_node_execution_id()->mutable_execution_id() = data_.execution_id;
  e.mutable_parent_node_execution_id()->set_node_id(array.unique_id);
  e.set_retry_attempt(0);  // an array node never retries
  e.set_phase(phase);
  e.set_producer_id(owner_.settings().cluster_id);
  *e.mutable_occurred_at() = Now();
  *e.mutable_reported_at() = Now();
  e.mutable_metadata()->set_plugin_identifier("k8s-array");
  e.set_task_type("container_array");
  e.set_event_version(1);
  return e;
}

namespace {

// errorcollector.Summary: each message after the index ranges it came from ("[0-2][5]: msg").
std::string ErrorSummary(const std::map<std::string, std::vector<int>>& messages) {
  constexpr std::size_t kLimit = 1024 * 100;  // events.MaxErrorMessageLength
  const std::string more = "... and many more.";
  std::string out;
  for (const auto& [message, indexes] : messages) {
    std::string ranges;
    for (std::size_t i = 0; i < indexes.size();) {
      std::size_t j = i;
      while (j + 1 < indexes.size() && indexes[j + 1] == indexes[j] + 1) ++j;
      ranges += i == j ? "[" + std::to_string(indexes[i]) + "]"
                       : "[" + std::to_string(indexes[i]) + "-" + std::to_string(indexes[j]) + "]";
      i = j + 1;
    }
    out += ranges + ": " + message + "\n";
    if (out.size() >= kLimit - more.size()) {
      out += more;
      break;
    }
  }
  return out;
}

}  // namespace

void Run::RunArrayNode(const NodeRef& ref, const std::string& input_uri,
                       const core::LiteralMap& inputs) {
  const core::Node& node = *ref.node;
  const auto& array = node.array_node();
  auto event = [&](core::NodeExecution::Phase phase) {
    return NodeEvent(*ref.scope, node, phase, input_uri);
  };
  auto fail = [&](core::ExecutionError::ErrorKind kind, const std::string& code,
                  const std::string& message) {
    FailNode(ref, input_uri, MakeError(kind, code, message));
  };
  const std::set<std::string> bound(array.bound_inputs().begin(), array.bound_inputs().end());
  // The sub-node count: the length of the (equally long) collection inputs.
  int size = -1;
  for (const auto& [name, literal] : inputs.literals()) {
    if (bound.count(name) > 0 || !literal.has_collection()) continue;
    const int length = literal.collection().literals_size();
    if (size == -1) {
      size = length;
    } else if (size != length) {
      fail(core::ExecutionError::USER, "InvalidArrayLength",
           "input arrays have different lengths: expecting '" + std::to_string(size) + "' found '" +
               std::to_string(length) + "'");
      return;
    }
  }
  if (size == -1) {
    if (static_cast<int>(bound.size()) != inputs.literals_size()) {
      fail(core::ExecutionError::USER, "InvalidArrayLength", "no input array provided");
      return;
    }
    size = 1;
  }
  const core::TaskTemplate* task_template =
      FindTask(*ref.scope, array.node().task_node().reference_id());
  if (task_template == nullptr) {
    fail(core::ExecutionError::SYSTEM, "BadSpecificationError",
         "task [" + IdString(array.node().task_node().reference_id()) + "] not found");
    return;
  }
  const core::TaskTemplate& task = *task_template;
  const std::string output_dir = Join(ref.data_dir, {"0"});
  ArrayRun run;
  run.task_id = task.id();
  run.task_id.set_resource_type(core::TASK);
  run.unique_id = ref.unique_id;
  run.input_uri = input_uri;
  run.external_id_prefix = FixedLengthUniqueIdForParts(
      kGeneratedNameMaxLength, {data_.execution_id.name(), ref.unique_id, "0"});

  // As propeller: QUEUED with every sub-node, then the node runs.
  auto all_resources = [&](event::TaskExecutionEvent& e,
                           const std::function<core::TaskExecution::Phase(int)>& phase_of,
                           const std::function<uint32_t(int)>& attempt_of) {
    for (int i = 0; i < size; ++i) {
      auto* r = e.mutable_metadata()->add_external_resources();
      r->set_external_id(run.external_id_prefix + "-n" + std::to_string(i) + "-" +
                         std::to_string(attempt_of(i)));
      r->set_index(static_cast<uint32_t>(i));
      r->set_retry_attempt(attempt_of(i));
      r->set_phase(phase_of(i));
    }
  };
  {
    auto queued = ArrayTaskEvent(run, core::TaskExecution::QUEUED);
    queued.set_input_uri(input_uri);
    all_resources(
        queued, [](int) { return core::TaskExecution::UNDEFINED; }, [](int) { return 0u; });
    SendTaskEvent(std::move(queued));
  }
  SendNodeEvent(event(core::NodeExecution::RUNNING));

  // The sub-nodes: copies of the array's node named n<i>, without bindings (their inputs are
  // the i-th elements), under the array's output directory.
  std::vector<core::Node> subs(size, array.node());
  std::vector<core::LiteralMap> sub_inputs(size);
  Scope child;
  child.wf = ref.scope->wf;
  child.parent_scope = ref.scope;
  Inherit(child, *ref.scope);
  child.parent = ParentInfo{ref.unique_id, 0};
  child.data_base = output_dir;
  for (int i = 0; i < size; ++i) {
    subs[i].set_id("n" + std::to_string(i));
    subs[i].mutable_metadata()->set_name(subs[i].id());
    subs[i].clear_inputs();
    child.nodes[subs[i].id()] = &subs[i];
    child.states[subs[i].id()];
    for (const auto& [name, literal] : inputs.literals()) {
      auto& out = (*sub_inputs[i].mutable_literals())[name];
      out = literal.has_collection() && bound.count(name) == 0 ? literal.collection().literals(i)
                                                               : literal;
    }
  }
  int min_successes = size;
  if (array.success_criteria_case() == core::ArrayNode::kMinSuccesses) {
    min_successes = static_cast<int>(array.min_successes());
  } else if (array.success_criteria_case() == core::ArrayNode::kMinSuccessRatio) {
    min_successes = static_cast<int>(std::ceil(array.min_success_ratio() * size));
  }
  const int parallelism = array.parallelism() > 0 ? static_cast<int>(array.parallelism()) : size;
  std::vector<uint32_t> attempts(size, 0);
  {
    std::unique_lock lock(mu_);
    int next = 0;
    while (true) {
      int failed = 0;
      for (const auto& [id, state] : child.states) failed += state.phase == NodePhase::kFailed;
      if (size - failed < min_successes && !child.cancel) {
        // Too few can still succeed: propeller aborts the others.
        child.cancel = true;
        child.abort_reason = "ArrayNodeFailing";
        cv_.notify_all();
      }
      while (!Cancelled(child) && next < size && child.running < parallelism) {
        const int i = next++;
        auto& state = child.states[subs[i].id()];
        state.phase = NodePhase::kRunning;
        ++child.running;
        NodeRef sub{&child,
                    &subs[i],
                    GenerateUniqueId(child.parent, subs[i].id()),
                    Join(output_dir, {std::to_string(i)}),
                    ref.data_dir,
                    &run,
                    i};
        owner_.pool().Submit([self = shared_from_this(), sub, &task, &sub_inputs, i] {
          self->RunTaskNode(sub, task, sub.input_dir + "/inputs.pb", sub_inputs[i]);
        });
      }
      if (child.running == 0 && (next == size || Cancelled(child))) break;
      cv_.wait(lock);
    }
  }

  // Gather: each output a collection over the sub-nodes, a failed one's element None.
  std::map<std::string, std::vector<int>> failures;
  std::vector<NodePhase> phases(size);
  std::vector<std::string> output_dirs(size);
  bool aborted_by_parent;
  {
    std::lock_guard lock(mu_);
    aborted_by_parent = Cancelled(*ref.scope);
    for (int i = 0; i < size; ++i) {
      const auto& state = child.states[subs[i].id()];
      phases[i] = state.phase;
      output_dirs[i] = state.output_dir;
    }
  }
  int succeeded = 0, failed = 0;
  for (int i = 0; i < size; ++i) {
    if (phases[i] == NodePhase::kSucceeded) ++succeeded;
    if (phases[i] == NodePhase::kFailed) ++failed;
    if (phases[i] == NodePhase::kSucceeded && !output_dirs[i].empty()) {
      auto pos = output_dirs[i].rfind('/');
      attempts[i] = static_cast<uint32_t>(std::stoul(output_dirs[i].substr(pos + 1)));
    }
  }
  auto phase_of = [&](int i) {
    switch (phases[i]) {
      case NodePhase::kSucceeded:
        return core::TaskExecution::SUCCEEDED;
      case NodePhase::kFailed:
        return core::TaskExecution::FAILED;
      case NodePhase::kAborted:
        return core::TaskExecution::ABORTED;
      default:
        return core::TaskExecution::UNDEFINED;
    }
  };
  auto attempt_of = [&](int i) { return attempts[i]; };
  if (aborted_by_parent) {
    auto e = ArrayTaskEvent(run, core::TaskExecution::ABORTED);
    all_resources(e, phase_of, attempt_of);
    SendTaskEvent(std::move(e));
    EndNode(ref, NodePhase::kAborted, "", nullptr, event(core::NodeExecution::ABORTED));
    return;
  }
  if (size - failed < min_successes) {
    // The sub-nodes' errors, as their failed node events carried them.
    for (int i = 0; i < size; ++i) {
      if (phases[i] != NodePhase::kFailed) continue;
      std::lock_guard lock(mu_);
      failures[child.states[subs[i].id()].error.message()].push_back(i);
    }
    core::ExecutionError error;
    error.set_message(ErrorSummary(failures));
    auto e = ArrayTaskEvent(run, core::TaskExecution::FAILED);
    all_resources(e, phase_of, attempt_of);
    *e.mutable_error() = error;
    SendTaskEvent(std::move(e));
    FailNode(ref, input_uri, error);
    return;
  }
  core::LiteralMap outputs;
  for (const auto& [name, var] : task.interface().outputs().variables())
    (*outputs.mutable_literals())[name].mutable_collection();
  for (int i = 0; i < size; ++i) {
    core::LiteralMap sub_outputs;
    if (phases[i] == NodePhase::kSucceeded) {
      const std::string uri = output_dirs[i] + "/outputs.pb";
      auto bytes = store_.Read(uri);
      if (!bytes.ok() || !sub_outputs.ParseFromString(bytes.value())) {
        fail(core::ExecutionError::SYSTEM, "OutputsNotFound",
             "failed to read the outputs of sub-node " + std::to_string(i) + " from [" + uri + "]");
        return;
      }
    }
    for (const auto& [name, var] : task.interface().outputs().variables()) {
      core::Literal element;
      auto it = sub_outputs.literals().find(name);
      if (phases[i] == NodePhase::kSucceeded && it != sub_outputs.literals().end()) {
        element = it->second;
      } else {
        element.mutable_scalar()->mutable_none_type();
      }
      *(*outputs.mutable_literals())[name].mutable_collection()->add_literals() = element;
    }
  }
  const std::string output_uri = output_dir + "/outputs.pb";
  if (auto s = store_.Write(output_uri, outputs.SerializeAsString()); !s.ok()) {
    fail(core::ExecutionError::SYSTEM, "StorageError",
         "failed to write the array node's outputs to [" + output_uri + "]: " + s.message());
    return;
  }
  auto e = ArrayTaskEvent(run, core::TaskExecution::SUCCEEDED);
  all_resources(e, phase_of, attempt_of);
  e.set_output_uri(output_uri);
  SendTaskEvent(std::move(e));
  auto done = event(core::NodeExecution::SUCCEEDED);
  done.set_output_uri(output_uri);
  EndNode(ref, NodePhase::kSucceeded, output_dir, nullptr, std::move(done));
}

}  // namespace flyte::plugins::executor
