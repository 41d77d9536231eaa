// The local executor's dynamic tasks through a served admin: a task leaving a futures.pb (as
// flytekit's @dynamic does) runs the workflow it describes as the node's children, nested
// dynamics included, with what the admin then stores (children under the node, the compiled
// closure for GetDynamicNodeWorkflow), and the ways it fails.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "flyteidl/service/admin.grpc.pb.h"
#include "served_server.h"
#include "test_support.h"

// The admin still fills the deprecated closure output_uri fields.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using namespace flyte;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";
constexpr const char* kVersion = "v1";

struct DynamicServer {
  DynamicServer()
      : served(
            "    - name: flyte_manager_project\n"
            "    - name: flyte_manager_task\n"
            "    - name: flyte_manager_workflow\n"
            "    - name: flyte_manager_launch_plan\n"
            "    - name: flyte_manager_execution\n"
            "    - name: flyte_manager_node_execution\n"
            "    - name: flyte_manager_task_execution\n"
            "    - name: flyte_executor_local\n"
            "      config:\n"
            "        terminationGracePeriod: 2000\n"),
        stub(flyteidl::service::AdminService::NewStub(served.channel())) {}
  test::ServedServer served;
  std::unique_ptr<flyteidl::service::AdminService::Stub> stub;
};

core::Identifier Id(core::ResourceType type, const std::string& name) {
  core::Identifier id;
  id.set_resource_type(type);
  id.set_project(kProject);
  id.set_domain(kDomain);
  id.set_name(name);
  id.set_version(kVersion);
  return id;
}

core::LiteralType Simple(core::SimpleType t) {
  core::LiteralType type;
  type.set_simple(t);
  return type;
}

core::LiteralType IntList() {
  core::LiteralType type;
  *type.mutable_collection_type() = Simple(core::INTEGER);
  return type;
}

// A task of the stand-in program with integer inputs a, b; `dynamic` ones output cs (a list of
// integers) and first, the others c and info.
core::TaskTemplate ProgramTask(const std::string& name, const std::vector<std::string>& args,
                               bool dynamic) {
  core::TaskTemplate t;
  *t.mutable_id() = Id(core::TASK, name);
  t.set_type(dynamic ? "dynamic-task" : "python-task");
  t.mutable_metadata()->mutable_runtime()->set_type(core::RuntimeMetadata::FLYTE_SDK);
  t.mutable_metadata()->mutable_runtime()->set_version("1.16.0");
  auto* in = t.mutable_interface()->mutable_inputs()->mutable_variables();
  *(*in)["a"].mutable_type() = Simple(core::INTEGER);
  *(*in)["b"].mutable_type() = Simple(core::INTEGER);
  auto* out = t.mutable_interface()->mutable_outputs()->mutable_variables();
  if (dynamic) {
    *(*out)["cs"].mutable_type() = IntList();
    *(*out)["first"].mutable_type() = Simple(core::INTEGER);
  } else {
    *(*out)["c"].mutable_type() = Simple(core::INTEGER);
    *(*out)["info"].mutable_type() = Simple(core::STRING);
  }
  auto* c = t.mutable_container();
  c->set_image("local/none:latest");
  c->add_command(LOCAL_TASK_PROGRAM);
  for (const auto& a : args) c->add_args(a);
  return t;
}

