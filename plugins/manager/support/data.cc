// Offloaded execution data and the Get*Data answers.
#include "flyte/manager/data.h"

#include <cstdio>
#include <optional>
#include <sstream>

namespace flyte::plugins::manager {

namespace {

const nlohmann::json* At(const nlohmann::json& root, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &root;
  for (const char* key : path) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end() || it->is_null()) return nullptr;
    node = &*it;
  }
  return node;
}

template <typename T>
plugin::Status Take(const nlohmann::json& root, std::initializer_list<const char*> path, const char* name, T& out) {
  const auto* v = At(root, path);
  if (!v) return plugin::Status::Ok();
  try {
    out = v->get<T>();
  } catch (const std::exception&) {
    return plugin::InvalidArgument(std::string(name) + ": unexpected value " + v->dump());
  }
  return plugin::Status::Ok();
}

// Whether a payload of `bytes` may be inlined in a response (upstream shouldFetchData).
bool ShouldFetch(const RemoteDataSettings& settings, int64_t bytes) {
  return settings.scheme == "local" || settings.scheme == "none" || settings.max_size_in_bytes == 0 ||
         bytes < settings.max_size_in_bytes;
}

// Upstream's NoopRemoteURL: the URI itself and the object's size, from a HEAD that reports a
// missing object as size 0 rather than as an error.
plugin::StatusOr<flyteidl::admin::UrlBlob> RemoteUrl(plugin::ObjectStore& store, const std::string& uri) {
  auto size = store.Size(uri);
  if (!size.ok() && size.status().code() != plugin::StatusCode::kNotFound) {
    return plugin::Internal("failed to get metadata for uri: " + uri + " with err: " + size.status().message());
  }
  flyteidl::admin::UrlBlob blob;
  blob.set_url(uri);
  blob.set_bytes(size.ok() ? size.value() : 0);
  return blob;
}

}  // namespace

plugin::StatusOr<RemoteDataSettings> RemoteDataSettings::FromConfig(const nlohmann::json& root) {
  RemoteDataSettings s;
  for (auto st : {Take(root, {"remoteData", "scheme"}, "remoteData.scheme", s.scheme),
                  Take(root, {"remoteData", "signedUrls", "enabled"}, "remoteData.signedUrls.enabled", s.signed_urls_enabled),
                  Take(root, {"flyteadmin", "metadataStoragePrefix"}, "flyteadmin.metadataStoragePrefix", s.metadata_prefix),
                  Take(root, {"flyteadmin", "eventVersion"}, "flyteadmin.eventVersion", s.event_version),
                  Take(root, {"flyteadmin", "useOffloadedWorkflowClosure"}, "flyteadmin.useOffloadedWorkflowClosure",
                       s.use_offloaded_workflow_closure),
                  Take(root, {"flyteadmin", "useOffloadedInputs"}, "flyteadmin.useOffloadedInputs", s.use_offloaded_inputs)}) {
    if (!st.ok()) return st;
  }
  if (const auto* v = At(root, {"remoteData", "maxSizeInBytes"})) {
    if (v->is_number_integer()) {
      s.max_size_in_bytes = v->get<int64_t>();
    } else {
      return plugin::InvalidArgument("remoteData.maxSizeInBytes: expected an integer, got " + v->dump());
    }
  }
  if (const auto* v = At(root, {"storage", "limits", "maxDownloadMBs"})) {
    if (!v->is_number_integer() || v->get<int64_t>() < 0) {
      return plugin::InvalidArgument("storage.limits.maxDownloadMBs: expected a non-negative integer, got " + v->dump());
    }
    s.max_download_bytes = v->get<int64_t>() * 1024 * 1024;
  }
  if (const auto* v = At(root, {"remoteData", "inlineEventDataPolicy"})) {
    // Upstream's enum accepts its names and its numbers.
    if (*v == "Offload" || *v == 0) {
      s.store_inline_event_data = false;
    } else if (*v == "StoreInline" || *v == 1) {
      s.store_inline_event_data = true;
    } else {
      return plugin::InvalidArgument("remoteData.inlineEventDataPolicy: expected Offload or StoreInline, got " + v->dump());
    }
  }
  return s;
}

