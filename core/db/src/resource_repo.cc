// Matchable attributes in the `resources` table, with the lookups of upstream's
// gormimpl/resource_repo.go: exact key, most specific match by priority, project level, list.
#include "resource_repo.h"

#include <chrono>

#include "query_builder.h"
#include "schema.h"

namespace flyte::core::db {

using plugin::Status;
using plugin::StatusOr;
using namespace plugin::db;  // NOLINT: the models and repository interfaces

namespace {

const std::vector<std::string> kResourceColumns = {
    "id",       "created_at",  "updated_at",    "project",  "domain",
    "workflow", "launch_plan", "resource_type", "priority", "attributes"};

std::string SelectResource(Dialect dialect) {
  const TableDef* def = FindTable("resources");
  std::string out;
  for (size_t i = 0; i < kResourceColumns.size(); ++i) {
    if (i) out += ", ";
    out += ReadExpr(dialect, "resources", *FindColumn(*def, kResourceColumns[i]));
  }
  return out;
}

ResourceModel ReadResource(Dialect dialect, const Row& row) {
  ResourceModel r;
  r.id = IntOf(row[0]);
  r.created_at = TimeOf(row[1]);
  r.updated_at = TimeOf(row[2]);
  r.key =
      ResourceKey{TextOf(row[3]), TextOf(row[4]), TextOf(row[5]), TextOf(row[6]), TextOf(row[7])};
  r.priority = static_cast<int32_t>(IntOf(row[8]));
  r.attributes = BytesOf(dialect, row[9]);
  return r;
}

// Go's "%v" and "%+v" of upstream's ResourceID struct.
std::string Plain(const ResourceKey& k) {
  return "{" + k.project + " " + k.domain + " " + k.workflow + " " + k.launch_plan + " " +
         k.resource_type + "}";
}
std::string Named(const ResourceKey& k) {
  return "{Project:" + k.project + " Domain:" + k.domain + " Workflow:" + k.workflow +
         " LaunchPlan:" + k.launch_plan + " ResourceType:" + k.resource_type + "}";
}

// The level rules of upstream's validateCreateOrUpdateResourceInput: a launch plan needs a
// workflow, a workflow (or launch plan) needs a project, and one of project/domain is set.
bool ValidLevel(const ResourceKey& k) {
  if (k.resource_type.empty()) return false;
  if (k.domain.empty() && k.project.empty()) return false;
  if (k.project.empty() && (!k.workflow.empty() || !k.launch_plan.empty())) return false;
  if (k.workflow.empty() && !k.launch_plan.empty()) return false;
  return true;
}

Status InvalidInput(const std::string& what) {
  return plugin::InvalidArgument("missing and/or invalid parameters: " + what);
}

Status NotFoundResource(const ResourceKey& k) {
  return plugin::NotFound("Resource [" + Named(k) + "] not found");
}

// `"resources"."<column>" IN ('', ?)`, or `= ''` when the value is empty.
void MatchOrWildcard(Sql& sql, const char* column, const std::string& value) {
  sql << " AND \"resources\".\"" << column << "\"";
  if (value.empty()) {
    sql << " = ";
    sql.BindText("");
  } else {
    sql << " IN (";
    sql.BindText("") << ", ";
    sql.BindText(value) << ")";
  }
}

class SqlResourceRepo final : public ResourceRepo {
 public:
  explicit SqlResourceRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status CreateOrUpdate(const ResourceModel& input) override {
    if (!ValidLevel(input.key)) return InvalidInput(Plain(input.key));
    if (input.priority == 0) return InvalidInput("invalid priority " + Plain(input.key));
    return pool_->RunTx([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      Time now = plugin::db::Now();
      sql << "INSERT INTO \"resources\" (";
      if (conn.dialect() == Dialect::kSqlite) sql << "\"id\", ";
      sql << "\"created_at\", \"updated_at\", \"project\", \"domain\", \"workflow\", "
             "\"launch_plan\", \"resource_type\", \"priority\", \"attributes\") VALUES (";
      // SQLite has no sequence here: the next id, computed under the write lock.
      if (conn.dialect() == Dialect::kSqlite) {
        sql << "(SELECT COALESCE(MAX(\"id\"), 0) + 1 FROM \"resources\"), ";
      }
      sql.BindTime(now) << ", ";
      sql.BindTime(now) << ", ";
      sql.BindText(input.key.project) << ", ";
      sql.BindText(input.key.domain) << ", ";
      sql.BindText(input.key.workflow) << ", ";
      sql.BindText(input.key.launch_plan) << ", ";
      sql.BindText(input.key.resource_type) << ", ";
      sql.BindInt(input.priority) << ", ";
      sql.BindBytes(input.attributes)
          << ") ON CONFLICT (\"project\", \"domain\", \"workflow\", \"launch_plan\", "
             "\"resource_type\") DO UPDATE SET \"attributes\" = excluded.\"attributes\", "
             "\"updated_at\" = excluded.\"updated_at\"";
      conn.Exec(sql);
      return Status::Ok();
    });
  }

  StatusOr<ResourceModel> Get(const ResourceKey& key) override {
    Sql sql(pool_->dialect());
    sql << "SELECT " << SelectResource(sql.dialect())
        << " FROM \"resources\" WHERE \"resources\".\"project\" = ";
    sql.BindText(key.project) << " AND \"resources\".\"domain\" = ";
    sql.BindText(key.domain) << " AND \"resources\".\"workflow\" = ";
    sql.BindText(key.workflow) << " AND \"resources\".\"launch_plan\" = ";
    sql.BindText(key.launch_plan) << " AND \"resources\".\"resource_type\" = ";
    sql.BindText(key.resource_type) << " ORDER BY \"resources\".\"id\" LIMIT 1";
    auto found = QueryOne(sql);
    if (!found.ok()) return found.status();
    if (!found.value()) return plugin::NotFound(Plain(key));
    return *found.value();
  }

