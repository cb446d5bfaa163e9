package prom

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/prometheus/common/config"
)

// HTTPConfig is how tally connects to Prometheus: the http_config of Prometheus's own
// configuration (authorization with credentials or credentials_file, basic_auth with
// password or password_file, oauth2, tls_config, proxy_url, http_headers, follow_redirects,
// enable_http2). It is prometheus/common's type, named here so that commands can hold one
// without importing the Prometheus libraries themselves.
type HTTPConfig = config.HTTPClientConfig

// LoadHTTPConfigFile reads an HTTPConfig from a YAML file, the way Prometheus reads its
// http_config: unknown fields are errors, and relative paths in it are relative to the
// file's folder. An empty name returns nil, the defaults. Its errors name the field and
// line that are wrong but never repeat a value from the file: it may hold a password.
func LoadHTTPConfigFile(name string) (*HTTPConfig, error) {
	if name == "" {
		return nil, nil
	}
	cfg, _, err := config.LoadHTTPConfigFile(name)
	if err != nil {
		return nil, fmt.Errorf("read prometheus http config %s: %w", name, redactYAML(err))
	}
	return cfg, nil
}

// yamlValue is a value quoted in a YAML type error: "line 3: cannot unmarshal !!str `x` into
// bool".
var yamlValue = regexp.MustCompile("`[^`]*`")

// redactYAML drops the values that YAML errors quote and puts their lines on one line.
func redactYAML(err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, "yaml: ") {
		return err
	}
	msg = yamlValue.ReplaceAllString(msg, "(value hidden)")
	msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", "; ")), " ")
	msg = strings.ReplaceAll(msg, ":;", ":")
	return errors.New(msg)
}

// userAgent is the User-Agent header of tally's requests, for Prometheus's and proxies' logs.
const userAgent = "tally"

// newHTTPClient builds the HTTP client of a Client from cfg (nil: the defaults) with
// prometheus/common, which reads credentials files on every request and TLS files again
// when they change, as Prometheus does. hasURLUser says the base URL carries user:password,
// which must not meet other credentials.
//
// The library's transport keeps up to 1,000 idle connections per host; a Client opens no
// more than Options.Concurrency at once (its query slots), and all of them are kept for
// reuse.
func newHTTPClient(cfg *HTTPConfig, hasURLUser bool) (*http.Client, error) {
	c := config.DefaultHTTPClientConfig
	if cfg != nil {
		c = *cfg
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus http config: %w", err)
	}
	if hasURLUser && (c.BasicAuth != nil || c.Authorization != nil || c.OAuth2 != nil) {
		return nil, errors.New("prometheus url has a user and password, and the prometheus http config sets credentials too: use one of them")
	}
	client, err := config.NewClientFromConfig(c, "prometheus", config.WithUserAgent(userAgent))
	if err != nil {
		return nil, fmt.Errorf("prometheus http config: %w", err)
	}
	return client, nil
}
