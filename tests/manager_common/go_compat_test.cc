// Go-compatible rendering and parsing: proto text, floats, Atoi, durations, cron, k8s names.
#include "flyte/plugin/go_compat.h"

#include <catch2/catch.hpp>
#include <google/protobuf/any.pb.h>

#include "flyte/manager/cron.h"
#include "flyte/manager/errors.h"
#include "flyte/manager/k8s_validation.h"
#include "flyteidl/admin/common.pb.h"
#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/core/catalog.pb.h"
#include "flyteidl/core/execution.pb.h"
#include "flyteidl/core/identifier.pb.h"
#include "flyteidl/core/types.pb.h"

namespace flyte::plugins::manager {
namespace {

// The Go formatting is the plugin API's (flyte/plugin/go_compat.h); the rest is the managers'.
using namespace flyte::plugin;

TEST_CASE("Enums print as Go's String(): the name, or the number the enum does not name", "[unit]") {
  namespace core = flyteidl::core;
  CHECK(GoEnumString(core::ExecutionError::USER) == "USER");
  CHECK(GoEnumString(static_cast<core::ExecutionError::ErrorKind>(7)) == "7");
  CHECK(GoEnumString(core::NodeExecution::SUCCEEDED) == "SUCCEEDED");
  CHECK(GoEnumString(core::CACHE_HIT) == "CACHE_HIT");
  CHECK(GoEnumString(static_cast<core::ResourceType>(-1)) == "-1");
}

TEST_CASE("Identifiers render as Go's single-line prototext", "[unit]") {
  flyteidl::core::Identifier id;
  id.set_resource_type(flyteidl::core::TASK);
  id.set_project("p");
  id.set_domain("d");
  id.set_name("n");
  id.set_version("v");
  CHECK(GoProtoText(id) ==
        "resource_type:TASK project:\"p\" domain:\"d\" name:\"n\" version:\"v\"");
  id.set_org("o");
  CHECK(GoProtoText(id) ==
        "resource_type:TASK project:\"p\" domain:\"d\" name:\"n\" version:\"v\" org:\"o\"");
  CHECK(GoProtoText(flyteidl::core::Identifier()).empty());

  flyteidl::core::Identifier odd;
  odd.set_resource_type(static_cast<flyteidl::core::ResourceType>(9));
  odd.set_name("a\"b\\c\nd\te\x01\xff");
  odd.set_version("h\xC3\xA9llo 'q'");
  CHECK(GoProtoText(odd) ==
        "resource_type:9 name:\"a\\\"b\\\\c\\nd\\te\\x01\\xff\" version:\"h\xC3\xA9llo 'q'\"");
  // DEL as \x7f and the C1 controls (U+0080 to U+009F) as \u, as prototext escapes them.
  odd.set_name("del\x7f c1\xC2\x80\xC2\x9F nbsp\xC2\xA0");
  odd.clear_version();
  CHECK(GoProtoText(odd) == "resource_type:9 name:\"del\\x7f c1\\u0080\\u009f nbsp\xC2\xA0\"");
  CHECK(GoProtoTextOrNil(nullptr) == "<nil>");
  CHECK(GoProtoTextOrNil(&odd) == GoProtoText(odd));

  const auto missing = MissingEntityError("TASK", id);
  CHECK(missing.code() == plugin::StatusCode::kNotFound);
  CHECK(missing.message() ==
        "missing entity of type TASK with identifier project:\"p\" domain:\"d\" name:\"n\" "
        "version:\"v\"");
}

TEST_CASE("Nested messages, maps, repeated fields and floats render like prototext", "[unit]") {
  flyteidl::core::LiteralType t;
  t.mutable_collection_type()->set_simple(flyteidl::core::INTEGER);
  CHECK(GoProtoText(t) == "collection_type:{simple:INTEGER}");

  flyteidl::core::LiteralType empty_blob;
  empty_blob.mutable_blob();
  CHECK(GoProtoText(empty_blob) == "blob:{}");

  flyteidl::admin::Labels labels;
  (*labels.mutable_values())["b"] = "2";
  (*labels.mutable_values())["a"] = "";
  CHECK(GoProtoText(labels) == "values:{key:\"a\" value:\"\"} values:{key:\"b\" value:\"2\"}");

  flyteidl::admin::Notification n;
  n.add_phases(flyteidl::core::WorkflowExecution::FAILED);
  n.add_phases(flyteidl::core::WorkflowExecution::SUCCEEDED);
  n.mutable_email()->add_recipients_email("x@y");
  CHECK(GoProtoText(n) == "phases:FAILED phases:SUCCEEDED email:{recipients_email:\"x@y\"}");

  flyteidl::admin::FixedRate rate;
  rate.set_value(5);
  rate.set_unit(flyteidl::admin::HOUR);
  CHECK(GoProtoText(rate) == "value:5 unit:HOUR");
}

TEST_CASE("Floats format like Go's %v", "[unit]") {
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},
      {1, "1"},
      {1.5, "1.5"},
      {100, "100"},
      {123456, "123456"},
      {1e6, "1e+06"},
      {1234567, "1.234567e+06"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {-2.5, "-2.5"},
      {1e21, "1e+21"},
      {0.1, "0.1"},
      {1e100, "1e+100"},
  };
  for (const auto& [v, text] : cases) {
    INFO(text);
    CHECK(GoFormatFloat(v) == text);
  }
  CHECK(GoFormatFloat(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(GoFormatFloat(std::nan("")) == "NaN");
}

TEST_CASE("Atoi and ParseFloat accept and refuse what Go does", "[unit]") {
  std::string error;
  CHECK(GoAtoi("42") == 42);
  CHECK(GoAtoi("-42") == -42);
  CHECK(GoAtoi("+0") == 0);
  CHECK(GoAtoi("9223372036854775807") == INT64_MAX);
  CHECK_FALSE(GoAtoi("", &error));
  CHECK(error == "strconv.Atoi: parsing \"\": invalid syntax");
  CHECK_FALSE(GoAtoi("1_000", &error));
  CHECK(error == "strconv.Atoi: parsing \"1_000\": invalid syntax");
  CHECK_FALSE(GoAtoi("9223372036854775808", &error));
  CHECK(error == "strconv.Atoi: parsing \"9223372036854775808\": value out of range");

  CHECK(GoParseFloat("1.5") == 1.5);
  CHECK(GoParseFloat("+2") == 2.0);
  CHECK(GoParseFloat(".5") == 0.5);
  CHECK(GoParseFloat("1e3") == 1000.0);
  CHECK(GoParseFloat("inf").has_value());
  CHECK_FALSE(GoParseFloat("1m").has_value());
  CHECK_FALSE(GoParseFloat("").has_value());
  CHECK_FALSE(GoParseFloat("1e400").has_value());
}

TEST_CASE("GoQuote escapes what strconv.Quote escapes", "[unit]") {
  CHECK(GoQuote("plain") == "\"plain\"");
  CHECK(GoQuote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(GoQuote("\a\b\f\n\r\t\v") == "\"\\a\\b\\f\\n\\r\\t\\v\"");
  CHECK(GoQuote(std::string("\x00\x1f\x7f", 3)) == "\"\\x00\\x1f\\x7f\"");
  CHECK(GoQuote("\xff") == "\"\\xff\"");  // not UTF-8: the byte
  // Printable characters pass through: letters, marks, numbers, punctuation, symbols.
  CHECK(GoQuote("caf\u00e9 \u65e5\u672c \u0301 \u00bd \u00ab\u00bb \u20ac \U0001F600") ==
        "\"caf\u00e9 \u65e5\u672c \u0301 \u00bd \u00ab\u00bb \u20ac \U0001F600\"");
  // The others: spaces but U+0020, C1 controls, formats, private use, unassigned.
  CHECK(GoQuote("a\u00a0b") == "\"a\\u00a0b\"");
  CHECK(GoQuote("\u3000") == "\"\\u3000\"");
  CHECK(GoQuote("\u0085") == "\"\\u0085\"");
  CHECK(GoQuote("\u200b\u00ad") == "\"\\u200b\\u00ad\"");
  CHECK(GoQuote("\ue000") == "\"\\ue000\"");
  CHECK(GoQuote("\xcd\xb8") == "\"\\u0378\"");  // U+0378, unassigned
  CHECK(GoQuote("\U000E0001") == "\"\\U000e0001\"");
}

TEST_CASE("Integers parse like strconv.ParseInt with base 0, booleans like ParseBool", "[unit]") {
  CHECK(GoParseInt("42") == 42);
  CHECK(GoParseInt("-42") == -42);
  CHECK(GoParseInt("+7") == 7);
  CHECK(GoParseInt("0") == 0);
  CHECK(GoParseInt("010") == 8);  // a leading 0 is octal
  CHECK(GoParseInt("0o17") == 15);
  CHECK(GoParseInt("0X1f") == 31);
  CHECK(GoParseInt("0b101") == 5);
  CHECK(GoParseInt("1_000_000") == 1000000);
  CHECK(GoParseInt("0x_ff") == 255);  // the prefix counts as a digit
  CHECK(GoParseInt("9223372036854775807") == INT64_MAX);
  CHECK(GoParseInt("-9223372036854775808") == INT64_MIN);
  for (const char* bad : {"", "-", "0x", "08", "0b2", "1__0", "_1", "1_", "1.0", " 1", "1e3", "9223372036854775808",
                          "0x1_", "12a"}) {
    CAPTURE(bad);
    CHECK_FALSE(GoParseInt(bad).has_value());
  }
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(GoParseBool(yes) == true);
  for (const char* no : {"0", "f", "F", "FALSE", "false", "False"}) CHECK(GoParseBool(no) == false);
  for (const char* bad : {"", "yes", "tRUE", "2", "on"}) CHECK_FALSE(GoParseBool(bad).has_value());
}

TEST_CASE("Durations parse like time.ParseDuration", "[unit]") {
  const std::vector<std::pair<std::string, int64_t>> good = {
      {"0", 0},
      {"1s", 1000000000},
      {"1.5s", 1500000000},
      {"1m30s", 90000000000},
      {"-2h", -7200000000000},
      {"300ms", 300000000},
      {"1us", 1000},
      {"1\xC2\xB5s", 1000},
      {".5h", 1800000000000},
  };
  for (const auto& [text, ns] : good) {
    INFO(text);
    CHECK(GoParseDuration(text) == ns);
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "time: invalid duration \"\""},
      {"abc", "time: invalid duration \"abc\""},
      {"1", "time: missing unit in duration \"1\""},
      {"1d", "time: unknown unit \"d\" in duration \"1d\""},
      {"1e+06s", "time: unknown unit \"e+\" in duration \"1e+06s\""},
      {"9999999999h", "time: invalid duration \"9999999999h\""},
      {".s", "time: invalid duration \".s\""},
  };
  for (const auto& [text, message] : bad) {
    INFO(text);
    std::string error;
    CHECK_FALSE(GoParseDuration(text, &error).has_value());
    CHECK(error == message);
  }
}

TEST_CASE("Cron expressions are checked like robfig/cron ParseStandard", "[unit]") {
  for (const std::string ok : {"* * * * *",
                               "0 0 * * *",
                               "*/5 * * * *",
                               "0 12 * * MON-FRI",
                               "0 0 1 jan,jul ?",
                               "0-59/15 1,2,3 1-31 1-12 0-6",
                               "5 4 * * sun",
                               "@hourly",
                               "@daily",
                               "@midnight",
                               "@weekly",
                               "@monthly",
                               "@yearly",
                               "@annually",
                               "@every 1h30m",
                               "TZ=UTC 0 0 * * *",
                               "CRON_TZ=Europe/Berlin 0 0 * * *",
                               "TZ=America/New_York @daily",
                               "*-5 * * * *",
                               "1,,2 * * * *"}) {
    INFO(ok);
    CHECK_FALSE(CronParseError(ok).has_value());
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty spec string"},
      {"* * * *", "expected exactly 5 fields, found 4: [* * * *]"},
      {"0 0 0 * * *", "expected exactly 5 fields, found 6: [0 0 0 * * *]"},
      {" @daily", "expected exactly 5 fields, found 1: [@daily]"},
      {"60 * * * *", "end of range (60) above maximum (59): 60"},
      {"* 24 * * *", "end of range (24) above maximum (23): 24"},
      {"* * 0 * *", "beginning of range (0) below minimum (1): 0"},
      {"* * * 13 *", "end of range (13) above maximum (12): 13"},
      {"* * * * 7", "end of range (7) above maximum (6): 7"},
      {"5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"},
      {"*/0 * * * *", "step of range should be a positive number: */0"},
      {"1-2-3 * * * *", "too many hyphens: 1-2-3"},
      {"*/2/3 * * * *", "too many slashes: */2/3"},
      {"x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"*/-1 * * * *", "negative number (-1) not allowed: -1"},
      {"* * * * funday",
       "failed to parse int from funday: strconv.Atoi: parsing \"funday\": "
       "invalid syntax"},
      {"@reboot", "unrecognized descriptor: @reboot"},
      {"@daily ", "unrecognized descriptor: @daily "},
      {"@every 1d",
       "failed to parse duration @every 1d: time: unknown unit \"d\" in duration "
       "\"1d\""},
      {"TZ=Mars/Olympus 0 0 * * *",
       "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"},
      {"TZ=../etc/passwd 0 0 * * *",
       "provided bad location ../etc/passwd: time: invalid location name"},
  };
  for (const auto& [spec, message] : bad) {
    INFO(spec);
    const auto err = CronParseError(spec);
    REQUIRE(err.has_value());
    CHECK(*err == message);
  }
}

TEST_CASE("Kubernetes name checks return apimachinery's messages", "[unit]") {
  CHECK(IsQualifiedName("app").empty());
  CHECK(IsQualifiedName("example.com/My_Name-1").empty());
  CHECK(IsQualifiedName("a").empty());
  CHECK(IsValidLabelValue("").empty());
  CHECK(IsValidLabelValue("v1.2_3-x").empty());
  CHECK(IsDNS1123Label("flyte-snacks").empty());

  auto errs = IsQualifiedName("-bad");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] ==
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
        "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
        "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  errs = IsQualifiedName("");
  REQUIRE(errs.size() == 2);
  CHECK(errs[0] == "name part must be non-empty");
  errs = IsQualifiedName("/x");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] == "prefix part must be non-empty");
  errs = IsQualifiedName("Example.com/x");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] ==
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
        "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  errs = IsQualifiedName("a/b/c");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].rfind("a qualified name must consist of", 0) == 0);
  CHECK(errs[0].find("with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')") !=
        std::string::npos);
  errs = IsQualifiedName(std::string(64, 'a'));
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] == "name part must be no more than 63 characters");

  errs = IsValidLabelValue(std::string(64, 'a') + "-");
  REQUIRE(errs.size() == 2);
  CHECK(errs[0] == "must be no more than 63 characters");
  CHECK(errs[1] ==
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
        "'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");

  errs = IsDNS1123Label("a.b");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] == "must not contain dots");
  errs = IsDNS1123Label("Flyte");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0] ==
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
        "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
        "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
}

