#!/bin/sh
# The agent in its cluster-free mode, in a network namespace of its own: it
# reads a directory of manifests, programs the namespace's nftables, serves
# /readyz and /metrics, and on SIGTERM exits leaving the rules in place.
# Usage: scripts/demo-agent.sh NETPOL_BINARY MANIFEST_DIRECTORY
set -eu
netpol=$1
manifests=$2
namespace=netpol-demo-agent
address=127.0.0.1:19714
ip netns add "$namespace"
trap 'ip netns delete "$namespace" 2>/dev/null || true' EXIT
"$netpol" agent --node node-a --source "files:$manifests" --netns "$namespace" --metrics-address "$address" &
agent=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
  curl -fs "http://$address/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done
echo "-- GET /readyz: $(curl -s "http://$address/readyz")"
echo "-- GET /metrics (netpol_*):"
curl -s "http://$address/metrics" | grep -E '^netpol_(syncs_total|kernel_rules|kernel_set_elements) '
kill -TERM "$agent"
wait "$agent"
echo "-- after SIGTERM the rules stay: $(ip netns exec "$namespace" nft list table inet netpol | grep -c 'chain ') chains in table inet netpol"
