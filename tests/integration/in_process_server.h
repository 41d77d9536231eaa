// The assembled server in-process on loopback ports, for the integration tests: the test config
// with `extra_plugins` (lines under pluginHost.load), further YAML documents merged over it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <prometheus/registry.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "flyte/core/admin_server.h"
#include "flyte/core/build_info.h"
#include "flyte/core/plugin_host.h"
#include "test_support.h"

namespace flyte::test {

struct InProcessServer {
  explicit InProcessServer(const std::string& extra_plugins, const std::vector<std::string>& more_documents = {}) {
    grpc_port = FreePort();
    http_port = FreePort();
    std::vector<std::string> documents = {ServerConfigYaml(grpc_port, http_port, extra_plugins)};
    documents.insert(documents.end(), more_documents.begin(), more_documents.end());
    auto c = core::Config::FromDocuments(documents, [](const std::string&) { return std::nullopt; });
    REQUIRE(c.ok());
    config = std::make_unique<core::Config>(std::move(c.value()));
    host = std::make_unique<core::PluginHost>(
        *config, std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>()),
        std::make_shared<prometheus::Registry>(), core::ThisBuild());
    auto specs = host->SpecsFromConfig();
    REQUIRE(specs.ok());
    auto loaded = host->LoadAll(specs.value());
    INFO(loaded.ToString());
    REQUIRE(loaded.ok());
    server = std::make_unique<core::AdminServer>(*host);
    auto s = server->Start();
    INFO(s.ToString());
    REQUIRE(s.ok());
    host->Serving();  // as `serve` does once its ports are bound
  }
  ~InProcessServer() {
    server->Shutdown();
    server.reset();
    host->Shutdown();
  }
  int grpc_port, http_port;
  std::unique_ptr<core::Config> config;
  std::unique_ptr<core::PluginHost> host;
  std::unique_ptr<core::AdminServer> server;
};

}  // namespace flyte::test
