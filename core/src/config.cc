// Config loading, merging, environment overrides and schema validation.
#include "flyte/core/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <yaml-cpp/yaml.h>

#include "embedded_config.h"
#include "flyte/plugin/go_compat.h"

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

// Every leaf key the schema knows, as dotted paths with their schemas, for environment
// overrides.
void SchemaLeaves(const json& schema, const std::string& prefix,
                  std::vector<std::pair<std::string, const json*>>& out) {
  if (!schema.is_object()) return;
  auto props = schema.find("properties");
  if (props == schema.end() || !props->is_object() || props->empty()) {
    if (!prefix.empty()) out.emplace_back(prefix, &schema);
    return;
  }
  for (auto& [key, sub] : props->items()) {
    SchemaLeaves(sub, prefix.empty() ? key : prefix + "." + key, out);
  }
}

// The types a schema allows ("type" as one name or a list); empty when it names none.
std::vector<std::string> SchemaTypes(const json& schema) {
  std::vector<std::string> types;
  auto t = schema.find("type");
  if (t == schema.end()) return types;
  if (t->is_string()) types.push_back(t->get<std::string>());
  if (t->is_array()) {
    for (const auto& item : *t) {
      if (item.is_string()) types.push_back(item.get<std::string>());
    }
  }
  return types;
}

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

bool IsOfType(const json& v, const std::string& type) {
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return false;
}

// `v` as a value of `type` by mapstructure's weak conversions, or nullopt when it has none.
// "a,b" as [a, b], as mapstructure's string-to-slice hook and pflag's string slices split it;
// "" as no items.
std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; !text.empty() && start <= text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The value at the dotted `path` of `root`, or nullptr.
const json* FindPath(const json& root, std::string_view path) {
  const json* node = &root;
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

std::optional<json> Converted(const json& v, const std::string& type) {
  if (type == "integer") {
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s.empty()) return json(0);
      if (auto i = plugin::GoParseInt(s)) return json(*i);
    } else if (v.is_boolean()) {
      return json(v.get<bool>() ? 1 : 0);
    } else if (v.is_number_float()) {
      // Go truncates; a fraction is refused here rather than dropped from a port or a size.
      const double d = v.get<double>();
      if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18) return json(static_cast<int64_t>(d));
    }
  } else if (type == "number") {
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s.empty()) return json(0.0);
      if (auto d = plugin::GoParseFloat(s)) return json(*d);
    } else if (v.is_boolean()) {
      return json(v.get<bool>() ? 1.0 : 0.0);
    }
  } else if (type == "boolean") {
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s.empty()) return json(false);
      if (auto b = plugin::GoParseBool(s)) return json(*b);
      // YAML 1.1's other booleans, which upstream's YAML reader (yaml.v2, under viper) reads as
      // such: `allowCors: yes`, `serverReflection: off`. Only for boolean keys here; a string key
      // keeps the word.
      static const std::set<std::string> kYes = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
      static const std::set<std::string> kNo = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
      if (kYes.count(s) != 0) return json(true);
      if (kNo.count(s) != 0) return json(false);
    } else if (v.is_number()) {
      return json(v.get<double>() != 0);
    }
  } else if (type == "string") {
    if (v.is_boolean()) return json(v.get<bool>() ? "1" : "0");
    if (v.is_number_unsigned()) return json(std::to_string(v.get<uint64_t>()));
    if (v.is_number_integer()) return json(std::to_string(v.get<int64_t>()));
    if (v.is_number_float()) {
      // strconv.FormatFloat(f, 'f', -1, 64): the shortest digits that read back, never an exponent.
      char buf[400];
      auto res = std::to_chars(buf, buf + sizeof(buf), v.get<double>(), std::chars_format::fixed);
      if (res.ec == std::errc()) return json(std::string(buf, res.ptr));
    }
  } else if (type == "array") {
    // mapstructure's string-to-slice hook splits on ","; any other value becomes a list of one.
    if (v.is_string()) return json(SplitCommas(v.get<std::string>()));
    if (v.is_object() && v.empty()) return json::array();
    return json::array({v});
  } else if (type == "object") {
    // flytestdlib's slice-to-map hook: a list of maps is their union (later keys win).
    if (!v.is_array()) return std::nullopt;
    json merged = json::object();
    for (const auto& item : v) {
      if (!item.is_object()) return std::nullopt;
      for (const auto& [key, value] : item.items()) merged[key] = value;
    }
    return merged;
  }
  return std::nullopt;
}

