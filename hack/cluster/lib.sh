# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this file
# Shared settings of the local test cluster (sourced by up.sh, down.sh and env.sh). It reuses the
# process helpers of hack/stack/lib.sh (spawn, service_pid, stop_service, wait_until, need,
# install_missing, require_free_port) with this cluster's own state dir. Nothing here starts or
# stops anything by itself.

CLUSTER_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../stack/lib.sh
source "$CLUSTER_SRC/../stack/lib.sh"

# From here on STATE is the cluster's own state dir (hack/stack/lib.sh set it to the stack's).
STATE=$(realpath -m "${TALLY_CLUSTER_DIR:-$REPO_ROOT/.stack/cluster}")

say() { echo "cluster: $*"; }
warn() { echo "cluster: $*" >&2; }
die() {
	echo "cluster: $*" >&2
	exit 1
}

# The Kubernetes release; hack/kubernetes/go.mod must pin the same k8s.io/kubernetes.
KUBE_VERSION=v1.35.4

# Ports: all on 127.0.0.1, all below the kernel's ephemeral range (32768-60999), none shared
# with hack/stack.
C_ETCD_PORT=${TALLY_CLUSTER_ETCD_PORT:-22379}
C_ETCD_PEER_PORT=${TALLY_CLUSTER_ETCD_PEER_PORT:-22380}
C_API_PORT=${TALLY_CLUSTER_API_PORT:-26443}
C_KUBELET_PORT=${TALLY_CLUSTER_KUBELET_PORT:-20250}
C_KUBELET_HEALTHZ_PORT=${TALLY_CLUSTER_KUBELET_HEALTHZ_PORT:-20248}
C_STREAM_PORT=${TALLY_CLUSTER_STREAM_PORT:-20251}
C_KCM_PORT=${TALLY_CLUSTER_KCM_PORT:-20257}
C_SCHED_PORT=${TALLY_CLUSTER_SCHEDULER_PORT:-20259}
C_KSM_PORT=${TALLY_CLUSTER_KSM_PORT:-28080}
C_KSM_TELEMETRY_PORT=${TALLY_CLUSTER_KSM_TELEMETRY_PORT:-28081}
C_PROM_PORT=${TALLY_CLUSTER_PROMETHEUS_PORT:-29090}

for port in "$C_ETCD_PORT" "$C_ETCD_PEER_PORT" "$C_API_PORT" "$C_KUBELET_PORT" "$C_KUBELET_HEALTHZ_PORT" \
	"$C_STREAM_PORT" "$C_KCM_PORT" "$C_SCHED_PORT" "$C_KSM_PORT" "$C_KSM_TELEMETRY_PORT" "$C_PROM_PORT"; do
	if [[ ! $port =~ ^[0-9]+$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
		die "invalid port '$port' in the TALLY_CLUSTER_*_PORT environment variables"
	fi
done
unset port

# The node's name is the host name, which must resolve to 127.0.0.1 (up.sh checks /etc/hosts).
NODE=${TALLY_CLUSTER_NODE:-$(hostname | tr '[:upper:]' '[:lower:]')}
# The cgroup (in every v1 hierarchy) under which the kubelet puts every pod.
CGROUP_ROOT=/tally

API_URL=https://127.0.0.1:$C_API_PORT
PROM_URL=http://127.0.0.1:$C_PROM_PORT
KSM_URL=http://127.0.0.1:$C_KSM_PORT
KUBECONFIG_FILE=$STATE/kubeconfig
PKI=$STATE/pki
NS_DIR=$STATE/ns
CONTAINERD_DIR=$STATE/containerd
CONTAINERD_SOCK=$CONTAINERD_DIR/containerd.sock
KUBELET_DIR=$STATE/kubelet
IMAGE_DIR=$STATE/images
PAUSE_IMAGE=tally.local/pause:dev
WORKLOAD_IMAGE=tally.local/workload:dev

# Every service, in start order (down.sh stops them in the reverse order of the groups it uses).
# "mountns" is the process that holds the private mount namespace of containerd and the kubelet.
SERVICES=(etcd kube-apiserver mountns containerd kube-controller-manager kube-scheduler kubelet
	kube-state-metrics prometheus)

# service_logs NAME: the log file(s) worth showing when NAME fails (used by fail_start).
service_logs() {
	case $1 in
	etcd) echo "$STATE/etcd/etcd.log" ;;
	mountns) echo "$NS_DIR/mountns.log" ;;
	containerd) echo "$CONTAINERD_DIR/containerd.log" ;;
	kubelet) echo "$KUBELET_DIR/kubelet.log" ;;
	prometheus) echo "$STATE/prometheus/prometheus.log" ;;
	*) echo "$STATE/logs/$1.log" ;;
	esac
}

# kube_bin NAME: the path of a binary of the pinned Kubernetes build (built once, cached).
KUBE_BIN_DIR=
kube_bin() {
	if [[ -z $KUBE_BIN_DIR ]]; then
		KUBE_BIN_DIR=$("$REPO_ROOT/hack/kubernetes/build.sh") || die "building Kubernetes $KUBE_VERSION failed"
		[[ $KUBE_BIN_DIR == */kubernetes-$KUBE_VERSION ]] ||
			die "hack/kubernetes/go.mod does not pin Kubernetes $KUBE_VERSION (KUBE_VERSION in hack/cluster/lib.sh)"
	fi
	echo "$KUBE_BIN_DIR/$1"
}

# kctl ARGS...: kubectl against this cluster, as its admin.
kctl() { "$(kube_bin kubectl)" --kubeconfig "$KUBECONFIG_FILE" --request-timeout=5s "$@"; }

# mountns_id: the identity ("mnt:[inode]") of the cluster's mount namespace, empty when unknown.
mountns_id() { [[ -s $NS_DIR/id ]] && cat "$NS_DIR/id"; }

# ns_pids: the live processes in the cluster's mount namespace. While its holder runs the
# namespace is surely ours and every process in it counts (the holder's sleep too); otherwise
# (a stale id could name a recycled namespace) only those whose command line names this state
# dir (containerd, the kubelet, containerd's shims).
ns_pids() {
	local id pid all=0
	id=$(mountns_id) || return 0
	[[ -n $id ]] || return 0
	service_pid mountns >/dev/null && all=1
	for pid in /proc/[0-9]*; do
		pid=${pid#/proc/}
		[[ $(readlink "/proc/$pid/ns/mnt" 2>/dev/null) == "$id" ]] || continue
		if ((!all)); then
			tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE/" || continue
		fi
		echo "$pid"
	done
}

# cgroup_dirs: the cluster's cgroup in every hierarchy that has it (the kubelet also mirrors
# its QoS cgroups into the hybrid cgroup2 mount, /sys/fs/cgroup/unified).
cgroup_dirs() {
	local h
	for h in /sys/fs/cgroup/*/; do
		h=${h%/}
		[[ -d $h$CGROUP_ROOT ]] && echo "$h$CGROUP_ROOT"
	done
	return 0
}

# cgroup_pids: every process in the cluster's cgroups (the pods' containers).
cgroup_pids() {
	local dir
	while read -r dir; do
		find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null
	done < <(cgroup_dirs) | sort -u
}
