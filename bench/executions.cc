// Execution benchmarks, on SQLite and on PostgreSQL, each against `flyteadmin serve`:
//  - events: node and task events as flytepropeller sends them (unique, valid, in order per node)
//    from many concurrent senders across many executions, against the bare gRPC echo server fed
//    the same requests at the same concurrency (goal on SQLite: >= 0.5 of the echo). On
//    PostgreSQL also against a raw loop doing, per event, BEGIN; SELECT ... FOR UPDATE; UPDATE;
//    INSERT event; COMMIT on its own connections at the same concurrency (goal: >= 1).
//    Measured in rounds (BENCH_EVENT_ROUNDS), each running the baselines and flyteadmin back to
//    back, for one or several sender counts (BENCH_EVENT_SENDERS="16,64,128"); the median of the
//    rounds' ratios is the result.
//  - list: ListExecutions p50/p99 over `rows` executions with console-shaped requests, against
//    the GetExecution p50 of the same run (goals: list p99 <= 5x get p50 and <= 5 ms).
// Usage: bench_executions [events|list|all] [sqlite|postgres|both] (sizes from BENCH_* env vars).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <variant>

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <soci/soci.h>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/admin/execution.pb.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "bench_support.h"
#include "live_calls.h"
#include "grpc_helpers.h"
#include "test_support.h"

using flyte::bench::BenchDatabase;
using flyte::bench::Clock;
using flyte::bench::ConfigFrom;
using flyte::bench::Micros;
using flyte::bench::Percentiles;
using flyte::bench::ProcessCpuMicros;
using flyte::bench::Stats;
using google::protobuf::util::TimeUtil;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";
constexpr const char* kProducer = "propeller";

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// The database migrated, with the list indexes and the flytesnacks project.
std::shared_ptr<flyte::core::db::Database> Prepare(const BenchDatabase& b) {
  auto opened = flyte::core::db::OpenDatabase(ConfigFrom(b.db_yaml));
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  auto db = opened.value();
  if (!db->MigrateUp([](const std::string&) {}).ok() || !db->EnsureListIndexes([](const std::string&) {}).ok() ||
      !db->SeedProjects({kProject}).ok()) {
    throw std::runtime_error("cannot prepare the " + b.backend + " database");
  }
  return db;
}

// `flyteadmin serve` on the backend with the execution managers and what they read.
class Server {
 public:
  explicit Server(const BenchDatabase& b) {
    grpc_port = flyte::test::FreePort();
    int http_port = flyte::test::FreePort();
    const std::string plugins =
        "    - name: flyte_manager_project\n    - name: flyte_manager_task\n    - name: flyte_manager_workflow\n"
        "    - name: flyte_manager_launch_plan\n    - name: flyte_manager_execution\n"
        "    - name: flyte_manager_node_execution\n    - name: flyte_manager_task_execution\n";
    auto base = flyte::test::WriteTempFile("bench-exec-" + b.backend + ".yaml",
                                           flyte::test::ServerConfigYaml(grpc_port, http_port, plugins));
    auto over = flyte::test::WriteTempFile("bench-exec-" + b.backend + "-db.yaml", b.db_yaml);
    child_ = std::make_unique<flyte::test::Child>(
        std::vector<std::string>{FLYTEADMIN_BIN, "--config", base, "--config", over, "serve"});
    if (!flyte::test::WaitForPort(grpc_port, std::chrono::seconds(60))) {
      throw std::runtime_error("flyteadmin did not start: " + child_->Stderr());
    }
  }
  ~Server() {
    child_->Signal(SIGTERM);
    child_->Wait(std::chrono::seconds(30));
  }
  int grpc_port = 0;
  int Pid() const { return child_->Pid(); }

 private:
  std::unique_ptr<flyte::test::Child> child_;
};

// ------------------------------------------------------------------------------------------
// Events

using Event = std::variant<flyteidl::admin::NodeExecutionEventRequest, flyteidl::admin::TaskExecutionEventRequest>;

std::string ExecName(const std::string& prefix, int i) { return prefix + std::to_string(i); }

// A running execution as CreateExecution leaves it once propeller reported RUNNING.
void SeedExecutions(flyte::plugin::db::Repositories& repos, const std::string& prefix, int count) {
  for (int i = 0; i < count; ++i) {
    flyte::plugin::db::ExecutionModel m;
    m.key = {kProject, kDomain, ExecName(prefix, i)};
    m.phase = "RUNNING";
    m.cluster = kProducer;
    m.launch_entity = "launch_plan";
    flyteidl::admin::ExecutionSpec spec;
    auto* lp = spec.mutable_launch_plan();
    lp->set_resource_type(flyteidl::core::LAUNCH_PLAN);
    lp->set_project(kProject);
    lp->set_domain(kDomain);
    lp->set_name("bench.workflow");
    lp->set_version("v1");
    m.spec = spec.SerializeAsString();
    flyteidl::admin::ExecutionClosure closure;
    closure.set_phase(flyteidl::core::WorkflowExecution::RUNNING);
    *closure.mutable_created_at() = TimeUtil::GetCurrentTime();
    *closure.mutable_started_at() = TimeUtil::GetCurrentTime();
    m.closure = closure.SerializeAsString();
    m.started_at = flyte::plugin::db::Now();
    m.execution_created_at = m.started_at;
    m.execution_updated_at = m.started_at;
    auto s = repos.Executions().Create(m, {});
    if (!s.ok()) throw std::runtime_error("seeding executions: " + s.ToString());
  }
}

