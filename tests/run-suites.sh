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

finish_one() {
    local pid status
    wait -n -p pid
    status=$?
    local suite=${suite_of[$pid]}
    unset "suite_of[$pid]"
    local took=$(($(date +%s) - ${started_at[$suite]}))
    if [ "$status" = 0 ]; then
        echo "test: $suite passed in $took s"
    else
        echo "test: $suite FAILED (exit $status) after $took s: log below, and in $logs/$suite.log"
        failed+=("$suite")
    fi
}

for suite in "$@"; do
    while [ "${#suite_of[@]}" -ge "$jobs" ]; do finish_one; done
    echo "test: $suite started"
    started_at[$suite]=$(date +%s)
    make --no-print-directory "$suite" >"$logs/$suite.log" 2>&1 </dev/null &
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
