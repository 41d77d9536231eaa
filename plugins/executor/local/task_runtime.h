// What running one container task attempt on this machine needs, independent of events: the
// template rendering flyteplugins applies to command and args, propeller's per-attempt names and
// paths, and a child process that can be waited for with a deadline and terminated.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flyte/plugin/compiler.h"
#include "flyte/plugin/status.h"
#include "flyteidl/core/execution.pb.h"
#include "flyteidl/core/interface.pb.h"
#include "flyteidl/core/literals.pb.h"

namespace flyte::plugins::executor {

// The values of flyteplugins' template variables for one attempt.
struct TemplateValues {
  std::string input_file;              // {{.Input}}: <node data dir>/inputs.pb
  std::string input_prefix;            // {{.InputPrefix}}: the node data dir
  std::string output_prefix;           // {{.OutputPrefix}}: <node data dir>/<attempt>
  std::string raw_output_prefix;       // {{.RawOutputDataPrefix}}
  std::string checkpoint_prefix;       // {{.CheckpointOutputPrefix}}
  std::string prev_checkpoint_prefix;  // {{.PrevCheckpointPrefix}}; empty renders as ""
  std::string per_retry_unique_key;    // {{.PerRetryUniqueKey}} (before sanitising)
  std::string ns;                      // {{.Namespace}}
  const flyteidl::core::LiteralMap* inputs = nullptr;  // {{.Inputs.<name>}}
  // {{.TaskTemplatePath}}: writes the task template where the task can read it, on first use.
  std::function<plugin::StatusOr<std::string>()> task_template_path;
};

// flyteplugins template.Render of each string (case-insensitive, `.` or `$` before the name).
// An unknown {{.Inputs.x}} or an input that cannot be printed is INVALID_ARGUMENT naming it.
plugin::StatusOr<std::vector<std::string>> RenderTemplate(const std::vector<std::string>& items,
                                                          const TemplateValues& values);

// How flyteplugins prints a literal into a command line ({{.Inputs.x}}).
plugin::StatusOr<std::string> SerializeLiteral(const flyteidl::core::Literal& literal);

// Base32 with propeller's lower-case alphabet (a-z, 1-6) and no padding.
std::string PropellerBase32(const unsigned char* bytes, std::size_t n);

// encoding.FixedLengthUniqueIDForParts: the parts joined by '-', or "f" + base32(fnv32a) when
// longer than max_length.
std::string FixedLengthUniqueIdForParts(int max_length, const std::vector<std::string>& parts);

// The two-character base-36 shard propeller's raw output paths start with.
std::string Base36ShardPrefix(const std::string& key);

// A child process in its own process group.
class ChildProcess {
 public:
  // posix_spawnp of argv (no shell) with exactly `env`, in `cwd`, stdout and stderr appended to
  // `log_file`. A program that cannot be started is an error naming it and the reason.
  static plugin::StatusOr<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                              const std::vector<std::string>& env,
                                              const std::string& cwd, const std::string& log_file);

  pid_t pid() const { return pid_; }
  // Non-blocking: the wait status once the process has ended; what it left running in its
  // process group is killed then.
  std::optional<int> Poll();
  // Blocks until the process ends (not reaped: Poll() then returns its status) or `timeout`
  // passes, whichever is first; a pidfd wakes it at the exit where the kernel has them.
  void WaitExit(std::chrono::milliseconds timeout);
  // SIGTERM to the group, SIGKILL after `grace` if still alive; returns the wait status.
  int Terminate(std::chrono::milliseconds grace);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// flyteplugins' error for an outputs.pb or error.pb above the size limit, as propeller reports
// it (OutputSizeExceeded, not recoverable).
flyteidl::core::ExecutionError OutputTooLarge(const std::string& uri, int64_t size,
                                              int64_t max_size);

// What is wrong with a task's outputs.pb for its declared outputs: not a LiteralMap
// (OutputsBadFormat), a declared output missing or of a type the interface does not accept
// (OutputsMismatch; types are checked only with a compiler). nullopt when they are fine.
std::optional<flyteidl::core::ExecutionError> CheckOutputs(
    const std::string& bytes, const std::string& uri, const flyteidl::core::VariableMap& declared,
    plugin::WorkflowCompiler* compiler);

// Keeps a task's log file bounded, as the kubelet rotates container logs: once the file is larger
// than `max_bytes` (0: unbounded) it is cut back to a note and its last quarter. The task appends
// (O_APPEND), so it goes on writing after the cut. Returns whether it cut.
bool CapLog(const std::string& path, int64_t max_bytes);

// The last `max_bytes` of a file (empty when unreadable).
std::string FileTail(const std::string& path, std::size_t max_bytes);

// Go's time.Duration String() ("1.5s", "2m0s", "1h0m0s").
std::string GoDurationString(std::chrono::nanoseconds d);

// A local filesystem path for a file:// URI; empty for any other scheme.
std::string LocalPath(const std::string& uri);

}  // namespace flyte::plugins::executor
