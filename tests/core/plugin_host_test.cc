// Loading real plugin .so files: the default distribution loads; each broken fixture is refused
// at start-up with one line naming the config key, the file and the reason.
#include <algorithm>

#include <catch2/catch.hpp>
#include <prometheus/registry.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "flyte/core/build_info.h"
#include "flyte/core/plugin_host.h"
#include "flyte/plugin/data_proxy.h"
#include "flyte/plugin/managers.h"
#include "flyte/plugin/signal.h"
#include "flyte/plugin/workflow_executor.h"
#include "flyte/plugin/unary.h"
#include "test_support.h"

using namespace flyte;

namespace {

std::string Fixture(const std::string& name) {
  return std::string(FLYTE_FIXTURE_PLUGIN_DIR) + "/lib" + name + ".so";
}

const std::string kDefaults =
    "pluginHost:\n  directory: " FLYTE_PLUGIN_DIR "\n  load:\n"
    "    - name: flyte_interceptor_recovery\n"
    "    - name: flyte_interceptor_request_id\n"
    "    - name: flyte_interceptor_metrics\n"
    "    - name: flyte_manager_version\n"
    "    - name: flyte_manager_project\n"
    "    - name: flyte_manager_task\n"
    "    - name: flyte_manager_workflow\n"
    "    - name: flyte_manager_launch_plan\n"
    "    - name: flyte_manager_named_entity\n"
    "    - name: flyte_manager_description_entity\n"
    "    - name: flyte_manager_resource\n"
    "    - name: flyte_dataproxy_local\n"
    "    - name: flyte_manager_signal\n"
    "    - name: flyte_manager_execution\n"
    "    - name: flyte_manager_node_execution\n"
    "    - name: flyte_manager_task_execution\n"
    "    - name: flyte_manager_metrics\n"
    "    - name: flyte_executor_local\n";

struct Loaded {
  std::unique_ptr<core::Config> config;
  std::unique_ptr<core::PluginHost> host;
  plugin::Status status;
};

Loaded LoadYaml(const std::string& yaml) {
  Loaded l;
  auto c = core::Config::FromDocuments({yaml}, [](const std::string&) { return std::nullopt; });
  REQUIRE(c.ok());
  l.config = std::make_unique<core::Config>(std::move(c.value()));
  l.host = std::make_unique<core::PluginHost>(
      *l.config, std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>()),
      std::make_shared<prometheus::Registry>(), core::ThisBuild());
  auto specs = l.host->SpecsFromConfig();
  REQUIRE(specs.ok());
  l.status = l.host->LoadAll(specs.value());
  return l;
}

// Runs `flyteadmin plugins` on a config; the refusal must be one line on stderr, exit code 1.
test::ProcessResult RunPluginsCommand(const std::string& yaml) {
  auto path = test::WriteTempFile("cfg-" + std::to_string(std::hash<std::string>{}(yaml)) + ".yaml", yaml);
  return test::Run({FLYTEADMIN_BIN, "--config", path, "plugins"});
}

