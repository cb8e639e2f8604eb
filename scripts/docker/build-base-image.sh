#!/usr/bin/env bash
# Builds a local Docker base image from this machine's own Node, for hosts that cannot pull images
# (see DESIGN.md §5 and docs/DOCKER.md):
#   scripts/docker/build-base-image.sh [--force] [TAG]  # default tag: nabla-base:local
#   docker build --build-arg BASE_IMAGE=nabla-base:local -t nabla:local .
#
# The root filesystem holds: node (as /usr/local/bin/node), every shared library `ldd` lists for it, for /bin/sh
# (dash: the Dockerfile's RUN lines need a shell) and for every native addon under node_modules (nblas → OpenBLAS,
# msgpackr-extract, bufferutil, …), the dynamic loader, an ld.so.cache, CA certificates, a minimal /etc/passwd and
# /etc/group with the non-root user node (uid 1000, as in the official node images), and /tmp. It is piped as a tar
# stream into `docker import`. It never pulls anything.
# Idempotent: the image is labelled with a fingerprint of its inputs (the files copied in); when the tag already
# carries the same fingerprint nothing is rebuilt (--force rebuilds anyway), so `docker build` keeps its cache.
set -euo pipefail

force=0
if [ "${1:-}" = "--force" ]; then force=1; shift; fi
tag="${1:-nabla-base:local}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
node_modules="${NABLA_NODE_MODULES:-$repo_root/node_modules}"
log() { echo "build-base-image: $*" >&2; }

node_path="$(command -v node)" || { log "no node on PATH"; exit 1; }
node_path="$(readlink -f "$node_path")"
shell_path="$(readlink -f /bin/sh)"

rootfs="$(mktemp -d /tmp/nabla-base-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT

# Copies a file to the same path under the root filesystem, following symlinks (e.g. Debian's alternatives for
# libblas.so.3), so the loader finds it where ldd found it on this machine.
copy_file() {
  local source="$1" target="$rootfs$1"
  [ -e "$target" ] && return 0
  mkdir -p "$(dirname "$target")"
  cp -L "$source" "$target"
}

# Every library path ldd resolves for a binary or addon (lines "name => /path (addr)" and "/path (addr)").
libraries_of() {
  ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' || true
}

binaries=("$node_path" "$shell_path")
addon_count=0
if [ -d "$node_modules" ]; then
  while IFS= read -r -d '' addon; do
    # Skip builds for other platforms (e.g. the musl builds msgpackr-extract ships beside the glibc ones).
    if ldd "$addon" >/dev/null 2>&1; then binaries+=("$addon"); addon_count=$((addon_count + 1)); fi
  done < <(find "$node_modules" -name '*.node' -type f -print0)
else
  log "warning: $node_modules not found; native addons' libraries are not included"
fi

declare -A seen=()
for binary in "${binaries[@]}"; do
  while IFS= read -r library; do
    [ -n "$library" ] && [ -z "${seen[$library]:-}" ] || continue
    seen[$library]=1
    copy_file "$library"
  done < <(libraries_of "$binary")
done
log "node $("$node_path" --version) from $node_path; ${#seen[@]} shared libraries for node, /bin/sh and $addon_count native addons"

# The inputs' fingerprint: what is copied in, plus this script (which decides the rest of the file system).
fingerprint="$(
  { sha256sum "$node_path" "$shell_path" "${BASH_SOURCE[0]}"; printf '%s\n' "${!seen[@]}" | sort | xargs -r sha256sum;
    find /etc/ssl/certs -maxdepth 1 -name '*.crt' -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum; } | sha256sum | cut -c1-16
)"
previous="$(docker image inspect -f '{{.Id}} {{index .Config.Labels "nabla.base.fingerprint"}}' "$tag" 2>/dev/null || true)"
if [ "$force" -eq 0 ] && [ "${previous#* }" = "$fingerprint" ]; then
  log "$tag is up to date (fingerprint $fingerprint); --force rebuilds it"
  exit 0
fi

mkdir -p "$rootfs/usr/local/bin" "$rootfs/bin" "$rootfs/etc/ssl" "$rootfs/tmp" "$rootfs/home/node"
cp "$node_path" "$rootfs/usr/local/bin/node"
cp "$shell_path" "$rootfs/bin/sh"
chmod 1777 "$rootfs/tmp"

if [ -d /etc/ssl/certs ]; then
  cp -rL /etc/ssl/certs "$rootfs/etc/ssl/certs"
else
  log "warning: no /etc/ssl/certs on this machine; the image has no CA certificates"
fi

cat > "$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
node:x:1000:1000:node:/home/node:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat > "$rootfs/etc/group" <<'GROUP'
root:x:0:
node:x:1000:
nogroup:x:65534:
GROUP
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
if [ "$(id -u)" -eq 0 ]; then chown 1000:1000 "$rootfs/home/node"; else chmod 1777 "$rootfs/home/node"; fi

# A loader cache for the copied libraries; without one the loader still searches its default directories.
if command -v ldconfig >/dev/null 2>&1; then
  ldconfig -r "$rootfs" 2>/dev/null || log "warning: ldconfig -r failed; relying on the loader's default paths"
fi

tar -C "$rootfs" --numeric-owner -cf - . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV SSL_CERT_DIR=/etc/ssl/certs' \
  --change 'CMD ["node"]' \
  --change "LABEL nabla.base.fingerprint=$fingerprint" \
  --message "nabla base: node $("$node_path" --version) and its libraries from $(hostname)" \
  - "$tag" >/dev/null
# The image this tag replaced, unless something still uses it (e.g. an image built FROM it).
if [ -n "$previous" ]; then docker image rm "${previous%% *}" >/dev/null 2>&1 || true; fi
log "built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
