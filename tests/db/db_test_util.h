// Opens a fresh database of either backend for one test: a temporary SQLite file, or a new
// database on the PostgreSQL server the CTest fixture started (scripts/postgres-test.sh).
#pragma once

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "test_support.h"

namespace flyte::test::db {

inline const std::vector<std::string>& Backends() {
  static const std::vector<std::string> backends = {"sqlite", "postgres"};
  return backends;
}

// Port of the fixture's server, from the state file named by FLYTE_TEST_PG_STATE (or
// FLYTE_TEST_PG_PORT). Fails the test when neither is set: PostgreSQL coverage is required.
inline int PostgresPort() {
  if (const char* port = std::getenv("FLYTE_TEST_PG_PORT")) return std::atoi(port);
  const char* state = std::getenv("FLYTE_TEST_PG_STATE");
  if (!state) FAIL("FLYTE_TEST_PG_STATE is not set: run these tests through ctest (fixture)");
  std::ifstream in(state);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PGPORT=", 0) == 0) return std::atoi(line.c_str() + 7);
  }
  FAIL("no PGPORT in " << state << ": did the db_postgres_start fixture run?");
  return 0;
}

using flyte::test::UniqueName;

inline core::Config ConfigFrom(const std::string& yaml) {
  auto config = core::Config::FromDocuments(
      {yaml}, [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  REQUIRE(config.ok());
  return *config;
}

// Runs the enclosing test case once per backend, naming it `backend` (a string) in the case's
// body and in failure reports. A macro: Catch2's GENERATE must appear in the case itself.
#define FLYTE_EACH_BACKEND(backend)                                                    \
  const std::string backend = GENERATE(from_range(::flyte::test::db::Backends())); \
  CAPTURE(backend)

// A fresh, empty database (migrated with kMigrated); dropped/removed when the object dies.
class TestDb {
 public:
  enum Schema { kEmpty, kMigrated };
  explicit TestDb(const std::string& backend, Schema schema = kEmpty) : backend_(backend) {
    if (backend == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() / UniqueName("flyte-db-test");
      std::filesystem::create_directories(dir_);
      path_ = (dir_ / "flyte.db").string();
      yaml_ = "database:\n  sqlite:\n    file: \"" + path_ + "\"\n";
    } else {
      port_ = PostgresPort();
      dbname_ = UniqueName("flyte_test");
      yaml_ = "database:\n  sqlite:\n    file: \"\"\n  postgres:\n    host: 127.0.0.1\n    port: " +
              std::to_string(port_) + "\n    dbname: " + dbname_ +
              "\n    username: postgres\n    password: \"\"\n" +
              "  maxOpenConnections: 8\n  maxIdleConnections: 4\n";
    }
    auto opened = core::db::OpenDatabase(ConfigFrom(yaml_));
    if (!opened.ok()) FAIL("OpenDatabase(" << backend << "): " << opened.status().ToString());
    db_ = *opened;
    if (schema == kMigrated) MigrateOrFail();
  }

  ~TestDb() {
    db_.reset();
    try {
      if (backend_ == "sqlite") {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
      } else {
        soci::session admin(soci::postgresql, AdminDsn());
        admin << ("DROP DATABASE IF EXISTS \"" + dbname_ + "\" WITH (FORCE)");
      }
    } catch (...) {
    }
  }

  core::db::Database& db() { return *db_; }
  std::shared_ptr<core::db::Database> shared() { return db_; }
  plugin::db::Repositories& repos() { return *db_->Repositories(); }
  const std::string& backend() const { return backend_; }
  const std::string& yaml() const { return yaml_; }
  bool pg() const { return backend_ == "postgres"; }
  const std::string& dbname() const { return dbname_; }
  const std::string& path() const { return path_; }
  int port() const { return port_; }

  void Reopen() {
    db_.reset();
    auto opened = core::db::OpenDatabase(ConfigFrom(yaml_));
    REQUIRE(opened.ok());
    db_ = *opened;
  }

  // A direct session on the same database, for inspecting or preparing it.
  std::unique_ptr<soci::session> Raw() const {
    if (backend_ == "sqlite") {
      return std::make_unique<soci::session>(soci::sqlite3, "db=\"" + path_ + "\" timeout=30");
    }
    return std::make_unique<soci::session>(
        soci::postgresql, "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + dbname_ +
                              " user=postgres sslmode=disable");
  }

  std::string AdminDsn() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) +
           " dbname=postgres user=postgres sslmode=disable";
  }

  void MigrateOrFail() {
    auto status = db_->MigrateUp(nullptr);
    if (!status.ok()) FAIL("MigrateUp: " << status.ToString());
  }

 private:
  std::string backend_;
  std::filesystem::path dir_;
  std::string path_;
  std::string dbname_;
  int port_ = 0;
  std::string yaml_;
  std::shared_ptr<core::db::Database> db_;
};

// Rows of a one-column text query.
inline std::vector<std::string> Strings(soci::session& s, const std::string& sql) {
  std::vector<std::string> out;
  soci::rowset<std::string> rs = (s.prepare << sql);
  for (auto& v : rs) out.push_back(v);
  return out;
}

inline long long Count(soci::session& s, const std::string& sql) {
  long long n = 0;
  s << sql, soci::into(n);
  return n;
}

}  // namespace flyte::test::db