// Upstream decodes its configuration weakly typed (flytestdlib: mapstructure's WeaklyTypedInput
// with the string-to-slice and slice-to-map hooks), so "8088" is a port, "true" a flag and 7 a
// label's value. This applies the same conversions where `schema` names a type `v` is not of,
// before anything reads or checks a value; one that does not convert stays as written, and
// Validate reports it.
void Coerce(json& v, const json& schema) {
  if (v.is_null() || !schema.is_object()) return;
  const auto types = SchemaTypes(schema);
  if (!types.empty() && std::none_of(types.begin(), types.end(), [&](const auto& t) { return IsOfType(v, t); })) {
    for (const auto& t : types) {
      if (auto c = Converted(v, t)) {
        v = std::move(*c);
        break;
      }
    }
  }
  if (v.is_object()) {
    auto props = schema.find("properties");
    auto extra = schema.find("additionalProperties");
    for (auto& [key, value] : v.items()) {
      if (props != schema.end() && props->is_object() && props->contains(key)) {
        Coerce(value, (*props)[key]);
      } else if (extra != schema.end() && extra->is_object()) {
        Coerce(value, *extra);
      }
    }
  } else if (v.is_array()) {
    auto items = schema.find("items");
    if (items != schema.end() && items->is_object()) {
      for (auto& item : v) Coerce(item, *items);
    }
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

std::string PluginNameOf(const json& entry);

const json& ParsedSchema() {
  static const json schema = json::parse(Config::EmbeddedSchema());
  return schema;
}

// The schema published by the plugin a pluginHost.load entry names (parsed once), or nullptr.
const json* PluginSchemaOf(const json& entry) {
  static const std::vector<std::pair<std::string, json>> parsed = [] {
    std::vector<std::pair<std::string, json>> out;
    for (const auto& [name, text] : Config::EmbeddedPluginSchemas()) out.emplace_back(name, json::parse(text));
    return out;
  }();
  const std::string name = PluginNameOf(entry);
  for (const auto& [plugin, schema] : parsed) {
    if (plugin == name) return &schema;
  }
  return nullptr;
}

// The value an environment variable or a flag gives the key `schema` describes: a string key
// takes the text as it is ("0755", "12345", "true" stay as set), as upstream's environment
// binding and string flags do; other keys read it as YAML.
StatusOr<json> OverrideValue(const json& schema, const std::string& text) {
  if (SchemaTypes(schema) == std::vector<std::string>{"string"}) return json(text);
  return YamlToJson(text);
}

bool IsStringList(const json& schema) {
  if (SchemaTypes(schema) != std::vector<std::string>{"array"}) return false;
  auto items = schema.find("items");
  return items != schema.end() && SchemaTypes(*items) == std::vector<std::string>{"string"};
}

bool SameKeyIgnoringCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

using Leaves = std::vector<std::pair<std::string, const json*>>;

// What a flag's dotted name sets: the key's path as the schema spells it, and the key's schema.
// A name inside a key that takes any members keeps the spelling of its remaining segments: in a
// map (`flyteadmin.labels.team`) the schema is that of the map's values; in an upstream section
// accepted whole (`auth.appAuth.authServerType`) it is nullptr, the type being unknown. nullopt
// when the name is no key.
std::optional<std::pair<std::string, const json*>> FlagKey(const Leaves& leaves, const std::string& name) {
  for (const auto& [leaf, schema] : leaves) {
    if (SameKeyIgnoringCase(leaf, name)) return std::make_pair(leaf, schema);
  }
  for (const auto& [leaf, schema] : leaves) {
    if (name.size() > leaf.size() + 1 && name[leaf.size()] == '.' &&
        SameKeyIgnoringCase(leaf, name.substr(0, leaf.size())) &&
        SchemaTypes(*schema) == std::vector<std::string>{"object"}) {
      const json* members = nullptr;
      if (auto extra = schema->find("additionalProperties"); extra != schema->end() && extra->is_object()) {
        members = &*extra;
      }
      return std::make_pair(leaf + name.substr(leaf.size()), members);
    }
  }
  return std::nullopt;
}

bool AllowsType(const json& schema, const std::string& type) {
  const auto types = SchemaTypes(schema);
  return std::find(types.begin(), types.end(), type) != types.end();
}

}  // namespace

StatusOr<std::vector<ConfigFlag>> ExtractConfigFlags(std::vector<std::string>& args) {
  Leaves leaves;
  SchemaLeaves(ParsedSchema(), "", leaves);
  std::vector<ConfigFlag> flags;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      break;
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (name.size() <= 2 || name.compare(0, 2, "--") != 0 || name.find('.') == std::string::npos) {
      rest.push_back(arg);
      continue;
    }
    auto key = FlagKey(leaves, name.substr(2));
    if (!key) return plugin::InvalidArgument("unknown flag: " + name);
    ConfigFlag flag{key->first, ""};
    if (eq != std::string::npos) {
      flag.value = arg.substr(eq + 1);
    } else if (!key->second) {
      // Inside a key the schema leaves open its type is unknown: a bare boolean and a flag
      // followed by its value cannot be told apart.
      return plugin::InvalidArgument("flag " + name +
                                     ": a key this build does not describe takes its value after '=' (" + name +
                                     "=VALUE)");
    } else if (SchemaTypes(*key->second) == std::vector<std::string>{"boolean"}) {
      // pflag's bare boolean. The word after it is no value of it: pflag would take
      // `--x false` as `--x` and a positional `false`, the opposite of what was meant.
      if (i + 1 < args.size() && (SameKeyIgnoringCase(args[i + 1], "true") || SameKeyIgnoringCase(args[i + 1], "false"))) {
        return plugin::InvalidArgument("flag " + name + " is a boolean: a bare " + name + " means true; write " +
                                       name + "=" + args[i + 1] + " to give it a value");
      }
      flag.value = "true";
    } else if (i + 1 < args.size()) {
      flag.value = args[++i];  // pflag takes the next argument, whatever it looks like
    } else {
      return plugin::InvalidArgument("flag needs an argument: " + name);
    }
    flags.push_back(std::move(flag));
  }
  args = std::move(rest);
  return flags;
}

