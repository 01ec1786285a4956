/* test_fed_read.c -- the server-server read endpoints (/event, /state,
 * /state_ids, /event_auth, /get_missing_events, /backfill), served and
 * called, between real cores in one process (federation_net.h).
 *
 * Three servers share a room through the rooms engine, as
 * test_room_graph.c does: one makes events with ht_room_send, the others
 * take them with ht_room_receive. Alice of a.test owns the room, Bob of
 * b.test is in it, Carol of c.test joins when a test wants her in. Then the
 * servers read each other over signed requests, and every answer is held
 * to what the other side computes itself: ids from the reference hash,
 * signatures with the server's key, states from its own engine. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/core.h"
#include "federation/federation.h"
#include "federation/pdus.h"
#include "federation_net.h"
#include "matrix/handler.h"
#include "room/graph.h"
#include "room/pdu.h"
#include "room/room.h"
#include "store/db.h"
#include "store/graph.h"
#include "store/rooms.h"
#include "util/json.h"

enum { A, B, C };
static const char *const names[] = {"a.test", "b.test", "c.test"};
#define ALICE "@alice:a.test"
#define BOB "@bob:b.test"
#define CAROL "@carol:c.test"
#define FED "/_matrix/federation/v1"

typedef struct world {
    net n;
    char keys[3][64]; /* each server's public key */
    char *room;
} world;

/* ---- the engine, server by server ----------------------------------- */

static ht_env *begin(world *w, int i) {
    ht_core *core = w->n.cores[i];
    ht_arena_reset(&core->arena);
    core->env.now_ms = ++w->n.clock_ms;
    assert_true(ht_store_begin(core->env.store));
    return &core->env;
}

static void end(world *w, int i) {
    ht_store *store = w->n.cores[i]->env.store;
    assert_false(ht_store_failed(store));
    assert_true(ht_store_commit(store));
}

static const char *lookup(void *ctx, const char *server, const char *key_id, int64_t ts) {
    (void)key_id;
    (void)ts;
    world *w = ctx;
    for (int i = 0; i < 3; i++)
        if (strcmp(server, names[i]) == 0) return w->keys[i];
    return NULL;
}

/* Sends in a room on server i (not given to anyone); the id, malloc'd. */
static char *send_in(world *w, int i, const char *room_id, const char *type, const char *state_key,
                     const char *sender, json_t *content, const char *redacts) {
    ht_env *env = begin(w, i);
    ht_new_event ev = {.room_id = room_id, .type = type, .state_key = state_key, .sender = sender,
                       .content = content, .redacts = redacts};
    const char *id = NULL;
    ht_error err = ht_room_send(env, &ev, &id, NULL);
    json_decref(content);
    if (err.code) fail_msg("%s could not send %s: %s", names[i], type, err.message);
    char *copy = strdup(id);
    end(w, i);
    return copy;
}

/* Sends in the shared room on server i (not given to anyone). */
static char *send_on(world *w, int i, const char *type, const char *state_key, const char *sender, json_t *content,
                     const char *redacts) {
    return send_in(w, i, w->room, type, state_key, sender, content, redacts);
}

static json_t *stored_pdu(world *w, int i, const char *event_id) {
    ht_env *env = begin(w, i);
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, event_id, &row));
    json_t *pdu = json_loads(row.json, 0, NULL);
    end(w, i);
    return pdu;
}

/* The PDU of an event as server i serves it to others (ht_fed_pdu). */
static json_t *served_pdu(world *w, int i, const char *event_id) {
    ht_env *env = begin(w, i);
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, event_id, &row));
    json_t *pdu = ht_fed_pdu(env, &row);
    end(w, i);
    return pdu;
}

static ht_receive_outcome give(world *w, int from, int to, const char *event_id, bool as_outlier) {
    json_t *pdu = served_pdu(w, from, event_id);
    ht_env *env = begin(w, to);
    ht_received r = ht_room_receive(env, "10", pdu, lookup, w, &(ht_receive_opts){.as_outlier = as_outlier});
    end(w, to);
    json_decref(pdu);
    return r.outcome;
}

/* Sends on server i and gives the event to every other server. */
static char *send_all(world *w, int i, const char *type, const char *state_key, const char *sender,
                      json_t *content) {
    char *id = send_on(w, i, type, state_key, sender, content, NULL);
    for (int k = 0; k < 3; k++)
        if (k != i) assert_int_equal(give(w, i, k, id, false), HT_RECEIVED_TIMELINE);
    return id;
}

static char *say(world *w, int i, const char *sender, const char *body) {
    return send_on(w, i, "m.room.message", NULL, sender, json_pack("{s:s, s:s}", "msgtype", "m.text", "body", body),
                   NULL);
}

static char *say_all(world *w, int i, const char *sender, const char *body) {
    return send_all(w, i, "m.room.message", NULL, sender, json_pack("{s:s, s:s}", "msgtype", "m.text", "body", body));
}

static void member(world *w, int i, const char *sender, const char *user, const char *membership) {
    free(send_all(w, i, "m.room.member", user, sender, json_pack("{s:s}", "membership", membership)));
}

static void visibility(world *w, const char *value) {
    free(send_all(w, A, "m.room.history_visibility", "", ALICE, json_pack("{s:s}", "history_visibility", value)));
}

/* Alice's room on a.test, known to all three; Bob joins from b.test. */
static int setup(void **state) {
    world *w = calloc(1, sizeof *w);
    if (!net_open(&w->n, 3, names)) return -1;
    for (int i = 0; i < 3; i++) {
        ht_arena arena;
        ht_arena_init(&arena, 4096);
        snprintf(w->keys[i], sizeof w->keys[i], "%s",
                 ht_signing_key_public_base64(&arena, &w->n.cores[i]->signing_key));
        ht_arena_free(&arena);
    }
    ht_env *env = begin(w, A);
    const char *room_id;
    if (ht_room_new(env, ALICE, "10", false, &room_id).code) return -1;
    w->room = strdup(room_id);
    end(w, A);
    *state = w;
    free(send_all(w, A, "m.room.create", "", ALICE, json_pack("{s:s, s:s}", "room_version", "10", "creator", ALICE)));
    member(w, A, ALICE, ALICE, "join");
    free(send_all(w, A, "m.room.power_levels", "", ALICE,
                  json_pack("{s:{s:i}, s:i, s:i, s:i}", "users", ALICE, 100, "state_default", 50, "invite", 0,
                            "events_default", 0)));
    free(send_all(w, A, "m.room.join_rules", "", ALICE, json_pack("{s:s}", "join_rule", "public")));
    member(w, B, BOB, BOB, "join");
    return 0;
}

