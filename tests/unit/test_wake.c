/* test_wake.c -- scoped wake-ups (hometab.h): the keys a parked request
 * waits on, the keys a write touches, the store's rule that a stream
 * position nobody spoke for wakes everyone, and the native host's park
 * index that finds the parked requests a write concerns. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "hometab.h"
#include "host/native/park_index.h"
#include "store/db.h"
#include "store/meta.h"
#include "util/wake.h"

/* ---- through the door ------------------------------------------------------ */

typedef struct reply {
    int status;
    json_t *json;
    ht_result result; /* its keys stay valid until the next call */
} reply;

static reply call(ht_core *core, int64_t now, const char *method, const char *path, const char *token,
                  const char *body) {
    char req[4096];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\n%s%s%sContent-Length: %zu\r\n\r\n%s", method, path,
             token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "", body ? strlen(body) : 0,
             body ? body : "");
    reply out = {0};
    ht_core_handle(core, (const unsigned char *)req, strlen(req),
                   &(ht_request_meta){.received_ms = now, .now_ms = now}, &out.result);
    if (out.result.outcome == HT_ANSWER) {
        assert_int_equal(sscanf((const char *)out.result.response, "HTTP/1.1 %d", &out.status), 1);
        const unsigned char *end = memmem(out.result.response, out.result.response_len, "\r\n\r\n", 4);
        out.json = json_loadb((const char *)end + 4, out.result.response_len - (size_t)(end + 4 - out.result.response),
                              0, NULL);
    }
    return out;
}

static bool has_key(const uint64_t *keys, size_t n, uint64_t key) {
    for (size_t i = 0; i < n; i++)
        if (keys[i] == key) return true;
    return false;
}

typedef struct world {
    ht_core *core;
    char *alice, *bob;       /* tokens */
    char room_a[128];        /* alice's room */
    char room_b[128];        /* bob's room */
} world;

static char *register_user(ht_core *core, const char *name) {
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"pw\",\"auth\":{\"type\":\"m.login.dummy\"}}", name);
    reply r = call(core, 1000, "POST", "/_matrix/client/v3/register", NULL, body);
    assert_int_equal(r.status, 200);
    char *token = strdup(json_string_value(json_object_get(r.json, "access_token")));
    json_decref(r.json);
    return token;
}

static void create_room(ht_core *core, const char *token, char *out, size_t size) {
    reply r = call(core, 1000, "POST", "/_matrix/client/v3/createRoom", token, "{\"preset\":\"private_chat\"}");
    assert_int_equal(r.status, 200);
    snprintf(out, size, "%s", json_string_value(json_object_get(r.json, "room_id")));
    json_decref(r.json);
}

static int set_up(void **state) {
    world *w = calloc(1, sizeof *w);
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.server_name = "unit.test";
    cfg.rate_limit = false;
    cfg.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
    cfg.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    char err[256];
    w->core = ht_core_open(&cfg, err, sizeof err);
    if (!w->core) return -1;
    w->alice = register_user(w->core, "alice");
    w->bob = register_user(w->core, "bob");
    create_room(w->core, w->alice, w->room_a, sizeof w->room_a);
    create_room(w->core, w->bob, w->room_b, sizeof w->room_b);
    *state = w;
    return 0;
}

static int tear_down(void **state) {
    world *w = *state;
    ht_core_close(w->core);
    free(w->alice);
    free(w->bob);
    free(w);
    return 0;
}

static const char *since_now(world *w, const char *token) {
    static char since[64];
    reply r = call(w->core, 1000, "GET", "/_matrix/client/v3/sync?timeout=0", token, NULL);
    snprintf(since, sizeof since, "%s", json_string_value(json_object_get(r.json, "next_batch")));
    json_decref(r.json);
    return since;
}

static void test_a_parked_sync_waits_on_its_user_and_its_rooms(void **state) {
    world *w = *state;
    char path[256];
    snprintf(path, sizeof path, "/_matrix/client/v3/sync?since=%s&timeout=30000", since_now(w, w->bob));
    reply r = call(w->core, 2000, "GET", path, w->bob, NULL);
    assert_int_equal(r.result.outcome, HT_PARK);
    assert_int_equal(r.result.park_key_count, 2);
    assert_true(has_key(r.result.park_keys, 2, ht_wake_key(HT_WAKE_USER, "@bob:unit.test")));
    assert_true(has_key(r.result.park_keys, 2, ht_wake_key(HT_WAKE_ROOM, w->room_b)));
    assert_false(has_key(r.result.park_keys, 2, ht_wake_key(HT_WAKE_ROOM, w->room_a)));
}

