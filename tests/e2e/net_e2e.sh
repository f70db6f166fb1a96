#!/usr/bin/env bash
# End-to-end: the estate network on two test hosts. In a private network
# namespace (the "lab"), `lintel server` listens on an underlay bridge and two
# network namespaces, h1 and h2, each run their own `lintel agent --driver oci`
# (Pods and VMs) with their own data directory and underlay address. Checked:
#   - every Host gets its own range; Pods and VMs get addresses from it
#   - Pod<->Pod on one host and across the VXLAN, Pod->VM across hosts,
#     VM->Pod and VM->VM across hosts (user data in the tiny guest, one VM's
#     from a Secret)
#   - a Service whose backends are two Pods and one VM spreads requests over
#     all three, and drops a Pod that stops being ready
#   - DNS: NAME.NS.svc from a Pod and from a VM, NAME.NS.pod from a VM
#   - kill -9 of an agent leaves its workloads reachable; deleting workloads
#     removes their interfaces and addresses; nothing is left in the hosts
# Usage: net_e2e.sh LINTEL_BINARY SOURCE_DIR. Root only: exits 77 (skipped)
# otherwise, or fails if LINTEL_REQUIRE_ROOT_TESTS=1.
set -uo pipefail
LINTEL=${1:?usage: net_e2e.sh LINTEL_BINARY SOURCE_DIR}
SRC=${2:?usage: net_e2e.sh LINTEL_BINARY SOURCE_DIR}
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
enter_private_netns "$0" "$@"

WORK=$(mktemp -d /tmp/lintel-net-e2e.XXXXXX)
TAG=lne$$
HOSTS=(h1 h2)
declare -A AGENT_PID
SERVER_PID=
start_agent() {  # HOST
  local h=$1 n=${1#h}
  nsenter --net="/run/netns/$TAG-$h" "$LINTEL" agent --kubeconfig "$WORK/server/kubeconfig" \
    --driver oci --name "$h" --data-dir "$WORK/$h" --images-dir "$WORK/$h/images" \
    --run-dir "$WORK/$h/run" --address "192.168.77.1$n" --endpoint-listen "192.168.77.1$n:0" \
    --heartbeat 2s >>"$WORK/$h.log" 2>&1 &
  AGENT_PID[$h]=$!
}
cleanup() {
  for h in "${HOSTS[@]}"; do
    [ -n "${AGENT_PID[$h]:-}" ] && kill "${AGENT_PID[$h]}" 2>/dev/null
  done
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  wait 2>/dev/null
  for h in "${HOSTS[@]}"; do
    for rt in runc crun; do
      for id in $($rt --root "$WORK/$h/oci/runc" list -q 2>/dev/null); do
        $rt --root "$WORK/$h/oci/runc" delete -f "$id"
      done
    done
  done
  for pid in $(pgrep -f "[q]emu-system.*$WORK"); do kill -9 "$pid"; done
  for pid in $(pgrep -f "[c]onmon.*$WORK"); do kill -9 "$pid"; done
  grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  for h in "${HOSTS[@]}"; do ip netns del "$TAG-$h" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

k() { "$LINTEL" "$@"; }
jq_of() { k get "$1" "$2" -o json | jq -r "$3"; }  # KIND NAME FILTER
in_host() { local h=$1; shift; ip netns exec "$TAG-$h" "$@"; }
fetch() { k exec client -- timeout 3 wget -q -O - "$1" 2>/dev/null; }  # URL, from the client Pod

"$SRC/scripts/test-images" "$WORK/images" >/dev/null || { echo "test-images failed"; exit 1; }

# The lab: an underlay bridge with the server's address, one veth per host.
ip link add lab0 type bridge && ip addr add 192.168.77.1/24 dev lab0 && ip link set lab0 up
for h in "${HOSTS[@]}"; do
  n=${h#h}
  ip netns add "$TAG-$h"
  ip link add "$TAG-u$n" type veth peer name eth0 netns "$TAG-$h"
  ip link set "$TAG-u$n" master lab0 up
  in_host "$h" ip addr add "192.168.77.1$n/24" dev eth0
  in_host "$h" ip link set eth0 up
  in_host "$h" ip link set lo up
  mkdir -p "$WORK/$h"
  k image --data-dir "$WORK/$h" import "$WORK/images/busybox" --name busybox >/dev/null ||
    fail "import busybox on $h"
  k image --data-dir "$WORK/$h" import "$WORK/images/tiny" --name tiny >/dev/null ||
    fail "import tiny on $h"
done

"$LINTEL" server --data-dir "$WORK/server" --listen 192.168.77.1:0 --no-user-kubeconfig \
  >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
eventually 30 test -s "$WORK/server/kubeconfig" || { cat "$WORK/server.log"; exit 1; }
export KUBECONFIG=$WORK/server/kubeconfig
for h in "${HOSTS[@]}"; do start_agent "$h"; done
ready_hosts() { [ "$(k get hosts -o json | jq '[.items[] | select(.status.podCIDR)] | length')" = 2 ]; }
eventually 60 ready_hosts || { fail "hosts without ranges"; k get hosts -o yaml; cat "$WORK"/h*.log; exit 1; }
r1=$(jq_of host h1 .status.podCIDR)
r2=$(jq_of host h2 .status.podCIDR)
[ "$r1" != "$r2" ] || fail "h1 and h2 share the range $r1"

cat >"$WORK/estate.yaml" <<'YAML'
apiVersion: lintel.dev/v1alpha1
kind: Pod
metadata: {name: web-a, labels: {app: web}}
spec:
  host: h1
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, "mkdir -p /www && echo web-a >/www/index.html && touch /tmp/ready && exec httpd -f -p 80 -h /www"]
    readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1}
---
apiVersion: lintel.dev/v1alpha1
kind: Pod
metadata: {name: web-b, labels: {app: web}}
spec:
  host: h2
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox
    command: [sh, -c, "mkdir -p /www && echo web-b >/www/index.html && touch /tmp/ready && exec httpd -f -p 80 -h /www"]
    readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1}
