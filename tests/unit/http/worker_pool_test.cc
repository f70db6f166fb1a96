// WorkerPool's two lanes: urgent tasks first, but never more than four in a
// row while ordinary ones wait.
#include "server/http/worker_pool.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <string>

namespace lintel::http {
namespace {

TEST(WorkerPoolTest, UrgentTasksGoFirstFourToOne) {
  WorkerPool pool;
  pool.Start(1);
  // Hold the only worker until everything is queued.
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> blocked;
  ASSERT_TRUE(pool.Submit([&] {
    blocked.set_value();
    gate.wait();
  }));
  blocked.get_future().wait();
  std::mutex mu;
  std::string order;
  std::promise<void> all_done;
  int left = 12;
  auto task = [&](char c) {
    return [&, c] {
      std::lock_guard<std::mutex> l(mu);
      order += c;
      if (--left == 0) all_done.set_value();
    };
  };
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(pool.Submit(task('n')));
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(pool.Submit(task('U'), /*urgent=*/true));
  release.set_value();
  all_done.get_future().wait();
  pool.Stop();
  EXPECT_EQ(order, "UUUUnUUnnnnn");
}

}  // namespace
}  // namespace lintel::http
