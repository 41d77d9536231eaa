// Launch plans as upstream's launch plan manager serves them.
#include "launch_plan.h"

#include "flyte/manager/checks.h"
#include "flyte/plugin/go_compat.h"

// Schedule.cron_expression is deprecated in the IDL, but upstream still reads it.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

plugin::StatusOr<admin::LaunchPlan> LaunchPlanFromModel(const plugin::db::LaunchPlanModel& model) {
  admin::LaunchPlan lp;
  *lp.mutable_id() = IdentifierOf(core::LAUNCH_PLAN, model.key);
  if (!lp.mutable_spec()->ParseFromString(model.spec) || !lp.mutable_closure()->ParseFromString(model.closure)) {
    return plugin::Internal("failed to unmarshal launch plan " + model.key.name);
  }
  lp.mutable_closure()->set_state(static_cast<admin::LaunchPlanState>(model.state));
  *lp.mutable_closure()->mutable_created_at() = ToProto(model.created_at);
  *lp.mutable_closure()->mutable_updated_at() = ToProto(model.updated_at);
  return lp;
}

namespace {

// The row the native scheduler's AddSchedule (scheduler/dbapi/event_scheduler_impl.go) writes
// for a schedule: a rate or a cron schedule, active; the deprecated cron_expression alone is an
// expression type it does not know (a plain error upstream, so INTERNAL).
plugin::StatusOr<plugin::db::SchedulableEntityModel> ScheduleRow(const plugin::db::EntityKey& key,
                                                                 const admin::Schedule& schedule) {
  plugin::db::SchedulableEntityModel entity;
  entity.key = key;
  entity.kickoff_time_input_arg = schedule.kickoff_time_input_arg();
  entity.active = true;
  switch (schedule.ScheduleExpression_case()) {
    case admin::Schedule::kRate:
      entity.fixed_rate_value = schedule.rate().value();
      entity.unit = schedule.rate().unit();
      break;
    case admin::Schedule::kCronSchedule:
      entity.cron_expression = schedule.cron_schedule().schedule();
      break;
    default:
      // Go's %v of the oneof wrapper.
      return plugin::Internal("failed adding schedule for unknown schedule expression type &{CronExpression:" +
                              schedule.cron_expression() + "}");
  }
  return entity;
}

// Upstream's schedule_type / launch_condition_type columns from the spec's schedule.
void SetScheduleColumns(const admin::LaunchPlanSpec& spec, plugin::db::LaunchPlanModel& model) {
  model.schedule_type = "NONE";
  model.launch_condition_type.reset();
  if (!spec.has_entity_metadata() || !spec.entity_metadata().has_schedule()) return;
  const auto& schedule = spec.entity_metadata().schedule();
  if (!schedule.cron_expression().empty() || schedule.has_cron_schedule()) {
    model.schedule_type = "CRON";
    model.launch_condition_type = "SCHED";
  } else if (schedule.has_rate()) {
    model.schedule_type = "RATE";
    model.launch_condition_type = "SCHED";
  }
}

Status FillList(const std::vector<plugin::db::LaunchPlanModel>& rows, admin::LaunchPlanList& response) {
  for (const auto& row : rows) {
    auto lp = LaunchPlanFromModel(row);
    if (!lp.ok()) return lp.status();
    *response.add_launch_plans() = std::move(lp.value());
  }
  return Status::Ok();
}

}  // namespace

