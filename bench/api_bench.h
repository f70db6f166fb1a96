// api_bench: the API server under load, as a separate `lintel server` process
// over TLS, with raw SQLite measured in the same run as the write baseline.
// See bench/README.md, section "API server", for the phases and results.
//
// Threading: each phase runs its own client threads and joins them before it
// returns; nothing here is shared between phases except the server process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "client/kubeconfig.h"
#include "common/status.h"

namespace lintel::bench {

using SteadyClock = std::chrono::steady_clock;

// ---- Statistics (api_bench_stats.cc) ----

struct Percentiles {
  size_t n = 0;
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
};
// Nearest-rank percentiles of `samples` (any unit).
Percentiles Summarize(std::vector<double> samples);
double Median(std::vector<double> samples);
double Seconds(SteadyClock::duration d);
double Millis(SteadyClock::duration d);

// ---- The server process (api_bench_server.cc) ----

// What /proc says about a process.
struct ProcStats {
  size_t rss = 0;  // VmRSS = RssAnon + RssFile + RssShmem
  size_t rss_anon = 0;
  size_t rss_file = 0;
  size_t rss_shmem = 0;
  double cpu_seconds = 0;  // utime + stime
  int threads = 0;
};
Result<ProcStats> ReadProcStats(pid_t pid);

// Forks and execs args[0] with stdout and stderr appended to `log`, its
// descriptor limit raised to the hard limit, and SIGTERM sent to it should
// this process die. Returns the child's pid (-1 if fork failed).
pid_t Spawn(const std::vector<std::string>& args, const std::string& log);
// This process's user + system CPU seconds.
double SelfCpuSeconds();

// `lintel server --data-dir DIR --listen 127.0.0.1:0 --no-user-kubeconfig`, TLS on.
// Stdout and stderr go to DIR/server.log.
class ServerProcess {
 public:
  // Starts the server and waits until it prints "ready at" and has written
  // DIR/kubeconfig. Unavailable if it exits or is not ready within `timeout`.
  static Result<std::unique_ptr<ServerProcess>> Start(const std::string& lintel,
                                                      const std::string& data_dir,
                                                      std::chrono::seconds timeout);
  ~ServerProcess();  // Stop()s
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // SIGTERM, then SIGKILL after 30 s. Idempotent.
  void Stop();
  pid_t pid() const { return pid_; }
  const client::Kubeconfig& kubeconfig() const { return kubeconfig_; }
  // From fork until the kubeconfig was readable.
  double startup_seconds() const { return startup_seconds_; }
  Result<ProcStats> Stats() const { return ReadProcStats(pid_); }

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  std::string data_dir_;
  client::Kubeconfig kubeconfig_;
  double startup_seconds_ = 0;
};

// `perf record -g -p PID` for the lifetime of the object (a no-op if `path` is
// empty). For profiling one phase: api_bench --perf-dir DIR.
class PerfRecording {
 public:
  PerfRecording(pid_t pid, const std::string& path);
  ~PerfRecording();
  PerfRecording(const PerfRecording&) = delete;
  PerfRecording& operator=(const PerfRecording&) = delete;

 private:
  pid_t perf_pid_ = -1;
};

// ---- Raw SQLite baseline (api_bench_sqlite.cc) ----

// Median milliseconds of `count` appends of 4 KiB + fdatasync in a file under
// `dir`: the floor of any durable commit on this disk.
Result<double> FsyncMillis(const std::string& dir, int count);

struct RawInsertResult {
  std::vector<double> rows_per_sec;  // one per repetition
  double median_rows_per_sec = 0;
  double median_ms_per_txn = 0;
};
// Plain INSERTs of `value_size`-byte rows into a two-column table, WAL and
// synchronous=FULL (the store's durability), `batch` rows per transaction, for
// `seconds` in each of `reps` repetitions, each in a fresh file under `dir`.
Result<RawInsertResult> RawSqliteInsert(const std::string& dir, int batch, size_t value_size,
                                        double seconds, int reps);

// ---- HTTP load (api_bench_load.cc) ----

inline constexpr const char* kVmCollection = "/apis/lintel.dev/v1alpha1/namespaces/";

// "/apis/lintel.dev/v1alpha1/namespaces/NS/virtualmachines"
std::string VmPath(const std::string& ns);
// A VirtualMachine of about 1 KiB (labels, annotations, spec), as JSON.
std::string VmBody(const std::string& ns, const std::string& name, uint64_t seq);
// POSTs a Namespace; OK if it exists already.
Status EnsureNamespace(client::HttpClient& http, const std::string& name);

struct CreateRun {
  size_t ok = 0;
  size_t failed = 0;
  std::string first_error;
  double seconds = 0;                // first request sent to last response
  std::vector<double> latencies_ms;  // per successful request
  size_t response_bytes = 0;         // sum of the created objects' JSON
};
// `total` creates of VMs named PREFIX-<i> in `ns` from `threads` threads, each
// with its own keep-alive HttpClient, as fast as they are answered. The
// connections are opened before the clock starts.
CreateRun CreateClosedLoop(const client::HttpClientOptions& options, const std::string& ns,
                           const std::string& prefix, size_t total, int threads);

struct OpenLoopRun {
  size_t ok = 0;
  size_t failed = 0;
  std::string first_error;
  double seconds = 0;
  std::vector<double> latency_ms;  // response time minus the request's scheduled time
  std::vector<double> service_ms;  // response time minus the time it was sent
  size_t late = 0;                 // sent more than 1 ms after their scheduled time
};
// Creates scheduled at `rate` per second for `seconds`, regardless of how fast
// they are answered (open loop), from a pool of `threads` senders. Latency is
// counted from each request's scheduled time, so a stall delays every request
// scheduled during it (no coordinated omission).
OpenLoopRun CreateOpenLoop(const client::HttpClientOptions& options, const std::string& ns,
                           const std::string& prefix, double rate, double seconds, int threads);

struct GetRun {
  std::vector<double> latency_ms;
  size_t failed = 0;
  std::string first_error;
  size_t bytes = 0;  // bodies, total
  size_t items = 0;  // for lists: items in the last response
};
// `count` sequential GETs of `targets[i % size]` on one connection.
GetRun TimeGets(client::HttpClient& http, const std::vector<std::string>& targets, size_t count);

// ---- Watch fan-out (api_bench_watch.cc) ----

struct WatchFleetOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string ca_pem;
  std::string token;
  std::string target;  // path and query of the watch request
  size_t watchers = 10000;
  size_t connect_concurrency = 256;  // handshakes in flight
};

// Many watches on one Asio thread, each over its own TLS connection. Counts
// the watch events ('}' '\n' ends each JSON line) that each connection gets.
class WatchFleet {
 public:
  // Blocks until every watch has its response head (200), or fails.
  static Result<std::unique_ptr<WatchFleet>> Open(WatchFleetOptions options,
                                                  std::chrono::seconds timeout);
  ~WatchFleet();  // closes every connection and joins the thread
  WatchFleet(const WatchFleet&) = delete;
  WatchFleet& operator=(const WatchFleet&) = delete;

  struct Arrival {
    SteadyClock::time_point first;  // the first watcher had its n-th event
    SteadyClock::time_point last;   // every watcher had its n-th event
  };
  // Blocks until every watcher has had `n` events (n >= 1); Timeout otherwise.
  Result<Arrival> WaitForEvents(uint64_t n, std::chrono::milliseconds timeout);
  double open_seconds() const;
  size_t broken() const;  // connections that failed or closed after their head

  class Impl;

 private:
  explicit WatchFleet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lintel::bench
