// Config: defaults, merge order, environment overrides, schema problems with key paths.
#include <catch2/catch.hpp>

#include "flyte/core/config.h"
#include "test_support.h"

using flyte::core::Config;

namespace {

flyte::core::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("The embedded defaults use upstream's ports and validate cleanly", "[unit]") {
  auto c = Config::FromDocuments({}, Env({}));
  REQUIRE(c.ok());
  CHECK(c->Get<int>("server.httpPort", 0) == 8088);
  CHECK(c->Get<int>("server.grpc.port", 0) == 8089);
  CHECK(c->Get<bool>("server.grpc.serverReflection", false));
  CHECK(c->Get<std::string>("flyteadmin.metricsScope", "") == "flyte:");
  CHECK(c->Validate().empty());
}

TEST_CASE("Later documents override earlier ones key by key and replace lists", "[unit]") {
  auto c = Config::FromDocuments(
      {"server:\n  httpPort: 9000\n  security:\n    allowedOrigins: [a, b]\n",
       "{\"server\": {\"grpc\": {\"port\": 9001}, \"security\": {\"allowedOrigins\": [\"c\"]}}}"},
      Env({}));
  REQUIRE(c.ok());
  CHECK(c->Get<int>("server.httpPort", 0) == 9000);
  CHECK(c->Get<int>("server.grpc.port", 0) == 9001);
  CHECK(c->Get<bool>("server.grpc.serverReflection", false));  // default kept
  CHECK(c->Get<std::vector<std::string>>("server.security.allowedOrigins", {}) ==
        std::vector<std::string>{"c"});
}

TEST_CASE("Environment variables named after upstream keys override files", "[unit]") {
  auto c = Config::FromDocuments({"server:\n  httpPort: 9000\n"},
                                 Env({{"SERVER.HTTPPORT", "9100"},
                                      {"SERVER.GRPC.PORT", "9101"},
                                      {"LOGGER.SHOW_SOURCE", "true"}}));
  REQUIRE(c.ok());
  CHECK(c->Get<int>("server.httpPort", 0) == 9100);
  CHECK(c->Get<int>("server.grpc.port", 0) == 9101);
  CHECK(c->Get<bool>("logger.show-source", false));
}

TEST_CASE("Quoted YAML scalars stay strings and plain ones become numbers", "[unit]") {
  auto j = flyte::core::YamlToJson("a: \"8088\"\nb: 8088\nc: 1.5\nd: yes-no\ne: ~\nf: false\n");
  REQUIRE(j.ok());
  CHECK((*j)["a"].is_string());
  CHECK((*j)["b"].get<int>() == 8088);
  CHECK((*j)["c"].get<double>() == 1.5);
  CHECK((*j)["d"].get<std::string>() == "yes-no");
  CHECK((*j)["e"].is_null());
  CHECK((*j)["f"].get<bool>() == false);
}

TEST_CASE("Unknown keys and wrong types are reported by key path", "[unit]") {
  auto c = Config::FromDocuments(
      {"server:\n  httpPortt: 1\n  grpc:\n    port: eighty\npluginHost:\n  load:\n    - nmae: x\n"
       "cluster_resources:\n  refreshInterval: 1m\n"},
      Env({}));
  REQUIRE(c.ok());
  auto problems = c->Validate();
  auto has = [&](const std::string& path, bool unknown) {
    for (const auto& p : problems) {
      if (p.path == path && p.unknown_key == unknown) return true;
    }
    return false;
  };
  CHECK(has("server.httpPortt", true));
  CHECK(has("pluginHost.load[0].nmae", true));
  CHECK(has("server.grpc.port", false));
  CHECK_FALSE(has("cluster_resources.refreshInterval", true));  // upstream section, accepted
}

TEST_CASE("A file that cannot be read or parsed is named in the error", "[unit]") {
  auto missing = Config::Load({"/nonexistent/flyteadmin.yaml"}, Env({}));
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("/nonexistent/flyteadmin.yaml"));
  auto path = flyte::test::WriteTempFile("broken.yaml", "server: [unclosed\n");
  auto broken = Config::Load({path}, Env({}));
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.status().message(), Catch::Contains("broken.yaml"));
  auto list = flyte::test::WriteTempFile("list.yaml", "- a\n- b\n");
  auto not_map = Config::Load({list}, Env({}));
  REQUIRE_FALSE(not_map.ok());
  CHECK_THAT(not_map.status().message(), Catch::Contains("top level must be a map"));
}

