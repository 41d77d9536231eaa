// The built server as flytectl sees it: the flytesnacks-core package registered in flytectl's
// order with flytectl's hydration, registered again, read back over gRPC and REST; bad input
// gets clear errors and leaves the database as it was.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "flyte/core/config.h"
#include "flyte/core/db/database.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "grpc_helpers.h"
#include "registration_client.h"
#include "served_server.h"
#include "test_support.h"

using namespace flyte;
using flyteidl::service::AdminService;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";

struct RunningServer {
  // `override_yaml`, when given, is a config layer merged over the base one (e.g. PostgreSQL).
  explicit RunningServer(const std::string& override_yaml = "")
      : served(RegistrationPlugins(), override_yaml.empty() ? std::vector<std::string>{}
                                                            : std::vector<std::string>{override_yaml}),
        grpc_port(served.grpc_port),
        http_port(served.http_port),
        stub(AdminService::NewStub(served.channel())) {}
  static std::string RegistrationPlugins() {
    return "    - name: flyte_manager_project\n"
           "    - name: flyte_manager_task\n"
           "    - name: flyte_manager_workflow\n"
           "    - name: flyte_manager_launch_plan\n"
           "    - name: flyte_manager_named_entity\n"
           "    - name: flyte_manager_description_entity\n";
  }
  test::ServedServer served;
  int grpc_port, http_port;
  std::unique_ptr<AdminService::Stub> stub;
};

std::string Describe(const test::RegisterResult& r) {
  return r.file + ": " + std::to_string(static_cast<int>(r.code)) + " " + r.message;
}

// Registers the whole package; returns the results in order.
std::vector<test::RegisterResult> RegisterAll(AdminService::Stub& stub, const test::Target& target) {
  auto entries = test::ReadPackage(test::FlytesnacksCoreDir());
  std::vector<test::RegisterResult> results;
  for (auto& e : entries) {
    test::Hydrate(e, target);
    results.push_back(test::Register(stub, e, target));
  }
  return results;
}

// ListActiveLaunchPlans of the test project and domain, up to `limit`.
flyteidl::admin::LaunchPlanList ActiveLaunchPlans(AdminService::Stub& stub, uint32_t limit) {
  grpc::ClientContext ctx;
  flyteidl::admin::ActiveLaunchPlanListRequest req;
  req.set_project(kProject);
  req.set_domain(kDomain);
  req.set_limit(limit);
  flyteidl::admin::LaunchPlanList list;
  auto status = stub.ListActiveLaunchPlans(&ctx, req, &list);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return list;
}

// A key naming the entity an entry registers, to tell repeated entries in the package apart.
std::string EntityOf(const test::PackageEntry& e) {
  if (auto* t = std::get_if<flyteidl::admin::TaskSpec>(&e.spec)) return "task:" + t->template_().id().name();
  if (auto* w = std::get_if<flyteidl::admin::WorkflowSpec>(&e.spec)) return "wf:" + w->template_().id().name();
  return "lp:" + std::get<flyteidl::admin::LaunchPlan>(e.spec).id().name();
}

int CountTasks(AdminService::Stub& stub) {
  int total = 0;
  std::string token;
  do {
    grpc::ClientContext ctx;
    flyteidl::admin::ResourceListRequest req;
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.set_limit(7);
    req.set_token(token);
    flyteidl::admin::TaskList list;
    REQUIRE(stub.ListTasks(&ctx, req, &list).ok());
    total += list.tasks_size();
    token = list.token();
  } while (!token.empty());
  return total;
}

}  // namespace

