// One execution run locally: flytepropeller's node walk, storage layout and event sequence.
#include "run.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "flyte/plugin/call_context.h"
#include "flyte/plugin/compiler.h"
#include "flyte/plugin/managers.h"
#include "flyteidl/core/dynamic_job.pb.h"
#include "flyteidl/core/errors.pb.h"
#include "node_logic.h"
#include "restart.h"
#include "run_support.h"

// Propeller still fills the deprecated TaskExecutionEvent.reason for older admins.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::executor {

namespace {

namespace core = flyteidl::core;
namespace event = flyteidl::event;
namespace admin = flyteidl::admin;
using plugin::Status;
using plugin::StatusOr;
using namespace run_support;

constexpr auto kPollInterval = std::chrono::milliseconds(20);

void CollectPromises(const core::BindingData& data, std::set<std::string>& out) {
  switch (data.value_case()) {
    case core::BindingData::kPromise:
      out.insert(data.promise().node_id());
      break;
    case core::BindingData::kCollection:
      for (const auto& b : data.collection().bindings()) CollectPromises(b, out);
      break;
    case core::BindingData::kMap:
      for (const auto& [k, b] : data.map().bindings()) CollectPromises(b, out);
      break;
    default:
      break;
  }
}

// A node's promises and, for a branch, those of the nodes it may run: the branch waits for them.
void CollectNodePromises(const core::Node& node, std::set<std::string>& out) {
  for (const auto& b : node.inputs()) CollectPromises(b.binding(), out);
  if (node.has_branch_node()) {
    const auto& ie = node.branch_node().if_else();
    CollectNodePromises(ie.case_().then_node(), out);
    for (const auto& b : ie.other()) CollectNodePromises(b.then_node(), out);
    if (ie.has_else_node()) CollectNodePromises(ie.else_node(), out);
  }
}

// Sends one event through a manager, as propeller's event sink does: a duplicate (ALREADY_EXISTS)
// counts as recorded; NOT_FOUND is retried for a while, as the launcher stores the execution
// only after the executor has accepted it.
template <typename Send>
bool Deliver(LocalExecutor& owner, const std::string& what, Send send) {
  const auto deadline = std::chrono::steady_clock::now() + owner.settings().event_wait;
  while (true) {
    plugin::CallContext call("/flyteidl.service.AdminService/" + what, {}, "flyte_executor_local",
                             false);
    Status s = send(call);
    if (s.ok() || s.code() == plugin::StatusCode::kAlreadyExists) return true;
    if (s.code() == plugin::StatusCode::kNotFound && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    owner.host().Logger()->warn("local executor: {} refused: {}", what, s.message());
    return false;
  }
}

bool SendWorkflow(LocalExecutor& owner, const core::WorkflowExecutionIdentifier& id,
                  core::WorkflowExecution::Phase phase, const core::ExecutionError* error,
                  const std::string& output_uri) {
  auto manager =
      owner.host().Plugins().Get<plugin::ExecutionManager>(plugin::plugin_id::kExecutionManager);
  if (!manager) {
    owner.host().Logger()->error(
        "local executor: no ExecutionManager plugin to send workflow events to");
    return false;
  }
  admin::WorkflowExecutionEventRequest request;
  request.set_request_id(id.name() + "-" + core::WorkflowExecution::Phase_Name(phase));
  auto* e = request.mutable_event();
  *e->mutable_execution_id() = id;
  e->set_producer_id(owner.settings().cluster_id);
  e->set_phase(phase);
  *e->mutable_occurred_at() = Now();
  if (error != nullptr) *e->mutable_error() = *error;
  if (!output_uri.empty()) e->set_output_uri(output_uri);
  return Deliver(owner, "CreateWorkflowEvent", [&](plugin::CallContext& call) {
    admin::WorkflowExecutionEventResponse response;
    return manager->CreateWorkflowEvent(call, request, response);
  });
}

}  // namespace

namespace {

Status CheckNode(const core::CompiledWorkflowClosure& closure, const std::set<std::string>& tasks,
                 const core::Node& node, int depth);

Status CheckNodes(const core::CompiledWorkflowClosure& closure, const std::set<std::string>& tasks,
                  const core::WorkflowTemplate& wf, int depth) {
  if (wf.has_failure_node()) {
    if (auto s = CheckNode(closure, tasks, wf.failure_node(), depth + 1); !s.ok()) return s;
  }
  for (const auto& node : wf.nodes()) {
    if (node.id() == kStartNode || node.id() == kEndNode) continue;
    if (auto s = CheckNode(closure, tasks, node, depth); !s.ok()) return s;
  }
  return Status::Ok();
}

Status CheckNode(const core::CompiledWorkflowClosure& closure, const std::set<std::string>& tasks,
                 const core::Node& node, int depth) {
  // Node ids become path segments of the store and of the scratch directory.
  if (node.id().empty() || node.id() == "." || node.id() == ".." ||
      node.id().find('/') != std::string::npos) {
    return plugin::InvalidArgument("node id [" + node.id() +
                                   "] cannot name a storage location for the local executor");
  }
  // Compiled sub-workflows may not reference themselves; the bound only guards the walk.
  if (depth > kMaxNesting) {
    return plugin::InvalidArgument("node " + node.id() + " is nested more than " +
                                   std::to_string(kMaxNesting) + " levels deep");
  }
  if (node.has_task_node()) {
    if (tasks.count(TaskKey(node.task_node().reference_id())) == 0) {
      return plugin::Unimplemented("the local executor runs container tasks only; task " +
                                   node.task_node().reference_id().name() + " of node " +
                                   node.id() + " has no container");
    }
    return Status::Ok();
  }
  if (node.has_workflow_node()) {
    if (node.workflow_node().has_launchplan_ref()) return Status::Ok();
    const auto* sub = FindSubWorkflow(closure, node.workflow_node().sub_workflow_ref());
    if (sub == nullptr) {
      return plugin::InvalidArgument("failed to find sub workflow with ID [" +
                                     IdString(node.workflow_node().sub_workflow_ref()) +
                                     "] for node " + node.id());
    }
    return CheckNodes(closure, tasks, sub->template_(), depth + 1);
  }
  if (node.has_branch_node()) {
    const auto& ie = node.branch_node().if_else();
    if (!ie.has_case_() || !ie.case_().has_then_node())
      return plugin::InvalidArgument("branch node " + node.id() + " has no case to run");
    std::vector<const core::Node*> children{&ie.case_().then_node()};
    for (const auto& b : ie.other()) children.push_back(&b.then_node());
    if (ie.has_else_node()) children.push_back(&ie.else_node());
    for (const auto* child : children) {
      if (auto s = CheckNode(closure, tasks, *child, depth + 1); !s.ok()) return s;
    }
    return Status::Ok();
  }
  if (node.has_gate_node()) return Status::Ok();
  if (node.has_array_node()) {
    const auto& sub = node.array_node().node();
    if (!sub.has_task_node() || tasks.count(TaskKey(sub.task_node().reference_id())) == 0) {
      return plugin::Unimplemented(
          "the local executor runs array nodes over container tasks only (node " + node.id() + ")");
    }
    return Status::Ok();
  }
  return plugin::Unimplemented("the local executor does not run target-less nodes (node " +
                               node.id() + ")");
}

}  // namespace

Status CheckSupported(const core::CompiledWorkflowClosure& closure) {
  std::set<std::string> tasks;
  for (const auto& t : closure.tasks()) {
    if (t.template_().has_container()) tasks.insert(TaskKey(t.template_().id()));
  }
  return CheckNodes(closure, tasks, closure.primary().template_(), 0);
}

Run::Run(LocalExecutor& owner, plugin::ObjectStore& store, plugin::ExecutionData data)
    : owner_(owner), store_(store), data_(std::move(data)) {
  for (const auto& t : data_.workflow_closure.tasks())
    tasks_[TaskKey(t.template_().id())] = &t.template_();
  const auto& wf = data_.workflow_closure.primary();
  std::vector<const core::Node*> nodes;
  for (const auto& node : wf.template_().nodes()) nodes.push_back(&node);
  InitScope(top_, wf.template_(), &wf.connections(), nodes);
  const auto& id = data_.execution_id;
  auto segments = owner_.settings().metadata_prefix;
  segments.push_back(id.project() + "-" + id.domain() + "-" + id.name());
  wf_dir_ = Join(store_.BaseUri(), segments);
  raw_prefix_ = data_.parameters.raw_output_data_config.output_location_prefix();
  if (raw_prefix_.empty()) raw_prefix_ = owner_.settings().raw_output_prefix;
  if (raw_prefix_.empty()) raw_prefix_ = store_.BaseUri() + "/data";
  while (raw_prefix_.size() > 1 && raw_prefix_.back() == '/') raw_prefix_.pop_back();
}

void Run::Resume(ResumePoint point) {
  for (const auto& [id, node] : point.nodes) {
    // Only the workflow's own task nodes are resumed (restart.cc refuses any other started node).
    auto it = top_.states.find(id);
    if (it == top_.states.end()) continue;
    switch (node.phase) {
      case ResumePoint::Node::Phase::kSucceeded:
        it->second.phase = NodePhase::kSucceeded;
        it->second.output_dir = node.output_dir;
        break;
      case ResumePoint::Node::Phase::kFailed:
        it->second.phase = NodePhase::kFailed;
        if (!top_.failure) top_.failure = node.error;
        break;
      case ResumePoint::Node::Phase::kRerun:
        if (node.reported_running) started_.insert(GenerateUniqueId(std::nullopt, id));
        break;
    }
  }
  resume_ = std::move(point);
}

void Run::InitScope(Scope& scope, const core::WorkflowTemplate& wf,
                    const core::ConnectionSet* connections,
                    const std::vector<const core::Node*>& nodes) {
  scope.wf = &wf;
  for (const auto* node : nodes) {
    if (node->id() == kStartNode || node->id() == kEndNode) continue;
    scope.nodes[node->id()] = node;
  }
  for (const auto& [id, node] : scope.nodes) {
    auto& state = scope.states[id];
    if (connections != nullptr) {
      if (auto it = connections->upstream().find(id); it != connections->upstream().end())
        state.upstream.insert(it->second.ids().begin(), it->second.ids().end());
    }
    state.upstream.insert(node->upstream_node_ids().begin(), node->upstream_node_ids().end());
    CollectNodePromises(*node, state.upstream);
    for (auto it = state.upstream.begin(); it != state.upstream.end();) {
      it = (*it == id || scope.nodes.count(*it) == 0) ? state.upstream.erase(it) : std::next(it);
    }
  }
}

void Run::Start() {
  thread_ = std::thread([self = shared_from_this()] {
    self->Main();
    self->owner_.RunEnded();
  });
}

void Run::Join() {
  if (!thread_.joinable()) return;
  // Never the run's own thread (std::thread would throw): the host stops runs from its own.
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
    return;
  }
  thread_.join();
}

