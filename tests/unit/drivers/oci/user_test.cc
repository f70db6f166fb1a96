#include "drivers/oci/user.h"

#include <gtest/gtest.h>

namespace lintel::drivers::oci {
namespace {

const UserDatabase kDb{
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "app:x:1000:1001:App:/home/app:/bin/sh\n"
    "broken:line\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "root:x:0:\n"
    "appgrp:x:1001:\n"
    "wheel:x:10:root,app\n"
    "video:x:44:app\n"
    "nogroup:x:65534:\n"};

TEST(ResolveUserTest, Table) {
  struct Case {
    const char* name;
    const char* image_user;
    std::optional<int64_t> run_as_user, run_as_group;
    ResolvedUser want;
  } cases[] = {
      {"empty is root", "", std::nullopt, std::nullopt, {0, 0, {10}, "/root"}},
      {"name", "app", std::nullopt, std::nullopt, {1000, 1001, {10, 44}, "/home/app"}},
      {"uid in passwd", "1000", std::nullopt, std::nullopt, {1000, 1001, {10, 44}, "/home/app"}},
      {"uid not in passwd", "4242", std::nullopt, std::nullopt, {4242, 0, {}, ""}},
      {"uid:gid", "4242:77", std::nullopt, std::nullopt, {4242, 77, {}, ""}},
      {"name:group", "app:video", std::nullopt, std::nullopt, {1000, 44, {10}, "/home/app"}},
      {"runAsUser wins", "app", 65534, std::nullopt, {65534, 65534, {}, "/nonexistent"}},
      {"runAsGroup wins", "app", std::nullopt, 5, {1000, 5, {10, 44}, "/home/app"}},
      {"runAsUser keeps image group", "app:video", 4242, std::nullopt, {4242, 44, {}, ""}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = ResolveUser(c.image_user, c.run_as_user, c.run_as_group, kDb);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(got->uid, c.want.uid);
    EXPECT_EQ(got->gid, c.want.gid);
    EXPECT_EQ(got->additional_gids, c.want.additional_gids);
    EXPECT_EQ(got->home, c.want.home);
  }
}

TEST(ResolveUserTest, UnknownNamesAreInvalid) {
  auto u = ResolveUser("ghost", std::nullopt, std::nullopt, kDb);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().message(), "unable to find user ghost: no matching entries in passwd file");
  auto g = ResolveUser("app:ghosts", std::nullopt, std::nullopt, kDb);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message().find("unable to find group ghosts"), std::string::npos);
  // An image without /etc/passwd: numbers work, names do not.
  UserDatabase none;
  EXPECT_TRUE(ResolveUser("12:34", std::nullopt, std::nullopt, none).ok());
  EXPECT_FALSE(ResolveUser("app", std::nullopt, std::nullopt, none).ok());
}

}  // namespace
}  // namespace lintel::drivers::oci
