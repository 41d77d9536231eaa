// Repositories for projects, tasks, workflows, launch plans, named entities and description
// entities, mirroring upstream's gormimpl queries (flyteadmin/pkg/repositories/gormimpl).
#include "repositories.h"

#include <chrono>

#include "execution_repo.h"
#include "query_builder.h"
#include "resource_repo.h"
#include "schema.h"

namespace flyte::core::db {

using plugin::InvalidArgument;
using plugin::NotFound;
using plugin::Status;
using plugin::StatusOr;
using namespace plugin::db;  // NOLINT: the models and repository interfaces

namespace {

constexpr const char* kEntryNotFound = "entry not found";

// "t.a, t.b, encode(t.c, 'hex')" for the named columns of `table`.
std::string SelectList(Dialect dialect, const std::string& table,
                       const std::vector<std::string>& columns) {
  const TableDef* def = FindTable(table);
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ", ";
    out += ReadExpr(dialect, table, *FindColumn(*def, columns[i]));
  }
  return out;
}

// The id value of an INSERT: omitted on PostgreSQL (the sequence fills it); on SQLite the next
// id, computed under the write lock every insert holds.
void IdColumn(Sql& sql, bool& first) {
  if (sql.dialect() == Dialect::kSqlite) {
    sql << "\"id\"";
    first = false;
  }
}
void IdValue(Sql& sql, const std::string& table, bool& first) {
  if (sql.dialect() == Dialect::kSqlite) {
    sql << "(SELECT COALESCE(MAX(\"id\"), 0) + 1 FROM " << QuoteIdent(table) << ")";
    first = false;
  }
}

Status ValidateListInput(const ListInput& input) {
  if (input.limit == 0) return InvalidArgument("missing and/or invalid parameters: limit");
  if (input.filters.empty()) return InvalidArgument("missing and/or invalid parameters: filters");
  return Status::Ok();
}

TableRef Ref(const std::string& table) { return TableRef{table, table, FindTable(table)}; }

// WHERE "<table>"."project" = ? AND ... for an entity key.
void WhereKey(Sql& sql, const std::string& table, const EntityKey& key) {
  std::string t = QuoteIdent(table);
  sql << " WHERE " << t << ".\"project\" = ";
  sql.BindText(key.project) << " AND " << t << ".\"domain\" = ";
  sql.BindText(key.domain) << " AND " << t << ".\"name\" = ";
  sql.BindText(key.name) << " AND " << t << ".\"version\" = ";
  sql.BindText(key.version);
}

StatusOr<std::vector<NamedEntityKey>> ListIdentifiersOf(Pool& pool, const std::string& table,
                                                        const ListInput& input) {
  if (Status s = ValidateListInput(input); !s.ok()) return s;
  Sql sql(pool.dialect());
  std::string t = QuoteIdent(table);
  sql << "SELECT " << t << ".\"project\", " << t << ".\"domain\", " << t << ".\"name\" FROM " << t;
  if (Status s = AppendFilters(sql, input.filters, {Ref(table)}, {}, " WHERE "); !s.ok()) return s;
  sql << " GROUP BY " << t << ".\"project\", " << t << ".\"domain\", " << t << ".\"name\"";
  if (Status s = AppendSort(sql, input.sort, Ref(table)); !s.ok()) return s;
  AppendLimitOffset(sql, input.limit, input.offset);
  std::vector<NamedEntityKey> out;
  Status status = pool.Run([&](Conn& conn) -> Status {
    for (auto& row : conn.Query(sql, 3)) {
      out.push_back(NamedEntityKey{TextOf(row[0]), TextOf(row[1]), TextOf(row[2])});
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Description entities (written by the task and workflow repositories)

const std::vector<std::string> kDescriptionColumns = {
    "resource_type", "project",           "domain",           "name", "version", "created_at",
    "updated_at",    "short_description", "long_description", "link"};

// Starts "INSERT INTO <table> ([id, ]created_at, updated_at, project, domain, name, version,
// <extra columns>) VALUES ([id, ]<times>, <key>, " for the versioned entities; the caller binds
// its own columns and closes the list. Unset timestamps become now.
void BeginVersionedInsert(Sql& sql, const std::string& table, const std::string& extra_columns,
                          Time created_at, Time updated_at, const EntityKey& key) {
  Time now = plugin::db::Now();
  bool first = true;
  sql << "INSERT INTO \"" << table << "\" (";
  IdColumn(sql, first);
  sql << (first ? "" : ", ")
      << "\"created_at\", \"updated_at\", \"project\", \"domain\", \"name\", \"version\", "
      << extra_columns << ") VALUES (";
  first = true;
  IdValue(sql, table, first);
  sql << (first ? "" : ", ");
  sql.BindTime(created_at == Time{} ? now : created_at) << ", ";
  sql.BindTime(updated_at == Time{} ? now : updated_at) << ", ";
  sql.BindText(key.project) << ", ";
  sql.BindText(key.domain) << ", ";
  sql.BindText(key.name) << ", ";
  sql.BindText(key.version) << ", ";
}

// The row of `table` with this key, read by `read`; NOT_FOUND "entry not found" when absent.
template <typename Model>
StatusOr<Model> GetByKey(Pool& pool, const std::string& table, const std::vector<std::string>& columns,
                         const EntityKey& key, Model (*read)(Dialect, const Row&)) {
  Sql sql(pool.dialect());
  sql << "SELECT " << SelectList(sql.dialect(), table, columns) << " FROM \"" << table << "\"";
  WhereKey(sql, table, key);
  sql << " LIMIT 1";
  std::optional<Model> found;
  Status status = pool.Run([&](Conn& conn) -> Status {
    auto rows = conn.Query(sql, columns.size());
    if (!rows.empty()) found = read(conn.dialect(), rows[0]);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  if (!found) return NotFound(kEntryNotFound);
  return *found;
}

// One page of `table` (`from` may add joins; `refs` are the tables filters may name), filtered,
// sorted by a column of `table`, limited; rows read by `read`.
template <typename Model>
StatusOr<std::vector<Model>> ListPage(Pool& pool, const std::string& table,
                                      const std::vector<std::string>& columns, const std::string& from,
                                      const std::vector<TableRef>& refs, const FilterOptions& options,
                                      const ListInput& input, Model (*read)(Dialect, const Row&)) {
  if (Status s = ValidateListInput(input); !s.ok()) return s;
  Sql sql(pool.dialect());
  sql << "SELECT " << SelectList(sql.dialect(), table, columns) << " FROM " << from;
  if (Status s = AppendFilters(sql, input.filters, refs, options, " WHERE "); !s.ok()) return s;
  if (Status s = AppendSort(sql, input.sort, Ref(table)); !s.ok()) return s;
  AppendLimitOffset(sql, input.limit, input.offset);
  std::vector<Model> out;
  Status status = pool.Run([&](Conn& conn) -> Status {
    for (auto& row : conn.Query(sql, columns.size())) out.push_back(read(conn.dialect(), row));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

void InsertDescription(Conn& conn, const DescriptionEntityModel& d) {
  Sql sql(conn.dialect());
  Time now = plugin::db::Now();
  bool first = true;
  sql << "INSERT INTO \"description_entities\" (";
  IdColumn(sql, first);
  sql << (first ? "" : ", ")
      << "\"resource_type\", \"project\", \"domain\", \"name\", \"version\", \"created_at\", "
         "\"updated_at\", \"short_description\", \"long_description\", \"link\") VALUES (";
  first = true;
  IdValue(sql, "description_entities", first);
  sql << (first ? "" : ", ");
  sql.BindInt(d.resource_type) << ", ";
  sql.BindText(d.key.project) << ", ";
  sql.BindText(d.key.domain) << ", ";
  sql.BindText(d.key.name) << ", ";
  sql.BindText(d.key.version) << ", ";
  sql.BindTime(d.created_at == Time{} ? now : d.created_at) << ", ";
  sql.BindTime(d.updated_at == Time{} ? now : d.updated_at) << ", ";
  sql.BindText(d.short_description) << ", ";
  sql.BindBytes(d.long_description) << ", ";
  sql.BindText(d.link) << ")";
  conn.Exec(sql);
}

DescriptionEntityModel ReadDescription(Dialect dialect, const Row& row) {
  DescriptionEntityModel d;
  d.resource_type = static_cast<int32_t>(IntOf(row[0]));
  d.key = EntityKey{TextOf(row[1]), TextOf(row[2]), TextOf(row[3]), TextOf(row[4])};
  d.created_at = TimeOf(row[5]);
  d.updated_at = TimeOf(row[6]);
  d.short_description = TextOf(row[7]);
  d.long_description = BytesOf(dialect, row[8]);
  d.link = TextOf(row[9]);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Projects

const std::vector<std::string> kProjectColumns = {
    "identifier", "name", "description", "labels", "state", "created_at", "updated_at"};

ProjectModel ReadProject(Dialect dialect, const Row& row) {
  ProjectModel p;
  p.identifier = TextOf(row[0]);
  p.name = TextOf(row[1]);
  p.description = TextOf(row[2]);
  if (row[3]) p.labels = BytesOf(dialect, row[3]);
  p.state = static_cast<int32_t>(IntOf(row[4]));
  p.created_at = TimeOf(row[5]);
  p.updated_at = TimeOf(row[6]);
  return p;
}

class SqlProjectRepo final : public ProjectRepo {
 public:
  explicit SqlProjectRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Create(const ProjectModel& project) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      Time now = plugin::db::Now();
      bool first = true;
      sql << "INSERT INTO \"projects\" (";
      IdColumn(sql, first);
      sql << (first ? "" : ", ")
          << "\"created_at\", \"updated_at\", \"identifier\", \"name\", \"description\", "
             "\"labels\", \"state\") VALUES (";
      first = true;
      IdValue(sql, "projects", first);
      sql << (first ? "" : ", ");
      sql.BindTime(project.created_at == Time{} ? now : project.created_at) << ", ";
      sql.BindTime(project.updated_at == Time{} ? now : project.updated_at) << ", ";
      sql.BindText(project.identifier) << ", ";
      sql.BindText(project.name) << ", ";
      sql.BindText(project.description) << ", ";
      sql.BindOptBytes(project.labels) << ", ";
      sql.BindInt(project.state) << ")";
      conn.Exec(sql);
      return Status::Ok();
    });
  }

  StatusOr<ProjectModel> Get(const std::string& identifier) override {
    Sql sql(pool_->dialect());
    sql << "SELECT " << SelectList(sql.dialect(), "projects", kProjectColumns)
        << " FROM \"projects\" WHERE \"projects\".\"identifier\" = ";
    sql.BindText(identifier) << " LIMIT 1";
    std::optional<ProjectModel> found;
    Status status = pool_->Run([&](Conn& conn) -> Status {
      auto rows = conn.Query(sql, kProjectColumns.size());
      if (!rows.empty()) found = ReadProject(conn.dialect(), rows[0]);
      return Status::Ok();
    });
    if (!status.ok()) return status;
    if (!found) return NotFound(kEntryNotFound);
    return *found;
  }

  StatusOr<std::vector<ProjectModel>> List(const ListInput& input) override {
    Sql sql(pool_->dialect());
    sql << "SELECT " << SelectList(sql.dialect(), "projects", kProjectColumns)
        << " FROM \"projects\"";
    if (input.filters.empty()) {
      // Upstream hides archived projects unless the caller filters.
      sql << " WHERE \"projects\".\"state\" <> 1";
    } else if (Status s = AppendFilters(sql, input.filters, {Ref("projects")}, {}, " WHERE ");
               !s.ok()) {
      return s;
    }
    if (Status s = AppendSort(sql, input.sort, Ref("projects")); !s.ok()) return s;
    AppendLimitOffset(sql, input.limit, input.offset);
    std::vector<ProjectModel> out;
    Status status = pool_->Run([&](Conn& conn) -> Status {
      for (auto& row : conn.Query(sql, kProjectColumns.size())) {
        out.push_back(ReadProject(conn.dialect(), row));
      }
      return Status::Ok();
    });
    if (!status.ok()) return status;
    return out;
  }

  Status Update(const ProjectModel& project) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      sql << "UPDATE \"projects\" SET \"updated_at\" = ";
      sql.BindTime(plugin::db::Now());
      if (!project.name.empty()) {
        sql << ", \"name\" = ";
        sql.BindText(project.name);
      }
      if (!project.description.empty()) {
        sql << ", \"description\" = ";
        sql.BindText(project.description);
      }
      if (project.labels) {
        sql << ", \"labels\" = ";
        sql.BindBytes(*project.labels);
      }
      sql << ", \"state\" = ";
      sql.BindInt(project.state) << " WHERE \"identifier\" = ";
      sql.BindText(project.identifier);
      if (conn.Exec(sql) == 0) return NotFound(kEntryNotFound);
      return Status::Ok();
    });
  }

 private:
  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Tasks

const std::vector<std::string> kTaskColumns = {
    "id",      "created_at", "updated_at", "project", "domain",           "name",
    "version", "closure",    "digest",     "type",    "short_description"};

TaskModel ReadTask(Dialect dialect, const Row& row) {
  TaskModel t;
  t.id = IntOf(row[0]);
  t.created_at = TimeOf(row[1]);
  t.updated_at = TimeOf(row[2]);
  t.key = EntityKey{TextOf(row[3]), TextOf(row[4]), TextOf(row[5]), TextOf(row[6])};
  t.closure = BytesOf(dialect, row[7]);
  t.digest = BytesOf(dialect, row[8]);
  t.type = TextOf(row[9]);
  t.short_description = TextOf(row[10]);
  return t;
}

class SqlTaskRepo final : public TaskRepo {
 public:
  explicit SqlTaskRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Create(const TaskModel& task,
                const std::optional<DescriptionEntityModel>& description) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      BeginVersionedInsert(sql, "tasks", "\"closure\", \"digest\", \"type\", \"short_description\"",
                           task.created_at, task.updated_at, task.key);
      sql.BindBytes(task.closure) << ", ";
      sql.BindBytes(task.digest) << ", ";
      sql.BindText(task.type) << ", ";
      sql.BindText(task.short_description) << ")";
      conn.Exec(sql);
      if (description) InsertDescription(conn, *description);
      return Status::Ok();
    });
  }

  StatusOr<TaskModel> Get(const EntityKey& key) override {
    return GetByKey(*pool_, "tasks", kTaskColumns, key, ReadTask);
  }

  StatusOr<std::vector<TaskModel>> List(const ListInput& input) override {
    return ListPage(*pool_, "tasks", kTaskColumns, "\"tasks\"", {Ref("tasks")}, {}, input, ReadTask);
  }

  StatusOr<std::vector<NamedEntityKey>> ListIdentifiers(const ListInput& input) override {
    return ListIdentifiersOf(*pool_, "tasks", input);
  }

 private:
  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Workflows

const std::vector<std::string> kWorkflowColumns = {
    "id",      "created_at",       "updated_at",
    "project", "domain",           "name",
    "version", "typed_interface",  "remote_closure_identifier",
    "digest",  "short_description"};

WorkflowModel ReadWorkflow(Dialect dialect, const Row& row) {
  WorkflowModel w;
  w.id = IntOf(row[0]);
  w.created_at = TimeOf(row[1]);
  w.updated_at = TimeOf(row[2]);
  w.key = EntityKey{TextOf(row[3]), TextOf(row[4]), TextOf(row[5]), TextOf(row[6])};
  w.typed_interface = BytesOf(dialect, row[7]);
  w.remote_closure_identifier = TextOf(row[8]);
  w.digest = BytesOf(dialect, row[9]);
  w.short_description = TextOf(row[10]);
  return w;
}

class SqlWorkflowRepo final : public WorkflowRepo {
 public:
  explicit SqlWorkflowRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Create(const WorkflowModel& workflow,
                const std::optional<DescriptionEntityModel>& description) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      if (description) InsertDescription(conn, *description);
      Sql sql(conn.dialect());
      BeginVersionedInsert(sql, "workflows",
                           "\"typed_interface\", \"remote_closure_identifier\", \"digest\", "
                           "\"short_description\"",
                           workflow.created_at, workflow.updated_at, workflow.key);
      sql.BindBytes(workflow.typed_interface) << ", ";
      sql.BindText(workflow.remote_closure_identifier) << ", ";
      sql.BindBytes(workflow.digest) << ", ";
      sql.BindText(workflow.short_description) << ")";
      conn.Exec(sql);
      return Status::Ok();
    });
  }

  StatusOr<WorkflowModel> Get(const EntityKey& key) override {
    return GetByKey(*pool_, "workflows", kWorkflowColumns, key, ReadWorkflow);
  }

  StatusOr<std::vector<WorkflowModel>> List(const ListInput& input) override {
    return ListPage(*pool_, "workflows", kWorkflowColumns, "\"workflows\"", {Ref("workflows")}, {}, input,
                    ReadWorkflow);
  }

  StatusOr<std::vector<NamedEntityKey>> ListIdentifiers(const ListInput& input) override {
    return ListIdentifiersOf(*pool_, "workflows", input);
  }

 private:
  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Launch plans

const std::vector<std::string> kLaunchPlanColumns = {"id",
                                                     "created_at",
                                                     "updated_at",
                                                     "project",
                                                     "domain",
                                                     "name",
                                                     "version",
                                                     "spec",
                                                     "workflow_id",
                                                     "closure",
                                                     "state",
                                                     "digest",
                                                     "schedule_type",
                                                     "launch_condition_type"};

LaunchPlanModel ReadLaunchPlan(Dialect dialect, const Row& row) {
  LaunchPlanModel lp;
  lp.id = IntOf(row[0]);
  lp.created_at = TimeOf(row[1]);
  lp.updated_at = TimeOf(row[2]);
  lp.key = EntityKey{TextOf(row[3]), TextOf(row[4]), TextOf(row[5]), TextOf(row[6])};
  lp.spec = BytesOf(dialect, row[7]);
  lp.workflow_id = IntOf(row[8]);
  lp.closure = BytesOf(dialect, row[9]);
  lp.state = static_cast<int32_t>(IntOf(row[10]));
  lp.digest = BytesOf(dialect, row[11]);
  lp.schedule_type = TextOf(row[12]);
  lp.launch_condition_type = row[13];
  return lp;
}

class SqlLaunchPlanRepo final : public LaunchPlanRepo {
 public:
  explicit SqlLaunchPlanRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Create(const LaunchPlanModel& lp) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      BeginVersionedInsert(sql, "launch_plans",
                           "\"spec\", \"workflow_id\", \"closure\", \"state\", \"digest\", "
                           "\"schedule_type\", \"launch_condition_type\"",
                           lp.created_at, lp.updated_at, lp.key);
      sql.BindBytes(lp.spec) << ", ";
      sql.BindInt(lp.workflow_id) << ", ";
      sql.BindBytes(lp.closure) << ", ";
      sql.BindInt(lp.state) << ", ";
      sql.BindBytes(lp.digest) << ", ";
      sql.BindText(lp.schedule_type) << ", ";
      sql.BindOptText(lp.launch_condition_type) << ")";
      conn.Exec(sql);
      return Status::Ok();
    });
  }

  StatusOr<LaunchPlanModel> Get(const EntityKey& key) override {
    return GetByKey(*pool_, "launch_plans", kLaunchPlanColumns, key, ReadLaunchPlan);
  }

  Status Update(const LaunchPlanModel& lp) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      sql << "UPDATE \"launch_plans\" SET \"updated_at\" = ";
      sql.BindTime(plugin::db::Now()) << ", \"spec\" = ";
      sql.BindBytes(lp.spec) << ", \"workflow_id\" = ";
      sql.BindInt(lp.workflow_id) << ", \"closure\" = ";
      sql.BindBytes(lp.closure) << ", \"state\" = ";
      sql.BindInt(lp.state) << ", \"digest\" = ";
      sql.BindBytes(lp.digest) << ", \"schedule_type\" = ";
      sql.BindText(lp.schedule_type) << ", \"launch_condition_type\" = ";
      sql.BindOptText(lp.launch_condition_type);
      WhereKey(sql, "launch_plans", lp.key);
      if (conn.Exec(sql) == 0) return NotFound(kEntryNotFound);
      return Status::Ok();
    });
  }

  Status SetActive(const LaunchPlanModel& to_enable,
                   const std::optional<LaunchPlanModel>& to_disable) override {
    // As upstream's UpdateColumns: only the state changes; updated_at is left as it was.
    return pool_->RunTx([&](Conn& conn) -> Status {
      auto set_state = [&](const EntityKey& key, int state) -> int64_t {
        Sql sql(conn.dialect());
        sql << "UPDATE \"launch_plans\" SET \"state\" = ";
        sql.BindInt(state);
        WhereKey(sql, "launch_plans", key);
        return conn.Exec(sql);
      };
      if (to_disable && set_state(to_disable->key, 0) == 0) return NotFound(kEntryNotFound);
      if (set_state(to_enable.key, 1) == 0) return NotFound(kEntryNotFound);
      return Status::Ok();
    });
  }

  StatusOr<std::vector<LaunchPlanModel>> List(const ListInput& input) override {
    return ListPage(*pool_, "launch_plans", kLaunchPlanColumns,
                    "\"launch_plans\" INNER JOIN \"workflows\" ON \"launch_plans\".\"workflow_id\" = "
                    "\"workflows\".\"id\"",
                    {Ref("launch_plans"), Ref("workflows")}, {}, input, ReadLaunchPlan);
  }

  StatusOr<std::vector<NamedEntityKey>> ListIdentifiers(const ListInput& input) override {
    return ListIdentifiersOf(*pool_, "launch_plans", input);
  }

  Status LockVersions(const NamedEntityKey& name) override {
    if (pool_->dialect() != Dialect::kPostgres) return Status::Ok();
    return pool_->Run([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      sql << "SELECT \"id\" FROM \"launch_plans\" WHERE \"project\" = ";
      sql.BindText(name.project) << " AND \"domain\" = ";
      sql.BindText(name.domain) << " AND \"name\" = ";
      sql.BindText(name.name) << " FOR UPDATE";
      conn.Query(sql, 1);
      return Status::Ok();
    });
  }

 private:
  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Named entities

