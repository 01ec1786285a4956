/* test_login_limits.c -- who pays for a login (core/login_limit.c): only
 * attempts that run Argon2 are charged; one client address flooding cannot
 * lock anybody else out, and guesses at one account from many addresses are
 * bounded. The client address comes in ht_request_meta, as a host that
 * knows its peer passes it. Time is whatever now_ms the test says. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "hometab.h"

static const char RIGHT[] = "{\"type\":\"m.login.password\",\"user\":\"%s\",\"password\":\"pw\"}";
static const char WRONG[] = "{\"type\":\"m.login.password\",\"user\":\"%s\",\"password\":\"guess\"}";

/* One request through the door, password work run in place as a host with
 * a thread pool would; returns the status and *retry_after_ms of a 429. */
static int call(ht_core *core, int64_t now, const char *address, const char *path, const char *body_fmt,
                const char *user, int64_t *retry_after_ms, int *passes) {
    char body[512], req[1024];
    snprintf(body, sizeof body, body_fmt, user);
    snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%s", path, strlen(body),
             body);
    ht_request_meta meta = {.received_ms = now, .now_ms = now, .client_address = address};
    ht_result r;
    int n = 0;
    for (;;) {
        ht_core_handle(core, (const unsigned char *)req, strlen(req), &meta, &r);
        n++;
        if (r.outcome != HT_WORK) break;
        ht_work_run(r.work);
        ht_core_work_done(core, r.work);
    }
    if (passes) *passes = n;
    assert_int_equal(r.outcome, HT_ANSWER);
    int status = 0;
    assert_int_equal(sscanf((const char *)r.response, "HTTP/1.1 %d", &status), 1);
    if (retry_after_ms) {
        *retry_after_ms = 0;
        const unsigned char *end = memmem(r.response, r.response_len, "\r\n\r\n", 4);
        json_t *json = json_loadb((const char *)end + 4, r.response_len - (size_t)(end + 4 - r.response), 0, NULL);
        *retry_after_ms = json_integer_value(json_object_get(json, "retry_after_ms"));
        json_decref(json);
    }
    return status;
}

static int login(ht_core *core, int64_t now, const char *address, const char *fmt, const char *user) {
    return call(core, now, address, "/_matrix/client/v3/login", fmt, user, NULL, NULL);
}

static ht_config limited_config(void) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
    cfg.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    cfg.rate_register = (ht_rate){100, 100};
    cfg.rate_register_address = (ht_rate){100, 100};
    cfg.rate_login = (ht_rate){1.0, 100};
    cfg.rate_login_address = (ht_rate){0.1, 3};
    cfg.rate_login_account = (ht_rate){0.2, 5};
    return cfg;
}

static ht_core *open_with(ht_config cfg) {
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    assert_non_null(core);
    return core;
}

static void register_user(ht_core *core, const char *name) {
    assert_int_equal(call(core, 0, NULL, "/_matrix/client/v3/register",
                          "{\"username\":\"%s\",\"password\":\"pw\",\"auth\":{\"type\":\"m.login.dummy\"}}", name,
                          NULL, NULL),
                     200);
}

static void test_login_for_a_name_that_does_not_exist_costs_no_token(void **state) {
    (void)state;
    ht_config cfg = limited_config();
    cfg.rate_login = (ht_rate){0.001, 2}; /* two checks in all, then a long wait */
    ht_core *core = open_with(cfg);
    register_user(core, "alice");
    /* Forty attempts from one address: nothing to check, nothing charged. */
    for (int i = 0; i < 40; i++) assert_int_equal(login(core, 1000, "192.0.2.1", WRONG, "nobody"), 403);
    assert_int_equal(login(core, 1000, "192.0.2.1", RIGHT, "alice"), 200);
    ht_core_close(core);
}

