/* test_faults.c -- "an SQL statement failed: 500, and nothing changed",
 * proven SQLite's way (issue 9).
 *
 * A scenario of two users (register, create a room, join, send, state,
 * account data, tags, keys, receipts, sync, profile, redaction, to-device,
 * push rules, devices, search) runs through the one door on a real SQLite
 * file in WAL mode. Each request is first sent with the fault armed at its
 * 1st statement, then its 2nd, and so on, until it gets through without
 * the fault firing. Every attempt whose statement failed must answer 500
 * M_UNKNOWN, and a second connection to the file must see exactly the
 * database it saw before the attempt. The successful attempt then answers
 * as it would have without any fault, and the history at the end holds
 * every message once.
 *
 * The same scenario then runs on a disk that fills up for real: before each
 * attempt the database may grow by 0, 1, 2... pages (PRAGMA max_page_count),
 * so SQLite itself fails with SQLITE_FULL wherever the request first needs
 * room, with its own rollback behaviour, until the request fits. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "core/core.h"
#include "db_fingerprint.h"
#include "sql_int.h"
#include "hometab.h"
#include "store/db.h"
#include "store/store.h"

typedef struct scene {
    ht_core *core;
    char dir[64], path[96];
    sqlite3 *observer; /* a second connection: sees only what was committed */
    char *alice, *bob, *alice_id, *bob_id, *alice_device, *room, *event, *bob_event;
    int64_t clock;
    bool full_disk; /* fail by running out of pages, not by a failing step */
    int attempts, failures;
} scene;

/* Lets the core's database grow by `pages` pages at most (-1: no bound). */
static void disk_room(scene *sc, int64_t pages) {
    sqlite3 *db = sc->core->env.store->db;
    int64_t limit = pages < 0 ? 1073741823 : sql_int(db, "PRAGMA page_count") + pages;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", (long long)limit);
    sql_int(db, sql);
}

typedef struct answer {
    int status;
    json_t *json;
} answer;

static answer handle_once(scene *sc, const char *method, const char *path, const char *token, const char *body) {
    char *req;
    size_t len = body ? strlen(body) : 0;
    int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: t\r\n%s%s%sContent-Length: %zu\r\n\r\n%s", method, path,
                     token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "", len,
                     body ? body : "");
    assert_true(n > 0);
    ht_result r;
    ht_request_meta meta = {.received_ms = sc->clock, .now_ms = sc->clock};
    ht_core_handle(sc->core, (const unsigned char *)req, (size_t)n, &meta, &r);
    free(req);
    assert_int_equal(r.outcome, HT_ANSWER);
    answer a = {0};
    assert_int_equal(sscanf((const char *)r.response, "HTTP/1.1 %d", &a.status), 1);
    const unsigned char *end = memmem(r.response, r.response_len, "\r\n\r\n", 4);
    assert_non_null(end);
    a.json = json_loadb((const char *)end + 4, r.response_len - (size_t)(end + 4 - r.response), 0, NULL);
    return a;
}

/* Sends one request with the fault armed at its 1st, 2nd, ... statement
 * until it passes; returns the passing answer (the caller frees it). */
static json_t *through_faults(scene *sc, const char *method, const char *path, const char *token, const char *body,
                              int expect_status) {
    for (int nth = 1;; nth++) {
        unsigned char before[crypto_generichash_BYTES], after[crypto_generichash_BYTES];
        db_fingerprint(sc->observer, before);
        if (sc->full_disk) disk_room(sc, nth - 1);
        else ht_store_inject_fault(nth);
        answer a = handle_once(sc, method, path, token, body);
        bool fired = sc->full_disk ? a.status == 500 : ht_store_fault_fired();
        if (sc->full_disk) disk_room(sc, -1);
        else ht_store_inject_fault(0);
        sc->clock += 7;
        sc->attempts++;
        if (!fired) {
            if (a.status != expect_status)
                fail_msg("%s %s answered %d without a fault: %s", method, path, a.status,
                         a.json ? json_dumps(a.json, 0) : "(not JSON)");
            return a.json;
        }
        sc->failures++;
        if (a.status != 500)
            fail_msg("%s %s with statement %d failing answered %d, not 500", method, path, nth,
                     a.status);
        assert_string_equal(json_string_value(json_object_get(a.json, "errcode")), "M_UNKNOWN");
        json_decref(a.json);
        db_fingerprint(sc->observer, after);
        if (memcmp(before, after, sizeof before) != 0)
            fail_msg("%s %s with statement %d failing answered 500 but changed the database", method, path,
                     nth);
    }
}

