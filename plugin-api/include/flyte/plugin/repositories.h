// The database as plugins see it: models mirroring upstream FlyteAdmin's tables, and one
// repository per entity. The host registers the SQLite/PostgreSQL implementation as the
// default of PluginID kDatabase. All methods are thread-safe; all SQL is parameterised.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin::db {

// A stored time: microseconds since 1970, as both databases keep them. That spans the years 1
// to 9999 of a protobuf Timestamp (and of Go's time.Time), which int64 nanoseconds do not.
using Time = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

// The current time as a stored time.
inline Time Now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

// Comparison of a list filter (upstream common/filters.go). kIsNull takes no values: it is the
// `column IS NULL` condition of upstream's map filters (e.g. top-level node executions).
enum class FilterOp { kEq, kNe, kGt, kGte, kLt, kLte, kContains, kNotLike, kValueIn, kValueNotIn, kIsNull };

// One validated filter: `table` is the database table the column belongs to ("tasks",
// "workflows", "launch_plans", "projects", "named_entity_metadata", "description_entities", ...)
// and `column` a column of it. Values are text, bound as parameters; the repository casts them
// to the column's type. For kContains the value is the bare substring (the repository adds the
// % wildcards); for kNotLike it is the pattern as given.
struct Filter {
  std::string table;
  std::string column;
  FilterOp op = FilterOp::kEq;
  std::vector<std::string> values;
};

struct Sort {
  std::string column;  // of the entity's own table
  bool ascending = false;
};

// Filters are ANDed. limit 0 means no LIMIT (only ListProjects allows it).
struct ListInput {
  std::vector<Filter> filters;
  std::optional<Sort> sort;
  uint32_t limit = 0;
  uint64_t offset = 0;
};

struct EntityKey {
  std::string project, domain, name, version;
};

struct NamedEntityKey {
  std::string project, domain, name;
};

struct ProjectModel {
  std::string identifier;
  std::string name;
  std::string description;
  std::optional<std::string> labels;  // serialized admin.Project (upstream stores the whole message)
  int32_t state = 0;
  Time created_at{}, updated_at{};
};

struct TaskModel {
  int64_t id = 0;
  EntityKey key;
  std::string closure;  // serialized admin.TaskClosure
  std::string digest;
  std::string type;
  std::string short_description;
  Time created_at{}, updated_at{};
};

struct WorkflowModel {
  int64_t id = 0;
  EntityKey key;
  std::string typed_interface;  // serialized core.TypedInterface
  std::string remote_closure_identifier;
  std::string digest;
  std::string short_description;
  Time created_at{}, updated_at{};
};

struct LaunchPlanModel {
  int64_t id = 0;
  EntityKey key;
  std::string spec;     // serialized admin.LaunchPlanSpec
  int64_t workflow_id = 0;
  std::string closure;  // serialized admin.LaunchPlanClosure, without state and timestamps
  int32_t state = 0;    // 0 INACTIVE, 1 ACTIVE
  std::string digest;
  std::string schedule_type = "NONE";  // NONE, CRON, RATE
  std::optional<std::string> launch_condition_type;
  Time created_at{}, updated_at{};
};

struct NamedEntityModel {
  int32_t resource_type = 0;  // core.ResourceType
  NamedEntityKey key;
  std::string description;
  int32_t state = 0;
};

struct DescriptionEntityModel {
  int32_t resource_type = 0;
  EntityKey key;
  std::string short_description;
  std::string long_description;  // serialized admin.Description
  std::string link;
  Time created_at{}, updated_at{};
};

// Priorities of the levels of a matchable attribute (upstream models/resource.go): the most
// specific match is the one with the highest priority.
inline constexpr int32_t kResourcePriorityProject = 5;
inline constexpr int32_t kResourcePriorityProjectDomain = 10;
inline constexpr int32_t kResourcePriorityWorkflow = 100;
inline constexpr int32_t kResourcePriorityLaunchPlan = 1000;

