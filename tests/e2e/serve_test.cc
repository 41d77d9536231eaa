// The built `flyteadmin serve` binary, driven as a user would: real gRPC and HTTP clients,
// then SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "flyteidl/service/admin.grpc.pb.h"
#include "flyteidl/service/signal.grpc.pb.h"
#include "grpc_helpers.h"
#include "test_support.h"

using namespace flyte;

TEST_CASE("flyteadmin serve answers health, GetVersion and REST, then stops cleanly on SIGTERM", "[e2e]") {
  int grpc_port = test::FreePort();
  int http_port = test::FreePort();
  auto config = test::WriteTempFile("e2e.yaml", test::ServerConfigYaml(grpc_port, http_port));
  // A second file merged over the first: info-level logs, to check start-up and shutdown lines.
  auto verbose = test::WriteTempFile("e2e-verbose.json", R"({"logger": {"level": 4}})");
  test::Child server({FLYTEADMIN_BIN, "--config", config, "--config", verbose, "serve"});
  REQUIRE(test::WaitForPort(http_port, std::chrono::seconds(20)));
  REQUIRE(test::WaitForPort(grpc_port, std::chrono::seconds(20)));

  CHECK(test::HealthCheck(grpc_port, "flyteadmin") == 1);
  flyteidl::admin::GetVersionResponse resp;
  {
    // The channel is closed before SIGTERM: an idle C++ client only notices the server's GOAWAY
    // when its backup poller runs (every 5 s), which would hold the graceful stop that long.
    auto stub = flyteidl::service::AdminService::NewStub(test::Channel(grpc_port));
    grpc::ClientContext ctx;
    flyteidl::admin::GetVersionRequest req;
    REQUIRE(stub->GetVersion(&ctx, req, &resp).ok());
    CHECK_FALSE(resp.control_plane_version().version().empty());
  }

  auto version = test::Http(http_port, "GET", "/api/v1/version", "", {{"Accept", "application/json"}});
  REQUIRE(version.status == 200);
  CHECK(nlohmann::json::parse(version.body)["control_plane_version"]["Version"] ==
        resp.control_plane_version().version());
  CHECK(test::Http(http_port, "GET", "/healthcheck").status == 200);

  // A path not in canonical form is redirected to the cleaned one, as Go's ServeMux does in
  // front of upstream's gateway; the query is kept.
  auto moved = test::Http(http_port, "GET", "/api/v1//projects/./x/../?limit=3");
  CHECK(moved.status == 301);
  CHECK(moved.Header("location") == "/api/v1/projects/?limit=3");
  CHECK(test::Http(http_port, "GET", "//healthcheck").Header("location") == "/healthcheck");

  {
    // HEAD gets no body, so the next response on the same connection reads cleanly.
    namespace beast = boost::beast;
    namespace http = beast::http;
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                  static_cast<unsigned short>(http_port)));
    http::request<http::empty_body> head(http::verb::head, "/api/v1/projects", 11);
    head.set(http::field::host, "127.0.0.1");
    http::request<http::empty_body> get(http::verb::get, "/healthcheck", 11);
    get.set(http::field::host, "127.0.0.1");
    http::write(stream, head);
    http::write(stream, get);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> head_parser;
    head_parser.skip(true);  // what a client does for a response to HEAD
    http::read(stream, buffer, head_parser);
    CHECK(head_parser.get().result_int() == 501);
    http::response<http::string_body> next;
    http::read(stream, buffer, next);
    CHECK(next.result_int() == 200);
    CHECK(buffer.size() == 0);
  }
  auto metrics = test::Http(http_port, "GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("grpc_server_started_total"));

  auto before = std::chrono::steady_clock::now();
  server.Signal(SIGTERM);
  auto result = server.Wait(std::chrono::seconds(20));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - before).count();
  CHECK(took < 4.0);  // no call in flight: the graceful stop does not wait out its 5 s grace
  CHECK(result.signal == 0);
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("loaded plugin flyte_manager_version"));
  CHECK_THAT(result.err, Catch::Contains("received SIGTERM"));
}

