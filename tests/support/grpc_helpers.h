// gRPC client helpers for tests: the standard health check without its generated stubs.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>
#include <string>

#include <catch2/catch.hpp>
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

// Asks grpc.reflection.v1alpha.ServerReflection for its service list and returns the raw
// response bytes (service names appear in them verbatim). The request is encoded by hand:
// ServerReflectionRequest{string list_services = 7} with an empty string.
inline std::string ReflectionListServicesRaw(int port) {
  grpc::GenericStub stub(Channel(port));
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call = stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](void* expected) {
    return cq.Next(&tag, &ok) && tag == expected && ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(reinterpret_cast<void*>(1))) return "";
  std::string request("\x3a\x00", 2);
  grpc::Slice slice(request);
  grpc::ByteBuffer send(&slice, 1);
  call->Write(send, reinterpret_cast<void*>(2));
  if (!step(reinterpret_cast<void*>(2))) return "";
  grpc::ByteBuffer receive;
  call->Read(&receive, reinterpret_cast<void*>(3));
  if (!step(reinterpret_cast<void*>(3))) return "";
  call->WritesDone(reinterpret_cast<void*>(4));
  step(reinterpret_cast<void*>(4));
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(reinterpret_cast<void*>(5));
  std::vector<grpc::Slice> slices;
  receive.Dump(&slices);
  std::string bytes;
  for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes;
}

// The race tests' verdict on calls made at once: exactly one succeeded, each other one failed
// with `loser` and, when `loser_says` is given, a message containing it. Returns the winner's
// index (-1 when none won, which has failed the test).
inline int SoleWinner(const std::vector<grpc::Status>& results, grpc::StatusCode loser,
                      const std::string& loser_says = "") {
  int winner = -1;
  for (int i = 0; i < static_cast<int>(results.size()); ++i) {
    INFO(i << ": " << results[static_cast<std::size_t>(i)].error_message());
    if (results[static_cast<std::size_t>(i)].ok()) {
      CHECK(winner == -1);
      winner = i;
    } else {
      CHECK(results[static_cast<std::size_t>(i)].error_code() == loser);
      if (!loser_says.empty()) {
        CHECK_THAT(results[static_cast<std::size_t>(i)].error_message(),
                   Catch::Contains(loser_says));
      }
    }
  }
  CHECK(winner >= 0);
  return winner;
}

}  // namespace flyte::test
