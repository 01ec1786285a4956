/* test_work.c -- password work handed out through the door (HT_WORK): the
 * request is rolled back, the work runs apart, the same bytes are retried
 * and answered. Here the "host" runs the work itself between the calls. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "hometab.h"

static int open_core(void **state) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.server_name = "unit.test";
    cfg.offload_hashing = true;
    cfg.pwhash_opslimit = 1; /* the cheapest Argon2id libsodium allows: these tests count passes */
    cfg.pwhash_memlimit = 8192;
    cfg.rate_login = (ht_rate){0.001, 1}; /* one login, then none for a long while */
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    if (!core) return -1;
    *state = core;
    return 0;
}

static int close_core(void **state) {
    ht_core_close(*state);
    return 0;
}

static char *post(const char *path, const char *body, const char *token) {
    char *text = NULL;
    size_t n;
    FILE *f = open_memstream(&text, &n);
    fprintf(f, "POST %s HTTP/1.1\r\nHost: unit.test\r\nContent-Length: %zu\r\n", path, strlen(body));
    if (token) fprintf(f, "Authorization: Bearer %s\r\n", token);
    fprintf(f, "\r\n%s", body);
    fclose(f);
    return text;
}

/* Calls the door with the request until it answers, running each piece of
 * work handed out; returns the status and, through *json, the body. */
static int until_answered(ht_core *core, const char *request, int *passes, json_t **json) {
    ht_result r;
    *passes = 0;
    for (;;) {
        ht_core_handle(core, (const unsigned char *)request, strlen(request), &(ht_request_meta){.received_ms = 1000, .now_ms = 1000}, &r);
        (*passes)++;
        if (r.outcome != HT_WORK) break;
        assert_non_null(r.work);
        ht_work_run(r.work);
        ht_core_work_done(core, r.work);
        assert_true(*passes < 10);
    }
    assert_int_equal(r.outcome, HT_ANSWER);
    int status = 0;
    assert_int_equal(sscanf((const char *)r.response, "HTTP/1.1 %d ", &status), 1);
    const unsigned char *body = memmem(r.response, r.response_len, "\r\n\r\n", 4) + 4;
    *json = json_loadb((const char *)body, r.response_len - (size_t)(body - r.response), 0, NULL);
    return status;
}

static const char *REGISTER =
    "{\"username\":\"ann\",\"password\":\"first-pw\",\"auth\":{\"type\":\"m.login.dummy\"}}";

static void test_register_hashes_off_the_door_then_answers(void **state) {
    char *req = post("/_matrix/client/v3/register", REGISTER, NULL);
    int passes;
    json_t *json;
    assert_int_equal(until_answered(*state, req, &passes, &json), 200);
    assert_int_equal(passes, 2); /* handed out once, answered on the replay */
    assert_string_equal(json_string_value(json_object_get(json, "user_id")), "@ann:unit.test");
    json_decref(json);
    free(req);
}

static char *login_body(const char *password) {
    char *body;
    assert_true(asprintf(&body, "{\"type\":\"m.login.password\",\"identifier\":{\"type\":\"m.id.user\","
                                "\"user\":\"ann\"},\"password\":\"%s\"}", password) > 0);
    return body;
}

static void test_login_replay_is_not_rate_limited_twice(void **state) {
    char *reg = post("/_matrix/client/v3/register", REGISTER, NULL);
    int passes;
    json_t *json;
    assert_int_equal(until_answered(*state, reg, &passes, &json), 200);
    json_decref(json);
    /* The login bucket holds one token: the first pass takes it, the replay
     * must not ask again. */
    char *body = login_body("first-pw");
    char *login = post("/_matrix/client/v3/login", body, NULL);
    assert_int_equal(until_answered(*state, login, &passes, &json), 200);
    assert_int_equal(passes, 2);
    assert_true(json_is_string(json_object_get(json, "access_token")));
    json_decref(json);
    /* A new login is a new request: no token left. */
    assert_int_equal(until_answered(*state, login, &passes, &json), 429);
    assert_int_equal(passes, 1);
    json_decref(json);
    free(body);
    free(login);
    free(reg);
}

static void test_a_wrong_password_is_refused_after_its_check(void **state) {
    char *reg = post("/_matrix/client/v3/register", REGISTER, NULL);
    int passes;
    json_t *json;
    assert_int_equal(until_answered(*state, reg, &passes, &json), 200);
    json_decref(json);
    char *body = login_body("wrong-pw");
    char *login = post("/_matrix/client/v3/login", body, NULL);
    assert_int_equal(until_answered(*state, login, &passes, &json), 403);
    assert_int_equal(passes, 2);
    json_decref(json);
    free(body);
    free(login);
    free(reg);
}

