// OpenDatabase: upstream's dialect selection, DSN and create-if-missing (repositories/
// database.go, flytestdlib/database/config.go), and the Database object the CLI and host use.
#include "flyte/core/db/database.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "connection.h"
#include "flyte/core/config.h"
#include "migrations.h"
#include "repositories.h"
#include "sqlite_vfs.h"

namespace flyte::core::db {

using plugin::Status;
using plugin::StatusCode;
using plugin::StatusOr;

Database::~Database() = default;

namespace {

const nlohmann::json* Child(const nlohmann::json* node, const char* key) {
  if (!node || !node->is_object()) return nullptr;
  auto it = node->find(key);
  if (it == node->end() || it->is_null()) return nullptr;
  return &*it;
}

std::string Str(const nlohmann::json* node, const char* key, std::string fallback = "") {
  const nlohmann::json* v = Child(node, key);
  if (!v) return fallback;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number_integer()) return std::to_string(v->get<int64_t>());
  return fallback;
}

int64_t Int(const nlohmann::json* node, const char* key, int64_t fallback) {
  const nlohmann::json* v = Child(node, key);
  if (!v) return fallback;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number()) return static_cast<int64_t>(v->get<double>());
  if (v->is_string()) {
    try {
      return std::stoll(v->get<std::string>());
    } catch (...) {
    }
  }
  return fallback;
}

// flytestdlib config.Duration: "1h", "30m", "10s", "1h30m", or a number of nanoseconds.
std::chrono::seconds Duration(const nlohmann::json* node, const char* key,
                              std::chrono::seconds fallback) {
  const nlohmann::json* v = Child(node, key);
  if (!v) return fallback;
  if (v->is_number()) {
    return std::chrono::seconds(static_cast<int64_t>(v->get<double>() / 1e9));
  }
  if (!v->is_string()) return fallback;
  const std::string s = v->get<std::string>();
  double total = 0;
  size_t pos = 0;
  bool any = false;
  while (pos < s.size()) {
    size_t used = 0;
    double n;
    try {
      n = std::stod(s.substr(pos), &used);
    } catch (...) {
      return fallback;
    }
    pos += used;
    std::string unit;
    while (pos < s.size() && std::isalpha(static_cast<unsigned char>(s[pos]))) unit += s[pos++];
    if (unit == "h") {
      total += n * 3600;
    } else if (unit == "m") {
      total += n * 60;
    } else if (unit == "s" || unit.empty()) {
      total += n;
    } else if (unit == "ms") {
      total += n / 1e3;
    } else if (unit == "us" || unit == "µs") {
      total += n / 1e6;
    } else if (unit == "ns") {
      total += n / 1e9;
    } else {
      return fallback;
    }
    any = true;
  }
  return any ? std::chrono::seconds(static_cast<int64_t>(total)) : fallback;
}

