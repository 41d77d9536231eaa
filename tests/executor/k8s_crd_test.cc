// The FlyteWorkflow builder against upstream's goldens and PrepareFlyteWorkflow's additions.
#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <sstream>

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "flyte_workflow.h"
#include "k8s_executor.h"

namespace {

namespace fs = std::filesystem;
namespace core = flyteidl::core;
using flyte::plugins::executor::BuildFlyteWorkflow;
using nlohmann::json;

const fs::path kCompiler = fs::path(FLYTE_SOURCE_DIR) / ".." / "shared" / "fixtures" / "compiler";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename M>
M FromJson(const std::string& text) {
  M m;
  google::protobuf::util::JsonParseOptions options;
  REQUIRE(google::protobuf::util::JsonStringToMessage(text, &m, options).ok());
  return m;
}

core::WorkflowExecutionIdentifier TestId() {
  core::WorkflowExecutionIdentifier id;
  id.set_project("hello");
  id.set_domain("domain");
  id.set_name("name");
  return id;
}

// The first differing path of two trees, for a readable failure.
std::string DiffPaths(const json& a, const json& b) {
  std::string out;
  for (const auto& op : json::diff(a, b)) out += " " + op["op"].get<std::string>() + ":" + op["path"].get<std::string>();
  return out;
}

std::string TrimRight(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The branch goldens predate today's compiler and Go libraries in known ways; this rewrites those
// (and only those) so that everything else must still match exactly:
// - golang/protobuf's text form ended identifiers with a space ("... version:\"v\" ");
// - a node's retries {} gave minAttempts 1 (now no retry strategy);
// - elseFail went through jsonpb (camelCase) instead of encoding/json (snake_case);
// - variable descriptions were not stripped from interfaces (workflow outputs, task interfaces);
// - ExecutionConfig had no OverwriteCache/EnvironmentVariables; metadata had creationTimestamp.
json UnStale(json g) {
  json tasks = json::object();
  for (auto it = g["tasks"].begin(); it != g["tasks"].end(); ++it) {
    json task = it.value();
    for (const char* side : {"inputs", "outputs"}) {
      if (task.contains("interface") && task["interface"].contains(side) &&
          task["interface"][side].contains("variables")) {
        for (auto& variable : task["interface"][side]["variables"]) variable.erase("description");
      }
    }
    tasks[TrimRight(it.key())] = task;
  }
  g["tasks"] = tasks;
  for (auto it = g["spec"]["nodes"].begin(); it != g["spec"]["nodes"].end(); ++it) {
    json& node = it.value();
    if (node.contains("task")) node["task"] = TrimRight(node["task"].get<std::string>());
    if (node.contains("retry") && node["retry"] == json{{"minAttempts", 1}}) node.erase("retry");
    if (node.contains("branch") && node["branch"].contains("elseFail")) {
      auto& fail = node["branch"]["elseFail"];
      if (fail.contains("failedNodeId")) {
        fail["failed_node_id"] = fail["failedNodeId"];
        fail.erase("failedNodeId");
      }
    }
  }
  if (g["spec"].contains("outputs") && g["spec"]["outputs"].contains("variables")) {
    for (auto& variable : g["spec"]["outputs"]["variables"]) variable.erase("description");
  }
  g["executionConfig"].emplace("OverwriteCache", false);
  g["executionConfig"].emplace("EnvironmentVariables", nullptr);
  if (g["metadata"].contains("creationTimestamp") && g["metadata"]["creationTimestamp"].is_null())
    g["metadata"].erase("creationTimestamp");
  return g;
}

struct GoldenResult {
  std::vector<std::string> matched, stale, differing;
};

GoldenResult CompareFolder(const fs::path& dir, const std::string& golden_suffix,
                           const std::string& compiled_suffix) {
  GoldenResult result;
  std::vector<fs::path> goldens;
  for (const auto& e : fs::directory_iterator(dir / "k8s")) goldens.push_back(e.path());
  std::sort(goldens.begin(), goldens.end());
  for (const auto& golden_path : goldens) {
    std::string name = golden_path.filename().string();
    REQUIRE(name.size() > golden_suffix.size());
    const std::string stem = name.substr(0, name.size() - golden_suffix.size());
    const json golden = json::parse(Slurp(golden_path));
    auto closure = FromJson<core::CompiledWorkflowClosure>(Slurp(dir / "compiled" / (stem + compiled_suffix)));
    // Each input's default literal, as the golden carries it (see fixtures/README.md).
    auto inputs = FromJson<core::LiteralMap>(golden.value("inputs", json::object()).dump());
    auto built = BuildFlyteWorkflow(closure, &inputs, TestId(), "namespace");
    INFO(name);
    REQUIRE(built.ok());
    // FLYTE_K8S_DUMP_DIR keeps the built trees, to study a differing golden by hand.
    if (const char* dump = std::getenv("FLYTE_K8S_DUMP_DIR")) {
      std::ofstream(fs::path(dump) / name) << built.value().dump(1);
    }
    if (built.value() == golden) {
      result.matched.push_back(name);
    } else if (built.value() == UnStale(golden)) {
      result.stale.push_back(name);
    } else {
      result.differing.push_back(name + DiffPaths(UnStale(golden), built.value()));
    }
  }
  return result;
}

}  // namespace

TEST_CASE("Every snacks-core FlyteWorkflow golden is built exactly from its compiled closure",
          "[unit]") {
  auto result = CompareFolder(kCompiler / "snacks-core", "_crd.json", ".json");
  INFO("differing: " << json(result.differing).dump(1));
  CHECK(result.matched.size() == 23);
  CHECK(result.stale.empty());
  CHECK(result.differing.empty());
}

TEST_CASE("The branch goldens match once their known staleness is accounted for", "[unit]") {
  auto result = CompareFolder(kCompiler / "branch", ".json", ".json");
  INFO("differing: " << json(result.differing).dump(1));
  CHECK(result.differing.empty());
  // All twelve are stale today; a refreshed golden shows up as matched.
  CHECK(result.matched.size() + result.stale.size() == 12);
  WARN("branch goldens exact: " << result.matched.size() << ", stale: " << json(result.stale).dump());
}

TEST_CASE("Gate, array, launch plan and sub-workflow nodes take flytepropeller's JSON shapes",
          "[unit]") {
  core::CompiledWorkflowClosure closure;
  auto* tmpl = closure.mutable_primary()->mutable_template_();
  tmpl->mutable_id()->set_project("p");
  tmpl->mutable_id()->set_domain("d");
  tmpl->mutable_id()->set_name("Wf.Name_x");
  tmpl->mutable_interface()->mutable_inputs();
  tmpl->mutable_metadata_defaults()->set_interruptible(true);
  tmpl->mutable_metadata()->set_on_failure(core::WorkflowMetadata::FAIL_AFTER_EXECUTABLE_NODES_COMPLETE);
  auto* task = closure.add_tasks()->mutable_template_();
  task->mutable_id()->set_resource_type(core::TASK);
  task->mutable_id()->set_name("t");
  task->mutable_metadata()->mutable_retries()->set_retries(2);
  core::Identifier task_id = task->id();

  tmpl->add_nodes()->set_id("start-node");
  tmpl->add_nodes()->set_id("end-node");
  auto* gate = tmpl->add_nodes();
  gate->set_id("g");
  gate->mutable_gate_node()->mutable_sleep()->mutable_duration()->set_seconds(10);
  auto* array = tmpl->add_nodes();
  array->set_id("a");
  array->mutable_array_node()->set_parallelism(2);
  array->mutable_array_node()->set_min_success_ratio(0.5);
  array->mutable_array_node()->mutable_node()->set_id("a-sub");
  *array->mutable_array_node()->mutable_node()->mutable_task_node()->mutable_reference_id() = task_id;
  auto* lp = tmpl->add_nodes();
  lp->set_id("lp");
  lp->mutable_workflow_node()->mutable_launchplan_ref()->set_resource_type(core::LAUNCH_PLAN);
  lp->mutable_workflow_node()->mutable_launchplan_ref()->set_name("other");
  auto* sw = tmpl->add_nodes();
  sw->set_id("sw");
  sw->mutable_workflow_node()->mutable_sub_workflow_ref()->set_resource_type(core::WORKFLOW);
  sw->mutable_workflow_node()->mutable_sub_workflow_ref()->set_name("sub");
  auto* t = tmpl->add_nodes();
  t->set_id("t");
  t->mutable_metadata()->set_name("named");
  t->mutable_metadata()->mutable_timeout()->set_seconds(90);
  t->mutable_metadata()->set_interruptible(false);
  *t->mutable_task_node()->mutable_reference_id() = task_id;
  auto* overrides = t->mutable_task_node()->mutable_overrides();
  auto* cpu = overrides->mutable_resources()->add_requests();
  cpu->set_name(core::Resources::CPU);
  cpu->set_value("1000m");
  auto* gpu = overrides->mutable_resources()->add_limits();
  gpu->set_name(core::Resources::GPU);
  gpu->set_value("1");
  auto* zero = overrides->mutable_resources()->add_limits();  // a zero quantity is left out
  zero->set_name(core::Resources::MEMORY);
  zero->set_value("0");
  overrides->set_container_image("img:2");
  auto& down = *closure.mutable_primary()->mutable_connections()->mutable_downstream();
  down["start-node"].add_ids("g");
  down["g"].add_ids("end-node");
  auto* sub = closure.add_sub_workflows()->mutable_template_();
  *sub->mutable_id() = sw->workflow_node().sub_workflow_ref();
  sub->add_nodes()->set_id("start-node");

  auto built = BuildFlyteWorkflow(closure, nullptr, TestId(), "namespace");
  REQUIRE(built.ok());
  const json& w = built.value();
  const json& nodes = w["spec"]["nodes"];
  CHECK(w["metadata"]["labels"]["workflow-name"] == "wf-name-x");
  CHECK(w["node-defaults"] == json{{"interruptible", true}});
  // By name: propeller's decoder refuses a number ("should be a string").
  CHECK(w["spec"]["onFailurePolicy"] == "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE");
  CHECK(w["spec"]["id"] == "p:d:Wf.Name_x");
  CHECK_FALSE(w.contains("inputs"));
  CHECK(nodes["g"] == json{{"id", "g"}, {"resources", json::object()}, {"kind", "gate"},
                           {"gate", {{"kind", "sleep"}, {"sleep", {{"duration", "10s"}}}}}});
  CHECK(nodes["a"]["kind"] == "array");
  CHECK(nodes["a"]["array"]["Parallelism"] == 2);
  CHECK(nodes["a"]["array"]["MinSuccessRatio"] == 0.5);
  CHECK(nodes["a"]["array"]["MinSuccesses"].is_null());
  CHECK(nodes["a"]["array"]["BoundInputs"].is_null());
  CHECK(nodes["a"]["array"]["SubNodeSpec"]["task"] == "resource_type:TASK name:\"t\"");
  CHECK(nodes["a"]["array"]["SubNodeSpec"]["retry"] == json{{"minAttempts", 3}});
  CHECK(nodes["lp"]["workflow"] == json{{"launchPlanRefId", {{"resourceType", "LAUNCH_PLAN"}, {"name", "other"}}}});
  CHECK(nodes["sw"]["workflow"] == json{{"subWorkflowRef", "resource_type:WORKFLOW name:\"sub\""}});
  CHECK(w["subWorkflows"].contains("resource_type:WORKFLOW name:\"sub\""));
  CHECK(nodes["t"]["name"] == "named");
  CHECK(nodes["t"]["resources"] == json{{"requests", {{"cpu", "1"}}}, {"limits", {{"nvidia.com/gpu", "1"}}}});
  CHECK(nodes["t"]["containerImage"] == "img:2");
  CHECK(nodes["t"]["executionDeadline"] == "1m30s");
  CHECK(nodes["t"]["activeDeadline"] == "3m0s");
  CHECK(nodes["t"]["interruptible"] == false);

  // A value k8s cannot parse fails the build as flytek8s does, whatever the resource's name.
  for (const auto& [name, value] : std::vector<std::pair<core::Resources::ResourceName, std::string>>{
           {core::Resources::CPU, "lots"}, {core::Resources::STORAGE, ""}}) {
    auto broken = closure;
    for (auto& n : *broken.mutable_primary()->mutable_template_()->mutable_nodes()) {
      if (n.id() != "t") continue;
      auto* entry = n.mutable_task_node()->mutable_overrides()->mutable_resources()->add_requests();
      entry->set_name(name);
      entry->set_value(value);
    }
    auto refused = BuildFlyteWorkflow(broken, nullptr, TestId(), "namespace");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message() ==
          "Collected Errors: 1\n\tError 0: Code: WorkflowBuildError, Node Id: , Description: Failed to "
          "parse resource as a valid quantity.: quantities must match the regular expression "
          "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'\n");
  }

