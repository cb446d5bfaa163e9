# shellcheck shell=bash disable=SC2034 # variables are used by the scripts that source this file
# Shared helpers for the local test stack (sourced by up.sh, down.sh, env.sh, prom-load.sh).
# Nothing here starts or stops anything by itself.

STACK_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$STACK_SRC/../.." && pwd)

# Absolute paths even when the env vars are relative (ClickHouse needs absolute paths).
STATE=$(realpath -m "${TALLY_STACK_DIR:-$REPO_ROOT/.stack}")
CACHE=$(realpath -m "${TALLY_CACHE_DIR:-$REPO_ROOT/.cache}")

CH_TCP_PORT=${TALLY_CH_TCP_PORT:-19000}
CH_HTTP_PORT=${TALLY_CH_HTTP_PORT:-18123}
PROM_PORT=${TALLY_PROM_PORT:-19090}
ETCD_PORT=${TALLY_ETCD_PORT:-12379}
ETCD_PEER_PORT=${TALLY_ETCD_PEER_PORT:-12380}
KUBE_PORT=${TALLY_KUBE_PORT:-16443}
VICTORIA_PORT=${TALLY_VICTORIA_PORT:-18428}
PROMAUTH_PORT=${TALLY_PROMAUTH_PORT:-19091}

for port in "$CH_TCP_PORT" "$CH_HTTP_PORT" "$PROM_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KUBE_PORT" \
	"$VICTORIA_PORT" "$PROMAUTH_PORT"; do
	if [[ ! $port =~ ^[0-9]+$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
		echo "stack: invalid port '$port' in the TALLY_*_PORT environment variables" >&2
		exit 1
	fi
done
unset port

# Every service this stack manages, in start order (down.sh stops them in reverse).
SERVICES=(clickhouse prometheus etcd kube-apiserver victoria promauth)

say() { echo "stack: $*"; }
warn() { echo "stack: $*" >&2; }
die() {
	echo "stack: $*" >&2
	exit 1
}

# ---------------------------------------------------------------------------------------------
# Processes

pidfile() { echo "$STATE/$1.pid"; }

# service_pid NAME: prints the PID from NAME's PID file if that process is alive (not a zombie)
# and was started for this state dir (its command line mentions "$STATE/"), which guards against
# PID reuse. Returns 1 otherwise.
service_pid() {
	local file pid state
	file=$(pidfile "$1")
	[[ -f $file ]] || return 1
	pid=$(<"$file")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ -n $state && $state != Z ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE/" || return 1
	echo "$pid"
}

# clean_stale NAME: removes NAME's PID file when it does not name a live process of ours.
clean_stale() {
	local file
	file=$(pidfile "$1")
	if [[ -f $file ]] && ! service_pid "$1" >/dev/null; then
		say "removing stale PID file $file"
		rm -f "$file"
	fi
}

# spawn NAME LOGFILE CMD...: starts CMD detached (own session, no stdin, output to LOGFILE) and
# records its PID.
spawn() {
	local name=$1 log=$2
	shift 2
	mkdir -p "$(dirname "$log")"
	# setsid and nohup exec the command, so $! is the server's own PID.
	setsid nohup "$@" >>"$log" 2>&1 </dev/null &
	echo $! >"$(pidfile "$name")"
}

# stop_service NAME: SIGTERM, wait up to 10 s, then SIGKILL. Removes the PID file.
stop_service() {
	local name=$1 pid i
	if ! pid=$(service_pid "$name"); then
		clean_stale "$name"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		service_pid "$name" >/dev/null || break
		sleep 0.1
	done
	if service_pid "$name" >/dev/null; then
		warn "$name (pid $pid) did not stop within 10 s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			service_pid "$name" >/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "$(pidfile "$name")"
	say "stopped $name (pid $pid)"
}

# ---------------------------------------------------------------------------------------------
# Ports

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# port_owner PORT: "pid N, name" of the listener, when ss can tell.
port_owner() {
	command -v ss >/dev/null || return 0
	ss -Hltnp "sport = :$1" 2>/dev/null |
		sed -n 's/.*users:(("\([^"]*\)",pid=\([0-9]*\).*/pid \2, \1/p' | head -n1
}

# require_free_port PORT...: exits with a clear message when a port is already taken.
require_free_port() {
	local port owner
	for port in "$@"; do
		if port_open "$port"; then
			owner=$(port_owner "$port")
			die "port $port is already in use by another process${owner:+ ($owner)}"
		fi
	done
}

# ---------------------------------------------------------------------------------------------
# Waiting and logs

# service_logs NAME: the log files worth showing when NAME fails, one per line.
service_logs() {
	case $1 in
	clickhouse) printf '%s\n' "$STATE/clickhouse/stdout.log" "$STATE/clickhouse/clickhouse-server.log" ;;
	prometheus) echo "$STATE/prometheus/prometheus.log" ;;
	etcd) echo "$STATE/etcd/etcd.log" ;;
	kube-apiserver) echo "$STATE/kube/kube-apiserver.log" ;;
	victoria) echo "$STATE/victoria/victoria.log" ;;
	promauth) echo "$STATE/promauth/prometheus.log" ;;
	esac
}

