package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	tallysql "github.com/tally-finops/tally/sql"
)

// MigrationReport says where the schema stands, or what Migrate did.
type MigrationReport struct {
	Server  string   // the server's version
	Current []string // migrations applied earlier, e.g. "0002_usage"
	Pending []string // migrations not applied yet (MigrationStatus only)
	Applied []string // migrations applied by this call (Migrate only)
	Skipped []Skip   // migrations the server is too old for
}

// Skip is a migration left out, and why.
type Skip struct {
	Migration string
	Reason    string
}

// plan compares the embedded migrations with those recorded in schema_migrations. It
// fails when an applied migration was edited since.
func (s *Store) plan(ctx context.Context) (rep MigrationReport, pending []tallysql.Migration, err error) {
	migrations, err := tallysql.Migrations()
	if err != nil {
		return rep, nil, err
	}
	if err := s.do(ctx, "create schema_migrations", func(ctx context.Context) error {
		return s.conn.Exec(ctx, tallysql.Bookkeeping())
	}); err != nil {
		return rep, nil, err
	}
	if rep.Server, err = s.ServerVersion(ctx); err != nil {
		return rep, nil, err
	}
	server, err := tallysql.ParseServerVersion(rep.Server)
	if err != nil {
		return rep, nil, err
	}
	applied := map[uint32]string{}
	err = s.query(ctx, "select schema_migrations", s.q.selectMigrations, nil, func() { clear(applied) }, func(r driver.Rows) error {
		var (
			v              uint32
			name, checksum string
		)
		if err := r.Scan(&v, &name, &checksum); err != nil {
			return err
		}
		applied[v] = checksum
		return nil
	})
	if err != nil {
		return rep, nil, err
	}
	for _, m := range migrations {
		id := migrationID(m)
		if sum, ok := applied[uint32(m.Version)]; ok {
			if sum != m.Checksum {
				return rep, nil, fmt.Errorf("migration %s was edited after it was applied (checksum differs): add a new migration instead", id)
			}
			rep.Current = append(rep.Current, id)
			continue
		}
		if server.Less(m.MinServer) {
			reason := fmt.Sprintf("needs ClickHouse %s or newer", m.MinServer)
			if m.Why != "" {
				reason += " for " + m.Why
			}
			rep.Skipped = append(rep.Skipped, Skip{Migration: id, Reason: reason + "; server is " + rep.Server})
			continue
		}
		pending = append(pending, m)
		rep.Pending = append(rep.Pending, id)
	}
	return rep, pending, nil
}

// MigrationStatus reports which migrations are applied, pending, or too new for the server,
// without changing the schema (beyond creating the empty bookkeeping table).
func (s *Store) MigrationStatus(ctx context.Context) (MigrationReport, error) {
	rep, _, err := s.plan(ctx)
	return rep, err
}

// Migrate applies the migrations of sql/migrations that are not applied yet, in order, and
// records each in schema_migrations. Running it again changes nothing. A migration that
// needs a newer server is skipped (and reported), not failed: a later run applies it once
// the server is upgraded. A migration edited after it was applied is an error. Statements
// are idempotent (IF NOT EXISTS), so a run cut short is completed by the next one.
func (s *Store) Migrate(ctx context.Context) (MigrationReport, error) {
	rep, pending, err := s.plan(ctx)
	if err != nil {
		return rep, err
	}
	rep.Pending = nil
	for _, sk := range rep.Skipped {
		s.log.Info("migration skipped", "migration", sk.Migration, "reason", sk.Reason)
	}
	for _, m := range pending {
		id := migrationID(m)
		for i, stmt := range m.Statements {
			if err := s.do(ctx, fmt.Sprintf("migration %s statement %d", id, i+1), func(ctx context.Context) error {
				return s.conn.Exec(ctx, stmt)
			}); err != nil {
				return rep, err
			}
		}
		now := time.Now().UTC().Truncate(time.Second)
		if err := s.insertRows(ctx, "record migration "+id, s.q.insertMigrations, 1, func(int) []any {
			return []any{uint32(m.Version), m.Name, m.Checksum, now}
		}); err != nil {
			return rep, err
		}
		rep.Applied = append(rep.Applied, id)
		s.log.Info("migration applied", "migration", id)
	}
	return rep, nil
}

func migrationID(m tallysql.Migration) string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }
