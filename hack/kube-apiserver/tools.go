//go:build tools

// Package kubeapiserver pins the kube-apiserver that the local stack builds and runs.
// It is a module of its own so that k8s.io/kubernetes never enters tally's dependencies.
package kubeapiserver

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
