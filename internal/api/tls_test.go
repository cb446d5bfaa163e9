package api

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given serial number,
// and its key, as PEM files in dir.
func writeCert(t *testing.T, dir string, serial int64) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "tally test"},
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
	return certFile, keyFile
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, 1)
	cfg, err := TLSConfig(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x, want TLS 1.2", cfg.MinVersion)
	}
	if cert, err := cfg.GetCertificate(&tls.ClientHelloInfo{}); err != nil || cert.Leaf.SerialNumber.Int64() != 1 {
		t.Errorf("GetCertificate: %v", err)
	}

	_, otherKey := writeCert(t, t.TempDir(), 2)
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"no certificate file", filepath.Join(dir, "none.crt"), keyFile, "none.crt: no such file"},
		{"no key file", certFile, filepath.Join(dir, "none.key"), "none.key: no such file"},
		{"the key of another certificate", certFile, otherKey, "private key does not match public key"},
		{"key and certificate swapped", keyFile, certFile, "load TLS certificate " + keyFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TLSConfig(tc.cert, tc.key, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one with %q", err, tc.want)
			}
			if key, _ := os.ReadFile(tc.key); len(key) > 0 && strings.Contains(err.Error(), string(key[30:60])) {
				t.Errorf("the error holds the key: %v", err)
			}
		})
	}
}

// A renewed certificate is served from the next check on; a renewal that cannot be loaded
// leaves the one in use.
func TestTLSCertificateReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, 1)
	clock := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	var log bytes.Buffer
	c, err := newCertFiles(certFile, keyFile, time.Minute, func() time.Time { return clock }, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	serial := func() int64 {
		t.Helper()
		cert, err := c.get(nil)
		if err != nil {
			t.Fatal(err)
		}
		return cert.Leaf.SerialNumber.Int64()
	}
	renew := func(serial int64) {
		t.Helper()
		writeCert(t, dir, serial)
		mtime := clock.Add(time.Duration(serial) * time.Second) // file systems with coarse times
		for _, f := range []string{certFile, keyFile} {
			if err := os.Chtimes(f, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
	renew(2)
	if got := serial(); got != 1 {
		t.Errorf("serial %d within the check interval, want 1", got)
	}
	clock = clock.Add(time.Minute)
	if got := serial(); got != 2 {
		t.Errorf("serial %d after the renewal, want 2", got)
	}
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	if got := serial(); got != 2 {
		t.Errorf("serial %d after a broken renewal, want 2 still", got)
	}
	if !strings.Contains(log.String(), "TLS certificate not reloaded") {
		t.Errorf("log lacks the failed reload:\n%s", log.String())
	}
	renew(3)
	clock = clock.Add(time.Minute)
	if got := serial(); got != 3 {
		t.Errorf("serial %d after a good renewal, want 3", got)
	}
}
