// Task manager: CreateTask (validate, compile, digest, identical vs different re-registration),
// GetTask, ListTasks, ListTaskIds.
#pragma once

#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

class TaskManagerImpl final : public plugin::TaskManager {
 public:
  TaskManagerImpl(const plugin::HostContext& host, RegistrationSettings settings)
      : services_(host), settings_(std::move(settings)) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE) \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) override;
  FLYTE_TASK_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  Services services_;
  RegistrationSettings settings_;
};

// admin.Task from its row: the stored closure with created_at taken from the row.
plugin::StatusOr<flyteidl::admin::Task> TaskFromModel(const plugin::db::TaskModel& model);

}  // namespace flyte::plugins::manager
