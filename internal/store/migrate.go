package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	tallysql "github.com/tally-finops/tally/sql"
)

// MigrationReport says what Migrate did.
type MigrationReport struct {
	Server  string   // the server's version
	Applied []string // migrations applied now, e.g. "0002_usage"
	Current []string // migrations applied earlier
	Skipped []Skip   // migrations the server is too old for
}

// Skip is a migration left out, and why.
type Skip struct {
	Migration string
	Reason    string
}

// Migrate applies the migrations of sql/migrations that are not applied yet, in order, and
// records each in schema_migrations. Running it again changes nothing. A migration that
// needs a newer server is skipped (and reported), not failed: it is applied by a later run
// once the server is upgraded. A migration edited after it was applied is an error.
func (s *Store) Migrate(ctx context.Context) (MigrationReport, error) {
	var rep MigrationReport
	migrations, err := tallysql.Migrations()
	if err != nil {
		return rep, err
	}
	if err := s.do(ctx, "create schema_migrations", func(ctx context.Context) error {
		return s.conn.Exec(ctx, tallysql.Bookkeeping())
	}); err != nil {
		return rep, err
	}
	if rep.Server, err = s.ServerVersion(ctx); err != nil {
		return rep, err
	}
	server, err := tallysql.ParseServerVersion(rep.Server)
	if err != nil {
		return rep, err
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
		return rep, err
	}
	for _, m := range migrations {
		id := fmt.Sprintf("%04d_%s", m.Version, m.Name)
		if sum, ok := applied[uint32(m.Version)]; ok {
			if sum != m.Checksum {
				return rep, fmt.Errorf("migration %s was edited after it was applied (checksum differs): add a new migration instead", id)
			}
			rep.Current = append(rep.Current, id)
			continue
		}
		if server.Less(m.MinServer) {
			reason := fmt.Sprintf("needs ClickHouse %s or newer", m.MinServer)
			if m.Why != "" {
				reason += " for " + m.Why
			}
			reason += "; server is " + rep.Server
			rep.Skipped = append(rep.Skipped, Skip{Migration: id, Reason: reason})
			s.log.Info("migration skipped", "migration", id, "reason", reason)
			continue
		}
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
