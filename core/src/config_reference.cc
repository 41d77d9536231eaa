// The configuration reference, generated from the embedded schemas and defaults so that
// docs/config-reference.md cannot drift from what the binary validates and uses.
#include <sstream>

#include "flyte/core/config.h"

namespace flyte::core {

// Ordered, so the reference follows the schema files' reading order.
using json = nlohmann::ordered_json;

namespace {

// One documented key: its dotted path ("a.b", "list[].c", "map.<name>.d") and its schema.
struct KeyDoc {
  std::string path;
  const json* schema;
};

// Every key under `schema`, depth first in schema order: properties, then the entries of a
// map (additionalProperties), then a list's items when they are maps.
void Collect(const json& schema, const std::string& path, std::vector<KeyDoc>& out) {
  if (!schema.is_object()) return;
  auto join = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (auto props = schema.find("properties"); props != schema.end() && props->is_object()) {
    for (const auto& [key, sub] : props->items()) {
      out.push_back({join(key), &sub});
      Collect(sub, join(key), out);
    }
  }
  if (auto add = schema.find("additionalProperties"); add != schema.end() && add->is_object()) {
    if (add->contains("properties") || add->contains("additionalProperties") ||
        add->contains("items")) {
      out.push_back({join("<name>"), &*add});
      Collect(*add, join("<name>"), out);
    }
  }
  if (auto items = schema.find("items"); items != schema.end() && items->is_object()) {
    Collect(*items, path + "[]", out);
  }
}

// The schemas in the order the reference presents them, with the prefix of their keys.
struct Section {
  std::string title;
  std::string prefix;  // "" for the root schema
  json schema;
};

std::vector<Section> Sections() {
  std::vector<Section> sections;
  sections.push_back({"", "", json::parse(Config::EmbeddedSchema())});
  for (const auto& [name, text] : Config::EmbeddedPluginSchemas()) {
    sections.push_back({name, "", json::parse(text)});
  }
  return sections;
}

std::string TypeOf(const json& schema) {
  std::string type;
  if (auto e = schema.find("enum"); e != schema.end()) {
    std::vector<std::string> names;
    for (const auto& v : *e) names.push_back("`" + (v.is_string() ? v.get<std::string>() : v.dump()) + "`");
    std::string out = "one of ";
    for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
    return out;
  }
  auto name = [](const std::string& t) {
    if (t == "array") return std::string("list");
    if (t == "object") return std::string("map");
    return t;
  };
  auto t = schema.find("type");
  if (t == schema.end()) return "any";
  if (t->is_string()) {
    type = name(t->get<std::string>());
  } else {
    for (std::size_t i = 0; i < t->size(); ++i) type += (i ? " or " : "") + name((*t)[i].get<std::string>());
  }
  if (type == "list") {
    if (auto items = schema.find("items"); items != schema.end()) {
      std::string item = TypeOf(*items);
      if (item != "any") type += " of " + item;
    }
  } else if (type == "map") {
    if (auto add = schema.find("additionalProperties"); add != schema.end() && add->is_object()) {
      type += " of " + TypeOf(*add);
    }
  }
  auto min = schema.find("minimum");
  auto max = schema.find("maximum");
  if (min != schema.end() && max != schema.end()) {
    type += ", " + min->dump() + " to " + max->dump();
  } else if (min != schema.end()) {
    type += ", at least " + min->dump();
  } else if (max != schema.end()) {
    type += ", at most " + max->dump();
  }
  if (auto len = schema.find("minLength"); len != schema.end()) {
    type += ", at least " + len->dump() + " characters";
  }
  return type;
}

// The value at a dotted path in a document; paths through lists or maps have none.
const json* At(const json& doc, const std::string& path) {
  if (path.find('[') != std::string::npos || path.find('<') != std::string::npos) return nullptr;
  const json* node = &doc;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    if (dot == std::string::npos) return node;
    start = dot + 1;
  }
}

std::string Code(const json& v) {
  std::string text = v.dump();
  if (text.size() > 60) return "see `core/config/defaults.yaml`";
  return "`" + text + "`";
}

std::string Cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

// Defaults: the embedded defaults.yaml when it sets the key (that is the value in force),
// else the schema's `default` (what the reader falls back to). The standalone layer's value is
// added when it sets one.
std::string DefaultOf(const KeyDoc& key, const json* defaults, const json* standalone) {
  std::string out;
  const json* in_defaults = defaults ? At(*defaults, key.path) : nullptr;
  bool is_section = key.schema->contains("properties") && !key.schema->contains("default");
  if (in_defaults && !in_defaults->is_null() && !is_section) {
    out = Code(*in_defaults);
  } else if (auto d = key.schema->find("default"); d != key.schema->end()) {
    out = Code(*d);
  }
  if (const json* s = standalone ? At(*standalone, key.path) : nullptr; s && !is_section) {
    out += (out.empty() ? "" : "; ") + std::string("without `--config`: ") + Code(*s);
  }
  return out.empty() ? "none" : out;
}

void Table(std::ostringstream& md, const std::vector<KeyDoc>& keys, const json* defaults,
           const json* standalone) {
  md << "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const auto& key : keys) {
    md << "| `" << key.path << "` | " << Cell(TypeOf(*key.schema)) << " | "
       << Cell(DefaultOf(key, defaults, standalone)) << " | "
       << Cell(key.schema->value("description", std::string())) << " |\n";
  }
}

}  // namespace

