// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource.Quantity): the parser,
// the integer views task-resource validation compares, and the canonical text in its messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flyte::plugins::manager {

// An exact decimal value with the k8s serialization format it was written in. Parsing follows
// ParseQuantity: a signed decimal number with an optional suffix (n u m "" k M G T P E, Ki Mi Gi
// Ti Pi Ei, or an exponent e<int>/E<int>); values are rounded up to whole nano units and binary
// (Ki...) values are capped at 2^63-1. A value type; copies are independent.
class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;  // zero

  // nullopt on malformed input; `error` then holds the k8s error text (ErrFormatWrong,
  // ErrNumeric or ErrSuffix).
  static std::optional<Quantity> Parse(std::string_view text, std::string* error = nullptr);
  static Quantity FromInt64(int64_t value, Format format);

  bool IsZero() const { return digits_.empty(); }
  int Sign() const { return IsZero() ? 0 : (negative_ ? -1 : 1); }
  Format format() const { return format_; }

  // Value(): the value rounded up (away from zero) to an integer; MilliValue() likewise in
  // thousandths. Beyond int64 these saturate (k8s wraps or answers 0 there).
  int64_t Value() const { return ScaledValue(0); }
  int64_t MilliValue() const { return ScaledValue(-3); }
  int64_t ScaledValue(int scale) const;

  // -1, 0, 1: an exact comparison of the values.
  int Cmp(const Quantity& other) const;

  // The k8s String(): the text as given when it was already canonical, otherwise the canonical
  // form ("1.5" -> "1500m", "1024Mi" -> "1Gi", "0.5Gi" -> "512Mi").
  std::string String() const;

 private:
  bool negative_ = false;
  std::string digits_;    // magnitude, decimal digits without leading zeros; empty for zero
  int64_t exponent_ = 0;  // value = digits_ * 10^exponent_
  Format format_ = Format::kDecimalSI;
  std::string text_;  // the input when k8s keeps it as the string form
};

}  // namespace flyte::plugins::manager
