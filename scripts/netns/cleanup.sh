#!/bin/sh
# Deletes network namespaces left by test/e2e/netns.test.ts runs that died before their afterAll
# (names nabla-e2e-PID-…, deleted only when process PID no longer exists). Needs root.
set -eu
ip netns list | while read -r name _; do
  case $name in
    nabla-e2e-*)
      pid=$(echo "$name" | cut -d- -f3)
      if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
        ip netns del "$name" && echo "deleted $name"
      fi
      ;;
  esac
done
