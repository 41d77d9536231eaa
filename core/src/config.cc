// Config loading, merging, environment overrides and schema validation.
#include "flyte/core/config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "embedded_config.h"

namespace flyte::core {

using nlohmann::json;
using plugin::Status;
using plugin::StatusOr;

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

namespace {

json ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: always a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(s.c_str(), &end, 0);
    if (errno == 0 && end && *end == '\0' && (s[0] == '-' || s[0] == '+' || isdigit(s[0]))) {
      // Octal-looking "0755" stays a number in YAML 1.1; keep strings like "007" as numbers too.
      return v;
    }
  }
  {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && (isdigit(s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.') &&
        s.find_first_of("0123456789") != std::string::npos) {
      return v;
    }
  }
  return s;
}

json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) arr.push_back(NodeToJson(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = NodeToJson(kv.second);
      return obj;
    }
  }
  return nullptr;
}

// Every leaf key the schema knows, as dotted paths, for environment overrides.
void SchemaLeaves(const json& schema, const std::string& prefix, std::vector<std::string>& out) {
  if (!schema.is_object()) return;
  auto props = schema.find("properties");
  if (props == schema.end() || !props->is_object() || props->empty()) {
    if (!prefix.empty()) out.push_back(prefix);
    return;
  }
  for (auto& [key, sub] : props->items()) {
    SchemaLeaves(sub, prefix.empty() ? key : prefix + "." + key, out);
  }
}

std::string EnvName(const std::string& path) {
  std::string name;
  for (char c : path) name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return name;
}

void SetPath(json& root, const std::string& path, json value) {
  json* node = &root;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object()) *node = json::object();
    node = &(*node)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  *node = std::move(value);
}

const json& ParsedSchema() {
  static const json schema = json::parse(Config::EmbeddedSchema());
  return schema;
}

}  // namespace

StatusOr<Config> Config::Finish(json root, const EnvLookup& env) {
  std::vector<std::string> leaves;
  SchemaLeaves(ParsedSchema(), "", leaves);
  for (const auto& path : leaves) {
    auto value = env ? env(EnvName(path)) : std::nullopt;
    if (!value) continue;
    auto parsed = YamlToJson(*value);
    if (!parsed.ok()) {
      return plugin::InvalidArgument("environment variable " + EnvName(path) + ": " +
                                     parsed.status().message());
    }
    SetPath(root, path, std::move(parsed.value()));
  }
  Config c;
  c.root_ = std::move(root);
  return c;
}


StatusOr<json> YamlToJson(std::string_view text) {
  try {
    YAML::Node node = YAML::Load(std::string(text));
    return NodeToJson(node);
  } catch (const YAML::Exception& e) {
    return plugin::InvalidArgument(std::string("not valid YAML or JSON: ") + e.what());
  }
}

void MergeInto(json& base, const json& overlay) {
  if (overlay.is_object() && base.is_object()) {
    for (auto& [key, value] : overlay.items()) MergeInto(base[key], value);
    return;
  }
  if (overlay.is_null() && !base.is_null()) return;  // an empty YAML key keeps the default
  base = overlay;
}

namespace {

// The embedded base defaults, plus the standalone layer when no configuration was given.
StatusOr<json> BaseDocument(bool standalone) {
  auto defaults = YamlToJson(embedded::kDefaultsYaml);
  if (!defaults.ok()) return plugin::Internal("embedded defaults: " + defaults.status().message());
  if (standalone) {
    auto layer = YamlToJson(embedded::kStandaloneYaml);
    if (!layer.ok()) return plugin::Internal("embedded standalone defaults: " + layer.status().message());
    MergeInto(defaults.value(), layer.value());
  }
  return defaults;
}

}  // namespace

