// The local executor's logic without a server: flyteplugins' template rendering, propeller's
// attempt names, its config section and which workflows it accepts.
#include "local_executor.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <thread>

#include "node_logic.h"
#include "run.h"
#include "test_support.h"

// Branch conditions are built with the (deprecated) primitive operands propeller reads.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
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

  // Matched as propeller's regexps match: leftmost, spaces of any kind inside the braces, '$'
  // for '.', no space between the sigil and the name, and a name that only starts alike is not
  // the variable.
  CHECK(RenderTemplate({"{{{.input}}}", "{{\t$INPUT\n}}", "{{ . input}}", "{{.inputs}}",
                        "{{.inputs.n }}{{.inputs.n", "{{.input}}{{.input}}"},
                       v)
            .value() == std::vector<std::string>{"{file:///m/n0/data/inputs.pb}",
                                                 "file:///m/n0/data/inputs.pb", "{{ . input}}",
                                                 "{{.inputs}}", "42{{.inputs.n",
                                                 "file:///m/n0/data/inputs.pbfile:///m/n0/data/inputs.pb"});
  // A megabyte of spaces or of name (std::regex recursed once per character of it).
  const std::string spaces = "{{" + std::string(1 << 20, ' ') + ".input}}";
  CHECK(RenderTemplate({spaces}, v).value()[0] == "file:///m/n0/data/inputs.pb");
  auto long_name = RenderTemplate({"{{.inputs." + std::string(1 << 20, 'x') + "}}"}, v);
  REQUIRE_FALSE(long_name.ok());
  CHECK_THAT(long_name.status().message(), Catch::Contains("requested input is not found"));
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

  // What a task leaves running in its group when it exits ends with it.
  const std::string pid_file = "/tmp/flyte-local-executor-unit-" + std::to_string(::getpid());
  auto forks = ChildProcess::Spawn({"sh", "-c", "sleep 300 & echo $! > " + pid_file + "; exit 0"},
                                   {"PATH=/usr/bin:/bin"}, "/tmp", log);
  REQUIRE(forks.ok());
  std::optional<int> forks_status;
  for (int i = 0; i < 500 && !forks_status; ++i) {
    forks_status = forks->Poll();
    if (!forks_status) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(forks_status);
  CHECK(WEXITSTATUS(*forks_status) == 0);
  pid_t straggler = 0;
  std::ifstream(pid_file) >> straggler;
  std::remove(pid_file.c_str());
  REQUIRE(straggler > 0);
  CHECK(flyte::test::WaitProcessGone(straggler, std::chrono::seconds(5)));

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
  // Branches, sub-workflows, launch plans and gates run; their nested nodes are checked too.
  auto* b = wf->add_nodes();
  b->set_id("b0");
  auto* taken = b->mutable_branch_node()->mutable_if_else()->mutable_case_()->mutable_then_node();
  taken->set_id("b0-n0");
  taken->mutable_task_node()->mutable_reference_id()->set_name("t");
  b->mutable_branch_node()->mutable_if_else()->mutable_error()->set_message("no");
  auto* g = wf->add_nodes();
  g->set_id("g0");
  g->mutable_gate_node()->mutable_sleep()->mutable_duration()->set_seconds(1);
  auto* lp = wf->add_nodes();
  lp->set_id("lp0");
  lp->mutable_workflow_node()->mutable_launchplan_ref()->set_name("child");
  auto* sw = wf->add_nodes();
  sw->set_id("sw0");
  sw->mutable_workflow_node()->mutable_sub_workflow_ref()->set_name("sub");
  auto missing_sub = CheckSupported(closure);
  CHECK(missing_sub.code() == flyte::plugin::StatusCode::kInvalidArgument);
  CHECK(missing_sub.message() ==
        "failed to find sub workflow with ID [UNSPECIFIED:::sub:] for node sw0");
  auto* sub = closure.add_sub_workflows()->mutable_template_();
  sub->mutable_id()->set_name("sub");
  auto* inner = sub->add_nodes();
  inner->set_id("s-n0");
  inner->mutable_task_node()->mutable_reference_id()->set_name("t");
  CHECK(CheckSupported(closure).ok());
  taken->mutable_task_node()->mutable_reference_id()->set_name("no-container");
  CHECK(CheckSupported(closure).code() == flyte::plugin::StatusCode::kUnimplemented);
  taken->mutable_task_node()->mutable_reference_id()->set_name("t");

  // Array nodes of container tasks run; of anything else they are refused.
  inner->clear_task_node();
  inner->mutable_array_node()
      ->mutable_node()
      ->mutable_task_node()
      ->mutable_reference_id()
      ->set_name("t");
  CHECK(CheckSupported(closure).ok());
  inner->mutable_array_node()->mutable_node()->mutable_gate_node()->mutable_sleep();
  auto refused = CheckSupported(closure);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == flyte::plugin::StatusCode::kUnimplemented);
  CHECK(refused.message() ==
        "the local executor runs array nodes over container tasks only (node s-n0)");
  inner->clear_array_node();
  inner->mutable_task_node()->mutable_reference_id()->set_name("t");
  // Failure nodes are checked like the others.
  auto* on_failure = sub->mutable_failure_node();
  on_failure->set_id("fail");
  on_failure->mutable_task_node()->mutable_reference_id()->set_name("t");
  CHECK(CheckSupported(closure).ok());
  on_failure->mutable_task_node()->mutable_reference_id()->set_name("no-container");
  CHECK(CheckSupported(closure).message() ==
        "the local executor runs container tasks only; task no-container of node fail has no "
        "container");
}

