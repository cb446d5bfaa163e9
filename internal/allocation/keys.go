package allocation

import (
	"fmt"
	"strings"

	"github.com/tally-finops/tally/internal/model"
)

// Aggregation keys. A label key is LabelPrefix followed by the label's name, e.g. label:team.
const (
	KeyCluster   = "cluster"
	KeyNode      = "node"
	KeyNamespace = "namespace"
	KeyWorkload  = "workload"
	KeyApp       = "app"
	LabelPrefix  = "label:"
)

const keysWanted = "cluster, node, namespace, workload, app or label:<key>"

// ParseKeys parses a comma-separated list of aggregation keys, e.g. "namespace,label:team".
// Spaces around a key are ignored. An unknown, empty or repeated key is an error naming it.
func ParseKeys(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("no aggregation key (want %s)", keysWanted)
	}
	parts := strings.Split(s, ",")
	keys := make([]string, 0, len(parts))
	for _, p := range parts {
		keys = append(keys, strings.TrimSpace(p))
	}
	if err := checkKeys(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// checkKeys reports the first key that is unknown, empty or repeated, or that there is none.
func checkKeys(keys []string) error {
	if len(keys) == 0 {
		return fmt.Errorf("no aggregation key (want %s)", keysWanted)
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return err
		}
		if seen[k] {
			return fmt.Errorf("aggregation key %q is given twice", k)
		}
		seen[k] = true
	}
	return nil
}

func checkKey(k string) error {
	switch k {
	case KeyCluster, KeyNode, KeyNamespace, KeyWorkload, KeyApp:
		return nil
	case "":
		return fmt.Errorf("empty aggregation key (want %s)", keysWanted)
	}
	label, ok := strings.CutPrefix(k, LabelPrefix)
	if !ok {
		return fmt.Errorf("unknown aggregation key %q (want %s)", k, keysWanted)
	}
	if label == "" {
		return fmt.Errorf("aggregation key %q names no label (want e.g. label:team)", k)
	}
	for _, r := range label {
		if !labelRune(r) {
			return fmt.Errorf("aggregation key %q: %q cannot be part of a label name", k, r)
		}
	}
	return nil
}

// labelRune reports whether r may appear in a Kubernetes label key ([prefix/]name).
func labelRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '-' || r == '_' || r == '.' || r == '/'
}

// NeedsNamespaceLabels reports whether grouping by keys reads labels, and so falls back to
// namespace labels (Options.Namespaces) for a pod that lacks one.
func NeedsNamespaceLabels(keys []string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, LabelPrefix) {
			return true
		}
	}
	return false
}

// namespaceKey names a namespace of a cluster.
type namespaceKey struct{ cluster, namespace string }

// keyer extracts the value of one aggregation key from a row.
type keyer struct {
	kind  string // one of the Key constants, or LabelPrefix for a label
	label string
}

func newKeyers(keys []string) []keyer {
	ks := make([]keyer, len(keys))
	for i, k := range keys {
		if label, ok := strings.CutPrefix(k, LabelPrefix); ok {
			ks[i] = keyer{kind: LabelPrefix, label: label}
		} else {
			ks[i] = keyer{kind: k}
		}
	}
	return ks
}

// appendValue appends the row's value for the key to b: UnallocatedName when it has none.
// A label the pod lacks (or has empty) is looked up in the labels of its namespace, ns.
func (k keyer) appendValue(b []byte, r *model.Allocation, ns map[namespaceKey]map[string]string) []byte {
	var v string
	switch k.kind {
	case KeyCluster:
		v = r.Cluster
	case KeyNode:
		v = r.Node
	case KeyNamespace:
		v = r.Namespace
	case KeyWorkload:
		if r.Workload.Kind == "" {
			v = r.Workload.Name // a row that is no workload's, e.g. UnmountedName
			break
		}
		b = append(b, r.Workload.Kind...)
		b = append(b, '/')
		return append(b, r.Workload.Name...)
	case KeyApp:
		v = r.App
	default:
		v = r.Labels[k.label]
		if v == "" && ns != nil {
			v = ns[namespaceKey{r.Cluster, r.Namespace}][k.label]
		}
	}
	if v == "" {
		v = UnallocatedName
	}
	return append(b, v...)
}
