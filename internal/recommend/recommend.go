// Package recommend reads what rightsizing and the request = limit (qos) rules need from the
// store and applies them. It is the one place `reporter rightsize`, `reporter qos`, the
// backtest, the collector's daily snapshot and the HTTP API get recommendations from; the
// rules themselves live in the pure packages rightsizing and qos.
package recommend

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tally-finops/tally/internal/model"
	"github.com/tally-finops/tally/internal/qos"
	"github.com/tally-finops/tally/internal/rightsizing"
	"github.com/tally-finops/tally/internal/store"
)

// OptInLabel is the pod label by which a workload opts in to CPU request = limit.
const OptInLabel = "tally.dev/guaranteed-cpu"

// snapshotLookback is how far back from the moment a qos report describes the latest
// inventory snapshot is looked for: the inventory runs every minute.
const snapshotLookback = time.Hour

// Request says what to recommend for: a cluster's window [From, To), optionally only some
// namespaces, under a policy.
type Request struct {
	Cluster    string
	From, To   time.Time
	Namespaces []string // all when empty
	Policy     rightsizing.Policy
}

func (r Request) window() store.Window {
	return store.Window{Cluster: r.Cluster, From: r.From.UTC(), To: r.To.UTC()}
}

// Validate checks the request before any query runs.
func (r Request) Validate() error {
	if r.Cluster == "" {
		return fmt.Errorf("no cluster")
	}
	if !r.From.Before(r.To) {
		return fmt.Errorf("empty window [%s, %s)", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
	}
	return r.Policy.Validate()
}

// Rightsizing returns a recommendation for every workload container with samples in the
// window, sorted by monthly savings, and the currency they are priced in. The statistics
// come from one query per batch of store.NamespacesPerBatch namespaces.
func Rightsizing(ctx context.Context, st *store.Store, r Request) ([]rightsizing.Recommendation, string, error) {
	if err := r.Validate(); err != nil {
		return nil, "", fmt.Errorf("rightsizing: %w", err)
	}
	w := r.window()
	all, err := st.UsageNamespaces(ctx, w)
	if err != nil {
		return nil, "", err
	}
	prices, _, err := st.UnitPrices(ctx, w)
	if err != nil {
		return nil, "", err
	}
	optedIn, err := optIns(ctx, st, r)
	if err != nil {
		return nil, "", err
	}
	var recs []rightsizing.Recommendation
	for batch := range slices.Chunk(selected(all, r.Namespaces), store.NamespacesPerBatch) {
		usage, err := st.WorkloadUsage(ctx, w, batch, r.Policy.CPUPercentile/100)
		if err != nil {
			return nil, "", err
		}
		for _, u := range usage {
			s := rightsizing.StatsFrom(u, w.To.Sub(w.From), r.Policy.CPUPercentile, prices)
			s.GuaranteedCPU = optedIn[qos.Key{Cluster: u.Cluster, Namespace: u.Namespace, Workload: u.Workload, Container: u.Container}]
			recs = append(recs, rightsizing.Recommend(s, r.Policy))
		}
	}
	rightsizing.Sort(recs)
	return recs, prices.Currency, nil
}

// optIns are the workload containers whose running pods, at the window's end, carry
// OptInLabel=true: rightsizing sizes them for CPU request = limit, as `reporter qos` sets it,
// so that the two give one answer.
func optIns(ctx context.Context, st *store.Store, r Request) (map[qos.Key]bool, error) {
	recent := store.Window{Cluster: r.Cluster, From: r.To.UTC().Add(-snapshotLookback), To: r.To.UTC().Add(time.Second)}
	running, err := st.RunningContainers(ctx, recent)
	if err != nil {
		return nil, err
	}
	out := map[qos.Key]bool{}
	for _, c := range running {
		if c.Labels[OptInLabel] == "true" {
			out[qos.Key{Cluster: c.Cluster, Namespace: c.Namespace, Workload: c.Workload, Container: c.Container.Container}] = true
		}
	}
	return out, nil
}

// selected returns the namespaces of all that are in want, or all of them when want is empty.
func selected(all, want []string) []string {
	if len(want) == 0 {
		return all
	}
	var out []string
	for _, ns := range all {
		if slices.Contains(want, ns) {
			out = append(out, ns)
		}
	}
	return out
}

// QoSOptions are the request = limit choices: CPU request = limit for every workload
// (GuaranteedCPU) or only those labelled OptInLabel=true, and how many kill candidates to
// show per node.
type QoSOptions struct {
	GuaranteedCPU bool
	KillOrderTop  int
	// At is the moment whose running containers are described: the latest inventory snapshot
	// in the hour before it. Zero means the window's end.
	At time.Time
}

// QoSReport is what `reporter qos` shows.
type QoSReport struct {
	Findings []qos.Finding
	Nodes    []qos.NodeReport
	// SnapshotAt is the end of the look-back the running containers were read from.
	SnapshotAt time.Time
}

// QoS returns the request = limit findings for the containers running at o.At (by default
// the end of r's window), sized by the window's rightsizing recommendations, and each node's
// memory overcommit and kill order.
func QoS(ctx context.Context, st *store.Store, r Request, o QoSOptions) (QoSReport, error) {
	recs, _, err := Rightsizing(ctx, st, r)
	if err != nil {
		return QoSReport{}, err
	}
	return QoSWith(ctx, st, r, o, recs)
}

// QoSWith is QoS with the window's recommendations already made (by Rightsizing with the
// same request), so a caller that shows both computes them once.
func QoSWith(ctx context.Context, st *store.Store, r Request, o QoSOptions, recs []rightsizing.Recommendation) (QoSReport, error) {
	sizing := make(map[qos.Key]qos.Sizing, len(recs))
	for _, rec := range recs {
		k := qos.Key{Cluster: rec.Cluster, Namespace: rec.Namespace, Workload: rec.Workload, Container: rec.Container}
		sizing[k] = qos.Sizing{CPURequestCores: rec.Recommended.CPURequest, MemoryBytes: rec.Recommended.MemoryLimit}
	}
	at := o.At
	if at.IsZero() {
		at = r.To
	}
	recent := store.Window{Cluster: r.Cluster, From: at.UTC().Add(-snapshotLookback), To: at.UTC().Add(time.Second)}
	running, err := st.RunningContainers(ctx, recent)
	if err != nil {
		return QoSReport{}, err
	}
	snapshots, err := st.Nodes(ctx, recent)
	if err != nil {
		return QoSReport{}, err
	}
	var containers []qos.Container
	for _, c := range running {
		if len(r.Namespaces) > 0 && !slices.Contains(r.Namespaces, c.Namespace) {
			continue
		}
		containers = append(containers, qosContainer(c))
	}
	return QoSReport{
		Findings:   qos.Findings(containers, sizing, qos.Policy{GuaranteedCPU: o.GuaranteedCPU}),
		Nodes:      qos.Nodes(containers, latestNodes(snapshots), o.KillOrderTop),
		SnapshotAt: recent.To,
	}, nil
}

func qosContainer(c model.RunningContainer) qos.Container {
	set := func(v float64) *float64 {
		if v <= 0 {
			return nil
		}
		return &v
	}
	return qos.Container{
		Cluster: c.Cluster, Namespace: c.Namespace, Workload: c.Workload, Pod: c.Pod, Container: c.Container.Container,
		Node: c.Node, QoSClass: c.QoSClass,
		Current: rightsizing.Resources{
			CPURequest: set(c.CPURequestCores), CPULimit: set(c.CPULimitCores),
			MemoryRequest: set(float64(c.MemoryRequestBytes)), MemoryLimit: set(float64(c.MemoryLimitBytes)),
		},
		MemoryWorkingSetBytes: c.MemoryWorkingSetBytes,
		CPUOptIn:              c.Labels[OptInLabel] == "true",
	}
}

// latestNodes keeps each node's latest snapshot.
func latestNodes(snapshots []model.Node) []qos.Node {
	latest := map[string]model.Node{}
	for _, n := range snapshots {
		if prev, ok := latest[n.Name]; !ok || n.ObservedAt.After(prev.ObservedAt) {
			latest[n.Name] = n
		}
	}
	out := make([]qos.Node, 0, len(latest))
	for _, n := range latest {
		out = append(out, qos.Node{Cluster: n.Cluster, Name: n.Name,
			MemoryAllocatableBytes: float64(n.MemoryAllocatableBytes), MemoryCapacityBytes: float64(n.MemoryCapacityBytes)})
	}
	slices.SortFunc(out, func(a, b qos.Node) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Backtest computes recommendations from r's window and scores each against the window that
// follows it, [r.To, laterTo): its samples above the recommended CPU request and memory limit,
// and the change in requests actually made by laterTo, priced. Sorted as the recommendations.
func Backtest(ctx context.Context, st *store.Store, r Request, laterTo time.Time) ([]rightsizing.Backtest, string, error) {
	if !r.To.Before(laterTo) {
		return nil, "", fmt.Errorf("backtest: the later window [%s, %s) is empty", r.To.UTC().Format(time.RFC3339), laterTo.UTC().Format(time.RFC3339))
	}
	recs, currency, err := Rightsizing(ctx, st, r)
	if err != nil {
		return nil, "", err
	}
	later := store.Window{Cluster: r.Cluster, From: r.To.UTC(), To: laterTo.UTC()}
	prices, _, err := st.UnitPrices(ctx, later)
	if err != nil {
		return nil, "", err
	}

	// The thresholds to score, by namespace, in batches.
	var thresholds []store.Threshold
	for _, rec := range recs {
		if rec.Recommended.CPURequest != nil && rec.Recommended.MemoryLimit != nil {
			thresholds = append(thresholds, store.Threshold{Namespace: rec.Namespace, Workload: rec.Workload, Container: rec.Container,
				CPURequestCores: *rec.Recommended.CPURequest, MemoryLimitBytes: *rec.Recommended.MemoryLimit})
		}
	}
	slices.SortFunc(thresholds, func(a, b store.Threshold) int { return cmp.Compare(a.Namespace, b.Namespace) })
	type key struct {
		ns        string
		wl        model.WorkloadRef
		container string
	}
	outcomes := map[key]rightsizing.Outcome{}
	for _, batch := range namespaceBatches(thresholds) {
		ex, err := st.Exceedances(ctx, later, batch)
		if err != nil {
			return nil, "", err
		}
		for _, e := range ex {
			outcomes[key{e.Namespace, e.Workload, e.Container}] = rightsizing.Outcome{
				Samples: e.Samples, CPUOverRequest: e.CPUOverRequest, MemoryOverLimit: e.MemoryOverLimit, MemoryPeakBytes: e.MemoryPeakBytes}
		}
		// What was set by the end of the later window, and at what price.
		var nss []string
		for _, t := range batch {
			if len(nss) == 0 || nss[len(nss)-1] != t.Namespace {
				nss = append(nss, t.Namespace)
			}
		}
		usage, err := st.WorkloadUsage(ctx, later, nss, r.Policy.CPUPercentile/100)
		if err != nil {
			return nil, "", err
		}
		for _, u := range usage {
			k := key{u.Namespace, u.Workload, u.Container}
			o, ok := outcomes[k]
			if !ok {
				continue
			}
			s := rightsizing.StatsFrom(u, later.To.Sub(later.From), r.Policy.CPUPercentile, prices)
			o.HasLater = u.HasCurrent
			o.CPURequestCores, o.MemoryRequestBytes = u.CPURequestCores, u.MemoryRequestBytes
			o.Replicas, o.CPUCoreHourCost, o.RAMGiBHourCost = s.Replicas, s.CPUCoreHourCost, s.RAMGiBHourCost
			outcomes[k] = o
		}
	}
	out := make([]rightsizing.Backtest, len(recs))
	for i, rec := range recs {
		out[i] = rightsizing.Score(rec, outcomes[key{rec.Namespace, rec.Workload, rec.Container}], r.Policy)
	}
	return out, currency, nil
}

// namespaceBatches splits thresholds sorted by namespace into batches of at most
// store.NamespacesPerBatch namespaces, a namespace never split.
func namespaceBatches(ts []store.Threshold) [][]store.Threshold {
	var (
		out   [][]store.Threshold
		start int
		count int
	)
	for i := range ts {
		if i > 0 && ts[i].Namespace != ts[i-1].Namespace {
			count++
			if count == store.NamespacesPerBatch {
				out = append(out, ts[start:i])
				start, count = i, 0
			}
		}
	}
	if start < len(ts) {
		out = append(out, ts[start:])
	}
	return out
}
