#!/usr/bin/env bash
# first-run.sh -- times the first `make run` of a fresh clone, as a new user
# meets it: a `git clone` of this repository's HEAD into a temporary folder,
# with no .cache (so the wasm libraries are fetched and built), up to the
# moment the server says it listens. Prints the seconds, the number of lines
# `make run` printed, and keeps the whole log.
#
#   tests/bench/first-run.sh [REV]     (default HEAD; run from the repository)
#
# Packages already installed stay installed: this measures the build, which
# is what a second machine of the same kind would repeat.
set -euo pipefail
rev=${1:-HEAD}
repo=$(git rev-parse --show-toplevel)
dir=$(mktemp -d /tmp/hometab-first-run.XXXXXX)
log=$dir.log
git clone -q --no-hardlinks "$repo" "$dir"
git -C "$dir" checkout -q "$rev"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18008)
start=$(date +%s.%N)
( cd "$dir" && exec make run LISTEN=127.0.0.1:$port ) >"$log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
    if grep -q 'listening on' "$log"; then break; fi
    sleep 0.2
done
end=$(date +%s.%N)
listening=$(grep -c 'listening on' "$log" || true)
# make's own child (the server) gets the signal through the process group.
pkill -TERM -P $pid 2>/dev/null || true
kill -TERM $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
printf 'first make run: %.1f s to "listening" (%s), %d lines printed; log %s\n' \
    "$(echo "$end - $start" | bc)" "$([ "$listening" -gt 0 ] && echo ok || echo NEVER)" \
    "$(grep -c '' "$log")" "$log"
rm -rf "$dir"
