// The local executor's restart and bad-output logic without a server: the resume plan of a
// node, the run record, the process table, output checks and the log cap.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "local_executor.h"
#include "restart.h"
#include "task_runtime.h"

using namespace flyte::plugins::executor;
namespace core = flyteidl::core;
namespace fs = std::filesystem;

namespace {

PastAttempt Attempt(uint32_t n, core::TaskExecution::Phase phase,
                    core::ExecutionError::ErrorKind kind = core::ExecutionError::USER,
                    const std::string& code = "Boom") {
  PastAttempt a;
  a.retry_attempt = n;
  a.phase = phase;
  a.error.set_kind(kind);
  a.error.set_code(code);
  a.error.set_message("it broke");
  a.output_uri = "file:///m/n0/data/" + std::to_string(n) + "/outputs.pb";
  return a;
}

fs::path TempDir(const std::string& name) {
  auto dir = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

bool Dead(pid_t pid) { return !ProcessIdentity(pid).has_value(); }

}  // namespace

TEST_CASE("A node without attempts starts at attempt 0 when resumed", "[unit]") {
  auto plan = PlanNodeResume({}, 1, 3);
  CHECK(plan.action == NodeResumePlan::Action::kRun);
  CHECK(plan.next_attempt == 0);
  CHECK(plan.system_failures == 0);
  CHECK_FALSE(plan.interrupted);
}

TEST_CASE("An attempt a restart interrupted counts as a SYSTEM failure and the next one runs",
          "[unit]") {
  auto plan = PlanNodeResume({Attempt(1, core::TaskExecution::RUNNING),
                              Attempt(0, core::TaskExecution::FAILED)},
                             3, 3);
  CHECK(plan.action == NodeResumePlan::Action::kRun);
  CHECK(plan.next_attempt == 2);
  CHECK(plan.system_failures == 1);
  REQUIRE(plan.interrupted);
  CHECK(*plan.interrupted == 1);

  // With no SYSTEM failures allowed, the interruption exhausts the node.
  auto none = PlanNodeResume({Attempt(0, core::TaskExecution::QUEUED)}, 5, 0);
  CHECK(none.action == NodeResumePlan::Action::kFail);
  CHECK(none.error.code() == "RetriesExhausted|LocalExecutorRestarted");
  CHECK(none.error.message() ==
        "[0/0] currentAttempt done. Last Error: SYSTEM::flyteadmin restarted while this attempt "
        "ran; its process was stopped");
  CHECK(none.error.kind() == core::ExecutionError::USER);
}

TEST_CASE("A node whose last attempt failed or succeeded before the restart goes on from there",
          "[unit]") {
  // The retry decision after the last failure was not reported yet: the budget decides.
  auto retry = PlanNodeResume({Attempt(0, core::TaskExecution::FAILED)}, 2, 3);
  CHECK(retry.action == NodeResumePlan::Action::kRun);
  CHECK(retry.next_attempt == 1);
  CHECK_FALSE(retry.interrupted);
  auto exhausted = PlanNodeResume(
      {Attempt(0, core::TaskExecution::FAILED), Attempt(1, core::TaskExecution::FAILED)}, 2, 3);
  CHECK(exhausted.action == NodeResumePlan::Action::kFail);
  CHECK(exhausted.error.code() == "RetriesExhausted|Boom");
  CHECK(exhausted.error.message() == "[2/2] currentAttempt done. Last Error: USER::it broke");
  // SYSTEM failures do not use the user's retries.
  auto system = PlanNodeResume({Attempt(0, core::TaskExecution::FAILED,
                                        core::ExecutionError::SYSTEM, "Interrupted"),
                                Attempt(1, core::TaskExecution::FAILED)},
                               2, 3);
  CHECK(system.action == NodeResumePlan::Action::kRun);
  CHECK(system.next_attempt == 2);
  CHECK(system.system_failures == 1);
  // A timed-out attempt (reported ABORTED) is a user failure.
  auto timed_out = PlanNodeResume({Attempt(0, core::TaskExecution::ABORTED)}, 1, 3);
  CHECK(timed_out.action == NodeResumePlan::Action::kFail);

  auto done = PlanNodeResume(
      {Attempt(0, core::TaskExecution::FAILED), Attempt(1, core::TaskExecution::SUCCEEDED)}, 3, 3);
  CHECK(done.action == NodeResumePlan::Action::kSucceeded);
  CHECK(done.output_dir == "file:///m/n0/data/1");
}

TEST_CASE("The run record gives back what Execute was given", "[unit]") {
  flyte::plugin::ExecutionData data;
  data.namespace_ = "flytesnacks-development";
  data.execution_id.set_project("flytesnacks");
  data.execution_id.set_domain("development");
  data.execution_id.set_name("r1");
  data.reference_workflow_name = "wf";
  data.reference_launch_plan_name = "lp";
  data.workflow_closure.mutable_primary()->mutable_template_()->mutable_id()->set_name("wf");
  data.workflow_closure.mutable_primary()->mutable_template_()->add_nodes()->set_id("n0");
  data.offloaded_inputs_reference = "file:///s/inputs";
  auto& p = data.parameters;
  (*p.inputs.mutable_literals())["x"].mutable_scalar()->mutable_primitive()->set_integer(7);
  p.accepted_at = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  p.labels = {{"team", "a"}};
  p.annotations = {{"note", "b"}};
  p.execution_config.set_max_parallelism(3);
  auto* env = p.execution_config.mutable_envs()->add_values();
  env->set_key("K");
  env->set_value("V");
  p.raw_output_data_config.set_output_location_prefix("file:///raw");
  p.task_resource_limits.memory = "1Gi";
  p.event_version = 2;
  core::WorkflowExecutionIdentifier recovered;
  recovered.set_name("old");
  p.recovery_execution = recovered;

  auto back = DecodeRunRecord(EncodeRunRecord(data));
  REQUIRE(back.ok());
  CHECK(back->namespace_ == data.namespace_);
  CHECK(back->execution_id.name() == "r1");
  CHECK(back->reference_launch_plan_name == "lp");
  CHECK(back->workflow_closure.SerializeAsString() == data.workflow_closure.SerializeAsString());
  CHECK(back->offloaded_inputs_reference == "file:///s/inputs");
  CHECK(back->parameters.inputs.literals().at("x").scalar().primitive().integer() == 7);
  CHECK(back->parameters.accepted_at == p.accepted_at);
  CHECK(back->parameters.labels == p.labels);
  CHECK(back->parameters.annotations == p.annotations);
  CHECK(back->parameters.execution_config.max_parallelism() == 3);
  CHECK(back->parameters.execution_config.envs().values(0).value() == "V");
  CHECK(back->parameters.raw_output_data_config.output_location_prefix() == "file:///raw");
  CHECK(back->parameters.task_resource_limits.memory == "1Gi");
  REQUIRE(back->parameters.recovery_execution);
  CHECK(back->parameters.recovery_execution->name() == "old");
  CHECK_FALSE(back->parameters.cluster_assignment);

  auto garbage = DecodeRunRecord("not cbor at all");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().message() == "run record: not CBOR");
}