void ExpectRefused(const std::string& extra_entry, const std::string& key, const std::string& file,
                   const std::string& reason) {
  std::string yaml = kDefaults + extra_entry;
  auto loaded = LoadYaml(yaml);
  REQUIRE_FALSE(loaded.status.ok());
  CHECK_THAT(loaded.status.message(), Catch::Contains(key) && Catch::Contains(file) && Catch::Contains(reason));

  auto run = RunPluginsCommand(yaml);
  CHECK(run.signal == 0);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains(key) && Catch::Contains(file) && Catch::Contains(reason));
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("Every plugin of the default distribution loads by config", "[plugin-load]") {
  auto loaded = LoadYaml(kDefaults);
  REQUIRE(loaded.status.ok());
  REQUIRE(loaded.host->loaded().size() == 18);
  auto& registry = loaded.host->registry();
  CHECK(registry.Get<plugin::VersionManager>(plugin::plugin_id::kVersionManager) != nullptr);
  CHECK(registry.Get<plugin::ProjectManager>(plugin::plugin_id::kProjectManager) != nullptr);
  CHECK(registry.Get<plugin::TaskManager>(plugin::plugin_id::kTaskManager) != nullptr);
  CHECK(registry.Get<plugin::WorkflowManager>(plugin::plugin_id::kWorkflowManager) != nullptr);
  CHECK(registry.Get<plugin::LaunchPlanManager>(plugin::plugin_id::kLaunchPlanManager) != nullptr);
  CHECK(registry.Get<plugin::NamedEntityManager>(plugin::plugin_id::kNamedEntityManager) != nullptr);
  CHECK(registry.Get<plugin::DescriptionEntityManager>(plugin::plugin_id::kDescriptionEntityManager) != nullptr);
  CHECK(registry.Get<plugin::ResourceManager>(plugin::plugin_id::kResourceManager) != nullptr);
  CHECK(registry.Get<plugin::DataProxy>(plugin::plugin_id::kDataProxy) != nullptr);
  CHECK(registry.Get<plugin::SignalManager>(plugin::plugin_id::kSignalManager) != nullptr);
  CHECK(registry.Get<plugin::ExecutionManager>(plugin::plugin_id::kExecutionManager) != nullptr);
  CHECK(registry.Get<plugin::NodeExecutionManager>(plugin::plugin_id::kNodeExecutionManager) != nullptr);
  CHECK(registry.Get<plugin::TaskExecutionManager>(plugin::plugin_id::kTaskExecutionManager) != nullptr);
  CHECK(registry.Get<plugin::MetricsManager>(plugin::plugin_id::kMetricsManager) != nullptr);
  CHECK(registry.Get<plugin::WorkflowExecutor>(plugin::plugin_id::kWorkflowExecutor) != nullptr);
  auto chain = registry.GetAll<plugin::UnaryInterceptor>(plugin::plugin_id::kInterceptor);
  REQUIRE(chain.size() == 3);
  std::vector<int> orders;
  for (auto& i : chain) orders.push_back(i->Order());
  CHECK(orders == std::vector<int>{100, 200, 300});
}

TEST_CASE("The embedded default config loads every plugin from the build tree", "[plugin-load]") {
  // `directory` left empty: found next to the binary, as `make run` does.
  auto run = test::Run({FLYTEADMIN_BIN, "plugins"});
  REQUIRE(run.exit_code == 0);
  for (const char* name : {"flyte_interceptor_recovery", "flyte_interceptor_request_id",
                           "flyte_interceptor_metrics", "flyte_manager_version", "flyte_manager_project",
                           "flyte_manager_task", "flyte_manager_workflow", "flyte_manager_launch_plan",
                           "flyte_manager_named_entity", "flyte_manager_description_entity",
                           "flyte_manager_resource", "flyte_dataproxy_local", "flyte_manager_signal",
                           "flyte_manager_execution", "flyte_manager_node_execution",
                           "flyte_manager_task_execution", "flyte_manager_metrics", "flyte_executor_local"}) {
    CHECK_THAT(run.out, Catch::Contains(name));
  }
  CHECK_THAT(run.out, Catch::Contains("registers VersionManager"));
  CHECK_THAT(run.out, Catch::Contains("registers Interceptor [recovery]"));
}

TEST_CASE("A missing plugin file is refused", "[plugin-load]") {
  ExpectRefused("    - path: /nonexistent/libnothing.so\n", "pluginHost.load[18]",
                "/nonexistent/libnothing.so", "file not found");
}

TEST_CASE("A shared object without the entry point is refused", "[plugin-load]") {
  ExpectRefused("    - path: " + Fixture("fixture_no_entry") + "\n", "pluginHost.load[18]",
                Fixture("fixture_no_entry"), "no entry point 'flyte_plugin_info'");
}

TEST_CASE("A plugin built for another plugin API version is refused", "[plugin-load]") {
  ExpectRefused("    - path: " + Fixture("fixture_bad_version") + "\n", "pluginHost.load[18]",
                Fixture("fixture_bad_version"), "built for plugin API version 999");
}

