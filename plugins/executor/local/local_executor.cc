// The local WorkflowExecutor: settings, the worker pool and the table of runs.
#include "local_executor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "flyte/plugin/storage.h"
#include "restart.h"
#include "run.h"
#include "task_runtime.h"

namespace flyte::plugins::executor {

namespace {

using plugin::Status;
using plugin::StatusOr;

std::string KeyOf(const flyteidl::core::WorkflowExecutionIdentifier& id) {
  return id.project() + "/" + id.domain() + "/" + id.name();
}

Status WrongType(const std::string& key, const char* want) {
  return plugin::InvalidArgument("flyte_executor_local config: " + key + " must be " + want);
}

}  // namespace

StatusOr<LocalExecutorSettings> LocalExecutorSettings::FromConfig(const nlohmann::json& section) {
  LocalExecutorSettings s;
  if (section.is_null()) return s;
  if (!section.is_object())
    return plugin::InvalidArgument("flyte_executor_local config must be an object");
  static const std::set<std::string> known{"clusterId",
                                           "metadataPrefix",
                                           "rawOutputPrefix",
                                           "workers",
                                           "maxNodeRetriesForSystemFailures",
                                           "terminationGracePeriod",
                                           "executionWait",
                                           "inheritEnv",
                                           "scratchDirectory",
                                           "onRestart",
                                           "maxOutputSize",
                                           "maxLogSize",
                                           "maxTTLHours"};
  for (const auto& [key, value] : section.items()) {
    if (known.count(key) == 0)
      return plugin::InvalidArgument("flyte_executor_local config: unknown key " + key);
  }
  auto str = [&](const char* key, std::string& out) -> Status {
    if (!section.contains(key)) return Status::Ok();
    if (!section[key].is_string()) return WrongType(key, "a string");
    out = section[key].get<std::string>();
    return Status::Ok();
  };
  auto positive = [&](const char* key, int64_t& out, bool allow_zero) -> Status {
    if (!section.contains(key)) return Status::Ok();
    const auto& v = section[key];
    if (!v.is_number_integer() || v.get<int64_t>() < (allow_zero ? 0 : 1))
      return WrongType(key, allow_zero ? "a non-negative integer" : "a positive integer");
    out = v.get<int64_t>();
    return Status::Ok();
  };
  auto list = [&](const char* key, std::vector<std::string>& out) -> Status {
    if (!section.contains(key)) return Status::Ok();
    const auto& v = section[key];
    if (!v.is_array()) return WrongType(key, "a list of strings");
    out.clear();
    for (const auto& item : v) {
      if (!item.is_string() || item.get<std::string>().empty())
        return WrongType(key, "a list of non-empty strings");
      out.push_back(item.get<std::string>());
    }
    return Status::Ok();
  };
  if (auto st = str("clusterId", s.cluster_id); !st.ok()) return st;
  if (s.cluster_id.empty()) return WrongType("clusterId", "a non-empty string");
  std::string prefix;
  if (section.contains("metadataPrefix")) {
    if (auto st = str("metadataPrefix", prefix); !st.ok()) return st;
    s.metadata_prefix.clear();
    std::size_t start = 0;
    while (start <= prefix.size()) {
      auto slash = prefix.find('/', start);
      std::string seg =
          prefix.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      if (!seg.empty()) s.metadata_prefix.push_back(seg);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  if (auto st = str("rawOutputPrefix", s.raw_output_prefix); !st.ok()) return st;
  if (auto st = str("scratchDirectory", s.scratch_directory); !st.ok()) return st;
  int64_t workers = s.workers, sys = s.max_system_failures, grace = s.termination_grace.count(),
          wait = s.event_wait.count();
  if (auto st = positive("workers", workers, false); !st.ok()) return st;
  if (auto st = positive("maxNodeRetriesForSystemFailures", sys, true); !st.ok()) return st;
  if (auto st = positive("terminationGracePeriod", grace, true); !st.ok()) return st;
  if (auto st = positive("executionWait", wait, true); !st.ok()) return st;
  s.workers = static_cast<int>(workers);
  s.max_system_failures = static_cast<int>(sys);
  s.termination_grace = std::chrono::milliseconds(grace);
  s.event_wait = std::chrono::milliseconds(wait);
  if (auto st = list("inheritEnv", s.inherit_env); !st.ok()) return st;
  std::string on_restart = "resume";
  if (auto st = str("onRestart", on_restart); !st.ok()) return st;
  if (on_restart == "resume") {
    s.on_restart = LocalExecutorSettings::OnRestart::kResume;
  } else if (on_restart == "fail") {
    s.on_restart = LocalExecutorSettings::OnRestart::kFail;
  } else {
    return WrongType("onRestart", "resume or fail");
  }
  if (auto st = positive("maxOutputSize", s.max_output_size, false); !st.ok()) return st;
  if (auto st = positive("maxLogSize", s.max_log_size, true); !st.ok()) return st;
  int64_t ttl = s.max_ttl_hours;
  if (auto st = positive("maxTTLHours", ttl, true); !st.ok()) return st;
  s.max_ttl_hours = static_cast<int>(std::min<int64_t>(ttl, 24 * 365 * 100));
  return s;
}

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      while (true) {
        std::function<void()> job;
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
          if (jobs_.empty()) return;
          job = std::move(jobs_.front());
          jobs_.pop_front();
        }
        job();
      }
    });
  }
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

