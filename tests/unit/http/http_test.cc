#include "server/http/http.h"

#include <gtest/gtest.h>

#include "server/http/url.h"

namespace lintel::http {
namespace {

TEST(QueryTest, PlusIsSpaceAndPercentEscapes) {
  Query q = Query::Parse("labelSelector=env+in+(dev,prod)&fieldSelector=metadata.name%3Dweb-1");
  EXPECT_EQ(q.Get("labelSelector"), "env in (dev,prod)");
  EXPECT_EQ(q.Get("fieldSelector"), "metadata.name=web-1");
}

TEST(QueryTest, EscapedKeysAndBytes) {
  Query q = Query::Parse("a%20b=%41%2b%zz%4");
  EXPECT_EQ(q.Get("a b"), "A+%zz%4");  // malformed escapes are kept as they are
}

TEST(QueryTest, RepeatedKeysKeepOrder) {
  Query q = Query::Parse("command=ls&command=-l&x=1&command=/");
  auto all = q.GetAll("command");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], "ls");
  EXPECT_EQ(all[1], "-l");
  EXPECT_EQ(all[2], "/");
  EXPECT_EQ(q.Get("command"), "ls");
  EXPECT_EQ(q.all().size(), 4u);
}

TEST(QueryTest, Bools) {
  Query q = Query::Parse("a=true&b=True&c=1&d=TRUE&e=false&f=0&g=&h");
  EXPECT_TRUE(q.GetBool("a"));
  EXPECT_TRUE(q.GetBool("b"));
  EXPECT_TRUE(q.GetBool("c"));
  EXPECT_TRUE(q.GetBool("d"));
  EXPECT_FALSE(q.GetBool("e"));
  EXPECT_FALSE(q.GetBool("f"));
  EXPECT_FALSE(q.GetBool("g"));
  EXPECT_FALSE(q.GetBool("h"));
  EXPECT_FALSE(q.GetBool("missing"));
  EXPECT_TRUE(q.Has("h"));
  EXPECT_EQ(q.Get("h"), "");
  EXPECT_FALSE(q.Has("missing"));
}

TEST(QueryTest, EmptyPartsAndLeadingQuestionMark) {
  Query q = Query::Parse("?&&a=1&&");
  EXPECT_EQ(q.all().size(), 1u);
  EXPECT_EQ(q.Get("a"), "1");
  EXPECT_TRUE(Query::Parse("").all().empty());
}

TEST(QueryTest, ValueMayContainEquals) {
  Query q = Query::Parse("fieldSelector=a=b,c!=d");
  EXPECT_EQ(q.Get("fieldSelector"), "a=b,c!=d");
}

TEST(PercentDecodeTest, PathKeepsPlus) {
  EXPECT_EQ(PercentDecode("/api/v1/a+b%2Fc", false), "/api/v1/a+b/c");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("%", false), "%");
  EXPECT_EQ(PercentDecode("%4", false), "%4");
}

TEST(HeadersTest, CaseInsensitive) {
  Headers h;
  h.Add("Content-Type", "application/json");
  h.Add("X-Thing", "1");
  h.Add("x-thing", "2");
  EXPECT_EQ(h.Get("content-type"), "application/json");
  EXPECT_EQ(h.Get("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(h.Get("X-THING"), "1");
  EXPECT_FALSE(h.Get("missing").has_value());
  EXPECT_EQ(h.all()[0].first, "content-type");  // stored lower-cased
  h.Set("X-Thing", "3");
  EXPECT_EQ(h.Get("x-thing"), "3");
  EXPECT_EQ(h.all().size(), 2u);
}

}  // namespace
}  // namespace lintel::http