// Propeller's sequence for one task node: node RUNNING, task RUNNING, task SUCCEEDED, node
// SUCCEEDED, with the URIs and metadata propeller fills in.
void AppendNodeEvents(const std::string& exec, int node, std::vector<Event>& out) {
  std::string node_id = "n" + std::to_string(node);
  std::string prefix = "file:///var/flyte/metadata/propeller/" + exec + "/" + node_id;
  auto now = TimeUtil::GetCurrentTime();
  auto node_event = [&](flyteidl::core::NodeExecution::Phase phase) {
    flyteidl::admin::NodeExecutionEventRequest r;
    r.set_request_id(exec + "-" + node_id + "-" + std::to_string(phase));
    auto* e = r.mutable_event();
    e->mutable_id()->set_node_id(node_id);
    auto* x = e->mutable_id()->mutable_execution_id();
    x->set_project(kProject);
    x->set_domain(kDomain);
    x->set_name(exec);
    e->set_producer_id(kProducer);
    e->set_phase(phase);
    *e->mutable_occurred_at() = now;
    *e->mutable_reported_at() = now;
    e->set_input_uri(prefix + "/inputs.pb");
    e->set_spec_node_id(node_id);
    e->set_node_name("bench.task_" + std::to_string(node));
    e->set_event_version(2);
    if (phase == flyteidl::core::NodeExecution::SUCCEEDED) e->set_output_uri(prefix + "/0/outputs.pb");
    auto* t = e->mutable_task_node_metadata();
    t->set_cache_status(flyteidl::core::CACHE_DISABLED);
    return r;
  };
  auto task_event = [&](flyteidl::core::TaskExecution::Phase phase) {
    flyteidl::admin::TaskExecutionEventRequest r;
    r.set_request_id(exec + "-" + node_id + "-t" + std::to_string(phase));
    auto* e = r.mutable_event();
    auto* task = e->mutable_task_id();
    task->set_resource_type(flyteidl::core::TASK);
    task->set_project(kProject);
    task->set_domain(kDomain);
    task->set_name("bench.task_" + std::to_string(node));
    task->set_version("v1");
    e->mutable_parent_node_execution_id()->set_node_id(node_id);
    auto* x = e->mutable_parent_node_execution_id()->mutable_execution_id();
    x->set_project(kProject);
    x->set_domain(kDomain);
    x->set_name(exec);
    e->set_retry_attempt(0);
    e->set_phase(phase);
    e->set_producer_id(kProducer);
    *e->mutable_occurred_at() = now;
    *e->mutable_reported_at() = now;
    e->set_input_uri(prefix + "/inputs.pb");
    e->set_task_type("python-task");
    e->set_event_version(1);
    auto* log = e->add_logs();
    log->set_uri("http://logs.example.com/" + exec + "/" + node_id);
    log->set_name("Kubernetes Logs (User)");
    log->set_message_format(flyteidl::core::TaskLog::JSON);
    e->mutable_metadata()->set_generated_name(exec + "-" + node_id + "-0");
    e->mutable_metadata()->set_plugin_identifier("container");
    if (phase == flyteidl::core::TaskExecution::SUCCEEDED) e->set_output_uri(prefix + "/0/outputs.pb");
    return r;
  };
  out.push_back(node_event(flyteidl::core::NodeExecution::RUNNING));
  out.push_back(task_event(flyteidl::core::TaskExecution::RUNNING));
  out.push_back(task_event(flyteidl::core::TaskExecution::SUCCEEDED));
  out.push_back(node_event(flyteidl::core::NodeExecution::SUCCEEDED));
}

// Lane i sends the events of executions i, i + lanes, ... one after the other, so the events of
// one node stay in order while `lanes` calls are in flight.
std::vector<std::vector<Event>> BuildLanes(const std::string& prefix, int executions, int nodes, int lanes) {
  std::vector<std::vector<Event>> out(lanes);
  for (int e = 0; e < executions; ++e) {
    for (int n = 0; n < nodes; ++n) AppendNodeEvents(ExecName(prefix, e), n, out[e % lanes]);
  }
  return out;
}

struct LoadResult {
  double qps = 0;
  Stats latency;
  long errors = 0;
  std::string first_error;
  long events = 0;
  // CPU time per event, in microseconds (all threads): of the sending process, of the server,
  // and of PostgreSQL's processes; 0 when not measured.
  double client_cpu_us = 0, server_cpu_us = 0, db_cpu_us = 0;
};

// What a run measures of the CPU time its processes use: this process, the server's (`server`,
// 0: none) and PostgreSQL's postmaster with its backends (`postmaster`, 0: none).
class CpuMeter {
 public:
  CpuMeter(int server, int postmaster)
      : server_(server),
        postmaster_(postmaster),
        client0_(ProcessCpuMicros()),
        server0_(server > 0 ? ProcessCpuMicros(server) : 0),
        db0_(postmaster > 0 ? ProcessCpuMicros(postmaster, true) : 0) {}
  // Fills `r`'s CPU per event from what was used since construction.
  void Finish(LoadResult& r) const {
    if (r.events <= 0) return;
    // A reading that failed (-1, the process gone or unreadable) leaves its figure at 0.
    const auto per_event = [&](double now, double then) {
      return now < 0 || then < 0 ? 0 : (now - then) / static_cast<double>(r.events);
    };
    r.client_cpu_us = per_event(ProcessCpuMicros(), client0_);
    if (server_ > 0) r.server_cpu_us = per_event(ProcessCpuMicros(server_), server0_);
    if (postmaster_ > 0) r.db_cpu_us = per_event(ProcessCpuMicros(postmaster_, true), db0_);
  }

