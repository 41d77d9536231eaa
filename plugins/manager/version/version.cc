// GetVersion: version, commit and build time of this build, as upstream's control_plane_version.
#include "version.h"

namespace flyte::plugins {

VersionManagerImpl::VersionManagerImpl(plugin::BuildInfo build) : build_(std::move(build)) {}

plugin::Status VersionManagerImpl::GetVersion(plugin::CallContext&,
                                              const flyteidl::admin::GetVersionRequest&,
                                              flyteidl::admin::GetVersionResponse& response) {
  auto* v = response.mutable_control_plane_version();
  v->set_build(build_.commit);
  v->set_version(build_.version);
  v->set_buildtime(build_.build_time);
  return plugin::Status::Ok();
}

}  // namespace flyte::plugins
