#!/usr/bin/env bash
# Holds the private mount namespace in which containerd and the kubelet run; started by up.sh as
#
#   unshare --mount --propagation private -- bash hack/cluster/ns-init.sh STATE/ns
#
# Inside that namespace only (the host's mounts and sysctls are never changed):
#   * /run is a fresh tmpfs (containerd hard-codes /run/containerd for its shims and runc state);
#   * /var/log is STATE/varlog (the kubelet hard-codes /var/log/pods and /var/log/containers);
#   * the /proc/sys files the kubelet sets at start-up are covered by read-only files that
#     already hold the values it wants, so it finds nothing to change.
# Then it writes STATE/ns/ready and waits for SIGTERM. Mounts vanish with the namespace.
set -euo pipefail

ns_dir=${1:?usage: ns-init.sh STATE/ns}
state=$(dirname "$ns_dir")

mount -t tmpfs -o mode=0755,size=256m tmpfs /run
mkdir -p /run/lock /run/shm /run/containerd

mkdir -p "$state/varlog"
mount --bind "$state/varlog" /var/log

# The kubelet's kernel tunables (pkg/kubelet/cm/container_manager_linux.go, setupKernelTunables).
mkdir -p "$ns_dir/sysctl"
while read -r key value; do
	file=$ns_dir/sysctl/$key
	printf '%s\n' "$value" >"$file"
	chmod 0444 "$file"
	mount --bind "$file" "/proc/sys/${key//.//}"
	mount -o remount,bind,ro "/proc/sys/${key//.//}"
done <<-EOF
	vm.overcommit_memory 1
	vm.panic_on_oom 0
	kernel.panic 10
	kernel.panic_on_oops 1
	kernel.keys.root_maxkeys 1000000
	kernel.keys.root_maxbytes 25000000
EOF

readlink /proc/self/ns/mnt >"$ns_dir/id"
touch "$ns_dir/ready"
echo "mount namespace $(cat "$ns_dir/id") ready"

# Wait without a child process (a child would keep the namespace alive after the holder): a
# blocking read on a FIFO that nothing writes to; the TERM trap runs as soon as it arrives.
trap 'exit 0' TERM INT
mkfifo "$ns_dir/hold"
exec 3<>"$ns_dir/hold"
rm -f "$ns_dir/hold"
while :; do
	read -r -t 3600 <&3 || true
done
