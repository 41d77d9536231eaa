// The local executor's dynamic tasks through a served admin: a task leaving a futures.pb (as
// flytekit's @dynamic does) runs the workflow it describes as the node's children, nested
// dynamics included, with what the admin then stores (children under the node, the compiled
// closure for GetDynamicNodeWorkflow), and the ways it fails.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "local_executor_support.h"
#include "test_support.h"

// The admin still fills the deprecated closure output_uri fields.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using namespace flyte;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

using namespace flyte::test::local;

// A dynamic task of the stand-in program: integer inputs a, b; outputs cs (a list of integers)
// and first.
admin::TaskCreateRequest DynamicTask(const std::string& name,
                                     const std::vector<std::string>& args) {
  auto req = ProgramTask(name, args);
  auto* t = req.mutable_spec()->mutable_template_();
  t->set_type("dynamic-task");
  auto* out = t->mutable_interface()->mutable_outputs()->mutable_variables();
  out->clear();
  *(*out)["cs"].mutable_type() = IntList();
  *(*out)["first"].mutable_type() = Simple(core::INTEGER);
  return req;
}

// The task template file a dynamic task's program puts in its futures.pb.
std::string TemplateFile(const admin::TaskCreateRequest& t) {
  return test::WriteTempFile("dynamic-" + std::to_string(getpid()) + "-" + t.id().name() + ".pb",
                             t.spec().template_().SerializeAsString());
}

admin::TaskCreateRequest AddTask() {
  return ProgramTask(
      "add", {"add", "{{.input}}", "{{.outputPrefix}}", "{{.Inputs.a}}", "{{.rawOutputDataPrefix}}",
              "{{.checkpointOutputPrefix}}", "{{.prevCheckpointPrefix}}"});
}

// A workflow of one node `d` running the task on x and y, with its cs and first as outputs;
// registered with its default launch plan (x, y required).
core::Identifier RegisterWorkflow(LocalServer& s, const std::string& name,
                                  const core::Identifier& task) {
  auto wf = Template(
      name, {TaskNode("d", task.name(), Promise("start-node", "x"), Promise("start-node", "y"))},
      {{"cs", Promise("d", "cs")}, {"first", Promise("d", "first")}});
  *(*wf.mutable_interface()->mutable_outputs()->mutable_variables())["cs"].mutable_type() =
      IntList();
  return Register(s, wf);
}

std::vector<int64_t> Ints(const core::Literal& l) {
  std::vector<int64_t> out;
  for (const auto& e : l.collection().literals()) out.push_back(e.scalar().primitive().integer());
  return out;
}

}  // namespace

TEST_CASE("A dynamic task runs the workflow its futures.pb describes as the node's children",
          "[e2e]") {
  LocalServer s;
  const auto add = AddTask();
  CreateTask(s, add);
  const auto dyn =
      DynamicTask("dyn", {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(add), "3"});
  CreateTask(s, dyn);
  auto lp = RegisterWorkflow(s, "dyn-wf", dyn.id());
  auto id = Launch(s, lp, "dyn-run", 2, 3);
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto outs = Outputs(s, id);
  CHECK(Ints(outs.literals().at("cs")) == std::vector<int64_t>{5, 6, 7});
  CHECK(outs.literals().at("first").scalar().primitive().integer() == 5);

  // The dynamic node is a parent; its children hang under it with `<node>-<attempt>-<child>`.
  auto top = Nodes(s, id);
  CHECK(Keys(top) == std::vector<std::string>{"d", "end-node", "start-node"});
  const auto& d = top["d"];
  CHECK(d.closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK(d.metadata().is_dynamic());
  CHECK(d.metadata().is_parent_node());
  CHECK_THAT(d.closure().output_uri(),
             Catch::EndsWith("/flytesnacks-development-dyn-run/d/data/0/outputs.pb"));
  auto children = Nodes(s, id, "d");
  CHECK(Keys(children) == std::vector<std::string>{"d-0-dn0", "d-0-dn1", "d-0-dn2", "d-0-end-node",
                                                   "d-0-start-node"});
  for (const auto& [key, n] : children) {
    INFO(key);
    CHECK(n.closure().phase() == core::NodeExecution::SUCCEEDED);
    CHECK(n.metadata().retry_group() == "0");
  }
  CHECK(children["d-0-dn1"].metadata().spec_node_id() == "dn1");
  CHECK_THAT(children["d-0-dn1"].input_uri(),
             Catch::EndsWith("/flytesnacks-development-dyn-run/d/data/0/dn1/inputs.pb"));

  // The dynamic task's own attempt and each child's task execution.
  for (const char* node : {"d", "d-0-dn2"}) {
    auto tasks = Tasks(s, id, node);
    INFO(node);
    REQUIRE(tasks.size() == 1);
    CHECK(tasks[0].closure().phase() == core::TaskExecution::SUCCEEDED);
    CHECK(tasks[0].closure().metadata().instance_class() ==
          flyteidl::event::TaskExecutionMetadata::DEFAULT);
    // The dynamic task's attempt reports no outputs of its own.
    CHECK(tasks[0].closure().output_uri().empty() == (std::string(node) == "d"));
  }

  // The admin serves the compiled closure the node reported.
  admin::GetDynamicNodeWorkflowRequest wreq;
  *wreq.mutable_id() = d.id();
  admin::DynamicNodeWorkflowResponse wf;
  grpc::ClientContext wctx;
  auto st = s.stub->GetDynamicNodeWorkflow(&wctx, wreq, &wf);
  INFO(st.error_message());
  REQUIRE(st.ok());
  const auto& primary = wf.compiled_workflow().primary().template_();
  CHECK(primary.id().name() == "dynamic_d");
  CHECK(primary.id().project() == kProject);
  CHECK(primary.id().version().size() == 10);
  std::vector<std::string> ids;
  for (const auto& n : primary.nodes()) ids.push_back(n.id());
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"dn0", "dn1", "dn2", "end-node", "start-node"});
  REQUIRE(wf.compiled_workflow().tasks_size() == 1);
  CHECK(wf.compiled_workflow().tasks(0).template_().id().name() == "add");
  CHECK(wf.compiled_workflow().primary().connections().upstream().count("end-node") == 1);
}

