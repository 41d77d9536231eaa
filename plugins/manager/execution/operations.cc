// The execution manager's operations on existing executions, as upstream's execution_manager.go
// serves them: Get, Update (archive), List, Terminate, GetExecutionData and workflow events.
#include "operations.h"

#include <chrono>
#include <optional>

#include "execution_model.h"
#include "flyte/manager/checks.h"
#include "flyte/manager/errors.h"
#include "flyte/manager/event_checks.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/stored_time.h"

// The closure's outputs/output_data/computed_inputs and the data response's UrlBlobs are
// deprecated in flyteidl but are exactly what upstream reads and writes.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {

namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace db = plugin::db;
namespace events = flyteidl::event;
using plugin::Status;
using plugin::StatusCode;
using plugin::StatusOr;

namespace {

// Older propellers send this fixed producer id; it never names a cluster (common.DefaultProducerID).
constexpr const char* kDefaultProducerId = "propeller";
// Where offloaded event outputs live under metadata/<p>/<d>/<exec>/ (transformers.OutputsObjectSuffix).
constexpr const char* kOffloadedOutputs = "offloaded_outputs";
// Where legacy inline inputs are offloaded (shared.Inputs).
constexpr const char* kInputs = "inputs";
// The text of Go's proto.Unmarshal failure on malformed bytes.
constexpr const char* kGoUnmarshalError = "proto: cannot parse invalid wire-format data";

// The authenticated caller, as the auth interceptors record it (upstream getUser); empty without
// authentication.
std::string Principal(const plugin::CallContext& call) { return std::string(call.Attribute("principal")); }


bool IgnoresCluster(const std::string& producer_id) {
  return producer_id.empty() || producer_id == kDefaultProducerId;
}

// Go's ptypes.Timestamp: the time, or its validation error text.
std::optional<db::Time> TimeOf(const events::WorkflowExecutionEvent& event, std::string* error) {
  constexpr int64_t kMinValidSeconds = -62135596800;  // 0001-01-01T00:00:00Z
  constexpr int64_t kMaxValidSeconds = 253402300800;  // 10000-01-01T00:00:00Z
  if (!event.has_occurred_at()) {
    *error = "timestamp: nil Timestamp";
    return std::nullopt;
  }
  const auto& ts = event.occurred_at();
  if (ts.seconds() < kMinValidSeconds) {
    *error = "timestamp: " + plugin::GoProtoText(ts) + " before 0001-01-01";
    return std::nullopt;
  }
  if (ts.seconds() >= kMaxValidSeconds) {
    *error = "timestamp: " + plugin::GoProtoText(ts) + " after 10000-01-01";
    return std::nullopt;
  }
  if (ts.nanos() < 0 || ts.nanos() >= 1000000000) {
    *error = "timestamp: " + plugin::GoProtoText(ts) + ": nanos not in range [0, 1e9)";
    return std::nullopt;
  }
  return manager::StoredTime(ts.seconds(), ts.nanos());
}

google::protobuf::Duration DurationProto(int64_t ns) {
  google::protobuf::Duration d;
  d.set_seconds(ns / 1000000000);
  d.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return d;
}

StatusOr<admin::ExecutionClosure> ParseClosure(const db::ExecutionModel& model) {
  admin::ExecutionClosure closure;
  if (!closure.ParseFromString(model.closure)) {
    return plugin::Internal(std::string("Failed to unmarshal execution closure: ") + kGoUnmarshalError);
  }
  return closure;
}

// Upstream's reassignCluster: the cluster column and spec.metadata.system_metadata.execution_cluster.
Status ReassignCluster(db::ExecutionModel& model, const std::string& cluster) {
  model.cluster = cluster;
  admin::ExecutionSpec spec;
  if (!spec.ParseFromString(model.spec)) {
    return plugin::Internal(std::string("Failed to unmarshal execution spec: ") + kGoUnmarshalError);
  }
  spec.mutable_metadata()->mutable_system_metadata()->set_execution_cluster(cluster);
  model.spec = spec.SerializeAsString();
  return Status::Ok();
}

// The phase rules of CreateWorkflowEvent, checked against the row as it is now.
Status CheckPhaseTransition(const db::ExecutionModel& model, const events::WorkflowExecutionEvent& event) {
  const core::WorkflowExecution::Phase current = PhaseFromName(model.phase);
  const core::WorkflowExecution::Phase next = event.phase();
  const std::string id = plugin::GoProtoText(event.execution_id());
  // Repeated QUEUED events announce a cluster reassignment and skip both checks.
  if (next != core::WorkflowExecution::QUEUED) {
    if (current == next) {
      return plugin::AlreadyExists("This phase " + PhaseName(current) + " was already recorded for workflow execution " +
                                   id);
    }
    if (auto s = ValidateCluster(model.cluster, event.producer_id()); !s.ok()) return s;
  }
  if (IsExecutionTerminal(current)) {
    return AlreadyInTerminalStateError(
        "Invalid phase change from " + PhaseName(current) + " to " + PhaseName(next) + " for workflow execution " + id,
        PhaseName(current));
  }
  if (current == core::WorkflowExecution::RUNNING && next == core::WorkflowExecution::QUEUED) {
    return plugin::FailedPrecondition("Cannot go from " + PhaseName(current) + " to " + PhaseName(next) +
                                      " for workflow execution " + id);
  }
  if (current == core::WorkflowExecution::ABORTING && !IsExecutionTerminal(next)) {
    return plugin::FailedPrecondition("Invalid phase change from aborting to " + PhaseName(next) +
                                      " for workflow execution " + id);
  }
  return Status::Ok();
}

// Upstream's UpdateExecutionModelState: the row after an accepted event. `store` is set when
// output_data is to be offloaded.
Status ApplyWorkflowEvent(db::ExecutionModel& model, const admin::WorkflowExecutionEventRequest& request,
                          const RemoteDataSettings& data, plugin::ObjectStore* store) {
  const events::WorkflowExecutionEvent& event = request.event();
  auto parsed = ParseClosure(model);
  if (!parsed.ok()) return parsed.status();
  admin::ExecutionClosure& closure = parsed.value();
  closure.set_phase(event.phase());
  if (event.has_occurred_at()) {
    *closure.mutable_updated_at() = event.occurred_at();
  } else {
    closure.clear_updated_at();
  }
  model.phase = PhaseName(event.phase());

  std::string time_error;
  std::optional<db::Time> occurred_at = TimeOf(event, &time_error);
  if (!occurred_at) return plugin::Internal("Failed to parse OccurredAt: " + time_error);
  model.execution_updated_at = occurred_at;

  // Only the first RUNNING event marks the start; terminal events measure from it.
  if (event.phase() == core::WorkflowExecution::RUNNING) {
    model.started_at = occurred_at;
    *closure.mutable_started_at() = event.occurred_at();
  } else if (IsExecutionTerminal(event.phase()) && model.started_at) {
    model.duration_ns = manager::NanosBetween(
        manager::ExactTime(*model.started_at),
        manager::ExactTime(event.occurred_at().seconds(), event.occurred_at().nanos()));
    *closure.mutable_duration() = DurationProto(model.duration_ns);
  }

  if (!IgnoresCluster(event.producer_id())) {
    if (event.phase() == core::WorkflowExecution::UNDEFINED || event.phase() == core::WorkflowExecution::QUEUED) {
      if (auto s = ReassignCluster(model, event.producer_id()); !s.ok()) return s;
    } else if (model.cluster != event.producer_id()) {
      return IncompatibleClusterError("Cannot accept events for running/terminated execution [" +
                                          plugin::GoProtoText(event.execution_id()) + "] from cluster [" +
                                          event.producer_id() + "],expected events to originate from [" +
                                          model.cluster + "]",
                                      model.cluster);
    }
  }

  if (!event.output_uri().empty()) {
    closure.mutable_outputs()->set_uri(event.output_uri());
  } else if (event.has_output_data()) {
    if (data.store_inline_event_data) {
      *closure.mutable_output_data() = event.output_data();
    } else {
      const auto& id = event.execution_id();
      auto uri = OffloadLiteralMap(*store, event.output_data(), {id.project(), id.domain(), id.name(), kOffloadedOutputs});
      if (!uri.ok()) return uri.status();
      closure.mutable_outputs()->set_uri(uri.value());
    }
  } else if (event.has_error()) {
    *closure.mutable_error() = event.error();
    // Go's String(): the number for a kind this build does not name.
    model.error_kind = plugin::GoEnumString(event.error().kind());
    model.error_code = event.error().code();
  }
  // Without any of the three the previous result (e.g. TerminateExecution's abort metadata) stays.
  model.closure = closure.SerializeAsString();
  return Status::Ok();
}

}  // namespace