void RegisterTask(DynamicServer& s, const core::TaskTemplate& t) {
  admin::TaskCreateRequest req;
  *req.mutable_id() = t.id();
  *req.mutable_spec()->mutable_template_() = t;
  grpc::ClientContext ctx;
  admin::TaskCreateResponse resp;
  auto st = s.stub->CreateTask(&ctx, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
}

// The task template file a dynamic task's program puts in its futures.pb.
std::string TemplateFile(const core::TaskTemplate& t) {
  return test::WriteTempFile("dynamic-" + std::to_string(getpid()) + "-" + t.id().name() + ".pb",
                             t.SerializeAsString());
}

core::TaskTemplate AddTask() {
  return ProgramTask(
      "add",
      {"add", "{{.input}}", "{{.outputPrefix}}", "{{.Inputs.a}}", "{{.rawOutputDataPrefix}}",
       "{{.checkpointOutputPrefix}}", "{{.prevCheckpointPrefix}}"},
      false);
}

// A workflow of one node `d` running the task on x and y, with its cs and first as outputs;
// registered with its default launch plan (x, y required).
core::Identifier RegisterWorkflow(DynamicServer& s, const std::string& name,
                                  const core::Identifier& task) {
  core::WorkflowTemplate wf;
  *wf.mutable_id() = Id(core::WORKFLOW, name);
  auto* in = wf.mutable_interface()->mutable_inputs()->mutable_variables();
  *(*in)["x"].mutable_type() = Simple(core::INTEGER);
  *(*in)["y"].mutable_type() = Simple(core::INTEGER);
  auto* out = wf.mutable_interface()->mutable_outputs()->mutable_variables();
  *(*out)["cs"].mutable_type() = IntList();
  *(*out)["first"].mutable_type() = Simple(core::INTEGER);
  auto* node = wf.add_nodes();
  node->set_id("d");
  node->mutable_metadata()->set_name("d-name");
  *node->mutable_task_node()->mutable_reference_id() = task;
  for (const auto& [var, from] : {std::pair{"a", "x"}, std::pair{"b", "y"}}) {
    auto* b = node->add_inputs();
    b->set_var(var);
    b->mutable_binding()->mutable_promise()->set_node_id("start-node");
    b->mutable_binding()->mutable_promise()->set_var(from);
  }
  for (const char* var : {"cs", "first"}) {
    auto* o = wf.add_outputs();
    o->set_var(var);
    o->mutable_binding()->mutable_promise()->set_node_id("d");
    o->mutable_binding()->mutable_promise()->set_var(var);
  }
  {
    admin::WorkflowCreateRequest req;
    *req.mutable_id() = wf.id();
    *req.mutable_spec()->mutable_template_() = wf;
    grpc::ClientContext ctx;
    admin::WorkflowCreateResponse resp;
    auto st = s.stub->CreateWorkflow(&ctx, req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }
  admin::LaunchPlanCreateRequest lp;
  *lp.mutable_id() = Id(core::LAUNCH_PLAN, name);
  *lp.mutable_spec()->mutable_workflow_id() = wf.id();
  auto* params = lp.mutable_spec()->mutable_default_inputs()->mutable_parameters();
  for (const char* v : {"x", "y"}) {
    *(*params)[v].mutable_var()->mutable_type() = Simple(core::INTEGER);
    (*params)[v].set_required(true);
  }
  grpc::ClientContext ctx;
  admin::LaunchPlanCreateResponse resp;
  auto st = s.stub->CreateLaunchPlan(&ctx, lp, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return lp.id();
}

core::Literal Int(int64_t v) {
  core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_integer(v);
  return l;
}

core::WorkflowExecutionIdentifier Launch(DynamicServer& s, const core::Identifier& lp,
                                         const std::string& name, int64_t x, int64_t y,
                                         bool interruptible = false, int max_parallelism = 0) {
  admin::ExecutionCreateRequest req;
  req.mutable_spec()->set_max_parallelism(max_parallelism);
  if (interruptible) req.mutable_spec()->mutable_interruptible()->set_value(true);
  req.set_project(kProject);
  req.set_domain(kDomain);
  req.set_name(name);
  *req.mutable_spec()->mutable_launch_plan() = lp;
  (*req.mutable_inputs()->mutable_literals())["x"] = Int(x);
  (*req.mutable_inputs()->mutable_literals())["y"] = Int(y);
  grpc::ClientContext ctx;
  admin::ExecutionCreateResponse resp;
  auto st = s.stub->CreateExecution(&ctx, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return resp.id();
}

admin::Execution WaitTerminal(DynamicServer& s, const core::WorkflowExecutionIdentifier& id) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    admin::WorkflowExecutionGetRequest req;
    *req.mutable_id() = id;
    grpc::ClientContext ctx;
    admin::Execution e;
    auto st = s.stub->GetExecution(&ctx, req, &e);
    INFO(st.error_message());
    REQUIRE(st.ok());
    const auto p = e.closure().phase();
    if (p == core::WorkflowExecution::SUCCEEDED || p == core::WorkflowExecution::FAILED ||
        p == core::WorkflowExecution::ABORTED || p == core::WorkflowExecution::TIMED_OUT)
      return e;
    if (std::chrono::steady_clock::now() > deadline)
      FAIL("execution " << id.name() << " still " << core::WorkflowExecution::Phase_Name(p));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

core::LiteralMap Outputs(DynamicServer& s, const core::WorkflowExecutionIdentifier& id) {
  admin::WorkflowExecutionGetDataRequest req;
  *req.mutable_id() = id;
  admin::WorkflowExecutionGetDataResponse data;
  grpc::ClientContext ctx;
  auto st = s.stub->GetExecutionData(&ctx, req, &data);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return data.full_outputs();
}

std::vector<int64_t> Ints(const core::Literal& l) {
  std::vector<int64_t> out;
  for (const auto& e : l.collection().literals()) out.push_back(e.scalar().primitive().integer());
  return out;
}

std::map<std::string, admin::NodeExecution> Nodes(DynamicServer& s,
                                                  const core::WorkflowExecutionIdentifier& id,
                                                  const std::string& parent = "") {
  admin::NodeExecutionListRequest req;
  *req.mutable_workflow_execution_id() = id;
  req.set_limit(100);
  req.set_unique_parent_id(parent);
  grpc::ClientContext ctx;
  admin::NodeExecutionList list;
  auto st = s.stub->ListNodeExecutions(&ctx, req, &list);
  INFO(st.error_message());
  REQUIRE(st.ok());
  std::map<std::string, admin::NodeExecution> out;
  for (const auto& n : list.node_executions()) out[n.id().node_id()] = n;
  return out;
}

std::vector<std::string> Keys(const std::map<std::string, admin::NodeExecution>& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(k);
  return out;
}

}  // namespace

TEST_CASE("A dynamic task runs the workflow its futures.pb describes as the node's children",
          "[e2e]") {
  DynamicServer s;
  const auto add = AddTask();
  RegisterTask(s, add);
  const auto dyn = ProgramTask(
      "dyn", {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(add), "3"}, true);
  RegisterTask(s, dyn);
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
    admin::TaskExecutionListRequest treq;
    *treq.mutable_node_execution_id()->mutable_execution_id() = id;
    treq.mutable_node_execution_id()->set_node_id(node);
    treq.set_limit(10);
    grpc::ClientContext tctx;
    admin::TaskExecutionList tasks;
    REQUIRE(s.stub->ListTaskExecutions(&tctx, treq, &tasks).ok());
    INFO(node);
    REQUIRE(tasks.task_executions_size() == 1);
    CHECK(tasks.task_executions(0).closure().phase() == core::TaskExecution::SUCCEEDED);
    CHECK(tasks.task_executions(0).closure().metadata().instance_class() ==
          flyteidl::event::TaskExecutionMetadata::DEFAULT);
    // The dynamic task's attempt reports no outputs of its own.
    CHECK(tasks.task_executions(0).closure().output_uri().empty() == (std::string(node) == "d"));
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
  DynamicServer s;
  const auto add = AddTask();
  RegisterTask(s, add);
  const auto dyn = ProgramTask(
      "dyn", {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(add), "2"}, true);
  RegisterTask(s, dyn);
  const auto outer = ProgramTask(
      "outer", {"dynamic-nested", "{{.input}}", "{{.outputPrefix}}", TemplateFile(dyn)}, true);
  RegisterTask(s, outer);
  auto lp = RegisterWorkflow(s, "nested-wf", outer.id());
  auto id = Launch(s, lp, "nested-run", 10, 1, false, 1);
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
  DynamicServer s;
  const auto add = AddTask();
  RegisterTask(s, add);
  const auto dyn = ProgramTask(
      "dyn-sub", {"dynamic-sub", "{{.input}}", "{{.outputPrefix}}", TemplateFile(add)}, true);
  RegisterTask(s, dyn);
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
  DynamicServer s;
  const auto fragile = ProgramTask(
      "fragile", {"fail-if-a", "{{.input}}", "{{.outputPrefix}}", "3", "Boom", "a was 3"}, false);
  RegisterTask(s, fragile);
  const auto dyn =
      ProgramTask("dyn-fragile",
                  {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(fragile), "3"}, true);
  RegisterTask(s, dyn);
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
  DynamicServer s;
  const auto add = AddTask();
  RegisterTask(s, add);
  const auto garbage =
      ProgramTask("garbled", {"bad-futures", "{{.input}}", "{{.outputPrefix}}"}, true);
  RegisterTask(s, garbage);
  const auto broken = ProgramTask(
      "broken", {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(add), "2", "broken"},
      true);
  RegisterTask(s, broken);
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
  DynamicServer s;
  const std::string pid_file =
      test::WriteTempFile("dynamic-" + std::to_string(getpid()) + "-sleeper.pid", "");
  const auto sleeper =
      ProgramTask("sleeper", {"sleep", "{{.input}}", "{{.outputPrefix}}", "60", pid_file}, false);
  RegisterTask(s, sleeper);
  const auto dyn =
      ProgramTask("dyn-sleepy",
                  {"dynamic", "{{.input}}", "{{.outputPrefix}}", TemplateFile(sleeper), "1"}, true);
  RegisterTask(s, dyn);
  auto lp = RegisterWorkflow(s, "sleepy-wf", dyn.id());
  auto id = Launch(s, lp, "sleepy-run", 1, 1, /*interruptible=*/true);

  // Wait for the child's process.
  pid_t pid = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (pid == 0) {
    std::ifstream in(pid_file);
    in >> pid;
    if (pid == 0) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  {
    admin::ExecutionTerminateRequest req;
    *req.mutable_id() = id;
    req.set_cause("enough");
    grpc::ClientContext ctx;
    admin::ExecutionTerminateResponse resp;
    auto st = s.stub->TerminateExecution(&ctx, req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }
  auto done = WaitTerminal(s, id);
  CHECK(done.closure().phase() == core::WorkflowExecution::ABORTED);
  CHECK(kill(pid, 0) != 0);
  CHECK(Nodes(s, id)["d"].closure().phase() == core::NodeExecution::ABORTED);
  auto child = Nodes(s, id, "d")["d-0-dn0"];
  CHECK(child.closure().phase() == core::NodeExecution::ABORTED);

  // The execution asked for interruptible tasks: the task events say so.
  admin::TaskExecutionListRequest treq;
  *treq.mutable_node_execution_id() = child.id();
  treq.set_limit(10);
  grpc::ClientContext tctx;
  admin::TaskExecutionList tasks;
  REQUIRE(s.stub->ListTaskExecutions(&tctx, treq, &tasks).ok());
  REQUIRE(tasks.task_executions_size() == 1);
  CHECK(tasks.task_executions(0).closure().phase() == core::TaskExecution::ABORTED);
  CHECK(tasks.task_executions(0).closure().metadata().instance_class() ==
        flyteidl::event::TaskExecutionMetadata::INTERRUPTIBLE);
}
