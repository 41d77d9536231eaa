// A minimal Kubernetes API client: credentials from a kubeconfig or the in-cluster service
// account, and one HTTPS request at a time over Boost.Beast with a deadline.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "flyte/plugin/status.h"

namespace flyte::plugins::executor {

// Where and how to reach one API server.
struct KubeCredentials {
  std::string host;         // from the server URL
  std::string port = "443";
  std::string path_prefix;  // a server URL may carry a path ("https://h/k8s" -> "/k8s")
  std::string ca_pem;       // empty: the system's trust store
  std::string client_cert_pem, client_key_pem;
  std::string token;        // bearer token, sent when set
  // Re-read before each request when set (projected service-account tokens rotate, and
  // client-go reloads them too); `token` holds the value read at start-up.
  std::string token_file;
  bool insecure_skip_verify = false;
};

// A kubeconfig file: the given context, else current-context. Relative file paths are read
// relative to the kubeconfig's folder, as kubectl does.
plugin::StatusOr<KubeCredentials> LoadKubeconfig(const std::string& path,
                                                 const std::string& context = "");

// The pod's service account: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the
// token and CA under the given paths.
struct InClusterPaths {
  std::string token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string host;  // empty: $KUBERNETES_SERVICE_HOST
  std::string port;  // empty: $KUBERNETES_SERVICE_PORT
};
plugin::StatusOr<KubeCredentials> LoadInCluster(const InClusterPaths& paths);

// An endpoint URL with a CA file and a token file (upstream's clusterConfigs entry).
plugin::StatusOr<KubeCredentials> CredentialsForEndpoint(const std::string& endpoint,
                                                         const std::string& ca_path,
                                                         const std::string& token_path);

plugin::Status ParseServerUrl(const std::string& url, KubeCredentials& out);

struct KubeResponse {
  int status = 0;
  std::string body;
};

// client-go's client-side throttle (flowcontrol.NewTokenBucketRateLimiter, a token bucket as
// golang.org/x/time/rate's): `burst` calls may go at once, then `qps` per second. Shared by every
// call to one cluster.
class KubeRateLimiter {
 public:
  KubeRateLimiter(double qps, double burst);
  KubeRateLimiter(const KubeRateLimiter&) = delete;
  KubeRateLimiter& operator=(const KubeRateLimiter&) = delete;
  // Reserves the next call's token: how long after `now` that call may go. When the wait would
  // be longer than `max_wait` (if positive), nothing is reserved and nullopt comes back.
  std::optional<std::chrono::nanoseconds> Reserve(std::chrono::steady_clock::time_point now,
                                                  std::chrono::milliseconds max_wait);

 private:
  std::mutex mu_;
  const double qps_;
  const double burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_{};
  bool started_ = false;
};

// upstream's KubeClientConfig: the throttle and the bound of each call, for one cluster.
struct KubeClientSettings {
  int64_t qps = 100;  // 0: client-go's default of 5; negative: no throttle
  int64_t burst = 25;  // 0: client-go's default of 10
  std::chrono::milliseconds timeout{30000};  // 0: no bound
};

// One request, bounded by `timeout` unless it is 0. Transport failures: DEADLINE_EXCEEDED when
// the deadline passed, UNAVAILABLE for
// connection and TLS failures; the message reads like Go's url.Error ("Post \"url\": ...").
// Any HTTP answer, error or not, comes back as a KubeResponse.
plugin::StatusOr<KubeResponse> KubeRequest(const KubeCredentials& credentials,
                                           const std::string& method, const std::string& target,
                                           const std::string& body,
                                           std::chrono::milliseconds timeout);
// The same, after waiting for `limiter`'s token (when given), as client-go's request does. A
// wait longer than `timeout` fails at once with DEADLINE_EXCEEDED and sends nothing.
plugin::StatusOr<KubeResponse> KubeRequest(const KubeCredentials& credentials, KubeRateLimiter* limiter,
                                           const std::string& method, const std::string& target,
                                           const std::string& body, std::chrono::milliseconds timeout);

// Whether a 409 answer is apimachinery's AlreadyExists (by the Status's reason), not any conflict.
bool IsAlreadyExists(const KubeResponse& response);
// Go's os.ExpandEnv: $NAME and ${NAME} replaced by the variable's value (empty when unset).
std::string ExpandEnv(const std::string& text);

// The message of a Kubernetes Status body, or client-go's text for an answer without one.
std::string KubeErrorMessage(const KubeResponse& response, const std::string& method);

// Go's time.ParseDuration for the forms configs use ("30s", "1m30s", "500ms", "2h").
plugin::StatusOr<std::chrono::milliseconds> ParseGoDuration(const std::string& text);

}  // namespace flyte::plugins::executor
