// Pool, statement execution and error mapping over SOCI (sqlite3 and postgresql backends).
#include "connection.h"

#include <pthread.h>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "pg_pipeline.h"
#include "sqlite_vfs.h"

namespace flyte::core::db {

using plugin::Status;
using plugin::StatusCode;

// ---------------------------------------------------------------------------------------------
// Sql

Sql& Sql::Bind(Value value) {
  params_.push_back(std::move(value));
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof(digits), params_.size()).ptr;
  sql_ += ":p";
  sql_.append(digits, end);
  return *this;
}

namespace {
void AppendQuotedIdent(std::string& out, std::string_view name) {
  out.push_back('"');
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}
}  // namespace

Sql& Sql::Ident(std::string_view name) {
  AppendQuotedIdent(sql_, name);
  return *this;
}

Sql& Sql::BindBytes(const std::string& bytes) {
  if (dialect_ == Dialect::kPostgres) {
    sql_ += "decode(";
    Bind(Value::Text(HexEncode(bytes)));
    sql_ += ", 'hex')";
  } else {
    sql_ += "CAST(";
    Bind(Value::Text(bytes));
    sql_ += " AS BLOB)";
  }
  return *this;
}

Sql& Sql::BindOptBytes(const std::optional<std::string>& bytes) {
  if (!bytes) return Bind(Value::Null());
  return BindBytes(*bytes);
}

Sql& Sql::BindTime(plugin::db::Time t) {
  if (dialect_ == Dialect::kPostgres) {
    sql_ += "CAST(";
    Bind(Value::Text(FormatTime(t)));
    sql_ += " AS timestamptz)";
  } else {
    Bind(Value::Text(FormatTime(t)));
  }
  return *this;
}

// ---------------------------------------------------------------------------------------------
// Conn

namespace {

// Parameter storage whose addresses stay fixed while SOCI holds references to them.
struct Bound {
  std::vector<std::string> texts;
  std::vector<long long> ints;
  std::vector<soci::indicator> inds;

  void Attach(soci::statement& st, const std::vector<Value>& params) {
    texts.resize(params.size());
    ints.resize(params.size());
    inds.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& p = params[i];
      switch (p.kind) {
        case Value::Kind::kNull:
          inds[i] = soci::i_null;
          st.exchange(soci::use(texts[i], inds[i]));
          break;
        case Value::Kind::kText:
          texts[i] = p.text;
          inds[i] = soci::i_ok;
          st.exchange(soci::use(texts[i], inds[i]));
          break;
        case Value::Kind::kInt:
          ints[i] = static_cast<long long>(p.integer);
          inds[i] = soci::i_ok;
          st.exchange(soci::use(ints[i], inds[i]));
          break;
      }
    }
  }
};

}  // namespace

// SQLite's error for the last call on `db`, as SOCI's backend reports it (MapError and the batch
// logic read its result code).
[[noreturn]] void ThrowSqlite(sqlite_api::sqlite3* db, int rc) {
  const char* message = db != nullptr ? sqlite_api::sqlite3_errmsg(db) : sqlite_api::sqlite3_errstr(rc);
  throw soci::sqlite3_soci_error(message != nullptr ? message : "unknown SQLite error", rc);
}

// Statements prepared once per connection (Sql::Cached()). On PostgreSQL they are SOCI
// statements keyed by text and parameter kinds, with parameter and result storage whose
// addresses SOCI keeps for the statement's life. On SQLite they bypass SOCI: prepared and run
// through SQLite's API, parameters bound in place and every column read as text (as SOCI reads
// a value into a string), without SOCI's copies of each parameter and column: these statements
// are the group-commit writer's whole workload.
class StatementCache {
 public:
  ~StatementCache() {
    for (auto& [text, st] : lite_) sqlite_api::sqlite3_finalize(st);
  }