TEST_CASE("A plugin with another build fingerprint is refused", "[plugin-load]") {
  ExpectRefused("    - path: " + Fixture("fixture_bad_fingerprint") + "\n", "pluginHost.load[18]",
                Fixture("fixture_bad_fingerprint"), "build fingerprint mismatch");
}

TEST_CASE("A plugin whose registration throws is refused", "[plugin-load]") {
  ExpectRefused("    - path: " + Fixture("fixture_throws") + "\n", "pluginHost.load[18]",
                Fixture("fixture_throws"), "registration threw: cannot reach the license server");
}

TEST_CASE("A second plugin registering the same PluginID is refused", "[plugin-load]") {
  ExpectRefused("    - path: " + Fixture("fixture_duplicate_version") + "\n", "pluginHost.load[18]",
                Fixture("fixture_duplicate_version"), "already been registered for [VersionManager]");
}

TEST_CASE("The same plugin listed twice is refused", "[plugin-load]") {
  ExpectRefused("    - name: flyte_manager_version\n", "pluginHost.load[18]",
                "libflyte_manager_version.so", "already loaded");
}

TEST_CASE("pluginHost.prefer settles a contested PluginID", "[plugin-load]") {
  auto loaded = LoadYaml(kDefaults + "    - path: " + Fixture("fixture_duplicate_version") +
                         "\n  prefer:\n    VersionManager: fixture_duplicate_version\n");
  REQUIRE(loaded.status.ok());
  auto v = loaded.host->registry().Get<plugin::VersionManager>(plugin::plugin_id::kVersionManager);
  REQUIRE(v);
  plugin::CallContext call("/x.Y/Z", {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  REQUIRE(v->GetVersion(call, req, resp).ok());
  CHECK(resp.control_plane_version().version() == "fixture");
}

TEST_CASE("A plugin entry with neither name nor path is refused by key", "[plugin-load]") {
  auto c = core::Config::FromDocuments({"pluginHost:\n  load:\n    - config: {}\n"},
                                       [](const std::string&) { return std::nullopt; });
  REQUIRE(c.ok());
  core::PluginHost host(*c, spdlog::default_logger(), std::make_shared<prometheus::Registry>(), core::ThisBuild());
  auto specs = host.SpecsFromConfig();
  REQUIRE_FALSE(specs.ok());
  CHECK_THAT(specs.status().message(), Catch::Contains("pluginHost.load[0]"));
}

TEST_CASE("A plugin entry whose name or path is not a string is refused by key", "[plugin-load]") {
  for (const auto& [yaml, expected] :
       std::vector<std::pair<std::string, std::string>>{
           {"pluginHost:\n  load:\n    - name: [a]\n", "pluginHost.load[0].name: expected string, got array"},
           {"pluginHost:\n  load:\n    - nmae: x\n      name: null\n      path: {p: 1}\n",
            "pluginHost.load[0].path: expected string, got object"}}) {
    auto c = core::Config::FromDocuments({yaml}, [](const std::string&) { return std::nullopt; });
    REQUIRE(c.ok());
    core::PluginHost host(*c, spdlog::default_logger(), std::make_shared<prometheus::Registry>(),
                          core::ThisBuild());
    auto specs = host.SpecsFromConfig();
    REQUIRE_FALSE(specs.ok());
    CHECK(specs.status().message() == expected);
  }
  auto c = core::Config::FromDocuments({"pluginHost:\n  load:\n    - nmae: x\n      name: null\n"},
                                       [](const std::string&) { return std::nullopt; });
  REQUIRE(c.ok());
  core::PluginHost host(*c, spdlog::default_logger(), std::make_shared<prometheus::Registry>(),
                        core::ThisBuild());
  auto specs = host.SpecsFromConfig();
  REQUIRE_FALSE(specs.ok());
  CHECK_THAT(specs.status().message(), Catch::Contains("needs `name`"));
}
