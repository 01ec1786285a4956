/* unit.h -- what the unit-test files share.
 *
 * Each tests/unit/test_*.c file is one group (one piece of the core) and
 * exposes a run_*_tests() function returning how many of its tests failed;
 * main.c runs every group. cmocka needs these headers in this order. */
#ifndef HT_TESTS_UNIT_H
#define HT_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on

#include <string.h>

int run_http_request_tests(void);
int run_http_response_tests(void);
int run_router_tests(void);
int run_error_tests(void);
int run_store_tests(void);
int run_core_tests(void);
int run_limits_tests(void);
int run_push_eval_tests(void);
int run_work_tests(void);
int run_canonical_tests(void);
int run_signing_tests(void);
int run_key_name_tests(void);
int run_pdu_tests(void);
int run_pdu_view_tests(void);
int run_event_auth_tests(void);
int run_state_res_tests(void);
int run_room_graph_tests(void);
int run_federation_tests(void);
int run_fed_e2ee_tests(void);
int run_fed_media_tests(void);
int run_fed_read_tests(void);
int run_glob_tests(void);
int run_words_tests(void);
int run_recent_keys_tests(void);
int run_faults_tests(void);
int run_group_commit_tests(void);
int run_login_limits_tests(void);
int run_wake_tests(void);
int run_request_log_tests(void);
int run_framing_tests(void);
int run_media_store_tests(void);
int run_sync_write_tests(void);
int run_wal_writes_tests(void);

/* A string literal and its length, for functions that take bytes. */
#define BYTES(s) (const unsigned char *)(s), (sizeof(s) - 1)

#endif