TEST_CASE("Values convert to their key's type as upstream's weakly typed decoding does", "[unit]") {
  auto c = Config::FromDocuments(
      {"server:\n  httpPort: \"9000\"\n  grpc:\n    port: 0x2329\n    serverReflection: \"false\"\n"
       "    maxMessageSizeBytes: 1_000_000\n"
       "  security:\n    allowedOrigins: \"https://a.example,https://b.example\"\n"
       "    allowedHeaders: x-flyte\n"
       "  kubeClientConfig:\n    qps: \"75\"\n    burst: 12.0\n"
       "database:\n  postgres:\n    port: \"\"\n    password: 12345\n    debug: 1\n"
       "flyteadmin:\n  labels:\n    team: 7\n    paid: true\n  interruptible: T\n"
       "  metadataStoragePrefix: {}\n"
       "logger:\n  level: true\n"
       "pluginHost:\n  load:\n    - name: flyte_executor_local\n      config:\n        workers: \"3\"\n"},
      Env({}));
  REQUIRE(c.ok());
  CHECK(c->Validate().empty());
  CHECK(c->Get<int>("server.httpPort", 0) == 9000);
  CHECK(c->Get<int>("server.grpc.port", 0) == 9001);                  // base from the prefix
  CHECK(c->Get<bool>("server.grpc.serverReflection", true) == false);
  CHECK(c->Get<int>("server.grpc.maxMessageSizeBytes", 0) == 1000000);  // underscores as Go's
  CHECK(c->Get<std::vector<std::string>>("server.security.allowedOrigins", {}) ==
        std::vector<std::string>{"https://a.example", "https://b.example"});  // split on ","
  CHECK(c->Get<std::vector<std::string>>("server.security.allowedHeaders", {}) ==
        std::vector<std::string>{"x-flyte"});  // one value, a list of one
  CHECK(c->Get<int>("server.kubeClientConfig.qps", 0) == 75);  // upstream's int32
  CHECK(c->Get<int>("server.kubeClientConfig.burst", 0) == 12);
  CHECK(c->Get<int>("database.postgres.port", -1) == 0);  // "" is zero
  CHECK(c->Get<std::string>("database.postgres.password", "") == "12345");
  CHECK(c->Get<bool>("database.postgres.debug", false));
  CHECK(c->Get<std::string>("flyteadmin.labels.team", "") == "7");
  CHECK(c->Get<std::string>("flyteadmin.labels.paid", "") == "1");  // Go's bool to string
  CHECK(c->Get<bool>("flyteadmin.interruptible", false));
  CHECK(c->Get<std::vector<std::string>>("flyteadmin.metadataStoragePrefix", {"x"}).empty());
  CHECK(c->Get<int>("logger.level", 0) == 1);
  CHECK(c->root()["pluginHost"]["load"][0]["config"]["workers"] == 3);
}

TEST_CASE("Boolean keys take YAML 1.1's yes, no, on and off, as upstream's YAML reader does", "[unit]") {
  auto c = Config::FromDocuments(
      {"server:\n  security:\n    allowCors: yes\n  grpc:\n    serverReflection: off\n"
       "database:\n  postgres:\n    debug: On\n"
       "flyteadmin:\n  labels:\n    switch: on\n  interruptible: N\n"},
      Env({}));
  REQUIRE(c.ok());
  CHECK(c->Validate().empty());
  CHECK(c->Get<bool>("server.security.allowCors", false));
  CHECK_FALSE(c->Get<bool>("server.grpc.serverReflection", true));
  CHECK(c->Get<bool>("database.postgres.debug", false));
  CHECK_FALSE(c->Get<bool>("flyteadmin.interruptible", true));
  CHECK(c->Get<std::string>("flyteadmin.labels.switch", "") == "on");  // a string key keeps the word
  auto bad = Config::FromDocuments({"server:\n  security:\n    allowCors: maybe\n"}, Env({}));
  REQUIRE(bad.ok());
  REQUIRE(bad->Validate().size() == 1);
  CHECK(bad->Validate()[0].path == "server.security.allowCors");
}

