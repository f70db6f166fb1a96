// Watch fan-out: many concurrent idle streams in one server, each sent one
// small event; how long until every client has it.
//
// The watching clients run in a forked child process (one Asio thread), so
// that each process stays within the descriptor limit and the server's own
// CPU time can be read. Both share the machine's cores. The time of a round
// runs from the first Stream::Write until the child reports that every
// client has parsed the event.
//
// LINTEL_FANOUT_STREAMS overrides the count (default 10,000).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "server/http/http_server.h"
#include "unit/http/http_test_util.h"

namespace lintel::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using testing::FuncHandler;
using testing::WaitFor;
using namespace std::chrono_literals;

size_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// Raises the descriptor limit as far as allowed; returns the soft limit.
size_t RaiseFdLimit(size_t want) {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_max < want) {
    rlimit more = rl;
    more.rlim_max = want;
    more.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &more) == 0) {
      return want;
    }
  }
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

// Reads exactly one byte; false on EOF or error.
bool ReadByte(int fd, char* c) {
  for (;;) {
    ssize_t n = ::read(fd, c, 1);
    if (n == 1) {
      return true;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return false;
  }
}

void WriteByte(int fd, char c) { (void)!::write(fd, &c, 1); }

double CpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// The child: `n` watching clients on one Asio thread. Reports 'R' on the pipe
// once every stream's head has arrived, then (as a double) its CPU time per
// stream each time every client has received one more event. Exits when the
// parent closes its end.
class Watchers {
 public:
  Watchers(size_t n, uint16_t port, int report_fd) : n_(n), report_fd_(report_fd) {
    ep_ = tcp::endpoint(net::ip::make_address("127.0.0.1"), port);
    conns_.resize(n);
  }

  void Run() {
    // Bounded connect concurrency, so the listen backlog never overflows.
    for (size_t i = 0; i < std::min<size_t>(n_, 256); ++i) {
      ConnectNext();
    }
    ioc_.run();
  }

  void Stop() {
    net::post(ioc_, [this] {
      for (auto& c : conns_) {
        if (c) {
          boost::system::error_code ignored;
          c->socket.close(ignored);
        }
      }
    });
  }

 private:
  struct Conn {
    explicit Conn(net::io_context& ioc) : socket(ioc) {}
    tcp::socket socket;
    std::array<char, 512> buf{};
    std::string data;
    bool head_seen = false;
  };

  void ConnectNext() {
    if (next_ >= n_) {
      return;
    }
    size_t i = next_++;
    conns_[i] = std::make_unique<Conn>(ioc_);
    Conn* c = conns_[i].get();
    c->socket.async_connect(ep_, [this, c](const boost::system::error_code& ec) {
      if (ec) {
        std::fprintf(stderr, "fanout child: connect: %s\n", ec.message().c_str());
        return;
      }
      c->socket.set_option(tcp::no_delay(true));
      static const std::string kRequest = "GET /watch HTTP/1.1\r\nHost: x\r\n\r\n";
      net::async_write(c->socket, net::buffer(kRequest),
                       [this, c](const boost::system::error_code& wec, size_t) {
                         if (!wec) {
                           Read(c);
                         }
                       });
    });
  }

  void Read(Conn* c) {
    c->socket.async_read_some(
        net::buffer(c->buf), [this, c](const boost::system::error_code& ec, size_t n) {
          if (ec) {
            return;
          }
          c->data.append(c->buf.data(), n);
          if (!c->head_seen) {
            size_t end = c->data.find("\r\n\r\n");
            if (end == std::string::npos) {
              Read(c);
              return;
            }
            c->head_seen = true;
            c->data.erase(0, end + 4);
            if (++ready_ == n_) {
              last_cpu_ = CpuSeconds();
              WriteByte(report_fd_, 'R');
            }
            ConnectNext();
          }
          size_t pos;
          while ((pos = c->data.find("}\n")) != std::string::npos) {
            c->data.erase(0, pos + 2);
            if (++events_ % n_ == 0) {
              // The client process's CPU time for the round, per stream.
              double now = CpuSeconds();
              double per_stream_us = (now - last_cpu_) * 1e6 / static_cast<double>(n_);
              last_cpu_ = now;
              (void)!::write(report_fd_, &per_stream_us, sizeof(per_stream_us));
            }
          }
          Read(c);
        });
  }

  net::io_context ioc_{1};
  tcp::endpoint ep_;
  const size_t n_;
  const int report_fd_;
  std::vector<std::unique_ptr<Conn>> conns_;
  size_t next_ = 0;
  size_t ready_ = 0;
  size_t events_ = 0;
  double last_cpu_ = 0;
};

[[noreturn]] void ChildMain(size_t n, int command_fd, int report_fd) {
  uint16_t port = 0;
  char c;
  for (int i = 0; i < 2; ++i) {
    if (!ReadByte(command_fd, &c)) {
      ::_exit(1);
    }
    port = static_cast<uint16_t>(port << 8 | static_cast<unsigned char>(c));
  }
  Watchers watchers(n, port, report_fd);
  std::thread io([&] { watchers.Run(); });
  ReadByte(command_fd, &c);  // blocks until the parent is done (EOF)
  watchers.Stop();
  io.join();
  ::_exit(0);
}

TEST(FanoutTest, TenThousandWatchStreams) {
  size_t n = 10'000;
  if (const char* env = std::getenv("LINTEL_FANOUT_STREAMS")) {  // NOLINT(concurrency-mt-unsafe)
    n = std::stoul(env);
  }
  size_t limit = RaiseFdLimit(n + 512);
  ASSERT_GE(limit, n + 256) << "descriptor limit too low for " << n << " streams";

  int command[2];
  int report[2];
  ASSERT_EQ(::pipe2(command, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  pid_t child = ::fork();  // before any thread of this test exists
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(command[1]);
    ::close(report[0]);
    ChildMain(n, command[0], report[1]);
  }
  ::close(command[0]);
  ::close(report[1]);

  std::mutex mu;
  std::vector<std::shared_ptr<Stream>> streams;
  std::atomic<int> closed{0};
  FuncHandler handler([&](Request&&, std::unique_ptr<Responder> r) {
    Headers h;
    h.Set("Content-Type", "application/json");
    auto stream = r->StartStream(200, std::move(h));
    stream->OnClose([&] { ++closed; });
    std::lock_guard lock(mu);
    streams.push_back(std::move(stream));
  });
  ServerOptions opts;
  opts.io_threads = 2;
  opts.worker_threads = 4;
  HttpServer server(opts, &handler);
  ASSERT_TRUE(server.Start().ok());
  size_t rss_before = RssBytes();

  auto open_start = std::chrono::steady_clock::now();
  WriteByte(command[1], static_cast<char>(server.port() >> 8));
  WriteByte(command[1], static_cast<char>(server.port() & 0xff));
  char c = 0;
  ASSERT_TRUE(ReadByte(report[0], &c) && c == 'R') << "the child could not open its streams";
  auto open_time = std::chrono::steady_clock::now() - open_start;
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(streams.size(), n);
  }
  size_t rss_open = RssBytes();

  std::vector<double> rounds_ms;
  std::vector<double> write_ms;
  std::vector<double> cpu_us;
  std::vector<double> client_cpu_us;
  for (int round = 1; round <= 7; ++round) {
    auto event = std::make_shared<const std::string>(
        R"({"type":"MODIFIED","object":{"kind":"VirtualMachine","apiVersion":"lintel.dev/v1alpha1","metadata":{"name":"vm-1","namespace":"default","resourceVersion":")" +
        std::to_string(1000 + round) + "\"}}}\n");
    double cpu0 = CpuSeconds();
    auto t0 = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu);
      for (auto& s : streams) {
        s->Write(event);
      }
    }
    auto t_written = std::chrono::steady_clock::now();
    double client_us = 0;
    ASSERT_EQ(::read(report[0], &client_us, sizeof(client_us)),
              static_cast<ssize_t>(sizeof(client_us)))
        << "the child stopped reporting";
    auto t1 = std::chrono::steady_clock::now();
    rounds_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    write_ms.push_back(std::chrono::duration<double, std::milli>(t_written - t0).count());
    cpu_us.push_back((CpuSeconds() - cpu0) * 1e6 / static_cast<double>(n));
    client_cpu_us.push_back(client_us);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("fanout: %zu streams opened in %.0f ms; server RSS +%.1f MiB (%.2f KiB per stream)\n",
              n, std::chrono::duration<double, std::milli>(open_time).count(),
              static_cast<double>(rss_open - rss_before) / (1 << 20),
              static_cast<double>(rss_open - rss_before) / 1024 / static_cast<double>(n));
  for (size_t i = 0; i < rounds_ms.size(); ++i) {
    std::printf(
        "fanout: round %zu: all %zu clients had the event after %.1f ms "
        "(Write loop %.1f ms; CPU per stream: server %.1f us, clients %.1f us)\n",
        i + 1, n, rounds_ms[i], write_ms[i], cpu_us[i], client_cpu_us[i]);
  }
  std::printf("fanout: median %.1f ms; CPU per stream: server %.1f us, clients %.1f us\n",
              median(rounds_ms), median(cpu_us), median(client_cpu_us));

  auto stop_start = std::chrono::steady_clock::now();
  server.Stop();
  std::printf(
      "fanout: Stop with %zu open streams took %.0f ms\n", n,
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stop_start)
          .count());
  EXPECT_EQ(closed.load(), static_cast<int>(n));
  ::close(command[1]);
  int wstatus = 0;
  ::waitpid(child, &wstatus, 0);
  ::close(report[0]);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  // Generous: the printed numbers are the point; sanitizer builds are slow.
  EXPECT_LT(median(rounds_ms), 10'000.0);
}

}  // namespace
}  // namespace lintel::http