static int teardown(void **state) {
    world *w = *state;
    net_close(&w->n);
    free(w->room);
    free(w);
    return 0;
}

/* ---- reading answers ---------------------------------------------------- */

static reply fed_get(world *w, int from, int to, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static reply fed_get(world *w, int from, int to, const char *fmt, ...) {
    char target[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(target, sizeof target, fmt, ap);
    va_end(ap);
    return net_fed_call(&w->n, from, to, "GET", target, NULL, NULL);
}

/* Percent-encodes an id for a path (a static buffer per call site slot). */
static const char *enc(const char *id) {
    static char bufs[4][512];
    static int next;
    char *out = bufs[next++ % 4], *p = out;
    for (const char *s = id; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("-._~", *s))
            *p++ = *s;
        else
            p += sprintf(p, "%%%02X", (unsigned char)*s);
    }
    *p = '\0';
    return out;
}

static void assert_error(reply *r, int status, const char *errcode) {
    if (r->status != status)
        fail_msg("expected %d %s, got %d %s", status, errcode, r->status,
                 r->json ? json_string_value(json_object_get(r->json, "error")) : "(no JSON)");
    assert_string_equal(json_string_value(json_object_get(r->json, "errcode")), errcode);
    reply_free(r);
}

/* A PDU as another server checks it: its id is the reference hash, and
 * its sender's server signed it. */
static void assert_genuine(world *w, json_t *pdu, const char *event_id) {
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    const ht_room_version *v = ht_room_version_get("10");
    const char *id = ht_pdu_id(&arena, v, pdu, NULL);
    assert_non_null(id);
    assert_string_equal(id, event_id);
    const char *why = ht_pdu_check_signatures(&arena, v, pdu, lookup, w);
    if (why) fail_msg("%s: %s", event_id, why);
    assert_null(json_object_get(pdu, "unsigned"));
    ht_arena_free(&arena);
}

static const char *body_of(json_t *pdu) { return ht_json_str(json_object_get(pdu, "content"), "body"); }

/* The one PDU of a /event answer. */
static json_t *the_pdu(reply *r) {
    assert_int_equal(r->status, 200);
    json_t *pdus = json_object_get(r->json, "pdus");
    assert_int_equal(json_array_size(pdus), 1);
    return json_array_get(pdus, 0);
}

static bool listed(json_t *array, const char *id) {
    for (size_t i = 0; i < json_array_size(array); i++)
        if (strcmp(json_string_value(json_array_get(array, i)), id) == 0) return true;
    return false;
}

static char *state_id(world *w, int i, const char *type, const char *state_key) {
    ht_env *env = begin(w, i);
    char *id = strdup(ht_store_state_event_id(env->store, env->arena, w->room, type, state_key));
    end(w, i);
    return id;
}

/* ---- GET /event ---------------------------------------------------------- */

static void test_an_event_is_served_whole_and_signed_to_a_server_in_the_room(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "hello b");
    reply r = fed_get(w, B, A, FED "/event/%s", enc(m));
    json_t *pdu = the_pdu(&r);
    assert_string_equal(json_string_value(json_object_get(r.json, "origin")), "a.test");
    assert_true(json_is_integer(json_object_get(r.json, "origin_server_ts")));
    assert_genuine(w, pdu, m);
    assert_string_equal(body_of(pdu), "hello b");
    reply_free(&r);
    /* B's own event, read back from A, is B's as B signed it. */
    char *mb = say_all(w, B, BOB, "hello a");
    r = fed_get(w, B, A, FED "/event/%s", enc(mb));
    assert_genuine(w, the_pdu(&r), mb);
    reply_free(&r);
    free(m);
    free(mb);
}

static void test_an_event_is_refused_to_servers_outside_its_room_unless_it_is_theirs(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "before carol");
    reply r = fed_get(w, C, A, FED "/event/%s", enc(m));
    assert_error(&r, 403, "M_FORBIDDEN");
    /* Carol joins and leaves: c.test is out again, but its events are its own. */
    member(w, C, CAROL, CAROL, "join");
    char *join = state_id(w, A, "m.room.member", CAROL);
    r = fed_get(w, C, A, FED "/event/%s", enc(m));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    member(w, C, CAROL, CAROL, "leave");
    r = fed_get(w, C, A, FED "/event/%s", enc(join));
    assert_genuine(w, the_pdu(&r), join);
    reply_free(&r);
    r = fed_get(w, C, A, FED "/event/%s", enc(m));
    assert_error(&r, 403, "M_FORBIDDEN");
    r = fed_get(w, B, A, FED "/event/%s", enc("$nothing-here"));
    assert_error(&r, 404, "M_NOT_FOUND");
    free(m);
    free(join);
}

static void test_a_request_without_a_valid_signature_is_401(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "signed only");
    char target[512];
    snprintf(target, sizeof target, FED "/event/%s", enc(m));
    reply r = net_fed_call(&w->n, B, A, "GET", target, NULL, "");
    assert_error(&r, 401, "M_UNAUTHORIZED");
    char *elsewhere = net_xmatrix(&w->n, B, "c.test", "GET", target, NULL);
    r = net_fed_call(&w->n, B, A, "GET", target, NULL, elsewhere);
    assert_error(&r, 401, "M_UNAUTHORIZED");
    char *other_target = net_xmatrix(&w->n, B, "a.test", "GET", FED "/event/$another", NULL);
    r = net_fed_call(&w->n, B, A, "GET", target, NULL, other_target);
    assert_error(&r, 401, "M_UNAUTHORIZED");
    r = net_fed_call(&w->n, B, A, "GET", target, NULL, "Bearer not-a-server");
    assert_error(&r, 401, "M_UNAUTHORIZED");
    free(elsewhere);
    free(other_target);
    free(m);
}

static void test_history_a_server_may_not_see_is_served_redacted(void **state) {
    world *w = *state;
    visibility(w, "joined");
    char *secret = say_all(w, A, ALICE, "before carol joined");
    member(w, C, CAROL, CAROL, "join");
    char *after = say_all(w, A, ALICE, "after carol joined");
    reply r = fed_get(w, C, A, FED "/event/%s", enc(secret));
    json_t *pdu = the_pdu(&r);
    assert_genuine(w, pdu, secret); /* the same event, checkable... */
    assert_int_equal(json_object_size(json_object_get(pdu, "content")), 0); /* ...without its words */
    reply_free(&r);
    r = fed_get(w, C, A, FED "/event/%s", enc(after));
    assert_string_equal(body_of(the_pdu(&r)), "after carol joined");
    reply_free(&r);
    /* B was joined all along. */
    r = fed_get(w, B, A, FED "/event/%s", enc(secret));
    assert_string_equal(body_of(the_pdu(&r)), "before carol joined");
    reply_free(&r);
    /* Nor may c.test read the state at what it may not see. */
    r = fed_get(w, C, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(secret));
    assert_error(&r, 403, "M_FORBIDDEN");
    free(secret);
    free(after);
}

