// Connections: a lazily grown pool of SOCI sessions, parameterised statement execution that
// reads every column as text, transactions, and the mapping of database errors to Status.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"

namespace soci {
class session;
}
namespace sqlite_api {
struct sqlite3;
}

namespace flyte::core::db {

enum class Dialect { kSqlite, kPostgres };

// A bound parameter: NULL, text (may hold any bytes) or a 64-bit integer.
struct Value {
  enum class Kind { kNull, kText, kInt };
  Kind kind = Kind::kNull;
  std::string text;
  int64_t integer = 0;

  static Value Null() { return {}; }
  static Value Text(std::string s) {
    Value v;
    v.kind = Kind::kText;
    v.text = std::move(s);
    return v;
  }
  static Value Int(int64_t i) {
    Value v;
    v.kind = Kind::kInt;
    v.integer = i;
    return v;
  }
};

// Builds one statement: SQL text written by this library plus parameters, each referenced by
// the placeholder Bind() returns. Nothing a caller supplies is ever appended to `sql`.
class Sql {
 public:
  explicit Sql(Dialect dialect) : dialect_(dialect) {}
  Sql& operator<<(std::string_view fragment) {
    sql_.append(fragment);
    return *this;
  }
  // Appends `name` as a double-quoted identifier (QuoteIdent without the temporary string).
  Sql& Ident(std::string_view name);
  // Appends a placeholder for `value`.
  Sql& Bind(Value value);
  Sql& BindText(std::string s) { return Bind(Value::Text(std::move(s))); }
  Sql& BindInt(int64_t i) { return Bind(Value::Int(i)); }
  Sql& BindOptText(const std::optional<std::string>& s) {
    return Bind(s ? Value::Text(*s) : Value::Null());
  }
  // A bytes parameter: hex on PostgreSQL (decoded by the server), raw on SQLite.
  Sql& BindBytes(const std::string& bytes);
  Sql& BindOptBytes(const std::optional<std::string>& bytes);
  // A timestamp parameter, cast to the column type.
  Sql& BindTime(plugin::db::Time t);

  Dialect dialect() const { return dialect_; }
  const std::string& sql() const { return sql_; }
  const std::vector<Value>& params() const { return params_; }

  // Marks a statement whose text recurs (the ingestion paths): it is prepared once per
  // connection and re-executed with new parameters. List queries, whose text varies with the
  // filters, stay one-time statements so they do not churn the cache.
  Sql& Cached() {
    cached_ = true;
    return *this;
  }
  bool cached() const { return cached_; }

 private:
  Dialect dialect_;
  std::string sql_;
  std::vector<Value> params_;
  bool cached_ = false;
};

using Row = std::vector<std::optional<std::string>>;

class StatementCache;
class PgPipeline;

// One checked-out session. Not thread-safe; used by one thread between checkout and return.
class Conn {
 public:
  Conn(soci::session& session, Dialect dialect, StatementCache* cache = nullptr)
      : session_(session), dialect_(dialect), cache_(cache) {}
  Dialect dialect() const { return dialect_; }
  soci::session& session() { return session_; }

  // Executes and returns the affected row count. Throws soci::soci_error.
  int64_t Exec(const Sql& sql);
  void Exec(const std::string& literal_sql);
  // A statement without parameters run over and over (BEGIN, COMMIT, SAVEPOINT ...): SQLite
  // prepares it once per connection instead of on every call.
  void ExecRepeated(const std::string& literal_sql);
  // Executes a query selecting `columns` columns; every value is read as text (NULL as nullopt).
  std::vector<Row> Query(const Sql& sql, size_t columns);

  // PostgreSQL: while set, every statement goes through the batch's pipeline (pg_pipeline.h).
  void set_pipeline(PgPipeline* pipeline) { pipeline_ = pipeline; }
  PgPipeline* pipeline() const { return pipeline_; }

 private:
  soci::session& session_;
  Dialect dialect_;
  StatementCache* cache_;
  PgPipeline* pipeline_ = nullptr;
};

struct PoolOptions {
  Dialect dialect = Dialect::kSqlite;
  std::string connect_string;               // SOCI connect string of the backend
  int max_open = 100;                       // <= 0: unlimited
  int max_idle = 10;                        // <= 0: none kept
  std::chrono::seconds max_lifetime{3600};  // <= 0: forever
  // SQLite: WAL frames (pages) after which the checkpoint thread copies the WAL back into the
  // database (SQLite's own default is 1000); <= 0: never (the WAL is copied when closed).
  int sqlite_checkpoint_frames = 10000;
};

// Sessions created on demand up to max_open; callers wait when all are busy.
class Pool {
 public:
  explicit Pool(PoolOptions options);
  ~Pool();

