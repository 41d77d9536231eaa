// K8sWorkflowExecutor: upstream's k8s_executor.go with executioncluster's target selection.
#include "k8s_executor.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::executor {

namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key, const std::string& fallback = "") {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                : fallback;
}

uint64_t Fnv64a(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Collection(const std::string& ns) {
  return "/apis/flyte.lyft.com/v1alpha1/namespaces/" + ns + "/flyteworkflows";
}

// The qps, burst and timeout keys of `section` over `base`. `where` names the section in errors
// ("" for the plugin's own keys).
plugin::StatusOr<KubeClientSettings> ReadClientSettings(const json& section, const std::string& where,
                                                        KubeClientSettings base) {
  if (!section.is_object()) return base;
  const std::string prefix = where.empty() ? "" : where + ".";
  for (const char* key : {"qps", "burst"}) {
    if (!section.contains(key) || section[key].is_null()) continue;
    // Upstream decodes weakly: "50" and 50.0 are 50 (a fraction is refused, as the root
    // config's integers refuse one).
    const json& v = section[key];
    std::optional<int64_t> n;
    if (v.is_number_integer()) {
      n = v.get<int64_t>();
    } else if (v.is_number_float() && std::trunc(v.get<double>()) == v.get<double>() &&
               std::fabs(v.get<double>()) < 9.2e18) {
      n = static_cast<int64_t>(v.get<double>());
    } else if (v.is_string()) {
      n = v.get<std::string>().empty() ? std::optional<int64_t>(0) : plugin::GoParseInt(v.get<std::string>());
    }
    if (!n) return plugin::InvalidArgument(prefix + key + " must be a whole number, not " + v.dump());
    (std::string(key) == "qps" ? base.qps : base.burst) = *n;
  }
  if (base.burst < 0) {
    return plugin::InvalidArgument(prefix + "burst must not be negative, not " + std::to_string(base.burst));
  }
  if (section.contains("timeout") && !section["timeout"].is_null() && section["timeout"] != "") {
    const json& v = section["timeout"];
    if (!v.is_string()) return plugin::InvalidArgument(prefix + "timeout must be a duration such as \"30s\"");
    auto d = ParseGoDuration(v.get<std::string>());
    if (!d.ok()) return plugin::InvalidArgument(prefix + "timeout: " + d.status().message());
    base.timeout = d.value();
  }
  return base;
}

}  // namespace

std::shared_ptr<KubeRateLimiter> MakeRateLimiter(const KubeClientSettings& settings) {
  const int64_t qps = settings.qps == 0 ? 5 : settings.qps;
  const int64_t burst = settings.burst == 0 ? 10 : settings.burst;
  if (qps < 0) return nullptr;
  return std::make_shared<KubeRateLimiter>(static_cast<double>(qps), static_cast<double>(burst));
}