static char *str_of(json_t *json, const char *key) {
    const char *v = json_string_value(json_object_get(json, key));
    assert_non_null(v);
    return strdup(v);
}

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *out;
    assert_true(vasprintf(&out, fmt, ap) > 0);
    va_end(ap);
    return out;
}

/* Percent-encodes the characters ids use that a path may not carry raw. */
static char *enc(const char *s) {
    char *out = malloc(strlen(s) * 3 + 1), *o = out;
    for (; *s; s++) {
        if (*s == '!' || *s == '$' || *s == '@' || *s == ':' || *s == '#' || *s == '/' || *s == '+' || *s == '=')
            o += sprintf(o, "%%%02X", (unsigned char)*s);
        else
            *o++ = *s;
    }
    *o = '\0';
    return out;
}

static json_t *step(scene *sc, const char *method, char *path, const char *token, const char *body) {
    json_t *j = through_faults(sc, method, path, token, body, 200);
    free(path);
    return j;
}

static void run_scenario(scene *sc) {
    json_t *j;
    j = step(sc, "POST", pathf("/_matrix/client/v3/register"), NULL,
             "{\"username\": \"alice\", \"password\": \"pw-alice\", \"auth\": {\"type\": \"m.login.dummy\"}}");
    sc->alice = str_of(j, "access_token");
    sc->alice_id = str_of(j, "user_id");
    sc->alice_device = str_of(j, "device_id");
    json_decref(j);
    j = step(sc, "POST", pathf("/_matrix/client/v3/register"), NULL,
             "{\"username\": \"bob\", \"password\": \"pw-bob\", \"auth\": {\"type\": \"m.login.dummy\"}}");
    sc->bob = str_of(j, "access_token");
    sc->bob_id = str_of(j, "user_id");
    json_decref(j);
    j = step(sc, "POST", pathf("/_matrix/client/v3/createRoom"), sc->alice,
             "{\"preset\": \"public_chat\", \"name\": \"Faults\", \"topic\": \"t\", \"room_alias_name\": \"faults\"}");
    sc->room = str_of(j, "room_id");
    json_decref(j);
    char *room = enc(sc->room), *alice = enc(sc->alice_id), *bob = enc(sc->bob_id);
    json_decref(step(sc, "POST", pathf("/_matrix/client/v3/join/%s", room), sc->bob, "{}"));
    j = step(sc, "PUT", pathf("/_matrix/client/v3/rooms/%s/send/m.room.message/t1", room), sc->alice,
             "{\"msgtype\": \"m.text\", \"body\": \"first words\"}");
    sc->event = str_of(j, "event_id");
    json_decref(j);
    j = step(sc, "PUT", pathf("/_matrix/client/v3/rooms/%s/send/m.room.message/t2", room), sc->bob,
             "{\"msgtype\": \"m.text\", \"body\": \"a reply\", \"m.relates_to\": {\"rel_type\": \"m.thread\", "
             "\"event_id\": \"$none\"}}");
    sc->bob_event = str_of(j, "event_id");
    json_decref(j);
    json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/rooms/%s/state/m.room.topic", room), sc->alice,
                     "{\"topic\": \"new topic\"}"));
    /* Large events need new pages: where a filling disk bites (eight: pages
     * freed by the migrations, which come first, are not enough for them). */
    for (int k = 0; k < 8; k++) {
        char *big = pathf("{\"msgtype\": \"m.text\", \"body\": \"%0*d\"}", 6000, k);
        json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/rooms/%s/send/m.room.message/big%d", room, k),
                         k % 2 ? sc->bob : sc->alice, big));
        free(big);
    }
    json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/user/%s/account_data/org.example.s", alice), sc->alice,
                     "{\"x\": 1}"));
    json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/user/%s/rooms/%s/tags/u.work", alice, room), sc->alice,
                     "{\"order\": 0.5}"));
    json_decref(step(sc, "POST", pathf("/_matrix/client/v3/keys/upload"), sc->alice,
                     "{\"one_time_keys\": {\"signed_curve25519:A\": {\"key\": \"k1\"}, "
                     "\"signed_curve25519:B\": {\"key\": \"k2\"}}}"));
    char *claim = pathf("{\"one_time_keys\": {\"%s\": {\"%s\": \"signed_curve25519\"}}}", sc->alice_id,
                        sc->alice_device);
    json_decref(step(sc, "POST", pathf("/_matrix/client/v3/keys/claim"), sc->bob, claim));
    free(claim);
    char *ev = enc(sc->event), *bob_ev = enc(sc->bob_event);
    json_decref(step(sc, "POST", pathf("/_matrix/client/v3/rooms/%s/receipt/m.read/%s", room, ev), sc->bob, "{}"));
    json_decref(step(sc, "GET", pathf("/_matrix/client/v3/sync"), sc->alice, NULL));
    json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/profile/%s/displayname", alice), sc->alice,
                     "{\"displayname\": \"Alice A.\"}"));
    json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/rooms/%s/redact/%s/r1", room, bob_ev), sc->alice,
                     "{\"reason\": \"tidy\"}"));
    char *td = pathf("{\"messages\": {\"%s\": {\"*\": {\"hello\": \"device\"}}}}", sc->alice_id);
    json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/sendToDevice/org.example.ping/d1"), sc->bob, td));
    free(td);
    json_decref(step(sc, "GET", pathf("/_matrix/client/v3/sync"), sc->bob, NULL));
    json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/pushrules/global/content/lunch"), sc->alice,
                     "{\"pattern\": \"lunch\", \"actions\": [\"notify\"]}"));
    json_decref(step(sc, "PUT", pathf("/_matrix/client/v3/devices/%s", sc->alice_device), sc->alice,
                     "{\"display_name\": \"laptop\"}"));
    json_decref(step(sc, "POST", pathf("/_matrix/client/v3/search"), sc->alice,
                     "{\"search_categories\": {\"room_events\": {\"search_term\": \"words\"}}}"));
    json_decref(step(sc, "GET", pathf("/_matrix/client/v3/sync"), sc->alice, NULL));

    /* Every retry of a send reused its transaction id: each message is in
     * the history once. */
    j = step(sc, "GET", pathf("/_matrix/client/v3/rooms/%s/messages?dir=b&limit=100", room), sc->alice, NULL);
    int firsts = 0, replies = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(j, "chunk"), i, e) {
        const char *body = json_string_value(json_object_get(json_object_get(e, "content"), "body"));
        firsts += body && strcmp(body, "first words") == 0;
        replies += strcmp(json_string_value(json_object_get(e, "event_id")), sc->bob_event) == 0;
    }
    assert_int_equal(firsts, 1);
    assert_int_equal(replies, 1);
    json_decref(j);
    free(room), free(alice), free(bob), free(ev), free(bob_ev);
}

