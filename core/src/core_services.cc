// Opening and registering core's database, storage and compiler.
#include "flyte/core/core_services.h"

#include "flyte/core/compiler/compiler.h"
#include "flyte/core/db/database.h"
#include "flyte/core/local_store.h"
#include "flyte/plugin/repositories.h"

namespace flyte::core {

plugin::StatusOr<CoreServices> OpenCoreServices(const Config& config, const Progress& progress) {
  CoreServices services;
  auto database = db::OpenDatabase(config);
  if (!database.ok()) return plugin::Status(database.status().code(), "database: " + database.status().message());
  services.database = database.value();
  if (config.Get<bool>("database.migrateOnStart", false)) {
    if (auto s = services.database->MigrateUp(progress); !s.ok()) {
      return plugin::Status(s.code(), "database migration: " + s.message());
    }
    if (auto s = services.database->EnsureListIndexes(progress); !s.ok()) {
      return plugin::Status(s.code(), "database list indexes: " + s.message());
    }
    auto seeds = config.Get<std::vector<std::string>>("database.seedProjects", {});
    if (!seeds.empty()) {
      if (auto s = services.database->SeedProjects(seeds); !s.ok()) {
        return plugin::Status(s.code(), "seeding projects: " + s.message());
      }
      if (progress) {
        std::string names;
        for (const auto& name : seeds) names += (names.empty() ? "" : ", ") + name;
        progress("projects present: " + names);
      }
    }
  }
  auto storage = OpenObjectStore(config);
  if (!storage.ok()) return plugin::Status(storage.status().code(), "storage: " + storage.status().message());
  services.storage = storage.value();
  services.compiler = compiler::MakeWorkflowCompiler();
  return services;
}

void RegisterCoreDefaults(PluginHost& host, const CoreServices& services) {
  auto& registry = host.registry();
  if (services.database) {
    registry.RegisterDefault(plugin::plugin_id::kDatabase, services.database->Repositories(), "core");
  }
  if (services.storage) registry.RegisterDefault(plugin::plugin_id::kStorage, services.storage, "core");
  if (services.compiler) registry.RegisterDefault(plugin::plugin_id::kCompiler, services.compiler, "core");
}

}  // namespace flyte::core
