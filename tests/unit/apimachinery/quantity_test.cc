#include "apimachinery/quantity.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace lintel::apimachinery {
namespace {

using Format = Quantity::Format;

constexpr char kFormatWrong[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr char kSuffixError[] = "unable to parse quantity's suffix";

Quantity Q(std::string_view text) {
  auto q = Quantity::Parse(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status().ToString();
  return q.ok() ? *q : Quantity();
}

TEST(QuantityParseTest, CanonicalAndValues) {
  struct Case {
    std::string input;
    std::string canonical;
    int64_t milli;
    int64_t value;
    Format format;
  };
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const auto si = Format::kDecimalSI;
  const auto bin = Format::kBinarySI;
  const auto exp = Format::kDecimalExponent;
  const std::vector<Case> cases = {
      {"0", "0", 0, 0, si},
      {"-0", "0", 0, 0, si},
      {"0Gi", "0", 0, 0, bin},
      {"000.000", "0", 0, 0, si},
      {"1", "1", 1000, 1, si},
      {"+1", "1", 1000, 1, si},
      {"01", "1", 1000, 1, si},
      {"500m", "500m", 500, 1, si},
      {"0.5", "500m", 500, 1, si},
      {".5", "500m", 500, 1, si},
      {"1.5", "1500m", 1500, 2, si},
      {"1.0", "1", 1000, 1, si},
      {"1000m", "1", 1000, 1, si},
      {"1000000u", "1", 1000, 1, si},
      {"1500u", "1500u", 2, 1, si},
      {"0.0001", "100u", 1, 1, si},
      {"1n", "1n", 1, 1, si},
      {"0.1n", "1n", 1, 1, si},  // rounded up to the nano precision
      {"1.1n", "2n", 1, 1, si},
      {"1000", "1k", 1000000, 1000, si},
      {"1024", "1024", 1024000, 1024, si},
      {"100M", "100M", 100000000000, 100000000, si},
      {"1000M", "1G", 1000000000000, 1000000000, si},
      {"1.G", "1G", 1000000000000, 1000000000, si},
      {"1k", "1k", 1000000, 1000, si},
      {"1T", "1T", 1000000000000000, 1000000000000, si},
      {"1P", "1P", 1000000000000000000, 1000000000000000, si},
      {"1E", "1E", kMax, 1000000000000000000, si},
      {"1000E", "1000E", kMax, kMax, si},
      {"1Ki", "1Ki", 1024000, 1024, bin},
      {"007Ki", "7Ki", 7168000, 7168, bin},
      {"2Gi", "2Gi", 2147483648000, 2147483648, bin},
      {"1024Mi", "1Gi", 1073741824000, 1073741824, bin},
      {"1536Mi", "1536Mi", 1610612736000, 1610612736, bin},
      {"0.5Gi", "512Mi", 536870912000, 536870912, bin},
      {"1.5Ki", "1536", 1536000, 1536, bin},  // not a multiple of 1024: decimal
      {"0.5Ki", "512", 512000, 512, bin},     // below 1024: decimal
      {"1000Ki", "1000Ki", 1024000000, 1024000, bin},
      {"1Ti", "1Ti", 1099511627776000, 1099511627776, bin},
      {"1Pi", "1Pi", 1125899906842624000, 1125899906842624, bin},
      {"7Ei", "7Ei", kMax, 8070450532247928832, bin},
      {"8Ei", "9223372036854775807", kMax, kMax, bin},  // capped at 2^63-1, as kube does
      {"0.5Mi", "512Ki", 524288000, 524288, bin},
      {"0.001Ki", "1024m", 1024, 2, bin},   // not whole: printed in decimal
      {"0.0001Ki", "102400u", 103, 1, si},  // below one unit: BinarySI turns DecimalSI
      {"1e3", "1e3", 1000000, 1000, exp},
      {"1E3", "1e3", 1000000, 1000, exp},
      {"1e+3", "1e3", 1000000, 1000, exp},
      {"12e2", "1200", 1200000, 1200, exp},
      {"1.5e3", "1500", 1500000, 1500, exp},
      {"1e-3", "1e-3", 1, 1, exp},
      {"1E-9", "1e-9", 1, 1, exp},
      {"1e-12", "1e-9", 1, 1, exp},
      {"1e-1000", "1e-9", 1, 1, exp},
      {"0e999999", "0", 0, 0, exp},
      {"1e21", "1e21", kMax, kMax, exp},
      {"1e20", "100e18", kMax, kMax, exp},
      {"99999999999999999999999999999", "99999999999999999999999999999", kMax, kMax, si},
      {"-1", "-1", -1000, -1, si},
      {"-500m", "-500m", -500, -1, si},  // rounds away from zero, as kube does
      {"-1.5", "-1500m", -1500, -2, si},
      {"-0.1n", "-1n", -1, -1, si},
      {"-1Ki", "-1Ki", -1024000, -1024, bin},
      {"-8Ei", "-9223372036854775807", std::numeric_limits<int64_t>::min(), -kMax, bin},
      {"-1000E", "-1000E", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min(),
       si},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.input + "\"");
    auto q = Quantity::Parse(c.input);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_EQ(q->String(), c.canonical);
    EXPECT_EQ(q->MilliValue(), c.milli);
    EXPECT_EQ(q->Value(), c.value);
    EXPECT_EQ(q->format(), c.format);
    EXPECT_EQ(q->IsZero(), c.canonical == "0");
    EXPECT_EQ(q->IsNegative(), c.canonical[0] == '-');
    // The canonical form is a fixed point with the same value.
    auto again = Quantity::Parse(q->String());
    ASSERT_TRUE(again.ok()) << q->String();
    EXPECT_EQ(*again, *q);
    EXPECT_EQ(again->String(), c.canonical);
  }
}

TEST(QuantityParseTest, Errors) {
  struct Case {
    std::string input;
    std::string message;  // a prefix
  };
  const std::vector<Case> cases = {
      {"", kFormatWrong},
      {"2GB", kFormatWrong},
      {"1.2.3", kFormatWrong},
      {"Gi", kFormatWrong},
      {".", kFormatWrong},
      {"-", kFormatWrong},
      {"+", kFormatWrong},
      {" 1", kFormatWrong},
      {"1 ", kFormatWrong},
      {"1 Gi", kFormatWrong},
      {"aoeu", kFormatWrong},
      {"1+1.0M", kFormatWrong},
      {"1,5", kFormatWrong},
      {"0x10", kFormatWrong},
      {"1K", kSuffixError},
      {"1i", kSuffixError},
      {".5i", kSuffixError},
      {"0.1mi", kSuffixError},
      {"1e", kSuffixError},
      {"-3.01e-", kSuffixError},
      {"1Ki5", kSuffixError},
      {"1GiB", kFormatWrong},
      {"1mm", kSuffixError},
      {"1e99999999999999999999", kSuffixError},  // exponent beyond int64
      {"1e29", "quantity too large: 1e29"},
      {"100000000000000000000000000000", "quantity too large"},
      {"100000000000E", "quantity too large"},
      {"1e1000000000", "quantity too large"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("\"" + c.input + "\"");
    auto q = Quantity::Parse(c.input);
    ASSERT_FALSE(q.ok()) << q->String();
    EXPECT_EQ(q.error().code(), Code::kBadRequest);
    EXPECT_EQ(q.error().message().substr(0, c.message.size()), c.message) << q.error().message();
  }
}

TEST(QuantityParseTest, LargestAcceptedMagnitude) {
  std::string nines = std::string(29, '9') + "." + std::string(9, '9');  // 10^29 - 1n
  auto q = Quantity::Parse(nines);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->String(), std::string(38, '9') + "n");
  // One more nano digit rounds up to 10^29: refused.
  EXPECT_FALSE(Quantity::Parse(nines + "1").ok());
}

TEST(QuantityCompareTest, Table) {
  struct Case {
    std::string a;
    std::string b;
    int want;
  };
  const std::vector<Case> cases = {
      {"1Gi", "1024Mi", 0}, {"1G", "1Gi", -1}, {"500m", "0.5", 0}, {"500m", "1", -1},
      {"-1", "0", -1},      {"0", "0Gi", 0},   {"1e3", "1k", 0},   {"2", "1999m", 1},
      {"1n", "0", 1},       {"-1n", "-2n", 1}, {"1E", "1Ei", -1},  {"1000E", "1e21", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.a + " vs " + c.b);
    Quantity a = Q(c.a);
    Quantity b = Q(c.b);
    EXPECT_EQ(a.Compare(b), c.want);
    EXPECT_EQ(b.Compare(a), -c.want);
    EXPECT_EQ(a == b, c.want == 0);
    EXPECT_EQ(a < b, c.want < 0);
  }
}

TEST(QuantityCompareTest, Sorts) {
  std::vector<Quantity> v = {Q("1Gi"), Q("-1"), Q("500m"), Q("1G"), Q("0"), Q("2")};
  std::sort(v.begin(), v.end());
  std::vector<std::string> got;
  got.reserve(v.size());
  for (const auto& q : v) {
    got.push_back(q.String());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"-1", "0", "500m", "2", "1G", "1Gi"}));
}