StatusOr<Config> Config::Finish(json root, const EnvLookup& env, const std::vector<ConfigFlag>& flags) {
  std::vector<std::pair<std::string, const json*>> leaves;
  SchemaLeaves(ParsedSchema(), "", leaves);
  for (const auto& [path, schema] : leaves) {
    auto value = env ? env(EnvName(path)) : std::nullopt;
    // An empty variable is unset, as viper (without AllowEmptyEnv) reads it.
    if (!value || value->empty()) continue;
    auto parsed = OverrideValue(*schema, *value);
    if (!parsed.ok()) {
      return plugin::InvalidArgument("environment variable " + EnvName(path) + ": " +
                                     parsed.status().message());
    }
    SetPath(root, path, std::move(parsed.value()));
  }
  // Flags last, as viper ranks a set flag above everything else. A list key's flag is a
  // comma-separated list, and repeating it adds to the list (pflag's string slices).
  std::set<std::string> listed;
  for (const auto& flag : flags) {
    auto key = FlagKey(leaves, flag.path);
    if (!key) return plugin::InvalidArgument("unknown flag: --" + flag.path);
    const json* schema = key->second;
    if (schema && IsStringList(*schema)) {
      json items = json::array();
      if (listed.count(flag.path)) {
        if (const json* before = FindPath(root, flag.path); before && before->is_array()) items = *before;
      }
      listed.insert(flag.path);
      for (auto& item : SplitCommas(flag.value)) items.push_back(std::move(item));
      SetPath(root, flag.path, std::move(items));
      continue;
    }
    auto parsed = schema ? OverrideValue(*schema, flag.value) : YamlToJson(flag.value);
    if (!parsed.ok()) return plugin::InvalidArgument("flag --" + flag.path + ": " + parsed.status().message());
    // pflag refuses an empty value for a number or a boolean; YAML would read it as null, which
    // leaves the key unset.
    if (schema && parsed->is_null() && !AllowsType(*schema, "null")) {
      return plugin::InvalidArgument("invalid argument \"" + flag.value + "\" for \"--" + flag.path +
                                     "\" flag: no value");
    }
    SetPath(root, flag.path, std::move(parsed.value()));
  }
  Coerce(root, ParsedSchema());
  // A flag's value that does not convert to its key's type is refused here, naming the flag
  // (as pflag does), not only reported later by Validate with the key as a file's would be.
  for (const auto& flag : flags) {
    auto key = FlagKey(leaves, flag.path);
    const json* value = FindPath(root, key->first);
    if (!key->second || !value || SchemaTypes(*key->second).empty()) continue;
    const auto types = SchemaTypes(*key->second);
    if (std::none_of(types.begin(), types.end(), [&](const auto& t) { return IsOfType(*value, t); })) {
      return plugin::InvalidArgument("invalid argument \"" + flag.value + "\" for \"--" + flag.path +
                                     "\" flag: expected " + types.front() + ", got " + TypeName(*value));
    }
  }
  // Each plugin's section by the schema its plugin publishes.
  auto host = root.find("pluginHost");
  if (host != root.end() && host->is_object()) {
    auto load = host->find("load");
    if (load != host->end() && load->is_array()) {
      for (auto& entry : *load) {
        if (!entry.is_object() || !entry.contains("config")) continue;
        if (const json* schema = PluginSchemaOf(entry)) Coerce(entry["config"], *schema);
      }
    }
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

// Keys spelled as the schema declares them, whatever their case: viper matches config keys
// ignoring case (`Logger:`, `server.HttpPort`). A key the schema does not declare stays as it is
// (and is reported as unknown); the keys of maps (labels, ...) and of plugins' own sections keep
// their spelling.
void NormalizeKeyCase(json& doc, const json& schema) {
  if (doc.is_array()) {
    if (auto items = schema.find("items"); items != schema.end() && items->is_object()) {
      for (auto& item : doc) NormalizeKeyCase(item, *items);
    }
    return;
  }
  if (!doc.is_object()) return;
  auto props = schema.find("properties");
  if (props != schema.end() && props->is_object()) {
    auto lower = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    std::vector<std::pair<std::string, std::string>> renames;
    for (const auto& [key, unused] : doc.items()) {
      if (props->contains(key)) continue;
      for (const auto& [declared, unused2] : props->items()) {
        if (lower(declared) == lower(key)) {
          renames.emplace_back(key, declared);
          break;
        }
      }
    }
    for (const auto& [from, to] : renames) {
      json value = std::move(doc[from]);
      doc.erase(from);
      MergeInto(doc[to], value);
    }
  }
  for (auto& [key, value] : doc.items()) {
    if (props != schema.end() && props->is_object()) {
      if (auto sub = props->find(key); sub != props->end()) {
        NormalizeKeyCase(value, *sub);
        continue;
      }
    }
    if (auto additional = schema.find("additionalProperties"); additional != schema.end() && additional->is_object()) {
      NormalizeKeyCase(value, *additional);
    }
  }
}

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

StatusOr<Config> Config::FromDocuments(const std::vector<std::string>& docs, const EnvLookup& env,
                                        const std::vector<ConfigFlag>& flags) {
  auto base = BaseDocument(docs.empty());
  if (!base.ok()) return base.status();
  json root = std::move(base.value());
  for (std::size_t i = 0; i < docs.size(); ++i) {
    auto doc = YamlToJson(docs[i]);
    if (!doc.ok()) return plugin::InvalidArgument("config document " + std::to_string(i + 1) + ": " + doc.status().message());
    if (!doc->is_null() && !doc->is_object()) {
      return plugin::InvalidArgument("config document " + std::to_string(i + 1) + ": top level must be a map");
    }
    NormalizeKeyCase(*doc, ParsedSchema());
    MergeInto(root, *doc);
  }
  return Finish(std::move(root), env, flags);
}

StatusOr<Config> Config::Load(const std::vector<std::string>& files, const EnvLookup& env,
                               const std::vector<ConfigFlag>& flags) {
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
    NormalizeKeyCase(*doc, ParsedSchema());
    MergeInto(root, *doc);
  }
  return Finish(std::move(root), env, flags);
}

const json* Config::Find(std::string_view path) const { return FindPath(root_, path); }

namespace {


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

const json& NoSchema() {
  static const json empty = json::object();
  return empty;
}

// The schema a map's member `key` is checked against: its property, else the
// additionalProperties schema; nullptr when the schema says nothing about the key.
const json* MemberSchema(const json& schema, const std::string& key) {
  if (!schema.is_object()) return nullptr;
  auto props = schema.find("properties");
  if (props != schema.end() && props->is_object() && props->contains(key)) return &(*props)[key];
  auto additional = schema.find("additionalProperties");
  if (additional != schema.end() && additional->is_object()) return &*additional;
  return nullptr;
}

const json& ItemSchema(const json& schema) {
  if (!schema.is_object()) return NoSchema();
  auto items = schema.find("items");
  return items != schema.end() && items->is_object() ? *items : NoSchema();
}

// A copy without the null members the schema knows: readers treat an empty YAML key as absent,
// so the schema must too (a required key given as `key:` is missing, not of the wrong type).
// A null member the schema does not know stays, so it is still reported as an unknown key.
json WithoutNulls(const json& value, const json& schema) {
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, sub] : value.items()) {
      const json* sub_schema = MemberSchema(schema, key);
      if (sub.is_null() && sub_schema) continue;
      out[key] = WithoutNulls(sub, sub_schema ? *sub_schema : NoSchema());
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) out.push_back(WithoutNulls(item, ItemSchema(schema)));
    return out;
  }
  return value;
}

