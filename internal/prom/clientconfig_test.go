package prom

import (
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client certificate, all in
// PEM files in a temporary folder.
type testPKI struct {
	dir                string
	caFile             string
	pool               *x509.CertPool
	server             tls.Certificate
	clientCert, client string // client certificate and key files
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{dir: dir, caFile: filepath.Join(dir, "ca.crt"), pool: x509.NewCertPool()}
	now := time.Now()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tally test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p.pool.AddCert(ca)
	writePEM(t, p.caFile, "CERTIFICATE", caDER)

	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, dns []string) ([]byte, *ecdsa.PrivateKey) {
		key := newKey(t)
		der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: ips, DNSNames: dns,
		}, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, key
	}
	srvDER, srvKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.IPv4(127, 0, 0, 1)}, []string{"prometheus.example"})
	p.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "tally", x509.ExtKeyUsageClientAuth, nil, nil)
	p.clientCert, p.client = filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	writePEM(t, p.clientCert, "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.client, "EC PRIVATE KEY", keyDER)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, name, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsServer serves h over TLS with the PKI's server certificate; clientCerts requires and
// verifies a client certificate.
func (p *testPKI) tlsServer(t *testing.T, h http.Handler, clientCerts bool) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are what some tests want
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.server}}
	if clientCerts {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = p.pool
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configClient loads yaml as an http config file and returns a Client for url with it.
func configClient(t *testing.T, url, yaml string, opts Options) (*Client, error) {
	t.Helper()
	cfg, err := LoadHTTPConfigFile(writeFile(t, t.TempDir(), "prometheus.yml", yaml))
	if err != nil {
		t.Fatalf("load http config: %v", err)
	}
	opts.URL, opts.HTTPConfig = url, cfg
	if opts.Retry.MinBackoff == 0 {
		opts.Retry.MinBackoff = time.Millisecond
	}
	return New(opts, nil)
}

// authRecorder answers every query with an empty result and records the credentials and
// headers it saw.
type authRecorder struct {
	mu      sync.Mutex
	auth    []string // Authorization headers
	headers []http.Header
	want    string // an Authorization header to require; "" accepts all
}

func (a *authRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.auth = append(a.auth, r.Header.Get("Authorization"))
	a.headers = append(a.headers, r.Header.Clone())
	want := a.want
	a.mu.Unlock()
	if want != "" && r.Header.Get("Authorization") != want {
		w.Header().Set("WWW-Authenticate", "Basic")
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	fmt.Fprint(w, emptyMatrix)
}

func (a *authRecorder) last() (string, http.Header) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.auth) == 0 {
		return "", nil
	}
	return a.auth[len(a.auth)-1], a.headers[len(a.headers)-1]
}

func basic(user, password string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, password)
	return r.Header.Get("Authorization")
}