TEST_CASE("The flytesnacks package registers in flytectl's order, then again as ALREADY_EXISTS", "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  RunningServer server(backend == "postgres" ? test::PostgresLayer("e2e_" + std::to_string(test::FreePort())) : "");
  test::Target target{kProject, kDomain, "v1"};
  auto entries = test::ReadPackage(test::FlytesnacksCoreDir());
  REQUIRE(entries.size() == 84);

  auto first = RegisterAll(*server.stub, target);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    INFO(Describe(first[i]));
    // An entity the package lists twice (cookbook.sqlite3.sample) is identical the second time.
    bool repeated = !seen.insert(EntityOf(entries[i])).second;
    CHECK(first[i].code == (repeated ? grpc::StatusCode::ALREADY_EXISTS : grpc::StatusCode::OK));
  }
  auto second = RegisterAll(*server.stub, target);
  for (const auto& r : second) {
    INFO(Describe(r));
    CHECK(r.code == grpc::StatusCode::ALREADY_EXISTS);
    CHECK_THAT(r.message, Catch::Contains("with identical structure already exists"));
  }

  SECTION("every entity reads back with Get") {
    for (auto& e : entries) {
      test::Hydrate(e, target);
      grpc::ClientContext ctx;
      flyteidl::admin::ObjectGetRequest req;
      if (auto* t = std::get_if<flyteidl::admin::TaskSpec>(&e.spec)) {
        *req.mutable_id() = t->template_().id();
        req.mutable_id()->set_resource_type(flyteidl::core::UNSPECIFIED);  // the server defaults it
        flyteidl::admin::Task task;
        REQUIRE(server.stub->GetTask(&ctx, req, &task).ok());
        CHECK(task.id().resource_type() == flyteidl::core::TASK);
        CHECK(task.closure().compiled_task().template_().id().name() == t->template_().id().name());
        CHECK(task.closure().has_created_at());
      } else if (auto* w = std::get_if<flyteidl::admin::WorkflowSpec>(&e.spec)) {
        *req.mutable_id() = w->template_().id();
        flyteidl::admin::Workflow wf;
        auto s = server.stub->GetWorkflow(&ctx, req, &wf);
        INFO(e.file << ": " << s.error_message());
        REQUIRE(s.ok());
        const auto& primary = wf.closure().compiled_workflow().primary();
        CHECK(primary.template_().id().name() == w->template_().id().name());
        CHECK(primary.template_().nodes_size() == w->template_().nodes_size() + 2);  // + start, end
        CHECK(wf.closure().compiled_workflow().tasks_size() > 0);
      } else {
        const auto& lp = std::get<flyteidl::admin::LaunchPlan>(e.spec);
        *req.mutable_id() = lp.id();
        flyteidl::admin::LaunchPlan got;
        REQUIRE(server.stub->GetLaunchPlan(&ctx, req, &got).ok());
        CHECK(got.spec().workflow_id().name() == lp.spec().workflow_id().name());
        CHECK(got.closure().state() == flyteidl::admin::INACTIVE);
      }
    }
  }

  SECTION("lists page through every task and honour filters and sort") {
    std::set<std::string> task_names;
    for (const auto& e : entries) {
      if (auto* t = std::get_if<flyteidl::admin::TaskSpec>(&e.spec)) task_names.insert(t->template_().id().name());
    }
    CHECK(CountTasks(*server.stub) == static_cast<int>(task_names.size()));

    grpc::ClientContext ctx;
    flyteidl::admin::ResourceListRequest req;
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.set_limit(100);
    req.set_filters("eq(name,core.flyte_basics.basic_workflow.t1)");
    flyteidl::admin::TaskList list;
    REQUIRE(server.stub->ListTasks(&ctx, req, &list).ok());
    REQUIRE(list.tasks_size() == 1);
    CHECK(list.tasks(0).id().name() == "core.flyte_basics.basic_workflow.t1");

    grpc::ClientContext ctx2;
    flyteidl::admin::ResourceListRequest wreq;
    wreq.mutable_id()->set_project(kProject);
    wreq.mutable_id()->set_domain(kDomain);
    wreq.set_limit(1000);
    wreq.mutable_sort_by()->set_key("name");
    wreq.mutable_sort_by()->set_direction(flyteidl::admin::Sort::ASCENDING);
    flyteidl::admin::WorkflowList wfs;
    REQUIRE(server.stub->ListWorkflows(&ctx2, wreq, &wfs).ok());
    REQUIRE(wfs.workflows_size() > 10);
    for (int i = 1; i < wfs.workflows_size(); ++i) {
      CHECK(wfs.workflows(i - 1).id().name() <= wfs.workflows(i).id().name());
    }
    // List returns the interface only, not the nodes.
    CHECK(wfs.workflows(0).closure().compiled_workflow().primary().template_().nodes_size() == 0);
    CHECK(wfs.workflows(0).closure().compiled_workflow().primary().template_().has_interface());

    grpc::ClientContext ctx3;
    flyteidl::admin::ResourceListRequest lreq;
    lreq.mutable_id()->set_project(kProject);
    lreq.mutable_id()->set_domain(kDomain);
    lreq.set_limit(100);
    lreq.set_filters("eq(workflow.name,core.flyte_basics.lp.go_greet)");
    flyteidl::admin::LaunchPlanList lps;
    REQUIRE(server.stub->ListLaunchPlans(&ctx3, lreq, &lps).ok());
    CHECK(lps.launch_plans_size() >= 1);
    for (const auto& lp : lps.launch_plans()) CHECK(lp.spec().workflow_id().name() == "core.flyte_basics.lp.go_greet");

    grpc::ClientContext ctx4;
    flyteidl::admin::NamedEntityListRequest nreq;
    nreq.set_resource_type(flyteidl::core::WORKFLOW);
    nreq.set_project(kProject);
    nreq.set_domain(kDomain);
    nreq.set_limit(1000);
    flyteidl::admin::NamedEntityList named;
    REQUIRE(server.stub->ListNamedEntities(&ctx4, nreq, &named).ok());
    CHECK(named.entities_size() == wfs.workflows_size());
  }

  SECTION("REST reads return the gateway's JSON shape") {
    auto r = test::Http(server.http_port, "GET",
                        "/api/v1/tasks/flytesnacks/development/core.flyte_basics.basic_workflow.t1/v1", "",
                        {{"Accept", "application/json"}});
    REQUIRE(r.status == 200);
    auto task = nlohmann::json::parse(r.body);
    CHECK(task["id"]["resource_type"] == "TASK");
    CHECK(task["id"]["version"] == "v1");
    CHECK(task["closure"]["compiled_task"]["template"]["id"]["name"] == "core.flyte_basics.basic_workflow.t1");
    CHECK(task["closure"]["created_at"].is_string());

    auto page = test::Http(server.http_port, "GET",
                           "/api/v1/workflows/flytesnacks/development?limit=3&sort_by.key=name&sort_by.direction=ASCENDING",
                           "", {{"Accept", "application/json"}});
    REQUIRE(page.status == 200);
    auto wfs = nlohmann::json::parse(page.body);
    CHECK(wfs["workflows"].size() == 3);
    CHECK(wfs["token"] == "3");

    auto projects = test::Http(server.http_port, "GET", "/api/v1/projects", "", {{"Accept", "application/json"}});
    REQUIRE(projects.status == 200);
    auto p = nlohmann::json::parse(projects.body);
    REQUIRE(p["projects"].size() >= 1);
    CHECK(p["projects"][0]["id"] == "flytesnacks");
    CHECK(p["projects"][0]["domains"].size() == 3);

    auto bad = test::Http(server.http_port, "GET", "/api/v1/tasks/flytesnacks/development?limit=5&filters=eq(name", "",
                          {{"Accept", "application/json"}});
    CHECK(bad.status == 400);
    CHECK(nlohmann::json::parse(bad.body)["message"] == "invalid value for filters");
  }

  SECTION("bad input gets a clear error and changes nothing") {
    int before = CountTasks(*server.stub);
    auto call_create_task = [&](flyteidl::admin::TaskCreateRequest req) {
      grpc::ClientContext ctx;
      flyteidl::admin::TaskCreateResponse resp;
      return server.stub->CreateTask(&ctx, req, &resp);
    };
    auto base = std::get<flyteidl::admin::TaskSpec>(entries[39].spec);  // basic_workflow.t1
    test::PackageEntry e{"", base};
    test::Hydrate(e, target);
    base = std::get<flyteidl::admin::TaskSpec>(e.spec);
    flyteidl::admin::TaskCreateRequest req;
    *req.mutable_id() = base.template_().id();
    req.mutable_id()->set_resource_type(flyteidl::core::TASK);
    *req.mutable_spec() = base;

    auto missing_version = req;
    missing_version.mutable_id()->clear_version();
    auto s = call_create_task(missing_version);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "missing version");

    auto wrong_type = req;
    wrong_type.mutable_id()->set_resource_type(flyteidl::core::WORKFLOW);
    CHECK(call_create_task(wrong_type).error_code() == grpc::StatusCode::INVALID_ARGUMENT);

    auto unknown_project = req;
    unknown_project.mutable_id()->set_project("no-such-project");
    s = call_create_task(unknown_project);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::Contains("no-such-project"));

    auto different = req;
    different.mutable_spec()->mutable_template_()->mutable_container()->set_image("another/image:tag");
    s = call_create_task(different);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::StartsWith("core.flyte_basics.basic_workflow.t1 task with different structure already exists."));

    auto sneaky = req;
    sneaky.mutable_id()->set_name("t1' OR '1'='1 --");
    sneaky.mutable_id()->set_version("v1\"; DELETE FROM tasks");
    CHECK(call_create_task(sneaky).ok());  // a strange name is just a name
    auto list_with = [&](const std::string& filters, flyteidl::admin::TaskList& list) {
      grpc::ClientContext ctx;
      flyteidl::admin::ResourceListRequest lreq;
      lreq.mutable_id()->set_project(kProject);
      lreq.mutable_id()->set_domain(kDomain);
      lreq.set_limit(10);
      lreq.set_filters(filters);
      return server.stub->ListTasks(&ctx, lreq, &list);
    };
    {
      flyteidl::admin::TaskList list;
      REQUIRE(list_with("eq(name,t1' OR '1'='1 --)+contains(version,1\")", list).ok());
      REQUIRE(list.tasks_size() == 1);
      CHECK(list.tasks(0).id().version() == "v1\"; DELETE FROM tasks");
      // '%' is matched literally by contains, not as a wildcard.
      REQUIRE(list_with("contains(name,%)", list).ok());
      CHECK(list.tasks_size() == 0);
    }
    {
      // As upstream, ';' separates list values, so a single-value filter given several is refused.
      flyteidl::admin::TaskList list;
      s = list_with("eq(name,a;b)", list);
      CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK_THAT(s.error_message(), Catch::Contains("invalid single value filter expression"));
      s = list_with("eq(nonexistent,x)", list);
      CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(s.error_message() == "'t.nonexistent' is invalid filter");
    }
    CHECK(CountTasks(*server.stub) == before + 1);

    // A workflow whose task was never registered.
    auto wf = std::get<flyteidl::admin::WorkflowSpec>(entries[41].spec);  // basic_workflow.my_wf
    test::PackageEntry we{"", wf};
    test::Hydrate(we, test::Target{kProject, kDomain, "never-registered"});
    auto result = test::Register(*server.stub, we, test::Target{kProject, kDomain, "never-registered"});
    CHECK(result.code == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(result.message, Catch::Contains("failed to compile workflow"));

    grpc::ClientContext ctx;
    flyteidl::admin::ResourceListRequest bad_sort;
    bad_sort.mutable_id()->set_project(kProject);
    bad_sort.mutable_id()->set_domain(kDomain);
    bad_sort.set_limit(10);
    bad_sort.mutable_sort_by()->set_key("name; DROP TABLE tasks");
    flyteidl::admin::TaskList list;
    s = server.stub->ListTasks(&ctx, bad_sort, &list);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::Contains("invalid sort key"));
    CHECK(CountTasks(*server.stub) == before + 1);
  }
}