static void test_invited_history_is_visible_from_the_invite_on(void **state) {
    world *w = *state;
    visibility(w, "invited");
    char *before = say_all(w, A, ALICE, "before the invite");
    member(w, A, ALICE, CAROL, "invite");
    char *invited = say_all(w, A, ALICE, "while carol is invited");
    member(w, C, CAROL, CAROL, "join");
    reply r = fed_get(w, C, A, FED "/event/%s", enc(before));
    assert_int_equal(json_object_size(json_object_get(the_pdu(&r), "content")), 0);
    reply_free(&r);
    r = fed_get(w, C, A, FED "/event/%s", enc(invited));
    assert_string_equal(body_of(the_pdu(&r)), "while carol is invited");
    reply_free(&r);
    free(before);
    free(invited);
}

static void test_visibility_and_state_are_read_on_the_events_own_branch(void **state) {
    world *w = *state;
    /* a.test restricts history while b.test, not yet told, writes on: the
     * graph forks, and b.test's message keeps the visibility of its branch. */
    char *hv = send_on(w, A, "m.room.history_visibility", "", ALICE, json_pack("{s:s}", "history_visibility", "joined"),
                       NULL);
    char *secret = say(w, A, ALICE, "on a's branch, joined only");
    char *open = say(w, B, BOB, "on b's branch, shared");
    assert_int_equal(give(w, B, A, open, false), HT_RECEIVED_TIMELINE);
    const char *to_b[] = {hv, secret}, *to_c[] = {hv, secret, open};
    for (int i = 0; i < 2; i++) assert_int_equal(give(w, A, B, to_b[i], false), HT_RECEIVED_TIMELINE);
    for (int i = 0; i < 3; i++) assert_int_equal(give(w, i < 2 ? A : B, C, to_c[i], false), HT_RECEIVED_TIMELINE);
    member(w, C, CAROL, CAROL, "join");
    reply r = fed_get(w, C, A, FED "/event/%s", enc(open));
    assert_string_equal(body_of(the_pdu(&r)), "on b's branch, shared");
    reply_free(&r);
    r = fed_get(w, C, A, FED "/event/%s", enc(secret));
    assert_int_equal(json_object_size(json_object_get(the_pdu(&r), "content")), 0);
    reply_free(&r);
    /* The state before each is its branch's. */
    r = fed_get(w, C, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(open));
    assert_int_equal(r.status, 200);
    assert_false(listed(json_object_get(r.json, "pdu_ids"), hv));
    reply_free(&r);
    r = fed_get(w, B, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(secret));
    assert_true(listed(json_object_get(r.json, "pdu_ids"), hv));
    reply_free(&r);
    free(hv);
    free(secret);
    free(open);
}

static void test_a_redacted_event_is_served_redacted_with_its_id(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "regret");
    free(send_on(w, A, "m.room.redaction", NULL, ALICE, json_object(), m));
    reply r = fed_get(w, B, A, FED "/event/%s", enc(m));
    json_t *pdu = the_pdu(&r);
    assert_genuine(w, pdu, m);
    assert_int_equal(json_object_size(json_object_get(pdu, "content")), 0);
    reply_free(&r);
    free(m);
}

/* Runs `sql` on server i's database with ?1 bound to event_id. */
static void change_stored(world *w, int i, const char *sql, const char *event_id) {
    ht_env *env = begin(w, i);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(env->store->db, sql, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_text(s, 1, event_id, -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    end(w, i);
}

/* As a hometab before schema 8 stored its own events. */
static const char remove_signatures[] =
    "UPDATE events SET json = json_remove(json, '$.signatures') WHERE event_id = ?1";

static void test_an_event_stored_unsigned_is_signed_when_served(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "from before signatures");
    change_stored(w, A, remove_signatures, m);
    json_t *bare = stored_pdu(w, A, m);
    assert_null(json_object_get(bare, "signatures"));
    json_decref(bare);
    reply r = fed_get(w, B, A, FED "/event/%s", enc(m));
    assert_genuine(w, the_pdu(&r), m);
    reply_free(&r);
    free(m);
}

/* An event no other server is sent when it is made is kept unsigned (a
 * send's costliest step, saved for a room only this server is in), and
 * signed the first time it is served, the signature kept; one made once
 * another server shares the room is kept signed, so that each server it
 * goes to is not a signature more. */
static void test_an_event_is_signed_when_made_only_if_another_server_gets_it(void **state) {
    world *w = *state;
    /* A room of Alice's that no other server is in. */
    ht_env *env = begin(w, A);
    const char *room_id;
    assert_int_equal(ht_room_new(env, ALICE, "10", false, &room_id).code, 0);
    char *room = strdup(room_id);
    end(w, A);
    free(send_in(w, A, room, "m.room.create", "", ALICE, json_pack("{s:s, s:s}", "room_version", "10", "creator", ALICE),
                 NULL));
    free(send_in(w, A, room, "m.room.member", ALICE, ALICE, json_pack("{s:s}", "membership", "join"), NULL));
    char *alone = send_in(w, A, room, "m.room.message", NULL, ALICE,
                          json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "to no one else"), NULL);
    json_t *kept = stored_pdu(w, A, alone);
    assert_null(json_object_get(kept, "signatures"));
    assert_non_null(json_object_get(kept, "hashes"));
    json_decref(kept);
    /* Signed when served, once: the signature is kept with it. */
    json_t *served = served_pdu(w, A, alone);
    assert_genuine(w, served, alone);
    kept = stored_pdu(w, A, alone);
    assert_true(json_equal(kept, served));
    json_decref(kept);
    json_decref(served);
    /* In the room Bob of b.test shares, a new message is kept signed. */
    char *shared = say(w, A, ALICE, "for both servers");
    kept = stored_pdu(w, A, shared);
    assert_genuine(w, kept, shared);
    json_decref(kept);
    free(shared);
    free(alone);
    free(room);
}

