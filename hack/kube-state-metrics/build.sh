#!/usr/bin/env bash
# Builds the pinned kube-state-metrics into $CACHE/kube-state-metrics-<version>/, once; later runs
# find the binary and return at once. It reports the pinned version (prometheus/common ldflags).
#
#   hack/kube-state-metrics/build.sh    prints the path of the binary
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$src/../.." && pwd)
cache=$(realpath -m "${TALLY_CACHE_DIR:-$root/.cache}")

module=k8s.io/kube-state-metrics/v2
version=$(sed -n 's|^require k8s.io/kube-state-metrics/v2 \(v[0-9.]*\)$|\1|p' "$src/go.mod")
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	{ echo "kube-state-metrics: no pinned version in $src/go.mod" >&2; exit 1; }
out=$cache/kube-state-metrics-$version
bin=$out/kube-state-metrics

if [[ -x $bin ]]; then echo "$bin"; exit 0; fi

go=$(command -v go || echo /usr/local/go/bin/go)
[[ -x $go ]] || { echo "kube-state-metrics: Go is needed to build $version (not on PATH)" >&2; exit 1; }
mkdir -p "$cache"
# One build at a time; a second caller waits here and then finds the binary.
exec {lock}>"$cache/.kube-state-metrics-$version.lock"
flock "$lock"
if [[ ! -x $bin ]]; then
	echo "kube-state-metrics: building $version (first run only: ~6 min on 2 cores)" >&2
	client_go=$(cd "$src" && GOWORK=off GOFLAGS=-mod=mod "$go" list -m -f '{{.Version}}' k8s.io/client-go) ||
		{ echo "kube-state-metrics: cannot resolve the client-go version" >&2; exit 1; }
	vpkg=github.com/prometheus/common/version
	ldflags="-s -w -X $vpkg.Version=${version#v} -X $vpkg.Revision=$version -X $vpkg.Branch=release"
	ldflags+=" -X $vpkg.BuildUser=tally -X $vpkg.BuildDate=19700101-00:00:00"
	ldflags+=" -X $module/pkg/app.ClientGoVersion=$client_go"
	tmp=$out.tmp
	rm -rf "$tmp" && mkdir -p "$tmp"
	(cd "$src" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" build -trimpath -ldflags "$ldflags" \
		-o "$tmp/kube-state-metrics" "$module") ||
		{ echo "kube-state-metrics: building $version failed" >&2; exit 1; }
	rm -rf "$out" && mv "$tmp" "$out"
fi
echo "$bin"
