// Matchable attributes for the managers that apply them: the most specific MatchingAttributes of
// a (project, domain, workflow, launch plan, resource type) (upstream ResourceManager.GetResource),
// the platform task resources they imply (util.GetTaskResources) and the execution-config merge
// (util.MergeIntoExecConfig). Stateless; thread-safe as the repository is.
#pragma once

#include <string>

#include "flyte/manager/validation.h"
#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"
#include "flyteidl/admin/matchable_resource.pb.h"
#include "flyteidl/core/identifier.pb.h"

namespace flyte::plugins::manager {

// Go's String() of admin.MatchableResource: the enum name, or the number when out of range.
std::string MatchableResourceName(int resource_type);

// An empty field is "unspecified": only rows with that field empty match it.
struct ResourceRequest {
  std::string project, domain, workflow, launch_plan;
  flyteidl::admin::MatchableResource resource_type = flyteidl::admin::TASK_RESOURCE;
};

// The matched row: its own (possibly less specific) key and its attributes.
struct ResourceResponse {
  std::string project, domain, workflow, launch_plan, resource_type;
  flyteidl::admin::MatchingAttributes attributes;
};

// The row of highest priority (launch plan 1000 > workflow 100 > project-domain 10 > project 5)
// matching the request. NOT_FOUND "Resource [{Project:p Domain:d Workflow:w LaunchPlan:l
// ResourceType:T}] not found" when none; INTERNAL "Failed to decode resource attribute with
// err: ..." for a row that does not parse; INTERNAL for a request with neither project nor
// domain (see ResourceRepo::GetMostSpecific).
plugin::StatusOr<ResourceResponse> GetResource(plugin::db::ResourceRepo& repo,
                                               const ResourceRequest& request);

// The platform defaults/limits for an entity: the TASK_RESOURCE attribute most specific to the
// id's project and domain (and name, for a WORKFLOW id) if one exists, else `config`
// (task_resources). Lookup errors fall back to `config`, as upstream only logs them.
TaskResources GetTaskResources(plugin::db::ResourceRepo& repo, const flyteidl::core::Identifier* id,
                               const TaskResources& config);

// Fills each field of `into` that is unset from `from` ("first non-empty wins"; overwrite_cache
// is OR-ed; a security context only counts with a service account, IAM role or execution
// identity; raw output config only with a prefix; labels/annotations/envs only with values).
void MergeIntoExecConfig(flyteidl::admin::WorkflowExecutionConfig& into,
                         const flyteidl::admin::WorkflowExecutionConfig& from);

}  // namespace flyte::plugins::manager