const char* ResourceTypeName(int32_t rt) {
  switch (rt) {
    case 0:
      return "UNSPECIFIED";
    case 1:
      return "TASK";
    case 2:
      return "WORKFLOW";
    case 3:
      return "LAUNCH_PLAN";
    case 4:
      return "DATASET";
    default:
      return nullptr;
  }
}

const char* EntityTable(int32_t rt) {
  switch (rt) {
    case 1:
      return "tasks";
    case 2:
      return "workflows";
    case 3:
      return "launch_plans";
    default:
      return nullptr;
  }
}

std::string ResourceTypeText(int32_t rt) {
  const char* name = ResourceTypeName(rt);
  return name ? name : std::to_string(rt);
}

// The subquery alias "entities" of the named entity list: its columns.
const TableDef& EntitiesDef() {
  static const TableDef def{"entities",
                            {ColumnDef{"project", ColType::kText, false, "", ""},
                             ColumnDef{"domain", ColType::kText, false, "", ""},
                             ColumnDef{"name", ColType::kText, false, "", ""}},
                            {},
                            {},
                            ""};
  return def;
}

class SqlNamedEntityRepo final : public NamedEntityRepo {
 public:
  explicit SqlNamedEntityRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  StatusOr<NamedEntityModel> Get(int32_t resource_type, const NamedEntityKey& key) override {
    const char* table = EntityTable(resource_type);
    if (!table) {
      return InvalidArgument("Cannot get NamedEntityMetadata for resource type: " +
                             ResourceTypeText(resource_type));
    }
    std::string t = QuoteIdent(table);
    Sql sql(pool_->dialect());
    sql << "SELECT " << t << ".\"project\", " << t << ".\"domain\", " << t
        << ".\"name\", \"named_entity_metadata\".\"description\", "
           "\"named_entity_metadata\".\"state\" FROM "
        << t
        << " LEFT JOIN \"named_entity_metadata\" ON \"named_entity_metadata\".\"resource_type\" = ";
    sql.BindInt(resource_type) << " AND \"named_entity_metadata\".\"project\" = " << t
                               << ".\"project\" AND \"named_entity_metadata\".\"domain\" = " << t
                               << ".\"domain\" AND \"named_entity_metadata\".\"name\" = " << t
                               << ".\"name\" WHERE " << t << ".\"project\" = ";
    sql.BindText(key.project) << " AND " << t << ".\"domain\" = ";
    sql.BindText(key.domain) << " AND " << t << ".\"name\" = ";
    sql.BindText(key.name) << " LIMIT 1";
    std::optional<NamedEntityModel> found;
    Status status = pool_->Run([&](Conn& conn) -> Status {
      auto rows = conn.Query(sql, 5);
      if (!rows.empty()) {
        NamedEntityModel m;
        m.resource_type = resource_type;
        m.key = NamedEntityKey{TextOf(rows[0][0]), TextOf(rows[0][1]), TextOf(rows[0][2])};
        m.description = TextOf(rows[0][3]);
        m.state = static_cast<int32_t>(IntOf(rows[0][4]));
        found = m;
      }
      return Status::Ok();
    });
    if (!status.ok()) return status;
    if (!found) return NotFound(kEntryNotFound);
    return *found;
  }

