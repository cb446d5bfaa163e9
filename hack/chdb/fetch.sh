#!/usr/bin/env bash
# Fetches libchdb.so (chDB: ClickHouse as an in-process library) for the modern-engine
# conformance test of sql/ and prints its path, and nothing else, on stdout:
#
#   CHDB_LIB_PATH=$(hack/chdb/fetch.sh) go test -tags chdb -count=1 ./sql/
#
# The library comes from the npm package @chdb/lib-linux-x64-gnu at a pinned version, checked
# against a pinned sha512. It is kept in $TALLY_CACHE_DIR/chdb/<version>/libchdb.so (default
# <repo>/.cache, git-ignored); once there, a run is instant and uses no network. Progress and
# errors go to stderr. Needs npm, tar and coreutils; Linux x86-64 with glibc only.
set -euo pipefail

CHDB_VERSION=26.5.3
PACKAGE=@chdb/lib-linux-x64-gnu
# dist.integrity of $PACKAGE@$CHDB_VERSION (npm view), as hex.
TARBALL_SHA512=7cfacb991b79328a2bf721b3e266b36eb3637b8b7b5fd281da64c6917156471441b3688acbcca1ea3c75d71b1ad10af788314c53fc87a9df9b55d6095eedd069

say() { echo "chdb: $*" >&2; }
die() {
	echo "chdb: $*" >&2
	exit 1
}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=$(realpath -m "${TALLY_CACHE_DIR:-$REPO_ROOT/.cache}")
DEST_DIR=$CACHE/chdb/$CHDB_VERSION
LIB=$DEST_DIR/libchdb.so

if [[ -s $LIB ]]; then
	echo "$LIB"
	exit 0
fi

[[ $(uname -s) == Linux && $(uname -m) == x86_64 ]] ||
	die "$PACKAGE is built for Linux x86-64 only; this machine is $(uname -s) $(uname -m)"
if ! command -v npm >/dev/null 2>&1; then
	# A fresh Debian machine: install npm, as the local stack installs its servers.
	command -v apt-get >/dev/null 2>&1 ||
		die "npm is not installed; it is needed once to fetch $PACKAGE@$CHDB_VERSION"
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	say "installing npm with apt-get (needed once to fetch $PACKAGE)"
	{ "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends npm; } >&2 ||
		die "could not install npm with apt-get"
fi
command -v tar >/dev/null 2>&1 || die "tar is not installed"

mkdir -p "$DEST_DIR" || die "cannot create $DEST_DIR"

# One fetch at a time: a second concurrent run waits, then finds the library in place.
exec 9>"$DEST_DIR/.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9
fi
if [[ -s $LIB ]]; then
	echo "$LIB"
	exit 0
fi

TMP=$(mktemp -d "$DEST_DIR/.fetch.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

say "fetching $PACKAGE@$CHDB_VERSION from npm (~167 MB) into $DEST_DIR"
start=$SECONDS
# A private npm cache, deleted with $TMP, so no second copy of the tarball stays in ~/.npm;
# npm's debug logs go next to the library, where they outlive $TMP. npm's own output (it
# prints the tarball name on stdout) goes to stderr.
if ! npm pack "$PACKAGE@$CHDB_VERSION" --pack-destination "$TMP" --cache "$TMP/npm-cache" \
	--logs-dir "$DEST_DIR/npm-logs" --no-audit --no-fund --loglevel=warn >&2; then
	die "npm pack $PACKAGE@$CHDB_VERSION failed (is the npm registry reachable? see npm's message above)"
fi
shopt -s nullglob
tarballs=("$TMP"/*.tgz)
shopt -u nullglob
((${#tarballs[@]} == 1)) || die "npm pack did not produce one tarball in $TMP"
tarball=${tarballs[0]}

sum=$(sha512sum "$tarball" | cut -d' ' -f1)
[[ $sum == "$TARBALL_SHA512" ]] ||
	die "checksum mismatch for $(basename "$tarball"): got sha512 $sum, want $TARBALL_SHA512"

member=$(tar -tzf "$tarball" | grep -E '(^|/)libchdb\.so$' | head -n1) ||
	die "$(basename "$tarball") holds no libchdb.so"
tar -xzf "$tarball" -C "$TMP" "$member" || die "cannot extract $member from $(basename "$tarball")"
rm -f "$tarball"
[[ -s $TMP/$member ]] || die "extracted $member is empty"
chmod 0755 "$TMP/$member"
mv -f "$TMP/$member" "$LIB" # same file system: atomic, so a reader never sees half a library

say "libchdb.so $CHDB_VERSION ready in $((SECONDS - start)) s ($(du -h "$LIB" | cut -f1))"
echo "$LIB"
