// Two flyteadmin replicas on one database and one store, as a deployment runs them behind a load
// balancer, each fed the same node and task events: propellers deliver at least once, and after
// a leader change or a retry the same event reaches both replicas at once. Every event must be
// applied exactly once across the two processes (one OK, the other ALREADY_EXISTS), no update
// of one replica may be lost to the other's, and the rows and their event history must come out
// as if one server had served them all. On SQLite the replicas are two processes writing one
// file, and on PostgreSQL two connection pools taking the same rows' locks.
#include <atomic>
#include <barrier>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <thread>
#include <vector>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "identifiers.h"
#include "served_server.h"
#include "test_support.h"

namespace test = flyte::test;
using flyteidl::service::AdminService;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";

using test::UniqueName;

// Two served replicas sharing `database` and `storage`, plus a session of our own on the database.
struct Replicas {
  explicit Replicas(const std::string& backend)
      : dir(std::filesystem::temp_directory_path() / UniqueName("flyte-replicas")) {
    std::filesystem::create_directories(dir / "storage");
    if (backend == "postgres") {
      db_layer = test::PostgresLayer(UniqueName("replicas"));
    } else {
      db_layer = "database:\n  sqlite:\n    file: " + (dir / "admin.db").string() + "\n";
    }
    const std::string shared = db_layer + "storage:\n  stow:\n    config:\n      path: " + (dir / "storage").string() + "\n";
    const std::string plugins =
        "    - name: flyte_manager_execution\n"
        "    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_recording_executor.so\n"
        "      config:\n        record: " + (dir / "executor.jsonl").string() + "\n"
        "    - name: flyte_manager_node_execution\n    - name: flyte_manager_task_execution\n";
    // One after the other: the first creates and migrates the database, the second finds it.
    for (int i = 0; i < 2; ++i) {
      served.push_back(std::make_unique<test::ServedServer>(plugins, std::vector<std::string>{shared}));
    }
    if (backend == "postgres") {
      session = std::make_unique<soci::session>(soci::postgresql, "host=127.0.0.1 port=" + Field("port") + " dbname=" +
                                                                      Field("dbname") + " user=postgres sslmode=disable");
    } else {
      session = std::make_unique<soci::session>(soci::sqlite3, "db=\"" + (dir / "admin.db").string() + "\" timeout=30");
    }
  }
  ~Replicas() {
    session.reset();
    served.clear();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  // A workflow execution row, as CreateExecution leaves it, launched on propeller's cluster.
  void AddExecution(const std::string& name, const std::string& phase = "QUEUED") {
    auto config = flyte::core::Config::FromDocuments({db_layer}, [](const std::string&) -> std::optional<std::string> {
      return std::nullopt;
    });
    REQUIRE(config.ok());
    auto opened = flyte::core::db::OpenDatabase(*config);
    REQUIRE(opened.ok());
    flyte::plugin::db::ExecutionModel e;
    e.key = {kProject, kDomain, name};
    e.phase = phase;
    e.cluster = "propeller";
    e.launch_entity = "launch_plan";
    e.execution_created_at = flyte::plugin::db::Now();
    REQUIRE((*opened)->Repositories()->Executions().Create(e, {}).ok());
  }

  // A value of the PostgreSQL layer ("port", "dbname").
  std::string Field(const std::string& key) const {
    const auto at = db_layer.find(key + ": ") + key.size() + 2;
    return db_layer.substr(at, db_layer.find('\n', at) - at);
  }

  long long Count(const std::string& sql) {
    long long n = -1;
    *session << sql, soci::into(n);
    return n;
  }

  std::filesystem::path dir;
  std::string db_layer;
  std::vector<std::unique_ptr<test::ServedServer>> served;
  std::unique_ptr<soci::session> session;
};

core::NodeExecutionIdentifier NodeId(const std::string& execution, const std::string& node) {
  return test::NodeExecutionId(kProject, kDomain, execution, node);
}

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

admin::NodeExecutionEventRequest NodeEvent(const std::string& execution, const std::string& node,
                                           core::NodeExecution::Phase phase, int64_t second) {
  admin::NodeExecutionEventRequest req;
  req.set_request_id("node-" + node + "-" + core::NodeExecution::Phase_Name(phase));
  auto* ev = req.mutable_event();
  *ev->mutable_id() = NodeId(execution, node);
  ev->set_phase(phase);
  ev->set_producer_id("propeller");
  *ev->mutable_occurred_at() = At(second);
  ev->set_event_version(1);
  return req;
}

admin::TaskExecutionEventRequest TaskEvent(const std::string& execution, const std::string& node,
                                           core::TaskExecution::Phase phase, int64_t second, uint32_t version = 0) {
  admin::TaskExecutionEventRequest req;
  req.set_request_id("task-" + node + "-" + core::TaskExecution::Phase_Name(phase));
  auto* e = req.mutable_event();
  auto* task = e->mutable_task_id();
  task->set_resource_type(core::TASK);
  task->set_project(kProject);
  task->set_domain(kDomain);
  task->set_name("t1");
  task->set_version("v1");
  *e->mutable_parent_node_execution_id() = NodeId(execution, node);
  e->set_retry_attempt(0);
  e->set_phase(phase);
  e->set_phase_version(version);
  e->set_producer_id("propeller");
  *e->mutable_occurred_at() = At(second);
  e->set_task_type("python-task");
  e->set_event_version(1);
  return req;
}

admin::WorkflowExecutionEventRequest WorkflowEvent(const std::string& execution, core::WorkflowExecution::Phase phase,
                                                   int64_t second) {
  admin::WorkflowExecutionEventRequest req;
  req.set_request_id("wf-" + core::WorkflowExecution::Phase_Name(phase));
  auto* e = req.mutable_event();
  e->mutable_execution_id()->set_project(kProject);
  e->mutable_execution_id()->set_domain(kDomain);
  e->mutable_execution_id()->set_name(execution);
  e->set_phase(phase);
  e->set_producer_id("propeller");
  *e->mutable_occurred_at() = At(second);
  return req;
}

// One call, made against whichever replica it is given.
using Call = std::function<grpc::Status(AdminService::Stub&)>;

Call SendNode(admin::NodeExecutionEventRequest req) {
  return [req = std::move(req)](AdminService::Stub& stub) {
    grpc::ClientContext ctx;
    admin::NodeExecutionEventResponse resp;
    return stub.CreateNodeEvent(&ctx, req, &resp);
  };
}

Call SendTask(admin::TaskExecutionEventRequest req) {
  return [req = std::move(req)](AdminService::Stub& stub) {
    grpc::ClientContext ctx;
    admin::TaskExecutionEventResponse resp;
    return stub.CreateTaskEvent(&ctx, req, &resp);
  };
}

Call SendWorkflow(admin::WorkflowExecutionEventRequest req) {
  return [req = std::move(req)](AdminService::Stub& stub) {
    grpc::ClientContext ctx;
    admin::WorkflowExecutionEventResponse resp;
    return stub.CreateWorkflowEvent(&ctx, req, &resp);
  };
}

// `first` against replica 0 and `second` against replica 1, released at the same moment.
std::pair<grpc::Status, grpc::Status> AtOnce(std::vector<std::unique_ptr<AdminService::Stub>>& stubs,
                                             const Call& first, const Call& second) {
  std::barrier both(2);
  grpc::Status b;
  std::thread other([&] {
    both.arrive_and_wait();
    b = second(*stubs[1]);
  });
  both.arrive_and_wait();
  grpc::Status a = first(*stubs[0]);
  other.join();
  return {a, b};
}

// "" when exactly one answer is OK and the other ALREADY_EXISTS, else what each said.
std::string NotAppliedOnce(const std::pair<grpc::Status, grpc::Status>& got) {
  const auto& [a, b] = got;
  const bool once = (a.ok() && b.error_code() == grpc::StatusCode::ALREADY_EXISTS) ||
                    (b.ok() && a.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  if (once) return "";
  return "replica 0 answered " + std::to_string(a.error_code()) + " " + a.error_message() + "; replica 1 answered " +
         std::to_string(b.error_code()) + " " + b.error_message();
}

admin::Execution MustGetExecution(AdminService::Stub& stub, const std::string& name) {
  grpc::ClientContext ctx;
  admin::WorkflowExecutionGetRequest get;
  get.mutable_id()->set_project(kProject);
  get.mutable_id()->set_domain(kDomain);
  get.mutable_id()->set_name(name);
  admin::Execution got;
  const auto status = stub.GetExecution(&ctx, get, &got);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return got;
}

admin::NodeExecution MustGetNode(AdminService::Stub& stub, const std::string& execution, const std::string& node) {
  grpc::ClientContext ctx;
  admin::NodeExecutionGetRequest get;
  *get.mutable_id() = NodeId(execution, node);
  admin::NodeExecution got;
  const auto status = stub.GetNodeExecution(&ctx, get, &got);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return got;
}

}  // namespace

TEST_CASE("Two replicas fed the same events apply each exactly once and lose no update", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  Replicas replicas(backend);
  const std::string execution = "dup";
  replicas.AddExecution(execution);

  // Every node runs propeller's sequence on a thread of its own; each event goes to both
  // replicas at the same moment, from two senders released together.
  constexpr int kNodes = 12;
  std::vector<std::unique_ptr<AdminService::Stub>> stubs;
  for (const auto& s : replicas.served) stubs.push_back(AdminService::NewStub(s->channel()));
  std::atomic<int> steps_done{0};
  std::vector<std::string> faults(kNodes);
  std::vector<std::thread> nodes;
  for (int n = 0; n < kNodes; ++n) {
    nodes.emplace_back([&, n] {
      const std::string node = "n" + std::to_string(n);
      const int64_t t0 = 1700000000 + 100 * n;
      const std::vector<std::pair<std::string, Call>> steps = {
          {"node QUEUED", SendNode(NodeEvent(execution, node, core::NodeExecution::QUEUED, t0))},
          {"node RUNNING", SendNode(NodeEvent(execution, node, core::NodeExecution::RUNNING, t0 + 1))},
          {"task QUEUED", SendTask(TaskEvent(execution, node, core::TaskExecution::QUEUED, t0 + 2))},
          {"task RUNNING", SendTask(TaskEvent(execution, node, core::TaskExecution::RUNNING, t0 + 3))},
          {"task RUNNING v1", SendTask(TaskEvent(execution, node, core::TaskExecution::RUNNING, t0 + 4, 1))},
          {"task SUCCEEDED", SendTask(TaskEvent(execution, node, core::TaskExecution::SUCCEEDED, t0 + 5))},
          {"node SUCCEEDED", SendNode(NodeEvent(execution, node, core::NodeExecution::SUCCEEDED, t0 + 6))},
      };
      for (const auto& [what, call] : steps) {
        if (auto fault = NotAppliedOnce(AtOnce(stubs, call, call)); !fault.empty()) {
          faults[n] = node + " " + what + ": " + fault;
          return;
        }
        ++steps_done;
      }
    });
  }
  for (auto& t : nodes) t.join();
  for (int n = 0; n < kNodes; ++n) {
    INFO("node n" << n);
    CHECK(faults[n] == "");
  }
  CHECK(steps_done == kNodes * 7);

  // Whichever replica is asked, the rows are the sequence's end, and each recorded once.
  for (size_t r = 0; r < stubs.size(); ++r) {
    INFO("read from replica " << r);
    for (int n = 0; n < kNodes; ++n) {
      const std::string node = "n" + std::to_string(n);
      const int64_t t0 = 1700000000 + 100 * n;
      const auto got = MustGetNode(*stubs[r], execution, node);
      CHECK(got.closure().phase() == core::NodeExecution::SUCCEEDED);
      CHECK(got.closure().started_at().seconds() == t0 + 1);
      CHECK(got.closure().updated_at().seconds() == t0 + 6);
      CHECK(got.closure().duration().seconds() == 5);

      grpc::ClientContext lctx;
      admin::TaskExecutionListRequest list;
      *list.mutable_node_execution_id() = NodeId(execution, node);
      list.set_limit(10);
      admin::TaskExecutionList tasks;
      REQUIRE(stubs[r]->ListTaskExecutions(&lctx, list, &tasks).ok());
      REQUIRE(tasks.task_executions_size() == 1);
      const auto& task = tasks.task_executions(0).closure();
      CHECK(task.phase() == core::TaskExecution::SUCCEEDED);
      CHECK(task.started_at().seconds() == t0 + 3);
      CHECK(task.updated_at().seconds() == t0 + 5);
    }
  }
  CHECK(replicas.Count("SELECT COUNT(*) FROM node_executions WHERE execution_name = 'dup'") == kNodes);
  CHECK(replicas.Count("SELECT COUNT(*) FROM task_executions WHERE execution_name = 'dup'") == kNodes);
  // QUEUED, RUNNING and SUCCEEDED of each node, once each.
  CHECK(replicas.Count("SELECT COUNT(*) FROM node_execution_events WHERE execution_name = 'dup'") == 3 * kNodes);
  CHECK(replicas.Count("SELECT COUNT(*) FROM (SELECT node_id, phase FROM node_execution_events WHERE "
                       "execution_name = 'dup' GROUP BY node_id, phase HAVING COUNT(*) > 1) d") == 0);

  // Different facts of one node's first event, each sent to its own replica at once: both are
  // kept, whichever replica created the row.
  for (int n = 0; n < 8; ++n) {
    const std::string node = "f" + std::to_string(n);
    auto parent = NodeEvent(execution, node, core::NodeExecution::QUEUED, 1700100000);
    parent.mutable_event()->set_is_parent(true);
    auto running = NodeEvent(execution, node, core::NodeExecution::RUNNING, 1700100001);
    running.mutable_event()->set_input_uri("s3://bucket/inputs.pb");
    const auto [a, b] = AtOnce(stubs, SendNode(parent), SendNode(running));
    INFO("node " << node << ": " << a.error_message() << " / " << b.error_message());
    CHECK(a.ok());
    CHECK(b.ok());
    const auto got = MustGetNode(*stubs[n % 2], execution, node);
    CHECK(got.metadata().is_parent_node());
    CHECK(got.input_uri() == "s3://bucket/inputs.pb");
  }

  // The workflow's own events, each delivered to both replicas at once.
  int64_t second = 1700200000;
  for (auto phase : {core::WorkflowExecution::RUNNING, core::WorkflowExecution::SUCCEEDING,
                     core::WorkflowExecution::SUCCEEDED}) {
    const auto send = SendWorkflow(WorkflowEvent(execution, phase, ++second));
    INFO("workflow " << core::WorkflowExecution::Phase_Name(phase));
    CHECK(NotAppliedOnce(AtOnce(stubs, send, send)) == "");
  }
  for (const auto& stub : stubs) {
    const auto got = MustGetExecution(*stub, execution);
    CHECK(got.closure().phase() == core::WorkflowExecution::SUCCEEDED);
    CHECK(got.closure().started_at().seconds() == 1700200001);
    CHECK(got.closure().duration().seconds() == 2);
  }
  CHECK(replicas.Count("SELECT COUNT(*) FROM execution_events WHERE execution_name = 'dup'") == 3);
}

TEST_CASE("Two replicas: a terminate on one racing the terminal event on the other ends consistent",
          "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  Replicas replicas(backend);
  std::vector<std::unique_ptr<AdminService::Stub>> stubs;
  for (const auto& s : replicas.served) stubs.push_back(AdminService::NewStub(s->channel()));
  for (int i = 0; i < 8; ++i) {
    const std::string name = "tr" + std::to_string(i);
    replicas.AddExecution(name, "RUNNING");
    admin::ExecutionTerminateRequest terminate;
    terminate.mutable_id()->set_project(kProject);
    terminate.mutable_id()->set_domain(kDomain);
    terminate.mutable_id()->set_name(name);
    terminate.set_cause("race");
    const auto [terminated, finished] = AtOnce(
        stubs,
        [&](AdminService::Stub& stub) {
          grpc::ClientContext ctx;
          admin::ExecutionTerminateResponse resp;
          return stub.TerminateExecution(&ctx, terminate, &resp);
        },
        SendWorkflow(WorkflowEvent(name, core::WorkflowExecution::SUCCEEDED, 1700300000)));
    INFO(name << ": terminate " << terminated.error_message() << " / event " << finished.error_message());
    // propeller's terminal event is always taken (ABORTING is not terminal); the terminate
    // either came first or finds the execution already ended.
    REQUIRE(finished.ok());
    CHECK((terminated.ok() || terminated.error_code() == grpc::StatusCode::FAILED_PRECONDITION));
    for (const auto& stub : stubs) {
      CHECK(MustGetExecution(*stub, name).closure().phase() == core::WorkflowExecution::SUCCEEDED);
    }
  }
}
