// Unit tests of the REST gateway: routing of every flyteidl binding, template edge cases, the
// JSON shape, query parameters, Gateway::Handle against a fake invoker, and CORS.
#include "flyte/core/gateway.h"

#include <google/api/annotations.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/rpc/status.pb.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <cmath>
#include <limits>
#include <optional>
#include <map>
#include <memory>
#include <thread>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "flyte/proto/files.h"
#include "flyteidl/admin/common.pb.h"
#include "flyteidl/admin/event.pb.h"
#include "flyteidl/admin/execution.pb.h"
#include "flyteidl/admin/project.pb.h"
#include "flyteidl/admin/task.pb.h"
#include "flyteidl/admin/version.pb.h"
#include "flyteidl/core/literals.pb.h"
#include "flyteidl/core/tasks.pb.h"
#include "flyteidl/service/identity.pb.h"

namespace gw = flyte::core::gateway;
using google::protobuf::DescriptorPool;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;
using Json = nlohmann::json;

namespace {

std::vector<const ServiceDescriptor*> AllFlyteServices() {
  std::vector<const ServiceDescriptor*> out;
  for (const char* file : flyte::proto::kProtoFiles) {
    const auto* fd = DescriptorPool::generated_pool()->FindFileByName(file);
    REQUIRE(fd != nullptr);
    for (int i = 0; i < fd->service_count(); ++i) out.push_back(fd->service(i));
  }
  return out;
}

// A .proto file's descriptor written in protobuf's text format, for messages flyteidl lacks.
google::protobuf::FileDescriptorProto FileProto(const std::string& text) {
  google::protobuf::FileDescriptorProto file;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &file));
  return file;
}

const ServiceDescriptor* Service(const std::string& name) {
  const auto* s = DescriptorPool::generated_pool()->FindServiceByName(name);
  REQUIRE(s != nullptr);
  return s;
}

gw::Router ServedRouter() {
  // FlyteAdmin's gateway registers these five services (service.go).
  auto router = gw::Router::FromServices(
      {Service("flyteidl.service.AdminService"), Service("flyteidl.service.AuthMetadataService"),
       Service("flyteidl.service.IdentityService"), Service("flyteidl.service.DataProxyService"),
       Service("flyteidl.service.SignalService")});
  REQUIRE(router.ok());
  return std::move(router).value();
}

// A concrete path for a template: variables become "v<i>" (or their pattern with sample
// segments), "*" becomes "w", "**" becomes "a/b"; `expected` gets each variable's value.
std::string SamplePath(const std::string& tmpl,
                       std::vector<std::pair<std::string, std::string>>* expected) {
  std::string out;
  size_t i = 0;
  int var = 0;
  auto pattern_sample = [](const std::string& pattern) {
    std::string s;
    size_t start = 0;
    for (;;) {
      size_t slash = pattern.find('/', start);
      std::string seg = pattern.substr(start, slash == std::string::npos ? slash : slash - start);
      if (!s.empty()) s += "/";
      s += seg == "*" ? "w" : seg == "**" ? "a/b" : seg;
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    return s;
  };
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      size_t close = tmpl.find('}', i);
      std::string inner = tmpl.substr(i + 1, close - i - 1);
      size_t eq = inner.find('=');
      std::string name = inner.substr(0, eq);
      std::string value = eq == std::string::npos ? "v" + std::to_string(var++)
                                                  : pattern_sample(inner.substr(eq + 1));
      expected->emplace_back(name, value);
      out += value;
      i = close + 1;
    } else if (tmpl.compare(i, 3, "/**") == 0 &&
               (i + 3 == tmpl.size() || tmpl[i + 3] == '/' || tmpl[i + 3] == ':')) {
      out += "/a/b";
      i += 3;
    } else if (tmpl.compare(i, 2, "/*") == 0 &&
               (i + 2 == tmpl.size() || tmpl[i + 2] == '/' || tmpl[i + 2] == ':')) {
      out += "/w";
      i += 2;
    } else {
      out += tmpl[i++];
    }
  }
  return out;
}

struct Binding {
  std::string name;
  std::string http_method;
  std::string path;
  std::string body{};
  std::string input = "google.protobuf.Empty";
  std::string output = "google.protobuf.Empty";
  std::string response_body{};
};

// A service built at run time in a pool layered over the generated one, so its methods carry
// arbitrary google.api.http options while their messages stay generated types.
struct TestService {
  std::unique_ptr<DescriptorPool> pool;
  const ServiceDescriptor* service = nullptr;
};

TestService MakeService(const std::vector<Binding>& bindings) {
  static int counter = 0;
  TestService ts;
  ts.pool = std::make_unique<DescriptorPool>(DescriptorPool::generated_pool());
  google::protobuf::FileDescriptorProto file;
  file.set_name("gateway_test_" + std::to_string(counter++) + ".proto");
  file.set_package("gwtest");
  file.set_syntax("proto3");
  std::set<std::string> deps;
  auto* svc = file.add_service();
  svc->set_name("TestService");
  for (const auto& b : bindings) {
    for (const auto& type : {b.input, b.output}) {
      const auto* d = DescriptorPool::generated_pool()->FindMessageTypeByName(type);
      REQUIRE(d != nullptr);
      deps.insert(d->file()->name());
    }
    auto* m = svc->add_method();
    m->set_name(b.name);
    m->set_input_type("." + b.input);
    m->set_output_type("." + b.output);
    auto* rule = m->mutable_options()->MutableExtension(google::api::http);
    if (b.http_method == "GET") {
      rule->set_get(b.path);
    } else if (b.http_method == "POST") {
      rule->set_post(b.path);
    } else if (b.http_method == "PUT") {
      rule->set_put(b.path);
    } else if (b.http_method == "DELETE") {
      rule->set_delete_(b.path);
    } else if (b.http_method == "PATCH") {
      rule->set_patch(b.path);
    } else {
      rule->mutable_custom()->set_kind(b.http_method);
      rule->mutable_custom()->set_path(b.path);
    }
    rule->set_body(b.body);
    rule->set_response_body(b.response_body);
  }
  for (const auto& d : deps) file.add_dependency(d);
  const auto* built = ts.pool->BuildFile(file);
  REQUIRE(built != nullptr);
  ts.service = built->service(0);
  return ts;
}

