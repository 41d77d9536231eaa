// The baseline: a bare gRPC server answering AdminService.GetVersion with a constant (and
// acknowledging node and task events), through the generated callback service: no plugins, no
// interceptors, no gateway, no database.
#include <csignal>
#include <iostream>

#include <grpcpp/grpcpp.h>

#include "flyteidl/service/admin.grpc.pb.h"

namespace {

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
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* CreateTaskEvent(grpc::CallbackServerContext* ctx,
                                            const flyteidl::admin::TaskExecutionEventRequest*,
                                            flyteidl::admin::TaskExecutionEventResponse*) override {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bench_echo_server <port>\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Echo service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(std::string("127.0.0.1:") + argv[1], grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server) return 1;
  int sig = 0;
  sigwait(&signals, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}
