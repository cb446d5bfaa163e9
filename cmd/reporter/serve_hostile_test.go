package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/api"
	"github.com/tally-finops/tally/internal/stacktest"
	"github.com/tally-finops/tally/internal/store/storetest"
)

// freeAddr is a loopback address nothing listens on, for reporter serve --listen.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs `reporter serve args` with env as its environment until the test sends
// SIGTERM (stopServe). It returns once base answers /readyz with 200 through client.
func startServe(t *testing.T, client *http.Client, base string, args []string, env map[string]string) (done chan int, stderr *syncBuffer) {
	t.Helper()
	stderr = &syncBuffer{}
	done = make(chan int, 1)
	go func() {
		done <- run(append([]string{"serve"}, args...), io.Discard, stderr, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := client.Get(base + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == 200 {
				return done, stderr
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, stderr.String())
		default:
		}
	}
	t.Fatalf("serve not ready after 20s: %s", stderr.String())
	return nil, nil
}

// stopServe sends SIGTERM and waits for serve to exit 0.
func stopServe(t *testing.T, done chan int, stderr *syncBuffer) {
	t.Helper()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after SIGTERM: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1, and its key, as PEM files in
// dir, and returns a pool that trusts it.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reporter serve test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for name, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(name, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// reporter serve with a certificate and key (from the environment) serves HTTPS, TLS 1.2
// at least, and nothing over plain HTTP.
func TestServeTLS(t *testing.T) {
	_, dsn := storetest.Open(t, "tally_serve_test", nil)
	certFile, keyFile, pool := writeCert(t, t.TempDir())
	addr := freeAddr(t)
	client := func(c *tls.Config) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: c}}
	}
	trusting := client(&tls.Config{RootCAs: pool})
	env := map[string]string{"TALLY_CLICKHOUSE_DSN": dsn, "TALLY_TLS_CERT_FILE": certFile, "TALLY_TLS_KEY_FILE": keyFile}
	done, stderr := startServe(t, trusting, "https://"+addr,
		[]string{"--listen", addr, "--cluster", "prod", "--weekly-schedule", "", "--token", "t0ken"}, env)

	req, _ := http.NewRequest("GET", "https://"+addr+"/api/v1/costs", nil)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := trusting.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("GET /api/v1/costs over HTTPS: %d, TLS %+v", resp.StatusCode, resp.TLS)
	}
	if _, err := client(&tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}).Get("https://" + addr + "/healthz"); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	var unknown *tls.CertificateVerificationError
	if _, err := client(&tls.Config{}).Get("https://" + addr + "/healthz"); !errors.As(err, &unknown) {
		t.Errorf("a client that does not trust the certificate: %v, want a verification error", err)
	}
	// net/http answers a plain HTTP request on a TLS port with a bare 400.
	if resp, err := http.Get("http://" + addr + "/healthz"); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP: %v, %v; want a 400", resp, err)
	} else {
		_ = resp.Body.Close()
	}
	stopServe(t, done, stderr)
	if !strings.Contains(stderr.String(), "tls=true") || !strings.Contains(stderr.String(), "TLS certificate loaded") {
		t.Errorf("log lacks the TLS lines:\n%s", stderr.String())
	}
}

