// Server assembly: registry -> dispatcher -> gRPC and HTTP front ends.
#include "flyte/core/admin_server.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

#include "flyteidl_admin_openapi.h"
#include "flyte/core/build_info.h"
#include "flyte/plugin/http_hooks.h"

namespace flyte::core {

using plugin::Status;

namespace {

std::string OwnerOfRoute(const plugin::Registry& registry, const plugin::PluginBase* route) {
  auto entries = registry.Entries();
  auto members = registry.GetAllBase(plugin::plugin_id::kHttpHandler);
  // Entries() and GetAllBase() list a collection in the same registration order.
  std::size_t index = 0;
  for (const auto& e : entries) {
    if (e.id != plugin::plugin_id::kHttpHandler) continue;
    if (index < members.size() && members[index].get() == route) return e.owner + "/" + e.name;
    ++index;
  }
  return "?";
}

}  // namespace

Status AdminServer::WireRoutes(const plugin::Registry& registry) {
  auto& routes = routes_;
  auto& body_limit = route_body_limit_;
  routes.clear();
  body_limit = 0;
  for (auto& route : registry.GetAll<plugin::HttpRoute>(plugin::plugin_id::kHttpHandler)) {
    std::string owner = OwnerOfRoute(registry, route.get());
    std::string prefix;
    std::size_t limit = 0;
    try {
      prefix = route->PathPrefix();
      // A route whose bodies are spooled to disk needs no larger in-memory limit.
      if (route->SpoolDirectory().empty()) limit = route->MaxBodyBytes();
    } catch (const std::exception& e) {
      return plugin::Internal("HTTP route of " + owner + " threw: " + e.what());
    } catch (...) {
      return plugin::Internal("HTTP route of " + owner + " threw a non-standard exception");
    }
    if (prefix.empty() || prefix.front() != '/') {
      return plugin::InvalidArgument("HTTP route of " + owner + ": path prefix '" + prefix +
                                     "' does not start with '/'");
    }
    for (const auto& other : routes) {
      if (other.prefix == prefix) {
        return plugin::AlreadyExists("HTTP routes of " + other.owner + " and " + owner +
                                     " both claim the path prefix '" + prefix + "'");
      }
    }
    body_limit = std::max(body_limit, limit);
    routes.push_back({std::move(prefix), std::move(owner), std::move(route)});
  }
  std::stable_sort(routes.begin(), routes.end(),
                   [](const auto& a, const auto& b) { return a.prefix.size() > b.prefix.size(); });
  return Status::Ok();
}

AdminServer::AdminServer(PluginHost& host) : host_(host) {}

const AdminServer::PluginRoute* AdminServer::FindRoute(std::string_view path) const {
  for (const auto& r : routes_) {
    if (path.substr(0, r.prefix.size()) != r.prefix) continue;
    // "/a/b" claims "/a/b" and "/a/b/...", never "/a/bc".
    if (r.prefix.back() == '/' || path.size() == r.prefix.size() || path[r.prefix.size()] == '/') {
      return &r;
    }
  }
  return nullptr;
}

AdminServer::~AdminServer() { Shutdown(); }

Status AdminServer::Wire() {
  if (wired_) return Status::Ok();
  const auto& config = host_.config();
  auto& registry = host_.registry();
  dispatcher_ = std::make_unique<Dispatcher>(host_.logger());
  for (const char* service : kServedServices) {
    if (auto s = dispatcher_->DeclareService(service); !s.ok()) return s;
  }
  if (auto s = BindManagers(registry, *dispatcher_); !s.ok()) return s;

  if (auto extra = registry.Get<plugin::AdditionalGrpcService>(plugin::plugin_id::kAdditionalGrpcService)) {
    Status s;
    try {
      s = extra->Register(*dispatcher_);
    } catch (const std::exception& e) {
      s = plugin::Internal(std::string("threw: ") + e.what());
    } catch (...) {
      s = plugin::Internal("threw a non-standard exception");
    }
    if (!s.ok()) return Status(s.code(), "AdditionalGRPCService registration failed: " + s.message());
  }

  auto chain = registry.GetAll<plugin::UnaryInterceptor>(plugin::plugin_id::kInterceptor);
  std::stable_sort(chain.begin(), chain.end(),
                   [](const auto& a, const auto& b) { return a->Order() < b->Order(); });
  if (auto middleware = registry.Get<plugin::UnaryInterceptor>(plugin::plugin_id::kUnaryServiceMiddleware)) {
    chain.push_back(middleware);
  }
  dispatcher_->SetChain(std::move(chain));

  auto router = gateway::Router::FromServices(dispatcher_->Services());
  if (!router.ok()) return router.status();
  // Upstream's gateway calls its own gRPC server, so REST calls meet the same message limits:
  // the server's receive limit (server.grpc.maxMessageSizeBytes, else gRPC's 4 MiB), its send
  // limit (the configured one, else none), then the gateway client's receive limit (the
  // configured one, else 4 MiB). Each is RESOURCE_EXHAUSTED (HTTP 429) with gRPC's message.
  const int64_t configured = host_.config().Get<int>("server.grpc.maxMessageSizeBytes", 0);
  constexpr int64_t kGrpcDefaultReceive = 4 * 1024 * 1024;
  const int64_t receive_limit = configured > 0 ? configured : kGrpcDefaultReceive;
  gateway::Invoker invoker = [d = dispatcher_.get(), configured, receive_limit](
                                 const google::protobuf::MethodDescriptor& method, plugin::CallContext& call,
                                 const google::protobuf::Message& request, google::protobuf::Message& response) {
    const MethodEntry* entry = d->FindByDescriptor(method);
    if (!entry) return plugin::Unimplemented("unknown method " + method.full_name());
    auto too_large = [](const char* what, size_t size, int64_t limit) {
      return plugin::Status(plugin::StatusCode::kResourceExhausted,
                            std::string("grpc: ") + what + " message larger than max (" + std::to_string(size) +
                                " vs. " + std::to_string(limit) + ")");
    };
    if (size_t size = request.ByteSizeLong(); static_cast<int64_t>(size) > receive_limit) {
      return too_large("received", size, receive_limit);
    }
    plugin::Status status = d->Invoke(*entry, call, request, response);
    if (!status.ok()) return status;
    const size_t size = response.ByteSizeLong();
    if (configured > 0 && static_cast<int64_t>(size) > configured) {
      return too_large("trying to send", size, configured);
    }
    if (static_cast<int64_t>(size) > receive_limit) return too_large("received", size, receive_limit);
    return status;
  };
  gateway::HeaderMatcher matcher = gateway::DefaultHeaderMatcher;
  if (auto custom = registry.Get<plugin::CustomerHeaderMatcher>(plugin::plugin_id::kCustomerHeaderMatcher)) {
    matcher = [custom](std::string_view header) { return custom->Match(header); };
  }
  gateway_ = std::make_unique<gateway::Gateway>(std::move(router.value()), std::move(invoker), std::move(matcher));

  if (auto s = WireRoutes(registry); !s.ok()) return s;

  cors_.enabled = config.Get<bool>("server.security.allowCors", true);
  cors_.allowed_origins = config.Get<std::vector<std::string>>("server.security.allowedOrigins", {"*"});
  cors_.allowed_headers = config.Get<std::vector<std::string>>(
      "server.security.allowedHeaders", {"Content-Type", "flyte-authorization"});
  wired_ = true;
  return Status::Ok();
}

namespace {

// Go's net/http cleanPath: path.Clean's lexical rules ("//" and "." dropped, ".." removing the
// segment before it, never above the root), keeping a trailing slash.
std::string CleanHttpPath(std::string_view p) {
  if (p.empty()) return "/";
  std::vector<std::string_view> segments;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view seg = p.substr(i, j - i);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (auto seg : segments) {
    out += '/';
    out += seg;
  }
  if (out.empty()) out = "/";
  if (p.back() == '/' && out != "/") out += '/';
  return out;
}

// html.EscapeString, for the redirect's body.
std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      default: out += c;
    }
  }
  return out;
}

