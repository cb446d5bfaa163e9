package api

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckInterval is how often, at most, TLSConfig looks whether the certificate or key
// file has changed.
const certCheckInterval = 10 * time.Second

// TLSConfig is the configuration of an HTTPS server, TLS 1.2 at least, that serves the
// certificate and key of certFile and keyFile (PEM). The files are read again when either
// changes (looked at, at a handshake, at most every 10 s), so a renewed certificate is
// served without a restart; a renewal that cannot be loaded leaves the certificate in use
// and is logged. An error says which file could not be loaded and why; it holds nothing
// of the key.
func TLSConfig(certFile, keyFile string, logger *slog.Logger) (*tls.Config, error) {
	c, err := newCertFiles(certFile, keyFile, certCheckInterval, time.Now, logger)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get}, nil
}

// certFiles is a certificate and its key as last loaded from their files.
type certFiles struct {
	certFile, keyFile string
	every             time.Duration
	now               func() time.Time
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	version string // the files' sizes and modification times when cert was loaded
	checked time.Time
}

func newCertFiles(certFile, keyFile string, every time.Duration, now func() time.Time, logger *slog.Logger) (*certFiles, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &certFiles{certFile: certFile, keyFile: keyFile, every: every, now: now, log: logger.With("component", "api")}
	version, err := c.fileVersion()
	if err != nil {
		return nil, err
	}
	if c.cert, err = c.load(); err != nil {
		return nil, err
	}
	c.version, c.checked = version, now()
	return c, nil
}

// get is tls.Config.GetCertificate: the certificate, loaded again if its files changed.
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= c.every {
		c.checked = now
		// The version is read before the files: a change while they are read is seen next time.
		version, err := c.fileVersion()
		if err == nil && version != c.version {
			var cert *tls.Certificate
			if cert, err = c.load(); err == nil {
				c.cert, c.version = cert, version
			}
		}
		if err != nil {
			c.log.Warn("TLS certificate not reloaded: serving the one loaded before", "err", err)
		}
	}
	return c.cert, nil
}

func (c *certFiles) load() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", c.certFile, c.keyFile, err)
	}
	if leaf := cert.Leaf; leaf != nil {
		c.log.Info("TLS certificate loaded", "file", c.certFile, "subject", leaf.Subject.String(), "dns_names", leaf.DNSNames,
			"not_after", leaf.NotAfter.UTC())
		if c.now().After(leaf.NotAfter) {
			c.log.Warn("the TLS certificate has expired", "file", c.certFile, "not_after", leaf.NotAfter.UTC())
		}
	}
	return &cert, nil
}

// fileVersion identifies what the files hold by their sizes and modification times.
func (c *certFiles) fileVersion() (string, error) {
	var v string
	for _, name := range []string{c.certFile, c.keyFile} {
		info, err := os.Stat(name)
		if err != nil {
			return "", fmt.Errorf("TLS certificate files: %w", err)
		}
		v += fmt.Sprintf("%d@%d;", info.Size(), info.ModTime().UnixNano())
	}
	return v, nil
}
