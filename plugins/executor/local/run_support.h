// What run.cc and node_kinds.cc share: propeller's node names and limits, and small helpers.
#pragma once

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>

#include "flyte/plugin/status.h"
#include "flyteidl/core/compiler.pb.h"
#include "flyteidl/core/execution.pb.h"
#include "flyteidl/core/workflow.pb.h"

namespace flyte::plugins::executor::run_support {

namespace core = flyteidl::core;

inline constexpr char kStartNode[] = "start-node";
inline constexpr char kEndNode[] = "end-node";
inline constexpr int kGeneratedNameMaxLength = 50;  // propeller's IDMaxLength

inline google::protobuf::Timestamp Now() {
  return google::protobuf::util::TimeUtil::GetCurrentTime();
}

inline std::string TaskKey(const core::Identifier& id) {
  return id.project() + "/" + id.domain() + "/" + id.name() + "/" + id.version();
}

inline core::ExecutionError MakeError(core::ExecutionError::ErrorKind kind, std::string code,
                                      std::string message) {
  core::ExecutionError e;
  e.set_kind(kind);
  e.set_code(std::move(code));
  e.set_message(std::move(message));
  return e;
}

inline std::chrono::nanoseconds ToDuration(const google::protobuf::Duration& d) {
  return std::chrono::seconds(d.seconds()) + std::chrono::nanoseconds(d.nanos());
}

inline constexpr int kMaxNesting = 32;
// How often a gate asks for its signal and a launch-plan node for its child's state: at first
// soon (an approval given right away is taken right away), then less and less often, up to the
// cap (a gate left pending for days costs a read every few seconds, not five a second).
inline constexpr auto kSignalPollInterval = std::chrono::milliseconds(200);
inline constexpr auto kChildPollInterval = std::chrono::milliseconds(100);
inline constexpr auto kMaxPollInterval = std::chrono::milliseconds(2000);
inline std::chrono::milliseconds NextPollInterval(std::chrono::milliseconds current) {
  return std::min(current + current / 2, kMaxPollInterval);
}

inline std::string IdString(const core::Identifier& id) {
  return core::ResourceType_Name(id.resource_type()) + ":" + id.project() + ":" + id.domain() +
         ":" + id.name() + ":" + id.version();
}

inline bool SameId(const core::Identifier& a, const core::Identifier& b) {
  return a.project() == b.project() && a.domain() == b.domain() && a.name() == b.name() &&
         a.version() == b.version();
}

inline const core::CompiledWorkflow* FindSubWorkflow(const core::CompiledWorkflowClosure& closure,
                                                     const core::Identifier& id) {
  for (const auto& sub : closure.sub_workflows()) {
    if (SameId(sub.template_().id(), id)) return &sub;
  }
  return nullptr;
}

// Go's grpc codes.Code String(): "InvalidArgument" for INVALID_ARGUMENT.
inline std::string GoCodeName(plugin::StatusCode code) {
  std::string out;
  bool upper = true;
  for (const char* c = plugin::StatusCodeName(code); *c != 0; ++c) {
    if (*c == '_') {
      upper = true;
      continue;
    }
    out += upper ? *c : static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
    upper = false;
  }
  return out;
}

inline bool CountsAsTask(const core::Node& node) {
  // propeller's max_parallelism bounds task, array and launch-plan nodes.
  return node.has_task_node() || node.has_array_node() ||
         (node.has_workflow_node() && node.workflow_node().has_launchplan_ref());
}

}  // namespace flyte::plugins::executor::run_support
