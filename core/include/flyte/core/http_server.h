// A small HTTP/1.1 server on Boost.Beast: keep-alive, a header read timeout, a body limit, and
// graceful shutdown. It knows nothing of routes: every request goes to one handler.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
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
  int threads = 2;
  std::chrono::seconds read_header_timeout{32};
  std::size_t body_limit = 64 * 1024 * 1024;
};

using HttpHandler = std::function<gateway::HttpResponse(const gateway::HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(HttpHandler handler, std::shared_ptr<spdlog::logger> logger);
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
