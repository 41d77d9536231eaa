// Task events and task execution reads on the built server, and GetExecutionMetrics over a small
// execution tree, on SQLite and PostgreSQL. Executions and node executions are not created over
// the API here: the test writes their rows straight into the server's database, as the
// execution and node event handlers would have.
#include <google/rpc/status.pb.h>
#include <unistd.h>

#include <atomic>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "identifiers.h"
#include "registration_client.h"
#include "served_server.h"
#include "test_support.h"

namespace test = flyte::test;
namespace fcore = flyte::core;
using flyteidl::service::AdminService;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace event = flyteidl::event;
namespace pdb = flyte::plugin::db;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";
constexpr int64_t kEpoch = 1700000000;

const std::string kPlugins =
    "    - name: flyte_manager_task_execution\n"
    "    - name: flyte_manager_metrics\n";

google::protobuf::Timestamp At(int64_t second, int32_t nanos = 0) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(kEpoch + second);
  ts.set_nanos(nanos);
  return ts;
}

// A server with the plugins under test and a handle on its database.
class TaskServer {
 public:
  TaskServer(const std::string& backend, std::vector<std::string> layers = {},
             const std::string& extra_plugins = "")
      : served_(kPlugins + extra_plugins, WithBackend(backend, layers)),
        stub(AdminService::NewStub(served_.channel())) {
    // test::ServerConfigYaml's layout: one directory per server, named by its gRPC port.
    dir_ = std::filesystem::temp_directory_path() /
           ("flyteadmin-test-" + std::to_string(::getpid())) /
           ("server-" + std::to_string(served_.grpc_port));
    std::string yaml = pg_layer_;
    if (yaml.empty())
      yaml = "database:\n  sqlite:\n    file: \"" + (dir_ / "admin.db").string() + "\"\n";
    auto config = fcore::Config::FromDocuments(
        {yaml}, [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
    REQUIRE(config.ok());
    auto opened = fcore::db::OpenDatabase(*config);
    if (!opened.ok()) FAIL("OpenDatabase: " << opened.status().ToString());
    db_ = *opened;
  }

  pdb::Repositories& repos() { return *db_->Repositories(); }
  int http_port() const { return served_.http_port; }
  // The server's storage container (storage.type local, container "bucket"), as the path and as
  // the file:// URI the server's object store names objects by.
  std::filesystem::path container() const { return dir_ / "storage" / "bucket"; }
  std::string container_uri() const { return "file://" + container().string(); }

 private:
  std::vector<std::string> WithBackend(const std::string& backend,
                                       std::vector<std::string> layers) {
    if (backend == "postgres") {
      pg_layer_ = test::PostgresLayer("e2e_te_" + std::to_string(test::FreePort()));
      layers.insert(layers.begin(), pg_layer_);
    }
    return layers;
  }

  std::string pg_layer_;
  test::ServedServer served_;
  std::filesystem::path dir_;
  std::shared_ptr<fcore::db::Database> db_;

 public:
  std::unique_ptr<AdminService::Stub> stub;
};

void SeedExecution(pdb::Repositories& repos, const std::string& name, const std::string& cluster,
                   const admin::ExecutionClosure& closure = {}) {
  pdb::ExecutionModel e;
  e.key = {kProject, kDomain, name};
  e.phase = "RUNNING";
  e.closure = closure.SerializeAsString();
  e.spec = admin::ExecutionSpec().SerializeAsString();
  e.cluster = cluster;
  e.launch_entity = "launch_plan";
  REQUIRE(repos.Executions().Create(e, {}).ok());
}

void SeedNode(pdb::Repositories& repos, const std::string& execution, const std::string& node_id,
              const admin::NodeExecutionClosure& closure = {},
              std::optional<int64_t> parent_task_execution = {},
              std::optional<int64_t> parent_node = {}) {
  pdb::NodeExecutionModel n;
  n.key = {{kProject, kDomain, execution}, node_id};
  n.phase = core::NodeExecution::Phase_Name(closure.phase());
  n.closure = closure.SerializeAsString();
  admin::NodeExecutionMetaData metadata;
  metadata.set_spec_node_id(node_id);
  n.node_execution_metadata = metadata.SerializeAsString();
  n.parent_task_execution_id = parent_task_execution;
  n.parent_id = parent_node;
  n.internal_data = "";
  auto s = repos.NodeExecutions().Create(n, std::nullopt);
  if (!s.ok()) FAIL(s.ToString());
}

core::Identifier TaskId(const std::string& name = "t1") {
  core::Identifier id;
  id.set_resource_type(core::TASK);
  id.set_project(kProject);
  id.set_domain(kDomain);
  id.set_name(name);
  id.set_version("v1");
  return id;
}

core::NodeExecutionIdentifier NodeId(const std::string& execution, const std::string& node) {
  return test::NodeExecutionId(kProject, kDomain, execution, node);
}

core::TaskExecutionIdentifier TaskExecId(const std::string& execution, const std::string& node,
                                         uint32_t retry, const std::string& task = "t1") {
  core::TaskExecutionIdentifier id;
  *id.mutable_task_id() = TaskId(task);
  *id.mutable_node_execution_id() = NodeId(execution, node);
  id.set_retry_attempt(retry);
  return id;
}

admin::TaskExecutionEventRequest Event(const std::string& execution, const std::string& node,
                                       uint32_t retry, core::TaskExecution::Phase phase,
                                       int64_t second, uint32_t version = 0,
                                       const std::string& task = "t1") {
  admin::TaskExecutionEventRequest request;
  request.set_request_id("req");
  auto* e = request.mutable_event();
  *e->mutable_task_id() = TaskId(task);
  *e->mutable_parent_node_execution_id() = NodeId(execution, node);
  e->set_retry_attempt(retry);
  e->set_phase(phase);
  e->set_phase_version(version);
  e->set_producer_id("propeller");
  *e->mutable_occurred_at() = At(second);
  e->set_task_type("python-task");
  e->set_event_version(1);
  return request;
}

core::TaskLog Log(const std::string& name, const std::string& uri, bool pending = false,
                  bool hide = false) {
  core::TaskLog log;
  log.set_name(name);
  log.set_uri(uri);
  log.set_showwhilepending(pending);
  log.set_hideoncefinished(hide);
  return log;
}

core::LiteralMap Literals(const std::string& key, const std::string& value) {
  core::LiteralMap map;
  (*map.mutable_literals())[key].mutable_scalar()->mutable_primitive()->set_string_value(value);
  return map;
}

std::vector<std::string> LogNames(const admin::TaskExecution& t) {
  std::vector<std::string> names;
  for (const auto& l : t.closure().logs()) names.push_back(l.name());
  return names;
}

// The ids as upstream prints them (Go String() of the messages).
std::string ExecIdText(const std::string& execution) {
  return std::string("execution_id:{project:\"") + kProject + "\" domain:\"" + kDomain +
         "\" name:\"" + execution + "\"}";
}
std::string TaskExecIdText(const std::string& execution, const std::string& node, uint32_t retry) {
  std::string text = std::string("task_id:{resource_type:TASK project:\"") + kProject +
                     "\" domain:\"" + kDomain +
                     "\" name:\"t1\" version:\"v1\"} node_execution_id:{node_id:\"" + node + "\" " +
                     ExecIdText(execution) + "}";
  if (retry != 0) text += " retry_attempt:" + std::to_string(retry);
  return text;
}

struct Client {
  AdminService::Stub& stub;

  grpc::Status Send(const admin::TaskExecutionEventRequest& request) {
    grpc::ClientContext ctx;
    admin::TaskExecutionEventResponse response;
    return stub.CreateTaskEvent(&ctx, request, &response);
  }
  admin::TaskExecution Get(const core::TaskExecutionIdentifier& id) {
    admin::TaskExecution out;
    auto s = Get(id, out);
    if (!s.ok()) FAIL("GetTaskExecution: " << s.error_message());
    return out;
  }
  grpc::Status Get(const core::TaskExecutionIdentifier& id, admin::TaskExecution& out) {
    grpc::ClientContext ctx;
    admin::TaskExecutionGetRequest request;
    *request.mutable_id() = id;
    return stub.GetTaskExecution(&ctx, request, &out);
  }
  grpc::Status List(const admin::TaskExecutionListRequest& request, admin::TaskExecutionList& out) {
    grpc::ClientContext ctx;
    return stub.ListTaskExecutions(&ctx, request, &out);
  }
  grpc::Status Data(const core::TaskExecutionIdentifier& id,
                    admin::TaskExecutionGetDataResponse& out) {
    grpc::ClientContext ctx;
    admin::TaskExecutionGetDataRequest request;
    *request.mutable_id() = id;
    return stub.GetTaskExecutionData(&ctx, request, &out);
  }
  grpc::Status Metrics(const std::string& execution, int depth,
                       admin::WorkflowExecutionGetMetricsResponse& out) {
    grpc::ClientContext ctx;
    admin::WorkflowExecutionGetMetricsRequest request;
    request.mutable_id()->set_project(kProject);
    request.mutable_id()->set_domain(kDomain);
    request.mutable_id()->set_name(execution);
    request.set_depth(depth);
    return stub.GetExecutionMetrics(&ctx, request, &out);
  }
};

admin::TaskExecutionListRequest ListRequest(const std::string& execution, const std::string& node,
                                            uint32_t limit, const std::string& filters = "") {
  admin::TaskExecutionListRequest request;
  *request.mutable_node_execution_id() = NodeId(execution, node);
  request.set_limit(limit);
  request.set_filters(filters);
  return request;
}

// The single admin.EventFailureReason detail of a status.
admin::EventFailureReason FailureReason(const grpc::Status& s) {
  google::rpc::Status rpc;
  REQUIRE(rpc.ParseFromString(s.error_details()));
  REQUIRE(rpc.details_size() == 1);
  admin::EventFailureReason reason;
  REQUIRE(rpc.details(0).UnpackTo(&reason));
  return reason;
}

void CheckError(const grpc::Status& s, grpc::StatusCode code, const std::string& message) {
  CHECK(s.error_code() == code);
  CHECK(s.error_message() == message);
}

int64_t Nanos(const google::protobuf::Duration& d) { return d.seconds() * 1000000000 + d.nanos(); }

}  // namespace

TEST_CASE("Task events are validated and need their execution and node execution", "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  TaskServer server(backend);
  Client c{*server.stub};
  SeedExecution(server.repos(), "exec1", "c1");
  SeedNode(server.repos(), "exec1", "n0");

  admin::TaskExecutionEventRequest empty;
  CheckError(c.Send(empty), grpc::StatusCode::INVALID_ARGUMENT, "missing event");
  auto no_time = Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1);
  no_time.mutable_event()->clear_occurred_at();
  CheckError(c.Send(no_time), grpc::StatusCode::INVALID_ARGUMENT, "missing occurred_at");
  auto no_node = Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1);
  no_node.mutable_event()->clear_parent_node_execution_id();
  CheckError(c.Send(no_node), grpc::StatusCode::INVALID_ARGUMENT, "missing node_execution_id");
  auto no_node_id = Event("exec1", "", 0, core::TaskExecution::QUEUED, 1);
  CheckError(c.Send(no_node_id), grpc::StatusCode::INVALID_ARGUMENT, "missing node_id");
  auto no_task = Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1);
  no_task.mutable_event()->clear_task_id();
  CheckError(c.Send(no_task), grpc::StatusCode::INVALID_ARGUMENT, "missing task_id");
  auto wrong_type = Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1);
  wrong_type.mutable_event()->mutable_task_id()->set_resource_type(core::WORKFLOW);
  auto wrong = c.Send(wrong_type);
  CHECK(wrong.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(wrong.error_message().find("unexpected resource type workflow for identifier [") == 0);
  CHECK(wrong.error_message().find("], expected task instead") != std::string::npos);
  auto no_version = Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1);
  no_version.mutable_event()->mutable_task_id()->clear_version();
  CheckError(c.Send(no_version), grpc::StatusCode::INVALID_ARGUMENT, "missing version");

  // The parent workflow execution is loaded for the cluster check.
  CheckError(c.Send(Event("nope", "n0", 0, core::TaskExecution::QUEUED, 1)),
             grpc::StatusCode::NOT_FOUND,
             std::string("missing entity of type execution with identifier project:\"") + kProject +
                 "\" domain:\"" + kDomain + "\" name:\"nope\"");
  // An event from another cluster is refused with the incompatible_cluster detail; propeller's
  // default producer id and the stored cluster pass.
  auto other = Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1);
  other.mutable_event()->set_producer_id("c2");
  auto refused = c.Send(other);
  CheckError(refused, grpc::StatusCode::FAILED_PRECONDITION,
             "Cluster/producer from event [c2] does not match existing workflow execution "
             "clusterInDB: [c1]");
  CHECK(FailureReason(refused).incompatible_cluster().cluster() == "c2");

  // The first event creates the row only when its node execution exists.
  CheckError(c.Send(Event("exec1", "nx", 0, core::TaskExecution::QUEUED, 1)),
             grpc::StatusCode::NOT_FOUND,
             "Failed to get existing node execution id: [node_id:\"nx\" " + ExecIdText("exec1") +
                 "] with err: entry not found");
  admin::TaskExecution missing;
  CheckError(
      c.Get(TaskExecId("exec1", "n0", 0), missing), grpc::StatusCode::NOT_FOUND,
      std::string("missing entity of type task execution with identifier task_id:{project:\"") +
          kProject + "\" domain:\"" + kDomain +
          "\" name:\"t1\" version:\"v1\"} node_execution_id:{node_id:\"n0\" " +
          ExecIdText("exec1") + "}");

  auto same_cluster = Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1);
  same_cluster.mutable_event()->set_producer_id("c1");
  REQUIRE(c.Send(same_cluster).ok());
  CHECK(c.Get(TaskExecId("exec1", "n0", 0)).closure().phase() == core::TaskExecution::QUEUED);
}