TEST_CASE("Launch plan activation keeps one active version per name", "[e2e]") {
  RunningServer server;
  auto entries = test::ReadPackage(test::FlytesnacksCoreDir());
  for (const char* version : {"v1", "v2"}) {
    for (auto e : entries) {
      test::Target target{kProject, kDomain, version};
      test::Hydrate(e, target);
      auto r = test::Register(*server.stub, e, target);
      INFO(Describe(r));
      CHECK((r.code == grpc::StatusCode::OK || r.code == grpc::StatusCode::ALREADY_EXISTS));
    }
  }
  auto activate = [&](const std::string& version, flyteidl::admin::LaunchPlanState state) {
    grpc::ClientContext ctx;
    flyteidl::admin::LaunchPlanUpdateRequest req;
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name("core.flyte_basics.lp.go_greet");
    req.mutable_id()->set_version(version);
    req.set_state(state);
    flyteidl::admin::LaunchPlanUpdateResponse resp;
    return server.stub->UpdateLaunchPlan(&ctx, req, &resp);
  };
  auto active_version = [&]() -> std::string {
    grpc::ClientContext ctx;
    flyteidl::admin::ActiveLaunchPlanRequest req;
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name("core.flyte_basics.lp.go_greet");
    flyteidl::admin::LaunchPlan lp;
    auto s = server.stub->GetActiveLaunchPlan(&ctx, req, &lp);
    if (!s.ok()) return "<" + s.error_message() + ">";
    return lp.id().version();
  };
  CHECK(active_version() == "<No active launch plan could be found: flytesnacks:development:core.flyte_basics.lp.go_greet>");
  REQUIRE(activate("v1", flyteidl::admin::ACTIVE).ok());
  CHECK(active_version() == "v1");
  REQUIRE(activate("v2", flyteidl::admin::ACTIVE).ok());
  CHECK(active_version() == "v2");
  {
    auto list = ActiveLaunchPlans(*server.stub, 100);
    REQUIRE(list.launch_plans_size() == 1);
    CHECK(list.launch_plans(0).id().version() == "v2");
    CHECK(list.launch_plans(0).closure().state() == flyteidl::admin::ACTIVE);
  }
  REQUIRE(activate("v2", flyteidl::admin::INACTIVE).ok());
  CHECK_THAT(active_version(), Catch::StartsWith("<No active launch plan"));
  auto missing = activate("v9", flyteidl::admin::ACTIVE);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("Launch plan activation keeps the native scheduler's schedules, as upstream", "[e2e]") {
  const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  const auto dir = std::filesystem::path(
      test::WriteTempFile("sched-" + std::to_string(test::FreePort()) + "/.keep", "")).parent_path();
  const std::string db_layer = backend == "postgres"
                                   ? test::PostgresLayer("e2e_sched_" + std::to_string(test::FreePort()))
                                   : "database:\n  sqlite:\n    file: " + (dir / "admin.db").string() + "\n";
  RunningServer server(db_layer);
  for (const auto& r : RegisterAll(*server.stub, {kProject, kDomain, "v1"})) {
    INFO(Describe(r));
    REQUIRE((r.code == grpc::StatusCode::OK || r.code == grpc::StatusCode::ALREADY_EXISTS));
  }
  auto config = core::Config::FromDocuments({db_layer}, [](const std::string&) { return std::nullopt; });
  REQUIRE(config.ok());
  auto database = core::db::OpenDatabase(*config);
  REQUIRE(database.ok());
  auto& schedules = database.value()->Repositories()->SchedulableEntities();

  // hello_world.my_wf's launch plan has no inputs, so any schedule is valid for it.
  const std::string name = "core.flyte_basics.hello_world.my_wf";
  flyteidl::admin::LaunchPlan base;
  {
    grpc::ClientContext ctx;
    flyteidl::admin::ObjectGetRequest req;
    req.mutable_id()->set_resource_type(flyteidl::core::LAUNCH_PLAN);
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name(name);
    req.mutable_id()->set_version("v1");
    REQUIRE(server.stub->GetLaunchPlan(&ctx, req, &base).ok());
  }
  auto create = [&](const std::string& version, const flyteidl::admin::Schedule& schedule) {
    grpc::ClientContext ctx;
    flyteidl::admin::LaunchPlanCreateRequest req;
    *req.mutable_id() = base.id();
    req.mutable_id()->set_version(version);
    *req.mutable_spec() = base.spec();
    *req.mutable_spec()->mutable_entity_metadata()->mutable_schedule() = schedule;
    flyteidl::admin::LaunchPlanCreateResponse resp;
    auto st = server.stub->CreateLaunchPlan(&ctx, req, &resp);
    INFO(st.error_message());
    REQUIRE(st.ok());
  };
  auto update = [&](const std::string& version, flyteidl::admin::LaunchPlanState state) {
    grpc::ClientContext ctx;
    flyteidl::admin::LaunchPlanUpdateRequest req;
    *req.mutable_id() = base.id();
    req.mutable_id()->set_version(version);
    req.set_state(state);
    flyteidl::admin::LaunchPlanUpdateResponse resp;
    return server.stub->UpdateLaunchPlan(&ctx, req, &resp);
  };
  auto row = [&](const std::string& version) {
    auto r = schedules.Get({kProject, kDomain, name, version});
    REQUIRE(r.ok());
    return r.value();
  };
  flyteidl::admin::Schedule cron;
  cron.mutable_cron_schedule()->set_schedule("0 * * * *");
  create("cron", cron);
  flyteidl::admin::Schedule rate;
  rate.mutable_rate()->set_value(5);
  rate.mutable_rate()->set_unit(flyteidl::admin::HOUR);
  create("rate", rate);
  flyteidl::admin::Schedule legacy;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  legacy.set_cron_expression("0 * * * *");
#pragma GCC diagnostic pop
  create("legacy", legacy);

  // Activating a scheduled version adds its schedule.
  REQUIRE(update("cron", flyteidl::admin::ACTIVE).ok());
  CHECK(row("cron").cron_expression == "0 * * * *");
  CHECK(row("cron").active);
  // Activating another version moves the schedule to it.
  REQUIRE(update("rate", flyteidl::admin::ACTIVE).ok());
  CHECK_FALSE(row("cron").active);
  CHECK(row("rate").fixed_rate_value == 5);
  CHECK(row("rate").unit == flyteidl::admin::HOUR);
  CHECK(row("rate").cron_expression.empty());
  CHECK(row("rate").active);
  // A schedule given only as the deprecated cron_expression cannot be added: INTERNAL, and
  // nothing changes.
  auto refused = update("legacy", flyteidl::admin::ACTIVE);
  CHECK(refused.error_code() == grpc::StatusCode::INTERNAL);
  CHECK_THAT(refused.error_message(), Catch::StartsWith("failed adding schedule for unknown schedule expression type"));
  CHECK(row("rate").active);
  CHECK(schedules.Get({kProject, kDomain, name, "legacy"}).status().code() == plugin::StatusCode::kNotFound);
  {
    grpc::ClientContext ctx;
    flyteidl::admin::ActiveLaunchPlanRequest req;
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name(name);
    flyteidl::admin::LaunchPlan active;
    REQUIRE(server.stub->GetActiveLaunchPlan(&ctx, req, &active).ok());
    CHECK(active.id().version() == "rate");
  }
  // Deactivating stops the schedule; activating again revives the stored row.
  REQUIRE(update("rate", flyteidl::admin::INACTIVE).ok());
  CHECK_FALSE(row("rate").active);
  REQUIRE(update("cron", flyteidl::admin::ACTIVE).ok());
  CHECK(row("cron").active);
  auto all = schedules.GetAll();
  REQUIRE(all.ok());
  CHECK(all->size() == 2);

  // Concurrent activations of several versions leave one version ACTIVE, with the one active
  // schedule.
  {
    constexpr int kVersions = 6;
    for (int i = 0; i < kVersions; ++i) create("race-" + std::to_string(i), cron);
    auto results = test::Concurrently(kVersions, [&](int i) {
      auto stub = flyteidl::service::AdminService::NewStub(server.served.channel());
      grpc::ClientContext ctx;
      flyteidl::admin::LaunchPlanUpdateRequest req;
      *req.mutable_id() = base.id();
      req.mutable_id()->set_version("race-" + std::to_string(i));
      req.set_state(flyteidl::admin::ACTIVE);
      flyteidl::admin::LaunchPlanUpdateResponse resp;
      return stub->UpdateLaunchPlan(&ctx, req, &resp);
    });
    for (const auto& r : results) CHECK(r.ok());
    auto active = ActiveLaunchPlans(*server.stub, 1000);
    std::vector<std::string> versions;
    for (const auto& lp : active.launch_plans()) {
      if (lp.id().name() == name) versions.push_back(lp.id().version());
    }
    REQUIRE(versions.size() == 1);
    CHECK(versions[0].rfind("race-", 0) == 0);
    auto rows = schedules.GetAll();
    REQUIRE(rows.ok());
    std::vector<std::string> scheduled;
    for (const auto& r : rows.value()) {
      if (r.active && r.key.name == name) scheduled.push_back(r.key.version);
    }
    CHECK(scheduled == versions);
  }

  // The id listings answer as upstream's: ListLaunchPlanIds validates nothing itself (its
  // repository refuses a zero limit or no filter), and token errors name upstream's listings.
  auto ids = [&](const char* rpc, const std::string& project, const std::string& domain, uint32_t limit,
                 const std::string& token, flyteidl::admin::NamedEntityIdentifierList* out) {
    grpc::ClientContext ctx;
    flyteidl::admin::NamedEntityIdentifierListRequest req;
    req.set_project(project);
    req.set_domain(domain);
    req.set_limit(limit);
    req.set_token(token);
    if (std::string(rpc) == "task") return server.stub->ListTaskIds(&ctx, req, out);
    if (std::string(rpc) == "workflow") return server.stub->ListWorkflowIds(&ctx, req, out);
    return server.stub->ListLaunchPlanIds(&ctx, req, out);
  };
  flyteidl::admin::NamedEntityIdentifierList list;
  REQUIRE(ids("lp", kProject, "", 100, "", &list).ok());
  CHECK(list.entities_size() > 5);
  CHECK(ids("lp", kProject, kDomain, 0, "", &list).error_message() == "missing and/or invalid parameters: limit");
  CHECK(ids("lp", "", "", 10, "", &list).error_message() == "missing and/or invalid parameters: filters");
  CHECK(ids("lp", kProject, kDomain, 10, "x", &list).error_message() == "invalid pagination token x");
  CHECK(ids("task", kProject, kDomain, 10, "x", &list).error_message() ==
        "invalid pagination token x for ListUniqueTaskIdentifiers");
  CHECK(ids("workflow", kProject, kDomain, 10, "x", &list).error_message() ==
        "invalid pagination token x for ListWorkflowIdentifiers");
  CHECK(ids("task", kProject, "", 10, "", &list).error_message() == "missing domain");
}

TEST_CASE("Projects register, update, archive and list as upstream's do", "[e2e]") {
  RunningServer server;
  auto register_project = [&](const std::string& id, const std::string& name) {
    grpc::ClientContext ctx;
    flyteidl::admin::ProjectRegisterRequest req;
    req.mutable_project()->set_id(id);
    req.mutable_project()->set_name(name);
    flyteidl::admin::ProjectRegisterResponse resp;
    return server.stub->RegisterProject(&ctx, req, &resp);
  };
  REQUIRE(register_project("alpha", "Alpha").ok());
  CHECK(register_project("alpha", "Alpha").error_code() == grpc::StatusCode::ALREADY_EXISTS);
  auto bad = register_project("Not_A_DNS_Label", "x");
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(bad.error_message(), Catch::StartsWith("invalid project id [Not_A_DNS_Label]"));
  CHECK(register_project("beta", "").error_message() == "missing project_name");

  auto list = [&](const std::string& filters) {
    grpc::ClientContext ctx;
    flyteidl::admin::ProjectListRequest req;
    req.set_filters(filters);
    flyteidl::admin::Projects projects;
    REQUIRE(server.stub->ListProjects(&ctx, req, &projects).ok());
    std::vector<std::string> ids;
    for (const auto& p : projects.projects()) ids.push_back(p.id());
    return ids;
  };
  CHECK(list("") == std::vector<std::string>{"alpha", "flytesnacks"});
  {
    grpc::ClientContext ctx;
    flyteidl::admin::Project archive;
    archive.set_id("alpha");
    archive.set_state(flyteidl::admin::Project::ARCHIVED);
    flyteidl::admin::ProjectUpdateResponse resp;
    REQUIRE(server.stub->UpdateProject(&ctx, archive, &resp).ok());
  }
  CHECK(list("") == std::vector<std::string>{"flytesnacks"});
  CHECK(list("eq(state,1)") == std::vector<std::string>{"alpha"});
  {
    grpc::ClientContext ctx;
    flyteidl::admin::ProjectGetRequest req;
    req.set_id("alpha");
    flyteidl::admin::Project p;
    REQUIRE(server.stub->GetProject(&ctx, req, &p).ok());
    CHECK(p.name() == "Alpha");  // an update without a name keeps it
    CHECK(p.state() == flyteidl::admin::Project::ARCHIVED);
    CHECK(p.domains_size() == 3);
  }
  {
    grpc::ClientContext ctx;
    flyteidl::admin::GetDomainRequest req;
    flyteidl::admin::GetDomainsResponse resp;
    REQUIRE(server.stub->GetDomains(&ctx, req, &resp).ok());
    REQUIRE(resp.domains_size() == 3);
    CHECK(resp.domains(0).id() == "development");
  }
  {
    grpc::ClientContext ctx;
    flyteidl::admin::ProjectGetRequest req;
    req.set_id("nope");
    flyteidl::admin::Project p;
    auto s = server.stub->GetProject(&ctx, req, &p);
    CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(s.error_message() == "project [nope] not found");
  }
}

TEST_CASE("Named entities archive and hide system-generated names", "[e2e]") {
  RunningServer server;
  test::Target target{kProject, kDomain, "v1"};
  for (auto e : test::ReadPackage(test::FlytesnacksCoreDir())) {
    test::Hydrate(e, target);
    test::Register(*server.stub, e, target);
  }
  const std::string name = "core.flyte_basics.basic_workflow.my_wf";
  {
    grpc::ClientContext ctx;
    flyteidl::admin::NamedEntityUpdateRequest req;
    req.set_resource_type(flyteidl::core::WORKFLOW);
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name(name);
    req.mutable_metadata()->set_description("the basic workflow");
    req.mutable_metadata()->set_state(flyteidl::admin::NAMED_ENTITY_ARCHIVED);
    flyteidl::admin::NamedEntityUpdateResponse resp;
    REQUIRE(server.stub->UpdateNamedEntity(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    flyteidl::admin::NamedEntityGetRequest req;
    req.set_resource_type(flyteidl::core::WORKFLOW);
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name(name);
    flyteidl::admin::NamedEntity entity;
    REQUIRE(server.stub->GetNamedEntity(&ctx, req, &entity).ok());
    CHECK(entity.metadata().description() == "the basic workflow");
    CHECK(entity.metadata().state() == flyteidl::admin::NAMED_ENTITY_ARCHIVED);
  }
  auto names = [&](const std::string& filters) {
    grpc::ClientContext ctx;
    flyteidl::admin::NamedEntityListRequest req;
    req.set_resource_type(flyteidl::core::WORKFLOW);
    req.set_project(kProject);
    req.set_domain(kDomain);
    req.set_limit(1000);
    req.set_filters(filters);
    flyteidl::admin::NamedEntityList list;
    REQUIRE(server.stub->ListNamedEntities(&ctx, req, &list).ok());
    std::set<std::string> out;
    for (const auto& e : list.entities()) out.insert(e.id().name());
    return out;
  };
  auto all = names("");
  CHECK(all.count(name) == 1);
  auto active = names("ne(state,1)");  // what the console sends
  CHECK(active.count(name) == 0);
  CHECK(active.size() == all.size() - 1);
  // Sorted by a metadata key, pages line up: page after page gives the order of one full list
  // (by state, the archived entity first). Upstream's query fails on these keys.
  auto list_sorted = [&](const std::string& key, uint32_t limit, const std::string& token,
                         flyteidl::admin::NamedEntityList* list) {
    grpc::ClientContext ctx;
    flyteidl::admin::NamedEntityListRequest req;
    req.set_resource_type(flyteidl::core::WORKFLOW);
    req.set_project(kProject);
    req.set_domain(kDomain);
    req.set_limit(limit);
    req.set_token(token);
    req.mutable_sort_by()->set_key(key);
    req.mutable_sort_by()->set_direction(flyteidl::admin::Sort::DESCENDING);
    return server.stub->ListNamedEntities(&ctx, req, list);
  };
  auto sorted = [&](const std::string& key, uint32_t limit, const std::string& token) {
    flyteidl::admin::NamedEntityList list;
    auto s = list_sorted(key, limit, token, &list);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return list;
  };
  for (const char* key : {"state", "description"}) {
    CAPTURE(key);
    auto whole = sorted(key, 1000, "");
    REQUIRE(whole.entities_size() == static_cast<int>(all.size()));
    // (Entities without metadata have no description: where they sort is the database's
    // choice, first in descending order on PostgreSQL and last on SQLite.)
    if (std::string(key) == "state") CHECK(whole.entities(0).id().name() == name);
    std::vector<std::string> expected, paged;
    for (const auto& e : whole.entities()) expected.push_back(e.id().name());
    std::string token;
    do {
      auto page = sorted(key, 2, token);
      for (const auto& e : page.entities()) paged.push_back(e.id().name());
      token = page.token();
    } while (!token.empty());
    CHECK(paged == expected);
  }
  flyteidl::admin::NamedEntityList unused;
  auto by_type = list_sorted("resource_type", 2, "", &unused);
  CHECK(by_type.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(by_type.error_message() == "invalid sort key 'resource_type'");
  {
    grpc::ClientContext ctx;
    flyteidl::admin::NamedEntityGetRequest req;
    req.set_resource_type(flyteidl::core::WORKFLOW);
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name("never.registered");
    flyteidl::admin::NamedEntity entity;
    auto s = server.stub->GetNamedEntity(&ctx, req, &entity);
    CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  }
}

TEST_CASE("Cycles, type mismatches and oversized specs are refused clearly and store nothing", "[e2e]") {
  // registration.maxWorkflowNodes lowered so the node limit can be crossed with a real workflow.
  RunningServer server("registration:\n  maxWorkflowNodes: 3\n");
  test::Target target{kProject, kDomain, "v1"};
  auto entries = test::ReadPackage(test::FlytesnacksCoreDir());
  for (auto& e : entries) {
    test::Hydrate(e, target);
    test::Register(*server.stub, e, target);
  }
  auto workflow_count = [&] {
    grpc::ClientContext ctx;
    flyteidl::admin::NamedEntityIdentifierListRequest req;
    req.set_project(kProject);
    req.set_domain(kDomain);
    req.set_limit(1000);
    flyteidl::admin::NamedEntityIdentifierList list;
    REQUIRE(server.stub->ListWorkflowIds(&ctx, req, &list).ok());
    return list.entities_size();
  };
  int workflows_before = workflow_count();
  auto create_workflow = [&](flyteidl::admin::WorkflowSpec spec, const std::string& name) {
    spec.mutable_template_()->mutable_id()->set_name(name);
    grpc::ClientContext ctx;
    flyteidl::admin::WorkflowCreateRequest req;
    *req.mutable_id() = spec.template_().id();
    req.mutable_id()->set_resource_type(flyteidl::core::WORKFLOW);
    *req.mutable_spec() = spec;
    flyteidl::admin::WorkflowCreateResponse resp;
    return server.stub->CreateWorkflow(&ctx, req, &resp);
  };

  // basic_workflow.my_wf: n0 feeds n1. Make n0 wait for n1 as well.
  auto base = std::get<flyteidl::admin::WorkflowSpec>(entries[41].spec);
  REQUIRE(base.template_().nodes_size() == 2);
  auto cyclic = base;
  cyclic.mutable_template_()->mutable_nodes(0)->add_upstream_node_ids(base.template_().nodes(1).id());
  auto s = create_workflow(cyclic, "cyclic_wf");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("failed to compile workflow") && Catch::Contains("Cycle"));

  // A binding to an output that does not exist.
  auto dangling = base;
  auto* binding = dangling.mutable_template_()->mutable_nodes(1)->mutable_inputs(0)->mutable_binding();
  if (binding->has_promise()) binding->mutable_promise()->set_var("no_such_output");
  s = create_workflow(dangling, "dangling_wf");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("failed to compile workflow"));

  // A workflow with more top-level nodes than registration.maxWorkflowNodes.
  auto big = base;
  for (int i = 0; i < 2; ++i) {
    auto* copy = big.mutable_template_()->add_nodes();
    *copy = base.template_().nodes(0);
    copy->set_id("extra-" + std::to_string(i));
  }
  s = create_workflow(big, "big_wf");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("exceeds limit (4 > 3)"));
  CHECK(workflow_count() == workflows_before);

  // A name the local store cannot make a path of (a dot segment, which upstream's URL
  // resolution would climb out of) is the client's error, not the server's.
  for (const std::string name : {"..", "up/../over", "./here"}) {
    INFO(name);
    s = create_workflow(base, name);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(),
               Catch::StartsWith("failed to construct data reference for workflow closure with id [") &&
                   Catch::Contains("name:\"" + name + "\"") &&
                   Catch::EndsWith("] and err invalid storage path segment '" + std::string(name == "./here" ? "." : "..") + "'"));
  }
  CHECK(workflow_count() == workflows_before);

  // A '/' in a name or version nests the closure's path, as upstream's storage keys do.
  {
    auto nested = base;
    nested.mutable_template_()->mutable_id()->set_version("feature/x");
    s = create_workflow(nested, "nested/name");
    INFO(s.error_message());
    REQUIRE(s.ok());
    grpc::ClientContext ctx;
    flyteidl::admin::ObjectGetRequest get;
    *get.mutable_id() = nested.template_().id();
    get.mutable_id()->set_name("nested/name");
    get.mutable_id()->set_resource_type(flyteidl::core::WORKFLOW);
    flyteidl::admin::Workflow got;
    auto g = server.stub->GetWorkflow(&ctx, get, &got);
    INFO(g.error_message());
    REQUIRE(g.ok());
    CHECK(got.closure().compiled_workflow().primary().template_().nodes_size() == 4);  // + start, end
    CHECK(workflow_count() == workflows_before + 1);
    ++workflows_before;
  }

  // Concurrent creates of one id with different structures: one is stored, with its own closure;
  // the others are refused and overwrite nothing.
  {
    constexpr int kCreates = 6;
    auto results = test::Concurrently(kCreates, [&](int i) {
      auto variant = base;
      variant.mutable_template_()->mutable_nodes(0)->mutable_metadata()->set_name("variant-" + std::to_string(i));
      variant.mutable_template_()->mutable_id()->set_name("raced_wf");
      auto stub = flyteidl::service::AdminService::NewStub(server.served.channel());
      grpc::ClientContext ctx;
      flyteidl::admin::WorkflowCreateRequest req;
      *req.mutable_id() = variant.template_().id();
      req.mutable_id()->set_resource_type(flyteidl::core::WORKFLOW);
      *req.mutable_spec() = variant;
      flyteidl::admin::WorkflowCreateResponse resp;
      return stub->CreateWorkflow(&ctx, req, &resp);
    });
    const int winner =
        test::SoleWinner(results, grpc::StatusCode::INVALID_ARGUMENT, "different structure");
    REQUIRE(winner >= 0);
    grpc::ClientContext ctx;
    flyteidl::admin::ObjectGetRequest get;
    *get.mutable_id() = base.template_().id();
    get.mutable_id()->set_resource_type(flyteidl::core::WORKFLOW);
    get.mutable_id()->set_name("raced_wf");
    flyteidl::admin::Workflow stored;
    REQUIRE(server.stub->GetWorkflow(&ctx, get, &stored).ok());
    std::string stored_name;
    for (const auto& n : stored.closure().compiled_workflow().primary().template_().nodes()) {
      if (n.id() == base.template_().nodes(0).id()) stored_name = n.metadata().name();
    }
    CHECK(stored_name == "variant-" + std::to_string(winner));
  }

  // A fixed input of the wrong type on a launch plan.
  auto lp = std::get<flyteidl::admin::LaunchPlan>(entries[42].spec);
  REQUIRE(lp.spec().workflow_id().name() == "core.flyte_basics.basic_workflow.my_wf");
  {
    grpc::ClientContext ctx;
    flyteidl::admin::LaunchPlanCreateRequest req;
    *req.mutable_id() = lp.id();
    req.mutable_id()->set_resource_type(flyteidl::core::LAUNCH_PLAN);
    req.mutable_id()->set_name("mistyped_lp");
    *req.mutable_spec() = lp.spec();
    (*req.mutable_spec()->mutable_fixed_inputs()->mutable_literals())["a"]
        .mutable_scalar()->mutable_primitive()->set_string_value("not an integer");
    flyteidl::admin::LaunchPlanCreateResponse resp;
    s = server.stub->CreateLaunchPlan(&ctx, req, &resp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::Contains("invalid fixed_input wrong type a"));
  }

  // A spec larger than gRPC's message limit never reaches the server's handlers.
  {
    auto task = std::get<flyteidl::admin::TaskSpec>(entries[39].spec);
    grpc::ClientContext ctx;
    flyteidl::admin::TaskCreateRequest req;
    *req.mutable_id() = task.template_().id();
    req.mutable_id()->set_resource_type(flyteidl::core::TASK);
    req.mutable_id()->set_version("huge");
    *req.mutable_spec() = task;
    req.mutable_spec()->mutable_description()->set_short_description(std::string(5 * 1024 * 1024, 'x'));
    flyteidl::admin::TaskCreateResponse resp;
    s = server.stub->CreateTask(&ctx, req, &resp);
    CHECK(s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
}

TEST_CASE("flyteadmin migrate run, seed-projects and rollback work from the command line", "[e2e]") {
  std::string dir = test::WriteTempFile("migrate-cli/.keep", "");
  dir = dir.substr(0, dir.rfind('/'));
  auto config = test::WriteTempFile("migrate-cli.yaml", "database:\n  sqlite:\n    file: " + dir + "/admin.db\n");
  auto run = test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "run"});
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("2019-05-22-projects") && Catch::Contains("2025-05-29-add-index-executions-phase"));
  auto again = test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "run"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.out, !Catch::Contains("applied migration"));
  auto seed = test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "seed-projects", "alpha", "beta"});
  CHECK(seed.exit_code == 0);
  CHECK_THAT(seed.out, Catch::Contains("seeded 2 project(s)"));
  auto rollback = test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "rollback"});
  CHECK(rollback.exit_code == 0);
  CHECK_THAT(rollback.out, Catch::Contains("2025-05-29-add-index-executions-phase"));
  auto broken = test::WriteTempFile("migrate-broken.yaml",
                                    "database:\n  postgres:\n    host: 127.0.0.1\n    port: 1\n");
  auto unreachable = test::Run({FLYTEADMIN_BIN, "--config", broken, "migrate", "run"});
  CHECK(unreachable.exit_code == 1);
  CHECK_THAT(unreachable.err, Catch::Contains("database"));
}

