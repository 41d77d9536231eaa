// Runs that outlive their server: the run record, the process table, the resume plan of a node,
// and start-up's pass over the executions of this cluster a previous server left unfinished.
#include "restart.h"

#include <google/protobuf/util/time_util.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "flyte/plugin/call_context.h"
#include "flyte/plugin/managers.h"
#include "flyte/plugin/repositories.h"
#include "local_executor.h"
#include "node_logic.h"
#include "run.h"

// Propeller still fills the deprecated TaskExecutionEvent.reason for older admins.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::executor {

namespace {

namespace core = flyteidl::core;
namespace admin = flyteidl::admin;
namespace event = flyteidl::event;
namespace fs = std::filesystem;
using google::protobuf::util::TimeUtil;
using nlohmann::json;
using plugin::Status;
using plugin::StatusOr;

constexpr int kRecordVersion = 1;

json Bytes(const google::protobuf::Message& m) {
  const std::string s = m.SerializeAsString();
  return json::binary(std::vector<std::uint8_t>(s.begin(), s.end()));
}

Status ParseField(const json& j, const char* key, google::protobuf::Message& m, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    return required ? plugin::InvalidArgument(std::string("run record: no ") + key) : Status::Ok();
  }
  if (!it->is_binary()) return plugin::InvalidArgument(std::string("run record: ") + key + " is not bytes");
  const auto& b = it->get_binary();
  if (!m.ParseFromArray(b.data(), static_cast<int>(b.size())))
    return plugin::InvalidArgument(std::string("run record: ") + key + " is not a " +
                                   m.GetDescriptor()->full_name());
  return Status::Ok();
}

json Resources(const plugin::TaskResourceSet& r) {
  return {{"cpu", r.cpu}, {"gpu", r.gpu}, {"memory", r.memory}, {"ephemeral_storage", r.ephemeral_storage}};
}

plugin::TaskResourceSet ResourcesFrom(const json& j) {
  plugin::TaskResourceSet r;
  if (!j.is_object()) return r;
  r.cpu = j.value("cpu", "");
  r.gpu = j.value("gpu", "");
  r.memory = j.value("memory", "");
  r.ephemeral_storage = j.value("ephemeral_storage", "");
  return r;
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool TaskTerminal(core::TaskExecution::Phase p) {
  return p == core::TaskExecution::SUCCEEDED || p == core::TaskExecution::FAILED ||
         p == core::TaskExecution::ABORTED;
}

bool NodeTerminal(core::NodeExecution::Phase p) {
  return p == core::NodeExecution::SUCCEEDED || p == core::NodeExecution::FAILED ||
         p == core::NodeExecution::ABORTED || p == core::NodeExecution::SKIPPED ||
         p == core::NodeExecution::TIMED_OUT || p == core::NodeExecution::RECOVERED;
}

std::string ExecutionKey(const core::WorkflowExecutionIdentifier& id) {
  return id.project() + "/" + id.domain() + "/" + id.name();
}

std::string DirOf(const std::string& output_uri) {
  constexpr std::string_view kFile = "/outputs.pb";
  if (output_uri.size() <= kFile.size() ||
      output_uri.compare(output_uri.size() - kFile.size(), kFile.size(), kFile) != 0)
    return "";
  return output_uri.substr(0, output_uri.size() - kFile.size());
}

}  // namespace

std::string RunRecordUri(plugin::ObjectStore& store, const LocalExecutorSettings& settings,
                         const core::WorkflowExecutionIdentifier& id) {
  auto segments = settings.metadata_prefix;
  segments.push_back(id.project() + "-" + id.domain() + "-" + id.name());
  segments.push_back("local-executor");
  segments.push_back("run.cbor");
  auto joined = store.Join(store.BaseUri(), segments);
  if (joined.ok()) return joined.value();
  std::string out = store.BaseUri();
  for (const auto& s : segments) out += "/" + s;
  return out;
}