static void test_a_message_touches_its_room_only(void **state) {
    world *w = *state;
    char path[256];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/t1", w->room_a);
    uint64_t before = ht_core_stream_position(w->core);
    reply r = call(w->core, 2000, "PUT", path, w->alice, "{\"msgtype\":\"m.text\",\"body\":\"hi\"}");
    assert_int_equal(r.status, 200);
    assert_true(ht_core_stream_position(w->core) > before);
    assert_false(r.result.wake_all);
    assert_int_equal(r.result.wake_key_count, 1);
    assert_int_equal(r.result.wake_keys[0], ht_wake_key(HT_WAKE_ROOM, w->room_a));
    json_decref(r.json);
}

static void test_an_invite_touches_the_room_and_the_invitee(void **state) {
    world *w = *state;
    char path[256];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/invite", w->room_a);
    reply r = call(w->core, 2000, "POST", path, w->alice, "{\"user_id\":\"@bob:unit.test\"}");
    assert_int_equal(r.status, 200);
    assert_false(r.result.wake_all);
    assert_int_equal(r.result.wake_key_count, 2);
    assert_true(has_key(r.result.wake_keys, 2, ht_wake_key(HT_WAKE_ROOM, w->room_a)));
    assert_true(has_key(r.result.wake_keys, 2, ht_wake_key(HT_WAKE_USER, "@bob:unit.test")));
    json_decref(r.json);
}

static void test_account_data_touches_its_user_only(void **state) {
    world *w = *state;
    reply r = call(w->core, 2000, "PUT", "/_matrix/client/v3/user/@alice:unit.test/account_data/org.x", w->alice,
                   "{\"a\":1}");
    assert_int_equal(r.status, 200);
    assert_false(r.result.wake_all);
    assert_int_equal(r.result.wake_key_count, 1);
    assert_int_equal(r.result.wake_keys[0], ht_wake_key(HT_WAKE_USER, "@alice:unit.test"));
    json_decref(r.json);
}

static void test_presence_touches_the_user_and_the_rooms_they_are_in(void **state) {
    world *w = *state;
    reply r = call(w->core, 2000, "PUT", "/_matrix/client/v3/presence/@alice:unit.test/status", w->alice,
                   "{\"presence\":\"unavailable\"}");
    assert_int_equal(r.status, 200);
    assert_false(r.result.wake_all);
    assert_int_equal(r.result.wake_key_count, 2);
    assert_true(has_key(r.result.wake_keys, 2, ht_wake_key(HT_WAKE_USER, "@alice:unit.test")));
    assert_true(has_key(r.result.wake_keys, 2, ht_wake_key(HT_WAKE_ROOM, w->room_a)));
    json_decref(r.json);
}

static void test_a_logout_moved_by_a_trigger_is_still_scoped(void **state) {
    world *w = *state;
    reply r = call(w->core, 2000, "POST", "/_matrix/client/v3/logout", w->alice, "{}");
    assert_int_equal(r.status, 200);
    assert_false(r.result.wake_all);
    assert_true(has_key(r.result.wake_keys, r.result.wake_key_count, ht_wake_key(HT_WAKE_USER, "@alice:unit.test")));
    assert_true(has_key(r.result.wake_keys, r.result.wake_key_count, ht_wake_key(HT_WAKE_ROOM, w->room_a)));
    assert_false(has_key(r.result.wake_keys, r.result.wake_key_count, ht_wake_key(HT_WAKE_ROOM, w->room_b)));
    json_decref(r.json);
}

static void test_a_download_waiting_for_an_upload_waits_on_its_file(void **state) {
    world *w = *state;
    reply created = call(w->core, 2000, "POST", "/_matrix/media/v1/create", w->alice, NULL);
    assert_int_equal(created.status, 200);
    const char *uri = json_string_value(json_object_get(created.json, "content_uri"));
    const char *media_id = strrchr(uri, '/') + 1;
    char path[256];
    snprintf(path, sizeof path, "/_matrix/client/v1/media/download/unit.test/%s?timeout_ms=20000", media_id);
    reply parked = call(w->core, 2000, "GET", path, w->bob, NULL);
    assert_int_equal(parked.result.outcome, HT_PARK);
    assert_int_equal(parked.result.park_key_count, 1);
    assert_int_equal(parked.result.park_keys[0], ht_wake_key(HT_WAKE_MEDIA, media_id));
    snprintf(path, sizeof path, "/_matrix/media/v3/upload/unit.test/%s", media_id);
    reply put = call(w->core, 2000, "PUT", path, w->alice, "bytes");
    assert_int_equal(put.status, 200);
    assert_false(put.result.wake_all);
    assert_int_equal(put.result.wake_key_count, 1);
    assert_int_equal(put.result.wake_keys[0], ht_wake_key(HT_WAKE_MEDIA, media_id));
    json_decref(put.json);
    json_decref(created.json);
}

/* ---- the store's rule -------------------------------------------------------- */

static int open_store(void **state) {
    char err[256];
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    *state = store;
    return store ? 0 : -1;
}

static int close_store(void **state) {
    ht_store_close(*state);
    return 0;
}

