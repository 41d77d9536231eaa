// The execution manager's operations on the built server: GetExecution, UpdateExecution
// (archive), ListExecutions, TerminateExecution, GetExecutionData and CreateWorkflowEvent over
// gRPC and REST, on SQLite and PostgreSQL. Execution rows are written straight into the server's
// database as CreateExecution would leave them; the WorkflowExecutor is the recording fixture.
#include <atomic>
#include <barrier>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <google/protobuf/util/time_util.h>
#include <nlohmann/json.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "google/rpc/status.pb.h"
#include "served_server.h"
#include "test_support.h"

namespace test = flyte::test;
// The deprecated spec.inputs / closure.computed_inputs / outputs fields are what is under test.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

using flyteidl::service::AdminService;
using google::protobuf::util::TimeUtil;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace event = flyteidl::event;
namespace db = flyte::plugin::db;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";

// A fixed point in time the tests count from.
db::Time T(int seconds) { return db::Time(std::chrono::seconds(1790000000 + seconds)); }
google::protobuf::Timestamp Ts(int seconds) { return TimeUtil::SecondsToTimestamp(1790000000 + seconds); }

// flyteadmin serving the execution manager with the recording WorkflowExecutor, plus a direct
// handle on its database.
struct OpsServer {
  explicit OpsServer(const std::string& backend, const std::string& extra_yaml = "")
      : dir(std::filesystem::path(test::WriteTempFile(test::UniqueName("ops") + "/.keep", "")).parent_path()),
        record((dir / "executor.jsonl").string()),
        db_layer(backend == "postgres" ? test::PostgresLayer(test::UniqueName("e2e_ops"))
                                       : "database:\n  sqlite:\n    file: " + (dir / "admin.db").string() + "\n"),
        served("    - name: flyte_manager_execution\n"
               "    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_recording_executor.so\n"
               "      config:\n        record: " +
                   record + "\n",
               {db_layer + extra_yaml}),
        stub(AdminService::NewStub(served.channel())) {
    auto config = flyte::core::Config::FromDocuments(
        {db_layer}, [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
    REQUIRE(config.ok());
    auto opened = flyte::core::db::OpenDatabase(*config);
    if (!opened.ok()) FAIL("OpenDatabase: " << opened.status().ToString());
    database = *opened;
  }

  db::ExecutionRepo& executions() { return database->Repositories()->Executions(); }
  db::ExecutionModel Row(const std::string& name) {
    auto row = executions().Get({kProject, kDomain, name});
    REQUIRE(row.ok());
    return *row;
  }

  // Lines the executor recorded for Abort calls.
  std::vector<nlohmann::json> Aborts() {
    std::vector<nlohmann::json> out;
    std::ifstream in(record);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j["call"] == "abort") out.push_back(j);
    }
    return out;
  }

  // execution_events rows of an execution, read with a session of our own.
  long long EventRows(const std::string& name) {
    std::unique_ptr<soci::session> session;
    if (db_layer.find("postgres:") != std::string::npos) {
      auto field = [&](const std::string& key) {
        auto at = db_layer.find(key + ": ") + key.size() + 2;
        return db_layer.substr(at, db_layer.find('\n', at) - at);
      };
      session = std::make_unique<soci::session>(soci::postgresql, "host=127.0.0.1 port=" + field("port") +
                                                                      " dbname=" + field("dbname") +
                                                                      " user=postgres sslmode=disable");
    } else {
      session = std::make_unique<soci::session>(soci::sqlite3, "db=\"" + (dir / "admin.db").string() + "\" timeout=30");
    }
    long long n = 0;
    *session << "SELECT COUNT(*) FROM execution_events WHERE execution_name = :n", soci::use(name), soci::into(n);
    return n;
  }

  test::HttpResult Http(const std::string& method, const std::string& target, const std::string& body = "") {
    return test::Http(served.http_port, method, target, body,
                      {{"Accept", "application/json"}, {"Content-Type", "application/json"}});
  }

  std::filesystem::path dir;
  std::string record;
  std::string db_layer;
  test::ServedServer served;
  std::unique_ptr<AdminService::Stub> stub;
  std::shared_ptr<flyte::core::db::Database> database;
};

core::WorkflowExecutionIdentifier Id(const std::string& name) {
  core::WorkflowExecutionIdentifier id;
  id.set_project(kProject);
  id.set_domain(kDomain);
  id.set_name(name);
  return id;
}

std::string IdText(const std::string& name) {
  return "project:\"flytesnacks\" domain:\"development\" name:\"" + name + "\"";
}

core::Literal IntLiteral(int64_t v) {
  core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_integer(v);
  return l;
}

core::LiteralMap Literals(const std::string& name, int64_t v) {
  core::LiteralMap m;
  (*m.mutable_literals())[name] = IntLiteral(v);
  return m;
}

// An execution row as the launcher writes it.
struct Seed {
  std::string name;
  std::string phase = "UNDEFINED";
  std::string cluster = "c1";
  int64_t launch_plan_id = 0;
  int64_t workflow_id = 0;
  int32_t state = 0;
  db::Time created_at = T(0);
  std::optional<db::Time> started_at{};
  std::string abort_cause{};
  std::optional<core::ExecutionError> error{};
  std::vector<db::ExecutionTagModel> tags{};
  std::string namespace_{};
  bool with_state_change_details = false;
  std::optional<std::string> raw_spec{};
  std::string project = kProject;
  std::string domain = kDomain;
  std::optional<std::string> raw_closure{};
};

void Create(OpsServer& server, const Seed& seed) {
  admin::ExecutionSpec spec;
  auto* lp = spec.mutable_launch_plan();
  lp->set_resource_type(core::LAUNCH_PLAN);
  lp->set_project(kProject);
  lp->set_domain(kDomain);
  lp->set_name("lp");
  lp->set_version("v1");
  spec.mutable_metadata()->set_mode(admin::ExecutionMetadata::MANUAL);
  spec.mutable_metadata()->set_principal("alice");
  if (!seed.namespace_.empty()) spec.mutable_metadata()->mutable_system_metadata()->set_namespace_(seed.namespace_);
  *spec.mutable_inputs() = Literals("x", 1);  // deprecated copy, as old admins stored it

  admin::ExecutionClosure closure;
  closure.set_phase(core::WorkflowExecution::UNDEFINED);
  core::WorkflowExecution::Phase phase = core::WorkflowExecution::UNDEFINED;
  core::WorkflowExecution::Phase_Parse(seed.phase, &phase);
  closure.set_phase(phase);
  *closure.mutable_created_at() = TimeUtil::TimeTToTimestamp(std::chrono::system_clock::to_time_t(seed.created_at));
  *closure.mutable_updated_at() = closure.created_at();
  *closure.mutable_computed_inputs() = Literals("x", 1);
  if (seed.error) *closure.mutable_error() = *seed.error;
  if (seed.with_state_change_details) {
    closure.mutable_state_change_details()->set_state(admin::EXECUTION_ACTIVE);
    closure.mutable_state_change_details()->set_principal("alice");
  }

  db::ExecutionModel m;
  m.key = {seed.project, seed.domain, seed.name};
  m.launch_plan_id = seed.launch_plan_id;
  m.workflow_id = seed.workflow_id;
  m.phase = seed.phase;
  m.spec = seed.raw_spec ? *seed.raw_spec : spec.SerializeAsString();
  m.closure = seed.raw_closure ? *seed.raw_closure : closure.SerializeAsString();
  m.execution_created_at = seed.created_at;
  m.started_at = seed.started_at;
  m.abort_cause = seed.abort_cause;
  m.cluster = seed.cluster;
  m.user = "alice";
  m.state = seed.state;
  m.launch_entity = "launch_plan";
  if (seed.error) {
    m.error_kind = core::ExecutionError::ErrorKind_Name(seed.error->kind());
    m.error_code = seed.error->code();
  }
  auto s = server.executions().Create(m, seed.tags);
  if (!s.ok()) FAIL("Create " << seed.name << ": " << s.ToString());
}

