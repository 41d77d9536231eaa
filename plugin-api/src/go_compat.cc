// Go-compatible formatting and parsing helpers (see go_compat.h for the contracts).
#include "flyte/plugin/go_compat.h"

#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <system_error>

namespace flyte::plugin {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr char kLowerHex[] = "0123456789abcdef";

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when the bytes are not valid
// UTF-8 (Go then treats the single byte as an error rune).
size_t Utf8Length(std::string_view s, size_t i, uint32_t* rune) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *rune = c;
    return 1;
  }
  size_t n = 0;
  uint32_t r = 0;
  uint32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, r = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, r = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, r = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    r = (r << 6) | (cc & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0;
  *rune = r;
  return n;
}

void AppendHexByte(std::string& out, unsigned char b) {
  out += "\\x";
  out += kLowerHex[b >> 4];
  out += kLowerHex[b & 0xF];
}

// Go's escape of a rune by its code point: \u and four lower-case hex digits, \U and eight past
// the BMP (prototext and strconv.Quote alike).
void AppendRuneEscape(std::string& out, uint32_t rune) {
  const int digits = rune < 0x10000 ? 4 : 8;
  out += digits == 4 ? "\\u" : "\\U";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kLowerHex[(rune >> shift) & 0xF];
}

// prototext's string escaping (internal/encoding/text appendString, UTF-8 output): the C0
// controls, DEL, '"' and '\\' escaped, \n \r \t by name and the others as \x; the C1 controls
// (U+0080 to U+009F) as \u; a byte that is not valid UTF-8 as \x; other runes as they are.
void AppendTextString(std::string& out, std::string_view in) {
  out += '"';
  size_t i = 0;
  while (i < in.size()) {
    uint32_t rune = 0;
    size_t n = Utf8Length(in, i, &rune);
    if (n == 0) {
      AppendHexByte(out, static_cast<unsigned char>(in[i]));
      ++i;
      continue;
    }
    if (rune < 0x20 || rune == '"' || rune == '\\' || rune == 0x7f) {
      switch (rune) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          AppendHexByte(out, static_cast<unsigned char>(rune));
      }
    } else if (rune >= 0x80 && rune <= 0x9f) {
      AppendRuneEscape(out, rune);
    } else {
      out.append(in.substr(i, n));
    }
    i += n;
  }
  out += '"';
}

// Shortest round-trip decimal digits and the decimal point position of |v| (Go's decimalSlice:
// value = 0.d1d2... * 10^dp).
void ShortestDigits(double v, int bits, std::string* digits, int* dp) {
  char buf[64];
  std::to_chars_result res;
  if (bits == 32) {
    res = std::to_chars(buf, buf + sizeof(buf), static_cast<float>(std::fabs(v)),
                        std::chars_format::scientific);
  } else {
    res = std::to_chars(buf, buf + sizeof(buf), std::fabs(v), std::chars_format::scientific);
  }
  std::string_view text(buf, static_cast<size_t>(res.ptr - buf));
  const size_t e = text.find('e');
  std::string mant(text.substr(0, e));
  mant.erase(std::remove(mant.begin(), mant.end(), '.'), mant.end());
  int exp = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+' ? 1 : 0), text.data() + text.size(),
                  exp);
  while (mant.size() > 1 && mant.back() == '0') mant.pop_back();
  if (mant == "0") {
    *digits = "";
    *dp = 0;
    return;
  }
  *digits = mant;
  *dp = exp + 1;
}

// Text-proto float rendering (internal/encoding/text appendFloat).
std::string TextFloat(double v, int bits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return GoFormatFloat(v, bits);
}

std::string EnumText(const google::protobuf::EnumDescriptor* type, int number) {
  const auto* value = type->FindValueByNumber(number);
  if (value != nullptr) return value->name();
  return std::to_string(number);
}

class TextWriter {
 public:
  std::string out;