Status ExecutionOperations::GetExecution(plugin::CallContext&, const admin::WorkflowExecutionGetRequest& request,
                                         admin::Execution& response) {
  if (auto s = ValidateWorkflowExecutionId(request.has_id() ? &request.id() : nullptr); !s.ok()) return s;
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  auto row = repos.value()->Executions().Get(ExecutionKeyOf(request.id()));
  if (!row.ok()) return MissingExecution(row.status(), request.id());
  ExecutionTransformOptions options;
  options.default_namespace = context_.Namespace(request.id().project(), request.id().domain());
  auto execution = FromExecutionModel(row.value(), options);
  if (!execution.ok()) return execution.status();
  response = std::move(execution.value());
  return Status::Ok();
}

Status ExecutionOperations::UpdateExecution(plugin::CallContext& call, const admin::ExecutionUpdateRequest& request,
                                            admin::ExecutionUpdateResponse&) {
  const db::Time requested_at = Now();
  if (auto s = ValidateWorkflowExecutionId(request.has_id() ? &request.id() : nullptr); !s.ok()) return s;
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  const std::string principal = Principal(call);
  auto updated = repos.value()->Executions().Update(ExecutionKeyOf(request.id()), [&](db::ExecutionModel& m) -> Status {
    auto closure = ParseClosure(m);
    if (!closure.ok()) return closure.status();
    m.state = static_cast<int32_t>(request.state());
    admin::ExecutionStateChangeDetails& details = *closure->mutable_state_change_details();
    details.set_state(request.state());
    details.set_principal(principal);
    *details.mutable_occurred_at() = ToProto(requested_at);
    m.closure = closure->SerializeAsString();
    return Status::Ok();
  });
  if (!updated.ok()) return MissingExecution(updated.status(), request.id());
  return Status::Ok();
}