std::string EncodeRunRecord(const plugin::ExecutionData& data) {
  const auto& p = data.parameters;
  json j;
  j["version"] = kRecordVersion;
  j["namespace"] = data.namespace_;
  j["execution_id"] = Bytes(data.execution_id);
  j["reference_workflow_name"] = data.reference_workflow_name;
  j["reference_launch_plan_name"] = data.reference_launch_plan_name;
  j["workflow_closure"] = Bytes(data.workflow_closure);
  j["workflow_closure_reference"] = data.workflow_closure_reference;
  j["offloaded_inputs_reference"] = data.offloaded_inputs_reference;
  j["inputs"] = Bytes(p.inputs);
  j["accepted_at_ns"] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            p.accepted_at.time_since_epoch())
                            .count();
  j["labels"] = p.labels;
  j["annotations"] = p.annotations;
  j["task_plugin_overrides"] = json::array();
  for (const auto& o : p.task_plugin_overrides) j["task_plugin_overrides"].push_back(Bytes(o));
  j["execution_config"] = Bytes(p.execution_config);
  if (p.recovery_execution) j["recovery_execution"] = Bytes(*p.recovery_execution);
  j["task_resource_defaults"] = Resources(p.task_resource_defaults);
  j["task_resource_limits"] = Resources(p.task_resource_limits);
  j["event_version"] = p.event_version;
  j["role_name_key"] = p.role_name_key;
  j["raw_output_data_config"] = Bytes(p.raw_output_data_config);
  if (p.cluster_assignment) j["cluster_assignment"] = Bytes(*p.cluster_assignment);
  if (p.execution_cluster_label) j["execution_cluster_label"] = Bytes(*p.execution_cluster_label);
  auto cbor = json::to_cbor(j);
  return std::string(cbor.begin(), cbor.end());
}

StatusOr<plugin::ExecutionData> DecodeRunRecord(const std::string& bytes) {
  json j = json::from_cbor(bytes, true, false);
  if (j.is_discarded() || !j.is_object()) return plugin::InvalidArgument("run record: not CBOR");
  try {
    if (j.value("version", 0) != kRecordVersion)
      return plugin::InvalidArgument("run record: unknown version " + j.value("version", json()).dump());
    plugin::ExecutionData d;
    auto& p = d.parameters;
    if (auto s = ParseField(j, "execution_id", d.execution_id, true); !s.ok()) return s;
    if (auto s = ParseField(j, "workflow_closure", d.workflow_closure, true); !s.ok()) return s;
    if (auto s = ParseField(j, "inputs", p.inputs, true); !s.ok()) return s;
    if (auto s = ParseField(j, "execution_config", p.execution_config, false); !s.ok()) return s;
    if (auto s = ParseField(j, "raw_output_data_config", p.raw_output_data_config, false); !s.ok())
      return s;
    if (j.contains("recovery_execution")) {
      core::WorkflowExecutionIdentifier id;
      if (auto s = ParseField(j, "recovery_execution", id, true); !s.ok()) return s;
      p.recovery_execution = id;
    }
    if (j.contains("cluster_assignment")) {
      admin::ClusterAssignment a;
      if (auto s = ParseField(j, "cluster_assignment", a, true); !s.ok()) return s;
      p.cluster_assignment = a;
    }
    if (j.contains("execution_cluster_label")) {
      admin::ExecutionClusterLabel l;
      if (auto s = ParseField(j, "execution_cluster_label", l, true); !s.ok()) return s;
      p.execution_cluster_label = l;
    }
    for (const auto& o : j.value("task_plugin_overrides", json::array())) {
      admin::PluginOverride po;
      if (!o.is_binary() ||
          !po.ParseFromArray(o.get_binary().data(), static_cast<int>(o.get_binary().size())))
        return plugin::InvalidArgument("run record: a task plugin override is malformed");
      p.task_plugin_overrides.push_back(std::move(po));
    }
    d.namespace_ = j.value("namespace", "");
    d.reference_workflow_name = j.value("reference_workflow_name", "");
    d.reference_launch_plan_name = j.value("reference_launch_plan_name", "");
    d.workflow_closure_reference = j.value("workflow_closure_reference", "");
    d.offloaded_inputs_reference = j.value("offloaded_inputs_reference", "");
    p.accepted_at = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(j.value("accepted_at_ns", int64_t{0}))));
    p.labels = j.value("labels", std::map<std::string, std::string>{});
    p.annotations = j.value("annotations", std::map<std::string, std::string>{});
    p.task_resource_defaults = ResourcesFrom(j.value("task_resource_defaults", json::object()));
    p.task_resource_limits = ResourcesFrom(j.value("task_resource_limits", json::object()));
    p.event_version = j.value("event_version", 2);
    p.role_name_key = j.value("role_name_key", "");
    return d;
  } catch (const std::exception& e) {
    return plugin::InvalidArgument(std::string("run record: ") + e.what());
  }
}

