//go:build tools

// Package kubernetes pins the Kubernetes release whose binaries the local stack builds and runs:
// the control plane, the kubelet and kubectl, all from one `go build` so they share one build.
// It is a module of its own so that k8s.io/kubernetes never enters tally's dependencies.
package kubernetes

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
