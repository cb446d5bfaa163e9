#!/usr/bin/env bash
# Loads OpenMetrics files into the promauth Prometheus (TSDB backfill with promtool), then
# (re)starts it and waits until it is ready. Works whether or not it was running.
#
#   hack/stack/promauth-load.sh FILE.om [FILE.om...]
#
# Files end with "# EOF"; counter TYPE lines use the family name without _total.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($#)) || die "usage: promauth-load.sh FILE.om [FILE.om...]"
for file in "$@"; do
	[[ -f $file && -r $file ]] || die "cannot read OpenMetrics file $file"
done
command -v promtool >/dev/null || die "promtool not found; run hack/stack/up.sh promauth first"

# promtool writes blocks into the data dir; Prometheus must not hold it meanwhile.
stop_service promauth

status=0
for file in "$@"; do
	if ! prom_backfill "$file" "$PROMAUTH_DIR/data"; then
		status=1
		break
	fi
done

require_free_port "$PROMAUTH_PORT"
say "starting promauth"
promauth_start
exit "$status"