# wait_until NAME SECONDS CMD...: polls CMD every 0.2 s until it succeeds. Fails (printing the
# last 20 log lines and stopping the service) on timeout or when the process exits.
wait_until() {
	local name=$1 timeout=$2 deadline
	shift 2
	deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if ! service_pid "$name" >/dev/null; then
			fail_start "$name" "$name exited during start-up"
		fi
		if ((SECONDS >= deadline)); then
			fail_start "$name" "$name was not ready within ${timeout} s"
		fi
		sleep 0.2
	done
}

# fail_start NAME MESSAGE: prints the tail of NAME's logs, stops what was started, exits 1.
fail_start() {
	local name=$1 log
	warn "$2"
	while read -r log; do
		[[ -s $log ]] || continue
		warn "last 20 lines of $log:"
		tail -n 20 "$log" >&2
	done < <(service_logs "$name")
	stop_service "$name" >/dev/null
	exit 1
}

# ---------------------------------------------------------------------------------------------
# Prometheus (shared by up.sh and prom-load.sh)

PROM_DIR=$STATE/prometheus
PROM_LOG=$PROM_DIR/prometheus.log
PROM_URL=http://127.0.0.1:$PROM_PORT
FIXTURE=$STACK_SRC/testdata/fixture.om

prom_ready() { curl -fsS --max-time 2 "$PROM_URL/-/ready" >/dev/null 2>&1; }

# prom_backfill FILE [DATA_DIR]: writes FILE's samples as TSDB blocks into the data dir (default:
# the stack Prometheus's; that Prometheus must be stopped). --max-block-duration is hidden but
# makes promtool fast (see FACTS.md).
prom_backfill() {
	local file=$1 data=${2:-$PROM_DIR/data} out
	[[ -r $file ]] || die "cannot read OpenMetrics file $file"
	mkdir -p "$data"
	if ! out=$(promtool tsdb create-blocks-from openmetrics --quiet --max-block-duration=168h \
		"$file" "$data" 2>&1); then
		warn "promtool rejected $file:"
		echo "$out" >&2
		return 1
	fi
	say "loaded $file into $data"
}

# prom_init_data: the first time the data dir is created, load the test fixture.
prom_init_data() {
	[[ -d $PROM_DIR/data ]] && return 0
	prom_backfill "$FIXTURE" || die "could not load the fixture"
}

