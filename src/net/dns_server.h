// DnsServer: the host agent's small DNS responder for the estate's names
// ("web.default.svc", "db-0.default.vm"). It answers A queries for the records
// it is given, NXDOMAIN for other names in its zones, and forwards everything
// else to an upstream resolver (or REFUSES it without one); see dns_records.h
// for the exact answers.
//
// Transport: UDP and TCP (RFC 7766 framing) on one address and port. UDP
// answers that do not fit 512 bytes (or the client's EDNS size, at most 1232)
// carry the addresses that fit and TC, and the client retries over TCP.
// Forwarded queries go over UDP to the first upstream with a fresh socket and
// id; the answer is relayed with the client's id, or SERVFAIL after the timeout.
//
// Threading: Start() spawns one serving thread that owns the sockets; it
// never blocks on a client or an upstream (everything is polled). SetRecords,
// SetZones, port() and queries() may be called from any thread; the serving
// thread reads an immutable snapshot (a shared_ptr swap), so an update takes
// effect for the next query. The destructor stops and joins the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/cidr.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "net/dns_records.h"

namespace lintel::net {

class DnsServer {
 public:
  struct Options {
    std::string listen_ip = "127.0.0.1";
    uint16_t port = 53;  // 0 picks a free port (tests)
    // "10.0.0.2" or "10.0.0.2:5353". Names outside our zones go to the first;
    // empty: they are REFUSED.
    std::vector<std::string> upstreams;
    uint32_t ttl = 5;  // of our A records
    // After this, a forwarded query is answered SERVFAIL.
    std::chrono::milliseconds upstream_timeout{2000};
  };

  // Binds UDP and TCP and starts serving with no records and the zones
  // {"svc", "pod", "vm"}. Invalid for a bad listen_ip or upstream; Unavailable
  // with the bind error (e.g. "Address already in use"); Internal when the
  // thread or a socket cannot be created.
  static Result<std::unique_ptr<DnsServer>> Start(Options options);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Replaces the records: names (any case, trailing dot optional) to addresses.
  void SetRecords(std::map<std::string, std::vector<Ipv4>> records);
  // Replaces the zones answered authoritatively (NXDOMAIN for unknown names).
  void SetZones(std::vector<std::string> zones);

  uint16_t port() const { return port_; }
  // Messages received with a readable header (UDP datagrams and TCP frames).
  uint64_t queries() const { return queries_.load(std::memory_order_relaxed); }

  struct Loop;  // the serving thread's state (dns_server.cc)

 private:
  DnsServer(Options options, uint16_t port, std::unique_ptr<Loop> loop);
  std::shared_ptr<const DnsRecordSet> Snapshot() const;
  void Serve();

  const Options options_;
  const uint16_t port_;
  std::unique_ptr<Loop> loop_;
  std::atomic<uint64_t> queries_{0};
  std::atomic<bool> stop_{false};

  std::mutex update_mu_;  // serialises SetRecords/SetZones (each builds from the other's data)
  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const DnsRecordSet> snapshot_ LINTEL_GUARDED_BY(snapshot_mu_);

  std::thread thread_;
};

}  // namespace lintel::net
