// Quantity: kube's resource.Quantity ("500m", "2Gi", "1.5", "1e3").
//
// The value is exact: a signed 128-bit count of nano-units (10^-9), the precision kube
// keeps. Parsing rounds smaller fractions up (away from zero) to 1n, as kube does.
// Magnitudes must be below 10^29 (kube's int64 fast path ends near 9.2*10^18; its
// arbitrary-precision fallback has no limit): larger inputs are refused and arithmetic
// that would exceed it fails. The format (DecimalSI, BinarySI, DecimalExponent) comes
// from the suffix and decides how String() canonicalizes, as in kube.
//
// A value type; distinct objects may be used from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"

namespace lintel::apimachinery {

class Quantity {
 public:
  enum class Format : uint8_t {
    kDecimalSI,        // no suffix, or n u m k M G T P E
    kBinarySI,         // Ki Mi Gi Ti Pi Ei
    kDecimalExponent,  // e3, E-6
  };

  // Zero, DecimalSI.
  Quantity() = default;

  // Syntax '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (with at least one digit), then
  // one of the known suffixes. BadRequest with kube's messages: "quantities must match the
  // regular expression '...'" and "unable to parse quantity's suffix"; and "quantity too
  // large" from 10^29 up. As in kube, a
  // BinarySI value beyond 2^63-1 is capped there, and a BinarySI value below 1 in
  // magnitude becomes DecimalSI.
  static Result<Quantity> Parse(std::string_view text);
  // A JSON string (surrounding whitespace trimmed, as kube's UnmarshalJSON does) or number.
  static Result<Quantity> FromJson(const Json& value);
  // resource.NewQuantity and NewMilliQuantity.
  static Quantity FromInt(int64_t value, Format format = Format::kDecimalSI);
  static Quantity FromMilli(int64_t milli, Format format = Format::kDecimalSI);

  Format format() const { return format_; }
  bool IsZero() const { return nano_ == 0; }
  bool IsNegative() const { return nano_ < 0; }
  int Sign() const { return nano_ < 0 ? -1 : nano_ > 0 ? 1 : 0; }

  // ceil(q / 10^scale) with kube's rounding: fractions round away from zero (1.1 -> 2,
  // -1.1 -> -2). Saturates at the int64 limits.
  int64_t ScaledValue(int scale) const;
  int64_t Value() const { return ScaledValue(0); }
  int64_t MilliValue() const { return ScaledValue(-3); }
  // The value when it is a whole number that fits in int64.
  std::optional<int64_t> AsInt64() const;
  // For scoring and display only.
  double AsApproximateDouble() const;

  // -1, 0, 1 by value (formats do not matter).
  int Compare(const Quantity& other) const;
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.Compare(b) == 0; }
  friend bool operator<(const Quantity& a, const Quantity& b) { return a.Compare(b) < 0; }
  friend bool operator>(const Quantity& a, const Quantity& b) { return a.Compare(b) > 0; }
  friend bool operator<=(const Quantity& a, const Quantity& b) { return a.Compare(b) <= 0; }
  friend bool operator>=(const Quantity& a, const Quantity& b) { return a.Compare(b) >= 0; }

  // In-place arithmetic for accounting. A zero quantity takes the other's format, as in
  // kube. BadRequest("quantity overflow ...") and no change when the result would reach
  // 10^29 in magnitude.
  Status Add(const Quantity& y);
  Status Sub(const Quantity& y);
  Status Mul(int64_t factor);
  void Neg() { nano_ = -nano_; }

  // Kube's canonical form: "0"; DecimalSI as an integer mantissa with the largest suffix
  // keeping it whole ("0.5" -> "500m", "1000M" -> "1G", "1.5" -> "1500m"); BinarySI in
  // powers of 1024 ("1024Mi" -> "1Gi", "0.5Gi" -> "512Mi"), falling back to DecimalSI
  // when not a whole number or below 1024 ("1.5Ki" -> "1536", "0.5Ki" -> "512");
  // DecimalExponent with an exponent that is a multiple of 3 ("1.5e3" -> "1500").
  std::string String() const;
  Json ToJson() const { return String(); }

 private:
  using Int128 = __int128;
  Quantity(Int128 nano, Format format) : nano_(nano), format_(format) {}

  Int128 nano_ = 0;
  Format format_ = Format::kDecimalSI;
};

}  // namespace lintel::apimachinery
