// The SQL implementations of plugin::db::ExecutionRepo, NodeExecutionRepo, TaskExecutionRepo
// and SignalRepo (tables executions, execution_events, execution_tags, node_executions,
// node_execution_events, task_executions, signals).
#pragma once

#include <memory>

#include "connection.h"
#include "flyte/plugin/repositories.h"

namespace flyte::core::db {

std::unique_ptr<plugin::db::ExecutionRepo> MakeExecutionRepo(std::shared_ptr<Pool> pool);
std::unique_ptr<plugin::db::NodeExecutionRepo> MakeNodeExecutionRepo(std::shared_ptr<Pool> pool);
std::unique_ptr<plugin::db::TaskExecutionRepo> MakeTaskExecutionRepo(std::shared_ptr<Pool> pool);
std::unique_ptr<plugin::db::SignalRepo> MakeSignalRepo(std::shared_ptr<Pool> pool);
std::unique_ptr<plugin::db::SchedulableEntityRepo> MakeSchedulableEntityRepo(std::shared_ptr<Pool> pool);

}  // namespace flyte::core::db
