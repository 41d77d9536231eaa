// Group commit of the event-ingestion writes (Pool::RunGrouped and the execution repositories
// over it), on SQLite and a real PostgreSQL: concurrent operations share a transaction, each
// in its own savepoint, and keep the semantics of running one at a time.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "connection.h"
#include "db_test_util.h"
#include "sqlite_vfs.h"

namespace flyte::test::db {
namespace {

using core::db::Conn;
using core::db::Dialect;
using core::db::Pool;
using core::db::PoolOptions;
using core::db::Sql;
using plugin::Status;
using plugin::StatusCode;
using namespace plugin::db;  // NOLINT: models and repositories

// A latch the test opens once.
class Gate {
 public:
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Polls until `pred` holds (at most 10 s).
template <class Pred>
bool Eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::unique_ptr<Pool> PoolOf(const TestDb& t) {
  PoolOptions options;
  if (t.pg()) {
    options.dialect = Dialect::kPostgres;
    options.connect_string = "host=127.0.0.1 port=" + std::to_string(t.port()) +
                             " dbname=" + t.dbname() + " user=postgres sslmode=disable";
  } else {
    options.dialect = Dialect::kSqlite;
    // As the server opens it (database.cc): through the VFS that gathers WAL writes.
    options.connect_string = "db=\"" + core::db::SqliteUriThroughGatheringWal(t.path()) + "\" timeout=30";
  }
  return std::make_unique<Pool>(options);
}

// A pool on `t` with the scratch table gc_rows: a text key `k`, and a bigint `v` when `with_value`.
std::unique_ptr<Pool> PoolWithRows(const TestDb& t, bool with_value = false) {
  auto pool = PoolOf(t);
  REQUIRE(pool->Run([&](Conn& conn) {
                conn.Exec(with_value ? "CREATE TABLE gc_rows (k text PRIMARY KEY, v bigint NOT NULL)"
                                     : "CREATE TABLE gc_rows (k text PRIMARY KEY)");
                return Status::Ok();
              }).ok());
  return pool;
}

// INSERT of a gc_rows row (with `v` when given), as a cached statement.
void InsertKey(Conn& conn, const std::string& k, std::optional<int64_t> v = std::nullopt) {
  Sql sql(conn.dialect());
  sql << (v ? "INSERT INTO gc_rows (k, v) VALUES (" : "INSERT INTO gc_rows (k) VALUES (");
  sql.BindText(k);
  if (v) {
    sql << ", ";
    sql.BindInt(*v);
  }
  sql << ")";
  conn.Exec(sql.Cached());
}

// Runs `fn(i)` on `n` threads at once and waits for them.
template <class Fn>
void Burst(int n, Fn fn) {
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { fn(i); });
  for (auto& th : threads) th.join();
}

// Occupies every batch thread (`threads`: Pool::batch_threads()) with an operation that waits
// on `gate`, so the operations started meanwhile queue up and run as one batch after it opens.
class LeaderBlocker {
 public:
  template <class StartBlocked>
  LeaderBlocker(int threads, StartBlocked start) {
    // One at a time, so that each gets a batch thread of its own while one is free (on
    // PostgreSQL, operations queued at once may share a batch and leave a thread idle).
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this, start, i] { start(i, [this] {
                              ++inside_;
                              gate_.Wait();
                            }); });
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
      while (inside_.load() <= i && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    REQUIRE(inside_.load() >= 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  void Release() {
    gate_.Open();
    for (auto& th : threads_) th.join();
    threads_.clear();
  }
  ~LeaderBlocker() {
    if (!threads_.empty()) Release();
  }

 private:
  Gate gate_;
  std::atomic<int> inside_{0};
  std::vector<std::thread> threads_;
};

TEST_CASE("Concurrent grouped operations share one transaction and each keeps its own outcome",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend);
  auto pool = PoolWithRows(t, true);
  auto insert = [](Conn& conn, const std::string& k, int64_t v) { InsertKey(conn, k, v); };
  // The transaction an operation ran in: PostgreSQL's top-level transaction id.
  auto tx_of = [&](Conn& conn) -> std::string {
    if (conn.dialect() != Dialect::kPostgres) return "";
    Sql sql(conn.dialect());
    sql << "SELECT CAST(txid_current() AS text)";
    return *conn.Query(sql, 1)[0][0];
  };

  constexpr int kOps = 12;
  std::vector<Status> results(kOps);
  std::vector<std::string> txs(kOps);
  {
    LeaderBlocker blocker(pool->batch_threads(), [&](int i, auto wait) {
      pool->RunGrouped("blocker" + std::to_string(i), [&, i](Conn& conn) {
        wait();
        insert(conn, "blocker" + std::to_string(i), i);
        return Status::Ok();
      });
    });
    std::vector<std::thread> ops;
    for (int i = 0; i < kOps; ++i) {
      ops.emplace_back([&, i] {
        results[i] = pool->RunGrouped("row" + std::to_string(i), [&, i](Conn& conn) -> Status {
          txs[i] = tx_of(conn);
          // Op 3 inserts two rows, the second a duplicate of op 2's: its first row must go too.
          if (i == 3) insert(conn, "own3", 3);
          insert(conn, i == 3 ? "k2" : "k" + std::to_string(i), i);
          if (i == 5) return Status(StatusCode::kFailedPrecondition, "op 5 refuses");
          return Status::Ok();
        });
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    blocker.Release();
    for (auto& th : ops) th.join();
  }

  std::map<std::string, int> per_tx;
  for (int i = 0; i < kOps; ++i) per_tx[txs[i]]++;
  int largest = 0;
  for (auto& [tx, n] : per_tx) largest = std::max(largest, n);
  // Batched: several operations in one transaction.
  auto stats = pool->group_stats();
  CHECK(stats.operations == static_cast<uint64_t>(kOps + pool->batch_threads()));
  CHECK(stats.transactions <= 5);
  if (t.pg()) CHECK(largest >= 2);

  for (int i = 0; i < kOps; ++i) {
    CAPTURE(i);
    if (i == 3) {
      CHECK(results[i].code() == StatusCode::kAlreadyExists);
      CHECK(results[i].message().rfind("value with matching already exists (", 0) == 0);
    } else if (i == 5) {
      CHECK(results[i].code() == StatusCode::kFailedPrecondition);
      CHECK(results[i].message() == "op 5 refuses");
    } else {
      CHECK(results[i].ok());
    }
  }
  auto raw = t.Raw();
  // Everything but op 3's two rows and op 5's row, plus the blockers' rows.
  CHECK(Count(*raw, "SELECT COUNT(*) FROM gc_rows") == kOps - 2 + pool->batch_threads());
  CHECK(Count(*raw, "SELECT COUNT(*) FROM gc_rows WHERE k IN ('own3', 'k5')") == 0);
  CHECK(Count(*raw, "SELECT v FROM gc_rows WHERE k = 'k2'") == 2);
}

TEST_CASE("A lone grouped operation runs as a plain transaction", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend);
  auto pool = PoolWithRows(t);
  Status s = pool->RunGrouped("a", [](Conn& conn) {
    conn.Exec("INSERT INTO gc_rows (k) VALUES ('a')");
    return Status(StatusCode::kAborted, "no");
  });
  CHECK(s.code() == StatusCode::kAborted);
  CHECK(pool->RunGrouped("a", [](Conn& conn) {
              conn.Exec("INSERT INTO gc_rows (k) VALUES ('a')");
              return Status::Ok();
            }).ok());
  CHECK(Count(*t.Raw(), "SELECT COUNT(*) FROM gc_rows") == 1);
}

ExecutionModel Execution(const std::string& name) {
  ExecutionModel e;
  e.key = ExecutionKey{"p", "development", name};
  e.phase = "RUNNING";
  e.spec = "spec";
  e.closure = "closure";
  e.launch_entity = "launch_plan";
  return e;
}

NodeExecutionModel Node(const std::string& execution, const std::string& node_id) {
  NodeExecutionModel n;
  n.key = NodeExecutionKey{ExecutionKey{"p", "development", execution}, node_id};
  n.phase = "QUEUED";
  n.closure = "closure";
  n.node_execution_metadata = "meta";
  return n;
}

TaskExecutionModel Task(const std::string& execution, const std::string& node_id) {
  TaskExecutionModel te;
  te.key.task = EntityKey{"p", "development", "my-task", "v1"};
  te.key.node_execution = NodeExecutionKey{ExecutionKey{"p", "development", execution}, node_id};
  te.key.retry_attempt = 0;
  te.phase = "QUEUED";
  te.closure = "closure";
  return te;
}

TEST_CASE("Concurrent updates of one execution, node and task execution lose nothing and each "
          "sees the one before it",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  const ExecutionKey key{"p", "development", "hot"};
  REQUIRE(repos.Executions().Create(Execution("hot"), {}).ok());
  const NodeExecutionKey node_key{key, "n0"};
  REQUIRE(repos.NodeExecutions().Create(Node("hot", "n0"), std::nullopt).ok());
  const TaskExecutionModel task = Task("hot", "n0");
  REQUIRE(repos.TaskExecutions().Create(task).ok());

  constexpr int kThreads = 16;
  constexpr int kUpdates = 20;
  std::mutex mu;
  std::set<int64_t> exec_seen, node_seen, task_seen;
  std::atomic<int> failures{0};
  Burst(kThreads, [&](int th) {
    for (int j = 0; j < kUpdates; ++j) {
      const std::string phase = "P" + std::to_string(th) + "-" + std::to_string(j);
      auto a = repos.Executions().Update(
          key,
          [](ExecutionModel& e) {
            e.duration_ns += 1;
            return Status::Ok();
          },
          ExecutionEventModel{"r", flyte::plugin::db::Now(), phase});
      auto b = repos.NodeExecutions().Update(
          node_key,
          [&](NodeExecutionModel& n) {
            n.duration_ns += 1;
            n.phase = phase;
            return Status::Ok();
          },
          NodeExecutionEventModel{"r", flyte::plugin::db::Now(), phase});
      auto c = repos.TaskExecutions().Update(task.key, [](TaskExecutionModel& m) {
        m.phase_version += 1;
        return Status::Ok();
      });
      if (!a.ok() || !b.ok() || !c.ok()) {
        failures++;
        continue;
      }
      std::lock_guard lock(mu);
      exec_seen.insert(a->duration_ns);
      node_seen.insert(b->duration_ns);
      task_seen.insert(c->phase_version);
    }
  });
  constexpr int kTotal = kThreads * kUpdates;
  REQUIRE(failures == 0);
  // Every returned row is the one written: each update saw the previous one's result, so the
  // counters returned are exactly 1..kTotal, as if the updates had run one after another.
  CHECK(exec_seen.size() == kTotal);
  CHECK(*exec_seen.begin() == 1);
  CHECK(*exec_seen.rbegin() == kTotal);
  CHECK(node_seen.size() == kTotal);
  CHECK(*node_seen.rbegin() == kTotal);
  CHECK(task_seen.size() == kTotal);
  CHECK(*task_seen.rbegin() == kTotal);
  CHECK(repos.Executions().Get(key)->duration_ns == kTotal);
  CHECK(repos.NodeExecutions().Get(node_key)->duration_ns == kTotal);
  CHECK(repos.TaskExecutions().Get(task.key)->phase_version == kTotal);
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT COUNT(*) FROM execution_events") == kTotal);
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events") == kTotal);
}

TEST_CASE("In a batch, duplicates are ALREADY_EXISTS one by one and a failing mutation fails "
          "alone while the rest commit",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  const int blockers = Pool::BatchThreads(t.pg() ? Dialect::kPostgres : Dialect::kSqlite);
  for (int i = 0; i < blockers; ++i) {
    REQUIRE(repos.Executions().Create(Execution("blocker" + std::to_string(i)), {}).ok());
  }
  REQUIRE(repos.Executions().Create(Execution("ex"), {}).ok());
  REQUIRE(repos.NodeExecutions().Create(Node("ex", "existing"), std::nullopt).ok());
  const NodeExecutionKey existing{{"p", "development", "ex"}, "existing"};
  auto now = flyte::plugin::db::Now();

  // Ops: 0-7 create nodes n0..n7 with a QUEUED event; 8 and 9 create n0 again (duplicates of
  // op 0, or op 0 is theirs: exactly one of 0, 8, 9 succeeds); 10 updates "existing" with a
  // RUNNING event, 11 repeats that event (duplicate: ALREADY_EXISTS, nothing changes); 12 updates
  // "existing" with a mutation that fails; 13 and 14 update it with counters.
  constexpr int kOps = 15;
  std::vector<Status> results(kOps);
  std::vector<std::optional<NodeExecutionModel>> rows(kOps);
  {
    LeaderBlocker blocker(blockers, [&](int i, auto wait) {
      // Checked through the blockers' rows below (Catch2 assertions are main-thread only).
      (void)repos.Executions().Update({"p", "development", "blocker" + std::to_string(i)},
                                      [&](ExecutionModel& e) {
                                        wait();
                                        e.duration_ns = 1;
                                        return Status::Ok();
                                      });
    });
    std::vector<std::thread> ops;
    for (int i = 0; i < kOps; ++i) {
      ops.emplace_back([&, i] {
        if (i < 10) {
          auto node = Node("ex", "n" + std::to_string(i < 8 ? i : 0));
          node.input_uri = "op" + std::to_string(i);
          results[i] = repos.NodeExecutions().Create(node,
                                                     NodeExecutionEventModel{"r", now, "QUEUED"});
          return;
        }
        auto mutate = [i](NodeExecutionModel& n) -> Status {
          if (i == 12) {
            n.phase = "BROKEN";
            return Status(StatusCode::kInvalidArgument, "op 12 refuses");
          }
          n.duration_ns += 1;
          if (i <= 11) n.phase = "RUNNING";
          return Status::Ok();
        };
        std::optional<NodeExecutionEventModel> event;
        if (i <= 11) event = NodeExecutionEventModel{"r", now, "RUNNING"};
        auto r = repos.NodeExecutions().Update(existing, mutate, event);
        results[i] = r.status();
        if (r.ok()) rows[i] = *r;
      });
      // Ops 10 and 11 must arrive in this order for "the second is the duplicate".
      if (i == 10) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    blocker.Release();
    for (auto& th : ops) th.join();
  }

  for (int i = 1; i < 8; ++i) CHECK(results[i].ok());
  int n0_ok = 0;
  for (int i : {0, 8, 9}) {
    if (results[i].ok()) {
      n0_ok++;
    } else {
      CHECK(results[i].code() == StatusCode::kAlreadyExists);
    }
  }
  CHECK(n0_ok == 1);
  CHECK(results[10].ok());
  CHECK(results[11].code() == StatusCode::kAlreadyExists);
  CHECK(results[12].code() == StatusCode::kInvalidArgument);
  CHECK(results[12].message() == "op 12 refuses");
  CHECK(results[13].ok());
  CHECK(results[14].ok());

  for (int i = 0; i < blockers; ++i) {
    CHECK(repos.Executions().Get({"p", "development", "blocker" + std::to_string(i)})->duration_ns ==
          1);
  }
  auto stored = repos.NodeExecutions().Get(existing);
  REQUIRE(stored.ok());
  CHECK(stored->duration_ns == 3);  // ops 10, 13, 14
  CHECK(stored->phase == "RUNNING");
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_executions WHERE execution_name = 'ex'") == 9);
  // One QUEUED event per created node, one RUNNING event for "existing".
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events WHERE phase = 'QUEUED'") == 8);
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events WHERE phase = 'RUNNING'") == 1);
  // The winner of n0 is the one whose row is stored.
  auto n0 = repos.NodeExecutions().Get({{"p", "development", "ex"}, "n0"});
  REQUIRE(n0.ok());
  for (int i : {0, 8, 9}) {
    if (results[i].ok()) CHECK(n0->input_uri == "op" + std::to_string(i));
  }
}

TEST_CASE("An update writes exactly the mutated row, unchanged columns included", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  auto node = Node("ex", "n");
  node.error_kind = "USER";
  node.parent_id = 7;
  REQUIRE(repos.NodeExecutions().Create(node, std::nullopt).ok());
  const NodeExecutionKey key = node.key;
  // Set some columns, clear others (to NULL), leave the rest.
  auto first = repos.NodeExecutions().Update(key, [](NodeExecutionModel& n) {
    n.phase = "FAILED";
    n.error_kind = std::nullopt;
    n.cache_status = "CACHE_HIT";
    n.duration_ns = 5;
    return Status::Ok();
  });
  REQUIRE(first.ok());
  auto stored = repos.NodeExecutions().Get(key);
  REQUIRE(stored.ok());
  CHECK(stored->phase == "FAILED");
  CHECK(!stored->error_kind.has_value());
  CHECK(stored->cache_status == std::optional<std::string>("CACHE_HIT"));
  CHECK(stored->parent_id == std::optional<int64_t>(7));
  CHECK(stored->closure == "closure");
  CHECK(stored->duration_ns == 5);
  CHECK(stored->updated_at == first->updated_at);
  // A mutation that changes nothing still writes updated_at.
  auto second = repos.NodeExecutions().Update(key, [](NodeExecutionModel&) { return Status::Ok(); });
  REQUIRE(second.ok());
  CHECK(second->updated_at > first->updated_at);
  CHECK(repos.NodeExecutions().Get(key)->updated_at == second->updated_at);
  // And back: NULL to a value.
  REQUIRE(repos.NodeExecutions()
              .Update(key,
                      [](NodeExecutionModel& n) {
                        n.error_kind = "SYSTEM";
                        n.parent_id = std::nullopt;
                        return Status::Ok();
                      })
              .ok());
  stored = repos.NodeExecutions().Get(key);
  CHECK(stored->error_kind == std::optional<std::string>("SYSTEM"));
  CHECK(!stored->parent_id.has_value());
  CHECK(stored->cache_status == std::optional<std::string>("CACHE_HIT"));
  CHECK(stored->phase == "FAILED");
}

TEST_CASE("Calls made inside a grouped operation join its transaction; a failing nested write "
          "rolls back alone",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend);
  auto pool = PoolWithRows(t);
  auto insert = [&](const std::string& k) {
    return pool->RunTx([&](Conn& conn) {
      InsertKey(conn, k);
      return Status::Ok();
    });
  };
  auto count = [&](int64_t& out) {
    return pool->Run([&](Conn& conn) {
      out = std::stoll(*conn.Query(Sql(conn.dialect()) << "SELECT COUNT(*) FROM gc_rows", 1)[0][0]);
      return Status::Ok();
    });
  };

  Status nested_duplicate, nested_grouped;
  int64_t seen_inside = -1;
  Status outer = pool->RunGrouped("outer", [&](Conn&) -> Status {
    // Each of these would wait for the write lock (SQLite) or a batch thread if it did not join.
    if (auto s = insert("a"); !s.ok()) return s;
    nested_duplicate = insert("a");
    nested_grouped = pool->RunGrouped("inner", [&](Conn& conn) {
      conn.Exec("INSERT INTO gc_rows (k) VALUES ('b')");
      return Status::Ok();
    });
    // The reads see the transaction's own writes.
    return count(seen_inside);
  });
  REQUIRE(outer.ok());
  CHECK(nested_duplicate.code() == StatusCode::kAlreadyExists);
  CHECK(nested_grouped.ok());
  CHECK(seen_inside == 2);
  CHECK(Count(*t.Raw(), "SELECT COUNT(*) FROM gc_rows") == 2);

  // A failing grouped operation undoes its nested writes too.
  Status failed = pool->RunGrouped("outer", [&](Conn&) -> Status {
    if (auto s = insert("c"); !s.ok()) return s;
    return Status(StatusCode::kFailedPrecondition, "refused after writing");
  });
  CHECK(failed.code() == StatusCode::kFailedPrecondition);
  CHECK(Count(*t.Raw(), "SELECT COUNT(*) FROM gc_rows WHERE k = 'c'") == 0);
}

TEST_CASE("An asynchronous grouped operation is answered after its commit, off the caller's thread",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  REQUIRE(repos.Executions().Create(Execution("ex"), {}).ok());

  constexpr int kOps = 40;
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0;
  std::vector<Status> results(kOps);
  std::vector<int64_t> committed(kOps, -1);
  std::set<std::thread::id> answer_threads;
  for (int i = 0; i < kOps; ++i) {
    repos.RunGroupedAsync(
        "node" + std::to_string(i),
        [&, i]() -> Status {
          // The whole operation through the repositories: a read, then a create with its event.
          if (!repos.Executions().GetCluster({"p", "development", "ex"}).ok()) return Status(StatusCode::kInternal, "");
          auto exists = repos.NodeExecutions().Exists({{"p", "development", "ex"}, "n" + std::to_string(i)});
          if (!exists.ok() || exists.value()) return Status(StatusCode::kInternal, "unexpected row");
          if (i % 10 == 9) {
            // Written, then refused: nothing of it may remain.
            (void)repos.NodeExecutions().Create(Node("ex", "n" + std::to_string(i)), std::nullopt);
            return Status(StatusCode::kFailedPrecondition, "op refuses");
          }
          return repos.NodeExecutions().Create(Node("ex", "n" + std::to_string(i)),
                                               NodeExecutionEventModel{"r", flyte::plugin::db::Now(), "QUEUED"});
        },
        [&, i](Status s) {
          // Committed already: another connection sees the row.
          int64_t n = -1;
          // Named: SOCI runs the statement after the full expression's temporaries are gone.
          const std::string node_id = "n" + std::to_string(i);
          try {
            auto check = t.Raw();
            *check << "SELECT COUNT(*) FROM node_executions WHERE node_id = :n", soci::into(n),
                soci::use(node_id);
          } catch (...) {
          }
          std::lock_guard lock(mu);
          results[i] = std::move(s);
          committed[i] = n;
          answer_threads.insert(std::this_thread::get_id());
          ++answered;
          cv.notify_one();
        });
  }
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return answered == kOps; }));
  }
  for (int i = 0; i < kOps; ++i) {
    CAPTURE(i);
    if (i % 10 == 9) {
      CHECK(results[i].code() == StatusCode::kFailedPrecondition);
      CHECK(committed[i] == 0);
    } else {
      CHECK(results[i].ok());
      CHECK(committed[i] == 1);
    }
  }
  CHECK(answer_threads.count(std::this_thread::get_id()) == 0);
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_executions") == kOps - kOps / 10);
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events") == kOps - kOps / 10);
}

