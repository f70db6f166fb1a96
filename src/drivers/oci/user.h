// The user a container runs as: the image's `User` ("", "uid", "uid:gid",
// "name", "name:group", ...) or the container's securityContext runAsUser /
// runAsGroup, resolved against the image's /etc/passwd and /etc/group the way
// docker and runc do (names must exist; numbers need not; the primary group
// comes from the passwd entry when the group is not given; supplementary
// groups from /etc/group membership).
//
// Pure functions over the files' text; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lintel::drivers::oci {

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  std::string home;  // from passwd; empty if unknown
  bool operator==(const ResolvedUser&) const = default;
};

struct UserDatabase {
  std::optional<std::string> passwd;  // text of /etc/passwd; nullopt: the image has none
  std::optional<std::string> group;   // text of /etc/group
};

// Invalid with docker's wording ("unable to find user NAME: no matching entries in passwd
// file") when a name cannot be resolved.
Result<ResolvedUser> ResolveUser(std::string_view image_user, std::optional<int64_t> run_as_user,
                                 std::optional<int64_t> run_as_group, const UserDatabase& db);

}  // namespace lintel::drivers::oci