  // The prepared SQLite statement for `sql`, preparing it on first use. Parameter kinds and
  // result columns do not change it: SQLite binds and reads values of any type.
  sqlite_api::sqlite3_stmt* GetSqlite(sqlite_api::sqlite3* db, const Sql& sql) {
    auto it = lite_.find(sql.sql());
    if (it != lite_.end()) return it->second;
    if (lite_.size() >= kMaxEntries) {
      for (auto& [text, st] : lite_) sqlite_api::sqlite3_finalize(st);
      lite_.clear();
    }
    sqlite_api::sqlite3_stmt* st = nullptr;
    int rc = sqlite_api::sqlite3_prepare_v3(db, sql.sql().data(), static_cast<int>(sql.sql().size()),
                                            SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    if (rc != SQLITE_OK) {
      sqlite_api::sqlite3_finalize(st);
      ThrowSqlite(db, rc);
    }
    lite_.emplace(sql.sql(), st);
    return st;
  }

  // Runs a statement from GetSqlite with `sql`'s parameters; rows (of `columns` columns) go to
  // `rows` when given. Returns the rows the statement changed.
  static int64_t RunSqlite(sqlite_api::sqlite3* db, sqlite_api::sqlite3_stmt* st, const Sql& sql, size_t columns,
                           std::vector<Row>* rows) {
    // Reset on every way out: a statement left mid-step would hold its read of the database.
    struct ResetOnExit {
      sqlite_api::sqlite3_stmt* st;
      ~ResetOnExit() { sqlite_api::sqlite3_reset(st); }
    } reset{st};
    const auto& params = sql.params();
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& p = params[i];
      const int index = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      switch (p.kind) {
        case Value::Kind::kNull:
          rc = sqlite_api::sqlite3_bind_null(st, index);
          break;
        case Value::Kind::kText:
          // `sql` outlives the statement's run; the reset above ends the statement's use of it.
          rc = sqlite_api::sqlite3_bind_text64(st, index, p.text.data(), p.text.size(), SQLITE_STATIC, SQLITE_UTF8);
          break;
        case Value::Kind::kInt:
          rc = sqlite_api::sqlite3_bind_int64(st, index, p.integer);
          break;
      }
      if (rc != SQLITE_OK) ThrowSqlite(db, rc);
    }
    for (;;) {
      int rc = sqlite_api::sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) ThrowSqlite(db, rc);
      if (rows == nullptr) continue;
      Row row(columns);
      // A caller that names more columns than the statement has gets NULL for the rest.
      const size_t available = static_cast<size_t>(sqlite_api::sqlite3_column_count(st));
      for (size_t c = 0; c < std::min(columns, available); ++c) {
        const int col = static_cast<int>(c);
        if (sqlite_api::sqlite3_column_type(st, col) == SQLITE_NULL) continue;
        const auto* text = reinterpret_cast<const char*>(sqlite_api::sqlite3_column_text(st, col));
        const int bytes = sqlite_api::sqlite3_column_bytes(st, col);
        row[c].emplace(text != nullptr ? text : "", static_cast<size_t>(bytes));
      }
      rows->push_back(std::move(row));
    }
    return sqlite_api::sqlite3_changes64(db);
  }
  struct Entry {
    std::unique_ptr<soci::statement> st;
    std::vector<bool> int_params;
    std::vector<std::string> texts;
    std::vector<long long> ints;
    std::vector<soci::indicator> inds;
    std::vector<std::string> out;
    std::vector<soci::indicator> out_inds;

    // Hands the parameter and result storage to the statement.
    void Exchange() {
      for (size_t i = 0; i < int_params.size(); ++i) {
        if (int_params[i]) {
          st->exchange(soci::use(ints[i], inds[i]));
        } else {
          st->exchange(soci::use(texts[i], inds[i]));
        }
      }
      for (size_t c = 0; c < out.size(); ++c) st->exchange(soci::into(out[c], out_inds[c]));
    }

    // Runs the statement. SOCI's PostgreSQL backend copies each parameter into a buffer before
    // a run and frees it after one that succeeded; a run that throws keeps the buffers, and the
    // next run would leak them. So after a failure the bindings are rebuilt (which frees them),
    // keeping the statement prepared on the server.
    bool Execute() {
      try {
        return st->execute(true);
      } catch (...) {
        st->bind_clean_up();
        Exchange();
        st->define_and_bind();
        throw;
      }
    }

    void SetParams(const std::vector<Value>& params) {
      for (size_t i = 0; i < params.size(); ++i) {
        const Value& p = params[i];
        switch (p.kind) {
          case Value::Kind::kNull:
            texts[i].clear();
            inds[i] = soci::i_null;
            break;
          case Value::Kind::kText:
            texts[i] = p.text;
            inds[i] = soci::i_ok;
            break;
          case Value::Kind::kInt:
            ints[i] = static_cast<long long>(p.integer);
            inds[i] = soci::i_ok;
            break;
        }
      }
    }
  };

  // The prepared statement for `sql` selecting `columns` columns, preparing it on first use.
  Entry& Get(soci::session& session, const Sql& sql, size_t columns) {
    std::string key;
    key.reserve(sql.sql().size() + sql.params().size() + 8);
    key += sql.sql();
    key += '\x1f';
    for (const Value& p : sql.params()) key += p.kind == Value::Kind::kInt ? 'i' : 't';
    key += '\x1f';
    key += std::to_string(columns);
    auto it = entries_.find(key);
    if (it != entries_.end()) return *it->second;
    // The ingestion paths use a few dozen texts; a full cache means something else is caching.
    if (entries_.size() >= kMaxEntries) entries_.clear();
    auto e = std::make_unique<Entry>();
    const auto& params = sql.params();
    e->texts.resize(params.size());
    e->ints.resize(params.size());
    e->inds.resize(params.size(), soci::i_ok);
    e->out.resize(columns);
    e->out_inds.resize(columns, soci::i_ok);
    for (const Value& p : params) e->int_params.push_back(p.kind == Value::Kind::kInt);
    e->st = std::make_unique<soci::statement>(session);
    e->Exchange();
    e->st->alloc();
    e->st->prepare(sql.sql(), soci::details::st_repeatable_query);
    e->st->define_and_bind();
    return *entries_.emplace(std::move(key), std::move(e)).first->second;
  }

 private:
  static constexpr size_t kMaxEntries = 256;
  std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  std::unordered_map<std::string, sqlite_api::sqlite3_stmt*> lite_;
};

namespace {
sqlite_api::sqlite3* SqliteHandle(soci::session& session) {
  return static_cast<soci::sqlite3_session_backend*>(session.get_backend())->conn_;
}
}  // namespace

int64_t Conn::Exec(const Sql& sql) {
  if (pipeline_) return pipeline_->Exec(sql);
  if (cache_ && sql.cached() && dialect_ == Dialect::kSqlite) {
    sqlite_api::sqlite3* db = SqliteHandle(session_);
    return StatementCache::RunSqlite(db, cache_->GetSqlite(db, sql), sql, 0, nullptr);
  }
  if (cache_ && sql.cached()) {
    // PostgreSQL: a statement stays prepared after an error (the server keeps it valid, and a
    // DEALLOCATE in an aborted transaction would fail).
    StatementCache::Entry& e = cache_->Get(session_, sql, 0);
    e.SetParams(sql.params());
    e.Execute();
    return static_cast<int64_t>(e.st->get_affected_rows());
  }
  soci::statement st(session_);
  Bound bound;
  bound.Attach(st, sql.params());
  st.alloc();
  st.prepare(sql.sql(), soci::details::st_one_time_query);
  st.define_and_bind();
  st.execute(true);
  return static_cast<int64_t>(st.get_affected_rows());
}

void Conn::Exec(const std::string& literal_sql) {
  if (pipeline_) return pipeline_->ExecLiteral(literal_sql);
  session_ << literal_sql;
}

void Conn::ExecRepeated(const std::string& literal_sql) {
  if (pipeline_) return pipeline_->ExecLiteral(literal_sql);
  if (cache_ && dialect_ == Dialect::kSqlite) {
    Sql sql(dialect_);
    sql << literal_sql;
    Exec(sql.Cached());
    return;
  }
  session_ << literal_sql;
}

