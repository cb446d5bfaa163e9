#!/usr/bin/env bash
# Stops the local test cluster started by up.sh: every component, every pod's container,
# containerd's shims and the mount namespace (whose mounts go with it); removes the cluster's
# cgroups. Safe when nothing runs.
#
#   hack/cluster/down.sh [--purge]
#
# --purge also deletes the state dir (etcd data, images, keys, logs); the build cache is kept.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
for arg in "$@"; do
	case $arg in
	--purge) purge=1 ;;
	*) die "usage: down.sh [--purge]" ;;
	esac
done

# stop_all SECONDS NAME...: SIGTERM to every running NAME at once, SIGKILL to those still alive
# after SECONDS. Removes the PID files.
stop_all() {
	local timeout=$1 name pid deadline alive
	shift
	local names=()
	for name in "$@"; do
		if pid=$(service_pid "$name"); then
			kill -TERM "$pid" 2>/dev/null || true
			names+=("$name")
		else
			clean_stale "$name"
		fi
	done
	((${#names[@]})) || return 0
	deadline=$((SECONDS + timeout))
	while :; do
		alive=0
		for name in "${names[@]}"; do
			service_pid "$name" >/dev/null && alive=1
		done
		((alive && SECONDS < deadline)) || break
		sleep 0.1
	done
	for name in "${names[@]}"; do
		if pid=$(service_pid "$name"); then
			warn "$name (pid $pid) did not stop within $timeout s, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	for name in "${names[@]}"; do
		while service_pid "$name" >/dev/null; do sleep 0.1; done
		rm -f "$(pidfile "$name")"
		say "stopped $name"
	done
}

# kill_pids_of LABEL CMD...: SIGKILLs the processes CMD prints until there are none (10 s).
kill_pids_of() {
	local label=$1 pids i
	shift
	for ((i = 0; i < 100; i++)); do
		mapfile -t pids < <("$@")
		((${#pids[@]})) || return 0
		((i == 0)) && say "killing ${#pids[@]} $label process(es)"
		kill -KILL "${pids[@]}" 2>/dev/null || true
		sleep 0.1
	done
	warn "some $label processes survived SIGKILL: ${pids[*]}"
}

# remove_cgroups: the cluster's cgroups, deepest first (empty once their processes are gone).
remove_cgroups() {
	local dir i
	for ((i = 0; i < 50; i++)); do
		local left=0
		while read -r dir; do
			find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[[ -d $dir ]] && left=1
		done < <(cgroup_dirs)
		((left)) || return 0
		sleep 0.1
	done
	warn "could not remove every cgroup under $CGROUP_ROOT: $(cgroup_dirs | tr '\n' ' ')"
}

# ns_others: processes in the mount namespace other than its holder (containerd, shims, kubelet).
ns_others() {
	local holder
	holder=$(service_pid mountns) || holder=none
	ns_pids | grep -vxF "$holder" || true
}

# The kubelet first (it would restart containers), the API clients and the API server with it
# (the server's graceful shutdown takes longest, so it starts at once), then the containers.
stop_all 15 kubelet kube-state-metrics prometheus kube-controller-manager kube-scheduler kube-apiserver &
clients=$!
if ((EUID == 0)); then
	# Once the kubelet is gone, kill every container (pods and their sandboxes) by cgroup.
	while service_pid kubelet >/dev/null; do sleep 0.1; done
	kill_pids_of container cgroup_pids
	# containerd, then its shims and anything else left in the mount namespace, then the
	# holder: the namespace and every mount in it (tmpfs /run, /var/log, sysctl files, pod
	# volumes, container root file systems) vanish with its last process.
	stop_all 10 containerd
	kill_pids_of "mount namespace" ns_others
	stop_all 5 mountns
	kill_pids_of "mount namespace" ns_pids
	rm -f "$NS_DIR/ready"
	remove_cgroups
elif service_pid containerd >/dev/null || [[ -n $(cgroup_dirs) ]]; then
	warn "not root: containerd, the pods' containers and the cgroups are left running; run as root"
fi
wait "$clients"
stop_all 10 etcd

if ((purge)) && [[ -e $STATE ]]; then
	case $STATE in
	/ | "$REPO_ROOT" | "$REPO_ROOT/.stack" | "$CACHE" | "$CACHE"/* | "$HOME") die "refusing to delete $STATE" ;;
	esac
	if grep -qF -- " $STATE/" /proc/self/mountinfo; then
		die "refusing to delete $STATE: something is still mounted under it"
	fi
	rm -rf "$STATE"
	say "deleted $STATE"
fi
say "down"
