/* test_fed_e2ee.c -- what encrypted rooms need across servers, between
 * cores in one process (federation_net.h): users' devices and keys served
 * and asked for (/user/devices, /user/keys/query, /user/keys/claim), kept
 * fresh by m.device_list_update, to-device messages carried by
 * m.direct_to_device, and what a lying peer cannot make us believe. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "federation_net.h"
#include "util/arena.h"
#include "util/crypto.h"
#include <sodium.h>

static const char *const names[] = {"a.test", "b.test"};
enum { A, B };

typedef struct user {
    char *token;
    char *id;
    char *device;
} user;

typedef struct world {
    net n;
    user alice, bob; /* @alice:a.test, @bob:b.test */
    char *room_id;   /* both joined */
} world;

static void user_make(net *n, int i, const char *name, user *u) {
    u->token = net_register(n, i, name);
    assert_non_null(u->token);
    reply r = net_call(n, i, "GET", "/_matrix/client/v3/account/whoami", u->token, NULL);
    assert_int_equal(r.status, 200);
    u->id = strdup(json_string_value(json_object_get(r.json, "user_id")));
    u->device = strdup(json_string_value(json_object_get(r.json, "device_id")));
    reply_free(&r);
}

static void user_free(user *u) {
    free(u->token);
    free(u->id);
    free(u->device);
}

static reply call(world *w, int i, const char *method, const char *path, const user *u, json_t *body) {
    reply r = net_call(&w->n, i, method, path, u ? u->token : NULL, body);
    json_decref(body);
    return r;
}

/* Uploads the user's device keys (curve key `curve`), and optionally one
 * one-time key. */
