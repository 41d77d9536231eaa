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
#include "flyteidl/core/errors.pb.h"
#include "restart.h"

// Propeller still fills the deprecated TaskExecutionEvent.reason for older admins.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::executor {

namespace {

namespace core = flyteidl::core;
namespace event = flyteidl::event;
namespace admin = flyteidl::admin;
using google::protobuf::util::TimeUtil;
using plugin::Status;
using plugin::StatusOr;

constexpr char kStartNode[] = "start-node";
constexpr char kEndNode[] = "end-node";
constexpr int kGeneratedNameMaxLength = 50;  // propeller's IDMaxLength
constexpr auto kPollInterval = std::chrono::milliseconds(20);

google::protobuf::Timestamp Now() { return TimeUtil::GetCurrentTime(); }

std::string TaskKey(const core::Identifier& id) {
  return id.project() + "/" + id.domain() + "/" + id.name() + "/" + id.version();
}

core::ExecutionError MakeError(core::ExecutionError::ErrorKind kind, std::string code,
                               std::string message) {
  core::ExecutionError e;
  e.set_kind(kind);
  e.set_code(std::move(code));
  e.set_message(std::move(message));
  return e;
}

std::chrono::nanoseconds ToDuration(const google::protobuf::Duration& d) {
  return std::chrono::seconds(d.seconds()) + std::chrono::nanoseconds(d.nanos());
}

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

Status CheckSupported(const core::CompiledWorkflowClosure& closure) {
  std::set<std::string> tasks;
  for (const auto& t : closure.tasks()) {
    if (t.template_().has_container()) tasks.insert(TaskKey(t.template_().id()));
  }
  const auto& wf = closure.primary().template_();
  if (wf.has_failure_node()) {
    return plugin::Unimplemented("the local executor does not run failure nodes yet (node " +
                                 wf.failure_node().id() + ")");
  }
  for (const auto& node : wf.nodes()) {
    if (node.id() == kStartNode || node.id() == kEndNode) continue;
    // Node ids become path segments of the store and of the scratch directory.
    if (node.id().empty() || node.id() == "." || node.id() == ".." ||
        node.id().find('/') != std::string::npos) {
      return plugin::InvalidArgument("node id [" + node.id() +
                                     "] cannot name a storage location for the local executor");
    }
    const char* kind = node.has_workflow_node() ? "workflow"
                       : node.has_branch_node() ? "branch"
                       : node.has_gate_node()   ? "gate"
                       : node.has_array_node()  ? "array"
                                                : nullptr;
    if (kind != nullptr || !node.has_task_node()) {
      return plugin::Unimplemented(std::string("the local executor does not run ") +
                                   (kind ? kind : "target-less") + " nodes yet (node " + node.id() +
                                   ")");
    }
    if (tasks.count(TaskKey(node.task_node().reference_id())) == 0) {
      return plugin::Unimplemented("the local executor runs container tasks only; task " +
                                   node.task_node().reference_id().name() + " of node " +
                                   node.id() + " has no container");
    }
  }
  return Status::Ok();
}

struct Run::AttemptResult {
  enum class Kind { kSuccess, kRetryable, kPermanent, kAborted } kind = Kind::kSuccess;
  core::ExecutionError error;
  std::string checkpoint_uri;
};

Run::Run(LocalExecutor& owner, plugin::ObjectStore& store, plugin::ExecutionData data)
    : owner_(owner), store_(store), data_(std::move(data)) {
  std::map<std::string, const core::TaskTemplate*> by_key;
  for (const auto& t : data_.workflow_closure.tasks())
    by_key[TaskKey(t.template_().id())] = &t.template_();
  const auto& wf = data_.workflow_closure.primary();
  for (const auto& node : wf.template_().nodes()) {
    if (node.id() == kStartNode || node.id() == kEndNode) continue;
    nodes_[node.id()] = &node;
    tasks_[node.id()] = by_key[TaskKey(node.task_node().reference_id())];
  }
  for (const auto& [id, node] : nodes_) {
    auto& state = states_[id];
    if (auto it = wf.connections().upstream().find(id); it != wf.connections().upstream().end())
      state.upstream.insert(it->second.ids().begin(), it->second.ids().end());
    state.upstream.insert(node->upstream_node_ids().begin(), node->upstream_node_ids().end());
    for (const auto& b : node->inputs()) CollectPromises(b.binding(), state.upstream);
    for (auto it = state.upstream.begin(); it != state.upstream.end();) {
      it = (*it == id || nodes_.count(*it) == 0) ? state.upstream.erase(it) : std::next(it);
    }
  }
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
    auto it = states_.find(id);
    if (it == states_.end()) continue;
    switch (node.phase) {
      case ResumePoint::Node::Phase::kSucceeded:
        it->second.phase = NodePhase::kSucceeded;
        it->second.output_dir = node.output_dir;
        break;
      case ResumePoint::Node::Phase::kFailed:
        it->second.phase = NodePhase::kFailed;
        if (!failure_) failure_ = node.error;
        break;
      case ResumePoint::Node::Phase::kRerun:
        if (node.reported_running) started_.insert(id);
        break;
    }
  }
  resume_ = std::move(point);
}