Status LaunchPlanManagerImpl::CreateLaunchPlan(plugin::CallContext&, const admin::LaunchPlanCreateRequest& request,
                                               admin::LaunchPlanCreateResponse&) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto compiler = services_.Compiler();
  if (!compiler.ok()) return compiler.status();

  // Upstream checks the referenced workflow before the launch plan's own id.
  const core::Identifier* workflow_id =
      request.has_spec() && request.spec().has_workflow_id() ? &request.spec().workflow_id() : nullptr;
  if (auto s = ValidateIdentifierFor(workflow_id, core::WORKFLOW); !s.ok()) return s;
  auto workflow = db.value()->Workflows().Get(KeyOf(*workflow_id));
  if (!workflow.ok()) return MissingEntity(workflow.status(), core::WORKFLOW, *workflow_id);
  core::TypedInterface workflow_interface;
  if (!workflow_interface.ParseFromString(workflow->typed_interface)) {
    return plugin::Internal("failed to unmarshal workflow inputs");
  }

  // Validation replaces the spec's default inputs with the expected inputs, the stored form.
  admin::LaunchPlanCreateRequest validated = request;
  if (auto s = ValidateLaunchPlan(validated, db.value()->Projects(), settings_.domains, settings_.enable_artifacts,
                                  workflow_interface, *compiler.value());
      !s.ok()) {
    return s;
  }

  admin::LaunchPlan lp;
  *lp.mutable_id() = validated.id();
  *lp.mutable_spec() = validated.spec();
  // Absent stays absent (a nil map upstream): the closure, and so the digest, match upstream's.
  if (validated.spec().has_default_inputs()) {
    *lp.mutable_closure()->mutable_expected_inputs() = validated.spec().default_inputs();
  }
  if (workflow_interface.has_outputs()) {
    *lp.mutable_closure()->mutable_expected_outputs() = workflow_interface.outputs();
  }

  plugin::db::LaunchPlanModel model;
  model.key = KeyOf(request.id());
  model.spec = lp.spec().SerializeAsString();
  model.workflow_id = workflow->id;
  model.closure = lp.closure().SerializeAsString();
  model.state = admin::INACTIVE;
  model.digest = Digest(lp);
  SetScheduleColumns(lp.spec(), model);

  auto existing = db.value()->LaunchPlans().Get(model.key);
  if (existing.ok()) {
    if (existing->digest == model.digest) {
      return LaunchPlanExistsIdenticalStructureError();
    }
    admin::LaunchPlanSpec old_spec;
    old_spec.ParseFromString(existing->spec);
    return LaunchPlanExistsDifferentStructureError(request.id(), old_spec, lp.spec());
  }
  return db.value()->LaunchPlans().Create(model);
}

Status LaunchPlanManagerImpl::GetLaunchPlan(plugin::CallContext&, const admin::ObjectGetRequest& request,
                                            admin::LaunchPlan& response) {
  core::Identifier id = request.id();
  if (id.resource_type() == core::UNSPECIFIED) id.set_resource_type(core::LAUNCH_PLAN);
  if (auto s = ValidateIdentifierFor(request.has_id() ? &id : nullptr, core::LAUNCH_PLAN); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto row = db.value()->LaunchPlans().Get(KeyOf(id));
  if (!row.ok()) return MissingEntity(row.status(), core::LAUNCH_PLAN, id);
  auto lp = LaunchPlanFromModel(row.value());
  if (!lp.ok()) return lp.status();
  response = std::move(lp.value());
  return Status::Ok();
}

Status LaunchPlanManagerImpl::UpdateLaunchPlan(plugin::CallContext&, const admin::LaunchPlanUpdateRequest& request,
                                               admin::LaunchPlanUpdateResponse&) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  core::Identifier id = request.id();
  if (id.resource_type() == core::UNSPECIFIED) id.set_resource_type(core::LAUNCH_PLAN);
  if (request.state() != admin::INACTIVE && request.state() != admin::ACTIVE) {
    return UnrecognizedLaunchPlanStateError(request.state(), id);
  }
  if (request.state() == admin::INACTIVE) {
    if (auto s = ValidateIdentifierFor(request.has_id() ? &id : nullptr, core::LAUNCH_PLAN); !s.ok()) return s;
  }
  // One transaction holding every version of the name: two activations (or an activation and a
  // deactivation) at once would otherwise both read the same active version and could leave two
  // versions ACTIVE, each with its schedule.
  plugin::db::Repositories& repos = *db.value();
  return repos.RunGrouped("launch_plans/" + id.project() + "/" + id.domain() + "/" + id.name(), [&]() -> Status {
    if (auto s = repos.LaunchPlans().LockVersions({id.project(), id.domain(), id.name()}); !s.ok()) return s;
    return ChangeState(repos, request, id);
  });
}

