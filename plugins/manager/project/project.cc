// Projects and domains as upstream's project manager serves them.
#include "project.h"

#include "flyte/manager/checks.h"

namespace flyte::plugins::manager {

using plugin::Status;
namespace admin = flyteidl::admin;

void ProjectManagerImpl::FillDomains(admin::Project& project) const {
  project.clear_domains();
  for (const auto& d : settings_.domains) {
    auto* domain = project.add_domains();
    domain->set_id(d.id);
    domain->set_name(d.name);
  }
}

admin::Project ProjectManagerImpl::FromModel(const plugin::db::ProjectModel& model) const {
  admin::Project project;
  project.set_id(model.identifier);
  project.set_name(model.name);
  project.set_description(model.description);
  project.set_state(static_cast<admin::Project::ProjectState>(model.state));
  if (model.labels) {
    // Upstream stores the whole Project message in `labels`; only its labels are read back.
    admin::Project stored;
    if (stored.ParseFromString(*model.labels) && stored.has_labels()) *project.mutable_labels() = stored.labels();
  }
  FillDomains(project);
  return project;
}

Status ProjectManagerImpl::RegisterProject(plugin::CallContext&, const admin::ProjectRegisterRequest& request,
                                           admin::ProjectRegisterResponse&) {
  if (auto s = ValidateProjectRegisterRequest(request); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  const auto& p = request.project();
  plugin::db::ProjectModel model;
  model.identifier = p.id();
  model.name = p.name();
  model.description = p.description();
  if (p.has_labels()) model.labels = p.SerializeAsString();
  model.state = p.state();
  return db.value()->Projects().Create(model);
}

Status ProjectManagerImpl::UpdateProject(plugin::CallContext&, const admin::Project& request,
                                         admin::ProjectUpdateResponse&) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  // As upstream: the project must exist before the request is validated.
  auto existing = db.value()->Projects().Get(request.id());
  if (!existing.ok()) {
    if (existing.status().code() == plugin::StatusCode::kNotFound) {
      return plugin::NotFound("project [" + request.id() + "] not found");
    }
    return existing.status();
  }
  if (auto s = ValidateProject(request); !s.ok()) return s;
  plugin::db::ProjectModel model;
  model.identifier = request.id();
  model.name = request.name();
  model.description = request.description();
  if (request.has_labels()) model.labels = request.SerializeAsString();
  model.state = request.state();
  return db.value()->Projects().Update(model);
}

Status ProjectManagerImpl::GetProject(plugin::CallContext&, const admin::ProjectGetRequest& request,
                                      admin::Project& response) {
  if (request.id().empty()) return plugin::InvalidArgument("missing project_id");
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto model = db.value()->Projects().Get(request.id());
  if (!model.ok()) {
    if (model.status().code() == plugin::StatusCode::kNotFound) {
      return plugin::NotFound("project [" + request.id() + "] not found");
    }
    return model.status();
  }
  response = FromModel(model.value());
  return Status::Ok();
}

Status ProjectManagerImpl::ListProjects(plugin::CallContext&, const admin::ProjectListRequest& request,
                                        admin::Projects& response) {
  auto input = BuildProjectListInput(request);
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->Projects().List(input.value());
  if (!rows.ok()) return rows.status();
  for (const auto& row : rows.value()) *response.add_projects() = FromModel(row);
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

Status ProjectManagerImpl::GetDomains(plugin::CallContext&, const admin::GetDomainRequest&,
                                      admin::GetDomainsResponse& response) {
  for (const auto& d : settings_.domains) {
    auto* domain = response.add_domains();
    domain->set_id(d.id);
    domain->set_name(d.name);
  }
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