TEST_CASE("A dynamic task inside a dynamic task runs its workflow one level further down",
          "[e2e]") {
  // With max_parallelism 1: a dynamic node gives its slot to its children once its task is done.
  LocalServer s;
  const auto add = AddTask();
  CreateTask(s, add);
  const auto dyn =
      DynamicTask("dyn", {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(add), "2"});
  CreateTask(s, dyn);
  const auto outer = DynamicTask(
      "outer", {"dynamic-nested", "{{.input}}", "{{.outputPrefix}}", TemplateFile(dyn)});
  CreateTask(s, outer);
  auto lp = RegisterWorkflow(s, "nested-wf", outer.id());
  auto id = Launch(s, lp, "nested-run", 10, 1, {.max_parallelism = 1});
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto outs = Outputs(s, id);
  CHECK(Ints(outs.literals().at("cs")) == std::vector<int64_t>{11, 12});
  CHECK(outs.literals().at("first").scalar().primitive().integer() == 11);
  auto inner = Nodes(s, id, "d");
  CHECK(Keys(inner) == std::vector<std::string>{"d-0-end-node", "d-0-inner", "d-0-start-node"});
  CHECK(inner["d-0-inner"].metadata().is_dynamic());
  auto leaves = Nodes(s, id, "d-0-inner");
  // The start node's id passes 20 characters: propeller hashes it.
  REQUIRE(leaves.size() == 4);
  CHECK(leaves.count("d-0-inner-0-dn0") == 1);
  CHECK(leaves.count("d-0-inner-0-dn1") == 1);
  CHECK(leaves.count("d-0-inner-0-end-node") == 1);
  for (const auto& [key, n] : leaves) {
    INFO(key);
    CHECK(n.closure().phase() == core::NodeExecution::SUCCEEDED);
    CHECK(n.metadata().spec_node_id() != "");
  }
}

TEST_CASE("A dynamic workflow's sub-workflows come from its own closure", "[e2e]") {
  LocalServer s;
  const auto add = AddTask();
  CreateTask(s, add);
  const auto dyn =
      DynamicTask("dyn-sub", {"dynamic-sub", "{{.input}}", "{{.outputPrefix}}", TemplateFile(add)});
  CreateTask(s, dyn);
  auto lp = RegisterWorkflow(s, "sub-wf", dyn.id());
  auto id = Launch(s, lp, "dyn-sub-run", 4, 5);
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto outs = Outputs(s, id);
  CHECK(Ints(outs.literals().at("cs")) == std::vector<int64_t>{9});
  CHECK(outs.literals().at("first").scalar().primitive().integer() == 9);
  auto children = Nodes(s, id, "d");
  REQUIRE(children.count("d-0-sw") == 1);
  CHECK(children["d-0-sw"].metadata().is_parent_node());
  auto grandchildren = Nodes(s, id, "d-0-sw");
  CHECK(grandchildren.count("d-0-sw-0-s0") == 1);
}