static void test_password_change_checks_then_hashes_and_the_new_one_works(void **state) {
    char *reg = post("/_matrix/client/v3/register", REGISTER, NULL);
    int passes;
    json_t *json;
    assert_int_equal(until_answered(*state, reg, &passes, &json), 200);
    char *token = strdup(json_string_value(json_object_get(json, "access_token")));
    json_decref(json);
    /* A UIA session first, then the change: a check (the old password) and a
     * hash (the new one), each handed out in turn. */
    char *ask = post("/_matrix/client/v3/account/password", "{\"new_password\":\"second-pw\"}", token);
    assert_int_equal(until_answered(*state, ask, &passes, &json), 401);
    char *change_body;
    assert_true(asprintf(&change_body,
                         "{\"new_password\":\"second-pw\",\"logout_devices\":false,\"auth\":{\"type\":"
                         "\"m.login.password\",\"session\":\"%s\",\"identifier\":{\"type\":\"m.id.user\","
                         "\"user\":\"ann\"},\"password\":\"first-pw\"}}",
                         json_string_value(json_object_get(json, "session"))) > 0);
    json_decref(json);
    char *change = post("/_matrix/client/v3/account/password", change_body, token);
    assert_int_equal(until_answered(*state, change, &passes, &json), 200);
    assert_int_equal(passes, 3);
    json_decref(json);
    char *body = login_body("second-pw");
    char *login = post("/_matrix/client/v3/login", body, NULL);
    assert_int_equal(until_answered(*state, login, &passes, &json), 200);
    json_decref(json);
    free(body);
    free(login);
    free(change);
    free(change_body);
    free(ask);
    free(token);
    free(reg);
}

static void test_a_check_made_for_an_old_hash_is_not_reused(void **state) {
    ht_core *core = *state;
    char *reg = post("/_matrix/client/v3/register", REGISTER, NULL);
    int passes;
    json_t *json;
    assert_int_equal(until_answered(core, reg, &passes, &json), 200);
    char *token = strdup(json_string_value(json_object_get(json, "access_token")));
    json_decref(json);
    /* A login's check comes back saying "first-pw matches"... */
    char *body = login_body("first-pw");
    char *login = post("/_matrix/client/v3/login", body, NULL);
    ht_result r;
    ht_core_handle(core, (const unsigned char *)login, strlen(login), &(ht_request_meta){.received_ms = 1000, .now_ms = 1000}, &r);
    assert_int_equal(r.outcome, HT_WORK);
    ht_work *check = r.work;
    ht_work_run(check);
    /* ...but before the replay, the password changes. */
    char *ask = post("/_matrix/client/v3/account/password", "{\"new_password\":\"second-pw\"}", token);
    assert_int_equal(until_answered(core, ask, &passes, &json), 401);
    char *change_body;
    assert_true(asprintf(&change_body,
                         "{\"new_password\":\"second-pw\",\"auth\":{\"type\":\"m.login.password\","
                         "\"session\":\"%s\",\"user\":\"ann\",\"password\":\"first-pw\"}}",
                         json_string_value(json_object_get(json, "session"))) > 0);
    json_decref(json);
    char *change = post("/_matrix/client/v3/account/password", change_body, token);
    assert_int_equal(until_answered(core, change, &passes, &json), 200);
    json_decref(json);
    ht_core_work_done(core, check);
    /* The replay must check against the new hash, and the old password fails. */
    assert_int_equal(until_answered(core, login, &passes, &json), 403);
    assert_int_equal(passes, 2);
    json_decref(json);
    free(change);
    free(change_body);
    free(ask);
    free(login);
    free(body);
    free(token);
    free(reg);
}

int run_work_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_hashes_off_the_door_then_answers, open_core, close_core),
        cmocka_unit_test_setup_teardown(test_login_replay_is_not_rate_limited_twice, open_core, close_core),
        cmocka_unit_test_setup_teardown(test_a_wrong_password_is_refused_after_its_check, open_core, close_core),
        cmocka_unit_test_setup_teardown(test_password_change_checks_then_hashes_and_the_new_one_works, open_core,
                                        close_core),
        cmocka_unit_test_setup_teardown(test_a_check_made_for_an_old_hash_is_not_reused, open_core, close_core),
    };
    return cmocka_run_group_tests_name("work", tests, NULL, NULL);
}
