// The gRPC server: health ("flyteadmin" SERVING), reflection, and every unary method of the
// dispatcher, so the interceptor chain runs for all of them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <grpcpp/grpcpp.h>

#include "flyte/core/dispatcher.h"

namespace spdlog {
class logger;
}

namespace flyte::core {

struct GrpcServerOptions {
  std::string address = "0.0.0.0:8089";
  bool reflection = true;
  int max_message_size_bytes = 0;  // 0: gRPC's default
  int max_concurrent_streams = 0;  // 0: gRPC's default
  // Threads that run the handlers. Handlers block (database, storage, group commit), and gRPC's
  // callback threads are few, so blocking there caps how many calls are in flight; 0 runs each
  // handler on the gRPC callback thread. Methods with an asynchronous handler behind a chain of
  // asynchronous interceptors (Dispatcher::ChainIsAsync) never use these threads: they start on
  // the callback thread and are answered by whichever thread completes them.
  int handler_threads = 64;
};

class GrpcServer {
 public:
  GrpcServer(const Dispatcher& dispatcher, std::shared_ptr<spdlog::logger> logger);
  ~GrpcServer();

  // Binds and starts serving. Fails when the port cannot be bound.
  plugin::Status Start(const GrpcServerOptions& options);
  int port() const { return port_; }

  // Stops accepting calls, lets in-flight calls finish until `deadline`, then cancels the rest.
  void Shutdown(std::chrono::system_clock::time_point deadline);
  void Wait();

 private:
  class Service;
  const Dispatcher& dispatcher_;
  std::shared_ptr<spdlog::logger> logger_;
  // Outlives the server: handlers still running at shutdown finish their calls on it.
  std::unique_ptr<boost::asio::thread_pool> handlers_;
  std::vector<std::unique_ptr<Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace flyte::core
