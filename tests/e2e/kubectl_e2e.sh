#!/usr/bin/env bash
# End-to-end: the real kubectl (every installed minor from 1.27 to 1.33)
# against `lintel server`. Usage: kubectl_e2e.sh LINTEL_BINARY
#
# kubectl 1.29+ runs every flow. 1.27 and 1.28 validate client-side against a
# protobuf OpenAPI v2 document, which Lintel does not serve, so they run with
# --validate=false and skip explain (see docs/reference/api.md).
set -uo pipefail
LINTEL=${1:?usage: kubectl_e2e.sh LINTEL_BINARY}
WORK=$(mktemp -d /tmp/lintel-e2e.XXXXXX)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL [$VERSION]: $*" >&2; failures=$((failures + 1)); }
# expect_out DESCRIPTION PATTERN COMMAND...: runs COMMAND, its output must match PATTERN.
expect_out() {
  local what=$1 pattern=$2
  shift 2
  local out
  out=$("$@" 2>&1)
  if ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$what: wanted /$pattern/, got: $(head -c 600 <<<"$out")"
  fi
}
# expect_fail DESCRIPTION PATTERN COMMAND...: COMMAND must fail and print PATTERN.
expect_fail() {
  local what=$1 pattern=$2
  shift 2
  local out
  if out=$("$@" 2>&1); then
    fail "$what: succeeded but should have failed: $(head -c 300 <<<"$out")"
  elif ! grep -qE -- "$pattern" <<<"$out"; then
    fail "$what: wanted /$pattern/, got: $(head -c 600 <<<"$out")"
  fi
}
# eventually SECONDS COMMAND...: retries until COMMAND succeeds.
eventually() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.1
  done
}

"$LINTEL" server --data-dir "$WORK/data" --listen 127.0.0.1:0 --no-user-kubeconfig \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 200); do grep -q "ready at" "$WORK/server.log" && break; sleep 0.05; done
grep -q "ready at" "$WORK/server.log" || { cat "$WORK/server.log"; exit 1; }
export KUBECONFIG=$WORK/data/kubeconfig

manifests() {  # $1 = name suffix, $2 = cpu
  cat <<EOF
apiVersion: lintel.dev/v1alpha1
kind: VirtualMachine
metadata: {name: db-$1, labels: {app: db, run: "$1"}}
spec:
  runStrategy: Always
  cpu: $2
  memory: 256Mi
  image: tiny
  disks: [{name: data, size: 1Gi}]
  cloudInit: {userData: "#cloud-config\nhostname: db\n"}
---
apiVersion: lintel.dev/v1alpha1
kind: Deployment
metadata: {name: web-$1}
spec:
  replicas: 1
  selector: {matchLabels: {app: web-$1}}
  template:
    metadata: {labels: {app: web-$1}}
    spec:
      containers: [{name: main, image: busybox, command: [sleep, "3600"]}]
EOF
}

