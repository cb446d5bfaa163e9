#!/usr/bin/env bash
# Prints the environment the tests use to find the local test cluster:
#
#   eval "$(hack/cluster/env.sh)"
#
# Honours TALLY_CLUSTER_DIR, TALLY_CLUSTER_NODE and the TALLY_CLUSTER_*_PORT variables, like up.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf 'export %s=%q\n' \
	TALLY_TEST_CLUSTER_KUBECONFIG "$KUBECONFIG_FILE" \
	TALLY_TEST_CLUSTER_PROMETHEUS_URL "$PROM_URL" \
	TALLY_TEST_CLUSTER_NODE "$NODE" \
	TALLY_TEST_CLUSTER_KSM_URL "$KSM_URL"
