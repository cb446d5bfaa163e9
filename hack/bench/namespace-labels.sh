#!/usr/bin/env bash
# Times select_namespace_labels.sql on 30 days × 200 namespaces of per-minute snapshots
# (8,640,000 rows) on the local stack's ClickHouse (make stack-up; CLICKHOUSE_PORT, default
# 19000). It creates and drops the database tally_nsbench. Figures: docs/benchmarks.md.
#
#   hack/bench/namespace-labels.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
C="clickhouse-client --port ${CLICKHOUSE_PORT:-19000}"
$C -q "DROP DATABASE IF EXISTS tally_nsbench"
$C -q "CREATE DATABASE tally_nsbench"
$C -d tally_nsbench --multiquery < "$repo/sql/migrations/0010_namespaces.sql"
start=$(date -d 2026-11-01T00:00:00Z +%s)
time $C -d tally_nsbench -q "INSERT INTO namespaces SELECT 'prod', toDateTime($start + intDiv(number, 200) * 60, 'UTC'), concat('ns-', toString(number % 200)), ['team'], [concat('team-', toString(number % 17))] FROM system.numbers LIMIT 8640000"
$C -d tally_nsbench -q "OPTIMIZE TABLE namespaces FINAL" || true
q=$(sed -e "s/@cluster/'prod'/g" -e "s/@to/$((start + 30*86400))/g" "$repo/sql/queries/select_namespace_labels.sql")
for i in 1 2 3; do
	/usr/bin/time -f "%e s" $C -d tally_nsbench --format Null -q "$q"
done
$C -d tally_nsbench -q "$q" | wc -l
$C -q "DROP DATABASE tally_nsbench"
