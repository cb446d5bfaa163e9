#!/usr/bin/env bash
# Runs one more ClickHouse server in the foreground, with the stack's configuration, its data in
# DIR and its ports from TALLY_CH_TCP_PORT and TALLY_CH_HTTP_PORT:
#
#   TALLY_CH_TCP_PORT=19100 TALLY_CH_HTTP_PORT=18223 hack/stack/clickhouse-server.sh DIR
#
# The script execs the server, so the caller's process is the server's: a test that stops,
# hangs (SIGSTOP) or kills it and runs the script again on the same DIR gets the same data
# back. The stack's own server is started by up.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# == 1)) || die "usage: clickhouse-server.sh DIR"
CH_DIR=$(realpath -m "$1")
ch_write_config
exec "${CH_SERVER[@]}" --config-file="$CH_DIR/config.xml"