TEST_CASE("Keys match the schema's whatever their case, as viper matches them; map keys keep theirs",
          "[unit]") {
  auto c = Config::FromDocuments(
      {"Logger:\n  Level: 2\nSERVER:\n  HttpPort: 7301\n  grpc:\n    Port: 7302\n"
       "flyteadmin:\n  labels:\n    Team: a\n"
       "domains:\n  - ID: dev\n    Name: Dev\n",
       "server:\n  httpPort: 7303\n  httpPortt: 1\n"},
      Env({}));
  REQUIRE(c.ok());
  CHECK(c->Get<int>("logger.level", 0) == 2);
  CHECK(c->Get<int>("server.httpPort", 0) == 7303);  // the later document still wins
  CHECK(c->Get<int>("server.grpc.port", 0) == 7302);
  CHECK(c->root()["domains"][0]["id"] == "dev");
  CHECK(c->Get<std::string>("flyteadmin.labels.Team", "") == "a");
  std::vector<std::string> lines;
  for (const auto& p : c->Validate()) lines.push_back(p.path + ": " + p.message);
  CHECK(lines == std::vector<std::string>{"server.httpPortt: unknown key (ignored)"});
}

TEST_CASE("Values that do not convert are still reported with their key", "[unit]") {
  auto c = Config::FromDocuments(
      {"server:\n  httpPort: \"80 80\"\n  grpc:\n    port: 9000.5\n    serverReflection: maybe\n"
       "    maxMessageSizeBytes: 99999999999999999999\n"
       "  kubeClientConfig:\n    burst: \"1__0\"\n"},
      Env({}));
  REQUIRE(c.ok());
  std::vector<std::string> lines;
  for (const auto& p : c->Validate()) lines.push_back(p.path + ": " + p.message);
  CHECK(lines == std::vector<std::string>{
                     "server.grpc.maxMessageSizeBytes: expected integer, got number",
                     "server.grpc.port: expected integer, got number",
                     "server.grpc.serverReflection: expected boolean, got string",
                     "server.httpPort: expected integer, got string",
                     "server.kubeClientConfig.burst: expected integer, got string"});
}

TEST_CASE("A string key takes an environment variable's text as it is", "[unit]") {
  auto c = Config::FromDocuments({}, Env({{"DATABASE.POSTGRES.PASSWORD", "0755"},
                                          {"DATABASE.POSTGRES.USERNAME", "true"},
                                          {"DATABASE.POSTGRES.PORT", "0x10"},
                                          {"FLYTEADMIN.METADATASTORAGEPREFIX", "metadata,admin"}}));
  REQUIRE(c.ok());
  CHECK(c->Get<std::string>("database.postgres.password", "") == "0755");
  CHECK(c->Get<std::string>("database.postgres.username", "") == "true");
  CHECK(c->Get<int>("database.postgres.port", 0) == 16);
  CHECK(c->Get<std::vector<std::string>>("flyteadmin.metadataStoragePrefix", {}) ==
        std::vector<std::string>{"metadata", "admin"});
}

