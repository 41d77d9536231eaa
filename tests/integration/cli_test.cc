// The flyteadmin commands a person runs and waits on, driven as a user would: `config
// validate` lines and exit status, `config reference`, migration and seeding progress, and the
// start-up lines of `serve` (one per plugin, then the ports).
#include <signal.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "flyte/core/config.h"
#include "test_support.h"

using namespace flyte;

namespace {

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A SQLite config of its own, in a fresh directory.
std::string SqliteConfig(const std::string& name) {
  std::string dir = test::WriteTempFile(name + "/.keep", "");
  dir = dir.substr(0, dir.rfind('/'));
  return test::WriteTempFile(name + "/config.yaml",
                             "database:\n  sqlite:\n    file: " + dir + "/admin.db\n");
}

}  // namespace

TEST_CASE("config validate prints every problem with its key path and exits 1 on errors",
          "[integration]") {
  auto config = test::WriteTempFile(
      "cli-bad.yaml",
      "server:\n  httpPortt: 1\n  httpPort: 70000\n  grpc:\n    port: eighty\n"
      "logger:\n  formatter:\n    type: xml\n"
      "pluginHost:\n  directory: " FLYTE_PLUGIN_DIR "\n  load:\n"
      "    - name: flyte_manager_version\n"
      "    - name: flyte_manager_nosuch\n"
      "    - name: flyte_executor_local\n      config:\n        workers: many\n");
  auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "config", "validate"});
  CHECK(r.exit_code == 1);
  CHECK(SplitLines(r.out) ==
        std::vector<std::string>{
            "error: logger.formatter.type: expected one of \"text\", \"json\", \"gcp\", got \"xml\"",
            "error: server.grpc.port: expected integer, got string",
            "error: server.httpPort: must be at most 65535, got 70000",
            "warning: server.httpPortt: unknown key (ignored)",
            "error: pluginHost.load[2].config.workers: expected integer, got string",
            "error: pluginHost.load[1]: plugin flyte_manager_nosuch not found at " FLYTE_PLUGIN_DIR
            "/libflyte_manager_nosuch.so",
            "config is invalid: 5 errors, 1 warning"});
}

TEST_CASE("config validate refuses what serve would refuse: quantities, durations, policies, storage, auth",
          "[integration]") {
  auto config = test::WriteTempFile(
      "cli-serve-checks.yaml",
      "task_resources:\n  defaults:\n    cpu: lots\n    memory: 1Gi\n"
      "server:\n  security:\n    useAuth: true\n  dataProxy:\n    upload:\n      maxSize: 6Mx\n"
      "      maxExpiresIn: 1hour\n"
      "remoteData:\n  inlineEventDataPolicy: Foo\n"
      "database:\n  connMaxLifeTime: 1h30m\n"
      "storage:\n  type: s3\n");
  auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "config", "validate"});
  CHECK(r.exit_code == 1);
  CHECK(SplitLines(r.out) ==
        std::vector<std::string>{
            "error: remoteData.inlineEventDataPolicy: expected one of \"Offload\", \"StoreInline\", 0, 1, got \"Foo\"",
            "error: server.dataProxy.upload.maxExpiresIn: expected a Go duration such as 90s or 1h, got \"1hour\"",
            "error: server.dataProxy.upload.maxSize: expected a Kubernetes quantity such as 6Mi, got \"6Mx\"",
            "error: task_resources.defaults.cpu: expected a Kubernetes quantity such as 500m or 1Gi, got \"lots\"",
            "error: server.security.useAuth: authentication is not supported yet",
            "error: storage.type 's3' is not supported by this build (supported: local, mem)",
            "config is invalid: 6 errors"});
}

TEST_CASE("config validate warns when an upstream config names clusters but the local executor is loaded",
          "[integration]") {
  auto config = test::WriteTempFile("cli-clusters.yaml",
                                    "clusters:\n  clusterConfigs:\n    - name: a\n      endpoint: https://a\n"
                                    "      enabled: true\n");
  auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "config", "validate"});
  CHECK(r.exit_code == 0);
  auto lines = SplitLines(r.out);
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::StartsWith("warning: this config names Kubernetes clusters") &&
                           Catch::Contains("flyte_executor_local") && Catch::Contains("flyte_executor_k8s"));
  CHECK(lines[1] == "config is valid (1 warning)");
}

