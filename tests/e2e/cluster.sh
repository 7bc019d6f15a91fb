#!/usr/bin/env bash
# A local Kubernetes control plane for the end-to-end tests, built from Go modules (tools/build.sh):
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler with free ports and a temp data
# dir, and nodes of one of two tiers (TODO_E2E_TIER):
#   kwok (default)  2 fake nodes whose pods go Running/Ready without a container runtime; all on
#                   127.0.0.1. Nothing runs in the pods: kwok fakes their status.
#   node            one real node on this machine (node/node.sh): containerd + runc + CNI bridge,
#                   kubelet, kube-proxy, kube-router for NetworkPolicies, CoreDNS; images from
#                   node/images.sh. Needs root; one per machine.
#
#   tests/e2e/cluster.sh start   start and wait until ready (bounded), print the env to use
#   tests/e2e/cluster.sh env     print `export KUBECONFIG=...` etc. for a running cluster
#   tests/e2e/cluster.sh stop    stop every process and delete the data dir
#
# Environment:
#   TODO_E2E_DIR      data dir (default /tmp/todo-e2e-$UID); one cluster per dir
#   TODO_TOOLS_BIN    dir with the built tools (default: tools/build.sh --print-dir)
#   TODO_E2E_READY_TIMEOUT  seconds to wait for readiness (default 120)
#   TODO_E2E_TIER     kwok (default) or node
#
# kwok tier: the Service CIDR is inside 127.0.0.0/8 (the API server dials Service IPs, and no
# traffic may leave loopback); pod IPs come from 198.18.0.0/16 and are never dialled (see
# POD_CIDR). node tier: pods and Services are really dialled, so both live in 198.18.0.0/15
# (node/node.sh). `start` tears everything down if it fails.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DIR="${TODO_E2E_DIR:-${TMPDIR:-/tmp}/todo-e2e-$UID}"
CONTEXT=todo-e2e
TIER="${TODO_E2E_TIER:-$(cat "$DIR/tier" 2>/dev/null || echo kwok)}"
SERVICE_CIDR=127.96.0.0/16
SERVICE_IP=127.96.0.1     # first address of SERVICE_CIDR: the `kubernetes` Service
API_ADDR=127.0.0.1
# Pod IPs cannot be loopback (EndpointSlice validation rejects 127.0.0.0/8) and must not be a
# private range: use the RFC 2544 benchmarking range, which is never routed. Nothing dials a pod IP
# here (no kubelet, kube-proxy, probes or webhooks): they are only data in pod and
# EndpointSlice status.
POD_CIDR=198.18.0.0/16
NODES=(kwok-node-0 kwok-node-1)
READY_TIMEOUT="${TODO_E2E_READY_TIMEOUT:-120}"
PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
case "$TIER" in
  kwok) ;;
  node)
    SERVICE_CIDR=198.19.0.0/16
    SERVICE_IP=198.19.0.1
    POD_CIDR=198.18.0.0/16
    NODES=()
    PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router)
    # shellcheck source=node/node.sh
    . "$HERE/node/node.sh"
    API_ADDR=$NODE_IP ;;
  *) echo "cluster.sh: TODO_E2E_TIER must be kwok or node, not $TIER" >&2; exit 2 ;;
esac

log() { echo "cluster: $*" >&2; }

bin_dir() {
  if [ -n "${TODO_TOOLS_BIN:-}" ]; then echo "$TODO_TOOLS_BIN"; else bash "$REPO/tools/build.sh" --print-dir; fi
}

# A port for a tool to listen on, from below the kernel's ephemeral range: a port inside it can be
# taken between this check and the tool's bind, as the source port of any outgoing connection on
# the machine (seen: etcd failing with "bind: address already in use" in a CI run).
free_port() {
  local p lo span
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  span=$(( lo > 21000 ? lo - 20000 : 12768 ))
  while :; do
    p=$(( 20000 + RANDOM % span ))
    grep -qx "$p" "$DIR/ports.used" 2>/dev/null && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p" >> "$DIR/ports.used"; echo "$p"; return
    fi
  done
}

print_env() {
  echo "export KUBECONFIG=$DIR/kubeconfig"
  echo "export TODO_E2E_CONTEXT=$CONTEXT"
  echo "export TODO_E2E_DIR=$DIR"
}

rss_mib() {
  local total=0 p kb
  for p in "${PROCS[@]}"; do
    [ -f "$DIR/$p.pid" ] || continue
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$DIR/$p.pid")/status" 2>/dev/null || echo 0)
    total=$(( total + ${kb:-0} ))
  done
  echo $(( total / 1024 ))
}