run_flows() {  # $1 = short version tag, $2 = kubectl binary, $3 = extra validation flag
  VERSION=$1
  local k=$2 validate=$3 id=$1
  local kc=("$k" --cache-dir "$WORK/cache-$id")
  manifests "$id" 1 >"$WORK/m-$id.yaml"
  manifests "$id" 2 >"$WORK/m2-$id.yaml"

  expect_out "api-resources" "virtualmachines +vm,vms +lintel.dev/v1alpha1 +true +VirtualMachine" \
    "${kc[@]}" api-resources
  expect_out "apply creates" "virtualmachine.lintel.dev/db-$id created" \
    "${kc[@]}" apply $validate -f "$WORK/m-$id.yaml"
  expect_out "apply again is unchanged" "virtualmachine.lintel.dev/db-$id unchanged" \
    "${kc[@]}" apply $validate -f "$WORK/m-$id.yaml"
  expect_out "apply a change configures" "virtualmachine.lintel.dev/db-$id configured" \
    "${kc[@]}" apply $validate -f "$WORK/m2-$id.yaml"
  expect_out "get -o yaml shows the change" "^  cpu: 2$" "${kc[@]}" get vm "db-$id" -o yaml
  expect_out "get table has columns" "NAME +PHASE +HOST +CPUS +MEMORY +IP +AGE" "${kc[@]}" get vm
  expect_out "get -l" "^db-$id " "${kc[@]}" get vm -l "run=$id"
  expect_out "get -l with no match" "No resources found" "${kc[@]}" get vm -l "run=nobody"
  expect_out "get -A shows namespaces" "^default +db-$id " "${kc[@]}" get vm -A
  expect_out "label" "labeled" "${kc[@]}" label vm "db-$id" tier=data
  expect_out "label is visible" "tier=data" "${kc[@]}" get vm "db-$id" --show-labels
  expect_out "annotate" "annotate" "${kc[@]}" annotate vm "db-$id" owner=ops
  expect_out "describe" "Annotations: +owner: ops" "${kc[@]}" describe vm "db-$id"
  if [ -z "$validate" ]; then
    expect_out "explain field" "Virtual CPUs" "${kc[@]}" explain vm.spec.cpu
    expect_out "explain kind" "runStrategy" "${kc[@]}" explain vm.spec
  fi
  expect_out "scale" "scaled" "${kc[@]}" scale deploy "web-$id" --replicas=3
  expect_out "scale took" "^3$" "${kc[@]}" get deploy "web-$id" -o 'jsonpath={.spec.replicas}'
  expect_out "scale with precondition" "scaled" \
    "${kc[@]}" scale deploy "web-$id" --current-replicas=3 --replicas=2

  # A watch sees later changes, then wait sees a condition set through /status.
  "${kc[@]}" get vm "db-$id" -w --request-timeout=20s >"$WORK/watch-$id.out" 2>&1 &
  local watch_pid=$!
  sleep 1
  "${kc[@]}" patch vm "db-$id" --subresource=status --type=merge \
    -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' \
    >/dev/null 2>&1 || fail "status patch"
  expect_out "wait for condition" "condition met" \
    "${kc[@]}" wait --for=condition=Ready "vm/db-$id" --timeout=20s
  eventually 10 grep -q "Running" "$WORK/watch-$id.out" || fail "watch did not see Running"
  kill "$watch_pid" 2>/dev/null
  wait "$watch_pid" 2>/dev/null

  # Server-side apply: a field another manager changed conflicts unless forced.
  "${kc[@]}" patch vm "db-$id" --type=merge -p '{"spec":{"cpu":3}}' >/dev/null 2>&1 ||
    fail "merge patch"
  expect_fail "server-side apply conflict" "conflict" \
    "${kc[@]}" apply $validate --server-side -f "$WORK/m2-$id.yaml"
  expect_out "server-side apply forced" "serverside-applied" \
    "${kc[@]}" apply $validate --server-side --force-conflicts -f "$WORK/m2-$id.yaml"

  # Bad input gets the right Status and changes nothing.
  expect_fail "invalid field value" 'is invalid.*|spec.cpu: Invalid value: -1' \
    "${kc[@]}" patch vm "db-$id" --type=merge -p '{"spec":{"cpu":-1}}'
  expect_fail "strategic merge is refused" "not supported|UnsupportedMediaType|unknown format" \
    "${kc[@]}" patch vm "db-$id" -p '{"spec":{"cpu":4}}'
  expect_fail "not found" 'virtualmachines.lintel.dev "nope" not found' \
    "${kc[@]}" get vm nope
  if [ -z "$validate" ]; then
    sed 's/memory: 256Mi/memroy: 256Mi/' "$WORK/m-$id.yaml" >"$WORK/bad-$id.yaml"
    expect_fail "unknown field (strict)" 'unknown field "spec.memroy"' \
      "${kc[@]}" apply -f "$WORK/bad-$id.yaml"
  fi
  expect_out "cpu untouched by failures" "^2$" "${kc[@]}" get vm "db-$id" -o 'jsonpath={.spec.cpu}'

  expect_out "delete" "deleted" "${kc[@]}" delete vm "db-$id" --timeout=20s
  expect_fail "deleted object is gone" "not found" "${kc[@]}" get vm "db-$id"
  expect_out "delete -f" "deleted" "${kc[@]}" delete -f "$WORK/m2-$id.yaml" --ignore-not-found
}