// What a plugin route sees of a request: views into it, the path without its query.
plugin::HttpRouteRequest RouteView(const gateway::HttpRequest& request, std::string_view path) {
  std::string_view target = request.target;
  auto q = target.find('?');
  return plugin::HttpRouteRequest{request.method,
                                  path,
                                  q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                                  request.headers,
                                  request.body,
                                  request.peer,
                                  request.body_file};
}

// The answer when a plugin route throws.
gateway::HttpResponse RouteThrew() {
  return gateway::HttpResponse{500, {{"Content-Type", "text/plain; charset=utf-8"}}, "internal error\n", {}};
}

}  // namespace

BodyPlan AdminServer::PlanBody(const gateway::HttpRequest& head) const {
  BodyPlan plan;
  std::string_view path = std::string_view(head.target).substr(0, head.target.find('?'));
  const PluginRoute* route = FindRoute(path);
  if (route == nullptr) return plan;
  std::string directory;
  std::optional<gateway::HttpResponse> refusal;
  try {
    directory = route->route->SpoolDirectory();
    if (directory.empty()) return plan;
    if (auto out = route->route->Admit(RouteView(head, path))) {
      refusal = gateway::HttpResponse{out->status, std::move(out->headers), std::move(out->body), {}};
    }
  } catch (const std::exception& e) {
    host_.logger()->error("HTTP route {} of {} threw before reading {} {}: {}", route->prefix, route->owner,
                          head.method, path, e.what());
    refusal = RouteThrew();
  } catch (...) {
    host_.logger()->error("HTTP route {} of {} threw a non-standard exception before reading {} {}",
                          route->prefix, route->owner, head.method, path);
    refusal = RouteThrew();
  }
  if (refusal) {
    gateway::HttpResponse response = std::move(*refusal);
    if (cors_.enabled) {
      std::vector<std::pair<std::string, std::string>> cors_headers;
      gateway::ApplyCors(cors_, head, cors_headers);
      for (auto& h : cors_headers) response.headers.push_back(std::move(h));
    }
    plan.refusal = std::move(response);
    return plan;
  }
  plan.spool_directory = std::move(directory);
  plan.spool_limit = route->route->MaxBodyBytes();
  return plan;
}

