//go:build chdb

package sql_test

import (
	"testing"
	"time"
)

// The rightsizing and qos queries, on conformance_chdb_test.go's dataset (and the
// recommendations below, loaded with it).

// recommendation row: cluster, day, window_start, window_end, namespace, workload_kind,
// workload, container, current cpu request/limit, memory request/limit, recommended cpu
// request/limit, memory request/limit (NULL = unset), monthly_savings, currency, risk, flags,
// evidence, risk_note
var (
	recWebApp = []any{"c1", day(d2), d1, d2, "shop", "Deployment", "web", "app", 0.5, 1.0, 1073741824.0, 2147483648.0,
		0.25, nil, 536870912.0, 536870912.0, 9.0, "USD", "low", none, "cpu p95 0.250 cores over 1d", ""}
	recWebAppAgain = []any{"c1", day(d2), d1, d2, "shop", "Deployment", "web", "app", 0.5, 1.0, 1073741824.0, 2147483648.0,
		0.25, nil, 536870912.0, 536870912.0, 10.5, "USD", "medium", []string{"hpa"}, "cpu p95 0.250 cores over 1d", "scaled by an HPA on cpu"}
	recYoung = []any{"c1", day(d2), d1, d2, "shop", "Deployment", "young", "app", nil, nil, nil, nil,
		nil, nil, nil, nil, 0.0, "USD", "high", []string{"insufficient-data"}, "cpu p95 0.000 cores over 2h", "insufficient data"}
	recOther = []any{"c2", day(d2), d1, d2, "shop", "Deployment", "web", "app", 9.0, 9.0, 9.0, 9.0,
		9.0, 9.0, 9.0, 9.0, 9.0, "EUR", "low", none, "", ""}
)

