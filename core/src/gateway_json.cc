// The gateway's wire encodings: protojson as FlyteAdmin configures it (written here so that field
// order, unpopulated fields and number formats match Go's encoder), request-body parsing
// (checked for what protojson refuses, then parsed by protobuf's JSON parser), query/path value
// conversion as grpc-gateway's runtime.PopulateQueryParameters, and error bodies.
#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <google/rpc/status.pb.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flyte/core/gateway.h"
#include "gateway_internal.h"

namespace flyte::core::gateway {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using plugin::Status;
using plugin::StatusOr;

namespace {

// ---------------------------------------------------------------------------------------------
// Shared helpers

// The offset of the first byte that does not start a valid UTF-8 sequence, or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == std::string_view::npos; }

// Go's strconv.Quote, for the error texts that quote user input: C escapes, \xNN for other
// control bytes and bytes that are not UTF-8, \uNNNN for the runes unicode.IsPrint refuses
// (Latin-1's controls, no-break space and soft hyphen, Unicode's spaces and format characters,
// private use), every other rune as it is.
std::string Quote(std::string_view s) {
  // unicode.IsPrint outside ASCII, less the unassigned code points.
  auto printable = [](uint32_t r) {
    if (r < 0xA1 || r == 0xAD) return false;
    if ((r >= 0x0600 && r <= 0x0605) || r == 0x061C || r == 0x06DD || r == 0x070F || r == 0x1680 || r == 0x180E) {
      return false;
    }
    if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) || (r >= 0x205F && r <= 0x206F)) return false;
    if (r == 0x3000 || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB) || r == 0xFFFE || r == 0xFFFF) return false;
    if ((r >= 0xE000 && r <= 0xF8FF) || (r >= 0xE0000 && r <= 0xE007F) || r >= 0xF0000) return false;
    return true;
  };
  std::string out = "\"";
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            std::snprintf(buf, sizeof(buf), "\\x%02x", c);
            out += buf;
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      continue;
    }
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (FirstInvalidUtf8(s.substr(i, len)) != std::string_view::npos) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    uint32_t r = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < len; ++k) r = (r << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    if (printable(r)) {
      out.append(s.substr(i, len));
    } else {
      std::snprintf(buf, sizeof(buf), r < 0x10000 ? "\\u%04x" : "\\U%08x", r);
      out += buf;
    }
    i += len;
  }
  out.push_back('"');
  return out;
}

const google::protobuf::Message* PrototypeFor(
    const Descriptor* d, std::unique_ptr<google::protobuf::DynamicMessageFactory>& dynamic) {
  const Message* proto = google::protobuf::MessageFactory::generated_factory()->GetPrototype(d);
  if (proto != nullptr) return proto;
  if (!dynamic)
    dynamic = std::make_unique<google::protobuf::DynamicMessageFactory>(d->file()->pool());
  return dynamic->GetPrototype(d);
}

// ---------------------------------------------------------------------------------------------
// Encoder: protojson (protobuf-go encoding/protojson) with EmitUnpopulated.

