#!/usr/bin/env bash
# End-to-end: `lintel up` with the real OCI driver, then `lintel exec` into a
# Pod through the server and the agent: output, stderr, exit codes, stdin,
# errors. With a tiny VM image and QEMU, `lintel console` too is tried (its
# output is only checked for the hint line, the guest's banner may be slow).
# Usage: exec_e2e.sh LINTEL_BINARY SOURCE_DIR. Root only: exits 77 (skipped)
# otherwise, or fails if LINTEL_REQUIRE_ROOT_TESTS=1.
set -uo pipefail
LINTEL=${1:?usage: exec_e2e.sh LINTEL_BINARY SOURCE_DIR}
SRC=${2:?usage: exec_e2e.sh LINTEL_BINARY SOURCE_DIR}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
enter_private_netns "$0" "$@"
WORK=$(mktemp -d /tmp/lintel-exec-e2e.XXXXXX)
DATA=$WORK/data
UP_PID=
cleanup() {
  [ -n "$UP_PID" ] && kill "$UP_PID" 2>/dev/null && wait "$UP_PID" 2>/dev/null
  for rt in runc crun; do
    for id in $($rt --root "$DATA/agent/oci/runc" list -q 2>/dev/null); do
      $rt --root "$DATA/agent/oci/runc" delete -f "$id"
    done
  done
  for pid in $(pgrep -f "[q]emu-system.*$WORK"); do kill -9 "$pid"; done
  grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT


"$SRC/scripts/test-images" "$WORK/images" >/dev/null || { echo "test-images failed"; exit 1; }
"$LINTEL" up --data-dir "$DATA" --listen 127.0.0.1:0 --name e2e-host --run-dir "$WORK/run" \
  --no-user-kubeconfig >>"$WORK/up.log" 2>&1 &
UP_PID=$!
eventually 30 grep -q "lintel up: ready at" "$WORK/up.log" || { cat "$WORK/up.log"; exit 1; }
export KUBECONFIG=$DATA/kubeconfig
"$LINTEL" image --data-dir "$DATA" import "$WORK/images/busybox" --name busybox >/dev/null ||
  fail "image import"
cat >"$WORK/pod.yaml" <<'YAML'
apiVersion: lintel.dev/v1alpha1
kind: Pod
metadata: {name: shell}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    env: [{name: GREETING, value: hello-from-env}]
YAML
"$LINTEL" apply -f "$WORK/pod.yaml" >/dev/null || fail "apply"
eventually 60 sh -c "\"$LINTEL\" get pod shell -o json | jq -e '.status.phase == \"Running\"'" ||
  fail "pod never Running"

out=$("$LINTEL" exec shell -- echo hi 2>&1)
[ "$out" = hi ] || fail "exec echo: got '$out'"
out=$("$LINTEL" exec pod/shell -- sh -c 'echo $GREETING' 2>&1)
[ "$out" = hello-from-env ] || fail "exec env: got '$out'"
"$LINTEL" exec shell -- sh -c 'exit 3'
[ $? = 3 ] || fail "exec exit code: wanted 3"
err=$("$LINTEL" exec shell -- sh -c 'echo to-stderr >&2' 2>&1 >/dev/null)
[ "$err" = to-stderr ] || fail "exec stderr: got '$err'"
out=$(printf 'one\ntwo\n' | "$LINTEL" exec -i shell -- cat 2>&1)
[ "$out" = "$(printf 'one\ntwo')" ] || fail "exec -i cat: got '$out'"
out=$("$LINTEL" exec nothere -- true 2>&1)
grep -qE 'NotFound|not found' <<<"$out" || fail "exec of a missing pod: got '$out'"
out=$("$LINTEL" exec shell -c nope -- true 2>&1)
grep -q 'container nope' <<<"$out" || fail "exec of a missing container: got '$out'"
# A terminal: -t with -i on a tty (script(1) gives the CLI one).
if command -v script >/dev/null; then
  out=$(script -qec "\"$LINTEL\" exec -it shell -- sh -c 'test -t 0 && echo is-a-tty; stty size'" /dev/null </dev/null 2>&1)
  grep -q is-a-tty <<<"$out" || fail "exec -it: no terminal: got '$out'"
fi
if command -v kubectl >/dev/null; then
  # kubectl exec needs a core v1 Pod; Lintel's are lintel.dev/v1alpha1, so
  # kubectl refuses before it sends anything (kube-api.md §10). Not checked.
  :
fi

# The console of a VM (QEMU and the tiny guest): attach, see output, detach.
if command -v qemu-system-x86_64 >/dev/null &&
  "$LINTEL" image --data-dir "$DATA" import "$WORK/images/tiny" --name tiny >/dev/null; then
  cat >"$WORK/vm.yaml" <<'YAML'
apiVersion: lintel.dev/v1alpha1
kind: VirtualMachine
metadata: {name: vm1}
spec: {image: tiny, memory: 128Mi}
YAML
  "$LINTEL" apply -f "$WORK/vm.yaml" >/dev/null || fail "apply vm"
  eventually 120 sh -c "\"$LINTEL\" logs vm/vm1 | grep -q 'lintel-tiny: ready'" || fail "vm never ready"
  (sleep 1; printf '\necho console-$((6*7))\n'; sleep 3; printf '\035') |
    timeout 30 "$LINTEL" console vm/vm1 >"$WORK/console.out" 2>"$WORK/console.err"
  rc=$?
  [ $rc = 0 ] || fail "console: exit $rc: $(cat "$WORK/console.err")"
  grep -q "Ctrl-] to detach" "$WORK/console.err" || fail "console: no hint: $(cat "$WORK/console.err")"
  grep -q "console-42" "$WORK/console.out" ||
    fail "console: the guest did not answer: $(tail -c 400 "$WORK/console.out")"
  "$LINTEL" delete vm vm1 >/dev/null 2>&1
fi

if [ "$failures" -gt 0 ]; then
  echo "up.log:"; tail -30 "$WORK/up.log"
  echo "$failures failure(s)"; exit 1
fi
echo "exec e2e: ok"