static void test_a_position_nobody_spoke_for_wakes_everyone(void **state) {
    ht_store *store = *state;
    uint64_t base = ht_store_stream_position(store);
    assert_true(ht_store_begin(store));
    ht_store_scope_begin(store, base);
    uint64_t p1 = ht_store_stream_advance(store);
    ht_db_touch(store, p1, 42);
    ht_store_stream_advance(store); /* nobody says what this one concerns */
    assert_true(ht_store_commit(store));
    const uint64_t *keys;
    size_t n;
    assert_false(ht_store_scope_keys(store, ht_store_stream_position(store), &keys, &n));

    /* Spoken for, both: scoped, each key once. */
    base = ht_store_stream_position(store);
    assert_true(ht_store_begin(store));
    ht_store_scope_begin(store, base);
    ht_db_touch(store, ht_store_stream_advance(store), 42);
    uint64_t p = ht_store_stream_advance(store);
    ht_db_touch(store, p, 7);
    ht_db_touch(store, p, 42);
    assert_true(ht_store_commit(store));
    assert_true(ht_store_scope_keys(store, ht_store_stream_position(store), &keys, &n));
    assert_int_equal(n, 2);
    assert_true(has_key(keys, n, 42) && has_key(keys, n, 7));
}

static void test_more_keys_than_a_write_may_name_wake_everyone(void **state) {
    ht_store *store = *state;
    uint64_t base = ht_store_stream_position(store);
    assert_true(ht_store_begin(store));
    ht_store_scope_begin(store, base);
    uint64_t p = ht_store_stream_advance(store);
    for (uint64_t k = 0; k <= HT_STORE_MAX_TOUCHED; k++) ht_db_touch(store, p, 1000 + k);
    assert_true(ht_store_commit(store));
    const uint64_t *keys;
    size_t n;
    assert_false(ht_store_scope_keys(store, ht_store_stream_position(store), &keys, &n));
}

/* ---- the native host's park index ------------------------------------------- */

static void test_park_index_finds_only_the_requests_a_write_concerns(void **state) {
    (void)state;
    park_index *ix = park_index_new();
    enum { N = 2000 };
    park_entry *entries = calloc(N + 1, sizeof *entries);
    int *owners = calloc(N + 1, sizeof *owners);
    /* Request i waits on keys i and 1000000 + i % 10; the last on anything. */
    for (int i = 0; i < N; i++) {
        uint64_t keys[2] = {(uint64_t)i, 1000000 + (uint64_t)(i % 10)};
        owners[i] = i;
        park_index_add(ix, &entries[i], &owners[i], keys, 2);
    }
    owners[N] = N;
    park_index_add(ix, &entries[N], &owners[N], NULL, 0);
    assert_int_equal(park_index_count(ix), N + 1);

    void **found = NULL;
    size_t cap = 0;
    uint64_t write[3] = {5, 5, 77}; /* a key twice finds its request once */
    size_t n = park_index_match(ix, write, 3, false, &found, &cap);
    assert_int_equal(n, 3);
    bool seen[N + 1] = {false};
    for (size_t i = 0; i < n; i++) seen[*(int *)found[i]] = true;
    assert_true(seen[5] && seen[77] && seen[N]);

    uint64_t group = 1000000 + 3;
    assert_int_equal(park_index_match(ix, &group, 1, false, &found, &cap), N / 10 + 1);
    assert_int_equal(park_index_match(ix, NULL, 0, true, &found, &cap), N + 1);

    /* Gone from the index once removed; a key nobody waits on finds only
     * the "any write" one. */
    park_index_remove(ix, &entries[5]);
    park_index_remove(ix, &entries[5]); /* twice is harmless */
    assert_int_equal(park_index_match(ix, write, 1, false, &found, &cap), 1);
    uint64_t nobody = 5000000;
    assert_int_equal(park_index_match(ix, &nobody, 1, false, &found, &cap), 1);
    assert_int_equal(*(int *)found[0], N);
    assert_int_equal(park_index_count(ix), N);
    free(found);
    park_index_free(ix);
    free(entries);
    free(owners);
}

int run_wake_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_parked_sync_waits_on_its_user_and_its_rooms, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_a_message_touches_its_room_only, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_an_invite_touches_the_room_and_the_invitee, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_account_data_touches_its_user_only, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_presence_touches_the_user_and_the_rooms_they_are_in, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_a_logout_moved_by_a_trigger_is_still_scoped, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_a_download_waiting_for_an_upload_waits_on_its_file, set_up, tear_down),
        cmocka_unit_test_setup_teardown(test_a_position_nobody_spoke_for_wakes_everyone, open_store, close_store),
        cmocka_unit_test_setup_teardown(test_more_keys_than_a_write_may_name_wake_everyone, open_store, close_store),
        cmocka_unit_test(test_park_index_finds_only_the_requests_a_write_concerns),
    };
    return cmocka_run_group_tests_name("wake", tests, NULL, NULL);
}