std::optional<std::string> ProcessIdentity(pid_t pid) {
  const std::string stat = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  std::vector<std::string> values;
  while (fields >> field) values.push_back(field);
  // After the command: state is field 3, starttime field 22.
  if (values.size() < 20 || values[0] == "Z" || values[0] == "X") return std::nullopt;
  std::string boot = ReadSmallFile("/proc/sys/kernel/random/boot_id");
  while (!boot.empty() && (boot.back() == '\n' || boot.back() == ' ')) boot.pop_back();
  return values[19] + " " + boot;
}

ProcessTable::ProcessTable(std::string directory) : dir_(std::move(directory)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  self_ = std::to_string(::getpid()) + " " + ProcessIdentity(::getpid()).value_or("?");
}

void ProcessTable::Add(pid_t pid) {
  const auto identity = ProcessIdentity(pid);
  if (!identity) return;  // already gone
  std::ofstream(fs::path(dir_) / std::to_string(pid), std::ios::trunc)
      << *identity << "\n" << self_ << "\n";
}

void ProcessTable::Remove(pid_t pid) {
  std::error_code ec;
  fs::remove(fs::path(dir_) / std::to_string(pid), ec);
}

int ProcessTable::TerminateOrphans(std::chrono::milliseconds grace, spdlog::logger* logger) {
  std::vector<pid_t> signalled;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    std::istringstream in(ReadSmallFile(entry.path().string()));
    std::string identity, server_pid, server_identity;
    std::getline(in, identity);
    in >> server_pid;
    std::getline(in >> std::ws, server_identity);
    // A server that still runs (this one, or another sharing the directory) owns its groups.
    if (!server_pid.empty() && std::all_of(server_pid.begin(), server_pid.end(), ::isdigit)) {
      auto live = ProcessIdentity(static_cast<pid_t>(std::stol(server_pid)));
      if (live && *live == server_identity) continue;
    }
    // Only the very process recorded, never whatever reuses its pid now.
    if (ProcessIdentity(pid) == std::optional<std::string>(identity) && !identity.empty()) {
      if (::kill(-pid, SIGTERM) == 0) {
        signalled.push_back(pid);
        if (logger)
          logger->warn("local executor: stopping task process group {} left by a previous server",
                       pid);
        continue;
      }
    }
    fs::remove(entry.path(), ec);
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (pid_t pid : signalled) {
    const auto identity = ProcessIdentity(pid);
    while (ProcessIdentity(pid) == identity && identity &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ::kill(-pid, SIGKILL);  // the group, stragglers included
    fs::remove(fs::path(dir_) / std::to_string(pid), ec);
  }
  return static_cast<int>(signalled.size());
}

core::ExecutionError InterruptedByRestart() {
  core::ExecutionError e;
  e.set_kind(core::ExecutionError::SYSTEM);
  e.set_code(kRestartedCode);
  e.set_message("flyteadmin restarted while this attempt ran; its process was stopped");
  return e;
}

NodeResumePlan PlanNodeResume(std::vector<PastAttempt> attempts, uint32_t max_attempts,
                              uint32_t max_system_failures) {
  NodeResumePlan plan;
  if (attempts.empty()) return plan;
  std::sort(attempts.begin(), attempts.end(),
            [](const auto& a, const auto& b) { return a.retry_attempt < b.retry_attempt; });
  uint32_t system_failures = 0;
  core::ExecutionError last_error;
  bool last_system = false;
  for (const auto& a : attempts) {
    if (a.phase == core::TaskExecution::SUCCEEDED) {
      plan.action = NodeResumePlan::Action::kSucceeded;
      plan.output_dir = DirOf(a.output_uri);
      return plan;
    }
    if (!TaskTerminal(a.phase)) {
      plan.interrupted = a.retry_attempt;
      last_error = InterruptedByRestart();
    } else if (a.phase == core::TaskExecution::FAILED) {
      last_error = a.error;
    } else {  // ABORTED: a timed-out attempt
      last_error = a.error;
      last_error.set_kind(core::ExecutionError::USER);
    }
    last_system = last_error.kind() == core::ExecutionError::SYSTEM;
    if (last_system) ++system_failures;
  }
  const uint32_t last_attempt = attempts.back().retry_attempt;
  uint32_t current, max;
  if (last_system) {
    current = system_failures - 1;
    max = max_system_failures;
  } else {
    current = last_attempt + 1 - system_failures;
    max = max_attempts;
  }
  plan.system_failures = system_failures;
  plan.next_attempt = last_attempt + 1;
  if (current < max) return plan;
  plan.action = NodeResumePlan::Action::kFail;
  plan.error.set_kind(core::ExecutionError::USER);
  plan.error.set_code("RetriesExhausted|" + last_error.code());
  plan.error.set_message("[" + std::to_string(current) + "/" + std::to_string(max) +
                         "] currentAttempt done. Last Error: " +
                         core::ExecutionError::ErrorKind_Name(last_error.kind()) +
                         "::" + last_error.message());
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Start-up's pass.

namespace {

// One manager call as the run makes them: in-process, retried while NOT_FOUND is not expected.
template <typename Send>
Status Call(const std::string& what, Send send) {
  plugin::CallContext call("/flyteidl.service.AdminService/" + what, {}, "flyte_executor_local",
                           false);
  return send(call);
}

bool Accepted(const Status& s) {
  return s.ok() || s.code() == plugin::StatusCode::kAlreadyExists;
}

struct Managers {
  std::shared_ptr<plugin::ObjectStore> store;
  std::shared_ptr<plugin::db::Repositories> db;
  std::shared_ptr<plugin::ExecutionManager> executions;
  std::shared_ptr<plugin::NodeExecutionManager> nodes;
  std::shared_ptr<plugin::TaskExecutionManager> tasks;
};

class Recovery {
 public:
  Recovery(LocalExecutor& owner, Managers m) : owner_(owner), m_(std::move(m)) {}

  // Executions of this cluster in a phase that is not terminal.
  StatusOr<std::vector<core::WorkflowExecutionIdentifier>> Unfinished() {
    std::vector<core::WorkflowExecutionIdentifier> out;
    plugin::db::ListInput input;
    input.filters.push_back({"executions", "cluster", plugin::db::FilterOp::kEq,
                             {owner_.settings().cluster_id}});
    input.filters.push_back({"executions", "phase", plugin::db::FilterOp::kValueIn,
                             {"UNDEFINED", "QUEUED", "RUNNING", "SUCCEEDING", "FAILING",
                              "ABORTING"}});
    input.sort = plugin::db::Sort{"id", true};
    input.limit = 200;
    while (true) {
      auto rows = m_.db->Executions().List(input);
      if (!rows.ok()) return rows.status();
      for (const auto& r : rows.value()) {
        core::WorkflowExecutionIdentifier id;
        id.set_project(r.key.project);
        id.set_domain(r.key.domain);
        id.set_name(r.key.name);
        out.push_back(std::move(id));
      }
      if (rows->size() < input.limit) break;
      input.offset += input.limit;
    }
    return out;
  }

  void Handle(const core::WorkflowExecutionIdentifier& id) {
    admin::Execution execution;
    admin::WorkflowExecutionGetRequest get;
    *get.mutable_id() = id;
    if (auto s = Call("GetExecution", [&](auto& call) {
          return m_.executions->GetExecution(call, get, execution);
        });
        !s.ok()) {
      Log()->warn("local executor: cannot read execution {} after a restart: {}", ExecutionKey(id),
                  s.message());
      return;
    }
    const auto phase = execution.closure().phase();
    if (phase == core::WorkflowExecution::ABORTING) {
      // The abort was asked for; the server stopped before it was reported.
      const std::string reason = execution.closure().abort_metadata().cause().empty()
                                     ? "Workflow aborted."
                                     : execution.closure().abort_metadata().cause();
      CloseOpenNodes(id, reason);
      SendWorkflow(id, core::WorkflowExecution::ABORTED, nullptr);
      Log()->info("local executor: execution {} was aborting at the restart: reported ABORTED",
                  ExecutionKey(id));
      return;
    }
    if (owner_.settings().on_restart == LocalExecutorSettings::OnRestart::kFail) {
      Fail(id, phase, "the executor is configured not to resume runs (onRestart: fail)");
      return;
    }
    std::string why;
    auto run = Prepare(id, execution, why);
    if (!run) {
      Fail(id, phase, why);
      return;
    }
    Log()->info("local executor: resuming execution {} after a restart", ExecutionKey(id));
    owner_.Adopt(ExecutionKey(id), run);
  }

 private:
  std::shared_ptr<spdlog::logger> Log() { return owner_.host().Logger(); }

  // The run continued from the admin's record, or null with the reason it cannot be.
  std::shared_ptr<Run> Prepare(const core::WorkflowExecutionIdentifier& id,
                               const admin::Execution& execution, std::string& why) {
    const std::string uri = RunRecordUri(*m_.store, owner_.settings(), id);
    auto bytes = m_.store->Read(uri);
    if (!bytes.ok()) {
      why = "its run record " + uri + " cannot be read: " + bytes.status().message();
      return nullptr;
    }
    auto data = DecodeRunRecord(bytes.value());
    if (!data.ok()) {
      why = data.status().message();
      return nullptr;
    }
    if (ExecutionKey(data->execution_id) != ExecutionKey(id)) {
      why = "its run record names another execution";
      return nullptr;
    }
    if (auto s = CheckSupported(data->workflow_closure); !s.ok()) {
      why = s.message();
      return nullptr;
    }
    auto nodes = ListNodes(id);
    if (!nodes.ok()) {
      why = "its node executions cannot be listed: " + nodes.status().message();
      return nullptr;
    }
    std::map<std::string, const core::TaskTemplate*> tasks;
    for (const auto& t : data->workflow_closure.tasks()) {
      const auto& tid = t.template_().id();
      tasks[tid.project() + "/" + tid.domain() + "/" + tid.name() + "/" + tid.version()] =
          &t.template_();
    }
    ResumePoint point;
    const auto phase = execution.closure().phase();
    point.report_running =
        phase == core::WorkflowExecution::UNDEFINED || phase == core::WorkflowExecution::QUEUED;
    bool failed = false, aborted = false;
    for (const auto& node : data->workflow_closure.primary().template_().nodes()) {
      // Stored under the id its events carried: propeller's unique id (hashed when long).
      auto found = nodes->find(GenerateUniqueId(std::nullopt, node.id()));
      if (found == nodes->end() || node.id() == "start-node" || node.id() == "end-node") continue;
      if (!node.has_task_node()) {
        // Only task nodes are picked up where they were; the other kinds keep state of their own
        // (branches taken, child executions, signals) that a resumed walk would not know.
        why = "node " + node.id() + " is not a task node and had started";
        return nullptr;
      }
      const admin::NodeExecution& ne = found->second;
      const auto& ref = node.task_node().reference_id();
      const core::TaskTemplate* task =
          tasks[ref.project() + "/" + ref.domain() + "/" + ref.name() + "/" + ref.version()];
      ResumePoint::Node state;
      switch (ne.closure().phase()) {
        case core::NodeExecution::SUCCEEDED:
        case core::NodeExecution::RECOVERED: {
          state.phase = ResumePoint::Node::Phase::kSucceeded;
          state.output_dir = DirOf(ne.closure().output_uri());
          if (task != nullptr && task->interface().outputs().variables_size() > 0 &&
              (state.output_dir.empty() || !m_.store->Size(ne.closure().output_uri()).ok())) {
            why = "the outputs of node " + node.id() + " are missing (" +
                  ne.closure().output_uri() + ")";
            return nullptr;
          }
          break;
        }
        case core::NodeExecution::FAILED:
        case core::NodeExecution::TIMED_OUT:
          state.phase = ResumePoint::Node::Phase::kFailed;
          state.error = ne.closure().error();
          failed = true;
          break;
        case core::NodeExecution::ABORTED:
        case core::NodeExecution::SKIPPED:
          aborted = true;
          continue;
        default: {
          if (ne.metadata().is_dynamic() ||
              ne.closure().phase() == core::NodeExecution::DYNAMIC_RUNNING) {
            // Its children ran under the attempt the restart stopped; a resumed walk would not
            // know them.
            why = "node " + node.id() + " is a dynamic node and had started";
            return nullptr;
          }
          if (task == nullptr) {
            why = "the task of node " + node.id() + " is not in the workflow";
            return nullptr;
          }
          auto attempts = ListAttempts(ne.id());
          if (!attempts.ok()) {
            why = "the attempts of node " + node.id() + " cannot be listed: " +
                  attempts.status().message();
            return nullptr;
          }
          uint32_t max_attempts = 1;
          if (node.metadata().retries().retries() != 0) {
            max_attempts = node.metadata().retries().retries() + 1;
          } else if (task->metadata().retries().retries() != 0) {
            max_attempts = task->metadata().retries().retries() + 1;
          }
          std::vector<PastAttempt> past;
          for (const auto& t : attempts.value()) {
            PastAttempt a;
            a.retry_attempt = t.id().retry_attempt();
            a.phase = t.closure().phase();
            a.error = t.closure().error();
            a.output_uri = t.closure().output_uri();
            past.push_back(std::move(a));
          }
          auto plan = PlanNodeResume(past, max_attempts,
                                     static_cast<uint32_t>(owner_.settings().max_system_failures));
          if (plan.interrupted) {
            for (const auto& t : attempts.value()) {
              if (t.id().retry_attempt() == *plan.interrupted)
                CloseTask(t, core::TaskExecution::FAILED, InterruptedByRestart());
            }
          }
          switch (plan.action) {
            case NodeResumePlan::Action::kRun:
              state.phase = ResumePoint::Node::Phase::kRerun;
              state.next_attempt = plan.next_attempt;
              state.system_failures = plan.system_failures;
              state.reported_running = ne.closure().phase() == core::NodeExecution::RUNNING;
              break;
            case NodeResumePlan::Action::kSucceeded: {
              if (plan.output_dir.empty()) {
                why = "the last attempt of node " + node.id() + " has no outputs location";
                return nullptr;
              }
              if (m_.store->Size(plan.output_dir + "/futures.pb").ok()) {
                why = "node " + node.id() + " is a dynamic node and had started";
                return nullptr;
              }
              state.phase = ResumePoint::Node::Phase::kSucceeded;
              state.output_dir = plan.output_dir;
              auto e = NodeEvent(ne, core::NodeExecution::SUCCEEDED);
              e.set_output_uri(plan.output_dir + "/outputs.pb");
              SendNode(std::move(e));
              break;
            }
            case NodeResumePlan::Action::kFail: {
              state.phase = ResumePoint::Node::Phase::kFailed;
              state.error = plan.error;
              failed = true;
              auto e = NodeEvent(ne, core::NodeExecution::FAILED);
              *e.mutable_error() = plan.error;
              SendNode(std::move(e));
              break;
            }
          }
        }
      }
      point.nodes[node.id()] = std::move(state);
    }
    if (aborted && !failed) {
      why = "some of its nodes were aborted and none failed";
      return nullptr;
    }
    auto store = m_.store;
    auto run = std::make_shared<Run>(owner_, *store, std::move(data.value()));
    run->Resume(std::move(point));
    return run;
  }

  // Reports the run FAILED with the restart's error after closing what it left open.
  void Fail(const core::WorkflowExecutionIdentifier& id, core::WorkflowExecution::Phase phase,
            const std::string& why) {
    core::ExecutionError error;
    error.set_kind(core::ExecutionError::SYSTEM);
    error.set_code(kRestartedCode);
    error.set_message("flyteadmin restarted while the execution ran on the local executor [" +
                      owner_.settings().cluster_id + "] and the run could not be resumed: " + why);
    Log()->warn("local executor: failing execution {}: {}", ExecutionKey(id), error.message());
    CloseOpenNodes(id, error.message());
    if (phase != core::WorkflowExecution::FAILING)
      SendWorkflow(id, core::WorkflowExecution::FAILING, &error);
    SendWorkflow(id, core::WorkflowExecution::FAILED, &error);
  }

  StatusOr<std::map<std::string, admin::NodeExecution>> ListNodes(
      const core::WorkflowExecutionIdentifier& id) {
    std::map<std::string, admin::NodeExecution> out;
    admin::NodeExecutionListRequest req;
    *req.mutable_workflow_execution_id() = id;
    req.set_limit(100);
    while (true) {
      admin::NodeExecutionList list;
      if (auto s = Call("ListNodeExecutions",
                        [&](auto& call) { return m_.nodes->ListNodeExecutions(call, req, list); });
          !s.ok())
        return s;
      for (const auto& n : list.node_executions()) out[n.id().node_id()] = n;
      if (list.token().empty()) break;
      req.set_token(list.token());
    }
    return out;
  }

  StatusOr<std::vector<admin::TaskExecution>> ListAttempts(const core::NodeExecutionIdentifier& id) {
    std::vector<admin::TaskExecution> out;
    admin::TaskExecutionListRequest req;
    *req.mutable_node_execution_id() = id;
    req.set_limit(100);
    while (true) {
      admin::TaskExecutionList list;
      if (auto s = Call("ListTaskExecutions",
                        [&](auto& call) { return m_.tasks->ListTaskExecutions(call, req, list); });
          !s.ok())
        return s;
      for (const auto& t : list.task_executions()) out.push_back(t);
      if (list.token().empty()) break;
      req.set_token(list.token());
    }
    return out;
  }

  // Every node (and its attempts) still open is reported ABORTED with `reason`.
  void CloseOpenNodes(const core::WorkflowExecutionIdentifier& id, const std::string& reason) {
    auto nodes = ListNodes(id);
    if (!nodes.ok()) return;
    for (const auto& [node_id, ne] : nodes.value()) {
      if (NodeTerminal(ne.closure().phase())) continue;
      if (auto attempts = ListAttempts(ne.id()); attempts.ok()) {
        core::ExecutionError aborted;
        aborted.set_code("Task Aborted");
        aborted.set_message(reason);
        for (const auto& t : attempts.value()) {
          if (!TaskTerminal(t.closure().phase())) CloseTask(t, core::TaskExecution::ABORTED, aborted);
        }
      }
      auto e = NodeEvent(ne, core::NodeExecution::ABORTED);
      e.mutable_error()->set_code("NodeAborted");
      e.mutable_error()->set_message(reason);
      SendNode(std::move(e));
    }
  }

  event::NodeExecutionEvent NodeEvent(const admin::NodeExecution& ne,
                                      core::NodeExecution::Phase phase) {
    event::NodeExecutionEvent e;
    *e.mutable_id() = ne.id();
    e.set_phase(phase);
    *e.mutable_occurred_at() = TimeUtil::GetCurrentTime();
    *e.mutable_reported_at() = e.occurred_at();
    e.set_producer_id(owner_.settings().cluster_id);
    e.set_event_version(1);
    e.set_spec_node_id(ne.metadata().spec_node_id().empty() ? ne.id().node_id()
                                                            : ne.metadata().spec_node_id());
    e.set_input_uri(ne.input_uri());
    return e;
  }

  void SendNode(event::NodeExecutionEvent e) {
    admin::NodeExecutionEventRequest request;
    request.set_request_id(e.id().execution_id().name() + "-" + e.id().node_id() + "-" +
                           core::NodeExecution::Phase_Name(e.phase()) + "-restart");
    *request.mutable_event() = std::move(e);
    admin::NodeExecutionEventResponse response;
    auto s = Call("CreateNodeEvent",
                  [&](auto& call) { return m_.nodes->CreateNodeEvent(call, request, response); });
    if (!Accepted(s)) Log()->warn("local executor: CreateNodeEvent refused: {}", s.message());
  }

  void CloseTask(const admin::TaskExecution& t, core::TaskExecution::Phase phase,
                 const core::ExecutionError& error) {
    event::TaskExecutionEvent e;
    *e.mutable_task_id() = t.id().task_id();
    *e.mutable_parent_node_execution_id() = t.id().node_execution_id();
    e.set_retry_attempt(t.id().retry_attempt());
    e.set_phase(phase);
    e.set_producer_id(owner_.settings().cluster_id);
    e.set_task_type(t.closure().task_type());
    *e.mutable_metadata() = t.closure().metadata();
    e.set_event_version(1);
    e.set_input_uri(t.input_uri());
    *e.mutable_occurred_at() = TimeUtil::GetCurrentTime();
    *e.mutable_reported_at() = e.occurred_at();
    *e.mutable_error() = error;
    e.set_reason(error.message());
    auto* reason = e.add_reasons();
    reason->set_reason(error.message());
    *reason->mutable_occurred_at() = e.occurred_at();
    admin::TaskExecutionEventRequest request;
    request.set_request_id(t.id().node_execution_id().execution_id().name() + "-" +
                           t.id().node_execution_id().node_id() + "-" +
                           std::to_string(t.id().retry_attempt()) + "-" +
                           core::TaskExecution::Phase_Name(phase) + "-restart");
    *request.mutable_event() = std::move(e);
    admin::TaskExecutionEventResponse response;
    auto s = Call("CreateTaskEvent",
                  [&](auto& call) { return m_.tasks->CreateTaskEvent(call, request, response); });
    if (!Accepted(s)) Log()->warn("local executor: CreateTaskEvent refused: {}", s.message());
  }

  void SendWorkflow(const core::WorkflowExecutionIdentifier& id,
                    core::WorkflowExecution::Phase phase, const core::ExecutionError* error) {
    admin::WorkflowExecutionEventRequest request;
    request.set_request_id(id.name() + "-" + core::WorkflowExecution::Phase_Name(phase) +
                           "-restart");
    auto* e = request.mutable_event();
    *e->mutable_execution_id() = id;
    e->set_producer_id(owner_.settings().cluster_id);
    e->set_phase(phase);
    *e->mutable_occurred_at() = TimeUtil::GetCurrentTime();
    if (error != nullptr) *e->mutable_error() = *error;
    admin::WorkflowExecutionEventResponse response;
    auto s = Call("CreateWorkflowEvent", [&](auto& call) {
      return m_.executions->CreateWorkflowEvent(call, request, response);
    });
    if (!Accepted(s)) Log()->warn("local executor: CreateWorkflowEvent refused: {}", s.message());
  }

  LocalExecutor& owner_;
  Managers m_;
};

}  // namespace

void LocalExecutor::Recover() {
  // However it ends, start-up's look is over: nothing needs remembering for it any longer.
  struct Done {
    LocalExecutor& self;
    ~Done() {
      std::lock_guard lock(self.mu_);
      self.recovering_ = false;
      self.launched_.clear();
      self.aborted_.clear();
    }
  } done{*this};
  // The registry is complete once start-up has loaded every plugin; the managers this needs are
  // there from then on (and never, e.g., in `flyteadmin plugins`, which opens no storage).
  Managers m;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!stopping_) {
    const auto& r = host_.Plugins();
    m.store = r.Get<plugin::ObjectStore>(plugin::plugin_id::kStorage);
    m.db = r.Get<plugin::db::Repositories>(plugin::plugin_id::kDatabase);
    m.executions = r.Get<plugin::ExecutionManager>(plugin::plugin_id::kExecutionManager);
    m.nodes = r.Get<plugin::NodeExecutionManager>(plugin::plugin_id::kNodeExecutionManager);
    m.tasks = r.Get<plugin::TaskExecutionManager>(plugin::plugin_id::kTaskExecutionManager);
    if (m.store && m.db && m.executions && m.nodes && m.tasks) break;
    if (std::chrono::steady_clock::now() > deadline) {
      if (m.store && m.db) {
        host_.Logger()->warn(
            "local executor: the execution managers are not loaded; runs a previous server left "
            "are not looked at");
      }
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (stopping_) return;
  processes_->TerminateOrphans(settings_.termination_grace, host_.Logger().get());
  Recovery recovery(*this, m);
  auto ids = recovery.Unfinished();
  if (!ids.ok()) {
    host_.Logger()->error("local executor: cannot list the runs a previous server left: {}",
                          ids.status().message());
    return;
  }
  for (const auto& id : ids.value()) {
    if (stopping_) return;
    {
      std::lock_guard lock(mu_);
      const std::string key = ExecutionKey(id);
      if (launched_.count(key) > 0 || runs_.count(key) > 0) continue;
    }
    recovery.Handle(id);
  }
}

}  // namespace flyte::plugins::executor
