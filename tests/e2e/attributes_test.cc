// Matchable attributes on the built server: project, project-domain and workflow attributes over
// gRPC and REST, ListMatchableAttributes, upstream's validation and NOT_FOUND texts, and
// CreateTask honouring a TASK_RESOURCE attribute.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "flyteidl/service/admin.grpc.pb.h"
#include "grpc_helpers.h"
#include "registration_client.h"
#include "served_server.h"
#include "test_support.h"

using namespace flyte;
using flyteidl::service::AdminService;
namespace admin = flyteidl::admin;

namespace {

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";

// The flyteadmin binary with the registration managers and the resource manager.
struct AttributesServer {
  explicit AttributesServer(const std::string& override_yaml = "")
      : served("    - name: flyte_manager_project\n"
               "    - name: flyte_manager_task\n"
               "    - name: flyte_manager_resource\n",
               override_yaml.empty() ? std::vector<std::string>{} : std::vector<std::string>{override_yaml}),
        grpc_port(served.grpc_port),
        http_port(served.http_port),
        stub(AdminService::NewStub(served.channel())) {}
  test::ServedServer served;
  int grpc_port, http_port;
  std::unique_ptr<AdminService::Stub> stub;
};

admin::MatchingAttributes CpuLimit(const std::string& cpu) {
  admin::MatchingAttributes m;
  m.mutable_task_resource_attributes()->mutable_defaults()->set_cpu("500m");
  m.mutable_task_resource_attributes()->mutable_limits()->set_cpu(cpu);
  return m;
}

admin::MatchingAttributes Overrides(const std::string& task_type, const std::string& plugin) {
  admin::MatchingAttributes m;
  auto* o = m.mutable_plugin_overrides()->add_overrides();
  o->set_task_type(task_type);
  o->add_plugin_id(plugin);
  return m;
}

// Thin synchronous wrappers: each returns the status and fills `out`.
struct Client {
  AdminService::Stub& stub;

