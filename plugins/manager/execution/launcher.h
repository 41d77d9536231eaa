// Starting executions: CreateExecution (launch plans and single tasks), RelaunchExecution and
// RecoverExecution, each ending in the WorkflowExecutor plugin.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "context.h"
#include "flyte/manager/keys_in_flight.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

// The node id of a single task's `.flytegen` workflow, from the task's name.
std::string NodeNameFromTask(std::string name);

class ExecutionLauncher {
 public:
  explicit ExecutionLauncher(ExecutionContext& context) : context_(context) {}
  plugin::Status CreateExecution(plugin::CallContext& call,
                                 const flyteidl::admin::ExecutionCreateRequest& request,
                                 flyteidl::admin::ExecutionCreateResponse& response);
  plugin::Status RelaunchExecution(plugin::CallContext& call,
                                   const flyteidl::admin::ExecutionRelaunchRequest& request,
                                   flyteidl::admin::ExecutionCreateResponse& response);
  plugin::Status RecoverExecution(plugin::CallContext& call,
                                  const flyteidl::admin::ExecutionRecoverRequest& request,
                                  flyteidl::admin::ExecutionCreateResponse& response);

 private:
  // A launched (or, in the launch-plan flow, failed-to-launch) execution, not yet stored.
  struct Prepared {
    plugin::db::ExecutionModel model;
    std::vector<plugin::db::ExecutionTagModel> tags;
    // The execution's name, held from the duplicate check until the row is stored.
    std::shared_ptr<void> name_held;
  };

  // Upstream launchExecutionAndPrepareModel: validation, then the single-task or launch-plan
  // flow up to and including the executor call.
  plugin::StatusOr<Prepared> LaunchAndPrepare(plugin::CallContext& call,
                                              flyteidl::admin::ExecutionCreateRequest request,
                                              plugin::db::Time requested_at);
  // Inserts the row and its tags and answers with the id (upstream createExecutionModel).
  plugin::Status Store(const Prepared& prepared,
                       flyteidl::admin::ExecutionCreateResponse& response);
  // The single-task flow's `.flytegen.<task>` workflow, created through the WorkflowManager when
  // absent.
  plugin::StatusOr<plugin::db::WorkflowModel> CreateOrGetWorkflow(
      plugin::CallContext& call, const flyteidl::core::Identifier& task_id,
      const flyteidl::admin::TaskClosure& task);
  // The single-task flow's `.flytegen.<task>` launch plan, stored INACTIVE when absent.
  plugin::StatusOr<flyteidl::admin::LaunchPlan> CreateOrGetLaunchPlan(
      const flyteidl::core::Identifier& task_id, const plugin::db::WorkflowModel& workflow,
      const flyteidl::admin::ExecutionSpec& spec);
  // The stored execution a relaunch or recovery starts from, its spec and its user inputs.
  struct Source {
    plugin::db::ExecutionModel model;
    flyteidl::admin::ExecutionSpec spec;
    flyteidl::core::WorkflowExecutionIdentifier id;
  };
  plugin::StatusOr<Source> LoadSource(const flyteidl::core::WorkflowExecutionIdentifier& id);
  // A create request for a new execution `name` in the source's project and domain, with the
  // source's spec and stored user inputs (`legacy_spec_inputs`: a row without stored inputs
  // falls back to the spec's, as relaunch does upstream).
  plugin::StatusOr<flyteidl::admin::ExecutionCreateRequest> RequestFromSource(const Source& source,
                                                                              const std::string& name,
                                                                              bool legacy_spec_inputs);

  ExecutionContext& context_;
  // Names being launched (a duplicate check until the row is stored).
  KeysInFlight names_in_flight_;
};

}  // namespace flyte::plugins::manager
