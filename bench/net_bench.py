#!/usr/bin/python3
"""net_bench: the estate network's cost (bridge, VXLAN, Service VIPs) against a
plain veth pair measured in the same run, and how fast a Service follows a
backend's readiness (bench/README.md, "The estate network").

In one run, as root, in a private network namespace (the "lab", as in
tests/e2e/net_e2e.sh): an underlay bridge lab0 with `lintel server`, two
network namespaces h1 and h2 each running `lintel agent --driver oci` (a copy
of the binary, so a rebuild during the run does not reach it), and the
baseline: two network namespaces joined by one veth pair, MTU 1450 as Pods
have. Servers run inside a Pod's network with `nsenter --net=RUN/netns/UID`
(the bench's own echo/HTTP server in Python, one thread, no fork; iperf3 -s);
clients switch namespaces with setns(2) and alternate targets request by
request, so that load from elsewhere hits them alike; they and the servers
are pinned to one CPU (--cpu: a wake-up of an idle vCPU costs more than most
paths; -1 turns it off).
  1. Paths: baseline (veth), Pod -> Pod on h1 (lintel0), Pod on h1 -> Pod on
     h2 (lintel0, VXLAN, lab0): iperf3 TCP throughput (median of --iperf-runs
     of --iperf-secs, runs alternating), request/response latency (64 bytes,
     one connection, --rr round trips), connect+request (--crr, a new
     connection each).
  2. HTTP GET, a new connection each (--http), from the Pod on h1: the bench's
     server in the baseline, in Pods on h2 and h1 by their IPs, and through
     Service VIPs: one backend on h2, two on h2, one on h1. Then busybox httpd
     (fork per request): baseline, a Pod on h2, the tiny VM on h2 (TCG)
     (--http-vm each).
  3. Endpoint changes (--flips each way): a Pod "flip" on h2 running busybox
     httpd, readinessProbe exec `test -f /tmp/ready` (periodSeconds 1,
     failureThreshold 1; the probe also logs when it ran), the only backend of
     svc-flip; a poller in the Pod on h1 GETs the VIP every 5 ms. t0 is when
     `lintel exec flip -- touch /tmp/ready` returns; then: the probe that saw
     it (its log), the Pod's Ready condition and the Service's endpoint (API
     watches), the DNAT rule in h1 (`nft monitor` there), the first response
     (the poller). The same with `rm -f /tmp/ready` until the poller fails.
Untimed: setting up, and deleting everything at the end (also on failure:
workloads through the API, then agents and server, leftover containers,
QEMUs and conmons of the run, mounts under the work directory, the network
namespaces, cgroups of the run's workloads).

  net_bench.py --lintel build/bin/lintel [--quick] [--report FILE] [--keep]
               [--cpu N] [--bridge-nf 0|1]
--bridge-nf sets net.bridge.bridge-nf-call-iptables in the hosts (reported
either way: with 1, bridged Pod traffic is conntracked too).
Exits 77 (skipped) without root, iperf3, busybox, nft, nsenter or unshare.
"""
import argparse
import json
import math
import os
import random
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pod_bench import Api, WatchStream  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SELF = os.path.abspath(__file__)
API = "/apis/lintel.dev/v1alpha1"
NS = API + "/namespaces/default"
ECHO_PORT, IPERF_PORT = 7000, 5201
BASE_A, BASE_B = "10.99.0.1", "10.99.0.2"


def log(msg):
    print("net_bench: " + msg, file=sys.stderr, flush=True)


def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


# ---------------------------------------------------------------------------
# Helpers: `net_bench.py --helper MODE ...`, run as separate processes (the
# bench's own has watch threads). Servers run inside a namespace (nsenter);
# clients switch namespaces per connection with setns(2), so that one process
# alternates its targets request by request and load hits them alike.

CLONE_NEWNET = 0x40000000
_netns_fds = {}


