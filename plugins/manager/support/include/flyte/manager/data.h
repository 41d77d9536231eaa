// Execution data as admin stores and serves it (upstream common/data_store.go, util/data.go,
// common/flyte_url.go): binary LiteralMaps offloaded under <container>/metadata/..., and the
// UrlBlob + full LiteralMap pairs the Get*Data RPCs answer with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flyte/plugin/status.h"
#include "flyte/plugin/storage.h"
#include "flyteidl/admin/common.pb.h"
#include "flyteidl/core/compiler.pb.h"
#include "flyteidl/core/identifier.pb.h"
#include "flyteidl/core/literals.pb.h"

namespace flyte::plugins::manager {

// remoteData.* and the flyteadmin.* data keys, with upstream's defaults.
struct RemoteDataSettings {
  std::string scheme = "none";              // remoteData.scheme
  bool signed_urls_enabled = false;         // remoteData.signedUrls.enabled
  int64_t max_size_in_bytes = 2 * 1024 * 1024;  // remoteData.maxSizeInBytes
  bool store_inline_event_data = false;     // remoteData.inlineEventDataPolicy == StoreInline
  std::vector<std::string> metadata_prefix{"metadata", "admin"};  // flyteadmin.metadataStoragePrefix
  int event_version = 2;                    // flyteadmin.eventVersion
  bool use_offloaded_workflow_closure = false;  // flyteadmin.useOffloadedWorkflowClosure
  bool use_offloaded_inputs = false;        // flyteadmin.useOffloadedInputs
  // storage.limits.maxDownloadMBs in bytes (0: none): flytestdlib refuses to read a larger object,
  // so upstream's data responses leave it out.
  int64_t max_download_bytes = 2 * 1024 * 1024;

  // INVALID_ARGUMENT naming the key for a value of the wrong type or an unknown policy.
  static plugin::StatusOr<RemoteDataSettings> FromConfig(const nlohmann::json& root);
};

// Appends the path segments of a storage key to `out`, as flytestdlib's ConstructReference nests
// a key holding '/' (a version "feature/x" is two levels); empty parts are dropped. "." and ".."
// parts are kept, for the store's Join to refuse.
void SplitStorageKey(const std::string& key, std::vector<std::string>& out);

// "metadata" followed by `keys`, each split on '/' (empty parts dropped), joined under the store's
// base: the object every offloaded LiteralMap of admin lives at.
plugin::StatusOr<std::string> MetadataLocation(plugin::ObjectStore& store, const std::vector<std::string>& keys);

// Writes `message` binary-serialized at MetadataLocation(keys) and returns its URI. Failure is
// INTERNAL "Failed to write protobuf for [[<keys...>]] with err: ...", naming the keys as
// upstream does.
plugin::StatusOr<std::string> OffloadMessage(plugin::ObjectStore& store, const google::protobuf::Message& message,
                                             const std::vector<std::string>& keys);
inline plugin::StatusOr<std::string> OffloadLiteralMap(plugin::ObjectStore& store,
                                                       const flyteidl::core::LiteralMap& literals,
                                                       const std::vector<std::string>& keys) {
  return OffloadMessage(store, literals, keys);
}

// Reads and parses a binary message at `uri`; NOT_FOUND when absent, INTERNAL when it does not parse.
plugin::Status ReadMessage(plugin::ObjectStore& store, const std::string& uri, google::protobuf::Message& out);
// ReadMessage within storage.limits.maxDownloadMBs, failing as flytestdlib's ReadProtobuf does
// for a larger object: "path:<uri>: [LIMIT_EXCEEDED] limit exceeded. <size>mb > <limit>mb. ...".
plugin::Status ReadMessageWithinLimit(plugin::ObjectStore& store, const RemoteDataSettings& settings,
                                      const std::string& uri, google::protobuf::Message& out);
// A stored workflow closure (an admin.WorkflowClosure, or a node's dynamic
// core.CompiledWorkflowClosure) within the download limit; INTERNAL "Unable to read
// WorkflowClosure from location <uri> : <why>" as upstream's readers answer.
plugin::Status ReadWorkflowClosure(plugin::ObjectStore& store, const RemoteDataSettings& settings,
                                   const std::string& uri, google::protobuf::Message& out);
// A node's dynamic workflow closure (upstream's fetchDynamicWorkflowClosure): as above, and it
// must have a primary workflow with a template. `out` is left empty when it fails.
plugin::Status ReadDynamicWorkflowClosure(plugin::ObjectStore& store, const RemoteDataSettings& settings,
                                          const std::string& uri, flyteidl::core::CompiledWorkflowClosure& out);

// The inputs half of a Get*Data answer (upstream util.GetInputs): `blob` is {uri, size} when
// signed URLs are enabled (unsigned, as upstream's no-op signer: size 0 for a missing object,
// INTERNAL "failed to get metadata for uri: ..." when the store cannot tell), else empty; `full` is the LiteralMap read from `uri` when the size rule allows it (always with
// signing disabled). Read failures leave `full` empty (upstream only logs them). Empty uri: both empty.
plugin::Status GetInputs(plugin::ObjectStore& store, const RemoteDataSettings& settings, const std::string& uri,
                         flyteidl::admin::UrlBlob& blob, flyteidl::core::LiteralMap& full);

// The outputs half (upstream util.GetOutputs): `output_uri` is closure.outputs.uri (may be empty),
// `inline_data` closure.outputs.values or output_data (nullptr when none). Inline data is returned
// when smaller than maxSizeInBytes; otherwise the map at `output_uri` is read under the same size rule.
plugin::Status GetOutputs(plugin::ObjectStore& store, const RemoteDataSettings& settings, const std::string& output_uri,
                          const flyteidl::core::LiteralMap* inline_data, flyteidl::admin::UrlBlob& blob,
                          flyteidl::core::LiteralMap& full);

// flyte://v1/<p>/<d>/<exec>/<node>[/<attempt>] + "/i", "/o", "/d" (upstream common.FlyteURLs).
flyteidl::admin::FlyteURLs FlyteUrlsForNode(const flyteidl::core::NodeExecutionIdentifier& id, bool with_deck);
flyteidl::admin::FlyteURLs FlyteUrlsForTask(const flyteidl::core::TaskExecutionIdentifier& id);

}  // namespace flyte::plugins::manager
