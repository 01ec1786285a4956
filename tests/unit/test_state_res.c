/* test_state_res.c -- state resolution v2, as scenarios written as data.
 *
 * Two kinds of scenario:
 * - graphs, as Synapse's tests/state/test_v2.py writes them: a room's
 *   opening events, the events of the case, and chains of prev_events edges
 *   ("END MB MA PA START": END follows MB, MB follows MA, ...). The events
 *   are replayed in topological order (ties by id), each given the
 *   origin_server_ts of its turn and the auth events the auth events
 *   selection picks from the state before it; the state before an event with
 *   several prev events is their resolution. The expected answer is the
 *   state before END, counting only the keys that differ from the state
 *   before START and the keys expected. Expected answers are Synapse's (and
 *   were reasoned from the spec: each case says why).
 * - explicit: every event with its prev events, auth events and timestamp,
 *   the states to resolve as lists of events, and the whole resolved state.
 * Every graph runs in room versions 10 and 11. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "room/event_auth.h"
#include "room/state_res.h"
#include "room_fixture.h"

#define PL "m.room.power_levels"
#define JR "m.room.join_rules"
#define MEMBER "m.room.member"
#define TOPIC "m.room.topic"
#define CREATE "m.room.create"
#define MESSAGE "m.room.message"

/* ---- helpers ---------------------------------------------------------------- */

static void assert_state_is(fixture *f, const ht_state_map *got, const char *expected_ids) {
    const ht_state_map *want = fixture_state(f, expected_ids);
    if (!ht_state_map_equal(got, want)) {
        fprintf(stderr, "resolved state: %s\nexpected:       %s\n", fixture_describe(f, got),
                fixture_describe(f, want));
        fail();
    }
}

static bool resolve(fixture *f, const char *const *state_ids, size_t count, ht_state_map *out) {
    const ht_state_map *states[8];
    for (size_t i = 0; i < count; i++) states[i] = fixture_state(f, state_ids[i]);
    ht_state_map_init(out, &f->arena);
    return ht_state_resolve(&f->arena, states, count, &f->src, f->version, out);
}

/* ---- graphs ------------------------------------------------------------------ */

/* The room every graph starts from: alice creates it and sets power levels
 * and a public join rule; bob, charlie and zara join; START and END are
 * messages by zara around the case's events. */
static const spec_event initial_events[] = {
    EVENT("CREATE", "alice", CREATE, "", "{'creator': '@alice:x'}"),
    EVENT("IMA", "alice", MEMBER, "@alice:x", "{'membership': 'join'}"),
    EVENT("IPOWER", "alice", PL, "", "{'users': {'@alice:x': 100}}"),
    EVENT("IJR", "alice", JR, "", "{'join_rule': 'public'}"),
    EVENT("IMB", "bob", MEMBER, "@bob:x", "{'membership': 'join'}"),
    EVENT("IMC", "charlie", MEMBER, "@charlie:x", "{'membership': 'join'}"),
    EVENT("IMZ", "zara", MEMBER, "@zara:x", "{'membership': 'join'}"),
    EVENT("START", "zara", MESSAGE, NULL, "{}"),
    EVENT("END", "zara", MESSAGE, NULL, "{}"),
};
static const char initial_edges[] = "START IMZ IMC IMB IJR IPOWER IMA CREATE";

typedef struct graph_case {
    const spec_event *events;
    size_t count;
    const char *const *edges; /* NULL-terminated */
    const char *expected;
} graph_case;

enum { GRAPH_MAX = 32 };

typedef struct graph {
    const spec_event *events[GRAPH_MAX];
    size_t count;
    bool prev[GRAPH_MAX][GRAPH_MAX]; /* prev[a][b]: b is a prev event of a */
    bool done[GRAPH_MAX];
    ht_state_map *after[GRAPH_MAX]; /* the state after each event */
    ht_state_map *before[GRAPH_MAX];
} graph;

static size_t graph_index(const graph *g, const char *id) {
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(g->events[i]->id, id) == 0) return i;
    fprintf(stderr, "graph: no event %s\n", id);
    abort();
}

static void graph_edges(graph *g, const char *chain) {
    char copy[256], *save = NULL;
    snprintf(copy, sizeof copy, "%s", chain);
    const char *prior = NULL;
    for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
        if (prior) g->prev[graph_index(g, prior)][graph_index(g, word)] = true;
        prior = word;
    }
}

/* Adds event i with its prev events, auth events from the state before it,
 * and the next timestamp; records the state after it. */