TEST_CASE("Task events create the attempt, then merge phase and phase_version updates as upstream",
          "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  TaskServer server(backend);
  Client c{*server.stub};
  SeedExecution(server.repos(), "exec1", "");
  SeedNode(server.repos(), "exec1", "n0");
  const auto id = TaskExecId("exec1", "n0", 0);

  // First event: QUEUED with inline inputs (always offloaded), logs, a legacy reason, custom info.
  auto queued = Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1);
  *queued.mutable_event()->mutable_reported_at() = At(2);
  *queued.mutable_event()->mutable_input_data() = Literals("x", "in");
  *queued.mutable_event()->add_logs() = Log("pending", "u-pending", true);
  *queued.mutable_event()->add_logs() = Log("k8s", "u-k8s");
  queued.mutable_event()->set_reason("waiting");
  (*queued.mutable_event()->mutable_custom_info()->mutable_fields())["keep"].set_string_value("me");
  (*queued.mutable_event()->mutable_custom_info()->mutable_fields())["drop"].set_number_value(1);
  auto* resources = queued.mutable_event()->mutable_metadata()->mutable_external_resources();
  resources->Add()->set_index(2);
  resources->Add()->set_index(0);
  queued.mutable_event()->mutable_metadata()->set_generated_name("gen-0");
  REQUIRE(c.Send(queued).ok());

  auto got = c.Get(id);
  CHECK(got.id().task_id().resource_type() == core::TASK);
  CHECK(got.id().SerializeAsString() == id.SerializeAsString());
  CHECK_FALSE(got.is_parent());
  const std::string prefix =
      "metadata/flytesnacks/development/exec1/n0/flytesnacks/development/t1/v1/0/";
  CHECK(got.input_uri().size() > prefix.size());
  CHECK(got.input_uri().substr(got.input_uri().size() - prefix.size() - 16) ==
        prefix + "offloaded_inputs");
  const auto& closure = got.closure();
  CHECK(closure.phase() == core::TaskExecution::QUEUED);
  CHECK(closure.created_at().seconds() == kEpoch + 1);
  CHECK(closure.updated_at().seconds() == kEpoch + 2);
  CHECK_FALSE(closure.has_started_at());
  CHECK(LogNames(got) == std::vector<std::string>{"pending", "k8s"});  // not filtered on creation
  CHECK(closure.reason() == "waiting");
  REQUIRE(closure.reasons_size() == 1);
  CHECK(closure.reasons(0).message() == "waiting");
  CHECK(closure.reasons(0).occurred_at().seconds() == kEpoch + 1);
  CHECK(closure.task_type() == "python-task");
  CHECK(closure.event_version() == 1);
  REQUIRE(closure.metadata().external_resources_size() == 2);
  CHECK(closure.metadata().external_resources(0).index() == 0);  // sorted on creation
  CHECK(closure.metadata().external_resources(1).index() == 2);

  // The same phase and version again is a duplicate.
  CheckError(c.Send(queued), grpc::StatusCode::ALREADY_EXISTS,
             "have already recorded task execution phase QUEUED (version: 0) for " +
                 TaskExecIdText("exec1", "n0", 0));

  // RUNNING: started_at, reasons appended, logs merged (latest first), custom info merge patch,
  // external resources merged by (index, retry_attempt).
  auto running = Event("exec1", "n0", 0, core::TaskExecution::RUNNING, 10);
  *running.mutable_event()->add_logs() = Log("k8s", "u-k8s-2");
  *running.mutable_event()->add_logs() = Log("final", "u-final", false, true);
  auto* r1 = running.mutable_event()->add_reasons();
  r1->set_reason("pulling");
  *r1->mutable_occurred_at() = At(8);
  auto* r2 = running.mutable_event()->add_reasons();
  r2->set_reason("started");
  *r2->mutable_occurred_at() = At(9);
  auto& fields = *running.mutable_event()->mutable_custom_info()->mutable_fields();
  fields["drop"].set_null_value(google::protobuf::NULL_VALUE);
  fields["new"].set_bool_value(true);
  auto* er = running.mutable_event()->mutable_metadata()->add_external_resources();
  er->set_index(2);
  er->set_external_id("job-2");
  er->set_phase(core::TaskExecution::RUNNING);
  running.mutable_event()->mutable_metadata()->add_external_resources()->set_index(1);
  REQUIRE(c.Send(running).ok());
  got = c.Get(id);
  CHECK(got.closure().phase() == core::TaskExecution::RUNNING);
  CHECK(got.closure().started_at().seconds() == kEpoch + 10);
  CHECK(LogNames(got) == std::vector<std::string>{"k8s", "final", "pending"});
  CHECK(got.closure().logs(0).uri() == "u-k8s-2");
  REQUIRE(got.closure().reasons_size() == 3);
  CHECK(got.closure().reasons(2).message() == "started");
  CHECK(got.closure().reason() == "started");
  const auto& custom = got.closure().custom_info().fields();
  CHECK(custom.count("drop") == 0);
  CHECK(custom.at("keep").string_value() == "me");
  CHECK(custom.at("new").bool_value());
  const auto& ers = got.closure().metadata().external_resources();
  REQUIRE(ers.size() == 3);
  CHECK(ers.Get(0).index() == 0);
  CHECK(ers.Get(1).index() == 1);
  CHECK(ers.Get(2).index() == 2);
  CHECK(ers.Get(2).external_id() == "job-2");
  CHECK(got.closure().metadata().generated_name() == "gen-0");

  // Custom info protojson cannot write (a NaN) fails the merge as upstream's: INTERNAL, and
  // nothing of the event is stored.
  auto unwritable = Event("exec1", "n0", 0, core::TaskExecution::RUNNING, 11);
  unwritable.mutable_event()->set_phase_version(7);
  (*unwritable.mutable_event()->mutable_custom_info()->mutable_fields())["x"].set_number_value(std::nan(""));
  CheckError(c.Send(unwritable), grpc::StatusCode::INTERNAL,
             "failed to merge task event custom_info with error: proto: google.protobuf.Value.number_value: "
             "invalid NaN value");
  CHECK(c.Get(id).closure().updated_at().seconds() == got.closure().updated_at().seconds());
  CHECK(c.Get(id).closure().custom_info().fields().count("x") == 0);

  // A higher phase_version of the same phase updates; the same or a lower one is a duplicate.
  auto v2 = Event("exec1", "n0", 0, core::TaskExecution::RUNNING, 11, 2);
  *v2.mutable_event()->add_logs() = Log("v2", "u-v2");
  v2.mutable_event()->set_reason("progress");
  REQUIRE(c.Send(v2).ok());
  CHECK(LogNames(c.Get(id)).front() == "v2");
  CheckError(c.Send(v2), grpc::StatusCode::ALREADY_EXISTS,
             "have already recorded task execution phase RUNNING (version: 2) for " +
                 TaskExecIdText("exec1", "n0", 0));
  CHECK(c.Send(Event("exec1", "n0", 0, core::TaskExecution::RUNNING, 12, 1)).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);
  admin::TaskExecutionList list;
  REQUIRE(c.List(ListRequest("exec1", "n0", 10, "eq(phase_version,2)"), list).ok());
  CHECK(list.task_executions_size() == 1);

  // Out of order: a QUEUED event after RUNNING is applied (no ordering by occurred_at); logs
  // are filtered for QUEUED, started_at stays, and its phase_version 0 is not written.
  REQUIRE(c.Send(Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 5)).ok());
  got = c.Get(id);
  CHECK(got.closure().phase() == core::TaskExecution::QUEUED);
  CHECK(LogNames(got) == std::vector<std::string>{"pending"});
  CHECK(got.closure().started_at().seconds() == kEpoch + 10);
  REQUIRE(c.List(ListRequest("exec1", "n0", 10, "eq(phase_version,2)"), list).ok());
  CHECK(list.task_executions_size() == 1);
  CHECK(c.Send(Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 6, 1)).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);  // stored version 2 >= 1

  // Terminal: outputs offloaded, duration from started_at, hide_once_finished logs dropped.
  auto done = Event("exec1", "n0", 0, core::TaskExecution::SUCCEEDED, 30, 0);
  *done.mutable_event()->mutable_output_data() = Literals("y", "out");
  *done.mutable_event()->add_logs() = Log("final", "u-final", false, true);
  *done.mutable_event()->add_logs() = Log("k8s", "u-k8s-3");
  REQUIRE(c.Send(done).ok());
  got = c.Get(id);
  CHECK(got.closure().phase() == core::TaskExecution::SUCCEEDED);
  CHECK(Nanos(got.closure().duration()) == 20 * 1000000000LL);
  CHECK(LogNames(got) == std::vector<std::string>{"k8s", "pending"});
  const std::string out_uri = got.closure().output_uri();
  CHECK(out_uri.size() > prefix.size() + 17);
  CHECK(out_uri.substr(out_uri.size() - prefix.size() - 17) == prefix + "offloaded_outputs");

  admin::TaskExecutionGetDataResponse data;
  REQUIRE(c.Data(id, data).ok());
  CHECK(data.full_inputs().literals().at("x").scalar().primitive().string_value() == "in");
  CHECK(data.full_outputs().literals().at("y").scalar().primitive().string_value() == "out");
  CHECK(data.flyte_urls().inputs() == "flyte://v1/flytesnacks/development/exec1/n0/0/i");
  CHECK(data.flyte_urls().outputs() == "flyte://v1/flytesnacks/development/exec1/n0/0/o");
  CHECK(data.flyte_urls().deck().empty());
  // Without signed URLs (the default) the URL blobs stay empty, as upstream's test reads them.
  CHECK(data.inputs().url().empty());
  CHECK(data.inputs().bytes() == 0);
  CHECK(data.outputs().url().empty());
  CHECK(data.outputs().bytes() == 0);

  // A duplicate terminal event is ALREADY_EXISTS; anything else after it is refused with the
  // already_in_terminal_state detail naming the event's phase (upstream's quirk).
  CHECK(c.Send(done).error_code() == grpc::StatusCode::ALREADY_EXISTS);
  auto late = c.Send(Event("exec1", "n0", 0, core::TaskExecution::RUNNING, 40, 7));
  CheckError(late, grpc::StatusCode::FAILED_PRECONDITION,
             "invalid phase change from SUCCEEDED to RUNNING for task execution " +
                 TaskExecIdText("exec1", "n0", 0));
  CHECK(FailureReason(late).already_in_terminal_state().current_phase() == "RUNNING");
  CHECK(c.Get(id).closure().phase() == core::TaskExecution::SUCCEEDED);
}