// A workflow and a launch plan named `name`; returns {launch plan id, workflow id}.
std::pair<int64_t, int64_t> CreateLaunchPlan(OpsServer& server, const std::string& name) {
  auto& repos = *server.database->Repositories();
  db::WorkflowModel w;
  w.key = {kProject, kDomain, "wf-" + name, "v1"};
  w.typed_interface = "";
  w.remote_closure_identifier = "s3://wf";
  w.digest = "d";
  REQUIRE(repos.Workflows().Create(w, std::nullopt).ok());
  auto wf = repos.Workflows().Get(w.key);
  REQUIRE(wf.ok());
  db::LaunchPlanModel lp;
  lp.key = {kProject, kDomain, name, "v1"};
  lp.workflow_id = wf->id;
  lp.digest = "d";
  REQUIRE(repos.LaunchPlans().Create(lp).ok());
  auto got = repos.LaunchPlans().Get(lp.key);
  REQUIRE(got.ok());
  return {got->id, wf->id};
}

// ---- RPC wrappers ----

grpc::Status Get(OpsServer& s, const std::string& name, admin::Execution* out = nullptr) {
  grpc::ClientContext ctx;
  admin::WorkflowExecutionGetRequest req;
  *req.mutable_id() = Id(name);
  admin::Execution resp;
  auto status = s.stub->GetExecution(&ctx, req, &resp);
  if (out) *out = resp;
  return status;
}

admin::Execution MustGet(OpsServer& s, const std::string& name) {
  admin::Execution e;
  auto status = Get(s, name, &e);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return e;
}

grpc::Status List(OpsServer& s, admin::ResourceListRequest req, admin::ExecutionList* out = nullptr) {
  grpc::ClientContext ctx;
  admin::ExecutionList resp;
  auto status = s.stub->ListExecutions(&ctx, req, &resp);
  if (out) *out = resp;
  return status;
}

admin::ResourceListRequest ListRequest(const std::string& filters = "", uint32_t limit = 20) {
  admin::ResourceListRequest req;
  req.mutable_id()->set_project(kProject);
  req.mutable_id()->set_domain(kDomain);
  req.set_limit(limit);
  req.set_filters(filters);
  return req;
}

std::vector<std::string> Names(const admin::ExecutionList& list) {
  std::vector<std::string> names;
  for (const auto& e : list.executions()) names.push_back(e.id().name());
  return names;
}

std::set<std::string> ListNames(OpsServer& s, const std::string& filters) {
  admin::ExecutionList list;
  auto status = List(s, ListRequest(filters), &list);
  INFO(filters << ": " << status.error_message());
  REQUIRE(status.ok());
  auto names = Names(list);
  return {names.begin(), names.end()};
}

grpc::Status Archive(OpsServer& s, const std::string& name, admin::ExecutionState state) {
  grpc::ClientContext ctx;
  admin::ExecutionUpdateRequest req;
  *req.mutable_id() = Id(name);
  req.set_state(state);
  admin::ExecutionUpdateResponse resp;
  return s.stub->UpdateExecution(&ctx, req, &resp);
}

grpc::Status Terminate(OpsServer& s, const std::string& name, const std::string& cause) {
  grpc::ClientContext ctx;
  admin::ExecutionTerminateRequest req;
  *req.mutable_id() = Id(name);
  req.set_cause(cause);
  admin::ExecutionTerminateResponse resp;
  return s.stub->TerminateExecution(&ctx, req, &resp);
}

grpc::Status GetData(OpsServer& s, const std::string& name, admin::WorkflowExecutionGetDataResponse* out) {
  grpc::ClientContext ctx;
  admin::WorkflowExecutionGetDataRequest req;
  *req.mutable_id() = Id(name);
  return s.stub->GetExecutionData(&ctx, req, out);
}

admin::WorkflowExecutionEventRequest EventRequest(const std::string& name, core::WorkflowExecution::Phase phase,
                                                 int at, const std::string& producer = "propeller") {
  admin::WorkflowExecutionEventRequest req;
  req.set_request_id(test::UniqueName("req"));
  auto* e = req.mutable_event();
  *e->mutable_execution_id() = Id(name);
  e->set_phase(phase);
  *e->mutable_occurred_at() = Ts(at);
  e->set_producer_id(producer);
  return req;
}

grpc::Status Send(OpsServer& s, const admin::WorkflowExecutionEventRequest& req) {
  grpc::ClientContext ctx;
  admin::WorkflowExecutionEventResponse resp;
  return s.stub->CreateWorkflowEvent(&ctx, req, &resp);
}

grpc::Status Send(OpsServer& s, const std::string& name, core::WorkflowExecution::Phase phase, int at,
                  const std::string& producer = "propeller") {
  return Send(s, EventRequest(name, phase, at, producer));
}

// The admin.EventFailureReason a status carries (fails when there is none).
admin::EventFailureReason FailureReason(const grpc::Status& status) {
  google::rpc::Status rpc;
  REQUIRE(rpc.ParseFromString(status.error_details()));
  REQUIRE(rpc.details_size() == 1);
  admin::EventFailureReason reason;
  REQUIRE(rpc.details(0).UnpackTo(&reason));
  return reason;
}

void CheckStatus(const grpc::Status& s, grpc::StatusCode code, const std::string& message) {
  CHECK(s.error_code() == code);
  CHECK(s.error_message() == message);
}

#define REQUIRE_OK(expr)                      \
  do {                                        \
    auto status_ = (expr);                    \
    INFO(status_.error_message());            \
    REQUIRE(status_.ok());                    \
  } while (0)

std::string Backend() { return GENERATE(as<std::string>{}, "sqlite", "postgres"); }

}  // namespace

