// PluginID kStorage: object storage addressed by URI (file:// for the local store, s3:// ...).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin {

// Thread-safe. Writes are atomic: a reader sees the old object or the whole new one.
class FLYTE_PLUGIN_API_EXPORT ObjectStore : public PluginBase {
 public:
  ~ObjectStore() override;

  // Root of the configured container, e.g. "file:///var/lib/flyteadmin/storage/my-container".
  virtual std::string BaseUri() const = 0;
  // `base` + "/" + each segment. Segments are taken as written; INVALID_ARGUMENT if one is empty,
  // "." or "..", or contains '/' (no path escapes the base).
  virtual StatusOr<std::string> Join(std::string_view base, const std::vector<std::string>& segments) const = 0;

  virtual Status Write(const std::string& uri, std::string_view bytes) = 0;
  // NOT_FOUND when absent.
  virtual StatusOr<std::string> Read(const std::string& uri) = 0;
  // Size in bytes; NOT_FOUND when absent.
  virtual StatusOr<int64_t> Size(const std::string& uri) = 0;
  virtual Status Delete(const std::string& uri) = 0;

  // A local directory where a caller may put a file meant to become an object through
  // WriteFile, so that the store takes it in without copying (the local store: on its own file
  // system). Empty (the default): none; any readable file still works.
  virtual std::string SpoolDirectory() const;
  // Stores the local file at `path` as the object at `uri`, atomically as Write. The file is
  // the caller's to remove afterwards if it is still there (a store may move it instead of
  // copying). The default reads it whole and calls Write.
  virtual Status WriteFile(const std::string& uri, const std::string& path);
};

}  // namespace flyte::plugin