constexpr int64_t kMaxDurationSeconds = 315576000000;
constexpr int64_t kMaxNanos = 999999999;
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      default: {
        static const char kHex[] = "0123456789abcdef";
        out += "u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

template <typename T>
void AppendInt(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Go's encoding/json float rule: shortest round-trip digits, exponent form only outside
// [1e-6, 1e21), and a single-digit negative exponent without the leading zero.
template <typename F>
void AppendFloat(std::string& out, F v) {
  if (std::isnan(v)) {
    out += "\"NaN\"";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return;
  }
  F a = std::fabs(v);
  bool exp = a != 0 && (a < static_cast<F>(1e-6) || a >= static_cast<F>(1e21));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v,
                         exp ? std::chars_format::scientific : std::chars_format::fixed);
  size_t n = r.ptr - buf;
  if (exp && n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
    buf[n - 2] = buf[n - 1];
    --n;
  }
  out.append(buf, n);
}

static const char kB64Std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void AppendBase64(std::string& out, std::string_view in) {
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out.push_back(kB64Std[(v >> 18) & 63]);
    out.push_back(kB64Std[(v >> 12) & 63]);
    out.push_back(kB64Std[(v >> 6) & 63]);
    out.push_back(kB64Std[v & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out.push_back(kB64Std[(v >> 18) & 63]);
    out.push_back(kB64Std[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out.push_back(kB64Std[(v >> 18) & 63]);
    out.push_back(kB64Std[(v >> 12) & 63]);
    out.push_back(kB64Std[(v >> 6) & 63]);
    out.push_back('=');
  }
}

// Base64 in one alphabet, as Go's base64.Encoding decodes it (not strict): CR and LF skipped
// anywhere; padded, the last quantum padded with '='; unpadded (WithPadding(NoPadding)), a
// final quantum of two or three characters and no '='. Bits left over are ignored.
bool DecodeBase64(std::string_view in, const char* alphabet, std::string& out, bool padded = true) {
  int8_t map[256];
  std::fill(std::begin(map), std::end(map), int8_t(-1));
  for (int i = 0; i < 64; ++i) map[static_cast<unsigned char>(alphabet[i])] = int8_t(i);
  std::string clean;
  clean.reserve(in.size());
  for (char c : in) {
    if (c != '\r' && c != '\n') clean.push_back(c);
  }
  if (padded ? clean.size() % 4 != 0 : clean.size() % 4 == 1) return false;
  out.clear();
  for (size_t i = 0; i < clean.size(); i += 4) {
    const size_t have = std::min<size_t>(4, clean.size() - i);
    int v[4] = {0, 0, 0, 0};
    int pad = 0;  // the '=' read, then the characters missing from an unpadded last quantum
    for (size_t k = 0; k < have; ++k) {
      char c = clean[i + k];
      if (c == '=' && padded) {
        if (i + 4 != clean.size() || k < 2) return false;
        ++pad;
      } else {
        if (pad > 0) return false;
        v[k] = map[static_cast<unsigned char>(c)];
        if (v[k] < 0) return false;
      }
    }
    pad += 4 - static_cast<int>(have);
    uint32_t x = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>((x >> 16) & 0xFF));
    if (pad < 2) out.push_back(static_cast<char>((x >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(x & 0xFF));
  }
  return true;
}

// protojson's bytes: the URL-safe alphabet when the text holds '-' or '_', unpadded when its
// length (line breaks included) is not a multiple of four.
bool DecodeProtojsonBytes(std::string_view text, std::string& out) {
  const bool url = text.find_first_of("-_") != std::string_view::npos;
  return DecodeBase64(text, url ? kB64Url : kB64Std, out, text.size() % 4 == 0);
}

// Days since 1970-01-01 to a civil date (proleptic Gregorian).
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Drops trailing groups of three zeros from a 9-digit fraction, as protojson does.
void AppendFraction(std::string& out, int32_t nanos) {
  if (nanos == 0) return;
  char buf[10];
  std::snprintf(buf, sizeof(buf), "%09d", nanos);
  size_t len = 9;
  if (nanos % 1000000 == 0) {
    len = 3;
  } else if (nanos % 1000 == 0) {
    len = 6;
  }
  out.push_back('.');
  out.append(buf, len);
}

// A timestamp within protojson's range as protojson writes it: UTC, "Z", 0, 3, 6 or 9 digits.
std::string TimestampText(int64_t secs, int32_t nanos) {
  const int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  const int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned mo, d;
  CivilFromDays(days, y, mo, d);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d", static_cast<long long>(y), mo, d,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  std::string out = buf;
  AppendFraction(out, nanos);
  out.push_back('Z');
  return out;
}

bool ParseRfc3339(std::string_view v, int64_t* secs, int32_t* nanos, std::string* err);

class Encoder {
 public:
  Encoder(bool proto_names, std::string& out) : proto_names_(proto_names), out_(out) {}

  // The JSON value of one field of `m` (a list, map or single value), without its name.
  Status WriteFieldValue(const Message& m, const FieldDescriptor* fd) {
    std::string scratch;
    return WriteField(m, m.GetReflection(), fd, scratch);
  }

  Status WriteMessage(const Message& m, const std::string* type_url = nullptr) {
    DepthGuard depth(depth_);
    const Descriptor* d = m.GetDescriptor();
    if (d->well_known_type() != Descriptor::WELLKNOWNTYPE_UNSPECIFIED) {
      return WriteWellKnown(m);
    }
    const Reflection* r = m.GetReflection();
    out_.push_back('{');
    bool first = true;
    if (type_url != nullptr) {
      out_ += "\"@type\":";
      AppendJsonString(out_, *type_url);
      first = false;
    }
    std::string scratch;
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* fd = d->field(i);
      bool emit_null = false;
      if (fd->is_repeated()) {
        // Always emitted: [] or {} when empty.
      } else if (fd->containing_oneof() != nullptr) {
        if (!r->HasField(m, fd)) continue;  // oneof members and proto3 optional: only when set
      } else if (fd->has_presence()) {
        emit_null = !r->HasField(m, fd);
      }
      if (!first) out_.push_back(',');
      first = false;
      WriteName(fd);
      if (emit_null) {
        out_ += "null";
        continue;
      }
      if (auto st = WriteField(m, r, fd, scratch); !st.ok()) return st;
    }
    if (d->extension_range_count() > 0) {
      std::vector<const FieldDescriptor*> set;
      r->ListFields(m, &set);
      std::vector<const FieldDescriptor*> ext;
      for (const auto* fd : set) {
        if (fd->is_extension()) ext.push_back(fd);
      }
      std::sort(ext.begin(), ext.end(), [](const FieldDescriptor* a, const FieldDescriptor* b) {
        return a->full_name() < b->full_name();
      });
      for (const auto* fd : ext) {
        if (!first) out_.push_back(',');
        first = false;
        out_ += "\"[";
        out_ += fd->full_name();
        out_ += "]\":";
        if (auto st = WriteField(m, r, fd, scratch); !st.ok()) return st;
      }
    }
    out_.push_back('}');
    return Status::Ok();
  }

 private:
  void WriteName(const FieldDescriptor* fd) {
    out_.push_back('"');
    if (proto_names_) {
      out_ += fd->type() == FieldDescriptor::TYPE_GROUP ? fd->message_type()->name() : fd->name();
    } else {
      out_ += fd->json_name();
    }
    out_ += "\":";
  }

  Status WriteField(const Message& m, const Reflection* r, const FieldDescriptor* fd,
                    std::string& scratch) {
    if (fd->is_map()) return WriteMap(m, r, fd);
    if (fd->is_repeated()) {
      out_.push_back('[');
      const int n = r->FieldSize(m, fd);
      for (int i = 0; i < n; ++i) {
        if (i > 0) out_.push_back(',');
        if (auto st = WriteValue(m, r, fd, i, scratch); !st.ok()) return st;
      }
      out_.push_back(']');
      return Status::Ok();
    }
    return WriteValue(m, r, fd, -1, scratch);
  }

  // One value of `fd` in `m`: the singular value when index < 0, else element `index`.
  Status WriteValue(const Message& m, const Reflection* r, const FieldDescriptor* fd, int index,
                    std::string& scratch) {
    const bool rep = index >= 0;
    switch (fd->cpp_type()) {
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += (rep ? r->GetRepeatedBool(m, fd, index) : r->GetBool(m, fd)) ? "true" : "false";
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        AppendInt(out_, rep ? r->GetRepeatedInt32(m, fd, index) : r->GetInt32(m, fd));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        AppendInt(out_, rep ? r->GetRepeatedUInt32(m, fd, index) : r->GetUInt32(m, fd));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        out_.push_back('"');
        AppendInt(out_, rep ? r->GetRepeatedInt64(m, fd, index) : r->GetInt64(m, fd));
        out_.push_back('"');
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        out_.push_back('"');
        AppendInt(out_, rep ? r->GetRepeatedUInt64(m, fd, index) : r->GetUInt64(m, fd));
        out_.push_back('"');
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        AppendFloat(out_, rep ? r->GetRepeatedFloat(m, fd, index) : r->GetFloat(m, fd));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        AppendFloat(out_, rep ? r->GetRepeatedDouble(m, fd, index) : r->GetDouble(m, fd));
        break;
      case FieldDescriptor::CPPTYPE_STRING: {
        const std::string& s = rep ? r->GetRepeatedStringReference(m, fd, index, &scratch)
                                   : r->GetStringReference(m, fd, &scratch);
        if (fd->type() == FieldDescriptor::TYPE_BYTES) {
          out_.push_back('"');
          AppendBase64(out_, s);
          out_.push_back('"');
        } else {
          if (!IsValidUtf8(s)) {
            return Status(plugin::StatusCode::kUnknown,
                          "string field contains invalid UTF-8: " + fd->full_name());
          }
          AppendJsonString(out_, s);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        if (fd->enum_type()->full_name() == "google.protobuf.NullValue") {
          out_ += "null";
          break;
        }
        int v = rep ? r->GetRepeatedEnumValue(m, fd, index) : r->GetEnumValue(m, fd);
        const auto* ev = fd->enum_type()->FindValueByNumber(v);
        if (ev == nullptr) {
          AppendInt(out_, v);
        } else {
          out_.push_back('"');
          out_ += ev->name();
          out_.push_back('"');
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return WriteMessage(rep ? r->GetRepeatedMessage(m, fd, index) : r->GetMessage(m, fd));
    }
    return Status::Ok();
  }

  Status WriteMap(const Message& m, const Reflection* r, const FieldDescriptor* fd) {
    const FieldDescriptor* key_fd = fd->message_type()->map_key();
    const FieldDescriptor* value_fd = fd->message_type()->map_value();
    const int n = r->FieldSize(m, fd);
    std::vector<const Message*> entries;
    entries.reserve(n);
    for (int i = 0; i < n; ++i) entries.push_back(&r->GetRepeatedMessage(m, fd, i));
    std::string sa, sb;
    auto less = [&](const Message* a, const Message* b) {
      const Reflection* ra = a->GetReflection();
      const Reflection* rb = b->GetReflection();
      switch (key_fd->cpp_type()) {
        case FieldDescriptor::CPPTYPE_BOOL:
          return !ra->GetBool(*a, key_fd) && rb->GetBool(*b, key_fd);
        case FieldDescriptor::CPPTYPE_INT32:
          return ra->GetInt32(*a, key_fd) < rb->GetInt32(*b, key_fd);
        case FieldDescriptor::CPPTYPE_INT64:
          return ra->GetInt64(*a, key_fd) < rb->GetInt64(*b, key_fd);
        case FieldDescriptor::CPPTYPE_UINT32:
          return ra->GetUInt32(*a, key_fd) < rb->GetUInt32(*b, key_fd);
        case FieldDescriptor::CPPTYPE_UINT64:
          return ra->GetUInt64(*a, key_fd) < rb->GetUInt64(*b, key_fd);
        default:
          return ra->GetStringReference(*a, key_fd, &sa) < rb->GetStringReference(*b, key_fd, &sb);
      }
    };
    std::stable_sort(entries.begin(), entries.end(), less);
    // A duplicate key in the repeated view: the last one is the map's value.
    out_.push_back('{');
    bool first = true;
    std::string scratch;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i + 1 < entries.size() && !less(entries[i], entries[i + 1])) continue;
      const Message& e = *entries[i];
      const Reflection* re = e.GetReflection();
      if (!first) out_.push_back(',');
      first = false;
      switch (key_fd->cpp_type()) {
        case FieldDescriptor::CPPTYPE_BOOL:
          out_ += re->GetBool(e, key_fd) ? "\"true\"" : "\"false\"";
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          out_.push_back('"');
          AppendInt(out_, re->GetInt32(e, key_fd));
          out_.push_back('"');
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          out_.push_back('"');
          AppendInt(out_, re->GetInt64(e, key_fd));
          out_.push_back('"');
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          out_.push_back('"');
          AppendInt(out_, re->GetUInt32(e, key_fd));
          out_.push_back('"');
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          out_.push_back('"');
          AppendInt(out_, re->GetUInt64(e, key_fd));
          out_.push_back('"');
          break;
        default: {
          const std::string& k = re->GetStringReference(e, key_fd, &scratch);
          if (!IsValidUtf8(k)) {
            return Status(plugin::StatusCode::kUnknown,
                          "string field contains invalid UTF-8: " + fd->full_name());
          }
          AppendJsonString(out_, k);
        }
      }
      out_.push_back(':');
      if (auto st = WriteValue(e, re, value_fd, -1, scratch); !st.ok()) return st;
    }
    out_.push_back('}');
    return Status::Ok();
  }

  Status WriteWellKnown(const Message& m) {
    const Descriptor* d = m.GetDescriptor();
    const Reflection* r = m.GetReflection();
    std::string scratch;
    switch (d->well_known_type()) {
      case Descriptor::WELLKNOWNTYPE_DOUBLEVALUE:
      case Descriptor::WELLKNOWNTYPE_FLOATVALUE:
      case Descriptor::WELLKNOWNTYPE_INT64VALUE:
      case Descriptor::WELLKNOWNTYPE_UINT64VALUE:
      case Descriptor::WELLKNOWNTYPE_INT32VALUE:
      case Descriptor::WELLKNOWNTYPE_UINT32VALUE:
      case Descriptor::WELLKNOWNTYPE_STRINGVALUE:
      case Descriptor::WELLKNOWNTYPE_BYTESVALUE:
      case Descriptor::WELLKNOWNTYPE_BOOLVALUE:
        return WriteValue(m, r, d->FindFieldByNumber(1), -1, scratch);
      case Descriptor::WELLKNOWNTYPE_ANY:
        return WriteAny(m);
      case Descriptor::WELLKNOWNTYPE_FIELDMASK:
        return WriteFieldMask(m);
      case Descriptor::WELLKNOWNTYPE_DURATION:
        return WriteDuration(m);
      case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
        return WriteTimestamp(m);
      case Descriptor::WELLKNOWNTYPE_VALUE: {
        const auto* oneof = d->FindOneofByName("kind");
        const FieldDescriptor* set = oneof ? r->GetOneofFieldDescriptor(m, oneof) : nullptr;
        if (set == nullptr) {
          return Status(plugin::StatusCode::kUnknown,
                        "google.protobuf.Value: none of the oneof fields is set");
        }
        if (set->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          double v = r->GetDouble(m, set);
          if (std::isnan(v) || std::isinf(v)) {
            return Status(plugin::StatusCode::kUnknown,
                          "google.protobuf.Value.number_value: invalid value");
          }
        }
        return WriteValue(m, r, set, -1, scratch);
      }
      case Descriptor::WELLKNOWNTYPE_LISTVALUE:
      case Descriptor::WELLKNOWNTYPE_STRUCT:
        return WriteField(m, r, d->FindFieldByNumber(1), scratch);
      default:
        return Status(plugin::StatusCode::kInternal, "unhandled well-known type " + d->full_name());
    }
  }

  Status WriteAny(const Message& m) {
    // Each Any's value is parsed on its own, so protobuf's nesting limit does not bound Anys
    // within Anys: past kMaxAnyDepth messages deep a crafted stored message is refused rather
    // than exhausting the stack.
    if (depth_ > kMaxAnyDepth) {
      return Status(plugin::StatusCode::kUnknown,
                    "google.protobuf.Any: nested more than " + std::to_string(kMaxAnyDepth) +
                        " messages deep");
    }
    // An Any directly inside an Any is written without WriteMessage: counted here as well.
    DepthGuard depth(depth_);
    const Reflection* r = m.GetReflection();
    const FieldDescriptor* type_fd = m.GetDescriptor()->FindFieldByNumber(1);
    const FieldDescriptor* value_fd = m.GetDescriptor()->FindFieldByNumber(2);
    std::string s1, s2;
    const std::string& type_url = r->GetStringReference(m, type_fd, &s1);
    const std::string& value = r->GetStringReference(m, value_fd, &s2);
    if (type_url.empty()) {
      if (value.empty()) {
        out_ += "{}";
        return Status::Ok();
      }
      return Status(plugin::StatusCode::kUnknown, "google.protobuf.Any: type_url is not set");
    }
    std::string_view name = type_url;
    if (auto slash = name.rfind('/'); slash != std::string_view::npos)
      name.remove_prefix(slash + 1);
    const Descriptor* inner =
        m.GetDescriptor()->file()->pool()->FindMessageTypeByName(std::string(name));
    if (inner == nullptr &&
        m.GetDescriptor()->file()->pool() != google::protobuf::DescriptorPool::generated_pool()) {
      inner = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          std::string(name));
    }
    if (inner == nullptr) {
      return Status(plugin::StatusCode::kUnknown,
                    "google.protobuf.Any: unable to resolve " + Quote(type_url) + ": not found");
    }
    std::unique_ptr<google::protobuf::DynamicMessageFactory> dynamic;
    std::unique_ptr<Message> msg(PrototypeFor(inner, dynamic)->New());
    if (!msg->ParsePartialFromString(value)) {
      return Status(plugin::StatusCode::kUnknown,
                    "google.protobuf.Any: unable to unmarshal " + Quote(type_url));
    }
    if (inner->well_known_type() != Descriptor::WELLKNOWNTYPE_UNSPECIFIED) {
      out_ += "{\"@type\":";
      AppendJsonString(out_, type_url);
      out_ += ",\"value\":";
      if (auto st = WriteWellKnown(*msg); !st.ok()) return st;
      out_.push_back('}');
      return Status::Ok();
    }
    return WriteMessage(*msg, &type_url);
  }

  Status WriteFieldMask(const Message& m) {
    const Reflection* r = m.GetReflection();
    const FieldDescriptor* fd = m.GetDescriptor()->FindFieldByNumber(1);
    std::string joined, scratch;
    const int n = r->FieldSize(m, fd);
    for (int i = 0; i < n; ++i) {
      const std::string& path = r->GetRepeatedStringReference(m, fd, i, &scratch);
      // protojson: a path must be a valid dotted identifier whose camelCase maps back to it.
      bool valid = !path.empty();
      for (size_t start = 0; valid;) {
        size_t dot = path.find('.', start);
        std::string_view ident(path.data() + start,
                               (dot == std::string::npos ? path.size() : dot) - start);
        valid = !ident.empty() && !(ident[0] >= '0' && ident[0] <= '9');
        for (char c : ident) {
          valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '_');
        }
        if (dot == std::string::npos) break;
        start = dot + 1;
      }
      if (!valid) {
        return Status(plugin::StatusCode::kUnknown,
                      "google.protobuf.FieldMask.paths contains invalid path: " + Quote(path));
      }
      std::string camel;
      bool was_underscore = false;
      for (char c : path) {
        if (c != '_') {
          if (was_underscore && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
          camel.push_back(c);
        }
        was_underscore = c == '_';
      }
      std::string snake;
      for (char c : camel) {
        if (c >= 'A' && c <= 'Z') {
          snake.push_back('_');
          snake.push_back(static_cast<char>(c - 'A' + 'a'));
        } else {
          snake.push_back(c);
        }
      }
      if (snake != path) {
        return Status(plugin::StatusCode::kUnknown,
                      "google.protobuf.FieldMask.paths contains irreversible value " + Quote(path));
      }
      if (i > 0) joined.push_back(',');
      joined += camel;
    }
    AppendJsonString(out_, joined);
    return Status::Ok();
  }

  Status WriteDuration(const Message& m) {
    const Reflection* r = m.GetReflection();
    int64_t secs = r->GetInt64(m, m.GetDescriptor()->FindFieldByNumber(1));
    int32_t nanos = r->GetInt32(m, m.GetDescriptor()->FindFieldByNumber(2));
    if (secs < -kMaxDurationSeconds || secs > kMaxDurationSeconds) {
      return Status(plugin::StatusCode::kUnknown,
                    "google.protobuf.Duration: seconds out of range " + std::to_string(secs));
    }
    if (nanos < -kMaxNanos || nanos > kMaxNanos) {
      return Status(plugin::StatusCode::kUnknown,
                    "google.protobuf.Duration: nanos out of range " + std::to_string(nanos));
    }
    if ((secs > 0 && nanos < 0) || (secs < 0 && nanos > 0)) {
      return Status(plugin::StatusCode::kUnknown,
                    "google.protobuf.Duration: signs of seconds and nanos do not match");
    }
    out_.push_back('"');
    if (secs < 0 || nanos < 0) {
      out_.push_back('-');
      secs = -secs;
      nanos = -nanos;
    }
    AppendInt(out_, secs);
    AppendFraction(out_, nanos);
    out_ += "s\"";
    return Status::Ok();
  }

  Status WriteTimestamp(const Message& m) {
    const Reflection* r = m.GetReflection();
    int64_t secs = r->GetInt64(m, m.GetDescriptor()->FindFieldByNumber(1));
    int32_t nanos = r->GetInt32(m, m.GetDescriptor()->FindFieldByNumber(2));
    if (secs < kMinTimestampSeconds || secs > kMaxTimestampSeconds) {
      return Status(plugin::StatusCode::kUnknown,
                    "google.protobuf.Timestamp: seconds out of range " + std::to_string(secs));
    }
    if (nanos < 0 || nanos > kMaxNanos) {
      return Status(plugin::StatusCode::kUnknown,
                    "google.protobuf.Timestamp: nanos out of range " + std::to_string(nanos));
    }
    out_ += '"' + TimestampText(secs, nanos) + '"';
    return Status::Ok();
  }

  bool proto_names_;
  std::string& out_;
  // Twice protobuf's parse nesting limit: an Any inside any message parsed in one piece is
  // expanded.
  static constexpr int kMaxAnyDepth = 200;
  int depth_ = 0;  // messages being written
  struct DepthGuard {
    int& d;
    explicit DepthGuard(int& depth) : d(++depth) {}
    ~DepthGuard() { --d; }
  };
};

// ---------------------------------------------------------------------------------------------
// First JSON value of a body, as Go's json.Decoder reads it (trailing data is left unread).

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view s) : s_(s) {}

  // Ok with *eof set when the input holds only whitespace.
  Status FirstValue(std::string_view* value, bool* eof) {
    SkipWs();
    *eof = pos_ >= s_.size();
    if (*eof) return Status::Ok();
    size_t start = pos_;
    if (auto st = Value(0); !st.ok()) return st;
    *value = s_.substr(start, pos_ - start);
    return Status::Ok();
  }

 private:
  // Go allows 10000 levels; protobuf's parser stops at 100 anyway, and a lower bound keeps this
  // recursion far from the stack limit of a server thread.
  static constexpr int kMaxDepth = 1000;

  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  Status Invalid(std::string_view context) {
    if (pos_ >= s_.size()) return plugin::InvalidArgument("unexpected EOF");
    return plugin::InvalidArgument("invalid character " + QuoteChar(static_cast<unsigned char>(s_[pos_])) + " " +
                                   std::string(context));
  }

  // encoding/json's quoteChar: the byte taken as a rune (0xEF is 'ï') and quoted as
  // strconv.Quote quotes it, between single quotes.
  static std::string QuoteChar(unsigned char c) {
    if (c == '\'') return "'\\''";
    if (c == '"') return "'\"'";
    std::string rune;
    if (c < 0x80) {
      rune.push_back(static_cast<char>(c));
    } else {
      rune.push_back(static_cast<char>(0xC0 | (c >> 6)));
      rune.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
    const std::string quoted = Quote(rune);
    return "'" + quoted.substr(1, quoted.size() - 2) + "'";
  }

  Status Value(int depth) {
    if (depth > kMaxDepth) return plugin::InvalidArgument("exceeded max depth");
    if (pos_ >= s_.size()) return plugin::InvalidArgument("unexpected EOF");
    char c = s_[pos_];
    switch (c) {
      case '{': {
        ++pos_;
        SkipWs();
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          return Status::Ok();
        }
        for (;;) {
          SkipWs();
          if (pos_ >= s_.size() || s_[pos_] != '"') {
            return Invalid("looking for beginning of object key string");
          }
          if (auto st = String(); !st.ok()) return st;
          SkipWs();
          if (pos_ >= s_.size() || s_[pos_] != ':') return Invalid("after object key");
          ++pos_;
          SkipWs();
          if (auto st = Value(depth + 1); !st.ok()) return st;
          SkipWs();
          if (pos_ < s_.size() && s_[pos_] == ',') {
            ++pos_;
            continue;
          }
          if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            return Status::Ok();
          }
          return Invalid("after object key:value pair");
        }
      }
      case '[': {
        ++pos_;
        SkipWs();
        if (pos_ < s_.size() && s_[pos_] == ']') {
          ++pos_;
          return Status::Ok();
        }
        for (;;) {
          SkipWs();
          if (auto st = Value(depth + 1); !st.ok()) return st;
          SkipWs();
          if (pos_ < s_.size() && s_[pos_] == ',') {
            ++pos_;
            continue;
          }
          if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            return Status::Ok();
          }
          return Invalid("after array element");
        }
      }
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return Number();
        return Invalid("looking for beginning of value");
    }
  }

  Status Literal(std::string_view lit) {
    for (size_t i = 0; i < lit.size(); ++i, ++pos_) {
      if (pos_ >= s_.size()) return plugin::InvalidArgument("unexpected EOF");
      if (s_[pos_] != lit[i]) {
        return Invalid("in literal " + std::string(lit) + " (expecting '" + std::string(1, lit[i]) +
                       "')");
      }
    }
    return Status::Ok();
  }

  Status String() {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return Status::Ok();
      }
      if (c < 0x20) return Invalid("in string literal");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) break;
        char e = s_[pos_];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            ++pos_;
            if (pos_ >= s_.size()) return plugin::InvalidArgument("unexpected EOF");
            if (!std::isxdigit(static_cast<unsigned char>(s_[pos_]))) {
              return Invalid("in \\u hexadecimal character escape");
            }
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return Invalid("in string escape code");
        }
      }
      ++pos_;
    }
    return plugin::InvalidArgument("unexpected EOF");
  }

  Status Number() {
    auto digit = [&] { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
    if (s_[pos_] == '-') {
      ++pos_;
      if (pos_ >= s_.size()) return plugin::InvalidArgument("unexpected EOF");
      if (!digit()) return Invalid("in numeric literal");
    }
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (pos_ >= s_.size()) return plugin::InvalidArgument("unexpected EOF");
      if (!digit()) return Invalid("after decimal point in numeric literal");
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size()) return plugin::InvalidArgument("unexpected EOF");
      if (!digit()) return Invalid("in exponent of numeric literal");
      while (digit()) ++pos_;
    }
    return Status::Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// What protojson refuses in a request body and protobuf's own JSON parser lets through: a field
