#!/usr/bin/env bash
# The end-to-end test (`make e2e`): builds or locates the toolchain (tools/build.sh), starts the
# local control plane (cluster.sh), runs `go test -tags e2e` in tests/e2e and tears the cluster
# down on every exit.
#
#   tests/e2e/run.sh [--deadline EPOCH_SECONDS] [go test args...]
#
# --deadline: build missing tools only if they fit before EPOCH (see tools/build.sh); when
# they do not, print one line saying the e2e step was NOT run and why, and exit 3.
# Exit codes: 0 passed, 1 failed, 3 not run (toolchain missing and no time to build it).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

deadline=""
if [ "${1:-}" = --deadline ]; then deadline="${2:?--deadline needs EPOCH_SECONDS}"; shift 2; fi

# shellcheck source-path=SCRIPTDIR source=tier.sh
. "$HERE/tier.sh"
ensure_toolchain e2e kwok "$deadline"
export PATH="$BIN:$PATH" TODO_TOOLS_BIN="$BIN"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-e2e-only-passphrase}"
TODO_E2E_DIR="$(mktemp -d "${TMPDIR:-/tmp}/todo-e2e.XXXXXX")"
export TODO_E2E_DIR
trap 'bash "$HERE/cluster.sh" stop' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
start_cluster e2e
echo "e2e: cluster ready in $(( $(date +%s) - start ))s (RSS $(bash "$HERE/cluster.sh" rss) MiB)"

cd "$HERE"
# -mod=mod: the e2e module follows the program's go.mod through its replace of ../..
GOFLAGS="${GOFLAGS:-} -mod=mod" go test -tags e2e -count=1 -v -timeout 20m "${@:-.}"
