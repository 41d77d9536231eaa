// Task execution rows from events, and back to messages.
#include "task_execution_model.h"

#include <google/protobuf/duration.pb.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "flyte/manager/data.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/support.h"
#include "flyte/manager/stored_time.h"

// The closure's output fields and the event's legacy `reason` are deprecated in the IDL, but
// upstream still writes and reads them.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {

using plugin::Status;
using plugin::StatusOr;
using plugin::db::TaskExecutionModel;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace event = flyteidl::event;
using Logs = google::protobuf::RepeatedPtrField<core::TaskLog>;

namespace {

bool ValidTimestamp(const google::protobuf::Timestamp& ts) { return manager::PtypesTime(&ts).ok(); }

google::protobuf::Duration DurationOf(int64_t ns) {
  google::protobuf::Duration d;
  d.set_seconds(ns / 1000000000);
  d.set_nanos(static_cast<int32_t>(ns % 1000000000));
  return d;
}

// reported_at when set and non-zero, else occurred_at.
const google::protobuf::Timestamp& ReportedAt(const event::TaskExecutionEvent& e) {
  if (e.has_reported_at() && (e.reported_at().seconds() != 0 || e.reported_at().nanos() != 0))
    return e.reported_at();
  return e.occurred_at();
}

std::vector<std::string> OffloadKeys(const event::TaskExecutionEvent& e, const char* suffix) {
  const auto& node = e.parent_node_execution_id();
  const auto& exec = node.execution_id();
  return {exec.project(),
          exec.domain(),
          exec.name(),
          node.node_id(),
          e.task_id().project(),
          e.task_id().domain(),
          e.task_id().name(),
          e.task_id().version(),
          std::to_string(e.retry_attempt()),
          suffix};
}

// Inputs never change once recorded; input_data is always offloaded (whatever the policy).
Status HandleInputs(const event::TaskExecutionEvent& e, TaskExecutionModel& model,
                    const EventDataPolicy& policy) {
  if (!model.input_uri.empty()) return Status::Ok();
  if (e.input_value_case() == event::TaskExecutionEvent::kInputUri) {
    model.input_uri = e.input_uri();
  } else if (e.input_value_case() == event::TaskExecutionEvent::kInputData) {
    auto uri = OffloadLiteralMap(*policy.store, e.input_data(), OffloadKeys(e, "offloaded_inputs"));
    if (!uri.ok()) return uri.status();
    model.input_uri = uri.value();
  }
  return Status::Ok();
}

void AddStartedState(const event::TaskExecutionEvent& e, TaskExecutionModel& model,
                     admin::TaskExecutionClosure& closure) {
  if (!model.started_at) {
    model.started_at = TimeOf(e.occurred_at());
    *closure.mutable_started_at() = e.occurred_at();
  }
}

Status AddTerminalState(const event::TaskExecutionEvent& e, TaskExecutionModel& model,
                        admin::TaskExecutionClosure& closure, const EventDataPolicy& policy) {
  if (model.started_at) {
    *closure.mutable_started_at() = manager::ToProto(*model.started_at);
    const int64_t duration =
        manager::NanosBetween(manager::ExactTime(*model.started_at),
                              manager::ExactTime(e.occurred_at().seconds(), e.occurred_at().nanos()));
    // A zero duration is not written to the column (gorm-zero), but the closure carries it.
    if (duration != 0) model.duration_ns = duration;
    *closure.mutable_duration() = DurationOf(duration);
  }
  // An empty output_uri is no result (upstream tests the string, not the oneof): what an
  // earlier event stored stays.
  if (!e.output_uri().empty()) {
    closure.set_output_uri(e.output_uri());
  } else if (e.has_output_data()) {
    if (policy.store_inline) {
      *closure.mutable_output_data() = e.output_data();
    } else {
      auto uri = OffloadLiteralMap(*policy.store, e.output_data(), OffloadKeys(e, "offloaded_outputs"));
      if (!uri.ok()) return uri.status();
      closure.set_output_uri(uri.value());
    }
  } else if (e.has_error()) {
    *closure.mutable_error() = e.error();
  }
  return Status::Ok();
}

bool ExternalResourceLess(const event::ExternalResourceInfo& a,
                          const event::ExternalResourceInfo& b) {
  if (a.index() == b.index()) return a.retry_attempt() < b.retry_attempt();
  return a.index() < b.index();
}

void MergeExternalResource(event::ExternalResourceInfo& existing,
                           const event::ExternalResourceInfo& latest) {
  if (!latest.external_id().empty()) existing.set_external_id(latest.external_id());
  // index and retry_attempt are the search key and stay as they are.
  existing.set_phase(latest.phase());
  if (latest.cache_status() != core::CACHE_DISABLED)
    existing.set_cache_status(latest.cache_status());
  *existing.mutable_logs() = MergeLogs(existing.logs(), latest.logs());
  if (latest.has_custom_info()) *existing.mutable_custom_info() = latest.custom_info();
}

// Upstream searches the stored list (kept sorted by index, retry_attempt) for each reported
// resource: a match (the first of equal keys) is merged, anything else is inserted at its sorted
// position. On a sorted list that is a merge by key, done here through a map so that a task
// reporting many resources costs n log n on the database writer rather than n squared. A list
// that is not sorted (never written so here) is searched and shifted as upstream does.
void MergeExternalResources(
    google::protobuf::RepeatedPtrField<event::ExternalResourceInfo>& existing,
    const google::protobuf::RepeatedPtrField<event::ExternalResourceInfo>& latest) {
  if (latest.empty()) return;
  const auto key = [](const event::ExternalResourceInfo& r) {
    return std::make_pair(r.index(), r.retry_attempt());
  };
  const bool sorted = std::is_sorted(
      existing.begin(), existing.end(),
      [&](const event::ExternalResourceInfo& a, const event::ExternalResourceInfo& b) { return key(a) < key(b); });
  if (sorted) {
    std::vector<event::ExternalResourceInfo*> owned(static_cast<size_t>(existing.size()));
    existing.ExtractSubrange(0, existing.size(), owned.data());
    std::map<std::pair<uint32_t, uint32_t>, std::vector<std::unique_ptr<event::ExternalResourceInfo>>> by_key;
    for (auto* r : owned) by_key[key(*r)].emplace_back(r);
    for (const auto& resource : latest) {
      auto& same = by_key[key(resource)];
      if (same.empty()) {
        same.push_back(std::make_unique<event::ExternalResourceInfo>(resource));
      } else {
        MergeExternalResource(*same.front(), resource);
      }
    }
    existing.Reserve(static_cast<int>(owned.size() + static_cast<size_t>(latest.size())));
    for (auto& [k, same] : by_key) {
      for (auto& r : same) existing.AddAllocated(r.release());
    }
    return;
  }
  for (const auto& resource : latest) {
    int lo = 0, hi = existing.size();
    while (lo < hi) {
      const int mid = lo + (hi - lo) / 2;
      const auto& m = existing.Get(mid);
      const bool ge = m.index() == resource.index() ? m.retry_attempt() >= resource.retry_attempt()
                                                    : m.index() >= resource.index();
      if (ge) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    if (lo >= existing.size()) {
      *existing.Add() = resource;
    } else if (existing.Get(lo).index() == resource.index() &&
               existing.Get(lo).retry_attempt() == resource.retry_attempt()) {
      MergeExternalResource(*existing.Mutable(lo), resource);
    } else {
      *existing.Add() = resource;
      for (int i = existing.size() - 1; i > lo; --i) existing.SwapElements(i, i - 1);
    }
  }
}

// json-patch's pruneNulls: null members of objects go, at any depth; lists keep their null
// elements, with the objects inside them pruned.
void PruneNulls(google::protobuf::Value& value) {
  if (value.kind_case() == google::protobuf::Value::kListValue) {
    for (auto& element : *value.mutable_list_value()->mutable_values()) PruneNulls(element);
    return;
  }
  if (value.kind_case() != google::protobuf::Value::kStructValue) return;
  auto* fields = value.mutable_struct_value()->mutable_fields();
  for (auto it = fields->begin(); it != fields->end();) {
    if (it->second.kind_case() == google::protobuf::Value::kNullValue) {
      it = fields->erase(it);
    } else {
      PruneNulls(it->second);
      ++it;
    }
  }
}

}  // namespace

std::string TaskPhaseName(int phase) { return plugin::GoEnumString(static_cast<core::TaskExecution_Phase>(phase)); }

bool IsTaskPhaseTerminal(int phase) {
  return phase == core::TaskExecution::SUCCEEDED || phase == core::TaskExecution::FAILED ||
         phase == core::TaskExecution::ABORTED;
}

plugin::db::TaskExecutionKey TaskExecutionKeyOf(const core::TaskExecutionIdentifier& id) {
  plugin::db::TaskExecutionKey key;
  key.task = {id.task_id().project(), id.task_id().domain(), id.task_id().name(),
              id.task_id().version()};
  const auto& node = id.node_execution_id();
  key.node_execution = {
      {node.execution_id().project(), node.execution_id().domain(), node.execution_id().name()},
      node.node_id()};
  key.retry_attempt = id.retry_attempt();
  return key;
}

core::TaskExecutionIdentifier TaskExecutionIdOf(const event::TaskExecutionEvent& e) {
  core::TaskExecutionIdentifier id;
  if (e.has_task_id()) *id.mutable_task_id() = e.task_id();
  if (e.has_parent_node_execution_id())
    *id.mutable_node_execution_id() = e.parent_node_execution_id();
  id.set_retry_attempt(e.retry_attempt());
  return id;
}

plugin::db::Time TimeOf(const google::protobuf::Timestamp& ts) {
  return manager::StoredTime(ts.seconds(), ts.nanos());
}

Logs MergeLogs(const Logs& existing, const Logs& latest) {
  if (latest.empty()) return existing;
  if (existing.empty()) return latest;
  std::set<std::string> uris, names;
  for (const auto& log : latest) {
    uris.insert(log.uri());
    if (!log.name().empty()) names.insert(log.name());
  }
  // The latest logs first (their names change as the task moves on), then stored logs that
  // neither a URI nor a name of the latest replaces.
  Logs merged = latest;
  for (const auto& log : existing) {
    if (uris.count(log.uri()) == 0 && names.count(log.name()) == 0) *merged.Add() = log;
  }
  return merged;
}

Logs FilterLogsByPhase(const Logs& logs, int phase) {
  Logs filtered;
  for (const auto& log : logs) {
    if (IsTaskPhaseTerminal(phase) && log.hideoncefinished()) continue;
    // Some plugins sit in INITIALIZING while their pods are still pending: treated as QUEUED.
    if ((phase == core::TaskExecution::QUEUED || phase == core::TaskExecution::INITIALIZING) &&
        !log.showwhilepending()) {
      continue;
    }
    *filtered.Add() = log;
  }
  return filtered;
}

namespace {

std::optional<std::string> UnwritableAsJson(const google::protobuf::Value& value);

// Why protojson.Marshal refuses `s` (its error, for the first bad value in its key order), if it
// does: a Value with no kind set, or a number that is NaN or infinite.
std::optional<std::string> UnwritableAsJson(const google::protobuf::Struct& s) {
  std::map<std::string, const google::protobuf::Value*> sorted;
  for (const auto& [key, value] : s.fields()) sorted[key] = &value;
  for (const auto& [key, value] : sorted) {
    if (auto why = UnwritableAsJson(*value)) return why;
  }
  return std::nullopt;
}

std::optional<std::string> UnwritableAsJson(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::KIND_NOT_SET:
      return std::string("proto: google.protobuf.Value: none of the oneof fields is set");
    case google::protobuf::Value::kNumberValue: {
      const double v = value.number_value();
      if (std::isnan(v)) return std::string("proto: google.protobuf.Value.number_value: invalid NaN value");
      if (std::isinf(v)) {
        return std::string("proto: google.protobuf.Value.number_value: invalid ") + (v > 0 ? "+Inf" : "-Inf") +
               " value";
      }
      return std::nullopt;
    }
    case google::protobuf::Value::kStructValue:
      return UnwritableAsJson(value.struct_value());
    case google::protobuf::Value::kListValue:
      for (const auto& element : value.list_value().values()) {
        if (auto why = UnwritableAsJson(element)) return why;
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

void MergeCustomInfo(google::protobuf::Struct& existing, const google::protobuf::Struct& latest) {
  auto* fields = existing.mutable_fields();
  for (const auto& [key, value] : latest.fields()) {
    if (value.kind_case() == google::protobuf::Value::kNullValue) {
      fields->erase(key);
      continue;
    }
    auto it = fields->find(key);
    const bool replaces_object = it != fields->end() && it->second.kind_case() == google::protobuf::Value::kStructValue;
    if (replaces_object && value.kind_case() == google::protobuf::Value::kStructValue) {
      MergeCustomInfo(*it->second.mutable_struct_value(), value.struct_value());
    } else if (replaces_object) {
      // json-patch's merge: a non-object patch replaces an object as it is.
      it->second = value;
    } else {
      // Over nothing, a null or any non-object, the value is pruned first.
      google::protobuf::Value pruned = value;
      PruneNulls(pruned);
      (*fields)[key] = std::move(pruned);
    }
  }
}

void MergeMetadata(event::TaskExecutionMetadata& existing,
                   const event::TaskExecutionMetadata& latest) {
  if (!latest.generated_name().empty()) existing.set_generated_name(latest.generated_name());
  MergeExternalResources(*existing.mutable_external_resources(), latest.external_resources());
  *existing.mutable_resource_pool_info() = latest.resource_pool_info();
  if (!latest.plugin_identifier().empty())
    existing.set_plugin_identifier(latest.plugin_identifier());
  if (latest.instance_class() != event::TaskExecutionMetadata::DEFAULT)
    existing.set_instance_class(latest.instance_class());
}

StatusOr<TaskExecutionModel> CreateTaskExecutionModel(
    const admin::TaskExecutionEventRequest& request, const EventDataPolicy& policy) {
  const auto& e = request.event();
  TaskExecutionModel model;
  model.key = TaskExecutionKeyOf(TaskExecutionIdOf(e));
  model.phase = TaskPhaseName(e.phase());
  model.phase_version = e.phase_version();
  if (auto s = HandleInputs(e, model, policy); !s.ok()) return s;

  admin::TaskExecutionClosure closure;
  closure.set_phase(e.phase());
  *closure.mutable_updated_at() = ReportedAt(e);
  *closure.mutable_created_at() = e.occurred_at();
  *closure.mutable_logs() = e.logs();
  if (e.has_custom_info()) *closure.mutable_custom_info() = e.custom_info();
  closure.set_task_type(e.task_type());
  if (e.has_metadata()) {
    auto* metadata = closure.mutable_metadata();
    *metadata = e.metadata();
    auto* resources = metadata->mutable_external_resources();
    std::stable_sort(resources->begin(), resources->end(), ExternalResourceLess);
  }
  closure.set_event_version(e.event_version());
  if (e.reasons_size() > 0) {
    for (const auto& reason : e.reasons()) {
      auto* r = closure.add_reasons();
      if (reason.has_occurred_at()) *r->mutable_occurred_at() = reason.occurred_at();
      r->set_message(reason.reason());
    }
    closure.set_reason(e.reasons(e.reasons_size() - 1).reason());
  } else if (!e.reason().empty()) {
    auto* r = closure.add_reasons();
    *r->mutable_occurred_at() = e.occurred_at();
    r->set_message(e.reason());
    closure.set_reason(e.reason());
  }
  if (e.phase() == core::TaskExecution::RUNNING) {
    if (auto t = manager::PtypesTime(&e.occurred_at()); !t.ok())
      return plugin::Internal("failed to unmarshal occurredAt with error: " + t.status().message());
    AddStartedState(e, model, closure);
  }
  if (IsTaskPhaseTerminal(e.phase())) {
    if (auto s = AddTerminalState(e, model, closure, policy); !s.ok()) return s;
  }
  if (!closure.SerializeToString(&model.closure)) {
    return plugin::Internal(
        "failed to marshal task execution closure with error: serialization failed");
  }
  if (!ValidTimestamp(e.occurred_at())) return plugin::Internal("failed to read event timestamp");
  model.task_execution_created_at = TimeOf(e.occurred_at());
  if (!ValidTimestamp(ReportedAt(e)))
    return plugin::Internal("failed to read event reported_at timestamp");
  model.task_execution_updated_at = TimeOf(ReportedAt(e));
  return model;
}

Status UpdateTaskExecutionModel(const admin::TaskExecutionEventRequest& request,
                                TaskExecutionModel& model, const EventDataPolicy& policy) {
  const auto& e = request.event();
  if (auto s = HandleInputs(e, model, policy); !s.ok()) return s;
  admin::TaskExecutionClosure closure;
  if (!closure.ParseFromString(model.closure)) {
    return plugin::Internal(
        "failed to unmarshal task execution closure with error: not a TaskExecutionClosure");
  }
  const std::string new_phase = TaskPhaseName(e.phase());
  const bool phase_change = model.phase != new_phase;
  const std::string stored_phase = model.phase;
  model.phase = new_phase;
  // gorm's Updates skips zero fields: version 0 leaves the stored version in place.
  if (e.phase_version() != 0) model.phase_version = e.phase_version();
  closure.set_phase(e.phase());
  *closure.mutable_updated_at() = ReportedAt(e);

  *closure.mutable_logs() = FilterLogsByPhase(MergeLogs(closure.logs(), e.logs()), e.phase());

  if (e.reasons_size() > 0) {
    for (const auto& reason : e.reasons()) {
      auto* r = closure.add_reasons();
      if (reason.has_occurred_at()) *r->mutable_occurred_at() = reason.occurred_at();
      r->set_message(reason.reason());
    }
    closure.set_reason(e.reasons(e.reasons_size() - 1).reason());
  } else if (!e.reason().empty()) {
    // A legacy reason joins the time series only when it differs from the current one.
    if (closure.reason() != e.reason()) {
      auto* r = closure.add_reasons();
      *r->mutable_occurred_at() = e.occurred_at();
      r->set_message(e.reason());
    }
    closure.set_reason(e.reason());
  }
  const std::string running = TaskPhaseName(core::TaskExecution::RUNNING);
  if (stored_phase != running && model.phase == running) {
    if (auto t = manager::PtypesTime(&e.occurred_at()); !t.ok())
      return plugin::Internal("failed to unmarshal occurredAt with error: " + t.status().message());
    AddStartedState(e, model, closure);
  }
  if (IsTaskPhaseTerminal(e.phase())) {
    if (auto t = manager::PtypesTime(&e.occurred_at()); model.started_at && !t.ok()) {
      return plugin::Internal("Failed to parse task execution occurredAt timestamp: " +
                              t.status().message());
    }
    if (auto s = AddTerminalState(e, model, closure, policy); !s.ok()) return s;
  }
  if (e.has_custom_info()) {
    if (closure.has_custom_info()) {
      // Upstream merges through protojson, which cannot write every Struct.
      for (const auto* custom : {&closure.custom_info(), &e.custom_info()}) {
        if (auto why = UnwritableAsJson(*custom)) {
          return plugin::Internal("failed to merge task event custom_info with error: " + *why);
        }
      }
      MergeCustomInfo(*closure.mutable_custom_info(), e.custom_info());
    } else {
      *closure.mutable_custom_info() = e.custom_info();
    }
  }
  if (e.has_metadata()) {
    if (closure.has_metadata()) {
      MergeMetadata(*closure.mutable_metadata(), e.metadata());
    } else {
      *closure.mutable_metadata() = e.metadata();
    }
  }
  if (phase_change && closure.has_metadata()) {
    for (auto& resource : *closure.mutable_metadata()->mutable_external_resources()) {
      *resource.mutable_logs() = FilterLogsByPhase(resource.logs(), e.phase());
    }
  }
  if (e.event_version() > closure.event_version()) closure.set_event_version(e.event_version());
  if (!closure.SerializeToString(&model.closure)) {
    return plugin::Internal(
        "failed to marshal task execution closure with error: serialization failed");
  }
  if (!ValidTimestamp(ReportedAt(e)))
    return plugin::Internal("failed to parse updated at timestamp");
  model.task_execution_updated_at = TimeOf(ReportedAt(e));
  return Status::Ok();
}

StatusOr<admin::TaskExecution> FromTaskExecutionModel(const TaskExecutionModel& model,
                                                      bool is_parent) {
  admin::TaskExecution out;
  if (!out.mutable_closure()->ParseFromString(model.closure))
    return plugin::Internal("failed to unmarshal closure");
  auto* id = out.mutable_id();
  auto* task = id->mutable_task_id();
  task->set_resource_type(core::TASK);
  task->set_project(model.key.task.project);
  task->set_domain(model.key.task.domain);
  task->set_name(model.key.task.name);
  task->set_version(model.key.task.version);
  auto* node = id->mutable_node_execution_id();
  node->set_node_id(model.key.node_execution.node_id);
  node->mutable_execution_id()->set_project(model.key.node_execution.execution.project);
  node->mutable_execution_id()->set_domain(model.key.node_execution.execution.domain);
  node->mutable_execution_id()->set_name(model.key.node_execution.execution.name);
  id->set_retry_attempt(model.key.retry_attempt);
  out.set_input_uri(model.input_uri);
  out.set_is_parent(is_parent);
  return out;
}

}  // namespace flyte::plugins::manager