StatusOr<Config> Config::FromDocuments(const std::vector<std::string>& docs, const EnvLookup& env) {
  auto base = BaseDocument(docs.empty());
  if (!base.ok()) return base.status();
  json root = std::move(base.value());
  for (std::size_t i = 0; i < docs.size(); ++i) {
    auto doc = YamlToJson(docs[i]);
    if (!doc.ok()) return plugin::InvalidArgument("config document " + std::to_string(i + 1) + ": " + doc.status().message());
    if (!doc->is_null() && !doc->is_object()) {
      return plugin::InvalidArgument("config document " + std::to_string(i + 1) + ": top level must be a map");
    }
    MergeInto(root, *doc);
  }
  return Finish(std::move(root), env);
}

StatusOr<Config> Config::Load(const std::vector<std::string>& files, const EnvLookup& env) {
  auto base = BaseDocument(files.empty());
  if (!base.ok()) return base.status();
  json root = std::move(base.value());
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) return plugin::InvalidArgument("config file " + file + ": cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    auto doc = YamlToJson(ss.str());
    if (!doc.ok()) return plugin::InvalidArgument("config file " + file + ": " + doc.status().message());
    if (!doc->is_null() && !doc->is_object()) {
      return plugin::InvalidArgument("config file " + file + ": top level must be a map");
    }
    MergeInto(root, *doc);
  }
  return Finish(std::move(root), env);
}

const json* Config::Find(std::string_view path) const {
  const json* node = &root_;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    std::string key(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string_view::npos) return node;
    start = dot + 1;
  }
}

namespace {

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "list";
    case json::value_t::object: return "map";
    default: return "value";
  }
}

bool HasType(const std::string& type, const json& v) {
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  if (type == "null") return v.is_null();
  return false;
}

std::string SchemaTypeName(const std::string& type) {
  if (type == "array") return "list";
  if (type == "object") return "map";
  return type;
}

std::string Join(const std::vector<std::string>& parts, const std::string& last_sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += (i + 1 == parts.size()) ? last_sep : ", ";
    out += parts[i];
  }
  return out;
}

// Checks `value` against the subset of JSON Schema the config schemas use (type, enum, minimum,
// maximum, minLength, required, properties, additionalProperties, items), collecting every
// problem rather than stopping at the first. A null value counts as absent, as readers do.
void Check(const json& value, const json& schema, const std::string& path,
           std::vector<ConfigProblem>& out) {
  if (value.is_null() || !schema.is_object()) return;
  if (auto t = schema.find("type"); t != schema.end()) {
    std::vector<std::string> types;
    if (t->is_string()) types.push_back(t->get<std::string>());
    if (t->is_array()) {
      for (const auto& item : *t) types.push_back(item.get<std::string>());
    }
    bool matches = std::any_of(types.begin(), types.end(),
                               [&](const std::string& type) { return HasType(type, value); });
    if (!matches) {
      std::vector<std::string> names;
      for (const auto& type : types) names.push_back(SchemaTypeName(type));
      out.push_back({path, "expected " + Join(names, " or ") + ", got " + TypeName(value), false});
      return;
    }
  }
  if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
    if (std::find(e->begin(), e->end(), value) == e->end()) {
      std::vector<std::string> names;
      for (const auto& item : *e) names.push_back(item.dump());
      out.push_back({path, "expected one of " + Join(names, ", ") + ", got " + value.dump(), false});
      return;
    }
  }
  if (value.is_number()) {
    if (auto m = schema.find("minimum"); m != schema.end() && value.get<double>() < m->get<double>()) {
      out.push_back({path, "must be at least " + m->dump() + ", got " + value.dump(), false});
    }
    if (auto m = schema.find("maximum"); m != schema.end() && value.get<double>() > m->get<double>()) {
      out.push_back({path, "must be at most " + m->dump() + ", got " + value.dump(), false});
    }
  }
  if (value.is_string()) {
    if (auto m = schema.find("minLength");
        m != schema.end() && value.get<std::string>().size() < m->get<std::size_t>()) {
      out.push_back({path, "must be at least " + m->dump() + " characters long", false});
    }
  }
  auto sub_path = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (value.is_object()) {
    if (auto r = schema.find("required"); r != schema.end() && r->is_array()) {
      for (const auto& key : *r) {
        if (!value.contains(key.get<std::string>()) || value[key.get<std::string>()].is_null()) {
          out.push_back({sub_path(key.get<std::string>()), "required key missing", false});
        }
      }
    }
    auto props = schema.find("properties");
    auto additional = schema.find("additionalProperties");
    for (const auto& [key, sub] : value.items()) {
      if (props != schema.end() && props->contains(key)) {
        Check(sub, (*props)[key], sub_path(key), out);
      } else if (additional != schema.end() && additional->is_boolean() && !additional->get<bool>()) {
        out.push_back({sub_path(key), "unknown key (ignored)", true});
      } else if (additional != schema.end() && additional->is_object()) {
        Check(sub, *additional, sub_path(key), out);
      }
    }
  }
  if (value.is_array()) {
    if (auto items = schema.find("items"); items != schema.end()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        Check(value[i], *items, path + "[" + std::to_string(i) + "]", out);
      }
    }
  }
}