gw::Router RouterFor(const TestService& ts) {
  auto r = gw::Router::FromServices({ts.service});
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string ParamOf(const gw::RouteMatch& m, const std::string& name) {
  for (const auto& [k, v] : m.path_params) {
    if (k == name) return v;
  }
  return "<absent>";
}

std::string HeaderOf(const gw::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

// Records the last call and answers with a canned response or status.
struct FakeInvoker {
  struct Call {
    std::string method;
    std::string request_json;
    std::multimap<std::string, std::string> metadata;
    std::string peer;
    bool from_http = false;
  };
  std::shared_ptr<std::vector<Call>> calls = std::make_shared<std::vector<Call>>();
  std::shared_ptr<std::unique_ptr<Message>> last_request =
      std::make_shared<std::unique_ptr<Message>>();
  std::function<flyte::plugin::Status(const MethodDescriptor&, flyte::plugin::CallContext&,
                                      const Message&, Message&)>
      respond;

  gw::Invoker AsInvoker() {
    auto calls_ptr = calls;
    auto last = last_request;
    auto respond_fn = respond;
    return [calls_ptr, last, respond_fn](const MethodDescriptor& method,
                                         flyte::plugin::CallContext& call, const Message& request,
                                         Message& response) {
      Call c;
      c.method = call.full_method();
      google::protobuf::util::JsonPrintOptions opts;
      opts.preserve_proto_field_names = true;
      (void)google::protobuf::util::MessageToJsonString(request, &c.request_json, opts);
      c.metadata = call.incoming();
      c.peer = call.peer();
      c.from_http = call.from_http();
      calls_ptr->push_back(std::move(c));
      last->reset(request.New());
      (*last)->CopyFrom(request);
      if (respond_fn) return respond_fn(method, call, request, response);
      return flyte::plugin::Status::Ok();
    };
  }
};

gw::HttpRequest Get(const std::string& target, std::multimap<std::string, std::string> headers = {
                                                   {"accept", "application/json"}}) {
  gw::HttpRequest r;
  r.method = "GET";
  r.target = target;
  r.headers = std::move(headers);
  r.peer = "ipv4:10.1.2.3:5555";
  return r;
}

gw::HttpRequest Post(const std::string& target, std::string body,
                     const std::string& content_type = "application/json") {
  gw::HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.emplace("content-type", content_type);
  r.peer = "ipv4:10.1.2.3:5555";
  return r;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Routing

TEST_CASE("Every google.api.http binding of flyteidl routes its own sample path back to itself",
          "[unit]") {
  auto services = AllFlyteServices();
  auto router_or = gw::Router::FromServices(services);
  REQUIRE(router_or.ok());
  const gw::Router& router = router_or.value();

  // Count the bindings independently of the router.
  size_t expected_routes = 0;
  size_t admin_methods_with_http = 0;
  for (const auto* s : services) {
    for (int i = 0; i < s->method_count(); ++i) {
      const auto& opts = s->method(i)->options();
      if (!opts.HasExtension(google::api::http)) continue;
      expected_routes += 1 + opts.GetExtension(google::api::http).additional_bindings_size();
      if (s->full_name() == "flyteidl.service.AdminService") ++admin_methods_with_http;
    }
  }
  CHECK(admin_methods_with_http == 56);
  CHECK(Service("flyteidl.service.AdminService")->method_count() == 56);
  CHECK(router.routes().size() == expected_routes);
  // 56 admin RPCs + 4 additional bindings, plus auth, identity, data proxy, signal and agents.
  CHECK(router.routes().size() >= 60 + 2 + 1 + 4 + 2);
  CHECK(router.routes().size() < 120);
  CHECK(router.routes().size() == 77);  // flyteidl 1.16.5

  size_t checked = 0;
  for (const auto& route : router.routes()) {
    std::vector<std::pair<std::string, std::string>> expected;
    std::string path = SamplePath(route.path_template, &expected);
    INFO(route.http_method << " " << route.path_template << " -> " << path);
    bool other = false;
    auto match = router.Find(route.http_method, path, &other);
    REQUIRE(match.has_value());
    CHECK(match->route->method == route.method);
    CHECK(match->route->path_template == route.path_template);
    CHECK(match->path_params == expected);
    ++checked;
  }
  CHECK(checked == expected_routes);
}

TEST_CASE("FlyteAdmin's served services expose the documented well-known routes", "[unit]") {
  gw::Router router = ServedRouter();
  auto expect = [&](const std::string& method, const std::string& path, const std::string& rpc) {
    INFO(method << " " << path);
    auto m = router.Find(method, path);
    REQUIRE(m.has_value());
    CHECK(m->route->method->name() == rpc);
  };
  expect("GET", "/api/v1/version", "GetVersion");
  expect("GET", "/.well-known/oauth-authorization-server", "GetOAuth2Metadata");
  expect("GET", "/config/v1/flyte_client", "GetPublicClientConfig");
  expect("GET", "/me", "UserInfo");
  expect("POST", "/api/v1/dataproxy/artifact_urn", "CreateUploadLocation");
  expect("GET", "/api/v1/data", "GetData");
  expect("POST", "/api/v1/signals", "SetSignal");
  expect("GET", "/api/v1/tasks/p/d/n/v", "GetTask");
  expect("GET", "/api/v1/tasks/p/d/n", "ListTasks");
  expect("GET", "/api/v1/tasks/p/d", "ListTasks");  // additional binding

  auto m = router.Find("GET", "/api/v1/tasks/p/d/n/v");
  REQUIRE(m.has_value());
  CHECK(m->path_params ==
        std::vector<std::pair<std::string, std::string>>{
            {"id.project", "p"}, {"id.domain", "d"}, {"id.name", "n"}, {"id.version", "v"}});
}

TEST_CASE("Path templates follow http.proto: wildcards, deep wildcards, variables and verbs",
          "[unit]") {
  TestService ts = MakeService({
      {"Books", "GET", "/v1/{name=shelves/*/books/**}"},
      {"Files", "GET", "/v1/files/**"},
      {"Star", "GET", "/v1/star/*/x"},
      {"Cancel", "POST", "/v1/{name}:cancel"},
      {"Item", "GET", "/v1/items/{id}"},
      {"Tail", "GET", "/v2/**/tail/{leaf}"},
      {"Root", "GET", "/"},
  });
  gw::Router router = RouterFor(ts);

  auto find = [&](const std::string& method, const std::string& path) {
    return router.Find(method, path);
  };

  auto books = find("GET", "/v1/shelves/s1/books/b1/c2");
  REQUIRE(books.has_value());
  CHECK(books->route->method->name() == "Books");
  CHECK(ParamOf(*books, "name") == "shelves/s1/books/b1/c2");

  auto files = find("GET", "/v1/files");  // "**" also matches nothing
  REQUIRE(files.has_value());
  CHECK(files->route->method->name() == "Files");
  CHECK(find("GET", "/v1/files/a/b/c").has_value());

  CHECK(find("GET", "/v1/star/a/x").has_value());
  CHECK_FALSE(find("GET", "/v1/star/a/b/x").has_value());

  auto cancel = find("POST", "/v1/op-1:cancel");
  REQUIRE(cancel.has_value());
  CHECK(cancel->route->method->name() == "Cancel");
  CHECK(ParamOf(*cancel, "name") == "op-1");
  CHECK_FALSE(find("POST", "/v1/op-1").has_value());
  CHECK_FALSE(find("POST", "/v1/op-1:other").has_value());
  bool other = true;
  CHECK_FALSE(router.Find("POST", "/v1/:cancel", &other).has_value());  // bare verb: 404
  CHECK_FALSE(other);

  // Without a verb in the template, a colon is part of the value.
  auto colon = find("GET", "/v1/items/a:b");
  REQUIRE(colon.has_value());
  CHECK(ParamOf(*colon, "id") == "a:b");

  auto tail = find("GET", "/v2/x/y/tail/z");
  REQUIRE(tail.has_value());
  CHECK(ParamOf(*tail, "leaf") == "z");

  auto root = find("GET", "/");
  REQUIRE(root.has_value());
  CHECK(root->route->method->name() == "Root");
}

TEST_CASE("Paths are percent-decoded before they are split, as grpc-gateway's default mode",
          "[unit]") {
  TestService ts =
      MakeService({{"Item", "GET", "/v1/items/{id}"}, {"Deep", "GET", "/v1/deep/{rest=**}"}});
  gw::Router router = RouterFor(ts);

  auto spaced = router.Find("GET", "/v1/items/a%20b%2Bc+d");
  REQUIRE(spaced.has_value());
  CHECK(ParamOf(*spaced, "id") == "a b+c+d");

  auto literal = router.Find("GET", "/v1/%69tems/x");  // %69 is 'i'
  REQUIRE(literal.has_value());
  CHECK(ParamOf(*literal, "id") == "x");

  // An encoded slash separates segments like a real one.
  CHECK_FALSE(router.Find("GET", "/v1/items/a%2Fb").has_value());
  auto deep = router.Find("GET", "/v1/deep/a%2Fb/c");
  REQUIRE(deep.has_value());
  CHECK(ParamOf(*deep, "rest") == "a/b/c");

  CHECK_FALSE(router.Find("GET", "/v1/items/bad%zz").has_value());
  CHECK_FALSE(router.Find("GET", "/v1/items/bad%4").has_value());
}

TEST_CASE("A trailing slash, an extra segment or another method does not match", "[unit]") {
  TestService ts =
      MakeService({{"Item", "GET", "/v1/items/{id}"}, {"Create", "POST", "/v1/items"}});
  gw::Router router = RouterFor(ts);
  bool other = true;
  CHECK_FALSE(router.Find("GET", "/v1/items/x/", &other).has_value());
  CHECK_FALSE(other);
  CHECK_FALSE(router.Find("GET", "/v1/items/x/y").has_value());
  CHECK_FALSE(router.Find("GET", "v1/items/x").has_value());
  // An empty last segment still binds "*", as in Go.
  auto empty = router.Find("GET", "/v1/items/");
  REQUIRE(empty.has_value());
  CHECK(ParamOf(*empty, "id").empty());

  other = false;
  CHECK_FALSE(router.Find("DELETE", "/v1/items/x", &other).has_value());
  CHECK(other);
  other = false;
  CHECK_FALSE(router.Find("GET", "/v1/items", &other).has_value());
  CHECK(other);
  other = true;
  CHECK_FALSE(router.Find("GET", "/v1/nothing", &other).has_value());
  CHECK_FALSE(other);
}

TEST_CASE("The binding registered last wins when two templates match the same path", "[unit]") {
  TestService ts = MakeService({{"First", "GET", "/v1/things/{id}"},
                                {"Second", "GET", "/v1/{kind}/{id}"},
                                {"Third", "GET", "/v1/things/special"}});
  gw::Router router = RouterFor(ts);
  auto special = router.Find("GET", "/v1/things/special");
  REQUIRE(special.has_value());
  CHECK(special->route->method->name() == "Third");
  auto thing = router.Find("GET", "/v1/things/x");
  REQUIRE(thing.has_value());
  CHECK(thing->route->method->name() == "Second");
}

TEST_CASE("Router::FromServices refuses templates it cannot parse", "[unit]") {
  for (const std::string& bad :
       std::vector<std::string>{"v1/x", "/v1/{name", "/v1/{1abc}", "/v1/**/x/**", "/v1//x",
                                "/v1/{a={b}}", "/v1/{a.}", "/v1/x y"}) {
    INFO(bad);
    TestService ts = MakeService({{"Bad", "GET", bad}});
    auto r = gw::Router::FromServices({ts.service});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == flyte::plugin::StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains("gwtest.TestService.Bad"));
  }
  TestService custom = MakeService({{"Custom", "LIST", "/v1/things"}});
  auto r = gw::Router::FromServices({custom.service});
  REQUIRE(r.ok());
  REQUIRE(r->routes().size() == 1);
  CHECK(r->routes()[0].http_method == "LIST");
  CHECK(r->Find("LIST", "/v1/things").has_value());
}

// ------------------------------------------------------------------------------------------------
// JSON shape

TEST_CASE("Task JSON uses proto names, nulls for unset messages and RFC 3339 timestamps",
          "[unit]") {
  flyteidl::admin::Task task;
  task.mutable_id()->set_resource_type(flyteidl::core::TASK);
  task.mutable_id()->set_project("flytesnacks");
  task.mutable_id()->set_domain("development");
  task.mutable_id()->set_name("hello");
  task.mutable_id()->set_version("v1");
  task.mutable_closure()->mutable_created_at()->set_seconds(1704164645);  // 2024-01-02T03:04:05Z
  task.mutable_closure()->mutable_created_at()->set_nanos(500000000);

  auto json = gw::MessageToGatewayJson(task);
  REQUIRE(json.ok());
  Json j = Json::parse(json.value());
  CHECK(j["id"]["resource_type"] == "TASK");
  CHECK(j["id"]["project"] == "flytesnacks");
  CHECK(j["id"]["org"] == "");
  CHECK(j["short_description"] == "");
  CHECK(j["closure"]["compiled_task"].is_null());
  CHECK(j["closure"]["created_at"] == "2024-01-02T03:04:05.500Z");
  // Field order follows the .proto declaration.
  CHECK(json.value().rfind(R"({"id":{"resource_type":"TASK","project":"flytesnacks")", 0) == 0);

  flyteidl::admin::Task empty;
  auto empty_json = gw::MessageToGatewayJson(empty);
  REQUIRE(empty_json.ok());
  CHECK(empty_json.value() == R"({"id":null,"closure":null,"short_description":""})");
}

TEST_CASE("ExecutionList and Project JSON carry [] and {} for empty collections", "[unit]") {
  flyteidl::admin::ExecutionList list;
  auto json = gw::MessageToGatewayJson(list);
  REQUIRE(json.ok());
  CHECK(json.value() == R"({"executions":[],"token":""})");

  auto* e = list.add_executions();
  e->mutable_id()->set_project("p");
  e->mutable_closure()->set_phase(flyteidl::core::WorkflowExecution::SUCCEEDED);
  e->mutable_closure()->mutable_duration()->set_seconds(90);
  e->mutable_closure()->mutable_duration()->set_nanos(1000);
  list.set_token("next");
  json = gw::MessageToGatewayJson(list);
  REQUIRE(json.ok());
  Json j = Json::parse(json.value());
  const Json& ex = j["executions"][0];
  CHECK(ex["spec"].is_null());
  CHECK(ex["closure"]["phase"] == "SUCCEEDED");
  CHECK(ex["closure"]["duration"] == "90.000001s");
  CHECK(ex["closure"]["started_at"].is_null());
  CHECK(ex["closure"]["notifications"] == Json::array());
  // Members of the output_result oneof are absent when none is set.
  CHECK_FALSE(ex["closure"].contains("outputs"));
  CHECK_FALSE(ex["closure"].contains("error"));
  CHECK_FALSE(ex["closure"].contains("abort_metadata"));
  CHECK(j["token"] == "next");

  flyteidl::admin::Project project;
  project.set_id("flytesnacks");
  project.set_state(flyteidl::admin::Project::ARCHIVED);
  json = gw::MessageToGatewayJson(project);
  REQUIRE(json.ok());
  j = Json::parse(json.value());
  CHECK(j["labels"].is_null());
  CHECK(j["domains"] == Json::array());
  CHECK(j["state"] == "ARCHIVED");

  (*project.mutable_labels()->mutable_values())["team"] = "ml";
  (*project.mutable_labels()->mutable_values())["a\"b"] = "x\ny";
  json = gw::MessageToGatewayJson(project);
  REQUIRE(json.ok());
  // Map keys sorted; quotes and newlines escaped.
  CHECK_THAT(json.value(), Catch::Contains(R"("labels":{"values":{"a\"b":"x\ny","team":"ml"}})"));

  flyteidl::admin::Labels labels;
  json = gw::MessageToGatewayJson(labels);
  REQUIRE(json.ok());
  CHECK(json.value() == R"({"values":{}})");
}

TEST_CASE("64-bit integers are strings, floats follow Go's shortest form, bytes are base64",
          "[unit]") {
  flyteidl::admin::UrlBlob blob;
  auto json = gw::MessageToGatewayJson(blob);
  REQUIRE(json.ok());
  CHECK(json.value() == R"({"url":"","bytes":"0"})");
  blob.set_bytes(-9007199254740993);
  json = gw::MessageToGatewayJson(blob);
  REQUIRE(json.ok());
  CHECK(json.value() == R"({"url":"","bytes":"-9007199254740993"})");

  flyteidl::core::Primitive p;
  p.set_float_value(0.1);
  json = gw::MessageToGatewayJson(p);
  REQUIRE(json.ok());
  CHECK(json.value() == R"({"float_value":0.1})");
  p.set_float_value(1e21);
  CHECK(gw::MessageToGatewayJson(p).value() == R"({"float_value":1e+21})");
  p.set_float_value(1e-7);
  CHECK(gw::MessageToGatewayJson(p).value() == R"({"float_value":1e-7})");
  p.set_float_value(123456789);
  CHECK(gw::MessageToGatewayJson(p).value() == R"({"float_value":123456789})");
  p.set_float_value(std::numeric_limits<double>::infinity());
  CHECK(gw::MessageToGatewayJson(p).value() == R"({"float_value":"Infinity"})");
  p.set_integer(0);  // a set oneof member is emitted even when zero
  CHECK(gw::MessageToGatewayJson(p).value() == R"({"integer":"0"})");

  flyteidl::core::Binary bin;
  bin.set_value(std::string("\x00\xff\x10", 3));
  json = gw::MessageToGatewayJson(bin);
  REQUIRE(json.ok());
  CHECK_THAT(json.value(), Catch::Contains(R"("value":"AP8Q")"));
}

TEST_CASE("Struct, Value and Any render in their protojson forms", "[unit]") {
  flyteidl::service::UserInfoResponse info;
  info.set_subject("sub");
  auto& fields = *info.mutable_additional_claims()->mutable_fields();
  fields["n"].set_number_value(2.5);
  fields["z"].set_null_value(google::protobuf::NULL_VALUE);
  fields["l"].mutable_list_value()->add_values()->set_bool_value(true);
  auto json = gw::MessageToGatewayJson(info);
  REQUIRE(json.ok());
  CHECK_THAT(json.value(), Catch::Contains(R"("additional_claims":{"l":[true],"n":2.5,"z":null})"));

  google::rpc::Status status;
  status.set_code(5);
  flyteidl::admin::EventFailureReason reason;
  reason.mutable_already_in_terminal_state()->set_current_phase("SUCCEEDED");
  status.add_details()->PackFrom(reason);
  json = gw::MessageToGatewayJson(status);
  REQUIRE(json.ok());
  Json j = Json::parse(json.value());
  CHECK(j["details"][0]["@type"] == "type.googleapis.com/flyteidl.admin.EventFailureReason");
  CHECK(j["details"][0]["already_in_terminal_state"]["current_phase"] == "SUCCEEDED");
  CHECK(json.value().find(R"({"@type":)") != std::string::npos);

  google::protobuf::Any unknown;
  unknown.set_type_url("type.googleapis.com/no.such.Type");
  unknown.set_value("x");
  auto bad = gw::MessageToGatewayJson(unknown);
  CHECK_FALSE(bad.ok());
}

TEST_CASE("Anys nested within Anys render to a bounded depth and are refused beyond it",
          "[unit]") {
  auto nested = [](int levels) {
    google::protobuf::Any any;
    flyteidl::core::Identifier id;
    id.set_name("innermost");
    any.PackFrom(id);
    for (int i = 0; i < levels; ++i) {
      google::protobuf::Any outer;
      outer.PackFrom(any);
      any = outer;
    }
    return any;
  };
  auto shallow = gw::MessageToGatewayJson(nested(3));
  REQUIRE(shallow.ok());
  CHECK_THAT(shallow.value(), Catch::Contains(R"("name":"innermost")"));
  // Each level is parsed on its own, so only the encoder's own bound stops a thousand of them.
  auto deep = gw::MessageToGatewayJson(nested(1000));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().code() == flyte::plugin::StatusCode::kUnknown);
  CHECK_THAT(deep.status().message(), Catch::Contains("nested more than 200 messages deep"));
}

