/* test_federation.c -- the server-server API between cores in one process
 * (federation_net.h carries their fetches): keys, signed requests, the
 * queries, and the client API reaching other servers through them. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/core.h"
#include "federation_net.h"
#include "sql_int.h"
#include "store/db.h"
#include "store/rooms.h"
#include "util/str.h"

static const char *const names[] = {"a.test", "b.test"};

static int setup(void **state) {
    net *n = calloc(1, sizeof *n);
    if (!net_open(n, 2, names)) return -1;
    *state = n;
    return 0;
}

static int teardown(void **state) {
    net_close(*state);
    free(*state);
    return 0;
}

static void test_the_key_server_serves_a_self_signed_key(void **state) {
    net *n = *state;
    reply r = net_call(n, 0, "GET", "/_matrix/key/v2/server", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "server_name")), "a.test");
    json_t *keys = json_object_get(r.json, "verify_keys");
    assert_int_equal(json_object_size(keys), 1);
    assert_non_null(json_object_get(json_object_get(r.json, "signatures"), "a.test"));
    assert_true(json_integer_value(json_object_get(r.json, "valid_until_ts")) > n->clock_ms);
    reply_free(&r);
}

static void test_a_remote_profile_is_asked_of_its_server_over_a_signed_request(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    assert_non_null(alice);
    assert_non_null(bob);
    json_t *name = json_pack("{s:s}", "displayname", "Bob of B");
    reply r = net_call(n, 1, "PUT", "/_matrix/client/v3/profile/@bob:b.test/displayname", bob, name);
    json_decref(name);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    unsigned before = n->fetches;
    r = net_call(n, 0, "GET", "/_matrix/client/v3/profile/@bob:b.test", alice, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "displayname")), "Bob of B");
    reply_free(&r);
    /* a.test asked b.test, which first fetched a.test's key to check it. */
    assert_int_equal(n->fetches - before, 2);
    /* The key is kept: the next ask is one fetch. */
    before = n->fetches;
    r = net_call(n, 0, "GET", "/_matrix/client/v3/profile/@bob:b.test/displayname", alice, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(n->fetches - before, 1);
    r = net_call(n, 0, "GET", "/_matrix/client/v3/profile/@nobody:b.test", alice, NULL);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    free(alice);
    free(bob);
}

static void test_an_unreachable_server_is_a_502_naming_it(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    n->down[1] = true;
    reply r = net_call(n, 0, "GET", "/_matrix/client/v3/profile/@bob:b.test", alice, NULL);
    assert_int_equal(r.status, 502);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "error")), "b.test"));
    reply_free(&r);
    free(alice);
}

/* The messages of a room as a user of server i sees them (their bodies,
 * oldest first, joined by '|'), from /messages. */
static char *bodies(net *n, int i, const char *token, const char *room_id) {
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/messages?dir=b&limit=100", room_id);
    reply r = net_call(n, i, "GET", path, token, NULL);
    assert_int_equal(r.status, 200);
    char *out = calloc(1, 4096);
    json_t *chunk = json_object_get(r.json, "chunk");
    for (size_t k = json_array_size(chunk); k-- > 0;) {
        json_t *e = json_array_get(chunk, k);
        const char *body = json_string_value(json_object_get(json_object_get(e, "content"), "body"));
        if (body && strcmp(json_string_value(json_object_get(e, "type")), "m.room.message") == 0) {
            if (*out) strcat(out, "|");
            strcat(out, body);
        }
    }
    reply_free(&r);
    return out;
}

