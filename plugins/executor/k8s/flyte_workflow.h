// The FlyteWorkflow custom resource (flyte.lyft.com/v1alpha1) as upstream's BuildFlyteWorkflow and
// PrepareFlyteWorkflow produce it, as the JSON tree Go's encoding/json writes for it.
#pragma once

#include <google/protobuf/duration.pb.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "flyte/plugin/status.h"
#include "flyte/plugin/workflow_executor.h"

namespace flyte::plugins::executor {

// Upstream BuildFlyteWorkflow: the resource for `closure` run with `inputs` (null = none given)
// under `execution_id` in `namespace_`. Compile errors come back as INTERNAL with upstream's
// "Collected Errors: N" text (missing or unknown inputs, dangling task references, collisions).
plugin::StatusOr<nlohmann::json> BuildFlyteWorkflow(
    const flyteidl::core::CompiledWorkflowClosure& closure,
    const flyteidl::core::LiteralMap* inputs,
    const flyteidl::core::WorkflowExecutionIdentifier& execution_id, const std::string& namespace_);

// Upstream PrepareFlyteWorkflow: execution id, acceptedAt, the propeller finalizer, security
// context (IAM role annotation, service account), labels and annotations, event version,
// executionConfig and rawOutputDataConfig.
// `role_name_key`, when given, replaces the execution parameters' key of the IAM role annotation.
plugin::Status PrepareFlyteWorkflow(const plugin::ExecutionData& data, nlohmann::json& workflow,
                                    const std::string* role_name_key = nullptr);

// Offloading as the admin's top-level config asks (flyteadmin.useOffloadedWorkflowClosure,
// useOffloadedInputs, consoleUrl).
struct OffloadOptions {
  bool offload_closure = false;
  bool offload_inputs = false;
  std::string console_url;
};
void ApplyOffloading(const plugin::ExecutionData& data, const OffloadOptions& options,
                     nlohmann::json& workflow);

// Helpers exposed for tests.
std::string GoDuration(int64_t seconds, int32_t nanos);
// ptypes.Duration: a protobuf Duration as Go's time.Duration in nanoseconds, or nullopt where Go
// refuses it (out of durationpb's range, mismatched signs, or beyond int64 nanoseconds).
std::optional<int64_t> GoTimeDuration(const google::protobuf::Duration& duration);
// A float32 as encoding/json writes it: its shortest text (0.9), a whole number without a
// fraction (1).
nlohmann::json Float32Json(float value);
// The first number in `doc` that encoding/json refuses to write (NaN or an infinity), as Go's
// UnsupportedValueError names it ("NaN", "+Inf", "-Inf"); nullopt when every number is finite.
std::optional<std::string> GoUnsupportedJsonValue(const nlohmann::json& doc);
std::string SanitizeLabelValue(std::string name);
uint32_t ShardKey(const std::string& label);

}  // namespace flyte::plugins::executor
