// Builds the FlyteWorkflow resource the way flytepropeller's k8s transformer and flyteadmin's
// PrepareFlyteWorkflow do. Protobuf values embedded through a MarshalJSON wrapper use protobuf's
// JSON mapping (camelCase, enum names); protobuf structs marshalled by encoding/json directly use
// the generated json tags (snake_case, enums as numbers, zero values omitted).
#include "flyte_workflow.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include <google/protobuf/util/json_util.h>

#include "flyte/plugin/go_compat.h"
#include "flyte/manager/quantity.h"

namespace flyte::plugins::executor {

namespace {

namespace core = flyteidl::core;
using nlohmann::json;

constexpr char kStartNodeId[] = "start-node";
constexpr char kEndNodeId[] = "end-node";
constexpr char kFinalizer[] = "flyte.org/finalizer";
constexpr uint32_t kShardKeyspaceSize = 32;
constexpr size_t kDns1123LabelMaxLength = 63;

// utils.MarshalPbToBytes (jsonpb with default options).
json PbJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return json::object();
  return json::parse(out);
}

// encoding/json of a generated Go protobuf struct.
json GoJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_enums_as_ints = true;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return json::object();
  return json::parse(out);
}

std::string IdKey(const core::Identifier& id) { return plugin::GoProtoText(id); }

std::string CompileError(const std::string& code, const std::string& node,
                         const std::string& description) {
  return "Code: " + code + ", Node Id: " + node + ", Description: " + description;
}

// compileErrors.Error(): the distinct errors sorted by code, then text.
plugin::Status Collected(std::vector<std::string> errors) {
  std::sort(errors.begin(), errors.end());
  errors.erase(std::unique(errors.begin(), errors.end()), errors.end());
  std::string out = "Collected Errors: " + std::to_string(errors.size()) + "\n";
  for (size_t i = 0; i < errors.size(); ++i)
    out += "\tError " + std::to_string(i) + ": " + errors[i] + "\n";
  // Not an admin error upstream: a launch plan's FAILED execution records it as "Unknown" (and a
  // single task's create answers INTERNAL, as for any such error).
  return plugin::Status(plugin::StatusCode::kUnknown, out);
}

// StripTypeMetadata: type metadata and (unless it carries the cache-key metadata) annotations go.
void StripTypeMetadata(core::LiteralType& type) {
  type.clear_metadata();
  if (type.has_annotation() &&
      !type.annotation().annotations().fields().contains("cache-key-metadata")) {
    type.clear_annotation();
  }
  if (type.has_structure()) {
    for (auto& entry : *type.mutable_structure()->mutable_dataclass_type())
      StripTypeMetadata(entry.second);
  }
  switch (type.type_case()) {
    case core::LiteralType::kUnionType:
      for (auto& variant : *type.mutable_union_type()->mutable_variants()) StripTypeMetadata(variant);
      break;
    case core::LiteralType::kMapValueType:
      StripTypeMetadata(*type.mutable_map_value_type());
      break;
    case core::LiteralType::kCollectionType:
      StripTypeMetadata(*type.mutable_collection_type());
      break;
    case core::LiteralType::kStructuredDatasetType:
      for (auto& column : *type.mutable_structured_dataset_type()->mutable_columns()) {
        if (column.has_literal_type()) StripTypeMetadata(*column.mutable_literal_type());
      }
      break;
    default:
      break;
  }
}

void StripInterfaceTypeMetadata(core::TypedInterface& iface) {
  for (auto* map : {iface.mutable_inputs(), iface.mutable_outputs()}) {
    for (auto& entry : *map->mutable_variables()) {
      if (entry.second.has_type()) StripTypeMetadata(*entry.second.mutable_type());
      entry.second.clear_description();
    }
  }
}

// k8s.io resource names of core.Resources.ResourceName (flytek8s.ToK8sResourceList): every
// value is parsed, whatever its name (an empty one too, which k8s refuses); zero quantities and
// names without a k8s resource are left out.
plugin::StatusOr<json> ResourceList(
    const google::protobuf::RepeatedPtrField<core::Resources::ResourceEntry>& entries) {
  json out = json::object();
  for (const auto& entry : entries) {
    std::string error;
    auto quantity = manager::Quantity::Parse(entry.value(), &error);
    if (!quantity) {
      return plugin::InvalidArgument("Failed to parse resource as a valid quantity.: " + error);
    }
    std::string name;
    switch (entry.name()) {
      case core::Resources::CPU: name = "cpu"; break;
      case core::Resources::MEMORY: name = "memory"; break;
      case core::Resources::GPU: name = "nvidia.com/gpu"; break;
      case core::Resources::EPHEMERAL_STORAGE: name = "ephemeral-storage"; break;
      default: continue;
    }
    if (quantity->IsZero()) continue;
    out[name] = quantity->String();
  }
  return out;
}

