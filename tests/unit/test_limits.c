/* test_limits.c -- the bounds on what a client controls: token buckets, JSON
 * nesting depth, filter patterns, and the 429s the door answers with. Time is
 * whatever now_ms the test passes, so nothing here sleeps. */
#include "unit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "api/filter.h"
#include "core/rate_limit.h"
#include "hometab.h"
#include "util/glob.h"
#include "util/json.h"

/* ---- token buckets ------------------------------------------------------ */

static void test_bucket_allows_burst_then_refuses_with_retry_after(void **state) {
    (void)state;
    ht_rate_limiter *rl = ht_rate_limiter_new();
    ht_rate rule = {2.0, 3}; /* 3 at once, then one every 500 ms */
    int64_t retry;
    for (int i = 0; i < 3; i++) assert_true(ht_rate_limit_take(rl, "k", rule, 1000, &retry));
    assert_false(ht_rate_limit_take(rl, "k", rule, 1000, &retry));
    assert_int_equal(retry, 500);
    assert_false(ht_rate_limit_take(rl, "k", rule, 1200, &retry));
    assert_int_equal(retry, 300);
    assert_true(ht_rate_limit_take(rl, "k", rule, 1500, &retry));
    assert_false(ht_rate_limit_take(rl, "k", rule, 1500, &retry));
    ht_rate_limiter_free(rl);
}

static void test_bucket_refills_to_burst_and_no_more(void **state) {
    (void)state;
    ht_rate_limiter *rl = ht_rate_limiter_new();
    ht_rate rule = {1.0, 2};
    int64_t retry;
    assert_true(ht_rate_limit_take(rl, "k", rule, 0, &retry));
    assert_true(ht_rate_limit_take(rl, "k", rule, 0, &retry));
    /* An hour later the bucket holds its burst, not 3600 tokens. */
    assert_true(ht_rate_limit_take(rl, "k", rule, 3600000, &retry));
    assert_true(ht_rate_limit_take(rl, "k", rule, 3600000, &retry));
    assert_false(ht_rate_limit_take(rl, "k", rule, 3600000, &retry));
    ht_rate_limiter_free(rl);
}

static void test_buckets_of_different_keys_are_independent(void **state) {
    (void)state;
    ht_rate_limiter *rl = ht_rate_limiter_new();
    ht_rate rule = {1.0, 1};
    int64_t retry;
    assert_true(ht_rate_limit_take(rl, "user @a:x", rule, 0, &retry));
    assert_false(ht_rate_limit_take(rl, "user @a:x", rule, 0, &retry));
    assert_true(ht_rate_limit_take(rl, "user @b:x", rule, 0, &retry));
    ht_rate_limiter_free(rl);
}

static void test_zero_rule_limits_nothing(void **state) {
    (void)state;
    ht_rate_limiter *rl = ht_rate_limiter_new();
    int64_t retry;
    for (int i = 0; i < 1000; i++) assert_true(ht_rate_limit_take(rl, "k", (ht_rate){0, 0}, 0, &retry));
    assert_int_equal(ht_rate_limiter_size(rl), 0);
    ht_rate_limiter_free(rl);
}

static void test_bucket_table_stays_bounded(void **state) {
    (void)state;
    ht_rate_limiter *rl = ht_rate_limiter_new();
    ht_rate rule = {0.001, 1}; /* nobody refills within the test */
    int64_t retry;
    char key[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "user @u%d:x", i);
        assert_true(ht_rate_limit_take(rl, key, rule, i, &retry));
        assert_true(ht_rate_limiter_size(rl) <= 4096);
    }
    /* The most recent callers are still remembered and still limited. */
    assert_false(ht_rate_limit_take(rl, "user @u19999:x", rule, 20000, &retry));
    ht_rate_limiter_free(rl);
}

/* ---- JSON depth and filter patterns -------------------------------------- */

static char *nested(int depth, const char *open, const char *close) {
    char *s = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) s[i] = open[i % strlen(open)];
    for (int i = 0; i < depth; i++) s[depth + i] = close[(depth - 1 - i) % strlen(close)];
    s[depth * 2] = '\0';
    return s;
}

