// The local executor's overhead per node: a fan-out of `nodes` no-op task nodes (each runs
// /bin/true) launched through `flyteadmin serve` with flyte_executor_local on SQLite, from
// CreateExecution until the execution reads SUCCEEDED, against spawning the same programs
// directly (posix_spawn, own process group, output to a file, waitpid) with the same number of
// workers in the same run.
// Usage: bench_local_executor [nodes] [workers]  (BENCH_LOCAL_NODES, BENCH_LOCAL_WORKERS).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bench_support.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "grpc_helpers.h"
#include "test_support.h"

using flyte::bench::Clock;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace fs = std::filesystem;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";
constexpr const char* kProgram = "/bin/true";

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

core::Identifier Id(core::ResourceType type, const std::string& name) {
  core::Identifier id;
  id.set_resource_type(type);
  id.set_project(kProject);
  id.set_domain(kDomain);
  id.set_name(name);
  id.set_version("v1");
  return id;
}

void Check(const grpc::Status& st, const std::string& what) {
  if (!st.ok()) throw std::runtime_error(what + ": " + st.error_message());
}

class Server {
 public:
  Server(int nodes, int workers, const std::string& scratch) {
    grpc_port = flyte::test::FreePort();
    const int http_port = flyte::test::FreePort();
    const std::string plugins =
        "    - name: flyte_manager_project\n    - name: flyte_manager_task\n"
        "    - name: flyte_manager_workflow\n    - name: flyte_manager_launch_plan\n"
        "    - name: flyte_manager_execution\n    - name: flyte_manager_node_execution\n"
        "    - name: flyte_manager_task_execution\n    - name: flyte_executor_local\n"
        "      config:\n        workers: " +
        std::to_string(workers) + "\n        scratchDirectory: " + scratch + "\n";
    // Upstream's registration.maxWorkflowNodes (100) would refuse the fan-out.
    auto config = flyte::test::WriteTempFile(
        "bench-local.yaml",
        flyte::test::ServerConfigYaml(grpc_port, http_port, plugins,
                                      "registration:\n  maxWorkflowNodes: " +
                                          std::to_string(nodes + 10) + "\n"));
    child_ = std::make_unique<flyte::test::Child>(
        std::vector<std::string>{FLYTEADMIN_BIN, "--config", config, "serve"});
    if (!flyte::test::WaitForPort(grpc_port, std::chrono::seconds(60)))
      throw std::runtime_error("flyteadmin did not start: " + child_->Stderr());
    stub = flyteidl::service::AdminService::NewStub(flyte::test::Channel(grpc_port));
  }
  ~Server() {
    child_->Signal(SIGTERM);
    child_->Wait(std::chrono::seconds(30));
  }
  int grpc_port = 0;
  std::unique_ptr<flyteidl::service::AdminService::Stub> stub;

 private:
  std::unique_ptr<flyte::test::Child> child_;
};

// The no-op task, a workflow of `nodes` independent nodes running it, and its launch plan.
core::Identifier Register(Server& s, int nodes) {
  admin::TaskCreateRequest task;
  *task.mutable_id() = Id(core::TASK, "noop");
  auto* t = task.mutable_spec()->mutable_template_();
  *t->mutable_id() = task.id();
  t->set_type("python-task");
  t->mutable_metadata()->mutable_runtime()->set_type(core::RuntimeMetadata::FLYTE_SDK);
  t->mutable_metadata()->mutable_runtime()->set_version("1.16.0");
  t->mutable_interface()->mutable_inputs();
  t->mutable_interface()->mutable_outputs();
  t->mutable_container()->set_image("local/none:latest");
  t->mutable_container()->add_command(kProgram);
  {
    grpc::ClientContext ctx;
    admin::TaskCreateResponse resp;
    Check(s.stub->CreateTask(&ctx, task, &resp), "CreateTask");
  }
  admin::WorkflowCreateRequest wf;
  *wf.mutable_id() = Id(core::WORKFLOW, "fanout");
  auto* tpl = wf.mutable_spec()->mutable_template_();
  *tpl->mutable_id() = wf.id();
  tpl->mutable_interface()->mutable_inputs();
  tpl->mutable_interface()->mutable_outputs();
  for (int i = 0; i < nodes; ++i) {
    auto* n = tpl->add_nodes();
    n->set_id("n" + std::to_string(i));
    n->mutable_metadata()->set_name(n->id());
    *n->mutable_task_node()->mutable_reference_id() = task.id();
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    admin::WorkflowCreateResponse resp;
    Check(s.stub->CreateWorkflow(&ctx, wf, &resp), "CreateWorkflow");
  }
  admin::LaunchPlanCreateRequest lp;
  *lp.mutable_id() = Id(core::LAUNCH_PLAN, "fanout");
  *lp.mutable_spec()->mutable_workflow_id() = wf.id();
  grpc::ClientContext ctx;
  admin::LaunchPlanCreateResponse resp;
  Check(s.stub->CreateLaunchPlan(&ctx, lp, &resp), "CreateLaunchPlan");
  return lp.id();
}

