#!/usr/bin/env bash
# Stops every server started by up.sh (SIGTERM, up to 10 s, then SIGKILL).
#
#   hack/stack/down.sh [--purge]
#
# --purge also deletes the state dir (data, logs, keys); the build cache is never touched.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
for arg in "$@"; do
	case $arg in
	--purge) purge=1 ;;
	*) die "usage: down.sh [--purge]" ;;
	esac
done

# Reverse start order: kube-apiserver before etcd.
for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
	stop_service "${SERVICES[i]}"
done

if ((purge)) && [[ -e $STATE ]]; then
	case $STATE in
	/ | "$REPO_ROOT" | "$CACHE" | "$CACHE"/* | "$HOME") die "refusing to delete $STATE" ;;
	esac
	rm -rf "$STATE"
	say "deleted $STATE"
fi
say "down"
