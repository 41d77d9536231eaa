// The migration chain. Upstream's 67 ids are applied as fewer real steps:
//   * the baseline: every id up to 2023-08-04-execution-admin-tags (the last id upstream cannot
//     roll back, so nothing before it is ever rolled back). It converges the database to the
//     schema those ids leave behind: tables created when absent, missing columns added, indexes
//     created when absent, plus the type and data fixes of whichever of those ids are pending
//     (so a database migrated by an older FlyteAdmin is brought forward too);
//   * each later id as its own step with upstream's rollback.
// Every step and the insertion of its ids run in one transaction; on PostgreSQL an advisory
// lock serializes concurrent `migrate run`s.
#include "migrations.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "schema.h"

namespace flyte::core::db {

using plugin::Status;
using plugin::StatusCode;
using plugin::StatusOr;

const std::vector<std::string>& UpstreamMigrationIds() {
  static const std::vector<std::string> ids = {
      // LegacyMigrations
      "2019-05-22-projects", "2018-05-23-tasks", "2018-05-23-workflows", "2019-05-23-lp",
      "2019-05-23-executions", "2019-01-29-executions-events", "2019-04-17-node-executions",
      "2019-01-29-node-executions-events", "2019-03-16-task-executions",
      "2019-04-17-node-executions-backfill", "2019-09-27-executions",
      "2019-10-09-project-description", "2019-10-15-offload-inputs",
      "2019-11-05-named-entity-metadata", "2020-01-10-resource", "2020-03-17-task-type",
      "2020-04-03-named-entity-state", "2020-04-03-named-entity-state-default",
      "2020-04-03-workflow-state", "2020-04-29-executions", "2020-04-14-task-type",
      "2020-07-27-cachestatus", "2020-07-31-node-execution", "2020-08-17-labels-addition",
      "2020-09-01-task-exec-idx", "2020-11-03-project-state-addition",
      "2020-11-03-project-state-default", "2021-01-22-execution-user",
      "2021-04-19-node-execution_dynamic-workflow", "2021-07-22-schedulable_entities",
      "2021-08-05-schedulable_entities_snapshot", "2022-01-11-id-to-bigint",
      "2022-01-11-execution-state", "2022-03-29-node-execution-internal-data",
      "2022-04-04-execution-created-at-index", "2022-09-13-description-entities",
      "2020-09-13-task-short_description", "2020-09-13-workflow-short_description",
      "2022-04-11-signals", "2022-12-09-execution-launch-type",
      // NoopMigrations
      "pg-noop-2023-03-31-noop-project-3", "pg-noop-2023-03-31-noop-task-2",
      "pg-noop-2023-03-31-noop-workflow", "pg-noop-2023-03-31-noop-launchplan",
      "pg-noop-2023-03-31-noop-namedentitymetadata", "pg-noop-2023-03-31-noop-execution",
      "pg-noop-2023-03-31-noop-taskexecution", "pg-2023-05-02-fix-parentid-type-phase-1",
      "pg-2023-05-02-fix-parentid-type-phase-2", "pg-noop-2023-03-31-noop-nodeexecution",
      "pg-noop-2023-03-31-noop-execution-event", "pg-noop-2023-03-31-noop-node-execution-event",
      "pg-noop-2023-03-31-noop-description-entity-2", "pg-noop-2023-03-31-noop-signal",
      "pg-noop-2023-03-31-noop-resource", "pg-noop-2023-03-31-noop-schedulable_entities",
      "pg-noop-2023-03-31-noop-schedulable_entities-snapshot", "2023-06-19-id-sequence-to-bigint",
      "2023-08-04-admin-tags", "2023-08-04-execution-admin-tags",
      // ContinuedMigrations
      "pg-continue-2024-02-launchplan", "2024-06-06-execution-tags",
      "2024-06-06-drop-execution_admin-tags", "2024-06-06-drop-admin-tags",
      "2024-08-08-remove-input-uri-for-start-nodes", "2025-05-29-add-index-executions-phase"};
  return ids;
}

namespace {

constexpr const char* kBaselineLast = "2023-08-04-execution-admin-tags";
// Any 64-bit constant shared by every instance of this server.
constexpr int64_t kMigrationLockKey = 0x666c797465646221;

// The first 13 tables in upstream's `tables` list (2022-01-11-id-to-bigint) and all 14
// (2023-06-19-id-sequence-to-bigint).
const std::vector<std::string>& UpstreamIdTables() {
  static const std::vector<std::string> tables = {"execution_events",
                                                  "executions",
                                                  "launch_plans",
                                                  "named_entity_metadata",
                                                  "node_execution_events",
                                                  "node_executions",
                                                  "projects",
                                                  "resources",
                                                  "schedulable_entities",
                                                  "schedule_entities_snapshots",
                                                  "task_executions",
                                                  "tasks",
                                                  "workflows",
                                                  "description_entities"};
  return tables;
}

bool IsPg(Conn& conn) { return conn.dialect() == Dialect::kPostgres; }

bool TableExists(Conn& conn, const std::string& table) {
  Sql sql(conn.dialect());
  if (IsPg(conn)) {
    sql << "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
           " AND table_type = 'BASE TABLE' AND table_name = ";
  } else {
    sql << "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ";
  }
  sql.BindText(table);
  auto rows = conn.Query(sql, 1);
  return !rows.empty() && rows[0][0] && *rows[0][0] != "0";
}

// Column name -> PostgreSQL data_type ("bigint", "integer", "character varying", ...) or the
// SQLite declared type.
std::map<std::string, std::string> ColumnTypes(Conn& conn, const std::string& table) {
  Sql sql(conn.dialect());
  if (IsPg(conn)) {
    sql << "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
           "current_schema() AND table_name = ";
  } else {
    sql << "SELECT name, type FROM pragma_table_info(";
  }
  sql.BindText(table);
  if (!IsPg(conn)) sql << ")";
  std::map<std::string, std::string> out;
  for (auto& row : conn.Query(sql, 2)) {
    if (row[0]) out[*row[0]] = row[1].value_or("");
  }
  return out;
}

bool ColumnNullable(Conn& conn, const std::string& table, const std::string& column) {
  Sql sql(conn.dialect());
  sql << "SELECT is_nullable FROM information_schema.columns WHERE table_schema = "
         "current_schema() AND table_name = ";
  sql.BindText(table) << " AND column_name = ";
  sql.BindText(column);
  auto rows = conn.Query(sql, 1);
  return !rows.empty() && rows[0][0] && *rows[0][0] == "YES";
}

void DropColumnIfExists(Conn& conn, const std::string& table, const std::string& column) {
  if (!TableExists(conn, table)) return;
  if (!ColumnTypes(conn, table).count(column)) return;
  conn.Exec("ALTER TABLE " + QuoteIdent(table) + " DROP COLUMN " + QuoteIdent(column));
}

void EnsureMigrationsTable(Conn& conn) {
  if (TableExists(conn, "migrations")) return;
  if (IsPg(conn)) {
    conn.Exec("CREATE TABLE \"migrations\" (\"id\" varchar(255),PRIMARY KEY (\"id\"))");
  } else {
    conn.Exec("CREATE TABLE `migrations` (`id` text,PRIMARY KEY (`id`))");
  }
}

std::set<std::string> Applied(Conn& conn) {
  std::set<std::string> out;
  if (!TableExists(conn, "migrations")) return out;
  Sql sql(conn.dialect());
  sql << "SELECT id FROM migrations";
  for (auto& row : conn.Query(sql, 1)) {
    if (row[0]) out.insert(*row[0]);
  }
  return out;
}

void Record(Conn& conn, const std::string& id) {
  Sql sql(conn.dialect());
  sql << "INSERT INTO migrations (id) VALUES (";
  sql.BindText(id) << ")";
  conn.Exec(sql);
}

void Unrecord(Conn& conn, const std::string& id) {
  Sql sql(conn.dialect());
  sql << "DELETE FROM migrations WHERE id = ";
  sql.BindText(id);
  conn.Exec(sql);
}

void Lock(Conn& conn) {
  if (!IsPg(conn)) return;  // BEGIN IMMEDIATE already holds SQLite's write lock
  Sql sql(conn.dialect());
  sql << "SELECT pg_advisory_xact_lock(";
  sql.BindInt(kMigrationLockKey) << ")";
  conn.Query(sql, 1);
}

// Creates `table` at its baseline shape, or adds its missing baseline columns; then its
// baseline indexes.
void ConvergeTable(Conn& conn, const TableDef& table) {
  if (!TableExists(conn, table.name)) {
    conn.Exec(CreateTableSql(table, conn.dialect(), /*baseline_only=*/true, false));
  } else {
    auto existing = ColumnTypes(conn, table.name);
    for (const ColumnDef& c : table.columns) {
      if (!c.added_by.empty() || existing.count(c.name)) continue;
      ColumnDef added = c;
      // Rows already there cannot satisfy NOT NULL without a default; gorm adds the same way.
      if (conn.dialect() == Dialect::kSqlite && c.type == ColType::kSerial) added.not_null = false;
      conn.Exec("ALTER TABLE " + QuoteIdent(table.name) + " ADD COLUMN " + QuoteIdent(c.name) +
                " " + ColumnSql(added, conn.dialect()));
    }
  }
  for (const IndexDef& idx : table.indexes) {
    if (!idx.added_by.empty()) continue;
    conn.Exec(CreateIndexSql(table, idx, /*if_not_exists=*/true));
  }
}

// The fixes upstream's baseline ids make to databases created by older versions. Harmless on a
// database this function just created.
void BaselineFixes(Conn& conn, const std::set<std::string>& pending) {
  auto is_pending = [&](const char* id) { return pending.count(id) > 0; };
  if (is_pending("2020-04-03-workflow-state")) DropColumnIfExists(conn, "workflows", "state");
  if (is_pending("2019-04-17-node-executions-backfill")) {
    conn.Exec(
        "UPDATE node_executions SET parent_task_execution_id = NULL WHERE "
        "parent_task_execution_id = 0");
  }
  if (is_pending("2020-04-03-named-entity-state-default")) {
    conn.Exec("UPDATE named_entity_metadata SET state = 0 WHERE state IS NULL");
  }
  if (is_pending("2020-11-03-project-state-default")) {
    conn.Exec("UPDATE projects SET state = 0 WHERE state IS NULL");
  }
  if (!IsPg(conn)) return;  // SQLite has no column types to fix
  const auto& id_tables = UpstreamIdTables();
  if (is_pending("2022-01-11-id-to-bigint")) {
    for (size_t i = 0; i < 13; ++i) {
      auto types = ColumnTypes(conn, id_tables[i]);
      auto it = types.find("id");
      if (it != types.end() && it->second != "bigint") {
        conn.Exec("ALTER TABLE " + QuoteIdent(id_tables[i]) + " ALTER COLUMN \"id\" TYPE bigint");
      }
    }
  }
  if (is_pending("2023-06-19-id-sequence-to-bigint")) {
    for (const auto& table : id_tables) {
      conn.Exec("ALTER SEQUENCE IF EXISTS " + QuoteIdent(table + "_id_seq") +
                " AS bigint NO MAXVALUE");
    }
  }
  if (is_pending("pg-2023-05-02-fix-parentid-type-phase-2")) {
    auto types = ColumnTypes(conn, "node_executions");
    if (types.count("new_parent_id") != 0) {
      // Upstream's phase 1 ran (its trigger has kept new_parent_id equal to parent_id since):
      // finish as its phase 2 does, swapping the bigint copy in for the old column.
      conn.Exec("LOCK TABLE node_executions IN EXCLUSIVE MODE");
      conn.Exec("DROP INDEX IF EXISTS idx_node_executions_parent_id");
      conn.Exec("ALTER TABLE node_executions DROP COLUMN parent_id");
      conn.Exec("ALTER INDEX IF EXISTS idx_node_executions_new_parent_id RENAME TO idx_node_executions_parent_id");
      conn.Exec("ALTER TABLE node_executions RENAME COLUMN new_parent_id TO parent_id");
      conn.Exec("DROP TRIGGER IF EXISTS set_new_parent_id_trigger ON node_executions");
      conn.Exec("DROP FUNCTION IF EXISTS set_new_parent_id()");
    } else if (auto it = types.find("parent_id"); it != types.end() && it->second != "bigint") {
      conn.Exec("ALTER TABLE node_executions ALTER COLUMN parent_id TYPE bigint");
    }
  }
  // The 2023 snapshots declare every id NOT NULL and short descriptions as text.
  bool snapshots_pending = std::any_of(pending.begin(), pending.end(), [](const std::string& id) {
    return id.rfind("pg-noop-2023-03-31-", 0) == 0;
  });
  if (snapshots_pending) {
    for (const TableDef& table : Tables()) {
      if (!table.added_by.empty()) continue;
      if (ColumnNullable(conn, table.name, "id")) {
        conn.Exec("ALTER TABLE " + QuoteIdent(table.name) + " ALTER COLUMN \"id\" SET NOT NULL");
      }
    }
    for (const char* table : {"tasks", "workflows"}) {
      auto types = ColumnTypes(conn, table);
      auto it = types.find("short_description");
      if (it != types.end() && it->second != "text") {
        conn.Exec("ALTER TABLE " + QuoteIdent(table) + " ALTER COLUMN short_description TYPE text");
      }
    }
  }
}

void ApplyBaseline(Conn& conn, const std::set<std::string>& pending) {
  for (const TableDef& table : Tables()) {
    if (!table.added_by.empty()) continue;
    ConvergeTable(conn, table);
  }
  BaselineFixes(conn, pending);
}

const TableDef& Table(const char* name) { return *FindTable(name); }

const IndexDef& Index(const TableDef& table, const char* name) {
  for (const IndexDef& idx : table.indexes) {
    if (idx.name == name) return idx;
  }
  throw std::logic_error(std::string("unknown index ") + name);
}

void AddLaunchConditionType(Conn& conn) {
  const TableDef& lp = Table("launch_plans");
  if (!ColumnTypes(conn, "launch_plans").count("launch_condition_type")) {
    conn.Exec("ALTER TABLE \"launch_plans\" ADD COLUMN \"launch_condition_type\" " +
              ColumnSql(*FindColumn(lp, "launch_condition_type"), conn.dialect()));
  }
  conn.Exec(CreateIndexSql(lp, Index(lp, "idx_launch_plans_launch_conditions"), true));
}

void CreateExecutionTags(Conn& conn) {
  const TableDef& tags = Table("execution_tags");
  conn.Exec(CreateTableSql(tags, conn.dialect(), false, /*if_not_exists=*/true));
  for (const IndexDef& idx : tags.indexes) conn.Exec(CreateIndexSql(tags, idx, true));
  if (TableExists(conn, "execution_admin_tags") && TableExists(conn, "admin_tags")) {
    std::string id_expr = IsPg(conn) ? ""
                                     : "(SELECT COALESCE(MAX(id), 0) FROM execution_tags) + "
                                       "ROW_NUMBER() OVER (), ";
    conn.Exec(std::string("INSERT INTO execution_tags (") + (IsPg(conn) ? "" : "id, ") +
              "execution_project, execution_domain, execution_name, created_at, updated_at, "
              "deleted_at, key, value) SELECT " +
              id_expr +
              "execution_project, execution_domain, execution_name, created_at, updated_at, "
              "deleted_at, name AS key, '' AS value FROM execution_admin_tags INNER JOIN "
              "admin_tags a ON execution_admin_tags.admin_tag_id = a.id");
  }
}

void DropTableIfExists(Conn& conn, const std::string& table) {
  conn.Exec("DROP TABLE IF EXISTS " + QuoteIdent(table) + (IsPg(conn) ? " CASCADE" : ""));
}

struct Step {
  std::vector<std::string> ids;
  std::function<void(Conn&, const std::set<std::string>& pending)> up;
};

std::vector<Step> Steps() {
  const auto& all = UpstreamMigrationIds();
  auto last = std::find(all.begin(), all.end(), kBaselineLast);
  std::vector<Step> steps;
  steps.push_back(Step{std::vector<std::string>(all.begin(), last + 1), ApplyBaseline});
  steps.push_back(Step{{"pg-continue-2024-02-launchplan"},
                       [](Conn& c, const std::set<std::string>&) { AddLaunchConditionType(c); }});
  steps.push_back(Step{{"2024-06-06-execution-tags"},
                       [](Conn& c, const std::set<std::string>&) { CreateExecutionTags(c); }});
  steps.push_back(Step{
      {"2024-06-06-drop-execution_admin-tags"},
      [](Conn& c, const std::set<std::string>&) { DropTableIfExists(c, "execution_admin_tags"); }});
  steps.push_back(Step{{"2024-06-06-drop-admin-tags"}, [](Conn& c, const std::set<std::string>&) {
                         DropTableIfExists(c, "admin_tags");
                       }});
  steps.push_back(Step{{"2024-08-08-remove-input-uri-for-start-nodes"},
                       [](Conn& c, const std::set<std::string>&) {
                         c.Exec(
                             "UPDATE node_executions SET input_uri = '' WHERE node_id = "
                             "'start-node'");
                       }});
  steps.push_back(
      Step{{"2025-05-29-add-index-executions-phase"}, [](Conn& c, const std::set<std::string>&) {
             const TableDef& ex = Table("executions");
             c.Exec(CreateIndexSql(ex, Index(ex, "idx_executions_phase"), true));
           }});
  return steps;
}

// Upstream's rollback of one id: an action, "nothing" (upstream's Rollback returns nil), or
// impossible (upstream has no Rollback).
enum class RollbackKind { kAction, kNothing, kImpossible, kUnsupported };
struct Rollback {
  RollbackKind kind;
  std::function<void(Conn&)> action;
};

Rollback RollbackOf(const std::string& id) {
  if (id == "2025-05-29-add-index-executions-phase") {
    return {RollbackKind::kAction, [](Conn& c) {
              c.Exec(std::string("DROP INDEX ") + (IsPg(c) ? "" : "IF EXISTS ") +
                     "\"idx_executions_phase\"");
            }};
  }
  if (id == "2024-08-08-remove-input-uri-for-start-nodes") return {RollbackKind::kNothing, {}};
  if (id == "2024-06-06-drop-admin-tags" || id == "2024-06-06-drop-execution_admin-tags" ||
      id == "2023-08-04-execution-admin-tags" || id == "2019-04-17-node-executions-backfill") {
    return {RollbackKind::kImpossible, {}};
  }
  if (id == "2024-06-06-execution-tags") {
    return {RollbackKind::kAction, [](Conn& c) { DropTableIfExists(c, "execution_tags"); }};
  }
  if (id == "pg-continue-2024-02-launchplan") {
    return {RollbackKind::kAction, [](Conn& c) {
              c.Exec("DROP INDEX IF EXISTS \"idx_launch_plans_launch_conditions\"");
              c.Exec("ALTER TABLE launch_plans DROP COLUMN launch_condition_type");
            }};
  }
  if (id.rfind("pg-noop-2023-03-31-", 0) == 0 || id == "pg-2023-05-02-fix-parentid-type-phase-2" ||
      id == "2023-06-19-id-sequence-to-bigint" || id == "2023-08-04-admin-tags") {
    return {RollbackKind::kNothing, {}};
  }
  if (id == "pg-2023-05-02-fix-parentid-type-phase-1") {
    return {RollbackKind::kAction, [](Conn& c) {
              if (!IsPg(c)) return;
              c.Exec("DROP TRIGGER IF EXISTS set_new_parent_id_trigger ON node_executions");
              c.Exec("DROP FUNCTION IF EXISTS set_new_parent_id()");
              c.Exec("ALTER TABLE node_executions DROP COLUMN IF EXISTS new_parent_id");
              c.Exec("DROP INDEX IF EXISTS idx_node_executions_new_parent_id");
            }};
  }
  return {RollbackKind::kUnsupported, {}};
}

}  // namespace

Status RunMigrateUp(Pool& pool, const ProgressFn& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  size_t applied_total = 0;
  for (const Step& step : Steps()) {
    std::vector<std::string> recorded;
    Status status = pool.RunTx([&](Conn& conn) -> Status {
      Lock(conn);
      EnsureMigrationsTable(conn);
      std::set<std::string> applied = Applied(conn);
      std::set<std::string> pending;
      for (const auto& id : step.ids) {
        if (!applied.count(id)) pending.insert(id);
      }
      if (pending.empty()) return Status::Ok();
      step.up(conn, pending);
      for (const auto& id : step.ids) {
        if (pending.count(id)) {
          Record(conn, id);
          recorded.push_back(id);
        }
      }
      return Status::Ok();
    });
    if (!status.ok()) {
      return Status(status.code(), "database migration failed at " + step.ids.front() +
                                       (step.ids.size() > 1 ? ".." + step.ids.back() : "") + ": " +
                                       status.message());
    }
    // "[12/66] applied migration <id>": the id's place in upstream's order, so a person
    // waiting sees how far the database has come.
    const auto& all = UpstreamMigrationIds();
    for (const auto& id : recorded) {
      auto at = std::find(all.begin(), all.end(), id) - all.begin() + 1;
      say("[" + std::to_string(at) + "/" + std::to_string(all.size()) + "] applied migration " + id);
    }
    applied_total += recorded.size();
  }
  if (applied_total == 0) {
    say("database is up to date (" + std::to_string(UpstreamMigrationIds().size()) +
        " migrations recorded)");
  } else {
    say("applied " + std::to_string(applied_total) + " migrations");
  }
  return Status::Ok();
}

Status RunRollbackLast(Pool& pool, const ProgressFn& progress) {
  std::string rolled_back;
  Status status = pool.RunTx([&](Conn& conn) -> Status {
    Lock(conn);
    std::set<std::string> applied = Applied(conn);
    const auto& ids = UpstreamMigrationIds();
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
      if (!applied.count(*it)) continue;
      Rollback rb = RollbackOf(*it);
      switch (rb.kind) {
        case RollbackKind::kImpossible:
          return {StatusCode::kFailedPrecondition,
                  "could not rollback latest migration " + *it +
                      ": gormigrate: It's impossible to rollback this migration"};
        case RollbackKind::kUnsupported:
          return {StatusCode::kFailedPrecondition,
                  "could not rollback latest migration " + *it +
                      ": rolling back migrations older than 2023-08-04 is not supported"};
        case RollbackKind::kAction:
          rb.action(conn);
          break;
        case RollbackKind::kNothing:
          break;
      }
      Unrecord(conn, *it);
      rolled_back = *it;
      return Status::Ok();
    }
    return {StatusCode::kNotFound,
            "could not rollback latest migration: gormigrate: Could not find last run migration"};
  });
  if (status.ok() && progress) progress("rolled back migration " + rolled_back);
  return status;
}

StatusOr<std::vector<std::string>> ReadAppliedMigrations(Pool& pool) {
  std::set<std::string> applied;
  Status status = pool.Run([&](Conn& conn) -> Status {
    applied = Applied(conn);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  std::vector<std::string> out;
  for (const auto& id : UpstreamMigrationIds()) {
    if (applied.erase(id)) out.push_back(id);
  }
  out.insert(out.end(), applied.begin(), applied.end());
  return out;
}

}  // namespace flyte::core::db
