#include "common/cidr.h"

#include <gtest/gtest.h>

namespace lintel {
namespace {

TEST(CidrTest, ParsesAndPrintsAddresses) {
  auto ip = Ipv4::Parse("10.244.3.17");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->value, (10u << 24) | (244u << 16) | (3u << 8) | 17u);
  EXPECT_EQ(ip->ToString(), "10.244.3.17");
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.1.2", "01.0.0.1", "a.b.c.d", "10..0.1",
                          "10.0.0.1 "}) {
    EXPECT_FALSE(Ipv4::Parse(bad).ok()) << bad;
  }
}

TEST(CidrTest, MembershipAndOverlap) {
  auto c = Cidr::Parse("10.244.1.7/24");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ToString(), "10.244.1.7/24");
  EXPECT_EQ(c->Network().ToString(), "10.244.1.0");
  EXPECT_EQ(c->Broadcast().ToString(), "10.244.1.255");
  EXPECT_EQ(c->Size(), 256u);
  EXPECT_TRUE(c->Contains(*Ipv4::Parse("10.244.1.255")));
  EXPECT_FALSE(c->Contains(*Ipv4::Parse("10.244.2.0")));
  auto big = *Cidr::Parse("10.244.0.0/16");
  EXPECT_TRUE(big.Contains(*c));
  EXPECT_FALSE(c->Contains(big));
  EXPECT_TRUE(big.Overlaps(*c));
  EXPECT_FALSE(Cidr::Parse("10.96.0.0/12")->Overlaps(big));
  for (const char* bad : {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0/8"}) {
    EXPECT_FALSE(Cidr::Parse(bad).ok()) << bad;
  }
}

TEST(CidrTest, NthAndSubnets) {
  auto c = *Cidr::Parse("10.244.0.0/16");
  EXPECT_EQ(c.Nth(1)->ToString(), "10.244.0.1");
  EXPECT_EQ(c.Nth(65535)->ToString(), "10.244.255.255");
  EXPECT_FALSE(c.Nth(65536).has_value());
  EXPECT_EQ(c.Subnet(24, 0)->ToString(), "10.244.0.0/24");
  EXPECT_EQ(c.Subnet(24, 7)->ToString(), "10.244.7.0/24");
  EXPECT_EQ(c.Subnet(24, 255)->ToString(), "10.244.255.0/24");
  EXPECT_FALSE(c.Subnet(24, 256).has_value());
  EXPECT_FALSE(c.Subnet(8, 0).has_value());
  EXPECT_EQ(Cidr::Parse("0.0.0.0/0")->Size(), uint64_t{1} << 32);
}

}  // namespace
}  // namespace lintel