// A libpq conninfo value, quoted when it must be.
std::string ConnValue(const std::string& v) {
  bool plain = !v.empty();
  for (char c : v) {
    if (c == ' ' || c == '\'' || c == '\\' || c == '\t' || c == '\n') plain = false;
  }
  if (plain) return v;
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

struct PostgresSettings {
  std::string host = "localhost";
  int64_t port = 30001;
  std::string dbname = "postgres";
  std::string user = "postgres";
  std::string password = "postgres";
  std::string password_path;
  std::string options = "sslmode=disable";

  std::string Dsn(const std::string& db, const std::string& resolved_password) const {
    std::string dsn = "host=" + ConnValue(host) + " port=" + std::to_string(port) +
                      " dbname=" + ConnValue(db) + " user=" + ConnValue(user);
    if (resolved_password.empty()) return dsn + " sslmode=disable";
    dsn += " password=" + ConnValue(resolved_password);
    if (!options.empty()) dsn += " " + options;
    return dsn;
  }
};

StatusOr<std::string> ResolvePassword(const PostgresSettings& pg) {
  if (pg.password_path.empty()) return pg.password;
  std::ifstream in(pg.password_path, std::ios::binary);
  if (!in) {
    return Status(StatusCode::kInvalidArgument,
                  "missing database password at specified path [" + pg.password_path + "]");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  const char* ws = " \t\r\n\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return std::string();
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

class DatabaseImpl final : public Database {
 public:
  DatabaseImpl(std::shared_ptr<Pool> pool, db::Dialect dialect)
      : pool_(std::move(pool)), dialect_(dialect), repos_(MakeRepositories(pool_)) {}

  std::string Dialect() const override {
    return dialect_ == db::Dialect::kSqlite ? "sqlite" : "postgres";
  }
  Status MigrateUp(const ProgressFn& progress) override { return RunMigrateUp(*pool_, progress); }
  Status EnsureListIndexes(const ProgressFn& progress) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      for (const char* table : {"tasks", "workflows", "launch_plans"}) {
        const std::string t(table);
        conn.Exec("CREATE INDEX IF NOT EXISTS \"flyteadmin_cpp_" + t + "_pd_created_idx\" ON \"" + t +
                  "\" (project, domain, created_at)");
        conn.Exec("CREATE INDEX IF NOT EXISTS \"flyteadmin_cpp_" + t + "_pdn_created_idx\" ON \"" + t +
                  "\" (project, domain, name, created_at)");
      }
      // The console's ListExecutions/CountExecutions: project, domain and state = ACTIVE (the
      // manager adds it), newest first by created_at or execution_created_at, optionally a
      // phase filter, optionally joined to launch_plans/workflows by name. Ordered index scans
      // stop after a page; for a launch plan's or workflow's executions the scan starts from
      // the matching launch plan / workflow rows and walks each one's executions newest first.
      for (const char* sort : {"created_at", "execution_created_at"}) {
        const std::string c(sort);
        conn.Exec("CREATE INDEX IF NOT EXISTS \"flyteadmin_cpp_executions_pds_" + c +
                  "_idx\" ON \"executions\" (execution_project, execution_domain, state, " + c + ")");
      }
      conn.Exec(
          "CREATE INDEX IF NOT EXISTS \"flyteadmin_cpp_executions_pdsp_created_at_idx\" ON "
          "\"executions\" (execution_project, execution_domain, state, phase, created_at)");
      for (const char* ref : {"launch_plan_id", "workflow_id"}) {
        const std::string r(ref);
        conn.Exec("CREATE INDEX IF NOT EXISTS \"flyteadmin_cpp_executions_" + r +
                  "_created_at_idx\" ON \"executions\" (" + r + ", created_at)");
      }
      if (progress) progress("list indexes present");
      return Status::Ok();
    });
  }
  Status RollbackLast(const ProgressFn& progress) override {
    return RunRollbackLast(*pool_, progress);
  }
  StatusOr<std::vector<std::string>> AppliedMigrations() override {
    return ReadAppliedMigrations(*pool_);
  }
  Status SeedProjects(const std::vector<std::string>& names) override {
    return SeedProjectRows(*pool_, names);
  }
  std::shared_ptr<plugin::db::Repositories> Repositories() override { return repos_; }
  GroupCommitStats GroupCommit() override {
    const Pool::GroupStats s = pool_->group_stats();
    return {s.transactions, s.operations, s.wal_syncs, s.pipelined, s.pipeline_serial, s.pipeline_retried};
  }

 private:
  std::shared_ptr<Pool> pool_;
  db::Dialect dialect_;
  std::shared_ptr<plugin::db::Repositories> repos_;
};

// Connects; when that fails because the database is missing, creates it through `postgres`.
Status ConnectPostgres(Pool& pool, const PostgresSettings& pg, const std::string& password) {
  try {
    pool.Warm();
    return Status::Ok();
  } catch (const std::exception& first_error) {
    Status original = MapError(first_error, Dialect::kPostgres);
    if (pg.dbname == "postgres") return original;
    bool created = false;
    try {
      soci::session admin(soci::postgresql, pg.Dsn("postgres", password));
      int exists = 0;
      std::string name = pg.dbname;
      admin << "SELECT count(*) FROM pg_database WHERE datname = :name", soci::use(name),
          soci::into(exists);
      if (exists != 0) return original;  // it exists: the failure was something else
      try {
        admin << ("CREATE DATABASE " + QuoteIdent(pg.dbname));
      } catch (const soci::postgresql_soci_error& e) {
        if (e.sqlstate() != "42P04") throw;  // duplicate_database: someone else created it
      }
      created = true;
    } catch (const std::exception&) {
      return original;
    }
    if (!created) return original;
    try {
      pool.Warm();
      return Status::Ok();
    } catch (const std::exception& e) {
      return MapError(e, Dialect::kPostgres);
    }
  }
}

}  // namespace