// given twice, a second member of a oneof, a bool or string field given another JSON type, a
// null inside a list or as a map value, and (when unknown values are errors) an enum string that
// names no value; when they are discarded, such a string is read as null, so that "1" is not
// taken as 1. Run over input JsonScanner accepted and that is valid UTF-8; anything else is left
// to protobuf's parser. Messages, positions and wording are protojson's.

const FieldDescriptor* FindFieldByJsonName(const Descriptor* d, std::string_view name);
std::string TextName(const FieldDescriptor* fd);

// protojson's numbers (internal/encoding/json decode_number.go). The length of the JSON number
// at the start of `s`, or 0 when there is none or a character that cannot end one follows it.
size_t GoNumberLength(std::string_view s) {
  const auto digit = [&](size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  size_t n = 0;
  if (n < s.size() && s[n] == '-') ++n;
  if (!digit(n)) return 0;
  if (s[n] == '0') {
    ++n;
  } else {
    while (digit(n)) ++n;
  }
  if (n + 1 < s.size() && s[n] == '.' && digit(n + 1)) {
    n += 2;
    while (digit(n)) ++n;
  }
  if (n + 1 < s.size() && (s[n] == 'e' || s[n] == 'E')) {
    ++n;
    if (s[n] == '+' || s[n] == '-') {
      ++n;
      if (n >= s.size()) return 0;
    }
    while (digit(n)) ++n;
  }
  if (n < s.size()) {
    const char c = s[n];
    if (c == '-' || c == '+' || c == '.' || c == '_' || std::isalnum(static_cast<unsigned char>(c))) return 0;
  }
  return n;
}

// The decimal integer a JSON number (whole, as GoNumberLength reads it) stands for, without
// fraction or exponent (normalizeToIntString); nullopt when it is not an integer.
std::optional<std::string> GoIntegerText(std::string_view num) {
  bool neg = false;
  if (!num.empty() && num.front() == '-') {
    neg = true;
    num.remove_prefix(1);
  }
  size_t i = 0;
  std::string_view intp, frac, exp;
  if (i < num.size() && num[i] == '0') {
    ++i;
  } else {
    while (i < num.size() && std::isdigit(static_cast<unsigned char>(num[i]))) ++i;
    intp = num.substr(0, i);
  }
  if (i < num.size() && num[i] == '.') {
    const size_t start = ++i;
    while (i < num.size() && std::isdigit(static_cast<unsigned char>(num[i]))) ++i;
    frac = num.substr(start, i - start);
    while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  }
  if (i < num.size() && (num[i] == 'e' || num[i] == 'E')) exp = num.substr(i + 1);
  if (intp.empty() && frac.empty()) return std::string("0");
  int64_t e = 0;
  if (!exp.empty()) {
    std::string_view digits = exp;
    if (digits.front() == '+') digits.remove_prefix(1);  // strconv.ParseInt takes a sign
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), e);
    if (ec != std::errc() || end != digits.data() + digits.size() || e > INT32_MAX || e < INT32_MIN) {
      return std::nullopt;
    }
  }
  std::string out;
  if (e >= 0) {
    if (static_cast<int64_t>(frac.size()) > e) return std::nullopt;
    if (static_cast<int64_t>(intp.size()) + e > 20) return std::nullopt;  // past uint64's digits
    out = std::string(intp) + std::string(frac) + std::string(static_cast<size_t>(e) - frac.size(), '0');
  } else {
    if (!frac.empty()) return std::nullopt;
    const int64_t index = static_cast<int64_t>(intp.size()) + e;
    if (index < 0) return std::nullopt;
    for (size_t k = static_cast<size_t>(index); k < intp.size(); ++k) {
      if (intp[k] != '0') return std::nullopt;
    }
    out = std::string(intp.substr(0, static_cast<size_t>(index)));
  }
  return neg ? "-" + out : out;
}

