/* test_room_graph.c -- two servers in one process share rooms through the
 * rooms engine alone (no network): each core makes events with
 * ht_room_send, the other takes them with ht_room_receive, and both must
 * end with the same state. Forks, resolution, soft failure, rejection,
 * dropping, the redaction of a tampered event and missing events are driven
 * here; the server-server API later only carries the same events. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/core.h"
#include "federation/pdus.h"
#include "room/event_cache.h"
#include "room/graph.h"
#include "room/push_actions.h"
#include "room/room.h"
#include "store/graph.h"
#include "store/meta.h"
#include "store/receipts.h"
#include "store/rooms.h"
#include "store/unread.h"
#include "util/glob.h"
#include "util/json.h"

typedef struct server {
    ht_core *core;
    const char *name;
    char key_b64[64];
} server;

typedef struct world {
    server a, b;
    const char *version;
} world;

static int64_t clock_ms = 1700000000000;

static bool open_server(server *s, const char *name) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.server_name = name;
    char err[256];
    s->core = ht_core_open(&cfg, err, sizeof err);
    if (!s->core) return false;
    s->name = s->core->server_name;
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    snprintf(s->key_b64, sizeof s->key_b64, "%s", ht_signing_key_public_base64(&arena, &s->core->signing_key));
    ht_arena_free(&arena);
    return true;
}

/* A request's worth of engine work: the env gets a fresh arena and clock,
 * and the store a transaction; end() commits it. */
static ht_env *begin(server *s) {
    ht_arena_reset(&s->core->arena);
    s->core->env.now_ms = ++clock_ms;
    s->core->env.match_budget = HT_MATCH_BUDGET; /* as the door refills it per request */
    assert_true(ht_store_begin(s->core->env.store));
    return &s->core->env;
}

static void end(server *s) {
    assert_false(ht_store_failed(s->core->env.store));
    assert_true(ht_store_commit(s->core->env.store));
}

/* Both servers know each other's key: what a key fetch will give later. */
static const char *lookup(void *ctx, const char *server_name, const char *key_id, int64_t ts) {
    (void)key_id;
    (void)ts;
    world *w = ctx;
    if (strcmp(server_name, w->a.name) == 0) return w->a.key_b64;
    if (strcmp(server_name, w->b.name) == 0) return w->b.key_b64;
    return NULL;
}

static const char *send_event(server *s, const char *room_id, const char *type, const char *state_key,
                              const char *sender, json_t *content) {
    ht_env *env = begin(s);
    ht_new_event ev = {.room_id = room_id, .type = type, .state_key = state_key, .sender = sender,
                       .content = content};
    const char *id = NULL;
    ht_error err = ht_room_send(env, &ev, &id, NULL);
    json_decref(content);
    if (err.code) fail_msg("%s could not send %s: %s", s->name, type, err.message);
    char *copy = strdup(id);
    end(s);
    return copy; /* freed by the test's leak-tolerant end: see world_free */
}

/* The stored PDU of an event on a server, parsed (new reference). */
static json_t *stored_pdu(server *s, const char *event_id) {
    ht_env *env = begin(s);
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, event_id, &row));
    json_t *pdu = json_loads(row.json, 0, NULL);
    end(s);
    return pdu;
}

/* The PDU of an event as a server serves it to others (ht_fed_pdu). */
static json_t *served_pdu(server *s, const char *event_id) {
    ht_env *env = begin(s);
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, event_id, &row));
    json_t *pdu = ht_fed_pdu(env, &row);
    end(s);
    return pdu;
}

/* Gives `to` the event `event_id` as `from` serves it. */
static ht_receive_outcome give(world *w, server *from, server *to, const char *event_id, json_t *tamper) {
    json_t *pdu = served_pdu(from, event_id);
    if (tamper) json_object_update(json_object_get(pdu, "content"), tamper);
    ht_env *env = begin(to);
    ht_received r = ht_room_receive(env, w->version, pdu, lookup, w, NULL);
    end(to);
    json_decref(pdu);
    return r.outcome;
}

