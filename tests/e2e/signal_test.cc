// SignalService on the built server: GetOrCreateSignal, SetSignal and ListSignals over gRPC and
// REST, on SQLite and PostgreSQL, with upstream's validation texts and codes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "flyteidl/service/signal.grpc.pb.h"
#include "literals.h"
#include "served_server.h"
#include "test_support.h"

using namespace flyte;
using flyteidl::service::SignalService;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

using test::Int;
using test::Simple;
using test::Str;

constexpr const char* kProject = "flytesnacks";
constexpr const char* kDomain = "development";

struct SignalServer {
  explicit SignalServer(const std::string& layer = "")
      : served("    - name: flyte_manager_signal\n",
               layer.empty() ? std::vector<std::string>{} : std::vector<std::string>{layer}),
        stub(SignalService::NewStub(served.channel())) {}
  test::ServedServer served;
  std::unique_ptr<SignalService::Stub> stub;
};

core::SignalIdentifier Id(const std::string& execution, const std::string& signal) {
  core::SignalIdentifier id;
  id.mutable_execution_id()->set_project(kProject);
  id.mutable_execution_id()->set_domain(kDomain);
  id.mutable_execution_id()->set_name(execution);
  id.set_signal_id(signal);
  return id;
}

struct Client {
  SignalService::Stub& stub;

  grpc::Status GetOrCreate(const admin::SignalGetOrCreateRequest& req, admin::Signal* out = nullptr) {
    grpc::ClientContext ctx;
    admin::Signal resp;
    auto s = stub.GetOrCreateSignal(&ctx, req, &resp);
    if (out) *out = resp;
    return s;
  }
  grpc::Status GetOrCreate(const core::SignalIdentifier& id, const core::LiteralType& type,
                           admin::Signal* out = nullptr) {
    admin::SignalGetOrCreateRequest req;
    *req.mutable_id() = id;
    *req.mutable_type() = type;
    return GetOrCreate(req, out);
  }
  grpc::Status Set(const admin::SignalSetRequest& req) {
    grpc::ClientContext ctx;
    admin::SignalSetResponse resp;
    return stub.SetSignal(&ctx, req, &resp);
  }
  grpc::Status Set(const core::SignalIdentifier& id, const core::Literal& value) {
    admin::SignalSetRequest req;
    *req.mutable_id() = id;
    *req.mutable_value() = value;
    return Set(req);
  }
  grpc::Status List(const admin::SignalListRequest& req, admin::SignalList* out = nullptr) {
    grpc::ClientContext ctx;
    admin::SignalList resp;
    auto s = stub.ListSignals(&ctx, req, &resp);
    if (out) *out = resp;
    return s;
  }
};

admin::SignalListRequest ListRequest(const std::string& execution, uint32_t limit) {
  admin::SignalListRequest req;
  req.mutable_workflow_execution_id()->set_project(kProject);
  req.mutable_workflow_execution_id()->set_domain(kDomain);
  req.mutable_workflow_execution_id()->set_name(execution);
  req.set_limit(limit);
  return req;
}

std::vector<std::string> SignalIds(const admin::SignalList& list) {
  std::vector<std::string> ids;
  for (const auto& s : list.signals()) ids.push_back(s.id().signal_id());
  return ids;
}

void CheckInvalid(const grpc::Status& s, const std::string& message) {
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == message);
}

}  // namespace

