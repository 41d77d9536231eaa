// Project manager: RegisterProject, UpdateProject, GetProject, ListProjects, GetDomains, with
// upstream's validation, archived-project hiding and domain filling.
#pragma once

#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

class ProjectManagerImpl final : public plugin::ProjectManager {
 public:
  ProjectManagerImpl(const plugin::HostContext& host, RegistrationSettings settings)
      : services_(host), settings_(std::move(settings)) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE) \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) override;
  FLYTE_PROJECT_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  void FillDomains(flyteidl::admin::Project& project) const;
  flyteidl::admin::Project FromModel(const plugin::db::ProjectModel& model) const;
  Services services_;
  RegistrationSettings settings_;
};

}  // namespace flyte::plugins::manager
