// flyteadmin: the server binary. `serve` runs it, `plugins` lists what a config would load,
// `config validate|print|reference` checks, shows and documents the configuration, `migrate`
// runs the database migrations.
#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <absl/synchronization/mutex.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include "flyte/core/admin_server.h"
#include "flyte/core/build_info.h"
#include "flyte/core/config.h"
#include "flyte/core/core_services.h"
#include "flyte/core/local_store.h"
#include "flyte/core/db/database.h"
#include "flyte/core/logging.h"
#include "flyte/core/plugin_host.h"

namespace {

using flyte::core::Config;

int Fail(const std::string& message) {
  std::cerr << "flyteadmin: " << message << std::endl;
  return 1;
}

// The config files as upstream's config finder takes them. Each --config value is a file or a
// glob (flyte-core's charts pass /etc/flyte/config/*.yaml), its matches merged in sorted order
// and directories among them skipped. Without --config, ./config.yaml, else
// /etc/flyte/config/config.yaml, when one exists; else none (the embedded standalone defaults).
// Unlike upstream, a value that names no file is an error, not a silent fall back to those.
std::optional<std::vector<std::string>> ResolveConfigFiles(const std::vector<std::string>& given, int& exit_code) {
  std::vector<std::string> files;
  auto add = [&files](const std::string& path) {
    if (std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
  };
  for (const auto& value : given) {
    std::error_code ec;
    if (value.find_first_of("*?[") == std::string::npos) {
      if (std::filesystem::is_directory(value, ec)) {
        exit_code = Fail("--config " + value + ": is a directory; give a file, or a glob such as " + value +
                         "/*.yaml");
        return std::nullopt;
      }
      if (!std::filesystem::exists(value, ec)) {
        exit_code = Fail("--config " + value + ": no such file");
        return std::nullopt;
      }
      add(value);
      continue;
    }
    glob_t matches{};
    const int rc = ::glob(value.c_str(), 0, nullptr, &matches);
    std::vector<std::string> found;
    if (rc == 0) {
      for (size_t i = 0; i < matches.gl_pathc; ++i) {
        if (std::filesystem::is_regular_file(matches.gl_pathv[i], ec)) found.emplace_back(matches.gl_pathv[i]);
      }
    }
    ::globfree(&matches);
    if (found.empty()) {
      exit_code = Fail("--config " + value + ": matches no file");
      return std::nullopt;
    }
    std::sort(found.begin(), found.end());
    for (const auto& f : found) add(f);
  }
  if (given.empty()) {
    for (const char* path : {"config.yaml", "/etc/flyte/config/config.yaml"}) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(path, ec)) {
        std::cerr << "flyteadmin: using config file " << path << " (found without --config)" << std::endl;
        add(path);
        break;
      }
    }
  }
  return files;
}

// Loads the config or prints why not.
std::unique_ptr<Config> LoadConfig(const std::vector<std::string>& given,
                                   const std::vector<flyte::core::ConfigFlag>& flags, int& exit_code) {
  auto files = ResolveConfigFiles(given, exit_code);
  if (!files) return nullptr;
  auto config = Config::Load(*files, flyte::core::ProcessEnv(), flags);
  if (!config.ok()) {
    exit_code = Fail(config.status().message());
    return nullptr;
  }
  return std::make_unique<Config>(std::move(config.value()));
}

