// Settings and service lookup of the execution manager.
#include "context.h"

namespace flyte::plugins::manager {

namespace {

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
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
      if (!t->is_string()) return plugin::InvalidArgument("namespace_mapping.template: expected a string, got " + t->dump());
      if (!t->get<std::string>().empty()) s.namespace_template = t->get<std::string>();
    }
  }
  if (auto it = root.find("flyteadmin"); it != root.end() && it->is_object()) {
    if (auto k = it->find("roleNameKey"); k != it->end() && !k->is_null()) {
      if (!k->is_string()) return plugin::InvalidArgument("flyteadmin.roleNameKey: expected a string, got " + k->dump());
      s.role_name_key = k->get<std::string>();
    }
  }
  return s;
}

plugin::StatusOr<plugin::WorkflowExecutor*> ExecutionContext::Executor() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!executor_) {
    executor_ = host_.Plugins().Get<plugin::WorkflowExecutor>(plugin::plugin_id::kWorkflowExecutor);
    if (!executor_) {
      return plugin::FailedPrecondition(
          "no WorkflowExecutor plugin is loaded: add one (e.g. flyte_executor_local) to pluginHost.load");
    }
  }
  return executor_.get();
}

std::string ExecutionContext::Namespace(const std::string& project, const std::string& domain) const {
  std::string ns = settings_.namespace_template;
  for (const char* p : {"{{ project }}", "{{project}}", "{{ PROJECT }}", "{{PROJECT}}"}) ReplaceAll(ns, p, project);
  for (const char* d : {"{{ domain }}", "{{domain}}", "{{ DOMAIN }}", "{{DOMAIN}}"}) ReplaceAll(ns, d, domain);
  return ns;
}

}  // namespace flyte::plugins::manager