  void Message(const google::protobuf::Message& m) {
    // Each Any's value is parsed on its own, so protobuf's nesting limit does not bound the
    // depth of Anys within Anys; past kMaxAnyDepth messages deep (twice protobuf's parse
    // limit) an Any is written as its raw fields, so that a crafted message cannot exhaust the
    // stack.
    struct Depth {
      int& d;
      explicit Depth(int& depth) : d(++depth) {}
      ~Depth() { --d; }
    } depth(depth_);
    if (m.GetDescriptor()->full_name() == "google.protobuf.Any" && depth_ <= kMaxAnyDepth && Any(m))
      return;
    const Reflection* refl = m.GetReflection();
    const Descriptor* desc = m.GetDescriptor();
    for (int i = 0; i < desc->field_count(); ++i) {
      const FieldDescriptor* f = desc->field(i);
      if (f->is_map()) {
        MapField(m, f);
      } else if (f->is_repeated()) {
        const int n = refl->FieldSize(m, f);
        for (int k = 0; k < n; ++k) {
          Name(f);
          Value(m, f, k);
        }
      } else if (refl->HasField(m, f)) {
        Name(f);
        Value(m, f, -1);
      }
    }
    Unknown(refl->GetUnknownFields(m));
  }

 private:
  static constexpr int kMaxAnyDepth = 200;
  bool need_space_ = false;
  int depth_ = 0;

  void Sep() {
    if (need_space_) out += ' ';
  }
  void Name(const FieldDescriptor* f) {
    Sep();
    out += f->type() == FieldDescriptor::TYPE_GROUP ? f->message_type()->name() : f->name();
    out += ':';
    need_space_ = false;
  }
  void NameText(const std::string& name) {
    Sep();
    out += name;
    out += ':';
    need_space_ = false;
  }
  void Open() { out += '{'; }
  void Close() {
    out += '}';
    need_space_ = true;
  }
  void Scalar(const std::string& text) {
    out += text;
    need_space_ = true;
  }

