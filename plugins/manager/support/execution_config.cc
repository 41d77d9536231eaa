// Layered resolution of the execution-time settings of a new execution.
#include "flyte/manager/execution_config.h"

#include <utility>

#include "flyte/manager/attributes.h"
#include "flyte/manager/k8s_validation.h"

namespace flyte::plugins::manager {

using plugin::Status;
using plugin::StatusOr;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace db = plugin::db;

namespace {

const nlohmann::json* Child(const nlohmann::json* node, const char* key) {
  if (!node || !node->is_object()) return nullptr;
  auto it = node->find(key);
  return it == node->end() ? nullptr : &*it;
}

Status WrongType(const std::string& key, const char* expected) {
  return plugin::InvalidArgument("config key " + key + " must be " + expected);
}

Status ReadString(const nlohmann::json* section, const char* key, const std::string& path,
                  std::string& out) {
  const auto* v = Child(section, key);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) return WrongType(path, "a string");
  out = v->get<std::string>();
  return {};
}

Status ReadBool(const nlohmann::json* section, const char* key, const std::string& path,
                bool& out) {
  const auto* v = Child(section, key);
  if (!v || v->is_null()) return {};
  if (!v->is_boolean()) return WrongType(path, "a boolean");
  out = v->get<bool>();
  return {};
}

template <typename Int>
Status ReadInt(const nlohmann::json* section, const char* key, const std::string& path, Int& out) {
  const auto* v = Child(section, key);
  if (!v || v->is_null()) return {};
  if (!v->is_number_integer()) return WrongType(path, "an integer");
  out = v->get<Int>();
  return {};
}

Status ReadMap(const nlohmann::json* section, const char* key, const std::string& path,
               std::map<std::string, std::string>& out) {
  const auto* v = Child(section, key);
  if (!v || v->is_null()) return {};
  if (!v->is_object()) return WrongType(path, "a map of strings");
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it->is_string()) return WrongType(path + "." + it.key(), "a string");
    out[it.key()] = it->get<std::string>();
  }
  return {};
}

Status ReadStrings(const nlohmann::json* section, const char* key, const std::string& path,
                   std::vector<std::string>& out) {
  const auto* v = Child(section, key);
  if (!v || v->is_null()) return {};
  if (!v->is_array()) return WrongType(path, "a list of strings");
  out.clear();
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) return WrongType(path + "[" + std::to_string(i) + "]", "a string");
    out.push_back((*v)[i].get<std::string>());
  }
  return {};
}

// The fields an ExecutionSpec or LaunchPlanSpec shares with WorkflowExecutionConfig.
template <typename Spec>
admin::WorkflowExecutionConfig ExecConfigOf(const Spec& spec) {
  admin::WorkflowExecutionConfig out;
  out.set_max_parallelism(spec.max_parallelism());
  if (spec.has_security_context()) *out.mutable_security_context() = spec.security_context();
  if (spec.has_raw_output_data_config()) {
    *out.mutable_raw_output_data_config() = spec.raw_output_data_config();
  }
  if (spec.has_labels()) *out.mutable_labels() = spec.labels();
  if (spec.has_annotations()) *out.mutable_annotations() = spec.annotations();
  if (spec.has_interruptible()) *out.mutable_interruptible() = spec.interruptible();
  out.set_overwrite_cache(spec.overwrite_cache());
  if (spec.has_envs()) *out.mutable_envs() = spec.envs();
  return out;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
// Upstream resolveAuthRole: the request's auth role, else the launch plan's auth role, auth or
// role, in that order.
admin::AuthRole ResolveAuthRole(const admin::ExecutionSpec& spec,
                                const admin::LaunchPlanSpec* lp_spec) {
  if (spec.has_auth_role()) return spec.auth_role();
  admin::AuthRole out;
  if (!lp_spec) return out;
  if (lp_spec->has_auth_role()) return lp_spec->auth_role();
  if (lp_spec->has_auth()) {
    out.set_assumable_iam_role(lp_spec->auth().assumable_iam_role());
    out.set_kubernetes_service_account(lp_spec->auth().kubernetes_service_account());
  } else if (!lp_spec->role().empty()) {
    out.set_assumable_iam_role(lp_spec->role());
  }
  return out;
}
#pragma GCC diagnostic pop

// The WORKFLOW_EXECUTION_CONFIG attribute for the key, if any; NOT_FOUND is "none".
StatusOr<std::optional<admin::WorkflowExecutionConfig>> LookupExecConfig(
    db::ResourceRepo& repo, const std::string& project, const std::string& domain,
    const std::string& workflow) {
  ResourceRequest request;
  request.project = project;
  request.domain = domain;
  request.workflow = workflow;
  request.resource_type = admin::WORKFLOW_EXECUTION_CONFIG;
  auto found = GetResource(repo, request);
  if (!found.ok()) {
    if (found.status().code() == plugin::StatusCode::kNotFound) {
      return std::optional<admin::WorkflowExecutionConfig>();
    }
    return found.status();
  }
  if (!found->attributes.has_workflow_execution_config()) {
    return std::optional<admin::WorkflowExecutionConfig>();
  }
  return std::optional<admin::WorkflowExecutionConfig>(
      found->attributes.workflow_execution_config());
}

}  // namespace

