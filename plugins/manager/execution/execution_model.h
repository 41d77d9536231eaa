// Rows of `executions` as admin.Execution messages (upstream transformers/execution.go), and the
// small pieces of execution vocabulary every part of the execution manager shares.
#pragma once

#include <string>
#include <string_view>

#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"
#include "flyteidl/admin/execution.pb.h"
#include "flyteidl/core/execution.pb.h"
#include "flyteidl/event/event.pb.h"
#include "flyteidl/core/identifier.pb.h"

namespace flyte::plugins::manager {

// Upstream's ExecutionTransformerOptions.
struct ExecutionTransformOptions {
  // List responses: closure.error.message is cut to 100 bytes (TrimErrorMessage).
  bool trim_error_message = false;
  // When non-empty, fills spec.metadata.system_metadata.namespace if that is empty (GetExecution).
  std::string default_namespace;
};

// The wire execution from a row: id from the key, spec and closure from their blobs. A closure
// without state_change_details gets {ACTIVE, occurred_at: row created_at, principal: user}; an
// ABORTED row whose closure has no abort_metadata gets {cause: abort_cause column}. Deprecated
// spec.inputs / closure.computed_inputs are returned as stored. INTERNAL "failed to unmarshal
// spec" / "failed to unmarshal closure" for blobs that do not parse.
plugin::StatusOr<flyteidl::admin::Execution> FromExecutionModel(const plugin::db::ExecutionModel& model,
                                                                const ExecutionTransformOptions& options = {});

// The first 100 bytes of `message`, with bytes that are not valid UTF-8 dropped (Go's
// strings.ToValidUTF8(msg[:100], "")); shorter messages unchanged.
std::string TrimErrorMessage(std::string_view message);

// SUCCEEDED, FAILED, TIMED_OUT, ABORTED (upstream common.IsExecutionTerminal).
bool IsExecutionTerminal(flyteidl::core::WorkflowExecution::Phase phase);

// The phase a `phase` column names; UNDEFINED for anything unknown (Go's map lookup zero value).
flyteidl::core::WorkflowExecution::Phase PhaseFromName(const std::string& name);
// The enum name as Go's String() prints it (the number for a value outside the enum).
std::string PhaseName(flyteidl::core::WorkflowExecution::Phase phase);

plugin::db::ExecutionKey ExecutionKeyOf(const flyteidl::core::WorkflowExecutionIdentifier& id);
flyteidl::core::WorkflowExecutionIdentifier ExecutionIdOf(const plugin::db::ExecutionKey& key);

// NOT_FOUND "missing entity of type execution with identifier project:"p" domain:"d" name:"n""
// when `status` is the repository's missing row; any other status unchanged.
plugin::Status MissingExecution(const plugin::Status& status, const flyteidl::core::WorkflowExecutionIdentifier& id);

}  // namespace flyte::plugins::manager
