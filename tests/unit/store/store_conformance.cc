#include "unit/store/store_conformance.h"

#include <utility>

namespace lintel::store::testing {

WatchCallbacks WatchRecorder::Callbacks() {
  WatchCallbacks cb;
  cb.on_events = [this](std::vector<Event>&& events) {
    std::lock_guard<std::mutex> l(mu_);
    if (in_callback_) {
      violations_.push_back("concurrent callbacks");
    }
    if (error_) {
      violations_.push_back("events after on_error");
    }
    if (events.empty()) {
      violations_.push_back("empty on_events");
    }
    ++calls_;
    for (Event& e : events) {
      if (!events_.empty() && e.revision() < events_.back().revision()) {
        violations_.push_back("revision " + std::to_string(e.revision()) + " after " +
                              std::to_string(events_.back().revision()));
      }
      events_.push_back(std::move(e));
    }
    cv_.notify_all();
  };
  cb.on_error = [this](const Status& s) {
    std::lock_guard<std::mutex> l(mu_);
    if (error_) {
      violations_.push_back("second on_error: " + s.ToString());
    }
    error_ = s;
    cv_.notify_all();
  };
  return cb;
}

bool WatchRecorder::WaitForEvents(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return events_.size() >= n; });
}

bool WatchRecorder::WaitForError(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return error_.has_value(); });
}

std::vector<Event> WatchRecorder::Events() const {
  std::lock_guard<std::mutex> l(mu_);
  return events_;
}

std::vector<Revision> WatchRecorder::Revisions() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Revision> revs;
  for (const Event& e : events_) {
    revs.push_back(e.revision());
  }
  return revs;
}

std::optional<Status> WatchRecorder::Error() const {
  std::lock_guard<std::mutex> l(mu_);
  return error_;
}

size_t WatchRecorder::Calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

std::vector<std::string> WatchRecorder::Violations() const {
  std::lock_guard<std::mutex> l(mu_);
  return violations_;
}

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void StoreConformanceTest::SetUp() {
  harness_ = GetParam().make();
  ASSERT_NE(harness_, nullptr);
  Result<std::unique_ptr<Store>> s = harness_->Open();
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  store_ = std::move(*s);
}

void StoreConformanceTest::TearDown() {
  store_.reset();
  harness_.reset();
}

void StoreConformanceTest::Reopen() {
  store_.reset();
  Result<std::unique_ptr<Store>> s = harness_->Open();
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  store_ = std::move(*s);
}

Revision StoreConformanceTest::MustCreate(const std::string& key, const std::string& value,
                                          LeaseId lease) {
  Result<Revision> r = store_->Create(key, value, lease);
  EXPECT_TRUE(r.ok()) << "create " << key << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

Revision StoreConformanceTest::MustUpdate(const std::string& key, const std::string& value,
                                          Revision expected, LeaseId lease) {
  Result<Revision> r = store_->Update(key, value, expected, lease);
  EXPECT_TRUE(r.ok()) << "update " << key << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

Revision StoreConformanceTest::MustDelete(const std::string& key, Revision expected) {
  Result<Revision> r = store_->Delete(key, expected);
  EXPECT_TRUE(r.ok()) << "delete " << key << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

Revision StoreConformanceTest::MustCurrentRevision() {
  Result<Revision> r = store_->CurrentRevision();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : 0;
}

std::vector<std::string> StoreConformanceTest::Keys(const ListResult& r) const {
  std::vector<std::string> keys;
  for (const KeyValue& kv : r.kvs) {
    keys.push_back(kv.key);
  }
  return keys;
}

ListResult StoreConformanceTest::MustList(const std::string& prefix, Revision revision) {
  ListOptions o;
  o.revision = revision;
  Result<ListResult> r = store_->List(prefix, o);
  EXPECT_TRUE(r.ok()) << "list " << prefix << "@" << revision << ": " << r.status().ToString();
  return r.ok() ? std::move(*r) : ListResult{};
}

void StoreConformanceTest::ExpectWatchGone(const std::string& prefix, Revision after) {
  WatchRecorder rec;
  Result<std::unique_ptr<Watch>> w = store_->WatchPrefix(prefix, after, rec.Callbacks());
  if (!w.ok()) {
    EXPECT_EQ(w.error().code(), Code::kGone) << w.error().ToString();
    return;
  }
  ASSERT_TRUE(rec.WaitForError(Patience())) << "watch from " << after << " was not refused";
  EXPECT_EQ(rec.Error()->code(), Code::kGone) << rec.Error()->ToString();
  EXPECT_TRUE(rec.Events().empty());
}

std::chrono::milliseconds StoreConformanceTest::Fraction(double f) {
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(LeaseTtl().count()) * f));
}

LeaseId StoreConformanceTest::MustGrant(std::chrono::milliseconds ttl) {
  Result<LeaseId> id = store_->GrantLease(ttl);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  if (!id.ok()) {
    return 0;
  }
  EXPECT_NE(*id, 0);
  return *id;
}

bool StoreConformanceTest::Absent(const std::string& key) {
  return store_->Get(key).status().code() == Code::kNotFound;
}

bool StoreConformanceTest::WaitGone(const std::string& key) {
  return Eventually([&] { return Absent(key); }, Patience());
}

}  // namespace lintel::store::testing