TEST_CASE("Flags named after a key are taken out of the arguments, the rest left in order", "[unit]") {
  std::vector<std::string> args = {"--config", "a.yaml", "--server.httpPort", "8090", "serve",
                                   "--server.grpc.serverReflection", "--Logger.Level=5",
                                   "--server.security.allowedOrigins", "--x", "--flyteadmin.labels.Team=ml",
                                   "--auth.appAuth.authServerType=Self", "--config=b.yaml", "--",
                                   "--server.httpPort=1"};
  auto flags = flyte::core::ExtractConfigFlags(args);
  REQUIRE(flags.ok());
  CHECK(args == std::vector<std::string>{"--config", "a.yaml", "serve", "--config=b.yaml", "--",
                                         "--server.httpPort=1"});
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& f : flags.value()) got.emplace_back(f.path, f.value);
  CHECK(got == std::vector<std::pair<std::string, std::string>>{
                   {"server.httpPort", "8090"},
                   {"server.grpc.serverReflection", "true"},  // a bare boolean
                   {"logger.level", "5"},                     // the schema's spelling
                   {"server.security.allowedOrigins", "--x"},  // the next argument, whatever it is
                   {"flyteadmin.labels.Team", "ml"},           // a map's key keeps its spelling
                   {"auth.appAuth.authServerType", "Self"}});

  auto refused = [](std::vector<std::string> a) {
    auto r = flyte::core::ExtractConfigFlags(a);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == flyte::plugin::StatusCode::kInvalidArgument);
    return r.status().message();
  };
  CHECK(refused({"--server.htpPort", "1"}) == "unknown flag: --server.htpPort");
  CHECK(refused({"serve", "--server.httpPort"}) == "flag needs an argument: --server.httpPort");
  // Inside an upstream section this build accepts whole (and does not read), the type is
  // unknown: a bare flag there is refused rather than guessed to be a boolean or to take the
  // next argument, where upstream's flag is one or the other.
  CHECK(refused({"--auth.disableForHttp", "serve"}) ==
        "flag --auth.disableForHttp: a key this build does not describe takes its value after '=' "
        "(--auth.disableForHttp=VALUE)");
  // pflag would read `--x false` as a bare (true) flag and a positional `false`.
  CHECK(refused({"--server.security.useAuth", "false", "serve"}) ==
        "flag --server.security.useAuth is a boolean: a bare --server.security.useAuth means true; "
        "write --server.security.useAuth=false to give it a value");
  CHECK(refused({"migrate", "seed-projects", "--database.migrateOnStart", "TRUE", "p1"}) ==
        "flag --database.migrateOnStart is a boolean: a bare --database.migrateOnStart means true; "
        "write --database.migrateOnStart=TRUE to give it a value");
  // A map's value takes the next argument too.
  std::vector<std::string> map_args = {"--flyteadmin.labels.team", "ml", "serve"};
  auto map_flags = flyte::core::ExtractConfigFlags(map_args);
  REQUIRE(map_flags.ok());
  CHECK(map_args == std::vector<std::string>{"serve"});
  REQUIRE(map_flags->size() == 1);
  CHECK(map_flags->front().value == "ml");
}

