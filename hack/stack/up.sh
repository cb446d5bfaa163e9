#!/usr/bin/env bash
# Starts the local test stack (real servers on 127.0.0.1 only): ClickHouse, Prometheus, a
# Kubernetes API server (etcd + kube-apiserver), VictoriaMetrics (victoria) and a Prometheus
# behind TLS and basic auth (promauth). Idempotent: running services are left alone.
#
#   hack/stack/up.sh [all|clickhouse|prometheus|kube|victoria|promauth]...   (default: all)
#
# See hack/stack/README.md.
set -euo pipefail

# The Kubernetes release; hack/kubernetes/go.mod must pin the same k8s.io/kubernetes.
KUBE_VERSION=v1.35.4

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { die "usage: up.sh [all|clickhouse|prometheus|kube|victoria|promauth]..."; }

# ---------------------------------------------------------------------------------------------
# ClickHouse (its config and version checks live in lib.sh)

up_clickhouse() {
	if service_pid clickhouse >/dev/null; then
		wait_until clickhouse 30 ch_ready
		say "clickhouse already running"
		return
	fi
	clean_stale clickhouse
	require_free_port "$CH_TCP_PORT" "$CH_HTTP_PORT"
	ch_write_config
	say "starting clickhouse"
	spawn clickhouse "$CH_DIR/stdout.log" "${CH_SERVER[@]}" --config-file="$CH_DIR/config.xml"
	wait_until clickhouse 30 ch_ready
	local version
	version=$("${CH_CLIENT[@]}" --host 127.0.0.1 --port "$CH_TCP_PORT" -q 'SELECT version()' 2>&1) ||
		fail_start clickhouse "clickhouse answers /ping but the native port does not: $version"
	say "clickhouse $version ready on 127.0.0.1:$CH_TCP_PORT (native), :$CH_HTTP_PORT (http) (pid $(service_pid clickhouse))"
}

# ---------------------------------------------------------------------------------------------
# Prometheus (start-up code shared with prom-load.sh lives in lib.sh)

up_prometheus() {
	if service_pid prometheus >/dev/null; then
		wait_until prometheus 30 prom_ready
		say "prometheus already running"
		return
	fi
	clean_stale prometheus
	require_free_port "$PROM_PORT"
	say "starting prometheus"
	prom_start
}

# ---------------------------------------------------------------------------------------------
# promauth and victoria (start-up code shared with promauth-load.sh lives in lib.sh)

up_promauth() {
	if service_pid promauth >/dev/null; then
		wait_until promauth 30 promauth_ready
		say "promauth already running"
		return
	fi
	clean_stale promauth
	require_free_port "$PROMAUTH_PORT"
	say "starting promauth"
	promauth_start
}

up_victoria() {
	if service_pid victoria >/dev/null; then
		wait_until victoria 30 victoria_ready
		say "victoria already running"
		return
	fi
	clean_stale victoria
	require_free_port "$VICTORIA_PORT"
	say "starting victoria-metrics"
	victoria_start
}

# ---------------------------------------------------------------------------------------------
# Kubernetes API: etcd + kube-apiserver

ETCD_DIR=$STATE/etcd
KUBE_DIR=$STATE/kube
KAS_BIN= # set by build_kube_apiserver

etcd_ready() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }
kube_ready() {
	[[ $(curl -fsSk --max-time 2 -H "Authorization: Bearer $(<"$KUBE_DIR/token")" \
		"https://127.0.0.1:$KUBE_PORT/readyz" 2>/dev/null) == ok ]]
}

# build_kube_apiserver sets KAS_BIN to the kube-apiserver of the pinned Kubernetes build
# (hack/kubernetes/build.sh builds all of that release's binaries once and caches them).
build_kube_apiserver() {
	local dir
	dir=$("$REPO_ROOT/hack/kubernetes/build.sh") || die "building Kubernetes $KUBE_VERSION failed"
	[[ $dir == */kubernetes-$KUBE_VERSION ]] ||
		die "hack/kubernetes/go.mod does not pin Kubernetes $KUBE_VERSION (KUBE_VERSION in up.sh)"
	KAS_BIN=$dir/kube-apiserver
}

# kube_credentials: token, token file and service-account key pair, generated once.
kube_credentials() {
	mkdir -p "$KUBE_DIR/certs"
	(
		umask 077
		if [[ ! -s $KUBE_DIR/token ]]; then
			openssl rand -hex 32 >"$KUBE_DIR/token"
		fi
		echo "$(<"$KUBE_DIR/token"),tally-admin,tally-admin,\"system:masters\"" >"$KUBE_DIR/tokens.csv"
		if [[ ! -s $KUBE_DIR/sa.key || ! -s $KUBE_DIR/sa.pub ]]; then
			openssl genrsa -out "$KUBE_DIR/sa.key" 2048 2>/dev/null
			openssl rsa -in "$KUBE_DIR/sa.key" -pubout -out "$KUBE_DIR/sa.pub" 2>/dev/null
		fi
	)
}