TEST_CASE("GoUrlParses accepts and refuses what net/url.Parse does", "[unit]") {
  for (const char* ok : {"file:///tmp/bucket/x", "s3://bucket/key", "s3://bucket/a%20b", "http://h:8080/p?q=%zz",
                         "gs://b/k#frag", "relative/path", "/abs/path", "*", "", "s3:opaque%zz", "http://user:pw@host/p",
                         "http://[::1]:80/p", "http://h/%e2%82%ac", "mailto:a@b"}) {
    INFO(ok);
    CHECK(GoUrlParses(ok));
  }
  for (const char* bad : {":foo",                 // missing protocol scheme
                          "http://h/%zz",         // bad escape in the path
                          "http://h/p#%zz",       // bad escape in the fragment
                          "http://h\x01/p",      // control character
                          "http://bad host/p",    // a space in the host
                          "http://h:80x/p",       // a port that is not a number
                          "http://h%41/p",        // an ASCII byte escaped in the host
                          "http://[::1/p",        // missing ']'
                          "http://us er@h/p",     // invalid userinfo
                          "1http://h"}) {         // no scheme (a digit first), and a colon in its first segment
    INFO(bad);
    CHECK_FALSE(GoUrlParses(bad));
  }
  CHECK_FALSE(GoUrlParses(std::string("http://h/\x7f")));
}

}  // namespace
}  // namespace flyte::plugins::manager

TEST_CASE("GoProtoText expands Anys within Anys only to a bounded depth", "[unit]") {
  google::protobuf::Any any;
  flyteidl::core::Identifier id;
  id.set_name("innermost");
  any.PackFrom(id);
  for (int i = 0; i < 1000; ++i) {
    if (i == 3) {
      CHECK(flyte::plugins::manager::GoProtoText(any).find("name:\"innermost\"") != std::string::npos);
    }
    google::protobuf::Any outer;
    outer.PackFrom(any);
    any = outer;
  }
  const std::string text = flyte::plugins::manager::GoProtoText(any);
  // Expanded as far as the bound, then written as the raw type_url and value.
  CHECK(text.rfind("[type.googleapis.com/google.protobuf.Any]:{", 0) == 0);
  CHECK(text.find("type_url:") != std::string::npos);
  CHECK(text.find("name:\"innermost\"") == std::string::npos);
}
