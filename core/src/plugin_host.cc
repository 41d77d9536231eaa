// Plugin loading with Boost.DLL: RTLD_NOW | RTLD_LOCAL, checked entry point, version and
// fingerprint, wrapped registration. Every refusal is one line naming key, file and reason.
#include "flyte/core/plugin_host.h"

#include <filesystem>
#include <iterator>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "flyte/core/logging.h"
#include "flyte/plugin/plugin.h"

namespace flyte::core {

using plugin::Status;
using plugin::StatusOr;

const char* HostBuildFingerprint() { return FLYTE_PLUGIN_BUILD_FINGERPRINT; }

std::string DefaultPluginDirectory() {
  auto exe = boost::dll::program_location();
  return (exe.parent_path().parent_path() / "lib" / "flyteadmin" / "plugins").string();
}

namespace {

// Libraries are never unloaded: objects, vtables and protobuf descriptors they registered may
// be referenced until the process ends. Deliberately leaked so no static destructor runs dlclose.
std::vector<boost::dll::shared_library>& KeptLibraries() {
  static auto* libraries = new std::vector<boost::dll::shared_library>();
  return *libraries;
}

}  // namespace

class PluginHost::Context : public plugin::HostContext {
 public:
  Context(PluginHost& host, std::string name, nlohmann::json config)
      : host_(host), name_(std::move(name)), config_(std::move(config)),
        logger_(ChildLogger(host.logger_, name_)) {}

  const nlohmann::json& PluginConfig() const override { return config_; }
  const nlohmann::json& RootConfig() const override { return host_.config_.root(); }
  const std::string& PluginName() const override { return name_; }
  std::shared_ptr<spdlog::logger> Logger() const override { return logger_; }
  prometheus::Registry& Metrics() const override { return *host_.metrics_; }
  const plugin::BuildInfo& Build() const override { return host_.build_; }

  Status Register(plugin::PluginId id, std::shared_ptr<plugin::PluginBase> impl) override {
    return Record(host_.registry_.Register(id, std::move(impl), name_));
  }
  void RegisterDefault(plugin::PluginId id, std::shared_ptr<plugin::PluginBase> impl) override {
    host_.registry_.RegisterDefault(id, std::move(impl), name_);
  }
  Status Add(plugin::PluginId id, std::string_view name,
             std::shared_ptr<plugin::PluginBase> impl) override {
    return Record(host_.registry_.Add(id, name, std::move(impl), name_));
  }
  const plugin::Registry& Plugins() const override { return host_.registry_; }

  // The first registration that failed, even if the plugin ignored the returned status.
  const Status& first_error() const { return first_error_; }

