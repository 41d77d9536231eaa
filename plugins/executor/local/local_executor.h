// PluginID kWorkflowExecutor "local": runs an execution's compiled workflow on this machine as
// flytepropeller would run it on a cluster, and reports progress only through the workflow, node
// and task events propeller sends, so the admin's state is the same as with a cluster.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "flyte/plugin/host_context.h"
#include "flyte/plugin/workflow_executor.h"

namespace flyte::plugins::executor {

// The plugin's config section (see README.md).
struct LocalExecutorSettings {
  std::string cluster_id = "local";                                   // clusterId
  std::vector<std::string> metadata_prefix{"metadata", "propeller"};  // metadataPrefix
  std::string raw_output_prefix;  // rawOutputPrefix; default <storage base>/data
  int workers = 8;                // workers
  int max_system_failures = 3;    // maxNodeRetriesForSystemFailures
  std::chrono::milliseconds termination_grace{5000};  // terminationGracePeriod (ms)
  std::chrono::milliseconds event_wait{30000};        // executionWait (ms)
  std::vector<std::string> inherit_env{"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"};  // inheritEnv
  std::string scratch_directory;  // scratchDirectory; default <tmp>/flyte-local-executor
  // onRestart: what start-up does with the runs of this cluster a previous server left
  // unfinished: resume them, or fail them (SYSTEM LocalExecutorRestarted).
  enum class OnRestart { kResume, kFail } on_restart = OnRestart::kResume;
  // maxOutputSize: the largest outputs.pb / error.pb read (flytestdlib's storage
  // limits.maxDownloadMBs default, 2 MB).
  int64_t max_output_size = 2 * 1024 * 1024;
  // maxLogSize: an attempt's output.log is cut back to its tail beyond this (kubelet's
  // containerLogMaxSize default, 10 Mi); 0: unbounded.
  int64_t max_log_size = 10 * 1024 * 1024;
  // maxTTLHours: an execution's scratch directory (its tasks' logs and working files) is
  // removed once the execution has been done this long, as propeller's max-ttl-hours (23)
  // garbage-collects a finished workflow with its pods; 0: kept for good.
  int max_ttl_hours = 23;

  static plugin::StatusOr<LocalExecutorSettings> FromConfig(const nlohmann::json& section);
};

// A fixed set of worker threads taking jobs in order.
class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  void Submit(std::function<void()> job);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class Run;
class ProcessTable;

class LocalExecutor final : public plugin::WorkflowExecutor, public plugin::Lifecycle {
 public:
  LocalExecutor(plugin::HostContext& host, LocalExecutorSettings settings);
  ~LocalExecutor() override;
  // Once the server serves: looks for the runs a previous server left (Recover), on a thread of
  // its own. Not before: a server that then fails to start (a port taken, a second instance
  // beside the running one) must not touch them.
  void Serving() override;
  // At shutdown (and from the destructor): start-up's recovery and every run are stopped and
  // joined, their task processes terminated, nothing more reported. Idempotent.
  void Stop() override;
  // Removes the scratch directories of executions not running here whose last change is older
  // than maxTTLHours (propeller's GC, every 30 minutes at most). Runs on the worker pool.
  void SweepScratch();
  // Called by a run's thread as it ends: the finished run (its closure, inputs and thread) is
  // released on the worker pool, instead of staying until the next launch.
  void RunEnded();

  std::string Id() const override { return "local"; }
  // Starts the run on a thread of its own and returns at once with the configured cluster id.
  // UNIMPLEMENTED for node kinds not run locally yet; FAILED_PRECONDITION without a file://
  // object store.
  plugin::StatusOr<plugin::ExecutionResponse> Execute(const plugin::ExecutionData& data) override;
  // Terminates the run's processes; the run then reports ABORTED. A run this process does not
  // know (e.g. lost in a restart) is reported ABORTED directly.
  plugin::Status Abort(const plugin::AbortData& data) override;

  plugin::HostContext& host() { return host_; }
  const LocalExecutorSettings& settings() const { return settings_; }
  WorkerPool& pool() { return *pool_; }
  // The task processes this server runs, recorded so a later server can stop them (restart.h).
  ProcessTable& processes() { return *processes_; }
  // Registers and starts a run unless one runs for the execution already.
  bool Adopt(const std::string& key, std::shared_ptr<Run> run);

 private:
  void Reap();
  // Start-up's pass over the runs a previous server left (restart.cc), on a thread of its own.
  void Recover();

  plugin::HostContext& host_;
  LocalExecutorSettings settings_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<ProcessTable> processes_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Run>> runs_;
  // While start-up looks for runs a previous server left (Recover), what it must not resume:
  // executions Execute accepted meanwhile, and those Abort found no run for. Both are emptied,
  // and no longer kept, once it is done.
  bool recovering_ = true;
  std::set<std::string> launched_;
  std::set<std::string> aborted_;
  std::atomic<bool> stopping_{false};
  std::optional<std::chrono::steady_clock::time_point> last_sweep_;  // under mu_
  std::thread recovery_;
};

}  // namespace flyte::plugins::executor
