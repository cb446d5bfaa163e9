package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/store/storetest"
)

// A container opted in to CPU request = limit (by its pods' label) and throttled by its CPU
// limit gets one answer from `reporter rightsize` and `reporter qos`. Before, rightsize removed
// the limit while qos set request = limit = the p95, which throttles it more.
//
// Two days of pay/api/app: 0.2 cores each minute, 0.6 in the first minute of every hour
// (p95 0.2, max 0.6), throttled in half of its CFS periods, request 0.25 and limit 0.3 cores,
// labelled tally.dev/guaranteed-cpu=true. Both must say request = limit =
// max(p95 0.2, current limit 0.3, max 0.6) = 0.6 cores.
func TestOptedInThrottledContainerGetsOneAnswer(t *testing.T) {
	s, dsn := storetest.Open(t, "tally_oneanswer", nil)
	ctx := context.Background()
	end := time.Date(2026, 3, 16, 6, 0, 0, 0, time.UTC)
	start := end.Add(-48 * time.Hour)
	wl := model.WorkloadRef{Kind: "Deployment", Name: "api"}
	var samples []model.UsageSample
	var containers []model.Container
	for at := start; at.Before(end); at = at.Add(time.Minute) {
		cpu := 0.2
		if at.Minute() == 0 {
			cpu = 0.6
		}
		samples = append(samples, model.UsageSample{Cluster: "prod", Timestamp: at, Namespace: "pay", Workload: wl, Pod: "api-0",
			Container: "app", CPUUsageCores: cpu, MemoryWorkingSetBytes: 200 << 20, CPUThrottledPeriods: 300, CPUPeriods: 600})
		if at.Minute() == 30 || at.Add(time.Minute).Equal(end) {
			containers = append(containers, model.Container{Cluster: "prod", ObservedAt: at, Namespace: "pay", Pod: "api-0", PodUID: "u",
				Container: "app", Node: "n1", Phase: "Running", QoSClass: "Burstable", Workload: wl, CPURequestCores: 0.25,
				CPULimitCores: 0.3, MemoryRequestBytes: 256 << 20, MemoryLimitBytes: 256 << 20, StartedAt: start,
				Labels: map[string]string{"tally.dev/guaranteed-cpu": "true"}})
		}
	}
	if err := s.InsertUsageSamples(ctx, samples); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertContainers(ctx, containers); err != nil {
		t.Fatal(err)
	}
	window := start.Format(time.RFC3339) + "," + end.Format(time.RFC3339)
	args := []string{"--clickhouse-dsn", dsn, "--cluster", "prod", "--window", window, "--format", "json"}

	var out, errOut bytes.Buffer
	if code := rs(args, &out, &errOut); code != 0 {
		t.Fatalf("rightsize exit %d: %s", code, errOut.String())
	}
	type resources struct{ CPURequest, CPULimit *float64 }
	var recs []struct {
		Container   string    `json:"container"`
		Recommended resources `json:"recommended"`
		Flags       []string  `json:"flags"`
	}
	if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
		t.Fatalf("rightsize JSON: %v\n%s", err, out.String())
	}
	if len(recs) != 1 || recs[0].Recommended.CPURequest == nil || recs[0].Recommended.CPULimit == nil ||
		*recs[0].Recommended.CPURequest != 0.6 || *recs[0].Recommended.CPULimit != 0.6 {
		t.Fatalf("rightsize = %s; want CPU request = limit = 0.6", out.String())
	}

	out.Reset()
	errOut.Reset()
	if code := qs(append(args, "--at", end.Format(time.RFC3339)), &out, &errOut); code != 0 {
		t.Fatalf("qos exit %d: %s", code, errOut.String())
	}
	var rep struct {
		Findings []struct {
			Container string    `json:"container"`
			Set       resources `json:"set"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("qos JSON: %v\n%s", err, out.String())
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Set.CPURequest == nil || rep.Findings[0].Set.CPULimit == nil ||
		*rep.Findings[0].Set.CPURequest != 0.6 || *rep.Findings[0].Set.CPULimit != 0.6 {
		t.Fatalf("qos = %s; want CPU request = limit = 0.6, as rightsize says", out.String())
	}
}