// Whether `s` begins or ends with what Go's strings.TrimSpace removes (ASCII and Unicode
// White_Space).
bool HasGoSpaceAtEnds(std::string_view s) {
  static constexpr std::string_view kWide[] = {
      "\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81", "\xe2\x80\x82",
      "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86", "\xe2\x80\x87", "\xe2\x80\x88",
      "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f",
      "\xe3\x80\x80"};
  if (s.empty()) return false;
  const auto ascii = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  if (ascii(s.front()) || ascii(s.back())) return true;
  for (std::string_view w : kWide) {
    if (s.substr(0, w.size()) == w) return true;
    if (s.size() >= w.size() && s.substr(s.size() - w.size()) == w) return true;
  }
  return false;
}

class ProtojsonChecker {
 public:
  ProtojsonChecker(std::string_view s, bool discard_unknown) : s_(s), discard_(discard_unknown) {}

  // On success `*rewritten` is the input with the enum strings protojson leaves unset (names of
  // no value, with unknown values discarded) replaced by null, which protobuf's parser leaves
  // unset too (it would read "1" as 1), and the map entries holding such a string removed
  // (protobuf's parser would store a null map value as the default); empty when there are none.
  Status Check(const Descriptor* d, std::string* rewritten) {
    rewritten->clear();
    SkipWs();
    if (d->well_known_type() != Descriptor::WELLKNOWNTYPE_UNSPECIFIED) return Status::Ok();
    if (auto st = MessageValue(d, 0); !st.ok()) return st;
    if (string_error_) return *string_error_;
    // Map entries are dropped once their map is read, after the spans inside it.
    std::sort(unset_.begin(), unset_.end(),
              [](const Rewrite& a, const Rewrite& b) { return a.start < b.start; });
    size_t from = 0;
    for (const Rewrite& r : unset_) {
      if (r.start < from) continue;  // inside a span already rewritten (a dropped map entry)
      rewritten->append(s_.substr(from, r.start - from));
      if (!r.text.empty()) {
        rewritten->append(r.text);
      } else if (!r.drop) {
        rewritten->append("null");
      }
      from = r.end;
    }
    if (!unset_.empty()) rewritten->append(s_.substr(from));
    return Status::Ok();
  }

 private:
  static constexpr int kMaxDepth = 1000;

  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  // After an object member or array element: true past a ',', false past the closing bracket.
  bool More() {
    SkipWs();
    const bool comma = Peek() == ',';
    ++pos_;
    return comma;
  }

  // Steps into the object or list opening at pos_; true, and past its end too, when it is empty.
  bool EnterEmpty(char close) {
    ++pos_;
    SkipWs();
    if (Peek() != close) return false;
    ++pos_;
    return true;
  }

