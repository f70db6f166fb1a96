// scheduler_bench: the scheduling algorithm on an in-memory snapshot of fake hosts
// (bench/README.md, "Scheduler (algorithm)").
//
// Scenarios, each on 10,000 hosts (16-64 cores, 64-256 GiB) and 150,000 workloads (100k
// Pods, 50k VMs, mixed sizes, shuffled):
//   binpack   plain workloads, BinPack; packing compared with first-fit decreasing (FFD,
//             computed here on the same hosts and workloads) and with the trivial bound
//   spread    plain workloads, Spread
//   mixed     BinPack with taints, tcg hosts, NotReady and cordoned hosts, sandbox Pods,
//             tolerations and host selectors: the static filters at work
//   affinity  BinPack with (anti-)affinity on 10% of the workloads
// Each reports decisions/s (median of the runs after one uncounted warm-up run,
// ScheduleBatch over all workloads) and p50/p99 per-decision latency (one more run timing
// each decision). A sweep of
// SchedulerOptions::candidates shows the speed/quality trade-off.
//
// A harness main rather than Google Benchmark: the quantities (packing ratio, latency
// percentiles over a whole batch) are not per-iteration times.
//
//   scheduler_bench [--quick] [--hosts N] [--workloads N] [--runs N] [--no-sweep]
//                   [--verbose] [--only binpack|spread|mixed|affinity|packing]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "scheduler/affinity_state.h"
#include "scheduler/scheduler.h"
#include "scheduler/snapshot.h"

namespace lintel::scheduler {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kGi = int64_t{1} << 30;
constexpr int64_t kMi = int64_t{1} << 20;

struct Config {
  int hosts = 10000;
  int workloads = 150000;
  int runs = 3;
  bool sweep = true;
  bool verbose = false;
  std::string only;  // one scenario, or "packing"
};

enum class Scenario { kBinPack, kSpread, kMixed, kAffinity };

const char* Name(Scenario s) {
  switch (s) {
    case Scenario::kBinPack:
      return "binpack";
    case Scenario::kSpread:
      return "spread";
    case Scenario::kMixed:
      return "mixed";
    case Scenario::kAffinity:
      return "affinity";
  }
  return "?";
}

template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}

std::vector<HostInfo> MakeHosts(const Config& c, Scenario scenario) {
  std::mt19937 rng(1);
  struct Shape {
    int64_t cores, gib;
  };
  const std::vector<Shape> shapes = {{16, 64},  {24, 96},  {32, 128}, {32, 192},
                                     {48, 192}, {64, 256}, {16, 128}, {64, 192}};
  std::vector<HostInfo> hosts;
  for (int i = 0; i < c.hosts; ++i) {
    Shape s = Pick(rng, shapes);
    HostInfo h;
    h.name = "host-" + std::to_string(i);
    h.labels = {{"rack", "r" + std::to_string(i / 40)}, {"zone", "z" + std::to_string(i % 8)}};
    h.ready = true;
    h.accelerator = Accelerator::kKvm;
    h.sandbox = true;
    h.allocatable = {s.cores * 1000, s.gib * kGi, 250, 100};
    if (scenario == Scenario::kMixed) {
      const uint32_t r = rng() % 100;
      if (r < 5) {
        h.taints = {{"dedicated", "batch", TaintEffect::kNoSchedule}};
      } else if (r < 8) {
        h.taints = {{"spot", "", TaintEffect::kPreferNoSchedule}};
      }
      h.accelerator = rng() % 10 == 0 ? Accelerator::kTcg : Accelerator::kKvm;
      h.sandbox = rng() % 10 != 0;
      h.ready = rng() % 100 != 0;
      h.unschedulable = rng() % 100 == 0;
    }
    hosts.push_back(std::move(h));
  }
  return hosts;
}

apimachinery::LabelSelector Selector(const std::string& text) {
  auto s = apimachinery::LabelSelector::Parse(text);
  return s.ok() ? *s : apimachinery::LabelSelector::Nothing();
}

