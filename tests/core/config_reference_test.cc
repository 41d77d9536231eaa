// The configuration reference and the schema behind it: every key described, the committed
// docs/config-reference.md current, the embedded defaults covered, every problem reported.
#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include <catch2/catch.hpp>

#include "flyte/core/config.h"
#include "local_executor.h"
#include "test_support.h"

using flyte::core::Config;
using nlohmann::json;

namespace {

flyte::core::EnvLookup NoEnv() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "path: message" for errors, "warning path: message" for unknown keys.
std::vector<std::string> Lines(const std::vector<flyte::core::ConfigProblem>& problems) {
  std::vector<std::string> lines;
  for (const auto& p : problems) {
    lines.push_back((p.unknown_key ? "warning " : "") + p.path + ": " + p.message);
  }
  return lines;
}

// Every leaf of `doc` (dotted path) must be a property the schema names, not merely a key an
// open map lets through.
void ExpectDeclared(const json& doc, const json& schema, const std::string& path,
                    std::vector<std::string>& undeclared) {
  if (!doc.is_object()) return;
  for (const auto& [key, value] : doc.items()) {
    std::string sub = path.empty() ? key : path + "." + key;
    const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    if (!props || !props->contains(key)) {
      undeclared.push_back(sub);
      continue;
    }
    const json& sub_schema = (*props)[key];
    if (value.is_object() && sub_schema.contains("properties")) {
      ExpectDeclared(value, sub_schema, sub, undeclared);
    }
  }
}

}  // namespace

TEST_CASE("Every key of the config schemas has a description", "[unit]") {
  CHECK(flyte::core::UndescribedConfigKeys() == std::vector<std::string>{});
}

TEST_CASE("docs/config-reference.md is what `flyteadmin config reference` prints", "[unit]") {
  const std::string committed = ReadFile(FLYTE_SOURCE_DIR "/docs/config-reference.md");
  const std::string generated = flyte::core::ConfigReferenceMarkdown();
  INFO("regenerate with: build/bin/flyteadmin config reference > docs/config-reference.md");
  CHECK(committed == generated);
}

TEST_CASE("The reference lists each key with its type, default and meaning", "[unit]") {
  const std::string md = flyte::core::ConfigReferenceMarkdown();
  CHECK_THAT(md, Catch::Contains("| `server.grpc.port` | integer, -1 to 65535 | `8089` | Port of the gRPC server. |"));
  CHECK_THAT(md, Catch::Contains("| `database.sqlite.file` | string | without `--config`: "
                                 "`\"flyteadmin-data/flyteadmin.db\"` |"));
  CHECK_THAT(md, Catch::Contains("| `storage.type` | one of `local`, `mem`, `s3`, `minio`, `stow` | `\"local\"` |"));
  CHECK_THAT(md, Catch::Contains("| `pluginHost.load[].name` | string | none |"));
  CHECK_THAT(md, Catch::Contains("### `flyte_executor_local`"));
  CHECK_THAT(md, Catch::Contains("| `workers` | integer, at least 1 | `8` |"));
  CHECK_THAT(md, Catch::Contains("### `flyte_dataproxy_local`"));
  CHECK_THAT(md, Catch::Contains("### `flyte_executor_k8s`"));
}

TEST_CASE("Every key of the embedded defaults and standalone layer is declared in the schema",
          "[unit]") {
  const json schema = json::parse(Config::EmbeddedSchema());
  std::vector<std::string> undeclared;
  auto defaults = flyte::core::YamlToJson(Config::EmbeddedDefaults());
  REQUIRE(defaults.ok());
  ExpectDeclared(*defaults, schema, "", undeclared);
  auto standalone = flyte::core::YamlToJson(Config::EmbeddedStandalone());
  REQUIRE(standalone.ok());
  ExpectDeclared(*standalone, schema, "", undeclared);
  CHECK(undeclared == std::vector<std::string>{});
}

TEST_CASE("Schema defaults agree with the embedded defaults where both give one", "[unit]") {
  const json schema = json::parse(Config::EmbeddedSchema());
  auto defaults = flyte::core::YamlToJson(Config::EmbeddedDefaults());
  REQUIRE(defaults.ok());
  std::vector<std::string> disagreeing;
  std::function<void(const json&, const json&, const std::string&)> walk =
      [&](const json& doc, const json& node, const std::string& path) {
        if (!node.contains("properties")) return;
        for (const auto& [key, sub] : node["properties"].items()) {
          if (!doc.is_object() || !doc.contains(key)) continue;
          std::string p = path.empty() ? key : path + "." + key;
          if (sub.contains("default") && sub["default"] != doc[key]) disagreeing.push_back(p);
          walk(doc[key], sub, p);
        }
      };
  walk(*defaults, schema, "");
  CHECK(disagreeing == std::vector<std::string>{});
}

