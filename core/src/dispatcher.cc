// Method table and interceptor chain: one path for gRPC and REST, so every interceptor applies
// to both.
#include "flyte/core/dispatcher.h"

#include <atomic>

#include <google/protobuf/message.h>
#include <spdlog/spdlog.h>

#include "google/rpc/status.pb.h"

namespace flyte::core {

using google::protobuf::DescriptorPool;
using google::protobuf::Message;
using google::protobuf::MessageFactory;
using plugin::Status;

namespace {

Status Unserved(const MethodEntry& entry) {
  return plugin::Unimplemented("method " + entry.grpc_path.substr(1) +
                               " is not implemented by any loaded plugin");
}

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
    if (!entry_.handler) return Unserved(entry_);
    return entry_.handler(call, request, response);
  }

 private:
  const std::vector<std::shared_ptr<plugin::UnaryInterceptor>>& chain_;
  std::size_t index_;
  const MethodEntry& entry_;
};

// The answer of one asynchronous call: the caller's `done`, called at most once. Every link's
// callback and every frame of the chain holds it, so the caller's state (bound into `done`)
// lives until the chain has let go of the call entirely, not only until it answered.
class AsyncAnswer {
 public:
  AsyncAnswer(std::shared_ptr<spdlog::logger> logger, const MethodEntry& entry,
              plugin::UnaryCallback done)
      : logger_(std::move(logger)), entry_(entry), done_(std::move(done)) {}

  // Answers unless already answered; returns whether this answered.
  bool Answer(Status status) {
    if (answered_.exchange(true, std::memory_order_acq_rel)) return false;
    try {
      done_(std::move(status));
    } catch (const std::exception& e) {
      logger_->error("{}: answering the call threw: {}", entry_.grpc_path, e.what());
    } catch (...) {
      logger_->error("{}: answering the call threw a non-standard exception", entry_.grpc_path);
    }
    return true;
  }

  // An exception nothing in the chain caught: INTERNAL, as Invoke answers, unless already
  // answered. `what` is null for a non-standard exception.
  void Fail(const char* what) {
    bool answered = answered_.load(std::memory_order_acquire);
    if (what) {
      logger_->error("{} failed with an exception{}: {}", entry_.grpc_path,
                     answered ? " after answering" : "", what);
    } else {
      logger_->error("{} failed with a non-standard exception{}", entry_.grpc_path,
                     answered ? " after answering" : "");
    }
    if (!answered) Answer(plugin::Internal(""));
  }

  // The callback given to the outermost link.
  plugin::UnaryCallback Outer(const std::shared_ptr<AsyncAnswer>& self) {
    return [self](Status status) {
      if (!self->Answer(std::move(status))) {
        self->logger_->error("{}: an interceptor answered the call twice; the first answer stands",
                             self->entry_.grpc_path);
      }
    };
  }

  // The callback given to the handler: runs the links' completion work (`inner`, from the
  // innermost link) once, and answers INTERNAL if that work throws before answering, so the
  // thread completing the call (a database writer, say) never sees the exception.
  plugin::UnaryCallback Handler(const std::shared_ptr<AsyncAnswer>& self, plugin::UnaryCallback inner) {
    return [self, inner = std::move(inner)](Status status) {
      if (self->handler_answered_.exchange(true, std::memory_order_acq_rel)) {
        self->logger_->error("{}: the handler answered the call twice; the first answer stands",
                             self->entry_.grpc_path);
        return;
      }
      try {
        inner(std::move(status));
      } catch (const std::exception& e) {
        self->Fail(e.what());
      } catch (...) {
        self->Fail(nullptr);
      }
    };
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
  const MethodEntry& entry_;
  plugin::UnaryCallback done_;
  std::atomic<bool> answered_{false};
  std::atomic<bool> handler_answered_{false};
};

class ChainNextAsync final : public plugin::UnaryNextAsync {
 public:
  ChainNextAsync(const std::vector<std::shared_ptr<plugin::UnaryInterceptor>>& chain,
                 std::size_t index, const MethodEntry& entry,
                 const std::shared_ptr<AsyncAnswer>& answer)
      : chain_(chain), index_(index), entry_(entry), answer_(answer) {}

