package store

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseDSN checks that a DSN is parsed or refused without a panic, and that the error of
// a refused one never shows its password (in the URL's user info or a password parameter).
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{
		"clickhouse://tally:s3cret@127.0.0.1:9000/tally", "tcp://h:9000/db?password=s3cret&dial_timeout=1s",
		"http://u:s3cret@h:8123/db", "clickhouse://u:s3cret@h:notaport/db", "clickhouse://h:9000/db?dial_timeout=forever",
		"clickhouse://u:s3%cret@h/db", "clickhouse://[::1", "", " ", "clickhouse://h:9000/db?compress=zstd9", "\xff",
	} {
		f.Add(s)
	}
	// The DSN's passwords are replaced by a marker no message can contain by chance.
	const marker = "Pw0rd-Marker-7f3a9c"
	f.Fuzz(func(t *testing.T, dsn string) {
		u, err := url.Parse(dsn)
		if err != nil {
			_, _ = parseDSN(dsn) // must not panic
			return
		}
		if u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), marker)
			}
		}
		if q := u.Query(); q.Has("password") {
			q.Set("password", marker)
			u.RawQuery = q.Encode()
		}
		if _, err := parseDSN(u.String()); err != nil && strings.Contains(err.Error(), marker) {
			t.Fatalf("the error of %q shows its password: %v", u.String(), err)
		}
	})
}
