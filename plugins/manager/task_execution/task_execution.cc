// Task events and task execution reads as upstream's task execution manager serves them.
#include "task_execution.h"

#include "flyte/manager/event_checks.h"
#include "flyte/manager/errors.h"
#include "flyte/manager/filters.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/validation.h"

// The UrlBlob halves of the data response are deprecated in the IDL; upstream still fills them.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {

using plugin::Status;
using plugin::StatusOr;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

// The identifier upstream's repository prints for a missing task execution: the task key and the
// node execution, without resource type or retry attempt.
core::TaskExecutionIdentifier MissingKeyText(const core::TaskExecutionIdentifier& id) {
  core::TaskExecutionIdentifier key;
  auto* task = key.mutable_task_id();
  task->set_project(id.task_id().project());
  task->set_domain(id.task_id().domain());
  task->set_name(id.task_id().name());
  task->set_version(id.task_id().version());
  auto* node = key.mutable_node_execution_id();
  node->set_node_id(id.node_execution_id().node_id());
  node->mutable_execution_id()->set_project(id.node_execution_id().execution_id().project());
  node->mutable_execution_id()->set_domain(id.node_execution_id().execution_id().domain());
  node->mutable_execution_id()->set_name(id.node_execution_id().execution_id().name());
  return key;
}

// The checks an event must pass against the stored row before it is applied.
Status CheckTransition(const plugin::db::TaskExecutionModel& stored,
                       const admin::TaskExecutionEventRequest& request,
                       const core::TaskExecutionIdentifier& id) {
  const auto& e = request.event();
  const std::string phase = TaskPhaseName(e.phase());
  if (stored.phase == phase && stored.phase_version >= e.phase_version()) {
    return plugin::AlreadyExists("have already recorded task execution phase " + phase +
                                 " (version: " + std::to_string(e.phase_version()) + ") for " +
                                 plugin::GoProtoText(id));
  }
  if (core::TaskExecution_Phase value;
      core::TaskExecution_Phase_Parse(stored.phase, &value) && IsTaskPhaseTerminal(value)) {
    // Upstream reports the event's phase as the "current" one in the detail.
    return AlreadyInTerminalStateError("invalid phase change from " + stored.phase + " to " +
                                           phase + " for task execution " + plugin::GoProtoText(id),
                                       phase);
  }
  return Status::Ok();
}

// The REST routes of Get and GetData carry no resource type: upstream's service layer defaults
// an unspecified one to TASK before validating.
template <typename Request>
core::TaskExecutionIdentifier WithTaskResourceType(const Request& request) {
  core::TaskExecutionIdentifier id = request.id();
  if (request.has_id() && request.id().has_task_id() &&
      id.task_id().resource_type() == core::UNSPECIFIED) {
    id.mutable_task_id()->set_resource_type(core::TASK);
  }
  return id;
}

}  // namespace

StatusOr<bool> HasChildNodeExecutions(plugin::db::NodeExecutionRepo& nodes, int64_t id) {
  plugin::db::ListInput input;
  input.filters.push_back({"node_executions",
                           "parent_task_execution_id",
                           plugin::db::FilterOp::kEq,
                           {std::to_string(id)}});
  auto count = nodes.Count(input);
  if (!count.ok()) return count.status();
  return count.value() > 0;
}

namespace {

// ApplyTaskEvent writes through one repository write at a time (an update, else a create),
// each of which writes nothing when it refuses, and returns right after the one that succeeds.
constexpr bool kEventWorkIsAtomic = true;

// The group-commit key of a task event: the task execution it locks.
std::string TaskEventOrderKey(const plugin::db::TaskExecutionKey& key) {
  const auto& n = key.node_execution;
  const auto& t = key.task;
  return "task_executions\x1f" + n.execution.project + '\x1f' + n.execution.domain + '\x1f' +
         n.execution.name + '\x1f' + n.node_id + '\x1f' + t.project + '\x1f' + t.domain + '\x1f' +
         t.name + '\x1f' + t.version + '\x1f' + std::to_string(key.retry_attempt);
}

}  // namespace

