#!/usr/bin/python3
"""vm_bench: VM start latency through Lintel against raw QEMU on the same image
and flags (the floor), linked-clone time, and how many tiny VMs one host starts
at once with their memory (bench/README.md, "VMs through Lintel").

In one run, on this machine, as root:
  1. `lintel up` (server and agent in one process) with the tiny test guest
     imported (scripts/test-images); the accelerator is the agent's (TCG here).
  2. Latency, medians over --runs boots each, alternating:
       qemu    the exact command line Lintel gave QEMU (read from /proc of a VM
               it started), on a fresh linked clone and seed made beforehand,
               from exec until the guest's marker ("lintel-tiny: ready")
               appears in the console log; also until QMP answers
       lintel  POST of a VirtualMachine until the watch reports it Running,
               and until the marker appears in its console log
     Lintel's times include cloning the disk and writing the seed.
  3. Clone time: `VmImageStore::CloneDisk` is `qemu-img create -b`; timed on
     the tiny base and on a 20 GiB one (a clone does not depend on size).
  4. Density: --concurrent VMs (128Mi each) created at once: time until all
     Running and all at the marker, and the QEMUs' RSS and PSS.
Untimed: deleting each VM before the next boot.

  vm_bench.py --lintel build/bin/lintel [--quick] [--runs N] [--concurrent N]
              [--report FILE]
Exits 77 (skipped) without root or QEMU.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pod_bench import Api, RunningWatch, rss_kib  # noqa: E402

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VMS = "/apis/lintel.dev/v1alpha1/namespaces/default/virtualmachines"
MARKER = b"lintel-tiny: ready"


def log(msg):
    print("vm_bench: " + msg, file=sys.stderr, flush=True)


def run(args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def vm(name, memory="256Mi"):
    return {"apiVersion": "lintel.dev/v1alpha1", "kind": "VirtualMachine",
            "metadata": {"name": name},
            "spec": {"image": "tiny", "cpu": 1, "memory": memory, "runStrategy": "Always",
                     "cloudInit": {"userData": "#!/bin/sh\necho bench\n"}}}


def wait_marker(path, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                if MARKER in f.read():
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.005)
    raise SystemExit("vm_bench: no marker in %s" % path)


class Bench:
    def __init__(self, cfg):
        self.cfg = cfg
        self.work = tempfile.mkdtemp(prefix="lintel-vm-bench.")
        self.procs = []
        self.raw = []  # raw QEMU processes

    def start_lintel(self):
        w = self.work
        run([os.path.join(SRC, "scripts/test-images"), w + "/images", "tiny"])
        run([self.cfg.lintel, "image", "--data-dir", w + "/data", "import", w + "/images/tiny",
             "--name", "tiny"])
        port = free_port()
        f = open(w + "/up.log", "w")
        self.up = subprocess.Popen([self.cfg.lintel, "up", "--data-dir", w + "/data", "--listen",
                                    "127.0.0.1:%d" % port, "--run-dir", w + "/run",
                                    "--no-user-kubeconfig"], stdout=f, stderr=subprocess.STDOUT)
        self.procs.append(self.up)
        kc = w + "/data/kubeconfig"
        for _ in range(300):
            if os.path.exists(kc):
                break
            time.sleep(0.1)
        self.api = Api(kc, w)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st, body = self.api.call("GET", "/apis/lintel.dev/v1alpha1/hosts")
            items = json.loads(body).get("items", []) if st == 200 else []
            if items and items[0].get("status", {}).get("runtime", {}).get("accelerator") not in (
                    None, "none"):
                self.accel = items[0]["status"]["runtime"]["accelerator"]
                self.host = items[0]["metadata"]["name"]
                break
            time.sleep(0.2)
        else:
            raise SystemExit("vm_bench: no host that runs VMs; see " + w)
        self.watch = RunningWatch(self.api, VMS)
        log("lintel up: VMs under %s" % self.accel)

    def vm_dir(self, name):
        return "%s/data/agent/qemu/vms/%s" % (self.work, self.watch.uid[name])

    def lintel_boot(self, name, memory="256Mi"):
        t0 = time.monotonic()
        st, body = self.api.call("POST", VMS, vm(name, memory))
        if st != 201:
            raise SystemExit("vm_bench: create %s: %d %s" % (name, st, body[:300]))
        if not self.watch.wait(lambda: name in self.watch.running):
            raise SystemExit("vm_bench: %s never Running; see %s" % (name, self.work))
        running = self.watch.running[name] - t0
        marker = wait_marker(self.vm_dir(name) + "/console.log") - t0
        return running, marker

    def lintel_delete(self, names):
        for n in names:
            self.api.call("DELETE", VMS + "/" + n)
        if not self.watch.wait(lambda: not (set(names) & self.watch.present)):
            raise SystemExit("vm_bench: VMs not deleted; see " + self.work)
        # The agent removes the QEMU and its directory right after the object.
        time.sleep(0.5)

    def capture_argv(self):
        """Lintel's QEMU command line, from a VM it started."""
        self.lintel_boot("probe")
        d = self.vm_dir("probe")
        pid = int(open(d + "/qemu.pid").read())
        argv = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")[:-1]
        self.argv = [a.decode() for a in argv]
        self.probe_dir = d
        self.base = json.load(open(d + "/state.json"))
        # Keep a copy of the seed: the raw runs reuse it (its instance-id
        # differs from theirs, which makes no difference to the boot).
        shutil.copy(d + "/seed.iso", self.work + "/seed.iso")
        backing = run(["qemu-img", "info", "-U", "--output=json", d + "/root.qcow2"]).stdout
        self.backing = json.loads(backing)["backing-filename"]
        self.lintel_delete(["probe"])

    def raw_boot(self, i):
        """The same argv on fresh files; seconds to QMP and to the marker."""
        d = "%s/raw%d" % (self.work, i)
        os.makedirs(d)
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", self.backing, "-F", "qcow2",
             d + "/root.qcow2"])
        shutil.copy(self.work + "/seed.iso", d + "/seed.iso")
        subs = {self.probe_dir: d}
        argv = []
        for a in self.argv:
            for old, new in subs.items():
                a = a.replace(old, new)
            a = a.replace(self.base["uid"], "raw%d" % i)
            argv.append(a)
        qmp = [a for a in argv if a.startswith("unix:") and ".qmp" in a][0]
        qmp_path = qmp[len("unix:"):].split(",")[0]
        err = open(d + "/stderr", "w")
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                             start_new_session=True)
        self.raw.append(p)
        t_qmp = None
        while t_qmp is None and time.monotonic() - t0 < 30:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(qmp_path)
                s.recv(4096)  # the greeting
                t_qmp = time.monotonic()
            except OSError:
                time.sleep(0.002)
            finally:
                s.close()
        marker = wait_marker(d + "/console.log") - t0
        p.kill()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)
        return (t_qmp - t0) if t_qmp else float("nan"), marker

    def clone_times(self, n):
        out = {}
        big = self.work + "/big.qcow2"
        run(["qemu-img", "create", "-q", "-f", "qcow2", big, "20G"])
        for label, base in (("tiny", self.backing), ("20 GiB", big)):
            ts = []
            for i in range(n):
                path = "%s/clone-%d.qcow2" % (self.work, i)
                t0 = time.monotonic()
                run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", path])
                ts.append(time.monotonic() - t0)
                os.unlink(path)
            out[label] = statistics.median(ts)
        return out

    def density(self, n):
        # Room for n vCPUs on this host's CPUs (the default VM overcommit is 4:1).
        ratio = min(64, max(4, n))
        st, body = self.api.call("PATCH", "/apis/lintel.dev/v1alpha1/hosts/" + self.host,
                                 {"spec": {"overcommit": {"vmCpu": ratio}}},
                                 ctype="application/merge-patch+json")
        if st != 200:
            raise SystemExit("vm_bench: host overcommit: %d %s" % (st, body[:200]))
        names = ["dense-%d" % k for k in range(n)]
        t0 = time.monotonic()
        for name in names:
            st, body = self.api.call("POST", VMS, vm(name, "128Mi"))
            if st != 201:
                raise SystemExit("vm_bench: create %s: %d %s" % (name, st, body[:200]))
        if not self.watch.wait(lambda: all(x in self.watch.running for x in names), 300):
            raise SystemExit("vm_bench: not all %d VMs Running; see %s" % (n, self.work))
        t_running = time.monotonic() - t0
        t_marker = max(wait_marker(self.vm_dir(x) + "/console.log", 600) for x in names) - t0
        time.sleep(2)
        rss = pss = 0
        for x in names:
            pid = int(open(self.vm_dir(x) + "/qemu.pid").read())
            rss += rss_kib(pid)
            pss += pss_kib(pid)
        agent = rss_kib(self.up.pid)
        self.lintel_delete(names)
        return t_running, t_marker, rss / n, pss / n, agent

    def cleanup(self):
        if hasattr(self, "watch"):
            self.watch.stop = True
        for p in self.raw:
            if p.poll() is None:
                p.kill()
                p.wait()
        for p in reversed(self.procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        # QEMUs outlive `lintel up` by design: the bench's own go by PID.
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmd = open("/proc/%s/cmdline" % pid, "rb").read()
                except OSError:
                    continue
                if self.work.encode() in cmd and b"qemu-system" in cmd:
                    os.kill(int(pid), signal.SIGKILL)
        shutil.rmtree(self.work, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ms(x):
    return "%.0f" % (x * 1000)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lintel", required=True)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--concurrent", type=int, default=16)
    ap.add_argument("--quick", action="store_true", help="3 boots each, 4 at once")
    ap.add_argument("--report")
    cfg = ap.parse_args()
    if cfg.quick:
        cfg.runs, cfg.concurrent = 3, 4
    if os.geteuid() != 0:
        print("skipped: needs root")
        return 77
    if not shutil.which("qemu-system-x86_64") or not shutil.which("qemu-img"):
        print("skipped: no QEMU")
        return 77
    b = Bench(cfg)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cleanup runs on the way out
    try:
        b.start_lintel()
        b.capture_argv()
        log("latency: %d boots each" % cfg.runs)
        raw_qmp, raw_marker, l_run, l_marker = [], [], [], []
        for i in range(cfg.runs):
            q, m = b.raw_boot(i)
            raw_qmp.append(q)
            raw_marker.append(m)
            r, m = b.lintel_boot("lat-%d" % i)
            l_run.append(r)
            l_marker.append(m)
            b.lintel_delete(["lat-%d" % i])
        clones = b.clone_times(max(cfg.runs, 10))
        log("density: %d VMs at once" % cfg.concurrent)
        d_run, d_marker, d_rss, d_pss, agent_rss = b.density(cfg.concurrent)
    finally:
        b.cleanup()
    med = statistics.median
    rq, rm, lr, lm = med(raw_qmp), med(raw_marker), med(l_run), med(l_marker)
    lines = [
        "## VM start: Lintel vs raw QEMU (%s, %s)" % (b.accel, time.strftime("%Y-%m-%d")),
        "",
        "Tiny guest, microvm, 1 vCPU, 256 MiB, %s. Medians of %d boots each, alternating; "
        "raw QEMU runs Lintel's own command line on a clone made beforehand." % (b.accel,
                                                                                cfg.runs),
        "",
        "| | QEMU up (QMP / Running), ms | guest marker, ms |",
        "|---|---|---|",
        "| raw `qemu-system-x86_64` (floor) | %s | %s |" % (ms(rq), ms(rm)),
        "| Lintel: create → | %s | %s |" % (ms(lr), ms(lm)),
        "| difference | %+.0f ms | **%+.0f ms (%+.1f%%)** |" % ((lr - rq) * 1000, (lm - rm) * 1000,
                                                             (lm / rm - 1) * 100),
        "",
        "Aim: Lintel adds under 100 ms and under 5%% to QEMU's boot-to-marker time: %s." % (
            "met" if (lm - rm) < 0.1 and lm / rm < 1.05 else "not met"),
        "",
        "Linked clone (`qemu-img create -b`, what CloneDisk runs), median of %d: tiny base %s ms, "
        "20 GiB base %s ms (aim: under 50 ms)." % (max(cfg.runs, 10), ms(clones["tiny"]),
                                                  ms(clones["20 GiB"])),
        "",
        "%d VMs (128 MiB each) created at once: all Running after %.1f s, all at the marker "
        "after %.1f s; per QEMU RSS %.1f MiB, PSS %.1f MiB; `lintel up` (server + agent) RSS "
        "%.1f MiB." % (cfg.concurrent, d_run, d_marker, d_rss / 1024, d_pss / 1024,
                       agent_rss / 1024),
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if cfg.report:
        with open(cfg.report, "w") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