static void run(bool full_disk) {
    scene sc = {.clock = 1700000000000, .full_disk = full_disk};
    strcpy(sc.dir, "/tmp/hometab-faults-XXXXXX");
    assert_non_null(mkdtemp(sc.dir));
    snprintf(sc.path, sizeof sc.path, "%s/db.sqlite", sc.dir);
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = sc.path;
    cfg.server_name = "faults.test";
    cfg.rate_limit = false;
    cfg.pwhash_opslimit = 1; /* the cheapest Argon2: passwords are not what is tested */
    cfg.pwhash_memlimit = 8192;
    char err[256];
    sc.core = ht_core_open(&cfg, err, sizeof err);
    assert_non_null(sc.core);
    assert_int_equal(sqlite3_open_v2(sc.path, &sc.observer, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);

    run_scenario(&sc);
    print_message("%s: %d attempts, %d answered 500\n", full_disk ? "full disk" : "failing statement",
                  sc.attempts, sc.failures);
    /* Each request failed at each of its statements (or pages) once. */
    assert_true(sc.failures > (full_disk ? 10 : 200));

    sqlite3_close(sc.observer);
    ht_core_close(sc.core);
    free(sc.alice), free(sc.bob), free(sc.alice_id), free(sc.bob_id), free(sc.alice_device);
    free(sc.room), free(sc.event), free(sc.bob_event);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sc.dir);
    assert_int_equal(system(cmd), 0);
}

static void test_every_failing_statement_answers_500_and_changes_nothing(void **state) {
    (void)state;
    run(false);
}

static void test_a_full_disk_answers_500_and_changes_nothing(void **state) {
    (void)state;
    run(true);
}

int run_faults_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_failing_statement_answers_500_and_changes_nothing),
        cmocka_unit_test(test_a_full_disk_answers_500_and_changes_nothing),
    };
    return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}