Status TaskExecutionManagerImpl::CreateTaskEvent(plugin::CallContext&,
                                                 const admin::TaskExecutionEventRequest& request,
                                                 admin::TaskExecutionEventResponse&) {
  if (auto s = ValidateTaskExecutionEventRequest(request, settings_.max_size_in_bytes); !s.ok())
    return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  return db.value()->RunGrouped(TaskEventOrderKey(TaskExecutionKeyOf(TaskExecutionIdOf(request.event()))),
                                [&] { return ApplyTaskEvent(request); }, kEventWorkIsAtomic);
}

void TaskExecutionManagerImpl::CreateTaskEventAsync(plugin::CallContext&,
                                                    const admin::TaskExecutionEventRequest& request,
                                                    admin::TaskExecutionEventResponse&,
                                                    std::function<void(Status)> done) {
  if (auto s = ValidateTaskExecutionEventRequest(request, settings_.max_size_in_bytes); !s.ok())
    return done(s);
  auto db = services_.Db();
  if (!db.ok()) return done(db.status());
  // `request` lives until `done` is called, which is after the work has run.
  db.value()->RunGroupedAsync(TaskEventOrderKey(TaskExecutionKeyOf(TaskExecutionIdOf(request.event()))),
                              [this, &request] { return ApplyTaskEvent(request); }, std::move(done),
                              kEventWorkIsAtomic);
}

// The whole event, run as one grouped database operation: every repository call below joins
// its transaction.
Status TaskExecutionManagerImpl::ApplyTaskEvent(const admin::TaskExecutionEventRequest& request) {
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto store = services_.Storage();
  if (!store.ok()) return store.status();
  const auto& e = request.event();
  const EventDataPolicy policy{settings_.store_inline_event_data, store.value()};
  const auto id = TaskExecutionIdOf(e);
  const auto key = TaskExecutionKeyOf(id);
  auto& repo = db.value()->TaskExecutions();

  // Later events are the common case, so the update is tried first: its checks and merge run
  // on the row read under its lock, so concurrent senders of one task execution serialize and
  // none overwrites another. The execution's cluster is checked first, read with that row, or
  // without it for a task execution's first event, which finds no row and creates it.
  bool mutated = false;
  bool cluster_checked = false;
  bool cluster_refused = false;
  auto mutate = [&](plugin::db::TaskExecutionModel& row) -> Status {
    mutated = true;
    if (auto s = CheckTransition(row, request, id); !s.ok()) return s;
    return UpdateTaskExecutionModel(request, row, policy);
  };
  // Read with the row: whether its node execution exists, which a first event requires.
  bool node_exists = false;
  auto updated =
      repo.UpdateChecked(key, ClusterCheck(e.producer_id(), cluster_checked, cluster_refused), mutate, &node_exists);
  if (cluster_refused) return updated.status();
  if (!updated.ok() && updated.status().code() == plugin::StatusCode::kNotFound && !mutated) {
    // Not checked: no execution, which this reports.
    if (!cluster_checked) {
      if (auto s = ValidateClusterForExecution(db.value()->Executions(),
                                               e.parent_node_execution_id().execution_id(), e.producer_id());
          !s.ok()) {
        return s;
      }
    }
    // The first event of an attempt creates its row; its node execution must exist.
    if (!node_exists) {
      return plugin::NotFound("Failed to get existing node execution id: [" +
                              plugin::GoProtoText(e.parent_node_execution_id()) + "] with err: entry not found");
    }
    auto model = CreateTaskExecutionModel(request, policy);
    if (!model.ok()) return model.status();
    auto created = repo.Create(model.value());
    // Upstream publishes nothing for the event that creates the row.
    if (created.ok()) return Status::Ok();
    // Another sender created the row first: this event is applied to it like any later event,
    // so concurrent first events are not lost.
    if (created.code() != plugin::StatusCode::kAlreadyExists) return created;
    updated = repo.Update(key, mutate);
  }
  return updated.ok() ? Status::Ok() : updated.status();
}