std::vector<WorkloadInfo> MakeWorkloads(const Config& c, Scenario scenario) {
  std::mt19937 rng(2);
  const std::vector<int64_t> pod_cpu = {100, 250, 250, 500, 500, 1000, 1000, 2000, 4000};
  const std::vector<int64_t> pod_mem = {128, 256, 256, 512, 1024, 1024, 2048, 4096, 8192};
  const std::vector<int64_t> vm_cpu = {1, 2, 2, 4, 4, 8};
  const std::vector<int64_t> vm_gib = {1, 2, 4, 4, 8, 8, 16, 32};
  const int pods = c.workloads * 2 / 3;
  std::vector<WorkloadInfo> out;
  out.reserve(c.workloads);
  for (int i = 0; i < c.workloads; ++i) {
    WorkloadInfo w;
    w.ns = "ns-" + std::to_string(i % 20);
    w.uid = "uid-" + std::to_string(i);
    if (i < pods) {
      w.kind = WorkloadKind::kPod;
      w.name = "pod-" + std::to_string(i);
      w.requests = {Pick(rng, pod_cpu), Pick(rng, pod_mem) * kMi, 0, 0};
    } else {
      const int64_t vcpus = Pick(rng, vm_cpu);
      const int64_t memory = Pick(rng, vm_gib) * kGi;
      w.kind = WorkloadKind::kVirtualMachine;
      w.name = "vm-" + std::to_string(i);
      w.requests = {vcpus * 1000, memory, 0, 0};
      w.overhead.memory = VmMemoryOverhead(memory, vcpus);
    }
    w.labels = {{"app", "app-" + std::to_string(i % 5000)}};
    w.policy = scenario == Scenario::kSpread ? Policy::kSpread : Policy::kBinPack;
    if (scenario == Scenario::kMixed) {
      const uint32_t r = rng() % 100;
      if (w.kind == WorkloadKind::kVirtualMachine) {
        w.requires_kvm = r < 50;
      } else if (r < 20) {
        w.needs_sandbox = true;
        w.overhead = kSandboxOverhead;
      }
      if (rng() % 20 == 0) {
        w.tolerations = {{"dedicated", false, "batch", TaintEffect::kNoSchedule}};
      }
      if (rng() % 10 == 0) {
        w.host_selector = {{"zone", "z" + std::to_string(rng() % 8)}};
      }
    }
    if (scenario == Scenario::kAffinity) {
      // Apps of ~10 replicas across the run (app-<n> for 5,000 apps in 150,000 workloads
      // would be 30 each; affinity users get their own groups of 10).
      const uint32_t r = rng() % 100;
      const std::string group = "grp-" + std::to_string(i / 10);
      const std::string same = "app=" + group;
      if (r < 10) {
        w.labels = {{"app", group}};
      }
      const std::string host_key = "lintel.dev/hostname";
      if (r < 4) {
        w.required_anti_affinity = {{Selector(same), {}, host_key}};
      } else if (r < 6) {
        w.preferred_anti_affinity = {{100, {Selector(same), {}, "zone"}}};
      } else if (r < 8) {
        w.required_affinity = {{Selector(same), {}, "zone"}};
      } else if (r < 10) {
        w.preferred_affinity = {
            {50, {Selector("app=app-" + std::to_string(rng() % 5000)), {}, "rack"}}};
      }
    }
    NormalizeLabels(&w.labels);
    out.push_back(std::move(w));
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

Snapshot MakeSnapshot(const std::vector<HostInfo>& hosts) {
  Snapshot s;
  for (const HostInfo& h : hosts) {
    (void)s.AddHost(h);
  }
  s.index();
  return s;
}

// CPU time of the calling thread: unlike wall time, not inflated when other processes
// share the cores.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct RunResult {
  double seconds = 0;
  double cpu_seconds = 0;
  int64_t scheduled = 0;
  int64_t hosts_used = 0;
};

RunResult RunBatch(const std::vector<HostInfo>& hosts, const std::vector<WorkloadInfo>& workloads,
                   const SchedulerOptions& options) {
  Snapshot s = MakeSnapshot(hosts);
  Scheduler scheduler(options);
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  auto decisions = scheduler.ScheduleBatch(s, workloads);
  RunResult r;
  r.cpu_seconds = ThreadCpuSeconds() - cpu_start;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& d : decisions) {
    r.scheduled += d.scheduled() ? 1 : 0;
  }
  for (HostId h = 0; h < s.host_count(); ++h) {
    r.hosts_used += s.slots_on(h).empty() ? 0 : 1;
  }
  return r;
}

