#include "net/ipam.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "common/fs.h"
#include "support/temp_dir.h"

namespace lintel::net {
namespace {

Cidr Range(const std::string& text) { return *Cidr::Parse(text); }
Ipv4 Ip(const std::string& text) { return *Ipv4::Parse(text); }

class AddressPoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<AddressPool> OpenPool(const std::string& range = "10.244.3.0/24") {
    auto pool = AddressPool::Open(Range(range), file_);
    EXPECT_TRUE(pool.ok()) << pool.error().ToString();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  lintel::testing::TempDir dir_;
  std::string file_ = dir_.File("ipam.json");
};

TEST_F(AddressPoolTest, AllocatesAfterTheGatewayAndIsIdempotent) {
  auto pool = OpenPool();
  EXPECT_EQ(pool->Gateway(), Ip("10.244.3.1"));
  EXPECT_EQ(pool->Capacity(), 253u);
  EXPECT_EQ(*pool->Allocate("a"), Ip("10.244.3.2"));
  EXPECT_EQ(*pool->Allocate("b"), Ip("10.244.3.3"));
  EXPECT_EQ(*pool->Allocate("a"), Ip("10.244.3.2"));
  EXPECT_EQ(pool->InUse(), 2u);
  EXPECT_EQ(pool->Lookup("b"), Ip("10.244.3.3"));
  EXPECT_EQ(pool->Lookup("c"), std::nullopt);
  EXPECT_EQ(pool->Owners(),
            (std::map<std::string, Ipv4>{{"a", Ip("10.244.3.2")}, {"b", Ip("10.244.3.3")}}));
  EXPECT_EQ(pool->Allocate("").error().code(), Code::kBadRequest);
}

TEST_F(AddressPoolTest, NextFitDoesNotReuseAFreedAddressAtOnce) {
  auto pool = OpenPool();
  ASSERT_EQ(*pool->Allocate("a"), Ip("10.244.3.2"));
  ASSERT_EQ(*pool->Allocate("b"), Ip("10.244.3.3"));
  ASSERT_TRUE(pool->Release("a").ok());
  EXPECT_EQ(*pool->Allocate("c"), Ip("10.244.3.4"));
  EXPECT_TRUE(pool->Release("unknown").ok());
}

TEST_F(AddressPoolTest, WrapsAroundAndSkipsReservedAddresses) {
  auto pool = OpenPool("10.244.3.0/29");  // .2 to .6
  EXPECT_EQ(pool->Capacity(), 5u);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool->Allocate("o" + std::to_string(i)).ok());
  ASSERT_TRUE(pool->Release("o1").ok());  // 10.244.3.3
  // After .6 comes .7 (broadcast), .0 (network) and .1 (gateway): none is handed out.
  EXPECT_EQ(*pool->Allocate("x"), Ip("10.244.3.3"));
}

TEST_F(AddressPoolTest, ExhaustionSaysWhichRangeAndHowManyAreInUse) {
  auto pool = OpenPool();
  std::set<Ipv4> seen;
  for (int i = 0; i < 253; ++i) {
    auto ip = pool->Allocate("o" + std::to_string(i));
    ASSERT_TRUE(ip.ok()) << i << ": " << ip.error().ToString();
    seen.insert(*ip);
  }
  EXPECT_EQ(seen.size(), 253u);
  EXPECT_EQ(
      seen.count(Ip("10.244.3.0")) + seen.count(Ip("10.244.3.1")) + seen.count(Ip("10.244.3.255")),
      0u);
  auto full = pool->Allocate("one-more");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), Code::kUnavailable);
  EXPECT_TRUE(full.error().retryable());
  EXPECT_EQ(full.error().message(), "no free address in 10.244.3.0/24 (253 in use)");
  EXPECT_EQ(*pool->Allocate("o7"), Ip("10.244.3.9"));  // an existing owner still gets its own
}

