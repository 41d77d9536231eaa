// Go prototext single-line formatting of messages, for keys, comparisons and error texts.
#include "flyte/core/compiler/go_text.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace flyte::core::compiler {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Decodes one UTF-8 sequence at s[i]; returns the rune and its length, or (-1, 1) if invalid.
std::pair<int32_t, size_t> DecodeRune(const std::string& s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return {c, 1};
  size_t n = 0;
  int32_t r = 0;
  int32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    n = 2, r = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, r = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, r = c & 0x07, min = 0x10000;
  } else {
    return {-1, 1};
  }
  if (i + n > s.size()) return {-1, 1};
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return {-1, 1};
    r = (r << 6) | (b(i + k) & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return {-1, 1};
  return {r, n};
}

void AppendHex(std::string& out, uint32_t v, size_t width) {
  static const char* kDigits = "0123456789abcdef";
  std::string hex;
  do {
    hex.insert(hex.begin(), kDigits[v & 0xF]);
    v >>= 4;
  } while (v != 0);
  while (hex.size() < width) hex.insert(hex.begin(), '0');
  out += hex;
}

// Go's text encoder string quoting (non-ASCII runes above U+009F are kept as they are).
void AppendQuoted(std::string& out, const std::string& in) {
  out += '"';
  size_t i = 0;
  while (i < in.size()) {
    auto [r, n] = DecodeRune(in, i);
    if (r == -1) r = static_cast<unsigned char>(in[i]);
    if (r < ' ' || r == '"' || r == '\\' || r == 0x7f || (n == 1 && r >= 0x80)) {
      out += '\\';
      switch (r) {
        case '"':
        case '\\':
          out += static_cast<char>(r);
          break;
        case '\n':
          out += 'n';
          break;
        case '\r':
          out += 'r';
          break;
        case '\t':
          out += 't';
          break;
        default:
          out += 'x';
          AppendHex(out, static_cast<uint32_t>(r), 2);
      }
    } else if (r >= 0x80 && r <= 0x9f) {
      out += "\\u";
      AppendHex(out, static_cast<uint32_t>(r), 4);
    } else {
      out.append(in, i, n);
    }
    i += n;
  }
  out += '"';
}

class Printer {
 public:
  std::string out;

  void Name(const std::string& name) {
    if (last_ == kScalar || last_ == kClose) out += ' ';
    out += name;
    out += ':';
    last_ = kName;
  }
  void Open() {
    out += '{';
    last_ = kOpen;
  }
  void Close() {
    out += '}';
    last_ = kClose;
  }
  void Scalar(const std::string& text) {
    out += text;
    last_ = kScalar;
  }

  void PrintMessage(const Message& m) {
    const Reflection* r = m.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    r->ListFields(m, &fields);
    std::stable_sort(fields.begin(), fields.end(),
                     [](const FieldDescriptor* a, const FieldDescriptor* b) {
                       if (a->is_extension() != b->is_extension()) return !a->is_extension();
                       if (a->is_extension()) return a->full_name() < b->full_name();
                       return a->index() < b->index();
                     });
    for (const FieldDescriptor* f : fields) {
      std::string name = f->is_extension()                          ? "[" + f->full_name() + "]"
                         : f->type() == FieldDescriptor::TYPE_GROUP ? f->message_type()->name()
                                                                    : f->name();
      if (f->is_map()) {
        PrintMap(m, f, name);
      } else if (f->is_repeated()) {
        int n = r->FieldSize(m, f);
        for (int i = 0; i < n; ++i) {
          Name(name);
          PrintValue(m, f, i);
        }
      } else {
        Name(name);
        PrintValue(m, f, -1);
      }
    }
  }

 private:
  enum Last { kNone, kName, kScalar, kOpen, kClose };
  Last last_ = kNone;

  void PrintMap(const Message& m, const FieldDescriptor* f, const std::string& name) {
    const Reflection* r = m.GetReflection();
    int n = r->FieldSize(m, f);
    std::vector<const Message*> entries;
    entries.reserve(n);
    for (int i = 0; i < n; ++i) entries.push_back(&r->GetRepeatedMessage(m, f, i));
    const FieldDescriptor* key = f->message_type()->map_key();
    const FieldDescriptor* value = f->message_type()->map_value();
    std::stable_sort(entries.begin(), entries.end(), [key](const Message* a, const Message* b) {
      const Reflection* ra = a->GetReflection();
      switch (key->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          return ra->GetString(*a, key) < ra->GetString(*b, key);
        case FieldDescriptor::CPPTYPE_BOOL:
          return !ra->GetBool(*a, key) && ra->GetBool(*b, key);
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
    for (const Message* e : entries) {
      Name(name);
      Open();
      Name("key");
      PrintValue(*e, key, -1);
      Name("value");
      PrintValue(*e, value, -1);
      Close();
    }
  }

  // index -1 for a singular field.
  void PrintValue(const Message& m, const FieldDescriptor* f, int index) {
    const Reflection* r = m.GetReflection();
    bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const Message& sub = rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
        Open();
        PrintMessage(sub);
        Close();
        return;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
        std::string q;
        AppendQuoted(q, s);
        Scalar(q);
        return;
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        Scalar((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
        return;
      case FieldDescriptor::CPPTYPE_INT32:
        Scalar(std::to_string(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f)));
        return;
      case FieldDescriptor::CPPTYPE_INT64:
        Scalar(std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)));
        return;
      case FieldDescriptor::CPPTYPE_UINT32:
        Scalar(std::to_string(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f)));
        return;
      case FieldDescriptor::CPPTYPE_UINT64:
        Scalar(std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f)));
        return;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        Scalar(GoFormatFloat(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f), 64));
        return;
      case FieldDescriptor::CPPTYPE_FLOAT:
        Scalar(GoFormatFloat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f), 32));
        return;
      case FieldDescriptor::CPPTYPE_ENUM: {
        int v = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
        const auto* ev = f->enum_type()->FindValueByNumber(v);
        Scalar(ev != nullptr ? ev->name() : std::to_string(v));
        return;
      }
    }
  }
};

}  // namespace

std::string GoFormatFloat(double value, int bits) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  std::to_chars_result res;
  if (bits == 32) {
    res = std::to_chars(buf, buf + sizeof(buf), static_cast<float>(value),
                        std::chars_format::scientific);
  } else {
    res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  }
  std::string sci(buf, res.ptr);
  bool neg = !sci.empty() && sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  // Go trims trailing zeros of the shortest digits; "0" stays "0".
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int nd = static_cast<int>(digits.size());
  int dp = (digits == "0") ? 1 : exp + 1;
  if (digits == "0") exp = 0;
  std::string out = neg ? "-" : "";
  int x = dp - 1;
  // With the shortest digits Go switches to the exponent form from 1e+06 on (eprec = 6).
  if (x < -4 || x >= 6) {
    out += digits[0];
    if (nd > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += x < 0 ? '-' : '+';
    int ax = std::abs(x);
    if (ax < 10) out += '0';
    out += std::to_string(ax);
    return out;
  }
  if (dp <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-dp), '0');
    out += digits;
  } else if (dp >= nd) {
    out += digits;
    out.append(static_cast<size_t>(dp - nd), '0');
  } else {
    out += digits.substr(0, dp);
    out += '.';
    out += digits.substr(dp);
  }
  return out;
}

std::string GoText(const google::protobuf::Message& message) {
  Printer p;
  p.PrintMessage(message);
  return std::move(p.out);
}

std::string GoTextOrNil(const google::protobuf::Message* message) {
  return message == nullptr ? "<nil>" : GoText(*message);
}

}  // namespace flyte::core::compiler
