#!/usr/bin/env bash
# Makes Docker usable on this machine, idempotently: installs Debian's docker.io and docker-compose when missing,
# starts dockerd in the background when no daemon answers, and waits (up to DOCKER_WAIT_SECONDS, default 60) for
# `docker info`. Needs root for the install and the start; exits 0 at once when Docker already works.
#   scripts/docker/ensure-docker.sh          # dockerd's log: $DOCKERD_LOG (default /var/log/nabla-dockerd.log)
set -euo pipefail

wait_seconds="${DOCKER_WAIT_SECONDS:-60}"
dockerd_log="${DOCKERD_LOG:-/var/log/nabla-dockerd.log}"
log() { echo "ensure-docker: $*" >&2; }
fail() { log "$*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
daemon_answers() { docker info >/dev/null 2>&1; }
has_compose() { command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; }

missing=()
command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
has_compose || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  is_root || fail "missing ${missing[*]} and not root: install them (apt-get install -y ${missing[*]}) or run as root"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if daemon_answers; then
  log "docker daemon is running ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

# Start a daemon only when none is starting already (e.g. a second caller while the first one waits).
if pidof dockerd >/dev/null 2>&1; then
  log "dockerd is starting (pid $(pidof dockerd)); waiting for it"
else
  is_root || fail "no docker daemon answers and not root: start it (sudo dockerd &) or join the docker group"
  log "starting dockerd (log: $dockerd_log)"
  mkdir -p "$(dirname "$dockerd_log")"
  # setsid + nohup: the daemon outlives this script and the test run that called it.
  setsid nohup dockerd >"$dockerd_log" 2>&1 </dev/null &
fi

for ((second = 0; second < wait_seconds; second++)); do
  if daemon_answers; then
    log "docker daemon is up after ${second} s ($(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    exit 0
  fi
  sleep 1
done
log "no answer from the docker daemon after ${wait_seconds} s; the end of $dockerd_log:"
tail -n 20 "$dockerd_log" >&2 2>/dev/null || true
exit 1
