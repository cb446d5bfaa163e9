package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reportsDir lays out a reports directory with two weeks, and next to it a secret file
// that no request may reach.
func reportsDir(t *testing.T) (dir, secret string) {
	t.Helper()
	base := t.TempDir()
	dir = filepath.Join(base, "reports")
	secret = filepath.Join(base, "secret.csv")
	write := func(path, body string, mtime time.Time) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	mtime := time.Date(2026, 3, 9, 0, 30, 0, 0, time.UTC)
	write(secret, "password,hunter2\n", mtime)
	write(filepath.Join(dir, "secret.csv"), "not in a week\n", mtime)
	write(filepath.Join(dir, "2026-W10", "summary.csv"), "week,total_cost\n2026-W10,12.5\n", mtime)
	write(filepath.Join(dir, "2026-W10", "costs_by_namespace.csv"), "namespace,cost\nshop,10\n", mtime)
	write(filepath.Join(dir, "2026-W10", ".summary.csv.tmp-123"), "half", mtime) // a write in progress
	write(filepath.Join(dir, "2026-W10", ".hidden.csv"), "hidden", mtime)        // hidden
	write(filepath.Join(dir, "2026-W10", "notes.txt"), "not a csv", mtime)       // not a report
	write(filepath.Join(dir, "2026-W10", "Upper.csv"), "not our name", mtime)    // not a name we write
	write(filepath.Join(dir, "2026-W11", "summary.csv"), "week\n2026-W11\n", mtime.AddDate(0, 0, 7))
	write(filepath.Join(dir, "2026-W60", "summary.csv"), "no such week", mtime)            // not a week
	write(filepath.Join(dir, "latest", "summary.csv"), "not a week dir", mtime)            // not a week
	write(filepath.Join(dir, "2026-W12.csv"), "file named like a week", mtime)             // a file
	if err := os.Symlink(secret, filepath.Join(dir, "2026-W11", "link.csv")); err != nil { // to outside
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(dir, "2026-W13")); err != nil { // a linked week
		t.Fatal(err)
	}
	return dir, secret
}

func TestReportsList(t *testing.T) {
	dir, _ := reportsDir(t)
	h, _ := newTestHandler(t, Options{ReportsDir: dir})
	rec := do(h, "GET", "/api/v1/reports")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q, body %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	var got []reportFile
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range got {
		lines = append(lines, fmt.Sprintf("%s %s %d %s %s", f.Week, f.Name, f.Size, f.Modified.Format(time.RFC3339), f.URL))
	}
	want := []string{ // the latest week first, then by name; nothing else listed
		"2026-W11 summary.csv 14 2026-03-16T00:30:00Z /api/v1/reports/2026-W11/summary.csv",
		"2026-W10 costs_by_namespace.csv 23 2026-03-09T00:30:00Z /api/v1/reports/2026-W10/costs_by_namespace.csv",
		"2026-W10 summary.csv 30 2026-03-09T00:30:00Z /api/v1/reports/2026-W10/summary.csv",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("listed:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range got { // every URL listed is served
		if rec := do(h, "GET", f.URL); rec.Code != 200 || int64(rec.Body.Len()) != f.Size {
			t.Errorf("GET %s: %d, %d bytes; want 200 and %d", f.URL, rec.Code, rec.Body.Len(), f.Size)
		}
	}
}

func TestReportsListWithoutDirectory(t *testing.T) {
	for _, dir := range []string{"", filepath.Join(t.TempDir(), "not-yet")} {
		h, _ := newTestHandler(t, Options{ReportsDir: dir})
		if rec := do(h, "GET", "/api/v1/reports"); rec.Code != 200 || rec.Body.String() != "[]\n" {
			t.Errorf("dir %q: %d %q, want 200 []", dir, rec.Code, rec.Body.String())
		}
		if rec := do(h, "GET", "/api/v1/reports/2026-W10/summary.csv"); rec.Code != 404 {
			t.Errorf("dir %q: file: %d, want 404", dir, rec.Code)
		}
	}
}

func TestReportFile(t *testing.T) {
	dir, _ := reportsDir(t)
	h, _ := newTestHandler(t, Options{ReportsDir: dir})
	rec := do(h, "GET", "/api/v1/reports/2026-W10/summary.csv")
	if rec.Code != 200 || rec.Body.String() != "week,total_cost\n2026-W10,12.5\n" {
		t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
	}
	for k, v := range map[string]string{
		"Content-Type":        "text/csv; charset=utf-8",
		"Content-Disposition": `attachment; filename="2026-W10_summary.csv"`,
		"Last-Modified":       "Mon, 09 Mar 2026 00:30:00 GMT",
	} {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s %q, want %q", k, got, v)
		}
	}
	if rec := do(h, "GET", "/api/v1/reports/2026-W10/summary.csv", "If-Modified-Since", "Mon, 09 Mar 2026 00:30:00 GMT"); rec.Code != 304 {
		t.Errorf("conditional GET: %d, want 304", rec.Code)
	}
	if rec := do(h, "GET", "/api/v1/reports/2026-W10/summary.csv?download=1"); rec.Code != 400 {
		t.Errorf("unknown parameter: %d, want 400", rec.Code)
	}
}

