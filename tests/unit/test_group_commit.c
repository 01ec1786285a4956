/* test_group_commit.c -- several requests, one transaction, one COMMIT
 * (ht_core_group_begin/commit, issue 15), on a real SQLite file in WAL
 * mode with a second connection that sees only what was committed.
 *
 * Inside a group each request is still all or nothing: one that fails at
 * any of its statements (the store's fault injection, for every n) changes
 * nothing while the others of its group commit. Nothing of a group is
 * visible, nor told (stream position, wake keys), before its COMMIT. A
 * failed COMMIT answers every request of the group 500, and leaves the
 * database and the core's state exactly as before the group (its rate
 * limit tokens included). And on a disk
 * that fills up for real, wherever it fills, every answer agrees with what
 * the database holds afterwards. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "core/core.h"
#include "db_fingerprint.h"
#include "hometab.h"
#include "store/db.h"
#include "store/store.h"

typedef struct scene {
    ht_core *core;
    char dir[64], path[96];
    sqlite3 *observer; /* a second connection: sees only what was committed */
    char *alice, *bob, *room; /* tokens; the room's id, percent-encoded */
    int64_t clock;
    int txn;
} scene;

typedef struct answer {
    int status;
    bool wrote;
    json_t *json;
} answer;

static answer handle(scene *sc, const char *method, const char *path, const char *token, const char *body) {
    char *req;
    size_t len = body ? strlen(body) : 0;
    int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: t\r\n%s%s%sContent-Length: %zu\r\n\r\n%s", method, path,
                     token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "", len,
                     body ? body : "");
    assert_true(n > 0);
    ht_result r;
    sc->clock += 3;
    ht_core_handle(sc->core, (const unsigned char *)req, (size_t)n, &(ht_request_meta){.received_ms = sc->clock, .now_ms = sc->clock}, &r);
    free(req);
    assert_int_equal(r.outcome, HT_ANSWER);
    answer a = {.wrote = r.wrote};
    assert_int_equal(sscanf((const char *)r.response, "HTTP/1.1 %d", &a.status), 1);
    const unsigned char *end = memmem(r.response, r.response_len, "\r\n\r\n", 4);
    assert_non_null(end);
    a.json = json_loadb((const char *)end + 4, r.response_len - (size_t)(end + 4 - r.response), 0, NULL);
    /* Inside a group nothing is told before the COMMIT. */
    if (sc->core->group.open) {
        assert_int_equal(r.wake_key_count, 0);
        assert_false(r.wake_all);
        assert_false(r.outbound);
    }
    return a;
}

/* A message with `body` into the room, by alice or bob. */
static answer send_message(scene *sc, const char *token, const char *body) {
    char path[256], *json;
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/g%d", sc->room, ++sc->txn);
    assert_true(asprintf(&json, "{\"msgtype\": \"m.text\", \"body\": \"%s\"}", body) > 0);
    answer a = handle(sc, "PUT", path, token, json);
    free(json);
    return a;
}

/* How many times a message with `body` is in the room's committed history,
 * as the observer sees it. */
