package recommend

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/tally-finops/tally/internal/store"
)

func TestSelected(t *testing.T) {
	all := []string{"a", "b", "c"}
	if got := selected(all, nil); !reflect.DeepEqual(got, all) {
		t.Errorf("selected(all, none) = %v, want all", got)
	}
	if got := selected(all, []string{"c", "x", "a"}); !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Errorf("selected(all, c x a) = %v, want [a c] (in the store's order, unknown x dropped)", got)
	}
}

// namespaceBatches cuts after every store.NamespacesPerBatch namespaces, never inside one.
func TestNamespaceBatches(t *testing.T) {
	var ts []store.Threshold
	n := store.NamespacesPerBatch + 2 // two batches: 64 namespaces, then 2
	for i := range n {
		for c := range 3 {
			ts = append(ts, store.Threshold{Namespace: fmt.Sprintf("ns-%03d", i), Container: fmt.Sprint(c)})
		}
	}
	got := namespaceBatches(ts)
	if len(got) != 2 || len(got[0]) != 3*store.NamespacesPerBatch || len(got[1]) != 6 {
		t.Fatalf("batches of %d, %d…; want %d then 6 thresholds", len(got[0]), len(got[len(got)-1]), 3*store.NamespacesPerBatch)
	}
	if last, next := got[0][len(got[0])-1].Namespace, got[1][0].Namespace; last == next {
		t.Errorf("namespace %s split across batches", last)
	}
	if got := namespaceBatches(nil); got != nil {
		t.Errorf("no thresholds = %v, want no batch", got)
	}
}
