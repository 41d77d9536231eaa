// Filter, sort and token parsing with upstream FlyteAdmin's semantics and messages.
#include "flyte/manager/filters.h"

#include <map>

#include "flyte/manager/errors.h"
#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::manager {
namespace {

using plugin::Status;
using plugin::StatusCode;
using plugin::StatusOr;
using plugin::db::Filter;
using plugin::db::FilterOp;

using ColumnSet = std::set<std::string, std::less<>>;

ColumnSet WithBase(std::initializer_list<const char*> columns) {
  ColumnSet out = {"id", "created_at", "updated_at", "deleted_at"};
  for (const char* c : columns) out.emplace(c);
  return out;
}

// Prefixes a field may carry to name a joined entity (util/filters.go filterFieldEntityPrefix).
const std::vector<std::pair<std::string_view, Entity>>& FieldPrefixes() {
  static const std::vector<std::pair<std::string_view, Entity>> kPrefixes = {
      {"task.", Entity::kTask},
      {"workflow.", Entity::kWorkflow},
      {"launch_plan.", Entity::kLaunchPlan},
      {"execution.", Entity::kExecution},
      {"node_execution.", Entity::kNodeExecution},
      {"task_execution.", Entity::kTaskExecution},
      {"entities.", Entity::kNamedEntity},
      {"named_entity_metadata.", Entity::kNamedEntityMetadata},
      {"project.", Entity::kProject},
      {"signal.", Entity::kSignal},
      {"admin_tag.", Entity::kAdminTag},
      {"execution_admin_tag.", Entity::kExecutionAdminTag},
      {"execution_tag.", Entity::kExecutionTag},
  };
  return kPrefixes;
}

// Entities a primary entity's filters may reference; nullopt where upstream has no entry.
std::optional<std::set<Entity>> AllowedJoins(Entity primary) {
  switch (primary) {
    case Entity::kExecution:
      return std::set<Entity>{Entity::kExecution, Entity::kLaunchPlan, Entity::kWorkflow,
                              Entity::kTask,      Entity::kAdminTag,   Entity::kExecutionTag};
    case Entity::kLaunchPlan:
      return std::set<Entity>{Entity::kLaunchPlan, Entity::kWorkflow};
    case Entity::kNodeExecution:
      return std::set<Entity>{Entity::kNodeExecution, Entity::kExecution};
    case Entity::kTask:
      return std::set<Entity>{Entity::kTask};
    case Entity::kTaskExecution:
      return std::set<Entity>{Entity::kTaskExecution, Entity::kTask, Entity::kExecution,
                              Entity::kNodeExecution};
    case Entity::kWorkflow:
      return std::set<Entity>{Entity::kWorkflow};
    case Entity::kNamedEntity:
      return std::set<Entity>{Entity::kNamedEntity, Entity::kNamedEntityMetadata};
    case Entity::kNamedEntityMetadata:
      return std::set<Entity>{Entity::kNamedEntityMetadata};
    case Entity::kProject:
      return std::set<Entity>{Entity::kProject};
    case Entity::kSignal:
      return std::set<Entity>{Entity::kSignal};
    case Entity::kAdminTag:
      return std::set<Entity>{Entity::kAdminTag};
    case Entity::kExecutionTag:
      return std::set<Entity>{Entity::kExecutionTag};
    case Entity::kExecutionAdminTag:
    case Entity::kDescriptionEntity:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<FilterOp> FilterFunction(std::string_view name) {
  static const std::map<std::string_view, FilterOp> kFunctions = {
      {"contains", FilterOp::kContains},
      {"not_like", FilterOp::kNotLike},
      {"gt", FilterOp::kGt},
      {"gte", FilterOp::kGte},
      {"lt", FilterOp::kLt},
      {"lte", FilterOp::kLte},
      {"eq", FilterOp::kEq},
      {"ne", FilterOp::kNe},
      {"value_in", FilterOp::kValueIn},
      {"value_not_in", FilterOp::kValueNotIn},
  };
  const auto it = kFunctions.find(name);
  if (it == kFunctions.end()) return std::nullopt;
  return it->second;
}

bool IsExecutionIdentifierEntity(Entity e) {
  return e == Entity::kExecution || e == Entity::kNodeExecution || e == Entity::kTaskExecution ||
         e == Entity::kSignal;
}

// common/filters.go customizeField + customizeEntity.
Filter MakeFilter(Entity entity, FilterOp op, std::string_view field,
                  std::vector<std::string> values) {
  std::string column(field);
  if (IsExecutionIdentifierEntity(entity) &&
      (field == "project" || field == "domain" || field == "name")) {
    column = "execution_" + column;
  }
  if (entity == Entity::kAdminTag && field == "name") column = "key";
  Entity table_entity = entity;
  if (entity == Entity::kNamedEntity && (field == "description" || field == "state")) {
    table_entity = Entity::kNamedEntityMetadata;
  }
  if (entity == Entity::kAdminTag) table_entity = Entity::kExecutionTag;
  Filter f;
  f.table = std::string(EntityTable(table_entity));
  f.column = std::move(column);
  f.op = op;
  f.values = std::move(values);
  return f;
}

std::vector<std::string> SplitValues(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t semi = value.find(';', start);
    out.emplace_back(value.substr(start, semi == std::string_view::npos ? semi : semi - start));
    if (semi == std::string_view::npos) return out;
    start = semi + 1;
  }
}

bool IsRe2Space(char c) { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }

}  // namespace

std::string_view EntityCode(Entity entity) {
  switch (entity) {
    case Entity::kTask:
      return "t";
    case Entity::kWorkflow:
      return "w";
    case Entity::kLaunchPlan:
      return "l";
    case Entity::kExecution:
      return "e";
    case Entity::kNodeExecution:
      return "ne";
    case Entity::kTaskExecution:
      return "te";
    case Entity::kNamedEntity:
      return "nen";
    case Entity::kNamedEntityMetadata:
      return "nem";
    case Entity::kProject:
      return "p";
    case Entity::kSignal:
      return "s";
    case Entity::kAdminTag:
      return "at";
    case Entity::kExecutionAdminTag:
      return "eat";
    case Entity::kExecutionTag:
      return "et";
    case Entity::kDescriptionEntity:
      return "de";
  }
  return "";
}

std::string_view EntityTable(Entity entity) {
  switch (entity) {
    case Entity::kTask:
      return "tasks";
    case Entity::kWorkflow:
      return "workflows";
    case Entity::kLaunchPlan:
      return "launch_plans";
    case Entity::kExecution:
      return "executions";
    case Entity::kNodeExecution:
      return "node_executions";
    case Entity::kTaskExecution:
      return "task_executions";
    case Entity::kNamedEntity:
      return "entities";
    case Entity::kNamedEntityMetadata:
      return "named_entity_metadata";
    case Entity::kProject:
      return "projects";
    case Entity::kSignal:
      return "signals";
    case Entity::kAdminTag:
      return "admin_tags";
    case Entity::kExecutionAdminTag:
      return "execution_admin_tags";
    case Entity::kExecutionTag:
      return "execution_tags";
    case Entity::kDescriptionEntity:
      return "description_entities";
  }
  return "";
}

const std::set<std::string, std::less<>>& EntityColumns(Entity entity) {
  static const ColumnSet kTask = WithBase(
      {"project", "domain", "name", "version", "closure", "digest", "type", "short_description"});
  static const ColumnSet kWorkflow =
      WithBase({"project", "domain", "name", "version", "typed_interface",
                "remote_closure_identifier", "digest", "short_description"});
  static const ColumnSet kLaunchPlan =
      WithBase({"project", "domain", "name", "version", "spec", "workflow_id", "closure", "state",
                "digest", "schedule_type", "launch_condition_type"});
  static const ColumnSet kExecution = WithBase({"execution_project",
                                                "execution_domain",
                                                "execution_name",
                                                "launch_plan_id",
                                                "workflow_id",
                                                "task_id",
                                                "phase",
                                                "closure",
                                                "spec",
                                                "started_at",
                                                "execution_created_at",
                                                "execution_updated_at",
                                                "duration",
                                                "abort_cause",
                                                "mode",
                                                "source_execution_id",
                                                "parent_node_execution_id",
                                                "cluster",
                                                "inputs_uri",
                                                "user_inputs_uri",
                                                "error_kind",
                                                "error_code",
                                                "user",
                                                "state",
                                                "launch_entity"});
  static const ColumnSet kNodeExecution = WithBase(
      {"execution_project", "execution_domain", "execution_name", "node_id", "phase", "input_uri",
       "closure", "started_at", "node_execution_created_at", "node_execution_updated_at",
       "duration", "node_execution_metadata", "parent_id", "parent_task_execution_id", "error_kind",
       "error_code", "cache_status", "dynamic_workflow_remote_closure_reference", "internal_data"});
  static const ColumnSet kTaskExecution =
      WithBase({"project", "domain", "name", "version", "execution_project", "execution_domain",
                "execution_name", "node_id", "retry_attempt", "phase", "phase_version", "input_uri",
                "closure", "started_at", "task_execution_created_at", "task_execution_updated_at",
                "duration"});
  static const ColumnSet kNamedEntity = {"resource_type", "project",     "domain",
                                         "name",          "description", "state"};
  static const ColumnSet kNamedEntityMetadata =
      WithBase({"resource_type", "project", "domain", "name", "description", "state"});
  static const ColumnSet kProject =
      WithBase({"identifier", "name", "description", "labels", "state"});
  static const ColumnSet kSignal = WithBase(
      {"execution_project", "execution_domain", "execution_name", "signal_id", "type", "value"});
  static const ColumnSet kAdminTag = WithBase({"name"});
  static const ColumnSet kExecutionAdminTag = {"execution_id", "admin_tag_id"};
  static const ColumnSet kExecutionTag =
      WithBase({"execution_project", "execution_domain", "execution_name", "key", "value"});
  static const ColumnSet kDescriptionEntity =
      WithBase({"resource_type", "project", "domain", "name", "version", "short_description",
                "long_description", "link"});
  switch (entity) {
    case Entity::kTask:
      return kTask;
    case Entity::kWorkflow:
      return kWorkflow;
    case Entity::kLaunchPlan:
      return kLaunchPlan;
    case Entity::kExecution:
      return kExecution;
    case Entity::kNodeExecution:
      return kNodeExecution;
    case Entity::kTaskExecution:
      return kTaskExecution;
    case Entity::kNamedEntity:
      return kNamedEntity;
    case Entity::kNamedEntityMetadata:
      return kNamedEntityMetadata;
    case Entity::kProject:
      return kProject;
    case Entity::kSignal:
      return kSignal;
    case Entity::kAdminTag:
      return kAdminTag;
    case Entity::kExecutionAdminTag:
      return kExecutionAdminTag;
    case Entity::kExecutionTag:
      return kExecutionTag;
    case Entity::kDescriptionEntity:
      return kDescriptionEntity;
  }
  return kTask;
}

std::optional<Entity> EntityForResourceType(int resource_type) {
  switch (resource_type) {
    case flyteidl::core::TASK:
      return Entity::kTask;
    case flyteidl::core::WORKFLOW:
      return Entity::kWorkflow;
    case flyteidl::core::LAUNCH_PLAN:
      return Entity::kLaunchPlan;
    default:
      return std::nullopt;
  }
}

std::optional<FilterMatch> MatchFilterExpression(std::string_view s) {
  const size_t n = s.size();
  // End of the newline-free segment containing each position, and the last ')' in it.
  std::vector<size_t> seg_end(n + 1, n);
  std::vector<long> last_close(n + 1, -1);
  for (size_t i = n; i-- > 0;) seg_end[i] = s[i] == '\n' ? i : seg_end[i + 1];
  for (size_t start = 0; start < n;) {
    const size_t end_seg = seg_end[start];
    long last = -1;
    for (size_t i = start; i < end_seg; ++i) {
      if (s[i] == ')') last = static_cast<long>(i);
    }
    for (size_t i = start; i < end_seg; ++i) last_close[i] = last;
    start = end_seg + 1;
  }
  // Value group from k0: the last ')' of k0's segment, leaving a non-empty value.
  auto value_end = [&](size_t k0) -> long {
    if (k0 >= n || s[k0] == '\n') return -1;
    const long m = last_close[k0];
    return m > static_cast<long>(k0) ? m : -1;
  };
  auto tail = [&](size_t j, size_t* k0_out, long* m_out) -> bool {
    if (j + 1 < n && IsRe2Space(s[j + 1])) {
      const long m = value_end(j + 2);
      if (m >= 0) {
        *k0_out = j + 2;
        *m_out = m;
        return true;
      }
    }
    const long m = value_end(j + 1);
    if (m < 0) return false;
    *k0_out = j + 1;
    *m_out = m;
    return true;
  };
  for (size_t st = 0; st < n; ++st) {
    if (st > 0 && s[st - 1] != '\n') continue;
    const size_t end = seg_end[st];
    // The comma that ends the field: the rightmost one in the segment with a valid tail.
    long comma = -1;
    size_t k0 = 0;
    long m = -1;
    for (size_t j = end; j-- > st;) {
      if (s[j] == ',' && tail(j, &k0, &m)) {
        comma = static_cast<long>(j);
        break;
      }
    }
    if (comma < 0) continue;
    // The '(' that ends the function: rightmost leaving non-empty function and field groups.
    for (long i = comma - 2; i >= static_cast<long>(st) + 1; --i) {
      if (s[static_cast<size_t>(i)] == '(') {
        const auto iu = static_cast<size_t>(i);
        return FilterMatch{s.substr(st, iu - st),
                           s.substr(iu + 1, static_cast<size_t>(comma) - iu - 1),
                           s.substr(k0, static_cast<size_t>(m) - k0)};
      }
    }
  }
  return std::nullopt;
}

StatusOr<std::vector<Filter>> ParseFilters(std::string_view filters, Entity primary) {
  std::vector<Filter> out;
  size_t start = 0;
  while (true) {
    const size_t plus = filters.find('+', start);
    const std::string_view expr =
        filters.substr(start, plus == std::string_view::npos ? plus : plus - start);
    const auto match = MatchFilterExpression(expr);
    if (!match) return InvalidArgumentError(kFieldFilters);

    Entity referenced = primary;
    std::string_view field = match->field;
    for (const auto& [prefix, entity] : FieldPrefixes()) {
      if (field.substr(0, prefix.size()) == prefix) {
        referenced = entity;
        field.remove_prefix(prefix.size());
        break;
      }
    }
    const auto allowed = AllowedJoins(primary);
    if (!allowed) {
      return Status(StatusCode::kInternal,
                    "unsupported entity '" + std::string(EntityCode(primary)) + "'");
    }
    if (allowed->count(referenced) == 0) {
      return plugin::InvalidArgument("'" + std::string(EntityCode(referenced)) +
                                     "' entity is not allowed in filters");
    }
    const auto& columns = EntityColumns(referenced);
    if (columns.find(field) == columns.end()) {
      return plugin::InvalidArgument("'" + std::string(EntityCode(referenced)) + "." +
                                     std::string(field) + "' is invalid filter");
    }
    std::vector<std::string> values = SplitValues(match->value);
    if (field == "duration") {
      for (auto& v : values) {
        std::string text = v;
        if (const auto f = plugin::GoParseFloat(text)) text = plugin::GoFormatFloat(*f) + "s";
        const auto ns = plugin::GoParseDuration(text);
        if (!ns) return plugin::InvalidArgument("Failed to parse duration [" + text + "]");
        v = std::to_string(*ns);
      }
    }
    const auto op = FilterFunction(match->function);
    if (!op) {
      return plugin::InvalidArgument("unrecognized filter function: " +
                                     std::string(match->function));
    }
    out.push_back(MakeFilter(referenced, *op, field, std::move(values)));
    if (plus == std::string_view::npos) break;
    start = plus + 1;
  }
  return out;
}

Filter EqualityFilter(Entity entity, std::string_view field, std::string value) {
  std::vector<std::string> values;
  values.push_back(std::move(value));
  return MakeFilter(entity, FilterOp::kEq, field, std::move(values));
}

StatusOr<std::vector<Filter>> GetDbFilters(const FilterSpec& spec, Entity primary) {
  std::vector<Filter> out;
  if (!spec.project.empty()) out.push_back(EqualityFilter(primary, kFieldProject, spec.project));
  if (!spec.domain.empty()) out.push_back(EqualityFilter(primary, kFieldDomain, spec.domain));
  if (!spec.name.empty()) out.push_back(EqualityFilter(primary, kFieldName, spec.name));
  if (!spec.request_filters.empty()) {
    auto parsed = ParseFilters(spec.request_filters, primary);
    if (!parsed.ok()) return parsed.status();
    for (auto& f : *parsed) out.push_back(std::move(f));
  }
  return out;
}

StatusOr<std::vector<Filter>> GetDescriptionEntityFilters(int resource_type,
                                                          const FilterSpec& spec) {
  const auto entity = EntityForResourceType(resource_type);
  std::vector<Filter> out;
  auto add_eq = [&](std::string_view field, const std::string& value) {
    if (value.empty()) return;
    Filter f;
    f.column = std::string(field);
    f.op = FilterOp::kEq;
    f.values = {value};
    out.push_back(std::move(f));
  };
  add_eq(kFieldProject, spec.project);
  add_eq(kFieldDomain, spec.domain);
  add_eq(kFieldName, spec.name);
  if (!spec.request_filters.empty()) {
    if (!entity) return Status(StatusCode::kInternal, "unsupported entity ''");
    auto parsed = ParseFilters(spec.request_filters, *entity);
    if (!parsed.ok()) return parsed.status();
    for (auto& f : *parsed) out.push_back(std::move(f));
  }
  for (auto& f : out) f.table = std::string(EntityTable(Entity::kDescriptionEntity));
  return out;
}

StatusOr<std::optional<plugin::db::Sort>> ParseSort(const flyteidl::admin::Sort* sort_by,
                                                    Entity entity) {
  if (sort_by == nullptr) return std::optional<plugin::db::Sort>();
  const auto& columns = EntityColumns(entity);
  if (columns.find(sort_by->key()) == columns.end()) {
    return plugin::InvalidArgument("invalid sort key '" + sort_by->key() + "'");
  }
  plugin::db::Sort sort;
  sort.column = sort_by->key();
  switch (sort_by->direction()) {
    case flyteidl::admin::Sort::DESCENDING:
      sort.ascending = false;
      break;
    case flyteidl::admin::Sort::ASCENDING:
      sort.ascending = true;
      break;
    default:
      return plugin::InvalidArgument("invalid sort order specified: " + plugin::GoProtoText(*sort_by));
  }
  return std::optional<plugin::db::Sort>(sort);
}

StatusOr<uint64_t> ParseToken(std::string_view token, std::string_view rpc_name) {
  if (token.empty()) return static_cast<uint64_t>(0);
  const auto offset = plugin::GoAtoi(token);
  if (!offset || *offset < 0) {
    // Upstream names the listing in most messages, not in ListLaunchPlanIds' (empty `rpc_name`).
    return plugin::InvalidArgument("invalid pagination token " + std::string(token) +
                                   (rpc_name.empty() ? "" : " for " + std::string(rpc_name)));
  }
  return static_cast<uint64_t>(*offset);
}

std::string NextToken(uint64_t offset, size_t returned, uint32_t limit) {
  if (returned != static_cast<size_t>(limit)) return "";
  return std::to_string(offset + returned);
}

}  // namespace flyte::plugins::manager
