// Registration of the version manager.
#include "flyte/plugin/plugin.h"
#include "version.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  return host.Register(flyte::plugin::plugin_id::kVersionManager,
                       std::make_shared<flyte::plugins::VersionManagerImpl>(host.Build()));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_version", "0.1.0", "AdminService.GetVersion: version, commit, build time",
             Register)
