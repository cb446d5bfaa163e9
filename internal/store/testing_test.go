package store

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/tally-finops/tally/internal/stacktest"
)

// openTestStore opens a store on a fresh database of the stack's ClickHouse, migrated, and
// drops the database when the test ends.
func openTestStore(t testing.TB) *Store {
	t.Helper()
	s := openEmptyStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// openEmptyStore is openTestStore without the migrations.
func openEmptyStore(t testing.TB) *Store {
	t.Helper()
	dsn := withDatabase(t, stacktest.ClickHouseDSN(t), fmt.Sprintf("tally_test_%d_%d", time.Now().Unix(), rand.IntN(1e6)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, Options{DSN: dsn, CreateDatabase: true}, testLogger(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.DropDatabase(ctx); err != nil {
			t.Errorf("drop test database: %v", err)
		}
		_ = s.Close()
	})
	return s
}

func withDatabase(t testing.TB, dsn, db string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse dsn: %v", err)
	}
	u.Path = "/" + db
	return u.String()
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TALLY_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