std::vector<Row> Conn::Query(const Sql& sql, size_t columns) {
  if (pipeline_) return pipeline_->Query(sql, columns);
  std::vector<Row> rows;
  auto collect = [&](soci::statement& st, const std::vector<std::string>& out,
                     const std::vector<soci::indicator>& out_inds, bool got) {
    while (got) {
      Row row(columns);
      for (size_t c = 0; c < columns; ++c) {
        if (out_inds[c] != soci::i_null) row[c] = out[c];
      }
      rows.push_back(std::move(row));
      got = st.fetch();
    }
  };
  if (cache_ && sql.cached() && dialect_ == Dialect::kSqlite) {
    sqlite_api::sqlite3* db = SqliteHandle(session_);
    StatementCache::RunSqlite(db, cache_->GetSqlite(db, sql), sql, columns, &rows);
    return rows;
  }
  if (cache_ && sql.cached()) {
    StatementCache::Entry& e = cache_->Get(session_, sql, columns);
    e.SetParams(sql.params());
    collect(*e.st, e.out, e.out_inds, e.Execute());
    return rows;
  }
  soci::statement st(session_);
  Bound bound;
  bound.Attach(st, sql.params());
  std::vector<std::string> out(columns);
  std::vector<soci::indicator> out_inds(columns, soci::i_ok);
  for (size_t c = 0; c < columns; ++c) st.exchange(soci::into(out[c], out_inds[c]));
  st.alloc();
  st.prepare(sql.sql(), soci::details::st_one_time_query);
  st.define_and_bind();
  collect(st, out, out_inds, st.execute(true));
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Pool

struct Pool::Entry {
  std::unique_ptr<soci::session> session;
  // Declared after the session: its statements are destroyed first.
  std::unique_ptr<StatementCache> statements = std::make_unique<StatementCache>();
  // PostgreSQL: the statements its batch pipelines have prepared.
  PipelineStatements pipeline_statements;
  std::chrono::steady_clock::time_point created;
};

Pool::Pool(PoolOptions options) : options_(std::move(options)) {}

Pool::~Pool() {
  // The batch threads run what is queued and the completion thread answers it, then they stop.
  {
    std::lock_guard lock(group_mu_);
    group_stop_ = true;
  }
  group_cv_.notify_all();
  for (auto& th : group_threads_) th.join();
  {
    std::lock_guard lock(completion_mu_);
    completion_stop_ = true;
  }
  completion_cv_.notify_all();
  if (completion_thread_.joinable()) completion_thread_.join();
  {
    std::lock_guard lock(checkpoint_mu_);
    checkpoint_stop_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
}

int Pool::WalHook(void* arg, sqlite_api::sqlite3* db, const char* name, int frames) {
  auto* pool = static_cast<Pool*>(arg);
  const int threshold = pool->options_.sqlite_checkpoint_frames;
  if (threshold <= 0 || frames < threshold) return 0;
  if (frames >= 4 * threshold) {
    // The checkpoint thread is not keeping up (or cannot start one): the committer copies what
    // it can, as SQLite's own hook would, so that the WAL stops growing.
    // Its syncs are the checkpoint's own, never deferred.
    WalSyncsNotDeferred not_deferred;
    sqlite_api::sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return 0;
  }
  {
    std::lock_guard lock(pool->checkpoint_mu_);
    if (pool->checkpoint_stop_) return 0;
    pool->checkpoint_wanted_ = true;
    if (!pool->checkpoint_thread_.joinable()) {
      pool->checkpoint_thread_ = std::thread([pool] { pool->CheckpointThread(); });
    }
  }
  pool->checkpoint_cv_.notify_one();
  return 0;
}

void Pool::CheckpointThread() {
  ::pthread_setname_np(::pthread_self(), "flyte-db-ckpt");
  std::unique_ptr<Entry> entry;
  std::unique_lock lock(checkpoint_mu_);
  for (;;) {
    checkpoint_cv_.wait(lock, [&] { return checkpoint_stop_ || checkpoint_wanted_; });
    if (checkpoint_stop_) break;
    checkpoint_wanted_ = false;
    lock.unlock();
    try {
      if (!entry) entry = Open();
      // PASSIVE: copies the frames no reader still needs, without waiting for or blocking
      // anyone; the writer that next finds the WAL fully copied starts it over.
      int rc = sqlite_api::sqlite3_wal_checkpoint_v2(SqliteHandle(*entry->session), "main",
                                                     SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) entry.reset();
    } catch (...) {
      // A connection that could not be opened is tried again at the next request; meanwhile
      // the committers' own checkpoints bound the WAL.
      entry.reset();
    }
    lock.lock();
  }
  lock.unlock();
  entry.reset();
}

std::unique_ptr<Pool::Entry> Pool::Open() {
  auto entry = std::make_unique<Entry>();
  entry->created = std::chrono::steady_clock::now();
  if (options_.dialect == Dialect::kSqlite) {
    entry->session = std::make_unique<soci::session>(soci::sqlite3, options_.connect_string);
    soci::session& s = *entry->session;
    std::string mode;
    s << "PRAGMA journal_mode=WAL", soci::into(mode);
    s << "PRAGMA busy_timeout=30000";
    s << "PRAGMA foreign_keys=OFF";
    // An acknowledged write must survive power loss: in WAL mode NORMAL syncs only at
    // checkpoints, FULL syncs the WAL at every commit (group commit amortizes that sync, and
    // its batch thread leaves it to the completion thread: BatchThread).
    s << "PRAGMA synchronous=FULL";
    // PostgreSQL's LIKE is case-sensitive; make SQLite's agree.
    s << "PRAGMA case_sensitive_like=ON";
    // Savepoint journals (every grouped operation runs in one) stay in memory instead of
    // spilling to a temporary file created and deleted once per batch.
    s << "PRAGMA temp_store=MEMORY";
    // A WAL that a burst grew past the checkpoint threshold is cut back to it when it starts
    // over, instead of keeping its largest size on disk for good.
    {
      const int64_t frames = options_.sqlite_checkpoint_frames > 0 ? options_.sqlite_checkpoint_frames : 1000;
      s << "PRAGMA journal_size_limit=" + std::to_string(frames * (4096 + 24));
    }
    // Checkpoints: by the pool's checkpoint thread, every ~40 MB of WAL instead of SQLite's
    // ~4 MB (the event rows' pages, rewritten by many commits in between, are copied back to
    // the database once instead of ten times). The hook replaces SQLite's automatic one.
    sqlite_api::sqlite3_wal_hook(SqliteHandle(s), &Pool::WalHook, this);
  } else {
    entry->session = std::make_unique<soci::session>(soci::postgresql, options_.connect_string);
    soci::session& s = *entry->session;
    s << "SET TIME ZONE 'UTC'";
    s << "SET datestyle TO 'ISO'";
    // Keep server NOTICEs ("table ... does not exist, skipping") out of the process's stderr.
    s << "SET client_min_messages TO WARNING";
  }
  return entry;
}

void Pool::Warm() {
  {
    std::lock_guard lock(mu_);
    ++open_;
  }
  std::unique_ptr<Entry> entry;
  try {
    entry = Open();
  } catch (...) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
    throw;
  }
  Release(std::move(entry), true);
}

std::unique_ptr<Pool::Entry> Pool::Acquire() {
  // Closing the last connection to a SQLite file checkpoints its WAL into the database file,
  // which must follow a real sync of the WAL: never one deferred by the batch thread that may
  // be acquiring. Expired connections close after the lock is released (declared before it).
  WalSyncsNotDeferred not_deferred;
  std::vector<std::unique_ptr<Entry>> expired;
  std::unique_lock lock(mu_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<Entry> entry = std::move(idle_.back());
      idle_.pop_back();
      if (options_.max_lifetime.count() > 0 &&
          std::chrono::steady_clock::now() - entry->created > options_.max_lifetime) {
        --open_;
        expired.push_back(std::move(entry));
        continue;
      }
      return entry;
    }
    if (options_.max_open <= 0 || open_ < options_.max_open) {
      ++open_;
      lock.unlock();
      try {
        return Open();
      } catch (...) {
        lock.lock();
        --open_;
        cv_.notify_one();
        throw;
      }
    }
    cv_.wait(lock);
  }
}

