// One execution on this machine: propeller's walk of the compiled workflow (start node, nodes as
// their upstreams succeed, end node; sub-workflows and branches walked the same way one level
// down), with its storage layout and its events. The node kinds other than tasks are in
// node_kinds.cc.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "flyte/plugin/storage.h"
#include "flyte/plugin/workflow_executor.h"
#include "flyteidl/core/execution.pb.h"
#include "flyteidl/event/event.pb.h"
#include "local_executor.h"
#include "node_logic.h"
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
  // reported when `silent`, at shutdown). False when the run is already on its way out without
  // reporting anything (its RUNNING event was refused): the caller reports ABORTED then.
  bool RequestAbort(const std::string& reason, bool silent);
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
    std::string output_dir;                // of the attempt that succeeded
    flyteidl::core::ExecutionError error;  // of a failed node
  };
  // The nodes one walk covers: the workflow's, a sub-workflow's (under the sub-workflow node),
  // or a branch's taken node (under the branch node, its bindings resolved in the branch's scope).
  struct Scope {
    const flyteidl::core::WorkflowTemplate* wf = nullptr;
    Scope* parent_scope = nullptr;      // null for the workflow itself
    std::optional<ParentInfo> parent;   // the node owning the scope
    const Scope* resolve_in = nullptr;  // where promises resolve (null: here)
    std::string data_base;              // nested: the owning node's output dir
    std::map<std::string, const flyteidl::core::Node*> nodes;
    std::map<std::string, NodeState> states;  // guarded by mu_, as the fields below
    int running = 0;
    std::optional<flyteidl::core::ExecutionError> failure;
    bool cancel = false;  // stop launching and terminate what runs (a failed node or abort)
    std::string abort_reason;
    std::vector<std::thread> threads;                                // nodes other than task nodes
    const flyteidl::core::ExecutionError* original_error = nullptr;  // a failure node's scope
    // Where the scope's tasks and sub-workflows are found: a dynamic workflow's closure, or null
    // for the execution's. Inherited by the scopes below.
    const flyteidl::core::CompiledWorkflowClosure* closure = nullptr;
    bool in_dynamic_chain = false;  // under a dynamic node: events say is_in_dynamic_chain
    int depth = 0;                  // scopes above this one
    // Why a failed node aborts its running siblings here.
    std::string failure_abort_reason = "subworkflow failed";
  };
  // An array node running: what its task events need.
  struct ArrayRun {
    flyteidl::core::Identifier task_id;
    std::string unique_id;           // the array node's
    std::string input_uri;           // the array node's inputs.pb
    std::string external_id_prefix;  // propeller's `<execution>-<node>-<attempt>` unique id
    uint32_t phase_version = 0;      // guarded by mu_
  };
  // One node in its scope.
  struct NodeRef {
    Scope* scope;
    const flyteidl::core::Node* node;
    std::string unique_id;
    std::string data_dir;
    std::string input_dir;      // where inputs.pb is, when not data_dir (array sub-nodes)
    ArrayRun* array = nullptr;  // set for an array's sub-node
    int array_index = -1;
    // A dynamic node gives back its max_parallelism slot once its task is done (its children
    // take slots of their own).
    bool slot_released = false;
  };
  struct AttemptResult;

  void Main();
  void InitScope(Scope& scope, const flyteidl::core::WorkflowTemplate& wf,
                 const flyteidl::core::ConnectionSet* connections,
                 const std::vector<const flyteidl::core::Node*>& nodes);
  bool Coordinate(Scope& scope);  // true when every node succeeded
  void RunNode(Scope* scope, const std::string& node_id);
  // Runs one node whose inputs are stored; every path ends in FinishNode.
  void ExecuteNode(const NodeRef& ref, const std::string& input_uri,
                   const flyteidl::core::LiteralMap& inputs);
  void RunTaskNode(const NodeRef& ref, const flyteidl::core::TaskTemplate& task,
                   const std::string& input_uri, const flyteidl::core::LiteralMap& inputs);
  // The attempts of a task node from `attempts` on; with `dynamic_pending`, attempt `attempts`
  // ended with a futures.pb and its dynamic workflow runs first (on a thread of the node's own).
  void TaskAttempts(NodeRef ref, const flyteidl::core::TaskTemplate& task, std::string input_uri,
                    flyteidl::core::LiteralMap inputs, uint32_t attempts, uint32_t system_failures,
                    bool dynamic_pending);
  // Compiles and runs the dynamic workflow the attempt's futures.pb describes as the node's
  // children, then takes its outputs (propeller's dynamic node handler).
  AttemptResult RunDynamic(const NodeRef& ref, const flyteidl::core::TaskTemplate& task,
                           const std::string& output_dir, uint32_t attempt);
  const flyteidl::core::TaskTemplate* FindTask(const Scope& scope,
                                               const flyteidl::core::Identifier& id) const;
  const flyteidl::core::CompiledWorkflowClosure& ClosureOf(const Scope& scope) const;
  // A child scope under `parent`: what it inherits (closure, dynamic chain, depth).
  static void Inherit(Scope& child, Scope& parent);
  AttemptResult RunAttempt(const NodeRef& ref, const flyteidl::core::TaskTemplate& task,
                           const std::string& output_dir, const flyteidl::core::LiteralMap& inputs,
                           uint32_t attempt);
  void RunSubWorkflowNode(const NodeRef& ref, const std::string& input_uri,
                          const flyteidl::core::LiteralMap& inputs);
  void RunBranchNode(const NodeRef& ref, const std::string& input_uri,
                     const flyteidl::core::LiteralMap& inputs);
  void RunGateNode(const NodeRef& ref, const std::string& input_uri,
                   const flyteidl::core::LiteralMap& inputs);
  void RunLaunchPlanNode(const NodeRef& ref, const std::string& input_uri,
                         const flyteidl::core::LiteralMap& inputs);
  void RunArrayNode(const NodeRef& ref, const std::string& input_uri,
                    const flyteidl::core::LiteralMap& inputs);
  flyteidl::event::TaskExecutionEvent ArrayTaskEvent(const ArrayRun& array,
                                                     flyteidl::core::TaskExecution::Phase phase);
  // Sends the node's final event (output_uri when it succeeded) and records its end.
  void EndNode(const NodeRef& ref, NodePhase phase, const std::string& output_dir,
               const flyteidl::core::ExecutionError* error,
               flyteidl::event::NodeExecutionEvent event);
  // EndNode(kFailed) with the node's FAILED event carrying `input_uri`.
  void FailNode(const NodeRef& ref, const std::string& input_uri,
                const flyteidl::core::ExecutionError& error);
  void FinishNode(Scope& scope, const std::string& node_id, NodePhase phase,
                  const std::optional<flyteidl::core::ExecutionError>& error, bool counts_as_task);
  // A scope's start node (its inputs as outputs) and end node (its output bindings).
  bool RunStartNode(Scope& scope, const flyteidl::core::LiteralMap& inputs,
                    flyteidl::core::ExecutionError& error);
  bool RunEndNode(Scope& scope, flyteidl::core::ExecutionError& error);
  // Runs a workflow's failure node after `error` failed `failed`; the error the workflow then
  // fails with (the failure node's own when it fails).
  flyteidl::core::ExecutionError RunFailureNode(Scope& failed, const flyteidl::core::Node& node,
                                                const flyteidl::core::ExecutionError& error);
  bool Cancelled(const Scope& scope);           // mu_ held
  std::string AbortReason(const Scope& scope);  // mu_ held

  // Storage layout.
  std::string NodeDataDir(const Scope& scope, const std::string& node_id);
  std::string Join(const std::string& base, const std::vector<std::string>& segments);
  plugin::StatusOr<flyteidl::core::LiteralMap> ResolveBindings(
      const Scope& scope,
      const google::protobuf::RepeatedPtrField<flyteidl::core::Binding>& bindings);
  plugin::StatusOr<flyteidl::core::Literal> ResolveBindingData(
      const Scope& scope, const flyteidl::core::BindingData& data);
  plugin::StatusOr<flyteidl::core::Literal> ExtractOutput(
      const Scope& scope, const flyteidl::core::OutputReference& ref);

  // Events, as propeller sends them; false when the admin refused one the run cannot go on after.
  bool SendWorkflowEvent(flyteidl::core::WorkflowExecution::Phase phase,
                         const flyteidl::core::ExecutionError* error,
                         const std::string& output_uri);
  bool SendNodeEvent(flyteidl::event::NodeExecutionEvent event);
  bool SendTaskEvent(flyteidl::event::TaskExecutionEvent event);
  // The same for a node's own events; an array's sub-nodes report through the array node.
  bool SendNodeEvent(const NodeRef& ref, flyteidl::event::NodeExecutionEvent event);
  bool SendTaskEvent(const NodeRef& ref, flyteidl::event::TaskExecutionEvent event);
  // The node's event in `phase`, carrying `input_uri` when given.
  flyteidl::event::NodeExecutionEvent NodeEvent(const Scope& scope,
                                                const flyteidl::core::Node& node,
                                                flyteidl::core::NodeExecution::Phase phase,
                                                const std::string& input_uri = {});
  // Waits on cv_ for up to `d`; false once the scope is cancelled.
  bool WaitFor(const Scope& scope, std::chrono::milliseconds d);

  LocalExecutor& owner_;
  plugin::ObjectStore& store_;
  plugin::ExecutionData data_;
  std::string wf_dir_;
  std::string raw_prefix_;
  std::map<std::string, const flyteidl::core::TaskTemplate*> tasks_;  // by TaskKey

  std::mutex mu_;
  std::condition_variable cv_;
  Scope top_;
  std::set<std::string> started_;  // node unique ids reported RUNNING
  int running_tasks_ = 0;          // over all scopes, for max_parallelism
  bool abort_requested_ = false;
  bool leaving_unreported_ = false;  // exits after a refused RUNNING, reporting no more
  bool silent_ = false;
  std::atomic<bool> finished_{false};
  std::thread thread_;
  std::optional<ResumePoint> resume_;  // set before Start only
};

// How one attempt of a task node ended (or the dynamic workflow it left).
struct Run::AttemptResult {
  enum class Kind { kSuccess, kRetryable, kPermanent, kAborted } kind = Kind::kSuccess;
  flyteidl::core::ExecutionError error;
  std::string checkpoint_uri;
  bool dynamic = false;  // the task left a futures.pb / the result of its dynamic workflow
};

// Whether this executor can run every node of the workflow; the reason when not.
plugin::Status CheckSupported(const flyteidl::core::CompiledWorkflowClosure& closure);

}  // namespace flyte::plugins::executor