// One step of a key path: a map key or a list index. Steps order as the document lists them
// (nlohmann keeps map keys sorted), so problems come out in document order.
struct Step {
  bool is_index = false;
  std::size_t index = 0;
  std::string key;
  bool operator<(const Step& o) const { return is_index && o.is_index ? index < o.index : key < o.key; }
  bool operator==(const Step& o) const { return is_index == o.is_index && index == o.index && key == o.key; }
  bool operator!=(const Step& o) const { return !(*this == o); }
};

// A problem with where it sorts: the steps of the value it concerns, then what kind it is
// (type, enum, range and length before the required keys an object lacks).
struct Located {
  std::vector<Step> at;
  int rank = 0;
  std::size_t order = 0;
  ConfigProblem problem;
};

enum Rank { kKey = 0, kType, kEnum, kRange, kLength, kRequired, kOther };

// valijson's error context (`<root>`, `[server]`, `[grpc]`, `[port]`; list items as `[0]`)
// resolved against the validated document and its schema: the steps, dotted key path, value
// and schema node there.
struct Resolved {
  std::vector<Step> at;
  std::string path;
  const json* value = nullptr;
  const json* schema = nullptr;
};

std::string SubPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

Resolved Resolve(const std::vector<std::string>& context, const json& doc, const json& schema,
                 const std::string& prefix) {
  Resolved r{{}, prefix, &doc, &schema};
  for (std::size_t i = 1; i < context.size(); ++i) {  // context[0] is "<root>"
    std::string name = context[i];
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
      name = name.substr(1, name.size() - 2);
    }
    const json* value = r.value;
    if (value && value->is_array()) {
      std::size_t index = std::stoul(name);
      r.at.push_back({true, index, ""});
      r.path += "[" + name + "]";
      r.value = index < value->size() ? &(*value)[index] : nullptr;
      r.schema = &ItemSchema(*r.schema);
      continue;
    }
    r.at.push_back({false, 0, name});
    r.path = SubPath(r.path, name);
    r.value = nullptr;
    if (value && value->is_object()) {
      if (auto it = value->find(name); it != value->end()) r.value = &*it;
    }
    const json* sub_schema = MemberSchema(*r.schema, name);
    r.schema = sub_schema ? sub_schema : &NoSchema();
  }
  return r;
}

