// Workflows as upstream's workflow manager serves them; compiled closures live in object
// storage at <container>/<metadata prefix>/<project>/<domain>/<name>/<version>.
#include "workflow.h"

#include "flyte/manager/checks.h"
#include "flyte/manager/data.h"
#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::manager {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

plugin::StatusOr<core::CompiledWorkflowClosure> WorkflowManagerImpl::Compile(
    const admin::WorkflowCreateRequest& request, const core::WorkflowTemplate& primary) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto compiler = services_.Compiler();
  if (!compiler.ok()) return compiler.status();
  std::vector<core::WorkflowTemplate> subs(request.spec().sub_workflows().begin(),
                                           request.spec().sub_workflows().end());
  auto requirements = compiler.value()->GetRequirements(primary, subs);
  if (!requirements.ok()) {
    return plugin::InvalidArgument("failed to get workflow requirements with err " + requirements.status().message());
  }
  std::vector<core::CompiledTask> tasks;
  tasks.reserve(requirements->task_ids.size());
  for (const auto& id : requirements->task_ids) {
    auto row = db.value()->Tasks().Get(KeyOf(id));
    if (!row.ok()) return MissingEntity(row.status(), core::TASK, id);
    admin::TaskClosure closure;
    if (!closure.ParseFromString(row->closure)) return plugin::Internal("failed to unmarshal task closure of " + id.name());
    tasks.push_back(closure.compiled_task());
  }
  std::vector<plugin::LaunchPlanInterface> launch_plans;
  for (const auto& id : requirements->launch_plan_ids) {
    auto row = db.value()->LaunchPlans().Get(KeyOf(id));
    if (!row.ok()) return MissingEntity(row.status(), core::LAUNCH_PLAN, id);
    admin::LaunchPlanClosure closure;
    closure.ParseFromString(row->closure);
    plugin::LaunchPlanInterface lp;
    lp.id = id;
    lp.expected_inputs = closure.expected_inputs();
    lp.expected_outputs = closure.expected_outputs();
    launch_plans.push_back(std::move(lp));
  }
  return compiler.value()->CompileWorkflow(primary, subs, tasks, launch_plans);
}

Status WorkflowManagerImpl::CreateWorkflow(plugin::CallContext&, const admin::WorkflowCreateRequest& request,
                                           admin::WorkflowCreateResponse&) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto storage = services_.Storage();
  if (!storage.ok()) return storage.status();
  if (auto s = ValidateWorkflow(request, db.value()->Projects(), settings_.domains); !s.ok()) return s;

  core::WorkflowTemplate primary = request.spec().template_();
  *primary.mutable_id() = request.id();
  auto compiled = Compile(request, primary);
  if (!compiled.ok()) {
    return Wrap(plugin::InvalidArgument(compiled.status().message()),
                "failed to compile workflow for [" + IdentifierText(request.id()) + "] with err: ");
  }
  admin::WorkflowClosure closure;
  *closure.mutable_compiled_workflow() = compiled.value();
  *closure.mutable_created_at() = ToProto(Now());
  if (auto s = ValidateCompiledWorkflow(request.id(), closure, settings_.registration); !s.ok()) return s;

  plugin::db::WorkflowModel model;
  model.key = KeyOf(request.id());
  model.digest = Digest(compiled.value());
  const auto id_held = ids_in_flight_.Hold(model.key.project + "/" + model.key.domain + "/" +
                                           model.key.name + "/" + model.key.version);
  auto existing = db.value()->Workflows().Get(model.key);
  if (existing.ok()) {
    if (existing->digest == model.digest) return WorkflowExistsIdenticalStructureError(request.id());
    auto old_closure_bytes = storage.value()->Read(existing->remote_closure_identifier);
    admin::WorkflowClosure old_closure;
    if (old_closure_bytes.ok()) old_closure.ParseFromString(old_closure_bytes.value());
    return WorkflowExistsDifferentStructureError(request.id(), old_closure.compiled_workflow(), compiled.value());
  }
  if (existing.status().code() != plugin::StatusCode::kNotFound) return existing.status();

  // Each key nested on its '/' as upstream's ConstructReference does: a version "feature/x" is
  // two levels, as on S3.
  std::vector<std::string> segments;
  for (const auto& p : settings_.metadata_prefix) SplitStorageKey(p, segments);
  for (const auto* part : {&request.id().project(), &request.id().domain(), &request.id().name(),
                           &request.id().version()}) {
    SplitStorageKey(*part, segments);
  }
  auto uri = storage.value()->Join(storage.value()->BaseUri(), segments);
  if (!uri.ok()) {
    // The local store refuses a "." or ".." segment (upstream's URL resolution would climb to
    // the parent): the client's to fix, not the server's.
    const auto code = uri.status().code() == plugin::StatusCode::kInvalidArgument
                          ? plugin::StatusCode::kInvalidArgument
                          : plugin::StatusCode::kInternal;
    return plugin::Status(code, "failed to construct data reference for workflow closure with id [" +
                                    plugin::GoProtoText(request.id()) + "] and err " + uri.status().message());
  }
  if (auto s = storage.value()->Write(uri.value(), closure.SerializeAsString()); !s.ok()) {
    return plugin::Internal("failed to write marshaled workflow [" + plugin::GoProtoText(request.id()) +
                            "] to storage " + uri.value() + " with err " + s.message() +
                            " and base container: " + storage.value()->BaseUri());
  }
  model.typed_interface = primary.interface().SerializeAsString();
  model.remote_closure_identifier = uri.value();
  std::optional<plugin::db::DescriptionEntityModel> description;
  if (request.spec().has_description()) {
    description = DescriptionEntityFrom(request.id(), request.spec().description());
    model.short_description = description->short_description;
  }
  return db.value()->Workflows().Create(model, description);
}

