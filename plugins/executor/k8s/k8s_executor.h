// The Kubernetes WorkflowExecutor: FlyteWorkflow resources created on (and deleted from) the
// API server of the cluster chosen for each execution.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flyte/plugin/workflow_executor.h"
#include "flyte_workflow.h"
#include "kube_client.h"

namespace flyte::plugins::executor {

struct K8sTarget {
  std::string id;  // "" for the single in-cluster/kubeconfig target, as upstream
  bool enabled = true;
  KubeCredentials credentials;
  KubeClientSettings client;
  // The cluster's throttle, built from `client` (null: none); shared by copies of the target.
  std::shared_ptr<KubeRateLimiter> limiter;
};

struct WeightedId {
  std::string id;
  double weight = 0;
};

struct K8sExecutorConfig {
  std::vector<K8sTarget> targets;
  std::map<std::string, std::vector<WeightedId>> label_cluster_map;
  std::string default_execution_label;
  bool multi_cluster = false;  // clusterConfigs given (upstream's random selector)
  OffloadOptions offload;
  std::string role_name_key;
};

// client-go's throttle for `settings`: qps 0 and burst 0 take its defaults (5 and 10), a
// negative qps none (null).
std::shared_ptr<KubeRateLimiter> MakeRateLimiter(const KubeClientSettings& settings);

// Reads the plugin's section (falling back to upstream's root keys server.kube-config,
// server.master, clusters.*, flyteadmin.*). See README.md for the keys.
plugin::StatusOr<K8sExecutorConfig> ParseK8sExecutorConfig(const nlohmann::json& plugin_config,
                                                           const nlohmann::json& root_config);

// Upstream's resource-manager lookup of the EXECUTION_CLUSTER_LABEL matchable attribute for
// (project, domain, workflow, launch plan): its value, "" when none matches.
using ClusterLabelLookup = std::function<plugin::StatusOr<std::string>(
    const std::string& project, const std::string& domain, const std::string& workflow,
    const std::string& launch_plan)>;

class K8sWorkflowExecutor final : public plugin::WorkflowExecutor {
 public:
  explicit K8sWorkflowExecutor(K8sExecutorConfig config, ClusterLabelLookup lookup = nullptr);
  std::string Id() const override { return "DefaultK8sExecutor"; }
  plugin::StatusOr<plugin::ExecutionResponse> Execute(const plugin::ExecutionData& data) override;
  plugin::Status Abort(const plugin::AbortData& data) override;

  // The resource Execute would create, for tests and dry runs.
  plugin::StatusOr<nlohmann::json> Build(const plugin::ExecutionData& data) const;
  // Upstream GetTarget: by id when given, else by execution cluster label, the default label,
  // then any enabled cluster; seeded by the execution name so retries pick the same cluster.
  plugin::StatusOr<const K8sTarget*> SelectTarget(const std::string& target_id,
                                                  const std::string& label,
                                                  const std::string& execution_name) const;

 private:
  K8sExecutorConfig config_;
  ClusterLabelLookup lookup_;
};

}  // namespace flyte::plugins::executor
