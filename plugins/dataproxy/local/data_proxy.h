// The DataProxyService on the host's object store: signed upload and download URLs that the host
// serves itself on its HTTP port (ObjectRoute), and GetData for flyte:// URIs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "flyte/plugin/data_proxy.h"
#include "flyte/plugin/http_handler.h"
#include "flyte/plugin/managers.h"
#include "flyte/plugin/storage.h"
#include "signed_url.h"

namespace flyte::plugins::dataproxy {

// The path prefix of the object route on the HTTP port.
inline constexpr const char* kObjectRoutePrefix = "/dataproxy/v1/objects/";

struct DataProxySettings {
  // server.dataProxy.* as upstream.
  // upload.maxSize, a k8s quantity ("6Mi") or bytes; 0: no limit. Upstream declares 6Mi and
  // never checks it: its uploads are bounded by the bucket, S3 taking at most 5 GiB in one PUT.
  // That is the default here.
  int64_t upload_max_size = int64_t{5} << 30;
  std::chrono::nanoseconds upload_max_expires_in = std::chrono::hours(1);
  int default_file_name_length = 20;
  std::string storage_prefix;
  std::chrono::nanoseconds download_max_expires_in = std::chrono::hours(1);
  // The plugin's own section: where clients reach the HTTP port, and the HMAC key.
  std::string public_base_url;
  std::string signing_key;

  // Reads `root` (the whole config) and `plugin` (the plugin's section). A missing signing key
  // is generated; a missing base URL is derived from server.bindAddress and server.httpPort.
  // INVALID_ARGUMENT names the key that is wrong.
  static plugin::StatusOr<DataProxySettings> FromConfig(const nlohmann::json& root,
                                                        const nlohmann::json& plugin);
};

using StoreResolver = std::function<plugin::StatusOr<plugin::ObjectStore*>()>;
using Clock = std::function<std::chrono::system_clock::time_point()>;

// What the service and the route share. Immutable; thread-safe.
class ObjectSpace {
 public:
  ObjectSpace(DataProxySettings settings, StoreResolver store, Clock clock = nullptr);

  const DataProxySettings& settings() const { return settings_; }
  const UrlSigner& signer() const { return signer_; }
  plugin::StatusOr<plugin::ObjectStore*> Store() const { return store_(); }
  std::chrono::system_clock::time_point Now() const { return clock_(); }

  // The native URI of base/<storagePrefix>/<parts...>, empty parts skipped, each part split on
  // '/'. INVALID_ARGUMENT if a part would leave its directory.
  plugin::StatusOr<std::string> Location(const std::vector<std::string>& parts) const;
  // The key under the container of a native URI of the store; INVALID_ARGUMENT if the URI is
  // not inside the container.
  plugin::StatusOr<std::string> KeyOf(const std::string& native_uri) const;
  // The native URI of a key.
  plugin::StatusOr<std::string> UriOf(const std::vector<std::string>& segments) const;
  // Unix seconds at which a URL handed out now with this lifetime stops working.
  int64_t ExpiresAt(std::chrono::nanoseconds lifetime) const;

 private:
  DataProxySettings settings_;
  UrlSigner signer_;
  StoreResolver store_;
  Clock clock_;
};

// The execution managers GetData and CreateDownloadLink read through (upstream's
// nodeExecutionManager and taskExecutionManager); nullptr when none is loaded.
struct ExecutionManagers {
  std::function<std::shared_ptr<plugin::NodeExecutionManager>()> node;
  std::function<std::shared_ptr<plugin::TaskExecutionManager>()> task;
};

class LocalDataProxy : public plugin::DataProxy {
 public:
  explicit LocalDataProxy(std::shared_ptr<const ObjectSpace> space, ExecutionManagers managers = {});

  plugin::Status CreateUploadLocation(
      plugin::CallContext& call, const flyteidl::service::CreateUploadLocationRequest& request,
      flyteidl::service::CreateUploadLocationResponse& response) override;
  plugin::Status CreateDownloadLocation(
      plugin::CallContext& call, const flyteidl::service::CreateDownloadLocationRequest& request,
      flyteidl::service::CreateDownloadLocationResponse& response) override;
  plugin::Status CreateDownloadLink(
      plugin::CallContext& call, const flyteidl::service::CreateDownloadLinkRequest& request,
      flyteidl::service::CreateDownloadLinkResponse& response) override;
  plugin::Status GetData(plugin::CallContext& call,
                         const flyteidl::service::GetDataRequest& request,
                         flyteidl::service::GetDataResponse& response) override;

 private:
  plugin::StatusOr<std::shared_ptr<plugin::NodeExecutionManager>> NodeManager() const;
  plugin::StatusOr<std::shared_ptr<plugin::TaskExecutionManager>> TaskManager() const;
  plugin::Status DataFromNode(plugin::CallContext& call, const flyteidl::core::NodeExecutionIdentifier& id,
                              char io, const std::string& name, flyteidl::service::GetDataResponse& response);
  plugin::Status DataFromTask(plugin::CallContext& call, const flyteidl::core::TaskExecutionIdentifier& id,
                              char io, const std::string& name, flyteidl::service::GetDataResponse& response);

  std::shared_ptr<const ObjectSpace> space_;
  ExecutionManagers managers_;
};

// Serves the signed URLs: PUT stores the body after checking signature, expiry, size and
// Content-MD5; GET returns the object. Refusals are 4xx with a one-line text body, and a refused
// upload writes nothing.
class ObjectRoute : public plugin::HttpRoute {
 public:
  explicit ObjectRoute(std::shared_ptr<const ObjectSpace> space);

  std::string PathPrefix() const override { return kObjectRoutePrefix; }
  // 0 (no bound) when upload.maxSize is 0.
  std::size_t MaxBodyBytes() const override;
  // The store's spool directory: uploads stream to a file that moves into place.
  std::string SpoolDirectory() const override;
  // Everything but the body is judged before the body is read (method, signature, expiry,
  // prefix, Content-MD5 header, a declared length over upload.maxSize).
  std::optional<plugin::HttpRouteResponse> Admit(const plugin::HttpRouteRequest& head) override;
  plugin::HttpRouteResponse Handle(const plugin::HttpRouteRequest& request) override;

 private:
  // The object a request names, once its URL and headers check out.
  struct Target {
    std::string key;
    std::string uri;
    plugin::ObjectStore* store;
  };
  // `check_expiry`: false for a body the host spooled, whose head Admit() already found in time
  // (a URL is valid for requests that start before it expires, as S3's presigned URLs are).
  std::variant<Target, plugin::HttpRouteResponse> Check(const plugin::HttpRouteRequest& request,
                                                        bool check_expiry = true) const;
  std::shared_ptr<const ObjectSpace> space_;
};

// The parts of a flyte:// data URL (upstream's pkg/common/flyte_url.go): `named` reads the form
// naming one literal (.../[io]/<name>), otherwise the whole-map form (.../[iod]). Views into
// `url`; nullopt when it does not match.
struct FlyteUrlParts {
  std::string_view project, domain, execution, node, attempt, name;
  char io = 0;
};
std::optional<FlyteUrlParts> ParseFlyteUrl(std::string_view url, bool named);

}  // namespace flyte::plugins::dataproxy