Status WorkflowManagerImpl::GetWorkflow(plugin::CallContext&, const admin::ObjectGetRequest& request,
                                        admin::Workflow& response) {
  core::Identifier id = request.id();
  if (id.resource_type() == core::UNSPECIFIED) id.set_resource_type(core::WORKFLOW);
  if (auto s = ValidateIdentifierFor(request.has_id() ? &id : nullptr, core::WORKFLOW); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto storage = services_.Storage();
  if (!storage.ok()) return storage.status();
  auto row = db.value()->Workflows().Get(KeyOf(id));
  if (!row.ok()) return MissingEntity(row.status(), core::WORKFLOW, id);
  admin::WorkflowClosure closure;
  if (auto s = ReadWorkflowClosure(*storage.value(), data_, row->remote_closure_identifier, closure); !s.ok()) {
    return s;
  }
  *closure.mutable_created_at() = ToProto(row->created_at);
  *response.mutable_id() = IdentifierOf(core::WORKFLOW, row->key);
  *response.mutable_closure() = std::move(closure);
  response.set_short_description(row->short_description);
  return Status::Ok();
}

// Lists carry a stub closure: the interface and creation time only, as upstream.
Status WorkflowManagerImpl::ListWorkflows(plugin::CallContext&, const admin::ResourceListRequest& request,
                                          admin::WorkflowList& response) {
  auto input = BuildResourceListInput(Entity::kWorkflow, request, "ListWorkflows");
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->Workflows().List(input.value());
  if (!rows.ok()) return rows.status();
  for (const auto& row : rows.value()) {
    auto* wf = response.add_workflows();
    *wf->mutable_id() = IdentifierOf(core::WORKFLOW, row.key);
    auto* closure = wf->mutable_closure();
    *closure->mutable_created_at() = ToProto(row.created_at);
    closure->mutable_compiled_workflow()->mutable_primary()->mutable_template_()->mutable_interface()->ParseFromString(
        row.typed_interface);
    wf->set_short_description(row.short_description);
  }
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

Status WorkflowManagerImpl::ListWorkflowIds(plugin::CallContext&, const admin::NamedEntityIdentifierListRequest& request,
                                            admin::NamedEntityIdentifierList& response) {
  auto input = BuildIdentifierListInput(Entity::kWorkflow, request, "ListWorkflowIdentifiers");
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->Workflows().ListIdentifiers(input.value());
  if (!rows.ok()) return rows.status();
  FillIdentifierList(rows.value(), response);
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
