#!/usr/bin/env bash
# scripts/ask.sh "question" — ask kubectl-ai about the deployed stack, as the read-only ops identity.
#
# kubectl-ai runs kubectl for the model. What that kubectl may do is decided by Kubernetes RBAC,
# not by a confirmation prompt: this mints a short-lived token for the chart's ServiceAccount
# "<fullname>-ops" (get/list/watch in the app's namespace; no Secrets, no exec, no writes, nothing
# cluster-scoped) and hands kubectl-ai a private kubeconfig holding the cluster's address, its CA
# and that token only, never your own credentials. The kubeconfig is deleted on exit and the token
# expires on its own (ASK_TOKEN_DURATION, default 15m).
#
# Settings (environment):
#   STACK                Pulumi stack to ask about (default dev); names come from its outputs.
#   ASK_TOKEN_DURATION   lifetime of the minted token, e.g. 10m, 1h (default 15m; the API server's
#                        minimum is 10m).
#   ASK_PROVIDER         kubectl-ai --llm-provider, e.g. openai (OpenAI-compatible: also set
#                        OPENAI_API_KEY and, for another endpoint, OPENAI_ENDPOINT).
#   ASK_MODEL            kubectl-ai --model, e.g. gpt-4o-mini.
#   KUBECTL_AI_FLAGS     any other kubectl-ai flags, word-split.
#   ASK_CREDENTIALS      "ops" (default) or "mine": a deliberate opt-in to run kubectl-ai with your
#                        own credentials for the stack's context (it can then read Secrets and
#                        change things; kubectl-ai still asks before a command that modifies).
set -euo pipefail

die() {
	echo "error: $*" >&2
	exit 1
}

question=${1:-}
[ -n "$question" ] || { echo 'usage: make ask Q="why is the backend not ready?"' >&2; exit 2; }

command -v kubectl-ai >/dev/null 2>&1 ||
	die "kubectl-ai is not installed: see https://github.com/GoogleCloudPlatform/kubectl-ai#installation, then run this again."
command -v kubectl >/dev/null 2>&1 || die "kubectl is not installed (https://kubernetes.io/docs/tasks/tools/)."
command -v pulumi >/dev/null 2>&1 || die "pulumi is not installed (https://www.pulumi.com/docs/install/)."

STACK=${STACK:-dev}
credentials=${ASK_CREDENTIALS:-ops}
duration=${ASK_TOKEN_DURATION:-15m}
case $credentials in ops | mine) ;; *) die "ASK_CREDENTIALS=$credentials: allowed values are ops, mine" ;; esac
[[ $duration =~ ^[1-9][0-9]*[smh]$ ]] || die "ASK_TOKEN_DURATION=$duration: give a duration such as 15m or 1h"

# The stack's outputs name the namespace and the ops ServiceAccount, so any release name works.
output() {
	local v
	if ! v=$(pulumi stack output "$1" --stack "$STACK" 2>&1); then
		case $v in
		*"does not have output property"*) die "stack \"$STACK\" has no output \"$1\": update it with this version of the program (\`make up\`)." ;;
		esac
		die "cannot read the outputs of stack \"$STACK\" ($v). Is it deployed? Run \`make up\` (or set STACK=<stack>)."
	fi
	[ -n "$v" ] || die "stack \"$STACK\" has no output \"$1\": update it with this version of the program (\`make up\`)."
	printf '%s' "$v"
}
ns=$(output namespace)
sa=$(output opsServiceAccount)
fullname=${sa%-ops}

# The cluster the stack deploys to: its kubeContext/kubeconfig settings, as the program uses them.
kube=()
kubeconfigPath=$(pulumi config get kubeconfig --stack "$STACK" 2>/dev/null || true)
kubeContext=$(pulumi config get kubeContext --stack "$STACK" 2>/dev/null || true)
[ -z "$kubeconfigPath" ] || kube+=(--kubeconfig "$kubeconfigPath")
[ -z "$kubeContext" ] || kube+=(--context "$kubeContext")

workdir=$(mktemp -d "${TMPDIR:-/tmp}/ask.XXXXXX")
trap 'rm -rf "$workdir"' EXIT
chmod 700 "$workdir"
kubeconfig=$workdir/kubeconfig
(umask 077 && : >"$kubeconfig")