bool Run::RequestAbort(const std::string& reason, bool silent) {
  bool heard;
  {
    std::lock_guard lock(mu_);
    if (!abort_requested_) {
      abort_requested_ = true;
      top_.abort_reason = reason;
    }
    silent_ = silent_ || silent;
    top_.cancel = true;
    heard = !leaving_unreported_;
  }
  cv_.notify_all();
  return heard;
}

void Run::ReportAborted(LocalExecutor& owner, const core::WorkflowExecutionIdentifier& id) {
  SendWorkflow(owner, id, core::WorkflowExecution::ABORTED, nullptr, "");
}

// Every segment was checked before the run started (CheckSupported, admin's name rules) or comes
// from the config, so the store refuses none; joining by hand only keeps a config typo visible.
std::string Run::Join(const std::string& base, const std::vector<std::string>& segments) {
  auto joined = store_.Join(base, segments);
  if (joined.ok()) return joined.value();
  std::string out = base;
  for (const auto& s : segments) out += "/" + s;
  return out;
}

// propeller: `<workflow dir>/<node>/data` at the top, `<owning node's output dir>/<node>` below.
std::string Run::NodeDataDir(const Scope& scope, const std::string& node_id) {
  if (!scope.parent) return Join(wf_dir_, {node_id, "data"});
  return Join(scope.data_base, {node_id});
}

bool Run::Cancelled(const Scope& scope) {
  for (const Scope* s = &scope; s != nullptr; s = s->parent_scope) {
    if (s->cancel) return true;
  }
  // A failure node runs after its workflow failed, beside the cancelled scope.
  return abort_requested_;
}

std::string Run::AbortReason(const Scope& scope) {
  for (const Scope* s = &scope; s != nullptr; s = s->parent_scope) {
    if (s->cancel) return s->abort_reason;
  }
  return top_.abort_reason;
}

core::ExecutionError Run::RunFailureNode(Scope& failed, const core::Node& failure_node,
                                         const core::ExecutionError& error) {
  // propeller's failure node lookup: the failed scope's nodes, under the same parent.
  Scope scope;
  scope.parent_scope = failed.parent_scope;
  scope.parent = failed.parent;
  scope.resolve_in = &failed;
  scope.data_base = failed.data_base;
  scope.original_error = &error;
  scope.closure = failed.closure;
  scope.in_dynamic_chain = failed.in_dynamic_chain;
  scope.depth = failed.depth;
  InitScope(scope, *failed.wf, nullptr, {&failure_node});
  Coordinate(scope);
  std::lock_guard lock(mu_);
  return scope.failure ? *scope.failure : error;
}

const core::CompiledWorkflowClosure& Run::ClosureOf(const Scope& scope) const {
  return scope.closure != nullptr ? *scope.closure : data_.workflow_closure;
}

const core::TaskTemplate* Run::FindTask(const Scope& scope, const core::Identifier& id) const {
  if (scope.closure == nullptr) {
    auto it = tasks_.find(TaskKey(id));
    return it == tasks_.end() ? nullptr : it->second;
  }
  // A dynamic workflow's closure holds every task its nodes run.
  for (const auto& t : scope.closure->tasks()) {
    if (SameId(t.template_().id(), id)) return &t.template_();
  }
  return nullptr;
}

void Run::Inherit(Scope& child, Scope& parent) {
  child.closure = parent.closure;
  child.in_dynamic_chain = parent.in_dynamic_chain;
  child.depth = parent.depth + 1;
}

