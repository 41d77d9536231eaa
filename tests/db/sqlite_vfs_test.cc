// The SQLite VFS that gathers a WAL file's writes until the sync (core/db/src/sqlite_vfs.cc),
// with real files: what a writer, a reader on the default VFS and a later process see.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "sqlite_vfs.h"

namespace flyte::test::db {
namespace {

using core::db::SqliteUriThroughGatheringWal;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/flyte-vfs-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A connection through the gathering VFS (`gathering`) or the default one, with the pool's
// settings; closed with the object.
class Db {
 public:
  Db(const std::string& path, bool gathering) {
    std::string name = gathering ? SqliteUriThroughGatheringWal(path) : path;
    if (gathering) REQUIRE(name.rfind("file:", 0) == 0);
    int rc = sqlite3_open_v2(name.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                             nullptr);
    REQUIRE(rc == SQLITE_OK);
    Exec("PRAGMA busy_timeout=30000");
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int Try(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); }
  void Exec(const std::string& sql) {
    int rc = Try(sql);
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_OK);
  }
  // The first column of the first row, as text.
  std::string One(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    int rc = sqlite3_step(st);
    INFO(sql << ": " << sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_ROW);
    const unsigned char* text = sqlite3_column_text(st, 0);
    std::string out = text ? reinterpret_cast<const char*>(text) : "";
    sqlite3_finalize(st);
    return out;
  }
  const char* vfs() {
    const char* name = nullptr;
    sqlite3_vfs* v = nullptr;
    if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_VFS_POINTER, &v) == SQLITE_OK && v) name = v->zName;
    return name;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Rows whose pages far exceed a 10-page cache: the writer spills frames to the WAL before it
// commits, and reads some of them back.
constexpr const char* kManyRows =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) "
    "INSERT INTO t SELECT x, randomblob(700) FROM c";

TEST_CASE("The gathering VFS opens the file at the exact path, whatever characters it has",
          "[integration][sqlite]") {
  TempDir dir;
  // Characters a URI would otherwise read as its own: '?', '#', '%', a space, and non-ASCII.
  const std::string path = (dir.path() / "a b?c#d%20e é.db").string();
  {
    Db db(path, true);
    REQUIRE(std::string(db.vfs()) == core::db::kGatheringWalVfs);
    db.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
    db.Exec("INSERT INTO t VALUES (1, x'00ff')");
    REQUIRE(std::filesystem::exists(path + "-wal"));
  }
  REQUIRE(std::filesystem::exists(path));
  Db plain(path, false);
  REQUIRE(plain.One("SELECT hex(v) FROM t WHERE k = 1") == "00FF");

  // A configured name that is already a URI stays the operator's.
  CHECK(SqliteUriThroughGatheringWal("file:/data/admin.db?mode=rwc") == "file:/data/admin.db?mode=rwc");
}

TEST_CASE("A writer reads back its spilled frames, and readers see only what it committed",
          "[integration][sqlite]") {
  TempDir dir;
  const std::string path = (dir.path() / "w.db").string();
  Db writer(path, true);
  Db reader(path, false);
  writer.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
  writer.Exec("PRAGMA cache_size=10");
  writer.Exec("INSERT INTO t VALUES (0, randomblob(10))");

  writer.Exec("BEGIN");
  writer.Exec(kManyRows);
  // Pages that left the writer's cache come back from the WAL.
  REQUIRE(writer.One("SELECT count(*) FROM t") == "5001");
  REQUIRE(writer.One("SELECT sum(length(v)) FROM t") == std::to_string(5000 * 700 + 10));
  // A reader on another connection still sees the last commit.
  REQUIRE(reader.One("SELECT count(*) FROM t") == "1");
  writer.Exec("COMMIT");
  REQUIRE(reader.One("SELECT count(*) FROM t") == "5001");
  REQUIRE(reader.One("SELECT sum(length(v)) FROM t") == std::to_string(5000 * 700 + 10));

  // Many small commits, each read at once by the other connection.
  for (int i = 1; i <= 200; ++i) {
    writer.Exec("INSERT INTO t VALUES (" + std::to_string(10000 + i) + ", randomblob(100))");
    REQUIRE(reader.One("SELECT count(*) FROM t WHERE k > 10000") == std::to_string(i));
  }
  // A checkpoint copies the WAL back into the database; the result checks out.
  writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  REQUIRE(writer.One("PRAGMA integrity_check") == "ok");
  REQUIRE(reader.One("SELECT count(*) FROM t") == "5201");
}

TEST_CASE("A deferred WAL sync publishes the commit at once and hands its sync back",
          "[integration][sqlite]") {
  using core::db::BeginDeferringWalSyncs;
  using core::db::EndDeferringWalSyncs;
  TempDir dir;
  const std::string path = (dir.path() / "defer.db").string();
  Db writer(path, true);
  Db reader(path, false);

  // Commits: written out and visible to another connection at once, the sync owed to the
  // caller. (The WAL's first sync, of its new header and directory entry, was SQLite's own.)
  BeginDeferringWalSyncs();
  writer.Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
  writer.Exec("INSERT INTO t VALUES (1, randomblob(5000))");
  writer.Exec("INSERT INTO t VALUES (2, randomblob(5000))");
  auto owed = EndDeferringWalSyncs();
  REQUIRE(owed != nullptr);
  CHECK(reader.One("SELECT count(*) FROM t") == "2");
  CHECK(owed->Sync() == 0);

  // A thread that does not defer syncs itself; so does a checkpoint inside a deferring scope.
  writer.Exec("INSERT INTO t VALUES (3, x'00')");
  CHECK(EndDeferringWalSyncs() == nullptr);
  BeginDeferringWalSyncs();
  {
    core::db::WalSyncsNotDeferred not_deferred;
    writer.Exec("INSERT INTO t VALUES (4, x'00')");
  }
  CHECK(EndDeferringWalSyncs() == nullptr);

  // The sync target outlives the connection that owed it.
  BeginDeferringWalSyncs();
  {
    Db other(path, true);
    other.Exec("INSERT INTO t VALUES (5, x'00')");
    other.Exec("INSERT INTO t VALUES (6, x'00')");
  }
  owed = EndDeferringWalSyncs();
  REQUIRE(owed != nullptr);
  CHECK(owed->Sync() == 0);
  CHECK(reader.One("SELECT count(*) FROM t") == "6");
  CHECK(writer.One("PRAGMA integrity_check") == "ok");
}

TEST_CASE("A process that dies keeps its commits and loses only its open transaction",
          "[integration][sqlite]") {
  TempDir dir;
  const std::string path = (dir.path() / "crash.db").string();
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // No Catch2 assertions here: failures are the exit status.
    sqlite3* db = nullptr;
    std::string name = SqliteUriThroughGatheringWal(path);
    if (sqlite3_open_v2(name.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                        nullptr) != SQLITE_OK) {
      ::_exit(2);
    }
    const char* steps[] = {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA cache_size=10",
                           "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)", kManyRows, "BEGIN",
                           "UPDATE t SET v = randomblob(900)", "DELETE FROM t WHERE k > 100"};
    for (const char* s : steps) {
      if (sqlite3_exec(db, s, nullptr, nullptr, nullptr) != SQLITE_OK) ::_exit(3);
    }
    // Dies with the transaction open and its frames partly written, partly gathered.
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  Db db(path, false);
  REQUIRE(db.One("PRAGMA integrity_check") == "ok");
  REQUIRE(db.One("SELECT count(*) FROM t") == "5000");
  REQUIRE(db.One("SELECT max(length(v)) FROM t") == "700");
}

}  // namespace
}  // namespace flyte::test::db