TEST_CASE("Inside a grouped operation, a refused create or update writes nothing and the operation "
          "goes on",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  REQUIRE(repos.Executions().Create(Execution("ex"), {}).ok());
  REQUIRE(repos.NodeExecutions().Create(Node("ex", "n0"), std::nullopt).ok());
  const NodeExecutionKey n0{{"p", "development", "ex"}, "n0"};
  auto now = flyte::plugin::db::Now();

  Status duplicate_create, refused_update, duplicate_task;
  Status work = repos.RunGrouped("work", [&]() -> Status {
    duplicate_create = repos.NodeExecutions().Create(Node("ex", "n0"), NodeExecutionEventModel{"r", now, "QUEUED"});
    // The event row is written before the mutation refuses: it must go again.
    auto refused = repos.NodeExecutions().Update(
        n0, [](NodeExecutionModel&) { return Status(StatusCode::kFailedPrecondition, "refused"); },
        NodeExecutionEventModel{"r", now, "RUNNING"});
    refused_update = refused.status();
    if (auto s = repos.TaskExecutions().Create(Task("ex", "n0")); !s.ok()) return s;
    duplicate_task = repos.TaskExecutions().Create(Task("ex", "n0"));
    // Applied after the refusals, in the same transaction.
    auto applied = repos.NodeExecutions().Update(
        n0,
        [](NodeExecutionModel& m) {
          m.phase = "SUCCEEDED";
          return Status::Ok();
        },
        NodeExecutionEventModel{"r", now, "SUCCEEDED"});
    return applied.status();
  });
  REQUIRE(work.ok());
  CHECK(duplicate_create.code() == StatusCode::kAlreadyExists);
  CHECK(refused_update.code() == StatusCode::kFailedPrecondition);
  CHECK(refused_update.message() == "refused");
  CHECK(duplicate_task.code() == StatusCode::kAlreadyExists);
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_executions") == 1);
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events WHERE phase IN ('QUEUED', 'RUNNING')") == 0);
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events WHERE phase = 'SUCCEEDED'") == 1);
  CHECK(Count(*raw, "SELECT COUNT(*) FROM task_executions") == 1);
  CHECK(repos.NodeExecutions().Get(n0)->phase == "SUCCEEDED");
}

