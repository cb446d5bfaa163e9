#!/usr/bin/env bash
# Loads OpenMetrics files into the stack's Prometheus (TSDB backfill with promtool), then
# (re)starts Prometheus and waits until it is ready. Works whether or not it was running.
#
#   hack/stack/prom-load.sh FILE.om [FILE.om...]
#
# Files end with "# EOF"; counter TYPE lines use the family name without _total.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($#)) || die "usage: prom-load.sh FILE.om [FILE.om...]"
for file in "$@"; do
	[[ -f $file && -r $file ]] || die "cannot read OpenMetrics file $file"
done
command -v promtool >/dev/null || die "promtool not found; run hack/stack/up.sh prometheus first"

was_running=0
if service_pid prometheus >/dev/null; then
	was_running=1
fi
# promtool writes blocks into the data dir; Prometheus must not hold it meanwhile.
stop_service prometheus

status=0
prom_init_data
for file in "$@"; do
	if ! prom_backfill "$file"; then
		status=1
		break
	fi
done

if ((status == 0 || was_running)); then
	require_free_port "$PROM_PORT"
	say "starting prometheus"
	prom_start
fi
exit "$status"
