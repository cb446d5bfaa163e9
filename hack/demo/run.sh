#!/usr/bin/env bash
# `make demo`: tally end to end on the local stack. Loads a synthetic cluster (a week of
# history) into the stack's Prometheus and Kubernetes API server, runs the collector once into
# the ClickHouse database tally_demo, then prints the cost, rightsizing and request = limit
# reports and writes the week's CSV files. A second run reuses the loaded cluster and only
# collects what is new.
#
# Run by the Makefile after `make build stack-up`; the stack's addresses come from env.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
eval "$(hack/stack/env.sh)"

state=$(realpath -m "${TALLY_STACK_DIR:-.stack}")/demo
reports=${TALLY_DEMO_REPORTS:-reports}
dsn="${TALLY_TEST_CLICKHOUSE_DSN%/*}/tally_demo"
started=$SECONDS

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
took() { printf '   (%ss)\n' "$((SECONDS - $1))"; }

step "1/6 synthetic cluster: a week of history in Prometheus and objects in the Kubernetes API"
t=$SECONDS
if [[ -s $state/end ]]; then
	echo "   series already in Prometheus, history ending $(cat "$state/end") ('make clean' starts over)"
	go run ./hack/demo --kubeconfig "$TALLY_TEST_KUBECONFIG" --end "$(cat "$state/end")" --objects-only
else
	go run ./hack/demo --kubeconfig "$TALLY_TEST_KUBECONFIG" --state "$state"
fi
end=$(cat "$state/end")
# The objects leave the shared API server when the demo ends (the tests use it too).
trap 'go run ./hack/demo --kubeconfig "$TALLY_TEST_KUBECONFIG" --end "$end" --unload || true' EXIT
took "$t"
start=$(date -u -d "$end - 7 days" +%Y-%m-%dT%H:%M:%SZ)
week=$(date -u -d "$start" +%G-W%V)
# Catch up from the start of the history exactly (not before it: the nodes did not exist);
# the collector truncates its horizon to the minute and the hour.
backfill=$(($(date -u +%s) - $(date -u -d "$start" +%s)))s

step "2/6 collector --once: schema, then inventory, usage, prices, costs and recommendations since $start"
t=$SECONDS
bin/collector --clickhouse-dsn "$dsn" --migrate --log-level warn | sed 's/^/   /'
bin/collector --clickhouse-dsn "$dsn" --kubeconfig "$TALLY_TEST_KUBECONFIG" \
	--prometheus-url "$TALLY_TEST_PROMETHEUS_URL" --pricing hack/demo/prices.yaml --cluster demo \
	--once --backfill "$backfill" --log-level warn
took "$t"

window="$start,$end"
step "3/6 reporter costs --by namespace --window $window"
bin/reporter costs --clickhouse-dsn "$dsn" --cluster demo --by namespace --window "$window"

step "4/6 reporter rightsize --top 10 --window $window"
bin/reporter rightsize --clickhouse-dsn "$dsn" --cluster demo --top 10 --window "$window"

step "5/6 reporter qos --window $window"
bin/reporter qos --clickhouse-dsn "$dsn" --cluster demo --window "$window"

step "6/6 reporter weekly --week $week --out $reports/$week"
bin/reporter weekly --clickhouse-dsn "$dsn" --cluster demo --week "$week" --out "$reports/$week"

cat <<NEXT

Done in $((SECONDS - started))s. What to look at next:

  * The week's CSV files, for a spreadsheet:    ls $reports/$week   (columns: docs/reports.md)
  * Every recommendation as a kubectl patch:    bin/reporter rightsize --clickhouse-dsn $dsn --cluster demo --window $window --format yaml
  * Would last week's advice have held?         bin/reporter rightsize --clickhouse-dsn $dsn --cluster demo --backtest --window $(date -u -d "$end - 3 days" +%Y-%m-%dT%H:%M:%SZ),$end --min-window 12h
  * The same reports over HTTP:                 bin/reporter serve --clickhouse-dsn $dsn --cluster demo --listen 127.0.0.1:8080 --reports-dir $reports
                                                curl '127.0.0.1:8080/api/v1/costs?window=$window&by=namespace'
  * Grafana: add the ClickHouse data source (grafana-clickhouse-datasource) for 127.0.0.1:$(sed 's/.*:\([0-9]*\)\/.*/\1/' <<<"$dsn"),
    protocol native, database tally_demo, and import the dashboards in dashboards/ (dashboards/README.md).
  * How the numbers are made: docs/cost-model.md, docs/rightsizing.md.

The stack keeps running ('make stack-down' stops it; 'make clean' also removes its data).
NEXT
