// k8s resource.Quantity semantics over an exact decimal (digit string and power of ten).
#include "flyte/manager/quantity.h"

#include <algorithm>
#include <limits>

namespace flyte::plugins::manager {
namespace {

constexpr char kFormatWrong[] =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr char kNumeric[] = "unable to parse numeric part of quantity";
constexpr char kSuffix[] = "unable to parse quantity's suffix";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

struct Scanned {
  bool positive = true;
  std::string_view value, num, denom, suffix;
};

// The k8s fast scanner: sign, numerator (leading zeros dropped), optional fraction, suffix.
bool ScanQuantity(std::string_view str, Scanned* out) {
  size_t pos = 0;
  const size_t end = str.size();
  if (pos < end && (str[0] == '-' || str[0] == '+')) {
    out->positive = str[0] != '-';
    ++pos;
  }
  while (true) {
    if (pos >= end) {
      out->num = "0";
      out->value = "0";
      return true;
    }
    if (str[pos] != '0') break;
    ++pos;
  }
  size_t i = pos;
  while (i < end && IsDigit(str[i])) ++i;
  if (i >= end) {
    out->num = str.substr(pos);
    out->value = str;
    return true;
  }
  out->num = str.substr(pos, i - pos);
  pos = i;
  if (out->num.empty()) out->num = "0";
  if (pos < end && str[pos] == '.') {
    ++pos;
    size_t j = pos;
    while (j < end && IsDigit(str[j])) ++j;
    if (j >= end) {
      out->denom = str.substr(pos);
      out->value = str;
      return true;
    }
    out->denom = str.substr(pos, j - pos);
    pos = j;
  }
  out->value = str.substr(0, pos);
  const size_t suffix_start = pos;
  size_t k = pos;
  while (k < end && std::string_view("eEinumkKMGTP").find(str[k]) != std::string_view::npos) ++k;
  if (k >= end) {
    out->suffix = str.substr(suffix_start);
    return true;
  }
  pos = k;
  if (str[pos] == '-' || str[pos] == '+') ++pos;
  while (pos < end && IsDigit(str[pos])) ++pos;
  if (pos >= end) {
    out->suffix = str.substr(suffix_start);
    return true;
  }
  return false;
}

// base, exponent and format of a suffix; false when unknown.
bool InterpretSuffix(std::string_view s, int* base, int32_t* exponent, Quantity::Format* format) {
  static constexpr struct {
    std::string_view text;
    int base;
    int32_t exponent;
  } kTable[] = {{"", 10, 0},   {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3},
                {"k", 10, 3},  {"M", 10, 6},  {"G", 10, 9},  {"T", 10, 12},
                {"P", 10, 15}, {"E", 10, 18}, {"Ki", 2, 10}, {"Mi", 2, 20},
                {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60}};
  for (const auto& e : kTable) {
    if (e.text == s) {
      *base = e.base;
      *exponent = e.exponent;
      *format = e.base == 2 ? Quantity::Format::kBinarySI : Quantity::Format::kDecimalSI;
      return true;
    }
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    std::string_view rest = s.substr(1);
    bool neg = false;
    if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
      neg = rest[0] == '-';
      rest.remove_prefix(1);
    }
    if (rest.empty()) return false;
    unsigned __int128 acc = 0;
    for (const char c : rest) {
      if (!IsDigit(c)) return false;
      acc = acc * 10 + static_cast<unsigned>(c - '0');
      if (acc > (static_cast<unsigned __int128>(1) << 63)) return false;
    }
    const auto max = static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max());
    if ((!neg && acc > max) || (neg && acc > max + 1)) return false;
    const int64_t parsed =
        neg ? static_cast<int64_t>(-static_cast<__int128>(acc)) : static_cast<int64_t>(acc);
    *base = 10;
    *exponent = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(parsed)));
    *format = Quantity::Format::kDecimalExponent;
    return true;
  }
  return false;
}

std::string StripLeadingZeros(std::string s) {
  const size_t nz = s.find_first_not_of('0');
  if (nz == std::string::npos) return "";
  return s.substr(nz);
}

// Multiplies a decimal digit string by a small factor.
std::string MulSmall(const std::string& digits, uint32_t factor) {
  if (digits.empty() || factor == 0) return "";
  std::string out(digits.size() + 12, '0');
  uint64_t carry = 0;
  size_t o = out.size();
  for (size_t i = digits.size(); i-- > 0;) {
    const uint64_t v = static_cast<uint64_t>(digits[i] - '0') * factor + carry;
    out[--o] = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    out[--o] = static_cast<char>('0' + carry % 10);
    carry /= 10;
  }
  return StripLeadingZeros(out.substr(o));
}