 private:
  int server_, postmaster_;
  double client0_, server0_, db0_;
};

// Plays `lanes` against the server on `port`; `server_pid` and `postmaster_pid` (0: none) are
// the processes whose CPU time is measured with the sender's.
LoadResult SendLanes(int port, const std::vector<std::vector<Event>>& lanes, int server_pid = 0,
                     int postmaster_pid = 0) {
  // One connection per `BENCH_EVENT_LANES_PER_CONNECTION` lanes, as propellers have one each (0,
  // the default: one for all). A channel of its own subchannel pool opens a connection of its own.
  const int per_conn = EnvInt("BENCH_EVENT_LANES_PER_CONNECTION", 0);
  const size_t conns = per_conn > 0 ? (lanes.size() + per_conn - 1) / per_conn : 1;
  std::vector<std::unique_ptr<flyteidl::service::AdminService::Stub>> stubs;
  for (size_t c = 0; c < conns; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stubs.push_back(flyteidl::service::AdminService::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args)));
  }
  std::mutex mu;
  std::condition_variable done_cv;
  int lanes_done = 0;
  std::vector<double> latencies;
  std::atomic<long> errors{0};
  std::string first_error;
  auto live = std::make_shared<flyte::bench::LiveCalls>();
  struct Call {
    explicit Call(std::shared_ptr<flyte::bench::LiveCalls> calls) : token(std::move(calls)) {}
    flyte::bench::LiveCalls::Token token;
    grpc::ClientContext ctx;
    flyteidl::admin::NodeExecutionEventResponse node_resp;
    flyteidl::admin::TaskExecutionEventResponse task_resp;
    Clock::time_point start;
  };
  std::function<void(size_t, size_t)> send = [&](size_t lane, size_t index) {
    if (index >= lanes[lane].size()) {
      std::lock_guard lock(mu);
      ++lanes_done;
      done_cv.notify_all();
      return;
    }
    auto call = std::make_shared<Call>(live);
    call->start = Clock::now();
    auto on_done = [&, call, lane, index](grpc::Status s) {
      double us = Micros(Clock::now() - call->start);
      {
        std::lock_guard lock(mu);
        latencies.push_back(us);
        if (!s.ok() && errors.fetch_add(1) == 0) {
          first_error = std::to_string(s.error_code()) + " " + s.error_message();
        }
      }
      send(lane, index + 1);
    };
    const Event& event = lanes[lane][index];
    if (const auto* node = std::get_if<flyteidl::admin::NodeExecutionEventRequest>(&event)) {
      stubs[lane % conns]->async()->CreateNodeEvent(&call->ctx, node, &call->node_resp, on_done);
    } else {
      stubs[lane % conns]->async()->CreateTaskEvent(
          &call->ctx, &std::get<flyteidl::admin::TaskExecutionEventRequest>(event), &call->task_resp, on_done);
    }
  };
  CpuMeter cpu(server_pid, postmaster_pid);
  auto t0 = Clock::now();
  for (size_t i = 0; i < lanes.size(); ++i) send(i, 0);
  {
    std::unique_lock lock(mu);
    done_cv.wait(lock, [&] { return lanes_done == static_cast<int>(lanes.size()); });
  }
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // The last callbacks may still be running (and their calls alive): they use this frame.
  live->WaitForNone();
  LoadResult r;
  std::lock_guard lock(mu);
  r.events = static_cast<long>(latencies.size());
  cpu.Finish(r);
  r.qps = r.events / seconds;
  r.latency = Percentiles(latencies);
  r.errors = errors.load();
  r.first_error = first_error;
  return r;
}

// Collects PostgreSQL's statistics, as a running deployment's autovacuum keeps them. Without
// them (tables seeded a moment ago), the planner sees empty tables and reads a key lookup through
// any index on (project, domain), filtering every row of the project; its prepared statements are
// re-planned when the statistics arrive, which autovacuum only does within a minute.
void AnalyzeTables(const BenchDatabase& b) {
  if (b.backend != "postgres") return;
  soci::session s(b.soci_backend, b.soci_connect);
  s << "ANALYZE";
}

