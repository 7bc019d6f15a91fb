#!/usr/bin/env bash
# scripts/up.sh up|down|preview — the dev stack on Minikube, in one command.
#
# up:      checks the tools, starts Minikube (ingress addon, Calico as its network so that
#          NetworkPolicies are enforced) if it is not running,
#          points Docker at Minikube's daemon, logs in to a local Pulumi state backend (no
#          Pulumi Cloud account), selects or creates the stack, generates the stack's missing
#          secrets once, runs `pulumi up`, checks that the app answers and prints how to open it.
# down:    destroys the stack (Minikube keeps running). The in-cluster PostgreSQL's data
#          survives (its namespace is retained); `make down PURGE=1` deletes it too.
# preview: shows what `up` would change.
set -euo pipefail

cmd=${1:-up}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

STACK=${STACK:-dev}
state_dir=${TODO_STATE_DIR:-$HOME/.todo-chatbot}
export PULUMI_SKIP_UPDATE_CHECK=true

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$1" >&2
	[ $# -gt 1 ] && printf '       %s\n' "${@:2}" >&2
	exit 1
}

# Only the dev stack keeps its state on this machine. Any other stack's state is shared
# (docs/operations.md, "Production"): never start a second copy of it under a local passphrase.
if [ "$STACK" != dev ] && [ -z "${PULUMI_BACKEND_URL:-}" ]; then
	die "stack $STACK keeps its state in the team's shared backend, not on this machine" \
		"set PULUMI_BACKEND_URL (e.g. s3://todo-chatbot-pulumi-state) and your cloud credentials; see docs/operations.md (Production)"
fi
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$state_dir/pulumi-state}

# --- prerequisites -------------------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$1: $2"); }
need go "https://go.dev/doc/install (Go 1.26 or newer)"
need pulumi "https://www.pulumi.com/docs/install/ (curl -fsSL https://get.pulumi.com | sh)"
need kubectl "https://kubernetes.io/docs/tasks/tools/"
need curl "your package manager (apt-get install curl)"
need openssl "your package manager (apt-get install openssl, brew install openssl)"
if [ "$STACK" = dev ]; then
	need minikube "https://minikube.sigs.k8s.io/docs/start/"
	need docker "https://docs.docker.com/engine/install/ (Minikube's docker driver needs it)"
