// Crash test, after leveldb's fault_injection_test: a child process writes to a
// SqliteStore from several threads and reports each acknowledged write; we
// SIGKILL it at a random moment, reopen the store and check that every
// acknowledged write is there, the file is sound and the history is gapless.
// Several rounds on one database. Label: slow. Set LINTEL_TEST_SEED to replay.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"
#include "unit/store/crash_value.h"

extern char** environ;

namespace lintel::store::sqlite {
namespace {

using store::testing::CrashValue;
using store::testing::CrashVersion;

constexpr int kRounds = 5;
constexpr const char* kWriterThreads = "8";

struct Acked {
  int version = -1;
  Revision revision = 0;
};

// Runs the writer until `kill_after` has passed since its first ack, kills it,
// and returns every line it reported.
std::vector<std::string> RunAndKill(const std::string& db, const std::string& tag,
                                    std::chrono::milliseconds kill_after) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::string exe = LINTEL_STORE_CRASH_WRITER;
  std::vector<char*> argv = {exe.data(), const_cast<char*>(db.c_str()),
                             const_cast<char*>(tag.c_str()), const_cast<char*>(kWriterThreads),
                             nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  EXPECT_EQ(rc, 0) << "spawn " << exe;
  if (rc != 0) {
    ::close(fds[0]);
    return {};
  }

  using Clock = std::chrono::steady_clock;
  std::string buffer;
  std::vector<std::string> lines;
  const Clock::time_point give_up = Clock::now() + std::chrono::seconds(60);
  std::optional<Clock::time_point> kill_at;
  bool killed = false;
  while (true) {
    if (!killed && kill_at && Clock::now() >= *kill_at) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    if (!killed && Clock::now() >= give_up) {
      ADD_FAILURE() << "writer made no progress";
      ::kill(pid, SIGKILL);
      killed = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    ::poll(&p, 1, 5);
    if ((p.revents & (POLLIN | POLLHUP)) == 0) {
      continue;
    }
    char chunk[65536];
    ssize_t n = ::read(fds[0], chunk, sizeof(chunk));
    if (n <= 0) {
      break;  // EOF: the writer is dead and the pipe drained
    }
    buffer.append(chunk, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines.push_back(buffer.substr(start, nl - start));
    }
    buffer.erase(0, start);
    if (!kill_at && !lines.empty()) {
      kill_at = Clock::now() + kill_after;
    }
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "writer exited on its own, status " << status;
  return lines;
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

TEST(StoreCrashTest, AcknowledgedWritesSurviveSigkill) {
  uint64_t seed = std::random_device{}();
  // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread runs yet
  if (const char* env = std::getenv("LINTEL_TEST_SEED")) {
    seed = std::strtoull(env, nullptr, 10);
  }
  std::cout << "seed " << seed << " (LINTEL_TEST_SEED=" << seed << " to replay)\n";
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);

  lintel::testing::TempDir dir;
  const std::string db = dir.File("store.db");
  std::map<std::string, Acked> acked;
  Revision verified = 0;  // history up to here was checked in an earlier round

  for (int round = 0; round < kRounds; ++round) {
    auto kill_after = std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 400)(rng));
    SCOPED_TRACE("round " + std::to_string(round) + ", kill after " +
                 std::to_string(kill_after.count()) + "ms");
    std::vector<std::string> lines = RunAndKill(db, "r" + std::to_string(round), kill_after);
    ASSERT_FALSE(lines.empty());
    Revision max_acked = 0;
    for (const std::string& line : lines) {
      std::istringstream in(line);
      std::string key;
      Acked a;
      ASSERT_TRUE(in >> key >> a.version >> a.revision) << "bad line: " << line;
      Acked& slot = acked[key];
      if (a.version > slot.version) {
        slot = a;
      }
      max_acked = std::max(max_acked, a.revision);
    }
    std::cout << "round " << round << ": " << lines.size() << " acknowledged writes, killed after "
              << kill_after.count() << "ms\n";

    ASSERT_EQ(IntegrityCheck(db), "ok");
    Options options;
    options.path = db;
    auto opened = SqliteStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    SqliteStore& store = **opened;
    Revision current = *store.CurrentRevision();
    ASSERT_GE(current, max_acked);

    for (const auto& [key, a] : acked) {
      Result<KeyValue> kv = store.Get(key);
      ASSERT_TRUE(kv.ok()) << key << " (acknowledged at " << a.revision
                           << "): " << kv.status().ToString();
      // A later write may have committed without its ack reaching us.
      ASSERT_GE(kv->mod_revision, a.revision) << key;
      int version = CrashVersion(kv->value);
      ASSERT_EQ(kv->value, CrashValue(key, version)) << key;
      if (kv->mod_revision == a.revision) {
        ASSERT_EQ(version, a.version) << key;
      } else {
        ASSERT_GT(version, a.version) << key;
      }
    }

    // History since the last round is gapless and holds only well-formed writes.
    std::mutex mu;
    std::vector<Revision> revisions;
    bool bad_value = false;
    WatchCallbacks cb;
    cb.on_events = [&](std::vector<Event>&& events) {
      std::lock_guard<std::mutex> l(mu);
      for (const Event& e : events) {
        revisions.push_back(e.revision());
        if (e.kv.value != CrashValue(e.kv.key, CrashVersion(e.kv.value))) {
          bad_value = true;
        }
      }
    };
    auto watch = store.WatchPrefix("/crash/", verified, std::move(cb));
    ASSERT_TRUE(watch.ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> l(mu);
        if (static_cast<Revision>(revisions.size()) >= current - verified) {
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    watch->reset();
    ASSERT_EQ(static_cast<Revision>(revisions.size()), current - verified);
    for (size_t i = 0; i < revisions.size(); ++i) {
      ASSERT_EQ(revisions[i], verified + 1 + static_cast<Revision>(i));
    }
    EXPECT_FALSE(bad_value);
    verified = current;
  }
}

}  // namespace
}  // namespace lintel::store::sqlite