  grpc::Status UpdateProject(const std::string& project, const admin::MatchingAttributes* m) {
    grpc::ClientContext ctx;
    admin::ProjectAttributesUpdateRequest req;
    req.mutable_attributes()->set_project(project);
    if (m) *req.mutable_attributes()->mutable_matching_attributes() = *m;
    admin::ProjectAttributesUpdateResponse resp;
    return stub.UpdateProjectAttributes(&ctx, req, &resp);
  }
  grpc::Status GetProject(const std::string& project, admin::MatchableResource type,
                          admin::ProjectAttributes* out = nullptr) {
    grpc::ClientContext ctx;
    admin::ProjectAttributesGetRequest req;
    req.set_project(project);
    req.set_resource_type(type);
    admin::ProjectAttributesGetResponse resp;
    auto s = stub.GetProjectAttributes(&ctx, req, &resp);
    if (out) *out = resp.attributes();
    return s;
  }
  grpc::Status DeleteProject(const std::string& project, admin::MatchableResource type) {
    grpc::ClientContext ctx;
    admin::ProjectAttributesDeleteRequest req;
    req.set_project(project);
    req.set_resource_type(type);
    admin::ProjectAttributesDeleteResponse resp;
    return stub.DeleteProjectAttributes(&ctx, req, &resp);
  }
  grpc::Status UpdateDomain(const std::string& project, const std::string& domain,
                            const admin::MatchingAttributes* m) {
    grpc::ClientContext ctx;
    admin::ProjectDomainAttributesUpdateRequest req;
    req.mutable_attributes()->set_project(project);
    req.mutable_attributes()->set_domain(domain);
    if (m) *req.mutable_attributes()->mutable_matching_attributes() = *m;
    admin::ProjectDomainAttributesUpdateResponse resp;
    return stub.UpdateProjectDomainAttributes(&ctx, req, &resp);
  }
  grpc::Status GetDomain(const std::string& project, const std::string& domain,
                         admin::MatchableResource type,
                         admin::ProjectDomainAttributes* out = nullptr) {
    grpc::ClientContext ctx;
    admin::ProjectDomainAttributesGetRequest req;
    req.set_project(project);
    req.set_domain(domain);
    req.set_resource_type(type);
    admin::ProjectDomainAttributesGetResponse resp;
    auto s = stub.GetProjectDomainAttributes(&ctx, req, &resp);
    if (out) *out = resp.attributes();
    return s;
  }
  grpc::Status DeleteDomain(const std::string& project, const std::string& domain,
                            admin::MatchableResource type) {
    grpc::ClientContext ctx;
    admin::ProjectDomainAttributesDeleteRequest req;
    req.set_project(project);
    req.set_domain(domain);
    req.set_resource_type(type);
    admin::ProjectDomainAttributesDeleteResponse resp;
    return stub.DeleteProjectDomainAttributes(&ctx, req, &resp);
  }
  grpc::Status UpdateWorkflow(const std::string& workflow, const admin::MatchingAttributes* m) {
    grpc::ClientContext ctx;
    admin::WorkflowAttributesUpdateRequest req;
    req.mutable_attributes()->set_project(kProject);
    req.mutable_attributes()->set_domain(kDomain);
    req.mutable_attributes()->set_workflow(workflow);
    if (m) *req.mutable_attributes()->mutable_matching_attributes() = *m;
    admin::WorkflowAttributesUpdateResponse resp;
    return stub.UpdateWorkflowAttributes(&ctx, req, &resp);
  }
  grpc::Status GetWorkflow(const std::string& workflow, admin::MatchableResource type,
                           admin::WorkflowAttributes* out = nullptr) {
    grpc::ClientContext ctx;
    admin::WorkflowAttributesGetRequest req;
    req.set_project(kProject);
    req.set_domain(kDomain);
    req.set_workflow(workflow);
    req.set_resource_type(type);
    admin::WorkflowAttributesGetResponse resp;
    auto s = stub.GetWorkflowAttributes(&ctx, req, &resp);
    if (out) *out = resp.attributes();
    return s;
  }
  grpc::Status DeleteWorkflow(const std::string& workflow, admin::MatchableResource type) {
    grpc::ClientContext ctx;
    admin::WorkflowAttributesDeleteRequest req;
    req.set_project(kProject);
    req.set_domain(kDomain);
    req.set_workflow(workflow);
    req.set_resource_type(type);
    admin::WorkflowAttributesDeleteResponse resp;
    return stub.DeleteWorkflowAttributes(&ctx, req, &resp);
  }
  grpc::Status List(int type, admin::ListMatchableAttributesResponse* out = nullptr) {
    grpc::ClientContext ctx;
    admin::ListMatchableAttributesRequest req;
    req.set_resource_type(static_cast<admin::MatchableResource>(type));
    admin::ListMatchableAttributesResponse resp;
    auto s = stub.ListMatchableAttributes(&ctx, req, &resp);
    if (out) *out = resp;
    return s;
  }
};

std::string CpuOf(const admin::MatchingAttributes& m) {
  return m.task_resource_attributes().limits().cpu();
}

}  // namespace

