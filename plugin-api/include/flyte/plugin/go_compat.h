// Go standard-library formatting and parsing that upstream FlyteAdmin's error texts depend on
// (proto String(), strconv, time.ParseDuration), so our messages read byte for byte the same.
// In the plugin API because the host (the workflow compiler) and the plugins (managers,
// executors) all write such texts, and a third-party plugin that answers as upstream does needs
// them too; one copy lives in the plugin API's shared library. Thread-safe: no state.
#pragma once

#include <google/protobuf/generated_enum_reflection.h>
#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flyte/plugin/export.h"

namespace flyte::plugin {

// A Go message's String(): single-line prototext (google.golang.org/protobuf/encoding/prototext
// Format). Populated fields in declaration order separated by one space, maps sorted by key,
// enums by name, nested messages as `name:{...}`, Any expanded when its type is known. Go adds
// a random second space at times; we always emit one.
FLYTE_PLUGIN_API_EXPORT std::string GoProtoText(const google::protobuf::Message& message);

// As GoProtoText, but "<nil>" for an absent message (Go's String() on a nil pointer).
FLYTE_PLUGIN_API_EXPORT std::string GoProtoTextOrNil(const google::protobuf::Message* message);

// A Go protobuf enum's String() (and so fmt's %v of one): the value's name, or its number when
// the enum names no such value (a sender built with a newer flyteidl).
template <class Enum>
std::string GoEnumString(Enum value) {
  const int number = static_cast<int>(value);
  const auto* known = google::protobuf::GetEnumDescriptor<Enum>()->FindValueByNumber(number);
  return known != nullptr ? known->name() : std::to_string(number);
}

// strconv.FormatFloat(v, 'g', -1, bits), which is also fmt's %v: shortest round-trip digits, in
// exponent form when the decimal exponent is < -4 or >= 6 ("1e+06", "0.0001", "1.5").
// NaN and the infinities print as "NaN", "+Inf", "-Inf".
FLYTE_PLUGIN_API_EXPORT std::string GoFormatFloat(double v, int bits = 64);

// fmt's %v of a []string: "[a b c]".
FLYTE_PLUGIN_API_EXPORT std::string GoStringSlice(const std::vector<std::string>& items);

// strconv.Quote: printable characters (unicode.IsPrint) pass through, the others are escaped
// as Go escapes them (\n, \x7f, \u00a0, \U000e0001; a byte that is not UTF-8 as \xff).
FLYTE_PLUGIN_API_EXPORT std::string GoQuote(std::string_view s);

// strconv.Atoi. On failure `error` holds Go's text, e.g.
// `strconv.Atoi: parsing "x": invalid syntax` or `...: value out of range`.
FLYTE_PLUGIN_API_EXPORT std::optional<int64_t> GoAtoi(std::string_view s,
                                                     std::string* error = nullptr);

// strconv.ParseFloat(s, 64); nullopt when Go returns an error (syntax or range).
FLYTE_PLUGIN_API_EXPORT std::optional<double> GoParseFloat(std::string_view s);

// strconv.ParseInt(s, 0, 64): the base from the prefix (0x, 0o, 0b, a leading 0 for octal,
// else decimal), underscores between digits; nullopt when Go returns an error (syntax or range).
FLYTE_PLUGIN_API_EXPORT std::optional<int64_t> GoParseInt(std::string_view s);

// strconv.ParseBool: 1, t, T, TRUE, true, True and their false counterparts; nullopt otherwise.
FLYTE_PLUGIN_API_EXPORT std::optional<bool> GoParseBool(std::string_view s);

// time.ParseDuration in nanoseconds. On failure `error` holds Go's text, e.g.
// `time: invalid duration "x"`, `time: missing unit in duration "1"`,
// `time: unknown unit "d" in duration "1d"`.
FLYTE_PLUGIN_API_EXPORT std::optional<int64_t> GoParseDuration(std::string_view s,
                                                               std::string* error = nullptr);

// Whether Go's net/url.Parse accepts `raw` (control characters, a missing scheme before ':',
// a colon in a scheme-less first segment, the host's characters, port and escapes, userinfo,
// and the escapes of the path and fragment; the query is not looked at, as Go does not).
FLYTE_PLUGIN_API_EXPORT bool GoUrlParses(std::string_view raw);

// strings.Fields / strings.TrimSpace (Unicode white space, input treated as UTF-8).
FLYTE_PLUGIN_API_EXPORT std::vector<std::string> GoFields(std::string_view s);
FLYTE_PLUGIN_API_EXPORT std::string_view GoTrimSpace(std::string_view s);

// The value encoding/json decodes into the struct field `name` from a JSON object: the key
// equal to `name`, else one equal to it but for ASCII case (the last in key order, as Go's
// decoder keeps the last it meets); null when none.
FLYTE_PLUGIN_API_EXPORT const google::protobuf::Value* GoJsonField(const google::protobuf::Struct& object,
                                                                   std::string_view name);

}  // namespace flyte::plugin
