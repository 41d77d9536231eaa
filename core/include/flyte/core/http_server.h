// A small HTTP/1.1 server on Boost.Beast: keep-alive, a header read timeout, a body limit, bodies
// streamed to and from files where asked, and graceful shutdown. It knows nothing of routes:
// every request goes to one handler (and, before its body, to one planner).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "flyte/core/gateway.h"
#include "flyte/plugin/status.h"

namespace spdlog {
class logger;
}

namespace flyte::core {

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  int port = 8088;
  // I/O threads. Handlers run on them while one stays free of handlers (quick calls need no
  // hand-off); beyond that on `handler_threads` threads of their own, so that slow calls never
  // hold every I/O thread and other connections (health checks among them) are still answered.
  int threads = 2;
  int handler_threads = 64;
  // From a request's first byte until its header is read (for a connection's first request,
  // from its accept). A kept-alive connection may wait idle for its next request without limit,
  // as Go's net/http does with only ReadHeaderTimeout set.
  std::chrono::seconds read_header_timeout{32};
  std::size_t body_limit = 64 * 1024 * 1024;
  // A spooled (streamed) body: how long it may make no progress, and the lowest average rate it
  // must keep: after the first `body_idle_timeout`, each `body_min_rate` bytes received buy one
  // more second (Apache's mod_reqtimeout MinRate), so that a body trickled in a byte at a time
  // cannot hold its connection for good. 0: no lowest rate.
  std::chrono::milliseconds body_idle_timeout{60000};
  std::uint64_t body_min_rate = 500;
};

using HttpHandler = std::function<gateway::HttpResponse(const gateway::HttpRequest&)>;

// What to do with a request's body, decided from its head (`body` empty) before it is read.
struct BodyPlan {
  // Answered at once: the body is not read and the connection closes after the answer.
  std::optional<gateway::HttpResponse> refusal;
  // Where to write the body, streamed, instead of memory (HttpRequest::body_file); empty: memory.
  std::string spool_directory;
  // For a spooled body: its largest size, 0 for none (413 above it).
  std::uint64_t spool_limit = 0;
};
using BodyPlanner = std::function<BodyPlan(const gateway::HttpRequest& head)>;

class HttpServer {
 public:
  // `planner` (optional) is asked about every request that has a body.
  HttpServer(HttpHandler handler, std::shared_ptr<spdlog::logger> logger, BodyPlanner planner = nullptr);
  ~HttpServer();

  plugin::Status Start(const HttpServerOptions& options);
  int port() const;

  // Stops accepting, lets requests in progress finish until `grace` runs out, then closes all.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flyte::core
