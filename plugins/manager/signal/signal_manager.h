// Signal manager: the values gate nodes wait for (upstream impl/signal_manager.go):
// GetOrCreateSignal, ListSignals, SetSignal.
#pragma once

#include "flyte/manager/support.h"
#include "flyte/plugin/signal.h"

namespace flyte::plugins::manager {

class SignalManagerImpl final : public plugin::SignalManager {
 public:
  explicit SignalManagerImpl(const plugin::HostContext& host) : services_(host) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE) \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) override;
  FLYTE_SIGNAL_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  Services services_;
};

}  // namespace flyte::plugins::manager