TEST_CASE("SIGHUP drains as SIGTERM does; a start held up by its database is ended by a signal",
          "[e2e]") {
  int grpc_port = test::FreePort();
  int http_port = test::FreePort();
  auto config = test::WriteTempFile("e2e-hup.yaml", test::ServerConfigYaml(grpc_port, http_port));
  auto verbose = test::WriteTempFile("e2e-hup-verbose.json", R"({"logger": {"level": 4}})");
  {
    test::Child server({FLYTEADMIN_BIN, "--config", config, "--config", verbose, "serve"});
    REQUIRE(test::WaitForPort(grpc_port, std::chrono::seconds(20)));
    server.Signal(SIGHUP);
    auto result = server.Wait(std::chrono::seconds(20));
    CHECK(result.signal == 0);
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.err, Catch::Contains("received SIGHUP, shutting down"));
  }
  {
    // A PostgreSQL "server" that takes the connection and never answers holds the start in its
    // database connect; SIGINT there ends the process (128 + 2) once the start has had 5 s to
    // finish, as nothing was served.
    int silent = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(silent >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(silent, 8) == 0);
    REQUIRE(::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    auto hang = test::WriteTempFile(
        "e2e-hang.yaml", "database:\n  sqlite:\n    file: \"\"\n  postgres:\n    host: 127.0.0.1\n    port: " +
                             std::to_string(ntohs(addr.sin_port)) +
                             "\n    dbname: x\n    username: postgres\n    password: \"\"\n");
    test::Child server({FLYTEADMIN_BIN, "--config", config, "--config", verbose, "--config", hang, "serve"});
    // Until it has logged its start line, its signals may not be set up yet.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (server.Stderr().find("flyteadmin 0.1.0") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    REQUIRE(server.Running());
    server.Signal(SIGINT);
    auto result = server.Wait(std::chrono::seconds(20));
    ::close(silent);
    INFO(result.err);
    CHECK(result.signal == 0);
    CHECK(result.exit_code == 128 + SIGINT);
    CHECK_THAT(result.err, Catch::Contains("received SIGINT while starting; exiting"));
  }
}

TEST_CASE("A gRPC call whose x-request-id gRPC cannot echo is answered with a fresh id", "[e2e]") {
  // gRPC aborts the process on metadata it cannot send; a raw HTTP/2 client (curl) sends what
  // the C++ client would refuse to.
  int grpc_port = test::FreePort();
  int http_port = test::FreePort();
  auto config = test::WriteTempFile("e2e-rid.yaml", test::ServerConfigYaml(grpc_port, http_port));
  test::Child server({FLYTEADMIN_BIN, "--config", config, "serve"});
  REQUIRE(test::WaitForPort(grpc_port, std::chrono::seconds(20)));
  const std::string frame = test::WriteTempFile("get-version.bin", std::string(5, '\0'));
  for (const std::string& id : {std::string("caf\xc3\xa9"), std::string("tab\there"), std::string(300, 'x')}) {
    INFO(id);
    auto curl = test::Run({"/usr/bin/curl", "-sS", "--http2-prior-knowledge", "-D", "-", "-o", "/dev/null",
                           "-X", "POST", "-H", "content-type: application/grpc", "-H", "te: trailers",
                           "-H", "x-request-id: " + id, "--data-binary", "@" + frame,
                           "http://127.0.0.1:" + std::to_string(grpc_port) +
                               "/flyteidl.service.AdminService/GetVersion"});
    INFO(curl.err);
    CHECK(curl.exit_code == 0);
    CHECK_THAT(curl.out, Catch::Contains("grpc-status: 0"));
    CHECK_THAT(curl.out, Catch::Contains("x-request-id: a-"));
  }
  // Still serving.
  auto stub = flyteidl::service::AdminService::NewStub(test::Channel(grpc_port));
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-request-id", "kept-as-sent");
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  REQUIRE(stub->GetVersion(&ctx, req, &resp).ok());
  auto echoed = ctx.GetServerInitialMetadata().find("x-request-id");
  REQUIRE(echoed != ctx.GetServerInitialMetadata().end());
  CHECK(std::string(echoed->second.data(), echoed->second.size()) == "kept-as-sent");
  server.Signal(SIGTERM);
  CHECK(server.Wait(std::chrono::seconds(20)).signal == 0);
}

