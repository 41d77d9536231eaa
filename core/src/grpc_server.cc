// gRPC front end: one grpc::Service per served service, built from the dispatcher's method
// table, each method a raw (ByteBuffer) callback unary handler. Requests are parsed with the
// method's generated prototype and handed to the dispatcher, so every interceptor applies.
// Raw unary handlers answer in a single batch (unlike a generic bidi stream), and registering
// the services by name lets server reflection list them.
// A method with an asynchronous handler, behind a chain whose every link is asynchronous, runs
// without a waiting thread: the callback thread parses and starts the chain, and whichever
// thread completes the call answers it (DefaultReactor::Finish may be called from any thread,
// before or after the reactor is returned).
#include "flyte/core/grpc_server.h"

#include <map>

#include <boost/asio/post.hpp>

#include <grpc/grpc.h>
#include <grpc/slice.h>
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

grpc::Status ToGrpc(const plugin::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const plugin::Status s = BoundedForWire(status);
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message(), StatusDetailsToRpcStatusBytes(s));
}

plugin::CallContext::Metadata IncomingMetadata(const grpc::CallbackServerContext& ctx) {
  plugin::CallContext::Metadata md;
  for (const auto& [k, v] : ctx.client_metadata()) {
    md.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
  }
  return md;
}

// The request message, or null (with `error` set) when the bytes are not one.
std::unique_ptr<Message> ParseRequest(const MethodEntry& entry, const grpc::ByteBuffer* request_bytes,
                                      grpc::Status& error) {
  std::unique_ptr<Message> request(entry.request_prototype->New());
  // ProtoBufferReader reads without copying; it needs a non-const buffer but does not modify it.
  grpc::ProtoBufferReader reader(const_cast<grpc::ByteBuffer*>(request_bytes));
  if (!request->ParseFromZeroCopyStream(&reader)) {
    error = grpc::Status(grpc::StatusCode::INTERNAL, "grpc: error unmarshalling request: not a valid " +
                                                         entry.descriptor->input_type()->full_name());
    return nullptr;
  }
  return request;
}

// Whether gRPC core accepts `key: value` as metadata to send: a legal key, and for a key not
// ending in -bin a value of printable ASCII.
bool LegalMetadata(const std::string& key, const std::string& value) {
  const grpc_slice k = grpc_slice_from_static_buffer(key.data(), key.size());
  const grpc_slice v = grpc_slice_from_static_buffer(value.data(), value.size());
  return !key.empty() && grpc_header_key_is_legal(k) &&
         (grpc_is_binary_header(k) || grpc_header_nonbin_value_is_legal(v));
}

// The wire answer of a completed call: its outgoing metadata, then the status, or the response.
// Runs on the thread that completed the call, before Finish (which sends both).
grpc::Status Answer(grpc::CallbackServerContext* ctx, const plugin::CallContext& call,
                    const plugin::Status& status, const Message& response,
                    grpc::ByteBuffer* response_bytes) {
  for (const auto& [k, v] : call.outgoing()) {
    // gRPC aborts the process on metadata it cannot send (GPR_ASSERT on the batch's
    // INVALID_METADATA): whatever a plugin or an echoed client header put there, only what is
    // legal goes out.
    if (LegalMetadata(k, v)) ctx->AddInitialMetadata(k, v);
  }
  if (!status.ok()) return ToGrpc(status);
  std::string bytes;
  if (!response.SerializeToString(&bytes)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the response could not be serialized");
  }
  grpc::Slice slice(std::move(bytes));
  *response_bytes = grpc::ByteBuffer(&slice, 1);
  return grpc::Status::OK;
}

// Runs one call to completion on the calling thread.
grpc::Status Handle(const Dispatcher& dispatcher, const MethodEntry& entry,
                    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request_bytes,
                    grpc::ByteBuffer* response_bytes) {
  grpc::Status error;
  std::unique_ptr<Message> request = ParseRequest(entry, request_bytes, error);
  if (!request) return error;
  std::unique_ptr<Message> response(entry.response_prototype->New());
  plugin::CallContext call(entry.grpc_path, IncomingMetadata(*ctx), ctx->peer(), false);
  plugin::Status status = dispatcher.Invoke(entry, call, *request, *response);
  return Answer(ctx, call, status, *response, response_bytes);
}

// What an asynchronous call needs until it is answered. Owned by the answer callback, which the
// dispatcher keeps until the chain has let go of the call.
struct AsyncCall {
  AsyncCall(const MethodEntry& entry, grpc::CallbackServerContext* ctx,
            std::unique_ptr<Message> request_message)
      : request(std::move(request_message)),
        response(entry.response_prototype->New()),
        call(entry.grpc_path, IncomingMetadata(*ctx), ctx->peer(), false) {}
  std::unique_ptr<Message> request;
  std::unique_ptr<Message> response;
  plugin::CallContext call;
};

// Starts one call on the calling (gRPC callback) thread; whichever thread completes it finishes
// the reactor. ctx and response_bytes stay valid until Finish, and are not touched after it.
void StartAsync(const Dispatcher& dispatcher, const MethodEntry& entry,
                grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request_bytes,
                grpc::ByteBuffer* response_bytes, grpc::ServerUnaryReactor* reactor) {
  grpc::Status error;
  std::unique_ptr<Message> request = ParseRequest(entry, request_bytes, error);
  if (!request) {
    reactor->Finish(error);
    return;
  }
  auto state = std::make_shared<AsyncCall>(entry, ctx, std::move(request));
  AsyncCall& s = *state;
  dispatcher.InvokeAsync(
      entry, s.call, *s.request, *s.response,
      [state = std::move(state), ctx, response_bytes, reactor](plugin::Status status) {
        reactor->Finish(Answer(ctx, state->call, status, *state->response, response_bytes));
      });
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
                         if (entry->async_handler && dispatcher.ChainIsAsync()) {
                           StartAsync(dispatcher, *entry, ctx, req, resp, reactor);
                         } else if (handlers == nullptr) {
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
