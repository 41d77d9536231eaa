// The whole life of an execution on the built server, as Flyte's tools drive it: flytectl
// registers flytesnacks-core, a client launches a launch plan with inputs, the executor plugin is
// handed the run, propeller's event sequence for basic_workflow.my_wf is played (workflow, node
// and task events), and the console's reads (Get/List/GetData over gRPC, the REST JSON, flyte://
// data) show what upstream would show. On SQLite and PostgreSQL.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include <google/protobuf/util/time_util.h>

#include "flyteidl/admin/event.pb.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "flyteidl/service/dataproxy.grpc.pb.h"
#include "google/rpc/status.pb.h"
#include "registration_client.h"
#include "served_server.h"
#include "test_support.h"

using namespace flyte;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
using google::protobuf::util::TimeUtil;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";
constexpr const char* kCluster = "flow-cluster";

std::string RecordFile() {
  return test::WriteTempFile("flow-" + std::to_string(test::FreePort()) + "/executor.jsonl", "");
}

struct FlowServer {
  FlowServer(const std::string& record, const std::string& layer)
      : served("    - name: flyte_manager_project\n"
               "    - name: flyte_manager_task\n"
               "    - name: flyte_manager_workflow\n"
               "    - name: flyte_manager_launch_plan\n"
               "    - name: flyte_manager_named_entity\n"
               "    - name: flyte_manager_execution\n"
               "    - name: flyte_manager_node_execution\n"
               "    - name: flyte_manager_task_execution\n"
               "    - name: flyte_dataproxy_local\n"
               "    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_recording_executor.so\n"
               "      config:\n"
               "        record: " + record + "\n"
               "        cluster: " + kCluster + "\n",
               layer.empty() ? std::vector<std::string>{} : std::vector<std::string>{layer}),
        stub(flyteidl::service::AdminService::NewStub(served.channel())),
        data(flyteidl::service::DataProxyService::NewStub(served.channel())) {}
  test::ServedServer served;
  std::unique_ptr<flyteidl::service::AdminService::Stub> stub;
  std::unique_ptr<flyteidl::service::DataProxyService::Stub> data;
};

core::Literal Int(int64_t v) {
  core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_integer(v);
  return l;
}

core::Literal Str(const std::string& v) {
  core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_string_value(v);
  return l;
}

core::WorkflowExecutionIdentifier ExecId(const std::string& name) {
  core::WorkflowExecutionIdentifier id;
  id.set_project(kProject);
  id.set_domain(kDomain);
  id.set_name(name);
  return id;
}

core::NodeExecutionIdentifier NodeId(const std::string& exec, const std::string& node) {
  core::NodeExecutionIdentifier id;
  *id.mutable_execution_id() = ExecId(exec);
  id.set_node_id(node);
  return id;
}

// Each event one second after the previous one, as propeller reports a run.
struct EventClock {
  int64_t seconds = TimeUtil::GetCurrentTime().seconds();
  google::protobuf::Timestamp Next() { return TimeUtil::SecondsToTimestamp(++seconds); }
};

grpc::Status SendWorkflowEvent(FlowServer& s, const std::string& exec, core::WorkflowExecution::Phase phase,
                               EventClock& clock, const core::LiteralMap* outputs = nullptr) {
  admin::WorkflowExecutionEventRequest req;
  req.set_request_id("wf-" + std::to_string(phase));
  auto* e = req.mutable_event();
  *e->mutable_execution_id() = ExecId(exec);
  e->set_producer_id(kCluster);
  e->set_phase(phase);
  *e->mutable_occurred_at() = clock.Next();
  if (outputs) *e->mutable_output_data() = *outputs;
  grpc::ClientContext ctx;
  admin::WorkflowExecutionEventResponse resp;
  return s.stub->CreateWorkflowEvent(&ctx, req, &resp);
}

grpc::Status SendNodeEvent(FlowServer& s, const std::string& exec, const std::string& node,
                           core::NodeExecution::Phase phase, EventClock& clock, const core::LiteralMap* inputs,
                           const core::LiteralMap* outputs) {
  admin::NodeExecutionEventRequest req;
  req.set_request_id(node + "-" + std::to_string(phase));
  auto* e = req.mutable_event();
  *e->mutable_id() = NodeId(exec, node);
  e->set_producer_id(kCluster);
  e->set_phase(phase);
  *e->mutable_occurred_at() = clock.Next();
  e->set_spec_node_id(node);
  e->set_node_name(node);
  e->set_event_version(2);
  if (inputs) *e->mutable_input_data() = *inputs;
  if (outputs) *e->mutable_output_data() = *outputs;
  grpc::ClientContext ctx;
  admin::NodeExecutionEventResponse resp;
  return s.stub->CreateNodeEvent(&ctx, req, &resp);
}

