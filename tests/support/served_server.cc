// The served-server harness shared by the end-to-end tests.
#include "served_server.h"

#include <signal.h>

#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>

#include "grpc_helpers.h"

namespace flyte::test {

ServedServer::ServedServer(const std::string& extra_plugins, const std::vector<std::string>& layers) {
  grpc_port = FreePort();
  http_port = FreePort();
  std::string prefix = "served-" + std::to_string(grpc_port);
  std::vector<std::string> argv{FLYTEADMIN_BIN, "--config",
                                WriteTempFile(prefix + ".yaml", ServerConfigYaml(grpc_port, http_port, extra_plugins))};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    argv.push_back("--config");
    argv.push_back(WriteTempFile(prefix + "-layer" + std::to_string(i) + ".yaml", layers[i]));
  }
  argv.push_back("serve");
  child_ = std::make_unique<Child>(argv);
  if (!WaitForPort(http_port, std::chrono::seconds(30)) || !WaitForPort(grpc_port, std::chrono::seconds(30))) {
    // Whether it is still starting (and how far it got, at the configured log level) or gone.
    FAIL("flyteadmin did not start on ports " << http_port << " (HTTP) and " << grpc_port << " (gRPC); it "
                                              << (child_->Running() ? "is still running" : "exited")
                                              << "; its stderr: " << child_->Stderr());
  }
  channel_ = Channel(grpc_port);
}

ServedServer::~ServedServer() {
  if (!stopped_) Stop();
}

void ServedServer::Stop() {
  stopped_ = true;
  channel_.reset();
  child_->Signal(SIGTERM);
  auto r = child_->Wait(std::chrono::seconds(20));
  CHECK(r.exit_code == 0);
}

void ServedServer::Kill() {
  stopped_ = true;
  child_->Signal(SIGKILL);
  child_->Wait(std::chrono::seconds(10));
}

std::string PostgresLayer(const std::string& dbname) {
  const char* state = std::getenv("FLYTE_TEST_PG_STATE");
  REQUIRE(state != nullptr);
  std::ifstream in(state);
  std::string line;
  int port = 0;
  while (std::getline(in, line)) {
    if (line.rfind("PGPORT=", 0) == 0) port = std::atoi(line.c_str() + 7);
  }
  REQUIRE(port > 0);
  return "database:\n  sqlite:\n    file: \"\"\n  postgres:\n    host: 127.0.0.1\n    port: " + std::to_string(port) +
         "\n    dbname: " + dbname + "\n    username: postgres\n    password: \"\"\n";
}

}  // namespace flyte::test