// A row of `resources`: (project, domain, workflow, launch_plan, resource_type) is unique
// (resource_idx); an empty field is the wildcard of a less specific level. `resource_type` is
// the admin.MatchableResource enum name (e.g. "TASK_RESOURCE").
struct ResourceKey {
  std::string project, domain, workflow, launch_plan, resource_type;
};

struct ResourceModel {
  int64_t id = 0;
  ResourceKey key;
  int32_t priority = 0;    // one of kResourcePriority*
  std::string attributes;  // serialized admin.MatchingAttributes
  Time created_at{}, updated_at{};
};

// ---------------------------------------------------------------------------------------------
// Executions (upstream models/execution.go, node_execution.go, task_execution.go, signal.go and
// the event models). Durations are nanoseconds; timestamps are UTC; optional timestamps and
// pointer columns of upstream are std::optional (NULL when unset).

struct ExecutionKey {
  std::string project, domain, name;  // execution_project, execution_domain, execution_name
};

struct ExecutionModel {
  int64_t id = 0;  // assigned by the database on Create
  ExecutionKey key;
  int64_t launch_plan_id = 0;
  int64_t workflow_id = 0;
  int64_t task_id = 0;
  std::string phase;    // core.WorkflowExecution.Phase name
  std::string closure;  // serialized admin.ExecutionClosure
  std::string spec;     // serialized admin.ExecutionSpec
  std::optional<Time> started_at;
  std::optional<Time> execution_created_at;
  std::optional<Time> execution_updated_at;
  int64_t duration_ns = 0;
  std::string abort_cause;
  int32_t mode = 0;  // admin.ExecutionMetadata.ExecutionMode
  int64_t source_execution_id = 0;
  int64_t parent_node_execution_id = 0;
  std::string cluster;
  std::string inputs_uri;
  std::string user_inputs_uri;
  std::optional<std::string> error_kind;
  std::optional<std::string> error_code;
  std::string user;
  int32_t state = 0;  // 0 ACTIVE, 1 ARCHIVED
  std::string launch_entity;  // "launch_plan" or "task"
  Time created_at{}, updated_at{};
};

// A row of execution_tags (labels and deprecated spec.tags); the execution key is the owner's.
struct ExecutionTagModel {
  std::string key;
  std::string value;
};

// A row of execution_events: (execution key, phase) is unique. The execution key is taken from
// the execution it is written with.
struct ExecutionEventModel {
  std::string request_id;
  Time occurred_at{};
  std::string phase;
};

struct NodeExecutionKey {
  ExecutionKey execution;
  std::string node_id;
};

struct NodeExecutionModel {
  int64_t id = 0;  // assigned by the database on Create
  NodeExecutionKey key;
  std::string phase;
  std::string input_uri;
  std::string closure;  // serialized admin.NodeExecutionClosure
  std::optional<Time> started_at;
  std::optional<Time> node_execution_created_at;
  std::optional<Time> node_execution_updated_at;
  int64_t duration_ns = 0;
  std::string node_execution_metadata;  // serialized admin.NodeExecutionMetaData
  std::optional<int64_t> parent_id;     // id of the parent node execution (NULL at level 0)
  std::optional<int64_t> parent_task_execution_id;
  std::optional<std::string> error_kind;
  std::optional<std::string> error_code;
  std::optional<std::string> cache_status;
  std::string dynamic_workflow_remote_closure_reference;
  std::string internal_data;  // serialized genModel.NodeExecutionInternalData
  Time created_at{}, updated_at{};
};

// A row of node_execution_events: (node execution key, phase) is unique.
struct NodeExecutionEventModel {
  std::string request_id;
  Time occurred_at{};
  std::string phase;
};

struct TaskExecutionKey {
  EntityKey task;  // project, domain, name, version of the task
  NodeExecutionKey node_execution;
  uint32_t retry_attempt = 0;
};

