#!/usr/bin/env bash
# The node tier (`make e2e-node`): real pods. Builds or finds the toolchain (tools/build.sh --tier
# node), builds every image from our Dockerfiles and the stand-ins (images.sh), starts the control
# plane and the real node (cluster.sh with TODO_E2E_TIER=node), runs TestRealNode and tears the
# cluster down on every exit, a failed one too.
#
#   tests/e2e/node/run.sh [--deadline EPOCH_SECONDS] [go test args...]
#
# Exit codes: 0 passed, 1 failed, 3 not run (toolchain missing and no time to build it).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E="$(cd "$HERE/.." && pwd)"
t_start=$(date +%s)
since() { echo "$(( $(date +%s) - $1 ))s"; }

deadline=""
if [ "${1:-}" = --deadline ]; then deadline="${2:?--deadline needs EPOCH_SECONDS}"; shift 2; fi

if [ "$(id -u)" != 0 ]; then
  echo "e2e-node: NOT RUN: a real node needs root (containerd, iptables, mounts)"
  exit 3
fi

# shellcheck source-path=SCRIPTDIR source=../tier.sh
. "$E2E/tier.sh"
ensure_toolchain e2e-node node "$deadline"

# The node's runtime and networking come from Debian's packages, like the machine's own.
need=()
for pkg in containerd runc containernetworking-plugins iptables ipset conntrack iproute2 debootstrap openssl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "e2e-node: NOT RUN: it needs Debian's ${need[*]} (apt-get install ${need[*]})"
    exit 3
  fi
  echo "e2e-node: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's containerd package may start its own daemon; the node runs its own, in a temp dir.
service containerd stop >/dev/null 2>&1 || true

export PATH="$BIN:$PATH" TODO_TOOLS_BIN="$BIN"

t=$(date +%s)
bash "$HERE/images.sh"
echo "e2e-node: images built in $(since "$t")"
# shellcheck source=/dev/null
. "$(bash "$HERE/images.sh" --print)/images.env"

export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-e2e-only-passphrase}"
export TODO_E2E_TIER=node
TODO_E2E_DIR="$(mktemp -d "${TMPDIR:-/tmp}/todo-e2e-node.XXXXXX")"
export TODO_E2E_DIR
# A node that leaves state on the host fails the tier, even when its tests passed.
trap 'rc=$?; bash "$E2E/cluster.sh" stop || { echo "e2e-node: FAIL: the node left state on the host (above)"; [ "$rc" != 0 ] || rc=1; }; echo "e2e-node: total $(since "$t_start")"; exit "$rc"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t=$(date +%s)
start_cluster e2e-node
echo "e2e-node: cluster with a real node ready in $(since "$t") (RSS $(bash "$E2E/cluster.sh" rss) MiB)"

export CONTAINER_RUNTIME_ENDPOINT="unix://$TODO_E2E_DIR/containerd/containerd.sock"
export TODO_E2E_BACKEND_IMAGE="$BACKEND_IMAGE" TODO_E2E_FRONTEND_IMAGE="$FRONTEND_IMAGE" TODO_E2E_TEST_IMAGE="$TEST_IMAGE"
echo "e2e-node: images: backend $BACKEND_IMAGE ($BACKEND_SIZE), frontend $FRONTEND_IMAGE ($FRONTEND_SIZE)"

cd "$E2E"
GOFLAGS="${GOFLAGS:-} -mod=mod" go test -tags e2enode -count=1 -v -timeout 25m -run 'TestRealNode' "${@:-.}"