void Run::Start() {
  thread_ = std::thread([self = shared_from_this()] { self->Main(); });
}

void Run::Join() {
  if (thread_.joinable()) thread_.join();
}

void Run::RequestAbort(const std::string& reason, bool silent) {
  {
    std::lock_guard lock(mu_);
    if (!abort_requested_) {
      abort_requested_ = true;
      abort_reason_ = reason;
    }
    silent_ = silent_ || silent;
    cancel_ = true;
  }
  cv_.notify_all();
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

std::string Run::NodeDataDir(const std::string& node_id) {
  return Join(wf_dir_, {node_id, "data"});
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

event::NodeExecutionEvent Run::NodeEvent(const core::Node& node, core::NodeExecution::Phase phase) {
  event::NodeExecutionEvent e;
  *e.mutable_id()->mutable_execution_id() = data_.execution_id;
  e.mutable_id()->set_node_id(node.id());
  e.set_phase(phase);
  *e.mutable_occurred_at() = Now();
  e.set_producer_id(owner_.settings().cluster_id);
  e.set_event_version(1);
  *e.mutable_reported_at() = Now();
  e.set_spec_node_id(node.id());
  e.set_node_name(node.metadata().name());
  if (node.has_task_node()) *e.mutable_target_entity() = node.task_node().reference_id();
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
  const std::string start_out = Join(NodeDataDir(kStartNode), {"0"});
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
    bool aborted;
    {
      std::lock_guard lock(mu_);
      aborted = abort_requested_;
    }
    if (aborted) SendWorkflowEvent(core::WorkflowExecution::ABORTED, nullptr, "");
    finished_ = true;
    return;
  }
  auto start_event = NodeEvent(start, core::NodeExecution::SUCCEEDED);
  start_event.set_output_uri(start_out + "/outputs.pb");
  SendNodeEvent(std::move(start_event));

  const bool all_succeeded = Coordinate();
  std::optional<core::ExecutionError> failure;
  bool aborted, failing_reported;
  {
    std::lock_guard lock(mu_);
    failure = failure_;
    aborted = abort_requested_;
    failing_reported = failure_.has_value() && cancel_ && !abort_requested_;
  }
  if (aborted) {
    SendWorkflowEvent(core::WorkflowExecution::ABORTED, nullptr, "");
  } else if (failure) {
    if (!failing_reported) SendWorkflowEvent(core::WorkflowExecution::FAILING, &*failure, "");
    SendWorkflowEvent(core::WorkflowExecution::FAILED, &*failure, "");
  } else if (all_succeeded) {
    core::ExecutionError error;
    if (RunEndNode(error)) {
      SendWorkflowEvent(core::WorkflowExecution::SUCCEEDING, nullptr, "");
      SendWorkflowEvent(core::WorkflowExecution::SUCCEEDED, nullptr,
                        Join(NodeDataDir(kEndNode), {"0"}) + "/outputs.pb");
    } else {
      SendWorkflowEvent(core::WorkflowExecution::FAILING, &error, "");
      SendWorkflowEvent(core::WorkflowExecution::FAILED, &error, "");
    }
  }
  finished_ = true;
}

bool Run::Coordinate() {
  const auto& wf = data_.workflow_closure.primary().template_();
  const bool fail_fast =
      wf.metadata().on_failure() != core::WorkflowMetadata::FAIL_AFTER_EXECUTABLE_NODES_COMPLETE;
  const int64_t max_parallelism = data_.parameters.execution_config.max_parallelism();
  std::unique_lock lock(mu_);
  bool failing_reported = false;
  while (true) {
    if (!cancel_) {
      for (auto& [id, state] : states_) {
        if (state.phase != NodePhase::kNotStarted) continue;
        bool ready = true;
        for (const auto& up : state.upstream)
          ready = ready && states_[up].phase == NodePhase::kSucceeded;
        if (!ready) continue;
        if (max_parallelism > 0 && running_tasks_ >= max_parallelism) break;
        state.phase = NodePhase::kRunning;
        ++running_;
        ++running_tasks_;
        owner_.pool().Submit([self = shared_from_this(), node_id = id] { self->RunNode(node_id); });
      }
    }
    if (fail_fast && failure_ && !failing_reported && !abort_requested_) {
      // Propeller reports FAILING, then aborts what still runs, then reports FAILED.
      failing_reported = true;
      cancel_ = true;
      abort_reason_ = "Some node execution failed, auto-abort.";
      auto error = *failure_;
      lock.unlock();
      SendWorkflowEvent(core::WorkflowExecution::FAILING, &error, "");
      lock.lock();
      continue;
    }
    if (running_ == 0) break;
    cv_.wait(lock);
  }
  if (failure_ || abort_requested_) return false;
  for (const auto& [id, state] : states_) {
    if (state.phase != NodePhase::kSucceeded) return false;
  }
  return true;
}

void Run::FinishNode(const std::string& node_id, NodePhase phase,
                     const std::optional<core::ExecutionError>& error) {
  {
    std::lock_guard lock(mu_);
    states_[node_id].phase = phase;
    --running_;
    --running_tasks_;
    if (phase == NodePhase::kFailed && !failure_ && error) failure_ = error;
  }
  cv_.notify_all();
}

void Run::RunNode(const std::string& node_id) {
  const core::Node& node = *nodes_.at(node_id);
  {
    std::lock_guard lock(mu_);
    if (cancel_) {
      // Never started as far as the admin knows.
      states_[node_id].phase = NodePhase::kAborted;
      --running_;
      --running_tasks_;
      cv_.notify_all();
      return;
    }
  }
  const std::string data_dir = NodeDataDir(node_id);
  auto inputs = ResolveBindings(node.inputs());
  if (!inputs.ok()) {
    auto error = MakeError(core::ExecutionError::SYSTEM, "BindingResolutionFailure",
                           inputs.status().message());
    auto e = NodeEvent(node, core::NodeExecution::FAILED);
    *e.mutable_error() = error;
    SendNodeEvent(std::move(e));
    FinishNode(node_id, NodePhase::kFailed, error);
    return;
  }
  const std::string input_uri = data_dir + "/inputs.pb";
  if (auto s = store_.Write(input_uri, inputs->SerializeAsString()); !s.ok()) {
    auto error = MakeError(
        core::ExecutionError::SYSTEM, "StorageError",
        "Failed to store inputs for Node. InputsFile [" + input_uri + "]: " + s.message());
    auto e = NodeEvent(node, core::NodeExecution::FAILED);
    *e.mutable_error() = error;
    SendNodeEvent(std::move(e));
    FinishNode(node_id, NodePhase::kFailed, error);
    return;
  }
  if (!resume_ || resume_->nodes.count(node_id) == 0) {  // a resumed node was queued before
    auto queued = NodeEvent(node, core::NodeExecution::QUEUED);
    queued.set_input_uri(input_uri);
    SendNodeEvent(std::move(queued));
  }
  RunTaskNode(node, *tasks_.at(node_id), data_dir, input_uri, inputs.value());
}

void Run::RunTaskNode(const core::Node& node, const core::TaskTemplate& task,
                      const std::string& data_dir, const std::string& input_uri,
                      const core::LiteralMap& inputs) {
  uint32_t max_attempts = 1;
  if (node.metadata().retries().retries() != 0) {
    max_attempts = node.metadata().retries().retries() + 1;
  } else if (task.metadata().retries().retries() != 0) {
    max_attempts = task.metadata().retries().retries() + 1;
  }
  uint32_t attempts = 0, system_failures = 0;
  if (resume_) {
    if (auto it = resume_->nodes.find(node.id()); it != resume_->nodes.end()) {
      attempts = it->second.next_attempt;
      system_failures = it->second.system_failures;
    }
  }
  auto node_event = [&](core::NodeExecution::Phase phase) {
    auto e = NodeEvent(node, phase);
    e.set_input_uri(input_uri);
    return e;
  };
  while (true) {
    const std::string output_dir = Join(data_dir, {std::to_string(attempts)});
    std::string reason;
    AttemptResult r;
    bool cancelled;
    {
      std::lock_guard lock(mu_);
      cancelled = cancel_;
    }
    if (cancelled) {
      r.kind = AttemptResult::Kind::kAborted;
    } else {
      r = RunAttempt(node, task, data_dir, output_dir, inputs, attempts);
    }
    {
      std::lock_guard lock(mu_);
      reason = abort_reason_;
    }
    switch (r.kind) {
      case AttemptResult::Kind::kSuccess: {
        auto e = node_event(core::NodeExecution::SUCCEEDED);
        e.set_output_uri(output_dir + "/outputs.pb");
        e.mutable_task_node_metadata()->set_checkpoint_uri(r.checkpoint_uri);
        SendNodeEvent(std::move(e));
        {
          std::lock_guard lock(mu_);
          states_[node.id()].output_dir = output_dir;
        }
        FinishNode(node.id(), NodePhase::kSucceeded, std::nullopt);
        return;
      }
      case AttemptResult::Kind::kAborted: {
        auto e = node_event(core::NodeExecution::ABORTED);
        auto* err = e.mutable_error();
        err->set_code("NodeAborted");
        err->set_message(reason);
        SendNodeEvent(std::move(e));
        FinishNode(node.id(), NodePhase::kAborted, std::nullopt);
        return;
      }
      case AttemptResult::Kind::kPermanent: {
        auto e = node_event(core::NodeExecution::FAILED);
        *e.mutable_error() = r.error;
        SendNodeEvent(std::move(e));
        FinishNode(node.id(), NodePhase::kFailed, r.error);
        return;
      }
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
    auto e = node_event(core::NodeExecution::FAILED);
    *e.mutable_error() = error;
    SendNodeEvent(std::move(e));
    FinishNode(node.id(), NodePhase::kFailed, error);
    return;
  }
}

Run::AttemptResult Run::RunAttempt(const core::Node& node, const core::TaskTemplate& task,
                                   const std::string& data_dir, const std::string& output_dir,
                                   const core::LiteralMap& inputs, uint32_t attempt) {
  const auto& id = data_.execution_id;
  auto raw_for = [&](uint32_t a) {
    const std::string unique = FixedLengthUniqueIdForParts(
        kGeneratedNameMaxLength, {id.name(), node.id(), std::to_string(a)});
    return std::make_pair(unique, Join(raw_prefix_, {Base36ShardPrefix(unique), unique}));
  };
  const auto [generated_name, raw] = raw_for(attempt);
  AttemptResult result;
  result.checkpoint_uri = raw + "/_flytecheckpoints";

  event::TaskExecutionEvent base;
  *base.mutable_task_id() = task.id();
  base.mutable_task_id()->set_resource_type(core::TASK);
  *base.mutable_parent_node_execution_id()->mutable_execution_id() = id;
  base.mutable_parent_node_execution_id()->set_node_id(node.id());
  base.set_retry_attempt(attempt);
  base.set_producer_id(owner_.settings().cluster_id);
  base.set_task_type(task.type());
  base.mutable_metadata()->set_generated_name(generated_name);
  base.mutable_metadata()->set_plugin_identifier("local");
  base.set_event_version(1);
  base.set_input_uri(data_dir + "/inputs.pb");
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
    SendTaskEvent(std::move(e));
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
  for (const auto& kv : task.container().env()) env[kv.key()] = kv.value();
  std::vector<std::string> envp;
  for (const auto& [k, v] : env) envp.push_back(k + "=" + v);

  namespace fs = std::filesystem;
  const fs::path scratch = fs::path(owner_.settings().scratch_directory) /
                           (id.project() + "-" + id.domain() + "-" + id.name()) / node.id() /
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
      send = started_.insert(node.id()).second;
    }
    if (send) {
      auto e = NodeEvent(node, core::NodeExecution::RUNNING);
      e.set_input_uri(data_dir + "/inputs.pb");
      SendNodeEvent(std::move(e));
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
      cancelled = cancel_;
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
      reason = abort_reason_;
    }
    auto e = base;
    e.set_phase(core::TaskExecution::ABORTED);
    *e.mutable_occurred_at() = Now();
    *e.mutable_reported_at() = Now();
    e.mutable_error()->set_code("Task Aborted");
    e.mutable_error()->set_message(reason);
    e.set_reason(reason);
    SendTaskEvent(std::move(e));
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
    SendTaskEvent(std::move(e));
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
    return fail(
        AttemptResult::Kind::kRetryable,
        MakeError(core::ExecutionError::SYSTEM, "Interrupted",
                  "[" + node.id() + "] terminated by signal (" + std::to_string(WTERMSIG(*status)) +
                      "). Output:\n" + FileTail(log_file, 2048)));
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) != 0) {
    return fail(AttemptResult::Kind::kRetryable,
                MakeError(core::ExecutionError::USER, "ProcessFailed",
                          "[" + node.id() + "] terminated with exit code (" +
                              std::to_string(WEXITSTATUS(*status)) + "). Output:\n" +
                              FileTail(log_file, 2048)));
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
    auto mismatch = bytes.ok() ? CheckOutputs(bytes.value(), outputs_uri, task.interface().outputs(),
                                              compiler.get())
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

bool Run::RunEndNode(core::ExecutionError& error) {
  const auto& wf = data_.workflow_closure.primary().template_();
  core::Node end;
  end.set_id(kEndNode);
  for (const auto& n : wf.nodes()) {
    if (n.id() == kEndNode) end = n;
  }
  auto outputs = ResolveBindings(wf.outputs());
  if (!outputs.ok()) {
    error = MakeError(core::ExecutionError::SYSTEM, "BindingResolutionFailure",
                      outputs.status().message());
    auto e = NodeEvent(end, core::NodeExecution::FAILED);
    *e.mutable_error() = error;
    SendNodeEvent(std::move(e));
    return false;
  }
  const std::string dir = NodeDataDir(kEndNode);
  const std::string bytes = outputs->SerializeAsString();
  Status s = store_.Write(dir + "/inputs.pb", bytes);
  if (s.ok()) {
    auto queued = NodeEvent(end, core::NodeExecution::QUEUED);
    queued.set_input_uri(dir + "/inputs.pb");
    SendNodeEvent(std::move(queued));
    s = store_.Write(Join(dir, {"0"}) + "/outputs.pb", bytes);
  }
  if (!s.ok()) {
    error = MakeError(core::ExecutionError::SYSTEM, "CausedByError",
                      "Failed to store workflow outputs, as end-node: " + s.message());
    auto e = NodeEvent(end, core::NodeExecution::FAILED);
    e.set_input_uri(dir + "/inputs.pb");
    *e.mutable_error() = error;
    SendNodeEvent(std::move(e));
    return false;
  }
  auto done = NodeEvent(end, core::NodeExecution::SUCCEEDED);
  done.set_input_uri(dir + "/inputs.pb");
  SendNodeEvent(std::move(done));
  return true;
}

StatusOr<core::LiteralMap> Run::ResolveBindings(
    const google::protobuf::RepeatedPtrField<core::Binding>& bindings) {
  core::LiteralMap out;
  for (const auto& b : bindings) {
    auto literal = ResolveBindingData(b.binding());
    if (!literal.ok()) {
      return plugin::Internal("Error binding Var [wf].[" + b.var() +
                              "], caused by: " + literal.status().message());
    }
    (*out.mutable_literals())[b.var()] = std::move(literal.value());
  }
  return out;
}

StatusOr<core::Literal> Run::ResolveBindingData(const core::BindingData& data) {
  core::Literal literal;
  switch (data.value_case()) {
    case core::BindingData::kCollection: {
      auto* collection = literal.mutable_collection();
      for (const auto& b : data.collection().bindings()) {
        auto l = ResolveBindingData(b);
        if (!l.ok()) return l;
        *collection->add_literals() = std::move(l.value());
      }
      return literal;
    }
    case core::BindingData::kMap: {
      auto* map = literal.mutable_map()->mutable_literals();
      for (const auto& [k, b] : data.map().bindings()) {
        auto l = ResolveBindingData(b);
        if (!l.ok()) return l;
        (*map)[k] = std::move(l.value());
      }
      return literal;
    }
    case core::BindingData::kPromise:
      if (data.promise().node_id().empty())
        return plugin::InvalidArgument("No nodeId (missing) specified for binding in Workflow.");
      return ExtractOutput(data.promise());
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

StatusOr<core::Literal> Run::ExtractOutput(const core::OutputReference& ref) {
  const std::string& node_id = ref.node_id();
  std::string output_dir;
  std::string var = ref.var();
  if (node_id == kStartNode) {
    output_dir = Join(NodeDataDir(kStartNode), {"0"});
  } else {
    auto node = nodes_.find(node_id);
    if (node == nodes_.end())
      return plugin::InvalidArgument("Undefined node in Workflow [" + node_id + "]");
    for (const auto& alias : node->second->output_aliases()) {
      if (alias.alias() == var) var = alias.var();
    }
    std::lock_guard lock(mu_);
    output_dir = states_[node_id].output_dir;
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