TEST_CASE("Invalid UTF-8 in a string field fails the encoding instead of producing bad JSON",
          "[unit]") {
  flyteidl::admin::Project p;
  p.set_id("bad\xff");
  auto json = gw::MessageToGatewayJson(p);
  REQUIRE_FALSE(json.ok());
  CHECK(json.status().code() == flyte::plugin::StatusCode::kUnknown);
}

TEST_CASE("Proto3 optional fields are omitted when unset and emitted when set", "[unit]") {
  DescriptorPool pool(DescriptorPool::generated_pool());
  const auto file = FileProto(R"pb(
    name: "gateway_optional_test.proto" package: "gwtest" syntax: "proto3"
    message_type {
      name: "Opt"
      field { name: "maybe" number: 1 type: TYPE_INT32 label: LABEL_OPTIONAL
              proto3_optional: true oneof_index: 0 }
      field { name: "plain_value" number: 2 type: TYPE_INT32 label: LABEL_OPTIONAL }
      oneof_decl { name: "_maybe" }
    })pb");
  const auto* built = pool.BuildFile(file);
  REQUIRE(built != nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  std::unique_ptr<Message> m(factory.GetPrototype(built->message_type(0))->New());
  CHECK(gw::MessageToGatewayJson(*m).value() == R"({"plain_value":0})");
  m->GetReflection()->SetInt32(m.get(), built->message_type(0)->field(0), 0);
  CHECK(gw::MessageToGatewayJson(*m).value() == R"({"maybe":0,"plain_value":0})");
}

TEST_CASE("MergeGatewayJson accepts proto and JSON names and rejects unknown fields", "[unit]") {
  flyteidl::admin::ResourceListRequest req;
  REQUIRE(gw::MergeGatewayJson(R"({"limit": 3, "sortBy": {"key": "name"}})", req).ok());
  CHECK(req.limit() == 3);
  CHECK(req.sort_by().key() == "name");
  REQUIRE(
      gw::MergeGatewayJson(R"({"token": "t", "sort_by": {"direction": "ASCENDING"}})", req).ok());
  CHECK(req.limit() == 3);  // merged, not replaced
  CHECK(req.token() == "t");
  CHECK(req.sort_by().direction() == flyteidl::admin::Sort::ASCENDING);
  CHECK(gw::MergeGatewayJson("   ", req).ok());  // an empty body is an empty message

  auto unknown = gw::MergeGatewayJson(R"({"nope": 1})", req);
  CHECK(unknown.code() == flyte::plugin::StatusCode::kInvalidArgument);
  auto broken = gw::MergeGatewayJson(R"({"limit": )", req);
  CHECK(broken.code() == flyte::plugin::StatusCode::kInvalidArgument);
  CHECK(broken.message() == "unexpected EOF");
  auto garbage = gw::MergeGatewayJson("xyz", req);
  CHECK(garbage.message() == "invalid character 'x' looking for beginning of value");
  // encoding/json shows the offending byte as a rune, quoted as strconv.Quote quotes it.
  const auto syntax_error = [&](const std::string& body) { return std::string(gw::MergeGatewayJson(body, req).message()); };
  CHECK(syntax_error("\xEF\xBB\xBF{}") == "invalid character '\xC3\xAF' looking for beginning of value");  // a BOM: 'ï'
  CHECK(syntax_error("{\"limit\": \xC3\xA9}") == "invalid character '\xC3\x83' looking for beginning of value");
  CHECK(syntax_error("{\"limit\": \x80}") == "invalid character '\\u0080' looking for beginning of value");
  CHECK(syntax_error("{\"limit\": \xAD}") == "invalid character '\\u00ad' looking for beginning of value");
  CHECK(syntax_error("{\"token\": \"a\nb\"}") == "invalid character '\\n' in string literal");
  CHECK(syntax_error("{\"token\": \"a\x01\"}") == "invalid character '\\x01' in string literal");
  CHECK(syntax_error("{\\\"token\": 1}") == "invalid character '\\\\' looking for beginning of object key string");
  CHECK(syntax_error("{\"token\": \x7F}") == "invalid character '\\x7f' looking for beginning of value");
  // A \u escape of half a surrogate pair: encoding/json takes it, protojson reads the next six
  // bytes as the other half's escape.
  CHECK(syntax_error(R"({"token": "\ud800abcdefgh"})") ==
        R"(proto: syntax error (line 1:11): invalid escape code "abcdef" in string)");
  CHECK(syntax_error(R"({"token": "\udc00\udc00", "limit": 1})") ==
        R"(proto: syntax error (line 1:11): invalid escape code "\\udc00" in string)");
  CHECK(syntax_error(R"({"token": "\ud800"})") == "proto: unexpected EOF");
  CHECK(syntax_error(R"({"\ud800 \u00e9\n": 1})") ==
        R"(proto: syntax error (line 1:2): invalid escape code " \\u00e" in string)");
  CHECK(syntax_error("{\"nope\": 1, \"token\": \"\\ud800abcdefgh\"}") == "proto: (line 1:2): unknown field \"nope\"");
  CHECK(syntax_error("{\"token\": \"\\ud800abcdefgh\", \"nope\": 1}") ==
        R"(proto: syntax error (line 1:11): invalid escape code "abcdef" in string)");
  REQUIRE(gw::MergeGatewayJson(R"({"token": "\ud83d\ude00"})", req).ok());
  CHECK(req.token() == "\xF0\x9F\x98\x80");
}

TEST_CASE("Numbers and durations in request bodies read as protojson reads them", "[unit]") {
  flyteidl::admin::ExecutionCreateRequest req;
  // The primitive input `field: value` reads as, or nullopt when the body is refused.
  const auto primitive_of = [&](const std::string& field,
                                const std::string& value) -> std::optional<flyteidl::core::Primitive> {
    req.Clear();
    const std::string body =
        R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {")" + field + R"(": )" + value + "}}}}}}";
    if (!gw::MergeGatewayJson(body, req).ok()) return std::nullopt;
    return req.inputs().literals().at("x").scalar().primitive();
  };
  const auto integer_of = [&](const std::string& value) -> std::optional<int64_t> {
    auto p = primitive_of("integer", value);
    return p ? std::optional<int64_t>(p->integer()) : std::nullopt;
  };
  // An integral number in any JSON spelling, bare or in a string.
  CHECK(integer_of("1e3") == 1000);
  CHECK(integer_of(R"("1e3")") == 1000);
  CHECK(integer_of("1.0") == 1);
  CHECK(integer_of(R"("1.0")") == 1);
  CHECK(integer_of("1.5e1") == 15);
  CHECK(integer_of("-0") == 0);
  CHECK(integer_of("1200e-2") == 12);
  CHECK(integer_of(R"("-7")") == -7);
  CHECK(integer_of("9223372036854775807") == std::numeric_limits<int64_t>::max());
  CHECK(integer_of(R"("9007199254740993")") == 9007199254740993LL);  // past a double's integers
  CHECK(integer_of(R"("\u0031\u0032")") == 12);
  CHECK(integer_of(R"("12 34")") == 12);  // protojson reads the string's first token only
  // Not an integer, out of range, or not protojson's number syntax.
  for (const char* bad : {"1.5", "1e-1", "9223372036854775808", "1e20", R"("+1")", R"("01")", R"(" 12")",
                          R"("12 ")", R"("0x10")", R"("")", R"("12a")", R"("1e")"}) {
    CAPTURE(bad);
    CHECK(integer_of(bad) == std::nullopt);
  }

  const auto error = [&](const std::string& body) {
    req.Clear();
    auto st = gw::MergeGatewayJson(body, req);
    CHECK(st.code() == flyte::plugin::StatusCode::kInvalidArgument);
    return std::string(st.message());
  };
  CHECK(error(R"({"spec": {"maxParallelism": 2.5}})") ==
        "proto: (line 1:29): invalid value for int32 field maxParallelism: 2.5");
  CHECK(error(R"({"spec": {"maxParallelism": 2147483648}})") ==
        "proto: (line 1:29): invalid value for int32 field maxParallelism: 2147483648");
  CHECK(error(R"({"spec": {"metadata": {"nesting": "-1"}}})") ==
        "proto: (line 1:35): invalid value for uint32 field nesting: \"-1\"");
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"floatValue": "0x1p3"}}}}}})") ==
        "proto: (line 1:71): invalid value for double field floatValue: \"0x1p3\"");
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"floatValue": 1e400}}}}}})") ==
        "proto: (line 1:71): invalid value for double field floatValue: 1e400");

  req.Clear();
  REQUIRE(gw::MergeGatewayJson(R"({"spec": {"maxParallelism": 2e1, "metadata": {"nesting": "-0", "mode": 1e0}}})",
                               req)
              .ok());
  CHECK(req.spec().max_parallelism() == 20);
  CHECK(req.spec().metadata().nesting() == 0);
  CHECK(req.spec().metadata().mode() == flyteidl::admin::ExecutionMetadata::SCHEDULED);
  const auto float_of = [&](const std::string& value) -> std::optional<double> {
    auto p = primitive_of("floatValue", value);
    return p ? std::optional<double>(p->float_value()) : std::nullopt;
  };
  CHECK(float_of("1.5") == 1.5);
  CHECK(float_of(R"("2.5e1")") == 25.0);
  CHECK(float_of("1e-400") == 0.0);  // too small reads as 0, as strconv.ParseFloat does
  CHECK(std::isinf(*float_of(R"("-Infinity")")));
  CHECK(std::isnan(*float_of(R"("NaN")")));

  // Durations in parseDuration's forms.
  using Seconds = std::pair<int64_t, int32_t>;
  const auto duration_of = [&](const std::string& value) -> std::optional<Seconds> {
    auto p = primitive_of("duration", value);
    return p ? std::optional<Seconds>(Seconds{p->duration().seconds(), p->duration().nanos()}) : std::nullopt;
  };
  CHECK(duration_of(R"(".5s")") == Seconds{0, 500000000});
  CHECK(duration_of(R"("-.5s")") == Seconds{0, -500000000});
  CHECK(duration_of(R"("1.s")") == Seconds{1, 0});
  CHECK(duration_of(R"("+2.000000001s")") == Seconds{2, 1});
  CHECK(duration_of(R"("-3.25s")") == Seconds{-3, -250000000});
  CHECK(duration_of(R"("-0s")") == Seconds{0, 0});
  CHECK(duration_of(R"("315576000000s")") == Seconds{315576000000, 0});
  for (const char* bad : {R"("01s")", R"("1.1234567891s")", R"("1")", R"("s")", R"("1.5")", R"("1e3s")",
                          R"(" 1s")", R"("--1s")"}) {
    CAPTURE(bad);
    CHECK(duration_of(bad) == std::nullopt);
  }
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"duration": "01s"}}}}}})") ==
        "proto: (line 1:69): invalid google.protobuf.Duration value \"01s\"");
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"duration": "315576000001s"}}}}}})") ==
        "proto: (line 1:69): google.protobuf.Duration value out of range: \"315576000001s\"");
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"duration": 5}}}}}})") ==
        "proto: syntax error (line 1:69): unexpected token 5");
  // A timestamp's fraction has at most nine digits.
  auto datetime = primitive_of("datetime", R"("2026-11-30T20:40:00.123456789Z")");
  REQUIRE(datetime);
  CHECK(datetime->datetime().nanos() == 123456789);
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"datetime": "2026-11-30T20:40:00.1234567890Z"}}}}}})") ==
        "proto: (line 1:69): invalid google.protobuf.Timestamp value \"2026-11-30T20:40:00.1234567890Z\"");
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"datetime": 5}}}}}})") ==
        "proto: syntax error (line 1:69): unexpected token 5");
  // Read with time.Parse: a one-digit hour, ',' before the fraction (then any number of digits)
  // and offsets up to 24 hours are taken; the result must lie in years 1 to 9999.
  using Time = std::pair<int64_t, int32_t>;
  const auto datetime_of = [&](const std::string& value) -> std::optional<Time> {
    auto p = primitive_of("datetime", "\"" + value + "\"");
    return p ? std::optional<Time>(Time{p->datetime().seconds(), p->datetime().nanos()}) : std::nullopt;
  };
  CHECK(datetime_of("2024-01-02T3:04:05Z") == Time{1704164645, 0});
  CHECK(datetime_of("2024-01-02T03:04:05,5Z") == Time{1704164645, 500000000});
  CHECK(datetime_of("2024-01-02T03:04:05,1234567891Z") == Time{1704164645, 123456789});
  CHECK(datetime_of("2024-01-02T03:04:05+24:00") == Time{1704164645 - 86400, 0});
  CHECK(datetime_of("2024-01-02T03:04:05.5-01:30") == Time{1704164645 + 5400, 500000000});
  CHECK(datetime_of("0001-01-01T00:00:00Z") == Time{-62135596800, 0});
  CHECK(datetime_of("9999-12-31T23:59:59.999999999Z") == Time{253402300799, 999999999});
  for (const char* bad : {"2024-01-02t03:04:05Z", "2024-01-02T03:04:05z", "2024-02-30T03:04:05Z", "2024-01-02T03:04:05+25:00",
                          "2024-01-02T03:04Z", "2024-01-02 03:04:05Z", "2024-01-02T03:04:05.Z", "24-01-02T03:04:05Z"}) {
    CAPTURE(bad);
    CHECK(datetime_of(bad) == std::nullopt);
  }
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"datetime": "2024-02-30T03:04:05Z"}}}}}})") ==
        "proto: (line 1:69): invalid google.protobuf.Timestamp value \"2024-02-30T03:04:05Z\"");
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"datetime": "0000-12-31T23:59:59Z"}}}}}})") ==
        "proto: (line 1:69): google.protobuf.Timestamp value out of range: \"0000-12-31T23:59:59Z\"");
  CHECK(error(R"({"inputs": {"literals": {"x": {"scalar": {"primitive": {"datetime": "9999-12-31T23:59:59-01:00"}}}}}})") ==
        "proto: (line 1:69): google.protobuf.Timestamp value out of range: \"9999-12-31T23:59:59-01:00\"");
}

