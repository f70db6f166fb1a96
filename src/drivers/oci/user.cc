#include "drivers/oci/user.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace lintel::drivers::oci {

namespace {

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::optional<uint32_t> ParseId(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > 0xffffffffULL) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::vector<std::string> Split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(std::move(cur));
  return out;
}

// Calls fn with the ':'-separated fields of each line that has at least `min_fields`.
template <typename Fn>
void ForEachEntry(const std::optional<std::string>& text, size_t min_fields, Fn&& fn) {
  if (!text) return;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, ':');
    if (f.size() >= min_fields) fn(f);
  }
}

std::vector<PasswdEntry> ParsePasswd(const std::optional<std::string>& text) {
  std::vector<PasswdEntry> out;
  ForEachEntry(text, 4, [&](const std::vector<std::string>& f) {
    auto uid = ParseId(f[2]);
    auto gid = ParseId(f[3]);
    if (uid && gid) out.push_back({f[0], *uid, *gid, f.size() > 5 ? f[5] : ""});
  });
  return out;
}

std::vector<GroupEntry> ParseGroup(const std::optional<std::string>& text) {
  std::vector<GroupEntry> out;
  ForEachEntry(text, 3, [&](const std::vector<std::string>& f) {
    auto gid = ParseId(f[2]);
    if (!gid) return;
    GroupEntry g{f[0], *gid, {}};
    if (f.size() > 3 && !f[3].empty()) g.members = Split(f[3], ',');
    out.push_back(std::move(g));
  });
  return out;
}

}  // namespace

Result<ResolvedUser> ResolveUser(std::string_view image_user, std::optional<int64_t> run_as_user,
                                 std::optional<int64_t> run_as_group, const UserDatabase& db) {
  const auto passwd = ParsePasswd(db.passwd);
  const auto groups = ParseGroup(db.group);
  std::string user_part(image_user), group_part;
  if (auto colon = user_part.find(':'); colon != std::string::npos) {
    group_part = user_part.substr(colon + 1);
    user_part.resize(colon);
  }
  if (run_as_user) {
    // runAsUser replaces the image's user; its group stays unless runAsGroup is set.
    user_part = std::to_string(*run_as_user);
  }
  if (run_as_group) group_part = std::to_string(*run_as_group);

  ResolvedUser out;
  const PasswdEntry* entry = nullptr;
  if (user_part.empty()) user_part = std::string(1, '0');
  if (auto uid = ParseId(user_part)) {
    out.uid = *uid;
    for (const auto& p : passwd) {
      if (p.uid == *uid) {
        entry = &p;
        break;
      }
    }
  } else {
    for (const auto& p : passwd) {
      if (p.name == user_part) {
        entry = &p;
        break;
      }
    }
    if (!entry) {
      return Invalid("unable to find user " + user_part + ": no matching entries in passwd file");
    }
    out.uid = entry->uid;
  }
  if (entry) {
    out.gid = entry->gid;
    out.home = entry->home;
  }
  if (!group_part.empty()) {
    if (auto gid = ParseId(group_part)) {
      out.gid = *gid;
    } else {
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const GroupEntry& g) { return g.name == group_part; });
      if (it == groups.end()) {
        return Invalid("unable to find group " + group_part +
                       ": no matching entries in group file");
      }
      out.gid = it->gid;
    }
  }
  if (entry) {
    for (const auto& g : groups) {
      if (g.gid == out.gid) continue;
      if (std::find(g.members.begin(), g.members.end(), entry->name) != g.members.end() &&
          std::find(out.additional_gids.begin(), out.additional_gids.end(), g.gid) ==
              out.additional_gids.end()) {
        out.additional_gids.push_back(g.gid);
      }
    }
  }
  return out;
}

}  // namespace lintel::drivers::oci