/* A power levels change by Bob, which Bob may not make: a.test rejects it. */
static char *forge_rejected(world *w) {
    const ht_room_version *v = ht_room_version_get("10");
    ht_env *env = begin(w, A);
    json_t *auth = json_array();
    const char *keys[][2] = {{"m.room.create", ""}, {"m.room.power_levels", ""}, {"m.room.member", BOB}};
    for (size_t i = 0; i < 3; i++)
        json_array_append_new(auth, json_string(ht_store_state_event_id(env->store, env->arena, w->room, keys[i][0],
                                                                        keys[i][1])));
    ht_extremity_row *tips;
    assert_true(ht_store_extremities(env->store, env->arena, w->room, 1, &tips) >= 1);
    json_t *pdu = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:i}}, s:s, s:I, s:I, s:[s], s:o}", "room_id", w->room,
                            "sender", BOB, "type", "m.room.power_levels", "state_key", "", "content", "users", BOB,
                            100, "origin", "b.test", "origin_server_ts", (json_int_t)w->n.clock_ms, "depth",
                            (json_int_t)(tips[0].depth + 1), "prev_events", tips[0].event_id, "auth_events", auth);
    assert_true(ht_pdu_set_content_hash(pdu, NULL));
    assert_true(ht_pdu_sign(v, pdu, "b.test", &w->n.cores[B]->signing_key));
    ht_received r = ht_room_receive(env, "10", pdu, lookup, w, NULL);
    assert_int_equal(r.outcome, HT_RECEIVED_REJECTED);
    char *id = strdup(r.event_id);
    end(w, A);
    json_decref(pdu);
    return id;
}

static void test_rejected_events_are_not_served_and_outliers_only_as_state_allows(void **state) {
    world *w = *state;
    char *rejected = forge_rejected(w);
    reply r = fed_get(w, B, A, FED "/event/%s", enc(rejected));
    assert_error(&r, 404, "M_NOT_FOUND");
    r = fed_get(w, B, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(rejected));
    assert_error(&r, 404, "M_NOT_FOUND");
    /* A message a.test holds only as an outlier: its state is unknown. */
    char *message = say(w, B, BOB, "known to a only as an outlier");
    assert_int_equal(give(w, B, A, message, true), HT_RECEIVED_OUTLIER);
    r = fed_get(w, B, A, FED "/event/%s", enc(message));
    assert_genuine(w, the_pdu(&r), message); /* b.test's own event: whole */
    reply_free(&r);
    member(w, C, CAROL, CAROL, "join");
    r = fed_get(w, C, A, FED "/event/%s", enc(message));
    json_t *pdu = the_pdu(&r);
    assert_genuine(w, pdu, message);
    assert_int_equal(json_object_size(json_object_get(pdu, "content")), 0);
    reply_free(&r);
    r = fed_get(w, C, A, FED "/state/%s?event_id=%s", enc(w->room), enc(message));
    assert_error(&r, 404, "M_NOT_FOUND");
    free(rejected);
    free(message);
}

/* ---- GET /state_ids, /state, /event_auth --------------------------------- */

/* Every auth event of the listed events is in the chain (and, through the
 * chain's own auth events, so on). */
static void assert_chain_closed(world *w, json_t *ids, json_t *chain) {
    for (int pass = 0; pass < 2; pass++) {
        json_t *list = pass ? chain : ids;
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *pdu = stored_pdu(w, A, json_string_value(json_array_get(list, i)));
            json_t *auth = json_object_get(pdu, "auth_events");
            for (size_t k = 0; k < json_array_size(auth); k++)
                assert_true(listed(chain, json_string_value(json_array_get(auth, k))));
            json_decref(pdu);
        }
    }
}

static void test_state_ids_are_the_state_before_the_event_with_its_auth_chain(void **state) {
    world *w = *state;
    char *t1 = send_all(w, A, "m.room.topic", "", ALICE, json_pack("{s:s}", "topic", "one"));
    char *t2 = send_all(w, A, "m.room.topic", "", ALICE, json_pack("{s:s}", "topic", "two"));
    char *m = say_all(w, A, ALICE, "after two");
    reply r = fed_get(w, B, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(t2));
    assert_int_equal(r.status, 200);
    json_t *ids = json_object_get(r.json, "pdu_ids"), *chain = json_object_get(r.json, "auth_chain_ids");
    assert_true(listed(ids, t1)); /* before t2: t1 was the topic */
    assert_false(listed(ids, t2));
    /* The same state b.test worked out for itself after t1. */
    ht_env *env = begin(w, B);
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, t1, &row));
    ht_state_map mine;
    ht_state_map_init(&mine, env->arena);
    assert_true(ht_room_state_after(env, &row, &mine));
    assert_int_equal(json_array_size(ids), mine.count);
    for (size_t i = 0; i < mine.count; i++) assert_true(listed(ids, mine.entries[i].event_id));
    end(w, B);
    char *create = state_id(w, A, "m.room.create", "");
    assert_true(listed(chain, create));
    assert_false(listed(chain, t1)); /* a topic authorises nothing */
    assert_chain_closed(w, ids, chain);
    reply_free(&r);
    r = fed_get(w, B, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(m));
    assert_true(listed(json_object_get(r.json, "pdu_ids"), t2));
    assert_false(listed(json_object_get(r.json, "pdu_ids"), t1));
    reply_free(&r);
    free(t1);
    free(t2);
    free(m);
    free(create);
}

static void test_state_serves_the_same_state_as_whole_checkable_pdus(void **state) {
    world *w = *state;
    char *t = send_all(w, A, "m.room.topic", "", ALICE, json_pack("{s:s}", "topic", "whole"));
    char *m = say_all(w, A, ALICE, "after the topic");
    /* Two events whose stored text is not the PDU: one kept with what a
     * server added on the way (unsigned), one kept unsigned. */
    change_stored(w, A, "UPDATE events SET json = json_set(json, '$.unsigned', json('{\"age\":5}')) WHERE event_id = ?1",
                  t);
    char *rules = state_id(w, A, "m.room.join_rules", "");
    change_stored(w, A, remove_signatures, rules);
    reply ids = fed_get(w, B, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(m));
    reply r = fed_get(w, B, A, FED "/state/%s?event_id=%s", enc(w->room), enc(m));
    assert_int_equal(r.status, 200);
    const char *lists[][2] = {{"pdus", "pdu_ids"}, {"auth_chain", "auth_chain_ids"}};
    for (int l = 0; l < 2; l++) {
        json_t *pdus = json_object_get(r.json, lists[l][0]), *want = json_object_get(ids.json, lists[l][1]);
        assert_int_equal(json_array_size(pdus), json_array_size(want));
        for (size_t i = 0; i < json_array_size(pdus); i++) {
            json_t *pdu = json_array_get(pdus, i);
            ht_arena arena;
            ht_arena_init(&arena, 1024);
            const char *id = ht_pdu_id(&arena, ht_room_version_get("10"), pdu, NULL);
            assert_true(listed(want, id));
            assert_genuine(w, pdu, id);
            ht_arena_free(&arena);
        }
    }
    reply_free(&r);
    reply_free(&ids);
    free(t);
    free(m);
    free(rules);
}

