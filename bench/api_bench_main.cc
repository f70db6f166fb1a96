// api_bench: the API server under load, measured against raw SQLite in the
// same run. Prints a Markdown report (bench/README.md, "API server").
//
//   api_bench [--quick] [--lintel PATH] [--work DIR] [--report FILE] [--perf-dir DIR]
//
// Phases, in order, against one `lintel server` child process over TLS:
//   1. disk and raw SQLite baselines (fdatasync; INSERTs 1 and 64 per txn)
//   2. creates, closed loop, 64 clients
//   3. creates, open loop at a fixed rate (latency from the scheduled time)
//   4. reads: get, paged list, selector list, full list
//   5. watch fan-out: W watchers over their own TLS connections, E events
//   6. memory: server RSS growth per 100,000 stored objects
// --quick runs every phase small (seconds) for CI (ctest label "bench"); it
// fails if any request fails, so a broken path cannot report a number.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api_bench.h"
#include "common/json.h"

namespace lintel::bench {
namespace {

struct Config {
  bool quick = false;
  std::string lintel;
  std::string work;
  std::string report;
  std::string perf_dir;
  size_t creates = 0;  // overrides the closed-loop create count
  size_t objects = 0;  // overrides the memory phase's object count
};

struct Sizes {
  int fsync_count;
  double sqlite_seconds;
  int sqlite_reps;
  size_t closed_total;
  int closed_threads;
  double open_rate;
  double open_seconds;
  int open_threads;
  size_t gets;
  size_t lists;
  size_t watchers;
  int watch_events;
  size_t memory_objects;  // objects stored when memory is measured
};

Sizes SizesFor(bool quick) {
  if (quick) {
    return Sizes{50, 0.5, 1, 2000, 64, 500, 2, 32, 1000, 100, 500, 5, 5000};
  }
  return Sizes{200, 3, 3, 20000, 64, 2000, 10, 128, 5000, 1000, 10000, 20, 100000};
}

class Report {
 public:
  void Line(const std::string& s) {
    out_ << s << "\n";
    std::cout << s << "\n" << std::flush;
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}
std::string Ms(double v) { return Fmt(v < 10 ? "%.2f" : "%.1f", v); }
std::string Mib(size_t bytes) { return Fmt("%.1f", static_cast<double>(bytes) / (1 << 20)); }

std::string LatencyRow(const std::string& what, const Percentiles& p) {
  return "| " + what + " | " + std::to_string(p.n) + " | " + Ms(p.p50) + " | " + Ms(p.p90) +
         " | " + Ms(p.p99) + " | " + Ms(p.p999) + " | " + Ms(p.max) + " |";
}

int Failed(const std::string& phase, size_t failed, const std::string& first_error) {
  if (failed == 0) return 0;
  std::cerr << "api_bench: " << phase << ": " << failed << " request(s) failed; first: "
            << first_error << "\n";
  return 1;
}

// Raises this process's descriptor limit to the hard limit (watch fan-out).
size_t RaiseFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

int Run(const Config& cfg) {
  Sizes sz = SizesFor(cfg.quick);
  if (cfg.creates) sz.closed_total = cfg.creates;
  if (cfg.objects) sz.memory_objects = cfg.objects;
  Report r;
  int failures = 0;
  std::filesystem::create_directories(cfg.work);
  const size_t fd_limit = RaiseFdLimit();
  r.Line(std::string("### API server benchmark (") + (cfg.quick ? "quick" : "full") + " run, " +
         std::to_string(std::thread::hardware_concurrency()) + " cores)");
  r.Line("");

  // ---- 1. Baselines ----
  auto fsync_ms = FsyncMillis(cfg.work, sz.fsync_count);
  auto raw1 = RawSqliteInsert(cfg.work, 1, 1024, sz.sqlite_seconds, sz.sqlite_reps);
  auto raw64 = RawSqliteInsert(cfg.work, 64, 1024, sz.sqlite_seconds, sz.sqlite_reps);
  if (!fsync_ms.ok() || !raw1.ok() || !raw64.ok()) {
    std::cerr << "api_bench: baseline failed: "
              << (!fsync_ms.ok() ? fsync_ms.error() : !raw1.ok() ? raw1.error() : raw64.error())
                     .ToString()
              << "\n";
    return 1;
  }
  r.Line("Baselines on this disk, same run:");
  r.Line("");
  r.Line("| baseline | median |");
  r.Line("|---|---|");
  r.Line("| 4 KiB append + fdatasync | " + Ms(*fsync_ms) + " ms |");
  r.Line("| raw SQLite, WAL, synchronous=FULL, 1 insert/txn | " +
         Fmt("%.0f", raw1->median_rows_per_sec) + " rows/s |");
  r.Line("| raw SQLite, same, 64 inserts/txn | " + Fmt("%.0f", raw64->median_rows_per_sec) +
         " rows/s |");
  r.Line("");

  // ---- Server ----
  auto server = ServerProcess::Start(cfg.lintel, cfg.work + "/server", std::chrono::seconds(60));
  if (!server.ok()) {
    std::cerr << "api_bench: " << server.error().ToString() << "\n";
    return 1;
  }
  ServerProcess& srv = **server;
  client::HttpClientOptions http_opts = srv.kubeconfig().ToHttpClientOptions();
  auto admin = client::HttpClient::Create(http_opts);
  if (!admin.ok()) {
    std::cerr << "api_bench: " << admin.error().ToString() << "\n";
    return 1;
  }
  for (const char* ns : {"bench", "open", "fanout", "fill"}) {
    if (Status s = EnsureNamespace(**admin, ns); !s.ok()) {
      std::cerr << "api_bench: " << s.ToString() << "\n";
      return 1;
    }
  }
  auto idle = srv.Stats();
  r.Line("Server started in " + Fmt("%.2f", srv.startup_seconds()) + " s; idle RSS " +
         Mib(idle.ok() ? idle->rss : 0) + " MiB.");
  r.Line("");

  // ---- 2. Closed-loop creates ----
  auto cpu0 = srv.Stats();
  const double self0 = SelfCpuSeconds();
  CreateRun closed;
  {
    PerfRecording perf(srv.pid(), cfg.perf_dir.empty() ? "" : cfg.perf_dir + "/create.data");
    closed = CreateClosedLoop(http_opts, "bench", "vm", sz.closed_total, sz.closed_threads);
  }
  auto cpu1 = srv.Stats();
  const double client_cpu = SelfCpuSeconds() - self0;
  failures += Failed("closed-loop creates", closed.failed, closed.first_error);
  const double create_rate = closed.seconds > 0 ? closed.ok / closed.seconds : 0;
  const double server_cpu =
      cpu0.ok() && cpu1.ok() ? cpu1->cpu_seconds - cpu0->cpu_seconds : 0;
  r.Line("#### Creates, closed loop (" + std::to_string(sz.closed_threads) + " clients, " +
         std::to_string(closed.ok) + " VirtualMachines of ~1 KiB)");
  r.Line("");
  r.Line("| measure | value |");
  r.Line("|---|---|");
  r.Line("| throughput | " + Fmt("%.0f", create_rate) + " creates/s |");
  r.Line("| vs raw SQLite 1 insert/txn | " +
         Fmt("%.2f", create_rate / raw1->median_rows_per_sec) + "x |");
  r.Line("| vs raw SQLite 64 inserts/txn | " +
         Fmt("%.2f", create_rate / raw64->median_rows_per_sec) + "x |");
  r.Line("| server CPU per create | " +
         Fmt("%.0f", closed.ok ? server_cpu / closed.ok * 1e6 : 0) + " µs |");
  r.Line("| load generator CPU per create (same 2 cores) | " +
         Fmt("%.0f", closed.ok ? client_cpu / closed.ok * 1e6 : 0) + " µs |");
  r.Line("");
  r.Line("| latency (ms) | n | p50 | p90 | p99 | p99.9 | max |");
  r.Line("|---|---|---|---|---|---|---|");
  r.Line(LatencyRow("create", Summarize(closed.latencies_ms)));
  r.Line("");

  // ---- 3. Open-loop creates ----
  OpenLoopRun open =
      CreateOpenLoop(http_opts, "open", "vm", sz.open_rate, sz.open_seconds, sz.open_threads);
  failures += Failed("open-loop creates", open.failed, open.first_error);
  r.Line("#### Creates, open loop at " + Fmt("%.0f", sz.open_rate) + " req/s for " +
         Fmt("%.0f", sz.open_seconds) + " s (" + std::to_string(sz.open_threads) + " senders)");
  r.Line("");
  r.Line("Latency counts from each request's scheduled send time (no coordinated omission); " +
         std::to_string(open.late) + " of " + std::to_string(open.ok + open.failed) +
         " requests left more than 1 ms late; achieved " +
         Fmt("%.0f", open.seconds > 0 ? open.ok / open.seconds : 0) + " creates/s.");
  r.Line("");
  r.Line("| latency (ms) | n | p50 | p90 | p99 | p99.9 | max |");
  r.Line("|---|---|---|---|---|---|---|");
  r.Line(LatencyRow("create (from schedule)", Summarize(open.latency_ms)));
  r.Line(LatencyRow("create (from send)", Summarize(open.service_ms)));
  r.Line("");

  // ---- 4. Reads ----
  std::vector<std::string> one_targets;
  for (size_t i = 0; i < 100; ++i) {
    one_targets.push_back(VmPath("bench") + "/vm-" + std::to_string(i * 7 % closed.ok));
  }
  GetRun get = TimeGets(**admin, one_targets, sz.gets);
  GetRun page = TimeGets(**admin, {VmPath("bench") + "?limit=100"}, sz.lists);
  GetRun sel = TimeGets(**admin, {VmPath("bench") + "?labelSelector=shard%3Ds7"}, sz.lists);
  GetRun full = TimeGets(**admin, {VmPath("bench")}, cfg.quick ? 5 : 20);
  GetRun table = TimeGets(**admin, {VmPath("bench") + "?limit=500&as=Table"}, sz.lists / 2);
  failures += Failed("get", get.failed, get.first_error);
  failures += Failed("list", page.failed + sel.failed + full.failed,
                     page.first_error + sel.first_error + full.first_error);
  r.Line("#### Reads (one client, keep-alive, " + std::to_string(closed.ok) +
         " objects in the namespace)");
  r.Line("");
  r.Line("| latency (ms) | n | p50 | p90 | p99 | p99.9 | max |");
  r.Line("|---|---|---|---|---|---|---|");
  r.Line(LatencyRow("get one", Summarize(get.latency_ms)));
  r.Line(LatencyRow("list, limit=100", Summarize(page.latency_ms)));
  r.Line(LatencyRow("list, labelSelector (" + std::to_string(sel.items) + " items)",
                    Summarize(sel.latency_ms)));
  r.Line(LatencyRow("list all (" + std::to_string(full.items) + " items, " +
                        Mib(full.latency_ms.empty() ? 0 : full.bytes / full.latency_ms.size()) +
                        " MiB)",
                    Summarize(full.latency_ms)));
  r.Line(LatencyRow("list as Table, limit=500", Summarize(table.latency_ms)));
  r.Line("");

  // ---- 5. Watch fan-out ----
  {
    auto before = srv.Stats();
    auto list = (*admin)->Do("GET", VmPath("fanout"));
    std::string rv;
    if (list.ok()) {
      auto j = ParseJson(list->body);
      if (j.ok() && j->is_object() && (*j)["metadata"]["resourceVersion"].is_string()) {
        rv = (*j)["metadata"]["resourceVersion"].get<std::string>();
      }
    }
    const auto& kc = srv.kubeconfig();
    WatchFleetOptions wo;
    std::string url = kc.server;  // https://127.0.0.1:PORT
    wo.port = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    wo.ca_pem = kc.ca_pem;
    wo.token = kc.token;
    wo.target = VmPath("fanout") + "?watch=1&resourceVersion=" + rv;
    size_t watchers = std::min(sz.watchers, fd_limit > 600 ? fd_limit - 500 : 100);
    wo.watchers = watchers;
    auto fleet = WatchFleet::Open(wo, std::chrono::seconds(300));
    if (!fleet.ok()) {
      std::cerr << "api_bench: watch fleet: " << fleet.error().ToString() << "\n";
      return 1;
    }
    auto opened = srv.Stats();
    std::vector<double> first_ms, last_ms;
    for (int e = 1; e <= sz.watch_events; ++e) {
      auto t0 = SteadyClock::now();
      auto resp = (*admin)->Do("POST", VmPath("fanout"), {{"Content-Type", "application/json"}},
                               VmBody("fanout", "w-" + std::to_string(e), e));
      if (!resp.ok() || resp->status != 201) {
        ++failures;
        std::cerr << "api_bench: fan-out create failed\n";
        break;
      }
      auto arrival = (*fleet)->WaitForEvents(e, std::chrono::seconds(120));
      if (!arrival.ok()) {
        ++failures;
        std::cerr << "api_bench: fan-out: " << arrival.error().ToString() << "\n";
        break;
      }
      first_ms.push_back(Millis(arrival->first - t0));
      last_ms.push_back(Millis(arrival->last - t0));
    }
    if ((*fleet)->broken() > 0) {
      ++failures;
      std::cerr << "api_bench: fan-out: " << (*fleet)->broken() << " watch connection(s) broke\n";
    }
    r.Line("#### Watch fan-out (" + std::to_string(watchers) +
           " watchers, each on its own TLS connection; " + std::to_string(sz.watch_events) +
           " creates, one at a time)");
    r.Line("");
    r.Line("Opening the watches took " + Fmt("%.1f", (*fleet)->open_seconds()) +
           " s; server RSS grew by " +
           Mib(before.ok() && opened.ok() && opened->rss > before->rss ? opened->rss - before->rss
                                                                        : 0) +
           " MiB (" +
           Fmt("%.1f", before.ok() && opened.ok() && opened->rss > before->rss
                           ? static_cast<double>(opened->rss - before->rss) / watchers / 1024
                           : 0) +
           " KiB per watcher).");
    r.Line("");
    r.Line("| from the create's response start (ms) | n | p50 | p90 | p99 | p99.9 | max |");
    r.Line("|---|---|---|---|---|---|---|");
    r.Line(LatencyRow("first watcher has the event", Summarize(first_ms)));
    r.Line(LatencyRow("every watcher has the event", Summarize(last_ms)));
    r.Line("");
  }

  const double json_bytes =
      full.items ? static_cast<double>(full.bytes) / full.latency_ms.size() / full.items : 0;
  srv.Stop();

  // ---- 6. Memory per stored object, in a fresh server ----
  {
    auto fresh = ServerProcess::Start(cfg.lintel, cfg.work + "/server-memory",
                                      std::chrono::seconds(60));
    if (!fresh.ok()) {
      std::cerr << "api_bench: " << fresh.error().ToString() << "\n";
      return 1;
    }
    client::HttpClientOptions mo = (*fresh)->kubeconfig().ToHttpClientOptions();
    auto mc = client::HttpClient::Create(mo);
    if (!mc.ok() || !EnsureNamespace(**mc, "fill").ok()) {
      std::cerr << "api_bench: memory phase: cannot reach the server\n";
      return 1;
    }
    auto empty = (*fresh)->Stats();
    CreateRun fill = CreateClosedLoop(mo, "fill", "vm", sz.memory_objects, 32);
    failures += Failed("fill", fill.failed, fill.first_error);
    // Let the watch cache's ring and the allocator settle.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto after = (*fresh)->Stats();
    if (empty.ok() && after.ok() && fill.ok) {
      double per_obj = static_cast<double>(after->rss_anon - empty->rss_anon) / fill.ok;
      r.Line("#### Memory (a fresh server, " + std::to_string(fill.ok) +
             " VirtualMachines created by 32 clients)");
      r.Line("");
      r.Line("| measure | value |");
      r.Line("|---|---|");
      r.Line("| server RSS, empty / full | " + Mib(empty->rss) + " / " + Mib(after->rss) +
             " MiB |");
      r.Line("| anonymous memory per object | " + Fmt("%.2f", per_obj / 1024) + " KiB |");
      r.Line("| the object's JSON, as served | " + Fmt("%.2f", json_bytes / 1024) + " KiB |");
      r.Line("| beyond the JSON, per object | " + Fmt("%.2f", (per_obj - json_bytes) / 1024) +
             " KiB |");
      r.Line("| per 100,000 objects | " + Fmt("%.0f", per_obj * 100000 / (1 << 20)) + " MiB" +
             (fill.ok < 100000 ? " (extrapolated)" : "") + " |");
      r.Line("");
    }
  }

  if (!cfg.report.empty()) {
    std::ofstream(cfg.report) << r.str();
  }
  return failures ? 1 : 0;
}

}  // namespace
}  // namespace lintel::bench

int main(int argc, char** argv) {
  lintel::bench::Config cfg;
  CLI::App app("api_bench: the API server under load (see bench/README.md)");
  app.add_flag("--quick", cfg.quick, "Small sizes, seconds; fails on any failed request");
  app.add_option("--lintel", cfg.lintel, "The lintel binary")->required();
  app.add_option("--work", cfg.work, "Scratch directory (default: a new one under /tmp)");
  app.add_option("--report", cfg.report, "Also write the Markdown report here");
  app.add_option("--perf-dir", cfg.perf_dir, "perf record the create phase into this directory");
  app.add_option("--creates", cfg.creates, "Closed-loop creates (default: 2000 quick, 20000)");
  app.add_option("--objects", cfg.objects, "Objects in the memory phase (5000 quick, 100000)");
  CLI11_PARSE(app, argc, argv);
  bool made_work = false;
  if (cfg.work.empty()) {
    char tmpl[] = "/tmp/api-bench.XXXXXX";
    if (!::mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      return 1;
    }
    cfg.work = tmpl;
    made_work = true;
  }
  int rc = lintel::bench::Run(cfg);
  if (made_work) {
    std::error_code ec;
    std::filesystem::remove_all(cfg.work, ec);
  }
  return rc;
}
