#!/usr/bin/env bash
# Filters `go test -v` output down to what a reader needs: every test's result line (so the
# integration tests' names show), failures in full, and a closing count. Exits non-zero when
# any test or package failed. Usage: go test -v ./... | hack/gotest-summary.sh
set -uo pipefail
awk '
	/^=== (RUN|PAUSE|CONT|NAME)/ { next }
	/^--- PASS/ { pass++; print; next }
	/^--- SKIP/ { skip++; print; next }
	/^--- FAIL/ { fail++; print; next }
	/^(ok|FAIL|PASS)[ \t]/ || /^FAIL$/ || /^PASS$/ { if ($0 ~ /^FAIL/) pkgfail++; if ($0 !~ /^PASS$/) print; next }
	/^\?/ { next }
	{ print }
	END {
		printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
		exit (fail > 0 || pkgfail > 0) ? 1 : 0
	}
'
