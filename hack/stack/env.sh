#!/usr/bin/env bash
# Prints the environment the integration tests use to find the local stack:
#
#   eval "$(hack/stack/env.sh)"
#
# Honours TALLY_STACK_DIR and the TALLY_*_PORT variables, like up.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'export %s=%q\n' \
	TALLY_TEST_CLICKHOUSE_DSN "clickhouse://default@127.0.0.1:$CH_TCP_PORT/default" \
	TALLY_TEST_CLICKHOUSE_HTTP "http://127.0.0.1:$CH_HTTP_PORT" \
	TALLY_TEST_CLICKHOUSE_PASSWORD_USER tally \
	TALLY_TEST_CLICKHOUSE_PASSWORD tally-secret \
	TALLY_TEST_PROMETHEUS_URL "$PROM_URL" \
	TALLY_TEST_KUBECONFIG "$STATE/kubeconfig" \
	TALLY_TEST_VICTORIA_URL "$VICTORIA_URL" \
	TALLY_TEST_PROMAUTH_URL "$PROMAUTH_URL" \
	TALLY_TEST_PROMAUTH_CA "$PROMAUTH_DIR/ca.crt" \
	TALLY_TEST_PROMAUTH_USER "$PROMAUTH_USER" \
	TALLY_TEST_PROMAUTH_PASSWORD_FILE "$PROMAUTH_DIR/password"