TEST_CASE("Signals are created once, set when the value's type matches, and listed", "[e2e]") {
  std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgres");
  INFO("backend " << backend);
  SignalServer server(backend == "postgres" ? test::PostgresLayer("e2e_sig_" + std::to_string(test::FreePort())) : "");
  Client c{*server.stub};

  // GetOrCreate twice answers the same signal, without a value until SetSignal.
  admin::Signal first, second;
  REQUIRE(c.GetOrCreate(Id("exec1", "approve"), Simple(core::INTEGER), &first).ok());
  CHECK(first.id().execution_id().project() == kProject);
  CHECK(first.id().execution_id().domain() == kDomain);
  CHECK(first.id().execution_id().name() == "exec1");
  CHECK(first.id().signal_id() == "approve");
  CHECK(first.type().simple() == core::INTEGER);
  CHECK_FALSE(first.has_value());
  REQUIRE(c.GetOrCreate(Id("exec1", "approve"), Simple(core::INTEGER), &second).ok());
  CHECK(second.SerializeAsString() == first.SerializeAsString());

  // The same id with another type collides with the stored key.
  CHECK(c.GetOrCreate(Id("exec1", "approve"), Simple(core::STRING)).error_code() ==
        grpc::StatusCode::ALREADY_EXISTS);

  // First calls at once (gate nodes of several propeller rounds): all answer the one signal.
  {
    constexpr int kCalls = 8;
    auto results = test::Concurrently(kCalls, [&](int) {
      auto stub = SignalService::NewStub(server.served.channel());
      Client mine{*stub};
      return mine.GetOrCreate(Id("exec-race", "raced"), Simple(core::BOOLEAN));
    });
    for (const auto& r : results) {
      INFO(r.error_message());
      CHECK(r.ok());
    }
  }

  // A matching literal is stored and shows on the next GetOrCreate; setting again overwrites.
  REQUIRE(c.Set(Id("exec1", "approve"), Int(42)).ok());
  admin::Signal got;
  REQUIRE(c.GetOrCreate(Id("exec1", "approve"), Simple(core::INTEGER), &got).ok());
  REQUIRE(got.has_value());
  CHECK(got.value().scalar().primitive().integer() == 42);
  REQUIRE(c.Set(Id("exec1", "approve"), Int(7)).ok());
  REQUIRE(c.GetOrCreate(Id("exec1", "approve"), Simple(core::INTEGER), &got).ok());
  CHECK(got.value().scalar().primitive().integer() == 7);

  // A literal of another type is refused with upstream's text (the stored type as Go bytes).
  CheckInvalid(c.Set(Id("exec1", "approve"), Str("yes")),
               "requested signal value [scalar:{primitive:{string_value:\"yes\"}}] is not castable to "
               "existing signal type [[8 1]]");
  // An unknown signal cannot be set.
  CheckInvalid(c.Set(Id("exec1", "nope"), Int(1)),
               "failed to validate that signal [{{flytesnacks development exec1} nope}] exists, err: "
               "[signal does not exist]");

  // Listing: by execution, with filters, sort, and pages.
  REQUIRE(c.GetOrCreate(Id("exec1", "b"), Simple(core::STRING)).ok());
  REQUIRE(c.GetOrCreate(Id("exec1", "c"), Simple(core::BOOLEAN)).ok());
  REQUIRE(c.GetOrCreate(Id("exec2", "other"), Simple(core::STRING)).ok());

  admin::SignalList list;
  auto req = ListRequest("exec1", 10);
  req.mutable_sort_by()->set_key("signal_id");
  req.mutable_sort_by()->set_direction(admin::Sort::ASCENDING);
  REQUIRE(c.List(req, &list).ok());
  CHECK(SignalIds(list) == std::vector<std::string>{"approve", "b", "c"});
  CHECK(list.token().empty());
  CHECK(list.signals(0).value().scalar().primitive().integer() == 7);
  CHECK_FALSE(list.signals(1).has_value());

  req.set_limit(2);
  REQUIRE(c.List(req, &list).ok());
  CHECK(SignalIds(list) == std::vector<std::string>{"approve", "b"});
  CHECK(list.token() == "2");
  req.set_token(list.token());
  REQUIRE(c.List(req, &list).ok());
  CHECK(SignalIds(list) == std::vector<std::string>{"c"});
  CHECK(list.token().empty());

  req.set_token("");
  req.set_limit(10);
  req.set_filters("ne(signal_id,b)");
  REQUIRE(c.List(req, &list).ok());
  CHECK(SignalIds(list) == std::vector<std::string>{"approve", "c"});
  req.set_filters("value_in(signal_id,b;c;other)");
  REQUIRE(c.List(req, &list).ok());
  CHECK(SignalIds(list) == std::vector<std::string>{"b", "c"});

  REQUIRE(c.List(ListRequest("exec2", 10), &list).ok());
  CHECK(SignalIds(list) == std::vector<std::string>{"other"});
  REQUIRE(c.List(ListRequest("exec3", 10), &list).ok());
  CHECK(list.signals().empty());
}

TEST_CASE("Signal requests are validated as upstream validates them", "[e2e]") {
  SignalServer server;
  Client c{*server.stub};

  admin::SignalGetOrCreateRequest goc;
  CheckInvalid(c.GetOrCreate(goc), "missing id");
  goc.mutable_id()->set_signal_id("s");
  CheckInvalid(c.GetOrCreate(goc), "missing execution_id");
  *goc.mutable_id() = Id("exec1", "");
  CheckInvalid(c.GetOrCreate(goc), "missing signal_id");
  *goc.mutable_id() = Id("exec1", "s");
  goc.mutable_id()->mutable_execution_id()->clear_project();
  CheckInvalid(c.GetOrCreate(goc), "missing project");
  *goc.mutable_id() = Id("exec1", "s");
  goc.mutable_id()->mutable_execution_id()->clear_domain();
  CheckInvalid(c.GetOrCreate(goc), "missing domain");
  *goc.mutable_id() = Id("", "s");
  CheckInvalid(c.GetOrCreate(goc), "missing name");
  *goc.mutable_id() = Id("exec1", "s");
  CheckInvalid(c.GetOrCreate(goc), "missing type");

  admin::SignalSetRequest set;
  CheckInvalid(c.Set(set), "missing id");
  *set.mutable_id() = Id("exec1", "");
  CheckInvalid(c.Set(set), "missing signal_id");
  *set.mutable_id() = Id("exec1", "s");
  CheckInvalid(c.Set(set), "missing value");

  admin::SignalListRequest list;
  list.set_limit(10);
  CheckInvalid(c.List(list), "missing execution_id");
  list = ListRequest("", 10);
  CheckInvalid(c.List(list), "missing execution_id");
  CheckInvalid(c.List(ListRequest("exec1", 0)), "invalid value for limit");
  auto bad = ListRequest("exec1", 10);
  bad.set_token("abc");
  CheckInvalid(c.List(bad), "invalid pagination token abc for ListSignals");
  bad = ListRequest("exec1", 10);
  bad.mutable_sort_by()->set_key("bogus");
  CheckInvalid(c.List(bad), "invalid sort key 'bogus'");
  bad = ListRequest("exec1", 10);
  bad.set_filters("eq(bogus,1)");
  CheckInvalid(c.List(bad), "'s.bogus' is invalid filter");
  bad.set_filters("eq(workflow.name,x)");
  CheckInvalid(c.List(bad), "'w' entity is not allowed in filters");
}