// The slow path on the loaded snapshot: workloads that fit nowhere, so that each
// decision scans every host (Diagnose) and then searches for preemption victims (with a
// priority above everything placed). Mean microseconds per decision.
double UnschedulableMicros(Snapshot& s, const SchedulerOptions& options) {
  Scheduler scheduler(options);
  constexpr int kCount = 50;
  const auto start = Clock::now();
  for (int i = 0; i < kCount; ++i) {
    WorkloadInfo w;
    w.ns = "ns-0";
    w.name = "huge-" + std::to_string(i);
    w.uid = "uid-huge-" + std::to_string(i);
    w.requests = {1000, int64_t{4096} * kGi, 0, 0};
    w.priority = 1000;
    (void)scheduler.Schedule(s, w);
  }
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kCount;
}

// Per-decision latencies in nanoseconds, sorted; also checks anti-affinity at the end and
// measures the unschedulable path on the final state.
std::vector<int64_t> RunTimed(const std::vector<HostInfo>& hosts,
                              const std::vector<WorkloadInfo>& workloads,
                              const SchedulerOptions& options, int64_t* violations,
                              double* unschedulable_us) {
  Snapshot s = MakeSnapshot(hosts);
  Scheduler scheduler(options);
  std::vector<int64_t> ns;
  ns.reserve(workloads.size());
  for (const WorkloadInfo& w : workloads) {  // equal priorities: input order, as the batch
    const auto start = Clock::now();
    (void)scheduler.Schedule(s, w);
    ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  }
  std::sort(ns.begin(), ns.end());
  *unschedulable_us = UnschedulableMicros(s, options);
  *violations = 0;
  for (HostId h = 0; h < s.host_count(); ++h) {
    for (uint32_t slot : s.slots_on(h)) {
      const WorkloadInfo& w = *s.placement(slot).workload;
      for (const WorkloadTerm& t : w.required_anti_affinity) {
        auto domain = s.DomainOf(h, t.topology_key);
        for (HostId other : s.HostsInDomain(t.topology_key, *domain)) {
          for (uint32_t o : s.slots_on(other)) {
            const WorkloadInfo& x = *s.placement(o).workload;
            *violations += (&x != &w && TermSelects(t, w.ns, x)) ? 1 : 0;
          }
        }
      }
    }
  }
  return ns;
}

double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  const auto last = static_cast<double>(sorted.size() - 1);
  size_t i = std::min(sorted.size() - 1, static_cast<size_t>(std::llround(p * last)));
  return static_cast<double>(sorted[i]);
}

// First-fit decreasing on the same hosts (largest first), fit only: the plain scenario has
// no other constraint. Items in decreasing `size`.
template <typename Size>
int64_t FirstFitDecreasing(const std::vector<HostInfo>& hosts,
                           const std::vector<WorkloadInfo>& workloads, Size&& size) {
  std::vector<size_t> order(hosts.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Resources& x = hosts[a].allocatable;
    const Resources& y = hosts[b].allocatable;
    return x.memory != y.memory ? x.memory > y.memory : x.cpu > y.cpu;
  });
  std::vector<std::pair<double, Resources>> items;
  for (const WorkloadInfo& w : workloads) {
    Resources c = Charge(w, Overcommit());
    items.emplace_back(size(c), c);
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Resources> free;
  free.reserve(order.size());
  for (size_t i : order) {
    free.push_back(hosts[i].allocatable);
  }
  std::vector<bool> used(free.size(), false);
  size_t first_open = 0;  // hosts before it cannot take even the smallest item
  for (const auto& [s, c] : items) {
    for (size_t h = first_open; h < free.size(); ++h) {
      if (c.FitsIn(free[h])) {
        free[h] -= c;
        used[h] = true;
        break;
      }
    }
    while (first_open < free.size() &&
           (free[first_open].pods <= 0 || free[first_open].memory < 128 * kMi ||
            free[first_open].cpu < 100)) {
      ++first_open;
    }
  }
  return std::count(used.begin(), used.end(), true);
}

