#include "apimachinery/quantity.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace lintel::apimachinery {

namespace {

using Int128 = __int128;

constexpr std::string_view kErrFormatWrong =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr std::string_view kErrSuffix = "unable to parse quantity's suffix";

constexpr Int128 Pow10(int n) {
  Int128 v = 1;
  for (int i = 0; i < n; ++i) {
    v *= 10;
  }
  return v;
}

constexpr Int128 kNanoPerUnit = Pow10(9);
constexpr int kMaxDigits = 38;              // nano-units: at most 38 digits
constexpr Int128 kMaxNano = Pow10(38) - 1;  // so magnitudes stay below 10^29
constexpr Int128 kMaxBinaryNano = static_cast<Int128>(INT64_MAX) * kNanoPerUnit;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The pieces of parseQuantityString.
struct Pieces {
  bool positive = true;
  bool any_digit = false;  // kube would read "Gi" or "." as zero; we refuse them
  std::string_view num;    // integer digits without leading zeros
  std::string_view denom;  // fraction digits
  std::string_view suffix;
};

bool SplitQuantity(std::string_view s, Pieces* p) {
  size_t pos = 0;
  const size_t end = s.size();
  if (pos < end && (s[0] == '-' || s[0] == '+')) {
    p->positive = s[0] == '+';
    ++pos;
  }
  while (pos < end && s[pos] == '0') {
    ++pos;
    p->any_digit = true;
  }
  size_t start = pos;
  while (pos < end && IsDigit(s[pos])) {
    ++pos;
  }
  p->num = s.substr(start, pos - start);
  if (!p->num.empty()) {
    p->any_digit = true;
  }
  if (pos < end && s[pos] == '.') {
    ++pos;
    start = pos;
    while (pos < end && IsDigit(s[pos])) {
      ++pos;
    }
    p->denom = s.substr(start, pos - start);
    if (!p->denom.empty()) {
      p->any_digit = true;
    }
  }
  const size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos) {
    ++pos;
  }
  if (pos < end && (s[pos] == '-' || s[pos] == '+')) {
    ++pos;
  }
  while (pos < end && IsDigit(s[pos])) {
    ++pos;
  }
  if (pos != end) {
    return false;
  }
  p->suffix = s.substr(suffix_start);
  return true;
}

struct Suffix {
  int base;     // 10 or 2
  int64_t exp;  // power of the base
  Quantity::Format format;
};

