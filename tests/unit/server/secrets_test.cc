#include <gtest/gtest.h>

#include "common/base64.h"
#include "server_fixture.h"

namespace lintel::server {
namespace {

class SecretsTest : public testing::ServerFixture {
 protected:
  static Json Secret(const std::string& name, Json fields) {
    Json s = {{"apiVersion", "lintel.dev/v1alpha1"},
              {"kind", "Secret"},
              {"metadata", {{"name", name}}}};
    for (auto it = fields.begin(); it != fields.end(); ++it) s[it.key()] = *it;
    return s;
  }
  Result<WriteResult> Create(const Json& obj) {
    return resources_->Create(Kind("secrets"), "default", obj, Opts());
  }
  static std::string FirstCauseField(const Status& s) {
    return s.causes().empty() ? "" : s.causes().front().field;
  }
};

TEST_F(SecretsTest, StringDataIsStoredAsBase64Data) {
  auto r = Create(Secret("ud", {{"stringData", {{"userdata", "#!/bin/sh\necho hi\n"}}},
                                {"data", {{"other", Base64Encode("x")}}}}));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  Json got = MustGet("ud", "default", "secrets");
  EXPECT_FALSE(got.contains("stringData"));
  EXPECT_EQ(got["type"], "Opaque");
  EXPECT_EQ(got["data"]["userdata"], Base64Encode("#!/bin/sh\necho hi\n"));
  EXPECT_EQ(got["data"]["other"], Base64Encode("x"));
}

TEST_F(SecretsTest, BadKeysAndValuesAreRefusedByField) {
  auto bad64 = Create(Secret("a", {{"data", {{"userdata", "not base64!"}}}}));
  ASSERT_FALSE(bad64.ok());
  EXPECT_EQ(bad64.error().code(), Code::kInvalid);
  EXPECT_EQ(FirstCauseField(bad64.error()), "data[userdata]");
  auto badkey = Create(Secret("b", {{"stringData", {{"user data", "x"}}}}));
  ASSERT_FALSE(badkey.ok());
  EXPECT_EQ(FirstCauseField(badkey.error()), "data[user data]");
  auto big = Create(Secret("c", {{"stringData", {{"k", std::string((1 << 20) + 1, 'a')}}}}));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(FirstCauseField(big.error()), "data");
  // Nothing was stored.
  EXPECT_FALSE(resources_->Get(Kind("secrets"), "default", "a").ok());
}

TEST_F(SecretsTest, ImmutableDataCannotChange) {
  ASSERT_TRUE(Create(Secret("frozen", {{"stringData", {{"k", "v1"}}}, {"immutable", true}})).ok());
  auto changed = resources_->Patch(Kind("secrets"), "default", "frozen", PatchType::kMerge,
                                   R"({"stringData":{"k":"v2"}})", Opts());
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(FirstCauseField(changed.error()), "data");
  // Labels may still change.
  auto labelled = resources_->Patch(Kind("secrets"), "default", "frozen", PatchType::kMerge,
                                    R"({"metadata":{"labels":{"a":"b"}}})", Opts());
  EXPECT_TRUE(labelled.ok()) << labelled.error().ToString();
}

}  // namespace
}  // namespace lintel::server