/* Every timeline event of the room on `from`, in its order, to `to`. */
static void give_room(world *w, server *from, server *to, const char *room_id) {
    ht_env *env = begin(from);
    ht_event_row *rows;
    size_t n = ht_store_events_after(env->store, env->arena, room_id, 0, INT64_MAX, 1000, &rows);
    const char **ids = calloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = strdup(rows[i].event_id);
    end(from);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(give(w, from, to, ids[i], NULL), HT_RECEIVED_TIMELINE);
        free((char *)ids[i]);
    }
    free(ids);
}

static char *current_state_text(server *s, const char *room_id) {
    ht_env *env = begin(s);
    ht_state_map map;
    ht_room_current_state(env, room_id, &map);
    json_t *out = json_object();
    for (size_t i = 0; i < map.count; i++)
        json_object_set_new(out, ht_arena_printf(env->arena, "%s|%s", map.entries[i].type, map.entries[i].state_key),
                            json_string(map.entries[i].event_id));
    char *text = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(out);
    end(s);
    return text;
}

static const char *topic_of(server *s, const char *room_id) {
    ht_env *env = begin(s);
    json_t *content = ht_room_state_content(env, room_id, "m.room.topic", "");
    static char topic[64];
    snprintf(topic, sizeof topic, "%s", content ? ht_json_str(content, "topic") : "");
    end(s);
    return topic;
}

static size_t extremity_count(server *s, const char *room_id) {
    ht_env *env = begin(s);
    ht_extremity_row *tips;
    size_t n = ht_store_extremities(env->store, env->arena, room_id, 64, &tips);
    end(s);
    return n;
}

static const char *membership_of(server *s, const char *room_id, const char *user_id) {
    ht_env *env = begin(s);
    static char m[32];
    const char *got = ht_store_membership_get(env->store, env->arena, room_id, user_id, NULL, NULL);
    snprintf(m, sizeof m, "%s", got ? got : "");
    end(s);
    return m;
}

static ht_event_status status_of_in(ht_env *env, const char *event_id) {
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, event_id, &row));
    return row.status;
}

static ht_event_status status_of(server *s, const char *event_id) {
    ht_env *env = begin(s);
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, event_id, &row));
    end(s);
    return row.status;
}

/* Alice makes a public room on A whose topic anyone may set; B takes it,
 * and Bob of B joins; A takes the join. */
static const char *shared_room(world *w) {
    server *a = &w->a, *b = &w->b;
    ht_env *env = begin(a);
    const char *room_id;
    assert_int_equal(ht_room_new(env, "@alice:a.test", w->version, false, &room_id).code, 0);
    char *room = strdup(room_id);
    end(a);
    json_t *create = json_pack("{s:s}", "room_version", w->version);
    if (strcmp(w->version, "10") == 0) json_object_set_new(create, "creator", json_string("@alice:a.test"));
    free((char *)send_event(a, room, "m.room.create", "", "@alice:a.test", create));
    free((char *)send_event(a, room, "m.room.member", "@alice:a.test", "@alice:a.test",
                            json_pack("{s:s}", "membership", "join")));
    free((char *)send_event(a, room, "m.room.power_levels", "", "@alice:a.test",
                            json_pack("{s:{s:i}, s:{s:i}, s:i, s:i}", "users", "@alice:a.test", 100, "events",
                                      "m.room.topic", 0, "state_default", 50, "ban", 50)));
    free((char *)send_event(a, room, "m.room.join_rules", "", "@alice:a.test",
                            json_pack("{s:s}", "join_rule", "public")));
    give_room(w, a, b, room);
    const char *join = send_event(b, room, "m.room.member", "@bob:b.test", "@bob:b.test",
                                  json_pack("{s:s}", "membership", "join"));
    assert_int_equal(give(w, b, a, join, NULL), HT_RECEIVED_TIMELINE);
    free((char *)join);
    return room;
}

static int setup(void **state, const char *version) {
    world *w = calloc(1, sizeof *w);
    w->version = version;
    if (!open_server(&w->a, "a.test") || !open_server(&w->b, "b.test")) return -1;
    *state = w;
    return 0;
}
static int setup_v10(void **state) { return setup(state, "10"); }
static int setup_v11(void **state) { return setup(state, "11"); }

static int teardown(void **state) {
    world *w = *state;
    ht_core_close(w->a.core);
    ht_core_close(w->b.core);
    free(w);
    return 0;
}