static void test_json_depth_counts_arrays_and_objects(void **state) {
    (void)state;
    char *ok = nested(64, "[", "]");
    char *deep = nested(65, "[", "]");
    assert_true(ht_json_depth_ok(ok, strlen(ok), 64));
    assert_false(ht_json_depth_ok(deep, strlen(deep), 64));
    free(ok);
    free(deep);
    const char *objects = "{\"a\":{\"b\":{\"c\":[1]}}}";
    assert_true(ht_json_depth_ok(objects, strlen(objects), 4));
    assert_false(ht_json_depth_ok(objects, strlen(objects), 3));
}

static void test_json_depth_ignores_brackets_inside_strings(void **state) {
    (void)state;
    const char *text = "{\"body\":\"[[[[{{{{ \\\" [[[[\"}";
    assert_true(ht_json_depth_ok(text, strlen(text), 1));
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "filter glob took more than 10 s: it backtracks exponentially\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

static void test_filter_patterns_match_in_polynomial_time(void **state) {
    (void)state;
    signal(SIGALRM, on_alarm);
    alarm(10);
    /* 40 stars against 200 characters that never end in the right letter:
     * a backtracking matcher tries on the order of 200^40 splits. */
    char pattern[128] = "";
    for (int i = 0; i < 40; i++) strcat(pattern, "*a");
    strcat(pattern, "b");
    char type[201];
    memset(type, 'a', 200);
    type[200] = '\0';
    json_t *filter = json_pack("{s:[s]}", "types", pattern);
    ht_env env = {.match_budget = HT_MATCH_BUDGET};
    assert_false(ht_filter_allows(&env, filter, type, "@a:x"));
    json_decref(filter);
    alarm(0);
}

static void test_filter_patterns_still_match(void **state) {
    (void)state;
    ht_env env = {.match_budget = HT_MATCH_BUDGET};
    json_t *f = json_pack("{s:[s, s], s:[s]}", "types", "m.room.*", "*.call.*", "not_types", "m.room.member");
    assert_true(ht_filter_allows(&env, f, "m.room.message", "@a:x"));
    assert_true(ht_filter_allows(&env, f, "m.room.", "@a:x"));
    assert_true(ht_filter_allows(&env, f, "org.call.invite", "@a:x"));
    assert_false(ht_filter_allows(&env, f, "m.room.member", "@a:x"));
    assert_false(ht_filter_allows(&env, f, "m.roo", "@a:x"));
    assert_false(ht_filter_allows(&env, f, "x.m.room.message", "@a:x"));
    json_decref(f);
    f = json_pack("{s:[s]}", "types", "m*e*e");
    assert_true(ht_filter_allows(&env, f, "m.room.message", "@a:x"));
    assert_false(ht_filter_allows(&env, f, "m.room.messages", "@a:x"));
    json_decref(f);
}

/* ---- through the door ---------------------------------------------------- */

typedef struct reply {
    int status;
    json_t *json;
    char head[2048];
} reply;

static reply call(ht_core *core, int64_t now, const char *method, const char *path, const char *token,
                  const char *body) {
    char req[8192];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\n%s%s%sContent-Length: %zu\r\n\r\n%s", method,
             path, token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "",
             body ? strlen(body) : 0, body ? body : "");
    ht_result r;
    ht_core_handle(core, (const unsigned char *)req, strlen(req), &(ht_request_meta){.received_ms = now, .now_ms = now}, &r);
    assert_int_equal(r.outcome, HT_ANSWER);
    reply out = {0};
    assert_int_equal(sscanf((const char *)r.response, "HTTP/1.1 %d", &out.status), 1);
    const unsigned char *end = memmem(r.response, r.response_len, "\r\n\r\n", 4);
    assert_non_null(end);
    size_t head_len = (size_t)(end - r.response);
    snprintf(out.head, sizeof out.head, "%.*s", (int)head_len + 2, (const char *)r.response);
    out.json = json_loadb((const char *)end + 4, r.response_len - head_len - 4, 0, NULL);
    return out;
}

static ht_core *open_limited(void) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
    cfg.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    cfg.rate_login = (ht_rate){1.0, 3};
    cfg.rate_register = (ht_rate){1.0, 4};
    cfg.rate_user = (ht_rate){2.0, 2};
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    assert_non_null(core);
    return core;
}