TEST_CASE("config validate exits 0 when a config has only warnings", "[integration]") {
  auto config = test::WriteTempFile(
      "cli-warn.yaml", "server:\n  httpPortt: 1\nflyteadmin:\n  someFutureKey: 1\nsurprise: {}\n");
  auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "config", "validate"});
  CHECK(r.exit_code == 0);
  CHECK(SplitLines(r.out) == std::vector<std::string>{
                                 "warning: server.httpPortt: unknown key (ignored)",
                                 "warning: surprise: unknown key (ignored)",
                                 "config is valid (2 warnings)"});
}

TEST_CASE("config validate accepts the embedded defaults with the built plugins", "[integration]") {
  // No --config: the defaults plus the standalone layer, plugins next to the binary.
  auto r = test::Run({FLYTEADMIN_BIN, "config", "validate"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "config is valid\n");
}

TEST_CASE("config takes upstream's --file, validate --strict, discover and docs", "[integration]") {
  auto config = test::WriteTempFile("cli-strict.yaml", "server:\n  httpPortt: 1\n");
  auto strict = test::Run({FLYTEADMIN_BIN, "config", "--file", config, "validate", "--strict"});
  CHECK(strict.exit_code == 1);
  CHECK(SplitLines(strict.out) ==
        std::vector<std::string>{"error: server.httpPortt: unknown key", "config is invalid: 1 error"});
  auto lenient = test::Run({FLYTEADMIN_BIN, "config", "--file", config, "validate"});
  CHECK(lenient.exit_code == 0);
  auto discover = test::Run({FLYTEADMIN_BIN, "config", "--file", config, "discover"});
  CHECK(discover.exit_code == 0);
  CHECK(SplitLines(discover.out) == std::vector<std::string>{config});
  auto docs = test::Run({FLYTEADMIN_BIN, "config", "docs"});
  CHECK(docs.exit_code == 0);
  CHECK(docs.out == core::ConfigReferenceMarkdown());
}

TEST_CASE("config reference prints the generated Markdown reference", "[integration]") {
  auto r = test::Run({FLYTEADMIN_BIN, "config", "reference"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == core::ConfigReferenceMarkdown());
}

TEST_CASE("migrate run reports each migration with its place and a summary", "[integration]") {
  auto config = SqliteConfig("cli-migrate");
  auto first = test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "run"});
  REQUIRE(first.exit_code == 0);
  auto lines = SplitLines(first.out);
  REQUIRE(lines.size() == 68);
  CHECK(lines[0] == "[1/66] applied migration 2019-05-22-projects");
  CHECK(lines[1] == "[2/66] applied migration 2018-05-23-tasks");
  CHECK(lines[65] == "[66/66] applied migration 2025-05-29-add-index-executions-phase");
  CHECK(lines[66] == "applied 66 migrations");
  CHECK(lines[67] == "list indexes present");

  auto again = test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "run"});
  REQUIRE(again.exit_code == 0);
  CHECK(SplitLines(again.out) == std::vector<std::string>{
                                     "database is up to date (66 migrations recorded)",
                                     "list indexes present"});
}

TEST_CASE("migrate seed-projects reports each project and a summary", "[integration]") {
  auto config = SqliteConfig("cli-seed");
  REQUIRE(test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "run"}).exit_code == 0);
  auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "seed-projects", "alpha", "beta"});
  CHECK(r.exit_code == 0);
  CHECK(SplitLines(r.out) == std::vector<std::string>{"[1/2] project alpha", "[2/2] project beta",
                                                      "seeded 2 project(s)"});
}

TEST_CASE("migrate seed-projects without names does nothing, as upstream", "[integration]") {
  auto config = SqliteConfig("cli-seed-none");
  REQUIRE(test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "run"}).exit_code == 0);
  auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "migrate", "seed-projects"});
  CHECK(r.exit_code == 0);
  CHECK(SplitLines(r.out) == std::vector<std::string>{"seeded 0 project(s)"});
}

