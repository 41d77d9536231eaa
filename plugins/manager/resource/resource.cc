// Matchable attributes as upstream's resource manager serves them (validation, upsert with the
// plugin-override merge, level lookups, the WORKFLOW_EXECUTION_CONFIG project defaults).
#include "resource.h"

#include <string>
#include <unordered_map>

#include "flyte/manager/attributes.h"
#include "flyte/manager/errors.h"
#include "flyte/manager/execution_config.h"

namespace flyte::plugins::manager {

using plugin::Status;
using plugin::StatusOr;
namespace admin = flyteidl::admin;
namespace db = plugin::db;

namespace {

constexpr std::string_view kFieldAttributes = "attributes";
constexpr std::string_view kFieldMatchingAttributes = "matching_attributes";

// Go's "%+v" of a *ResourceID, as upstream prints it in merge errors.
std::string KeyText(const db::ResourceKey& k) {
  return "&{Project:" + k.project + " Domain:" + k.domain + " Workflow:" + k.workflow +
         " LaunchPlan:" + k.launch_plan + " ResourceType:" + k.resource_type + "}";
}

StatusOr<admin::MatchingAttributes> Decode(const db::ResourceModel& row, std::string_view what) {
  admin::MatchingAttributes attributes;
  if (!attributes.ParseFromString(row.attributes)) {
    return plugin::Internal("Failed to decode " + std::string(what) +
                            " with err: proto: cannot parse invalid wire-format data");
  }
  return attributes;
}

}  // namespace

StatusOr<ResourceSettings> ResourceSettings::FromConfig(const nlohmann::json& root) {
  auto registration = RegistrationSettings::FromConfig(root);
  if (!registration.ok()) return registration.status();
  ResourceSettings s;
  s.domains = registration->domains;
  // Upstream's ApplicationConfig.GetAsWorkflowExecutionConfig: the flyteadmin section as
  // executions resolve it (max parallelism 25 when unset), without its envs.
  auto app = ExecutionAppConfig::FromConfig(root);
  if (!app.ok()) return app.status();
  s.execution_defaults = app->AsExecConfig();
  s.execution_defaults.clear_envs();
  return s;
}

StatusOr<admin::MatchableResource> MatchableResourceOf(const admin::MatchingAttributes* attributes,
                                                       const std::string& identifier) {
  if (!attributes) return MissingArgumentError(kFieldMatchingAttributes);
  switch (attributes->target_case()) {
    case admin::MatchingAttributes::kTaskResourceAttributes:
      return admin::TASK_RESOURCE;
    case admin::MatchingAttributes::kClusterResourceAttributes:
      return admin::CLUSTER_RESOURCE;
    case admin::MatchingAttributes::kExecutionQueueAttributes:
      return admin::EXECUTION_QUEUE;
    case admin::MatchingAttributes::kExecutionClusterLabel:
      return admin::EXECUTION_CLUSTER_LABEL;
    case admin::MatchingAttributes::kPluginOverrides:
      return admin::PLUGIN_OVERRIDE;
    case admin::MatchingAttributes::kWorkflowExecutionConfig:
      return admin::WORKFLOW_EXECUTION_CONFIG;
    case admin::MatchingAttributes::kClusterAssignment:
      return admin::CLUSTER_ASSIGNMENT;
    default:
      return plugin::InvalidArgument("Unrecognized matching attributes type for request " +
                                     identifier);
  }
}

admin::MatchingAttributes MergePluginOverrides(const admin::MatchingAttributes& existing,
                                               const admin::MatchingAttributes& update) {
  admin::MatchingAttributes merged;
  auto* overrides = merged.mutable_plugin_overrides()->mutable_overrides();
  // Where each task type's override sits: a lookup, not a scan, per override merged.
  std::unordered_map<std::string, int> position;
  auto put = [&](const admin::PluginOverride& o) {
    auto [it, added] = position.emplace(o.task_type(), overrides->size());
    if (added) {
      *overrides->Add() = o;
    } else {
      *overrides->Mutable(it->second) = o;
    }
  };
  for (const auto& o : existing.plugin_overrides().overrides()) put(o);
  for (const auto& o : update.plugin_overrides().overrides()) put(o);
  return merged;
}

Status ResourceManagerImpl::Upsert(db::Repositories& repos, db::ResourceModel model,
                                   const admin::MatchingAttributes& attributes) {
  model.attributes = attributes.SerializeAsString();
  db::ResourceRepo& repo = repos.Resources();
  if (!attributes.has_plugin_overrides()) return repo.CreateOrUpdate(model);
  // Plugin overrides merge into the stored ones: read and write in one transaction holding the
  // key, so that two merges (or a merge and a delete) at once lose nothing.
  return repos.RunGrouped("resources/" + KeyText(model.key), [&]() -> Status {
    if (auto s = repo.LockKey(model.key); !s.ok()) return s;
    return MergeInto(repo, model, attributes);
  });
}

Status ResourceManagerImpl::MergeInto(db::ResourceRepo& repo, const db::ResourceModel& model,
                                      const admin::MatchingAttributes& attributes) {
  auto existing = repo.Get(model.key);
  if (!existing.ok()) {
    if (existing.status().code() == plugin::StatusCode::kNotFound)
      return repo.CreateOrUpdate(model);
    return existing.status();
  }
  admin::MatchingAttributes stored;
  if (!stored.ParseFromString(existing->attributes)) {
    return plugin::Internal("Unable to unmarshal existing resource attributes for [" +
                            KeyText(model.key) +
                            "] with err: proto: cannot parse invalid wire-format data");
  }
  db::ResourceModel updated = existing.value();
  updated.attributes = MergePluginOverrides(stored, attributes).SerializeAsString();
  return repo.CreateOrUpdate(updated);
}

// ---- Project level ----

Status ResourceManagerImpl::UpdateProjectAttributes(
    plugin::CallContext&, const admin::ProjectAttributesUpdateRequest& request,
    admin::ProjectAttributesUpdateResponse&) {
  if (!request.has_attributes()) return MissingArgumentError(kFieldAttributes);
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  const auto& attrs = request.attributes();
  if (auto s = ValidateProjectForUpdate(db.value()->Projects(), attrs.project()); !s.ok()) return s;
  auto type = MatchableResourceOf(
      attrs.has_matching_attributes() ? &attrs.matching_attributes() : nullptr, attrs.project());
  if (!type.ok()) return type.status();
  db::ResourceModel model;
  model.key = db::ResourceKey{attrs.project(), "", "", "", MatchableResourceName(type.value())};
  model.priority = db::kResourcePriorityProject;
  return Upsert(*db.value(), std::move(model), attrs.matching_attributes());
}

Status ResourceManagerImpl::GetProjectAttributes(plugin::CallContext&,
                                                 const admin::ProjectAttributesGetRequest& request,
                                                 admin::ProjectAttributesGetResponse& response) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  if (auto s = ValidateProjectExists(db.value()->Projects(), request.project()); !s.ok()) return s;
  const bool execution_config = request.resource_type() == admin::WORKFLOW_EXECUTION_CONFIG;
  auto row = db.value()->Resources().GetProjectLevel(
      request.project(), MatchableResourceName(request.resource_type()));
  auto* out = response.mutable_attributes();
  if (!row.ok()) {
    // Upstream answers the platform defaults when a project has no execution config of its own.
    if (row.status().code() == plugin::StatusCode::kNotFound && execution_config) {
      out->set_project(request.project());
      *out->mutable_matching_attributes()->mutable_workflow_execution_config() =
          settings_.execution_defaults;
      return Status::Ok();
    }
    return row.status();
  }
  auto attributes = Decode(row.value(), "MatchableAttributesConfiguration");
  if (!attributes.ok()) return attributes.status();
  out->set_project(request.project());
  *out->mutable_matching_attributes() = std::move(attributes.value());
  if (out->matching_attributes().has_workflow_execution_config()) {
    MergeIntoExecConfig(*out->mutable_matching_attributes()->mutable_workflow_execution_config(),
                        settings_.execution_defaults);
  }
  return Status::Ok();
}