TEST_CASE("Atomic operations share a batch without savepoints; one that throws makes the batch run "
          "again one operation at a time",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  const bool with_throw = GENERATE(false, true);
  CAPTURE(with_throw);
  TestDb t(backend);
  auto pool = PoolWithRows(t);
  auto insert = [](Conn& conn, const std::string& k) { InsertKey(conn, k); };
  constexpr int kOps = 6;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<Status>> results(kOps);
  {
    LeaderBlocker blocker(pool->batch_threads(), [&](int i, auto wait) {
      pool->RunGrouped("blocker" + std::to_string(i), [&, i](Conn& conn) {
        wait();
        insert(conn, "blocker" + std::to_string(i));
        return Status::Ok();
      });
    });
    for (int i = 0; i < kOps; ++i) {
      const bool atomic = i != 2 && i != 5;
      pool->RunGroupedAsync(
          "op" + std::to_string(i),
          [&, i](Conn& conn) -> Status {
            switch (i) {
              case 1:
                return Status(StatusCode::kFailedPrecondition, "refused before writing");
              case 2:
                insert(conn, "k2");
                return Status(StatusCode::kFailedPrecondition, "refused after writing");
              case 4:
                // A duplicate key: the database error of an atomic operation.
                if (with_throw) insert(conn, "k0");
                return Status::Ok();
              default:
                insert(conn, "k" + std::to_string(i));
                return Status::Ok();
            }
          },
          [&, i](Status s) {
            std::lock_guard lock(mu);
            results[i] = std::move(s);
            cv.notify_one();
          },
          atomic);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    blocker.Release();
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] {
      return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
    }));
  }
  CHECK(results[0]->ok());
  CHECK(results[1]->code() == StatusCode::kFailedPrecondition);
  CHECK(results[2]->message() == "refused after writing");
  CHECK(results[3]->ok());
  if (with_throw) {
    CHECK(results[4]->code() == StatusCode::kAlreadyExists);
  } else {
    CHECK(results[4]->ok());
  }
  CHECK(results[5]->ok());
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT COUNT(*) FROM gc_rows WHERE k LIKE 'k%'") == 3);  // k0, k3, k5
  CHECK(Count(*raw, "SELECT COUNT(*) FROM gc_rows WHERE k = 'k2'") == 0);
  CHECK(Count(*raw, "SELECT COUNT(*) FROM gc_rows WHERE k LIKE 'blocker%'") == pool->batch_threads());
}

