// List inputs, conversions and missing-entity errors for the registration managers.
#include "flyte/manager/checks.h"

namespace flyte::plugins::manager {

using plugin::Status;
using plugin::StatusOr;
using plugin::db::ListInput;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

Status ValidateIdentifierFor(const core::Identifier* id, core::ResourceType expected) {
  auto entity = EntityForResourceType(expected);
  if (!entity) return plugin::Internal("no entity for resource type " + core::ResourceType_Name(expected));
  return ValidateIdentifier(id, *entity);
}

namespace {

// Sort and token shared by every list.
Status Finish(ListInput& input, const admin::Sort* sort_by, bool has_sort, Entity entity, uint32_t limit,
              const std::string& token, const std::string& rpc) {
  auto sort = ParseSort(has_sort ? sort_by : nullptr, entity);
  if (!sort.ok()) return sort.status();
  input.sort = sort.value();
  auto offset = ParseToken(token, rpc);
  if (!offset.ok()) return offset.status();
  input.offset = offset.value();
  input.limit = limit;
  return Status::Ok();
}

}  // namespace

StatusOr<ListInput> BuildProjectListInput(const admin::ProjectListRequest& request) {
  ListInput input;
  if (!request.filters().empty()) {
    auto filters = ParseFilters(request.filters(), Entity::kProject);
    if (!filters.ok()) return filters.status();
    input.filters = std::move(filters.value());
  } else {
    // No filters: archived projects are hidden, as upstream.
    input.filters.push_back({"projects", "state", plugin::db::FilterOp::kNe, {"1"}});
  }
  if (request.has_sort_by()) {
    if (auto s = Finish(input, &request.sort_by(), true, Entity::kProject, request.limit(), request.token(),
                        "ListProjects");
        !s.ok()) {
      return s;
    }
  } else {
    if (auto s = Finish(input, nullptr, false, Entity::kProject, request.limit(), request.token(), "ListProjects");
        !s.ok()) {
      return s;
    }
    input.sort = plugin::db::Sort{"identifier", true};
  }
  return input;
}

StatusOr<ListInput> BuildResourceListInput(Entity entity, const admin::ResourceListRequest& request,
                                           const std::string& rpc) {
  if (auto s = ValidateResourceListRequest(request); !s.ok()) return s;
  FilterSpec spec{request.id().project(), request.id().domain(), request.id().name(), request.filters()};
  auto filters = GetDbFilters(spec, entity);
  if (!filters.ok()) return filters.status();
  ListInput input;
  input.filters = std::move(filters.value());
  if (auto s = Finish(input, &request.sort_by(), request.has_sort_by(), entity, request.limit(), request.token(), rpc);
      !s.ok()) {
    return s;
  }
  return input;
}

StatusOr<ListInput> BuildIdentifierListInput(Entity entity, const admin::NamedEntityIdentifierListRequest& request,
                                             const std::string& rpc) {
  // Upstream's ListLaunchPlanIds validates nothing: a missing project or domain only narrows the
  // filters less, and a limit of 0 is the repository's "missing and/or invalid parameters".
  if (entity != Entity::kLaunchPlan) {
    if (auto s = ValidateNamedEntityIdentifierListRequest(request); !s.ok()) return s;
  }
  // Upstream ignores the request's filters here.
  FilterSpec spec{request.project(), request.domain(), "", ""};
  auto filters = GetDbFilters(spec, entity);
  if (!filters.ok()) return filters.status();
  ListInput input;
  input.filters = std::move(filters.value());
  if (auto s = Finish(input, &request.sort_by(), request.has_sort_by(), entity, request.limit(), request.token(), rpc);
      !s.ok()) {
    return s;
  }
  return input;
}

StatusOr<ListInput> BuildActiveLaunchPlanListInput(const admin::ActiveLaunchPlanListRequest& request) {
  if (auto s = ValidateActiveLaunchPlanListRequest(request); !s.ok()) return s;
  FilterSpec spec{request.project(), request.domain(), "", ""};
  auto filters = GetDbFilters(spec, Entity::kLaunchPlan);
  if (!filters.ok()) return filters.status();
  ListInput input;
  input.filters = std::move(filters.value());
  input.filters.push_back({"launch_plans", "state", plugin::db::FilterOp::kEq, {"1"}});
  if (auto s = Finish(input, &request.sort_by(), request.has_sort_by(), Entity::kLaunchPlan, request.limit(),
                      request.token(), "ListActiveLaunchPlans");
      !s.ok()) {
    return s;
  }
  return input;
}

StatusOr<ListInput> BuildNamedEntityListInput(const admin::NamedEntityListRequest& request) {
  if (auto s = ValidateNamedEntityListRequest(request); !s.ok()) return s;
  std::string filter_text = request.filters().empty() ? std::string(kNamedEntityDefaultFilters) : request.filters();
  auto filters = ParseFilters(filter_text, Entity::kNamedEntity);
  if (!filters.ok()) return filters.status();
  ListInput input;
  input.filters = std::move(filters.value());
  if (auto s = Finish(input, &request.sort_by(), request.has_sort_by(), Entity::kNamedEntity, request.limit(),
                      request.token(), "ListNamedEntities");
      !s.ok()) {
    return s;
  }
  return input;
}

StatusOr<ListInput> BuildDescriptionEntityListInput(const admin::DescriptionEntityListRequest& request) {
  if (auto s = ValidateDescriptionEntityListRequest(request); !s.ok()) return s;
  FilterSpec spec{request.id().project(), request.id().domain(), request.id().name(), request.filters()};
  auto filters = GetDescriptionEntityFilters(request.resource_type(), spec);
  if (!filters.ok()) return filters.status();
  ListInput input;
  input.filters = std::move(filters.value());
  // Upstream's token error for this RPC names ListWorkflows.
  if (auto s = Finish(input, &request.sort_by(), request.has_sort_by(), Entity::kDescriptionEntity, request.limit(),
                      request.token(), "ListWorkflows");
      !s.ok()) {
    return s;
  }
  return input;
}

void FillIdentifierList(const std::vector<plugin::db::NamedEntityKey>& rows, admin::NamedEntityIdentifierList& response) {
  for (const auto& row : rows) {
    auto* id = response.add_entities();
    id->set_project(row.project);
    id->set_domain(row.domain);
    id->set_name(row.name);
  }
}

plugin::db::DescriptionEntityModel DescriptionEntityFrom(const core::Identifier& id,
                                                         const admin::DescriptionEntity& description) {
  plugin::db::DescriptionEntityModel model;
  model.resource_type = id.resource_type();
  model.key = KeyOf(id);
  model.short_description = description.short_description();
  model.long_description = description.long_description().SerializeAsString();
  model.link = description.source_code().link();
  return model;
}

Status MissingEntity(const Status& status, core::ResourceType type, const core::Identifier& id) {
  if (status.code() != plugin::StatusCode::kNotFound) return status;
  return MissingEntityError(core::ResourceType_Name(type), id);
}

}  // namespace flyte::plugins::manager