static void test_state_requests_that_cannot_be_answered(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "m");
    reply r = fed_get(w, B, A, FED "/state_ids/%s", enc(w->room));
    assert_error(&r, 400, "M_MISSING_PARAM");
    r = fed_get(w, B, A, FED "/state/%s?event_id=%s", enc("!unknown:a.test"), enc(m));
    assert_error(&r, 404, "M_NOT_FOUND");
    r = fed_get(w, B, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc("$not-here"));
    assert_error(&r, 404, "M_NOT_FOUND");
    /* c.test is not in the room: whether the event exists it does not learn. */
    r = fed_get(w, C, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(m));
    assert_error(&r, 403, "M_FORBIDDEN");
    r = fed_get(w, C, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc("$not-here"));
    assert_error(&r, 403, "M_FORBIDDEN");
    r = fed_get(w, C, A, FED "/state/%s?event_id=%s", enc(w->room), enc(m));
    assert_error(&r, 403, "M_FORBIDDEN");
    /* An event of another room, named under this one. */
    ht_env *env = begin(w, A);
    const char *other;
    assert_int_equal(ht_room_new(env, ALICE, "10", false, &other).code, 0);
    char *other_room = strdup(other);
    end(w, A);
    char *saved = w->room;
    w->room = other_room;
    char *create = send_on(w, A, "m.room.create", "", ALICE, json_pack("{s:s, s:s}", "room_version", "10", "creator", ALICE), NULL);
    w->room = saved;
    r = fed_get(w, B, A, FED "/state_ids/%s?event_id=%s", enc(w->room), enc(create));
    assert_error(&r, 404, "M_NOT_FOUND");
    r = fed_get(w, B, A, FED "/event_auth/%s/%s", enc(w->room), enc(create));
    assert_error(&r, 404, "M_NOT_FOUND");
    free(create);
    free(other_room);
    free(m);
}

static void test_event_auth_is_the_events_auth_chain(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "authorised");
    reply r = fed_get(w, B, A, FED "/event_auth/%s/%s", enc(w->room), enc(m));
    assert_int_equal(r.status, 200);
    json_t *chain = json_object_get(r.json, "auth_chain");
    /* A message needs the create event, the power levels and its sender's
     * membership; those need the create event and Alice's join. */
    char *want[] = {state_id(w, A, "m.room.create", ""), state_id(w, A, "m.room.power_levels", ""),
                    state_id(w, A, "m.room.member", ALICE)};
    assert_int_equal(json_array_size(chain), 3);
    json_t *got = json_array();
    for (size_t i = 0; i < json_array_size(chain); i++) {
        ht_arena arena;
        ht_arena_init(&arena, 1024);
        const char *id = ht_pdu_id(&arena, ht_room_version_get("10"), json_array_get(chain, i), NULL);
        assert_genuine(w, json_array_get(chain, i), id);
        json_array_append_new(got, json_string(id));
        ht_arena_free(&arena);
    }
    for (int i = 0; i < 3; i++) {
        assert_true(listed(got, want[i]));
        free(want[i]);
    }
    json_decref(got);
    reply_free(&r);
    r = fed_get(w, C, A, FED "/event_auth/%s/%s", enc(w->room), enc(m));
    assert_error(&r, 403, "M_FORBIDDEN");
    r = fed_get(w, B, A, FED "/event_auth/%s/%s", enc(w->room), enc("$not-here"));
    assert_error(&r, 404, "M_NOT_FOUND");
    free(m);
}

/* ---- POST /get_missing_events, GET /backfill ----------------------------- */

static reply missing(world *w, int from, json_t *body) {
    char target[512];
    snprintf(target, sizeof target, FED "/get_missing_events/%s", enc(w->room));
    reply r = net_fed_call(&w->n, from, A, "POST", target, body, NULL);
    json_decref(body);
    return r;
}

/* The ids of a list of PDUs, in order, checked genuine. */
static json_t *ids_of(world *w, json_t *pdus) {
    json_t *ids = json_array();
    for (size_t i = 0; i < json_array_size(pdus); i++) {
        ht_arena arena;
        ht_arena_init(&arena, 1024);
        const char *id = ht_pdu_id(&arena, ht_room_version_get("10"), json_array_get(pdus, i), NULL);
        assert_genuine(w, json_array_get(pdus, i), id);
        json_array_append_new(ids, json_string(id));
        ht_arena_free(&arena);
    }
    return ids;
}

static void assert_ids(json_t *ids, char **want, size_t n) {
    if (json_array_size(ids) != n) fail_msg("expected %zu events, got %zu", n, json_array_size(ids));
    for (size_t i = 0; i < n; i++) assert_string_equal(json_string_value(json_array_get(ids, i)), want[i]);
}

static void test_get_missing_events_walks_back_from_latest_to_earliest(void **state) {
    world *w = *state;
    char *m[8];
    for (int i = 0; i < 8; i++) {
        char body[16];
        snprintf(body, sizeof body, "m%d", i);
        m[i] = say_all(w, A, ALICE, body);
    }
    reply r = missing(w, B, json_pack("{s:[s], s:[s], s:i}", "earliest_events", m[1], "latest_events", m[6], "limit", 10));
    assert_int_equal(r.status, 200);
    json_t *ids = ids_of(w, json_object_get(r.json, "events"));
    assert_ids(ids, &m[2], 4); /* m2..m5, oldest first */
    json_decref(ids);
    reply_free(&r);
    /* At most `limit`, the nearest to the latest events. */
    r = missing(w, B, json_pack("{s:[s], s:[s], s:i}", "earliest_events", m[1], "latest_events", m[6], "limit", 2));
    ids = ids_of(w, json_object_get(r.json, "events"));
    assert_ids(ids, &m[4], 2);
    json_decref(ids);
    reply_free(&r);
    /* Nothing below min_depth. */
    json_t *pdu = stored_pdu(w, A, m[4]);
    int64_t depth = json_integer_value(json_object_get(pdu, "depth"));
    json_decref(pdu);
    r = missing(w, B, json_pack("{s:[], s:[s], s:I}", "earliest_events", "latest_events", m[7], "min_depth",
                                (json_int_t)depth));
    ids = ids_of(w, json_object_get(r.json, "events"));
    assert_ids(ids, &m[4], 3); /* m4..m6 */
    json_decref(ids);
    reply_free(&r);
    /* At most 20, whatever was asked. */
    for (int i = 0; i < 25; i++) free(say_all(w, A, ALICE, "more"));
    ht_env *env = begin(w, A);
    ht_extremity_row *tips;
    assert_int_equal(ht_store_extremities(env->store, env->arena, w->room, 1, &tips), 1);
    char *tip = strdup(tips[0].event_id);
    end(w, A);
    r = missing(w, B, json_pack("{s:[], s:[s], s:i}", "earliest_events", "latest_events", tip, "limit", 1000));
    assert_int_equal(json_array_size(json_object_get(r.json, "events")), 20);
    reply_free(&r);
    free(tip);
    for (int i = 0; i < 8; i++) free(m[i]);
}