  void Value(const google::protobuf::Message& m, const FieldDescriptor* f, int index) {
    const Reflection* r = m.GetReflection();
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        Scalar(std::to_string(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f)));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        Scalar(std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        Scalar(std::to_string(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f)));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        Scalar(std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f)));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        Scalar(TextFloat(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f), 64));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        Scalar(TextFloat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f), 32));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        Scalar((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        Scalar(EnumText(f->enum_type(),
                        rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f)));
        break;
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                   : r->GetStringReference(m, f, &scratch);
        AppendTextString(out, s);
        need_space_ = true;
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Open();
        need_space_ = false;
        Message(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
        Close();
        break;
    }
  }

  void MapField(const google::protobuf::Message& m, const FieldDescriptor* f) {
    const Reflection* r = m.GetReflection();
    const int n = r->FieldSize(m, f);
    std::vector<const google::protobuf::Message*> entries;
    entries.reserve(static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) entries.push_back(&r->GetRepeatedMessage(m, f, k));
    const FieldDescriptor* key = f->message_type()->map_key();
    std::sort(entries.begin(), entries.end(), [key](const auto* a, const auto* b) {
      const Reflection* ra = a->GetReflection();
      switch (key->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          return ra->GetString(*a, key) < ra->GetString(*b, key);
        case FieldDescriptor::CPPTYPE_BOOL:
          return ra->GetBool(*a, key) < ra->GetBool(*b, key);
        case FieldDescriptor::CPPTYPE_INT32:
          return ra->GetInt32(*a, key) < ra->GetInt32(*b, key);
        case FieldDescriptor::CPPTYPE_INT64:
          return ra->GetInt64(*a, key) < ra->GetInt64(*b, key);
        case FieldDescriptor::CPPTYPE_UINT32:
          return ra->GetUInt32(*a, key) < ra->GetUInt32(*b, key);
        case FieldDescriptor::CPPTYPE_UINT64:
          return ra->GetUInt64(*a, key) < ra->GetUInt64(*b, key);
        default:
          return false;
      }
    });
    for (const auto* entry : entries) {
      Name(f);
      Open();
      need_space_ = false;
      // Go writes both key and value of a map entry, even when they are zero.
      const Descriptor* ed = entry->GetDescriptor();
      for (int i = 0; i < ed->field_count(); ++i) {
        const FieldDescriptor* ef = ed->field(i);
        Name(ef);
        Value(*entry, ef, -1);
      }
      Close();
    }
  }

  bool Any(const google::protobuf::Message& m) {
    const Descriptor* desc = m.GetDescriptor();
    const Reflection* r = m.GetReflection();
    const FieldDescriptor* url_f = desc->FindFieldByNumber(1);
    const FieldDescriptor* value_f = desc->FindFieldByNumber(2);
    if (url_f == nullptr || value_f == nullptr) return false;
    const std::string url = r->GetString(m, url_f);
    const auto slash = url.rfind('/');
    const std::string type_name = slash == std::string::npos ? url : url.substr(slash + 1);
    const Descriptor* target =
        google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
    if (target == nullptr) return false;
    const google::protobuf::Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(target);
    if (prototype == nullptr) return false;
    std::unique_ptr<google::protobuf::Message> inner(prototype->New());
    if (!inner->ParsePartialFromString(r->GetString(m, value_f))) return false;
    NameText("[" + url + "]");
    Open();
    need_space_ = false;
    Message(*inner);
    Close();
    return true;
  }

  void Unknown(const google::protobuf::UnknownFieldSet& set) {
    for (int i = 0; i < set.field_count(); ++i) {
      const auto& f = set.field(i);
      NameText(std::to_string(f.number()));
      char buf[32];
      switch (f.type()) {
        case google::protobuf::UnknownField::TYPE_VARINT:
          Scalar(std::to_string(f.varint()));
          break;
        case google::protobuf::UnknownField::TYPE_FIXED32:
          std::snprintf(buf, sizeof(buf), "0x%x", f.fixed32());
          Scalar(buf);
          break;
        case google::protobuf::UnknownField::TYPE_FIXED64:
          std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(f.fixed64()));
          Scalar(buf);
          break;
        case google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED:
          AppendTextString(out, f.length_delimited());
          need_space_ = true;
          break;
        case google::protobuf::UnknownField::TYPE_GROUP:
          Open();
          need_space_ = false;
          Unknown(f.group());
          Close();
          break;
      }
    }
  }
};

bool IsGoSpace(uint32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// time package's quote(): non-ASCII and control bytes as \xNN.
std::string TimeQuote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || c < 0x20) {
      AppendHexByte(out, c);
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += ch;
    }
  }
  out += '"';
  return out;
}

}  // namespace

std::string GoProtoText(const google::protobuf::Message& message) {
  TextWriter w;
  w.Message(message);
  return w.out;
}

std::string GoProtoTextOrNil(const google::protobuf::Message* message) {
  return message == nullptr ? "<nil>" : GoProtoText(*message);
}

std::string GoFormatFloat(double v, int bits) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::string digits;
  int dp = 0;
  ShortestDigits(v, bits, &digits, &dp);
  std::string out;
  if (std::signbit(v)) out += '-';
  if (digits.empty()) {
    out += '0';
    return out;
  }
  const int nd = static_cast<int>(digits.size());
  const int exp = dp - 1;
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    if (nd > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    out += 'e';
    out += exp < 0 ? '-' : '+';
    const int ae = exp < 0 ? -exp : exp;
    if (ae < 10) out += '0';
    out += std::to_string(ae);
    return out;
  }
  // %f with max(nd - dp, 0) decimals.
  if (dp > 0) {
    for (int i = 0; i < dp; ++i) out += i < nd ? digits[static_cast<size_t>(i)] : '0';
  } else {
    out += '0';
  }
  const int prec = std::max(nd - dp, 0);
  if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      const int j = dp + i;
      out += (j >= 0 && j < nd) ? digits[static_cast<size_t>(j)] : '0';
    }
  }
  return out;
}

std::string GoStringSlice(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ' ';
    out += items[i];
  }
  out += ']';
  return out;
}

