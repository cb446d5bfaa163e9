package stacktest

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The stack's Prometheus serves the fixture that up.sh backfills (hack/stack/testdata):
// a counter rising 30 CPU-seconds a minute (0.5 cores) and a 256 MiB working set.
func TestStackPrometheusServesBackfilledFixture(t *testing.T) {
	base := PrometheusURL(t)
	at := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC).Unix()
	for query, want := range map[string]string{
		`container_memory_working_set_bytes{namespace="shop",pod="web-0",container="app"}`:          "268435456",
		`rate(container_cpu_usage_seconds_total{namespace="shop",pod="web-0",container="app"}[5m])`: "0.5",
	} {
		u := fmt.Sprintf("%s/api/v1/query?query=%s&time=%d", base, url.QueryEscape(query), at)
		var resp struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		getJSON(t, http.DefaultClient, u, "", &resp)
		if resp.Status != "success" || len(resp.Data.Result) != 1 {
			t.Fatalf("%s: %+v", query, resp)
		}
		if got := resp.Data.Result[0].Value[1]; got != want {
			t.Errorf("%s = %v, want %v", query, got, want)
		}
	}
}

// The stack's kube-apiserver accepts the kubeconfig's token, authorizes it as an admin, and
// serves the core API.
func TestStackKubeAPIServerAnswers(t *testing.T) {
	cfg, err := os.ReadFile(Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	server := regexp.MustCompile(`server:\s*(\S+)`).FindSubmatch(cfg)
	token := regexp.MustCompile(`token:\s*(\S+)`).FindSubmatch(cfg)
	if server == nil || token == nil {
		t.Fatalf("kubeconfig without server or token:\n%s", cfg)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the stack's self-signed certificate
	}}
	var version struct{ Major, Minor string }
	getJSON(t, client, string(server[1])+"/version", string(token[1]), &version)
	if version.Major != "1" || !strings.HasPrefix(version.Minor, "35") {
		t.Errorf("kube-apiserver version %+v, want 1.35", version)
	}
	var namespaces struct {
		Items []struct{ Metadata struct{ Name string } }
	}
	getJSON(t, client, string(server[1])+"/api/v1/namespaces", string(token[1]), &namespaces)
	found := false
	for _, ns := range namespaces.Items {
		found = found || ns.Metadata.Name == "default"
	}
	if !found {
		t.Errorf("namespace default missing from %+v", namespaces.Items)
	}
}

func getJSON(t *testing.T, c *http.Client, u, token string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, body)
	}
}
