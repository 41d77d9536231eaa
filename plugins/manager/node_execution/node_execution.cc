// Node executions as upstream's node execution manager serves them (impl/node_execution_manager.go,
// transformers/node_execution.go, validation/node_execution_validator.go, util/data.go).
#include "node_execution.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "flyte/manager/checks.h"
#include "flyte/manager/event_checks.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/node_internal_data.h"
#include "flyte/manager/stored_time.h"
#include "flyteidl/admin/event.pb.h"

// The closure's output_uri/output_data and the data response's UrlBlobs are deprecated in the
// IDL, but upstream still writes and serves them.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {

using plugin::Status;
using plugin::StatusOr;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace event = flyteidl::event;
namespace db = plugin::db;

namespace {

constexpr std::string_view kFieldEvent = "event";
constexpr std::string_view kFieldExecutionId = "execution_id";
constexpr const char* kInputsSuffix = "offloaded_inputs";
constexpr const char* kOutputsSuffix = "offloaded_outputs";
constexpr size_t kTrimmedErrorLength = 100;

// ---------------------------------------------------------------------------------------------
// Phases (upstream common/executions.go) and Go's String() of enums.

std::string PhaseName(int phase) { return plugin::GoEnumString(static_cast<core::NodeExecution::Phase>(phase)); }

// The stored phase name back to its value; unknown names are UNDEFINED (Go's map lookup).
int PhaseOf(const std::string& name) {
  core::NodeExecution::Phase phase = core::NodeExecution::UNDEFINED;
  core::NodeExecution::Phase_Parse(name, &phase);
  return phase;
}

bool IsTerminal(int phase) {
  switch (phase) {
    case core::NodeExecution::SUCCEEDED:
    case core::NodeExecution::FAILED:
    case core::NodeExecution::TIMED_OUT:
    case core::NodeExecution::ABORTED:
    case core::NodeExecution::SKIPPED:
    case core::NodeExecution::RECOVERED:
      return true;
    default:
      return false;
  }
}

// %v of a message pointer: its text, or "<nil>" when absent.
std::string TextOrNil(bool present, const google::protobuf::Message& m) { return present ? plugin::GoProtoText(m) : "<nil>"; }

// ---------------------------------------------------------------------------------------------
// Time (ptypes.Timestamp / DurationProto).

StatusOr<db::Time> TimeOf(const google::protobuf::Timestamp* ts) { return manager::PtypesTime(ts); }

google::protobuf::Duration DurationOf(int64_t ns) {
  google::protobuf::Duration d;
  d.set_seconds(ns / 1000000000);
  d.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return d;
}

// The event's reported_at when set and non-zero, else occurred_at (nullptr when neither).
const google::protobuf::Timestamp* ReportedAt(const event::NodeExecutionEvent& ev) {
  if (ev.has_reported_at() && (ev.reported_at().seconds() != 0 || ev.reported_at().nanos() != 0)) {
    return &ev.reported_at();
  }
  return ev.has_occurred_at() ? &ev.occurred_at() : nullptr;
}

const google::protobuf::Timestamp* OccurredAt(const event::NodeExecutionEvent& ev) {
  return ev.has_occurred_at() ? &ev.occurred_at() : nullptr;
}

// ---------------------------------------------------------------------------------------------
// Keys, identifiers and upstream's NOT_FOUND texts.

db::ExecutionKey ExecKeyOf(const core::WorkflowExecutionIdentifier& id) { return {id.project(), id.domain(), id.name()}; }

db::NodeExecutionKey NodeKeyOf(const core::NodeExecutionIdentifier& id) {
  return {ExecKeyOf(id.execution_id()), id.node_id()};
}

db::TaskExecutionKey TaskKeyOf(const core::TaskExecutionIdentifier& id) {
  db::TaskExecutionKey key;
  key.task = {id.task_id().project(), id.task_id().domain(), id.task_id().name(), id.task_id().version()};
  key.node_execution = NodeKeyOf(id.node_execution_id());
  key.retry_attempt = id.retry_attempt();
  return key;
}

core::NodeExecutionIdentifier NodeIdOf(const db::NodeExecutionKey& key) {
  core::NodeExecutionIdentifier id;
  id.set_node_id(key.node_id);
  id.mutable_execution_id()->set_project(key.execution.project);
  id.mutable_execution_id()->set_domain(key.execution.domain);
  id.mutable_execution_id()->set_name(key.execution.name);
  return id;
}

Status MissingExecution(const Status& s, const db::ExecutionKey& key) {
  if (s.code() != plugin::StatusCode::kNotFound) return s;
  core::Identifier id;
  id.set_project(key.project);
  id.set_domain(key.domain);
  id.set_name(key.name);
  return plugin::NotFound("missing entity of type execution with identifier " + plugin::GoProtoText(id));
}

Status MissingNodeExecution(const Status& s, const db::NodeExecutionKey& key) {
  if (s.code() != plugin::StatusCode::kNotFound) return s;
  return plugin::NotFound("missing entity of type node execution with identifier " + plugin::GoProtoText(NodeIdOf(key)));
}

Status MissingTaskExecution(const Status& s, const db::TaskExecutionKey& key) {
  if (s.code() != plugin::StatusCode::kNotFound) return s;
  core::TaskExecutionIdentifier id;
  id.mutable_task_id()->set_project(key.task.project);
  id.mutable_task_id()->set_domain(key.task.domain);
  id.mutable_task_id()->set_name(key.task.name);
  id.mutable_task_id()->set_version(key.task.version);
  *id.mutable_node_execution_id() = NodeIdOf(key.node_execution);
  return plugin::NotFound("missing entity of type task execution with identifier " + plugin::GoProtoText(id));
}

// ---------------------------------------------------------------------------------------------
// Validation (validation/node_execution_validator.go, execution_validator.go,
// task_execution_validator.go).

Status ValidateNodeEventRequest(const admin::NodeExecutionEventRequest& request, int64_t max_size) {
  if (!request.has_event()) return MissingArgumentError(kFieldEvent);
  const auto& ev = request.event();
  if (auto s = ValidateNodeExecutionId(ev.has_id() ? &ev.id() : nullptr); !s.ok()) return s;
  if (ev.has_task_node_metadata() && ev.task_node_metadata().has_dynamic_workflow()) {
    const auto& dyn = ev.task_node_metadata().dynamic_workflow();
    if (auto s = ValidateIdentifier(dyn.has_id() ? &dyn.id() : nullptr, Entity::kWorkflow); !s.ok()) return s;
    if (!dyn.has_compiled_workflow()) return MissingArgumentError("compiled dynamic workflow");
    if (!dyn.compiled_workflow().has_primary()) return MissingArgumentError("primary dynamic workflow");
    const auto& primary = dyn.compiled_workflow().primary();
    if (!primary.has_template_()) return MissingArgumentError("primary dynamic workflow template");
    const auto& tmpl = primary.template_();
    if (auto s = ValidateIdentifier(tmpl.has_id() ? &tmpl.id() : nullptr, Entity::kWorkflow); !s.ok()) return s;
  }
  return ValidateOutputData(ev.has_output_data() ? &ev.output_data() : nullptr, max_size);
}

// ---------------------------------------------------------------------------------------------
// Serialization

std::string Serialize(const google::protobuf::Message& message) {
  std::string out;
  message.SerializeToString(&out);
  return out;
}

// transformers.TrimErrorMessage: the first 100 bytes, invalid UTF-8 dropped (strings.ToValidUTF8).
std::string TrimErrorMessage(const std::string& message) {
  if (message.size() <= kTrimmedErrorLength) return message;
  const std::string cut = message.substr(0, kTrimmedErrorLength);
  std::string out;
  size_t i = 0;
  while (i < cut.size()) {
    const auto c = static_cast<unsigned char>(cut[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool valid = len > 0 && i + len <= cut.size();
    for (size_t k = 1; valid && k < len; ++k) valid = (static_cast<unsigned char>(cut[i + k]) >> 6) == 0x2;
    if (valid) {
      out.append(cut, i, len);
      i += len;
    } else {
      ++i;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Event -> model (transformers/node_execution.go)

struct EventContext {
  const admin::NodeExecutionEventRequest& request;
  const RemoteDataSettings& settings;
  plugin::ObjectStore& store;
  const event::NodeExecutionEvent& ev() const { return request.event(); }
  std::vector<std::string> DataKeys(const char* suffix) const {
    const auto& id = ev().id();
    return {id.execution_id().project(), id.execution_id().domain(), id.execution_id().name(), id.node_id(), suffix};
  }
};

// handleNodeExecutionInputs: inputs are recorded once.
Status HandleInputs(const EventContext& ctx, db::NodeExecutionModel& m) {
  if (!m.input_uri.empty()) return Status::Ok();
  const auto& ev = ctx.ev();
  switch (ev.input_value_case()) {
    case event::NodeExecutionEvent::kInputUri:
      m.input_uri = ev.input_uri();
      break;
    case event::NodeExecutionEvent::kInputData: {
      auto uri = OffloadLiteralMap(ctx.store, ev.input_data(), ctx.DataKeys(kInputsSuffix));
      if (!uri.ok()) return uri.status();
      m.input_uri = uri.value();
      break;
    }
    default:
      break;
  }
  return Status::Ok();
}

Status AddRunningState(const EventContext& ctx, db::NodeExecutionModel& m, admin::NodeExecutionClosure& closure) {
  auto occurred = TimeOf(OccurredAt(ctx.ev()));
  if (!occurred.ok()) return plugin::Internal("failed to unmarshal occurredAt with error: " + occurred.status().message());
  m.started_at = occurred.value();
  *closure.mutable_started_at() = ctx.ev().occurred_at();
  closure.set_deck_uri(ctx.ev().deck_uri());
  return Status::Ok();
}

Status AddTerminalState(const EventContext& ctx, db::NodeExecutionModel& m, admin::NodeExecutionClosure& closure,
                        const std::shared_ptr<spdlog::logger>& logger) {
  const auto& ev = ctx.ev();
  if (!closure.has_started_at()) {
    if (logger) logger->warn("node execution is missing StartedAt");
  } else {
    auto end = TimeOf(OccurredAt(ev));
    if (!end.ok()) return plugin::Internal("Failed to parse node execution occurred at timestamp: " + end.status().message());
    db::Time start{};
    if (m.started_at) {
      start = *m.started_at;
    } else if (auto s = TimeOf(&closure.started_at()); s.ok()) {
      start = s.value();
    }
    const google::protobuf::Timestamp& occurred = *OccurredAt(ev);  // valid: parsed above
    m.duration_ns = manager::NanosBetween(manager::ExactTime(start),
                                          manager::ExactTime(occurred.seconds(), occurred.nanos()));
    *closure.mutable_duration() = DurationOf(m.duration_ns);
  }

  if (!ev.output_uri().empty()) {
    closure.set_output_uri(ev.output_uri());
  } else if (ev.has_output_data()) {
    if (ctx.settings.store_inline_event_data) {
      *closure.mutable_output_data() = ev.output_data();
    } else {
      auto uri = OffloadLiteralMap(ctx.store, ev.output_data(), ctx.DataKeys(kOutputsSuffix));
      if (!uri.ok()) return uri.status();
      closure.set_output_uri(uri.value());
    }
  } else if (ev.has_error()) {
    *closure.mutable_error() = ev.error();
    m.error_kind = plugin::GoEnumString(ev.error().kind());
    m.error_code = ev.error().code();
  }
  closure.set_deck_uri(ev.deck_uri());
  return Status::Ok();
}

// TaskNodeMetadata of the closure: the checkpoint, and the cache result when a catalog key came.
void SetTaskNodeMetadata(const event::NodeExecutionEvent& ev, db::NodeExecutionModel& m,
                         admin::NodeExecutionClosure& closure) {
  const auto& tnm = ev.task_node_metadata();
  admin::TaskNodeMetadata target;
  target.set_checkpoint_uri(tnm.checkpoint_uri());
  if (tnm.has_catalog_key()) {
    target.set_cache_status(tnm.cache_status());
    *target.mutable_catalog_key() = tnm.catalog_key();
    m.cache_status = plugin::GoEnumString(tnm.cache_status());
  }
  *closure.mutable_task_node_metadata() = std::move(target);
}

struct CreateInput {
  std::optional<int64_t> parent_task_execution_id;
  std::optional<int64_t> parent_id;
  std::string dynamic_workflow_reference;
};

// CreateNodeExecutionModel.
StatusOr<db::NodeExecutionModel> CreateModel(const EventContext& ctx, const CreateInput& input,
                                             const std::shared_ptr<spdlog::logger>& logger) {
  const auto& ev = ctx.ev();
  db::NodeExecutionModel m;
  m.key = NodeKeyOf(ev.id());
  m.phase = PhaseName(ev.phase());

  const google::protobuf::Timestamp* reported = ReportedAt(ev);
  admin::NodeExecutionClosure closure;
  closure.set_phase(ev.phase());
  if (ev.has_occurred_at()) *closure.mutable_created_at() = ev.occurred_at();
  if (reported) *closure.mutable_updated_at() = *reported;

  admin::NodeExecutionMetaData metadata;
  metadata.set_retry_group(ev.retry_group());
  metadata.set_spec_node_id(ev.spec_node_id());
  metadata.set_is_parent_node(ev.is_parent());
  metadata.set_is_dynamic(ev.is_dynamic());
  metadata.set_is_array(ev.is_array());

  if (auto s = HandleInputs(ctx, m); !s.ok()) return s;
  if (ev.phase() == core::NodeExecution::RUNNING) {
    if (auto s = AddRunningState(ctx, m, closure); !s.ok()) return s;
  }
  if (IsTerminal(ev.phase())) {
    if (auto s = AddTerminalState(ctx, m, closure, logger); !s.ok()) return s;
  }
  if (ev.has_task_node_metadata()) SetTaskNodeMetadata(ev, m, closure);

  m.closure = Serialize(closure);
  m.node_execution_metadata = Serialize(metadata);
  auto created = TimeOf(OccurredAt(ev));
  if (!created.ok()) return plugin::Internal("failed to read event timestamp");
  m.node_execution_created_at = created.value();
  auto updated = TimeOf(reported);
  if (!updated.ok()) return plugin::Internal("failed to read event reported_at timestamp");
  m.node_execution_updated_at = updated.value();
  if (ev.has_parent_task_metadata()) m.parent_task_execution_id = input.parent_task_execution_id;
  m.parent_id = input.parent_id;
  m.dynamic_workflow_remote_closure_reference = input.dynamic_workflow_reference;
  m.internal_data = EncodeInternalData(ev.event_version());
  return m;
}

// UpdateNodeExecutionModel, applied to the locked row. Fields upstream leaves zero are not
// written by its gorm Updates, so they keep their stored value here too.
Status UpdateModel(const EventContext& ctx, db::NodeExecutionModel& m, const core::WorkflowExecutionIdentifier* target,
                   const std::string& dynamic_workflow_reference, const std::shared_ptr<spdlog::logger>& logger) {
  const auto& ev = ctx.ev();
  if (auto s = HandleInputs(ctx, m); !s.ok()) return s;
  admin::NodeExecutionClosure closure;
  if (!closure.ParseFromString(m.closure)) {
    return plugin::Internal("failed to unmarshal node execution closure with error: proto: cannot parse invalid wire-format data");
  }
  m.phase = PhaseName(ev.phase());
  closure.set_phase(ev.phase());
  const google::protobuf::Timestamp* reported = ReportedAt(ev);
  if (reported) {
    *closure.mutable_updated_at() = *reported;
  } else {
    closure.clear_updated_at();
  }

  if (ev.phase() == core::NodeExecution::RUNNING) {
    if (auto s = AddRunningState(ctx, m, closure); !s.ok()) return s;
  }
  if (IsTerminal(ev.phase())) {
    if (auto s = AddTerminalState(ctx, m, closure, logger); !s.ok()) return s;
  }
  if (target != nullptr && !closure.has_workflow_node_metadata()) {
    *closure.mutable_workflow_node_metadata()->mutable_executionid() = *target;
  }
  if (ev.has_task_node_metadata()) {
    SetTaskNodeMetadata(ev, m, closure);
    const auto& tnm = ev.task_node_metadata();
    if (tnm.has_dynamic_workflow() && !tnm.dynamic_workflow().dynamic_job_spec_uri().empty()) {
      closure.set_dynamic_job_spec_uri(tnm.dynamic_workflow().dynamic_job_spec_uri());
    }
  }
  m.closure = Serialize(closure);
  auto updated = TimeOf(reported);
  if (!updated.ok()) return plugin::Internal("failed to parse updated at timestamp");
  m.node_execution_updated_at = updated.value();
  if (!dynamic_workflow_reference.empty()) m.dynamic_workflow_remote_closure_reference = dynamic_workflow_reference;

  // Propeller sets these bits only on some events (e.g. DYNAMIC_RUNNING): set, never cleared.
  if (ev.is_parent() || ev.is_dynamic() || ev.is_array()) {
    admin::NodeExecutionMetaData metadata;
    if (!m.node_execution_metadata.empty() && !metadata.ParseFromString(m.node_execution_metadata)) {
      return plugin::Internal(
          "failed to unmarshal node execution metadata with error: proto: cannot parse invalid wire-format data");
    }
    if (ev.is_parent()) metadata.set_is_parent_node(true);
    if (ev.is_dynamic()) metadata.set_is_dynamic(true);
    if (ev.is_array()) metadata.set_is_array(true);
    m.node_execution_metadata = Serialize(metadata);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Model -> message (FromNodeExecutionModel)

StatusOr<admin::NodeExecution> FromModel(const db::NodeExecutionModel& m, bool trim_error, bool has_children) {
  admin::NodeExecution out;
  auto* closure = out.mutable_closure();
  if (!closure->ParseFromString(m.closure)) return plugin::Internal("failed to unmarshal closure");
  if (trim_error && closure->has_error() && !closure->error().message().empty()) {
    closure->mutable_error()->set_message(TrimErrorMessage(closure->error().message()));
  }
  auto* metadata = out.mutable_metadata();
  if (!metadata->ParseFromString(m.node_execution_metadata)) {
    return plugin::Internal("failed to unmarshal nodeExecutionMetadata");
  }
  // Propeller did not always send is_parent/is_dynamic: infer them from child rows.
  if (!(metadata->is_parent_node() || metadata->is_dynamic()) && has_children) {
    metadata->set_is_parent_node(true);
    if (!m.dynamic_workflow_remote_closure_reference.empty()) metadata->set_is_dynamic(true);
  }
  *out.mutable_id() = NodeIdOf(m.key);
  out.set_input_uri(m.input_uri);
  return out;
}

// Whether any node execution names this row as its parent (upstream's ChildNodeExecutions).
StatusOr<bool> HasChildren(db::NodeExecutionRepo& repo, int64_t id) {
  db::ListInput input;
  input.filters.push_back({"node_executions", "parent_id", db::FilterOp::kEq, {std::to_string(id)}});
  auto count = repo.Count(input);
  if (!count.ok()) return count.status();
  return count.value() > 0;
}

bool NeedsChildren(const db::NodeExecutionModel& m) {
  admin::NodeExecutionMetaData metadata;
  if (!metadata.ParseFromString(m.node_execution_metadata)) return false;
  return !(metadata.is_parent_node() || metadata.is_dynamic());
}

std::string DynamicWorkflowName(const core::Identifier* id) {
  if (id == nullptr) return "___";
  return id->project() + "_" + id->domain() + "_" + id->name() + "_" + id->version();
}


}  // namespace

NodeExecutionManagerImpl::NodeExecutionManagerImpl(const plugin::HostContext& host, RemoteDataSettings settings)
    : services_(host), settings_(std::move(settings)), logger_(host.Logger()) {}

namespace {

// ApplyNodeEvent writes through one repository write at a time (an update, else a create),
// each of which writes nothing when it refuses, and returns right after the one that succeeds.
constexpr bool kEventWorkIsAtomic = true;

// The group-commit key of a node event: the node execution it locks.
std::string NodeEventOrderKey(const core::NodeExecutionIdentifier& id) {
  const auto& e = id.execution_id();
  return "node_executions\x1f" + e.project() + '\x1f' + e.domain() + '\x1f' + e.name() + '\x1f' + id.node_id();
}

}  // namespace

Status NodeExecutionManagerImpl::CreateNodeEvent(plugin::CallContext&, const admin::NodeExecutionEventRequest& request,
                                                 admin::NodeExecutionEventResponse&) {
  LogInvalidEvent(request);
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  return db.value()->RunGrouped(NodeEventOrderKey(request.event().id()), [&] { return ApplyNodeEvent(request); },
                                kEventWorkIsAtomic);
}

void NodeExecutionManagerImpl::CreateNodeEventAsync(plugin::CallContext&, const admin::NodeExecutionEventRequest& request,
                                                    admin::NodeExecutionEventResponse&,
                                                    std::function<void(Status)> done) {
  LogInvalidEvent(request);
  auto db = services_.Db();
  if (!db.ok()) return done(db.status());
  // `request` lives until `done` is called, which is after the work has run.
  db.value()->RunGroupedAsync(
      NodeEventOrderKey(request.event().id()), [this, &request] { return ApplyNodeEvent(request); }, std::move(done),
      kEventWorkIsAtomic);
}

void NodeExecutionManagerImpl::LogInvalidEvent(const admin::NodeExecutionEventRequest& request) const {
  // Upstream only logs a failed validation and carries on.
  if (auto s = ValidateNodeEventRequest(request, settings_.max_size_in_bytes); !s.ok() && logger_) {
    logger_->debug("CreateNodeEvent called with invalid identifier [{}]: {}", plugin::GoProtoText(request.event().id()),
                   s.message());
  }
}

// The whole event, run as one grouped database operation: every repository call below joins
// its transaction.
Status NodeExecutionManagerImpl::ApplyNodeEvent(const admin::NodeExecutionEventRequest& request) {
  const auto& ev = request.event();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto& repos = *db.value();

  const auto exec_key = ExecKeyOf(ev.id().execution_id());
  // Only the execution's cluster is needed here, on every event. It is read on its own before
  // anything else is done for an event that stores a dynamic workflow; otherwise by the row's
  // lookup (UpdateChecked), which reads it whether the row exists or not (a first event).
  bool cluster_checked = false;
  auto check_cluster = [&]() -> Status {
    cluster_checked = true;
    auto cluster = repos.Executions().GetCluster(exec_key);
    if (!cluster.ok()) {
      const Status err = MissingExecution(cluster.status(), exec_key);
      return {err.code(), "Failed to get existing execution id: [" +
                              TextOrNil(ev.id().has_execution_id(), ev.id().execution_id()) +
                              "] with err: " + err.message()};
    }
    return ValidateCluster(cluster.value(), ev.producer_id());
  };

  auto store = services_.Storage();
  if (!store.ok()) return store.status();
  const EventContext ctx{request, settings_, *store.value()};

  // The dynamic workflow's closure: its location is worked out first (after the cluster check),
  // as upstream, but it is written only once the event is accepted. Upstream writes it first,
  // so a duplicate or stale event it then refuses has already replaced the closure the row
  // points to.
  std::string dynamic_reference;
  std::function<Status()> store_dynamic = [] { return Status::Ok(); };
  if (ev.has_task_node_metadata() && ev.task_node_metadata().has_dynamic_workflow()) {
    if (auto s = check_cluster(); !s.ok()) return s;
    const auto& dyn = ev.task_node_metadata().dynamic_workflow();
    const std::string node_text = TextOrNil(ev.has_id(), ev.id());
    const std::string wf_text = TextOrNil(dyn.has_id(), dyn.id());
    std::vector<std::string> segments;
    for (const auto& p : settings_.metadata_prefix) SplitStorageKey(p, segments);
    const auto& id = ev.id();
    for (const auto& k : {id.execution_id().project(), id.execution_id().domain(), id.execution_id().name(), id.node_id(),
                          DynamicWorkflowName(dyn.has_id() ? &dyn.id() : nullptr)}) {
      SplitStorageKey(k, segments);
    }
    auto uri = ctx.store.Join(ctx.store.BaseUri(), segments);
    if (!uri.ok()) {
      return plugin::Internal("Failed to produce remote closure data reference for dynamic workflow yielded by node id [" +
                              node_text + "] with workflow id [" + wf_text + "]; err: " + uri.status().message());
    }
    dynamic_reference = uri.value();
    // Rewriting it when a retried transaction accepts the event again writes the same bytes.
    store_dynamic = [&ctx, &dyn, node_text, wf_text, uri = uri.value()]() -> Status {
      if (auto s = ctx.store.Write(uri, Serialize(dyn.compiled_workflow())); !s.ok()) {
        return plugin::Internal("Failed to upload dynamic workflow closure for node id [" + node_text +
                                "] and workflow id [" + wf_text + "] with err: " + s.message());
      }
      return Status::Ok();
    };
  }

  auto& nodes = repos.NodeExecutions();
  const auto key = NodeKeyOf(ev.id());
  db::NodeExecutionEventModel event_row;
  event_row.request_id = request.request_id();
  if (auto t = TimeOf(OccurredAt(ev)); t.ok()) event_row.occurred_at = t.value();
  event_row.phase = PhaseName(ev.phase());

  // The first event of a node creates its row (createNodeExecutionWithEvent).
  auto create_row = [&]() -> Status {
    CreateInput input;
    input.dynamic_workflow_reference = dynamic_reference;
    if (ev.has_parent_task_metadata()) {
      const auto& task_id = ev.parent_task_metadata().id();
      if (auto s = ValidateTaskExecutionId(ev.parent_task_metadata().has_id() ? &task_id : nullptr); !s.ok()) return s;
      const auto task_key = TaskKeyOf(task_id);
      auto task = repos.TaskExecutions().Get(task_key);
      if (!task.ok()) return MissingTaskExecution(task.status(), task_key);
      input.parent_task_execution_id = task->id;
    }
    if (ev.has_parent_node_metadata()) {
      const db::NodeExecutionKey parent_key{exec_key, ev.parent_node_metadata().node_id()};
      auto parent = nodes.Get(parent_key);
      if (!parent.ok()) return MissingNodeExecution(parent.status(), parent_key);
      input.parent_id = parent->id;
    }
    auto model = CreateModel(ctx, input, logger_);
    if (!model.ok()) return model.status();
    if (auto s = store_dynamic(); !s.ok()) return s;
    return nodes.Create(model.value(), event_row);
  };

  // A child execution the event names must exist; the lookup is made before the row is locked
  // and reported after the phase checks of an update.
  std::optional<Status> target_error;
  const core::WorkflowExecutionIdentifier* target = nullptr;
  if (ev.has_workflow_node_metadata()) {
    target = &ev.workflow_node_metadata().execution_id();
    if (auto s = ValidateWorkflowExecutionId(target); !s.ok() && logger_) {
      logger_->error("Invalid execution ID: {} with err: {}", plugin::GoProtoText(*target), s.message());
    }
    const auto target_key = ExecKeyOf(*target);
    if (auto child = repos.Executions().Get(target_key); !child.ok()) {
      target_error = MissingExecution(child.status(), target_key);
    }
  }

  bool mutated = false;  // the row was found
  bool refused = false;  // and the event refused
  auto judge = [&](db::NodeExecutionModel& m) -> Status {
    const int current = PhaseOf(m.phase);
    if (current == ev.phase()) {
      return plugin::AlreadyExists("This phase was already recorded " + PhaseName(current) + " for " +
                                   TextOrNil(ev.has_id(), ev.id()));
    }
    if (IsTerminal(current)) {
      const std::string next = PhaseName(ev.phase());
      return AlreadyInTerminalStateError("Invalid phase change from " + PhaseName(current) + " to " + next +
                                        " for node execution " + std::to_string(m.id),
                                    next);
    }
    if (target_error) return *target_error;
    if (auto s = UpdateModel(ctx, m, target, dynamic_reference, logger_); !s.ok()) return s;
    return store_dynamic();
  };
  auto mutate = [&](db::NodeExecutionModel& m) -> Status {
    mutated = true;
    Status s = judge(m);
    refused = !s.ok();
    return s;
  };
  // Later events (updateNodeExecutionWithEvent) are the common case, so the update is tried
  // first: it reads the row under its lock, and finds none for a node's first event.
  bool cluster_refused = false;
  auto updated = cluster_checked
                     ? nodes.Update(key, mutate, event_row)
                     : nodes.UpdateChecked(key, ClusterCheck(ev.producer_id(), cluster_checked, cluster_refused),
                                           mutate, event_row);
  if (cluster_refused) return updated.status();
  if (!updated.ok() && updated.status().code() == plugin::StatusCode::kNotFound && !mutated) {
    if (!cluster_checked) {
      if (auto s = check_cluster(); !s.ok()) return s;
    }
    Status created = create_row();
    // A concurrent first event won the insert: this one is applied to its row as an update,
    // so neither is lost (upstream would answer ALREADY_EXISTS here).
    if (created.code() != plugin::StatusCode::kAlreadyExists) return created;
    updated = nodes.Update(key, mutate, event_row);
  }
  if (!updated.ok() && updated.status().code() == plugin::StatusCode::kAlreadyExists && mutated && !refused) {
    // The event row of this phase exists from an earlier visit of the phase: upstream's event
    // writer drops such rows and still applies the event to the node execution.
    updated = nodes.Update(key, mutate);
  }
  if (!updated.ok()) return mutated ? updated.status() : MissingNodeExecution(updated.status(), key);
  return Status::Ok();
}

Status NodeExecutionManagerImpl::GetNodeExecution(plugin::CallContext&, const admin::NodeExecutionGetRequest& request,
                                                  admin::NodeExecution& response) {
  if (auto s = ValidateNodeExecutionId(request.has_id() ? &request.id() : nullptr); !s.ok() && logger_) {
    logger_->debug("get node execution called with invalid identifier [{}]: {}", plugin::GoProtoText(request.id()), s.message());
  }
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto& nodes = db.value()->NodeExecutions();
  const auto key = NodeKeyOf(request.id());
  auto row = nodes.Get(key);
  if (!row.ok()) return MissingNodeExecution(row.status(), key);
  auto version = DecodeEventVersion(row->internal_data);
  if (!version.ok()) return version.status();
  bool has_children = false;
  if (version.value() == 0) {
    // Rows of old propellers: reload with the children to infer the parent/dynamic flags.
    row = nodes.Get(key);
    if (!row.ok()) return MissingNodeExecution(row.status(), key);
    auto children = HasChildren(nodes, row->id);
    if (!children.ok()) return children.status();
    has_children = children.value();
  }
  auto out = FromModel(row.value(), false, has_children);
  if (!out.ok()) return out.status();
  response = std::move(out.value());
  return Status::Ok();
}

Status NodeExecutionManagerImpl::GetDynamicNodeWorkflow(plugin::CallContext&,
                                                        const admin::GetDynamicNodeWorkflowRequest& request,
                                                        admin::DynamicNodeWorkflowResponse& response) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  const auto key = NodeKeyOf(request.id());
  auto row = db.value()->NodeExecutions().Get(key);
  if (!row.ok()) return MissingNodeExecution(row.status(), key);
  if (row->dynamic_workflow_remote_closure_reference.empty()) {
    return plugin::NotFound("node does not contain dynamic workflow");
  }
  auto store = services_.Storage();
  if (!store.ok()) return store.status();
  return ReadDynamicWorkflowClosure(*store.value(), settings_, row->dynamic_workflow_remote_closure_reference,
                                    *response.mutable_compiled_workflow());
}

Status NodeExecutionManagerImpl::List(const db::ExecutionKey& execution, std::vector<db::Filter> scope,
                                      const std::string& request_filters, const admin::Sort* sort_by, uint32_t limit,
                                      const std::string& token, admin::NodeExecutionList& response) {
  auto filters = GetDbFilters({execution.project, execution.domain, execution.name, request_filters},
                              Entity::kNodeExecution);
  if (!filters.ok()) return filters.status();
  db::ListInput input;
  input.filters = std::move(filters.value());
  input.filters.insert(input.filters.begin() + std::min<size_t>(3, input.filters.size()), scope.begin(), scope.end());
  auto sort = ParseSort(sort_by, Entity::kNodeExecution);
  if (!sort.ok()) return sort.status();
  input.sort = sort.value();
  auto offset = ParseToken(token, "ListNodeExecutions");
  if (!offset.ok()) return offset.status();
  input.offset = offset.value();
  input.limit = limit;

  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto& nodes = db.value()->NodeExecutions();
  auto rows = nodes.List(input);
  if (!rows.ok()) return rows.status();
  admin::NodeExecutionList list;
  for (const auto& row : rows.value()) {
    bool has_children = false;
    if (NeedsChildren(row)) {
      auto children = HasChildren(nodes, row.id);
      if (!children.ok()) return children.status();
      has_children = children.value();
    }
    auto out = FromModel(row, true, has_children);
    if (!out.ok()) return out.status();
    *list.add_node_executions() = std::move(out.value());
  }
  list.set_token(NextToken(input.offset, rows->size(), limit));
  response = std::move(list);
  return Status::Ok();
}

Status NodeExecutionManagerImpl::ListNodeExecutions(plugin::CallContext&, const admin::NodeExecutionListRequest& request,
                                                    admin::NodeExecutionList& response) {
  if (!ValidateWorkflowExecutionId(request.has_workflow_execution_id() ? &request.workflow_execution_id() : nullptr).ok()) {
    return MissingArgumentError(kFieldExecutionId);
  }
  if (auto s = ValidateLimit(request.limit()); !s.ok()) return s;
  const auto exec_key = ExecKeyOf(request.workflow_execution_id());
  std::vector<db::Filter> scope;
  if (!request.unique_parent_id().empty()) {
    auto db = services_.Db();
    if (!db.ok()) return db.status();
    const db::NodeExecutionKey parent_key{exec_key, request.unique_parent_id()};
    auto parent = db.value()->NodeExecutions().Get(parent_key);
    if (!parent.ok()) return MissingNodeExecution(parent.status(), parent_key);
    scope.push_back({"node_executions", "parent_id", db::FilterOp::kEq, {std::to_string(parent->id)}});
  } else {
    // Only the top level: nodes of no parent node and no parent task.
    scope.push_back({"node_executions", "parent_task_execution_id", db::FilterOp::kIsNull, {}});
    scope.push_back({"node_executions", "parent_id", db::FilterOp::kIsNull, {}});
  }
  return List(exec_key, std::move(scope), request.filters(), request.has_sort_by() ? &request.sort_by() : nullptr,
              request.limit(), request.token(), response);
}

Status NodeExecutionManagerImpl::ListNodeExecutionsForTask(plugin::CallContext&,
                                                           const admin::NodeExecutionForTaskListRequest& request,
                                                           admin::NodeExecutionList& response) {
  // The REST route (/api/v1/children/task_executions/...) has no resource type segment: as
  // upstream's service layer does, an unspecified one means TASK.
  core::TaskExecutionIdentifier task_id = request.task_execution_id();
  if (request.has_task_execution_id() && task_id.has_task_id() &&
      task_id.task_id().resource_type() == core::UNSPECIFIED) {
    task_id.mutable_task_id()->set_resource_type(core::TASK);
  }
  if (auto s = ValidateTaskExecutionId(request.has_task_execution_id() ? &task_id : nullptr); !s.ok()) {
    return s;
  }
  if (auto s = ValidateLimit(request.limit()); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  const auto task_key = TaskKeyOf(task_id);
  auto task = db.value()->TaskExecutions().Get(task_key);
  if (!task.ok()) return MissingTaskExecution(task.status(), task_key);
  std::vector<db::Filter> scope{
      {"node_executions", "parent_task_execution_id", db::FilterOp::kEq, {std::to_string(task->id)}}};
  return List(task_key.node_execution.execution, std::move(scope), request.filters(),
              request.has_sort_by() ? &request.sort_by() : nullptr, request.limit(), request.token(), response);
}

Status NodeExecutionManagerImpl::GetNodeExecutionData(plugin::CallContext&, const admin::NodeExecutionGetDataRequest& request,
                                                      admin::NodeExecutionGetDataResponse& response) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  const auto key = NodeKeyOf(request.id());
  auto row = db.value()->NodeExecutions().Get(key);
  if (!row.ok()) return MissingNodeExecution(row.status(), key);
  auto node = FromModel(row.value(), false, false);
  if (!node.ok()) return node.status();
  auto store = services_.Storage();
  if (!store.ok()) return store.status();

  admin::NodeExecutionGetDataResponse out;
  const auto& closure = node->closure();
  if (auto s = GetInputs(*store.value(), settings_, node->input_uri(), *out.mutable_inputs(), *out.mutable_full_inputs());
      !s.ok()) {
    return s;
  }
  if (auto s = GetOutputs(*store.value(), settings_, closure.output_uri(),
                          closure.has_output_data() ? &closure.output_data() : nullptr, *out.mutable_outputs(),
                          *out.mutable_full_outputs());
      !s.ok()) {
    return s;
  }
  *out.mutable_flyte_urls() = FlyteUrlsForNode(request.id(), !closure.deck_uri().empty());
  if (!row->dynamic_workflow_remote_closure_reference.empty()) {
    auto* dyn = out.mutable_dynamic_workflow();
    if (auto s = ReadDynamicWorkflowClosure(*store.value(), settings_, row->dynamic_workflow_remote_closure_reference,
                                            *dyn->mutable_compiled_workflow());
        !s.ok()) {
      return s;
    }
    *dyn->mutable_id() = dyn->compiled_workflow().primary().template_().id();
    dyn->set_dynamic_job_spec_uri(closure.dynamic_job_spec_uri());
  }
  response = std::move(out);
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
