package recommend

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store/storetest"
)

// BenchmarkRightsizing25k is what `reporter rightsize --window 14d` does after parsing its
// flags, on the stack's ClickHouse: recommendations for 25,000 workload containers (one pod
// each, in 250 namespaces) from 14 days of 1-minute samples, 504 million of them.
//
// The data is laid out as the collector leaves it. The window runs from 06:00 to 06:00, so
// 13 whole days come from the daily rollup and 24 hours from the hourly one. The two partial
// days are inserted as raw samples (36 million a day) through the production views, which
// fill usage_hourly, usage_daily and usage_pods_daily; the 13 whole days are inserted as
// daily rollup states aggregated from 1,440 generated samples per container and day. The
// window's last day has the inventory's container snapshots, one a minute per container (36
// million rows), 2,500 autoscalers likewise, 500 OOM kills and a day of cost rows per
// container. Generating it takes a few minutes and is not timed.
func BenchmarkRightsizing25k(b *testing.B) {
	s, dsn := storetest.Open(b, "tally_bench_rs", slog.New(slog.DiscardHandler))
	start := time.Now()
	storetest.Exec(b, dsn, 30*time.Minute, rightsizingBenchData()...)
	b.Logf("generated the data in %s", time.Since(start).Round(time.Second))

	req := Request{Cluster: "bench", From: benchFrom, To: benchEnd, Policy: rightsizing.DefaultPolicy()}
	ctx := context.Background()
	b.ResetTimer()
	var recs []rightsizing.Recommendation
	for b.Loop() {
		var err error
		if recs, _, err = Rightsizing(ctx, s, req); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if len(recs) != benchContainers {
		b.Fatalf("%d recommendations, want %d", len(recs), benchContainers)
	}
	var oom, hpa int
	for _, r := range recs {
		for _, f := range r.Flags {
			switch f {
			case rightsizing.FlagOOMBump:
				oom++
			case rightsizing.FlagHPA:
				hpa++
			}
		}
	}
	if oom != 500 || hpa != 2500 {
		b.Fatalf("%d OOM bumps and %d HPA flags, want 500 and 2,500", oom, hpa)
	}
	b.ReportMetric(float64(benchContainers), "containers")
}

const benchContainers = 25_000

var (
	benchEnd  = time.Date(2026, 3, 16, 6, 0, 0, 0, time.UTC)
	benchFrom = benchEnd.Add(-14 * 24 * time.Hour)
)

// rightsizingBenchData returns the statements that generate BenchmarkRightsizing25k's data.
func rightsizingBenchData() []string {
	const containers = benchContainers
	end, from := benchEnd, benchFrom
	firstDay, lastDay := from.Truncate(24*time.Hour), end.Truncate(24*time.Hour)

	// c is the container's number; m the sample's minute since the day's start.
	const keys = `'bench' AS cluster, concat('ns-', toString(c % 250)) AS namespace, 'Deployment' AS workload_kind,
		concat('svc-', toString(c)) AS workload, 'app' AS container`
	const cpu = `(c % 97 + 1) / 200 * (1 + sin(m / 240)) + (cityHash64(c, m) % 1000) / 20000`
	const mem = `toUInt64((c % 60 + 20) * 1048576 * (1 + (cityHash64(m, c) % 100) / 500))`
	day := func(d time.Time) string { return fmt.Sprintf("toDate('%s')", d.Format(time.DateOnly)) }
	ts := func(d time.Time) string { return fmt.Sprintf("toDateTime('%s', 'UTC')", d.Format(time.DateTime)) }
	n := containers * 1440

	var stmts []string
	for _, d := range []time.Time{firstDay, lastDay} { // raw samples through the views
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO usage_samples (cluster, ts, namespace, workload_kind, workload, pod,
			container, cpu_usage_cores, memory_working_set_bytes, cpu_throttled_periods, cpu_periods)
			SELECT cluster, %s + m * 60 AS ts, namespace, workload_kind, workload, concat(workload, '-0') AS pod, container,
			       %s AS cpu, %s AS mem, toFloat64(cityHash64(c, m) %% 3) AS thr, 600. AS per
			FROM (SELECT number %% %d AS c, intDiv(number, %d) AS m, %s FROM numbers(%d))`,
			ts(d), cpu, mem, containers, containers, keys, n))
	}
	for d := firstDay.Add(24 * time.Hour); d.Before(lastDay); d = d.Add(24 * time.Hour) { // whole days as rollup states
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO usage_daily (cluster, day, namespace, workload_kind, workload, container,
			samples, cpu_usage_sum, cpu_usage_max, cpu_usage_min, cpu_usage_buckets, memory_working_set_sum, memory_working_set_max,
			cpu_throttled_periods, cpu_periods)
			SELECT cluster, %s, namespace, workload_kind, workload, container, countState(), sumState(cpu), maxState(cpu), minState(cpu),
			       quantileExactWeightedState(if(cpu >= 1e-6, toUInt16(least(65535, 1 + round(log(cpu * 1e6) / log(1.01)))), toUInt16(0)), toUInt64(1)),
			       sumState(mem), maxState(mem), sumState(thr), sumState(per)
			FROM (SELECT %s AS cpu, %s AS mem, toFloat64(cityHash64(c, m) %% 3) AS thr, 600. AS per, c, %s
			      FROM (SELECT number %% %d AS c, intDiv(number, %d) AS m FROM numbers(%d)))
			GROUP BY cluster, namespace, workload_kind, workload, container`,
			day(d), cpu, mem, keys, containers, containers, n),
			fmt.Sprintf(`INSERT INTO usage_pods_daily (cluster, day, namespace, workload_kind, workload, container, pod,
			samples, first_seen, last_seen)
			SELECT cluster, %s, namespace, workload_kind, workload, container, concat(workload, '-0'), countState(),
			       minState(toUInt32(%s + m * 60)), maxState(toUInt32(%s + m * 60))
			FROM (SELECT c, m, %s FROM (SELECT number %% %d AS c, intDiv(number, %d) AS m FROM numbers(%d)))
			GROUP BY cluster, namespace, workload_kind, workload, container`,
				day(d), ts(d), ts(d), keys, containers, containers, n))
	}
	snapFrom := end.Add(-24 * time.Hour)
	stmts = append(stmts,
		fmt.Sprintf(`INSERT INTO containers (cluster, ts, namespace, pod, pod_uid, container, init_container, node, phase,
			qos_class, workload_kind, workload, cpu_request_cores, cpu_limit_cores, memory_request_bytes, memory_limit_bytes,
			gpu_request, started_at, finished_at, restart_count, last_termination_reason, label_keys, label_values)
			SELECT cluster, %s + m * 60, namespace, concat(workload, '-0'), toString(c), container, 0,
			       concat('node-', toString(c %% 300)), 'Running', 'Burstable', workload_kind, workload, 0.5, 1.,
			       toUInt64(536870912), toUInt64(1073741824), 0., %s, toDateTime(0, 'UTC'), 0, '', ['app'], [workload]
			FROM (SELECT number %% %d AS c, intDiv(number, %d) AS m, %s FROM numbers(%d))`,
			ts(snapFrom), ts(from), containers, containers, keys, n),
		fmt.Sprintf(`INSERT INTO autoscalers (cluster, ts, namespace, name, target_kind, target_name, min_replicas,
			max_replicas, resources)
			SELECT cluster, %s + m * 60, namespace, workload, workload_kind, workload, 2, 10, ['cpu']
			FROM (SELECT number %% 2500 * 10 AS c, intDiv(number, 2500) AS m, %s FROM numbers(%d))`,
			ts(snapFrom), keys, 2500*1440),
		fmt.Sprintf(`INSERT INTO container_events (cluster, ts, namespace, workload_kind, workload, pod, container, node,
			kind, reason, message, count, memory_limit_bytes)
			SELECT cluster, %s + intDiv(c, 50) * 60, namespace, workload_kind, workload, concat(workload, '-0'), container,
			       'node-0', 'oom-kill', 'OOMKilled', '', 1, toUInt64(1073741824)
			FROM (SELECT number * 50 AS c, %s FROM numbers(500))`, ts(from.Add(24*time.Hour)), keys),
		fmt.Sprintf(`INSERT INTO cost_daily (cluster, day, node, namespace, workload_kind, workload, app, is_idle, label_keys,
			label_values, run_hours, cpu_core_hours, cpu_request_core_hours, cpu_usage_core_hours, ram_byte_hours,
			ram_request_byte_hours, ram_usage_byte_hours, gpu_hours, cpu_cost, ram_cost, gpu_cost)
			SELECT cluster, toDate(%s + d * 86400), concat('node-', toString(c %% 300)), namespace, workload_kind, workload,
			       workload, 0, ['app'], [workload], 24., 12., 12., 6., 24. * 1073741824, 24. * 1073741824, 12. * 1073741824,
			       0., 12. * 0.0316, 24. * 0.0042, 0.
			FROM (SELECT number %% %d AS c, intDiv(number, %d) AS d, %s FROM numbers(%d))`,
			ts(firstDay), containers, containers, keys, containers*15),
		fmt.Sprintf(`INSERT INTO node_prices (cluster, hour, node, instance_type, capacity_type, currency, hourly_cost,
			cpu_core_hour_cost, ram_gib_hour_cost, gpu_hour_cost, source)
			SELECT 'bench', %s + h * 3600, concat('node-', toString(n)), 'm5.xlarge', 'on-demand', 'USD', 0.192, 0.0316,
			       0.0042, 0., 'bench'
			FROM (SELECT number %% 300 AS n, intDiv(number, 300) AS h FROM numbers(%d))`, ts(from), 300*14*24))

	return stmts
}