grpc::Status SendTaskEvent(FlowServer& s, const std::string& exec, const std::string& node, const std::string& task,
                           core::TaskExecution::Phase phase, EventClock& clock, const core::LiteralMap* inputs,
                           const core::LiteralMap* outputs) {
  admin::TaskExecutionEventRequest req;
  req.set_request_id(node + "-task-" + std::to_string(phase));
  auto* e = req.mutable_event();
  auto* id = e->mutable_task_id();
  id->set_resource_type(core::TASK);
  id->set_project(kProject);
  id->set_domain(kDomain);
  id->set_name(task);
  id->set_version("v1");
  *e->mutable_parent_node_execution_id() = NodeId(exec, node);
  e->set_retry_attempt(0);
  e->set_phase(phase);
  e->set_producer_id(kCluster);
  *e->mutable_occurred_at() = clock.Next();
  e->set_task_type("python-task");
  auto* log = e->add_logs();
  log->set_name("Kubernetes Logs (User)");
  log->set_uri("http://logs.example.com/" + exec + "/" + node);
  if (inputs) *e->mutable_input_data() = *inputs;
  if (outputs) *e->mutable_output_data() = *outputs;
  grpc::ClientContext ctx;
  admin::TaskExecutionEventResponse resp;
  return s.stub->CreateTaskEvent(&ctx, req, &resp);
}

// flytectl register files ... --version v1 (the package registers one SQLite task twice,
// identically).
void RegisterCore(flyteidl::service::AdminService::Stub& stub) {
  test::Target target{kProject, kDomain, "v1"};
  for (auto& entry : test::ReadPackage(test::FlytesnacksCoreDir())) {
    test::Hydrate(entry, target);
    auto r = test::Register(stub, entry, target);
    INFO(r.file << ": " << r.message);
    REQUIRE((r.code == grpc::StatusCode::OK || r.code == grpc::StatusCode::ALREADY_EXISTS));
  }
}

// CreateExecution of version v1 of `launch_plan`, named `name` (empty: generated).
admin::ExecutionCreateRequest LaunchPlanExecution(const std::string& name, const std::string& launch_plan) {
  admin::ExecutionCreateRequest create;
  create.set_project(kProject);
  create.set_domain(kDomain);
  create.set_name(name);
  auto* lp = create.mutable_spec()->mutable_launch_plan();
  lp->set_resource_type(core::LAUNCH_PLAN);
  lp->set_project(kProject);
  lp->set_domain(kDomain);
  lp->set_name(launch_plan);
  lp->set_version("v1");
  return create;
}

std::vector<nlohmann::json> ReadRecord(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

}  // namespace