plugin::StatusOr<K8sExecutorConfig> ParseK8sExecutorConfig(const json& plugin_config,
                                                           const json& root_config) {
  K8sExecutorConfig out;
  const json empty = json::object();
  const json& pc = plugin_config.is_object() ? plugin_config : empty;
  const json& root = root_config.is_object() ? root_config : empty;
  const json& server = root.contains("server") ? root["server"] : empty;
  const json& admin = root.contains("flyteadmin") ? root["flyteadmin"] : empty;

  // upstream's server.kubeClientConfig (qps 100, burst 25, timeout 30s when absent); the
  // plugin's own qps/burst/timeout keys replace its fields one by one.
  KubeClientSettings client;
  if (server.contains("kubeClientConfig")) {
    auto read = ReadClientSettings(server["kubeClientConfig"], "server.kubeClientConfig", client);
    if (!read.ok()) return read.status();
    client = read.value();
  }
  {
    auto read = ReadClientSettings(pc, "", client);
    if (!read.ok()) return read.status();
    client = read.value();
  }
  auto flag = [&](const char* key) {
    if (pc.contains(key) && pc[key].is_boolean()) return pc[key].get<bool>();
    return admin.contains(key) && admin[key].is_boolean() && admin[key].get<bool>();
  };
  out.offload.offload_closure = flag("useOffloadedWorkflowClosure");
  out.offload.offload_inputs = flag("useOffloadedInputs");
  out.offload.console_url = Str(pc, "consoleUrl", Str(admin, "consoleUrl"));
  // The launcher hands over flyteadmin.roleNameKey with each execution; this plugin key, when
  // set, replaces it.
  out.role_name_key = Str(pc, "roleNameKey");

  const json& clusters = pc.contains("clusters") ? pc["clusters"]
                         : root.contains("clusters") ? root["clusters"]
                                                     : empty;
  const json configs = clusters.is_object() && clusters.contains("clusterConfigs")
                           ? clusters["clusterConfigs"]
                           : json::array();
  if (!configs.is_array()) return plugin::InvalidArgument("clusters.clusterConfigs must be a list");
  // The pod's own service account, where the plugin's `inCluster` keys say it is.
  InClusterPaths in_cluster;
  {
    const json& ic = pc.contains("inCluster") ? pc["inCluster"] : empty;
    in_cluster.token_path = Str(ic, "tokenPath", in_cluster.token_path);
    in_cluster.ca_path = Str(ic, "caPath", in_cluster.ca_path);
    in_cluster.host = Str(ic, "host");
    in_cluster.port = Str(ic, "port");
  }
  if (configs.empty()) {
    // Upstream NewInCluster: a kubeconfig when given, else the pod's service account.
    K8sTarget target;
    // The plugin's own key, else upstream's `server.kube-config`.
    // $HOME and other variables expand in the path, as upstream's os.ExpandEnv does.
    const std::string kubeconfig = ExpandEnv(Str(pc, "kubeConfig", Str(server, "kube-config")));
    plugin::StatusOr<KubeCredentials> cred = plugin::Internal("unset");
    if (!kubeconfig.empty()) {
      cred = LoadKubeconfig(kubeconfig, Str(pc, "kubeContext"));
    } else {
      cred = LoadInCluster(in_cluster);
    }
    if (!cred.ok()) return cred.status();
    target.credentials = std::move(cred.value());
    target.client = client;
    target.limiter = MakeRateLimiter(client);
    // client-go's BuildConfigFromFlags(master, kubeconfig): the master overrides a kubeconfig's
    // server; the pod's own configuration has none to override.
    if (auto master = Str(pc, "master", Str(server, "master")); !master.empty() && !kubeconfig.empty()) {
      if (auto s = ParseServerUrl(master, target.credentials); !s.ok()) return s;
    }
    out.targets.push_back(std::move(target));
    return out;
  }

  out.multi_cluster = true;
  for (const auto& c : configs) {
    K8sTarget target;
    target.id = Str(c, "name");
    if (std::any_of(out.targets.begin(), out.targets.end(),
                    [&](const K8sTarget& t) { return t.id == target.id; })) {
      return plugin::InvalidArgument("duplicate clusters for name " + target.id);
    }
    target.enabled = c.value("enabled", false);
    plugin::StatusOr<KubeCredentials> cred = plugin::Internal("unset");
    if (auto kc = ExpandEnv(Str(c, "kubeConfig")); !kc.empty()) {
      cred = LoadKubeconfig(kc, Str(c, "kubeContext"));
    } else if (c.value("inCluster", false)) {
      // Upstream's inCluster entry: the cluster admin itself runs in, through the pod's service
      // account (its endpoint and auth are not looked at).
      cred = LoadInCluster(in_cluster);
    } else {
      // The endpoint's token and CA files; upstream reads them whatever auth.type says.
      const json& auth = c.contains("auth") ? c["auth"] : empty;
      cred = CredentialsForEndpoint(Str(c, "endpoint"), Str(auth, "certPath"),
                                    Str(auth, "tokenPath"));
    }
    if (!cred.ok()) {
      return plugin::Status(cred.status().code(),
                            "cluster " + target.id + ": " + cred.status().message());
    }
    target.credentials = std::move(cred.value());
    // A cluster's own kubeClientConfig replaces the server's whole, absent fields included
    // (upstream swaps the struct); an in-cluster entry keeps the server's, as upstream's does.
    target.client = client;
    if (c.contains("kubeClientConfig") && !c["kubeClientConfig"].is_null() && !c.value("inCluster", false)) {
      const std::string where = "cluster " + target.id + ": kubeClientConfig";
      if (!c["kubeClientConfig"].is_object()) return plugin::InvalidArgument(where + " must be a map");
      auto read = ReadClientSettings(c["kubeClientConfig"], where, KubeClientSettings{0, 0, std::chrono::milliseconds(0)});
      if (!read.ok()) return read.status();
      target.client = read.value();
    }
    target.limiter = MakeRateLimiter(target.client);
    out.targets.push_back(std::move(target));
  }
  // Upstream builds its weighted lists at startup and refuses to start without an enabled
  // cluster or with a weight outside [0, 1].
  if (std::none_of(out.targets.begin(), out.targets.end(), [](const K8sTarget& t) { return t.enabled; })) {
    return plugin::InvalidArgument("clusters.clusterConfigs: no cluster is enabled");
  }
  if (clusters.contains("labelClusterMap") && clusters["labelClusterMap"].is_object()) {
    for (const auto& [label, entries] : clusters["labelClusterMap"].items()) {
      for (const auto& e : entries) {
        // Entries of clusters that are unknown or disabled are never chosen, and upstream drops
        // them before it looks at their weights.
        const std::string id = Str(e, "id");
        if (std::none_of(out.targets.begin(), out.targets.end(),
                         [&](const K8sTarget& t) { return t.id == id && t.enabled; })) {
          continue;
        }
        const json weight = e.is_object() && e.contains("weight") ? e["weight"] : json(0.0);
        if (!weight.is_number() || weight.get<double>() < 0 || weight.get<double>() > 1) {
          return plugin::InvalidArgument("clusters.labelClusterMap." + label + ": invalid weight " +
                                         weight.dump() + " for cluster " + Str(e, "id") +
                                         " (weights are between 0 and 1)");
        }
        out.label_cluster_map[label].push_back({Str(e, "id"), weight.get<double>()});
      }
    }
  }
  out.default_execution_label = Str(clusters, "defaultExecutionLabel");
  return out;
}