  Status Update(const NamedEntityModel& entity) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      Time now = plugin::db::Now();
      bool first = true;
      sql << "INSERT INTO \"named_entity_metadata\" (";
      IdColumn(sql, first);
      sql << (first ? "" : ", ")
          << "\"created_at\", \"updated_at\", \"resource_type\", \"project\", \"domain\", "
             "\"name\", \"description\", \"state\") VALUES (";
      first = true;
      IdValue(sql, "named_entity_metadata", first);
      sql << (first ? "" : ", ");
      sql.BindTime(now) << ", ";
      sql.BindTime(now) << ", ";
      sql.BindInt(entity.resource_type) << ", ";
      sql.BindText(entity.key.project) << ", ";
      sql.BindText(entity.key.domain) << ", ";
      sql.BindText(entity.key.name) << ", ";
      sql.BindText(entity.description) << ", ";
      sql.BindInt(entity.state)
          << ") ON CONFLICT (\"resource_type\", \"project\", \"domain\", \"name\") DO UPDATE SET "
             "\"updated_at\" = excluded.\"updated_at\", \"state\" = excluded.\"state\", "
             "\"description\" = CASE WHEN excluded.\"description\" = '' THEN "
             "\"named_entity_metadata\".\"description\" ELSE excluded.\"description\" END";
      conn.Exec(sql);
      return Status::Ok();
    });
  }

  StatusOr<std::vector<NamedEntityModel>> List(int32_t resource_type, const std::string& project,
                                               const std::string& domain,
                                               const ListInput& input) override {
    if (project.empty()) return InvalidArgument("missing and/or invalid parameters: project");
    if (domain.empty()) return InvalidArgument("missing and/or invalid parameters: domain");
    if (input.limit == 0) return InvalidArgument("missing and/or invalid parameters: limit");
    const char* table = EntityTable(resource_type);
    if (!table) {
      return InvalidArgument("Cannot list entity names for resource type: " +
                             ResourceTypeText(resource_type));
    }
    // Sort keys: the entity's project, domain and name, or its metadata's description and
    // state. The page is chosen inside the grouped subquery, so that is where it is ordered;
    // for a metadata key the subquery joins the metadata itself. (Upstream orders that subquery
    // by the bare key, which fails in the database for the metadata keys and resource_type.)
    std::string t = QuoteIdent(table);
    std::string inner_order, outer_order, sort_join, sort_group;
    if (input.sort) {
      const std::string& c = input.sort->column;
      const char* dir = input.sort->ascending ? " ASC" : " DESC";
      if (c == "project" || c == "domain" || c == "name") {
        inner_order = " ORDER BY " + t + "." + QuoteIdent(c) + dir;
        outer_order = " ORDER BY \"entities\"." + QuoteIdent(c) + dir;
      } else if (c == "description" || c == "state") {
        const std::string key = c == "state" ? "COALESCE(\"sort_meta\".\"state\", 0)"
                                             : std::string("\"sort_meta\".\"description\"");
        sort_join = " LEFT JOIN \"named_entity_metadata\" AS \"sort_meta\" ON "
                    "\"sort_meta\".\"resource_type\" = " + std::to_string(resource_type) +
                    " AND \"sort_meta\".\"project\" = " + t + ".\"project\" AND "
                    "\"sort_meta\".\"domain\" = " + t + ".\"domain\" AND "
                    "\"sort_meta\".\"name\" = " + t + ".\"name\"";
        sort_group = ", \"sort_meta\".\"description\", \"sort_meta\".\"state\"";
        // Names break ties, so that pages of equal keys line up too.
        inner_order = " ORDER BY " + key + dir + ", " + t + ".\"name\"";
        outer_order = " ORDER BY " +
                      (c == "state" ? std::string("COALESCE(\"named_entity_metadata\".\"state\", 0)")
                                    : std::string("\"named_entity_metadata\".\"description\"")) +
                      dir + ", \"entities\".\"name\"";
      } else {
        return InvalidArgument("invalid sort key '" + c + "'");
      }
    }
    Sql sql(pool_->dialect());
    sql << "SELECT \"entities\".\"project\", \"entities\".\"domain\", \"entities\".\"name\", "
           "\"named_entity_metadata\".\"description\", \"named_entity_metadata\".\"state\" "
           "FROM \"named_entity_metadata\" RIGHT JOIN (SELECT "
        << t << ".\"project\", " << t << ".\"domain\", " << t << ".\"name\" FROM " << t << sort_join
        << " WHERE " << t << ".\"project\" = ";
    sql.BindText(project) << " AND " << t << ".\"domain\" = ";
    sql.BindText(domain) << " GROUP BY " << t << ".\"project\", " << t << ".\"domain\", " << t
                         << ".\"name\"" << sort_group << inner_order;
    AppendLimitOffset(sql, input.limit, input.offset);
    sql << ") AS \"entities\" ON \"named_entity_metadata\".\"resource_type\" = ";
    sql.BindInt(resource_type)
        << " AND \"named_entity_metadata\".\"project\" = \"entities\".\"project\" AND "
           "\"named_entity_metadata\".\"domain\" = \"entities\".\"domain\" AND "
           "\"named_entity_metadata\".\"name\" = \"entities\".\"name\"";
    FilterOptions options;
    options.coalesce_table = "named_entity_metadata";
    options.coalesce_column = "state";
    options.reroute_from = "entities";
    options.reroute_to = "named_entity_metadata";
    options.reroute_columns = {"description", "state"};
    std::vector<TableRef> tables = {TableRef{"entities", "entities", &EntitiesDef()},
                                    Ref("named_entity_metadata")};
    if (Status s = AppendFilters(sql, input.filters, tables, options, " WHERE "); !s.ok()) {
      return s;
    }
    sql << " GROUP BY \"entities\".\"project\", \"entities\".\"domain\", \"entities\".\"name\", "
           "\"named_entity_metadata\".\"description\", \"named_entity_metadata\".\"state\""
        << outer_order;
    std::vector<NamedEntityModel> out;
    Status status = pool_->Run([&](Conn& conn) -> Status {
      for (auto& row : conn.Query(sql, 5)) {
        NamedEntityModel m;
        m.resource_type = resource_type;
        m.key = NamedEntityKey{TextOf(row[0]), TextOf(row[1]), TextOf(row[2])};
        m.description = TextOf(row[3]);
        m.state = static_cast<int32_t>(IntOf(row[4]));
        out.push_back(std::move(m));
      }
      return Status::Ok();
    });
    if (!status.ok()) return status;
    return out;
  }

 private:
  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Description entities