  // A task node whose task is not in the closure is refused.
  closure.mutable_tasks()->Clear();
  auto dangling = BuildFlyteWorkflow(closure, nullptr, TestId(), "namespace");
  REQUIRE_FALSE(dangling.ok());
  CHECK(dangling.status().message() ==
        "Collected Errors: 1\n\tError 0: Code: TaskReferenceNotFound, Node Id: a-sub, Description: "
        "Referenced Task [resource_type:TASK name:\"t\"] not found.\n");
}

TEST_CASE("Node timeouts are read as ptypes.Duration reads them; ratios print as float32", "[unit]") {
  auto build = [](std::optional<std::pair<int64_t, int32_t>> timeout, float ratio) {
    core::CompiledWorkflowClosure closure;
    auto* tmpl = closure.mutable_primary()->mutable_template_();
    tmpl->mutable_id()->set_project("p");
    tmpl->mutable_id()->set_domain("d");
    tmpl->mutable_id()->set_name("wf");
    tmpl->mutable_interface()->mutable_inputs();
    auto* task = closure.add_tasks()->mutable_template_();
    task->mutable_id()->set_resource_type(core::TASK);
    task->mutable_id()->set_name("t");
    tmpl->add_nodes()->set_id("start-node");
    tmpl->add_nodes()->set_id("end-node");
    auto* t = tmpl->add_nodes();
    t->set_id("t");
    if (timeout) {
      t->mutable_metadata()->mutable_timeout()->set_seconds(timeout->first);
      t->mutable_metadata()->mutable_timeout()->set_nanos(timeout->second);
    }
    *t->mutable_task_node()->mutable_reference_id() = task->id();
    auto* array = tmpl->add_nodes();
    array->set_id("a");
    array->mutable_array_node()->set_min_success_ratio(ratio);
    array->mutable_array_node()->mutable_node()->set_id("a-sub");
    *array->mutable_array_node()->mutable_node()->mutable_task_node()->mutable_reference_id() = task->id();
    return BuildFlyteWorkflow(closure, nullptr, TestId(), "namespace");
  };

  auto hour = build(std::make_pair(int64_t{3600}, 500000000), 0.9f);
  REQUIRE(hour.ok());
  const json& node = hour.value()["spec"]["nodes"]["t"];
  CHECK(node["executionDeadline"] == "1h0m0.5s");
  CHECK(node["activeDeadline"] == "2h0m1s");
  // encoding/json's float32: 0.9, not the 0.8999999761581421 of its double.
  CHECK(hour.value()["spec"]["nodes"]["a"]["array"].dump().find("\"MinSuccessRatio\":0.9,") != std::string::npos);
  auto whole = build(std::nullopt, 1.0f);
  REQUIRE(whole.ok());
  CHECK(whole.value()["spec"]["nodes"]["t"].contains("executionDeadline") == false);
  CHECK(whole.value()["spec"]["nodes"]["a"]["array"].dump().find("\"MinSuccessRatio\":1,") != std::string::npos);

  // 200 years fit time.Duration; twice that wraps in Go's int64, and the resource says so.
  auto long_run = build(std::make_pair(int64_t{6307200000}, 0), 0.5f);
  REQUIRE(long_run.ok());
  CHECK(long_run.value()["spec"]["nodes"]["t"]["executionDeadline"] == "1752000h0m0s");
  CHECK(long_run.value()["spec"]["nodes"]["t"]["activeDeadline"] == "-1620095h34m33.709551616s");

  // Beyond about 292 years, or seconds and nanos of opposite signs: upstream's syntax error.
  for (const auto& bad : {std::make_pair(int64_t{9500000000}, 0), std::make_pair(int64_t{5}, -1),
                          std::make_pair(int64_t{400000000000}, 0), std::make_pair(int64_t{1}, 1000000000)}) {
    INFO("timeout " << bad.first << "s " << bad.second << "ns");
    auto refused = build(bad, 0.5f);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message() ==
          "Collected Errors: 1\n\tError 0: Code: SyntaxError, Node Id: t, Description: Failed to parse element "
          "[node:metadata:timeout].\n");
  }
  // A negative timeout is a valid Duration, and Go prints it so.
  auto negative = build(std::make_pair(int64_t{-5}, 0), 0.5f);
  REQUIRE(negative.ok());
  CHECK(negative.value()["spec"]["nodes"]["t"]["executionDeadline"] == "-5s");
}