// The plugin a pluginHost.load entry names: `name`, else the file name of `path` without
// its lib prefix and .so suffix.
std::string PluginNameOf(const json& entry) {
  if (!entry.is_object()) return "";
  if (auto n = entry.find("name"); n != entry.end() && n->is_string() && !n->get<std::string>().empty()) {
    return n->get<std::string>();
  }
  auto p = entry.find("path");
  if (p == entry.end() || !p->is_string()) return "";
  std::string file = p->get<std::string>();
  if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
  if (file.rfind("lib", 0) == 0) file = file.substr(3);
  if (auto dot = file.find(".so"); dot != std::string::npos) file = file.substr(0, dot);
  return file;
}

}  // namespace

std::vector<ConfigProblem> Config::Validate() const {
  std::vector<ConfigProblem> problems;
  Check(root_, ParsedSchema(), "", problems);
  // Each plugin section against the schema its plugin publishes under schemas/plugins/.
  const json* load = Find("pluginHost.load");
  if (load && load->is_array()) {
    for (std::size_t i = 0; i < load->size(); ++i) {
      const json& entry = (*load)[i];
      if (!entry.is_object() || !entry.contains("config")) continue;
      for (const auto& [name, text] : EmbeddedPluginSchemas()) {
        if (name != PluginNameOf(entry)) continue;
        json schema = json::parse(text);
        std::vector<ConfigProblem> found;
        Check(entry["config"], schema, "pluginHost.load[" + std::to_string(i) + "].config", found);
        // A plugin that refuses unknown keys at start-up says so in its schema.
        bool refuses_unknown = schema.value("x-flyte-unknown-keys", std::string()) == "refused";
        for (auto& p : found) {
          if (p.unknown_key && refuses_unknown) p = {p.path, "unknown key (the plugin refuses it)", false};
          problems.push_back(std::move(p));
        }
      }
    }
  }
  return problems;
}

const std::vector<std::pair<std::string, std::string>>& Config::EmbeddedPluginSchemas() {
  static const std::vector<std::pair<std::string, std::string>> schemas{
      {"flyte_dataproxy_local", embedded::kDataproxyLocalSchemaJson},
      {"flyte_executor_local", embedded::kExecutorLocalSchemaJson},
      {"flyte_executor_k8s", embedded::kExecutorK8sSchemaJson}};
  return schemas;
}

const std::string& Config::EmbeddedStandalone() {
  static const std::string text(embedded::kStandaloneYaml);
  return text;
}

const std::string& Config::EmbeddedDefaults() {
  static const std::string text(embedded::kDefaultsYaml);
  return text;
}

const std::string& Config::EmbeddedSchema() {
  static const std::string text(embedded::kSchemaJson);
  return text;
}

}  // namespace flyte::core
