// The REST gateway: every google.api.http binding of the served services, found from the
// descriptors at start-up, transcoded to in-process unary calls the way grpc-gateway v2 does.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "flyte/plugin/call_context.h"
#include "flyte/plugin/status.h"

namespace flyte::core::gateway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path with optional "?query"
  std::multimap<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string peer;  // "ipv4:127.0.0.1:5555"
  std::string body_file;  // a spooled body (plugin routes with a spool directory), else empty
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string body_file;  // sent instead of `body` when not empty (streamed from the file)
};

// One HTTP binding of one method (the method's rule or one of its additional_bindings).
struct Route {
  std::string http_method;  // "GET", "POST", "PUT", "PATCH", "DELETE" (or custom kind)
  std::string path_template;  // as written, e.g. "/api/v1/tasks/{id.project}/{id.domain}"
  std::string body;           // "" (no body), "*", or a field path
  std::string response_body;  // "" or a field path
  const google::protobuf::MethodDescriptor* method = nullptr;
};

struct RouteMatch {
  const Route* route = nullptr;
  // Field path ("id.project") -> percent-decoded value, for each path variable.
  std::vector<std::pair<std::string, std::string>> path_params;
};

// Path templates of google/api/http.proto: literal segments, {field.path}, {field=pattern},
// "*", "**" and a trailing ":verb".
class Router {
 public:
  // Every binding of every method of `services`. Fails on a template it cannot parse.
  static plugin::StatusOr<Router> FromServices(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  const std::vector<Route>& routes() const { return routes_; }

  // The route for this method and path (no query string), or nullopt. When the path matches
  // only under other HTTP methods, *path_matched_other_method is set (for 405 vs 404).
  std::optional<RouteMatch> Find(std::string_view http_method, std::string_view path,
                                 bool* path_matched_other_method = nullptr) const;

 private:
  struct Compiled;
  std::vector<Route> routes_;
  std::vector<std::shared_ptr<const Compiled>> compiled_;  // parallel to routes_
};

// Runs a unary call in-process: the host's interceptor chain, then the handler.
using Invoker = std::function<plugin::Status(const google::protobuf::MethodDescriptor& method,
                                             plugin::CallContext& call,
                                             const google::protobuf::Message& request,
                                             google::protobuf::Message& response)>;

// Decides which HTTP headers become call metadata, and under which key (lower-case);
// nullopt drops the header. Default: DefaultHeaderMatcher below.
using HeaderMatcher = std::function<std::optional<std::string>(std::string_view header)>;

// grpc-gateway's default rule plus upstream's X-Request-Id passthrough: permanent HTTP headers
// (Authorization included) become "grpcgateway-<name>", "Grpc-Metadata-<k>" becomes "<k>",
// "x-request-id" passes as is. Gateway::Handle also adds a plain "authorization" entry, as
// grpc-gateway's AnnotateContext does.
std::optional<std::string> DefaultHeaderMatcher(std::string_view header);

struct CorsOptions {
  bool enabled = true;
  std::vector<std::string> allowed_origins{"*"};
  std::vector<std::string> allowed_headers{"Content-Type", "flyte-authorization"};
};

class Gateway {
 public:
  Gateway(Router router, Invoker invoker, HeaderMatcher matcher = DefaultHeaderMatcher);

  // Transcodes one HTTP request: route, request message from path, query and body (JSON, or
  // binary protobuf for application/octet-stream), invoke, response in the same encoding.
  // Errors: google.rpc.Status body with grpc-gateway's code -> HTTP status mapping; unknown
  // path 404, known path with another method 501 "Method Not Allowed" (grpc-gateway v2 maps its
  // 405 to UNIMPLEMENTED). Never throws.
  HttpResponse Handle(const HttpRequest& request) const;

  const Router& router() const { return router_; }

 private:
  Router router_;
  Invoker invoker_;
  HeaderMatcher matcher_;
};

// CORS as upstream (gorilla/handlers CORS with credentials around the whole mux). Returns a
// complete response for a preflight (OPTIONS) request; otherwise nullopt after adding the CORS
// headers the eventual response must carry to `extra_headers`.
std::optional<HttpResponse> ApplyCors(const CorsOptions& options, const HttpRequest& request,
                                      std::vector<std::pair<std::string, std::string>>& extra_headers);

// grpc-gateway's runtime.HTTPStatusFromCode.
int HttpStatusFromCode(plugin::StatusCode code);

// Protobuf JSON in the gateway's shape: proto (snake_case) field names, unpopulated fields
// emitted (scalars as defaults, messages as null, repeated as [], maps as {}), enums as names,
// 64-bit integers as strings, well-known types in their JSON forms.
plugin::StatusOr<std::string> MessageToGatewayJson(const google::protobuf::Message& message);

// Parses JSON (proto or json_name field names) into `message`; unknown fields are an error, as
// grpc-gateway's default unmarshaler.
plugin::Status MergeGatewayJson(std::string_view json, google::protobuf::Message& message);

// Sets a field addressed by a dotted path ("sort_by.key", "id.project") from its text form
// (query parameters and path variables): scalars, enums by name or number, bytes (base64),
// repeated fields append, Timestamp/Duration/wrapper types as grpc-gateway accepts them.
plugin::Status SetFieldFromString(google::protobuf::Message& message, std::string_view field_path,
                                  std::string_view value);

// google.rpc.Status as JSON: {"code": n, "message": "...", "details": [...]}.
std::string StatusToJson(const plugin::Status& status);

}  // namespace flyte::core::gateway
