// Task validation (upstream task_compiler.go): container command, image and resource quantities,
// and the pod spec of k8s-pod tasks.
#include "task_compiler.h"

#include <cctype>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "flyte/core/compiler/compiler.h"
#include "flyte/plugin/go_compat.h"

namespace flyte::core::compiler::internal {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// strconv.ParseInt(s, 10, 64) succeeds.
bool ParsesAsInt64(std::string_view s) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i == s.size()) return false;
  unsigned long long v = 0;
  const unsigned long long limit = neg ? 9223372036854775808ULL : 9223372036854775807ULL;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
    unsigned d = s[i] - '0';
    if (v > (limit - d) / 10) return false;
    v = v * 10 + d;
  }
  return true;
}

// Decimal SI, binary SI and exponent suffixes, as the Kubernetes quantity parser reads them.
bool InterpretSuffix(std::string_view s, int* base, long long* exponent, bool* binary) {
  static const std::pair<std::string_view, int> kDecimal[] = {
      {"", 0},  {"n", -9}, {"u", -6}, {"m", -3}, {"k", 3},
      {"M", 6}, {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  static const std::pair<std::string_view, int> kBinary[] = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                                             {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (const auto& [suffix, e] : kDecimal) {
    if (s == suffix) {
      *base = 10, *exponent = e, *binary = false;
      return true;
    }
  }
  for (const auto& [suffix, e] : kBinary) {
    if (s == suffix) {
      *base = 2, *exponent = e, *binary = true;
      return true;
    }
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    if (!ParsesAsInt64(s.substr(1))) return false;
    *base = 10;
    *exponent = static_cast<int32_t>(std::stoll(std::string(s.substr(1))));
    *binary = false;
    return true;
  }
  return false;
}

}  // namespace

// k8s.io/apimachinery resource.ParseQuantity succeeds.
bool IsValidQuantity(std::string_view str) {
  if (str.empty()) return false;
  if (str == "0") return true;
  size_t pos = 0;
  const size_t end = str.size();
  if (str[0] == '-' || str[0] == '+') ++pos;
  // Leading zeros; a value of only zeros (or only a sign) is zero.
  while (true) {
    if (pos >= end) return true;
    if (str[pos] != '0') break;
    ++pos;
  }
  std::string_view num;
  std::string_view denom;
  std::string_view value;
  std::string_view suffix;
  size_t i = pos;
  while (i < end && IsDigit(str[i])) ++i;
  if (i >= end) {
    num = str.substr(pos);
    value = str;
  } else {
    num = str.substr(pos, i - pos);
    pos = i;
    if (num.empty()) num = "0";
    bool done = false;
    if (str[pos] == '.') {
      ++pos;
      size_t j = pos;
      while (j < end && IsDigit(str[j])) ++j;
      denom = str.substr(pos, j - pos);
      if (j >= end) {
        value = str;
        done = true;
      } else {
        pos = j;
      }
    }
    if (!done) {
      value = str.substr(0, pos);
      size_t suffix_start = pos;
      size_t k = pos;
      while (k < end && std::string_view("eEinumkKMGTP").find(str[k]) != std::string_view::npos)
        ++k;
      if (k >= end) {
        suffix = str.substr(suffix_start);
      } else {
        pos = k;
        if (str[pos] == '-' || str[pos] == '+') ++pos;
        while (pos < end && IsDigit(str[pos])) ++pos;
        if (pos < end) return false;  // not a valid exponent
        suffix = str.substr(suffix_start);
      }
    }
  }
  int base = 0;
  long long exponent = 0;
  bool binary = false;
  if (!InterpretSuffix(suffix, &base, &exponent, &binary)) return false;

  // The fast integer path parses any digits; otherwise the value must hold at least one digit.
  long long precision = 0;
  long long scale = 0;
  if (!binary) {
    scale = exponent;
    precision = 18 - static_cast<long long>(num.size() + denom.size());
  } else if (exponent >= 0 && denom.empty()) {
    precision = 15 - static_cast<long long>(num.size()) -
                static_cast<long long>(static_cast<float>(exponent) * 3 / 10) - 1;
  } else {
    precision = -1;
  }
  if (precision >= 0) {
    scale -= static_cast<long long>(denom.size());
    if (scale >= -9) return true;
  }
  for (char c : value) {
    if (IsDigit(c)) return true;
  }
  return false;
}

namespace {

// Case-insensitive lookup, as encoding/json matches object keys to struct fields.
const Value* JsonField(const Struct& s, std::string_view name) { return plugin::GoJsonField(s, name); }

enum class Kind { kString, kBool, kInt, kObject, kStringList, kObjectList, kStringMap };

bool IsNull(const Value& v) {
  return v.kind_case() == Value::kNullValue || v.kind_case() == Value::KIND_NOT_SET;
}

bool MatchesKind(const Value& v, Kind kind) {
  if (IsNull(v)) return true;
  switch (kind) {
    case Kind::kString:
      return v.has_string_value();
    case Kind::kBool:
      return v.has_bool_value();
    case Kind::kInt:
      return v.has_number_value() &&
             v.number_value() == static_cast<double>(static_cast<long long>(v.number_value()));
    case Kind::kObject:
      return v.has_struct_value();
    case Kind::kStringList:
      if (!v.has_list_value()) return false;
      for (const auto& x : v.list_value().values()) {
        if (!IsNull(x) && !x.has_string_value()) return false;
      }
      return true;
    case Kind::kObjectList:
      if (!v.has_list_value()) return false;
      for (const auto& x : v.list_value().values()) {
        if (!IsNull(x) && !x.has_struct_value()) return false;
      }
      return true;
    case Kind::kStringMap:
      if (!v.has_struct_value()) return false;
      for (const auto& [k, x] : v.struct_value().fields()) {
        if (!IsNull(x) && !x.has_string_value()) return false;
      }
      return true;
  }
  return false;
}

struct FieldKind {
  const char* name;
  Kind kind;
};

constexpr FieldKind kContainerFields[] = {
    {"name", Kind::kString},
    {"image", Kind::kString},
    {"command", Kind::kStringList},
    {"args", Kind::kStringList},
    {"workingDir", Kind::kString},
    {"ports", Kind::kObjectList},
    {"envFrom", Kind::kObjectList},
    {"env", Kind::kObjectList},
    {"resources", Kind::kObject},
    {"resizePolicy", Kind::kObjectList},
    {"restartPolicy", Kind::kString},
    {"volumeMounts", Kind::kObjectList},
    {"volumeDevices", Kind::kObjectList},
    {"livenessProbe", Kind::kObject},
    {"readinessProbe", Kind::kObject},
    {"startupProbe", Kind::kObject},
    {"lifecycle", Kind::kObject},
    {"terminationMessagePath", Kind::kString},
    {"terminationMessagePolicy", Kind::kString},
    {"imagePullPolicy", Kind::kString},
    {"securityContext", Kind::kObject},
    {"stdin", Kind::kBool},
    {"stdinOnce", Kind::kBool},
    {"tty", Kind::kBool},
};

constexpr FieldKind kPodSpecFields[] = {
    {"volumes", Kind::kObjectList},
    {"restartPolicy", Kind::kString},
    {"terminationGracePeriodSeconds", Kind::kInt},
    {"activeDeadlineSeconds", Kind::kInt},
    {"dnsPolicy", Kind::kString},
    {"nodeSelector", Kind::kStringMap},
    {"serviceAccountName", Kind::kString},
    {"serviceAccount", Kind::kString},
    {"automountServiceAccountToken", Kind::kBool},
    {"nodeName", Kind::kString},
    {"hostNetwork", Kind::kBool},
    {"hostPID", Kind::kBool},
    {"hostIPC", Kind::kBool},
    {"shareProcessNamespace", Kind::kBool},
    {"securityContext", Kind::kObject},
    {"imagePullSecrets", Kind::kObjectList},
    {"hostname", Kind::kString},
    {"subdomain", Kind::kString},
    {"affinity", Kind::kObject},
    {"schedulerName", Kind::kString},
    {"tolerations", Kind::kObjectList},
    {"hostAliases", Kind::kObjectList},
    {"priorityClassName", Kind::kString},
    {"priority", Kind::kInt},
    {"dnsConfig", Kind::kObject},
    {"readinessGates", Kind::kObjectList},
    {"runtimeClassName", Kind::kString},
    {"enableServiceLinks", Kind::kBool},
    {"preemptionPolicy", Kind::kString},
    {"topologySpreadConstraints", Kind::kObjectList},
    {"setHostnameAsFQDN", Kind::kBool},
    {"os", Kind::kObject},
    {"hostUsers", Kind::kBool},
    {"schedulingGates", Kind::kObjectList},
    {"resourceClaims", Kind::kObjectList},
    {"resources", Kind::kObject},
};

bool FieldsMatch(const Struct& s, const FieldKind* fields, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const Value* v = JsonField(s, fields[i].name);
    if (v != nullptr && !MatchesKind(*v, fields[i].kind)) return false;
  }
  return true;
}

bool ContainersUnmarshal(const Value* list, std::vector<std::string>* names) {
  if (list == nullptr || IsNull(*list)) return true;
  if (!list->has_list_value()) return false;
  for (const auto& c : list->list_value().values()) {
    if (IsNull(c)) {
      if (names != nullptr) names->emplace_back();
      continue;
    }
    if (!c.has_struct_value()) return false;
    if (!FieldsMatch(c.struct_value(), kContainerFields, std::size(kContainerFields))) return false;
    if (names != nullptr) {
      const Value* name = JsonField(c.struct_value(), "name");
      names->push_back(name != nullptr && name->has_string_value() ? name->string_value() : "");
    }
  }
  return true;
}

// validation.IsDNS1123Label: at most 63 of [a-z0-9-], starting and ending alphanumeric.
bool IsDns1123Label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || IsDigit(c); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-') return false;
  }
  return true;
}