TEST_CASE("A failed dynamic child fails the run with its error", "[e2e]") {
  LocalServer s;
  const auto fragile = ProgramTask(
      "fragile", {"fail-if-a", "{{.input}}", "{{.outputPrefix}}", "3", "Boom", "a was 3"});
  CreateTask(s, fragile);
  const auto dyn = DynamicTask(
      "dyn-fragile", {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(fragile), "3"});
  CreateTask(s, dyn);
  auto lp = RegisterWorkflow(s, "fragile-wf", dyn.id());
  auto id = Launch(s, lp, "fragile-run", 2, 0);
  auto done = WaitTerminal(s, id);
  REQUIRE(done.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(done.closure().error().code() == "Boom");
  CHECK(done.closure().error().message() == "a was 3");
  CHECK(done.closure().error().kind() == core::ExecutionError::USER);
  auto top = Nodes(s, id);
  CHECK(top["d"].closure().phase() == core::NodeExecution::FAILED);
  CHECK(top["d"].closure().error().code() == "Boom");
  auto children = Nodes(s, id, "d");
  CHECK(children["d-0-dn1"].closure().phase() == core::NodeExecution::FAILED);
}

TEST_CASE("A malformed futures.pb or dynamic workflow fails the node clearly", "[e2e]") {
  LocalServer s;
  const auto add = AddTask();
  CreateTask(s, add);
  const auto garbage = DynamicTask("garbled", {"bad-futures", "{{.input}}", "{{.outputPrefix}}"});
  CreateTask(s, garbage);
  const auto broken = DynamicTask(
      "broken", {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(add), "2", "broken"});
  CreateTask(s, broken);
  auto garbage_id = Launch(s, RegisterWorkflow(s, "garbled-wf", garbage.id()), "garbled-run", 1, 1);
  auto broken_id = Launch(s, RegisterWorkflow(s, "broken-wf", broken.id()), "broken-run", 1, 1);

  auto g = WaitTerminal(s, garbage_id);
  REQUIRE(g.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(g.closure().error().code() == "DynamicWorkflowBuildFailed");
  CHECK(g.closure().error().kind() == core::ExecutionError::SYSTEM);
  CHECK_THAT(g.closure().error().message(),
             Catch::StartsWith("[system] unable to read futures file, maybe corrupted, caused by: "
                               "[system] Failed to read futures protobuf file."));

  auto b = WaitTerminal(s, broken_id);
  REQUIRE(b.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(b.closure().error().code() == "DynamicWorkflowBuildFailed");
  CHECK(b.closure().error().kind() == core::ExecutionError::USER);
  CHECK_THAT(b.closure().error().message(),
             Catch::StartsWith("[User] malformed dynamic workflow, caused by: "));
  CHECK_THAT(b.closure().error().message(), Catch::Contains("nope"));
  // Nothing ran under the node.
  CHECK(Nodes(s, broken_id, "d").empty());
}

TEST_CASE("Aborting a run stops the dynamic node's running children", "[e2e]") {
  LocalServer s;
  const std::string pid_file =
      test::WriteTempFile("dynamic-" + std::to_string(getpid()) + "-sleeper.pid", "");
  const auto sleeper =
      ProgramTask("sleeper", {"sleep", "{{.input}}", "{{.outputPrefix}}", "60", pid_file});
  CreateTask(s, sleeper);
  const auto dyn = DynamicTask(
      "dyn-sleepy", {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(sleeper), "1"});
  CreateTask(s, dyn);
  auto lp = RegisterWorkflow(s, "sleepy-wf", dyn.id());
  auto id = Launch(s, lp, "sleepy-run", 1, 1, {.interruptible = true});

  // Wait for the child's process.
  const pid_t pid = WaitForPid(pid_file);
  REQUIRE(pid > 0);
  Terminate(s, id, "enough");
  auto done = WaitTerminal(s, id);
  CHECK(done.closure().phase() == core::WorkflowExecution::ABORTED);
  CHECK(kill(pid, 0) != 0);
  CHECK(Nodes(s, id)["d"].closure().phase() == core::NodeExecution::ABORTED);
  auto child = Nodes(s, id, "d")["d-0-dn0"];
  CHECK(child.closure().phase() == core::NodeExecution::ABORTED);

  // The execution asked for interruptible tasks: the task events say so.
  auto tasks = Tasks(s, id, child.id().node_id());
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].closure().phase() == core::TaskExecution::ABORTED);
  CHECK(tasks[0].closure().metadata().instance_class() ==
        flyteidl::event::TaskExecutionMetadata::INTERRUPTIBLE);
}
