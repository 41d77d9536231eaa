// Task execution rows built from and updated by task events, and read back as messages (upstream
// transformers/task_execution.go): the closure's logs, reasons, custom info and metadata are
// merged across phase and phase_version updates exactly as upstream merges them.
#pragma once

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"
#include "flyte/plugin/storage.h"
#include "flyteidl/admin/event.pb.h"
#include "flyteidl/admin/task_execution.pb.h"
#include "flyteidl/core/execution.pb.h"
#include "flyteidl/event/event.pb.h"

namespace flyte::plugins::manager {

// Where and how event payloads are kept.
struct EventDataPolicy {
  bool store_inline = false;  // remoteData.inlineEventDataPolicy == StoreInline (outputs only)
  plugin::ObjectStore* store = nullptr;
};

// Go's String() of the phase: its name, or the number for a value outside the enum.
std::string TaskPhaseName(int phase);
// SUCCEEDED, FAILED, ABORTED (RETRYABLE_FAILED is not terminal).
bool IsTaskPhaseTerminal(int phase);

plugin::db::TaskExecutionKey TaskExecutionKeyOf(const flyteidl::core::TaskExecutionIdentifier& id);
// The identifier of the task execution an event is about (its task id as sent).
flyteidl::core::TaskExecutionIdentifier TaskExecutionIdOf(
    const flyteidl::event::TaskExecutionEvent& event);

plugin::db::Time TimeOf(const google::protobuf::Timestamp& ts);

// The row the first event of a task execution creates (upstream CreateTaskExecutionModel).
// Offloading failures are returned (INTERNAL).
plugin::StatusOr<plugin::db::TaskExecutionModel> CreateTaskExecutionModel(
    const flyteidl::admin::TaskExecutionEventRequest& request, const EventDataPolicy& policy);

// Applies a later event to `model` in place (upstream UpdateTaskExecutionModel), including the
// gorm-zero quirks of its write: a phase_version of 0 keeps the stored one, a zero duration keeps
// the stored duration.
plugin::Status UpdateTaskExecutionModel(const flyteidl::admin::TaskExecutionEventRequest& request,
                                        plugin::db::TaskExecutionModel& model,
                                        const EventDataPolicy& policy);

// The message of a row (upstream FromTaskExecutionModel, untrimmed errors); `is_parent` when node
// executions name it as their parent task execution.
plugin::StatusOr<flyteidl::admin::TaskExecution> FromTaskExecutionModel(
    const plugin::db::TaskExecutionModel& model, bool is_parent);

// The merge rules, exposed for tests.
google::protobuf::RepeatedPtrField<flyteidl::core::TaskLog> MergeLogs(
    const google::protobuf::RepeatedPtrField<flyteidl::core::TaskLog>& existing,
    const google::protobuf::RepeatedPtrField<flyteidl::core::TaskLog>& latest);
google::protobuf::RepeatedPtrField<flyteidl::core::TaskLog> FilterLogsByPhase(
    const google::protobuf::RepeatedPtrField<flyteidl::core::TaskLog>& logs, int phase);
// JSON merge patch (RFC 7386) of `latest` onto `existing`: null deletes a key, objects merge
// recursively, anything else replaces.
void MergeCustomInfo(google::protobuf::Struct& existing, const google::protobuf::Struct& latest);
void MergeMetadata(flyteidl::event::TaskExecutionMetadata& existing,
                   const flyteidl::event::TaskExecutionMetadata& latest);

}  // namespace flyte::plugins::manager
