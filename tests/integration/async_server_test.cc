// The assembled server in-process with a method served by an asynchronous handler (the
// fixture_async_service plugin, answering from its own timer thread): gRPC and REST, many calls
// in flight, statuses with details, metadata added by the completing thread, and the fallback to
// the handler pool when an interceptor has no asynchronous form.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/registry.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "flyte/core/admin_server.h"
#include "flyte/core/build_info.h"
#include "flyte/core/plugin_host.h"
#include "flyteidl/admin/event.pb.h"
#include "flyteidl/admin/signal.pb.h"
#include "flyteidl/service/signal.grpc.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc_helpers.h"
#include "in_process_server.h"
#include "test_support.h"

using namespace flyte;

namespace {

// `plugin_config` is the fixture's config (YAML lines indented for its `config:` key);
// `server_yaml` a second document merged over the test config (server.* keys).
struct AsyncServer : test::InProcessServer {
  AsyncServer(const std::string& plugin_config, const std::string& server_yaml)
      : InProcessServer("    - path: " FLYTE_FIXTURE_PLUGIN_DIR "/libfixture_async_service.so\n"
                        "      config:\n" +
                            plugin_config,
                        {server_yaml}) {}
};

struct Answer {
  grpc::Status status;
  flyteidl::admin::SignalList list;
  std::multimap<std::string, std::string> metadata;
};

Answer ListSignals(flyteidl::service::SignalService::Stub& stub, const std::string& name,
                   const std::string& request_id = "") {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  if (!request_id.empty()) ctx.AddMetadata("x-request-id", request_id);
  flyteidl::admin::SignalListRequest req;
  req.mutable_workflow_execution_id()->set_project("p");
  req.mutable_workflow_execution_id()->set_domain("d");
  req.mutable_workflow_execution_id()->set_name(name);
  Answer a;
  a.status = stub.ListSignals(&ctx, req, &a.list);
  for (const auto& [k, v] : ctx.GetServerInitialMetadata()) {
    a.metadata.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  }
  return a;
}

std::string First(const std::multimap<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

// "in-flight=N" -> N.
int InFlight(const flyteidl::admin::SignalList& list) {
  const std::string& t = list.token();
  return t.rfind("in-flight=", 0) == 0 ? std::stoi(t.substr(10)) : -1;
}

const char* kMethodLabels = R"(grpc_method="ListSignals",grpc_service="flyteidl.service.SignalService",grpc_type="unary")";

}  // namespace

TEST_CASE("Sixty-four asynchronous calls are in flight at once with one handler thread", "[integration]") {
  // The fixture answers nothing until 64 calls are outstanding: reachable only if no call holds
  // a thread (the pool has one, gRPC's callback threads are few).
  AsyncServer s("        holdUntil: 64\n        delayMs: 50\n",
                "server:\n  grpc:\n    handlerThreads: 1\n");
  auto stub = flyteidl::service::SignalService::NewStub(test::Channel(s.grpc_port));
  std::vector<Answer> answers(64);
  std::vector<std::thread> threads;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&, i] {
      answers[i] = ListSignals(*stub, "call-" + std::to_string(i), "rid-" + std::to_string(i));
    });
  }
  for (auto& t : threads) t.join();
  auto elapsed = std::chrono::steady_clock::now() - started;
  int peak = 0;
  for (int i = 0; i < 64; ++i) {
    const Answer& a = answers[i];
    INFO("call " << i << ": " << a.status.error_message());
    REQUIRE(a.status.ok());
    REQUIRE(a.list.signals_size() == 1);
    CHECK(a.list.signals(0).id().signal_id() == "call-" + std::to_string(i));
    // One set by the request-id interceptor on the callback thread, one by the timer thread.
    CHECK(First(a.metadata, "x-request-id") == "rid-" + std::to_string(i));
    CHECK(First(a.metadata, "x-async-echo") == "call-" + std::to_string(i));
    peak = std::max(peak, InFlight(a.list));
  }
  CHECK(peak == 64);
  // The hold's own timeout (20 s) was not what released them.
  CHECK(elapsed < std::chrono::seconds(15));
}

TEST_CASE("gRPC and REST serve an asynchronous method concurrently", "[integration]") {
  AsyncServer s("        delayMs: 200\n", "server:\n  httpThreads: 16\n  grpc:\n    handlerThreads: 2\n");
  auto stub = flyteidl::service::SignalService::NewStub(test::Channel(s.grpc_port));
  std::vector<Answer> grpc_answers(32);
  std::vector<test::HttpResult> rest_answers(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&, i] { grpc_answers[i] = ListSignals(*stub, "g-" + std::to_string(i)); });
  }
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      rest_answers[i] = test::Http(s.http_port, "GET", "/api/v1/signals/p/d/r-" + std::to_string(i), "",
                                   {{"X-Request-Id", "rest-" + std::to_string(i)},
                                    {"Accept", "application/json"}});
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 32; ++i) {
    const Answer& a = grpc_answers[i];
    INFO("gRPC call " << i << ": " << a.status.error_message());
    REQUIRE(a.status.ok());
    REQUIRE(a.list.signals_size() == 1);
    CHECK(a.list.signals(0).id().signal_id() == "g-" + std::to_string(i));
    CHECK(First(a.metadata, "x-async-echo") == "g-" + std::to_string(i));
    CHECK(First(a.metadata, "x-request-id").rfind("a-", 0) == 0);
  }
  for (int i = 0; i < 16; ++i) {
    const test::HttpResult& r = rest_answers[i];
    INFO("REST call " << i << ": " << r.body);
    REQUIRE(r.status == 200);
    auto body = nlohmann::json::parse(r.body);
    CHECK(body["signals"][0]["id"]["signal_id"] == "r-" + std::to_string(i));
    CHECK(r.Header("grpc-metadata-x-async-echo") == "r-" + std::to_string(i));
    CHECK(r.Header("x-request-id") == "rest-" + std::to_string(i));
  }
}