  // protojson's "(line L:C)": C counts runes from the start of the line.
  std::string Where(size_t at) const {
    size_t line_start = s_.rfind('\n', at == 0 ? 0 : at - 1);
    line_start = (line_start == std::string_view::npos || at == 0) ? 0 : line_start + 1;
    size_t line = 1 + static_cast<size_t>(std::count(s_.begin(), s_.begin() + at, '\n'));
    size_t column = 1;
    for (size_t i = line_start; i < at; ++i) {
      if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) ++column;
    }
    return "(line " + std::to_string(line) + ":" + std::to_string(column) + "): ";
  }
  // An error found at `at`; a string read earlier that protojson refuses comes first.
  Status Error(size_t at, const std::string& what) const {
    if (string_error_) return *string_error_;
    return plugin::InvalidArgument("proto: " + Where(at) + what);
  }
  Status SyntaxError(size_t at, const std::string& what) const {
    if (string_error_) return *string_error_;
    return plugin::InvalidArgument("proto: syntax error " + Where(at) + what);
  }

  // protojson's refusal of the string at `start` (the input's, up to its end, after it), whose
  // \u escape of a surrogate half is not followed by the \u escape of its other half; encoding/json
  // takes such strings, protojson decodes the next six bytes as that escape.
  Status SurrogateError(size_t start) const {
    auto hex4 = [](std::string_view h, uint32_t* v) {
      if (h.size() != 4) return false;
      auto [end, ec] = std::from_chars(h.data(), h.data() + 4, *v, 16);
      return ec == std::errc() && end == h.data() + 4;
    };
    size_t i = start + 1;
    while (i < s_.size() && s_[i] != '"') {
      if (s_[i] != '\\') {
        ++i;
        continue;
      }
      if (i + 1 >= s_.size() || s_[i + 1] != 'u') {
        i += 2;
        continue;
      }
      uint32_t first = 0;
      hex4(s_.substr(i + 2, 4), &first);
      i += 6;
      if (first < 0xD800 || first > 0xDFFF) continue;
      const std::string_view next = s_.substr(i);
      if (next.size() < 6) return plugin::InvalidArgument("proto: unexpected EOF");
      uint32_t second = 0;
      const bool paired = next[0] == '\\' && next[1] == 'u' && hex4(next.substr(2, 4), &second) &&
                          first < 0xDC00 && second >= 0xDC00 && second <= 0xDFFF;
      if (!paired) {
        return plugin::InvalidArgument("proto: syntax error " + Where(start) + "invalid escape code " +
                                       Quote(next.substr(0, 6)) + " in string");
      }
      i += 6;
    }
    return Status::Ok();
  }

  // The raw text of the value at pos_ as protojson shows it in errors: a scalar whole, an
  // object or array by its opening character.
  std::string_view RawToken() {
    size_t start = pos_;
    char c = Peek();
    if (c == '{' || c == '[') return s_.substr(start, 1);
    size_t save = pos_;
    SkipValue(0);
    std::string_view raw = s_.substr(start, pos_ - start);
    pos_ = save;
    return raw;
  }

  // The JSON string at pos_ (already validated), decoded; pos_ moves past it.
  std::string String() {
    const size_t start = pos_++;
    while (pos_ < s_.size() && s_[pos_] != '"') pos_ += s_[pos_] == '\\' ? 2 : 1;
    ++pos_;
    const std::string_view raw = s_.substr(start, pos_ - start);
    try {
      return nlohmann::json::parse(raw).get<std::string>();
    } catch (const nlohmann::json::exception&) {
      // A lone surrogate escape, which protojson refuses.
      if (!string_error_) {
        if (Status st = SurrogateError(start); !st.ok()) string_error_ = st;
      }
      return std::string(raw);
    }
  }

  // Skips the (valid) value at pos_.
  void SkipValue(int depth) {
    SkipWs();
    char c = Peek();
    if (c == '"') {
      String();
    } else if (c == '{' || c == '[') {
      if (EnterEmpty(c == '{' ? '}' : ']')) return;
      do {
        SkipWs();
        if (c == '{') {
          String();
          SkipWs();
          ++pos_;  // ':'
        }
        SkipValue(depth + 1);
      } while (More());
    } else {
      while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}' && s_[pos_] != ']' && s_[pos_] != ' ' &&
             s_[pos_] != '\t' && s_[pos_] != '\n' && s_[pos_] != '\r') {
        ++pos_;
      }
    }
  }

  static bool IsNullValueEnum(const FieldDescriptor* fd) {
    return fd->type() == FieldDescriptor::TYPE_ENUM && fd->enum_type()->full_name() == "google.protobuf.NullValue";
  }
  static bool IsValueMessage(const FieldDescriptor* fd) {
    return fd->type() == FieldDescriptor::TYPE_MESSAGE &&
           fd->message_type()->well_known_type() == Descriptor::WELLKNOWNTYPE_VALUE;
  }
  static const char* KindName(const FieldDescriptor* fd) {
    switch (fd->type()) {
      case FieldDescriptor::TYPE_BOOL: return "bool";
      case FieldDescriptor::TYPE_ENUM: return "enum";
      case FieldDescriptor::TYPE_INT32: return "int32";
      case FieldDescriptor::TYPE_SINT32: return "sint32";
      case FieldDescriptor::TYPE_UINT32: return "uint32";
      case FieldDescriptor::TYPE_INT64: return "int64";
      case FieldDescriptor::TYPE_SINT64: return "sint64";
      case FieldDescriptor::TYPE_UINT64: return "uint64";
      case FieldDescriptor::TYPE_SFIXED32: return "sfixed32";
      case FieldDescriptor::TYPE_FIXED32: return "fixed32";
      case FieldDescriptor::TYPE_FLOAT: return "float";
      case FieldDescriptor::TYPE_SFIXED64: return "sfixed64";
      case FieldDescriptor::TYPE_FIXED64: return "fixed64";
      case FieldDescriptor::TYPE_DOUBLE: return "double";
      case FieldDescriptor::TYPE_STRING: return "string";
      case FieldDescriptor::TYPE_BYTES: return "bytes";
      case FieldDescriptor::TYPE_MESSAGE: return "message";
      case FieldDescriptor::TYPE_GROUP: return "group";
    }
    return "unknown";
  }

  // A message's object at pos_.
  Status MessageValue(const Descriptor* d, int depth) {
    if (depth > kMaxDepth) {
      SkipValue(depth);
      return Status::Ok();
    }
    if (d->well_known_type() != Descriptor::WELLKNOWNTYPE_UNSPECIFIED) {
      // Wrappers hold one scalar, checked as their `value` field; the others are protobuf's.
      switch (d->well_known_type()) {
        case Descriptor::WELLKNOWNTYPE_BOOLVALUE:
        case Descriptor::WELLKNOWNTYPE_STRINGVALUE:
        case Descriptor::WELLKNOWNTYPE_INT32VALUE:
        case Descriptor::WELLKNOWNTYPE_INT64VALUE:
        case Descriptor::WELLKNOWNTYPE_UINT32VALUE:
        case Descriptor::WELLKNOWNTYPE_UINT64VALUE:
        case Descriptor::WELLKNOWNTYPE_FLOATVALUE:
        case Descriptor::WELLKNOWNTYPE_DOUBLEVALUE:
        case Descriptor::WELLKNOWNTYPE_BYTESVALUE:
          if (Peek() != 'n') return Scalar(d->FindFieldByName("value"));
          break;
        case Descriptor::WELLKNOWNTYPE_DURATION:
          if (Peek() != 'n') return DurationValue();
          break;
        case Descriptor::WELLKNOWNTYPE_TIMESTAMP:
          if (Peek() != 'n') return TimestampValue();
          break;
        default:
          break;
      }
      SkipValue(depth);
      return Status::Ok();
    }
    if (Peek() != '{') {
      if (Peek() == '[' || Peek() == 'n' || Peek() == 't' || Peek() == 'f' || Peek() == '"' ||
          Peek() == '-' || std::isdigit(static_cast<unsigned char>(Peek()))) {
        return SyntaxError(pos_, "unexpected token " + std::string(RawToken()));
      }
      return Status::Ok();
    }
    if (EnterEmpty('}')) return Status::Ok();
    std::vector<int> seen_fields;
    std::vector<const google::protobuf::OneofDescriptor*> seen_oneofs;
    do {
      SkipWs();
      const size_t key_at = pos_;
      std::string name = String();
      std::string_view raw_name = s_.substr(key_at, pos_ - key_at);
      SkipWs();
      ++pos_;  // ':'
      SkipWs();
      const FieldDescriptor* fd = FindFieldByJsonName(d, name);
      if (!fd) {
        fd = d->FindFieldByName(name);
        if (fd && TextName(fd) != name) fd = nullptr;
      }
      if (!fd) {
        if (!discard_) return Error(key_at, "unknown field " + std::string(raw_name));
        SkipValue(depth + 1);
      } else {
        if (std::find(seen_fields.begin(), seen_fields.end(), fd->number()) != seen_fields.end()) {
          return Error(key_at, "duplicate field " + std::string(raw_name));
        }
        seen_fields.push_back(fd->number());
        if (Peek() == 'n' && !IsValueMessage(fd) && !IsNullValueEnum(fd)) {
          pos_ += 4;  // null: the field is left unset
        } else if (fd->is_map()) {
          if (auto st = MapValue(fd, depth + 1); !st.ok()) return st;
        } else if (fd->is_repeated()) {
          if (auto st = ListValue(fd, depth + 1); !st.ok()) return st;
        } else {
          if (const auto* oneof = fd->containing_oneof()) {
            if (std::find(seen_oneofs.begin(), seen_oneofs.end(), oneof) != seen_oneofs.end()) {
              return Error(key_at, "error parsing " + std::string(raw_name) + ", oneof " + oneof->full_name() +
                                       " is already set");
            }
            seen_oneofs.push_back(oneof);
          }
          if (auto st = Element(fd, depth + 1); !st.ok()) return st;
        }
      }
    } while (More());
    return Status::Ok();
  }

  // A value of `fd`'s type: a singular field's (not null), a list element or a map value.
  Status Element(const FieldDescriptor* fd, int depth, bool map_value = false) {
    if (fd->type() != FieldDescriptor::TYPE_MESSAGE) return Scalar(fd, map_value);
    if (Peek() == 'n' && !IsValueMessage(fd)) return SyntaxError(pos_, "unexpected token null");
    return MessageValue(fd->message_type(), depth);
  }

  Status ListValue(const FieldDescriptor* fd, int depth) {
    if (Peek() != '[') return SyntaxError(pos_, "unexpected token " + std::string(RawToken()));
    if (EnterEmpty(']')) return Status::Ok();
    do {
      SkipWs();
      if (auto st = Element(fd, depth); !st.ok()) return st;
    } while (More());
    return Status::Ok();
  }

  Status MapValue(const FieldDescriptor* fd, int depth) {
    if (Peek() != '{') return SyntaxError(pos_, "unexpected token " + std::string(RawToken()));
    const FieldDescriptor* value_fd = fd->message_type()->map_value();
    if (EnterEmpty('}')) return Status::Ok();
    // protojson stores no entry for a value it leaves unset, so such a key may come again.
    std::vector<std::string> seen_keys;
    struct Entry {
      size_t start, value_end, separator;  // separator: the ',' after it, or the closing '}'
      bool dropped;
    };
    std::vector<Entry> entries;
    do {
      SkipWs();
      const size_t key_at = pos_;
      std::string key = String();
      std::string_view raw_key = s_.substr(key_at, pos_ - key_at);
      if (std::find(seen_keys.begin(), seen_keys.end(), key) != seen_keys.end()) {
        return Error(key_at, "duplicate map key " + std::string(raw_key));
      }
      SkipWs();
      ++pos_;  // ':'
      SkipWs();
      drop_map_value_ = false;
      if (auto st = Element(value_fd, depth, /*map_value=*/true); !st.ok()) return st;
      const size_t value_end = pos_;
      if (!drop_map_value_) seen_keys.push_back(std::move(key));
      SkipWs();
      entries.push_back({key_at, value_end, pos_, drop_map_value_});
    } while (More());
    DropEntries(entries);
    return Status::Ok();
  }

  // Removes the dropped entries of one object so that what is left is still a JSON object:
  // an entry with a kept one after it goes with the separator and blanks up to that one; a run
  // of dropped entries at the end goes with the separator after the last kept entry.
  template <class Entries>
  void DropEntries(const Entries& entries) {
    size_t last_kept = entries.size();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i].dropped) last_kept = i;
    }
    if (last_kept == entries.size()) {
      if (!entries.empty()) unset_.push_back({entries.front().start, entries.back().value_end, true});
      return;
    }
    for (size_t i = 0; i < last_kept; ++i) {
      if (entries[i].dropped) unset_.push_back({entries[i].start, entries[i + 1].start, true});
    }
    if (last_kept + 1 < entries.size()) {
      unset_.push_back({entries[last_kept].separator, entries.back().value_end, true});
    }
  }

  // protojson's refusal of the value `raw` at `at` for `fd`.
  Status InvalidValue(size_t at, const FieldDescriptor* fd, std::string_view raw) const {
    return Error(at, std::string("invalid value for ") + KindName(fd) + " field " + fd->json_name() + ": " +
                         std::string(raw));
  }

  // A scalar value at pos_ for `fd`: only the checks protobuf's parser does not make.
  Status Scalar(const FieldDescriptor* fd, bool map_value = false) {
    const size_t at = pos_;
    const char c = Peek();
    auto invalid = [&] { return InvalidValue(at, fd, RawToken()); };
    switch (fd->type()) {
      case FieldDescriptor::TYPE_BOOL:
        if (c != 't' && c != 'f') return invalid();
        break;
      case FieldDescriptor::TYPE_STRING:
        if (c != '"') return invalid();
        break;
      case FieldDescriptor::TYPE_ENUM:
        if (c == 'n') {
          if (!IsNullValueEnum(fd)) return invalid();
        } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
          // A number: an int32 as protojson reads one ("1e0" and "1.0" are 1).
          return Integer(fd, /*bits=*/32, /*is_signed=*/true, /*strings=*/false);
        } else if (c == '"') {
          // A name of no value is an error unless unknown values are discarded: then protojson
          // leaves the field unset, the element or the map entry out.
          size_t save = pos_;
          std::string name = String();
          const size_t end = pos_;
          pos_ = save;
          if (!fd->enum_type()->FindValueByName(name)) {
            if (!discard_) return invalid();
            if (map_value) {
              drop_map_value_ = true;
            } else {
              unset_.push_back({at, end, false});
            }
          }
        } else if (c == '{' || c == '[' || c == 't' || c == 'f') {
          return invalid();
        }
        break;
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SINT32:
      case FieldDescriptor::TYPE_SFIXED32:
        return Integer(fd, 32, true, true);
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SINT64:
      case FieldDescriptor::TYPE_SFIXED64:
        return Integer(fd, 64, true, true);
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        return Integer(fd, 32, false, true);
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        return Integer(fd, 64, false, true);
      case FieldDescriptor::TYPE_FLOAT:
      case FieldDescriptor::TYPE_DOUBLE:
        return Float(fd);
      case FieldDescriptor::TYPE_BYTES: {
        // Read as protojson reads it, and written for protobuf's parser in standard padded
        // base64, which it reads alike (it would refuse line breaks, and take some forms Go
        // refuses).
        if (c != '"') return invalid();
        const std::string raw(RawToken());
        std::string decoded;
        if (!DecodeProtojsonBytes(String(), decoded)) return InvalidValue(at, fd, raw);
        std::string text = "\"";
        AppendBase64(text, decoded);
        Canonical(at, text + "\"");
        return Status::Ok();
      }
      default:
        if (c == 'n' || c == '{' || c == '[' || c == 't' || c == 'f') return invalid();
        break;
    }
    SkipValue(0);
    return Status::Ok();
  }

  // A google.protobuf.Duration: protojson's parseDuration ("1s", "1.5s", ".5s", "1.s", "+1s",
  // "-.1s"; at most nine fraction digits; no leading zero), within ten thousand years, written
  // for protobuf's parser as seconds and nine fraction digits.
  Status DurationValue() {
    const size_t at = pos_;
    if (Peek() != '"') return SyntaxError(at, "unexpected token " + std::string(RawToken()));
    const std::string raw(RawToken());
    const std::string text = String();
    auto invalid = [&] { return Error(at, "invalid google.protobuf.Duration value " + raw); };
    std::string_view b = text;
    if (b.size() < 2 || b.back() != 's') return invalid();
    b.remove_suffix(1);
    bool neg = false;
    if (b.front() == '-' || b.front() == '+') {
      neg = b.front() == '-';
      b.remove_prefix(1);
    }
    if (b.empty()) return invalid();
    std::string_view intp;
    if (b.front() == '0') {
      b.remove_prefix(1);
    } else if (b.front() >= '1' && b.front() <= '9') {
      size_t n = 0;
      while (n < b.size() && std::isdigit(static_cast<unsigned char>(b[n]))) ++n;
      intp = b.substr(0, n);
      b.remove_prefix(n);
    } else if (b.front() != '.') {
      return invalid();
    }
    std::string frac;
    if (!b.empty()) {
      if (b.front() != '.') return invalid();
      b.remove_prefix(1);
      while (!b.empty() && frac.size() < 9 && std::isdigit(static_cast<unsigned char>(b.front()))) {
        frac += b.front();
        b.remove_prefix(1);
      }
      if (!b.empty()) return invalid();
    }
    frac.resize(9, '0');
    int64_t secs = 0;
    if (!intp.empty()) {
      auto [end, ec] = std::from_chars(intp.data(), intp.data() + intp.size(), secs);
      if (ec != std::errc() || end != intp.data() + intp.size()) return invalid();
    }
    if (secs > kMaxDurationSeconds) return Error(at, "google.protobuf.Duration value out of range: " + raw);
    const std::string canonical = "\"" + std::string(neg && (secs > 0 || frac != "000000000") ? "-" : "") +
                                  std::to_string(secs) + "." + frac + "s\"";
    Canonical(at, canonical);
    return Status::Ok();
  }

  // A google.protobuf.Timestamp: a string time.Parse reads as RFC 3339 (ParseRfc3339), within
  // years 1 to 9999, with at most nine digits after a '.' (protojson checks that apart from
  // time.Parse, which takes any number of them); written for protobuf's parser in its own form.
  Status TimestampValue() {
    const size_t at = pos_;
    if (Peek() != '"') return SyntaxError(at, "unexpected token " + std::string(RawToken()));
    const std::string raw(RawToken());
    const std::string text = String();
    int64_t secs = 0;
    int32_t nanos = 0;
    std::string unused;
    if (!ParseRfc3339(text, &secs, &nanos, &unused)) return Error(at, "invalid google.protobuf.Timestamp value " + raw);
    if (secs < kMinTimestampSeconds || secs > kMaxTimestampSeconds) {
      return Error(at, "google.protobuf.Timestamp value out of range: " + raw);
    }
    // At most nine digits after a '.', counted up to the zone.
    const size_t dot = text.rfind('.');
    const size_t zone = text.find_last_of("Z-+");
    if (dot != std::string::npos && zone != std::string::npos && zone >= dot && zone - dot > 10) {
      return Error(at, "invalid google.protobuf.Timestamp value " + raw);
    }
    // Written for protobuf's parser in the form it reads alike.
    Canonical(at, "\"" + TimestampText(secs, nanos) + "\"");
    return Status::Ok();
  }

  // The number an integer or float field's value at pos_ holds as protojson reads it: a JSON
  // number, or a string holding one (no space around it; what follows a delimiter after it is
  // ignored, as protojson's decoder reads only the first token). Empty when there is none; pos_
  // moves past the value either way. `quoted` tells which it was.
  std::string NumberOf(bool& quoted) {
    quoted = Peek() == '"';
    if (!quoted) {
      const size_t n = GoNumberLength(s_.substr(pos_));
      std::string out(s_.substr(pos_, n));
      SkipValue(0);
      return out;
    }
    const std::string text = String();
    if (HasGoSpaceAtEnds(text)) return std::string();
    return text.substr(0, GoNumberLength(text));
  }

  // Rewrites the value [at, pos_) as `text` when protobuf's parser would not read it so.
  void Canonical(size_t at, const std::string& text) {
    if (s_.substr(at, pos_ - at) != text) unset_.push_back({at, pos_, false, text});
  }

  // An integer field's value: protojson's forms ("1e3", "1.0", "-0", and strings of them),
  // range-checked for its size, and written for protobuf's parser as its plain digits.
  Status Integer(const FieldDescriptor* fd, int bits, bool is_signed, bool strings) {
    const size_t at = pos_;
    const char c = Peek();
    const std::string raw(RawToken());
    auto invalid = [&] { return InvalidValue(at, fd, raw); };
    if (!(c == '-' || std::isdigit(static_cast<unsigned char>(c)) || (strings && c == '"'))) return invalid();
    bool quoted = false;
    const std::string number = NumberOf(quoted);
    if (number.empty()) return invalid();
    const auto text = GoIntegerText(number);
    if (!text) return invalid();
    const char* first = text->data();
    const char* last = text->data() + text->size();
    bool fits = false;
    if (is_signed) {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(first, last, v);
      fits = ec == std::errc() && end == last &&
             (bits == 64 || (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()));
    } else {
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(first, last, v);
      fits = ec == std::errc() && end == last && (bits == 64 || v <= std::numeric_limits<uint32_t>::max());
    }
    if (!fits) return invalid();
    // Quoted, as protobuf reads any integer (an int64 past 2^53 too); enums take bare numbers.
    Canonical(at, strings ? "\"" + *text + "\"" : *text);
    return Status::Ok();
  }

  // A float or double field's value: a JSON number within range, "NaN", "Infinity",
  // "-Infinity", or a string holding a JSON number (protobuf's parser would also take hex, a
  // leading '+' or space around it).
  Status Float(const FieldDescriptor* fd) {
    const size_t at = pos_;
    const char c = Peek();
    const std::string raw(RawToken());
    auto invalid = [&] { return InvalidValue(at, fd, raw); };
    if (!(c == '-' || std::isdigit(static_cast<unsigned char>(c)) || c == '"')) return invalid();
    if (c == '"') {
      const size_t save = pos_;
      const std::string text = String();
      if (text == "NaN" || text == "Infinity" || text == "-Infinity") return Status::Ok();
      pos_ = save;
    }
    bool quoted = false;
    const std::string number = NumberOf(quoted);
    if (number.empty()) return invalid();
    // strconv.ParseFloat refuses a number past the type's range (one too small reads as 0).
    const bool overflow = fd->type() == FieldDescriptor::TYPE_FLOAT
                              ? std::isinf(std::strtof(number.c_str(), nullptr))
                              : std::isinf(std::strtod(number.c_str(), nullptr));
    if (overflow) return invalid();
    Canonical(at, quoted ? "\"" + number + "\"" : number);
    return Status::Ok();
  }

  std::string_view s_;
  bool discard_;
  size_t pos_ = 0;
  // Spans to rewrite: enum strings read as null, map entries removed.
  struct Rewrite {
    size_t start, end;
    bool drop;
    std::string text;  // written in place of the span when set (a number in protobuf's form)
  };
  std::vector<Rewrite> unset_;
  bool drop_map_value_ = false;  // set by Scalar for a map value protojson leaves unset
  std::optional<Status> string_error_;  // the first string protojson refuses (SurrogateError)
};

