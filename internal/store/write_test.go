package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

func TestUsageSampleOrder(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 3, 2, 10, m, 0, 0, time.UTC) }
	x := func(ns, pod string, m int) model.UsageSample {
		return model.UsageSample{Cluster: "c", Namespace: ns, Workload: model.WorkloadRef{Kind: "Deployment", Name: "w"},
			Pod: pod, Container: "app", Timestamp: at(m)}
	}
	// As a scrape delivers them: minute by minute, containers in any order.
	in := []model.UsageSample{x("b", "p1", 0), x("a", "p2", 0), x("a", "p1", 0), x("b", "p1", 1), x("a", "p2", 1), x("a", "p1", 1)}
	order := usageSampleOrder(in)
	var got []string
	for _, i := range order {
		got = append(got, fmt.Sprintf("%s/%s@%d", in[i].Namespace, in[i].Pod, in[i].Timestamp.Minute()))
	}
	want := []string{"a/p1@0", "a/p1@1", "a/p2@0", "a/p2@1", "b/p1@0", "b/p1@1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("order = %v, want %v", got, want)
	}
	if in[0].Namespace != "b" {
		t.Error("usageSampleOrder reordered the caller's slice")
	}
	sorted := []model.UsageSample{x("a", "p1", 0), x("a", "p1", 1), x("a", "p2", 0)}
	if order := usageSampleOrder(sorted); order != nil {
		t.Errorf("sorted input: order = %v, want nil (no copy)", order)
	}
}
