#!/usr/bin/env bash
# Regenerates fixture.om, the OpenMetrics data up.sh loads into a fresh Prometheus:
# one container (shop/web-0/app), 2 hours at 60 s steps from 2026-01-01T00:00:00Z (1767225600):
#   container_cpu_usage_seconds_total   +30 per minute (0.5 cores), 0 at the start
#   container_memory_working_set_bytes  constant 268435456 (256 MiB)
set -euo pipefail
out=${1:-$(dirname "${BASH_SOURCE[0]}")/fixture.om}

awk -v start=1767225600 -v step=60 -v steps=120 'BEGIN {
	labels = "{namespace=\"shop\",pod=\"web-0\",container=\"app\"}"
	print "# HELP container_cpu_usage_seconds Cumulative cpu time consumed in seconds."
	print "# TYPE container_cpu_usage_seconds counter"
	for (i = 0; i <= steps; i++)
		printf "container_cpu_usage_seconds_total%s %d %d\n", labels, 30 * i, start + i * step
	print "# HELP container_memory_working_set_bytes Current working set in bytes."
	print "# TYPE container_memory_working_set_bytes gauge"
	for (i = 0; i <= steps; i++)
		printf "container_memory_working_set_bytes%s %d %d\n", labels, 268435456, start + i * step
	print "# EOF"
}' >"$out"
