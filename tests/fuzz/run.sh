#!/usr/bin/env bash
# run.sh TARGET SECONDS -- replay a fuzz target's corpus, then explore.
#
# First every file in tests/fuzz/corpus/TARGET/ runs once: the seeds, and
# each input that once crashed a target (named regress-*), so a fixed bug
# stays fixed. Then libFuzzer explores for SECONDS. New interesting inputs go
# to build/fuzz/corpus-TARGET and a crashing one to build/fuzz/crash-*, never
# into the source tree: a person decides what becomes a regression file.
set -euo pipefail
target=$1
seconds=$2
bin=build/fuzz/fuzz_$target
seeds=tests/fuzz/corpus/$target
work=build/fuzz/corpus-$target
mkdir -p "$work"

echo "fuzz_$target: replaying $(ls "$seeds" | wc -l) corpus files from $seeds"
"$bin" -runs=0 -timeout=10 "$seeds" >build/fuzz/replay-$target.log 2>&1 || {
    cat build/fuzz/replay-$target.log
    echo "fuzz_$target: a corpus file fails (see above)" >&2
    exit 1
}

echo "fuzz_$target: exploring for ${seconds}s"
set +e
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -dict=tests/fuzz/http.dict -artifact_prefix=build/fuzz/ "$work" "$seeds" \
    >build/fuzz/run-$target.log 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
    tail -n 80 build/fuzz/run-$target.log
    echo "fuzz_$target: FAILED (log: build/fuzz/run-$target.log; input: build/fuzz/crash-*)" >&2
    exit $rc
fi
awk -v t="fuzz_$target" '/^stat::number_of_executed_units/ {runs=$2} /^stat::peak_rss_mb/ {rss=$2}
    / cov: / {for (i = 1; i <= NF; i++) if ($i == "cov:") cov=$(i+1)}
    END {printf "%s: ok, %s inputs, %s edges covered, peak RSS %s MB\n", t, runs, cov, rss}' \
    build/fuzz/run-$target.log
