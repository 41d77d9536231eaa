// CreateExecution, RelaunchExecution and RecoverExecution on the built server with the recording
// WorkflowExecutor: launch plans and single tasks from the flytesnacks package, upstream's
// validation texts, the offloaded inputs, the stored rows and what the executor was handed, on
// SQLite and PostgreSQL.
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <google/protobuf/util/time_util.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "registration_client.h"
#include "served_server.h"
#include "grpc_helpers.h"
#include "test_support.h"

using flyteidl::service::AdminService;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";
constexpr const char* kBasicWf = "core.flyte_basics.basic_workflow.my_wf";
constexpr const char* kSquareTask = "core.flyte_basics.task.square";

std::string Plugins(const std::string& record, const std::string& executor_config) {
  return "    - name: flyte_manager_project\n"
         "    - name: flyte_manager_task\n"
         "    - name: flyte_manager_workflow\n"
         "    - name: flyte_manager_launch_plan\n"
         "    - name: flyte_manager_named_entity\n"
         "    - name: flyte_manager_resource\n"
         "    - name: flyte_manager_execution\n"
         "    - path: " FLYTE_FIXTURE_PLUGIN_DIR
         "/libfixture_recording_executor.so\n"
         "      config:\n"
         "        record: " +
         record + "\n" + executor_config;
}

// The per-process temp directory the served servers keep their SQLite files in.
std::filesystem::path TestTempDir() {
  return std::filesystem::path(flyte::test::WriteTempFile("probe", "")).parent_path();
}

