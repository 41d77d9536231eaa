// Execution-time settings CreateExecution resolves before handing a run to the executor
// (upstream ExecutionManager.getExecutionConfig, resolveAuthRole/resolveSecurityCtx,
// resolveStringMap/addProjectLabels and getClusterAssignment): the WorkflowExecutionConfig
// layered field by field over request spec > launch plan spec > WORKFLOW_EXECUTION_CONFIG
// attribute (most specific for project/domain/workflow) > project-level attribute >
// deprecated auth role (security context only) > application config, then the labels,
// annotations, raw output data config and cluster pool derived from it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"
#include "flyteidl/admin/cluster_assignment.pb.h"
#include "flyteidl/admin/common.pb.h"
#include "flyteidl/admin/execution.pb.h"
#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/admin/matchable_resource.pb.h"

namespace flyte::plugins::manager {

// The config keys this resolution reads, with upstream's defaults.
struct ExecutionAppConfig {
  int32_t max_parallelism = 25;                    // flyteadmin.maxParallelism
  std::map<std::string, std::string> labels;       // flyteadmin.labels
  std::map<std::string, std::string> annotations;  // flyteadmin.annotations
  bool interruptible = false;                      // flyteadmin.interruptible
  bool overwrite_cache = false;                    // flyteadmin.overwriteCache
  std::string assumable_iam_role;                  // flyteadmin.assumableIamRole
  std::string k8s_service_account;                 // flyteadmin.k8sServiceAccount
  std::string output_location_prefix;              // flyteadmin.outputLocationPrefix
  std::map<std::string, std::string> envs;         // flyteadmin.envs
  int max_label_entries = 0;                       // registration.maxLabelEntries (0 = no limit)
  int max_annotation_entries = 0;                  // registration.maxAnnotationEntries
  // clusterPools.clusterPoolAssignments.<domain>.pool
  std::map<std::string, std::string> cluster_pool_by_domain;
  // Identity annotations (upstream addIdentityAnnotations).
  bool inject_identity_annotations = false;                // flyteadmin.injectIdentityAnnotations
  std::string identity_annotation_prefix = "flyte.org";    // flyteadmin.identityAnnotationPrefix
  std::vector<std::string> identity_annotation_keys;       // flyteadmin.identityAnnotationKeys

  // Missing keys keep their defaults; INVALID_ARGUMENT naming the key for a value of the wrong
  // type (e.g. a string maxParallelism, a non-string label value).
  static plugin::StatusOr<ExecutionAppConfig> FromConfig(const nlohmann::json& root);

  // The application layer as upstream merges it: interruptible only when true (as a wrapper),
  // security context only with a service account or IAM role, raw output config only with a
  // prefix, maps only when non-empty (envs in key order).
  flyteidl::admin::WorkflowExecutionConfig AsExecConfig() const;
};

// Who launches, as an authentication interceptor reports it in the call's attributes (all
// empty when auth is off): "principal" the user id (a token's subject), "app_id" the OAuth client
// of an application's token, "user_email" and "user_subject" the user's claims (the subject
// defaulting to the user id, as upstream's identity context defaults it).
struct CallerIdentity {
  std::string user_id;
  std::string app_id;
  std::string email;
  std::string subject;

  bool empty() const { return user_id.empty() && app_id.empty() && email.empty() && subject.empty(); }
};

// Upstream addIdentityAnnotations: when injectIdentityAnnotations is on and the caller is known,
// `<prefix>/app-<key>` = the app id for keys email, sub and id (an application's token), else
// `<prefix>/user-<key>` = the user's email or subject for keys email and sub; other keys, empty
// values and annotations already present are skipped, and so is everything when the prefix is
// not a DNS-1123 subdomain.
void AddIdentityAnnotations(const ExecutionAppConfig& config, const CallerIdentity& caller,
                            std::map<std::string, std::string>& annotations);

struct ExecutionNames {
  std::string project, domain;
  // The workflow name keying the attribute lookup: the launch plan's workflow_id name in the
  // launch-plan flow, empty in the single-task flow (as upstream).
  std::string workflow;
  // Not part of the lookup: upstream never keys WORKFLOW_EXECUTION_CONFIG by launch plan, so
  // launch-plan level rows of that type do not apply.
  std::string launch_plan;
};

// The layered WorkflowExecutionConfig. Lookup errors other than NOT_FOUND are returned as is.
// The result always carries security_context.run_as; an empty execution_identity is filled with
// `caller_execution_identity` (the authenticated caller's, empty when auth is off).
plugin::StatusOr<flyteidl::admin::WorkflowExecutionConfig> GetExecutionConfig(
    const flyteidl::admin::ExecutionSpec& spec, const flyteidl::admin::LaunchPlanSpec* lp_spec,
    const ExecutionNames& names, plugin::db::ResourceRepo& repo, const ExecutionAppConfig& config,
    const std::string& caller_execution_identity = "");

// Upstream resolveStringMap: `preferred` when it has values, else `fallback`; INVALID_ARGUMENT
// "<name> has too many entries [n > max]" when max_entries > 0 and exceeded.
plugin::StatusOr<std::map<std::string, std::string>> ResolveStringMap(
    const google::protobuf::Map<std::string, std::string>& preferred,
    const google::protobuf::Map<std::string, std::string>& fallback, const std::string& name,
    int max_entries);

// Upstream getClusterAssignment: the stored pool is the CLUSTER_ASSIGNMENT attribute of
// (project, domain), else the config's pool for the domain. Request pool empty -> stored;
// stored empty -> request's; both set and different -> INVALID_ARGUMENT. nullopt = none.
plugin::StatusOr<std::optional<flyteidl::admin::ClusterAssignment>> GetClusterAssignment(
    const flyteidl::admin::ExecutionSpec& spec, const std::string& project,
    const std::string& domain, plugin::db::ResourceRepo& repo, const ExecutionAppConfig& config);

struct ResolvedExecutionConfig {
  flyteidl::admin::WorkflowExecutionConfig config;  // as GetExecutionConfig
  std::map<std::string, std::string> labels;        // config labels else LP's, + project labels
  std::map<std::string, std::string> annotations;   // config annotations else LP's
  std::optional<flyteidl::admin::RawOutputDataConfig> raw_output_data_config;
  std::optional<flyteidl::admin::ClusterAssignment> cluster_assignment;
};

// Everything above in upstream's order (exec config, labels + size check, project labels for
// keys not already present, annotations + size check, raw output config, cluster assignment).
// `project_labels` are the project record's labels (nullptr = none). Without a launch plan spec
// (single-task flow) there is no LP fallback and no size check, as upstream. The caller's
// identity annotations are added after the size check (AddIdentityAnnotations), and its user id
// fills an empty run-as execution identity.
plugin::StatusOr<ResolvedExecutionConfig> ResolveExecutionConfig(
    const flyteidl::admin::ExecutionSpec& spec, const flyteidl::admin::LaunchPlanSpec* lp_spec,
    const ExecutionNames& names, plugin::db::ResourceRepo& repo, const ExecutionAppConfig& config,
    const flyteidl::admin::Labels* project_labels = nullptr, const CallerIdentity& caller = {});

}  // namespace flyte::plugins::manager