static void test_a_room_made_on_one_server_is_taken_whole_by_another(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    char *sa = current_state_text(&w->a, room), *sb = current_state_text(&w->b, room);
    assert_string_equal(sa, sb);
    assert_string_equal(membership_of(&w->a, room, "@bob:b.test"), "join");
    assert_string_equal(membership_of(&w->b, room, "@alice:a.test"), "join");
    free(sa);
    free(sb);
    free(room);
}

/* Stored events are kept parsed across requests (room/event_cache.c); a
 * write in the same request -- here a redaction, which rewrites the event
 * where it stands -- must not leave the earlier parse to be read. */
static void test_a_state_content_read_again_after_a_redaction_in_the_same_request_is_the_redacted_one(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    char *topic_id = (char *)send_event(&w->a, room, "m.room.topic", "", "@alice:a.test",
                                        json_pack("{s:s}", "topic", "soon gone"));
    ht_env *env = begin(&w->a);
    assert_string_equal(ht_json_str(ht_room_state_content(env, room, "m.room.topic", ""), "topic"), "soon gone");
    ht_new_event redaction = {.room_id = room, .type = "m.room.redaction", .sender = "@alice:a.test",
                              .content = json_pack("{s:s}", "redacts", topic_id), .redacts = topic_id};
    const char *id = NULL;
    ht_error err = ht_room_send(env, &redaction, &id, NULL);
    json_decref(redaction.content);
    assert_int_equal(err.code, 0);
    json_t *after = ht_room_state_content(env, room, "m.room.topic", "");
    assert_non_null(after);
    assert_null(json_object_get(after, "topic"));
    end(&w->a);
    free(topic_id);
    free(room);
}

/* The cache of parsed events outlives requests: each way the store changes
 * a stored event after it was read must reach it. A redaction in a later
 * request: */
static void test_a_state_content_read_in_one_request_and_redacted_in_the_next_reads_redacted(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    char *topic_id = (char *)send_event(&w->a, room, "m.room.topic", "", "@alice:a.test",
                                        json_pack("{s:s}", "topic", "read first"));
    assert_string_equal(topic_of(&w->a, room), "read first");
    ht_env *env = begin(&w->a);
    ht_parsed_event before;
    assert_true(ht_room_parsed_by_id(env, topic_id, &before));
    end(&w->a);
    env = begin(&w->a);
    ht_new_event redaction = {.room_id = room, .type = "m.room.redaction", .sender = "@alice:a.test",
                              .content = json_pack("{s:s}", "redacts", topic_id), .redacts = topic_id};
    const char *id = NULL;
    assert_int_equal(ht_room_send(env, &redaction, &id, NULL).code, 0);
    json_decref(redaction.content);
    end(&w->a);
    env = begin(&w->a);
    json_t *content = ht_room_state_content(env, room, "m.room.topic", "");
    assert_non_null(content);
    assert_null(json_object_get(content, "topic"));
    ht_parsed_event after;
    assert_true(ht_room_parsed_by_id(env, topic_id, &after));
    assert_null(json_object_get(json_object_get(after.json, "content"), "topic"));
    end(&w->a);
    free(topic_id);
    free(room);
}

/* A request that wrote an event, read it, and was rolled back: the event
 * is gone, from the cache too. Alone (ROLLBACK) and as one request of a
 * group (ROLLBACK TO its savepoint, the others kept). */
static void roll_back_a_topic(server *s, const char *room, const char *topic, bool in_group) {
    if (in_group) {
        assert_true(ht_store_group_begin(s->core->env.store));
        free((char *)send_event(s, room, "m.room.topic", "", "@alice:a.test", json_pack("{s:s}", "topic", "kept")));
    }
    ht_env *env = begin(s);
    ht_new_event ev = {.room_id = room, .type = "m.room.topic", .state_key = "", .sender = "@alice:a.test",
                       .content = json_pack("{s:s}", "topic", topic)};
    const char *id = NULL;
    assert_int_equal(ht_room_send(env, &ev, &id, NULL).code, 0);
    json_decref(ev.content);
    char *gone = strdup(id);
    assert_string_equal(ht_json_str(ht_room_state_content(env, room, "m.room.topic", ""), "topic"), topic);
    ht_parsed_event read;
    assert_true(ht_room_parsed_by_id(env, gone, &read));
    ht_store_rollback(env->store);
    if (in_group) assert_true(ht_store_group_commit(s->core->env.store));
    env = begin(s);
    assert_false(ht_room_parsed_by_id(env, gone, &read));
    end(s);
    assert_string_equal(topic_of(s, room), in_group ? "kept" : "");
    free(gone);
}

