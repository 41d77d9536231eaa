// Launch plan manager: CreateLaunchPlan (validation, expected inputs, schedule rules,
// identical vs different re-registration), GetLaunchPlan, UpdateLaunchPlan (one ACTIVE version
// per name, moved in one transaction), GetActiveLaunchPlan, ListLaunchPlans,
// ListActiveLaunchPlans, ListLaunchPlanIds.
#pragma once

#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

class LaunchPlanManagerImpl final : public plugin::LaunchPlanManager {
 public:
  // `database_schedules`: scheduler.eventScheduler.scheme is "local" (upstream's default): the
  // native scheduler's schedulable_entities table follows activation. Any other scheme is
  // upstream's no-op event scheduler.
  LaunchPlanManagerImpl(const plugin::HostContext& host, RegistrationSettings settings,
                        bool database_schedules = true)
      : services_(host), settings_(std::move(settings)), database_schedules_(database_schedules) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE) \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) override;
  FLYTE_LAUNCH_PLAN_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  // UpdateLaunchPlan's reads and writes, inside its transaction holding the name's versions.
  plugin::Status ChangeState(plugin::db::Repositories& repos, const flyteidl::admin::LaunchPlanUpdateRequest& request,
                             const flyteidl::core::Identifier& id);
  Services services_;
  RegistrationSettings settings_;
  bool database_schedules_;
};

plugin::StatusOr<flyteidl::admin::LaunchPlan> LaunchPlanFromModel(const plugin::db::LaunchPlanModel& model);

}  // namespace flyte::plugins::manager
