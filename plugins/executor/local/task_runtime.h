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

#include "flyte/plugin/status.h"
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
  // Non-blocking: the wait status once the process has ended.
  std::optional<int> Poll();
  // SIGTERM to the group, SIGKILL after `grace` if still alive; returns the wait status.
  int Terminate(std::chrono::milliseconds grace);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// The last `max_bytes` of a file (empty when unreadable).
std::string FileTail(const std::string& path, std::size_t max_bytes);

// Go's time.Duration String() ("1.5s", "2m0s", "1h0m0s").
std::string GoDurationString(std::chrono::nanoseconds d);

// A local filesystem path for a file:// URI; empty for any other scheme.
std::string LocalPath(const std::string& uri);

}  // namespace flyte::plugins::executor