// Type errors are fatal; unknown keys are reported and tolerated, as upstream tolerates them.
// A plugin's own section is the plugin's to accept or refuse when it loads (its refusal names
// the key too), so problems there are only warned about: a plugin newer than its schema in
// schemas/plugins/ still starts.
// Settings that say something other than what the config will do. An upstream config names its
// Kubernetes clusters (`clusters`, `server.kube-config`), and upstream always hands executions to
// them; here the WorkflowExecutor is whichever plugin `pluginHost.load` names, by default the
// local one, which would run the tasks as processes of this server.
std::vector<std::string> ConfigAdvisories(const Config& config) {
  std::vector<std::string> out;
  const auto& root = config.root();
  bool names_clusters = false;
  if (auto c = root.find("clusters"); c != root.end() && c->is_object()) {
    auto cc = c->find("clusterConfigs");
    names_clusters = cc != c->end() && cc->is_array() && !cc->empty();
  }
  if (!config.Get<std::string>("server.kube-config", "").empty()) names_clusters = true;
  bool local_executor = false;
  if (auto host = root.find("pluginHost"); host != root.end() && host->is_object()) {
    if (auto load = host->find("load"); load != host->end() && load->is_array()) {
      for (const auto& entry : *load) {
        if (entry.is_object() && entry.value("name", "") == "flyte_executor_local") local_executor = true;
      }
    }
  }
  if (names_clusters && local_executor) {
    out.push_back(
        "this config names Kubernetes clusters (clusters.clusterConfigs or server.kube-config), but the "
        "WorkflowExecutor loaded is flyte_executor_local: executions run as processes of this server, not "
        "on those clusters. List flyte_executor_k8s in pluginHost.load in its place to hand them to the "
        "clusters as upstream does.");
  }
  return out;
}

bool CheckConfig(const Config& config, spdlog::logger& logger) {
  bool ok = true;
  for (const auto& advice : ConfigAdvisories(config)) logger.warn("config: {}", advice);
  for (const auto& p : config.Validate()) {
    bool plugin_section = p.path.rfind("pluginHost.load[", 0) == 0 &&
                          p.path.find("].config") != std::string::npos;
    if (p.unknown_key || plugin_section) {
      logger.warn("config: {}: {}", p.path, p.message);
    } else {
      std::cerr << "flyteadmin: config: " << p.path << ": " << p.message << std::endl;
      ok = false;
    }
  }
  return ok;
}

// Loads the configured plugins, after registering core's services as defaults when given.
std::unique_ptr<flyte::core::PluginHost> LoadPlugins(const Config& config,
                                                     std::shared_ptr<spdlog::logger> logger,
                                                     int& exit_code,
                                                     const flyte::core::CoreServices* services = nullptr) {
  auto host = std::make_unique<flyte::core::PluginHost>(
      config, logger, std::make_shared<prometheus::Registry>(), flyte::core::ThisBuild());
  if (services) flyte::core::RegisterCoreDefaults(*host, *services);
  auto specs = host->SpecsFromConfig();
  if (!specs.ok()) {
    exit_code = Fail(specs.status().message());
    return nullptr;
  }
  if (auto s = host->LoadAll(specs.value()); !s.ok()) {
    exit_code = Fail(s.message());
    return nullptr;
  }
  return host;
}

// Signals, from the first instruction of `serve` on, on a thread of their own: during start-up
// one ends the process unless the start finishes within 5 s (a migration or a database that does
// not answer would otherwise hold it; nothing has been served or acknowledged yet); once serving,
// the first starts the drain, a second ends the process at once, and a drain still running long
// past its grace period is cut short. Leaked on purpose: the thread may still wait while the
// process exits.
struct SignalWatch {
  sigset_t set;
  std::shared_ptr<spdlog::logger> logger;
  std::mutex mu;
  std::condition_variable cv;
  bool serving = false;
  int received = 0;
  std::chrono::seconds drain_limit{70};

  static const char* Name(int sig) {
    switch (sig) {
      case SIGTERM: return "SIGTERM";
      case SIGINT: return "SIGINT";
      case SIGHUP: return "SIGHUP";
      default: return "a signal";
    }
  }
  void Log(const std::string& line) {
    std::shared_ptr<spdlog::logger> log;
    {
      std::lock_guard lock(mu);
      log = logger;
    }
    if (log) {
      log->warn("{}", line);
      log->flush();
    } else {
      std::cerr << line << std::endl;
    }
  }
  // Waits up to `limit` for one of the signals: its number, or 0 once the time is up. A call cut
  // short by another signal's handler (EINTR) waits on for what is left.
  int WaitSignal(std::chrono::steady_clock::duration limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = until - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) return 0;
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timespec wait{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
      siginfo_t info{};
      const int sig = sigtimedwait(&set, &info, &wait);
      if (sig > 0) return sig;
      if (errno != EINTR && errno != EAGAIN) return 0;
    }
  }
  void Run() {
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    {
      std::lock_guard lock(mu);
      received = sig;
    }
    cv.notify_all();
    // Still starting: the start may finish soon (the ports are bound, the last steps run), and
    // then drains; one that does not (a migration, a database that does not answer) is ended.
    {
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return serving; })) {
        lock.unlock();
        Log(std::string("received ") + Name(sig) + " while starting; exiting");
        std::_Exit(128 + sig);
      }
    }
    // Draining: a second signal, or a drain that hangs, ends it.
    if (int again = WaitSignal(drain_limit); again != 0) {
      Log(std::string("received ") + Name(again) + " again while shutting down; exiting now");
    } else {
      Log("shutdown did not finish within " + std::to_string(drain_limit.count()) +
          " s; exiting now");
    }
    std::_Exit(1);
  }
};

