// The local executor's node kinds besides task nodes, through a served admin: sub-workflows,
// branches, gates (approved or rejected over the SignalService, typed signals, sleeps) and
// launch-plan nodes, with what the admin then stores for the parent and child node executions
// and for child executions.
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <functional>
#include <thread>

#include "flyteidl/service/admin.grpc.pb.h"
#include "flyteidl/service/signal.grpc.pb.h"
#include "local_executor_support.h"
#include "test_support.h"

// The admin still fills the deprecated closure output_uri fields.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using namespace flyte;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

using namespace flyte::test::local;

// The servers here also serve the SignalService, which gates wait on.
ServerOptions Options() {
  ServerOptions options;
  options.signal = true;
  return options;
}

// The add task: c = a + b.
void RegisterAdd(LocalServer& s) {
  RegisterTask(
      s, "add",
      {"add", "{{.input}}", "{{.outputPrefix}}", "{{.Inputs.a}}", "{{.rawOutputDataPrefix}}",
       "{{.checkpointOutputPrefix}}", "{{.prevCheckpointPrefix}}"});
}

// A node running the add task on a and b.
core::Node AddNode(const std::string& id, const core::BindingData& a, const core::BindingData& b) {
  return TaskNode(id, "add", a, b);
}

// Sets a signal once the gate has created it (SetSignal needs an existing signal).
void SetSignalWhenAsked(LocalServer& s, const core::WorkflowExecutionIdentifier& id,
                        const std::string& signal_id, const core::Literal& value) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    admin::SignalSetRequest req;
    *req.mutable_id()->mutable_execution_id() = id;
    req.mutable_id()->set_signal_id(signal_id);
    *req.mutable_value() = value;
    grpc::ClientContext ctx;
    admin::SignalSetResponse resp;
    auto st = s.signals->SetSignal(&ctx, req, &resp);
    if (st.ok()) return;
    INFO(st.error_message());
    REQUIRE(st.error_code() == grpc::StatusCode::NOT_FOUND);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

core::Node GateNode(const std::string& id) {
  core::Node node;
  node.set_id(id);
  node.mutable_metadata()->set_name(id + "-name");
  return node;
}

}  // namespace