static void upload_keys(world *w, int i, const user *u, const char *curve, const char *otk) {
    char curve_id[300], ed_id[300];
    snprintf(curve_id, sizeof curve_id, "curve25519:%s", u->device);
    snprintf(ed_id, sizeof ed_id, "ed25519:%s", u->device);
    json_t *dk = json_pack("{s:s, s:s, s:[s,s], s:{s:s, s:s}, s:{s:{s:s}}}", "user_id", u->id, "device_id", u->device,
                           "algorithms", "m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2", "keys", curve_id,
                           curve, ed_id, "ed-key", "signatures", u->id, ed_id, "sig");
    json_t *body = json_pack("{s:o}", "device_keys", dk);
    if (otk)
        json_object_set_new(body, "one_time_keys",
                            json_pack("{s:{s:s}}", "signed_curve25519:AAAA", "key", otk));
    reply r = call(w, i, "POST", "/_matrix/client/v3/keys/upload", u, body);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static int setup(void **state) {
    world *w = calloc(1, sizeof *w);
    if (!net_open(&w->n, 2, names)) return -1;
    user_make(&w->n, A, "alice", &w->alice);
    user_make(&w->n, B, "bob", &w->bob);
    reply r = call(w, A, "POST", "/_matrix/client/v3/createRoom", &w->alice,
                   json_pack("{s:s}", "preset", "public_chat"));
    assert_int_equal(r.status, 200);
    w->room_id = strdup(json_string_value(json_object_get(r.json, "room_id")));
    reply_free(&r);
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", w->room_id);
    r = call(w, B, "POST", path, &w->bob, json_object());
    assert_int_equal(r.status, 200);
    reply_free(&r);
    net_pump(&w->n);
    *state = w;
    return 0;
}

static int teardown(void **state) {
    world *w = *state;
    net_close(&w->n);
    user_free(&w->alice);
    user_free(&w->bob);
    free(w->room_id);
    free(w);
    return 0;
}

/* alice's /keys/query about bob: the answer (owned by the caller). */
static reply query_bob(world *w) {
    return call(w, A, "POST", "/_matrix/client/v3/keys/query", &w->alice,
                json_pack("{s:{s:[]}}", "device_keys", w->bob.id));
}

static const char *bob_curve(world *w, json_t *answer) {
    char curve_id[300];
    snprintf(curve_id, sizeof curve_id, "curve25519:%s", w->bob.device);
    json_t *dk = json_object_get(json_object_get(json_object_get(answer, "device_keys"), w->bob.id), w->bob.device);
    return json_string_value(json_object_get(json_object_get(dk, "keys"), curve_id));
}

/* The stream token of a's /sync now. */
static char *since(world *w) {
    reply r = call(w, A, "GET", "/_matrix/client/v3/sync?timeout=0", &w->alice, NULL);
    assert_int_equal(r.status, 200);
    char *token = strdup(json_string_value(json_object_get(r.json, "next_batch")));
    reply_free(&r);
    return token;
}

static bool changed_since(world *w, const char *from, const char *user_id) {
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/sync?timeout=0&since=%s", from);
    reply r = call(w, A, "GET", path, &w->alice, NULL);
    assert_int_equal(r.status, 200);
    json_t *changed = json_object_get(json_object_get(r.json, "device_lists"), "changed");
    bool found = false;
    size_t i;
    json_t *u;
    json_array_foreach(changed, i, u) found |= strcmp(json_string_value(u), user_id) == 0;
    reply_free(&r);
    return found;
}

static void test_a_remote_users_keys_are_asked_of_their_server_cached_and_refreshed_on_update(void **state) {
    world *w = *state;
    upload_keys(w, B, &w->bob, "curve-one", NULL);
    char name_path[512];
    snprintf(name_path, sizeof name_path, "/_matrix/client/v3/devices/%s", w->bob.device);
    reply named = call(w, B, "PUT", name_path, &w->bob, json_pack("{s:s}", "display_name", "Bob's phone at home"));
    assert_int_equal(named.status, 200);
    reply_free(&named);
    net_pump(&w->n);
    unsigned before = w->n.fetches;
    reply r = query_bob(w);
    assert_int_equal(r.status, 200);
    assert_string_equal(bob_curve(w, r.json), "curve-one");
    assert_int_equal(json_object_size(json_object_get(r.json, "failures")), 0);
    /* Device names stay on their server. */
    json_t *dk = json_object_get(json_object_get(json_object_get(r.json, "device_keys"), w->bob.id), w->bob.device);
    assert_null(json_object_get(json_object_get(dk, "unsigned"), "device_display_name"));
    reply_free(&r);
    assert_true(w->n.fetches > before);
    /* Kept: the next query asks no one. */
    before = w->n.fetches;
    r = query_bob(w);
    assert_string_equal(bob_curve(w, r.json), "curve-one");
    reply_free(&r);
    assert_int_equal(w->n.fetches, before);

    /* bob's keys change: b.test tells a.test (m.device_list_update), alice's
     * sync lists bob as changed, and her next query fetches afresh. */
    char *from = since(w);
    upload_keys(w, B, &w->bob, "curve-two", NULL);
    net_pump(&w->n);
    assert_true(changed_since(w, from, w->bob.id));
    char *to = since(w);
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/keys/changes?from=%s&to=%s", from, to);
    r = call(w, A, "GET", path, &w->alice, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "changed"), 0)), w->bob.id);
    reply_free(&r);
    free(to);
    r = query_bob(w);
    assert_string_equal(bob_curve(w, r.json), "curve-two");
    reply_free(&r);
    free(from);

    /* A deleted device (bob logs out): told too, and gone from the answer. */
    from = since(w);
    r = call(w, B, "POST", "/_matrix/client/v3/logout", &w->bob, json_object());
    assert_int_equal(r.status, 200);
    reply_free(&r);
    net_pump(&w->n);
    assert_true(changed_since(w, from, w->bob.id));
    r = query_bob(w);
    assert_null(bob_curve(w, r.json));
    reply_free(&r);
    free(from);
}