TEST_CASE("Attributes at each level are upserted, resolved by specificity, listed and deleted",
          "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  AttributesServer server(backend == "postgres" ? test::PostgresLayer("e2e_attr_" + std::to_string(test::FreePort())) : "");
  Client c{*server.stub};

  auto one = CpuLimit("1");
  REQUIRE(c.UpdateDomain(kProject, kDomain, &one).ok());
  admin::ProjectDomainAttributes pd;
  REQUIRE(c.GetDomain(kProject, kDomain, admin::TASK_RESOURCE, &pd).ok());
  CHECK(pd.project() == kProject);
  CHECK(pd.domain() == kDomain);
  CHECK(CpuOf(pd.matching_attributes()) == "1");

  // An update replaces the previous value of its key.
  auto three = CpuLimit("3");
  REQUIRE(c.UpdateDomain(kProject, kDomain, &three).ok());
  REQUIRE(c.GetDomain(kProject, kDomain, admin::TASK_RESOURCE, &pd).ok());
  CHECK(CpuOf(pd.matching_attributes()) == "3");

  auto wf = CpuLimit("7");
  REQUIRE(c.UpdateWorkflow("wf1", &wf).ok());
  auto project_level = CpuLimit("5");
  REQUIRE(c.UpdateProject(kProject, &project_level).ok());

  admin::WorkflowAttributes w;
  REQUIRE(c.GetWorkflow("wf1", admin::TASK_RESOURCE, &w).ok());
  CHECK(w.workflow() == "wf1");
  CHECK(CpuOf(w.matching_attributes()) == "7");
  // A workflow without its own row resolves to the project-domain row.
  REQUIRE(c.GetWorkflow("wf2", admin::TASK_RESOURCE, &w).ok());
  CHECK(w.workflow().empty());
  CHECK(w.domain() == kDomain);
  CHECK(CpuOf(w.matching_attributes()) == "3");
  // The project level is read on its own, whatever is more specific.
  admin::ProjectAttributes p;
  REQUIRE(c.GetProject(kProject, admin::TASK_RESOURCE, &p).ok());
  CHECK(p.project() == kProject);
  CHECK(CpuOf(p.matching_attributes()) == "5");
  // Another domain falls back to the project level.
  REQUIRE(c.GetDomain(kProject, "staging", admin::TASK_RESOURCE, &pd).ok());
  CHECK(pd.domain().empty());
  CHECK(CpuOf(pd.matching_attributes()) == "5");

  admin::ListMatchableAttributesResponse list;
  REQUIRE(c.List(admin::TASK_RESOURCE, &list).ok());
  REQUIRE(list.configurations_size() == 3);
  CHECK(list.configurations(0).workflow() == "wf1");
  CHECK(list.configurations(1).domain() == kDomain);
  CHECK(list.configurations(1).workflow().empty());
  CHECK(list.configurations(2).domain().empty());
  CHECK(CpuOf(list.configurations(2).attributes()) == "5");
  REQUIRE(c.List(admin::EXECUTION_QUEUE, &list).ok());
  CHECK(list.configurations_size() == 0);

  // Another resource type of the same key is a different row.
  auto missing = c.GetDomain(kProject, kDomain, admin::EXECUTION_QUEUE);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);

  // Deletes, most specific first; each Get then resolves to the next level.
  REQUIRE(c.DeleteWorkflow("wf1", admin::TASK_RESOURCE).ok());
  REQUIRE(c.GetWorkflow("wf1", admin::TASK_RESOURCE, &w).ok());
  CHECK(CpuOf(w.matching_attributes()) == "3");
  REQUIRE(c.DeleteDomain(kProject, kDomain, admin::TASK_RESOURCE).ok());
  REQUIRE(c.GetDomain(kProject, kDomain, admin::TASK_RESOURCE, &pd).ok());
  CHECK(pd.domain().empty());
  CHECK(CpuOf(pd.matching_attributes()) == "5");
  REQUIRE(c.DeleteProject(kProject, admin::TASK_RESOURCE).ok());
  auto gone = c.GetDomain(kProject, kDomain, admin::TASK_RESOURCE);
  CHECK(gone.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(gone.error_message() ==
        "Resource [{Project:flytesnacks Domain:development Workflow: LaunchPlan: "
        "ResourceType:TASK_RESOURCE}] not found");
  auto gone_project = c.GetProject(kProject, admin::TASK_RESOURCE);
  CHECK(gone_project.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(gone_project.error_message() ==
        "Resource [{Project:flytesnacks Domain: Workflow: LaunchPlan: "
        "ResourceType:TASK_RESOURCE}] not found");
  auto gone_workflow = c.GetWorkflow("wf1", admin::TASK_RESOURCE);
  CHECK(gone_workflow.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(gone_workflow.error_message() ==
        "Resource [{Project:flytesnacks Domain:development Workflow:wf1 LaunchPlan: "
        "ResourceType:TASK_RESOURCE}] not found");
  // Deleting what is not there is not an error.
  CHECK(c.DeleteDomain(kProject, kDomain, admin::TASK_RESOURCE).ok());
  REQUIRE(c.List(admin::TASK_RESOURCE, &list).ok());
  CHECK(list.configurations_size() == 0);

  SECTION("plugin overrides are merged by task type") {
    auto python_a = Overrides("python", "a");
    auto spark_b = Overrides("spark", "b");
    auto python_c = Overrides("python", "c");
    REQUIRE(c.UpdateDomain(kProject, kDomain, &python_a).ok());
    REQUIRE(c.UpdateDomain(kProject, kDomain, &spark_b).ok());
    REQUIRE(c.UpdateDomain(kProject, kDomain, &python_c).ok());
    REQUIRE(c.GetDomain(kProject, kDomain, admin::PLUGIN_OVERRIDE, &pd).ok());
    const auto& overrides = pd.matching_attributes().plugin_overrides().overrides();
    REQUIRE(overrides.size() == 2);
    std::map<std::string, std::string> by_type;
    for (const auto& o : overrides) by_type[o.task_type()] = o.plugin_id(0);
    CHECK(by_type == std::map<std::string, std::string>{{"python", "c"}, {"spark", "b"}});

    REQUIRE(c.UpdateProject(kProject, &python_a).ok());
    REQUIRE(c.UpdateProject(kProject, &spark_b).ok());
    REQUIRE(c.GetProject(kProject, admin::PLUGIN_OVERRIDE, &p).ok());
    CHECK(p.matching_attributes().plugin_overrides().overrides_size() == 2);

    // Merges at once, each adding its own task type, lose none of them.
    constexpr int kMerges = 8;
    auto results = test::Concurrently(kMerges, [&](int i) {
      auto stub = AdminService::NewStub(server.served.channel());
      Client mine{*stub};
      auto own = Overrides("type-" + std::to_string(i), "plugin-" + std::to_string(i));
      return mine.UpdateWorkflow("merged_wf", &own);
    });
    for (const auto& r : results) CHECK(r.ok());
    admin::WorkflowAttributes w;
    REQUIRE(c.GetWorkflow("merged_wf", admin::PLUGIN_OVERRIDE, &w).ok());
    CHECK(w.matching_attributes().plugin_overrides().overrides_size() == kMerges);
  }

  SECTION("project execution config falls back to and merges with the flyteadmin defaults") {
    REQUIRE(c.GetProject(kProject, admin::WORKFLOW_EXECUTION_CONFIG, &p).ok());
    CHECK(p.project() == kProject);
    CHECK(p.matching_attributes().workflow_execution_config().max_parallelism() == 25);

    admin::MatchingAttributes wec;
    wec.mutable_workflow_execution_config()->mutable_labels()->mutable_values()->insert(
        {"team", "ml"});
    REQUIRE(c.UpdateProject(kProject, &wec).ok());
    REQUIRE(c.GetProject(kProject, admin::WORKFLOW_EXECUTION_CONFIG, &p).ok());
    const auto& got = p.matching_attributes().workflow_execution_config();
    CHECK(got.max_parallelism() == 25);
    CHECK(got.labels().values().at("team") == "ml");
    // Other levels see only what is stored.
    REQUIRE(c.GetDomain(kProject, kDomain, admin::WORKFLOW_EXECUTION_CONFIG, &pd).ok());
    CHECK(pd.matching_attributes().workflow_execution_config().max_parallelism() == 0);
  }
}

TEST_CASE("Attribute requests are validated as upstream validates them", "[e2e]") {
  AttributesServer server;
  Client c{*server.stub};
  auto one = CpuLimit("1");
  auto check = [](const grpc::Status& s, const std::string& message) {
    INFO(s.error_message());
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == message);
  };

  check(c.UpdateDomain("nope", kDomain, &one),
        "failed to validate that project [nope] and domain [development] are registered, err: "
        "[project [nope] not found]");
  check(c.UpdateDomain(kProject, "qa", &one), "domain [qa] is unrecognized by system");
  check(c.UpdateProject("nope", &one),
        "failed to validate that project [nope] is registered, err: [project [nope] not found]");
  check(c.GetProject("nope", admin::TASK_RESOURCE),
        "failed to validate that project [nope] exists, err: [project [nope] not found]");
  check(c.DeleteProject("nope", admin::TASK_RESOURCE),
        "failed to validate that project [nope] is registered, err: [project [nope] not found]");
  check(c.GetDomain(kProject, "qa", admin::TASK_RESOURCE), "domain [qa] is unrecognized by system");
  check(c.DeleteDomain(kProject, "qa", admin::TASK_RESOURCE),
        "domain [qa] is unrecognized by system");
  check(c.GetWorkflow("", admin::TASK_RESOURCE), "missing name");
  check(c.DeleteWorkflow("", admin::TASK_RESOURCE), "missing name");
  check(c.UpdateWorkflow("", &one), "missing name");

  check(c.UpdateDomain(kProject, kDomain, nullptr), "missing matching_attributes");
  check(c.UpdateProject(kProject, nullptr), "missing matching_attributes");
  check(c.UpdateWorkflow("wf", nullptr), "missing matching_attributes");
  admin::MatchingAttributes empty;
  check(c.UpdateDomain(kProject, kDomain, &empty),
        "Unrecognized matching attributes type for request flytesnacks-development");
  check(c.UpdateWorkflow("wf", &empty),
        "Unrecognized matching attributes type for request flytesnacks-development-wf");
  check(c.UpdateProject(kProject, &empty),
        "Unrecognized matching attributes type for request flytesnacks");
  {
    grpc::ClientContext ctx;
    admin::ProjectDomainAttributesUpdateRequest req;  // no attributes at all
    admin::ProjectDomainAttributesUpdateResponse resp;
    check(server.stub->UpdateProjectDomainAttributes(&ctx, req, &resp), "missing attributes");
  }
  check(c.List(99), "invalid value for resource_type");
  // An attribute stored under its own type is not found under another.
  REQUIRE(c.UpdateWorkflow("wf", &one).ok());
  auto other = c.GetWorkflow("wf", admin::CLUSTER_RESOURCE);
  CHECK(other.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(other.error_message() ==
        "Resource [{Project:flytesnacks Domain:development Workflow:wf LaunchPlan: "
        "ResourceType:CLUSTER_RESOURCE}] not found");
}

TEST_CASE("Attributes are served over REST in the gateway's JSON shape", "[e2e]") {
  AttributesServer server;
  const std::vector<std::pair<std::string, std::string>> json{{"Accept", "application/json"},
                                                              {"Content-Type", "application/json"}};
  auto http = [&](const std::string& method, const std::string& target,
                  const std::string& body = "") {
    return test::Http(server.http_port, method, target, body, json);
  };

  auto put = http("PUT", "/api/v1/project_domain_attributes/flytesnacks/development",
                  R"({"attributes": {"project": "flytesnacks", "domain": "development",
                      "matching_attributes": {"execution_queue_attributes": {"tags": ["gpu", "fast"]}}}})");
  INFO(put.body);
  REQUIRE(put.status == 200);
  auto got = http(
      "GET",
      "/api/v1/project_domain_attributes/flytesnacks/development?resource_type=EXECUTION_QUEUE");
  REQUIRE(got.status == 200);
  auto body = nlohmann::json::parse(got.body);
  CHECK(body["attributes"]["project"] == "flytesnacks");
  CHECK(body["attributes"]["domain"] == "development");
  CHECK(body["attributes"]["matching_attributes"]["execution_queue_attributes"]["tags"] ==
        nlohmann::json::array({"gpu", "fast"}));

  REQUIRE(
      http("PUT", "/api/v1/workflow_attributes/flytesnacks/development/wf1",
           R"({"attributes": {"project": "flytesnacks", "domain": "development", "workflow": "wf1",
                   "matching_attributes": {"execution_queue_attributes": {"tags": ["cpu"]}}}})")
          .status == 200);
  REQUIRE(http("PUT", "/api/v1/project_attributes/flytesnacks",
               R"({"attributes": {"project": "flytesnacks",
                   "matching_attributes": {"execution_queue_attributes": {"tags": ["any"]}}}})")
              .status == 200);
  auto wf =
      http("GET",
           "/api/v1/workflow_attributes/flytesnacks/development/wf1?resource_type=EXECUTION_QUEUE");
  REQUIRE(wf.status == 200);
  CHECK(nlohmann::json::parse(
            wf.body)["attributes"]["matching_attributes"]["execution_queue_attributes"]["tags"] ==
        nlohmann::json::array({"cpu"}));
  auto project =
      http("GET", "/api/v1/project_attributes/flytesnacks?resource_type=EXECUTION_QUEUE");
  REQUIRE(project.status == 200);
  CHECK(nlohmann::json::parse(project.body)["attributes"]["matching_attributes"]
                                           ["execution_queue_attributes"]["tags"] ==
        nlohmann::json::array({"any"}));

  auto list = http("GET", "/api/v1/matchable_attributes?resource_type=EXECUTION_QUEUE");
  REQUIRE(list.status == 200);
  auto configs = nlohmann::json::parse(list.body)["configurations"];
  REQUIRE(configs.size() == 3);
  CHECK(configs[0]["workflow"] == "wf1");
  CHECK(configs[1]["domain"] == "development");
  CHECK(configs[2]["project"] == "flytesnacks");

  REQUIRE(http("DELETE", "/api/v1/workflow_attributes/flytesnacks/development/wf1",
               R"({"resource_type": "EXECUTION_QUEUE"})")
              .status == 200);
  REQUIRE(http("DELETE", "/api/v1/project_domain_attributes/flytesnacks/development",
               R"({"resource_type": "EXECUTION_QUEUE"})")
              .status == 200);
  REQUIRE(http("DELETE", "/api/v1/project_attributes/flytesnacks",
               R"({"resource_type": "EXECUTION_QUEUE"})")
              .status == 200);
  auto gone = http(
      "GET",
      "/api/v1/project_domain_attributes/flytesnacks/development?resource_type=EXECUTION_QUEUE");
  CHECK(gone.status == 404);
  CHECK(nlohmann::json::parse(gone.body)["message"] ==
        "Resource [{Project:flytesnacks Domain:development Workflow: LaunchPlan: "
        "ResourceType:EXECUTION_QUEUE}] not found");

  auto bad = http("PUT", "/api/v1/project_domain_attributes/flytesnacks/qa",
                  R"({"attributes": {"matching_attributes": {"execution_queue_attributes": {}}}})");
  CHECK(bad.status == 400);
  CHECK(nlohmann::json::parse(bad.body)["message"] == "domain [qa] is unrecognized by system");
  auto missing = http("PUT", "/api/v1/project_attributes/flytesnacks", R"({"attributes": {}})");
  CHECK(missing.status == 400);
  CHECK(nlohmann::json::parse(missing.body)["message"] == "missing matching_attributes");
}

