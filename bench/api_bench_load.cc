// HTTP load on the API server: closed-loop and open-loop creates, timed reads.
#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <thread>

#include "api_bench.h"
#include "common/json.h"

namespace lintel::bench {

namespace {

const client::HttpHeaders& JsonHeaders() {
  static const client::HttpHeaders* const headers =
      new client::HttpHeaders{{"Content-Type", "application/json"}};
  return *headers;
}

// What one client thread saw; merged once the threads are joined.
struct ThreadResult {
  size_t ok = 0;
  size_t failed = 0;
  std::string first_error;
  std::vector<double> latency_ms;
  std::vector<double> service_ms;
  size_t bytes = 0;
  size_t late = 0;
  SteadyClock::time_point last_done{};
};

void NoteError(ThreadResult* r, const std::string& what) {
  ++r->failed;
  if (r->first_error.empty()) {
    r->first_error = what;
  }
}

// One POST; true on 201.
bool CreateOne(client::HttpClient& http, const std::string& path, const std::string& ns,
               const std::string& name, uint64_t seq, ThreadResult* r) {
  auto resp = http.Do("POST", path, JsonHeaders(), VmBody(ns, name, seq));
  if (!resp.ok()) {
    NoteError(r, resp.error().ToString());
    return false;
  }
  if (resp->status != 201) {
    NoteError(r, "HTTP " + std::to_string(resp->status) + ": " + resp->body.substr(0, 300));
    return false;
  }
  ++r->ok;
  r->bytes += resp->body.size();
  return true;
}

// Runs `body(client, result)` on `threads` threads, each with its own client
// whose connection is open (a GET /healthz) before `body` starts. Returns the
// results and the time at which all threads were released.
template <typename Body>
std::vector<ThreadResult> RunThreads(const client::HttpClientOptions& options, int threads,
                                     SteadyClock::time_point* started, Body body) {
  std::vector<ThreadResult> results(static_cast<size_t>(threads));
  std::latch ready(threads + 1);
  std::latch go(1);
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ThreadResult& r = results[static_cast<size_t>(t)];
      client::HttpClientOptions o = options;
      o.max_idle_connections = 1;
      auto http = client::HttpClient::Create(o);
      if (http.ok()) {
        auto warm = (*http)->Do("GET", "/healthz");
        if (!warm.ok()) {
          NoteError(&r, "warm-up: " + warm.error().ToString());
        }
      } else {
        NoteError(&r, http.error().ToString());
      }
      ready.count_down();
      go.wait();
      if (http.ok()) {
        body(**http, &r);
      }
      r.last_done = SteadyClock::now();
    });
  }
  ready.arrive_and_wait();
  *started = SteadyClock::now();
  go.count_down();
  for (auto& th : pool) {
    th.join();
  }
  return results;
}

}  // namespace

std::string VmPath(const std::string& ns) {
  return std::string(kVmCollection) + ns + "/virtualmachines";
}

std::string VmBody(const std::string& ns, const std::string& name, uint64_t seq) {
  // About what a real VM carries: a few recommended labels, an owner and a
  // change-ticket annotation, a description. With the server's metadata (uid,
  // timestamps, managedFields) and spec defaults the stored JSON is ~1 KiB.
  std::string s;
  s.reserve(900);
  s += R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine","metadata":{"name":")";
  s += name;
  s += R"(","namespace":")";
  s += ns;
  s += R"(","labels":{"app.kubernetes.io/name":"web","app.kubernetes.io/part-of":"shop",)";
  s += R"("app.kubernetes.io/managed-by":"api-bench","tier":"frontend","shard":"s)";
  s += std::to_string(seq % 64);
  s += R"("},"annotations":{"lintel.dev/owner":"team-platform@example.com",)";
  s += R"("lintel.dev/change":"OPS-)";
  s += std::to_string(10000 + seq % 90000);
  s += R"(","description":"Front-end web server for the shop; )";
  s += R"(stateless, safe to restart or live-migrate at any time; page the platform team )";
  s += R"(on failures."}},"spec":{"image":"tiny","cpu":1,"memory":"256Mi"}})";
  return s;
}

Status EnsureNamespace(client::HttpClient& http, const std::string& name) {
  std::string body =
      R"({"apiVersion":"lintel.dev/v1alpha1","kind":"Namespace","metadata":{"name":")" + name + R"("}})";
  LINTEL_ASSIGN_OR_RETURN(client::HttpResponse resp,
                          http.Do("POST", "/apis/lintel.dev/v1alpha1/namespaces", JsonHeaders(), body));
  if (resp.status != 201 && resp.status != 409) {
    return Internal("create namespace " + name + ": HTTP " + std::to_string(resp.status) + ": " +
                    resp.body);
  }
  return Status();
}