TEST_CASE("A terminal first task event creates the attempt and stamps its updated_at", "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  TaskServer server(backend);
  Client c{*server.stub};
  SeedExecution(server.repos(), "exec2", "");
  SeedNode(server.repos(), "exec2", "n0");
  SeedNode(server.repos(), "exec2", "n1");

  // As upstream's integration tests send them: the attempt's first event is already terminal.
  auto succeeded = Event("exec2", "n0", 0, core::TaskExecution::SUCCEEDED, 5);
  succeeded.mutable_event()->set_output_uri("s3://bucket/outputs.pb");
  REQUIRE(c.Send(succeeded).ok());
  auto done = c.Get(TaskExecId("exec2", "n0", 0));
  CHECK(done.closure().phase() == core::TaskExecution::SUCCEEDED);
  CHECK(done.closure().created_at().seconds() == kEpoch + 5);
  CHECK(done.closure().updated_at().seconds() == kEpoch + 5);
  CHECK(done.closure().output_uri() == "s3://bucket/outputs.pb");

  auto failed = Event("exec2", "n1", 0, core::TaskExecution::FAILED, 7);
  failed.mutable_event()->mutable_error()->set_code("USER:Boom");
  failed.mutable_event()->mutable_error()->set_message("it broke");
  REQUIRE(c.Send(failed).ok());
  auto broke = c.Get(TaskExecId("exec2", "n1", 0));
  CHECK(broke.closure().phase() == core::TaskExecution::FAILED);
  CHECK(broke.closure().updated_at().seconds() == kEpoch + 7);
  CHECK(broke.closure().error().code() == "USER:Boom");

  // Nothing moves them afterwards; a later terminal event on a new attempt is its own row.
  auto late = Event("exec2", "n0", 0, core::TaskExecution::RUNNING, 9);
  auto refused = c.Send(late);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  // Upstream names the event's phase as the "current" one here (task events only).
  CHECK(FailureReason(refused).already_in_terminal_state().current_phase() == "RUNNING");
  CHECK(c.Get(TaskExecId("exec2", "n0", 0)).closure().updated_at().seconds() == kEpoch + 5);
  auto retry = Event("exec2", "n1", 1, core::TaskExecution::SUCCEEDED, 11);
  REQUIRE(c.Send(retry).ok());
  CHECK(c.Get(TaskExecId("exec2", "n1", 1)).closure().updated_at().seconds() == kEpoch + 11);
  CHECK(c.Get(TaskExecId("exec2", "n1", 0)).closure().phase() == core::TaskExecution::FAILED);
}