namespace {

core::Literal IntLiteral(int64_t v) {
  core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_integer(v);
  return l;
}

core::BooleanExpression Compare(const std::string& var, core::ComparisonExpression::Operator op,
                                const core::Primitive& right) {
  core::BooleanExpression e;
  e.mutable_comparison()->set_operator_(op);
  e.mutable_comparison()->mutable_left_value()->set_var(var);
  *e.mutable_comparison()->mutable_right_value()->mutable_primitive() = right;
  return e;
}

core::Primitive IntPrimitive(int64_t v) {
  core::Primitive p;
  p.set_integer(v);
  return p;
}

}  // namespace

TEST_CASE("Branch conditions evaluate as propeller's comparator and conjunctions", "[unit]") {
  core::LiteralMap inputs;
  (*inputs.mutable_literals())["n0.x"] = IntLiteral(5);
  (*inputs.mutable_literals())["n0.s"].mutable_scalar()->mutable_primitive()->set_string_value("b");
  (*inputs.mutable_literals())["n0.flag"].mutable_scalar()->mutable_primitive()->set_boolean(true);
  (*inputs.mutable_literals())["n0.list"].mutable_collection();
  using Op = core::ComparisonExpression;
  CHECK(EvaluateBooleanExpression(Compare("n0.x", Op::GT, IntPrimitive(4)), inputs).value());
  CHECK_FALSE(EvaluateBooleanExpression(Compare("n0.x", Op::GT, IntPrimitive(5)), inputs).value());
  CHECK(EvaluateBooleanExpression(Compare("n0.x", Op::GTE, IntPrimitive(5)), inputs).value());
  CHECK(EvaluateBooleanExpression(Compare("n0.x", Op::LT, IntPrimitive(6)), inputs).value());
  CHECK_FALSE(EvaluateBooleanExpression(Compare("n0.x", Op::LTE, IntPrimitive(4)), inputs).value());
  CHECK(EvaluateBooleanExpression(Compare("n0.x", Op::EQ, IntPrimitive(5)), inputs).value());
  CHECK(EvaluateBooleanExpression(Compare("n0.x", Op::NEQ, IntPrimitive(3)), inputs).value());
  core::Primitive a;
  a.set_string_value("a");
  CHECK(EvaluateBooleanExpression(Compare("n0.s", Op::GT, a), inputs).value());

  // Both sides variables; and / or.
  core::BooleanExpression vars;
  vars.mutable_comparison()->set_operator_(Op::EQ);
  vars.mutable_comparison()->mutable_left_value()->set_var("n0.x");
  vars.mutable_comparison()->mutable_right_value()->set_var("n0.x");
  core::BooleanExpression conj;
  conj.mutable_conjunction()->set_operator_(core::ConjunctionExpression::AND);
  *conj.mutable_conjunction()->mutable_left_expression() = vars;
  *conj.mutable_conjunction()->mutable_right_expression() =
      Compare("n0.x", Op::LT, IntPrimitive(0));
  CHECK_FALSE(EvaluateBooleanExpression(conj, inputs).value());
  conj.mutable_conjunction()->set_operator_(core::ConjunctionExpression::OR);
  CHECK(EvaluateBooleanExpression(conj, inputs).value());

  // Propeller's errors, with their codes.
  std::string code;
  auto mixed = EvaluateBooleanExpression(Compare("n0.s", Op::EQ, IntPrimitive(1)), inputs, &code);
  REQUIRE_FALSE(mixed.ok());
  CHECK(code == "MalformedBranchUserError");
  CHECK(mixed.status().message() ==
        "[MalformedBranchUserError] Comparison between different primitives types. "
        "lVal[*core.Primitive_StringValue]:rVal[*core.Primitive_Integer]");
  core::Primitive yes;
  yes.set_boolean(true);
  auto bool_gt = EvaluateBooleanExpression(Compare("n0.flag", Op::GT, yes), inputs, &code);
  CHECK(bool_gt.status().message() ==
        "[MalformedBranchUserError] [GT] not defined for boolean operands.");
  CHECK(EvaluateBooleanExpression(Compare("n0.flag", Op::EQ, yes), inputs).value());
  auto unknown = EvaluateBooleanExpression(Compare("n0.y", Op::EQ, yes), inputs, &code);
  CHECK(unknown.status().message() ==
        "[MalformedBranchUserError] Failed to find Value for Variable [n0.y]");
  auto list = EvaluateBooleanExpression(Compare("n0.list", Op::EQ, yes), inputs, &code);
  CHECK(list.status().message() ==
        "[MalformedBranchUserError] Only primitives can be compared. LHS Variable is non "
        "primitive.");
  CHECK(EvaluateBooleanExpression(core::BooleanExpression(), inputs, &code).status().message() ==
        "[MalformedBranchUserError] No Comparison or Conjunction found in Branch node "
        "expression.");
}

