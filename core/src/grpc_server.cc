// gRPC front end: a generic callback service that parses each request with the method's
// generated prototype and hands it to the dispatcher.
#include "flyte/core/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <spdlog/spdlog.h>

namespace flyte::core {

using google::protobuf::Message;

namespace {

grpc::Status ToGrpc(const plugin::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  // Messages are bounded as upstream (common.MaxResponseStatusBytes) so the status fits the
  // client's header list limit.
  std::string message = s.message().size() > 32000 ? s.message().substr(0, 32000) : s.message();
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::move(message),
                      StatusDetailsToRpcStatusBytes(s));
}

plugin::CallContext::Metadata IncomingMetadata(const grpc::GenericCallbackServerContext& ctx) {
  plugin::CallContext::Metadata md;
  for (const auto& [k, v] : ctx.client_metadata()) {
    md.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  }
  return md;
}

class UnaryReactor final : public grpc::ServerGenericBidiReactor {
 public:
  UnaryReactor(const Dispatcher& dispatcher, grpc::GenericCallbackServerContext* ctx,
               spdlog::logger& logger)
      : dispatcher_(dispatcher), ctx_(ctx), logger_(logger) {
    entry_ = dispatcher_.Find(ctx_->method());
    if (!entry_) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                          "unknown method " + ctx_->method()));
      return;
    }
    StartRead(&request_buffer_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "the client sent no request message"));
      return;
    }
    std::unique_ptr<Message> request(entry_->request_prototype->New());
    {
      grpc::ProtoBufferReader reader(&request_buffer_);
      if (!request->ParseFromZeroCopyStream(&reader)) {
        Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                            "grpc: error unmarshalling request: not a valid " +
                                entry_->descriptor->input_type()->full_name()));
        return;
      }
    }
    std::unique_ptr<Message> response(entry_->response_prototype->New());
    plugin::CallContext call(entry_->grpc_path, IncomingMetadata(*ctx_), ctx_->peer(), false);
    plugin::Status status = dispatcher_.Invoke(*entry_, call, *request, *response);
    for (const auto& [k, v] : call.outgoing()) ctx_->AddInitialMetadata(k, v);
    if (!status.ok()) {
      Finish(ToGrpc(status));
      return;
    }
    std::string bytes;
    if (!response->SerializeToString(&bytes)) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "the response could not be serialized"));
      return;
    }
    grpc::Slice slice(std::move(bytes));
    response_buffer_ = grpc::ByteBuffer(&slice, 1);
    StartWriteAndFinish(&response_buffer_, grpc::WriteOptions(), grpc::Status::OK);
  }

  void OnWriteDone(bool) override {}
  void OnDone() override { delete this; }

 private:
  const Dispatcher& dispatcher_;
  grpc::GenericCallbackServerContext* ctx_;
  spdlog::logger& logger_;
  const MethodEntry* entry_ = nullptr;
  grpc::ByteBuffer request_buffer_;
  grpc::ByteBuffer response_buffer_;
};

}  // namespace

class GrpcServer::Service final : public grpc::CallbackGenericService {
 public:
  Service(const Dispatcher& dispatcher, spdlog::logger& logger)
      : dispatcher_(dispatcher), logger_(logger) {}
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    // Owned by gRPC until OnDone deletes it.
    return new UnaryReactor(dispatcher_, ctx, logger_);
  }

 private:
  const Dispatcher& dispatcher_;
  spdlog::logger& logger_;
};

GrpcServer::GrpcServer(const Dispatcher& dispatcher, std::shared_ptr<spdlog::logger> logger)
    : dispatcher_(dispatcher), logger_(std::move(logger)) {}

GrpcServer::~GrpcServer() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
}

plugin::Status GrpcServer::Start(const GrpcServerOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  if (options.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  service_ = std::make_unique<Service>(dispatcher_, *logger_);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &port_);
  if (options.max_message_size_bytes > 0) {
    builder.SetMaxReceiveMessageSize(options.max_message_size_bytes);
    builder.SetMaxSendMessageSize(options.max_message_size_bytes);
  }
  if (options.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  }
  builder.RegisterCallbackGenericService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    return plugin::Unavailable("cannot listen for gRPC on " + options.address);
  }
  server_->GetHealthCheckService()->SetServingStatus("flyteadmin", true);
  server_->GetHealthCheckService()->SetServingStatus("", true);
  return plugin::Status::Ok();
}

void GrpcServer::Shutdown(std::chrono::system_clock::time_point deadline) {
  if (!server_) return;
  server_->GetHealthCheckService()->Shutdown();
  server_->Shutdown(deadline);
}

void GrpcServer::Wait() {
  if (server_) server_->Wait();
}

}  // namespace flyte::core