TEST_CASE("Task event payload policy: offloaded or inline outputs, and the size limit", "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  TaskServer server(
      backend, {"remoteData:\n  maxSizeInBytes: 1000\n  inlineEventDataPolicy: StoreInline\n"});
  Client c{*server.stub};
  SeedExecution(server.repos(), "exec1", "");
  SeedNode(server.repos(), "exec1", "n0");

  auto too_big = Event("exec1", "n0", 0, core::TaskExecution::SUCCEEDED, 3);
  *too_big.mutable_event()->mutable_output_data() = Literals("y", std::string(2000, 'z'));
  const auto size = too_big.event().output_data().ByteSizeLong();
  CheckError(c.Send(too_big), grpc::StatusCode::RESOURCE_EXHAUSTED,
             "Output data size exceeds platform configured threshold (" + std::to_string(size) +
                 " > 1000)");

  auto running = Event("exec1", "n0", 0, core::TaskExecution::RUNNING, 1);
  running.mutable_event()->set_input_uri("s3://bucket/given/inputs.pb");
  REQUIRE(c.Send(running).ok());
  auto done = Event("exec1", "n0", 0, core::TaskExecution::SUCCEEDED, 3);
  *done.mutable_event()->mutable_output_data() = Literals("y", "small");
  done.mutable_event()->set_input_uri("s3://bucket/other");  // inputs never change once set
  REQUIRE(c.Send(done).ok());
  auto got = c.Get(TaskExecId("exec1", "n0", 0));
  CHECK(got.input_uri() == "s3://bucket/given/inputs.pb");
  CHECK(got.closure().output_uri().empty());
  CHECK(got.closure().output_data().literals().at("y").scalar().primitive().string_value() ==
        "small");
  admin::TaskExecutionGetDataResponse data;
  REQUIRE(c.Data(TaskExecId("exec1", "n0", 0), data).ok());
  CHECK(data.full_outputs().literals().at("y").scalar().primitive().string_value() == "small");
  CHECK(data.full_inputs().literals().empty());  // the given input URI does not exist
}

