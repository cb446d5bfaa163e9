package main

import (
	"io"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "4096", want: 4096},
		{in: "64Mi", want: 64 << 20},
		{in: "100Mi", want: 100 << 20},
		{in: "1Gi", want: 1 << 30},
		{in: "1.5Gi", want: 3 << 29},
		{in: "2Ki", want: 2048},
		{in: "100M", want: 100_000_000},
		{in: "5k", want: 5000},
		{in: "1T", want: 1_000_000_000_000},
		{in: "0", want: 0},
		{in: "", wantErr: true},
		{in: "Mi", wantErr: true},
		{in: "-1Mi", wantErr: true},
		{in: "12MB", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "1e20", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseBytes(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseBytes(%q) = %d, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseBytes(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    options
		wantErr bool
	}{
		{
			name: "defaults",
			want: options{childOOMInterval: time.Minute, childOOMRate: 64 << 20},
		},
		{
			name: "cpu and memory",
			args: []string{"--cpu", "0.2", "--memory", "100Mi"},
			want: options{cpuCores: 0.2, memoryBytes: 100 << 20, childOOMInterval: time.Minute, childOOMRate: 64 << 20},
		},
		{
			name: "job",
			args: []string{"--cpu=1.5", "--duration=2m", "--grow-memory=8Mi"},
			want: options{cpuCores: 1.5, duration: 2 * time.Minute, growBytesPerSec: 8 << 20, childOOMInterval: time.Minute, childOOMRate: 64 << 20},
		},
		{
			name: "child oom once",
			args: []string{"--child-oom", "--child-oom-interval=0", "--child-oom-rate=32Mi"},
			want: options{childOOM: true, childOOMRate: 32 << 20},
		},
		{name: "negative cpu", args: []string{"--cpu", "-1"}, wantErr: true},
		{name: "nan cpu", args: []string{"--cpu", "NaN"}, wantErr: true},
		{name: "bad size", args: []string{"--memory", "lots"}, wantErr: true},
		{name: "negative duration", args: []string{"--duration", "-1s"}, wantErr: true},
		{name: "stray argument", args: []string{"--cpu", "1", "extra"}, wantErr: true},
		{name: "unknown flag", args: []string{"--gpu", "1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseFlags(%q) = %+v, want an error", tt.args, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			}
			if got != tt.want {
				t.Fatalf("parseFlags(%q) = %+v, want %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestCPUPlanNext(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name                string
		cores               float64
		used, elapsed       time.Duration
		wantSleep, wantDebt time.Duration
	}{
		// 0.2 cores for 1 s = 200 ms target.
		{name: "on target", cores: 0.2, used: 200 * ms, elapsed: time.Second},
		{name: "behind keeps burning", cores: 0.2, used: 150 * ms, elapsed: time.Second},
		// 10 ms ahead at 0.2 cores: sleep 50 ms, during which the target grows by 10 ms.
		{name: "ahead sleeps", cores: 0.2, used: 210 * ms, elapsed: time.Second, wantSleep: 50 * ms},
		// 2 cores, 100 ms ahead: sleep 50 ms.
		{name: "two cores ahead", cores: 2, used: 2100 * ms, elapsed: time.Second, wantSleep: 50 * ms},
		// 0.5 cores, max debt 1 s; 10 s in and 2.5 s used: 2.5 s behind, forgive 1.5 s.
		{name: "debt is capped", cores: 0.5, used: 2500 * ms, elapsed: 10 * time.Second, wantDebt: 1500 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sleep, debt := newCPUPlan(tt.cores).next(tt.used, tt.elapsed)
			if !near(sleep, tt.wantSleep) || !near(debt, tt.wantDebt) {
				t.Fatalf("next(%v, %v) = sleep %v, forgive %v; want %v, %v", tt.used, tt.elapsed, sleep, debt, tt.wantSleep, tt.wantDebt)
			}
		})
	}
}

// TestCPUPlanConverges drives the controller with a simulated clock: workers burn at full speed
// until told to sleep. The long-run rate must equal the target.
func TestCPUPlanConverges(t *testing.T) {
	for _, cores := range []float64{0.05, 0.2, 1, 1.5} {
		plan := newCPUPlan(cores)
		n := workers(cores)
		var used, elapsed, forgiven time.Duration
		for elapsed < 10*time.Minute {
			elapsed += spinSlice
			used += time.Duration(n) * spinSlice
			sleep, forgive := plan.next(used+forgiven, elapsed)
			forgiven += forgive
			elapsed += sleep
		}
		got := float64(used) / float64(elapsed)
		if got < cores*0.99 || got > cores*1.01 {
			t.Errorf("cores %v: simulated rate %.4f", cores, got)
		}
	}
}

func TestWorkers(t *testing.T) {
	for cores, want := range map[float64]int{0.1: 1, 1: 1, 1.01: 2, 2: 2, 3.5: 4} {
		if got := workers(cores); got != want {
			t.Errorf("workers(%v) = %d, want %d", cores, got, want)
		}
	}
}

func near(a, b time.Duration) bool {
	d := a - b
	return d > -time.Microsecond && d < time.Microsecond
}