struct TaskExecutionModel {
  int64_t id = 0;  // assigned by the database on Create
  TaskExecutionKey key;
  std::string phase;
  uint32_t phase_version = 0;
  std::string input_uri;
  std::string closure;  // serialized admin.TaskExecutionClosure
  std::optional<Time> started_at;
  std::optional<Time> task_execution_created_at;
  std::optional<Time> task_execution_updated_at;
  int64_t duration_ns = 0;
  Time created_at{}, updated_at{};
};

struct SignalKey {
  ExecutionKey execution;
  std::string signal_id;
};

struct SignalModel {
  int64_t id = 0;
  SignalKey key;
  std::string type;                  // serialized core.LiteralType (NOT NULL)
  std::optional<std::string> value;  // serialized core.Literal, unset until SetSignal
  Time created_at{}, updated_at{};
};

// A launch plan version's schedule, as the native scheduler reads it (table
// schedulable_entities, upstream scheduler/repositories/models).
struct SchedulableEntityModel {
  int64_t id = 0;
  EntityKey key;  // the launch plan's project, domain, name, version
  std::string cron_expression;
  int64_t fixed_rate_value = 0;
  int32_t unit = 0;  // admin.FixedRateUnit
  std::string kickoff_time_input_arg;
  bool active = false;
  Time created_at{}, updated_at{};
};

// Errors every repository returns: NOT_FOUND "entry not found" for a missing row;
// ALREADY_EXISTS "value with matching already exists (<db message>)" for a key collision;
// INVALID_ARGUMENT for a filter or sort the database refuses; UNKNOWN "failed database
// operation with <message>" for other database errors.

class FLYTE_PLUGIN_API_EXPORT ProjectRepo {
 public:
  virtual ~ProjectRepo();
  virtual Status Create(const ProjectModel& project) = 0;
  virtual StatusOr<ProjectModel> Get(const std::string& identifier) = 0;
  virtual StatusOr<std::vector<ProjectModel>> List(const ListInput& input) = 0;
  // Writes name, description and labels only when non-empty/set (upstream's gorm Updates), and
  // state always. NOT_FOUND when absent.
  virtual Status Update(const ProjectModel& project) = 0;
};

class FLYTE_PLUGIN_API_EXPORT TaskRepo {
 public:
  virtual ~TaskRepo();
  // Inserts the task and, when given, its description entity in one transaction.
  virtual Status Create(const TaskModel& task, const std::optional<DescriptionEntityModel>& description) = 0;
  virtual StatusOr<TaskModel> Get(const EntityKey& key) = 0;
  virtual StatusOr<std::vector<TaskModel>> List(const ListInput& input) = 0;
  // Distinct (project, domain, name), GROUP BY, with the input's filters, sort, limit, offset.
  virtual StatusOr<std::vector<NamedEntityKey>> ListIdentifiers(const ListInput& input) = 0;
};

class FLYTE_PLUGIN_API_EXPORT WorkflowRepo {
 public:
  virtual ~WorkflowRepo();
  virtual Status Create(const WorkflowModel& workflow,
                        const std::optional<DescriptionEntityModel>& description) = 0;
  virtual StatusOr<WorkflowModel> Get(const EntityKey& key) = 0;
  virtual StatusOr<std::vector<WorkflowModel>> List(const ListInput& input) = 0;
  virtual StatusOr<std::vector<NamedEntityKey>> ListIdentifiers(const ListInput& input) = 0;
};

class FLYTE_PLUGIN_API_EXPORT LaunchPlanRepo {
 public:
  virtual ~LaunchPlanRepo();
  virtual Status Create(const LaunchPlanModel& launch_plan) = 0;
  virtual StatusOr<LaunchPlanModel> Get(const EntityKey& key) = 0;
  // Writes every column of the row with this key (state, spec, closure, ...).
  virtual Status Update(const LaunchPlanModel& launch_plan) = 0;
  // In one transaction: `to_disable` (if any) becomes INACTIVE, `to_enable` ACTIVE.
  virtual Status SetActive(const LaunchPlanModel& to_enable,
                           const std::optional<LaunchPlanModel>& to_disable) = 0;
  // Inner-joins workflows on launch_plans.workflow_id = workflows.id, so filters may name
  // columns of "workflows" as well as "launch_plans".
  virtual StatusOr<std::vector<LaunchPlanModel>> List(const ListInput& input) = 0;
  virtual StatusOr<std::vector<NamedEntityKey>> ListIdentifiers(const ListInput& input) = 0;
  // Called inside Repositories::RunGrouped: holds every version of the launch plan `name` until
  // that transaction ends (PostgreSQL: SELECT ... FOR UPDATE; SQLite's single writer already
  // excludes every other write), so that reading which version is active and changing it does
  // not interleave with another activation.
  virtual Status LockVersions(const NamedEntityKey& name) = 0;
};

