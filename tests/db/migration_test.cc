// Migrations, seed-projects and OpenDatabase against SQLite and a real PostgreSQL.
#include <algorithm>
#include <set>

#include "db_schema_expectations.h"
#include "db_test_util.h"

namespace flyte::test::db {
namespace {

using core::db::UpstreamMigrationIds;

std::set<std::string> TableNames(TestDb& t) {
  auto raw = t.Raw();
  auto rows = t.pg() ? Strings(*raw,
                               "SELECT table_name FROM information_schema.tables WHERE "
                               "table_schema = current_schema() AND table_type = 'BASE TABLE'")
                     : Strings(*raw,
                               "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                               "LIKE 'sqlite_%'");
  return {rows.begin(), rows.end()};
}

std::set<std::string> IndexNames(TestDb& t) {
  auto raw = t.Raw();
  auto rows = t.pg() ? Strings(*raw,
                               "SELECT indexname FROM pg_indexes WHERE schemaname = "
                               "current_schema() AND indexname NOT LIKE '%_pkey'")
                     : Strings(*raw,
                               "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT "
                               "LIKE 'sqlite_autoindex%'");
  return {rows.begin(), rows.end()};
}

// Every column of every table with its type, nullability and default, as PostgreSQL reports it.
std::vector<std::string> PostgresColumns(TestDb& t) {
  auto raw = t.Raw();
  return Strings(*raw,
                 "SELECT cl.relname || '.' || a.attname || ' ' || format_type(a.atttypid, "
                 "a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || "
                 "COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '') FROM pg_attribute a "
                 "JOIN pg_class cl ON a.attrelid = cl.oid JOIN pg_namespace n ON cl.relnamespace = "
                 "n.oid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                 "WHERE n.nspname = current_schema() AND cl.relkind = 'r' AND a.attnum > 0 AND NOT "
                 "a.attisdropped ORDER BY cl.relname, a.attnum");
}

std::vector<std::string> PostgresIndexDefs(TestDb& t) {
  auto raw = t.Raw();
  return Strings(*raw,
                 "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY "
                 "indexname");
}

std::vector<std::string> SqliteSchema(TestDb& t) {
  auto raw = t.Raw();
  return Strings(*raw, "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name");
}

std::vector<std::string> Fingerprint(TestDb& t) {
  if (!t.pg()) return SqliteSchema(t);
  auto cols = PostgresColumns(t);
  auto idx = PostgresIndexDefs(t);
  cols.insert(cols.end(), idx.begin(), idx.end());
  return cols;
}

std::vector<std::string> Applied(TestDb& t) {
  auto applied = t.db().AppliedMigrations();
  REQUIRE(applied.ok());
  return *applied;
}

TEST_CASE(
    "MigrateUp on an empty database creates every upstream table and index and records "
    "every migration id in order",
    "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend);
  REQUIRE(Applied(t).empty());

  std::vector<std::string> lines;
  auto status = t.db().MigrateUp([&](const std::string& line) { lines.push_back(line); });
  REQUIRE(status.ok());
  CHECK(Applied(t) == UpstreamMigrationIds());
  CHECK(UpstreamMigrationIds().size() == 66);
  CHECK(lines.back() == "applied 66 migrations");
  REQUIRE(lines.size() == 67);
  CHECK(lines.front() == "[1/66] applied migration 2019-05-22-projects");
  CHECK(lines[65] == "[66/66] applied migration 2025-05-29-add-index-executions-phase");

  std::set<std::string> expected_tables(ExpectedTables().begin(), ExpectedTables().end());
  CHECK(TableNames(t) == expected_tables);
  std::set<std::string> expected_indexes(ExpectedIndexNames().begin(), ExpectedIndexNames().end());
  CHECK(IndexNames(t) == expected_indexes);

  // Rows land in the order the migrations table is written.
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT count(*) FROM migrations") == 66);

  if (t.pg()) {
    CHECK(PostgresColumns(t) == ExpectedPostgresColumns());
    CHECK(PostgresIndexDefs(t) == ExpectedPostgresIndexDefs());
    // Every id sequence is bigint, as after 2023-06-19-id-sequence-to-bigint.
    CHECK(Count(*raw,
                "SELECT count(*) FROM pg_sequences WHERE data_type <> CAST('bigint' AS regtype)") ==
          0);
    CHECK(Count(*raw, "SELECT count(*) FROM pg_sequences") == 16);
  } else {
    CHECK(SqliteSchema(t) == ExpectedSqliteSchema());
  }
}

TEST_CASE("MigrateUp twice leaves the database as the first run left it", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto before = Fingerprint(t);
  std::vector<std::string> lines;
  REQUIRE(t.db().MigrateUp([&](const std::string& l) { lines.push_back(l); }).ok());
  CHECK(lines == std::vector<std::string>{"database is up to date (66 migrations recorded)"});
  CHECK(Fingerprint(t) == before);
  CHECK(Applied(t) == UpstreamMigrationIds());
}

TEST_CASE("RollbackLast undoes the last migration and MigrateUp reapplies it", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto full = Fingerprint(t);

  std::vector<std::string> lines;
  REQUIRE(t.db().RollbackLast([&](const std::string& l) { lines.push_back(l); }).ok());
  CHECK(lines ==
        std::vector<std::string>{"rolled back migration 2025-05-29-add-index-executions-phase"});
  CHECK(IndexNames(t).count("idx_executions_phase") == 0);
  auto ids = UpstreamMigrationIds();
  CHECK(Applied(t) == std::vector<std::string>(ids.begin(), ids.end() - 1));

  // Upstream's rollback of 2024-08-08 does nothing; the one before it cannot be rolled back.
  REQUIRE(t.db().RollbackLast(nullptr).ok());
  CHECK(Applied(t) == std::vector<std::string>(ids.begin(), ids.end() - 2));
  auto refused = t.db().RollbackLast(nullptr);
  CHECK(refused.code() == plugin::StatusCode::kFailedPrecondition);
  CHECK_THAT(refused.message(), Catch::Contains("2024-06-06-drop-admin-tags"));
  CHECK(Applied(t) == std::vector<std::string>(ids.begin(), ids.end() - 2));

  lines.clear();
  REQUIRE(t.db().MigrateUp([&](const std::string& l) { lines.push_back(l); }).ok());
  CHECK(lines ==
        std::vector<std::string>{"[65/66] applied migration 2024-08-08-remove-input-uri-for-start-nodes",
                                 "[66/66] applied migration 2025-05-29-add-index-executions-phase",
                                 "applied 2 migrations"});
  CHECK(Applied(t) == UpstreamMigrationIds());
  CHECK(Fingerprint(t) == full);
}

TEST_CASE("RollbackLast on a database with no migrations reports that none ran", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend);
  auto status = t.db().RollbackLast(nullptr);
  CHECK(status.code() == plugin::StatusCode::kNotFound);
}

TEST_CASE("A database on which FlyteAdmin already ran every migration is left untouched",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend);
  {
    auto raw = t.Raw();
    // What gormigrate creates, filled with every upstream id; no other table.
    if (t.pg()) {
      *raw << "CREATE TABLE \"migrations\" (\"id\" varchar(255),PRIMARY KEY (\"id\"))";
    } else {
      *raw << "CREATE TABLE `migrations` (`id` text,PRIMARY KEY (`id`))";
    }
    for (const auto& id : UpstreamMigrationIds()) {
      std::string v = id;
      *raw << "INSERT INTO migrations (id) VALUES (:id)", soci::use(v);
    }
    *raw << "CREATE TABLE marker (x integer)";
  }
  std::vector<std::string> lines;
  REQUIRE(t.db().MigrateUp([&](const std::string& l) { lines.push_back(l); }).ok());
  CHECK(lines == std::vector<std::string>{"database is up to date (66 migrations recorded)"});
  CHECK(TableNames(t) == std::set<std::string>{"migrations", "marker"});
  CHECK(Applied(t) == UpstreamMigrationIds());
}

TEST_CASE("A database migrated by an older FlyteAdmin receives only the missing migrations",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto full = Fingerprint(t);
  {
    // As a v1.15 FlyteAdmin leaves it: no phase index, its id absent.
    auto raw = t.Raw();
    *raw << "DROP INDEX idx_executions_phase";
    *raw << "DELETE FROM migrations WHERE id = '2025-05-29-add-index-executions-phase'";
  }
  std::vector<std::string> lines;
  REQUIRE(t.db().MigrateUp([&](const std::string& l) { lines.push_back(l); }).ok());
  CHECK(lines == std::vector<std::string>{"[66/66] applied migration 2025-05-29-add-index-executions-phase",
                                          "applied 1 migrations"});
  CHECK(Fingerprint(t) == full);
}

TEST_CASE("A PostgreSQL database from before the 2022 id migration gets bigint ids",
          "[integration]") {
  TestDb t("postgres");
  {
    auto raw = t.Raw();
    *raw << "CREATE TABLE projects (id serial, created_at timestamptz, updated_at timestamptz, "
            "deleted_at timestamptz, identifier text NOT NULL, name text, description "
            "varchar(300), PRIMARY KEY (identifier))";
    *raw << "INSERT INTO projects (identifier, name) VALUES ('old', 'old')";
    *raw << "CREATE TABLE \"migrations\" (\"id\" varchar(255),PRIMARY KEY (\"id\"))";
    for (const char* id : {"2019-05-22-projects", "2018-05-23-tasks", "2018-05-23-workflows",
                           "2019-10-09-project-description"}) {
      std::string v = id;
      *raw << "INSERT INTO migrations (id) VALUES (:id)", soci::use(v);
    }
  }
  t.MigrateOrFail();
  CHECK(Applied(t) == UpstreamMigrationIds());
  auto raw = t.Raw();
  std::string type;
  *raw << "SELECT data_type FROM information_schema.columns WHERE table_name = 'projects' AND "
          "column_name = 'id'",
      soci::into(type);
  CHECK(type == "bigint");
  CHECK(Count(*raw, "SELECT count(*) FROM projects WHERE state = 0 AND identifier = 'old'") == 1);
  CHECK(Count(*raw,
              "SELECT count(*) FROM information_schema.columns WHERE table_name = "
              "'projects' AND column_name IN ('labels', 'state')") == 2);
}

TEST_CASE("SeedProjects inserts missing projects once and leaves existing ones alone",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  plugin::db::ProjectModel existing;
  existing.identifier = "existing";
  existing.name = "Existing";
  existing.description = "kept";
  REQUIRE(t.repos().Projects().Create(existing).ok());

  REQUIRE(t.db().SeedProjects({"flytesnacks", "existing", "other"}).ok());
  REQUIRE(t.db().SeedProjects({"flytesnacks", "existing", "other"}).ok());

  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT count(*) FROM projects") == 3);
  auto snacks = t.repos().Projects().Get("flytesnacks");
  REQUIRE(snacks.ok());
  CHECK(snacks->name == "flytesnacks");
  CHECK(snacks->description == "flytesnacks description");
  CHECK(snacks->state == 0);
  CHECK_FALSE(snacks->labels.has_value());
  auto kept = t.repos().Projects().Get("existing");
  REQUIRE(kept.ok());
  CHECK(kept->description == "kept");
  CHECK(kept->name == "Existing");
}

TEST_CASE("OpenDatabase creates a missing PostgreSQL database through the postgres database",
          "[integration]") {
  int port = PostgresPort();
  std::string name = UniqueName("flyte_created");
  std::string admin_dsn =
      "host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres user=postgres";
  soci::session admin(soci::postgresql, admin_dsn);
  auto exists = [&] {
    long long n = 0;
    admin << "SELECT count(*) FROM pg_database WHERE datname = :n", soci::use(name), soci::into(n);
    return n;
  };
  REQUIRE(exists() == 0);
  {
    auto db = core::db::OpenDatabase(ConfigFrom(
        "database:\n  sqlite:\n    file: \"\"\n  postgres:\n    host: 127.0.0.1\n    port: " +
        std::to_string(port) + "\n    dbname: " + name +
        "\n    username: postgres\n    password: \"\"\n"));
    REQUIRE(db.ok());
    CHECK((*db)->Dialect() == "postgres");
    REQUIRE((*db)->MigrateUp(nullptr).ok());
  }
  CHECK(exists() == 1);
  admin << ("DROP DATABASE \"" + name + "\" WITH (FORCE)");
}

TEST_CASE("OpenDatabase selects the backend and reads the connection settings as upstream",
          "[integration]") {
  auto dir = std::filesystem::temp_directory_path() / UniqueName("flyte-db-config");
  std::filesystem::create_directories(dir);
  SECTION("a non-empty sqlite.file selects SQLite") {
    auto db = core::db::OpenDatabase(
        ConfigFrom("database:\n  sqlite:\n    file: " + (dir / "a.db").string() + "\n"));
    REQUIRE(db.ok());
    CHECK((*db)->Dialect() == "sqlite");
  }
  SECTION("deprecated flat keys override the postgres section") {
    int port = PostgresPort();
    auto db = core::db::OpenDatabase(ConfigFrom(
        "database:\n  sqlite:\n    file: \"\"\n  port: " + std::to_string(port) +
        "\n  host: 127.0.0.1\n  password: \"\"\n  postgres:\n    host: nowhere.invalid\n"
        "    port: 1\n    dbname: postgres\n    username: postgres\n    password: \"\"\n"));
    REQUIRE(db.ok());
    CHECK((*db)->Dialect() == "postgres");
  }
  SECTION("the password comes from passwordPath, trimmed") {
    int port = PostgresPort();
    std::ofstream(dir / "pw") << "  secret\n";
    auto db = core::db::OpenDatabase(ConfigFrom(
        "database:\n  sqlite:\n    file: \"\"\n  postgres:\n    host: 127.0.0.1\n    port: " +
        std::to_string(port) +
        "\n    dbname: postgres\n    username: postgres\n    passwordPath: " +
        (dir / "pw").string() + "\n"));
    // Trust authentication accepts any password.
    REQUIRE(db.ok());
  }
  SECTION("a missing passwordPath is a configuration error") {
    auto db =
        core::db::OpenDatabase(ConfigFrom("database:\n  sqlite:\n    file: \"\"\n  postgres:\n    "
                                          "host: 127.0.0.1\n    passwordPath: " +
                                          (dir / "missing").string() + "\n"));
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == plugin::StatusCode::kInvalidArgument);
    CHECK_THAT(db.status().message(), Catch::Contains("missing database password"));
  }
  SECTION("an unreachable server is UNAVAILABLE") {
    auto db =
        core::db::OpenDatabase(ConfigFrom("database:\n  sqlite:\n    file: \"\"\n  postgres:\n    "
                                          "host: 127.0.0.1\n    port: 1\n    password: \"\"\n"));
    REQUIRE_FALSE(db.ok());
    CHECK(db.status().code() == plugin::StatusCode::kUnavailable);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("PostgreSQL list indexes are built concurrently, each once, and an invalid one again",
          "[integration]") {
  TestDb t("postgres", TestDb::kMigrated);
  std::vector<std::string> lines;
  REQUIRE(t.db().EnsureListIndexes([&](const std::string& l) { lines.push_back(l); }).ok());
  // CREATE INDEX CONCURRENTLY refuses to run in a transaction: each one ran on its own.
  REQUIRE(lines.size() == 14);
  CHECK(lines.front() == "index flyteadmin_cpp_tasks_pd_created_idx built");
  CHECK(lines.back() == "list indexes present (13 built)");
  auto valid_count = [&] {
    int n = 0;
    *t.Raw() << "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname LIKE 'flyteadmin_cpp_%' AND i.indisvalid",
        soci::into(n);
    return n;
  };
  CHECK(valid_count() == 13);

  lines.clear();
  REQUIRE(t.db().EnsureListIndexes([&](const std::string& l) { lines.push_back(l); }).ok());
  CHECK(lines == std::vector<std::string>{"list indexes present"});

  // What an interrupted concurrent build leaves: an invalid index, which is built again.
  *t.Raw() << "UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
              "'flyteadmin_cpp_executions_workflow_id_pds_created_at_idx'::regclass";
  CHECK(valid_count() == 12);
  lines.clear();
  REQUIRE(t.db().EnsureListIndexes([&](const std::string& l) { lines.push_back(l); }).ok());
  CHECK(lines == std::vector<std::string>{"index flyteadmin_cpp_executions_workflow_id_pds_created_at_idx built",
                                          "list indexes present (1 built)"});
  CHECK(valid_count() == 13);

  // An index of an earlier version that a wider one replaced is dropped, once.
  *t.Raw() << "CREATE INDEX flyteadmin_cpp_executions_launch_plan_id_created_at_idx ON executions (launch_plan_id, "
              "created_at)";
  lines.clear();
  REQUIRE(t.db().EnsureListIndexes([&](const std::string& l) { lines.push_back(l); }).ok());
  CHECK(lines == std::vector<std::string>{"index flyteadmin_cpp_executions_launch_plan_id_created_at_idx dropped (superseded)",
                                          "list indexes present"});
  CHECK(valid_count() == 13);
}

TEST_CASE("PostgreSQL options take server settings and pgx's own keys, as upstream's driver does",
          "[integration]") {
  TestDb t("postgres");  // creates the database
  *t.Raw() << "CREATE SCHEMA flyte_custom";
  // search_path and statement_timeout are server settings (pgx sends them at connection start);
  // default_query_exec_mode is pgx's own (libpq refuses a keyword it does not know).
  const std::string yaml =
      "database:\n  postgres:\n    host: 127.0.0.1\n    port: " + std::to_string(t.port()) + "\n    dbname: " +
      t.dbname() +
      "\n    username: postgres\n    password: unused-with-trust\n"
      "    options: \"sslmode=disable search_path=flyte_custom statement_timeout='30 s' "
      "default_query_exec_mode=simple_protocol\"\n";
  auto opened = core::db::OpenDatabase(ConfigFrom(yaml));
  INFO((opened.ok() ? std::string() : opened.status().ToString()));
  REQUIRE(opened.ok());
  REQUIRE((*opened)->MigrateUp(nullptr).ok());
  int in_custom = 0, in_public = 0;
  *t.Raw() << "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'flyte_custom' AND "
              "table_name = 'executions'",
      soci::into(in_custom);
  *t.Raw() << "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND "
              "table_name = 'executions'",
      soci::into(in_public);
  CHECK(in_custom == 1);
  CHECK(in_public == 0);
}


TEST_CASE("A database upstream left between the two parent_id phases is finished as upstream's phase 2",
          "[integration]") {
  TestDb t("postgres", TestDb::kMigrated);
  {
    // What upstream's phase 1 leaves: parent_id still integer, a bigint copy kept in step by a
    // trigger, indexed; phase 2 not recorded.
    auto raw = t.Raw();
    *raw << "DELETE FROM migrations WHERE id = 'pg-2023-05-02-fix-parentid-type-phase-2'";
    *raw << "ALTER TABLE node_executions ALTER COLUMN parent_id TYPE integer";
    *raw << "ALTER TABLE node_executions ADD COLUMN new_parent_id BIGINT";
    *raw << "CREATE FUNCTION set_new_parent_id() RETURNS TRIGGER AS $BODY$ BEGIN NEW.new_parent_id := "
            "NEW.parent_id; RETURN NEW; END $BODY$ LANGUAGE PLPGSQL";
    *raw << "CREATE TRIGGER set_new_parent_id_trigger BEFORE INSERT OR UPDATE ON node_executions FOR EACH "
            "ROW EXECUTE PROCEDURE set_new_parent_id()";
    *raw << "INSERT INTO node_executions (execution_project, execution_domain, execution_name, node_id, "
            "parent_id) VALUES ('p', 'd', 'n', 'child', 7)";
    *raw << "CREATE INDEX idx_node_executions_new_parent_id ON node_executions USING btree (new_parent_id)";
  }
  t.MigrateOrFail();
  CHECK(Applied(t) == UpstreamMigrationIds());
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'node_executions' "
                    "AND column_name = 'new_parent_id'") == 0);
  CHECK(Count(*raw, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'node_executions' "
                    "AND column_name = 'parent_id' AND data_type = 'bigint'") == 1);
  CHECK(Count(*raw, "SELECT count(*) FROM node_executions WHERE node_id = 'child' AND parent_id = 7") == 1);
  CHECK(Count(*raw, "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_node_executions_parent_id' AND "
                    "indexdef LIKE '%(parent_id)%'") == 1);
  CHECK(Count(*raw, "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_node_executions_new_parent_id'") == 0);
  CHECK(Count(*raw, "SELECT count(*) FROM pg_trigger WHERE tgname = 'set_new_parent_id_trigger'") == 0);
  CHECK(Count(*raw, "SELECT count(*) FROM pg_proc WHERE proname = 'set_new_parent_id'") == 0);
}


}  // namespace
}  // namespace flyte::test::db