StatusOr<ExecutionAppConfig> ExecutionAppConfig::FromConfig(const nlohmann::json& root) {
  ExecutionAppConfig c;
  const nlohmann::json* app = Child(&root, "flyteadmin");
  if (app && !app->is_null() && !app->is_object()) return WrongType("flyteadmin", "a map");
  Status st;
  auto chain = [&st](Status next) {
    if (st.ok()) st = std::move(next);
  };
  chain(ReadInt(app, "maxParallelism", "flyteadmin.maxParallelism", c.max_parallelism));
  chain(ReadMap(app, "labels", "flyteadmin.labels", c.labels));
  chain(ReadMap(app, "annotations", "flyteadmin.annotations", c.annotations));
  chain(ReadBool(app, "interruptible", "flyteadmin.interruptible", c.interruptible));
  chain(ReadBool(app, "overwriteCache", "flyteadmin.overwriteCache", c.overwrite_cache));
  chain(ReadString(app, "assumableIamRole", "flyteadmin.assumableIamRole", c.assumable_iam_role));
  chain(ReadString(app, "k8sServiceAccount", "flyteadmin.k8sServiceAccount",
                   c.k8s_service_account));
  chain(ReadString(app, "outputLocationPrefix", "flyteadmin.outputLocationPrefix",
                   c.output_location_prefix));
  chain(ReadMap(app, "envs", "flyteadmin.envs", c.envs));
  const nlohmann::json* registration = Child(&root, "registration");
  chain(ReadInt(registration, "maxLabelEntries", "registration.maxLabelEntries",
                c.max_label_entries));
  chain(ReadInt(registration, "maxAnnotationEntries", "registration.maxAnnotationEntries",
                c.max_annotation_entries));
  chain(ReadBool(app, "injectIdentityAnnotations", "flyteadmin.injectIdentityAnnotations",
                 c.inject_identity_annotations));
  chain(ReadString(app, "identityAnnotationPrefix", "flyteadmin.identityAnnotationPrefix",
                   c.identity_annotation_prefix));
  // Upstream's default for an empty prefix.
  if (c.identity_annotation_prefix.empty()) c.identity_annotation_prefix = "flyte.org";
  chain(ReadStrings(app, "identityAnnotationKeys", "flyteadmin.identityAnnotationKeys",
                    c.identity_annotation_keys));
  if (!st.ok()) return st;
  const nlohmann::json* pools = Child(Child(&root, "clusterPools"), "clusterPoolAssignments");
  if (pools && !pools->is_null()) {
    if (!pools->is_object()) return WrongType("clusterPools.clusterPoolAssignments", "a map");
    for (auto it = pools->begin(); it != pools->end(); ++it) {
      std::string pool;
      const std::string path = "clusterPools.clusterPoolAssignments." + it.key();
      if (!it->is_null() && !it->is_object()) return WrongType(path, "a map");
      if (auto s = ReadString(&*it, "pool", path + ".pool", pool); !s.ok()) return s;
      c.cluster_pool_by_domain[it.key()] = pool;
    }
  }
  return c;
}