// The statements the writer repeats (Sql::Cached()) are prepared once per connection; on SQLite
// they run through SQLite's own API instead of SOCI. Whatever path runs them, a value must read
// back as a one-time statement reads it, and errors must mean the same.
TEST_CASE("Cached statements bind, read and fail exactly as one-time statements", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend);
  auto pool = PoolOf(t);
  const std::string blob_type = t.pg() ? "bytea" : "blob";
  REQUIRE(pool->Run([&](Conn& conn) {
                conn.Exec("CREATE TABLE st_rows (k text PRIMARY KEY, t text, n bigint, b " + blob_type + ")");
                return Status::Ok();
              }).ok());
  const std::string with_nul("a\0b\xff\x01", 5);
  struct Case {
    std::string k;
    std::optional<std::string> t;
    std::optional<int64_t> n;
    std::optional<std::string> b;
  };
  const std::vector<Case> cases = {
      {"empty", std::string(), 0, std::string()},
      {"nulls", std::nullopt, std::nullopt, std::nullopt},
      {"values", std::string("h\xc3\xa9llo 'quoted' \"x\""), INT64_MIN, with_nul},
      {"max", std::string(70000, 'z'), INT64_MAX, std::string(70000, '\0')},
  };
  auto insert = [&](Conn& conn, const Case& c, bool cached) {
    Sql sql(conn.dialect());
    sql << "INSERT INTO st_rows (k, t, n, b) VALUES (";
    sql.BindText(c.k) << ", ";
    sql.BindOptText(c.t) << ", ";
    sql.Bind(c.n ? core::db::Value::Int(*c.n) : core::db::Value::Null()) << ", ";
    sql.BindOptBytes(c.b) << ")";
    return conn.Exec(cached ? sql.Cached() : sql);
  };
  auto select = [&](Conn& conn, const std::string& k, bool cached) {
    Sql sql(conn.dialect());
    sql << "SELECT t, n, " << (t.pg() ? "encode(b, 'hex')" : "b") << " FROM st_rows WHERE k = ";
    sql.BindText(k);
    return conn.Query(cached ? sql.Cached() : sql, 3);
  };
  for (const Case& c : cases) {
    CAPTURE(c.k);
    REQUIRE(pool->RunTx([&](Conn& conn) {
                  CHECK(insert(conn, c, true) == 1);
                  return Status::Ok();
                }).ok());
    REQUIRE(pool->Run([&](Conn& conn) {
                  auto cached = select(conn, c.k, true);
                  auto once = select(conn, c.k, false);
                  REQUIRE(cached.size() == 1);
                  CHECK(cached == once);
                  const auto& row = cached[0];
                  CHECK(row[0] == c.t);
                  CHECK(row[1] == (c.n ? std::optional<std::string>(std::to_string(*c.n)) : std::nullopt));
                  if (c.b) {
                    REQUIRE(row[2]);
                    CHECK((t.pg() ? core::db::HexDecode(*row[2]) : *row[2]) == *c.b);
                  } else {
                    CHECK_FALSE(row[2]);
                  }
                  return Status::Ok();
                }).ok());
  }
  // A failing run leaves the cached statement usable, and maps as the one-time one does.
  Status cached_dup = pool->RunTx([&](Conn& conn) {
    insert(conn, cases[0], true);
    return Status::Ok();
  });
  Status once_dup = pool->RunTx([&](Conn& conn) {
    insert(conn, cases[0], false);
    return Status::Ok();
  });
  CHECK(cached_dup.code() == StatusCode::kAlreadyExists);
  CHECK(cached_dup.ToString() == once_dup.ToString());
  REQUIRE(pool->RunTx([&](Conn& conn) {
                CHECK(insert(conn, {"after", std::string("ok"), 7, std::nullopt}, true) == 1);
                // Affected rows of an update, and a query that matches nothing.
                Sql update(conn.dialect());
                update << "UPDATE st_rows SET n = n + 1 WHERE n IS NOT NULL AND k <> ";
                update.BindText("max");
                CHECK(conn.Exec(update.Cached()) == 3);
                CHECK(select(conn, "absent", true).empty());
                // The failed insert's bindings were rebuilt (on PostgreSQL, to free SOCI's
                // buffers): the same statement still sends each new value where it belongs.
                const auto after = select(conn, "after", true);
                REQUIRE(after.size() == 1);
                CHECK(after[0][0] == std::optional<std::string>("ok"));
                CHECK(after[0][1] == std::optional<std::string>("8"));
                CHECK_FALSE(after[0][2]);
                return Status::Ok();
              }).ok());
}

}  // namespace
TEST_CASE("SQLite grouped commits are answered only once the completion thread has synced their WAL",
          "[integration]") {
  TestDb t("sqlite");
  auto pool = PoolWithRows(t);
  constexpr int kOps = 30;
  std::vector<uint64_t> syncs_at_answer(kOps, 0);
  std::vector<Status> results(kOps);
  for (int i = 0; i < kOps; ++i) {
    // One at a time: each its own batch, committed then synced before its answer.
    std::promise<void> answered;
    pool->RunGroupedAsync(
        "k" + std::to_string(i),
        [i](Conn& conn) -> Status {
          InsertKey(conn, "k" + std::to_string(i));
          return Status::Ok();
        },
        [&, i](Status s) {
          results[i] = std::move(s);
          syncs_at_answer[i] = pool->group_stats().wal_syncs;
          answered.set_value();
        });
    answered.get_future().wait();
  }
  for (int i = 0; i < kOps; ++i) {
    CAPTURE(i);
    CHECK(results[i].ok());
    // The first commit of a connection syncs its new WAL itself; every later one is synced by
    // the completion thread, before its answer.
    CHECK(syncs_at_answer[i] >= static_cast<uint64_t>(i));
    if (i > 0) CHECK(syncs_at_answer[i] - syncs_at_answer[i - 1] <= 1);
  }
  auto stats = pool->group_stats();
  CHECK(stats.transactions == kOps);
  CHECK(stats.wal_syncs <= stats.transactions);

  // Many at once: one sync covers every commit made while the previous one ran.
  // Catch's assertions are not thread-safe: the threads record, the test thread checks.
  std::vector<Status> burst(64);
  Burst(64, [&](int i) {
    burst[i] = pool->RunGrouped("b" + std::to_string(i), [i](Conn& conn) -> Status {
      InsertKey(conn, "b" + std::to_string(i));
      return Status::Ok();
    });
  });
  for (const Status& s : burst) CHECK(s.ok());
  auto after = pool->group_stats();
  CHECK(after.wal_syncs - stats.wal_syncs <= after.transactions - stats.transactions);
  pool.reset();
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT COUNT(*) FROM gc_rows") == kOps + 64);
}

