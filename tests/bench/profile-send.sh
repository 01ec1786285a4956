#!/bin/sh
# profile-send.sh -- where one PUT /send spends its time (`make profile-send`).
#
# bench.mjs's messageThroughput figure runs against the release binary under
# `perf record` (Debian's linux-perf, DWARF call graphs), and the report
# keeps the server's own frames: build/profile-send.txt lists functions by
# the share of samples they or their callees were in (children), so the
# request path reads from the top (ht_core_handle, ht_room_send, commit).
# The benchmark's set-up (registering users: Argon2) is in the samples too,
# on its worker threads; the figures to compare are the request path's.
# PROFILE_FIGURES names other bench.mjs figures to profile instead
# (`make profile-sync`: manyRooms, the user in 300 rooms). PROFILE_SENDS and
# PROFILE_CONCURRENT are how many sends one client makes and how many 16
# make at once (group commit); PROFILE_SENDS=10 PROFILE_CONCURRENT=8000
# profiles the sixteen senders alone.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${PROFILE_OUT:-$ROOT/build/profile-send}
mkdir -p "$(dirname "$OUT")"
WRAP=$(mktemp)
trap 'rm -f "$WRAP" "$WRAP.n"' EXIT
# Each server bench.mjs starts gets its own data file, numbered in the order
# they start: a figure with a server of its own (manyRooms) starts it after
# the shared one, and its file is the last.
echo 0 > "$WRAP.n"
cat > "$WRAP" <<WRAPPER
#!/bin/sh
n=\$((\$(cat "$WRAP.n") + 1)); echo \$n > "$WRAP.n"
exec perf record -q -F 500 --call-graph dwarf,16384 -o "$OUT.data.\$n" -- "${HOMETAB_BIN:-$ROOT/build/native/hometab}" "\$@"
WRAPPER
chmod +x "$WRAP"
# bench.mjs stops the server with SIGTERM and reports how it ended: perf,
# not hometab, ends then, which it counts as a failure. The data file is
# what matters.
rm -f "$OUT.data" "$OUT".data.*
HOMETAB_BIN=$WRAP BENCH_ONLY=${PROFILE_FIGURES:-messageThroughput} BENCH_SEQUENTIAL=${PROFILE_SENDS:-1000} BENCH_CONCURRENT=${PROFILE_CONCURRENT:-200} \
    node "$ROOT/tests/bench/bench.mjs" >/dev/null 2>&1 || true
LAST=$(cat "$WRAP.n")
[ "$LAST" -gt 0 ] && mv "$OUT.data.$LAST" "$OUT.data" && rm -f "$OUT".data.*
[ -s "$OUT.data" ] || { echo "profile-send: perf recorded nothing ($OUT.data)" >&2; exit 1; }
perf report -i "$OUT.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' \
    | grep -v ' 0x0000' | head -80 > "$OUT.txt"
echo "profile-send: $OUT.txt (perf data: $OUT.data)"
grep -E 'ht_core_handle|ht_room_send|ht_room_push_event|ht_store_commit|finish_pdu|ht_auth_check_pdu|ht_api_sync|room_entry' \
    "$OUT.txt" || true