static void say(net *n, int i, const char *token, const char *room_id, const char *text) {
    static int txn;
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/t%d", room_id, ++txn);
    json_t *body = json_pack("{s:s, s:s}", "msgtype", "m.text", "body", text);
    reply r = net_call(n, i, "PUT", path, token, body);
    json_decref(body);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static void test_a_user_joins_a_room_on_another_server_and_both_talk(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    json_t *body = json_pack("{s:s, s:s}", "preset", "public_chat", "name", "Across");
    reply r = net_call(n, 0, "POST", "/_matrix/client/v3/createRoom", alice, body);
    json_decref(body);
    assert_int_equal(r.status, 200);
    char *room_id = strdup(json_string_value(json_object_get(r.json, "room_id")));
    reply_free(&r);
    say(n, 0, alice, room_id, "before bob");

    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", room_id);
    json_t *empty = json_object();
    r = net_call(n, 1, "POST", path, bob, empty);
    json_decref(empty);
    if (r.status != 200) print_message("join: %s\n", json_dumps(r.json, 0));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    /* b.test now holds the room: its name, and both members. */
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/state/m.room.name/", room_id);
    r = net_call(n, 1, "GET", path, bob, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "Across");
    reply_free(&r);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/joined_members", room_id);
    for (int i = 0; i < 2; i++) {
        r = net_call(n, i, "GET", path, i ? bob : alice, NULL);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_object_size(json_object_get(r.json, "joined")), 2);
        reply_free(&r);
    }
    say(n, 0, alice, room_id, "hello bob");
    say(n, 1, bob, room_id, "hello alice");
    say(n, 0, alice, room_id, "welcome");
    char *on_a = bodies(n, 0, alice, room_id), *on_b = bodies(n, 1, bob, room_id);
    assert_string_equal(on_a, "before bob|hello bob|hello alice|welcome");
    /* b.test fetched the history from before bob's join (shared, as public_chat makes it). */
    assert_string_equal(on_b, "before bob|hello bob|hello alice|welcome");
    free(on_a);
    free(on_b);
    free(room_id);
    free(alice);
    free(bob);
}

static char *make_room(net *n, int i, const char *token, const char *preset, const char *name) {
    json_t *body = json_pack("{s:s, s:s}", "preset", preset, "name", name);
    reply r = net_call(n, i, "POST", "/_matrix/client/v3/createRoom", token, body);
    json_decref(body);
    assert_int_equal(r.status, 200);
    char *room_id = strdup(json_string_value(json_object_get(r.json, "room_id")));
    reply_free(&r);
    return room_id;
}

static reply room_post(net *n, int i, const char *token, const char *room_id, const char *action, json_t *body) {
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/%s", room_id, action);
    reply r = net_call(n, i, "POST", path, token, body);
    json_decref(body);
    return r;
}

/* The invite_state a user of server i sees for a room in their sync (new
 * reference), or NULL if the room is not among their invites. */
static json_t *invite_state(net *n, int i, const char *token, const char *room_id) {
    reply r = net_call(n, i, "GET", "/_matrix/client/v3/sync", token, NULL);
    assert_int_equal(r.status, 200);
    json_t *events = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(r.json, "rooms"),
                                                                                     "invite"),
                                                                     room_id),
                                                     "invite_state"),
                                     "events");
    json_t *out = events ? json_incref(events) : NULL;
    reply_free(&r);
    return out;
}

static const char *membership_of(net *n, int i, const char *token, const char *room_id, const char *user) {
    static char m[32];
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/state/m.room.member/%s", room_id, user);
    reply r = net_call(n, i, "GET", path, token, NULL);
    snprintf(m, sizeof m, "%s", r.status == 200 ? json_string_value(json_object_get(r.json, "membership")) : "?");
    reply_free(&r);
    return m;
}

static void test_an_invite_reaches_the_other_server_and_the_invitee_joins_through_it(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    char *room_id = make_room(n, 0, alice, "private_chat", "Invitation only");
    reply r = room_post(n, 0, alice, room_id, "invite", json_pack("{s:s}", "user_id", "@bob:b.test"));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_string_equal(membership_of(n, 0, alice, room_id, "@bob:b.test"), "invite");
    json_t *shown = invite_state(n, 1, bob, room_id);
    assert_non_null(shown);
    bool named = false, invited = false;
    size_t k;
    json_t *e;
    json_array_foreach(shown, k, e) {
        const char *type = json_string_value(json_object_get(e, "type"));
        if (strcmp(type, "m.room.name") == 0)
            named = strcmp(json_string_value(json_object_get(json_object_get(e, "content"), "name")),
                           "Invitation only") == 0;
        if (strcmp(type, "m.room.member") == 0) invited = true;
    }
    json_decref(shown);
    assert_true(named);
    assert_true(invited);
    /* Bob joins through the server that invited him (no server_name). */
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/join", room_id);
    json_t *empty = json_object();
    r = net_call(n, 1, "POST", path, bob, empty);
    json_decref(empty);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_string_equal(membership_of(n, 0, alice, room_id, "@bob:b.test"), "join");
    say(n, 1, bob, room_id, "thanks for the invite");
    char *on_a = bodies(n, 0, alice, room_id);
    assert_string_equal(on_a, "thanks for the invite");
    free(on_a);
    free(room_id);
    free(alice);
    free(bob);
}