TEST_CASE("A sub-workflow node runs its nodes as children and passes on their outputs", "[e2e]") {
  LocalServer s(Options());
  RegisterAdd(s);
  auto inner = Template("inner",
                        {AddNode("s0", Promise("start-node", "x"), Promise("start-node", "y")),
                         AddNode("s1", Promise("s0", "c"), Scalar(10))},
                        {{"total", Promise("s1", "c")}});
  core::Node sw;
  sw.set_id("sw");
  sw.mutable_metadata()->set_name("sw-name");
  *sw.mutable_workflow_node()->mutable_sub_workflow_ref() = inner.id();
  Bind(sw, "x", Promise("start-node", "x"));
  Bind(sw, "y", Promise("start-node", "y"));
  auto outer = Template("outer", {sw, AddNode("n1", Promise("sw", "total"), Scalar(100))},
                        {{"sub", Promise("sw", "total")}, {"out", Promise("n1", "c")}});
  auto lp = Register(s, outer, {inner});
  auto id = Launch(s, lp, "sub-run", 2, 3);
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto outs = Outputs(s, id);
  CHECK(IntOf(outs, "sub") == 15);
  CHECK(IntOf(outs, "out") == 115);

  // The top level lists the sub-workflow node, a parent; its children hang under it with
  // propeller's ids `<parent>-<attempt>-<node>`.
  auto top = Nodes(s, id);
  CHECK(Keys(top) == std::vector<std::string>{"end-node", "n1", "start-node", "sw"});
  CHECK(top["sw"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK(top["sw"].metadata().is_parent_node());
  CHECK_FALSE(top["n1"].metadata().is_parent_node());
  CHECK_THAT(top["sw"].closure().output_uri(),
             Catch::EndsWith("/flytesnacks-development-sub-run/sw/data/0/outputs.pb"));
  auto children = Nodes(s, id, "sw");
  CHECK(Keys(children) ==
        std::vector<std::string>{"sw-0-end-node", "sw-0-s0", "sw-0-s1", "sw-0-start-node"});
  for (const auto& [key, n] : children) {
    INFO(key);
    CHECK(n.closure().phase() == core::NodeExecution::SUCCEEDED);
  }
  CHECK(children["sw-0-s1"].metadata().spec_node_id() == "s1");
  CHECK(children["sw-0-s1"].metadata().retry_group() == "0");
  CHECK_THAT(children["sw-0-s1"].input_uri(),
             Catch::EndsWith("/flytesnacks-development-sub-run/sw/data/0/s1/inputs.pb"));
  CHECK_THAT(children["sw-0-s1"].closure().output_uri(),
             Catch::EndsWith("/flytesnacks-development-sub-run/sw/data/0/s1/0/outputs.pb"));

  // A child's task executions are keyed by its unique id.
  admin::TaskExecutionListRequest treq;
  *treq.mutable_node_execution_id()->mutable_execution_id() = id;
  treq.mutable_node_execution_id()->set_node_id("sw-0-s0");
  treq.set_limit(10);
  grpc::ClientContext tctx;
  admin::TaskExecutionList tasks;
  REQUIRE(s.stub->ListTaskExecutions(&tctx, treq, &tasks).ok());
  REQUIRE(tasks.task_executions_size() == 1);
  CHECK(tasks.task_executions(0).closure().phase() == core::TaskExecution::SUCCEEDED);

  admin::NodeExecutionGetDataRequest dreq;
  *dreq.mutable_id() = top["sw"].id();
  admin::NodeExecutionGetDataResponse data;
  grpc::ClientContext dctx;
  REQUIRE(s.stub->GetNodeExecutionData(&dctx, dreq, &data).ok());
  CHECK(IntOf(data.full_outputs(), "total") == 15);
}

TEST_CASE("A branch runs the case its condition selects, else its else node, else fails", "[e2e]") {
  LocalServer s(Options());
  RegisterAdd(s);
  // b0: if n0.c > 10 then big (c + 1000) elif n0.c == 5 then five (c + 500) else small (c + 1).
  auto make_branch = [](bool with_else) {
    core::Node b0;
    b0.set_id("b0");
    b0.mutable_metadata()->set_name("b0-name");
    Bind(b0, "n0.c", Promise("n0", "c"));
    auto* ie = b0.mutable_branch_node()->mutable_if_else();
    auto condition = [](core::ComparisonExpression::Operator op, int64_t v) {
      core::BooleanExpression e;
      e.mutable_comparison()->set_operator_(op);
      e.mutable_comparison()->mutable_left_value()->set_var("n0.c");
      e.mutable_comparison()->mutable_right_value()->mutable_primitive()->set_integer(v);
      return e;
    };
    *ie->mutable_case_()->mutable_condition() = condition(core::ComparisonExpression::GT, 10);
    *ie->mutable_case_()->mutable_then_node() = AddNode("big", Promise("n0", "c"), Scalar(1000));
    auto* other = ie->add_other();
    *other->mutable_condition() = condition(core::ComparisonExpression::EQ, 5);
    *other->mutable_then_node() = AddNode("five", Promise("n0", "c"), Scalar(500));
    if (with_else) {
      *ie->mutable_else_node() = AddNode("small", Promise("n0", "c"), Scalar(1));
    } else {
      ie->mutable_error()->set_failed_node_id("b0");
      ie->mutable_error()->set_message("n0.c is neither big nor five");
    }
    return b0;
  };
  auto n0 = AddNode("n0", Promise("start-node", "x"), Promise("start-node", "y"));
  auto lp = Register(
      s, Template("branchy", {n0, make_branch(true), AddNode("n1", Promise("b0", "c"), Scalar(0))},
                  {{"out", Promise("n1", "c")}}));
  auto five = Launch(s, lp, "branch-five", 2, 3);
  auto big = Launch(s, lp, "branch-big", 10, 5);
  auto small = Launch(s, lp, "branch-small", 1, 1);
  auto failing = Register(
      s, Template("branch-or-fail", {n0, make_branch(false)}, {{"out", Promise("b0", "c")}}));
  auto failed_id = Launch(s, failing, "branch-fails", 1, 1);

  for (const auto& [id, expected] :
       std::vector<std::pair<core::WorkflowExecutionIdentifier, int64_t>>{
           {five, 505}, {big, 1015}, {small, 3}}) {
    auto done = WaitTerminal(s, id);
    INFO(id.name() << ": " << done.closure().error().message());
    REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
    CHECK(IntOf(Outputs(s, id), "out") == expected);
  }
  // The taken node runs as the branch's child (its id given by the compiler, `b0-<node>`); the
  // others leave no trace.
  auto top = Nodes(s, five);
  CHECK(Keys(top) == std::vector<std::string>{"b0", "end-node", "n0", "n1", "start-node"});
  CHECK(top["b0"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK_THAT(top["b0"].closure().output_uri(),
             Catch::EndsWith("/flytesnacks-development-branch-five/b0/data/0/outputs.pb"));
  auto children = Nodes(s, five, "b0");
  REQUIRE(Keys(children) == std::vector<std::string>{"b0-0-b0-five"});
  CHECK(children["b0-0-b0-five"].metadata().spec_node_id() == "b0-five");
  CHECK(children["b0-0-b0-five"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK(Keys(Nodes(s, big, "b0")) == std::vector<std::string>{"b0-0-b0-big"});

  auto failed = WaitTerminal(s, failed_id);
  REQUIRE(failed.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(failed.closure().error().code() == "UserProvidedError");
  CHECK(failed.closure().error().message() == "[UserProvidedError] n0.c is neither big nor five");
  CHECK(failed.closure().error().kind() == core::ExecutionError::USER);
  auto failed_nodes = Nodes(s, failed_id);
  CHECK(failed_nodes["b0"].closure().phase() == core::NodeExecution::FAILED);
  CHECK(Nodes(s, failed_id, "b0").empty());
}

TEST_CASE("Gates wait for their signals: approved, typed, rejected", "[e2e]") {
  LocalServer s(Options());
  RegisterAdd(s);
  auto approve = GateNode("approve");
  approve.mutable_gate_node()->mutable_approve()->set_signal_id("go");
  Bind(approve, "c", Promise("n0", "c"));
  auto number = GateNode("number");
  number.mutable_gate_node()->mutable_signal()->set_signal_id("how-many");
  *number.mutable_gate_node()->mutable_signal()->mutable_type() = Simple(core::INTEGER);
  number.mutable_gate_node()->mutable_signal()->set_output_variable_name("n");
  auto lp = Register(
      s, Template("gated",
                  {AddNode("n0", Promise("start-node", "x"), Promise("start-node", "y")), approve,
                   number, AddNode("n1", Promise("approve", "c"), Promise("number", "n"))},
                  {{"out", Promise("n1", "c")}}));
  auto yes = Launch(s, lp, "gate-yes", 2, 3);
  auto no = Launch(s, lp, "gate-no", 2, 3);
  // Nothing moves until the signals come.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(Get(s, yes).closure().phase() == core::WorkflowExecution::RUNNING);
  auto waiting = Nodes(s, yes);
  CHECK(waiting["approve"].closure().phase() == core::NodeExecution::RUNNING);
  CHECK(waiting["number"].closure().phase() == core::NodeExecution::RUNNING);
  CHECK(waiting.count("n1") == 0);

  SetSignalWhenAsked(s, yes, "go", Bool(true));
  SetSignalWhenAsked(s, yes, "how-many", Int(100));
  auto done = WaitTerminal(s, yes);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(IntOf(Outputs(s, yes), "out") == 105);
  auto nodes = Nodes(s, yes);
  CHECK(nodes["approve"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK(nodes["number"].closure().phase() == core::NodeExecution::SUCCEEDED);

  SetSignalWhenAsked(s, no, "go", Bool(false));
  auto rejected = WaitTerminal(s, no);
  REQUIRE(rejected.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(rejected.closure().error().code() == "ReceivedRejectSignal");
  CHECK(rejected.closure().error().message() ==
        "received a reject signal to disapprove the node input values");
  auto rejected_nodes = Nodes(s, no);
  CHECK(rejected_nodes["approve"].closure().phase() == core::NodeExecution::FAILED);
  // The other gate still waited: the failure aborted it.
  CHECK(rejected_nodes["number"].closure().phase() == core::NodeExecution::ABORTED);
  CHECK(rejected_nodes.count("n1") == 0);
}

TEST_CASE("A sleep gate holds its downstream nodes, and an abort interrupts it", "[e2e]") {
  LocalServer s(Options());
  RegisterAdd(s);
  auto make = [&](const std::string& name, int64_t seconds) {
    auto nap = GateNode("nap");
    nap.mutable_gate_node()->mutable_sleep()->mutable_duration()->set_seconds(seconds);
    auto n0 = AddNode("n0", Promise("start-node", "x"), Promise("start-node", "y"));
    n0.add_upstream_node_ids("nap");
    return Register(s, Template(name, {nap, n0}, {{"out", Promise("n0", "c")}}));
  };
  auto short_lp = make("short-nap", 1);
  auto long_lp = make("long-nap", 600);
  // An approval nobody gives within the node's timeout fails the node as propeller's execution
  // deadline does.
  auto impatient = GateNode("approve");
  impatient.mutable_gate_node()->mutable_approve()->set_signal_id("never");
  impatient.mutable_metadata()->mutable_timeout()->set_seconds(1);
  Bind(impatient, "x", Promise("start-node", "x"));
  auto impatient_lp = Register(s, Template("impatient", {impatient}, {}));
  const auto started = std::chrono::steady_clock::now();
  auto id = Launch(s, short_lp, "nap-run", 4, 5);
  auto long_id = Launch(s, long_lp, "long-nap-run", 4, 5);
  auto impatient_id = Launch(s, impatient_lp, "impatient-run", 4, 5);
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::seconds(1));
  CHECK(IntOf(Outputs(s, id), "out") == 9);
  auto nodes = Nodes(s, id);
  CHECK(nodes["nap"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK(nodes["nap"].closure().duration().seconds() >= 1);
  CHECK(nodes["nap"].closure().output_uri().empty());

  auto timed_out = WaitTerminal(s, impatient_id, std::chrono::seconds(20));
  REQUIRE(timed_out.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(timed_out.closure().error().code() == "RetriesExhausted|TimeoutExpired");
  CHECK(timed_out.closure().error().message() ==
        "[1/1] currentAttempt done. Last Error: USER::task execution timeout [1s] expired");

  // A ten-minute nap ends with the execution.
  while (Nodes(s, long_id)["nap"].closure().phase() != core::NodeExecution::RUNNING) {
    REQUIRE(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  admin::ExecutionTerminateRequest terminate;
  *terminate.mutable_id() = long_id;
  terminate.set_cause("enough");
  grpc::ClientContext ctx;
  admin::ExecutionTerminateResponse resp;
  REQUIRE(s.stub->TerminateExecution(&ctx, terminate, &resp).ok());
  auto aborted = WaitTerminal(s, long_id, std::chrono::seconds(20));
  CHECK(aborted.closure().phase() == core::WorkflowExecution::ABORTED);
  auto long_nodes = Nodes(s, long_id);
  CHECK(long_nodes["nap"].closure().phase() == core::NodeExecution::ABORTED);
  CHECK(long_nodes.count("n0") == 0);
}

TEST_CASE("A launch-plan node runs a child execution and takes its outputs", "[e2e]") {
  LocalServer s(Options());
  RegisterAdd(s);
  auto child_lp = Register(
      s, Template("child", {AddNode("c0", Promise("start-node", "x"), Promise("start-node", "y"))},
                  {{"c", Promise("c0", "c")}}));
  core::Node lp0;
  lp0.set_id("lp0");
  lp0.mutable_metadata()->set_name("lp0-name");
  *lp0.mutable_workflow_node()->mutable_launchplan_ref() = child_lp;
  Bind(lp0, "x", Promise("start-node", "x"));
  Bind(lp0, "y", Promise("start-node", "y"));
  auto parent_lp =
      Register(s, Template("parent", {lp0, AddNode("n1", Promise("lp0", "c"), Scalar(1))},
                           {{"child", Promise("lp0", "c")}, {"out", Promise("n1", "c")}}));
  auto id = Launch(s, parent_lp, "lp-run", 20, 22);
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto outs = Outputs(s, id);
  CHECK(IntOf(outs, "child") == 42);
  CHECK(IntOf(outs, "out") == 43);

  // The child: named by propeller's rule, a CHILD_WORKFLOW of the parent's node execution.
  auto nodes = Nodes(s, id);
  REQUIRE(nodes.count("lp0") == 1);
  CHECK(nodes["lp0"].closure().phase() == core::NodeExecution::SUCCEEDED);
  const auto& child_id = nodes["lp0"].closure().workflow_node_metadata().executionid();
  CHECK(child_id.name() == "lp-run-lp0-0");
  CHECK(child_id.project() == kProject);
  admin::ResourceListRequest list;
  list.mutable_id()->set_project(kProject);
  list.mutable_id()->set_domain(kDomain);
  list.set_limit(100);
  grpc::ClientContext ctx;
  admin::ExecutionList executions;
  REQUIRE(s.stub->ListExecutions(&ctx, list, &executions).ok());
  const admin::Execution* child = nullptr;
  for (const auto& e : executions.executions()) {
    if (e.id().name() == "lp-run-lp0-0") child = &e;
  }
  REQUIRE(child != nullptr);
  CHECK(child->closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(child->spec().metadata().mode() == admin::ExecutionMetadata::CHILD_WORKFLOW);
  CHECK(child->spec().metadata().nesting() == 1);
  CHECK(child->spec().metadata().parent_node_execution().node_id() == "lp0");
  CHECK(child->spec().metadata().parent_node_execution().execution_id().name() == "lp-run");
  CHECK(child->spec().launch_plan().name() == "child");
  CHECK(IntOf(Outputs(s, child_id), "c") == 42);
}

TEST_CASE("Aborting a parent aborts the child execution its launch-plan node waits for", "[e2e]") {
  LocalServer s(Options());
  RegisterAdd(s);
  auto hold = GateNode("hold");
  hold.mutable_gate_node()->mutable_sleep()->mutable_duration()->set_seconds(600);
  auto c0 = AddNode("c0", Promise("start-node", "x"), Promise("start-node", "y"));
  c0.add_upstream_node_ids("hold");
  auto child_lp = Register(s, Template("slow-child", {hold, c0}, {{"c", Promise("c0", "c")}}));
  core::Node lp0;
  lp0.set_id("lp0");
  lp0.mutable_metadata()->set_name("lp0-name");
  *lp0.mutable_workflow_node()->mutable_launchplan_ref() = child_lp;
  Bind(lp0, "x", Promise("start-node", "x"));
  Bind(lp0, "y", Promise("start-node", "y"));
  auto parent_lp = Register(s, Template("slow-parent", {lp0}, {{"c", Promise("lp0", "c")}}));
  auto id = Launch(s, parent_lp, "abort-run", 1, 2);
  core::WorkflowExecutionIdentifier child_id = id;
  child_id.set_name("abort-run-lp0-0");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Nodes(s, child_id)["hold"].closure().phase() != core::NodeExecution::RUNNING) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  admin::ExecutionTerminateRequest terminate;
  *terminate.mutable_id() = id;
  terminate.set_cause("stop");
  grpc::ClientContext ctx;
  admin::ExecutionTerminateResponse resp;
  REQUIRE(s.stub->TerminateExecution(&ctx, terminate, &resp).ok());
  CHECK(WaitTerminal(s, id, std::chrono::seconds(20)).closure().phase() ==
        core::WorkflowExecution::ABORTED);
  auto child = WaitTerminal(s, child_id, std::chrono::seconds(20));
  CHECK(child.closure().phase() == core::WorkflowExecution::ABORTED);
  CHECK(Nodes(s, id)["lp0"].closure().phase() == core::NodeExecution::ABORTED);
}

TEST_CASE("Stopping the server stops a run waiting on its child execution, and the child's task",
          "[e2e]") {
  LocalServer s(Options());
  const std::string pid_file =
      test::WriteTempFile("local-stop-" + std::to_string(test::FreePort()) + ".pid", "");
  RegisterTask(s, "sleepy", {"sleep", "{{.input}}", "{{.outputPrefix}}", "120", pid_file});
  auto n0 = TaskNode("n0", "sleepy", Promise("start-node", "x"), Promise("start-node", "y"));
  auto child_lp = Register(s, Template("sleepy-child", {n0}, {{"c", Promise("n0", "c")}}));
  core::Node lp0;
  lp0.set_id("lp0");
  lp0.mutable_metadata()->set_name("lp0-name");
  *lp0.mutable_workflow_node()->mutable_launchplan_ref() = child_lp;
  Bind(lp0, "x", Promise("start-node", "x"));
  Bind(lp0, "y", Promise("start-node", "y"));
  auto parent_lp = Register(s, Template("sleepy-parent", {lp0}, {{"c", Promise("lp0", "c")}}));
  Launch(s, parent_lp, "stop-run", 1, 2);
  const pid_t pid = WaitForPid(pid_file);
  REQUIRE(pid > 0);

  // The parent's run holds the execution manager while its child runs. SIGTERM must still stop
  // both runs and their task, and the server exit cleanly (Stop requires exit code 0).
  s.Stop();
  const bool gone = test::WaitProcessGone(pid, std::chrono::seconds(10));
  CHECK(gone);
  if (!gone) ::kill(pid, SIGKILL);
}

namespace {

// A map task over the stand-in program: a, b lists of integers; c, info lists.
void RegisterMapTask(LocalServer& s, const std::string& name, std::vector<std::string> args) {
  core::LiteralType strings;
  *strings.mutable_collection_type() = Simple(core::STRING);
  CreateTask(s, ProgramTask(name, args, IntList(), strings));
}

core::BindingData List(const std::vector<core::BindingData>& items) {
  core::BindingData b;
  for (const auto& item : items) *b.mutable_collection()->add_bindings() = item;
  return b;
}

// A workflow of one array node m0 over `task` with inputs a and b, its output c as output cs.
core::Identifier RegisterArrayWorkflow(LocalServer& s, const std::string& name,
                                       const std::string& task, const core::BindingData& a,
                                       const core::BindingData& b,
                                       const std::function<void(core::ArrayNode&)>& tune) {
  core::Node m0;
  m0.set_id("m0");
  m0.mutable_metadata()->set_name("m0-name");
  auto* array = m0.mutable_array_node();
  array->mutable_node()->set_id("m0-sub");
  *array->mutable_node()->mutable_task_node()->mutable_reference_id() = Id(core::TASK, task);
  tune(*array);
  Bind(m0, "a", a);
  Bind(m0, "b", b);
  auto wf = Template(name, {m0}, {});
  *(*wf.mutable_interface()->mutable_outputs()->mutable_variables())["cs"].mutable_type() =
      IntList();
  auto* o = wf.add_outputs();
  o->set_var("cs");
  *o->mutable_binding() = Promise("m0", "c");
  return Register(s, wf);
}

}  // namespace

TEST_CASE("An array node runs its task per index and gathers the outputs into lists", "[e2e]") {
  LocalServer s(Options());
  RegisterMapTask(
      s, "add-map",
      {"add", "{{.input}}", "{{.outputPrefix}}", "{{.Inputs.a}}", "{{.rawOutputDataPrefix}}",
       "{{.checkpointOutputPrefix}}", "{{.prevCheckpointPrefix}}"});
  RegisterMapTask(s, "picky-map",
                  {"fail-if-a", "{{.input}}", "{{.outputPrefix}}", "3", "Picky", "three is bad"});
  auto lp = RegisterArrayWorkflow(
      s, "mapped", "add-map",
      List({Promise("start-node", "x"), Promise("start-node", "y"), Scalar(3)}),
      List({Scalar(10), Scalar(20), Scalar(30)}), [](core::ArrayNode& a) { a.set_parallelism(2); });
  auto id = Launch(s, lp, "map-run", 1, 2);
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto outs = Outputs(s, id);
  const auto& cs = outs.literals().at("cs").collection();
  REQUIRE(cs.literals_size() == 3);
  CHECK(cs.literals(0).scalar().primitive().integer() == 11);
  CHECK(cs.literals(1).scalar().primitive().integer() == 22);
  CHECK(cs.literals(2).scalar().primitive().integer() == 33);

  // The array node is reported as propeller's legacy array events do: one node execution and
  // one task execution whose external resources are the sub-nodes.
  auto nodes = Nodes(s, id);
  CHECK(Keys(nodes) == std::vector<std::string>{"end-node", "m0", "start-node"});
  CHECK(nodes["m0"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK(nodes["m0"].metadata().is_array());
  CHECK_THAT(nodes["m0"].closure().output_uri(),
             Catch::EndsWith("/flytesnacks-development-map-run/m0/data/0/outputs.pb"));
  CHECK(Nodes(s, id, "m0").empty());
  admin::TaskExecutionListRequest treq;
  *treq.mutable_node_execution_id()->mutable_execution_id() = id;
  treq.mutable_node_execution_id()->set_node_id("m0");
  treq.set_limit(10);
  grpc::ClientContext tctx;
  admin::TaskExecutionList tasks;
  REQUIRE(s.stub->ListTaskExecutions(&tctx, treq, &tasks).ok());
  REQUIRE(tasks.task_executions_size() == 1);
  const auto& t = tasks.task_executions(0);
  CHECK(t.closure().phase() == core::TaskExecution::SUCCEEDED);
  CHECK(t.closure().task_type() == "container_array");
  REQUIRE(t.closure().metadata().external_resources_size() == 3);
  for (const auto& r : t.closure().metadata().external_resources()) {
    INFO(r.index());
    CHECK(r.phase() == core::TaskExecution::SUCCEEDED);
    CHECK(r.external_id() == "map-run-m0-0-n" + std::to_string(r.index()) + "-0");
  }

  // min_success_ratio: one of three may fail (its element is None); min_successes 3 may not.
  auto lenient =
      RegisterArrayWorkflow(s, "lenient", "picky-map", List({Scalar(1), Scalar(2), Scalar(3)}),
                            List({Scalar(0), Scalar(0), Scalar(0)}),
                            [](core::ArrayNode& a) { a.set_min_success_ratio(0.5); });
  auto strict = RegisterArrayWorkflow(
      s, "strict", "picky-map", List({Scalar(1), Scalar(3), Scalar(2)}),
      List({Scalar(0), Scalar(0), Scalar(0)}), [](core::ArrayNode& a) { a.set_min_successes(3); });
  auto lenient_id = Launch(s, lenient, "lenient-run", 0, 0);
  auto strict_id = Launch(s, strict, "strict-run", 0, 0);
  auto lenient_done = WaitTerminal(s, lenient_id);
  INFO(lenient_done.closure().error().message());
  REQUIRE(lenient_done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  const auto lenient_outputs = Outputs(s, lenient_id);
  const auto& partial = lenient_outputs.literals().at("cs").collection();
  REQUIRE(partial.literals_size() == 3);
  CHECK(partial.literals(0).scalar().primitive().integer() == 1);
  CHECK(partial.literals(1).scalar().primitive().integer() == 2);
  CHECK(partial.literals(2).scalar().has_none_type());

  auto strict_done = WaitTerminal(s, strict_id);
  REQUIRE(strict_done.closure().phase() == core::WorkflowExecution::FAILED);
  // The failed index and propeller's error collector summary of it.
  CHECK(strict_done.closure().error().message() == "[1]: three is bad\n");
  CHECK(Nodes(s, strict_id)["m0"].closure().phase() == core::NodeExecution::FAILED);
}

TEST_CASE("A workflow's failure node runs after a node failed, and its own failure wins", "[e2e]") {
  LocalServer s(Options());
  RegisterAdd(s);
  RegisterTask(s, "fatal",
               {"fail", "{{.input}}", "{{.outputPrefix}}", "nonrecoverable", "Fatal", "no way"});
  RegisterTask(
      s, "cleanup-fails",
      {"fail", "{{.input}}", "{{.outputPrefix}}", "nonrecoverable", "Cleanup", "cleanup broke"});
  auto make = [&](const std::string& name, const std::string& cleanup_task) {
    auto wf =
        Template(name, {AddNode("n0", Promise("start-node", "x"), Promise("start-node", "y"))}, {});
    *wf.mutable_nodes(0)->mutable_task_node()->mutable_reference_id() = Id(core::TASK, "fatal");
    auto fn = AddNode("fn", Promise("start-node", "x"), Promise("start-node", "y"));
    *fn.mutable_task_node()->mutable_reference_id() = Id(core::TASK, cleanup_task);
    *wf.mutable_failure_node() = fn;
    return Register(s, wf);
  };
  auto cleans = make("cleans-up", "add");
  auto breaks = make("cleanup-breaks", "cleanup-fails");
  auto id = Launch(s, cleans, "cleanup-run", 3, 4);
  auto broken_id = Launch(s, breaks, "cleanup-broken", 3, 4);

  auto done = WaitTerminal(s, id);
  REQUIRE(done.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(done.closure().error().code() == "Fatal");
  CHECK(done.closure().error().message() == "no way");
  auto nodes = Nodes(s, id);
  CHECK(nodes["n0"].closure().phase() == core::NodeExecution::FAILED);
  REQUIRE(nodes.count("fn") == 1);
  CHECK(nodes["fn"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK_THAT(nodes["fn"].input_uri(),
             Catch::EndsWith("/flytesnacks-development-cleanup-run/fn/data/inputs.pb"));
  admin::NodeExecutionGetDataRequest dreq;
  *dreq.mutable_id() = nodes["fn"].id();
  admin::NodeExecutionGetDataResponse data;
  grpc::ClientContext dctx;
  REQUIRE(s.stub->GetNodeExecutionData(&dctx, dreq, &data).ok());
  CHECK(IntOf(data.full_outputs(), "c") == 7);

  auto broken = WaitTerminal(s, broken_id);
  REQUIRE(broken.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(broken.closure().error().code() == "Cleanup");
  CHECK(broken.closure().error().message() == "cleanup broke");
  CHECK(Nodes(s, broken_id)["fn"].closure().phase() == core::NodeExecution::FAILED);
}

TEST_CASE("A failed child fails its sub-workflow or launch-plan node with the child's error",
          "[e2e]") {
  LocalServer s(Options());
  RegisterAdd(s);
  RegisterTask(s, "fatal",
               {"fail", "{{.input}}", "{{.outputPrefix}}", "nonrecoverable", "Fatal", "no way"});
  auto bad = AddNode("s0", Promise("start-node", "x"), Promise("start-node", "y"));
  *bad.mutable_task_node()->mutable_reference_id() = Id(core::TASK, "fatal");
  auto inner = Template("bad-inner", {bad}, {{"c", Promise("s0", "c")}});
  core::Node sw;
  sw.set_id("sw");
  sw.mutable_metadata()->set_name("sw-name");
  *sw.mutable_workflow_node()->mutable_sub_workflow_ref() = inner.id();
  Bind(sw, "x", Promise("start-node", "x"));
  Bind(sw, "y", Promise("start-node", "y"));
  auto sub_lp = Register(s, Template("bad-outer", {sw}, {{"c", Promise("sw", "c")}}), {inner});

  auto child_lp = Register(s, Template("bad-child", {bad}, {{"c", Promise("s0", "c")}}));
  core::Node lp0;
  lp0.set_id("lp0");
  lp0.mutable_metadata()->set_name("lp0-name");
  *lp0.mutable_workflow_node()->mutable_launchplan_ref() = child_lp;
  Bind(lp0, "x", Promise("start-node", "x"));
  Bind(lp0, "y", Promise("start-node", "y"));
  auto parent_lp = Register(s, Template("bad-parent", {lp0}, {{"c", Promise("lp0", "c")}}));

  auto sub_id = Launch(s, sub_lp, "bad-sub-run", 1, 2);
  auto lp_id = Launch(s, parent_lp, "bad-lp-run", 1, 2);
  for (const auto& id : {sub_id, lp_id}) {
    auto done = WaitTerminal(s, id);
    INFO(id.name());
    REQUIRE(done.closure().phase() == core::WorkflowExecution::FAILED);
    CHECK(done.closure().error().code() == "Fatal");
    CHECK(done.closure().error().message() == "no way");
  }
  CHECK(Nodes(s, sub_id)["sw"].closure().phase() == core::NodeExecution::FAILED);
  CHECK(Nodes(s, sub_id, "sw")["sw-0-s0"].closure().phase() == core::NodeExecution::FAILED);
  auto lp_node = Nodes(s, lp_id)["lp0"];
  CHECK(lp_node.closure().phase() == core::NodeExecution::FAILED);
  CHECK(lp_node.closure().workflow_node_metadata().executionid().name() == "bad-lp-run-lp0-0");
  core::WorkflowExecutionIdentifier child = lp_id;
  child.set_name("bad-lp-run-lp0-0");
  CHECK(Get(s, child).closure().phase() == core::WorkflowExecution::FAILED);
}