TEST_F(AddressPoolTest, PersistsAcrossReopen) {
  {
    auto pool = OpenPool();
    ASSERT_EQ(*pool->Allocate("a"), Ip("10.244.3.2"));
    ASSERT_EQ(*pool->Allocate("b"), Ip("10.244.3.3"));
    ASSERT_TRUE(pool->Release("a").ok());
  }
  auto pool = OpenPool();
  EXPECT_EQ(pool->Lookup("a"), std::nullopt);
  EXPECT_EQ(pool->Lookup("b"), Ip("10.244.3.3"));
  EXPECT_EQ(*pool->Allocate("c"), Ip("10.244.3.4"));  // next-fit survives the restart
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename(), "ipam.json");  // no temporary file left
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(AddressPoolTest, ReserveRecordsAddressesAndRefusesConflicts) {
  auto pool = OpenPool();
  EXPECT_TRUE(pool->Reserve("a", Ip("10.244.3.50")).ok());
  EXPECT_TRUE(pool->Reserve("a", Ip("10.244.3.50")).ok());  // idempotent
  EXPECT_EQ(*pool->Allocate("a"), Ip("10.244.3.50"));

  Status taken = pool->Reserve("b", Ip("10.244.3.50"));
  EXPECT_EQ(taken.code(), Code::kConflict);
  EXPECT_NE(taken.message().find("held by a"), std::string::npos) << taken.message();

  EXPECT_EQ(pool->Reserve("b", Ip("10.244.4.5")).code(), Code::kBadRequest);
  EXPECT_EQ(pool->Reserve("b", Ip("10.244.3.0")).code(), Code::kBadRequest);
  EXPECT_EQ(pool->Reserve("b", Ip("10.244.3.1")).code(), Code::kBadRequest);
  EXPECT_EQ(pool->Reserve("b", Ip("10.244.3.255")).code(), Code::kBadRequest);

  // Moving an owner frees its old address.
  EXPECT_TRUE(pool->Reserve("a", Ip("10.244.3.60")).ok());
  EXPECT_TRUE(pool->Reserve("b", Ip("10.244.3.50")).ok());
  EXPECT_EQ(pool->InUse(), 2u);

  auto reopened = OpenPool();
  EXPECT_EQ(reopened->Lookup("a"), Ip("10.244.3.60"));
  EXPECT_EQ(reopened->Lookup("b"), Ip("10.244.3.50"));
}

TEST_F(AddressPoolTest, ANewRangeDropsAddressesOutsideIt) {
  {
    auto pool = OpenPool("10.244.3.0/24");
    ASSERT_TRUE(pool->Allocate("a").ok());
  }
  {
    auto pool = OpenPool("10.244.7.0/24");
    EXPECT_EQ(pool->InUse(), 0u);
    EXPECT_EQ(*pool->Allocate("a"), Ip("10.244.7.2"));
  }
  auto text = ReadFile(file_);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("10.244.3."), std::string::npos) << *text;
}

TEST_F(AddressPoolTest, ACorruptStateFileIsAClearError) {
  for (const std::string content :
       {"{not json", "[1, 2]", R"({"owners": []})", R"({"owners": {"a": 7}})",
        R"({"owners": {"a": "10.244.3.300"}})"}) {
    SCOPED_TRACE(content);
    ASSERT_TRUE(WriteFileAtomic(file_, content).ok());
    auto pool = AddressPool::Open(Range("10.244.3.0/24"), file_);
    ASSERT_FALSE(pool.ok());
    EXPECT_EQ(pool.error().code(), Code::kInternal);
    EXPECT_NE(pool.error().message().find("address pool " + file_), std::string::npos)
        << pool.error().message();
  }
  EXPECT_EQ(*ReadFile(file_), R"({"owners": {"a": "10.244.3.300"}})");  // left for a person
}

TEST_F(AddressPoolTest, RangesSmallerThanASlash30AreRefused) {
  auto pool = AddressPool::Open(Range("10.244.3.0/31"), file_);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().code(), Code::kBadRequest);
}

TEST_F(AddressPoolTest, AFailedWriteChangesNothing) {
  auto pool = AddressPool::Open(Range("10.244.3.0/24"), dir_.File("missing-dir/ipam.json"));
  ASSERT_TRUE(pool.ok());
  auto ip = (*pool)->Allocate("a");
  ASSERT_FALSE(ip.ok());
  EXPECT_NE(ip.error().message().find("address pool"), std::string::npos) << ip.error().message();
  EXPECT_EQ((*pool)->InUse(), 0u);
  EXPECT_EQ((*pool)->Lookup("a"), std::nullopt);
}

}  // namespace
}  // namespace lintel::net
