// What every registration manager plugin shares: its view of the config, lazily resolved core
// services (database, storage, compiler), and conversions between rows and messages.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/timestamp.pb.h>
#include <nlohmann/json.hpp>

#include "flyteidl/admin/common.pb.h"
#include "flyteidl/core/identifier.pb.h"
#include "flyte/manager/validation.h"
#include "flyte/plugin/compiler.h"
#include "flyte/plugin/host_context.h"
#include "flyte/plugin/repositories.h"
#include "flyte/plugin/storage.h"

namespace flyte::plugins::manager {

// Upstream's registration-related config keys, with upstream's defaults.
struct RegistrationSettings {
  std::vector<DomainConfig> domains = DefaultDomains();           // domains
  RegistrationValidationConfig registration;                      // registration.*
  std::vector<std::string> metadata_prefix{"metadata", "admin"};  // flyteadmin.metadataStoragePrefix
  bool enable_artifacts = false;                                  // flyteadmin.featureGates.enableArtifacts
  TaskResources task_resources = DefaultTaskResources();          // task_resources
  TaskTypeWhitelist task_type_whitelist;                          // task_type_whitelist

  // Fails on a value of the wrong shape (e.g. a task resource quantity that does not parse),
  // naming the key.
  static plugin::StatusOr<RegistrationSettings> FromConfig(const nlohmann::json& root);
};

// Core services looked up in the registry on first use (every plugin has registered by then).
class Services {
 public:
  explicit Services(const plugin::HostContext& host) : host_(host) {}
  plugin::StatusOr<plugin::db::Repositories*> Db();
  plugin::StatusOr<plugin::ObjectStore*> Storage();
  plugin::StatusOr<plugin::WorkflowCompiler*> Compiler();

 private:
  template <typename T>
  plugin::StatusOr<T*> Resolve(plugin::PluginId id, std::shared_ptr<T>& slot);
  const plugin::HostContext& host_;
  std::mutex mu_;
  std::shared_ptr<plugin::db::Repositories> db_;
  std::shared_ptr<plugin::ObjectStore> storage_;
  std::shared_ptr<plugin::WorkflowCompiler> compiler_;
};

google::protobuf::Timestamp ToProto(plugin::db::Time t);
plugin::db::Time Now();
// A Timestamp as Go's ptypes.Timestamp converts it, or its error (code INTERNAL) with ptypes'
// text: "timestamp: nil Timestamp", "timestamp: <text> before 0001-01-01", "... after
// 10000-01-01", "timestamp: <text>: nanos not in range [0, 1e9)". `ts`: null when absent.
plugin::StatusOr<plugin::db::Time> PtypesTime(const google::protobuf::Timestamp* ts);

plugin::db::EntityKey KeyOf(const flyteidl::core::Identifier& id);
flyteidl::core::Identifier IdentifierOf(flyteidl::core::ResourceType type, const plugin::db::EntityKey& key);

// Wraps a status with a prefix, keeping code and details.
plugin::Status Wrap(const plugin::Status& s, const std::string& prefix);

}  // namespace flyte::plugins::manager
