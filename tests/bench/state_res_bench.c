/* state_res_bench.c -- what one state resolution costs (`make bench-stateres`).
 *
 * Builds a room in memory the way a server would (every event's auth events
 * chosen from the state before it): a creator, power levels, public join
 * rules, N members who each join and later change their display name, then
 * two branches that differ in three keys (a topic on each, a room name on
 * one, one member's new display name on the other). Times resolving the two
 * states, and the heap it takes, for N = 500 and 5,000. The event source is
 * an in-memory table, so this is the algorithm's cost; a store-backed source
 * adds its own cost per event read (the count is printed). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "room/state_res.h"
#include "room_fixture.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static const ht_pdu *put(fixture *f, ht_state_map *state, const char **last, const char *id, const char *sender,
                         const char *type, const char *state_key, const char *content) {
    const ht_pdu *e =
        fixture_add_on(f, &(spec_event)EVENT_AT(id, sender, type, state_key, content, *last, NULL, 0), state);
    if (e->state_key) ht_state_map_set(state, e->type, e->state_key, e->event_id);
    *last = e->event_id;
    return e;
}

/* Counts the events the resolution reads, through the fixture's source. */
typedef struct counting_source {
    const ht_event_source *inner;
    size_t reads;
} counting_source;

static const ht_pdu *count_get(void *self, const char *event_id) {
    counting_source *c = self;
    c->reads++;
    return c->inner->get(c->inner->self, event_id);
}

static void bench(size_t members, int rounds) {
    struct mallinfo2 empty = mallinfo2();
    fixture f;
    fixture_init(&f, "11");
    ht_state_map state;
    ht_state_map_init(&state, &f.arena);
    const char *last = NULL;
    put(&f, &state, &last, "create", "alice", "m.room.create", "", "{'room_version': '11'}");
    put(&f, &state, &last, "alice", "alice", "m.room.member", "@alice:x", "{'membership': 'join'}");
    put(&f, &state, &last, "pl", "alice", "m.room.power_levels", "", "{'users': {'@alice:x': 100}}");
    put(&f, &state, &last, "jr", "alice", "m.room.join_rules", "", "{'join_rule': 'public'}");
    char id[32], user[32];
    for (size_t i = 0; i < members; i++) {
        snprintf(id, sizeof id, "join%zu", i);
        snprintf(user, sizeof user, "@u%zu:x", i);
        const char *u = ht_arena_strdup(&f.arena, user);
        put(&f, &state, &last, ht_arena_strdup(&f.arena, id), u, "m.room.member", u, "{'membership': 'join'}");
    }
    for (size_t i = 0; i < members; i++) {
        snprintf(id, sizeof id, "name%zu", i);
        snprintf(user, sizeof user, "@u%zu:x", i);
        const char *u = ht_arena_strdup(&f.arena, user);
        put(&f, &state, &last, ht_arena_strdup(&f.arena, id), u, "m.room.member", u,
            "{'membership': 'join', 'displayname': 'someone'}");
    }
    /* The fork. */
    ht_state_map a, b;
    ht_state_map_init(&a, &f.arena);
    ht_state_map_init(&b, &f.arena);
    ht_state_map_copy(&a, &state);
    ht_state_map_copy(&b, &state);
    const char *fork = last, *last_a = fork, *last_b = fork;
    put(&f, &a, &last_a, "topic-a", "alice", "m.room.topic", "", "{'topic': 'a'}");
    put(&f, &a, &last_a, "name-a", "alice", "m.room.name", "", "{'name': 'a'}");
    put(&f, &b, &last_b, "topic-b", "alice", "m.room.topic", "", "{'topic': 'b'}");
    put(&f, &b, &last_b, "rename", "@u7:x", "m.room.member", "@u7:x",
        "{'membership': 'join', 'displayname': 'b'}");

    size_t room_bytes = mallinfo2().uordblks - empty.uordblks;
    counting_source counter = {&f.src, 0};
    ht_event_source src = {count_get, &counter};
    const ht_state_map *states[] = {&a, &b};
    double best = 1e9, total = 0;
    size_t heap = 0, keys = 0;
    for (int r = 0; r < rounds; r++) {
        ht_arena arena;
        ht_arena_init(&arena, 64 * 1024);
        struct mallinfo2 before = mallinfo2();
        counter.reads = 0;
        double t0 = now_ms();
        ht_state_map out;
        ht_state_map_init(&out, &arena);
        if (!ht_state_resolve(&arena, states, 2, &src, "11", &out)) {
            fprintf(stderr, "resolution failed\n");
            return;
        }
        double t = now_ms() - t0;
        struct mallinfo2 after = mallinfo2();
        heap = after.uordblks > before.uordblks ? after.uordblks - before.uordblks : 0;
        keys = out.count;
        total += t;
        if (t < best) best = t;
        ht_arena_free(&arena);
    }
    printf("%5zu members, %5zu state keys, %6zu events in the room, states differ in 3 keys: "
           "%.3f ms best, %.3f ms mean of %d; %zu events read, %zu KB heap (the parsed room: %zu KB)\n",
           members, keys, ht_id_map_count(f.events), best, total / rounds, rounds, counter.reads, heap / 1024,
           room_bytes / 1024);
    fixture_free(&f);
}

/* With arguments, one room: state-res-bench MEMBERS ROUNDS (for profilers). */
int main(int argc, char **argv) {
    if (argc == 3) {
        bench((size_t)atol(argv[1]), atoi(argv[2]));
        return 0;
    }
    bench(500, 200);
    bench(5000, 20);
    return 0;
}