TEST(QuantityArithmeticTest, AddAndSub) {
  struct Case {
    std::string a;
    char op;
    std::string b;
    std::string want;
    Format format;
  };
  const std::vector<Case> cases = {
      {"1Gi", '+', "512Mi", "1536Mi", Format::kBinarySI},
      {"1", '-', "500m", "500m", Format::kDecimalSI},
      {"0", '+', "1Gi", "1Gi", Format::kBinarySI},  // zero takes the other's format
      {"0", '-', "1Gi", "-1Gi", Format::kBinarySI},
      {"100m", '+', "900m", "1", Format::kDecimalSI},
      {"1", '-', "2", "-1", Format::kDecimalSI},
      {"1Ki", '-', "24", "1k", Format::kBinarySI},  // 1000 in BinarySI prints as decimal
      {"1Gi", '+', "1G", "2073741824", Format::kBinarySI},
      {"1G", '+', "1Gi", "2073741824", Format::kDecimalSI},
      {"1n", '-', "1n", "0", Format::kDecimalSI},
      {"1e3", '+', "1", "1001", Format::kDecimalExponent},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.a + " " + c.op + " " + c.b);
    Quantity q = Q(c.a);
    Status s = c.op == '+' ? q.Add(Q(c.b)) : q.Sub(Q(c.b));
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(q.String(), c.want);
    EXPECT_EQ(q.format(), c.format);
  }
}

