// The assembled server: dispatcher wired from the registry, interceptor chain, gRPC on
// server.grpc.port, HTTP (/healthcheck, /metrics, plugin routes, REST gateway) on
// server.httpPort, and upstream's profiling server (/metrics, /healthcheck, /version, /config)
// on flyteadmin.profilerPort.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "flyte/core/dispatcher.h"
#include "flyte/core/gateway.h"
#include "flyte/core/grpc_server.h"
#include "flyte/core/http_server.h"
#include "flyte/core/plugin_host.h"
#include "flyte/plugin/http_handler.h"

namespace flyte::core {

// The flyteidl services this server answers (methods without a plugin answer UNIMPLEMENTED).
inline constexpr const char* kServedServices[] = {
    "flyteidl.service.AdminService",        "flyteidl.service.DataProxyService",
    "flyteidl.service.SignalService",       "flyteidl.service.AuthMetadataService",
    "flyteidl.service.IdentityService",
};

// Binds every AdminService/DataProxyService/SignalService method to the manager plugin
// registered for its area. Methods whose manager is absent stay UNIMPLEMENTED.
plugin::Status BindManagers(const plugin::Registry& registry, Dispatcher& dispatcher);

// What in `config` this build refuses to serve (TLS, authentication): OK when none.
plugin::Status CheckServableConfig(const Config& config);

class AdminServer {
 public:
  explicit AdminServer(PluginHost& host);
  ~AdminServer();

  // Wires the dispatcher (managers, additional services, interceptors) without listening.
  plugin::Status Wire();
  // Wire() if needed, then listens on both ports.
  plugin::Status Start();
  // Graceful: stop accepting, finish in-flight calls until server.gracefulShutdownTimeoutSeconds.
  void Shutdown();

  int grpc_port() const { return grpc_ ? grpc_->port() : 0; }
  int http_port() const { return http_ ? http_->port() : 0; }
  // 0 when flyteadmin.profilerPort is -1 (not served).
  int profiler_port() const { return profiler_ ? profiler_->port() : 0; }
  const Dispatcher& dispatcher() const { return *dispatcher_; }
  const gateway::Gateway& gateway() const { return *gateway_; }
  gateway::HttpResponse HandleHttp(const gateway::HttpRequest& request) const;
  // The profiling server's answer (upstream's profutils handlers, without Go's pprof).
  gateway::HttpResponse HandleProfiler(const gateway::HttpRequest& request) const;
  // The Prometheus text of every registered metric, as both ports serve it.
  gateway::HttpResponse MetricsResponse() const;
  // Before a body is read: a plugin route with a spool directory gets it streamed there, after
  // its Admit() let the request in; everything else is read into memory.
  BodyPlan PlanBody(const gateway::HttpRequest& head) const;

 private:
  PluginHost& host_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<HttpServer> profiler_;
  struct PluginRoute {
    std::string prefix;
    std::string owner;  // registering plugin, for error logs
    std::shared_ptr<plugin::HttpRoute> route;
  };
  // Collects the kHttpHandler routes, longest prefix first, and the largest body they accept.
  plugin::Status WireRoutes(const plugin::Registry& registry);
  // The route whose prefix matches `path` (longest first), or null.
  const PluginRoute* FindRoute(std::string_view path) const;

  gateway::CorsOptions cors_;
  std::vector<PluginRoute> routes_;  // longest prefix first
  std::size_t route_body_limit_ = 0;
  bool wired_ = false;
};

}  // namespace flyte::core