TEST_CASE("A branch takes the first true case, else its else node, else fails", "[unit]") {
  core::LiteralMap inputs;
  (*inputs.mutable_literals())["n0.x"] = IntLiteral(5);
  using Op = core::ComparisonExpression;
  core::BranchNode branch;
  auto* ie = branch.mutable_if_else();
  *ie->mutable_case_()->mutable_condition() = Compare("n0.x", Op::LT, IntPrimitive(0));
  ie->mutable_case_()->mutable_then_node()->set_id("negative");
  auto* other = ie->add_other();
  *other->mutable_condition() = Compare("n0.x", Op::GT, IntPrimitive(3));
  other->mutable_then_node()->set_id("big");
  auto* other2 = ie->add_other();
  *other2->mutable_condition() = Compare("n0.x", Op::GT, IntPrimitive(1));
  other2->mutable_then_node()->set_id("also-big");
  ie->mutable_else_node()->set_id("small");
  auto d = DecideBranch(branch, inputs);
  REQUIRE(d.node != nullptr);
  CHECK(d.node->id() == "big");
  (*inputs.mutable_literals())["n0.x"] = IntLiteral(0);
  CHECK(DecideBranch(branch, inputs).node->id() == "small");

  ie->mutable_error()->set_message("x is too small");
  auto failed = DecideBranch(branch, inputs);
  CHECK(failed.node == nullptr);
  CHECK(failed.error.kind() == core::ExecutionError::USER);
  CHECK(failed.error.code() == "UserProvidedError");
  CHECK(failed.error.message() == "[UserProvidedError] x is too small");
  ie->clear_error();
  auto none = DecideBranch(branch, inputs);
  CHECK(none.error.code() == "MalformedBranchUserError");
  CHECK(none.error.message() == "[MalformedBranchUserError] No branch satisfied");

  // A comparator propeller does not define is a system error.
  core::Primitive empty;
  *ie->mutable_case_()->mutable_condition() = Compare("n0.x", Op::EQ, empty);
  (*inputs.mutable_literals())["n0.x"] = core::Literal();
  (*inputs.mutable_literals())["n0.x"].mutable_scalar()->mutable_primitive();
  auto system = DecideBranch(branch, inputs);
  CHECK(system.error.kind() == core::ExecutionError::SYSTEM);
  CHECK(system.error.code() == "IllegalStateError");
  CHECK(system.error.message() ==
        "Branch evaluation failed. Error [comparator not defined for type: [<nil>]]");
}

TEST_CASE("Nested node and child execution ids are propeller's", "[unit]") {
  CHECK(GenerateUniqueId(std::nullopt, "n0") == "n0");
  CHECK(GenerateUniqueId(ParentInfo{"n1", 0}, "n0") == "n1-0-n0");
  CHECK(GenerateUniqueId(ParentInfo{"n1-0-n0", 2}, "n5") == "n1-0-n0-2-n5");
  // Past 20 characters: "f" + base32(fnv32a) of the joined id.
  const std::string hashed = GenerateUniqueId(ParentInfo{"n1-0-n0-0-n5", 0}, "node-long");
  CHECK(hashed == FixedLengthUniqueIdForParts(20, {"n1-0-n0-0-n5", "0", "node-long"}));
  CHECK(hashed.size() == 8);
  CHECK(hashed[0] == 'f');
  // flyteplugins' and propeller's own test vectors.
  CHECK(FixedLengthUniqueIdForParts(20, {"first-name-is-pretty-large", "hello-world", "1"}) ==
        "fav2uxxi");
  CHECK(FixedLengthUniqueIdForParts64(15, {"x", "y", "z", "m", "n", "y", "z", "m", "n", "y", "z",
                                           "m", "n"}) == "fwp4bky2kucex5");
  CHECK(ChildExecutionName("abc", "n0", 0) == "abc-n0-0");
  // fnv64a past 20 characters: "f" + 13 base32 characters.
  const std::string child = ChildExecutionName("a1b2c3d4e5f6g7h8i9j0", "n0", 0);
  CHECK(child.size() == 14);
  CHECK(child[0] == 'f');
  CHECK(child != ChildExecutionName("a1b2c3d4e5f6g7h8i9j0", "n0", 1));
}

