// Registration and list benchmarks, on SQLite and on PostgreSQL, each against `flyteadmin serve`:
//  - the flytesnacks-core package registered as flytectl does, with fresh versions, repeatedly;
//  - ListTasks / ListWorkflows / ListLaunchPlans p50/p99 over 100k rows of each, against the
//    GetTask p50 measured in the same run (goal: list p99 <= 5x get p50; the package < 1 s).
// Rows are seeded through the database layer's repositories before the server starts.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/admin/task.pb.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "bench_support.h"
#include "grpc_helpers.h"
#include "registration_client.h"
#include "test_support.h"

using flyte::bench::Clock;
using flyte::bench::ConfigFrom;
using flyte::bench::Micros;
using flyte::bench::Percentiles;
using flyte::bench::Stats;
using flyte::plugin::db::EntityKey;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";


// Seeds `rows` tasks, workflows and launch plans (1000 names x rows/1000 versions) with the
// payloads of a real package entity, through the repositories, from `threads` threads.
void Seed(const std::string& db_yaml, int rows, int threads) {
  auto opened = flyte::core::db::OpenDatabase(ConfigFrom(db_yaml));
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  auto db = opened.value();
  auto repos = db->Repositories();
  auto entries = flyte::test::ReadPackage(flyte::test::FlytesnacksCoreDir());
  const auto& task_spec = std::get<flyteidl::admin::TaskSpec>(entries[39].spec);
  const auto& wf_spec = std::get<flyteidl::admin::WorkflowSpec>(entries[41].spec);
  const auto& lp = std::get<flyteidl::admin::LaunchPlan>(entries[42].spec);
  flyteidl::admin::TaskClosure closure;
  *closure.mutable_compiled_task()->mutable_template_() = task_spec.template_();
  std::string task_closure = closure.SerializeAsString();
  std::string typed_interface = wf_spec.template_().interface().SerializeAsString();
  flyteidl::admin::LaunchPlanClosure lp_closure;
  std::string lp_spec = lp.spec().SerializeAsString();
  std::string lp_closure_bytes = lp_closure.SerializeAsString();

  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  auto worker = [&] {
    while (true) {
      int i = next.fetch_add(1);
      if (i >= rows) return;
      EntityKey key{kProject, kDomain, "bench.entity_" + std::to_string(i % 1000), "v" + std::to_string(i / 1000)};
      flyte::plugin::db::TaskModel t;
      t.key = key;
      t.closure = task_closure;
      t.digest = "d" + std::to_string(i);
      t.type = "python-task";
      flyte::plugin::db::WorkflowModel w;
      w.key = key;
      w.typed_interface = typed_interface;
      w.remote_closure_identifier = "file:///nonexistent/" + std::to_string(i);
      w.digest = t.digest;
      if (!repos->Tasks().Create(t, std::nullopt).ok() || !repos->Workflows().Create(w, std::nullopt).ok()) {
        failures++;
        continue;
      }
      auto stored = repos->Workflows().Get(key);
      flyte::plugin::db::LaunchPlanModel l;
      l.key = key;
      l.spec = lp_spec;
      l.closure = lp_closure_bytes;
      l.workflow_id = stored.ok() ? stored->id : 0;
      l.digest = t.digest;
      if (!repos->LaunchPlans().Create(l).ok()) failures++;
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (failures.load() > 0) throw std::runtime_error("seeding failed " + std::to_string(failures.load()) + " times");
}

struct Result {
  std::vector<double> package_seconds;
  Stats get_task, list_tasks, list_workflows, list_launch_plans;
};

Result Measure(int grpc_port, int page, int rows) {
  Result r;
  auto stub = flyteidl::service::AdminService::NewStub(flyte::test::Channel(grpc_port));
  for (int round = 0; round < 5; ++round) {
    flyte::test::Target target{kProject, kDomain, "bench-r" + std::to_string(round)};
    auto entries = flyte::test::ReadPackage(flyte::test::FlytesnacksCoreDir());
    auto start = Clock::now();
    for (auto& e : entries) {
      flyte::test::Hydrate(e, target);
      auto res = flyte::test::Register(*stub, e, target);
      if (res.code != grpc::StatusCode::OK && res.code != grpc::StatusCode::ALREADY_EXISTS) {
        throw std::runtime_error("register " + res.file + ": " + res.message);
      }
    }
    r.package_seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::mt19937 rng(7);
  std::vector<double> gets;
  for (int i = 0; i < 1000; ++i) {
    flyteidl::admin::ObjectGetRequest req;
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name("bench.entity_" + std::to_string(rng() % 1000));
    req.mutable_id()->set_version("v" + std::to_string(rng() % std::max(1, rows / 1000)));
    grpc::ClientContext ctx;
    flyteidl::admin::Task task;
    auto start = Clock::now();
    auto s = stub->GetTask(&ctx, req, &task);
    if (!s.ok()) throw std::runtime_error("GetTask: " + s.error_message());
    gets.push_back(Micros(Clock::now() - start));
  }
  r.get_task = Percentiles(gets);
  // As the console and flytectl list: newest first, one page of `page` rows.
  auto list_request = [&](int i) {
    flyteidl::admin::ResourceListRequest req;
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    if (i % 2) req.mutable_id()->set_name("bench.entity_" + std::to_string(rng() % 1000));
    req.set_limit(page);
    req.mutable_sort_by()->set_key("created_at");
    req.mutable_sort_by()->set_direction(flyteidl::admin::Sort::DESCENDING);
    return req;
  };
  std::vector<double> tasks, workflows, lps;
  for (int i = 0; i < 200; ++i) {
    {
      grpc::ClientContext ctx;
      flyteidl::admin::TaskList out;
      auto req = list_request(i);
      auto start = Clock::now();
      if (!stub->ListTasks(&ctx, req, &out).ok()) throw std::runtime_error("ListTasks failed");
      tasks.push_back(Micros(Clock::now() - start));
    }
    {
      grpc::ClientContext ctx;
      flyteidl::admin::WorkflowList out;
      auto req = list_request(i);
      auto start = Clock::now();
      if (!stub->ListWorkflows(&ctx, req, &out).ok()) throw std::runtime_error("ListWorkflows failed");
      workflows.push_back(Micros(Clock::now() - start));
    }
    {
      grpc::ClientContext ctx;
      flyteidl::admin::LaunchPlanList out;
      auto req = list_request(i);
      auto start = Clock::now();
      if (!stub->ListLaunchPlans(&ctx, req, &out).ok()) throw std::runtime_error("ListLaunchPlans failed");
      lps.push_back(Micros(Clock::now() - start));
    }
  }
  r.list_tasks = Percentiles(tasks);
  r.list_workflows = Percentiles(workflows);
  r.list_launch_plans = Percentiles(lps);
  return r;
}

void Report(const std::string& backend, int rows, int page, const Result& r) {
  auto sorted = r.package_seconds;
  std::sort(sorted.begin(), sorted.end());
  std::printf("[%s] package registration (84 entities): median %.3f s, max %.3f s  (goal < 1 s)\n",
              backend.c_str(), sorted[sorted.size() / 2], sorted.back());
  std::printf("[%s] GetTask p50 %.0f us with %d rows per entity\n", backend.c_str(), r.get_task.p50, rows);
  for (auto [name, s] : {std::pair<const char*, Stats>{"ListTasks", r.list_tasks},
                         {"ListWorkflows", r.list_workflows},
                         {"ListLaunchPlans", r.list_launch_plans}}) {
    std::printf("[%s] %-16s limit %d: p50 %7.0f us  p99 %7.0f us  p99/get-p50 %.2f  (goal <= 5)\n", backend.c_str(),
                name, page, s.p50, s.p99, s.p99 / r.get_task.p50);
  }
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines appear as they are printed
  int rows = argc > 1 ? std::atoi(argv[1]) : 100000;
  int page = argc > 2 ? std::atoi(argv[2]) : 10;
  std::string only = argc > 3 ? argv[3] : "";
  for (std::string backend : {"sqlite", "postgres"}) {
    if (!only.empty() && only != backend) continue;
    auto database = flyte::bench::BenchDatabase::Start(backend, "registration");
    const std::string& db_yaml = database.db_yaml;
    {
      auto opened = flyte::core::db::OpenDatabase(ConfigFrom(db_yaml));
      if (!opened.ok() || !opened.value()->MigrateUp([](const std::string&) {}).ok() ||
          !opened.value()->EnsureListIndexes([](const std::string&) {}).ok() ||
          !opened.value()->SeedProjects({kProject}).ok()) {
        std::cerr << "cannot prepare the " << backend << " database\n";
        return 1;
      }
    }
    auto seed_start = Clock::now();
    Seed(db_yaml, rows, backend == "sqlite" ? 1 : 4);
    std::printf("[%s] seeded %d tasks, workflows and launch plans in %.1f s\n", backend.c_str(), rows,
                std::chrono::duration<double>(Clock::now() - seed_start).count());
    int grpc_port = flyte::test::FreePort();
    int http_port = flyte::test::FreePort();
    std::string plugins =
        "    - name: flyte_manager_project\n    - name: flyte_manager_task\n    - name: flyte_manager_workflow\n"
        "    - name: flyte_manager_launch_plan\n    - name: flyte_manager_named_entity\n";
    auto base = flyte::test::WriteTempFile("bench-" + backend + ".yaml",
                                           flyte::test::ServerConfigYaml(grpc_port, http_port, plugins));
    auto over = flyte::test::WriteTempFile("bench-" + backend + "-db.yaml", db_yaml);
    {
      flyte::test::Child server({FLYTEADMIN_BIN, "--config", base, "--config", over, "serve"});
      if (!flyte::test::WaitForPort(grpc_port, std::chrono::seconds(30))) {
        std::cerr << "flyteadmin did not start: " << server.Stderr() << "\n";
        return 1;
      }
      Report(backend, rows, page, Measure(grpc_port, page, rows));
      server.Signal(SIGTERM);
      server.Wait(std::chrono::seconds(30));
    }
    database.Stop();
  }
  return 0;
}