TEST_CASE("GetExecution returns the stored execution, validates the id and reports missing ones", "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend);
  Create(server, Seed{.name = "e1", .phase = "RUNNING", .created_at = T(10)});
  Create(server, Seed{.name = "aborted", .phase = "ABORTED", .abort_cause = "stopped by bob"});
  Create(server, Seed{.name = "ns", .namespace_ = "custom-ns", .with_state_change_details = true});
  Create(server, Seed{.name = "broken", .raw_spec = std::string("\xff\xff\xff", 3)});

  auto e1 = MustGet(server, "e1");
  CHECK(e1.id().project() == kProject);
  CHECK(e1.id().name() == "e1");
  CHECK(e1.spec().launch_plan().name() == "lp");
  CHECK(e1.spec().metadata().system_metadata().namespace_() == "flytesnacks-development");
  CHECK(e1.closure().phase() == core::WorkflowExecution::RUNNING);
  // Rows without state change details get ACTIVE at the row's creation, by its user.
  CHECK(e1.closure().state_change_details().state() == admin::EXECUTION_ACTIVE);
  CHECK(e1.closure().state_change_details().principal() == "alice");
  auto row = server.Row("e1");
  CHECK(e1.closure().state_change_details().occurred_at().seconds() ==
        std::chrono::duration_cast<std::chrono::seconds>(row.created_at.time_since_epoch()).count());
  // GetExecution keeps the deprecated inputs.
  CHECK(e1.spec().inputs().literals().count("x") == 1);
  CHECK(e1.closure().computed_inputs().literals().count("x") == 1);

  auto aborted = MustGet(server, "aborted");
  CHECK(aborted.closure().abort_metadata().cause() == "stopped by bob");
  auto ns = MustGet(server, "ns");
  CHECK(ns.spec().metadata().system_metadata().namespace_() == "custom-ns");
  CHECK_FALSE(ns.closure().state_change_details().has_occurred_at());

  CheckStatus(Get(server, "broken"), grpc::StatusCode::INTERNAL, "failed to unmarshal spec");
  CheckStatus(Get(server, "nope"), grpc::StatusCode::NOT_FOUND,
              "missing entity of type execution with identifier " + IdText("nope"));
  {
    grpc::ClientContext ctx;
    admin::WorkflowExecutionGetRequest req;
    admin::Execution resp;
    CheckStatus(server.stub->GetExecution(&ctx, req, &resp), grpc::StatusCode::INVALID_ARGUMENT, "missing id");
  }
  for (auto [field, message] : std::vector<std::pair<int, std::string>>{
           {0, "missing project"}, {1, "missing domain"}, {2, "missing name"}}) {
    grpc::ClientContext ctx;
    admin::WorkflowExecutionGetRequest req;
    *req.mutable_id() = Id("e1");
    if (field == 0) req.mutable_id()->clear_project();
    if (field == 1) req.mutable_id()->clear_domain();
    if (field == 2) req.mutable_id()->clear_name();
    admin::Execution resp;
    CheckStatus(server.stub->GetExecution(&ctx, req, &resp), grpc::StatusCode::INVALID_ARGUMENT, message);
  }

  // REST: the gateway's JSON shape, proto field names and enum names.
  auto got = server.Http("GET", "/api/v1/executions/flytesnacks/development/e1");
  INFO(got.body);
  REQUIRE(got.status == 200);
  auto body = nlohmann::json::parse(got.body);
  CHECK(body["id"]["name"] == "e1");
  CHECK(body["spec"]["launch_plan"]["name"] == "lp");
  CHECK(body["spec"]["metadata"]["system_metadata"]["namespace"] == "flytesnacks-development");
  CHECK(body["closure"]["phase"] == "RUNNING");
  CHECK(body["closure"]["state_change_details"]["principal"] == "alice");
  auto missing = server.Http("GET", "/api/v1/executions/flytesnacks/development/nope");
  CHECK(missing.status == 404);
  CHECK(nlohmann::json::parse(missing.body)["message"] ==
        "missing entity of type execution with identifier " + IdText("nope"));
}

