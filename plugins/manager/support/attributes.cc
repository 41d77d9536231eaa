// Resolution of matchable attributes shared by the managers that apply them.
#include "flyte/manager/attributes.h"

#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::manager {

namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

std::string MatchableResourceName(int resource_type) {
  return plugin::GoEnumString(static_cast<admin::MatchableResource>(resource_type));
}

plugin::StatusOr<ResourceResponse> GetResource(plugin::db::ResourceRepo& repo,
                                               const ResourceRequest& request) {
  auto row = repo.GetMostSpecific(
      plugin::db::ResourceKey{request.project, request.domain, request.workflow,
                              request.launch_plan, MatchableResourceName(request.resource_type)});
  if (!row.ok()) return row.status();
  ResourceResponse out;
  if (!out.attributes.ParseFromString(row->attributes)) {
    return plugin::Internal(
        "Failed to decode resource attribute with err: proto: cannot parse invalid wire-format "
        "data");
  }
  out.project = row->key.project;
  out.domain = row->key.domain;
  out.workflow = row->key.workflow;
  out.launch_plan = row->key.launch_plan;
  out.resource_type = row->key.resource_type;
  return out;
}

TaskResources GetTaskResources(plugin::db::ResourceRepo& repo, const core::Identifier* id,
                               const TaskResources& config) {
  ResourceRequest request;
  request.resource_type = admin::TASK_RESOURCE;
  if (id) {
    request.project = id->project();
    request.domain = id->domain();
    if (id->resource_type() == core::WORKFLOW) request.workflow = id->name();
  }
  auto found = GetResource(repo, request);
  if (found.ok() && found->attributes.has_task_resource_attributes()) {
    return TaskResourcesFromAttributes(found->attributes.task_resource_attributes());
  }
  return config;
}

void MergeIntoExecConfig(admin::WorkflowExecutionConfig& into,
                         const admin::WorkflowExecutionConfig& from) {
  if (into.max_parallelism() == 0 && from.max_parallelism() > 0) {
    into.set_max_parallelism(from.max_parallelism());
  }
  if (!into.has_security_context() && from.has_security_context()) {
    const auto& run_as = from.security_context().run_as();
    if (from.security_context().has_run_as() &&
        (!run_as.k8s_service_account().empty() || !run_as.iam_role().empty() ||
         !run_as.execution_identity().empty())) {
      *into.mutable_security_context() = from.security_context();
    }
  }
  if (into.raw_output_data_config().output_location_prefix().empty() &&
      !from.raw_output_data_config().output_location_prefix().empty()) {
    *into.mutable_raw_output_data_config() = from.raw_output_data_config();
  }
  if (into.labels().values().empty() && !from.labels().values().empty()) {
    *into.mutable_labels() = from.labels();
  }
  if (into.annotations().values().empty() && !from.annotations().values().empty()) {
    *into.mutable_annotations() = from.annotations();
  }
  if (!into.has_interruptible() && from.has_interruptible()) {
    *into.mutable_interruptible() = from.interruptible();
  }
  if (!into.overwrite_cache() && from.overwrite_cache()) into.set_overwrite_cache(true);
  if (into.envs().values().empty() && !from.envs().values().empty()) {
    *into.mutable_envs() = from.envs();
  }
}

}  // namespace flyte::plugins::manager
