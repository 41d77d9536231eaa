// gRPC front end: one grpc::Service per served service, built from the dispatcher's method
// table, each method a raw (ByteBuffer) callback unary handler. Requests are parsed with the
// method's generated prototype and handed to the dispatcher, so every interceptor applies.
// Raw unary handlers answer in a single batch (unlike a generic bidi stream), and registering
// the services by name lets server reflection list them.
#include "flyte/core/grpc_server.h"

#include <map>

#include <boost/asio/post.hpp>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/impl/service_type.h>
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

plugin::CallContext::Metadata IncomingMetadata(const grpc::CallbackServerContext& ctx) {
  plugin::CallContext::Metadata md;
  for (const auto& [k, v] : ctx.client_metadata()) {
    md.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  }
  return md;
}

// Runs one call to completion on the calling (gRPC callback) thread.
grpc::Status Handle(const Dispatcher& dispatcher, const MethodEntry& entry,
                    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request_bytes,
                    grpc::ByteBuffer* response_bytes) {
  std::unique_ptr<Message> request(entry.request_prototype->New());
  {
    // ProtoBufferReader reads without copying; it needs a non-const buffer but does not modify it.
    grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(request_bytes));
    if (!request->ParseFromZeroCopyStream(&reader)) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          "grpc: error unmarshalling request: not a valid " +
                              entry.descriptor->input_type()->full_name());
    }
  }
  std::unique_ptr<Message> response(entry.response_prototype->New());
  plugin::CallContext call(entry.grpc_path, IncomingMetadata(*ctx), ctx->peer(), false);
  plugin::Status status = dispatcher.Invoke(entry, call, *request, *response);
  for (const auto& [k, v] : call.outgoing()) ctx->AddInitialMetadata(k, v);
  if (!status.ok()) return ToGrpc(status);
  std::string bytes;
  if (!response->SerializeToString(&bytes)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the response could not be serialized");
  }
  grpc::Slice slice(std::move(bytes));
  *response_bytes = grpc::ByteBuffer(&slice, 1);
  return grpc::Status::OK;
}

}  // namespace

// One served service: every unary method of the dispatcher under that service name.
class GrpcServer::Service final : public grpc::Service {
 public:
  Service(const Dispatcher& dispatcher, const std::vector<const MethodEntry*>& entries,
          boost::asio::thread_pool* handlers) {
    int index = 0;
    for (const MethodEntry* entry : entries) {
      // grpc keeps the name pointer: the dispatcher's entries live as long as the server.
      AddMethod(new grpc::internal::RpcServiceMethod(entry->grpc_path.c_str(),
                                                     grpc::internal::RpcMethod::NORMAL_RPC, nullptr));
      MarkMethodRawCallback(
          index++, new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                       [&dispatcher, entry, handlers](grpc::CallbackServerContext* ctx,
                                                      const grpc::ByteBuffer* req, grpc::ByteBuffer* resp) {
                         auto* reactor = ctx->DefaultReactor();
                         if (handlers == nullptr) {
                           reactor->Finish(Handle(dispatcher, *entry, ctx, req, resp));
                         } else {
                           // ctx, req and resp stay valid until Finish.
                           boost::asio::post(*handlers, [&dispatcher, entry, ctx, req, resp, reactor] {
                             reactor->Finish(Handle(dispatcher, *entry, ctx, req, resp));
                           });
                         }
                         return reactor;
                       }));
    }
  }
};

GrpcServer::GrpcServer(const Dispatcher& dispatcher, std::shared_ptr<spdlog::logger> logger)
    : dispatcher_(dispatcher), logger_(std::move(logger)) {}

GrpcServer::~GrpcServer() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
  if (handlers_) handlers_->join();
}

plugin::Status GrpcServer::Start(const GrpcServerOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  if (options.reflection) grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::map<std::string, std::vector<const MethodEntry*>> by_service;
  for (const auto& [path, entry] : dispatcher_.methods()) {
    if (entry.descriptor->client_streaming() || entry.descriptor->server_streaming()) continue;
    by_service[entry.descriptor->service()->full_name()].push_back(&entry);
  }
  services_.clear();
  if (options.handler_threads > 0 && !handlers_) {
    handlers_ = std::make_unique<boost::asio::thread_pool>(options.handler_threads);
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, grpc::InsecureServerCredentials(), &port_);
  if (options.max_message_size_bytes > 0) {
    builder.SetMaxReceiveMessageSize(options.max_message_size_bytes);
    builder.SetMaxSendMessageSize(options.max_message_size_bytes);
  }
  if (options.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  }
  for (const auto& [name, entries] : by_service) {
    services_.push_back(std::make_unique<Service>(dispatcher_, entries, handlers_.get()));
    builder.RegisterService(services_.back().get());
  }
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
  if (handlers_) handlers_->join();
}

}  // namespace flyte::core
