// The assembled server in-process on loopback ports: gRPC and REST through the same chain.
#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <google/rpc/status.pb.h>
#include <nlohmann/json.hpp>
#include <prometheus/registry.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "flyte/core/admin_server.h"
#include "flyte/core/build_info.h"
#include "flyte/core/plugin_host.h"
#include "flyteidl/admin/event.pb.h"
#include "google/api/annotations.pb.h"
#include "flyteidl/admin/signal.pb.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "flyteidl/service/signal.grpc.pb.h"
#include "grpc_helpers.h"
#include "in_process_server.h"
#include "test_support.h"

using namespace flyte;

namespace {

// The server with the faulty-service fixture (a method that throws, one with details...).
struct Server : test::InProcessServer {
  Server() : InProcessServer("    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_faulty_service.so\n") {}
};

grpc::Status ListSignals(int port, const std::string& name) {
  // gRPC C++ clients refuse response headers beyond 8 KiB unless told otherwise (Go's take
  // 16 MiB): room for the longest status message the server sends.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
  auto stub = flyteidl::service::SignalService::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  flyteidl::admin::SignalListRequest req;
  req.mutable_workflow_execution_id()->set_name(name);
  req.set_limit(10);
  flyteidl::admin::SignalList resp;
  return stub->ListSignals(&ctx, req, &resp);
}

}  // namespace