// The PostgreSQL floor: per event one transaction reading the row FOR UPDATE, updating it and
// inserting an event row, on `lanes` connections at once, over node rows created beforehand.
LoadResult RawPostgresLoop(const BenchDatabase& b, const std::string& prefix, int executions, int nodes, int lanes) {
  // Bound by reference: SOCI reads them when a statement runs, after the full expression that
  // named them, so they must outlive it (a temporary std::string would be gone by then).
  const std::string project = kProject, domain = kDomain;
  {
    soci::session s(b.soci_backend, b.soci_connect);
    for (int e = 0; e < executions; ++e) {
      soci::transaction tx(s);
      for (int n = 0; n < nodes; ++n) {
        std::string exec = ExecName(prefix, e), node = "n" + std::to_string(n);
        s << "INSERT INTO node_executions (created_at, updated_at, execution_project, execution_domain, "
             "execution_name, node_id, phase, input_uri, closure) VALUES (now(), now(), :p, :d, :e, :n, "
             "'UNDEFINED', '', ''::bytea)",
            soci::use(project), soci::use(domain), soci::use(exec), soci::use(node);
      }
      tx.commit();
    }
  }
  AnalyzeTables(b);
  const char* phases[] = {"QUEUED", "RUNNING", "SUCCEEDING", "SUCCEEDED"};
  std::vector<double> latencies;
  std::mutex mu;
  std::atomic<long> errors{0};
  std::string first_error;
  flyteidl::admin::NodeExecutionClosure closure;
  closure.set_output_uri("file:///var/flyte/metadata/propeller/raw/n0/0/outputs.pb");
  *closure.mutable_started_at() = TimeUtil::GetCurrentTime();
  // bytea travels as hex text, as the repositories send it.
  std::string closure_hex;
  for (unsigned char c : closure.SerializeAsString()) {
    static const char* kHex = "0123456789abcdef";
    closure_hex += kHex[c >> 4];
    closure_hex += kHex[c & 15];
  }
  auto worker = [&](int lane) {
    soci::session s(b.soci_backend, b.soci_connect);
    std::vector<double> mine;
    for (int e = lane; e < executions; e += lanes) {
      std::string exec = ExecName(prefix, e);
      for (int n = 0; n < nodes; ++n) {
        std::string node = "n" + std::to_string(n);
        for (const char* phase : phases) {
          auto start = Clock::now();
          try {
            soci::transaction tx(s);
            long long id = 0;
            std::string current;
            s << "SELECT id, phase FROM node_executions WHERE execution_project = :p AND execution_domain = :d "
                 "AND execution_name = :e AND node_id = :n FOR UPDATE",
                soci::into(id), soci::into(current), soci::use(project),
                soci::use(domain), soci::use(exec), soci::use(node);
            std::string ph = phase;
            s << "UPDATE node_executions SET phase = :ph, closure = decode(:c, 'hex'), updated_at = now() "
                 "WHERE id = :id",
                soci::use(ph), soci::use(closure_hex), soci::use(id);
            s << "INSERT INTO node_execution_events (created_at, updated_at, execution_project, execution_domain, "
                 "execution_name, node_id, request_id, occurred_at, phase) VALUES (now(), now(), :p, :d, :e, :n, "
                 "'', now(), :ph)",
                soci::use(project), soci::use(domain), soci::use(exec), soci::use(node),
                soci::use(ph);
            tx.commit();
          } catch (const std::exception& ex) {
            if (errors.fetch_add(1) == 0) {
              std::lock_guard lock(mu);
              first_error = ex.what();
            }
          }
          mine.push_back(Micros(Clock::now() - start));
        }
      }
    }
    std::lock_guard lock(mu);
    latencies.insert(latencies.end(), mine.begin(), mine.end());
  };
  CpuMeter cpu(0, b.PostmasterPid());
  auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int i = 0; i < lanes; ++i) pool.emplace_back(worker, i);
  for (auto& t : pool) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  LoadResult r;
  r.events = static_cast<long>(latencies.size());
  cpu.Finish(r);
  r.qps = r.events / seconds;
  r.latency = Percentiles(latencies);
  r.errors = errors.load();
  r.first_error = first_error;
  return r;
}

void PrintLoad(const std::string& backend, const char* name, const LoadResult& r, const LoadResult* baseline,
               const char* goal) {
  std::printf("[%s] %-26s %8ld events %9.0f events/s  p50 %7.0f us  p99 %7.0f us  errors %ld", backend.c_str(), name,
              r.events, r.qps, r.latency.p50, r.latency.p99, r.errors);
  if (baseline && (r.errors > 0 || baseline->errors > 0)) {
    std::printf("  no ratio: a run had errors");
  } else if (baseline && baseline->qps > 0) {
    std::printf("  ratio %.2f %s", r.qps / baseline->qps, goal);
  }
  std::printf("\n");
  if (r.client_cpu_us > 0) {
    std::printf("[%s]   cpu per event: %s %.0f us", backend.c_str(), r.server_cpu_us > 0 ? "sender" : "loop",
                r.client_cpu_us);
    if (r.server_cpu_us > 0) std::printf(", server %.0f us", r.server_cpu_us);
    if (r.db_cpu_us > 0) std::printf(", postgres %.0f us", r.db_cpu_us);
    std::printf(", in all %.0f us\n", r.client_cpu_us + r.server_cpu_us + r.db_cpu_us);
  }
  if (r.errors > 0) std::printf("[%s]   first error: %s\n", backend.c_str(), r.first_error.c_str());
}

