//go:build tools

// Package kubestatemetrics pins the kube-state-metrics release that the local test cluster
// (hack/cluster) runs. It is a module of its own so that kube-state-metrics and its
// dependencies never enter tally's own go.mod.
package kubestatemetrics

import (
	_ "k8s.io/kube-state-metrics/v2"
)
