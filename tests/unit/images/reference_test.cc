#include "images/reference.h"

#include <gtest/gtest.h>

#include "images/digest.h"

namespace lintel::images {
namespace {

constexpr const char* kHex = "81763d0f82296a0b2c53fd99f24d6ce2d7b070e3a84333a10a524de24f0c9f34";

TEST(ReferenceTest, NormalisesLikeDocker) {
  struct Case {
    const char* in;
    const char* canonical;
    const char* familiar;
  } cases[] = {
      {"busybox", "docker.io/library/busybox:latest", "busybox"},
      {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox"},
      {"user/app", "docker.io/user/app:latest", "user/app"},
      {"docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox"},
      {"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox"},
      {"127.0.0.1:5000/test/busybox:1", "127.0.0.1:5000/test/busybox:1",
       "127.0.0.1:5000/test/busybox"},
      {"localhost/app", "localhost/app:latest", "localhost/app"},
      {"ghcr.io/a/b/c:v1.2-rc_3", "ghcr.io/a/b/c:v1.2-rc_3", "ghcr.io/a/b/c"},
      {"my-registry.example:443/x__y.z-w", "my-registry.example:443/x__y.z-w:latest",
       "my-registry.example:443/x__y.z-w"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = ParseReference(c.in);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->ToString(), c.canonical);
    EXPECT_EQ(r->FamiliarName(), c.familiar);
    // Canonical forms parse to themselves.
    auto again = ParseReference(r->ToString());
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *r);
  }
}

TEST(ReferenceTest, Digests) {
  auto r = ParseReference(std::string("127.0.0.1:5000/test/busybox@sha256:") + kHex);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->registry, "127.0.0.1:5000");
  EXPECT_EQ(r->repository, "test/busybox");
  EXPECT_EQ(r->tag, "");
  ASSERT_TRUE(r->digest);
  EXPECT_EQ(r->digest->hex, kHex);
  EXPECT_EQ(r->ManifestRef(), std::string("sha256:") + kHex);

  auto both = ParseReference(std::string("busybox:1@sha256:") + kHex);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->tag, "1");
  EXPECT_EQ(both->ManifestRef(), std::string("sha256:") + kHex);
  EXPECT_EQ(both->ToString(), std::string("docker.io/library/busybox:1@sha256:") + kHex);
}

TEST(ReferenceTest, RefusesMalformed) {
  for (const char* bad :
       {"", "Busybox", "busybox:", "busybox:-x", "a//b", "/a", "a/", "a..b", "a___b", "-a",
        "busybox@sha256:abc", "busybox@md5:" /* algorithm */, "reg.example/UPPER:1", "a b"}) {
    SCOPED_TRACE(bad);
    auto r = ParseReference(bad);
    EXPECT_FALSE(r.ok());
  }
  auto sha512 = ParseReference(std::string("busybox@sha512:") + kHex);
  ASSERT_FALSE(sha512.ok());
  EXPECT_NE(sha512.status().message().find("not supported"), std::string::npos);
}

TEST(DigestTest, ParsesAndHashes) {
  EXPECT_TRUE(ParseDigest(std::string("sha256:") + kHex).ok());
  EXPECT_EQ(ParseDigest("sha256:ABC").status().code(), Code::kInvalid);
  EXPECT_EQ(ParseDigest("sha512:abc").status().code(), Code::kNotSupported);
  EXPECT_EQ(ParseDigest("nocolon").status().code(), Code::kInvalid);
  // sha256("abc")
  EXPECT_EQ(Sha256Of("abc").hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Finish(), Sha256Of("abc"));
  Status s = CheckDigest("blob", Sha256Of("abc"), Sha256Of("abd"));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("digest mismatch"), std::string::npos);
}

}  // namespace
}  // namespace lintel::images
