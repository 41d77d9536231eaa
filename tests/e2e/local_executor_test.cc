// Whole runs on this machine through flyte_executor_local: workflows registered
// here launch with CreateExecution, their container commands run a stand-in
// task program, and the admin's reads (executions, node and task executions,
// GetExecutionData) show what propeller's events would have recorded with a
// cluster.
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "flyteidl/service/admin.grpc.pb.h"

// The admin still fills the deprecated closure output_uri fields, which these
// checks read.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include "local_executor_support.h"
#include "test_support.h"

using namespace flyte;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

using namespace flyte::test::local;

struct NodeDef {
  std::string id, task;
  core::BindingData a, b;
  google::protobuf::Duration timeout;
};

// A workflow with inputs x, y over the given task nodes, its outputs bound as
// given, and its default launch plan; returns the launch plan id.
core::Identifier RegisterWorkflow(
    LocalServer& s, const std::string& name, const std::vector<NodeDef>& nodes,
    const std::vector<std::pair<std::string, core::BindingData>>& outputs,
    const std::map<std::string, core::LiteralType>& output_types,
    core::WorkflowMetadata::OnFailurePolicy on_failure = core::WorkflowMetadata::FAIL_IMMEDIATELY) {
  std::vector<core::Node> task_nodes;
  for (const auto& n : nodes) {
    task_nodes.push_back(TaskNode(n.id, n.task, n.a, n.b));
    if (n.timeout.seconds() > 0) {
      *task_nodes.back().mutable_metadata()->mutable_timeout() = n.timeout;
    }
  }
  auto wf = Template(name, task_nodes, outputs);
  wf.mutable_metadata()->set_on_failure(on_failure);
  auto* out = wf.mutable_interface()->mutable_outputs()->mutable_variables();
  out->clear();
  for (const auto& [k, t] : output_types) *(*out)[k].mutable_type() = t;
  return Register(s, wf);
}

// The servers here also serve the execution metrics.
ServerOptions Options() {
  ServerOptions options;
  options.metrics = true;
  return options;
}

// Every run here carries LOCAL_TEST_ENV, which the add task reports in its info output.
core::WorkflowExecutionIdentifier LaunchWithEnv(LocalServer& s, const core::Identifier& lp,
                                                const std::string& name, int64_t x, int64_t y,
                                                int max_parallelism = 0) {
  return Launch(s, lp, name, x, y, {max_parallelism, {{"LOCAL_TEST_ENV", "from-execution"}}});
}

std::vector<std::string> AddArgs() {
  return {"add",
          "{{.input}}",
          "{{.outputPrefix}}",
          "{{ .Inputs.a }}",
          "{{.rawOutputDataPrefix}}",
          "{{.checkpointOutputPrefix}}",
          "{{$prevCheckpointPrefix}}",
          "{{.TaskTemplatePath}}"};
}

}  // namespace