TEST_CASE("Task process groups left by a server that is gone are stopped, others are not",
          "[unit]") {
  const auto dir = TempDir("lx-process-table");
  const std::string log = (dir / "log").string();
  ProcessTable table((dir / "processes").string());
  // One of this (running) server's tasks: not an orphan.
  auto mine = ChildProcess::Spawn({"sleep", "30"}, {"PATH=/usr/bin:/bin"}, dir.string(), log);
  REQUIRE(mine.ok());
  table.Add(mine->pid());
  // One recorded by a server that no longer runs.
  auto orphan = ChildProcess::Spawn({"sleep", "30"}, {"PATH=/usr/bin:/bin"}, dir.string(), log);
  REQUIRE(orphan.ok());
  const auto identity = ProcessIdentity(orphan->pid());
  REQUIRE(identity);
  std::ofstream(dir / "processes" / std::to_string(orphan->pid()))
      << *identity << "\n999999999 0 gone\n";
  // A record whose process is long gone (its pid may be reused by now): dropped, nothing signalled.
  std::ofstream(dir / "processes" / "999999998") << "1 stale\n999999999 0 gone\n";

  CHECK(table.TerminateOrphans(std::chrono::milliseconds(2000), nullptr) == 1);
  std::optional<int> status;
  for (int i = 0; i < 200 && !status; ++i) {
    status = orphan->Poll();
    if (!status) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(status);
  CHECK(WIFSIGNALED(*status));
  CHECK(WTERMSIG(*status) == SIGTERM);
  CHECK_FALSE(mine->Poll());  // still running
  CHECK_FALSE(fs::exists(dir / "processes" / std::to_string(orphan->pid())));
  CHECK_FALSE(fs::exists(dir / "processes" / "999999998"));
  CHECK(fs::exists(dir / "processes" / std::to_string(mine->pid())));
  mine->Terminate(std::chrono::milliseconds(2000));
  table.Remove(mine->pid());
  CHECK_FALSE(fs::exists(dir / "processes" / std::to_string(mine->pid())));
  CHECK(Dead(mine->pid()));
  fs::remove_all(dir);
}

TEST_CASE("Outputs are checked against the declared interface", "[unit]") {
  core::VariableMap declared;
  (*declared.mutable_variables())["c"].mutable_type()->set_simple(core::INTEGER);
  core::LiteralMap good;
  (*good.mutable_literals())["c"].mutable_scalar()->mutable_primitive()->set_integer(1);
  CHECK_FALSE(CheckOutputs(good.SerializeAsString(), "file:///o/outputs.pb", declared, nullptr));

  auto bad = CheckOutputs("\xff\xff not a map", "file:///o/outputs.pb", declared, nullptr);
  REQUIRE(bad);
  CHECK(bad->code() == "OutputsBadFormat");
  CHECK(bad->kind() == core::ExecutionError::USER);
  CHECK(bad->message() ==
        "failed to read outputs @[file:///o/outputs.pb]: the file is not a "
        "flyteidl.core.LiteralMap");

  auto missing = CheckOutputs(core::LiteralMap().SerializeAsString(), "file:///o/outputs.pb",
                              declared, nullptr);
  REQUIRE(missing);
  CHECK(missing->code() == "OutputsMismatch");
  CHECK(missing->message() ==
        "outputs @[file:///o/outputs.pb] do not match the task's interface: output [c] is "
        "missing");

  auto big = OutputTooLarge("file:///o/outputs.pb", 5000, 4096);
  CHECK(big.code() == "OutputSizeExceeded");
  CHECK(big.message() ==
        "Remote output size exceeds max, err: [output file @[file:///o/outputs.pb] is too large "
        "[5000] bytes, max allowed [4096] bytes: remote file exceeds max size]");
}

TEST_CASE("A log past its limit is cut back to a note and its tail", "[unit]") {
  const auto dir = TempDir("lx-cap-log");
  const std::string log = (dir / "output.log").string();
  {
    std::ofstream out(log);
    out << std::string(1000, 'a') << std::string(100, 'b');
  }
  CHECK_FALSE(CapLog(log, 2000));
  CHECK_FALSE(CapLog(log, 0));
  CHECK(fs::file_size(log) == 1100);
  CHECK(CapLog(log, 400));
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text ==
        "[flyte local executor: the log exceeded 400 bytes; 1000 earlier bytes were dropped]\n" +
            std::string(100, 'b'));
  fs::remove_all(dir);
}