bool Run::WaitFor(const Scope& scope, std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return Cancelled(scope); });
  return !Cancelled(scope);
}

bool Run::SendWorkflowEvent(core::WorkflowExecution::Phase phase, const core::ExecutionError* error,
                            const std::string& output_uri) {
  {
    std::lock_guard lock(mu_);
    if (silent_) return false;
  }
  return SendWorkflow(owner_, data_.execution_id, phase, error, output_uri);
}

bool Run::SendNodeEvent(event::NodeExecutionEvent e) {
  {
    std::lock_guard lock(mu_);
    if (silent_) return false;
  }
  auto manager = owner_.host().Plugins().Get<plugin::NodeExecutionManager>(
      plugin::plugin_id::kNodeExecutionManager);
  if (!manager) {
    owner_.host().Logger()->error(
        "local executor: no NodeExecutionManager plugin to send node events to");
    return false;
  }
  admin::NodeExecutionEventRequest request;
  request.set_request_id(data_.execution_id.name() + "-" + e.id().node_id() + "-" +
                         core::NodeExecution::Phase_Name(e.phase()));
  *request.mutable_event() = std::move(e);
  return Deliver(owner_, "CreateNodeEvent", [&](plugin::CallContext& call) {
    admin::NodeExecutionEventResponse response;
    return manager->CreateNodeEvent(call, request, response);
  });
}

bool Run::SendTaskEvent(event::TaskExecutionEvent e) {
  {
    std::lock_guard lock(mu_);
    if (silent_) return false;
  }
  auto manager = owner_.host().Plugins().Get<plugin::TaskExecutionManager>(
      plugin::plugin_id::kTaskExecutionManager);
  if (!manager) {
    owner_.host().Logger()->error(
        "local executor: no TaskExecutionManager plugin to send task events to");
    return false;
  }
  admin::TaskExecutionEventRequest request;
  request.set_request_id(data_.execution_id.name() + "-" + e.parent_node_execution_id().node_id() +
                         "-" + std::to_string(e.retry_attempt()) + "-" +
                         core::TaskExecution::Phase_Name(e.phase()));
  *request.mutable_event() = std::move(e);
  return Deliver(owner_, "CreateTaskEvent", [&](plugin::CallContext& call) {
    admin::TaskExecutionEventResponse response;
    return manager->CreateTaskEvent(call, request, response);
  });
}

bool Run::SendNodeEvent(const NodeRef& ref, event::NodeExecutionEvent e) {
  // An array's sub-nodes are reported through the array node's task events only.
  if (ref.array != nullptr) return true;
  return SendNodeEvent(std::move(e));
}

bool Run::SendTaskEvent(const NodeRef& ref, event::TaskExecutionEvent e) {
  if (ref.array == nullptr) return SendTaskEvent(std::move(e));
  // propeller's legacy (event version 0) array events: the sub-node's task event becomes an
  // external resource of the array node's RUNNING task event, its phase version one higher.
  auto out = ArrayTaskEvent(*ref.array, core::TaskExecution::RUNNING);
  {
    std::lock_guard lock(mu_);
    out.set_phase_version(++ref.array->phase_version);
  }
  auto* resource = out.mutable_metadata()->add_external_resources();
  resource->set_external_id(ref.array->external_id_prefix + "-n" + std::to_string(ref.array_index) +
                            "-" + std::to_string(e.retry_attempt()));
  resource->set_index(static_cast<uint32_t>(ref.array_index));
  resource->set_retry_attempt(e.retry_attempt());
  resource->set_phase(e.phase());
  *resource->mutable_logs() = e.logs();
  resource->set_cache_status(core::CACHE_DISABLED);
  return SendTaskEvent(std::move(out));
}

event::NodeExecutionEvent Run::NodeEvent(const Scope& scope, const core::Node& node,
                                         core::NodeExecution::Phase phase,
                                         const std::string& input_uri) {
  event::NodeExecutionEvent e;
  if (!input_uri.empty()) e.set_input_uri(input_uri);
  *e.mutable_id()->mutable_execution_id() = data_.execution_id;
  e.mutable_id()->set_node_id(GenerateUniqueId(scope.parent, node.id()));
  e.set_phase(phase);
  *e.mutable_occurred_at() = Now();
  e.set_producer_id(owner_.settings().cluster_id);
  e.set_event_version(1);
  *e.mutable_reported_at() = Now();
  e.set_spec_node_id(node.id());
  e.set_node_name(node.metadata().name());
  if (scope.parent) {
    e.mutable_parent_node_metadata()->set_node_id(scope.parent->unique_id);
    e.set_retry_group(std::to_string(scope.parent->attempt));
  }
  if (scope.in_dynamic_chain) e.set_is_in_dynamic_chain(true);
  if (node.has_task_node()) *e.mutable_target_entity() = node.task_node().reference_id();
  if (node.has_array_node()) e.set_is_array(true);
  if (node.has_workflow_node()) {
    if (node.workflow_node().has_launchplan_ref())
      *e.mutable_target_entity() = node.workflow_node().launchplan_ref();
    else
      e.set_is_parent(true);
  }
  return e;
}

void Run::Main() {
  const auto& wf = data_.workflow_closure.primary().template_();
  core::Node start;
  start.set_id(kStartNode);
  for (const auto& n : wf.nodes()) {
    if (n.id() == kStartNode) start = n;
  }
  // As propeller's ready workflow: the start node's outputs (the workflow's inputs) are stored
  // before the workflow is reported running.
  const std::string start_out = Join(NodeDataDir(top_, kStartNode), {"0"});
  if (auto s = store_.Write(start_out + "/outputs.pb", data_.parameters.inputs.SerializeAsString());
      !s.ok()) {
    auto err = MakeError(core::ExecutionError::SYSTEM, "CausedByError",
                         "Failed to store workflow inputs (as start node): " + s.message());
    SendWorkflowEvent(core::WorkflowExecution::FAILING, &err, "");
    SendWorkflowEvent(core::WorkflowExecution::FAILED, &err, "");
    finished_ = true;
    return;
  }
  if ((!resume_ || resume_->report_running) &&
      !SendWorkflowEvent(core::WorkflowExecution::RUNNING, nullptr, "")) {
    // Refused, most likely because a terminate got there first (the execution is ABORTING): an
    // abort asked before this point is reported here, one asked after it by Abort itself, so
    // that the execution does not stay ABORTING.
    bool aborted;
    {
      std::lock_guard lock(mu_);
      aborted = abort_requested_;
      leaving_unreported_ = true;
    }
    if (aborted) SendWorkflowEvent(core::WorkflowExecution::ABORTED, nullptr, "");
    finished_ = true;
    return;
  }
  auto start_event = NodeEvent(top_, start, core::NodeExecution::SUCCEEDED);
  start_event.set_output_uri(start_out + "/outputs.pb");
  SendNodeEvent(std::move(start_event));

  const bool all_succeeded = Coordinate(top_);
  std::optional<core::ExecutionError> failure;
  bool aborted, failing_reported;
  {
    std::lock_guard lock(mu_);
    failure = top_.failure;
    aborted = abort_requested_;
    failing_reported = top_.failure.has_value() && top_.cancel && !abort_requested_;
  }
  if (aborted) {
    SendWorkflowEvent(core::WorkflowExecution::ABORTED, nullptr, "");
  } else if (failure) {
    if (!failing_reported) SendWorkflowEvent(core::WorkflowExecution::FAILING, &*failure, "");
    core::ExecutionError error = *failure;
    if (wf.has_failure_node()) error = RunFailureNode(top_, wf.failure_node(), *failure);
    {
      std::lock_guard lock(mu_);
      aborted = abort_requested_;
    }
    if (aborted) {
      SendWorkflowEvent(core::WorkflowExecution::ABORTED, nullptr, "");
    } else {
      SendWorkflowEvent(core::WorkflowExecution::FAILED, &error, "");
    }
  } else if (all_succeeded) {
    core::ExecutionError error;
    if (RunEndNode(top_, error)) {
      SendWorkflowEvent(core::WorkflowExecution::SUCCEEDING, nullptr, "");
      SendWorkflowEvent(core::WorkflowExecution::SUCCEEDED, nullptr,
                        Join(NodeDataDir(top_, kEndNode), {"0"}) + "/outputs.pb");
    } else {
      SendWorkflowEvent(core::WorkflowExecution::FAILING, &error, "");
      SendWorkflowEvent(core::WorkflowExecution::FAILED, &error, "");
    }
  }
  finished_ = true;
}

