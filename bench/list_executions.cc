// ListExecutions/CountExecutions as the console issues them, over `rows` executions (default
// 1M), on SQLite and on PostgreSQL, before and after Database::EnsureListIndexes: project +
// domain + state = ACTIVE, newest first (created_at or execution_created_at), optionally joined
// to launch_plans or workflows by name, optionally filtered on phase; p50/p99 per query shape
// against a GetExecution-by-key p50 in the same run. Rows are inserted with one INSERT ...
// SELECT per table, not through the repositories.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <string>
#include <vector>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "bench_support.h"
#include "test_support.h"

using flyte::bench::Clock;
using flyte::bench::ConfigFrom;
using flyte::bench::Micros;
using namespace flyte::plugin::db;  // NOLINT: the models

namespace {

constexpr int kPairs = 30;         // 10 projects x 3 domains
constexpr int kPlansPerPair = 7;   // launch plans (and workflows) per project/domain


[[noreturn]] void Die(const std::string& what) {
  std::cerr << "bench_list_executions: " << what << "\n";
  std::exit(1);
}

std::string Project(int pair) { return "p" + std::to_string(pair % 10); }
std::string Domain(int pair) {
  static const char* kDomains[] = {"development", "staging", "production"};
  return kDomains[(pair / 10) % 3];
}

// Execution i belongs to pair i % 30 and launch plan/workflow k = ((i / 30) % 7) * 30 + i % 30
// (ids k + 1); phases (within each project/domain too): 80% SUCCEEDED, 10% RUNNING, 5% FAILED,
// 5% ABORTED; 2% archived.
void Seed(soci::session& s, bool pg, int rows) {
  const std::string series =
      pg ? "FROM generate_series(0, " + std::to_string(rows - 1) + ") AS g(i)"
         : "FROM (WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < " +
               std::to_string(rows - 1) + ") SELECT i FROM g)";
  const std::string ts = pg ? "(timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second')"
                            : "strftime('%Y-%m-%d %H:%M:%f+00:00', '2024-01-01', '+' || i || ' seconds')";
  const std::string pair = "(i % 30)";
  const std::string project = "'p' || (" + pair + " % 10)";
  const std::string domain = "CASE (" + pair + " / 10) WHEN 0 THEN 'development' WHEN 1 THEN 'staging' ELSE 'production' END";
  const std::string plan = "(((i / 30) % 7) * 30 + i % 30)";
  const std::string blob = pg ? "decode('00', 'hex')" : "CAST('x' AS BLOB)";
  s << "BEGIN";
  int plans = kPairs * kPlansPerPair;
  std::string plan_series = pg ? "FROM generate_series(0, " + std::to_string(plans - 1) + ") AS g(i)"
                               : "FROM (WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < " +
                                     std::to_string(plans - 1) + ") SELECT i FROM g)";
  for (const char* table : {"workflows", "launch_plans"}) {
    std::string t = table;
    std::string extra_cols = t == "workflows" ? "remote_closure_identifier, typed_interface, digest"
                                              : "spec, workflow_id, closure, state, digest, schedule_type";
    std::string extra_vals = t == "workflows" ? "'s3://wf', " + blob + ", " + blob
                                              : blob + ", i + 1, " + blob + ", 1, " + blob + ", 'NONE'";
    s << "INSERT INTO " + t + " (id, created_at, updated_at, project, domain, name, version, " + extra_cols +
             ") SELECT i + 1, " + ts + ", " + ts + ", " + project + ", " + domain + ", '" +
             (t == "workflows" ? "wf" : "lp") + "-' || i, 'v1', " + extra_vals + " " + plan_series;
  }
  s << "INSERT INTO executions (id, created_at, updated_at, execution_project, execution_domain, "
       "execution_name, launch_plan_id, workflow_id, task_id, phase, closure, spec, started_at, "
       "execution_created_at, execution_updated_at, duration, abort_cause, mode, source_execution_id, "
       "parent_node_execution_id, cluster, inputs_uri, user_inputs_uri, \"user\", state, launch_entity) "
       "SELECT i + 1, " + ts + ", " + ts + ", " + project + ", " + domain + ", 'e' || i, " + plan + " + 1, " +
           plan + " + 1, 0, CASE WHEN (i / 30) % 20 < 16 THEN 'SUCCEEDED' WHEN (i / 30) % 20 < 18 THEN "
           "'RUNNING' WHEN (i / 30) % 20 = 18 THEN 'FAILED' ELSE 'ABORTED' END, " + blob + ", " + blob + ", " + ts + ", " + ts +
           ", " + ts + ", 1000, '', 0, 0, 0, 'c1', 's3://in', 's3://uin', 'alice', CASE WHEN i % 50 = 7 THEN 1 "
           "ELSE 0 END, 'launch_plan' " + series;
  if (pg) {
    s << "SELECT setval(pg_get_serial_sequence('executions', 'id'), " + std::to_string(rows) + ")";
  }
  s << "COMMIT";
  s << "ANALYZE";
}

Filter F(const std::string& table, const std::string& column, FilterOp op, std::vector<std::string> values) {
  return Filter{table, column, op, std::move(values)};
}

struct Shape {
  std::string name;
  std::function<flyte::plugin::Status(ExecutionRepo&, int)> run;
};

std::vector<Shape> Shapes() {
  auto base = [](int i) {
    int pair = i % kPairs;
    return std::vector<Filter>{F("executions", "execution_project", FilterOp::kEq, {Project(pair)}),
                               F("executions", "execution_domain", FilterOp::kEq, {Domain(pair)}),
                               F("executions", "state", FilterOp::kEq, {"0"})};
  };
  auto list = [base](std::string sort, std::function<void(std::vector<Filter>&, int)> extra) {
    return [base, sort, extra](ExecutionRepo& repo, int i) -> flyte::plugin::Status {
      ListInput in;
      in.filters = base(i);
      if (extra) extra(in.filters, i);
      in.sort = Sort{sort, false};
      in.limit = 50;
      auto r = repo.List(in);
      return r.status();
    };
  };
  auto plan_name = [](const char* prefix) {
    return [prefix](int i) { return std::string(prefix) + std::to_string((i % kPlansPerPair) * kPairs + i % kPairs); };
  };
  return {
      {"newest 50 by created_at", list("created_at", nullptr)},
      {"newest 50 by execution_created_at", list("execution_created_at", nullptr)},
      {"launch_plan.name, newest 50", list("created_at",
                                           [plan_name](std::vector<Filter>& f, int i) {
                                             f.push_back(F("launch_plans", "name", FilterOp::kEq, {plan_name("lp-")(i)}));
                                           })},
      {"workflow.name, newest 50", list("created_at",
                                        [plan_name](std::vector<Filter>& f, int i) {
                                          f.push_back(F("workflows", "name", FilterOp::kEq, {plan_name("wf-")(i)}));
                                        })},
      {"phase FAILED, newest 50", list("created_at",
                                       [](std::vector<Filter>& f, int) {
                                         f.push_back(F("executions", "phase", FilterOp::kValueIn, {"FAILED"}));
                                       })},
      {"phase in (FAILED, ABORTED), newest 50",
       list("created_at",
            [](std::vector<Filter>& f, int) {
              f.push_back(F("executions", "phase", FilterOp::kValueIn, {"FAILED", "ABORTED"}));
            })},
      {"count by phase", [base](ExecutionRepo& repo, int i) -> flyte::plugin::Status {
         ListInput in;
         in.filters = base(i);
         in.filters.push_back(F("executions", "phase", FilterOp::kValueIn, {"RUNNING", "QUEUED"}));
         return repo.Count(in).status();
       }},
  };
}


std::pair<double, double> Time(int n, const std::function<void(int)>& fn) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) {
    auto start = Clock::now();
    fn(i);
    v.push_back(Micros(Clock::now() - start));
  }
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