TEST_CASE(
    "Task executions are listed by node execution with filters, pages, is_parent and full errors",
    "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  TaskServer server(backend);
  Client c{*server.stub};
  SeedExecution(server.repos(), "exec1", "");
  SeedNode(server.repos(), "exec1", "n0");
  SeedNode(server.repos(), "exec1", "n1");

  REQUIRE(c.Send(Event("exec1", "n0", 0, core::TaskExecution::RUNNING, 1)).ok());
  auto failed = Event("exec1", "n0", 0, core::TaskExecution::FAILED, 2);
  const std::string long_message(500, 'e');
  failed.mutable_event()->mutable_error()->set_message(long_message);
  failed.mutable_event()->mutable_error()->set_code("USER:Boom");
  REQUIRE(c.Send(failed).ok());
  REQUIRE(c.Send(Event("exec1", "n0", 1, core::TaskExecution::RUNNING, 3)).ok());
  REQUIRE(c.Send(Event("exec1", "n1", 0, core::TaskExecution::QUEUED, 4)).ok());

  admin::TaskExecutionList list;
  REQUIRE(c.List(ListRequest("exec1", "n0", 10), list).ok());
  CHECK(list.task_executions_size() == 2);
  CHECK(list.token().empty());
  bool saw_error = false;
  for (const auto& t : list.task_executions()) {
    CHECK(t.id().node_execution_id().node_id() == "n0");
    if (t.closure().has_error()) {
      CHECK(t.closure().error().message() == long_message);  // not trimmed
      saw_error = true;
    }
  }
  CHECK(saw_error);
  REQUIRE(c.List(ListRequest("exec1", "n0", 10, "eq(retry_attempt,1)"), list).ok());
  REQUIRE(list.task_executions_size() == 1);
  CHECK(list.task_executions(0).id().retry_attempt() == 1);
  // Upstream's own list filters: a qualified entity field, a space after the comma, value_in.
  REQUIRE(c.List(ListRequest("exec1", "n0", 10,
                             "eq(task_execution.retry_attempt, 0)+value_in(phase, RUNNING;FAILED)"),
                 list)
              .ok());
  REQUIRE(list.task_executions_size() == 1);
  CHECK(list.task_executions(0).closure().phase() == core::TaskExecution::FAILED);
  REQUIRE(c.List(ListRequest("exec1", "n0", 10, "value_in(phase, QUEUED)"), list).ok());
  CHECK(list.task_executions_size() == 0);
  auto paged = ListRequest("exec1", "n0", 1);
  paged.mutable_sort_by()->set_key("retry_attempt");
  paged.mutable_sort_by()->set_direction(admin::Sort::ASCENDING);
  REQUIRE(c.List(paged, list).ok());
  REQUIRE(list.task_executions_size() == 1);
  CHECK(list.task_executions(0).id().retry_attempt() == 0);
  CHECK(list.token() == "1");
  paged.set_token("1");
  REQUIRE(c.List(paged, list).ok());
  REQUIRE(list.task_executions_size() == 1);
  CHECK(list.task_executions(0).id().retry_attempt() == 1);

  CheckError(c.List(ListRequest("exec1", "n0", 0), list), grpc::StatusCode::INVALID_ARGUMENT,
             "invalid value for limit");
  auto bad_token = ListRequest("exec1", "n0", 1);
  bad_token.set_token("x");
  CheckError(c.List(bad_token, list), grpc::StatusCode::INVALID_ARGUMENT,
             "invalid pagination token x for ListTaskExecutions");
  admin::TaskExecutionListRequest no_node;
  no_node.set_limit(1);
  CheckError(c.List(no_node, list), grpc::StatusCode::INVALID_ARGUMENT, "missing id");
  CHECK(c.List(ListRequest("exec1", "n0", 10, "eq(bogus,1)"), list).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // A node execution launched by the attempt (e.g. a dynamic task's child) makes it a parent.
  auto row = server.repos().TaskExecutions().Get(
      {{kProject, kDomain, "t1", "v1"}, {{kProject, kDomain, "exec1"}, "n0"}, 1});
  REQUIRE(row.ok());
  CHECK_FALSE(c.Get(TaskExecId("exec1", "n0", 1)).is_parent());
  SeedNode(server.repos(), "exec1", "n0-0-dn0", {}, row->id);
  CHECK(c.Get(TaskExecId("exec1", "n0", 1)).is_parent());
  CHECK_FALSE(c.Get(TaskExecId("exec1", "n0", 0)).is_parent());
  REQUIRE(c.List(ListRequest("exec1", "n0", 10, "eq(retry_attempt,1)"), list).ok());
  CHECK(list.task_executions(0).is_parent());
}

TEST_CASE("Concurrent senders of one task execution lose no update", "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  TaskServer server(backend);
  Client c{*server.stub};
  SeedExecution(server.repos(), "exec1", "");
  SeedNode(server.repos(), "exec1", "n0");
  constexpr int kThreads = 6;
  constexpr int kPerThread = 5;

  // Concurrent first events: one creates the row, the others are duplicates of it.
  std::atomic<int> created{0}, duplicates{0}, other{0};
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        auto s = c.Send(Event("exec1", "n0", 0, core::TaskExecution::QUEUED, 1));
        if (s.ok()) {
          ++created;
        } else if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS &&
                   s.error_message().rfind("have already recorded task execution phase QUEUED",
                                           0) == 0) {
          ++duplicates;
        } else {
          ++other;
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  CHECK(created == 1);
  CHECK(duplicates == kThreads - 1);
  CHECK(other == 0);

  // Senders race RUNNING updates with rising versions; every accepted event's log must survive
  // the merge, and the stored version is the highest accepted one.
  std::mutex mu;
  std::set<std::string> accepted_logs;
  uint32_t max_accepted = 0;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const uint32_t version = static_cast<uint32_t>(1 + i * kThreads + t);
        auto request = Event("exec1", "n0", 0, core::TaskExecution::RUNNING, 10 + version, version);
        const std::string name = "log-" + std::to_string(version);
        *request.mutable_event()->add_logs() = Log(name, "u-" + name);
        auto s = c.Send(request);
        std::lock_guard lock(mu);
        if (s.ok()) {
          accepted_logs.insert(name);
          max_accepted = std::max(max_accepted, version);
        } else if (s.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  REQUIRE_FALSE(accepted_logs.empty());
  auto got = c.Get(TaskExecId("exec1", "n0", 0));
  std::set<std::string> stored;
  for (const auto& name : LogNames(got)) stored.insert(name);
  CHECK(stored == accepted_logs);
  admin::TaskExecutionList list;
  REQUIRE(c.List(ListRequest("exec1", "n0", 10,
                             "eq(phase_version," + std::to_string(max_accepted) + ")"),
                 list)
              .ok());
  CHECK(list.task_executions_size() == 1);
}

TEST_CASE("Task executions are served over REST in the gateway's JSON shape", "[e2e]") {
  TaskServer server("sqlite");
  SeedExecution(server.repos(), "exec1", "");
  SeedNode(server.repos(), "exec1", "n0");
  const std::vector<std::pair<std::string, std::string>> json{{"Accept", "application/json"},
                                                              {"Content-Type", "application/json"}};
  auto http = [&](const std::string& method, const std::string& target,
                  const std::string& body = "") {
    return test::Http(server.http_port(), method, target, body, json);
  };

  auto posted = http("POST", "/api/v1/events/tasks", R"({"request_id": "r1", "event": {
      "task_id": {"resource_type": "TASK", "project": "flytesnacks", "domain": "development", "name": "t1", "version": "v1"},
      "parent_node_execution_id": {"node_id": "n0", "execution_id": {"project": "flytesnacks", "domain": "development", "name": "exec1"}},
      "retry_attempt": 2, "phase": "RUNNING", "occurred_at": "2023-11-14T22:13:30Z",
      "logs": [{"name": "k8s", "uri": "https://logs/1"}], "task_type": "python-task"}})");
  INFO(posted.body);
  REQUIRE(posted.status == 200);

  auto got = http(
      "GET",
      "/api/v1/task_executions/flytesnacks/development/exec1/n0/flytesnacks/development/t1/v1/2");
  INFO(got.body);
  REQUIRE(got.status == 200);
  auto body = nlohmann::json::parse(got.body);
  CHECK(body["id"]["task_id"]["resource_type"] == "TASK");
  CHECK(body["id"]["task_id"]["name"] == "t1");
  CHECK(body["id"]["node_execution_id"]["node_id"] == "n0");
  CHECK(body["id"]["node_execution_id"]["execution_id"]["name"] == "exec1");
  CHECK(body["id"]["retry_attempt"] == 2);
  CHECK(body["closure"]["phase"] == "RUNNING");
  CHECK(body["closure"]["started_at"] == "2023-11-14T22:13:30Z");
  CHECK(body["closure"]["created_at"] == "2023-11-14T22:13:30Z");
  CHECK(body["closure"]["logs"][0]["uri"] == "https://logs/1");
  CHECK(body["closure"]["task_type"] == "python-task");
  CHECK(body["is_parent"] == false);

  auto listed = http("GET", "/api/v1/task_executions/flytesnacks/development/exec1/n0?limit=5");
  REQUIRE(listed.status == 200);
  CHECK(nlohmann::json::parse(listed.body)["task_executions"].size() == 1);

  auto data = http("GET",
                   "/api/v1/data/task_executions/flytesnacks/development/exec1/n0/flytesnacks/"
                   "development/t1/v1/2");
  REQUIRE(data.status == 200);
  CHECK(nlohmann::json::parse(data.body)["flyte_urls"]["inputs"] ==
        "flyte://v1/flytesnacks/development/exec1/n0/2/i");

  auto missing = http(
      "GET",
      "/api/v1/task_executions/flytesnacks/development/exec1/n0/flytesnacks/development/t1/v1/3");
  CHECK(missing.status == 404);
}