admin::WorkflowExecutionConfig ExecutionAppConfig::AsExecConfig() const {
  admin::WorkflowExecutionConfig out;
  out.set_max_parallelism(max_parallelism);
  out.set_overwrite_cache(overwrite_cache);
  if (interruptible) out.mutable_interruptible()->set_value(true);
  if (!k8s_service_account.empty() || !assumable_iam_role.empty()) {
    auto* run_as = out.mutable_security_context()->mutable_run_as();
    run_as->set_k8s_service_account(k8s_service_account);
    run_as->set_iam_role(assumable_iam_role);
  }
  if (!output_location_prefix.empty()) {
    out.mutable_raw_output_data_config()->set_output_location_prefix(output_location_prefix);
  }
  if (!labels.empty()) out.mutable_labels()->mutable_values()->insert(labels.begin(), labels.end());
  if (!annotations.empty()) {
    out.mutable_annotations()->mutable_values()->insert(annotations.begin(), annotations.end());
  }
  for (const auto& [key, value] : envs) {
    auto* kv = out.mutable_envs()->add_values();
    kv->set_key(key);
    kv->set_value(value);
  }
  return out;
}

StatusOr<admin::WorkflowExecutionConfig> GetExecutionConfig(
    const admin::ExecutionSpec& spec, const admin::LaunchPlanSpec* lp_spec,
    const ExecutionNames& names, db::ResourceRepo& repo, const ExecutionAppConfig& config,
    const std::string& caller_execution_identity) {
  admin::WorkflowExecutionConfig out;
  MergeIntoExecConfig(out, ExecConfigOf(spec));
  if (lp_spec) MergeIntoExecConfig(out, ExecConfigOf(*lp_spec));

  auto specific = LookupExecConfig(repo, names.project, names.domain, names.workflow);
  if (!specific.ok()) return specific.status();
  if (*specific) MergeIntoExecConfig(out, **specific);

  // Project level too, so fields set only there still apply when a more specific row exists.
  auto project = LookupExecConfig(repo, names.project, "", "");
  if (!project.ok()) return project.status();
  if (*project) MergeIntoExecConfig(out, **project);

  if (!out.has_security_context()) {
    const admin::AuthRole role = ResolveAuthRole(spec, lp_spec);
    if (!role.kubernetes_service_account().empty() || !role.assumable_iam_role().empty()) {
      auto* run_as = out.mutable_security_context()->mutable_run_as();
      run_as->set_iam_role(role.assumable_iam_role());
      run_as->set_k8s_service_account(role.kubernetes_service_account());
    }
  }

  MergeIntoExecConfig(out, config.AsExecConfig());

  auto* run_as = out.mutable_security_context()->mutable_run_as();
  if (run_as->execution_identity().empty()) {
    run_as->set_execution_identity(caller_execution_identity);
  }
  return out;
}

StatusOr<std::map<std::string, std::string>> ResolveStringMap(
    const google::protobuf::Map<std::string, std::string>& preferred,
    const google::protobuf::Map<std::string, std::string>& fallback, const std::string& name,
    int max_entries) {
  const auto& chosen = preferred.empty() ? fallback : preferred;
  std::map<std::string, std::string> out(chosen.begin(), chosen.end());
  if (max_entries > 0 && out.size() > static_cast<size_t>(max_entries)) {
    return plugin::InvalidArgument(name + " has too many entries [" + std::to_string(out.size()) +
                                   " > " + std::to_string(max_entries) + "]");
  }
  return out;
}