TEST_CASE("ListExecutions filters, sorts, pages, hides archived executions and trims errors", "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend);
  auto [lp_a, wf_a] = CreateLaunchPlan(server, "lp-a");
  auto [lp_b, wf_b] = CreateLaunchPlan(server, "lp-b");
  // 99 ASCII bytes, then a two-byte character across the 100-byte cut, then more.
  const std::string long_message = std::string(99, 'x') + "\xc3\xa9" + std::string(60, 'y');
  core::ExecutionError error;
  error.set_code("USER:Boom");
  error.set_message(long_message);
  error.set_kind(core::ExecutionError::USER);
  Create(server, Seed{.name = "a1", .phase = "RUNNING", .launch_plan_id = lp_a, .workflow_id = wf_a,
                      .created_at = T(0), .tags = {{"team", "ml"}}});
  Create(server, Seed{.name = "a2", .phase = "SUCCEEDED", .launch_plan_id = lp_a, .workflow_id = wf_a,
                      .created_at = T(3600)});
  Create(server, Seed{.name = "b1", .phase = "FAILED", .launch_plan_id = lp_b, .workflow_id = wf_b,
                      .created_at = T(7200), .error = error, .tags = {{"team", "infra"}}});
  Create(server, Seed{.name = "b2", .phase = "RUNNING", .launch_plan_id = lp_b, .workflow_id = wf_b, .state = 1,
                      .created_at = T(10800)});

  using Set = std::set<std::string>;
  CHECK(ListNames(server, "") == Set{"a1", "a2", "b1"});
  CHECK(ListNames(server, "eq(state,1)") == Set{"b2"});
  CHECK(ListNames(server, "value_in(state,0;1)") == Set{"a1", "a2", "b1", "b2"});
  CHECK(ListNames(server, "eq(launch_plan.name,lp-a)") == Set{"a1", "a2"});
  CHECK(ListNames(server, "eq(workflow.name,wf-lp-b)") == Set{"b1"});
  CHECK(ListNames(server, "value_in(phase,RUNNING;SUCCEEDED)") == Set{"a1", "a2"});
  CHECK(ListNames(server, "gte(execution_created_at,2026-09-21T14:43:20Z)") == Set{"a2", "b1"});
  CHECK(ListNames(server, "eq(execution_tag.key,team)+eq(execution_tag.value,ml)") == Set{"a1"});
  CHECK(ListNames(server, "eq(error_code,USER:Boom)") == Set{"b1"});
  {
    auto req = ListRequest();
    req.mutable_id()->set_name("a2");
    admin::ExecutionList list;
    REQUIRE_OK(List(server, req, &list));
    CHECK(Names(list) == std::vector<std::string>{"a2"});
  }

  // Sorting and paging.
  auto sorted = ListRequest("", 2);
  sorted.mutable_sort_by()->set_key("execution_created_at");
  sorted.mutable_sort_by()->set_direction(admin::Sort::ASCENDING);
  admin::ExecutionList page;
  REQUIRE_OK(List(server, sorted, &page));
  CHECK(Names(page) == std::vector<std::string>{"a1", "a2"});
  CHECK(page.token() == "2");
  sorted.set_token(page.token());
  REQUIRE_OK(List(server, sorted, &page));
  CHECK(Names(page) == std::vector<std::string>{"b1"});
  CHECK(page.token().empty());
  sorted.mutable_sort_by()->set_direction(admin::Sort::DESCENDING);
  sorted.set_token("");
  sorted.set_limit(3);
  REQUIRE_OK(List(server, sorted, &page));
  CHECK(Names(page) == std::vector<std::string>{"b1", "a2", "a1"});

  // Error messages are cut to 100 bytes in lists (the broken character dropped), not in Get;
  // deprecated inputs are not listed.
  admin::ExecutionList all;
  REQUIRE_OK(List(server, ListRequest("eq(launch_plan.name,lp-b)"), &all));
  REQUIRE(all.executions_size() == 1);
  CHECK(all.executions(0).closure().error().message() == std::string(99, 'x'));
  CHECK(all.executions(0).closure().error().code() == "USER:Boom");
  CHECK(all.executions(0).spec().inputs().literals().empty());
  CHECK(all.executions(0).closure().computed_inputs().literals().empty());
  CHECK(MustGet(server, "b1").closure().error().message() == long_message);

  // Invalid requests.
  auto bad = ListRequest("", 0);
  CheckStatus(List(server, bad), grpc::StatusCode::INVALID_ARGUMENT, "invalid value for limit");
  bad = ListRequest();
  bad.mutable_id()->clear_project();
  CheckStatus(List(server, bad), grpc::StatusCode::INVALID_ARGUMENT, "missing project");
  bad = ListRequest();
  bad.clear_id();
  CheckStatus(List(server, bad), grpc::StatusCode::INVALID_ARGUMENT, "missing id");
  bad = ListRequest();
  bad.set_token("x");
  CheckStatus(List(server, bad), grpc::StatusCode::INVALID_ARGUMENT, "invalid pagination token x for ListExecutions");
  bad = ListRequest();
  bad.mutable_sort_by()->set_key("bogus");
  CheckStatus(List(server, bad), grpc::StatusCode::INVALID_ARGUMENT, "invalid sort key 'bogus'");
  CheckStatus(List(server, ListRequest("eq(bogus,1)")), grpc::StatusCode::INVALID_ARGUMENT,
              "'e.bogus' is invalid filter");
  // An integer column takes integers only: SQLite would read "ARCHIVED" as 0 and list the
  // active executions, where PostgreSQL refuses it.
  CheckStatus(List(server, ListRequest("eq(state,ARCHIVED)")), grpc::StatusCode::INVALID_ARGUMENT,
              "invalid value 'ARCHIVED' for filter on 'state': an integer is expected");
  CheckStatus(List(server, ListRequest("value_in(state,0;1x)")), grpc::StatusCode::INVALID_ARGUMENT,
              "invalid value '1x' for filter on 'state': an integer is expected");

  // Archiving hides an execution until it is made active again.
  REQUIRE_OK(Archive(server, "a2", admin::EXECUTION_ARCHIVED));
  CHECK(ListNames(server, "") == Set{"a1", "b1"});
  CHECK(ListNames(server, "eq(state,1)") == Set{"a2", "b2"});
  auto archived = MustGet(server, "a2");
  CHECK(archived.closure().state_change_details().state() == admin::EXECUTION_ARCHIVED);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  CHECK(std::abs(archived.closure().state_change_details().occurred_at().seconds() - now.count()) < 60);
  CHECK(server.Row("a2").state == 1);
  CHECK(archived.closure().phase() == core::WorkflowExecution::SUCCEEDED);
  REQUIRE_OK(Archive(server, "a2", admin::EXECUTION_ACTIVE));
  CHECK(ListNames(server, "") == Set{"a1", "a2", "b1"});
  CheckStatus(Archive(server, "nope", admin::EXECUTION_ARCHIVED), grpc::StatusCode::NOT_FOUND,
              "missing entity of type execution with identifier " + IdText("nope"));
  {
    grpc::ClientContext ctx;
    admin::ExecutionUpdateRequest req;
    admin::ExecutionUpdateResponse resp;
    CheckStatus(server.stub->UpdateExecution(&ctx, req, &resp), grpc::StatusCode::INVALID_ARGUMENT, "missing id");
  }

  // REST: list with filters and sort in the query, archive with PUT.
  auto listed = server.Http("GET",
                            "/api/v1/executions/flytesnacks/development?limit=10&filters=eq%28launch_plan.name%2Clp-a%29"
                            "&sort_by.key=execution_created_at&sort_by.direction=ASCENDING");
  INFO(listed.body);
  REQUIRE(listed.status == 200);
  auto body = nlohmann::json::parse(listed.body);
  REQUIRE(body["executions"].size() == 2);
  CHECK(body["executions"][0]["id"]["name"] == "a1");
  CHECK(body["executions"][1]["id"]["name"] == "a2");
  CHECK(body["executions"][1]["closure"]["phase"] == "SUCCEEDED");
  // The gateway emits unset fields as null, as upstream's (EmitDefaults).
  CHECK(body["executions"][0]["spec"]["inputs"].is_null());
  CHECK(body["executions"][0]["closure"]["computed_inputs"].is_null());
  auto put = server.Http("PUT", "/api/v1/executions/flytesnacks/development/a1", R"({"state": "EXECUTION_ARCHIVED"})");
  INFO(put.body);
  CHECK(put.status == 200);
  CHECK(ListNames(server, "") == Set{"a2", "b1"});
}

TEST_CASE("TerminateExecution aborts live executions through the WorkflowExecutor and refuses terminated ones",
          "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend);
  Create(server, Seed{.name = "r1", .phase = "RUNNING", .cluster = "c7", .started_at = T(5)});
  Create(server, Seed{.name = "r2", .phase = "QUEUED"});
  Create(server, Seed{.name = "done", .phase = "SUCCEEDED"});

  REQUIRE_OK(Terminate(server, "r1", "user asked"));
  auto row = server.Row("r1");
  CHECK(row.phase == "ABORTING");
  CHECK(row.abort_cause == "user asked");
  auto r1 = MustGet(server, "r1");
  CHECK(r1.closure().phase() == core::WorkflowExecution::ABORTING);
  CHECK(r1.closure().abort_metadata().cause() == "user asked");
  auto aborts = server.Aborts();
  REQUIRE(aborts.size() == 1);
  CHECK(aborts[0]["namespace"] == "flytesnacks-development");
  CHECK(aborts[0]["execution_id"]["name"] == "r1");
  CHECK(aborts[0]["execution_id"]["project"] == kProject);
  CHECK(aborts[0]["cluster"] == "c7");

  // ABORTING is not terminal: a second terminate overwrites the cause and aborts again.
  REQUIRE_OK(Terminate(server, "r1", "asked twice"));
  CHECK(MustGet(server, "r1").closure().abort_metadata().cause() == "asked twice");
  CHECK(server.Aborts().size() == 2);
  // Propeller's ABORTED event ends it; the abort metadata stays the result.
  REQUIRE_OK(Send(server, "r1", core::WorkflowExecution::ABORTED, 65));
  r1 = MustGet(server, "r1");
  CHECK(r1.closure().phase() == core::WorkflowExecution::ABORTED);
  CHECK(r1.closure().abort_metadata().cause() == "asked twice");
  CHECK(r1.closure().duration().seconds() == 60);

  for (const std::string name : {"done", "r1"}) {
    auto refused = Terminate(server, name, "too late");
    CheckStatus(refused, grpc::StatusCode::FAILED_PRECONDITION, "Cannot abort an already terminated workflow execution");
    CHECK(FailureReason(refused).already_in_terminal_state().current_phase() ==
          (name == "done" ? "SUCCEEDED" : "ABORTED"));
  }
  CHECK(server.Row("done").phase == "SUCCEEDED");
  CHECK(server.Aborts().size() == 2);
  CheckStatus(Terminate(server, "nope", "x"), grpc::StatusCode::NOT_FOUND,
              "missing entity of type execution with identifier " + IdText("nope"));
  {
    grpc::ClientContext ctx;
    admin::ExecutionTerminateRequest req;
    admin::ExecutionTerminateResponse resp;
    CheckStatus(server.stub->TerminateExecution(&ctx, req, &resp), grpc::StatusCode::INVALID_ARGUMENT, "missing id");
  }

  // REST: DELETE with the cause in the body.
  auto deleted = server.Http("DELETE", "/api/v1/executions/flytesnacks/development/r2", R"({"cause": "via rest"})");
  INFO(deleted.body);
  CHECK(deleted.status == 200);
  CHECK(server.Row("r2").abort_cause == "via rest");
  aborts = server.Aborts();
  REQUIRE(aborts.size() == 3);
  CHECK(aborts[2]["execution_id"]["name"] == "r2");
  CHECK(aborts[2]["cluster"] == "c1");
}

