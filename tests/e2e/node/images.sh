#!/usr/bin/env bash
# Builds every image the node tier runs, with BuildKit (buildkitd + buildctl from tools/build.sh,
# runc worker) and no registry:
#   - stand-ins for the base images our Dockerfiles and the chart name (images/*/Dockerfile: a
#     debootstrap bookworm rootfs, Debian packages, the machine's Go and Node of the exact
#     versions), each tagged with the reference it stands in for;
#   - backend/Dockerfile and frontend/Dockerfile exactly as they are, their FROM images resolved to
#     the stand-ins through BuildKit's named contexts, their `# syntax=` line served by the
#     Dockerfile frontend built into buildkitd;
#   - the cluster's own images: pause (tools/pause) and CoreDNS.
# Every image is written as an OCI layout under $OUT/<name>/ (imported into containerd by
# cluster.sh); $OUT/images.env names the references the tier deploys.
#
#   tests/e2e/node/images.sh            build (warm: BuildKit's cache under $CACHE/buildkit)
#   tests/e2e/node/images.sh --print    print $OUT
#
# Environment: TODO_TOOLS_BIN (default: tools/build.sh --print-dir), TODO_IMAGES_CACHE (default
# ~/.cache/todo-chatbot/images). Build steps that fetch (apt-get, go mod download, npm ci) use the
# host's network, so they reach exactly the registries this machine reaches.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
CACHE="${TODO_IMAGES_CACHE:-$HOME/.cache/todo-chatbot/images}"
OUT="$CACHE/oci"
[ "${1:-}" = --print ] && { echo "$OUT"; exit 0; }

BIN="${TODO_TOOLS_BIN:-$(bash "$REPO/tools/build.sh" --print-dir)}"
for t in buildkitd buildctl pause coredns; do
  [ -x "$BIN/$t" ] || { echo "images: missing $BIN/$t: run tools/build.sh --tier node" >&2; exit 1; }
done
for c in runc debootstrap; do
  command -v "$c" >/dev/null || { echo "images: $c not found (apt-get install $c)" >&2; exit 1; }
done

log() { echo "images: $*" >&2; }
mkdir -p "$CACHE" "$OUT"
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/todo-buildkit.XXXXXX")
SOCK="unix://$RUN_DIR/buildkitd.sock"

