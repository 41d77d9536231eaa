// Upstream's migration chain (flyteadmin/pkg/repositories/config/migrations.go), recorded under
// the same ids in the same `migrations` table as gormigrate.
#pragma once

#include <string>
#include <vector>

#include "connection.h"
#include "flyte/core/db/database.h"

namespace flyte::core::db {

plugin::Status RunMigrateUp(Pool& pool, const ProgressFn& progress);
plugin::Status RunRollbackLast(Pool& pool, const ProgressFn& progress);
plugin::StatusOr<std::vector<std::string>> ReadAppliedMigrations(Pool& pool);

}  // namespace flyte::core::db