TEST_CASE("Bytes in request bodies read as protojson reads them", "[unit]") {
  flyteidl::admin::ExecutionCreateRequest req;
  // The binary literal's value that `text` (a JSON string's contents) reads as, or nullopt.
  const auto bytes_of = [&](const std::string& text) -> std::optional<std::string> {
    req.Clear();
    const std::string body = R"({"inputs": {"literals": {"x": {"scalar": {"binary": {"value": ")" + text + R"("}}}}}})";
    if (!gw::MergeGatewayJson(body, req).ok()) return std::nullopt;
    return req.inputs().literals().at("x").scalar().binary().value();
  };
  CHECK(bytes_of("QUJD") == "ABC");
  CHECK(bytes_of("QUJDRA==") == "ABCD");
  CHECK(bytes_of("QUJDRA") == "ABCD");            // a length not a multiple of four: unpadded
  CHECK(bytes_of(R"(QU\nJD)") == "ABC");           // line breaks are skipped
  CHECK(bytes_of(R"(QUJD\r\n\r\nQQ==)") == "ABCA");  // padded: the length counts the line breaks
  CHECK(bytes_of("-_8") == std::string("\xfb\xff"));  // '-' or '_': the URL alphabet
  CHECK(bytes_of("+/8") == std::string("\xfb\xff"));
  CHECK(bytes_of("") == "");
  for (const char* bad : {R"(QUJD\nRA==)", "QUJDRA=", "QUJDR", "+_8=", "QU JD", "QUJD=", "QQ=A", R"(QUJDRA\n\n)"}) {
    CAPTURE(bad);
    CHECK(bytes_of(bad) == std::nullopt);
  }
  req.Clear();
  auto st = gw::MergeGatewayJson(R"({"inputs": {"literals": {"x": {"scalar": {"binary": {"value": "QUJD\nRA=="}}}}}})", req);
  CHECK(st.code() == flyte::plugin::StatusCode::kInvalidArgument);
  CHECK(st.message() == R"(proto: (line 1:63): invalid value for bytes field value: "QUJD\nRA==")");
  st = gw::MergeGatewayJson(R"({"inputs": {"literals": {"x": {"scalar": {"binary": {"value": 5}}}}}})", req);
  CHECK(st.message() == "proto: (line 1:63): invalid value for bytes field value: 5");
  // A wrapper of bytes reads alike.
  google::protobuf::BytesValue wrapped;
  REQUIRE(gw::MergeGatewayJson(R"("QUJDRA")", wrapped).ok());
  CHECK(wrapped.value() == "ABCD");
}

TEST_CASE("Request bodies are refused where protojson refuses them", "[unit]") {
  flyteidl::admin::ExecutionCreateRequest req;
  const auto error = [&](const std::string& body) {
    req.Clear();
    auto st = gw::MergeGatewayJson(body, req);
    CHECK(st.code() == flyte::plugin::StatusCode::kInvalidArgument);
    return std::string(st.message());
  };
  CHECK(error(R"({"project": "a", "project": "b"})") == "proto: (line 1:18): duplicate field \"project\"");
  // The JSON and the proto name of one field.
  CHECK(error(R"({"spec": {"launchPlan": {}, "launch_plan": {}}})") ==
        "proto: (line 1:29): duplicate field \"launch_plan\"");
  CHECK(error(R"({"spec": {"notifications": {}, "disable_all": true}})") ==
        "proto: (line 1:32): error parsing \"disable_all\", oneof "
        "flyteidl.admin.ExecutionSpec.notification_overrides is already set");
  CHECK(error(R"({"spec": {"disable_all": "true"}})") == "proto: (line 1:26): invalid value for bool field disableAll: \"true\"");
  CHECK(error(R"({"spec": {"tags": ["a", null]}})") == "proto: (line 1:25): invalid value for string field tags: null");
  CHECK(error(R"({"spec": {"metadata": {"mode": "NOPE"}}})") ==
        "proto: (line 1:32): invalid value for enum field mode: \"NOPE\"");
  CHECK(error(R"({"inputs": {"literals": {"x": null}}})") == "proto: syntax error (line 1:31): unexpected token null");
  // A body that is JSON but not an object.
  CHECK(error("null") == "proto: syntax error (line 1:1): unexpected token null");
  // (grpc-gateway hands protojson the value without the whitespace before it.)
  CHECK(error(" [1]") == "proto: syntax error (line 1:1): unexpected token [");
  CHECK(error("5") == "proto: syntax error (line 1:1): unexpected token 5");
  CHECK(error(R"("x")") == "proto: syntax error (line 1:1): unexpected token \"x\"");
  CHECK(error(R"({"spec": {"notifications": {"notifications": [{"phases": ["SUCCEEDED", null]}]}}})") ==
        "proto: (line 1:72): invalid value for enum field phases: null");
  CHECK(error(R"({"pro\u006aect": "a", "project": "b"})") == "proto: (line 1:23): duplicate field \"project\"");

  // Accepted as protojson accepts them.
  req.Clear();
  REQUIRE(gw::MergeGatewayJson(R"({"pro\u006aect": "p", "spec": null, "inputs": {"literals": {"x": {"scalar": )"
                               R"({"generic": {"a": null, "b": [null, 1, {"c": null}]}}}}}})",
                               req)
              .ok());
  CHECK(req.project() == "p");
  CHECK(req.inputs().literals().at("x").scalar().generic().fields().at("a").has_null_value());
  req.Clear();
  REQUIRE(gw::MergeGatewayJson(R"({"spec": {"tags": null, "metadata": {"mode": 1}, "disable_all": false}})", req).ok());
  CHECK(req.spec().metadata().mode() == flyteidl::admin::ExecutionMetadata::SCHEDULED);
}

// ------------------------------------------------------------------------------------------------
// Field values from text

