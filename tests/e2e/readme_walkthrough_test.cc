// README.md's five-minute walk-through, run as written: the ```sh walkthrough blocks, in order,
// against `flyteadmin serve` on its embedded defaults (what `make run` serves), so the README
// cannot drift from what the server does. Only the ports move, to free ones.
#include <signal.h>

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "test_support.h"

using namespace flyte;

namespace {

// The bodies of the fenced blocks whose info string is "sh walkthrough", in order.
std::vector<std::string> WalkthroughBlocks(const std::string& markdown) {
  std::vector<std::string> blocks;
  std::istringstream in(markdown);
  std::string line;
  bool inside = false;
  std::string body;
  while (std::getline(in, line)) {
    if (!inside && line == "```sh walkthrough") {
      inside = true;
      body.clear();
    } else if (inside && line == "```") {
      inside = false;
      blocks.push_back(body);
    } else if (inside) {
      body += line + "\n";
    }
  }
  return blocks;
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

TEST_CASE("The README walk-through registers, launches and watches an execution as written",
          "[e2e]") {
  std::ifstream in(FLYTE_SOURCE_DIR "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  auto blocks = WalkthroughBlocks(ss.str());
  REQUIRE(blocks.size() >= 4);
  std::string script;
  for (const auto& b : blocks) script += b;

  int grpc_port = test::FreePort();
  int http_port = test::FreePort();
  ReplaceAll(script, "localhost:8088", "127.0.0.1:" + std::to_string(http_port));
  ReplaceAll(script, "localhost:8089", "127.0.0.1:" + std::to_string(grpc_port));

  // A fresh working directory, as a newcomer's clone: the standalone layer puts its SQLite file
  // and storage under ./flyteadmin-data there.
  std::string dir = test::WriteTempFile("walkthrough/.keep", "");
  dir = dir.substr(0, dir.rfind('/'));
  test::Child server({"/bin/sh", "-c",
                      "cd '" + dir + "' && exec /usr/bin/env SERVER.HTTPPORT=" + std::to_string(http_port) +
                          " SERVER.GRPC.PORT=" + std::to_string(grpc_port) +
                          " SERVER.BINDADDRESS=127.0.0.1 FLYTEADMIN.PROFILERPORT=0 " FLYTEADMIN_BIN
                          " serve"});
  REQUIRE(test::WaitForPort(http_port, std::chrono::seconds(30)));
  REQUIRE(test::WaitForPort(grpc_port, std::chrono::seconds(30)));

  auto run = test::Run({"/bin/sh", "-ec", script}, std::chrono::seconds(120));
  INFO("script:\n" << script << "\nstdout:\n" << run.out << "\nstderr:\n" << run.err
                   << "\nserver:\n" << server.Stderr());
  CHECK(run.exit_code == 0);
  // What the README says the steps print.
  CHECK_THAT(run.out, Catch::Contains("\"id\":\"demo\""));
  CHECK_THAT(run.out, Catch::Contains("\"id\":{\"project\":\"demo\",\"domain\":\"development\",\"name\":\"hello1\""));
  CHECK_THAT(run.out, Catch::Contains("SUCCEEDED"));
  CHECK_THAT(run.out, Catch::Contains("n0 SUCCEEDED"));

  server.Signal(SIGTERM);
  CHECK(server.Wait(std::chrono::seconds(20)).exit_code == 0);
}