bool Run::Coordinate(Scope& scope) {
  // As propeller, the execution's failure policy applies at every level.
  const auto& wf = data_.workflow_closure.primary().template_();
  const bool fail_fast =
      wf.metadata().on_failure() != core::WorkflowMetadata::FAIL_AFTER_EXECUTABLE_NODES_COMPLETE;
  const int64_t max_parallelism = data_.parameters.execution_config.max_parallelism();
  const bool top = &scope == &top_;
  std::unique_lock lock(mu_);
  bool failing_reported = false;
  while (true) {
    if (!Cancelled(scope)) {
      for (auto& [id, state] : scope.states) {
        if (state.phase != NodePhase::kNotStarted) continue;
        bool ready = true;
        for (const auto& up : state.upstream)
          ready = ready && scope.states[up].phase == NodePhase::kSucceeded;
        if (!ready) continue;
        const core::Node& node = *scope.nodes.at(id);
        const bool task = CountsAsTask(node);
        if (task && max_parallelism > 0 && running_tasks_ >= max_parallelism) continue;
        state.phase = NodePhase::kRunning;
        ++scope.running;
        if (task) ++running_tasks_;
        if (node.has_task_node()) {
          owner_.pool().Submit(
              [self = shared_from_this(), s = &scope, node_id = id] { self->RunNode(s, node_id); });
        } else {
          // Nodes that wait on others (children, signals, child executions) get a thread of
          // their own so that they never hold a worker their children need.
          scope.threads.emplace_back([this, s = &scope, node_id = id] { RunNode(s, node_id); });
        }
      }
    }
    if (fail_fast && scope.failure && !failing_reported && !abort_requested_) {
      failing_reported = true;
      scope.cancel = true;
      if (top) {
        // Propeller reports FAILING, then aborts what still runs, then reports FAILED.
        scope.abort_reason = "Some node execution failed, auto-abort.";
        auto error = *scope.failure;
        lock.unlock();
        SendWorkflowEvent(core::WorkflowExecution::FAILING, &error, "");
        lock.lock();
      } else {
        scope.abort_reason = scope.failure_abort_reason;
      }
      continue;
    }
    if (scope.running == 0) break;
    cv_.wait(lock);
  }
  auto threads = std::move(scope.threads);
  scope.threads.clear();
  lock.unlock();
  for (auto& t : threads) t.join();
  lock.lock();
  if (scope.failure || abort_requested_ || Cancelled(scope)) return false;
  for (const auto& [id, state] : scope.states) {
    if (state.phase != NodePhase::kSucceeded) return false;
  }
  return true;
}

void Run::FinishNode(Scope& scope, const std::string& node_id, NodePhase phase,
                     const std::optional<core::ExecutionError>& error, bool counts_as_task) {
  {
    std::lock_guard lock(mu_);
    scope.states[node_id].phase = phase;
    --scope.running;
    if (counts_as_task) --running_tasks_;
    if (phase == NodePhase::kFailed && error) {
      scope.states[node_id].error = *error;
      if (!scope.failure) scope.failure = error;
    }
  }
  cv_.notify_all();
}

void Run::FailNode(const NodeRef& ref, const std::string& input_uri,
                   const core::ExecutionError& error) {
  EndNode(ref, NodePhase::kFailed, "", &error,
          NodeEvent(*ref.scope, *ref.node, core::NodeExecution::FAILED, input_uri));
}

void Run::EndNode(const NodeRef& ref, NodePhase phase, const std::string& output_dir,
                  const core::ExecutionError* error, event::NodeExecutionEvent e) {
  if (phase == NodePhase::kAborted) {
    std::string reason;
    {
      std::lock_guard lock(mu_);
      reason = AbortReason(*ref.scope);
    }
    e.set_phase(core::NodeExecution::ABORTED);
    e.mutable_error()->set_code("NodeAborted");
    e.mutable_error()->set_message(reason);
  } else if (phase == NodePhase::kFailed) {
    e.set_phase(core::NodeExecution::FAILED);
    if (error != nullptr) *e.mutable_error() = *error;
  } else {
    e.set_phase(core::NodeExecution::SUCCEEDED);
  }
  *e.mutable_occurred_at() = Now();
  *e.mutable_reported_at() = Now();
  SendNodeEvent(ref, std::move(e));
  if (phase == NodePhase::kSucceeded) {
    std::lock_guard lock(mu_);
    ref.scope->states[ref.node->id()].output_dir = output_dir;
  }
  std::optional<core::ExecutionError> err;
  if (error != nullptr) err = *error;
  FinishNode(*ref.scope, ref.node->id(), phase, err,
             CountsAsTask(*ref.node) && ref.array == nullptr && !ref.slot_released);
}

