// AdditionalGRPCService: serves flyteidl.service.AgentMetadataService (GetAgent, ListAgents) on
// flyteadmin's own port, from the agents listed in the config (`agents: [{name, isSync,
// taskTypes: [name, ...]}]`), so clients can discover which agents a deployment offers. The
// messages are flyteidl's, from the SDK's shared library; the host serves the methods over gRPC
// and, through their google.api.http bindings, as GET /api/v1/agents and /api/v1/agent/{name}.
#include <nlohmann/json.hpp>

#include "flyte/plugin/plugin.h"
#include "flyte/plugin/unary.h"
#include "flyteidl/admin/agent.pb.h"

namespace {

using flyte::plugin::Status;
namespace admin = flyteidl::admin;

class AgentDirectory final : public flyte::plugin::AdditionalGrpcService {
 public:
  explicit AgentDirectory(std::vector<admin::Agent> agents) : agents_(std::move(agents)) {}

  Status Register(flyte::plugin::ServiceRegistrar& registrar) override {
    auto s = registrar.AddUnary("flyteidl.service.AgentMetadataService/ListAgents",
                                [this](auto&, const auto&, google::protobuf::Message& response) {
                                  auto& list = static_cast<admin::ListAgentsResponse&>(response);
                                  for (const auto& agent : agents_) *list.add_agents() = agent;
                                  return Status::Ok();
                                });
    if (!s.ok()) return s;
    return registrar.AddUnary("flyteidl.service.AgentMetadataService/GetAgent",
                              [this](auto&, const google::protobuf::Message& request, google::protobuf::Message& response) {
                                const auto& name = static_cast<const admin::GetAgentRequest&>(request).name();
                                for (const auto& agent : agents_) {
                                  if (agent.name() != name) continue;
                                  *static_cast<admin::GetAgentResponse&>(response).mutable_agent() = agent;
                                  return Status::Ok();
                                }
                                return flyte::plugin::NotFound("no agent named '" + name + "'");
                              });
  }

 private:
  const std::vector<admin::Agent> agents_;
};

Status Register(flyte::plugin::HostContext& host) {
  std::vector<admin::Agent> agents;
  const auto& config = host.PluginConfig().value("agents", nlohmann::json::array());
  if (!config.is_array()) return flyte::plugin::InvalidArgument("agents: must be a list");
  for (const auto& entry : config) {
    const auto& name = entry.is_object() ? entry.value("name", nlohmann::json()) : nlohmann::json();
    const auto& sync = entry.is_object() ? entry.value("isSync", nlohmann::json(false)) : nlohmann::json();
    const auto& types = entry.is_object() ? entry.value("taskTypes", nlohmann::json::array()) : nlohmann::json();
    if (!name.is_string() || !sync.is_boolean() || !types.is_array()) {
      return flyte::plugin::InvalidArgument("agents: each entry is {name: text, isSync: bool, taskTypes: [text]}");
    }
    auto& agent = agents.emplace_back();
    agent.set_name(name.get<std::string>());
    agent.set_is_sync(sync.get<bool>());
    for (const auto& type : types) {
      if (!type.is_string()) return flyte::plugin::InvalidArgument("agents: taskTypes are names");
      agent.add_supported_task_categories()->set_name(type.get<std::string>());
    }
  }
  return host.Register(flyte::plugin::plugin_id::kAdditionalGrpcService,
                       std::make_shared<AgentDirectory>(std::move(agents)));
}

}  // namespace

FLYTE_PLUGIN("example_agent_directory", "0.1.0",
             "Example AdditionalGRPCService: AgentMetadataService answered from the config", Register)
