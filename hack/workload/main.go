// Command workload is the container image of the local test cluster (hack/cluster): a process
// whose CPU and memory use are known in advance, so that tests can compare what tally measures
// with what the pod really did.
//
//	workload [--cpu CORES] [--memory BYTES] [--grow-memory BYTES_PER_SEC] [--child-oom]
//	         [--duration D]
//	workload pause
//
// --cpu burns CORES cores of the process's own CPU time (getrusage), sleeping whenever it is
// ahead of target; above one core it uses several goroutines. --memory maps BYTES of anonymous
// memory, touches every page once and keeps it resident. --grow-memory adds BYTES_PER_SEC every
// second until the kernel kills the process (a container OOM kill). --child-oom starts a child
// copy of the program that grows its memory until the kernel kills the child while this process
// (PID 1 of the container) keeps running; it repeats every --child-oom-interval (default 1m;
// 0 = once). --duration makes the process exit 0 after D (for Jobs). Sizes accept the
// Kubernetes suffixes Ki, Mi, Gi, Ti and k, M, G, T.
//
// "pause" sleeps until SIGTERM or SIGINT and reaps zombie children: it doubles as the pod
// sandbox (pause) image. Every mode exits 0 on SIGTERM, which matters for PID 1, where signals
// without a handler are ignored.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options is what the command line asks for.
type options struct {
	cpuCores         float64
	memoryBytes      int64
	growBytesPerSec  int64
	childOOM         bool
	childOOMInterval time.Duration
	childOOMRate     int64
	duration         time.Duration
	oomVictim        bool // set in the child started by --child-oom
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "pause" {
		os.Exit(pause())
	}
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "workload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "workload:", err)
		os.Exit(1)
	}
}

// parseFlags turns the command line into options, rejecting values that make no sense.
func parseFlags(args []string, out io.Writer) (options, error) {
	var opts options
	fs := flag.NewFlagSet("workload", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Float64Var(&opts.cpuCores, "cpu", 0, "cores of CPU time to burn (0.2 = a fifth of a core)")
	fs.Var((*byteSize)(&opts.memoryBytes), "memory", "bytes to allocate, touch and keep resident (64Mi, 1Gi, 100M)")
	fs.Var((*byteSize)(&opts.growBytesPerSec), "grow-memory", "bytes per second to add until the kernel kills the process")
	fs.BoolVar(&opts.childOOM, "child-oom", false, "run a child that grows its memory until the kernel kills it; this process keeps running")
	fs.DurationVar(&opts.childOOMInterval, "child-oom-interval", time.Minute, "with --child-oom: start a new child this long after the last one died (0 = only once)")
	opts.childOOMRate = 64 << 20
	fs.Var((*byteSize)(&opts.childOOMRate), "child-oom-rate", "with --child-oom: the child's growth in bytes per second")
	fs.DurationVar(&opts.duration, "duration", 0, "exit 0 after this long (0 = run until stopped)")
	fs.BoolVar(&opts.oomVictim, "oom-victim", false, "internal: make this process the OOM killer's first choice")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q (the only mode is \"pause\", given first)", fs.Arg(0))
	}
	switch {
	case math.IsNaN(opts.cpuCores) || math.IsInf(opts.cpuCores, 0) || opts.cpuCores < 0:
		return options{}, fmt.Errorf("--cpu must be a number of cores >= 0, got %v", opts.cpuCores)
	case opts.cpuCores > 1024:
		return options{}, fmt.Errorf("--cpu %v is more cores than any machine has", opts.cpuCores)
	case opts.duration < 0:
		return options{}, fmt.Errorf("--duration must not be negative, got %v", opts.duration)
	case opts.childOOMInterval < 0:
		return options{}, fmt.Errorf("--child-oom-interval must not be negative, got %v", opts.childOOMInterval)
	case opts.childOOM && opts.childOOMRate <= 0:
		return options{}, errors.New("--child-oom-rate must be positive")
	}
	return opts, nil
}

// byteSize is a flag.Value for sizes such as 64Mi, 1Gi, 100M or 4096.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

var byteSuffixes = []struct {
	suffix string
	factor float64
}{
	// Two-letter suffixes first, so "Mi" is not read as "M".
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}