gateway::HttpResponse AdminServer::MetricsResponse() const {
  gateway::HttpResponse response;
  prometheus::TextSerializer serializer;
  response.body = serializer.Serialize(host_.CollectMetrics());
  response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return response;
}

gateway::HttpResponse AdminServer::HandleHttp(const gateway::HttpRequest& request) const {
  std::vector<std::pair<std::string, std::string>> cors_headers;
  if (cors_.enabled) {
    if (auto preflight = gateway::ApplyCors(cors_, request, cors_headers)) return *preflight;
  }
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  gateway::HttpResponse response;
  if (path == "/healthcheck") {
    response.status = 200;
  } else if (path == "/api/v1/openapi") {
    // Any method, as upstream's handler answers.
    response.status = 200;
    response.headers.emplace_back("Content-Type", "application/json");
    response.body = embedded::kAdminOpenApiJson;
  } else if (path == "/metrics" && request.method == "GET") {
    response = MetricsResponse();
  } else if (const PluginRoute* route = FindRoute(path)) {
    try {
      auto out = route->route->Handle(RouteView(request, path));
      response.status = out.status;
      response.headers = std::move(out.headers);
      response.body = std::move(out.body);
      response.body_file = std::move(out.body_file);
    } catch (const std::exception& e) {
      host_.logger()->error("HTTP route {} of {} threw on {} {}: {}", route->prefix, route->owner,
                            request.method, path, e.what());
      response = RouteThrew();
    } catch (...) {
      host_.logger()->error("HTTP route {} of {} threw a non-standard exception on {} {}", route->prefix,
                            route->owner, request.method, path);
      response = RouteThrew();
    }
  } else if (auto clean = CleanHttpPath(path);
             !path.empty() && path[0] == '/' && clean != path && request.method != "CONNECT") {
    // Go's ServeMux, in front of upstream's gateway, redirects a path that is not in canonical
    // form ("//", "/./", "/../") to the cleaned one, keeping the query. Plugin routes (tried
    // above) judge their own paths: the upload route refuses one escaping its prefix.
    auto q = request.target.find('?');
    std::string location = clean + (q == std::string::npos ? "" : request.target.substr(q));
    response.status = 301;
    response.headers.emplace_back("Location", location);
    if (request.method == "GET" || request.method == "HEAD") {
      response.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      response.body = "<a href=\"" + HtmlEscape(location) + "\">Moved Permanently</a>.\n\n";
    }
  } else {
    response = gateway_->Handle(request);
  }
  for (auto& h : cors_headers) response.headers.push_back(std::move(h));
  return response;
}