void Run::RunNode(Scope* scope, const std::string& node_id) {
  const core::Node& node = *scope->nodes.at(node_id);
  {
    std::lock_guard lock(mu_);
    if (Cancelled(*scope)) {
      // Never started as far as the admin knows.
      scope->states[node_id].phase = NodePhase::kAborted;
      --scope->running;
      if (CountsAsTask(node)) --running_tasks_;
      cv_.notify_all();
      return;
    }
  }
  NodeRef ref{
      scope,   &node, GenerateUniqueId(scope->parent, node_id), NodeDataDir(*scope, node_id), "",
      nullptr, -1};
  auto inputs = ResolveBindings(*scope, node.inputs());
  if (!inputs.ok()) {
    auto error = MakeError(core::ExecutionError::SYSTEM, "BindingResolutionFailure",
                           inputs.status().message());
    FailNode(ref, "", error);  // no inputs stored
    return;
  }
  if (scope->original_error != nullptr) {
    // A failure node's `err` input is the error that failed the workflow (propeller names the
    // failure node as the failed node).
    auto it = inputs->mutable_literals()->find("err");
    if (it != inputs->mutable_literals()->end()) {
      auto* u = it->second.mutable_scalar()->mutable_union_();
      auto* e = u->mutable_value()->mutable_scalar()->mutable_error();
      e->set_message(scope->original_error->message());
      e->set_failed_node_id(node_id);
      u->mutable_type()->set_simple(core::ERROR);
      u->mutable_type()->mutable_structure()->set_tag("FlyteError");
    }
  }
  const std::string input_uri = ref.data_dir + "/inputs.pb";
  if (auto s = store_.Write(input_uri, inputs->SerializeAsString()); !s.ok()) {
    auto error = MakeError(
        core::ExecutionError::SYSTEM, "StorageError",
        "Failed to store inputs for Node. InputsFile [" + input_uri + "]: " + s.message());
    FailNode(ref, "", error);  // no inputs stored
    return;
  }
  // A resumed node (always one of the workflow's own) was queued before the restart.
  if (!resume_ || scope != &top_ || resume_->nodes.count(node_id) == 0) {
    auto queued = NodeEvent(*scope, node, core::NodeExecution::QUEUED, input_uri);
    SendNodeEvent(std::move(queued));
  }
  const core::TaskTemplate* task =
      node.has_task_node() ? FindTask(*scope, node.task_node().reference_id()) : nullptr;
  if (node.has_task_node() && task == nullptr) {
    auto error = MakeError(core::ExecutionError::SYSTEM, "BadSpecificationError",
                           "task [" + IdString(node.task_node().reference_id()) + "] not found");
    FailNode(ref, input_uri, error);
  } else if (node.has_task_node()) {
    RunTaskNode(ref, *task, input_uri, inputs.value());
  } else if (node.has_workflow_node() && node.workflow_node().has_launchplan_ref()) {
    RunLaunchPlanNode(ref, input_uri, inputs.value());
  } else if (node.has_workflow_node()) {
    RunSubWorkflowNode(ref, input_uri, inputs.value());
  } else if (node.has_branch_node()) {
    RunBranchNode(ref, input_uri, inputs.value());
  } else if (node.has_gate_node()) {
    RunGateNode(ref, input_uri, inputs.value());
  } else if (node.has_array_node()) {
    RunArrayNode(ref, input_uri, inputs.value());
  } else {
    auto error = MakeError(core::ExecutionError::SYSTEM, "UnsupportedNode",
                           "the local executor cannot run node " + node_id);
    FailNode(ref, input_uri, error);
  }
}

void Run::RunTaskNode(const NodeRef& ref, const core::TaskTemplate& task,
                      const std::string& input_uri, const core::LiteralMap& inputs) {
  uint32_t attempts = 0, system_failures = 0;
  if (resume_ && ref.scope == &top_) {
    if (auto it = resume_->nodes.find(ref.node->id()); it != resume_->nodes.end()) {
      attempts = it->second.next_attempt;
      system_failures = it->second.system_failures;
    }
  }
  TaskAttempts(ref, task, input_uri, inputs, attempts, system_failures, false);
}

void Run::TaskAttempts(NodeRef ref, const core::TaskTemplate& task, std::string input_uri,
                       core::LiteralMap inputs, uint32_t attempts, uint32_t system_failures,
                       bool dynamic_pending) {
  const core::Node& node = *ref.node;
  uint32_t max_attempts = 1;
  if (node.metadata().retries().retries() != 0) {
    max_attempts = node.metadata().retries().retries() + 1;
  } else if (task.metadata().retries().retries() != 0) {
    max_attempts = task.metadata().retries().retries() + 1;
  }
  // Once a task left a futures.pb, propeller's node events say the node is dynamic.
  auto node_event = [&](core::NodeExecution::Phase phase, bool dynamic) {
    auto e = NodeEvent(*ref.scope, node, phase, input_uri);
    if (dynamic) e.set_is_dynamic(true);
    return e;
  };
  while (true) {
    const std::string output_dir = Join(ref.data_dir, {std::to_string(attempts)});
    AttemptResult r;
    bool cancelled;
    {
      std::lock_guard lock(mu_);
      cancelled = Cancelled(*ref.scope);
    }
    if (cancelled) {
      r.kind = AttemptResult::Kind::kAborted;
      r.dynamic = dynamic_pending;
    } else if (dynamic_pending) {
      dynamic_pending = false;
      r = RunDynamic(ref, task, output_dir, attempts);
    } else {
      r = RunAttempt(ref, task, output_dir, inputs, attempts);
      if (r.kind == AttemptResult::Kind::kSuccess && r.dynamic) {
        // The dynamic workflow's nodes need the workers: the node waits for them on a thread of
        // its own, and gives back its max_parallelism slot, which its children take.
        {
          std::lock_guard lock(mu_);
          if (!ref.slot_released) {
            --running_tasks_;
            ref.slot_released = true;
          }
          ref.scope->threads.emplace_back([this, ref, &task, input_uri, inputs, attempts,
                                           system_failures] {
            TaskAttempts(ref, task, input_uri, inputs, attempts, system_failures, true);
          });
        }
        cv_.notify_all();
        return;
      }
    }
    switch (r.kind) {
      case AttemptResult::Kind::kSuccess: {
        auto e = node_event(core::NodeExecution::SUCCEEDED, r.dynamic);
        if (!r.dynamic) {
          e.set_output_uri(output_dir + "/outputs.pb");
          e.mutable_task_node_metadata()->set_checkpoint_uri(r.checkpoint_uri);
        } else if (task.interface().outputs().variables_size() > 0) {
          e.set_output_uri(output_dir + "/outputs.pb");
        }
        EndNode(ref, NodePhase::kSucceeded, output_dir, nullptr, std::move(e));
        return;
      }
      case AttemptResult::Kind::kAborted:
        EndNode(ref, NodePhase::kAborted, "", nullptr,
                node_event(core::NodeExecution::ABORTED, r.dynamic));
        return;
      case AttemptResult::Kind::kPermanent:
        EndNode(ref, NodePhase::kFailed, "", &r.error,
                node_event(core::NodeExecution::FAILED, r.dynamic));
        return;
      case AttemptResult::Kind::kRetryable:
        break;
    }
    // propeller's isEligibleForRetry: system failures have a budget of their own.
    uint32_t current, max;
    bool eligible;
    if (r.error.kind() == core::ExecutionError::SYSTEM) {
      current = system_failures;
      max = static_cast<uint32_t>(owner_.settings().max_system_failures);
      eligible = current < max;
    } else {
      current = attempts + 1 - system_failures;
      max = max_attempts;
      eligible = current < max;
    }
    if (r.error.kind() == core::ExecutionError::SYSTEM) ++system_failures;
    if (eligible) {
      ++attempts;
      continue;
    }
    auto error = MakeError(core::ExecutionError::USER, "RetriesExhausted|" + r.error.code(),
                           "[" + std::to_string(current) + "/" + std::to_string(max) +
                               "] currentAttempt done. Last Error: " +
                               core::ExecutionError::ErrorKind_Name(r.error.kind()) +
                               "::" + r.error.message());
    EndNode(ref, NodePhase::kFailed, "", &error,
            node_event(core::NodeExecution::FAILED, r.dynamic));
    return;
  }
}