TEST_CASE("SetFieldFromString converts scalars, enums, wrappers and times like grpc-gateway",
          "[unit]") {
  flyteidl::admin::ResourceListRequest req;
  CHECK(gw::SetFieldFromString(req, "limit", "25").ok());
  CHECK(req.limit() == 25);
  CHECK(gw::SetFieldFromString(req, "sort_by.direction", "ASCENDING").ok());
  CHECK(req.sort_by().direction() == flyteidl::admin::Sort::ASCENDING);
  CHECK(gw::SetFieldFromString(req, "sortBy.direction", "0").ok());  // JSON name, number
  CHECK(req.sort_by().direction() == flyteidl::admin::Sort::DESCENDING);
  CHECK(gw::SetFieldFromString(req, "id.project", "p").ok());
  CHECK(req.id().project() == "p");
  CHECK(gw::SetFieldFromString(req, "no_such_field", "x").ok());  // ignored

  auto bad_int = gw::SetFieldFromString(req, "limit", "-1");
  CHECK(bad_int.code() == flyte::plugin::StatusCode::kInvalidArgument);
  CHECK(bad_int.message() ==
        R"(parsing field "limit": strconv.ParseUint: parsing "-1": invalid syntax)");
  auto bad_enum = gw::SetFieldFromString(req, "sort_by.direction", "SIDEWAYS");
  CHECK(bad_enum.message() == R"(parsing field "direction": "SIDEWAYS" is not a valid value)");
  auto not_message = gw::SetFieldFromString(req, "limit.x", "1");
  CHECK(not_message.message() == R"(invalid path: "limit" is not a message)");

  flyteidl::core::Container c;
  CHECK(gw::SetFieldFromString(c, "args", "a").ok());
  CHECK(gw::SetFieldFromString(c, "args", "b").ok());
  REQUIRE(c.args_size() == 2);
  CHECK(c.args(1) == "b");

  flyteidl::admin::ExecutionClosure closure;
  CHECK(gw::SetFieldFromString(closure, "started_at", "2024-01-02T03:04:05.25+01:00").ok());
  CHECK(closure.started_at().seconds() == 1704164645 - 3600);
  CHECK(closure.started_at().nanos() == 250000000);
  CHECK(gw::SetFieldFromString(closure, "duration", "1h2m3.5s").ok());
  CHECK(closure.duration().seconds() == 3723);
  CHECK(closure.duration().nanos() == 500000000);
  CHECK_FALSE(gw::SetFieldFromString(closure, "duration", "10").ok());
  CHECK_FALSE(gw::SetFieldFromString(closure, "started_at", "yesterday").ok());
  // time.Parse's layout parser: its leniencies and its error texts.
  const auto started_at = [&](const std::string& v) -> std::optional<std::pair<int64_t, int32_t>> {
    closure.Clear();
    if (!gw::SetFieldFromString(closure, "started_at", v).ok()) return std::nullopt;
    return std::make_pair(closure.started_at().seconds(), closure.started_at().nanos());
  };
  CHECK(started_at("2024-01-02T3:04:05Z") == std::make_pair<int64_t, int32_t>(1704164645, 0));  // one-digit hour
  CHECK(started_at("2024-01-02T03:04:05,25Z") == std::make_pair<int64_t, int32_t>(1704164645, 250000000));
  CHECK(started_at("2024-01-02T03:04:05.1234567891Z") == std::make_pair<int64_t, int32_t>(1704164645, 123456789));
  CHECK(started_at("2024-01-02T03:04:05+24:00") == std::make_pair<int64_t, int32_t>(1704164645 - 86400, 0));
  CHECK(started_at("2024-01-02T03:04:05-00:60") == std::make_pair<int64_t, int32_t>(1704164645 + 3600, 0));
  const auto time_error = [&](const std::string& v) {
    return std::string(gw::SetFieldFromString(closure, "started_at", v).message());
  };
  const std::string as = R"( as "2006-01-02T15:04:05.999999999Z07:00": cannot parse )";
  CHECK(time_error("yesterday") == R"(parsing field "started_at": parsing time "yesterday")" + as + R"("yesterday" as "2006")");
  CHECK(time_error("2024-01-02t03:04:05Z") == R"(parsing field "started_at": parsing time "2024-01-02t03:04:05Z")" + as + R"("t03:04:05Z" as "T")");
  CHECK(time_error("2024-01-02T03:04:05z") == R"(parsing field "started_at": parsing time "2024-01-02T03:04:05z")" + as + R"("z" as "Z07:00")");
  CHECK(time_error("2024-1-02T03:04:05Z") == R"(parsing field "started_at": parsing time "2024-1-02T03:04:05Z")" + as + R"("1-02T03:04:05Z" as "01")");
  CHECK(time_error("2024-13-02T03:04:05Z") == R"(parsing field "started_at": parsing time "2024-13-02T03:04:05Z": month out of range)");
  CHECK(time_error("2023-02-29T03:04:05Z") == R"(parsing field "started_at": parsing time "2023-02-29T03:04:05Z": day out of range)");
  CHECK(time_error("2024-01-02T24:04:05Z") == R"(parsing field "started_at": parsing time "2024-01-02T24:04:05Z": hour out of range)");
  CHECK(time_error("2024-01-02T03:04:05+25:00") ==
        R"(parsing field "started_at": parsing time "2024-01-02T03:04:05+25:00": time zone offset hour out of range)");
  CHECK(time_error("2024-01-02T03:04:05+25:61") ==
        R"(parsing field "started_at": parsing time "2024-01-02T03:04:05+25:61": time zone offset minute out of range)");
  CHECK(time_error("2024-01-02T03:04:05Z junk") == R"(parsing field "started_at": parsing time "2024-01-02T03:04:05Z junk": extra text: " junk")");
  CHECK(time_error("2024-01-02T03:04:05Zé") == R"(parsing field "started_at": parsing time "2024-01-02T03:04:05Z\xc3\xa9": extra text: "\xc3\xa9")");

  flyteidl::core::Primitive p;
  CHECK(gw::SetFieldFromString(p, "integer", "42").ok());
  auto conflict = gw::SetFieldFromString(p, "string_value", "x");
  CHECK(conflict.message() == R"(field already set for oneof "value")");

  flyteidl::core::Binary b;
  CHECK(gw::SetFieldFromString(b, "value", "AP8Q").ok());
  CHECK(b.value() == std::string("\x00\xff\x10", 3));
  CHECK(gw::SetFieldFromString(b, "value", "_-8").ok() == false);
}

// ------------------------------------------------------------------------------------------------
// Gateway::Handle

TEST_CASE("GET /api/v1/version invokes GetVersion and answers JSON", "[unit]") {
  FakeInvoker fake;
  fake.respond = [](const MethodDescriptor&, flyte::plugin::CallContext&, const Message&,
                    Message& response) {
    auto& r = dynamic_cast<flyteidl::admin::GetVersionResponse&>(response);
    r.mutable_control_plane_version()->set_version("v1.16.5");
    return flyte::plugin::Status::Ok();
  };
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  auto resp = gateway.Handle(Get("/api/v1/version"));
  CHECK(resp.status == 200);
  CHECK(HeaderOf(resp, "Content-Type") == "application/json");
  CHECK(resp.body ==
        R"({"control_plane_version":{"Build":"","Version":"v1.16.5","BuildTime":""}})");
  REQUIRE(fake.calls->size() == 1);
  CHECK(fake.calls->at(0).method == "/flyteidl.service.AdminService/GetVersion");
  CHECK(fake.calls->at(0).from_http);
  CHECK(fake.calls->at(0).peer == "ipv4:10.1.2.3:5555");

  // Without Accept or Content-Type grpc-gateway falls back to its default marshaler, which
  // FlyteAdmin does not configure: JSON names.
  auto plain = gateway.Handle(Get("/api/v1/version", {}));
  CHECK(plain.status == 200);
  CHECK(plain.body == R"({"controlPlaneVersion":{"Build":"","Version":"v1.16.5","BuildTime":""}})");

  auto binary = gateway.Handle(Get("/api/v1/version", {{"accept", "application/octet-stream"}}));
  CHECK(binary.status == 200);
  CHECK(HeaderOf(binary, "Content-Type") == "application/octet-stream");
  flyteidl::admin::GetVersionResponse parsed;
  REQUIRE(parsed.ParseFromString(binary.body));
  CHECK(parsed.control_plane_version().version() == "v1.16.5");
}

TEST_CASE("Path, body and query parameters build the request message", "[unit]") {
  FakeInvoker fake;
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());

  auto resp = gateway.Handle(
      Get("/api/v1/tasks/my%20proj/dev/wf?limit=10&token=abc&sort_by.key=created_at"
          "&sortBy.direction=ASCENDING&id.project=ignored&filters=eq(version,v1)&unknown=1"));
  REQUIRE(resp.status == 200);
  auto* req = dynamic_cast<flyteidl::admin::ResourceListRequest*>(fake.last_request->get());
  REQUIRE(req != nullptr);
  CHECK(req->id().project() == "my proj");
  CHECK(req->id().domain() == "dev");
  CHECK(req->id().name() == "wf");
  CHECK(req->limit() == 10);
  CHECK(req->token() == "abc");
  CHECK(req->filters() == "eq(version,v1)");
  CHECK(req->sort_by().key() == "created_at");
  CHECK(req->sort_by().direction() == flyteidl::admin::Sort::ASCENDING);

  auto bad = gateway.Handle(Get("/api/v1/tasks/p/d/n?limit=ten"));
  CHECK(bad.status == 400);
  Json j = Json::parse(bad.body);
  CHECK(j["code"] == 3);
  CHECK(j["message"] ==
        R"(parsing field "limit": strconv.ParseUint: parsing "ten": invalid syntax)");
  CHECK(j["details"] == Json::array());

  // The value is quoted as strconv.Quote quotes it.
  for (const auto& [query, shown] : std::vector<std::pair<std::string, std::string>>{
           {"%0A", R"("\n")"}, {"%7F", R"("\x7f")"}, {"%C3%A9", "\"\xC3\xA9\""}, {"%FF", R"("\xff")"},
           {"%C2%A0", R"("\u00a0")"}, {"%E2%80%8B", R"("\u200b")"}, {"%E1%9A%80", R"("\u1680")"},
           {"%22%5C", R"("\"\\")"}}) {
    CAPTURE(query);
    auto quoted = gateway.Handle(Get("/api/v1/tasks/p/d/n?limit=" + query));
    CHECK(Json::parse(quoted.body)["message"] ==
          "parsing field \"limit\": strconv.ParseUint: parsing " + shown + ": invalid syntax");
  }

  auto twice = gateway.Handle(Get("/api/v1/tasks/p/d/n?limit=1&limit=2"));
  CHECK(twice.status == 400);
  CHECK(Json::parse(twice.body)["message"] == R"(too many values for field "limit": 1, 2)");

  // A raw '#' in a request target is no fragment: Go's server keeps it in the query.
  resp = gateway.Handle(Get("/api/v1/tasks/p/d/n?token=a#b&limit=2"));
  REQUIRE(resp.status == 200);
  req = dynamic_cast<flyteidl::admin::ResourceListRequest*>(fake.last_request->get());
  REQUIRE(req != nullptr);
  CHECK(req->token() == "a#b");
  CHECK(req->limit() == 2);

  auto bad_escape = gateway.Handle(Get("/api/v1/tasks/p/d/n?limit=%zz"));
  CHECK(bad_escape.status == 400);
  CHECK(Json::parse(bad_escape.body)["message"] == R"(invalid URL escape "%zz")");

  // PUT /api/v1/projects/{id} with body "*": the path wins over the body, the query is unused.
  gw::HttpRequest put =
      Post("/api/v1/projects/from-path?name=ignored",
           R"({"id": "from-body", "name": "Display", "labels": {"values": {"k": "v"}}})");
  put.method = "PUT";
  resp = gateway.Handle(put);
  REQUIRE(resp.status == 200);
  auto* project = dynamic_cast<flyteidl::admin::Project*>(fake.last_request->get());
  REQUIRE(project != nullptr);
  CHECK(project->id() == "from-path");
  CHECK(project->name() == "Display");
  CHECK(project->labels().values().at("k") == "v");
}