static int committed_copies(scene *sc, const char *body) {
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(sc->observer,
                                        "SELECT count(*) FROM events WHERE type = 'm.room.message' AND "
                                        "json_extract(json, '$.content.body') = ?",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(s, 1, body, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return n;
}

static char *str_of(json_t *json, const char *key) {
    const char *v = json_string_value(json_object_get(json, key));
    assert_non_null(v);
    return strdup(v);
}

static char *register_user(scene *sc, const char *name) {
    char body[200];
    snprintf(body, sizeof body, "{\"username\": \"%s\", \"password\": \"pw-%s\", \"auth\": {\"type\": \"m.login.dummy\"}}",
             name, name);
    answer a = handle(sc, "POST", "/_matrix/client/v3/register", NULL, body);
    assert_int_equal(a.status, 200);
    char *token = str_of(a.json, "access_token");
    json_decref(a.json);
    return token;
}

/* Scenes opened with rate limits: three calls per user, then one every
 * 1000 s (never, in a test). */
static bool limited;

static int open_scene(void **state) {
    scene *sc = calloc(1, sizeof *sc);
    sc->clock = 1700000000000;
    strcpy(sc->dir, "/tmp/hometab-group-XXXXXX");
    assert_non_null(mkdtemp(sc->dir));
    snprintf(sc->path, sizeof sc->path, "%s/db.sqlite", sc->dir);
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = sc->path;
    cfg.server_name = "group.test";
    cfg.rate_limit = limited;
    cfg.rate_user = (ht_rate){0.001, 3};
    cfg.pwhash_opslimit = 1;
    cfg.pwhash_memlimit = 8192;
    char err[256];
    sc->core = ht_core_open(&cfg, err, sizeof err);
    assert_non_null(sc->core);
    assert_int_equal(sqlite3_open_v2(sc->path, &sc->observer, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sc->alice = register_user(sc, "alice");
    sc->bob = register_user(sc, "bob");
    answer a = handle(sc, "POST", "/_matrix/client/v3/createRoom", sc->alice, "{\"preset\": \"public_chat\"}");
    assert_int_equal(a.status, 200);
    const char *id = json_string_value(json_object_get(a.json, "room_id"));
    sc->room = malloc(strlen(id) * 3 + 1);
    char *o = sc->room;
    for (const char *p = id; *p; p++) o += (*p == '!' || *p == ':') ? sprintf(o, "%%%02X", *p) : sprintf(o, "%c", *p);
    json_decref(a.json);
    char path[200];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s", sc->room);
    a = handle(sc, "POST", path, sc->bob, "{}");
    assert_int_equal(a.status, 200);
    json_decref(a.json);
    *state = sc;
    return 0;
}

static int close_scene(void **state) {
    scene *sc = *state;
    ht_store_inject_fault(0);
    sqlite3_close(sc->observer);
    ht_core_close(sc->core);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sc->dir);
    assert_int_equal(system(cmd), 0);
    free(sc->alice), free(sc->bob), free(sc->room);
    free(sc);
    return 0;
}

static void test_a_request_failing_in_a_group_changes_nothing_while_the_others_commit(void **state) {
    scene *sc = *state;
    int fired = 0;
    for (int nth = 1;; nth++) {
        char first[32], middle[32], last[32];
        snprintf(first, sizeof first, "first %d", nth);
        snprintf(middle, sizeof middle, "middle %d", nth);
        snprintf(last, sizeof last, "last %d", nth);
        unsigned char before[crypto_generichash_BYTES], during[crypto_generichash_BYTES];
        db_fingerprint(sc->observer, before);
        uint64_t position = ht_core_stream_position(sc->core);

        assert_true(ht_core_group_begin(sc->core));
        answer a = send_message(sc, sc->alice, first);
        ht_store_inject_fault(nth);
        answer b = send_message(sc, sc->bob, middle);
        bool failed = ht_store_fault_fired();
        ht_store_inject_fault(0);
        answer c = send_message(sc, sc->alice, last);
        /* Nothing of the group is out before its COMMIT. */
        db_fingerprint(sc->observer, during);
        assert_memory_equal(before, during, sizeof before);
        assert_int_equal(ht_core_stream_position(sc->core), position);
        ht_group_result group;
        ht_core_group_commit(sc->core, &group);

        assert_true(group.committed);
        assert_int_equal(a.status, 200);
        assert_int_equal(c.status, 200);
        assert_true(a.wrote && c.wrote);
        assert_int_equal(committed_copies(sc, first), 1);
        assert_int_equal(committed_copies(sc, last), 1);
        /* Three messages, or two: the stream moved, and the room's
         * long-polls are told. */
        assert_int_equal(ht_core_stream_position(sc->core), position + (failed ? 2 : 3));
        assert_true(group.wake_all || group.wake_key_count > 0);
        if (failed) {
            fired++;
            assert_int_equal(b.status, 500);
            assert_string_equal(json_string_value(json_object_get(b.json, "errcode")), "M_UNKNOWN");
            assert_false(b.wrote);
            assert_int_equal(committed_copies(sc, middle), 0);
        } else {
            assert_int_equal(b.status, 200);
            assert_int_equal(committed_copies(sc, middle), 1);
        }
        json_decref(a.json), json_decref(b.json), json_decref(c.json);
        if (!failed) break;
    }
    print_message("a send failed in its group at each of its %d statements\n", fired);
    assert_true(fired > 10);
}

static void test_a_failed_group_commit_answers_500_and_leaves_everything_as_before(void **state) {
    scene *sc = *state;
    unsigned char before[crypto_generichash_BYTES], after[crypto_generichash_BYTES];
    db_fingerprint(sc->observer, before);
    uint64_t position = ht_core_stream_position(sc->core);
    int txn_before = sc->txn;

    assert_true(ht_core_group_begin(sc->core));
    answer a = send_message(sc, sc->alice, "lost one");
    answer b = send_message(sc, sc->bob, "lost two");
    answer refused = handle(sc, "PUT", "/_matrix/client/v3/rooms/%21nowhere%3Agroup.test/send/m.room.message/x",
                            sc->alice, "{\"msgtype\": \"m.text\", \"body\": \"nowhere\"}");
    assert_int_equal(a.status, 200);
    assert_int_equal(b.status, 200);
    assert_int_equal(refused.status, 404); /* no such room: an error answer in the group */
    assert_false(refused.wrote);
    ht_store_inject_fault(1); /* the COMMIT */
    ht_group_result group;
    ht_core_group_commit(sc->core, &group);
    assert_true(ht_store_fault_fired());
    ht_store_inject_fault(0);

    assert_false(group.committed);
    assert_non_null(group.failure);
    int status = 0;
    assert_int_equal(sscanf((const char *)group.failure, "HTTP/1.1 %d", &status), 1);
    assert_int_equal(status, 500);
    assert_non_null(memmem(group.failure, group.failure_len, "M_UNKNOWN", 9));
    assert_int_equal(group.wake_key_count, 0);
    assert_false(group.wake_all);
    assert_int_equal(group.log_count, 0);
    /* The database, the stream position: as before the group. */
    db_fingerprint(sc->observer, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(ht_core_stream_position(sc->core), position);

    /* The same transaction id again: a new event, not the lost one. */
    sc->txn = txn_before;
    answer again = send_message(sc, sc->alice, "kept one");
    assert_int_equal(again.status, 200);
    assert_int_equal(ht_core_stream_position(sc->core), position + 1);
    assert_string_not_equal(json_string_value(json_object_get(again.json, "event_id")),
                            json_string_value(json_object_get(a.json, "event_id")));
    json_decref(a.json), json_decref(b.json), json_decref(refused.json);
    assert_int_equal(committed_copies(sc, "lost one"), 0);
    assert_int_equal(committed_copies(sc, "kept one"), 1);
    json_decref(again.json);
}

static int open_limited_scene(void **state) {
    limited = true;
    int rc = open_scene(state);
    limited = false;
    return rc;
}

static void test_a_failed_group_commit_gives_back_the_rate_limit_tokens_it_took(void **state) {
    scene *sc = *state;
    /* alice has two calls left after creating the room: both go in a
     * group whose COMMIT fails. */
    assert_true(ht_core_group_begin(sc->core));
    for (int k = 0; k < 2; k++) {
        answer a = send_message(sc, sc->alice, "lost");
        assert_int_equal(a.status, 200);
        json_decref(a.json);
    }
    ht_store_inject_fault(1);
    ht_group_result group;
    ht_core_group_commit(sc->core, &group);
    ht_store_inject_fault(0);
    assert_false(group.committed);
    /* They cost her nothing: two calls are still hers, and no more. */
    for (int k = 0; k < 2; k++) {
        answer a = send_message(sc, sc->alice, "kept");
        assert_int_equal(a.status, 200);
        json_decref(a.json);
    }
    answer refused = send_message(sc, sc->alice, "one too many");
    assert_int_equal(refused.status, 429);
    json_decref(refused.json);
    assert_int_equal(committed_copies(sc, "kept"), 2);
}

/* An admin call by the operator (meta.operator): its log line. */
static ht_result operator_call(scene *sc, const char *method, const char *path, const char *body) {
    char *req;
    int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n%s", method, path, strlen(body),
                     body);
    assert_true(n > 0);
    ht_result r;
    sc->clock += 3;
    ht_core_handle(sc->core, (const unsigned char *)req, (size_t)n,
                   &(ht_request_meta){.received_ms = sc->clock, .now_ms = sc->clock, .operator = true}, &r);
    free(req);
    assert_int_equal(r.outcome, HT_ANSWER);
    return r;
}

static bool log_mentions(const ht_log_line *lines, size_t count, const char *text) {
    for (size_t i = 0; i < count; i++)
        if (strstr(lines[i].text, text)) return true;
    return false;
}

static void test_an_admin_action_in_a_group_is_logged_only_once_the_group_committed(void **state) {
    scene *sc = *state;
    const char *path = "/_synapse/admin/v1/registration_tokens/new";
    for (int fail = 0; fail < 2; fail++) {
        assert_true(ht_core_group_begin(sc->core));
        ht_result r = operator_call(sc, "POST", path, "{}");
        assert_true(r.wrote);
        /* Not with its answer: the group may yet fail. */
        assert_false(log_mentions(r.log, r.log_count, "registration_tokens"));
        if (fail) ht_store_inject_fault(1);
        ht_group_result group;
        ht_core_group_commit(sc->core, &group);
        ht_store_inject_fault(0);
        assert_int_equal(group.committed, !fail);
        /* Said once committed; never, for a group that failed. */
        assert_int_equal(log_mentions(group.log, group.log_count, "registration_tokens"), !fail);
    }
}

/* Lets the core's database grow by `pages` pages at most (-1: no bound). */
static void disk_room(scene *sc, int64_t pages) {
    sqlite3 *db = sc->core->env.store->db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t limit = pages < 0 ? 1073741823 : sqlite3_column_int64(s, 0) + pages;
    sqlite3_finalize(s);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)limit);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_a_disk_filling_up_in_a_group_leaves_answers_and_database_agreeing(void **state) {
    scene *sc = *state;
    enum { REQUESTS = 4 };
    int refused = 0;
    for (int pages = 0;; pages++) {
        uint64_t position = ht_core_stream_position(sc->core);
        disk_room(sc, pages);
        assert_true(ht_core_group_begin(sc->core));
        answer a[REQUESTS];
        char bodies[REQUESTS][6100];
        for (int k = 0; k < REQUESTS; k++) {
            /* Large messages need new pages: where a filling disk bites. */
            snprintf(bodies[k], sizeof bodies[k], "%d-%d-%0*d", pages, k, 5000, k);
            a[k] = send_message(sc, k % 2 ? sc->bob : sc->alice, bodies[k]);
        }
        ht_group_result group;
        ht_core_group_commit(sc->core, &group);
        disk_room(sc, -1);
        int kept = 0;
        for (int k = 0; k < REQUESTS; k++) {
            int status = group.committed ? a[k].status : 500;
            if (status != 200 && status != 500)
                fail_msg("a send with %d pages to grow by answered %d: %s", pages, status,
                         a[k].json ? json_dumps(a[k].json, 0) : "(not JSON)");
            /* Answered 200: committed once. Answered 500: not there. */
            assert_int_equal(committed_copies(sc, bodies[k]), status == 200 ? 1 : 0);
            kept += status == 200;
            refused += status == 500;
            json_decref(a[k].json);
        }
        assert_int_equal(ht_core_stream_position(sc->core), position + (uint64_t)kept);
        if (kept == REQUESTS) break;
    }
    print_message("a filling disk refused %d sends in groups\n", refused);
    assert_true(refused > 0);
}

int run_group_commit_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_request_failing_in_a_group_changes_nothing_while_the_others_commit,
                                        open_scene, close_scene),
        cmocka_unit_test_setup_teardown(test_a_failed_group_commit_answers_500_and_leaves_everything_as_before,
                                        open_scene, close_scene),
        cmocka_unit_test_setup_teardown(test_a_disk_filling_up_in_a_group_leaves_answers_and_database_agreeing,
                                        open_scene, close_scene),
        cmocka_unit_test_setup_teardown(test_a_failed_group_commit_gives_back_the_rate_limit_tokens_it_took,
                                        open_limited_scene, close_scene),
        cmocka_unit_test_setup_teardown(test_an_admin_action_in_a_group_is_logged_only_once_the_group_committed,
                                        open_scene, close_scene),
    };
    return cmocka_run_group_tests_name("group commit", tests, NULL, NULL);
}