LocalExecutor::LocalExecutor(plugin::HostContext& host, LocalExecutorSettings settings)
    : host_(host),
      settings_(std::move(settings)),
      pool_(std::make_unique<WorkerPool>(settings_.workers)) {
  if (settings_.scratch_directory.empty())
    settings_.scratch_directory =
        (std::filesystem::temp_directory_path() / "flyte-local-executor").string();
  processes_ = std::make_unique<ProcessTable>(
      (std::filesystem::path(settings_.scratch_directory) / "processes").string());
}

void LocalExecutor::Serving() {
  {
    std::lock_guard lock(mu_);
    if (recovery_.joinable() || stopping_) return;
    // Runs a previous server left are looked at once the managers are there, without holding
    // up the server.
    recovery_ = std::thread([this] { Recover(); });
  }
  pool_->Submit([this] { SweepScratch(); });
}

void LocalExecutor::RunEnded() {
  if (stopping_) return;  // Stop joins and releases them
  pool_->Submit([this] {
    std::lock_guard lock(mu_);
    Reap();
  });
}

void LocalExecutor::SweepScratch() {
  namespace fs = std::filesystem;
  if (settings_.max_ttl_hours <= 0 || stopping_) return;
  const auto now = std::chrono::steady_clock::now();
  std::set<std::string> live;
  {
    std::lock_guard lock(mu_);
    if (last_sweep_ && now - *last_sweep_ < std::chrono::minutes(30)) return;
    last_sweep_ = now;
    // The directory names runs write under (run.cc: <project>-<domain>-<name>).
    for (const auto& [key, run] : runs_) {
      if (run->finished()) continue;
      std::string name = key;
      std::replace(name.begin(), name.end(), '/', '-');
      live.insert(name);
    }
  }
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(settings_.max_ttl_hours);
  std::error_code ec;
  for (fs::directory_iterator it(settings_.scratch_directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code fec;
    if (name == "processes" || live.count(name) > 0 || !it->is_directory(fec)) continue;
    const auto changed = fs::last_write_time(it->path(), fec);
    if (fec || changed >= cutoff) continue;
    fs::remove_all(it->path(), fec);
    if (fec) {
      host_.Logger()->warn("local executor: cannot remove the scratch directory {}: {}",
                           it->path().string(), fec.message());
    }
  }
}

LocalExecutor::~LocalExecutor() {
  Stop();
  pool_.reset();
}

void LocalExecutor::Stop() {
  std::thread recovery;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    recovery.swap(recovery_);
  }
  if (recovery.joinable()) {
    if (recovery.get_id() != std::this_thread::get_id()) {
      recovery.join();
    } else {
      recovery.detach();
    }
  }
  std::map<std::string, std::shared_ptr<Run>> runs;
  {
    std::lock_guard lock(mu_);
    runs.swap(runs_);
  }
  for (auto& [key, run] : runs) run->RequestAbort("flyteadmin is shutting down", true);
  for (auto& [key, run] : runs) run->Join();
}

void LocalExecutor::Reap() {
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (it->second->finished()) {
      it->second->Join();
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
}

StatusOr<plugin::ExecutionResponse> LocalExecutor::Execute(const plugin::ExecutionData& data) {
  auto store = host_.Plugins().Get<plugin::ObjectStore>(plugin::plugin_id::kStorage);
  if (!store)
    return plugin::FailedPrecondition(
        "the local executor needs an ObjectStore plugin (PluginID Storage)");
  if (LocalPath(store->BaseUri()).empty()) {
    return plugin::FailedPrecondition(
        "the local executor needs a file:// object store; storage is at " + store->BaseUri());
  }
  if (auto s = CheckSupported(data.workflow_closure); !s.ok()) return s;
  const std::string key = KeyOf(data.execution_id);
  {
    std::lock_guard lock(mu_);
    if (auto it = runs_.find(key); it != runs_.end())
      return plugin::ExecutionResponse{settings_.cluster_id};
    if (recovering_) launched_.insert(key);
  }
  // What the run is given is kept so that a server started after this one can resume it.
  const std::string record = RunRecordUri(*store, settings_, data.execution_id);
  if (auto s = store->Write(record, EncodeRunRecord(data)); !s.ok()) {
    return plugin::Internal("the local executor cannot keep the run record " + record + ": " +
                            s.message());
  }
  pool_->Submit([this] { SweepScratch(); });  // at most every 30 minutes, off this call
  if (!Adopt(key, std::make_shared<Run>(*this, *store, data)) && stopping_) {
    return plugin::Unavailable("the local executor is shutting down");
  }
  return plugin::ExecutionResponse{settings_.cluster_id};
}

bool LocalExecutor::Adopt(const std::string& key, std::shared_ptr<Run> run) {
  std::lock_guard lock(mu_);
  if (stopping_) return false;  // Stop has taken (or is taking) the runs to join
  Reap();
  if (auto it = runs_.find(key); it != runs_.end()) return false;
  if (aborted_.count(key) > 0) return false;  // terminated while start-up looked at it
  runs_[key] = run;
  run->Start();
  return true;
}

Status LocalExecutor::Abort(const plugin::AbortData& data) {
  std::shared_ptr<Run> run;
  {
    std::lock_guard lock(mu_);
    if (auto it = runs_.find(KeyOf(data.execution_id));
        it != runs_.end() && !it->second->finished())
      run = it->second;
    if (!run && recovering_) aborted_.insert(KeyOf(data.execution_id));
  }
  if (run && run->RequestAbort("Workflow aborted.", false)) return Status::Ok();
  // Nothing runs here for it (a restart lost the run, or the run is leaving without a word):
  // what propeller reports once the workflow is gone.
  auto id = data.execution_id;
  pool_->Submit([this, id] { Run::ReportAborted(*this, id); });
  return Status::Ok();
}

}  // namespace flyte::plugins::executor