// Every option of the http config file reaches the server: CA, client certificate, server
// name, basic auth from a password file, bearer tokens from a credentials file, extra headers.
// Credentials files are read again on every request.
func TestHTTPConfigFile(t *testing.T) {
	pki := newTestPKI(t)
	rec := &authRecorder{}
	srv := pki.tlsServer(t, rec, true)
	dir := t.TempDir()
	passwordFile := writeFile(t, dir, "password", "s3cret-one\n")
	tokenFile := writeFile(t, dir, "token", "tok-one")
	tlsBlock := fmt.Sprintf("tls_config:\n  ca_file: %s\n  cert_file: %s\n  key_file: %s\n", pki.caFile, pki.clientCert, pki.client)

	t.Run("basic auth from a password file", func(t *testing.T) {
		c, err := configClient(t, srv.URL, tlsBlock+"basic_auth:\n  username: tally\n  password_file: "+passwordFile+"\n", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := oneQuery(c); err != nil {
			t.Fatal(err)
		}
		if got, _ := rec.last(); got != basic("tally", "s3cret-one") {
			t.Fatalf("Authorization %q", got)
		}
		writeFile(t, dir, "password", "s3cret-two")
		if err := oneQuery(c); err != nil {
			t.Fatal(err)
		}
		if got, h := rec.last(); got != basic("tally", "s3cret-two") || h.Get("User-Agent") != userAgent {
			t.Fatalf("after the file changed: Authorization %q, User-Agent %q", got, h.Get("User-Agent"))
		}
	})
	t.Run("bearer token from a credentials file and extra headers", func(t *testing.T) {
		yaml := tlsBlock + "authorization:\n  credentials_file: " + tokenFile + "\n" +
			"http_headers:\n  X-Scope-OrgID:\n    values: [tenant-1]\n"
		c, err := configClient(t, srv.URL, yaml, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := oneQuery(c); err != nil {
			t.Fatal(err)
		}
		got, h := rec.last()
		if got != "Bearer tok-one" || h.Get("X-Scope-OrgID") != "tenant-1" {
			t.Fatalf("Authorization %q, X-Scope-OrgID %q", got, h.Get("X-Scope-OrgID"))
		}
		writeFile(t, dir, "token", "tok-two")
		if err := oneQuery(c); err != nil {
			t.Fatal(err)
		}
		if got, _ := rec.last(); got != "Bearer tok-two" {
			t.Fatalf("after the file changed: Authorization %q", got)
		}
	})
	t.Run("server name", func(t *testing.T) {
		c, err := configClient(t, srv.URL, tlsBlock+"  server_name: prometheus.example\n", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := oneQuery(c); err != nil {
			t.Fatal(err)
		}
		c, err = configClient(t, srv.URL, tlsBlock+"  server_name: other.example\n", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := oneQuery(c); err == nil || !strings.Contains(err.Error(), "other.example") || c.QueryCount() != 1 {
			t.Fatalf("wrong server name: err %v after %d requests, want a certificate error, not retried", err, c.QueryCount())
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		c, err := configClient(t, srv.URL, "tls_config:\n  ca_file: "+pki.caFile+"\n", Options{Retry: Retry{Attempts: 2}})
		if err != nil {
			t.Fatal(err)
		}
		if err := oneQuery(c); err == nil {
			t.Fatal("a server that requires a client certificate answered without one")
		}
	})
	t.Run("missing CA", func(t *testing.T) {
		c, err := configClient(t, srv.URL, "basic_auth:\n  username: tally\n  password_file: "+passwordFile+"\n", Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = oneQuery(c)
		if err == nil || !strings.Contains(err.Error(), "certificate") || c.QueryCount() != 1 {
			t.Fatalf("err %v after %d requests, want a certificate error, not retried", err, c.QueryCount())
		}
	})
	t.Run("insecure skip verify", func(t *testing.T) {
		yaml := fmt.Sprintf("tls_config:\n  insecure_skip_verify: true\n  cert_file: %s\n  key_file: %s\n", pki.clientCert, pki.client)
		c, err := configClient(t, srv.URL, yaml, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := oneQuery(c); err != nil {
			t.Fatal(err)
		}
	})
}

// A wrong password is a clear error that is not retried and shows neither password.
func TestHTTPConfigWrongPassword(t *testing.T) {
	rec := &authRecorder{want: basic("tally", "right-s3cret")}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := LoadHTTPConfigFile(writeFile(t, t.TempDir(), "p.yml", "basic_auth:\n  username: tally\n  password: wrong-s3cret\n"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{URL: srv.URL, HTTPConfig: cfg, Retry: Retry{MinBackoff: time.Millisecond}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	err = oneQuery(c)
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("err = %v, want a 401 that points at the credentials", err)
	}
	if c.QueryCount() != 1 {
		t.Fatalf("%d requests, want 1: a wrong password is not retried", c.QueryCount())
	}
	for _, text := range []string{err.Error(), logs.String()} {
		if strings.Contains(text, "s3cret") {
			t.Fatalf("a password shows: %s", text)
		}
	}
}

// A bad config file is refused when it is loaded, naming the field and line, never showing
// a value from the file.
func TestLoadHTTPConfigFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown field", "basic_auth:\n  username: tally\n  passwrd: hunter2-s3cret\n", []string{"line 3", "passwrd"}},
		{"wrong type", "basic_auth: hunter2-s3cret\n", []string{"line 1", "cannot unmarshal", "value hidden"}},
		{"wrong type of a flag", "tls_config:\n  insecure_skip_verify: hunter2-s3cret\n", []string{"line 2", "bool"}},
		{"two passwords", "basic_auth:\n  username: tally\n  password: hunter2-s3cret\n  password_file: /x\n", []string{"password", "password_file"}},
		{"two kinds of credentials", "basic_auth:\n  username: tally\n  password: hunter2-s3cret\nauthorization:\n  credentials: hunter2-s3cret\n", []string{"basic_auth", "authorization"}},
		{"reserved header", "http_headers:\n  Authorization:\n    secrets: [hunter2-s3cret]\n", []string{"Authorization", "not allowed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, t.TempDir(), "prometheus.yml", tc.yaml)
			_, err := LoadHTTPConfigFile(file)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range append(tc.want, file) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error shows a secret: %s", msg)
			}
		})
	}
	if _, err := LoadHTTPConfigFile(filepath.Join(t.TempDir(), "missing.yml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if cfg, err := LoadHTTPConfigFile(""); cfg != nil || err != nil {
		t.Errorf("no file: %v, %v", cfg, err)
	}
}

// Credentials in the URL still work, and never together with the config file's.
func TestHTTPConfigAndURLUser(t *testing.T) {
	cfg, err := LoadHTTPConfigFile(writeFile(t, t.TempDir(), "p.yml", "basic_auth:\n  username: a\n  password: b-s3cret\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{URL: "http://tally:url-s3cret@prometheus:9090", HTTPConfig: cfg}, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v, want a conflict that shows no password", err)
	}
	headers, err := LoadHTTPConfigFile(writeFile(t, t.TempDir(), "p.yml", "http_headers:\n  X-Scope-OrgID:\n    values: [t1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &authRecorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := New(Options{URL: strings.Replace(srv.URL, "http://", "http://tally:url-s3cret@", 1), HTTPConfig: headers}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := oneQuery(c); err != nil {
		t.Fatal(err)
	}
	if got, h := rec.last(); got != basic("tally", "url-s3cret") || h.Get("X-Scope-OrgID") != "t1" {
		t.Fatalf("Authorization %q, X-Scope-OrgID %q", got, h.Get("X-Scope-OrgID"))
	}
}

// proxy_url sends the requests through a proxy; follow_redirects decides whether a redirect
// is followed.
func TestHTTPConfigProxyAndRedirects(t *testing.T) {
	var proxied atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Store(r.URL.Host) // a proxy is asked for the absolute URL
		fmt.Fprint(w, emptyMatrix)
	}))
	t.Cleanup(proxy.Close)
	c, err := configClient(t, "http://prometheus.invalid:9090", "proxy_url: "+proxy.URL+"\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := oneQuery(c); err != nil {
		t.Fatal(err)
	}
	if got, _ := proxied.Load().(string); got != "prometheus.invalid:9090" {
		t.Fatalf("proxy saw host %q", got)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/moved") {
			http.Redirect(w, r, "/moved"+r.URL.RequestURI(), http.StatusFound)
			return
		}
		fmt.Fprint(w, emptyMatrix)
	}))
	t.Cleanup(srv.Close)
	c, err = configClient(t, srv.URL, "follow_redirects: true\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := oneQuery(c); err != nil {
		t.Fatalf("follow_redirects true: %v", err)
	}
	c, err = configClient(t, srv.URL, "follow_redirects: false\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := oneQuery(c); err == nil || !strings.Contains(err.Error(), "302") || c.QueryCount() != 1 {
		t.Fatalf("follow_redirects false: err %v after %d requests, want a 302 error", err, c.QueryCount())
	}
}

// Answers are asked for gzipped, and decoded.
func TestGzipAnswers(t *testing.T) {
	var gzipped atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			fmt.Fprint(w, emptyMatrix)
			return
		}
		gzipped.Add(1)
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		fmt.Fprint(zw, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"a","pod":"b","container":"c","id":"d"},"values":[[1767225600,"1"]]}]}}`)
		zw.Close()
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, Options{})
	tab, err := fetch[instanceLabels](context.Background(), c, rangeRequest("cpu usage", queryCPUSeconds, t0, time.Minute, 2), 0)
	if err != nil {
		t.Fatal(err)
	}
	if gzipped.Load() != 1 || tab.rows() != 1 || tab.at(0, 0) != 1 {
		t.Fatalf("gzipped answers %d, rows %d", gzipped.Load(), tab.rows())
	}
}

// Connections are reused: however many queries run, a Client opens no more connections than
// its concurrency.
func TestConnectionsFollowConcurrency(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		fmt.Fprint(w, emptyMatrix)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	const concurrency = 4
	c := newTestClient(t, srv.URL, Options{Concurrency: concurrency})
	err := runTasks(context.Background(), 60, 10, func(ctx context.Context, _ int) error {
		_, err := fetch[instanceLabels](ctx, c, rangeRequest("cpu usage", queryCPUSeconds, t0, time.Minute, 2), 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n > concurrency || n == 0 {
		t.Fatalf("%d connections for 60 queries, want at most %d", n, concurrency)
	}
}

// The example in docs/collector.md is a valid config file.
func TestDocumentedHTTPConfig(t *testing.T) {
	doc, err := os.ReadFile("../../docs/collector.md")
	if err != nil {
		t.Skipf("docs not found: %v", err)
	}
	_, after, ok := strings.Cut(string(doc), "## Connecting to Prometheus")
	_, after, ok2 := strings.Cut(after, "```yaml\n")
	example, _, ok3 := strings.Cut(after, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/collector.md has no yaml example under \"Connecting to Prometheus\"")
	}
	cfg, err := LoadHTTPConfigFile(writeFile(t, t.TempDir(), "prometheus.yml", example))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Authorization == nil || cfg.TLSConfig.CAFile == "" || cfg.ProxyURL.URL == nil || cfg.HTTPHeaders == nil {
		t.Fatalf("the example lost options: %+v", cfg)
	}
}
