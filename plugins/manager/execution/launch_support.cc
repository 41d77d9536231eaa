// Request validation, inputs, names, the stored row and task resource defaults of a launch.
#include "launch_support.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <regex>
#include <set>

#include "flyte/manager/errors.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/support.h"

// Upstream still reads the deprecated auth_role, spec.inputs and spec.tags fields here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {

namespace {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

constexpr size_t kMaxExecutionNameLength = 63;
constexpr char kExecutionIdPattern[] = R"(^[a-z][a-z\-0-9]*$)";

template <typename Map>
std::vector<std::string> SortedKeys(const Map& map) {
  std::vector<std::string> keys;
  keys.reserve(map.size());
  for (const auto& entry : map) keys.push_back(entry.first);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Go's %v of core.ResourceType: the name, or the number outside the enum.
std::string ResourceTypeText(int type) { return plugin::GoEnumString(static_cast<core::ResourceType>(type)); }

// Go's %s of a possibly-nil *core.LiteralType.
std::string TypeText(const core::LiteralType* type) {
  return type == nullptr ? "<nil>" : plugin::GoProtoText(*type);
}

constexpr char kUnknownLiteralType[] =
    "got unknown literal type: [<nil>].\nSuggested solution: Please update all your Flyte "
    "deployment images to the latest version and try again";

}  // namespace

Status CheckValidExecutionId(const std::string& id, const std::string& field) {
  if (id.size() > kMaxExecutionNameLength) {
    return plugin::InvalidArgument("size of " + field + " exceeded length 63 : " + id);
  }
  static const std::regex pattern(kExecutionIdPattern);
  if (!std::regex_match(id, pattern)) {
    return plugin::InvalidArgument("invalid " + field + " format: " + id +
                                   ", does not match regex '" + kExecutionIdPattern + "'");
  }
  return Status::Ok();
}

Status ValidateExecutionRequest(const admin::ExecutionCreateRequest& request,
                                plugin::db::ProjectRepo& projects,
                                const std::vector<DomainConfig>& domains) {
  if (auto s = ValidateEmptyStringField(request.project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(request.domain(), kFieldDomain); !s.ok()) return s;
  if (!request.name().empty()) {
    std::string lower = request.name();
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (auto s = CheckValidExecutionId(lower, std::string(kFieldName)); !s.ok()) return s;
  }
  if (request.name().size() > kMaxExecutionNameLength) {
    return plugin::InvalidArgument("name for ExecutionCreateRequest [" + plugin::GoProtoText(request) +
                                   "] exceeded allowed length 63");
  }
  if (auto s = ValidateProjectAndDomain(projects, domains, request.project(), request.domain());
      !s.ok())
    return s;
  if (!request.has_spec()) return MissingArgumentError(kFieldSpec);
  const auto& spec = request.spec();
  if (auto s = ValidateIdentifierFieldsSet(spec.has_launch_plan() ? &spec.launch_plan() : nullptr);
      !s.ok())
    return s;
  const int type = spec.launch_plan().resource_type();
  if (type != core::LAUNCH_PLAN && type != core::TASK) {
    // Go prints the accepted set as a map sorted by enum value.
    return plugin::InvalidArgument("Invalid reference entity resource type [" +
                                   ResourceTypeText(type) +
                                   "], only [map[TASK:<nil> LAUNCH_PLAN:<nil>]] allowed");
  }
  if (auto s = ValidateLiteralMap(request.inputs(), kFieldInputs); !s.ok()) return s;
  if (spec.has_notifications()) {
    if (auto s = ValidateNotifications(spec.notifications().notifications()); !s.ok()) return s;
  }
  if (auto s = ValidateLabels(spec.labels()); !s.ok()) return s;
  // A single-task execution stores no execution_tags rows (as upstream), so nothing limits them.
  if (type == core::TASK) return Status::Ok();
  return ValidateTagLengths(spec);
}

Status ValidateTagLengths(const admin::ExecutionSpec& spec) {
  // Labels and tags are stored as execution_tags rows, whose key and value are varchar(255):
  // PostgreSQL would refuse a longer one only at the insert, as an unknown database error, and
  // SQLite would keep it. A label key may be longer than that and still be a valid Kubernetes name.
  constexpr size_t kMaxTagCharacters = 255;
  const auto characters = [](const std::string& text) {
    return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
  };
  const auto too_long = [&](const std::string& what, const std::string& text) {
    return plugin::InvalidArgument(what + " [" + text + "] is longer than " +
                                   std::to_string(kMaxTagCharacters) +
                                   " characters, the most an execution tag holds");
  };
  for (const auto& [key, value] : spec.labels().values()) {
    if (characters(key) > kMaxTagCharacters) return too_long("label key", key);
    if (characters(value) > kMaxTagCharacters) return too_long("label value", value);
  }
  for (const auto& tag : spec.tags()) {
    if (characters(tag) > kMaxTagCharacters) return too_long("tag", tag);
  }
  return Status::Ok();
}

plugin::StatusOr<core::LiteralMap> CheckAndFetchInputsForExecution(
    const core::LiteralMap& user_inputs, const core::LiteralMap& fixed_inputs,
    const core::ParameterMap& expected_inputs, plugin::WorkflowCompiler& compiler) {
  const auto& expected = expected_inputs.parameters();
  core::LiteralMap merged;
  auto& out = *merged.mutable_literals();
  for (const auto& name : SortedKeys(user_inputs.literals())) {
    if (expected.find(name) == expected.end())
      return plugin::InvalidArgument("invalid input " + name);
    out[name] = user_inputs.literals().at(name);
  }
  for (const auto& name : SortedKeys(expected)) {
    const auto& parameter = expected.at(name);
    auto given = out.find(name);
    if (given == out.end()) {
      if (parameter.required()) {
        return plugin::InvalidArgument(std::string(kFieldExpectedInputs) + " " + name + " missing");
      }
      // Go stores the (possibly nil) default; a nil literal serializes as an empty one.
      out[name] = parameter.default_();
      continue;
    }
    auto inferred = compiler.LiteralTypeForLiteral(given->second);
    if (!inferred.ok()) return InvalidLiteralTypeError(name, kUnknownLiteralType);
    const core::LiteralType* want =
        parameter.has_var() && parameter.var().has_type() ? &parameter.var().type() : nullptr;
    // Upstream's ValidateLiteralType catches only a top-level nil; a nil further in (or an
    // untyped blob, schema or structured dataset) fails the cast instead.
    if (InfersUncastableType(given->second) ||
        !compiler.AreTypesCastable(*inferred, want ? *want : core::LiteralType())) {
      return plugin::InvalidArgument("invalid " + name + " input wrong type. Expected " +
                                     TypeText(want) + ", but got " + plugin::GoProtoText(*inferred));
    }
  }
  for (const auto& name : SortedKeys(fixed_inputs.literals())) {
    if (out.find(name) != out.end()) {
      return plugin::InvalidArgument(std::string(kFieldFixedInputs) + " " + name +
                                     " cannot be overridden");
    }
    out[name] = fixed_inputs.literals().at(name);
  }
  return merged;
}

std::string DynamicQueue(const std::vector<ExecutionQueue>& queues,
                         const std::vector<WorkflowQueueConfig>& configs,
                         const std::vector<std::string>* attribute_tags,
                         const std::string& domain) {
  auto pick = [&queues](const std::vector<std::string>& tags) -> std::optional<std::string> {
    for (const auto& tag : tags) {
      std::vector<const ExecutionQueue*> matches;
      for (const auto& q : queues) {
        if (std::find(q.attributes.begin(), q.attributes.end(), tag) != q.attributes.end())
          matches.push_back(&q);
      }
      if (matches.empty()) continue;
      thread_local std::mt19937_64 engine{std::random_device{}()};
      return matches[std::uniform_int_distribution<size_t>(0, matches.size() - 1)(engine)]->dynamic;
    }
    return std::nullopt;
  };
  if (attribute_tags != nullptr) {
    if (auto found = pick(*attribute_tags)) return *found;
  }
  std::vector<std::string> tags, default_tags;
  for (const auto& config : configs) {
    if (config.domain == domain) {
      tags = config.tags;
    } else if (config.domain.empty()) {
      default_tags = config.tags;
    }
  }
  if (tags.empty()) tags = default_tags;
  return pick(tags).value_or("");
}

void AssignChildQueue(core::CompiledWorkflowClosure& closure, const std::string& dynamic) {
  if (dynamic.empty()) return;
  for (auto& task : *closure.mutable_tasks()) {
    if (!task.template_().has_container()) continue;
    auto* entry = task.mutable_template_()->mutable_container()->add_config();
    entry->set_key("child_queue");
    entry->set_value(dynamic);
  }
}

std::string GenerateExecutionName() {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string name = "a";
  for (int i = 0; i < 19; ++i) name.push_back(kAlphabet[pick(engine)]);
  return name;
}

std::string GoCodeName(plugin::StatusCode code) {
  static const char* const kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  const int index = static_cast<int>(code);
  if (index >= 0 && index < static_cast<int>(std::size(kNames))) return kNames[index];
  return "Code(" + std::to_string(index) + ")";
}

plugin::db::ExecutionModel CreateExecutionModel(const ExecutionModelInput& input) {
  admin::ExecutionSpec spec = input.spec;
  auto* system = spec.mutable_metadata()->mutable_system_metadata();
  system->Clear();
  system->set_execution_cluster(input.cluster);
  system->set_namespace_(input.namespace_);
  *spec.mutable_security_context() = input.security_context;

  const auto created_at = ToProto(input.created_at);
  admin::ExecutionClosure closure;
  *closure.mutable_created_at() = created_at;
  *closure.mutable_updated_at() = created_at;
  *closure.mutable_notifications() = input.notifications;
  *closure.mutable_workflow_id() = input.workflow_identifier;
  auto* change = closure.mutable_state_change_details();
  change->set_state(admin::EXECUTION_ACTIVE);
  change->set_principal(spec.metadata().principal());
  *change->mutable_occurred_at() = created_at;
  if (input.error) {
    closure.set_phase(core::WorkflowExecution::FAILED);
    auto* error = closure.mutable_error();
    error->set_code(GoCodeName(input.error->code()));
    error->set_message(input.error->message());
    error->set_kind(input.error->code() == plugin::StatusCode::kInvalidArgument
                        ? core::ExecutionError::USER
                        : core::ExecutionError::SYSTEM);
  }

  plugin::db::ExecutionModel model;
  model.key = {input.id.project(), input.id.domain(), input.id.name()};
  model.spec = spec.SerializeAsString();
  model.phase = core::WorkflowExecution::Phase_Name(closure.phase());
  model.closure = closure.SerializeAsString();
  model.workflow_id = input.workflow_id;
  model.execution_created_at = input.created_at;
  model.execution_updated_at = input.created_at;
  model.parent_node_execution_id = input.parent_node_execution_id;
  model.source_execution_id = input.source_execution_id;
  model.cluster = input.cluster;
  model.inputs_uri = input.inputs_uri;
  model.user_inputs_uri = input.user_inputs_uri;
  model.user = spec.metadata().principal();
  model.state = admin::EXECUTION_ACTIVE;
  model.launch_entity = input.launch_entity;
  if (input.task_id > 0) {
    model.task_id = input.task_id;
  } else {
    model.launch_plan_id = input.launch_plan_id;
  }
  model.mode = spec.metadata().mode();
  return model;
}

std::vector<plugin::db::ExecutionTagModel> CreateExecutionTags(const admin::ExecutionSpec& spec) {
  std::vector<plugin::db::ExecutionTagModel> tags;
  // One row per (key, value): a tag given twice, or a tag named as a label with an empty value,
  // would break the rows' key and fail the insert after the executor has started the workflow
  // (upstream stores the same rows and fails there). Either reads the same in a tag filter.
  std::set<std::pair<std::string, std::string>> seen;
  auto add = [&](const std::string& key, const std::string& value) {
    if (seen.emplace(key, value).second) tags.push_back({key, value});
  };
  for (const auto& key : SortedKeys(spec.labels().values())) add(key, spec.labels().values().at(key));
  for (const auto& tag : spec.tags()) add(tag, "");
  return tags;
}

namespace {

struct Requirement {
  Quantity request, limit;
};

Quantity CapAt(const Quantity& value, const Quantity& limit) {
  if (value.IsZero() || limit.IsZero()) return value;
  return value.Cmp(limit) == 1 ? limit : value;
}

// flytek8s AdjustOrDefaultResource and ensureResourceRange.
Requirement AdjustOrDefault(Quantity request, Quantity limit, const Quantity& platform_default,
                            const Quantity& platform_limit) {
  if (request.IsZero()) request = !limit.IsZero() ? limit : platform_default;
  if (limit.IsZero()) limit = request;
  request = CapAt(request, platform_limit);
  limit = CapAt(limit, platform_limit);
  request = CapAt(request, limit);
  return {request, limit};
}

// Unparsable values count as unset, as upstream logs and ignores them.
TaskResourceSet AsSet(
    const google::protobuf::RepeatedPtrField<core::Resources::ResourceEntry>& entries) {
  TaskResourceSet set;
  for (const auto& entry : entries) {
    Quantity q = Quantity::Parse(entry.value()).value_or(Quantity());
    switch (entry.name()) {
      case core::Resources::CPU:
        set.cpu = q;
        break;
      case core::Resources::MEMORY:
        set.memory = q;
        break;
      case core::Resources::EPHEMERAL_STORAGE:
        set.ephemeral_storage = q;
        break;
      case core::Resources::GPU:
        set.gpu = q;
        break;
      default:
        break;
    }
  }
  return set;
}

}  // namespace

void SetCompiledTaskDefaults(core::CompiledTask& task, const TaskResources& platform) {
  if (!task.has_template_() || !task.template_().has_container()) return;
  auto* container = task.mutable_template_()->mutable_container();
  const TaskResourceSet requests = AsSet(container->resources().requests());
  const TaskResourceSet limits = AsSet(container->resources().limits());
  core::Resources finalized;
  auto add = [&finalized](core::Resources::ResourceName name, const Requirement& r) {
    auto* request = finalized.add_requests();
    request->set_name(name);
    request->set_value(r.request.String());
    auto* limit = finalized.add_limits();
    limit->set_name(name);
    limit->set_value(r.limit.String());
  };
  add(core::Resources::CPU,
      AdjustOrDefault(requests.cpu, limits.cpu, platform.defaults.cpu, platform.limits.cpu));
  add(core::Resources::MEMORY, AdjustOrDefault(requests.memory, limits.memory,
                                               platform.defaults.memory, platform.limits.memory));
  if (!requests.ephemeral_storage.IsZero() || !limits.ephemeral_storage.IsZero() ||
      !platform.defaults.ephemeral_storage.IsZero()) {
    add(core::Resources::EPHEMERAL_STORAGE,
        AdjustOrDefault(requests.ephemeral_storage, limits.ephemeral_storage,
                        platform.defaults.ephemeral_storage, platform.limits.ephemeral_storage));
  }
  if (!requests.gpu.IsZero() || !limits.gpu.IsZero() || !platform.defaults.gpu.IsZero()) {
    add(core::Resources::GPU,
        AdjustOrDefault(requests.gpu, limits.gpu, platform.defaults.gpu, platform.limits.gpu));
  }
  *container->mutable_resources() = std::move(finalized);
}

}  // namespace flyte::plugins::manager
