// The installed plugin SDK, as a vendor uses it: `cmake --install` into a scratch prefix, the
// three example plugins configured and built out of tree against it (find_package only), and
// the installed server running them: the gRPC service answers, the executor receives a
// CreateExecution, the hooks are registered and behave.
#include <signal.h>

#include <prometheus/registry.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "flyte/core/build_info.h"
#include "flyte/core/config.h"
#include "flyte/core/plugin_host.h"
#include "flyte/plugin/http_hooks.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "flyteidl/service/agent.grpc.pb.h"
#include "grpc_helpers.h"
#include "packaging_support.h"
#include "registration_client.h"

namespace fs = std::filesystem;
namespace admin = flyteidl::admin;
using flyte::test::MustRun;

namespace {

constexpr const char* kBasicWf = "core.flyte_basics.basic_workflow.my_wf";

std::string ServerConfig(const flyte::test::ScratchDir& scratch, int grpc_port, int http_port,
                         const std::string& executor, const std::string& hooks, const std::string& service) {
  return "server:\n  bindAddress: 127.0.0.1\n  httpPort: " + std::to_string(http_port) +
         "\n  grpc:\n    port: " + std::to_string(grpc_port) + "\n  gracefulShutdownTimeoutSeconds: 5\n"
         "database:\n  sqlite:\n    file: " + (scratch / "state/admin.db") +
         "\n  migrateOnStart: true\n  seedProjects: [flytesnacks]\n"
         "storage:\n  type: local\n  container: bucket\n  stow:\n    config:\n      path: " + (scratch / "state/storage") +
         "\nlogger:\n  level: 3\nflyteadmin:\n  profilerPort: 0\n"
         // No pluginHost.directory: the installed server finds its own plugins by name.
         "pluginHost:\n  load:\n"
         "    - name: flyte_interceptor_recovery\n"
         "    - name: flyte_interceptor_request_id\n"
         "    - name: flyte_manager_version\n"
         "    - name: flyte_manager_project\n"
         "    - name: flyte_manager_task\n"
         "    - name: flyte_manager_workflow\n"
         "    - name: flyte_manager_launch_plan\n"
         "    - name: flyte_manager_named_entity\n"
         "    - name: flyte_manager_resource\n"
         "    - name: flyte_manager_execution\n"
         "    - path: " + executor + "\n      config:\n        directory: " + (scratch / "spool") +
         "\n        cluster: site-runner\n"
         "    - path: " + hooks + "\n      config:\n        allowedEmailDomains: [example.com]\n"
         "    - path: " + service + "\n      config:\n        agents:\n"
         "          - name: bigquery\n            taskTypes: [bigquery_query_job_task]\n"
         "          - name: sensor\n            isSync: true\n            taskTypes: [sensor]\n";
}

void RegisterBasicWorkflow(flyteidl::service::AdminService::Stub& stub) {
  flyte::test::Target target{"flytesnacks", "development", "v1"};
  for (auto& e : flyte::test::ReadPackage(flyte::test::FlytesnacksCoreDir())) {
    if (e.file.find("basic_workflow") == std::string::npos) continue;
    flyte::test::Hydrate(e, target);
    auto r = flyte::test::Register(stub, e, target);
    INFO(r.file << ": " << r.message);
    REQUIRE(r.code == grpc::StatusCode::OK);
  }
}

void CheckAgentDirectory(int grpc_port, int http_port) {
  auto stub = flyteidl::service::AgentMetadataService::NewStub(flyte::test::Channel(grpc_port));
  {
    grpc::ClientContext ctx;
    admin::ListAgentsResponse list;
    REQUIRE(stub->ListAgents(&ctx, admin::ListAgentsRequest(), &list).ok());
    REQUIRE(list.agents_size() == 2);
    CHECK(list.agents(0).name() == "bigquery");
    CHECK(list.agents(1).is_sync());
    REQUIRE(list.agents(1).supported_task_categories_size() == 1);
    CHECK(list.agents(1).supported_task_categories(0).name() == "sensor");
  }
  {
    grpc::ClientContext ctx;
    admin::GetAgentRequest req;
    req.set_name("missing");
    admin::GetAgentResponse resp;
    auto s = stub->GetAgent(&ctx, req, &resp);
    CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(s.error_message() == "no agent named 'missing'");
  }
  // The same methods through the REST gateway, by their google.api.http bindings.
  auto rest = flyte::test::Http(http_port, "GET", "/api/v1/agent/bigquery");
  REQUIRE(rest.status == 200);
  CHECK(nlohmann::json::parse(rest.body)["agent"]["name"] == "bigquery");
}

void CheckSpoolExecutor(const flyte::test::ScratchDir& scratch, int grpc_port) {
  auto stub = flyteidl::service::AdminService::NewStub(flyte::test::Channel(grpc_port));
  RegisterBasicWorkflow(*stub);
  admin::ExecutionCreateRequest req;
  req.set_project("flytesnacks");
  req.set_domain("development");
  req.set_name("spooled-1");
  auto* lp = req.mutable_spec()->mutable_launch_plan();
  lp->set_resource_type(flyteidl::core::LAUNCH_PLAN);
  lp->set_project("flytesnacks");
  lp->set_domain("development");
  lp->set_name(kBasicWf);
  lp->set_version("v1");
  (*req.mutable_inputs()->mutable_literals())["a"].mutable_scalar()->mutable_primitive()->set_integer(3);
  (*req.mutable_inputs()->mutable_literals())["b"].mutable_scalar()->mutable_primitive()->set_string_value("hi");
  grpc::ClientContext ctx;
  admin::ExecutionCreateResponse created;
  auto s = stub->CreateExecution(&ctx, req, &created);
  INFO(s.error_message());
  REQUIRE(s.ok());

  fs::path job = scratch.path() / "spool/flytesnacks.development.spooled-1.json";
  REQUIRE(fs::exists(job));
  auto spooled = nlohmann::json::parse(flyte::test::ReadFile(job));
  CHECK(spooled["executionId"]["name"] == "spooled-1");
  CHECK(spooled["launchPlan"] == kBasicWf);
  CHECK(spooled["inputs"]["literals"]["a"]["scalar"]["primitive"]["integer"] == "3");
  CHECK(spooled["workflowClosure"]["primary"]["template"]["id"]["name"] == kBasicWf);

  // The cluster the executor answered is stored with the execution.
  grpc::ClientContext get_ctx;
  admin::WorkflowExecutionGetRequest get;
  *get.mutable_id() = created.id();
  admin::Execution execution;
  REQUIRE(stub->GetExecution(&get_ctx, get, &execution).ok());
  CHECK(execution.spec().metadata().system_metadata().execution_cluster() == "site-runner");

  grpc::ClientContext abort_ctx;
  admin::ExecutionTerminateRequest terminate;
  *terminate.mutable_id() = created.id();
  terminate.set_cause("changed my mind");
  admin::ExecutionTerminateResponse terminated;
  auto t = stub->TerminateExecution(&abort_ctx, terminate, &terminated);
  INFO(t.error_message());
  REQUIRE(t.ok());
  CHECK(fs::exists(scratch.path() / "spool/flytesnacks.development.spooled-1.abort"));
}

// The host does not call PreRedirectHook or LogoutHook yet (it has no login or logout
// endpoint): they are checked as registered by the installed server, and called here as the
// host's /callback and /logout handlers would.
void CheckAuthHooks(const std::string& hooks_so) {
  auto config = flyte::core::Config::FromDocuments(
      {"pluginHost:\n  load:\n    - path: " + hooks_so + "\n      config:\n        allowedEmailDomains: [example.com]\n"},
      [](const std::string&) { return std::nullopt; });
  REQUIRE(config.ok());
  std::ostringstream log;
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  flyte::core::PluginHost host(*config, logger, std::make_shared<prometheus::Registry>(),
                               flyte::core::ThisBuild());
  auto specs = host.SpecsFromConfig();
  REQUIRE(specs.ok());
  auto loaded = host.LoadAll(specs.value());
  INFO(loaded.message());
  REQUIRE(loaded.ok());

  auto pre = host.registry().Get<flyte::plugin::PreRedirectHook>(flyte::plugin::plugin_id::kPreRedirectHook);
  REQUIRE(pre);
  flyte::plugin::HttpRequestView request{"GET", "/callback?code=x", {}};
  flyte::plugin::HttpResponseHeaders response;
  CHECK_FALSE(pre->BeforeRedirect({"u1", "ada@example.com", "issuer"}, request, response).has_value());
  auto denied = pre->BeforeRedirect({"u2", "eve@elsewhere.org", "issuer"}, request, response);
  REQUIRE(denied.has_value());
  CHECK(denied->http_status == 403);
  CHECK(denied->message == "user eve@elsewhere.org is not allowed to log in");

  auto logout = host.registry().Get<flyte::plugin::LogoutHook>(flyte::plugin::plugin_id::kLogoutHook);
  REQUIRE(logout);
  flyte::plugin::HttpResponseHeaders logout_response;
  REQUIRE(logout->OnLogout({"u1", "ada@example.com", "issuer"}, {"GET", "/logout", {}}, logout_response).ok());
  CHECK(logout_response.headers.count("clear-site-data") == 1);
  CHECK_THAT(log.str(), Catch::Contains("logout: user u1 (ada@example.com) from /logout"));
  host.Shutdown();
}

}  // namespace

