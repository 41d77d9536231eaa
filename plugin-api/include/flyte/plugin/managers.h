// One interface per AdminService area. The host binds each AdminService RPC to the manager
// registered for its area; an RPC whose manager is absent answers UNIMPLEMENTED.
// Every method: fills `response`, returns OK or the error the client sees; thread-safe.
#pragma once

#include "flyteidl/admin/version.pb.h"
#include "flyte/plugin/call_context.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin {

// PluginID kVersionManager: AdminService.GetVersion.
class FLYTE_PLUGIN_API_EXPORT VersionManager : public PluginBase {
 public:
  ~VersionManager() override;
  virtual Status GetVersion(CallContext& call, const flyteidl::admin::GetVersionRequest& request,
                            flyteidl::admin::GetVersionResponse& response) = 0;
};

}  // namespace flyte::plugin