TEST_CASE("--config takes globs merged in sorted order, as upstream's chart passes them; else ./config.yaml",
          "[integration]") {
  const std::string a = test::WriteTempFile("cli-glob/conf.d/a.yaml", "server:\n  httpPort: 7001\n  grpc:\n    port: 7101\n");
  test::WriteTempFile("cli-glob/conf.d/b.yaml", "server:\n  grpc:\n    port: 7102\n");
  test::WriteTempFile("cli-glob/conf.d/notes.txt", "not yaml: [");
  const std::string dir = a.substr(0, a.rfind('/'));
  auto merged = test::Run({FLYTEADMIN_BIN, "--config", dir + "/*.yaml", "config", "print"});
  REQUIRE(merged.exit_code == 0);
  auto root = nlohmann::json::parse(merged.out);
  CHECK(root["server"]["httpPort"] == 7001);
  CHECK(root["server"]["grpc"]["port"] == 7102);  // b.yaml after a.yaml

  auto directory = test::Run({FLYTEADMIN_BIN, "--config", dir, "config", "print"});
  CHECK(directory.exit_code == 1);
  CHECK_THAT(directory.err, Catch::Contains("is a directory"));
  auto nothing = test::Run({FLYTEADMIN_BIN, "--config", dir + "/*.json", "config", "print"});
  CHECK(nothing.exit_code == 1);
  CHECK_THAT(nothing.err, Catch::Contains("matches no file"));
  // One value per --config: what follows is the command, not another file.
  CHECK(test::Run({FLYTEADMIN_BIN, "--config", a, "version"}).exit_code == 0);

  // Without --config, ./config.yaml is read when there is one.
  auto found = test::Run({"/bin/sh", "-c", "cd '" + dir + "' && cp a.yaml config.yaml && exec " FLYTEADMIN_BIN " config print"});
  REQUIRE(found.exit_code == 0);
  CHECK(nlohmann::json::parse(found.out)["server"]["httpPort"] == 7001);
  CHECK_THAT(found.err, Catch::Contains("using config file config.yaml"));
}

TEST_CASE("An empty environment variable leaves the key as configured, as viper reads it", "[integration]") {
  const std::string config = test::WriteTempFile("cli-env.yaml", "server:\n  httpPort: 7201\n");
  auto r = test::Run({"/usr/bin/env", "SERVER.HTTPPORT=", FLYTEADMIN_BIN, "--config", config, "config", "print"});
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["server"]["httpPort"] == 7201);
  auto set = test::Run({"/usr/bin/env", "SERVER.HTTPPORT=7202", FLYTEADMIN_BIN, "--config", config, "config", "print"});
  REQUIRE(set.exit_code == 0);
  CHECK(nlohmann::json::parse(set.out)["server"]["httpPort"] == 7202);
}

TEST_CASE("Every key is a flag too, before or after the subcommand, winning over the environment",
          "[integration]") {
  const std::string config = test::WriteTempFile("cli-flags.yaml", "server:\n  httpPort: 7301\n");
  auto r = test::Run({"/usr/bin/env", "SERVER.HTTPPORT=7302", "SERVER.GRPC.PORT=7303", FLYTEADMIN_BIN,
                      "--server.httpPort", "7304", "--config", config, "config", "print",
                      "--server.security.allowedOrigins=a,b"});
  REQUIRE(r.exit_code == 0);
  const auto printed = nlohmann::json::parse(r.out);
  CHECK(printed["server"]["httpPort"] == 7304);
  CHECK(printed["server"]["grpc"]["port"] == 7303);
  CHECK(printed["server"]["security"]["allowedOrigins"] == nlohmann::json::array({"a", "b"}));

  auto typo = test::Run({FLYTEADMIN_BIN, "--config", config, "serve", "--server.htpPort", "1"});
  CHECK(typo.exit_code == 1);
  CHECK_THAT(typo.err, Catch::Contains("unknown flag: --server.htpPort"));
  auto wrong = test::Run({FLYTEADMIN_BIN, "--config", config, "--server.httpPort=http", "config", "validate"});
  CHECK(wrong.exit_code == 1);
  CHECK_THAT(wrong.err, Catch::Contains("flyteadmin: invalid argument \"http\" for \"--server.httpPort\" flag: "
                                        "expected integer, got string"));
  // After `--`, nothing is a flag of a key: CLI11 refuses the stray argument.
  auto after = test::Run({FLYTEADMIN_BIN, "--config", config, "config", "print", "--", "--server.httpPort=1"});
  CHECK(after.exit_code != 0);
  // Positional arguments stay in their place around the flags.
  const std::string seeded = SqliteConfig("cli-flags-seed");
  REQUIRE(test::Run({FLYTEADMIN_BIN, "--config", seeded, "migrate", "run"}).exit_code == 0);
  auto seed = test::Run({FLYTEADMIN_BIN, "--config", seeded, "migrate", "seed-projects", "alpha",
                         "--logger.level=5", "beta"});
  REQUIRE(seed.exit_code == 0);
  CHECK(SplitLines(seed.out) == std::vector<std::string>{"[1/2] project alpha", "[2/2] project beta",
                                                         "seeded 2 project(s)"});
  // Upstream's --master, which it declares and never reads, is accepted the same way.
  auto master = test::Run({FLYTEADMIN_BIN, "--master", "https://127.0.0.1:6443", "--config", config, "config", "print"});
  CHECK(master.exit_code == 0);
  auto help = test::Run({FLYTEADMIN_BIN, "--help"});
  CHECK_THAT(help.out, Catch::Contains("Every configuration key is a flag too"));
}