Status ExecutionOperations::GetExecutionData(plugin::CallContext&, const admin::WorkflowExecutionGetDataRequest& request,
                                             admin::WorkflowExecutionGetDataResponse& response) {
  // Upstream validates nothing here, and its lookup drops the empty fields of the key, so an
  // empty or partial id reads whichever execution matches the rest. Ours looks up the exact key:
  // such an id is not found.
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  auto store = context_.services().Storage();
  if (!store.ok()) return store.status();
  const db::ExecutionKey key = ExecutionKeyOf(request.id());
  auto row = repos.value()->Executions().Get(key);
  if (!row.ok()) return MissingExecution(row.status(), request.id());
  auto execution = FromExecutionModel(row.value());
  if (!execution.ok()) return execution.status();

  std::string inputs_uri = row->inputs_uri;
  if (inputs_uri.empty()) {
    // Executions from before inputs were offloaded kept them in closure.computed_inputs: offload
    // them once and remember where.
    auto closure = ParseClosure(row.value());
    if (!closure.ok()) return closure.status();
    auto uri = OffloadLiteralMap(*store.value(), closure->computed_inputs(),
                                 {request.id().project(), request.id().domain(), request.id().name(), kInputs});
    if (!uri.ok()) return uri.status();
    inputs_uri = uri.value();
    auto saved = repos.value()->Executions().Update(key, [&](db::ExecutionModel& m) -> Status {
      m.inputs_uri = inputs_uri;
      return Status::Ok();
    });
    if (!saved.ok()) return MissingExecution(saved.status(), request.id());
  }

  const RemoteDataSettings& data = context_.settings().data;
  if (auto s = GetInputs(*store.value(), data, inputs_uri, *response.mutable_inputs(), *response.mutable_full_inputs());
      !s.ok()) {
    return s;
  }
  const admin::ExecutionClosure& closure = execution->closure();
  std::string output_uri = closure.has_outputs() ? closure.outputs().uri() : std::string();
  const core::LiteralMap* inline_outputs = nullptr;
  if (closure.has_outputs() && closure.outputs().has_values()) {
    inline_outputs = &closure.outputs().values();
  } else if (closure.has_output_data()) {
    inline_outputs = &closure.output_data();
  }
  return GetOutputs(*store.value(), data, output_uri, inline_outputs, *response.mutable_outputs(),
                    *response.mutable_full_outputs());
}

