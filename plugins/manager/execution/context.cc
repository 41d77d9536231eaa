// Settings and service lookup of the execution manager.
#include "context.h"

#include <algorithm>
#include <cctype>

namespace flyte::plugins::manager {

namespace {

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

// A key as upstream's case-insensitive config reader finds it ("dynamic" or "Dynamic").
const nlohmann::json* Field(const nlohmann::json& object, const std::string& lower) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    std::string key = it.key();
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (key == lower) return &it.value();
  }
  return nullptr;
}

plugin::Status ReadString(const nlohmann::json& object, const std::string& key,
                          const std::string& where, std::string& out) {
  const auto* value = Field(object, key);
  if (value == nullptr || value->is_null()) return plugin::Status::Ok();
  if (!value->is_string())
    return plugin::InvalidArgument(where + "." + key + ": expected a string, got " + value->dump());
  out = value->get<std::string>();
  return plugin::Status::Ok();
}

plugin::Status ReadStrings(const nlohmann::json& object, const std::string& key,
                           const std::string& where, std::vector<std::string>& out) {
  const auto* value = Field(object, key);
  if (value == nullptr || value->is_null()) return plugin::Status::Ok();
  if (!value->is_array())
    return plugin::InvalidArgument(where + "." + key + ": expected a list, got " + value->dump());
  for (const auto& item : *value) {
    if (!item.is_string())
      return plugin::InvalidArgument(where + "." + key + ": expected strings, got " + item.dump());
    out.push_back(item.get<std::string>());
  }
  return plugin::Status::Ok();
}

// The `queues` section (upstream QueueConfig).
plugin::Status ReadQueues(const nlohmann::json& root, ExecutionSettings& s) {
  auto it = root.find("queues");
  if (it == root.end() || it->is_null()) return plugin::Status::Ok();
  if (!it->is_object()) return plugin::InvalidArgument("queues: expected a map, got " + it->dump());
  if (const auto* queues = Field(*it, "executionqueues"); queues != nullptr && !queues->is_null()) {
    if (!queues->is_array())
      return plugin::InvalidArgument("queues.executionQueues: expected a list, got " +
                                     queues->dump());
    for (const auto& q : *queues) {
      if (!q.is_object())
        return plugin::InvalidArgument("queues.executionQueues: expected maps, got " + q.dump());
      ExecutionQueue queue;
      if (auto st = ReadString(q, "dynamic", "queues.executionQueues[]", queue.dynamic); !st.ok())
        return st;
      if (auto st = ReadStrings(q, "attributes", "queues.executionQueues[]", queue.attributes);
          !st.ok())
        return st;
      s.execution_queues.push_back(std::move(queue));
    }
  }
  if (const auto* configs = Field(*it, "workflowconfigs");
      configs != nullptr && !configs->is_null()) {
    if (!configs->is_array())
      return plugin::InvalidArgument("queues.workflowConfigs: expected a list, got " +
                                     configs->dump());
    for (const auto& c : *configs) {
      if (!c.is_object())
        return plugin::InvalidArgument("queues.workflowConfigs: expected maps, got " + c.dump());
      WorkflowQueueConfig config;
      if (auto st = ReadString(c, "domain", "queues.workflowConfigs[]", config.domain); !st.ok())
        return st;
      if (auto st = ReadStrings(c, "tags", "queues.workflowConfigs[]", config.tags); !st.ok())
        return st;
      s.workflow_queue_configs.push_back(std::move(config));
    }
  }
  return plugin::Status::Ok();
}

}  // namespace

plugin::StatusOr<ExecutionSettings> ExecutionSettings::FromConfig(const nlohmann::json& root) {
  ExecutionSettings s;
  auto registration = RegistrationSettings::FromConfig(root);
  if (!registration.ok()) return registration.status();
  s.registration = std::move(registration.value());
  auto app = ExecutionAppConfig::FromConfig(root);
  if (!app.ok()) return app.status();
  s.app = std::move(app.value());
  auto data = RemoteDataSettings::FromConfig(root);
  if (!data.ok()) return data.status();
  s.data = std::move(data.value());
  if (auto it = root.find("namespace_mapping"); it != root.end() && it->is_object()) {
    if (auto t = it->find("template"); t != it->end() && !t->is_null()) {
      if (!t->is_string())
        return plugin::InvalidArgument("namespace_mapping.template: expected a string, got " +
                                       t->dump());
      if (!t->get<std::string>().empty()) s.namespace_template = t->get<std::string>();
    }
  }
  if (auto it = root.find("flyteadmin"); it != root.end() && it->is_object()) {
    if (auto k = it->find("roleNameKey"); k != it->end() && !k->is_null()) {
      if (!k->is_string())
        return plugin::InvalidArgument("flyteadmin.roleNameKey: expected a string, got " +
                                       k->dump());
      s.role_name_key = k->get<std::string>();
    }
  }
  if (auto st = ReadQueues(root, s); !st.ok()) return st;
  return s;
}

plugin::StatusOr<std::shared_ptr<plugin::WorkflowExecutor>> ExecutionContext::Executor() const {
  auto executor = host_.Plugins().Get<plugin::WorkflowExecutor>(plugin::plugin_id::kWorkflowExecutor);
  if (!executor) {
    return plugin::FailedPrecondition(
        "no WorkflowExecutor plugin is loaded: executions need one in pluginHost.load (a plugin "
        "registering PluginID WorkflowExecutor)");
  }
  return executor;
}

std::string ExecutionContext::Namespace(const std::string& project,
                                        const std::string& domain) const {
  // Exactly these two spellings, as upstream (common.GetNamespaceName): another spelling stays
  // as written, so the namespace matches what upstream's executor and tools compute.
  std::string ns = settings_.namespace_template;
  ReplaceAll(ns, "{{ project }}", project);
  ReplaceAll(ns, "{{ domain }}", domain);
  return ns;
}

}  // namespace flyte::plugins::manager
