// The fuzzer's seed corpus (tests/fuzz/corpus: one seed per parser, and every input a fuzzing run
// found worth keeping) replayed through the same harness in the ordinary build, so that the
// inputs that once broke a parser are checked by every `make test`, not only by scripts/fuzz.sh.
// The harness aborts on a round trip that does not hold; the parsers must not throw.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

TEST_CASE("Every input of the fuzzing corpus goes through the parsers' harness", "[unit]") {
  const std::filesystem::path corpus = std::filesystem::path(FLYTE_SOURCE_DIR) / "tests/fuzz/corpus";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 12);  // at least a seed for each of the harness's parsers
  std::vector<bool> parsers(12, false);
  for (const auto& file : files) {
    INFO(file.filename().string());
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE_FALSE(bytes.empty());
    parsers[static_cast<unsigned char>(bytes[0] - 'a') % 12] = true;
    CHECK_NOTHROW(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
  for (size_t i = 0; i < parsers.size(); ++i) {
    INFO("parser " << i);
    CHECK(parsers[i]);
  }
}