Run::AttemptResult Run::RunAttempt(const NodeRef& ref, const core::TaskTemplate& task,
                                   const std::string& output_dir, const core::LiteralMap& inputs,
                                   uint32_t attempt) {
  const core::Node& node = *ref.node;
  // An array's sub-nodes read the array node's inputs (and their index from the environment).
  const std::string& data_dir = ref.input_dir.empty() ? ref.data_dir : ref.input_dir;
  const auto& id = data_.execution_id;
  auto raw_for = [&](uint32_t a) {
    const std::string unique = FixedLengthUniqueIdForParts(
        kGeneratedNameMaxLength, {id.name(), ref.unique_id, std::to_string(a)});
    return std::make_pair(unique, Join(raw_prefix_, {Base36ShardPrefix(unique), unique}));
  };
  const auto [generated_name, raw] = raw_for(attempt);
  AttemptResult result;
  result.checkpoint_uri = raw + "/_flytecheckpoints";

  event::TaskExecutionEvent base;
  *base.mutable_task_id() = task.id();
  base.mutable_task_id()->set_resource_type(core::TASK);
  *base.mutable_parent_node_execution_id()->mutable_execution_id() = id;
  base.mutable_parent_node_execution_id()->set_node_id(ref.unique_id);
  base.set_retry_attempt(attempt);
  base.set_producer_id(owner_.settings().cluster_id);
  base.set_task_type(task.type());
  base.mutable_metadata()->set_generated_name(generated_name);
  base.mutable_metadata()->set_plugin_identifier("local");
  base.set_event_version(1);
  base.set_input_uri(data_dir + "/inputs.pb");
  // Nothing differs for a local process; the event tells the instance class propeller would ask.
  base.mutable_metadata()->set_instance_class(
      ResolveInterruptible(node.metadata(), data_.parameters.execution_config,
                           data_.workflow_closure.primary().template_())
          ? event::TaskExecutionMetadata::INTERRUPTIBLE
          : event::TaskExecutionMetadata::DEFAULT);
  auto task_event = [&](core::TaskExecution::Phase phase, const core::ExecutionError* error) {
    auto e = base;
    e.set_phase(phase);
    *e.mutable_occurred_at() = Now();
    *e.mutable_reported_at() = Now();
    if (error != nullptr) {
      *e.mutable_error() = *error;
      e.set_reason(error->message());
      auto* reason = e.add_reasons();
      reason->set_reason(error->message());
      *reason->mutable_occurred_at() = e.occurred_at();
    }
    if (phase == core::TaskExecution::SUCCEEDED) e.set_output_uri(output_dir + "/outputs.pb");
    SendTaskEvent(ref, std::move(e));
  };
  auto fail = [&](AttemptResult::Kind kind, core::ExecutionError error) {
    result.kind = kind;
    result.error = std::move(error);
    task_event(core::TaskExecution::FAILED, &result.error);
    return result;
  };

  TemplateValues values;
  values.input_file = data_dir + "/inputs.pb";
  values.input_prefix = data_dir;
  values.output_prefix = output_dir;
  values.raw_output_prefix = raw;
  values.checkpoint_prefix = result.checkpoint_uri;
  if (attempt > 0)
    values.prev_checkpoint_prefix = raw_for(attempt - 1).second + "/_flytecheckpoints";
  values.per_retry_unique_key = generated_name;
  values.ns = data_.namespace_;
  values.inputs = &inputs;
  values.task_template_path = [&]() -> StatusOr<std::string> {
    const std::string uri = data_dir + "/task.pb";
    if (auto s = store_.Write(uri, task.SerializeAsString()); !s.ok()) return s;
    return uri;
  };
  std::vector<std::string> argv(task.container().command().begin(),
                                task.container().command().end());
  argv.insert(argv.end(), task.container().args().begin(), task.container().args().end());
  auto rendered = RenderTemplate(argv, values);
  if (!rendered.ok()) {
    return fail(
        AttemptResult::Kind::kPermanent,
        MakeError(core::ExecutionError::USER, "BadTaskSpecification", rendered.status().message()));
  }

  // Environment: what the server passes on, Flyte's execution variables, the execution config's
  // envs, then the container's own.
  std::map<std::string, std::string> env;
  for (const auto& name : owner_.settings().inherit_env) {
    if (const char* v = std::getenv(name.c_str())) env[name] = v;
  }
  env["FLYTE_INTERNAL_EXECUTION_WORKFLOW"] = data_.reference_workflow_name;
  env["FLYTE_INTERNAL_EXECUTION_ID"] = id.name();
  env["FLYTE_INTERNAL_EXECUTION_PROJECT"] = id.project();
  env["FLYTE_INTERNAL_EXECUTION_DOMAIN"] = id.domain();
  env["FLYTE_ATTEMPT_NUMBER"] = std::to_string(attempt);
  env["FLYTE_INTERNAL_TASK_PROJECT"] = task.id().project();
  env["FLYTE_INTERNAL_TASK_DOMAIN"] = task.id().domain();
  env["FLYTE_INTERNAL_TASK_NAME"] = task.id().name();
  env["FLYTE_INTERNAL_TASK_VERSION"] = task.id().version();
  for (const auto& kv : data_.parameters.execution_config.envs().values())
    env[kv.key()] = kv.value();
  if (ref.array != nullptr) {
    env["BATCH_JOB_ARRAY_INDEX_VAR_NAME"] = "FLYTE_K8S_ARRAY_INDEX";
    env["FLYTE_K8S_ARRAY_INDEX"] = std::to_string(ref.array_index);
  }
  for (const auto& kv : task.container().env()) env[kv.key()] = kv.value();
  std::vector<std::string> envp;
  for (const auto& [k, v] : env) envp.push_back(k + "=" + v);

  namespace fs = std::filesystem;
  const fs::path scratch = fs::path(owner_.settings().scratch_directory) /
                           (id.project() + "-" + id.domain() + "-" + id.name()) / ref.unique_id /
                           std::to_string(attempt);
  std::error_code ec;
  fs::create_directories(scratch, ec);
  const std::string log_file = (scratch / "output.log").string();

  auto child = ChildProcess::Spawn(rendered.value(), envp, scratch.string(), log_file);
  if (!child.ok()) {
    return fail(
        AttemptResult::Kind::kPermanent,
        MakeError(core::ExecutionError::USER, "ProcessStartFailure", child.status().message()));
  }
  owner_.processes().Add(child->pid());
  task_event(core::TaskExecution::RUNNING, nullptr);
  // The node runs once its first attempt does.
  {
    bool send = false;
    {
      std::lock_guard lock(mu_);
      send = started_.insert(ref.unique_id).second;
    }
    if (send) {
      auto e = NodeEvent(*ref.scope, node, core::NodeExecution::RUNNING, data_dir + "/inputs.pb");
      SendNodeEvent(ref, std::move(e));
    }
  }

  // Deadlines: the node's timeout (propeller's execution deadline, retried) and the task's (the
  // pod's active deadline on a cluster).
  std::optional<std::chrono::steady_clock::time_point> node_deadline, task_deadline;
  const auto started = std::chrono::steady_clock::now();
  if (node.metadata().has_timeout() && ToDuration(node.metadata().timeout()).count() > 0)
    node_deadline = started + ToDuration(node.metadata().timeout());
  if (task.metadata().has_timeout() && ToDuration(task.metadata().timeout()).count() > 0)
    task_deadline = started + ToDuration(task.metadata().timeout());

  std::optional<int> status;
  bool cancelled = false;
  std::optional<core::ExecutionError> timeout;
  while (!status) {
    status = child->Poll();
    if (status) break;
    {
      std::lock_guard lock(mu_);
      cancelled = Cancelled(*ref.scope);
    }
    const auto now = std::chrono::steady_clock::now();
    if (cancelled) {
      status = child->Terminate(owner_.settings().termination_grace);
      break;
    }
    if (node_deadline && now >= *node_deadline) {
      timeout =
          MakeError(core::ExecutionError::USER, "TimeoutExpired",
                    "task execution timeout [" +
                        GoDurationString(ToDuration(node.metadata().timeout())) + "] expired");
    } else if (task_deadline && now >= *task_deadline) {
      timeout =
          MakeError(core::ExecutionError::USER, "DeadlineExceeded",
                    "task active deadline [" +
                        GoDurationString(ToDuration(task.metadata().timeout())) + "] exceeded");
    }
    if (timeout) {
      status = child->Terminate(owner_.settings().termination_grace);
      break;
    }
    CapLog(log_file, owner_.settings().max_log_size);
    child->WaitExit(kPollInterval);
  }
  owner_.processes().Remove(child->pid());
  CapLog(log_file, owner_.settings().max_log_size);

  if (cancelled) {
    std::string reason;
    {
      std::lock_guard lock(mu_);
      reason = AbortReason(*ref.scope);
    }
    auto e = base;
    e.set_phase(core::TaskExecution::ABORTED);
    *e.mutable_occurred_at() = Now();
    *e.mutable_reported_at() = Now();
    e.mutable_error()->set_code("Task Aborted");
    e.mutable_error()->set_message(reason);
    e.set_reason(reason);
    SendTaskEvent(ref, std::move(e));
    result.kind = AttemptResult::Kind::kAborted;
    return result;
  }
  if (timeout) {
    // Propeller aborts the timed-out attempt before it retries.
    auto e = base;
    e.set_phase(core::TaskExecution::ABORTED);
    *e.mutable_occurred_at() = Now();
    *e.mutable_reported_at() = Now();
    e.mutable_error()->set_code("Task Aborted");
    e.mutable_error()->set_message(timeout->message());
    e.set_reason(timeout->message());
    SendTaskEvent(ref, std::move(e));
    result.kind = AttemptResult::Kind::kRetryable;
    result.error = *timeout;
    return result;
  }

  // The task's own error document wins, whatever the exit status.
  const std::string error_uri = output_dir + "/error.pb";
  const int64_t max_size = owner_.settings().max_output_size;
  if (auto size = store_.Size(error_uri); size.ok() && size.value() > max_size) {
    return fail(AttemptResult::Kind::kPermanent, OutputTooLarge(error_uri, size.value(), max_size));
  }
  auto error_bytes = store_.Read(error_uri);
  if (error_bytes.ok()) {
    core::ErrorDocument doc;
    if (!doc.ParseFromString(error_bytes.value())) {
      return fail(AttemptResult::Kind::kRetryable,
                  MakeError(core::ExecutionError::SYSTEM, "ErrorFileBadFormat",
                            "failed to read error data from task @[" + error_uri + "]"));
    }
    if (!doc.has_error()) {
      return fail(AttemptResult::Kind::kRetryable,
                  MakeError(core::ExecutionError::SYSTEM, "ErrorFileBadFormat",
                            "error not formatted correctly, nil error @path [" + error_uri + "]"));
    }
    core::ExecutionError error;
    error.set_code(doc.error().code());
    error.set_message(doc.error().message());
    error.set_kind(doc.error().origin());
    if (doc.error().has_timestamp()) *error.mutable_timestamp() = doc.error().timestamp();
    error.set_worker(doc.error().worker());
    return fail(doc.error().kind() == core::ContainerError::RECOVERABLE
                    ? AttemptResult::Kind::kRetryable
                    : AttemptResult::Kind::kPermanent,
                error);
  }
  if (WIFSIGNALED(*status)) {
    return fail(AttemptResult::Kind::kRetryable,
                MakeError(core::ExecutionError::SYSTEM, "Interrupted",
                          "[" + ref.unique_id + "] terminated by signal (" +
                              std::to_string(WTERMSIG(*status)) + "). Output:\n" +
                              FileTail(log_file, 2048)));
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) != 0) {
    return fail(AttemptResult::Kind::kRetryable,
                MakeError(core::ExecutionError::USER, "ProcessFailed",
                          "[" + ref.unique_id + "] terminated with exit code (" +
                              std::to_string(WEXITSTATUS(*status)) + "). Output:\n" +
                              FileTail(log_file, 2048)));
  }
  // A dynamic task (flytekit's @dynamic) leaves a futures.pb; its outputs come from the workflow
  // it describes, so propeller's task handler does not check them now.
  if (ref.array == nullptr) {
    const std::string futures_uri = output_dir + "/futures.pb";
    if (store_.Size(futures_uri).ok()) {
      // No outputs yet: propeller's task handler observes no output for a dynamic parent.
      auto e = base;
      e.set_phase(core::TaskExecution::SUCCEEDED);
      *e.mutable_occurred_at() = Now();
      *e.mutable_reported_at() = Now();
      SendTaskEvent(ref, std::move(e));
      result.kind = AttemptResult::Kind::kSuccess;
      result.dynamic = true;
      return result;
    }
  }
  if (task.interface().outputs().variables_size() > 0) {
    const std::string outputs_uri = output_dir + "/outputs.pb";
    auto size = store_.Size(outputs_uri);
    if (!size.ok()) {
      core::ExecutionError error;
      error.set_code("OutputsNotFound");
      error.set_message("Outputs not generated by task execution");
      return fail(AttemptResult::Kind::kRetryable, error);
    }
    if (size.value() > max_size) {
      return fail(AttemptResult::Kind::kPermanent,
                  OutputTooLarge(outputs_uri, size.value(), max_size));
    }
    // Unlike propeller, the outputs are checked here, so a task writing the wrong thing fails
    // itself rather than the node that reads it.
    auto bytes = store_.Read(outputs_uri);
    auto compiler =
        owner_.host().Plugins().Get<plugin::WorkflowCompiler>(plugin::plugin_id::kCompiler);
    // An array's sub-node writes one element of each output its task declares as a list.
    core::VariableMap expected = task.interface().outputs();
    if (ref.array != nullptr) {
      for (auto& [name, var] : *expected.mutable_variables()) {
        if (var.type().has_collection_type()) {
          core::LiteralType element = var.type().collection_type();
          *var.mutable_type() = std::move(element);
        }
      }
    }
    auto mismatch = bytes.ok() ? CheckOutputs(bytes.value(), outputs_uri, expected, compiler.get())
                               : std::optional<core::ExecutionError>(MakeError(
                                     core::ExecutionError::SYSTEM, "OutputsNotFound",
                                     "failed to read outputs @[" + outputs_uri +
                                         "]: " + bytes.status().message()));
    if (mismatch) return fail(AttemptResult::Kind::kRetryable, *mismatch);
  }
  task_event(core::TaskExecution::SUCCEEDED, nullptr);
  result.kind = AttemptResult::Kind::kSuccess;
  return result;
}