class SqlDescriptionEntityRepo final : public DescriptionEntityRepo {
 public:
  explicit SqlDescriptionEntityRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  StatusOr<DescriptionEntityModel> Get(const EntityKey& key) override {
    return GetByKey(*pool_, "description_entities", kDescriptionColumns, key, ReadDescription);
  }

  StatusOr<std::vector<DescriptionEntityModel>> List(const ListInput& input) override {
    // Upstream parses these filters against the task/workflow/launch plan entity and applies
    // them unqualified to description_entities.
    FilterOptions options;
    options.fold_tables = {"tasks", "workflows", "launch_plans"};
    return ListPage(*pool_, "description_entities", kDescriptionColumns, "\"description_entities\"",
                    {Ref("description_entities")}, options, input, ReadDescription);
  }

 private:
  std::shared_ptr<Pool> pool_;
};

class SqlRepositories final : public Repositories {
 public:
  explicit SqlRepositories(std::shared_ptr<Pool> pool)
      : pool_(pool),
        projects_(pool),
        tasks_(pool),
        workflows_(pool),
        launch_plans_(pool),
        named_entities_(pool),
        descriptions_(pool),
        resources_(MakeResourceRepo(pool)),
        executions_(MakeExecutionRepo(pool)),
        node_executions_(MakeNodeExecutionRepo(pool)),
        task_executions_(MakeTaskExecutionRepo(pool)),
        signals_(MakeSignalRepo(pool)),
        schedulable_entities_(MakeSchedulableEntityRepo(pool)) {}