static void test_an_event_read_then_rolled_back_is_not_read_again(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    roll_back_a_topic(&w->a, room, "never committed", false);
    roll_back_a_topic(&w->a, room, "rolled back to its savepoint", true);
    free(room);
}

/* Federation's changes to an event in place (here a new status) reach the
 * cache from the store's own statement, so a new caller is covered too. */
static void test_an_event_given_a_new_status_is_read_as_it_now_stands(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    char *id = (char *)send_event(&w->a, room, "m.room.topic", "", "@alice:a.test", json_pack("{s:s}", "topic", "t"));
    ht_env *env = begin(&w->a);
    ht_parsed_event ev;
    assert_true(ht_room_parsed_by_id(env, id, &ev));
    int64_t at = ev.stream;
    assert_true(ht_room_parsed_by_stream(env, at, &ev));
    assert_int_equal(ev.status, HT_EVENT_TIMELINE);
    end(&w->a);
    env = begin(&w->a);
    assert_true(ht_store_event_set_status(env->store, at, HT_EVENT_REJECTED, 0));
    end(&w->a);
    env = begin(&w->a);
    assert_true(ht_room_parsed_by_id(env, id, &ev));
    assert_int_equal(ev.status, HT_EVENT_REJECTED);
    assert_true(ht_room_parsed_by_stream(env, at, &ev));
    assert_int_equal(ev.status, HT_EVENT_REJECTED);
    end(&w->a);
    free(id);
    free(room);
}

/* The set of the cache by id an event lands in, as event_cache.c places
 * it (FNV-1a of the id, 16 sets of four). */
static uint32_t cache_set(const char *id) {
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 16777619u;
    return h % 16;
}

/* Events are kept by id four to a set: five that share a set keep the four
 * used last, so an event read over and over is not pushed out by one that
 * happens to share its set. A hit hands out the very JSON kept; a miss
 * parses a new one (the request still holds the old, so it cannot be at
 * the same address). */
static void test_five_events_sharing_a_set_keep_the_four_used_last(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    char *ids[200];
    size_t n = 0, in_set[5], found = 0;
    uint32_t counts[16] = {0};
    int set = -1;
    while (set < 0 && n < 200) {
        ids[n] = (char *)send_event(&w->a, room, "m.room.message", NULL, "@alice:a.test",
                                    json_pack("{s:s, s:i}", "body", "x", "n", (int)n));
        if (++counts[cache_set(ids[n])] == 5) set = (int)cache_set(ids[n]);
        n++;
    }
    assert_true(set >= 0);
    for (size_t i = 0; i < n && found < 5; i++)
        if (cache_set(ids[i]) == (uint32_t)set) in_set[found++] = i;
    ht_env *env = begin(&w->a);
    ht_parsed_event first[5], again;
    for (size_t i = 0; i < 4; i++) assert_true(ht_room_parsed_by_id(env, ids[in_set[i]], &first[i]));
    assert_true(ht_room_parsed_by_id(env, ids[in_set[0]], &again)); /* used again: the second is now oldest */
    assert_ptr_equal(again.json, first[0].json);
    assert_true(ht_room_parsed_by_id(env, ids[in_set[4]], &first[4]));
    static const size_t kept[] = {0, 2, 3, 4};
    for (size_t k = 0; k < 4; k++) {
        assert_true(ht_room_parsed_by_id(env, ids[in_set[kept[k]]], &again));
        assert_ptr_equal(again.json, first[kept[k]].json);
    }
    /* Last: reading it again puts it back, in place of the oldest. */
    assert_true(ht_room_parsed_by_id(env, ids[in_set[1]], &again));
    assert_ptr_not_equal(again.json, first[1].json);
    assert_true(json_equal(again.json, first[1].json));
    end(&w->a);
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(room);
}