std::string ConfigReferenceMarkdown() {
  auto defaults_doc = YamlToJson(Config::EmbeddedDefaults());
  auto standalone_doc = YamlToJson(Config::EmbeddedStandalone());
  json defaults = defaults_doc.ok() ? json::parse(defaults_doc->dump()) : json();
  json standalone = standalone_doc.ok() ? json::parse(standalone_doc->dump()) : json();
  const json* d = defaults.is_object() ? &defaults : nullptr;
  const json* s = standalone.is_object() ? &standalone : nullptr;
  std::ostringstream md;
  md << "# Configuration reference\n\n"
        "<!-- Generated by `flyteadmin config reference` from schemas/*.json and\n"
        "     core/config/*.yaml; edit those and regenerate:\n"
        "     build/bin/flyteadmin config reference > docs/config-reference.md -->\n\n"
        "Every key `flyteadmin` reads or accepts, with its type, its default and what it does.\n"
        "The configuration in force is built in layers, later ones winning key by key (maps merge,\n"
        "lists are replaced):\n\n"
        "1. the embedded defaults (`core/config/defaults.yaml`), local storage in the working\n"
        "   directory among them;\n"
        "2. without any config file: the standalone layer (`core/config/standalone.yaml`: a SQLite\n"
        "   database in the working directory), shown below as \"without `--config`\";\n"
        "3. each `--config FILE` (YAML or JSON), in the order given; a glob (`/etc/flyte/config/*.yaml`,\n"
        "   as upstream's charts pass it) adds its files in sorted order. Without `--config`,\n"
        "   `./config.yaml`, else `/etc/flyte/config/config.yaml`, when one exists (as upstream);\n"
        "4. environment variables named after a key: the dotted path upper-cased, `-` as `_`\n"
        "   (`SERVER.HTTPPORT=9000`, `LOGGER.SHOW_SOURCE=true`); values are read as YAML, except\n"
        "   for a key of type string, which takes the variable's text as it is. An empty variable\n"
        "   counts as unset;\n"
        "5. command-line flags named after a key, as upstream's: `--server.httpPort 8090` or\n"
        "   `--server.httpPort=8090`, before or after the subcommand; a bare flag of a boolean key is\n"
        "   `true`. Values are read as environment variables are, except that a list of strings is\n"
        "   comma-separated and a repeated flag adds to it\n"
        "   (`--server.security.allowedOrigins a,b --server.security.allowedOrigins c`). A map's\n"
        "   entry is a flag too (`--flyteadmin.labels.team ml`); inside an upstream section accepted\n"
        "   whole (`--auth.appAuth.authServerType=Self`) a flag takes its value after `=`, read as\n"
        "   YAML. A dotted flag that names no key, a value that does not convert to its key's type,\n"
        "   and `--some.boolean false` (pflag would take `false` for an argument of its own: write\n"
        "   `--some.boolean=false`) are errors.\n\n"
        "As upstream, a value converts to its key's type where it can: `\"8088\"` or `0x1f98` to an\n"
        "integer, `\"true\"`, `t` or `1` to a boolean, a number or boolean to a string (`true` as\n"
        "`1`), `\"a,b\"` to the list `[a, b]`, a single value to a list of one, and a list of maps\n"
        "to one map. A fraction given for an integer is an error, where upstream drops it.\n"
        "Keys match ignoring case (`Logger:`, `server.HttpPort`), as viper matches them; the keys\n"
        "of maps (labels, ...) keep their spelling. A boolean key also takes YAML 1.1's `yes`,\n"
        "`no`, `on` and `off`.\n\n"
        "`flyteadmin --config FILE config validate` checks a configuration against these tables\n"
        "and prints every problem with its key path; `config print` shows the merged result.\n"
        "Keys of upstream FlyteAdmin sections this build does not act on are accepted so an\n"
        "existing configuration carries over; keys nobody knows are reported as warnings.\n\n"
        "Paths: `a.b` is key `b` in map `a`; `a[].b` is key `b` in each item of list `a`;\n"
        "`a.<name>` is any key of map `a`.\n\n";
  auto sections = Sections();
  const json& root = sections.front().schema;
  md << "## Top-level sections\n\n";
  for (const auto& [key, sub] : root["properties"].items()) {
    std::vector<KeyDoc> keys;
    Collect(sub, key, keys);
    md << "### `" << key << "`\n\n" << Cell(sub.value("description", std::string())) << "\n\n";
    if (keys.empty()) {
      // A section without documented keys of its own: its type and default in one line.
      KeyDoc self{key, &sub};
      md << "Type: " << Cell(TypeOf(sub)) << "; default: " << Cell(DefaultOf(self, d, s)) << ".\n\n";
      continue;
    }
    if (!sub.contains("properties")) keys.insert(keys.begin(), {key, &sub});
    Table(md, keys, d, s);
    md << "\n";
  }
  md << "## Plugin sections\n\n"
        "A plugin's own section is the `config` of its entry in `pluginHost.load`, for example\n\n"
        "```yaml\npluginHost:\n  load:\n    - name: flyte_executor_local\n      config:\n"
        "        workers: 4\n```\n\n"
        "Plugins read root keys as well (listed above, e.g. `server.dataProxy` for the data proxy);\n"
        "plugins not listed here take no section of their own.\n\n";
  for (std::size_t i = 1; i < sections.size(); ++i) {
    const auto& section = sections[i];
    std::vector<KeyDoc> keys;
    Collect(section.schema, "", keys);
    md << "### `" << section.title << "`\n\n"
       << Cell(section.schema.value("description", std::string())) << "\n\n";
    Table(md, keys, nullptr, nullptr);
    md << "\n";
  }
  std::string out = md.str();
  out.pop_back();  // one newline at the end of the file
  return out;
}

std::vector<std::string> UndescribedConfigKeys() {
  std::vector<std::string> missing;
  for (const auto& section : Sections()) {
    std::vector<KeyDoc> keys;
    Collect(section.schema, "", keys);
    for (const auto& key : keys) {
      if (key.schema->value("description", std::string()).empty()) {
        missing.push_back((section.title.empty() ? "" : section.title + ": ") + key.path);
      }
    }
  }
  return missing;
}

}  // namespace flyte::core
