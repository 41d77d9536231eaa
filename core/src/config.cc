// Config loading, merging, environment overrides and schema validation.
#include "flyte/core/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
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

namespace {

void FindUnknown(const json& value, const json& schema, const std::string& path,
                 std::vector<ConfigProblem>& out) {
  if (!value.is_object() && !value.is_array()) return;
  if (value.is_array()) {
    auto items = schema.find("items");
    if (items == schema.end()) return;
    for (std::size_t i = 0; i < value.size(); ++i) {
      FindUnknown(value[i], *items, path + "[" + std::to_string(i) + "]", out);
    }
    return;
  }
  auto props = schema.find("properties");
  auto additional = schema.find("additionalProperties");
  bool closed = additional != schema.end() && additional->is_boolean() && !additional->get<bool>();
  for (auto& [key, sub] : value.items()) {
    std::string sub_path = path.empty() ? key : path + "." + key;
    if (props != schema.end() && props->contains(key)) {
      FindUnknown(sub, (*props)[key], sub_path, out);
    } else if (closed) {
      out.push_back({sub_path, "unknown key", true});
    }
  }
}

}  // namespace

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

std::vector<ConfigProblem> Config::Validate() const {
  std::vector<ConfigProblem> problems;
  FindUnknown(root_, ParsedSchema(), "", problems);

  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(ParsedSchema());
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(root_);
  if (!validator.validate(schema, target, &results)) {
    valijson::ValidationResults::Error error;
    while (results.popError(error)) {
      if (error.description.find("additional") != std::string::npos) continue;  // reported above
      std::string path;
      for (const auto& part : error.context) {
        if (part == "<root>") continue;
        std::string p = part;
        if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
        bool index = !p.empty() && std::all_of(p.begin(), p.end(), ::isdigit);
        if (index) {
          path += "[" + p + "]";
        } else {
          path += (path.empty() ? "" : ".") + p;
        }
      }
      // valijson reports a failing leaf and then every enclosing object; keep the leaf.
      bool covered = false;
      for (const auto& existing : problems) {
        if (existing.path.rfind(path, 0) == 0 && !existing.unknown_key) covered = true;
      }
      if (!covered) problems.push_back({path, error.description, false});
    }
  }
  return problems;
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