// flytek8s.ToK8sResourceRequirements: requests first, then limits.
plugin::StatusOr<json> ResourceRequirements(const core::Resources* resources) {
  json out = json::object();
  if (resources == nullptr) return out;
  auto requests = ResourceList(resources->requests());
  if (!requests.ok()) return requests.status();
  auto limits = ResourceList(resources->limits());
  if (!limits.ok()) return limits.status();
  if (!limits->empty()) out["limits"] = std::move(limits.value());
  if (!requests->empty()) out["requests"] = std::move(requests.value());
  return out;
}

json Bindings(const google::protobuf::RepeatedPtrField<core::Binding>& bindings) {
  json out = json::array();
  for (const auto& b : bindings) out.push_back(PbJson(b));
  return out;
}

struct Builder {
  const google::protobuf::RepeatedPtrField<core::CompiledTask>& tasks;
  std::string error;

  const core::TaskTemplate* FindTask(const std::string& key) const {
    for (const auto& t : tasks) {
      if (IdKey(t.template_().id()) == key) return &t.template_();
    }
    return nullptr;
  }

  // buildNodeSpec: the node's own spec first, then those of the nodes a branch holds.
  bool BuildNode(const core::Node& n, std::vector<json>& out) {
    if (n.id() != kStartNodeId && n.id() != kEndNodeId &&
        n.target_case() == core::Node::TARGET_NOT_SET) {
      error = CompileError("ValueRequired", n.id(), "Value required [target].");
      return false;
    }
    const core::TaskTemplate* task = nullptr;
    const core::Resources* resources = nullptr;
    json spec = json::object();
    spec["id"] = n.id();
    if (n.has_task_node()) {
      const std::string key = IdKey(n.task_node().reference_id());
      task = FindTask(key);
      if (task == nullptr) {
        error = CompileError("TaskReferenceNotFound", n.id(),
                             "Referenced Task [" + key + "] not found.");
        return false;
      }
      if (n.task_node().has_overrides()) {
        const auto& o = n.task_node().overrides();
        if (o.has_resources()) resources = &o.resources();
        if (o.has_extended_resources()) spec["extendedResources"] = PbJson(o.extended_resources());
        if (!o.container_image().empty()) spec["containerImage"] = o.container_image();
        if (o.has_pod_template()) spec["podTemplate"] = GoJson(o.pod_template());
      }
    }
    auto res = ResourceRequirements(resources);
    if (!res.ok()) {
      // errors.NewWorkflowBuildError: no node id.
      error = CompileError("WorkflowBuildError", "", res.status().message());
      return false;
    }
    spec["resources"] = std::move(res.value());
    if (n.has_metadata()) {
      const auto& md = n.metadata();
      if (!md.name().empty()) spec["name"] = md.name();
      if (md.has_timeout()) {
        // computeDeadline: ptypes.Duration refuses what time.Duration cannot hold.
        const auto deadline = GoTimeDuration(md.timeout());
        if (!deadline) {
          error = CompileError("SyntaxError", n.id(), "Failed to parse element [node:metadata:timeout].");
          return false;
        }
        spec["executionDeadline"] = GoDuration(*deadline / 1000000000LL, static_cast<int32_t>(*deadline % 1000000000LL));
        // 2 * timeout in Go's int64 arithmetic, which wraps past 146 years.
        const auto twice = static_cast<int64_t>(static_cast<uint64_t>(*deadline) * 2u);
        spec["activeDeadline"] = GoDuration(twice / 1000000000LL, static_cast<int32_t>(twice % 1000000000LL));
      }
      if (md.interruptible_value_case() == core::NodeMetadata::kInterruptible)
        spec["interruptible"] = md.interruptible();
    }
    // computeRetryStrategy: the node's retries win over the task's; zero means unset.
    if (n.has_metadata() && n.metadata().has_retries() && n.metadata().retries().retries() != 0) {
      spec["retry"] = {{"minAttempts", n.metadata().retries().retries() + 1}};
    } else if (task != nullptr && task->has_metadata() && task->metadata().has_retries() &&
               task->metadata().retries().retries() != 0) {
      spec["retry"] = {{"minAttempts", task->metadata().retries().retries() + 1}};
    }
    if (n.output_aliases_size() > 0) {
      json aliases = json::array();
      for (const auto& a : n.output_aliases()) aliases.push_back(GoJson(a));
      spec["outputAlias"] = std::move(aliases);
    }
    if (n.inputs_size() > 0) spec["inputBindings"] = Bindings(n.inputs());

    std::vector<json> children;
    switch (n.target_case()) {
      case core::Node::kTaskNode:
        spec["kind"] = "task";
        spec["task"] = IdKey(n.task_node().reference_id());
        break;
      case core::Node::kWorkflowNode: {
        const auto& wn = n.workflow_node();
        spec["kind"] = "workflow";
        if (wn.has_launchplan_ref()) {
          spec["workflow"] = {{"launchPlanRefId", PbJson(wn.launchplan_ref())}};
        } else if (wn.has_sub_workflow_ref()) {
          spec["workflow"] = {{"subWorkflowRef", IdKey(wn.sub_workflow_ref())}};
        } else {
          error = CompileError("ValueRequired", n.id(), "Value required [WorkflowNode.Reference].");
          return false;
        }
        break;
      }
      case core::Node::kBranchNode: {
        spec["kind"] = "branch";
        const auto& ifelse = n.branch_node().if_else();
        json branch = json::object();
        auto if_block = [&](const core::IfBlock& block) -> std::optional<json> {
          if (!BuildNode(block.then_node(), children)) return std::nullopt;
          return json{{"condition", PbJson(block.condition())}, {"then", block.then_node().id()}};
        };
        auto first = if_block(ifelse.case_());
        if (!first) return false;
        branch["if"] = std::move(*first);
        if (ifelse.has_else_node()) {
          if (!BuildNode(ifelse.else_node(), children)) return false;
          branch["else"] = ifelse.else_node().id();
        } else if (ifelse.has_error()) {
          branch["elseFail"] = GoJson(ifelse.error());
        }
        json other = json::array();
        for (const auto& block : ifelse.other()) {
          auto b = if_block(block);
          if (!b) return false;
          other.push_back(std::move(*b));
        }
        if (!other.empty()) branch["elseIf"] = std::move(other);
        spec["branch"] = std::move(branch);
        break;
      }
      case core::Node::kGateNode: {
        spec["kind"] = "gate";
        const auto& gate = n.gate_node();
        json g = json::object();
        if (gate.has_approve()) {
          g = {{"kind", "approve"}, {"approve", PbJson(gate.approve())}};
        } else if (gate.has_signal()) {
          g = {{"kind", "signal"}, {"signal", PbJson(gate.signal())}};
        } else if (gate.has_sleep()) {
          g = {{"kind", "sleep"}, {"sleep", PbJson(gate.sleep())}};
        } else {
          g = {{"kind", ""}};
        }
        spec["gate"] = std::move(g);
        break;
      }
      case core::Node::kArrayNode: {
        const auto& array = n.array_node();
        std::vector<json> sub;
        if (!BuildNode(array.node(), sub)) return false;
        // ArrayNodeSpec has no json tags: Go's field names, nil pointers as null.
        json a = {{"SubNodeSpec", sub.front()},
                  {"Parallelism", nullptr},
                  {"MinSuccesses", nullptr},
                  {"MinSuccessRatio", nullptr},
                  {"BoundInputs", nullptr}};
        if (array.parallelism_option_case() == core::ArrayNode::kParallelism)
          a["Parallelism"] = array.parallelism();
        if (array.success_criteria_case() == core::ArrayNode::kMinSuccesses)
          a["MinSuccesses"] = array.min_successes();
        if (array.success_criteria_case() == core::ArrayNode::kMinSuccessRatio)
          a["MinSuccessRatio"] = Float32Json(array.min_success_ratio());
        if (array.bound_inputs_size() > 0) {
          a["BoundInputs"] = std::vector<std::string>(array.bound_inputs().begin(),
                                                      array.bound_inputs().end());
        }
        spec["kind"] = "array";
        spec["array"] = std::move(a);
        break;
      }
      default:
        if (n.id() == kStartNodeId) {
          spec["kind"] = "start";
        } else if (n.id() == kEndNodeId) {
          spec["kind"] = "end";
        } else {
          spec["kind"] = "";
        }
    }
    out.push_back(std::move(spec));
    for (auto& c : children) out.push_back(std::move(c));
    return true;
  }