// Adds one to a decimal digit string.
std::string Increment(std::string digits) {
  size_t i = digits.size();
  while (i > 0) {
    --i;
    if (digits[i] != '9') {
      ++digits[i];
      return digits;
    }
    digits[i] = '0';
  }
  return "1" + digits;
}

int CompareMagnitude(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

constexpr char kMaxInt64[] = "9223372036854775807";

}  // namespace

std::optional<Quantity> Quantity::Parse(std::string_view str, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<Quantity> {
    if (error != nullptr) *error = why;
    return std::nullopt;
  };
  if (str.empty()) return fail(kFormatWrong);
  Quantity q;
  if (str == "0") {
    q.text_ = "0";
    return q;
  }
  Scanned sc;
  if (!ScanQuantity(str, &sc)) return fail(kFormatWrong);
  int base = 10;
  int32_t exponent = 0;
  Format format = Format::kDecimalSI;
  if (!InterpretSuffix(sc.suffix, &base, &exponent, &format)) return fail(kSuffix);
  q.format_ = format;

  const int32_t num_len = static_cast<int32_t>(sc.num.size());
  const int32_t denom_len = static_cast<int32_t>(sc.denom.size());
  int64_t precision = 0;
  int64_t scale = 0;
  uint64_t mantissa = 1;
  if (format == Format::kBinarySI) {
    if (exponent >= 0 && denom_len == 0) {
      mantissa = static_cast<uint64_t>(1) << exponent;
      precision = 15 - num_len - static_cast<int32_t>(static_cast<float>(exponent) * 3 / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = exponent;
    precision = 18 - (num_len + denom_len);
  }

  if (precision >= 0) {
    scale -= denom_len;
    if (scale >= -9) {
      const std::string shifted = std::string(sc.num) + std::string(sc.denom);
      uint64_t value = 0;
      for (const char c : shifted) value = value * 10 + static_cast<uint64_t>(c - '0');
      const unsigned __int128 result = static_cast<unsigned __int128>(value) * mantissa;
      if (result <= static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) {
        // The int64 fast path of ParseQuantity, including when it keeps the input as the text.
        q.negative_ = !sc.positive;
        q.digits_ = StripLeadingZeros(std::to_string(static_cast<uint64_t>(result)));
        q.exponent_ = scale;
        if (q.digits_.empty()) q.negative_ = false;
        bool canonical = false;
        if (format == Format::kBinarySI) {
          canonical = exponent % 10 == 0 && (value & 0x07) != 0;
        } else {
          canonical =
              scale % 3 == 0 &&
              !(shifted.size() >= 3 && shifted.compare(shifted.size() - 3, 3, "000") == 0) &&
              shifted[0] != '0';
        }
        if (canonical) q.text_ = std::string(str);
        return q;
      }
    }
  }

  // The arbitrary-precision path (inf.Dec in k8s).
  if (std::none_of(sc.value.begin(), sc.value.end(), IsDigit)) return fail(kNumeric);
  std::string digits = StripLeadingZeros(std::string(sc.num) + std::string(sc.denom));
  int64_t exp = -static_cast<int64_t>(denom_len);
  if (base == 10) {
    exp += exponent;
  } else {
    for (int32_t i = 0; i < exponent; i += 10) digits = MulSmall(digits, 1024);
  }
  if (!digits.empty() && exp < -9) {
    // Round the magnitude up to whole nano units.
    const auto drop = static_cast<size_t>(-9 - exp);
    bool remainder = false;
    if (drop >= digits.size()) {
      remainder = true;  // digits is non-empty, so something non-zero is dropped
      digits.clear();
    } else {
      const std::string tail = digits.substr(digits.size() - drop);
      remainder = tail.find_first_not_of('0') != std::string::npos;
      digits.resize(digits.size() - drop);
    }
    digits = StripLeadingZeros(digits);
    if (remainder) digits = Increment(digits);
    exp = -9;
  }
  if (format == Format::kBinarySI && !digits.empty()) {
    // Cap at max int64: compare digits*10^exp with it.
    Quantity as_is;
    as_is.digits_ = digits;
    as_is.exponent_ = exp;
    Quantity cap;
    cap.digits_ = kMaxInt64;
    if (as_is.Cmp(cap) > 0) {
      digits = kMaxInt64;
      exp = 0;
    }
    Quantity one;
    one.digits_ = "1";
    as_is.digits_ = digits;
    as_is.exponent_ = exp;
    if (as_is.Cmp(one) < 0) format = Format::kDecimalSI;
  }
  q.format_ = format;
  q.digits_ = digits;
  q.exponent_ = digits.empty() ? 0 : exp;
  q.negative_ = !sc.positive && !digits.empty();
  return q;
}

Quantity Quantity::FromInt64(int64_t value, Format format) {
  Quantity q;
  q.format_ = format;
  q.negative_ = value < 0;
  const unsigned __int128 mag =
      value < 0 ? static_cast<unsigned __int128>(-static_cast<__int128>(value)) : value;
  q.digits_ = StripLeadingZeros(std::to_string(static_cast<uint64_t>(mag)));
  if (q.digits_.empty()) q.negative_ = false;
  return q;
}

int64_t Quantity::ScaledValue(int scale) const {
  if (IsZero()) return 0;
  const int64_t e = exponent_ - scale;
  std::string mag = digits_;
  if (e >= 0) {
    if (static_cast<int64_t>(mag.size()) + e > 19) {
      return negative_ ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
    }
    mag.append(static_cast<size_t>(e), '0');
  } else {
    const auto drop = static_cast<size_t>(-e);
    bool remainder = false;
    if (drop >= mag.size()) {
      remainder = true;
      mag.clear();
    } else {
      remainder = mag.find_first_not_of('0', mag.size() - drop) != std::string::npos;
      mag.resize(mag.size() - drop);
    }
    mag = StripLeadingZeros(mag);
    if (remainder) mag = Increment(mag);
  }
  if (mag.empty()) return 0;
  if (mag.size() > 19 || (mag.size() == 19 && mag > kMaxInt64)) {
    return negative_ ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  const int64_t v = static_cast<int64_t>(std::stoull(mag));
  return negative_ ? -v : v;
}

int Quantity::Cmp(const Quantity& other) const {
  if (Sign() != other.Sign()) return Sign() < other.Sign() ? -1 : 1;
  if (IsZero()) return 0;
  // Position of the leading digit decides unless equal; then the aligned digits do.
  const int64_t lead_a = static_cast<int64_t>(digits_.size()) + exponent_;
  const int64_t lead_b = static_cast<int64_t>(other.digits_.size()) + other.exponent_;
  int mag = 0;
  if (lead_a != lead_b) {
    mag = lead_a < lead_b ? -1 : 1;
  } else {
    std::string a = digits_;
    std::string b = other.digits_;
    const size_t len = std::max(a.size(), b.size());
    a.append(len - a.size(), '0');
    b.append(len - b.size(), '0');
    mag = CompareMagnitude(a, b);
  }
  return negative_ ? -mag : mag;
}

std::string Quantity::String() const {
  if (!text_.empty()) return text_;
  if (IsZero()) return "0";
  Format format = format_;
  std::string digits = digits_;
  int64_t exp = exponent_;
  // Canonical digits: no trailing zeros.
  const size_t last = digits.find_last_not_of('0');
  exp += static_cast<int64_t>(digits.size() - (last + 1));
  digits.resize(last + 1);

  if (format == Format::kBinarySI) {
    const Quantity lo = FromInt64(-1024, Format::kDecimalSI);
    const Quantity hi = FromInt64(1024, Format::kDecimalSI);
    if (Cmp(lo) > 0 && Cmp(hi) < 0) {
      format = Format::kDecimalSI;
    } else if (exp < 0) {
      format = Format::kDecimalSI;  // not a whole number: k8s shows it in decimal to stay exact
    } else {
      // Binary values are capped at 2^63-1, so the integer fits.
      uint64_t n = std::stoull(digits);
      for (int64_t i = 0; i < exp; ++i) n *= 10;
      int times = 0;
      while (n >= 1024 && n % 1024 == 0) {
        n /= 1024;
        ++times;
      }
      static constexpr const char* kBinary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
      return (negative_ ? "-" : "") + std::to_string(n) + (times <= 6 ? kBinary[times] : "");
    }
  }
  while (exp % 3 != 0) {
    digits += '0';
    --exp;
  }
  std::string out = (negative_ ? "-" : "") + digits;
  if (format == Format::kDecimalExponent) {
    if (exp != 0) out += "e" + std::to_string(static_cast<int32_t>(exp));
    return out;
  }
  switch (exp) {
    case -9:
      return out + "n";
    case -6:
      return out + "u";
    case -3:
      return out + "m";
    case 3:
      return out + "k";
    case 6:
      return out + "M";
    case 9:
      return out + "G";
    case 12:
      return out + "T";
    case 15:
      return out + "P";
    case 18:
      return out + "E";
    default:
      return out;  // exponent 0, or one k8s has no suffix for (it prints none either)
  }
}

}  // namespace flyte::plugins::manager
