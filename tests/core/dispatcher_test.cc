// The dispatcher: declared methods, handler binding, chain order, last-resort recovery.
#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "flyte/core/dispatcher.h"
#include "flyteidl/admin/version.pb.h"
#include "google/rpc/status.pb.h"

using namespace flyte;

namespace {

std::shared_ptr<spdlog::logger> NullLogger() {
  return std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

class Recording : public plugin::UnaryInterceptor {
 public:
  Recording(std::string name, int order, std::vector<std::string>& log) : name_(std::move(name)), order_(order), log_(log) {}
  int Order() const override { return order_; }
  plugin::Status Intercept(plugin::CallContext& call, const google::protobuf::Message& req,
                           google::protobuf::Message& resp, const plugin::UnaryNext& next) override {
    log_.push_back(name_ + ">");
    auto s = next(call, req, resp);
    log_.push_back("<" + name_);
    return s;
  }

 private:
  std::string name_;
  int order_;
  std::vector<std::string>& log_;
};

const char* kGetVersion = "/flyteidl.service.AdminService/GetVersion";

}  // namespace

TEST_CASE("A declared method without a handler answers UNIMPLEMENTED naming it", "[unit]") {
  core::Dispatcher d(NullLogger());
  REQUIRE(d.DeclareService("flyteidl.service.AdminService").ok());
  const auto* entry = d.Find("/flyteidl.service.AdminService/CreateTask");
  REQUIRE(entry != nullptr);
  plugin::CallContext call(entry->grpc_path, {}, "", false);
  std::unique_ptr<google::protobuf::Message> req(entry->request_prototype->New());
  std::unique_ptr<google::protobuf::Message> resp(entry->response_prototype->New());
  auto s = d.Invoke(*entry, call, *req, *resp);
  CHECK(s.code() == plugin::StatusCode::kUnimplemented);
  CHECK_THAT(s.message(), Catch::Contains("flyteidl.service.AdminService/CreateTask"));
  CHECK(d.methods().size() >= 56);
}

TEST_CASE("Unknown services and methods are refused with the name", "[unit]") {
  core::Dispatcher d(NullLogger());
  CHECK(d.DeclareService("no.such.Service").code() == plugin::StatusCode::kInvalidArgument);
  auto s = d.AddUnary("flyteidl.service.AdminService/NoSuchMethod", {});
  CHECK(s.code() == plugin::StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("NoSuchMethod"));
  CHECK(d.AddUnary("NotQualified", {}).code() == plugin::StatusCode::kInvalidArgument);
}

TEST_CASE("A method served twice is refused", "[unit]") {
  core::Dispatcher d(NullLogger());
  auto ok = [](plugin::CallContext&, const google::protobuf::Message&, google::protobuf::Message&) {
    return plugin::Status::Ok();
  };
  REQUIRE(d.AddUnaryFor(kGetVersion, ok, "first").ok());
  auto s = d.AddUnaryFor(kGetVersion, ok, "second");
  CHECK(s.code() == plugin::StatusCode::kAlreadyExists);
  CHECK_THAT(s.message(), Catch::Contains("first"));
}

TEST_CASE("Interceptors run outermost first around the handler", "[unit]") {
  core::Dispatcher d(NullLogger());
  std::vector<std::string> log;
  REQUIRE(d.AddUnaryFor(kGetVersion,
                        [&](plugin::CallContext&, const google::protobuf::Message&, google::protobuf::Message& r) {
                          log.push_back("handler");
                          static_cast<flyteidl::admin::GetVersionResponse&>(r)
                              .mutable_control_plane_version()->set_version("v");
                          return plugin::Status::Ok();
                        },
                        "t").ok());
  d.SetChain({std::make_shared<Recording>("a", 1, log), std::make_shared<Recording>("b", 2, log)});
  const auto* entry = d.Find(kGetVersion);
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  REQUIRE(d.Invoke(*entry, call, req, resp).ok());
  CHECK(resp.control_plane_version().version() == "v");
  CHECK(log == std::vector<std::string>{"a>", "b>", "handler", "<b", "<a"});
}

TEST_CASE("An exception no interceptor catches becomes INTERNAL", "[unit]") {
  core::Dispatcher d(NullLogger());
  REQUIRE(d.AddUnaryFor(kGetVersion,
                        [](plugin::CallContext&, const google::protobuf::Message&,
                           google::protobuf::Message&) -> plugin::Status { throw std::logic_error("x"); },
                        "t").ok());
  const auto* entry = d.Find(kGetVersion);
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  CHECK(d.Invoke(*entry, call, req, resp).code() == plugin::StatusCode::kInternal);
}

TEST_CASE("Status details travel as a google.rpc.Status", "[unit]") {
  plugin::Status s(plugin::StatusCode::kFailedPrecondition, "terminal");
  s.AddDetail({"type.googleapis.com/flyteidl.admin.EventFailureReason", "\x0a\x02\x08\x04"});
  std::string bytes = core::StatusDetailsToRpcStatusBytes(s);
  google::rpc::Status rpc;
  REQUIRE(rpc.ParseFromString(bytes));
  CHECK(rpc.code() == 9);
  CHECK(rpc.message() == "terminal");
  REQUIRE(rpc.details_size() == 1);
  CHECK(rpc.details(0).type_url() == "type.googleapis.com/flyteidl.admin.EventFailureReason");
  CHECK(core::StatusDetailsToRpcStatusBytes(plugin::NotFound("x")).empty());
}
