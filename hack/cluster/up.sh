#!/usr/bin/env bash
# Starts a real single-node Kubernetes cluster on 127.0.0.1 for tally's tests: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd + kubelet (in a private
# mount namespace), kube-state-metrics and a Prometheus that scrapes the kubelet and
# kube-state-metrics the way kube-prometheus-stack does. Idempotent: what runs is left alone, so
# a second run is a no-op. Needs root (mounts, cgroups).
#
#   hack/cluster/up.sh
#
# See hack/cluster/README.md.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 0)) || die "usage: up.sh (no arguments; see hack/cluster/README.md)"

# ---------------------------------------------------------------------------------------------
# Readiness checks (one per service)

admin_token() { cat "$PKI/admin.token"; }
https_ok() { curl -fsSk --max-time 2 -H "Authorization: Bearer $(admin_token)" "$1" >/dev/null 2>&1; }

ready_etcd() { curl -fsS --max-time 2 "http://127.0.0.1:$C_ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }
ready_kube_apiserver() { https_ok "$API_URL/readyz"; }
ready_mountns() { [[ -e $NS_DIR/ready ]]; }
ready_containerd() { ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }
ready_kube_controller_manager() { https_ok "https://127.0.0.1:$C_KCM_PORT/healthz"; }
ready_kube_scheduler() { https_ok "https://127.0.0.1:$C_SCHED_PORT/healthz"; }
ready_kubelet() { curl -fsS --max-time 2 "http://127.0.0.1:$C_KUBELET_HEALTHZ_PORT/healthz" >/dev/null 2>&1; }
ready_kube_state_metrics() { curl -fsS --max-time 2 "$KSM_URL/healthz" >/dev/null 2>&1; }
ready_prometheus() { curl -fsS --max-time 2 "$PROM_URL/-/ready" >/dev/null 2>&1; }

ready() { "ready_${1//-/_}"; }

# node_ready: the node's Ready condition is True and was posted after KUBELET_STARTED (epoch
# seconds; 0 when the kubelet was already running): after a restart etcd still holds the last
# run's status, which must not count.
KUBELET_STARTED=0
node_ready() {
	local out status beat
	out=$(kctl get node "$NODE" \
		-o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null) ||
		return 1
	read -r status beat <<<"$out"
	[[ $status == True && -n $beat ]] || return 1
	(($(date -d "$beat" +%s) >= KUBELET_STARTED))
}
# Pods need their namespace's "default" service account (ServiceAccount admission) and the
# kube-root-ca.crt config map (the projected token volume); the controller manager makes both.
default_namespace_ready() {
	kctl -n default get serviceaccount default >/dev/null 2>&1 &&
		kctl -n default get configmap kube-root-ca.crt >/dev/null 2>&1
}

# await NAME SECONDS: waits until NAME answers (fails with its log when it exits or times out).
await() { wait_until "$1" "$2" ready "$1"; }

# ---------------------------------------------------------------------------------------------
# Host checks

check_host() {
	((EUID == 0)) || die "needs root (it mounts inside a private mount namespace and creates cgroups)"
	[[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == tmpfs && -d /sys/fs/cgroup/memory ]] ||
		die "expects cgroup v1 hierarchies under /sys/fs/cgroup (see hack/cluster/README.md)"
	((${#CONTAINERD_SOCK} < 100)) ||
		die "state dir path too long for a unix socket ($CONTAINERD_SOCK); set TALLY_CLUSTER_DIR to a shorter path"
	[[ $NODE =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] ||
		die "host name '$NODE' is not a valid node name; set TALLY_CLUSTER_NODE"
}

# check_hosts_file: the apiserver reaches the kubelet by the node's name (Hostname address
# type), so that name must resolve to 127.0.0.1 first. Adds one marked line to /etc/hosts when not.
check_hosts_file() {
	local first
	first=$(getent ahostsv4 "$NODE" 2>/dev/null | awk 'NR == 1 { print $1 }')
	[[ $first == 127.0.0.1 ]] && return 0
	say "adding '127.0.0.1 $NODE' to /etc/hosts (the apiserver dials the kubelet by node name)"
	local tmp
	tmp=$(mktemp)
	{
		echo "127.0.0.1 $NODE # added by tally hack/cluster/up.sh"
		grep -vF "# added by tally hack/cluster/up.sh" /etc/hosts || true
	} >"$tmp"
	# Rewrite in place: /etc/hosts may be a bind mount that cannot be replaced.
	cat "$tmp" >/etc/hosts
	rm -f "$tmp"
}

# ---------------------------------------------------------------------------------------------
# Keys, certificates, tokens and kubeconfigs (made once; --purge in down.sh deletes them)

# cert NAME SUBJECT EXTENSIONS: a P-256 key and a certificate signed by the cluster CA.
cert() {
	local name=$1 subj=$2 ext=$3
	[[ -s $PKI/$name.crt && -s $PKI/$name.key ]] && return 0
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$name.key" 2>/dev/null
	openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
	printf '%s\n' "$ext" >"$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
		-days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null ||
		die "could not sign the $name certificate"
	rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# kubeconfig FILE USER: a kubeconfig for USER's token, verifying the apiserver with the CA.
kubeconfig() {
	local file=$1 user=$2 ca
	ca=$(base64 -w0 <"$PKI/ca.crt")
	cat >"$file" <<-EOF
		# Written by hack/cluster/up.sh.
		apiVersion: v1
		kind: Config
		clusters:
		- name: tally-cluster
		  cluster:
		    server: $API_URL
		    certificate-authority-data: $ca
		users:
		- name: $user
		  user:
		    token: $(<"$PKI/$user.token")
		contexts:
		- name: tally-cluster
		  context:
		    cluster: tally-cluster
		    user: $user
		current-context: tally-cluster
	EOF
}

make_pki() {
	mkdir -p "$PKI"
	(
		umask 077
		if [[ ! -s $PKI/ca.crt || ! -s $PKI/ca.key ]]; then
			openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/ca.key" 2>/dev/null
			openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=tally-cluster-ca" -days 3650 -sha256 \
				-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
				-out "$PKI/ca.crt" 2>/dev/null || die "could not create the cluster CA"
		fi
		local server="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth"
		cert apiserver "/CN=kube-apiserver" "$server
subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:$NODE,IP:127.0.0.1,IP:10.96.0.1"
		cert kubelet "/CN=$NODE" "$server
subjectAltName=DNS:$NODE,DNS:localhost,IP:127.0.0.1"
		cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
		if [[ ! -s $PKI/sa.key || ! -s $PKI/sa.pub ]]; then
			openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
			openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
		fi
		local user
		for user in admin kube-controller-manager kube-scheduler kubelet; do
			[[ -s $PKI/$user.token ]] || openssl rand -hex 32 >"$PKI/$user.token"
		done
		# Static token authentication: token,user,uid,"groups".
		cat >"$PKI/tokens.csv" <<-EOF
			$(<"$PKI/admin.token"),tally-admin,tally-admin,"system:masters"
			$(<"$PKI/kube-controller-manager.token"),system:kube-controller-manager,system:kube-controller-manager
			$(<"$PKI/kube-scheduler.token"),system:kube-scheduler,system:kube-scheduler
			$(<"$PKI/kubelet.token"),system:node:$NODE,system:node:$NODE,"system:nodes"
		EOF
		kubeconfig "$KUBECONFIG_FILE" admin
		for user in kube-controller-manager kube-scheduler kubelet; do
			kubeconfig "$PKI/$user.kubeconfig" "$user"
		done
	)
}

# ---------------------------------------------------------------------------------------------
# The workload program and the images (pause + workload), from this repository's sources

build_tools() {
	mkdir -p "$IMAGE_DIR"
	(cd "$REPO_ROOT" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" \
		-o "$IMAGE_DIR/" ./hack/workload ./hack/image) || die "building hack/workload and hack/image failed"
}

# write_image NAME TAG [CMD...]: the docker-archive of the workload binary under TAG.
write_image() {
	local name=$1 tag=$2 args=()
	shift 2
	local a
	for a in "$@"; do args+=(-cmd "$a"); done
	"$IMAGE_DIR/image" -binary "$IMAGE_DIR/workload" -tag "$tag" -entrypoint /workload \
		"${args[@]}" -o "$IMAGE_DIR/$name.tar" || die "writing the $tag image failed"
}

# import_image NAME TAG: loads the tarball into containerd's k8s.io namespace unless the same
# tarball is already there.
import_image() {
	local name=$1 tag=$2 sum stamp
	stamp=$IMAGE_DIR/$name.imported
	sum=$(sha256sum "$IMAGE_DIR/$name.tar" | cut -d' ' -f1)
	if [[ -f $stamp && $(<"$stamp") == "$sum" ]] &&
		ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -qxF "$tag"; then
		return 0
	fi
	ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$IMAGE_DIR/$name.tar" >/dev/null ||
		die "importing $tag into containerd failed"
	echo "$sum" >"$stamp"
	say "imported $tag"
}

# ---------------------------------------------------------------------------------------------
# Configuration files (rewritten on every start)

write_configs() {
	mkdir -p "$CONTAINERD_DIR" "$STATE/cni" "$KUBELET_DIR" "$STATE/prometheus" "$STATE/logs"
	cat >"$CONTAINERD_DIR/config.toml" <<-EOF
		# Written by hack/cluster/up.sh. containerd runs in the cluster's private mount namespace,
		# where /run is its own tmpfs.
		version = 2
		root = "$CONTAINERD_DIR/root"
		state = "/run/containerd"
		disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

		[grpc]
		  address = "$CONTAINERD_SOCK"

		[ttrpc]
		  address = "$CONTAINERD_DIR/containerd.sock.ttrpc"

		[plugins."io.containerd.internal.v1.opt"]
		  path = "$CONTAINERD_DIR/opt"

		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "$PAUSE_IMAGE"
		  # Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj below its own value.
		  restrict_oom_score_adj = true
		  stream_server_address = "127.0.0.1"
		  stream_server_port = "$C_STREAM_PORT"
		  disable_apparmor = true
		  [plugins."io.containerd.grpc.v1.cri".containerd]
		    snapshotter = "overlayfs"
		    default_runtime_name = "runc"
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
		        SystemdCgroup = false
		  [plugins."io.containerd.grpc.v1.cri".cni]
		    bin_dir = "/usr/lib/cni"
		    conf_dir = "$STATE/cni"
	EOF
	# Pods use the host network; a loopback-only network is enough for NetworkReady.
	cat >"$STATE/cni/10-loopback.conflist" <<-EOF
		{"cniVersion": "0.4.0", "name": "tally-loopback", "plugins": [{"type": "loopback"}]}
	EOF
	cat >"$KUBELET_DIR/config.yaml" <<-EOF
		# Written by hack/cluster/up.sh.
		apiVersion: kubelet.config.k8s.io/v1beta1
		kind: KubeletConfiguration
		address: 127.0.0.1
		port: $C_KUBELET_PORT
		readOnlyPort: 0
		healthzBindAddress: 127.0.0.1
		healthzPort: $C_KUBELET_HEALTHZ_PORT
		tlsCertFile: $PKI/kubelet.crt
		tlsPrivateKeyFile: $PKI/kubelet.key
		authentication:
		  anonymous:
		    enabled: false
		  webhook:
		    enabled: true
		  x509:
		    clientCAFile: $PKI/ca.crt
		authorization:
		  mode: Webhook
		containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
		# cgroup v1: refused by v1.35 unless failCgroupV1 is false.
		failCgroupV1: false
		cgroupDriver: cgroupfs
		cgroupRoot: $CGROUP_ROOT
		cgroupsPerQOS: true
		failSwapOn: false
		protectKernelDefaults: false
		makeIPTablesUtilChains: false
		# Images cannot be pulled again (no registry): never collect them.
		imageGCHighThresholdPercent: 100
		imageGCLowThresholdPercent: 99
		evictionHard:
		  memory.available: 100Mi
		  nodefs.available: 1%
		  nodefs.inodesFree: 1%
		  imagefs.available: 1%
		serializeImagePulls: false
		rotateCertificates: false
		serverTLSBootstrap: false
		clusterDomain: cluster.local
		resolvConf: /etc/resolv.conf
		maxPods: 110
	EOF
	cp "$PKI/admin.token" "$STATE/prometheus/token"
	write_prometheus_config
}

# The scrape jobs of kube-prometheus-stack's kubelet and kube-state-metrics ServiceMonitors, as
# static targets: job="kubelet" for /metrics, /metrics/cadvisor and /metrics/resource (each
# with a metrics_path label), honor_labels, the target labels the operator adds (node, endpoint,
# namespace, service) and the chart's default cAdvisor metric drops.
write_prometheus_config() {
	local kubelet_target="127.0.0.1:$C_KUBELET_PORT" path job
	{
		cat <<-EOF
			# Written by hack/cluster/up.sh.
			global:
			  scrape_interval: 15s
			  scrape_timeout: 10s
			  evaluation_interval: 15s
			scrape_configs:
		EOF
		for path in /metrics /metrics/cadvisor /metrics/resource; do
			job=kubelet${path#/metrics}
			cat <<-EOF
				- job_name: ${job//\//-}
				  scheme: https
				  metrics_path: $path
				  honor_labels: true
				  honor_timestamps: true
				  authorization:
				    credentials_file: $STATE/prometheus/token
				  tls_config:
				    insecure_skip_verify: true
				  static_configs:
				  - targets: ['$kubelet_target']
				    labels:
				      node: $NODE
				      endpoint: https-metrics
				      namespace: kube-system
				      service: kube-prometheus-stack-kubelet
				  relabel_configs:
				  - target_label: job
				    replacement: kubelet
				  - source_labels: [__metrics_path__]
				    target_label: metrics_path
			EOF
			if [[ $path == /metrics/cadvisor ]]; then
				cat <<-'EOF'
					  metric_relabel_configs:
					  # Drop less useful container CPU metrics.
					  - source_labels: [__name__]
					    action: drop
					    regex: container_cpu_(cfs_throttled_seconds_total|load_average_10s|system_seconds_total|user_seconds_total)
					  # Drop less useful container / always zero filesystem metrics.
					  - source_labels: [__name__]
					    action: drop
					    regex: container_fs_(io_current|io_time_seconds_total|io_time_weighted_seconds_total|reads_merged_total|sector_reads_total|sector_writes_total|writes_merged_total)
					  # Drop less useful / always zero container memory metrics.
					  - source_labels: [__name__]
					    action: drop
					    regex: container_memory_(mapped_file|swap)
					  # Drop less useful container process metrics.
					  - source_labels: [__name__]
					    action: drop
					    regex: container_(file_descriptors|tasks_state|threads_max)
					  # Drop container spec metrics that overlap with kube-state-metrics.
					  - source_labels: [__name__]
					    action: drop
					    regex: container_spec.*
					  # Drop cgroup metrics with no pod.
					  - source_labels: [id, pod]
					    action: drop
					    regex: .+;
				EOF
			fi
		done
		cat <<-EOF
			- job_name: kube-state-metrics
			  honor_labels: true
			  static_configs:
			  - targets: ['127.0.0.1:$C_KSM_PORT']
			    labels:
			      container: kube-state-metrics
			      endpoint: http
			      namespace: monitoring
			      pod: kube-state-metrics
			      service: kube-state-metrics
		EOF
	} >"$STATE/prometheus/prometheus.yml"
}

# ---------------------------------------------------------------------------------------------
# cgroups: the kubelet refuses to start unless its cgroupRoot exists in every v1 hierarchy.

setup_cgroups() {
	local h dir
	for h in /sys/fs/cgroup/*/; do
		h=${h%/}
		[[ $h == /sys/fs/cgroup/unified ]] && continue
		[[ $(stat -fc %T "$h") == cgroupfs ]] || continue
		dir=$h$CGROUP_ROOT
		mkdir -p "$dir" || die "cannot create cgroup $dir"
		if [[ -f $h/cpuset.cpus ]]; then
			[[ -n $(<"$dir/cpuset.cpus") ]] || cat "$h/cpuset.cpus" >"$dir/cpuset.cpus"
			[[ -n $(<"$dir/cpuset.mems") ]] || cat "$h/cpuset.mems" >"$dir/cpuset.mems"
		fi
		# 20x the default weight: pods keep their CPU when the machine is busy (a build, tests).
		if [[ -f $h/cpu.shares ]]; then
			echo 20480 >"$dir/cpu.shares"
		fi
	done
}

# ---------------------------------------------------------------------------------------------
# Starting services

# running NAME: true (and says so) when NAME already runs for this state dir.
running() {
	if service_pid "$1" >/dev/null; then
		say "$1 already running (pid $(service_pid "$1"))"
		return 0
	fi
	clean_stale "$1"
	return 1
}

# ns_enter: sets NS_ENTER to the command prefix that runs a command inside the cluster's mount
# namespace (nsenter execs it, so the PID spawn records is the command's own).
NS_ENTER=()
ns_enter() {
	local pid
	pid=$(service_pid mountns) || die "the mount namespace holder is not running"
	NS_ENTER=(nsenter "--mount=/proc/$pid/ns/mnt" --)
}

start_etcd() {
	running etcd && return 0
	require_free_port "$C_ETCD_PORT" "$C_ETCD_PEER_PORT"
	mkdir -p "$STATE/etcd"
	spawn etcd "$STATE/etcd/etcd.log" "$(command -v etcd || echo /usr/bin/etcd)" \
		--name tally-cluster \
		--data-dir "$STATE/etcd/data" \
		--listen-client-urls "http://127.0.0.1:$C_ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$C_ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$C_ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$C_ETCD_PEER_PORT" \
		--initial-cluster "tally-cluster=http://127.0.0.1:$C_ETCD_PEER_PORT" \
		--logger zap
}

start_kube_apiserver() {
	running kube-apiserver && return 0
	require_free_port "$C_API_PORT"
	spawn kube-apiserver "$STATE/logs/kube-apiserver.log" "$(kube_bin kube-apiserver)" \
		--etcd-servers="http://127.0.0.1:$C_ETCD_PORT" \
		--bind-address=127.0.0.1 \
		--advertise-address=127.0.0.1 \
		--secure-port="$C_API_PORT" \
		--tls-cert-file="$PKI/apiserver.crt" \
		--tls-private-key-file="$PKI/apiserver.key" \
		--client-ca-file="$PKI/ca.crt" \
		--token-auth-file="$PKI/tokens.csv" \
		--authorization-mode=Node,RBAC \
		--enable-admission-plugins=NodeRestriction \
		--service-account-key-file="$PKI/sa.pub" \
		--service-account-signing-key-file="$PKI/sa.key" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
		--kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
		--kubelet-preferred-address-types=Hostname,InternalIP \
		--endpoint-reconciler-type=none \
		--service-cluster-ip-range=10.96.0.0/16 \
		--allow-privileged=true \
		--profiling=false
}

start_mountns() {
	if service_pid mountns >/dev/null; then
		say "mountns already running (pid $(service_pid mountns))"
		return 0
	fi
	clean_stale mountns
	# containerd or a kubelet left in a namespace whose holder is gone cannot be reached.
	if service_pid containerd >/dev/null || service_pid kubelet >/dev/null; then
		die "containerd or the kubelet runs without its mount namespace holder; run hack/cluster/down.sh first"
	fi
	mkdir -p "$NS_DIR"
	rm -f "$NS_DIR/ready" "$NS_DIR/id" "$NS_DIR/hold"
	spawn mountns "$NS_DIR/mountns.log" unshare --mount --propagation private -- \
		bash "$CLUSTER_SRC/ns-init.sh" "$NS_DIR"
}

start_containerd() {
	running containerd && return 0
	ns_enter
	spawn containerd "$CONTAINERD_DIR/containerd.log" "${NS_ENTER[@]}" \
		"$(command -v containerd)" --config "$CONTAINERD_DIR/config.toml"
}

start_kube_controller_manager() {
	running kube-controller-manager && return 0
	require_free_port "$C_KCM_PORT"
	local kc=$PKI/kube-controller-manager.kubeconfig
	spawn kube-controller-manager "$STATE/logs/kube-controller-manager.log" "$(kube_bin kube-controller-manager)" \
		--kubeconfig="$kc" \
		--authentication-kubeconfig="$kc" \
		--authorization-kubeconfig="$kc" \
		--bind-address=127.0.0.1 \
		--secure-port="$C_KCM_PORT" \
		--cert-dir="$STATE/kube-controller-manager" \
		--leader-elect=false \
		--use-service-account-credentials=true \
		--service-account-private-key-file="$PKI/sa.key" \
		--root-ca-file="$PKI/ca.crt" \
		--cluster-signing-cert-file="$PKI/ca.crt" \
		--cluster-signing-key-file="$PKI/ca.key" \
		--controllers='*' \
		--profiling=false
}

start_kube_scheduler() {
	running kube-scheduler && return 0
	require_free_port "$C_SCHED_PORT"
	local kc=$PKI/kube-scheduler.kubeconfig
	spawn kube-scheduler "$STATE/logs/kube-scheduler.log" "$(kube_bin kube-scheduler)" \
		--kubeconfig="$kc" \
		--authentication-kubeconfig="$kc" \
		--authorization-kubeconfig="$kc" \
		--bind-address=127.0.0.1 \
		--secure-port="$C_SCHED_PORT" \
		--cert-dir="$STATE/kube-scheduler" \
		--leader-elect=false \
		--profiling=false
}

start_kubelet() {
	running kubelet && return 0
	require_free_port "$C_KUBELET_PORT" "$C_KUBELET_HEALTHZ_PORT"
	# Heartbeat times have whole seconds; allow for the truncation.
	KUBELET_STARTED=$(($(date +%s) - 1))
	mkdir -p "$KUBELET_DIR/root"
	ns_enter
	spawn kubelet "$KUBELET_DIR/kubelet.log" "${NS_ENTER[@]}" "$(kube_bin kubelet)" \
		--config="$KUBELET_DIR/config.yaml" \
		--kubeconfig="$PKI/kubelet.kubeconfig" \
		--root-dir="$KUBELET_DIR/root" \
		--hostname-override="$NODE" \
		--containerd="$CONTAINERD_SOCK"
}

start_kube_state_metrics() {
	running kube-state-metrics && return 0
	require_free_port "$C_KSM_PORT" "$C_KSM_TELEMETRY_PORT"
	local bin
	bin=$("$REPO_ROOT/hack/kube-state-metrics/build.sh") || die "building kube-state-metrics failed"
	spawn kube-state-metrics "$STATE/logs/kube-state-metrics.log" "$bin" \
		--kubeconfig="$KUBECONFIG_FILE" \
		--host=127.0.0.1 \
		--port="$C_KSM_PORT" \
		--telemetry-host=127.0.0.1 \
		--telemetry-port="$C_KSM_TELEMETRY_PORT" \
		--metric-labels-allowlist='pods=[*],namespaces=[*]'
}

start_prometheus() {
	running prometheus && return 0
	require_free_port "$C_PROM_PORT"
	spawn prometheus "$STATE/prometheus/prometheus.log" prometheus \
		--config.file="$STATE/prometheus/prometheus.yml" \
		--storage.tsdb.path="$STATE/prometheus/data" \
		--storage.tsdb.retention.time=30d \
		--web.listen-address="127.0.0.1:$C_PROM_PORT" \
		--web.enable-lifecycle
}

# ---------------------------------------------------------------------------------------------

all_up() {
	local name
	for name in "${SERVICES[@]}"; do
		service_pid "$name" >/dev/null || return 1
	done
	for name in "${SERVICES[@]}"; do
		ready "$name" || return 1
	done
	node_ready
}

print_summary() {
	local name pid
	for name in "${SERVICES[@]}"; do
		if pid=$(service_pid "$name"); then
			printf 'cluster:   %-24s pid %s\n' "$name" "$pid"
		fi
	done
	say "environment for tests (eval \"\$(hack/cluster/env.sh)\"):"
	"$CLUSTER_SRC/env.sh"
}

main() {
	check_host
	need curl curl
	need openssl openssl
	need unshare util-linux
	need nsenter util-linux
	need containerd containerd
	need ctr containerd
	need runc runc
	[[ -x /usr/lib/cni/loopback ]] || MISSING_PACKAGES+=(containernetworking-plugins)
	[[ -x /usr/bin/etcd ]] || need etcd etcd-server
	need prometheus prometheus
	install_missing
	command -v go >/dev/null || die "Go is needed to build the workload image (not on PATH)"

	mkdir -p "$STATE"
	if all_up; then
		say "already up (state in $STATE)"
		print_summary
		return 0
	fi
	local t0=$SECONDS
	check_hosts_file
	make_pki
	# Both binaries are cached after the first run; build (or wait for) them before timing starts.
	kube_bin kubelet >/dev/null
	"$REPO_ROOT/hack/kube-state-metrics/build.sh" >/dev/null || die "building kube-state-metrics failed"
	write_configs
	setup_cgroups

	start_etcd
	start_mountns
	build_tools &
	local build_pid=$!
	await mountns 10
	start_containerd
	await etcd 30
	start_kube_apiserver
	wait "$build_pid" || die "building the workload image failed"
	write_image pause "$PAUSE_IMAGE" pause
	write_image workload "$WORKLOAD_IMAGE"
	await containerd 30
	import_image pause "$PAUSE_IMAGE"
	import_image workload "$WORKLOAD_IMAGE"
	await kube-apiserver 60
	say "kube-apiserver ready on $API_URL"

	start_kube_controller_manager
	start_kube_scheduler
	start_kubelet
	start_kube_state_metrics
	start_prometheus
	local name
	for name in kube-controller-manager kube-scheduler kubelet kube-state-metrics prometheus; do
		await "$name" 60
	done
	wait_until kubelet 90 node_ready
	wait_until kube-controller-manager 60 default_namespace_ready
	say "node $NODE Ready; cluster up in $((SECONDS - t0)) s (state in $STATE)"
	print_summary
}

main "$@"
