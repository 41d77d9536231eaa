// flyte_executor_local across a server restart (SIGKILL mid-run, then a new server on the same
// database, storage and scratch directory) and against tasks that write the wrong thing: every
// run ends with a clear state and the server keeps serving.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "local_executor_support.h"
#include "test_support.h"

namespace test = flyte::test;
namespace plugin = flyte::plugin;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace fs = std::filesystem;

namespace {

using namespace flyte::test::local;

// The executor with a 1 s termination grace period and `executor_config`; on another server's
// database and storage (`data_dir`) when it is one restarted.
ServerOptions Options(const std::string& executor_config, const std::string& data_dir = "") {
  ServerOptions options;
  options.termination_grace_period_ms = 1000;
  options.executor_config = executor_config;
  options.data_dir = data_dir;
  return options;
}

// A workflow of a chain of task nodes: the first adds the inputs x and y, each next one adds its
// predecessor's c to y; the output total is the last node's c.
core::Identifier RegisterChain(LocalServer& s, const std::string& name,
                               const std::vector<std::string>& tasks) {
  std::vector<core::Node> nodes;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const std::string id = "n" + std::to_string(i);
    nodes.push_back(
        TaskNode(id, tasks[i],
                 i == 0 ? Promise("start-node", "x") : Promise("n" + std::to_string(i - 1), "c"),
                 Promise("start-node", "y")));
    nodes.back().mutable_metadata()->set_name(id);
  }
  return Register(
      s, Template(name, nodes, {{"total", Promise("n" + std::to_string(tasks.size() - 1), "c")}}));
}

bool Dead(pid_t pid) { return test::ProcessGone(pid); }
bool WaitDead(pid_t pid, std::chrono::seconds limit) { return test::WaitProcessGone(pid, limit); }

// What TerminateExecution leaves when the server dies before the executor reports the abort.
void MarkAborting(const std::string& dir, const core::WorkflowExecutionIdentifier& id) {
  auto config = flyte::core::Config::FromDocuments(
      {"database:\n  sqlite:\n    file: " + dir + "/admin.db\n"},
      [](const std::string&) { return std::nullopt; });
  REQUIRE(config.ok());
  auto db = flyte::core::db::OpenDatabase(config.value());
  REQUIRE(db.ok());
  auto updated = db.value()->Repositories()->Executions().Update(
      {id.project(), id.domain(), id.name()}, [](plugin::db::ExecutionModel& m) {
        admin::ExecutionClosure closure;
        closure.ParseFromString(m.closure);
        closure.set_phase(core::WorkflowExecution::ABORTING);
        closure.mutable_abort_metadata()->set_cause("enough");
        m.closure = closure.SerializeAsString();
        m.phase = "ABORTING";
        m.abort_cause = "enough";
        return plugin::Status::Ok();
      });
  REQUIRE(updated.ok());
}

std::string Unique(const std::string& what) {
  return what + "-" + std::to_string(test::FreePort());
}

}  // namespace

