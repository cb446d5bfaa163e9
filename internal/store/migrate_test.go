package store

import (
	"context"
	"strings"
	"testing"
	"time"

	tallysql "github.com/tally-finops/tally/sql"
)

func TestMigrateTwiceChangesNothing(t *testing.T) {
	s := openTestStore(t) // migrated once already
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	migrations, err := tallysql.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	server, err := s.ServerVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := tallysql.ParseServerVersion(server)
	if err != nil {
		t.Fatal(err)
	}
	tablesBefore := tables(t, s)

	rep, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(rep.Applied) != 0 {
		t.Errorf("second run applied %v, want nothing", rep.Applied)
	}
	var wantCurrent, wantSkipped int
	for _, m := range migrations {
		if sv.Less(m.MinServer) {
			wantSkipped++
		} else {
			wantCurrent++
		}
	}
	if len(rep.Current) != wantCurrent || len(rep.Skipped) != wantSkipped {
		t.Errorf("server %s: current %v skipped %v, want %d current and %d skipped", server, rep.Current, rep.Skipped, wantCurrent, wantSkipped)
	}
	for _, sk := range rep.Skipped {
		if !strings.Contains(sk.Reason, "needs ClickHouse") || !strings.Contains(sk.Reason, server) {
			t.Errorf("skip reason %q should name the needed and the actual version", sk.Reason)
		}
	}
	if got := tables(t, s); strings.Join(got, ",") != strings.Join(tablesBefore, ",") {
		t.Errorf("tables changed by second migrate: %v -> %v", tablesBefore, got)
	}
	var recorded uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM schema_migrations").Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != uint64(wantCurrent) {
		t.Errorf("schema_migrations has %d rows, want %d (one per applied migration)", recorded, wantCurrent)
	}
	for _, want := range []string{"nodes", "containers", "usage_samples", "usage_hourly", "usage_hourly_mv",
		"usage_daily", "usage_daily_mv", "container_events", "node_prices", "cost_allocations", "cost_daily",
		"cost_daily_mv", "watermarks", "schema_migrations"} {
		if !contains(tablesBefore, want) {
			t.Errorf("table %s missing after migrate; have %v", want, tablesBefore)
		}
	}
}

func TestMigrateRejectsEditedMigration(t *testing.T) {
	s := openTestStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.conn.Exec(ctx, "INSERT INTO schema_migrations (version, name, checksum, applied_at) SELECT 1, 'inventory', 'not-the-checksum', now()"); err != nil {
		t.Fatal(err)
	}
	// Two rows for version 1 now; any() may pick either, so force the wrong one to win.
	if err := s.conn.Exec(ctx, "ALTER TABLE schema_migrations DELETE WHERE version = 1 AND checksum != 'not-the-checksum'"); err != nil {
		t.Fatal(err)
	}
	waitMutations(t, s)
	_, err := s.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "0001_inventory was edited") {
		t.Fatalf("Migrate with an edited migration: err = %v, want an 'edited' error naming 0001_inventory", err)
	}
}

func tables(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.conn.Query(context.Background(), "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func waitMutations(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n uint64
		if err := s.conn.QueryRow(context.Background(), "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("mutations did not finish in 20s")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Every file of sql/queries is run by the store, so the store's integration tests execute
// each of them on the real 18.16 server.
func TestEveryQueryFileIsUsed(t *testing.T) {
	q, err := loadQueries()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range tallysql.QueryNames() {
		if !contains(q.names, name) {
			t.Errorf("sql/queries/%s.sql is not used by the store", name)
		}
	}
}