void Measure(const std::string& backend, ExecutionRepo& repo, const char* phase) {
  auto get = Time(300, [&](int i) {
    int pair = i % kPairs;
    (void)pair;
    auto r = repo.Get({Project(i % kPairs), Domain(i % kPairs), "e" + std::to_string(i * 997 % 1000 * 30 + i % kPairs)});
    if (!r.ok()) Die("Get: " + r.status().ToString());
  });
  std::printf("[%s] %-14s GetExecution p50 %7.0f us\n", backend.c_str(), phase, get.first);
  for (const Shape& s : Shapes()) {
    auto t = Time(40, [&](int i) {
      auto st = s.run(repo, i);
      if (!st.ok()) Die(s.name + ": " + st.ToString());
    });
    std::printf("[%s] %-14s %-40s p50 %9.0f us  p99 %9.0f us  p99/get-p50 %6.1f\n", backend.c_str(), phase,
                s.name.c_str(), t.first, t.second, t.second / get.first);
  }
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  int rows = argc > 1 ? std::atoi(argv[1]) : 1000000;
  std::string only = argc > 2 ? argv[2] : "";
  // "keep": leave the databases (and the PostgreSQL server) behind for EXPLAIN; prints where.
  const bool keep = argc > 3 && std::string(argv[3]) == "keep";
  for (std::string backend : {"sqlite", "postgres"}) {
    if (!only.empty() && only != backend) continue;
    auto database = flyte::bench::BenchDatabase::Start(backend, "list-db");
    const std::string& db_yaml = database.db_yaml;
    const std::string& raw = database.soci_connect;
    const bool pg = backend == "postgres";
    {
      auto opened = flyte::core::db::OpenDatabase(ConfigFrom(db_yaml));
      if (!opened.ok()) Die(opened.status().ToString());
      auto db = opened.value();
      if (!db->MigrateUp([](const std::string&) {}).ok()) Die("migrate");
      auto seed_start = Clock::now();
      {
        soci::session s(pg ? static_cast<const soci::backend_factory&>(soci::postgresql) : soci::sqlite3, raw);
        Seed(s, pg, rows);
      }
      std::printf("[%s] seeded %d executions in %.1f s\n", backend.c_str(), rows,
                  std::chrono::duration<double>(Clock::now() - seed_start).count());
      Measure(backend, db->Repositories()->Executions(), "before indexes");
      auto index_start = Clock::now();
      if (auto st = db->EnsureListIndexes([](const std::string&) {}); !st.ok()) Die(st.ToString());
      {
        soci::session s(pg ? static_cast<const soci::backend_factory&>(soci::postgresql) : soci::sqlite3, raw);
        s << "ANALYZE";
      }
      std::printf("[%s] EnsureListIndexes took %.1f s\n", backend.c_str(),
                  std::chrono::duration<double>(Clock::now() - index_start).count());
      Measure(backend, db->Repositories()->Executions(), "after indexes");
    }
    if (keep) {
      std::printf("[%s] kept: %s (state file %s)\n", backend.c_str(), raw.c_str(), database.pg_state.c_str());
      continue;
    }
    database.Stop();
  }
  return 0;
}