Status ParseJsonValue(std::string_view json, Message& message, bool discard_unknown) {
  // protojson refuses invalid UTF-8 anywhere in the input (strings are the only place it can
  // be), at the string that holds it. protobuf's own parser would put the raw bytes in its
  // message, which could then not be sent back as JSON.
  if (size_t bad = FirstInvalidUtf8(json); bad != std::string_view::npos) {
    size_t quote = json.rfind('"', bad);
    size_t at = quote == std::string_view::npos ? bad : quote;
    size_t line_start = json.rfind('\n', at);
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    size_t line = 1 + static_cast<size_t>(std::count(json.begin(), json.begin() + at, '\n'));
    // Go counts the column in runes; everything before `at` is valid UTF-8, so the runes are
    // the bytes that are not continuation bytes.
    size_t column = 1;
    for (size_t i = line_start; i < at; ++i) {
      if ((static_cast<unsigned char>(json[i]) & 0xC0) != 0x80) ++column;
    }
    return plugin::InvalidArgument("proto: syntax error (line " + std::to_string(line) + ":" +
                                   std::to_string(column) + "): invalid UTF-8 in string");
  }
  std::string rewritten;
  if (auto st = ProtojsonChecker(json, discard_unknown).Check(message.GetDescriptor(), &rewritten); !st.ok()) {
    return st;
  }
  if (!rewritten.empty()) json = rewritten;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = discard_unknown;
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (!st.ok()) return plugin::InvalidArgument(std::string(st.message()));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Text values of query parameters and path variables (grpc-gateway runtime/query.go parseField).

std::string SyntaxError(std::string_view fn, std::string_view v) {
  return "strconv." + std::string(fn) + ": parsing " + Quote(v) + ": invalid syntax";
}
std::string RangeError(std::string_view fn, std::string_view v) {
  return "strconv." + std::string(fn) + ": parsing " + Quote(v) + ": value out of range";
}

// strconv.ParseInt(v, 10, bits).
bool ParseSigned(std::string_view v, int bits, int64_t* out, std::string* err) {
  std::string_view digits = v;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    *err = SyntaxError("ParseInt", v);
    return false;
  }
  uint64_t mag = 0;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), mag);
  const uint64_t limit = uint64_t(1) << (bits - 1);
  if (r.ec == std::errc::result_out_of_range || (!neg && mag >= limit) || (neg && mag > limit)) {
    *err = RangeError("ParseInt", v);
    return false;
  }
  *out = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
  return true;
}

// strconv.ParseUint(v, 10, bits).
bool ParseUnsigned(std::string_view v, int bits, uint64_t* out, std::string* err) {
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    *err = SyntaxError("ParseUint", v);
    return false;
  }
  uint64_t x = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), x);
  if (r.ec == std::errc::result_out_of_range || (bits == 32 && x > 0xFFFFFFFFull)) {
    *err = RangeError("ParseUint", v);
    return false;
  }
  *out = x;
  return true;
}

// strconv.ParseFloat: decimal or hex mantissa, "inf"/"infinity"/"nan" in any case, a sign.
template <typename F>
bool ParseFloating(std::string_view v, F* out, std::string* err) {
  std::string_view body = v;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  bool ok = !body.empty() && body[0] != ' ' && body[0] != '+' && body[0] != '-';
  F x = 0;
  if (ok) {
    std::string lower(body);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
    if (lower == "inf" || lower == "infinity") {
      x = std::numeric_limits<F>::infinity();
    } else if (lower == "nan") {
      x = std::numeric_limits<F>::quiet_NaN();
    } else if (lower.size() > 2 && lower[0] == '0' && lower[1] == 'x') {
      auto r =
          std::from_chars(body.data() + 2, body.data() + body.size(), x, std::chars_format::hex);
      ok = r.ec != std::errc::invalid_argument && r.ptr == body.data() + body.size() &&
           lower.find('p') != std::string::npos;
      if (ok && r.ec == std::errc::result_out_of_range) {
        *err = RangeError("ParseFloat", v);
        return false;
      }
    } else if (lower.find_first_not_of("0123456789.e+-") == std::string::npos) {
      auto r =
          std::from_chars(body.data(), body.data() + body.size(), x, std::chars_format::general);
      ok = r.ec != std::errc::invalid_argument && r.ptr == body.data() + body.size();
      if (ok && r.ec == std::errc::result_out_of_range) {
        // Underflow rounds to zero in Go; only overflow is an error.
        bool overflow = false;
        for (char c : lower) {
          if (c == 'e') {
            overflow = lower.find("e-") == std::string::npos;
            break;
          }
        }
        if (overflow || lower.find('e') == std::string::npos) {
          *err = RangeError("ParseFloat", v);
          return false;
        }
        x = 0;
      }
    } else {
      ok = false;
    }
  }
  if (!ok) {
    *err = SyntaxError("ParseFloat", v);
    return false;
  }
  *out = neg ? -x : x;
  return true;
}

// strconv.ParseBool.
bool ParseBool(std::string_view v, bool* out, std::string* err) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") {
    *out = true;
    return true;
  }
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False") {
    *out = false;
    return true;
  }
  *err = SyntaxError("ParseBool", v);
  return false;
}

// runtime.Bytes: standard base64, then URL-safe base64.
bool ParseBytes(std::string_view v, std::string* out, std::string* err) {
  if (DecodeBase64(v, kB64Std, *out) || DecodeBase64(v, kB64Url, *out)) return true;
  *err = "illegal base64 data in " + Quote(v);
  return false;
}

// time.ParseDuration, in nanoseconds.
bool ParseGoDuration(std::string_view v, int64_t* nanos, std::string* err) {
  const std::string bad = "time: invalid duration " + Quote(v);
  std::string_view s = v;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    *nanos = 0;
    return true;
  }
  if (s.empty()) {
    *err = bad;
    return false;
  }
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double value = 0;
    bool any = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + (s[i] - '0');
      ++i;
      any = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        value += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        any = true;
      }
    }
    if (!any) {
      *err = bad;
      return false;
    }
    size_t u = i;
    while (u < s.size() && !(s[u] == '.' || (s[u] >= '0' && s[u] <= '9'))) ++u;
    std::string_view unit = s.substr(i, u - i);
    long double mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      mult = 1e3L;
    } else if (unit == "ms") {
      mult = 1e6L;
    } else if (unit == "s") {
      mult = 1e9L;
    } else if (unit == "m") {
      mult = 60e9L;
    } else if (unit == "h") {
      mult = 3600e9L;
    } else {
      *err = unit.empty() ? "time: missing unit in duration " + Quote(v)
                          : "time: unknown unit " + Quote(unit) + " in duration " + Quote(v);
      return false;
    }
    total += value * mult;
    if (total > 9223372036854775807.0L) {
      *err = bad;
      return false;
    }
    s.remove_prefix(u);
  }
  *nanos = static_cast<int64_t>(neg ? -total : total);
  return true;
}