  ProjectRepo& Projects() override { return projects_; }
  TaskRepo& Tasks() override { return tasks_; }
  WorkflowRepo& Workflows() override { return workflows_; }
  LaunchPlanRepo& LaunchPlans() override { return launch_plans_; }
  NamedEntityRepo& NamedEntities() override { return named_entities_; }
  DescriptionEntityRepo& DescriptionEntities() override { return descriptions_; }
  ResourceRepo& Resources() override { return *resources_; }
  ExecutionRepo& Executions() override { return *executions_; }
  NodeExecutionRepo& NodeExecutions() override { return *node_executions_; }
  TaskExecutionRepo& TaskExecutions() override { return *task_executions_; }
  SignalRepo& Signals() override { return *signals_; }
  SchedulableEntityRepo& SchedulableEntities() override { return *schedulable_entities_; }

  void RunGroupedAsync(const std::string& order_key, std::function<Status()> work,
                       std::function<void(Status)> done, bool atomic) override {
    pool_->RunGroupedAsync(
        order_key, [work = std::move(work)](Conn&) { return work(); }, std::move(done), atomic);
  }

 private:
  std::shared_ptr<Pool> pool_;
  SqlProjectRepo projects_;
  SqlTaskRepo tasks_;
  SqlWorkflowRepo workflows_;
  SqlLaunchPlanRepo launch_plans_;
  SqlNamedEntityRepo named_entities_;
  SqlDescriptionEntityRepo descriptions_;
  std::unique_ptr<ResourceRepo> resources_;
  std::unique_ptr<ExecutionRepo> executions_;
  std::unique_ptr<NodeExecutionRepo> node_executions_;
  std::unique_ptr<TaskExecutionRepo> task_executions_;
  std::unique_ptr<SignalRepo> signals_;
  std::unique_ptr<SchedulableEntityRepo> schedulable_entities_;
};

}  // namespace

std::shared_ptr<Repositories> MakeRepositories(std::shared_ptr<Pool> pool) {
  return std::make_shared<SqlRepositories>(std::move(pool));
}

Status SeedProjectRows(Pool& pool, const std::vector<std::string>& names) {
  return pool.RunTx([&](Conn& conn) -> Status {
    for (const std::string& name : names) {
      Sql sql(conn.dialect());
      Time now = plugin::db::Now();
      bool first = true;
      sql << "INSERT INTO \"projects\" (";
      IdColumn(sql, first);
      sql << (first ? "" : ", ")
          << "\"created_at\", \"updated_at\", \"identifier\", \"name\", \"description\") "
             "VALUES (";
      first = true;
      IdValue(sql, "projects", first);
      sql << (first ? "" : ", ");
      sql.BindTime(now) << ", ";
      sql.BindTime(now) << ", ";
      sql.BindText(name) << ", ";
      sql.BindText(name) << ", ";
      sql.BindText(name + " description") << ") ON CONFLICT (\"identifier\") DO NOTHING";
      conn.Exec(sql);
    }
    return Status::Ok();
  });
}

}  // namespace flyte::core::db