static void test_a_declined_invite_is_a_leave_on_both_servers(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *carol = net_register(n, 1, "carol");
    char *room_id = make_room(n, 0, alice, "private_chat", "Declined");
    reply r = room_post(n, 0, alice, room_id, "invite", json_pack("{s:s}", "user_id", "@carol:b.test"));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = room_post(n, 1, carol, room_id, "leave", json_pack("{s:s}", "reason", "no thanks"));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_string_equal(membership_of(n, 0, alice, room_id, "@carol:b.test"), "leave");
    json_t *still = invite_state(n, 1, carol, room_id);
    assert_null(still);
    /* An invite to a user b.test does not have is refused by b.test. */
    r = room_post(n, 0, alice, room_id, "invite", json_pack("{s:s}", "user_id", "@nobody:b.test"));
    assert_int_equal(r.status, 403);
    reply_free(&r);
    free(room_id);
    free(alice);
    free(carol);
}

/* The message bodies and ids of a room as user `token` pages back through
 * it, `limit` events a page, oldest first ("b1|b2|..."; ids likewise). */
static void page_back(net *n, int i, const char *token, const char *room_id, int limit, char *bodies_out,
                      char *ids_out, int *pages) {
    char from[64] = "";
    json_t *seen = json_array();
    *pages = 0;
    for (;;) {
        char path[512];
        snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/messages?dir=b&limit=%d%s%s", room_id, limit,
                 *from ? "&from=" : "", from);
        reply r = net_call(n, i, "GET", path, token, NULL);
        assert_int_equal(r.status, 200);
        (*pages)++;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(r.json, "chunk"), k, e) json_array_append(seen, e);
        const char *end = json_string_value(json_object_get(r.json, "end"));
        bool done = !end || *pages > 50;
        if (end) snprintf(from, sizeof from, "%s", end);
        reply_free(&r);
        if (done) break;
    }
    *bodies_out = *ids_out = '\0';
    for (size_t k = json_array_size(seen); k-- > 0;) {
        json_t *e = json_array_get(seen, k);
        if (strcmp(json_string_value(json_object_get(e, "type")), "m.room.message") != 0) continue;
        if (*bodies_out) strcat(bodies_out, "|"), strcat(ids_out, "|");
        const char *text = json_string_value(json_object_get(json_object_get(e, "content"), "body"));
        strcat(bodies_out, text ? text : "(redacted)");
        strcat(ids_out, json_string_value(json_object_get(e, "event_id")));
    }
    json_decref(seen);
}

static void test_a_late_joiner_pages_back_through_history_fetched_from_the_room(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    json_t *body = json_pack("{s:s, s:[{s:s, s:s, s:{s:s}}]}", "preset", "public_chat", "initial_state", "type",
                             "m.room.history_visibility", "state_key", "", "content", "history_visibility",
                             "shared");
    reply r = net_call(n, 0, "POST", "/_matrix/client/v3/createRoom", alice, body);
    json_decref(body);
    assert_int_equal(r.status, 200);
    char *room_id = strdup(json_string_value(json_object_get(r.json, "room_id")));
    reply_free(&r);
    char expected[1024] = "";
    for (int k = 1; k <= 30; k++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", k);
        say(n, 0, alice, room_id, text);
        if (*expected) strcat(expected, "|");
        strcat(expected, text);
    }
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", room_id);
    json_t *empty = json_object();
    r = net_call(n, 1, "POST", path, bob, empty);
    json_decref(empty);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = net_call(n, 1, "GET", "/_matrix/client/v3/sync?timeout=0", bob, NULL);
    assert_int_equal(r.status, 200);
    char since[64];
    snprintf(since, sizeof since, "%s", json_string_value(json_object_get(r.json, "next_batch")));
    reply_free(&r);
    unsigned before = n->fetches;

    /* Pages of 1 on b.test (the first holds only the join, and must still
     * say there is more): all 30, in order, with a.test's ids. */
    char *on_b = calloc(1, 8192), *ids_b = calloc(1, 8192), *on_a = calloc(1, 8192), *ids_a = calloc(1, 8192);
    int pages_b, pages_a;
    page_back(n, 1, bob, room_id, 1, on_b, ids_b, &pages_b);
    page_back(n, 0, alice, room_id, 100, on_a, ids_a, &pages_a);
    assert_string_equal(on_a, expected);
    assert_string_equal(on_b, expected);
    assert_string_equal(ids_b, ids_a);
    assert_true(n->fetches > before); /* b.test asked a.test */
    assert_true(pages_b >= 31);

    /* Paging again asks nothing more: the history is here now. */
    before = n->fetches;
    page_back(n, 1, bob, room_id, 100, on_b, ids_b, &pages_b);
    assert_string_equal(on_b, expected);
    assert_int_equal(n->fetches, before);

    /* /sync does not give the history as new. */
    snprintf(path, sizeof path, "/_matrix/client/v3/sync?timeout=0&since=%s", since);
    r = net_call(n, 1, "GET", path, bob, NULL);
    assert_int_equal(r.status, 200);
    json_t *joined = json_object_get(json_object_get(json_object_get(r.json, "rooms"), "join"), room_id);
    assert_int_equal(json_array_size(json_object_get(json_object_get(joined, "timeline"), "events")), 0);
    reply_free(&r);
    /* Nor do the room's state and members change. */
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/joined_members", room_id);
    r = net_call(n, 1, "GET", path, bob, NULL);
    assert_int_equal(json_object_size(json_object_get(r.json, "joined")), 2);
    reply_free(&r);
    free(on_a);
    free(ids_a);
    free(on_b);
    free(ids_b);
    free(room_id);
    free(alice);
    free(bob);
}

