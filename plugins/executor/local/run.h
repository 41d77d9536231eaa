// One execution on this machine: propeller's walk of the compiled workflow (start node, task
// nodes as their upstreams succeed, end node), with its storage layout and its events.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "flyte/plugin/storage.h"
#include "flyte/plugin/workflow_executor.h"
#include "flyteidl/core/execution.pb.h"
#include "flyteidl/event/event.pb.h"
#include "local_executor.h"
#include "task_runtime.h"

namespace flyte::plugins::executor {

// Where a run resumes after a restart (restart.cc builds it from what the admin recorded).
struct ResumePoint {
  // False once the workflow was reported RUNNING or later: the event is not sent again.
  bool report_running = true;
  struct Node {
    enum class Phase { kSucceeded, kFailed, kRerun } phase = Phase::kRerun;
    std::string output_dir;                 // kSucceeded
    flyteidl::core::ExecutionError error;  // kFailed
    uint32_t next_attempt = 0;              // kRerun: the attempt numbers go on from here
    uint32_t system_failures = 0;           // kRerun: SYSTEM failures already counted
    bool reported_running = false;          // kRerun: node RUNNING already recorded
  };
  std::map<std::string, Node> nodes;  // nodes the admin knows; the others start afresh
};

class Run : public std::enable_shared_from_this<Run> {
 public:
  Run(LocalExecutor& owner, plugin::ObjectStore& store, plugin::ExecutionData data);

  // Before Start: continue a run a previous server began (restart.cc).
  void Resume(ResumePoint point);

  // Starts the coordinating thread.
  void Start();
  // Asks the run to stop: running processes are terminated and ABORTED is reported (nothing is
  // reported when `silent`, at shutdown).
  void RequestAbort(const std::string& reason, bool silent);
  bool finished() const { return finished_; }
  void Join();
  // The workflow ABORTED event for an execution without a run here.
  static void ReportAborted(LocalExecutor& owner,
                            const flyteidl::core::WorkflowExecutionIdentifier& id);

 private:
  enum class NodePhase { kNotStarted, kRunning, kSucceeded, kFailed, kAborted };
  struct NodeState {
    NodePhase phase = NodePhase::kNotStarted;
    std::set<std::string> upstream;
    std::string output_dir;  // of the attempt that succeeded
  };
  struct AttemptResult;

  void Main();
  bool Coordinate();  // true when every node succeeded
  void RunNode(const std::string& node_id);
  void RunTaskNode(const flyteidl::core::Node& node, const flyteidl::core::TaskTemplate& task,
                   const std::string& data_dir, const std::string& input_uri,
                   const flyteidl::core::LiteralMap& inputs);
  AttemptResult RunAttempt(const flyteidl::core::Node& node,
                           const flyteidl::core::TaskTemplate& task, const std::string& data_dir,
                           const std::string& output_dir, const flyteidl::core::LiteralMap& inputs,
                           uint32_t attempt);
  void FinishNode(const std::string& node_id, NodePhase phase,
                  const std::optional<flyteidl::core::ExecutionError>& error);
  bool RunEndNode(flyteidl::core::ExecutionError& error);

  // Storage layout.
  std::string NodeDataDir(const std::string& node_id);
  std::string Join(const std::string& base, const std::vector<std::string>& segments);
  plugin::StatusOr<flyteidl::core::LiteralMap> ResolveBindings(
      const google::protobuf::RepeatedPtrField<flyteidl::core::Binding>& bindings);
  plugin::StatusOr<flyteidl::core::Literal> ResolveBindingData(
      const flyteidl::core::BindingData& data);
  plugin::StatusOr<flyteidl::core::Literal> ExtractOutput(
      const flyteidl::core::OutputReference& ref);

  // Events, as propeller sends them; false when the admin refused one the run cannot go on after.
  bool SendWorkflowEvent(flyteidl::core::WorkflowExecution::Phase phase,
                         const flyteidl::core::ExecutionError* error,
                         const std::string& output_uri);
  bool SendNodeEvent(flyteidl::event::NodeExecutionEvent event);
  bool SendTaskEvent(flyteidl::event::TaskExecutionEvent event);
  flyteidl::event::NodeExecutionEvent NodeEvent(const flyteidl::core::Node& node,
                                                flyteidl::core::NodeExecution::Phase phase);

  LocalExecutor& owner_;
  plugin::ObjectStore& store_;
  plugin::ExecutionData data_;
  std::string wf_dir_;
  std::string raw_prefix_;
  std::map<std::string, const flyteidl::core::Node*> nodes_;
  std::map<std::string, const flyteidl::core::TaskTemplate*> tasks_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, NodeState> states_;
  std::set<std::string> started_;  // nodes reported RUNNING
  int running_ = 0;
  int running_tasks_ = 0;
  std::optional<flyteidl::core::ExecutionError> failure_;
  std::string abort_reason_;
  bool abort_requested_ = false;
  bool silent_ = false;
  bool cancel_ = false;  // stop launching and terminate what runs (abort or a failed node)
  std::atomic<bool> finished_{false};
  std::thread thread_;
  std::optional<ResumePoint> resume_;  // set before Start only
};

// Whether this executor can run every node of the workflow; the reason when not.
plugin::Status CheckSupported(const flyteidl::core::CompiledWorkflowClosure& closure);

}  // namespace flyte::plugins::executor