namespace {

// unicode.IsPrint past ASCII: letters, marks, numbers, punctuation and symbols (every space but
// U+0020, the controls, formats and unassigned code points are not). Debian 12's ICU and the Go
// releases upstream builds with both follow Unicode 15.0.
bool GoIsPrint(uint32_t rune) {
  constexpr uint32_t kPrintable = U_GC_L_MASK | U_GC_M_MASK | U_GC_N_MASK | U_GC_P_MASK | U_GC_S_MASK;
  return (U_GET_GC_MASK(static_cast<UChar32>(rune)) & kPrintable) != 0;
}

}  // namespace

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    uint32_t rune = 0;
    const size_t n = Utf8Length(s, i, &rune);
    if (n == 0) {
      AppendHexByte(out, static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    switch (rune) {
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (rune < 0x20 || rune == 0x7F) {
          AppendHexByte(out, static_cast<unsigned char>(rune));
        } else if (rune < 0x80 || GoIsPrint(rune)) {
          out.append(s.substr(i, n));
        } else {
          AppendRuneEscape(out, rune);
        }
    }
    i += n;
  }
  out += '"';
  return out;
}

std::optional<int64_t> GoAtoi(std::string_view s, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<int64_t> {
    if (error != nullptr) *error = "strconv.Atoi: parsing " + GoQuote(s) + ": " + why;
    return std::nullopt;
  };
  std::string_view digits = s;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return fail("invalid syntax");
  unsigned __int128 acc = 0;
  bool overflow = false;
  for (const char c : digits) {
    if (c < '0' || c > '9') return fail("invalid syntax");
    if (!overflow) {
      acc = acc * 10 + static_cast<unsigned>(c - '0');
      if (acc > (static_cast<unsigned __int128>(1) << 63)) overflow = true;
    }
  }
  const auto limit = static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
  if (overflow || (!neg && acc > limit) || (neg && acc > limit + 1)) {
    return fail("value out of range");
  }
  if (neg) return static_cast<int64_t>(-static_cast<__int128>(acc));
  return static_cast<int64_t>(acc);
}

std::optional<double> GoParseFloat(std::string_view s) {
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  std::string lower(body);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "inf" || lower == "infinity") {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") {
    if (s.size() != body.size()) return std::nullopt;  // Go refuses a signed NaN
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (body.empty()) return std::nullopt;
  double v = 0;
  std::from_chars_result res;
  if (lower.size() > 2 && lower[0] == '0' && lower[1] == 'x') {
    if (lower.find('p') == std::string::npos) return std::nullopt;
    res = std::from_chars(lower.data() + 2, lower.data() + lower.size(), v, std::chars_format::hex);
    if (res.ec != std::errc() || res.ptr != lower.data() + lower.size()) return std::nullopt;
    return neg ? -v : v;
  }
  // Go accepts "5." and ".5"; from_chars does too. It refuses a lone "." and stray characters.
  res = std::from_chars(body.data(), body.data() + body.size(), v, std::chars_format::general);
  if (res.ec != std::errc() || res.ptr != body.data() + body.size()) return std::nullopt;
  return neg ? -v : v;
}

namespace {

// strconv's underscoreOK: each underscore of a base-0 literal sits between digits (a base
// prefix counts as one).
bool UnderscoresBetweenDigits(std::string_view s) {
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' && (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    const char c = lower(s[i]);
    if ((c >= '0' && c <= '9') || (hex && c >= 'a' && c <= 'f')) {
      saw = '0';
    } else if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
    } else {
      if (saw == '_') return false;
      saw = '!';
    }
  }
  return saw != '_';
}

}  // namespace