plugin::Status CheckServableConfig(const Config& config) {
  if (config.Get<bool>("server.security.secure", false)) {
    return plugin::Unimplemented("server.security.secure: TLS serving is not supported yet");
  }
  if (config.Get<bool>("server.security.useAuth", false)) {
    return plugin::Unimplemented("server.security.useAuth: authentication is not supported yet");
  }
  return plugin::Status::Ok();
}

Status AdminServer::Start() {
  if (auto s = Wire(); !s.ok()) return s;
  const auto& config = host_.config();
  if (auto s = CheckServableConfig(config); !s.ok()) return s;
  std::string bind = config.Get<std::string>("server.bindAddress", "0.0.0.0");
  int grpc_port = config.Get<int>("server.grpc.port", 8089);
  // Upstream's deprecated grpcPort defaults to 0: a port the system picks (the log says which).
  if (grpc_port < 0) grpc_port = config.Get<int>("server.grpcPort", 0);
  GrpcServerOptions grpc_options;
  grpc_options.address = (bind.find(':') != std::string::npos ? "[" + bind + "]" : bind) + ":" +
                         std::to_string(grpc_port);
  grpc_options.reflection = config.Get<bool>("server.grpc.serverReflection",
                                             config.Get<bool>("server.grpcServerReflection", true));
  grpc_options.max_message_size_bytes = config.Get<int>("server.grpc.maxMessageSizeBytes", 0);
  grpc_options.max_concurrent_streams = config.Get<int>("server.grpc.maxConcurrentStreams", 0);
  grpc_options.handler_threads = config.Get<int>("server.grpc.handlerThreads", 64);
  grpc_ = std::make_unique<GrpcServer>(*dispatcher_, host_.logger());
  if (auto s = grpc_->Start(grpc_options); !s.ok()) return s;

  HttpServerOptions http_options;
  http_options.address = bind;
  http_options.port = config.Get<int>("server.httpPort", 8088);
  int threads = config.Get<int>("server.httpThreads", 0);
  if (threads <= 0) threads = std::max(2u, std::thread::hardware_concurrency()) + 1;
  http_options.threads = threads;
  http_options.handler_threads = config.Get<int>("server.httpHandlerThreads", 64);
  http_options.read_header_timeout = std::chrono::seconds(config.Get<int>("server.readHeaderTimeoutSeconds", 32));
  // The message limits apply to the decoded request (the gateway's invoker checks them, as
  // upstream's gRPC hop does); the body limit only bounds memory, and JSON runs larger than the
  // protobuf it carries.
  if (grpc_options.max_message_size_bytes > 0) {
    http_options.body_limit = std::max(http_options.body_limit,
                                       4 * static_cast<std::size_t>(grpc_options.max_message_size_bytes));
  }
  // Plugin routes (e.g. data proxy uploads) may need larger bodies than the gateway.
  http_options.body_limit = std::max(http_options.body_limit, route_body_limit_);
  http_ = std::make_unique<HttpServer>([this](const gateway::HttpRequest& r) { return HandleHttp(r); },
                                       host_.logger(),
                                       [this](const gateway::HttpRequest& head) { return PlanBody(head); });
  if (auto s = http_->Start(http_options); !s.ok()) return s;
  host_.logger()->info("serving gRPC on {}:{} and HTTP on {}:{}", bind, grpc_->port(), bind, http_->port());

  // Upstream's profiling server: metrics, health, version and config on their own port, where
  // upstream's charts point Prometheus. It fails the start when it cannot listen, as upstream
  // panics; -1 (ours only) turns it off, 0 takes any free port.
  const int profiler_port = config.Get<int>("flyteadmin.profilerPort", 10254);
  if (profiler_port >= 0) {
    HttpServerOptions profiler_options;
    profiler_options.address = bind;
    profiler_options.port = profiler_port;
    profiler_options.threads = 1;
    profiler_options.read_header_timeout = http_options.read_header_timeout;
    profiler_options.body_limit = 1024 * 1024;
    profiler_ = std::make_unique<HttpServer>(
        [this](const gateway::HttpRequest& r) { return HandleProfiler(r); }, host_.logger());
    if (auto s = profiler_->Start(profiler_options); !s.ok()) {
      profiler_.reset();
      return Status(s.code(), "flyteadmin.profilerPort: " + s.message());
    }
    host_.logger()->info("serving metrics and profiling endpoints on {}:{}", bind, profiler_->port());
  }
  return Status::Ok();
}

