// A minimal Kubernetes API client: credentials from a kubeconfig or the in-cluster service
// account, and one HTTPS request at a time over Boost.Beast with a deadline.
#pragma once

#include <chrono>
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

// One request. Transport failures: DEADLINE_EXCEEDED when the deadline passed, UNAVAILABLE for
// connection and TLS failures; the message reads like Go's url.Error ("Post \"url\": ...").
// Any HTTP answer, error or not, comes back as a KubeResponse.
plugin::StatusOr<KubeResponse> KubeRequest(const KubeCredentials& credentials,
                                           const std::string& method, const std::string& target,
                                           const std::string& body,
                                           std::chrono::milliseconds timeout);

// Whether a 409 answer is apimachinery's AlreadyExists (by the Status's reason), not any conflict.
bool IsAlreadyExists(const KubeResponse& response);
// Go's os.ExpandEnv: $NAME and ${NAME} replaced by the variable's value (empty when unset).
std::string ExpandEnv(const std::string& text);

// The message of a Kubernetes Status body, or client-go's text for an answer without one.
std::string KubeErrorMessage(const KubeResponse& response, const std::string& method);

// Go's time.ParseDuration for the forms configs use ("30s", "1m30s", "500ms", "2h").
plugin::StatusOr<std::chrono::milliseconds> ParseGoDuration(const std::string& text);

}  // namespace flyte::plugins::executor
