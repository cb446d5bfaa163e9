// Package stacktest points integration tests at the real servers of the local stack
// (hack/stack/up.sh). Each lookup skips the test when the stack's variable is unset, unless
// TALLY_REQUIRE_STACK=1 (set by `make test` and CI), where a missing server fails the test
// instead: in CI an integration test never silently skips.
package stacktest

import (
	"os"
	"testing"
)

func lookup(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("TALLY_REQUIRE_STACK") == "1" {
		t.Fatalf("%s is not set: start the local stack with `make stack-up` and `eval \"$(hack/stack/env.sh)\"`", name)
	}
	t.Skipf("%s is not set: integration test skipped (run `make test`, which starts the local stack)", name)
	return ""
}

// ClickHouseDSN is the native-protocol DSN of the stack's ClickHouse server (user default,
// no password).
func ClickHouseDSN(t testing.TB) string { return lookup(t, "TALLY_TEST_CLICKHOUSE_DSN") }

// ClickHousePasswordUser returns a user of the stack's ClickHouse that has a password, and
// that password.
func ClickHousePasswordUser(t testing.TB) (user, password string) {
	return lookup(t, "TALLY_TEST_CLICKHOUSE_PASSWORD_USER"), lookup(t, "TALLY_TEST_CLICKHOUSE_PASSWORD")
}

// PrometheusURL is the base URL of the stack's Prometheus.
func PrometheusURL(t testing.TB) string { return lookup(t, "TALLY_TEST_PROMETHEUS_URL") }

// Kubeconfig is the path of a kubeconfig for the stack's kube-apiserver.
func Kubeconfig(t testing.TB) string { return lookup(t, "TALLY_TEST_KUBECONFIG") }

// PromAuthServer is the stack's second Prometheus, which requires TLS and basic auth.
type PromAuthServer struct {
	URL          string // https base URL
	CAFile       string // the CA that signed its certificate (PEM)
	User         string
	PasswordFile string // holds User's password
}

// PromAuth describes the stack's Prometheus behind TLS and basic auth (up.sh promauth).
func PromAuth(t testing.TB) PromAuthServer {
	return PromAuthServer{
		URL:          lookup(t, "TALLY_TEST_PROMAUTH_URL"),
		CAFile:       lookup(t, "TALLY_TEST_PROMAUTH_CA"),
		User:         lookup(t, "TALLY_TEST_PROMAUTH_USER"),
		PasswordFile: lookup(t, "TALLY_TEST_PROMAUTH_PASSWORD_FILE"),
	}
}

// VictoriaURL is the base URL of the stack's single-node VictoriaMetrics (up.sh victoria).
func VictoriaURL(t testing.TB) string { return lookup(t, "TALLY_TEST_VICTORIA_URL") }

// Cluster is the local real single-node Kubernetes cluster (hack/cluster/up.sh): its own API
// server, a kubelet running real containers, kube-state-metrics and a Prometheus scraping
// them as kube-prometheus-stack does.
type Cluster struct {
	Kubeconfig    string // admin kubeconfig
	PrometheusURL string
	Node          string // the node's name
}

// RealCluster describes the local test cluster (`eval "$(hack/cluster/env.sh)"`).
func RealCluster(t testing.TB) Cluster {
	return Cluster{
		Kubeconfig:    lookup(t, "TALLY_TEST_CLUSTER_KUBECONFIG"),
		PrometheusURL: lookup(t, "TALLY_TEST_CLUSTER_PROMETHEUS_URL"),
		Node:          lookup(t, "TALLY_TEST_CLUSTER_NODE"),
	}
}