// The sender counts of BENCH_EVENT_SENDERS: one number or several, comma-separated ("16,128").
std::vector<int> SenderCounts() {
  std::vector<int> out;
  const char* v = std::getenv("BENCH_EVENT_SENDERS");
  std::string text = v && *v ? v : "16";
  size_t from = 0;
  while (from <= text.size()) {
    size_t comma = text.find(',', from);
    std::string item = text.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    int n = item.empty() || item.size() > 6 || item.find_first_not_of("0123456789") != std::string::npos
                ? 0
                : std::stoi(item);
    if (n <= 0) throw std::runtime_error("BENCH_EVENT_SENDERS: '" + item + "' is not a positive number");
    out.push_back(n);
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

// Waits (at most 10 s) until the server `pid` and PostgreSQL's processes under `postmaster` (0:
// none) have used less than 4 ms of CPU in 200 ms: the work a run leaves behind (a checkpoint,
// autovacuum) is done before the next measurement starts.
void WaitQuiet(int pid, int postmaster) {
  auto used = [&] { return ProcessCpuMicros(pid) + (postmaster > 0 ? ProcessCpuMicros(postmaster, true) : 0); };
  auto deadline = Clock::now() + std::chrono::seconds(10);
  double last = used();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    double now = used();
    if (now - last < 4000) return;
    last = now;
  }
}

// The echo's CPU per event over flyteadmin's: once sender and server keep every core busy, the
// highest ratio to the echo that flyteadmin can reach at any concurrency.
double CpuCeiling(const LoadResult& echo, const LoadResult& admin) {
  const double echo_cpu = echo.client_cpu_us + echo.server_cpu_us;
  const double admin_cpu = admin.client_cpu_us + admin.server_cpu_us + admin.db_cpu_us;
  return echo_cpu > 0 && admin_cpu > 0 ? echo_cpu / admin_cpu : 0;
}

// Each sender count of BENCH_EVENT_SENDERS runs BENCH_EVENT_ROUNDS rounds; a round measures the
// echo and then flyteadmin (and on PostgreSQL the raw loop) on events of executions of its own,
// so that the machine's drift between runs falls on both sides of a ratio alike. The median of
// the rounds' ratios is the result.
bool RunEvents(const std::string& backend_name) {
  const int executions = EnvInt("BENCH_EVENT_EXECUTIONS", 1000);
  const int nodes = EnvInt("BENCH_EVENT_NODES", 20);
  const int rounds = std::max(1, EnvInt("BENCH_EVENT_ROUNDS", 3));
  std::vector<int> sender_counts;
  try {
    sender_counts = SenderCounts();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return false;
  }
  const bool sqlite = backend_name == "sqlite";

  auto run_echo = [&](const std::vector<std::vector<Event>>& lanes, const std::vector<std::vector<Event>>& warm,
                      bool deferred) {
    int port = flyte::test::FreePort();
    std::vector<std::string> argv = {BENCH_ECHO_BIN, std::to_string(port)};
    if (deferred) argv.push_back("--deferred");
    flyte::test::Child echo_server(argv);
    if (!flyte::test::WaitForPort(port, std::chrono::seconds(10))) throw std::runtime_error("echo did not start");
    SendLanes(port, warm);
    LoadResult r = SendLanes(port, lanes, echo_server.Pid());
    echo_server.Signal(SIGTERM);
    echo_server.Wait(std::chrono::seconds(10));
    return r;
  };
  auto round_prefix = [](int senders, int round) {
    return "ev" + std::to_string(senders) + "r" + std::to_string(round) + "x";
  };

  auto backend = BenchDatabase::Start(backend_name, "events");
  bool ok = true;
  try {
    const int warm_executions = std::max(sender_counts.back(), executions / 10);
    {
      auto db = Prepare(backend);
      auto repos = db->Repositories();
      for (int senders : sender_counts) {
        for (int r = 0; r < rounds; ++r) SeedExecutions(*repos, round_prefix(senders, r), executions);
      }
      SeedExecutions(*repos, "warm", warm_executions);
    }
    // Warm-up: the server's connections, caches and prepared statements once for the run; the
    // echo's (the same events again) before each of its runs.
    const auto warm = BuildLanes("warm", warm_executions, 2, sender_counts.back());
    Server server(backend);
    SendLanes(server.grpc_port, warm);
    AnalyzeTables(backend);
    WaitQuiet(server.Pid(), backend.PostmasterPid());

    for (int senders : sender_counts) {
      std::printf("[%s] events: %d executions x %d task nodes x 4 events, %d concurrent senders, %d rounds\n",
                  backend_name.c_str(), executions, nodes, senders, rounds);
      std::vector<double> ratios, ceilings, raw_ratios;
      for (int r = 0; r < rounds; ++r) {
        const std::string prefix = round_prefix(senders, r);
        auto lanes = BuildLanes(prefix, executions, nodes, senders);
        LoadResult echo = run_echo(lanes, warm, false);
        LoadResult admin = SendLanes(server.grpc_port, lanes, server.Pid(), backend.PostmasterPid());
        WaitQuiet(server.Pid(), backend.PostmasterPid());
        std::printf("[%s] round %d\n", backend_name.c_str(), r + 1);
        PrintLoad(backend_name, "echo (baseline)", echo, nullptr, "");
        PrintLoad(backend_name, "flyteadmin", admin, &echo, sqlite ? "of echo (goal >= 0.50)" : "of echo");
        // A run with errors measured something else (a crashed server answers fast): it
        // counts in no median, and fails the benchmark.
        const bool clean = echo.errors == 0 && admin.errors == 0;
        ok = ok && clean;
        if (clean && echo.qps > 0) ratios.push_back(admin.qps / echo.qps);
        if (double c = clean ? CpuCeiling(echo, admin) : 0; c > 0) {
          ceilings.push_back(c);
          // Sender and server share the machine's cores: once they are all busy, events/s is the
          // cores' time over the CPU time an event costs in all.
          std::printf("[%s]   cpu-bound ceiling of the ratio (echo's cpu per event / flyteadmin's): %.2f\n",
                      backend_name.c_str(), c);
        }
        if (r == 0) {
          // The same echo answering from another thread: what handing each call to a worker and
          // back costs by itself, the ceiling of any server whose work happens off gRPC's threads.
          LoadResult deferred = run_echo(lanes, warm, true);
          PrintLoad(backend_name, "echo answered elsewhere", deferred, &echo, "of echo (hand-off ceiling)");
          ok = ok && deferred.errors == 0;
        }
        if (!sqlite) {
          auto raw = RawPostgresLoop(backend, "raw" + prefix, executions, nodes, senders);
          PrintLoad(backend_name, "raw read/update/insert", raw, nullptr, "");
          if (raw.qps > 0 && raw.errors == 0 && admin.errors == 0) {
            raw_ratios.push_back(admin.qps / raw.qps);
            std::printf("[%s]   flyteadmin / raw loop: %.2f (goal >= 1)\n", backend_name.c_str(), admin.qps / raw.qps);
          }
          ok = ok && raw.errors == 0;
          WaitQuiet(server.Pid(), backend.PostmasterPid());
        }
      }
      // The median (of an even count, the mean of the middle two: Percentiles' p50 would report
      // the higher one), and the lowest and highest round.
      auto range = [](std::vector<double> v) {
        if (v.empty()) return std::string("none");
        std::sort(v.begin(), v.end());
        const size_t n = v.size();
        const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        char buf[96];
        std::snprintf(buf, sizeof buf, "%.2f (rounds: %.2f to %.2f)", median, v.front(), v.back());
        return std::string(buf);
      };
      std::printf("[%s] %d senders: flyteadmin / echo, median %s%s\n", backend_name.c_str(), senders,
                  range(ratios).c_str(), sqlite ? ", goal >= 0.50" : "");
      std::printf("[%s] %d senders: cpu-bound ceiling, median %s\n", backend_name.c_str(), senders,
                  range(ceilings).c_str());
      if (!sqlite) {
        std::printf("[%s] %d senders: flyteadmin / raw loop, median %s, goal >= 1\n", backend_name.c_str(), senders,
                    range(raw_ratios).c_str());
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[%s] events: %s\n", backend_name.c_str(), e.what());
    ok = false;
  }
  backend.Stop();
  return ok;
}

// ------------------------------------------------------------------------------------------
// ListExecutions over many rows

struct ListIds {
  int64_t lp_first = 0, wf_first = 0;
  int names = 0;
};

// `names` workflows and launch plans (one version each) for the executions to point at, with
// consecutive ids.
ListIds SeedEntities(flyte::plugin::db::Repositories& repos, int names) {
  ListIds ids;
  ids.names = names;
  for (int i = 0; i < names; ++i) {
    flyte::plugin::db::EntityKey key{kProject, kDomain, "bench.wf_" + std::to_string(i), "v1"};
    flyte::plugin::db::WorkflowModel w;
    w.key = key;
    w.typed_interface = "";
    w.remote_closure_identifier = "file:///nonexistent/" + std::to_string(i);
    w.digest = "d" + std::to_string(i);
    if (!repos.Workflows().Create(w, std::nullopt).ok()) throw std::runtime_error("seeding workflows");
    auto stored = repos.Workflows().Get(key);
    flyte::plugin::db::LaunchPlanModel l;
    l.key = {kProject, kDomain, "bench.lp_" + std::to_string(i), "v1"};
    l.workflow_id = stored->id;
    l.digest = w.digest;
    if (!repos.LaunchPlans().Create(l).ok()) throw std::runtime_error("seeding launch plans");
    auto lp = repos.LaunchPlans().Get(l.key);
    if (i == 0) {
      ids.wf_first = stored->id;
      ids.lp_first = lp->id;
    } else if (stored->id != ids.wf_first + i || lp->id != ids.lp_first + i) {
      throw std::runtime_error("workflow/launch plan ids are not consecutive");
    }
  }
  return ids;
}

// Executions are spread over kPairs project-domain pairs, as a shared deployment's are: the
// console lists one pair's, and a launch plan's executions all lie in its own pair (which a
// planner that takes plan and project for unrelated misjudges). Row i is the listed pair's when
// i % kPairs == 0.
constexpr int kPairs = 10;

// One execution written through the repository (the template), then `rows` copies of it made by
// the database itself with varied names, projects, creation times, phases, launch plans and
// states. The listed pair's rows point at the seeded launch plans and workflows; the other
// pairs' at ids of their own.
void SeedManyExecutions(const BenchDatabase& b, flyte::plugin::db::Repositories& repos, const ListIds& ids, int rows) {
  flyte::plugin::db::ExecutionModel m;
  m.key = {kProject, kDomain, "template"};
  m.phase = "SUCCEEDED";
  m.launch_entity = "launch_plan";
  m.cluster = kProducer;
  m.launch_plan_id = ids.lp_first;
  m.workflow_id = ids.wf_first;
  m.inputs_uri = "file:///var/flyte/metadata/flytesnacks/development/template/inputs";
  m.user_inputs_uri = "file:///var/flyte/metadata/flytesnacks/development/template/user_inputs";
  m.user = "bench";
  flyteidl::admin::ExecutionSpec spec;
  auto* lp = spec.mutable_launch_plan();
  lp->set_resource_type(flyteidl::core::LAUNCH_PLAN);
  lp->set_project(kProject);
  lp->set_domain(kDomain);
  lp->set_name("bench.lp_0");
  lp->set_version("v1");
  spec.mutable_metadata()->set_mode(flyteidl::admin::ExecutionMetadata::MANUAL);
  spec.mutable_metadata()->set_principal("bench");
  spec.mutable_metadata()->mutable_system_metadata()->set_execution_cluster(kProducer);
  (*spec.mutable_labels()->mutable_values())["team"] = "ml";
  spec.mutable_raw_output_data_config()->set_output_location_prefix("file:///var/flyte/raw");
  m.spec = spec.SerializeAsString();
  flyteidl::admin::ExecutionClosure closure;
  closure.set_phase(flyteidl::core::WorkflowExecution::SUCCEEDED);
  *closure.mutable_created_at() = TimeUtil::GetCurrentTime();
  *closure.mutable_started_at() = TimeUtil::GetCurrentTime();
  *closure.mutable_updated_at() = TimeUtil::GetCurrentTime();
  closure.mutable_duration()->set_seconds(42);
  closure.mutable_outputs()->set_uri("file:///var/flyte/metadata/propeller/template/end-node/data/0/outputs.pb");
  auto* wf = closure.mutable_workflow_id();
  wf->set_resource_type(flyteidl::core::WORKFLOW);
  wf->set_project(kProject);
  wf->set_domain(kDomain);
  wf->set_name("bench.wf_0");
  wf->set_version("v1");
  auto* change = closure.mutable_state_change_details();
  change->set_state(flyteidl::admin::EXECUTION_ACTIVE);
  change->set_principal("bench");
  m.closure = closure.SerializeAsString();
  m.started_at = flyte::plugin::db::Now();
  m.execution_created_at = m.started_at;
  m.execution_updated_at = m.started_at;
  m.duration_ns = 42'000'000'000;
  if (auto s = repos.Executions().Create(m, {}); !s.ok()) throw std::runtime_error("template: " + s.ToString());

  const std::string cols =
      "created_at, updated_at, execution_project, execution_domain, execution_name, launch_plan_id, workflow_id, "
      "task_id, phase, closure, spec, started_at, execution_created_at, execution_updated_at, duration, abort_cause, "
      "mode, source_execution_id, parent_node_execution_id, cluster, inputs_uri, user_inputs_uri, error_kind, "
      "error_code, \"user\", state, launch_entity";
  const std::string names = std::to_string(ids.names);
  const std::string pairs = std::to_string(kPairs);
  // The listed pair's rows take the seeded ids in turn; another pair's rows take ids past them,
  // `names` for each pair.
  auto ref = [&](int64_t first) {
    return std::to_string(first) + " + CASE WHEN i % " + pairs + " = 0 THEN (i / " + pairs + ") % " + names +
           " ELSE " + names + " * (i % " + pairs + ") + (i / " + pairs + ") % " + names + " END";
  };
  const std::string varied =
      "CASE WHEN i % " + pairs + " = 0 THEN t.execution_project ELSE 'other' || (i % " + pairs +
      ") END, t.execution_domain, 'x' || i, " + ref(ids.lp_first) + ", " + ref(ids.wf_first) +
      ", t.task_id, CASE WHEN (i / 7) % 10 = 0 THEN 'FAILED' WHEN (i / 7) % 10 = 1 THEN 'RUNNING' ELSE 'SUCCEEDED' END, "
      "t.closure, t.spec, t.started_at, ";
  const std::string rest =
      "t.duration, t.abort_cause, t.mode, t.source_execution_id, t.parent_node_execution_id, t.cluster, "
      "t.inputs_uri, t.user_inputs_uri, t.error_kind, t.error_code, t.\"user\", CASE WHEN (i / 100) % 50 = 0 THEN 1 "
      "ELSE 0 END, t.launch_entity";
  soci::session s(b.soci_backend, b.soci_connect);
  const int batch = 100000;
  for (int from = 1; from <= rows; from += batch) {
    int to = std::min(rows, from + batch - 1);
    soci::transaction tx(s);
    if (b.soci_backend == "sqlite3") {
      // Times in the repository's text form, one second apart, the newest last; ids as the
      // repository assigns them on SQLite (no sequence there).
      std::string at = "strftime('%Y-%m-%d %H:%M:%S', '2026-01-01', '+' || i || ' seconds') || '.000000+00:00'";
      s << "WITH RECURSIVE n(i) AS (SELECT " + std::to_string(from) + " UNION ALL SELECT i + 1 FROM n WHERE i < " +
               std::to_string(to) + ") INSERT INTO executions (id, " + cols + ") SELECT t.id + i, " + at + ", " + at + ", " +
               varied + at + ", " + at + ", " + rest +
               " FROM n, executions t WHERE t.execution_name = 'template'";
    } else {
      std::string at = "timestamp with time zone '2026-01-01 00:00:00+00' + i * interval '1 second'";
      s << "INSERT INTO executions (" + cols + ") SELECT " + at + ", " + at + ", " + varied + at + ", " + at + ", " +
               rest + " FROM generate_series(" + std::to_string(from) + ", " + std::to_string(to) +
               ") AS i, executions t WHERE t.execution_name = 'template'";
    }
    tx.commit();
  }
  if (b.backend == "postgres") {
    // What autovacuum and the checkpointer do to a bulk load in the first minutes: done before
    // measuring, so that neither lands in the middle of one shape's run (seen as one shape's
    // p99 doubling).
    s << "VACUUM ANALYZE executions";
    s << "CHECKPOINT";
  } else {
    s << "ANALYZE";
  }
}

bool RunList(const std::string& backend_name) {
  int rows = EnvInt("BENCH_EXECUTIONS", 1000000);
  int page = EnvInt("BENCH_PAGE", 25);
  auto backend = BenchDatabase::Start(backend_name, "list");
  bool ok = true;
  try {
    auto seed_start = Clock::now();
    {
      auto db = Prepare(backend);
      auto repos = db->Repositories();
      auto ids = SeedEntities(*repos, 100);
      SeedManyExecutions(backend, *repos, ids, rows);
    }
    std::printf("[%s] seeded %d executions (%d in %s/%s, the rest in %d other projects) in %.1f s\n",
                backend_name.c_str(), rows, rows / kPairs, kProject, kDomain, kPairs - 1,
                std::chrono::duration<double>(Clock::now() - seed_start).count());
    Server server(backend);
    auto stub = flyteidl::service::AdminService::NewStub(flyte::test::Channel(server.grpc_port));
    std::mt19937 rng(11);
    std::vector<double> gets;
    for (int i = 0; i < 2000; ++i) {
      flyteidl::admin::WorkflowExecutionGetRequest req;
      req.mutable_id()->set_project(kProject);
      req.mutable_id()->set_domain(kDomain);
      req.mutable_id()->set_name("x" + std::to_string(kPairs * (1 + rng() % (rows / kPairs))));
      grpc::ClientContext ctx;
      flyteidl::admin::Execution out;
      auto start = Clock::now();
      auto st = stub->GetExecution(&ctx, req, &out);
      if (!st.ok()) throw std::runtime_error("GetExecution: " + st.error_message());
      if (i >= 200) gets.push_back(Micros(Clock::now() - start));
    }
    auto get = Percentiles(gets);
    std::printf("[%s] GetExecution p50 %.0f us over %d executions\n", backend_name.c_str(), get.p50, rows);
    // What the console asks for: the newest page of a project/domain, optionally narrowed to a
    // launch plan or workflow, a set of phases, or a recent time window.
    struct Shape {
      const char* name;
      std::function<std::string()> filters;
    };
    // The seeded rows are one second apart from 2026-01-01: the last day of them.
    google::protobuf::Timestamp base;
    TimeUtil::FromString("2026-01-01T00:00:00Z", &base);
    std::string recent = TimeUtil::ToString(TimeUtil::SecondsToTimestamp(base.seconds() + rows - 86400));
    std::vector<Shape> shapes = {
        {"newest page", [] { return std::string(); }},
        {"by launch plan", [&] { return "eq(launch_plan.name,bench.lp_" + std::to_string(rng() % 100) + ")"; }},
        {"by workflow", [&] { return "eq(workflow.name,bench.wf_" + std::to_string(rng() % 100) + ")"; }},
        {"failed phases", [] { return std::string("value_in(phase,FAILED;ABORTED;TIMED_OUT)"); }},
        {"last 24h running", [&] { return "gte(execution_created_at," + recent + ")+eq(phase,RUNNING)"; }},
    };
    // The shapes take turns, one call each per round, so that a stall of the machine (here they
    // come as bursts of consecutive slow calls, a few milliseconds long) falls on every shape
    // alike, not on whichever shape was being measured when it came. 1,000 calls per shape after
    // 30 rounds of warm-up: a p99 is then the tenth slowest call, not the third.
    constexpr int kWarmRounds = 30, kRounds = kWarmRounds + 1000;
    std::vector<std::vector<double>> lists(shapes.size());
    for (int i = 0; i < kRounds; ++i) {
      for (size_t k = 0; k < shapes.size(); ++k) {
        const Shape& shape = shapes[k];
        flyteidl::admin::ResourceListRequest req;
        req.mutable_id()->set_project(kProject);
        req.mutable_id()->set_domain(kDomain);
        req.set_limit(page);
        const std::string filters = shape.filters();
        req.set_filters(filters);
        req.mutable_sort_by()->set_key("created_at");
        req.mutable_sort_by()->set_direction(flyteidl::admin::Sort::DESCENDING);
        grpc::ClientContext ctx;
        flyteidl::admin::ExecutionList out;
        auto start = Clock::now();
        auto st = stub->ListExecutions(&ctx, req, &out);
        if (!st.ok()) throw std::runtime_error(std::string("ListExecutions ") + shape.name + ": " + st.error_message());
        if (out.executions_size() == 0) {
          throw std::runtime_error(std::string("ListExecutions ") + shape.name + ": nothing matches " + filters);
        }
        if (i >= kWarmRounds) lists[k].push_back(Micros(Clock::now() - start));
      }
    }
    for (size_t k = 0; k < shapes.size(); ++k) {
      auto s = Percentiles(lists[k]);
      std::printf("[%s] ListExecutions %-17s limit %d: p50 %6.0f us  p99 %6.0f us  p99/get-p50 %.2f (goal <= 5)  "
                  "p99 %s 5 ms\n",
                  backend_name.c_str(), shapes[k].name, page, s.p50, s.p99, s.p99 / get.p50, s.p99 <= 5000 ? "<=" : ">");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "[%s] list: %s\n", backend_name.c_str(), e.what());
    ok = false;
  }
  backend.Stop();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string part = argc > 1 ? argv[1] : "all";
  std::string only = argc > 2 ? argv[2] : "both";
  bool ok = true;
  for (std::string backend : {"sqlite", "postgres"}) {
    if (only != "both" && only != backend) continue;
    if (part == "events" || part == "all") ok = RunEvents(backend) && ok;
    if (part == "list" || part == "all") ok = RunList(backend) && ok;
  }
  return ok ? 0 : 1;
}