TEST_CASE(
    "A workflow runs locally: parallel nodes, promises, collections and "
    "the workflow outputs",
    "[e2e]") {
  LocalServer s(Options());
  RegisterTask(s, "add", AddArgs());
  core::BindingData parts;
  *parts.mutable_collection()->add_bindings() = Promise("n0", "c");
  *parts.mutable_collection()->add_bindings() = Promise("n1", "c");
  core::LiteralType int_list;
  *int_list.mutable_collection_type() = Simple(core::INTEGER);
  auto lp = RegisterWorkflow(
      s, "sum",
      {{"n0", "add", Promise("start-node", "x"), Promise("start-node", "y"), {}},
       {"n1", "add", Promise("start-node", "x"), Scalar(10), {}},
       {"n2", "add", Promise("n0", "c"), Promise("n1", "c"), {}}},
      {{"total", Promise("n2", "c")}, {"parts", parts}, {"info", Promise("n0", "info")}},
      {{"total", Simple(core::INTEGER)}, {"parts", int_list}, {"info", Simple(core::STRING)}});
  auto id = LaunchWithEnv(s, lp, "sum-run", 2, 3);
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(done.spec().metadata().system_metadata().execution_cluster() == "local");
  CHECK_THAT(done.closure().outputs().uri(),
             Catch::EndsWith("/metadata/propeller/flytesnacks-development-sum-run/"
                             "end-node/data/0/outputs.pb"));
  CHECK(done.closure().has_started_at());

  admin::WorkflowExecutionGetDataRequest data_req;
  *data_req.mutable_id() = id;
  admin::WorkflowExecutionGetDataResponse data;
  grpc::ClientContext ctx;
  REQUIRE(s.stub->GetExecutionData(&ctx, data_req, &data).ok());
  const auto& outs = data.full_outputs().literals();
  CHECK(outs.at("total").scalar().primitive().integer() == 17);
  REQUIRE(outs.at("parts").collection().literals_size() == 2);
  CHECK(outs.at("parts").collection().literals(0).scalar().primitive().integer() == 5);
  CHECK(outs.at("parts").collection().literals(1).scalar().primitive().integer() == 12);
  // What the task command saw: {{.Inputs.a}} rendered, file:// paths under the
  // store, no previous checkpoint on the first attempt, the execution's env.
  const std::string info = outs.at("info").scalar().primitive().string_value();
  CHECK_THAT(info, Catch::StartsWith("a=2;raw=file://"));
  CHECK_THAT(info, Catch::Contains("/bucket/data/"));
  CHECK_THAT(info, Catch::Contains("/sum-run-n0-0;ckpt=file://"));
  CHECK_THAT(info,
             Catch::Contains("/sum-run-n0-0/"
                             "_flytecheckpoints;prev=\"\";attempt=0;env=from-execution;task=add"));
  CHECK(data.full_inputs().literals().at("x").scalar().primitive().integer() == 2);

  auto nodes = Nodes(s, id);
  REQUIRE(nodes.count("n0") == 1);
  REQUIRE(nodes.count("n2") == 1);
  for (const char* n : {"start-node", "n0", "n1", "n2", "end-node"}) {
    INFO(n);
    REQUIRE(nodes.count(n) == 1);
    CHECK(nodes[n].closure().phase() == core::NodeExecution::SUCCEEDED);
  }
  CHECK_THAT(nodes["n2"].input_uri(),
             Catch::EndsWith("/metadata/propeller/flytesnacks-development-sum-run/n2/"
                             "data/inputs.pb"));
  CHECK_THAT(nodes["n2"].closure().output_uri(),
             Catch::EndsWith("/metadata/propeller/flytesnacks-development-sum-run/n2/"
                             "data/0/outputs.pb"));
  CHECK(nodes["n2"].metadata().spec_node_id() == "n2");
  CHECK(nodes["n2"].closure().has_started_at());

  admin::NodeExecutionGetDataRequest node_data_req;
  *node_data_req.mutable_id() = nodes["n2"].id();
  admin::NodeExecutionGetDataResponse node_data;
  grpc::ClientContext node_ctx;
  REQUIRE(s.stub->GetNodeExecutionData(&node_ctx, node_data_req, &node_data).ok());
  CHECK(node_data.full_inputs().literals().at("a").scalar().primitive().integer() == 5);
  CHECK(node_data.full_inputs().literals().at("b").scalar().primitive().integer() == 12);
  CHECK(node_data.full_outputs().literals().at("c").scalar().primitive().integer() == 17);

  // The console's timeline is built from the same events.
  admin::WorkflowExecutionGetMetricsRequest metrics_req;
  *metrics_req.mutable_id() = id;
  metrics_req.set_depth(10);
  admin::WorkflowExecutionGetMetricsResponse metrics;
  grpc::ClientContext metrics_ctx;
  auto metrics_status = s.stub->GetExecutionMetrics(&metrics_ctx, metrics_req, &metrics);
  INFO(metrics_status.error_message());
  REQUIRE(metrics_status.ok());
  CHECK(metrics.span().workflow_id().name() == "sum-run");
  CHECK(metrics.span().spans_size() >= 3);

  auto tasks = Tasks(s, id, "n2");
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].closure().phase() == core::TaskExecution::SUCCEEDED);
  CHECK(tasks[0].id().retry_attempt() == 0);
  CHECK(tasks[0].id().task_id().name() == "add");
  CHECK(tasks[0].closure().task_type() == "python-task");
  CHECK(tasks[0].closure().logs_size() == 0);
  CHECK(tasks[0].closure().output_uri() == nodes["n2"].closure().output_uri());
  CHECK(tasks[0].input_uri() == nodes["n2"].input_uri());
}

