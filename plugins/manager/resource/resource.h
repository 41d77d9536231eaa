// Resource manager: matchable attributes at project, project-domain and workflow level (Update,
// Get, Delete each) and ListMatchableAttributes, as upstream's ResourceManager serves them.
#pragma once

#include <nlohmann/json.hpp>

#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"
#include "flyteidl/admin/matchable_resource.pb.h"

namespace flyte::plugins::manager {

struct ResourceSettings {
  std::vector<DomainConfig> domains = DefaultDomains();
  // The `flyteadmin` section as a WorkflowExecutionConfig (upstream's
  // ApplicationConfig.GetAsWorkflowExecutionConfig): what GetProjectAttributes of
  // WORKFLOW_EXECUTION_CONFIG falls back to and merges in.
  flyteidl::admin::WorkflowExecutionConfig execution_defaults;

  static plugin::StatusOr<ResourceSettings> FromConfig(const nlohmann::json& root);
};

class ResourceManagerImpl final : public plugin::ResourceManager {
 public:
  ResourceManagerImpl(const plugin::HostContext& host, ResourceSettings settings)
      : services_(host), settings_(std::move(settings)) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE)                                    \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, \
                      flyteidl::RESPONSE& response) override;
  FLYTE_RESOURCE_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  // Writes the row; plugin overrides are merged by task type into an existing row of the key.
  plugin::Status Upsert(plugin::db::Repositories& repos, plugin::db::ResourceModel model,
                        const flyteidl::admin::MatchingAttributes& attributes);
  // Upsert's read-merge-write of plugin overrides, inside its transaction.
  plugin::Status MergeInto(plugin::db::ResourceRepo& repo, const plugin::db::ResourceModel& model,
                           const flyteidl::admin::MatchingAttributes& attributes);

  Services services_;
  ResourceSettings settings_;
};

// upstream validateMatchingAttributes: the resource type the attributes' oneof names.
// "missing matching_attributes" when absent; "Unrecognized matching attributes type for
// request <identifier>" when none is set.
plugin::StatusOr<flyteidl::admin::MatchableResource> MatchableResourceOf(
    const flyteidl::admin::MatchingAttributes* attributes, const std::string& identifier);

// Existing plugin overrides with the new ones applied: one per task type, a new one replacing
// the existing of its type (existing order kept, new types appended).
flyteidl::admin::MatchingAttributes MergePluginOverrides(
    const flyteidl::admin::MatchingAttributes& existing,
    const flyteidl::admin::MatchingAttributes& update);

}  // namespace flyte::plugins::manager