// The best of FFD under three item orders: dominant share, sum of shares, memory.
int64_t BestFirstFitDecreasing(const std::vector<HostInfo>& hosts,
                               const std::vector<WorkloadInfo>& workloads) {
  double cpu = 0, mem = 0;
  for (const HostInfo& h : hosts) {
    cpu += static_cast<double>(h.allocatable.cpu);
    mem += static_cast<double>(h.allocatable.memory);
  }
  auto cs = [&](const Resources& r) { return static_cast<double>(r.cpu) / cpu; };
  auto ms = [&](const Resources& r) { return static_cast<double>(r.memory) / mem; };
  int64_t dominant = FirstFitDecreasing(hosts, workloads,
                                        [&](const Resources& r) { return std::max(cs(r), ms(r)); });
  int64_t sum =
      FirstFitDecreasing(hosts, workloads, [&](const Resources& r) { return cs(r) + ms(r); });
  int64_t memory = FirstFitDecreasing(hosts, workloads,
                                      [&](const Resources& r) { return ms(r) + cs(r) * 1e-6; });
  return std::min({dominant, sum, memory});
}

// The fewest hosts (largest first) whose capacity covers the total charge.
int64_t TrivialBound(const std::vector<HostInfo>& hosts,
                     const std::vector<WorkloadInfo>& workloads) {
  Resources demand;
  for (const WorkloadInfo& w : workloads) {
    demand += Charge(w, Overcommit());
  }
  std::vector<Resources> caps;
  caps.reserve(hosts.size());
  for (const HostInfo& h : hosts) {
    caps.push_back(h.allocatable);
  }
  auto needed = [&](auto field) {
    std::vector<int64_t> v;
    v.reserve(caps.size());
    for (const Resources& r : caps) {
      v.push_back(r.*field);
    }
    std::sort(v.rbegin(), v.rend());
    int64_t sum = 0, n = 0;
    for (int64_t x : v) {
      if (sum >= demand.*field) {
        break;
      }
      sum += x;
      ++n;
    }
    return n;
  };
  return std::max(needed(&Resources::cpu), needed(&Resources::memory));
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void RunScenario(const Config& c, Scenario scenario) {
  const auto hosts = MakeHosts(c, scenario);
  const auto workloads = MakeWorkloads(c, scenario);
  SchedulerOptions options;
  std::vector<double> rates, cpu_rates;
  // One run first, not counted: it grows the heap (page faults cost much on this VM);
  // a long-running scheduler works on a warm heap.
  RunResult last = RunBatch(hosts, workloads, options);
  if (c.verbose) {
    std::fprintf(stderr, "%s warm-up: %.0f decisions/s\n", Name(scenario),
                 static_cast<double>(workloads.size()) / last.seconds);
  }
  for (int i = 0; i < c.runs; ++i) {
    last = RunBatch(hosts, workloads, options);
    rates.push_back(static_cast<double>(workloads.size()) / last.seconds);
    cpu_rates.push_back(static_cast<double>(workloads.size()) / last.cpu_seconds);
    if (c.verbose) {
      std::fprintf(stderr, "%s run %d: %.0f decisions/s\n", Name(scenario), i, rates.back());
    }
  }
  int64_t violations = 0;
  double unschedulable_us = 0;
  auto latencies = RunTimed(hosts, workloads, options, &violations, &unschedulable_us);
  std::printf("| %s | %.0f | %.0f | %.1f | %.1f | %.1f | %.0f | %lld | %lld |\n", Name(scenario),
              Median(rates), Median(cpu_rates), Percentile(latencies, 0.50) / 1000,
              Percentile(latencies, 0.99) / 1000, Percentile(latencies, 0.999) / 1000,
              unschedulable_us,
              static_cast<long long>(static_cast<int64_t>(workloads.size()) - last.scheduled),
              static_cast<long long>(violations));
  std::fflush(stdout);
}

void RunPacking(const Config& c) {
  const auto hosts = MakeHosts(c, Scenario::kBinPack);
  const auto workloads = MakeWorkloads(c, Scenario::kBinPack);
  const int64_t ffd = BestFirstFitDecreasing(hosts, workloads);
  const int64_t bound = TrivialBound(hosts, workloads);
  std::printf("\n### Packing (binpack scenario)\n\n");
  std::printf(
      "| candidates | decisions/s (wall) | decisions/CPU-s | hosts used | FFD hosts | ratio to "
      "FFD | trivial bound | ratio to bound |\n|---|---|---|---|---|---|---|---|\n");
  std::vector<int> sweep = {8};
  if (c.sweep) {
    sweep = {1, 4, 8, 16, 32};
  }
  (void)RunBatch(hosts, workloads, SchedulerOptions());  // warm-up, not counted
  for (int k : sweep) {
    SchedulerOptions o;
    o.candidates = k;
    RunResult r;
    std::vector<double> rates, cpu_rates;
    for (int i = 0; i < c.runs; ++i) {
      r = RunBatch(hosts, workloads, o);  // deterministic: same hosts used every run
      rates.push_back(static_cast<double>(workloads.size()) / r.seconds);
      cpu_rates.push_back(static_cast<double>(workloads.size()) / r.cpu_seconds);
    }
    std::printf(
        "| %d%s | %.0f | %.0f | %lld | %lld | %.3f | %lld | %.3f |\n", k,
        k == SchedulerOptions().candidates ? " (default)" : "", Median(rates), Median(cpu_rates),
        static_cast<long long>(r.hosts_used), static_cast<long long>(ffd),
        static_cast<double>(r.hosts_used) / static_cast<double>(ffd), static_cast<long long>(bound),
        static_cast<double>(r.hosts_used) / static_cast<double>(bound));
    std::fflush(stdout);
  }
}

int Main(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (std::strcmp(argv[i], "--quick") == 0) {
      c.hosts = 1000;
      c.workloads = 15000;
      c.runs = 1;
      c.sweep = false;
    } else if (std::strcmp(argv[i], "--hosts") == 0) {
      c.hosts = next();
    } else if (std::strcmp(argv[i], "--workloads") == 0) {
      c.workloads = next();
    } else if (std::strcmp(argv[i], "--runs") == 0) {
      c.runs = std::max(1, next());
    } else if (std::strcmp(argv[i], "--no-sweep") == 0) {
      c.sweep = false;
    } else if (std::strcmp(argv[i], "--verbose") == 0) {
      c.verbose = true;
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      c.only = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: scheduler_bench [--quick] [--hosts N] [--workloads N] "
                   "[--runs N] [--no-sweep] [--verbose] [--only SCENARIO|packing]\n");
      return 2;
    }
  }
  if (c.hosts <= 0 || c.workloads <= 0) {
    std::fprintf(stderr, "--hosts and --workloads must be positive\n");
    return 2;
  }
  std::printf(
      "## Scheduler (algorithm): %d hosts, %d workloads (%d Pods, %d VMs), "
      "median of %d runs after a warm-up run\n\n",
      c.hosts, c.workloads, c.workloads * 2 / 3, c.workloads - c.workloads * 2 / 3, c.runs);
  std::printf(
      "| scenario | decisions/s (wall) | decisions/CPU-s | p50 µs | p99 µs | p99.9 µs | "
      "unschedulable decision µs | unscheduled | anti-affinity violations |\n"
      "|---|---|---|---|---|---|---|---|---|\n");
  for (Scenario s :
       {Scenario::kBinPack, Scenario::kSpread, Scenario::kMixed, Scenario::kAffinity}) {
    if (c.only.empty() || c.only == Name(s)) {
      RunScenario(c, s);
    }
  }
  if (c.only.empty() || c.only == "packing") {
    RunPacking(c);
  }
  return 0;
}

}  // namespace
}  // namespace lintel::scheduler

int main(int argc, char** argv) { return lintel::scheduler::Main(argc, argv); }
