#!/usr/bin/env bash
# Builds the hermetic e2e toolchain from Go modules into a cache directory outside the clone,
# keyed by the pinned versions. Two tiers share it:
#   kwok (make e2e):      etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok,
#                         pulumi, pulumi-language-go, pulumi-resource-kubernetes
#   node (make e2e-node): the kwok tier's tools but kwok, plus kubelet, kube-proxy, crictl,
#                         coredns, kube-router, buildkitd, buildctl and pause (ours, tools/pause)
# The cache:
#   ${TODO_TOOLS_DIR:-$HOME/.cache/todo-chatbot/tools-<key>}/bin
# <key> is a short hash of tools/versions.env, tools/*/go.mod, tools/*/go.sum and this script.
# Tools whose module has no replace or exclude directive build from their own go.mod and go.sum
# (install_one); the others from a module of ours under tools/ (kube, pulumi, langhost, buildkit).
#
# Usage:
#   tools/build.sh [--tier kwok|node|all]  build whatever the tier misses (default kwok;
#                                      prints each tool's build time)
#   tools/build.sh --deadline EPOCH    stop at EPOCH (seconds since 1970): start no tool build
#                                      with less than a minute left, and stop one still running
#                                      at EPOCH; exits 3 with one line. What was compiled stays
#                                      in the Go build cache, so the next run resumes from there.
#   tools/build.sh --print-dir         print the bin dir and exit
#   tools/build.sh --check             exit 0 if every tool of the tier is built at this key, else 1
#
# Exit codes: 0 all tools present, 1 a build failed, 2 usage, 3 stopped by --deadline.
# Each binary is written atomically (built to a temp file, then renamed), so an interrupted
# build never leaves a half binary; a complete toolchain also has the marker file
# <dir>/complete-<tier>. Builds run under `nice -n 19` and keep the Go build cache warm.
set -euo pipefail

TOOLS_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$TOOLS_SRC/versions.env"

key() {
  # LC_ALL=C: the same glob order, so the same key, in every locale.
  (cd "$TOOLS_SRC" && LC_ALL=C && cat versions.env build.sh ./*/go.mod ./*/go.sum 2>/dev/null) | sha256sum | cut -c1-12
}
TOOLS_DIR="${TODO_TOOLS_DIR:-$HOME/.cache/todo-chatbot/tools-$(key)}"
BIN="$TOOLS_DIR/bin"

CONTROL_PLANE=(etcd kube-apiserver kube-controller-manager kube-scheduler)
PULUMI_TOOLS=(pulumi pulumi-language-go pulumi-resource-kubernetes)
KWOK_TOOLS=("${CONTROL_PLANE[@]}" kwok "${PULUMI_TOOLS[@]}")
# The node's own binaries; containerd, runc and the CNI plugins are Debian's packages.
NODE_ONLY=(kubelet kube-proxy pause crictl buildkitd buildctl coredns kube-router)
NODE_TOOLS=("${CONTROL_PLANE[@]}" "${NODE_ONLY[@]}" "${PULUMI_TOOLS[@]}")


deadline=""
mode=build
tier=kwok
while [ $# -gt 0 ]; do
  case "$1" in
    --tier) tier="${2:?--tier needs kwok, node or all}"; shift 2 ;;
    --tier=*) tier="${1#--tier=}"; shift ;;
    --deadline) deadline="${2:?--deadline needs EPOCH_SECONDS}"; shift 2 ;;
    --deadline=*) deadline="${1#--deadline=}"; shift ;;
    --print-dir) echo "$BIN"; exit 0 ;;
    --check) mode=check; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "tools/build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$tier" in
  kwok) ALL_TOOLS=("${KWOK_TOOLS[@]}") ;;
  node) ALL_TOOLS=("${NODE_TOOLS[@]}") ;;
  all) ALL_TOOLS=("${CONTROL_PLANE[@]}" "${NODE_ONLY[@]}" kwok "${PULUMI_TOOLS[@]}") ;;
  *) echo "tools/build.sh: --tier must be kwok, node or all, not $tier" >&2; exit 2 ;;
esac

missing() {
  local t out=()
  for t in "${ALL_TOOLS[@]}"; do [ -x "$BIN/$t" ] || out+=("$t"); done
  echo "${out[@]:-}"
}

if [ "$mode" = check ]; then
  [ -z "$(missing)" ] && exit 0 || exit 1
fi

# Run at the lowest priority: other people compile on these cores.
if [ "$(nice)" -lt 19 ] && [ -z "${TOOLS_BUILD_NICED:-}" ]; then
  TOOLS_BUILD_NICED=1 exec nice -n 19 bash "$0" --tier "$tier" ${deadline:+--deadline "$deadline"}
fi

mkdir -p "$BIN" "$TOOLS_DIR/src"
export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false" CGO_ENABLED=0
TIMES="$TOOLS_DIR/times"   # "<tool> <seconds>" lines: measured build times
# With --deadline, every go command runs under `timeout` so nothing outlives the deadline.
LIMIT=()

