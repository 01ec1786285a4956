/* test_federation.c -- the server-server API between cores in one process
 * (federation_net.h carries their fetches): keys, signed requests, the
 * queries, and the client API reaching other servers through them. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "federation_net.h"

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
    assert_string_equal(on_b, "hello bob|hello alice|welcome");
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

int run_federation_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_key_server_serves_a_self_signed_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_remote_profile_is_asked_of_its_server_over_a_signed_request, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_unreachable_server_is_a_502_naming_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_user_joins_a_room_on_another_server_and_both_talk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_invite_reaches_the_other_server_and_the_invitee_joins_through_it,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_declined_invite_is_a_leave_on_both_servers, setup, teardown),
    };
    return cmocka_run_group_tests_name("federation (cores in one process)", tests, NULL, NULL);
}