std::vector<std::string> Layers(const std::string& a, const std::string& b) {
  std::vector<std::string> out;
  for (const auto& l : {a, b}) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

// A served admin with the execution manager and the recording executor, plus a direct view of
// its database.
struct ExecServer {
  ExecServer(const std::string& backend, const std::string& executor_config = "",
             const std::string& extra_layer = "")
      : record(flyte::test::WriteTempFile(
            "record-" + std::to_string(flyte::test::FreePort()) + ".jsonl", "")),
        dbname("e2e_exec_" + std::to_string(flyte::test::FreePort())),
        layer(backend == "postgres" ? flyte::test::PostgresLayer(dbname) : ""),
        served(Plugins(record, executor_config), Layers(layer, extra_layer)),
        stub(AdminService::NewStub(served.channel())) {
    std::string yaml =
        layer.empty()
            ? "database:\n  sqlite:\n    file: \"" +
                  (TestTempDir() / ("server-" + std::to_string(served.grpc_port)) / "admin.db")
                      .string() +
                  "\"\n"
            : layer;
    auto config = flyte::core::Config::FromDocuments(
        {yaml}, [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
    REQUIRE(config.ok());
    auto opened = flyte::core::db::OpenDatabase(*config);
    REQUIRE(opened.ok());
    database = *opened;
  }

  flyte::plugin::db::Repositories& repos() { return *database->Repositories(); }

  std::vector<nlohmann::json> Records() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(record);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

  void RegisterPackage() {
    flyte::test::Target target{kProject, kDomain, "v1"};
    for (auto& e : flyte::test::ReadPackage(flyte::test::FlytesnacksCoreDir())) {
      flyte::test::Hydrate(e, target);
      auto r = flyte::test::Register(*stub, e, target);
      INFO(r.file << ": " << r.message);
      REQUIRE((r.code == grpc::StatusCode::OK || r.code == grpc::StatusCode::ALREADY_EXISTS));
    }
  }

  std::string record, dbname, layer;
  flyte::test::ServedServer served;
  std::unique_ptr<AdminService::Stub> stub;
  std::shared_ptr<flyte::core::db::Database> database;
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

core::Identifier Ref(core::ResourceType type, const std::string& name,
                     const std::string& version = "v1") {
  core::Identifier id;
  id.set_resource_type(type);
  id.set_project(kProject);
  id.set_domain(kDomain);
  id.set_name(name);
  id.set_version(version);
  return id;
}

admin::ExecutionCreateRequest Request(const std::string& name, const core::Identifier& ref,
                                      std::map<std::string, core::Literal> inputs = {}) {
  admin::ExecutionCreateRequest req;
  req.set_project(kProject);
  req.set_domain(kDomain);
  req.set_name(name);
  *req.mutable_spec()->mutable_launch_plan() = ref;
  for (auto& [k, v] : inputs) (*req.mutable_inputs()->mutable_literals())[k] = v;
  return req;
}

grpc::Status Create(AdminService::Stub& stub, const admin::ExecutionCreateRequest& req,
                    admin::ExecutionCreateResponse* out = nullptr) {
  grpc::ClientContext ctx;
  admin::ExecutionCreateResponse resp;
  auto s = stub.CreateExecution(&ctx, req, &resp);
  if (out) *out = resp;
  return s;
}

core::WorkflowExecutionIdentifier ExecId(const std::string& name) {
  core::WorkflowExecutionIdentifier id;
  id.set_project(kProject);
  id.set_domain(kDomain);
  id.set_name(name);
  return id;
}

core::LiteralMap ReadLiteralMap(const std::string& uri) {
  REQUIRE(uri.rfind("file://", 0) == 0);
  std::ifstream in(uri.substr(7), std::ios::binary);
  REQUIRE(in.good());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  core::LiteralMap map;
  REQUIRE(map.ParseFromString(bytes));
  return map;
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

core::LiteralMap Map(std::map<std::string, core::Literal> literals) {
  core::LiteralMap m;
  for (auto& [k, v] : literals) (*m.mutable_literals())[k] = v;
  return m;
}

flyte::plugin::db::ExecutionModel Row(ExecServer& server, const std::string& name) {
  auto row = server.repos().Executions().Get({kProject, kDomain, name});
  REQUIRE(row.ok());
  return row.value();
}

// The executor's last line for an execution name.
nlohmann::json LastRecordFor(const ExecServer& server, const std::string& name) {
  nlohmann::json found;
  for (auto& line : server.Records()) {
    if (line["execution_id"]["name"] == name) found = line;
  }
  REQUIRE(!found.is_null());
  return found;
}

// The name of the square task's one input, as registered.
std::string SquareTaskInput(AdminService::Stub& stub) {
  grpc::ClientContext ctx;
  admin::ObjectGetRequest get_task;
  *get_task.mutable_id() = Ref(core::TASK, kSquareTask);
  admin::Task task;
  REQUIRE(stub.GetTask(&ctx, get_task, &task).ok());
  return task.closure().compiled_task().template_().interface().inputs().variables().begin()->first;
}

}  // namespace

TEST_CASE(
    "CreateExecution launches a launch plan, offloads its inputs and stores the row as upstream",
    "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  ExecServer server(backend);
  server.RegisterPackage();
  auto& stub = *server.stub;

  auto req =
      Request("basic-1", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(3)}, {"b", Str("hi")}});
  (*req.mutable_spec()->mutable_labels()->mutable_values())["team"] = "ml";
  req.mutable_spec()->add_tags("nightly");
  req.mutable_spec()->mutable_metadata()->set_principal("client-sent");
  admin::ExecutionCreateResponse resp;
  auto s = Create(stub, req, &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(resp.id().project() == kProject);
  CHECK(resp.id().domain() == kDomain);
  CHECK(resp.id().name() == "basic-1");

  // The row.
  auto row = Row(server, "basic-1");
  CHECK(row.phase == "UNDEFINED");
  CHECK(row.launch_entity == "launch_plan");
  CHECK(row.cluster == "recording-cluster");
  CHECK(row.launch_plan_id > 0);
  CHECK(row.workflow_id > 0);
  CHECK(row.task_id == 0);
  CHECK(row.mode == 0);
  CHECK(row.state == 0);
  CHECK(row.user.empty());
  CHECK(row.execution_created_at.has_value());
  CHECK(row.inputs_uri.size() >
        std::string("/metadata/flytesnacks/development/basic-1/inputs").size());
  CHECK(row.inputs_uri.find("/metadata/flytesnacks/development/basic-1/inputs") ==
        row.inputs_uri.size() -
            std::string("/metadata/flytesnacks/development/basic-1/inputs").size());
  CHECK(row.user_inputs_uri.substr(row.user_inputs_uri.size() -
                                   std::string("/basic-1/user_inputs").size()) ==
        "/basic-1/user_inputs");
  admin::ExecutionSpec spec;
  REQUIRE(spec.ParseFromString(row.spec));
  CHECK(spec.metadata().system_metadata().execution_cluster() == "recording-cluster");
  CHECK(spec.metadata().system_metadata().namespace_() == "flytesnacks-development");
  CHECK(spec.metadata().principal().empty());
  CHECK(spec.max_parallelism() == 25);
  CHECK(spec.has_security_context());
  CHECK(spec.labels().values().at("team") == "ml");
  admin::ExecutionClosure closure;
  REQUIRE(closure.ParseFromString(row.closure));
  CHECK(closure.phase() == core::WorkflowExecution::UNDEFINED);
  CHECK(closure.workflow_id().name() == kBasicWf);
  CHECK(closure.workflow_id().resource_type() == core::WORKFLOW);
  CHECK(closure.state_change_details().state() == admin::EXECUTION_ACTIVE);
  CHECK(closure.created_at().seconds() > 0);
  CHECK(!closure.has_error());

  // Labels and tags are execution_tags rows.
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"team", "ml"}, {"nightly", ""}}) {
    flyte::plugin::db::ListInput in;
    in.filters = {{"executions", "execution_project", flyte::plugin::db::FilterOp::kEq, {kProject}},
                  {"execution_tags", "key", flyte::plugin::db::FilterOp::kEq, {key}},
                  {"execution_tags", "value", flyte::plugin::db::FilterOp::kEq, {value}}};
    in.limit = 10;
    auto rows = server.repos().Executions().List(in);
    REQUIRE(rows.ok());
    REQUIRE(rows->size() == 1);
    CHECK(rows->front().key.name == "basic-1");
  }

  // A tag given twice, or also as a label without a value, is one row: the insert cannot fail
  // after the executor has started the workflow.
  auto repeated =
      Request("basic-tags", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(3)}, {"b", Str("hi")}});
  (*repeated.mutable_spec()->mutable_labels()->mutable_values())["team"] = "";
  repeated.mutable_spec()->add_tags("team");
  repeated.mutable_spec()->add_tags("nightly");
  repeated.mutable_spec()->add_tags("nightly");
  s = Create(stub, repeated, &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(Row(server, "basic-tags").phase == "UNDEFINED");
  for (const std::string key : {"team", "nightly"}) {
    flyte::plugin::db::ListInput in;
    in.filters = {{"executions", "execution_name", flyte::plugin::db::FilterOp::kEq, {"basic-tags"}},
                  {"execution_tags", "key", flyte::plugin::db::FilterOp::kEq, {key}}};
    in.limit = 10;
    auto rows = server.repos().Executions().List(in);
    REQUIRE(rows.ok());
    CHECK(rows->size() == 1);
  }

  // The stored inputs.
  CHECK(Same(ReadLiteralMap(row.inputs_uri), Map({{"a", Int(3)}, {"b", Str("hi")}})));
  CHECK(Same(ReadLiteralMap(row.user_inputs_uri), Map({{"a", Int(3)}, {"b", Str("hi")}})));

  // What the executor was handed.
  auto line = LastRecordFor(server, "basic-1");
  CHECK(line["call"] == "execute");
  // A launch plan's execution is stamped before the executor is called (upstream).
  CHECK(google::protobuf::util::TimeUtil::TimestampToMicroseconds(closure.created_at()) <=
        line["called_at_us"].get<int64_t>());
  CHECK(line["namespace"] == "flytesnacks-development");
  CHECK(line["execution_id"]["project"] == kProject);
  CHECK(line["reference_workflow_name"] == kBasicWf);
  CHECK(line["reference_launch_plan_name"] == kBasicWf);
  CHECK(line["offloaded_inputs_reference"] == row.inputs_uri);
  CHECK(line["workflow_closure_reference"].get<std::string>().rfind("file://", 0) == 0);
  CHECK(line["inputs"]["literals"]["a"]["scalar"]["primitive"]["integer"] == "3");
  CHECK(line["inputs"]["literals"]["b"]["scalar"]["primitive"]["string_value"] == "hi");
  CHECK(line["labels"] == nlohmann::json{{"team", "ml"}});
  CHECK(line["execution_config"]["max_parallelism"] == 25);
  CHECK(line["execution_config"].contains("security_context"));
  CHECK(line["event_version"] == 2);
  CHECK(line["recovery_execution"].is_null());
  CHECK(line["cluster_assignment"].is_null());
  CHECK(line["task_resource_defaults"]["cpu"] == "2");
  CHECK(line["task_resource_defaults"]["memory"] == "200Mi");
  CHECK(line["task_resource_limits"]["memory"] == "1Gi");
  CHECK(line["accepted_at"].get<int64_t>() > 0);
  // Every compiled container task carries the platform cpu and memory.
  const auto& tasks = line["workflow_closure"]["tasks"];
  REQUIRE(tasks.size() == 2);
  for (const auto& task : tasks) {
    std::set<std::string> requested;
    for (const auto& r : task["template"]["container"]["resources"]["requests"])
      requested.insert(r["name"]);
    CHECK(requested == std::set<std::string>{"CPU", "MEMORY"});
  }

  {  // without a name one is generated: 'a' and 19 characters of the k8s alphabet
    admin::ExecutionCreateResponse generated;
    REQUIRE(Create(stub,
                   Request("", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}, {"b", Str("y")}}),
                   &generated)
                .ok());
    const auto& name = generated.id().name();
    REQUIRE(name.size() == 20);
    CHECK(name[0] == 'a');
    CHECK(name.substr(1).find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
    CHECK(Row(server, name).launch_entity == "launch_plan");
  }

  {  // legacy clients' spec.inputs are used when the request has none
    auto legacy = Request("legacy-1", Ref(core::LAUNCH_PLAN, kBasicWf));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    *legacy.mutable_spec()->mutable_inputs() = Map({{"a", Int(7)}, {"b", Str("old")}});
#pragma GCC diagnostic pop
    REQUIRE(Create(stub, legacy).ok());
    CHECK(Same(ReadLiteralMap(Row(server, "legacy-1").inputs_uri),
               Map({{"a", Int(7)}, {"b", Str("old")}})));
  }

  {  // the project's labels: added to the request's own labels (stored and tagged, as upstream
     // resolves into the request's map), never replacing one; the executor gets them either way
    admin::Project project;
    project.set_id(kProject);
    project.set_name(kProject);
    (*project.mutable_labels()->mutable_values())["team"] = "platform";
    (*project.mutable_labels()->mutable_values())["cost-center"] = "42";
    grpc::ClientContext upd_ctx;
    admin::ProjectUpdateResponse upd_resp;
    REQUIRE(stub.UpdateProject(&upd_ctx, project, &upd_resp).ok());

    auto labelled = Request("labelled-1", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}, {"b", Str("x")}});
    (*labelled.mutable_spec()->mutable_labels()->mutable_values())["team"] = "ml";
    REQUIRE(Create(stub, labelled).ok());
    admin::ExecutionSpec stored;
    REQUIRE(stored.ParseFromString(Row(server, "labelled-1").spec));
    CHECK(std::map<std::string, std::string>(stored.labels().values().begin(), stored.labels().values().end()) ==
          std::map<std::string, std::string>{{"team", "ml"}, {"cost-center", "42"}});
    CHECK(LastRecordFor(server, "labelled-1")["labels"] == nlohmann::json{{"team", "ml"}, {"cost-center", "42"}});
    flyte::plugin::db::ListInput in;
    in.filters = {{"execution_tags", "key", flyte::plugin::db::FilterOp::kEq, {"cost-center"}}};
    in.limit = 10;
    auto tagged = server.repos().Executions().List(in);
    REQUIRE(tagged.ok());
    REQUIRE(tagged->size() == 1);
    CHECK(tagged->front().key.name == "labelled-1");

    // Without labels of its own, the spec stays without labels.
    REQUIRE(Create(stub, Request("unlabelled-1", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}, {"b", Str("x")}}))
                .ok());
    REQUIRE(stored.ParseFromString(Row(server, "unlabelled-1").spec));
    CHECK(stored.labels().values().empty());
    CHECK(LastRecordFor(server, "unlabelled-1")["labels"] == nlohmann::json{{"team", "platform"}, {"cost-center", "42"}});
    project.clear_labels();
    grpc::ClientContext reset_ctx;
    REQUIRE(stub.UpdateProject(&reset_ctx, project, &upd_resp).ok());
  }

  {  // default and fixed inputs of launch plans are merged into the user's
    REQUIRE(Create(stub, Request("default-lp", Ref(core::LAUNCH_PLAN, "default_4_lp"))).ok());
    auto merged = ReadLiteralMap(Row(server, "default-lp").inputs_uri);
    CHECK(Same(merged, Map({{"val", Int(4)}})));
    CHECK(ReadLiteralMap(Row(server, "default-lp").user_inputs_uri).literals().empty());

    grpc::ClientContext ctx;
    admin::ObjectGetRequest get;
    *get.mutable_id() = Ref(core::LAUNCH_PLAN, "always_2_lp");
    admin::LaunchPlan fixed_lp;
    REQUIRE(stub.GetLaunchPlan(&ctx, get, &fixed_lp).ok());
    REQUIRE(fixed_lp.spec().fixed_inputs().literals().size() == 1);
    const auto fixed_name = fixed_lp.spec().fixed_inputs().literals().begin()->first;
    REQUIRE(Create(stub, Request("fixed-lp", Ref(core::LAUNCH_PLAN, "always_2_lp"))).ok());
    CHECK(Same(ReadLiteralMap(Row(server, "fixed-lp").inputs_uri), fixed_lp.spec().fixed_inputs()));

    // A fixed input is not among the expected inputs, so upstream refuses it as unknown before
    // its "cannot be overridden" check could see it.
    auto overridden = Create(
        stub, Request("fixed-lp-2", Ref(core::LAUNCH_PLAN, "always_2_lp"), {{fixed_name, Int(9)}}));
    CHECK(overridden.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(overridden.error_message() == "invalid input " + fixed_name);

    // With the same input both defaulted and fixed, the default is merged before the fixed inputs
    // are added, so upstream refuses every create of such a launch plan, with or without a value.
    admin::LaunchPlanCreateRequest both;
    *both.mutable_id() = Ref(core::LAUNCH_PLAN, "default-and-fixed");
    *both.mutable_spec()->mutable_workflow_id() = fixed_lp.spec().workflow_id();
    auto& param =
        (*both.mutable_spec()->mutable_default_inputs()->mutable_parameters())[fixed_name];
    param.mutable_var()->mutable_type()->set_simple(core::INTEGER);
    *param.mutable_default_() = Int(1);
    (*both.mutable_spec()->mutable_fixed_inputs()->mutable_literals())[fixed_name] = Int(2);
    grpc::ClientContext both_ctx;
    admin::LaunchPlanCreateResponse both_resp;
    auto registered = stub.CreateLaunchPlan(&both_ctx, both, &both_resp);
    INFO(registered.error_message());
    REQUIRE(registered.ok());
    auto refused = Create(stub, Request("both-1", Ref(core::LAUNCH_PLAN, "default-and-fixed"),
                                        {{fixed_name, Int(9)}}));
    CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(refused.error_message() == "fixed_inputs " + fixed_name + " cannot be overridden");
    auto defaulted = Create(stub, Request("both-2", Ref(core::LAUNCH_PLAN, "default-and-fixed")));
    CHECK(defaulted.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(defaulted.error_message() == "fixed_inputs " + fixed_name + " cannot be overridden");
  }

  {  // inputs are checked against the launch plan's expected inputs
    auto unknown = Create(stub, Request("bad-in-1", Ref(core::LAUNCH_PLAN, kBasicWf),
                                        {{"a", Int(1)}, {"b", Str("x")}, {"zzz", Int(1)}}));
    CHECK(unknown.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(unknown.error_message() == "invalid input zzz");

    auto missing =
        Create(stub, Request("bad-in-2", Ref(core::LAUNCH_PLAN, kBasicWf), {{"b", Str("x")}}));
    CHECK(missing.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(missing.error_message() == "expected_inputs a missing");

    auto wrong = Create(stub, Request("bad-in-3", Ref(core::LAUNCH_PLAN, kBasicWf),
                                      {{"a", Str("three")}, {"b", Str("x")}}));
    CHECK(wrong.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(wrong.error_message() ==
          "invalid a input wrong type. Expected simple:INTEGER, but got simple:STRING");

    auto empty_literal = Request("bad-in-4", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}});
    (*empty_literal.mutable_inputs()->mutable_literals())["b"] = core::Literal();
    auto invalid = Create(stub, empty_literal);
    CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(invalid.error_message() == "missing valid literal in inputs b");

    // Nothing was stored or launched for the refused requests.
    for (const char* name : {"bad-in-1", "bad-in-2", "bad-in-3", "bad-in-4"}) {
      CHECK(server.repos().Executions().Get({kProject, kDomain, name}).status().code() ==
            flyte::plugin::StatusCode::kNotFound);
      for (auto& l : server.Records()) CHECK(l["execution_id"]["name"] != name);
    }
  }

  {  // requests are validated in upstream's order with upstream's messages
    auto expect = [&](admin::ExecutionCreateRequest r, grpc::StatusCode code,
                      const std::string& message) {
      auto st = Create(stub, r);
      CHECK(st.error_code() == code);
      CHECK(st.error_message() == message);
    };
    auto good = Request("", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}, {"b", Str("x")}});
    auto r = good;
    r.clear_project();
    expect(r, grpc::StatusCode::INVALID_ARGUMENT, "missing project");
    r = good;
    r.clear_domain();
    expect(r, grpc::StatusCode::INVALID_ARGUMENT, "missing domain");
    r = good;
    r.set_name("Bad_Name");
    expect(r, grpc::StatusCode::INVALID_ARGUMENT,
           "invalid name format: bad_name, does not match regex '^[a-z][a-z\\-0-9]*$'");
    r.set_name("1abc");
    expect(r, grpc::StatusCode::INVALID_ARGUMENT,
           "invalid name format: 1abc, does not match regex '^[a-z][a-z\\-0-9]*$'");
    r.set_name(std::string(64, 'a'));
    expect(r, grpc::StatusCode::INVALID_ARGUMENT,
           "size of name exceeded length 63 : " + std::string(64, 'a'));
    r = good;
    r.set_project("nope");
    {
      auto st = Create(stub, r);
      CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(st.error_message().rfind(
                "failed to validate that project [nope] and domain [development] are registered",
                0) == 0);
    }
    {
      // An archived project: upstream's InactiveProject detail rides along (the scheduler reads
      // it).
      admin::ProjectRegisterRequest reg;
      reg.mutable_project()->set_id("archived-proj");
      reg.mutable_project()->set_name("archived-proj");
      grpc::ClientContext reg_ctx;
      admin::ProjectRegisterResponse reg_resp;
      REQUIRE(stub.RegisterProject(&reg_ctx, reg, &reg_resp).ok());
      admin::Project archived = reg.project();
      archived.set_state(admin::Project::ARCHIVED);
      grpc::ClientContext upd_ctx;
      admin::ProjectUpdateResponse upd_resp;
      REQUIRE(stub.UpdateProject(&upd_ctx, archived, &upd_resp).ok());
      r = good;
      r.set_project("archived-proj");
      auto st = Create(stub, r);
      CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(st.error_message() == "project [archived-proj] is not active");
      CHECK(st.error_details().find("flyteidl.admin.InactiveProject") != std::string::npos);
    }
    r = good;
    r.set_domain("qa");
    expect(r, grpc::StatusCode::INVALID_ARGUMENT, "domain [qa] is unrecognized by system");
    r = good;
    r.clear_spec();
    expect(r, grpc::StatusCode::INVALID_ARGUMENT, "missing spec");
    r = good;
    r.mutable_spec()->mutable_launch_plan()->clear_version();
    expect(r, grpc::StatusCode::INVALID_ARGUMENT, "missing version");
    r = good;
    r.mutable_spec()->mutable_launch_plan()->set_resource_type(core::WORKFLOW);
    expect(r, grpc::StatusCode::INVALID_ARGUMENT,
           "Invalid reference entity resource type [WORKFLOW], only [map[TASK:<nil> "
           "LAUNCH_PLAN:<nil>]] allowed");
    r = good;
    (*r.mutable_spec()->mutable_labels()->mutable_values())["bad key!"] = "v";
    {
      auto st = Create(stub, r);
      CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(st.error_message().rfind("invalid label key [bad key!]", 0) == 0);
    }
    {
      // Labels and tags become execution_tags rows of 255 characters at most: a longer one is
      // refused up front on both databases (PostgreSQL would fail the insert, SQLite keep it).
      r = good;
      const std::string long_tag(256, 't');
      r.mutable_spec()->add_tags(long_tag);
      expect(r, grpc::StatusCode::INVALID_ARGUMENT,
             "tag [" + long_tag + "] is longer than 255 characters, the most an execution tag holds");
      r = good;
      // A valid Kubernetes label key (a 253-character DNS prefix allows it) that is too long.
      const std::string long_key = std::string(200, 'a') + ".example.com/" + std::string(60, 'b');
      (*r.mutable_spec()->mutable_labels()->mutable_values())[long_key] = "v";
      expect(r, grpc::StatusCode::INVALID_ARGUMENT,
             "label key [" + long_key +
                 "] is longer than 255 characters, the most an execution tag holds");
    }
    r = good;
    r.mutable_spec()->mutable_launch_plan()->set_version("v9");
    expect(r, grpc::StatusCode::NOT_FOUND,
           "missing entity of type LAUNCH_PLAN with identifier project:\"flytesnacks\" "
           "domain:\"development\" "
           "name:\"core.flyte_basics.basic_workflow.my_wf\" version:\"v9\"");
  }

  {  // relaunch starts a new execution from the stored spec and user inputs
    admin::ExecutionRelaunchRequest relaunch;
    *relaunch.mutable_id() = ExecId("basic-1");
    relaunch.set_name("relaunch-1");
    relaunch.set_overwrite_cache(true);
    grpc::ClientContext ctx;
    admin::ExecutionCreateResponse created;
    auto st = stub.RelaunchExecution(&ctx, relaunch, &created);
    INFO(st.error_message());
    REQUIRE(st.ok());
    CHECK(created.id().name() == "relaunch-1");
    auto relaunched = Row(server, "relaunch-1");
    CHECK(relaunched.mode == admin::ExecutionMetadata::RELAUNCH);
    CHECK(relaunched.source_execution_id == row.id);
    admin::ExecutionSpec relaunched_spec;
    REQUIRE(relaunched_spec.ParseFromString(relaunched.spec));
    CHECK(relaunched_spec.overwrite_cache());
    CHECK(Same(relaunched_spec.metadata().reference_execution(), ExecId("basic-1")));
    CHECK(relaunched_spec.labels().values().at("team") == "ml");
    CHECK(Same(ReadLiteralMap(relaunched.user_inputs_uri), Map({{"a", Int(3)}, {"b", Str("hi")}})));
    CHECK(Same(ReadLiteralMap(relaunched.inputs_uri), Map({{"a", Int(3)}, {"b", Str("hi")}})));
    auto relaunch_line = LastRecordFor(server, "relaunch-1");
    CHECK(relaunch_line["recovery_execution"].is_null());
    CHECK(relaunch_line["inputs"] == line["inputs"]);

    grpc::ClientContext missing_ctx;
    *relaunch.mutable_id() = ExecId("nope");
    auto missing = stub.RelaunchExecution(&missing_ctx, relaunch, &created);
    CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(missing.error_message() ==
          "missing entity of type execution with identifier project:\"flytesnacks\" "
          "domain:\"development\" name:\"nope\"");
  }

  {  // recover starts a RECOVERED execution and hands the original to the executor
    admin::ExecutionRecoverRequest recover;
    *recover.mutable_id() = ExecId("basic-1");
    recover.set_name("recover-1");
    grpc::ClientContext ctx;
    admin::ExecutionCreateResponse created;
    auto st = stub.RecoverExecution(&ctx, recover, &created);
    INFO(st.error_message());
    REQUIRE(st.ok());
    auto recovered = Row(server, "recover-1");
    CHECK(recovered.mode == admin::ExecutionMetadata::RECOVERED);
    CHECK(recovered.source_execution_id == row.id);
    CHECK(Same(ReadLiteralMap(recovered.user_inputs_uri), Map({{"a", Int(3)}, {"b", Str("hi")}})));
    auto recover_line = LastRecordFor(server, "recover-1");
    CHECK(recover_line["recovery_execution"] ==
          nlohmann::json{{"project", kProject}, {"domain", kDomain}, {"name", "basic-1"}});
  }
  {  // a source whose stored inputs are gone is a storage failure (INTERNAL), not NOT_FOUND,
     // which propeller would read as "nothing to recover" and launch afresh
    auto inputs = Row(server, "recover-1").user_inputs_uri;
    REQUIRE(std::filesystem::remove(inputs.substr(7)));
    admin::ExecutionRecoverRequest recover;
    *recover.mutable_id() = ExecId("recover-1");
    recover.set_name("recover-2");
    grpc::ClientContext ctx;
    admin::ExecutionCreateResponse created;
    auto st = stub.RecoverExecution(&ctx, recover, &created);
    CHECK(st.error_code() == grpc::StatusCode::INTERNAL);
    CHECK(st.error_message().find(inputs) != std::string::npos);
    admin::ExecutionRelaunchRequest relaunch;
    *relaunch.mutable_id() = ExecId("recover-1");
    relaunch.set_name("relaunch-2");
    grpc::ClientContext relaunch_ctx;
    CHECK(stub.RelaunchExecution(&relaunch_ctx, relaunch, &created).error_code() == grpc::StatusCode::INTERNAL);
  }
  {  // a source whose stored closure does not parse is refused as upstream reads it
    auto garbled = server.repos().Executions().Update(
        {kProject, kDomain, "relaunch-1"}, [](flyte::plugin::db::ExecutionModel& m) {
          m.closure = std::string("\xff\xff\xff", 3);
          return flyte::plugin::Status::Ok();
        });
    REQUIRE(garbled.ok());
    for (const bool recover : {false, true}) {
      grpc::ClientContext ctx;
      admin::ExecutionCreateResponse created;
      grpc::Status st;
      if (recover) {
        admin::ExecutionRecoverRequest req;
        *req.mutable_id() = ExecId("relaunch-1");
        req.set_name("from-garbled-r");
        st = stub.RecoverExecution(&ctx, req, &created);
      } else {
        admin::ExecutionRelaunchRequest req;
        *req.mutable_id() = ExecId("relaunch-1");
        req.set_name("from-garbled");
        st = stub.RelaunchExecution(&ctx, req, &created);
      }
      CHECK(st.error_code() == grpc::StatusCode::INTERNAL);
      CHECK(st.error_message() == "failed to unmarshal closure");
    }
    CHECK_FALSE(server.repos().Executions().Get({kProject, kDomain, "from-garbled"}).ok());
  }
  {  // notifications, cluster pool and label, and plugin overrides reach the closure and the
     // executor
    admin::ProjectDomainAttributesUpdateRequest attrs;
    attrs.mutable_attributes()->set_project(kProject);
    attrs.mutable_attributes()->set_domain(kDomain);
    auto* o = attrs.mutable_attributes()
                  ->mutable_matching_attributes()
                  ->mutable_plugin_overrides()
                  ->add_overrides();
    o->set_task_type("python-task");
    o->add_plugin_id("my-plugin");
    grpc::ClientContext attrs_ctx;
    admin::ProjectDomainAttributesUpdateResponse attrs_resp;
    REQUIRE(stub.UpdateProjectDomainAttributes(&attrs_ctx, attrs, &attrs_resp).ok());

    auto rich =
        Request("rich-1", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}, {"b", Str("x")}});
    auto* n = rich.mutable_spec()->mutable_notifications()->add_notifications();
    n->add_phases(core::WorkflowExecution::SUCCEEDED);
    n->mutable_email()->add_recipients_email("a@b.c");
    rich.mutable_spec()->mutable_cluster_assignment()->set_cluster_pool_name("gpu-pool");
    rich.mutable_spec()->mutable_execution_cluster_label()->set_value("label-1");
    auto st = Create(stub, rich);
    INFO(st.error_message());
    REQUIRE(st.ok());
    admin::ExecutionClosure rich_closure;
    REQUIRE(rich_closure.ParseFromString(Row(server, "rich-1").closure));
    REQUIRE(rich_closure.notifications_size() == 1);
    CHECK(rich_closure.notifications(0).email().recipients_email(0) == "a@b.c");
    auto rich_line = LastRecordFor(server, "rich-1");
    CHECK(rich_line["cluster_assignment"] == nlohmann::json{{"cluster_pool_name", "gpu-pool"}});
    CHECK(rich_line["execution_cluster_label"] == nlohmann::json{{"value", "label-1"}});
    REQUIRE(rich_line["task_plugin_overrides"].size() == 1);
    CHECK(rich_line["task_plugin_overrides"][0]["task_type"] == "python-task");

    auto muted = rich;
    muted.set_name("muted-1");
    muted.mutable_spec()->clear_notifications();
    muted.mutable_spec()->set_disable_all(true);
    REQUIRE(Create(stub, muted).ok());
    REQUIRE(rich_closure.ParseFromString(Row(server, "muted-1").closure));
    CHECK(rich_closure.notifications_size() == 0);
  }

  {  // a child launched from a parent's node inherits its principal, nesting and cluster label
    flyte::plugin::db::NodeExecutionModel node;
    node.key = {{kProject, kDomain, "rich-1"}, "n0"};
    node.phase = "RUNNING";
    REQUIRE(server.repos().NodeExecutions().Create(node).ok());
    auto node_row = server.repos().NodeExecutions().Get(node.key);
    REQUIRE(node_row.ok());

    auto child =
        Request("child-1", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}, {"b", Str("x")}});
    auto* parent = child.mutable_spec()->mutable_metadata()->mutable_parent_node_execution();
    parent->set_node_id("n0");
    *parent->mutable_execution_id() = ExecId("rich-1");
    auto st = Create(stub, child);
    INFO(st.error_message());
    REQUIRE(st.ok());
    auto child_row = Row(server, "child-1");
    CHECK(child_row.parent_node_execution_id == node_row->id);
    CHECK(child_row.source_execution_id == Row(server, "rich-1").id);
    admin::ExecutionSpec child_spec;
    REQUIRE(child_spec.ParseFromString(child_row.spec));
    CHECK(child_spec.metadata().nesting() == 1);
    CHECK(child_spec.execution_cluster_label().value() == "label-1");
    CHECK(LastRecordFor(server, "child-1")["execution_cluster_label"] ==
          nlohmann::json{{"value", "label-1"}});

    parent->set_node_id("missing");
    child.set_name("child-2");
    auto missing = Create(stub, child);
    CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(missing.error_message() ==
          "missing entity of type node execution with identifier node_id:\"missing\" "
          "execution_id:{project:\"flytesnacks\" domain:\"development\" name:\"rich-1\"}");
  }

  {  // a launch plan's concurrency policy counts its QUEUED and RUNNING executions of any version
    grpc::ClientContext get_ctx;
    admin::ObjectGetRequest get;
    *get.mutable_id() = Ref(core::LAUNCH_PLAN, kBasicWf);
    admin::LaunchPlan basic;
    REQUIRE(stub.GetLaunchPlan(&get_ctx, get, &basic).ok());
    admin::LaunchPlanCreateRequest limited;
    *limited.mutable_id() = Ref(core::LAUNCH_PLAN, "limited");
    *limited.mutable_spec() = basic.spec();
    limited.mutable_spec()->mutable_concurrency_policy()->set_max(1);
    limited.mutable_spec()->mutable_concurrency_policy()->set_behavior(
        admin::CONCURRENCY_LIMIT_BEHAVIOR_SKIP);
    grpc::ClientContext lp_ctx;
    admin::LaunchPlanCreateResponse lp_resp;
    auto registered = stub.CreateLaunchPlan(&lp_ctx, limited, &lp_resp);
    INFO(registered.error_message());
    REQUIRE(registered.ok());

    const std::map<std::string, core::Literal> in = {{"a", Int(1)}, {"b", Str("x")}};
    REQUIRE(Create(stub, Request("limited-1", Ref(core::LAUNCH_PLAN, "limited"), in)).ok());
    // UNDEFINED does not count.
    REQUIRE(Create(stub, Request("limited-2", Ref(core::LAUNCH_PLAN, "limited"), in)).ok());
    auto running = server.repos().Executions().Update({kProject, kDomain, "limited-1"},
                                                      [](flyte::plugin::db::ExecutionModel& e) {
                                                        e.phase = "RUNNING";
                                                        return flyte::plugin::Status::Ok();
                                                      });
    REQUIRE(running.ok());
    auto skipped = Create(stub, Request("limited-3", Ref(core::LAUNCH_PLAN, "limited"), in));
    CHECK(skipped.error_code() == grpc::StatusCode::ALREADY_EXISTS);
    CHECK(skipped.error_message() ==
          "concurrency limit (1) reached for launch plan limited; skipping execution");
    for (auto& l : server.Records()) CHECK(l["execution_id"]["name"] != "limited-3");
  }

  {  // a second create with the same name is ALREADY_EXISTS, and touches nothing of the first
    const size_t before = server.Records().size();
    const auto first_inputs = ReadLiteralMap(Row(server, "basic-1").user_inputs_uri);
    auto again = Create(stub, Request("basic-1", Ref(core::LAUNCH_PLAN, kBasicWf),
                                      {{"a", Int(4)}, {"b", Str("x")}}));
    CHECK(again.error_code() == grpc::StatusCode::ALREADY_EXISTS);
    CHECK(again.error_message() ==
          "value with matching already exists (execution flytesnacks/development/basic-1 already exists)");
    CHECK(server.Records().size() == before);
    CHECK(google::protobuf::util::MessageDifferencer::Equals(
        ReadLiteralMap(Row(server, "basic-1").user_inputs_uri), first_inputs));
    CHECK(Row(server, "basic-1").id == row.id);
  }
}