# The same flows with lintel's own CLI, and interop with kubectl's apply
# (both keep last-applied-configuration, so either can take over).
run_lintel_flows() {
  VERSION=lintel
  local l=("$LINTEL") k=/usr/bin/kubectl id=lt
  manifests "$id" 1 >"$WORK/m-$id.yaml"
  manifests "$id" 2 >"$WORK/m2-$id.yaml"
  expect_out "api-resources" "virtualmachines +vm,vms +lintel.dev/v1alpha1 +true +VirtualMachine" \
    "${l[@]}" api-resources
  expect_out "apply creates" "virtualmachine.lintel.dev/db-$id created" \
    "${l[@]}" apply -f "$WORK/m-$id.yaml"
  expect_out "apply again is unchanged" "virtualmachine.lintel.dev/db-$id unchanged" \
    "${l[@]}" apply -f - <"$WORK/m-$id.yaml"
  if [ -x "$k" ]; then
    expect_out "kubectl apply of lintel's apply is unchanged" "db-$id unchanged" \
      "$k" apply -f "$WORK/m-$id.yaml"
  fi
  expect_out "apply a change configures" "virtualmachine.lintel.dev/db-$id configured" \
    "${l[@]}" apply -f "$WORK/m2-$id.yaml"
  expect_out "get -o yaml shows the change" "^  cpu: 2$" "${l[@]}" get vm "db-$id" -o yaml
  expect_out "get -o json" '"cpu": 2' "${l[@]}" get vm "db-$id" -o json
  expect_out "get -o name" "^virtualmachine.lintel.dev/db-$id$" "${l[@]}" get vm "db-$id" -o name
  expect_out "get -o wide" "NAME +PHASE +HOST +CPUS +MEMORY +IP +IMAGE" "${l[@]}" get vm -o wide
  expect_out "get -l" "^db-$id " "${l[@]}" get vm -l "run=$id"
  expect_out "get -A shows namespaces" "^default +db-$id " "${l[@]}" get vm -A
  expect_out "get -n" "No resources found in kube-nowhere namespace" \
    "${l[@]}" get vm -n kube-nowhere
  expect_out "label" "labeled" "${l[@]}" label vm "db-$id" tier=data
  expect_out "label is visible" "tier=data" "${l[@]}" get vm "db-$id" --show-labels
  expect_out "annotate" "annotated" "${l[@]}" annotate vm "db-$id" owner=ops
  expect_out "describe" "Annotations: +owner: ops" "${l[@]}" describe vm "db-$id"
  expect_out "edit" "edited" env EDITOR="sed -i s/memory:\ 256Mi/memory:\ 512Mi/" \
    "${l[@]}" edit vm "db-$id"
  expect_out "edit took" "^  memory: 512Mi$" "${l[@]}" get vm "db-$id" -o yaml
  expect_out "scale" "scaled" "${l[@]}" scale deploy "web-$id" --replicas=3
  expect_out "scale took" "^  replicas: 3$" "${l[@]}" get deploy "web-$id" -o yaml

  "${l[@]}" get vm "db-$id" -w >"$WORK/watch-$id.out" 2>&1 &
  local watch_pid=$!
  sleep 1
  /usr/bin/kubectl patch vm "db-$id" --subresource=status --type=merge \
    -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' \
    >/dev/null 2>&1 || fail "status patch"
  expect_out "wait for condition" "condition met" \
    "${l[@]}" wait --for=condition=Ready "vm/db-$id" --timeout=20s
  eventually 10 grep -q "Running" "$WORK/watch-$id.out" || fail "watch did not see Running"
  kill "$watch_pid" 2>/dev/null
  wait "$watch_pid" 2>/dev/null

  sed 's/memory: 256Mi/memroy: 256Mi/' "$WORK/m-$id.yaml" >"$WORK/bad-$id.yaml"
  expect_fail "unknown field (strict)" 'unknown field "spec.memroy"' \
    "${l[@]}" apply -f "$WORK/bad-$id.yaml"
  expect_fail "invalid name" 'metadata.name: Invalid value' \
    "${l[@]}" create -f - <<<'{"apiVersion":"lintel.dev/v1alpha1","kind":"VirtualMachine","metadata":{"name":"Bad_Name"},"spec":{"cpu":1,"memory":"1Gi","image":"tiny"}}'
  expect_fail "create of an existing object" 'AlreadyExists' \
    "${l[@]}" create -f "$WORK/m2-$id.yaml"
  expect_fail "not found" 'virtualmachines.lintel.dev "nope" not found' "${l[@]}" get vm nope
  expect_fail "unknown kind" 'resource type "frobs"' "${l[@]}" get frobs
  expect_out "cpu untouched by failures" "^  cpu: 2$" "${l[@]}" get vm "db-$id" -o yaml

  expect_out "delete -l" "deleted" "${l[@]}" delete vm -l "run=$id"
  expect_fail "deleted object is gone" "not found" "${l[@]}" get vm "db-$id"
  expect_out "delete -f" "deleted" "${l[@]}" delete -f "$WORK/m2-$id.yaml" --ignore-not-found
  expect_fail "deployment is gone" "not found" "${l[@]}" get deploy "web-$id"
}
run_lintel_flows

for v in 27 28 29 30 31 32 33; do
  k=/usr/lib/google-cloud-sdk/bin/kubectl.1.$v
  [ -x "$k" ] || continue
  if [ "$v" -le 28 ]; then run_flows "1.$v" "$k" --validate=false; else run_flows "1.$v" "$k" ""; fi
done
if [ -x /usr/bin/kubectl ]; then run_flows "default" /usr/bin/kubectl ""; fi
[ -n "${VERSION:-}" ] || { echo "no kubectl found" >&2; exit 1; }

if ((failures)); then
  echo "kubectl e2e: $failures failure(s); server log:" >&2
  tail -30 "$WORK/server.log" >&2
  exit 1
fi
echo "kubectl e2e: all flows passed"
