// Task registration validation (upstream task_validator.go): template fields, the task type
// whitelist, and container / k8s-pod resources against the platform limits.
#include <charconv>
#include <map>

#include "flyte/manager/errors.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/validation.h"

namespace flyte::plugins::manager {
namespace {

using flyteidl::core::Resources;
using plugin::Status;

using QuantityMap = std::map<int, Quantity>;  // Resources.ResourceName -> quantity

// %+v of a possibly-nil *core.Identifier.
std::string IdText(const flyteidl::core::Identifier* id) {
  return id == nullptr ? "<nil>" : plugin::GoProtoText(*id);
}

std::string ResourceName(int name) {
  const auto* value = flyteidl::core::Resources::ResourceName_descriptor()->FindValueByNumber(name);
  return value != nullptr ? value->name() : std::to_string(name);
}

Status AddResourceEntry(const flyteidl::core::Identifier* id, const Resources::ResourceEntry& entry,
                        QuantityMap* out) {
  if (out->count(entry.name()) != 0) {
    return plugin::InvalidArgument("can't specify " + ResourceName(entry.name()) +
                                   " limit for task [" + IdText(id) + "] multiple times");
  }
  std::string error;
  auto quantity = Quantity::Parse(entry.value(), &error);
  if (!quantity) {
    return plugin::InvalidArgument(
        "Parsing of " + ResourceName(entry.name()) + " request failed for value " + entry.value() +
        " - reason  " + error +
        ". Please follow K8s conventions for resources "
        "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/");
  }
  (*out)[entry.name()] = *quantity;
  return Status::Ok();
}

plugin::StatusOr<QuantityMap> RequestedResources(
    const flyteidl::core::Identifier* id,
    const google::protobuf::RepeatedPtrField<Resources::ResourceEntry>& entries) {
  QuantityMap out;
  for (const auto& entry : entries) {
    switch (entry.name()) {
      case Resources::CPU:
      case Resources::MEMORY:
      case Resources::EPHEMERAL_STORAGE:
        if (auto s = AddResourceEntry(id, entry, &out); !s.ok()) return s;
        break;
      case Resources::GPU:
        if (auto s = AddResourceEntry(id, entry, &out); !s.ok()) return s;
        if (out[Resources::GPU].MilliValue() % 1000 != 0) {
          return plugin::InvalidArgument("gpu for [" + IdText(id) +
                                         "] must be a whole number, got: " + entry.value() +
                                         " instead");
        }
        break;
      default:
        break;
    }
  }
  return out;
}

QuantityMap PlatformLimits(const TaskResourceSet& set) {
  QuantityMap out;
  if (!set.cpu.IsZero()) out[Resources::CPU] = set.cpu;
  if (!set.memory.IsZero()) out[Resources::MEMORY] = set.memory;
  if (!set.gpu.IsZero()) out[Resources::GPU] = set.gpu;
  if (!set.ephemeral_storage.IsZero()) out[Resources::EPHEMERAL_STORAGE] = set.ephemeral_storage;
  return out;
}

std::string PlatformMessage(int name, const Quantity& requested, const Quantity& platform,
                            const char* what) {
  return "Requested " + ResourceName(name) + " " + what + " [" + requested.String() +
         "] is greater than current limit set in the platform configuration [" + platform.String() +
         "]. Please contact Flyte Admins to change these limits or consult the configuration";
}

// upstream validateResource; requests are visited in resource-name order (Go: map order).
Status ValidateResource(const flyteidl::core::Identifier* id, const QuantityMap& requests,
                        const QuantityMap& limits, const QuantityMap& platform) {
  for (const auto& [name, request] : requests) {
    const auto limit = limits.find(name);
    const auto plat = platform.find(name);
    switch (name) {
      case Resources::CPU:
      case Resources::EPHEMERAL_STORAGE:
      case Resources::MEMORY:
        if (limit != limits.end() && limit->second.Value() < request.Value()) {
          return plugin::InvalidArgument("Requested " + ResourceName(name) + " default [" +
                                         request.String() + "] is greater than the limit [" +
                                         limit->second.String() +
                                         "]. Please fix your configuration");
        }
        if (limit != limits.end() && plat != platform.end() &&
            limit->second.Value() > plat->second.Value()) {
          return plugin::InvalidArgument(
              PlatformMessage(name, limit->second, plat->second, "limit"));
        }
        if (plat != platform.end() && request.Value() > plat->second.Value()) {
          return plugin::InvalidArgument(PlatformMessage(name, request, plat->second, "default"));
        }
        break;
      case Resources::GPU:
        if (limit != limits.end() && request.Value() != limit->second.Value()) {
          return plugin::InvalidArgument(
              "For extended resource 'gpu' the default value must equal the limit value for task "
              "[" +
              IdText(id) + "]");
        }
        if (plat != platform.end() && request.Value() > plat->second.Value()) {
          return plugin::InvalidArgument(PlatformMessage(name, request, plat->second, "default"));
        }
        break;
      default:
        break;
    }
  }
  return Status::Ok();
}

const char* JsonTypeName(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      return "number";
    case google::protobuf::Value::kStringValue:
      return "string";
    case google::protobuf::Value::kBoolValue:
      return "bool";
    case google::protobuf::Value::kStructValue:
      return "object";
    case google::protobuf::Value::kListValue:
      return "array";
    default:
      return "null";
  }
}

// How a PodSpec quantity decodes from the JSON of a Struct value (Quantity.UnmarshalJSON).
plugin::StatusOr<Quantity> PodQuantity(const google::protobuf::Value& v) {
  std::string text;
  switch (v.kind_case()) {
    case google::protobuf::Value::kNullValue:
    case google::protobuf::Value::KIND_NOT_SET:
      return Quantity();
    case google::protobuf::Value::kStringValue:
      text = std::string(plugin::GoTrimSpace(v.string_value()));
      break;
    case google::protobuf::Value::kNumberValue: {
      // protojson: shortest fixed notation, exponent form below 1e-6 or from 1e21 on, with no
      // leading zero in the exponent ("1e-7", "1e+21").
      const double d = v.number_value();
      const double a = d < 0 ? -d : d;
      char buf[400];
      const bool exp_form = a != 0 && (a < 1e-6 || a >= 1e21);
      const auto res =
          std::to_chars(buf, buf + sizeof(buf), d,
                        exp_form ? std::chars_format::scientific : std::chars_format::fixed);
      text.assign(buf, res.ptr);
      const auto e = text.find('e');
      if (e != std::string::npos && text.size() > e + 3 && text[e + 2] == '0') text.erase(e + 2, 1);
      break;
    }
    case google::protobuf::Value::kBoolValue:
      text = v.bool_value() ? "true" : "false";
      break;
    default:
      text = v.kind_case() == google::protobuf::Value::kStructValue ? "{}" : "[]";
      break;
  }
  std::string error;
  auto q = Quantity::Parse(text, &error);
  if (!q) return plugin::Internal(error);
  return *q;
}

plugin::StatusOr<QuantityMap> PodResourceList(const google::protobuf::Value& list,
                                              std::string_view field) {
  QuantityMap out;
  if (list.kind_case() == google::protobuf::Value::kNullValue ||
      list.kind_case() == google::protobuf::Value::KIND_NOT_SET) {
    return out;
  }
  if (list.kind_case() != google::protobuf::Value::kStructValue) {
    return plugin::Internal(std::string("json: cannot unmarshal ") + JsonTypeName(list) +
                            " into Go struct field ResourceRequirements.containers.resources." +
                            std::string(field) + " of type v1.ResourceList");
  }
  // Sorted names keep the (Go: random) overwrite order deterministic.
  std::map<std::string, const google::protobuf::Value*> sorted;
  for (const auto& [name, value] : list.struct_value().fields()) sorted[name] = &value;
  for (const auto& [name, value] : sorted) {
    auto q = PodQuantity(*value);
    if (!q.ok()) return q.status();
    std::string upper = name == "ephemeral-storage" ? "EPHEMERAL_STORAGE" : name;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int enum_value = Resources::UNKNOWN;
    if (const auto* v = Resources::ResourceName_descriptor()->FindValueByName(upper)) {
      enum_value = v->number();
    }
    out[enum_value] = *q;
  }
  return out;
}

Status ValidateK8sPod(const flyteidl::core::TaskTemplate& task, const TaskResources& platform) {
  if (!task.k8s_pod().has_pod_spec()) {
    return plugin::InvalidArgument(
        "invalid TaskSpecification, pod tasks should specify their target as a K8sPod with a "
        "defined pod spec");
  }
  const flyteidl::core::Identifier* id = task.has_id() ? &task.id() : nullptr;
  const QuantityMap plat = PlatformLimits(platform.limits);
  // Keys match the PodSpec's fields as encoding/json matches them: exactly, else but for case.
  const google::protobuf::Value* containers = plugin::GoJsonField(task.k8s_pod().pod_spec(), "containers");
  if (containers == nullptr) return Status::Ok();
  const auto& value = *containers;
  if (value.kind_case() == google::protobuf::Value::kNullValue) return Status::Ok();
  if (value.kind_case() != google::protobuf::Value::kListValue) {
    return plugin::Internal(std::string("json: cannot unmarshal ") + JsonTypeName(value) +
                            " into Go struct field PodSpec.containers of type []v1.Container");
  }
  // Decode every container first, as json.Unmarshal does, then validate in order.
  std::vector<std::pair<QuantityMap, QuantityMap>> decoded;
  for (const auto& container : value.list_value().values()) {
    if (container.kind_case() == google::protobuf::Value::kNullValue) {
      decoded.emplace_back();
      continue;
    }
    if (container.kind_case() != google::protobuf::Value::kStructValue) {
      return plugin::Internal(std::string("json: cannot unmarshal ") + JsonTypeName(container) +
                              " into Go struct field PodSpec.containers of type v1.Container");
    }
    const google::protobuf::Value* resources = plugin::GoJsonField(container.struct_value(), "resources");
    QuantityMap requests;
    QuantityMap limits;
    if (resources != nullptr && resources->kind_case() != google::protobuf::Value::kNullValue) {
      if (resources->kind_case() != google::protobuf::Value::kStructValue) {
        return plugin::Internal(std::string("json: cannot unmarshal ") + JsonTypeName(*resources) +
                                " into Go struct field Container.containers.resources of type "
                                "v1.ResourceRequirements");
      }
      if (const auto* v = plugin::GoJsonField(resources->struct_value(), "requests")) {
        auto parsed = PodResourceList(*v, "requests");
        if (!parsed.ok()) return parsed.status();
        requests = std::move(*parsed);
      }
      if (const auto* v = plugin::GoJsonField(resources->struct_value(), "limits")) {
        auto parsed = PodResourceList(*v, "limits");
        if (!parsed.ok()) return parsed.status();
        limits = std::move(*parsed);
      }
    }
    decoded.emplace_back(std::move(requests), std::move(limits));
  }
  for (const auto& [requests, limits] : decoded) {
    if (auto s = ValidateResource(id, requests, limits, plat); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ValidateTaskType(const flyteidl::core::Identifier& task_id, const std::string& type,
                        const TaskTypeWhitelist& whitelist) {
  const auto it = whitelist.find(type);
  if (it == whitelist.end() || it->second.empty()) return Status::Ok();
  for (const auto& scope : it->second) {
    if (scope.project.empty()) return Status::Ok();
    if (scope.project != task_id.project()) continue;
    if (scope.domain.empty() || scope.domain == task_id.domain()) return Status::Ok();
  }
  return plugin::InvalidArgument("task type must be whitelisted before use");
}

}  // namespace

Status ValidateTaskResources(const flyteidl::core::Identifier* task_id,
                             const TaskResourceSet& platform_limits, const Resources& resources) {
  auto requests = RequestedResources(task_id, resources.requests());
  if (!requests.ok()) return requests.status();
  auto limits = RequestedResources(task_id, resources.limits());
  if (!limits.ok()) return limits.status();
  return ValidateResource(task_id, *requests, *limits, PlatformLimits(platform_limits));
}

Status ValidateTaskTemplate(const flyteidl::core::Identifier& task_id,
                            const flyteidl::core::TaskTemplate& task, const TaskResources& platform,
                            const TaskTypeWhitelist& whitelist) {
  if (auto s = ValidateEmptyStringField(task.type(), kFieldType); !s.ok()) return s;
  if (auto s = ValidateTaskType(task_id, task.type(), whitelist); !s.ok()) return s;
  if (!task.has_metadata()) return MissingArgumentError(kFieldMetadata);
  if (task.metadata().has_runtime()) {
    if (auto s =
            ValidateEmptyStringField(task.metadata().runtime().version(), kFieldRuntimeVersion);
        !s.ok()) {
      return s;
    }
  }
  if (!task.has_interface()) return MissingArgumentError(kFieldTypedInterface);
  if (task.has_container()) {
    if (auto s = ValidateEmptyStringField(task.container().image(), kFieldImage); !s.ok()) return s;
    if (!task.container().has_resources()) return Status::Ok();
    return ValidateTaskResources(task.has_id() ? &task.id() : nullptr, platform.limits,
                                 task.container().resources());
  }
  if (task.has_k8s_pod()) return ValidateK8sPod(task, platform);
  return Status::Ok();
}

Status ValidateTask(const flyteidl::admin::TaskCreateRequest& request,
                    plugin::db::ProjectRepo& projects, const std::vector<DomainConfig>& domains,
                    const TaskResources& platform, const TaskTypeWhitelist& whitelist) {
  if (auto s = ValidateIdentifier(request.has_id() ? &request.id() : nullptr, Entity::kTask);
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
  return ValidateTaskTemplate(request.id(), request.spec().template_(), platform, whitelist);
}

}  // namespace flyte::plugins::manager