void ValidateResources(const flyteidl::core::Resources& resources, const CompileErrors& errs) {
  auto entries = [&](const auto& list, const CompileErrors& scope) {
    for (const auto& r : list) {
      if (!IsValidQuantity(r.value())) {
        std::string name = flyteidl::core::Resources_ResourceName_Name(r.name());
        if (name.empty()) name = std::to_string(static_cast<int>(r.name()));
        scope.NewScope().Collect(UnrecognizedValueError("resources." + name, r.value()));
      }
    }
  };
  entries(resources.requests(), errs.NewScope());
  entries(resources.limits(), errs.NewScope());
}

void ValidateContainerCommand(const flyteidl::core::TaskTemplate& task, const CompileErrors& errs) {
  if (!task.has_interface()) return;
  bool has_inputs = task.interface().inputs().variables_size() > 0;
  bool has_outputs = task.interface().outputs().variables_size() > 0;
  if (!has_inputs && !has_outputs) return;
  if (task.container().command_size() == 0 && task.container().args_size() == 0) {
    errs.Collect(ValueRequiredError("container", "command"));
  }
}

void ValidateContainer(const flyteidl::core::TaskTemplate& task, const CompileErrors& errs) {
  ValidateContainerCommand(task, errs);
  if (task.container().image().empty()) errs.Collect(ValueRequiredError("container", "image"));
  if (task.container().has_resources())
    ValidateResources(task.container().resources(), errs.NewScope());
}

