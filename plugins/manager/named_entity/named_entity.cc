// Named entities as upstream's named entity manager serves them.
#include "named_entity.h"

#include "flyte/manager/checks.h"

namespace flyte::plugins::manager {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

void ToProto(const plugin::db::NamedEntityModel& m, admin::NamedEntity& out) {
  out.set_resource_type(static_cast<core::ResourceType>(m.resource_type));
  out.mutable_id()->set_project(m.key.project);
  out.mutable_id()->set_domain(m.key.domain);
  out.mutable_id()->set_name(m.key.name);
  out.mutable_metadata()->set_description(m.description);
  out.mutable_metadata()->set_state(static_cast<admin::NamedEntityState>(m.state));
}

plugin::db::NamedEntityKey KeyOf(const admin::NamedEntityIdentifier& id) {
  return {id.project(), id.domain(), id.name()};
}

}  // namespace

Status NamedEntityManagerImpl::GetNamedEntity(plugin::CallContext&, const admin::NamedEntityGetRequest& request,
                                              admin::NamedEntity& response) {
  if (auto s = ValidateNamedEntityGetRequest(request); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto row = db.value()->NamedEntities().Get(request.resource_type(), KeyOf(request.id()));
  if (!row.ok()) return row.status();
  ToProto(row.value(), response);
  return Status::Ok();
}

Status NamedEntityManagerImpl::UpdateNamedEntity(plugin::CallContext&, const admin::NamedEntityUpdateRequest& request,
                                                 admin::NamedEntityUpdateResponse&) {
  if (auto s = ValidateNamedEntityUpdateRequest(request); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto& repo = db.value()->NamedEntities();
  auto existing = repo.Get(request.resource_type(), KeyOf(request.id()));
  if (!existing.ok()) return existing.status();
  plugin::db::NamedEntityModel model;
  model.resource_type = request.resource_type();
  model.key = KeyOf(request.id());
  model.description = request.metadata().description();
  model.state = request.metadata().state();
  return repo.Update(model);
}

Status NamedEntityManagerImpl::ListNamedEntities(plugin::CallContext&, const admin::NamedEntityListRequest& request,
                                                 admin::NamedEntityList& response) {
  auto input = BuildNamedEntityListInput(request);
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->NamedEntities().List(request.resource_type(), request.project(), request.domain(),
                                               input.value());
  if (!rows.ok()) return rows.status();
  for (const auto& row : rows.value()) ToProto(row, *response.add_entities());
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