# prom_start: starts Prometheus (not running, port checked by the caller) and waits until ready.
prom_start() {
	mkdir -p "$PROM_DIR"
	cat >"$PROM_DIR/prometheus.yml" <<-EOF
		# Written by hack/stack/up.sh. No scrape jobs: data comes from prom-load.sh.
		global:
		  scrape_interval: 30s
		scrape_configs: []
	EOF
	prom_init_data
	spawn prometheus "$PROM_LOG" prometheus \
		--config.file="$PROM_DIR/prometheus.yml" \
		--storage.tsdb.path="$PROM_DIR/data" \
		--storage.tsdb.retention.time=3650d \
		--web.listen-address="127.0.0.1:$PROM_PORT"
	wait_until prometheus 30 prom_ready
	say "prometheus ready on $PROM_URL (pid $(service_pid prometheus))"
}

# ---------------------------------------------------------------------------------------------
# promauth: a second Prometheus that requires TLS and basic auth (--web.config.file), for the
# tests of tally's HTTP client configuration. It starts empty; tests load their own data with
# promauth-load.sh. Shared by up.sh and promauth-load.sh.

PROMAUTH_DIR=$STATE/promauth
PROMAUTH_URL=https://127.0.0.1:$PROMAUTH_PORT
PROMAUTH_USER=tally

# promauth_curl ARGS...: curl with the promauth CA and credentials (from a config on stdin, so
# the password does not show in the process list).
promauth_curl() {
	curl -K- --cacert "$PROMAUTH_DIR/ca.crt" "$@" <<<"user = \"$PROMAUTH_USER:$(<"$PROMAUTH_DIR/password")\""
}

promauth_ready() { promauth_curl -fsS --max-time 2 "$PROMAUTH_URL/-/ready" >/dev/null 2>&1; }

# promauth_credentials: a CA, a server certificate for 127.0.0.1 and localhost, a password and
# its bcrypt hash, generated once into the state dir.
promauth_credentials() {
	local d=$PROMAUTH_DIR hash go
	mkdir -p "$d"
	(
		umask 077
		if [[ ! -s $d/ca.crt || ! -s $d/server.crt || ! -s $d/server.key ]]; then
			cat >"$d/openssl.cnf" <<-EOF
				# Written by hack/stack/up.sh.
				[req]
				distinguished_name = dn
				prompt = no
				[dn]
				CN = tally test CA
				[ca]
				basicConstraints = critical, CA:TRUE
				keyUsage = critical, keyCertSign, cRLSign
				subjectKeyIdentifier = hash
				[server]
				basicConstraints = CA:FALSE
				keyUsage = critical, digitalSignature, keyEncipherment
				extendedKeyUsage = serverAuth
				subjectAltName = IP:127.0.0.1, DNS:localhost
			EOF
			openssl req -x509 -config "$d/openssl.cnf" -extensions ca -newkey rsa:2048 -nodes \
				-keyout "$d/ca.key" -out "$d/ca.crt" -days 3650 2>/dev/null
			openssl req -new -config "$d/openssl.cnf" -subj /CN=127.0.0.1 -newkey rsa:2048 -nodes \
				-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
			openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
				-set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$d/openssl.cnf" \
				-extensions server -out "$d/server.crt" 2>/dev/null
			rm -f "$d/server.csr"
		fi
		if [[ ! -s $d/password ]]; then
			openssl rand -hex 16 >"$d/password"
			rm -f "$d/password.bcrypt"
		fi
		if [[ ! -s $d/password.bcrypt ]]; then
			# Prometheus's web config wants bcrypt, which openssl cannot make.
			go=$(command -v go || echo /usr/local/go/bin/go)
			hash=$(cd "$REPO_ROOT" && "$go" run ./hack/stack/bcrypt <"$d/password") ||
				die "could not hash the promauth password (go run ./hack/stack/bcrypt)"
			echo "$hash" >"$d/password.bcrypt"
		fi
	) || exit 1
	chmod 644 "$d/ca.crt"
}

