// What the execution manager's parts share: the config they read and the services they use.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "flyte/manager/data.h"
#include "flyte/manager/execution_config.h"
#include "flyte/manager/support.h"
#include "flyte/plugin/host_context.h"
#include "flyte/plugin/workflow_executor.h"
#include "launch_support.h"

namespace flyte::plugins::manager {

struct ExecutionSettings {
  RegistrationSettings registration;
  ExecutionAppConfig app;
  RemoteDataSettings data;
  // namespace_mapping.template: "{{ project }}-{{ domain }}" by default.
  std::string namespace_template = "{{ project }}-{{ domain }}";
  // flyteadmin.roleNameKey: the annotation key an executor puts the IAM role under.
  std::string role_name_key;
  std::vector<ExecutionQueue> execution_queues;
  std::vector<WorkflowQueueConfig> workflow_queue_configs;

  static plugin::StatusOr<ExecutionSettings> FromConfig(const nlohmann::json& root);
};

class ExecutionContext {
 public:
  ExecutionContext(const plugin::HostContext& host, ExecutionSettings settings)
      : host_(host), services_(host), settings_(std::move(settings)) {}

  const plugin::HostContext& host() const { return host_; }
  Services& services() { return services_; }
  const ExecutionSettings& settings() const { return settings_; }

  // The WorkflowExecutor plugin registered under kWorkflowExecutor, looked up at each call and
  // held only by the caller for the call: a manager that kept it would keep it alive past the
  // host's shutdown (the local executor's runs hold this manager while a child runs, a cycle
  // that left their threads running at exit). FAILED_PRECONDITION naming the PluginID when
  // none is loaded.
  plugin::StatusOr<std::shared_ptr<plugin::WorkflowExecutor>> Executor() const;

  // The namespace template rendered for a project and domain: "{{ project }}" and
  // "{{ domain }}", spelled exactly so, are replaced, as upstream replaces them.
  std::string Namespace(const std::string& project, const std::string& domain) const;

 private:
  const plugin::HostContext& host_;
  Services services_;
  ExecutionSettings settings_;
};

}  // namespace flyte::plugins::manager