  StatusOr<ResourceModel> GetMostSpecific(const ResourceKey& key) override {
    if (!ValidLevel(key)) {
      return plugin::Internal("unexpected error type for: missing and/or invalid parameters: " +
                              Plain(key));
    }
    Sql sql(pool_->dialect());
    sql << "SELECT " << SelectResource(sql.dialect())
        << " FROM \"resources\" WHERE \"resources\".\"resource_type\" = ";
    sql.BindText(key.resource_type);
    MatchOrWildcard(sql, "domain", key.domain);
    MatchOrWildcard(sql, "project", key.project);
    MatchOrWildcard(sql, "workflow", key.workflow);
    MatchOrWildcard(sql, "launch_plan", key.launch_plan);
    sql << " ORDER BY \"resources\".\"priority\" DESC, \"resources\".\"id\" LIMIT 1";
    auto found = QueryOne(sql);
    if (!found.ok()) return found.status();
    if (!found.value()) return NotFoundResource(key);
    return *found.value();
  }

  StatusOr<ResourceModel> GetProjectLevel(const std::string& project,
                                          const std::string& resource_type) override {
    ResourceKey key{project, "", "", "", resource_type};
    if (project.empty()) {
      return plugin::Internal("unexpected error type for: missing and/or invalid parameters: " +
                              Plain(key));
    }
    Sql sql(pool_->dialect());
    sql << "SELECT " << SelectResource(sql.dialect())
        << " FROM \"resources\" WHERE \"resources\".\"resource_type\" = ";
    sql.BindText(resource_type) << " AND \"resources\".\"domain\" = ";
    sql.BindText("") << " AND \"resources\".\"project\" = ";
    sql.BindText(project) << " AND \"resources\".\"workflow\" = ";
    sql.BindText("") << " AND \"resources\".\"launch_plan\" = ";
    sql.BindText("") << " ORDER BY \"resources\".\"priority\" DESC, \"resources\".\"id\" LIMIT 1";
    auto found = QueryOne(sql);
    if (!found.ok()) return found.status();
    if (!found.value()) return NotFoundResource(key);
    return *found.value();
  }

  Status LockKey(const ResourceKey& key) override {
    if (pool_->dialect() != Dialect::kPostgres) return Status::Ok();
    return pool_->Run([&](Conn& conn) -> Status { return AdvisoryLock(conn, key); });
  }

  Status Delete(const ResourceKey& key) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      if (conn.dialect() == Dialect::kPostgres) {
        if (Status s = AdvisoryLock(conn, key); !s.ok()) return s;
      }
      Sql sql(conn.dialect());
      sql << "DELETE FROM \"resources\" WHERE \"resources\".\"resource_type\" = ";
      sql.BindText(key.resource_type);
      for (auto [column, value] :
           {std::pair<const char*, const std::string*>{"project", &key.project},
            {"domain", &key.domain},
            {"workflow", &key.workflow},
            {"launch_plan", &key.launch_plan}}) {
        if (value->empty()) continue;
        sql << " AND \"resources\".\"" << column << "\" = ";
        sql.BindText(*value);
      }
      conn.Exec(sql);
      return Status::Ok();
    });
  }

  StatusOr<std::vector<ResourceModel>> ListAll(const std::string& resource_type) override {
    Sql sql(pool_->dialect());
    sql << "SELECT " << SelectResource(sql.dialect())
        << " FROM \"resources\" WHERE \"resources\".\"resource_type\" = ";
    sql.BindText(resource_type)
        << " ORDER BY \"resources\".\"priority\" DESC, \"resources\".\"id\" ASC";
    std::vector<ResourceModel> out;
    Status status = pool_->Run([&](Conn& conn) -> Status {
      for (auto& row : conn.Query(sql, kResourceColumns.size())) {
        out.push_back(ReadResource(conn.dialect(), row));
      }
      return Status::Ok();
    });
    if (!status.ok()) return status;
    return out;
  }

 private:
  // A transaction-scoped PostgreSQL advisory lock named after the key: merges and deletes of one
  // row take turns.
  static Status AdvisoryLock(Conn& conn, const ResourceKey& key) {
    Sql sql(conn.dialect());
    // The function returns void, which is not read: one integer is selected instead.
    sql << "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext(";
    sql.BindText("resources/" + key.project + "/" + key.domain + "/" + key.workflow + "/" +
                 key.launch_plan + "/" + key.resource_type)
        << "))) AS \"flyte_lock\"";
    conn.Query(sql, 1);
    return Status::Ok();
  }
  StatusOr<std::optional<ResourceModel>> QueryOne(const Sql& sql) {
    std::optional<ResourceModel> found;
    Status status = pool_->Run([&](Conn& conn) -> Status {
      auto rows = conn.Query(sql, kResourceColumns.size());
      if (!rows.empty()) found = ReadResource(conn.dialect(), rows[0]);
      return Status::Ok();
    });
    if (!status.ok()) return status;
    return found;
  }

  std::shared_ptr<Pool> pool_;
};

}  // namespace

std::unique_ptr<ResourceRepo> MakeResourceRepo(std::shared_ptr<Pool> pool) {
  return std::make_unique<SqlResourceRepo>(std::move(pool));
}

}  // namespace flyte::core::db