void Pool::Release(std::unique_ptr<Entry> entry, bool healthy) {
  // As in Acquire: a connection closed here may checkpoint, with its WAL really synced first.
  WalSyncsNotDeferred not_deferred;
  std::unique_ptr<Entry> to_close;
  {
    std::lock_guard lock(mu_);
    bool expired = options_.max_lifetime.count() > 0 &&
                   std::chrono::steady_clock::now() - entry->created > options_.max_lifetime;
    if (healthy && !expired && options_.max_idle > 0 &&
        static_cast<int>(idle_.size()) < options_.max_idle) {
      idle_.push_back(std::move(entry));
    } else {
      to_close = std::move(entry);
      --open_;
    }
  }
  cv_.notify_one();
  // `to_close` disconnects here, outside the lock.
}

namespace {

// A batch is bounded so that a caller waits for at most one batch ahead of its own: SQLite runs
// one batch at a time (one writer), PostgreSQL a few (one per batch thread, each on its own
// connection), each smaller.
constexpr size_t kSqliteMaxBatch = 128;
constexpr size_t kPostgresMaxBatch = 32;

// PostgreSQL batch threads, each running one transaction at a time on its own connection: two
// keep the database busy while one of them commits, and more than the machine's cores only
// split the waiting events into more batches (each a commit and a WAL flush of its own). On two
// cores, with batches pipelined, two threads reached 1.44 of the raw loop where four reached
// 1.34 (bench_executions events postgres, three rounds each).
int PostgresBatchThreads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(cores, 2U, 4U));
}

// Errors after which the batch's transaction cannot go on (PostgreSQL deadlock or
// serialization failure, a lost connection; SQLite busy, I/O, full or out-of-memory errors,
// which may roll the whole transaction back): the batch is rolled back and its operations
// are run again, each alone, so each gets its own outcome.
bool AbortsBatch(const soci::soci_error& e) {
  if (e.get_error_category() == soci::soci_error::connection_error) return true;
  if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    std::string state = pg->sqlstate();
    return state == "40P01" || state == "40001" || state.rfind("08", 0) == 0 ||
           state.rfind("57P", 0) == 0;
  }
  if (auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    int code = lite->result() & 0xff;
    return code == 5 /* BUSY */ || code == 6 /* LOCKED */ || code == 7 /* NOMEM */ ||
           code == 10 /* IOERR */ || code == 13 /* FULL */;
  }
  return false;
}

bool IsConnectionError(const soci::soci_error& e) {
  return e.get_error_category() == soci::soci_error::connection_error;
}

// The transaction the calling thread is running for a pool, if any (RunTx sets it around its
// function), so that the pool's calls made from inside it join it.
struct ActiveTransaction {
  const Pool* pool;
  Conn* conn;
};
thread_local ActiveTransaction* t_active_transaction = nullptr;

}  // namespace

bool Pool::InTransaction() const {
  return t_active_transaction != nullptr && t_active_transaction->pool == this;
}

int Pool::BatchThreads(Dialect dialect) { return dialect == Dialect::kSqlite ? 1 : PostgresBatchThreads(); }

bool Pool::InPipeline() const {
  return InTransaction() && t_active_transaction->conn->pipeline() != nullptr;
}

void Pool::ReadInPipeline(const std::string& key) {
  if (!InTransaction()) return;
  if (PgPipeline* pipeline = t_active_transaction->conn->pipeline()) pipeline->Claim(key);
}