  // buildFlyteWorkflowSpec
  std::optional<json> BuildSpec(core::CompiledWorkflow wf) {
    auto& tmpl = *wf.mutable_template_();
    if (tmpl.has_interface()) StripInterfaceTypeMetadata(*tmpl.mutable_interface());
    json spec = json::object();
    if (tmpl.has_failure_node()) {
      std::vector<json> failure;
      if (!BuildNode(tmpl.failure_node(), failure)) return std::nullopt;
      spec["onFailure"] = failure.front();
    }
    json nodes = json::object();
    for (const auto& node : tmpl.nodes()) {
      std::vector<json> specs;
      if (!BuildNode(node, specs)) return std::nullopt;
      for (auto& s : specs) {
        const std::string id = s["id"];
        if (nodes.contains(id) && nodes[id] != s) {
          error = CompileError("ValueCollision", node.id(),
                               "Node is expected to be unique. " + id + " already exists.");
          return std::nullopt;
        }
        nodes[id] = std::move(s);
      }
    }
    const auto& id = tmpl.id();
    spec["id"] = id.project() + ":" + id.domain() + ":" + id.name();
    spec["nodes"] = std::move(nodes);
    auto lists = [](const google::protobuf::Map<std::string, core::ConnectionSet::IdList>& m) {
      json out = json::object();
      for (const auto& [key, list] : m) {
        out[key] = list.ids_size() == 0
                       ? json(nullptr)
                       : json(std::vector<std::string>(list.ids().begin(), list.ids().end()));
      }
      return out;
    };
    json downstream = lists(wf.connections().downstream());
    spec["connections"] = downstream;
    spec["edges"] = {{"downstream", downstream}, {"upstream", lists(wf.connections().upstream())}};
    spec["outputs"] = tmpl.has_interface() && tmpl.interface().has_outputs()
                          ? PbJson(tmpl.interface().outputs())
                          : json::object();
    if (tmpl.outputs_size() > 0) spec["outputBindings"] = Bindings(tmpl.outputs());
    // Propeller's WorkflowOnFailurePolicy reads the enum's name and refuses a number.
    if (tmpl.has_metadata() && tmpl.metadata().on_failure() != 0)
      spec["onFailurePolicy"] = core::WorkflowMetadata::OnFailurePolicy_Name(tmpl.metadata().on_failure());
    return spec;
  }
};