// parseBytes reads a byte count with an optional Kubernetes-style suffix. Fractions are allowed
// with a suffix ("1.5Gi") and rounded down to whole bytes.
func parseBytes(s string) (int64, error) {
	num, factor := strings.TrimSpace(s), 1.0
	for _, u := range byteSuffixes {
		if strings.HasSuffix(num, u.suffix) {
			num, factor = strings.TrimSuffix(num, u.suffix), u.factor
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("invalid size %q (want e.g. 4096, 64Mi, 1Gi, 100M)", s)
	}
	bytes := v * factor
	if bytes < 0 || bytes > 1<<50 {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return int64(bytes), nil
}

// run does what the options ask for until ctx ends, --duration passes or the kernel kills it.
func run(ctx context.Context, opts options) error {
	if opts.oomVictim {
		// Raising one's own OOM score needs no privilege.
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte("1000"), 0); err != nil {
			fmt.Fprintln(os.Stderr, "workload: cannot raise oom_score_adj:", err)
		}
	}
	if opts.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.duration)
		defer cancel()
	}
	fmt.Printf("workload: pid %d cpu=%v memory=%d grow-memory=%d/s child-oom=%v duration=%v\n",
		os.Getpid(), opts.cpuCores, opts.memoryBytes, opts.growBytesPerSec, opts.childOOM, opts.duration)

	var held [][]byte
	if opts.memoryBytes > 0 {
		b, err := allocate(opts.memoryBytes)
		if err != nil {
			return err
		}
		held = append(held, b)
		fmt.Printf("workload: holding %d bytes\n", opts.memoryBytes)
	}
	if opts.cpuCores > 0 {
		go burnCPU(ctx, opts.cpuCores)
	}
	if opts.childOOM {
		go childOOMLoop(ctx, opts)
	}
	if opts.growBytesPerSec > 0 {
		if err := grow(ctx, opts.growBytesPerSec, &held); err != nil {
			return err
		}
	}
	<-ctx.Done()
	keepAlive(held)
	fmt.Println("workload: done")
	return nil
}

// allocate maps n bytes of anonymous memory and writes to every page, so all of it is resident
// (and in the container's working set) at once. It is outside the Go heap: the GC never sees it.
func allocate(n int64) ([]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("map %d bytes: %w", n, err)
	}
	page := os.Getpagesize()
	for i := 0; i < len(b); i += page {
		b[i] = 1
	}
	return b, nil
}

// grow adds rate/10 bytes every 100 ms until ctx ends (or the kernel kills the process).
func grow(ctx context.Context, rate int64, held *[][]byte) error {
	step := max(rate/10, int64(os.Getpagesize()))
	var total int64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		b, err := allocate(step)
		if err != nil {
			return err
		}
		*held = append(*held, b)
		total += step
		if time.Since(last) >= time.Second {
			fmt.Printf("workload: holding %d bytes\n", total)
			last = time.Now()
		}
	}
}

//go:noinline
func keepAlive(held [][]byte) {
	for _, b := range held {
		if len(b) > 0 && b[0] != 1 {
			fmt.Println("workload: memory changed under us")
		}
	}
}

// childOOMLoop starts a child copy of this program that grows its memory until the kernel's OOM
// killer ends it (the child raises its own oom_score_adj so that it, not PID 1, is chosen), then
// does it again every opts.childOOMInterval (0: only once).
func childOOMLoop(ctx context.Context, opts options) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "workload: cannot find own executable:", err)
		return
	}
	for n := 1; ; n++ {
		cmd := exec.CommandContext(ctx, self, "--oom-victim", "--grow-memory", strconv.FormatInt(opts.childOOMRate, 10))
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		fmt.Printf("workload: starting child %d to be OOM-killed\n", n)
		err := cmd.Run()
		if ctx.Err() != nil {
			return
		}
		fmt.Printf("workload: child %d ended: %v\n", n, err)
		if opts.childOOMInterval == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(opts.childOOMInterval):
		}
	}
}

// pause is the sandbox container: it sleeps, reaps children, and exits 0 on SIGTERM/SIGINT.
func pause() int {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			return 0
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
	return 0
}