Status ResourceManagerImpl::DeleteProjectAttributes(
    plugin::CallContext&, const admin::ProjectAttributesDeleteRequest& request,
    admin::ProjectAttributesDeleteResponse&) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  if (auto s = ValidateProjectForUpdate(db.value()->Projects(), request.project()); !s.ok())
    return s;
  return db.value()->Resources().Delete(db::ResourceKey{
      request.project(), "", "", "", MatchableResourceName(request.resource_type())});
}

// ---- Project-domain level ----

Status ResourceManagerImpl::UpdateProjectDomainAttributes(
    plugin::CallContext&, const admin::ProjectDomainAttributesUpdateRequest& request,
    admin::ProjectDomainAttributesUpdateResponse&) {
  if (!request.has_attributes()) return MissingArgumentError(kFieldAttributes);
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  const auto& attrs = request.attributes();
  if (auto s = ValidateProjectAndDomain(db.value()->Projects(), settings_.domains, attrs.project(),
                                        attrs.domain());
      !s.ok()) {
    return s;
  }
  auto type =
      MatchableResourceOf(attrs.has_matching_attributes() ? &attrs.matching_attributes() : nullptr,
                          attrs.project() + "-" + attrs.domain());
  if (!type.ok()) return type.status();
  db::ResourceModel model;
  model.key =
      db::ResourceKey{attrs.project(), attrs.domain(), "", "", MatchableResourceName(type.value())};
  model.priority = db::kResourcePriorityProjectDomain;
  return Upsert(*db.value(), std::move(model), attrs.matching_attributes());
}