TEST_CASE("Concurrent launches of one name: one runs, the others are ALREADY_EXISTS and change nothing",
          "[e2e]") {
  ExecServer server("sqlite");
  server.RegisterPackage();
  constexpr int kLaunches = 8;
  auto results = flyte::test::Concurrently(kLaunches, [&](int i) {
    auto stub = AdminService::NewStub(server.served.channel());
    return Create(*stub, Request("same-name", Ref(core::LAUNCH_PLAN, kBasicWf),
                                 {{"a", Int(i)}, {"b", Str("from " + std::to_string(i))}}));
  });
  const int winner = flyte::test::SoleWinner(results, grpc::StatusCode::ALREADY_EXISTS);
  REQUIRE(winner >= 0);
  // One run handed to the executor, and the stored inputs are the winner's.
  int executed = 0;
  for (auto& line : server.Records()) {
    if (line["execution_id"]["name"] == "same-name") ++executed;
  }
  CHECK(executed == 1);
  auto row = Row(server, "same-name");
  CHECK(Same(ReadLiteralMap(row.inputs_uri),
             Map({{"a", Int(winner)}, {"b", Str("from " + std::to_string(winner))}})));
  CHECK(Same(ReadLiteralMap(row.user_inputs_uri),
             Map({{"a", Int(winner)}, {"b", Str("from " + std::to_string(winner))}})));
}