Status Pool::RunNested(const std::function<Status(Conn&)>& fn, Nested how) {
  Conn& conn = *t_active_transaction->conn;
  const bool savepoint = how == Nested::kSavepoint;
  if (savepoint) conn.ExecRepeated("SAVEPOINT flyte_nested");
  Status status;
  try {
    status = fn(conn);
  } catch (const soci::soci_error& e) {
    // The enclosing batch decides what a deadlock or a lost connection means; an error without
    // a savepoint to return to fails the enclosing operation (after a failed statement
    // PostgreSQL's transaction is unusable, and an atomic write may have written part).
    if (AbortsBatch(e) || how == Nested::kAtomic || (how == Nested::kRead && options_.dialect == Dialect::kPostgres)) {
      throw;
    }
    status = MapError(e, options_.dialect);
  } catch (const std::exception& e) {
    if (how == Nested::kAtomic) throw;
    status = MapError(e, options_.dialect);
  }
  if (savepoint) {
    if (!status.ok()) conn.ExecRepeated("ROLLBACK TO SAVEPOINT flyte_nested");
    conn.ExecRepeated("RELEASE SAVEPOINT flyte_nested");
  }
  return status;
}

Status Pool::Run(const std::function<Status(Conn&)>& fn) {
  if (InTransaction()) return RunNested(fn, Nested::kRead);
  std::unique_ptr<Entry> entry;
  try {
    entry = Acquire();
  } catch (const std::exception& e) {
    return MapError(e, options_.dialect);
  }
  bool healthy = true;
  Status status;
  try {
    Conn conn(*entry->session, options_.dialect, entry->statements.get());
    status = fn(conn);
  } catch (const soci::soci_error& e) {
    try {
      healthy = !IsConnectionError(e) && entry->session->is_connected();
    } catch (...) {
      healthy = false;
    }
    status = MapError(e, options_.dialect);
  } catch (const std::exception& e) {
    status = MapError(e, options_.dialect);
  }
  Release(std::move(entry), healthy);
  return status;
}

Status Pool::DurabilityFailure(int error) {
  return Status(StatusCode::kInternal,
                std::string("the database could not make a commit durable (syncing its "
                            "write-ahead log failed: ") +
                    std::strerror(error) + "); restart the server");
}