/* a.test's /backfill answers, altered on the way: m5's body changed (its
 * content hash no longer matches), m6's signature broken. */
static bool backfill_liar(void *arg, const char *destination, const char *target, int *status, char **body) {
    net *n = arg;
    if (strcmp(destination, "a.test") != 0 || strncmp(target, "/_matrix/federation/v1/backfill/", 32) != 0)
        return false;
    n->liar = NULL;
    reply r = net_fed_call(n, 1, 0, "GET", target, NULL, NULL);
    n->liar = backfill_liar;
    assert_int_equal(r.status, 200);
    size_t i;
    json_t *pdu;
    json_array_foreach(json_object_get(r.json, "pdus"), i, pdu) {
        json_t *content = json_object_get(pdu, "content");
        const char *text = json_string_value(json_object_get(content, "body"));
        if (text && strcmp(text, "m5") == 0) json_object_set_new(content, "body", json_string("forged"));
        else if (text && strcmp(text, "m6") == 0) {
            json_t *sigs = json_object_get(json_object_get(pdu, "signatures"), "a.test");
            const char *key;
            json_t *sig;
            char zeros[87];
            memset(zeros, 'A', 86);
            zeros[86] = '\0'; /* an Ed25519 signature's length, of zero bytes */
            json_object_foreach(sigs, key, sig) json_object_set_new(sigs, key, json_string(zeros));
        }
    }
    *status = 200;
    *body = json_dumps(r.json, 0);
    reply_free(&r);
    return true;
}

static void test_history_from_another_server_is_checked_like_any_event(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    char *room_id = make_room(n, 0, alice, "public_chat", "Checked");
    for (int k = 1; k <= 8; k++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", k);
        say(n, 0, alice, room_id, text);
    }
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", room_id);
    json_t *empty = json_object();
    reply r = net_call(n, 1, "POST", path, bob, empty);
    json_decref(empty);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    n->liar = backfill_liar;
    n->liar_arg = n;
    char *on_b = calloc(1, 4096), *ids_b = calloc(1, 8192);
    int pages;
    page_back(n, 1, bob, room_id, 100, on_b, ids_b, &pages);
    n->liar = NULL;
    /* m5 is kept in its redacted form (its signature still holds), m6 not
     * at all; the others are whole. */
    assert_string_equal(on_b, "m1|m2|m3|m4|(redacted)|m7|m8");
    free(on_b);
    free(ids_b);
    free(room_id);
    free(alice);
    free(bob);
}

/* 350 messages: more than one /backfill ask (100 events) and more than one
 * request's asks (3), so a page ends where the asks did (with a token to go
 * on) and the pages cross batches stored one under another. */