bool StartsWith(const std::string& text, std::string_view prefix) {
  return text.rfind(prefix, 0) == 0;
}

// The keys of the map at `r` that its schema does not declare (valijson names only the first).
std::vector<std::string> UndeclaredKeys(const Resolved& r) {
  std::vector<std::string> keys;
  if (!r.value || !r.value->is_object()) return keys;
  const json& node = *r.schema;
  auto props = node.find("properties");
  auto patterns = node.find("patternProperties");
  for (const auto& [key, sub] : r.value->items()) {
    bool declared = props != node.end() && props->is_object() && props->contains(key);
    if (!declared && patterns != node.end() && patterns->is_object()) {
      for (const auto& [pattern, unused] : patterns->items()) {
        if (std::regex_search(key, std::regex(pattern))) declared = true;
      }
    }
    if (!declared) keys.push_back(key);
  }
  return keys;
}

// Turns one valijson error into the problems it stands for, phrased from the failing
// constraint, the value at the error's path and the schema node there. Errors that only say
// an enclosing map or list failed because of a member are dropped: the member's error says it.
void Phrase(const valijson::ValidationResults::Error& error, const json& doc, const json& schema,
            const std::string& prefix, std::vector<Located>& out) {
  static constexpr std::string_view kMissing = "Missing required property '";
  const std::string& d = error.description;
  if (StartsWith(d, "Failed to validate against schema associated with property name") ||
      StartsWith(d, "Failed to validate against additional properties schema") ||
      StartsWith(d, "Failed to validate item #")) {
    return;
  }
  Resolved r = Resolve(error.context, doc, schema, prefix);
  if (r.value && r.value->is_null()) return;  // a null list item counts as absent, as readers do
  const json& node = *r.schema;
  auto add = [&](Rank rank, std::string message) {
    out.push_back({r.at, rank, 0, {r.path, std::move(message), false}});
  };
  if (StartsWith(d, "Object contains a property that could not be validated")) {
    for (const auto& key : UndeclaredKeys(r)) {
      std::vector<Step> at = r.at;
      at.push_back({false, 0, key});
      out.push_back({std::move(at), kKey, 0, {SubPath(r.path, key), "unknown key (ignored)", true}});
    }
  } else if (StartsWith(d, kMissing)) {
    std::string key = d.substr(kMissing.size(), d.rfind('\'') - kMissing.size());
    std::size_t order = 0;
    if (auto req = node.find("required"); req != node.end() && req->is_array()) {
      order = std::find(req->begin(), req->end(), key) - req->begin();
    }
    out.push_back({r.at, kRequired, order, {SubPath(r.path, key), "required key missing", false}});
  } else if (!r.value) {
    add(kOther, d);
  } else if (StartsWith(d, "Value type not permitted") && node.contains("type")) {
    std::vector<std::string> names;
    const json& t = node["type"];
    if (t.is_string()) names.push_back(SchemaTypeName(t.get<std::string>()));
    if (t.is_array()) {
      for (const auto& item : t) names.push_back(SchemaTypeName(item.get<std::string>()));
    }
    add(kType, "expected " + Join(names, " or ") + ", got " + TypeName(*r.value));
  } else if (StartsWith(d, "Failed to match against any enum values") && node.contains("enum")) {
    std::vector<std::string> names;
    for (const auto& item : node["enum"]) names.push_back(item.dump());
    add(kEnum, "expected one of " + Join(names, ", ") + ", got " + r.value->dump());
  } else if (StartsWith(d, "Failed to match regex") && node.contains("pattern")) {
    // A schema names what its pattern stands for in "x-expected" (a quantity, a duration).
    const std::string expected = node.value("x-expected", "a value matching " + node["pattern"].get<std::string>());
    add(kEnum, "expected " + expected + ", got " + r.value->dump());
  } else if (StartsWith(d, "Expected number greater than or equal to") && node.contains("minimum")) {
    add(kRange, "must be at least " + node["minimum"].dump() + ", got " + r.value->dump());
  } else if (StartsWith(d, "Expected number less than or equal to") && node.contains("maximum")) {
    add(kRange, "must be at most " + node["maximum"].dump() + ", got " + r.value->dump());
  } else if (StartsWith(d, "String should be no fewer than") && node.contains("minLength")) {
    add(kLength, "must be at least " + node["minLength"].dump() + " characters long");
  } else {
    add(kOther, d);  // a constraint the config schemas do not use yet: valijson's own words
  }
}