TEST_CASE("After a failed WAL sync nothing is acknowledged, not even an operation that wrote nothing",
          "[integration]") {
  TestDb t("sqlite");
  auto pool = PoolWithRows(t);
  auto insert = [](std::string key) {
    return [key](Conn& conn) -> Status {
      InsertKey(conn, key);
      return Status::Ok();
    };
  };
  // The connection's first commit syncs its new WAL itself; the second one's sync is deferred.
  REQUIRE(pool->RunGrouped("a", insert("a")).ok());
  REQUIRE(pool->RunGrouped("b", insert("b")).ok());

  core::db::FailWalSyncsForTesting(EIO);
  Status lost = pool->RunGrouped("c", insert("c"));
  core::db::FailWalSyncsForTesting(0);
  CHECK(lost.code() == StatusCode::kInternal);
  CHECK_THAT(lost.message(), Catch::Contains("could not make a commit durable"));
  CHECK_THAT(lost.message(), Catch::Contains(std::strerror(EIO)));

  // The sender resends; the row is visible (maybe not durable) and its duplicate writes
  // nothing. Answering ALREADY_EXISTS would make the sender stop resending what may be lost.
  Status resent = pool->RunGrouped("c", [](Conn&) -> Status {
    return Status(StatusCode::kAlreadyExists, "event already recorded");
  });
  CHECK(resent.code() == StatusCode::kInternal);
  CHECK_THAT(resent.message(), Catch::Contains("restart the server"));
  // Later commits, grouped or not, whose own syncs succeed: the log they extend may have lost
  // frames before them.
  CHECK(pool->RunGrouped("d", insert("d")).code() == StatusCode::kInternal);
  CHECK(pool->RunTx(insert("e")).code() == StatusCode::kInternal);
}

