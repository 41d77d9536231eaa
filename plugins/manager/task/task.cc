// Tasks as upstream's task manager serves them.
#include "task.h"

#include "flyte/manager/attributes.h"
#include "flyte/manager/checks.h"

namespace flyte::plugins::manager {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

plugin::StatusOr<admin::Task> TaskFromModel(const plugin::db::TaskModel& model) {
  admin::Task task;
  *task.mutable_id() = IdentifierOf(core::TASK, model.key);
  if (!task.mutable_closure()->ParseFromString(model.closure)) {
    return plugin::Internal("failed to unmarshal task closure of " + model.key.name);
  }
  *task.mutable_closure()->mutable_created_at() = ToProto(model.created_at);
  task.set_short_description(model.short_description);
  return task;
}

Status TaskManagerImpl::CreateTask(plugin::CallContext&, const admin::TaskCreateRequest& request,
                                   admin::TaskCreateResponse&) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto compiler = services_.Compiler();
  if (!compiler.ok()) return compiler.status();

  // Platform limits: the project/domain TASK_RESOURCE attribute when one exists, else config.
  const TaskResources platform = GetTaskResources(
      db.value()->Resources(), request.has_id() ? &request.id() : nullptr, settings_.task_resources);
  if (auto s = ValidateTask(request, db.value()->Projects(), settings_.domains, platform,
                            settings_.task_type_whitelist);
      !s.ok()) {
    return s;
  }

  core::TaskTemplate task_template = request.spec().template_();
  *task_template.mutable_id() = request.id();  // upstream's setDefaults
  auto compiled = compiler.value()->CompileTask(task_template);
  if (!compiled.ok()) return plugin::InvalidArgument("task failed compilation with " + compiled.status().message());

  admin::TaskClosure closure;
  *closure.mutable_compiled_task() = compiled.value();
  *closure.mutable_created_at() = ToProto(Now());

  plugin::db::TaskModel model;
  model.key = KeyOf(request.id());
  model.closure = closure.SerializeAsString();
  model.digest = Digest(compiled.value());
  model.type = task_template.type();
  std::optional<plugin::db::DescriptionEntityModel> description;
  if (request.spec().has_description()) {
    description = DescriptionEntityFrom(request.id(), request.spec().description());
    model.short_description = description->short_description;
  }

  Status created = db.value()->Tasks().Create(model, description);
  if (created.code() != plugin::StatusCode::kAlreadyExists) return created;
  auto existing = db.value()->Tasks().Get(model.key);
  if (!existing.ok()) return existing.status();
  if (existing->digest == model.digest) {
    return TaskExistsIdenticalStructureError();
  }
  admin::TaskClosure old_closure;
  old_closure.ParseFromString(existing->closure);
  return TaskExistsDifferentStructureError(request.id(), old_closure.compiled_task(), compiled.value());
}

Status TaskManagerImpl::GetTask(plugin::CallContext&, const admin::ObjectGetRequest& request, admin::Task& response) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  // Upstream only logs a failed identifier validation here and looks up what was given.
  auto model = db.value()->Tasks().Get(KeyOf(request.id()));
  if (!model.ok()) return MissingEntity(model.status(), core::TASK, request.id());
  auto task = TaskFromModel(model.value());
  if (!task.ok()) return task.status();
  response = std::move(task.value());
  return Status::Ok();
}

Status TaskManagerImpl::ListTasks(plugin::CallContext&, const admin::ResourceListRequest& request,
                                  admin::TaskList& response) {
  auto input = BuildResourceListInput(Entity::kTask, request, "ListTasks");
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->Tasks().List(input.value());
  if (!rows.ok()) return rows.status();
  for (const auto& row : rows.value()) {
    auto task = TaskFromModel(row);
    if (!task.ok()) return task.status();
    *response.add_tasks() = std::move(task.value());
  }
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

Status TaskManagerImpl::ListTaskIds(plugin::CallContext&, const admin::NamedEntityIdentifierListRequest& request,
                                    admin::NamedEntityIdentifierList& response) {
  auto input = BuildIdentifierListInput(Entity::kTask, request, "ListUniqueTaskIdentifiers");
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->Tasks().ListIdentifiers(input.value());
  if (!rows.ok()) return rows.status();
  FillIdentifierList(rows.value(), response);
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