StatusOr<std::optional<admin::ClusterAssignment>> GetClusterAssignment(
    const admin::ExecutionSpec& spec, const std::string& project, const std::string& domain,
    db::ResourceRepo& repo, const ExecutionAppConfig& config) {
  std::optional<admin::ClusterAssignment> stored;
  ResourceRequest request;
  request.project = project;
  request.domain = domain;
  request.resource_type = admin::CLUSTER_ASSIGNMENT;
  auto found = GetResource(repo, request);
  if (!found.ok() && found.status().code() != plugin::StatusCode::kNotFound) {
    return found.status();
  }
  if (found.ok() && found->attributes.has_cluster_assignment()) {
    stored = found->attributes.cluster_assignment();
  } else if (auto it = config.cluster_pool_by_domain.find(domain);
             it != config.cluster_pool_by_domain.end() && !it->second.empty()) {
    stored.emplace();
    stored->set_cluster_pool_name(it->second);
  }

  const std::string& requested = spec.cluster_assignment().cluster_pool_name();
  const std::string stored_pool = stored ? stored->cluster_pool_name() : std::string();
  if (requested.empty()) return stored;
  if (stored_pool.empty()) {
    return std::optional<admin::ClusterAssignment>(spec.cluster_assignment());
  }
  if (requested != stored_pool) {
    return plugin::InvalidArgument("execution with project \"" + project + "\" and domain \"" +
                                   domain + "\" cannot run on cluster pool \"" + requested +
                                   "\", because its configured to run on pool \"" + stored_pool +
                                   "\"");
  }
  return stored;
}

void AddIdentityAnnotations(const ExecutionAppConfig& config, const CallerIdentity& caller,
                            std::map<std::string, std::string>& annotations) {
  if (!config.inject_identity_annotations || caller.empty()) return;
  // Upstream logs a warning and adds nothing.
  if (!IsDNS1123Subdomain(config.identity_annotation_prefix).empty()) return;
  const bool app = !caller.app_id.empty();
  const std::string kind = app ? "/app-" : "/user-";
  for (const auto& key : config.identity_annotation_keys) {
    std::string value;
    if (app) {
      if (key != "email" && key != "sub" && key != "id") continue;
      value = caller.app_id;
    } else if (key == "email") {
      value = caller.email;
    } else if (key == "sub") {
      value = caller.subject.empty() ? caller.user_id : caller.subject;
    } else {
      continue;
    }
    if (value.empty()) continue;
    annotations.emplace(config.identity_annotation_prefix + kind + key, value);
  }
}

StatusOr<ResolvedExecutionConfig> ResolveExecutionConfig(
    const admin::ExecutionSpec& spec, const admin::LaunchPlanSpec* lp_spec,
    const ExecutionNames& names, db::ResourceRepo& repo, const ExecutionAppConfig& config,
    const admin::Labels* project_labels, const CallerIdentity& caller) {
  ResolvedExecutionConfig out;
  auto resolved = GetExecutionConfig(spec, lp_spec, names, repo, config, caller.user_id);
  if (!resolved.ok()) return resolved.status();
  out.config = std::move(*resolved);

  static const google::protobuf::Map<std::string, std::string> kNone;
  const bool lp_flow = lp_spec != nullptr;
  auto labels = ResolveStringMap(out.config.labels().values(),
                                 lp_flow ? lp_spec->labels().values() : kNone, "labels",
                                 lp_flow ? config.max_label_entries : 0);
  if (!labels.ok()) return labels.status();
  out.labels = std::move(*labels);
  if (project_labels) {
    for (const auto& [key, value] : project_labels->values()) out.labels.emplace(key, value);
  }
  auto annotations = ResolveStringMap(out.config.annotations().values(),
                                      lp_flow ? lp_spec->annotations().values() : kNone,
                                      "annotations", lp_flow ? config.max_annotation_entries : 0);
  if (!annotations.ok()) return annotations.status();
  out.annotations = std::move(*annotations);
  AddIdentityAnnotations(config, caller, out.annotations);

  if (out.config.has_raw_output_data_config()) {
    out.raw_output_data_config = out.config.raw_output_data_config();
  }

  auto cluster = GetClusterAssignment(spec, names.project, names.domain, repo, config);
  if (!cluster.ok()) return cluster.status();
  out.cluster_assignment = std::move(*cluster);
  return out;
}

}  // namespace flyte::plugins::manager
