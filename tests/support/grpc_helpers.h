// gRPC client helpers for tests: the standard health check without its generated stubs.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>
#include <string>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

namespace flyte::test {

inline std::shared_ptr<grpc::Channel> Channel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
}

// grpc.health.v1.Health/Check for `service`; returns the serving status number
// (1 SERVING, 2 NOT_SERVING) or -(gRPC code) on error. The two messages are encoded by hand:
// HealthCheckRequest{string service = 1}, HealthCheckResponse{ServingStatus status = 1}.
inline int HealthCheck(int port, const std::string& service) {
  grpc::GenericStub stub(Channel(port));
  std::string request;
  request.push_back('\x0a');
  request.push_back(static_cast<char>(service.size()));
  request += service;
  grpc::Slice slice(request);
  grpc::ByteBuffer send(&slice, 1);
  grpc::ByteBuffer receive;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Status status;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &send, &receive,
                 [&](grpc::Status s) {
                   std::lock_guard lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  if (!status.ok()) return -static_cast<int>(status.error_code());
  std::vector<grpc::Slice> slices;
  receive.Dump(&slices);
  std::string bytes;
  for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (bytes.size() == 2 && bytes[0] == '\x08') return bytes[1];
  return 0;  // status UNKNOWN (0) encodes as an empty message
}

}  // namespace flyte::test