  void operator()(plugin::CallContext& call, const Message& request, Message& response,
                  plugin::UnaryCallback done) const override {
    if (index_ < chain_.size()) {
      ChainNextAsync next(chain_, index_ + 1, entry_, answer_);
      chain_[index_]->InterceptAsync(call, request, response, next, std::move(done));
      return;
    }
    plugin::UnaryCallback answer = answer_->Handler(answer_, std::move(done));
    if (entry_.async_handler) {
      entry_.async_handler(call, request, response, std::move(answer));
    } else if (entry_.handler) {
      // A synchronous handler behind an asynchronous chain answers at once.
      answer(entry_.handler(call, request, response));
    } else {
      answer(Unserved(entry_));
    }
  }

 private:
  const std::vector<std::shared_ptr<plugin::UnaryInterceptor>>& chain_;
  std::size_t index_;
  const MethodEntry& entry_;
  // Held by every frame of the chain (see AsyncAnswer).
  std::shared_ptr<AsyncAnswer> answer_;
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

plugin::StatusOr<MethodEntry*> Dispatcher::DeclareServable(std::string_view full_method) {
  auto declared = Declare(full_method);
  if (!declared.ok()) return declared.status();
  MethodEntry* entry = declared.value();
  if (entry->handler || entry->async_handler) {
    return plugin::AlreadyExists("method " + entry->grpc_path.substr(1) + " is already served by '" +
                                 entry->owner + "'");
  }
  if (entry->descriptor->client_streaming() || entry->descriptor->server_streaming()) {
    return plugin::InvalidArgument("method " + entry->grpc_path.substr(1) +
                                   " is streaming; only unary methods can be added");
  }
  return entry;
}

Status Dispatcher::AddUnaryFor(std::string_view full_method, plugin::UnaryHandler handler,
                               std::string owner) {
  auto entry = DeclareServable(full_method);
  if (!entry.ok()) return entry.status();
  entry.value()->handler = std::move(handler);
  entry.value()->owner = std::move(owner);
  return Status::Ok();
}

Status Dispatcher::AddAsyncUnary(std::string_view full_method, plugin::AsyncUnaryHandler handler) {
  return AddAsyncUnaryFor(full_method, std::move(handler), owner_for_add_);
}

Status Dispatcher::AddAsyncUnaryFor(std::string_view full_method,
                                    plugin::AsyncUnaryHandler handler, std::string owner) {
  auto entry = DeclareServable(full_method);
  if (!entry.ok()) return entry.status();
  entry.value()->async_handler = std::move(handler);
  entry.value()->owner = std::move(owner);
  return Status::Ok();
}

void Dispatcher::SetChain(std::vector<std::shared_ptr<plugin::UnaryInterceptor>> chain) {
  chain_ = std::move(chain);
  chain_is_async_ = true;
  for (const auto& link : chain_) {
    bool supports = false;
    try {
      supports = link->SupportsAsync();
    } catch (...) {
      // A link that cannot say is served the safe way: its waiting default.
    }
    chain_is_async_ = chain_is_async_ && supports;
  }
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
  if (entry.async_handler) {
    return plugin::AwaitStatus(
        [&](plugin::UnaryCallback done) { InvokeAsync(entry, call, request, response, std::move(done)); });
  }
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

void Dispatcher::InvokeAsync(const MethodEntry& entry, plugin::CallContext& call,
                             const Message& request, Message& response,
                             plugin::UnaryCallback done) const {
  auto answer = std::make_shared<AsyncAnswer>(logger_, entry, std::move(done));
  try {
    ChainNextAsync first(chain_, 0, entry, answer);
    first(call, request, response, answer->Outer(answer));
  } catch (const std::exception& e) {
    answer->Fail(e.what());
  } catch (...) {
    answer->Fail(nullptr);
  }
}

std::vector<const google::protobuf::ServiceDescriptor*> Dispatcher::Services() const {
  std::vector<const google::protobuf::ServiceDescriptor*> out;
  for (const auto& [path, entry] : methods_) {
    const auto* s = entry.descriptor->service();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

Status BoundedForWire(const Status& status) {
  if (status.message().size() <= kMaxStatusMessageBytes) return status;
  return Status(status.code(), status.message().substr(0, kMaxStatusMessageBytes));
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