TEST_CASE("The restart and size settings are read and checked", "[unit]") {
  auto defaults = LocalExecutorSettings::FromConfig(nlohmann::json::object());
  REQUIRE(defaults.ok());
  CHECK(defaults->on_restart == LocalExecutorSettings::OnRestart::kResume);
  CHECK(defaults->max_output_size == 2 * 1024 * 1024);
  CHECK(defaults->max_log_size == 10 * 1024 * 1024);
  auto custom = LocalExecutorSettings::FromConfig(
      {{"onRestart", "fail"}, {"maxOutputSize", 4096}, {"maxLogSize", 0}});
  REQUIRE(custom.ok());
  CHECK(custom->on_restart == LocalExecutorSettings::OnRestart::kFail);
  CHECK(custom->max_output_size == 4096);
  CHECK(custom->max_log_size == 0);
  CHECK(custom->max_ttl_hours == 23);
  CHECK(LocalExecutorSettings::FromConfig({{"maxTTLHours", 0}})->max_ttl_hours == 0);
  CHECK_FALSE(LocalExecutorSettings::FromConfig({{"maxTTLHours", -1}}).ok());
  auto bad = LocalExecutorSettings::FromConfig({{"onRestart", "retry"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "flyte_executor_local config: onRestart must be resume or fail");
  auto zero = LocalExecutorSettings::FromConfig({{"maxOutputSize", 0}});
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().message() ==
        "flyte_executor_local config: maxOutputSize must be a positive integer");
}

TEST_CASE("Waiting for a task wakes at its exit, or at the timeout while it runs", "[unit]") {
  const auto dir = TempDir("lx-wait-exit");
  const std::string log = (dir / "log").string();
  auto quick = ChildProcess::Spawn({"sleep", "0.2"}, {"PATH=/usr/bin:/bin"}, dir.string(), log);
  REQUIRE(quick.ok());
  auto start = std::chrono::steady_clock::now();
  quick->WaitExit(std::chrono::milliseconds(10000));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  std::optional<int> status;
  for (int i = 0; i < 100 && !status; ++i) {
    status = quick->Poll();
    if (!status) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(status);
  CHECK(WIFEXITED(*status));

  auto slow = ChildProcess::Spawn({"sleep", "30"}, {"PATH=/usr/bin:/bin"}, dir.string(), log);
  REQUIRE(slow.ok());
  start = std::chrono::steady_clock::now();
  slow->WaitExit(std::chrono::milliseconds(100));
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(90));
  CHECK_FALSE(slow->Poll());
  slow->Terminate(std::chrono::milliseconds(2000));
  fs::remove_all(dir);
}
