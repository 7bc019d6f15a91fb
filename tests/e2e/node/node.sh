# shellcheck shell=bash
# The real node of the node tier, sourced by tests/e2e/cluster.sh when TODO_E2E_TIER=node: on this
# machine, next to the control plane, containerd (Debian's, with runc and the CNI plugins in
# /usr/lib/cni), a kubelet, kube-proxy (iptables), kube-router (NetworkPolicy only) and CoreDNS
# (a pod, as kube-dns). Every file is under $DIR; what the node adds to the host (a bridge,
# iptables chains, ipsets, cgroups, mounts, network namespaces, sysctls) is removed or restored by
# node_stop, which also clears what a killed run left behind.
#
# Addresses (all in 198.18.0.0/15, nothing routed off this machine):
#   node / bridge todoe2e0   198.18.0.1  (the API server, kubelet and NodePorts listen here)
#   pods                     198.18.0.0/24 (cluster CIDR 198.18.0.0/16)
#   Services                 198.19.0.0/16 (kubernetes 198.19.0.1, kube-dns 198.19.0.10)

NODE_NAME=todo-e2e-node
BRIDGE=todoe2e0
NODE_IP=198.18.0.1
NODE_POD_CIDR=198.18.0.0/24
CLUSTER_DNS=198.19.0.10
NODE_LOCK=/run/todo-e2e-node.lock
# What the node adds to the host under names of its own, which node_host_cleanup removes and
# node_host_leftovers looks for: iptables chains (kube-proxy's, the kubelet's, the CNI plugins'
# and kube-router's), kube-router's ipsets, pod network namespaces (EREs of their names).
NODE_CHAINS='KUBE-|CNI-'
NODE_IPSETS='KUBE-|kube-router'
NODE_NETNS='cni-'
CNI_BIN=/usr/lib/cni
# The node's tools that tools/build.sh builds (besides the control plane's).
# shellcheck disable=SC2034 # read by cluster.sh
NODE_BIN_TOOLS=(crictl coredns)
# Sysctls the node (or kubelet and kube-proxy on their own) may change: saved at start, restored
# at stop.
NODE_SYSCTLS=(net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.ipv4.conf.all.route_localnet
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes net.netfilter.nf_conntrack_max
  net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_timeout_close_wait)
# Images the node runs, imported into containerd from images.sh's OCI layouts.
NODE_RUNTIME_IMAGES=(pause coredns busybox postgres backend frontend)

ctr_() { ctr --address "$DIR/containerd/containerd.sock" --namespace k8s.io "$@"; }
crictl_() { "$BIN/crictl" --runtime-endpoint "unix://$DIR/containerd/containerd.sock" --timeout 20s "$@"; }