void ValidateK8sPod(const flyteidl::core::TaskTemplate& task, const CompileErrors& errs) {
  const auto& pod = task.k8s_pod();
  std::vector<std::string> names;
  // The pod spec must decode as a Kubernetes PodSpec (checked here on the fields' JSON kinds).
  bool decodes = pod.has_pod_spec() &&
                 FieldsMatch(pod.pod_spec(), kPodSpecFields, std::size(kPodSpecFields)) &&
                 ContainersUnmarshal(JsonField(pod.pod_spec(), "containers"), &names) &&
                 ContainersUnmarshal(JsonField(pod.pod_spec(), "initContainers"), nullptr) &&
                 ContainersUnmarshal(JsonField(pod.pod_spec(), "ephemeralContainers"), nullptr);
  if (!decodes) {
    errs.Collect(InvalidValueError("root", "k8s pod spec"));
    return;
  }
  for (const auto& name : names) {
    if (!IsDns1123Label(name))
      errs.Collect(InvalidValueError("root", "k8s pod spec container name"));
  }
}

}  // namespace

void CompileTaskInternal(const flyteidl::core::TaskTemplate& task, const CompileErrors& errs) {
  if (!task.has_id()) errs.Collect(ValueRequiredError("root", "Id"));
  switch (task.target_case()) {
    case flyteidl::core::TaskTemplate::kContainer:
      ValidateContainer(task, errs.NewScope());
      break;
    case flyteidl::core::TaskTemplate::kK8SPod:
      ValidateK8sPod(task, errs.NewScope());
      break;
    default:
      break;
  }
}

}  // namespace flyte::core::compiler::internal
