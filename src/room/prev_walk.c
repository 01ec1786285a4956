/* prev_walk.c -- walking back through a room's graph for other servers
 * (for_servers.h): /backfill and /get_missing_events.
 *
 * Both follow prev_events from events the asking server names. What a walk
 * lists is the room's graph as this server holds it: timeline and
 * soft-failed events (the latter are in the graph; other servers may build
 * on them). A rejected event is never listed but walked through, since what
 * precedes it is still the room's history; an outlier ends a path, as its
 * place in the graph is not known here. Each walk reads a bounded number of
 * events (WALK_MAX_READS), whatever ids were asked for: a server naming the
 * same deep branch many times gets one walk's worth of work. */
#include "room/for_servers.h"

#include <stdlib.h>
#include <string.h>

#include "room/id_map.h"
#include "room/pdu.h"
#include "store/graph_read.h"

enum { WALK_MAX_READS = 4096 };

typedef struct walk {
    ht_env *env;
    const char *room_id;
    ht_id_map *seen; /* ids read or not to be read */
    size_t reads;
} walk;

static bool listed(const ht_event_row *row) {
    return row->status == HT_EVENT_TIMELINE || row->status == HT_EVENT_SOFT_FAILED;
}

/* Reads the event once per walk: false if it was seen already, is unknown,
 * belongs to another room, is an outlier, or the walk has read its fill. */
static bool visit(walk *w, const char *event_id, ht_event_row *row) {
    bool created;
    void **slot = ht_id_map_slot(w->seen, event_id, &created);
    if (!created || w->reads >= WALK_MAX_READS) return false;
    *slot = (void *)event_id;
    w->reads++;
    return ht_store_event_by_id(w->env->store, w->env->arena, event_id, row) &&
           strcmp(row->room_id, w->room_id) == 0 && row->status != HT_EVENT_OUTLIER;
}

static const char **prev_ids(walk *w, const ht_event_row *row, size_t *n) {
    const char **ids;
    *n = ht_store_prev_event_ids(w->env->store, w->env->arena, row->stream, HT_PDU_MAX_PREV_EVENTS, &ids);
    return ids;
}

/* Newest first: greater depth, then later stream. */
static int newest_first(const void *a, const void *b) {
    const ht_event_row *x = a, *y = b;
    if (x->depth != y->depth) return x->depth > y->depth ? -1 : 1;
    return x->stream > y->stream ? -1 : x->stream < y->stream;
}

static int oldest_first(const void *a, const void *b) { return newest_first(b, a); }

size_t ht_room_backfill(ht_env *env, const char *room_id, const char *const *from, size_t from_count,
                        size_t limit, ht_event_row **out) {
    walk w = {env, room_id, ht_id_map_new(env->arena, 64), 0};
    /* The frontier: events read and not yet taken, the newest taken next.
     * A linear search for it: limit is at most 100, the frontier at most
     * 20 times that. */
    size_t front_count = 0, front_cap = 0, count = 0, cap = 0;
    ht_event_row *front = NULL, *rows = NULL;
    for (size_t i = 0; i < from_count; i++) {
        ht_event_row row;
        if (!visit(&w, from[i], &row)) continue;
        front = ht_arena_push(env->arena, front, sizeof *front, front_count, &front_cap);
        front[front_count++] = row;
    }
    while (count < limit && front_count) {
        size_t best = 0;
        for (size_t i = 1; i < front_count; i++)
            if (newest_first(&front[i], &front[best]) < 0) best = i;
        ht_event_row row = front[best];
        front[best] = front[--front_count];
        if (listed(&row)) {
            rows = ht_arena_push(env->arena, rows, sizeof *rows, count, &cap);
            rows[count++] = row;
        }
        size_t n;
        const char **ids = prev_ids(&w, &row, &n);
        for (size_t i = 0; i < n; i++) {
            ht_event_row prev;
            if (!visit(&w, ids[i], &prev)) continue;
            front = ht_arena_push(env->arena, front, sizeof *front, front_count, &front_cap);
            front[front_count++] = prev;
        }
    }
    if (count) qsort(rows, count, sizeof *rows, newest_first);
    *out = rows;
    return count;
}

size_t ht_room_missing_events(ht_env *env, const char *room_id, const char *const *earliest, size_t earliest_count,
                              const char *const *latest, size_t latest_count, size_t limit, int64_t min_depth,
                              ht_event_row **out) {
    walk w = {env, room_id, ht_id_map_new(env->arena, 64), 0};
    bool created;
    for (size_t i = 0; i < earliest_count; i++) ht_id_map_slot(w.seen, earliest[i], &created);
    /* Level by level from the latest events, which are not listed. */
    size_t level_count = 0, level_cap = 0, count = 0, cap = 0;
    ht_event_row *level = NULL, *rows = NULL;
    for (size_t i = 0; i < latest_count; i++) {
        ht_event_row row;
        if (!visit(&w, latest[i], &row)) continue;
        level = ht_arena_push(env->arena, level, sizeof *level, level_count, &level_cap);
        level[level_count++] = row;
    }
    while (level_count && count < limit) {
        size_t next_count = 0, next_cap = 0;
        ht_event_row *next = NULL;
        for (size_t i = 0; i < level_count && count < limit; i++) {
            size_t n;
            const char **ids = prev_ids(&w, &level[i], &n);
            for (size_t k = 0; k < n && count < limit; k++) {
                ht_event_row prev;
                if (!visit(&w, ids[k], &prev) || prev.depth < min_depth) continue;
                if (listed(&prev)) {
                    rows = ht_arena_push(env->arena, rows, sizeof *rows, count, &cap);
                    rows[count++] = prev;
                }
                next = ht_arena_push(env->arena, next, sizeof *next, next_count, &next_cap);
                next[next_count++] = prev;
            }
        }
        level = next;
        level_count = next_count;
    }
    if (count) qsort(rows, count, sizeof *rows, oldest_first);
    *out = rows;
    return count;
}