TEST_CASE("Validate reports every problem with its key path, not only the first", "[unit]") {
  auto c = Config::FromDocuments(
      {"server:\n  httpPort: 70000\n  grpc:\n    port: eighty\n    serverReflection: maybe\n"
       "  colour: red\n"
       "logger:\n  level: [1]\n  formatter:\n    type: xml\n"
       "domains:\n  - name: nameless\n"
       "pluginHost:\n  load:\n    - name: flyte_executor_local\n      config:\n"
       "        workers: 0\n        colour: blue\n"
       "    - name: flyte_dataproxy_local\n      config:\n        signingKey: short\n"
       "        extra: 1\n"},
      NoEnv());
  REQUIRE(c.ok());
  CHECK(Lines(c->Validate()) ==
        std::vector<std::string>{
            "domains[0].id: required key missing",
            "logger.formatter.type: expected one of \"text\", \"json\", \"gcp\", got \"xml\"",
            "logger.level: expected integer or string, got list",
            "warning server.colour: unknown key (ignored)",
            "server.grpc.port: expected integer, got string",
            "server.grpc.serverReflection: expected boolean, got string",
            "server.httpPort: must be at most 65535, got 70000",
            "pluginHost.load[0].config.colour: unknown key (the plugin refuses it)",
            "pluginHost.load[0].config.workers: must be at least 1, got 0",
            "warning pluginHost.load[1].config.extra: unknown key (ignored)",
            "pluginHost.load[1].config.signingKey: must be at least 16 characters long"});
}

TEST_CASE("Keys read by plugins from the root config validate by type", "[unit]") {
  auto c = Config::FromDocuments(
      {"server:\n  dataProxy:\n    upload:\n      maxSize: [1]\n      defaultFileNameLength: 0\n"
       "remoteData:\n  maxSizeInBytes: lots\n"
       "flyteadmin:\n  interruptible: maybe\n  labels:\n    team: {name: seven}\n"
       "task_resources:\n  defaults:\n    cpu: [1]\n"},
      NoEnv());
  REQUIRE(c.ok());
  CHECK(Lines(c->Validate()) ==
        std::vector<std::string>{
            "flyteadmin.interruptible: expected boolean, got string",
            "flyteadmin.labels.team: expected string, got map",
            "remoteData.maxSizeInBytes: expected integer, got string",
            "server.dataProxy.upload.defaultFileNameLength: must be at least 1, got 0",
            "server.dataProxy.upload.maxSize: expected string or integer, got list",
            "task_resources.defaults.cpu: expected string, integer or number, got list"});
}

namespace {

json PluginSchema(const std::string& name) {
  for (const auto& [plugin, text] : Config::EmbeddedPluginSchemas()) {
    if (plugin == name) return json::parse(text);
  }
  FAIL("no schema for " << name);
  return {};
}

// The keys of the first Markdown table after `heading` in a README, in order.
std::vector<std::string> ReadmeTableKeys(const std::string& readme, const std::string& heading) {
  std::vector<std::string> keys;
  std::istringstream in(readme.substr(readme.find(heading)));
  bool table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `", 0) == 0) {
      table = true;
      keys.push_back(line.substr(3, line.find('`', 3) - 3));
    } else if (table) {
      break;
    }
  }
  return keys;
}

}  // namespace

TEST_CASE("The local executor accepts every key its schema declares, at its default", "[unit]") {
  const json schema = PluginSchema("flyte_executor_local");
  json section = json::object();
  for (const auto& [key, sub] : schema["properties"].items()) {
    section[key] = sub.contains("default") ? sub["default"] : json("/tmp/flyte-schema-check");
  }
  REQUIRE(section.size() >= 12);
  auto settings = flyte::plugins::executor::LocalExecutorSettings::FromConfig(section);
  INFO(settings.status().message());
  CHECK(settings.ok());
}

TEST_CASE("The local executor's schema declares the keys its README documents", "[unit]") {
  const json schema = PluginSchema("flyte_executor_local");
  std::vector<std::string> in_schema;
  for (const auto& [key, sub] : schema["properties"].items()) {
    in_schema.push_back(key);
  }
  auto in_readme = ReadmeTableKeys(ReadFile(FLYTE_SOURCE_DIR "/plugins/executor/local/README.md"),
                                   "## Config keys");
  std::sort(in_schema.begin(), in_schema.end());
  std::sort(in_readme.begin(), in_readme.end());
  CHECK(in_schema == in_readme);
}
