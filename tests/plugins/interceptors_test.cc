// The default interceptors, linked as libraries: recovery, request id, metrics.
#include <catch2/catch.hpp>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/sinks/null_sink.h>
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
