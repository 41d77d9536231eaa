// Shared by the packaging tests: a scratch directory removed at the end, and running a command
// that must succeed.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "test_support.h"

namespace flyte::test {

// A fresh directory FLYTE_PACKAGING_SCRATCH/<name> in the build tree, removed with everything in
// it (an installed prefix is a few hundred MB with debug info) when the test ends. Its path is
// the same on every run, so ccache hits when the example plugins are built again.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(std::filesystem::path(FLYTE_PACKAGING_SCRATCH) / name) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }

 private:
  std::filesystem::path path_;
};

// Runs argv and requires exit code 0, showing its output otherwise.
inline ProcessResult MustRun(const std::vector<std::string>& argv,
                             std::chrono::seconds timeout = std::chrono::seconds(300)) {
  auto r = Run(argv, timeout);
  std::string line;
  for (const auto& a : argv) line += a + " ";
  INFO(line << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Configures and builds examples/plugins/<example> out of tree against the SDK installed in
// `prefix`, exactly as examples/README.md tells a vendor to; returns the built plugin's path.
inline std::string BuildExample(const ScratchDir& scratch, const std::string& prefix, const std::string& example,
                                const std::string& library) {
  std::string build = scratch / ("build-" + example);
  std::vector<std::string> configure{FLYTE_CMAKE_COMMAND, "-S", FLYTE_SOURCE_DIR "/examples/plugins/" + example,
                                     "-B", build, "-G", "Ninja", "-DCMAKE_PREFIX_PATH=" + prefix,
                                     "-DCMAKE_CXX_COMPILER=" FLYTE_CXX_COMPILER};
  if (std::string(FLYTE_CCACHE).size()) configure.push_back("-DCMAKE_CXX_COMPILER_LAUNCHER=" FLYTE_CCACHE);
  MustRun(configure);
  MustRun({FLYTE_CMAKE_COMMAND, "--build", build});
  // It found the SDK in `prefix`, nothing of the build tree.
  CHECK_THAT(ReadFile(build + "/CMakeCache.txt"),
             Catch::Contains("FlyteadminPlugin_DIR:PATH=" + prefix + "/lib/cmake/FlyteadminPlugin"));
  std::string so = build + "/lib" + library + ".so";
  REQUIRE(std::filesystem::exists(so));
  return so;
}

}  // namespace flyte::test
