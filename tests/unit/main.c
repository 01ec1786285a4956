/* main.c -- runs every unit-test group; exits non-zero if any test failed.
 *
 * Every group runs even after another failed, so one broken piece does not
 * hide the state of the others. */
#include <stdio.h>

#include "unit.h"

int main(void) {
    int (*const groups[])(void) = {
        run_http_request_tests, run_http_response_tests, run_router_tests,
        run_error_tests,        run_store_tests,         run_core_tests,
        run_limits_tests,
        run_push_eval_tests,     run_work_tests,          run_canonical_tests,
        run_signing_tests,       run_key_name_tests,      run_pdu_tests,           run_pdu_view_tests,
        run_event_auth_tests,    run_state_res_tests,     run_room_graph_tests,
        run_glob_tests,          run_words_tests,         run_recent_keys_tests,         run_faults_tests,
        run_group_commit_tests,
        run_login_limits_tests,  run_wake_tests,          run_request_log_tests,
        run_framing_tests,       run_media_store_tests, run_federation_tests,
        run_fed_read_tests,      run_fed_e2ee_tests,      run_fed_media_tests,
        run_sync_write_tests,    run_wal_writes_tests,
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) failed += groups[i]();
    if (failed) fprintf(stderr, "unit tests: %d failed\n", failed);
    return failed ? 1 : 0;
}