Status ExecutionOperations::ListExecutions(plugin::CallContext&, const admin::ResourceListRequest& request,
                                           admin::ExecutionList& response) {
  auto input = BuildResourceListInput(Entity::kExecution, request, "ListExecutions");
  if (!input.ok()) return input.status();
  // Archived executions stay hidden unless the caller filters on a `state` field (any entity's,
  // as upstream compares the field name only).
  bool has_state_filter = false;
  for (const db::Filter& f : input->filters) has_state_filter = has_state_filter || f.column == "state";
  if (!has_state_filter) {
    input->filters.push_back(db::Filter{"executions", "state", db::FilterOp::kEq,
                                        {std::to_string(static_cast<int>(admin::EXECUTION_ACTIVE))}});
  }
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  auto rows = repos.value()->Executions().List(input.value());
  if (!rows.ok()) return rows.status();
  ExecutionTransformOptions options;
  options.trim_error_message = true;
  for (const db::ExecutionModel& row : rows.value()) {
    auto execution = FromExecutionModel(row, options);
    if (!execution.ok()) return execution.status();
    // Deprecated copies of the inputs are not sent in lists.
    execution->mutable_spec()->clear_inputs();
    execution->mutable_closure()->clear_computed_inputs();
    *response.add_executions() = std::move(execution.value());
  }
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

Status ExecutionOperations::TerminateExecution(plugin::CallContext& call, const admin::ExecutionTerminateRequest& request,
                                               admin::ExecutionTerminateResponse&) {
  if (auto s = ValidateWorkflowExecutionId(request.has_id() ? &request.id() : nullptr); !s.ok()) return s;
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  const std::string principal = Principal(call);
  // The check and the ABORTING write are one transaction, so a terminal event arriving meanwhile
  // is never overwritten.
  auto updated = repos.value()->Executions().Update(ExecutionKeyOf(request.id()), [&](db::ExecutionModel& m) -> Status {
    if (IsExecutionTerminal(PhaseFromName(m.phase))) {
      return AlreadyInTerminalStateError("Cannot abort an already terminated workflow execution", m.phase);
    }
    auto closure = ParseClosure(m);
    if (!closure.ok()) return closure.status();
    admin::AbortMetadata& abort = *closure->mutable_abort_metadata();
    abort.set_cause(request.cause());
    abort.set_principal(principal);
    closure->set_phase(core::WorkflowExecution::ABORTING);
    m.closure = closure->SerializeAsString();
    // gorm writes no empty strings: an empty cause keeps the column's previous one.
    if (!request.cause().empty()) m.abort_cause = request.cause();
    m.phase = PhaseName(core::WorkflowExecution::ABORTING);
    return Status::Ok();
  });
  if (!updated.ok()) return MissingExecution(updated.status(), request.id());

  auto executor = context_.Executor();
  if (!executor.ok()) return executor.status();
  plugin::AbortData abort;
  abort.namespace_ = context_.Namespace(request.id().project(), request.id().domain());
  abort.execution_id = request.id();
  abort.cluster = updated->cluster;
  return executor.value()->Abort(abort);
}

namespace {

// ApplyWorkflowEventRequest writes through one execution update at a time, each of which writes
// nothing when it refuses, and returns right after the one that succeeds.
constexpr bool kEventWorkIsAtomic = true;

// The group-commit key of a workflow event: the execution it locks.
std::string WorkflowEventOrderKey(const core::WorkflowExecutionIdentifier& id) {
  return "executions\x1f" + id.project() + '\x1f' + id.domain() + '\x1f' + id.name();
}

}  // namespace

Status ExecutionOperations::CreateWorkflowEvent(plugin::CallContext&, const admin::WorkflowExecutionEventRequest& request,
                                                admin::WorkflowExecutionEventResponse&) {
  if (auto s = CheckWorkflowEvent(request); !s.ok()) return s;
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  return repos.value()->RunGrouped(WorkflowEventOrderKey(request.event().execution_id()),
                                   [&] { return ApplyWorkflowEventRequest(request); }, kEventWorkIsAtomic);
}

void ExecutionOperations::CreateWorkflowEventAsync(plugin::CallContext&,
                                                   const admin::WorkflowExecutionEventRequest& request,
                                                   admin::WorkflowExecutionEventResponse&,
                                                   std::function<void(Status)> done) {
  if (auto s = CheckWorkflowEvent(request); !s.ok()) return done(s);
  auto repos = context_.services().Db();
  if (!repos.ok()) return done(repos.status());
  // `request` lives until `done` is called, which is after the work has run.
  repos.value()->RunGroupedAsync(WorkflowEventOrderKey(request.event().execution_id()),
                                 [this, &request] { return ApplyWorkflowEventRequest(request); }, std::move(done),
                                 kEventWorkIsAtomic);
}

Status ExecutionOperations::CheckWorkflowEvent(const admin::WorkflowExecutionEventRequest& request) const {
  if (!request.has_event()) return plugin::InvalidArgument("Workflow event handler was called without event");
  const events::WorkflowExecutionEvent& event = request.event();
  if (!event.has_execution_id()) {
    return plugin::InvalidArgument("Workflow event handler request event doesn't have an execution id - " +
                                   plugin::GoProtoText(event));
  }
  const RemoteDataSettings& data = context_.settings().data;
  if (event.has_output_data()) {
    const auto size = static_cast<int64_t>(event.output_data().ByteSizeLong());
    if (size > data.max_size_in_bytes) {
      return Status(StatusCode::kResourceExhausted, "Output data size exceeds platform configured threshold (" +
                                                        std::to_string(size) + " > " +
                                                        std::to_string(data.max_size_in_bytes) + ")");
    }
  }
  return Status::Ok();
}

// The event's checks and update, run inside one grouped database operation: every repository
// call below joins its transaction.
Status ExecutionOperations::ApplyWorkflowEventRequest(const admin::WorkflowExecutionEventRequest& request) {
  const events::WorkflowExecutionEvent& event = request.event();
  const RemoteDataSettings& data = context_.settings().data;
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  plugin::ObjectStore* store = nullptr;
  if (event.output_uri().empty() && event.has_output_data() && !data.store_inline_event_data) {
    auto resolved = context_.services().Storage();
    if (!resolved.ok()) return resolved.status();
    store = resolved.value();
  }

  db::ExecutionEventModel event_row;
  event_row.request_id = request.request_id();
  std::string ignored;
  event_row.occurred_at = TimeOf(event, &ignored).value_or(db::Time{});
  event_row.phase = PhaseName(event.phase());

  // Checks and update run on the row read under the repository's write lock, so concurrent
  // senders are serialized: one of several identical events wins, the rest see its phase.
  bool refused = false;
  auto mutate = [&](db::ExecutionModel& m) -> Status {
    Status s = CheckPhaseTransition(m, event);
    if (s.ok()) s = ApplyWorkflowEvent(m, request, data, store);
    refused = !s.ok();
    return s;
  };
  db::ExecutionRepo& executions = repos.value()->Executions();
  auto updated = executions.Update(ExecutionKeyOf(event.execution_id()), mutate, event_row);
  if (!updated.ok() && updated.status().code() == StatusCode::kAlreadyExists && !refused) {
    // An execution_events row for this phase exists although it is not the current phase (a
    // repeated QUEUED, or a phase entered again): upstream records event rows best effort, so
    // the event itself is still judged by the phase rules and applied.
    updated = executions.Update(ExecutionKeyOf(event.execution_id()), mutate, std::nullopt);
  }
  if (!updated.ok()) return MissingExecution(updated.status(), event.execution_id());
  // Notifications, metrics and the external/cloud event publishers are not part of this plugin.
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
