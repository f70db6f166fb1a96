// c1m_bench: the whole control plane at the scale of a real estate, on one
// machine: a `lintel server` process (scheduler included) and a `lintel agent
// --driver=fake --hosts N` process of hollow hosts, then Pods and VMs of mixed
// sizes created through the API by 64 clients, until every one is Running.
//
//   c1m_bench --lintel build/bin/lintel [--hosts 10000 --pods 100000 --vms 50000]
//             [--quick] [--report FILE]
//
// Measured in one run: time from the first create until all are Running;
// create, bind and Running rates; create-to-bound and create-to-Running
// latency p50/p99 (from each create's response to the watch event that shows
// status.host, then phase Running); server and agent CPU seconds and peak RSS.
// The watch events are scanned for the fields needed, not parsed, so that the
// harness takes little of the two cores it shares with what it measures.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "api_bench.h"
#include "common/json.h"

namespace lintel::bench {
namespace {

struct Config {
  std::string lintel;
  std::string work;
  std::string report;
  size_t hosts = 10000;
  size_t pods = 100000;
  size_t vms = 50000;
  int clients = 64;
  // Each hollow host's size (the agent's flags).
  std::string host_cpu = "32", host_memory = "128Gi", host_pods = "110", host_vms = "64";
  bool quick = false;
  int timeout_s = 3600;
};

struct Spec {
  bool vm = false;
  std::string name;
  std::string body;
};

// Mixed sizes: Pods from 100m/128Mi to 2/4Gi, VMs from 1 vCPU/1Gi to 8/16Gi.
std::vector<Spec> MakeSpecs(const Config& c) {
  std::mt19937_64 rng(42);
  const char* pod_cpu[] = {"100m", "250m", "500m", "1", "2"};
  const char* pod_mem[] = {"128Mi", "256Mi", "512Mi", "1Gi", "4Gi"};
  const int vm_cpu[] = {1, 2, 4, 8};
  const char* vm_mem[] = {"1Gi", "2Gi", "4Gi", "8Gi", "16Gi"};
  std::vector<Spec> specs;
  specs.reserve(c.pods + c.vms);
  for (size_t i = 0; i < c.pods; ++i) {
    Spec s;
    s.name = "p-" + std::to_string(i);
    s.body = R"({"apiVersion":"lintel.dev/v1alpha1","kind":"Pod","metadata":{"name":")" +
             s.name + R"(","labels":{"bench":"c1m","app":"a)" + std::to_string(i % 500) +
             R"("}},"spec":{"containers":[{"name":"m","image":"busybox","resources":{"requests":{"cpu":")" +
             pod_cpu[rng() % 5] + R"(","memory":")" + pod_mem[rng() % 5] + R"("}}}]}})";
    specs.push_back(std::move(s));
  }
  for (size_t i = 0; i < c.vms; ++i) {
    Spec s;
    s.vm = true;
    s.name = "v-" + std::to_string(i);
    s.body = R"({"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine","metadata":{"name":")" +
             s.name + R"(","labels":{"bench":"c1m"}},"spec":{"image":"tiny","cpu":)" +
             std::to_string(vm_cpu[rng() % 4]) + R"(,"memory":")" + vm_mem[rng() % 5] +
             R"("}})";
    specs.push_back(std::move(s));
  }
  std::shuffle(specs.begin(), specs.end(), rng);
  return specs;
}

// Times per object name, filled by the creators and the two watch streams.
class Timeline {
 public:
  void Created(const std::string& name, SteadyClock::time_point t) {
    std::lock_guard<std::mutex> l(mu_);
    entries_[name].created = t;
  }
  void Saw(std::string_view name, bool bound, bool running, SteadyClock::time_point t) {
    std::lock_guard<std::mutex> l(mu_);
    Entry& e = entries_[std::string(name)];
    if (bound && e.bound == SteadyClock::time_point{}) {
      e.bound = t;
      ++bound_;
      last_bound_ = t;
    }
    if (running && e.running == SteadyClock::time_point{}) {
      e.running = t;
      ++running_;
      last_running_ = t;
    }
  }
  size_t bound() const {
    std::lock_guard<std::mutex> l(mu_);
    return bound_;
  }
  size_t running() const {
    std::lock_guard<std::mutex> l(mu_);
    return running_;
  }
  struct Summary {
    Percentiles to_bound, to_running;
    SteadyClock::time_point last_bound, last_running;
  };
  Summary Summarize() const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<double> b, r;
    for (const auto& [name, e] : entries_) {
      if (e.created == SteadyClock::time_point{}) continue;
      if (e.bound != SteadyClock::time_point{}) b.push_back(Millis(e.bound - e.created));
      if (e.running != SteadyClock::time_point{}) r.push_back(Millis(e.running - e.created));
    }
    return Summary{bench::Summarize(std::move(b)), bench::Summarize(std::move(r)), last_bound_,
                   last_running_};
  }

 private:
  struct Entry {
    SteadyClock::time_point created{}, bound{}, running{};
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  size_t bound_ = 0;
  size_t running_ = 0;
  SteadyClock::time_point last_bound_{}, last_running_{};
};