K8sWorkflowExecutor::K8sWorkflowExecutor(K8sExecutorConfig config, ClusterLabelLookup lookup)
    : config_(std::move(config)), lookup_(std::move(lookup)) {}

plugin::StatusOr<const K8sTarget*> K8sWorkflowExecutor::SelectTarget(
    const std::string& target_id, const std::string& label,
    const std::string& execution_name) const {
  if (!config_.multi_cluster) {
    // Upstream InCluster.GetTarget.
    if (!(target_id.empty() || target_id == "id"))
      return plugin::Internal("remote target " + target_id + " is not supported");
    if (!label.empty())
      return plugin::Internal("execution cluster label " + label + " is not supported");
    return &config_.targets.front();
  }
  if (!target_id.empty()) {
    for (const auto& t : config_.targets) {
      if (t.id == target_id) return &t;
    }
    return plugin::Internal("invalid cluster target " + target_id);
  }
  auto enabled = [&](const std::string& id) -> const K8sTarget* {
    for (const auto& t : config_.targets) {
      if (t.id == id && t.enabled) return &t;
    }
    return nullptr;
  };
  std::vector<std::pair<const K8sTarget*, double>> entries;
  auto from_label = [&](const std::string& l) {
    auto it = config_.label_cluster_map.find(l);
    if (it == config_.label_cluster_map.end()) return;
    for (const auto& w : it->second) {
      if (const auto* t = enabled(w.id)) entries.emplace_back(t, w.weight);
    }
  };
  if (!label.empty()) from_label(label);
  if (entries.empty() && !config_.default_execution_label.empty())
    from_label(config_.default_execution_label);
  if (entries.empty()) {
    for (const auto& t : config_.targets) {
      if (t.enabled) entries.emplace_back(&t, 0.0);
    }
  }
  if (entries.empty()) return plugin::Internal("provided entries is empty");
  double total = 0;
  for (const auto& e : entries) total += e.second;
  if (total <= 0) {
    for (auto& e : entries) e.second = 1;
    total = static_cast<double>(entries.size());
  }
  std::mt19937_64 rng(execution_name.empty() ? std::random_device{}() : Fnv64a(execution_name));
  double pick = std::uniform_real_distribution<double>(0, total)(rng);
  for (const auto& e : entries) {
    if (pick < e.second) return e.first;
    pick -= e.second;
  }
  return entries.back().first;
}

