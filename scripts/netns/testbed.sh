#!/bin/sh
# The topology of test/e2e/netns.test.ts, for trying things by hand (as root, with iproute2):
#   scripts/netns/testbed.sh up PREFIX [WORKERS]   # PREFIX-c (coordinator, 10.77.0.1) and PREFIX-w1.. (10.77.I.2)
#   ip netns exec PREFIX-c  node dist/bin/nabla.js coordinator --listen 10.77.0.1:8080 --token SECRET …
#   ip netns exec PREFIX-w1 node dist/bin/nabla.js worker --connect ws://10.77.0.1:8080 --token SECRET
#   ip -n PREFIX-c link set c1 down                 # cut worker 1's link (up again to restore it)
#   scripts/netns/testbed.sh down PREFIX [WORKERS]  # deletes the namespaces, and with them the veths
# Each worker namespace has one veth to the coordinator's (a routed /30 per worker) and one route, to 10.77.0.1:
# no other addresses or routes, so traffic only goes between these namespaces.
set -eu
usage() { echo "usage: $0 up|down PREFIX [WORKERS (default 3)]" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1 prefix=$2 workers=${3:-3}
case $action in
  up)
    ip netns add "$prefix-c"
    ip -n "$prefix-c" link set lo up
    ip -n "$prefix-c" addr add 10.77.0.1/32 dev lo
    i=1
    while [ "$i" -le "$workers" ]; do
      ip netns add "$prefix-w$i"
      ip -n "$prefix-w$i" link set lo up
      ip -n "$prefix-c" link add "c$i" type veth peer name eth0 netns "$prefix-w$i"
      ip -n "$prefix-c" addr add "10.77.$i.1/30" dev "c$i"
      ip -n "$prefix-c" link set "c$i" up
      ip -n "$prefix-w$i" addr add "10.77.$i.2/30" dev eth0
      ip -n "$prefix-w$i" link set eth0 up
      ip -n "$prefix-w$i" route add 10.77.0.1/32 via "10.77.$i.1"
      i=$((i + 1))
    done
    ;;
  down)
    i=1
    while [ "$i" -le "$workers" ]; do ip netns del "$prefix-w$i" 2>/dev/null || true; i=$((i + 1)); done
    ip netns del "$prefix-c" 2>/dev/null || true
    ;;
  *) usage ;;
esac
