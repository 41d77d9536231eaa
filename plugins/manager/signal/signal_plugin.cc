// Registration of the signal manager.
#include "flyte/plugin/plugin.h"
#include "signal_manager.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  return host.Register(flyte::plugin::plugin_id::kSignalManager,
                       std::make_shared<flyte::plugins::manager::SignalManagerImpl>(host));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_signal", "0.1.0", "Signals: GetOrCreateSignal, ListSignals, SetSignal", Register)