TEST_CASE("A launched workflow runs through propeller's events and reads back as the console sees it", "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  auto record = RecordFile();
  FlowServer s(record, backend == "postgres" ? test::PostgresLayer("e2e_flow_" + std::to_string(test::FreePort())) : "");

  RegisterCore(*s.stub);

  // pyflyte run --remote / flytectl create execution: my_wf(a=3, b="hello").
  auto create = LaunchPlanExecution("", "core.flyte_basics.basic_workflow.my_wf");
  create.mutable_spec()->mutable_metadata()->set_mode(admin::ExecutionMetadata::MANUAL);
  (*create.mutable_inputs()->mutable_literals())["a"] = Int(3);
  (*create.mutable_inputs()->mutable_literals())["b"] = Str("hello");
  admin::ExecutionCreateResponse created;
  {
    grpc::ClientContext ctx;
    auto st = s.stub->CreateExecution(&ctx, create, &created);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }
  const std::string name = created.id().name();
  REQUIRE(name.size() == 20);
  CHECK(name[0] == 'a');

  // The executor was handed the compiled workflow, its namespace and the inputs.
  auto calls = ReadRecord(record);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["call"] == "execute");
  CHECK(calls[0]["namespace"] == "flytesnacks-development");
  CHECK(calls[0]["execution_id"]["name"] == name);
  CHECK(calls[0]["workflow_closure"]["primary"]["template"]["id"]["name"] == "core.flyte_basics.basic_workflow.my_wf");
  CHECK(calls[0]["inputs"]["literals"]["a"]["scalar"]["primitive"]["integer"] == "3");
  std::string inputs_uri = calls[0]["offloaded_inputs_reference"];
  CHECK(inputs_uri.rfind("file://", 0) == 0);

  // Propeller's run: workflow RUNNING, n0 (t1) and n1 (t2) each RUNNING -> task RUNNING ->
  // task SUCCEEDED -> SUCCEEDED, then the workflow SUCCEEDED with its outputs.
  EventClock clock;
  REQUIRE(SendWorkflowEvent(s, name, core::WorkflowExecution::RUNNING, clock).ok());
  core::LiteralMap n0_in, n0_out, n1_in, n1_out, wf_out;
  (*n0_in.mutable_literals())["a"] = Int(3);
  (*n0_out.mutable_literals())["t1_int_output"] = Int(5);
  (*n0_out.mutable_literals())["c"] = Str("hello world");
  (*n1_in.mutable_literals())["a"] = Str("hello");
  (*n1_in.mutable_literals())["b"] = Str("hello world");
  (*n1_out.mutable_literals())["o0"] = Str("hello hello world");
  (*wf_out.mutable_literals())["o0"] = Int(5);
  (*wf_out.mutable_literals())["o1"] = Str("hello hello world");
  struct Step {
    const char* node;
    const char* task;
    const core::LiteralMap* in;
    const core::LiteralMap* out;
  };
  for (const Step& step : {Step{"n0", "core.flyte_basics.basic_workflow.t1", &n0_in, &n0_out},
                           Step{"n1", "core.flyte_basics.basic_workflow.t2", &n1_in, &n1_out}}) {
    INFO("node " << step.node);
    auto st = SendNodeEvent(s, name, step.node, core::NodeExecution::RUNNING, clock, step.in, nullptr);
    INFO(st.error_message());
    REQUIRE(st.ok());
    st = SendTaskEvent(s, name, step.node, step.task, core::TaskExecution::RUNNING, clock, step.in, nullptr);
    INFO(st.error_message());
    REQUIRE(st.ok());
    st = SendTaskEvent(s, name, step.node, step.task, core::TaskExecution::SUCCEEDED, clock, nullptr, step.out);
    INFO(st.error_message());
    REQUIRE(st.ok());
    st = SendNodeEvent(s, name, step.node, core::NodeExecution::SUCCEEDED, clock, nullptr, step.out);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }
  {
    auto st = SendWorkflowEvent(s, name, core::WorkflowExecution::SUCCEEDED, clock, &wf_out);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }

  // At-least-once delivery: a repeated event is ALREADY_EXISTS; anything after the terminal
  // phase is FAILED_PRECONDITION with the reason propeller reads.
  CHECK(SendWorkflowEvent(s, name, core::WorkflowExecution::SUCCEEDED, clock, &wf_out).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  CHECK(SendNodeEvent(s, name, "n0", core::NodeExecution::SUCCEEDED, clock, nullptr, &n0_out).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  {
    auto late = SendWorkflowEvent(s, name, core::WorkflowExecution::RUNNING, clock);
    CHECK(late.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
    google::rpc::Status details;
    REQUIRE(details.ParseFromString(late.error_details()));
    REQUIRE(details.details_size() == 1);
    admin::EventFailureReason reason;
    REQUIRE(details.details(0).UnpackTo(&reason));
    CHECK(reason.already_in_terminal_state().current_phase() == "SUCCEEDED");
  }

  // GetExecution and ListExecutions.
  admin::Execution execution;
  {
    admin::WorkflowExecutionGetRequest get;
    *get.mutable_id() = ExecId(name);
    grpc::ClientContext ctx;
    REQUIRE(s.stub->GetExecution(&ctx, get, &execution).ok());
  }
  CHECK(execution.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  CHECK(execution.spec().launch_plan().name() == "core.flyte_basics.basic_workflow.my_wf");
  CHECK(execution.closure().workflow_id().name() == "core.flyte_basics.basic_workflow.my_wf");
  CHECK(TimeUtil::DurationToSeconds(execution.closure().duration()) > 0);
  {
    admin::ResourceListRequest list;
    list.mutable_id()->set_project(kProject);
    list.mutable_id()->set_domain(kDomain);
    list.set_limit(10);
    list.set_filters("eq(launch_plan.name,core.flyte_basics.basic_workflow.my_wf)+eq(phase,SUCCEEDED)");
    grpc::ClientContext ctx;
    admin::ExecutionList listed;
    REQUIRE(s.stub->ListExecutions(&ctx, list, &listed).ok());
    REQUIRE(listed.executions_size() == 1);
    CHECK(listed.executions(0).id().name() == name);
  }

  // GetExecutionData: the launch inputs and the workflow outputs, in full.
  {
    admin::WorkflowExecutionGetDataRequest get;
    *get.mutable_id() = ExecId(name);
    grpc::ClientContext ctx;
    admin::WorkflowExecutionGetDataResponse data;
    REQUIRE(s.stub->GetExecutionData(&ctx, get, &data).ok());
    CHECK(data.full_inputs().literals().at("a").scalar().primitive().integer() == 3);
    CHECK(data.full_inputs().literals().at("b").scalar().primitive().string_value() == "hello");
    CHECK(data.full_outputs().literals().at("o1").scalar().primitive().string_value() == "hello hello world");
  }

  // Node and task executions as the console's graph and timeline read them.
  {
    admin::NodeExecutionListRequest list;
    *list.mutable_workflow_execution_id() = ExecId(name);
    list.set_limit(100);
    grpc::ClientContext ctx;
    admin::NodeExecutionList nodes;
    REQUIRE(s.stub->ListNodeExecutions(&ctx, list, &nodes).ok());
    std::set<std::string> ids;
    for (const auto& n : nodes.node_executions()) {
      ids.insert(n.id().node_id());
      CHECK(n.closure().phase() == core::NodeExecution::SUCCEEDED);
    }
    CHECK(ids == std::set<std::string>{"n0", "n1"});
  }
  {
    admin::NodeExecutionGetDataRequest get;
    *get.mutable_id() = NodeId(name, "n0");
    grpc::ClientContext ctx;
    admin::NodeExecutionGetDataResponse data;
    REQUIRE(s.stub->GetNodeExecutionData(&ctx, get, &data).ok());
    CHECK(data.full_inputs().literals().at("a").scalar().primitive().integer() == 3);
    CHECK(data.full_outputs().literals().at("c").scalar().primitive().string_value() == "hello world");
    CHECK(data.flyte_urls().outputs() == "flyte://v1/flytesnacks/development/" + name + "/n0/o");
  }
  admin::TaskExecution task;
  {
    admin::TaskExecutionListRequest list;
    *list.mutable_node_execution_id() = NodeId(name, "n1");
    list.set_limit(10);
    grpc::ClientContext ctx;
    admin::TaskExecutionList tasks;
    REQUIRE(s.stub->ListTaskExecutions(&ctx, list, &tasks).ok());
    REQUIRE(tasks.task_executions_size() == 1);
    task = tasks.task_executions(0);
    CHECK(task.closure().phase() == core::TaskExecution::SUCCEEDED);
    REQUIRE(task.closure().logs_size() == 1);
    CHECK(task.closure().logs(0).name() == "Kubernetes Logs (User)");
  }

  // flyte:// data through the data proxy, for the node and for its task attempt.
  {
    flyteidl::service::GetDataRequest get;
    get.set_flyte_url("flyte://v1/flytesnacks/development/" + name + "/n1/o/o0");
    grpc::ClientContext ctx;
    flyteidl::service::GetDataResponse data;
    auto st = s.data->GetData(&ctx, get, &data);
    INFO(st.error_message());
    REQUIRE(st.ok());
    CHECK(data.literal().scalar().primitive().string_value() == "hello hello world");
  }
  {
    flyteidl::service::GetDataRequest get;
    get.set_flyte_url("flyte://v1/flytesnacks/development/" + name + "/n1/0/i");
    grpc::ClientContext ctx;
    flyteidl::service::GetDataResponse data;
    auto st = s.data->GetData(&ctx, get, &data);
    INFO(st.error_message());
    REQUIRE(st.ok());
    CHECK(data.literal_map().literals().at("b").scalar().primitive().string_value() == "hello world");
  }

  // The console's REST calls.
  const std::vector<std::pair<std::string, std::string>> json{{"Accept", "application/json"}};
  {
    auto r = test::Http(s.served.http_port, "GET", "/api/v1/executions/flytesnacks/development/" + name, "", json);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto body = nlohmann::json::parse(r.body);
    CHECK(body["id"]["name"] == name);
    CHECK(body["closure"]["phase"] == "SUCCEEDED");
    CHECK(body["spec"]["launch_plan"]["name"] == "core.flyte_basics.basic_workflow.my_wf");
  }
  {
    auto r = test::Http(s.served.http_port, "GET",
                        "/api/v1/executions/flytesnacks/development?limit=5&sort_by.key=created_at&sort_by.direction=DESCENDING",
                        "", json);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto body = nlohmann::json::parse(r.body);
    REQUIRE(body["executions"].size() == 1);
  }
  {
    auto r = test::Http(s.served.http_port, "GET",
                        "/api/v1/node_executions/flytesnacks/development/" + name + "?limit=10", "", json);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto body = nlohmann::json::parse(r.body);
    CHECK(body["node_executions"].size() == 2);
  }
  {
    auto r = test::Http(s.served.http_port, "GET", "/api/v1/data/executions/flytesnacks/development/" + name, "", json);
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto body = nlohmann::json::parse(r.body);
    CHECK(body["full_outputs"]["literals"]["o0"]["scalar"]["primitive"]["integer"] == "5");
  }

  // Terminating a finished run is refused; archiving hides it from the default list.
  {
    admin::ExecutionTerminateRequest terminate;
    *terminate.mutable_id() = ExecId(name);
    terminate.set_cause("too late");
    grpc::ClientContext ctx;
    admin::ExecutionTerminateResponse resp;
    CHECK(s.stub->TerminateExecution(&ctx, terminate, &resp).error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  }
  {
    admin::ExecutionUpdateRequest update;
    *update.mutable_id() = ExecId(name);
    update.set_state(admin::EXECUTION_ARCHIVED);
    grpc::ClientContext ctx;
    admin::ExecutionUpdateResponse resp;
    REQUIRE(s.stub->UpdateExecution(&ctx, update, &resp).ok());
    admin::ResourceListRequest list;
    list.mutable_id()->set_project(kProject);
    list.mutable_id()->set_domain(kDomain);
    list.set_limit(10);
    grpc::ClientContext list_ctx;
    admin::ExecutionList listed;
    REQUIRE(s.stub->ListExecutions(&list_ctx, list, &listed).ok());
    CHECK(listed.executions_size() == 0);
  }
}

TEST_CASE("Without a WorkflowExecutor plugin a launch is refused and nothing is stored", "[e2e]") {
  test::ServedServer served("    - name: flyte_manager_project\n    - name: flyte_manager_task\n"
                            "    - name: flyte_manager_workflow\n    - name: flyte_manager_launch_plan\n"
                            "    - name: flyte_manager_execution\n");
  auto stub = flyteidl::service::AdminService::NewStub(served.channel());
  RegisterCore(*stub);
  auto create = LaunchPlanExecution("no-executor", "core.flyte_basics.hello_world.my_wf");
  grpc::ClientContext ctx;
  admin::ExecutionCreateResponse created;
  auto st = stub->CreateExecution(&ctx, create, &created);
  CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(st.error_message(), Catch::StartsWith("no WorkflowExecutor plugin is loaded"));
  admin::WorkflowExecutionGetRequest get;
  *get.mutable_id() = ExecId("no-executor");
  grpc::ClientContext get_ctx;
  admin::Execution execution;
  CHECK(stub->GetExecution(&get_ctx, get, &execution).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("The executor's namespace replaces exactly upstream's template placeholders", "[e2e]") {
  auto record = RecordFile();
  // "{{ domain }}" is replaced; "{{project}}" is not upstream's spelling and stays as written.
  FlowServer s(record, "namespace_mapping:\n  template: \"ns-{{ domain }}-{{project}}\"\n");
  RegisterCore(*s.stub);
  auto create = LaunchPlanExecution("nsx", "core.flyte_basics.basic_workflow.my_wf");
  (*create.mutable_inputs()->mutable_literals())["a"] = Int(3);
  (*create.mutable_inputs()->mutable_literals())["b"] = Str("hello");
  admin::ExecutionCreateResponse created;
  grpc::ClientContext ctx;
  auto st = s.stub->CreateExecution(&ctx, create, &created);
  INFO(st.error_message());
  REQUIRE(st.ok());
  auto calls = ReadRecord(record);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0]["namespace"] == "ns-development-{{project}}");
}
