# shellcheck shell=bash
# What the two end-to-end tiers' run scripts (run.sh, node/run.sh) share; sourced by both.
#
# ensure_toolchain NAME TIER [DEADLINE]: sets BIN to the tier's
# toolchain (tools/build.sh), building what is missing; with DEADLINE (epoch seconds) a build that
# cannot finish in time stops there, and the tier prints its one NOT RUN line and exits 3. A
# failed build exits 1.
ensure_toolchain() {
  local name=$1 tier=$2 deadline=${3:-} rc=0 build
  build="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/build.sh"
  BIN=$(bash "$build" --tier "$tier" --print-dir)
  bash "$build" --tier "$tier" --check && return 0
  echo "$name: the $tier toolchain is incomplete in $BIN; building it (cold: about an hour on 2 cores)"
  bash "$build" --tier "$tier" ${deadline:+--deadline "$deadline"} || rc=$?
  if [ $rc -eq 3 ]; then
    echo "$name: NOT RUN: the $tier toolchain in $BIN is incomplete and there was no time left to build it (tools/build.sh --deadline)"
    exit 3
  elif [ $rc -ne 0 ]; then
    echo "$name: FAILED: the toolchain build failed (tools/build.sh exit $rc)"
    exit 1
  fi
}

# start_cluster NAME: starts cluster.sh (TODO_E2E_DIR and TODO_E2E_TIER come from the caller) and
# takes in the env it prints. A failed start ends the run, failed: the tests never run without a
# cluster.
start_cluster() {
  local cluster_env
  # The assignment, not eval's argument, carries start's exit status.
  cluster_env=$(bash "$(dirname "${BASH_SOURCE[0]}")/cluster.sh" start) ||
    { echo "$1: FAILED: the cluster did not start (see above)"; exit 1; }
  eval "$cluster_env"
}