static void graph_play(fixture *f, graph *g, size_t i) {
    const char *prev = "";
    const ht_state_map *prev_states[GRAPH_MAX];
    size_t prev_count = 0;
    for (size_t p = 0; p < g->count; p++) {
        if (!g->prev[i][p]) continue;
        prev = ht_arena_printf(&f->arena, "%s %s", prev, g->events[p]->id);
        prev_states[prev_count++] = g->after[p];
    }
    ht_state_map *before = ht_arena_alloc(&f->arena, sizeof *before);
    ht_state_map_init(before, &f->arena);
    if (prev_count == 1) ht_state_map_copy(before, prev_states[0]);
    if (prev_count > 1)
        assert_true(ht_state_resolve(&f->arena, prev_states, prev_count, &f->src, f->version, before));

    spec_event e = *g->events[i];
    e.prev = prev;
    e.ts = 0;
    const ht_pdu *added = fixture_add_on(f, &e, before);

    ht_state_map *after = ht_arena_alloc(&f->arena, sizeof *after);
    ht_state_map_init(after, &f->arena);
    ht_state_map_copy(after, before);
    if (added->state_key) ht_state_map_set(after, added->type, added->state_key, added->event_id);
    g->before[i] = before;
    g->after[i] = after;
    g->done[i] = true;
}

/* Plays the whole graph in Synapse's order: among the events whose prev
 * events are all played, the smallest id first. */
static void graph_run(fixture *f, graph *g) {
    for (size_t played = 0; played < g->count; played++) {
        size_t next = GRAPH_MAX;
        for (size_t i = 0; i < g->count; i++) {
            if (g->done[i]) continue;
            bool ready = true;
            for (size_t p = 0; p < g->count; p++) ready &= !g->prev[i][p] || g->done[p];
            if (ready && (next == GRAPH_MAX || strcmp(g->events[i]->id, g->events[next]->id) < 0)) next = i;
        }
        assert_true(next != GRAPH_MAX);
        graph_play(f, g, next);
    }
}

static void check_graph(const char *version, const graph_case *c) {
    fixture f;
    fixture_init(&f, version);
    graph *g = ht_arena_calloc(&f.arena, 1, sizeof *g);
    for (size_t i = 0; i < sizeof initial_events / sizeof *initial_events; i++)
        g->events[g->count++] = &initial_events[i];
    for (size_t i = 0; i < c->count; i++) g->events[g->count++] = &c->events[i];
    graph_edges(g, initial_edges);
    for (const char *const *chain = c->edges; *chain; chain++) graph_edges(g, *chain);
    graph_run(&f, g);

    /* The state before END: the keys expected, and those changed since START. */
    const ht_state_map *end = g->before[graph_index(g, "END")];
    const ht_state_map *start = g->before[graph_index(g, "START")];
    const ht_state_map *expected = fixture_state(&f, c->expected);
    ht_state_map changed;
    ht_state_map_init(&changed, &f.arena);
    for (size_t i = 0; i < end->count; i++) {
        const ht_state_entry *e = &end->entries[i];
        const char *at_start = ht_state_map_get(start, e->type, e->state_key);
        if (ht_state_map_get(expected, e->type, e->state_key) || !at_start || strcmp(at_start, e->event_id) != 0)
            ht_state_map_set(&changed, e->type, e->state_key, e->event_id);
    }
    if (!ht_state_map_equal(&changed, expected)) {
        fprintf(stderr, "room version %s: state at END %s, expected %s\n", version, fixture_describe(&f, &changed),
                fixture_describe(&f, expected));
        fixture_free(&f);
        fail();
    }
    fixture_free(&f);
}

static void check_graph_both_versions(const graph_case *c) {
    check_graph("10", c);
    check_graph("11", c);
}

#define GRAPH(events, edges, expected)                                                                            \
    (graph_case) { events, sizeof events / sizeof *events, edges, expected }

/* Bob, a moderator, changes the power levels while alice bans him: the ban
 * is sorted first (alice has more power), so bob's change fails against a
 * state where he is banned. */
static void test_ban_wins_over_power_levels_of_the_banned(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("PA", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("MA", "alice", MEMBER, "@alice:x", "{'membership': 'join'}"),
        EVENT("MB", "alice", MEMBER, "@bob:x", "{'membership': 'ban'}"),
        EVENT("PB", "bob", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
    };
    static const char *const edges[] = {"END MB MA PA START", "END PB PA", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "PA MA MB"));
}

/* Evelyn joins while alice makes the room invite-only: the join rules are a
 * power event and come first, so the join is judged invite-only and fails. */
static void test_join_rule_change_blocks_a_concurrent_join(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("JR", "alice", JR, "", "{'join_rule': 'invite'}"),
        EVENT("ME", "evelyn", MEMBER, "@evelyn:x", "{'membership': 'join'}"),
    };
    static const char *const edges[] = {"END JR START", "END ME START", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "JR"));
}

/* Power levels by three senders along one branch, the other branch at the
 * first: each change is authorised by the one before, so the last (PC)
 * stands. */
