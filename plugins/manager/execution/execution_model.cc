// Execution rows to messages, as upstream's transformers/execution.go.
#include "execution_model.h"

#include "flyte/manager/errors.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/support.h"
#include "flyte/manager/validation.h"

// closure.outputs/output_data are deprecated in flyteidl but still what admin stores.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {

namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
using plugin::Status;

namespace {

constexpr size_t kTrimmedErrorMessageLength = 100;

// Length of the valid UTF-8 sequence starting at s[i] (Go's utf8.DecodeRune rules: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 when the byte starts no valid sequence.
size_t ValidUtf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string TrimErrorMessage(std::string_view message) {
  if (message.size() <= kTrimmedErrorMessageLength) return std::string(message);
  std::string_view cut = message.substr(0, kTrimmedErrorMessageLength);
  std::string out;
  out.reserve(cut.size());
  for (size_t i = 0; i < cut.size();) {
    size_t n = ValidUtf8SequenceLength(cut, i);
    if (n == 0) {
      ++i;
      continue;
    }
    out.append(cut.substr(i, n));
    i += n;
  }
  return out;
}

bool IsExecutionTerminal(core::WorkflowExecution::Phase phase) {
  return phase == core::WorkflowExecution::SUCCEEDED || phase == core::WorkflowExecution::FAILED ||
         phase == core::WorkflowExecution::TIMED_OUT || phase == core::WorkflowExecution::ABORTED;
}

core::WorkflowExecution::Phase PhaseFromName(const std::string& name) {
  core::WorkflowExecution::Phase phase = core::WorkflowExecution::UNDEFINED;
  if (!core::WorkflowExecution::Phase_Parse(name, &phase)) return core::WorkflowExecution::UNDEFINED;
  return phase;
}

std::string PhaseName(core::WorkflowExecution::Phase phase) { return plugin::GoEnumString(phase); }

plugin::db::ExecutionKey ExecutionKeyOf(const core::WorkflowExecutionIdentifier& id) {
  return plugin::db::ExecutionKey{id.project(), id.domain(), id.name()};
}

core::WorkflowExecutionIdentifier ExecutionIdOf(const plugin::db::ExecutionKey& key) {
  core::WorkflowExecutionIdentifier id;
  id.set_project(key.project);
  id.set_domain(key.domain);
  id.set_name(key.name);
  return id;
}

Status MissingExecution(const Status& status, const core::WorkflowExecutionIdentifier& id) {
  if (status.code() != plugin::StatusCode::kNotFound) return status;
  core::Identifier key;
  key.set_project(id.project());
  key.set_domain(id.domain());
  key.set_name(id.name());
  return MissingEntityError("execution", key);
}

plugin::StatusOr<admin::Execution> FromExecutionModel(const plugin::db::ExecutionModel& model,
                                                      const ExecutionTransformOptions& options) {
  admin::Execution execution;
  admin::ExecutionSpec& spec = *execution.mutable_spec();
  if (!spec.ParseFromString(model.spec)) return plugin::Internal("failed to unmarshal spec");
  if (!options.default_namespace.empty()) {
    admin::SystemMetadata& system = *spec.mutable_metadata()->mutable_system_metadata();
    if (system.namespace_().empty()) system.set_namespace_(options.default_namespace);
  }
  admin::ExecutionClosure& closure = *execution.mutable_closure();
  if (!closure.ParseFromString(model.closure)) return plugin::Internal("failed to unmarshal closure");
  if (options.trim_error_message && closure.has_error() && !closure.error().message().empty()) {
    closure.mutable_error()->set_message(TrimErrorMessage(closure.error().message()));
  }
  if (!closure.has_state_change_details()) {
    // Rows from before state changes were recorded.
    admin::ExecutionStateChangeDetails& details = *closure.mutable_state_change_details();
    details.set_state(admin::EXECUTION_ACTIVE);
    *details.mutable_occurred_at() = ToProto(model.created_at);
    details.set_principal(model.user);
  }
  if (model.phase == "ABORTED" && !closure.has_abort_metadata()) {
    // Rows from before abort metadata existed keep only the cause column.
    closure.mutable_abort_metadata()->set_cause(model.abort_cause);
  }
  *execution.mutable_id() = ExecutionIdOf(model.key);
  return execution;
}

}  // namespace flyte::plugins::manager
