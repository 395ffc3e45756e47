#!/bin/sh
# The agent's memory at one of netpol-bench's cluster sizes: the generated
# cluster (as `netpol-bench --size` generates it) read by the files source,
# nftables programmed in a network namespace of its own for node-0; then one
# pod relabelled RELABELS times (3), each waited for until synced, then one
# more verify of the kernel's table (every 10 s here, so that verifies, which
# read the whole table back, happen at every size). Prints VmHWM (peak
# resident set) and VmRSS from /proc after the first sync, every 10 relabels
# and at the end, then stops the agent with SIGTERM and removes what it made. The agent runs with MALLOC_ARENA_MAX=2 as the DaemonSet runs it;
# set MALLOC_ARENA_MAX to compare (glibc's default is 8 per core).
# Usage (root): scripts/agent-memory.sh NETPOL_BINARY S|M|L|XL [RELABELS]
set -eu
netpol=$1
size=$2
relabels=${3:-3}
arenas=${MALLOC_ARENA_MAX:-2}
case $size in
  S) cluster="--namespaces 10 --pods 100 --policies 20 --nodes 5" ;;
  M) cluster="--namespaces 20 --pods 1000 --policies 200 --nodes 10" ;;
  L) cluster="--namespaces 100 --pods 10000 --policies 2000 --nodes 100" ;;
  XL) cluster="--namespaces 1000 --pods 100000 --policies 10000 --nodes 1000" ;;
  *) echo "usage: $0 NETPOL_BINARY S|M|L|XL [RELABELS]" >&2; exit 2 ;;
esac
namespace=netpol-mem-$size-$$
directory=$(mktemp -d /tmp/netpol-mem-XXXXXX)
agent=
cleanup() {
  if [ -n "$agent" ]; then kill -TERM "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true; fi
  ip netns delete "$namespace" 2>/dev/null || true
  rm -rf "$directory" "$directory.log"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The relabelled pod lives in a file of its own, so a change rereads one small
# file, as one watch event would bring one pod.
probe_pod() {
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: mem-probe, namespace: ns-0, labels: {app: app-0, tier: %s}}\n' "$1"
  printf 'spec: {nodeName: node-0, containers: [{name: main}]}\n'
  printf 'status: {phase: Running, podIP: 10.200.0.1, podIPs: [{ip: 10.200.0.1}]}\n'
}

# Waits (up to $1 half-seconds) until `$2` succeeds.
wait_until() {
  tries=$1; shift
  while ! "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || { echo "gave up waiting: $*" >&2; tail -5 "$directory.log" >&2; exit 1; }
    sleep 0.5
  done
}
listening() { port=$(grep -o 'metrics=[0-9.]*:[0-9]*' "$directory.log" | head -1 | cut -d: -f2); [ -n "$port" ]; }
ready() { curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; }
counter() { curl -fs "http://127.0.0.1:$port/metrics" | awk -v name="$1" '$1 == name { print $2 }'; }
counter_past() { [ "$(counter "$1")" -gt "$2" ] 2>/dev/null; }
memory() {
  awk -v label="$1" '/^VmHWM/ { hwm = $2 } /^VmRSS/ { rss = $2 }
    END { printf "%-24s VmHWM %6.0f MiB   VmRSS %6.0f MiB\n", label, hwm / 1024, rss / 1024 }' "/proc/$agent/status"
}

ip netns add "$namespace"
"$netpol" gen $cluster --seed 42 > "$directory/cluster.yaml"
probe_pod web > "$directory/probe.yaml"
echo "size $size: $cluster ($(wc -c < "$directory/cluster.yaml" | awk '{ printf "%.1f", $1 / 1048576 }') MiB of YAML), node-0, nftables, MALLOC_ARENA_MAX=$arenas"

: > "$directory.log"   # before the agent starts, so the first look at it finds it
MALLOC_ARENA_MAX=$arenas "$netpol" agent --node node-0 --source "files:$directory" --netns "$namespace" --metrics-address 127.0.0.1:0 \
  --verify-interval 10s 2> "$directory.log" &
agent=$!
wait_until 60 listening
wait_until 1200 ready
memory "ready (first sync)"
for round in $(seq "$relabels"); do
  before=$(counter netpol_syncs_total)
  if [ $((round % 2)) = 1 ]; then probe_pod db; else probe_pod web; fi > "$directory/probe.yaml"
  wait_until 600 counter_past netpol_syncs_total "$before"
  if [ $((round % 10)) = 0 ] && [ "$round" != "$relabels" ]; then memory "after $round"; fi
done
before=$(counter netpol_verifies_total)
wait_until 240 counter_past netpol_verifies_total "$before"
memory "after $relabels relabels"
echo "$(counter netpol_syncs_total) syncs, $(counter netpol_verifies_total) verifies, $(counter netpol_sync_fallbacks_total) fallbacks"
echo "$(grep -c ' ERROR \| CRITICAL ' "$directory.log" || true) error lines in the agent's log"
