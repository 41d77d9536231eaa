// Version manager: AdminService.GetVersion from the host's build information.
#pragma once

#include "flyte/plugin/host_context.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins {

class VersionManagerImpl final : public plugin::VersionManager {
 public:
  explicit VersionManagerImpl(plugin::BuildInfo build);
  plugin::Status GetVersion(plugin::CallContext& call, const flyteidl::admin::GetVersionRequest& request,
                            flyteidl::admin::GetVersionResponse& response) override;

 private:
  plugin::BuildInfo build_;
};

}  // namespace flyte::plugins