static void test_offtopic_power_levels_keep_the_latest_authorised(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("PA", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("PB", "bob", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50, '@charlie:x': 50}}"),
        EVENT("PC", "charlie", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50, '@charlie:x': 0}}"),
    };
    static const char *const edges[] = {"END PC PB PA START", "END PA", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "PC"));
}

/* Alice demotes bob (PA2) while bob, still a moderator by PB, sets a topic:
 * after the power events PA2 wins, and bob's topic fails against it. */
static void test_topic_by_a_demoted_user_loses(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("T1", "alice", TOPIC, "", "{}"),
        EVENT("PA1", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("T2", "alice", TOPIC, "", "{}"),
        EVENT("PA2", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 0}}"),
        EVENT("PB", "bob", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("T3", "bob", TOPIC, "", "{}"),
    };
    static const char *const edges[] = {"END PA2 T2 PA1 T1 START", "END T3 PB PA1", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "PA2 T2"));
}

/* Bob sets a topic, then is banned; the other branch saw only T1. The ban
 * wins, bob's topic fails, and the topic resets to T1. */
static void test_topic_resets_when_its_sender_is_banned(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("T1", "alice", TOPIC, "", "{}"),
        EVENT("PA", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("T2", "bob", TOPIC, "", "{}"),
        EVENT("MB", "alice", MEMBER, "@bob:x", "{'membership': 'ban'}"),
    };
    static const char *const edges[] = {"END MB T2 PA T1 START", "END T1", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "T1 MB PA"));
}

/* The three-way topic case: a message MZ1 joins both branches, then alice
 * sets T4 after it: T4 is the newest topic on the mainline of PA2. */
static void test_topic_after_a_merge_wins(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("T1", "alice", TOPIC, "", "{}"),
        EVENT("PA1", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("T2", "alice", TOPIC, "", "{}"),
        EVENT("PA2", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 0}}"),
        EVENT("PB", "bob", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("T3", "bob", TOPIC, "", "{}"),
        EVENT("MZ1", "zara", MESSAGE, NULL, "{}"),
        EVENT("T4", "alice", TOPIC, "", "{}"),
    };
    static const char *const edges[] = {"END T4 MZ1 PA2 T2 PA1 T1 START", "END MZ1 T3 PB PA1", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "T4 PA2"));
}

/* T3 (by bob, on PA2) and T4 (by alice, later, on PB) both pass; PA2 wins
 * the power levels (PB fails: PA2 raised the level to send power levels to
 * 100). Mainline order puts T4 first (it stands on PA1, older) and T3 last,
 * so T3 is the topic although T4 was sent after it. */
static void test_mainline_order_beats_timestamps(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("T1", "alice", TOPIC, "", "{}"),
        EVENT("PA1", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("T2", "alice", TOPIC, "", "{}"),
        EVENT("PA2", "alice", PL, "",
              "{'users': {'@alice:x': 100, '@bob:x': 50}, 'events': {'m.room.power_levels': 100}}"),
        EVENT("PB", "bob", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"),
        EVENT("T3", "bob", TOPIC, "", "{}"),
        EVENT("T4", "alice", TOPIC, "", "{}"),
    };
    static const char *const edges[] = {"END T3 PA2 T2 PA1 T1 START", "END T4 PB PA1", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "T3 PA2"));
}

/* The spec's soft failure example: B bans X, C is X's topic on a branch from
 * before the ban, D follows both. "In latter versions the algorithm tries to
 * prioritise the ban over the topic change": the state at D has the ban and
 * not the topic. */
static void test_spec_example_ban_is_preferred_over_an_evading_topic(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("PX", "alice", PL, "", "{'users': {'@alice:x': 100, '@zara:x': 50}}"),
        EVENT("A", "alice", MESSAGE, NULL, "{}"),
        EVENT("B", "alice", MEMBER, "@zara:x", "{'membership': 'ban'}"),
        EVENT("C", "zara", TOPIC, "", "{'topic': 'evading'}"),
    };
    static const char *const edges[] = {"END B A PX START", "END C A", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "PX B"));
}

/* Charlie and zara each change their display name on two branches: nothing
 * conflicts with anything the other did, both changes stand. */
static void test_concurrent_profile_changes_both_stand(void **state) {
    (void)state;
    static const spec_event events[] = {
        EVENT("MC", "charlie", MEMBER, "@charlie:x", "{'membership': 'join', 'displayname': 'C'}"),
        EVENT("MZ", "zara", MEMBER, "@zara:x", "{'membership': 'join', 'displayname': 'Z'}"),
    };
    static const char *const edges[] = {"END MC START", "END MZ START", NULL};
    check_graph_both_versions(&GRAPH(events, edges, "MC MZ"));
}

/* ---- explicit scenarios ---------------------------------------------------- */