plugin::StatusOr<json> K8sWorkflowExecutor::Build(const plugin::ExecutionData& data) const {
  auto wf = BuildFlyteWorkflow(data.workflow_closure, &data.parameters.inputs, data.execution_id,
                               data.namespace_);
  if (!wf.ok()) return wf.status();
  if (auto s = PrepareFlyteWorkflow(data, wf.value(),
                                    config_.role_name_key.empty() ? nullptr : &config_.role_name_key);
      !s.ok()) {
    return s;
  }
  ApplyOffloading(data, config_.offload, wf.value());
  return wf;
}

plugin::StatusOr<plugin::ExecutionResponse> K8sWorkflowExecutor::Execute(
    const plugin::ExecutionData& data) {
  auto wf = Build(data);
  if (!wf.ok()) return wf.status();
  std::string label = data.parameters.execution_cluster_label
                          ? data.parameters.execution_cluster_label->value()
                          : "";
  // The random selector asks the resource manager when the request names no label; upstream
  // passes the workflow name as the launch plan here.
  if (label.empty() && config_.multi_cluster && lookup_) {
    auto found = lookup_(data.execution_id.project(), data.execution_id.domain(),
                         data.reference_workflow_name, data.reference_workflow_name);
    if (!found.ok())
      return plugin::Internal("failed to create workflow in propeller " + found.status().message());
    label = found.value();
  }
  auto target = SelectTarget("", label, data.execution_id.name());
  if (!target.ok())
    return plugin::Internal("failed to create workflow in propeller " + target.status().message());
  // client-go encodes the object before it sends (or throttles) anything, and encoding/json
  // refuses a NaN or infinite number (an array node's min_success_ratio can carry one), where
  // nlohmann's dump would quietly write null.
  if (auto bad = GoUnsupportedJsonValue(wf.value()))
    return plugin::Internal("failed to create workflow in propeller json: unsupported value: " + *bad);
  auto response = KubeRequest((*target)->credentials, (*target)->limiter.get(), "POST",
                              Collection(data.namespace_), wf->dump(), (*target)->client.timeout);
  if (!response.ok())
    return plugin::Internal("failed to create workflow in propeller " + response.status().message());
  // AlreadyExists: the resource of an earlier attempt is this execution's. Any other conflict
  // is an error: the execution would otherwise wait for a resource that is not there.
  if (response->status / 100 != 2 && !IsAlreadyExists(response.value())) {
    return plugin::Internal("failed to create workflow in propeller " +
                            KubeErrorMessage(response.value(), "POST"));
  }
  return plugin::ExecutionResponse{(*target)->id};
}

plugin::Status K8sWorkflowExecutor::Abort(const plugin::AbortData& data) {
  std::vector<const K8sTarget*> targets;
  if (config_.multi_cluster && data.cluster.empty()) {
    // No cluster recorded (an execution launched before several clusters were configured):
    // the resource may be on any of them. Upstream fails here and leaves the execution
    // ABORTING; deleting it wherever it is lets the abort finish.
    for (const auto& t : config_.targets) {
      if (t.enabled) targets.push_back(&t);
    }
  } else {
    auto target = SelectTarget(data.cluster, "", "");
    if (!target.ok()) return plugin::Internal(target.status().message());
    targets.push_back(target.value());
  }
  const json body = {{"kind", "DeleteOptions"},
                     {"apiVersion", "v1"},
                     {"propagationPolicy", "Background"}};
  auto failed = [&](const std::string& err) {
    return plugin::Internal("failed to terminate execution: " +
                            plugin::GoProtoText(data.execution_id) + " with err " + err);
  };
  for (const K8sTarget* target : targets) {
    auto response =
        KubeRequest(target->credentials, target->limiter.get(), "DELETE",
                    Collection(data.namespace_) + "/" + data.execution_id.name(), body.dump(),
                    target->client.timeout);
    if (!response.ok()) return failed(response.status().message());
    // NotFound: already deleted (or, without a recorded cluster, never on this one).
    if (response->status / 100 != 2 && response->status != 404)
      return failed(KubeErrorMessage(response.value(), "DELETE"));
  }
  return plugin::Status::Ok();
}

}  // namespace flyte::plugins::executor