// Seconds from CreateExecution until GetExecution reads a terminal phase.
double RunThroughServer(Server& s, const core::Identifier& lp, const std::string& name) {
  admin::ExecutionCreateRequest req;
  req.set_project(kProject);
  req.set_domain(kDomain);
  req.set_name(name);
  *req.mutable_spec()->mutable_launch_plan() = lp;
  req.mutable_inputs();
  const auto start = Clock::now();
  {
    grpc::ClientContext ctx;
    admin::ExecutionCreateResponse resp;
    Check(s.stub->CreateExecution(&ctx, req, &resp), "CreateExecution");
  }
  admin::WorkflowExecutionGetRequest get;
  get.mutable_id()->set_project(kProject);
  get.mutable_id()->set_domain(kDomain);
  get.mutable_id()->set_name(name);
  while (true) {
    grpc::ClientContext ctx;
    admin::Execution e;
    Check(s.stub->GetExecution(&ctx, get, &e), "GetExecution");
    const auto phase = e.closure().phase();
    if (phase == core::WorkflowExecution::SUCCEEDED) break;
    if (phase == core::WorkflowExecution::FAILED || phase == core::WorkflowExecution::ABORTED)
      throw std::runtime_error("the fan-out ended " + core::WorkflowExecution::Phase_Name(phase) +
                               ": " + e.closure().error().message());
    if (Clock::now() - start > std::chrono::minutes(10))
      throw std::runtime_error("the fan-out did not finish in 10 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Seconds to run `count` processes of kProgram from `workers` threads, each spawned as the
// executor spawns them (own process group, stdin /dev/null, output to a file of its own) and
// waited for.
double RunDirectly(int count, int workers, const fs::path& dir) {
  std::atomic<int> next{0}, failures{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        const std::string log = (dir / ("direct-" + std::to_string(i) + ".log")).string();
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        char* argv[] = {const_cast<char*>(kProgram), nullptr};
        char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
        pid_t pid = -1;
        const int rc = posix_spawnp(&pid, kProgram, &actions, &attr, argv, envp);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        int status = 0;
        if (rc != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
          ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failures > 0) throw std::runtime_error(std::to_string(failures.load()) + " direct runs failed");
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int nodes = argc > 1 ? std::atoi(argv[1]) : EnvInt("BENCH_LOCAL_NODES", 1000);
  const int workers = argc > 2 ? std::atoi(argv[2]) : EnvInt("BENCH_LOCAL_WORKERS", 8);
  const fs::path dir =
      fs::temp_directory_path() / ("flyteadmin-bench-local-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    Server server(nodes, workers, (dir / "scratch").string());
    const auto lp = Register(server, nodes);
    // A small run first, so that both sides start warm.
    RunDirectly(std::min(nodes, 50), workers, dir);
    const double direct = RunDirectly(nodes, workers, dir);
    const double executor = RunThroughServer(server, lp, "fanout-run");
    std::printf(
        "local executor fan-out: %d no-op nodes (%s), %d workers\n"
        "  through flyteadmin + flyte_executor_local: %.3f s (%.2f ms per node)\n"
        "  spawned directly:                          %.3f s (%.2f ms per node)\n"
        "  overhead per node: %.2f ms; ratio executor/direct: %.1fx\n",
        nodes, kProgram, workers, executor, executor * 1000 / nodes, direct,
        direct * 1000 / nodes, (executor - direct) * 1000 / nodes, executor / direct);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_local_executor: %s\n", e.what());
    fs::remove_all(dir);
    return 1;
  }
  if (std::getenv("BENCH_KEEP") == nullptr) fs::remove_all(dir);
  return 0;
}