Status Pool::RunTx(const std::function<Status(Conn&)>& fn) {
  if (InTransaction()) return RunNested(fn, Nested::kSavepoint);
  std::unique_lock<std::mutex> write_lock;
  if (options_.dialect == Dialect::kSqlite) write_lock = std::unique_lock(sqlite_write_mu_);
  return Run([&](Conn& conn) -> Status {
    conn.ExecRepeated(options_.dialect == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
    Status status;
    ActiveTransaction active{this, &conn};
    try {
      t_active_transaction = &active;
      status = fn(conn);
      t_active_transaction = nullptr;
    } catch (...) {
      t_active_transaction = nullptr;
      try {
        conn.ExecRepeated("ROLLBACK");
      } catch (...) {
      }
      throw;
    }
    if (!status.ok()) {
      conn.ExecRepeated("ROLLBACK");
      return status;
    }
    try {
      conn.ExecRepeated("COMMIT");
    } catch (...) {
      // A COMMIT that fails may leave the transaction open (SQLite after SQLITE_BUSY, and at
      // times after a full disk or an I/O error): the connection would go back to the pool
      // holding the write lock and the uncommitted rows. When SQLite already rolled back, this
      // ROLLBACK fails harmlessly.
      try {
        conn.ExecRepeated("ROLLBACK");
      } catch (...) {
      }
      throw;
    }
    // After a failed WAL sync no commit counts as durable (see CompletionThread), this one's
    // included: the log it was appended to may have lost earlier frames.
    if (int error = wal_sync_error_.load(); error != 0) return DurabilityFailure(error);
    return status;
  });
}

// ---------------------------------------------------------------------------------------------
// Group commit

struct Pool::GroupOp {
  std::string key;
  std::function<Status(Conn&)> fn;
  std::function<void(Status)> done;
  bool atomic = false;  // writes nothing when it fails with a status
  Status status;
  // SQLite: the WAL sync its batch's commit deferred (sqlite_vfs.h), done before the answer.
  std::shared_ptr<WalSyncTarget> sync;
};

void Pool::RunGroupedAsync(std::string order_key, std::function<Status(Conn&)> fn,
                           std::function<void(Status)> done, bool atomic) {
  if (InTransaction()) {
    if (PgPipeline* pipeline = t_active_transaction->conn->pipeline()) pipeline->Claim(order_key);
    done(RunNested(fn, atomic ? Nested::kAtomic : Nested::kSavepoint));
    return;
  }
  const size_t max_threads = static_cast<size_t>(batch_threads());
  auto op = std::make_unique<GroupOp>();
  op->key = std::move(order_key);
  op->fn = std::move(fn);
  op->done = std::move(done);
  op->atomic = atomic;
  std::unique_lock lock(group_mu_);
  group_queue_.push_back(std::move(op));
  if (group_idle_ > 0) {
    lock.unlock();
    group_cv_.notify_one();
  } else if (group_threads_.size() < max_threads) {
    group_threads_.emplace_back([this] { BatchThread(); });
  }
  // Otherwise every batch thread is busy and takes the operation with its next batch.
}

Status Pool::RunGrouped(const std::string& order_key, const std::function<Status(Conn&)>& fn) {
  if (InTransaction()) return RunNested(fn, Nested::kSavepoint);
  return RunGroupedWaiting(order_key, fn, false);
}

Status Pool::RunGroupedWaiting(const std::string& order_key, const std::function<Status(Conn&)>& fn,
                               bool atomic) {
  return plugin::AwaitStatus([&](std::function<void(Status)> done) {
    RunGroupedAsync(order_key, [&fn](Conn& conn) { return fn(conn); }, std::move(done), atomic);
  });
}

Status Pool::RunGroupedAtomic(const std::string& order_key, const std::function<Status(Conn&)>& fn) {
  if (InTransaction()) {
    if (PgPipeline* pipeline = t_active_transaction->conn->pipeline()) pipeline->Claim(order_key);
    return RunNested(fn, Nested::kAtomic);
  }
  return RunGroupedWaiting(order_key, fn, true);
}

void Pool::BatchThread() {
  // Named for operators (top -H, perf, gdb); threads otherwise inherit their creator's name,
  // here one of gRPC's.
  ::pthread_setname_np(::pthread_self(), "flyte-db-batch");
  const size_t max_batch =
      options_.dialect == Dialect::kSqlite ? kSqliteMaxBatch : kPostgresMaxBatch;
  std::unique_lock lock(group_mu_);
  for (;;) {
    if (group_queue_.empty()) {
      if (group_stop_) return;
      ++group_idle_;
      group_cv_.wait(lock, [&] { return group_stop_ || !group_queue_.empty(); });
      --group_idle_;
      continue;
    }
    // The oldest waiting operations.
    size_t n = std::min(group_queue_.size(), max_batch);
    std::vector<std::unique_ptr<GroupOp>> batch(std::make_move_iterator(group_queue_.begin()),
                                                std::make_move_iterator(group_queue_.begin() + n));
    group_queue_.erase(group_queue_.begin(), group_queue_.begin() + n);
    group_stats_.transactions++;
    group_stats_.operations += n;
    lock.unlock();
    // On SQLite the commit does not wait for the device: the completion thread syncs the WAL
    // before it answers, while this thread runs the next batch (sqlite_vfs.h).
    const bool defer = options_.dialect == Dialect::kSqlite;
    if (defer) BeginDeferringWalSyncs();
    try {
      RunBatch(batch);
    } catch (...) {
      // Not a database or standard exception (those become statuses): still answer everyone.
      for (auto& o : batch) {
        o->status = Status(StatusCode::kInternal, "unexpected exception in a database operation");
      }
    }
    if (defer) {
      std::shared_ptr<WalSyncTarget> owed = EndDeferringWalSyncs();
      if (owed) {
        for (auto& o : batch) o->sync = owed;
      }
    }
    // The answers (which serialize responses and hand them to gRPC) are given on the
    // completion thread, while this thread runs the next batch.
    {
      std::lock_guard clock(completion_mu_);
      for (auto& o : batch) completions_.push_back(std::move(o));
      if (!completion_thread_.joinable()) completion_thread_ = std::thread([this] { CompletionThread(); });
    }
    completion_cv_.notify_one();
    batch.clear();
    lock.lock();
  }
}

void Pool::CompletionThread() {
  ::pthread_setname_np(::pthread_self(), "flyte-db-answer");
  std::unique_lock lock(completion_mu_);
  for (;;) {
    completion_cv_.wait(lock, [&] { return completion_stop_ || !completions_.empty(); });
    if (completions_.empty()) return;
    std::vector<std::unique_ptr<GroupOp>> ready;
    ready.swap(completions_);
    lock.unlock();
    // The deferred WAL syncs of these batches: one per file (however many commits it holds)
    // covers them all. Until it is done nobody hears of them; if it fails, the operations
    // it should have made durable fail (what they wrote stays visible, and may not survive a
    // crash).
    // After a failed sync the kernel may have dropped written pages and report the next
    // syncs clean: no later commit is acknowledged either, until the process restarts and
    // SQLite recovers the WAL from what the device holds (as PostgreSQL stops at such a
    // failure).
    // That holds for every answer, not only those of batches that owed a sync: an operation
    // that wrote nothing (a duplicate event answered ALREADY_EXISTS) read rows that may not
    // survive either, and its sender would stop resending what may be lost.
    std::vector<WalSyncTarget*> synced;
    for (auto& o : ready) {
      if (!o->sync || wal_sync_error_.load() != 0) continue;
      if (std::find(synced.begin(), synced.end(), o->sync.get()) != synced.end()) continue;
      synced.push_back(o->sync.get());
      if (int error = o->sync->Sync(); error != 0) wal_sync_error_ = error;
      std::lock_guard glock(group_mu_);
      group_stats_.wal_syncs++;
    }
    if (int error = wal_sync_error_.load(); error != 0) {
      for (auto& o : ready) o->status = DurabilityFailure(error);
    }
    // Answered in arrival order, outside the lock.
    for (auto& o : ready) {
      try {
        o->done(std::move(o->status));
      } catch (...) {
        // A callback must not throw; one that does cannot stop the others' answers.
      }
    }
    ready.clear();
    lock.lock();
  }
}

void Pool::RunBatch(std::vector<std::unique_ptr<GroupOp>>& batch) {
  if (batch.size() == 1) {
    // No concurrency: no savepoint either.
    batch[0]->status = RunTx(batch[0]->fn);
    return;
  }
  // One lock order for every batch; stable, so operations on one row keep their arrival order.
  // The operations are answered in the order they arrived, so the sort works on a view.
  std::vector<GroupOp*> order;
  order.reserve(batch.size());
  for (auto& o : batch) order.push_back(o.get());
  std::stable_sort(order.begin(), order.end(),
                   [](const GroupOp* a, const GroupOp* b) { return a->key < b->key; });
  const bool pg = options_.dialect == Dialect::kPostgres;
  // PostgreSQL: operations that write nothing when they fail (events) run interleaved, their
  // statements sent a round at a time (pg_pipeline.h).
  if (pg && std::all_of(order.begin(), order.end(), [](const GroupOp* o) { return o->atomic; }) &&
      RunPipelinedBatch(order)) {
    return;
  }
  bool abort_batch = false;
  Status status = RunTx([&](Conn& conn) -> Status {
    // Each operation runs in a savepoint of its own, so that a failing one rolls back alone,
    // except an atomic one, which writes nothing when it fails. Savepoint statements are held
    // back and sent with the next ones: PostgreSQL runs a statement list without parameters in
    // one round trip, so closing one operation's savepoint and opening the next cost one, and
    // COMMIT releases the last. SQLite compiles only the first statement of a string, and its
    // statements are local.
    std::vector<const char*> pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (pg) {
        std::string list;
        for (const char* stmt : pending) list += (list.empty() ? "" : "; ") + std::string(stmt);
        conn.Exec(list);
      } else {
        for (const char* stmt : pending) conn.ExecRepeated(stmt);
      }
      pending.clear();
    };
    bool open = false;
    for (GroupOp* op : order) {
      if (!op->atomic && !open) pending.push_back("SAVEPOINT flyte_group");
      open = !op->atomic;
      flush();
      Status s;
      try {
        s = op->fn(conn);
      } catch (const soci::soci_error& e) {
        // Without a savepoint of its own, an atomic operation's error may leave part of it
        // written: the batch is rolled back and run again, one operation at a time.
        if (AbortsBatch(e) || op->atomic) {
          abort_batch = true;
          throw;
        }
        s = MapError(e, options_.dialect);
      } catch (const std::exception& e) {
        if (op->atomic) {
          abort_batch = true;
          throw;
        }
        s = MapError(e, options_.dialect);
      }
      if (open) {
        if (!s.ok()) pending.push_back("ROLLBACK TO SAVEPOINT flyte_group");
        pending.push_back("RELEASE SAVEPOINT flyte_group");
        open = false;
      }
      op->status = std::move(s);
    }
    // What is left to send: a release (COMMIT does it) after a rollback, which must be sent.
    if (!pending.empty() && std::string(pending.front()) != "RELEASE SAVEPOINT flyte_group") flush();
    return Status::Ok();
  });
  if (status.ok()) return;
  // Nothing of the batch is committed. After a deadlock and the like each operation is retried
  // alone; any other failure (the COMMIT itself, a savepoint) is every operation's answer.
  for (auto& op : batch) op->status = abort_batch ? RunTx(op->fn) : status;
}

