// Opening and registering core's database, storage and compiler.
#include "flyte/core/core_services.h"

#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

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

namespace {

// The database writer's group-commit counters, read when /metrics is served.
class DatabaseMetrics final : public prometheus::Collectable {
 public:
  explicit DatabaseMetrics(std::shared_ptr<db::Database> database) : database_(std::move(database)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    const db::GroupCommitStats s = database_->GroupCommit();
    std::vector<prometheus::MetricFamily> families;
    // One counter family; with `label`, one sample per value of it.
    auto counter = [&](const char* name, const char* help, const char* label,
                       const std::vector<std::pair<const char*, uint64_t>>& values) {
      prometheus::MetricFamily family;
      family.name = name;
      family.help = help;
      family.type = prometheus::MetricType::Counter;
      for (const auto& [label_value, value] : values) {
        prometheus::ClientMetric metric;
        if (label != nullptr) metric.label.push_back(prometheus::ClientMetric::Label{label, label_value});
        metric.counter.value = static_cast<double>(value);
        family.metric.push_back(std::move(metric));
      }
      families.push_back(std::move(family));
    };
    counter("flyteadmin_database_group_commit_transactions_total",
            "Transactions the database writer committed for grouped writes (events and other row updates).",
            nullptr, {{"", s.transactions}});
    counter("flyteadmin_database_group_commit_operations_total",
            "Grouped writes those transactions held (operations / transactions: the writes per commit).",
            nullptr, {{"", s.operations}});
    counter("flyteadmin_database_wal_syncs_total",
            "SQLite: syncs of the write-ahead log, each making one or more grouped commits durable.", nullptr,
            {{"", s.wal_syncs}});
    counter("flyteadmin_database_pipeline_batches_total",
            "PostgreSQL: batches of grouped writes run interleaved through a pipeline (ran), run again "
            "without one because a write needed a savepoint or two claimed one row (ran_without), or "
            "run one write at a time after a database error or a lost connection (retried_alone).",
            "outcome",
            {{"ran", s.pipelined}, {"ran_without", s.pipeline_serial}, {"retried_alone", s.pipeline_retried}});
    return families;
  }

 private:
  std::shared_ptr<db::Database> database_;
};

}  // namespace

void RegisterCoreDefaults(PluginHost& host, const CoreServices& services) {
  auto& registry = host.registry();
  if (services.database) {
    registry.RegisterDefault(plugin::plugin_id::kDatabase, services.database->Repositories(), "core");
    host.AddMetricsSource(std::make_shared<DatabaseMetrics>(services.database));
  }
  if (services.storage) registry.RegisterDefault(plugin::plugin_id::kStorage, services.storage, "core");
  if (services.compiler) registry.RegisterDefault(plugin::plugin_id::kCompiler, services.compiler, "core");
}

}  // namespace flyte::core
