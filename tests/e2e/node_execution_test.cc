// Node executions on the built server: CreateNodeEvent's rules (first event creates, duplicates,
// terminal regressions, parents, offloading, inline policy, dynamic workflows, concurrent
// senders) and every read, over gRPC and REST, on SQLite and PostgreSQL. The workflow and task
// execution rows the events hang on are written straight into the server's database.
#include <google/rpc/status.pb.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/service/admin.grpc.pb.h"

// The closure's output_uri/output_data and the data response's UrlBlobs are deprecated in the IDL.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include "identifiers.h"
#include "served_server.h"
#include "test_support.h"

namespace test = flyte::test;
namespace plugin = flyte::plugin;
using flyteidl::service::AdminService;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace event = flyteidl::event;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";

using test::UniqueName;

// A server with the node execution manager, its database opened alongside for seeding rows.
struct NodeServer {
  explicit NodeServer(const std::string& backend, const std::string& extra_layer = "")
      : dir(std::filesystem::temp_directory_path() / UniqueName("flyte-node-e2e")) {
    std::filesystem::create_directories(dir);
    std::string db_layer;
    if (backend == "postgres") {
      db_layer = test::PostgresLayer(UniqueName("node_e2e"));
    } else {
      db_layer = "database:\n  sqlite:\n    file: " + (dir / "admin.db").string() + "\n";
    }
    std::vector<std::string> layers{db_layer};
    if (!extra_layer.empty()) layers.push_back(extra_layer);
    served = std::make_unique<test::ServedServer>("    - name: flyte_manager_node_execution\n", layers);
    stub = AdminService::NewStub(served->channel());
    auto config = flyte::core::Config::FromDocuments({db_layer}, [](const std::string&) -> std::optional<std::string> {
      return std::nullopt;
    });
    REQUIRE(config.ok());
    auto opened = flyte::core::db::OpenDatabase(*config);
    if (!opened.ok()) FAIL("OpenDatabase: " << opened.status().ToString());
    database = *opened;
  }
  ~NodeServer() {
    database.reset();
    stub.reset();
    served.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  plugin::db::Repositories& repos() { return *database->Repositories(); }

  // A workflow execution row, as CreateExecution would have left it.
  void AddExecution(const std::string& name, const std::string& phase = "RUNNING", const std::string& cluster = "") {
    plugin::db::ExecutionModel e;
    e.key = {kProject, kDomain, name};
    e.phase = phase;
    e.cluster = cluster;
    e.launch_entity = "launch_plan";
    e.execution_created_at = flyte::plugin::db::Now();
    REQUIRE(repos().Executions().Create(e, {}).ok());
  }

  int64_t AddTaskExecution(const core::TaskExecutionIdentifier& id) {
    plugin::db::TaskExecutionModel t;
    t.key.task = {id.task_id().project(), id.task_id().domain(), id.task_id().name(), id.task_id().version()};
    t.key.node_execution = {{id.node_execution_id().execution_id().project(), id.node_execution_id().execution_id().domain(),
                             id.node_execution_id().execution_id().name()},
                            id.node_execution_id().node_id()};
    t.key.retry_attempt = id.retry_attempt();
    t.phase = "RUNNING";
    REQUIRE(repos().TaskExecutions().Create(t).ok());
    auto row = repos().TaskExecutions().Get(t.key);
    REQUIRE(row.ok());
    return row->id;
  }

  plugin::db::NodeExecutionModel Row(const std::string& execution, const std::string& node) {
    auto row = repos().NodeExecutions().Get({{kProject, kDomain, execution}, node});
    REQUIRE(row.ok());
    return *row;
  }

  std::filesystem::path dir;
  std::unique_ptr<test::ServedServer> served;
  std::unique_ptr<AdminService::Stub> stub;
  std::shared_ptr<flyte::core::db::Database> database;
};

core::NodeExecutionIdentifier NodeId(const std::string& execution, const std::string& node) {
  return test::NodeExecutionId(kProject, kDomain, execution, node);
}

google::protobuf::Timestamp At(int64_t seconds, int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

admin::NodeExecutionEventRequest Event(const std::string& execution, const std::string& node, core::NodeExecution::Phase phase,
                                       int64_t occurred = 1700000000) {
  admin::NodeExecutionEventRequest req;
  req.set_request_id("req-" + node + "-" + core::NodeExecution::Phase_Name(phase));
  auto* ev = req.mutable_event();
  *ev->mutable_id() = NodeId(execution, node);
  ev->set_phase(phase);
  *ev->mutable_occurred_at() = At(occurred);
  ev->set_event_version(1);
  return req;
}

core::LiteralMap Literals(const std::string& name, int64_t value) {
  core::LiteralMap map;
  (*map.mutable_literals())[name].mutable_scalar()->mutable_primitive()->set_integer(value);
  return map;
}

std::string PathOf(const std::string& uri) {
  REQUIRE(uri.rfind("file://", 0) == 0);
  return uri.substr(7);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The EventFailureReason a status carries, if any.
std::optional<admin::EventFailureReason> Reason(const grpc::Status& s) {
  google::rpc::Status rpc;
  if (s.error_details().empty() || !rpc.ParseFromString(s.error_details()) || rpc.details_size() != 1) return std::nullopt;
  admin::EventFailureReason reason;
  if (!rpc.details(0).UnpackTo(&reason)) return std::nullopt;
  return reason;
}

struct Client {
  AdminService::Stub& stub;

  grpc::Status Send(const admin::NodeExecutionEventRequest& req) {
    grpc::ClientContext ctx;
    admin::NodeExecutionEventResponse resp;
    return stub.CreateNodeEvent(&ctx, req, &resp);
  }
  grpc::Status Get(const core::NodeExecutionIdentifier& id, admin::NodeExecution* out) {
    grpc::ClientContext ctx;
    admin::NodeExecutionGetRequest req;
    *req.mutable_id() = id;
    return stub.GetNodeExecution(&ctx, req, out);
  }
  admin::NodeExecution MustGet(const std::string& execution, const std::string& node) {
    admin::NodeExecution out;
    auto s = Get(NodeId(execution, node), &out);
    REQUIRE(s.error_message() == "");
    REQUIRE(s.ok());
    return out;
  }
  grpc::Status List(const admin::NodeExecutionListRequest& req, admin::NodeExecutionList* out) {
    grpc::ClientContext ctx;
    return stub.ListNodeExecutions(&ctx, req, out);
  }
  grpc::Status ListForTask(const admin::NodeExecutionForTaskListRequest& req, admin::NodeExecutionList* out) {
    grpc::ClientContext ctx;
    return stub.ListNodeExecutionsForTask(&ctx, req, out);
  }
  grpc::Status Data(const core::NodeExecutionIdentifier& id, admin::NodeExecutionGetDataResponse* out) {
    grpc::ClientContext ctx;
    admin::NodeExecutionGetDataRequest req;
    *req.mutable_id() = id;
    return stub.GetNodeExecutionData(&ctx, req, out);
  }
  grpc::Status Dynamic(const core::NodeExecutionIdentifier& id, admin::DynamicNodeWorkflowResponse* out) {
    grpc::ClientContext ctx;
    admin::GetDynamicNodeWorkflowRequest req;
    *req.mutable_id() = id;
    return stub.GetDynamicNodeWorkflow(&ctx, req, out);
  }
};

admin::NodeExecutionListRequest ListRequest(const std::string& execution, uint32_t limit = 10) {
  admin::NodeExecutionListRequest req;
  req.mutable_workflow_execution_id()->set_project(kProject);
  req.mutable_workflow_execution_id()->set_domain(kDomain);
  req.mutable_workflow_execution_id()->set_name(execution);
  req.set_limit(limit);
  return req;
}

std::vector<std::string> NodeIds(const admin::NodeExecutionList& list) {
  std::vector<std::string> out;
  for (const auto& n : list.node_executions()) out.push_back(n.id().node_id());
  return out;
}

std::string IdText(const std::string& execution, const std::string& node) {
  return "node_id:\"" + node + "\" execution_id:{project:\"flytesnacks\" domain:\"development\" name:\"" + execution +
         "\"}";
}

}  // namespace

TEST_CASE("CreateNodeEvent creates the node execution on its first event and advances it on later ones", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  NodeServer server(backend);
  Client client{*server.stub};
  server.AddExecution("e1");

  auto running = Event("e1", "n1", core::NodeExecution::RUNNING, 1700000000);
  running.mutable_event()->set_input_uri("s3://bucket/inputs.pb");
  *running.mutable_event()->mutable_reported_at() = At(1700000005);
  running.mutable_event()->set_retry_group("2");
  running.mutable_event()->set_spec_node_id("spec-n1");
  running.mutable_event()->set_deck_uri("s3://bucket/deck.html");
  running.mutable_event()->set_node_name("ignored");
  REQUIRE(client.Send(running).ok());

  auto got = client.MustGet("e1", "n1");
  CHECK(got.id().node_id() == "n1");
  CHECK(got.id().execution_id().name() == "e1");
  CHECK(got.input_uri() == "s3://bucket/inputs.pb");
  CHECK(got.closure().phase() == core::NodeExecution::RUNNING);
  CHECK(got.closure().started_at().seconds() == 1700000000);
  CHECK(got.closure().created_at().seconds() == 1700000000);
  CHECK(got.closure().updated_at().seconds() == 1700000005);  // reported_at wins
  CHECK(got.closure().deck_uri() == "s3://bucket/deck.html");
  CHECK(got.metadata().retry_group() == "2");
  CHECK(got.metadata().spec_node_id() == "spec-n1");
  CHECK_FALSE(got.metadata().is_parent_node());
  auto row = server.Row("e1", "n1");
  CHECK(row.phase == "RUNNING");
  CHECK_FALSE(row.parent_id.has_value());
  CHECK_FALSE(row.parent_task_execution_id.has_value());
  CHECK(row.node_execution_updated_at.has_value());
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(row.node_execution_updated_at->time_since_epoch()).count() ==
        1700000005);

  // The inputs are recorded once; SUCCEEDED brings the duration and the output uri.
  auto succeeded = Event("e1", "n1", core::NodeExecution::SUCCEEDED, 1700000060);
  succeeded.mutable_event()->set_input_uri("s3://bucket/other-inputs.pb");
  succeeded.mutable_event()->set_output_uri("s3://bucket/outputs.pb");
  REQUIRE(client.Send(succeeded).ok());
  got = client.MustGet("e1", "n1");
  CHECK(got.closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK(got.input_uri() == "s3://bucket/inputs.pb");
  CHECK(got.closure().output_uri() == "s3://bucket/outputs.pb");
  CHECK(got.closure().duration().seconds() == 60);
  CHECK(got.closure().started_at().seconds() == 1700000000);
  CHECK(got.closure().updated_at().seconds() == 1700000060);  // no reported_at: occurred_at
  CHECK(got.closure().deck_uri().empty());  // copied from the terminal event, as upstream
  row = server.Row("e1", "n1");
  CHECK(row.phase == "SUCCEEDED");
  CHECK(row.duration_ns == 60000000000LL);

  // Another node of the same execution is untouched.
  REQUIRE(client.Send(Event("e1", "other", core::NodeExecution::QUEUED)).ok());
  CHECK(client.MustGet("e1", "other").closure().phase() == core::NodeExecution::QUEUED);
  CHECK(client.MustGet("e1", "n1").closure().phase() == core::NodeExecution::SUCCEEDED);

  // A failure records the error and its kind/code columns.
  auto failed = Event("e1", "other", core::NodeExecution::FAILED, 1700000100);
  failed.mutable_event()->mutable_error()->set_code("USER:Boom");
  failed.mutable_event()->mutable_error()->set_message("it broke");
  failed.mutable_event()->mutable_error()->set_kind(core::ExecutionError::USER);
  REQUIRE(client.Send(failed).ok());
  got = client.MustGet("e1", "other");
  CHECK(got.closure().error().message() == "it broke");
  CHECK_FALSE(got.closure().has_duration());  // never RUNNING: no started_at
  row = server.Row("e1", "other");
  CHECK(row.error_kind == std::optional<std::string>("USER"));
  CHECK(row.error_code == std::optional<std::string>("USER:Boom"));

  // GetNodeExecution over REST.
  auto http = test::Http(server.served->http_port, "GET",
                         "/api/v1/node_executions/flytesnacks/development/e1/n1");
  INFO(http.body);
  REQUIRE(http.status == 200);
  auto json = nlohmann::json::parse(http.body);
  CHECK(json["id"]["nodeId"] == "n1");
  CHECK(json["id"]["executionId"]["name"] == "e1");
  CHECK(json["inputUri"] == "s3://bucket/inputs.pb");
  CHECK(json["closure"]["phase"] == "SUCCEEDED");
  CHECK(json["closure"]["outputUri"] == "s3://bucket/outputs.pb");
  CHECK(json["closure"]["duration"] == "60s");
  CHECK(json["closure"]["startedAt"] == "2023-11-14T22:13:20Z");
  CHECK(json["metadata"]["retryGroup"] == "2");
}

TEST_CASE("CreateNodeEvent answers duplicates and terminal regressions with upstream's codes and details", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  NodeServer server(backend);
  Client client{*server.stub};
  server.AddExecution("e2");

  REQUIRE(client.Send(Event("e2", "n", core::NodeExecution::RUNNING)).ok());
  auto dup = client.Send(Event("e2", "n", core::NodeExecution::RUNNING));
  CHECK(dup.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(dup.error_message() == "This phase was already recorded RUNNING for " + IdText("e2", "n"));

  // Any non-terminal phase may follow, also one seen before.
  REQUIRE(client.Send(Event("e2", "n", core::NodeExecution::QUEUED)).ok());
  REQUIRE(client.Send(Event("e2", "n", core::NodeExecution::DYNAMIC_RUNNING)).ok());
  REQUIRE(client.Send(Event("e2", "n", core::NodeExecution::RUNNING)).ok());
  CHECK(client.MustGet("e2", "n").closure().phase() == core::NodeExecution::RUNNING);

  REQUIRE(client.Send(Event("e2", "n", core::NodeExecution::SUCCEEDED, 1700000010)).ok());
  const int64_t row_id = server.Row("e2", "n").id;
  auto regress = client.Send(Event("e2", "n", core::NodeExecution::RUNNING));
  CHECK(regress.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(regress.error_message() == "Invalid phase change from SUCCEEDED to RUNNING for node execution " +
                                       std::to_string(row_id));
  auto reason = Reason(regress);
  REQUIRE(reason.has_value());
  REQUIRE(reason->has_already_in_terminal_state());
  CHECK(reason->already_in_terminal_state().current_phase() == "RUNNING");  // the event's phase, as upstream

  auto other_terminal = client.Send(Event("e2", "n", core::NodeExecution::FAILED));
  CHECK(other_terminal.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  reason = Reason(other_terminal);
  REQUIRE(reason.has_value());
  CHECK(reason->already_in_terminal_state().current_phase() == "FAILED");

  // A duplicate terminal event is a duplicate first.
  auto dup_terminal = client.Send(Event("e2", "n", core::NodeExecution::SUCCEEDED));
  CHECK(dup_terminal.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(dup_terminal.error_message() == "This phase was already recorded SUCCEEDED for " + IdText("e2", "n"));
  CHECK(client.MustGet("e2", "n").closure().phase() == core::NodeExecution::SUCCEEDED);

  // Reordered delivery: a terminal first event, then the RUNNING that happened before it.
  REQUIRE(client.Send(Event("e2", "late", core::NodeExecution::SUCCEEDED, 1700000050)).ok());
  auto late = client.Send(Event("e2", "late", core::NodeExecution::RUNNING, 1700000040));
  CHECK(late.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(Reason(late).has_value());
  auto got = client.MustGet("e2", "late");
  CHECK(got.closure().phase() == core::NodeExecution::SUCCEEDED);
  CHECK_FALSE(got.closure().has_started_at());
}

TEST_CASE("CreateNodeEvent needs its workflow execution, a matching cluster and the parents it names", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  NodeServer server(backend);
  Client client{*server.stub};

  auto missing = client.Send(Event("nope", "n", core::NodeExecution::RUNNING));
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(missing.error_message() ==
        "Failed to get existing execution id: [project:\"flytesnacks\" domain:\"development\" name:\"nope\"] with err: "
        "missing entity of type execution with identifier project:\"flytesnacks\" domain:\"development\" name:\"nope\"");

  // Upstream does not look at the workflow execution's phase: a terminal one still takes events.
  server.AddExecution("done", "SUCCEEDED");
  REQUIRE(client.Send(Event("done", "n", core::NodeExecution::SUCCEEDED)).ok());

  server.AddExecution("c", "RUNNING", "cluster-a");
  auto foreign = Event("c", "n", core::NodeExecution::RUNNING);
  foreign.mutable_event()->set_producer_id("cluster-b");
  auto refused = client.Send(foreign);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(refused.error_message() ==
        "Cluster/producer from event [cluster-b] does not match existing workflow execution clusterInDB: [cluster-a]");
  auto reason = Reason(refused);
  REQUIRE(reason.has_value());
  CHECK(reason->incompatible_cluster().cluster() == "cluster-b");
  foreign.mutable_event()->set_producer_id("propeller");
  CHECK(client.Send(foreign).ok());
  auto own = Event("c", "n2", core::NodeExecution::RUNNING);
  own.mutable_event()->set_producer_id("cluster-a");
  CHECK(client.Send(own).ok());

  server.AddExecution("p");
  auto orphan = Event("p", "child", core::NodeExecution::RUNNING);
  orphan.mutable_event()->mutable_parent_node_metadata()->set_node_id("ghost");
  auto no_parent = client.Send(orphan);
  CHECK(no_parent.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(no_parent.error_message() == "missing entity of type node execution with identifier " + IdText("p", "ghost"));

  core::TaskExecutionIdentifier task;
  task.mutable_task_id()->set_resource_type(core::TASK);
  task.mutable_task_id()->set_project(kProject);
  task.mutable_task_id()->set_domain(kDomain);
  task.mutable_task_id()->set_name("t");
  task.mutable_task_id()->set_version("v1");
  *task.mutable_node_execution_id() = NodeId("p", "parent");
  task.set_retry_attempt(1);
  auto task_child = Event("p", "child", core::NodeExecution::RUNNING);
  *task_child.mutable_event()->mutable_parent_task_metadata()->mutable_id() = task;
  auto no_task = client.Send(task_child);
  CHECK(no_task.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(no_task.error_message() ==
        "missing entity of type task execution with identifier task_id:{project:\"flytesnacks\" "
        "domain:\"development\" name:\"t\" version:\"v1\"} node_execution_id:{" +
            IdText("p", "parent") + "}");
  auto bad_task = task_child;
  bad_task.mutable_event()->mutable_parent_task_metadata()->mutable_id()->clear_task_id();
  auto invalid = client.Send(bad_task);
  CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(invalid.error_message() == "missing task_id");
  admin::NodeExecution absent;
  CHECK(client.Get(NodeId("p", "child"), &absent).error_code() == grpc::StatusCode::NOT_FOUND);

  // With the parents present the child is linked to both.
  REQUIRE(client.Send(Event("p", "parent", core::NodeExecution::RUNNING)).ok());
  const int64_t task_row = server.AddTaskExecution(task);
  task_child.mutable_event()->mutable_parent_node_metadata()->set_node_id("parent");
  REQUIRE(client.Send(task_child).ok());
  auto row = server.Row("p", "child");
  CHECK(row.parent_id == std::optional<int64_t>(server.Row("p", "parent").id));
  CHECK(row.parent_task_execution_id == std::optional<int64_t>(task_row));

  // A node that launched a child workflow: the child execution must exist.
  auto launched = Event("p", "parent", core::NodeExecution::SUCCEEDED);
  auto* child_exec = launched.mutable_event()->mutable_workflow_node_metadata()->mutable_execution_id();
  child_exec->set_project(kProject);
  child_exec->set_domain(kDomain);
  child_exec->set_name("sub");
  auto no_child = client.Send(launched);
  CHECK(no_child.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(no_child.error_message() ==
        "missing entity of type execution with identifier project:\"flytesnacks\" domain:\"development\" name:\"sub\"");
  server.AddExecution("sub");
  REQUIRE(client.Send(launched).ok());
  CHECK(client.MustGet("p", "parent").closure().workflow_node_metadata().executionid().name() == "sub");
}

TEST_CASE("CreateNodeEvent offloads inline inputs and outputs under metadata/", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  // A tiny maxSizeInBytes: upstream only logs the output size check of node events.
  NodeServer server(backend, "remoteData:\n  maxSizeInBytes: 20\n");
  Client client{*server.stub};
  server.AddExecution("off");

  auto running = Event("off", "n", core::NodeExecution::RUNNING);
  *running.mutable_event()->mutable_input_data() = Literals("x", 7);
  running.mutable_event()->set_deck_uri("s3://deck");
  REQUIRE(client.Send(running).ok());
  auto got = client.MustGet("off", "n");
  CHECK(EndsWith(got.input_uri(), "/metadata/flytesnacks/development/off/n/offloaded_inputs"));
  core::LiteralMap stored;
  REQUIRE(stored.ParseFromString(ReadFile(PathOf(got.input_uri()))));
  CHECK(stored.literals().at("x").scalar().primitive().integer() == 7);

  auto done = Event("off", "n", core::NodeExecution::SUCCEEDED, 1700000001);
  *done.mutable_event()->mutable_output_data() = Literals("a_rather_long_output_name", 123456789);
  REQUIRE(done.event().output_data().ByteSizeLong() > 20);
  REQUIRE(client.Send(done).ok());
  got = client.MustGet("off", "n");
  CHECK(EndsWith(got.closure().output_uri(), "/metadata/flytesnacks/development/off/n/offloaded_outputs"));
  REQUIRE(stored.ParseFromString(ReadFile(PathOf(got.closure().output_uri()))));
  CHECK(stored.literals().at("a_rather_long_output_name").scalar().primitive().integer() == 123456789);

  // The local store is always read in full (scheme none), whatever the size.
  admin::NodeExecutionGetDataResponse data;
  REQUIRE(client.Data(NodeId("off", "n"), &data).ok());
  CHECK(data.full_inputs().literals().at("x").scalar().primitive().integer() == 7);
  CHECK(data.full_outputs().literals().at("a_rather_long_output_name").scalar().primitive().integer() == 123456789);
  CHECK(data.flyte_urls().inputs() == "flyte://v1/flytesnacks/development/off/n/i");
  CHECK(data.flyte_urls().outputs() == "flyte://v1/flytesnacks/development/off/n/o");
  CHECK(data.flyte_urls().deck().empty());  // the terminal event carried no deck
  CHECK(data.inputs().url().empty());
  CHECK_FALSE(data.has_dynamic_workflow());

  auto http = test::Http(server.served->http_port, "GET", "/api/v1/data/node_executions/flytesnacks/development/off/n");
  REQUIRE(http.status == 200);
  auto json = nlohmann::json::parse(http.body);
  CHECK(json["fullInputs"]["literals"]["x"]["scalar"]["primitive"]["integer"] == "7");
}

TEST_CASE("CreateNodeEvent stores outputs inline under the StoreInline policy", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  NodeServer server(backend, "remoteData:\n  inlineEventDataPolicy: StoreInline\n  maxSizeInBytes: 40\n");
  Client client{*server.stub};
  server.AddExecution("inl");

  auto running = Event("inl", "n", core::NodeExecution::RUNNING);
  running.mutable_event()->set_deck_uri("s3://deck");
  REQUIRE(client.Send(running).ok());
  auto done = Event("inl", "n", core::NodeExecution::SUCCEEDED);
  *done.mutable_event()->mutable_output_data() = Literals("o", 5);
  done.mutable_event()->set_deck_uri("s3://deck2");
  REQUIRE(client.Send(done).ok());
  auto got = client.MustGet("inl", "n");
  CHECK(got.closure().output_uri().empty());
  CHECK(got.closure().output_data().literals().at("o").scalar().primitive().integer() == 5);
  CHECK(got.closure().deck_uri() == "s3://deck2");
  admin::NodeExecutionGetDataResponse data;
  REQUIRE(client.Data(NodeId("inl", "n"), &data).ok());
  CHECK(data.full_outputs().literals().at("o").scalar().primitive().integer() == 5);
  CHECK(data.flyte_urls().deck() == "flyte://v1/flytesnacks/development/inl/n/d");
  CHECK(data.full_inputs().literals().empty());

  // Inline outputs at or over maxSizeInBytes are not returned by GetNodeExecutionData.
  auto big = Event("inl", "big", core::NodeExecution::SUCCEEDED);
  *big.mutable_event()->mutable_output_data() = Literals(std::string(60, 'o'), 5);
  REQUIRE(client.Send(big).ok());
  CHECK(client.MustGet("inl", "big").closure().has_output_data());
  REQUIRE(client.Data(NodeId("inl", "big"), &data).ok());
  CHECK(data.full_outputs().literals().empty());
}

TEST_CASE("A maxSizeInBytes of 0 returns no stored inline outputs, as upstream", "[e2e]") {
  // 0 lifts the limit on fetching from storage, but inline data must be strictly smaller.
  NodeServer server("sqlite", "remoteData:\n  inlineEventDataPolicy: StoreInline\n  maxSizeInBytes: 0\n");
  Client client{*server.stub};
  server.AddExecution("zero");
  auto done = Event("zero", "n", core::NodeExecution::SUCCEEDED);
  *done.mutable_event()->mutable_output_data() = Literals("o", 5);
  REQUIRE(client.Send(done).ok());
  CHECK(client.MustGet("zero", "n").closure().has_output_data());
  admin::NodeExecutionGetDataResponse data;
  REQUIRE(client.Data(NodeId("zero", "n"), &data).ok());
  CHECK(data.full_outputs().literals().empty());
}

TEST_CASE("CreateNodeEvent stores a dynamic workflow's closure and the reads serve it", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  NodeServer server(backend);
  Client client{*server.stub};
  server.AddExecution("dyn");

  REQUIRE(client.Send(Event("dyn", "d", core::NodeExecution::RUNNING)).ok());
  admin::DynamicNodeWorkflowResponse dyn_response;
  auto none = client.Dynamic(NodeId("dyn", "d"), &dyn_response);
  CHECK(none.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(none.error_message() == "node does not contain dynamic workflow");

  auto dynamic = Event("dyn", "d", core::NodeExecution::DYNAMIC_RUNNING, 1700000002);
  auto* ev = dynamic.mutable_event();
  ev->set_is_dynamic(true);
  ev->set_is_parent(true);
  auto* tnm = ev->mutable_task_node_metadata();
  tnm->set_checkpoint_uri("s3://ckpt");
  tnm->set_cache_status(core::CACHE_MISS);
  tnm->mutable_catalog_key()->mutable_dataset_id()->set_name("ds");
  auto* dw = tnm->mutable_dynamic_workflow();
  dw->mutable_id()->set_resource_type(core::WORKFLOW);
  dw->mutable_id()->set_project(kProject);
  dw->mutable_id()->set_domain(kDomain);
  dw->mutable_id()->set_name("dyn_wf");
  dw->mutable_id()->set_version("v7");
  *dw->mutable_compiled_workflow()->mutable_primary()->mutable_template_()->mutable_id() = dw->id();
  dw->mutable_compiled_workflow()->mutable_primary()->mutable_template_()->add_nodes()->set_id("inner");
  dw->set_dynamic_job_spec_uri("s3://futures.pb");
  REQUIRE(client.Send(dynamic).ok());

  auto row = server.Row("dyn", "d");
  CHECK(EndsWith(row.dynamic_workflow_remote_closure_reference,
                 "/metadata/admin/flytesnacks/development/dyn/d/flytesnacks_development_dyn_wf_v7"));
  CHECK(row.cache_status == std::optional<std::string>("CACHE_MISS"));
  core::CompiledWorkflowClosure stored;
  REQUIRE(stored.ParseFromString(ReadFile(PathOf(row.dynamic_workflow_remote_closure_reference))));
  CHECK(stored.primary().template_().nodes(0).id() == "inner");

  // A resent event of the same phase carrying another closure is refused, and leaves the stored
  // closure as it was (upstream writes it before judging the event).
  auto resent = dynamic;
  resent.mutable_event()->mutable_task_node_metadata()->mutable_dynamic_workflow()->mutable_compiled_workflow()
      ->mutable_primary()->mutable_template_()->mutable_nodes(0)->set_id("impostor");
  CHECK(client.Send(resent).error_code() == grpc::StatusCode::ALREADY_EXISTS);
  REQUIRE(stored.ParseFromString(ReadFile(PathOf(row.dynamic_workflow_remote_closure_reference))));
  CHECK(stored.primary().template_().nodes(0).id() == "inner");

  auto got = client.MustGet("dyn", "d");
  CHECK(got.metadata().is_dynamic());
  CHECK(got.metadata().is_parent_node());
  CHECK_FALSE(got.metadata().is_array());
  CHECK(got.closure().dynamic_job_spec_uri() == "s3://futures.pb");
  CHECK(got.closure().task_node_metadata().checkpoint_uri() == "s3://ckpt");
  CHECK(got.closure().task_node_metadata().cache_status() == core::CACHE_MISS);
  CHECK(got.closure().task_node_metadata().catalog_key().dataset_id().name() == "ds");

  REQUIRE(client.Dynamic(NodeId("dyn", "d"), &dyn_response).ok());
  CHECK(dyn_response.compiled_workflow().primary().template_().id().name() == "dyn_wf");
  // Over REST too, as upstream's integration test reads it: protobuf bytes when asked for, JSON
  // otherwise.
  const std::string dyn_path = "/api/v1/node_executions/flytesnacks/development/dyn/d/dynamic_workflow";
  auto binary = test::Http(server.served->http_port, "GET", dyn_path, "",
                           {{"Accept", "application/octet-stream"}});
  REQUIRE(binary.status == 200);
  admin::DynamicNodeWorkflowResponse from_rest;
  REQUIRE(from_rest.ParseFromString(binary.body));
  CHECK(from_rest.compiled_workflow().primary().template_().id().name() == "dyn_wf");
  CHECK(from_rest.compiled_workflow().primary().template_().nodes(0).id() == "inner");
  auto json = test::Http(server.served->http_port, "GET", dyn_path, "", {{"Accept", "application/json"}});
  REQUIRE(json.status == 200);
  CHECK(nlohmann::json::parse(json.body)["compiled_workflow"]["primary"]["template"]["id"]["version"] == "v7");
  CHECK(test::Http(server.served->http_port, "GET",
                   "/api/v1/node_executions/flytesnacks/development/dyn/none/dynamic_workflow")
            .status == 404);
  admin::NodeExecutionGetDataResponse data;
  REQUIRE(client.Data(NodeId("dyn", "d"), &data).ok());
  CHECK(data.dynamic_workflow().id().name() == "dyn_wf");
  CHECK(data.dynamic_workflow().id().version() == "v7");
  CHECK(data.dynamic_workflow().dynamic_job_spec_uri() == "s3://futures.pb");
  CHECK(data.dynamic_workflow().compiled_workflow().primary().template_().nodes(0).id() == "inner");

  // A later event without a dynamic workflow keeps the reference and the flags.
  auto done = Event("dyn", "d", core::NodeExecution::SUCCEEDED, 1700000009);
  REQUIRE(client.Send(done).ok());
  CHECK(server.Row("dyn", "d").dynamic_workflow_remote_closure_reference == row.dynamic_workflow_remote_closure_reference);
  got = client.MustGet("dyn", "d");
  CHECK(got.metadata().is_dynamic());
  CHECK(got.closure().dynamic_job_spec_uri() == "s3://futures.pb");

  // A stored closure without a primary template is refused on read.
  auto broken = Event("dyn", "b", core::NodeExecution::RUNNING);
  auto* bdw = broken.mutable_event()->mutable_task_node_metadata()->mutable_dynamic_workflow();
  *bdw->mutable_id() = dw->id();
  REQUIRE(client.Send(broken).ok());
  auto empty = client.Dynamic(NodeId("dyn", "b"), &dyn_response);
  CHECK(empty.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(empty.error_message() == "Empty primary workflow definition in loaded dynamic workflow model.");

  // The cache status column can be filtered on.
  auto req = ListRequest("dyn");
  req.set_filters("eq(cache_status,CACHE_MISS)");
  admin::NodeExecutionList list;
  REQUIRE(client.List(req, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"d"});
}

TEST_CASE("A dynamic workflow closure over storage.limits.maxDownloadMBs is not read, as upstream",
          "[e2e]") {
  NodeServer server("sqlite", "storage:\n  limits:\n    maxDownloadMBs: 1\n");
  Client client{*server.stub};
  server.AddExecution("big");
  auto dynamic = Event("big", "d", core::NodeExecution::DYNAMIC_RUNNING, 1700000002);
  auto* dw = dynamic.mutable_event()->mutable_task_node_metadata()->mutable_dynamic_workflow();
  dw->mutable_id()->set_resource_type(core::WORKFLOW);
  dw->mutable_id()->set_project(kProject);
  dw->mutable_id()->set_domain(kDomain);
  dw->mutable_id()->set_name("big_wf");
  dw->mutable_id()->set_version("v1");
  auto* tmpl = dw->mutable_compiled_workflow()->mutable_primary()->mutable_template_();
  *tmpl->mutable_id() = dw->id();
  tmpl->add_nodes()->mutable_metadata()->set_name(std::string(1536 * 1024, 'n'));
  REQUIRE(client.Send(dynamic).ok());
  const std::string ref = server.Row("big", "d").dynamic_workflow_remote_closure_reference;
  REQUIRE_FALSE(ref.empty());

  // flytestdlib's ReadProtobuf refuses the object, and both reads fail with its error.
  const std::string expected = "Unable to read WorkflowClosure from location " + ref + " : path:" + ref +
                               ": [LIMIT_EXCEEDED] limit exceeded. 1.5";
  admin::DynamicNodeWorkflowResponse dyn_response;
  auto refused = client.Dynamic(NodeId("big", "d"), &dyn_response);
  CHECK(refused.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(refused.error_message(), Catch::StartsWith(expected));
  CHECK_THAT(refused.error_message(),
             Catch::EndsWith("mb > 1mb. You can increase the limit by setting maxDownloadMBs."));
  admin::NodeExecutionGetDataResponse data;
  auto data_refused = client.Data(NodeId("big", "d"), &data);
  CHECK(data_refused.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(data_refused.error_message(), Catch::StartsWith(expected));
}

TEST_CASE("Concurrent node events for one node are all applied or refused as duplicates", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  NodeServer server(backend);
  server.AddExecution("conc");

  // First events racing to create the rows (several nodes, all senders released at once):
  // every distinct phase lands and each flag it carries survives.
  struct Sent {
    core::NodeExecution::Phase phase;
    int flag;
  };
  const std::vector<Sent> sent = {{core::NodeExecution::QUEUED, 0},
                                  {core::NodeExecution::RUNNING, 1},
                                  {core::NodeExecution::DYNAMIC_RUNNING, 2},
                                  {core::NodeExecution::FAILING, -1}};
  constexpr int kNodes = 16;
  std::vector<grpc::Status> results(sent.size() * kNodes);
  std::vector<std::unique_ptr<AdminService::Stub>> stubs;
  for (size_t i = 0; i < results.size(); ++i) stubs.push_back(AdminService::NewStub(server.served->channel()));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      const auto& what = sent[i % sent.size()];
      auto req = Event("conc", "n" + std::to_string(i / sent.size()), what.phase, 1700000000 + static_cast<int64_t>(i));
      if (what.flag == 0) req.mutable_event()->set_is_parent(true);
      if (what.flag == 1) req.mutable_event()->set_is_dynamic(true);
      if (what.flag == 2) req.mutable_event()->set_is_array(true);
      if (what.flag == -1) req.mutable_event()->set_input_uri("s3://in");
      while (!go) std::this_thread::yield();
      grpc::ClientContext ctx;
      admin::NodeExecutionEventResponse resp;
      results[i] = stubs[i]->CreateNodeEvent(&ctx, req, &resp);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  for (const auto& r : results) CHECK(r.error_message() == "");
  Client client{*server.stub};
  for (int k = 0; k < kNodes; ++k) {
    auto got = client.MustGet("conc", "n" + std::to_string(k));
    CHECK(got.metadata().is_parent_node());
    CHECK(got.metadata().is_dynamic());
    CHECK(got.metadata().is_array());
    CHECK(got.input_uri() == "s3://in");
  }

  // Many senders of one terminal phase: exactly one is applied, the rest are duplicates.
  constexpr int kSenders = 6;
  std::atomic<int> ok{0}, duplicates{0};
  threads.clear();
  for (int i = 0; i < kSenders; ++i) {
    threads.emplace_back([&] {
      auto stub = AdminService::NewStub(server.served->channel());
      grpc::ClientContext ctx;
      admin::NodeExecutionEventResponse resp;
      auto s = stub->CreateNodeEvent(&ctx, Event("conc", "n0", core::NodeExecution::SUCCEEDED, 1700000100), &resp);
      if (s.ok()) ++ok;
      if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS) ++duplicates;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 1);
  CHECK(duplicates == kSenders - 1);
  CHECK(client.MustGet("conc", "n0").closure().phase() == core::NodeExecution::SUCCEEDED);

  // Many nodes at once, each with two events: none is lost.
  threads.clear();
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto stub = AdminService::NewStub(server.served->channel());
      for (auto phase : {core::NodeExecution::RUNNING, core::NodeExecution::SUCCEEDED}) {
        grpc::ClientContext ctx;
        admin::NodeExecutionEventResponse resp;
        if (!stub->CreateNodeEvent(&ctx, Event("conc", "m" + std::to_string(i), phase), &resp).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  admin::NodeExecutionList list;
  auto req = ListRequest("conc", 100);
  req.set_filters("eq(phase,SUCCEEDED)");
  REQUIRE(client.List(req, &list).ok());
  CHECK(list.node_executions_size() == 9);  // m0..m7 and n0

  // The database writer's counters on /metrics: each event above was one grouped write.
  const std::string metrics = test::Http(server.served->http_port, "GET", "/metrics").body;
  const double transactions = test::MetricSample(metrics, "flyteadmin_database_group_commit_transactions_total ");
  const double operations = test::MetricSample(metrics, "flyteadmin_database_group_commit_operations_total ");
  CHECK(operations >= static_cast<double>(results.size() + kSenders + 16));
  CHECK(transactions >= 1);
  CHECK(transactions <= operations);
  const double wal_syncs = test::MetricSample(metrics, "flyteadmin_database_wal_syncs_total ");
  double pipelined = 0;
  for (const char* outcome : {"ran", "ran_without", "retried_alone"}) {
    const double n = test::MetricSample(
        metrics, std::string(R"(flyteadmin_database_pipeline_batches_total{outcome=")") + outcome + "\"}");
    CHECK(n >= 0);
    pipelined += n;
  }
  if (backend == "sqlite") {
    CHECK(wal_syncs >= 1);
    CHECK(pipelined == 0);
  } else {
    CHECK(wal_syncs == 0);
    CHECK(pipelined <= transactions);
  }
}

TEST_CASE("ListNodeExecutions lists the top level or one parent's children, with filters, sort and pages", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  NodeServer server(backend);
  Client client{*server.stub};
  server.AddExecution("ls");
  server.AddExecution("other");

  REQUIRE(client.Send(Event("ls", "a", core::NodeExecution::RUNNING)).ok());
  REQUIRE(client.Send(Event("ls", "b", core::NodeExecution::QUEUED)).ok());
  REQUIRE(client.Send(Event("other", "a", core::NodeExecution::RUNNING)).ok());
  for (const char* child : {"a-0", "a-1"}) {
    auto req = Event("ls", child, core::NodeExecution::RUNNING);
    req.mutable_event()->mutable_parent_node_metadata()->set_node_id("a");
    REQUIRE(client.Send(req).ok());
  }
  // An old propeller's event (event_version 0) without is_parent: the flag is inferred.
  auto legacy = Event("ls", "c", core::NodeExecution::RUNNING);
  legacy.mutable_event()->set_event_version(0);
  REQUIRE(client.Send(legacy).ok());
  auto legacy_child = Event("ls", "c-0", core::NodeExecution::RUNNING);
  legacy_child.mutable_event()->mutable_parent_node_metadata()->set_node_id("c");
  REQUIRE(client.Send(legacy_child).ok());

  // A long error is trimmed to 100 bytes in lists, kept whole by Get.
  auto failed = Event("ls", "b", core::NodeExecution::FAILED);
  std::string long_message = std::string(99, 'x') + "\xC3\xA9" + std::string(50, 'y');  // é across byte 100
  failed.mutable_event()->mutable_error()->set_message(long_message);
  REQUIRE(client.Send(failed).ok());
  CHECK(client.MustGet("ls", "b").closure().error().message() == long_message);

  auto req = ListRequest("ls");
  req.mutable_sort_by()->set_key("node_id");
  req.mutable_sort_by()->set_direction(admin::Sort::ASCENDING);
  admin::NodeExecutionList list;
  REQUIRE(client.List(req, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"a", "b", "c"});
  CHECK(list.token().empty());
  CHECK(list.node_executions(1).closure().error().message() == std::string(99, 'x'));
  CHECK(list.node_executions(0).metadata().is_parent_node());  // version 1 rows: inferred in lists too
  CHECK(list.node_executions(2).metadata().is_parent_node());
  CHECK_FALSE(list.node_executions(2).metadata().is_dynamic());
  // Get infers only for event_version 0 rows, as upstream.
  CHECK_FALSE(client.MustGet("ls", "a").metadata().is_parent_node());
  CHECK(client.MustGet("ls", "c").metadata().is_parent_node());

  req.set_unique_parent_id("a");
  req.mutable_sort_by()->set_direction(admin::Sort::DESCENDING);
  REQUIRE(client.List(req, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"a-1", "a-0"});
  // Children that launched nothing are no parents; list entries carry what the event gave.
  for (const auto& child : list.node_executions()) {
    CHECK_FALSE(child.metadata().is_parent_node());
    CHECK(child.closure().phase() == core::NodeExecution::RUNNING);
    CHECK(child.closure().started_at().seconds() == 1700000000);
  }
  CHECK_FALSE(client.MustGet("ls", "a-0").metadata().is_parent_node());
  req.set_unique_parent_id("ghost");
  auto ghost = client.List(req, &list);
  CHECK(ghost.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(ghost.error_message() == "missing entity of type node execution with identifier " + IdText("ls", "ghost"));

  req = ListRequest("ls", 2);
  req.mutable_sort_by()->set_key("node_id");
  req.mutable_sort_by()->set_direction(admin::Sort::ASCENDING);
  REQUIRE(client.List(req, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"a", "b"});
  CHECK(list.token() == "2");
  req.set_token(list.token());
  REQUIRE(client.List(req, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"c"});
  CHECK(list.token().empty());

  req = ListRequest("ls");
  req.set_filters("eq(phase,RUNNING)");
  REQUIRE(client.List(req, &list).ok());
  CHECK(NodeIds(list).size() == 2);
  req.set_filters("eq(execution.phase,RUNNING)+eq(node_id,c)");
  REQUIRE(client.List(req, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"c"});

  auto bad = ListRequest("ls");
  bad.set_token("x");
  auto s = client.List(bad, &list);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "invalid pagination token x for ListNodeExecutions");
  bad = ListRequest("ls");
  bad.mutable_sort_by()->set_key("nope");
  s = client.List(bad, &list);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "invalid sort key 'nope'");
  bad = ListRequest("ls");
  bad.set_filters("eq(nope,1)");
  s = client.List(bad, &list);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "'ne.nope' is invalid filter");
  bad = ListRequest("ls", 0);
  s = client.List(bad, &list);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "invalid value for limit");
  bad = ListRequest("ls");
  bad.mutable_workflow_execution_id()->clear_domain();
  s = client.List(bad, &list);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "missing execution_id");

  // REST.
  auto http = test::Http(server.served->http_port, "GET",
                         "/api/v1/node_executions/flytesnacks/development/ls?limit=10&unique_parent_id=a");
  REQUIRE(http.status == 200);
  CHECK(nlohmann::json::parse(http.body)["nodeExecutions"].size() == 2);
}

TEST_CASE("ListNodeExecutionsForTask lists the nodes a task execution launched", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  NodeServer server(backend);
  Client client{*server.stub};
  server.AddExecution("fortask");

  REQUIRE(client.Send(Event("fortask", "parent", core::NodeExecution::RUNNING)).ok());
  core::TaskExecutionIdentifier task;
  task.mutable_task_id()->set_resource_type(core::TASK);
  task.mutable_task_id()->set_project(kProject);
  task.mutable_task_id()->set_domain(kDomain);
  task.mutable_task_id()->set_name("map_task");
  task.mutable_task_id()->set_version("v1");
  *task.mutable_node_execution_id() = NodeId("fortask", "parent");
  server.AddTaskExecution(task);
  for (const char* child : {"parent-0", "parent-1", "parent-2"}) {
    auto req = Event("fortask", child, core::NodeExecution::RUNNING);
    *req.mutable_event()->mutable_parent_task_metadata()->mutable_id() = task;
    REQUIRE(client.Send(req).ok());
  }

  admin::NodeExecutionForTaskListRequest req;
  *req.mutable_task_execution_id() = task;
  req.set_limit(2);
  req.mutable_sort_by()->set_key("node_id");
  req.mutable_sort_by()->set_direction(admin::Sort::ASCENDING);
  admin::NodeExecutionList list;
  REQUIRE(client.ListForTask(req, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"parent-0", "parent-1"});
  CHECK(list.token() == "2");
  req.set_token("2");
  REQUIRE(client.ListForTask(req, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"parent-2"});

  // The top-level list leaves them out.
  admin::NodeExecutionList top;
  REQUIRE(client.List(ListRequest("fortask"), &top).ok());
  CHECK(NodeIds(top) == std::vector<std::string>{"parent"});

  auto bad = req;
  bad.set_token("-1");
  auto s = client.ListForTask(bad, &list);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "invalid pagination token -1 for ListNodeExecutions");
  bad = req;
  bad.mutable_task_execution_id()->set_retry_attempt(3);
  s = client.ListForTask(bad, &list);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message().rfind("missing entity of type task execution with identifier task_id:{", 0) == 0);
  bad = req;
  bad.set_limit(0);
  s = client.ListForTask(bad, &list);
  CHECK(s.error_message() == "invalid value for limit");
  bad = req;
  bad.clear_task_execution_id();
  s = client.ListForTask(bad, &list);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "missing id");
  bad = req;
  bad.mutable_task_execution_id()->mutable_node_execution_id()->clear_node_id();
  s = client.ListForTask(bad, &list);
  CHECK(s.error_message() == "missing node_id");

  // The console's REST route has no resource type segment: unspecified means TASK.
  bad = req;
  bad.mutable_task_execution_id()->mutable_task_id()->set_resource_type(core::UNSPECIFIED);
  bad.clear_token();
  REQUIRE(client.ListForTask(bad, &list).ok());
  CHECK(NodeIds(list) == std::vector<std::string>{"parent-0", "parent-1"});
  auto http = test::Http(server.served->http_port, "GET",
                         "/api/v1/children/task_executions/flytesnacks/development/fortask/parent/"
                         "flytesnacks/development/map_task/v1/0?limit=10");
  INFO(http.body);
  REQUIRE(http.status == 200);
  CHECK(nlohmann::json::parse(http.body)["nodeExecutions"].size() == 3);
  http = test::Http(server.served->http_port, "GET",
                    "/api/v1/children/task_executions/flytesnacks/development/fortask/parent/"
                    "flytesnacks/development/map_task/v1/7?limit=10");
  CHECK(http.status == 404);
}

TEST_CASE("Node execution reads of a missing node answer upstream's NOT_FOUND", "[e2e]") {
  NodeServer server("sqlite");
  Client client{*server.stub};
  admin::NodeExecution node;
  auto s = client.Get(NodeId("none", "x"), &node);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(s.error_message() == "missing entity of type node execution with identifier " + IdText("none", "x"));
  admin::NodeExecutionGetDataResponse data;
  s = client.Data(NodeId("none", "x"), &data);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  admin::DynamicNodeWorkflowResponse dyn;
  s = client.Dynamic(NodeId("none", "x"), &dyn);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  auto http = test::Http(server.served->http_port, "GET", "/api/v1/node_executions/flytesnacks/development/none/x");
  CHECK(http.status == 404);
}