static void test_login_for_an_account_without_password_costs_no_token(void **state) {
    (void)state;
    /* An account with no password (as made by an administrator or a
     * future single sign-on) is written straight into the database. */
    char path[] = "/tmp/hometab-login-limits-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ht_config cfg = limited_config();
    cfg.db_path = path;
    cfg.rate_login = (ht_rate){0.001, 1};
    ht_core *core = open_with(cfg);
    register_user(core, "alice");
    ht_core_close(core);
    char sql[512];
    snprintf(sql, sizeof sql, "sqlite3 %s \"INSERT INTO users(user_id, password_hash, created_ms) "
                              "VALUES ('@nopass:localhost', NULL, 0)\"", path);
    assert_int_equal(system(sql), 0);
    core = open_with(cfg);
    for (int i = 0; i < 20; i++) assert_int_equal(login(core, 1000, "192.0.2.1", WRONG, "nopass"), 403);
    assert_int_equal(login(core, 1000, "192.0.2.1", RIGHT, "alice"), 200);
    ht_core_close(core);
    unlink(path);
    char side[sizeof path + 8];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void test_one_address_flooding_does_not_lock_the_owner_out(void **state) {
    (void)state;
    ht_core *core = open_with(limited_config());
    register_user(core, "alice");
    /* The address's burst of 3, then 429 with the wait for its next token. */
    for (int i = 0; i < 3; i++) assert_int_equal(login(core, 1000, "192.0.2.1", WRONG, "alice"), 403);
    int64_t retry;
    assert_int_equal(call(core, 1000, "192.0.2.1", "/_matrix/client/v3/login", WRONG, "alice", &retry, NULL), 429);
    assert_int_equal(retry, 10000);
    /* Even the right password from the flooding address waits... */
    assert_int_equal(login(core, 1000, "192.0.2.1", RIGHT, "alice"), 429);
    /* ...but alice, from her own address, gets in at once. */
    assert_int_equal(login(core, 1000, "198.51.100.7", RIGHT, "alice"), 200);
    /* The flood goes on for a minute at the address's pace (one try every
     * 10 s); the account's failures refill faster, so it never locks. */
    for (int64_t t = 11000; t <= 71000; t += 10000) {
        assert_int_equal(login(core, t, "192.0.2.1", WRONG, "alice"), 403);
        assert_int_equal(login(core, t, "192.0.2.1", WRONG, "alice"), 429);
    }
    assert_int_equal(login(core, 71000, "198.51.100.7", RIGHT, "alice"), 200);
    ht_core_close(core);
}

static void test_guesses_at_one_account_from_many_addresses_are_bounded(void **state) {
    (void)state;
    ht_core *core = open_with(limited_config());
    register_user(core, "alice");
    register_user(core, "bob");
    char address[32];
    /* Five failures, each from another address, empty alice's bucket. */
    for (int i = 0; i < 5; i++) {
        snprintf(address, sizeof address, "203.0.113.%d", i + 1);
        assert_int_equal(login(core, 1000, address, WRONG, "alice"), 403);
    }
    int64_t retry;
    assert_int_equal(call(core, 1000, "203.0.113.99", "/_matrix/client/v3/login", RIGHT, "alice", &retry, NULL),
                     429);
    assert_int_equal(retry, 5000);
    /* Other accounts are not affected; alice's bucket refills. */
    assert_int_equal(login(core, 1000, "203.0.113.99", RIGHT, "bob"), 200);
    assert_int_equal(login(core, 6000, "203.0.113.100", RIGHT, "alice"), 200);
    ht_core_close(core);
}

static void test_ipv6_addresses_share_a_bucket_per_64(void **state) {
    (void)state;
    ht_core *core = open_with(limited_config());
    register_user(core, "alice");
    assert_int_equal(login(core, 1000, "2001:db8:1:2::1", WRONG, "alice"), 403);
    assert_int_equal(login(core, 1000, "2001:db8:1:2::ffff", WRONG, "alice"), 403);
    assert_int_equal(login(core, 1000, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", WRONG, "alice"), 403);
    assert_int_equal(login(core, 1000, "2001:db8:1:2::2", RIGHT, "alice"), 429);
    /* The next /64 is another subscriber; an IPv4-mapped address is IPv4. */
    assert_int_equal(login(core, 1000, "2001:db8:1:3::1", RIGHT, "alice"), 200);
    register_user(core, "bob"); /* alice's failures are near their bound */
    assert_int_equal(login(core, 1000, "192.0.2.1", WRONG, "bob"), 403);
    assert_int_equal(login(core, 1000, "::ffff:192.0.2.1", WRONG, "bob"), 403);
    assert_int_equal(login(core, 1000, "192.0.2.1", WRONG, "bob"), 403);
    assert_int_equal(login(core, 1000, "::ffff:192.0.2.1", RIGHT, "bob"), 429);
    ht_core_close(core);
}

static void test_a_login_handed_out_as_work_is_charged_once(void **state) {
    (void)state;
    ht_config cfg = limited_config();
    cfg.offload_hashing = true; /* two passes per login: hand out, then replay */
    cfg.rate_login_address = (ht_rate){0.001, 2};
    ht_core *core = open_with(cfg);
    register_user(core, "alice");
    int passes;
    assert_int_equal(call(core, 1000, "192.0.2.1", "/_matrix/client/v3/login", WRONG, "alice", NULL, &passes), 403);
    assert_int_equal(passes, 2);
    assert_int_equal(call(core, 1000, "192.0.2.1", "/_matrix/client/v3/login", RIGHT, "alice", NULL, &passes), 200);
    assert_int_equal(passes, 2);
    /* The third is over the burst of 2, refused before any work. */
    assert_int_equal(call(core, 1000, "192.0.2.1", "/_matrix/client/v3/login", RIGHT, "alice", NULL, &passes), 429);
    assert_int_equal(passes, 1);
    ht_core_close(core);
}

static void test_registration_is_limited_per_address_too(void **state) {
    (void)state;
    ht_config cfg = limited_config();
    cfg.rate_register_address = (ht_rate){0.001, 2};
    ht_core *core = open_with(cfg);
    const char *fmt = "{\"username\":\"%s\",\"password\":\"pw\",\"auth\":{\"type\":\"m.login.dummy\"}}";
    assert_int_equal(call(core, 0, "192.0.2.1", "/_matrix/client/v3/register", fmt, "u1", NULL, NULL), 200);
    assert_int_equal(call(core, 0, "192.0.2.1", "/_matrix/client/v3/register", fmt, "u2", NULL, NULL), 200);
    assert_int_equal(call(core, 0, "192.0.2.1", "/_matrix/client/v3/register", fmt, "u3", NULL, NULL), 429);
    assert_int_equal(call(core, 0, "192.0.2.2", "/_matrix/client/v3/register", fmt, "u3", NULL, NULL), 200);
    ht_core_close(core);
}

int run_login_limits_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_for_a_name_that_does_not_exist_costs_no_token),
        cmocka_unit_test(test_login_for_an_account_without_password_costs_no_token),
        cmocka_unit_test(test_one_address_flooding_does_not_lock_the_owner_out),
        cmocka_unit_test(test_guesses_at_one_account_from_many_addresses_are_bounded),
        cmocka_unit_test(test_ipv6_addresses_share_a_bucket_per_64),
        cmocka_unit_test(test_a_login_handed_out_as_work_is_charged_once),
        cmocka_unit_test(test_registration_is_limited_per_address_too),
    };
    return cmocka_run_group_tests_name("login limits", tests, NULL, NULL);
}
