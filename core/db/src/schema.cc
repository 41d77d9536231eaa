// The table catalog. Column order, types and index names follow what gorm creates for upstream's
// migration chain on an empty PostgreSQL database (models of v1.16.5 plus the 2023 "noop"
// snapshots, which only make every id NOT NULL).
#include "schema.h"

namespace flyte::core::db {

namespace {

constexpr const char* kLaunchConditionMigration = "pg-continue-2024-02-launchplan";
constexpr const char* kExecutionTagsMigration = "2024-06-06-execution-tags";
constexpr const char* kExecutionPhaseIndexMigration = "2025-05-29-add-index-executions-phase";

ColumnDef Col(std::string name, ColType type, bool not_null = false, std::string def = "",
              std::string added_by = "") {
  return ColumnDef{std::move(name), type, not_null, std::move(def), std::move(added_by)};
}

// gorm's BaseModel: id, created_at, updated_at, deleted_at.
std::vector<ColumnDef> Base() {
  return {Col("id", ColType::kSerial), Col("created_at", ColType::kTime),
          Col("updated_at", ColType::kTime), Col("deleted_at", ColType::kTime)};
}

std::vector<ColumnDef> Join(std::vector<ColumnDef> a, const std::vector<ColumnDef>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

IndexDef Idx(std::string name, std::vector<std::string> columns, bool unique = false,
             std::string where = "", std::string added_by = "") {
  return IndexDef{std::move(name), std::move(columns), unique, std::move(where),
                  std::move(added_by)};
}

// idx_<table>_id and idx_<table>_deleted_at, from BaseModel's index tags.
std::vector<IndexDef> BaseIndexes(const std::string& table) {
  return {Idx("idx_" + table + "_id", {"id"}), Idx("idx_" + table + "_deleted_at", {"deleted_at"})};
}

std::vector<IndexDef> JoinIdx(std::vector<IndexDef> a, const std::vector<IndexDef>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<ColumnDef> ExecKey() {
  return {Col("execution_project", ColType::kText), Col("execution_domain", ColType::kText),
          Col("execution_name", ColType::kText)};
}

std::vector<TableDef> BuildTables() {
  std::vector<TableDef> t;

  t.push_back(TableDef{
      "projects",
      Join(Base(), {Col("identifier", ColType::kText), Col("name", ColType::kText),
                    Col("description", ColType::kVarchar300), Col("labels", ColType::kBytes),
                    Col("state", ColType::kInt, false, "0")}),
      {"identifier"},
      JoinIdx(BaseIndexes("projects"), {Idx("idx_projects_state", {"state"})}),
      ""});

  t.push_back(TableDef{
      "tasks",
      Join(Base(), {Col("project", ColType::kText), Col("domain", ColType::kText),
                    Col("name", ColType::kText), Col("version", ColType::kText),
                    Col("closure", ColType::kBytes, true), Col("digest", ColType::kBytes),
                    Col("type", ColType::kText), Col("short_description", ColType::kText)}),
      {"project", "domain", "name", "version"},
      JoinIdx(BaseIndexes("tasks"),
              {Idx("task_project_domain_name_idx", {"project", "domain", "name"}),
               Idx("task_project_domain_idx", {"project", "domain"})}),
      ""});

  t.push_back(TableDef{
      "workflows",
      Join(Base(), {Col("project", ColType::kText), Col("domain", ColType::kText),
                    Col("name", ColType::kText), Col("version", ColType::kText),
                    Col("typed_interface", ColType::kBytes),
                    Col("remote_closure_identifier", ColType::kText, true),
                    Col("digest", ColType::kBytes), Col("short_description", ColType::kText)}),
      {"project", "domain", "name", "version"},
      JoinIdx(BaseIndexes("workflows"),
              {Idx("workflow_project_domain_name_idx", {"project", "domain", "name"}),
               Idx("workflow_project_domain_idx", {"project", "domain"})}),
      ""});

  // The model's tag `index:lp_project_domain_name_idx,lp_project_domain_idx` names one index;
  // gorm reads the part after the comma as an (unknown) option, so there is no
  // lp_project_domain_idx.
  t.push_back(TableDef{
      "launch_plans",
      Join(Base(), {Col("project", ColType::kText), Col("domain", ColType::kText),
                    Col("name", ColType::kText), Col("version", ColType::kText),
                    Col("spec", ColType::kBytes, true), Col("workflow_id", ColType::kBigInt),
                    Col("closure", ColType::kBytes, true), Col("state", ColType::kInt, false, "0"),
                    Col("digest", ColType::kBytes), Col("schedule_type", ColType::kText),
                    Col("launch_condition_type", ColType::kVarchar32, false, "",
                        kLaunchConditionMigration)}),
      {"project", "domain", "name", "version"},
      JoinIdx(BaseIndexes("launch_plans"),
              {Idx("lp_project_domain_name_idx", {"project", "domain", "name"}),
               Idx("idx_launch_plans_workflow_id", {"workflow_id"}),
               Idx("idx_launch_plans_launch_conditions", {"launch_condition_type"}, false,
                   "launch_condition_type is not null", kLaunchConditionMigration)}),
      ""});

  t.push_back(TableDef{
      "executions",
      Join(Join(Base(), ExecKey()), {Col("launch_plan_id", ColType::kBigInt),
                                     Col("workflow_id", ColType::kBigInt),
                                     Col("task_id", ColType::kBigInt),
                                     Col("phase", ColType::kText),
                                     Col("closure", ColType::kBytes),
                                     Col("spec", ColType::kBytes, true),
                                     Col("started_at", ColType::kTime),
                                     Col("execution_created_at", ColType::kTime),
                                     Col("execution_updated_at", ColType::kTime),
                                     Col("duration", ColType::kBigInt),
                                     Col("abort_cause", ColType::kText),
                                     Col("mode", ColType::kInt),
                                     Col("source_execution_id", ColType::kBigInt),
                                     Col("parent_node_execution_id", ColType::kBigInt),
                                     Col("cluster", ColType::kText),
                                     Col("inputs_uri", ColType::kText),
                                     Col("user_inputs_uri", ColType::kText),
                                     Col("error_kind", ColType::kText),
                                     Col("error_code", ColType::kText),
                                     Col("user", ColType::kText),
                                     Col("state", ColType::kInt, false, "0"),
                                     Col("launch_entity", ColType::kText)}),
      {"execution_project", "execution_domain", "execution_name"},
      JoinIdx(BaseIndexes("executions"),
              {Idx("idx_executions_launch_plan_id", {"launch_plan_id"}),
               Idx("idx_executions_workflow_id", {"workflow_id"}),
               Idx("idx_executions_task_id", {"task_id"}),
               Idx("idx_executions_phase", {"phase"}, false, "", kExecutionPhaseIndexMigration),
               Idx("idx_executions_created_at", {"execution_created_at"}),
               Idx("idx_executions_error_kind", {"error_kind"}),
               Idx("idx_executions_user", {"user"}), Idx("idx_executions_state", {"state"})}),
      ""});

  t.push_back(TableDef{"execution_events",
                       Join(Join(Base(), ExecKey()),
                            {Col("request_id", ColType::kText), Col("occurred_at", ColType::kTime),
                             Col("phase", ColType::kText)}),
                       {"execution_project", "execution_domain", "execution_name", "phase"},
                       BaseIndexes("execution_events"),
                       ""});

  // Created from the migration-only NodeExecution struct, then extended by 2020-04-29.
  t.push_back(TableDef{
      "node_executions",
      Join(Join(Base(), ExecKey()),
           {Col("node_id", ColType::kText), Col("phase", ColType::kText),
            Col("input_uri", ColType::kText), Col("closure", ColType::kBytes),
            Col("started_at", ColType::kTime), Col("node_execution_created_at", ColType::kTime),
            Col("node_execution_updated_at", ColType::kTime), Col("duration", ColType::kBigInt),
            Col("parent_task_execution_id", ColType::kBigInt),
            Col("dynamic_workflow_remote_closure_reference", ColType::kText),
            Col("internal_data", ColType::kBytes), Col("node_execution_metadata", ColType::kBytes),
            Col("parent_id", ColType::kBigInt), Col("error_kind", ColType::kText),
            Col("error_code", ColType::kText), Col("cache_status", ColType::kText)}),
      {"execution_project", "execution_domain", "execution_name", "node_id"},
      JoinIdx(BaseIndexes("node_executions"),
              {Idx("idx_node_executions_node_id", {"node_id"}),
               Idx("idx_node_executions_parent_task_execution_id", {"parent_task_execution_id"}),
               Idx("idx_node_executions_parent_id", {"parent_id"}),
               Idx("idx_node_executions_error_kind", {"error_kind"})}),
      ""});

  t.push_back(
      TableDef{"node_execution_events",
               Join(Join(Base(), ExecKey()),
                    {Col("node_id", ColType::kText), Col("request_id", ColType::kText),
                     Col("occurred_at", ColType::kTime), Col("phase", ColType::kText)}),
               {"execution_project", "execution_domain", "execution_name", "node_id", "phase"},
               JoinIdx(BaseIndexes("node_execution_events"),
                       {Idx("idx_node_execution_events_node_id", {"node_id"})}),
               ""});

  t.push_back(TableDef{
      "task_executions",
      Join(Base(),
           {Col("project", ColType::kText), Col("domain", ColType::kText),
            Col("name", ColType::kText), Col("version", ColType::kText),
            Col("execution_project", ColType::kText), Col("execution_domain", ColType::kText),
            Col("execution_name", ColType::kText), Col("node_id", ColType::kText),
            Col("retry_attempt", ColType::kBigInt), Col("phase", ColType::kText),
            Col("phase_version", ColType::kBigInt), Col("input_uri", ColType::kText),
            Col("closure", ColType::kBytes), Col("started_at", ColType::kTime),
            Col("task_execution_created_at", ColType::kTime),
            Col("task_execution_updated_at", ColType::kTime), Col("duration", ColType::kBigInt)}),
      {"project", "domain", "name", "version", "execution_project", "execution_domain",
       "execution_name", "node_id", "retry_attempt"},
      JoinIdx(BaseIndexes("task_executions"),
              {Idx("idx_task_executions_exec",
                   {"execution_project", "execution_domain", "execution_name", "node_id"}),
               Idx("idx_task_executions_node_id", {"node_id"})}),
      ""});

  t.push_back(TableDef{
      "named_entity_metadata",
      Join(Base(),
           {Col("resource_type", ColType::kInt), Col("project", ColType::kText),
            Col("domain", ColType::kText), Col("name", ColType::kText),
            Col("description", ColType::kVarchar300), Col("state", ColType::kInt, false, "0")}),
      {"resource_type", "project", "domain", "name"},
      JoinIdx(BaseIndexes("named_entity_metadata"),
              {Idx("named_entity_metadata_type_project_domain_name_idx",
                   {"resource_type", "project", "domain", "name"})}),
      ""});

  // resources.deleted_at carries a gorm-v1 `sql:"index"` tag that gorm v2 ignores: no index.
  t.push_back(
      TableDef{"resources",
               {Col("id", ColType::kSerialPk), Col("created_at", ColType::kTime),
                Col("updated_at", ColType::kTime), Col("deleted_at", ColType::kTime),
                Col("project", ColType::kText), Col("domain", ColType::kText),
                Col("workflow", ColType::kText), Col("launch_plan", ColType::kText),
                Col("resource_type", ColType::kText), Col("priority", ColType::kInt),
                Col("attributes", ColType::kBytes)},
               {"id"},
               {Idx("resource_idx",
                    {"project", "domain", "workflow", "launch_plan", "resource_type"}, true)},
               ""});

  t.push_back(TableDef{
      "schedulable_entities",
      Join(Base(), {Col("project", ColType::kText), Col("domain", ColType::kText),
                    Col("name", ColType::kText), Col("version", ColType::kText),
                    Col("cron_expression", ColType::kText),
                    Col("fixed_rate_value", ColType::kBigInt), Col("unit", ColType::kInt),
                    Col("kickoff_time_input_arg", ColType::kText), Col("active", ColType::kBool)}),
      {"project", "domain", "name", "version"},
      BaseIndexes("schedulable_entities"),
      ""});

  // No declared primary key: gorm promotes `id`.
  t.push_back(TableDef{"schedule_entities_snapshots",
                       {Col("id", ColType::kSerialPk), Col("created_at", ColType::kTime),
                        Col("updated_at", ColType::kTime), Col("deleted_at", ColType::kTime),
                        Col("snapshot", ColType::kBytes)},
                       {"id"},
                       BaseIndexes("schedule_entities_snapshots"),
                       ""});

  t.push_back(TableDef{"description_entities",
                       {Col("resource_type", ColType::kInt), Col("project", ColType::kText),
                        Col("domain", ColType::kText), Col("name", ColType::kText),
                        Col("version", ColType::kText), Col("id", ColType::kSerial),
                        Col("created_at", ColType::kTime), Col("updated_at", ColType::kTime),
                        Col("deleted_at", ColType::kTime), Col("short_description", ColType::kText),
                        Col("long_description", ColType::kBytes), Col("link", ColType::kText)},
                       {"resource_type", "project", "domain", "name", "version"},
                       JoinIdx({Idx("description_entity_project_domain_name_version_idx",
                                    {"resource_type", "project", "domain", "name", "version"})},
                               BaseIndexes("description_entities")),
                       ""});

  t.push_back(
      TableDef{"signals",
               Join(Join(Base(), ExecKey()),
                    {Col("signal_id", ColType::kText), Col("type", ColType::kBytes, true),
                     Col("value", ColType::kBytes)}),
               {"execution_project", "execution_domain", "execution_name", "signal_id"},
               JoinIdx(BaseIndexes("signals"), {Idx("idx_signals_signal_id", {"signal_id"})}),
               ""});

  t.push_back(
      TableDef{"execution_tags",
               Join(Base(), {Col("execution_project", ColType::kVarchar255),
                             Col("execution_domain", ColType::kVarchar255),
                             Col("execution_name", ColType::kVarchar255),
                             Col("key", ColType::kVarchar255), Col("value", ColType::kVarchar255)}),
               {"execution_project", "execution_domain", "execution_name", "key", "value"},
               JoinIdx(BaseIndexes("execution_tags"),
                       {Idx("tag_key", {"key"}), Idx("tag_value", {"value"})}),
               kExecutionTagsMigration});

  return t;
}

}  // namespace

const std::vector<TableDef>& Tables() {
  static const std::vector<TableDef> tables = BuildTables();
  return tables;
}

const TableDef* FindTable(std::string_view name) {
  for (const TableDef& t : Tables()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const ColumnDef* FindColumn(const TableDef& table, std::string_view column) {
  for (const ColumnDef& c : table.columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

ValueClass ClassOf(ColType type) {
  switch (type) {
    case ColType::kSerial:
    case ColType::kSerialPk:
    case ColType::kBigInt:
    case ColType::kInt:
      return ValueClass::kInteger;
    case ColType::kTime:
      return ValueClass::kTime;
    case ColType::kBytes:
      return ValueClass::kBytes;
    case ColType::kBool:
      return ValueClass::kBool;
    default:
      return ValueClass::kText;
  }
}

std::string ColumnSql(const ColumnDef& column, Dialect dialect) {
  const bool pg = dialect == Dialect::kPostgres;
  std::string sql;
  switch (column.type) {
    case ColType::kSerial:
      sql = pg ? "bigserial NOT NULL" : "integer NOT NULL";
      break;
    case ColType::kSerialPk:
      sql = pg ? "bigserial NOT NULL" : "integer PRIMARY KEY AUTOINCREMENT";
      break;
    case ColType::kBigInt:
      sql = pg ? "bigint" : "integer";
      break;
    case ColType::kInt:
      sql = "integer";
      break;
    case ColType::kText:
      sql = "text";
      break;
    case ColType::kVarchar32:
      sql = "varchar(32)";
      break;
    case ColType::kVarchar255:
      sql = pg ? "varchar(255)" : "text";
      break;
    case ColType::kVarchar300:
      sql = "varchar(300)";
      break;
    case ColType::kTime:
      sql = pg ? "timestamptz" : "datetime";
      break;
    case ColType::kBytes:
      sql = pg ? "bytea" : "blob";
      break;
    case ColType::kBool:
      sql = pg ? "boolean" : "numeric";
      break;
  }
  if (column.not_null) sql += " NOT NULL";
  if (!column.default_value.empty()) sql += " DEFAULT " + column.default_value;
  return sql;
}

std::string CreateTableSql(const TableDef& table, Dialect dialect, bool baseline_only,
                           bool if_not_exists) {
  std::string sql = "CREATE TABLE ";
  if (if_not_exists) sql += "IF NOT EXISTS ";
  sql += QuoteIdent(table.name) + " (";
  bool inline_pk = false;
  bool first = true;
  for (const ColumnDef& c : table.columns) {
    if (baseline_only && !c.added_by.empty()) continue;
    if (!first) sql += ",";
    first = false;
    sql += QuoteIdent(c.name) + " " + ColumnSql(c, dialect);
    if (dialect == Dialect::kSqlite && c.type == ColType::kSerialPk) inline_pk = true;
  }
  if (!inline_pk && !table.primary_key.empty()) {
    sql += ",PRIMARY KEY (";
    for (size_t i = 0; i < table.primary_key.size(); ++i) {
      if (i) sql += ",";
      sql += QuoteIdent(table.primary_key[i]);
    }
    sql += ")";
  }
  sql += ")";
  return sql;
}

std::string CreateIndexSql(const TableDef& table, const IndexDef& index, bool if_not_exists) {
  std::string sql = index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  if (if_not_exists) sql += "IF NOT EXISTS ";
  sql += QuoteIdent(index.name) + " ON " + QuoteIdent(table.name) + " (";
  for (size_t i = 0; i < index.columns.size(); ++i) {
    if (i) sql += ",";
    sql += QuoteIdent(index.columns[i]);
  }
  sql += ")";
  if (!index.where.empty()) sql += " WHERE " + index.where;
  return sql;
}

}  // namespace flyte::core::db
