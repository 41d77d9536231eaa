// The default interceptors, linked as libraries: recovery, request id, metrics.
#include <chrono>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "flyteidl/admin/version.pb.h"
#include "metrics.h"
#include "recovery.h"
#include "request_id.h"

using namespace flyte;

namespace {

class Fn : public plugin::UnaryNext {
 public:
  explicit Fn(std::function<plugin::Status(plugin::CallContext&)> f) : f_(std::move(f)) {}
  plugin::Status operator()(plugin::CallContext& c, const google::protobuf::Message&,
                            google::protobuf::Message&) const override {
    return f_(c);
  }

 private:
  std::function<plugin::Status(plugin::CallContext&)> f_;
};

// The asynchronous rest of a chain, as a function of the call and its callback.
class AsyncFn : public plugin::UnaryNextAsync {
 public:
  explicit AsyncFn(std::function<void(plugin::CallContext&, google::protobuf::Message&, plugin::UnaryCallback)> f)
      : f_(std::move(f)) {}
  void operator()(plugin::CallContext& c, const google::protobuf::Message&, google::protobuf::Message& r,
                  plugin::UnaryCallback done) const override {
    f_(c, r, std::move(done));
  }

 private:
  std::function<void(plugin::CallContext&, google::protobuf::Message&, plugin::UnaryCallback)> f_;
};

// Every answer a call's `done` received.
struct Answers {
  std::vector<plugin::Status> got;
  plugin::UnaryCallback Callback() {
    return [this](plugin::Status s) { got.push_back(std::move(s)); };
  }
};

flyteidl::admin::GetVersionRequest req;
flyteidl::admin::GetVersionResponse resp;

}  // namespace

TEST_CASE("Recovery answers INTERNAL for any exception and counts it", "[unit]") {
  prometheus::Registry registry;
  auto& counter = prometheus::BuildCounter().Name("panics").Register(registry).Add({});
  plugins::RecoveryInterceptor r(
      std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::null_sink_mt>()), &counter);
  plugin::CallContext call("/a.B/C", {}, "", false);
  Fn throws_std([](plugin::CallContext&) -> plugin::Status { throw std::runtime_error("boom"); });
  Fn throws_int([](plugin::CallContext&) -> plugin::Status { throw 7; });
  Fn fine([](plugin::CallContext&) { return plugin::NotFound("missing"); });
  CHECK(r.Intercept(call, req, resp, throws_std).code() == plugin::StatusCode::kInternal);
  CHECK(r.Intercept(call, req, resp, throws_int).code() == plugin::StatusCode::kInternal);
  CHECK(r.Intercept(call, req, resp, fine).code() == plugin::StatusCode::kNotFound);
  CHECK(counter.Value() == 2);
}