class FLYTE_PLUGIN_API_EXPORT NamedEntityRepo {
 public:
  virtual ~NamedEntityRepo();
  // The entity exists when its table (tasks, workflows or launch_plans by resource type) has a
  // version; metadata fields come from named_entity_metadata (absent: empty, state 0).
  virtual StatusOr<NamedEntityModel> Get(int32_t resource_type, const NamedEntityKey& key) = 0;
  // Upserts the metadata row; an empty description keeps the stored one; state is always written.
  virtual Status Update(const NamedEntityModel& entity) = 0;
  // Upstream's shape: distinct names of the resource type's table in project/domain, paginated
  // in the subquery, right-joined to the metadata, then `input.filters` (tables "entities" or
  // "named_entity_metadata"; a filter on state compares COALESCE(state, 0)).
  virtual StatusOr<std::vector<NamedEntityModel>> List(int32_t resource_type, const std::string& project,
                                                      const std::string& domain, const ListInput& input) = 0;
};

class FLYTE_PLUGIN_API_EXPORT DescriptionEntityRepo {
 public:
  virtual ~DescriptionEntityRepo();
  // By project/domain/name/version, whatever the resource type (as upstream).
  virtual StatusOr<DescriptionEntityModel> Get(const EntityKey& key) = 0;
  virtual StatusOr<std::vector<DescriptionEntityModel>> List(const ListInput& input) = 0;
};

// Matchable attributes (upstream gormimpl/resource_repo.go). Messages are upstream's, where Go
// prints the key as `{p d w l TYPE}` ("%v") or `{Project:p Domain:d Workflow:w LaunchPlan:l
// ResourceType:TYPE}` ("%+v").
class FLYTE_PLUGIN_API_EXPORT ResourceRepo {
 public:
  virtual ~ResourceRepo();
  // Inserts the row, or replaces the attributes (and updated_at) of the row with the same key.
  // INVALID_ARGUMENT "missing and/or invalid parameters: ..." when the key is not a valid level
  // (no resource type; neither project nor domain; a workflow or launch plan without a project;
  // a launch plan without a workflow) or the priority is 0.
  virtual Status CreateOrUpdate(const ResourceModel& resource) = 0;
  // The row with exactly this key; NOT_FOUND "{p d w l TYPE}" when absent.
  virtual StatusOr<ResourceModel> Get(const ResourceKey& key) = 0;
  // Called inside Repositories::RunGrouped before a read-merge-write of the row with this key:
  // holds the key until that transaction ends, against other merges and Delete (PostgreSQL: a
  // transaction advisory lock, which Delete takes too; SQLite's single writer already excludes
  // every other write).
  virtual Status LockKey(const ResourceKey& key) = 0;
  // Resolution: among the rows of key.resource_type whose project, domain, workflow and launch
  // plan each equal the key's value or are empty (an empty key field only matches empty), the
  // one of highest priority (ties: lowest id). NOT_FOUND "Resource [%+v] not found"; an invalid
  // key (as for CreateOrUpdate) is INTERNAL "unexpected error type for: missing and/or invalid
  // parameters: {...}", as upstream's error transformer reports it.
  virtual StatusOr<ResourceModel> GetMostSpecific(const ResourceKey& key) = 0;
  // The project-level row (domain, workflow and launch plan empty) of `project`, even when a
  // more specific one exists. NOT_FOUND "Resource [%+v] not found" (key with empty domain).
  virtual StatusOr<ResourceModel> GetProjectLevel(const std::string& project,
                                                  const std::string& resource_type) = 0;
  // Hard-deletes every row of key.resource_type whose columns equal the key's NON-EMPTY fields:
  // an empty field matches any value, as upstream's gorm struct condition does (so deleting a
  // project-level key also deletes that project's domain and workflow rows of the type).
  // Deleting nothing is OK.
  virtual Status Delete(const ResourceKey& key) = 0;
  // Every row of the resource type, by priority descending (ties: by id).
  virtual StatusOr<std::vector<ResourceModel>> ListAll(const std::string& resource_type) = 0;
};

