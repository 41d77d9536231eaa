// The Debian package: built with cpack into a scratch directory, extracted (never installed)
// into a scratch root, its control data, unit and config checked, and its server started from
// that root with only the state paths and ports redirected by a second config layer.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "flyte/core/build_info.h"
#include "flyte/core/config.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "grpc_helpers.h"
#include "packaging_support.h"

namespace fs = std::filesystem;
using flyte::test::MustRun;

namespace {

std::string BuildDeb(const flyte::test::ScratchDir& scratch) {
  MustRun({FLYTE_CPACK_COMMAND, "-G", "DEB", "--config", FLYTE_BINARY_DIR "/CPackConfig.cmake", "-B", scratch / "pkg"},
          std::chrono::seconds(600));
  for (const auto& e : fs::directory_iterator(scratch.path() / "pkg")) {
    if (e.path().extension() == ".deb") return e.path().string();
  }
  FAIL("cpack wrote no .deb into " << (scratch / "pkg"));
  return "";
}

}  // namespace

TEST_CASE("The .deb holds a server that serves from its own files with the packaged config", "[integration][deb]") {
  flyte::test::ScratchDir scratch("deb");
  std::string deb = BuildDeb(scratch);

  auto control = MustRun({FLYTE_DPKG_DEB, "--field", deb}).out;
  CHECK_THAT(control, Catch::Contains("Package: flyteadmin"));
  // Depends comes from dpkg-shlibdeps: the Debian 12 runtime packages of what we link.
  for (const char* dep : {"libgrpc++1.51", "libprotobuf32", "libsoci-core4.0", "libsoci-sqlite3-4.0",
                          "libsoci-postgresql4.0", "libyaml-cpp0.7", "libspdlog1.10", "libboost-filesystem1.74.0",
                          "libprometheus-cpp-core1.0", "libssl3"}) {
    CHECK_THAT(control, Catch::Contains(std::string(dep)));
  }
  CHECK_THAT(control, !Catch::Contains("libflyte"));  // our own libraries are inside the package

  std::string root = scratch / "root", meta = scratch / "DEBIAN";
  MustRun({FLYTE_DPKG_DEB, "-x", deb, root});
  MustRun({FLYTE_DPKG_DEB, "-e", deb, meta});
  CHECK(flyte::test::ReadFile(meta + "/conffiles") == "/etc/flyteadmin/flyteadmin.yaml\n");
  CHECK_THAT(flyte::test::ReadFile(meta + "/triggers"), Catch::Contains("\nactivate-noawait ldconfig\n"));

  for (const char* f : {"usr/lib/libflyte_plugin_api.so.1", "usr/lib/libflyteidl_proto.so.1",
                        "usr/lib/flyteadmin/plugins/libflyte_executor_local.so",
                        "usr/lib/flyteadmin/plugins/libflyte_executor_k8s.so", "usr/include/flyte/plugin/plugin.h",
                        "usr/include/flyteidl-cpp/flyteidl/service/admin.grpc.pb.h",
                        "usr/lib/cmake/FlyteadminPlugin/FlyteadminPluginConfig.cmake",
                        "usr/lib/cmake/FlyteadminPlugin/FlyteadminPluginFunctions.cmake",
                        "usr/share/doc/flyteadmin/examples/config/k8s.yaml"}) {
    INFO(f);
    CHECK(fs::exists(fs::path(root) / f));
  }

  auto unit = flyte::test::ReadFile(root + "/lib/systemd/system/flyteadmin.service");
  CHECK_THAT(unit, Catch::Contains("\nExecStart=/usr/bin/flyteadmin serve --config /etc/flyteadmin/flyteadmin.yaml\n"));
  CHECK_THAT(unit, Catch::Contains("\nStateDirectory=flyteadmin\n") && Catch::Contains("\nWantedBy=multi-user.target\n"));

  std::string etc_config = root + "/etc/flyteadmin/flyteadmin.yaml";
  auto packaged = flyte::core::Config::FromDocuments({flyte::test::ReadFile(etc_config)},
                                                     [](const std::string&) { return std::nullopt; });
  REQUIRE(packaged.ok());
  CHECK(packaged->Get<std::string>("database.sqlite.file", "") == "/var/lib/flyteadmin/flyteadmin.db");
  CHECK(packaged->Get<std::string>("storage.stow.config.path", "") == "/var/lib/flyteadmin/storage");
  CHECK(packaged->Get<bool>("database.migrateOnStart", false));

  std::string bin = root + "/usr/bin/flyteadmin";
  CHECK_THAT(MustRun({bin, "--config", etc_config, "config", "validate"}).out, Catch::Contains("config is valid"));

  // The packaged config, with what would be /var/lib/flyteadmin and the ports moved.
  int grpc_port = flyte::test::FreePort(), http_port = flyte::test::FreePort();
  std::string state = root + "/var/lib/flyteadmin";
  std::string overlay = scratch / "redirect.yaml";
  {
    std::ofstream out(overlay);
    out << "server:\n  httpPort: " << http_port << "\n  grpc:\n    port: " << grpc_port
        << "\ndatabase:\n  sqlite:\n    file: " << state << "/flyteadmin.db\n"
        << "storage:\n  stow:\n    config:\n      path: " << state << "/storage\n"
        << "flyteadmin:\n  profilerPort: 0\n";
  }
  auto listed = MustRun({bin, "--config", etc_config, "--config", overlay, "plugins"}).out;
  CHECK_THAT(listed, Catch::Contains(root + "/usr/lib/flyteadmin/plugins/libflyte_manager_execution.so"));

  // The packaged SDK builds a plugin that the packaged server loads.
  std::string service = flyte::test::BuildExample(scratch, root + "/usr", "grpc_service", "example_agent_directory");
  std::string with_plugin = scratch / "with-plugin.yaml";
  {
    std::ofstream out(with_plugin);
    std::string defaults = MustRun({bin, "--config", etc_config, "config", "print"}).out;
    auto load = nlohmann::json::parse(defaults)["pluginHost"]["load"];
    load.push_back({{"path", service}});
    out << nlohmann::json{{"pluginHost", {{"load", load}}}}.dump();
  }
  CHECK_THAT(MustRun({bin, "--config", etc_config, "--config", overlay, "--config", with_plugin, "plugins"}).out,
             Catch::Contains("example_agent_directory 0.1.0  " + service) &&
                 Catch::Contains("registers AdditionalGRPCService"));

  // The unit's command line, with the redirecting layer added.
  flyte::test::Child server({bin, "serve", "--config", etc_config, "--config", overlay});
  REQUIRE((flyte::test::WaitForPort(http_port, std::chrono::seconds(30)) &&
           flyte::test::WaitForPort(grpc_port, std::chrono::seconds(30))));
  INFO(server.Stderr());
  auto health = flyte::test::Http(http_port, "GET", "/healthcheck");
  CHECK(health.status == 200);

  auto stub = flyteidl::service::AdminService::NewStub(flyte::test::Channel(grpc_port));
  grpc::ClientContext ctx;
  flyteidl::admin::GetVersionResponse version;
  auto s = stub->GetVersion(&ctx, flyteidl::admin::GetVersionRequest(), &version);
  REQUIRE(s.ok());
  CHECK(version.control_plane_version().version() == flyte::core::ThisBuild().version);
  CHECK(fs::exists(state + "/flyteadmin.db"));

  server.Signal(SIGTERM);
  CHECK(server.Wait(std::chrono::seconds(20)).exit_code == 0);
}