TEST_CASE("Request id is taken from metadata or generated, echoed and current while the call runs", "[unit]") {
  plugins::RequestIdInterceptor r;
  std::string seen;
  Fn record([&](plugin::CallContext&) {
    seen = plugin::CurrentRequestId();
    return plugin::Status::Ok();
  });
  plugin::CallContext given("/a.B/C", {{"x-request-id", "abc-123"}}, "", false);
  REQUIRE(r.Intercept(given, req, resp, record).ok());
  CHECK(seen == "abc-123");
  REQUIRE(given.outgoing().size() == 1);
  CHECK(given.outgoing()[0] == std::make_pair(std::string("x-request-id"), std::string("abc-123")));
  CHECK(plugin::CurrentRequestId().empty());

  plugin::CallContext fresh("/a.B/C", {}, "", false);
  REQUIRE(r.Intercept(fresh, req, resp, record).ok());
  CHECK(seen.size() == 22);
  CHECK(seen.rfind("a-", 0) == 0);
  CHECK(seen.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789", 2) == std::string::npos);
  CHECK(fresh.request_id() == seen);
  CHECK(plugins::GenerateRequestId() != plugins::GenerateRequestId());

  // An id that is not printable ASCII of at most 256 characters is neither echoed nor logged.
  for (const std::string& bad : {std::string("caf\xc3\xa9"), std::string("a\nb"), std::string(257, 'x')}) {
    plugin::CallContext odd("/a.B/C", {{"x-request-id", bad}}, "", false);
    REQUIRE(r.Intercept(odd, req, resp, record).ok());
    CHECK(seen.rfind("a-", 0) == 0);
    CHECK(seen.size() == 22);
    CHECK(odd.outgoing()[0].second == seen);
  }
  plugin::CallContext longest("/a.B/C", {{"x-request-id", std::string(256, 'x')}}, "", false);
  REQUIRE(r.Intercept(longest, req, resp, record).ok());
  CHECK(seen == std::string(256, 'x'));
}

TEST_CASE("Metrics count calls by method and code with a latency histogram", "[unit]") {
  prometheus::Registry registry;
  plugins::MetricsInterceptor m(registry, true);
  plugin::CallContext call("/flyteidl.service.AdminService/GetVersion", {}, "", false);
  Fn ok([](plugin::CallContext&) { return plugin::Status::Ok(); });
  Fn missing([](plugin::CallContext&) { return plugin::NotFound("x"); });
  REQUIRE(m.Intercept(call, req, resp, ok).ok());
  REQUIRE(m.Intercept(call, req, resp, ok).ok());
  REQUIRE(m.Intercept(call, req, resp, missing).code() == plugin::StatusCode::kNotFound);
  std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  CHECK_THAT(text, Catch::Contains(
      R"(grpc_server_handled_total{grpc_code="OK",grpc_method="GetVersion",grpc_service="flyteidl.service.AdminService",grpc_type="unary"} 2)"));
  CHECK_THAT(text, Catch::Contains(R"(grpc_code="NotFound")"));
  CHECK_THAT(text, Catch::Contains(
      R"(grpc_server_started_total{grpc_method="GetVersion",grpc_service="flyteidl.service.AdminService",grpc_type="unary"} 3)"));
  CHECK_THAT(text, Catch::Contains("grpc_server_handling_seconds_count"));
}

TEST_CASE("Recovery's asynchronous form answers INTERNAL for an exception once, as Intercept does", "[unit]") {
  prometheus::Registry registry;
  auto& counter = prometheus::BuildCounter().Name("panics").Register(registry).Add({});
  std::ostringstream logged;
  plugins::RecoveryInterceptor r(
      std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(logged)), &counter);
  CHECK(r.SupportsAsync());
  plugin::CallContext call("/a.B/C", {}, "", false);
  flyteidl::admin::GetVersionResponse filled;
  filled.mutable_control_plane_version()->set_version("partial");

  AsyncFn throws_std([](plugin::CallContext&, google::protobuf::Message&, plugin::UnaryCallback) {
    throw std::runtime_error("boom");
  });
  Answers a;
  r.InterceptAsync(call, req, filled, throws_std, a.Callback());
  REQUIRE(a.got.size() == 1);
  CHECK(a.got[0].code() == plugin::StatusCode::kInternal);
  CHECK(a.got[0].message().empty());
  CHECK_FALSE(filled.has_control_plane_version());
  CHECK_THAT(logged.str(), Catch::Contains("recovered from a failure in /a.B/C: boom"));

  AsyncFn throws_int([](plugin::CallContext&, google::protobuf::Message&, plugin::UnaryCallback) { throw 7; });
  Answers b;
  r.InterceptAsync(call, req, resp, throws_int, b.Callback());
  REQUIRE(b.got.size() == 1);
  CHECK(b.got[0].code() == plugin::StatusCode::kInternal);
  CHECK_THAT(logged.str(), Catch::Contains("a non-standard exception"));

  // Answered, then threw: the answer stands, the failure is still counted and logged.
  AsyncFn answers_then_throws([](plugin::CallContext&, google::protobuf::Message&, plugin::UnaryCallback done) {
    done(plugin::NotFound("missing"));
    throw std::runtime_error("late");
  });
  Answers c;
  r.InterceptAsync(call, req, resp, answers_then_throws, c.Callback());
  REQUIRE(c.got.size() == 1);
  CHECK(c.got[0].code() == plugin::StatusCode::kNotFound);
  CHECK_THAT(logged.str(), Catch::Contains("after it was answered: late"));

  // An answer from another thread passes through untouched.
  std::thread answering;
  AsyncFn later([&](plugin::CallContext&, google::protobuf::Message&, plugin::UnaryCallback done) {
    answering = std::thread([done = std::move(done)] { done(plugin::Status(plugin::StatusCode::kAborted, "x")); });
  });
  Answers d;
  r.InterceptAsync(call, req, resp, later, d.Callback());
  answering.join();
  REQUIRE(d.got.size() == 1);
  CHECK(d.got[0].code() == plugin::StatusCode::kAborted);
  CHECK(counter.Value() == 3);
}