def enter(netns):
    """This (single-threaded) process's new sockets are created in netns."""
    import ctypes
    if netns not in _netns_fds:
        _netns_fds[netns] = os.open(netns, os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(_netns_fds[netns], CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns " + netns)


def helper_serve(echo_port, http_port, body):
    """One thread: echoes whatever arrives on echo_port; answers each HTTP
    request on http_port with body in one write, then closes (HTTP/1.0)."""
    sel = selectors.DefaultSelector()
    listeners = {}
    for port, kind in ((echo_port, "echo"), (http_port, "http")):
        if port <= 0:
            continue
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", port))
        ls.listen(512)
        ls.setblocking(False)
        sel.register(ls, selectors.EVENT_READ, ("listen", kind))
        listeners[ls] = kind
    payload = body.encode() + b"\n"
    response = (b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
                % len(payload)) + payload
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            role, state = key.data
            if role == "listen":
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, (state, b""))
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                continue
            try:
                s.setblocking(True)
                if role == "echo":
                    s.sendall(data)
                    s.setblocking(False)
                    continue
                got = state + data
                if b"\r\n\r\n" not in got:
                    s.setblocking(False)
                    sel.modify(s, selectors.EVENT_READ, (role, got))
                    continue
                s.sendall(response)
            except OSError:
                pass
            sel.unregister(s)
            s.close()


def recv_exact(s, n):
    got = 0
    while got < n:
        chunk = s.recv(n - got)
        if not chunk:
            raise ConnectionError("closed")
        got += len(chunk)


def http_get(host, port, timeout=5):
    """GET / on a new connection; the body (HTTP/1.0: until the server closes)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0]:
        raise ConnectionError("bad response: %r" % head[:80])
    return body.decode(errors="replace").strip()


def helper_measure(spec):
    """spec: {"mode": rr|crr|http, "n": N, "targets": [[netns, host, port], ...]}.
    N requests to each target, alternating targets request by request; µs each.
      rr    64 bytes and their echo on one connection per target (after 50 warm)
      crr   a new connection, 64 bytes and their echo, close
      http  a new connection, GET /, the whole response (the bodies are counted)"""
    mode, n, targets = spec["mode"], spec["n"], spec["targets"]
    buf = b"x" * 64
    clock = time.perf_counter_ns
    us = [[] for _ in targets]
    bodies = [{} for _ in targets]
    conns = []
    if mode == "rr":
        for netns, host, port in targets:
            enter(netns)
            s = socket.create_connection((host, port), timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(50):
                s.sendall(buf)
                recv_exact(s, len(buf))
            conns.append(s)
    else:
        for netns, host, port in targets:  # warm: ARP, first connection
            enter(netns)
            if mode == "http":
                http_get(host, port)
    for i in range(n):
        for j in range(len(targets)):
            k = (i + j) % len(targets)
            netns, host, port = targets[k]
            if mode == "rr":
                s = conns[k]
                t = clock()
                s.sendall(buf)
                recv_exact(s, len(buf))
                us[k].append((clock() - t) / 1000)
                continue
            enter(netns)
            if mode == "crr":
                t = clock()
                s = socket.create_connection((host, port), timeout=5)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.sendall(buf)
                recv_exact(s, len(buf))
                us[k].append((clock() - t) / 1000)
                s.close()
            else:
                t = clock()
                body = http_get(host, port)
                us[k].append((clock() - t) / 1000)
                bodies[k][body] = bodies[k].get(body, 0) + 1
    for s in conns:
        s.close()
    return {"us": us, "bodies": bodies}


def helper_until(netns, host, port, want, expect, timeout, interval=0.005):
    """Polls HTTP until it answers `expect` (want=ok) or fails (want=fail):
    prints "ready" first, then the monotonic time of the first such result."""
    enter(netns)
    print("ready", flush=True)
    deadline = time.monotonic() + timeout
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        try:
            ok = http_get(host, port, timeout=1) == expect
        except OSError:
            ok = False
        now = time.monotonic()
        if ok == (want == "ok"):
            return {"t": now, "tries": tries}
        time.sleep(interval)
    return {"t": None, "tries": tries}


def helper_main(argv):
    mode, args = argv[0], argv[1:]
    cpu = int(os.environ.get("NET_BENCH_CPU", "-1"))
    if cpu >= 0 and mode in ("serve", "measure"):
        os.sched_setaffinity(0, {cpu})
    if mode == "serve":
        helper_serve(int(args[0]), int(args[1]), args[2])
        return 0
    if mode == "measure":
        r = helper_measure(json.loads(args[0]))
    elif mode == "until":
        r = helper_until(args[0], args[1], int(args[2]), args[3], args[4], float(args[5]))
    else:
        raise SystemExit("unknown helper " + mode)
    print(json.dumps(r), flush=True)
    return 0


# ---------------------------------------------------------------------------
# The API

class Watch(WatchStream):
    """A watch on a collection; calls on_event(type, obj, monotonic time)."""

    def __init__(self, api, path, on_event):
        self.on_event = on_event
        super().__init__(api, path)

    def event(self, ev, now):
        self.on_event(ev.get("type"), ev.get("object", {}), now)


def pod_ready(obj):
    for c in obj.get("status", {}).get("conditions", []) or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def endpoint_ready(svc, name):
    for ep in svc.get("status", {}).get("endpoints", []) or []:
        if ep.get("name") == name and ep.get("ready"):
            return True
    return False


class Estate:
    """What the watches saw: latest objects, and the flip Pod's transitions."""

    def __init__(self, api, flip="flip", flip_svc="svc-flip"):
        self.cv = threading.Condition()
        self.objs = {}  # (kind, name) -> object
        self.flip, self.flip_svc = flip, flip_svc
        self.pod_ready = []  # (t, bool) on each change of flip's Ready
        self.svc_ready = []  # (t, bool) on each change of flip's endpoint in svc-flip
        self.watches = [Watch(api, NS + "/" + k, lambda t, o, now, k=k: self.event(k, t, o, now))
                        for k in ("pods", "virtualmachines", "services")]

    def event(self, kind, typ, obj, now):
        name = obj.get("metadata", {}).get("name")
        if not name:
            return
        with self.cv:
            if typ == "DELETED":
                self.objs.pop((kind, name), None)
            else:
                self.objs[(kind, name)] = obj
                if kind == "pods" and name == self.flip:
                    r = pod_ready(obj)
                    if not self.pod_ready or self.pod_ready[-1][1] != r:
                        self.pod_ready.append((now, r))
                if kind == "services" and name == self.flip_svc:
                    r = endpoint_ready(obj, self.flip)
                    if not self.svc_ready or self.svc_ready[-1][1] != r:
                        self.svc_ready.append((now, r))
            self.cv.notify_all()

    def get(self, kind, name):
        with self.cv:
            return self.objs.get((kind, name))

    def wait(self, pred, timeout):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
        return True

    def first_after(self, series, t, value, timeout=20):
        """The time of the first change to `value` after t (waits for it)."""
        def find():
            for ts, v in series:
                if ts >= t and v == value:
                    return ts
            return None
        self.wait(lambda: find() is not None, timeout)
        with self.cv:
            return find()

    def stop(self):
        for w in self.watches:
            w.stop = True


class NftMonitor:
    """`nft monitor` in a host's netns: when its agent puts the flip Service's
    DNAT rule (ready) or its reject rule (no ready backends) in place."""

    def __init__(self, netns, service):
        self.service = service
        self.events = []  # (t, bool ready)
        self.cv = threading.Condition()
        self.p = subprocess.Popen(["ip", "netns", "exec", netns, "stdbuf", "-oL", "nft",
                                   "monitor", "rules"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        label = "default/%s tcp/80" % self.service
        for line in self.p.stdout:
            now = time.monotonic()
            if not line.startswith("add rule") or label not in line:
                continue
            ready = " dnat " in line
            with self.cv:
                if not self.events or self.events[-1][1] != ready:
                    self.events.append((now, ready))
                self.cv.notify_all()

    def first_after(self, t, value, timeout=20):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for ts, v in self.events:
                    if ts >= t and v == value:
                        return ts
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


# The readiness probe: `test -f /tmp/ready`, and when it ran (the uptime is
# CLOCK_BOOTTIME, 10 ms steps) with its result, into /tmp/probes.
PROBE = "test -f /tmp/ready; r=$?; read up idle </proc/uptime; echo $up $r >>/tmp/probes; exit $r"


def pod(name, host, labels=None, httpd=None, probe=False):
    """A busybox Pod pinned to host: sleeps, or serves `httpd` with busybox httpd."""
    if httpd is None:
        cmd = ["sleep", "3600"]
    else:
        cmd = ["sh", "-c", "mkdir -p /www && echo %s >/www/index.html && exec httpd -f -p 80 "
               "-h /www" % httpd]
    c = {"name": "main", "image": "busybox", "command": cmd}
    if probe:
        c["readinessProbe"] = {"exec": {"command": ["sh", "-c", PROBE]},
                               "periodSeconds": 1, "failureThreshold": 1}
    return {"apiVersion": "lintel.dev/v1alpha1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"host": host, "terminationGracePeriodSeconds": 0, "containers": [c]}}


def service(name, selector):
    return {"apiVersion": "lintel.dev/v1alpha1", "kind": "Service",
            "metadata": {"name": name},
            "spec": {"selector": selector, "ports": [{"port": 80}]}}


VM = {"apiVersion": "lintel.dev/v1alpha1", "kind": "VirtualMachine",
      "metadata": {"name": "vm-tiny"},
      "spec": {"host": "h2", "image": "tiny", "cpu": 1, "memory": "128Mi",
               "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1}}}

# name: (host, labels, busybox httpd body or None, readiness probe). The Pods
# without httpd sleep; the bench serves echo, HTTP and iperf3 in their netns.
PODS = {
    "client": ("h1", {}, None, False),
    "web-l": ("h1", {"local": "y"}, None, False),
    "web-1": ("h2", {"one": "y", "two": "y"}, None, False),
    "web-2": ("h2", {"two": "y"}, None, False),
    "bb-2": ("h2", {}, "bb-2", False),
    "flip": ("h2", {"app": "flip"}, "flip", True),
}
SERVED = ("web-l", "web-1", "web-2")  # the bench's echo and HTTP server, iperf3 -s
SERVICES = {"svc-one": {"one": "y"}, "svc-two": {"two": "y"}, "svc-local": {"local": "y"},
            "svc-flip": {"app": "flip"}}


# ---------------------------------------------------------------------------

class Bench:
    def __init__(self, cfg):
        self.cfg = cfg
        self.work = tempfile.mkdtemp(prefix="lintel-net-bench.")
        self.tag = "lnb%d" % os.getpid()
        self.hosts = ("h1", "h2")
        self.netns = []
        self.procs = []  # lintel server and agents
        self.helpers = []  # servers in namespaces, nft monitor
        self.uids = set()
        self.estate = None
        self.nftmon = None
        # Pinning (--cpu): the latency clients and the bench's servers share one
        # CPU, so that every path pays the same wake-ups (a wake-up of an idle
        # vCPU on another CPU costs more than most paths here, and varies with
        # the machine's load); iperf3's client and server each get their own.
        if cfg.cpu >= 0:
            os.environ["NET_BENCH_CPU"] = str(cfg.cpu)
            other = (cfg.cpu + 1) % os.cpu_count()
            self.iperf_cpu = (["-A", str(other)], ["-A", str(cfg.cpu)])
        else:
            os.environ.pop("NET_BENCH_CPU", None)
            self.iperf_cpu = ([], [])

    # ---------- setup
    def ns_path(self, name):
        return "/run/netns/" + name

    def spawn(self, args, logname):
        f = open(os.path.join(self.work, logname), "a")
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def lintel(self, *args, **kw):
        env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        return subprocess.run([self.cfg.lintel] + list(args), check=True, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)

    def lab(self):
        w = self.work
        # A copy: a rebuild of the binary during the run does not reach it.
        shutil.copy2(self.cfg.lintel, w + "/lintel")
        self.cfg.lintel = w + "/lintel"
        self.version = run([self.cfg.lintel, "version"]).stdout.strip()
        run(["ip", "link", "set", "lo", "up"])
        run([os.path.join(SRC, "scripts/test-images"), w + "/images"])
        run(["ip", "link", "add", "lab0", "type", "bridge"])
        run(["ip", "addr", "add", "192.168.77.1/24", "dev", "lab0"])
        run(["ip", "link", "set", "lab0", "up"])
        for h in self.hosts:
            n = h[1:]
            ns = "%s-%s" % (self.tag, h)
            run(["ip", "netns", "add", ns])
            self.netns.append(ns)
            run(["ip", "link", "add", "%s-u%s" % (self.tag, n), "type", "veth", "peer", "name",
                 "eth0", "netns", ns])
            run(["ip", "link", "set", "%s-u%s" % (self.tag, n), "master", "lab0", "up"])
            run(["ip", "netns", "exec", ns, "ip", "addr", "add", "192.168.77.1%s/24" % n, "dev",
                 "eth0"])
            run(["ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up"])
            run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"])
            if self.cfg.bridge_nf is not None:
                run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                     "net.bridge.bridge-nf-call-iptables=%d" % self.cfg.bridge_nf])
            os.makedirs("%s/%s" % (w, h))
            for img in ("busybox", "tiny"):
                run([self.cfg.lintel, "image", "--data-dir", "%s/%s" % (w, h), "import",
                     "%s/images/%s" % (w, img), "--name", img])
        # The baseline: two namespaces, one veth pair, the Pods' MTU.
        a, b = self.tag + "-a", self.tag + "-b"
        for ns in (a, b):
            run(["ip", "netns", "add", ns])
            self.netns.append(ns)
            run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"])
        run(["ip", "link", "add", "eth0", "netns", a, "mtu", "1450", "type", "veth", "peer",
             "name", "eth0", "netns", b, "mtu", "1450"])
        for ns, ip in ((a, BASE_A), (b, BASE_B)):
            run(["ip", "netns", "exec", ns, "ip", "addr", "add", ip + "/24", "dev", "eth0"])
            run(["ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up"])
        self.base_a, self.base_b = self.ns_path(a), self.ns_path(b)
        try:
            self.bridge_nf = run(["ip", "netns", "exec", "%s-h1" % self.tag, "cat",
                                  "/proc/sys/net/bridge/bridge-nf-call-iptables"]).stdout.strip()
        except subprocess.CalledProcessError:
            self.bridge_nf = "absent"  # no br_netfilter

    def start_lintel(self):
        w = self.work
        self.spawn([self.cfg.lintel, "server", "--data-dir", w + "/server", "--listen",
                    "192.168.77.1:0", "--no-user-kubeconfig"], "server.log")
        self.kubeconfig = w + "/server/kubeconfig"
        for _ in range(300):
            if os.path.exists(self.kubeconfig) and os.path.getsize(self.kubeconfig) > 0:
                break
            time.sleep(0.1)
        else:
            raise SystemExit("net_bench: no kubeconfig")
        self.api = Api(self.kubeconfig, w)
        for h in self.hosts:
            n = h[1:]
            self.spawn(["nsenter", "--net=" + self.ns_path("%s-%s" % (self.tag, h)),
                        self.cfg.lintel, "agent", "--kubeconfig", self.kubeconfig, "--driver",
                        "oci", "--name", h, "--data-dir", "%s/%s" % (w, h), "--images-dir",
                        "%s/%s/images" % (w, h), "--run-dir", "%s/%s/run" % (w, h),
                        "--address", "192.168.77.1" + n, "--endpoint-listen",
                        "192.168.77.1%s:0" % n, "--heartbeat", "2s"], h + ".log")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st, body = self.api.call("GET", API + "/hosts")
            items = json.loads(body).get("items", []) if st == 200 else []
            if len([i for i in items if i.get("status", {}).get("podCIDR")]) == 2:
                self.host_objs = {i["metadata"]["name"]: i for i in items}
                break
            time.sleep(0.2)
        else:
            raise SystemExit("net_bench: hosts without ranges")
        rt = self.host_objs["h1"]["status"].get("runtime", {})
        self.runtime_version = rt.get("ociRuntime", "?")
        self.accel = self.host_objs["h2"]["status"].get("runtime", {}).get("accelerator", "?")
        self.estate = Estate(self.api)
        self.nftmon = NftMonitor("%s-h1" % self.tag, "svc-flip")
        log("lintel up: %s; VMs under %s" % (self.runtime_version, self.accel))

    def create(self, path, obj):
        st, body = self.api.call("POST", path, obj)
        if st != 201:
            raise SystemExit("net_bench: create %s: %d %s" % (obj["metadata"]["name"], st,
                                                              body[:300]))

    def workloads(self):
        for name, (host, labels, body, probe) in PODS.items():
            self.create(NS + "/pods", pod(name, host, labels, body, probe))
        self.create(NS + "/virtualmachines", VM)
        for name, sel in SERVICES.items():
            self.create(NS + "/services", service(name, sel))
        e = self.estate

        def running():
            for name in PODS:
                p = e.objs.get(("pods", name))
                if not p or p.get("status", {}).get("phase") != "Running":
                    return False
            v = e.objs.get(("virtualmachines", "vm-tiny"))
            return bool(v and v.get("status", {}).get("phase") == "Running")
        if not e.wait(running, 120):
            raise SystemExit("net_bench: workloads not Running")
        self.ip, self.nsf = {}, {}
        for name, (host, *_rest) in PODS.items():
            p = e.get("pods", name)
            self.ip[name] = p["status"]["podIP"]
            uid = p["metadata"]["uid"]
            self.uids.add(uid)
            self.nsf[name] = "%s/%s/run/netns/%s" % (self.work, host, uid)
            if not os.path.exists(self.nsf[name]):
                raise SystemExit("net_bench: no netns file " + self.nsf[name])
        v = e.get("virtualmachines", "vm-tiny")
        self.uids.add(v["metadata"]["uid"])
        self.ip["vm-tiny"] = v["status"]["ip"]
        for name in SERVICES:
            self.ip[name] = e.get("services", name)["spec"]["clusterIP"]
        log("addresses: " + ", ".join("%s %s" % kv for kv in sorted(self.ip.items())))

        def endpoints():
            want = {"svc-one": 1, "svc-two": 2, "svc-local": 1}
            for name, n in want.items():
                s = e.objs.get(("services", name))
                if not s or s.get("status", {}).get("readyEndpoints") != n:
                    return False
            return True
        if not e.wait(endpoints, 60):
            raise SystemExit("net_bench: Services without their endpoints")
        # Servers in the namespaces: echo and HTTP (one Python process) and
        # iperf3 in the baseline's b and the SERVED Pods; busybox httpd in b on
        # 8080, as in the Pods with httpd.
        for name, nsf in [("base", self.base_b)] + [(p, self.nsf[p]) for p in SERVED]:
            self.helper_server(nsf, [sys.executable, SELF, "--helper", "serve", str(ECHO_PORT),
                                     "80", name], wait_ready=True)
            self.helper_server(nsf, ["iperf3", "-s", "-p", str(IPERF_PORT)] + self.iperf_cpu[0])
        www = self.work + "/www"
        os.makedirs(www)
        with open(www + "/index.html", "w") as f:
            f.write("base-bb\n")
        self.helper_server(self.base_b, ["busybox", "httpd", "-f", "-p", "8080", "-h", www])
        time.sleep(0.5)
        # Everything answers (the VM boots under TCG: give it time).
        for target, want in (("web-1", "web-1"), ("web-l", "web-l"), ("svc-one", "web-1"),
                             ("svc-local", "web-l"), ("bb-2", "bb-2"), ("vm-tiny", "vm-tiny")):
            r = self.until(self.nsf["client"], self.ip[target], "ok", want, 120)
            if r["t"] is None:
                raise SystemExit("net_bench: %s (%s) never answered %s from client" % (
                    target, self.ip[target], want))
        self.measure("http", 1, [(self.base_a, BASE_B, 80), (self.base_a, BASE_B, 8080)])
        log("all workloads up and answering")

    def helper_server(self, nsf, argv, wait_ready=False):
        p = subprocess.Popen(["nsenter", "--net=" + nsf] + argv, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        self.helpers.append(p)
        if wait_ready:
            if p.stdout.readline().strip() != "ready":
                raise SystemExit("net_bench: %s did not start in %s" % (argv, nsf))
        else:
            time.sleep(0.2)
        return p

    def helper(self, *args):
        out = run([sys.executable, SELF, "--helper"] + [str(a) for a in args]).stdout
        return json.loads(out.strip().splitlines()[-1])

    def measure(self, mode, n, targets):
        return self.helper("measure", json.dumps({"mode": mode, "n": n,
                                                  "targets": [list(t) for t in targets]}))

    def until(self, nsf, host, want, expect, timeout):
        return self.helper("until", nsf, host, 80, want, expect, timeout)

    # ---------- measurements
    def paths(self):
        cfg = self.cfg
        c = self.nsf["client"]
        paths = [("baseline: veth pair", self.base_a, BASE_B),
                 ("Pod → Pod, same host (lintel0)", c, self.ip["web-l"]),
                 ("Pod → Pod, 2 hosts (VXLAN)", c, self.ip["web-1"])]
        res = {p[0]: {"gbps": [], "retr": []} for p in paths}
        log("paths: %d round trips and %d connect+RR each, alternating" % (cfg.rr, cfg.crr))
        targets = [(ns, ip, ECHO_PORT) for _, ns, ip in paths]
        rr = self.measure("rr", cfg.rr, targets)["us"]
        crr = self.measure("crr", cfg.crr, targets)["us"]
        for k, p in enumerate(paths):
            res[p[0]]["rr"], res[p[0]]["crr"] = rr[k], crr[k]
        log("paths: %d iperf3 runs of %d s each, alternating" % (cfg.iperf_runs, cfg.iperf_secs))
        for _ in range(cfg.iperf_runs):
            for label, cns, ip in paths:
                out = run(["nsenter", "--net=" + cns, "iperf3", "-c", ip, "-p",
                           str(IPERF_PORT), "-t", str(cfg.iperf_secs), "-J"] +
                          self.iperf_cpu[1]).stdout
                j = json.loads(out)["end"]
                res[label]["gbps"].append(j["sum_received"]["bits_per_second"] / 1e9)
                res[label]["retr"].append(j["sum_sent"].get("retransmits", 0))
        return paths, res

    def http(self):
        cfg = self.cfg
        c = self.nsf["client"]
        # (key, label, client netns, address, port, compared with)
        svc = [
            ("base", "baseline: veth pair", self.base_a, BASE_B, 80, None),
            ("web-1", "Pod h1 → Pod web-1 on h2, its IP", c, self.ip["web-1"], 80, None),
            ("svc-one", "Pod h1 → Service, 1 backend (web-1 on h2)", c, self.ip["svc-one"], 80,
             "web-1"),
            ("web-2", "Pod h1 → Pod web-2 on h2, its IP", c, self.ip["web-2"], 80, None),
            ("svc-two", "Pod h1 → Service, 2 backends (web-1, web-2 on h2)", c,
             self.ip["svc-two"], 80, ("web-1", "web-2")),
            ("web-l", "Pod h1 → Pod web-l on h1, its IP", c, self.ip["web-l"], 80, None),
            ("svc-local", "Pod h1 → Service, 1 backend (web-l on h1)", c, self.ip["svc-local"],
             80, "web-l"),
        ]
        bb = [
            ("base-bb", "baseline: veth pair", self.base_a, BASE_B, 8080, None),
            ("bb-2", "Pod h1 → Pod bb-2 on h2", c, self.ip["bb-2"], 80, None),
            ("vm", "Pod h1 → VM vm-tiny on h2 (TCG)", c, self.ip["vm-tiny"], 80, "bb-2"),
        ]
        res = {}
        for targets, n in ((svc, cfg.http), (bb, cfg.http_vm)):
            log("HTTP: %d GETs to each of %s, alternating" % (n, ", ".join(t[0] for t in
                                                                           targets)))
            out = self.measure("http", n, [(t[2], t[3], t[4]) for t in targets])
            for k, t in enumerate(targets):
                res[t[0]] = {"us": out["us"][k], "bodies": out["bodies"][k]}
        return svc, bb, res

    def flip_once(self, ready):
        """One endpoint change of the flip Pod; the times of its steps."""
        e = self.estate
        p = subprocess.Popen([sys.executable, SELF, "--helper", "until", self.nsf["client"],
                              self.ip["svc-flip"], "80", "ok" if ready else "fail", "flip",
                              "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.helpers.append(p)
        if p.stdout.readline().strip() != "ready":
            raise SystemExit("net_bench: the poller did not start")
        t_exec = time.monotonic()
        cmd = ["touch", "/tmp/ready"] if ready else ["rm", "-f", "/tmp/ready"]
        self.lintel("exec", "flip", "--", *cmd)
        t0 = time.monotonic()
        out, _ = p.communicate(timeout=60)
        t_pkt = json.loads(out.strip().splitlines()[-1])["t"]
        t_ready = e.first_after(e.pod_ready, t_exec, ready)
        t_svc = e.first_after(e.svc_ready, t_exec, ready)
        t_rule = self.nftmon.first_after(t_exec, ready, timeout=5)
        return {"exec": t0 - t_exec, "t0": t0, "ready": t_ready, "svc": t_svc, "rule": t_rule,
                "pkt": t_pkt}

    def endpoint_changes(self):
        e = self.estate
        # Start from unready, with the reject rule in h1.
        if not e.wait(lambda: e.pod_ready and not e.pod_ready[-1][1]
                      and e.svc_ready and not e.svc_ready[-1][1], 30):
            raise SystemExit("net_bench: flip is not unready at the start")
        ups, downs = [], []
        # Random pauses: each change lands at a different point of the probe's
        # period (a fixed rhythm would lock onto it).
        rnd = random.Random()
        for i in range(self.cfg.flips):
            log("endpoint change %d of %d" % (i + 1, self.cfg.flips))
            time.sleep(rnd.uniform(0.3, 1.3))
            ups.append(self.flip_once(True))
            time.sleep(rnd.uniform(0.3, 1.3))
            downs.append(self.flip_once(False))
        # When the probe that saw the change ran: the first after the exec
        # started with the new result (the probe logs CLOCK_BOOTTIME).
        offset = time.clock_gettime(time.CLOCK_BOOTTIME) - time.monotonic()
        probes = []
        for line in self.lintel("exec", "flip", "--", "cat", "/tmp/probes").stdout.splitlines():
            f = line.split()
            if len(f) == 2:
                probes.append((float(f[0]) - offset, f[1] == "0"))
        for r, want in [(r, True) for r in ups] + [(r, False) for r in downs]:
            r["probe"] = next((t for t, ok in probes if t >= r["t0"] - r["exec"] and ok == want),
                              None)
        return ups, downs

    # ---------- cleanup
    def dump_logs(self):
        for name in ("server.log", "h1.log", "h2.log"):
            try:
                with open(os.path.join(self.work, name)) as f:
                    tail = f.readlines()[-15:]
            except OSError:
                continue
            log("--- the end of %s:\n%s" % (name, "".join(tail).rstrip()))

    def cleanup(self):
        if self.estate:
            self.estate.stop()
        if self.nftmon:
            self.nftmon.close()
        for p in self.helpers:
            if p.poll() is None:
                p.kill()
            p.wait()
        # Delete the workloads through the API while the agents run (they
        # remove interfaces, cgroups and mounts), then force what is left.
        if hasattr(self, "api") and len(self.procs) == 3:
            try:
                for kind in ("pods", "virtualmachines"):
                    st, body = self.api.call("GET", NS + "/" + kind)
                    for item in json.loads(body).get("items", []) if st == 200 else []:
                        self.api.call("DELETE", NS + "/%s/%s" % (kind, item["metadata"]["name"]))
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    st, body = self.api.call("GET", NS + "/pods")
                    st2, body2 = self.api.call("GET", NS + "/virtualmachines")
                    if (st == 200 and st2 == 200 and not json.loads(body).get("items")
                            and not json.loads(body2).get("items")):
                        break
                    time.sleep(0.3)
                time.sleep(1)
            except Exception as ex:
                log("cleanup: deleting through the API: %s" % ex)
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for h in self.hosts:
            root = "%s/%s/oci/runc" % (self.work, h)
            for rt in ("runc", "crun"):
                if not shutil.which(rt):
                    continue
                ids = subprocess.run([rt, "--root", root, "list", "-q"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True).stdout.split()
                for cid in ids:
                    subprocess.run([rt, "--root", root, "delete", "-f", cid],
                                   stderr=subprocess.DEVNULL)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = open("/proc/%s/cmdline" % pid, "rb").read()
            except OSError:
                continue
            if self.work.encode() in cmd and (b"qemu-system" in cmd or b"conmon" in cmd):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        with open("/proc/mounts") as f:
            mine = [l.split()[1] for l in f if " " + self.work in l]
        for m in sorted(mine, reverse=True):
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        for ns in self.netns:
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        # Cgroups of this run's workloads, if the agent left any.
        for ctl in os.listdir("/sys/fs/cgroup"):
            for uid in self.uids:
                top = "/sys/fs/cgroup/%s/lintel/pods/%s" % (ctl, uid)
                if os.path.isdir(top):
                    for d, _, _ in sorted(os.walk(top), key=lambda x: -len(x[0])):
                        try:
                            os.rmdir(d)
                        except OSError:
                            pass
        if self.cfg.keep:
            log("kept " + self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)


# ---------------------------------------------------------------------------
# The report

def med(v):
    return statistics.median(v) if v else float("nan")


def p99(v):
    if not v:
        return float("nan")
    s = sorted(v)
    return s[max(0, math.ceil(0.99 * len(s)) - 1)]


def fmt_us(x):
    return "%.0f" % x if x < 10000 else "{:,.0f}".format(x)


def ms(x):
    return "—" if x is None else "%.0f" % (x * 1000)


def report(cfg, facts, paths, pres, svc, bb, hres, ups, downs):
    lines = [
        "### Results (%s, %s)" % (time.strftime("%Y-%m-%d"), facts),
        "",
        "Medians; ratios against the baseline of the same run.",
        "",
        "| path | iperf3 TCP Gbit/s (retransmits) | × | RR 64 B median / p99 µs | × | "
        "connect+RR median / p99 µs | × |",
        "|---|---|---|---|---|---|---|",
    ]
    base = pres[paths[0][0]]
    bg, br, bc = med(base["gbps"]), med(base["rr"]), med(base["crr"])
    for label, _, _ in paths:
        r = pres[label]
        g = med(r["gbps"])
        lines.append("| %s | %.2f (%d) | %.2f | %s / %s | %.2f | %s / %s | %.2f |" % (
            label, g, int(med(r["retr"])), g / bg, fmt_us(med(r["rr"])), fmt_us(p99(r["rr"])),
            med(r["rr"]) / br, fmt_us(med(r["crr"])), fmt_us(p99(r["crr"])),
            med(r["crr"]) / bc))
    lines += [
        "",
        "iperf3: median of %d runs of %d s (runs alternating paths); RR: %d round trips on one "
        "connection; connect+RR: %d, a new connection each; requests alternate paths one by "
        "one." % (cfg.iperf_runs, cfg.iperf_secs, cfg.rr, cfg.crr),
        "",
    ]
    svc_over = []

    def table(title, targets, n):
        lines.extend(["| %s (n = %d each, alternating) | median µs | p99 µs | vs |" % (title, n),
                      "|---|---|---|---|"])
        floor = med(hres[targets[0][0]]["us"])
        for key, label, _, _, _, ref in targets:
            r = hres[key]
            m = med(r["us"])
            if ref is None:
                vs = "floor" if key.startswith("base") else "%.2f× floor" % (m / floor)
            elif key == "vm":
                vs = "**%.1f×** %s" % (m / med(hres[ref]["us"]), ref)
            else:
                refs = ref if isinstance(ref, tuple) else (ref,)
                direct = med([x for k in refs for x in hres[k]["us"]])
                over = (m / direct - 1) * 100
                svc_over.append(over)
                vs = "**%+.1f%%** vs %s IP%s" % (over, " and ".join(refs),
                                                 "s" if len(refs) > 1 else "")
            bodies = ", ".join("%s %d" % kv for kv in sorted(r["bodies"].items()))
            lines.append("| %s (%s) | %s | %s | %s |" % (label, bodies, fmt_us(m),
                                                         fmt_us(p99(r["us"])), vs))
        lines.append("")

    table("HTTP GET, new connection each, to the bench's HTTP server", svc, cfg.http)
    lines += [
        "Aim, a Service costs under 10%% over the backend's IP: %s (worst %+.1f%%)." % (
            "met" if max(svc_over) < 10 else "not met", max(svc_over)),
        "",
    ]
    table("HTTP GET, new connection each, to busybox httpd", bb, cfg.http_vm)
    lines += [
        "Endpoint changes (%d each way; flip on h2 is svc-flip's only backend, polled every "
        "5 ms from client on h1); ms from t0, when `lintel exec` returned:" % cfg.flips,
        "",
        "| change | exec | t0 → the probe that sees it | → Pod Ready | → Service endpoint | "
        "→ DNAT rule in h1 | → first response | **Ready → traffic** | t0 → traffic |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    steps = (("t0", "probe"), ("probe", "ready"), ("ready", "svc"), ("svc", "rule"),
             ("rule", "pkt"), ("ready", "pkt"), ("t0", "pkt"))

    def diff(r, a, b):
        return None if (r.get(a) is None or r.get(b) is None) else r[b] - r[a]

    def row(label, r):
        cells = [ms(diff(r, a, b)) for a, b in steps]
        cells[5] = "**%s**" % cells[5]
        return "| %s | %s | %s |" % (label, ms(r["exec"]), " | ".join(cells))

    def medrow(label, rs):
        cells = []
        for a, b in steps:
            v = [diff(r, a, b) for r in rs if diff(r, a, b) is not None]
            cells.append(ms(med(v)) if v else "—")
        cells[5] = "**%s**" % cells[5]
        return "| **%s, median** | %s | %s |" % (label, ms(med([r["exec"] for r in rs])),
                                                 " | ".join(cells))

    for i, r in enumerate(ups):
        lines.append(row("ready %d" % (i + 1), r))
    lines.append(medrow("ready", ups))
    for i, r in enumerate(downs):
        lines.append(row("unready %d" % (i + 1), r))
    lines.append(medrow("unready", downs))
    rt = [r["pkt"] - r["ready"] for r in ups if r["pkt"] is not None and r["ready"] is not None]
    lines += [
        "",
        "Aim, Ready → traffic under 1 s: %s (worst %s ms)." % (
            "met" if rt and max(rt) < 1 else "not met", ms(max(rt)) if rt else "—"),
        "For unready the last column is when the poller first failed (the DNAT rule replaced "
        "by a reject).",
    ]
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--helper":
        return helper_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lintel", required=True)
    ap.add_argument("--quick", action="store_true",
                    help="1 iperf3 run of 1 s, 300 RR, 60 connect+RR, 60 GETs (30 for "
                         "busybox and the VM), 2 endpoint changes each way")
    ap.add_argument("--iperf-runs", type=int, default=3)
    ap.add_argument("--iperf-secs", type=int, default=3)
    ap.add_argument("--rr", type=int, default=1000)
    ap.add_argument("--crr", type=int, default=300)
    ap.add_argument("--http", type=int, default=300)
    ap.add_argument("--http-vm", type=int, default=100)
    ap.add_argument("--flips", type=int, default=5)
    ap.add_argument("--cpu", type=int, default=os.cpu_count() - 1,
                    help="the CPU of the latency clients and servers and of iperf3's client "
                         "(its server: the next CPU); -1: no pinning")
    ap.add_argument("--bridge-nf", type=int, choices=(0, 1),
                    help="set net.bridge.bridge-nf-call-iptables in the hosts (default: as "
                         "the kernel has it; reported)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    ap.add_argument("--report")
    cfg = ap.parse_args()
    if cfg.quick:
        cfg.iperf_runs, cfg.iperf_secs = 1, 1
        cfg.rr, cfg.crr, cfg.http, cfg.http_vm, cfg.flips = 300, 60, 60, 30, 2
    cfg.lintel = os.path.abspath(cfg.lintel)
    if os.geteuid() != 0:
        print("skipped: needs root")
        return 77
    for tool in ("iperf3", "busybox", "nft", "unshare", "nsenter", "ip", "stdbuf"):
        if not shutil.which(tool):
            print("skipped: no " + tool)
            return 77
    # Everything runs in a private network namespace: the lab's bridge and the
    # server's address vanish with it.
    if not os.environ.get("LINTEL_NET_BENCH_NETNS"):
        os.environ["LINTEL_NET_BENCH_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable, SELF] + sys.argv[1:])
    b = Bench(cfg)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cleanup runs on the way out
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    t_start = time.monotonic()
    load0 = open("/proc/loadavg").read().split()[0]
    try:
        b.lab()
        b.start_lintel()
        b.workloads()
        paths, pres = b.paths()
        svc, bb, hres = b.http()
        ups, downs = b.endpoint_changes()
    except BaseException as ex:
        if not isinstance(ex, SystemExit) or ex.code not in (0, None):
            b.dump_logs()
        raise
    finally:
        b.cleanup()
    load1 = open("/proc/loadavg").read().split()[0]
    pinned = "clients and servers on CPU %d" % cfg.cpu if cfg.cpu >= 0 else "not pinned"
    facts = ("%s, %d vCPU, kernel %s, %s, VMs under %s; load average %s before, %s after; "
             "%s; bridge-nf-call-iptables %s in the hosts; %.0f s in all" % (
                 b.version, os.cpu_count(), os.uname().release, b.runtime_version, b.accel,
                 load0, load1, pinned, b.bridge_nf, time.monotonic() - t_start))
    text = report(cfg, facts, paths, pres, svc, bb, hres, ups, downs)
    print(text)
    if cfg.report:
        with open(cfg.report, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