bool Run::RunStartNode(Scope& scope, const core::LiteralMap& inputs, core::ExecutionError& error) {
  core::Node start;
  start.set_id(kStartNode);
  for (const auto& n : scope.wf->nodes()) {
    if (n.id() == kStartNode) start = n;
  }
  const std::string out = Join(NodeDataDir(scope, kStartNode), {"0"}) + "/outputs.pb";
  if (auto s = store_.Write(out, inputs.SerializeAsString()); !s.ok()) {
    error = MakeError(core::ExecutionError::SYSTEM, "CausedByError",
                      "Failed to store workflow inputs (as start node): " + s.message());
    return false;
  }
  auto e = NodeEvent(scope, start, core::NodeExecution::SUCCEEDED);
  e.set_output_uri(out);
  SendNodeEvent(std::move(e));
  return true;
}

bool Run::RunEndNode(Scope& scope, core::ExecutionError& error) {
  const auto& wf = *scope.wf;
  core::Node end;
  end.set_id(kEndNode);
  for (const auto& n : wf.nodes()) {
    if (n.id() == kEndNode) end = n;
  }
  auto outputs = ResolveBindings(scope, wf.outputs());
  if (!outputs.ok()) {
    error = MakeError(core::ExecutionError::SYSTEM, "BindingResolutionFailure",
                      outputs.status().message());
    auto e = NodeEvent(scope, end, core::NodeExecution::FAILED);
    *e.mutable_error() = error;
    SendNodeEvent(std::move(e));
    return false;
  }
  const std::string dir = NodeDataDir(scope, kEndNode);
  const std::string bytes = outputs->SerializeAsString();
  Status s = store_.Write(dir + "/inputs.pb", bytes);
  if (s.ok()) {
    auto queued = NodeEvent(scope, end, core::NodeExecution::QUEUED, dir + "/inputs.pb");
    SendNodeEvent(std::move(queued));
    s = store_.Write(Join(dir, {"0"}) + "/outputs.pb", bytes);
  }
  if (!s.ok()) {
    error = MakeError(core::ExecutionError::SYSTEM, "CausedByError",
                      "Failed to store workflow outputs, as end-node: " + s.message());
    auto e = NodeEvent(scope, end, core::NodeExecution::FAILED, dir + "/inputs.pb");
    *e.mutable_error() = error;
    SendNodeEvent(std::move(e));
    return false;
  }
  auto done = NodeEvent(scope, end, core::NodeExecution::SUCCEEDED, dir + "/inputs.pb");
  SendNodeEvent(std::move(done));
  return true;
}

