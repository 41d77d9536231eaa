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
std::string FirstDiff(const json& a, const json& b) {
  auto patch = json::diff(a, b);
  return patch.empty() ? "" : patch.dump();
}

struct GoldenResult {
  std::vector<std::string> matched, differing;
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
    } else {
      result.differing.push_back(name + " " + FirstDiff(golden, built.value()));
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
  CHECK(result.differing.empty());
}

TEST_CASE("The branch goldens are built from their compiled closures, stale ones listed",
          "[unit]") {
  auto result = CompareFolder(kCompiler / "branch", ".json", ".json");
  WARN("branch goldens matched: " << result.matched.size() << ", differing: "
                                  << json(result.differing).dump(1));
  CHECK(result.matched.size() + result.differing.size() == 12);
}
