// Task execution manager (upstream impl/task_execution_manager.go): task events from propeller
// create and update task execution rows; Get, List and GetData read them back.
#pragma once

#include "flyte/manager/data.h"
#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"
#include "task_execution_model.h"

namespace flyte::plugins::manager {

class TaskExecutionManagerImpl final : public plugin::TaskExecutionManager {
 public:
  TaskExecutionManagerImpl(const plugin::HostContext& host, RemoteDataSettings settings)
      : services_(host), settings_(std::move(settings)) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE)                                    \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, \
                      flyteidl::RESPONSE& response) override;
  FLYTE_TASK_EXECUTION_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_
  void CreateTaskEventAsync(plugin::CallContext& call, const flyteidl::admin::TaskExecutionEventRequest& request,
                            flyteidl::admin::TaskExecutionEventResponse& response,
                            std::function<void(plugin::Status)> done) override;

 private:
  // The event's reads, checks and writes, run inside one grouped database operation.
  plugin::Status ApplyTaskEvent(const flyteidl::admin::TaskExecutionEventRequest& request);
  // The stored task execution as a message, with is_parent from its child node executions.
  plugin::StatusOr<flyteidl::admin::TaskExecution> Load(
      plugin::db::Repositories& db, const flyteidl::core::TaskExecutionIdentifier& id);

  Services services_;
  RemoteDataSettings settings_;
};

// Whether any node execution names the task execution row `id` as its parent.
plugin::StatusOr<bool> HasChildNodeExecutions(plugin::db::NodeExecutionRepo& nodes, int64_t id);

}  // namespace flyte::plugins::manager