/* A room by alice (version 11 form) with bob joined, and the usual auth. */
static void small_room(fixture *f) {
    static const spec_event events[] = {
        EVENT_AT("create", "alice", CREATE, "", "{'creator': '@alice:x', 'room_version': '11'}", NULL, NULL, 1),
        EVENT_AT("alice", "alice", MEMBER, "@alice:x", "{'membership': 'join'}", "create", "create", 2),
        EVENT_AT("pl", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 100}}", "alice", "create alice", 3),
        EVENT_AT("jr", "alice", JR, "", "{'join_rule': 'public'}", "pl", "create alice pl", 4),
        EVENT_AT("bob", "bob", MEMBER, "@bob:x", "{'membership': 'join'}", "jr", "create pl jr", 5),
    };
    for (size_t i = 0; i < sizeof events / sizeof *events; i++) fixture_add(f, &events[i]);
}

/* Two join rules changes by senders of equal power, neither citing the
 * other: the earlier origin_server_ts is applied first, so the later wins,
 * whatever their ids say. */
static void test_tie_between_equal_powers_goes_by_timestamp(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    fixture_event(&f, "a-invite", "alice", JR, "", "{'join_rule': 'invite'}", "bob", "create alice pl", 20);
    fixture_event(&f, "b-knock", "bob", JR, "", "{'join_rule': 'knock'}", "bob", "create bob pl", 10);
    const char *states[] = {"create alice pl a-invite bob", "create alice pl b-knock bob"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create alice pl a-invite bob");
    fixture_free(&f);
}

/* The same with equal timestamps: the smaller event id is applied first, so
 * the larger wins. */
static void test_tie_between_equal_timestamps_goes_by_event_id(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    fixture_event(&f, "a-invite", "alice", JR, "", "{'join_rule': 'invite'}", "bob", "create alice pl", 10);
    fixture_event(&f, "b-knock", "bob", JR, "", "{'join_rule': 'knock'}", "bob", "create bob pl", 10);
    const char *states[] = {"create alice pl a-invite bob", "create alice pl b-knock bob"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create alice pl b-knock bob");
    fixture_free(&f);
}

/* Higher power is applied first, so the lower-powered sender's change, if
 * still allowed, is the one that stays. Here carol (50) changes the join
 * rules after alice (100) in sort order: carol's is applied last. */
static void test_greater_power_sorts_first(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    fixture_event(&f, "pl2", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 100, '@carol:x': 50}}", "bob",
                  "create alice pl", 6);
    fixture_event(&f, "carol", "carol", MEMBER, "@carol:x", "{'membership': 'join'}", "pl2", "create pl2 jr", 7);
    /* Alice's change is the later one by time, carol's the earlier. */
    fixture_event(&f, "jr-alice", "alice", JR, "", "{'join_rule': 'invite'}", "carol", "create alice pl2", 30);
    fixture_event(&f, "jr-carol", "carol", JR, "", "{'join_rule': 'knock'}", "carol", "create carol pl2", 20);
    const char *states[] = {"create alice pl2 jr-alice bob carol", "create alice pl2 jr-carol bob carol"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create alice pl2 jr-carol bob carol");
    fixture_free(&f);
}

/* A key only one state has is conflicted (the other state's "nothing" is a
 * value too): it is judged like any other, and stays if it passes. */
static void test_key_in_one_state_only_is_resolved_not_dropped(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    fixture_event(&f, "topic", "bob", TOPIC, "", "{'topic': 'hi'}", "bob", "create bob pl", 6);
    fixture_event(&f, "name", "bob", "m.room.name", "", "{'name': 'n'}", "bob", "create bob pl", 7);
    const char *states[] = {"create alice pl jr bob topic", "create alice pl jr bob name"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create alice pl jr bob topic name");
    fixture_free(&f);
}

/* ... and dropped if it does not pass: carol's topic needs 50 she lacks. */
static void test_key_in_one_state_only_is_dropped_when_not_allowed(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    fixture_event(&f, "carol", "carol", MEMBER, "@carol:x", "{'membership': 'join'}", "bob", "create pl jr", 6);
    fixture_event(&f, "topic", "carol", TOPIC, "", "{}", "carol", "create carol pl", 7);
    const char *states[] = {"create alice pl jr bob carol topic", "create alice pl jr bob carol"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create alice pl jr bob carol");
    fixture_free(&f);
}

/* MSC4297's problem A, in room version 11 (ruma's fixture of the same name
 * gives the same answer): alice makes the room invite-only and leaves; bob
 * and charlie change their names on two branches that disagree on the join
 * rules. Both join rules events fail (alice has left in the unconflicted
 * state), so none is left; the name changes pass on their own auth events. */
static void test_iterative_checks_fall_back_to_auth_events_for_missing_keys(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    static const spec_event events[] = {
        EVENT_AT("create", "alice", CREATE, "", "{'room_version': '11'}", NULL, NULL, 1),
        EVENT_AT("alice", "alice", MEMBER, "@alice:x", "{'membership': 'join'}", "create", "create", 2),
        EVENT_AT("pl", "alice", PL, "", "{'users': {'@alice:x': 100}}", "alice", "create alice", 3),
        EVENT_AT("jr", "alice", JR, "", "{'join_rule': 'public'}", "pl", "create alice pl", 4),
        EVENT_AT("bob", "bob", MEMBER, "@bob:x", "{'membership': 'join'}", "jr", "create pl jr", 5),
        EVENT_AT("charlie", "charlie", MEMBER, "@charlie:x", "{'membership': 'join'}", "bob", "create pl jr", 6),
        EVENT_AT("jr-invite", "alice", JR, "", "{'join_rule': 'invite'}", "charlie", "create pl alice", 7),
        EVENT_AT("alice-left", "alice", MEMBER, "@alice:x", "{'membership': 'leave'}", "jr-invite",
                 "create pl alice", 8),
        EVENT_AT("bob++", "bob", MEMBER, "@bob:x", "{'membership': 'join', 'displayname': 'bob++'}", "alice-left",
                 "create pl bob jr-invite", 9),
        EVENT_AT("charlie++", "charlie", MEMBER, "@charlie:x",
                 "{'membership': 'join', 'displayname': 'charlie++'}", "alice-left", "create pl charlie jr-invite",
                 10),
    };
    for (size_t i = 0; i < sizeof events / sizeof *events; i++) fixture_add(&f, &events[i]);
    const char *states[] = {"create pl charlie jr-invite alice-left bob++",
                            "create pl jr bob alice-left charlie++"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create pl alice-left bob++ charlie++");
    fixture_free(&f);
}

/* A rejected event never serves as another's auth event: bob's topic cites
 * the power levels event he made himself (rejected on receipt), which would
 * give him 100. The room has no other power levels, so bob has 0 and a
 * topic needs 50: the topic fails. */
static void test_rejected_auth_event_is_not_used_in_iterative_checks(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    static const spec_event events[] = {
        EVENT_AT("create", "alice", CREATE, "", "{}", NULL, NULL, 1),
        EVENT_AT("alice", "alice", MEMBER, "@alice:x", "{'membership': 'join'}", "create", "create", 2),
        EVENT_AT("jr", "alice", JR, "", "{'join_rule': 'public'}", "alice", "create alice", 3),
        EVENT_AT("bob", "bob", MEMBER, "@bob:x", "{'membership': 'join'}", "jr", "create jr", 4),
        /* Bob gives himself 100: rejected on receipt (he had 0). */
        REJECTED_AT("pl-bob", "bob", PL, "", "{'users': {'@bob:x': 100}}", "bob", "create bob", 5),
        EVENT_AT("topic", "bob", TOPIC, "", "{}", "pl-bob", "create bob pl-bob", 6),
    };
    for (size_t i = 0; i < sizeof events / sizeof *events; i++) fixture_add(&f, &events[i]);
    /* Without a power levels event, state needs 50 and bob has 0: the topic
     * fails, and so does bob's power levels event itself. Were the rejected
     * event used as an auth event, the topic would pass. */
    const char *states[] = {"create alice jr bob topic", "create alice jr bob"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create alice jr bob");
    fixture_free(&f);
}

/* Where the partial state holds a rejected event at a key, the event's own
 * auth event for that key is used instead (as where the key is missing):
 * here the states agree on a rejected power levels event, and bob's topic
 * passes on the power levels it cites. */
static void test_rejected_event_in_the_partial_state_gives_way_to_the_auth_event(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    fixture_add(&f, &(spec_event)REJECTED_AT("pl-bad", "alice", PL, "", "{'users': {'@alice:x': 100}}", "bob",
                                             "create alice pl", 6));
    fixture_event(&f, "topic", "bob", TOPIC, "", "{}", "bob", "create bob pl", 7);
    const char *states[] = {"create alice pl-bad jr bob topic", "create alice pl-bad jr bob"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create alice pl-bad jr bob topic");
    fixture_free(&f);
}

/* An event rejected on receipt (here: judged against a state in which bob
 * was not yet a moderator) is judged again in the resolution like any other,
 * as the spec says; against the resolved state it passes and stays. */
static void test_rejected_event_is_judged_again_and_may_pass(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    fixture_add(
        &f, &(spec_event)REJECTED_AT("topic", "bob", TOPIC, "", "{'topic': 'late'}", "bob", "create bob pl", 9));
    const char *states[] = {"create alice pl jr bob topic", "create alice pl jr bob"};
    ht_state_map out;
    assert_true(resolve(&f, states, 2, &out));
    assert_state_is(&f, &out, "create alice pl jr bob topic");
    fixture_free(&f);
}

/* ---- random forks ----------------------------------------------------------- */

/* A small deterministic generator (xorshift), so a failing seed replays. */
static uint64_t next_random(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One branch of a fork: its state and its newest event. */
typedef struct branch {
    ht_state_map state;
    const char *last;
} branch;

static const char *const people[] = {"alice", "bob", "carol", "dave", "erin"};

/* A random event some person sends on the branch: kept (and applied) only if
 * the rules allow it against the branch's state, as a server would. */
static void random_step(fixture *f, branch *b, uint64_t *seed, int *made) {
    const char *sender = people[next_random(seed) % 5];
    const char *target = fixture_user(f, people[next_random(seed) % 5]);
    static const char *const memberships[] = {"join", "leave", "ban", "invite"};
    static const char *const rules[] = {"public", "invite"};
    const char *type, *state_key, *content;
    switch (next_random(seed) % 5) {
    case 0:
        type = TOPIC, state_key = "";
        content = ht_arena_printf(&f->arena, "{'topic': 't%d'}", *made);
        break;
    case 1:
        type = MEMBER, state_key = target;
        content = ht_arena_printf(&f->arena, "{'membership': '%s'}", memberships[next_random(seed) % 4]);
        break;
    case 2:
        type = JR, state_key = "";
        content = ht_arena_printf(&f->arena, "{'join_rule': '%s'}", rules[next_random(seed) % 2]);
        break;
    case 3:
        type = PL, state_key = "";
        content = ht_arena_printf(&f->arena, "{'users': {'@alice:x': 100, '%s': %d}}", target,
                                  (int)(next_random(seed) % 3) * 50);
        break;
    default:
        type = MEMBER, state_key = fixture_user(f, sender);
        content = ht_arena_printf(&f->arena, "{'membership': 'join', 'displayname': 'n%d'}", *made);
        break;
    }
    const char *id = ht_arena_printf(&f->arena, "r%d", (*made)++);
    const ht_pdu *e = fixture_add_on(f, &(spec_event)EVENT_AT(id, sender, type, state_key, content, b->last, NULL, 0),
                                     &b->state);
    ht_state_view view = ht_state_map_view(&b->state);
    if (ht_auth_check_pdu(&f->arena, e, &view, &f->src, f->version).code != HT_OK) return;
    ht_state_map_set(&b->state, e->type, e->state_key, e->event_id);
    b->last = e->event_id;
}

/* Forks of three branches with random events, from a room where everyone
 * has joined: every order of the three states resolves to the same state,
 * in both versions. Seeds are fixed; a failure names its seed. */
static void test_random_forks_resolve_the_same_in_any_order(void **state) {
    (void)state;
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (uint64_t seed0 = 1; seed0 <= 60; seed0++) {
        const char *version = seed0 % 2 ? "10" : "11";
        uint64_t seed = seed0 * 0x9E3779B97F4A7C15u;
        fixture f;
        fixture_init(&f, version);
        branch common;
        ht_state_map_init(&common.state, &f.arena);
        common.last = NULL;
        int made = 0;
        fixture_add(&f, &(spec_event)EVENT("create", "alice", CREATE, "", "{'creator': '@alice:x'}"));
        ht_state_map_set(&common.state, CREATE, "", "$create");
        common.last = "$create";
        static const char *const opening[][4] = {
            {"alice", MEMBER, "@alice:x", "{'membership': 'join'}"},
            {"alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 50}}"},
            {"alice", JR, "", "{'join_rule': 'public'}"},
            {"bob", MEMBER, "@bob:x", "{'membership': 'join'}"},
            {"carol", MEMBER, "@carol:x", "{'membership': 'join'}"},
            {"dave", MEMBER, "@dave:x", "{'membership': 'join'}"},
        };
        for (size_t i = 0; i < sizeof opening / sizeof *opening; i++) {
            const char *id = ht_arena_printf(&f.arena, "o%zu", i);
            const ht_pdu *e = fixture_add_on(
                &f, &(spec_event)EVENT_AT(id, opening[i][0], opening[i][1], opening[i][2], opening[i][3], common.last,
                                          NULL, 0),
                &common.state);
            ht_state_map_set(&common.state, e->type, e->state_key, e->event_id);
            common.last = e->event_id;
        }
        branch branches[3];
        const ht_state_map *tips[3];
        for (int b = 0; b < 3; b++) {
            ht_state_map_init(&branches[b].state, &f.arena);
            ht_state_map_copy(&branches[b].state, &common.state);
            branches[b].last = common.last;
            int steps = 2 + (int)(next_random(&seed) % 6);
            for (int s = 0; s < steps; s++) random_step(&f, &branches[b], &seed, &made);
            tips[b] = &branches[b].state;
        }
        ht_state_map first;
        for (int o = 0; o < 6; o++) {
            const ht_state_map *ordered[3] = {tips[orders[o][0]], tips[orders[o][1]], tips[orders[o][2]]};
            ht_state_map out;
            ht_state_map_init(&out, &f.arena);
            if (!ht_state_resolve(&f.arena, ordered, 3, &f.src, version, &out)) {
                fprintf(stderr, "seed %llu: resolution failed\n", (unsigned long long)seed0);
                fail();
            }
            if (o == 0) first = out;
            else if (!ht_state_map_equal(&first, &out)) {
                fprintf(stderr, "seed %llu: order %d gives %s, order 0 gave %s\n", (unsigned long long)seed0, o,
                        fixture_describe(&f, &out), fixture_describe(&f, &first));
                fail();
            }
        }
        /* Every key all branches agree on is kept. */
        for (size_t i = 0; i < tips[0]->count; i++) {
            const ht_state_entry *e = &tips[0]->entries[i];
            const char *b1 = ht_state_map_get(tips[1], e->type, e->state_key);
            const char *b2 = ht_state_map_get(tips[2], e->type, e->state_key);
            if (b1 && b2 && strcmp(b1, e->event_id) == 0 && strcmp(b2, e->event_id) == 0)
                assert_string_equal(ht_state_map_get(&first, e->type, e->state_key), e->event_id);
        }
        fixture_free(&f);
    }
}

/* ---- plain cases and bounds ---------------------------------------------- */

static void test_states_that_agree_resolve_to_themselves(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "10");
    small_room(&f);
    const char *states[] = {"create alice pl jr bob", "create alice pl jr bob", "create alice pl jr bob"};
    ht_state_map out;
    assert_true(resolve(&f, states, 3, &out));
    assert_state_is(&f, &out, "create alice pl jr bob");
    assert_true(resolve(&f, states, 1, &out));
    assert_state_is(&f, &out, "create alice pl jr bob");
    fixture_free(&f);
}

static void test_resolution_does_not_depend_on_the_order_of_the_states(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    fixture_event(&f, "a-invite", "alice", JR, "", "{'join_rule': 'invite'}", "bob", "create alice pl", 20);
    fixture_event(&f, "b-knock", "bob", JR, "", "{'join_rule': 'knock'}", "bob", "create bob pl", 10);
    fixture_event(&f, "topic", "bob", TOPIC, "", "{}", "bob", "create bob pl", 11);
    const char *forward[] = {"create alice pl a-invite bob", "create alice pl b-knock bob topic",
                             "create alice pl jr bob"};
    const char *backward[] = {"create alice pl jr bob", "create alice pl b-knock bob topic",
                              "create alice pl a-invite bob"};
    ht_state_map one, two;
    assert_true(resolve(&f, forward, 3, &one));
    assert_true(resolve(&f, backward, 3, &two));
    assert_true(ht_state_map_equal(&one, &two));
    assert_state_is(&f, &one, "create alice pl a-invite bob topic");
    fixture_free(&f);
}

static void test_an_event_missing_from_the_source_fails_the_resolution(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    /* The topic cites an auth event nobody has. */
    fixture_event(&f, "topic", "bob", TOPIC, "", "{}", "bob", "create bob pl ghost", 6);
    const char *states[] = {"create alice pl jr bob topic", "create alice pl jr bob"};
    ht_state_map out;
    ht_state_map_init(&out, &f.arena);
    ht_state_map_set(&out, "untouched", "", "$marker");
    const ht_state_map *maps[] = {fixture_state(&f, states[0]), fixture_state(&f, states[1])};
    assert_false(ht_state_resolve(&f.arena, maps, 2, &f.src, "11", &out));
    assert_int_equal(out.count, 1);
    assert_string_equal(ht_state_map_get(&out, "untouched", ""), "$marker");
    fixture_free(&f);
}

/* A chain of `n` power levels events, each citing the one before. */
static void power_levels_chain(fixture *f, size_t n) {
    fixture_event(f, "p0", "alice", PL, "", "{'users': {'@alice:x': 100, '@bob:x': 100}}", "bob",
                  "create alice pl", 100);
    char id[32], prior[32], auth[64];
    for (size_t i = 1; i < n; i++) {
        snprintf(id, sizeof id, "p%zu", i);
        snprintf(prior, sizeof prior, "p%zu", i - 1);
        snprintf(auth, sizeof auth, "create alice p%zu", i - 1);
        fixture_event(f, ht_arena_strdup(&f->arena, id), "alice", PL, "",
                      "{'users': {'@alice:x': 100, '@bob:x': 100}}", ht_arena_strdup(&f->arena, prior),
                      ht_arena_strdup(&f->arena, auth), (int64_t)(100 + i));
    }
}

static void test_more_events_than_the_bound_fail_the_resolution(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    power_levels_chain(&f, 60);
    const ht_state_map *maps[] = {fixture_state(&f, "create alice p59 jr bob"),
                                  fixture_state(&f, "create alice pl jr bob")};
    ht_state_map out;
    ht_state_map_init(&out, &f.arena);
    /* 5 room events and 60 power levels: 65 events to read. */
    assert_false(ht_state_resolve_bounded(&f.arena, maps, 2, &f.src, "11", &(ht_state_res_bounds){64, 64}, &out));
    assert_int_equal(out.count, 0);
    assert_true(ht_state_resolve_bounded(&f.arena, maps, 2, &f.src, "11", &(ht_state_res_bounds){64, 65}, &out));
    assert_state_is(&f, &out, "create alice p59 jr bob");
    fixture_free(&f);
}

/* The real bound: an auth chain longer than HT_STATE_RES_MAX_EVENTS. */
static void test_an_auth_chain_beyond_the_default_bound_fails(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    power_levels_chain(&f, HT_STATE_RES_MAX_EVENTS);
    char last[32];
    snprintf(last, sizeof last, "create alice p%d jr bob", HT_STATE_RES_MAX_EVENTS - 1);
    const char *states[] = {last, "create alice pl jr bob"};
    ht_state_map out;
    assert_false(resolve(&f, states, 2, &out));
    fixture_free(&f);
}

static void test_more_states_than_the_bound_fail_the_resolution(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    const ht_state_map *maps[HT_STATE_RES_MAX_STATES + 1];
    for (size_t i = 0; i <= HT_STATE_RES_MAX_STATES; i++) maps[i] = fixture_state(&f, "create alice pl jr bob");
    ht_state_map out;
    ht_state_map_init(&out, &f.arena);
    assert_false(ht_state_resolve(&f.arena, maps, HT_STATE_RES_MAX_STATES + 1, &f.src, "11", &out));
    assert_true(ht_state_resolve(&f.arena, maps, HT_STATE_RES_MAX_STATES, &f.src, "11", &out));
    assert_state_is(&f, &out, "create alice pl jr bob");
    fixture_free(&f);
}

static void test_events_of_another_room_fail_the_resolution(void **state) {
    (void)state;
    fixture f;
    fixture_init(&f, "11");
    small_room(&f);
    ht_pdu *stranger = fixture_event(&f, "topic", "bob", TOPIC, "", "{}", "bob", "create bob pl", 6);
    stranger->room_id = "!elsewhere:x";
    const char *states[] = {"create alice pl jr bob topic", "create alice pl jr bob"};
    ht_state_map out;
    assert_false(resolve(&f, states, 2, &out));
    fixture_free(&f);
}

int run_state_res_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ban_wins_over_power_levels_of_the_banned),
        cmocka_unit_test(test_join_rule_change_blocks_a_concurrent_join),
        cmocka_unit_test(test_offtopic_power_levels_keep_the_latest_authorised),
        cmocka_unit_test(test_topic_by_a_demoted_user_loses),
        cmocka_unit_test(test_topic_resets_when_its_sender_is_banned),
        cmocka_unit_test(test_topic_after_a_merge_wins),
        cmocka_unit_test(test_mainline_order_beats_timestamps),
        cmocka_unit_test(test_spec_example_ban_is_preferred_over_an_evading_topic),
        cmocka_unit_test(test_concurrent_profile_changes_both_stand),
        cmocka_unit_test(test_tie_between_equal_powers_goes_by_timestamp),
        cmocka_unit_test(test_tie_between_equal_timestamps_goes_by_event_id),
        cmocka_unit_test(test_greater_power_sorts_first),
        cmocka_unit_test(test_key_in_one_state_only_is_resolved_not_dropped),
        cmocka_unit_test(test_key_in_one_state_only_is_dropped_when_not_allowed),
        cmocka_unit_test(test_iterative_checks_fall_back_to_auth_events_for_missing_keys),
        cmocka_unit_test(test_rejected_auth_event_is_not_used_in_iterative_checks),
        cmocka_unit_test(test_rejected_event_in_the_partial_state_gives_way_to_the_auth_event),
        cmocka_unit_test(test_rejected_event_is_judged_again_and_may_pass),
        cmocka_unit_test(test_random_forks_resolve_the_same_in_any_order),
        cmocka_unit_test(test_states_that_agree_resolve_to_themselves),
        cmocka_unit_test(test_resolution_does_not_depend_on_the_order_of_the_states),
        cmocka_unit_test(test_an_event_missing_from_the_source_fails_the_resolution),
        cmocka_unit_test(test_more_events_than_the_bound_fail_the_resolution),
        cmocka_unit_test(test_an_auth_chain_beyond_the_default_bound_fails),
        cmocka_unit_test(test_more_states_than_the_bound_fail_the_resolution),
        cmocka_unit_test(test_events_of_another_room_fail_the_resolution),
    };
    return cmocka_run_group_tests_name("state_res", tests, NULL, NULL);
}