gateway::HttpResponse AdminServer::HandleProfiler(const gateway::HttpRequest& request) const {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  gateway::HttpResponse response;
  const auto json_answer = [&response](const nlohmann::json& body) {
    response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
    response.body = body.dump();
  };
  if (path == "/metrics") {
    response = MetricsResponse();
  } else if (path == "/healthcheck") {
    response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    response.body = "OK";
  } else if (path == "/version") {
    const auto& build = ThisBuild();
    // Upstream's BuildVersion tags its timestamp `json:",string"`, which Go writes as a JSON
    // string holding the quoted string.
    json_answer({{"build", build.commit},
                 {"version", build.version},
                 {"timestamp", nlohmann::json(build.build_time).dump()}});
  } else if (path == "/config" && !host_.config().Get<bool>("prof.DisableConfigEndpoint", false)) {
    // As upstream, every section as loaded (embedded defaults, files, environment), secrets
    // given in it included: prof.DisableConfigEndpoint turns this off.
    json_answer(host_.config().root());
  } else {
    // Go's ServeMux for a path with no handler (Go's /debug/pprof is not served here).
    response.status = 404;
    response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.body = "404 page not found\n";
  }
  return response;
}

void AdminServer::Shutdown() {
  auto grace = std::chrono::seconds(host_.config().Get<int>("server.gracefulShutdownTimeoutSeconds", 10));
  // Both drain in parallel, as upstream: HTTP on its own thread, gRPC here.
  if (profiler_) profiler_->Shutdown(std::chrono::milliseconds(0));
  std::thread http_stop;
  if (http_) {
    http_stop = std::thread([this, grace] {
      http_->Shutdown(grace);
      host_.logger()->info("HTTP server stopped");
    });
  }
  if (grpc_) {
    grpc_->Shutdown(std::chrono::system_clock::now() + grace);
    grpc_->Wait();
    host_.logger()->info("gRPC server stopped");
  }
  if (http_stop.joinable()) http_stop.join();
  grpc_.reset();
  http_.reset();
  profiler_.reset();
}

}  // namespace flyte::core
