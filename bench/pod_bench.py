#!/usr/bin/python3
"""pod_bench: Pod start latency and throughput through Lintel against the floor
(the OCI runtime run by hand on the same bundle) and a peer (podman), and the
agent's memory (bench/README.md, "Pods through Lintel").

In one run, on this machine, as root:
  1. A `lintel server` and a `lintel agent --driver oci` (separate processes, so
     the agent's RSS is its own), the busybox test image imported.
  2. Latency, medians over --runs starts, the three alternating so that load
     hits them alike; each start runs `sleep 1000` in busybox:
       runtime  `RUNTIME run --detach` of a bundle (the image's rootfs on an
                overlay, `RUNTIME spec` with its own network namespace) until it
                returns: the container runs (create + start)
       lintel   POST of a Pod until the watch reports it Running
       podman   `podman run -d --network none` until it returns
     RUNTIME is the one the agent uses (reported on its Host).
  3. Throughput: --burst starts at once (threads), time until all run.
  4. Agent RSS: idle, then with --rss-pods Pods running (conmon's RSS is
     reported apart: one small process per container).
Untimed: deleting each Pod or container before the next start.

  pod_bench.py --lintel build/bin/lintel [--quick] [--runs N] [--burst N]
               [--rss-pods N] [--report FILE]
Exits 77 (skipped) without root, podman or the runtime.
"""
import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PODS = "/apis/lintel.dev/v1alpha1/namespaces/default/pods"


def log(msg):
    print("pod_bench: " + msg, file=sys.stderr, flush=True)


def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Api:
    """Just enough of the API over HTTPS with the kubeconfig's client certificate."""

    def __init__(self, kubeconfig, work):
        text = open(kubeconfig).read()

        def field(name):
            m = re.search(name + r':\s*"?([^"\s]+)"?', text)
            if not m:
                raise SystemExit("pod_bench: no %s in %s" % (name, kubeconfig))
            return m.group(1)

        m = re.match(r"https://([^:/]+):(\d+)", field("server"))
        self.host, self.port = m.group(1), int(m.group(2))
        ca = os.path.join(work, "ca.crt")
        with open(ca, "wb") as f:
            f.write(base64.b64decode(field("certificate-authority-data")))
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.check_hostname = False
        self.auth = {"Authorization": "Bearer " + field("token")}

    def conn(self, timeout=60):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def call(self, method, path, body=None, conn=None, ctype="application/json"):
        c = conn or self.conn()
        headers = dict(self.auth)
        if body is not None:
            headers["Content-Type"] = ctype
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers=headers)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, data


class WatchStream:
    """A watch on a collection, resumed when it breaks: each event goes to
    self.event(ev, monotonic time) on the stream's own thread."""

    def __init__(self, api, path):
        self.api = api
        self.path = path
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            try:
                c = self.api.conn(timeout=None)
                c.request("GET", self.path + "?watch=1", headers=self.api.auth)
                r = c.getresponse()
                buf = b""
                while not self.stop:
                    chunk = r.read1(65536)
                    if not chunk:
                        break
                    now = time.monotonic()
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line.strip():
                            self.event(json.loads(line), now)
            except Exception as e:  # reconnect
                if not self.stop:
                    log("watch %s: %s; again" % (self.path, e))
                    time.sleep(0.2)

    def event(self, ev, now):
        raise NotImplementedError


class RunningWatch(WatchStream):
    """Records when each object of a collection (Pods; vm_bench: VirtualMachines)
    is first seen Running, its uid, and when each is gone."""

    def __init__(self, api, path=PODS):
        self.cv = threading.Condition()
        self.running = {}
        self.uid = {}
        self.present = set()
        super().__init__(api, path)

    def event(self, ev, now):
        obj = ev.get("object", {})
        name = obj.get("metadata", {}).get("name")
        if not name:
            return
        with self.cv:
            if ev.get("type") == "DELETED":
                self.present.discard(name)
            else:
                self.present.add(name)
                self.uid[name] = obj["metadata"].get("uid")
                if obj.get("status", {}).get("phase") == "Running" and name not in self.running:
                    self.running[name] = now
            self.cv.notify_all()

    def wait(self, pred, timeout=120):
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
        return True


def pod(name):
    return {"apiVersion": "lintel.dev/v1alpha1", "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "main", "image": "busybox",
                                     "command": ["sleep", "1000"]}]}}


