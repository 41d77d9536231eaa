// Description entities as upstream's description entity manager serves them.
#include "description_entity.h"

#include "flyte/manager/checks.h"

namespace flyte::plugins::manager {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

void ToProto(const plugin::db::DescriptionEntityModel& m, admin::DescriptionEntity& out) {
  *out.mutable_id() = IdentifierOf(static_cast<core::ResourceType>(m.resource_type), m.key);
  out.set_short_description(m.short_description);
  out.mutable_long_description()->ParseFromString(m.long_description);
  out.mutable_source_code()->set_link(m.link);
}

}  // namespace

Status DescriptionEntityManagerImpl::GetDescriptionEntity(plugin::CallContext&, const admin::ObjectGetRequest& request,
                                                          admin::DescriptionEntity& response) {
  admin::ObjectGetRequest defaulted = request;
  // Upstream's RPC default, applied only to an id that is there (a missing one is then reported
  // as "invalid value for resource_type").
  if (defaulted.has_id() && defaulted.id().resource_type() == core::UNSPECIFIED) {
    defaulted.mutable_id()->set_resource_type(core::TASK);
  }
  if (auto s = ValidateDescriptionEntityGetRequest(defaulted); !s.ok()) return s;
  const core::Identifier& id = defaulted.id();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto row = db.value()->DescriptionEntities().Get(KeyOf(id));
  if (!row.ok()) return row.status();
  ToProto(row.value(), response);
  return Status::Ok();
}

Status DescriptionEntityManagerImpl::ListDescriptionEntities(plugin::CallContext&,
                                                             const admin::DescriptionEntityListRequest& request,
                                                             admin::DescriptionEntityList& response) {
  auto input = BuildDescriptionEntityListInput(request);
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->DescriptionEntities().List(input.value());
  if (!rows.ok()) return rows.status();
  for (const auto& row : rows.value()) ToProto(row, *response.add_descriptionentities());
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