StatusOr<core::LiteralMap> Run::ResolveBindings(
    const Scope& scope, const google::protobuf::RepeatedPtrField<core::Binding>& bindings) {
  core::LiteralMap out;
  for (const auto& b : bindings) {
    auto literal = ResolveBindingData(scope, b.binding());
    if (!literal.ok()) {
      return plugin::Internal("Error binding Var [wf].[" + b.var() +
                              "], caused by: " + literal.status().message());
    }
    (*out.mutable_literals())[b.var()] = std::move(literal.value());
  }
  return out;
}

StatusOr<core::Literal> Run::ResolveBindingData(const Scope& scope, const core::BindingData& data) {
  core::Literal literal;
  switch (data.value_case()) {
    case core::BindingData::kCollection: {
      auto* collection = literal.mutable_collection();
      for (const auto& b : data.collection().bindings()) {
        auto l = ResolveBindingData(scope, b);
        if (!l.ok()) return l;
        *collection->add_literals() = std::move(l.value());
      }
      return literal;
    }
    case core::BindingData::kMap: {
      auto* map = literal.mutable_map()->mutable_literals();
      for (const auto& [k, b] : data.map().bindings()) {
        auto l = ResolveBindingData(scope, b);
        if (!l.ok()) return l;
        (*map)[k] = std::move(l.value());
      }
      return literal;
    }
    case core::BindingData::kPromise:
      if (data.promise().node_id().empty())
        return plugin::InvalidArgument("No nodeId (missing) specified for binding in Workflow.");
      return ExtractOutput(scope, data.promise());
    case core::BindingData::kScalar:
      *literal.mutable_scalar() = data.scalar();
      return literal;
    case core::BindingData::kOffloadedMetadata:
      *literal.mutable_offloaded_metadata() = data.offloaded_metadata();
      return literal;
    default:
      return literal;
  }
}

StatusOr<core::Literal> Run::ExtractOutput(const Scope& in, const core::OutputReference& ref) {
  // A branch's taken node reads the nodes around the branch.
  const Scope* scope = &in;
  while (scope->resolve_in != nullptr) scope = scope->resolve_in;
  const std::string& node_id = ref.node_id();
  std::string output_dir;
  std::string var = ref.var();
  if (node_id == kStartNode) {
    output_dir = Join(NodeDataDir(*scope, kStartNode), {"0"});
  } else {
    auto node = scope->nodes.find(node_id);
    if (node == scope->nodes.end())
      return plugin::InvalidArgument("Undefined node in Workflow [" + node_id + "]");
    for (const auto& alias : node->second->output_aliases()) {
      if (alias.alias() == var) var = alias.var();
    }
    std::lock_guard lock(mu_);
    output_dir = scope->states.at(node_id).output_dir;
  }
  const std::string uri = output_dir + "/outputs.pb";
  if (auto size = store_.Size(uri);
      size.ok() && size.value() > owner_.settings().max_output_size) {
    return plugin::Internal("[" + node_id + "] Failed to GetPrevious data from outputDir [" + uri +
                            "]: " + OutputTooLarge(uri, size.value(),
                                                   owner_.settings().max_output_size)
                                        .message());
  }
  auto bytes = store_.Read(uri);
  core::LiteralMap outputs;
  if (!bytes.ok() || !outputs.ParseFromString(bytes.value())) {
    return plugin::Internal(
        "[" + node_id + "] Failed to GetPrevious data from outputDir [" + uri + "]" +
        (bytes.ok() ? std::string(": not a LiteralMap") : ": " + bytes.status().message()));
  }
  auto found = outputs.literals().find(var);
  if (found == outputs.literals().end())
    return plugin::NotFound("[" + node_id + "] Failed to find [" + node_id + "].[" + var + "]");
  core::Literal current = found->second;
  for (const auto& attr : ref.attr_path()) {
    if (current.has_map()) {
      auto it = current.map().literals().find(attr.string_value());
      if (it == current.map().literals().end())
        return plugin::InvalidArgument("[" + node_id + "] key [" + attr.string_value() +
                                       "] does not exist in literal");
      core::Literal next = it->second;
      current = std::move(next);
    } else if (current.has_collection()) {
      if (attr.int_value() < 0 || attr.int_value() >= current.collection().literals_size())
        return plugin::InvalidArgument("[" + node_id + "] index [" +
                                       std::to_string(attr.int_value()) + "] is out of range");
      core::Literal next = current.collection().literals(attr.int_value());
      current = std::move(next);
    } else {
      return plugin::Unimplemented(
          "[" + node_id + "] the local executor resolves attribute paths into maps and lists only");
    }
  }
  return current;
}

}  // namespace flyte::plugins::executor