TEST_CASE("A futures.pb becomes propeller's dynamic workflow template and task list", "[unit]") {
  core::TaskTemplate parent;
  parent.mutable_id()->set_name("dyn");
  auto* out = parent.mutable_interface()->mutable_outputs()->mutable_variables();
  (*out)["o"].mutable_type()->set_simple(core::INTEGER);
  (*parent.mutable_interface()->mutable_inputs()->mutable_variables())["i"]
      .mutable_type()
      ->set_simple(core::INTEGER);
  (*parent.mutable_container()->add_config()).set_key("k");
  parent.mutable_container()->mutable_config(0)->set_value("v");

  core::DynamicJobSpec spec;
  core::TaskTemplate child;
  child.mutable_id()->set_name("add");
  child.mutable_id()->set_version("1");
  child.mutable_container()->add_command("run");
  *spec.add_tasks() = child;
  *spec.add_tasks() = child;  // listed twice: compiled once
  core::TaskTemplate plugin_task;
  plugin_task.mutable_id()->set_name("sql");
  *spec.add_tasks() = plugin_task;
  spec.add_nodes()->set_id("n0");
  spec.add_nodes()->set_id("n1");
  auto* o = spec.add_outputs();
  o->set_var("o");
  o->mutable_binding()->mutable_promise()->set_node_id("n1");

  core::WorkflowExecutionIdentifier exec;
  exec.set_project("p");
  exec.set_domain("d");
  exec.set_name("e");
  auto built = BuildDynamicWorkflowSpec(spec, parent, exec, "sw-0-n3", "abcdefghij");
  const auto& wf = built.workflow;
  CHECK(wf.id().resource_type() == core::WORKFLOW);
  CHECK(wf.id().project() == "p");
  CHECK(wf.id().domain() == "d");
  CHECK(wf.id().name() == "dynamic_sw-0-n3");
  CHECK(wf.id().version() == "abcdefghij");
  REQUIRE(wf.nodes_size() == 2);
  CHECK(wf.nodes(1).id() == "n1");
  REQUIRE(wf.outputs_size() == 1);
  CHECK(wf.outputs(0).binding().promise().node_id() == "n1");
  // The interface: the parent task's outputs, no inputs.
  CHECK(wf.interface().outputs().variables().count("o") == 1);
  CHECK(wf.interface().inputs().variables().empty());
  REQUIRE(built.tasks.size() == 2);
  REQUIRE(built.tasks[0].container().config_size() == 1);
  CHECK(built.tasks[0].container().config(0).key() == "k");
  CHECK_FALSE(built.tasks[1].has_container());
}

TEST_CASE("Dynamic workflow versions are ten characters of k8s's random alphabet", "[unit]") {
  const std::string alphabet = "bcdfghjklmnpqrstvwxz2456789";
  const auto a = RandomDynamicVersion();
  const auto b = RandomDynamicVersion();
  CHECK(a.size() == 10);
  CHECK(a.find_first_not_of(alphabet) == std::string::npos);
  CHECK(a != b);
  CHECK(RandomDynamicVersion(3).size() == 3);
}

TEST_CASE("A node is interruptible by its own metadata, else the execution's, else the workflow's",
          "[unit]") {
  core::NodeMetadata node;
  flyteidl::admin::WorkflowExecutionConfig config;
  core::WorkflowTemplate wf;
  CHECK_FALSE(ResolveInterruptible(node, config, wf));
  wf.mutable_metadata_defaults()->set_interruptible(true);
  CHECK(ResolveInterruptible(node, config, wf));
  config.mutable_interruptible()->set_value(false);
  CHECK_FALSE(ResolveInterruptible(node, config, wf));
  node.set_interruptible(true);
  CHECK(ResolveInterruptible(node, config, wf));
  node.set_interruptible(false);
  config.mutable_interruptible()->set_value(true);
  CHECK_FALSE(ResolveInterruptible(node, config, wf));
}