TEST(QuantityArithmeticTest, OverflowIsReportedAndLeavesTheValue) {
  Quantity big = Q("50000000000E");  // 5 * 10^28
  Quantity q = big;
  EXPECT_TRUE(q.Add(Q("49999999999E")).ok());
  Quantity before = q;
  Status s = q.Add(Q("1E"));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_EQ(s.message().rfind("quantity overflow", 0), 0u) << s.message();
  EXPECT_EQ(q, before);

  Quantity neg = big;
  neg.Neg();
  EXPECT_TRUE(neg.Sub(Q("49999999999E")).ok());
  EXPECT_FALSE(neg.Sub(Q("1E")).ok());

  // Near the limit, a naive int128 sum would itself overflow (UBSan checks this).
  Quantity huge = Q("90000000000E");  // 9 * 10^28
  EXPECT_FALSE(huge.Add(Q("90000000000E")).ok());
  EXPECT_FALSE(huge.Sub(Q("-90000000000E")).ok());
  Quantity neg_huge = Q("-90000000000E");
  EXPECT_FALSE(neg_huge.Add(Q("-90000000000E")).ok());
  EXPECT_FALSE(neg_huge.Sub(Q("90000000000E")).ok());
  EXPECT_TRUE(neg_huge.Add(Q("90000000000E")).ok());
  EXPECT_TRUE(neg_huge.IsZero());

  Quantity m = big;
  EXPECT_FALSE(m.Mul(2).ok());
  EXPECT_EQ(m, big);
  EXPECT_FALSE(m.Mul(std::numeric_limits<int64_t>::min()).ok());
}

TEST(QuantityArithmeticTest, Mul) {
  struct Case {
    std::string q;
    int64_t factor;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"500m", 3, "1500m"},
      {"256Mi", 4, "1Gi"},
      {"1", -2, "-2"},
      {"1Gi", 0, "0"},
      {"0", std::numeric_limits<int64_t>::min(), "0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.q + " * " + std::to_string(c.factor));
    Quantity q = Q(c.q);
    ASSERT_TRUE(q.Mul(c.factor).ok());
    EXPECT_EQ(q.String(), c.want);
  }
}