// Mutation of a row inside an Update transaction: it receives the current row (read under a
// write lock) and changes it in place; a non-OK status rolls the transaction back and is
// returned. Key, id and created_at changes are ignored. It must not call the repositories (the
// transaction holds a connection and, on SQLite, the single writer lock). Concurrent updates
// share transactions (group commit), so it may run on another caller's thread, and, when such
// a shared transaction is rolled back by a deadlock, once more on the row read again: keep its
// effects to the row and to variables it assigns.
using ExecutionMutation = std::function<Status(ExecutionModel&)>;
using NodeExecutionMutation = std::function<Status(NodeExecutionModel&)>;
using TaskExecutionMutation = std::function<Status(TaskExecutionModel&)>;
// The event handlers' cluster check: receives the `cluster` column of the row's execution.
using ExecutionClusterCheck = std::function<Status(const std::string& cluster)>;

// Workflow executions (upstream gormimpl/execution_repo.go and execution_event_repo.go).
// List/Count filters may name columns of "executions", "launch_plans", "workflows", "tasks" and
// "execution_tags"; each referenced table adds an INNER JOIN as upstream: launch_plans ON
// executions.launch_plan_id = launch_plans.id, workflows ON executions.workflow_id =
// workflows.id, tasks ON executions.task_id = tasks.id, execution_tags ON
// executions.execution_name = execution_tags.execution_name (upstream joins on the name only).
// Archived executions are not hidden here: callers add a filter on executions.state.
class FLYTE_PLUGIN_API_EXPORT ExecutionRepo {
 public:
  virtual ~ExecutionRepo();
  // Inserts the execution and its execution_tags rows in one transaction (created_at and
  // updated_at default to now). ALREADY_EXISTS, with nothing written, on a key collision.
  virtual Status Create(const ExecutionModel& execution,
                        const std::vector<ExecutionTagModel>& tags) = 0;
  // NOT_FOUND "entry not found" when absent.
  virtual StatusOr<ExecutionModel> Get(const ExecutionKey& key) = 0;
  // Only the `cluster` column of the execution (the event handlers' cluster check reads nothing
  // else, on every event). NOT_FOUND "entry not found" when absent.
  virtual StatusOr<std::string> GetCluster(const ExecutionKey& key) = 0;
  // Requires limit > 0 and at least one filter (upstream ValidateListInput); sort on executions.
  virtual StatusOr<std::vector<ExecutionModel>> List(const ListInput& input) = 0;
  // Rows matching `filters` (same tables and joins as List; limit/offset/sort are ignored).
  virtual StatusOr<int64_t> Count(const ListInput& input) = 0;
  // In one transaction: reads the row with a write lock (PostgreSQL SELECT ... FOR UPDATE;
  // SQLite's immediate transaction), runs `mutate`, then inserts `event` (when given) for this
  // execution and writes every non-key column back with updated_at = now. Concurrent updates of
  // one execution are serialized and never lost. NOT_FOUND when absent (`mutate` not called); a
  // status `mutate` returns is returned as is; then a duplicate event (same execution and
  // phase) is ALREADY_EXISTS. Nothing is written unless OK. Returns the row written.
  virtual StatusOr<ExecutionModel> Update(
      const ExecutionKey& key, const ExecutionMutation& mutate,
      const std::optional<ExecutionEventModel>& event = std::nullopt) = 0;
};