TEST_CASE("An asynchronous handler's errors keep code, message and details over gRPC and REST", "[integration]") {
  AsyncServer s("        delayMs: 20\n", "server:\n  grpc:\n    handlerThreads: 1\n");
  auto stub = flyteidl::service::SignalService::NewStub(test::Channel(s.grpc_port));

  auto failed = ListSignals(*stub, "fail", "rid-fail");
  CHECK(failed.status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(failed.status.error_message() == "execution is terminal");
  CHECK(First(failed.metadata, "x-request-id") == "rid-fail");
  google::rpc::Status details;
  REQUIRE(details.ParseFromString(failed.status.error_details()));
  CHECK(details.code() == 9);
  REQUIRE(details.details_size() == 1);
  CHECK(details.details(0).type_url() == "type.googleapis.com/flyteidl.admin.EventFailureReason");
  flyteidl::admin::EventFailureReason reason;
  REQUIRE(details.details(0).UnpackTo(&reason));
  CHECK(reason.already_in_terminal_state().current_phase() == "SUCCEEDED");

  auto thrown = ListSignals(*stub, "throw");
  CHECK(thrown.status.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(thrown.status.error_message().empty());
  auto inline_answer = ListSignals(*stub, "inline");
  REQUIRE(inline_answer.status.ok());
  CHECK(inline_answer.list.signals(0).id().signal_id() == "inline");

  auto rest_failed = test::Http(s.http_port, "GET", "/api/v1/signals/p/d/fail", "",
                                {{"Accept", "application/json"}});
  CHECK(rest_failed.status == 400);
  auto body = nlohmann::json::parse(rest_failed.body);
  CHECK(body["code"] == 9);
  CHECK(body["message"] == "execution is terminal");
  REQUIRE(body["details"].size() == 1);
  CHECK(body["details"][0]["@type"] == "type.googleapis.com/flyteidl.admin.EventFailureReason");
  CHECK(test::Http(s.http_port, "GET", "/api/v1/signals/p/d/throw").status == 500);
  CHECK(test::Http(s.http_port, "GET", "/api/v1/signals/p/d/fine").status == 200);

  // Metrics count each call once, when it is answered, with latency until then.
  auto metrics = test::Http(s.http_port, "GET", "/metrics").body;
  CHECK_THAT(metrics, Catch::Contains("admin:handler_panic 2"));
  CHECK(test::MetricSample(metrics, std::string("grpc_server_started_total{") + kMethodLabels + "}") == 6);
  CHECK(test::MetricSample(metrics, std::string(R"(grpc_server_handled_total{grpc_code="OK",)") + kMethodLabels + "}") == 2);
  CHECK(test::MetricSample(metrics, std::string(R"(grpc_server_handled_total{grpc_code="FailedPrecondition",)") +
                            kMethodLabels + "}") == 2);
  CHECK(test::MetricSample(metrics, std::string("grpc_server_msg_sent_total{") + kMethodLabels + "}") == 2);
  // The two "fail" and the REST "fine" calls waited at least 20 ms for the timer thread.
  CHECK(test::MetricSample(metrics, std::string("grpc_server_handling_seconds_sum{") + kMethodLabels + "}") >= 0.06);
}

TEST_CASE("An interceptor without an asynchronous form sends asynchronous methods to the handler pool", "[integration]") {
  AsyncServer s("        delayMs: 100\n        syncInterceptor: true\n",
                "server:\n  grpc:\n    handlerThreads: 2\n");
  auto stub = flyteidl::service::SignalService::NewStub(test::Channel(s.grpc_port));
  std::vector<Answer> answers(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { answers[i] = ListSignals(*stub, "s-" + std::to_string(i)); });
  }
  for (auto& t : threads) t.join();
  int peak = 0;
  for (int i = 0; i < 8; ++i) {
    const Answer& a = answers[i];
    INFO("call " << i << ": " << a.status.error_message());
    REQUIRE(a.status.ok());
    CHECK(a.list.signals(0).id().signal_id() == "s-" + std::to_string(i));
    CHECK(First(a.metadata, "x-sync-link") == "1");
    CHECK(First(a.metadata, "x-async-echo") == "s-" + std::to_string(i));
    peak = std::max(peak, InFlight(a.list));
  }
  // Each of the two pool threads waits for its call's answer.
  CHECK(peak <= 2);
  CHECK(ListSignals(*stub, "throw").status.error_code() == grpc::StatusCode::INTERNAL);
  auto rest = test::Http(s.http_port, "GET", "/api/v1/signals/p/d/rest");
  REQUIRE(rest.status == 200);
  CHECK(rest.Header("grpc-metadata-x-sync-link") == "1");
}