if [ "$credentials" = mine ]; then
	case " ${KUBECTL_AI_FLAGS:-} " in
	*" --skip-permissions "*) die "refusing --skip-permissions with your own credentials: kubectl-ai would change the cluster without asking" ;;
	esac
	echo "warning: ASK_CREDENTIALS=mine: kubectl-ai runs with YOUR credentials for the stack's context; it can read Secrets and change the cluster (it asks before commands that modify)." >&2
	kubectl "${kube[@]}" config view --minify --flatten >"$kubeconfig"
	kubectl config set-context --current --namespace "$ns" --kubeconfig "$kubeconfig" >/dev/null
	scope="with the operator's own credentials"
else
	if ! err=$(kubectl "${kube[@]}" -n "$ns" get serviceaccount "$sa" -o name 2>&1 >/dev/null); then
		case $err in
		*NotFound* | *"not found"*)
			die "ServiceAccount $ns/$sa does not exist: the chart's ops identity is switched off (ops.enabled=false) or the release is not installed. Enable it, or opt in to your own credentials with ASK_CREDENTIALS=mine." ;;
		*) die "cannot reach the cluster of stack \"$STACK\": $err" ;;
		esac
	fi
	token=$(kubectl "${kube[@]}" -n "$ns" create token "$sa" --duration "$duration") ||
		die "could not mint a token for ServiceAccount $ns/$sa"
	[ -n "$token" ] || die "the API server returned an empty token for $ns/$sa"

	# Only the cluster's address and CA come from your kubeconfig; no user entry is copied.
	cluster() { kubectl "${kube[@]}" config view --minify --flatten --raw -o "jsonpath={.clusters[0].cluster.$1}"; }
	server=$(cluster server)
	[ -n "$server" ] || die "no cluster server in the kube context of stack \"$STACK\""
	ca=$(cluster certificate-authority-data)
	tlsServerName=$(cluster tls-server-name)
	insecure=$(cluster insecure-skip-tls-verify)
	proxyURL=$(cluster proxy-url)
	{
		echo "apiVersion: v1"
		echo "kind: Config"
		echo "clusters:"
		echo "  - name: todo-chatbot"
		echo "    cluster:"
		echo "      server: \"$server\""
		[ -z "$ca" ] || echo "      certificate-authority-data: \"$ca\""
		[ -z "$tlsServerName" ] || echo "      tls-server-name: \"$tlsServerName\""
		[ "$insecure" != true ] || echo "      insecure-skip-tls-verify: true"
		[ -z "$proxyURL" ] || echo "      proxy-url: \"$proxyURL\""
		echo "users:"
		echo "  - name: $sa"
		echo "    user:"
		echo "      token: \"$token\""
		echo "contexts:"
		echo "  - name: $sa"
		echo "    context:"
		echo "      cluster: todo-chatbot"
		echo "      user: $sa"
		echo "      namespace: $ns"
		echo "current-context: $sa"
	} >"$kubeconfig"
	scope="read-only (RBAC: get/list/watch in this namespace, no Secrets, no exec, no changes)"
fi

flags=(--kubeconfig "$kubeconfig" --quiet)
[ -z "${ASK_PROVIDER:-}" ] || flags+=(--llm-provider "$ASK_PROVIDER")
[ -z "${ASK_MODEL:-}" ] || flags+=(--model "$ASK_MODEL")
# shellcheck disable=SC2206 # word-splitting is the point of KUBECTL_AI_FLAGS
flags+=(${KUBECTL_AI_FLAGS:-})

prompt="Namespace $ns, $scope. The Todo Chatbot runs there as Helm release objects named $fullname-*: \
Deployment $fullname-backend (Go API, probes /healthz and /readyz), Deployment $fullname-frontend (nginx), \
StatefulSet $fullname-postgresql (when the database is in the cluster). Question: $question"

# Not exec: the trap must remove the kubeconfig when kubectl-ai exits.
status=0
KUBECONFIG=$kubeconfig kubectl-ai "${flags[@]}" "$prompt" || status=$?
exit "$status"