namespace {

admin::NodeExecutionClosure NodeClosure(int64_t created, int64_t updated) {
  admin::NodeExecutionClosure closure;
  closure.set_phase(core::NodeExecution::SUCCEEDED);
  *closure.mutable_created_at() = At(created);
  *closure.mutable_updated_at() = At(updated);
  return closure;
}

// A span as "NAME[start,end]" (seconds after kEpoch) with its children, for comparisons.
std::string Describe(const core::Span& span) {
  std::string name;
  switch (span.id_case()) {
    case core::Span::kWorkflowId:
      name = "wf:" + span.workflow_id().name();
      break;
    case core::Span::kNodeId:
      name = "node:" + span.node_id().node_id();
      break;
    case core::Span::kTaskId:
      name = "task:" + std::to_string(span.task_id().retry_attempt());
      break;
    case core::Span::kOperationId:
      name = span.operation_id();
      break;
    default:
      name = "?";
  }
  name += "[" + std::to_string(span.start_time().seconds() - kEpoch) + "," +
          std::to_string(span.end_time().seconds() - kEpoch) + "]";
  if (span.spans_size() > 0) {
    name += "{";
    for (int i = 0; i < span.spans_size(); ++i) name += (i ? " " : "") + Describe(span.spans(i));
    name += "}";
  }
  return name;
}

}  // namespace

TEST_CASE("GetExecutionMetrics breaks an execution down into node, task and overhead spans",
          "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  TaskServer server(backend, {},
                    "    - name: flyte_manager_project\n"
                    "    - name: flyte_manager_task\n"
                    "    - name: flyte_manager_workflow\n");
  Client c{*server.stub};

  // The workflow the execution ran: basic_workflow.my_wf (start -> n0 -> n1 -> end, n1 also
  // after start) from the flytesnacks package.
  test::Target target{kProject, kDomain, "v1"};
  for (auto& entry : test::ReadPackage(test::FlytesnacksCoreDir())) {
    if (entry.file.find("basic_workflow") == std::string::npos) continue;
    if (std::holds_alternative<admin::LaunchPlan>(entry.spec)) continue;
    test::Hydrate(entry, target);
    auto r = test::Register(*server.stub, entry, target);
    INFO(r.file << ": " << r.message);
    REQUIRE(r.code == grpc::StatusCode::OK);
  }
  admin::ExecutionClosure closure;
  *closure.mutable_created_at() = At(0);
  *closure.mutable_updated_at() = At(100);
  auto* wf = closure.mutable_workflow_id();
  wf->set_resource_type(core::WORKFLOW);
  wf->set_project(kProject);
  wf->set_domain(kDomain);
  wf->set_name("core.flyte_basics.basic_workflow.my_wf");
  wf->set_version("v1");
  SeedExecution(server.repos(), "mx", "", closure);

  admin::WorkflowExecutionGetMetricsResponse metrics;
  // Not started yet: the whole execution is setup.
  REQUIRE(c.Metrics("mx", 3, metrics).ok());
  CHECK(Describe(metrics.span()) == "wf:mx[0,100]{WORKFLOW_SETUP[0,100]}");

  SeedNode(server.repos(), "mx", "start-node", NodeClosure(1, 2));
  SeedNode(server.repos(), "mx", "n0", NodeClosure(3, 40));
  SeedNode(server.repos(), "mx", "n1", NodeClosure(41, 90));
  SeedNode(server.repos(), "mx", "end-node", NodeClosure(91, 92));
  auto send = [&](const std::string& node, uint32_t retry, core::TaskExecution::Phase phase,
                  int64_t at) { REQUIRE(c.Send(Event("mx", node, retry, phase, at)).ok()); };
  send("n0", 0, core::TaskExecution::QUEUED, 5);
  send("n0", 0, core::TaskExecution::RUNNING, 10);
  send("n0", 0, core::TaskExecution::SUCCEEDED, 30);
  send("n1", 0, core::TaskExecution::QUEUED, 45);
  send("n1", 0, core::TaskExecution::RUNNING, 50);
  send("n1", 0, core::TaskExecution::FAILED, 60);
  send("n1", 1, core::TaskExecution::QUEUED, 65);
  send("n1", 1, core::TaskExecution::RUNNING, 70);

  REQUIRE(c.Metrics("mx", 10, metrics).ok());
  CHECK(
      Describe(metrics.span()) ==
      "wf:mx[0,100]{WORKFLOW_SETUP[0,2] "
      "node:n0[3,40]{NODE_TRANSITION[2,3] NODE_SETUP[3,5] "
      "task:0[5,30]{TASK_SETUP[5,10] TASK_RUNTIME[10,30] TASK_TEARDOWN[30,30]} "
      "NODE_TEARDOWN[30,40]} "
      "node:n1[41,90]{NODE_TRANSITION[40,41] NODE_SETUP[41,45] "
      "task:0[45,60]{TASK_SETUP[45,50] TASK_RUNTIME[50,60] TASK_TEARDOWN[60,60]} NODE_RESET[60,65] "
      "task:1[65,70]{TASK_SETUP[65,70] TASK_RUNTIME[70,70]} NODE_TEARDOWN[70,90]} "
      "WORKFLOW_TEARDOWN[90,100]}");
  CHECK(metrics.span().workflow_id().project() == kProject);
  CHECK(metrics.span().spans(1).node_id().execution_id().name() == "mx");
  CHECK(metrics.span().spans(1).spans(2).task_id().task_id().name() == "t1");

  // Depth limits the breakdown: at 2 the task attempts are not broken down, at 1 nodes only
  // keep their transitions, at 0 the execution has no children.
  REQUIRE(c.Metrics("mx", 2, metrics).ok());
  CHECK(Describe(metrics.span()) ==
        "wf:mx[0,100]{WORKFLOW_SETUP[0,2] "
        "node:n0[3,40]{NODE_TRANSITION[2,3] NODE_SETUP[3,5] NODE_TEARDOWN[30,40]} "
        "node:n1[41,90]{NODE_TRANSITION[40,41] NODE_SETUP[41,45] NODE_RESET[60,65] "
        "NODE_TEARDOWN[70,90]} "
        "WORKFLOW_TEARDOWN[90,100]}");
  REQUIRE(c.Metrics("mx", 1, metrics).ok());
  CHECK(Describe(metrics.span()) ==
        "wf:mx[0,100]{WORKFLOW_SETUP[0,2] node:n0[3,40]{NODE_TRANSITION[2,3]} "
        "node:n1[41,90]{NODE_TRANSITION[40,41]} "
        "WORKFLOW_TEARDOWN[90,100]}");
  REQUIRE(c.Metrics("mx", 0, metrics).ok());
  CHECK(Describe(metrics.span()) == "wf:mx[0,100]");

  // Errors: a missing execution, and a node the workflow does not define.
  CheckError(c.Metrics("nope", 1, metrics), grpc::StatusCode::NOT_FOUND,
             std::string("missing entity of type execution with identifier project:\"") + kProject +
                 "\" domain:\"" + kDomain + "\" name:\"nope\"");
  SeedNode(server.repos(), "mx", "n9", NodeClosure(95, 96));
  auto unknown = c.Metrics("mx", 2, metrics);
  CHECK(unknown.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(unknown.error_message().find("failed to discover workflow node 'n9' in workflow '") == 0);
}