func TestServeRejectsBadTLSFlags(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeCert(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("-----BEGIN NOTHING-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// ClickHouse is never dialled: the certificate is loaded first.
	args := []string{"--clickhouse-dsn", "clickhouse://u:secret@127.0.0.1:1/db", "--weekly-schedule", "", "--listen", freeAddr(t)}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"help", []string{"--help"}, nil, 0, "--tls-cert-file file\n      serve HTTPS with the certificate (chain) of this PEM file; needs --tls-key-file [TALLY_TLS_CERT_FILE]"},
		{"certificate without key", []string{"--tls-cert-file", certFile}, nil, 2, "--tls-cert-file and --tls-key-file go together"},
		{"key from the environment without certificate", nil, map[string]string{"TALLY_TLS_KEY_FILE": keyFile}, 2, "go together"},
		{"no such file", []string{"--tls-cert-file", filepath.Join(dir, "none.crt"), "--tls-key-file", keyFile}, nil, 1,
			"--tls-cert-file/--tls-key-file: TLS certificate files: stat " + filepath.Join(dir, "none.crt") + ": no such file"},
		{"not a key", []string{"--tls-cert-file", certFile, "--tls-key-file", garbage}, nil, 1, "load TLS certificate " + certFile + " and key " + garbage},
		{"bad cluster", []string{"--cluster", "prod eu"}, nil, 2, `--cluster: "prod eu" is not a cluster name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr syncBuffer
			code := run(append(append([]string{"serve"}, args...), tc.args...), io.Discard, &stderr,
				func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.want)
			}
			if strings.Contains(stderr.String(), "secret") {
				t.Errorf("stderr names the password: %s", stderr.String())
			}
		})
	}
}

// A client cannot hold a connection beyond the server's timeouts: not by sending its headers
// slowly (one byte at a time), not by never finishing a TLS handshake, not idle between
// requests; headers over api.MaxHeaderBytes are refused.
func TestServerTimeouts(t *testing.T) {
	if d := defaultTimeouts(30 * time.Second); d.readHeader <= 0 || d.read <= 0 || d.idle <= 0 || d.write != 45*time.Second {
		t.Errorf("defaultTimeouts(30s) = %+v", d)
	}
	h, err := api.New(api.Options{DefaultCluster: "prod"}, api.Deps{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	timeouts := serverTimeouts{readHeader: 300 * time.Millisecond, read: 500 * time.Millisecond, write: time.Second, idle: 400 * time.Millisecond}
	certFile, keyFile, _ := writeCert(t, t.TempDir())
	tlsConfig, err := api.TLSConfig(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	listen := func(tlsConfig *tls.Config) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := newHTTPServer(h, timeouts, tlsConfig, slog.New(slog.DiscardHandler))
		go func() {
			if tlsConfig != nil {
				_ = srv.ServeTLS(ln, "", "")
			} else {
				_ = srv.Serve(ln)
			}
		}()
		t.Cleanup(func() { _ = srv.Close() })
		return ln.Addr().String()
	}
	plain, secure := listen(nil), listen(tlsConfig)

	// closedWithin dials addr, runs send, and reports how long until the server closed the
	// connection (reads return EOF or an error); it fails after 5 s.
	closedWithin := func(t *testing.T, addr string, send func(net.Conn)) time.Duration {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); send(conn) }()
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.Copy(io.Discard, conn)
		took := time.Since(start)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the connection was still open after %v", took.Round(time.Millisecond))
		}
		_ = conn.Close()
		wg.Wait()
		return took
	}
	dribble := func(conn net.Conn) { // a header byte every 50 ms, for 3 s
		for _, b := range []byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 60)) {
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Run("headers sent a byte at a time", func(t *testing.T) {
		if took := closedWithin(t, plain, dribble); took > 2*time.Second {
			t.Errorf("closed after %v, want within about %v", took, timeouts.readHeader)
		}
	})
	t.Run("no TLS handshake", func(t *testing.T) {
		if took := closedWithin(t, secure, func(net.Conn) {}); took > 2*time.Second {
			t.Errorf("closed after %v, want within about %v", took, timeouts.readHeader)
		}
	})
	t.Run("idle after a request", func(t *testing.T) {
		took := closedWithin(t, plain, func(conn net.Conn) {
			_, _ = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		})
		if took < timeouts.idle/2 || took > 2*time.Second {
			t.Errorf("closed after %v, want after about the idle timeout %v", took, timeouts.idle)
		}
	})
	t.Run("headers over the limit", func(t *testing.T) {
		conn, err := net.Dial("tcp", plain)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", api.MaxHeaderBytes+8<<10) + "\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})
}

// tcpProxy forwards connections on a loopback address to target until it is cut: then it
// refuses new ones and closes those open, as a ClickHouse that went away.
type tcpProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); _ = u.Close() }()
			go func() { _, _ = io.Copy(c, u); _ = c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) cut() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
}

// The token, the DSN's password and a client's basic credentials appear in no log line, no
// response body and no /metrics output of reporter serve, whatever goes wrong: a missing or
// wrong token, bad parameters, ClickHouse going away, ClickHouse unreachable at start-up.
func TestServeSecretsNeverLeak(t *testing.T) {
	_, dsn := storetest.Open(t, "tally_serve_test", nil)
	user, password := stacktest.ClickHousePasswordUser(t)
	const token = "tok-5ecr3t-9f8e7d6c5b4a"
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host, u.User = proxy.ln.Addr().String(), url.UserPassword(user, password)
	secretDSN := u.String()
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	secrets := []string{token, password, basic, url.QueryEscape(password)}

	addr := freeAddr(t)
	base := "http://" + addr
	env := map[string]string{"TALLY_CLICKHOUSE_DSN": secretDSN, "TALLY_TOKEN": token}
	done, stderr := startServe(t, http.DefaultClient, base,
		[]string{"--listen", addr, "--cluster", "prod", "--weekly-schedule", "", "--query-timeout", "1s", "--log-level", "debug"}, env)

	var bodies []string
	get := func(path, auth string, want ...int) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		bodies = append(bodies, path+": "+string(body))
		for name, v := range resp.Header {
			bodies = append(bodies, name+": "+strings.Join(v, ","))
		}
		if !slices.Contains(want, resp.StatusCode) {
			t.Errorf("GET %s: %d %s, want %v", path, resp.StatusCode, body, want)
		}
	}
	bearer := "Bearer " + token
	get("/api/v1/costs", "", 401)
	get("/api/v1/costs", "Bearer "+token[:len(token)-1], 401)
	get("/api/v1/costs", "Bearer "+token+token, 401)
	get("/api/v1/costs", "Basic "+basic, 401)
	get("/api/v1/costs", bearer, 200)
	get("/api/v1/costs?cluster=%27+OR+1%3D1+--", bearer, 400)
	get("/api/v1/costs?window=fortnight&by=label:team", bearer, 400)
	get("/api/v1/costs?password=x&token=y", bearer, 400)
	get("/api/v1/rightsizing?namespace=a%0Ab", bearer, 400)
	get("/api/v1/qos?"+strings.Repeat("q", 5000), bearer, 414)

	proxy.cut() // ClickHouse goes away
	get("/api/v1/costs?window=7d", bearer, 502, 503)
	get("/api/v1/rightsizing", bearer, 502, 503)
	get("/readyz", "", 503)
	get("/metrics", "", 200)
	stopServe(t, done, stderr)

	// Unreachable from the start.
	u.Host = freeAddr(t)
	var startup syncBuffer
	code := run([]string{"serve", "--listen", freeAddr(t), "--weekly-schedule", ""}, io.Discard, &startup,
		func(k string) (string, bool) {
			v, ok := map[string]string{"TALLY_CLICKHOUSE_DSN": u.String(), "TALLY_TOKEN": token}[k]
			return v, ok
		})
	if code != 1 {
		t.Errorf("serve with an unreachable ClickHouse: exit %d, want 1: %s", code, startup.String())
	}

	logs := stderr.String()
	for _, want := range []string{"report failed", "error_id=", "readiness check: clickhouse does not answer"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q: the failures were not provoked\n%s", want, logs)
		}
	}
	for _, s := range secrets {
		for what, text := range map[string]string{"the log": logs, "the start-up error": startup.String(), "a response": strings.Join(bodies, "\n")} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the secret %q:\n%s", what, s, text)
			}
		}
	}
}
