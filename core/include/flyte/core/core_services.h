// The services core provides to plugins: the database, object storage and the workflow
// compiler, opened from config and registered as the defaults of kDatabase, kStorage and
// kCompiler (a plugin may register its own explicitly).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "flyte/core/config.h"
#include "flyte/core/plugin_host.h"
#include "flyte/plugin/compiler.h"
#include "flyte/plugin/storage.h"

namespace flyte::core {

namespace db {
class Database;
}

struct CoreServices {
  std::shared_ptr<db::Database> database;
  std::shared_ptr<plugin::ObjectStore> storage;
  std::shared_ptr<plugin::WorkflowCompiler> compiler;
};

using Progress = std::function<void(const std::string& line)>;

// Opens the database and storage the config names; with `database.migrateOnStart` runs pending
// migrations and seeds `database.seedProjects` (the embedded default config does both, so
// `make run` needs no separate step). Progress lines go to `progress`.
plugin::StatusOr<CoreServices> OpenCoreServices(const Config& config, const Progress& progress);

void RegisterCoreDefaults(PluginHost& host, const CoreServices& services);

}  // namespace flyte::core
