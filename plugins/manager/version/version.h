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
  // Answers at once, on the calling thread.
  void GetVersionAsync(plugin::CallContext& call, const flyteidl::admin::GetVersionRequest& request,
                       flyteidl::admin::GetVersionResponse& response,
                       std::function<void(plugin::Status)> done) override {
    done(GetVersion(call, request, response));
  }

 private:
  plugin::BuildInfo build_;
};

}  // namespace flyte::plugins
