// The Store conformance suite: what every Store implementation must do, written
// only against store/store.h so that SqliteStore and a future etcd store pass
// the same tests (tests/unit/store/conformance_*.cc).
//
// An implementation's test binary links the `store_conformance` object library
// and instantiates the suite with a harness:
//
//   class MyHarness : public lintel::store::testing::StoreHarness { ... };
//   INSTANTIATE_TEST_SUITE_P(Mine, StoreConformanceTest,
//       ::testing::Values(StoreHarnessFactory{"mine", [] { return std::make_unique<MyHarness>();
//       }}), StoreHarnessFactory::Name);
//
// Each test gets a fresh harness (its own data), so tests may run in any order.
// The suite waits for asynchronous effects (events, lease expiry) by polling
// with a deadline (StoreHarness::Patience), never by sleeping a fixed time.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace lintel::store::testing {

// What the suite needs from an implementation besides the Store itself.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;

  // Opens the store under test. With SupportsReopen(), calling it again after
  // the previous store was destroyed must open the same data.
  virtual Result<std::unique_ptr<Store>> Open() = 0;
  // Whether data survive destroying the store and opening it again.
  virtual bool SupportsReopen() const = 0;
  // Moves the store's notion of time forward by `d`: advances a FakeClock, or
  // sleeps for a store on real time.
  virtual void AdvanceTime(std::chrono::milliseconds d) = 0;
  // The lease TTL the lease tests use. They advance time by fractions of it
  // (0.5, 0.6), so a real-time store picks something a few seconds long.
  virtual std::chrono::milliseconds LeaseTtl() const { return std::chrono::seconds(10); }
  // How long (real time) to wait for an asynchronous effect before failing.
  virtual std::chrono::milliseconds Patience() const { return std::chrono::seconds(20); }
};

struct StoreHarnessFactory {
  std::string name;
  std::function<std::unique_ptr<StoreHarness>()> make;

  // For INSTANTIATE_TEST_SUITE_P's name generator.
  static std::string Name(const ::testing::TestParamInfo<StoreHarnessFactory>& info) {
    return info.param.name;
  }
  friend void PrintTo(const StoreHarnessFactory& f, std::ostream* os) { *os << f.name; }
};

// Records what a watch delivers; thread-safe. Must outlive the watch.
class WatchRecorder {
 public:
  WatchCallbacks Callbacks();

  // True once at least `n` events arrived (false after `timeout`).
  bool WaitForEvents(size_t n, std::chrono::milliseconds timeout);
  // True once on_error was called (false after `timeout`).
  bool WaitForError(std::chrono::milliseconds timeout);

  std::vector<Event> Events() const;
  std::vector<Revision> Revisions() const;
  std::optional<Status> Error() const;
  size_t Calls() const;
  // Problems seen: concurrent callbacks, events after on_error, a second on_error,
  // revisions out of order.
  std::vector<std::string> Violations() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  std::optional<Status> error_;
  size_t calls_ = 0;
  bool in_callback_ = false;
  std::vector<std::string> violations_;
};

// Polls `done` every millisecond until it returns true or `timeout` passes.
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout);

class StoreConformanceTest : public ::testing::TestWithParam<StoreHarnessFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::chrono::milliseconds Patience() const { return harness_->Patience(); }

  // Destroys the store and opens it again (only with SupportsReopen()).
  void Reopen();

  // Asserting shorthands: the write must succeed; returns its revision.
  Revision MustCreate(const std::string& key, const std::string& value, LeaseId lease = 0);
  Revision MustUpdate(const std::string& key, const std::string& value, Revision expected = 0,
                      LeaseId lease = 0);
  Revision MustDelete(const std::string& key, Revision expected = 0);
  Revision MustCurrentRevision();
  std::vector<std::string> Keys(const ListResult& r) const;
  // Lists every key under `prefix` at `revision` in one call.
  ListResult MustList(const std::string& prefix, Revision revision = 0);
  // Expects a watch from `after` to be refused with Gone, either by WatchPrefix
  // or by on_error right after.
  void ExpectWatchGone(const std::string& prefix, Revision after);

  // Leases: the harness's TTL, fractions of it, grants that must succeed.
  std::chrono::milliseconds LeaseTtl() { return harness_->LeaseTtl(); }
  std::chrono::milliseconds Fraction(double f);
  LeaseId MustGrant(std::chrono::milliseconds ttl);
  bool Absent(const std::string& key);
  // Waits (with Patience()) until `key` is gone, e.g. after its lease expired.
  bool WaitGone(const std::string& key);

  // Fresh for each test; store_ is reopened by Reopen().
  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<Store> store_;
};

}  // namespace lintel::store::testing