static void test_a_server_that_does_not_answer_is_listed_in_failures(void **state) {
    world *w = *state;
    w->n.down[B] = true;
    reply r = query_bob(w);
    assert_int_equal(r.status, 200);
    assert_non_null(json_object_get(json_object_get(r.json, "failures"), "b.test"));
    assert_int_equal(json_object_size(json_object_get(json_object_get(r.json, "device_keys"), w->bob.id)), 0);
    reply_free(&r);
    r = call(w, A, "POST", "/_matrix/client/v3/keys/claim", &w->alice,
             json_pack("{s:{s:{s:s}}}", "one_time_keys", w->bob.id, "DEV", "signed_curve25519"));
    assert_int_equal(r.status, 200);
    assert_non_null(json_object_get(json_object_get(r.json, "failures"), "b.test"));
    reply_free(&r);
    w->n.down[B] = false;
}

static void test_a_remote_devices_one_time_key_is_claimed_once(void **state) {
    world *w = *state;
    upload_keys(w, B, &w->bob, "curve", "otk-1");
    for (int round = 0; round < 2; round++) {
        reply r = call(w, A, "POST", "/_matrix/client/v3/keys/claim", &w->alice,
                       json_pack("{s:{s:{s:s}}}", "one_time_keys", w->bob.id, w->bob.device, "signed_curve25519"));
        assert_int_equal(r.status, 200);
        json_t *keys = json_object_get(json_object_get(json_object_get(r.json, "one_time_keys"), w->bob.id),
                                       w->bob.device);
        json_t *key = json_object_get(json_object_get(keys, "signed_curve25519:AAAA"), "key");
        if (round == 0) assert_string_equal(key ? json_string_value(key) : "(none)", "otk-1");
        else assert_null(keys); /* taken: no fallback key was uploaded */
        reply_free(&r);
    }
}

/* bob's sync's to-device events (owned by the caller). */
static json_t *to_device_of_bob(world *w) {
    reply r = call(w, B, "GET", "/_matrix/client/v3/sync?timeout=0", &w->bob, NULL);
    assert_int_equal(r.status, 200);
    json_t *events = json_incref(json_object_get(json_object_get(r.json, "to_device"), "events"));
    reply_free(&r);
    return events;
}

static void test_to_device_messages_reach_a_remote_users_devices(void **state) {
    world *w = *state;
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/sendToDevice/m.room.encrypted/t1");
    reply r = call(w, A, "PUT", path, &w->alice,
                   json_pack("{s:{s:{s:{s:s}}}}", "messages", w->bob.id, w->bob.device, "ciphertext", "for-one"));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    snprintf(path, sizeof path, "/_matrix/client/v3/sendToDevice/m.room.encrypted/t2");
    r = call(w, A, "PUT", path, &w->alice,
             json_pack("{s:{s:{s:{s:s}}}}", "messages", w->bob.id, "*", "ciphertext", "for-all"));
    reply_free(&r);
    net_pump(&w->n);
    json_t *events = to_device_of_bob(w);
    assert_int_equal(json_array_size(events), 2);
    json_t *first = json_array_get(events, 0), *second = json_array_get(events, 1);
    assert_string_equal(json_string_value(json_object_get(first, "sender")), w->alice.id);
    assert_string_equal(json_string_value(json_object_get(first, "type")), "m.room.encrypted");
    assert_string_equal(json_string_value(json_object_get(json_object_get(first, "content"), "ciphertext")),
                        "for-one");
    assert_string_equal(json_string_value(json_object_get(json_object_get(second, "content"), "ciphertext")),
                        "for-all");
    json_decref(events);
}

