package sql

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"two statements", "CREATE TABLE a (x UInt8) ENGINE = Memory;\nSELECT 1;", []string{"CREATE TABLE a (x UInt8) ENGINE = Memory", "SELECT 1"}},
		{"no trailing semicolon", "SELECT 1", []string{"SELECT 1"}},
		{"semicolon in a string", "SELECT 'a;b'; SELECT 2", []string{"SELECT 'a;b'", "SELECT 2"}},
		{"escaped quote in a string", `SELECT 'it\'s;'; SELECT 3`, []string{`SELECT 'it\'s;'`, "SELECT 3"}},
		{"semicolon in comments", "-- a; b\nSELECT 1; /* c; d */ SELECT 2", []string{"-- a; b\nSELECT 1", "/* c; d */ SELECT 2"}},
		{"comment-only pieces dropped", "-- header\n\n-- only comments;\n;  ;", nil},
		{"quoted identifier", "SELECT `a;b` FROM t", []string{"SELECT `a;b` FROM t"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SplitStatements(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SplitStatements(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseServerVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    ServerVersion
		wantErr bool
	}{
		{"18.16.1", ServerVersion{18, 16}, false},
		{"26.5.3.1", ServerVersion{26, 5}, false},
		{" 22.8 ", ServerVersion{22, 8}, false},
		{"22", ServerVersion{}, true},
		{"x.y", ServerVersion{}, true},
	}
	for _, tc := range tests {
		got, err := ParseServerVersion(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseServerVersion(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if !(ServerVersion{18, 16}).Less(ServerVersion{20, 3}) || (ServerVersion{20, 3}).Less(ServerVersion{20, 3}) ||
		(ServerVersion{22, 8}).Less(ServerVersion{20, 3}) || !(ServerVersion{20, 1}).Less(ServerVersion{20, 3}) {
		t.Error("Less orders versions wrongly")
	}
}

// The embedded migrations: numbered without gaps or duplicates, every statement portable
// unless the file declares a minimum server, and nothing that 18.16 lacks in a portable one.
func TestMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	modernOnly := regexp.MustCompile(`(?i)\b(TTL|CODEC|DateTime64|Map\(|SimpleAggregateFunction|toStartOfInterval|Date32|JSONExtract|WITH FILL)\b|\bINDEX\b`)
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d_%s: versions must run 1, 2, 3, ... without gaps", m.Version, m.Name)
		}
		if len(m.Checksum) != 64 {
			t.Errorf("migration %d: checksum %q", m.Version, m.Checksum)
		}
		portable := m.MinServer == (ServerVersion{})
		for _, st := range m.Statements {
			if portable && modernOnly.MatchString(stripComments(st)) {
				t.Errorf("migration %d_%s is portable but uses %q, which ClickHouse 18.16 lacks: move it to a migration with -- tally:min-server", m.Version, m.Name, modernOnly.FindString(stripComments(st)))
			}
			if strings.Contains(st, "allow_experimental") {
				t.Errorf("migration %d_%s sets an experimental setting in SQL; modern servers reject it (FACTS.md)", m.Version, m.Name)
			}
		}
		if !portable && m.Why == "" {
			t.Errorf("migration %d_%s needs a newer server but does not say why (-- tally:why)", m.Version, m.Name)
		}
	}
}

// Every table has a cluster column: one ClickHouse serves many clusters. The bill's tables
// are the exception: a cloud account's bill is shared by every cluster in it, and is joined
// to a cluster's nodes and volumes by their resource ids.
func TestEveryTableHasCluster(t *testing.T) {
	accountLevel := map[string]bool{"bill_lines": true, "bill_imports": true}
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	create := regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS (\w+)\s*\((.*)\)\s*ENGINE`)
	n := 0
	for _, m := range ms {
		for _, st := range m.Statements {
			mm := create.FindStringSubmatch(stripComments(st))
			if mm == nil {
				continue
			}
			n++
			if !accountLevel[mm[1]] && !regexp.MustCompile(`(?m)^\s*cluster\s+(LowCardinality\(String\)|String)\s*,`).MatchString(mm[2]) {
				t.Errorf("table %s has no cluster column", mm[1])
			}
		}
	}
	if n < 10 {
		t.Errorf("found %d CREATE TABLE statements, expected the full schema", n)
	}
}

func TestQueriesLoad(t *testing.T) {
	names := QueryNames()
	if len(names) < 20 {
		t.Fatalf("only %d queries embedded", len(names))
	}
	insert := regexp.MustCompile(`^INSERT INTO \w+ \([a-z_, ]+\)$`)
	for _, n := range names {
		q, err := Query(n)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(n, "insert_") && !insert.MatchString(q) {
			t.Errorf("%s: an insert must list its columns and nothing else (ClickHouse 18.16 needs the list): %q", n, q)
		}
		if len(SplitStatements(q)) != 1 {
			t.Errorf("%s: want exactly one statement", n)
		}
	}
	if _, err := Query("no_such_query"); err == nil {
		t.Error("Query of a missing name succeeded")
	}
	if !strings.HasPrefix(Bookkeeping(), "-- ") || !strings.Contains(Bookkeeping(), "CREATE TABLE IF NOT EXISTS schema_migrations") {
		t.Errorf("Bookkeeping() = %q", Bookkeeping())
	}
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimSpace(b.String())
}