plugin::Status ReadWorkflowClosure(plugin::ObjectStore& store, const RemoteDataSettings& settings,
                                   const std::string& uri, google::protobuf::Message& out) {
  if (auto s = ReadMessageWithinLimit(store, settings, uri, out); !s.ok()) {
    return plugin::Internal("Unable to read WorkflowClosure from location " + uri + " : " + s.message());
  }
  return plugin::Status::Ok();
}

plugin::Status ReadDynamicWorkflowClosure(plugin::ObjectStore& store, const RemoteDataSettings& settings,
                                          const std::string& uri, flyteidl::core::CompiledWorkflowClosure& out) {
  plugin::Status s = ReadWorkflowClosure(store, settings, uri, out);
  if (s.ok() && !out.has_primary()) {
    s = plugin::Internal("Empty primary workflow definition in loaded dynamic workflow model.");
  } else if (s.ok() && !out.primary().has_template_()) {
    s = plugin::Internal("Empty primary workflow template in loaded dynamic workflow model.");
  }
  if (!s.ok()) out.Clear();
  return s;
}

void SplitStorageKey(const std::string& key, std::vector<std::string>& out) {
  std::string part;
  std::istringstream in(key);
  while (std::getline(in, part, '/')) {
    if (!part.empty()) out.push_back(part);
  }
}

plugin::StatusOr<std::string> MetadataLocation(plugin::ObjectStore& store, const std::vector<std::string>& keys) {
  std::vector<std::string> segments{"metadata"};
  for (const auto& k : keys) SplitStorageKey(k, segments);
  return store.Join(store.BaseUri(), segments);
}

plugin::StatusOr<std::string> OffloadMessage(plugin::ObjectStore& store, const google::protobuf::Message& message,
                                             const std::vector<std::string>& keys) {
  // Errors name the keys as upstream's "[%+v]" prints its nested keys (a []string, without the
  // "metadata" prefix it adds apart): "[[p d n ...]]".
  std::string named = "[[";
  for (size_t i = 0; i < keys.size(); ++i) named += (i ? " " : "") + keys[i];
  named += "]]";
  auto uri = MetadataLocation(store, keys);
  if (!uri.ok()) {
    return plugin::Internal("Failed to construct data reference for " + named + " with err: " + uri.status().message());
  }
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return plugin::Internal("Failed to write protobuf for " + named + " with err: serialization failed");
  }
  if (auto s = store.Write(uri.value(), bytes); !s.ok()) {
    return plugin::Internal("Failed to write protobuf for " + named + " with err: " + s.message());
  }
  return uri;
}

plugin::Status ReadMessage(plugin::ObjectStore& store, const std::string& uri, google::protobuf::Message& out) {
  auto bytes = store.Read(uri);
  if (!bytes.ok()) return bytes.status();
  if (!out.ParseFromString(bytes.value())) {
    return plugin::Internal("Failed to read protobuf from [" + uri + "]: not a serialized " + out.GetTypeName());
  }
  return plugin::Status::Ok();
}

namespace {
// ReadMessage within flytestdlib's download limit, failing as its ReadRaw does. `known_size`:
// the object's size when the caller has just asked for it (for the URL blob).
plugin::Status ReadWithinLimit(plugin::ObjectStore& store, const RemoteDataSettings& settings, const std::string& uri,
                               google::protobuf::Message& out, std::optional<int64_t> known_size) {
  if (settings.max_download_bytes > 0) {
    auto size = known_size ? plugin::StatusOr<int64_t>(*known_size) : store.Size(uri);
    if (!size.ok()) return size.status();
    if (size.value() > settings.max_download_bytes) {
      constexpr double kMiB = 1024.0 * 1024.0;
      char text[160];
      std::snprintf(text, sizeof(text),
                    "limit exceeded. %.6fmb > %lldmb. You can increase the limit by setting maxDownloadMBs.",
                    static_cast<double>(size.value()) / kMiB,
                    static_cast<long long>(settings.max_download_bytes / (1024 * 1024)));
      return plugin::Status(plugin::StatusCode::kResourceExhausted, text);
    }
  }
  return ReadMessage(store, uri, out);
}

// The size RemoteUrl read for the URL blob (0 for a missing object, which the read then
// reports), when URLs are signed.
std::optional<int64_t> KnownSize(const RemoteDataSettings& settings, const flyteidl::admin::UrlBlob& blob) {
  if (!settings.signed_urls_enabled) return std::nullopt;
  return blob.bytes();
}
}  // namespace