static void test_concurrent_topics_fork_and_both_servers_resolve_them_alike(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    const char *ta = send_event(&w->a, room, "m.room.topic", "", "@alice:a.test", json_pack("{s:s}", "topic", "from a"));
    const char *tb = send_event(&w->b, room, "m.room.topic", "", "@bob:b.test", json_pack("{s:s}", "topic", "from b"));
    assert_int_equal(give(w, &w->b, &w->a, tb, NULL), HT_RECEIVED_TIMELINE);
    assert_int_equal(give(w, &w->a, &w->b, ta, NULL), HT_RECEIVED_TIMELINE);
    assert_int_equal(extremity_count(&w->a, room), 2);
    assert_int_equal(extremity_count(&w->b, room), 2);
    char *sa = current_state_text(&w->a, room), *sb = current_state_text(&w->b, room);
    assert_string_equal(sa, sb);
    char topic[64];
    snprintf(topic, sizeof topic, "%s", topic_of(&w->a, room));
    assert_string_equal(topic, topic_of(&w->b, room));
    assert_true(strcmp(topic, "from a") == 0 || strcmp(topic, "from b") == 0);
    /* The next event follows both tips and closes the fork everywhere. */
    const char *merge = send_event(&w->a, room, "m.room.message", NULL, "@alice:a.test",
                                   json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "after"));
    json_t *pdu = stored_pdu(&w->a, merge);
    assert_int_equal(json_array_size(json_object_get(pdu, "prev_events")), 2);
    json_decref(pdu);
    assert_int_equal(give(w, &w->a, &w->b, merge, NULL), HT_RECEIVED_TIMELINE);
    assert_int_equal(extremity_count(&w->b, room), 1);
    char *sb2 = current_state_text(&w->b, room);
    assert_string_equal(sa, sb2);
    free(sa);
    free(sb);
    free(sb2);
    free((char *)ta);
    free((char *)tb);
    free((char *)merge);
    free(room);
}

/* A member's main-timeline counts on a server, as /sync reads them. */
static void unread_of(server *s, const char *room_id, const char *user_id, int64_t *notifications,
                      int64_t *highlights) {
    ht_env *env = begin(s);
    const ht_push_rules *rules = NULL;
    ht_unread_row *rows;
    size_t n = ht_room_unread_counts(env, room_id, user_id, &rules, &rows);
    *notifications = *highlights = 0;
    for (size_t i = 0; i < n; i++) {
        *notifications += rows[i].notifications;
        *highlights += rows[i].highlights;
    }
    end(s);
}

/* Push actions are decided where every timeline event passes: another
 * server's messages notify our member, its redactions take that back, and
 * our member's receipt reads them. Soft-failed events notify no one. */
static void test_events_from_another_server_count_for_our_members(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    int64_t notes, lights;
    unread_of(&w->b, room, "@bob:b.test", &notes, &lights);
    assert_int_equal(notes, 0);
    const char *hello = send_event(&w->a, room, "m.room.message", NULL, "@alice:a.test",
                                   json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "hello"));
    const char *call = send_event(&w->a, room, "m.room.message", NULL, "@alice:a.test",
                                  json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "bob, are you there?"));
    assert_int_equal(give(w, &w->a, &w->b, hello, NULL), HT_RECEIVED_TIMELINE);
    assert_int_equal(give(w, &w->a, &w->b, call, NULL), HT_RECEIVED_TIMELINE);
    unread_of(&w->b, room, "@bob:b.test", &notes, &lights);
    assert_int_equal(notes, 2);
    assert_int_equal(lights, 1); /* bob's localpart */
    /* Alice's own server counts nothing for her, nor for bob (not its member). */
    unread_of(&w->a, room, "@alice:a.test", &notes, &lights);
    assert_int_equal(notes, 0);
    ht_env *env = begin(&w->a);
    ht_new_event redact = {.room_id = room, .type = "m.room.redaction", .sender = "@alice:a.test",
                           .content = json_object(), .redacts = call};
    const char *id;
    assert_int_equal(ht_room_send(env, &redact, &id, NULL).code, 0);
    json_decref(redact.content);
    char *redaction = strdup(id);
    end(&w->a);
    assert_int_equal(give(w, &w->a, &w->b, redaction, NULL), HT_RECEIVED_TIMELINE);
    unread_of(&w->b, room, "@bob:b.test", &notes, &lights);
    assert_int_equal(notes, 1);
    assert_int_equal(lights, 0);
    env = begin(&w->b);
    ht_event_row row;
    assert_true(ht_store_event_by_id(env->store, env->arena, hello, &row));
    ht_receipt_row receipt = {"@bob:b.test", "m.read", "", hello, row.stream, 1, (int64_t)ht_store_stream_advance(env->store)};
    assert_true(ht_store_receipt_set(env->store, room, &receipt));
    end(&w->b);
    unread_of(&w->b, room, "@bob:b.test", &notes, &lights);
    assert_int_equal(notes, 0);
    free((char *)hello);
    free((char *)call);
    free(redaction);
    free(room);
}