TEST_CASE("Signals are served over REST in the gateway's JSON shape", "[e2e]") {
  SignalServer server;
  Client c{*server.stub};
  const std::vector<std::pair<std::string, std::string>> json{{"Accept", "application/json"},
                                                              {"Content-Type", "application/json"}};
  auto http = [&](const std::string& method, const std::string& target, const std::string& body = "") {
    return test::Http(server.served.http_port, method, target, body, json);
  };

  // GetOrCreateSignal has no HTTP binding; create over gRPC.
  REQUIRE(c.GetOrCreate(Id("exec1", "approve"), Simple(core::INTEGER)).ok());
  REQUIRE(c.GetOrCreate(Id("exec1", "b"), Simple(core::STRING)).ok());

  auto set = http("POST", "/api/v1/signals",
                  R"({"id": {"execution_id": {"project": "flytesnacks", "domain": "development", "name": "exec1"},
                             "signal_id": "approve"},
                      "value": {"scalar": {"primitive": {"integer": "5"}}}})");
  INFO(set.body);
  REQUIRE(set.status == 200);

  auto mismatch = http("POST", "/api/v1/signals",
                       R"({"id": {"execution_id": {"project": "flytesnacks", "domain": "development", "name": "exec1"},
                                  "signal_id": "b"},
                           "value": {"scalar": {"primitive": {"integer": "5"}}}})");
  CHECK(mismatch.status == 400);
  CHECK(nlohmann::json::parse(mismatch.body)["message"] ==
        "requested signal value [scalar:{primitive:{integer:5}}] is not castable to existing signal type [[8 3]]");

  auto missing = http("POST", "/api/v1/signals", R"({"value": {"scalar": {"primitive": {"integer": "5"}}}})");
  CHECK(missing.status == 400);
  CHECK(nlohmann::json::parse(missing.body)["message"] == "missing id");

  auto listed = http("GET", "/api/v1/signals/flytesnacks/development/exec1?limit=1&sort_by.key=signal_id&sort_by.direction=ASCENDING");
  INFO(listed.body);
  REQUIRE(listed.status == 200);
  auto body = nlohmann::json::parse(listed.body);
  REQUIRE(body["signals"].size() == 1);
  CHECK(body["signals"][0]["id"]["signal_id"] == "approve");
  CHECK(body["signals"][0]["id"]["execution_id"]["name"] == "exec1");
  CHECK(body["signals"][0]["type"]["simple"] == "INTEGER");
  CHECK(body["signals"][0]["value"]["scalar"]["primitive"]["integer"] == "5");
  CHECK(body["token"] == "1");

  auto page2 = http("GET", "/api/v1/signals/flytesnacks/development/exec1?limit=1&token=1&sort_by.key=signal_id&sort_by.direction=ASCENDING");
  REQUIRE(page2.status == 200);
  auto body2 = nlohmann::json::parse(page2.body);
  REQUIRE(body2["signals"].size() == 1);
  CHECK(body2["signals"][0]["id"]["signal_id"] == "b");

  auto filtered = http("GET", "/api/v1/signals/flytesnacks/development/exec1?limit=10&filters=eq(signal_id,b)");
  REQUIRE(filtered.status == 200);
  auto body3 = nlohmann::json::parse(filtered.body);
  REQUIRE(body3["signals"].size() == 1);
  CHECK(body3["signals"][0]["id"]["signal_id"] == "b");

  auto no_limit = http("GET", "/api/v1/signals/flytesnacks/development/exec1");
  CHECK(no_limit.status == 400);
  CHECK(nlohmann::json::parse(no_limit.body)["message"] == "invalid value for limit");
}
