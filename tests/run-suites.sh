#!/usr/bin/env bash
# Runs make's test suites side by side: at most JOBS at a time, started in
# the order given (the longest first, so the short ones fill the gaps at the
# end). Why side by side: most suites drive one server from one node
# process, or wait on a browser, and keep about one core busy.
#
# Each suite's output goes to build/test-logs/<suite>.log. A line says when
# each starts and how it ended; a failed suite's whole log is printed after
# the others finished, so no output interleaves. Exit status: 0 only when
# every suite passed.
#
# usage: tests/run-suites.sh JOBS suite...
set -u
jobs=$1
shift
logs=build/test-logs
rm -rf "$logs" && mkdir -p "$logs"

declare -A suite_of=() started_at=()
failed=()
began=$(date +%s)

# The CPU seconds in a file written by bash's `times` (its second line: the
# children's user and system time, "0m1.5s 0m0.25s"), rounded.
cpu_seconds() {
    [ -s "$1" ] || { echo "?"; return; }
    awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); s += p[1] * 60 + p[2] } printf "%.0f", s }' "$1"
}

finish_one() {
    local pid status
    wait -n -p pid
    status=$?
    local suite=${suite_of[$pid]}
    unset "suite_of[$pid]"
    local took=$(($(date +%s) - ${started_at[$suite]}))
    local cpu
    cpu=$(cpu_seconds "$logs/$suite.cpu")
    if [ "$status" = 0 ]; then
        echo "test: $suite passed in $took s (CPU $cpu s)"
    else
        echo "test: $suite FAILED (exit $status) after $took s (CPU $cpu s): log below, and in $logs/$suite.log"
        failed+=("$suite")
    fi
}

for suite in "$@"; do
    while [ "${#suite_of[@]}" -ge "$jobs" ]; do finish_one; done
    echo "test: $suite started"
    started_at[$suite]=$(date +%s)
    # The subshell's `times` gives the CPU its suite used (children's user and
    # system seconds): how busy a suite keeps the machine, for choosing JOBS.
    ( make --no-print-directory "$suite" >"$logs/$suite.log" 2>&1 </dev/null
      status=$?
      times >"$logs/$suite.cpu" # its second line: the children
      exit $status ) &
    suite_of[$!]=$suite
done
while [ "${#suite_of[@]}" -gt 0 ]; do finish_one; done

for suite in "${failed[@]}"; do
    echo
    echo "==== $suite: $logs/$suite.log ===="
    cat "$logs/$suite.log"
done
echo "test: $(($# - ${#failed[@]})) of $# suites passed in $(($(date +%s) - began)) s" \
    "(${#failed[@]} failed${failed[*]:+: ${failed[*]}})"
[ "${#failed[@]}" = 0 ]
