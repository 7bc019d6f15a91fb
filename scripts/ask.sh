#!/usr/bin/env bash
# scripts/ask.sh "question" — ask kubectl-ai about the deployed stack.
#
# kubectl-ai runs kubectl for the model; this scopes it to the stack's cluster and namespace
# through a kubeconfig of its own (minified copy of the stack's context), so a question never
# wanders into another cluster and your kubeconfig's current context is left alone.
# The model is kubectl-ai's own setting (--llm-provider/--model or its environment).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

question=${1:-}
[ -n "$question" ] || { echo 'usage: make ask Q="why is the backend not ready?"' >&2; exit 2; }
command -v kubectl-ai >/dev/null 2>&1 || {
	echo "error: kubectl-ai is not installed: https://github.com/GoogleCloudPlatform/kubectl-ai#installation" >&2
	exit 1
}

STACK=${STACK:-dev}
ns=$(pulumi stack output namespace --stack "$STACK" 2>/dev/null || echo todo-chatbot)
context=$(pulumi config get kubeContext --stack "$STACK" 2>/dev/null || kubectl config current-context)

kubeconfig=$(mktemp)
trap 'rm -f "$kubeconfig"' EXIT
kubectl config view --minify --flatten --context "$context" >"$kubeconfig"
kubectl config set-context --current --namespace "$ns" --kubeconfig "$kubeconfig" >/dev/null

exec kubectl-ai --kubeconfig "$kubeconfig" --quiet ${KUBECTL_AI_FLAGS:-} \
	"In namespace $ns (the Todo Chatbot: a Helm release with a Go backend, an nginx frontend and PostgreSQL): $question"