namespace {

// A node execution row with its spec node id and parent; returns its row id.
int64_t SeedChild(pdb::Repositories& repos, const std::string& execution,
                  const std::string& node_id, const std::string& spec_node_id, int64_t created,
                  int64_t updated, std::optional<int64_t> parent_node = {}) {
  pdb::NodeExecutionModel n;
  n.key = {{kProject, kDomain, execution}, node_id};
  n.phase = "SUCCEEDED";
  n.closure = NodeClosure(created, updated).SerializeAsString();
  admin::NodeExecutionMetaData metadata;
  metadata.set_spec_node_id(spec_node_id);
  n.node_execution_metadata = metadata.SerializeAsString();
  n.parent_id = parent_node;
  auto s = repos.NodeExecutions().Create(n, std::nullopt);
  if (!s.ok()) FAIL(s.ToString());
  auto row = repos.NodeExecutions().Get(n.key);
  REQUIRE(row.ok());
  return row->id;
}

admin::ExecutionClosure RunOf(const std::string& workflow) {
  admin::ExecutionClosure closure;
  *closure.mutable_created_at() = At(0);
  *closure.mutable_updated_at() = At(100);
  auto* wf = closure.mutable_workflow_id();
  wf->set_resource_type(core::WORKFLOW);
  wf->set_project(kProject);
  wf->set_domain(kDomain);
  wf->set_name(workflow);
  wf->set_version("v1");
  return closure;
}

}  // namespace