static void test_get_missing_events_bounds_what_it_is_given(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "m");
    json_t *many = json_array();
    for (int i = 0; i < 101; i++) json_array_append_new(many, json_string(m));
    reply r = missing(w, B, json_pack("{s:o, s:[s]}", "earliest_events", many, "latest_events", m));
    assert_error(&r, 400, "M_INVALID_PARAM");
    json_t *latest = json_array();
    for (int i = 0; i < 21; i++) json_array_append_new(latest, json_string(m));
    r = missing(w, B, json_pack("{s:[], s:o}", "earliest_events", "latest_events", latest));
    assert_error(&r, 400, "M_INVALID_PARAM");
    r = missing(w, B, json_pack("{s:[], s:s}", "earliest_events", "latest_events", m));
    assert_error(&r, 400, "M_BAD_JSON");
    r = missing(w, B, json_pack("{s:[i], s:[s]}", "earliest_events", 5, "latest_events", m));
    assert_error(&r, 400, "M_BAD_JSON");
    r = missing(w, B, json_pack("{s:[], s:[s], s:s}", "earliest_events", "latest_events", m, "limit", "ten"));
    assert_error(&r, 400, "M_BAD_JSON");
    r = missing(w, B, json_pack("{s:[s]}", "latest_events", m));
    assert_error(&r, 400, "M_BAD_JSON");
    r = missing(w, C, json_pack("{s:[], s:[s]}", "earliest_events", "latest_events", m));
    assert_error(&r, 403, "M_FORBIDDEN");
    json_t *body = json_pack("{s:[], s:[s]}", "earliest_events", "latest_events", m);
    r = net_fed_call(&w->n, B, A, "POST", FED "/get_missing_events/%21unknown%3Aa.test", body, NULL);
    json_decref(body);
    assert_error(&r, 404, "M_NOT_FOUND");
    free(m);
}

static void test_backfill_gives_the_events_and_those_before_them_newest_first(void **state) {
    world *w = *state;
    char *m[5];
    for (int i = 0; i < 5; i++) m[i] = say_all(w, A, ALICE, "history");
    reply r = fed_get(w, B, A, FED "/backfill/%s?v=%s&limit=3", enc(w->room), enc(m[4]));
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "origin")), "a.test");
    json_t *ids = ids_of(w, json_object_get(r.json, "pdus"));
    char *want[] = {m[4], m[3], m[2]};
    assert_ids(ids, want, 3);
    json_decref(ids);
    reply_free(&r);
    /* From two events: both, then what precedes them. */
    r = fed_get(w, B, A, FED "/backfill/%s?v=%s&v=%s&limit=3", enc(w->room), enc(m[1]), enc(m[3]));
    ids = ids_of(w, json_object_get(r.json, "pdus"));
    char *want2[] = {m[3], m[2], m[1]};
    assert_ids(ids, want2, 3);
    json_decref(ids);
    reply_free(&r);
    r = fed_get(w, B, A, FED "/backfill/%s?v=%s&limit=0", enc(w->room), enc(m[4]));
    assert_int_equal(json_array_size(json_object_get(r.json, "pdus")), 0);
    reply_free(&r);
    /* The whole room back to its create event, within 100. */
    r = fed_get(w, B, A, FED "/backfill/%s?v=%s&limit=1000", enc(w->room), enc(m[4]));
    json_t *pdus = json_object_get(r.json, "pdus");
    assert_int_equal(json_array_size(pdus), 5 + 5); /* create, join, power levels, join rules, Bob's join */
    assert_string_equal(json_string_value(json_object_get(json_array_get(pdus, json_array_size(pdus) - 1), "type")),
                        "m.room.create");
    reply_free(&r);
    for (int i = 0; i < 5; i++) free(m[i]);
}

static void test_backfill_refuses_what_it_cannot_answer(void **state) {
    world *w = *state;
    char *m = say_all(w, A, ALICE, "m");
    reply r = fed_get(w, B, A, FED "/backfill/%s?limit=3", enc(w->room));
    assert_error(&r, 400, "M_MISSING_PARAM");
    r = fed_get(w, B, A, FED "/backfill/%s?v=%s", enc(w->room), enc(m));
    assert_error(&r, 400, "M_MISSING_PARAM");
    r = fed_get(w, B, A, FED "/backfill/%s?v=%s&limit=many", enc(w->room), enc(m));
    assert_error(&r, 400, "M_INVALID_PARAM");
    char target[8192];
    int at = snprintf(target, sizeof target, FED "/backfill/%s?limit=5", enc(w->room));
    for (int i = 0; i < 51; i++) at += snprintf(target + at, sizeof target - (size_t)at, "&v=%s", enc(m));
    r = net_fed_call(&w->n, B, A, "GET", target, NULL, NULL);
    assert_error(&r, 400, "M_INVALID_PARAM");
    r = fed_get(w, C, A, FED "/backfill/%s?v=%s&limit=3", enc(w->room), enc(m));
    assert_error(&r, 403, "M_FORBIDDEN");
    r = fed_get(w, B, A, FED "/backfill/%s?v=%s&limit=3", enc("!unknown:a.test"), enc(m));
    assert_error(&r, 404, "M_NOT_FOUND");
    free(m);
}