TEST_CASE("CreateTask checks resources against a TASK_RESOURCE attribute instead of the config",
          "[e2e]") {
  AttributesServer server;
  Client c{*server.stub};
  auto entries = test::ReadPackage(test::FlytesnacksCoreDir());
  test::Target target{kProject, kDomain, "v1"};
  auto e = entries[39];  // basic_workflow.t1
  test::Hydrate(e, target);
  auto spec = std::get<admin::TaskSpec>(e.spec);
  auto* resources = spec.mutable_template_()->mutable_container()->mutable_resources();
  resources->clear_requests();
  resources->clear_limits();
  auto* cpu = resources->add_requests();
  cpu->set_name(flyteidl::core::Resources::CPU);
  cpu->set_value("1500m");  // above the attribute's limit 1, within the config's 2
  auto create = [&](const std::string& version) {
    grpc::ClientContext ctx;
    admin::TaskCreateRequest req;
    *req.mutable_id() = spec.template_().id();
    req.mutable_id()->set_resource_type(flyteidl::core::TASK);
    req.mutable_id()->set_version(version);
    *req.mutable_spec() = spec;
    admin::TaskCreateResponse resp;
    return server.stub->CreateTask(&ctx, req, &resp);
  };

  auto limit = CpuLimit("1");
  REQUIRE(c.UpdateDomain(kProject, kDomain, &limit).ok());
  auto refused = create("limited");
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message() ==
        "Requested CPU default [1500m] is greater than current limit set in the platform "
        "configuration [1]. Please contact Flyte Admins to change these limits or consult the "
        "configuration");

  // A project-level attribute applies when the domain has none.
  REQUIRE(c.DeleteDomain(kProject, kDomain, admin::TASK_RESOURCE).ok());
  REQUIRE(c.UpdateProject(kProject, &limit).ok());
  CHECK(create("limited").error_code() == grpc::StatusCode::INVALID_ARGUMENT);

  // Without any attribute the config's task_resources (cpu limit 2) apply.
  REQUIRE(c.DeleteProject(kProject, admin::TASK_RESOURCE).ok());
  auto created = create("default");
  INFO(created.error_message());
  CHECK(created.ok());
}