TEST_CASE("Repeated and map query parameters append and set entries", "[unit]") {
  TestService ts = MakeService({
      {"Container", "GET", "/v1/containers/{image}", "", "flyteidl.core.Container"},
      {"Labels", "GET", "/v1/labels", "", "flyteidl.admin.Labels"},
      {"Args", "GET", "/v1/args/{args}", "", "flyteidl.core.Container"},
  });
  FakeInvoker fake;
  gw::Gateway gateway(RouterFor(ts), fake.AsInvoker());

  auto resp = gateway.Handle(Get("/v1/containers/busybox?args=a&command=sh&args=b+c&image=zzz"));
  REQUIRE(resp.status == 200);
  CHECK(fake.calls->back().method == "/gwtest.TestService/Container");
  auto* c = dynamic_cast<flyteidl::core::Container*>(fake.last_request->get());
  REQUIRE(c != nullptr);
  CHECK(c->image() == "busybox");
  REQUIRE(c->args_size() == 2);
  CHECK(c->args(0) == "a");
  CHECK(c->args(1) == "b c");
  REQUIRE(c->command_size() == 1);

  resp = gateway.Handle(Get("/v1/labels?values[team]=ml&values%5Benv%5D=prod"));
  REQUIRE(resp.status == 200);
  auto* labels = dynamic_cast<flyteidl::admin::Labels*>(fake.last_request->get());
  REQUIRE(labels != nullptr);
  CHECK(labels->values().at("team") == "ml");
  CHECK(labels->values().at("env") == "prod");

  // A top-level repeated path variable holds comma-separated values.
  resp = gateway.Handle(Get("/v1/args/x,y,z"));
  REQUIRE(resp.status == 200);
  c = dynamic_cast<flyteidl::core::Container*>(fake.last_request->get());
  REQUIRE(c != nullptr);
  CHECK(c->args_size() == 3);
}

TEST_CASE("A malformed JSON body is a 400 with the parser's message, never a crash", "[unit]") {
  FakeInvoker fake;
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  for (const std::string& body :
       std::vector<std::string>{"{", "{\"project\": ", "[1,2", "{\"project\": tru}", "\"\\q\"",
                                "{\"project\": {\"id\": 5}}", "nul", "}", std::string("\0", 1)}) {
    INFO(body);
    auto resp = gateway.Handle(Post("/api/v1/projects", body));
    CHECK(resp.status == 400);
    CHECK(HeaderOf(resp, "Content-Type") == "application/json");
    Json j = Json::parse(resp.body);
    CHECK(j["code"] == 3);
    CHECK_FALSE(j["message"].get<std::string>().empty());
  }
  CHECK(fake.calls->empty());

  // Invalid UTF-8 is protojson's syntax error at the string holding it, not an error body that
  // cannot itself be sent as JSON.
  auto bad_utf8 = gateway.Handle(Post("/api/v1/projects", "{\n  \"project\": {\"id\": \"a\xff\"}}"));
  CHECK(bad_utf8.status == 400);
  CHECK(Json::parse(bad_utf8.body)["message"] == "proto: syntax error (line 2:21): invalid UTF-8 in string");

  // Only the first JSON value is read, as Go's json.Decoder does; an empty body is empty.
  CHECK(gateway.Handle(Post("/api/v1/projects", R"({"project": {"id": "p"}} trailing)")).status ==
        200);
  CHECK(gateway.Handle(Post("/api/v1/projects", "")).status == 200);

  // application/json rejects unknown fields; grpc-gateway's default marshaler ignores them.
  auto strict = gateway.Handle(Post("/api/v1/projects", R"({"bogus": 1})"));
  CHECK(strict.status == 400);
  auto lenient = gateway.Handle(Post("/api/v1/projects", R"({"bogus": 1})", ""));
  CHECK(lenient.status == 200);

  // What protojson refuses and protobuf's own parser would take: a field given twice, a null in
  // a list or as a map value. Its messages, positions counted in characters.
  const auto message_of = [&](const std::string& body, const std::string& type) {
    auto resp = gateway.Handle(Post("/api/v1/projects", body, type));
    CHECK(resp.status == 400);
    return Json::parse(resp.body)["message"].get<std::string>();
  };
  for (const std::string type : {"application/json", ""}) {
    INFO(type);
    CHECK(message_of(R"({"project": {"id": "p", "id": "q"}})", type) ==
          "proto: (line 1:25): duplicate field \"id\"");
    CHECK(message_of("{\"project\": {\"name\": \"\u00e9t\u00e9\", \"labels\": {\"values\": {\"a\": null}}}}", type) ==
          "proto: (line 1:56): invalid value for string field value: null");
    CHECK(message_of("{\"project\": {\"id\": \"p\",\n  \"domains\": [{\"id\": \"d\"}, null]}}", type) ==
          "proto: syntax error (line 2:28): unexpected token null");
    CHECK(message_of(R"({"project": {"domains": [{"id": "d"}, null]}})", type) ==
          "proto: syntax error (line 1:39): unexpected token null");
    CHECK(message_of(R"({"project": {"labels": {"values": {"a": "1", "a": "2"}}}})", type) ==
          "proto: (line 1:46): duplicate map key \"a\"");
  }
  CHECK(fake.calls->size() == 3);  // the bodies accepted above, none of these
  // Unknown enum names are errors only where unknown fields are.
  CHECK(message_of(R"({"project": {"state": "NOPE"}})", "application/json") ==
        "proto: (line 1:23): invalid value for enum field state: \"NOPE\"");
  auto unknown_state = gateway.Handle(Post("/api/v1/projects", R"({"project": {"state": "NOPE", "id": "p"}})", ""));
  CHECK(unknown_state.status == 200);
  // Where they are discarded, a number's text names no value either: the field stays unset
  // (protobuf's parser alone would have read "1" as ARCHIVED).
  REQUIRE(gateway.Handle(Post("/api/v1/projects", R"({"project": {"id": "q", "state": "1"}})", "")).status == 200);
  REQUIRE(*fake.last_request);
  const auto& registered = dynamic_cast<const flyteidl::admin::ProjectRegisterRequest&>(**fake.last_request);
  CHECK(registered.project().id() == "q");
  CHECK(registered.project().state() == flyteidl::admin::Project::ACTIVE);
  // A null field is unset, a null member of a Struct is a value.
  CHECK(gateway.Handle(Post("/api/v1/projects", R"({"project": null})")).status == 200);
  CHECK(gateway.Handle(Post("/api/v1/projects", R"({"project": {"domains": null, "labels": {"values": null}}})"))
            .status == 200);
}

TEST_CASE("A malformed protobuf body is a 400 answered in protobuf", "[unit]") {
  FakeInvoker fake;
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  auto resp = gateway.Handle(
      Post("/api/v1/projects", std::string("\x0a\x05\x0a\x01", 4), "application/octet-stream"));
  CHECK(resp.status == 400);
  CHECK(HeaderOf(resp, "Content-Type") == "application/octet-stream");
  google::rpc::Status st;
  REQUIRE(st.ParseFromString(resp.body));
  CHECK(st.code() == 3);
  CHECK(st.message() == "proto: cannot parse invalid wire-format data");
  CHECK(fake.calls->empty());

  // project.id holding the byte 0xFF: Go's proto.Unmarshal names the problem.
  resp = gateway.Handle(Post("/api/v1/projects", std::string("\x0a\x03\x0a\x01\xff", 5), "application/octet-stream"));
  CHECK(resp.status == 400);
  REQUIRE(st.ParseFromString(resp.body));
  CHECK(st.code() == 3);
  CHECK(st.message() == "string field contains invalid UTF-8");
  // Read in order, as Go reads it: the string comes before the stray byte after it.
  resp = gateway.Handle(Post("/api/v1/projects", std::string("\x0a\x03\x0a\x01\xff\x0a", 6), "application/octet-stream"));
  REQUIRE(st.ParseFromString(resp.body));
  CHECK(st.message() == "string field contains invalid UTF-8");
  resp = gateway.Handle(Post("/api/v1/projects", std::string("\x0a\x05\x0a\x01", 4) + "\x0a\x01\xff", "application/octet-stream"));
  REQUIRE(st.ParseFromString(resp.body));
  CHECK(st.message() == "proto: cannot parse invalid wire-format data");
  CHECK(fake.calls->empty());

  // Deep inside nested literals; and past protobuf's nesting limit of 100, which this server keeps
  // (Go's is 10,000), without the check copying anything on the way.
  const auto nested_inputs = [](int depth, const std::string& text) {
    flyteidl::admin::ExecutionCreateRequest create;
    create.set_project("p");
    flyteidl::core::Literal* literal = &(*create.mutable_inputs()->mutable_literals())["x"];
    for (int i = 0; i < depth; ++i) literal = literal->mutable_collection()->add_literals();
    literal->mutable_scalar()->mutable_primitive()->set_string_value(text);
    return create.SerializeAsString();
  };
  std::string deep = nested_inputs(20, "PLACEHOLDER");
  deep.replace(deep.find("PLACEHOLDER"), 11, std::string(11, '\xff'));
  resp = gateway.Handle(Post("/api/v1/executions", deep, "application/octet-stream"));
  REQUIRE(st.ParseFromString(resp.body));
  CHECK(st.message() == "string field contains invalid UTF-8");
  resp = gateway.Handle(Post("/api/v1/executions", nested_inputs(150, "ok"), "application/octet-stream"));
  REQUIRE(st.ParseFromString(resp.body));
  CHECK(st.message() == "proto: cannot parse invalid wire-format data");
  CHECK(fake.calls->empty());

  flyteidl::admin::ProjectRegisterRequest good;
  good.mutable_project()->set_id("p1");
  resp = gateway.Handle(Post("/api/v1/projects", good.SerializeAsString(),
                             "application/octet-stream; charset=binary"));
  CHECK(resp.status == 200);
  auto* req = dynamic_cast<flyteidl::admin::ProjectRegisterRequest*>(fake.last_request->get());
  REQUIRE(req != nullptr);
  CHECK(req->project().id() == "p1");
}

TEST_CASE("Unknown paths are 404 and known paths under another method are 501", "[unit]") {
  FakeInvoker fake;
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  auto missing = gateway.Handle(Get("/api/v1/nothing"));
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"code":5,"message":"Not Found","details":[]})");

  auto trailing = gateway.Handle(Get("/api/v1/version/"));
  CHECK(trailing.status == 404);

  // grpc-gateway's routing handler maps 405 to codes.Unimplemented, hence HTTP 501.
  gw::HttpRequest del = Get("/api/v1/version");
  del.method = "DELETE";
  auto wrong = gateway.Handle(del);
  CHECK(wrong.status == 501);
  CHECK(wrong.body == R"({"code":12,"message":"Method Not Allowed","details":[]})");

  // A form POST to a GET route is served as the GET (path-length fallback).
  auto fallback =
      gateway.Handle(Post("/api/v1/tasks/p/d/n", "limit=7", "application/x-www-form-urlencoded"));
  CHECK(fallback.status == 200);
  auto* req = dynamic_cast<flyteidl::admin::ResourceListRequest*>(fake.last_request->get());
  REQUIRE(req != nullptr);
  CHECK(req->limit() == 7);

  auto bad_path = gateway.Handle(Get("/api/v1/tasks/%zz/d/n"));
  CHECK(bad_path.status == 400);
  CHECK(bad_path.body == "400 Bad Request");
  CHECK(fake.calls->size() == 1);
}

