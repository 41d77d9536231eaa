// The local executor's logic without a server: flyteplugins' template rendering, propeller's
// attempt names, its config section and which workflows it accepts.
#include "local_executor.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <thread>

#include "run.h"
#include "task_runtime.h"

using namespace flyte::plugins::executor;
namespace core = flyteidl::core;

TEST_CASE("Command templates render upstream's variables case-insensitively", "[unit]") {
  core::LiteralMap inputs;
  (*inputs.mutable_literals())["n"].mutable_scalar()->mutable_primitive()->set_integer(42);
  (*inputs.mutable_literals())["f"].mutable_scalar()->mutable_primitive()->set_float_value(1.5);
  (*inputs.mutable_literals())["s"].mutable_scalar()->mutable_primitive()->set_string_value("a$1b");
  auto& list = (*inputs.mutable_literals())["l"];
  list.mutable_collection()->add_literals()->mutable_scalar()->mutable_primitive()->set_boolean(
      true);
  list.mutable_collection()->add_literals()->mutable_scalar()->mutable_blob()->set_uri("s3://b/k");
  TemplateValues v;
  v.input_file = "file:///m/n0/data/inputs.pb";
  v.input_prefix = "file:///m/n0/data";
  v.output_prefix = "file:///m/n0/data/0";
  v.raw_output_prefix = "file:///r/ab/x";
  v.checkpoint_prefix = "file:///r/ab/x/_flytecheckpoints";
  v.per_retry_unique_key = "0exec-n0-0";
  v.ns = "flytesnacks-development";
  v.inputs = &inputs;
  auto out = RenderTemplate(
      {"{{.input}}", "{{ .OutputPrefix }}", "{{$InputPrefix}}", "{{.rawOutputDataPrefix}}",
       "--ckpt={{.checkpointOutputPrefix}}", "{{.prevCheckpointPrefix}}", "{{.PerRetryUniqueKey}}",
       "{{.namespace}}", "{{.inputs.n}}/{{.Inputs.f}}", "{{.inputs.s}}", "{{.inputs.l}}",
       "plain {{.unknown}}"},
      v);
  REQUIRE(out.ok());
  CHECK(out.value() ==
        std::vector<std::string>{
            "file:///m/n0/data/inputs.pb", "file:///m/n0/data/0", "file:///m/n0/data",
            "file:///r/ab/x", "--ckpt=file:///r/ab/x/_flytecheckpoints", "\"\"", "aexec_n0_0",
            "flytesnacks-development", "42/1.5", "a$1b", "[true,s3://b/k]", "plain {{.unknown}}"});
  v.prev_checkpoint_prefix = "file:///r/cd/y/_flytecheckpoints";
  CHECK(RenderTemplate({"{{.prevCheckpointPrefix}}"}, v).value()[0] ==
        "file:///r/cd/y/_flytecheckpoints");

  auto missing = RenderTemplate({"{{.inputs.nope}}"}, v);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("requested input is not found [nope]"));
  CHECK_FALSE(RenderTemplate({"{{.taskTemplatePath}}"}, v).ok());
  int offloads = 0;
  v.task_template_path = [&]() -> flyte::plugin::StatusOr<std::string> {
    ++offloads;
    return std::string("file:///m/n0/data/task.pb");
  };
  CHECK(RenderTemplate({"--tt={{ .TaskTemplatePath }}"}, v).value()[0] ==
        "--tt=file:///m/n0/data/task.pb");
  CHECK(RenderTemplate({"{{.input}}"}, v).ok());
  CHECK(offloads == 1);
}

TEST_CASE("Attempt names and raw output shards follow propeller's encoding", "[unit]") {
  CHECK(FixedLengthUniqueIdForParts(50, {"exec", "n0", "0"}) == "exec-n0-0");
  CHECK(FixedLengthUniqueIdForParts(50, {std::string(30, 'a'), "node-with-a-long-name", "0"}) ==
        "f5udsa2i");
  CHECK(Base36ShardPrefix("exec-n0-0") == "mi");
}

TEST_CASE("Durations print as Go prints them", "[unit]") {
  using namespace std::chrono;
  CHECK(GoDurationString(seconds(1)) == "1s");
  CHECK(GoDurationString(milliseconds(1500)) == "1.5s");
  CHECK(GoDurationString(seconds(90)) == "1m30s");
  CHECK(GoDurationString(hours(1)) == "1h0m0s");
  CHECK(GoDurationString(milliseconds(250)) == "250ms");
  CHECK(GoDurationString(nanoseconds(0)) == "0s");
}

