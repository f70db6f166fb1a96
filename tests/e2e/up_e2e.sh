#!/usr/bin/env bash
# End-to-end: `lintel up` (server + this machine's agent on the OCI and QEMU
# drivers) as a user drives it: import the busybox and tiny test images, run
# Pods and a VM, read their logs (whole, tail, follow) through the server and
# the agent, stop and start the VM, kill -9 `lintel up` and start it again (the
# container and the VM are re-adopted, not restarted), a Pod whose image does
# not exist, and deletion leaving no container, QEMU or mount behind.
# Usage: up_e2e.sh LINTEL_BINARY SOURCE_DIR. Root only: exits 77 (skipped)
# otherwise, or fails if LINTEL_REQUIRE_ROOT_TESTS=1.
set -uo pipefail
LINTEL=${1:?usage: up_e2e.sh LINTEL_BINARY SOURCE_DIR}
SRC=${2:?usage: up_e2e.sh LINTEL_BINARY SOURCE_DIR}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
enter_private_netns "$0" "$@"
WORK=$(mktemp -d /tmp/lintel-up-e2e.XXXXXX)
DATA=$WORK/data
UP_PID=
start_up() {
  "$LINTEL" up --data-dir "$DATA" --listen 127.0.0.1:0 --name e2e-host --run-dir "$WORK/run" \
    --no-user-kubeconfig >>"$WORK/up.log" 2>&1 &
  UP_PID=$!
  for _ in $(seq 300); do
    [ "$(grep -c "lintel up: ready at" "$WORK/up.log")" -gt "${1:-0}" ] && return 0
    kill -0 "$UP_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "lintel up did not start:"; cat "$WORK/up.log"; exit 1
}
cleanup() {
  [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null
  # Whatever a failure left: containers, then mounts, then files.
  for rt in runc crun; do
    for id in $($rt --root "$DATA/agent/oci/runc" list -q 2>/dev/null); do
      $rt --root "$DATA/agent/oci/runc" delete -f "$id"
    done
  done
  pkill -9 -f 'hello-from-po[d]'
  for pid in $(pgrep -f "[q]emu-system.*$WORK"); do kill -9 "$pid"; done
  grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

expect_out() {  # DESCRIPTION PATTERN COMMAND...
  local what=$1 pattern=$2 out
  shift 2
  out=$("$@" 2>&1)
  grep -qE -- "$pattern" <<<"$out" || fail "$what: wanted /$pattern/, got: $(head -c 600 <<<"$out")"
}
field() { "$LINTEL" get pod "$1" -o json | jq -r "$2"; }
phase_is() { [ "$(field "$1" .status.phase)" = "$2" ]; }

"$SRC/scripts/test-images" "$WORK/images" >/dev/null || { echo "test-images failed"; exit 1; }
start_up 0
export KUBECONFIG=$DATA/kubeconfig

expect_out "image import" "imported docker.io/library/busybox:latest" \
  "$LINTEL" image --data-dir "$DATA" import "$WORK/images/busybox" --name busybox
expect_out "image ls" "busybox +latest" "$LINTEL" image --data-dir "$DATA" ls
expect_out "vm image import" "imported vm tiny" \
  "$LINTEL" image --data-dir "$DATA" import "$WORK/images/tiny" --name tiny
expect_out "host registered" "e2e-host +Ready" "$LINTEL" get hosts

cat >"$WORK/pod.yaml" <<'YAML'
apiVersion: lintel.dev/v1alpha1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 2  # sh as PID 1 ignores SIGTERM: killed after the grace
  containers:
  - name: main
    image: busybox
    command: [sh, -c, "echo hello-from-pod; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]
---
apiVersion: lintel.dev/v1alpha1
kind: Pod
metadata: {name: done}
spec:
  restartPolicy: Never
  containers:
  - {name: main, image: busybox, command: [sh, -c, "echo done-ok"]}
---
apiVersion: lintel.dev/v1alpha1
kind: Pod
metadata: {name: noimage}
spec:
  containers:
  - {name: main, image: "no-such-image:1", command: [sh]}
---
apiVersion: lintel.dev/v1alpha1
kind: VirtualMachine
metadata: {name: vm1}
spec:
  image: tiny
  memory: 128Mi
  cloudInit: {userData: "#!/bin/sh\necho hello-from-vm on $(hostname)\n"}
YAML
"$LINTEL" apply -f "$WORK/pod.yaml" >/dev/null || fail "apply"
eventually 60 phase_is ticker Running || fail "ticker never Running: $(field ticker .status)"
eventually 30 phase_is done Succeeded || fail "done never Succeeded: $(field done .status)"
eventually 10 sh -c "\"$LINTEL\" logs ticker | grep -q 'tick 3'" || fail "logs: no ticks"
expect_out "logs from the start" "^hello-from-pod" "$LINTEL" logs ticker
expect_out "logs --tail 1" "^tick [0-9]+$" "$LINTEL" logs ticker --tail 1
[ "$("$LINTEL" logs ticker --tail 2 | wc -l)" = 2 ] || fail "logs --tail 2 is not two lines"
follow=$(timeout 2 "$LINTEL" logs -f ticker --tail 1)
[ "$(wc -l <<<"$follow")" -ge 3 ] || fail "logs -f: wanted new lines as they come, got: $follow"
expect_out "logs of a missing container" "container" "$LINTEL" logs ticker -c nope
expect_out "logs of a missing pod" 'NotFound|not found' "$LINTEL" logs nothere

# An image the store does not have: a clear waiting reason, not a wedged agent.
eventually 30 sh -c "\"$LINTEL\" get pod noimage -o json | jq -r '.status.containerStatuses[0].state.waiting.reason // empty' | grep -qE 'ErrImagePull|ImagePullBackOff'" ||
  fail "noimage: no image pull reason: $(field noimage .status.containerStatuses | tr -d " \n")"

# Events: the agent's Started, the failed pull with its reason.
eventually 10 sh -c "\"$LINTEL\" describe pod ticker | grep -qE 'Normal +Started .*Started container main'" ||
  fail "ticker: no Started event: $("$LINTEL" describe pod ticker | tail -8)"
eventually 10 sh -c "\"$LINTEL\" describe pod noimage | grep -q 'Failed to pull image'" ||
  fail "noimage: no Failed event: $("$LINTEL" describe pod noimage | tail -5)"

# The VM: Running under the host's accelerator, its user data run, its console
# log through the API; stopped (ACPI) and started again on the same disk.
vmfield() { "$LINTEL" get vm vm1 -o json | jq -r "$1"; }
eventually 60 sh -c "[ \"\$(\"$LINTEL\" get vm vm1 -o json | jq -r .status.phase)\" = Running ]" ||
  fail "vm1 never Running: $(vmfield .status)"
[ "$(vmfield .status.accelerator)" = "$("$LINTEL" get host e2e-host -o json | jq -r .status.runtime.accelerator)" ] ||
  fail "vm1's accelerator is not the host's: $(vmfield .status.accelerator)"
eventually 60 sh -c "\"$LINTEL\" logs vm/vm1 | grep -q 'lintel-tiny: ready'" ||
  fail "vm1: no boot marker in its console log: $("$LINTEL" logs vm/vm1 --tail 5)"
expect_out "vm user data ran" "^hello-from-vm on vm1" "$LINTEL" logs vm/vm1
expect_out "stop vm" "stopped" "$LINTEL" stop vm/vm1
eventually 30 sh -c "[ \"\$(\"$LINTEL\" get vm vm1 -o json | jq -r .status.phase)\" = Stopped ]" ||
  fail "vm1 not Stopped: $(vmfield .status)"
pgrep -f "[q]emu-system.*$WORK" >/dev/null && fail "QEMU still runs after stop"
expect_out "start vm" "started" "$LINTEL" start vm/vm1
eventually 60 sh -c "\"$LINTEL\" logs vm/vm1 | grep -q 'user-data already ran'" ||
  fail "vm1 did not boot again on its disk: $("$LINTEL" logs vm/vm1 --tail 5)"
qemu=$(pgrep -f "[q]emu-system.*$WORK")

# kill -9 of lintel up: the container and the VM keep running and are re-adopted.
cid=$(field ticker '.status.containerStatuses[0].containerID')
kill -9 "$UP_PID"; wait "$UP_PID" 2>/dev/null
before=$("$LINTEL" logs ticker --tail 1 2>/dev/null)  # the server is gone: nothing
[ -z "$before" ] || fail "logs answered with lintel up killed"
start_up 1
eventually 30 sh -c "\"$LINTEL\" logs ticker --tail 1 | grep -q tick" || fail "logs after restart"
[ "$(field ticker '.status.containerStatuses[0].containerID')" = "$cid" ] ||
  fail "the container was restarted, not re-adopted ($cid)"
[ "$(field ticker '.status.containerStatuses[0].restartCount')" = 0 ] || fail "restartCount moved"
expect_out "hello still first" "^hello-from-pod" "$LINTEL" logs ticker
[ "$(pgrep -f "[q]emu-system.*$WORK")" = "$qemu" ] || fail "the VM's QEMU did not survive the restart"
eventually 30 sh -c "[ \"\$(\"$LINTEL\" get vm vm1 -o json | jq -r .status.phase)\" = Running ]" ||
  fail "vm1 not Running after the restart: $(vmfield .status)"
expect_out "vm console log after the restart" "lintel-tiny: ready" "$LINTEL" logs vm/vm1
# A Pod that ended before the restart: its log is still there.
expect_out "logs of a Pod that ended before the restart" "^done-ok$" "$LINTEL" logs done

# Deleting the Pods leaves no container and no mount; the VM, no QEMU and no disk.
"$LINTEL" delete pod ticker noimage done >/dev/null || fail "delete"
eventually 60 sh -c "! \"$LINTEL\" get pod ticker" || fail "ticker not deleted"
eventually 20 sh -c "! pgrep -f 'hello-from-po[d]'" || fail "the container's process outlived its Pod"
eventually 10 sh -c "[ -z \"\$(ls '$DATA/agent/oci/pods')\" ]"
left=$(ls "$DATA/agent/oci/pods" 2>/dev/null)
[ -z "$left" ] || fail "pod directories left after delete: $left"
"$LINTEL" delete vm vm1 >/dev/null || fail "delete vm"
eventually 30 sh -c "! pgrep -f '[q]emu-system.*$WORK'" || fail "QEMU outlived its VM"
eventually 10 sh -c "[ -z \"\$(ls '$DATA/agent/qemu/vms')\" ]" ||
  fail "VM directories left after delete: $(ls "$DATA/agent/qemu/vms")"
eventually 10 sh -c "! grep -q ' $DATA/agent' /proc/mounts" ||
  fail "mounts left after delete: $(grep " $DATA/agent" /proc/mounts)"

if ((failures)); then
  echo "--- lintel up log (tail)"; tail -${LOG_LINES:-40} "$WORK/up.log"
  echo "$failures failure(s)"; exit 1
fi
echo "up e2e: all passed"