TEST_CASE("Concurrent first launches of one task all run, sharing one .flytegen launch plan",
          "[e2e]") {
  ExecServer server("sqlite");
  server.RegisterPackage();
  const std::string input = SquareTaskInput(*server.stub);
  constexpr int kLaunches = 6;
  auto results = flyte::test::Concurrently(kLaunches, [&](int i) {
    auto stub = AdminService::NewStub(server.served.channel());
    return Create(*stub, Request("first-" + std::to_string(i), Ref(core::TASK, kSquareTask),
                                 {{input, Int(i)}}));
  });
  for (int i = 0; i < kLaunches; ++i) {
    INFO(i << ": " << results[i].error_message());
    CHECK(results[i].ok());
  }
  grpc::ClientContext lp_ctx;
  admin::ObjectGetRequest get_lp;
  *get_lp.mutable_id() = Ref(core::LAUNCH_PLAN, std::string(".flytegen.") + kSquareTask);
  admin::LaunchPlan lp;
  CHECK(server.stub->GetLaunchPlan(&lp_ctx, get_lp, &lp).ok());
}

TEST_CASE(
    "CreateExecution runs a single task through a synthetic .flytegen workflow and launch plan",
    "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  ExecServer server(backend);
  server.RegisterPackage();
  auto& stub = *server.stub;

  grpc::ClientContext task_ctx;
  admin::ObjectGetRequest get_task;
  *get_task.mutable_id() = Ref(core::TASK, kSquareTask);
  admin::Task task;
  REQUIRE(stub.GetTask(&task_ctx, get_task, &task).ok());
  const auto& task_inputs =
      task.closure().compiled_task().template_().interface().inputs().variables();
  REQUIRE(task_inputs.size() == 1);
  const std::string input = task_inputs.begin()->first;

  admin::ExecutionCreateResponse resp;
  auto s = Create(stub, Request("task-1", Ref(core::TASK, kSquareTask), {{input, Int(5)}}), &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(resp.id().name() == "task-1");

  const std::string generated = std::string(".flytegen.") + kSquareTask;
  auto row = Row(server, "task-1");
  CHECK(row.launch_entity == "task");
  CHECK(row.task_id > 0);
  CHECK(row.launch_plan_id == 0);
  CHECK(row.phase == "UNDEFINED");
  CHECK(row.cluster == "recording-cluster");
  CHECK(Same(ReadLiteralMap(row.inputs_uri), Map({{input, Int(5)}})));
  admin::ExecutionSpec spec;
  REQUIRE(spec.ParseFromString(row.spec));
  CHECK(spec.max_parallelism() == 0);  // not copied in the single-task flow
  admin::ExecutionClosure closure;
  REQUIRE(closure.ParseFromString(row.closure));
  CHECK(closure.workflow_id().name() == generated);
  // A single task's execution is stamped after the executor is called (upstream).
  CHECK(google::protobuf::util::TimeUtil::TimestampToMicroseconds(closure.created_at()) >=
        LastRecordFor(server, "task-1")["called_at_us"].get<int64_t>());

  // The synthetic workflow: one node named after the task, bound to the workflow's inputs.
  grpc::ClientContext wf_ctx;
  admin::ObjectGetRequest get_wf;
  *get_wf.mutable_id() = Ref(core::WORKFLOW, generated);
  admin::Workflow workflow;
  REQUIRE(stub.GetWorkflow(&wf_ctx, get_wf, &workflow).ok());
  auto wf_row = server.repos().Workflows().Get({kProject, kDomain, generated, "v1"});
  REQUIRE(wf_row.ok());
  CHECK(row.workflow_id == wf_row->id);
  const auto& primary = workflow.closure().compiled_workflow().primary().template_();
  const auto node = std::find_if(primary.nodes().begin(), primary.nodes().end(),
                                 [](const core::Node& n) { return n.has_task_node(); });
  REQUIRE(node != primary.nodes().end());
  CHECK(node->id() == "coreflytebasicstasksquare");
  CHECK(node->task_node().reference_id().name() == kSquareTask);
  CHECK(node->metadata().has_retries());

  // The synthetic launch plan, INACTIVE, naming the task itself as its workflow (upstream's quirk).
  grpc::ClientContext lp_ctx;
  admin::ObjectGetRequest get_lp;
  *get_lp.mutable_id() = Ref(core::LAUNCH_PLAN, generated);
  admin::LaunchPlan lp;
  REQUIRE(stub.GetLaunchPlan(&lp_ctx, get_lp, &lp).ok());
  CHECK(lp.closure().state() == admin::INACTIVE);
  CHECK(lp.spec().workflow_id().name() == kSquareTask);
  CHECK(lp.closure().expected_inputs().parameters().at(input).required());
  CHECK(lp.closure().expected_outputs().variables_size() ==
        task.closure().compiled_task().template_().interface().outputs().variables_size());
  CHECK(lp.closure().has_expected_outputs());

  // Both are SYSTEM_GENERATED named entities.
  for (auto type : {core::WORKFLOW, core::LAUNCH_PLAN}) {
    auto entity = server.repos().NamedEntities().Get(type, {kProject, kDomain, generated});
    REQUIRE(entity.ok());
    CHECK(entity->state == admin::SYSTEM_GENERATED);
  }

  auto line = LastRecordFor(server, "task-1");
  CHECK(line["reference_workflow_name"] == generated);
  CHECK(line["reference_launch_plan_name"] == generated);
  CHECK(line["offloaded_inputs_reference"] == row.inputs_uri);
  CHECK(line["workflow_closure"]["tasks"].size() == 1);

  // No execution_tags for single tasks, even with labels, so neither a label key nor a tag
  // longer than an execution tag holds is refused (a valid Kubernetes label key may be).
  auto labelled = Request("task-2", Ref(core::TASK, kSquareTask), {{input, Int(6)}});
  (*labelled.mutable_spec()->mutable_labels()->mutable_values())["team"] = "ml";
  const std::string long_key = std::string(200, 'a') + ".example.com/" + std::string(60, 'b');
  (*labelled.mutable_spec()->mutable_labels()->mutable_values())[long_key] = "v";
  labelled.mutable_spec()->add_tags(std::string(256, 't'));
  {
    auto st = Create(stub, labelled);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }
  flyte::plugin::db::ListInput in;
  in.filters = {{"execution_tags", "key", flyte::plugin::db::FilterOp::kEq, {"team"}}};
  in.limit = 10;
  auto tagged = server.repos().Executions().List(in);
  REQUIRE(tagged.ok());
  CHECK(tagged->empty());
  CHECK(LastRecordFor(server, "task-2")["labels"] == nlohmann::json{{"team", "ml"}, {long_key, "v"}});

  // Bad inputs against the synthetic launch plan.
  auto wrong =
      Create(stub, Request("task-3", Ref(core::TASK, kSquareTask), {{input, Str("five")}}));
  CHECK(wrong.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(wrong.error_message() ==
        "invalid " + input + " input wrong type. Expected simple:INTEGER, but got simple:STRING");
  auto missing_task =
      Create(stub, Request("task-4", Ref(core::TASK, kSquareTask, "v9"), {{input, Int(1)}}));
  CHECK(missing_task.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(
      missing_task.error_message() ==
      "missing entity of type TASK with identifier project:\"flytesnacks\" domain:\"development\" "
      "name:\"core.flyte_basics.task.square\" version:\"v9\"");

  // A relaunch of a task execution goes through the task flow again.
  admin::ExecutionRelaunchRequest relaunch;
  *relaunch.mutable_id() = ExecId("task-1");
  relaunch.set_name("task-1-again");
  grpc::ClientContext relaunch_ctx;
  admin::ExecutionCreateResponse created;
  REQUIRE(stub.RelaunchExecution(&relaunch_ctx, relaunch, &created).ok());
  auto again = Row(server, "task-1-again");
  CHECK(again.launch_entity == "task");
  CHECK(again.mode == admin::ExecutionMetadata::RELAUNCH);
  CHECK(again.source_execution_id == row.id);
}

TEST_CASE("An executor error without a gRPC code is stored as Unknown and answered as INTERNAL",
          "[e2e]") {
  // What upstream does with an error that is not an admin error (the k8s executor's build
  // errors): the launch plan's FAILED execution says "Unknown", a task's create INTERNAL.
  ExecServer server("sqlite", "        failExecute: \"2:Collected Errors: 1\"\n");
  server.RegisterPackage();
  auto s = Create(*server.stub, Request("unknown-lp", Ref(core::LAUNCH_PLAN, kBasicWf),
                                        {{"a", Int(1)}, {"b", Str("x")}}));
  REQUIRE(s.ok());
  admin::ExecutionClosure closure;
  REQUIRE(closure.ParseFromString(Row(server, "unknown-lp").closure));
  CHECK(closure.error().code() == "Unknown");
  CHECK(closure.error().kind() == core::ExecutionError::SYSTEM);
  const std::string input = SquareTaskInput(*server.stub);
  auto failed = Create(*server.stub, Request("unknown-task", Ref(core::TASK, kSquareTask), {{input, Int(1)}}));
  CHECK(failed.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(failed.error_message() == "Collected Errors: 1");
}

TEST_CASE(
    "An executor failure stores a launch plan's execution as FAILED but fails a task's create",
    "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  // With a dynamic execution queue for the domain, the executor's tasks carry child_queue.
  ExecServer server(
      backend, "        failExecute: \"13:boom\"\n",
      "queues:\n  executionQueues:\n    - dynamic: dyn-queue\n      attributes: [dev]\n"
      "  workflowConfigs:\n    - domain: development\n      tags: [dev]\n");
  server.RegisterPackage();
  auto& stub = *server.stub;

  admin::ExecutionCreateResponse resp;
  auto s = Create(
      stub, Request("fail-lp", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}, {"b", Str("x")}}),
      &resp);
  INFO(s.error_message());
  REQUIRE(s.ok());
  CHECK(resp.id().name() == "fail-lp");
  auto row = Row(server, "fail-lp");
  CHECK(row.phase == "FAILED");
  CHECK(row.cluster.empty());
  admin::ExecutionClosure closure;
  REQUIRE(closure.ParseFromString(row.closure));
  CHECK(closure.phase() == core::WorkflowExecution::FAILED);
  CHECK(closure.error().code() == "Internal");
  CHECK(closure.error().message() == "boom");
  CHECK(closure.error().kind() == core::ExecutionError::SYSTEM);

  const std::string input = SquareTaskInput(stub);
  auto failed = Create(stub, Request("fail-task", Ref(core::TASK, kSquareTask), {{input, Int(1)}}));
  CHECK(failed.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(failed.error_message() == "boom");
  CHECK(server.repos().Executions().Get({kProject, kDomain, "fail-task"}).status().code() ==
        flyte::plugin::StatusCode::kNotFound);
  // Both runs reached the executor, their container tasks assigned the dynamic queue.
  for (const char* name : {"fail-lp", "fail-task"}) {
    auto line = LastRecordFor(server, name);
    CHECK(line["call"] == "execute");
    for (const auto& t : line["workflow_closure"]["tasks"]) {
      CHECK(t["template"]["container"]["config"].back() ==
            nlohmann::json{{"key", "child_queue"}, {"value", "dyn-queue"}});
    }
  }
}

// CreateExecution with the caller's identity in x-test-* metadata, which the header_identity
// fixture interceptor reports as an authentication plugin would.
grpc::Status CreateAs(AdminService::Stub& stub, const admin::ExecutionCreateRequest& req,
                      const std::map<std::string, std::string>& identity) {
  grpc::ClientContext ctx;
  for (const auto& [k, v] : identity) ctx.AddMetadata(k, v);
  admin::ExecutionCreateResponse resp;
  return stub.CreateExecution(&ctx, req, &resp);
}

TEST_CASE("The caller's identity becomes the principal, the run-as identity and, when enabled, annotations",
          "[e2e]") {
  const std::string identity_plugin =
      "    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_header_identity.so\n";
  auto launch = [](ExecServer& server, const std::string& name, const std::map<std::string, std::string>& identity,
                   bool single_task = false) {
    admin::ExecutionCreateRequest req;
    if (single_task) {
      req = Request(name, Ref(core::TASK, kSquareTask), {{SquareTaskInput(*server.stub), Int(2)}});
    } else {
      req = Request(name, Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(1)}, {"b", Str("x")}});
      // An annotation the request sets is never replaced by an identity annotation.
      (*req.mutable_spec()->mutable_annotations()->mutable_values())["flyte.org/user-sub"] = "set-by-request";
    }
    auto s = CreateAs(*server.stub, req, identity);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return LastRecordFor(server, name);
  };
  const std::map<std::string, std::string> user = {{"x-test-principal", "alice-id"},
                                                   {"x-test-user-email", "alice@example.com"}};
  const std::map<std::string, std::string> app = {{"x-test-principal", "ci-bot"}, {"x-test-app-id", "ci-bot"}};

  SECTION("enabled, with upstream's keys and one it does not know") {
    ExecServer server("sqlite", identity_plugin,
                      "flyteadmin:\n  injectIdentityAnnotations: true\n"
                      "  identityAnnotationKeys: [email, sub, id, team]\n");
    server.RegisterPackage();

    auto line = launch(server, "as-user", user);
    CHECK(line["annotations"] == nlohmann::json{{"flyte.org/user-email", "alice@example.com"},
                                                {"flyte.org/user-sub", "set-by-request"}});
    // The principal is the caller's (a client-sent one is overwritten), stored with the spec and
    // as the row's user, and the run-as identity defaults to it.
    auto row = Row(server, "as-user");
    CHECK(row.user == "alice-id");
    admin::ExecutionSpec spec;
    REQUIRE(spec.ParseFromString(row.spec));
    CHECK(spec.metadata().principal() == "alice-id");
    CHECK(spec.security_context().run_as().execution_identity() == "alice-id");
    // The request gave annotations: as upstream, the identity annotations go into that map and
    // are stored with the spec too.
    CHECK(spec.annotations().values().size() == 2);
    CHECK(spec.annotations().values().at("flyte.org/user-email") == "alice@example.com");
    CHECK(spec.annotations().values().at("flyte.org/user-sub") == "set-by-request");

    // A task launched by a user: the subject defaults to the user id.
    line = launch(server, "as-user-task", user, true);
    CHECK(line["annotations"] == nlohmann::json{{"flyte.org/user-email", "alice@example.com"},
                                                {"flyte.org/user-sub", "alice-id"}});
    // It gave none: the stored spec has none.
    REQUIRE(spec.ParseFromString(Row(server, "as-user-task").spec));
    CHECK(spec.annotations().values().empty());

    // An application's token: every known key names the app.
    line = launch(server, "as-app", app, true);
    CHECK(line["annotations"] == nlohmann::json{{"flyte.org/app-email", "ci-bot"},
                                                {"flyte.org/app-sub", "ci-bot"},
                                                {"flyte.org/app-id", "ci-bot"}});

    // Nobody authenticated: nothing added.
    line = launch(server, "anonymous", {}, true);
    CHECK(line["annotations"].empty());
  }

  SECTION("a prefix that is not a DNS-1123 subdomain adds nothing; off by default") {
    ExecServer bad_prefix("sqlite", identity_plugin,
                          "flyteadmin:\n  injectIdentityAnnotations: true\n"
                          "  identityAnnotationPrefix: Not_A.Domain\n  identityAnnotationKeys: [email]\n");
    bad_prefix.RegisterPackage();
    CHECK(launch(bad_prefix, "bad-prefix", user, true)["annotations"].empty());
    // The operator is told once, at start-up.
    CHECK(bad_prefix.served.Stderr().find("flyteadmin.identityAnnotationPrefix 'Not_A.Domain' is not a "
                                          "DNS-1123 subdomain") != std::string::npos);

    ExecServer custom("sqlite", identity_plugin,
                      "flyteadmin:\n  injectIdentityAnnotations: true\n"
                      "  identityAnnotationPrefix: id.example.com\n  identityAnnotationKeys: [email]\n");
    custom.RegisterPackage();
    CHECK(launch(custom, "custom-prefix", user, true)["annotations"] ==
          nlohmann::json{{"id.example.com/user-email", "alice@example.com"}});

    ExecServer off("sqlite", identity_plugin, "flyteadmin:\n  identityAnnotationKeys: [email]\n");
    off.RegisterPackage();
    CHECK(launch(off, "off", user, true)["annotations"].empty());
    CHECK(Row(off, "off").user == "alice-id");
  }
}

TEST_CASE("Launches read closures and inputs within storage.limits.maxDownloadMBs as upstream does",
          "[e2e]") {
  ExecServer server("sqlite", "", "storage:\n  limits:\n    maxDownloadMBs: 1\n");
  server.RegisterPackage();
  auto& stub = *server.stub;
  const auto write = [](const std::string& uri, const google::protobuf::Message& m) {
    REQUIRE(uri.rfind("file://", 0) == 0);
    std::ofstream out(uri.substr(7), std::ios::binary | std::ios::trunc);
    REQUIRE(m.SerializeToOstream(&out));
  };
  const std::string big(1536 * 1024, 'x');
  const std::string tail = "mb > 1mb. You can increase the limit by setting maxDownloadMBs.";

  // A relaunch reads the source's user inputs: over the limit, it fails and stores nothing.
  REQUIRE(Create(stub, Request("small-1", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(3)}, {"b", Str("hi")}}))
              .ok());
  const std::string user_inputs = Row(server, "small-1").user_inputs_uri;
  write(user_inputs, Map({{"a", Int(3)}, {"b", Str(big)}}));
  admin::ExecutionRelaunchRequest relaunch;
  *relaunch.mutable_id() = ExecId("small-1");
  relaunch.set_name("small-2");
  grpc::ClientContext relaunch_ctx;
  admin::ExecutionCreateResponse created;
  auto refused = stub.RelaunchExecution(&relaunch_ctx, relaunch, &created);
  CHECK(refused.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(refused.error_message(),
             Catch::Contains("path:" + user_inputs + ": [LIMIT_EXCEEDED] limit exceeded. 1.5"));
  CHECK_THAT(refused.error_message(), Catch::EndsWith(tail));
  CHECK(server.repos().Executions().Get({kProject, kDomain, "small-2"}).status().code() ==
        flyte::plugin::StatusCode::kNotFound);

  // A launch reads the workflow's stored closure: over the limit, INTERNAL as upstream.
  auto wf = server.repos().Workflows().Get({kProject, kDomain, kBasicWf, "v1"});
  REQUIRE(wf.ok());
  const std::string closure_uri = wf->remote_closure_identifier;
  admin::WorkflowClosure closure;
  {
    std::ifstream in(closure_uri.substr(7), std::ios::binary);
    REQUIRE(closure.ParseFromIstream(&in));
  }
  closure.mutable_compiled_workflow()->mutable_primary()->mutable_template_()->mutable_metadata()
      ->mutable_tags()->insert({"padding", big});
  write(closure_uri, closure);
  auto too_big = Create(stub, Request("big-1", Ref(core::LAUNCH_PLAN, kBasicWf), {{"a", Int(3)}, {"b", Str("hi")}}));
  CHECK(too_big.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(too_big.error_message(),
             Catch::StartsWith("Unable to read WorkflowClosure from location " + closure_uri + " : path:" +
                               closure_uri + ": [LIMIT_EXCEEDED] limit exceeded. 1.5"));
  CHECK_THAT(too_big.error_message(), Catch::EndsWith(tail));
  CHECK(server.repos().Executions().Get({kProject, kDomain, "big-1"}).status().code() ==
        flyte::plugin::StatusCode::kNotFound);
  // GetWorkflow reads the same closure the same way (upstream's FetchAndGetWorkflowClosure).
  grpc::ClientContext get_ctx;
  admin::ObjectGetRequest get;
  *get.mutable_id() = Ref(core::WORKFLOW, kBasicWf);
  admin::Workflow workflow;
  auto get_status = stub.GetWorkflow(&get_ctx, get, &workflow);
  CHECK(get_status.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(get_status.error_message(),
             Catch::StartsWith("Unable to read WorkflowClosure from location " + closure_uri + " : path:" +
                               closure_uri + ": [LIMIT_EXCEEDED] limit exceeded. 1.5"));
}
