// Package store is tally's only door to ClickHouse. It applies the schema migrations of
// sql/, writes model structs in column-oriented batches, and reads them back with typed
// queries. Every call carries a deadline, transient failures are retried with backoff, and
// no error or log line ever contains a password.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Options configure a Store.
type Options struct {
	// DSN is a native-protocol address: clickhouse://user:password@host:9000/database.
	// The HTTP protocol is not supported (old servers reject the driver's HTTP handshake).
	DSN string
	// ConnectTimeout bounds Open, retries included. Default 10s.
	ConnectTimeout time.Duration
	// QueryTimeout is the deadline of a call whose context has none. Default 2m.
	QueryTimeout time.Duration
	// Retry governs retries of transient failures.
	Retry RetryPolicy
	// CreateDatabase creates the DSN's database when it does not exist.
	CreateDatabase bool
}

// Store is a connection pool to one ClickHouse database.
type Store struct {
	conn   driver.Conn
	opts   Options
	target string // host, user and database, never the password
	db     string
	log    *slog.Logger
	q      queries
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Open connects to ClickHouse and checks that the server answers. It fails within
// opts.ConnectTimeout with an error that names the host, user and database.
func Open(ctx context.Context, opts Options, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 2 * time.Minute
	}
	opts.Retry = opts.Retry.withDefaults()
	q, err := loadQueries()
	if err != nil {
		return nil, err
	}
	chOpts, err := parseDSN(opts.DSN)
	if err != nil {
		return nil, err
	}
	if chOpts.DialTimeout > opts.ConnectTimeout {
		// The handshake of a new connection is bounded by DialTimeout, not by the context.
		chOpts.DialTimeout = opts.ConnectTimeout
	}
	db := chOpts.Auth.Database
	if db == "" {
		db = "default"
		chOpts.Auth.Database = db
	}
	if !identRE.MatchString(db) {
		return nil, fmt.Errorf("clickhouse dsn %s: database name %q must be letters, digits and underscores", redactDSN(opts.DSN), db)
	}
	s := &Store{
		opts:   opts,
		target: fmt.Sprintf("%s (user %q, database %q)", strings.Join(chOpts.Addr, ","), chOpts.Auth.Username, db),
		db:     db,
		log:    logger.With("component", "store"),
		q:      q,
	}
	ctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if opts.CreateDatabase && db != "default" {
		if err := s.createDatabase(ctx, *chOpts); err != nil {
			return nil, err
		}
	}
	if s.conn, err = s.connect(ctx, chOpts); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) connect(ctx context.Context, chOpts *clickhouse.Options) (driver.Conn, error) {
	conn, err := clickhouse.Open(chOpts)
	if err != nil {
		return nil, fmt.Errorf("connect to clickhouse at %s: %w", s.target, err)
	}
	err = s.retry(ctx, "ping", func(ctx context.Context) error { return conn.Ping(ctx) })
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("connect to clickhouse at %s: %w", s.target, explain(err))
	}
	return conn, nil
}

func (s *Store) createDatabase(ctx context.Context, chOpts clickhouse.Options) error {
	chOpts.Auth.Database = "default"
	conn, err := s.connect(ctx, &chOpts)
	if err != nil {
		return err
	}
	defer conn.Close()
	stmt := "CREATE DATABASE IF NOT EXISTS " + s.db
	if err := s.retry(ctx, "create database", func(ctx context.Context) error { return conn.Exec(ctx, stmt) }); err != nil {
		return fmt.Errorf("create database %s at %s: %w", s.db, s.target, explain(err))
	}
	return nil
}

// DropDatabase drops the store's database with everything in it. For tests and demos that
// work in a database of their own; never called by the collector or the reporter.
func (s *Store) DropDatabase(ctx context.Context) error {
	if s.db == "default" {
		return errors.New("drop database: refusing to drop the default database")
	}
	return s.do(ctx, "drop database "+s.db, func(ctx context.Context) error {
		return s.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+s.db)
	})
}

// Close releases the connections.
func (s *Store) Close() error { return s.conn.Close() }

// Database is the name of the database the store works in.
func (s *Store) Database() string { return s.db }

// ServerVersion returns the version string the server reports, e.g. "18.16.1".
func (s *Store) ServerVersion(ctx context.Context) (string, error) {
	var v string
	err := s.do(ctx, "server version", func(ctx context.Context) error {
		return s.conn.QueryRow(ctx, s.q.serverVersion).Scan(&v)
	})
	return v, err
}

// do runs fn with the store's default deadline (when ctx has none) and retries.
func (s *Store) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.QueryTimeout)
		defer cancel()
	}
	if err := s.retry(ctx, op, fn); err != nil {
		return fmt.Errorf("%s: %w", op, explain(err))
	}
	return nil
}

func parseDSN(dsn string) (*clickhouse.Options, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("clickhouse dsn is empty: want clickhouse://user:password@host:9000/database")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse dsn %s is not a URL: want clickhouse://user:password@host:9000/database", redactDSN(dsn))
	}
	if u.Scheme != "clickhouse" && u.Scheme != "tcp" {
		return nil, fmt.Errorf("clickhouse dsn %s: scheme %q is not supported: tally speaks the native protocol, e.g. clickhouse://host:9000/database", redactDSN(dsn), u.Scheme)
	}
	o, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse dsn %s: %s", redactDSN(dsn), scrub(err.Error(), u))
	}
	o.Protocol = clickhouse.Native
	if o.Compression == nil {
		o.Compression = &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 5 * time.Minute
	}
	return o, nil
}

// redactDSN returns the DSN with its password replaced by "xxxxx".
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable dsn)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// scrub removes the DSN's password from a message, wherever it appears.
func scrub(msg string, u *url.URL) string {
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	if p := u.Query().Get("password"); p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}