TEST_CASE("The profiling port: a taken port stops the start, its /config can be turned off",
          "[e2e]") {
  // Held by someone else: the server refuses to start and says which key, as upstream's
  // profiling server panics the process.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor held(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const int taken = held.local_endpoint().port();
  {
    int grpc_port = test::FreePort(), http_port = test::FreePort();
    auto config = test::WriteTempFile(
        "profiler-taken.yaml",
        test::ServerConfigYaml(grpc_port, http_port, "",
                               "flyteadmin:\n  profilerPort: " + std::to_string(taken) + "\n"));
    auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "serve"}, std::chrono::seconds(30));
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains("flyteadmin.profilerPort"));
  }
  {
    int grpc_port = test::FreePort(), http_port = test::FreePort(), profiler_port = test::FreePort();
    auto config = test::WriteTempFile(
        "profiler-no-config.yaml",
        test::ServerConfigYaml(grpc_port, http_port, "",
                               "flyteadmin:\n  profilerPort: " + std::to_string(profiler_port) +
                                   "\nprof:\n  DisableConfigEndpoint: true\n"));
    test::Child server({FLYTEADMIN_BIN, "--config", config, "serve"});
    REQUIRE(test::WaitForPort(profiler_port, std::chrono::seconds(20)));
    INFO(server.Stderr());
    CHECK(test::Http(profiler_port, "GET", "/config").status == 404);
    CHECK(test::Http(profiler_port, "GET", "/healthcheck").status == 200);
    server.Signal(SIGTERM);
    CHECK(server.Wait(std::chrono::seconds(20)).exit_code == 0);
  }
}

