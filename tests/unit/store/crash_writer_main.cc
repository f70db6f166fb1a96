// store_crash_writer DB_PATH TAG THREADS: writes to a SqliteStore (sync FULL)
// as fast as it can from THREADS threads until killed, and reports every
// acknowledged write on stdout, one line each:
//
//   <key> <version> <revision>
//
// Version 0 is the key's create; later versions are updates by the same
// thread. Each line is one write(2) of less than PIPE_BUF bytes, so lines are
// whole even when the process is SIGKILLed. Used by store_crash_test.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"
#include "unit/store/crash_value.h"

namespace {

void Report(const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) {
      std::_Exit(3);  // the parent went away
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DB_PATH TAG THREADS\n", argv[0]);
    return 2;
  }
  lintel::store::sqlite::Options options;
  options.path = argv[1];
  std::string tag = argv[2];
  int threads = std::atoi(argv[3]);
  auto store = lintel::store::sqlite::SqliteStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.error().ToString().c_str());
    return 1;
  }
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<std::pair<std::string, int>> mine;  // key, version
      mine.reserve(size_t{1} << 16);
      for (int i = 0;; ++i) {
        if (i % 3 == 2 && !mine.empty()) {
          auto& [key, version] = mine[static_cast<size_t>(i) % mine.size()];
          auto r = (*store)->Update(key, lintel::store::testing::CrashValue(key, version + 1), 0);
          if (!r.ok()) {
            std::_Exit(4);
          }
          ++version;
          Report(key + " " + std::to_string(version) + " " + std::to_string(*r) + "\n");
        } else {
          std::string key = "/crash/" + tag + "/" + std::to_string(t) + "/" + std::to_string(i);
          auto r = (*store)->Create(key, lintel::store::testing::CrashValue(key, 0));
          if (!r.ok()) {
            std::_Exit(4);
          }
          mine.emplace_back(key, 0);
          Report(key + " 0 " + std::to_string(*r) + "\n");
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();  // never: the parent kills us
  }
  return 0;
}