TEST_CASE("SQLite grouped writes acknowledged before the process is killed are all there, intact",
          "[integration]") {
  TestDb t("sqlite");
  { auto pool = PoolWithRows(t, true); }
  int acks[2];
  REQUIRE(::pipe(acks) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // No Catch2 here: the parent judges by what was acknowledged on the pipe. Writers on 8
    // threads, each acknowledged row reported once its RunGrouped has answered.
    ::close(acks[0]);
    auto pool = PoolOf(t);
    std::atomic<int> next{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 8; ++w) {
      writers.emplace_back([&] {
        for (;;) {
          int i = next++;
          Status s = pool->RunGrouped("k" + std::to_string(i), [i](Conn& conn) -> Status {
            InsertKey(conn, "k" + std::to_string(i), i);
            return Status::Ok();
          });
          if (!s.ok()) ::_exit(3);
          if (::write(acks[1], &i, sizeof i) != static_cast<ssize_t>(sizeof i)) ::_exit(4);
        }
      });
    }
    for (auto& th : writers) th.join();
    ::_exit(0);
  }
  ::close(acks[1]);
  std::vector<int> acked;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int i = 0;
  while (acked.size() < 3000 && std::chrono::steady_clock::now() < deadline &&
         ::read(acks[0], &i, sizeof i) == static_cast<ssize_t>(sizeof i)) {
    acked.push_back(i);
  }
  // Killed in the middle of its batches, commits and syncs.
  ::kill(child, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  while (::read(acks[0], &i, sizeof i) == static_cast<ssize_t>(sizeof i)) acked.push_back(i);
  ::close(acks[0]);
  REQUIRE(acked.size() >= 3000);

  auto raw = t.Raw();
  CHECK(Strings(*raw, "PRAGMA integrity_check") == std::vector<std::string>{"ok"});
  std::set<std::string> present;
  for (auto& k : Strings(*raw, "SELECT k FROM gc_rows")) present.insert(k);
  size_t missing = 0;
  for (int k : acked) missing += present.count("k" + std::to_string(k)) == 0;
  CHECK(missing == 0);
  CHECK(present.size() >= acked.size());
}

TEST_CASE("SQLite checkpoints run on the pool's own thread once the WAL passes the threshold, and "
          "lose nothing",
          "[integration]") {
  TestDb t("sqlite");
  PoolOptions options;
  options.dialect = Dialect::kSqlite;
  options.connect_string = "db=\"" + core::db::SqliteUriThroughGatheringWal(t.path()) + "\" timeout=30";
  options.sqlite_checkpoint_frames = 50;
  auto pool = std::make_unique<Pool>(options);
  REQUIRE(pool->Run([&](Conn& conn) {
                conn.Exec("CREATE TABLE ck_rows (k text PRIMARY KEY, v blob NOT NULL)");
                return Status::Ok();
              }).ok());
  namespace fs = std::filesystem;
  const auto db_size = [&] { return fs::file_size(t.path()); };
  const auto wal_size = [&] { return fs::exists(t.path() + "-wal") ? fs::file_size(t.path() + "-wal") : 0; };
  const uintmax_t empty = db_size();
  // Fewer frames than the threshold: nothing is copied into the database file yet (SQLite's own
  // automatic checkpoint, which this replaces, would not have run either).
  auto insert = [&](int from, int to) {
    return pool->RunTx([&](Conn& conn) {
      for (int i = from; i < to; ++i) {
        Sql sql(conn.dialect());
        sql << "INSERT INTO ck_rows (k, v) VALUES (";
        sql.BindText("row-" + std::to_string(i));
        sql << ", ";
        sql.BindText(std::string(3000, static_cast<char>('a' + i % 26)));
        sql << ")";
        conn.Exec(sql.Cached());
      }
      return Status::Ok();
    });
  };
  REQUIRE(insert(0, 10).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(db_size() == empty);
  // Past it, from grouped and plain writers alike: the checkpoint thread copies the WAL back
  // (the database file grows) while the writers go on, and the WAL is then reused from its
  // start instead of growing with every commit.
  for (int batch = 1; batch <= 20; ++batch) REQUIRE(insert(batch * 10, batch * 10 + 10).ok());
  for (int i = 0; i < 20; ++i) {
    REQUIRE(pool->RunGrouped("g" + std::to_string(i), [&](Conn& conn) {
                  Sql sql(conn.dialect());
                  sql << "INSERT INTO ck_rows (k, v) VALUES (";
                  sql.BindText("grouped-" + std::to_string(i));
                  sql << ", x'00')";
                  conn.Exec(sql.Cached());
                  return Status::Ok();
                }).ok());
  }
  CHECK(Eventually([&] { return db_size() > empty + 100 * 3000; }));
  // ~1000 more pages written: a WAL never started over would end past 4 MB.
  for (int round = 0; round < 50; ++round) {
    REQUIRE(insert(1000 + round * 20, 1000 + round * 20 + 20).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(wal_size() < 2 * 1024 * 1024);
  // Every row is there, intact, from a new connection after the pool is gone.
  pool.reset();
  auto check = std::make_unique<Pool>(options);
  REQUIRE(check->Run([&](Conn& conn) {
                auto rows = conn.Query(Sql(conn.dialect()) << "SELECT count(*), sum(length(v)) FROM ck_rows", 2);
                REQUIRE(rows.size() == 1);
                CHECK(rows[0][0] == "1230");
                CHECK(rows[0][1] == std::to_string(1210 * 3000 + 20));
                auto ok = conn.Query(Sql(conn.dialect()) << "PRAGMA integrity_check", 1);
                REQUIRE(ok.size() == 1);
                CHECK(ok[0][0] == "ok");
                return Status::Ok();
              }).ok());
}

namespace {

// ---------------------------------------------------------------------------------------------
// PostgreSQL: batches of atomic operations run interleaved through a pipeline (pg_pipeline.h).

// One operation of a batch.
struct BatchOp {
  std::string key;
  std::function<Status(Conn&)> fn;
  bool atomic = true;
};

// Runs `ops` as one batch (every batch thread held until they are all queued) and returns
// their statuses in order.
std::vector<Status> RunAsOneBatch(Pool& pool, const std::vector<BatchOp>& ops) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<Status>> results(ops.size());
  {
    LeaderBlocker blocker(pool.batch_threads(), [&](int i, auto wait) {
      pool.RunGrouped("blocker" + std::to_string(i), [&, wait](Conn&) {
        wait();
        return Status::Ok();
      });
    });
    for (size_t i = 0; i < ops.size(); ++i) {
      pool.RunGroupedAsync(
          ops[i].key, ops[i].fn,
          [&, i](Status s) {
            std::lock_guard lock(mu);
            results[i] = std::move(s);
            cv.notify_one();
          },
          ops[i].atomic);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    blocker.Release();
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] {
      return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
    }));
  }
  std::vector<Status> out;
  for (auto& r : results) out.push_back(*r);
  return out;
}

// The value of gc_rows row `k`, read (FOR UPDATE) in `conn`.
int64_t ReadValue(Conn& conn, const std::string& k) {
  Sql sql(conn.dialect());
  sql << "SELECT v FROM gc_rows WHERE k = ";
  sql.BindText(k);
  sql << " FOR UPDATE";
  auto rows = conn.Query(sql.Cached(), 1);
  REQUIRE(rows.size() == 1);
  return std::stoll(*rows[0][0]);
}

void WriteValue(Conn& conn, const std::string& k, int64_t v) {
  Sql sql(conn.dialect());
  sql << "UPDATE gc_rows SET v = ";
  sql.BindInt(v);
  sql << " WHERE k = ";
  sql.BindText(k);
  REQUIRE(conn.Exec(sql.Cached()) == 1);
}

int64_t StoredValue(const TestDb& t, const std::string& k) {
  long long v = 0;
  *t.Raw() << "SELECT v FROM gc_rows WHERE k = '" + k + "'", soci::into(v);
  return v;
}

TEST_CASE("PostgreSQL interleaves a batch's atomic operations, and each keeps the outcome it has "
          "alone",
          "[integration]") {
  TestDb t("postgres");
  auto pool = PoolWithRows(t, true);
  constexpr int kKeys = 6;
  REQUIRE(pool->Run([&](Conn& conn) {
                for (int k = 0; k < kKeys; ++k) InsertKey(conn, "r" + std::to_string(k), 0);
                return Status::Ok();
              }).ok());
  // Each operation reads its row and writes it back with its digit appended: operations on one
  // row must run one after the other in arrival order (a lost update or a reordering shows in
  // the digits), and operations on different rows interleave (the log shows every first read
  // sent before any operation's second statement).
  std::mutex log_mu;
  std::vector<std::string> log;
  auto note = [&](const std::string& what) {
    std::lock_guard lock(log_mu);
    log.push_back(what);
  };
  std::vector<BatchOp> ops;
  for (int i = 0; i < 3 * kKeys; ++i) {
    const std::string k = "r" + std::to_string(i % kKeys);
    const int digit = i / kKeys + 1;
    ops.push_back({"gc_rows/" + k, [&, k, digit, i](Conn& conn) -> Status {
                     note("read " + std::to_string(i));
                     int64_t v = ReadValue(conn, k);
                     note("write " + std::to_string(i));
                     if (i == 4) return Status(StatusCode::kFailedPrecondition, "refused after reading");
                     WriteValue(conn, k, v * 10 + digit);
                     return Status::Ok();
                   }});
  }
  // One that issues no statement at all.
  ops.push_back({"gc_rows/none", [](Conn&) { return Status(StatusCode::kNotFound, "nothing to do"); }});
  auto before = pool->group_stats();
  auto statuses = RunAsOneBatch(*pool, ops);
  auto after = pool->group_stats();
  CHECK(after.pipelined == before.pipelined + 1);
  CHECK(after.pipeline_serial == before.pipeline_serial);
  CHECK(after.pipeline_retried == before.pipeline_retried);
  for (int i = 0; i < 3 * kKeys; ++i) {
    CAPTURE(i);
    if (i == 4) {
      CHECK(statuses[i].code() == StatusCode::kFailedPrecondition);
    } else {
      CHECK(statuses[i].ok());
    }
  }
  CHECK(statuses.back().code() == StatusCode::kNotFound);
  for (int k = 0; k < kKeys; ++k) {
    CAPTURE(k);
    // Row r4's first operation refused: its digit is missing.
    CHECK(StoredValue(t, "r" + std::to_string(k)) == (k == 4 ? 23 : 123));
  }
  // The first operation on each row read before any operation wrote: they shared round trips.
  std::lock_guard lock(log_mu);
  auto first_write =
      std::find_if(log.begin(), log.end(), [](const std::string& e) { return e.rfind("write", 0) == 0; });
  CHECK(std::count_if(log.begin(), first_write, [](const std::string& e) { return e.rfind("read", 0) == 0; }) ==
        kKeys);
}

TEST_CASE("PostgreSQL runs a batch without the pipeline when an operation needs a savepoint, two "
          "operations claim one row, or one issues a statement from a catch handler",
          "[integration]") {
  TestDb t("postgres");
  auto pool = PoolWithRows(t, true);
  REQUIRE(pool->Run([&](Conn& conn) {
                InsertKey(conn, "shared", 0);
                for (int k = 0; k < 4; ++k) InsertKey(conn, "own" + std::to_string(k), 0);
                return Status::Ok();
              }).ok());
  // How operation 2 reaches the shared row: like the others (a claim on it), through a nested
  // savepoint, or (writing only its own row, as the others do then) from inside a catch handler.
  const std::string how = GENERATE(as<std::string>{}, "claim", "savepoint", "handler");
  CAPTURE(how);
  // Each operation increments its own row and, through a nested grouped call, the shared row:
  // interleaved, two of them would read the shared row before either wrote it.
  std::vector<BatchOp> ops;
  for (int i = 0; i < 4; ++i) {
    const std::string own = "own" + std::to_string(i);
    ops.push_back({"gc_rows/" + own, [&, own, i](Conn& conn) -> Status {
                     WriteValue(conn, own, ReadValue(conn, own) + 1);
                     auto bump = [&](Conn& inner) {
                       WriteValue(inner, "shared", ReadValue(inner, "shared") + 1);
                       return Status::Ok();
                     };
                     if (how == "handler") {
                       if (i != 2) return Status::Ok();
                       try {
                         throw std::runtime_error("handled");
                       } catch (const std::runtime_error&) {
                         WriteValue(conn, own, ReadValue(conn, own) + 10);
                         return Status::Ok();
                       }
                     }
                     if (i == 2 && how == "savepoint") return pool->RunGrouped("", bump);
                     return pool->RunGroupedAtomic("gc_rows/shared", bump);
                   }});
  }
  auto before = pool->group_stats();
  auto statuses = RunAsOneBatch(*pool, ops);
  auto after = pool->group_stats();
  for (const Status& s : statuses) CHECK(s.ok());
  CHECK(after.pipeline_serial == before.pipeline_serial + 1);
  CHECK(after.pipelined == before.pipelined);
  CHECK(StoredValue(t, "shared") == (how == "handler" ? 0 : 4));
  for (int k = 0; k < 4; ++k) CHECK(StoredValue(t, "own" + std::to_string(k)) == (how == "handler" && k == 2 ? 11 : 1));
}

TEST_CASE("PostgreSQL runs a pipelined batch again one operation at a time after a database "
          "error or a lost connection",
          "[integration]") {
  TestDb t("postgres");
  auto pool = PoolWithRows(t, true);
  REQUIRE(pool->Run([&](Conn& conn) {
                InsertKey(conn, "dup", 0);
                return Status::Ok();
              }).ok());
  const bool lose_connection = GENERATE(false, true);
  CAPTURE(lose_connection);
  std::atomic<bool> killed{false};
  std::vector<BatchOp> ops;
  for (int i = 0; i < 5; ++i) {
    const std::string k = "new" + std::to_string(i);
    ops.push_back({"gc_rows/" + k, [&, k, i](Conn& conn) -> Status {
                     if (i == 2) {
                       if (lose_connection) {
                         // Ends the batch's connection (its server process), once.
                         if (!killed.exchange(true)) {
                           Sql kill(conn.dialect());
                           kill << "SELECT pg_terminate_backend(pg_backend_pid())";
                           conn.Query(kill, 1);
                         }
                       } else {
                         InsertKey(conn, "dup", 1);  // a duplicate key: a database error
                       }
                     }
                     InsertKey(conn, k, i);
                     return Status::Ok();
                   }});
  }
  auto before = pool->group_stats();
  auto statuses = RunAsOneBatch(*pool, ops);
  auto after = pool->group_stats();
  CHECK(after.pipeline_retried == before.pipeline_retried + 1);
  for (int i = 0; i < 5; ++i) {
    CAPTURE(i);
    if (i == 2 && !lose_connection) {
      CHECK(statuses[i].code() == StatusCode::kAlreadyExists);
      CHECK(Count(*t.Raw(), "SELECT COUNT(*) FROM gc_rows WHERE k = 'new2'") == 0);
    } else {
      CHECK(statuses[i].ok());
      CHECK(StoredValue(t, "new" + std::to_string(i)) == i);
    }
  }
  CHECK(StoredValue(t, "dup") == 0);
  // The pool goes on working, on a new connection.
  CHECK(pool->RunGrouped("after", [](Conn& conn) {
              InsertKey(conn, "after", 7);
              return Status::Ok();
            }).ok());
}

TEST_CASE("PostgreSQL: a task's first event batched with its node's first event sees the node, as "
          "in key order",
          "[integration]") {
  TestDb t("postgres", TestDb::kMigrated);
  auto& repos = t.repos();
  REQUIRE(repos.Executions().Create(Execution("ex"), {}).ok());
  const int blockers = Pool::BatchThreads(Dialect::kPostgres);
  for (int i = 0; i < blockers; ++i) {
    REQUIRE(repos.Executions().Create(Execution("blocker" + std::to_string(i)), {}).ok());
  }
  const TaskExecutionModel task = Task("ex", "n1");
  const NodeExecutionKey node_key = task.key.node_execution;
  auto any_cluster = [](const std::string&) { return Status::Ok(); };
  const auto before = t.db().GroupCommit();
  std::optional<Status> node_result, task_result;
  bool node_exists = false;
  {
    LeaderBlocker blocker(blockers, [&](int i, auto wait) {
      (void)repos.Executions().Update({"p", "development", "blocker" + std::to_string(i)},
                                      [&](ExecutionModel&) {
                                        wait();
                                        return Status::Ok();
                                      });
    });
    std::mutex mu;
    std::condition_variable cv;
    // As the managers run them: the node's first event finds no row (a round trip), then
    // creates it; the task's first event finds no row and reads whether its node exists.
    repos.RunGroupedAsync(
        "node_executions\x1fp\x1f" "development\x1f" "ex\x1fn1",
        [&]() -> Status {
          auto updated = repos.NodeExecutions().UpdateChecked(node_key, any_cluster,
                                                              [](NodeExecutionModel&) { return Status::Ok(); });
          if (updated.status().code() != StatusCode::kNotFound) return Status(StatusCode::kInternal, "found");
          return repos.NodeExecutions().Create(Node("ex", "n1"), std::nullopt);
        },
        [&](Status s) {
          std::lock_guard lock(mu);
          node_result = s;
          cv.notify_all();
        },
        true);
    repos.RunGroupedAsync(
        "task_executions\x1fp\x1f" "development\x1f" "ex\x1fn1",
        [&]() -> Status {
          return repos.TaskExecutions()
              .UpdateChecked(task.key, any_cluster, [](TaskExecutionModel&) { return Status::Ok(); }, &node_exists)
              .status();
        },
        [&](Status s) {
          std::lock_guard lock(mu);
          task_result = s;
          cv.notify_all();
        },
        true);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    blocker.Release();
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return node_result && task_result; }));
  }
  CHECK(node_result->ok());
  CHECK(task_result->code() == StatusCode::kNotFound);  // no task row yet
  CHECK(node_exists);
  const auto after = t.db().GroupCommit();
  CHECK(after.pipeline_serial == before.pipeline_serial + 1);
}

}  // namespace

}  // namespace flyte::test::db
