// The database layer: opens SQLite or PostgreSQL from the `database` config section, runs
// upstream FlyteAdmin's migrations (same ids, same final schema) and serves the repositories.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"

namespace flyte::core {
class Config;
}

namespace flyte::core::db {

// Receives one human-readable line per step of a migration run ("applied 2019-05-22-projects").
using ProgressFn = std::function<void(const std::string& line)>;

// What the database writer's group commit (Pool::RunGrouped) has done since it was opened.
struct GroupCommitStats {
  uint64_t transactions = 0;  // transactions committed for grouped writes
  uint64_t operations = 0;    // grouped writes (events, row updates) they held
  uint64_t wal_syncs = 0;     // SQLite: WAL syncs, each covering one or more commits
  // PostgreSQL: batches whose writes ran interleaved through a pipeline, and those run again
  // without one (a write needed a savepoint, or two claimed one row) or one write at a time (a
  // database error or a lost connection).
  uint64_t pipelined = 0;
  uint64_t pipeline_serial = 0;
  uint64_t pipeline_retried = 0;
};

// An open database. Thread-safe: every method may be called from any thread; the repositories
// share the connection pool (PostgreSQL) or the WAL-mode file with serialized writes (SQLite).
class Database {
 public:
  virtual ~Database();

  // "sqlite" or "postgres".
  virtual std::string Dialect() const = 0;

  // Applies every pending upstream migration in upstream's order and records its id in the
  // `migrations` table. A database on which Go FlyteAdmin already ran every migration is left
  // untouched. Errors: UNKNOWN/INTERNAL with the failing migration id and the database message.
  virtual plugin::Status MigrateUp(const ProgressFn& progress) = 0;

  // Creates, if missing, this server's list indexes, named flyteadmin_cpp_*: (project, domain,
  // created_at) and (project, domain, name, created_at) on tasks, workflows and launch_plans;
  // on executions (project, domain, state, created_at | execution_created_at), (project, domain,
  // state, phase, created_at), (launch_plan_id, created_at) and (workflow_id, created_at). Upstream has none, so a newest-first page sorts every row of the project;
  // these make it an index walk. Not an upstream migration: nothing is recorded in
  // `migrations`, and Go FlyteAdmin ignores extra indexes. Idempotent.
  virtual plugin::Status EnsureListIndexes(const ProgressFn& progress) = 0;

  // Rolls back the last applied migration (last in upstream's order among those recorded), as
  // gormigrate's RollbackLast: NOT_FOUND when none is recorded, FAILED_PRECONDITION when that
  // migration has no rollback upstream.
  virtual plugin::Status RollbackLast(const ProgressFn& progress) = 0;

  // Ids recorded in the `migrations` table, in upstream's order (unknown ids last, sorted).
  // An empty list when the table does not exist.
  virtual plugin::StatusOr<std::vector<std::string>> AppliedMigrations() = 0;

  // Inserts each project (identifier = name = the argument, description "<name> description")
  // unless a project with that identifier exists; all in one transaction. Idempotent.
  virtual plugin::Status SeedProjects(const std::vector<std::string>& names) = 0;

  // The repositories over this database; they keep the database open while they live.
  virtual std::shared_ptr<plugin::db::Repositories> Repositories() = 0;

  // The group commit's counters (served on /metrics).
  virtual GroupCommitStats GroupCommit() = 0;
};

// Opens the database the config selects, as upstream: a non-empty `database.sqlite.file`
// selects SQLite, anything else PostgreSQL (`database.postgres.*`, overridden by the deprecated
// flat `database.host|port|dbname|username|password|passwordPath|options`). A PostgreSQL
// database that does not exist is created through the `postgres` database. Does not migrate.
// Errors: INVALID_ARGUMENT for a bad config (unreadable passwordPath, bad sqlite path),
// UNAVAILABLE when the server cannot be reached.
plugin::StatusOr<std::shared_ptr<Database>> OpenDatabase(const core::Config& config);

// Upstream's migration ids (flyteadmin/pkg/repositories/config/migrations.go), in order.
const std::vector<std::string>& UpstreamMigrationIds();

}  // namespace flyte::core::db
