package collector

import (
	"fmt"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/model"
)

// A kill the API reported (stamped with its finish time) is not counted again by the
// kube-state-metrics event of the step that follows it; kills the API did not see stay, and
// so do kills of processes.
func TestWithoutKillsSeen(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.TimeOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	kill := func(pod, reason, ts string, n uint32) model.ContainerEvent {
		return model.ContainerEvent{Timestamp: at(ts), Namespace: "ns", Pod: pod, Container: "c", Kind: model.EventOOMKill, Reason: reason, Count: n}
	}
	stored := []model.ContainerEvent{
		kill("a", "OOMKilled", "08:54:24", 1), // the API saw a's kill
		kill("b", "OOMKilled", "08:49:59", 1), // before b's step window: not the same kill
		kill("c", "OOMKilled", "08:50:00", 1), // a step's own event, not the API's
	}
	events := []model.ContainerEvent{
		kill("a", "OOMKilled", "08:55:00", 1),        // the API's kill again: dropped
		kill("b", "OOMKilled", "08:55:00", 2),        // two kills, the API saw none in the step
		kill("c", "OOMKilled", "08:55:00", 1),        // stays
		kill("a", "ProcessOOMKilled", "08:55:00", 3), // processes: never reported by the API
	}
	got := withoutKillsSeen(events, stored, 5*time.Minute)
	want := map[string]uint32{"b/OOMKilled": 2, "c/OOMKilled": 1, "a/ProcessOOMKilled": 3}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %v", got, want)
	}
	for _, e := range got {
		if want[e.Pod+"/"+e.Reason] != e.Count {
			t.Errorf("%s/%s: count %d, want %d", e.Pod, e.Reason, e.Count, want[e.Pod+"/"+e.Reason])
		}
	}
	// A step with two kills of which the API saw one keeps the other.
	got = withoutKillsSeen([]model.ContainerEvent{kill("a", "OOMKilled", "08:55:00", 2)}, stored, 5*time.Minute)
	if len(got) != 1 || got[0].Count != 1 {
		t.Errorf("two kills, one seen: %+v, want one of count 1", got)
	}
}

// The memory of written events keeps the recent ones only: it does not grow for the life of
// the process.
func TestForgetEvents(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	written := map[string]time.Time{}
	for i := range 24 * 60 { // a day of events, one a minute
		written[fmt.Sprint(i)] = now.Add(-time.Duration(i) * time.Minute)
	}
	forgetEvents(written, now.Add(-eventMemory))
	if len(written) != int(eventMemory/time.Minute)+1 {
		t.Errorf("%d events remembered, want the %d of the last %s", len(written), int(eventMemory/time.Minute)+1, eventMemory)
	}
	for k, at := range written {
		if at.Before(now.Add(-eventMemory)) {
			t.Errorf("event %s at %s kept", k, at)
		}
	}
}