TEST_CASE("A failing WorkflowExecutor abort fails TerminateExecution and leaves the execution aborting", "[e2e]") {
  auto dir = std::filesystem::path(test::WriteTempFile(test::UniqueName("ops-fail") + "/.keep", "")).parent_path();
  std::string db_layer = "database:\n  sqlite:\n    file: " + (dir / "admin.db").string() + "\n";
  test::ServedServer served("    - name: flyte_manager_execution\n"
                            "    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_recording_executor.so\n"
                            "      config:\n        failAbort: \"14:cluster unreachable\"\n",
                            {db_layer});
  auto config = flyte::core::Config::FromDocuments(
      {db_layer}, [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
  REQUIRE(config.ok());
  auto database = flyte::core::db::OpenDatabase(*config);
  REQUIRE(database.ok());
  db::ExecutionModel m;
  m.key = {kProject, kDomain, "r1"};
  m.phase = "RUNNING";
  m.closure = admin::ExecutionClosure().SerializeAsString();
  m.launch_entity = "launch_plan";
  REQUIRE((*database)->Repositories()->Executions().Create(m, {}).ok());
  auto stub = AdminService::NewStub(served.channel());
  grpc::ClientContext ctx;
  admin::ExecutionTerminateRequest req;
  *req.mutable_id() = Id("r1");
  req.set_cause("stop");
  admin::ExecutionTerminateResponse resp;
  CheckStatus(stub->TerminateExecution(&ctx, req, &resp), grpc::StatusCode::UNAVAILABLE, "cluster unreachable");
  auto row = (*database)->Repositories()->Executions().Get(m.key);
  REQUIRE(row.ok());
  CHECK(row->phase == "ABORTING");
}

TEST_CASE("Workflow events follow upstream's phase rules and update the closure", "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend, "remoteData:\n  maxSizeInBytes: 4096\n");
  Create(server, Seed{.name = "e1"});
  using P = core::WorkflowExecution;

  // Validation.
  {
    admin::WorkflowExecutionEventRequest req;
    CheckStatus(Send(server, req), grpc::StatusCode::INVALID_ARGUMENT, "Workflow event handler was called without event");
    req.mutable_event()->set_phase(P::RUNNING);
    auto s = Send(server, req);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "Workflow event handler request event doesn't have an execution id - phase:RUNNING");
  }
  CheckStatus(Send(server, "nope", P::RUNNING, 1), grpc::StatusCode::NOT_FOUND,
              "missing entity of type execution with identifier " + IdText("nope"));
  {
    auto req = EventRequest("e1", P::QUEUED, 1);
    req.mutable_event()->clear_occurred_at();
    CheckStatus(Send(server, req), grpc::StatusCode::INTERNAL, "Failed to parse OccurredAt: timestamp: nil Timestamp");
    CHECK(server.Row("e1").phase == "UNDEFINED");
  }

  // QUEUED may repeat and moves the execution to the producer's cluster.
  REQUIRE_OK(Send(server, "e1", P::QUEUED, 1, "c1"));
  REQUIRE_OK(Send(server, "e1", P::QUEUED, 2, "c2"));
  auto row = server.Row("e1");
  CHECK(row.phase == "QUEUED");
  CHECK(row.cluster == "c2");
  CHECK(MustGet(server, "e1").spec().metadata().system_metadata().execution_cluster() == "c2");

  // Other phases must come from the recorded cluster (or an unnamed producer).
  auto foreign = Send(server, "e1", P::RUNNING, 3, "c1");
  CheckStatus(foreign, grpc::StatusCode::FAILED_PRECONDITION,
              "Cluster/producer from event [c1] does not match existing workflow execution clusterInDB: [c2]");
  CHECK(FailureReason(foreign).incompatible_cluster().cluster() == "c1");

  REQUIRE_OK(Send(server, "e1", P::RUNNING, 10, "c2"));
  auto e1 = MustGet(server, "e1");
  CHECK(e1.closure().phase() == P::RUNNING);
  CHECK(e1.closure().started_at().seconds() == Ts(10).seconds());
  CHECK(e1.closure().updated_at().seconds() == Ts(10).seconds());
  row = server.Row("e1");
  CHECK(row.started_at == T(10));
  CHECK(row.execution_updated_at == T(10));

  CheckStatus(Send(server, "e1", P::RUNNING, 11), grpc::StatusCode::ALREADY_EXISTS,
              "This phase RUNNING was already recorded for workflow execution " + IdText("e1"));
  CheckStatus(Send(server, "e1", P::QUEUED, 11), grpc::StatusCode::FAILED_PRECONDITION,
              "Cannot go from RUNNING to QUEUED for workflow execution " + IdText("e1"));
  // Non-terminal phases may come back (RUNNING -> SUCCEEDING -> RUNNING), as upstream allows.
  REQUIRE_OK(Send(server, "e1", P::SUCCEEDING, 12));
  REQUIRE_OK(Send(server, "e1", P::RUNNING, 20, ""));
  CHECK(server.Row("e1").started_at == T(20));

  // Outputs are offloaded by default and read back by GetExecutionData.
  auto succeeded = EventRequest("e1", P::SUCCEEDED, 50);
  *succeeded.mutable_event()->mutable_output_data() = Literals("y", 7);
  REQUIRE_OK(Send(server, succeeded));
  e1 = MustGet(server, "e1");
  CHECK(e1.closure().phase() == P::SUCCEEDED);
  CHECK(e1.closure().duration().seconds() == 30);
  CHECK(server.Row("e1").duration_ns == 30'000'000'000LL);
  const std::string& uri = e1.closure().outputs().uri();
  CHECK_THAT(uri, Catch::EndsWith("/metadata/flytesnacks/development/e1/offloaded_outputs"));
  CHECK_FALSE(e1.closure().has_output_data());
  admin::WorkflowExecutionGetDataResponse data;
  REQUIRE_OK(GetData(server, "e1", &data));
  CHECK(data.full_outputs().literals().at("y").scalar().primitive().integer() == 7);
  // The legacy inline inputs were offloaded on first read and their place remembered.
  CHECK(data.full_inputs().literals().at("x").scalar().primitive().integer() == 1);
  CHECK_THAT(server.Row("e1").inputs_uri, Catch::EndsWith("/metadata/flytesnacks/development/e1/inputs"));
  REQUIRE_OK(GetData(server, "e1", &data));
  CHECK(data.full_inputs().literals().at("x").scalar().primitive().integer() == 1);

  // Nothing moves a terminal execution; a repeat of its phase is a duplicate.
  auto regress = Send(server, "e1", P::FAILED, 60);
  CheckStatus(regress, grpc::StatusCode::FAILED_PRECONDITION,
              "Invalid phase change from SUCCEEDED to FAILED for workflow execution " + IdText("e1"));
  CHECK(FailureReason(regress).already_in_terminal_state().current_phase() == "SUCCEEDED");
  regress = Send(server, "e1", P::RUNNING, 61);
  CHECK(FailureReason(regress).already_in_terminal_state().current_phase() == "SUCCEEDED");
  regress = Send(server, "e1", P::QUEUED, 61);
  CHECK(regress.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(FailureReason(regress).already_in_terminal_state().current_phase() == "SUCCEEDED");
  CheckStatus(Send(server, "e1", P::SUCCEEDED, 62), grpc::StatusCode::ALREADY_EXISTS,
              "This phase SUCCEEDED was already recorded for workflow execution " + IdText("e1"));
  CHECK(server.Row("e1").phase == "SUCCEEDED");
  // One execution_events row per accepted phase (QUEUED and RUNNING were accepted twice).
  CHECK(server.EventRows("e1") == 4);

  // An aborting execution accepts only terminal phases.
  Create(server, Seed{.name = "ab", .phase = "RUNNING", .started_at = T(0)});
  REQUIRE_OK(Terminate(server, "ab", "stop"));
  CheckStatus(Send(server, "ab", P::RUNNING, 5), grpc::StatusCode::FAILED_PRECONDITION,
              "Invalid phase change from aborting to RUNNING for workflow execution " + IdText("ab"));
  CheckStatus(Send(server, "ab", P::SUCCEEDING, 5), grpc::StatusCode::FAILED_PRECONDITION,
              "Invalid phase change from aborting to SUCCEEDING for workflow execution " + IdText("ab"));
  REQUIRE_OK(Send(server, "ab", P::ABORTED, 6));
  CHECK(server.Row("ab").phase == "ABORTED");

  // Errors fill the closure and the error columns.
  Create(server, Seed{.name = "err", .phase = "RUNNING"});
  auto failed = EventRequest("err", P::FAILED, 7);
  failed.mutable_event()->mutable_error()->set_code("USER:Boom");
  failed.mutable_event()->mutable_error()->set_message("it broke");
  failed.mutable_event()->mutable_error()->set_kind(core::ExecutionError::USER);
  REQUIRE_OK(Send(server, failed));
  row = server.Row("err");
  CHECK(row.error_kind == std::optional<std::string>("USER"));
  CHECK(row.error_code == std::optional<std::string>("USER:Boom"));
  CHECK(MustGet(server, "err").closure().error().message() == "it broke");
  // No started_at: no duration.
  CHECK_FALSE(MustGet(server, "err").closure().has_duration());

  // An output URI is recorded as is.
  Create(server, Seed{.name = "uri", .phase = "RUNNING"});
  auto with_uri = EventRequest("uri", P::SUCCEEDED, 8);
  with_uri.mutable_event()->set_output_uri("s3://bucket/outputs.pb");
  REQUIRE_OK(Send(server, with_uri));
  CHECK(MustGet(server, "uri").closure().outputs().uri() == "s3://bucket/outputs.pb");

  // Output data above remoteData.maxSizeInBytes is refused before anything is read.
  Create(server, Seed{.name = "big", .phase = "RUNNING"});
  auto big = EventRequest("big", P::SUCCEEDED, 9);
  core::Literal text;
  text.mutable_scalar()->mutable_primitive()->set_string_value(std::string(5000, 'z'));
  (*big.mutable_event()->mutable_output_data()->mutable_literals())["o"] = text;
  const auto size = big.event().output_data().ByteSizeLong();
  CheckStatus(Send(server, big), grpc::StatusCode::RESOURCE_EXHAUSTED,
              "Output data size exceeds platform configured threshold (" + std::to_string(size) + " > 4096)");
  CHECK(server.Row("big").phase == "RUNNING");

  // REST: events are posted as JSON; a duplicate is a conflict.
  Create(server, Seed{.name = "rest"});
  const std::string rest_event =
      R"({"request_id": "r1", "event": {"execution_id": {"project": "flytesnacks", "domain": "development",
          "name": "rest"}, "phase": "RUNNING", "occurred_at": "2026-09-21T11:33:20Z", "producer_id": "propeller"}})";
  auto posted = server.Http("POST", "/api/v1/events/workflows", rest_event);
  INFO(posted.body);
  CHECK(posted.status == 200);
  CHECK(server.Row("rest").phase == "RUNNING");
  auto again = server.Http("POST", "/api/v1/events/workflows", rest_event);
  CHECK(again.status == 409);
  CHECK(nlohmann::json::parse(again.body)["message"] ==
        "This phase RUNNING was already recorded for workflow execution " + IdText("rest"));
}

