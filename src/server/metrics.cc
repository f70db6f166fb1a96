#include "server/metrics.h"

#include <prometheus/text_serializer.h>

namespace lintel::server {

namespace {
const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const kBuckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *kBuckets;
}
}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("apiserver_request_total")
                   .Help("API requests by verb, resource and HTTP code.")
                   .Register(*registry_);
  durations_ = &prometheus::BuildHistogram()
                    .Name("apiserver_request_duration_seconds")
                    .Help("API request latency by verb and resource (watches excluded).")
                    .Register(*registry_);
  store_durations_ = &prometheus::BuildHistogram()
                          .Name("lintel_store_request_duration_seconds")
                          .Help("Store call latency by operation.")
                          .Register(*registry_);
  watch_events_ = &prometheus::BuildCounter()
                       .Name("apiserver_watch_events_total")
                       .Help("Events applied to the watch cache, by resource.")
                       .Register(*registry_);
  watchers_ = &prometheus::BuildGauge()
                   .Name("apiserver_registered_watchers")
                   .Help("Watchers currently registered.")
                   .Register(*registry_)
                   .Add({});
  store_revision_ = &prometheus::BuildGauge()
                         .Name("lintel_store_revision")
                         .Help("The store's current revision.")
                         .Register(*registry_)
                         .Add({});
  objects_ = &prometheus::BuildGauge()
                  .Name("lintel_store_objects")
                  .Help("Objects held by the watch cache.")
                  .Register(*registry_)
                  .Add({});
  scheduler_decisions_ = &prometheus::BuildGauge()
                              .Name("lintel_scheduler_decisions")
                              .Help("Scheduling outcomes since the server started, by result.")
                              .Register(*registry_);
  scheduler_queue_ = &prometheus::BuildGauge()
                          .Name("lintel_scheduler_queue")
                          .Help("Workloads waiting for a decision (pending) or for room "
                                "(parked: unschedulable, retried on change).")
                          .Register(*registry_);
}

void Metrics::ObserveRequest(const std::string& verb, const std::string& resource, int code,
                             double seconds) {
  requests_->Add({{"verb", verb}, {"resource", resource}, {"code", std::to_string(code)}})
      .Increment();
  if (verb != "WATCH") {
    durations_->Add({{"verb", verb}, {"resource", resource}}, LatencyBuckets()).Observe(seconds);
  }
}

void Metrics::ObserveStore(const std::string& operation, double seconds) {
  store_durations_->Add({{"operation", operation}}, LatencyBuckets()).Observe(seconds);
}

void Metrics::CountWatchEvent(const std::string& resource) {
  watch_events_->Add({{"resource", resource}}).Increment();
}

std::string Metrics::Render() {
  if (sampler_) sampler_(*this);
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

void Metrics::SetScheduler(const SchedulerSample& s) {
  scheduler_decisions_->Add({{"result", "decided"}}).Set(s.decisions);
  scheduler_decisions_->Add({{"result", "bound"}}).Set(s.bound);
  scheduler_decisions_->Add({{"result", "unschedulable"}}).Set(s.unschedulable);
  scheduler_decisions_->Add({{"result", "conflict"}}).Set(s.conflicts);
  scheduler_decisions_->Add({{"result", "preempted"}}).Set(s.preempted);
  scheduler_queue_->Add({{"queue", "pending"}}).Set(s.pending);
  scheduler_queue_->Add({{"queue", "parked"}}).Set(s.parked);
}

}  // namespace lintel::server