std::vector<std::string> ValidateInputs(const core::TypedInterface* iface,
                                        const core::LiteralMap& inputs) {
  if (iface == nullptr)
    return {CompileError("ValueRequired", kStartNodeId, "Value required [interface].")};
  if (!iface->has_inputs())
    return {CompileError("ValueRequired", kStartNodeId, "Value required [interface.InputsRef].")};
  std::vector<std::string> errors;
  auto add = [&](const std::string& e) { errors.push_back(e); };
  std::set<std::string> bound;
  for (const auto& [name, literal] : inputs.literals()) {
    if (!iface->inputs().variables().contains(name)) {
      add(CompileError("VariableNameNotFound", kStartNodeId,
                       "Variable [" + name + "] not found on node []."));
      continue;
    }
    bound.insert(name);
  }
  std::vector<std::string> missing;
  for (const auto& [name, variable] : iface->inputs().variables()) {
    if (!bound.count(name)) missing.push_back(name);
  }
  std::sort(missing.begin(), missing.end());
  for (const auto& name : missing)
    add(CompileError("ParameterNotBound", kStartNodeId, "Parameter not bound [" + name + "]."));
  return errors;
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// WorkflowNameFromID: the last of exactly three ':'-separated parts, else empty.
std::string WorkflowNameFromId(const std::string& id) {
  const auto first = id.find(':');
  if (first == std::string::npos) return "";
  const auto second = id.find(':', first + 1);
  if (second == std::string::npos || id.find(':', second + 1) != std::string::npos) return "";
  return id.substr(second + 1);
}

json Quantity(const std::string& q) { return q.empty() ? json("0") : json(q); }

}  // namespace