fi
if [ ${#missing[@]} -gt 0 ]; then
	die "missing tools; install them and run 'make $cmd' again:" "${missing[@]}"
fi

# --- Minikube --------------------------------------------------------------------------------
if [ "$STACK" = dev ] && [ "$cmd" != down ]; then
	if ! minikube status --format '{{.APIServer}}' 2>/dev/null | grep -q Running; then
		say "starting Minikube (first start downloads its images; a few minutes)"
		# Minikube's default network does not enforce NetworkPolicy; Calico does, so the
		# chart's default-deny policies hold here as they do on a real cluster.
		minikube start --addons=ingress --cni=calico ${MINIKUBE_START_FLAGS:-} ||
			die "minikube start failed" "see 'minikube logs'; 'minikube delete' then 'make up' starts clean"
	fi
	# (Read whole first: `grep -q` stopping early would fail the pipeline under pipefail.)
	daemonsets=$(kubectl --context minikube -n kube-system get daemonsets -o name 2>/dev/null || true)
	if ! grep -qE '/(calico-node|cilium|kube-router|antrea-agent|weave-net)$' <<<"$daemonsets"; then
		warn "this Minikube's network does not enforce NetworkPolicy, so the chart's policies do nothing here; to enforce them: minikube delete && make up (starts Minikube with --cni=calico)"
	fi
	minikube addons enable ingress >/dev/null ||
		die "could not enable Minikube's ingress addon" "run: minikube addons enable ingress"
	# Images are built straight into Minikube's Docker daemon: nothing is pushed anywhere.
	eval "$(minikube docker-env --shell bash)"
fi

# --- Pulumi state and stack ------------------------------------------------------------------
secrets_provider=${PULUMI_SECRETS_PROVIDER:-}
if [ "$STACK" = dev ]; then
	mkdir -p "$state_dir/pulumi-state"
	chmod 700 "$state_dir"
	# The local stack's secrets are encrypted with a passphrase generated once and kept
	# next to the state, readable by this user only.
	passfile=$state_dir/passphrase
	if [ ! -s "$passfile" ]; then
		(umask 077 && openssl rand -base64 32 >"$passfile")
	fi
	export PULUMI_CONFIG_PASSPHRASE_FILE=$passfile
	unset PULUMI_CONFIG_PASSPHRASE
	secrets_provider=passphrase
fi

pulumi login "$PULUMI_BACKEND_URL" >/dev/null
if ! pulumi stack select "$STACK" 2>/dev/null; then
	[ "$cmd" = down ] && { say "stack $STACK does not exist; nothing to destroy"; exit 0; }
	[ -n "$secrets_provider" ] || die "stack $STACK does not exist in $PULUMI_BACKEND_URL" \
		"create it once with its cloud KMS key: PULUMI_SECRETS_PROVIDER=awskms://alias/todo-chatbot-prod STACK=$STACK make up (docs/operations.md)"
	say "creating stack $STACK"
	pulumi stack init "$STACK" --secrets-provider "$secrets_provider" >/dev/null
fi

# Generate each secret the dev stack needs once; it stays in the stack's config,
# encrypted. Other stacks set theirs on purpose (pulumi preview names any missing).
ensure_secret() {
	# An unset optional key reads as its Pulumi.yaml default, "", so test for a value.
	if [ -z "$(pulumi config get "$1" --stack "$STACK" 2>/dev/null)" ]; then
		say "generating $1 (stored encrypted in Pulumi.$STACK.yaml)"
		pulumi config set --secret "$1" "$(openssl rand -hex 32)" --stack "$STACK" >/dev/null
	fi
}
if [ "$STACK" = dev ]; then
	ensure_secret jwtSecret
	ensure_secret postgresPassword
fi

case $cmd in
preview)
	pulumi preview --stack "$STACK" --diff
	;;
down)
	# Read where the data lives before the stack's outputs go with its resources. A stack
	# destroyed earlier (a plain `make down`) has no outputs left: its config still names the
	# namespace, so `make down PURGE=1` can delete the data it kept.
	ns=$(pulumi stack output namespace --stack "$STACK" 2>/dev/null || true)
	[ -n "$ns" ] || ns=$(pulumi config get namespace --stack "$STACK" 2>/dev/null || true)
	context=$(pulumi config get kubeContext --stack "$STACK" 2>/dev/null || true)
	kctl=(kubectl ${context:+--context "$context"})
	say "destroying stack $STACK"
	pulumi destroy --stack "$STACK" --yes --skip-preview
	if [ -n "$ns" ] && "${kctl[@]}" get namespace "$ns" >/dev/null 2>&1; then
		if [ "${PURGE:-}" = 1 ]; then
			say "deleting namespace $ns with the database in it (PURGE=1)"
			"${kctl[@]}" delete namespace "$ns" --wait
		else
			say "kept namespace $ns: PostgreSQL's data is still there for the next 'make up'; 'make down PURGE=1' deletes it"
		fi
	fi
	;;
up)
	say "deploying stack $STACK"
	start=$(date +%s)
	# After `make down` the namespace with PostgreSQL's data is still there: the program adopts
	# it (server-side apply upserts; kubernetes providers from 4.29 on only when asked to).
	PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true pulumi up --stack "$STACK" --yes --skip-preview ||
		die "pulumi up failed" "the release was rolled back (atomic); fix the error above and run 'make up' again"
	say "deployed in $(($(date +%s) - start))s"

	# Names come from the stack's outputs: the program decides them, nothing here rebuilds them.
	ns=$(pulumi stack output namespace --stack "$STACK")
	frontend=$(pulumi stack output frontendService --stack "$STACK")
	context=$(pulumi config get kubeContext --stack "$STACK" 2>/dev/null || true)
	kctl=(kubectl ${context:+--context "$context"} -n "$ns")

	# Check that the app answers through its frontend Service: nginx, then the API behind it.
	say "checking that the app answers"
	port=18080
	"${kctl[@]}" port-forward "svc/$frontend" "$port:8080" >/dev/null 2>&1 &
	pf=$!
	trap 'kill $pf 2>/dev/null || true' EXIT
	ok=""
	for _ in $(seq 1 30); do
		if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 &&
			curl -fsS -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/auth/login" \
				-H 'Content-Type: application/json' -d '{"email":"probe@example.com","password":"not-a-user"}' 2>/dev/null | grep -q 401; then
			ok=1
			break
		fi
		sleep 2
	done
	kill $pf 2>/dev/null || true
	[ -n "$ok" ] || die "the app did not answer through svc/$frontend" \
		"look at: ${kctl[*]} get pods; ${kctl[*]} logs -l app.kubernetes.io/component=backend"

	say "the Todo Chatbot is running"
	echo "  open:      $(pulumi stack output appUrl --stack "$STACK")"
	echo "  reach it:  $(pulumi stack output accessCommand --stack "$STACK")"
	echo "  (port-forward, then open http://localhost:8080)"
	;;
*)
	die "unknown command $cmd" "use: up, down or preview"
	;;
esac