 private:
  Status Record(Status s) {
    if (!s.ok() && first_error_.ok()) first_error_ = s;
    return s;
  }
  PluginHost& host_;
  std::string name_;
  nlohmann::json config_;
  std::shared_ptr<spdlog::logger> logger_;
  Status first_error_;
};

PluginHost::PluginHost(const Config& config, std::shared_ptr<spdlog::logger> logger,
                       std::shared_ptr<prometheus::Registry> metrics, plugin::BuildInfo build)
    : config_(config), logger_(std::move(logger)), metrics_(std::move(metrics)), build_(std::move(build)) {
  if (const auto* prefer = config_.Find("pluginHost.prefer"); prefer && prefer->is_object()) {
    for (auto& [id, owner] : prefer->items()) {
      if (owner.is_string()) registry_.Prefer(id, owner.get<std::string>());
    }
  }
}

PluginHost::~PluginHost() { Shutdown(); }

void PluginHost::AddMetricsSource(std::shared_ptr<prometheus::Collectable> source) {
  metric_sources_.push_back(std::move(source));
}

std::vector<prometheus::MetricFamily> PluginHost::CollectMetrics() const {
  std::vector<prometheus::MetricFamily> families = metrics_->Collect();
  for (const auto& source : metric_sources_) {
    auto more = source->Collect();
    families.insert(families.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return families;
}

void PluginHost::Serving() { registry_.ServingAll(); }

void PluginHost::Shutdown() {
  // Plugins with threads of their own finish them first, while every plugin they may call is
  // still there; then everything is released.
  registry_.StopAll();
  registry_.Clear();
}

StatusOr<std::vector<PluginSpec>> PluginHost::SpecsFromConfig() const {
  std::string dir = config_.Get<std::string>("pluginHost.directory", "");
  if (dir.empty()) dir = DefaultPluginDirectory();
  std::vector<PluginSpec> specs;
  const auto* load = config_.Find("pluginHost.load");
  if (!load || load->is_null()) return specs;
  if (!load->is_array()) return plugin::InvalidArgument("pluginHost.load: must be a list");
  for (std::size_t i = 0; i < load->size(); ++i) {
    const auto& entry = (*load)[i];
    PluginSpec spec;
    spec.config_key = "pluginHost.load[" + std::to_string(i) + "]";
    if (!entry.is_object()) return plugin::InvalidArgument(spec.config_key + ": must be a map with name or path");
    // An empty value (`name:`) counts as absent; anything but a string is refused by key.
    std::string path;
    for (auto [key, out] : {std::pair<const char*, std::string*>{"name", &spec.name}, {"path", &path}}) {
      auto it = entry.find(key);
      if (it == entry.end() || it->is_null()) continue;
      if (!it->is_string()) {
        return plugin::InvalidArgument(spec.config_key + "." + key + ": expected string, got " +
                                       std::string(it->type_name()));
      }
      *out = it->get<std::string>();
    }
    if (spec.name.empty() && path.empty()) {
      return plugin::InvalidArgument(spec.config_key + ": needs `name` (found in " + dir + ") or `path`");
    }
    if (path.empty()) {
      if (spec.name.find('/') != std::string::npos) {
        return plugin::InvalidArgument(spec.config_key + ": name '" + spec.name + "' may not contain '/'; use `path`");
      }
      path = (std::filesystem::path(dir) / ("lib" + spec.name + ".so")).string();
    }
    spec.path = path;
    if (auto it = entry.find("config"); it != entry.end() && !it->is_null()) spec.config = *it;
    specs.push_back(std::move(spec));
  }
  return specs;
}

Status PluginHost::Load(const PluginSpec& spec) {
  auto fail = [&](const std::string& reason) {
    return Status(plugin::StatusCode::kFailedPrecondition,
                  "plugin " + spec.config_key + " (" + spec.path + "): " + reason);
  };
  std::error_code fs_error;
  if (!std::filesystem::exists(spec.path, fs_error)) return fail("file not found");

  boost::dll::shared_library lib;
  try {
    lib.load(spec.path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return fail(std::string("cannot be loaded: ") + e.what());
  }
  if (!lib.has(plugin::kEntryPointSymbol)) {
    KeptLibraries().push_back(std::move(lib));
    return fail(std::string("no entry point '") + plugin::kEntryPointSymbol +
                "' (not a flyteadmin plugin, or built without FLYTE_PLUGIN)");
  }
  const plugin::PluginInfo* info = nullptr;
  try {
    info = lib.get<const plugin::PluginInfo*()>(plugin::kEntryPointSymbol)();
  } catch (...) {
    info = nullptr;
  }
  KeptLibraries().push_back(lib);
  if (!info) return fail("entry point returned no plugin information");
  if (info->api_version != plugin::kPluginApiVersion) {
    return fail("built for plugin API version " + std::to_string(info->api_version) +
                ", this host provides version " + std::to_string(plugin::kPluginApiVersion));
  }
  const std::string fingerprint = info->fingerprint ? info->fingerprint : "";
  if (fingerprint != HostBuildFingerprint()) {
    return fail("build fingerprint mismatch: plugin [" + fingerprint + "], host [" +
                HostBuildFingerprint() + "]");
  }
  const std::string name = info->name ? info->name : "";
  if (name.empty()) return fail("plugin declares no name");
  for (const auto& other : loaded_) {
    if (other.name == name) {
      return fail("plugin '" + name + "' is already loaded from " + other.path);
    }
  }
  if (!info->register_fn) return fail("plugin declares no registration function");

  auto context = std::make_unique<Context>(*this, name, spec.config);
  Status status;
  try {
    status = info->register_fn(*context);
  } catch (const std::exception& e) {
    return fail("registration threw: " + std::string(e.what()));
  } catch (...) {
    return fail("registration threw a non-standard exception");
  }
  if (status.ok() && !context->first_error().ok()) status = context->first_error();
  if (!status.ok()) return fail("registration failed: " + status.ToString());
  loaded_.push_back({spec.config_key, name, info->version ? info->version : "",
                     info->description ? info->description : "", spec.path});
  contexts_.push_back(std::move(context));
  return Status::Ok();
}

Status PluginHost::LoadAll(const std::vector<PluginSpec>& specs) {
  for (const auto& spec : specs) {
    Status s = Load(spec);
    if (!s.ok()) return s;
    const auto& p = loaded_.back();
    logger_->info("loaded plugin {} {} from {}", p.name, p.version, p.path);
  }
  return Status::Ok();
}

}  // namespace flyte::core