json Float32Json(float value) {
  // encoding/json writes a float32 with the fewest digits that read back as that float32
  // (0.9, not the 0.8999999761581421 its double is): the double of that text prints the same.
  // A whole number has no fraction there (1, not 1.0).
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 1e15f) {
    return json(static_cast<int64_t>(value));
  }
  char text[64];
  const auto end = std::to_chars(text, text + sizeof(text), value);
  return json(std::strtod(std::string(text, end.ptr).c_str(), nullptr));
}

std::optional<std::string> GoUnsupportedJsonValue(const json& doc) {
  if (doc.is_number_float()) {
    const double v = doc.get<double>();
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return std::nullopt;
  }
  if (doc.is_structured()) {
    for (const auto& item : doc) {
      if (auto found = GoUnsupportedJsonValue(item)) return found;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> GoTimeDuration(const google::protobuf::Duration& d) {
  // durationpb's CheckValid: within 10,000 years, nanos within a second, signs that agree.
  constexpr int64_t kMaxSeconds = 315576000000LL;
  if (d.seconds() < -kMaxSeconds || d.seconds() > kMaxSeconds) return std::nullopt;
  if (d.nanos() <= -1000000000 || d.nanos() >= 1000000000) return std::nullopt;
  if ((d.seconds() < 0 && d.nanos() > 0) || (d.seconds() > 0 && d.nanos() < 0)) return std::nullopt;
  // Then the nanoseconds must fit time.Duration's int64 (about 292 years).
  int64_t ns = 0;
  if (__builtin_mul_overflow(d.seconds(), int64_t{1000000000}, &ns) || __builtin_add_overflow(ns, int64_t{d.nanos()}, &ns)) {
    return std::nullopt;
  }
  return ns;
}

std::string GoDuration(int64_t seconds, int32_t nanos) {
  // time.Duration.String()
  __int128 total = static_cast<__int128>(seconds) * 1000000000 + nanos;
  if (total == 0) return "0s";
  const bool negative = total < 0;
  unsigned __int128 u = negative ? -total : total;
  std::string out;
  auto frac = [](unsigned __int128 v, int digits) {
    // v split into integer and fractional parts of `digits` digits, trailing zeros trimmed.
    unsigned __int128 div = 1;
    for (int i = 0; i < digits; ++i) div *= 10;
    std::string f;
    unsigned __int128 rem = v % div;
    for (int i = 0; i < digits; ++i) {
      div /= 10;
      f.push_back(static_cast<char>('0' + static_cast<int>(rem / div)));
      rem %= div;
    }
    while (!f.empty() && f.back() == '0') f.pop_back();
    return f;
  };
  auto num = [](unsigned __int128 v) {
    std::string s;
    do {
      s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
      v /= 10;
    } while (v > 0);
    return s;
  };
  if (u < 1000000000) {
    if (u < 1000) {
      out = num(u) + "ns";
    } else if (u < 1000000) {
      std::string f = frac(u, 3);
      out = num(u / 1000) + (f.empty() ? "" : "." + f) + "\xC2\xB5s";
    } else {
      std::string f = frac(u, 6);
      out = num(u / 1000000) + (f.empty() ? "" : "." + f) + "ms";
    }
  } else {
    std::string f = frac(u, 9);
    unsigned __int128 secs = u / 1000000000;
    out = num(secs % 60) + (f.empty() ? "" : "." + f) + "s";
    unsigned __int128 mins = secs / 60;
    if (mins > 0) {
      out = num(mins % 60) + "m" + out;
      unsigned __int128 hours = mins / 60;
      if (hours > 0) out = num(hours) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

std::string SanitizeLabelValue(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string out;
  bool in_run = false;
  for (unsigned char c : name) {
    if (c == '-' || std::isdigit(c) || (c >= 'a' && c <= 'z')) {
      out.push_back(static_cast<char>(c));
      in_run = false;
    } else if (!in_run) {
      out.push_back('-');
      in_run = true;
    }
  }
  if (out.size() > kDns1123LabelMaxLength) out.resize(kDns1123LabelMaxLength);
  const auto first = out.find_first_not_of('-');
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of('-') - first + 1);
}

uint32_t ShardKey(const std::string& label) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : label) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash % kShardKeyspaceSize;
}

plugin::StatusOr<json> BuildFlyteWorkflow(const core::CompiledWorkflowClosure& closure,
                                          const core::LiteralMap* inputs,
                                          const core::WorkflowExecutionIdentifier& execution_id,
                                          const std::string& namespace_) {
  const auto& wf = closure.primary().template_();
  if (inputs != nullptr) {
    if (auto e = ValidateInputs(wf.has_interface() ? &wf.interface() : nullptr, *inputs);
        !e.empty()) {
      return Collected(e);
    }
  } else if (wf.interface().inputs().variables_size() > 0) {
    return Collected({CompileError("ValueRequired", "root", "Value required [inputs].")});
  }

  google::protobuf::RepeatedPtrField<core::CompiledTask> tasks = closure.tasks();
  for (auto& t : tasks) {
    if (t.template_().has_interface())
      StripInterfaceTypeMetadata(*t.mutable_template_()->mutable_interface());
  }
  Builder builder{tasks, {}};
  auto primary = builder.BuildSpec(closure.primary());
  if (!primary) return Collected({builder.error});
  json sub_workflows = json::object();
  for (const auto& sub : closure.sub_workflows()) {
    auto spec = builder.BuildSpec(sub);
    if (!spec) return Collected({builder.error});
    sub_workflows[IdKey(sub.template_().id())] = std::move(*spec);
  }
  json task_specs = json::object();
  for (const auto& t : tasks) {
    const std::string key = IdKey(t.template_().id());
    if (task_specs.contains(key)) {
      return Collected({CompileError("ValueCollision", key, "Id is expected to be unique. " + key +
                                                                " already exists.")});
    }
    task_specs[key] = PbJson(t.template_());
  }

  const std::string& name = execution_id.name();
  json labels = {{"execution-id", name},
                 {"project", execution_id.project()},
                 {"domain", execution_id.domain()},
                 {"workflow-name", SanitizeLabelValue(WorkflowNameFromId((*primary)["id"]))},
                 {"shard-key", std::to_string(ShardKey(name))}};
  json metadata = {{"name", name}, {"namespace", namespace_}, {"labels", labels}};
  if (name.empty()) {
    // Without an execution name the server generates one from the workflow id.
    std::string wid;
    if (!wf.id().project().empty()) wid += wf.id().project() + "-";
    if (!wf.id().domain().empty()) wid += wf.id().domain() + "-";
    wid += wf.id().name();
    wid = wid.substr(0, std::min<size_t>(32, wid.size()));
    metadata.erase("name");
    metadata["generateName"] = wid + "-";
    metadata["labels"]["execution-id"] = wid;
    metadata["labels"]["project"] = wf.id().project();
    metadata["labels"]["domain"] = wf.id().domain();
    metadata["labels"]["shard-key"] = std::to_string(ShardKey(wid));
  }

  json node_defaults = json::object();
  if (wf.has_metadata_defaults() && wf.metadata_defaults().interruptible())
    node_defaults["interruptible"] = true;

  json zero_resources = {{"CPU", "0"}, {"Memory", "0"}, {"EphemeralStorage", "0"},
                         {"Storage", "0"}, {"GPU", "0"}};
  json out = {
      {"kind", "flyteworkflow"},
      {"apiVersion", "flyte.lyft.com/v1alpha1"},
      {"metadata", metadata},
      {"spec", std::move(*primary)},
      {"executionId", json::object()},
      {"tasks", std::move(task_specs)},
      {"node-defaults", node_defaults},
      {"securityContext", json::object()},
      {"status", {{"phase", 0}}},
      {"rawOutputDataConfig", json::object()},
      {"executionConfig",
       {{"TaskPluginImpls", nullptr},
        {"MaxParallelism", 0},
        {"RecoveryExecution", json::object()},
        {"TaskResources", {{"Requests", zero_resources}, {"Limits", zero_resources}}},
        {"Interruptible", nullptr},
        {"OverwriteCache", false},
        {"EnvironmentVariables", nullptr}}},
  };
  if (inputs != nullptr) out["inputs"] = PbJson(*inputs);
  if (!sub_workflows.empty()) out["subWorkflows"] = std::move(sub_workflows);
  return out;
}

plugin::Status PrepareFlyteWorkflow(const plugin::ExecutionData& data, json& workflow,
                                    const std::string* role_name_key) {
  const auto& params = data.parameters;
  workflow["executionId"] = GoJson(data.execution_id);
  workflow["acceptedAt"] = Rfc3339(params.accepted_at);
  auto& metadata = workflow["metadata"];
  auto& finalizers = metadata["finalizers"];
  if (!finalizers.is_array()) finalizers = json::array();
  if (std::find(finalizers.begin(), finalizers.end(), kFinalizer) == finalizers.end())
    finalizers.push_back(kFinalizer);

  json annotations = metadata.contains("annotations") ? metadata["annotations"] : json::object();
  const auto& security = params.execution_config.security_context();
  if (params.execution_config.has_security_context() && security.has_run_as()) {
    workflow["securityContext"] = GoJson(security);
    if (!security.run_as().iam_role().empty())
      annotations[role_name_key != nullptr ? *role_name_key : params.role_name_key] =
          security.run_as().iam_role();
    if (!security.run_as().k8s_service_account().empty())
      workflow["serviceAccountName"] = security.run_as().k8s_service_account();
  }
  json labels = metadata.contains("labels") ? metadata["labels"] : json::object();
  for (const auto& [k, v] : params.labels) labels[k] = v;
  for (const auto& [k, v] : params.annotations) annotations[k] = v;
  // encoding/json drops empty maps under omitempty.
  if (labels.empty()) metadata.erase("labels"); else metadata["labels"] = labels;
  if (annotations.empty()) metadata.erase("annotations"); else metadata["annotations"] = annotations;

  json meta = json::object();
  if (params.event_version != 0) meta["eventVersion"] = params.event_version;
  workflow["workflowMeta"] = meta;

  // addExecutionOverrides
  const auto& config = params.execution_config;
  json impls = json::object();
  for (const auto& o : params.task_plugin_overrides) {
    impls[o.task_type()] = {
        {"PluginIDs", o.plugin_id_size() == 0 ? json(nullptr)
                                              : json(std::vector<std::string>(
                                                    o.plugin_id().begin(), o.plugin_id().end()))},
        {"MissingPluginBehavior", static_cast<int>(o.missing_plugin_behavior())}};
  }
  auto resources = [](const plugin::TaskResourceSet& set) {
    return json{{"CPU", Quantity(set.cpu)},
                {"Memory", Quantity(set.memory)},
                {"EphemeralStorage", Quantity(set.ephemeral_storage)},
                {"Storage", "0"},
                {"GPU", Quantity(set.gpu)}};
  };
  json execution_config = {
      {"TaskPluginImpls", impls},
      {"MaxParallelism", static_cast<uint32_t>(config.max_parallelism())},
      {"RecoveryExecution",
       params.recovery_execution ? GoJson(*params.recovery_execution) : json::object()},
      {"TaskResources",
       {{"Requests", resources(params.task_resource_defaults)},
        {"Limits", resources(params.task_resource_limits)}}},
      {"Interruptible", config.has_interruptible() ? json(config.interruptible().value())
                                                   : json(nullptr)},
      {"OverwriteCache", config.overwrite_cache()},
      {"EnvironmentVariables", nullptr}};
  if (config.has_envs()) {
    json envs = json::object();
    for (const auto& kv : config.envs().values()) envs[kv.key()] = kv.value();
    execution_config["EnvironmentVariables"] = envs;
  }
  workflow["executionConfig"] = std::move(execution_config);
  workflow["rawOutputDataConfig"] = GoJson(params.raw_output_data_config);
  return plugin::Status::Ok();
}

void ApplyOffloading(const plugin::ExecutionData& data, const OffloadOptions& options,
                     json& workflow) {
  if (options.offload_closure) {
    if (!data.workflow_closure_reference.empty())
      workflow["workflowClosureReference"] = data.workflow_closure_reference;
    workflow["spec"] = nullptr;
    workflow.erase("subWorkflows");
    workflow["tasks"] = nullptr;
  }
  if (options.offload_inputs) {
    if (!data.offloaded_inputs_reference.empty())
      workflow["offloadedInputs"] = data.offloaded_inputs_reference;
    workflow.erase("inputs");
  }
  if (!options.console_url.empty()) workflow["consoleUrl"] = options.console_url;
}

}  // namespace flyte::plugins::executor
