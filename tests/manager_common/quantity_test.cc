// k8s resource.Quantity parsing, integer views and canonical text.
#include "flyte/manager/quantity.h"

#include <catch2/catch.hpp>

namespace flyte::plugins::manager {
namespace {

constexpr char kFormatWrong[] =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

TEST_CASE("Quantities parse to k8s values and print in k8s canonical form", "[unit]") {
  struct Case {
    std::string text;
    int64_t value;
    int64_t milli;
    std::string canonical;
  };
  const std::vector<Case> cases = {
      {"0", 0, 0, "0"},
      {"1", 1, 1000, "1"},
      {"500m", 1, 500, "500m"},
      {"200m", 1, 200, "200m"},
      {"1000m", 1, 1000, "1"},
      {"0.5", 1, 500, "500m"},
      {"1.5", 2, 1500, "1500m"},
      {"2", 2, 2000, "2"},
      {"100Mi", 104857600, 104857600000, "100Mi"},
      {"1Gi", 1073741824, 1073741824000, "1Gi"},
      {"1024Mi", 1073741824, 1073741824000, "1Gi"},
      {"8Gi", 8589934592, 8589934592000, "8Gi"},
      {"0.5Gi", 536870912, 536870912000, "512Mi"},
      {"1.5Ki", 1536, 1536000, "1536"},
      {"1k", 1000, 1000000, "1k"},
      {"1000", 1000, 1000000, "1k"},
      {"1e3", 1000, 1000000, "1e3"},
      {"1E3", 1000, 1000000, "1E3"},
      {"1e+3", 1000, 1000000, "1e+3"},
      {"1M", 1000000, 1000000000, "1M"},
      {"1G", 1000000000, 1000000000000, "1G"},
      {"4Gi", 4294967296, 4294967296000, "4Gi"},
      {"+5", 5, 5000, "+5"},
      {"05", 5, 5000, "05"},
      {"1.0", 1, 1000, "1"},
      {"100n", 1, 1, "100n"},
      {"1u", 1, 1, "1u"},
      {"0.1m", 1, 1, "100u"},
      {"1.5n", 1, 1, "2n"},
      {"1e-12", 1, 1, "1e-9"},
      {"-1", -1, -1000, "-1"},
      {"12345678901234567890", 9223372036854775807, 9223372036854775807, "12345678901234567890"},
      {"16Ei", 9223372036854775807, 9223372036854775807, "9223372036854775807"},
      {".5", 1, 500, "500m"},
      {"1.", 1, 1000, "1."},
      {"k", 0, 0, "0"},
      {"1.G", 1000000000, 1000000000000, "1.G"},
      {"3000", 3000, 3000000, "3k"},
      {"1500m", 2, 1500, "1500m"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::string error;
    const auto q = Quantity::Parse(c.text, &error);
    REQUIRE(q.has_value());
    CHECK(q->Value() == c.value);
    CHECK(q->MilliValue() == c.milli);
    CHECK(q->String() == c.canonical);
  }
}

TEST_CASE("Malformed quantities fail with k8s error texts", "[unit]") {
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", kFormatWrong},
      {"abc", kFormatWrong},
      {"1x", kFormatWrong},
      {"1 ", kFormatWrong},
      {"1.2.3", kFormatWrong},
      {"1e5e", kFormatWrong},
      {"1Kx", kFormatWrong},
      {"1ki", "unable to parse quantity's suffix"},
      {"1e", "unable to parse quantity's suffix"},
      {"1mi", "unable to parse quantity's suffix"},
      {"1KiB", kFormatWrong},
      {"Ei", "unable to parse numeric part of quantity"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::string error;
    CHECK_FALSE(Quantity::Parse(c.text, &error).has_value());
    CHECK(error == c.error);
  }
}

TEST_CASE("Quantities compare exactly while Value() rounds up", "[unit]") {
  const auto a = *Quantity::Parse("500m");
  const auto b = *Quantity::Parse("200m");
  CHECK(a.Cmp(b) == 1);
  CHECK(b.Cmp(a) == -1);
  CHECK(a.Value() == b.Value());
  CHECK(Quantity::Parse("1Gi")->Cmp(*Quantity::Parse("1024Mi")) == 0);
  CHECK(Quantity::Parse("1G")->Cmp(*Quantity::Parse("1Gi")) == -1);
  CHECK(Quantity::Parse("-1")->Cmp(*Quantity::Parse("0")) == -1);
  CHECK(Quantity::Parse("1e400")->Cmp(*Quantity::Parse("1e399")) == 1);
  CHECK(Quantity().IsZero());
  CHECK(Quantity().String() == "0");
  CHECK(Quantity::FromInt64(2048, Quantity::Format::kDecimalExponent).String() == "2048");
  CHECK(Quantity::FromInt64(3000, Quantity::Format::kDecimalExponent).String() == "3e3");
}

}  // namespace
}  // namespace flyte::plugins::manager
