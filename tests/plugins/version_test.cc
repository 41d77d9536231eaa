// The version manager reports the build it was given.
#include <catch2/catch.hpp>

#include "version.h"

TEST_CASE("GetVersion reports version, commit and build time", "[unit]") {
  flyte::plugins::VersionManagerImpl m({"1.2.3", "abc123", "2026-01-01T00:00:00Z"});
  flyte::plugin::CallContext call("/flyteidl.service.AdminService/GetVersion", {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  REQUIRE(m.GetVersion(call, req, resp).ok());
  CHECK(resp.control_plane_version().version() == "1.2.3");
  CHECK(resp.control_plane_version().build() == "abc123");
  CHECK(resp.control_plane_version().buildtime() == "2026-01-01T00:00:00Z");
}