TEST_CASE("A recoverable task error is retried and a later attempt succeeds", "[e2e]") {
  LocalServer s(Options());
  RegisterTask(s, "flaky",
               {"fail-until", "{{.input}}", "{{.outputPrefix}}", "1", "Flaky", "not yet"}, 2);
  auto lp = RegisterWorkflow(
      s, "flaky", {{"n0", "flaky", Promise("start-node", "x"), Promise("start-node", "y"), {}}},
      {{"total", Promise("n0", "c")}}, {{"total", Simple(core::INTEGER)}});
  auto id = LaunchWithEnv(s, lp, "flaky-run", 1, 1);
  auto done = WaitTerminal(s, id);
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto tasks = Tasks(s, id, "n0");
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0].closure().phase() == core::TaskExecution::FAILED);
  CHECK(tasks[0].closure().error().code() == "Flaky");
  CHECK(tasks[0].closure().error().message() == "not yet");
  CHECK(tasks[1].closure().phase() == core::TaskExecution::SUCCEEDED);
  CHECK(tasks[1].id().retry_attempt() == 1);
  CHECK_THAT(tasks[1].closure().output_uri(), Catch::EndsWith("/n0/data/1/outputs.pb"));
  auto nodes = Nodes(s, id);
  CHECK(nodes["n0"].closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK_THAT(nodes["n0"].closure().output_uri(), Catch::EndsWith("/n0/data/1/outputs.pb"));
}