CreateRun CreateClosedLoop(const client::HttpClientOptions& options, const std::string& ns,
                           const std::string& prefix, size_t total, int threads) {
  const std::string path = VmPath(ns);
  std::atomic<size_t> next{0};
  SteadyClock::time_point started;
  auto results = RunThreads(options, threads, &started, [&](client::HttpClient& http,
                                                            ThreadResult* r) {
    for (size_t i = next.fetch_add(1); i < total; i = next.fetch_add(1)) {
      auto t0 = SteadyClock::now();
      if (CreateOne(http, path, ns, prefix + "-" + std::to_string(i), i, r)) {
        r->latency_ms.push_back(Millis(SteadyClock::now() - t0));
      }
    }
  });
  CreateRun out;
  SteadyClock::time_point last = started;
  for (auto& r : results) {
    out.ok += r.ok;
    out.failed += r.failed;
    if (out.first_error.empty()) {
      out.first_error = r.first_error;
    }
    out.latencies_ms.insert(out.latencies_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    out.response_bytes += r.bytes;
    last = std::max(last, r.last_done);
  }
  out.seconds = Seconds(last - started);
  return out;
}

OpenLoopRun CreateOpenLoop(const client::HttpClientOptions& options, const std::string& ns,
                           const std::string& prefix, double rate, double seconds, int threads) {
  const std::string path = VmPath(ns);
  const size_t total = static_cast<size_t>(rate * seconds);
  std::atomic<size_t> next{0};
  SteadyClock::time_point started;
  // The schedule starts a little after the threads are released.
  constexpr auto kLead = std::chrono::milliseconds(50);
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  auto results = RunThreads(options, threads, &started, [&](client::HttpClient& http,
                                                            ThreadResult* r) {
    const SteadyClock::time_point t0 = started + kLead;
    for (size_t i = next.fetch_add(1); i < total; i = next.fetch_add(1)) {
      auto scheduled =
          t0 + std::chrono::duration_cast<SteadyClock::duration>(interval * static_cast<double>(i));
      std::this_thread::sleep_until(scheduled);
      auto sent = SteadyClock::now();
      if (sent - scheduled > std::chrono::milliseconds(1)) {
        ++r->late;
      }
      if (CreateOne(http, path, ns, prefix + "-" + std::to_string(i), i, r)) {
        auto done = SteadyClock::now();
        r->latency_ms.push_back(Millis(done - scheduled));
        r->service_ms.push_back(Millis(done - sent));
      }
    }
  });
  OpenLoopRun out;
  SteadyClock::time_point last = started + kLead;
  for (auto& r : results) {
    out.ok += r.ok;
    out.failed += r.failed;
    out.late += r.late;
    if (out.first_error.empty()) {
      out.first_error = r.first_error;
    }
    out.latency_ms.insert(out.latency_ms.end(), r.latency_ms.begin(), r.latency_ms.end());
    out.service_ms.insert(out.service_ms.end(), r.service_ms.begin(), r.service_ms.end());
    last = std::max(last, r.last_done);
  }
  out.seconds = Seconds(last - (started + kLead));
  return out;
}

GetRun TimeGets(client::HttpClient& http, const std::vector<std::string>& targets, size_t count) {
  GetRun out;
  out.latency_ms.reserve(count);
  std::string last_body;
  for (size_t i = 0; i < count; ++i) {
    auto t0 = SteadyClock::now();
    auto resp = http.Do("GET", targets[i % targets.size()]);
    auto t1 = SteadyClock::now();
    if (!resp.ok() || resp->status != 200) {
      ++out.failed;
      if (out.first_error.empty()) {
        out.first_error = resp.ok() ? "HTTP " + std::to_string(resp->status) + ": " +
                                          resp->body.substr(0, 300)
                                    : resp.error().ToString();
      }
      continue;
    }
    out.latency_ms.push_back(Millis(t1 - t0));
    out.bytes += resp->body.size();
    if (i + 1 == count) {
      last_body = std::move(resp->body);
    }
  }
  auto parsed = ParseJson(last_body);
  if (parsed.ok() && parsed->is_object() && parsed->contains("items") &&
      (*parsed)["items"].is_array()) {
    out.items = (*parsed)["items"].size();
  }
  return out;
}

}  // namespace lintel::bench
