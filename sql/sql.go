// Package sql holds every SQL statement tally runs, as files: numbered schema migrations in
// migrations/ and named queries in queries/. Go code only binds parameters to them. The files
// are the contract with ClickHouse, and tests execute each of them on two engines.
package sql

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql queries/*.sql schema_migrations.sql
var files embed.FS

// ServerVersion is a ClickHouse server's major.minor version.
type ServerVersion struct {
	Major, Minor int
}

// ParseServerVersion reads the leading major.minor of a ClickHouse version string such as
// "18.16.1" or "26.5.3.1".
func ParseServerVersion(s string) (ServerVersion, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ".", 3)
	if len(parts) < 2 {
		return ServerVersion{}, fmt.Errorf("parse server version %q: want major.minor", s)
	}
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return ServerVersion{}, fmt.Errorf("parse server version %q: %w", s, err)
	}
	minor, err := strconv.Atoi(parts[1])
	if err != nil {
		return ServerVersion{}, fmt.Errorf("parse server version %q: %w", s, err)
	}
	return ServerVersion{Major: major, Minor: minor}, nil
}

// Less reports whether v is older than o.
func (v ServerVersion) Less(o ServerVersion) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	return v.Minor < o.Minor
}

func (v ServerVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Migration is one numbered file of migrations/. A migration whose header names a minimum
// server version (`-- tally:min-server 20.3`) is applied only on servers at least that new;
// `-- tally:why ...` says what it needs that version for.
type Migration struct {
	Version    int
	Name       string // file name without the number and extension, e.g. "inventory"
	MinServer  ServerVersion
	Why        string
	Statements []string
	Checksum   string // sha256 of the file, to notice a migration edited after it was applied
}

// Migrations returns the migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(files, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m, err := parseMigration(e.Name())
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[m.Version]; ok {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), m.Version)
		}
		seen[m.Version] = e.Name()
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func parseMigration(file string) (Migration, error) {
	base := strings.TrimSuffix(file, ".sql")
	num, name, ok := strings.Cut(base, "_")
	if !ok || path.Ext(file) != ".sql" {
		return Migration{}, fmt.Errorf("migration %s: name must be NNNN_name.sql", file)
	}
	version, err := strconv.Atoi(num)
	if err != nil || version <= 0 {
		return Migration{}, fmt.Errorf("migration %s: name must start with a positive number", file)
	}
	body, err := files.ReadFile("migrations/" + file)
	if err != nil {
		return Migration{}, fmt.Errorf("read migration %s: %w", file, err)
	}
	sum := sha256.Sum256(body)
	m := Migration{Version: version, Name: name, Checksum: hex.EncodeToString(sum[:])}
	for i, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "-- tally:min-server "); ok {
			if m.MinServer, err = ParseServerVersion(v); err != nil {
				return Migration{}, fmt.Errorf("migration %s line %d: %w", file, i+1, err)
			}
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "-- tally:why "); ok {
			m.Why = strings.TrimSpace(v)
		}
	}
	m.Statements = SplitStatements(string(body))
	if len(m.Statements) == 0 {
		return Migration{}, fmt.Errorf("migration %s: no statements", file)
	}
	return m, nil
}

// Bookkeeping returns the statement that creates the migration runner's own table.
func Bookkeeping() string {
	body, _ := files.ReadFile("schema_migrations.sql") // embedded; cannot fail
	return strings.TrimSpace(string(body))
}

// Query returns the named query of queries/ (the file name without ".sql").
func Query(name string) (string, error) {
	body, err := files.ReadFile("queries/" + name + ".sql")
	if err != nil {
		return "", fmt.Errorf("query %q: %w", name, err)
	}
	return strings.TrimSpace(string(body)), nil
}

// QueryNames lists every named query.
func QueryNames() []string {
	entries, _ := fs.ReadDir(files, "queries") // embedded; cannot fail
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".sql"))
	}
	return names
}

// SplitStatements splits SQL text into statements at semicolons outside quotes and comments,
// and drops comment-only and empty statements.
func SplitStatements(text string) []string {
	var (
		out            []string
		cur            strings.Builder
		quote          byte
		inLineComment  bool
		inBlockComment bool
		hasCode        bool
	)
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" && hasCode {
			out = append(out, s)
		}
		cur.Reset()
		hasCode = false
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inLineComment:
			if c == '\n' {
				inLineComment = false
			}
		case inBlockComment:
			if c == '*' && i+1 < len(text) && text[i+1] == '/' {
				inBlockComment = false
				cur.WriteByte(c)
				i++
				c = '/'
			}
		case quote != 0:
			if c == '\\' && i+1 < len(text) {
				cur.WriteByte(c)
				i++
				c = text[i]
			} else if c == quote {
				quote = 0
			}
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			inLineComment = true
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			inBlockComment = true
		case c == '\'' || c == '"' || c == '`':
			quote = c
			hasCode = true
		case c == ';':
			flush()
			continue
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			hasCode = true
		}
		cur.WriteByte(c)
	}
	flush()
	return out
}