TEST_CASE("Flags override environment variables and files; a list flag is comma-separated and adds up",
          "[unit]") {
  std::vector<std::string> args = {"--server.httpPort=9300", "--server.security.allowedOrigins", "a,b",
                                   "--server.security.allowedOrigins=c", "--database.postgres.password=0755",
                                   "--server.grpc.serverReflection=false", "--flyteadmin.labels.team=ml"};
  auto flags = flyte::core::ExtractConfigFlags(args);
  REQUIRE(flags.ok());
  auto c = Config::FromDocuments(
      {"server:\n  httpPort: 9000\n  security:\n    allowedOrigins: [x]\nflyteadmin:\n  labels: {env: prod}\n"},
      Env({{"SERVER.HTTPPORT", "9100"}, {"SERVER.GRPC.PORT", "9101"}}), flags.value());
  REQUIRE(c.ok());
  CHECK(c->Get<int>("server.httpPort", 0) == 9300);
  CHECK(c->Get<int>("server.grpc.port", 0) == 9101);  // the environment, no flag
  CHECK_FALSE(c->Get<bool>("server.grpc.serverReflection", true));
  CHECK(c->Get<std::vector<std::string>>("server.security.allowedOrigins", {}) ==
        std::vector<std::string>{"a", "b", "c"});
  CHECK(c->Get<std::string>("database.postgres.password", "") == "0755");  // a string as given
  CHECK(c->Get<std::map<std::string, std::string>>("flyteadmin.labels", {}) ==
        std::map<std::string, std::string>{{"env", "prod"}, {"team", "ml"}});
  CHECK(c->Validate().empty());

  // An empty value leaves a string empty and a list with no items; for any other key it is
  // refused, as pflag refuses it, where YAML would read it as null and leave the key unset.
  std::vector<std::string> empty_args = {"--database.postgres.password=", "--server.security.allowedOrigins="};
  auto empty = Config::FromDocuments({}, Env({}), flyte::core::ExtractConfigFlags(empty_args).value());
  REQUIRE(empty.ok());
  CHECK(empty->Get<std::string>("database.postgres.password", "x").empty());
  CHECK(empty->Get<std::vector<std::string>>("server.security.allowedOrigins", {"x"}).empty());
  for (std::string arg : {"--server.httpPort=", "--server.grpc.serverReflection=", "--server.httpPort=~"}) {
    INFO(arg);
    std::vector<std::string> a = {arg};
    auto refused = Config::FromDocuments({}, Env({}), flyte::core::ExtractConfigFlags(a).value());
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.status().message(), Catch::StartsWith("invalid argument \"" + arg.substr(arg.find('=') + 1) + "\" for \"--"));
  }

  // A value that does not convert to its key's type is refused, naming the flag.
  std::vector<std::string> bad_args = {"--server.httpPort=http"};
  auto bad = Config::FromDocuments({}, Env({}), flyte::core::ExtractConfigFlags(bad_args).value());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "invalid argument \"http\" for \"--server.httpPort\" flag: expected integer, got string");
}

TEST_CASE("A flag inside a map takes the map's value type; one in a section accepted whole reads as YAML",
          "[unit]") {
  // Label values are strings: "1.10", "true" and "0755" stay as written, and an empty one is "".
  std::vector<std::string> args = {"--flyteadmin.labels.version=1.10", "--flyteadmin.labels.canary", "true",
                                   "--flyteadmin.labels.mode=0755", "--flyteadmin.labels.empty=",
                                   "--auth.appAuth.selfAuthServer.accessTokenLifespan=1h",
                                   "--auth.disableForHttp=true"};
  auto flags = flyte::core::ExtractConfigFlags(args);
  REQUIRE(flags.ok());
  CHECK(args.empty());
  auto c = Config::FromDocuments({}, Env({{"SERVER.SECURITY.ALLOWEDORIGINS", "x,y"}}), flags.value());
  REQUIRE(c.ok());
  CHECK(c->Get<std::map<std::string, std::string>>("flyteadmin.labels", {}) ==
        std::map<std::string, std::string>{{"version", "1.10"}, {"canary", "true"}, {"mode", "0755"}, {"empty", ""}});
  CHECK(c->root()["auth"]["appAuth"]["selfAuthServer"]["accessTokenLifespan"] == "1h");
  CHECK(c->root()["auth"]["disableForHttp"] == true);
  CHECK(c->Get<std::vector<std::string>>("server.security.allowedOrigins", {}) ==
        std::vector<std::string>{"x", "y"});  // the environment's list, no flag

  // A list flag replaces the environment's list, then adds to itself.
  std::vector<std::string> list_args = {"--server.security.allowedOrigins=a", "--server.security.allowedOrigins=b"};
  auto listed = Config::FromDocuments({}, Env({{"SERVER.SECURITY.ALLOWEDORIGINS", "x,y"}}),
                                      flyte::core::ExtractConfigFlags(list_args).value());
  REQUIRE(listed.ok());
  CHECK(listed->Get<std::vector<std::string>>("server.security.allowedOrigins", {}) ==
        std::vector<std::string>{"a", "b"});
}
