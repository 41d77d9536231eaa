// What lets a run outlive the server that started it: the run record (what Execute was given,
// kept in the object store beside the execution's metadata), the table of task processes (so a
// later server can stop the ones a killed server left behind), and the plan for resuming one
// node from the attempts the admin recorded.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "flyte/plugin/status.h"
#include "flyte/plugin/storage.h"
#include "flyte/plugin/workflow_executor.h"
#include "flyteidl/core/execution.pb.h"

namespace spdlog {
class logger;
}

namespace flyte::plugins::executor {

struct LocalExecutorSettings;

// The error code of runs a restart stopped (the attempt that was running, or the whole run when
// it cannot be resumed).
inline constexpr char kRestartedCode[] = "LocalExecutorRestarted";

// Where the run record of an execution is kept:
// <storage base>/<metadataPrefix>/<project>-<domain>-<name>/local-executor/run.cbor.
std::string RunRecordUri(plugin::ObjectStore& store, const LocalExecutorSettings& settings,
                         const flyteidl::core::WorkflowExecutionIdentifier& id);
// Everything Execute was given, as CBOR (protobuf messages as byte strings).
std::string EncodeRunRecord(const plugin::ExecutionData& data);
// INVALID_ARGUMENT naming what is missing or malformed.
plugin::StatusOr<plugin::ExecutionData> DecodeRunRecord(const std::string& bytes);

// "<start time in clock ticks since boot> <boot id>" of a live (not zombie) process; nullopt when
// there is no such process.
std::optional<std::string> ProcessIdentity(pid_t pid);

// The task process groups this server runs, one file each under <scratchDirectory>/processes
// naming the group's leader and the server that started it, so that a server started later can
// tell the groups of a server that is gone (orphans) from those of one still running.
class ProcessTable {
 public:
  explicit ProcessTable(std::string directory);
  void Add(pid_t pid);
  void Remove(pid_t pid);
  // SIGTERM to every orphaned group whose leader is still the recorded process, SIGKILL to those
  // still alive after `grace`; records of gone processes are dropped. Returns the groups
  // signalled.
  int TerminateOrphans(std::chrono::milliseconds grace, spdlog::logger* logger);
  const std::string& directory() const { return dir_; }

 private:
  std::string dir_;
  std::string self_;  // this server: "<pid> <identity>"
};

// One attempt of a node as the admin recorded it.
struct PastAttempt {
  uint32_t retry_attempt = 0;
  flyteidl::core::TaskExecution::Phase phase = flyteidl::core::TaskExecution::UNDEFINED;
  flyteidl::core::ExecutionError error;  // of a FAILED attempt
  std::string output_uri;                // of a SUCCEEDED attempt
};

// What resuming does with a node that was not finished when the server stopped, following the
// retry rules of a run (RunTaskNode): an attempt still reported running was stopped by the
// restart and counts as a SYSTEM failure; the node then runs its next attempt, or fails when its
// retries are exhausted, or is done when its last attempt succeeded.
struct NodeResumePlan {
  enum class Action { kRun, kSucceeded, kFail } action = Action::kRun;
  uint32_t next_attempt = 0;
  uint32_t system_failures = 0;
  std::optional<uint32_t> interrupted;  // the attempt to report FAILED with kRestartedCode
  flyteidl::core::ExecutionError error;  // kFail: the node's error
  std::string output_dir;                // kSucceeded: the attempt's output prefix
};
NodeResumePlan PlanNodeResume(std::vector<PastAttempt> attempts, uint32_t max_attempts,
                              uint32_t max_system_failures);

// The error of an attempt a restart stopped.
flyteidl::core::ExecutionError InterruptedByRestart();

}  // namespace flyte::plugins::executor