// Validates `doc` against `schema_json` with valijson, collecting every error rather than
// stopping at the first, and returns them as problems under `prefix`, in document order.
std::vector<ConfigProblem> SchemaProblems(const json& doc, const json& schema_json,
                                          const std::string& prefix) {
  const json target = WithoutNulls(doc, schema_json);
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_json);
  parser.populateSchema(schema_adapter, schema);
  // Strong types: "8080" is not an integer. Passing results makes valijson go on past a failure.
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target_adapter(target);
  if (validator.validate(schema, target_adapter, &results)) return {};

  std::vector<Located> found;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) Phrase(error, target, schema_json, prefix, found);
  std::stable_sort(found.begin(), found.end(), [](const Located& a, const Located& b) {
    if (a.at != b.at) {
      return std::lexicographical_compare(a.at.begin(), a.at.end(), b.at.begin(), b.at.end());
    }
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.order < b.order;
  });
  std::vector<ConfigProblem> problems;
  const Located* last = nullptr;
  for (const auto& f : found) {
    // A value of the wrong type, or not among the allowed ones, is reported for that alone.
    if (last && last->at == f.at && (last->rank == kType || last->rank == kEnum) &&
        f.rank != kRequired && f.rank != kKey) {
      continue;
    }
    problems.push_back(f.problem);
    last = &f;
  }
  return problems;
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
  std::vector<ConfigProblem> problems = SchemaProblems(root_, ParsedSchema(), "");
  // Each plugin section against the schema its plugin publishes under schemas/plugins/.
  const json* load = Find("pluginHost.load");
  if (load && load->is_array()) {
    for (std::size_t i = 0; i < load->size(); ++i) {
      const json& entry = (*load)[i];
      if (!entry.is_object() || !entry.contains("config")) continue;
      const json* schema = PluginSchemaOf(entry);
      if (schema == nullptr) continue;
      auto found = SchemaProblems(entry["config"], *schema,
                                  "pluginHost.load[" + std::to_string(i) + "].config");
      // A plugin that refuses unknown keys at start-up says so in its schema.
      bool refuses_unknown = schema->value("x-flyte-unknown-keys", std::string()) == "refused";
      for (auto& p : found) {
        if (p.unknown_key && refuses_unknown) p = {p.path, "unknown key (the plugin refuses it)", false};
        problems.push_back(std::move(p));
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