TEST_CASE("A handler error becomes its HTTP status and a google.rpc.Status body", "[unit]") {
  FakeInvoker fake;
  flyteidl::admin::EventFailureReason reason;
  reason.mutable_already_in_terminal_state()->set_current_phase("FAILED");
  google::protobuf::Any any;
  any.PackFrom(reason);
  fake.respond = [any](const MethodDescriptor&, flyte::plugin::CallContext& call, const Message&,
                       Message&) {
    call.AddResponseHeader("x-request-id", "req-1");
    flyte::plugin::Status st(flyte::plugin::StatusCode::kFailedPrecondition, "already terminal");
    st.AddDetail({any.type_url(), any.value()});
    return st;
  };
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  auto resp = gateway.Handle(Get("/api/v1/executions/p/d/n"));
  CHECK(resp.status == 400);
  CHECK(HeaderOf(resp, "Grpc-Metadata-X-Request-Id") == "req-1");
  CHECK(HeaderOf(resp, "X-Request-Id") == "req-1");
  // The request id (ours alone) does not turn the bare error into one sent after headers.
  CHECK(HeaderOf(resp, "Grpc-Metadata-Content-Type") == "<absent>");
  Json j = Json::parse(resp.body);
  CHECK(j["code"] == 9);
  CHECK(j["message"] == "already terminal");
  CHECK(j["details"][0]["@type"] == "type.googleapis.com/flyteidl.admin.EventFailureReason");
  CHECK(j["details"][0]["already_in_terminal_state"]["current_phase"] == "FAILED");
  // The default codec (no JSON content type asked for) names the details' fields lowerCamel,
  // as it does a response's.
  resp = gateway.Handle(Get("/api/v1/executions/p/d/n", {}));
  CHECK(resp.status == 400);
  j = Json::parse(resp.body);
  CHECK(j["details"][0]["alreadyInTerminalState"]["currentPhase"] == "FAILED");
  // The request's Content-Type picks the codec only when mime.ParseMediaType reads it whole:
  // grpc-gateway skips one whose parameters Go refuses.
  const auto details_name = [&](const std::string& content_type) {
    auto r = gateway.Handle(Get("/api/v1/executions/p/d/n", {{"content-type", content_type}}));
    auto d = Json::parse(r.body)["details"][0];
    return d.contains("already_in_terminal_state") ? std::string("proto") : std::string("camel");
  };
  for (const char* good : {"application/json", "application/json; charset=utf-8", "application/json;",
                           "Application/JSON ; CHARSET=\"utf-8\" ; q=1", "application/json; a=b; A=b",
                           "application/json; a=\"\""}) {
    CAPTURE(good);
    CHECK(details_name(good) == "proto");
  }
  for (const char* bad : {"application/json; charset", "application/json; a=b; a=c",
                          "application/json; a=\"x", "application/json; =b", "application/json; a=b c=d",
                          "application/json;;"}) {
    CAPTURE(bad);
    CHECK(details_name(bad) == "camel");
  }

  fake.respond = [](const MethodDescriptor&, flyte::plugin::CallContext&, const Message&,
                    Message&) {
    return flyte::plugin::Status(flyte::plugin::StatusCode::kUnauthenticated, "token expired");
  };
  gw::Gateway auth_gateway(ServedRouter(), fake.AsInvoker());
  resp = auth_gateway.Handle(Get("/api/v1/projects"));
  CHECK(resp.status == 401);
  CHECK(HeaderOf(resp, "Www-Authenticate") == "token expired");

  fake.respond = [](const MethodDescriptor&, flyte::plugin::CallContext&, const Message&,
                    Message&) {
    flyte::plugin::Status st(flyte::plugin::StatusCode::kNotFound, "gone");
    st.AddDetail({"type.googleapis.com/no.such.Detail", "x"});
    return st;
  };
  gw::Gateway opaque_gateway(ServedRouter(), fake.AsInvoker());
  resp = opaque_gateway.Handle(Get("/api/v1/projects"));
  CHECK(resp.status == 500);
  CHECK(resp.body == R"({"code": 13, "message": "failed to marshal error message"})");

  fake.respond = [](const MethodDescriptor&, flyte::plugin::CallContext&, const Message&,
                    Message&) -> flyte::plugin::Status { throw std::runtime_error("boom"); };
  gw::Gateway throwing_gateway(ServedRouter(), fake.AsInvoker());
  resp = throwing_gateway.Handle(Get("/api/v1/projects"));
  CHECK(resp.status == 500);
  CHECK(Json::parse(resp.body)["code"] == 13);
}

TEST_CASE("HttpStatusFromCode and StatusToJson follow grpc-gateway", "[unit]") {
  using C = flyte::plugin::StatusCode;
  const std::vector<std::pair<C, int>> table = {{C::kOk, 200},
                                                {C::kCancelled, 499},
                                                {C::kUnknown, 500},
                                                {C::kInvalidArgument, 400},
                                                {C::kDeadlineExceeded, 504},
                                                {C::kNotFound, 404},
                                                {C::kAlreadyExists, 409},
                                                {C::kPermissionDenied, 403},
                                                {C::kResourceExhausted, 429},
                                                {C::kFailedPrecondition, 400},
                                                {C::kAborted, 409},
                                                {C::kOutOfRange, 400},
                                                {C::kUnimplemented, 501},
                                                {C::kInternal, 500},
                                                {C::kUnavailable, 503},
                                                {C::kDataLoss, 500},
                                                {C::kUnauthenticated, 401}};
  for (auto [code, http] : table) {
    INFO(static_cast<int>(code));
    CHECK(gw::HttpStatusFromCode(code) == http);
  }
  CHECK(gw::StatusToJson(flyte::plugin::Status(C::kAlreadyExists, "dup \"x\"")) ==
        R"({"code":6,"message":"dup \"x\"","details":[]})");
}

TEST_CASE("Request headers become call metadata and response metadata becomes headers", "[unit]") {
  FakeInvoker fake;
  fake.respond = [](const MethodDescriptor&, flyte::plugin::CallContext& call, const Message&,
                    Message&) {
    call.AddResponseHeader("x-request-id", "abc");
    call.AddResponseHeader("custom-thing", "1");
    return flyte::plugin::Status::Ok();
  };
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  gw::HttpRequest req = Get("/api/v1/version", {{"accept", "application/json"},
                                                {"x-request-id", "abc"},
                                                {"authorization", "Bearer t"},
                                                {"grpc-metadata-tenant", "acme"},
                                                {"user-agent", "curl/8"},
                                                {"host", "admin.local"},
                                                {"x-forwarded-for", "1.1.1.1"},
                                                {"x-custom", "dropped"},
                                                {"grpc-metadata-blob-bin", "AAE="}});
  auto resp = gateway.Handle(req);
  REQUIRE(resp.status == 200);
  const auto& md = fake.calls->back().metadata;
  auto value = [&](const std::string& k) {
    auto it = md.find(k);
    return it == md.end() ? std::string("<absent>") : it->second;
  };
  CHECK(value("x-request-id") == "abc");
  CHECK(value("authorization") == "Bearer t");
  CHECK(value("grpcgateway-authorization") == "Bearer t");
  CHECK(value("grpcgateway-accept") == "application/json");
  CHECK(value("grpcgateway-user-agent") == "curl/8");
  CHECK(value("tenant") == "acme");
  CHECK(value("blob-bin") == std::string("\x00\x01", 2));
  CHECK(value("x-forwarded-host") == "admin.local");
  CHECK(value("x-forwarded-for") == "1.1.1.1, 10.1.2.3");
  CHECK(value("x-custom") == "<absent>");
  CHECK(value("grpcgateway-host") == "<absent>");

  CHECK(HeaderOf(resp, "Grpc-Metadata-X-Request-Id") == "abc");
  CHECK(HeaderOf(resp, "X-Request-Id") == "abc");
  CHECK(HeaderOf(resp, "Grpc-Metadata-Custom-Thing") == "1");

  CHECK(gw::DefaultHeaderMatcher("X-REQUEST-ID") == std::optional<std::string>("x-request-id"));
  CHECK(gw::DefaultHeaderMatcher("cookie") == std::optional<std::string>("grpcgateway-cookie"));
  CHECK(gw::DefaultHeaderMatcher("Grpc-Metadata-Foo") == std::optional<std::string>("foo"));
  CHECK_FALSE(gw::DefaultHeaderMatcher("flyte-authorization").has_value());

  gw::HttpRequest bad_bin = Get("/api/v1/version", {{"grpc-metadata-x-bin", "!!"}});
  CHECK(gateway.Handle(bad_bin).status == 400);
  gw::HttpRequest bad_timeout = Get("/api/v1/version", {{"grpc-timeout", "soon"}});
  CHECK(gateway.Handle(bad_timeout).status == 400);
}

TEST_CASE("Grpc-Timeout bounds the call: past it the answer is 504 DEADLINE_EXCEEDED, as upstream's hop",
          "[unit]") {
  FakeInvoker fake;
  fake.respond = [](const MethodDescriptor&, flyte::plugin::CallContext&, const Message&, Message&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return flyte::plugin::Status::Ok();
  };
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  auto late = gateway.Handle(Get("/api/v1/version", {{"grpc-timeout", "10m"}}));
  CHECK(late.status == 504);
  CHECK(nlohmann::json::parse(late.body)["code"] == 4);
  CHECK(nlohmann::json::parse(late.body)["message"] == "context deadline exceeded");
  CHECK(fake.calls->size() == 1);
  // Already expired (upstream's context.WithTimeout of zero or less): the call is not made.
  for (const std::string expired : {"0n", "-5S"}) {
    CHECK(gateway.Handle(Get("/api/v1/version", {{"grpc-timeout", expired}})).status == 504);
  }
  CHECK(fake.calls->size() == 1);
  CHECK(gateway.Handle(Get("/api/v1/version", {{"grpc-timeout", "5S"}})).status == 200);
  CHECK(gateway.Handle(Get("/api/v1/version", {{"grpc-timeout", "99999999999H"}})).status == 200);
}

TEST_CASE("UserInfo responses carry the subject and claims as headers, as FlyteAdmin's hook",
          "[unit]") {
  FakeInvoker fake;
  fake.respond = [](const MethodDescriptor&, flyte::plugin::CallContext&, const Message&,
                    Message& response) {
    auto& r = dynamic_cast<flyteidl::service::UserInfoResponse&>(response);
    r.set_subject("user-1");
    (*r.mutable_additional_claims()->mutable_fields())["given_name"].set_string_value("Jo");
    return flyte::plugin::Status::Ok();
  };
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  auto resp = gateway.Handle(Get("/me"));
  REQUIRE(resp.status == 200);
  CHECK(HeaderOf(resp, "X-User-Subject") == "user-1");
  CHECK(HeaderOf(resp, "X-User-Claim-Given-Name") == "\"Jo\"");
}

// ------------------------------------------------------------------------------------------------
// CORS

TEST_CASE("CORS preflight requests are answered as gorilla/handlers does", "[unit]") {
  gw::CorsOptions options;
  std::vector<std::pair<std::string, std::string>> extra;
  auto preflight = [](std::multimap<std::string, std::string> headers) {
    gw::HttpRequest r;
    r.method = "OPTIONS";
    r.target = "/api/v1/projects";
    r.headers = std::move(headers);
    return r;
  };

  auto ok = gw::ApplyCors(
      options,
      preflight({{"origin", "https://console.example"},
                 {"access-control-request-method", "PUT"},
                 {"access-control-request-headers", "flyte-authorization, content-type, accept"}}),
      extra);
  REQUIRE(ok.has_value());
  CHECK(ok->status == 200);
  CHECK(ok->body.empty());
  CHECK(HeaderOf(*ok, "Access-Control-Allow-Origin") == "*");
  CHECK(HeaderOf(*ok, "Access-Control-Allow-Credentials") == "true");
  CHECK(HeaderOf(*ok, "Access-Control-Allow-Headers") == "Flyte-Authorization,Content-Type");
  CHECK(HeaderOf(*ok, "Access-Control-Allow-Methods") == "PUT");
  CHECK(HeaderOf(*ok, "Vary") == "<absent>");

  // Content-Type is allowed whatever the configured list says, as upstream adds it.
  gw::CorsOptions only_auth = options;
  only_auth.allowed_headers = {"flyte-authorization"};
  auto content_type = gw::ApplyCors(
      only_auth,
      preflight({{"origin", "https://console.example"},
                 {"access-control-request-method", "POST"},
                 {"access-control-request-headers", "content-type"}}),
      extra);
  REQUIRE(content_type.has_value());
  CHECK(content_type->status == 200);
  CHECK(HeaderOf(*content_type, "Access-Control-Allow-Headers") == "Content-Type");

  auto simple_method = gw::ApplyCors(
      options, preflight({{"origin", "https://x"}, {"access-control-request-method", "GET"}}),
      extra);
  REQUIRE(simple_method.has_value());
  CHECK(HeaderOf(*simple_method, "Access-Control-Allow-Methods") == "<absent>");

  auto no_method = gw::ApplyCors(options, preflight({{"origin", "https://x"}}), extra);
  REQUIRE(no_method.has_value());
  CHECK(no_method->status == 400);
  CHECK(no_method->headers.empty());

  auto bad_method = gw::ApplyCors(
      options, preflight({{"origin", "https://x"}, {"access-control-request-method", "TRACE"}}),
      extra);
  REQUIRE(bad_method.has_value());
  CHECK(bad_method->status == 405);

  auto bad_header = gw::ApplyCors(options,
                                  preflight({{"origin", "https://x"},
                                             {"access-control-request-method", "POST"},
                                             {"access-control-request-headers", "X-Evil"}}),
                                  extra);
  REQUIRE(bad_header.has_value());
  CHECK(bad_header->status == 403);

  auto no_origin = gw::ApplyCors(options, preflight({}), extra);
  REQUIRE(no_origin.has_value());
  CHECK(no_origin->status == 200);
  CHECK(no_origin->headers.empty());
  CHECK(extra.empty());
}