// Node executions (upstream gormimpl/node_execution_repo.go and node_execution_event_repo.go).
// List/Count filters may name "node_executions" and "executions" columns; referencing
// executions adds INNER JOIN executions on the execution key.
class FLYTE_PLUGIN_API_EXPORT NodeExecutionRepo {
 public:
  virtual ~NodeExecutionRepo();
  // Inserts the node execution and, when given, its event row in one transaction.
  // ALREADY_EXISTS with nothing written on a key collision of either.
  virtual Status Create(const NodeExecutionModel& node_execution,
                        const std::optional<NodeExecutionEventModel>& event = std::nullopt) = 0;
  virtual StatusOr<NodeExecutionModel> Get(const NodeExecutionKey& key) = 0;
  virtual StatusOr<bool> Exists(const NodeExecutionKey& key) = 0;
  virtual StatusOr<std::vector<NodeExecutionModel>> List(const ListInput& input) = 0;
  virtual StatusOr<int64_t> Count(const ListInput& input) = 0;
  // As ExecutionRepo::Update, with a node_execution_events row.
  virtual StatusOr<NodeExecutionModel> Update(
      const NodeExecutionKey& key, const NodeExecutionMutation& mutate,
      const std::optional<NodeExecutionEventModel>& event = std::nullopt) = 0;
  // As Update, with the cluster check read in the same statement as the locked row (one round
  // trip fewer per event on PostgreSQL): `check` receives the cluster of the row's execution
  // and runs before `mutate`; its error is returned as is, with nothing written. When the row
  // is absent, `check` still runs (a first event needs no cluster read of its own), then
  // NOT_FOUND without calling `mutate`. NOT_FOUND without calling either when the execution
  // is absent.
  virtual StatusOr<NodeExecutionModel> UpdateChecked(
      const NodeExecutionKey& key, const ExecutionClusterCheck& check,
      const NodeExecutionMutation& mutate,
      const std::optional<NodeExecutionEventModel>& event = std::nullopt) = 0;
};

// Task executions (upstream gormimpl/task_execution_repo.go). List/Count filters may name
// "task_executions", "tasks" (LEFT JOIN on the task key), "node_executions" (INNER JOIN on the
// node execution key) and "executions" (INNER JOIN on the execution key) columns.
class FLYTE_PLUGIN_API_EXPORT TaskExecutionRepo {
 public:
  virtual ~TaskExecutionRepo();
  virtual Status Create(const TaskExecutionModel& task_execution) = 0;
  virtual StatusOr<TaskExecutionModel> Get(const TaskExecutionKey& key) = 0;
  virtual StatusOr<bool> Exists(const TaskExecutionKey& key) = 0;
  virtual StatusOr<std::vector<TaskExecutionModel>> List(const ListInput& input) = 0;
  virtual StatusOr<int64_t> Count(const ListInput& input) = 0;
  // As ExecutionRepo::Update (no event table for task executions).
  virtual StatusOr<TaskExecutionModel> Update(const TaskExecutionKey& key,
                                              const TaskExecutionMutation& mutate) = 0;
  // As NodeExecutionRepo::UpdateChecked. With `node_exists`, it also receives whether the
  // row's node execution exists, read in the same statement, row or no row (a first event's
  // caller, which finds no row, needs no lookup of its own).
  virtual StatusOr<TaskExecutionModel> UpdateChecked(const TaskExecutionKey& key,
                                                     const ExecutionClusterCheck& check,
                                                     const TaskExecutionMutation& mutate,
                                                     bool* node_exists = nullptr) = 0;
};

// Gate-node signals (upstream gormimpl/signal_repo.go). NOT_FOUND is "signal does not exist".
class FLYTE_PLUGIN_API_EXPORT SignalRepo {
 public:
  virtual ~SignalRepo();
  // The row with this key and type (upstream FirstOrCreate on the key and type), else inserts
  // it. A row with the key but another type is ALREADY_EXISTS.
  virtual StatusOr<SignalModel> GetOrCreate(const SignalModel& signal) = 0;
  virtual StatusOr<SignalModel> Get(const SignalKey& key) = 0;
  // Filters on "signals" columns; requires limit > 0 and a filter.
  virtual StatusOr<std::vector<SignalModel>> List(const ListInput& input) = 0;
  // Sets value (and updated_at). NOT_FOUND when absent.
  virtual Status Update(const SignalKey& key, const std::string& value) = 0;
};