// No path reaches a file outside the reports directory or one the schedule did not write:
// each attempt is a 404 (or a 400 for a malformed request), never the secret.
func TestReportPathTraversal(t *testing.T) {
	dir, secret := reportsDir(t)
	h, _ := newTestHandler(t, Options{ReportsDir: dir})
	paths := []string{
		"/api/v1/reports/../secret.csv",
		"/api/v1/reports/../../secret.csv",
		"/api/v1/reports/2026-W10/../../secret.csv",
		"/api/v1/reports/2026-W10/../secret.csv",
		"/api/v1/reports/2026-W10/..%2F..%2Fsecret.csv",
		"/api/v1/reports/2026-W10/%2e%2e%2f%2e%2e%2fsecret.csv",
		"/api/v1/reports/%2e%2e/secret.csv",
		"/api/v1/reports/2026-W10/..%5c..%5csecret.csv",
		"/api/v1/reports/2026-W10/%2Ftmp%2Fsecret.csv",
		"/api/v1/reports/2026-W10//etc/passwd",
		"/api/v1/reports//etc/passwd",
		"/api/v1/reports/secret.csv",
		"/api/v1/reports/2026-W11/link.csv",             // a symbolic link to the secret
		"/api/v1/reports/2026-W13/secret.csv",           // a week directory that links out
		"/api/v1/reports/2026-W10/.summary.csv.tmp-123", // a write in progress
		"/api/v1/reports/2026-W10/.hidden.csv",
		"/api/v1/reports/2026-W10/notes.txt",
		"/api/v1/reports/2026-W10/Upper.csv",
		"/api/v1/reports/2026-W10/summary.csv%00.txt",
		"/api/v1/reports/2026-W10/nothing.csv",
		"/api/v1/reports/2026-W60/summary.csv", // not a week
		"/api/v1/reports/latest/summary.csv",
		"/api/v1/reports/2026-W10",
		"/api/v1/reports/2026-W10/",
		"/api/v1/reports/2026-W10/summary.csv/",
		"/api/v1/reports/2026-w10/summary.csv",
		"/api/v1/reports/" + strings.TrimPrefix(secret, "/"),
	}
	check := func(t *testing.T, path string, status int, body string) {
		t.Helper()
		if status != 404 && status != 400 {
			t.Errorf("GET %s: status %d, want 404 or 400", path, status)
		}
		if strings.Contains(body, "hunter2") || strings.Contains(body, "not in a week") || strings.Contains(body, "hidden") {
			t.Errorf("GET %s: served a file it must not: %q", path, body)
		}
	}
	for _, path := range paths {
		t.Run("handler "+path, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path, req.URL.RawPath = unescape(t, path), path
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			check(t, path, rec.Code, rec.Body.String())
		})
	}
	// Through a real server, as raw request lines no client library cleaned.
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range paths {
		t.Run("server "+path, func(t *testing.T) {
			status, body := rawGet(t, srv.Listener.Addr().String(), path)
			check(t, path, status, body)
		})
	}
}

func unescape(t *testing.T, path string) string {
	t.Helper()
	req, err := http.NewRequest("GET", "http://x"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req.URL.Path
}

// rawGet sends "GET path HTTP/1.1" as is and returns the status and body.
func rawGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}