write_kubeconfig() {
	(
		umask 077
		cat >"$STATE/kubeconfig" <<-EOF
			# Written by hack/stack/up.sh.
			apiVersion: v1
			kind: Config
			clusters:
			- name: tally-stack
			  cluster:
			    server: https://127.0.0.1:$KUBE_PORT
			    insecure-skip-tls-verify: true
			users:
			- name: tally-admin
			  user:
			    token: $(<"$KUBE_DIR/token")
			contexts:
			- name: tally-stack
			  context:
			    cluster: tally-stack
			    user: tally-admin
			current-context: tally-stack
		EOF
	)
}

up_etcd() {
	if service_pid etcd >/dev/null; then
		wait_until etcd 30 etcd_ready
		say "etcd already running"
		return
	fi
	clean_stale etcd
	require_free_port "$ETCD_PORT" "$ETCD_PEER_PORT"
	say "starting etcd"
	mkdir -p "$ETCD_DIR"
	spawn etcd "$ETCD_DIR/etcd.log" "$(command -v etcd || echo /usr/bin/etcd)" \
		--name tally \
		--data-dir "$ETCD_DIR/data" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "tally=http://127.0.0.1:$ETCD_PEER_PORT" \
		--logger zap
	wait_until etcd 30 etcd_ready
	say "etcd ready on 127.0.0.1:$ETCD_PORT (pid $(service_pid etcd))"
}

up_kube_apiserver() {
	if service_pid kube-apiserver >/dev/null; then
		wait_until kube-apiserver 60 kube_ready
		[[ -s $STATE/kubeconfig ]] || write_kubeconfig
		say "kube-apiserver already running"
		return
	fi
	clean_stale kube-apiserver
	require_free_port "$KUBE_PORT"
	build_kube_apiserver
	kube_credentials
	write_kubeconfig
	say "starting kube-apiserver $KUBE_VERSION"
	spawn kube-apiserver "$KUBE_DIR/kube-apiserver.log" "$KAS_BIN" \
		--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
		--bind-address=127.0.0.1 \
		--advertise-address=127.0.0.1 \
		--secure-port="$KUBE_PORT" \
		--cert-dir="$KUBE_DIR/certs" \
		--token-auth-file="$KUBE_DIR/tokens.csv" \
		--authorization-mode=RBAC \
		--service-account-key-file="$KUBE_DIR/sa.pub" \
		--service-account-signing-key-file="$KUBE_DIR/sa.key" \
		--service-account-issuer=https://kubernetes.default.svc \
		--disable-admission-plugins=ServiceAccount \
		--endpoint-reconciler-type=none \
		--service-cluster-ip-range=10.96.0.0/16 \
		--allow-privileged=true
	wait_until kube-apiserver 60 kube_ready
	say "kube-apiserver ready on https://127.0.0.1:$KUBE_PORT (pid $(service_pid kube-apiserver))"
}

# ---------------------------------------------------------------------------------------------

main() {
	local want_ch=0 want_prom=0 want_kube=0 want_victoria=0 want_promauth=0 arg
	(($#)) || set -- all
	for arg in "$@"; do
		case $arg in
		all) want_ch=1 want_prom=1 want_kube=1 want_victoria=1 want_promauth=1 ;;
		clickhouse) want_ch=1 ;;
		prometheus) want_prom=1 ;;
		kube) want_kube=1 ;;
		victoria) want_victoria=1 ;;
		promauth) want_promauth=1 ;;
		*) usage ;;
		esac
	done

	command -v curl >/dev/null 2>&1 || MISSING_PACKAGES+=(curl)
	if ((want_ch)); then
		if ! command -v clickhouse >/dev/null 2>&1; then
			[[ -x /usr/sbin/clickhouse-server ]] || MISSING_PACKAGES+=(clickhouse-server)
			need clickhouse-client clickhouse-client
		fi
	fi
	if ((want_prom)); then
		need prometheus prometheus
		need promtool prometheus
	fi
	if ((want_kube)); then
		[[ -x /usr/bin/etcd ]] || need etcd etcd-server
		need openssl openssl
	fi
	if ((want_victoria)); then
		[[ -x /usr/bin/victoria-metrics ]] || need victoria-metrics victoria-metrics
	fi
	if ((want_promauth)); then
		need prometheus prometheus
		need promtool prometheus
		need openssl openssl
	fi
	install_missing

	mkdir -p "$STATE"
	if ((want_ch)); then
		up_clickhouse
	fi
	if ((want_prom)); then
		up_prometheus
	fi
	if ((want_kube)); then
		up_etcd
		up_kube_apiserver
	fi
	if ((want_victoria)); then
		up_victoria
	fi
	if ((want_promauth)); then
		up_promauth
	fi

	say "up: state in $STATE"
	local name pid
	for name in "${SERVICES[@]}"; do
		if pid=$(service_pid "$name"); then
			printf 'stack:   %-15s pid %s\n' "$name" "$pid"
		fi
	done
	say "environment for tests (eval \"\$(hack/stack/env.sh)\"):"
	"$STACK_SRC/env.sh"
}

main "$@"