plugin::Status ReadMessageWithinLimit(plugin::ObjectStore& store, const RemoteDataSettings& settings,
                                      const std::string& uri, google::protobuf::Message& out) {
  auto s = ReadWithinLimit(store, settings, uri, out, std::nullopt);
  if (s.code() == plugin::StatusCode::kResourceExhausted) {
    return plugin::Status(s.code(), "path:" + uri + ": [LIMIT_EXCEEDED] " + s.message());
  }
  return s;
}

plugin::Status GetInputs(plugin::ObjectStore& store, const RemoteDataSettings& settings, const std::string& uri,
                         flyteidl::admin::UrlBlob& blob, flyteidl::core::LiteralMap& full) {
  blob.Clear();
  full.Clear();
  if (uri.empty()) return plugin::Status::Ok();
  if (settings.signed_urls_enabled) {
    auto remote = RemoteUrl(store, uri);
    if (!remote.ok()) return remote.status();
    blob = remote.value();
  }
  if (ShouldFetch(settings, blob.bytes())) {
    flyteidl::core::LiteralMap read;
    if (ReadWithinLimit(store, settings, uri, read, KnownSize(settings, blob)).ok()) full = std::move(read);
  }
  return plugin::Status::Ok();
}

plugin::Status GetOutputs(plugin::ObjectStore& store, const RemoteDataSettings& settings, const std::string& output_uri,
                          const flyteidl::core::LiteralMap* inline_data, flyteidl::admin::UrlBlob& blob,
                          flyteidl::core::LiteralMap& full) {
  blob.Clear();
  full.Clear();
  if (!output_uri.empty() && settings.signed_urls_enabled) {
    auto remote = RemoteUrl(store, output_uri);
    if (!remote.ok()) return remote.status();
    blob = remote.value();
  }
  if (inline_data != nullptr) {
    // Unlike the fetch rule above, a limit of 0 does not mean "no limit" here: upstream returns
    // stored inline outputs only when strictly smaller than the limit.
    if (static_cast<int64_t>(inline_data->ByteSizeLong()) < settings.max_size_in_bytes) {
      full = *inline_data;
    }
    return plugin::Status::Ok();
  }
  if (!output_uri.empty() && ShouldFetch(settings, blob.bytes())) {
    flyteidl::core::LiteralMap read;
    if (ReadWithinLimit(store, settings, output_uri, read, KnownSize(settings, blob)).ok()) full = std::move(read);
  }
  return plugin::Status::Ok();
}

namespace {
flyteidl::admin::FlyteURLs UrlsFor(const std::string& prefix, bool with_deck) {
  flyteidl::admin::FlyteURLs urls;
  urls.set_inputs(prefix + "/i");
  urls.set_outputs(prefix + "/o");
  if (with_deck) urls.set_deck(prefix + "/d");
  return urls;
}
}  // namespace

flyteidl::admin::FlyteURLs FlyteUrlsForNode(const flyteidl::core::NodeExecutionIdentifier& id, bool with_deck) {
  const auto& e = id.execution_id();
  return UrlsFor("flyte://v1/" + e.project() + "/" + e.domain() + "/" + e.name() + "/" + id.node_id(), with_deck);
}

flyteidl::admin::FlyteURLs FlyteUrlsForTask(const flyteidl::core::TaskExecutionIdentifier& id) {
  const auto& n = id.node_execution_id();
  const auto& e = n.execution_id();
  return UrlsFor("flyte://v1/" + e.project() + "/" + e.domain() + "/" + e.name() + "/" + n.node_id() + "/" +
                     std::to_string(id.retry_attempt()),
                 false);
}

}  // namespace flyte::plugins::manager
