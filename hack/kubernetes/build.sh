#!/usr/bin/env bash
# Builds the pinned Kubernetes binaries (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubelet, kubectl) in ONE `go build` into $CACHE/kubernetes-<version>/, once; later runs find
# them and return at once. The components report the pinned version (component-base ldflags).
#
#   hack/kubernetes/build.sh            prints the folder holding the binaries
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$src/../.." && pwd)
cache=$(realpath -m "${TALLY_CACHE_DIR:-$root/.cache}")

version=$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$src/go.mod")
[[ $version =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || { echo "kubernetes: no pinned version in $src/go.mod" >&2; exit 1; }
major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}
out=$cache/kubernetes-$version
bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

complete() { local b; for b in "${bins[@]}"; do [[ -x $out/$b ]] || return 1; done; }
if complete; then echo "$out"; exit 0; fi

go=$(command -v go || echo /usr/local/go/bin/go)
[[ -x $go ]] || { echo "kubernetes: Go is needed to build Kubernetes $version (not on PATH)" >&2; exit 1; }
mkdir -p "$cache"
# One build at a time; a second caller waits here and then finds the binaries.
exec {lock}>"$cache/.kubernetes-$version.lock"
flock "$lock"
if ! complete; then
	echo "kubernetes: building ${bins[*]} $version (first run only: ~14 min on 2 cores)" >&2
	vpkg=k8s.io/component-base/version
	ldflags="-s -w -X $vpkg.gitVersion=$version -X $vpkg.gitMajor=$major -X $vpkg.gitMinor=$minor"
	ldflags+=" -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z"
	ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"
	tmp=$out.tmp
	rm -rf "$tmp" && mkdir -p "$tmp"
	pkgs=()
	for b in "${bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
	(cd "$src" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" build -trimpath -ldflags "$ldflags" \
		-o "$tmp/" "${pkgs[@]}") || { echo "kubernetes: building $version failed" >&2; exit 1; }
	rm -rf "$out" && mv "$tmp" "$out"
fi
echo "$out"