TEST_CASE("CORS on simple requests echoes listed origins and varies on Origin", "[unit]") {
  gw::CorsOptions options;
  options.allowed_origins = {"https://a.example", "https://b.example"};
  std::vector<std::pair<std::string, std::string>> extra;
  gw::HttpRequest get = Get("/api/v1/version", {{"origin", "https://b.example"}});
  CHECK_FALSE(gw::ApplyCors(options, get, extra).has_value());
  std::map<std::string, std::string> h(extra.begin(), extra.end());
  CHECK(h["Access-Control-Allow-Origin"] == "https://b.example");
  CHECK(h["Access-Control-Allow-Credentials"] == "true");
  CHECK(h["Vary"] == "Origin");

  extra.clear();
  gw::HttpRequest stranger = Get("/api/v1/version", {{"origin", "https://evil.example"}});
  CHECK_FALSE(gw::ApplyCors(options, stranger, extra).has_value());
  CHECK(extra.empty());

  gw::HttpRequest preflight = Get("/api/v1/version", {{"origin", "https://evil.example"}});
  preflight.method = "OPTIONS";
  auto refused = gw::ApplyCors(options, preflight, extra);
  REQUIRE(refused.has_value());
  CHECK(refused->status == 200);
  CHECK(refused->headers.empty());

  options.enabled = false;
  CHECK_FALSE(gw::ApplyCors(options, preflight, extra).has_value());
  CHECK(extra.empty());
}

TEST_CASE("Enum path variables accept names and numbers", "[unit]") {
  FakeInvoker fake;
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  auto resp = gateway.Handle(Get("/api/v1/named_entities/WORKFLOW/p/d?limit=5"));
  REQUIRE(resp.status == 200);
  CHECK(fake.calls->back().method == "/flyteidl.service.AdminService/ListNamedEntities");
  auto* req = dynamic_cast<flyteidl::admin::NamedEntityListRequest*>(fake.last_request->get());
  REQUIRE(req != nullptr);
  CHECK(req->resource_type() == flyteidl::core::WORKFLOW);
  CHECK(req->project() == "p");
  CHECK(req->limit() == 5);

  resp = gateway.Handle(Get("/api/v1/named_entities/1/p/d"));
  REQUIRE(resp.status == 200);
  req = dynamic_cast<flyteidl::admin::NamedEntityListRequest*>(fake.last_request->get());
  CHECK(req->resource_type() == flyteidl::core::TASK);

  // As the generated gateway's runtime.Enum: numbers in any Go base, named values only.
  for (const char* number : {"0x2", "02", "0b10", "+2"}) {
    CAPTURE(number);
    resp = gateway.Handle(Get(std::string("/api/v1/named_entities/") + number + "/p/d"));
    REQUIRE(resp.status == 200);
    req = dynamic_cast<flyteidl::admin::NamedEntityListRequest*>(fake.last_request->get());
    CHECK(req->resource_type() == flyteidl::core::WORKFLOW);
  }
  for (const char* bad : {"NOPE", "99", "0x", "--1", "1_0"}) {
    CAPTURE(bad);
    resp = gateway.Handle(Get(std::string("/api/v1/named_entities/") + bad + "/p/d"));
    CHECK(resp.status == 400);
    CHECK(Json::parse(resp.body)["message"] ==
          std::string("type mismatch, parameter: resource_type, error: ") + bad + " is not valid");
  }
}

TEST_CASE("Successful calls report the gRPC content type as grpc-gateway does", "[unit]") {
  FakeInvoker fake;
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  auto ok = gateway.Handle(Get("/api/v1/version"));
  CHECK(HeaderOf(ok, "Grpc-Metadata-Content-Type") == "application/grpc");

  fake.respond = [](const MethodDescriptor&, flyte::plugin::CallContext&, const Message&,
                    Message&) { return flyte::plugin::NotFound("missing"); };
  gw::Gateway failing(ServedRouter(), fake.AsInvoker());
  auto err = failing.Handle(Get("/api/v1/version"));
  CHECK(err.status == 404);
  CHECK(HeaderOf(err, "Grpc-Metadata-Content-Type") == "<absent>");
}

TEST_CASE("A body bound to one field and a response_body select parts of the messages", "[unit]") {
  TestService ts = MakeService({
      {"SetLabels", "POST", "/v1/projects/{id}/labels", "labels", "flyteidl.admin.Project"},
      {"SetName", "POST", "/v1/projects/{id}/name", "name", "flyteidl.admin.Project"},
      {"GetLabels", "GET", "/v1/projects/{id}/labels", "", "flyteidl.admin.Project",
       "flyteidl.admin.Project", "labels"},
  });
  FakeInvoker fake;
  fake.respond = [](const MethodDescriptor& m, flyte::plugin::CallContext&, const Message&,
                    Message& response) {
    if (m.name() == "GetLabels") {
      auto& p = dynamic_cast<flyteidl::admin::Project&>(response);
      (*p.mutable_labels()->mutable_values())["k"] = "v";
      p.set_id("not in the body");
    }
    return flyte::plugin::Status::Ok();
  };
  gw::Gateway gateway(RouterFor(ts), fake.AsInvoker());

  auto resp =
      gateway.Handle(Post("/v1/projects/p1/labels?name=ignored", R"({"values": {"a": "b"}})"));
  REQUIRE(resp.status == 200);
  auto* p = dynamic_cast<flyteidl::admin::Project*>(fake.last_request->get());
  REQUIRE(p != nullptr);
  CHECK(p->id() == "p1");
  CHECK(p->labels().values().at("a") == "b");
  CHECK(p->name() == "ignored");  // not bound by the body or the path: from the query

  resp = gateway.Handle(Post("/v1/projects/p1/name", R"("Display")"));
  REQUIRE(resp.status == 200);
  p = dynamic_cast<flyteidl::admin::Project*>(fake.last_request->get());
  CHECK(p->name() == "Display");

  resp = gateway.Handle(Get("/v1/projects/p1/labels"));
  REQUIRE(resp.status == 200);
  CHECK(resp.body == R"({"values":{"k":"v"}})");
}

TEST_CASE("X-HTTP-Method-Override applies to form POSTs only", "[unit]") {
  FakeInvoker fake;
  gw::Gateway gateway(ServedRouter(), fake.AsInvoker());
  gw::HttpRequest req =
      Post("/api/v1/projects/p1", "name=Renamed", "application/x-www-form-urlencoded");
  req.headers.emplace("x-http-method-override", "put");
  auto resp = gateway.Handle(req);
  REQUIRE(resp.status == 200);
  CHECK(fake.calls->back().method == "/flyteidl.service.AdminService/UpdateProject");

  gw::HttpRequest json = Post("/api/v1/projects/p1", "{}");
  json.headers.emplace("x-http-method-override", "PUT");
  CHECK(gateway.Handle(json).status == 501);
}

TEST_CASE("Repeated well-known values are parsed from text one by one", "[unit]") {
  google::protobuf::ListValue list;
  CHECK(gw::SetFieldFromString(list, "values", "1.5").ok());
  CHECK(gw::SetFieldFromString(list, "values", R"("s")").ok());
  REQUIRE(list.values_size() == 2);
  CHECK(list.values(0).number_value() == 1.5);
  CHECK(list.values(1).string_value() == "s");
  CHECK_FALSE(gw::SetFieldFromString(list, "values", "{").ok());
}

namespace flyte::core::gateway::internal {
plugin::Status ParseJsonBody(std::string_view body, google::protobuf::Message& message,
                             bool discard_unknown);
}  // namespace flyte::core::gateway::internal

TEST_CASE("Where unknown values are discarded, a map entry naming no enum value is left out",
          "[unit]") {
  // flyteidl has no enum-valued map; a plugin's own service may.
  DescriptorPool pool(DescriptorPool::generated_pool());
  const auto file = FileProto(R"pb(
    name: "gateway_enum_map_test.proto" package: "gwtest" syntax: "proto3"
    enum_type { name: "Phase" value { name: "UNDEFINED" number: 0 } value { name: "RAN" number: 1 } }
    message_type {
      name: "Phases"
      nested_type {
        name: "ByNameEntry"
        options { map_entry: true }
        field { name: "key" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL }
        field { name: "value" number: 2 type: TYPE_ENUM type_name: ".gwtest.Phase" label: LABEL_OPTIONAL }
      }
      field { name: "by_name" number: 1 type: TYPE_MESSAGE type_name: ".gwtest.Phases.ByNameEntry"
              label: LABEL_REPEATED }
      field { name: "other" number: 2 type: TYPE_MESSAGE type_name: ".gwtest.Phases"
              label: LABEL_OPTIONAL }
    })pb");
  const auto* built = pool.BuildFile(file);
  REQUIRE(built != nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  const auto* d = built->message_type(0);

  const auto parse = [&](const std::string& json) {
    std::unique_ptr<Message> m(factory.GetPrototype(d)->New());
    auto st = gw::internal::ParseJsonBody(json, *m, /*discard_unknown=*/true);
    INFO(json << " -> " << st.message());
    REQUIRE(st.ok());
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_enums_as_ints = true;
    REQUIRE(google::protobuf::util::MessageToJsonString(*m, &out, options).ok());
    return nlohmann::json::parse(out);
  };
  CHECK(parse(R"({"by_name": {"a": "RAN", "b": "NOPE", "c": "UNDEFINED"}})") ==
        Json::parse(R"({"byName": {"a": 1, "c": 0}})"));
  // Dropped at the end, several in a row, all of them, the only one.
  CHECK(parse(R"({"by_name": {"a": "RAN" , "b": "NOPE",  "c": "1"}})") == Json::parse(R"({"byName": {"a": 1}})"));
  CHECK(parse(R"({"by_name": {"b": "NOPE", "c": "1", "a": "RAN"}})") == Json::parse(R"({"byName": {"a": 1}})"));
  CHECK(parse(R"({"by_name": {"b": "NOPE", "c": "1"}})") == Json::object());
  CHECK(parse(R"({"by_name": {"b": "NOPE"}, "other": {"by_name": {"x": "RAN", "y": "?"}}})") ==
        Json::parse(R"({"other": {"byName": {"x": 1}}})"));
  // protojson never stored the dropped key, so it may come again.
  CHECK(parse(R"({"by_name": {"a": "NOPE", "a": "RAN"}})") == Json::parse(R"({"byName": {"a": 1}})"));
  std::unique_ptr<Message> m(factory.GetPrototype(d)->New());
  CHECK(gw::internal::ParseJsonBody(R"({"by_name": {"a": "RAN", "a": "NOPE"}})", *m, true).message() ==
        "proto: (line 1:26): duplicate map key \"a\"");
  // Where unknown values are errors, the name is refused.
  CHECK(gw::internal::ParseJsonBody(R"({"by_name": {"a": "NOPE"}})", *m, false).message() ==
        "proto: (line 1:19): invalid value for enum field value: \"NOPE\"");
}
