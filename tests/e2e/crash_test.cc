// Crash test: writes under load, `kill -9` of `lintel server` at a random
// moment, restart on the same data directory; every acknowledged object must
// be there, and a watch resumed from the last resourceVersion seen before the
// crash must deliver every acknowledged object created after it. Several
// rounds; the seed is logged. (leveldb's fault_injection_test, for a process.)
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "support/temp_dir.h"

namespace lintel {
namespace {

const client::Resource kVms{"lintel.dev", "v1alpha1", "virtualmachines", true};

// A `lintel server` child process.
class ServerProcess {
 public:
  ServerProcess(std::string binary, std::string data_dir, int port)
      : binary_(std::move(binary)), data_dir_(std::move(data_dir)), port_(port) {}
  ~ServerProcess() { Kill(); }

  void Start() {
    std::string log = data_dir_ + ".log";
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::string listen = "127.0.0.1:" + std::to_string(port_);
      execl(binary_.c_str(), binary_.c_str(), "server", "--data-dir", data_dir_.c_str(),
            "--listen", listen.c_str(), "--no-user-kubeconfig", nullptr);
      _exit(127);
    }
  }
  // Waits until the API answers with the kubeconfig the server wrote.
  std::unique_ptr<client::RestClient> Connect() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto kc = client::LoadKubeconfig(data_dir_ + "/kubeconfig");
      if (kc.ok()) {
        auto c = client::RestClient::FromKubeconfig(*kc);
        if (c.ok()) {
          auto r = (*c)->Raw("GET", "/readyz");
          if (r.ok() && r->status == 200) return std::move(*c);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return nullptr;
  }
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  std::string binary_, data_dir_;
  int port_;
  pid_t pid_ = -1;
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

Json Vm(const std::string& name) {
  return {{"apiVersion", "lintel.dev/v1alpha1"},
          {"kind", "VirtualMachine"},
          {"metadata", {{"name", name}, {"labels", {{"crash", "test"}}}}},
          {"spec", {{"image", "tiny"}, {"cpu", 1}, {"memory", "128Mi"}}}};
}

TEST(CrashTest, KillNineLosesNoAcknowledgedWriteAndWatchesResume) {
  const char* binary = std::getenv("LINTEL_BINARY");
  if (!binary) binary = LINTEL_BINARY_PATH;
  testing::TempDir dir;
  const std::string data = dir.File("data");
  const int port = FreePort();
  unsigned seed = std::random_device{}();
  if (const char* s = std::getenv("LINTEL_TEST_SEED")) seed = std::stoul(s);
  std::mt19937 rng(seed);
  std::cout << "crash test seed " << seed << " (LINTEL_TEST_SEED)\n";

  std::set<std::string> acked;  // every acknowledged create, across rounds
  constexpr int kRounds = 3;
  constexpr int kWriters = 16;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ServerProcess server(binary, data, port);
    server.Start();
    auto c = server.Connect();
    ASSERT_NE(c, nullptr) << "server did not come up";

    // Everything acknowledged so far survived the previous crash.
    auto list = c->List(kVms, "", {});
    ASSERT_TRUE(list.ok()) << list.error().ToString();
    std::set<std::string> present;
    for (const auto& item : (*list)["items"]) present.insert(item["metadata"]["name"]);
    for (const auto& name : acked) EXPECT_TRUE(present.count(name)) << name << " was lost";
    std::string list_rv = (*list)["metadata"]["resourceVersion"];

    // A watcher records the last resourceVersion it saw.
    std::mutex mu;
    std::string last_rv = list_rv;
    client::ListOptions wo;
    wo.resource_version = list_rv;
    auto watch = c->WatchResource(kVms, "", wo, [&](client::WatchEvent&& ev) {
      if (ev.type != "ADDED") return;
      std::lock_guard<std::mutex> l(mu);
      last_rv = ev.object["metadata"]["resourceVersion"];
    });
    ASSERT_TRUE(watch.ok()) << watch.error().ToString();

    // Writers create as fast as they can until the kill.
    std::atomic<bool> stop{false};
    std::mutex acked_mu;
    std::map<std::string, int64_t> round_acked;  // name -> resourceVersion
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !stop; ++i) {
          std::string name = "r" + std::to_string(round) + "-w" + std::to_string(w) + "-" +
                             std::to_string(i);
          auto r = c->Create(kVms, "default", Vm(name));
          if (!r.ok()) break;  // the server is gone
          std::lock_guard<std::mutex> l(acked_mu);
          round_acked[name] = std::stoll((*r)["metadata"]["resourceVersion"].get<std::string>());
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1200));
    server.Kill();
    stop = true;
    for (auto& t : writers) t.join();
    (*watch)->Stop();
    std::string resume_from;
    {
      std::lock_guard<std::mutex> l(mu);
      resume_from = last_rv;
    }
    ASSERT_GT(round_acked.size(), 0u) << "no write was acknowledged before the kill";
    std::cout << "round " << round << ": " << round_acked.size() << " acknowledged creates\n";

    // Restart: the acknowledged objects are there, and a watch resumed from
    // the last seen resourceVersion delivers every one created after it.
    ServerProcess again(binary, data, port);
    again.Start();
    auto c2 = again.Connect();
    ASSERT_NE(c2, nullptr);
    std::set<std::string> expected;
    for (const auto& [name, rv] : round_acked) {
      acked.insert(name);
      if (rv > std::stoll(resume_from)) expected.insert(name);
    }
    std::set<std::string> seen;
    std::mutex seen_mu;
    std::condition_variable cv;
    client::ListOptions ro;
    ro.resource_version = resume_from;
    auto resumed = c2->WatchResource(kVms, "", ro, [&](client::WatchEvent&& ev) {
      std::lock_guard<std::mutex> l(seen_mu);
      if (ev.type == "ADDED") seen.insert(ev.object["metadata"]["name"]);
      cv.notify_all();
    });
    ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
    {
      std::unique_lock<std::mutex> l(seen_mu);
      cv.wait_for(l, std::chrono::seconds(20), [&] {
        for (const auto& n : expected) {
          if (!seen.count(n)) return false;
        }
        return true;
      });
      for (const auto& n : expected) EXPECT_TRUE(seen.count(n)) << n << " missing from the watch";
    }
    (*resumed)->Stop();
    auto after = c2->List(kVms, "", {});
    ASSERT_TRUE(after.ok());
    std::set<std::string> names;
    for (const auto& item : (*after)["items"]) names.insert(item["metadata"]["name"]);
    for (const auto& name : acked) EXPECT_TRUE(names.count(name)) << name << " was lost";
    again.Kill();  // the next round starts from a crash too
  }
}

}  // namespace
}  // namespace lintel