static void test_the_served_device_list_has_the_keys_and_a_stream_id(void **state) {
    world *w = *state;
    upload_keys(w, B, &w->bob, "curve-served", NULL);
    char path[512];
    snprintf(path, sizeof path, "/_matrix/federation/v1/user/devices/%s", w->bob.id);
    reply r = net_fed_call(&w->n, A, B, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "user_id")), w->bob.id);
    assert_true(json_integer_value(json_object_get(r.json, "stream_id")) > 0);
    json_t *d = json_array_get(json_object_get(r.json, "devices"), 0);
    assert_string_equal(json_string_value(json_object_get(d, "device_id")), w->bob.device);
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "keys"), "user_id")), w->bob.id);
    reply_free(&r);
    /* Only b.test's own users. */
    snprintf(path, sizeof path, "/_matrix/federation/v1/user/devices/%s", w->alice.id);
    r = net_fed_call(&w->n, A, B, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 400);
    reply_free(&r);
    /* Unsigned: refused. */
    snprintf(path, sizeof path, "/_matrix/federation/v1/user/devices/%s", w->bob.id);
    r = net_fed_call(&w->n, A, B, "GET", path, NULL, "");
    assert_int_equal(r.status, 401);
    reply_free(&r);
    /* keys/query and claim served: the user asked for, never another server's. */
    json_t *body = json_pack("{s:{s:[], s:[]}}", "device_keys", w->bob.id, w->alice.id);
    r = net_fed_call(&w->n, A, B, "POST", "/_matrix/federation/v1/user/keys/query", body, NULL);
    json_decref(body);
    assert_int_equal(r.status, 200);
    json_t *dk = json_object_get(r.json, "device_keys");
    assert_non_null(json_object_get(json_object_get(dk, w->bob.id), w->bob.device));
    assert_null(json_object_get(dk, w->alice.id));
    reply_free(&r);
    body = json_pack("{s:[]}", "device_keys");
    r = net_fed_call(&w->n, A, B, "POST", "/_matrix/federation/v1/user/keys/query", body, NULL);
    json_decref(body);
    assert_int_equal(r.status, 400);
    reply_free(&r);
}

