// The baseline: a bare gRPC server answering AdminService.GetVersion with a constant (and
// acknowledging node and task events), through the generated callback service: no plugins, no
// interceptors, no gateway, no database.
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include "flyteidl/service/admin.grpc.pb.h"

namespace {

// With --deferred, event acknowledgements are not given on the gRPC thread that received the
// call but queued to one answering thread, which takes everything queued and answers it: the
// hand-off every server that does its work elsewhere (a database writer) pays, without the work.
class Answerer {
 public:
  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  void Answer(grpc::ServerUnaryReactor* reactor) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(reactor);
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::vector<grpc::ServerUnaryReactor*> ready;
      ready.swap(queue_);
      lock.unlock();
      for (auto* r : ready) r->Finish(grpc::Status::OK);
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<grpc::ServerUnaryReactor*> queue_;
  bool stop_ = false;
  std::thread thread_;
};

class Echo final : public flyteidl::service::AdminService::CallbackService {
  grpc::ServerUnaryReactor* GetVersion(grpc::CallbackServerContext* ctx,
                                       const flyteidl::admin::GetVersionRequest*,
                                       flyteidl::admin::GetVersionResponse* response) override {
    auto* v = response->mutable_control_plane_version();
    v->set_version("0.1.0");
    v->set_build("000000000000");
    v->set_buildtime("2026-01-01T00:00:00Z");
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // The event-ingestion baseline: the same requests, acknowledged without any work.
  grpc::ServerUnaryReactor* CreateNodeEvent(grpc::CallbackServerContext* ctx,
                                            const flyteidl::admin::NodeExecutionEventRequest*,
                                            flyteidl::admin::NodeExecutionEventResponse*) override {
    return Acknowledge(ctx);
  }
  grpc::ServerUnaryReactor* CreateTaskEvent(grpc::CallbackServerContext* ctx,
                                            const flyteidl::admin::TaskExecutionEventRequest*,
                                            flyteidl::admin::TaskExecutionEventResponse*) override {
    return Acknowledge(ctx);
  }

 public:
  explicit Echo(Answerer* answerer) : answerer_(answerer) {}

 private:
  grpc::ServerUnaryReactor* Acknowledge(grpc::CallbackServerContext* ctx) {
    auto* reactor = ctx->DefaultReactor();
    if (answerer_) {
      answerer_->Answer(reactor);
    } else {
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }
  Answerer* answerer_;
};

}  // namespace

int main(int argc, char** argv) {
  // As flyteadmin does (hosts/flyteadmin/main.cc): Debian's Abseil checks every gRPC mutex's
  // lock order otherwise, a cost the baseline must not carry when the server does not.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  bool deferred = argc == 3 && std::strcmp(argv[2], "--deferred") == 0;
  if (argc != 2 && !deferred) {
    std::cerr << "usage: bench_echo_server <port> [--deferred]\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Answerer answerer;
  if (deferred) answerer.Start();
  Echo service(deferred ? &answerer : nullptr);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(std::string("127.0.0.1:") + argv[1], grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) return 1;
  int sig = 0;
  sigwait(&signals, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  answerer.Stop();
  return 0;
}
