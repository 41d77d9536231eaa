// The local-filesystem object store: the embedded default of PluginID kStorage. Objects are
// files under <root>/<container>, addressed by file:// URIs that fsspec-based tools read as is.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "flyte/core/config.h"
#include "flyte/plugin/storage.h"

namespace flyte::core {

class LocalObjectStore final : public plugin::ObjectStore {
 public:
  // `root` is made absolute and created if missing.
  static plugin::StatusOr<std::shared_ptr<LocalObjectStore>> Create(const std::filesystem::path& root,
                                                                    const std::string& container);

  std::string BaseUri() const override;
  plugin::StatusOr<std::string> Join(std::string_view base,
                                     const std::vector<std::string>& segments) const override;
  plugin::Status Write(const std::string& uri, std::string_view bytes) override;
  plugin::StatusOr<std::string> Read(const std::string& uri) override;
  plugin::StatusOr<int64_t> Size(const std::string& uri) override;
  plugin::Status Delete(const std::string& uri) override;
  std::string SpoolDirectory() const override;
  plugin::Status WriteFile(const std::string& uri, const std::string& file) override;

  // The file behind a URI of this store; INVALID_ARGUMENT for another scheme or a path outside.
  plugin::StatusOr<std::filesystem::path> PathOf(const std::string& uri) const;

 private:
  // After `path` was renamed into place: syncs its directory, and with `made_directories` the
  // directories above it up to the container, so that the object survives a power cut.
  plugin::Status SettleEntry(const std::filesystem::path& path, bool made_directories) const;
  LocalObjectStore(std::filesystem::path base, std::filesystem::path real_base)
      : base_(std::move(base)), real_base_(std::move(real_base)) {}
  std::filesystem::path base_;       // <root>/<container>, absolute and normalised
  std::filesystem::path real_base_;  // base_ with its symbolic links resolved
};

// The object store the config asks for (`storage.type`): `local` (or `mem`, served by the local
// store under a temporary directory). Other types answer UNIMPLEMENTED naming the type.
plugin::StatusOr<std::shared_ptr<plugin::ObjectStore>> OpenObjectStore(const Config& config);
// Whether OpenObjectStore supports the configured storage.type (it creates nothing).
plugin::Status CheckObjectStoreConfig(const Config& config);

}  // namespace flyte::core