Status ResourceManagerImpl::GetProjectDomainAttributes(
    plugin::CallContext&, const admin::ProjectDomainAttributesGetRequest& request,
    admin::ProjectDomainAttributesGetResponse& response) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  if (auto s = ValidateProjectAndDomain(db.value()->Projects(), settings_.domains,
                                        request.project(), request.domain());
      !s.ok()) {
    return s;
  }
  // Upstream answers the most specific match, so a project-level row serves when the domain
  // has none (and the response then carries its empty domain).
  auto row = db.value()->Resources().GetMostSpecific(db::ResourceKey{
      request.project(), request.domain(), "", "", MatchableResourceName(request.resource_type())});
  if (!row.ok()) return row.status();
  auto attributes = Decode(row.value(), "project domain resource projectDomainAttributes");
  if (!attributes.ok()) return attributes.status();
  auto* out = response.mutable_attributes();
  out->set_project(row->key.project);
  out->set_domain(row->key.domain);
  *out->mutable_matching_attributes() = std::move(attributes.value());
  return Status::Ok();
}

Status ResourceManagerImpl::DeleteProjectDomainAttributes(
    plugin::CallContext&, const admin::ProjectDomainAttributesDeleteRequest& request,
    admin::ProjectDomainAttributesDeleteResponse&) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  if (auto s = ValidateProjectAndDomain(db.value()->Projects(), settings_.domains,
                                        request.project(), request.domain());
      !s.ok()) {
    return s;
  }
  return db.value()->Resources().Delete(db::ResourceKey{
      request.project(), request.domain(), "", "", MatchableResourceName(request.resource_type())});
}

// ---- Workflow level ----

Status ResourceManagerImpl::UpdateWorkflowAttributes(
    plugin::CallContext&, const admin::WorkflowAttributesUpdateRequest& request,
    admin::WorkflowAttributesUpdateResponse&) {
  if (!request.has_attributes()) return MissingArgumentError(kFieldAttributes);
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  const auto& attrs = request.attributes();
  if (auto s = ValidateProjectAndDomain(db.value()->Projects(), settings_.domains, attrs.project(),
                                        attrs.domain());
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateEmptyStringField(attrs.workflow(), kFieldName); !s.ok()) return s;
  auto type =
      MatchableResourceOf(attrs.has_matching_attributes() ? &attrs.matching_attributes() : nullptr,
                          attrs.project() + "-" + attrs.domain() + "-" + attrs.workflow());
  if (!type.ok()) return type.status();
  db::ResourceModel model;
  model.key = db::ResourceKey{attrs.project(), attrs.domain(), attrs.workflow(), "",
                              MatchableResourceName(type.value())};
  model.priority = db::kResourcePriorityWorkflow;
  return Upsert(*db.value(), std::move(model), attrs.matching_attributes());
}

Status ResourceManagerImpl::GetWorkflowAttributes(
    plugin::CallContext&, const admin::WorkflowAttributesGetRequest& request,
    admin::WorkflowAttributesGetResponse& response) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  if (auto s = ValidateProjectAndDomain(db.value()->Projects(), settings_.domains,
                                        request.project(), request.domain());
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateEmptyStringField(request.workflow(), kFieldName); !s.ok()) return s;
  auto row = db.value()->Resources().GetMostSpecific(
      db::ResourceKey{request.project(), request.domain(), request.workflow(), "",
                      MatchableResourceName(request.resource_type())});
  if (!row.ok()) return row.status();
  auto attributes = Decode(row.value(), "project domain resource projectDomainAttributes");
  if (!attributes.ok()) return attributes.status();
  auto* out = response.mutable_attributes();
  out->set_project(row->key.project);
  out->set_domain(row->key.domain);
  out->set_workflow(row->key.workflow);
  *out->mutable_matching_attributes() = std::move(attributes.value());
  return Status::Ok();
}

Status ResourceManagerImpl::DeleteWorkflowAttributes(
    plugin::CallContext&, const admin::WorkflowAttributesDeleteRequest& request,
    admin::WorkflowAttributesDeleteResponse&) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  if (auto s = ValidateProjectAndDomain(db.value()->Projects(), settings_.domains,
                                        request.project(), request.domain());
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateEmptyStringField(request.workflow(), kFieldName); !s.ok()) return s;
  return db.value()->Resources().Delete(
      db::ResourceKey{request.project(), request.domain(), request.workflow(), "",
                      MatchableResourceName(request.resource_type())});
}

// ---- List ----

Status ResourceManagerImpl::ListMatchableAttributes(
    plugin::CallContext&, const admin::ListMatchableAttributesRequest& request,
    admin::ListMatchableAttributesResponse& response) {
  if (!admin::MatchableResource_IsValid(request.resource_type())) {
    return InvalidArgumentError(kFieldResourceType);
  }
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->Resources().ListAll(MatchableResourceName(request.resource_type()));
  if (!rows.ok()) return rows.status();
  for (const auto& row : rows.value()) {
    auto attributes = Decode(row, "MatchableAttributesConfiguration");
    if (!attributes.ok()) return attributes.status();
    auto* config = response.add_configurations();
    *config->mutable_attributes() = std::move(attributes.value());
    config->set_project(row.key.project);
    config->set_domain(row.key.domain);
    config->set_workflow(row.key.workflow);
    config->set_launch_plan(row.key.launch_plan);
  }
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