node_preflight() {
  local c missing=()
  [ "$(id -u)" = 0 ] || { log "the node tier needs root (containerd, iptables, mounts)"; return 1; }
  for c in containerd containerd-shim-runc-v2 runc ctr iptables ipset conntrack ip; do
    command -v "$c" >/dev/null || missing+=("$c")
  done
  for c in bridge host-local portmap loopback; do [ -x "$CNI_BIN/$c" ] || missing+=("$CNI_BIN/$c"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "missing ${missing[*]}: apt-get install containerd runc containernetworking-plugins iptables ipset conntrack iproute2"
    return 1
  fi
  IMAGES_OUT=$(bash "$HERE/node/images.sh" --print)
  [ -f "$IMAGES_OUT/images.env" ] || { log "no images in $IMAGES_OUT: run tests/e2e/node/images.sh first"; return 1; }
  # shellcheck source=/dev/null
  . "$IMAGES_OUT/images.env"
}

# One node tier per machine (a bridge, iptables chains): refuse a second live one, clear a dead one.
node_claim() {
  local other
  if [ -f "$NODE_LOCK" ]; then
    other=$(cat "$NODE_LOCK")
    if [ "$other" != "$DIR" ] && [ -f "$other/kube-apiserver.pid" ] && kill -0 "$(cat "$other/kube-apiserver.pid")" 2>/dev/null; then
      log "a node-tier cluster already runs in $other (tests/e2e/cluster.sh stop with TODO_E2E_DIR=$other)"
      return 1
    fi
    log "clearing what an earlier run left in $other"
    DIR=$other node_stop
  fi
  node_host_cleanup   # leftovers of a run whose lock is gone too
  echo "$DIR" > "$NODE_LOCK"
}

node_pki() {
  local d=$DIR/pki
  mkdir -p "$DIR/kubelet"
  (
    cd "$d" || exit 1
    printf 'subjectAltName=IP:%s,DNS:%s\nextendedKeyUsage=serverAuth\n' "$NODE_IP" "$NODE_NAME" > kubelet.ext
    openssl req -newkey rsa:2048 -nodes -keyout kubelet.key -out kubelet.csr -subj "/CN=$NODE_NAME" 2>/dev/null
    openssl x509 -req -in kubelet.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile kubelet.ext -out kubelet.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj "/O=system:nodes/CN=system:node:$NODE_NAME" 2>/dev/null
    openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out node.crt 2>/dev/null
  )
  local f=$DIR/kubelet/kubeconfig
  kubectl config --kubeconfig "$f" set-cluster "$CONTEXT" --server "https://$API_ADDR:$API_PORT" \
    --certificate-authority "$DIR/pki/ca.crt" --embed-certs >/dev/null
  kubectl config --kubeconfig "$f" set-credentials "system:node:$NODE_NAME" \
    --client-certificate "$d/node.crt" --client-key "$d/node.key" --embed-certs >/dev/null
  kubectl config --kubeconfig "$f" set-context node --cluster "$CONTEXT" --user "system:node:$NODE_NAME" >/dev/null
  kubectl config --kubeconfig "$f" use-context node >/dev/null
}

# The bridge the CNI plugin attaches pods to; it carries the node's address, so it exists before
# the API server binds to it.
node_network_up() {
  local s v
  : > "$DIR/sysctl.saved"
  for s in "${NODE_SYSCTLS[@]}"; do
    v=$(sysctl -n "$s" 2>/dev/null) && printf '%s=%s\n' "$s" "$v" >> "$DIR/sysctl.saved"
  done
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  ip link add "$BRIDGE" type bridge
  ip addr add "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

node_containerd() {
  local d=$DIR/containerd
  mkdir -p "$d" "$DIR/cni/net.d" "$DIR/cni/ipam" "$DIR/pv"
  cat > "$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # No CAP_SYS_RESOURCE here: never lower a process's oom_score_adj below the runtime's own.
  restrict_oom_score_adj = true
  enable_unprivileged_ports = false
  # Pod network namespaces under $DIR, not /var/run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
EOF
  cat > "$DIR/cni/net.d/10-todo-e2e.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "todo-e2e",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$DIR/cni/ipam",
        "ranges": [[{"subnet": "$NODE_POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  setsid containerd --config "$d/config.toml" > "$DIR/logs/containerd.log" 2>&1 < /dev/null &
  echo $! > "$DIR/containerd.pid"
  wait_for "containerd" ctr_ version
}

node_import_images() {
  local name t0 pids=() failed=0
  t0=$(date +%s)
  # In parallel: each import is mostly unpacking layers into the overlayfs snapshotter.
  for name in "${NODE_RUNTIME_IMAGES[@]}"; do
    (tar -C "$IMAGES_OUT/$name" -cf - . | ctr_ images import --digests - > "$DIR/logs/import-$name.log" 2>&1) &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || { log "importing the ${NODE_RUNTIME_IMAGES[$i]} image failed: $(tail -n 3 "$DIR/logs/import-${NODE_RUNTIME_IMAGES[$i]}.log")"; failed=1; }
  done
  [ "$failed" = 0 ] || return 1
  log "images imported in $(( $(date +%s) - t0 ))s"
}

node_kubelet() {
  local d=$DIR/kubelet port healthz
  mkdir -p "$d/root" "$d/pki"
  port=$(free_port); healthz=$(free_port)
  echo "# the node tier's pods have no upstream resolver: only cluster names resolve" > "$d/resolv.conf"
  cat > "$d/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz
tlsCertFile: $DIR/pki/kubelet.crt
tlsPrivateKeyFile: $DIR/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $DIR/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$DIR/containerd/containerd.sock
# cgroup v1 (hybrid) hosts: kubelet 1.36 refuses them unless told, and there is no systemd here.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
protectKernelDefaults: false
clusterDomain: cluster.local
clusterDNS: [$CLUSTER_DNS]
resolvConf: $d/resolv.conf
# Images are imported, never pulled: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 200Mi, nodefs.available: 2%, imagefs.available: 2%}
maxPods: 40
serializeImagePulls: false
shutdownGracePeriod: 0s
rotateCertificates: false
serverTLSBootstrap: false
EOF

  launch kubelet --config "$d/config.yaml" --kubeconfig "$d/kubeconfig" --root-dir "$d/root" \
    --cert-dir "$d/pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v=1
}

node_kube_proxy() {
  cat > "$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $DIR/kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: 198.18.0.0/16
# NodePorts only on the node's own address, never on the machine's other interfaces.
nodePortAddresses: ["$NODE_IP/32"]
healthzBindAddress: 127.0.0.1:$(free_port)
metricsBindAddress: 127.0.0.1:$(free_port)
iptables: {localhostNodePorts: false}
# Leave the machine's conntrack table settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF

  launch kube-proxy --config "$DIR/kube-proxy.yaml" --v=1
}

node_kube_router() {

  launch kube-router --kubeconfig "$DIR/kubeconfig" --hostname-override "$NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false \
    --enable-ipv4=true --enable-ipv6=false --enable-cni=false \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --health-port 0 --metrics-port 0 --iptables-sync-period 30s --v=1
}

node_ready() {
  [ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
pod_phase_is() { [ "$(kc -n "$1" get pod "$2" -o jsonpath='{.status.phase}' 2>/dev/null)" = "$3" ]; }
coredns_ready() {
  [ "$(kc -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null)" = 1 ]
}

# CoreDNS as kube-dns and the `standard` StorageClass with hostPath volumes, as Minikube has.
node_addons() {
  local i
  sed -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" -e "s|@CLUSTER_DNS@|$CLUSTER_DNS|g" \
    "$HERE/node/manifests/coredns.yaml" | kc apply -f - >/dev/null
  kc apply -f "$HERE/node/manifests/storage-class.yaml" >/dev/null
  for i in 0 1 2 3; do
    # World-writable like Minikube's hostpath provisioner makes them: hostPath volumes ignore
    # fsGroup, and PostgreSQL runs as its own uid.
    mkdir -p "$DIR/pv/pv$i" && chmod 0777 "$DIR/pv/pv$i"
    sed -e "s|@NAME@|todo-e2e-pv$i|" -e "s|@PATH@|$DIR/pv/pv$i|" "$HERE/node/manifests/pv.yaml.in"
  done | kc apply -f - >/dev/null
}

# start: everything after the control plane, up to a pod that resolves a Service name.
node_start() {
  local import_pid
  node_containerd
  # The imports (mostly unpacking layers) run while the kubelet registers the node; the first
  # pod (CoreDNS) waits for them.
  node_import_images & import_pid=$!
  node_kubelet
  node_kube_proxy
  wait_for "node $NODE_NAME Ready (kubelet)" node_ready
  log "node Ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b-a}')s"
  # kube-router finds its node by name: after the kubelet registered it.
  node_kube_router
  wait "$import_pid" || { log "importing the images failed"; return 1; }
  wait_for "the default ServiceAccount (controller manager)" kc -n default get serviceaccount default
  node_addons
  wait_for "CoreDNS Ready" coredns_ready
  wait_for "a ready kube-dns endpoint (EndpointSlice)" kube_dns_endpoint_ready
  # One pod through scheduler, kubelet, containerd, CNI, kube-proxy and CoreDNS proves the chain.
  # It asks again for a while: kube-proxy programs the kube-dns endpoint a moment after the
  # EndpointSlice says it is ready, and until then the Service answers "connection refused".
  # shellcheck disable=SC2016 # the loop runs in the pod's shell
  kc -n default run e2e-probe --image="$TEST_IMAGE" --image-pull-policy=Never --restart=Never \
    --command -- sh -c 'i=0; while [ $i -lt 30 ]; do nslookup kubernetes.default.svc.cluster.local && exit 0; i=$((i+1)); sleep 2; done; exit 1' >/dev/null
  if ! wait_for "a probe pod to resolve kubernetes.default (DNS through a Service)" probe_finished ||
    ! pod_phase_is default e2e-probe Succeeded; then
    log "the probe pod could not resolve kubernetes.default through the kube-dns Service:"
    node_dns_diagnostics
    return 1
  fi
  kc -n default delete pod e2e-probe --wait=false >/dev/null
}

kube_dns_endpoint_ready() {
  [ -n "$(kc -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns \
    -o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}')" ]
}
probe_finished() { pod_phase_is default e2e-probe Succeeded || pod_phase_is default e2e-probe Failed; }

# What tells a DNS failure's cause apart, printed where a CI log shows it: the probe's own output,
# the endpoint, the rules kube-proxy wrote for kube-dns, the sysctls the bridge path needs and the
# last words of kube-proxy, kube-router and CoreDNS.
node_dns_diagnostics() {
  {
    echo "--- probe pod (phase $(kc -n default get pod e2e-probe -o jsonpath='{.status.phase}' 2>&1)):"
    kc -n default logs e2e-probe --tail=8 2>&1
    echo "--- pods and the kube-dns EndpointSlice:"
    kc get pods -A -o wide 2>&1
    kc -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns -o wide 2>&1
    echo "--- iptables rules for kube-dns and rejects:"
    iptables-save 2>&1 | grep -E "kube-dns|REJECT|KUBE-POSTROUTING|KUBE-MARK" | head -n 20
    echo "--- sysctls: $(sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables 2>&1 | tr '\n' ' ')"
    echo "--- kube-proxy:"; tail -n 8 "$DIR/logs/kube-proxy.log"
    echo "--- kube-router:"; tail -n 5 "$DIR/logs/kube-router.log"
    echo "--- coredns:"; kc -n kube-system logs deploy/coredns --tail=8 2>&1
  } | sed 's/^/  /' >&2
}

# stop: pods and sandboxes first (so the CNI plugins release their addresses and chains), then
# the node's daemons, then whatever is left on the host.
node_stop() {
  local sock=$DIR/containerd/containerd.sock t0
  t0=$(date +%s)
  stop_proc kubelet
  if [ -S "$sock" ] && ctr_ version >/dev/null 2>&1; then
    [ -x "$BIN/crictl" ] && { crictl_ rmp -fa >/dev/null 2>&1 || true; }
  fi
  stop_proc kube-router
  stop_proc kube-proxy
  stop_proc containerd
  # Shims and container processes that outlived containerd.
  pkill -KILL -f "containerd-shim-runc-v2 .*$DIR/containerd" 2>/dev/null || true
  node_kill_cgroups
  [ -x "$BIN/kube-proxy" ] && { "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; }
  grep -F " $DIR/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  node_host_cleanup
  if [ -f "$DIR/sysctl.saved" ]; then
    while IFS= read -r kv; do sysctl -qw "$kv" 2>/dev/null || true; done < "$DIR/sysctl.saved"
  fi
  [ "$(cat "$NODE_LOCK" 2>/dev/null)" = "$DIR" ] && rm -f "$NODE_LOCK"
  local left
  left=$(node_host_leftovers)
  if [ -n "$left" ]; then
    log "node stopped in $(( $(date +%s) - t0 ))s, but it left this on the host:"
    sed 's/^/  /' <<< "$left" >&2
    return 1
  fi
  log "node stopped and the host cleaned in $(( $(date +%s) - t0 ))s"
  return 0
}

# What the node would leave on the host after node_stop, one line each (nothing, when it
# cleaned up): the bridge, our iptables chains and the rules jumping to them, ipsets, pod
# network namespaces, mounts under $DIR, kubepods cgroups.
node_host_leftovers() {
  local ipt h
  ip link show "$BRIDGE" >/dev/null 2>&1 && echo "link $BRIDGE"
  for ipt in iptables ip6tables; do
    command -v "$ipt-save" >/dev/null || continue
    "$ipt-save" 2>/dev/null | grep -E "^(:($NODE_CHAINS)|-A .*($NODE_CHAINS))" | sed "s/^/$ipt /" || true
  done
  ipset list -n 2>/dev/null | grep -E "^($NODE_IPSETS)" | sed 's/^/ipset /' || true
  ip netns list 2>/dev/null | awk -v re="^($NODE_NETNS)" '$1 ~ re {print "netns " $1}'
  grep -F " $DIR/" /proc/self/mounts | awk '{print "mount " $2}'
  node_cgroups | sed 's/^/cgroup /'
  return 0
}

# The kubelet's cgroups that exist (cgroupfs driver: /kubepods in every v1 hierarchy).
node_cgroups() {
  local h
  for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$h" ] && echo "$h"
  done
  return 0
}

# The kubelet's cgroups (node_cgroups): kill what runs there, then remove the tree, deepest
# first.
node_kill_cgroups() {
  local h pids
  for h in $(node_cgroups); do
    pids=$(find "$h" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u) || true
    [ -n "$pids" ] && echo "$pids" | xargs -r kill -KILL 2>/dev/null
  done
  sleep 0.5
  for h in $(node_cgroups); do
    find "$h" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}

# Host state the node creates outside $DIR: the bridge, the CNI plugins' and kube-proxy's and
# kube-router's iptables chains and ipsets, pod network namespaces with no process left.
node_host_cleanup() {
  local ipt table chain ns set
  ip link del "$BRIDGE" 2>/dev/null || true
  # The kubelet adds its chains (KUBE-FIREWALL and canaries) to the IPv6 tables too.
  for ipt in iptables ip6tables; do
    command -v "$ipt" >/dev/null || continue
    for table in filter nat mangle raw; do
      # Jumps into our chains first, then the chains themselves.
      "$ipt" -t "$table" -S 2>/dev/null | grep -E "^-A .* -j ($NODE_CHAINS)" | sed 's/^-A/-D/' \
        | while IFS= read -r rule; do eval "$ipt -t $table $rule" 2>/dev/null || true; done || true
      for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk -v re="^-N ($NODE_CHAINS)" '$0 ~ re {print $2}'); do
        "$ipt" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk -v re="^-N ($NODE_CHAINS)" '$0 ~ re {print $2}'); do
        "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
  for set in $(ipset list -n 2>/dev/null | grep -E "^($NODE_IPSETS)"); do ipset destroy "$set" 2>/dev/null || true; done
  for ns in $(ip netns list 2>/dev/null | awk -v re="^($NODE_NETNS)" '$1 ~ re {print $1}'); do
    [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && ip netns del "$ns" 2>/dev/null
  done
  return 0
}
