// OpenDatabase: upstream's dialect selection, DSN and create-if-missing (repositories/
// database.go, flytestdlib/database/config.go), and the Database object the CLI and host use.
#include "flyte/core/db/database.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <libpq-fe.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "connection.h"
#include "flyte/core/config.h"
#include "flyte/plugin/go_compat.h"
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

// flytestdlib config.Duration: "1h", "30m", "10s", "1h30m", or a number of nanoseconds. The
// schema refuses other text before this runs; what Go's parser still refuses (or a number out
// of range) keeps `fallback`.
std::chrono::seconds Duration(const nlohmann::json* node, const char* key,
                              std::chrono::seconds fallback) {
  const nlohmann::json* v = Child(node, key);
  if (!v) return fallback;
  if (v->is_number()) {
    const double seconds = v->get<double>() / 1e9;
    if (!std::isfinite(seconds) || std::fabs(seconds) > 9.2e9) return fallback;
    return std::chrono::seconds(static_cast<int64_t>(seconds));
  }
  if (!v->is_string()) return fallback;
  const auto ns = plugin::GoParseDuration(v->get<std::string>());
  if (!ns) return fallback;
  return std::chrono::seconds(*ns / 1000000000LL);
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

// `database.postgres.options` as upstream's driver (pgx) reads it: libpq's own keywords are
// passed on; the keywords pgx keeps for itself (how it prepares statements, its caches) do not
// apply to libpq and are dropped; any other key is a server setting pgx sends at connection
// start (search_path, statement_timeout, ...), which libpq sends through its `options` keyword
// as "-c key=value". Entries are `key=value` separated by blanks; a value may be single-quoted
// with backslash escapes, as in a libpq conninfo string.
struct TranslatedOptions {
  std::string conninfo;        // libpq's keywords, as conninfo text
  std::string server_options;  // the value of libpq's `options` keyword, if any
};
TranslatedOptions TranslateOptions(const std::string& options) {
  static const std::set<std::string> libpq_keys = [] {
    std::set<std::string> keys;
    if (PQconninfoOption* defaults = PQconndefaults()) {
      for (PQconninfoOption* o = defaults; o->keyword != nullptr; ++o) keys.insert(o->keyword);
      PQconninfoFree(defaults);
    }
    return keys;
  }();
  static const std::set<std::string> pgx_only = {"default_query_exec_mode", "statement_cache_capacity",
                                                 "description_cache_capacity", "min_read_buffer_size",
                                                 "servicefile"};
  std::vector<std::pair<std::string, std::string>> kept;
  std::string settings;  // "-c key=value" for the server
  std::string server_options;
  size_t i = 0;
  const auto blank = [&](size_t at) { return at < options.size() && std::isspace(static_cast<unsigned char>(options[at])); };
  while (i < options.size()) {
    while (blank(i)) ++i;
    if (i >= options.size()) break;
    size_t eq = i;
    while (eq < options.size() && options[eq] != '=' && !blank(eq)) ++eq;
    std::string key = options.substr(i, eq - i);
    i = eq;
    while (blank(i)) ++i;
    if (i < options.size() && options[i] == '=') ++i;
    while (blank(i)) ++i;
    std::string value;
    if (i < options.size() && options[i] == '\'') {
      for (++i; i < options.size() && options[i] != '\''; ++i) {
        if (options[i] == '\\' && i + 1 < options.size()) ++i;
        value.push_back(options[i]);
      }
      ++i;
    } else {
      for (; i < options.size() && !blank(i); ++i) {
        if (options[i] == '\\' && i + 1 < options.size()) ++i;
        value.push_back(options[i]);
      }
    }
    if (key.empty()) continue;
    if (key == "options") {
      server_options = value;
    } else if (libpq_keys.count(key) != 0) {
      kept.emplace_back(key, value);
    } else if (pgx_only.count(key) == 0) {
      std::string escaped;
      for (char c : value) {
        if (c == ' ' || c == '\\') escaped.push_back('\\');
        escaped.push_back(c);
      }
      settings += (settings.empty() ? "" : " ") + std::string("-c ") + key + "=" + escaped;
    }
  }
  if (!settings.empty()) server_options += (server_options.empty() ? "" : " ") + settings;
  TranslatedOptions out;
  out.server_options = server_options;
  for (const auto& [key, value] : kept) out.conninfo += (out.conninfo.empty() ? "" : " ") + key + "=" + ConnValue(value);
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
    const TranslatedOptions translated = TranslateOptions(options);
    if (!translated.conninfo.empty()) dsn += " " + translated.conninfo;
    // First, not last: SOCI's PostgreSQL session mangles a connection string that ends in a
    // quoted value holding an escaped blank ("... options='-c a=1\\ 2'"). No other part of the
    // string sets `options`, so where it stands changes nothing else.
    if (!translated.server_options.empty()) dsn = "options=" + ConnValue(translated.server_options) + " " + dsn;
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
  // Indexes of our own for the console's list queries (upstream's schema has none that serve
  // them). On PostgreSQL each is built CONCURRENTLY, on its own outside any transaction, so a
  // database in use (upstream's, or ours at start) goes on taking writes meanwhile; an index
  // such a build left invalid (an interrupted run) is dropped and built again.
  Status EnsureListIndexes(const ProgressFn& progress) override {
    struct Index {
      std::string name, table, columns;
    };
    std::vector<Index> indexes;
    for (const char* table : {"tasks", "workflows", "launch_plans"}) {
      const std::string t(table);
      indexes.push_back({"flyteadmin_cpp_" + t + "_pd_created_idx", t, "project, domain, created_at"});
      indexes.push_back({"flyteadmin_cpp_" + t + "_pdn_created_idx", t, "project, domain, name, created_at"});
    }
    // Executions filtered by launch plan or workflow name (any project's, as upstream joins
    // them) start from the ids of that name's versions.
    for (const char* table : {"workflows", "launch_plans"}) {
      const std::string t(table);
      indexes.push_back({"flyteadmin_cpp_" + t + "_name_idx", t, "name"});
    }
    // The console's ListExecutions/CountExecutions: project, domain and state = ACTIVE (the
    // manager adds it), newest first by created_at or execution_created_at, optionally a
    // phase filter, optionally joined to launch_plans/workflows by name. Ordered index scans
    // stop after a page; for a launch plan's or workflow's executions the scan starts from
    // the matching launch plan / workflow rows and walks each one's executions newest first.
    // The phase after the sort column: a filter on several phases (the console's "failed":
    // FAILED, ABORTED, TIMED_OUT) walks the newest entries and skips other phases' rows in the
    // index, without reading them from the table (on SQLite 517 -> 161 us for a page of 50
    // among 10% matching rows).
    std::vector<std::string> superseded = {"flyteadmin_cpp_executions_pds_created_at_idx"};
    indexes.push_back({"flyteadmin_cpp_executions_pds_created_at_phase_idx", "executions",
                       "execution_project, execution_domain, state, created_at, phase"});
    indexes.push_back({"flyteadmin_cpp_executions_pds_execution_created_at_idx", "executions",
                       "execution_project, execution_domain, state, execution_created_at"});
    indexes.push_back({"flyteadmin_cpp_executions_pdsp_created_at_idx", "executions",
                       "execution_project, execution_domain, state, phase, created_at"});
    // A launch plan's or workflow's executions, as the console asks for them: with the
    // project, domain and state in the key, each plan's newest rows are the index's last entries.
    // Without them PostgreSQL estimates a plan's share of the project's rows as if the two were
    // unrelated (a plan's executions are all in its project), expects a handful, and reads and
    // sorts every execution of the plan instead (24 ms for 4,800 rows, against 0.3 ms).
    for (const char* ref : {"launch_plan_id", "workflow_id"}) {
      const std::string r(ref);
      indexes.push_back({"flyteadmin_cpp_executions_" + r + "_pds_created_at_idx", "executions",
                         r + ", execution_project, execution_domain, state, created_at"});
      superseded.push_back("flyteadmin_cpp_executions_" + r + "_created_at_idx");
    }
    if (dialect_ == db::Dialect::kSqlite) {
      Status s = pool_->RunTx([&](Conn& conn) -> Status {
        for (const auto& i : indexes) {
          conn.Exec("CREATE INDEX IF NOT EXISTS \"" + i.name + "\" ON \"" + i.table + "\" (" + i.columns + ")");
        }
        for (const auto& name : superseded) conn.Exec("DROP INDEX IF EXISTS \"" + name + "\"");
        return Status::Ok();
      });
      if (!s.ok()) return s;
      if (progress) progress("list indexes present");
      return Status::Ok();
    }
    size_t built = 0;
    for (const auto& i : indexes) {
      Status s = pool_->Run([&](Conn& conn) -> Status {
        Sql state(conn.dialect());
        state << "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(";
        state.BindText("\"" + i.name + "\"");
        state << ")";
        auto rows = conn.Query(state, 1);
        if (!rows.empty() && rows[0][0] && (*rows[0][0] == "t" || *rows[0][0] == "true" || *rows[0][0] == "1")) {
          return Status::Ok();
        }
        if (!rows.empty()) conn.Exec("DROP INDEX CONCURRENTLY IF EXISTS \"" + i.name + "\"");
        conn.Exec("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"" + i.name + "\" ON \"" + i.table + "\" (" +
                  i.columns + ")");
        ++built;
        if (progress) progress("index " + i.name + " built");
        return Status::Ok();
      });
      if (!s.ok()) return s;
    }
    // Indexes of earlier versions that those above replace, once their replacements are valid.
    for (const auto& name : superseded) {
      Status s = pool_->Run([&](Conn& conn) -> Status {
        Sql exists(conn.dialect());
        exists << "SELECT 1 FROM pg_class c WHERE c.oid = to_regclass(";
        exists.BindText("\"" + name + "\"");
        exists << ")";
        if (conn.Query(exists, 1).empty()) return Status::Ok();
        conn.Exec("DROP INDEX CONCURRENTLY IF EXISTS \"" + name + "\"");
        if (progress) progress("index " + name + " dropped (superseded)");
        return Status::Ok();
      });
      if (!s.ok()) return s;
    }
    if (progress) progress(built == 0 ? "list indexes present" : "list indexes present (" + std::to_string(built) + " built)");
    return Status::Ok();
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