TEST_CASE("A child process is spawned without a shell, waited for and terminated as a group",
          "[unit]") {
  const std::string log = "/tmp/flyte-local-executor-unit.log";
  auto ok =
      ChildProcess::Spawn({"sh", "-c", "echo hello; exit 3"}, {"PATH=/usr/bin:/bin"}, "/tmp", log);
  REQUIRE(ok.ok());
  std::optional<int> st;
  for (int i = 0; i < 200 && !st; ++i) {
    st = ok->Poll();
    if (!st) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(st);
  CHECK(WIFEXITED(*st));
  CHECK(WEXITSTATUS(*st) == 3);
  CHECK_THAT(FileTail(log, 100), Catch::EndsWith("hello\n"));

  auto sleeper = ChildProcess::Spawn({"sleep", "30"}, {"PATH=/usr/bin:/bin"}, "/tmp", log);
  REQUIRE(sleeper.ok());
  int status = sleeper->Terminate(std::chrono::milliseconds(2000));
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);

  // The server's open descriptors do not reach the child.
  const int fd = open("/dev/null", O_RDONLY);
  REQUIRE(fd > 2);
  const std::string check = "test -e /proc/self/fd/" + std::to_string(fd) + " && exit 9; exit 0";
  auto leaks = ChildProcess::Spawn({"sh", "-c", check}, {"PATH=/usr/bin:/bin"}, "/tmp", log);
  REQUIRE(leaks.ok());
  std::optional<int> leak_status;
  for (int i = 0; i < 200 && !leak_status; ++i) {
    leak_status = leaks->Poll();
    if (!leak_status) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  close(fd);
  REQUIRE(leak_status);
  CHECK(WEXITSTATUS(*leak_status) == 0);

  auto missing = ChildProcess::Spawn({"/no/such/program"}, {}, "/tmp", log);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() ==
        "failed to start [/no/such/program]: No such file or directory");
}

TEST_CASE("The config section is checked key by key", "[unit]") {
  auto defaults = LocalExecutorSettings::FromConfig(nlohmann::json::object());
  REQUIRE(defaults.ok());
  CHECK(defaults->cluster_id == "local");
  CHECK(defaults->metadata_prefix == std::vector<std::string>{"metadata", "propeller"});
  auto custom = LocalExecutorSettings::FromConfig({{"clusterId", "laptop"},
                                                   {"metadataPrefix", "meta/run/"},
                                                   {"workers", 2},
                                                   {"terminationGracePeriod", 100}});
  REQUIRE(custom.ok());
  CHECK(custom->cluster_id == "laptop");
  CHECK(custom->metadata_prefix == std::vector<std::string>{"meta", "run"});
  CHECK(custom->workers == 2);
  CHECK(custom->termination_grace == std::chrono::milliseconds(100));
  auto bad = LocalExecutorSettings::FromConfig({{"workers", 0}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "flyte_executor_local config: workers must be a positive integer");
  auto unknown = LocalExecutorSettings::FromConfig({{"wrkers", 3}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message() == "flyte_executor_local config: unknown key wrkers");
}

TEST_CASE("Workflows with nodes the executor does not run yet are refused by name", "[unit]") {
  core::CompiledWorkflowClosure closure;
  auto* task = closure.add_tasks()->mutable_template_();
  task->mutable_id()->set_name("t");
  task->mutable_container()->set_image("x");
  auto* wf = closure.mutable_primary()->mutable_template_();
  auto* n = wf->add_nodes();
  n->set_id("n0");
  n->mutable_task_node()->mutable_reference_id()->set_name("t");
  CHECK(CheckSupported(closure).ok());
  n->set_id("../n0");
  CHECK(CheckSupported(closure).code() == flyte::plugin::StatusCode::kInvalidArgument);
  n->set_id("n0");
  auto* b = wf->add_nodes();
  b->set_id("b0");
  b->mutable_branch_node();
  auto refused = CheckSupported(closure);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == flyte::plugin::StatusCode::kUnimplemented);
  CHECK(refused.message() == "the local executor does not run branch nodes yet (node b0)");
}