/* A transaction from b.test to a.test with one EDU. */
static void send_edu(world *w, const char *txn, const char *type, json_t *content) {
    char path[256];
    snprintf(path, sizeof path, "/_matrix/federation/v1/send/%s", txn);
    json_t *body = json_pack("{s:s, s:I, s:[], s:[{s:s, s:o}]}", "origin", "b.test", "origin_server_ts",
                             (json_int_t)w->n.clock_ms, "pdus", "edus", "edu_type", type, "content", content);
    reply r = net_fed_call(&w->n, B, A, "PUT", path, body, NULL);
    json_decref(body);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static json_t *to_device_of_alice(world *w) {
    reply r = call(w, A, "GET", "/_matrix/client/v3/sync?timeout=0", &w->alice, NULL);
    json_t *events = json_incref(json_object_get(json_object_get(r.json, "to_device"), "events"));
    reply_free(&r);
    return events;
}

typedef struct lie {
    const char *path_part;
    const char *body;
} lie;

static bool liar(void *arg, const char *destination, const char *target, int *status, char **body) {
    lie *l = arg;
    if (strcmp(destination, "b.test") != 0 || !strstr(target, l->path_part)) return false;
    *status = 200;
    *body = strdup(l->body);
    return true;
}

static void test_a_lying_peer_changes_nothing(void **state) {
    world *w = *state;
    /* To-device "from" a user of a.test, sent by b.test: not delivered. */
    json_t *messages = json_pack("{s:{s:{s:s}}}", w->alice.id, "*", "ciphertext", "forged");
    send_edu(w, "t1", "m.direct_to_device",
             json_pack("{s:s, s:s, s:s, s:O}", "sender", w->alice.id, "type", "m.room.encrypted", "message_id", "m1",
                       "messages", messages));
    json_t *events = to_device_of_alice(w);
    assert_int_equal(json_array_size(events), 0);
    json_decref(events);
    /* The same from bob, b.test's own: delivered. */
    send_edu(w, "t2", "m.direct_to_device",
             json_pack("{s:s, s:s, s:s, s:O}", "sender", w->bob.id, "type", "m.room.encrypted", "message_id", "m2",
                       "messages", messages));
    json_decref(messages);
    events = to_device_of_alice(w);
    assert_int_equal(json_array_size(events), 1);
    json_decref(events);

    /* A device update about a.test's user, or a user we share no room
     * with: nothing recorded. About bob: recorded. */
    char *from = since(w);
    send_edu(w, "t3", "m.device_list_update",
             json_pack("{s:s, s:s, s:i, s:[]}", "user_id", w->alice.id, "device_id", "X", "stream_id", 5, "prev_id"));
    send_edu(w, "t4", "m.device_list_update",
             json_pack("{s:s, s:s, s:i, s:[]}", "user_id", "@stranger:b.test", "device_id", "X", "stream_id", 5,
                       "prev_id"));
    assert_false(changed_since(w, from, w->alice.id));
    assert_false(changed_since(w, from, "@stranger:b.test"));
    send_edu(w, "t5", "m.signing_key_update", json_pack("{s:s}", "user_id", w->bob.id));
    assert_true(changed_since(w, from, w->bob.id));
    free(from);

    /* Keys a peer gives for another user, a device filed under the wrong
     * id, or a user not asked: left out. */
    char *answer = NULL;
    assert_true(asprintf(&answer,
             "{\"device_keys\":{\"%s\":{\"D1\":{\"user_id\":\"%s\",\"device_id\":\"D1\",\"keys\":{}},"
             "\"D2\":{\"user_id\":\"%s\",\"device_id\":\"D2\",\"keys\":{}},"
             "\"D3\":{\"user_id\":\"%s\",\"device_id\":\"OTHER\",\"keys\":{}}},"
             "\"%s\":{\"D9\":{\"user_id\":\"%s\",\"device_id\":\"D9\",\"keys\":{}}}},"
             "\"master_keys\":{\"%s\":{\"user_id\":\"%s\",\"usage\":[\"master\"],\"keys\":{}}}}",
             w->bob.id, w->bob.id, w->alice.id, w->bob.id, w->alice.id, w->alice.id, w->bob.id, w->alice.id) > 0);
    lie l = {"/user/keys/query", answer};
    w->n.liar = liar;
    w->n.liar_arg = &l;
    reply r = query_bob(w);
    assert_int_equal(r.status, 200);
    json_t *dk = json_object_get(r.json, "device_keys");
    assert_int_equal(json_object_size(json_object_get(dk, w->bob.id)), 1);
    assert_non_null(json_object_get(json_object_get(dk, w->bob.id), "D1"));
    assert_null(json_object_get(dk, w->alice.id));
    assert_int_equal(json_object_size(json_object_get(r.json, "master_keys")), 0);
    reply_free(&r);
    free(answer);

    /* A claim answered with keys for devices not asked, or of another
     * algorithm: left out. */
    assert_true(asprintf(&answer, "{\"one_time_keys\":{\"%s\":{\"%s\":{\"curve25519:X\":\"k\"},\"OTHER\":{\"signed_curve25519:Y\":"
                      "\"k\"}}}}", w->bob.id, w->bob.device) > 0);
    l = (lie){"/user/keys/claim", answer};
    r = call(w, A, "POST", "/_matrix/client/v3/keys/claim", &w->alice,
             json_pack("{s:{s:{s:s}}}", "one_time_keys", w->bob.id, w->bob.device, "signed_curve25519"));
    assert_int_equal(r.status, 200);
    assert_int_equal(json_object_size(json_object_get(r.json, "one_time_keys")), 0);
    reply_free(&r);
    free(answer);
    w->n.liar = NULL;
}

static void test_a_new_cross_signing_key_reaches_the_other_server(void **state) {
    world *w = *state;
    upload_keys(w, B, &w->bob, "curve", NULL);
    reply r = query_bob(w); /* cached on a.test, without a master key */
    assert_int_equal(json_object_size(json_object_get(r.json, "master_keys")), 0);
    reply_free(&r);
    /* bob's first master key (no user-interactive auth for the first). */
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    const char *pub = ht_base64_unpadded(&arena, pk, sizeof pk);
    char key_id[128];
    snprintf(key_id, sizeof key_id, "ed25519:%s", pub);
    char *from = since(w);
    r = call(w, B, "POST", "/_matrix/client/v3/keys/device_signing/upload", &w->bob,
             json_pack("{s:{s:s, s:[s], s:{s:s}}}", "master_key", "user_id", w->bob.id, "usage", "master", "keys",
                       key_id, pub));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    net_pump(&w->n); /* m.signing_key_update to a.test */
    assert_true(changed_since(w, from, w->bob.id));
    r = query_bob(w);
    json_t *master = json_object_get(json_object_get(r.json, "master_keys"), w->bob.id);
    assert_string_equal(json_string_value(json_object_get(json_object_get(master, "keys"), key_id)), pub);
    reply_free(&r);
    free(from);
    ht_arena_free(&arena);
}

static void test_cached_keys_are_not_trusted_after_the_user_left_and_came_back(void **state) {
    world *w = *state;
    upload_keys(w, B, &w->bob, "curve-before", NULL);
    reply r = query_bob(w);
    assert_string_equal(bob_curve(w, r.json), "curve-before");
    reply_free(&r);
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/leave", w->room_id);
    r = call(w, B, "POST", path, &w->bob, json_object());
    assert_int_equal(r.status, 200);
    reply_free(&r);
    /* While bob shares no room with a.test, a.test is not told of his
     * changes... */
    upload_keys(w, B, &w->bob, "curve-after", NULL);
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", w->room_id);
    r = call(w, B, "POST", path, &w->bob, json_object());
    assert_int_equal(r.status, 200);
    reply_free(&r);
    net_pump(&w->n);
    /* ...so once he is back, his keys are asked again. */
    unsigned before = w->n.fetches;
    r = query_bob(w);
    assert_string_equal(bob_curve(w, r.json), "curve-after");
    reply_free(&r);
    assert_true(w->n.fetches > before);
}

static void test_to_device_messages_outlast_a_flood_of_typing_notices_while_a_server_is_down(void **state) {
    world *w = *state;
    w->n.down[B] = true;
    reply r = call(w, A, "PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/kept", &w->alice,
                   json_pack("{s:{s:{s:{s:s}}}}", "messages", w->bob.id, w->bob.device, "ciphertext", "room key"));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    /* More typing notices than a down destination keeps (the newest matter). */
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/typing/%s", w->room_id, w->alice.id);
    for (int i = 0; i < 1010; i++) {
        r = call(w, A, "PUT", path, &w->alice, json_pack("{s:b, s:i}", "typing", 1, "timeout", 30000));
        assert_int_equal(r.status, 200);
        reply_free(&r);
    }
    w->n.down[B] = false;
    w->n.clock_ms += 60 * 60 * 1000; /* past any back-off */
    net_pump(&w->n);
    json_t *events = to_device_of_bob(w);
    assert_int_equal(json_array_size(events), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(events, 0), "content"),
                                                          "ciphertext")),
                        "room key");
    json_decref(events);
}

int run_fed_e2ee_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_a_remote_users_keys_are_asked_of_their_server_cached_and_refreshed_on_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_server_that_does_not_answer_is_listed_in_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_remote_devices_one_time_key_is_claimed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_to_device_messages_reach_a_remote_users_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_served_device_list_has_the_keys_and_a_stream_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_lying_peer_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_new_cross_signing_key_reaches_the_other_server, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cached_keys_are_not_trusted_after_the_user_left_and_came_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_to_device_messages_outlast_a_flood_of_typing_notices_while_a_server_is_down, setup, teardown),
    };
    return cmocka_run_group_tests_name("federation: devices, keys, to-device across servers", tests, NULL, NULL);
}