std::optional<int64_t> GoParseInt(std::string_view s) {
  const std::string_view whole = s;
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  unsigned base = 10;
  if (s[0] == '0') {
    const char p = s.size() >= 3 ? static_cast<char>(std::tolower(static_cast<unsigned char>(s[1]))) : '\0';
    if (p == 'b' || p == 'o' || p == 'x') {
      base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  unsigned __int128 acc = 0;
  bool underscores = false;
  for (const char raw : s) {
    if (raw == '_') {
      underscores = true;
      continue;
    }
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(raw)));
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'z') {
      digit = static_cast<unsigned>(c - 'a') + 10;
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    acc = acc * base + digit;
    if (acc > (static_cast<unsigned __int128>(1) << 64)) acc = static_cast<unsigned __int128>(1) << 64;
  }
  if (underscores && !UnderscoresBetweenDigits(whole)) return std::nullopt;
  const auto limit = static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
  if ((!neg && acc > limit) || (neg && acc > limit + 1)) return std::nullopt;
  if (neg) return static_cast<int64_t>(-static_cast<__int128>(acc));
  return static_cast<int64_t>(acc);
}

std::optional<bool> GoParseBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") return false;
  return std::nullopt;
}

std::optional<int64_t> GoParseDuration(std::string_view s, std::string* error) {
  const std::string_view orig = s;
  auto fail = [&](std::string text) -> std::optional<int64_t> {
    if (error != nullptr) *error = std::move(text);
    return std::nullopt;
  };
  auto invalid = [&]() { return fail("time: invalid duration " + TimeQuote(orig)); };
  constexpr uint64_t kMax = static_cast<uint64_t>(1) << 63;
  uint64_t d = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid();
    // leadingInt
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (v > kMax / 10) return invalid();
      v = v * 10 + static_cast<uint64_t>(s[i] - '0');
      if (v > kMax) return invalid();
    }
    const bool pre = i > 0;
    s.remove_prefix(i);
    bool post = false;
    uint64_t f = 0;
    double scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t j = 0;
      bool overflow = false;
      for (; j < s.size() && s[j] >= '0' && s[j] <= '9'; ++j) {
        if (overflow) continue;
        if (f > (kMax - 1) / 10) {
          overflow = true;
          continue;
        }
        const uint64_t y = f * 10 + static_cast<uint64_t>(s[j] - '0');
        if (y > kMax) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    for (; u < s.size(); ++u) {
      const char c = s[u];
      if (c == '.' || (c >= '0' && c <= '9')) break;
    }
    if (u == 0) return fail("time: missing unit in duration " + TimeQuote(orig));
    const std::string_view unit_text = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = 0;
    if (unit_text == "ns") {
      unit = 1;
    } else if (unit_text == "us" || unit_text == "\xC2\xB5s" || unit_text == "\xCE\xBCs") {
      unit = 1000;
    } else if (unit_text == "ms") {
      unit = 1000000;
    } else if (unit_text == "s") {
      unit = 1000000000ULL;
    } else if (unit_text == "m") {
      unit = 60ULL * 1000000000ULL;
    } else if (unit_text == "h") {
      unit = 3600ULL * 1000000000ULL;
    } else {
      return fail("time: unknown unit " + TimeQuote(unit_text) + " in duration " + TimeQuote(orig));
    }
    if (v > kMax / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMax) return invalid();
    }
    d += v;
    if (d > kMax) return invalid();
  }
  if (neg) return static_cast<int64_t>(-static_cast<__int128>(d));
  if (d > kMax - 1) return invalid();
  return static_cast<int64_t>(d);
}

namespace {

bool IsAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// net/url's unescape: every '%' starts two hex digits; in a host, an escape is only for a
// non-ASCII byte (or "%25"), and an ASCII byte must be one a host may hold.
bool GoUnescapes(std::string_view s, bool host) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        return false;
      }
      // An escaped byte below 0x80 (first digit 0-7) is ASCII, which a host writes as is.
      if (host && s[i + 1] >= '0' && s[i + 1] <= '7' && s.substr(i, 3) != "%25") return false;
      i += 3;
      continue;
    }
    if (host && c < 0x80 && !IsAlnum(c) &&
        std::string_view("!$&'()*+,;=:[]<>\"-_.~").find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
    ++i;
  }
  return true;
}