static void test_walks_list_soft_failed_events_and_pass_rejected_ones(void **state) {
    world *w = *state;
    /* Bob is banned on a.test; his late message, built on older state, is
     * soft-failed there: in the graph, never shown. */
    char *ban = send_on(w, A, "m.room.member", BOB, ALICE, json_pack("{s:s}", "membership", "ban"), NULL);
    char *late = say(w, B, BOB, "still here");
    assert_int_equal(give(w, B, A, late, false), HT_RECEIVED_SOFT_FAILED);
    member(w, C, CAROL, CAROL, "join");
    reply r = fed_get(w, C, A, FED "/backfill/%s?v=%s&limit=2", enc(w->room), enc(late));
    json_t *ids = ids_of(w, json_object_get(r.json, "pdus"));
    assert_int_equal(json_array_size(ids), 2);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), late);
    json_decref(ids);
    reply_free(&r);
    /* A rejected event named as a latest event is not listed, but what came
     * before it is. */
    char *rejected = forge_rejected(w);
    r = missing(w, C, json_pack("{s:[], s:[s], s:i}", "earliest_events", "latest_events", rejected, "limit", 1));
    ids = ids_of(w, json_object_get(r.json, "events"));
    assert_int_equal(json_array_size(ids), 1);
    assert_false(listed(ids, rejected));
    json_decref(ids);
    reply_free(&r);
    r = fed_get(w, C, A, FED "/backfill/%s?v=%s&limit=5", enc(w->room), enc(rejected));
    ids = ids_of(w, json_object_get(r.json, "pdus"));
    assert_int_equal(json_array_size(ids), 5);
    assert_false(listed(ids, rejected));
    json_decref(ids);
    reply_free(&r);
    free(ban);
    free(late);
    free(rejected);
}

/* ---- the calling side --------------------------------------------------- */

/* c.test catching up with a.test: what a task found, copied out. */
typedef struct catch_up {
    world *w;
    const char *earliest, *latest; /* the asks */
    int64_t limit;
    json_t *pdus;                  /* what came, copied (owned) */
    json_t *ids;                   /* owned */
    size_t dropped;
    char *error;
    ht_receive_outcome outcomes[32];
} catch_up;

static void keep(catch_up *c, const ht_fed_pdus *p) {
    c->pdus = json_array();
    c->ids = json_array();
    for (size_t i = 0; i < p->count; i++) {
        json_array_append_new(c->pdus, json_deep_copy(p->pdus[i]));
        json_array_append_new(c->ids, json_string(p->event_ids[i]));
    }
    c->dropped = p->dropped;
    c->error = p->error ? strdup(p->error) : NULL;
}

static void catch_up_free(catch_up *c) {
    json_decref(c->pdus);
    json_decref(c->ids);
    free(c->error);
    c->pdus = c->ids = NULL;
    c->error = NULL;
}

/* Fetches the missing events and takes each into c.test's room. */
static bool fetch_and_receive_missing(struct ht_ctx *ctx, void *arg) {
    catch_up *c = arg;
    ht_fed_pdus got;
    if (!ht_fed_fetch_missing_events(ctx, "a.test", c->w->room, "10", &c->earliest, 1, &c->latest, 1, c->limit, 0,
                                     &got))
        return false;
    keep(c, &got);
    for (size_t i = 0; i < got.count && i < 32; i++)
        c->outcomes[i] = ht_room_receive(ctx->env, "10", got.pdus[i], lookup, c->w, NULL).outcome;
    return true;
}

static bool fetch_one(struct ht_ctx *ctx, void *arg) {
    catch_up *c = arg;
    ht_fed_pdus got;
    if (!ht_fed_fetch_event(ctx, "a.test", c->w->room, "10", c->latest, &got)) return false;
    keep(c, &got);
    if (got.count) c->outcomes[0] = ht_room_receive(ctx->env, "10", got.pdus[0], lookup, c->w, NULL).outcome;
    return true;
}

static void test_a_server_that_missed_events_fetches_them_and_takes_them_in(void **state) {
    world *w = *state;
    member(w, C, CAROL, CAROL, "join");
    char *seen = state_id(w, C, "m.room.member", CAROL);
    char *m[5];
    for (int i = 0; i < 5; i++) {
        m[i] = say(w, A, ALICE, "while c was away");
        assert_int_equal(give(w, A, B, m[i], false), HT_RECEIVED_TIMELINE);
    }
    catch_up c = {.w = w, .earliest = seen, .latest = m[4], .limit = 10};
    net_run(&w->n, C, fetch_and_receive_missing, &c);
    assert_null(c.error);
    assert_int_equal(c.dropped, 0);
    assert_ids(c.ids, m, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(c.outcomes[i], HT_RECEIVED_TIMELINE);
    catch_up_free(&c);
    net_run(&w->n, C, fetch_one, &c);
    assert_null(c.error);
    assert_ids(c.ids, &m[4], 1);
    assert_int_equal(c.outcomes[0], HT_RECEIVED_TIMELINE);
    catch_up_free(&c);
    /* c.test now holds what a.test holds. */
    ht_env *env = begin(w, C);
    ht_extremity_row *tips;
    assert_int_equal(ht_store_extremities(env->store, env->arena, w->room, 2, &tips), 1);
    assert_string_equal(tips[0].event_id, m[4]);
    end(w, C);
    free(seen);
    for (int i = 0; i < 5; i++) free(m[i]);
}

typedef struct state_ask {
    world *w;
    const char *event_id;
    json_t *pdu_ids, *chain_ids; /* owned */
    char *error;
    ht_fed_pdus auth;
    json_t *auth_ids;            /* owned */
} state_ask;

static bool fetch_state(struct ht_ctx *ctx, void *arg) {
    state_ask *s = arg;
    ht_fed_state_lists got;
    ht_fed_pdus chain;
    bool ready = ht_fed_fetch_state_ids(ctx, "a.test", s->w->room, s->event_id, &got);
    /* Both asked in one pass: fetched together. */
    ready &= ht_fed_fetch_event_auth(ctx, "a.test", s->w->room, "10", s->event_id, &chain);
    if (!ready) return false;
    s->error = got.error ? strdup(got.error) : chain.error ? strdup(chain.error) : NULL;
    s->pdu_ids = ht_json_string_array(got.pdu_ids, got.pdu_count);
    s->chain_ids = ht_json_string_array(got.auth_chain_ids, got.auth_chain_count);
    s->auth_ids = ht_json_string_array(chain.event_ids, chain.count);
    return true;
}

static void test_the_state_and_auth_chain_at_an_event_are_fetched(void **state) {
    world *w = *state;
    member(w, C, CAROL, CAROL, "join");
    char *t = send_all(w, A, "m.room.topic", "", ALICE, json_pack("{s:s}", "topic", "fetched"));
    char *m = say_all(w, A, ALICE, "m");
    unsigned before = w->n.fetches;
    state_ask s = {.w = w, .event_id = m};
    net_run(&w->n, C, fetch_state, &s);
    assert_null(s.error);
    assert_int_equal(w->n.fetches - before, 2 + 1); /* the two asks, and a.test fetching c.test's key once */
    /* The state c.test itself holds after the topic. */
    ht_env *env = begin(w, C);
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, t, &row));
    ht_state_map mine;
    ht_state_map_init(&mine, env->arena);
    assert_true(ht_room_state_after(env, &row, &mine));
    assert_int_equal(json_array_size(s.pdu_ids), mine.count);
    for (size_t i = 0; i < mine.count; i++) assert_true(listed(s.pdu_ids, mine.entries[i].event_id));
    end(w, C);
    char *create = state_id(w, A, "m.room.create", "");
    assert_true(listed(s.chain_ids, create));
    assert_int_equal(json_array_size(s.auth_ids), 3);
    assert_true(listed(s.auth_ids, create));
    json_decref(s.pdu_ids);
    json_decref(s.chain_ids);
    json_decref(s.auth_ids);
    free(create);
    free(t);
    free(m);
}

