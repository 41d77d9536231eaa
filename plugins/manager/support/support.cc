// Config view, service lookup and conversions shared by the registration managers.
#include "flyte/manager/support.h"
#include "flyte/manager/stored_time.h"
#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::manager {

namespace {

const nlohmann::json* At(const nlohmann::json& root, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &root;
  for (const char* key : path) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

plugin::Status SetQuantity(const nlohmann::json& section, const char* key, const std::string& path, Quantity& out) {
  auto it = section.find(key);
  if (it == section.end() || it->is_null()) return plugin::Status::Ok();
  std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  std::string error;
  auto q = Quantity::Parse(text, &error);
  if (!q) return plugin::InvalidArgument(path + "." + key + ": " + error);
  out = *q;
  return plugin::Status::Ok();
}

plugin::Status SetResourceSet(const nlohmann::json* section, const std::string& path, TaskResourceSet& out) {
  if (!section || !section->is_object()) return plugin::Status::Ok();
  for (auto [key, target] : {std::pair<const char*, Quantity*>{"cpu", &out.cpu}, {"gpu", &out.gpu},
                             {"memory", &out.memory}, {"ephemeralStorage", &out.ephemeral_storage}}) {
    if (auto s = SetQuantity(*section, key, path, *target); !s.ok()) return s;
  }
  return plugin::Status::Ok();
}

}  // namespace

plugin::StatusOr<RegistrationSettings> RegistrationSettings::FromConfig(const nlohmann::json& root) {
  RegistrationSettings s;
  if (const auto* domains = At(root, {"domains"}); domains && domains->is_array() && !domains->empty()) {
    s.domains.clear();
    for (const auto& d : *domains) {
      if (!d.is_object()) continue;
      DomainConfig domain{d.value("id", std::string()), d.value("name", std::string())};
      if (!domain.id.empty()) s.domains.push_back(std::move(domain));
    }
  }
  if (const auto* v = At(root, {"registration", "maxWorkflowNodes"}); v && v->is_number_integer()) {
    s.registration.max_workflow_nodes = v->get<int>();
  }
  if (const auto* v = At(root, {"registration", "workflowSizeLimit"}); v && v->is_string()) {
    s.registration.workflow_size_limit = v->get<std::string>();
  }
  if (const auto* v = At(root, {"registration", "maxLabelEntries"}); v && v->is_number_integer()) {
    s.registration.max_label_entries = v->get<int>();
  }
  if (const auto* v = At(root, {"registration", "maxAnnotationEntries"}); v && v->is_number_integer()) {
    s.registration.max_annotation_entries = v->get<int>();
  }
  if (const auto* v = At(root, {"flyteadmin", "metadataStoragePrefix"}); v && v->is_array()) {
    s.metadata_prefix.clear();
    for (const auto& p : *v) {
      if (p.is_string()) s.metadata_prefix.push_back(p.get<std::string>());
    }
  }
  if (const auto* v = At(root, {"flyteadmin", "featureGates", "enableArtifacts"}); v && v->is_boolean()) {
    s.enable_artifacts = v->get<bool>();
  }
  if (auto st = SetResourceSet(At(root, {"task_resources", "defaults"}), "task_resources.defaults",
                               s.task_resources.defaults); !st.ok()) {
    return st;
  }
  if (auto st = SetResourceSet(At(root, {"task_resources", "limits"}), "task_resources.limits",
                               s.task_resources.limits); !st.ok()) {
    return st;
  }
  if (const auto* v = At(root, {"task_type_whitelist"}); v && v->is_object()) {
    for (auto& [type, scopes] : v->items()) {
      auto& list = s.task_type_whitelist[type];
      if (!scopes.is_array()) continue;
      for (const auto& scope : scopes) {
        if (scope.is_object()) list.push_back({scope.value("project", std::string()), scope.value("domain", std::string())});
      }
    }
  }
  return s;
}

template <typename T>
plugin::StatusOr<T*> Services::Resolve(plugin::PluginId id, std::shared_ptr<T>& slot) {
  std::lock_guard lock(mu_);
  if (!slot) slot = host_.Plugins().Get<T>(id);
  if (!slot) return plugin::Unavailable("no " + std::string(id) + " plugin is registered");
  return slot.get();
}

plugin::StatusOr<plugin::db::Repositories*> Services::Db() {
  return Resolve<plugin::db::Repositories>(plugin::plugin_id::kDatabase, db_);
}
plugin::StatusOr<plugin::ObjectStore*> Services::Storage() {
  return Resolve<plugin::ObjectStore>(plugin::plugin_id::kStorage, storage_);
}
plugin::StatusOr<plugin::WorkflowCompiler*> Services::Compiler() {
  return Resolve<plugin::WorkflowCompiler>(plugin::plugin_id::kCompiler, compiler_);
}

google::protobuf::Timestamp ToProto(plugin::db::Time t) {
  const int64_t us = t.time_since_epoch().count();
  google::protobuf::Timestamp ts;
  int64_t seconds = us / 1000000;
  int64_t micros = us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    seconds -= 1;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(micros * 1000));
  return ts;
}

plugin::StatusOr<plugin::db::Time> PtypesTime(const google::protobuf::Timestamp* ts) {
  constexpr int64_t kMinValidSeconds = -62135596800;  // 0001-01-01
  constexpr int64_t kMaxValidSeconds = 253402300800;  // 10000-01-01
  if (ts == nullptr) return plugin::Internal("timestamp: nil Timestamp");
  if (ts->seconds() < kMinValidSeconds) {
    return plugin::Internal("timestamp: " + plugin::GoProtoText(*ts) + " before 0001-01-01");
  }
  if (ts->seconds() >= kMaxValidSeconds) {
    return plugin::Internal("timestamp: " + plugin::GoProtoText(*ts) + " after 10000-01-01");
  }
  if (ts->nanos() < 0 || ts->nanos() >= 1000000000) {
    return plugin::Internal("timestamp: " + plugin::GoProtoText(*ts) + ": nanos not in range [0, 1e9)");
  }
  return StoredTime(ts->seconds(), ts->nanos());
}

plugin::db::Time Now() { return plugin::db::Now(); }

plugin::db::EntityKey KeyOf(const flyteidl::core::Identifier& id) {
  return {id.project(), id.domain(), id.name(), id.version()};
}

flyteidl::core::Identifier IdentifierOf(flyteidl::core::ResourceType type, const plugin::db::EntityKey& key) {
  flyteidl::core::Identifier id;
  id.set_resource_type(type);
  id.set_project(key.project);
  id.set_domain(key.domain);
  id.set_name(key.name);
  id.set_version(key.version);
  return id;
}

plugin::Status Wrap(const plugin::Status& s, const std::string& prefix) {
  plugin::Status out(s.code(), prefix + s.message());
  for (const auto& d : s.details()) out.AddDetail(d);
  return out;
}

}  // namespace flyte::plugins::manager