bool GoValidOptionalPort(std::string_view port) {
  if (port.empty()) return true;
  if (port[0] != ':') return false;
  for (char c : port.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool GoValidUserinfo(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsAlnum(c)) continue;
    if (std::string_view("-._:~!$&'()*+,;=%@").find(ch) != std::string_view::npos) continue;
    return false;  // anything else, non-ASCII included
  }
  return true;
}

bool GoParsesHost(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    size_t close = host.rfind(']');
    if (close == std::string_view::npos) return false;
    if (!GoValidOptionalPort(host.substr(close + 1))) return false;
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    if (!GoValidOptionalPort(host.substr(colon))) return false;
  }
  return GoUnescapes(host, /*host=*/true);
}

}  // namespace

bool GoUrlParses(std::string_view raw) {
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
  }
  const size_t hash = raw.find('#');
  if (hash != std::string_view::npos && !GoUnescapes(raw.substr(hash + 1), false)) return false;
  std::string_view u = raw.substr(0, hash);
  if (u == "*") return true;
  // The scheme: letters, then letters, digits, '+', '-', '.', up to ':'.
  bool has_scheme = false;
  std::string_view rest = u;
  for (size_t i = 0; i < u.size(); ++i) {
    const auto c = static_cast<unsigned char>(u[i]);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) return false;  // missing protocol scheme
      has_scheme = true;
      rest = u.substr(i + 1);
    }
    break;
  }
  rest = rest.substr(0, rest.find('?'));
  if (rest.empty() || rest[0] != '/') {
    if (has_scheme) return true;  // opaque
    std::string_view segment = rest.substr(0, rest.find('/'));
    if (segment.find(':') != std::string_view::npos) return false;
  }
  if ((has_scheme || rest.substr(0, 3) != "///") && rest.substr(0, 2) == "//") {
    std::string_view authority = rest.substr(2);
    size_t slash = authority.find('/');
    rest = slash == std::string_view::npos ? std::string_view() : authority.substr(slash);
    authority = authority.substr(0, slash);
    size_t at = authority.rfind('@');
    if (!GoParsesHost(at == std::string_view::npos ? authority : authority.substr(at + 1))) return false;
    if (at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      if (!GoValidUserinfo(userinfo) || !GoUnescapes(userinfo, false)) return false;
    }
  }
  return GoUnescapes(rest, false);
}

std::vector<std::string> GoFields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  size_t start = std::string_view::npos;
  while (i < s.size()) {
    uint32_t rune = 0;
    size_t n = Utf8Length(s, i, &rune);
    const bool space = n != 0 && IsGoSpace(rune);
    if (n == 0) n = 1;
    if (space) {
      if (start != std::string_view::npos) {
        out.emplace_back(s.substr(start, i - start));
        start = std::string_view::npos;
      }
    } else if (start == std::string_view::npos) {
      start = i;
    }
    i += n;
  }
  if (start != std::string_view::npos) out.emplace_back(s.substr(start));
  return out;
}

std::string_view GoTrimSpace(std::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    uint32_t rune = 0;
    const size_t n = Utf8Length(s, begin, &rune);
    if (n == 0 || !IsGoSpace(rune)) break;
    begin += n;
  }
  size_t end = s.size();
  while (end > begin) {
    // Step back over one UTF-8 sequence.
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    uint32_t rune = 0;
    const size_t n = Utf8Length(s, start, &rune);
    if (n != end - start || !IsGoSpace(rune)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

const google::protobuf::Value* GoJsonField(const google::protobuf::Struct& object, std::string_view name) {
  auto exact = object.fields().find(std::string(name));
  if (exact != object.fields().end()) return &exact->second;
  const google::protobuf::Value* found = nullptr;
  for (const auto& [key, value] : object.fields()) {
    if (key.size() != name.size()) continue;
    bool equal = true;
    for (size_t i = 0; i < key.size() && equal; ++i) {
      equal = std::tolower(static_cast<unsigned char>(key[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (equal) found = &value;
  }
  return found;
}

}  // namespace flyte::plugin
