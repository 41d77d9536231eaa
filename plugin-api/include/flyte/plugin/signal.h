// PluginID kSignalManager: gate-node signals (flyteidl SignalService; upstream's SignalManager).
// The host binds each RPC to "flyteidl.service.SignalService/<Rpc>"; without a registered
// manager they answer UNIMPLEMENTED. Every method: fills `response`, returns OK or the error the
// client sees; thread-safe.
#pragma once

#include "flyteidl/admin/signal.pb.h"
#include "flyte/plugin/call_context.h"
#include "flyte/plugin/plugin_id.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

// X-macro rows (RPC name, request type, response type under flyteidl::), as for the AdminService
// areas in managers.h.
#define FLYTE_SIGNAL_MANAGER_RPCS(X)                                          \
  X(GetOrCreateSignal, admin::SignalGetOrCreateRequest, admin::Signal)        \
  X(ListSignals, admin::SignalListRequest, admin::SignalList)                 \
  X(SetSignal, admin::SignalSetRequest, admin::SignalSetResponse)

namespace flyte::plugin {

class FLYTE_PLUGIN_API_EXPORT SignalManager : public PluginBase {
 public:
  ~SignalManager() override;
#define FLYTE_SIGNAL_METHOD_(NAME, REQUEST, RESPONSE) \
  virtual Status NAME(CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) = 0;
  FLYTE_SIGNAL_MANAGER_RPCS(FLYTE_SIGNAL_METHOD_)
#undef FLYTE_SIGNAL_METHOD_
};

}  // namespace flyte::plugin