TEST_CASE("gRPC health reports flyteadmin SERVING", "[integration]") {
  Server s;
  CHECK(test::HealthCheck(s.grpc_port, "flyteadmin") == 1);
  CHECK(test::HealthCheck(s.grpc_port, "no-such-service") == -static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

TEST_CASE("Server reflection lists the served services", "[integration]") {
  Server s;
  std::string listed = test::ReflectionListServicesRaw(s.grpc_port);
  CHECK_THAT(listed, Catch::Contains("flyteidl.service.AdminService"));
  CHECK_THAT(listed, Catch::Contains("flyteidl.service.DataProxyService"));
  CHECK_THAT(listed, Catch::Contains("flyteidl.service.SignalService"));
  CHECK_THAT(listed, Catch::Contains("grpc.health.v1.Health"));
}

TEST_CASE("GetVersion over gRPC returns the build and echoes a request id", "[integration]") {
  Server s;
  auto stub = flyteidl::service::AdminService::NewStub(test::Channel(s.grpc_port));
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-request-id", "req-42");
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  auto status = stub->GetVersion(&ctx, req, &resp);
  REQUIRE(status.ok());
  CHECK(resp.control_plane_version().version() == core::ThisBuild().version);
  CHECK(resp.control_plane_version().build() == core::ThisBuild().commit);
  CHECK(resp.control_plane_version().buildtime() == core::ThisBuild().build_time);
  auto md = ctx.GetServerInitialMetadata();
  auto it = md.find("x-request-id");
  REQUIRE(it != md.end());
  CHECK(std::string(it->second.data(), it->second.size()) == "req-42");
}

TEST_CASE("An RPC no plugin serves answers UNIMPLEMENTED over gRPC and 501 over REST", "[integration]") {
  Server s;
  auto stub = flyteidl::service::AdminService::NewStub(test::Channel(s.grpc_port));
  grpc::ClientContext ctx;
  flyteidl::admin::ProjectListRequest req;
  flyteidl::admin::Projects resp;
  auto status = stub->ListProjects(&ctx, req, &resp);
  CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  CHECK_THAT(status.error_message(), Catch::Contains("ListProjects"));
  auto r = test::Http(s.http_port, "GET", "/api/v1/projects");
  CHECK(r.status == 501);
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["code"] == 12);
}

TEST_CASE("A handler that throws yields INTERNAL and the next call succeeds", "[integration]") {
  Server s;
  auto first = ListSignals(s.grpc_port, "throw");
  CHECK(first.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(first.error_message().empty());
  auto second = ListSignals(s.grpc_port, "throw-int");
  CHECK(second.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(ListSignals(s.grpc_port, "fine").ok());
  auto rest = test::Http(s.http_port, "GET", "/api/v1/signals/p/d/throw");
  CHECK(rest.status == 500);
  CHECK(test::Http(s.http_port, "GET", "/api/v1/signals/p/d/fine").status == 200);
  auto metrics = test::Http(s.http_port, "GET", "/metrics");
  CHECK_THAT(metrics.body, Catch::Contains("admin:handler_panic 3"));
}

TEST_CASE("Error statuses keep their details, except messages cut at 32000 bytes as upstream cuts them",
          "[integration]") {
  Server s;
  auto small = ListSignals(s.grpc_port, "detailed-100");
  CHECK(small.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(small.error_message() == std::string(100, 'x'));
  google::rpc::Status rpc;
  REQUIRE(rpc.ParseFromString(small.error_details()));
  REQUIRE(rpc.details_size() == 1);
  flyteidl::admin::EventFailureReason reason;
  REQUIRE(rpc.details(0).UnpackTo(&reason));
  CHECK(reason.already_in_terminal_state().current_phase() == "SUCCEEDED");

  auto big = ListSignals(s.grpc_port, "detailed-40000");
  CHECK(big.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(big.error_message() == std::string(32000, 'x'));
  CHECK(big.error_details().empty());

  // Upstream's REST gateway reaches the same handlers over gRPC: the same cut, the same details.
  auto rest_small = test::Http(s.http_port, "GET", "/api/v1/signals/p/d/detailed-100", "",
                               {{"Accept", "application/json"}});
  CHECK(rest_small.status == 400);
  auto small_json = nlohmann::json::parse(rest_small.body);
  CHECK(small_json["message"] == std::string(100, 'x'));
  CHECK(small_json["details"].size() == 1);
  auto rest_big = test::Http(s.http_port, "GET", "/api/v1/signals/p/d/detailed-40000", "",
                             {{"Accept", "application/json"}});
  CHECK(rest_big.status == 400);
  auto big_json = nlohmann::json::parse(rest_big.body);
  CHECK(big_json["code"] == 9);
  CHECK(big_json["message"] == std::string(32000, 'x'));
  CHECK(big_json["details"].empty());
}

TEST_CASE("REST serves version, healthcheck and metrics on the HTTP port", "[integration]") {
  Server s;
  auto health = test::Http(s.http_port, "GET", "/healthcheck");
  CHECK(health.status == 200);
  // Upstream registers its snake_case marshaler for application/json only, as clients send it.
  auto version = test::Http(s.http_port, "GET", "/api/v1/version", "",
                            {{"X-Request-Id", "rest-7"}, {"Accept", "application/json"}});
  REQUIRE(version.status == 200);
  CHECK_THAT(version.Header("content-type"), Catch::Contains("application/json"));
  // Every answer is dated, as Go's net/http dates them.
  CHECK_THAT(version.Header("date"),
             Catch::Matches(R"((Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)"));
  CHECK_FALSE(health.Header("date").empty());
  // A request target in absolute form, as proxies send it, is routed on its path.
  const std::string authority = "http://127.0.0.1:" + std::to_string(s.http_port);
  CHECK(test::Http(s.http_port, "GET", authority + "/healthcheck").status == 200);
  auto absolute = test::Http(s.http_port, "GET", authority + "/api/v1/version", "",
                             {{"Accept", "application/json"}});
  CHECK(absolute.status == 200);
  CHECK_THAT(absolute.body, Catch::Contains("control_plane_version"));
  CHECK(test::Http(s.http_port, "GET", "HTTPS://example.com?x=1").status == 404);
  auto body = nlohmann::json::parse(version.body);
  CHECK(body["control_plane_version"]["Version"] == core::ThisBuild().version);
  CHECK(body["control_plane_version"]["Build"] == core::ThisBuild().commit);
  CHECK(body["control_plane_version"]["BuildTime"] == core::ThisBuild().build_time);
  bool echoed = false;
  for (const auto& [k, v] : version.headers) echoed = echoed || (v == "rest-7" && k.find("x-request-id") != std::string::npos);
  CHECK(echoed);
  auto metrics = test::Http(s.http_port, "GET", "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains(R"(grpc_server_handled_total{grpc_code="OK",grpc_method="GetVersion")"));
  CHECK_THAT(metrics.body, Catch::Contains("grpc_server_handling_seconds_bucket"));
}

TEST_CASE("REST serves the OpenAPI document of AdminService at /api/v1/openapi", "[integration]") {
  Server s;
  auto doc = test::Http(s.http_port, "GET", "/api/v1/openapi");
  REQUIRE(doc.status == 200);
  CHECK(doc.Header("content-type") == "application/json");
  auto json = nlohmann::json::parse(doc.body);
  CHECK(json["swagger"] == "2.0");
  // Every HTTP binding of every AdminService method is an operation at its path and method,
  // and nothing else is.
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("flyteidl.service.AdminService");
  REQUIRE(service != nullptr);
  size_t bindings = 0;
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* method = service->method(i);
    const google::api::HttpRule& rule = method->options().GetExtension(google::api::http);
    std::vector<google::api::HttpRule> rules;
    rules.push_back(rule);
    rules.insert(rules.end(), rule.additional_bindings().begin(), rule.additional_bindings().end());
    for (size_t k = 0; k < rules.size(); ++k) {
      const google::api::HttpRule& r = rules[k];
      std::string verb, path;
      switch (r.pattern_case()) {
        case google::api::HttpRule::kGet: verb = "get", path = r.get(); break;
        case google::api::HttpRule::kPost: verb = "post", path = r.post(); break;
        case google::api::HttpRule::kPut: verb = "put", path = r.put(); break;
        case google::api::HttpRule::kDelete: verb = "delete", path = r.delete_(); break;
        case google::api::HttpRule::kPatch: verb = "patch", path = r.patch(); break;
        default: continue;
      }
      ++bindings;
      CAPTURE(method->name(), verb, path);
      REQUIRE(json["paths"].contains(path));
      REQUIRE(json["paths"][path].contains(verb));
      // Additional bindings are numbered from 2, as upstream's generator numbers them.
      CHECK(json["paths"][path][verb]["operationId"] == method->name() + (k ? std::to_string(k + 1) : ""));
    }
  }
  size_t operations = 0;
  for (const auto& [path, ops] : json["paths"].items()) operations += ops.size();
  CHECK(operations == bindings);
  CHECK(bindings >= 56);
  // Upstream's handler answers any method with the document.
  CHECK(test::Http(s.http_port, "POST", "/api/v1/openapi").body == doc.body);
}

TEST_CASE("A malformed JSON or protobuf body answers 400 with a message and the server goes on", "[integration]") {
  Server s;
  auto bad_json = test::Http(s.http_port, "POST", "/api/v1/tasks", "{\"id\": [unclosed",
                             {{"Content-Type", "application/json"}});
  CHECK(bad_json.status == 400);
  auto body = nlohmann::json::parse(bad_json.body);
  CHECK(body["code"] == 3);
  CHECK_FALSE(body["message"].get<std::string>().empty());
  auto bad_proto = test::Http(s.http_port, "POST", "/api/v1/tasks", std::string("\xff\xff\xff\x01", 4),
                              {{"Content-Type", "application/octet-stream"}});
  CHECK(bad_proto.status == 400);
  CHECK(test::Http(s.http_port, "GET", "/api/v1/version").status == 200);
}

TEST_CASE("Binary protobuf works in both directions on the gateway", "[integration]") {
  Server s;
  auto r = test::Http(s.http_port, "GET", "/api/v1/version", "", {{"Accept", "application/octet-stream"},
                                                                  {"Content-Type", "application/octet-stream"}});
  REQUIRE(r.status == 200);
  flyteidl::admin::GetVersionResponse resp;
  REQUIRE(resp.ParseFromString(r.body));
  CHECK(resp.control_plane_version().version() == core::ThisBuild().version);
}

TEST_CASE("Concurrent gRPC and REST calls all succeed", "[integration]") {
  Server s;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto stub = flyteidl::service::AdminService::NewStub(test::Channel(s.grpc_port));
      for (int i = 0; i < 50; ++i) {
        if (t % 2 == 0) {
          grpc::ClientContext ctx;
          flyteidl::admin::GetVersionRequest req;
          flyteidl::admin::GetVersionResponse resp;
          if (stub->GetVersion(&ctx, req, &resp).ok()) ok++;
        } else if (test::Http(s.http_port, "GET", "/api/v1/version").status == 200) {
          ok++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 400);
}

TEST_CASE("Shutdown lets a call in flight finish", "[integration]") {
  Server s;
  grpc::Status slow_status;
  std::thread caller([&] { slow_status = ListSignals(s.grpc_port, "slow"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto before = std::chrono::steady_clock::now();
  s.server->Shutdown();
  caller.join();
  CHECK(slow_status.ok());
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(4));
}

TEST_CASE("Shutdown lets a REST request whose body is still arriving finish and be answered",
          "[integration]") {
  Server s;
  namespace beast = boost::beast;
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                static_cast<unsigned short>(s.http_port)));
  const std::string body = R"({"id": {"project": "p", "domain": "d", "name": "n"}})";
  const std::string head = "POST /api/v1/signals HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Content-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n";
  boost::asio::write(stream.socket(), boost::asio::buffer(head + body.substr(0, 10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // The shutdown starts while the body is half there; the rest comes within its grace.
  std::thread stopper([&] { s.server->Shutdown(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  boost::asio::write(stream.socket(), boost::asio::buffer(body.substr(10)));
  beast::flat_buffer buffer;
  beast::http::response<beast::http::string_body> res;
  beast::error_code ec;
  beast::http::read(stream, buffer, res, ec);
  stopper.join();
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  CHECK(res.result_int() > 0);
  CHECK_FALSE(res.keep_alive());  // and the connection then closes
}

namespace {

// A server with one HTTP I/O thread and a one-second header timeout.
struct NarrowHttpServer : test::InProcessServer {
  NarrowHttpServer()
      : InProcessServer("    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_faulty_service.so\n",
                        {"server:\n  httpThreads: 1\n  readHeaderTimeoutSeconds: 1\n"}) {}
};

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

http::response<http::string_body> Exchange(beast::tcp_stream& stream, int port, const std::string& target) {
  http::request<http::string_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.keep_alive(true);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res;
}

}  // namespace

TEST_CASE("Slow REST calls hold no I/O thread: the health check is answered meanwhile", "[integration]") {
  NarrowHttpServer s;
  // Three calls that each take a second ("slow" in the fixture) on the only I/O thread.
  std::vector<std::thread> slow;
  std::atomic<int> slow_ok{0};
  for (int i = 0; i < 3; ++i) {
    slow.emplace_back([&] {
      if (test::Http(s.http_port, "GET", "/api/v1/signals/p/d/slow").status == 200) slow_ok++;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto before = std::chrono::steady_clock::now();
  CHECK(test::Http(s.http_port, "GET", "/healthcheck").status == 200);
  const auto waited = std::chrono::steady_clock::now() - before;
  for (auto& t : slow) t.join();
  CHECK(slow_ok == 3);
  // Answered while the slow calls run, not after them (each sleeps a whole second).
  CHECK(waited < std::chrono::milliseconds(700));
}

TEST_CASE("A kept-alive REST connection may idle past the header timeout; a silent new one may not",
          "[integration]") {
  NarrowHttpServer s;
  boost::asio::io_context io;
  const tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(s.http_port));
  {
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(endpoint);
    CHECK(Exchange(stream, s.http_port, "/healthcheck").result_int() == 200);
    // Idle for twice the header timeout, then the next request on the same connection.
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    stream.expires_after(std::chrono::seconds(30));
    CHECK(Exchange(stream, s.http_port, "/healthcheck").result_int() == 200);
  }
  {
    // A connection that never sends its first request is closed after the header timeout.
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(endpoint);
    std::array<char, 16> scratch{};
    beast::error_code ec;
    const auto before = std::chrono::steady_clock::now();
    stream.read_some(boost::asio::buffer(scratch), ec);
    CHECK(ec == boost::asio::error::eof);
    CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(10));
  }
}

TEST_CASE("REST path and query values that are not UTF-8 are refused before the handler, as upstream",
          "[integration]") {
  Server s;
  for (const std::string target : {"/api/v1/signals/p/d/bad%FFname", "/api/v1/signals/p/d/n?filters=%C3%28"}) {
    INFO(target);
    auto res = test::Http(s.http_port, "GET", target, "", {{"Accept", "application/json"}});
    CHECK(res.status == 500);
    auto body = nlohmann::json::parse(res.body);
    CHECK(body["code"] == 13);
    CHECK(body["message"] == "grpc: error while marshaling: string field contains invalid UTF-8");
  }
  // Valid UTF-8 beyond ASCII goes through.
  CHECK(test::Http(s.http_port, "GET", "/api/v1/signals/p/d/caf%C3%A9").status == 200);
}