class Bench:
    def __init__(self, cfg):
        self.cfg = cfg
        self.work = tempfile.mkdtemp(prefix="lintel-pod-bench.")
        self.procs = []
        self.containers = []  # (runtime, root, id) started by hand
        self.mounts = []

    # ---------- setup
    def spawn(self, args, logname):
        f = open(os.path.join(self.work, logname), "w")
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def start_lintel(self):
        w = self.work
        run([os.path.join(SRC, "scripts/test-images"), w + "/images"])
        self.server = self.spawn([self.cfg.lintel, "server", "--data-dir", w + "/server",
                                  "--listen", "127.0.0.1:0", "--no-user-kubeconfig",
                                  "--store-sync", "normal"], "server.log")
        kc = w + "/server/kubeconfig"
        for _ in range(300):
            if os.path.exists(kc):
                break
            time.sleep(0.1)
        self.kubeconfig = kc
        run([self.cfg.lintel, "image", "--data-dir", w + "/agentdata", "import",
             w + "/images/busybox", "--name", "busybox"])
        self.agent = self.spawn([self.cfg.lintel, "agent", "--kubeconfig", kc, "--data-dir",
                                 w + "/agent", "--driver", "oci", "--name", "bench-host",
                                 "--images-dir", w + "/agentdata/images", "--run-dir",
                                 w + "/run", "--endpoint-listen", "127.0.0.1:0",
                                 "--pods", str(max(110, self.cfg.rss_pods + 10,
                                                   self.cfg.burst + 10))], "agent.log")
        self.api = Api(kc, w)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st, body = self.api.call("GET", "/apis/lintel.dev/v1alpha1/hosts/bench-host")
            if st == 200:
                host = json.loads(body)
                conds = host.get("status", {}).get("conditions", [])
                if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                    self.runtime_version = host["status"].get("runtime", {}).get("ociRuntime", "")
                    break
            time.sleep(0.2)
        else:
            raise SystemExit("pod_bench: the agent's host never became Ready; see " + w)
        self.runtime = self.runtime_version.split()[0] if self.runtime_version else "runc"
        self.watch = RunningWatch(self.api)
        log("lintel up: agent on %s" % self.runtime_version)

    def make_bundle(self):
        """The busybox image's rootfs (from the OCI layout) and a runtime spec."""
        w = self.work
        self.rootfs_lower = w + "/bundle-lower"
        os.makedirs(self.rootfs_lower)
        layout = w + "/images/busybox"
        index = json.load(open(layout + "/index.json"))
        digest = index["manifests"][0]["digest"].split(":")[1]
        manifest = json.load(open(layout + "/blobs/sha256/" + digest))
        for layer in manifest["layers"]:
            run(["tar", "-xf", layout + "/blobs/sha256/" + layer["digest"].split(":")[1], "-C",
                 self.rootfs_lower])
        self.spec_dir = w + "/spec"
        os.makedirs(self.spec_dir)
        run([self.runtime, "spec"], cwd=self.spec_dir)
        spec = json.load(open(self.spec_dir + "/config.json"))
        spec["process"]["terminal"] = False
        spec["process"]["args"] = ["sleep", "1000"]
        spec["root"]["readonly"] = False
        self.spec = spec

    def runtime_start(self, i):
        """A bundle on a fresh overlay; returns the seconds `run --detach` took."""
        b = "%s/b%d" % (self.work, i)
        for d in ("upper", "work", "rootfs"):
            os.makedirs(b + "/" + d)
        run(["mount", "-t", "overlay", "overlay", "-o",
             "lowerdir=%s,upperdir=%s/upper,workdir=%s/work" % (self.rootfs_lower, b, b),
             b + "/rootfs"])
        self.mounts.append(b + "/rootfs")
        spec = dict(self.spec)
        spec["linux"] = dict(spec["linux"], cgroupsPath="/lintel-bench/b%d" % i)
        json.dump(spec, open(b + "/config.json", "w"))
        root = self.work + "/rt-root"
        cid = "bench-%d" % i
        # Not a pipe for its stderr: the detached container would hold it open.
        with open(b + ".stderr", "w") as err:
            t0 = time.monotonic()
            subprocess.run([self.runtime, "--root", root, "run", "--detach", "--bundle", b, cid],
                           check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=err)
            dt = time.monotonic() - t0
        self.containers.append((self.runtime, root, cid, b))
        return dt

    def runtime_cleanup(self):
        for rt, root, cid, b in self.containers:
            subprocess.run([rt, "--root", root, "delete", "-f", cid], stderr=subprocess.DEVNULL)
            subprocess.run(["umount", b + "/rootfs"], stderr=subprocess.DEVNULL)
            self.mounts = [m for m in self.mounts if m != b + "/rootfs"]
            shutil.rmtree(b, ignore_errors=True)
            try:
                os.unlink(b + ".stderr")
            except OSError:
                pass
        self.containers = []
        for d in ("/sys/fs/cgroup/lintel-bench", "/sys/fs/cgroup/memory/lintel-bench"):
            if os.path.isdir(d):
                for sub in os.listdir(d):
                    if os.path.isdir(os.path.join(d, sub)):
                        try:
                            os.rmdir(os.path.join(d, sub))
                        except OSError:
                            pass

    def setup_podman(self):
        w = self.work + "/podman"
        os.makedirs(w)
        with open(w + "/containers.conf", "w") as f:
            f.write('[engine]\nruntime = "%s"\ncgroup_manager = "cgroupfs"\n'
                    'events_logger = "file"\n[containers]\nnetns = "none"\n'
                    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
                    % self.runtime)
        with open(w + "/storage.conf", "w") as f:
            f.write('[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\nrunroot = "%s/run"\n'
                    % (w, w))
        self.podman_env = dict(os.environ, CONTAINERS_CONF=w + "/containers.conf",
                               CONTAINERS_STORAGE_CONF=w + "/storage.conf")
        run(["podman", "load", "-i", self.work + "/images/busybox.tar"], env=self.podman_env)
        out = run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                  env=self.podman_env).stdout.split()
        self.podman_image = out[0]

    def podman_start(self, i):
        t0 = time.monotonic()
        subprocess.run(["podman", "run", "-d", "--network", "none", "--name", "pb-%d" % i,
                        self.podman_image, "sleep", "1000"], check=True, env=self.podman_env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return time.monotonic() - t0

    def podman_cleanup(self):
        subprocess.run(["podman", "rm", "-af", "-t", "0"], env=self.podman_env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def lintel_start(self, name):
        t0 = time.monotonic()
        st, body = self.api.call("POST", PODS, pod(name))
        if st != 201:
            raise SystemExit("pod_bench: create %s: %d %s" % (name, st, body[:300]))
        if not self.watch.wait(lambda: name in self.watch.running, 120):
            raise SystemExit("pod_bench: %s never Running; see %s" % (name, self.work))
        return self.watch.running[name] - t0

    def lintel_cleanup(self, names):
        for n in names:
            self.api.call("DELETE", PODS + "/" + n)
        self.watch.wait(lambda: not (set(names) & self.watch.present), 120)

    # ---------- measurements
    def latency(self):
        r, l, p = [], [], []
        for i in range(self.cfg.runs):
            r.append(self.runtime_start(i))
            self.runtime_cleanup()
            l.append(self.lintel_start("lat-%d" % i))
            self.lintel_cleanup(["lat-%d" % i])
            p.append(self.podman_start(i))
            self.podman_cleanup()
        return r, l, p

    def burst(self, n):
        def timed(fn, names):
            out = [None] * len(names)
            t0 = time.monotonic()
            ts = [threading.Thread(target=lambda k=k: out.__setitem__(k, fn(names[k])))
                  for k in range(len(names))]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            return time.monotonic() - t0

        rt = timed(lambda k: self.runtime_start(1000 + k), list(range(n)))
        self.runtime_cleanup()
        names = ["burst-%d" % k for k in range(n)]
        lt = timed(self.lintel_start, names)
        self.lintel_cleanup(names)
        pt = timed(lambda k: self.podman_start(1000 + k), list(range(n)))
        self.podman_cleanup()
        return rt, lt, pt

    def agent_rss(self, n):
        time.sleep(3)
        idle = rss_kib(self.agent.pid)
        names = ["rss-%d" % k for k in range(n)]
        for name in names:
            st, body = self.api.call("POST", PODS, pod(name))
            if st != 201:
                raise SystemExit("pod_bench: create %s: %d" % (name, st))
        ok = self.watch.wait(lambda: all(x in self.watch.running for x in names), 300)
        if not ok:
            raise SystemExit("pod_bench: not all %d Pods Running; see %s" % (n, self.work))
        time.sleep(3)
        busy = rss_kib(self.agent.pid)
        conmon = 0
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if open("/proc/%s/comm" % pid).read().strip() == "conmon":
                        conmon += rss_kib(int(pid))
                except OSError:
                    pass
        self.lintel_cleanup(names)
        return idle, busy, conmon

    def cleanup(self):
        if hasattr(self, "watch"):
            self.watch.stop = True
        try:
            self.runtime_cleanup()
        except Exception:
            pass
        if hasattr(self, "podman_env"):
            subprocess.run(["podman", "rm", "-af", "-t", "0"], env=self.podman_env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["podman", "system", "reset", "-f"], env=self.podman_env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for p in reversed(self.procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        for rt in ("runc", "crun"):
            root = self.work + "/agent/oci/runc"
            out = subprocess.run([rt, "--root", root, "list", "-q"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True).stdout.split()
            for cid in out:
                subprocess.run([rt, "--root", root, "delete", "-f", cid],
                               stderr=subprocess.DEVNULL)
        with open("/proc/mounts") as f:
            mine = [l.split()[1] for l in f if self.work in l]
        for m in sorted(mine, reverse=True):
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.work, ignore_errors=True)


def ms(x):
    return "%.1f" % (x * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lintel", required=True)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--burst", type=int, default=50)
    ap.add_argument("--rss-pods", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="5 runs, 10 at once, 20 Pods")
    ap.add_argument("--report")
    cfg = ap.parse_args()
    if cfg.quick:
        cfg.runs, cfg.burst, cfg.rss_pods = 5, 10, 20
    if os.geteuid() != 0:
        print("skipped: needs root")
        return 77
    for tool in ("podman", "runc", "conmon"):
        if not shutil.which(tool):
            print("skipped: no " + tool)
            return 77
    b = Bench(cfg)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cleanup runs on the way out
    try:
        b.start_lintel()
        b.make_bundle()
        b.setup_podman()
        log("latency: %d starts each" % cfg.runs)
        r, l, p = b.latency()
        log("burst: %d at once" % cfg.burst)
        br, bl, bp = b.burst(cfg.burst)
        log("agent RSS with %d Pods" % cfg.rss_pods)
        idle, busy, conmon = b.agent_rss(cfg.rss_pods)
    finally:
        b.cleanup()
    mr, ml, mp = statistics.median(r), statistics.median(l), statistics.median(p)
    lines = [
        "## Pod start: Lintel vs %s and podman (%s)" % (b.runtime, time.strftime("%Y-%m-%d")),
        "",
        "Runtime: %s. Medians of %d starts each, alternating." % (b.runtime_version, cfg.runs),
        "",
        "| start | median ms | p90 ms | vs %s |" % b.runtime,
        "|---|---|---|---|",
    ]
    for label, v in (("`%s run --detach` (floor)" % b.runtime, r),
                     ("Lintel: create → Running (watch)", l),
                     ("`podman run -d`", p)):
        p90 = sorted(v)[int(len(v) * 0.9) - 1 if len(v) >= 10 else -1]
        lines.append("| %s | %s | %s | %+.1f ms (%.2f×) |" % (label, ms(statistics.median(v)),
                                                            ms(p90), (statistics.median(v) - mr)
                                                            * 1000, statistics.median(v) / mr))
    lines += [
        "",
        "Lintel adds **%s ms** to %s's median (aim: under 50 ms); podman takes %.2f× "
        "Lintel's time." % (ms(ml - mr), b.runtime, mp / ml),
        "",
        "| %d at once | all running, s | starts/s |" % cfg.burst,
        "|---|---|---|",
        "| %s | %.2f | %.1f |" % (b.runtime, br, cfg.burst / br),
        "| Lintel | %.2f | %.1f |" % (bl, cfg.burst / bl),
        "| podman | %.2f | %.1f |" % (bp, cfg.burst / bp),
        "",
        "Agent RSS: **%.1f MiB idle**, **%.1f MiB with %d Pods** running (aims: 30 and "
        "100 MiB); their conmons: %.1f MiB in all." % (idle / 1024, busy / 1024, cfg.rss_pods,
                                                        conmon / 1024),
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if cfg.report:
        open(cfg.report, "w").write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
