// The SQL implementation of plugin::db::Repositories over a connection pool.
#pragma once

#include <memory>

#include "connection.h"
#include "flyte/plugin/repositories.h"

namespace flyte::core::db {

std::shared_ptr<plugin::db::Repositories> MakeRepositories(std::shared_ptr<Pool> pool);

// Inserts missing projects (seed-projects), in one transaction.
plugin::Status SeedProjectRows(Pool& pool, const std::vector<std::string>& names);

}  // namespace flyte::core::db