// The time package's quote: '"' and '\\' escaped, every byte of a rune outside printable ASCII
// as \xNN.
std::string TimeQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x80) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", b);
      out += buf;
    } else {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

// time.Parse(time.RFC3339Nano, v), which falls back to Go's layout parser for what its RFC 3339
// fast path refuses: that parser also takes a one-digit hour, ',' before the fraction, any number
// of fraction digits (nine are read) and zone offsets of up to 24 hours and 60 minutes. `*err` is
// its ParseError text.
bool ParseRfc3339(std::string_view v, int64_t* secs, int32_t* nanos, std::string* err) {
  std::string_view value = v;
  auto cannot = [&](std::string_view rest, std::string_view element) {
    *err = "parsing time " + TimeQuote(v) + " as \"2006-01-02T15:04:05.999999999Z07:00\": cannot parse " +
           TimeQuote(rest) + " as " + TimeQuote(element);
    return false;
  };
  auto out_of_range = [&](std::string_view what) {
    *err = "parsing time " + TimeQuote(v) + ": " + std::string(what) + " out of range";
    return false;
  };
  auto digit = [](std::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  // getnum: one or two digits; two when `fixed`.
  auto number = [&](std::string_view& s, bool fixed, int* out) {
    if (!digit(s, 0)) return false;
    if (!digit(s, 1)) {
      if (fixed) return false;
      *out = s[0] - '0';
      s.remove_prefix(1);
      return true;
    }
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    s.remove_prefix(2);
    return true;
  };
  auto literal = [&](char c) {
    if (value.empty() || value[0] != c) return false;
    value.remove_prefix(1);
    return true;
  };
  int year = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (!digit(value, i)) return cannot(value, "2006");
    year = year * 10 + (value[i] - '0');
  }
  value.remove_prefix(4);
  if (!literal('-')) return cannot(value, "-");
  std::string_view hold = value;
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(value, true, &month)) return cannot(hold, "01");
  if (month < 1 || month > 12) return out_of_range("month");
  if (!literal('-')) return cannot(value, "-");
  hold = value;
  if (!number(value, true, &day)) return cannot(hold, "02");
  if (!literal('T')) return cannot(value, "T");
  hold = value;
  if (!number(value, false, &hour)) return cannot(hold, "15");
  if (hour >= 24) return out_of_range("hour");
  if (!literal(':')) return cannot(value, ":");
  hold = value;
  if (!number(value, true, &minute)) return cannot(hold, "04");
  if (minute >= 60) return out_of_range("minute");
  if (!literal(':')) return cannot(value, ":");
  hold = value;
  if (!number(value, true, &second)) return cannot(hold, "05");
  if (second >= 60) return out_of_range("second");
  int32_t frac = 0;
  if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && digit(value, 1)) {
    size_t n = 1;
    int32_t scale = 100000000;
    while (digit(value, n)) {
      if (n <= 9) frac += (value[n] - '0') * scale;
      scale /= 10;
      ++n;
    }
    value.remove_prefix(n);
  }
  int offset = 0;
  hold = value;
  if (!value.empty() && value[0] == 'Z') {
    value.remove_prefix(1);
  } else {
    if (value.size() < 6 || value[3] != ':') return cannot(hold, "Z07:00");
    std::string_view hh = value.substr(1, 2), mm = value.substr(4, 2);
    int oh = 0, om = 0;
    const bool digits = number(hh, true, &oh) && number(mm, true, &om);
    // Go sets the minute's range error after the hour's, so the minute's is the one reported.
    if (om > 60) return out_of_range("time zone offset minute");
    if (oh > 24) return out_of_range("time zone offset hour");
    if (!digits || (value[0] != '+' && value[0] != '-')) return cannot(hold, "Z07:00");
    offset = (oh * 60 + om) * 60 * (value[0] == '-' ? -1 : 1);
    value.remove_prefix(6);
  }
  if (!value.empty()) {
    *err = "parsing time " + TimeQuote(v) + ": extra text: " + TimeQuote(value);
    return false;
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day < 1 || day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return out_of_range("day");
  *secs = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hour * 3600 +
          minute * 60 + second - offset;
  *nanos = frac;
  return true;
}

