// The database as plugins see it: models mirroring upstream FlyteAdmin's tables, and one
// repository per entity. The host registers the SQLite/PostgreSQL implementation as the
// default of PluginID kDatabase. All methods are thread-safe; all SQL is parameterised.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin::db {

using Time = std::chrono::system_clock::time_point;

// Comparison of a list filter (upstream common/filters.go).
enum class FilterOp { kEq, kNe, kGt, kGte, kLt, kLte, kContains, kNotLike, kValueIn, kValueNotIn };

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
};

}  // namespace flyte::plugin::db