int Serve(const Config& config) {
  // Signals are taken by the watch's thread, so block them before any thread starts. A write to
  // a closed pipe or socket fails with EPIPE instead of ending the process.
  auto* watch = new SignalWatch;
  sigemptyset(&watch->set);
  sigaddset(&watch->set, SIGINT);
  sigaddset(&watch->set, SIGTERM);
  sigaddset(&watch->set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &watch->set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread([watch] { watch->Run(); }).detach();

  auto logger = flyte::core::MakeLogger(config.root().value("logger", nlohmann::json::object()));
  {
    std::lock_guard lock(watch->mu);
    watch->logger = logger;
    // The drain's own bounds (the calls' grace, the executor's task termination, the database's
    // last commits) with a minute to spare.
    watch->drain_limit = std::chrono::seconds(config.Get<int>("server.gracefulShutdownTimeoutSeconds", 10) + 60);
  }
  if (!CheckConfig(config, *logger)) return 1;
  const auto& build = flyte::core::ThisBuild();
  logger->info("flyteadmin {} (commit {}, built {})", build.version, build.commit, build.build_time);
  auto services = flyte::core::OpenCoreServices(config, [&](const std::string& line) { logger->info("{}", line); });
  if (!services.ok()) return Fail(services.status().message());
  int exit_code = 0;
  auto host = LoadPlugins(config, logger, exit_code, &services.value());
  if (!host) return exit_code;
  auto server = std::make_unique<flyte::core::AdminServer>(*host);
  if (auto s = server->Start(); !s.ok()) return Fail(s.message());
  bool stop_at_once;
  {
    std::lock_guard lock(watch->mu);
    watch->serving = true;  // from now on a signal drains
    stop_at_once = watch->received != 0;
  }
  watch->cv.notify_all();
  // Work that must not start in a server that failed to (the local executor's recovery of a
  // previous server's runs) starts now, unless it is already asked to stop.
  if (!stop_at_once) host->Serving();

  int signal_number = 0;
  {
    std::unique_lock lock(watch->mu);
    watch->cv.wait(lock, [&] { return watch->received != 0; });
    signal_number = watch->received;
  }
  logger->info("received {}, shutting down", SignalWatch::Name(signal_number));
  server->Shutdown();
  server.reset();
  host->Shutdown();
  logger->info("stopped");
  logger->flush();
  return 0;
}

int ListPlugins(const Config& config) {
  auto logger = flyte::core::MakeLogger(nlohmann::json{{"level", 3}});
  int exit_code = 0;
  auto host = LoadPlugins(config, logger, exit_code);
  if (!host) return exit_code;
  std::cout << "plugin API version " << flyte::plugin::kPluginApiVersion << "\n";
  for (const auto& p : host->loaded()) {
    std::cout << p.name << " " << p.version << "  " << p.path << "\n    " << p.description << "\n";
    for (const auto& e : host->registry().Entries()) {
      if (e.owner != p.name) continue;
      std::cout << "    registers " << e.id << (e.name.empty() ? "" : " [" + e.name + "]")
                << (e.is_default ? " (default)" : "") << "\n";
    }
  }
  return 0;
}

// `migrate run|rollback|seed-projects`: one progress line per step on stdout, then a summary.
int Migrate(const Config& config, const std::string& action, const std::vector<std::string>& projects) {
  auto database = flyte::core::db::OpenDatabase(config);
  if (!database.ok()) return Fail("database: " + database.status().message());
  auto progress = [](const std::string& line) { std::cout << line << std::endl; };
  flyte::plugin::Status s;
  if (action == "run") {
    s = database.value()->MigrateUp(progress);
    if (s.ok()) s = database.value()->EnsureListIndexes(progress);
  } else if (action == "rollback") {
    s = database.value()->RollbackLast(progress);
  } else {
    // One project at a time, so a person seeding many sees each one land.
    for (std::size_t i = 0; i < projects.size() && s.ok(); ++i) {
      s = database.value()->SeedProjects({projects[i]});
      if (s.ok()) {
        std::cout << "[" << i + 1 << "/" << projects.size() << "] project " << projects[i]
                  << std::endl;
      }
    }
    if (s.ok()) std::cout << "seeded " << projects.size() << " project(s)" << std::endl;
  }
  if (!s.ok()) return Fail("migrate " + action + ": " + s.message());
  return 0;
}

std::string Plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// `config validate`: every problem on its own line with its key path, errors and warnings
// (unknown keys) told apart; plugins listed in pluginHost.load must exist. Exit status 1 when
// there is an error, 0 with warnings only.
// With `strict` (upstream's --strict), unknown keys are errors too.
int ValidateConfig(const Config& config, bool strict) {
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const auto& p : config.Validate()) {
    const bool warning = p.unknown_key && !strict;
    const std::string message = p.unknown_key && strict ? "unknown key" : p.message;
    std::cout << (warning ? "warning: " : "error: ") << p.path << ": " << message << "\n";
    ++(warning ? warnings : errors);
  }
  for (const auto& advice : ConfigAdvisories(config)) {
    std::cout << "warning: " << advice << "\n";
    ++warnings;
  }
  // What serve would refuse although the schema allows it (upstream keys this build does not
  // act on in the way asked).
  for (const auto& s : {flyte::core::CheckServableConfig(config), flyte::core::CheckObjectStoreConfig(config)}) {
    if (s.ok()) continue;
    std::cout << "error: " << s.message() << "\n";
    ++errors;
  }
  auto logger = flyte::core::MakeLogger(nlohmann::json{{"level", 2}});
  flyte::core::PluginHost host(config, logger, std::make_shared<prometheus::Registry>(),
                               flyte::core::ThisBuild());
  auto specs = host.SpecsFromConfig();
  if (!specs.ok()) {
    std::cout << "error: " << specs.status().message() << "\n";
    ++errors;
  } else {
    for (const auto& spec : specs.value()) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(spec.path, ec)) {
        std::cout << "error: " << spec.config_key << ": plugin "
                  << (spec.name.empty() ? spec.path : spec.name) << " not found at " << spec.path
                  << "\n";
        ++errors;
      }
    }
  }
  if (errors == 0) {
    std::cout << "config is valid" << (warnings ? " (" + Plural(warnings, "warning") + ")" : "")
              << std::endl;
    return 0;
  }
  std::cout << "config is invalid: " << Plural(errors, "error")
            << (warnings ? ", " + Plural(warnings, "warning") : "") << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, which leaves its lock-order checking on: every
  // absl::Mutex that gRPC takes is recorded in a global graph, and an order it considers
  // inverted kills the process ("dying due to potential deadlock"). Release builds of Abseil
  // (upstream's Go server has neither) do not check; nor does this server.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"flyteadmin: a FlyteAdmin-compatible control plane built from plugins"};
  app.require_subcommand(1);
  // `flyteadmin serve --config f` (as the systemd unit writes it) works as well as
  // `flyteadmin --config f serve`: options a subcommand does not know go to the app.
  app.fallthrough();
  std::vector<std::string> config_files;
  app.add_option("--config", config_files,
                 "Config file (YAML or JSON) or glob of them (merged in sorted order); repeat to merge "
                 "several, later ones win. Default: ./config.yaml, else /etc/flyte/config/config.yaml, "
                 "else the embedded standalone defaults")
      ->allow_extra_args(false);
  // Upstream's root command declares --master and then reads it nowhere; deployments that
  // pass it still start. The Kubernetes executor's API server comes from its kubeconfig.
  std::string kube_master;
  app.add_option("--master", kube_master, "Accepted as upstream's, which does not read it either")
      ->allow_extra_args(false);
  auto* serve = app.add_subcommand("serve", "Run the gRPC and HTTP servers");
  auto* plugins = app.add_subcommand("plugins", "List the plugins a config loads, without serving");
  auto* config_cmd = app.add_subcommand("config", "Inspect the configuration");
  config_cmd->require_subcommand(1);
  // Upstream's `config --file F` names the files as --config does.
  config_cmd->add_option("--file", config_files, "Config file or glob, as --config")->allow_extra_args(false);
  auto* validate = config_cmd->add_subcommand("validate", "Report each problem with its key path");
  bool strict = false;
  validate->add_flag("--strict", strict, "Unknown keys are errors, not warnings");
  auto* discover = config_cmd->add_subcommand("discover", "Print the config files that would be read");
  auto* print = config_cmd->add_subcommand("print", "Print the merged configuration as JSON");
  auto* reference = config_cmd->add_subcommand(
      "reference", "Print the configuration reference (every key, type, default) as Markdown");
  reference->alias("docs");
  auto* version = app.add_subcommand("version", "Print the version");
  auto* migrate = app.add_subcommand("migrate", "Database migrations (upstream's ids, both backends)");
  migrate->require_subcommand(1);
  auto* migrate_run = migrate->add_subcommand("run", "Apply every pending migration");
  auto* migrate_rollback = migrate->add_subcommand("rollback", "Roll back the last applied migration");
  auto* migrate_seed = migrate->add_subcommand("seed-projects", "Create the named projects if missing");
  std::vector<std::string> seed_names;
  migrate_seed->add_option("projects", seed_names, "Project names (none: nothing to do, as upstream)");

  app.footer(
      "Every configuration key is a flag too, as upstream's: --server.httpPort 8090,\n"
      "--server.security.allowedOrigins a,b, a bare --server.grpc.serverReflection for true.\n"
      "Flags win over environment variables, which win over --config files.\n");

  // The key flags are taken out first (CLI11 knows none of them); the rest is CLI11's.
  std::vector<std::string> args(argv + 1, argv + argc);
  auto config_flags = flyte::core::ExtractConfigFlags(args);
  if (!config_flags.ok()) return Fail(config_flags.status().message() + " (--help lists the options)");
  std::vector<char*> rest{argv[0]};
  for (auto& a : args) rest.push_back(a.data());
  CLI11_PARSE(app, static_cast<int>(rest.size()), rest.data());

  if (version->parsed()) {
    const auto& b = flyte::core::ThisBuild();
    std::cout << "flyteadmin " << b.version << " (commit " << b.commit << ", built " << b.build_time << ")\n";
    return 0;
  }
  if (reference->parsed()) {
    std::cout << flyte::core::ConfigReferenceMarkdown();
    return 0;
  }
  int exit_code = 0;
  if (discover->parsed()) {
    auto files = ResolveConfigFiles(config_files, exit_code);
    if (!files) return exit_code;
    for (const auto& f : *files) std::cout << f << "\n";
    if (files->empty()) std::cout << "no config file: the embedded standalone defaults\n";
    return 0;
  }
  auto config = LoadConfig(config_files, config_flags.value(), exit_code);
  if (!config) return exit_code;
  if (serve->parsed()) return Serve(*config);
  if (plugins->parsed()) return ListPlugins(*config);
  if (validate->parsed()) return ValidateConfig(*config, strict);
  if (migrate_run->parsed()) return Migrate(*config, "run", {});
  if (migrate_rollback->parsed()) return Migrate(*config, "rollback", {});
  if (migrate_seed->parsed()) return Migrate(*config, "seed-projects", seed_names);
  if (print->parsed()) {
    std::cout << config->root().dump(2) << "\n";
    return 0;
  }
  return 0;
}