  // Opens one connection to check the parameters. Throws soci::soci_error.
  void Warm();

  // Runs `fn` on a checked-out connection. Database exceptions become Status (MapError).
  plugin::Status Run(const std::function<plugin::Status(Conn&)>& fn);
  // Runs `fn` in a transaction, committed when it returns OK and rolled back otherwise. On
  // SQLite, writers are serialized in-process and take the write lock up front.
  plugin::Status RunTx(const std::function<plugin::Status(Conn&)>& fn);

  // As RunTx, but concurrent callers share transactions (group commit): the pool's batch
  // threads (batch_threads(): SQLite one, PostgreSQL a few, each on its own connection) take the waiting
  // operations, run them in one transaction, each inside its own SAVEPOINT (a failing operation
  // rolls back alone and gets its own status), commit once, and only then answer each caller.
  // On SQLite the commit leaves its WAL sync to the completion thread, which syncs once for
  // every batch committed meanwhile and only then answers them (sqlite_vfs.h): an answered
  // operation is durable, and the batch thread runs the next batch while the device writes.
  // Within a batch, operations with equal `order_key` (the row they lock) run in the order they
  // arrived, and the batch runs its operations sorted by key, so that concurrent batches
  // (PostgreSQL, several processes) lock rows in one order. Across PostgreSQL's batch threads
  // arrival order is not kept: two operations on one row in different batches are serialized
  // by its lock, in whichever order the batches take it (as concurrent requests are upstream). `fn` runs on a batch thread, and once more, alone, when
  // a batch is aborted by a deadlock or serialization failure.
  //
  // While `fn` (or any RunTx function) runs, Run, RunTx and RunGrouped calls made on its thread
  // for this pool join its transaction instead of taking another connection: reads run as they
  // are, writes in a nested savepoint that rolls back alone when they fail. So a whole event
  // (its reads, checks and writes through the repositories) can run as one grouped operation.
  plugin::Status RunGrouped(const std::string& order_key,
                            const std::function<plugin::Status(Conn&)>& fn);
  // As RunGrouped for a function that writes nothing when it returns an error status: inside a
  // transaction it joins without a savepoint (a statement or two fewer, each a round trip on
  // PostgreSQL), and a database error it throws fails the enclosing operation.
  plugin::Status RunGroupedAtomic(const std::string& order_key,
                                  const std::function<plugin::Status(Conn&)>& fn);
  // The same without waiting: `done` receives the operation's status once its transaction is
  // committed (or rolled back), on the pool's completion thread, which answers a batch while the
  // next one runs (keep `done` short: it delays the answers of the batches after it). Called from inside a transaction of this
  // pool, `fn` joins that transaction and `done` is called at once.
  // With `atomic`, `fn` promises to write nothing when it returns an error status: it runs
  // without a savepoint (see RunGroupedAtomic), and a database error it throws makes the batch
  // run again one operation at a time.
  void RunGroupedAsync(std::string order_key, std::function<plugin::Status(Conn&)> fn,
                       std::function<void(plugin::Status)> done, bool atomic = false);

  // Transactions RunGrouped committed and the operations they held (for tests and metrics).
  struct GroupStats {
    uint64_t transactions = 0;
    uint64_t operations = 0;
    // SQLite: WAL syncs the completion thread ran for commits that deferred theirs (one can
    // cover several transactions).
    uint64_t wal_syncs = 0;
    // PostgreSQL: batches run through a pipeline (pg_pipeline.h), and those that had to run
    // again without one (an operation needed a savepoint or claimed another's row) or one
    // operation at a time (a database error).
    uint64_t pipelined = 0;
    uint64_t pipeline_serial = 0;
    uint64_t pipeline_retried = 0;
  };
  GroupStats group_stats() {
    std::lock_guard lock(group_mu_);
    return group_stats_;
  }

