// The list API grammar of upstream FlyteAdmin (manager/impl/util/filters.go, common/filters.go,
// common/sorting.go, validation.ValidateToken): filter strings, sort keys and page tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"
#include "flyteidl/admin/common.pb.h"

namespace flyte::plugins::manager {

// The entities filters may name (upstream common/entity.go).
enum class Entity {
  kTask,                 // "t", table tasks
  kWorkflow,             // "w", workflows
  kLaunchPlan,           // "l", launch_plans
  kExecution,            // "e", executions
  kNodeExecution,        // "ne", node_executions
  kTaskExecution,        // "te", task_executions
  kNamedEntity,          // "nen", entities (the named-entity list's subquery)
  kNamedEntityMetadata,  // "nem", named_entity_metadata
  kProject,              // "p", projects
  kSignal,               // "s", signals
  kAdminTag,             // "at", rewritten to execution_tags.key
  kExecutionAdminTag,    // "eat", execution_admin_tags
  kExecutionTag,         // "et", execution_tags
  kDescriptionEntity,    // no upstream code ("de" here); columns for sorting only, see below
};

// Upstream's short code, used in error messages ("'w' entity is not allowed in filters").
std::string_view EntityCode(Entity entity);
// The table a filter on this entity's column applies to (db::Filter::table).
std::string_view EntityTable(Entity entity);
// The entity's DB columns (gorm snake_case names), which filters and sort keys must name.
const std::set<std::string, std::less<>>& EntityColumns(Entity entity);
// TASK, WORKFLOW, LAUNCH_PLAN -> their entity; anything else nullopt (upstream's "" entity).
std::optional<Entity> EntityForResourceType(int resource_type);

// Parses a request filter string for a primary entity: expressions `func(field,value)` (one
// optional white-space character after the comma) joined by '+', ANDed; `value_in`/
// `value_not_in` lists separated by ';'. Values are plain text and pass through unchanged
// (SQL metacharacters included; the repository binds them as parameters), except `duration`,
// which becomes nanoseconds. Field prefixes (`workflow.`, `task.`, `launch_plan.`, `execution.`,
// `node_execution.`, `task_execution.`, `entities.`, `named_entity_metadata.`, `project.`,
// `signal.`, `admin_tag.`, `execution_admin_tag.`, `execution_tag.`) select a joined entity.
// Errors (INVALID_ARGUMENT unless noted), checked per expression in this order:
//   "invalid value for filters" (does not match the grammar; so is an empty string),
//   INTERNAL "unsupported entity '<code>'" (a primary entity upstream cannot filter),
//   "'<code>' entity is not allowed in filters", "'<code>.<field>' is invalid filter",
//   "Failed to parse duration [<v>]", "unrecognized filter function: <f>".
// A single-value function given several ';' values keeps them all (upstream lets the database
// fail on it). Output columns are upstream's customised ones: project/domain/name of execution
// entities become execution_project/..., admin_tag.name becomes execution_tags.key, and the
// named entity's description/state move to named_entity_metadata.
plugin::StatusOr<std::vector<plugin::db::Filter>> ParseFilters(std::string_view filters,
                                                               Entity primary);

// An `eq` filter on an entity's field, with the same column customisation (no column check).
plugin::db::Filter EqualityFilter(Entity entity, std::string_view field, std::string value);

// Request identifier fields (empty ones skipped) and the request's filter string.
struct FilterSpec {
  std::string project;
  std::string domain;
  std::string name;
  std::string request_filters;
};

// eq(project), eq(domain), eq(name) for the non-empty ones, then the parsed request filters.
plugin::StatusOr<std::vector<plugin::db::Filter>> GetDbFilters(const FilterSpec& spec,
                                                               Entity primary);

// ListDescriptionEntities: identifier filters and request filters parsed against the entity of
// `resource_type` (task, workflow or launch-plan columns), all retargeted to the
// description_entities table as upstream applies them unqualified. Another resource type has
// no entity: identifier filters still apply, a filter string fails INTERNAL
// "unsupported entity ''".
plugin::StatusOr<std::vector<plugin::db::Filter>> GetDescriptionEntityFilters(
    int resource_type, const FilterSpec& spec);

// The filter ListNamedEntities substitutes for an empty filter string.
inline constexpr std::string_view kNamedEntityDefaultFilters = "not_like(name,.flytegen%)";

// Validates `sort_by` (nullptr = not given: no ORDER BY) against the entity's columns.
// "invalid sort key '<k>'"; a direction other than DESCENDING/ASCENDING:
// "invalid sort order specified: <Go text of the Sort>". DESCENDING (the proto default) -> desc.
plugin::StatusOr<std::optional<plugin::db::Sort>> ParseSort(const flyteidl::admin::Sort* sort_by,
                                                            Entity entity);

// A page token: "" is 0, otherwise a non-negative decimal (Go strconv.Atoi syntax). Otherwise
// INVALID_ARGUMENT "invalid pagination token <token> for <rpc_name>".
plugin::StatusOr<uint64_t> ParseToken(std::string_view token, std::string_view rpc_name);

// The response token: offset + returned when a full page came back, else "".
std::string NextToken(uint64_t offset, size_t returned, uint32_t limit);

// For tests and diagnostics: the groups upstream's filter regex `(.+)\((.+),\s?(.+)\)` (Go RE2,
// unanchored, leftmost-first, greedy) captures from one expression.
struct FilterMatch {
  std::string_view function, field, value;
};
std::optional<FilterMatch> MatchFilterExpression(std::string_view expression);

}  // namespace flyte::plugins::manager