---
apiVersion: lintel.dev/v1alpha1
kind: Pod
metadata: {name: client}
spec:
  host: h1
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: busybox, command: [sleep, "3600"]}
---
apiVersion: lintel.dev/v1alpha1
kind: VirtualMachine
metadata: {name: vm-web, labels: {app: web}}
spec:
  host: h2
  image: tiny
  memory: 128Mi
  readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}
  cloudInit:
    userData: |
      #!/bin/sh
      for i in $(seq 120); do
        r=$(timeout 3 wget -q -O - http://web-a.default.pod/ 2>/dev/null) && break
        sleep 1
      done
      echo "vm-web got: $r"
      for i in $(seq 60); do
        a=$(nslookup web.default.svc 2>/dev/null | grep -A2 'Name:' | grep -Eo '10\.96\.[0-9]+\.[0-9]+' | head -n 1)
        [ -n "$a" ] && break
        sleep 1
      done
      echo "vm-web resolved web.default.svc: $a"
---
apiVersion: lintel.dev/v1alpha1
kind: VirtualMachine
metadata: {name: vm-peer}
spec:
  host: h1
  image: tiny
  memory: 128Mi
  cloudInit: {userDataSecretRef: {name: vm-peer-init}}  # user data from a Secret
---
apiVersion: lintel.dev/v1alpha1
kind: Secret
metadata: {name: vm-peer-init}
stringData:
  userdata: |
    #!/bin/sh
    for i in $(seq 180); do
      r=$(timeout 3 wget -q -O - http://vm-web.default.vm/ 2>/dev/null) && break
      sleep 1
    done
    echo "vm-peer got: $r"
---
apiVersion: lintel.dev/v1alpha1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
YAML
k apply -f "$WORK/estate.yaml" >/dev/null || fail "apply the estate"

running() { [ "$(jq_of "$1" "$2" .status.phase)" = Running ]; }
for p in web-a web-b client; do eventually 60 running pod "$p" || fail "pod $p not Running"; done
for v in vm-web vm-peer; do eventually 60 running vm "$v" || fail "vm $v not Running"; done
ip_a=$(jq_of pod web-a .status.podIP)
ip_b=$(jq_of pod web-b .status.podIP)
ip_c=$(jq_of pod client .status.podIP)
ip_v=$(jq_of vm vm-web .status.ip)
echo "addresses: web-a $ip_a (h1 $r1), web-b $ip_b (h2 $r2), client $ip_c, vm-web $ip_v"
in_range() { python3 -c "import ipaddress,sys; sys.exit(ipaddress.ip_address('$1') not in ipaddress.ip_network('$2'))"; }
in_range "$ip_a" "$r1" || fail "web-a's $ip_a is not in h1's $r1"
in_range "$ip_b" "$r2" || fail "web-b's $ip_b is not in h2's $r2"
in_range "$ip_v" "$r2" || fail "vm-web's $ip_v is not in h2's $r2"
[ "$(printf '%s\n' "$ip_a" "$ip_b" "$ip_c" "$ip_v" | sort -u | wc -l)" = 4 ] || fail "shared addresses"

# Pod<->Pod on one host and across hosts; Pod -> VM across hosts.
eventually 20 sh -c "[ \"\$(\"$LINTEL\" exec client -- timeout 3 wget -q -O - http://$ip_a/)\" = web-a ]" ||
  fail "client (h1) -> web-a (h1): $(fetch "http://$ip_a/")"
eventually 20 sh -c "[ \"\$(\"$LINTEL\" exec client -- timeout 3 wget -q -O - http://$ip_b/)\" = web-b ]" ||
  fail "client (h1) -> web-b (h2) across the VXLAN: $(fetch "http://$ip_b/")"
eventually 90 sh -c "\"$LINTEL\" exec client -- timeout 3 wget -q -O - http://$ip_v/ | grep -q vm-web" ||
  fail "client (h1) -> vm-web (h2): $(fetch "http://$ip_v/")"

# DNS from a Pod, then the Service from a Pod: all three backends answer.
vip=$(jq_of svc web .spec.clusterIP)
dns=$(k exec client -- nslookup web.default.svc 2>&1)
grep -q "$vip" <<<"$dns" || fail "nslookup web.default.svc in a Pod: wanted $vip, got: $dns"
eventually 60 sh -c "[ \"\$(\"$LINTEL\" get svc web -o json | jq .status.readyEndpoints)\" = 3 ]" ||
  fail "Service web: wanted 3 ready endpoints: $(k get svc web -o json | jq -c .status)"
seen=$(k exec client -- sh -c 'for i in $(seq 30); do timeout 3 wget -q -O - http://web.default.svc/; done' |
  sort | uniq -c)
echo "30 requests to web.default.svc ($vip):"; echo "$seen"
for b in web-a web-b vm-web; do grep -q " $b$" <<<"$seen" || fail "Service web never answered from $b"; done

# web-b stops being ready: the Service drops it within seconds.
k exec web-b -- rm /tmp/ready
t0=$(date +%s.%N)
dropped() { [ "$(k get svc web -o json | jq '[.status.endpoints[] | select(.name=="web-b" and .ready)] | length')" = 0 ]; }
eventually 10 dropped || fail "web-b still a ready endpoint after 10 s"
echo "web-b dropped from the Service after $(awk "BEGIN {print $(date +%s.%N) - $t0}") s (probe period 1 s)"
sleep 0.5
seen=$(k exec client -- sh -c 'for i in $(seq 12); do timeout 3 wget -q -O - http://web.default.svc/; done')
grep -q web-b <<<"$seen" && fail "an unready web-b still got Service traffic: $seen"
grep -q web-a <<<"$seen" || fail "web-a got no traffic after web-b left: $seen"

# The VMs: VM -> Pod by its DNS name, DNS of the Service, VM -> VM across hosts.
eventually 120 sh -c "\"$LINTEL\" logs vm/vm-web | grep -q 'vm-web got: web-a'" ||
  fail "vm-web (h2) -> web-a.default.pod (h1): $(k logs vm/vm-web | grep 'vm-web' | tail -n 3)"
eventually 60 sh -c "\"$LINTEL\" logs vm/vm-web | grep -q 'resolved web.default.svc: $vip'" ||
  fail "nslookup in the VM: $(k logs vm/vm-web | grep resolved)"
eventually 120 sh -c "\"$LINTEL\" logs vm/vm-peer | grep -q 'vm-peer got: vm-web'" ||
  fail "vm-peer (h1) -> vm-web (h2): $(k logs vm/vm-peer | tail -n 5)"

# kill -9 of h1's agent: its workloads keep their network; a new agent
# re-adopts them and still cleans up what is deleted.
kill -9 "${AGENT_PID[h1]}"; wait "${AGENT_PID[h1]}" 2>/dev/null
# (From h1 itself: lintel exec needs the agent.)
[ "$(in_host h1 timeout 3 busybox wget -q -O - "http://$ip_a/")" = web-a ] ||
  fail "web-a unreachable while h1's agent is down"
[ "$(in_host h1 timeout 3 busybox wget -q -O - "http://$vip/")" != "" ] ||
  fail "the Service unreachable from h1 while its agent is down"
start_agent h1
k delete pod client >/dev/null
client_gone() { ! k get pod client >/dev/null 2>&1; }
eventually 30 client_gone || fail "client not deleted"
k delete vm vm-peer vm-web >/dev/null
k delete pod web-a web-b >/dev/null
k delete svc web >/dev/null
left() { in_host "$1" ip -o link show | grep -Eo ': (lv|lt)[0-9a-f]+' ; }
for h in "${HOSTS[@]}"; do
  eventually 60 sh -c "! ip netns exec $TAG-$h ip -o link show | grep -Eq ': (lv|lt)[0-9a-f]+'" ||
    fail "interfaces left on $h: $(left "$h")"
  in_host "$h" nft list table ip lintel | grep -q "$vip" && fail "Service rules left on $h"
  inuse=$(jq '.addresses | length' "$WORK/$h/network/addresses.json" 2>/dev/null || echo "?")
  [ "$inuse" = 0 ] || fail "$h's address pool still holds $inuse addresses"
done

if ((failures)); then
  for f in "$WORK"/*.log; do echo "--- $f"; tail -n 40 "$f"; done
  echo "net e2e: $failures failures"; exit 1
fi
echo "net e2e: passed"
