// PluginID kDataProxy: signed-URL upload/download and GetData (flyteidl DataProxyService).
#pragma once

#include "flyteidl/service/dataproxy.pb.h"
#include "flyte/plugin/call_context.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin {

class FLYTE_PLUGIN_API_EXPORT DataProxy : public PluginBase {
 public:
  ~DataProxy() override;
  virtual Status CreateUploadLocation(CallContext& call,
                                      const flyteidl::service::CreateUploadLocationRequest& request,
                                      flyteidl::service::CreateUploadLocationResponse& response) = 0;
  virtual Status CreateDownloadLocation(
      CallContext& call, const flyteidl::service::CreateDownloadLocationRequest& request,
      flyteidl::service::CreateDownloadLocationResponse& response) = 0;
  virtual Status CreateDownloadLink(CallContext& call,
                                    const flyteidl::service::CreateDownloadLinkRequest& request,
                                    flyteidl::service::CreateDownloadLinkResponse& response) = 0;
  virtual Status GetData(CallContext& call, const flyteidl::service::GetDataRequest& request,
                         flyteidl::service::GetDataResponse& response) = 0;
};

}  // namespace flyte::plugin
