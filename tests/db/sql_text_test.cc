// The text helpers of the statement layer: timestamps as both databases store them, quoted
// identifiers and placeholders.
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "connection.h"

using flyte::core::db::Dialect;
using flyte::core::db::FormatTime;
using flyte::core::db::ParseTime;
using flyte::core::db::QuoteIdent;
using flyte::core::db::Sql;
using std::chrono::microseconds;

namespace {
flyte::plugin::db::Time AtMicros(int64_t us) { return flyte::plugin::db::Time(microseconds(us)); }
}  // namespace

TEST_CASE("FormatTime writes UTC with microseconds", "[unit]") {
  CHECK(FormatTime(AtMicros(0)) == "1970-01-01 00:00:00.000000+00:00");
  // 2024-02-29 23:59:58.000042 UTC
  CHECK(FormatTime(AtMicros(1709251198000042LL)) == "2024-02-29 23:59:58.000042+00:00");
  CHECK(FormatTime(AtMicros(-1)) == "1969-12-31 23:59:59.999999+00:00");
  CHECK(FormatTime(AtMicros(-5364662400000000LL)) == "1800-01-01 00:00:00.000000+00:00");
  CHECK(FormatTime(AtMicros(7258118399999999LL)) == "2199-12-31 23:59:59.999999+00:00");
  // Beyond int64 nanoseconds (1677 to 2262): a stored time spans a protobuf Timestamp's years.
  CHECK(FormatTime(AtMicros(-62135596800000000LL)) == "0001-01-01 00:00:00.000000+00:00");
  CHECK(FormatTime(AtMicros(253402300799999999LL)) == "9999-12-31 23:59:59.999999+00:00");
  CHECK(FormatTime(AtMicros(32503680000000000LL)) == "3000-01-01 00:00:00.000000+00:00");
}

TEST_CASE("FormatTime and ParseTime round-trip", "[unit]") {
  for (int64_t us : {0LL, 1LL, -1LL, 999999LL, 1709251198000042LL, 1764403200123456LL, -86400000001LL}) {
    auto parsed = ParseTime(FormatTime(AtMicros(us)));
    REQUIRE(parsed);
    CHECK(std::chrono::duration_cast<microseconds>(parsed->time_since_epoch()).count() == us);
  }
  // The ends of a protobuf Timestamp's range, which every stored time lies within.
  for (int64_t us : {-62135596800000000LL, 253402300799999999LL, 32503680000000000LL}) {
    const std::string text = FormatTime(AtMicros(us));
    INFO(text);
    auto parsed = ParseTime(text);
    REQUIRE(parsed);
    CHECK(parsed->time_since_epoch().count() == us);
  }
  // Times past them (no valid Timestamp has one) are written as those ends.
  CHECK(FormatTime(flyte::plugin::db::Time::max()) == "9999-12-31 23:59:59.999999+00:00");
  CHECK(FormatTime(flyte::plugin::db::Time::min()) == "0001-01-01 00:00:00.000000+00:00");
}

TEST_CASE("ParseTime reads the ISO 8601 forms and nothing else", "[unit]") {
  const auto micros = [](const std::string& text) -> std::optional<int64_t> {
    auto t = ParseTime(text);
    if (!t) return std::nullopt;
    return std::chrono::duration_cast<microseconds>(t->time_since_epoch()).count();
  };
  // PostgreSQL's timestamptz text, with and without a fraction, and the offsets it writes.
  CHECK(micros("2024-02-29 23:59:58.000042+00") == 1709251198000042LL);
  CHECK(micros("2024-02-29 23:59:58+00") == 1709251198000000LL);
  CHECK(micros("2024-03-01 05:29:58.000042+05:30") == 1709251198000042LL);
  CHECK(micros("2024-02-29T18:59:58.000042-0500") == 1709251198000042LL);
  CHECK(micros("2024-02-29T23:59:58.0000415Z") == 1709251198000042LL);  // rounded
  CHECK(micros("2024-02-29") == 1709164800000000LL);
  CHECK(micros("2024-02-29 24:00:00 UTC") == 1709251200000000LL);
  for (const char* bad : {"", "2024-02-30", "2023-02-29", "2024-1-01", "2024-01-01T", "2024-01-01 12",
                          "2024-01-01T12:00:00.Z", "2024-01-01T12:00:00+16:00", "2024-01-01T25:00:00",
                          "2024-01-01T12:00:00Z trailing", "yesterday"}) {
    INFO(bad);
    CHECK_FALSE(ParseTime(bad));
  }
  // The ends of a protobuf Timestamp's range, beyond int64 nanoseconds.
  REQUIRE(ParseTime("9999-12-31T00:00:00Z"));
  CHECK(ParseTime("9999-12-31T00:00:00Z")->time_since_epoch().count() == 253402214400000000LL);
  REQUIRE(ParseTime("0001-01-01T00:00:00Z"));
  CHECK(ParseTime("0001-01-01T00:00:00Z")->time_since_epoch().count() == -62135596800000000LL);
}

TEST_CASE("Sql::Ident quotes as QuoteIdent does; placeholders count up", "[unit]") {
  Sql sql(Dialect::kSqlite);
  sql << "SELECT ";
  sql.Ident("a\"b") << " FROM ";
  sql.Ident("node_executions") << " WHERE x = ";
  for (int i = 0; i < 11; ++i) sql.BindInt(i) << (i < 10 ? " OR x = " : "");
  CHECK(QuoteIdent("a\"b") == "\"a\"\"b\"");
  CHECK(sql.sql().rfind("SELECT \"a\"\"b\" FROM \"node_executions\" WHERE x = :p1 OR x = :p2", 0) == 0);
  CHECK(sql.sql().substr(sql.sql().size() - 4) == ":p11");
  CHECK(sql.params().size() == 11);
}