static void test_a_long_history_comes_in_several_asks_in_order(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    char *room_id = make_room(n, 0, alice, "public_chat", "Long");
    char *expected = calloc(1, 4096);
    for (int k = 1; k <= 350; k++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", k);
        say(n, 0, alice, room_id, text);
        if (*expected) strcat(expected, "|");
        strcat(expected, text);
    }
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", room_id);
    json_t *empty = json_object();
    reply r = net_call(n, 1, "POST", path, bob, empty);
    json_decref(empty);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    char *on_b = calloc(1, 4096), *ids_b = calloc(1, 32768), *on_a = calloc(1, 4096), *ids_a = calloc(1, 32768);
    int pages_b, pages_a;
    unsigned before = n->fetches;
    page_back(n, 1, bob, room_id, 1000, on_b, ids_b, &pages_b);
    assert_true(pages_b >= 2); /* one request's 3 asks could not hold it all */
    assert_true(n->fetches - before >= 3);
    page_back(n, 0, alice, room_id, 1000, on_a, ids_a, &pages_a);
    assert_string_equal(on_b, expected);
    assert_string_equal(ids_b, ids_a);
    free(expected);
    free(on_a);
    free(ids_a);
    free(on_b);
    free(ids_b);
    free(room_id);
    free(alice);
    free(bob);
}

/* What b.test's bob is told of alice's presence (GET /presence), "" if refused. */
static char *presence_seen(net *n, const char *bob) {
    reply r = net_call(n, 1, "GET", "/_matrix/client/v3/presence/@alice:a.test/status", bob, NULL);
    char *seen = strdup(r.status == 200 ? json_string_value(json_object_get(r.json, "presence")) : "");
    reply_free(&r);
    return seen;
}

static void assert_seen(net *n, const char *bob, const char *expected) {
    char *seen = presence_seen(n, bob);
    assert_string_equal(seen, expected);
    free(seen);
}

/* Alice of a.test and bob of b.test share a room (its id, to free). */
static char *shared_room(net *n, const char *alice, const char *bob) {
    char *room_id = make_room(n, 0, alice, "public_chat", "Shared");
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", room_id);
    json_t *empty = json_object();
    reply r = net_call(n, 1, "POST", path, bob, empty);
    json_decref(empty);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    return room_id;
}

static void test_presence_crosses_and_is_told_again_while_unchanged(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    char *room_id = shared_room(n, alice, bob);
    json_t *online = json_pack("{s:s}", "presence", "online");
    reply r = net_call(n, 0, "PUT", "/_matrix/client/v3/presence/@alice:a.test/status", alice, online);
    json_decref(online);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    net_pump(n);
    assert_seen(n, bob, "online");

    /* Alice's client syncs every 30 s for 45 minutes, her presence never
     * changing: a.test tells b.test again, so bob still sees her online
     * past b.test's 30 minutes without news. */
    for (int half_minutes = 0; half_minutes < 90; half_minutes++) {
        n->clock_ms += 30 * 1000;
        r = net_call(n, 0, "GET", "/_matrix/client/v3/sync?timeout=0", alice, NULL);
        assert_int_equal(r.status, 200);
        reply_free(&r);
        net_pump(n);
    }
    assert_seen(n, bob, "online");
    /* Her client stops: a.test shows her offline after 3 minutes, and says so. */
    n->clock_ms += 4 * 60 * 1000;
    r = net_call(n, 0, "GET", "/_matrix/client/v3/presence/@alice:a.test/status", alice, NULL);
    reply_free(&r);
    net_pump(n);
    assert_seen(n, bob, "offline");
    free(room_id);
    free(alice);
    free(bob);
}

static void test_a_remote_user_unheard_of_for_30_minutes_is_shown_offline(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    char *room_id = shared_room(n, alice, bob);
    reply r = net_call(n, 0, "GET", "/_matrix/client/v3/sync?timeout=0", alice, NULL); /* online by syncing */
    reply_free(&r);
    net_pump(n);
    assert_seen(n, bob, "online");
    n->down[0] = true; /* a.test is gone without a word */
    n->clock_ms += 29 * 60 * 1000;
    assert_seen(n, bob, "online");
    n->clock_ms += 2 * 60 * 1000;
    assert_seen(n, bob, "offline");
    free(room_id);
    free(alice);
    free(bob);
}

/* A public room on a.test with `extra` state events of its own type
 * besides those it was made with (malloc'd id). */