std::optional<Suffix> InterpretSuffix(std::string_view s) {
  using F = Quantity::Format;
  static constexpr std::pair<std::string_view, int> kDecimal[] = {
      {"", 0},  {"n", -9}, {"u", -6}, {"m", -3}, {"k", 3},
      {"M", 6}, {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  static constexpr std::pair<std::string_view, int> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (const auto& [name, exp] : kDecimal) {
    if (s == name) {
      return Suffix{10, exp, F::kDecimalSI};
    }
  }
  for (const auto& [name, exp] : kBinary) {
    if (s == name) {
      return Suffix{2, exp, F::kBinarySI};
    }
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    // strconv.ParseInt: optional sign, digits, int64 range.
    std::string_view digits = s.substr(1);
    bool negative = false;
    if (digits[0] == '+' || digits[0] == '-') {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 19) {
      return std::nullopt;
    }
    uint64_t v = 0;
    for (char c : digits) {
      if (!IsDigit(c)) {
        return std::nullopt;
      }
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > static_cast<uint64_t>(INT64_MAX)) {
      return std::nullopt;
    }
    int64_t e = static_cast<int64_t>(v);
    return Suffix{10, negative ? -e : e, F::kDecimalExponent};
  }
  return std::nullopt;
}

// Little-endian decimal digits times 2.
void Double(std::vector<uint8_t>* digits) {
  int carry = 0;
  for (auto& d : *digits) {
    int v = d * 2 + carry;
    d = static_cast<uint8_t>(v % 10);
    carry = v / 10;
  }
  if (carry) {
    digits->push_back(static_cast<uint8_t>(carry));
  }
}

Int128 Abs(Int128 v) { return v < 0 ? -v : v; }

std::string Int128ToString(Int128 v) {
  if (v == 0) {
    return "0";
  }
  bool negative = v < 0;
  // Magnitudes stay below 10^38, so negation cannot overflow.
  Int128 m = Abs(v);
  std::string out;
  while (m > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  if (negative) {
    out.push_back('-');
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Status TooLarge(std::string_view text) {
  std::string shown(text.substr(0, 64));
  if (text.size() > 64) {
    shown += "...";
  }
  return BadRequest("quantity too large: " + shown + ": magnitude must be below 10^29");
}

Status Overflow(std::string_view what) {
  return BadRequest("quantity overflow: " + std::string(what) + " would reach 10^29 in magnitude");
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) {
    return BadRequest(std::string(kErrFormatWrong));
  }
  Pieces p;
  if (!SplitQuantity(text, &p) || !p.any_digit) {
    return BadRequest(std::string(kErrFormatWrong));
  }
  auto suffix = InterpretSuffix(p.suffix);
  if (!suffix) {
    return BadRequest(std::string(kErrSuffix));
  }
  Format format = suffix->format;

  // digits x 10^exp10 x 2^exp2, digits little-endian without leading or trailing zeros.
  std::vector<uint8_t> digits;
  digits.reserve(p.num.size() + p.denom.size() + 19);
  for (auto it = p.denom.rbegin(); it != p.denom.rend(); ++it) {
    digits.push_back(static_cast<uint8_t>(*it - '0'));
  }
  for (auto it = p.num.rbegin(); it != p.num.rend(); ++it) {
    digits.push_back(static_cast<uint8_t>(*it - '0'));
  }
  while (!digits.empty() && digits.back() == 0) {
    digits.pop_back();
  }
  if (digits.empty()) {
    return Quantity(0, format);
  }

  // Exponents beyond +-10^6 already overflow or round to 1n; clamping keeps the sums
  // below from overflowing int64.
  int64_t exp10 = suffix->base == 10 ? std::clamp<int64_t>(suffix->exp, -1'000'000, 1'000'000) : 0;
  exp10 -= static_cast<int64_t>(p.denom.size());
  size_t zeros = 0;
  while (zeros < digits.size() && digits[zeros] == 0) {
    ++zeros;
  }
  digits.erase(digits.begin(), digits.begin() + static_cast<std::ptrdiff_t>(zeros));
  exp10 += static_cast<int64_t>(zeros);
  if (suffix->base == 2) {
    for (int64_t i = 0; i < suffix->exp; ++i) {
      Double(&digits);
    }
  }

  // Nano-units: shift the decimal point 9 places right.
  const int64_t shift = exp10 + 9;
  const int64_t integer_digits = static_cast<int64_t>(digits.size()) + shift;
  if (integer_digits > kMaxDigits) {
    return TooLarge(text);
  }
  Int128 nano = 0;
  bool fraction = false;
  for (size_t i = digits.size(); i-- > 0;) {
    // Digit i has weight 10^(i + shift) in nano-units.
    if (static_cast<int64_t>(i) + shift >= 0) {
      nano = nano * 10 + digits[i];
    } else if (digits[i] != 0) {
      fraction = true;
    }
  }
  for (int64_t i = 0; i < shift; ++i) {
    nano *= 10;
  }
  if (fraction) {
    ++nano;  // round up to the nearest nano, as kube does
  }
  if (nano > kMaxNano) {
    return TooLarge(text);
  }

  if (format == Format::kBinarySI && nano > kMaxBinaryNano) {
    nano = kMaxBinaryNano;
  }
  if (format == Format::kBinarySI && nano < kNanoPerUnit) {
    format = Format::kDecimalSI;
  }
  return Quantity(p.positive ? nano : -nano, format);
}

Result<Quantity> Quantity::FromJson(const Json& value) {
  if (value.is_string()) {
    std::string_view s = value.get_ref<const std::string&>();
    constexpr std::string_view kSpace = " \t\r\n\v\f";
    size_t b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) {
      return Parse("");
    }
    size_t e = s.find_last_not_of(kSpace);
    return Parse(s.substr(b, e - b + 1));
  }
  if (value.is_number()) {
    return Parse(value.dump());
  }
  return BadRequest("a quantity must be a string or a number");
}

Quantity Quantity::FromInt(int64_t value, Format format) {
  return Quantity(static_cast<Int128>(value) * kNanoPerUnit, format);
}

Quantity Quantity::FromMilli(int64_t milli, Format format) {
  return Quantity(static_cast<Int128>(milli) * Pow10(6), format);
}

int64_t Quantity::ScaledValue(int scale) const {
  // nano-units of one result unit: 10^(scale + 9)
  const int k = scale + 9;
  Int128 result;
  if (k >= 0) {
    if (k > kMaxDigits) {
      result = nano_ == 0 ? 0 : (nano_ > 0 ? 1 : -1);
    } else {
      Int128 divisor = Pow10(k);
      result = nano_ / divisor;
      if (nano_ % divisor != 0) {
        result += nano_ > 0 ? 1 : -1;
      }
    }
  } else {
    result = nano_;
    for (int i = 0; i < -k && result != 0; ++i) {
      if (Abs(result) > static_cast<Int128>(INT64_MAX)) {
        break;
      }
      result *= 10;
    }
  }
  if (result > INT64_MAX) {
    return INT64_MAX;
  }
  if (result < INT64_MIN) {
    return INT64_MIN;
  }
  return static_cast<int64_t>(result);
}

std::optional<int64_t> Quantity::AsInt64() const {
  if (nano_ % kNanoPerUnit != 0) {
    return std::nullopt;
  }
  Int128 v = nano_ / kNanoPerUnit;
  if (v > INT64_MAX || v < INT64_MIN) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

double Quantity::AsApproximateDouble() const {
  return static_cast<double>(nano_) / static_cast<double>(kNanoPerUnit);
}

int Quantity::Compare(const Quantity& other) const {
  return nano_ < other.nano_ ? -1 : nano_ > other.nano_ ? 1 : 0;
}

// Whether a + b stays within +-kMaxNano. Both are within it already, so each bound below
// is computed without leaving int128 (which ends near 1.7 * 10^38, short of 2 * 10^38).
namespace {
bool SumFits(Int128 a, Int128 b) { return b >= 0 ? a <= kMaxNano - b : a >= -kMaxNano - b; }
}  // namespace

Status Quantity::Add(const Quantity& y) {
  if (!SumFits(nano_, y.nano_)) {
    return Overflow(String() + " + " + y.String());
  }
  if (nano_ == 0) {
    format_ = y.format_;
  }
  nano_ += y.nano_;
  return Status::Ok();
}

Status Quantity::Sub(const Quantity& y) {
  if (!SumFits(nano_, -y.nano_)) {
    return Overflow(String() + " - " + y.String());
  }
  if (nano_ == 0) {
    format_ = y.format_;
  }
  nano_ -= y.nano_;
  return Status::Ok();
}

Status Quantity::Mul(int64_t factor) {
  if (nano_ != 0 && factor != 0) {
    Int128 limit = kMaxNano / Abs(static_cast<Int128>(factor));
    if (Abs(nano_) > limit) {
      return Overflow(String() + " * " + std::to_string(factor));
    }
  }
  nano_ *= factor;
  return Status::Ok();
}

std::string Quantity::String() const {
  if (nano_ == 0) {
    return "0";
  }
  Format format = format_;
  if (format == Format::kBinarySI) {
    // Small or fractional binary values read better in decimal.
    if (Abs(nano_) < 1024 * kNanoPerUnit || nano_ % kNanoPerUnit != 0) {
      format = Format::kDecimalSI;
    }
  }
  if (format == Format::kBinarySI) {
    static constexpr std::string_view kSuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    Int128 v = nano_ / kNanoPerUnit;
    size_t n = 0;
    while (n + 1 < std::size(kSuffixes) && Abs(v) >= 1024 && v % 1024 == 0) {
      v /= 1024;
      ++n;
    }
    return Int128ToString(v) + std::string(kSuffixes[n]);
  }
  // Move factors of ten into the exponent, then make it a multiple of three. The
  // multiplications only give back factors just removed, so they cannot overflow.
  Int128 m = nano_;
  int exp = -9;
  while (m % 10 == 0) {
    m /= 10;
    ++exp;
  }
  switch (exp % 3) {
    case 1:
    case -2:
      m *= 10;
      exp -= 1;
      break;
    case 2:
    case -1:
      m *= 100;
      exp -= 2;
      break;
    default:
      break;
  }
  if (format == Format::kDecimalExponent) {
    return exp == 0 ? Int128ToString(m) : Int128ToString(m) + "e" + std::to_string(exp);
  }
  if (exp > 18) {  // beyond "E": keep E and grow the mantissa
    m *= Pow10(exp - 18);
    exp = 18;
  }
  static constexpr std::string_view kDecimal[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  return Int128ToString(m) + std::string(kDecimal[(exp + 9) / 3]);
}

}  // namespace lintel::apimachinery