static char *register_user(ht_core *core, int64_t now, const char *name) {
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"pw\",\"auth\":{\"type\":\"m.login.dummy\"}}",
             name);
    reply r = call(core, now, "POST", "/_matrix/client/v3/register", NULL, body);
    assert_int_equal(r.status, 200);
    char *token = strdup(json_string_value(json_object_get(r.json, "access_token")));
    json_decref(r.json);
    return token;
}

static void assert_limited(reply *r, int64_t retry_ms) {
    assert_int_equal(r->status, 429);
    assert_string_equal(json_string_value(json_object_get(r->json, "errcode")), "M_LIMIT_EXCEEDED");
    assert_int_equal(json_integer_value(json_object_get(r->json, "retry_after_ms")), retry_ms);
    char header[64];
    snprintf(header, sizeof header, "\r\nRetry-After: %lld\r\n", (long long)((retry_ms + 999) / 1000));
    assert_non_null(strstr(r->head, header));
    json_decref(r->json);
}

static void test_login_bucket_counts_failed_logins_and_refills(void **state) {
    (void)state;
    ht_core *core = open_limited();
    free(register_user(core, 0, "alice"));
    const char *wrong = "{\"type\":\"m.login.password\",\"user\":\"alice\",\"password\":\"guess\"}";
    const char *right = "{\"type\":\"m.login.password\",\"user\":\"alice\",\"password\":\"pw\"}";
    for (int i = 0; i < 3; i++) {
        reply r = call(core, 1000, "POST", "/_matrix/client/v3/login", NULL, wrong);
        assert_int_equal(r.status, 403);
        json_decref(r.json);
    }
    /* Even the right password waits: guesses and logins share the bucket. */
    reply r = call(core, 1000, "POST", "/_matrix/client/v3/login", NULL, right);
    assert_limited(&r, 1000);
    r = call(core, 1400, "POST", "/_matrix/client/r0/login", NULL, right);
    assert_limited(&r, 600);
    r = call(core, 2000, "POST", "/_matrix/client/v3/login", NULL, right);
    assert_int_equal(r.status, 200);
    json_decref(r.json);
    ht_core_close(core);
}

static void test_register_bucket_is_shared_by_every_caller(void **state) {
    (void)state;
    ht_core *core = open_limited();
    char name[16];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "u%d", i);
        free(register_user(core, 0, name));
    }
    reply r = call(core, 0, "POST", "/_matrix/client/v3/register", NULL,
                   "{\"username\":\"late\",\"password\":\"pw\",\"auth\":{\"type\":\"m.login.dummy\"}}");
    assert_limited(&r, 1000);
    /* The refused registration changed nothing: the name is still free. */
    r = call(core, 5000, "GET", "/_matrix/client/v3/register/available?username=late", NULL, NULL);
    assert_int_equal(r.status, 200);
    json_decref(r.json);
    ht_core_close(core);
}

static void test_send_bucket_is_per_user(void **state) {
    (void)state;
    ht_core *core = open_limited();
    char *alice = register_user(core, 0, "alice");
    char *bob = register_user(core, 0, "bob");
    reply r = call(core, 10000, "POST", "/_matrix/client/v3/createRoom", alice, "{\"preset\":\"public_chat\"}");
    assert_int_equal(r.status, 200);
    char room[128];
    snprintf(room, sizeof room, "%s", json_string_value(json_object_get(r.json, "room_id")));
    json_decref(r.json);
    char path[256];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s", room);
    r = call(core, 10000, "POST", path, bob, "{}");
    assert_int_equal(r.status, 200);
    json_decref(r.json);

    /* alice has one token left after createRoom; bob one after joining. */
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/a1", room);
    r = call(core, 10000, "PUT", path, alice, "{\"msgtype\":\"m.text\",\"body\":\"1\"}");
    assert_int_equal(r.status, 200);
    json_decref(r.json);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/a2", room);
    r = call(core, 10000, "PUT", path, alice, "{\"msgtype\":\"m.text\",\"body\":\"2\"}");
    assert_limited(&r, 500);
    /* Reading is never limited, and bob is not slowed down by alice. */
    r = call(core, 10000, "GET", "/_matrix/client/v3/account/whoami", alice, NULL);
    assert_int_equal(r.status, 200);
    json_decref(r.json);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/b1", room);
    r = call(core, 10000, "PUT", path, bob, "{\"msgtype\":\"m.text\",\"body\":\"b\"}");
    assert_int_equal(r.status, 200);
    json_decref(r.json);
    /* The refused send stored nothing: the same txn id later makes a new event. */
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/a2", room);
    r = call(core, 10500, "PUT", path, alice, "{\"msgtype\":\"m.text\",\"body\":\"2\"}");
    assert_int_equal(r.status, 200);
    json_decref(r.json);
    free(alice);
    free(bob);
    ht_core_close(core);
}