Status LaunchPlanManagerImpl::ChangeState(plugin::db::Repositories& repos, const admin::LaunchPlanUpdateRequest& request,
                                          const core::Identifier& id) {
  auto& repo = repos.LaunchPlans();
  auto& schedules = repos.SchedulableEntities();
  if (request.state() == admin::INACTIVE) {
    auto row = repo.Get(KeyOf(id));
    if (!row.ok()) return MissingEntity(row.status(), core::LAUNCH_PLAN, id);
    row->state = admin::INACTIVE;
    admin::LaunchPlanSpec spec;
    if (!spec.ParseFromString(row->spec)) {
      return plugin::Internal("failed to unmarshal launch plan spec when disabling schedule for " + plugin::GoProtoText(id));
    }
    // Any schedule message, even an empty one, is removed (upstream tests presence here).
    if (database_schedules_ && spec.has_entity_metadata() && spec.entity_metadata().has_schedule()) {
      if (auto s = schedules.Deactivate(row->key); !s.ok()) return s;
    }
    return repo.Update(row.value());
  }
  if (request.state() == admin::ACTIVE) {
    auto row = repo.Get(KeyOf(id));
    if (!row.ok()) return MissingEntity(row.status(), core::LAUNCH_PLAN, id);
    plugin::db::ListInput active;
    active.filters = {{"launch_plans", "project", plugin::db::FilterOp::kEq, {id.project()}},
                      {"launch_plans", "domain", plugin::db::FilterOp::kEq, {id.domain()}},
                      {"launch_plans", "name", plugin::db::FilterOp::kEq, {id.name()}},
                      {"launch_plans", "state", plugin::db::FilterOp::kEq, {"1"}}};
    active.limit = 1;
    auto current = repo.List(active);
    if (!current.ok()) return current.status();
    std::optional<plugin::db::LaunchPlanModel> to_disable;
    if (!current->empty()) to_disable = current->front();
    // updateSchedules, before the state changes: a schedule that cannot be added leaves both
    // versions as they were.
    if (database_schedules_) {
      admin::LaunchPlanSpec new_spec, former_spec;
      if (!new_spec.ParseFromString(row->spec)) {
        return plugin::Internal("failed to unmarshal newly enabled launch plan spec");
      }
      if (to_disable && !former_spec.ParseFromString(to_disable->spec)) {
        return plugin::Internal("failed to unmarshal formerly enabled launch plan spec");
      }
      // The new schedule's row is worked out before the former one is removed: upstream
      // removes first, so a schedule it cannot add leaves the still-active former version
      // without its schedule.
      std::optional<plugin::db::SchedulableEntityModel> to_add;
      if (!IsScheduleEmpty(new_spec)) {
        auto entity = ScheduleRow(row->key, new_spec.entity_metadata().schedule());
        if (!entity.ok()) return entity.status();
        to_add = std::move(entity.value());
      }
      if (!IsScheduleEmpty(former_spec)) {
        if (auto s = schedules.Deactivate(to_disable->key); !s.ok()) return s;
      }
      if (to_add) {
        if (auto s = schedules.Activate(*to_add); !s.ok()) return s;
      }
    }
    return repo.SetActive(row.value(), to_disable);
  }
  return UnrecognizedLaunchPlanStateError(request.state(), id);
}

Status LaunchPlanManagerImpl::GetActiveLaunchPlan(plugin::CallContext&, const admin::ActiveLaunchPlanRequest& request,
                                                  admin::LaunchPlan& response) {
  if (auto s = ValidateActiveLaunchPlanRequest(request); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  const auto& id = request.id();
  plugin::db::ListInput input;
  input.filters = {{"launch_plans", "project", plugin::db::FilterOp::kEq, {id.project()}},
                   {"launch_plans", "domain", plugin::db::FilterOp::kEq, {id.domain()}},
                   {"launch_plans", "name", plugin::db::FilterOp::kEq, {id.name()}},
                   {"launch_plans", "state", plugin::db::FilterOp::kEq, {"1"}}};
  input.limit = 1;
  auto rows = db.value()->LaunchPlans().List(input);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return plugin::NotFound("No active launch plan could be found: " + id.project() + ":" + id.domain() + ":" + id.name());
  }
  auto lp = LaunchPlanFromModel(rows->front());
  if (!lp.ok()) return lp.status();
  response = std::move(lp.value());
  return Status::Ok();
}

Status LaunchPlanManagerImpl::ListActiveLaunchPlans(plugin::CallContext&,
                                                    const admin::ActiveLaunchPlanListRequest& request,
                                                    admin::LaunchPlanList& response) {
  auto input = BuildActiveLaunchPlanListInput(request);
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->LaunchPlans().List(input.value());
  if (!rows.ok()) return rows.status();
  if (auto s = FillList(rows.value(), response); !s.ok()) return s;
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

Status LaunchPlanManagerImpl::ListLaunchPlanIds(plugin::CallContext&,
                                                const admin::NamedEntityIdentifierListRequest& request,
                                                admin::NamedEntityIdentifierList& response) {
  auto input = BuildIdentifierListInput(Entity::kLaunchPlan, request, "");
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->LaunchPlans().ListIdentifiers(input.value());
  if (!rows.ok()) return rows.status();
  FillIdentifierList(rows.value(), response);
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

Status LaunchPlanManagerImpl::ListLaunchPlans(plugin::CallContext&, const admin::ResourceListRequest& request,
                                              admin::LaunchPlanList& response) {
  auto input = BuildResourceListInput(Entity::kLaunchPlan, request, "ListLaunchPlans");
  if (!input.ok()) return input.status();
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->LaunchPlans().List(input.value());
  if (!rows.ok()) return rows.status();
  if (auto s = FillList(rows.value(), response); !s.ok()) return s;
  response.set_token(NextToken(input->offset, rows->size(), request.limit()));
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