// sizingReads runs the rightsizing, qos, backtest and recommendations queries.
func (c *conformance) sizingReads(t *testing.T) {
	t.Run("select_usage_namespaces", func(t *testing.T) {
		res := c.query(t, "select_usage_namespaces", window("c1", h10, h12))
		res.wantColumns(t, "namespace", "String")
		res.wantRows(t, []any{"shop"})
		res = c.query(t, "select_usage_namespaces", window("c1", d3, d3.Add(time.Hour)))
		res.wantRows(t)
	})

	t.Run("select_rightsizing_stats", func(t *testing.T) {
		p := window("c1", h10, h12)
		p["namespaces"], p["ns_min"], p["ns_max"] = []string{"shop"}, "shop", "shop"
		p["days_from"], p["days_to"] = h10.Unix(), h10.Unix() // no whole day
		res := c.queryWith(t, "select_rightsizing_stats", map[string]string{"quantile": "0.95"}, p)
		res.wantColumns(t, "namespace", "String", "workload_kind", "String", "workload", "String", "container", "String",
			"samples_n", "UInt64", "cpu_q", "Float64", "cpu_peak", "Float64", "mem_peak", "Float64",
			"throttled_n", "Float64", "periods_n", "Float64", "pods_n", "UInt64", "first_at", "UInt32", "last_at", "UInt32",
			"has_current", "UInt8", "cur_cpu_request", "Float64", "cur_cpu_limit", "Float64",
			"cur_mem_request", "Float64", "cur_mem_limit", "Float64", "oom_kills", "UInt64", "oom_limit", "Float64",
			"hpa_resources", "Array(String)", "cpu_rate", "Float64", "ram_rate", "Float64")
		// shop/web in [10:00, 12:00) of d1, from the hourly rollup:
		//   app:   s1 s2 s3 s4 (web-a) and s6 s7 s8 (web-b): 7 samples of 0.5 1.5 1.0 2.0 0.25 0.75
		//          0.5 cores, p95 the 7th of 7 (⌈0.95 × 7⌉), max 2.0, peak 4000 B, throttled
		//          0+3+1+2+0+1+0 = 7 of 10+10+10+12+5+5+5 = 57 periods; 2 pods; first 10:00;
		//          web-a's last sample is s5 at 12:00, after the window: clipped to 11:59.
		//          Current: the latest snapshot in the last day, web-a's at 11:00 (0.5/1 cores,
		//          1/2 GiB; the 12:00 one is out). OOM: ev1 (1 kill under 2 GiB). HPA: web's
		//          11:00 snapshot, cpu and memory (12:00 is out).
		//          Unit prices from cost_daily of d1 (a1 a2 a3 a4 a8, not idle a5 nor c2's a7):
		//          CPU (0.75+0.25+1.0+0.375+0.125) / (1.5+0.5+2.0+0.75+0.25) = 2.5 / 5 = 0.5;
		//          RAM (0.25+0.125+0.5+0.0625+0.03125) / ((3000+1000+4000+2000+500) / 2^30)
		//          = 0.96875 × 1073741824 / 10500 = 99065.4659...
		//   proxy: s9 alone: 1 sample of 0.125 cores and 100 B, 10 periods; web-a's proxy
		//          snapshot at 10:00 (0.125 cores, no CPU limit, 128 MiB, no memory limit).
		ramRate := between(99065.46, 99065.47)
		res.wantRows(t,
			[]any{"shop", "Deployment", "web", "app", 7, atMax(2.0), 2.0, 4000.0, 7.0, 57.0, 2,
				uint32(h10.Unix()), uint32(minute(h12, -1).Unix()), 1, 0.5, 1.0, 1073741824.0, 2147483648.0,
				1, 2147483648.0, []string{"cpu", "memory"}, 0.5, ramRate},
			[]any{"shop", "Deployment", "web", "proxy", 1, 0.125, 0.125, 100.0, 0.0, 10.0, 1,
				uint32(h10.Unix()), uint32(h10.Unix()), 1, 0.125, 0.0, 134217728.0, 0.0,
				0, 0.0, []string{"cpu", "memory"}, 0.5, ramRate})

		// Another namespace: nothing.
		p["namespaces"], p["ns_min"], p["ns_max"] = []string{"kube-system"}, "kube-system", "kube-system"
		res = c.queryWith(t, "select_rightsizing_stats", map[string]string{"quantile": "0.95"}, p)
		res.wantRows(t)
	})

	t.Run("select_running_containers", func(t *testing.T) {
		res := c.query(t, "select_running_containers", window("c1", h10, h12))
		res.wantColumns(t, "namespace", "String", "pod", "String", "container", "String", "node", "String",
			"qos_class", "String", "workload_kind", "String", "workload", "String",
			"cpu_request_cores", "Float64", "cpu_limit_cores", "Float64",
			"memory_request_bytes", "UInt64", "memory_limit_bytes", "UInt64",
			"label_keys", "Array(String)", "label_values", "Array(String)", "working_set", "Float64")
		// The latest snapshot of c1 in [10:00, 12:00) is 11:00's: web-a/app alone (12:00 is
		// out); its latest working set in the window is s4's 4000 B.
		res.wantRows(t, []any{"shop", "web-a", "app", "n1", "Burstable", "Deployment", "web", 0.5, 1.0,
			1073741824, 2147483648, appLabelKeys, appLabelValues, 4000.0})
	})

	t.Run("select_backtest", func(t *testing.T) {
		p := window("c1", h10, h12)
		p["ns_min"], p["ns_max"] = "shop", "shop"
		p["t_namespaces"], p["t_kinds"] = []string{"shop", "shop"}, []string{"Deployment", "Deployment"}
		p["t_workloads"], p["t_containers"] = []string{"web", "web"}, []string{"app", "proxy"}
		p["t_cpu"], p["t_mem"] = []float64{1.0, 0.1}, []float64{2500, 50}
		res := c.query(t, "select_backtest", p)
		res.wantColumns(t, "namespace", "String", "workload_kind", "String", "workload", "String", "container", "String",
			"samples_n", "UInt64", "cpu_over", "UInt64", "mem_over", "UInt64", "mem_peak", "Float64")
		// app: s1-s4, s6-s8 (s5 is at 12:00): CPU 0.5 1.5 1.0 2.0 0.25 0.75 0.5 above 1.0: 1.5
		// and 2.0; working set 1000 3000 2000 4000 500 1500 2500 above 2500: 3000 and 4000
		// (equal does not count); peak 4000. proxy: s9, 0.125 > 0.1 and 100 > 50.
		res.wantRows(t,
			[]any{"shop", "Deployment", "web", "app", 7, 2, 2, 4000.0},
			[]any{"shop", "Deployment", "web", "proxy", 1, 1, 1, 100.0})
	})

	t.Run("recommendations", func(t *testing.T) {
		res := c.query(t, "count_recommendations", window("c1", d2, d3))
		res.wantRows(t, []any{3}) // recWebApp, its recomputation (not merged yet) and recYoung
		res = c.query(t, "count_recommendations", window("c1", d1, d2))
		res.wantRows(t, []any{0})
		res = c.query(t, "select_recommendations", window("c1", d2, d3))
		res.wantColumns(t, "day", "Date", "window_start", "DateTime('UTC')", "window_end", "DateTime('UTC')",
			"namespace", "String", "workload_kind", "String", "workload", "String", "container", "String",
			"current_cpu_request_cores", "Nullable(Float64)", "current_cpu_limit_cores", "Nullable(Float64)",
			"current_memory_request_bytes", "Nullable(Float64)", "current_memory_limit_bytes", "Nullable(Float64)",
			"cpu_request_cores", "Nullable(Float64)", "cpu_limit_cores", "Nullable(Float64)",
			"memory_request_bytes", "Nullable(Float64)", "memory_limit_bytes", "Nullable(Float64)",
			"monthly_savings", "Float64", "currency", "String", "risk", "String", "flags", "Array(String)",
			"evidence", "String", "risk_note", "String")
		// FINAL keeps the later insert of web/app; c2's row is another cluster's.
		res.wantRows(t, rowOut(recWebAppAgain[1:]), rowOut(recYoung[1:]))
	})

	t.Run("select_unit_prices", func(t *testing.T) {
		res := c.query(t, "select_unit_prices", window("c1", h10, h12))
		res.wantColumns(t, "unit_currency", "String", "cpu_rate", "Float64", "ram_rate", "Float64", "price_rows", "UInt64")
		// n1 at 10:00 and 11:00, n2 at 10:00 as corrected (FINAL): CPU (0.03125 × 2 + 0.046875) / 3
		// = 0.109375 / 3, RAM (0.00390625 × 2 + 0.005859375) / 3 = 0.013671875 / 3.
		res.wantRows(t, []any{"USD", between(0.0364583, 0.0364584), between(0.00455729, 0.0045573), 3})
	})
}
