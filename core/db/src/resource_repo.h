// The SQL implementation of plugin::db::ResourceRepo (matchable attributes, table `resources`).
#pragma once

#include <memory>

#include "connection.h"
#include "flyte/plugin/repositories.h"

namespace flyte::core::db {

std::unique_ptr<plugin::db::ResourceRepo> MakeResourceRepo(std::shared_ptr<Pool> pool);

}  // namespace flyte::core::db
