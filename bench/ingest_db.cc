// Event ingestion at the repository level, on SQLite and on PostgreSQL: N threads each drive
// node-event-shaped operations (NodeExecutionRepo::Create with its QUEUED event, then Update
// with a RUNNING and a SUCCEEDED event, each Update mutating phase and closure) across many
// executions, for a fixed time; ops/s. The baseline, in the same run at the same concurrency,
// is a raw SOCI loop doing the same rows per commit: for a create, BEGIN; INSERT node row;
// INSERT event; COMMIT, and per event BEGIN; SELECT ... FOR UPDATE; UPDATE; INSERT event;
// COMMIT (SQLite: BEGIN IMMEDIATE and synchronous=FULL, one process-wide writer at a time).
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "bench_support.h"
#include "test_support.h"

using flyte::bench::Clock;
using flyte::bench::ConfigFrom;
using namespace flyte::plugin::db;  // NOLINT: the models

namespace {

constexpr int kExecutions = 200;
constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";


std::string ExecName(int i) { return "bench-exec-" + std::to_string(i); }

// A closure of a realistic size (a serialized NodeExecutionClosure is a few hundred bytes).
std::string Closure(const std::string& phase) { return std::string(300, 'c') + phase; }

// Runs `op(thread, i)` from `threads` threads for `seconds`; ops/s. Any failure aborts.
template <class Op>
double Drive(int threads, double seconds, Op op) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      long n = 0;
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) n += op(t, i);
      done += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  return static_cast<double>(done.load()) /
         std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "bench_ingest_db: " << what << "\n";
  std::exit(1);
}

// One node's events through the repositories: Create+QUEUED, Update+RUNNING, Update+SUCCEEDED.
long RepoNode(Repositories& repos, const std::string& run, int thread, int i) {
  NodeExecutionModel node;
  node.key.execution = {kProject, kDomain, ExecName((thread * 7919 + i) % kExecutions)};
  node.key.node_id = run + "-t" + std::to_string(thread) + "-n" + std::to_string(i);
  node.phase = "QUEUED";
  node.closure = Closure("QUEUED");
  node.input_uri = "s3://bucket/inputs.pb";
  node.node_execution_metadata = "meta";
  auto now = flyte::plugin::db::Now();
  NodeExecutionEventModel ev{"req", now, "QUEUED"};
  if (auto s = repos.NodeExecutions().Create(node, ev); !s.ok()) Die("Create: " + s.ToString());
  for (const char* phase : {"RUNNING", "SUCCEEDED"}) {
    NodeExecutionEventModel e{"req", now, phase};
    auto r = repos.NodeExecutions().Update(
        node.key,
        [&](NodeExecutionModel& m) {
          m.phase = phase;
          m.closure = Closure(phase);
          m.node_execution_updated_at = now;
          return flyte::plugin::Status::Ok();
        },
        e);
    if (!r.ok()) Die("Update: " + r.status().ToString());
  }
  return 3;
}

// The same rows per commit with plain SOCI statements.
class RawLoop {
 public:
  RawLoop(bool pg, std::string connect) : pg_(pg), connect_(std::move(connect)) {}

  std::unique_ptr<soci::session> Open() const {
    auto s = pg_ ? std::make_unique<soci::session>(soci::postgresql, connect_)
                 : std::make_unique<soci::session>(soci::sqlite3, connect_);
    if (!pg_) {
      std::string mode;
      *s << "PRAGMA journal_mode=WAL", soci::into(mode);
      *s << "PRAGMA busy_timeout=30000";
      *s << "PRAGMA synchronous=FULL";
    }
    return s;
  }

  // SQLite writers are serialized in-process (as the database layer does) rather than left
  // to spin on the busy handler.
  long Node(soci::session& s, const std::string& run, int thread, int i) {
    std::unique_lock<std::mutex> lock;
    if (!pg_) lock = std::unique_lock(sqlite_mu_);
    std::string exec = ExecName((thread * 7919 + i) % kExecutions);
    std::string node = run + "-t" + std::to_string(thread) + "-n" + std::to_string(i);
    std::string project = kProject, domain = kDomain;
    std::string now = Now();
    std::string begin = pg_ ? "BEGIN" : "BEGIN IMMEDIATE";
    std::string closure = Closure("QUEUED");
    std::string phase = "QUEUED";
    s << begin;
    s << "INSERT INTO node_executions (" << IdCol() << "created_at, updated_at, execution_project, "
      << "execution_domain, execution_name, node_id, phase, closure, input_uri) VALUES (" << IdVal("node_executions")
      << Ts(":now") << ", " << Ts(":now") << ", :p, :d, :e, :n, :ph, " << Blob(":c") << ", 'uri')",
        soci::use(now, "now"), soci::use(project, "p"), soci::use(domain, "d"), soci::use(exec, "e"),
        soci::use(node, "n"), soci::use(phase, "ph"), soci::use(closure, "c");
    InsertEvent(s, project, domain, exec, node, phase, now);
    s << "COMMIT";
    for (std::string ph : {"RUNNING", "SUCCEEDED"}) {
      std::string c = Closure(ph);
      long long id = 0;
      s << begin;
      s << "SELECT id FROM node_executions WHERE execution_project = :p AND execution_domain = :d AND "
           "execution_name = :e AND node_id = :n"
        << (pg_ ? " FOR UPDATE" : ""),
          soci::use(project, "p"), soci::use(domain, "d"), soci::use(exec, "e"), soci::use(node, "n"),
          soci::into(id);
      s << "UPDATE node_executions SET phase = :ph, closure = " << Blob(":c") << ", updated_at = " << Ts(":now")
        << " WHERE execution_project = :p AND execution_domain = :d AND execution_name = :e AND node_id = :n",
          soci::use(ph, "ph"), soci::use(c, "c"), soci::use(now, "now"), soci::use(project, "p"),
          soci::use(domain, "d"), soci::use(exec, "e"), soci::use(node, "n");
      InsertEvent(s, project, domain, exec, node, ph, now);
      s << "COMMIT";
    }
    return 3;
  }