TEST_CASE(
    "After a SIGKILL mid-run a new server resumes the run: finished nodes are kept, the "
    "interrupted one runs its next attempt, the old process is stopped",
    "[e2e]") {
  const std::string scratch = (fs::temp_directory_path() / Unique("lx-restart-scratch")).string();
  const std::string config = "        scratchDirectory: " + scratch + "\n";
  const std::string pid_file = test::WriteTempFile(Unique("lx-restart") + ".pid", "");
  const std::string lost_pid_file = test::WriteTempFile(Unique("lx-lost") + ".pid", "");
  const std::string abort_pid_file = test::WriteTempFile(Unique("lx-abort") + ".pid", "");
  core::WorkflowExecutionIdentifier resumed, lost, aborting;
  std::string dir;
  pid_t pid = 0, lost_pid = 0, abort_pid = 0;
  {
    LocalServer first(Options(config));
    dir = first.served.data_dir();
    RegisterTask(first, "add", {"add", "{{.input}}", "{{.outputPrefix}}", "{{.Inputs.a}}", "r",
                                "c", "p"});
    RegisterTask(first, "sleepy", {"sleep-first", "{{.input}}", "{{.outputPrefix}}", "300", pid_file});
    RegisterTask(first, "sleepy-lost",
                 {"sleep-first", "{{.input}}", "{{.outputPrefix}}", "300", lost_pid_file});
    auto chain = RegisterChain(first, "chain", {"add", "sleepy"});
    RegisterTask(first, "sleepy-abort",
                 {"sleep-first", "{{.input}}", "{{.outputPrefix}}", "300", abort_pid_file});
    auto other = RegisterChain(first, "other", {"sleepy-lost"});
    auto third = RegisterChain(first, "third", {"sleepy-abort"});
    resumed = Launch(first, chain, "resumed-run", 2, 3);
    lost = Launch(first, other, "lost-run", 1, 1);
    aborting = Launch(first, third, "aborting-run", 1, 1);
    pid = WaitForPid(pid_file);
    lost_pid = WaitForPid(lost_pid_file);
    abort_pid = WaitForPid(abort_pid_file);
    REQUIRE(pid > 0);
    REQUIRE(lost_pid > 0);
    REQUIRE(abort_pid > 0);
    // Both attempts are reported running before the server goes.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((Tasks(first, resumed, "n1").empty() || Tasks(first, lost, "n0").empty() ||
            Tasks(first, aborting, "n0").empty()) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(Nodes(first, resumed)["n0"].closure().phase() == core::NodeExecution::SUCCEEDED);
    REQUIRE(Get(first, resumed).closure().phase() == core::WorkflowExecution::RUNNING);
    first.served.Kill();
  }
  CHECK_FALSE(Dead(pid));  // the task outlived its server
  // The second run cannot be resumed: its run record is gone.
  const fs::path record = fs::path(dir) / "storage" / "bucket" / "metadata" / "propeller" /
                          "flytesnacks-development-lost-run" / "local-executor" / "run.cbor";
  REQUIRE(fs::exists(record));
  fs::remove(record);
  // The third was being terminated.
  MarkAborting(dir, aborting);

  LocalServer second(Options(config, dir));
  auto done = WaitTerminal(second, resumed);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(IntOf(Outputs(second, resumed), "total") == 8);  // (2 + 3) + 3
  CHECK(WaitDead(pid, std::chrono::seconds(10)));
  CHECK(Tasks(second, resumed, "n0").size() == 1);  // finished before the restart: not run again
  auto attempts = Tasks(second, resumed, "n1");
  REQUIRE(attempts.size() == 2);
  CHECK(attempts[0].closure().phase() == core::TaskExecution::FAILED);
  CHECK(attempts[0].closure().error().code() == "LocalExecutorRestarted");
  CHECK(attempts[0].closure().error().kind() == core::ExecutionError::SYSTEM);
  CHECK(attempts[1].id().retry_attempt() == 1);
  CHECK(attempts[1].closure().phase() == core::TaskExecution::SUCCEEDED);
  auto nodes = Nodes(second, resumed);
  CHECK(nodes["n1"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK(nodes["end-node"].closure().phase() == core::NodeExecution::SUCCEEDED);

  auto failed = WaitTerminal(second, lost);
  REQUIRE(failed.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(failed.closure().error().code() == "LocalExecutorRestarted");
  CHECK(failed.closure().error().kind() == core::ExecutionError::SYSTEM);
  CHECK_THAT(failed.closure().error().message(),
             Catch::StartsWith("flyteadmin restarted while the execution ran on the local "
                               "executor [local] and the run could not be resumed: its run "
                               "record ") &&
                 Catch::Contains("cannot be read"));
  CHECK(WaitDead(lost_pid, std::chrono::seconds(10)));
  auto lost_nodes = Nodes(second, lost);
  CHECK(lost_nodes["n0"].closure().phase() == core::NodeExecution::ABORTED);
  auto lost_tasks = Tasks(second, lost, "n0");
  REQUIRE(lost_tasks.size() == 1);
  CHECK(lost_tasks[0].closure().phase() == core::TaskExecution::ABORTED);

  auto aborted = WaitTerminal(second, aborting);
  CHECK(aborted.closure().phase() == core::WorkflowExecution::ABORTED);
  CHECK(aborted.closure().abort_metadata().cause() == "enough");
  CHECK(WaitDead(abort_pid, std::chrono::seconds(10)));
  CHECK(Nodes(second, aborting)["n0"].closure().phase() == core::NodeExecution::ABORTED);
  auto abort_tasks = Tasks(second, aborting, "n0");
  REQUIRE(abort_tasks.size() == 1);
  CHECK(abort_tasks[0].closure().phase() == core::TaskExecution::ABORTED);
  CHECK(abort_tasks[0].closure().error().message() == "enough");

  // The new server runs new work as before.
  auto again =
      WaitTerminal(second, Launch(second, RegisterChain(second, "quick", {"add"}), "after-run", 1, 1));
  CHECK(again.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  second.Stop();
  fs::remove_all(scratch);
}

TEST_CASE("With onRestart: fail a run interrupted by a restart is failed with the reason", "[e2e]") {
  const std::string scratch = (fs::temp_directory_path() / Unique("lx-fail-scratch")).string();
  const std::string pid_file = test::WriteTempFile(Unique("lx-fail") + ".pid", "");
  core::WorkflowExecutionIdentifier id;
  std::string dir;
  pid_t pid = 0;
  {
    LocalServer first(Options("        scratchDirectory: " + scratch + "\n"));
    dir = first.served.data_dir();
    RegisterTask(first, "sleepy", {"sleep-first", "{{.input}}", "{{.outputPrefix}}", "300", pid_file});
    id = Launch(first, RegisterChain(first, "one", {"sleepy"}), "fail-run", 1, 1);
    pid = WaitForPid(pid_file);
    REQUIRE(pid > 0);
    first.served.Kill();
  }
  LocalServer second(
      Options("        scratchDirectory: " + scratch + "\n        onRestart: fail\n", dir));
  auto done = WaitTerminal(second, id);
  REQUIRE(done.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(done.closure().error().code() == "LocalExecutorRestarted");
  CHECK(done.closure().error().message() ==
        "flyteadmin restarted while the execution ran on the local executor [local] and the run "
        "could not be resumed: the executor is configured not to resume runs (onRestart: fail)");
  CHECK(WaitDead(pid, std::chrono::seconds(10)));
  second.Stop();
  fs::remove_all(scratch);
}

TEST_CASE(
    "Tasks writing no outputs, outputs of the wrong type, oversized outputs or errors, or a "
    "flood of output fail clearly or stay bounded, and the server keeps serving",
    "[e2e]") {
  const std::string scratch = (fs::temp_directory_path() / Unique("lx-bad-scratch")).string();
  LocalServer s(Options("        scratchDirectory: " + scratch +
                        "\n        maxOutputSize: 4096\n        maxLogSize: 65536\n"));
  RegisterTask(s, "nothing", {"nothing", "{{.input}}", "{{.outputPrefix}}"});
  RegisterTask(s, "wrong-type", {"wrong-type", "{{.input}}", "{{.outputPrefix}}"});
  RegisterTask(s, "big-output", {"big-output", "{{.input}}", "{{.outputPrefix}}", "1048576"});
  RegisterTask(s, "big-error", {"big-error", "{{.input}}", "{{.outputPrefix}}", "1048576"});
  RegisterTask(s, "spew", {"spew", "{{.input}}", "{{.outputPrefix}}", "50000000"});
  std::map<std::string, core::WorkflowExecutionIdentifier> runs;
  for (const char* task : {"nothing", "wrong-type", "big-output", "big-error", "spew"}) {
    runs[task] = Launch(s, RegisterChain(s, task, {task}), std::string(task) + "-run", 1, 2);
  }

  auto nothing = WaitTerminal(s, runs["nothing"]);
  REQUIRE(nothing.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(nothing.closure().error().code() == "RetriesExhausted|OutputsNotFound");
  CHECK_THAT(nothing.closure().error().message(),
             Catch::EndsWith("Outputs not generated by task execution"));

  auto wrong = WaitTerminal(s, runs["wrong-type"]);
  REQUIRE(wrong.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(wrong.closure().error().code() == "RetriesExhausted|OutputsMismatch");
  CHECK_THAT(wrong.closure().error().message(),
             Catch::Contains("do not match the task's interface: output [c] has type "
                             "[simple: STRING], the interface declares [simple: INTEGER]"));

  for (const char* big : {"big-output", "big-error"}) {
    INFO(big);
    auto e = WaitTerminal(s, runs[big]);
    REQUIRE(e.closure().phase() == core::WorkflowExecution::FAILED);
    CHECK(e.closure().error().code() == "OutputSizeExceeded");
    CHECK_THAT(e.closure().error().message(),
               Catch::StartsWith("Remote output size exceeds max, err: [output file @[file://") &&
                   Catch::Contains(std::string(big) == "big-output" ? "/outputs.pb] is too large ["
                                                                    : "/error.pb] is too large [") &&
                   Catch::EndsWith("max allowed [4096] bytes: remote file exceeds max size]"));
    CHECK(Tasks(s, runs[big], "n0").size() == 1);  // not retried
  }

  auto spew = WaitTerminal(s, runs["spew"]);
  INFO(spew.closure().error().message());
  REQUIRE(spew.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(IntOf(Outputs(s, runs["spew"]), "total") == 3);
  const fs::path log =
      fs::path(scratch) / "flytesnacks-development-spew-run" / "n0" / "0" / "output.log";
  REQUIRE(fs::exists(log));
  CHECK(fs::file_size(log) <= 65536);
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("[flyte local executor: the log exceeded 65536 bytes;") &&
                       Catch::EndsWith("spew done\n"));

  // Unharmed: a good run still succeeds.
  RegisterTask(s, "add", {"add", "{{.input}}", "{{.outputPrefix}}", "{{.Inputs.a}}", "r", "c", "p"});
  auto good = WaitTerminal(s, Launch(s, RegisterChain(s, "good", {"add"}), "good-run", 20, 22));
  REQUIRE(good.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(IntOf(Outputs(s, good.id()), "total") == 42);
  s.Stop();
  fs::remove_all(scratch);
}

TEST_CASE("A second server that cannot start leaves the running server's runs alone", "[e2e]") {
  const std::string scratch = (fs::temp_directory_path() / Unique("lx-second-scratch")).string();
  const std::string config = "        scratchDirectory: " + scratch + "\n";
  const std::string pid_file = test::WriteTempFile(Unique("lx-second") + ".pid", "");
  LocalServer first(Options(config));
  RegisterTask(first, "sleepy", {"sleep", "{{.input}}", "{{.outputPrefix}}", "300", pid_file});
  auto chain = RegisterChain(first, "chain", {"sleepy"});
  auto id = Launch(first, chain, "live-run", 1, 1);
  const pid_t pid = WaitForPid(pid_file);
  REQUIRE(pid > 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Tasks(first, id, "n0").empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(Tasks(first, id, "n0").size() == 1);

  // A stray `serve` with the same config (database, storage, scratch directory and ports): its
  // ports are taken, so it fails, and it must do so before it looks for runs to recover, which
  // would take the live server's for a dead one's.
  const fs::path temp = fs::path(first.served.data_dir()).parent_path();
  const std::string same_config =
      (temp / ("served-" + std::to_string(first.served.grpc_port) + ".yaml")).string();
  REQUIRE(fs::exists(same_config));
  auto second = test::Run({FLYTEADMIN_BIN, "--config", same_config, "serve"}, std::chrono::seconds(60));
  INFO(second.err);
  CHECK(second.exit_code != 0);
  CHECK_FALSE(Dead(pid));
  auto attempts = Tasks(first, id, "n0");
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].closure().phase() == core::TaskExecution::RUNNING);
  CHECK(Get(first, id).closure().phase() == core::WorkflowExecution::RUNNING);

  admin::ExecutionTerminateRequest terminate;
  *terminate.mutable_id() = id;
  terminate.set_cause("done");
  grpc::ClientContext ctx;
  admin::ExecutionTerminateResponse resp;
  REQUIRE(first.stub->TerminateExecution(&ctx, terminate, &resp).ok());
  CHECK(WaitTerminal(first, id).closure().phase() == core::WorkflowExecution::ABORTED);
  CHECK(WaitDead(pid, std::chrono::seconds(10)));
  first.Stop();
}

TEST_CASE("Scratch directories of executions done longer than maxTTLHours are removed", "[e2e]") {
  const fs::path scratch = fs::temp_directory_path() / Unique("lx-ttl-scratch");
  // Left by earlier runs: one two hours old, one fresh; and the process table.
  const fs::path old_run = scratch / "flytesnacks-development-old";
  const fs::path fresh_run = scratch / "flytesnacks-development-fresh";
  fs::create_directories(old_run / "n0" / "0");
  fs::create_directories(fresh_run / "n0" / "0");
  fs::create_directories(scratch / "processes");
  std::ofstream(old_run / "n0" / "0" / "output.log") << "old log\n";
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(old_run, two_hours_ago);
  fs::last_write_time(scratch / "processes", two_hours_ago);

  LocalServer s(Options("        scratchDirectory: " + scratch.string() + "\n        maxTTLHours: 1\n"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (fs::exists(old_run) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(fs::exists(old_run));
  CHECK(fs::exists(fresh_run / "n0" / "0"));
  CHECK(fs::exists(scratch / "processes"));

  // A run of this server is never swept, and what it writes stays there.
  RegisterTask(s, "add", {"add", "{{.input}}", "{{.outputPrefix}}", "{{.Inputs.a}}", "r", "c", "p"});
  auto done = WaitTerminal(s, Launch(s, RegisterChain(s, "chain", {"add"}), "ttl-run", 1, 1));
  CHECK(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(fs::exists(scratch / "flytesnacks-development-ttl-run"));
  s.Stop();
  std::error_code ec;
  fs::remove_all(scratch, ec);
}
