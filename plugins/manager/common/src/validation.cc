// Identifier, list, named-entity, project and workflow validation (upstream validation.go,
// named_entity_validator.go, project_validator.go, workflow_validator.go).
#include "flyte/manager/validation.h"

#include <algorithm>
#include <cctype>

#include "flyte/manager/errors.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/k8s_validation.h"

namespace flyte::plugins::manager {
namespace {

using flyteidl::core::ResourceType;
using plugin::Status;

constexpr size_t kMaxLabelEntries = 16;
constexpr size_t kMaxProjectNameLength = 64;
constexpr size_t kMaxProjectDescriptionLength = 300;
constexpr int kSystemNodes = 2;  // start and end, added by the compiler

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Go's String() of a core.ResourceType value: the name, or the number when unknown.
std::string ResourceTypeName(int rt) {
  const auto* value = flyteidl::core::ResourceType_descriptor()->FindValueByNumber(rt);
  return value != nullptr ? value->name() : std::to_string(rt);
}

int ResourceTypeOf(Entity entity) {
  switch (entity) {
    case Entity::kTask:
      return flyteidl::core::TASK;
    case Entity::kWorkflow:
      return flyteidl::core::WORKFLOW;
    case Entity::kLaunchPlan:
      return flyteidl::core::LAUNCH_PLAN;
    default:
      return flyteidl::core::UNSPECIFIED;
  }
}

// The inner error of a failed project lookup as upstream words it.
std::string ProjectLookupError(const Status& status, const std::string& project) {
  if (status.code() == plugin::StatusCode::kNotFound) return "project [" + project + "] not found";
  return status.message();
}

}  // namespace

std::vector<DomainConfig> DefaultDomains() {
  return {{"development", "development"}, {"staging", "staging"}, {"production", "production"}};
}

TaskResources DefaultTaskResources() {
  TaskResources r;
  r.defaults.cpu = *Quantity::Parse("2");
  r.defaults.memory = *Quantity::Parse("200Mi");
  r.limits.cpu = *Quantity::Parse("2");
  r.limits.memory = *Quantity::Parse("1Gi");
  r.limits.gpu = *Quantity::Parse("1");
  return r;
}

TaskResources TaskResourcesFromAttributes(const flyteidl::admin::TaskResourceAttributes& attrs) {
  auto to_set = [](const flyteidl::admin::TaskResourceSpec& spec) {
    auto parse = [](const std::string& text) {
      if (text.empty()) return Quantity();
      return Quantity::Parse(text).value_or(Quantity());
    };
    TaskResourceSet set;
    set.cpu = parse(spec.cpu());
    set.gpu = parse(spec.gpu());
    set.memory = parse(spec.memory());
    set.ephemeral_storage = parse(spec.ephemeral_storage());
    return set;
  };
  TaskResources r;
  r.defaults = to_set(attrs.defaults());
  r.limits = to_set(attrs.limits());
  return r;
}

Status ValidateEmptyStringField(std::string_view value, std::string_view field) {
  if (value.empty()) return MissingArgumentError(field);
  return Status::Ok();
}

Status ValidateMaxLengthStringField(std::string_view value, std::string_view field, size_t limit) {
  if (value.size() > limit) {
    return plugin::InvalidArgument(std::string(field) + " cannot exceed " + std::to_string(limit) +
                                   " characters");
  }
  return Status::Ok();
}

Status ValidateMaxMapLengthField(size_t size, std::string_view field, size_t limit) {
  if (size > limit) {
    return plugin::InvalidArgument(std::string(field) + " map cannot exceed " +
                                   std::to_string(limit) + " entries");
  }
  return Status::Ok();
}

Status ValidateLabels(const flyteidl::admin::Labels& labels) {
  if (labels.values().empty()) return Status::Ok();
  if (auto s = ValidateMaxMapLengthField(labels.values().size(), "labels", kMaxLabelEntries);
      !s.ok()) {
    return s;
  }
  std::vector<std::pair<std::string, std::string>> sorted(labels.values().begin(),
                                                          labels.values().end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [key, value] : sorted) {
    if (auto errs = IsQualifiedName(key); !errs.empty()) {
      return plugin::InvalidArgument("invalid label key [" + key + "]: " + plugin::GoStringSlice(errs));
    }
    if (auto errs = IsValidLabelValue(value); !errs.empty()) {
      return plugin::InvalidArgument("invalid label value [" + value + "]: " + plugin::GoStringSlice(errs));
    }
  }
  return Status::Ok();
}

Status ValidateIdentifierFieldsSet(const flyteidl::core::Identifier* id) {
  if (id == nullptr) return MissingArgumentError(kFieldId);
  if (auto s = ValidateEmptyStringField(id->project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(id->domain(), kFieldDomain); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(id->name(), kFieldName); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(id->version(), kFieldVersion); !s.ok()) return s;
  return Status::Ok();
}

Status ValidateIdentifier(const flyteidl::core::Identifier* id, Entity expected) {
  if (id == nullptr) return MissingArgumentError(kFieldId);
  const int want = ResourceTypeOf(expected);
  if (id->resource_type() != want) {
    return plugin::InvalidArgument("unexpected resource type " +
                                   Lower(ResourceTypeName(id->resource_type())) +
                                   " for identifier [" + plugin::GoProtoText(*id) + "], expected " +
                                   Lower(ResourceTypeName(want)) + " instead");
  }
  return ValidateIdentifierFieldsSet(id);
}

Status ValidateNamedEntityIdentifier(const flyteidl::admin::NamedEntityIdentifier* id) {
  if (id == nullptr) return MissingArgumentError(kFieldId);
  if (auto s = ValidateEmptyStringField(id->project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(id->domain(), kFieldDomain); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(id->name(), kFieldName); !s.ok()) return s;
  return Status::Ok();
}

Status ValidateResourceType(int resource_type) {
  if (resource_type == flyteidl::core::UNSPECIFIED ||
      !flyteidl::core::ResourceType_IsValid(resource_type)) {
    return InvalidArgumentError(kFieldResourceType);
  }
  return Status::Ok();
}

Status ValidateLimit(uint32_t limit) {
  if (limit == 0) return InvalidArgumentError(kFieldLimit);
  return Status::Ok();
}

Status ValidateResourceListRequest(const flyteidl::admin::ResourceListRequest& request) {
  if (!request.has_id()) return MissingArgumentError(kFieldId);
  if (auto s = ValidateEmptyStringField(request.id().project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(request.id().domain(), kFieldDomain); !s.ok()) return s;
  return ValidateLimit(request.limit());
}

Status ValidateNamedEntityIdentifierListRequest(
    const flyteidl::admin::NamedEntityIdentifierListRequest& request) {
  if (auto s = ValidateEmptyStringField(request.project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(request.domain(), kFieldDomain); !s.ok()) return s;
  return ValidateLimit(request.limit());
}

Status ValidateActiveLaunchPlanRequest(const flyteidl::admin::ActiveLaunchPlanRequest& request) {
  if (auto s = ValidateEmptyStringField(request.id().project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(request.id().domain(), kFieldDomain); !s.ok()) return s;
  return ValidateEmptyStringField(request.id().name(), kFieldName);
}

Status ValidateActiveLaunchPlanListRequest(
    const flyteidl::admin::ActiveLaunchPlanListRequest& request) {
  if (auto s = ValidateEmptyStringField(request.project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(request.domain(), kFieldDomain); !s.ok()) return s;
  return ValidateLimit(request.limit());
}

Status ValidateDescriptionEntityGetRequest(const flyteidl::admin::ObjectGetRequest& request) {
  if (auto s = ValidateResourceType(request.id().resource_type()); !s.ok()) return s;
  return ValidateIdentifierFieldsSet(request.has_id() ? &request.id() : nullptr);
}

Status ValidateDescriptionEntityListRequest(
    const flyteidl::admin::DescriptionEntityListRequest& request) {
  if (!request.has_id()) return MissingArgumentError(kFieldId);
  if (auto s = ValidateEmptyStringField(request.id().project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(request.id().domain(), kFieldDomain); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(request.id().name(), kFieldName); !s.ok()) return s;
  return ValidateLimit(request.limit());
}

Status ValidateNamedEntityGetRequest(const flyteidl::admin::NamedEntityGetRequest& request) {
  if (auto s = ValidateResourceType(request.resource_type()); !s.ok()) return s;
  return ValidateNamedEntityIdentifier(request.has_id() ? &request.id() : nullptr);
}

Status ValidateNamedEntityUpdateRequest(const flyteidl::admin::NamedEntityUpdateRequest& request) {
  if (auto s = ValidateResourceType(request.resource_type()); !s.ok()) return s;
  if (auto s = ValidateNamedEntityIdentifier(request.has_id() ? &request.id() : nullptr); !s.ok()) {
    return s;
  }
  if (!request.has_metadata()) return MissingArgumentError(kFieldMetadata);
  const int rt = request.resource_type();
  if (request.metadata().state() != flyteidl::admin::NAMED_ENTITY_ACTIVE &&
      rt != flyteidl::core::WORKFLOW && rt != flyteidl::core::TASK &&
      rt != flyteidl::core::LAUNCH_PLAN) {
    return plugin::InvalidArgument("Resource [" + ResourceTypeName(rt) +
                                   "] cannot have its state updated");
  }
  return Status::Ok();
}

Status ValidateNamedEntityListRequest(const flyteidl::admin::NamedEntityListRequest& request) {
  if (auto s = ValidateEmptyStringField(request.project(), kFieldProject); !s.ok()) return s;
  if (auto s = ValidateEmptyStringField(request.domain(), kFieldDomain); !s.ok()) return s;
  if (auto s = ValidateResourceType(request.resource_type()); !s.ok()) return s;
  return ValidateLimit(request.limit());
}

Status ValidateProjectRegisterRequest(const flyteidl::admin::ProjectRegisterRequest& request) {
  if (!request.has_project()) return MissingArgumentError(kFieldProject);
  if (auto s = ValidateEmptyStringField(request.project().name(), "project_name"); !s.ok()) {
    return s;
  }
  return ValidateProject(request.project());
}

Status ValidateProjectGetRequest(const flyteidl::admin::ProjectGetRequest& request) {
  return ValidateEmptyStringField(request.id(), "project_id");
}

Status ValidateProject(const flyteidl::admin::Project& project) {
  if (auto s = ValidateEmptyStringField(project.id(), "project_id"); !s.ok()) return s;
  if (auto s = ValidateLabels(project.labels()); !s.ok()) return s;
  if (auto errs = IsDNS1123Label(project.id()); !errs.empty()) {
    return plugin::InvalidArgument("invalid project id [" + project.id() +
                                   "]: " + plugin::GoStringSlice(errs));
  }
  if (auto s = ValidateMaxLengthStringField(project.name(), "project_name", kMaxProjectNameLength);
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateMaxLengthStringField(project.description(), "project_description",
                                            kMaxProjectDescriptionLength);
      !s.ok()) {
    return s;
  }
  if (project.domains_size() > 0) {
    return plugin::InvalidArgument(
        "Domains are currently only set system wide. Please retry without domains included in "
        "your request.");
  }
  return Status::Ok();
}

Status ValidateProjectAndDomain(plugin::db::ProjectRepo& projects,
                                const std::vector<DomainConfig>& domains,
                                const std::string& project, const std::string& domain) {
  auto model = projects.Get(project);
  if (!model.ok()) {
    return plugin::InvalidArgument("failed to validate that project [" + project +
                                   "] and domain [" + domain + "] are registered, err: [" +
                                   ProjectLookupError(model.status(), project) + "]");
  }
  if (model->state != flyteidl::admin::Project::ACTIVE) return InactiveProjectError(project);
  const bool known = std::any_of(domains.begin(), domains.end(),
                                 [&](const DomainConfig& d) { return d.id == domain; });
  if (!known) return plugin::InvalidArgument("domain [" + domain + "] is unrecognized by system");
  return Status::Ok();
}

Status ValidateProjectForUpdate(plugin::db::ProjectRepo& projects, const std::string& project) {
  auto model = projects.Get(project);
  if (!model.ok()) {
    return plugin::InvalidArgument("failed to validate that project [" + project +
                                   "] is registered, err: [" +
                                   ProjectLookupError(model.status(), project) + "]");
  }
  if (model->state != flyteidl::admin::Project::ACTIVE) {
    return plugin::InvalidArgument("project [" + project + "] is not active");
  }
  return Status::Ok();
}

Status ValidateProjectExists(plugin::db::ProjectRepo& projects, const std::string& project) {
  auto model = projects.Get(project);
  if (!model.ok()) {
    return plugin::InvalidArgument("failed to validate that project [" + project +
                                   "] exists, err: [" +
                                   ProjectLookupError(model.status(), project) + "]");
  }
  return Status::Ok();
}

Status ValidateWorkflow(const flyteidl::admin::WorkflowCreateRequest& request,
                        plugin::db::ProjectRepo& projects,
                        const std::vector<DomainConfig>& domains) {
  if (auto s = ValidateIdentifier(request.has_id() ? &request.id() : nullptr, Entity::kWorkflow);
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateProjectAndDomain(projects, domains, request.id().project(),
                                        request.id().domain());
      !s.ok()) {
    return s;
  }
  if (!request.has_spec() || !request.spec().has_template_()) {
    return MissingArgumentError(kFieldSpec);
  }
  return Status::Ok();
}

Status ValidateCompiledWorkflow(const flyteidl::core::Identifier& id,
                                const flyteidl::admin::WorkflowClosure& closure,
                                const RegistrationValidationConfig& config) {
  if (!config.workflow_size_limit.empty()) {
    std::string error;
    const auto limit = Quantity::Parse(config.workflow_size_limit, &error);
    if (!limit) {
      return plugin::Internal("invalid registration.workflowSizeLimit [" +
                              config.workflow_size_limit + "]: " + error);
    }
    const Quantity size = Quantity::FromInt64(static_cast<int64_t>(closure.ByteSizeLong()),
                                              Quantity::Format::kDecimalExponent);
    if (limit->Cmp(size) < 0) {
      return plugin::InvalidArgument("Workflow closure size exceeds max limit [" +
                                     config.workflow_size_limit + "]");
    }
  }
  if (config.max_workflow_nodes == 0) return Status::Ok();
  const auto& nodes = closure.compiled_workflow().primary().template_().nodes();
  if (nodes.empty()) return Status::Ok();
  const int user_nodes = nodes.size() - kSystemNodes;
  if (user_nodes > config.max_workflow_nodes) {
    return plugin::InvalidArgument("number of nodes in workflow [" + plugin::GoProtoText(id) +
                                   "] exceeds limit (" + std::to_string(user_nodes) + " > " +
                                   std::to_string(config.max_workflow_nodes) + ")");
  }
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