TEST_CASE("REST calls meet the gRPC message limits, as upstream's gateway hop does", "[e2e]") {
  AttributesServer server("server:\n  grpc:\n    maxMessageSizeBytes: 2000\n");
  const std::vector<std::pair<std::string, std::string>> json{{"Accept", "application/json"},
                                                              {"Content-Type", "application/json"}};
  auto put = [&](size_t tag_size) {
    nlohmann::json body = {{"attributes",
                            {{"project", "flytesnacks"},
                             {"matching_attributes", {{"execution_queue_attributes", {{"tags", {std::string(tag_size, 't')}}}}}}}}};
    return test::Http(server.http_port, "PUT", "/api/v1/project_attributes/flytesnacks", body.dump(), json);
  };
  // Over the limit on the way in: refused before anything is stored.
  auto big = put(3000);
  CHECK(big.status == 429);
  auto err = nlohmann::json::parse(big.body);
  CHECK(err["code"] == 8);
  CHECK(err["message"].get<std::string>().rfind("grpc: received message larger than max (", 0) == 0);
  CHECK_THAT(err["message"].get<std::string>(), Catch::EndsWith(" vs. 2000)"));
  CHECK(test::Http(server.http_port, "GET", "/api/v1/project_attributes/flytesnacks?resource_type=EXECUTION_QUEUE", "",
                   json).status == 404);

  // Under it: stored, and read back while the answer fits.
  REQUIRE(put(1500).status == 200);
  CHECK(test::Http(server.http_port, "GET", "/api/v1/project_attributes/flytesnacks?resource_type=EXECUTION_QUEUE", "",
                   json).status == 200);
  // Two such entries make a list the server may not send (the call itself ran).
  nlohmann::json pd = {{"attributes",
                        {{"project", "flytesnacks"},
                         {"domain", "development"},
                         {"matching_attributes", {{"execution_queue_attributes", {{"tags", {std::string(1500, 'd')}}}}}}}}};
  REQUIRE(test::Http(server.http_port, "PUT", "/api/v1/project_domain_attributes/flytesnacks/development", pd.dump(),
                     json)
              .status == 200);
  auto list = test::Http(server.http_port, "GET", "/api/v1/matchable_attributes?resource_type=EXECUTION_QUEUE", "", json);
  CHECK(list.status == 429);
  auto list_err = nlohmann::json::parse(list.body);
  CHECK(list_err["code"] == 8);
  CHECK(list_err["message"].get<std::string>().rfind("grpc: trying to send message larger than max (", 0) == 0);
}