/* A liar for the calling side's checks: answers a.test's reads itself. */
typedef struct lie {
    const char *path_part; /* lie only to targets containing this */
    int status;
    char *body;            /* the JSON to answer */
} lie;

static bool liar(void *arg, const char *destination, const char *target, int *status, char **body) {
    lie *l = arg;
    if (strcmp(destination, "a.test") != 0 || !strstr(target, l->path_part)) return false;
    *status = l->status;
    *body = strdup(l->body);
    return true;
}

static char *dumps_pdu(world *w, const char *event_id) {
    json_t *pdu = served_pdu(w, A, event_id);
    char *text = json_dumps(pdu, JSON_COMPACT);
    json_decref(pdu);
    return text;
}

static void test_what_other_servers_answer_is_held_to_what_was_asked(void **state) {
    world *w = *state;
    member(w, C, CAROL, CAROL, "join");
    char *seen = state_id(w, C, "m.room.member", CAROL);
    char *m1 = say_all(w, A, ALICE, "one"), *m2 = say_all(w, A, ALICE, "two");
    /* Asked for m1, given m2: not taken. */
    char *t2 = dumps_pdu(w, m2);
    lie l = {"/event/", 200, NULL};
    size_t size = strlen(t2) + 64;
    l.body = malloc(size);
    snprintf(l.body, size, "{\"origin\":\"a.test\",\"pdus\":[%s]}", t2);
    w->n.liar = liar;
    w->n.liar_arg = &l;
    catch_up c = {.w = w, .latest = m1};
    net_run(&w->n, C, fetch_one, &c);
    assert_non_null(c.error);
    assert_non_null(strstr(c.error, "another event"));
    assert_int_equal(json_array_size(c.ids), 0);
    catch_up_free(&c);
    free(l.body);
    /* A list with junk in it: not PDUs, another room's, repeats, too many. */
    char *t1 = dumps_pdu(w, m1);
    size = strlen(t1) * 3 + strlen(t2) + 256;
    l = (lie){"/get_missing_events/", 200, malloc(size)};
    snprintf(l.body, size,
             "{\"events\":[\"junk\", 7, {\"room_id\":\"!other:a.test\",\"type\":\"x\"}, %s, %s, %s, %s]}", t1, t1, t2,
             t1);
    c = (catch_up){.w = w, .earliest = seen, .latest = m2, .limit = 10};
    net_run(&w->n, C, fetch_and_receive_missing, &c);
    assert_null(c.error);
    char *want[] = {m1, m2};
    assert_ids(c.ids, want, 2);
    assert_int_equal(c.dropped, 5);
    catch_up_free(&c);
    c = (catch_up){.w = w, .earliest = seen, .latest = m2, .limit = 1};
    net_run(&w->n, C, fetch_and_receive_missing, &c);
    assert_ids(c.ids, want, 1);
    catch_up_free(&c);
    free(l.body);
    /* A state that is not a list of ids is no state. */
    l = (lie){"/state_ids/", 200, strdup("{\"pdu_ids\":[\"$a\", 5], \"auth_chain_ids\":[]}")};
    state_ask s = {.w = w, .event_id = m2};
    net_run(&w->n, C, fetch_state, &s);
    assert_non_null(s.error);
    assert_non_null(strstr(s.error, "pdu_ids[1]"));
    assert_int_equal(json_array_size(s.pdu_ids), 0);
    json_decref(s.pdu_ids);
    json_decref(s.chain_ids);
    json_decref(s.auth_ids);
    free(s.error);
    free(l.body);
    /* A refusal is told with the server's own words; silence as silence. */
    w->n.liar = NULL;
    c = (catch_up){.w = w, .latest = "$not-on-a"};
    net_run(&w->n, C, fetch_one, &c);
    assert_non_null(strstr(c.error, "404 M_NOT_FOUND"));
    catch_up_free(&c);
    w->n.down[A] = true;
    c = (catch_up){.w = w, .latest = m1};
    net_run(&w->n, C, fetch_one, &c);
    assert_non_null(strstr(c.error, "a.test did not answer"));
    catch_up_free(&c);
    w->n.down[A] = false;
    free(seen);
    free(m1);
    free(m2);
    free(t1);
    free(t2);
}

int run_fed_read_tests(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_an_event_is_served_whole_and_signed_to_a_server_in_the_room),
        T(test_an_event_is_refused_to_servers_outside_its_room_unless_it_is_theirs),
        T(test_a_request_without_a_valid_signature_is_401),
        T(test_history_a_server_may_not_see_is_served_redacted),
        T(test_invited_history_is_visible_from_the_invite_on),
        T(test_visibility_and_state_are_read_on_the_events_own_branch),
        T(test_a_redacted_event_is_served_redacted_with_its_id),
        T(test_an_event_stored_unsigned_is_signed_when_served),
        T(test_an_event_is_signed_when_made_only_if_another_server_gets_it),
        T(test_rejected_events_are_not_served_and_outliers_only_as_state_allows),
        T(test_state_ids_are_the_state_before_the_event_with_its_auth_chain),
        T(test_state_serves_the_same_state_as_whole_checkable_pdus),
        T(test_state_requests_that_cannot_be_answered),
        T(test_event_auth_is_the_events_auth_chain),
        T(test_get_missing_events_walks_back_from_latest_to_earliest),
        T(test_get_missing_events_bounds_what_it_is_given),
        T(test_backfill_gives_the_events_and_those_before_them_newest_first),
        T(test_backfill_refuses_what_it_cannot_answer),
        T(test_walks_list_soft_failed_events_and_pass_rejected_ones),
        T(test_a_server_that_missed_events_fetches_them_and_takes_them_in),
        T(test_the_state_and_auth_chain_at_an_event_are_fetched),
        T(test_what_other_servers_answer_is_held_to_what_was_asked),
    };
#undef T
    return cmocka_run_group_tests_name("federation reads (served and called)", tests, NULL, NULL);
}