# promauth_start: starts the promauth Prometheus (not running, port checked by the caller) and
# waits until it is ready.
promauth_start() {
	promauth_credentials
	cat >"$PROMAUTH_DIR/prometheus.yml" <<-EOF
		# Written by hack/stack/up.sh. No scrape jobs: data comes from promauth-load.sh.
		global:
		  scrape_interval: 30s
		scrape_configs: []
	EOF
	(
		umask 077
		cat >"$PROMAUTH_DIR/web.yml" <<-EOF
			# Written by hack/stack/up.sh.
			tls_server_config:
			  cert_file: $PROMAUTH_DIR/server.crt
			  key_file: $PROMAUTH_DIR/server.key
			basic_auth_users:
			  $PROMAUTH_USER: $(<"$PROMAUTH_DIR/password.bcrypt")
		EOF
	)
	mkdir -p "$PROMAUTH_DIR/data"
	spawn promauth "$PROMAUTH_DIR/prometheus.log" prometheus \
		--config.file="$PROMAUTH_DIR/prometheus.yml" \
		--web.config.file="$PROMAUTH_DIR/web.yml" \
		--storage.tsdb.path="$PROMAUTH_DIR/data" \
		--storage.tsdb.retention.time=3650d \
		--web.listen-address="127.0.0.1:$PROMAUTH_PORT"
	wait_until promauth 30 promauth_ready
	say "promauth (Prometheus with TLS and basic auth) ready on $PROMAUTH_URL (pid $(service_pid promauth))"
}

# ---------------------------------------------------------------------------------------------
# victoria: a single-node VictoriaMetrics, a second Prometheus-compatible store. Tests import
# their own data through its HTTP API.

VICTORIA_DIR=$STATE/victoria
VICTORIA_URL=http://127.0.0.1:$VICTORIA_PORT

victoria_ready() { [[ $(curl -fsS --max-time 2 "$VICTORIA_URL/health" 2>/dev/null) == OK ]]; }

# victoria_start: starts VictoriaMetrics (not running, port checked by the caller) and waits
# until it is ready. The tests' samples are years old: -retentionPeriod keeps them. Answers are
# not cached (-search.disableCache), so data imported a moment ago shows at once, and
# -search.latencyOffset=0s does not hide the newest samples.
victoria_start() {
	mkdir -p "$VICTORIA_DIR"
	spawn victoria "$VICTORIA_DIR/victoria.log" "$(command -v victoria-metrics || echo /usr/bin/victoria-metrics)" \
		-storageDataPath="$VICTORIA_DIR/data" \
		-retentionPeriod=100y \
		-httpListenAddr="127.0.0.1:$VICTORIA_PORT" \
		-search.disableCache \
		-search.latencyOffset=0s \
		-loggerLevel=WARN
	wait_until victoria 30 victoria_ready
	say "victoria-metrics ready on $VICTORIA_URL (pid $(service_pid victoria))"
}

# ---------------------------------------------------------------------------------------------
# Debian packages

MISSING_PACKAGES=()

# need CMD PACKAGE: remembers PACKAGE when CMD is not installed.
need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		MISSING_PACKAGES+=("$2")
	fi
}