TEST_CASE("serve logs one line per loaded plugin and then the ports it serves", "[integration]") {
  int grpc_port = test::FreePort();
  int http_port = test::FreePort();
  auto config = test::WriteTempFile(
      "cli-serve.yaml", test::ServerConfigYaml(grpc_port, http_port,
                                               "    - name: flyte_manager_project\n"));
  auto verbose = test::WriteTempFile("cli-serve-info.yaml", "logger:\n  level: 4\n");
  test::Child server({FLYTEADMIN_BIN, "--config", config, "--config", verbose, "serve"});
  REQUIRE(test::WaitForPort(http_port, std::chrono::seconds(20)));
  REQUIRE(test::WaitForPort(grpc_port, std::chrono::seconds(20)));
  server.Signal(SIGTERM);
  auto result = server.Wait(std::chrono::seconds(20));
  REQUIRE(result.exit_code == 0);
  std::vector<std::string> loaded;
  std::string serving;
  for (const auto& line : SplitLines(result.err)) {
    if (auto at = line.find("loaded plugin "); at != std::string::npos) {
      std::string rest = line.substr(at + 14);
      loaded.push_back(rest.substr(0, rest.find(' ')));
    }
    if (auto at = line.find("serving gRPC on "); at != std::string::npos) serving = line.substr(at);
  }
  CHECK(loaded == std::vector<std::string>{"flyte_interceptor_recovery", "flyte_interceptor_request_id",
                                           "flyte_interceptor_metrics", "flyte_manager_version",
                                           "flyte_manager_project"});
  CHECK(serving == "serving gRPC on 127.0.0.1:" + std::to_string(grpc_port) + " and HTTP on 127.0.0.1:" +
                       std::to_string(http_port));
  CHECK_THAT(result.err, Catch::Contains("[1/66] applied migration 2019-05-22-projects"));
  CHECK_THAT(result.err, Catch::Contains("projects present: flytesnacks"));
}

TEST_CASE("A negative grpc.port without the deprecated grpcPort serves gRPC on a port the system picks, as "
          "upstream", "[integration]") {
  int http_port = test::FreePort();
  auto config = test::WriteTempFile(
      "cli-serve-any-port.yaml", test::ServerConfigYaml(test::FreePort(), http_port,
                                                        "    - name: flyte_manager_project\n"));
  test::Child server({FLYTEADMIN_BIN, "--config", config, "--server.grpc.port=-1", "--logger.level=4", "serve"});
  REQUIRE(test::WaitForPort(http_port, std::chrono::seconds(20)));
  server.Signal(SIGTERM);
  auto result = server.Wait(std::chrono::seconds(20));
  REQUIRE(result.exit_code == 0);
  const std::string prefix = "serving gRPC on 127.0.0.1:";
  const auto at = result.err.find(prefix);
  REQUIRE(at != std::string::npos);
  const int port = std::atoi(result.err.c_str() + at + prefix.size());
  CHECK(port > 0);
  CHECK(port != 8089);
}

TEST_CASE("logger.formatter.type gcp writes JSON lines as upstream's GCP formatter", "[integration]") {
  int grpc_port = test::FreePort();
  int http_port = test::FreePort();
  auto config = test::WriteTempFile("cli-gcp.yaml", test::ServerConfigYaml(grpc_port, http_port));
  auto gcp = test::WriteTempFile("cli-gcp-logger.yaml", "logger:\n  level: 4\n  formatter:\n    type: gcp\n");
  test::Child server({FLYTEADMIN_BIN, "--config", config, "--config", gcp, "serve"});
  REQUIRE(test::WaitForPort(http_port, std::chrono::seconds(20)));
  server.Signal(SIGTERM);
  auto result = server.Wait(std::chrono::seconds(20));
  REQUIRE(result.exit_code == 0);
  bool found = false;
  for (const auto& line : SplitLines(result.err)) {
    if (line.find("serving gRPC on ") == std::string::npos) continue;
    auto entry = nlohmann::json::parse(line);
    CHECK(entry["severity"] == "INFO");
    CHECK_THAT(entry["message"].get<std::string>(), Catch::StartsWith("serving gRPC on 127.0.0.1:"));
    CHECK_THAT(entry["timestamp"].get<std::string>(),
               Catch::Matches(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)"));
    CHECK(entry["data"].is_object());
    found = true;
  }
  CHECK(found);
}