TEST_CASE("Example plugins built against the installed SDK run in the installed server", "[integration][sdk]") {
  flyte::test::ScratchDir scratch("sdk");
  MustRun({FLYTE_CMAKE_COMMAND, "--install", FLYTE_BINARY_DIR, "--prefix", scratch / "prefix"});
  for (const char* f : {"bin/flyteadmin", "include/flyte/plugin/plugin.h", "include/flyteidl-cpp/flyteidl/admin/agent.pb.h",
                        "lib/libflyte_plugin_api.so.1", "lib/libflyteidl_proto.so.1",
                        "lib/flyteadmin/plugins/libflyte_manager_execution.so",
                        "lib/cmake/FlyteadminPlugin/FlyteadminPluginConfig.cmake", "share/flyteadmin/flyteadmin.yaml"}) {
    INFO(f);
    CHECK(fs::exists(scratch.path() / "prefix" / f));
  }
  CHECK_FALSE(fs::exists(scratch.path() / "prefix/etc"));  // /etc files are the .deb's only

  std::string executor = flyte::test::BuildExample(scratch, scratch / "prefix", "workflow_executor", "example_spool_executor");
  std::string hooks = flyte::test::BuildExample(scratch, scratch / "prefix", "auth_hook", "example_auth_hooks");
  std::string service = flyte::test::BuildExample(scratch, scratch / "prefix", "grpc_service", "example_agent_directory");

  int grpc_port = flyte::test::FreePort(), http_port = flyte::test::FreePort();
  std::string config = scratch / "flyteadmin.yaml";
  {
    std::ofstream out(config);
    out << ServerConfig(scratch, grpc_port, http_port, executor, hooks, service);
  }
  std::string bin = scratch / "prefix/bin/flyteadmin";
  auto listed = MustRun({bin, "--config", config, "plugins"});
  CHECK_THAT(listed.out, Catch::Contains(scratch / "prefix/lib/flyteadmin/plugins/libflyte_manager_execution.so"));
  CHECK_THAT(listed.out, Catch::Contains("example_auth_hooks 0.1.0") && Catch::Contains("registers PreRedirectHook") &&
                             Catch::Contains("registers LogoutHook"));

  flyte::test::Child server({bin, "--config", config, "serve"});
  REQUIRE((flyte::test::WaitForPort(grpc_port, std::chrono::seconds(30)) &&
           flyte::test::WaitForPort(http_port, std::chrono::seconds(30))));
  INFO(server.Stderr());
  CheckAgentDirectory(grpc_port, http_port);
  CheckSpoolExecutor(scratch, grpc_port);
  CheckAuthHooks(hooks);
  server.Signal(SIGTERM);
  auto stopped = server.Wait(std::chrono::seconds(20));
  INFO(server.Stderr());
  CHECK(stopped.exit_code == 0);
}
