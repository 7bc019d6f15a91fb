#!/usr/bin/env bash
# kube-score on the chart as the Pulumi program deploys it: renders helm/todo-chatbot with the
# values infra.ChartValues produces for Pulumi.dev.yaml and Pulumi.prod.yaml (through the Go test
# TestWriteRenderedManifests, Helm Go SDK, no helm binary or cluster needed), then scores them,
# and the chart tests' other scenarios (defaults, values-prod.yaml, every switch flipped) too.
# Fails on any CRITICAL finding; WARNINGs are printed (the chart README explains the ones kept).
#
# kube-score is built once with `go install` into $KUBE_SCORE_DIR/<version>/ (default .tools/kube-score,
# git-ignored; the Makefile points it at the shared tools cache).
# Usage: scripts/kube-score.sh [output-dir]   (the rendered manifests are kept there)
set -euo pipefail

KUBE_SCORE_VERSION=v1.20.0
KUBERNETES_VERSION=v1.31

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bindir=${KUBE_SCORE_DIR:-$root/.tools/kube-score}/$KUBE_SCORE_VERSION
kube_score=$bindir/kube-score
if [ ! -x "$kube_score" ]; then
	echo "kube-score: installing github.com/zegl/kube-score $KUBE_SCORE_VERSION into $bindir"
	mkdir -p "$bindir"
	GOBIN=$bindir go install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
fi

out=${1:-}
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

echo "kube-score: rendering the chart with the dev and prod stack values"
CHART_MANIFESTS_DIR=$out go test ./tests/chart -run '^TestWriteRenderedManifests$' -count=1 >"$out/render.log" 2>&1 || {
	cat "$out/render.log" >&2
	exit 1
}

for stack in dev prod; do
	if [ ! -s "$out/$stack.yaml" ]; then
		echo "kube-score: $out/$stack.yaml was not rendered" >&2
		exit 1
	fi
done

manifests=("$out/dev.yaml" "$out/prod.yaml")
for manifest in "$out"/*.yaml; do
	case $manifest in */dev.yaml | */prod.yaml) ;; *) manifests+=("$manifest") ;; esac
done

status=0
for manifest in "${manifests[@]}"; do
	stack=$(basename "$manifest" .yaml)
	report=$out/kube-score-$stack.txt
	rc=0
	"$kube_score" score --kubernetes-version "$KUBERNETES_VERSION" --output-format ci "$manifest" >"$report" || rc=$?
	critical=$(grep -c '^\[CRITICAL\]' "$report" || true)
	warning=$(grep -c '^\[WARNING\]' "$report" || true)
	ok=$(grep -c '^\[OK\]' "$report" || true)
	echo "kube-score $stack: $ok ok, $warning warning(s), $critical critical"
	grep -E '^\[(CRITICAL|WARNING)\]' "$report" | sed 's/^/  /' || true
	if [ "$critical" -ne 0 ]; then
		status=1
	elif [ "$rc" -ne 0 ]; then
		# kube-score exits 1 only for CRITICAL findings; anything else is a failure to run.
		echo "kube-score $stack: exited $rc without a CRITICAL finding:" >&2
		cat "$report" >&2
		status=1
	fi
done
if [ "$status" -ne 0 ]; then
	echo "kube-score: CRITICAL findings (or kube-score failed): fix the chart" >&2
fi
exit "$status"