// Schedules of launch plans (upstream scheduler/repositories/gormimpl/schedulable_entity_repo.go).
class FLYTE_PLUGIN_API_EXPORT SchedulableEntityRepo {
 public:
  virtual ~SchedulableEntityRepo();
  // Inserts the row as given when no row has its key; otherwise only sets active (the stored
  // schedule is kept, as upstream's Activate keeps it).
  virtual Status Activate(const SchedulableEntityModel& entity) = 0;
  // Clears active; a missing row is no error (an update of no row).
  virtual Status Deactivate(const EntityKey& key) = 0;
  // NOT_FOUND "entry not found" when absent.
  virtual StatusOr<SchedulableEntityModel> Get(const EntityKey& key) = 0;
  // Every row, active or not (what the scheduler loads).
  virtual StatusOr<std::vector<SchedulableEntityModel>> GetAll() = 0;
};

// PluginID kDatabase.
class FLYTE_PLUGIN_API_EXPORT Repositories : public PluginBase {
 public:
  ~Repositories() override;
  virtual ProjectRepo& Projects() = 0;
  virtual TaskRepo& Tasks() = 0;
  virtual WorkflowRepo& Workflows() = 0;
  virtual LaunchPlanRepo& LaunchPlans() = 0;
  virtual NamedEntityRepo& NamedEntities() = 0;
  virtual DescriptionEntityRepo& DescriptionEntities() = 0;
  virtual ResourceRepo& Resources() = 0;
  virtual ExecutionRepo& Executions() = 0;
  virtual NodeExecutionRepo& NodeExecutions() = 0;
  virtual TaskExecutionRepo& TaskExecutions() = 0;
  virtual SignalRepo& Signals() = 0;
  virtual SchedulableEntityRepo& SchedulableEntities() = 0;

  // Runs `work` in a write transaction shared with concurrent callers (group commit): every
  // repository call `work` makes on its thread joins that transaction (reads see its writes;
  // each write runs in a nested savepoint and rolls back alone when it fails); everything `work`
  // wrote is rolled back when it returns an error; `done` receives its status once the
  // transaction is committed. `work` runs on the database's batch thread, which writes nothing
  // else meanwhile, and `done` on its completion thread, which answers one batch after another:
  // keep both short and free of waits on other work. `work` may
  // run a second time, alone, when a shared transaction is aborted by a deadlock: keep its
  // effects to the database and to writes that may be repeated. `order_key` names the row it
  // locks first; works of equal keys run in the order they were submitted. Called from inside
  // another work, `work` joins that transaction and `done` is called at once.
  //
  // `atomic` promises that `work` writes nothing to the database when it returns an error
  // status (each of its writes refuses without writing, and none follows a write that
  // succeeded): it then runs without a savepoint of its own, and a database error it throws
  // makes its shared transaction run again one work at a time. On PostgreSQL the atomic works of
  // one shared transaction run interleaved on the batch thread, each on a stack of its own and
  // suspended while one of its statements is out (their statements travel together), so: hold
  // no lock across a repository call, keep no thread-local state across one, and write rows
  // only through the repositories (their writes name the row they change: two works in flight
  // on one row make the transaction run its works one after the other instead; so does a
  // repository call from inside a catch handler, where C++ forbids co_await for the same
  // reason).
  virtual void RunGroupedAsync(const std::string& order_key, std::function<Status()> work,
                               std::function<void(Status)> done, bool atomic = false) = 0;
  // The same, waiting for the status.
  Status RunGrouped(const std::string& order_key, std::function<Status()> work, bool atomic = false);
};

}  // namespace flyte::plugin::db
