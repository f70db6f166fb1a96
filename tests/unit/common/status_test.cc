#include "common/status.h"

#include <gtest/gtest.h>

namespace lintel {
namespace {

TEST(StatusTest, OkHasNoMessageOrCauses) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_TRUE(s.causes().empty());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, WrapAddsContextAndKeepsCodeAndCauses) {
  Status s = Invalid("bad", {{"FieldValueInvalid", "spec.cpu", "must be positive"}});
  Status w = s.Wrap("create vm default/a");
  EXPECT_EQ(w.code(), Code::kInvalid);
  EXPECT_EQ(w.message(), "create vm default/a: bad");
  ASSERT_EQ(w.causes().size(), 1u);
  EXPECT_EQ(w.causes()[0].field, "spec.cpu");
  EXPECT_EQ(s.message(), "bad");  // the original is untouched
}

TEST(StatusTest, CopiesAreDeep) {
  Status a = NotFound("x");
  Status b = a;
  b.AddCause({"r", "f", "m"});
  EXPECT_TRUE(a.causes().empty());
  EXPECT_EQ(b.causes().size(), 1u);
}

TEST(StatusTest, UnavailableIsRetryableNotFoundIsNot) {
  EXPECT_TRUE(Unavailable("down").retryable());
  EXPECT_FALSE(NotFound("gone").retryable());
  EXPECT_EQ(CodeReason(Code::kGone), "Expired");
}

Result<int> Half(int v) {
  if (v % 2) return BadRequest("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  LINTEL_ASSIGN_OR_RETURN(int h, Half(v));
  LINTEL_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, AssignOrReturnPropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kBadRequest);
  EXPECT_EQ(r.status().message(), "odd");
}

}  // namespace
}  // namespace lintel