bool Pool::RunPipelinedBatch(const std::vector<GroupOp*>& order) {
  std::unique_ptr<Entry> entry;
  try {
    entry = Acquire();
  } catch (const std::exception& e) {
    Status status = MapError(e, options_.dialect);
    for (GroupOp* op : order) op->status = status;
    return true;
  }
  Conn conn(*entry->session, options_.dialect, entry->statements.get());
  PGconn* pg = static_cast<soci::postgresql_session_backend*>(entry->session->get_backend())->conn_;
  std::vector<PgPipeline::Op> ops(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    ops[i].fn = &order[i]->fn;
    ops[i].key = &order[i]->key;
  }
  PgPipeline pipeline(pg, entry->pipeline_statements);
  PgPipeline::Outcome outcome = PgPipeline::Outcome::kSerial;
  std::exception_ptr failure;
  {
    // The operations' nested repository calls join this transaction (RunNested), and their
    // statements go through the pipeline.
    conn.set_pipeline(&pipeline);
    ActiveTransaction active{this, &conn};
    t_active_transaction = &active;
    try {
      outcome = pipeline.Run(conn, ops);
    } catch (...) {
      failure = std::current_exception();
    }
    t_active_transaction = nullptr;
    conn.set_pipeline(nullptr);
  }
  bool healthy = PQstatus(pg) == CONNECTION_OK && PQpipelineStatus(pg) == PQ_PIPELINE_OFF;
  bool committed = false;
  std::optional<Status> commit_failed;
  if (healthy && pipeline.begun()) {
    const bool commit = !failure && outcome == PgPipeline::Outcome::kDone;
    try {
      conn.ExecRepeated(commit ? "COMMIT" : "ROLLBACK");
      committed = commit;
    } catch (const std::exception& e) {
      // As RunTx: a COMMIT that failed is every operation's answer, and leaves nothing open.
      if (commit) commit_failed = MapError(e, options_.dialect);
      try {
        conn.ExecRepeated("ROLLBACK");
      } catch (...) {
      }
      try {
        healthy = entry->session->is_connected();
      } catch (...) {
        healthy = false;
      }
    }
  } else if (healthy) {
    committed = !failure && outcome == PgPipeline::Outcome::kDone;  // nothing was sent
  }
  Release(std::move(entry), healthy);
  {
    std::lock_guard lock(group_mu_);
    if (committed) {
      group_stats_.pipelined++;
    } else if (failure || !healthy) {
      group_stats_.pipeline_retried++;
    } else if (!commit_failed) {
      group_stats_.pipeline_serial++;
    }
  }
  if (committed) {
    for (size_t i = 0; i < order.size(); ++i) order[i]->status = std::move(ops[i].status);
    return true;
  }
  if (commit_failed) {
    for (GroupOp* op : order) op->status = *commit_failed;
    return true;
  }
  if (failure || !healthy) {
    // Rolled back (or the connection is gone): each operation runs again alone, as after a
    // deadlock in a batch run without the pipeline.
    for (GroupOp* op : order) op->status = RunTx(op->fn);
    return true;
  }
  return false;  // an operation cannot run interleaved: the batch runs without the pipeline
}

// ---------------------------------------------------------------------------------------------
// Errors

namespace {

// The primary message of a libpq error ("duplicate key value violates unique constraint ..."),
// as pgconn.PgError.Message carries it upstream.
std::string PostgresPrimaryMessage(const std::string& full) {
  for (const char* marker : {"ERROR:  ", "FATAL:  ", "PANIC:  "}) {
    size_t at = full.find(marker);
    if (at != std::string::npos) {
      size_t start = at + std::strlen(marker);
      size_t end = full.find('\n', start);
      return full.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
  }
  return full;
}

std::string SqliteMessage(const std::string& full) {
  // SOCI prefixes "sqlite3_statement_backend::loadOne: " and similar.
  const std::string prefix = "sqlite3_statement_backend::";
  if (full.rfind(prefix, 0) == 0) {
    size_t colon = full.find(": ");
    if (colon != std::string::npos) return full.substr(colon + 2);
  }
  return full;
}

}  // namespace

Status MapError(const std::exception& e, Dialect dialect) {
  if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
    std::string message = PostgresPrimaryMessage(pg->get_error_message());
    std::string state = pg->sqlstate();
    if (state == "23505") {
      return {StatusCode::kAlreadyExists, "value with matching already exists (" + message + ")"};
    }
    if (state == "42P01") {
      return {StatusCode::kInvalidArgument,
              "cannot query with specified table attributes: " + message};
    }
    if (pg->get_error_category() == soci::soci_error::connection_error) {
      return {StatusCode::kUnavailable, "failed database operation with " + message};
    }
    return {StatusCode::kUnknown, "failed database operation with " + message};
  }
  if (auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    std::string message = SqliteMessage(lite->get_error_message());
    int code = lite->result() & 0xff;
    if (code == 19 /* SQLITE_CONSTRAINT */ && (message.find("UNIQUE") != std::string::npos ||
                                               message.find("PRIMARY KEY") != std::string::npos)) {
      return {StatusCode::kAlreadyExists, "value with matching already exists (" + message + ")"};
    }
    if (message.find("no such table") != std::string::npos) {
      return {StatusCode::kInvalidArgument,
              "cannot query with specified table attributes: " + message};
    }
    return {StatusCode::kUnknown, "failed database operation with " + message};
  }
  if (auto* se = dynamic_cast<const soci::soci_error*>(&e)) {
    std::string message = dialect == Dialect::kPostgres
                              ? PostgresPrimaryMessage(se->get_error_message())
                              : SqliteMessage(se->get_error_message());
    if (se->get_error_category() == soci::soci_error::connection_error ||
        message.find("Cannot establish connection") != std::string::npos) {
      return {StatusCode::kUnavailable, "failed database operation with " + message};
    }
    return {StatusCode::kUnknown, "failed database operation with " + message};
  }
  return {StatusCode::kInternal, std::string("unexpected error type for: ") + e.what()};
}

