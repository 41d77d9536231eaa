// Glue between the registration managers and flyte_manager_common: list inputs per RPC (request
// validation, identifier filters, request filters, sort, token), rows to messages, and the
// NOT_FOUND texts of missing entities.
#pragma once

#include <string>
#include <vector>

#include "flyteidl/admin/common.pb.h"
#include "flyteidl/admin/description_entity.pb.h"
#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/admin/project.pb.h"
#include "flyteidl/admin/task.pb.h"
#include "flyteidl/admin/workflow.pb.h"
#include "flyte/manager/digest.h"
#include "flyte/manager/errors.h"
#include "flyte/manager/filters.h"
#include "flyte/manager/support.h"
#include "flyte/manager/validation.h"

namespace flyte::plugins::manager {

// ValidateIdentifier for a resource type rather than an entity.
plugin::Status ValidateIdentifierFor(const flyteidl::core::Identifier* id, flyteidl::core::ResourceType expected);

plugin::StatusOr<plugin::db::ListInput> BuildProjectListInput(const flyteidl::admin::ProjectListRequest& request);
plugin::StatusOr<plugin::db::ListInput> BuildResourceListInput(Entity entity, const flyteidl::admin::ResourceListRequest& request,
                                                               const std::string& rpc);
plugin::StatusOr<plugin::db::ListInput> BuildIdentifierListInput(
    Entity entity, const flyteidl::admin::NamedEntityIdentifierListRequest& request, const std::string& rpc);
plugin::StatusOr<plugin::db::ListInput> BuildActiveLaunchPlanListInput(const flyteidl::admin::ActiveLaunchPlanListRequest& request);
plugin::StatusOr<plugin::db::ListInput> BuildNamedEntityListInput(const flyteidl::admin::NamedEntityListRequest& request);
plugin::StatusOr<plugin::db::ListInput> BuildDescriptionEntityListInput(
    const flyteidl::admin::DescriptionEntityListRequest& request);

void FillIdentifierList(const std::vector<plugin::db::NamedEntityKey>& rows,
                        flyteidl::admin::NamedEntityIdentifierList& response);
plugin::db::DescriptionEntityModel DescriptionEntityFrom(const flyteidl::core::Identifier& id,
                                                         const flyteidl::admin::DescriptionEntity& description);

// NOT_FOUND "missing entity of type <TYPE> with identifier ..." when `status` is a missing row;
// any other error as it is.
plugin::Status MissingEntity(const plugin::Status& status, flyteidl::core::ResourceType type,
                             const flyteidl::core::Identifier& id);

}  // namespace flyte::plugins::manager
