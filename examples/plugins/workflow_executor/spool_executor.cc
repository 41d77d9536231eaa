// WorkflowExecutor "spool": hands each execution to whatever runs workflows at your site by
// writing it as one JSON file into a spool directory (config `directory`), the way a platform
// team bridges flyteadmin to its own scheduler: a runner picks up <project>.<domain>.<name>.json,
// and an abort is a <project>.<domain>.<name>.abort file beside it.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "flyte/plugin/plugin.h"
#include "flyte/plugin/workflow_executor.h"

namespace {

namespace fs = std::filesystem;
using flyte::plugin::Status;
using flyte::plugin::StatusOr;

nlohmann::json ToJson(const google::protobuf::Message& message) {
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text).ok()) return nullptr;
  return nlohmann::json::parse(text);
}

class SpoolExecutor final : public flyte::plugin::WorkflowExecutor {
 public:
  SpoolExecutor(fs::path directory, std::string cluster, std::shared_ptr<spdlog::logger> logger)
      : directory_(std::move(directory)), cluster_(std::move(cluster)), logger_(std::move(logger)) {}

  std::string Id() const override { return "spool"; }

  StatusOr<flyte::plugin::ExecutionResponse> Execute(const flyte::plugin::ExecutionData& data) override {
    auto base = BaseName(data.execution_id);
    if (!base.ok()) return base.status();
    nlohmann::json job = {
        {"executionId", ToJson(data.execution_id)},
        {"namespace", data.namespace_},
        {"launchPlan", data.reference_launch_plan_name},
        {"workflow", data.reference_workflow_name},
        {"workflowClosure", ToJson(data.workflow_closure)},
        {"inputs", ToJson(data.parameters.inputs)},
        {"inputsUri", data.offloaded_inputs_reference},
        {"rawOutputPrefix", data.parameters.raw_output_data_config.output_location_prefix()},
        {"labels", data.parameters.labels},
        {"annotations", data.parameters.annotations},
    };
    if (auto s = WriteAtomically(base.value() + ".json", job.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)); !s.ok()) return s;
    logger_->info("spooled execution {} to {}", data.execution_id.name(), directory_.string());
    return flyte::plugin::ExecutionResponse{cluster_};
  }

  Status Abort(const flyte::plugin::AbortData& data) override {
    auto base = BaseName(data.execution_id);
    if (!base.ok()) return base.status();
    return WriteAtomically(base.value() + ".abort", ToJson(data.execution_id).dump());
  }

 private:
  // Identifiers become file names, so only the characters flyteadmin allows in them pass.
  static StatusOr<std::string> BaseName(const flyteidl::core::WorkflowExecutionIdentifier& id) {
    static const std::regex kSafe("[A-Za-z0-9_-]+");
    for (const auto* part : {&id.project(), &id.domain(), &id.name()}) {
      if (!std::regex_match(*part, kSafe)) return flyte::plugin::InvalidArgument("unsafe identifier '" + *part + "'");
    }
    return id.project() + "." + id.domain() + "." + id.name();
  }

  // Temp file + rename: a runner never sees half a file. An existing file is replaced (a retried
  // Execute counts as started, as the WorkflowExecutor contract wants).
  Status WriteAtomically(const std::string& name, const std::string& body) {
    fs::path target = directory_ / name;
    fs::path temp = directory_ / ("." + name + "." + std::to_string(++sequence_) + ".tmp");
    std::error_code ec;
    fs::create_directories(directory_, ec);
    {
      std::ofstream out(temp, std::ios::trunc);
      out << body;
      if (!out.flush()) return flyte::plugin::Internal("cannot write " + temp.string());
    }
    fs::rename(temp, target, ec);
    if (ec) return flyte::plugin::Internal("cannot rename to " + target.string() + ": " + ec.message());
    return Status::Ok();
  }

  fs::path directory_;
  std::string cluster_;
  std::shared_ptr<spdlog::logger> logger_;
  std::atomic<unsigned> sequence_{0};
};

Status Register(flyte::plugin::HostContext& host) {
  const auto& config = host.PluginConfig();
  auto directory = config.value("directory", nlohmann::json());
  auto cluster = config.value("cluster", nlohmann::json("spool"));
  if (!directory.is_string() || directory.get<std::string>().empty() || !cluster.is_string()) {
    return flyte::plugin::InvalidArgument("directory (the spool directory) is required; cluster is a name");
  }
  return host.Register(flyte::plugin::plugin_id::kWorkflowExecutor,
                       std::make_shared<SpoolExecutor>(directory.get<std::string>(), cluster.get<std::string>(),
                                                       host.Logger()));
}

}  // namespace

FLYTE_PLUGIN("example_spool_executor", "0.1.0",
             "Example WorkflowExecutor: writes each execution as JSON into a spool directory", Register)