TEST(QuantityAccountingTest, SumOfRequests) {
  Quantity total;
  for (const char* r : {"250m", "250m", "500m", "1", "100m"}) {
    ASSERT_TRUE(total.Add(Q(r)).ok());
  }
  EXPECT_EQ(total.String(), "2100m");
  EXPECT_EQ(total.MilliValue(), 2100);
  EXPECT_EQ(total.Value(), 3);

  Quantity memory;
  for (const char* r : {"256Mi", "256Mi", "512Mi"}) {
    ASSERT_TRUE(memory.Add(Q(r)).ok());
  }
  EXPECT_EQ(memory.String(), "1Gi");
  EXPECT_TRUE(memory.Sub(Q("1Gi")).ok());
  EXPECT_TRUE(memory.IsZero());
}

TEST(QuantityConstructTest, FromIntAndMilli) {
  EXPECT_EQ(Quantity::FromInt(1024, Format::kBinarySI).String(), "1Ki");
  EXPECT_EQ(Quantity::FromInt(-2048, Format::kBinarySI).String(), "-2Ki");
  EXPECT_EQ(Quantity::FromInt(5).String(), "5");
  EXPECT_EQ(Quantity::FromInt(std::numeric_limits<int64_t>::max()).Value(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Quantity::FromInt(std::numeric_limits<int64_t>::min()).Value(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Quantity::FromMilli(1500).String(), "1500m");
  EXPECT_EQ(Quantity::FromMilli(2000).String(), "2");
  EXPECT_EQ(Quantity::FromMilli(-1).MilliValue(), -1);
  EXPECT_EQ(Quantity().String(), "0");
  EXPECT_TRUE(Quantity().IsZero());
}

TEST(QuantityValueTest, ScaledValueAndAsInt64) {
  Quantity q = Q("1.5Gi");  // 1610612736
  EXPECT_EQ(q.ScaledValue(6), 1611);
  EXPECT_EQ(q.ScaledValue(9), 2);
  EXPECT_EQ(q.ScaledValue(40), 1);
  EXPECT_EQ(Q("1").ScaledValue(-9), 1000000000);
  EXPECT_EQ(Q("1").ScaledValue(-12), 1000000000000);
  EXPECT_EQ(Q("1E").ScaledValue(-9), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Q("-1E").ScaledValue(-30), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Q("0").ScaledValue(40), 0);
  EXPECT_EQ(Q("-1n").ScaledValue(40), -1);

  EXPECT_EQ(Q("2Gi").AsInt64(), std::optional<int64_t>(2147483648));
  EXPECT_EQ(Q("-3").AsInt64(), std::optional<int64_t>(-3));
  EXPECT_EQ(Q("1.5").AsInt64(), std::nullopt);
  EXPECT_EQ(Q("100E").AsInt64(), std::nullopt);
  EXPECT_DOUBLE_EQ(Q("1.5").AsApproximateDouble(), 1.5);
  EXPECT_DOUBLE_EQ(Q("-250m").AsApproximateDouble(), -0.25);
  EXPECT_EQ(Q("-2").Sign(), -1);
  EXPECT_EQ(Q("0").Sign(), 0);
  EXPECT_EQ(Q("1n").Sign(), 1);
}

TEST(QuantityJsonTest, FromJson) {
  struct Case {
    Json value;
    std::string want;  // canonical, or "" for an error
  };
  const std::vector<Case> cases = {
      {"2Gi", "2Gi"},   {" 1Gi\n", "1Gi"},  // kube's UnmarshalJSON trims
      {"", ""},         {"   ", ""},       {1, "1"},   {1.5, "1500m"}, {-3, "-3"},
      {1e20, "100e18"}, {0.001, "1m"},     {true, ""}, {nullptr, ""},  {Json::object(), ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.value.dump());
    auto q = Quantity::FromJson(c.value);
    if (c.want.empty()) {
      ASSERT_FALSE(q.ok()) << q->String();
      EXPECT_EQ(q.error().code(), Code::kBadRequest);
      continue;
    }
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_EQ(q->String(), c.want);
    EXPECT_EQ(q->ToJson(), Json(c.want));
  }
}

}  // namespace
}  // namespace lintel::apimachinery
