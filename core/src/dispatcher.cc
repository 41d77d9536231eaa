// Method table and interceptor chain: one path for gRPC and REST, so every interceptor applies
// to both.
#include "flyte/core/dispatcher.h"

#include <google/protobuf/message.h>
#include <spdlog/spdlog.h>

#include "google/rpc/status.pb.h"

namespace flyte::core {

using google::protobuf::DescriptorPool;
using google::protobuf::Message;
using google::protobuf::MessageFactory;
using plugin::Status;

namespace {

class ChainNext final : public plugin::UnaryNext {
 public:
  ChainNext(const std::vector<std::shared_ptr<plugin::UnaryInterceptor>>& chain, std::size_t index,
            const MethodEntry& entry)
      : chain_(chain), index_(index), entry_(entry) {}

  Status operator()(plugin::CallContext& call, const Message& request,
                    Message& response) const override {
    if (index_ < chain_.size()) {
      ChainNext next(chain_, index_ + 1, entry_);
      return chain_[index_]->Intercept(call, request, response, next);
    }
    if (!entry_.handler) {
      return plugin::Unimplemented("method " + entry_.grpc_path.substr(1) +
                                   " is not implemented by any loaded plugin");
    }
    return entry_.handler(call, request, response);
  }

 private:
  const std::vector<std::shared_ptr<plugin::UnaryInterceptor>>& chain_;
  std::size_t index_;
  const MethodEntry& entry_;
};

std::string Normalise(std::string_view full_method) {
  if (!full_method.empty() && full_method.front() == '/') full_method.remove_prefix(1);
  return "/" + std::string(full_method);
}

}  // namespace

Dispatcher::Dispatcher(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

plugin::StatusOr<MethodEntry*> Dispatcher::Declare(std::string_view full_method) {
  std::string path = Normalise(full_method);
  if (auto it = methods_.find(path); it != methods_.end()) return &it->second;
  auto slash = path.rfind('/');
  if (slash == 0 || slash == std::string::npos) {
    return plugin::InvalidArgument("method name '" + std::string(full_method) +
                                   "' is not of the form package.Service/Method");
  }
  std::string dotted = path.substr(1, slash - 1) + "." + path.substr(slash + 1);
  const auto* method = DescriptorPool::generated_pool()->FindMethodByName(dotted);
  if (!method) {
    return plugin::InvalidArgument("method " + path.substr(1) +
                                   " is not in the compiled protobuf descriptors");
  }
  auto* factory = MessageFactory::generated_factory();
  MethodEntry entry;
  entry.grpc_path = path;
  entry.descriptor = method;
  entry.request_prototype = factory->GetPrototype(method->input_type());
  entry.response_prototype = factory->GetPrototype(method->output_type());
  auto [it, inserted] = methods_.emplace(path, std::move(entry));
  return &it->second;
}

Status Dispatcher::DeclareService(std::string_view service_full_name) {
  const auto* service =
      DescriptorPool::generated_pool()->FindServiceByName(std::string(service_full_name));
  if (!service) {
    return plugin::InvalidArgument("service " + std::string(service_full_name) +
                                   " is not in the compiled protobuf descriptors");
  }
  for (int i = 0; i < service->method_count(); ++i) {
    auto declared = Declare(service->full_name() + "/" + service->method(i)->name());
    if (!declared.ok()) return declared.status();
  }
  return Status::Ok();
}

Status Dispatcher::AddUnary(std::string_view full_method, plugin::UnaryHandler handler) {
  return AddUnaryFor(full_method, std::move(handler), owner_for_add_);
}

Status Dispatcher::AddUnaryFor(std::string_view full_method, plugin::UnaryHandler handler,
                               std::string owner) {
  auto declared = Declare(full_method);
  if (!declared.ok()) return declared.status();
  MethodEntry* entry = declared.value();
  if (entry->handler) {
    return plugin::AlreadyExists("method " + entry->grpc_path.substr(1) + " is already served by '" +
                                 entry->owner + "'");
  }
  if (entry->descriptor->client_streaming() || entry->descriptor->server_streaming()) {
    return plugin::InvalidArgument("method " + entry->grpc_path.substr(1) +
                                   " is streaming; only unary methods can be added");
  }
  entry->handler = std::move(handler);
  entry->owner = std::move(owner);
  return Status::Ok();
}

void Dispatcher::SetChain(std::vector<std::shared_ptr<plugin::UnaryInterceptor>> chain) {
  chain_ = std::move(chain);
}

const MethodEntry* Dispatcher::Find(std::string_view grpc_path) const {
  auto it = methods_.find(grpc_path);
  return it == methods_.end() ? nullptr : &it->second;
}

const MethodEntry* Dispatcher::FindByDescriptor(
    const google::protobuf::MethodDescriptor& method) const {
  return Find("/" + method.service()->full_name() + "/" + method.name());
}

Status Dispatcher::Invoke(const MethodEntry& entry, plugin::CallContext& call,
                          const Message& request, Message& response) const {
  try {
    ChainNext first(chain_, 0, entry);
    return first(call, request, response);
  } catch (const std::exception& e) {
    logger_->error("{} failed with an exception: {}", entry.grpc_path, e.what());
  } catch (...) {
    logger_->error("{} failed with a non-standard exception", entry.grpc_path);
  }
  return plugin::Internal("");
}

std::vector<const google::protobuf::ServiceDescriptor*> Dispatcher::Services() const {
  std::vector<const google::protobuf::ServiceDescriptor*> out;
  for (const auto& [path, entry] : methods_) {
    const auto* s = entry.descriptor->service();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

std::string StatusDetailsToRpcStatusBytes(const Status& status) {
  if (status.details().empty()) return {};
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(status.message());
  for (const auto& d : status.details()) {
    auto* any = rpc.add_details();
    any->set_type_url(d.type_url);
    any->set_value(d.value);
  }
  return rpc.SerializeAsString();
}

}  // namespace flyte::core