// ---------------------------------------------------------------------------------------------
// Helpers

std::string HexEncode(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string HexDecode(const std::string& hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 0;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>((nibble(hex[i]) << 4) | nibble(hex[i + 1])));
  }
  return out;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

}  // namespace

// Microseconds since 1970 (UTC) of the ISO 8601 forms PostgreSQL reads and returns: a date,
// then optionally 'T' or spaces and HH:MM[:SS[.fraction]] (rounded to the microsecond), then
// optionally Z, UTC, GMT or an offset (+HH, +HH:MM, +HHMM); without a zone, UTC. Nothing else,
// trailing text included.
std::optional<int64_t> ParseIsoTimeMicros(std::string_view text) {
  size_t pos = 0;
  const auto skip_blanks = [&] {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  };
  const auto number = [&](size_t width, int64_t& out) {
    if (pos + width > text.size()) return false;
    int64_t v = 0;
    for (size_t i = 0; i < width; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    pos += width;
    return true;
  };
  const auto take = [&](char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  skip_blanks();
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  if (!number(4, year) || !take('-') || !number(2, month) || !take('-') || !number(2, day)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1 || month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) {
    return std::nullopt;
  }
  const size_t before_time = pos;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't')) {
    ++pos;
  } else {
    skip_blanks();
  }
  if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (!number(2, hour) || !take(':') || !number(2, minute)) return std::nullopt;
    if (take(':')) {
      if (!number(2, second)) return std::nullopt;
      if (take('.')) {
        // Rounded to the microsecond, as PostgreSQL rounds.
        int64_t scale = 100000;
        size_t digits = 0;
        bool round_up = false;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (digits < 6) {
            micros += (text[pos] - '0') * scale;
            scale /= 10;
          } else if (digits == 6) {
            round_up = text[pos] >= '5';
          }
          ++digits;
          ++pos;
        }
        if (digits == 0) return std::nullopt;
        if (round_up) ++micros;
      }
    }
    if (hour > 24 || minute > 59 || second > 60 ||
        (hour == 24 && (minute != 0 || second != 0 || micros != 0))) {
      return std::nullopt;
    }
  } else {
    pos = before_time;
  }
  skip_blanks();
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    const std::string_view rest = text.substr(pos);
    const auto zone_is = [&](std::string_view name) {
      if (rest.size() < name.size()) return false;
      for (size_t i = 0; i < name.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(rest[i])) != name[i]) return false;
      }
      return true;
    };
    if (zone_is("UTC") || zone_is("GMT")) {
      pos += 3;
    } else if (text[pos] == 'Z' || text[pos] == 'z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      const int64_t sign = text[pos] == '+' ? 1 : -1;
      ++pos;
      int64_t oh = 0, om = 0;
      if (!number(2, oh)) return std::nullopt;
      if (take(':')) {
        if (!number(2, om)) return std::nullopt;
      } else if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (!number(2, om)) return std::nullopt;
      }
      if (oh > 15 || om > 59) return std::nullopt;
      offset_seconds = sign * (oh * 3600 + om * 60);
    }
  }
  skip_blanks();
  if (pos != text.size()) return std::nullopt;

  return (DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day)) * 86400 + hour * 3600 +
          minute * 60 + second - offset_seconds) *
             1000000 +
         micros;
}

std::string FormatUtcMicros(int64_t total) {
  int64_t days = total / 86400000000;
  int64_t rem = total % 86400000000;
  if (rem < 0) {
    rem += 86400000000;
    --days;
  }
  int64_t y = 0;
  int m = 0, d = 0;
  CivilFromDays(days, y, m, d);
  // The stored times all fall within 1-9999 (a protobuf Timestamp's range); a year outside it
  // (an offset across the ends) is clamped to them, which orders the same against every stored
  // time.
  if (y < 1) return std::string("0001-01-01 00:00:00.000000+00:00");
  if (y > 9999) return std::string("9999-12-31 23:59:59.999999+00:00");
  std::string out = "0000-00-00 00:00:00.000000+00:00";
  const auto put = [&out](size_t at, int width, int64_t v) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, 4, y);
  put(5, 2, m);
  put(8, 2, d);
  put(11, 2, rem / 3600000000);
  put(14, 2, rem / 60000000 % 60);
  put(17, 2, rem / 1000000 % 60);
  put(20, 6, rem % 1000000);
  return out;
}


std::string FormatTime(plugin::db::Time t) { return FormatUtcMicros(t.time_since_epoch().count()); }

std::optional<plugin::db::Time> ParseTime(const std::string& text) {
  auto micros = ParseIsoTimeMicros(text);
  if (!micros) return std::nullopt;
  return plugin::db::Time(std::chrono::microseconds(*micros));
}

std::string QuoteIdent(std::string_view name) {
  std::string out;
  AppendQuotedIdent(out, name);
  return out;
}

}  // namespace flyte::core::db