// The value of the first `"key":"` after `from` in `line`, or "".
std::string_view StringField(std::string_view line, std::string_view key, size_t from = 0) {
  std::string pat = "\"" + std::string(key) + "\":\"";
  size_t p = line.find(pat, from);
  if (p == std::string_view::npos) return {};
  p += pat.size();
  size_t e = line.find('"', p);
  return e == std::string_view::npos ? std::string_view{} : line.substr(p, e - p);
}

// One watch over a kind in namespace `ns`, feeding the timeline. Restarts from
// the last resourceVersion when the server ends it.
class Follower {
 public:
  Follower(const client::HttpClientOptions& o, std::string path, Timeline* tl)
      : options_(o), path_(std::move(path)), tl_(tl) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Follower() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    auto http = client::HttpClient::Create(options_);
    if (!http.ok()) return;
    std::string rv = "0";
    while (!stop_) {
      auto resp = (*http)->DoStream(
          "GET", path_ + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=" + rv,
          {}, {}, [&](std::string_view line) {
            auto now = SteadyClock::now();
            // The initial ADDED events come in key order: resume from the
            // highest resourceVersion seen, not the last.
            std::string_view v = StringField(line, "resourceVersion");
            if (!v.empty() && (v.size() > rv.size() || (v.size() == rv.size() && v > rv))) {
              rv = std::string(v);
            }
            if (line.find("\"BOOKMARK\"") != std::string_view::npos) return !stop_;
            size_t meta = line.find("\"metadata\":{");
            std::string_view name = StringField(line, "name", meta == std::string_view::npos
                                                                  ? 0
                                                                  : meta);
            size_t status = line.find("\"status\":{");
            if (name.empty() || status == std::string_view::npos) return !stop_;
            bool bound = !StringField(line, "host", status).empty();
            bool running = StringField(line, "phase", status) == "Running";
            if (bound || running) tl_->Saw(name, bound, running, now);
            return !stop_;
          });
      if (!resp.ok() || resp->status != 200) {
        if (resp.ok() && resp->status == 410) rv = "0";  // compacted away: start over
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      // The stream ends at the server's timeout; then resume from rv.
      while (!stop_ && !resp->stream->Done()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      resp->stream.reset();
    }
  }

  client::HttpClientOptions options_;
  std::string path_;
  Timeline* tl_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}
std::string Mib(size_t bytes) { return Fmt("%.0f", static_cast<double>(bytes) / (1 << 20)); }

// Hosts whose Ready condition is True.
size_t ReadyHosts(client::HttpClient& http) {
  auto r = http.Do("GET", "/apis/lintel.dev/v1alpha1/hosts");
  if (!r.ok() || r->status != 200) return 0;
  size_t n = 0;
  std::string_view body = r->body;
  for (size_t p = body.find("\"type\":\"Ready\""); p != std::string_view::npos;
       p = body.find("\"type\":\"Ready\"", p + 1)) {
    // conditions are {"lastHeartbeatTime":..,"status":"True","type":"Ready"}: look back.
    size_t open = body.rfind('{', p);
    if (open != std::string_view::npos &&
        body.substr(open, p - open).find("\"status\":\"True\"") != std::string_view::npos) {
      ++n;
    }
  }
  return n;
}

int Run(Config cfg) {
  std::ostringstream report;
  auto line = [&](const std::string& s) {
    report << s << "\n";
    std::cout << s << "\n" << std::flush;
  };
  std::filesystem::create_directories(cfg.work);
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  auto server = ServerProcess::Start(cfg.lintel, cfg.work + "/server", std::chrono::seconds(60));
  if (!server.ok()) {
    std::cerr << "c1m_bench: " << server.error().ToString() << "\n";
    return 1;
  }
  ServerProcess& srv = **server;
  client::HttpClientOptions opts = srv.kubeconfig().ToHttpClientOptions();
  auto admin = client::HttpClient::Create(opts);
  if (!admin.ok()) return 1;

  // Hollow hosts.
  const auto t_agent = SteadyClock::now();
  pid_t agent = Spawn({cfg.lintel, "agent", "--kubeconfig", cfg.work + "/server/kubeconfig",
                       "--data-dir", cfg.work + "/agent", "--driver", "fake", "--hosts",
                       std::to_string(cfg.hosts), "--run-delay", "0s", "--heartbeat", "20s", "--writers", "32", "--cpu", cfg.host_cpu,
                       "--memory", cfg.host_memory, "--pods", cfg.host_pods, "--vms", cfg.host_vms},
                      cfg.work + "/agent.log");
  if (agent < 0) return 1;
  struct AgentGuard {
    pid_t pid;
    ~AgentGuard() {
      ::kill(pid, SIGTERM);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  } guard{agent};
  size_t ready = 0;
  while ((ready = ReadyHosts(**admin)) < cfg.hosts) {
    if (Seconds(SteadyClock::now() - t_agent) > 600) {
      std::cerr << "c1m_bench: only " << ready << " of " << cfg.hosts
                << " hosts Ready after 600 s; see " << cfg.work << "/agent.log\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(cfg.quick ? 200 : 2000));
  }
  const double hosts_ready_s = Seconds(SteadyClock::now() - t_agent);

  std::vector<Spec> specs = MakeSpecs(cfg);
  Timeline tl;
  Follower pods(opts, "/apis/lintel.dev/v1alpha1/namespaces/default/pods", &tl);
  Follower vms(opts, "/apis/lintel.dev/v1alpha1/namespaces/default/virtualmachines", &tl);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // watches open

  auto srv0 = srv.Stats();
  auto agent0 = ReadProcStats(agent);
  size_t server_peak_rss = 0, agent_peak_rss = 0;
  const auto t0 = SteadyClock::now();
  std::atomic<size_t> next{0}, failed{0};
  std::string first_error;
  std::mutex err_mu;
  std::atomic<int64_t> last_create_ns{0};
  std::vector<std::thread> creators;
  for (int t = 0; t < cfg.clients; ++t) {
    creators.emplace_back([&] {
      client::HttpClientOptions o = opts;
      o.max_idle_connections = 1;
      auto http = client::HttpClient::Create(o);
      if (!http.ok()) return;
      const client::HttpHeaders headers{{"Content-Type", "application/json"}};
      for (size_t i = next++; i < specs.size(); i = next++) {
        const Spec& s = specs[i];
        auto r = (*http)->Do(
            "POST",
            std::string("/apis/lintel.dev/v1alpha1/namespaces/default/") +
                (s.vm ? "virtualmachines" : "pods"),
            headers, s.body);
        auto now = SteadyClock::now();
        if (!r.ok() || r->status != 201) {
          if (failed++ == 0) {
            std::lock_guard<std::mutex> l(err_mu);
            first_error = r.ok() ? r->body.substr(0, 300) : r.error().ToString();
          }
          continue;
        }
        tl.Created(s.name, now);
        last_create_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0).count();
      }
    });
  }
  const size_t total = specs.size();
  bool timed_out = false;
  auto last_progress = SteadyClock::now();
  while (tl.running() < total - failed.load()) {
    auto ss = srv.Stats();
    auto as = ReadProcStats(agent);
    if (ss.ok()) server_peak_rss = std::max(server_peak_rss, ss->rss);
    if (as.ok()) agent_peak_rss = std::max(agent_peak_rss, as->rss);
    // A line a minute on long runs: how far each stage got, and memory.
    if (!cfg.quick && SteadyClock::now() - last_progress >= std::chrono::seconds(60)) {
      last_progress = SteadyClock::now();
      std::cerr << "c1m_bench: " << Fmt("%.0f", Seconds(last_progress - t0)) << " s: "
                << std::min(next.load(), total) << " created, " << tl.bound() << " bound, "
                << tl.running() << " Running; server RSS "
                << (ss.ok() ? Mib(ss->rss) : std::string("?")) << " MiB, CPU "
                << (ss.ok() && srv0.ok() ? Fmt("%.0f", ss->cpu_seconds - srv0->cpu_seconds)
                                         : std::string("?"))
                << " s" << std::endl;
    }
    if (Seconds(SteadyClock::now() - t0) > cfg.timeout_s) {
      timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(cfg.quick ? 100 : 1000));
  }
  for (auto& th : creators) th.join();
  auto srv1 = srv.Stats();
  auto agent1 = ReadProcStats(agent);
  const Timeline::Summary sum = tl.Summarize();
  const double created_s = static_cast<double>(last_create_ns.load()) / 1e9;
  const double all_bound_s = Seconds(sum.last_bound - t0);
  const double all_running_s = Seconds(sum.last_running - t0);
  const size_t created = total - failed.load();

  line("### Control plane at scale (" + std::to_string(cfg.hosts) + " hollow hosts, " +
       std::to_string(cfg.pods) + " Pods, " + std::to_string(cfg.vms) + " VMs; " +
       std::to_string(std::thread::hardware_concurrency()) + " cores)");
  line("");
  line("| measure | value |");
  line("|---|---|");
  line("| hosts registered and Ready | " + Fmt("%.1f", hosts_ready_s) + " s |");
  line("| workloads created (64 clients) | " + std::to_string(created) + " in " +
       Fmt("%.1f", created_s) + " s = " + Fmt("%.0f", created / created_s) + "/s |");
  line("| all bound | " + std::to_string(tl.bound()) + " after " + Fmt("%.1f", all_bound_s) +
       " s = **" + Fmt("%.0f", tl.bound() / all_bound_s) + " workloads/s** scheduled |");
  line("| all Running | " + std::to_string(tl.running()) + " after " +
       Fmt("%.1f", all_running_s) + " s = **" + Fmt("%.0f", tl.running() / all_running_s) +
       " workloads/s** end to end |");
  line("| create → bound p50 / p99 | " + Fmt("%.0f", sum.to_bound.p50) + " / " +
       Fmt("%.0f", sum.to_bound.p99) + " ms |");
  line("| create → Running p50 / p99 | " + Fmt("%.0f", sum.to_running.p50) + " / " +
       Fmt("%.0f", sum.to_running.p99) + " ms |");
  if (srv0.ok() && srv1.ok()) {
    line("| server CPU, peak RSS | " + Fmt("%.0f", srv1->cpu_seconds - srv0->cpu_seconds) +
         " s, " + Mib(server_peak_rss) + " MiB |");
  }
  if (agent0.ok() && agent1.ok()) {
    line("| agent (hollow hosts) CPU, peak RSS | " +
         Fmt("%.0f", agent1->cpu_seconds - agent0->cpu_seconds) + " s, " + Mib(agent_peak_rss) +
         " MiB |");
  }
  line("");
  if (!cfg.report.empty()) std::ofstream(cfg.report) << report.str();
  if (failed.load() > 0) {
    std::cerr << "c1m_bench: " << failed.load() << " creates failed; first: " << first_error
              << "\n";
    return 1;
  }
  if (timed_out) {
    std::cerr << "c1m_bench: timed out with " << tl.running() << " of " << total
              << " Running\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace lintel::bench

int main(int argc, char** argv) {
  lintel::bench::Config cfg;
  CLI::App app("c1m_bench: hollow hosts, Pods and VMs through the whole control plane");
  app.add_option("--lintel", cfg.lintel, "The lintel binary")->required();
  app.add_option("--work", cfg.work, "Scratch directory (default: a new one under /tmp)");
  app.add_option("--report", cfg.report, "Also write the Markdown report here");
  app.add_option("--hosts", cfg.hosts, "Hollow hosts")->capture_default_str();
  app.add_option("--pods", cfg.pods, "Pods")->capture_default_str();
  app.add_option("--vms", cfg.vms, "VirtualMachines")->capture_default_str();
  app.add_option("--clients", cfg.clients, "Concurrent creators")->capture_default_str();
  app.add_option("--timeout", cfg.timeout_s, "Seconds to wait for Running")->capture_default_str();
  app.add_option("--host-cpu", cfg.host_cpu, "Cores per hollow host")->capture_default_str();
  app.add_option("--host-memory", cfg.host_memory, "Memory per hollow host")
      ->capture_default_str();
  app.add_option("--host-pods", cfg.host_pods, "Pods per hollow host")->capture_default_str();
  app.add_option("--host-vms", cfg.host_vms, "VMs per hollow host")->capture_default_str();
  app.add_flag("--quick", cfg.quick, "200 hosts, 2,000 Pods, 1,000 VMs (CI)");
  CLI11_PARSE(app, argc, argv);
  if (cfg.quick) {
    cfg.hosts = 200;
    cfg.pods = 2000;
    cfg.vms = 1000;
    cfg.timeout_s = 300;
  }
  bool made = false;
  if (cfg.work.empty()) {
    char tmpl[] = "/tmp/c1m-bench.XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    cfg.work = tmpl;
    made = true;
  }
  int rc = lintel::bench::Run(cfg);
  if (made) {
    std::error_code ec;
    std::filesystem::remove_all(cfg.work, ec);
  }
  return rc;
}