TEST_CASE("GetExecutionMetrics follows sub-workflow, branch and dynamic nodes into their children",
          "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  TaskServer server(backend, {},
                    "    - name: flyte_manager_project\n"
                    "    - name: flyte_manager_task\n"
                    "    - name: flyte_manager_workflow\n");
  Client c{*server.stub};
  test::Target target{kProject, kDomain, "v1"};
  for (auto& entry : test::ReadPackage(test::FlytesnacksCoreDir())) {
    if (entry.file.find("subworkflows") == std::string::npos &&
        entry.file.find("run_merge_sort") == std::string::npos &&
        entry.file.find("dynamics") == std::string::npos) {
      continue;
    }
    if (std::holds_alternative<admin::LaunchPlan>(entry.spec)) continue;
    test::Hydrate(entry, target);
    auto r = test::Register(*server.stub, entry, target);
    INFO(r.file << ": " << r.message);
    REQUIRE(r.code == grpc::StatusCode::OK);
  }
  auto& repos = server.repos();
  admin::WorkflowExecutionGetMetricsResponse metrics;
  // The span tree GetExecutionMetrics answers for `execution` at depth 10, as Describe prints it.
  auto described = [&](const std::string& execution) {
    auto status = c.Metrics(execution, 10, metrics);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return Describe(metrics.span());
  };

  // parent_wf: node-t1-parent (a task), then n1 running the sub-workflow my_subwf (n0 -> n1).
  SeedExecution(repos, "sx", "", RunOf("core.control_flow.subworkflows.parent_wf"));
  SeedChild(repos, "sx", "start-node", "start-node", 1, 2);
  SeedChild(repos, "sx", "node-t1-parent", "node-t1-parent", 3, 20);
  const int64_t sub = SeedChild(repos, "sx", "n1", "n1", 21, 90);
  SeedChild(repos, "sx", "end-node", "end-node", 91, 92);
  SeedChild(repos, "sx", "n1-0-start-node", "start-node", 22, 23, sub);
  SeedChild(repos, "sx", "n1-0-n0", "n0", 24, 40, sub);
  SeedChild(repos, "sx", "n1-0-n1", "n1", 41, 80, sub);
  SeedChild(repos, "sx", "n1-0-end-node", "end-node", 81, 82, sub);
  CHECK(described("sx") ==
        "wf:sx[0,100]{WORKFLOW_SETUP[0,2] "
        "node:node-t1-parent[3,20]{NODE_TRANSITION[2,3] NODE_SETUP[3,20]} "
        "node:n1[21,90]{NODE_TRANSITION[20,21] NODE_SETUP[21,23] "
        "node:n1-0-n0[24,40]{NODE_TRANSITION[23,24] NODE_SETUP[24,40]} "
        "node:n1-0-n1[41,80]{NODE_TRANSITION[40,41] NODE_SETUP[41,80]} NODE_TEARDOWN[80,90]} "
        "WORKFLOW_TEARDOWN[90,100]}");

  // merge_sort: n0 is a branch whose then-node (compiled id n0-n0) ran, with one task attempt.
  SeedExecution(repos, "bx", "", RunOf("core.control_flow.run_merge_sort.merge_sort"));
  SeedChild(repos, "bx", "start-node", "start-node", 1, 2);
  const int64_t branch = SeedChild(repos, "bx", "n0", "n0", 3, 50);
  SeedChild(repos, "bx", "end-node", "end-node", 51, 52);
  SeedChild(repos, "bx", "n0-0-n0-n0", "n0-n0", 5, 30, branch);
  REQUIRE(c.Send(Event("bx", "n0-0-n0-n0", 0, core::TaskExecution::QUEUED, 7)).ok());
  REQUIRE(c.Send(Event("bx", "n0-0-n0-n0", 0, core::TaskExecution::RUNNING, 8)).ok());
  REQUIRE(c.Send(Event("bx", "n0-0-n0-n0", 0, core::TaskExecution::SUCCEEDED, 20)).ok());
  CHECK(described("bx") ==
        "wf:bx[0,100]{WORKFLOW_SETUP[0,2] "
        "node:n0[3,50]{NODE_TRANSITION[2,3] NODE_SETUP[3,5] "
        "node:n0-0-n0-n0[5,30]{NODE_SETUP[5,7] task:0[7,20]{TASK_SETUP[7,8] TASK_RUNTIME[8,20] "
        "TASK_TEARDOWN[20,20]} "
        "NODE_TEARDOWN[20,30]} NODE_TEARDOWN[30,50]} "
        "WORKFLOW_TEARDOWN[50,100]}");

  // dynamics.wf: n0 is a dynamic task; after its attempt it ran the workflow it generated
  // (one node dn0), whose compiled closure the node execution references in storage.
  SeedExecution(repos, "dx", "", RunOf("core.control_flow.dynamics.wf"));
  SeedChild(repos, "dx", "start-node", "start-node", 1, 2);
  const int64_t dynamic = SeedChild(repos, "dx", "n0", "n0", 3, 90);
  SeedChild(repos, "dx", "end-node", "end-node", 91, 92);
  SeedChild(repos, "dx", "n0-0-start-node", "start-node", 11, 12, dynamic);
  SeedChild(repos, "dx", "n0-0-dn0", "dn0", 13, 60, dynamic);
  SeedChild(repos, "dx", "n0-0-end-node", "end-node", 61, 62, dynamic);
  REQUIRE(c.Send(Event("dx", "n0", 0, core::TaskExecution::QUEUED, 5)).ok());
  REQUIRE(c.Send(Event("dx", "n0", 0, core::TaskExecution::RUNNING, 6)).ok());
  REQUIRE(c.Send(Event("dx", "n0", 0, core::TaskExecution::SUCCEEDED, 10)).ok());
  core::CompiledWorkflowClosure generated;
  auto* tmpl = generated.mutable_primary()->mutable_template_();
  tmpl->mutable_id()->set_resource_type(core::WORKFLOW);
  tmpl->mutable_id()->set_name("dynamic_wf");
  auto* dn0 = tmpl->add_nodes();
  dn0->set_id("dn0");
  dn0->mutable_task_node()->mutable_reference_id()->set_name("count");
  auto& upstream = *generated.mutable_primary()->mutable_connections()->mutable_upstream();
  upstream["dn0"].add_ids("start-node");
  upstream["end-node"].add_ids("dn0");
  const auto closure_path = server.container() / "metadata" / "admin" / "dx" / "n0" / "dynamic_wf";
  std::filesystem::create_directories(closure_path.parent_path());
  {
    std::ofstream out(closure_path, std::ios::binary);
    REQUIRE(generated.SerializeToOstream(&out));
  }
  auto dynamic_row = repos.NodeExecutions().Update(
      {{kProject, kDomain, "dx"}, "n0"},
      [&](pdb::NodeExecutionModel& row) -> flyte::plugin::Status {
        row.dynamic_workflow_remote_closure_reference =
            server.container_uri() + "/metadata/admin/dx/n0/dynamic_wf";
        return flyte::plugin::Status::Ok();
      });
  REQUIRE(dynamic_row.ok());
  CHECK(described("dx") ==
        "wf:dx[0,100]{WORKFLOW_SETUP[0,2] "
        "node:n0[3,90]{NODE_TRANSITION[2,3] NODE_SETUP[3,5] "
        "task:0[5,10]{TASK_SETUP[5,6] TASK_RUNTIME[6,10] TASK_TEARDOWN[10,10]} NODE_RESET[10,12] "
        "node:n0-0-dn0[13,60]{NODE_TRANSITION[12,13] NODE_SETUP[13,60]} NODE_TEARDOWN[60,90]} "
        "WORKFLOW_TEARDOWN[90,100]}");

  // A stored dynamic workflow without its primary template is refused, as GetNodeExecutionData
  // refuses it.
  {
    core::CompiledWorkflowClosure hollow;
    hollow.mutable_primary();
    std::ofstream out(closure_path, std::ios::binary | std::ios::trunc);
    REQUIRE(hollow.SerializeToOstream(&out));
  }
  auto hollow_metrics = c.Metrics("dx", 10, metrics);
  CHECK(hollow_metrics.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(hollow_metrics.error_message() == "Empty primary workflow template in loaded dynamic workflow model.");

  // One over storage.limits.maxDownloadMBs (2 by default) is not read, as flytestdlib refuses it.
  {
    core::CompiledWorkflowClosure big = generated;
    big.mutable_primary()->mutable_template_()->mutable_metadata()->mutable_tags()->insert(
        {"padding", std::string(2560 * 1024, 'x')});
    std::ofstream out(closure_path, std::ios::binary | std::ios::trunc);
    REQUIRE(big.SerializeToOstream(&out));
  }
  auto big_metrics = c.Metrics("dx", 10, metrics);
  CHECK(big_metrics.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(big_metrics.error_message(), Catch::Contains(": [LIMIT_EXCEEDED] limit exceeded. 2.5"));
  CHECK_THAT(big_metrics.error_message(),
             Catch::EndsWith("mb > 2mb. You can increase the limit by setting maxDownloadMBs."));

  // Children make a node without is_parent/is_dynamic a parent only for rows of event version
  // 0 (old propellers), as upstream infers them: at version 1, n0 is the plain task node its
  // flags say it is.
  REQUIRE(repos.NodeExecutions()
              .Update({{kProject, kDomain, "dx"}, "n0"},
                      [](pdb::NodeExecutionModel& row) -> flyte::plugin::Status {
                        row.internal_data = std::string("\x08\x01", 2);  // event_version: 1
                        return flyte::plugin::Status::Ok();
                      })
              .ok());
  CHECK(described("dx") ==
        "wf:dx[0,100]{WORKFLOW_SETUP[0,2] "
        "node:n0[3,90]{NODE_TRANSITION[2,3] NODE_SETUP[3,5] "
        "task:0[5,10]{TASK_SETUP[5,6] TASK_RUNTIME[6,10] TASK_TEARDOWN[10,10]} NODE_TEARDOWN[10,90]} "
        "WORKFLOW_TEARDOWN[90,100]}");

  // An execution whose closure names no workflow: upstream's GetWorkflow is asked with no id.
  admin::ExecutionClosure nameless = RunOf("unused");
  nameless.clear_workflow_id();
  SeedExecution(repos, "nx", "", nameless);
  CheckError(c.Metrics("nx", 2, metrics), grpc::StatusCode::INVALID_ARGUMENT, "missing id");

  // A launch-plan node whose child execution is its own execution (only bad events make that
  // cycle): the child is given its span without children, at any depth, even a negative one
  // (which upstream reads as unlimited and recurses on until its stack runs out).
  {
    admin::WorkflowClosure looping;
    auto* t = looping.mutable_compiled_workflow()->mutable_primary()->mutable_template_();
    t->mutable_id()->set_resource_type(core::WORKFLOW);
    t->mutable_id()->set_name("looping_wf");
    auto* lp_node = t->add_nodes();
    lp_node->set_id("lp");
    lp_node->mutable_workflow_node()->mutable_launchplan_ref()->set_resource_type(core::LAUNCH_PLAN);
    lp_node->mutable_workflow_node()->mutable_launchplan_ref()->set_name("looping_lp");
    auto& up = *looping.mutable_compiled_workflow()->mutable_primary()->mutable_connections()->mutable_upstream();
    up["lp"].add_ids("start-node");
    up["end-node"].add_ids("lp");
    const auto path = server.container() / "metadata" / "admin" / "looping_wf";
    {
      std::ofstream out(path, std::ios::binary);
      REQUIRE(looping.SerializeToOstream(&out));
    }
    pdb::WorkflowModel wf;
    wf.key = {kProject, kDomain, "looping_wf", "v1"};
    wf.typed_interface = core::TypedInterface().SerializeAsString();
    wf.remote_closure_identifier = server.container_uri() + "/metadata/admin/looping_wf";
    wf.digest = "looping";
    REQUIRE(repos.Workflows().Create(wf, std::nullopt).ok());
    SeedExecution(repos, "cx", "", RunOf("looping_wf"));
    SeedChild(repos, "cx", "start-node", "start-node", 1, 2);
    SeedChild(repos, "cx", "end-node", "end-node", 91, 92);
    pdb::NodeExecutionModel n;
    n.key = {{kProject, kDomain, "cx"}, "lp"};
    n.phase = "SUCCEEDED";
    auto closure = NodeClosure(3, 90);
    auto* child = closure.mutable_workflow_node_metadata()->mutable_executionid();
    child->set_project(kProject);
    child->set_domain(kDomain);
    child->set_name("cx");
    n.closure = closure.SerializeAsString();
    admin::NodeExecutionMetaData metadata;
    metadata.set_spec_node_id("lp");
    n.node_execution_metadata = metadata.SerializeAsString();
    REQUIRE(repos.NodeExecutions().Create(n, std::nullopt).ok());
    for (int depth : {-1, 1000}) {
      INFO("depth " << depth);
      auto status = c.Metrics("cx", depth, metrics);
      INFO(status.error_message());
      REQUIRE(status.ok());
      CHECK(Describe(metrics.span()) ==
            "wf:cx[0,100]{WORKFLOW_SETUP[0,2] "
            "node:lp[3,90]{NODE_TRANSITION[2,3] NODE_SETUP[3,0] wf:cx[0,100]} "
            "WORKFLOW_TEARDOWN[90,100]}");
    }
  }

  // A branch that took two paths is refused as upstream refuses it.
  SeedChild(repos, "bx", "n0-0-n0-n1", "n0-n1", 31, 32, branch);
  auto twice = c.Metrics("bx", 10, metrics);
  CHECK(twice.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(twice.error_message() ==
        "invalid branch node execution: expected 1 but found 2 node execution(s)");
}