TEST_CASE("A task registered with a description serves it as a description entity", "[e2e]") {
  RunningServer server;
  auto entries = test::ReadPackage(test::FlytesnacksCoreDir());
  test::Target target{kProject, kDomain, "v1"};
  auto e = entries[39];  // basic_workflow.t1
  test::Hydrate(e, target);
  auto task = std::get<flyteidl::admin::TaskSpec>(e.spec);
  auto* description = task.mutable_description();
  description->set_short_description("adds one");
  description->mutable_long_description()->set_value("# t1\nAdds one to its input.");
  description->mutable_long_description()->set_format(flyteidl::admin::DESCRIPTION_FORMAT_MARKDOWN);
  description->mutable_source_code()->set_link("https://example.invalid/t1.py");
  {
    grpc::ClientContext ctx;
    flyteidl::admin::TaskCreateRequest req;
    *req.mutable_id() = task.template_().id();
    req.mutable_id()->set_resource_type(flyteidl::core::TASK);
    *req.mutable_spec() = task;
    flyteidl::admin::TaskCreateResponse resp;
    REQUIRE(server.stub->CreateTask(&ctx, req, &resp).ok());
  }
  {
    grpc::ClientContext ctx;
    flyteidl::admin::ObjectGetRequest req;
    *req.mutable_id() = task.template_().id();
    req.mutable_id()->set_resource_type(flyteidl::core::UNSPECIFIED);  // defaults to TASK
    flyteidl::admin::DescriptionEntity got;
    REQUIRE(server.stub->GetDescriptionEntity(&ctx, req, &got).ok());
    CHECK(got.short_description() == "adds one");
    CHECK(got.long_description().value() == "# t1\nAdds one to its input.");
    CHECK(got.long_description().format() == flyteidl::admin::DESCRIPTION_FORMAT_MARKDOWN);
    CHECK(got.source_code().link() == "https://example.invalid/t1.py");
    // Without an id there is nothing to default: the resource type is what is reported missing.
    grpc::ClientContext none_ctx;
    flyteidl::admin::ObjectGetRequest none;
    CHECK(server.stub->GetDescriptionEntity(&none_ctx, none, &got).error_message() ==
          "invalid value for resource_type");
  }
  {
    grpc::ClientContext ctx;
    flyteidl::admin::DescriptionEntityListRequest req;
    req.set_resource_type(flyteidl::core::TASK);
    req.mutable_id()->set_project(kProject);
    req.mutable_id()->set_domain(kDomain);
    req.mutable_id()->set_name(task.template_().id().name());
    req.set_limit(10);
    flyteidl::admin::DescriptionEntityList list;
    REQUIRE(server.stub->ListDescriptionEntities(&ctx, req, &list).ok());
    REQUIRE(list.descriptionentities_size() == 1);
    CHECK(list.descriptionentities(0).id().version() == "v1");
  }
  {
    grpc::ClientContext ctx;
    flyteidl::admin::ObjectGetRequest get;
    *get.mutable_id() = task.template_().id();
    flyteidl::admin::Task stored;
    REQUIRE(server.stub->GetTask(&ctx, get, &stored).ok());
    CHECK(stored.short_description() == "adds one");
  }
}