static char *big_room(net *n, const char *token, int extra) {
    char *room_id = make_room(n, 0, token, "public_chat", "Big");
    char path[512];
    for (int k = 0; k < extra; k++) {
        snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/state/org.hometab.test/key%d", room_id, k);
        json_t *content = json_pack("{s:i}", "k", k);
        reply r = net_call(n, 0, "PUT", path, token, content);
        json_decref(content);
        assert_int_equal(r.status, 200);
        reply_free(&r);
    }
    return room_id;
}

/* Joins a user of b.test to a.test's room; then b.test must hold the
 * room's `extra` state events of big_room and both members. */
static void join_big_room(net *n, const char *token, const char *room_id, int extra) {
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=a.test", room_id);
    json_t *empty = json_object();
    reply r = net_call(n, 1, "POST", path, token, empty);
    json_decref(empty);
    if (r.status != 200) print_message("join: %s\n", json_dumps(r.json, 0));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/state", room_id);
    r = net_call(n, 1, "GET", path, token, NULL);
    assert_int_equal(r.status, 200);
    int found = 0;
    for (size_t k = 0; k < json_array_size(r.json); k++)
        found += strcmp(json_string_value(json_object_get(json_array_get(r.json, k), "type")), "org.hometab.test") == 0;
    assert_int_equal(found, extra);
    reply_free(&r);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/joined_members", room_id);
    r = net_call(n, 1, "GET", path, token, NULL);
    assert_int_equal(json_object_size(json_object_get(r.json, "joined")), 2);
    reply_free(&r);
}

enum { EXTRA_STATE = 300 }; /* more than two slices of join_intake.c's 128 */

/* While a big room's join is taken in slices, a server (b.test, the
 * joining one, unless said) serves its other users between them: here one
 * who asks who they are. */
typedef struct between_slices {
    char *carol;
    unsigned served;
    int server;
} between_slices;

static void serve_carol(net *n, int i, void *arg) {
    between_slices *b = arg;
    if (i != b->server) return;
    reply r = net_call(n, i, "GET", "/_matrix/client/v3/account/whoami", b->carol, NULL);
    if (r.status == 200) b->served++;
    reply_free(&r);
}

static int setup_b_limited(void **state) {
    net *n = calloc(1, sizeof *n);
    /* Four rate-limited calls a user may make at once on b.test, and no
     * more for a long while: the join's many passes must count as one. */
    if (!net_open_user_limited(n, 2, names, 1, 0.001, 4)) return -1;
    *state = n;
    return 0;
}

static void test_a_big_room_is_joined_in_slices_and_others_are_served_between_them(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    between_slices b = {.carol = net_register(n, 1, "carol"), .server = 1};
    char *bob = net_register(n, 1, "bob");
    char *room_id = big_room(n, alice, EXTRA_STATE);
    reply before = net_call(n, 1, "GET", "/_matrix/client/v3/sync", bob, NULL);
    char *since = strdup(json_string_value(json_object_get(before.json, "next_batch")));
    reply_free(&before);
    n->on_resume = serve_carol;
    n->on_resume_arg = &b;
    join_big_room(n, bob, room_id, EXTRA_STATE);
    /* Each slice was committed and the host given its loop back, and carol
     * was answered meanwhile: three slices of events, two of the state. */
    assert_true(n->resumes >= 5);
    assert_int_equal(b.served, n->resumes);
    /* The state was in place before the join: its commit changed one key,
     * its own, and every other key of the room was logged before it. */
    sqlite3 *db = ((ht_core *)n->cores[1])->env.store->db;
    char *sql = sqlite3_mprintf("SELECT count(*) FROM room_state_log WHERE room_id = %Q AND stream = "
                                "(SELECT stream FROM events WHERE room_id = %Q AND type = 'm.room.member' "
                                "AND state_key = '@bob:b.test')", room_id, room_id);
    assert_int_equal(sql_int(db, sql), 1);
    sqlite3_free(sql);
    sql = sqlite3_mprintf("SELECT count(DISTINCT type || state_key) FROM room_state_log WHERE room_id = %Q", room_id);
    assert_true(sql_int(db, sql) > EXTRA_STATE);
    sqlite3_free(sql);
    /* Bob's syncs show the whole room, as after any join: the first, and
     * the next from before the join. */
    char path[600];
    snprintf(path, sizeof path, "/_matrix/client/v3/sync?since=%s", since);
    const char *const syncs[] = {"/_matrix/client/v3/sync", path};
    for (int s = 0; s < 2; s++) {
        reply r = net_call(n, 1, "GET", syncs[s], bob, NULL);
        assert_int_equal(r.status, 200);
        json_t *joined = json_object_get(json_object_get(json_object_get(r.json, "rooms"), "join"), room_id);
        int seen = 0;
        const char *const sections[] = {"state", "timeline"};
        for (int k = 0; k < 2; k++) {
            json_t *events = json_object_get(json_object_get(joined, sections[k]), "events");
            for (size_t e = 0; e < json_array_size(events); e++)
                seen += ht_str_is(json_string_value(json_object_get(json_array_get(events, e), "type")),
                                  "org.hometab.test");
        }
        assert_int_equal(seen, EXTRA_STATE);
        reply_free(&r);
    }
    free(since);
    free(room_id);
    free(alice);
    free(bob);
    free(b.carol);
}

