#!/usr/bin/env bash
# scripts/up.sh up|down|preview — the dev stack on Minikube, in one command.
#
# up:      checks the tools, starts Minikube (with the ingress addon) if it is not running,
#          points Docker at Minikube's daemon, logs in to a local Pulumi state backend (no
#          Pulumi Cloud account), selects or creates the stack, generates the stack's missing
#          secrets once, runs `pulumi up`, checks that the app answers and prints how to open it.
# down:    destroys the stack (Minikube keeps running).
# preview: shows what `up` would change.
set -euo pipefail

cmd=${1:-up}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

STACK=${STACK:-dev}
state_dir=${TODO_STATE_DIR:-$HOME/.todo-chatbot}
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$state_dir/pulumi-state}
export PULUMI_SKIP_UPDATE_CHECK=true

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() {
	printf 'error: %s\n' "$1" >&2
	[ $# -gt 1 ] && printf '       %s\n' "${@:2}" >&2
	exit 1
}

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
		minikube start --addons=ingress ${MINIKUBE_START_FLAGS:-} ||
			die "minikube start failed" "see 'minikube logs'; 'minikube delete' then 'make up' starts clean"
	fi
	minikube addons enable ingress >/dev/null ||
		die "could not enable Minikube's ingress addon" "run: minikube addons enable ingress"
	# Images are built straight into Minikube's Docker daemon: nothing is pushed anywhere.
	eval "$(minikube docker-env --shell bash)"
fi

# --- Pulumi state and stack ------------------------------------------------------------------
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

pulumi login "$PULUMI_BACKEND_URL" >/dev/null
if ! pulumi stack select "$STACK" 2>/dev/null; then
	[ "$cmd" = down ] && { say "stack $STACK does not exist; nothing to destroy"; exit 0; }
	say "creating stack $STACK"
	pulumi stack init "$STACK" --secrets-provider passphrase >/dev/null
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
	say "destroying stack $STACK"
	pulumi destroy --stack "$STACK" --yes --skip-preview
	;;
up)
	say "deploying stack $STACK"
	start=$(date +%s)
	pulumi up --stack "$STACK" --yes --skip-preview ||
		die "pulumi up failed" "the release was rolled back (atomic); fix the error above and run 'make up' again"
	say "deployed in $(($(date +%s) - start))s"

	ns=$(pulumi stack output namespace --stack "$STACK")
	release=$(pulumi stack output releaseName --stack "$STACK")
	context=$(pulumi config get kubeContext --stack "$STACK" 2>/dev/null || true)
	kctl=(kubectl ${context:+--context "$context"} -n "$ns")

	# Check that the app answers through its frontend Service: nginx, then the API behind it.
	say "checking that the app answers"
	port=18080
	"${kctl[@]}" port-forward "svc/$release-frontend" "$port:8080" >/dev/null 2>&1 &
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
	[ -n "$ok" ] || die "the app did not answer through svc/$release-frontend" \
		"look at: ${kctl[*]} get pods; ${kctl[*]} logs deploy/$release-backend"

	say "the Todo Chatbot is running"
	echo "  open:      $(pulumi stack output appUrl --stack "$STACK")"
	echo "  reach it:  $(pulumi stack output accessCommand --stack "$STACK")"
	echo "  (port-forward, then open http://localhost:8080)"
	;;
*)
	die "unknown command $cmd" "use: up, down or preview"
	;;
esac