TEST_CASE("Concurrent senders of one execution's events lose no update and exactly one wins each phase",
          "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend);
  constexpr int kThreads = 8;
  Create(server, Seed{.name = "race"});
  using P = core::WorkflowExecution;
  const std::vector<P::Phase> rounds = {P::RUNNING, P::SUCCEEDING, P::SUCCEEDED};
  std::vector<int> winners;
  for (size_t r = 0; r < rounds.size(); ++r) {
    std::vector<grpc::StatusCode> codes(kThreads);
    std::barrier start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto req = EventRequest("race", rounds[r], static_cast<int>(100 * (r + 1) + t));
        start.arrive_and_wait();
        codes[t] = Send(server, req).error_code();
      });
    }
    for (auto& th : threads) th.join();
    int ok = 0;
    for (int t = 0; t < kThreads; ++t) {
      INFO("round " << r << " thread " << t);
      if (codes[t] == grpc::StatusCode::OK) {
        ++ok;
        winners.push_back(t);
      } else {
        CHECK(codes[t] == grpc::StatusCode::ALREADY_EXISTS);
      }
    }
    REQUIRE(ok == 1);
  }
  // The stored execution is exactly the winners' updates.
  auto race = MustGet(server, "race");
  CHECK(race.closure().phase() == P::SUCCEEDED);
  CHECK(race.closure().started_at().seconds() == Ts(100 + winners[0]).seconds());
  CHECK(race.closure().updated_at().seconds() == Ts(300 + winners[2]).seconds());
  CHECK(race.closure().duration().seconds() == 200 + winners[2] - winners[0]);
  CHECK(server.EventRows("race") == 3);

  // Many executions driven at once, each by its own thread, all arrive.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) Create(server, Seed{.name = "par" + std::to_string(t)});
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string name = "par" + std::to_string(t);
      int at = 0;
      for (auto phase : {P::QUEUED, P::RUNNING, P::SUCCEEDING, P::SUCCEEDED}) {
        if (!Send(server, name, phase, ++at).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  for (int t = 0; t < kThreads; ++t) CHECK(server.Row("par" + std::to_string(t)).phase == "SUCCEEDED");

  // A terminate racing the terminal event: either order leaves a consistent, terminal execution.
  for (int i = 0; i < 4; ++i) {
    const std::string name = "tr" + std::to_string(i);
    Create(server, Seed{.name = name, .phase = "RUNNING"});
    grpc::Status terminated, finished;
    std::barrier start(2);
    std::thread a([&] {
      start.arrive_and_wait();
      terminated = Terminate(server, name, "race");
    });
    std::thread b([&] {
      start.arrive_and_wait();
      finished = Send(server, name, P::SUCCEEDED, 9);
    });
    a.join();
    b.join();
    REQUIRE_OK(finished);
    CHECK((terminated.ok() || terminated.error_code() == grpc::StatusCode::FAILED_PRECONDITION));
    CHECK(server.Row(name).phase == "SUCCEEDED");
  }
}

TEST_CASE("Event outputs are kept inline under StoreInline and served within maxSizeInBytes", "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend, "remoteData:\n  maxSizeInBytes: 4096\n  inlineEventDataPolicy: StoreInline\n");
  using P = core::WorkflowExecution;
  Create(server, Seed{.name = "small", .phase = "RUNNING"});
  auto req = EventRequest("small", P::SUCCEEDED, 5);
  *req.mutable_event()->mutable_output_data() = Literals("y", 42);
  REQUIRE_OK(Send(server, req));
  auto small = MustGet(server, "small");
  CHECK(small.closure().output_data().literals().at("y").scalar().primitive().integer() == 42);
  CHECK_FALSE(small.closure().has_outputs());
  admin::WorkflowExecutionGetDataResponse data;
  REQUIRE_OK(GetData(server, "small", &data));
  CHECK(data.full_outputs().literals().at("y").scalar().primitive().integer() == 42);

  // Exactly maxSizeInBytes is accepted (<=) but too big to return inline (<).
  core::LiteralMap edge;
  for (size_t n = 4000; n < 4096; ++n) {
    core::Literal text;
    text.mutable_scalar()->mutable_primitive()->set_string_value(std::string(n, 'z'));
    (*edge.mutable_literals())["o"] = text;
    if (edge.ByteSizeLong() == 4096) break;
  }
  REQUIRE(edge.ByteSizeLong() == 4096);
  Create(server, Seed{.name = "edge", .phase = "RUNNING"});
  req = EventRequest("edge", P::SUCCEEDED, 5);
  *req.mutable_event()->mutable_output_data() = edge;
  REQUIRE_OK(Send(server, req));
  CHECK(MustGet(server, "edge").closure().output_data().ByteSizeLong() == 4096);
  REQUIRE_OK(GetData(server, "edge", &data));
  CHECK(data.full_outputs().literals().empty());

  // REST: the data response's JSON shape.
  auto got = server.Http("GET", "/api/v1/data/executions/flytesnacks/development/small");
  INFO(got.body);
  REQUIRE(got.status == 200);
  auto body = nlohmann::json::parse(got.body);
  CHECK(body["full_outputs"]["literals"]["y"]["scalar"]["primitive"]["integer"] == "42");
  CHECK(body["full_inputs"]["literals"]["x"]["scalar"]["primitive"]["integer"] == "1");
  auto missing = server.Http("GET", "/api/v1/data/executions/flytesnacks/development/nope");
  CHECK(missing.status == 404);
}

TEST_CASE("GetExecutionData leaves out an offloaded object over storage.limits.maxDownloadMBs", "[e2e]") {
  OpsServer server("sqlite", "storage:\n  limits:\n    maxDownloadMBs: 1\n");
  using P = core::WorkflowExecution;
  Create(server, Seed{.name = "big", .phase = "RUNNING"});
  auto req = EventRequest("big", P::SUCCEEDED, 5);
  core::LiteralMap big;
  (*big.mutable_literals())["blob"].mutable_scalar()->mutable_primitive()->set_string_value(
      std::string(1536 * 1024, 'x'));
  *req.mutable_event()->mutable_output_data() = big;
  REQUIRE_OK(Send(server, req));
  admin::WorkflowExecutionGetDataResponse data;
  REQUIRE_OK(GetData(server, "big", &data));
  // flytestdlib refuses to read it (upstream logs that and answers without it).
  CHECK(data.full_outputs().literals().empty());
  CHECK(data.full_inputs().literals().at("x").scalar().primitive().integer() == 1);
}

TEST_CASE("GetExecutionData answers URL blobs for the stored objects when signed URLs are enabled", "[e2e]") {
  OpsServer server("sqlite", "remoteData:\n  signedUrls:\n    enabled: true\n");
  using P = core::WorkflowExecution;
  Create(server, Seed{.name = "signed", .phase = "RUNNING"});
  auto req = EventRequest("signed", P::SUCCEEDED, 5);
  *req.mutable_event()->mutable_output_data() = Literals("y", 3);
  REQUIRE_OK(Send(server, req));
  const std::string output_uri = MustGet(server, "signed").closure().outputs().uri();
  admin::WorkflowExecutionGetDataResponse data;
  REQUIRE_OK(GetData(server, "signed", &data));
  // remoteData.scheme none: the object's own URI and size.
  CHECK(data.outputs().url() == output_uri);
  CHECK(data.outputs().bytes() == static_cast<int64_t>(Literals("y", 3).ByteSizeLong()));
  CHECK(data.full_outputs().literals().at("y").scalar().primitive().integer() == 3);
  CHECK(data.inputs().url() == server.Row("signed").inputs_uri);
  CHECK(data.inputs().bytes() == static_cast<int64_t>(Literals("x", 1).ByteSizeLong()));
  CHECK(data.full_inputs().literals().at("x").scalar().primitive().integer() == 1);

  // An object that is gone (deleted from the bucket): its URI with size 0 and no data, as
  // upstream's HEAD of a missing object gives, not an error.
  REQUIRE(output_uri.rfind("file://", 0) == 0);
  REQUIRE(std::filesystem::remove(output_uri.substr(std::string("file://").size())));
  data.Clear();
  REQUIRE_OK(GetData(server, "signed", &data));
  CHECK(data.outputs().url() == output_uri);
  CHECK(data.outputs().bytes() == 0);
  CHECK(data.full_outputs().literals().empty());
  CHECK(data.full_inputs().literals().at("x").scalar().primitive().integer() == 1);
}

TEST_CASE("ListExecutions lists the requested project and domain only, one row per matching tag",
          "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend);
  // As upstream's integration test: the same names in other scopes, and tags where one key
  // holds two values.
  Create(server, Seed{.name = "name1",
                      .phase = "RUNNING",
                      .tags = {{"key1", "value1"}, {"key1", "value2"}, {"key2", "value2"}, {"key3", "value3"}}});
  Create(server, Seed{.name = "name2", .phase = "SUCCEEDED"});
  Create(server, Seed{.name = "name1", .phase = "RUNNING", .domain = "staging"});
  Create(server, Seed{.name = "name1", .phase = "SUCCEEDED", .project = "other"});
  Create(server, Seed{.name = "name3", .phase = "FAILED", .project = "other", .domain = "staging"});

  auto names_in = [&](const std::string& project, const std::string& domain,
                      const std::string& filters = "") {
    auto req = ListRequest(filters);
    req.mutable_id()->set_project(project);
    req.mutable_id()->set_domain(domain);
    admin::ExecutionList list;
    auto status = List(server, req, &list);
    INFO(project << "/" << domain << " " << filters << ": " << status.error_message());
    REQUIRE(status.ok());
    std::multiset<std::string> out;
    for (const auto& e : list.executions()) {
      CHECK(e.id().project() == project);
      CHECK(e.id().domain() == domain);
      out.insert(e.id().name());
    }
    return out;
  };
  CHECK(names_in(kProject, kDomain) == std::multiset<std::string>{"name1", "name2"});
  CHECK(names_in(kProject, "staging") == std::multiset<std::string>{"name1"});
  CHECK(names_in("other", kDomain) == std::multiset<std::string>{"name1"});
  CHECK(names_in("other", "staging") == std::multiset<std::string>{"name3"});
  CHECK(names_in("nobody", kDomain).empty());
  // Upstream joins execution_tags and keeps every matching row: an execution matched by two of
  // its tags is listed twice.
  CHECK(names_in(kProject, kDomain, "value_in(execution_tag.key, key1)") ==
        std::multiset<std::string>{"name1", "name1"});
  CHECK(names_in(kProject, kDomain, "value_in(execution_tag.value, value2)") ==
        std::multiset<std::string>{"name1", "name1"});
  CHECK(names_in(kProject, kDomain, "value_in(execution_tag.key, key3)") ==
        std::multiset<std::string>{"name1"});
  // Upstream joins the tags on the execution name alone, so an execution of the same name in
  // another domain matches them too (kept as upstream lists it).
  CHECK(names_in(kProject, "staging", "value_in(execution_tag.key, key1)") ==
        std::multiset<std::string>{"name1", "name1"});
  CHECK(names_in("other", "staging", "value_in(execution_tag.key, key1)").empty());
}

TEST_CASE("Workflow events: a terminal first event, QUEUED while aborting, an unreadable closure",
          "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend);
  using P = core::WorkflowExecution;

  // The first event may be terminal (UNDEFINED to SUCCEEDED), as upstream's integration test
  // sends it.
  Create(server, Seed{.name = "direct"});
  REQUIRE_OK(Send(server, "direct", P::SUCCEEDED, 30));
  auto direct = MustGet(server, "direct");
  CHECK(direct.closure().phase() == P::SUCCEEDED);
  CHECK(direct.closure().updated_at().seconds() == Ts(30).seconds());
  CHECK(server.Row("direct").phase == "SUCCEEDED");
  CHECK(server.EventRows("direct") == 1);

  // An aborting execution takes only terminal phases; QUEUED (which skips the duplicate and
  // cluster checks) is refused too, and a refused event changes nothing.
  Create(server, Seed{.name = "aborting", .phase = "ABORTING", .created_at = T(5)});
  const auto before = server.Row("aborting");
  const auto before_closure = MustGet(server, "aborting").closure();
  for (auto phase : {P::QUEUED, P::RUNNING, P::SUCCEEDING}) {
    auto refused = Send(server, "aborting", phase, 40);
    CheckStatus(refused, grpc::StatusCode::FAILED_PRECONDITION,
                "Invalid phase change from aborting to " + P::Phase_Name(phase) +
                    " for workflow execution " + IdText("aborting"));
  }
  auto after = server.Row("aborting");
  CHECK(after.phase == "ABORTING");
  CHECK(after.closure == before.closure);
  CHECK(after.updated_at == before.updated_at);
  CHECK(after.cluster == before.cluster);
  CHECK(MustGet(server, "aborting").closure().updated_at().seconds() ==
        before_closure.updated_at().seconds());
  CHECK(server.EventRows("aborting") == 0);
  REQUIRE_OK(Send(server, "aborting", P::ABORTED, 41));
  CHECK(server.Row("aborting").phase == "ABORTED");

  // A stored closure that does not parse fails the event as INTERNAL and leaves the row alone.
  Create(server, Seed{.name = "garbled", .phase = "RUNNING", .raw_closure = std::string("\xff\xff\xff", 3)});
  auto garbled = Send(server, "garbled", P::SUCCEEDED, 50);
  CHECK(garbled.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(server.Row("garbled").phase == "RUNNING");
  CHECK(server.Row("garbled").closure == std::string("\xff\xff\xff", 3));
  CHECK(server.EventRows("garbled") == 0);
}

TEST_CASE("ListExecutions filters on the joined launch plan and workflow as upstream's test does",
          "[e2e]") {
  const std::string backend = Backend();
  INFO("backend " << backend);
  OpsServer server(backend);
  auto& repos = *server.database->Repositories();
  auto add_workflow = [&](const std::string& project, const std::string& domain,
                          const std::string& name) {
    db::WorkflowModel w;
    w.key = {project, domain, name, "version1"};
    w.remote_closure_identifier = "s3://foo";
    w.digest = "d";
    REQUIRE(repos.Workflows().Create(w, std::nullopt).ok());
    auto got = repos.Workflows().Get(w.key);
    REQUIRE(got.ok());
    return got->id;
  };
  auto add_launch_plan = [&](const std::string& project, const std::string& domain,
                             const std::string& name, int64_t workflow_id) {
    db::LaunchPlanModel lp;
    lp.key = {project, domain, name, "version1"};
    lp.workflow_id = workflow_id;
    lp.digest = "d";
    REQUIRE(repos.LaunchPlans().Create(lp).ok());
    auto got = repos.LaunchPlans().Get(lp.key);
    REQUIRE(got.ok());
    return got->id;
  };
  // upstream's populateWorkflowExecutionsForTestingOnly, in this server's project and domain.
  const int64_t wf_here = add_workflow(kProject, kDomain, "name1");
  const int64_t wf_there = add_workflow("project2", "domain2", "name2");
  const int64_t lp_here = add_launch_plan(kProject, kDomain, "name1", wf_here);
  const int64_t lp_there = add_launch_plan("project2", "domain2", "name2", wf_there);
  Create(server, Seed{.name = "name1", .phase = "RUNNING", .launch_plan_id = lp_here, .workflow_id = wf_here});
  Create(server, Seed{.name = "name2", .phase = "SUCCEEDED", .launch_plan_id = lp_here, .workflow_id = wf_here});
  Create(server, Seed{.name = "name3", .phase = "RUNNING", .launch_plan_id = lp_there, .workflow_id = wf_here});
  Create(server, Seed{.name = "name4", .phase = "FAILED", .launch_plan_id = lp_here, .workflow_id = wf_there});

  using Set = std::set<std::string>;
  CHECK(ListNames(server, "eq(phase,RUNNING)") == Set{"name1", "name3"});
  CHECK(ListNames(server, "eq(phase,RUNNING)+ne(launch_plan.project, project2)") == Set{"name1"});
  CHECK(ListNames(server, "eq(phase,FAILED)+eq(workflow.domain, domain2)") == Set{"name4"});
  CHECK(ListNames(server, "contains(workflow.name, 1)") == Set{"name1", "name2", "name3"});
  CHECK(ListNames(server, "eq(launch_plan.name, name2)+eq(workflow.name, name1)") == Set{"name3"});
}