# stop_proc NAME: TERM the process started as NAME (its pid file in $DIR), KILL it after 10 s.
stop_proc() {
  local pid
  [ -f "$DIR/$1.pid" ] || return 0
  pid=$(cat "$DIR/$1.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/$1.pid"
}

stop() {
  local p rc=0
  [ -d "$DIR" ] || return 0
  # The node first: its pods' sandboxes are released through the CNI plugins while they can be.
  # What it could not clean up fails the stop (after the control plane is stopped too).
  if [ "$TIER" = node ]; then BIN=$(bin_dir); node_stop || { log "node clean-up incomplete (see above)"; rc=1; }; fi
  for p in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_proc "$p"; done
  rm -rf "$DIR"
  return $rc
}

# launch NAME ARGS...: start a tool in its own session, logging to $DIR/logs/NAME.log.
launch() {
  local name=$1; shift
  setsid "$BIN/$name" "$@" > "$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$DIR/$name.pid"
}

alive_or_die() {
  local p
  for p in "${PROCS[@]}"; do
    if [ -f "$DIR/$p.pid" ] && ! kill -0 "$(cat "$DIR/$p.pid")" 2>/dev/null; then
      log "$p exited; last lines of its log:"; tail -n 30 "$DIR/logs/$p.log" >&2; return 1
    fi
  done
}

# wait_for DESCRIPTION COMMAND...: poll until COMMAND succeeds, within the overall deadline.
wait_for() {
  local what=$1; shift
  until "$@" > /dev/null 2>&1; do
    alive_or_die || return 1
    if [ "$(date +%s)" -ge "$DEADLINE" ]; then log "timed out after ${READY_TIMEOUT}s waiting for $what"; return 1; fi
    sleep 0.3
  done
}

kc() { kubectl --kubeconfig "$DIR/kubeconfig" --context "$CONTEXT" "$@"; }

pki() {
  local d=$DIR/pki
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
      -subj "/CN=todo-e2e-ca" 2>/dev/null
    cat > server.ext <<EOF
subjectAltName=IP:127.0.0.1,IP:$API_ADDR,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EOF
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.crt 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr \
      -subj "/O=system:masters/CN=todo-e2e-admin" 2>/dev/null
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -extfile client.ext -out admin.crt 2>/dev/null
    # Service-account token signing keys.
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

write_kubeconfig() {
  local f=$DIR/kubeconfig
  kubectl config --kubeconfig "$f" set-cluster "$CONTEXT" --server "https://$API_ADDR:$API_PORT" \
    --certificate-authority "$DIR/pki/ca.crt" --embed-certs >/dev/null
  kubectl config --kubeconfig "$f" set-credentials "$CONTEXT-admin" \
    --client-certificate "$DIR/pki/admin.crt" --client-key "$DIR/pki/admin.key" --embed-certs >/dev/null
  kubectl config --kubeconfig "$f" set-context "$CONTEXT" --cluster "$CONTEXT" --user "$CONTEXT-admin" >/dev/null
  kubectl config --kubeconfig "$f" use-context "$CONTEXT" >/dev/null
}

kwok_config() {
  local f
  for f in "$HERE"/kwok/stages/*.yaml; do
    echo "---"; grep -v '^#' "$f"
  done > "$DIR/kwok.yaml"
}

create_nodes() {
  local n
  for n in "${NODES[@]}"; do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $n
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $n
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake}
EOF
  done | kc apply -f - >/dev/null
}

nodes_ready() {
  [ "$(kc get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)" -eq "${#NODES[@]}" ]
}

probe_pod_ready() {
  [ "$(kc -n default get pod e2e-probe -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

# Tear down whatever a failed start left, keeping the logs in $DIR.failed-logs.
on_start_exit() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    rm -rf "$DIR.failed-logs"
    cp -r "$DIR/logs" "$DIR.failed-logs" 2>/dev/null || true
    log "start failed; logs kept in $DIR.failed-logs"
    stop
  fi
}

start() {
  local t0 etcd_port peer_port
  if [ -f "$DIR/kube-apiserver.pid" ] && kill -0 "$(cat "$DIR/kube-apiserver.pid")" 2>/dev/null; then
    log "already running in $DIR"; print_env; return 0
  fi
  BIN=$(bin_dir)
  for p in "${PROCS[@]}" ${NODE_BIN_TOOLS:+"${NODE_BIN_TOOLS[@]}"}; do
    [ "$p" = containerd ] && continue   # Debian's, checked by node_preflight
    [ -x "$BIN/$p" ] || { log "missing $BIN/$p: run tools/build.sh${TIER:+ --tier $TIER} first"; return 1; }
  done
  command -v kubectl >/dev/null || { log "kubectl not found"; return 1; }
  command -v openssl >/dev/null || { log "openssl not found"; return 1; }
  [ "$TIER" = node ] && { node_preflight || return 1; }

  t0=$(date +%s.%N)
  DEADLINE=$(( $(date +%s) + READY_TIMEOUT ))
  rm -rf "$DIR"; mkdir -p "$DIR/logs" "$DIR/etcd"
  echo "$TIER" > "$DIR/tier"
  trap on_start_exit EXIT
  if [ "$TIER" = node ]; then node_claim && node_network_up || return 1; fi
  etcd_port=$(free_port); peer_port=$(free_port); API_PORT=$(free_port); KWOK_PORT=$(free_port)
  echo "$API_PORT" > "$DIR/api.port"
  pki
  write_kubeconfig
  if [ "$TIER" = node ]; then node_pki; else kwok_config; fi

  launch etcd --name node0 --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "node0=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --quota-backend-bytes=$(( 1024 * 1024 * 1024 )) --auto-compaction-retention=1 \
    --log-level=warn

  # The node tier's API server calls its kubelet (logs, exec, port-forward) and checks its cert.
  KUBELET_CLIENT=()
  [ "$TIER" = node ] && KUBELET_CLIENT=(--kubelet-client-certificate "$DIR/pki/admin.crt"
    --kubelet-client-key "$DIR/pki/admin.key" --kubelet-certificate-authority "$DIR/pki/ca.crt"
    --kubelet-preferred-address-types InternalIP)
  launch kube-apiserver \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address "$API_ADDR" --advertise-address "$API_ADDR" --secure-port "$API_PORT" \
    --tls-cert-file "$DIR/pki/server.crt" --tls-private-key-file "$DIR/pki/server.key" \
    --client-ca-file "$DIR/pki/ca.crt" \
    --service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC \
    --enable-priority-and-fairness=false --profiling=false \
    "${KUBELET_CLIENT[@]}" \
    --v=1

  wait_for "kube-apiserver /readyz" kc get --raw /readyz

  launch kube-controller-manager \
    --kubeconfig "$DIR/kubeconfig" \
    --leader-elect=false --secure-port=0 \
    --service-account-private-key-file "$DIR/pki/sa.key" --root-ca-file "$DIR/pki/ca.crt" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --allocate-node-cidrs --cluster-cidr "$POD_CIDR" --node-cidr-mask-size 24 \
    --kube-api-qps 200 --kube-api-burst 400 --profiling=false --v=1

  launch kube-scheduler \
    --kubeconfig "$DIR/kubeconfig" \
    --leader-elect=false --secure-port=0 \
    --kube-api-qps 200 --kube-api-burst 400 --profiling=false --v=1

  if [ "$TIER" = node ]; then
    node_start
    finish_start
    return
  fi

  launch kwok \
    --kubeconfig "$DIR/kubeconfig" --config "$DIR/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr "$POD_CIDR" --node-ip 127.0.0.1 \
    --server-address "127.0.0.1:$KWOK_PORT" --node-port "$KWOK_PORT" \
    --node-lease-duration-seconds 40 \
    --tls-cert-file "$DIR/pki/admin.crt" --tls-private-key-file "$DIR/pki/admin.key" \
    --v=INFO

  kc apply -f "$HERE/kwok/manifests/" >/dev/null   # the default StorageClass kwok's volume stages bind
  create_nodes
  wait_for "the default ServiceAccount (controller manager)" kc -n default get serviceaccount default
  wait_for "${#NODES[@]} Ready nodes (kwok)" nodes_ready
  # One pod through scheduler and kwok proves the whole chain.
  kc -n default run e2e-probe --image=registry.invalid/pause:none --restart=Never >/dev/null
  wait_for "a probe pod to be scheduled and Ready" probe_pod_ready
  kc -n default delete pod e2e-probe --wait=false >/dev/null
  finish_start
}

finish_start() {
  trap - EXIT
  log "ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b-a}')s; RSS $(rss_mib) MiB; dir $DIR; context $CONTEXT"
  print_env
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) [ -f "$DIR/kubeconfig" ] || { log "no cluster in $DIR"; exit 1; }; print_env ;;
  rss) rss_mib ;;
  *) echo "usage: $0 start|stop|env|rss" >&2; exit 2 ;;
esac