static void test_rate_limit_off_limits_nothing(void **state) {
    (void)state;
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.rate_limit = false;
    cfg.rate_login = (ht_rate){0.001, 1};
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    assert_non_null(core);
    for (int i = 0; i < 5; i++) {
        reply r = call(core, 0, "POST", "/_matrix/client/v3/login", NULL,
                       "{\"type\":\"m.login.password\",\"user\":\"nobody\",\"password\":\"x\"}");
        assert_int_equal(r.status, 403);
        json_decref(r.json);
    }
    ht_core_close(core);
}

static void test_deeply_nested_body_is_refused_as_bad_json(void **state) {
    (void)state;
    ht_core *core = open_limited();
    char *deep = nested(65, "[", "]");
    char body[300];
    snprintf(body, sizeof body, "{\"username\":%s}", deep); /* 66 levels with the object */
    reply r = call(core, 0, "POST", "/_matrix/client/v3/register", NULL, body);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "errcode")), "M_BAD_JSON");
    json_decref(r.json);
    free(deep);
    /* 64 levels is fine as JSON (and then refused for its content). */
    deep = nested(63, "[", "]");
    snprintf(body, sizeof body, "{\"username\":%s}", deep);
    r = call(core, 0, "POST", "/_matrix/client/v3/register", NULL, body);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "errcode")), "M_BAD_JSON");
    assert_null(strstr(json_string_value(json_object_get(r.json, "error")), "nests deeper"));
    json_decref(r.json);
    free(deep);
    ht_core_close(core);
}

static void test_sync_timeout_is_capped_at_a_minute(void **state) {
    (void)state;
    ht_core *core = open_limited();
    char *token = register_user(core, 0, "alice");
    reply r = call(core, 0, "GET", "/_matrix/client/v3/sync", token, NULL);
    assert_int_equal(r.status, 200);
    char path[256];
    snprintf(path, sizeof path, "/_matrix/client/v3/sync?since=%s&timeout=999999999999",
             json_string_value(json_object_get(r.json, "next_batch")));
    json_decref(r.json);
    char req[1024];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n\r\n", path, token);
    ht_result res;
    ht_core_handle(core, (const unsigned char *)req, strlen(req), &(ht_request_meta){.received_ms = 5000, .now_ms = 5000}, &res);
    assert_int_equal(res.outcome, HT_PARK);
    assert_int_equal(res.park_deadline_ms, 5000 + 60000);
    /* At the deadline it answers, empty. */
    ht_core_handle(core, (const unsigned char *)req, strlen(req), &(ht_request_meta){.received_ms = 5000, .now_ms = 65000}, &res);
    assert_int_equal(res.outcome, HT_ANSWER);
    assert_memory_equal(res.response, "HTTP/1.1 200", 12);
    free(token);
    ht_core_close(core);
}

int run_limits_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_allows_burst_then_refuses_with_retry_after),
        cmocka_unit_test(test_bucket_refills_to_burst_and_no_more),
        cmocka_unit_test(test_buckets_of_different_keys_are_independent),
        cmocka_unit_test(test_zero_rule_limits_nothing),
        cmocka_unit_test(test_bucket_table_stays_bounded),
        cmocka_unit_test(test_json_depth_counts_arrays_and_objects),
        cmocka_unit_test(test_json_depth_ignores_brackets_inside_strings),
        cmocka_unit_test(test_filter_patterns_match_in_polynomial_time),
        cmocka_unit_test(test_filter_patterns_still_match),
        cmocka_unit_test(test_login_bucket_counts_failed_logins_and_refills),
        cmocka_unit_test(test_register_bucket_is_shared_by_every_caller),
        cmocka_unit_test(test_send_bucket_is_per_user),
        cmocka_unit_test(test_rate_limit_off_limits_nothing),
        cmocka_unit_test(test_deeply_nested_body_is_refused_as_bad_json),
        cmocka_unit_test(test_sync_timeout_is_capped_at_a_minute),
    };
    return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
