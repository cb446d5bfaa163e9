// Package realcluster holds tally's end-to-end suite on a real Kubernetes node: the local test
// cluster of hack/cluster (an API server, a kubelet running real containers of hack/workload,
// kube-state-metrics, and a Prometheus scraping them as kube-prometheus-stack does). The suite
// runs workloads whose CPU and memory use are set in their arguments, runs the collector
// binary against the cluster as a user would, and checks what tally stored and computed
// against those configured values. It has no code outside its tests.
package realcluster
