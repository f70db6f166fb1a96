// Metrics: the API server's Prometheus metrics (prometheus-cpp core), served
// as text at /metrics. Thread-safe.
//
//   apiserver_request_total{verb,resource,code}
//   apiserver_request_duration_seconds{verb,resource}     (histogram)
//   apiserver_registered_watchers{}                        (gauge, sampled at scrape)
//   apiserver_watch_events_total{resource}
//   lintel_store_request_duration_seconds{operation}       (histogram)
//   lintel_store_objects{} / lintel_store_revision{}       (gauges, sampled at scrape)
//   lintel_scheduler_decisions{result}  (bound, unschedulable, conflict, preempted;
//                                        sampled at scrape from the scheduler's counters)
//   lintel_scheduler_queue{queue}       (pending, parked; sampled at scrape)
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>

namespace lintel::server {

class Metrics {
 public:
  Metrics();

  void ObserveRequest(const std::string& verb, const std::string& resource, int code,
                      double seconds);
  void ObserveStore(const std::string& operation, double seconds);
  void CountWatchEvent(const std::string& resource);
  // Called at each scrape to refresh sampled gauges.
  void SetSampler(std::function<void(Metrics&)> sampler) { sampler_ = std::move(sampler); }
  void SetWatchers(double n) { watchers_->Set(n); }
  void SetStoreRevision(double rv) { store_revision_->Set(rv); }
  void SetObjects(double n) { objects_->Set(n); }
  // The scheduler's counters (monotonic, so exposed as counters' values).
  struct SchedulerSample {
    double decisions = 0, bound = 0, unschedulable = 0, conflicts = 0, preempted = 0;
    double pending = 0, parked = 0;
  };
  void SetScheduler(const SchedulerSample& s);

  // The text exposition format.
  std::string Render();

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* durations_;
  prometheus::Family<prometheus::Histogram>* store_durations_;
  prometheus::Family<prometheus::Counter>* watch_events_;
  prometheus::Gauge* watchers_;
  prometheus::Gauge* store_revision_;
  prometheus::Gauge* objects_;
  prometheus::Family<prometheus::Gauge>* scheduler_decisions_;
  prometheus::Family<prometheus::Gauge>* scheduler_queue_;
  std::function<void(Metrics&)> sampler_;
};

}  // namespace lintel::server