// Sets the well-known message `out` from text, as grpc-gateway's parseMessage.
Status ParseWellKnown(std::string_view v, Message& out) {
  const Descriptor* d = out.GetDescriptor();
  const Reflection* r = out.GetReflection();
  std::string err;
  auto f1 = d->FindFieldByNumber(1);
  switch (d->well_known_type()) {
    case Descriptor::WELLKNOWNTYPE_TIMESTAMP: {
      int64_t secs = 0;
      int32_t nanos = 0;
      if (!ParseRfc3339(v, &secs, &nanos, &err)) return plugin::InvalidArgument(err);
      if (secs < kMinTimestampSeconds) {
        return plugin::InvalidArgument(std::string(v) + " before 0001-01-01");
      }
      r->SetInt64(&out, f1, secs);
      r->SetInt32(&out, d->FindFieldByNumber(2), nanos);
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_DURATION: {
      int64_t ns = 0;
      if (!ParseGoDuration(v, &ns, &err)) return plugin::InvalidArgument(err);
      r->SetInt64(&out, f1, ns / 1000000000);
      r->SetInt32(&out, d->FindFieldByNumber(2), static_cast<int32_t>(ns % 1000000000));
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_DOUBLEVALUE: {
      double x;
      if (!ParseFloating(v, &x, &err)) return plugin::InvalidArgument(err);
      r->SetDouble(&out, f1, x);
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_FLOATVALUE: {
      float x;
      if (!ParseFloating(v, &x, &err)) return plugin::InvalidArgument(err);
      r->SetFloat(&out, f1, x);
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_INT64VALUE:
    case Descriptor::WELLKNOWNTYPE_INT32VALUE: {
      int64_t x;
      bool is64 = d->well_known_type() == Descriptor::WELLKNOWNTYPE_INT64VALUE;
      if (!ParseSigned(v, is64 ? 64 : 32, &x, &err)) return plugin::InvalidArgument(err);
      if (is64) {
        r->SetInt64(&out, f1, x);
      } else {
        r->SetInt32(&out, f1, static_cast<int32_t>(x));
      }
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_UINT64VALUE:
    case Descriptor::WELLKNOWNTYPE_UINT32VALUE: {
      uint64_t x;
      bool is64 = d->well_known_type() == Descriptor::WELLKNOWNTYPE_UINT64VALUE;
      if (!ParseUnsigned(v, is64 ? 64 : 32, &x, &err)) return plugin::InvalidArgument(err);
      if (is64) {
        r->SetUInt64(&out, f1, x);
      } else {
        r->SetUInt32(&out, f1, static_cast<uint32_t>(x));
      }
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_BOOLVALUE: {
      bool x;
      if (!ParseBool(v, &x, &err)) return plugin::InvalidArgument(err);
      r->SetBool(&out, f1, x);
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_STRINGVALUE:
      r->SetString(&out, f1, std::string(v));
      return Status::Ok();
    case Descriptor::WELLKNOWNTYPE_BYTESVALUE: {
      std::string b;
      if (!ParseBytes(v, &b, &err)) return plugin::InvalidArgument(err);
      r->SetString(&out, f1, std::move(b));
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_FIELDMASK: {
      for (size_t start = 0;;) {
        size_t comma = v.find(',', start);
        r->AddString(&out, f1,
                     std::string(v.substr(start, comma == v.npos ? comma : comma - start)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      return Status::Ok();
    }
    case Descriptor::WELLKNOWNTYPE_VALUE:
    case Descriptor::WELLKNOWNTYPE_STRUCT:
      return ParseJsonValue(v, out, /*discard_unknown=*/false);
    default:
      return plugin::InvalidArgument("unsupported message type: " + Quote(d->full_name()));
  }
}

// Parses one text value for `fd` and stores it: appended when repeated (or a map entry's
// field), else set.
Status ParseAndStore(Message& msg, const FieldDescriptor* fd, std::string_view v, bool add) {
  const Reflection* r = msg.GetReflection();
  std::string err;
  switch (fd->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool x;
      if (!ParseBool(v, &x, &err)) return plugin::InvalidArgument(err);
      add ? r->AddBool(&msg, fd, x) : r->SetBool(&msg, fd, x);
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* ev = fd->enum_type()->FindValueByName(std::string(v));
      if (ev == nullptr) {
        int64_t n;
        std::string ignored;
        if (!ParseSigned(v, 64, &n, &ignored) || n < INT32_MIN || n > INT32_MAX ||
            (ev = fd->enum_type()->FindValueByNumber(static_cast<int>(n))) == nullptr) {
          return plugin::InvalidArgument(Quote(v) + " is not a valid value");
        }
      }
      add ? r->AddEnumValue(&msg, fd, ev->number()) : r->SetEnumValue(&msg, fd, ev->number());
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int64_t x;
      if (!ParseSigned(v, 32, &x, &err)) return plugin::InvalidArgument(err);
      add ? r->AddInt32(&msg, fd, static_cast<int32_t>(x))
          : r->SetInt32(&msg, fd, static_cast<int32_t>(x));
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t x;
      if (!ParseSigned(v, 64, &x, &err)) return plugin::InvalidArgument(err);
      add ? r->AddInt64(&msg, fd, x) : r->SetInt64(&msg, fd, x);
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint64_t x;
      if (!ParseUnsigned(v, 32, &x, &err)) return plugin::InvalidArgument(err);
      add ? r->AddUInt32(&msg, fd, static_cast<uint32_t>(x))
          : r->SetUInt32(&msg, fd, static_cast<uint32_t>(x));
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t x;
      if (!ParseUnsigned(v, 64, &x, &err)) return plugin::InvalidArgument(err);
      add ? r->AddUInt64(&msg, fd, x) : r->SetUInt64(&msg, fd, x);
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      float x;
      if (!ParseFloating(v, &x, &err)) return plugin::InvalidArgument(err);
      add ? r->AddFloat(&msg, fd, x) : r->SetFloat(&msg, fd, x);
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double x;
      if (!ParseFloating(v, &x, &err)) return plugin::InvalidArgument(err);
      add ? r->AddDouble(&msg, fd, x) : r->SetDouble(&msg, fd, x);
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s;
      if (fd->type() == FieldDescriptor::TYPE_BYTES) {
        if (!ParseBytes(v, &s, &err)) return plugin::InvalidArgument(err);
      } else {
        s.assign(v);
      }
      add ? r->AddString(&msg, fd, std::move(s)) : r->SetString(&msg, fd, std::move(s));
      return Status::Ok();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (fd->message_type()->well_known_type() == Descriptor::WELLKNOWNTYPE_UNSPECIFIED ||
          fd->message_type()->well_known_type() == Descriptor::WELLKNOWNTYPE_ANY ||
          fd->message_type()->well_known_type() == Descriptor::WELLKNOWNTYPE_LISTVALUE) {
        return plugin::InvalidArgument("unsupported message type: " +
                                       Quote(fd->message_type()->full_name()));
      }
      std::unique_ptr<Message> tmp(r->GetMessageFactory()->GetPrototype(fd->message_type())->New());
      if (auto st = ParseWellKnown(v, *tmp); !st.ok()) return st;
      if (add) {
        r->AddMessage(&msg, fd)->CopyFrom(*tmp);
      } else {
        r->MutableMessage(&msg, fd)->CopyFrom(*tmp);
      }
      return Status::Ok();
    }
  }
  return plugin::Internal("unknown field kind");
}

const FieldDescriptor* FindFieldByJsonName(const Descriptor* d, std::string_view name) {
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == name) return d->field(i);
  }
  return nullptr;
}

std::string TextName(const FieldDescriptor* fd) {
  return fd->type() == FieldDescriptor::TYPE_GROUP ? fd->message_type()->name() : fd->name();
}

std::vector<std::string> SplitDots(std::string_view s) {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    size_t dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

}  // namespace

namespace internal {

StatusOr<std::string> MessageToJson(const Message& message, bool proto_names) {
  std::string out;
  out.reserve(256);
  Encoder enc(proto_names, out);
  if (auto st = enc.WriteMessage(message); !st.ok()) return st;
  return out;
}

StatusOr<std::string> FieldToJson(const Message& message, const FieldDescriptor* fd,
                                  bool proto_names) {
  std::string out;
  Encoder enc(proto_names, out);
  if (auto st = enc.WriteFieldValue(message, fd); !st.ok()) return st;
  return out;
}

// The request body as grpc-gateway's JSONPb decoder reads it: the first JSON value (whitespace
// only is an empty message), parsed by protojson rules into `message`, which it replaces.
bool HasInvalidUtf8(const Message& message) {
  const Reflection* r = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(message, &fields);
  for (const FieldDescriptor* fd : fields) {
    if (fd->type() == FieldDescriptor::TYPE_STRING) {
      if (fd->is_repeated()) {
        for (int i = 0; i < r->FieldSize(message, fd); ++i) {
          std::string scratch;
          if (!IsValidUtf8(r->GetRepeatedStringReference(message, fd, i, &scratch))) return true;
        }
      } else {
        std::string scratch;
        if (!IsValidUtf8(r->GetStringReference(message, fd, &scratch))) return true;
      }
    } else if (fd->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (fd->is_repeated()) {
        for (int i = 0; i < r->FieldSize(message, fd); ++i) {
          if (HasInvalidUtf8(r->GetRepeatedMessage(message, fd, i))) return true;
        }
      } else if (HasInvalidUtf8(r->GetMessage(message, fd))) {
        return true;
      }
    }
  }
  return false;
}

// Protobuf wire data of a `d` read in order, as Go's proto.Unmarshal reads it, for the first
// problem it would report: a proto3 string field (in any message within) that is not UTF-8, or
// data that does not parse. Nothing is copied. Groups, wire types that do not exist, and nesting
// past protobuf's limit are left to protobuf's parser.
WireCheck CheckWireUtf8(const Descriptor* d, std::string_view wire, int depth) {
  if (depth > 100) return WireCheck::kUndecided;
  auto varint = [&wire](uint64_t* out) {
    uint64_t v = 0;
    for (int i = 0; i < 10 && !wire.empty(); ++i) {
      const auto b = static_cast<unsigned char>(wire.front());
      wire.remove_prefix(1);
      if (i == 9 && b > 1) return false;
      v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
      if (b < 0x80) {
        *out = v;
        return true;
      }
    }
    return false;
  };
  while (!wire.empty()) {
    uint64_t tag = 0;
    if (!varint(&tag)) return WireCheck::kMalformed;
    const uint64_t number = tag >> 3;
    if (number < 1 || number > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
      return WireCheck::kMalformed;
    }
    switch (tag & 7) {
      case 0: {
        uint64_t ignored = 0;
        if (!varint(&ignored)) return WireCheck::kMalformed;
        break;
      }
      case 1:
      case 5: {
        const size_t n = (tag & 7) == 1 ? 8 : 4;
        if (wire.size() < n) return WireCheck::kMalformed;
        wire.remove_prefix(n);
        break;
      }
      case 2: {
        uint64_t length = 0;
        if (!varint(&length) || length > wire.size()) return WireCheck::kMalformed;
        const std::string_view payload = wire.substr(0, static_cast<size_t>(length));
        wire.remove_prefix(static_cast<size_t>(length));
        const FieldDescriptor* fd = d->FindFieldByNumber(static_cast<int>(number));
        if (fd == nullptr) break;
        if (fd->type() == FieldDescriptor::TYPE_STRING &&
            fd->file()->syntax() == google::protobuf::FileDescriptor::SYNTAX_PROTO3 && !IsValidUtf8(payload)) {
          return WireCheck::kInvalidUtf8;
        }
        if (fd->type() == FieldDescriptor::TYPE_MESSAGE) {
          if (WireCheck inner = CheckWireUtf8(fd->message_type(), payload, depth + 1); inner != WireCheck::kOk) {
            return inner;
          }
        }
        break;
      }
      default:
        return WireCheck::kUndecided;
    }
  }
  return WireCheck::kOk;
}

Status ParseJsonBody(std::string_view body, Message& message, bool discard_unknown) {
  JsonScanner scanner(body);
  std::string_view value;
  bool eof = false;
  if (auto st = scanner.FirstValue(&value, &eof); !st.ok()) return st;
  if (eof) return Status::Ok();
  return ParseJsonValue(value, message, discard_unknown);
}

// Body bound to one field (`body: "field"`): the first JSON value becomes that field's value.
Status ParseJsonBodyField(std::string_view body, Message& parent, const FieldDescriptor* fd,
                          bool discard_unknown) {
  JsonScanner scanner(body);
  std::string_view value;
  bool eof = false;
  if (auto st = scanner.FirstValue(&value, &eof); !st.ok()) return st;
  if (eof) return Status::Ok();
  const Reflection* r = parent.GetReflection();
  if (fd->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !fd->is_repeated()) {
    return ParseJsonValue(value, *r->MutableMessage(&parent, fd), discard_unknown);
  }
  std::string wrapped = "{\"" + fd->name() + "\":";
  wrapped.append(value);
  wrapped.push_back('}');
  std::unique_ptr<Message> tmp(parent.New());
  if (auto st = ParseJsonValue(wrapped, *tmp, discard_unknown); !st.ok()) return st;
  r->ClearField(&parent, fd);
  r->SwapFields(&parent, tmp.get(), {fd});
  return Status::Ok();
}

// grpc-gateway's normalizeFieldPath: proto names for a path given in proto or JSON names; the
// path unchanged when any part does not resolve.
std::vector<std::string> NormalizeFieldPath(const Descriptor* d, std::string_view dotted) {
  std::vector<std::string> parts = SplitDots(dotted);
  std::vector<std::string> out;
  out.reserve(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* fd = nullptr;
    for (int k = 0; k < d->field_count(); ++k) {
      if (TextName(d->field(k)) == parts[i]) {
        fd = d->field(k);
        break;
      }
    }
    if (fd == nullptr) fd = FindFieldByJsonName(d, parts[i]);
    if (fd == nullptr) return parts;
    out.push_back(fd->name());
    if (i + 1 == parts.size()) break;
    if (fd->message_type() == nullptr || fd->is_repeated()) return parts;
    d = fd->message_type();
  }
  return out;
}

// grpc-gateway's populateFieldValueFromPath: unknown fields are ignored, repeated fields
// append every value, a map takes exactly a key and a value, a singular field takes one value.
Status PopulateField(Message& message, const std::vector<std::string>& path,
                     const std::vector<std::string_view>& values) {
  if (path.empty()) return plugin::InvalidArgument("no field path");
  if (values.empty()) return plugin::InvalidArgument("no value provided");
  Message* msg = &message;
  const FieldDescriptor* fd = nullptr;
  for (size_t i = 0; i < path.size(); ++i) {
    const Descriptor* d = msg->GetDescriptor();
    fd = d->FindFieldByName(path[i]);
    if (fd == nullptr) fd = FindFieldByJsonName(d, path[i]);
    if (fd == nullptr) return Status::Ok();
    if (const auto* oneof = fd->real_containing_oneof()) {
      const FieldDescriptor* set = msg->GetReflection()->GetOneofFieldDescriptor(*msg, oneof);
      if (set != nullptr && (fd->message_type() == nullptr || set != fd)) {
        return plugin::InvalidArgument("field already set for oneof " + Quote(oneof->name()));
      }
    }
    if (i + 1 == path.size()) break;
    if (fd->message_type() == nullptr || fd->is_repeated()) {
      return plugin::InvalidArgument("invalid path: " + Quote(path[i]) + " is not a message");
    }
    msg = msg->GetReflection()->MutableMessage(msg, fd);
  }
  if (fd->is_map()) {
    if (values.size() != 2) {
      return plugin::InvalidArgument("more than one value provided for key " + Quote(values[0]) +
                                     " in map " + Quote(fd->full_name()));
    }
    const Descriptor* entry_d = fd->message_type();
    std::unique_ptr<Message> entry(
        msg->GetReflection()->GetMessageFactory()->GetPrototype(entry_d)->New());
    if (auto st = ParseAndStore(*entry, entry_d->map_key(), values[0], false); !st.ok()) {
      return plugin::InvalidArgument("parsing map key " + Quote(fd->name()) + ": " + st.message());
    }
    if (auto st = ParseAndStore(*entry, entry_d->map_value(), values[1], false); !st.ok()) {
      return plugin::InvalidArgument("parsing map value " + Quote(fd->name()) + ": " +
                                     st.message());
    }
    msg->GetReflection()->AddMessage(msg, fd)->CopyFrom(*entry);
    return Status::Ok();
  }
  if (fd->is_repeated()) {
    for (auto v : values) {
      if (auto st = ParseAndStore(*msg, fd, v, true); !st.ok()) {
        return plugin::InvalidArgument("parsing list " + Quote(fd->name()) + ": " + st.message());
      }
    }
    return Status::Ok();
  }
  if (values.size() > 1) {
    std::string joined;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) joined += ", ";
      joined.append(values[i]);
    }
    return plugin::InvalidArgument("too many values for field " + Quote(fd->name()) + ": " +
                                   joined);
  }
  if (auto st = ParseAndStore(*msg, fd, values[0], false); !st.ok()) {
    return plugin::InvalidArgument("parsing field " + Quote(fd->name()) + ": " + st.message());
  }
  return Status::Ok();
}

void FillRpcStatus(const plugin::Status& status, google::rpc::Status* out) {
  out->set_code(static_cast<int32_t>(status.code()));
  out->set_message(status.message());
  for (const auto& d : status.details()) {
    auto* any = out->add_details();
    any->set_type_url(d.type_url);
    any->set_value(d.value);
  }
}

// The JSON error body, or a failure when a detail cannot be rendered (its type is unknown).
// `proto_names`: as the response codec names fields (the error handler marshals the status with
// the outbound codec, so details are lowerCamel under the default codec).
StatusOr<std::string> RpcStatusToJson(const plugin::Status& status, bool proto_names) {
  google::rpc::Status proto;
  FillRpcStatus(status, &proto);
  return MessageToJson(proto, proto_names);
}

}  // namespace internal

StatusOr<std::string> MessageToGatewayJson(const Message& message) {
  return internal::MessageToJson(message, /*proto_names=*/true);
}

Status MergeGatewayJson(std::string_view json, Message& message) {
  std::unique_ptr<Message> tmp(message.New());
  if (auto st = internal::ParseJsonBody(json, *tmp, /*discard_unknown=*/false); !st.ok()) {
    return st;
  }
  message.MergeFrom(*tmp);
  return Status::Ok();
}

Status SetFieldFromString(Message& message, std::string_view field_path, std::string_view value) {
  return internal::PopulateField(message, SplitDots(field_path), {value});
}

std::string StatusToJson(const plugin::Status& status) {
  auto json = internal::RpcStatusToJson(status, /*proto_names=*/true);
  if (json.ok()) return std::move(json).value();
  // grpc-gateway's fallback body when the status cannot be marshalled.
  return R"({"code": 13, "message": "failed to marshal error message"})";
}

}  // namespace flyte::core::gateway