K8S_LDFLAGS() {
  local v=${K8S_VERSION#v} major minor pkg flags=""
  major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.gitTreeState=clean"
    flags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

# The provider's module zip lacks the generated *-embed.json files and replaces sdk/v4 with
# ../sdk: copy it to a writable dir, drop that replace, pin the SDK and generate.
prepare_provider() {
  local src="$TOOLS_DIR/src/pulumi-kubernetes-provider" dir
  if [ ! -f "$src/.prepared" ]; then
    dir=$(go mod download -json "$K8S_PROVIDER_MODULE" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
    [ -n "$dir" ] || { echo "cannot download $K8S_PROVIDER_MODULE" >&2; return 1; }
    rm -rf "$src" "$src.tmp"
    cp -r "$dir" "$src.tmp" && chmod -R u+w "$src.tmp" || return 1
    # (&& chains: build_tool runs with `set +e`.)
    (
      cd "$src.tmp" &&
      go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 \
        -require "github.com/pulumi/pulumi-kubernetes/sdk/v4@$K8S_PROVIDER_SDK_VERSION" &&
      go mod download &&
      cd cmd/pulumi-resource-kubernetes &&
      VERSION=$K8S_PROVIDER_VERSION "${LIMIT[@]}" go run -mod=mod generate.go
    ) >&2 || return 1
    touch "$src.tmp/.prepared"
    mv "$src.tmp" "$src"
  fi
  echo "$src"
}

# install_one NAME MODULE_PACKAGE@VERSION LDFLAGS: a tool built from its own module's go.mod and
# go.sum (checked against the checksum database), as `go install pkg@version` does.
install_one() {
  local name=$1 pkgver=$2 ldflags=$3 gobin
  gobin=$(mktemp -d "$BIN/.$name.gobin.XXXXXX")
  GOBIN=$gobin "${LIMIT[@]}" go install -trimpath -ldflags "-s -w $ldflags" "$pkgver" || { rm -rf "$gobin"; return 1; }
  mv -f "$gobin/$(basename "${pkgver%@*}")" "$BIN/$name" && rm -rf "$gobin"
}

# build_one NAME MODULE_DIR PACKAGE LDFLAGS
build_one() {
  local name=$1 dir=$2 pkg=$3 ldflags=$4 tmp modflag=()
  tmp="$BIN/.$name.tmp.$$"
  # The provider's copy gets a new requirement; let go fill in its go.sum.
  case "$dir" in "$TOOLS_DIR"/*) modflag=(-mod=mod) ;; esac
  "${LIMIT[@]}" go build -C "$dir" "${modflag[@]}" -trimpath -ldflags "-s -w $ldflags" -o "$tmp" "$pkg" || return $?
  mv -f "$tmp" "$BIN/$name"
}

build_tool() {
  local t=$1
  case "$t" in
    etcd) build_one etcd "$TOOLS_SRC/kube" go.etcd.io/etcd/server/v3 "" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy)
      build_one "$t" "$TOOLS_SRC/kube" "k8s.io/kubernetes/cmd/$t" "$(K8S_LDFLAGS)" ;;
    kwok)
      build_one kwok "$TOOLS_SRC/kube" sigs.k8s.io/kwok/cmd/kwok \
        "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${K8S_VERSION#v}" ;;
    pulumi)
      build_one pulumi "$TOOLS_SRC/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
        "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" ;;
    pulumi-language-go)
      build_one pulumi-language-go "$TOOLS_SRC/langhost" github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go \
        "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGHOST_VERSION" ;;
    pulumi-resource-kubernetes)
      local src; src=$(prepare_provider) || return $?
      build_one pulumi-resource-kubernetes "$src" ./cmd/pulumi-resource-kubernetes \
        "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION" ;;
    crictl) install_one crictl "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" \
        "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" ;;
    coredns) install_one coredns "github.com/coredns/coredns@$COREDNS_VERSION" "" ;;
    kube-router) install_one kube-router "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION" \
        "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" ;;
    buildkitd|buildctl) build_one "$t" "$TOOLS_SRC/buildkit" "github.com/moby/buildkit/cmd/$t" \
        "-X github.com/moby/buildkit/version.Version=$BUILDKIT_VERSION" ;;
    pause) build_one pause "$TOOLS_SRC/pause" . "" ;;
    *) echo "unknown tool $t" >&2; return 1 ;;
  esac
}

echo "tools: $BIN"
todo=$(missing)
if [ -z "$todo" ]; then
  echo "tools: all ${#ALL_TOOLS[@]} tools of the $tier tier already built at this key"
  touch "$TOOLS_DIR/complete-$tier"
  exit 0
fi

# Downloads are cheap, compiles are not: fetch every module first.
t0=$(date +%s)
for m in kube pulumi langhost buildkit; do (cd "$TOOLS_SRC/$m" && go mod download); done
case " ${ALL_TOOLS[*]} " in
  *" kubelet "*)
    go mod download "sigs.k8s.io/cri-tools@$CRICTL_VERSION" "github.com/coredns/coredns@$COREDNS_VERSION" \
      "github.com/cloudnativelabs/kube-router/v2@$KUBE_ROUTER_VERSION" ;;
esac
echo "tools: modules downloaded in $(( $(date +%s) - t0 ))s"

rc=0
for t in $todo; do
  if [ -n "$deadline" ]; then
    left=$(( deadline - $(date +%s) ))
    if [ "$left" -lt 60 ]; then
      echo "tools: stopped at the deadline before building $t (${left}s left); still missing: $(missing)"
      exit 3
    fi
    LIMIT=(timeout -k 10 "$left")
  fi
  start=$(date +%s)
  echo "tools: building $t ..."
  set +e
  build_tool "$t"
  brc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  if [ $brc -eq 0 ]; then
    echo "$t $secs" >> "$TIMES"
    echo "tools: built $t in ${secs}s ($(du -m "$BIN/$t" | cut -f1) MB)"
  else
    rm -f "$BIN/.$t.tmp."*
    if [ -n "$deadline" ] && [ "$(date +%s)" -ge "$deadline" ]; then
      echo "tools: stopped at the deadline while building $t (after ${secs}s; what was compiled stays in the Go build cache for the next run); still missing: $(missing)"
      exit 3
    fi
    echo "tools: FAILED to build $t after ${secs}s (exit $brc)" >&2
    rc=1
  fi
done

if [ -z "$(missing)" ]; then
  touch "$TOOLS_DIR/complete-$tier"
  echo "tools: complete in $BIN"
fi
exit $rc