 private:
  std::string Ts(const std::string& p) const { return pg_ ? "CAST(" + p + " AS timestamptz)" : p; }
  std::string Blob(const std::string& p) const { return pg_ ? "convert_to(" + p + ", 'UTF8')" : "CAST(" + p + " AS BLOB)"; }
  std::string IdCol() const { return pg_ ? "" : "id, "; }
  std::string IdVal(const std::string& table) const {
    return pg_ ? "" : "(SELECT COALESCE(MAX(id), 0) + 1 FROM " + table + "), ";
  }
  static std::string Now() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S+00:00", &tm);
    return buf;
  }
  void InsertEvent(soci::session& s, std::string& project, std::string& domain, std::string& exec,
                   std::string& node, std::string& phase, std::string& now) const {
    std::string req = "req";
    s << "INSERT INTO node_execution_events (" << IdCol()
      << "created_at, updated_at, execution_project, execution_domain, execution_name, node_id, request_id, "
         "occurred_at, phase) VALUES ("
      << IdVal("node_execution_events") << Ts(":now") << ", " << Ts(":now") << ", :p, :d, :e, :n, :r, " << Ts(":now")
      << ", :ph)",
        soci::use(now, "now"), soci::use(project, "p"), soci::use(domain, "d"), soci::use(exec, "e"),
        soci::use(node, "n"), soci::use(req, "r"), soci::use(phase, "ph");
  }

  bool pg_;
  std::string connect_;
  std::mutex sqlite_mu_;
};

struct Target {
  std::string backend;
  std::string db_yaml;
  std::string raw_connect;
};

void Prepare(const Target& t) {
  auto opened = flyte::core::db::OpenDatabase(ConfigFrom(t.db_yaml));
  if (!opened.ok()) Die(opened.status().ToString());
  auto db = opened.value();
  if (!db->MigrateUp([](const std::string&) {}).ok()) Die("migrate");
  for (int i = 0; i < kExecutions; ++i) {
    ExecutionModel e;
    e.key = {kProject, kDomain, ExecName(i)};
    e.phase = "RUNNING";
    e.closure = "closure";
    e.spec = "spec";
    e.launch_entity = "launch_plan";
    if (auto s = db->Repositories()->Executions().Create(e, {}); !s.ok()) Die("seed: " + s.ToString());
  }
}

void Measure(const Target& t, int threads, double seconds) {
  Prepare(t);
  const bool pg = t.backend == "postgres";
  RawLoop raw(pg, t.raw_connect);
  std::vector<std::unique_ptr<soci::session>> sessions;
  for (int i = 0; i < threads; ++i) sessions.push_back(raw.Open());
  double raw_ops = 0, repo_ops = 0;
  // Alternate twice so a warming cache or a noisy neighbour favours neither side.
  for (int round = 0; round < 2; ++round) {
    std::string run = "r" + std::to_string(round);
    raw_ops += Drive(threads, seconds / 2, [&](int th, int i) {
      try {
        return raw.Node(*sessions[th], "raw" + run, th, i);
      } catch (const std::exception& e) {
        Die(std::string("raw: ") + e.what());
      }
    });
    auto opened = flyte::core::db::OpenDatabase(ConfigFrom(t.db_yaml));
    if (!opened.ok()) Die(opened.status().ToString());
    auto repos = opened.value()->Repositories();
    repo_ops += Drive(threads, seconds / 2,
                      [&](int th, int i) { return RepoNode(*repos, "repo" + run, th, i); });
  }
  raw_ops /= 2;
  repo_ops /= 2;
  std::printf("[%s] %d threads: repositories %.0f ops/s, raw SOCI loop %.0f ops/s, ratio %.2f%s\n",
              t.backend.c_str(), threads, repo_ops, raw_ops, repo_ops / raw_ops,
              pg ? "  (goal >= 1.0)" : "  (goal: >= 50% of the gRPC echo's QPS, see bench_version)");
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  int threads = argc > 1 ? std::atoi(argv[1]) : 16;
  double seconds = argc > 2 ? std::atof(argv[2]) : 6;
  std::string only = argc > 3 ? argv[3] : "";
  for (std::string backend : {"sqlite", "postgres"}) {
    if (!only.empty() && only != backend) continue;
    auto database = flyte::bench::BenchDatabase::Start(backend, "ingest");
    Target t{backend, database.db_yaml, database.soci_connect};
    Measure(t, threads, seconds);
    database.Stop();
  }
  return 0;
}