# install_missing: installs what need() collected; apt-get update only when something is missing.
install_missing() {
	((${#MISSING_PACKAGES[@]})) || return 0
	local pkgs sudo=()
	mapfile -t pkgs < <(printf '%s\n' "${MISSING_PACKAGES[@]}" | sort -u)
	MISSING_PACKAGES=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "missing packages (${pkgs[*]}); install them as root"
		sudo=(sudo)
	fi
	say "installing Debian packages: ${pkgs[*]}"
	"${sudo[@]}" apt-get update -qq || die "apt-get update failed"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${pkgs[@]}" ||
		die "apt-get install ${pkgs[*]} failed"
}

# ---------------------------------------------------------------------------------------------
# ClickHouse (up.sh starts the stack's server; clickhouse-server.sh runs one more for a test)

CH_DIR=$STATE/clickhouse

# A modern server ships one `clickhouse` binary; Debian 12 ships 18.16 as clickhouse-server.
if command -v clickhouse >/dev/null 2>&1; then
	CH_SERVER=(clickhouse server)
	CH_CLIENT=(clickhouse client)
else
	CH_SERVER=(/usr/sbin/clickhouse-server)
	CH_CLIENT=(clickhouse-client)
fi

ch_ready() { [[ $(curl -fsS --max-time 2 "http://127.0.0.1:$CH_HTTP_PORT/ping" 2>/dev/null) == "Ok." ]]; }

# ch_major_version: the server's major version (18 for Debian 12), empty when unknown.
# 18.16's clickhouse-server has no --version, so fall back to the package and the client.
ch_major_version() {
	local out
	out=$("${CH_SERVER[@]}" --version 2>/dev/null || true)
	if [[ $out =~ version\ ([0-9]+)\. ]]; then
		echo "${BASH_REMATCH[1]}"
	elif [[ ${CH_SERVER[0]} == /usr/sbin/clickhouse-server ]] &&
		[[ $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null) =~ ^([0-9]+)\. ]]; then
		echo "${BASH_REMATCH[1]}"
	elif [[ $("${CH_CLIENT[@]}" --version 2>/dev/null) =~ version\ ([0-9]+)\. ]]; then
		echo "${BASH_REMATCH[1]}"
	fi
}

ch_write_config() {
	local major extra=""
	major=$(ch_major_version)
	if [[ -z $major ]]; then
		warn "could not tell the ClickHouse version; assuming a modern server"
	elif ((major <= 19)); then
		# LowCardinality is experimental before 20.x. Modern servers may reject this setting
		# name, and 18.16 refuses to start on unknown settings, so it is set only here.
		extra="<allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>"
	fi
	mkdir -p "$CH_DIR"
	cat >"$CH_DIR/config.xml" <<-EOF
		<?xml version="1.0"?>
		<!-- Written by hack/stack/up.sh on every start. 18.16 ignores the root element's name. -->
		<clickhouse>
		    <logger>
		        <level>information</level>
		        <log>$CH_DIR/clickhouse-server.log</log>
		        <errorlog>$CH_DIR/clickhouse-server.err.log</errorlog>
		        <size>50M</size>
		        <count>2</count>
		    </logger>
		    <listen_host>127.0.0.1</listen_host>
		    <tcp_port>$CH_TCP_PORT</tcp_port>
		    <http_port>$CH_HTTP_PORT</http_port>
		    <path>$CH_DIR/data/</path>
		    <tmp_path>$CH_DIR/tmp/</tmp_path>
		    <user_files_path>$CH_DIR/user_files/</user_files_path>
		    <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
		    <users_config>$CH_DIR/users.xml</users_config>
		    <default_profile>default</default_profile>
		    <default_database>default</default_database>
		    <timezone>UTC</timezone>
		    <max_concurrent_queries>64</max_concurrent_queries>
		    <mark_cache_size>536870912</mark_cache_size>
		    <uncompressed_cache_size>268435456</uncompressed_cache_size>
		    <mlock_executable>false</mlock_executable>
		</clickhouse>
	EOF
	cat >"$CH_DIR/users.xml" <<-EOF
		<?xml version="1.0"?>
		<!-- Written by hack/stack/up.sh on every start. -->
		<clickhouse>
		    <profiles>
		        <default>
		            <max_memory_usage>4000000000</max_memory_usage>
		            $extra
		        </default>
		    </profiles>
		    <users>
		        <default>
		            <password></password>
		            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
		            <profile>default</profile>
		            <quota>default</quota>
		        </default>
		        <!-- For tests of password handling. -->
		        <tally>
		            <password>tally-secret</password>
		            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
		            <profile>default</profile>
		            <quota>default</quota>
		        </tally>
		    </users>
		    <quotas><default></default></quotas>
		</clickhouse>
	EOF
}