enum { RESIDENT_STATE = 1100 }; /* more than one slice of federation/pdus.c's 1000 */

/* While the room's server reads a big room's state for the send_join, a
 * slice a pass, it serves its other users between them. */
static void test_the_room_server_reads_a_big_rooms_state_for_a_join_in_slices(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    between_slices b = {.carol = net_register(n, 0, "carol"), .server = 0};
    char *bob = net_register(n, 1, "bob");
    char *room_id = big_room(n, alice, RESIDENT_STATE);
    n->on_resume = serve_carol;
    n->on_resume_arg = &b;
    join_big_room(n, bob, room_id, RESIDENT_STATE);
    /* The state's ids on one pass, then two slices of their events: a.test
     * served carol between them, and b.test took the whole state. */
    assert_true(b.served >= 2);
    free(room_id);
    free(alice);
    free(bob);
    free(b.carol);
}

/* What a failed COMMIT of a group would leave: the slices taken so far
 * undone (here, once, after the first that stored any: the passes that
 * read the answer store nothing; the room's outliers deleted). */
static void undo_slices_once(net *n, int i, void *arg) {
    bool *done = arg;
    if (i != 1 || *done) return;
    sqlite3 *db = ((ht_core *)n->cores[1])->env.store->db;
    char *sql = sqlite3_mprintf("CREATE TEMP TABLE undone AS SELECT stream FROM events WHERE status = %d;"
                                "DELETE FROM event_edges WHERE stream IN undone;"
                                "DELETE FROM events WHERE stream IN undone;",
                                HT_EVENT_OUTLIER);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    *done = sqlite3_changes(db) > 0;
    if (*done) assert_true(sqlite3_changes(db) >= 100); /* a slice's, less the chain's events the state repeats */
    assert_int_equal(sqlite3_exec(db, "DROP TABLE undone", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
}

static void test_slices_of_a_join_found_undone_are_taken_again(void **state) {
    net *n = *state;
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    char *room_id = big_room(n, alice, EXTRA_STATE);
    bool undone = false;
    n->on_resume = undo_slices_once;
    n->on_resume_arg = &undone;
    join_big_room(n, bob, room_id, EXTRA_STATE);
    assert_true(undone);
    /* Taken from the start again: one pass more than the slices. */
    assert_true(n->resumes >= 3);
    free(room_id);
    free(alice);
    free(bob);
}

int run_federation_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_key_server_serves_a_self_signed_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_remote_profile_is_asked_of_its_server_over_a_signed_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_unreachable_server_is_a_502_naming_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_user_joins_a_room_on_another_server_and_both_talk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_big_room_is_joined_in_slices_and_others_are_served_between_them,
                                        setup_b_limited, teardown),
        cmocka_unit_test_setup_teardown(test_slices_of_a_join_found_undone_are_taken_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_room_server_reads_a_big_rooms_state_for_a_join_in_slices, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_invite_reaches_the_other_server_and_the_invitee_joins_through_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_declined_invite_is_a_leave_on_both_servers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_late_joiner_pages_back_through_history_fetched_from_the_room, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_history_from_another_server_is_checked_like_any_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_long_history_comes_in_several_asks_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_presence_crosses_and_is_told_again_while_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_remote_user_unheard_of_for_30_minutes_is_shown_offline, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("federation (cores in one process)", tests, NULL, NULL);
}