StatusOr<std::shared_ptr<Database>> OpenDatabase(const core::Config& config) {
  const nlohmann::json* database = Child(&config.root(), "database");
  PoolOptions options;
  options.max_open = static_cast<int>(Int(database, "maxOpenConnections", 100));
  options.max_idle = static_cast<int>(Int(database, "maxIdleConnections", 10));
  options.max_lifetime = Duration(database, "connMaxLifeTime", std::chrono::hours(1));

  std::string sqlite_file = Str(Child(database, "sqlite"), "file");
  if (!sqlite_file.empty()) {
    if (sqlite_file.find('"') != std::string::npos) {
      return Status(StatusCode::kInvalidArgument,
                    "database.sqlite.file must not contain a double quote: " + sqlite_file);
    }
    // Upstream leaves creating the directory to the operator; the embedded default config
    // points into a directory of the working directory, so create it.
    std::error_code ec;
    auto parent = std::filesystem::path(sqlite_file).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    options.dialect = Dialect::kSqlite;
    options.connect_string = "db=\"" + SqliteUriThroughGatheringWal(sqlite_file) + "\" timeout=30";
    auto pool = std::make_shared<Pool>(options);
    try {
      pool->Warm();
    } catch (const std::exception& e) {
      Status s = MapError(e, Dialect::kSqlite);
      return Status(StatusCode::kUnavailable,
                    "cannot open sqlite database " + sqlite_file + ": " + s.message());
    }
    return std::shared_ptr<Database>(std::make_shared<DatabaseImpl>(pool, Dialect::kSqlite));
  }

  PostgresSettings pg;
  const nlohmann::json* pgj = Child(database, "postgres");
  pg.host = Str(pgj, "host", pg.host);
  pg.port = Int(pgj, "port", pg.port);
  pg.dbname = Str(pgj, "dbname", pg.dbname);
  pg.user = Str(pgj, "username", pg.user);
  pg.password = Str(pgj, "password", pg.password);
  pg.password_path = Str(pgj, "passwordPath", pg.password_path);
  pg.options = Str(pgj, "options", pg.options);
  // Deprecated flat keys override the postgres section when set (config.go GetConfig).
  if (auto v = Str(database, "host"); !v.empty()) pg.host = v;
  if (auto v = Int(database, "port", 0); v != 0) pg.port = v;
  if (auto v = Str(database, "dbname"); !v.empty()) pg.dbname = v;
  if (auto v = Str(database, "username"); !v.empty()) pg.user = v;
  if (auto v = Str(database, "password"); !v.empty()) pg.password = v;
  if (auto v = Str(database, "passwordPath"); !v.empty()) pg.password_path = v;
  if (auto v = Str(database, "options"); !v.empty()) pg.options = v;
  if (pg.dbname.empty()) {
    return Status(StatusCode::kInvalidArgument, "database.postgres.dbname is empty");
  }

  auto password = ResolvePassword(pg);
  if (!password.ok()) return password.status();
  options.dialect = Dialect::kPostgres;
  options.connect_string = pg.Dsn(pg.dbname, *password);
  auto pool = std::make_shared<Pool>(options);
  if (Status s = ConnectPostgres(*pool, pg, *password); !s.ok()) {
    return Status(s.code() == StatusCode::kUnknown ? StatusCode::kUnavailable : s.code(),
                  "cannot connect to postgres database " + pg.dbname + " at " + pg.host + ":" +
                      std::to_string(pg.port) + ": " + s.message());
  }
  return std::shared_ptr<Database>(std::make_shared<DatabaseImpl>(pool, Dialect::kPostgres));
}

}  // namespace flyte::core::db