TEST_CASE("flyteadmin serve on its embedded defaults, ports moved by environment overrides", "[e2e]") {
  int grpc_port = test::FreePort();
  int http_port = test::FreePort();
  // The embedded defaults are what `make run` serves; only the ports and the loopback bind are
  // moved, through upstream's environment names.
  std::string env_http = "SERVER.HTTPPORT=" + std::to_string(http_port);
  std::string env_grpc = "SERVER.GRPC.PORT=" + std::to_string(grpc_port);
  std::string dir = test::WriteTempFile("standalone/.keep", "");
  dir = dir.substr(0, dir.rfind('/'));
  std::string env_db = "DATABASE.SQLITE.FILE=" + dir + "/admin.db";
  std::string env_storage = "STORAGE.STOW.CONFIG.PATH=" + dir + "/storage";
  int profiler_port = test::FreePort();
  std::string env_profiler = "FLYTEADMIN.PROFILERPORT=" + std::to_string(profiler_port);
  test::Child server({"/usr/bin/env", env_http, env_grpc, env_db, env_storage, env_profiler,
                      "SERVER.BINDADDRESS=127.0.0.1", FLYTEADMIN_BIN, "serve"});
  REQUIRE(test::WaitForPort(http_port, std::chrono::seconds(20)));
  REQUIRE(test::WaitForPort(profiler_port, std::chrono::seconds(20)));
  CHECK(test::HealthCheck(grpc_port, "flyteadmin") == 1);
  CHECK(test::Http(http_port, "GET", "/api/v1/version").status == 200);
  // The standalone layer migrated the SQLite file and seeded the flytesnacks project.
  auto projects = test::Http(http_port, "GET", "/api/v1/projects", "", {{"Accept", "application/json"}});
  REQUIRE(projects.status == 200);
  CHECK_THAT(projects.body, Catch::Contains("\"id\":\"flytesnacks\""));

  // Upstream's profiling server on flyteadmin.profilerPort, where upstream's charts point
  // Prometheus: metrics, health, build and the loaded config.
  auto metrics = test::Http(profiler_port, "GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("grpc_server_started_total"));
  auto health = test::Http(profiler_port, "GET", "/healthcheck");
  CHECK(health.status == 200);
  CHECK(health.body == "OK");
  auto version = test::Http(profiler_port, "GET", "/version");
  REQUIRE(version.status == 200);
  CHECK(version.Header("content-type") == "application/json; charset=utf-8");
  auto build = nlohmann::json::parse(version.body);
  CHECK(build.contains("build"));
  CHECK(build.contains("version"));
  CHECK(build["timestamp"].get<std::string>().front() == '"');  // Go's `json:",string"`
  auto loaded = test::Http(profiler_port, "GET", "/config");
  REQUIRE(loaded.status == 200);
  auto config = nlohmann::json::parse(loaded.body);
  CHECK(config["server"]["httpPort"] == http_port);
  CHECK(config["flyteadmin"]["profilerPort"] == profiler_port);
  auto missing = test::Http(profiler_port, "GET", "/debug/pprof/");
  CHECK(missing.status == 404);
  CHECK(missing.body == "404 page not found\n");

  server.Signal(SIGINT);
  auto result = server.Wait(std::chrono::seconds(20));
  CHECK(result.exit_code == 0);
}

TEST_CASE("flyteadmin serve refuses a config with a wrongly typed key, naming it", "[e2e]") {
  auto config = test::WriteTempFile("bad-type.yaml", "server:\n  httpPort: eighty\n");
  auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "serve"}, std::chrono::seconds(20));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("server.httpPort"));
}

TEST_CASE("flyteadmin config validate reports each problem with its key path", "[e2e]") {
  auto config = test::WriteTempFile("validate.yaml", "server:\n  httpPortt: 1\n  grpc:\n    port: x\n");
  auto r = test::Run({FLYTEADMIN_BIN, "--config", config, "config", "validate"}, std::chrono::seconds(20));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("server.httpPortt: unknown key"));
  CHECK_THAT(r.out, Catch::Contains("server.grpc.port"));
}

TEST_CASE("flyteadmin serve lives through a lock order Debian's Abseil would abort on", "[e2e]") {
  int grpc_port = test::FreePort();
  int http_port = test::FreePort();
  auto config = test::WriteTempFile(
      "e2e-lock-order.yaml",
      test::ServerConfigYaml(grpc_port, http_port,
                             "    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_faulty_service.so\n"));
  test::Child server({FLYTEADMIN_BIN, "--config", config, "serve"});
  REQUIRE(test::WaitForPort(grpc_port, std::chrono::seconds(20)));
  {
    auto channel = test::Channel(grpc_port);
    auto signals = flyteidl::service::SignalService::NewStub(channel);
    grpc::ClientContext ctx;
    flyteidl::admin::SignalListRequest req;
    req.mutable_workflow_execution_id()->set_name("lock-order");
    flyteidl::admin::SignalList list;
    auto status = signals->ListSignals(&ctx, req, &list);
    CHECK(status.ok());
    CHECK(status.error_message() == "");
    auto admin = flyteidl::service::AdminService::NewStub(channel);
    grpc::ClientContext version_ctx;
    flyteidl::admin::GetVersionResponse version;
    CHECK(admin->GetVersion(&version_ctx, flyteidl::admin::GetVersionRequest(), &version).ok());
  }
  CHECK_THAT(server.Stderr(), !Catch::Contains("potential deadlock"));
  server.Signal(SIGTERM);
  CHECK(server.Wait(std::chrono::seconds(30)).exit_code == 0);
}