stop_buildkitd() {
  if [ -f "$RUN_DIR/buildkitd.pid" ]; then
    local pid; pid=$(cat "$RUN_DIR/buildkitd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Build containers that outlived buildkitd leave overlay mounts under its root.
  grep -F " $CACHE/buildkit/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$RUN_DIR"
}
trap stop_buildkitd EXIT

# --- the Debian rootfs every stand-in starts from -------------------------------------------
# Keyed by the recipe; made once per machine (~80 s) and kept outside the clone.
ROOTFS_VARIANT=minbase ROOTFS_SUITE=bookworm ROOTFS_MIRROR=http://deb.debian.org/debian
ROOTFS_DIR="$CACHE/rootfs-$(echo "debootstrap --variant=$ROOTFS_VARIANT $ROOTFS_SUITE $ROOTFS_MIRROR" | sha256sum | cut -c1-12)"
if [ ! -f "$ROOTFS_DIR/rootfs.tar" ]; then
  t0=$(date +%s)
  log "debootstrap bookworm (minbase) ..."
  rm -rf "$ROOTFS_DIR.tmp"; mkdir -p "$ROOTFS_DIR.tmp"
  debootstrap --variant="$ROOTFS_VARIANT" "$ROOTFS_SUITE" "$ROOTFS_DIR.tmp/root" "$ROOTFS_MIRROR" > "$ROOTFS_DIR.tmp/debootstrap.log" 2>&1 \
    || { tail -n 20 "$ROOTFS_DIR.tmp/debootstrap.log" >&2; exit 1; }
  rm -rf "$ROOTFS_DIR.tmp/root/var/cache/apt/archives/"*.deb "$ROOTFS_DIR.tmp/root/var/lib/apt/lists/"*
  tar --numeric-owner -C "$ROOTFS_DIR.tmp/root" -cf "$ROOTFS_DIR.tmp/rootfs.tar" .
  rm -rf "$ROOTFS_DIR.tmp/root" "$ROOTFS_DIR"
  mv "$ROOTFS_DIR.tmp" "$ROOTFS_DIR"
  log "rootfs in $(( $(date +%s) - t0 ))s"
fi

# --- what the Dockerfiles and the chart ask for ---------------------------------------------
# from_ref DOCKERFILE N: the image of the Nth FROM line (1-based).
from_ref() { awk 'toupper($1) == "FROM" {n++; if (n == '"$2"') {print $2; exit}}' "$1"; }
# values_image SECTION: "<repository>:<tag>" of SECTION.image in the chart's values.yaml.
values_image() {
  awk -v sec="$1" '
    /^[^ #]/ { top = $1; sub(":", "", top) }
    top == sec && /^  image:/ { inimg = 1; next }
    inimg && /^  [^ ]/ { inimg = 0 }
    inimg && $1 == "repository:" { repo = $2 }
    inimg && $1 == "tag:" { tag = $2; gsub(/"/, "", tag) }
    END { print repo ":" tag }' "$REPO/helm/todo-chatbot/values.yaml"
}
GOLANG_REF=$(from_ref "$REPO/backend/Dockerfile" 1)
DISTROLESS_REF=$(from_ref "$REPO/backend/Dockerfile" 2)
NODE_REF=$(from_ref "$REPO/frontend/Dockerfile" 1)
NGINX_REF=$(from_ref "$REPO/frontend/Dockerfile" 2)
POSTGRES_REF=$(values_image postgresql)
BUSYBOX_REF=$(values_image tests)
PAUSE_REF=registry.k8s.io/pause:3.10
COREDNS_REF=registry.k8s.io/coredns/coredns:$(grep -o 'COREDNS_VERSION=v[0-9.]*' "$REPO/tools/versions.env" | cut -d= -f2)
GO_VERSION=${GOLANG_REF#golang:}; GO_VERSION=${GO_VERSION%%-*}
NODE_VERSION=${NODE_REF#node:}; NODE_VERSION=${NODE_VERSION%%-*}

# --- inputs taken from this machine: Go and Node of exactly those versions -----------------
GOROOT_CTX=$(go env GOROOT)
if [ "$(go env GOVERSION)" != "go$GO_VERSION" ]; then
  # The go command fetches any release from the module proxy as golang.org/toolchain.
  GOROOT_CTX=$(GOTOOLCHAIN="go$GO_VERSION" go env GOROOT)
fi
NODE_CTX="$CACHE/node-v$NODE_VERSION"
if [ ! -x "$NODE_CTX/bin/node" ]; then
  have=$(node --version 2>/dev/null || echo none)
  [ "$have" = "v$NODE_VERSION" ] || { log "the node stand-in needs Node.js v$NODE_VERSION on this machine (have $have)"; exit 1; }
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  rm -rf "$NODE_CTX.tmp"; mkdir -p "$NODE_CTX.tmp/bin" "$NODE_CTX.tmp/lib/node_modules"
  cp "$(readlink -f "$(command -v node)")" "$NODE_CTX.tmp/bin/node"
  cp -r "$npm_dir" "$NODE_CTX.tmp/lib/node_modules/npm"
  mv "$NODE_CTX.tmp" "$NODE_CTX"
fi
STAGE="$RUN_DIR/stage"; mkdir -p "$STAGE/pause" "$STAGE/coredns" "$STAGE/localca"
cp "$BIN/pause" "$STAGE/pause/"; cp "$BIN/coredns" "$STAGE/coredns/"
# This machine's local CAs (Debian's /usr/local/share/ca-certificates), trusted by the build
# stand-ins as by the machine itself: a TLS-inspecting proxy on the way to the Go module proxy
# or the npm registry is then trusted inside `go mod download` and `npm ci` too.
cp /usr/local/share/ca-certificates/*.crt "$STAGE/localca/" 2>/dev/null || true
LOCALCA=(--local localca="$STAGE/localca" --opt context:localca=local:localca)

# --- buildkitd ------------------------------------------------------------------------------
# Host network for RUN steps (apt-get, go mod download, npm ci); its root (the layer and cache
# mount store) stays in the cache so a warm build is quick.
setsid "$BIN/buildkitd" --root "$CACHE/buildkit" --addr "$SOCK" \
  --oci-worker=true --containerd-worker=false --oci-worker-net=host \
  --oci-worker-snapshotter=overlayfs --oci-worker-binary="$(command -v runc)" \
  --oci-worker-gc --oci-worker-gc-keepstorage=12000 \
  > "$CACHE/buildkitd.log" 2>&1 < /dev/null &
echo $! > "$RUN_DIR/buildkitd.pid"
for _ in $(seq 1 100); do "$BIN/buildctl" --addr "$SOCK" debug workers >/dev/null 2>&1 && break; sleep 0.2; done
"$BIN/buildctl" --addr "$SOCK" debug workers >/dev/null || { tail -n 30 "$CACHE/buildkitd.log" >&2; exit 1; }

# Named contexts: each stand-in, once built, replaces its reference in later builds.
CONTEXTS=()
# build NAME REF CONTEXT_DIR DOCKERFILE_DIR [buildctl args...]
build() {
  local name=$1 ref=$2 ctx=$3 dfdir=$4; shift 4
  local t0 dest="$OUT/$name" meta="$RUN_DIR/$name.json" digest full
  t0=$(date +%s)
  full=$(normalize "$ref")
  rm -rf "$dest.tmp"
  # cmdline: the `# syntax=` line names the frontend image; this says "use the built-in one".
  "$BIN/buildctl" --addr "$SOCK" build --progress=plain \
    --frontend dockerfile.v0 --opt cmdline=built-in \
    --local context="$ctx" --local dockerfile="$dfdir" \
    "${CONTEXTS[@]}" "$@" \
    --metadata-file "$meta" \
    --output "type=oci,tar=false,dest=$dest.tmp,name=$full" > "$RUN_DIR/$name.log" 2>&1 \
    || { log "FAILED to build $name ($ref); last lines:"; tail -n 40 "$RUN_DIR/$name.log" >&2; return 1; }
  rm -rf "$dest"; mv "$dest.tmp" "$dest"
  digest=$(sed -n 's/.*"containerimage.digest": *"\([^"]*\)".*/\1/p' "$meta" | head -n1)
  echo "$digest" > "$dest/digest"; echo "$full" > "$dest/ref"
  CONTEXTS+=(--oci-layout "$name=$dest" --opt "context:$ref=oci-layout://$name@$digest")
  log "built $name as $full in $(( $(date +%s) - t0 ))s ($(size_of "$dest"))"
}
# normalize REF: the fully qualified name containerd's CRI looks up for REF.
normalize() {
  local r=$1
  case "$r" in
    */*) case "${r%%/*}" in *.*|*:*|localhost) echo "$r" ;; *) echo "docker.io/$r" ;; esac ;;
    *) echo "docker.io/library/$r" ;;
  esac
}
# layers_of LAYOUT: the hex digests of the image's layers, base first.
layers_of() {
  compact "$1/blobs/sha256/$(manifest_of "$1")" | grep -o '"digest":"sha256:[0-9a-f]*","size":[0-9]*' \
    | tail -n +2 | sed 's/.*sha256:\([0-9a-f]*\).*/\1/'
}
# size_of LAYOUT [BASE_LAYOUT]: compressed and unpacked size of the image's layers; with a base,
# also of the layers the image adds to it (what its own Dockerfile stage contributes).
size_of() {
  local dir=$1 base=${2:-} packed=0 unpacked=0 own_packed=0 own_unpacked=0 l p u base_layers=""
  [ -n "$base" ] && base_layers=$(layers_of "$base")
  for l in $(layers_of "$dir"); do
    p=$(stat -c %s "$dir/blobs/sha256/$l"); u=$(gzip -dc "$dir/blobs/sha256/$l" 2>/dev/null | wc -c)
    packed=$(( packed + p )); unpacked=$(( unpacked + u ))
    if [ -n "$base" ] && ! grep -qx "$l" <<<"$base_layers"; then
      own_packed=$(( own_packed + p )); own_unpacked=$(( own_unpacked + u ))
    fi
  done
  printf '%s MiB compressed, %s MiB unpacked' "$(mib "$packed")" "$(mib "$unpacked")"
  [ -n "$base" ] && printf '; our layers %s MiB compressed, %s MiB unpacked' "$(mib "$own_packed")" "$(mib "$own_unpacked")"
  echo
}
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
# manifest_of LAYOUT: the image manifest's hex digest (through the index, for one platform).
manifest_of() {
  local dir=$1 d media
  d=$(compact "$dir/index.json" | grep -o '"digest":"sha256:[0-9a-f]*"' | head -n1 | sed 's/.*sha256:\([0-9a-f]*\)"/\1/')
  media=$(compact "$dir/blobs/sha256/$d" | grep -o '"mediaType":"[^"]*"' | head -n1)
  if [[ "$media" == *index* ]]; then
    d=$(compact "$dir/blobs/sha256/$d" | grep -o '"digest":"sha256:[0-9a-f]*"' | head -n1 | sed 's/.*sha256:\([0-9a-f]*\)"/\1/')
  fi
  echo "$d"
}
# compact FILE: JSON without the whitespace BuildKit pretty-prints manifests with.
compact() { tr -d ' \n\t' < "$1"; }

t_all=$(date +%s)
build debian debian:bookworm "$ROOTFS_DIR" "$HERE/images/debian"
build golang "$GOLANG_REF" "$HERE/images/golang" "$HERE/images/golang" "${LOCALCA[@]}" \
  --local goroot="$GOROOT_CTX" --opt context:goroot=local:goroot --opt build-arg:GO_VERSION="$GO_VERSION"
build distroless "$DISTROLESS_REF" "$HERE/images/distroless" "$HERE/images/distroless"
build node "$NODE_REF" "$HERE/images/node" "$HERE/images/node" "${LOCALCA[@]}" \
  --local nodejs="$NODE_CTX" --opt context:nodejs=local:nodejs --opt build-arg:NODE_VERSION="v$NODE_VERSION"
build nginx "$NGINX_REF" "$HERE/images/nginx" "$HERE/images/nginx"
build postgres "$POSTGRES_REF" "$HERE/images/postgres" "$HERE/images/postgres"
build busybox "$BUSYBOX_REF" "$HERE/images/busybox" "$HERE/images/busybox"
build pause "$PAUSE_REF" "$STAGE/pause" "$HERE/images/pause"
build coredns "$COREDNS_REF" "$STAGE/coredns" "$HERE/images/coredns"

# Our images: the tag is a hash of the build context, so a changed source is a new tag.
ctx_tag() { (cd "$1" && find . -type f ! -path './node_modules/*' ! -path './dist/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16; }
BACKEND_REF="todo-chatbot-backend:e2e-$(ctx_tag "$REPO/backend")"
FRONTEND_REF="todo-chatbot-frontend:e2e-$(ctx_tag "$REPO/frontend")"
build backend "$BACKEND_REF" "$REPO/backend" "$REPO/backend"
build frontend "$FRONTEND_REF" "$REPO/frontend" "$REPO/frontend"

{
  echo "BACKEND_IMAGE=$(normalize "$BACKEND_REF")"
  echo "FRONTEND_IMAGE=$(normalize "$FRONTEND_REF")"
  echo "POSTGRES_IMAGE=$(normalize "$POSTGRES_REF")"
  echo "TEST_IMAGE=$(normalize "$BUSYBOX_REF")"
  echo "PAUSE_IMAGE=$(normalize "$PAUSE_REF")"
  echo "COREDNS_IMAGE=$(normalize "$COREDNS_REF")"
  echo "BACKEND_SIZE='$(size_of "$OUT/backend" "$OUT/distroless")'"
  echo "FRONTEND_SIZE='$(size_of "$OUT/frontend" "$OUT/nginx")'"
  echo "LAYOUTS='debian golang distroless node nginx postgres busybox pause coredns backend frontend'"
} > "$OUT/images.env"
log "all images in $(( $(date +%s) - t_all ))s; $OUT/images.env:"
cat "$OUT/images.env" >&2
