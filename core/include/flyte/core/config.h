// Configuration: embedded defaults, then YAML/JSON files merged in order, then environment
// overrides (upstream's names: the dotted key upper-cased, '-' as '_'), then command-line flags
// named after a key (`--server.httpPort 8090`, as upstream's pflags), validated by schemas/.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "flyte/plugin/status.h"

namespace flyte::core {

struct ConfigProblem {
  std::string path;     // "server.grpc.port", "pluginHost.load[3].config.workers"
  std::string message;  // "expected integer, got string"
  bool unknown_key = false;  // a warning: the key is ignored
};

// Reads an environment variable; nullopt when unset. Injected so tests need not touch environ.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

// A command-line override of one key: `path` is the key's dotted path as the schema spells it.
struct ConfigFlag {
  std::string path;
  std::string value;
};

// Takes the flags that name a key (`--server.httpPort=8090`, `--server.httpPort 8090`, and for
// a boolean key also a bare `--server.security.useAuth`) out of `args`, leaving every other
// argument in its order; a name is a key's flag when it has a dot, and matches ignoring case.
// Nothing after a `--` is taken. A map's entry is a flag too (`--flyteadmin.labels.team ml`); in
// an upstream section accepted whole (`auth.*`) a flag's value must follow '='. Fails, naming
// the flag, on a dotted name that is no key ("unknown flag: --server.htpPort", as pflag words
// it), on a flag missing its value, on a bare flag in a section accepted whole, and on a
// boolean followed by `true` or `false` (pflag would take that word for an argument of its own).
plugin::StatusOr<std::vector<ConfigFlag>> ExtractConfigFlags(std::vector<std::string>& args);

class Config {
 public:
  // Defaults, then `files` (each YAML or JSON; a later file overrides keys of an earlier one,
  // maps merge deeply, lists are replaced), then the environment, then `flags`. With no file at
  // all the standalone layer (SQLite in the working directory) goes over the defaults first.
  // Fails on an unreadable or unparsable file, naming it, and on a flag whose value does not
  // parse.
  static plugin::StatusOr<Config> Load(const std::vector<std::string>& files, const EnvLookup& env,
                                       const std::vector<ConfigFlag>& flags = {});
  // The same from in-memory documents (tests).
  static plugin::StatusOr<Config> FromDocuments(const std::vector<std::string>& yaml_documents,
                                                const EnvLookup& env,
                                                const std::vector<ConfigFlag>& flags = {});

  const nlohmann::json& root() const { return root_; }

  // Every problem against the schema (not only the first), each with its key path: wrong
  // types, values out of range or not in an enum, missing required keys, and unknown keys
  // (warnings). Plugin sections are checked against their plugin's schema (schemas/plugins/).
  std::vector<ConfigProblem> Validate() const;

  // The value at a dotted path, or `fallback` when absent or of another type.
  template <typename T>
  T Get(std::string_view path, T fallback) const {
    const nlohmann::json* node = Find(path);
    if (!node || node->is_null()) return fallback;
    try {
      return node->get<T>();
    } catch (const nlohmann::json::exception&) {
      return fallback;
    }
  }
  const nlohmann::json* Find(std::string_view path) const;

  static const std::string& EmbeddedDefaults();
  static const std::string& EmbeddedSchema();
  static const std::string& EmbeddedStandalone();
  // (plugin name, JSON Schema of its `config` section) for the plugins that publish one.
  static const std::vector<std::pair<std::string, std::string>>& EmbeddedPluginSchemas();

 private:
  static plugin::StatusOr<Config> Finish(nlohmann::json root, const EnvLookup& env,
                                         const std::vector<ConfigFlag>& flags);
  nlohmann::json root_;
};

// Parses YAML (or JSON) text into JSON: plain scalars become null/bool/int/float when they read
// as such, quoted scalars stay strings.
plugin::StatusOr<nlohmann::json> YamlToJson(std::string_view text);

// The configuration reference (docs/config-reference.md): every key of the embedded schema
// and of each plugin schema with its type, default and meaning, as Markdown.
std::string ConfigReferenceMarkdown();

// Key paths of the embedded schemas that have no description (the reference needs one each).
std::vector<std::string> UndescribedConfigKeys();

// Deep merge: objects merge key by key, anything else in `overlay` replaces `base`.
void MergeInto(nlohmann::json& base, const nlohmann::json& overlay);

}  // namespace flyte::core
