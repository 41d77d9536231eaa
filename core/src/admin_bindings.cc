// AdminService, DataProxyService and SignalService RPCs bound to the manager plugins of their areas.
#include <memory>

#include "flyte/core/admin_server.h"
#include "flyte/plugin/data_proxy.h"
#include "flyte/plugin/managers.h"
#include "flyte/plugin/signal.h"

namespace flyte::core {

namespace {

using google::protobuf::Message;
using plugin::Status;

// Adapts `Status (Manager::*)(CallContext&, const Req&, Resp&)` to a dispatcher handler.
template <typename Manager, typename Req, typename Resp>
Status Bind(Dispatcher& dispatcher, const std::string& method, const std::shared_ptr<Manager>& manager,
            Status (Manager::*fn)(plugin::CallContext&, const Req&, Resp&), const std::string& owner) {
  return dispatcher.AddUnaryFor(
      method,
      [manager, fn](plugin::CallContext& call, const Message& request, Message& response) {
        return ((*manager).*fn)(call, static_cast<const Req&>(request), static_cast<Resp&>(response));
      },
      owner);
}

// Adapts `void (Manager::*)(CallContext&, const Req&, Resp&, done)` to an asynchronous handler.
template <typename Manager, typename Req, typename Resp>
Status BindAsync(Dispatcher& dispatcher, const std::string& method, const std::shared_ptr<Manager>& manager,
                 void (Manager::*fn)(plugin::CallContext&, const Req&, Resp&, std::function<void(Status)>),
                 const std::string& owner) {
  return dispatcher.AddAsyncUnaryFor(
      method,
      [manager, fn](plugin::CallContext& call, const Message& request, Message& response,
                    plugin::UnaryCallback done) {
        ((*manager).*fn)(call, static_cast<const Req&>(request), static_cast<Resp&>(response), std::move(done));
      },
      owner);
}

std::string OwnerOf(const plugin::Registry& registry, plugin::PluginId id) {
  for (const auto& e : registry.Entries()) {
    if (e.id == id && e.name.empty()) return e.owner;
  }
  return "";
}

}  // namespace

Status BindManagers(const plugin::Registry& registry, Dispatcher& dispatcher) {
  const std::string admin = "flyteidl.service.AdminService/";
  // For each manager area: if a manager is registered, bind each of its RPCs, through the
  // callback form for those that have one.
#define FLYTE_BIND_ASYNC_RPC_(NAME, REQUEST, RESPONSE)                                            \
  if (auto s = BindAsync(dispatcher, admin + #NAME, m, &Manager::NAME##Async, owner); !s.ok()) return s;
#define FLYTE_BIND_RPC_(NAME, REQUEST, RESPONSE)                                                   \
  if (auto* e = dispatcher.Find("/" + admin + #NAME); !(e && e->async_handler)) {                       \
    if (auto s = Bind(dispatcher, admin + #NAME, m, &Manager::NAME, owner); !s.ok()) return s;    \
  }
#define FLYTE_BIND_AREA_(CLASS, ID, RPCS, ASYNC_RPCS)                  \
  if (auto m = registry.Get<plugin::CLASS>(plugin::plugin_id::ID)) {   \
    using Manager = plugin::CLASS;                                      \
    std::string owner = OwnerOf(registry, plugin::plugin_id::ID);       \
    ASYNC_RPCS(FLYTE_BIND_ASYNC_RPC_)                                   \
    RPCS(FLYTE_BIND_RPC_)                                               \
  }
  FLYTE_MANAGER_AREAS(FLYTE_BIND_AREA_)
#undef FLYTE_BIND_AREA_
#undef FLYTE_BIND_ASYNC_RPC_
#undef FLYTE_BIND_RPC_

  if (auto m = registry.Get<plugin::DataProxy>(plugin::plugin_id::kDataProxy)) {
    const std::string svc = "flyteidl.service.DataProxyService/";
    std::string owner = OwnerOf(registry, plugin::plugin_id::kDataProxy);
    for (auto s : {Bind(dispatcher, svc + "CreateUploadLocation", m, &plugin::DataProxy::CreateUploadLocation, owner),
                   Bind(dispatcher, svc + "CreateDownloadLocation", m, &plugin::DataProxy::CreateDownloadLocation, owner),
                   Bind(dispatcher, svc + "CreateDownloadLink", m, &plugin::DataProxy::CreateDownloadLink, owner),
                   Bind(dispatcher, svc + "GetData", m, &plugin::DataProxy::GetData, owner)}) {
      if (!s.ok()) return s;
    }
  }
  if (auto m = registry.Get<plugin::SignalManager>(plugin::plugin_id::kSignalManager)) {
    using Manager = plugin::SignalManager;
    const std::string signal = "flyteidl.service.SignalService/";
    std::string owner = OwnerOf(registry, plugin::plugin_id::kSignalManager);
#define FLYTE_BIND_SIGNAL_RPC_(NAME, REQUEST, RESPONSE) \
  if (auto s = Bind(dispatcher, signal + #NAME, m, &Manager::NAME, owner); !s.ok()) return s;
    FLYTE_SIGNAL_MANAGER_RPCS(FLYTE_BIND_SIGNAL_RPC_)
#undef FLYTE_BIND_SIGNAL_RPC_
  }
  return Status::Ok();
}

}  // namespace flyte::core
