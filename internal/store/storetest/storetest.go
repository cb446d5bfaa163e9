// Package storetest gives integration tests a ClickHouse database of their own on the
// local stack's server: created and migrated for the test, dropped when it ends.
package storetest

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/tally-finops/tally/internal/stacktest"
	"github.com/tally-finops/tally/internal/store"
)

// Open creates a fresh database named after prefix on the stack's ClickHouse, applies the
// migrations, and returns the store and its DSN. The database is dropped when the test ends.
// Without the stack the test is skipped (or fails, with TALLY_REQUIRE_STACK=1).
func Open(tb testing.TB, prefix string, logger *slog.Logger) (*store.Store, string) {
	tb.Helper()
	u, err := url.Parse(stacktest.ClickHouseDSN(tb))
	if err != nil {
		tb.Fatalf("parse the stack's ClickHouse DSN: %v", err)
	}
	u.Path = fmt.Sprintf("/%s_%d_%d", prefix, time.Now().Unix(), rand.IntN(1e6))
	dsn := u.String()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, store.Options{DSN: dsn, CreateDatabase: true}, logger)
	if err != nil {
		tb.Fatalf("open a test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.DropDatabase(ctx); err != nil {
			tb.Errorf("drop the test database: %v", err)
		}
		_ = s.Close()
	})
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatalf("migrate the test database: %v", err)
	}
	return s, dsn
}

// Exec runs statements on the database of dsn, for tests and benchmarks that generate bulk
// data inside ClickHouse (INSERT ... SELECT FROM numbers(...)) rather than sending it.
func Exec(tb testing.TB, dsn string, timeout time.Duration, stmts ...string) {
	tb.Helper()
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		tb.Fatalf("parse dsn: %v", err)
	}
	opts.ReadTimeout = timeout
	conn, err := clickhouse.Open(opts)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer conn.Close()
	for _, stmt := range stmts {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := conn.Exec(ctx, stmt)
		cancel()
		if err != nil {
			tb.Fatalf("exec %.80s...: %v", stmt, err)
		}
	}
}