  Dialect dialect() const { return options_.dialect; }
  // How many batch threads RunGrouped runs at most: SQLite one, PostgreSQL two to four (by the
  // machine's cores).
  int batch_threads() const { return BatchThreads(options_.dialect); }
  static int BatchThreads(Dialect dialect);

  // Whether the calling thread runs inside a transaction of this pool (a grouped operation or
  // a RunTx function), which its Run, RunTx and RunGrouped calls join.
  bool InTransaction() const;
  // Whether that transaction is a PostgreSQL batch run through a pipeline (pg_pipeline.h),
  // whose operations interleave.
  bool InPipeline() const;
  // Inside such a batch: the calling operation reads the row with order key `key` and must see
  // it as after the operations before it on that key. When another operation in flight holds
  // the key, the batch runs again without the pipeline (as for a nested grouped call on it).
  // Elsewhere it does nothing.
  void ReadInPipeline(const std::string& key);

 private:
  struct GroupOp;
  void RunBatch(std::vector<std::unique_ptr<GroupOp>>& batch);
  // PostgreSQL: runs a batch of atomic operations through a pipeline (pg_pipeline.h). False
  // when the batch is to run without one (an operation needs a savepoint, or two claim a row).
  bool RunPipelinedBatch(const std::vector<GroupOp*>& order);
  void BatchThread();
  void CompletionThread();
  // SQLite: checkpoints run on a thread and connection of their own, asked for by the commits
  // that grow the WAL past options_.sqlite_checkpoint_frames, so that no writer (the batch
  // thread above all) stops to copy the WAL back into the database.
  static int WalHook(void* pool, sqlite_api::sqlite3* db, const char* name, int frames);
  void CheckpointThread();
  // Runs `fn` inside the calling thread's transaction of this pool (see RunGrouped).
  enum class Nested { kRead, kSavepoint, kAtomic };
  plugin::Status RunGroupedWaiting(const std::string& order_key,
                                   const std::function<plugin::Status(Conn&)>& fn, bool atomic);
  plugin::Status RunNested(const std::function<plugin::Status(Conn&)>& fn, Nested how);

  struct Entry;
  std::unique_ptr<Entry> Acquire();
  void Release(std::unique_ptr<Entry> entry, bool healthy);
  std::unique_ptr<Entry> Open();

  PoolOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Entry>> idle_;
  int open_ = 0;
  std::mutex sqlite_write_mu_;

  // Group commit: operations waiting for a batch thread, and the threads.
  std::mutex group_mu_;
  std::condition_variable group_cv_;
  std::vector<std::unique_ptr<GroupOp>> group_queue_;
  std::vector<std::thread> group_threads_;
  int group_idle_ = 0;
  bool group_stop_ = false;
  GroupStats group_stats_;
  // Operations run and not yet answered, and the thread answering them.
  std::mutex completion_mu_;
  std::condition_variable completion_cv_;
  std::vector<std::unique_ptr<GroupOp>> completions_;
  std::thread completion_thread_;
  bool completion_stop_ = false;
  // The errno of the first deferred WAL sync that failed (set by the completion thread): from
  // then on no commit is acknowledged as durable.
  std::atomic<int> wal_sync_error_{0};
  static plugin::Status DurabilityFailure(int error);
  // SQLite checkpoints asked for and the thread running them.
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  std::thread checkpoint_thread_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stop_ = false;
};

// Upstream's mapping (repositories/errors/postgres.go) for an exception thrown by SOCI.
plugin::Status MapError(const std::exception& e, Dialect dialect);

// Hex helpers for bytea on PostgreSQL.
std::string HexEncode(const std::string& bytes);
std::string HexDecode(const std::string& hex);

// "2024-05-01 12:34:56.123456+00:00" (UTC), and the parser for what both databases return.
std::string FormatTime(plugin::db::Time t);
std::optional<plugin::db::Time> ParseTime(const std::string& text);

// The two halves of those on microseconds since 1970: the strict ISO 8601 reader (a date,
// optionally a time and a zone, as PostgreSQL reads them) and the fixed-width UTC writer (years
// outside 0001-9999 written as those ends, which order the same against any stored time).
std::optional<int64_t> ParseIsoTimeMicros(std::string_view text);
std::string FormatUtcMicros(int64_t micros);

// Double-quoted SQL identifier.
std::string QuoteIdent(std::string_view name);

}  // namespace flyte::core::db