static void test_a_banned_users_event_built_on_old_state_is_soft_failed(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    /* Alice bans Bob on A; B has not heard, and Bob writes on. */
    const char *ban = send_event(&w->a, room, "m.room.member", "@bob:b.test", "@alice:a.test",
                                 json_pack("{s:s}", "membership", "ban"));
    const char *late = send_event(&w->b, room, "m.room.message", NULL, "@bob:b.test",
                                  json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "still here"));
    assert_int_equal(give(w, &w->b, &w->a, late, NULL), HT_RECEIVED_SOFT_FAILED);
    assert_int_equal(status_of(&w->a, late), HT_EVENT_SOFT_FAILED);
    assert_int_equal(extremity_count(&w->a, room), 1); /* never built on */
    assert_string_equal(membership_of(&w->a, room, "@bob:b.test"), "ban");
    /* B takes the ban: Bob is banned there too, and both agree. */
    assert_int_equal(give(w, &w->a, &w->b, ban, NULL), HT_RECEIVED_TIMELINE);
    assert_string_equal(membership_of(&w->b, room, "@bob:b.test"), "ban");
    char *sa = current_state_text(&w->a, room), *sb = current_state_text(&w->b, room);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);
    free((char *)ban);
    free((char *)late);
    free(room);
}

static void test_an_event_the_rules_refuse_is_rejected_and_changes_nothing(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    char *before = current_state_text(&w->a, room);
    /* B lets Bob change the power levels (B's own rules would refuse, so
     * the event is forged on B's store through the engine's persist). */
    ht_env *env = begin(&w->b);
    json_t *pdu = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:i}}, s:s, s:I, s:I, s:[s], s:[]}", "room_id", room,
                            "sender", "@bob:b.test", "type", "m.room.power_levels", "state_key", "", "content",
                            "users", "@bob:b.test", 100, "origin", "b.test", "origin_server_ts",
                            (json_int_t)clock_ms, "depth", (json_int_t)50, "prev_events", "$nothing",
                            "auth_events");
    end(&w->b);
    /* Its auth events are real and rule it out: rejected at once (check 4
     * comes before the prev events are looked for). */
    env = begin(&w->a);
    const ht_room_version *v = ht_room_version_get(w->version);
    json_t *auth = json_array();
    const char *keys[][2] = {{"m.room.create", ""}, {"m.room.power_levels", ""}, {"m.room.member", "@bob:b.test"}};
    for (size_t i = 0; i < 3; i++)
        json_array_append_new(auth, json_string(ht_store_state_event_id(env->store, env->arena, room, keys[i][0],
                                                                        keys[i][1])));
    json_object_set_new(pdu, "auth_events", auth);
    /* A message with the same auth events and an unknown prev event is
     * missing that event, named. */
    json_t *message = json_deep_copy(pdu);
    json_object_set_new(message, "type", json_string("m.room.message"));
    json_object_del(message, "state_key");
    json_object_set_new(message, "content", json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "hi"));
    assert_true(ht_pdu_set_content_hash(message, NULL));
    assert_true(ht_pdu_sign(v, message, "b.test", &w->b.core->signing_key));
    ht_received r = ht_room_receive(env, w->version, message, lookup, w, NULL);
    assert_int_equal(r.outcome, HT_RECEIVED_MISSING);
    assert_int_equal(r.missing_count, 1);
    assert_string_equal(r.missing[0], "$nothing");
    json_decref(message);
    end(&w->a);
    /* With a real prev event it reaches the rules, which refuse it. */
    env = begin(&w->a);
    ht_extremity_row *tips;
    assert_int_equal(ht_store_extremities(env->store, env->arena, room, 1, &tips), 1);
    json_object_set_new(pdu, "prev_events", json_pack("[s]", tips[0].event_id));
    json_object_del(pdu, "signatures");
    assert_true(ht_pdu_set_content_hash(pdu, NULL));
    assert_true(ht_pdu_sign(v, pdu, "b.test", &w->b.core->signing_key));
    r = ht_room_receive(env, w->version, pdu, lookup, w, NULL);
    assert_int_equal(r.outcome, HT_RECEIVED_REJECTED);
    assert_non_null(r.reason);
    assert_int_equal(status_of_in(env, r.event_id), HT_EVENT_REJECTED);
    end(&w->a);
    char *after = current_state_text(&w->a, room);
    assert_string_equal(before, after);
    /* Signed by B but claiming to be Alice's: dropped, not even stored. */
    env = begin(&w->a);
    json_object_set_new(pdu, "sender", json_string("@alice:a.test"));
    json_object_del(pdu, "signatures");
    assert_true(ht_pdu_set_content_hash(pdu, NULL));
    assert_true(ht_pdu_sign(v, pdu, "b.test", &w->b.core->signing_key));
    r = ht_room_receive(env, w->version, pdu, lookup, w, NULL);
    assert_int_equal(r.outcome, HT_RECEIVED_DROPPED);
    ht_event_row row;
    assert_false(ht_store_event_by_id(env->store, env->arena, r.event_id, &row));
    end(&w->a);
    json_decref(pdu);
    free(before);
    free(after);
    free(room);
}