StatusOr<admin::TaskExecution> TaskExecutionManagerImpl::Load(
    plugin::db::Repositories& db, const core::TaskExecutionIdentifier& id) {
  auto row = db.TaskExecutions().Get(TaskExecutionKeyOf(id));
  if (!row.ok()) {
    if (row.status().code() != plugin::StatusCode::kNotFound) return row.status();
    return plugin::NotFound("missing entity of type task execution with identifier " +
                            plugin::GoProtoText(MissingKeyText(id)));
  }
  auto is_parent = HasChildNodeExecutions(db.NodeExecutions(), row->id);
  if (!is_parent.ok()) return is_parent.status();
  return FromTaskExecutionModel(row.value(), is_parent.value());
}

Status TaskExecutionManagerImpl::GetTaskExecution(plugin::CallContext&,
                                                  const admin::TaskExecutionGetRequest& request,
                                                  admin::TaskExecution& response) {
  const auto id = WithTaskResourceType(request);
  if (auto s = ValidateTaskExecutionId(request.has_id() ? &id : nullptr); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto loaded = Load(*db.value(), id);
  if (!loaded.ok()) return loaded.status();
  response = std::move(loaded.value());
  return Status::Ok();
}

Status TaskExecutionManagerImpl::ListTaskExecutions(plugin::CallContext&,
                                                    const admin::TaskExecutionListRequest& request,
                                                    admin::TaskExecutionList& response) {
  if (auto s = ValidateNodeExecutionId(
          request.has_node_execution_id() ? &request.node_execution_id() : nullptr);
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateLimit(request.limit()); !s.ok()) return s;
  const auto& node = request.node_execution_id();
  plugin::db::ListInput input;
  input.filters = {EqualityFilter(Entity::kTaskExecution, "project", node.execution_id().project()),
                   EqualityFilter(Entity::kTaskExecution, "domain", node.execution_id().domain()),
                   EqualityFilter(Entity::kTaskExecution, "name", node.execution_id().name()),
                   EqualityFilter(Entity::kTaskExecution, "node_id", node.node_id())};
  if (!request.filters().empty()) {
    auto filters = ParseFilters(request.filters(), Entity::kTaskExecution);
    if (!filters.ok()) return filters.status();
    for (auto& f : filters.value()) input.filters.push_back(std::move(f));
  }
  auto sort =
      ParseSort(request.has_sort_by() ? &request.sort_by() : nullptr, Entity::kTaskExecution);
  if (!sort.ok()) return sort.status();
  input.sort = sort.value();
  auto offset = ParseToken(request.token(), "ListTaskExecutions");
  if (!offset.ok()) return offset.status();
  input.offset = offset.value();
  input.limit = request.limit();

  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->TaskExecutions().List(input);
  if (!rows.ok()) return rows.status();
  for (const auto& row : rows.value()) {
    auto is_parent = HasChildNodeExecutions(db.value()->NodeExecutions(), row.id);
    if (!is_parent.ok()) return is_parent.status();
    // Errors are not trimmed here: the console shows the whole stack trace of an attempt.
    auto message = FromTaskExecutionModel(row, is_parent.value());
    if (!message.ok()) {
      response.Clear();
      return message.status();
    }
    *response.add_task_executions() = std::move(message.value());
  }
  response.set_token(NextToken(input.offset, rows->size(), request.limit()));
  return Status::Ok();
}

Status TaskExecutionManagerImpl::GetTaskExecutionData(
    plugin::CallContext&, const admin::TaskExecutionGetDataRequest& request,
    admin::TaskExecutionGetDataResponse& response) {
  const auto id = WithTaskResourceType(request);
  if (auto s = ValidateTaskExecutionId(request.has_id() ? &id : nullptr); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto store = services_.Storage();
  if (!store.ok()) return store.status();
  auto execution = Load(*db.value(), id);
  if (!execution.ok()) return execution.status();
  const auto& closure = execution->closure();
  if (auto s = GetInputs(*store.value(), settings_, execution->input_uri(),
                         *response.mutable_inputs(), *response.mutable_full_inputs());
      !s.ok()) {
    response.Clear();
    return s;
  }
  if (auto s = GetOutputs(*store.value(), settings_, closure.output_uri(),
                          closure.has_output_data() ? &closure.output_data() : nullptr,
                          *response.mutable_outputs(), *response.mutable_full_outputs());
      !s.ok()) {
    response.Clear();
    return s;
  }
  *response.mutable_flyte_urls() = FlyteUrlsForTask(id);
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