TEST_CASE("Request id's asynchronous form sets, echoes and scopes the id as Intercept does", "[unit]") {
  plugins::RequestIdInterceptor r;
  CHECK(r.SupportsAsync());
  std::string seen;
  plugin::UnaryCallback kept;
  AsyncFn record([&](plugin::CallContext&, google::protobuf::Message&, plugin::UnaryCallback done) {
    seen = plugin::CurrentRequestId();
    kept = std::move(done);
  });
  plugin::CallContext given("/a.B/C", {{"x-request-id", "abc-123"}}, "", false);
  Answers a;
  r.InterceptAsync(given, req, resp, record, a.Callback());
  CHECK(seen == "abc-123");
  CHECK(plugin::CurrentRequestId().empty());
  REQUIRE(given.outgoing().size() == 1);
  CHECK(given.outgoing()[0] == std::make_pair(std::string("x-request-id"), std::string("abc-123")));
  // The answer passes through when it comes.
  CHECK(a.got.empty());
  kept(plugin::NotFound("x"));
  REQUIRE(a.got.size() == 1);
  CHECK(a.got[0].code() == plugin::StatusCode::kNotFound);

  plugin::CallContext fresh("/a.B/C", {}, "", false);
  Answers b;
  r.InterceptAsync(fresh, req, resp, record, b.Callback());
  CHECK(seen.size() == 22);
  CHECK(seen.rfind("a-", 0) == 0);
  CHECK(fresh.request_id() == seen);
}

TEST_CASE("Metrics' asynchronous form counts the call when it is answered, with its latency", "[unit]") {
  prometheus::Registry registry;
  plugins::MetricsInterceptor m(registry, true);
  CHECK(m.SupportsAsync());
  plugin::CallContext call("/flyteidl.service.AdminService/GetVersion", {}, "", false);
  std::vector<plugin::UnaryCallback> pending;
  AsyncFn keep([&](plugin::CallContext&, google::protobuf::Message&, plugin::UnaryCallback done) {
    pending.push_back(std::move(done));
  });
  Answers answers;
  m.InterceptAsync(call, req, resp, keep, answers.Callback());
  m.InterceptAsync(call, req, resp, keep, answers.Callback());
  auto text = [&] { return prometheus::TextSerializer().Serialize(registry.Collect()); };
  const std::string labels =
      R"(grpc_method="GetVersion",grpc_service="flyteidl.service.AdminService",grpc_type="unary")";
  CHECK_THAT(text(), Catch::Contains("grpc_server_started_total{" + labels + "} 2"));
  CHECK_THAT(text(), !Catch::Contains("grpc_server_handled_total{"));

  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  std::thread([&] { pending[0](plugin::Status::Ok()); }).join();
  pending[1](plugin::NotFound("x"));
  REQUIRE(answers.got.size() == 2);
  CHECK(answers.got[0].ok());
  CHECK(answers.got[1].code() == plugin::StatusCode::kNotFound);
  std::string after = text();
  CHECK_THAT(after, Catch::Contains(R"(grpc_server_handled_total{grpc_code="OK",)" + labels + "} 1"));
  CHECK_THAT(after, Catch::Contains(R"(grpc_server_handled_total{grpc_code="NotFound",)" + labels + "} 1"));
  CHECK_THAT(after, Catch::Contains("grpc_server_msg_sent_total{" + labels + "} 1"));
  CHECK_THAT(after, Catch::Contains("grpc_server_handling_seconds_count{" + labels + "} 2"));
  // Both waited at least 60 ms for their answers.
  auto at = after.find("grpc_server_handling_seconds_sum{" + labels + "} ");
  REQUIRE(at != std::string::npos);
  double sum = std::stod(after.substr(after.find("} ", at) + 2));
  CHECK(sum >= 0.12);
}