static void test_a_tampered_content_is_kept_redacted_and_a_duplicate_is_told(void **state) {
    world *w = *state;
    char *room = (char *)shared_room(w);
    const char *msg = send_event(&w->a, room, "m.room.message", NULL, "@alice:a.test",
                                 json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "original"));
    json_t *tamper = json_pack("{s:s}", "body", "changed on the way");
    assert_int_equal(give(w, &w->a, &w->b, msg, tamper), HT_RECEIVED_TIMELINE);
    json_decref(tamper);
    json_t *kept = stored_pdu(&w->b, msg);
    assert_int_equal(json_object_size(json_object_get(kept, "content")), 0);
    json_decref(kept);
    assert_int_equal(give(w, &w->a, &w->b, msg, NULL), HT_RECEIVED_DUPLICATE);
    free((char *)msg);
    free(room);
}

int run_room_graph_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_room_made_on_one_server_is_taken_whole_by_another, setup_v10, teardown),
        cmocka_unit_test_setup_teardown(test_a_state_content_read_in_one_request_and_redacted_in_the_next_reads_redacted,
                                        setup_v10, teardown),
        cmocka_unit_test_setup_teardown(test_an_event_read_then_rolled_back_is_not_read_again, setup_v10, teardown),
        cmocka_unit_test_setup_teardown(test_an_event_given_a_new_status_is_read_as_it_now_stands, setup_v10, teardown),
        cmocka_unit_test_setup_teardown(test_five_events_sharing_a_set_keep_the_four_used_last, setup_v10, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_state_content_read_again_after_a_redaction_in_the_same_request_is_the_redacted_one, setup_v10,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_a_state_content_read_again_after_a_redaction_in_the_same_request_is_the_redacted_one, setup_v11,
            teardown),
        cmocka_unit_test_setup_teardown(test_events_from_another_server_count_for_our_members, setup_v10, teardown),
        cmocka_unit_test_setup_teardown(test_events_from_another_server_count_for_our_members, setup_v11, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_topics_fork_and_both_servers_resolve_them_alike, setup_v10,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_topics_fork_and_both_servers_resolve_them_alike, setup_v11,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_banned_users_event_built_on_old_state_is_soft_failed, setup_v10,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_banned_users_event_built_on_old_state_is_soft_failed, setup_v11,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_an_event_the_rules_refuse_is_rejected_and_changes_nothing, setup_v10,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_tampered_content_is_kept_redacted_and_a_duplicate_is_told, setup_v11,
                                        teardown),
    };
    return cmocka_run_group_tests_name("room graph (two servers, one process)", tests, NULL, NULL);
}