TEST_CASE(
    "A task that keeps failing exhausts its retries and fails the "
    "workflow with its error",
    "[e2e]") {
  LocalServer s(Options());
  RegisterTask(s, "boom",
               {"fail", "{{.input}}", "{{.outputPrefix}}", "recoverable", "Boom", "it broke"}, 1);
  RegisterTask(s, "fatal",
               {"fail", "{{.input}}", "{{.outputPrefix}}", "nonrecoverable", "Fatal", "no way"}, 3);
  RegisterTask(s, "add", AddArgs());
  auto lp =
      RegisterWorkflow(s, "boom",
                       {{"n0", "boom", Promise("start-node", "x"), Promise("start-node", "y"), {}},
                        {"n1", "add", Promise("n0", "c"), Scalar(1), {}}},
                       {{"total", Promise("n1", "c")}}, {{"total", Simple(core::INTEGER)}});
  auto id = LaunchWithEnv(s, lp, "boom-run", 1, 1);
  auto done = WaitTerminal(s, id);
  REQUIRE(done.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(done.closure().error().code() == "RetriesExhausted|Boom");
  CHECK(done.closure().error().message() ==
        "[2/2] currentAttempt done. Last Error: USER::it broke");
  CHECK(done.closure().error().kind() == core::ExecutionError::USER);
  auto tasks = Tasks(s, id, "n0");
  REQUIRE(tasks.size() == 2);
  CHECK(tasks[0].closure().phase() == core::TaskExecution::FAILED);
  CHECK(tasks[1].closure().phase() == core::TaskExecution::FAILED);
  auto nodes = Nodes(s, id);
  CHECK(nodes["n0"].closure().phase() == core::NodeExecution::FAILED);
  CHECK(nodes["n0"].closure().error().code() == "RetriesExhausted|Boom");
  CHECK(nodes.count("n1") == 0);  // never started downstream of the failure

  // A non-recoverable error is not retried, whatever the retries.
  auto fatal_lp = RegisterWorkflow(
      s, "fatal", {{"n0", "fatal", Promise("start-node", "x"), Promise("start-node", "y"), {}}},
      {{"total", Promise("n0", "c")}}, {{"total", Simple(core::INTEGER)}});
  auto fatal = WaitTerminal(s, LaunchWithEnv(s, fatal_lp, "fatal-run", 1, 1));
  REQUIRE(fatal.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(fatal.closure().error().code() == "Fatal");
  CHECK(fatal.closure().error().message() == "no way");
  CHECK(Tasks(s, fatal.id(), "n0").size() == 1);
}

TEST_CASE("TerminateExecution stops the running process and the run reports ABORTED", "[e2e]") {
  LocalServer s(Options());
  const std::string pid_file =
      test::WriteTempFile("local-abort-" + std::to_string(test::FreePort()) + ".pid", "");
  RegisterTask(s, "sleepy", {"sleep", "{{.input}}", "{{.outputPrefix}}", "120", pid_file});
  auto lp = RegisterWorkflow(
      s, "sleepy", {{"n0", "sleepy", Promise("start-node", "x"), Promise("start-node", "y"), {}}},
      {{"total", Promise("n0", "c")}}, {{"total", Simple(core::INTEGER)}});
  auto id = LaunchWithEnv(s, lp, "sleepy-run", 1, 1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const pid_t pid = WaitForPid(pid_file);
  REQUIRE(pid > 0);
  // The task is reported running before the admin is asked to stop it.
  while (Tasks(s, id, "n0").empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(Get(s, id).closure().phase() == core::WorkflowExecution::RUNNING);

  admin::ExecutionTerminateRequest term;
  *term.mutable_id() = id;
  term.set_cause("enough");
  grpc::ClientContext ctx;
  admin::ExecutionTerminateResponse resp;
  REQUIRE(s.stub->TerminateExecution(&ctx, term, &resp).ok());
  auto done = WaitTerminal(s, id, std::chrono::seconds(20));
  CHECK(done.closure().phase() == core::WorkflowExecution::ABORTED);
  CHECK(done.closure().abort_metadata().cause() == "enough");
  CHECK(kill(pid, 0) == -1);  // terminated and reaped
  auto tasks = Tasks(s, id, "n0");
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].closure().phase() == core::TaskExecution::ABORTED);
  auto nodes = Nodes(s, id);
  CHECK(nodes["n0"].closure().phase() == core::NodeExecution::ABORTED);
  CHECK(nodes["n0"].closure().error().code() == "NodeAborted");
}

TEST_CASE("A command that does not exist fails the task without retries", "[e2e]") {
  LocalServer s(Options());
  admin::TaskCreateRequest req;
  RegisterTask(s, "add", AddArgs());
  // Same interface, another program.
  {
    admin::ObjectGetRequest get;
    *get.mutable_id() = Id(core::TASK, "add");
    grpc::ClientContext ctx;
    admin::Task task;
    REQUIRE(s.stub->GetTask(&ctx, get, &task).ok());
    *req.mutable_id() = Id(core::TASK, "missing");
    auto* t = req.mutable_spec()->mutable_template_();
    *t = task.closure().compiled_task().template_();
    *t->mutable_id() = req.id();
    t->mutable_container()->set_command(0, "/nonexistent/flyte-local-program");
    t->mutable_metadata()->mutable_retries()->set_retries(2);
    grpc::ClientContext create_ctx;
    admin::TaskCreateResponse created;
    REQUIRE(s.stub->CreateTask(&create_ctx, req, &created).ok());
  }
  auto lp = RegisterWorkflow(
      s, "missing", {{"n0", "missing", Promise("start-node", "x"), Promise("start-node", "y"), {}}},
      {{"total", Promise("n0", "c")}}, {{"total", Simple(core::INTEGER)}});
  auto done = WaitTerminal(s, LaunchWithEnv(s, lp, "missing-run", 1, 1));
  REQUIRE(done.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(done.closure().error().code() == "ProcessStartFailure");
  CHECK_THAT(
      done.closure().error().message(),
      Catch::Contains("/nonexistent/flyte-local-program") && Catch::Contains("No such file"));
  auto tasks = Tasks(s, done.id(), "n0");
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].closure().phase() == core::TaskExecution::FAILED);
}

TEST_CASE(
    "Malformed outputs, a non-zero exit and a timeout fail their task",
    "[e2e]") {
  LocalServer s(Options());
  RegisterTask(s, "garbage", {"garbage", "{{.input}}", "{{.outputPrefix}}"});
  RegisterTask(s, "crash", {"exit", "{{.input}}", "{{.outputPrefix}}", "7"});
  RegisterTask(
      s, "slow",
      {"sleep", "{{.input}}", "{{.outputPrefix}}", "60",
       test::WriteTempFile("local-slow-" + std::to_string(test::FreePort()) + ".pid", "")});
  auto garbage_lp = RegisterWorkflow(
      s, "garbage", {{"n0", "garbage", Promise("start-node", "x"), Promise("start-node", "y"), {}}},
      {{"total", Promise("n0", "c")}}, {{"total", Simple(core::INTEGER)}});
  google::protobuf::Duration one_second;
  one_second.set_seconds(1);
  auto crash_lp = RegisterWorkflow(
      s, "crash", {{"n0", "crash", Promise("start-node", "x"), Promise("start-node", "y"), {}}},
      {{"total", Promise("n0", "c")}}, {{"total", Simple(core::INTEGER)}});
  auto slow_lp = RegisterWorkflow(
      s, "slow",
      {{"n0", "slow", Promise("start-node", "x"), Promise("start-node", "y"), one_second}},
      {{"total", Promise("n0", "c")}}, {{"total", Simple(core::INTEGER)}});
  auto garbage = LaunchWithEnv(s, garbage_lp, "garbage-run", 1, 1);
  auto crash = LaunchWithEnv(s, crash_lp, "crash-run", 1, 1);
  auto slow = LaunchWithEnv(s, slow_lp, "slow-run", 1, 1);

  // Unlike propeller, the outputs are read when the task ends, so the task that wrote them fails.
  auto g = WaitTerminal(s, garbage);
  REQUIRE(g.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(g.closure().error().code() == "RetriesExhausted|OutputsBadFormat");
  CHECK(g.closure().error().kind() == core::ExecutionError::USER);
  CHECK_THAT(g.closure().error().message(),
             Catch::StartsWith("[1/1] currentAttempt done. Last Error: USER::failed to read "
                               "outputs @[file://") &&
                 Catch::EndsWith("/n0/data/0/outputs.pb]: the file is not a "
                                 "flyteidl.core.LiteralMap"));
  auto g_nodes = Nodes(s, garbage);
  CHECK(g_nodes["n0"].closure().phase() == core::NodeExecution::FAILED);
  CHECK(g_nodes.count("end-node") == 0);

  auto c = WaitTerminal(s, crash);
  REQUIRE(c.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(c.closure().error().code() == "RetriesExhausted|ProcessFailed");
  CHECK_THAT(c.closure().error().message(),
             Catch::StartsWith("[1/1] currentAttempt done. Last Error: "
                               "USER::[n0] terminated with exit code (7).") &&
                 Catch::Contains("exiting with 7"));

  auto t = WaitTerminal(s, slow);
  REQUIRE(t.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(t.closure().error().code() == "RetriesExhausted|TimeoutExpired");
  CHECK(t.closure().error().message() ==
        "[1/1] currentAttempt done. Last Error: USER::task execution timeout "
        "[1s] expired");
  auto t_tasks = Tasks(s, slow, "n0");
  REQUIRE(t_tasks.size() == 1);
  CHECK(t_tasks[0].closure().phase() == core::TaskExecution::ABORTED);
}

TEST_CASE("Max parallelism bounds how many task nodes run at once", "[e2e]") {
  LocalServer s(Options());
  RegisterTask(s, "nap",
               {"sleep", "{{.input}}", "{{.outputPrefix}}", "1",
                test::WriteTempFile("local-nap-" + std::to_string(test::FreePort()) + ".pid", "")});
  auto lp =
      RegisterWorkflow(s, "naps",
                       {{"n0", "nap", Promise("start-node", "x"), Promise("start-node", "y"), {}},
                        {"n1", "nap", Promise("start-node", "x"), Promise("start-node", "y"), {}}},
                       {{"a", Promise("n0", "c")}, {"b", Promise("n1", "c")}},
                       {{"a", Simple(core::INTEGER)}, {"b", Simple(core::INTEGER)}});
  auto serial = WaitTerminal(s, LaunchWithEnv(s, lp, "serial-run", 1, 1, 1));
  REQUIRE(serial.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto nodes = Nodes(s, serial.id());
  const auto& n0 = nodes["n0"].closure();
  const auto& n1 = nodes["n1"].closure();
  auto ms = [](const google::protobuf::Timestamp& t) {
    return t.seconds() * 1000 + t.nanos() / 1000000;
  };
  // One ran after the other: the later one started after the earlier one's end.
  const bool n0_first = ms(n0.started_at()) <= ms(n1.started_at());
  const auto& first = n0_first ? n0 : n1;
  const auto& second = n0_first ? n1 : n0;
  auto end = [&](const admin::NodeExecutionClosure& c) {
    return ms(c.started_at()) + c.duration().seconds() * 1000 + c.duration().nanos() / 1000000;
  };
  CHECK(ms(second.started_at()) >= end(first) - 50);

  // Without the bound both run at once.
  auto parallel = WaitTerminal(s, LaunchWithEnv(s, lp, "parallel-run", 1, 1));
  REQUIRE(parallel.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  auto both = Nodes(s, parallel.id());
  const auto& p0 = both["n0"].closure();
  const auto& p1 = both["n1"].closure();
  CHECK(ms(p0.started_at()) < end(p1));
  CHECK(ms(p1.started_at()) < end(p0));
}

TEST_CASE("A single task launched as its own execution runs locally", "[e2e]") {
  LocalServer s(Options());
  RegisterTask(s, "add", AddArgs());
  admin::ExecutionCreateRequest req;
  req.set_project(kProject);
  req.set_domain(kDomain);
  req.set_name("single-run");
  *req.mutable_spec()->mutable_launch_plan() = Id(core::TASK, "add");
  (*req.mutable_inputs()->mutable_literals())["a"] = Int(20);
  (*req.mutable_inputs()->mutable_literals())["b"] = Int(22);
  grpc::ClientContext ctx;
  admin::ExecutionCreateResponse resp;
  auto st = s.stub->CreateExecution(&ctx, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto done = WaitTerminal(s, resp.id());
  INFO(done.closure().error().message());
  REQUIRE(done.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  admin::WorkflowExecutionGetDataRequest data_req;
  *data_req.mutable_id() = resp.id();
  admin::WorkflowExecutionGetDataResponse data;
  grpc::ClientContext data_ctx;
  REQUIRE(s.stub->GetExecutionData(&data_ctx, data_req, &data).ok());
  CHECK(data.full_outputs().literals().at("c").scalar().primitive().integer() == 42);
  CHECK_THAT(data.full_outputs().literals().at("info").scalar().primitive().string_value(),
             Catch::StartsWith("a=20;"));
}

TEST_CASE("A workflow with a node kind not run locally yet is stored FAILED with the reason",
          "[e2e]") {
  LocalServer s(Options());
  RegisterTask(s, "add", AddArgs());
  admin::WorkflowCreateRequest req;
  *req.mutable_id() = Id(core::WORKFLOW, "gated");
  auto* wf = req.mutable_spec()->mutable_template_();
  *wf->mutable_id() = req.id();
  auto* in = wf->mutable_interface()->mutable_inputs()->mutable_variables();
  *(*in)["x"].mutable_type() = Simple(core::INTEGER);
  *(*in)["y"].mutable_type() = Simple(core::INTEGER);
  wf->mutable_interface()->mutable_outputs();
  auto add_node = [&](core::Node* node, const std::string& id) {
    node->set_id(id);
    node->mutable_metadata()->set_name(id);
    *node->mutable_task_node()->mutable_reference_id() = Id(core::TASK, "add");
    auto* a = node->add_inputs();
    a->set_var("a");
    *a->mutable_binding() = Promise("start-node", "x");
    auto* b = node->add_inputs();
    b->set_var("b");
    *b->mutable_binding() = Promise("start-node", "y");
  };
  add_node(wf->add_nodes(), "n0");
  // An array node over a sleep gate.
  auto* array = wf->add_nodes();
  array->set_id("m0");
  array->mutable_metadata()->set_name("m0");
  auto* inner = array->mutable_array_node()->mutable_node();
  inner->set_id("m0-sub");
  inner->mutable_gate_node()->mutable_sleep()->mutable_duration()->set_seconds(1);
  {
    grpc::ClientContext ctx;
    admin::WorkflowCreateResponse resp;
    auto st = s.stub->CreateWorkflow(&ctx, req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }
  admin::LaunchPlanCreateRequest lp;
  *lp.mutable_id() = Id(core::LAUNCH_PLAN, "gated");
  *lp.mutable_spec()->mutable_workflow_id() = req.id();
  auto* params = lp.mutable_spec()->mutable_default_inputs()->mutable_parameters();
  for (const char* v : {"x", "y"}) {
    *(*params)[v].mutable_var()->mutable_type() = Simple(core::INTEGER);
    *(*params)[v].mutable_default_() = Int(1);
  }
  {
    grpc::ClientContext ctx;
    admin::LaunchPlanCreateResponse resp;
    REQUIRE(s.stub->CreateLaunchPlan(&ctx, lp, &resp).ok());
  }
  admin::ExecutionCreateRequest create;
  create.set_project(kProject);
  create.set_domain(kDomain);
  create.set_name("gated-run");
  *create.mutable_spec()->mutable_launch_plan() = lp.id();
  grpc::ClientContext ctx;
  admin::ExecutionCreateResponse resp;
  auto st = s.stub->CreateExecution(&ctx, create, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto e = Get(s, resp.id());
  CHECK(e.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(e.closure().error().code() == "Unimplemented");
  CHECK(e.closure().error().message() ==
        "the local executor runs array nodes over container tasks only (node m0)");
  CHECK(Nodes(s, resp.id()).empty());
}

TEST_CASE("A failed node aborts the running ones, unless the workflow lets them complete",
          "[e2e]") {
  LocalServer s(Options());
  RegisterTask(s, "fatal",
               {"fail", "{{.input}}", "{{.outputPrefix}}", "nonrecoverable", "Fatal", "no way"});
  RegisterTask(
      s, "nap",
      {"sleep", "{{.input}}", "{{.outputPrefix}}", "2",
       test::WriteTempFile("local-policy-" + std::to_string(test::FreePort()) + ".pid", "")});
  const std::vector<NodeDef> nodes{
      {"n0", "fatal", Promise("start-node", "x"), Promise("start-node", "y"), {}},
      {"n1", "nap", Promise("start-node", "x"), Promise("start-node", "y"), {}}};
  const std::vector<std::pair<std::string, core::BindingData>> outputs{{"a", Promise("n0", "c")},
                                                                       {"b", Promise("n1", "c")}};
  const std::map<std::string, core::LiteralType> types{{"a", Simple(core::INTEGER)},
                                                       {"b", Simple(core::INTEGER)}};
  auto fast = RegisterWorkflow(s, "fast", nodes, outputs, types);
  auto patient = RegisterWorkflow(s, "patient", nodes, outputs, types,
                                  core::WorkflowMetadata::FAIL_AFTER_EXECUTABLE_NODES_COMPLETE);

  auto f = WaitTerminal(s, LaunchWithEnv(s, fast, "fast-run", 1, 1));
  REQUIRE(f.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(f.closure().error().code() == "Fatal");
  auto f_nodes = Nodes(s, f.id());
  CHECK(f_nodes["n1"].closure().phase() == core::NodeExecution::ABORTED);
  CHECK(f_nodes["n1"].closure().error().message() == "Some node execution failed, auto-abort.");
  auto f_tasks = Tasks(s, f.id(), "n1");
  REQUIRE(f_tasks.size() == 1);
  CHECK(f_tasks[0].closure().phase() == core::TaskExecution::ABORTED);

  auto p = WaitTerminal(s, LaunchWithEnv(s, patient, "patient-run", 1, 1));
  REQUIRE(p.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(p.closure().error().code() == "Fatal");
  CHECK(Nodes(s, p.id())["n1"].closure().phase() == core::NodeExecution::SUCCEEDED);
}

TEST_CASE("Stopping flyteadmin terminates the processes of the runs in progress", "[e2e]") {
  const std::string pid_file =
      test::WriteTempFile("local-shutdown-" + std::to_string(test::FreePort()) + ".pid", "");
  pid_t pid = 0;
  {
    LocalServer s(Options());
    RegisterTask(s, "sleepy", {"sleep", "{{.input}}", "{{.outputPrefix}}", "120", pid_file});
    auto lp = RegisterWorkflow(
        s, "sleepy", {{"n0", "sleepy", Promise("start-node", "x"), Promise("start-node", "y"), {}}},
        {{"total", Promise("n0", "c")}}, {{"total", Simple(core::INTEGER)}});
    LaunchWithEnv(s, lp, "shutdown-run", 1, 1);
    pid = WaitForPid(pid_file);
    REQUIRE(pid > 0);
    CHECK(kill(pid, 0) == 0);
  }                           // the server exits cleanly (checked by ServedServer) ...
  CHECK(kill(pid, 0) == -1);  // ... and its task process is gone
}
